/* pm_heap_walk.c — the census: one pass over the GC-tracked objects, and
 * through tp_traverse to the untracked objects they hold (str, int, float,
 * tuples and dicts of atoms), each counted once thanks to an address set.
 *
 * The traverse callback only collects.  Sizing (which may call a
 * __sizeof__ written in Python) and releasing happen after every collected
 * referent was referenced, so no Python code runs while a container is
 * being walked, and an object the program frees meanwhile cannot be read:
 * every object read is either in the list (a strong reference) or on the
 * stack (one of ours). */
#include "pm_heap.h"

/* Tracked objects are taken in batches: every object of a batch is
 * traversed first, collecting untracked referents (borrowed: no code runs
 * until they are all referenced), then their slots in the address set are
 * prefetched together, so the cache misses of the set overlap instead of
 * following one another. */
#define PM_WALK_BATCH 256

typedef struct {
    pm_ptrset *seen;
    pm_heap_objs cand;   /* referents of the batch, borrowed */
    pm_heap_objs stack;  /* new untracked objects, referenced, to size */
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
 * one into the address set, referenced and stacked. */
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
        Py_INCREF(cand[k]);
    }
    w->cand.n = 0;
}

typedef struct {
    PyTypeObject *tp;
    pm_heap_type *t;
} type_cache;

static int count(pm_census *c, type_cache *tc, PyObject *o, int tracked)
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
    t->bytes += pm_heap_sizeof(t, o);
    return 0;
}

int pm_heap_census(pm_census *c, PyObject *objs, int untracked, pm_ptrset *addrs)
{
    c->tracked = c->untracked = 0;
    if (pm_heap_types_init(&c->types) != 0)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(objs);
    pm_ptrset seen = {0};
    walk_ctx w = {&seen, {NULL, 0, 0}, {NULL, 0, 0}, 0};
    if ((untracked && pm_ptrset_init(&seen, (size_t)n) != 0) || (addrs && pm_ptrset_init(addrs, (size_t)n) != 0)) {
        pm_ptrset_free(&seen);
        PyErr_NoMemory();
        return -1;
    }
    type_cache tc = {NULL, NULL};
    int rc = 0;
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    /* The list is ours alone, but re-read its size all the same. */
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(objs); i += PM_WALK_BATCH) {
        Py_ssize_t end = i + PM_WALK_BATCH;
        if (end > PyList_GET_SIZE(objs))
            end = PyList_GET_SIZE(objs);
        if (untracked) {
            for (Py_ssize_t j = i; j < end; j++)
                traverse(PyList_GET_ITEM(objs, j), &w);
            settle(&w);
            if (PyErr_Occurred())
                PyErr_Clear();
        }
        for (Py_ssize_t j = i; rc == 0 && j < end && j < PyList_GET_SIZE(objs); j++) {
            PyObject *o = PyList_GET_ITEM(objs, j); /* the list's reference */
            rc = count(c, &tc, o, 1);
            c->tracked++;
            if (addrs && pm_ptrset_add(addrs, (uintptr_t)o) < 0)
                w.failed = 1;
        }
        /* Sizing may run Python code (a __sizeof__ of Python), so the type
         * cache is not trusted across it: a type can die and its address
         * be reused.  Types in the table are referenced, so that cannot
         * happen to them: the cache stays valid. */
        while (w.stack.n) {
            PyObject *u = w.stack.items[--w.stack.n];
            if (rc == 0) {
                rc = count(c, &tc, u, 0);
                c->untracked++;
                if (PyObject_IS_GC(u)) { /* an untracked tuple or dict holds more */
                    traverse(u, &w);
                    settle(&w);
                    if (PyErr_Occurred())
                        PyErr_Clear();
                }
            }
            Py_DECREF(u);
        }
        if (w.failed && rc == 0)
            rc = -1;
    }
    PyErr_Restore(exc_type, exc_value, exc_tb);
    if (rc != 0 && !PyErr_Occurred())
        PyErr_NoMemory();
    while (w.stack.n)
        Py_DECREF(w.stack.items[--w.stack.n]);
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
