/* pm_pprof.c — pprof's profile.proto (perftools.profiles.Profile), gzip'd,
 * encoded by hand (varints and length-delimited fields are all it needs).
 *
 *   sample_type   sampled profiles: samples/count then the mode's time
 *                 metric (wall/nanoseconds or cpu/nanoseconds); profiles
 *                 without "samples" (deterministic modes): every metric.
 *   sample        one per node with a non-zero value: location ids leaf
 *                 first, values in sample_type order, labels "thread_id"
 *                 (OS id, else Python ident) and "thread_name", plus one
 *                 string label per meta key "label.NAME" (NAME = value:
 *                 a web request's trace_id, span_id, span_name).
 *   location      one per distinct (frame, executing line), id >= 1, one
 *                 Line {function_id, line}; no mapping (Python code has
 *                 none; pprof then does not try to symbolize).
 *   function      one per frame, id = frame + 1: name, system_name,
 *                 filename, start_line.
 *   string_table  [0] == "", every string valid UTF-8 (cleaned).
 *   period_type / period (1e9 / rate_hz ns), duration_nanos, time_nanos,
 *   default_sample_type (the time metric), a comment with the command. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_gzip.h"
#include "pm_interchange.h"
#include "pm_outcommon.h"
#include "pm_pbtab.h"
#include "../codec/pm_protobuf.h"

typedef struct {
    const pm_profile *p;
    pm_ctext c;
    pm_pbtab tab;
    pm_buf tmp, sub, sub2;
    uint32_t *node_loc;
} pm_pp;

static int64_t pp_sid(pm_pp *s, pm_id id) { return pm_pbtab_sid(&s->tab, &s->c, id); }

static void pp_value_type(pm_pp *s, pm_buf *out, unsigned field, int64_t type, int64_t unit)
{
    s->sub.len = 0;
    pm_pb_int(&s->sub, 1, type);
    pm_pb_int(&s->sub, 2, unit);
    pm_pb_bytes(out, field, s->sub.data ? s->sub.data : "", s->sub.len);
}

int pm_write_pprof(const pm_profile *p, pm_buf *gz_out)
{
    pm_pp s;
    memset(&s, 0, sizeof s);
    s.p = p;
    pm_pbtab_init(&s.tab);
    pm_buf_init(&s.tmp);
    pm_buf_init(&s.sub);
    pm_buf_init(&s.sub2);
    pm_buf out;
    pm_buf_init(&out);
    int rc = -1;
    uint32_t nn = pm_node_count(p), nf = pm_frame_count(p), nt = pm_thread_count(p);
    int64_t *th_id = NULL, *th_name = NULL;
    int mets[PM_MAX_METRICS];
    int nm = 0;
    if (pm_ctext_init(&s.c, p) != 0)
        goto done;
    int mt = pm_out_time_metric(p);
    nm = pm_out_value_metrics(p, mets);
    if (nm == 0)
        goto done;
    for (int i = 0; i < nm; i++) {
        const pm_metric *md = pm_metric_get(p, mets[i]);
        pp_value_type(&s, &out, 1, pp_sid(&s, md->name), pp_sid(&s, md->unit));
    }
    s.node_loc = malloc(((size_t)nn + 1) * sizeof(uint32_t));
    th_id = malloc(((size_t)nt + 1) * sizeof(int64_t));
    th_name = malloc(((size_t)nt + 1) * sizeof(int64_t));
    if (!s.node_loc || !th_id || !th_name)
        goto done;
    for (uint32_t t = 0; t < nt; t++) {
        const pm_thread *th = pm_thread_at(p, t);
        th_id[t] = (int64_t)(th->native_id ? th->native_id : th->ident);
        s.tmp.len = 0;
        pm_out_thread_label(p, t, &s.tmp);
        th_name[t] = pm_pbtab_str(&s.tab, s.tmp.data ? s.tmp.data : "", s.tmp.len);
    }
    int64_t k_tid = pm_pbtab_cstr(&s.tab, "thread_id"), k_tname = pm_pbtab_cstr(&s.tab, "thread_name");
    /* Labels every sample carries: meta "label.NAME" string entries. */
    int64_t lab_k[16], lab_v[16];
    int nlab = 0;
    for (uint32_t i = 0; i < pm_meta_count(p) && nlab < 16; i++) {
        const pm_meta *m = pm_meta_at(p, i);
        size_t klen = 0, vlen = 0;
        const char *key = pm_str_get(p, m->key, &klen);
        if (m->kind != PM_META_STR || !key || klen <= 6 || strncmp(key, "label.", 6) != 0)
            continue;
        const char *val = pm_str_get(p, m->str, &vlen);
        lab_k[nlab] = pm_pbtab_str(&s.tab, key + 6, klen - 6);
        lab_v[nlab++] = pm_pbtab_str(&s.tab, val ? val : "", vlen);
    }
    /* Locations per node (nodes come after their parents). */
    for (uint32_t i = 0; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        s.node_loc[i] = PM_NONE;
        if (nd->frame != PM_NONE && (s.node_loc[i] = pm_pbtab_loc(&s.tab, nd->frame, nd->line)) == PM_NONE)
            goto done;
    }
    /* Samples. */
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame == PM_NONE)
            continue;
        int any = 0;
        for (int k = 0; k < nm; k++)
            any |= pm_node_value(p, i, mets[k]) != 0;
        if (!any)
            continue;
        pm_buf *smp = &s.sub;
        smp->len = 0;
        s.sub2.len = 0;
        for (pm_id j = i; pm_node_get(p, j)->frame != PM_NONE; j = pm_node_get(p, j)->parent)
            pm_pb_varint(&s.sub2, (uint64_t)s.node_loc[j] + 1);
        pm_pb_bytes(smp, 1, s.sub2.data, s.sub2.len);
        s.sub2.len = 0;
        for (int k = 0; k < nm; k++)
            pm_pb_varint(&s.sub2, (uint64_t)pm_node_value(p, i, mets[k]));
        pm_pb_bytes(smp, 2, s.sub2.data, s.sub2.len);
        if (nd->thread < nt) {
            s.sub2.len = 0;
            pm_pb_int(&s.sub2, 1, k_tid);
            pm_pb_tag(&s.sub2, 3, 0);
            pm_pb_varint(&s.sub2, (uint64_t)th_id[nd->thread]);
            pm_pb_bytes(smp, 3, s.sub2.data, s.sub2.len);
            s.sub2.len = 0;
            pm_pb_int(&s.sub2, 1, k_tname);
            pm_pb_int(&s.sub2, 2, th_name[nd->thread]);
            pm_pb_bytes(smp, 3, s.sub2.data ? s.sub2.data : "", s.sub2.len);
        }
        for (int l = 0; l < nlab; l++) {
            s.sub2.len = 0;
            pm_pb_int(&s.sub2, 1, lab_k[l]);
            pm_pb_int(&s.sub2, 2, lab_v[l]);
            pm_pb_bytes(smp, 3, s.sub2.data ? s.sub2.data : "", s.sub2.len);
        }
        pm_pb_bytes(&out, 2, smp->data, smp->len);
        if (out.oom)
            goto done;
    }
    /* Locations. */
    for (uint32_t l = 0; l < s.tab.nloc; l++) {
        s.sub.len = 0;
        pm_pb_int(&s.sub, 1, (int64_t)l + 1);
        s.sub2.len = 0;
        pm_pb_int(&s.sub2, 1, (int64_t)s.tab.lframe[l] + 1);
        pm_pb_int(&s.sub2, 2, s.tab.lline[l] > 0 ? s.tab.lline[l] : 0);
        pm_pb_bytes(&s.sub, 4, s.sub2.data ? s.sub2.data : "", s.sub2.len);
        pm_pb_bytes(&out, 4, s.sub.data, s.sub.len);
    }
    /* Functions. */
    for (uint32_t f = 0; f < nf; f++) {
        const pm_frame *fr = pm_frame_get(p, f);
        int64_t name, sysname; /* system_name = "FILE:NAME" (see pm_pbtab_function) */
        pm_pbtab_function(&s.tab, p, &s.c, f, &s.tmp, &name, &sysname);
        s.sub.len = 0;
        pm_pb_int(&s.sub, 1, (int64_t)f + 1);
        pm_pb_int(&s.sub, 2, name);
        pm_pb_int(&s.sub, 3, sysname);
        pm_pb_int(&s.sub, 4, pp_sid(&s, fr->file));
        pm_pb_int(&s.sub, 5, fr->line > 0 ? fr->line : 0);
        pm_pb_bytes(&out, 5, s.sub.data, s.sub.len);
    }
    double rate = pm_out_meta_num(p, "rate_hz", 0);
    double dur = pm_out_meta_num(p, "duration_s", 0);
    double start = pm_out_meta_num(p, "start_unix", 0);
    size_t clen = 0;
    const char *cmd = pm_out_meta_str(p, "command", &clen);
    int64_t comment = 0;
    if (cmd && clen) {
        s.tmp.len = 0;
        pm_clean_utf8(cmd, clen, &s.tmp);
        comment = pm_pbtab_str(&s.tab, s.tmp.data, s.tmp.len);
    }
    int64_t pt_type, pt_unit;
    if (mt >= 0) {
        pt_type = pp_sid(&s, pm_metric_get(p, mt)->name);
        pt_unit = pp_sid(&s, pm_metric_get(p, mt)->unit);
    } else {
        pt_type = pp_sid(&s, pm_metric_get(p, mets[0])->name);
        pt_unit = pp_sid(&s, pm_metric_get(p, mets[0])->unit);
    }
    int64_t def_type = pt_type;
    /* string_table (every string is interned by now). */
    for (uint32_t i = 0; i < s.tab.strs.count; i++) {
        size_t len;
        const char *str = pm_strtab_get(&s.tab.strs, i, &len);
        pm_pb_bytes(&out, 6, str, len);
    }
    if (start > 0 && start < 9e9)
        pm_pb_int(&out, 9, (int64_t)llround(start * 1e9));
    if (dur > 0 && dur < 9e9)
        pm_pb_int(&out, 10, (int64_t)llround(dur * 1e9));
    pp_value_type(&s, &out, 11, pt_type, pt_unit);
    if (rate > 0 && mt >= 0)
        pm_pb_int(&out, 12, (int64_t)llround(1e9 / rate));
    else
        pm_pb_int(&out, 12, 1);
    if (comment) {
        pm_pb_tag(&out, 13, 0);
        pm_pb_varint(&out, (uint64_t)comment);
    }
    pm_pb_int(&out, 14, def_type);
    if (out.oom || s.tab.failed)
        goto done;
    pm_gz_writer w;
    if (pm_gz_begin(&w, gz_out, 1) != 0)
        goto done;
    pm_gz_write(&w, out.data, out.len);
    rc = pm_gz_end(&w) == 0 && !gz_out->oom ? 0 : -1;
done:
    free(th_id);
    free(th_name);
    free(s.node_loc);
    pm_pbtab_free(&s.tab);
    pm_buf_free(&s.tmp);
    pm_buf_free(&s.sub);
    pm_buf_free(&s.sub2);
    pm_buf_free(&out);
    pm_ctext_free(&s.c);
    return rc;
}
