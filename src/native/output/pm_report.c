/* pm_report.c — the terminal report: header, top-functions table and the
 * profiler's own figures, around the call trees of pm_report_tree.c, in the
 * cells of pm_report_cells.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_num.h"
#include "pm_report_cells.h"
#include "pm_report_tree.h"
#include "pm_text.h"

void pm_report_opts_default(pm_report_opts *o)
{
    memset(o, 0, sizeof *o);
    o->metric = 0;
    o->threshold_pct = 1.0;
    o->show_all = 0;
    o->color = 0;
    o->top_n = 20;
    o->width = 100;
    o->library_prefixes = NULL;
    o->n_library_prefixes = 0;
}

/* ---- the sections ------------------------------------------------------------ */

static const pm_meta *pm_rep_meta_num(const pm_rep *r, const char *key)
{
    const pm_meta *m = pm_meta_find(r->p, key);
    return m && m->kind == PM_META_NUM ? m : NULL;
}

static void pm_rep_put_fixed(pm_rep *r, double v, int decimals)
{
    char buf[PM_NUM_MAX];
    pm_buf_put(r->out, buf, pm_rep_fmt_fixed(v, decimals, buf));
}

static void pm_rep_header(pm_rep *r, int64_t grand_total)
{
    pm_buf *out = r->out;
    pm_rep_color(r, PM_ANSI_BOLD);
    pm_buf_puts(out, "pyrometer");
    pm_rep_reset(r);
    const pm_meta *m = pm_meta_find(r->p, "mode");
    if (m && m->kind == PM_META_STR) {
        size_t len;
        const char *s = pm_str_get(r->p, m->str, &len);
        pm_buf_puts(out, "  mode: ");
        pm_text_put(out, s, len, 40, 0);
    }
    if ((m = pm_rep_meta_num(r, "duration_s"))) {
        pm_buf_puts(out, "  duration: ");
        pm_rep_put_fixed(r, m->num, 3);
        pm_buf_puts(out, " s");
    }
    pm_buf_puts(out, "  samples: ");
    if ((m = pm_rep_meta_num(r, "samples_taken"))) {
        pm_rep_put_fixed(r, m->num, 0);
    } else {
        int sm = pm_metric_find(r->p, "samples");
        int64_t *tot = NULL;
        if (sm >= 0 && (tot = malloc((size_t)pm_node_count(r->p) * sizeof(int64_t)))) {
            pm_totals(r->p, sm, tot);
            pm_buf_put_i64(out, tot[PM_ROOT]);
        } else {
            pm_buf_putc(out, '-');
        }
        free(tot);
    }
    if ((m = pm_rep_meta_num(r, "rate_hz"))) {
        pm_buf_puts(out, "  rate: ");
        pm_rep_put_fixed(r, m->num, m->num == (double)(int64_t)m->num ? 0 : 1);
        pm_buf_puts(out, " Hz");
    }
    pm_buf_putc(out, '\n');
    const pm_metric *mt = pm_metric_get(r->p, r->m);
    size_t len;
    const char *name = pm_str_get(r->p, mt->name, &len);
    pm_buf_puts(out, "metric: ");
    pm_text_put(out, name, len, 40, 0);
    pm_buf_puts(out, r->seconds ? " (seconds)" : "");
    pm_buf_puts(out, "  total: ");
    char buf[PM_NUM_MAX];
    pm_buf_put(out, buf, pm_rep_fmt_value(r, grand_total, buf));
    pm_buf_puts(out, r->seconds ? " s" : "");
    pm_buf_puts(out, "  columns: total, self, % of thread\n");
}

#define PM_REP_NUMW 9

static int pm_report_top(pm_rep *r, int64_t whole)
{
    if (r->o->top_n <= 0)
        return 0;
    pm_func_stat *st = NULL;
    long n = pm_func_stats(r->p, r->m, PM_NONE, &st);
    if (n < 0)
        return -1;
    long rows = 0;
    size_t name_w = 8;
    for (long i = 0; i < n && rows < r->o->top_n; i++) {
        if (st[i].self == 0 && st[i].total == 0)
            continue;
        size_t c = pm_rep_name_cols(r, st[i].frame);
        if (c > name_w)
            name_w = c;
        rows++;
    }
    if (name_w > 40)
        name_w = 40;
    pm_buf *out = r->out;
    pm_buf_putc(out, '\n');
    pm_rep_color(r, PM_ANSI_BOLD);
    pm_buf_printf(out, "Top %ld functions by self %s\n", rows, r->seconds ? "time" : "value");
    pm_rep_reset(r);
    const char *unit = r->seconds ? " s" : "";
    char h[32];
    int k = snprintf(h, sizeof h, "self%s", unit);
    pm_rep_pad_left(out, h, (size_t)k, PM_REP_NUMW);
    pm_rep_pad_left(out, "self%", 5, 8);
    k = snprintf(h, sizeof h, "total%s", unit);
    pm_rep_pad_left(out, h, (size_t)k, PM_REP_NUMW + 1);
    pm_rep_pad_left(out, "total%", 6, 8);
    pm_buf_puts(out, "  function");
    pm_text_spaces(out, name_w > 8 ? name_w - 8 : 0);
    pm_buf_puts(out, "  file:line\n");
    size_t fixed = PM_REP_NUMW + 8 + PM_REP_NUMW + 1 + 8 + 2;
    long shown = 0;
    for (long i = 0; i < n && shown < rows; i++) {
        const pm_func_stat *s = &st[i];
        if (s->self == 0 && s->total == 0)
            continue;
        shown++;
        char buf[PM_NUM_MAX];
        pm_rep_color(r, pm_rep_pct_color(s->self, whole));
        pm_rep_pad_left(out, buf, pm_rep_fmt_value(r, s->self, buf), PM_REP_NUMW);
        pm_rep_pad_left(out, buf, pm_rep_fmt_pct(s->self, whole, buf), 8);
        pm_rep_pad_left(out, buf, pm_rep_fmt_value(r, s->total, buf), PM_REP_NUMW + 1);
        pm_rep_pad_left(out, buf, pm_rep_fmt_pct(s->total, whole, buf), 8);
        pm_rep_reset(r);
        pm_buf_puts(out, "  ");
        size_t c = pm_rep_put_name(r, s->frame, name_w);
        size_t loc = pm_rep_loc_cols(r, s->frame);
        if (loc) {
            pm_text_spaces(out, name_w - c + 2);
            size_t room = PM_TEXT_UNLIMITED;
            if (r->o->width > 0) {
                size_t used = fixed + name_w + 2;
                room = (size_t)r->o->width > used + 16 ? (size_t)r->o->width - used : 16;
            }
            pm_rep_color(r, PM_ANSI_DIM);
            pm_rep_put_loc(r, s->frame, room);
            pm_rep_reset(r);
        }
        pm_buf_putc(out, '\n');
    }
    free(st);
    return 0;
}

static void pm_rep_line_label(pm_buf *out, const char *label)
{
    pm_buf_puts(out, "  ");
    pm_buf_puts(out, label);
    pm_text_spaces(out, 16 - strlen(label));
}

static void pm_report_quality(pm_rep *r)
{
    pm_buf *out = r->out;
    const pm_meta *dur = pm_rep_meta_num(r, "duration_s");
    const pm_meta *exp = pm_rep_meta_num(r, "samples_expected");
    const pm_meta *taken = pm_rep_meta_num(r, "samples_taken");
    const pm_meta *torn = pm_rep_meta_num(r, "samples_torn");
    const pm_meta *cpu = pm_rep_meta_num(r, "sampler_cpu_s");
    uint64_t tl_dropped = pm_timeline_dropped(r->p);
    if (!dur && !exp && !taken && !torn && !cpu && !tl_dropped)
        return;
    pm_buf_putc(out, '\n');
    pm_rep_color(r, PM_ANSI_BOLD);
    pm_buf_puts(out, "Profiler\n");
    pm_rep_reset(r);
    if (dur) {
        pm_rep_line_label(out, "duration");
        pm_rep_put_fixed(r, dur->num, 3);
        pm_buf_puts(out, " s\n");
    }
    if (taken || exp) {
        pm_rep_line_label(out, "samples");
        if (taken) {
            pm_rep_put_fixed(r, taken->num, 0);
            pm_buf_puts(out, " taken");
        }
        if (exp) {
            pm_buf_puts(out, taken ? " of " : "");
            pm_rep_put_fixed(r, exp->num, 0);
            pm_buf_puts(out, " expected");
        }
        if (taken && exp && exp->num > 0) {
            pm_buf_puts(out, " (");
            pm_rep_put_fixed(r, taken->num * 100.0 / exp->num, 1);
            pm_buf_puts(out, "% taken)");
        }
        pm_buf_putc(out, '\n');
    }
    if (torn) {
        /* Thread stacks no read caught at one moment: the sampler charges
         * them to nothing rather than to a guess (pm_sampler.c). */
        pm_rep_line_label(out, "torn stacks");
        pm_rep_put_fixed(r, torn->num, 0);
        if (taken && taken->num > 0) {
            pm_buf_puts(out, " (");
            pm_rep_put_fixed(r, torn->num * 100.0 / taken->num, 2);
            pm_buf_puts(out, "% of samples; not charged)\n");
        } else {
            pm_buf_puts(out, " (not charged)\n");
        }
    }
    const pm_meta *cut = pm_rep_meta_num(r, "samples_truncated");
    const pm_meta *limit = pm_rep_meta_num(r, "stack_depth_limit");
    if (cut && cut->num > 0) {
        /* Deeper stacks keep their innermost frames under <truncated>:
         * a walk's cost is bounded, and the cut is said, not hidden. */
        pm_rep_line_label(out, "cut stacks");
        pm_rep_put_fixed(r, cut->num, 0);
        if (limit) {
            pm_buf_puts(out, " (deeper than ");
            pm_rep_put_fixed(r, limit->num, 0);
            pm_buf_puts(out, " frames: the innermost kept, under <truncated>)");
        }
        pm_buf_putc(out, '\n');
    }
    if (cpu) {
        pm_rep_line_label(out, "sampler CPU");
        pm_rep_put_fixed(r, cpu->num, 3);
        pm_buf_puts(out, " s");
        if (dur && dur->num > 0) {
            pm_buf_puts(out, " (");
            pm_rep_put_fixed(r, cpu->num * 100.0 / dur->num, 1);
            pm_buf_puts(out, "% of one core)");
        }
        pm_buf_putc(out, '\n');
    }
    if (tl_dropped) {
        pm_rep_line_label(out, "timeline");
        pm_buf_put_u64(out, tl_dropped);
        pm_buf_puts(out, " events dropped\n");
    }
}

int pm_write_report(const pm_profile *p, const pm_report_opts *o, pm_buf *out)
{
    pm_report_opts def;
    if (!o) {
        pm_report_opts_default(&def);
        o = &def;
    }
    if (o->metric < 0 || o->metric >= pm_metric_count(p))
        return -1;
    pm_rep r = {.p = p, .o = o, .out = out, .m = o->metric};
    size_t ulen;
    const char *unit = pm_str_get(p, pm_metric_get(p, o->metric)->unit, &ulen);
    r.seconds = ulen == 11 && memcmp(unit, "nanoseconds", 11) == 0;
    r.bytes = ulen == 5 && memcmp(unit, "bytes", 5) == 0;

    int64_t *tot = malloc((size_t)pm_node_count(p) * sizeof(int64_t));
    if (!tot)
        return -1;
    pm_totals(p, r.m, tot);
    int64_t whole = tot[PM_ROOT];
    free(tot);

    pm_rep_header(&r, whole);
    if (pm_report_trees(&r) != 0)
        return -1;
    if (pm_report_top(&r, whole) != 0)
        return -1;
    pm_report_quality(&r);
    return out->oom ? -1 : 0;
}
