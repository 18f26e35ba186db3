/* pm_heap_walk.c — the census: one pass over the GC-tracked objects, and
 * through tp_traverse to the untracked objects they hold (str, int, float,
 * tuples and dicts of atoms), each counted once thanks to an address set.
 *
 * No code but the interpreter's own runs during the pass: the traverse
 * callback only collects, an object whose size could run other code (a
 * __sizeof__ written in Python, or one from an extension) is referenced
 * and sized after the pass, and an exception a traverse leaves is released
 * after it too.  Not even the interpreter's own caches are touched: a new
 * type's __sizeof__ is read from its MRO's dicts, since filling a slot of
 * the type attribute cache releases the name the slot held (on 3.14 the
 * pass reaches such names through the interned-string dict, which holds
 * them without counting).  So nothing the pass looks at can be freed, and no
 * collection can start (none is allocated), while it runs: the pass needs
 * no reference to what it reads, and can follow the collector's own lists
 * in place rather than a list from gc.get_objects() (a million references
 * taken, and dropped again, for one read). */
#include "pm_heap.h"

#include <string.h>

/* Tracked objects are taken in batches: every object of a batch is
 * traversed first, collecting untracked referents, then their slots in the
 * address set are prefetched together, so the cache misses of the set
 * overlap instead of following one another. */
#define PM_WALK_BATCH 256

/* An object sized after the pass, and the slot of the type it was
 * counted under (the size goes there even if code changes its class). */
typedef struct {
    PyObject *o; /* strong */
    size_t type;
} later_size;

typedef struct {
    pm_ptrset *seen;
    pm_heap_objs cand;   /* referents of the batch, borrowed */
    pm_heap_objs stack;  /* new untracked objects to count, borrowed */
    pm_heap_objs drop;   /* references to release after the pass */
    later_size *later;
    size_t nlater, caplater;
    int failed;
} walk_ctx;

static int collect_referent(PyObject *r, void *arg)
{
    walk_ctx *w = arg;
    if (pm_heap_alive(r) && pm_heap_objs_push(&w->cand, r) != 0)
        w->failed = 1;
    return 0;
}

/* tp_traverse of o (and a dict's str keys) with our callback; what a
 * traverse raises (it should not) is dropped after each batch. */
static void traverse(PyObject *o, walk_ctx *w)
{
    traverseproc tr = Py_TYPE(o)->tp_traverse;
    if (!tr || !PyObject_IS_GC(o))
        return;
    (void)tr(o, collect_referent, w);
    pm_heap_dict_keys(o, collect_referent, w);
}

/* The referents of the batch: their headers fetched together, the tracked
 * ones dropped, the slots of the others fetched together, then each new
 * one into the address set and onto the stack. */
static void settle(walk_ctx *w)
{
    PyObject **cand = w->cand.items;
    size_t m = 0, n = w->cand.n;
    if (pm_ptrset_reserve(w->seen, n) != 0)
        w->failed = 1;
    for (size_t k = 0; k < n; k++)
        __builtin_prefetch(cand[k]);
    for (size_t k = 0; k < n; k++)
        if (!PyObject_GC_IsTracked(cand[k])) {
            cand[m++] = cand[k];
            pm_ptrset_prefetch(w->seen, (uintptr_t)cand[k]);
        }
    for (size_t k = 0; k < m; k++) {
        int added = pm_ptrset_add(w->seen, (uintptr_t)cand[k]);
        if (added <= 0) {
            w->failed |= added < 0;
            continue;
        }
        if (pm_heap_objs_push(&w->stack, cand[k]) != 0) {
            w->failed = 1;
            break;
        }
    }
    w->cand.n = 0;
}

/* What a traverse raised (it should not) is taken out of the way now and
 * released after the pass: releasing an exception can run its class's
 * code.  Out of memory, it is leaked rather than released early. */
static void park_error(walk_ctx *w)
{
    if (!PyErr_Occurred())
        return;
    PyObject *three[3];
    PyErr_Fetch(&three[0], &three[1], &three[2]);
    for (int i = 0; i < 3; i++)
        if (three[i] && pm_heap_objs_push(&w->drop, three[i]) != 0)
            w->failed = 1;
}

static int size_later(walk_ctx *w, PyObject *o, size_t type)
{
    if (w->nlater == w->caplater) {
        size_t cap = w->caplater ? 2 * w->caplater : 64;
        later_size *bigger = PyMem_RawRealloc(w->later, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        w->later = bigger;
        w->caplater = cap;
    }
    Py_INCREF(o);
    w->later[w->nlater].o = o;
    w->later[w->nlater++].type = type;
    return 0;
}

/* The tracked objects, a batch at a time: from a list, or from the
 * collector's generation lists (each circular through its head).  Each
 * step along a list waits for the memory of the object before it, so the
 * next batch is gathered a step at a time between pieces of work on the
 * current one: the work hides those waits, where a tight loop would pay
 * them object after object.  (Walking a list from both ends at once, two
 * chains of loads, was no faster: the forward walk alone runs mostly in
 * address order, which the hardware prefetches.) */
typedef struct {
    PyObject *list;
    Py_ssize_t at;
    pm_gc_link *heads[PM_GC_MAX_LISTS];
    int nheads, gen;
    pm_gc_link *cur;                /* the next object of list gen, or its head */
    PyObject *ahead[PM_WALK_BATCH]; /* the next batch so far */
    size_t nahead;
} source;

/* One more object into the next batch, if there is room and one left. */
static inline void step(source *s)
{
    if (s->nahead == PM_WALK_BATCH)
        return;
    if (s->list) {
        if (s->at < PyList_GET_SIZE(s->list))
            s->ahead[s->nahead++] = PyList_GET_ITEM(s->list, s->at++);
        return;
    }
    while (s->gen < s->nheads && s->cur == s->heads[s->gen])
        if (++s->gen < s->nheads)
            s->cur = s->heads[s->gen]->next;
    if (s->gen < s->nheads) {
        s->ahead[s->nahead++] = pm_gc_object(s->cur);
        s->cur = s->cur->next;
    }
}

/* The next batch into out (completed here if the work did not); its size,
 * 0 at the end. */
static size_t next_batch(source *s, PyObject **out)
{
    size_t before;
    do {
        before = s->nahead;
        step(s);
    } while (s->nahead != before);
    size_t n = s->nahead;
    memcpy(out, s->ahead, n * sizeof *out);
    s->nahead = 0;
    return n;
}

int pm_heap_census_in_place(void)
{
    pm_gc_link *heads[PM_GC_MAX_LISTS];
    size_t estimate;
    return pm_heap_gc_lists(heads, &estimate) > 0 && pm_heap_sizes_ready() == 0;
}

typedef struct {
    PyTypeObject *tp;
    pm_heap_type *t;
} type_cache;

static int count(pm_census *c, type_cache *tc, walk_ctx *w, PyObject *o, int tracked)
{
    pm_heap_type *t;
    if (Py_TYPE(o) == tc->tp)
        t = tc->t;
    else {
        t = pm_heap_types_get(&c->types, Py_TYPE(o));
        if (!t)
            return -1;
        tc->tp = Py_TYPE(o);
        tc->t = t;
    }
    t->count++;
    t->tracked += tracked != 0;
    if (t->may_run_code)
        return size_later(w, o, (size_t)(t - c->types.types));
    t->bytes += pm_heap_sizeof(t, o);
    return 0;
}

int pm_heap_census(pm_census *c, PyObject *objs, int untracked, pm_ptrset *addrs)
{
    c->tracked = c->untracked = 0;
    source src = {.list = objs};
    size_t expected = objs ? (size_t)PyList_GET_SIZE(objs) : 0;
    if (!objs) {
        src.nheads = pm_heap_gc_lists(src.heads, &expected);
        if (src.nheads == 0 || pm_heap_sizes_ready() != 0) {
            PyErr_SetString(PyExc_RuntimeError, "the collector's lists cannot be read in place on this build");
            return -1;
        }
        src.cur = src.heads[0]->next;
    } else
        (void)pm_heap_sizes_ready(); /* without it, a new type's first sight could run code */
    if (pm_heap_types_init(&c->types) != 0)
        return -1;
    pm_ptrset seen = {0};
    walk_ctx w = {&seen, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}, NULL, 0, 0, 0};
    if ((untracked && pm_ptrset_init(&seen, expected) != 0) || (addrs && pm_ptrset_init(addrs, expected) != 0)) {
        pm_ptrset_free(&seen);
        pm_heap_types_free(&c->types);
        PyErr_NoMemory();
        return -1;
    }
    type_cache tc = {NULL, NULL};
    int rc = 0;
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *batch[PM_WALK_BATCH];
    size_t nb;
    while (rc == 0 && (nb = next_batch(&src, batch)) > 0) {
        if (untracked) {
            for (size_t j = 0; j < nb; j++) {
                step(&src);
                traverse(batch[j], &w);
            }
            settle(&w);
            park_error(&w);
        }
        for (size_t j = 0; rc == 0 && j < nb; j++) {
            step(&src);
            rc = count(c, &tc, &w, batch[j], 1);
            c->tracked++;
            if (addrs && pm_ptrset_add(addrs, (uintptr_t)batch[j]) < 0)
                w.failed = 1;
        }
        while (rc == 0 && w.stack.n) {
            PyObject *u = w.stack.items[--w.stack.n];
            rc = count(c, &tc, &w, u, 0);
            c->untracked++;
            if (PyObject_IS_GC(u)) { /* an untracked tuple or dict holds more */
                traverse(u, &w);
                settle(&w);
                park_error(&w);
            }
        }
        if (w.failed && rc == 0)
            rc = -1;
    }
    /* The pass is over and no longer reads anything it does not hold: code
     * may run from here on (and may free, or collect, what it likes). */
    for (size_t k = 0; k < w.nlater; k++) {
        if (rc == 0) {
            pm_heap_type *t = &c->types.types[w.later[k].type];
            t->bytes += pm_heap_sizeof(t, w.later[k].o);
        }
        Py_DECREF(w.later[k].o);
    }
    while (w.drop.n)
        Py_DECREF(w.drop.items[--w.drop.n]);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    if (rc != 0 && !PyErr_Occurred())
        PyErr_NoMemory();
    PyMem_RawFree(w.later);
    PyMem_RawFree(w.drop.items);
    PyMem_RawFree(w.stack.items);
    PyMem_RawFree(w.cand.items);
    pm_ptrset_free(&seen);
    if (rc != 0) {
        pm_heap_types_free(&c->types);
        if (addrs)
            pm_ptrset_free(addrs);
    }
    return rc;
}

void pm_census_free(pm_census *c)
{
    pm_heap_types_free(&c->types);
}
