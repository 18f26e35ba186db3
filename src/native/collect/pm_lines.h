/* pm_lines.h — the line tracer's core (lines mode, pyrometer.LineProfiler):
 * per-thread activation stacks, per-thread per-function line tables, and the
 * hand-over to the profile model.  No Python.h: the hooks live in
 * bind/pm_bind_lines.c and call the static inline functions below.
 *
 * Semantics (line_profiler's, plus recursion that is not double-counted):
 * - A line event counts one hit for its line and ends the previous line of
 *   the same activation, which is charged the time since its own event
 *   (callees included, as line_profiler does).  A return (or yield, or an
 *   exception leaving the frame) ends the last line.
 * - Recursion: an activation of function F that returns while an outer
 *   activation of F is still on the thread's stack (directly or through
 *   other functions) hands its duration, from its first line event to its
 *   return, to that outer activation, whose running line is charged that
 *   much less.  So per function, the line times add up exactly (in ticks)
 *   to the time of its outermost activations, whatever the recursion.
 * - Generators/coroutines: each resumption is an activation; time while
 *   suspended is nobody's.
 *
 * Functions are identified by model frame id (dense), so per-thread tables
 * are arrays indexed by frame.  Fed under the GIL; not thread-safe itself.
 */
#ifndef PM_LINES_H
#define PM_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "model/pm_idmap.h"
#include "model/pm_model.h"

/* Frame value of a code object that is not a target. */
#define PM_LINES_OUT (PM_NONE - 1u)

typedef struct {
    int32_t base;      /* line number of index 0 */
    uint32_t n;        /* lines held */
    int64_t *hits;
    int64_t *ticks;
    int64_t *c_hits, *c_ticks; /* what pm_lines_commit already wrote */
    int64_t calls;     /* activations that ended (every resumption counts) */
    int64_t total;     /* ticks of outermost activations (first line to end) */
} pm_lfdata;

typedef struct {
    pm_id frame;
    int32_t line;      /* line running now, 0 before the first line event */
    int32_t prev_same; /* stack index of the enclosing activation of the same frame, -1 none */
    const void *key;   /* the code object (to match events to activations) */
    pm_lfdata *fd;
    int64_t t_line;    /* clock at the running line's event */
    int64_t t_first;   /* clock at the first line event */
    int64_t sub;       /* ticks of nested same-function activations during the running line */
} pm_lact;

typedef struct {
    uint64_t ident, native_id;
    pm_lact *stack;
    uint32_t depth, cap;
    pm_lfdata **fd;    /* per frame id, NULL until used */
    int32_t *top_of;   /* per frame id: stack index of its innermost activation, -1 none */
    uint32_t nfd;
} pm_lthread;

typedef struct {
    const void *key;
    pm_id frame;
} pm_lslot;

typedef struct {
    pm_profile *p;
    pm_lslot *slots;   /* code object → frame (or PM_LINES_OUT), open addressing */
    uint32_t slot_cap, slot_used;
    pm_lthread **threads;
    uint32_t nthreads, threads_cap;
    pm_idmap thread_index; /* (ident, OS id) -> index in threads: a scan made N threads cost O(N^2) */
    double tick_ns;
    int oom;
} pm_lines;

pm_lines *pm_lines_new(pm_profile *p, double tick_ns);
void pm_lines_free(pm_lines *L);
/* Records key → frame (frame may be PM_LINES_OUT).  0 or -1 (OOM). */
int pm_lines_key_add(pm_lines *L, const void *key, pm_id frame);
pm_lthread *pm_lines_thread(pm_lines *L, uint64_t ident, uint64_t native_id);
/* Slow paths of the inline functions (-1 on OOM: the event is dropped). */
int pm_lines_push_slow(pm_lines *L, pm_lthread *ts, pm_id frame);
int pm_lines_grow_lines(pm_lfdata *fd, int32_t line);
/* Ends every open activation of every thread at `now`. */
void pm_lines_flush(pm_lines *L, int64_t now);
/* Writes the figures into the model: under each thread's root a node per
 * function (frame, line 0) and below it a node per line (frame, line), with
 * the metrics "hits" (count) and "time" (nanoseconds) as self values of the
 * line nodes.  Adds only what is new since the last commit.  0 or -1. */
int pm_lines_commit(pm_lines *L);

/* Per-line figures read back from a model (any lines profile, e.g. a file):
 * line nodes are those whose parent has the same frame; rows are merged over
 * threads and sorted by (frame, line). */
typedef struct {
    pm_id frame;
    int32_t line;
    int64_t hits;
    int64_t time;
} pm_lrow;
/* 0 or -1 (OOM / missing metric); *rows is malloc'd (free it). */
int pm_lines_rows(const pm_profile *p, int hits_metric, int time_metric, pm_id thread, pm_lrow **rows,
                  uint32_t *nrows);

/* ---- hot path ---------------------------------------------------------- */
static inline uint32_t pm_lines_hash(const void *key, uint32_t mask)
{
    uint64_t k = (uint64_t)(uintptr_t)key;
    return (uint32_t)(((k >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* PM_NONE when the key was never seen. */
static inline pm_id pm_lines_key_find(const pm_lines *L, const void *key)
{
    if (!L->slot_cap)
        return PM_NONE;
    uint32_t mask = L->slot_cap - 1;
    for (uint32_t i = pm_lines_hash(key, mask);; i = (i + 1) & mask) {
        const pm_lslot *s = &L->slots[i];
        if (s->key == key)
            return s->frame;
        if (!s->key)
            return PM_NONE;
    }
}

/* A new activation of frame (key: its code object) on top of the stack. */
static inline void pm_lines_enter(pm_lines *L, pm_lthread *ts, pm_id frame, const void *key)
{
    if ((ts->depth == ts->cap || frame >= ts->nfd || !ts->fd[frame]) && pm_lines_push_slow(L, ts, frame) != 0) {
        L->oom = 1;
        return;
    }
    uint32_t i = ts->depth++;
    pm_lact *a = &ts->stack[i];
    a->frame = frame;
    a->line = 0;
    a->key = key;
    a->fd = ts->fd[frame];
    a->sub = 0;
    a->t_line = a->t_first = 0;
    a->prev_same = ts->top_of[frame];
    ts->top_of[frame] = (int32_t)i;
}

static inline void pm_lines_charge(pm_lact *a, int64_t now)
{
    uint32_t j = (uint32_t)(a->line - a->fd->base);
    a->fd->ticks[j] += now - a->t_line - a->sub;
    a->sub = 0;
}

/* A line event of the top activation. */
static inline void pm_lines_line(pm_lthread *ts, int32_t line, int64_t now)
{
    pm_lact *a = &ts->stack[ts->depth - 1];
    if (a->line) {
        pm_lines_charge(a, now);
    } else {
        a->t_first = now;
        a->sub = 0;
    }
    pm_lfdata *fd = a->fd;
    if ((uint32_t)(line - fd->base) >= fd->n && pm_lines_grow_lines(fd, line) != 0) {
        a->line = 0; /* OOM: this line is not counted */
        return;
    }
    fd->hits[line - fd->base]++;
    a->line = line;
    a->t_line = now;
}

/* The top activation ends (return, yield, exception). */
static inline void pm_lines_leave(pm_lthread *ts, int64_t now)
{
    pm_lact *a = &ts->stack[--ts->depth];
    ts->top_of[a->frame] = a->prev_same;
    a->fd->calls++;
    if (!a->line)
        return;
    pm_lines_charge(a, now);
    int64_t dur = now - a->t_first;
    if (a->prev_same >= 0)
        ts->stack[a->prev_same].sub += dur;
    else
        a->fd->total += dur;
}

#endif
