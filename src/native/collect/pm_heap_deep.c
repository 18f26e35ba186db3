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

typedef struct {
    pm_ptrset seen;
    PyObject **stack;
    size_t sp, cap;
    int failed;
} deep_ctx;

static int push(deep_ctx *d, PyObject *r)
{
    int added = pm_ptrset_add(&d->seen, (uintptr_t)r);
    if (added <= 0) {
        d->failed |= added < 0;
        return 0;
    }
    if (d->sp == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 1024;
        PyObject **bigger = PyMem_RawRealloc(d->stack, cap * sizeof *bigger);
        if (!bigger) {
            d->failed = 1;
            return 0;
        }
        d->stack = bigger;
        d->cap = cap;
    }
    Py_INCREF(r);
    d->stack[d->sp++] = r;
    return 0;
}

static int visit_push(PyObject *r, void *arg)
{
    if (r)
        push(arg, r);
    return 0;
}

/* asizeof's "code only" and ignored kinds: no size, not followed. */
static int skipped(PyObject *o)
{
    return PyType_Check(o) || PyFunction_Check(o) || PyCFunction_Check(o) || PyMethod_Check(o) ||
           PyCode_Check(o) || PyFrame_Check(o) || Py_IS_TYPE(o, &PyBaseObject_Type) ||
           Py_IS_TYPE(o, &PyMethodDescr_Type) || Py_IS_TYPE(o, &PyClassMethodDescr_Type) ||
           Py_IS_TYPE(o, &PyWrapperDescr_Type);
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
    deep_ctx d = {{0}, NULL, 0, 0, 0};
    if (pm_ptrset_init(&d.seen, 1024) != 0) {
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
    push(&d, start);
    while (d.sp && !d.failed) {
        PyObject *o = d.stack[--d.sp];
        if (!skipped(o)) {
            pm_heap_type *t = pm_heap_types_get(&types, Py_TYPE(o));
            if (!t) {
                d.failed = 1;
                Py_DECREF(o);
                break;
            }
            total += (int64_t)((pm_heap_sizeof(t, o) + 7) & ~(size_t)7);
            if (!PyModule_Check(o) || o == start) {
                if (has_dict(o)) {
                    PyObject *dict = PyObject_GenericGetDict(o, NULL);
                    if (dict) {
                        push(&d, dict);
                        Py_DECREF(dict);
                    }
                    PyErr_Clear();
                }
                traverseproc tr = Py_TYPE(o)->tp_traverse;
                if (tr && PyObject_IS_GC(o))
                    (void)tr(o, visit_push, &d);
                PyErr_Clear();
                pm_heap_dict_keys(o, visit_push, &d);
            }
        }
        Py_DECREF(o);
    }
    while (d.sp)
        Py_DECREF(d.stack[--d.sp]);
    PyMem_RawFree(d.stack);
    pm_ptrset_free(&d.seen);
    pm_heap_types_free(&types);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    if (d.failed) {
        PyErr_NoMemory();
        return -1;
    }
    return total;
}
