/* pm_pstats.c — pstats .prof files written.
 *
 * The file is what cProfile.Profile.dump_stats writes: marshal (version 4)
 * of a dict
 *     (filename, firstlineno, funcname) -> (cc, nc, tt, ct, callers)
 *     callers: (filename, firstlineno, funcname) -> (nc, cc, tt, ct)
 * nc = calls, cc = primitive (non-recursive) calls, tt = own time, ct =
 * time including callees, times in seconds.  Every caller key is also a
 * top-level key (tuna looks callers up), callers values are 4-tuples
 * (SnakeViz unpacks four).  Functions without a file or Python code (native,
 * special) get cProfile's builtin form ('~', 0, name).  A Python function's
 * key names its code as cProfile does (co_name: the last part of the
 * model's qualified name), so that the files of both line up.
 *
 * What nc / cc mean depends on the profile:
 *   - when the profile has a "calls" metric (deterministic mode), nc is the
 *     number of calls and cc the calls that were not recursive (calls made
 *     while the same function was not already on the stack);
 *   - otherwise (sampled profiles) nc and cc are SAMPLE HITS: the number of
 *     samples in which the function was on the stack (counted once per sample
 *     even under recursion), so nc == cc.  On a caller edge they are the
 *     samples in which that caller called it.
 * tt / ct are the time metric (cpu in cpu mode, else wall) in seconds; a
 * profile without one uses samples / rate_hz.  Text is made valid UTF-8
 * (ill-formed bytes and lone surrogates become U+FFFD): pstats prints names,
 * and a lone surrogate would make print_stats fail on a UTF-8 stream.
 *
 * The reader is input/pm_pstats_read.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"
#include "../model/pm_idmap.h"
#include "../model/pm_strtab.h"
#include "../input/pm_input.h"
#include "pm_interchange.h"
#include "../codec/pm_marshal.h"
#include "pm_outcommon.h"

/* Times are summed in the metric's own unit and scaled once when written,
 * so that a file read back and written again gives the same floats. */
typedef struct {
    int64_t tt, ct;
    int64_t nc, cc;
    int seen;
} pm_ps_acc;

typedef struct {
    uint32_t caller, callee;
    uint32_t open; /* times the pair is open on the walked path */
    pm_ps_acc a;
} pm_ps_edge;

typedef struct {
    const pm_profile *p;
    pm_ctext ct;
    pm_strtab keys;
    uint32_t *frame_key;
    /* per key */
    pm_ps_acc *acc;
    uint32_t *on_path;
    const char **kfile, **kname;
    uint32_t *kfile_len, *kname_len;
    int32_t *kline;
    uint32_t *kref;
    /* edges */
    pm_ps_edge *edges;
    uint32_t nedges, capedges;
    pm_idmap emap;
    /* metrics */
    int m_time, m_calls, m_samples;
    double time_scale; /* metric unit -> seconds */
    int64_t *tot_time, *tot_calls;
} pm_ps;

static pm_ps_edge *pm_ps_edge_get(pm_ps *s, uint32_t caller, uint32_t callee)
{
    uint32_t h = pm_hash_ids3(caller, callee, 0x5a);
    if (s->emap.cap) {
        uint32_t mask = s->emap.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *sl = &s->emap.slots[i];
            if (sl->id == PM_NONE)
                break;
            if (sl->hash == h && s->edges[sl->id].caller == caller && s->edges[sl->id].callee == callee)
                return &s->edges[sl->id];
        }
    }
    if (s->nedges == s->capedges) {
        uint32_t nc = s->capedges ? s->capedges * 2 : 256;
        pm_ps_edge *ne = realloc(s->edges, (size_t)nc * sizeof(pm_ps_edge));
        if (!ne)
            return NULL;
        s->edges = ne;
        s->capedges = nc;
    }
    if (pm_idmap_reserve_one(&s->emap) != 0)
        return NULL;
    pm_ps_edge *e = &s->edges[s->nedges];
    memset(e, 0, sizeof *e);
    e->caller = caller;
    e->callee = callee;
    pm_idmap_insert(&s->emap, h, s->nedges++);
    return e;
}

static int pm_ps_keys(pm_ps *s)
{
    const pm_profile *p = s->p;
    uint32_t nf = pm_frame_count(p);
    pm_buf kb;
    pm_buf_init(&kb);
    for (uint32_t f = 0; f < nf; f++) {
        const pm_frame *fr = pm_frame_get(p, f);
        int builtin = fr->kind != PM_FRAME_PYTHON || s->ct.len[fr->file] == 0;
        kb.len = 0;
        uint32_t flen = builtin ? 1 : s->ct.len[fr->file];
        pm_buf_put(&kb, &flen, sizeof flen);
        if (builtin)
            pm_buf_putc(&kb, '~');
        else
            pm_buf_put(&kb, s->ct.ptr[fr->file], s->ct.len[fr->file]);
        int32_t line = builtin ? 0 : fr->line;
        pm_buf_put(&kb, &line, sizeof line);
        const char *name = s->ct.ptr[fr->name];
        size_t nlen = s->ct.len[fr->name];
        if (!builtin) {
            /* cProfile's key names the code (co_name), the model keeps the
             * qualified name: "Markup.__new__" -> "__new__",
             * "f.<locals>.g" -> "g". */
            size_t cut = nlen;
            while (cut > 0 && name[cut - 1] != '.')
                cut--;
            if (cut > 0 && cut < nlen) {
                name += cut;
                nlen -= cut;
            }
        }
        pm_buf_put(&kb, name, nlen);
        if (kb.oom || (s->frame_key[f] = pm_strtab_intern(&s->keys, kb.data, kb.len)) == PM_NONE) {
            pm_buf_free(&kb);
            return -1;
        }
    }
    pm_buf_free(&kb);
    uint32_t nk = s->keys.count;
    s->acc = calloc((size_t)nk + 1, sizeof(pm_ps_acc));
    s->on_path = calloc((size_t)nk + 1, sizeof(uint32_t));
    s->kfile = calloc((size_t)nk + 1, sizeof(char *));
    s->kname = calloc((size_t)nk + 1, sizeof(char *));
    s->kfile_len = calloc((size_t)nk + 1, sizeof(uint32_t));
    s->kname_len = calloc((size_t)nk + 1, sizeof(uint32_t));
    s->kline = calloc((size_t)nk + 1, sizeof(int32_t));
    s->kref = malloc(((size_t)nk + 1) * sizeof(uint32_t));
    if (!s->acc || !s->on_path || !s->kfile || !s->kname || !s->kfile_len || !s->kname_len || !s->kline || !s->kref)
        return -1;
    for (uint32_t k = 0; k < nk; k++) {
        size_t len;
        const char *key = pm_strtab_get(&s->keys, k, &len);
        /* [u32 file length][file][i32 line][name] */
        uint32_t flen;
        memcpy(&flen, key, sizeof flen);
        s->kfile[k] = key + sizeof flen;
        s->kfile_len[k] = flen;
        memcpy(&s->kline[k], key + sizeof flen + flen, sizeof(int32_t));
        s->kname[k] = key + sizeof flen + flen + sizeof(int32_t);
        s->kname_len[k] = (uint32_t)(len - sizeof flen - flen - sizeof(int32_t));
        s->kref[k] = PM_NONE;
    }
    return 0;
}

/* Sums saturate: hostile values must not overflow (a profile read from a
 * file can hold anything). */
static int64_t pm_ps_sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

#define PM_PS_ADD(x, v) ((x) = pm_ps_sat_add((x), (v)))

static int64_t pm_ps_val(const pm_profile *p, pm_id n, int m)
{
    return m >= 0 ? pm_node_value(p, n, m) : 0;
}

static void pm_ps_enter(pm_ps *s, pm_id n)
{
    const pm_node *nd = pm_node_get(s->p, n);
    if (nd->frame == PM_NONE)
        return;
    uint32_t k = s->frame_key[nd->frame];
    const pm_node *par = pm_node_get(s->p, nd->parent);
    uint32_t ck = par->frame == PM_NONE ? PM_NONE : s->frame_key[par->frame];
    int outer = s->on_path[k]++ == 0;
    int64_t tt = pm_ps_val(s->p, n, s->m_time);
    int64_t ctv = s->tot_time[n];
    int64_t calls = s->m_calls >= 0 ? pm_node_value(s->p, n, s->m_calls) : s->tot_calls[n];
    pm_ps_acc *a = &s->acc[k];
    a->seen = 1;
    PM_PS_ADD(a->tt, tt);
    if (s->m_calls >= 0) {
        PM_PS_ADD(a->nc, calls);
        if (outer)
            PM_PS_ADD(a->cc, calls);
    } else if (outer) {
        PM_PS_ADD(a->nc, calls);
        PM_PS_ADD(a->cc, calls);
    }
    if (outer)
        PM_PS_ADD(a->ct, ctv);
    if (ck != PM_NONE) {
        /* cProfile's rule for a caller edge: a call is recursive when the
         * same caller -> callee pair is already open above it (not the
         * callee alone), and only the outermost one adds cumulative time. */
        pm_ps_edge *e = pm_ps_edge_get(s, ck, k);
        if (!e)
            return; /* OOM: the edge is lost, the totals stay right */
        int pair_outer = e->open++ == 0;
        PM_PS_ADD(e->a.tt, tt);
        if (s->m_calls >= 0 || pair_outer)
            PM_PS_ADD(e->a.nc, calls);
        if (pair_outer) {
            PM_PS_ADD(e->a.cc, calls);
            PM_PS_ADD(e->a.ct, ctv);
        }
    }
}

static void pm_ps_leave(pm_ps *s, pm_id n)
{
    const pm_node *nd = pm_node_get(s->p, n);
    if (nd->frame == PM_NONE)
        return;
    uint32_t k = s->frame_key[nd->frame];
    s->on_path[k]--;
    const pm_node *par = pm_node_get(s->p, nd->parent);
    if (par->frame != PM_NONE) {
        pm_ps_edge *e = pm_ps_edge_get(s, s->frame_key[par->frame], k);
        if (e && e->open)
            e->open--;
    }
}

static void pm_ps_walk(pm_ps *s)
{
    pm_id cur = PM_ROOT;
    pm_ps_enter(s, cur);
    for (;;) {
        const pm_node *nd = pm_node_get(s->p, cur);
        if (nd->first_child != PM_NONE) {
            cur = nd->first_child;
            pm_ps_enter(s, cur);
            continue;
        }
        for (;;) {
            pm_ps_leave(s, cur);
            if (cur == PM_ROOT)
                return;
            nd = pm_node_get(s->p, cur);
            if (nd->next_sibling != PM_NONE) {
                cur = nd->next_sibling;
                pm_ps_enter(s, cur);
                break;
            }
            cur = nd->parent;
        }
    }
}

/* A profile read from pstats (pm_pstats_exact_names): the source's figures,
 * entries on one-frame stacks and caller edges on two-frame ones. */
static int pm_ps_from_exact(pm_ps *s, const int *mx)
{
    const pm_profile *p = s->p;
    uint32_t nn = pm_node_count(p);
    for (pm_id n = 1; n < nn; n++) {
        const pm_node *nd = pm_node_get(p, n);
        if (nd->frame == PM_NONE)
            continue;
        const pm_node *par = pm_node_get(p, nd->parent);
        int64_t nc = pm_node_value(p, n, mx[0]), cc = pm_node_value(p, n, mx[1]);
        int64_t tt = pm_node_value(p, n, mx[2]), ct = pm_node_value(p, n, mx[3]);
        pm_ps_acc *a;
        if (par->frame == PM_NONE) {
            a = &s->acc[s->frame_key[nd->frame]];
        } else if (pm_node_get(p, par->parent)->frame == PM_NONE) {
            pm_ps_edge *e = pm_ps_edge_get(s, s->frame_key[par->frame], s->frame_key[nd->frame]);
            if (!e)
                return -1;
            a = &e->a;
        } else {
            continue; /* deeper stacks are not pstats' */
        }
        a->seen = 1;
        PM_PS_ADD(a->nc, nc);
        PM_PS_ADD(a->cc, cc);
        PM_PS_ADD(a->tt, tt);
        PM_PS_ADD(a->ct, ct);
    }
    return 0;
}

static void pm_ps_put_key(pm_ps *s, pm_buf *b, uint32_t k, uint32_t *nrefs)
{
    if (s->kref[k] != PM_NONE) {
        pm_mw_ref(b, s->kref[k]);
        return;
    }
    s->kref[k] = (*nrefs)++;
    pm_mw_tuple(b, 3, 1);
    pm_mw_str(b, s->kfile[k], s->kfile_len[k]);
    pm_mw_int(b, s->kline[k]);
    pm_mw_str(b, s->kname[k], s->kname_len[k]);
}

static double pm_ps_secs(double v)
{
    return isfinite(v) ? v : 0.0;
}

static int pm_ps_cmp_edge(const void *a, const void *b)
{
    const pm_ps_edge *x = a, *y = b;
    if (x->callee != y->callee)
        return x->callee < y->callee ? -1 : 1;
    return x->caller < y->caller ? -1 : x->caller > y->caller;
}

int pm_write_pstats(const pm_profile *p, pm_buf *out)
{
    pm_ps s;
    memset(&s, 0, sizeof s);
    s.p = p;
    pm_strtab_init(&s.keys);
    pm_idmap_init(&s.emap);
    int rc = -1;
    uint32_t nn = pm_node_count(p);
    if (pm_ctext_init(&s.ct, p) != 0)
        goto done;
    s.frame_key = malloc(((size_t)pm_frame_count(p) + 1) * sizeof(uint32_t));
    s.tot_time = calloc((size_t)nn + 1, sizeof(int64_t));
    s.tot_calls = calloc((size_t)nn + 1, sizeof(int64_t));
    if (!s.frame_key || !s.tot_time || !s.tot_calls || pm_ps_keys(&s) != 0)
        goto done;
    /* nc: the "calls" metric of a deterministic profile when there is one
     * (the calls mode adds it); otherwise sample hits from "samples". */
    s.m_calls = pm_metric_find(p, "calls");
    s.m_samples = pm_metric_find(p, "samples");
    s.m_time = pm_out_time_metric(p);
    s.time_scale = 1e-9;
    if (s.m_time < 0 && s.m_samples >= 0) {
        s.m_time = s.m_samples;
        double rate = pm_out_meta_num(p, "rate_hz", 0);
        s.time_scale = rate > 0 ? 1.0 / rate : 1e-3;
    }
    if (s.m_time >= 0)
        pm_totals(p, s.m_time, s.tot_time);
    if (s.m_calls < 0 && s.m_samples >= 0)
        pm_totals(p, s.m_samples, s.tot_calls);
    int mx[4];
    for (int i = 0; i < 4; i++)
        mx[i] = pm_metric_find(p, pm_pstats_exact_names[i]);
    if (mx[0] >= 0 && mx[1] >= 0 && mx[2] >= 0 && mx[3] >= 0) {
        s.time_scale = 1e-9; /* the exact metrics are in nanoseconds */
        if (pm_ps_from_exact(&s, mx) != 0)
            goto done;
    } else {
        pm_ps_walk(&s);
    }
    if (s.nedges)
        qsort(s.edges, s.nedges, sizeof(pm_ps_edge), pm_ps_cmp_edge);

    uint32_t nrefs = 0, e = 0, written = 0;
    pm_mw_dict_begin(out);
    for (uint32_t k = 0; k < s.keys.count; k++) {
        if (!s.acc[k].seen)
            continue;
        written++;
        const pm_ps_acc *a = &s.acc[k];
        pm_ps_put_key(&s, out, k, &nrefs);
        pm_mw_tuple(out, 5, 0);
        pm_mw_int(out, a->cc);
        pm_mw_int(out, a->nc);
        pm_mw_float(out, pm_ps_secs((double)a->tt * s.time_scale));
        pm_mw_float(out, pm_ps_secs((double)a->ct * s.time_scale));
        pm_mw_dict_begin(out);
        while (e < s.nedges && s.edges[e].callee < k)
            e++;
        for (; e < s.nedges && s.edges[e].callee == k; e++) {
            const pm_ps_edge *ed = &s.edges[e];
            pm_ps_put_key(&s, out, ed->caller, &nrefs);
            pm_mw_tuple(out, 4, 0);
            pm_mw_int(out, ed->a.nc);
            pm_mw_int(out, ed->a.cc);
            pm_mw_float(out, pm_ps_secs((double)ed->a.tt * s.time_scale));
            pm_mw_float(out, pm_ps_secs((double)ed->a.ct * s.time_scale));
        }
        pm_mw_dict_end(out);
    }
    if (!written) {
        /* pstats.Stats refuses an empty dict ("Cannot create or construct"),
         * so a profile with no calls gets one entry that ran never, as
         * cProfile's always has its own disable(); our reader drops it. */
        pm_mw_tuple(out, 3, 0);
        pm_mw_str(out, PM_PSTATS_EMPTY_FILE, strlen(PM_PSTATS_EMPTY_FILE));
        pm_mw_int(out, 0);
        pm_mw_str(out, PM_PSTATS_EMPTY_NAME, strlen(PM_PSTATS_EMPTY_NAME));
        pm_mw_tuple(out, 5, 0);
        pm_mw_int(out, 0);
        pm_mw_int(out, 0);
        pm_mw_float(out, 0.0);
        pm_mw_float(out, 0.0);
        pm_mw_dict_begin(out);
        pm_mw_dict_end(out);
    }
    pm_mw_dict_end(out);
    rc = out->oom ? -1 : 0;
done:
    pm_ctext_free(&s.ct);
    pm_strtab_free(&s.keys);
    pm_idmap_free(&s.emap);
    free(s.frame_key);
    free(s.tot_time);
    free(s.tot_calls);
    free(s.acc);
    free(s.on_path);
    free(s.kfile);
    free(s.kname);
    free(s.kfile_len);
    free(s.kname_len);
    free(s.kline);
    free(s.kref);
    free(s.edges);
    return rc;
}
