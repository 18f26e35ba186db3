/* pm_lines.c — the line tracer's slow paths and its hand-over to the model.
 * See pm_lines.h for the semantics. */
#include "pm_lines.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/pm_hash.h"

pm_lines *pm_lines_new(pm_profile *p, double tick_ns)
{
    pm_lines *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->p = p;
    L->tick_ns = tick_ns > 0 ? tick_ns : 1.0;
    return L;
}

static void fd_free(pm_lfdata *fd)
{
    if (!fd)
        return;
    free(fd->hits);
    free(fd->ticks);
    free(fd->c_hits);
    free(fd->c_ticks);
    free(fd);
}

void pm_lines_free(pm_lines *L)
{
    if (!L)
        return;
    for (uint32_t i = 0; i < L->nthreads; i++) {
        pm_lthread *ts = L->threads[i];
        for (uint32_t f = 0; f < ts->nfd; f++)
            fd_free(ts->fd[f]);
        free(ts->fd);
        free(ts->top_of);
        free(ts->stack);
        free(ts);
    }
    free(L->threads);
    pm_idmap_free(&L->thread_index);
    free(L->slots);
    free(L);
}

static void slot_put(pm_lslot *slots, uint32_t cap, const void *key, pm_id frame)
{
    uint32_t mask = cap - 1;
    for (uint32_t i = pm_lines_hash(key, mask);; i = (i + 1) & mask) {
        if (!slots[i].key || slots[i].key == key) {
            slots[i].key = key;
            slots[i].frame = frame;
            return;
        }
    }
}

int pm_lines_key_add(pm_lines *L, const void *key, pm_id frame)
{
    if (!key)
        return -1;
    if ((L->slot_used + 1) * 2 > L->slot_cap) { /* load factor <= 1/2 */
        uint32_t ncap = L->slot_cap ? L->slot_cap * 2 : 1024;
        pm_lslot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return -1;
        for (uint32_t i = 0; i < L->slot_cap; i++)
            if (L->slots[i].key)
                slot_put(ns, ncap, L->slots[i].key, L->slots[i].frame);
        free(L->slots);
        L->slots = ns;
        L->slot_cap = ncap;
    }
    if (pm_lines_key_find(L, key) == PM_NONE)
        L->slot_used++;
    slot_put(L->slots, L->slot_cap, key, frame);
    return 0;
}

pm_lthread *pm_lines_thread(pm_lines *L, uint64_t ident, uint64_t native_id)
{
    uint32_t h = pm_hash_u64(ident ^ (native_id * 0x9E3779B97F4A7C15ull));
    if (L->thread_index.cap) {
        uint32_t mask = L->thread_index.cap - 1;
        for (uint32_t i = h & mask; L->thread_index.slots[i].id != PM_NONE; i = (i + 1) & mask) {
            const pm_idslot *sl = &L->thread_index.slots[i];
            pm_lthread *ts = L->threads[sl->id];
            if (sl->hash == h && ts->ident == ident && ts->native_id == native_id)
                return ts;
        }
    }
    if (pm_idmap_reserve_one(&L->thread_index) != 0)
        return NULL;
    if (L->nthreads == L->threads_cap) {
        uint32_t ncap = L->threads_cap ? L->threads_cap * 2 : 8;
        pm_lthread **nt = realloc(L->threads, ncap * sizeof *nt);
        if (!nt)
            return NULL;
        L->threads = nt;
        L->threads_cap = ncap;
    }
    pm_lthread *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->ident = ident;
    ts->native_id = native_id;
    pm_idmap_insert(&L->thread_index, h, L->nthreads);
    L->threads[L->nthreads++] = ts;
    return ts;
}

int pm_lines_push_slow(pm_lines *L, pm_lthread *ts, pm_id frame)
{
    (void)L;
    if (frame >= PM_LINES_OUT)
        return -1;
    if (ts->depth == ts->cap) {
        uint32_t ncap = ts->cap ? ts->cap * 2 : 64;
        pm_lact *ns = realloc(ts->stack, ncap * sizeof *ns);
        if (!ns)
            return -1;
        ts->stack = ns;
        ts->cap = ncap;
    }
    if (frame >= ts->nfd) {
        uint32_t ncap = ts->nfd ? ts->nfd : 64;
        while (ncap <= frame)
            ncap *= 2;
        pm_lfdata **nf = realloc(ts->fd, ncap * sizeof *nf);
        if (!nf)
            return -1;
        ts->fd = nf;
        int32_t *nt = realloc(ts->top_of, ncap * sizeof *nt);
        if (!nt)
            return -1;
        ts->top_of = nt;
        for (uint32_t i = ts->nfd; i < ncap; i++) {
            ts->fd[i] = NULL;
            ts->top_of[i] = -1;
        }
        ts->nfd = ncap;
    }
    if (!ts->fd[frame]) {
        pm_lfdata *fd = calloc(1, sizeof *fd);
        if (!fd)
            return -1;
        const pm_frame *fr = pm_frame_get(L->p, frame);
        fd->base = fr && fr->line > 0 ? fr->line : 1;
        ts->fd[frame] = fd;
    }
    return 0;
}

/* Makes room for `line` (below the base too: the table is shifted).  All
 * four arrays are allocated before any is replaced, so OOM leaves the table
 * as it was. */
int pm_lines_grow_lines(pm_lfdata *fd, int32_t line)
{
    if (line <= 0)
        return -1;
    int32_t base = fd->base;
    uint32_t shift = 0;
    if (line < base) {
        shift = (uint32_t)(base - line);
        base = line;
    }
    uint32_t need = (uint32_t)(line - base) + 1;
    if (need < fd->n + shift)
        need = fd->n + shift;
    uint32_t ncap = 16;
    while (ncap < need + 8u)
        ncap *= 2;
    int64_t **old[4] = {&fd->hits, &fd->ticks, &fd->c_hits, &fd->c_ticks};
    int64_t *na[4];
    for (int k = 0; k < 4; k++) {
        na[k] = calloc(ncap, sizeof *na[k]);
        if (!na[k]) {
            while (k--)
                free(na[k]);
            return -1;
        }
    }
    for (int k = 0; k < 4; k++) {
        if (*old[k])
            memcpy(na[k] + shift, *old[k], fd->n * sizeof *na[k]);
        free(*old[k]);
        *old[k] = na[k];
    }
    fd->base = base;
    fd->n = ncap;
    return 0;
}

void pm_lines_flush(pm_lines *L, int64_t now)
{
    for (uint32_t i = 0; i < L->nthreads; i++)
        while (L->threads[i]->depth)
            pm_lines_leave(L->threads[i], now);
}

int pm_lines_commit(pm_lines *L)
{
    int mh = pm_metric_add(L->p, "hits", "count");
    int mt = pm_metric_add(L->p, "time", "nanoseconds");
    if (mh < 0 || mt < 0)
        return -1;
    for (uint32_t i = 0; i < L->nthreads; i++) {
        pm_lthread *ts = L->threads[i];
        pm_id th = PM_NONE;
        for (uint32_t f = 0; f < ts->nfd; f++) {
            pm_lfdata *fd = ts->fd[f];
            if (!fd)
                continue;
            pm_id fnode = PM_NONE;
            for (uint32_t j = 0; j < fd->n; j++) {
                int64_t dh = fd->hits[j] - fd->c_hits[j];
                int64_t dt = fd->ticks[j] - fd->c_ticks[j];
                if (!dh && !dt)
                    continue;
                if (th == PM_NONE) {
                    th = pm_thread_get(L->p, ts->ident, ts->native_id);
                    if (th == PM_NONE)
                        return -1;
                }
                if (fnode == PM_NONE) {
                    fnode = pm_node_child(L->p, pm_thread_at(L->p, th)->root, f, 0);
                    if (fnode == PM_NONE)
                        return -1;
                }
                pm_id ln = pm_node_child(L->p, fnode, f, fd->base + (int32_t)j);
                if (ln == PM_NONE)
                    return -1;
                pm_node_add(L->p, ln, mh, dh);
                /* ns of the running sums, so that rounding does not pile up
                 * over several commits */
                int64_t ns_now = llround((double)fd->ticks[j] * L->tick_ns);
                int64_t ns_before = llround((double)fd->c_ticks[j] * L->tick_ns);
                pm_node_add(L->p, ln, mt, ns_now - ns_before);
                fd->c_hits[j] = fd->hits[j];
                fd->c_ticks[j] = fd->ticks[j];
            }
        }
    }
    return 0;
}

static int row_cmp(const void *x, const void *y)
{
    const pm_lrow *a = x, *b = y;
    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

int pm_lines_rows(const pm_profile *p, int hits_metric, int time_metric, pm_id thread, pm_lrow **rows,
                  uint32_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    if (hits_metric < 0 || time_metric < 0)
        return -1;
    uint32_t n = pm_node_count(p), cnt = 0;
    pm_lrow *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return -1;
    for (uint32_t i = 1; i < n; i++) {
        const pm_node *d = pm_node_get(p, i);
        if (d->frame == PM_NONE || d->line <= 0 || d->parent == PM_NONE)
            continue;
        if (thread != PM_NONE && d->thread != thread)
            continue;
        const pm_node *up = pm_node_get(p, d->parent);
        if (!up || up->frame != d->frame)
            continue;
        r[cnt].frame = d->frame;
        r[cnt].line = d->line;
        r[cnt].hits = pm_node_value(p, i, hits_metric);
        r[cnt].time = pm_node_value(p, i, time_metric);
        cnt++;
    }
    qsort(r, cnt, sizeof *r, row_cmp);
    uint32_t out = 0; /* merge equal (frame, line) of different threads */
    for (uint32_t i = 0; i < cnt; i++) {
        if (out && r[out - 1].frame == r[i].frame && r[out - 1].line == r[i].line) {
            r[out - 1].hits += r[i].hits;
            r[out - 1].time += r[i].time;
        } else {
            r[out++] = r[i];
        }
    }
    *rows = r;
    *nrows = out;
    return 0;
}
