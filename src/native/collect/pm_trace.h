/* pm_trace.h — the core of `pyrometer trace` (stdlib trace's modes, in C):
 * exact line counts per code object, the functions called, the caller ->
 * callee pairs, and a bounded log of the lines as they ran.  No Python.h:
 * the hooks live in bind/pm_bind_trace.c and call the inline functions
 * below.
 *
 * Code objects are identified by address, each given a dense index on first
 * sight (the binding keeps the object alive, so an address is never reused
 * while the session lives).  An index is either traced (its lines counted)
 * or out (ignored: stdlib, --ignore-*, not a --target).  Fed under the GIL;
 * not thread-safe by itself.
 */
#ifndef PM_TRACE_H
#define PM_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* pm_trace_find's answer for an address never seen. */
#define PM_TRACE_UNSEEN UINT32_MAX

typedef struct {
    const void *key;
    uint32_t idx;
} pm_trslot;

typedef struct {
    int32_t base;     /* line number of hits[0] */
    uint32_t n;       /* lines held */
    int64_t *hits;
    uint8_t traced;   /* 0: out of scope */
    uint8_t called;   /* a call (or resumption) was seen */
} pm_trcode;

/* One line of the --trace log. */
typedef struct {
    uint32_t thread;  /* the binding's thread index */
    uint32_t code;
    int32_t line;
    int64_t t;        /* clock ticks */
} pm_trline;

typedef struct {
    pm_trslot *slots; /* address -> index, open addressing, load <= 1/2 */
    uint32_t slot_cap;
    pm_trcode *codes;
    uint32_t ncodes, codes_cap;
    uint64_t *pairs;  /* set of ((parent + 1) << 32 | (child + 1)); 0 is empty */
    uint32_t pair_cap, npairs;
    pm_trline *log;
    uint64_t log_cap, log_alloc, nlog, log_dropped;
    int oom;
} pm_trace;

/* log_cap: lines kept by pm_trace_log (0: no log). */
pm_trace *pm_trace_new(uint64_t log_cap);
void pm_trace_free(pm_trace *T);
/* Records a new address as traced or out; its index, or PM_TRACE_UNSEEN on OOM. */
uint32_t pm_trace_add(pm_trace *T, const void *key, int traced);
/* Slow paths (-1 on OOM: the event is not counted and T->oom is set). */
int pm_trace_grow_lines(pm_trace *T, pm_trcode *c, int32_t line);
int pm_trace_pair(pm_trace *T, uint32_t parent, uint32_t child);
int pm_trace_log_grow(pm_trace *T);

static inline uint32_t pm_trace_hash(const void *key, uint32_t mask)
{
    uint64_t k = (uint64_t)(uintptr_t)key;
    return (uint32_t)(((k >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static inline uint32_t pm_trace_find(const pm_trace *T, const void *key)
{
    if (!T->slot_cap)
        return PM_TRACE_UNSEEN;
    uint32_t mask = T->slot_cap - 1;
    for (uint32_t i = pm_trace_hash(key, mask);; i = (i + 1) & mask) {
        if (T->slots[i].key == key)
            return T->slots[i].idx;
        if (!T->slots[i].key)
            return PM_TRACE_UNSEEN;
    }
}

/* One execution of line in code idx (a traced code). */
static inline void pm_trace_hit(pm_trace *T, uint32_t idx, int32_t line)
{
    pm_trcode *c = &T->codes[idx];
    if ((uint32_t)(line - c->base) >= c->n && pm_trace_grow_lines(T, c, line) != 0)
        return;
    c->hits[line - c->base]++;
}

/* line of code idx ran at least once (--coverage-only: a line that starts
 * two instruction ranges is reported once per range). */
static inline void pm_trace_mark(pm_trace *T, uint32_t idx, int32_t line)
{
    pm_trcode *c = &T->codes[idx];
    if ((uint32_t)(line - c->base) >= c->n && pm_trace_grow_lines(T, c, line) != 0)
        return;
    c->hits[line - c->base] = 1;
}

/* Appends a line to the log; 0, or 1 when the log is full (the line is
 * counted in log_dropped). */
static inline int pm_trace_log(pm_trace *T, uint32_t thread, uint32_t idx, int32_t line, int64_t t)
{
    if (T->nlog >= T->log_cap) {
        T->log_dropped++;
        return 1;
    }
    if (T->nlog == T->log_alloc && pm_trace_log_grow(T) != 0) {
        T->log_dropped++;
        return 1;
    }
    pm_trline *r = &T->log[T->nlog++];
    r->thread = thread;
    r->code = idx;
    r->line = line;
    r->t = t;
    return 0;
}

#endif
