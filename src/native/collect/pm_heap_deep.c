/* pm_heap_deep.c — deep size with Pympler asizeof's rules (its defaults):
 * every object reachable from the start counts once, at its sys.getsizeof
 * rounded up to 8 bytes; classes, functions, methods, builtins, code
 * objects and frames count nothing and are not followed (asizeof's
 * code=False, frames=False); a module is followed only when it is the
 * object asked about; a bare object() is ignored.  An instance is followed
 * to its __dict__ (read as asizeof reads it: made when missing, and on
 * 3.11+ the dict a managed-dict instance shows) and its slots.
 *
 * Iterative (no recursion limit) with an address set; every object on the
 * stack holds a reference of ours, and sizing (which may call Python code)
 * happens outside the traverse callback. */
#include "pm_heap.h"

#include <frameobject.h>

#define PM_DEEP_BATCH 256

typedef struct {
    pm_ptrset seen;
    pm_heap_objs stack;  /* to visit, referenced */
    pm_heap_objs cand;   /* referents of the batch being visited, borrowed */
    int failed;
} deep_ctx;

/* r onto the stack (referenced) unless seen before. */
static void push(deep_ctx *d, PyObject *r)
{
    int added = pm_ptrset_add(&d->seen, (uintptr_t)r);
    if (added <= 0)
        d->failed |= added < 0;
    else if (pm_heap_objs_push(&d->stack, r) != 0)
        d->failed = 1;
    else
        Py_INCREF(r);
}

static int collect(PyObject *r, void *arg)
{
    deep_ctx *d = arg;
    if (pm_heap_alive(r) && pm_heap_objs_push(&d->cand, r) != 0)
        d->failed = 1;
    return 0;
}

/* The batch's referents: set slots fetched together, then pushed. */
static void settle(deep_ctx *d)
{
    if (pm_ptrset_reserve(&d->seen, d->cand.n) != 0)
        d->failed = 1;
    for (size_t k = 0; k < d->cand.n; k++)
        pm_ptrset_prefetch(&d->seen, (uintptr_t)d->cand.items[k]);
    for (size_t k = 0; k < d->cand.n; k++)
        push(d, d->cand.items[k]);
    d->cand.n = 0;
}

/* asizeof's "code only" and ignored kinds: no size, not followed.  Asked
 * once per type (the answer is kept in the type's entry). */
static int skipped_type(PyTypeObject *tp)
{
    return PyType_FastSubclass(tp, Py_TPFLAGS_TYPE_SUBCLASS) || tp == &PyFunction_Type || tp == &PyCFunction_Type ||
           tp == &PyCMethod_Type || tp == &PyMethod_Type || tp == &PyCode_Type || tp == &PyFrame_Type ||
           tp == &PyBaseObject_Type || tp == &PyMethodDescr_Type || tp == &PyClassMethodDescr_Type ||
           tp == &PyWrapperDescr_Type;
}

/* An instance with a __dict__ slot (asizeof reads __dict__, which makes
 * an empty one where there was none, and on 3.11+ gives a managed-dict
 * instance its dict). */
static int has_dict(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (PyType_Check(o) || PyModule_Check(o))
        return 0;
#if PY_VERSION_HEX >= 0x030B0000
    if (PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT))
        return 1;
#endif
    return tp->tp_dictoffset != 0 && PyType_HasFeature(tp, Py_TPFLAGS_HEAPTYPE);
}

int64_t pm_heap_deep_size(PyObject *start)
{
    deep_ctx d = {{0}, {NULL, 0, 0}, {NULL, 0, 0}, 0};
    PyObject *batch[PM_DEEP_BATCH];
    if (pm_ptrset_init(&d.seen, 64) != 0) { /* grows fourfold while small */
        PyErr_NoMemory();
        return -1;
    }
    pm_heap_types types;
    if (pm_heap_types_init(&types) != 0) {
        pm_ptrset_free(&d.seen);
        return -1;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    int64_t total = 0;
    pm_heap_type *last = NULL;
    PyTypeObject *last_tp = NULL;
    push(&d, start);
    while (d.stack.n && !d.failed) {
        /* Sizes first (they may run code: every object involved is ours),
         * then the traverses, which run none, then the new referents
         * referenced before any code can run again. */
        size_t nb = 0;
        while (d.stack.n && nb < PM_DEEP_BATCH)
            batch[nb++] = d.stack.items[--d.stack.n];
        for (size_t k = 0; k < nb && !d.failed; k++) {
            PyObject *o = batch[k];
            pm_heap_type *t = Py_TYPE(o) == last_tp ? last : pm_heap_types_get(&types, Py_TYPE(o));
            if (!t) {
                d.failed = 1;
                break;
            }
            if (t != last) {
                last = t;
                last_tp = Py_TYPE(o);
                if (!t->deep_known) {
                    t->deep_known = 1;
                    t->deep_skip = skipped_type(last_tp);
                }
            }
            if (t->deep_skip) {
                batch[k] = NULL; /* not traversed either */
                Py_DECREF(o);
                continue;
            }
            total += (int64_t)((pm_heap_sizeof(t, o) + 7) & ~(size_t)7);
            if (has_dict(o)) {
                PyObject *dict = PyObject_GenericGetDict(o, NULL);
                if (dict) {
                    push(&d, dict);
                    Py_DECREF(dict);
                } else
                    PyErr_Clear();
            }
        }
        for (size_t k = 0; k < nb && !d.failed; k++) {
            PyObject *o = batch[k];
            if (!o || (o != start && PyModule_Check(o)))
                continue;
            traverseproc tr = Py_TYPE(o)->tp_traverse;
            if (tr && PyObject_IS_GC(o))
                (void)tr(o, collect, &d);
            pm_heap_dict_keys(o, collect, &d);
        }
        settle(&d);
        if (PyErr_Occurred())
            PyErr_Clear();
        for (size_t k = 0; k < nb; k++)
            Py_XDECREF(batch[k]);
    }
    while (d.stack.n)
        Py_DECREF(d.stack.items[--d.stack.n]);
    PyMem_RawFree(d.stack.items);
    PyMem_RawFree(d.cand.items);
    pm_ptrset_free(&d.seen);
    pm_heap_types_free(&types);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    if (d.failed) {
        PyErr_NoMemory();
        return -1;
    }
    return total;
}
