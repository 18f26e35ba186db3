/* pm_tracer.c — the calls tracer's slow paths, the clock and the hand-over
 * of its figures to the model.  See pm_tracer.h for the semantics. */
#define _GNU_SOURCE 1
#include "pm_tracer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pm_hash.h"
#include <time.h>

int pm_clock_use_tsc = 0;
static double clock_tick_ns = 0.0;

int64_t pm_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The TSC is used only when the CPU says it is invariant (constant and
 * non-stop): then it ticks at one rate on every core and in every power
 * state, and reading it costs a few nanoseconds instead of ~20 for the vDSO
 * clock.  Its rate is measured once against CLOCK_MONOTONIC. */
static int tsc_invariant(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (getenv("PYROMETER_NO_TSC"))
        return 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    int constant = 0, nonstop = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
#else
    return 0;
#endif
}

double pm_clock_calibrate(void)
{
    if (clock_tick_ns > 0)
        return clock_tick_ns;
    if (!tsc_invariant()) {
        clock_tick_ns = 1.0;
        return clock_tick_ns;
    }
    pm_clock_use_tsc = 1;
    int64_t m0 = pm_clock_mono_ns(), c0 = pm_clock_now();
    int64_t m1, c1;
    do { /* 5 ms: the rate to better than 1e-5 */
        m1 = pm_clock_mono_ns();
        c1 = pm_clock_now();
    } while (m1 - m0 < 5000000);
    if (c1 <= c0) {
        pm_clock_use_tsc = 0;
        clock_tick_ns = 1.0;
    } else {
        clock_tick_ns = (double)(m1 - m0) / (double)(c1 - c0);
    }
    return clock_tick_ns;
}

int pm_clock_is_tsc(void) { return pm_clock_use_tsc; }

pm_tracer *pm_tracer_new(pm_profile *p)
{
    pm_tracer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->p = p;
    t->tick_ns = 1.0;
    return t;
}

void pm_tracer_free(pm_tracer *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->nthreads; i++) {
        free(t->threads[i]->stack);
        free(t->threads[i]);
    }
    free(t->threads);
    pm_idmap_free(&t->thread_index);
    free(t->slots);
    free(t->calls);
    free(t->ticks);
    free(t->last);
    free(t->tl);
    free(t);
}

static void slot_put(pm_tslot *slots, uint32_t cap, void *key, pm_id frame)
{
    uint32_t mask = cap - 1;
    for (uint32_t i = pm_tracer_hash(key, mask);; i = (i + 1) & mask) {
        if (!slots[i].key || slots[i].key == key) {
            slots[i].key = key;
            slots[i].frame = frame;
            return;
        }
    }
}

int pm_tracer_key_add(pm_tracer *t, void *key, pm_id frame)
{
    if (!key)
        return -1;
    if ((t->slot_used + 1) * 2 > t->slot_cap) { /* load factor <= 1/2 */
        uint32_t ncap = t->slot_cap ? t->slot_cap * 2 : 1024;
        pm_tslot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return -1;
        for (uint32_t i = 0; i < t->slot_cap; i++)
            if (t->slots[i].key)
                slot_put(ns, ncap, t->slots[i].key, t->slots[i].frame);
        free(t->slots);
        t->slots = ns;
        t->slot_cap = ncap;
    }
    if (pm_tracer_key_find(t, key) == PM_NONE)
        t->slot_used++;
    slot_put(t->slots, t->slot_cap, key, frame);
    return 0;
}

pm_tthread *pm_tracer_thread(pm_tracer *t, uint64_t ident, uint64_t native_id)
{
    uint32_t h = pm_hash_u64(ident ^ (native_id * 0x9E3779B97F4A7C15ull));
    if (t->thread_index.cap) {
        uint32_t mask = t->thread_index.cap - 1;
        for (uint32_t i = h & mask; t->thread_index.slots[i].id != PM_NONE; i = (i + 1) & mask) {
            const pm_idslot *sl = &t->thread_index.slots[i];
            pm_tthread *ts = t->threads[sl->id];
            if (sl->hash == h && ts->ident == ident && ts->native_id == native_id)
                return ts;
        }
    }
    if (pm_idmap_reserve_one(&t->thread_index) != 0)
        return NULL;
    if (t->nthreads == t->threads_cap) {
        uint32_t ncap = t->threads_cap ? t->threads_cap * 2 : 8;
        pm_tthread **nt = realloc(t->threads, ncap * sizeof *nt);
        if (!nt)
            return NULL;
        t->threads = nt;
        t->threads_cap = ncap;
    }
    pm_id th = pm_thread_get(t->p, ident, native_id);
    const pm_thread *mt = th == PM_NONE ? NULL : pm_thread_at(t->p, th);
    pm_tthread *ts = mt ? calloc(1, sizeof *ts) : NULL;
    if (!ts)
        return NULL;
    ts->thread = th;
    ts->root = mt->root;
    ts->ident = ident;
    ts->native_id = native_id;
    pm_idmap_insert(&t->thread_index, h, t->nthreads);
    t->threads[t->nthreads++] = ts;
    return ts;
}

int pm_tracer_grow_stack(pm_tthread *ts)
{
    uint32_t ncap = ts->cap ? ts->cap * 2 : 64;
    pm_tctx *ns = realloc(ts->stack, ncap * sizeof *ns);
    if (!ns)
        return -1;
    ts->stack = ns;
    ts->cap = ncap;
    return 0;
}

int pm_tracer_grow_nodes(pm_tracer *t, pm_id node)
{
    uint32_t ncap = t->node_cap ? t->node_cap : 1024;
    while (ncap <= node)
        ncap *= 2;
    int64_t *nc = realloc(t->calls, ncap * sizeof *nc);
    if (!nc)
        return -1;
    t->calls = nc;
    int64_t *nt = realloc(t->ticks, ncap * sizeof *nt);
    if (!nt)
        return -1;
    t->ticks = nt;
    pm_tlast *nl = realloc(t->last, ncap * sizeof *nl);
    if (!nl)
        return -1;
    t->last = nl;
    memset(t->calls + t->node_cap, 0, (ncap - t->node_cap) * sizeof *nc);
    memset(t->ticks + t->node_cap, 0, (ncap - t->node_cap) * sizeof *nt);
    for (uint32_t i = t->node_cap; i < ncap; i++)
        t->last[i] = (pm_tlast){NULL, PM_NONE};
    t->node_cap = ncap;
    return 0;
}

pm_id pm_tracer_child_slow(pm_tracer *t, pm_id node, const void *key, pm_id frame)
{
    pm_id child = pm_node_child(t->p, node, frame, 0);
    if (child == PM_NONE || (child >= t->node_cap && pm_tracer_grow_nodes(t, child) != 0))
        return PM_NONE;
    if (node < t->node_cap)
        t->last[node] = (pm_tlast){key, child};
    return child;
}

int pm_tracer_commit(pm_tracer *t, double callee_bias_ns, double caller_bias_ns)
{
    int mc = pm_metric_add(t->p, "calls", "count");
    int mt = pm_metric_add(t->p, "time", "nanoseconds");
    if (mc < 0 || mt < 0)
        return -1;
    uint32_t n = pm_node_count(t->p);
    if (n > t->node_cap)
        n = t->node_cap;
    int64_t *sub = NULL;
    if (callee_bias_ns > 0 || caller_bias_ns > 0) {
        sub = calloc(n ? n : 1, sizeof *sub); /* calls of each node's children */
        if (!sub)
            return -1;
        for (uint32_t i = 1; i < n; i++) {
            const pm_node *d = pm_node_get(t->p, i);
            if (d->parent != PM_NONE && d->parent < n)
                sub[d->parent] += t->calls[i];
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!t->calls[i] && !t->ticks[i])
            continue;
        double ns = (double)t->ticks[i] * t->tick_ns;
        if (sub) {
            ns -= (double)t->calls[i] * callee_bias_ns + (double)sub[i] * caller_bias_ns;
            if (ns < 0)
                ns = 0;
        }
        pm_node_add(t->p, i, mc, t->calls[i]);
        pm_node_add(t->p, i, mt, (int64_t)llround(ns));
    }
    free(sub);
    return 0;
}
