/* pm_slices.c — the timeline as per-thread slices (see pm_slices.h). */
#include <stdlib.h>
#include <string.h>

#include "pm_outcommon.h"
#include "pm_slices.h"

typedef struct {
    pm_id *frames;
    uint32_t n, cap;
} pm_sl_stack;

static int pm_sl_push(pm_sl_stack *s, pm_id f)
{
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 32;
        pm_id *nf = realloc(s->frames, (size_t)nc * sizeof(pm_id));
        if (!nf)
            return -1;
        s->frames = nf;
        s->cap = nc;
    }
    s->frames[s->n++] = f;
    return 0;
}

/* The frames of node's stack, outermost first, into *path; depth or -1. */
static long pm_sl_path(const pm_profile *p, pm_id node, pm_id **path, size_t *cap)
{
    size_t d = 0;
    if (node != PM_NONE) {
        for (pm_id j = node; pm_node_get(p, j)->frame != PM_NONE; j = pm_node_get(p, j)->parent) {
            if (d == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                pm_id *np = realloc(*path, nc * sizeof(pm_id));
                if (!np)
                    return -1;
                *path = np;
                *cap = nc;
            }
            (*path)[d++] = pm_node_get(p, j)->frame;
        }
    }
    for (size_t i = 0; i < d / 2; i++) {
        pm_id t = (*path)[i];
        (*path)[i] = (*path)[d - 1 - i];
        (*path)[d - 1 - i] = t;
    }
    return (long)d;
}

int pm_slices_walk(const pm_profile *p, const pm_slice_fns *fn, void *ctx)
{
    size_t nev = 0;
    const pm_event *ev = pm_timeline_events(p, &nev);
    uint32_t nt = pm_thread_count(p);
    pm_sl_stack *st = calloc((size_t)nt + 1, sizeof(pm_sl_stack));
    pm_id *path = NULL;
    size_t pcap = 0;
    if (!st)
        return -1;
    int rc = -1;
    uint64_t end = 0;
    for (size_t i = 0; i < nev; i++) {
        const pm_event *e = &ev[i];
        if (e->thread >= nt)
            continue;
        if (e->t_ns > end)
            end = e->t_ns;
        long d = pm_sl_path(p, e->node, &path, &pcap);
        if (d < 0)
            goto done;
        pm_sl_stack *s = &st[e->thread];
        uint32_t common = 0;
        while (common < s->n && common < (uint32_t)d && s->frames[common] == path[common])
            common++;
        while (s->n > common) {
            s->n--;
            if (fn->close(ctx, e->thread, s->n, e->t_ns) != 0)
                goto done;
        }
        for (uint32_t k = common; k < (uint32_t)d; k++) {
            if (pm_sl_push(s, path[k]) != 0 || fn->open(ctx, e->thread, k, path[k], e->t_ns) != 0)
                goto done;
        }
    }
    double dur = pm_out_meta_num(p, "duration_s", 0);
    if (pm_timeline_dropped(p) == 0 && dur > 0 && dur < 1e9 && (uint64_t)(dur * 1e9) > end)
        end = (uint64_t)(dur * 1e9);
    for (uint32_t t = 0; t < nt; t++)
        while (st[t].n > 0) {
            st[t].n--;
            if (fn->close(ctx, t, st[t].n, end) != 0)
                goto done;
        }
    rc = 0;
done:
    for (uint32_t t = 0; t < nt; t++)
        free(st[t].frames);
    free(st);
    free(path);
    return rc;
}

typedef struct {
    pm_span *v;
    size_t n, cap;
    size_t **open; /* per thread: ids of the open spans, by depth */
    uint32_t *ocap, nt;
} pm_sp_walk;

static int pm_sp_open(void *ctx, uint32_t thread, uint32_t depth, pm_id frame, uint64_t t_ns)
{
    pm_sp_walk *w = ctx;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 256;
        pm_span *nv = realloc(w->v, nc * sizeof(pm_span));
        if (!nv)
            return -1;
        w->v = nv;
        w->cap = nc;
    }
    if (depth >= w->ocap[thread]) {
        uint32_t nc = depth + 32;
        size_t *no = realloc(w->open[thread], (size_t)nc * sizeof(size_t));
        if (!no)
            return -1;
        w->open[thread] = no;
        w->ocap[thread] = nc;
    }
    pm_span *s = &w->v[w->n++];
    s->thread = thread;
    s->depth = depth;
    s->frame = frame;
    s->start_ns = s->end_ns = t_ns;
    s->parent = depth ? w->open[thread][depth - 1] : 0;
    w->open[thread][depth] = w->n;
    return 0;
}

static int pm_sp_close(void *ctx, uint32_t thread, uint32_t depth, uint64_t t_ns)
{
    pm_sp_walk *w = ctx;
    w->v[w->open[thread][depth] - 1].end_ns = t_ns;
    return 0;
}

static void pm_spans_trace_id(const pm_profile *p, uint8_t out[16]);

int pm_spans_collect(const pm_profile *p, pm_spans *out)
{
    static const pm_slice_fns fns = {pm_sp_open, pm_sp_close};
    pm_sp_walk w = {0};
    w.nt = pm_thread_count(p);
    w.open = calloc((size_t)w.nt + 1, sizeof(size_t *));
    w.ocap = calloc((size_t)w.nt + 1, sizeof(uint32_t));
    int rc = w.open && w.ocap ? pm_slices_walk(p, &fns, &w) : -1;
    for (uint32_t t = 0; w.open && t < w.nt; t++)
        free(w.open[t]);
    free(w.open);
    free(w.ocap);
    if (rc != 0 || pm_ctext_init(&out->c, p) != 0) {
        free(w.v);
        return -1;
    }
    out->v = w.v;
    out->n = w.n;
    out->epoch_ns = pm_slices_epoch_ns(p);
    pm_spans_trace_id(p, out->trace_id);
    return 0;
}

void pm_spans_free(pm_spans *s)
{
    free(s->v);
    pm_ctext_free(&s->c);
}

uint64_t pm_slices_epoch_ns(const pm_profile *p)
{
    size_t len = 0;
    const char *s = pm_out_meta_str(p, PM_META_TIMELINE_EPOCH, &len);
    uint64_t v = 0;
    for (size_t i = 0; s && i < len && i < 20; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

static uint64_t pm_sp_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *d = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001b3ULL;
    return h;
}

static void pm_spans_trace_id(const pm_profile *p, uint8_t out[16])
{
    uint64_t epoch = pm_slices_epoch_ns(p), h = 0xcbf29ce484222325ULL;
    size_t len = 0;
    const char *cmd = pm_out_meta_str(p, "command", &len);
    h = pm_sp_fnv(h, &epoch, sizeof epoch);
    uint64_t a = pm_sp_fnv(h, cmd ? cmd : "", cmd ? len : 0);
    uint64_t b = pm_sp_fnv(a, "pyrometer", 9) | 1; /* never all zero */
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(a >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(b >> (56 - 8 * i));
    }
}

void pm_spans_span_id(const pm_spans *s, size_t id, uint8_t out[8])
{
    uint64_t salt = 0;
    for (int i = 0; i < 8; i++)
        salt = salt << 8 | s->trace_id[i];
    uint64_t v = pm_sp_fnv(salt, &id, sizeof id);
    if (v == 0)
        v = (uint64_t)id;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
}

const char *pm_spans_service(const pm_profile *p, size_t *len)
{
    const char *s = pm_out_meta_str(p, "service_name", len);
    if (s && *len)
        return s;
    *len = 6;
    return "python";
}
