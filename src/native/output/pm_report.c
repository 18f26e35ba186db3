/* pm_report.c — the terminal report: header, top-functions table and the
 * profiler's own figures, around the call trees of pm_report_tree.c.
 *
 * Numbers are formatted with integer arithmetic (no %f): the host program's
 * locale must not turn "1.234" into "1,234". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_num.h"
#include "pm_report.h"
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

/* ---- formatting helpers ------------------------------------------------------ */

size_t pm_rep_fmt_value(const pm_rep *r, int64_t v, char *buf)
{
    if (r->bytes) {
        static const char suffix[] = "KMGTPE";
        double mag = v < 0 ? -(double)v : (double)v;
        if (mag < 1024)
            return pm_num_fmt_i64(buf, v);
        int k = -1;
        while (mag >= 1024 && k < 5) {
            mag /= 1024;
            k++;
        }
        size_t n = pm_rep_fmt_fixed(v < 0 ? -mag : mag, 1, buf);
        buf[n++] = suffix[k];
        buf[n] = '\0';
        return n;
    }
    if (!r->seconds)
        return pm_num_fmt_i64(buf, v);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ms = mag / 1000000u + (mag % 1000000u >= 500000u);
    size_t n = 0;
    if (v < 0 && ms)
        buf[n++] = '-';
    n += pm_num_fmt_u64(buf + n, ms / 1000);
    buf[n++] = '.';
    unsigned frac = (unsigned)(ms % 1000);
    buf[n++] = (char)('0' + frac / 100);
    buf[n++] = (char)('0' + frac / 10 % 10);
    buf[n++] = (char)('0' + frac % 10);
    buf[n] = '\0';
    return n;
}

size_t pm_rep_fmt_fixed(double v, int decimals, char *buf)
{
    if (!isfinite(v) || fabs(v) >= 1e15)
        return pm_num_fmt_double(buf, v);
    static const double scale[] = {1, 10, 100, 1000, 10000};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 4)
        decimals = 4;
    /* Round half up by hand: llround would tie the library to libm. */
    uint64_t q = (uint64_t)(fabs(v) * scale[decimals] + 0.5);
    uint64_t div = (uint64_t)scale[decimals];
    size_t n = 0;
    if (v < 0 && q)
        buf[n++] = '-';
    n += pm_num_fmt_u64(buf + n, q / div);
    if (decimals) {
        buf[n++] = '.';
        uint64_t frac = q % div;
        for (int d = decimals - 1; d >= 0; d--) {
            buf[n + (size_t)d] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)decimals;
    }
    buf[n] = '\0';
    return n;
}

size_t pm_rep_fmt_pct(int64_t v, int64_t whole, char *buf)
{
    if (whole == 0) {
        memcpy(buf, "-", 2);
        return 1;
    }
    size_t n = pm_rep_fmt_fixed((double)v * 100.0 / (double)whole, 1, buf);
    buf[n++] = '%';
    buf[n] = '\0';
    return n;
}

void pm_rep_pad_left(pm_buf *b, const char *s, size_t len, size_t width)
{
    if (len < width)
        pm_text_spaces(b, width - len);
    pm_buf_put(b, s, len);
}

void pm_rep_color(const pm_rep *r, const char *code)
{
    if (r->o->color && code)
        pm_buf_puts(r->out, code);
}

void pm_rep_reset(const pm_rep *r)
{
    if (r->o->color)
        pm_buf_puts(r->out, PM_ANSI_RESET);
}

const char *pm_rep_pct_color(int64_t v, int64_t whole)
{
    double pct = whole ? fabs((double)v * 100.0 / (double)whole) : 0;
    if (pct >= 50)
        return PM_ANSI_RED;
    if (pct >= 20)
        return PM_ANSI_YELLOW;
    if (pct >= 5)
        return PM_ANSI_GREEN;
    return PM_ANSI_DIM;
}

/* ---- frame names and locations ---------------------------------------------- */

static int pm_rep_bracketed(const pm_frame *f)
{
    return f->kind == PM_FRAME_NATIVE;
}

/* A pseudo-file without a line ("<import>": the frames of an import-time
 * profile are modules) locates nothing. */
static int pm_rep_has_loc(const pm_rep *r, const pm_frame *f, size_t *flen)
{
    const char *file = pm_str_get(r->p, f->file, flen);
    return f->kind != PM_FRAME_SPECIAL && *flen > 0 && !(file[0] == '<' && f->line == 0);
}

size_t pm_rep_name_cols(const pm_rep *r, pm_id frame)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t len;
    const char *s = pm_str_get(r->p, f->name, &len);
    return pm_text_cols(s, len) + (pm_rep_bracketed(f) ? 2 : 0);
}

size_t pm_rep_put_name(const pm_rep *r, pm_id frame, size_t max_cols)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t len;
    const char *s = pm_str_get(r->p, f->name, &len);
    if (!pm_rep_bracketed(f))
        return pm_text_put(r->out, s, len, max_cols, 0);
    if (max_cols < 3)
        return pm_text_put(r->out, "[", 1, max_cols, 0);
    pm_buf_putc(r->out, '[');
    size_t cols = pm_text_put(r->out, s, len, max_cols == PM_TEXT_UNLIMITED ? max_cols : max_cols - 2, 0);
    pm_buf_putc(r->out, ']');
    return cols + 2;
}

/* A C function's location is its module (--native): no line to give. */
static int pm_rep_no_line(const pm_frame *f) { return f->kind == PM_FRAME_NATIVE && f->line == 0; }

size_t pm_rep_loc_cols(const pm_rep *r, pm_id frame)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t flen;
    if (!pm_rep_has_loc(r, f, &flen))
        return 0;
    char num[PM_NUM_MAX];
    const char *file = pm_str_get(r->p, f->file, NULL);
    if (pm_rep_no_line(f))
        return pm_text_cols(file, flen);
    return pm_text_cols(file, flen) + 1 + pm_num_fmt_i64(num, f->line);
}

size_t pm_rep_put_loc(const pm_rep *r, pm_id frame, size_t max_cols)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t flen;
    if (!pm_rep_has_loc(r, f, &flen))
        return 0;
    char num[PM_NUM_MAX + 1];
    num[0] = ':';
    size_t nlen = pm_rep_no_line(f) ? 0 : 1 + pm_num_fmt_i64(num + 1, f->line);
    const char *file = pm_str_get(r->p, f->file, NULL);
    /* The end of a path (file name, line) says most: shorten from the left. */
    size_t file_room = max_cols == PM_TEXT_UNLIMITED ? max_cols : (max_cols > nlen + 1 ? max_cols - nlen : 1);
    size_t cols = pm_text_put(r->out, file, flen, file_room, 1);
    pm_buf_put(r->out, num, nlen);
    return cols + nlen;
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
