/* pm_heap_walk.c — the census: one pass over the GC-tracked objects, and
 * through tp_traverse to the untracked objects they hold (str, int, float,
 * tuples and dicts of atoms), each counted once thanks to an address set.
 *
 * The traverse callback only collects: it takes a reference to each new
 * untracked referent and stacks it.  Sizing (which may call a __sizeof__
 * written in Python) and releasing happen after the traverse returned, so
 * no Python code runs while a container is being walked, and an object the
 * program frees meanwhile cannot be read: every object read is either in
 * the list (a strong reference) or on the stack (one of ours). */
#include "pm_heap.h"

typedef struct {
    pm_ptrset *seen;
    PyObject **stack;
    size_t sp, cap;
    int failed;
} walk_ctx;

static int visit_untracked(PyObject *r, void *arg)
{
    walk_ctx *w = arg;
    if (!r || PyObject_GC_IsTracked(r))
        return 0;
    int added = pm_ptrset_add(w->seen, (uintptr_t)r);
    if (added <= 0) {
        w->failed |= added < 0;
        return 0;
    }
    if (w->sp == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 1024;
        PyObject **bigger = PyMem_RawRealloc(w->stack, cap * sizeof *bigger);
        if (!bigger) {
            w->failed = 1;
            return 0;
        }
        w->stack = bigger;
        w->cap = cap;
    }
    Py_INCREF(r);
    w->stack[w->sp++] = r;
    return 0;
}

/* tp_traverse of o with our callback; whatever it raises is dropped. */
static void traverse(PyObject *o, walk_ctx *w)
{
    traverseproc tr = Py_TYPE(o)->tp_traverse;
    if (!tr || !PyObject_IS_GC(o))
        return;
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    (void)tr(o, visit_untracked, w);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
    pm_heap_dict_keys(o, visit_untracked, w);
}

static int count(pm_census *c, PyObject *o, int tracked)
{
    pm_heap_type *t = pm_heap_types_get(&c->types, Py_TYPE(o));
    if (!t)
        return -1;
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
    walk_ctx w = {&seen, NULL, 0, 0, 0};
    if ((untracked && pm_ptrset_init(&seen, (size_t)n) != 0) || (addrs && pm_ptrset_init(addrs, (size_t)n) != 0)) {
        pm_ptrset_free(&seen);
        PyErr_NoMemory();
        return -1;
    }
    int rc = 0;
    /* The list may shrink under a __sizeof__ that mutates it: re-read its
     * size each time. */
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(objs); i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        Py_INCREF(o);
        rc = count(c, o, 1);
        c->tracked++;
        if (addrs && pm_ptrset_add(addrs, (uintptr_t)o) < 0)
            w.failed = 1;
        if (untracked && rc == 0) {
            traverse(o, &w);
            while (w.sp) {
                PyObject *u = w.stack[--w.sp];
                if (rc == 0) {
                    rc = count(c, u, 0);
                    c->untracked++;
                    traverse(u, &w); /* an untracked tuple or dict holds more */
                }
                Py_DECREF(u);
            }
        }
        Py_DECREF(o);
        if (w.failed && rc == 0) {
            PyErr_NoMemory();
            rc = -1;
        }
    }
    while (w.sp)
        Py_DECREF(w.stack[--w.sp]);
    PyMem_RawFree(w.stack);
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
