/* pm_gecko.c — the Firefox Profiler's Gecko profile format, pinned at
 * meta.version 28 (the profiler upgrades older Gecko versions itself; 28 is
 * also what CPython's own sampling profiler emits).
 *
 * Per thread: a stringTable, a frameTable (location, relevantForJS,
 * innerWindowID, implementation, optimizations, line, column, category,
 * subcategory) with one frame per function, a stackTable (prefix, frame) with
 * one entry per trie node, samples (stack, time, eventDelay) and an empty
 * markers table.  Times are milliseconds since meta.startTime.
 *
 * Samples: from the timeline when there is one (each run of a leaf yields
 * one sample per sampling interval, at least one); otherwise each node gives
 * as many samples as its "samples" value (or time / interval), laid out one
 * interval apart.  A deterministic profile (no samples, no rate) gives its
 * time, at most PM_GECKO_MAX_TIMED samples: the interval widens to fit.  Categories: 0 Python, 1 Other (native and special). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_strtab.h"
#include "pm_interchange.h"
#include "../codec/pm_json.h"
#include "pm_outcommon.h"

#define PM_GECKO_VERSION 28
/* Samples one node or one timeline run may expand to (a hostile or absurd
 * count must not make the file unbounded). */
#define PM_GECKO_MAX_RUN 1000000
/* Samples a deterministic profile's time becomes, at most. */
#define PM_GECKO_MAX_TIMED 200000

typedef struct {
    const pm_profile *p;
    pm_ctext c;
    pm_strtab strs;
    pm_buf tmp;
    uint32_t *fmap;     /* model frame -> gecko frame of the current thread */
    pm_id *flist;       /* model frames of the current thread, in gecko order */
    uint32_t nfl;
    uint32_t *stack_of; /* node -> stack index (current thread) */
} pm_gk;

static uint32_t gk_str(pm_gk *g, const char *s, size_t len)
{
    return pm_strtab_intern(&g->strs, s, len);
}

static void gk_sample(pm_buf *out, uint32_t stack, double ms, int *first)
{
    if (!*first)
        pm_buf_putc(out, ',');
    *first = 0;
    pm_buf_putc(out, '[');
    pm_buf_put_u64(out, stack);
    pm_buf_putc(out, ',');
    pm_out_fixed3(out, ms);
    pm_buf_puts(out, ",0]");
}

static int gk_thread(pm_gk *g, uint32_t t, const uint32_t *nodes, uint32_t nnodes, double interval_ms, int ms_metric,
                     int mt, pm_buf *out)
{
    const pm_profile *p = g->p;
    const pm_thread *th = pm_thread_at(p, t);
    pm_strtab_free(&g->strs);
    pm_strtab_init(&g->strs);
    g->nfl = 0;
    if (t)
        pm_buf_putc(out, ',');
    pm_buf_puts(out, "{\"name\":");
    g->tmp.len = 0;
    pm_out_thread_label(p, t, &g->tmp);
    pm_jw_str(out, g->tmp.data ? g->tmp.data : "", g->tmp.len);
    pm_buf_puts(out, ",\"isMainThread\":");
    pm_buf_puts(out, t == 0 ? "true" : "false");
    pm_buf_puts(out, ",\"processType\":\"default\",\"processName\":\"python\",\"processStartupTime\":0,"
                     "\"processShutdownTime\":null,\"registerTime\":0,\"unregisterTime\":null,\"pausedRanges\":[],"
                     "\"pid\":1,\"tid\":");
    pm_buf_put_u64(out, th->native_id ? th->native_id : (uint64_t)t + 1);
    /* Stack table (nodes of this thread, parents first). */
    pm_buf_puts(out, ",\"stackTable\":{\"schema\":{\"prefix\":0,\"frame\":1},\"data\":[");
    for (uint32_t k = 0; k < nnodes; k++) {
        const pm_node *nd = pm_node_get(p, nodes[k]);
        uint32_t gf = g->fmap[nd->frame];
        if (gf == PM_NONE) {
            gf = g->fmap[nd->frame] = g->nfl;
            g->flist[g->nfl++] = nd->frame;
        }
        g->stack_of[nodes[k]] = k;
        if (k)
            pm_buf_putc(out, ',');
        pm_buf_putc(out, '[');
        const pm_node *par = pm_node_get(p, nd->parent);
        if (par->frame == PM_NONE)
            pm_buf_puts(out, "null");
        else
            pm_buf_put_u64(out, g->stack_of[nd->parent]);
        pm_buf_putc(out, ',');
        pm_buf_put_u64(out, gf);
        pm_buf_putc(out, ']');
    }
    /* Frame table. */
    pm_buf_puts(out, "]},\"frameTable\":{\"schema\":{\"location\":0,\"relevantForJS\":1,\"innerWindowID\":2,"
                     "\"implementation\":3,\"optimizations\":4,\"line\":5,\"column\":6,\"category\":7,"
                     "\"subcategory\":8},\"data\":[");
    for (uint32_t k = 0; k < g->nfl; k++) {
        pm_id f = g->flist[k];
        const pm_frame *fr = pm_frame_get(p, f);
        g->tmp.len = 0;
        pm_out_frame_name(p, &g->c, f, &g->tmp);
        if (g->c.len[fr->file]) {
            pm_buf_puts(&g->tmp, " (");
            pm_buf_put(&g->tmp, g->c.ptr[fr->file], g->c.len[fr->file]);
            pm_buf_putc(&g->tmp, ':');
            pm_buf_put_i64(&g->tmp, fr->line);
            pm_buf_putc(&g->tmp, ')');
        }
        uint32_t loc = gk_str(g, g->tmp.data ? g->tmp.data : "", g->tmp.len);
        if (loc == PM_NONE || g->tmp.oom)
            return -1;
        if (k)
            pm_buf_putc(out, ',');
        pm_buf_putc(out, '[');
        pm_buf_put_u64(out, loc);
        pm_buf_puts(out, ",false,0,null,null,");
        if (fr->line > 0)
            pm_buf_put_i64(out, fr->line);
        else
            pm_buf_puts(out, "null");
        pm_buf_puts(out, fr->kind == PM_FRAME_PYTHON ? ",null,0,0]" : ",null,1,0]");
    }
    pm_buf_puts(out, "]},\"samples\":{\"schema\":{\"stack\":0,\"time\":1,\"eventDelay\":2},\"data\":[");
    int first = 1;
    size_t nev = 0;
    const pm_event *ev = pm_timeline_events(p, &nev);
    if (ev && nev > 0) {
        double dur_ms = pm_out_meta_num(p, "duration_s", 0) * 1e3;
        for (size_t i = 0; i < nev; i++) {
            if (ev[i].thread != t || ev[i].node == PM_NONE || pm_node_get(p, ev[i].node)->frame == PM_NONE)
                continue;
            double t0 = (double)ev[i].t_ns / 1e6, t1 = dur_ms;
            for (size_t j = i + 1; j < nev; j++)
                if (ev[j].thread == t) {
                    t1 = (double)ev[j].t_ns / 1e6;
                    break;
                }
            uint32_t stack = g->stack_of[ev[i].node];
            /* At most PM_GECKO_MAX_RUN samples per run (hostile durations). */
            double ts = t0;
            int64_t left = PM_GECKO_MAX_RUN;
            do {
                gk_sample(out, stack, ts, &first);
                ts += interval_ms;
            } while (ts < t1 && --left > 0);
        }
    } else {
        double ts = 0, carry = 0;
        for (uint32_t k = 0; k < nnodes; k++) {
            double n = 0;
            if (ms_metric >= 0) {
                n = (double)pm_node_value(p, nodes[k], ms_metric);
            } else if (mt >= 0) {
                /* Time in intervals; what rounding leaves goes to the next
                 * node, so the thread's total stays whole. */
                n = (double)pm_node_value(p, nodes[k], mt) / (interval_ms * 1e6) + carry;
                carry = n - (n > 0 ? floor(n + 0.5) : 0);
            }
            int64_t cnt = n > PM_GECKO_MAX_RUN ? PM_GECKO_MAX_RUN : n > 0 ? (int64_t)llround(n) : 0;
            for (int64_t s = 0; s < cnt; s++) {
                gk_sample(out, k, ts, &first);
                ts += interval_ms;
            }
        }
    }
    pm_buf_puts(out, "]},\"markers\":{\"schema\":{\"name\":0,\"startTime\":1,\"endTime\":2,\"phase\":3,"
                     "\"category\":4,\"data\":5},\"data\":[]},\"stringTable\":[");
    for (uint32_t i = 0; i < g->strs.count; i++) {
        size_t len;
        const char *s = pm_strtab_get(&g->strs, i, &len);
        if (i)
            pm_buf_putc(out, ',');
        pm_jw_str(out, s, len);
    }
    pm_buf_puts(out, "]}");
    for (uint32_t k = 0; k < g->nfl; k++)
        g->fmap[g->flist[k]] = PM_NONE;
    return out->oom ? -1 : 0;
}

int pm_write_gecko(const pm_profile *p, pm_buf *out)
{
    pm_gk g;
    memset(&g, 0, sizeof g);
    g.p = p;
    pm_strtab_init(&g.strs);
    pm_buf_init(&g.tmp);
    uint32_t nn = pm_node_count(p), nf = pm_frame_count(p), nt = pm_thread_count(p);
    uint32_t *start = NULL, *order = NULL, *fill = NULL;
    int rc = -1;
    if (pm_ctext_init(&g.c, p) != 0)
        return -1;
    g.fmap = malloc(((size_t)nf + 1) * sizeof(uint32_t));
    g.flist = malloc(((size_t)nf + 1) * sizeof(pm_id));
    g.stack_of = malloc(((size_t)nn + 1) * sizeof(uint32_t));
    start = calloc((size_t)nt + 2, sizeof(uint32_t));
    fill = calloc((size_t)nt + 1, sizeof(uint32_t));
    order = malloc(((size_t)nn + 1) * sizeof(uint32_t));
    if (!g.fmap || !g.flist || !g.stack_of || !start || !fill || !order)
        goto done;
    for (uint32_t f = 0; f < nf; f++)
        g.fmap[f] = PM_NONE;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame != PM_NONE && nd->thread < nt)
            start[nd->thread + 1]++;
    }
    for (uint32_t t = 0; t < nt; t++)
        start[t + 1] += start[t];
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame != PM_NONE && nd->thread < nt)
            order[start[nd->thread] + fill[nd->thread]++] = i;
    }
    double rate = pm_out_meta_num(p, "rate_hz", 0);
    double interval_ms = rate > 0 ? 1e3 / rate : 1.0;
    int ms_metric = pm_metric_find(p, "samples");
    int mt = pm_out_time_metric(p);
    if (ms_metric < 0 && mt >= 0 && rate <= 0) {
        /* A deterministic profile: its time as samples, at most
         * PM_GECKO_MAX_TIMED of them (one sample per call made the file grow
         * with the number of calls: 185 MB for a few seconds).  The interval
         * widens to fit; a node with less than half an interval of time
         * left over gets no sample of its own (gk_thread carries the rest). */
        int64_t total = 0;
        for (uint32_t i = 1; i < nn; i++)
            total += pm_node_value(p, i, mt);
        double total_ms = (double)total / 1e6;
        if (total_ms / interval_ms > PM_GECKO_MAX_TIMED)
            interval_ms = total_ms / PM_GECKO_MAX_TIMED;
    } else if (ms_metric < 0) {
        ms_metric = pm_metric_find(p, "calls");
    }
    double start_ms = pm_out_meta_num(p, "start_unix", 0) * 1e3;

    pm_buf_puts(out, "{\"meta\":{\"version\":");
    pm_buf_put_i64(out, PM_GECKO_VERSION);
    pm_buf_puts(out, ",\"startTime\":");
    pm_out_fixed3(out, start_ms);
    pm_buf_puts(out, ",\"shutdownTime\":null,\"interval\":");
    pm_out_fixed3(out, interval_ms);
    pm_buf_puts(out, ",\"stackwalk\":0,\"debug\":0,\"gcpoison\":0,\"asyncstack\":0,\"processType\":0,"
                     "\"presymbolicated\":true,\"product\":\"pyrometer\",\"abi\":\"\",\"toolkit\":\"\","
                     "\"platform\":\"\",\"oscpu\":\"\",\"misc\":");
    size_t plen = 0;
    const char *py = pm_out_meta_str(p, "python", &plen);
    g.tmp.len = 0;
    pm_buf_puts(&g.tmp, "Python ");
    if (py)
        pm_clean_utf8(py, plen, &g.tmp);
    pm_jw_str(out, g.tmp.data, g.tmp.len);
    pm_buf_puts(out, ",\"categories\":[{\"name\":\"Python\",\"color\":\"blue\",\"subcategories\":[\"Other\"]},"
                     "{\"name\":\"Other\",\"color\":\"grey\",\"subcategories\":[\"Other\"]}],\"markerSchema\":[],"
                     "\"extensions\":{\"schema\":{\"id\":0,\"name\":1,\"baseURL\":2},\"data\":[]}},"
                     "\"libs\":[],\"pages\":[],\"pausedRanges\":[],\"processes\":[],\"threads\":[");
    for (uint32_t t = 0; t < nt; t++)
        if (gk_thread(&g, t, order + start[t], start[t + 1] - start[t], interval_ms, ms_metric, mt, out) != 0)
            goto done;
    pm_buf_puts(out, "]}\n");
    rc = out->oom ? -1 : 0;
done:
    free(g.fmap);
    free(g.flist);
    free(g.stack_of);
    free(start);
    free(fill);
    free(order);
    pm_strtab_free(&g.strs);
    pm_buf_free(&g.tmp);
    pm_ctext_free(&g.c);
    return rc;
}
