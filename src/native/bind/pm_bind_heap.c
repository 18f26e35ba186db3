/* pm_bind_heap.c — pyrometer.heap's C side: census, snapshots and growth,
 * the retention index, deep sizes.  The work is in collect/pm_heap*.c;
 * this file turns it into Python objects. */
#include "pm_bind.h"

#include "collect/pm_heap.h"

/* gc.get_objects(): every tracked object, each a strong reference held by
 * the list for as long as we use it. */
static PyObject *gc_objects(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *objs = gc ? PyObject_CallMethod(gc, "get_objects", NULL) : NULL;
    Py_XDECREF(gc);
    if (objs && !PyList_Check(objs)) {
        Py_DECREF(objs);
        PyErr_SetString(PyExc_RuntimeError, "gc.get_objects() did not return a list");
        return NULL;
    }
    return objs;
}

/* (module, qualname) of a type, never failing: tp_name's parts when the
 * attributes are odd. */
static PyObject *type_key(PyTypeObject *tp)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *qual = PyObject_GetAttrString((PyObject *)tp, "__qualname__");
    PyObject *mod = PyObject_GetAttrString((PyObject *)tp, "__module__");
    PyErr_Clear();
    if (!qual || !PyUnicode_Check(qual)) {
        Py_XDECREF(qual);
        qual = PyUnicode_FromString(tp->tp_name);
    }
    if (!mod || !PyUnicode_Check(mod)) {
        Py_XDECREF(mod);
        mod = PyUnicode_FromString("?");
    }
    PyObject *key = qual && mod ? PyTuple_Pack(2, mod, qual) : NULL;
    Py_XDECREF(qual);
    Py_XDECREF(mod);
    if (key)
        PyErr_Restore(exc_type, exc_value, exc_tb);
    else {
        Py_XDECREF(exc_type);
        Py_XDECREF(exc_value);
        Py_XDECREF(exc_tb);
    }
    return key;
}

/* {(module, qualname): [count, bytes, tracked]} merged by name (two classes
 * may share one), and the rows sorted by bytes. */
static PyObject *census_dict(pm_census *c)
{
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < c->types.n; i++) {
        pm_heap_type *t = &c->types.types[i];
        PyObject *key = type_key(t->tp);
        PyObject *old = key ? PyDict_GetItemWithError(d, key) : NULL;
        uint64_t cnt = t->count, b = t->bytes, tr = t->tracked;
        if (old) {
            cnt += PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(old, 0));
            b += PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(old, 1));
            tr += PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(old, 2));
        }
        PyObject *v = key && !PyErr_Occurred() ? Py_BuildValue("(KKK)", cnt, b, tr) : NULL;
        if (!v || PyDict_SetItem(d, key, v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
        Py_XDECREF(key);
    }
    return d;
}

/* [(qualname, module, count, bytes, tracked)] from such a dict (the shell
 * sorts them: a few thousand rows). */
static PyObject *rows_of(PyObject *d)
{
    PyObject *rows = PyList_New(0);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (rows && PyDict_Next(d, &pos, &k, &v)) {
        PyObject *row = Py_BuildValue("(OOOOO)", PyTuple_GET_ITEM(k, 1), PyTuple_GET_ITEM(k, 0), PyTuple_GET_ITEM(v, 0),
                                      PyTuple_GET_ITEM(v, 1), PyTuple_GET_ITEM(v, 2));
        if (!row || PyList_Append(rows, row) < 0)
            Py_CLEAR(rows);
        Py_XDECREF(row);
    }
    return rows;
}

/* The census reads the collector's lists in place where it can (no list
 * of every object to build and free), else gc.get_objects(). */
static PyObject *run_census(int untracked, pm_ptrset *addrs)
{
    PyObject *objs = NULL;
    if (!pm_heap_census_in_place() && !(objs = gc_objects()))
        return NULL;
    pm_census c;
    int rc = pm_heap_census(&c, objs, untracked, addrs);
    Py_XDECREF(objs);
    if (rc != 0)
        return NULL;
    PyObject *d = census_dict(&c);
    pm_census_free(&c);
    return d;
}

/* heap_census(untracked) -> [(qualname, module, count, bytes, tracked)],
 * largest bytes first. */
static PyObject *heap_census(PyObject *self, PyObject *arg)
{
    (void)self;
    int untracked = PyObject_IsTrue(arg);
    if (untracked < 0)
        return NULL;
    PyObject *d = run_census(untracked, NULL);
    PyObject *rows = d ? rows_of(d) : NULL;
    Py_XDECREF(d);
    return rows;
}

/* ---- snapshots ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *stats;  /* {(module, qualname): (count, bytes, tracked)} */
    pm_ptrset addrs;  /* every tracked object's address */
    int untracked;
} SnapshotObject;

/* The snapshot's own table (a dict of tuples of str and int, made after
 * its census) must not count as growth at the next census: it is taken out
 * of the GC's list, its tuples too.  Only atoms are inside, so no cycle can
 * go through it (what the GC itself does to such dicts and tuples), and
 * nothing tracked refers to it: no walk reaches it. */
static void hide_from_gc(PyObject *d)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (PyObject_GC_IsTracked(k))
            PyObject_GC_UnTrack(k);
        if (PyObject_GC_IsTracked(v))
            PyObject_GC_UnTrack(v);
    }
    if (PyObject_GC_IsTracked(d))
        PyObject_GC_UnTrack(d);
}

static PyObject *snapshot_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *names[] = {"untracked", NULL};
    int untracked = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", names, &untracked))
        return NULL;
    SnapshotObject *s = (SnapshotObject *)type->tp_alloc(type, 0);
    if (!s)
        return NULL;
    s->untracked = untracked;
    s->stats = run_census(untracked, &s->addrs);
    if (!s->stats) {
        Py_DECREF(s);
        return NULL;
    }
    hide_from_gc(s->stats);
    return (PyObject *)s;
}

static void snapshot_dealloc(SnapshotObject *s)
{
    Py_XDECREF(s->stats);
    pm_ptrset_free(&s->addrs);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *snapshot_rows(SnapshotObject *s, PyObject *noargs)
{
    (void)noargs;
    return rows_of(s->stats);
}

/* [(qualname, module, count, delta_count, bytes, delta_bytes)] of every
 * type whose count or bytes differ between two census dicts. */
static PyObject *growth_rows(PyObject *then, PyObject *now)
{
    PyObject *out = PyList_New(0);
    for (int pass = 0; out && pass < 2; pass++) {
        /* pass 0: every type now (against then); pass 1: types gone since */
        PyObject *d = pass ? then : now, *other = pass ? now : then;
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (out && PyDict_Next(d, &pos, &k, &v)) {
            PyObject *o = PyDict_GetItemWithError(other, k);
            if (!o && PyErr_Occurred()) {
                Py_CLEAR(out);
                break;
            }
            if (pass && o)
                continue;
            long long c1 = PyLong_AsLongLong(PyTuple_GET_ITEM(v, 0)), b1 = PyLong_AsLongLong(PyTuple_GET_ITEM(v, 1));
            long long c0 = o ? PyLong_AsLongLong(PyTuple_GET_ITEM(o, 0)) : 0;
            long long b0 = o ? PyLong_AsLongLong(PyTuple_GET_ITEM(o, 1)) : 0;
            if (pass) { /* gone: now 0, then c1/b1 */
                c0 = c1, b0 = b1, c1 = 0, b1 = 0;
            }
            if (c1 == c0 && b1 == b0)
                continue;
            PyObject *row = Py_BuildValue("(OOLLLL)", PyTuple_GET_ITEM(k, 1), PyTuple_GET_ITEM(k, 0), c1, c1 - c0, b1, b1 - b0);
            if (!row || PyList_Append(out, row) < 0)
                Py_CLEAR(out);
            Py_XDECREF(row);
        }
    }
    return out;
}

/* growth(later=None) -> growth_rows from the snapshot to a census taken now,
 * or to a later snapshot's own census with no walk: a report that keeps one
 * snapshot per step then stores growth that is exactly the difference of
 * the censuses it stores, whatever other threads allocate meanwhile. */
static PyObject *snapshot_growth(SnapshotObject *s, PyObject *args)
{
    PyObject *later = Py_None;
    if (!PyArg_ParseTuple(args, "|O:growth", &later))
        return NULL;
    if (later != Py_None) {
        if (!PyObject_TypeCheck(later, &pm_HeapSnapshotType)) {
            PyErr_SetString(PyExc_TypeError, "growth() takes a later HeapSnapshot or None");
            return NULL;
        }
        SnapshotObject *l = (SnapshotObject *)later;
        if (l->untracked != s->untracked) {
            PyErr_SetString(PyExc_ValueError, "growth(): both snapshots must count untracked objects alike");
            return NULL;
        }
        return growth_rows(s->stats, l->stats);
    }
    PyObject *now = run_census(s->untracked, NULL);
    if (!now)
        return NULL;
    PyObject *out = growth_rows(s->stats, now);
    Py_DECREF(now);
    return out;
}

/* new_objects(type=None) -> tracked objects (of exactly that type) whose
 * address was not in the heap at the snapshot. */
static PyObject *snapshot_new_objects(SnapshotObject *s, PyObject *type)
{
    if (type != Py_None && !PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "new_objects() takes a class or None");
        return NULL;
    }
    PyObject *objs = gc_objects();
    PyObject *out = objs ? PyList_New(0) : NULL;
    for (Py_ssize_t i = 0; out && i < PyList_GET_SIZE(objs); i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        if ((type == Py_None || (PyObject *)Py_TYPE(o) == type) && !pm_ptrset_has(&s->addrs, (uintptr_t)o) &&
            PyList_Append(out, o) < 0)
            Py_CLEAR(out);
    }
    Py_XDECREF(objs);
    return out;
}

static PyObject *snapshot_nbytes(SnapshotObject *s, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(pm_ptrset_bytes(&s->addrs));
}

static PyObject *snapshot_nobjects(SnapshotObject *s, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(s->addrs.count);
}

static PyMethodDef snapshot_methods[] = {
    {"rows", (PyCFunction)snapshot_rows, METH_NOARGS, "The census at the snapshot."},
    {"growth", (PyCFunction)snapshot_growth, METH_VARARGS,
     "growth(later=None): per-type changes since the snapshot, to now or to a later snapshot."},
    {"new_objects", (PyCFunction)snapshot_new_objects, METH_O, "Tracked objects made since the snapshot."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef snapshot_getset[] = {
    {"nbytes", (getter)snapshot_nbytes, NULL, "Bytes of the address set.", NULL},
    {"nobjects", (getter)snapshot_nobjects, NULL, "Tracked objects at the snapshot.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_HeapSnapshotType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.HeapSnapshot",
    .tp_basicsize = sizeof(SnapshotObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "HeapSnapshot(untracked=True): a census plus the address of every tracked object.",
    .tp_new = snapshot_new,
    .tp_dealloc = (destructor)snapshot_dealloc,
    .tp_methods = snapshot_methods,
    .tp_getset = snapshot_getset,
};

/* ---- the retention index ------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    pm_heap_index ix;
} IndexObject;

static PyObject *index_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    if (!PyArg_ParseTuple(args, ":HeapIndex") || (kw && PyDict_GET_SIZE(kw))) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "HeapIndex() takes no arguments");
        return NULL;
    }
    IndexObject *x = (IndexObject *)type->tp_alloc(type, 0);
    PyObject *objs = x ? gc_objects() : NULL;
    if (!objs) {
        Py_XDECREF(x);
        return NULL;
    }
    int rc = pm_heap_index_build(&x->ix, objs);
    Py_DECREF(objs);
    if (rc != 0) {
        Py_DECREF(x);
        return NULL;
    }
    return (PyObject *)x;
}

static void index_dealloc(IndexObject *x)
{
    pm_heap_index_free(&x->ix);
    Py_TYPE(x)->tp_free((PyObject *)x);
}

static int index_open(IndexObject *x)
{
    if (x->ix.objs)
        return 0;
    PyErr_SetString(PyExc_ValueError, "the heap index is closed");
    return -1;
}

/* chains(target, max_depth, max_chains, ignore, roots) */
static PyObject *index_chains(IndexObject *x, PyObject *args)
{
    PyObject *target, *ignore, *roots;
    int max_depth, max_chains;
    if (!PyArg_ParseTuple(args, "OiiO!O!", &target, &max_depth, &max_chains, &PyList_Type, &ignore, &PyList_Type, &roots) ||
        index_open(x) < 0)
        return NULL;
    return pm_heap_chains(&x->ix, target, max_depth, max_chains, ignore, roots);
}

static int64_t find_or_raise(IndexObject *x, PyObject *o)
{
    int64_t i = index_open(x) < 0 ? -1 : pm_heap_index_find(&x->ix, o);
    if (i < 0 && !PyErr_Occurred())
        PyErr_SetString(PyExc_LookupError, "the object is not in the index");
    return i;
}

/* referrers(obj) -> [indexed objects referring to obj] (one per edge) */
static PyObject *index_referrers(IndexObject *x, PyObject *o)
{
    int64_t i = find_or_raise(x, o);
    if (i < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    PyObject **items = ((PyListObject *)x->ix.objs)->ob_item;
    for (uint32_t k = x->ix.rev_off[i]; out && k < x->ix.rev_off[i + 1]; k++)
        if (PyList_Append(out, items[x->ix.rev_src[k]]) < 0)
            Py_CLEAR(out);
    return out;
}

/* refcount(obj) -> (refcount, references from indexed objects); the
 * index's own list reference is taken off the count. */
static PyObject *index_refcount(IndexObject *x, PyObject *o)
{
    int64_t i = find_or_raise(x, o);
    if (i < 0)
        return NULL;
    return Py_BuildValue("(nI)", Py_REFCNT(o) - 1, x->ix.rev_off[i + 1] - x->ix.rev_off[i]);
}

/* leaking() -> indexed objects no indexed object refers to */
static PyObject *index_leaking(IndexObject *x, PyObject *noargs)
{
    (void)noargs;
    if (index_open(x) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    PyObject **items = ((PyListObject *)x->ix.objs)->ob_item;
    for (uint32_t i = 0; out && i < x->ix.n; i++)
        if (x->ix.rev_off[i] == x->ix.rev_off[i + 1] && PyList_Append(out, items[i]) < 0)
            Py_CLEAR(out);
    return out;
}

static PyObject *index_close(IndexObject *x, PyObject *noargs)
{
    (void)noargs;
    pm_heap_index_free(&x->ix);
    Py_RETURN_NONE;
}

static PyObject *index_contains(IndexObject *x, PyObject *o)
{
    if (index_open(x) < 0)
        return NULL;
    return PyBool_FromLong(pm_heap_index_find(&x->ix, o) >= 0);
}

static PyObject *index_stat(IndexObject *x, void *which)
{
    uintptr_t w = (uintptr_t)which;
    return PyLong_FromSize_t(w == 0 ? x->ix.n : w == 1 ? x->ix.nedges : pm_heap_index_bytes(&x->ix));
}

static PyMethodDef index_methods[] = {
    {"chains", (PyCFunction)index_chains, METH_VARARGS,
     "chains(target, max_depth, max_chains, ignore, roots) -> [(kind, label, objects, edge labels)]"},
    {"referrers", (PyCFunction)index_referrers, METH_O, "Indexed objects that refer to obj."},
    {"refcount", (PyCFunction)index_refcount, METH_O, "(refcount less the index's, references from indexed objects)."},
    {"leaking", (PyCFunction)index_leaking, METH_NOARGS, "Indexed objects no indexed object refers to."},
    {"contains", (PyCFunction)index_contains, METH_O, "Whether obj is in the index."},
    {"close", (PyCFunction)index_close, METH_NOARGS, "Drops the index and its references."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef index_getset[] = {
    {"nobjects", (getter)index_stat, NULL, "Objects indexed.", (void *)0},
    {"nedges", (getter)index_stat, NULL, "References between them.", (void *)1},
    {"nbytes", (getter)index_stat, NULL, "Bytes the index keeps (CSR arrays and the list).", (void *)2},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_HeapIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.HeapIndex",
    .tp_basicsize = sizeof(IndexObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "HeapIndex(): the reverse references of every tracked object, held until close().",
    .tp_new = index_new,
    .tp_dealloc = (destructor)index_dealloc,
    .tp_methods = index_methods,
    .tp_getset = index_getset,
};

/* ---- sizes and instances --------------------------------------------------- */

PyObject *pm_bind_heap_deep_size(PyObject *self, PyObject *o)
{
    (void)self;
    int64_t n = pm_heap_deep_size(o);
    return n < 0 ? NULL : PyLong_FromLongLong(n);
}

PyObject *pm_bind_heap_sizeof(PyObject *self, PyObject *o)
{
    (void)self;
    pm_heap_types t;
    if (pm_heap_types_init(&t) != 0)
        return NULL;
    pm_heap_type *e = pm_heap_types_get(&t, Py_TYPE(o));
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    size_t size = e ? pm_heap_sizeof(e, o) : 0;
    PyErr_Restore(exc_type, exc_value, exc_tb);
    PyObject *r = e ? PyLong_FromSize_t(size) : NULL;
    pm_heap_types_free(&t);
    return r;
}

/* heap_instances(cls) -> tracked instances of cls (subclasses included) */
PyObject *pm_bind_heap_instances(PyObject *self, PyObject *cls)
{
    (void)self;
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "expected a class");
        return NULL;
    }
    PyObject *objs = gc_objects();
    PyObject *out = objs ? PyList_New(0) : NULL;
    for (Py_ssize_t i = 0; out && i < PyList_GET_SIZE(objs); i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        if (PyType_IsSubtype(Py_TYPE(o), (PyTypeObject *)cls) && PyList_Append(out, o) < 0)
            Py_CLEAR(out);
    }
    Py_XDECREF(objs);
    return out;
}

PyObject *pm_bind_heap_census(PyObject *self, PyObject *arg)
{
    return heap_census(self, arg);
}
