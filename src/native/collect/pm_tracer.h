/* pm_tracer.h — the deterministic (calls) tracer's core: per-thread context
 * stacks that feed the profile model's trie, a pointer → frame map, and the
 * clock.  No Python.h: the hook glue lives in bind/pm_bind_tracer.c, which
 * calls the static inline functions below from its hooks.
 *
 * Semantics (cProfile's, see Modules/_lsprof.c): a call event pushes a
 * context (node, start time, time spent in sub-calls) after reading the clock
 * once; a return event with a non-empty stack reads the clock once and pops
 * the top context, charging its node one call and its self ("inline") time,
 * and adding its inclusive time to the parent's sub-call time.  A return with
 * an empty stack is ignored without reading the clock.  Stopping pops every
 * open context, one clock read each.  Recursion, primitive calls and callers
 * are derived from the trie afterwards (pm_callstats.h).
 *
 * The tracer is fed under the GIL; it is not thread-safe by itself.
 */
#ifndef PM_TRACER_H
#define PM_TRACER_H

#include <stdint.h>
#include <stddef.h>

#include "model/pm_idmap.h"
#include "model/pm_model.h"

/* Frame value of a key that is out of the profile's scope. */
#define PM_TRACER_OUT (PM_NONE - 1u)

typedef struct {
    const void *key;   /* what entered (a return of the same key needs no look-up) */
    pm_id node;        /* trie node of this call path */
    int64_t t0;        /* clock at entry (ticks) */
    int64_t subt;      /* inclusive ticks of finished sub-calls */
} pm_tctx;

/* One-entry cache per node: the key last entered from it and its child.
 * Per node, not per open call, so it outlives the call: a recursion or a
 * loop calling the same function finds its child with no look-up at all. */
typedef struct {
    const void *key;
    pm_id child;
} pm_tlast;

typedef struct {
    pm_id thread;      /* model thread index */
    pm_id root;        /* its root node */
    uint64_t ident, native_id;
    pm_tctx *stack;
    uint32_t depth, cap;
} pm_tthread;

typedef struct {
    void *key;
    pm_id frame;
} pm_tslot;

/* A timeline event as the tracer keeps it until the hand-over: the raw
 * clock, converted to the model's nanoseconds once, when handed over. */
typedef struct {
    int64_t t;         /* clock (ticks) */
    pm_id thread;      /* model thread index */
    pm_id node;        /* innermost open call's node, PM_NONE when none */
} pm_tlevent;

typedef struct pm_tracer {
    pm_profile *p;
    /* key (code object / PyMethodDef address) → frame, open addressing */
    pm_tslot *slots;
    uint32_t slot_cap, slot_used;
    /* per node: calls and self ticks, indexed by node id */
    int64_t *calls, *ticks;
    pm_tlast *last;
    uint32_t node_cap;
    pm_tthread **threads;
    uint32_t nthreads, threads_cap;
    pm_idmap thread_index; /* (ident, OS id) -> index in threads: a scan made N threads cost O(N^2) */
    double tick_ns;    /* nanoseconds per clock tick */
    int oom;
    int timeline;      /* timeline mode: every call and return is an event */
    int64_t tl_t0;     /* the clock at the timeline's zero */
    /* Timeline mode: the newest tl_cap events, a ring the hooks write to and
     * pm_tracer_timeline_hand_over empties into the model.  The model's own
     * store, fed one call per event, checks each event and, when full, moves
     * three quarters of itself to drop the oldest quarter: a ring of our own
     * costs one comparison per event, and every event in it is kept. */
    pm_tlevent *tl;
    size_t tl_pos;     /* next slot to write */
    size_t tl_end;     /* slots allocated (grows up to tl_cap) */
    size_t tl_cap;     /* the timeline's capacity in events */
    uint64_t tl_laps;  /* times the ring wrapped: tl_pos is then also its oldest event */
    uint64_t tl_lost;  /* events not kept for want of memory */
} pm_tracer;

pm_tracer *pm_tracer_new(pm_profile *p);
void pm_tracer_free(pm_tracer *t);
/* Slow path of pm_tracer_key_find: records key → frame (frame may be
 * PM_TRACER_OUT).  0 or -1 (OOM). */
int pm_tracer_key_add(pm_tracer *t, void *key, pm_id frame);
/* The per-thread state of (ident, native_id), created on first use. */
pm_tthread *pm_tracer_thread(pm_tracer *t, uint64_t ident, uint64_t native_id);
/* Grows the stack / node arrays; -1 on OOM (the event is then dropped). */
int pm_tracer_grow_stack(pm_tthread *ts);
int pm_tracer_grow_nodes(pm_tracer *t, pm_id node);
/* The child of node for frame, found or added in the trie and remembered as
 * node's last child, entered by key (PM_NONE: OOM). */
pm_id pm_tracer_child_slow(pm_tracer *t, pm_id node, const void *key, pm_id frame);
/* Writes calls and self time (ns, less callee_bias_ns per call and
 * caller_bias_ns per sub-call, floored at 0) into the model's metrics
 * "calls" and "time".  Leaves the tracer's own figures untouched. */
int pm_tracer_commit(pm_tracer *t, double callee_bias_ns, double caller_bias_ns);

/* ---- the clock: TSC when it is invariant, else CLOCK_MONOTONIC --------- */
/* Calibrates once per process; returns nanoseconds per tick. */
double pm_clock_calibrate(void);
int pm_clock_is_tsc(void);
int64_t pm_clock_mono_ns(void);

static inline int64_t pm_clock_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
    extern int pm_clock_use_tsc;
    if (pm_clock_use_tsc) {
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        return (int64_t)(((uint64_t)hi << 32) | lo);
    }
#endif
    return pm_clock_mono_ns();
}

/* ---- timeline mode (pm_tracer_timeline.c) ------------------------------ */
/* Makes room for one more event when the ring's allocation is used up:
 * grows it up to tl_cap, then wraps (the oldest event is overwritten next).
 * -1 when the ring has no slot at all (OOM: the event is lost, counted). */
int pm_tracer_timeline_room(pm_tracer *t);
/* Moves the ring's events, oldest first, into the model's timeline (in ns
 * since tl_t0) with the count of those overwritten or lost as dropped, and
 * empties the ring.  0, or -1 when the model refused some, as
 * pm_timeline_add does (timeline disabled, a node of another thread). */
int pm_tracer_timeline_hand_over(pm_tracer *t);

/* Timeline mode: the thread's stack after a call or return (its innermost
 * open call's node, PM_NONE when none is open) becomes a timeline event at
 * now: one comparison and a 16-byte store. */
static inline void pm_tracer_timeline(pm_tracer *t, const pm_tthread *ts, int64_t now)
{
    if (t->tl_pos == t->tl_end && pm_tracer_timeline_room(t) != 0)
        return;
    pm_tlevent *e = &t->tl[t->tl_pos++];
    e->t = now;
    e->thread = ts->thread;
    e->node = ts->depth ? ts->stack[ts->depth - 1].node : PM_NONE;
}

/* ---- hot path ---------------------------------------------------------- */
static inline uint32_t pm_tracer_hash(const void *key, uint32_t mask)
{
    uint64_t k = (uint64_t)(uintptr_t)key;
    return (uint32_t)(((k >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* PM_NONE when the key was never seen. */
static inline pm_id pm_tracer_key_find(const pm_tracer *t, const void *key)
{
    if (!t->slot_cap)
        return PM_NONE;
    uint32_t mask = t->slot_cap - 1;
    for (uint32_t i = pm_tracer_hash(key, mask);; i = (i + 1) & mask) {
        const pm_tslot *s = &t->slots[i];
        if (s->key == key)
            return s->frame;
        if (!s->key)
            return PM_NONE;
    }
}

/* The node a call of key from the top call goes to, when key is the last
 * one entered from there; else PM_NONE (find key's frame, pm_tracer_enter). */
static inline pm_id pm_tracer_cached(const pm_tracer *t, const pm_tthread *ts, const void *key)
{
    /* Every node on a stack is below node_cap (checked when pushed). */
    pm_id up = ts->depth ? ts->stack[ts->depth - 1].node : ts->root;
    return up < t->node_cap && t->last[up].key == key ? t->last[up].child : PM_NONE;
}

/* cProfile's initContext for a call of key to node (pm_tracer_cached); the
 * clock is read by the caller just before. */
static inline void pm_tracer_push(pm_tracer *t, pm_tthread *ts, const void *key, pm_id node, int64_t now)
{
    if (ts->depth == ts->cap && pm_tracer_grow_stack(ts) != 0) {
        t->oom = 1;
        return;
    }
    pm_tctx *c = &ts->stack[ts->depth++];
    c->key = key;
    c->node = node;
    c->t0 = now;
    c->subt = 0;
    if (t->timeline)
        pm_tracer_timeline(t, ts, now);
}

/* The same for key's frame (known, in scope) when the cache missed. */
static inline void pm_tracer_enter(pm_tracer *t, pm_tthread *ts, const void *key, pm_id frame, int64_t now)
{
    pm_id up = ts->depth ? ts->stack[ts->depth - 1].node : ts->root;
    pm_id node = pm_tracer_child_slow(t, up, key, frame);
    if (node == PM_NONE) {
        t->oom = 1;
        return;
    }
    pm_tracer_push(t, ts, key, node, now);
}

/* cProfile's Stop for the top context (the stack must not be empty). */
static inline void pm_tracer_leave(pm_tracer *t, pm_tthread *ts, int64_t now)
{
    pm_tctx *c = &ts->stack[--ts->depth];
    int64_t tt = now - c->t0;
    t->calls[c->node]++;
    t->ticks[c->node] += tt - c->subt;
    if (ts->depth)
        ts->stack[ts->depth - 1].subt += tt;
    if (t->timeline)
        pm_tracer_timeline(t, ts, now);
}

#endif
