/* pm_heap.h — the heap analyser (pyrometer.heap): census by type with
 * sizes, a reverse-edge index for retention chains, deep sizes.  It works
 * on every GC-tracked object (the collector's lists, read in place by the
 * census where the build allows, else gc.get_objects()) and reaches the
 * untracked ones (str, int, float, untracked tuples and dicts) through
 * tp_traverse.
 * Everything runs with the GIL held; no Python code runs inside a
 * tp_traverse callback. */
#ifndef PM_HEAP_H
#define PM_HEAP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pm_heap_set.h"

/* ---- sizes (pm_heap_size.c): sys.getsizeof's rules ------------------------ */
enum { PM_SZ_DEFAULT, PM_SZ_LIST, PM_SZ_CMETH, PM_SZ_CALL };

typedef struct {
    PyTypeObject *tp;   /* strong while the table lives */
    int kind;
    PyCFunction meth;   /* PM_SZ_CMETH: the C __sizeof__ */
    PyObject *pysizeof; /* PM_SZ_CALL: the type's __sizeof__ (strong) */
    uint64_t count, bytes, tracked;
    char deep_known, deep_skip; /* pm_heap_deep.c's verdict on the type */
    /* Sizing may run code that is not the interpreter's own: a __sizeof__
     * written in Python, or a C one from an extension (which may call
     * back into Python).  The census sizes such objects after its walk. */
    char may_run_code;
} pm_heap_type;

typedef struct {
    pm_ptrmap map;      /* type address -> slot in types */
    pm_heap_type *types;
    size_t n, cap;
} pm_heap_types;

int pm_heap_types_init(pm_heap_types *t);
/* Learns, once, what classifying a type needs (which may import and call
 * code), so that pm_heap_types_get() later runs none; call before a walk
 * that reads the collector's lists in place.  0, or -1 when it could not
 * (classifying would try again, and may then run code). */
int pm_heap_sizes_ready(void);
/* The entry of tp, made on first sight; NULL with MemoryError.  Runs no
 * Python code once pm_heap_sizes_ready() ran. */
pm_heap_type *pm_heap_types_get(pm_heap_types *t, PyTypeObject *tp);
void pm_heap_types_free(pm_heap_types *t);
/* sys.getsizeof(o) without its exceptions: a __sizeof__ that raises or
 * returns nonsense is replaced by object.__sizeof__'s answer.  Call it
 * with no exception set (the walks put the caller's aside once, not per
 * object); it leaves none.  May run Python code (a __sizeof__ written in
 * Python): never call it inside a traverse callback. */
size_t pm_heap_sizeof(pm_heap_type *t, PyObject *o);

/* PyGC_Head is two words on every default (GIL) build 3.9-3.13. */
#define PM_GC_HEAD_SIZE (2 * sizeof(uintptr_t))

/* The bytes the allocator gave before an object of type tp: the start of
 * its block is the object's address minus this.  What CPython's
 * _PyType_PreHeaderSize says (internal/pycore_object.h): the GC header for
 * a GC type, and from 3.11 the managed dict (3.11) / dict and weakref
 * (3.12+, Py_TPFLAGS_PREHEADER) pointers, two words.  Before 3.11 the GC
 * header alone (_PyObject_GC_Alloc). */
static inline size_t pm_heap_preheader(PyTypeObject *tp)
{
    size_t size = PyType_IS_GC(tp) ? PM_GC_HEAD_SIZE : 0;
#if defined(Py_TPFLAGS_PREHEADER)
    if (PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER))
        size += 2 * sizeof(PyObject *);
#elif PY_VERSION_HEX >= 0x030B0000
    if (PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT))
        size += 2 * sizeof(PyObject *);
#endif
    return size;
}

/* A dict whose keys are all str does not show them to tp_traverse (a str
 * cannot be part of a cycle); this visits a dict's keys.  No code runs. */
/* A type's own attribute dict, borrowed.  From 3.12 a static (built-in)
 * type's dict is per interpreter and tp_dict is NULL: PyType_GetDict gives
 * it as a new reference, which the interpreter keeps holding.  Never goes
 * through the type attribute cache (_PyType_Lookup), whose fill would
 * release a name the caller may be walking (see pm_heap_size.c). */
static inline PyObject *pm_heap_type_dict(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *dict = PyType_GetDict(tp);
    Py_XDECREF(dict);
    return dict;
#else
    return tp->tp_dict;
#endif
}

static inline void pm_heap_dict_keys(PyObject *o, visitproc visit, void *arg)
{
    if (!PyDict_Check(o))
        return;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(o, &pos, &k, &v))
        visit(k, arg);
}

/* A growable array of object pointers (the walks' stacks and batches). */
typedef struct {
    PyObject **items;
    size_t n, cap;
} pm_heap_objs;

/* Appends o (no reference taken); 0, or -1 out of memory. */
/* Whether a referent a traverse function reported is a live object.  Some
 * report freed ones: _asyncio's module (3.9-3.13) walks its free list of
 * future iterators, whose refcount is 0; a reference taken to one frees it
 * a second time when dropped, and the list then loops (the next collection
 * never ends). */
static inline int pm_heap_alive(PyObject *r) { return r && Py_REFCNT(r) > 0; }

static inline int pm_heap_objs_push(pm_heap_objs *a, PyObject *o)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 4096;
        PyObject **bigger = PyMem_RawRealloc(a->items, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        a->items = bigger;
        a->cap = cap;
    }
    a->items[a->n++] = o;
    return 0;
}

/* ---- the collector's lists (pm_heap_gclists.c) ----------------------------- */
/* The link every tracked object carries right before it (PyGC_Head's
 * layout): the next object of its generation, and the previous one with
 * the collector's flags in its low bits. */
typedef struct pm_gc_link {
    struct pm_gc_link *next;
    uintptr_t prev;
} pm_gc_link;

#define PM_GC_MAX_LISTS 4

/* The heads of the generation lists in gc.get_objects()'s order (at most
 * PM_GC_MAX_LISTS) and a guess of how many objects they hold; the number of
 * lists, 0 when this build's lists cannot be read in place.  A list is
 * circular: it ends when next is its head again.  Walking one is only
 * sound while nothing can allocate a tracked object or free one: no Python
 * code, no collection. */
int pm_heap_gc_lists(pm_gc_link **heads, size_t *estimate);

static inline PyObject *pm_gc_object(pm_gc_link *g) { return (PyObject *)(g + 1); }

/* ---- census (pm_heap_walk.c) ----------------------------------------------- */
typedef struct {
    pm_heap_types types;
    uint64_t tracked, untracked;
} pm_census;

/* Counts and sizes every tracked object — those of objs (a list, normally
 * gc.get_objects()), or with objs NULL those of the collector's own lists
 * read in place (when pm_heap_gc_lists() has them) — and with untracked,
 * also every untracked object reached from them, each once.  addrs (may be
 * NULL) receives the address of every tracked object.
 * 0, or -1 with an exception (memory). */
int pm_heap_census(pm_census *c, PyObject *objs, int untracked, pm_ptrset *addrs);
/* Whether pm_heap_census() can read the collector's lists in place here. */
int pm_heap_census_in_place(void);
void pm_census_free(pm_census *c);

/* ---- reverse-edge index (pm_heap_index.c) ---------------------------------- */
typedef struct {
    PyObject *objs;      /* the list indexed: strong references for its life */
    uint32_t n;
    uint32_t *rev_off;   /* n+1 offsets into rev_src (CSR) */
    uint32_t *rev_src;   /* referrer index of every edge, grouped by referent */
    size_t nedges;
} pm_heap_index;

int pm_heap_index_build(pm_heap_index *ix, PyObject *objs);
void pm_heap_index_free(pm_heap_index *ix);
/* The index of o, -1 when it is not in the index. */
int64_t pm_heap_index_find(const pm_heap_index *ix, PyObject *o);
size_t pm_heap_index_bytes(const pm_heap_index *ix);
/* Shortest chains from roots to target (see pm_heap_index.c); a new list of
 * (kind, root label, [objects root..target], [edge labels]) or NULL. */
PyObject *pm_heap_chains(const pm_heap_index *ix, PyObject *target, int max_depth, int max_chains,
                         PyObject *ignore, PyObject *extra_roots);

/* ---- edge labels (pm_heap_label.c) ----------------------------------------- */
/* How parent refers to child ("['key']", ".attr", "[3]", "__dict__", ...);
 * a new str, "?" when not found; never raises. */
PyObject *pm_heap_edge_label(PyObject *parent, PyObject *child);

/* ---- deep size (pm_heap_deep.c) -------------------------------------------- */
/* Pympler asizeof's total for o (-1 with an exception: memory only). */
int64_t pm_heap_deep_size(PyObject *o);

#endif
