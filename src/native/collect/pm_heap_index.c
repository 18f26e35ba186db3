/* pm_heap_index.c — the reverse-edge index and the retention chains.
 *
 * Built once per batch of queries: one tp_traverse pass over the tracked
 * objects records every edge between them as (referrer, referent) index
 * pairs (one hash probe per edge), then a counting sort groups the
 * referrers by referent into CSR arrays (u32: 4 bytes per edge plus 4 per
 * object).  The address->index map and the pairs are freed once the CSR is
 * filled; the index keeps only the list (its strong references make every
 * index stay the same object for the index's life, whatever the program
 * does meanwhile) and the two arrays.  A query is then a breadth-first
 * search over referrers: milliseconds, not a heap scan per step. */
#include "pm_heap.h"

#include <stdlib.h>
#include <string.h>

/* Objects are traversed in batches; their referents are buffered with
 * their referrer, the map slots of the whole buffer prefetched, then
 * looked up: the probes' cache misses overlap. */
#define PM_INDEX_BATCH 256

typedef struct {
    uint32_t src;
    PyObject **cand;   /* referents of the batch */
    uint32_t *csrc;    /* and their referrer */
    size_t ncand, capcand;
    uint32_t *pairs;   /* src, dst, src, dst, ... */
    size_t n, cap;
    int failed;
} edge_ctx;

static int visit_edge(PyObject *r, void *arg)
{
    edge_ctx *e = arg;
    if (!pm_heap_alive(r))
        return 0;
    if (e->ncand == e->capcand) {
        size_t cap = e->capcand ? 2 * e->capcand : 4096;
        PyObject **c = realloc(e->cand, cap * sizeof *c);
        if (c)
            e->cand = c;
        uint32_t *s = c ? realloc(e->csrc, cap * sizeof *s) : NULL;
        if (!s) {
            e->failed = 1;
            return 0;
        }
        e->csrc = s;
        e->capcand = cap;
    }
    e->cand[e->ncand] = r;
    e->csrc[e->ncand++] = e->src;
    return 0;
}

static void settle(edge_ctx *e, const pm_ptrmap *map)
{
    for (size_t k = 0; k < e->ncand; k++)
        pm_ptrmap_prefetch(map, (uintptr_t)e->cand[k]);
    for (size_t k = 0; k < e->ncand && !e->failed; k++) {
        int64_t j = pm_ptrmap_get(map, (uintptr_t)e->cand[k]);
        if (j < 0)
            continue;
        if (e->n + 2 > e->cap) {
            size_t cap = e->cap ? 2 * e->cap : 1 << 16;
            uint32_t *bigger = realloc(e->pairs, cap * sizeof *bigger);
            if (!bigger) {
                e->failed = 1;
                break;
            }
            e->pairs = bigger;
            e->cap = cap;
        }
        e->pairs[e->n++] = e->csrc[k];
        e->pairs[e->n++] = (uint32_t)j;
    }
    e->ncand = 0;
}

int pm_heap_index_build(pm_heap_index *ix, PyObject *objs)
{
    memset(ix, 0, sizeof *ix);
    Py_ssize_t n = PyList_GET_SIZE(objs);
    if ((uint64_t)n >= UINT32_MAX) {
        PyErr_SetString(PyExc_MemoryError, "too many objects to index");
        return -1;
    }
    pm_ptrmap map;
    if (pm_ptrmap_init(&map, (size_t)n) != 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + 16 < n)
            pm_ptrmap_prefetch(&map, (uintptr_t)PyList_GET_ITEM(objs, i + 16));
        if (pm_ptrmap_put(&map, (uintptr_t)PyList_GET_ITEM(objs, i), (uint32_t)i) != 0) {
            pm_ptrmap_free(&map);
            PyErr_NoMemory();
            return -1;
        }
    }
    edge_ctx e = {0, NULL, NULL, 0, 0, NULL, 0, 0, 0};
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    for (Py_ssize_t i = 0; i < n && !e.failed; i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        traverseproc tr = Py_TYPE(o)->tp_traverse;
        e.src = (uint32_t)i;
        if (tr && PyObject_IS_GC(o))
            (void)tr(o, visit_edge, &e);
        if (i % PM_INDEX_BATCH == PM_INDEX_BATCH - 1 || i == n - 1)
            settle(&e, &map);
    }
    free(e.cand);
    free(e.csrc);
    PyErr_Clear(); /* a traverse that raised (it should not): its edges count */
    PyErr_Restore(exc_type, exc_value, exc_tb);
    pm_ptrmap_free(&map);
    size_t m = e.n / 2;
    ix->rev_off = calloc((size_t)n + 1, sizeof *ix->rev_off);
    ix->rev_src = malloc((m ? m : 1) * sizeof *ix->rev_src);
    if (e.failed || !ix->rev_off || !ix->rev_src) {
        free(e.pairs);
        pm_heap_index_free(ix);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k < m; k++)
        ix->rev_off[e.pairs[2 * k + 1] + 1]++;
    for (Py_ssize_t i = 0; i < n; i++)
        ix->rev_off[i + 1] += ix->rev_off[i];
    /* Fill from the back so each group keeps its referrers in heap order. */
    for (size_t k = m; k-- > 0;)
        ix->rev_src[--ix->rev_off[e.pairs[2 * k + 1] + 1]] = e.pairs[2 * k];
    /* rev_off[i+1] now holds the start of group i; shift back. */
    for (Py_ssize_t i = 0; i < n; i++)
        ix->rev_off[i] = ix->rev_off[i + 1];
    ix->rev_off[n] = (uint32_t)m;
    free(e.pairs);
    Py_INCREF(objs);
    ix->objs = objs;
    ix->n = (uint32_t)n;
    ix->nedges = m;
    return 0;
}

void pm_heap_index_free(pm_heap_index *ix)
{
    free(ix->rev_off);
    free(ix->rev_src);
    ix->rev_off = ix->rev_src = NULL;
    Py_CLEAR(ix->objs);
    ix->n = 0;
}

size_t pm_heap_index_bytes(const pm_heap_index *ix)
{
    return ((size_t)ix->n + 1) * 4 + ix->nedges * 4 + (size_t)ix->n * sizeof(PyObject *);
}

int64_t pm_heap_index_find(const pm_heap_index *ix, PyObject *o)
{
    PyObject **items = ((PyListObject *)ix->objs)->ob_item;
    for (uint32_t i = 0; i < ix->n; i++)
        if (items[i] == o)
            return i;
    return -1;
}

/* ---- chains --------------------------------------------------------------- */

static const char *root_kind(PyObject *o)
{
    if (PyModule_Check(o))
        return "module";
    if (PyType_Check(o))
        return "class";
    return NULL;
}

/* (kind, label, [objects root..target], [labels]) following parent links
 * from node up to the target. */
static PyObject *make_chain(const pm_heap_index *ix, const int32_t *parent, uint32_t node, const char *kind,
                            PyObject *label)
{
    PyObject **items = ((PyListObject *)ix->objs)->ob_item;
    PyObject *objs = PyList_New(0), *labels = PyList_New(0);
    if (!objs || !labels)
        goto fail;
    uint32_t v = node;
    for (;;) {
        if (PyList_Append(objs, items[v]) < 0)
            goto fail;
        uint32_t p = (uint32_t)parent[v];
        if (p == v)
            break;
        PyObject *l = pm_heap_edge_label(items[v], items[p]);
        if (!l || PyList_Append(labels, l) < 0) {
            Py_XDECREF(l);
            goto fail;
        }
        Py_DECREF(l);
        v = p;
    }
    return Py_BuildValue("(sONN)", kind, label ? label : Py_None, objs, labels);
fail:
    Py_XDECREF(objs);
    Py_XDECREF(labels);
    return NULL;
}

/* make_chain appended to out; 0, or -1 with an exception. */
static int add_chain(PyObject *out, const pm_heap_index *ix, const int32_t *parent, uint32_t node, const char *kind,
                     PyObject *label)
{
    PyObject *c = make_chain(ix, parent, node, kind, label);
    int rc = c ? PyList_Append(out, c) : -1;
    Py_XDECREF(c);
    return rc;
}

PyObject *pm_heap_chains(const pm_heap_index *ix, PyObject *target, int max_depth, int max_chains,
                         PyObject *ignore, PyObject *extra_roots)
{
    int64_t t = pm_heap_index_find(ix, target);
    if (t < 0) {
        PyErr_SetString(PyExc_LookupError, "the object is not in the index");
        return NULL;
    }
    PyObject **items = ((PyListObject *)ix->objs)->ob_item;
    pm_ptrset ign = {0};
    pm_ptrmap roots = {0};
    int32_t *parent = malloc((size_t)ix->n * sizeof *parent);
    uint32_t *queue = malloc((size_t)ix->n * sizeof *queue);
    PyObject *out = PyList_New(0);
    if (!parent || !queue || !out || pm_ptrset_init(&ign, 16) != 0 || pm_ptrmap_init(&roots, 64) != 0) {
        if (out)
            PyErr_NoMemory();
        goto done_fail;
    }
    for (Py_ssize_t i = 0; ignore && i < PyList_GET_SIZE(ignore); i++)
        pm_ptrset_add(&ign, (uintptr_t)PyList_GET_ITEM(ignore, i));
    for (Py_ssize_t i = 0; extra_roots && i < PyList_GET_SIZE(extra_roots); i++) {
        PyObject *pair = PyList_GET_ITEM(extra_roots, i);
        if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2 &&
            pm_ptrmap_get(&roots, (uintptr_t)PyTuple_GET_ITEM(pair, 1)) < 0)
            pm_ptrmap_put(&roots, (uintptr_t)PyTuple_GET_ITEM(pair, 1), (uint32_t)i);
    }
    memset(parent, 0xff, (size_t)ix->n * sizeof *parent);
    size_t head = 0, tail = 0, level_end;
    parent[t] = (int32_t)t;
    queue[tail++] = (uint32_t)t;
    int found = 0, depth = 0;
    int64_t orphan = -1; /* nearest object no tracked object refers to */
    level_end = tail;
    while (head < tail && found < max_chains) {
        uint32_t v = queue[head++];
        PyObject *o = items[v];
        const char *kind = v != (uint32_t)t ? root_kind(o) : NULL;
        if (kind) {
            if (add_chain(out, ix, parent, v, kind, NULL) < 0)
                goto done_fail;
            found++;
            continue;
        }
        /* A local variable of a running function: the frame is the root,
         * one reference above o. */
        int64_t r = pm_ptrmap_get(&roots, (uintptr_t)o);
        if (r >= 0) {
            PyObject *pair = PyList_GET_ITEM(extra_roots, r);
            if (add_chain(out, ix, parent, v, "frame", PyTuple_GET_ITEM(pair, 0)) < 0)
                goto done_fail;
            found++;
            continue;
        }
        int referred = 0;
        if (depth < max_depth)
            for (uint32_t k = ix->rev_off[v]; k < ix->rev_off[v + 1]; k++) {
                uint32_t u = ix->rev_src[k];
                if (pm_ptrset_has(&ign, (uintptr_t)items[u]))
                    continue;
                referred = 1;
                if (parent[u] != -1)
                    continue;
                parent[u] = (int32_t)v;
                queue[tail++] = u;
            }
        else
            referred = 1;
        if (!referred && orphan < 0)
            orphan = v;
        if (head == level_end) {
            depth++;
            level_end = tail;
        }
    }
    if (!found && orphan >= 0 && add_chain(out, ix, parent, (uint32_t)orphan, "outside", NULL) < 0)
        goto done_fail;
    goto done;
done_fail:
    Py_CLEAR(out);
done:
    free(parent);
    free(queue);
    pm_ptrset_free(&ign);
    pm_ptrmap_free(&roots);
    return out;
}
