/* pm_pstats_read.c — pstats .prof files read (for `convert`): what
 * cProfile.Profile.dump_stats writes (the layout: top of
 * output/pm_pstats.c).
 *
 * Each caller edge C -> F becomes the stack [C, F] with F's calls and own
 * time from that caller; what the callers do not account for goes on the
 * stack [F].  Per-function own time and calls are preserved, deeper stacks
 * are not (pstats does not record them).  The file's own figures
 * (primitive calls, cumulative times, callers) are kept exactly beside them
 * (pm_pstats_exact_names) and are what pstats gets back. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../codec/pm_marshal.h"
#include "pm_input.h"

const char *const pm_pstats_exact_names[4] = {"pstats.calls", "pstats.primitive", "pstats.tottime",
                                              "pstats.cumtime"};

int pm_sniff_pstats(const void *data, size_t len)
{
    const unsigned char *d = data;
    if (len < 2 || (d[0] & 0x7f) != '{')
        return 0;
    unsigned c = d[1] & 0x7f;
    return c == ')' || c == '(' || d[1] == '0';
}

static int pm_ps_num(const pm_mv *v, double *out)
{
    if (!v || (v->kind != PM_MV_INT && v->kind != PM_MV_FLOAT && v->kind != PM_MV_BOOL))
        return -1;
    double d = v->kind == PM_MV_BOOL ? (double)v->i : v->f;
    *out = isfinite(d) && d > 0 ? (d < 1e15 ? d : 1e15) : 0;
    return 0;
}

/* A key tuple into a frame id; PM_NONE when it is not (str, int, str). */
static pm_id pm_ps_frame(pm_profile *p, const pm_marshal *m, const pm_mv *key)
{
    const pm_mv *file = pm_mv_item(m, key, 0), *line = pm_mv_item(m, key, 1), *name = pm_mv_item(m, key, 2);
    if (!key || key->kind != PM_MV_TUPLE || key->n != 3 || !file || file->kind != PM_MV_STR || !line ||
        line->kind != PM_MV_INT || !name || name->kind != PM_MV_STR)
        return PM_NONE;
    int builtin = file->n == 1 && pm_mv_text(m, file)[0] == '~';
    pm_id fs = builtin ? pm_str_intern(p, "", 0) : pm_str_intern(p, pm_mv_text(m, file), file->n);
    pm_id ns = pm_str_intern(p, pm_mv_text(m, name), name->n);
    if (fs == PM_NONE || ns == PM_NONE)
        return PM_NONE;
    int64_t l = line->i;
    int32_t ln = l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int32_t)l;
    return pm_frame_intern(p, ns, fs, ln, builtin ? PM_FRAME_NATIVE : PM_FRAME_PYTHON);
}

static int pm_ps_add(pm_profile *p, pm_id th, const pm_id *fr, size_t depth, double calls, double secs, int mc,
                     int mw)
{
    int32_t lines[2];
    for (size_t i = 0; i < depth; i++)
        lines[i] = pm_frame_get(p, fr[i])->line;
    pm_id leaf = pm_stack_insert(p, th, fr, lines, depth);
    if (leaf == PM_NONE)
        return -1;
    pm_node_add(p, leaf, mc, (int64_t)llround(calls));
    pm_node_add(p, leaf, mw, (int64_t)llround(secs * 1e9));
    return 0;
}

/* The source's own figures, kept exactly (see pm_pstats_exact_names): on [f]
 * (callee PM_NONE) the function's entry, on [f, callee] the caller edge
 * f -> callee.  Returns the node, PM_NONE on OOM. */
static pm_id pm_ps_exact(pm_profile *p, pm_id th, pm_id f, pm_id callee, double cc, double nc, double tt, double ct,
                         const int *mx)
{
    pm_id fr[2] = {f, callee};
    int32_t lines[2] = {pm_frame_get(p, f)->line, callee == PM_NONE ? 0 : pm_frame_get(p, callee)->line};
    pm_id n = pm_stack_insert(p, th, fr, lines, callee == PM_NONE ? 1 : 2);
    if (n == PM_NONE)
        return PM_NONE;
    pm_node_add(p, n, mx[0], (int64_t)llround(nc));
    pm_node_add(p, n, mx[1], (int64_t)llround(cc));
    pm_node_add(p, n, mx[2], (int64_t)llround(tt * 1e9));
    pm_node_add(p, n, mx[3], (int64_t)llround(ct * 1e9));
    return n;
}

static int pm_ps_is_empty_mark(const pm_profile *p, pm_id f)
{
    const pm_frame *fr = pm_frame_get(p, f);
    size_t nl, fl;
    const char *name = pm_str_get(p, fr->name, &nl), *file = pm_str_get(p, fr->file, &fl);
    return fr->line == 0 && nl == strlen(PM_PSTATS_EMPTY_NAME) && memcmp(name, PM_PSTATS_EMPTY_NAME, nl) == 0 &&
           fl == strlen(PM_PSTATS_EMPTY_FILE) && memcmp(file, PM_PSTATS_EMPTY_FILE, fl) == 0;
}

pm_profile *pm_read_pstats(const void *data, size_t len, char *err, size_t errlen)
{
    pm_marshal m;
    size_t end = 0;
    uint32_t root = pm_marshal_parse(&m, data, len, &end);
    pm_profile *p = NULL;
    if (root == PM_MARSHAL_ERR) {
        snprintf(err, errlen, "not a pstats file: %s", m.err);
        goto fail;
    }
    const pm_mv *d = pm_mv_get(&m, root);
    if (d->kind != PM_MV_DICT) {
        snprintf(err, errlen, "not a pstats file: the marshal data is not a dict");
        goto fail;
    }
    if (end != len) {
        snprintf(err, errlen, "not a pstats file: %zu bytes of trailing data at byte %zu", len - end, end);
        goto fail;
    }
    p = pm_profile_new();
    if (!p) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    int mc = pm_metric_add(p, "calls", "count");
    int mw = pm_metric_add(p, "wall", "nanoseconds");
    int mx[4];
    for (int i = 0; i < 4; i++)
        mx[i] = pm_metric_add(p, pm_pstats_exact_names[i], i < 2 ? "count" : "nanoseconds");
    if (mx[0] < 0 || mx[1] < 0 || mx[2] < 0 || mx[3] < 0)
        goto oom;
    pm_id th = pm_thread_get(p, 0, 0);
    if (mc < 0 || mw < 0 || th == PM_NONE || pm_thread_set_name(p, th, "MainThread", 10) != 0 ||
        pm_meta_set_str(p, "mode", "calls") != 0 || pm_meta_set_str(p, "source", "pstats") != 0)
        goto oom;
    double total = 0;
    for (uint32_t k = 0; k < d->n; k++) {
        const pm_mv *key = pm_mv_key(&m, d, k), *val = pm_mv_val(&m, d, k);
        pm_id f = pm_ps_frame(p, &m, key);
        if (f == PM_NONE) {
            snprintf(err, errlen, "bad pstats file: entry %u: the key is not (file, line, name)", k);
            goto fail;
        }
        double cc, nc, tt, ct;
        const pm_mv *callers = pm_mv_item(&m, val, 4);
        if (!val || val->kind != PM_MV_TUPLE || val->n != 5 || pm_ps_num(pm_mv_item(&m, val, 0), &cc) != 0 ||
            pm_ps_num(pm_mv_item(&m, val, 1), &nc) != 0 || pm_ps_num(pm_mv_item(&m, val, 2), &tt) != 0 ||
            pm_ps_num(pm_mv_item(&m, val, 3), &ct) != 0 || !callers || callers->kind != PM_MV_DICT) {
            snprintf(err, errlen, "bad pstats file: entry %u: the value is not (cc, nc, tt, ct, callers)", k);
            goto fail;
        }
        if (cc == 0 && nc == 0 && callers->n == 0 && pm_ps_is_empty_mark(p, f))
            continue; /* the mark of a profile with no calls: no node */
        /* The entry itself, exactly, on the function's own stack [F]. */
        pm_id own = pm_ps_exact(p, th, f, PM_NONE, cc, nc, tt, ct, mx);
        if (own == PM_NONE)
            goto oom;
        double left_calls = nc, left_tt = tt;
        for (uint32_t c = 0; c < callers->n; c++) {
            pm_id cf = pm_ps_frame(p, &m, pm_mv_key(&m, callers, c));
            const pm_mv *cv = pm_mv_val(&m, callers, c);
            double enc = 0, ecc = 0, ett = 0, ect = 0;
            if (cf == PM_NONE) {
                snprintf(err, errlen, "bad pstats file: entry %u, caller %u: the key is not (file, line, name)", k,
                         c);
                goto fail;
            }
            if (cv && cv->kind == PM_MV_TUPLE && cv->n == 4) {
                if (pm_ps_num(pm_mv_item(&m, cv, 0), &enc) != 0 || pm_ps_num(pm_mv_item(&m, cv, 1), &ecc) != 0 ||
                    pm_ps_num(pm_mv_item(&m, cv, 2), &ett) != 0 || pm_ps_num(pm_mv_item(&m, cv, 3), &ect) != 0) {
                    snprintf(err, errlen, "bad pstats file: entry %u, caller %u: not (nc, cc, tt, ct)", k, c);
                    goto fail;
                }
            } else if (pm_ps_num(cv, &enc) != 0) { /* very old pstats: a call count only */
                snprintf(err, errlen, "bad pstats file: entry %u, caller %u: not (nc, cc, tt, ct)", k, c);
                goto fail;
            } else {
                ecc = enc;
            }
            pm_id st[2] = {cf, f};
            if (pm_ps_add(p, th, st, 2, enc, ett, mc, mw) != 0 ||
                pm_ps_exact(p, th, cf, f, ecc, enc, ett, ect, mx) == PM_NONE)
                goto oom;
            left_calls -= enc;
            left_tt -= ett;
            total += ett;
        }
        if (left_calls > 0.5 || left_tt > 0 || callers->n == 0) {
            if (pm_ps_add(p, th, &f, 1, left_calls > 0 ? left_calls : 0, left_tt > 0 ? left_tt : 0, mc, mw) != 0)
                goto oom;
            total += left_tt > 0 ? left_tt : 0;
        }
    }
    if (pm_meta_set_num(p, "duration_s", total) != 0)
        goto oom;
    pm_marshal_free(&m);
    return p;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    pm_marshal_free(&m);
    pm_profile_free(p);
    return NULL;
}
