/* pm_heap_size.c — sys.getsizeof for a whole heap.  Each type is looked at
 * once: its __sizeof__ is found through the type's MRO, and classified as
 *   DEFAULT  object.__sizeof__ (basicsize + items), computed here;
 *   LIST     list.__sizeof__ (basicsize + allocated slots), computed here;
 *   CMETH    another C __sizeof__ (str, int, dict, set, ...): its C function
 *            is called directly, without a lookup or a bound method;
 *   CALL     a __sizeof__ written in Python: called, guarded.
 * getsizeof then adds what lies before the object: the GC header, and from
 * 3.11 the managed dict/weakref pointers (_PyType_PreHeaderSize, by the
 * type's flags; before 3.11 by _PyObject_IS_GC of the object). */
#include "pm_heap.h"

static PyCFunction object_sizeof, list_sizeof;
/* The C __sizeof__ of the interpreter's own types: each computes a size
 * from the object's fields and allocates nothing but the int it returns,
 * so it can run in the middle of a walk.  Any other C __sizeof__ belongs
 * to an extension, which may do anything. */
static PyCFunction core_sizeof[16];
static size_t n_core_sizeof;
static PyObject *sizeof_name;
/* Whether sys.getsizeof adds the pre-header to a static type: 3.12 did
 * until a bug-fix release stopped it, so the running binary is asked once
 * (sys.getsizeof(int) against type.__sizeof__(int)). */
static int static_type_preheader = 1;

static PyCFunction c_sizeof_of(PyObject *descr)
{
    if (!descr || !Py_IS_TYPE(descr, &PyMethodDescr_Type))
        return NULL;
    PyMethodDef *d = ((PyMethodDescrObject *)descr)->d_method;
    return (d->ml_flags & METH_NOARGS) ? d->ml_meth : NULL;
}

static int is_core_sizeof(PyCFunction c)
{
    for (size_t i = 0; i < n_core_sizeof; i++)
        if (core_sizeof[i] == c)
            return 1;
    return 0;
}

/* Once (it looks attributes up and calls code): a census must not come
 * back here in the middle of its pass if the first attempt failed. */
static void learn_builtins(void)
{
    static int tried;
    if (tried)
        return;
    tried = 1;
    sizeof_name = PyUnicode_InternFromString("__sizeof__"); /* kept: looked up per new type */
    PyObject *o = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, "__sizeof__");
    PyObject *l = PyObject_GetAttrString((PyObject *)&PyList_Type, "__sizeof__");
    object_sizeof = c_sizeof_of(o);
    list_sizeof = c_sizeof_of(l);
    Py_XDECREF(o);
    Py_XDECREF(l);
    PyTypeObject *core[] = {&PyDict_Type, &PySet_Type, &PyFrozenSet_Type, &PyUnicode_Type, &PyLong_Type,
                            &PyBytes_Type, &PyByteArray_Type, &PyType_Type, &PyTuple_Type, &PyFloat_Type,
                            &PyCode_Type, &PyMemoryView_Type, &PyComplex_Type};
    _Static_assert(sizeof core / sizeof *core <= sizeof core_sizeof / sizeof *core_sizeof, "room for each");
    for (size_t i = 0; i < sizeof core / sizeof *core; i++) {
        PyObject *d = PyObject_GetAttrString((PyObject *)core[i], "__sizeof__");
        PyCFunction c = c_sizeof_of(d);
        Py_XDECREF(d);
        if (c && c != object_sizeof && !is_core_sizeof(c))
            core_sizeof[n_core_sizeof++] = c;
    }
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *full = sys ? PyObject_CallMethod(sys, "getsizeof", "O", (PyObject *)&PyLong_Type) : NULL;
    PyObject *bare = full ? PyObject_CallMethod((PyObject *)&PyType_Type, "__sizeof__", "O", (PyObject *)&PyLong_Type) : NULL;
    if (bare && PyLong_Check(full) && PyLong_Check(bare))
        static_type_preheader = PyLong_AsSsize_t(full) != PyLong_AsSsize_t(bare);
    Py_XDECREF(bare);
    Py_XDECREF(full);
    Py_XDECREF(sys);
    PyErr_Clear();
}

int pm_heap_sizes_ready(void)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    learn_builtins();
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return object_sizeof && sizeof_name ? 0 : -1;
}

/* The __sizeof__ a type's instances get (borrowed): the first class along
 * its MRO whose dict holds one, as _PyType_Lookup finds it, but without
 * that function's attribute cache.  A census classifies each new type in
 * the middle of its pass, and filling a slot of the cache releases the
 * name the slot held: that can free a string the pass has already
 * collected as a referent (from 3.14 through the interned-string dict,
 * which holds its strings without counting), which the pass would then
 * size, and free, a second time. */
static PyObject *find_sizeof(PyTypeObject *tp)
{
    PyObject *mro = tp->tp_mro;
    if (!sizeof_name || !mro || !PyTuple_Check(mro))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *dict = pm_heap_type_dict(base);
        PyObject *found = dict ? PyDict_GetItemWithError(dict, sizeof_name) : NULL;
        if (found)
            return found;
        PyErr_Clear();
    }
    return NULL;
}

static void classify(pm_heap_type *t)
{
    learn_builtins();
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *descr = find_sizeof(t->tp);
    PyCFunction c = c_sizeof_of(descr);
    t->kind = PM_SZ_DEFAULT;
    if (c && c == object_sizeof)
        t->kind = PM_SZ_DEFAULT;
    else if (c && c == list_sizeof)
        t->kind = PM_SZ_LIST;
    else if (c) {
        t->kind = PM_SZ_CMETH;
        t->meth = c;
        t->may_run_code = !is_core_sizeof(c);
    } else if (descr) {
        t->kind = PM_SZ_CALL;
        Py_INCREF(descr);
        t->pysizeof = descr;
        t->may_run_code = 1;
    }
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

int pm_heap_types_init(pm_heap_types *t)
{
    t->n = 0;
    t->cap = 256;
    t->types = PyMem_Calloc(t->cap, sizeof *t->types);
    if (!t->types || pm_ptrmap_init(&t->map, 256) != 0) {
        PyMem_Free(t->types);
        t->types = NULL;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

pm_heap_type *pm_heap_types_get(pm_heap_types *t, PyTypeObject *tp)
{
    int64_t at = pm_ptrmap_get(&t->map, (uintptr_t)tp);
    if (at >= 0)
        return &t->types[at];
    if (t->n == t->cap) {
        pm_heap_type *bigger = PyMem_Realloc(t->types, 2 * t->cap * sizeof *bigger);
        if (!bigger) {
            PyErr_NoMemory();
            return NULL;
        }
        t->types = bigger;
        t->cap *= 2;
    }
    if (pm_ptrmap_put(&t->map, (uintptr_t)tp, (uint32_t)t->n) != 0) {
        PyErr_NoMemory();
        return NULL;
    }
    pm_heap_type *e = &t->types[t->n++];
    memset(e, 0, sizeof *e);
    Py_INCREF(tp);
    e->tp = tp;
    classify(e);
    return e;
}

void pm_heap_types_free(pm_heap_types *t)
{
    for (size_t i = 0; i < t->n; i++) {
        Py_XDECREF(t->types[i].pysizeof);
        Py_DECREF(t->types[i].tp);
    }
    PyMem_Free(t->types);
    t->types = NULL;
    t->n = 0;
    pm_ptrmap_free(&t->map);
}

static size_t default_size(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    size_t res = (size_t)tp->tp_basicsize;
    if (tp->tp_itemsize > 0) {
        Py_ssize_t n = Py_SIZE(o);
        res += (size_t)(n < 0 ? -n : n) * (size_t)tp->tp_itemsize;
    }
    return res;
}

/* The answer of a C or Python __sizeof__ as a size; -1 when it failed. */
static Py_ssize_t size_from(PyObject *r)
{
    if (!r)
        return -1;
    Py_ssize_t v = PyLong_Check(r) ? PyLong_AsSsize_t(r) : -1;
    Py_DECREF(r);
    return v;
}

size_t pm_heap_sizeof(pm_heap_type *t, PyObject *o)
{
    size_t size;
    PyTypeObject *tp = Py_TYPE(o);
    switch (t->kind) {
    case PM_SZ_LIST:
        size = (size_t)tp->tp_basicsize + (size_t)((PyListObject *)o)->allocated * sizeof(PyObject *);
        break;
    case PM_SZ_CMETH:
    case PM_SZ_CALL: {
        Py_INCREF(o);
        Py_ssize_t v = size_from(t->kind == PM_SZ_CMETH ? t->meth(o, NULL) : PyObject_CallOneArg(t->pysizeof, o));
        if (v < 0)
            PyErr_Clear();
        size = v >= 0 ? (size_t)v : default_size(o);
        Py_DECREF(o);
        break;
    }
    default:
        size = default_size(o);
    }
#if PY_VERSION_HEX >= 0x030B0000
    /* 3.11+: _PyType_PreHeaderSize of the type (GC header by the type's
     * flag, managed dict/weakref pointers). */
    if (!static_type_preheader && PyType_Check(o) && !PyType_HasFeature((PyTypeObject *)o, Py_TPFLAGS_HEAPTYPE))
        return size;
    size += pm_heap_preheader(tp);
#else
    if (PyObject_IS_GC(o))
        size += PM_GC_HEAD_SIZE;
#endif
    return size;
}
