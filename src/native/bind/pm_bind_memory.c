/* pm_bind_memory.c — memory mode: the PyMem allocator hooks and the
 * MemoryProfiler type.  The accounting is in collect/pm_alloc.c.
 *
 * The hooks sit on all three domains (RAW, MEM, OBJ) and pass every call to
 * the allocator installed before them (pymalloc, the debug hooks,
 * tracemalloc's), so whatever was there keeps working below.  An allocation
 * costs one thread-local subtraction and compare unless a sample point
 * falls in it; a free asks a lock-free filter whether the block might be
 * sampled.  Nested calls (pymalloc handing a large block to the RAW domain,
 * the debug hooks calling theirs) pass straight through: the outer call is
 * the one the program made.
 *
 * The hooks stay installed until stop, and are removed only if they are
 * still the domain's allocator: when the program started tracemalloc on top
 * of them, removing ours would remove tracemalloc's too, so they stay in the
 * chain as plain pass-throughs (the state below is static for that reason). */
#include "pm_bind.h"

#include <stdatomic.h>

#include "collect/pm_alloc.h"

#define NDOMAINS 3
static const PyMemAllocatorDomain domains[NDOMAINS] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static struct {
    PyMemAllocatorEx prev[NDOMAINS]; /* what each hook passes to */
    PyMemAllocatorEx ours[NDOMAINS];
    int installed[NDOMAINS];
    _Atomic(pm_alloc *) active;      /* the collecting session, NULL: pass through */
    PyObject **pinned;               /* strong references to code objects seen */
    size_t npinned, cappinned;
    int atfork;
} st;

/* ---- pins: code objects kept alive so their address means them ---------- */

static void drain_pins(pm_alloc *a)
{
    uint64_t addrs[64];
    size_t n;
    while ((n = pm_alloc_take_pins(a, addrs, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            pm_code *e = pm_codecache_find(&a->codes, addrs[i]);
            int ok = e && pm_codecache_still_valid(&a->codes, &a->space, e);
            if (ok && st.npinned == st.cappinned) {
                size_t cap = st.cappinned ? st.cappinned * 2 : 256;
                /* libc, not PyMem: this runs inside an allocator hook. */
                PyObject **np = realloc(st.pinned, cap * sizeof *np);
                if (np) {
                    st.pinned = np;
                    st.cappinned = cap;
                } else {
                    ok = 0;
                }
            }
            if (ok) {
                PyObject *o = (PyObject *)(uintptr_t)addrs[i];
                Py_INCREF(o);
                st.pinned[st.npinned++] = o;
            }
            pm_alloc_pinned(a, addrs[i], ok);
        }
    }
}

static void unpin_all(void)
{
    PyObject **p = st.pinned;
    size_t n = st.npinned;
    st.pinned = NULL;
    st.npinned = st.cappinned = 0;
    for (size_t i = 0; i < n; i++)
        Py_DECREF(p[i]);
    free(p);
}

/* ---- the hooks ------------------------------------------------------------ */

static inline void sample_slow(pm_alloc *a, void *ptr, size_t size, int gil)
{
    pm_alloc_tls *me = &pm_alloc_me;
    me->busy = 1;
    PyThreadState *ts = PyGILState_GetThisThreadState();
    pm_alloc_slow(a, (uintptr_t)ptr, size, (uint64_t)(uintptr_t)ts, (uint64_t)PyThread_get_thread_ident());
    if ((gil || PyGILState_Check()) && a->codes.nqueue)
        drain_pins(a);
    me->busy = 0;
}

/* The whole fast path: one subtraction, one compare. */
static inline void count(void *ptr, size_t size, int gil)
{
    pm_alloc *a = atomic_load_explicit(&st.active, memory_order_relaxed);
    if (!a)
        return;
    pm_alloc_tls *me = &pm_alloc_me;
    me->left -= (int64_t)size;
    if (__builtin_expect(me->left > 0 && me->gen == a->gen, 1))
        return;
    sample_slow(a, ptr, size, gil);
}

static inline void forget(void *ptr)
{
    pm_alloc *a = atomic_load_explicit(&st.active, memory_order_relaxed);
    if (a && ptr && pm_blocks_maybe(&a->blocks, (uintptr_t)ptr))
        pm_alloc_freed(a, (uintptr_t)ptr);
}

#define HOOKS(D, GIL)                                                                  \
    static void *malloc_##D(void *ctx, size_t size)                                    \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc_tls *me = &pm_alloc_me;                                               \
        if (me->busy)                                                                  \
            return prev->malloc(prev->ctx, size);                                      \
        me->busy = 1;                                                                  \
        void *ptr = prev->malloc(prev->ctx, size);                                     \
        me->busy = 0;                                                                  \
        if (ptr)                                                                       \
            count(ptr, size, GIL);                                                     \
        return ptr;                                                                    \
    }                                                                                  \
    static void *calloc_##D(void *ctx, size_t nelem, size_t elsize)                    \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc_tls *me = &pm_alloc_me;                                               \
        if (me->busy)                                                                  \
            return prev->calloc(prev->ctx, nelem, elsize);                             \
        me->busy = 1;                                                                  \
        void *ptr = prev->calloc(prev->ctx, nelem, elsize);                            \
        me->busy = 0;                                                                  \
        if (ptr)                                                                       \
            count(ptr, nelem * elsize, GIL); /* no overflow: calloc checked it */      \
        return ptr;                                                                    \
    }                                                                                  \
    static void *realloc_##D(void *ctx, void *old, size_t size)                        \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc_tls *me = &pm_alloc_me;                                               \
        if (me->busy)                                                                  \
            return prev->realloc(prev->ctx, old, size);                                \
        pm_alloc *a = atomic_load_explicit(&st.active, memory_order_relaxed);          \
        pm_block was;                                                                  \
        /* Out of the table before the old block is released, so that     \
         * another thread given its address cannot be confused with it. */             \
        int had = a && old && pm_blocks_maybe(&a->blocks, (uintptr_t)old) &&           \
                  pm_alloc_take(a, (uintptr_t)old, &was);                              \
        me->busy = 1;                                                                  \
        void *ptr = prev->realloc(prev->ctx, old, size);                               \
        me->busy = 0;                                                                  \
        if (!ptr) { /* failed: the old block is still there, and still sampled */      \
            if (had)                                                                   \
                pm_alloc_restore(a, &was);                                             \
            return NULL;                                                               \
        }                                                                              \
        if (had) {                                                                     \
            pthread_mutex_lock(&a->lock);                                              \
            pm_alloc_release(a, &was);                                                 \
            pthread_mutex_unlock(&a->lock);                                            \
        }                                                                              \
        count(ptr, size, GIL);                                                         \
        return ptr;                                                                    \
    }                                                                                  \
    static void free_##D(void *ctx, void *ptr)                                         \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc_tls *me = &pm_alloc_me;                                               \
        if (me->busy) {                                                                \
            prev->free(prev->ctx, ptr);                                                \
            return;                                                                    \
        }                                                                              \
        forget(ptr);                                                                   \
        me->busy = 1;                                                                  \
        prev->free(prev->ctx, ptr);                                                    \
        me->busy = 0;                                                                  \
    }

/* RAW calls may come from a thread without the GIL; MEM and OBJ hold it. */
HOOKS(raw, 0)
HOOKS(mem, 1)
HOOKS(obj, 1)

static void fill_ours(void)
{
    st.ours[0] = (PyMemAllocatorEx){&st.prev[0], malloc_raw, calloc_raw, realloc_raw, free_raw};
    st.ours[1] = (PyMemAllocatorEx){&st.prev[1], malloc_mem, calloc_mem, realloc_mem, free_mem};
    st.ours[2] = (PyMemAllocatorEx){&st.prev[2], malloc_obj, calloc_obj, realloc_obj, free_obj};
}

static int is_ours(int d)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(domains[d], &cur);
    return cur.malloc == st.ours[d].malloc && cur.ctx == st.ours[d].ctx;
}

static void install(void)
{
    fill_ours();
    for (int d = 0; d < NDOMAINS; d++) {
        if (st.installed[d] && is_ours(d))
            continue;
        /* Not ours on top: (re)install over whatever is there now.  A hook
         * left in a chain below tracemalloc is then passed through twice at
         * most, never looped: prev is what is on top now, never ourselves. */
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(domains[d], &cur);
        if (cur.malloc == st.ours[d].malloc)
            continue;
        st.prev[d] = cur;
        PyMem_SetAllocator(domains[d], &st.ours[d]);
        st.installed[d] = 1;
    }
}

static void uninstall(void)
{
    for (int d = 0; d < NDOMAINS; d++) {
        if (st.installed[d] && is_ours(d)) {
            PyMem_SetAllocator(domains[d], &st.prev[d]);
            st.installed[d] = 0;
        }
    }
}

/* A forked child must not wait for a lock another thread of the parent held,
 * and has no session: it passes everything through. */
static pm_alloc *fork_locked;
static void fork_prepare(void)
{
    pm_alloc *a = atomic_load(&st.active);
    if (a)
        pthread_mutex_lock(&a->lock);
    fork_locked = a;
}
static void fork_parent(void)
{
    if (fork_locked)
        pthread_mutex_unlock(&fork_locked->lock);
    fork_locked = NULL;
}
static void fork_child(void)
{
    if (fork_locked)
        pthread_mutex_unlock(&fork_locked->lock);
    fork_locked = NULL;
    atomic_store(&st.active, NULL);
}

/* ---- the MemoryProfiler type ---------------------------------------------- */

typedef struct {
    PyObject_HEAD
    pm_ProfileObject *profile;
    pm_alloc *a;
    int state; /* 0 new, 1 running, 2 stopped */
} MemoryObject;

static PyObject *memory_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"profile", "rate", NULL};
    PyObject *profile;
    double rate = 512 * 1024;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|d", kwlist, &pm_ProfileType, &profile, &rate))
        return NULL;
    if (!(rate >= 1) || rate > 1e15) {
        PyErr_SetString(PyExc_ValueError, "memory rate must be a number of bytes between 1 and 1e15");
        return NULL;
    }
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return NULL;
    MemoryObject *self = (MemoryObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    Py_INCREF(profile);
    self->profile = (pm_ProfileObject *)profile;
    char err[256] = "";
    self->a = pm_alloc_new(&L, self->profile->p, rate, err, sizeof err);
    if (!self->a) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *memory_start(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->state != 0) {
        PyErr_SetString(PyExc_RuntimeError, "this memory profiler was already started");
        return NULL;
    }
    if (atomic_load(&st.active)) {
        PyErr_SetString(PyExc_RuntimeError, "another memory profile is already running");
        return NULL;
    }
    if (!st.atfork) {
        if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "cannot register the fork handlers");
            return NULL;
        }
        st.atfork = 1;
    }
    pm_alloc_start(self->a);
    self->state = 1;
    install();
    atomic_store(&st.active, self->a);
    Py_RETURN_NONE;
}

static PyObject *memory_stop(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->state != 1)
        Py_RETURN_NONE;
    self->state = 2;
    if (atomic_load(&st.active) == self->a) {
        atomic_store(&st.active, NULL);
        uninstall();
    }
    pthread_mutex_lock(&self->profile->lock);
    int rc = pm_alloc_finish(self->a);
    pthread_mutex_unlock(&self->profile->lock);
    unpin_all();
    if (rc != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *memory_checkpoint(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_alloc_checkpoint(self->a);
    Py_RETURN_NONE;
}

static PyObject *memory_stats(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_alloc *a = self->a;
    pthread_mutex_lock(&a->lock);
    PyObject *r = Py_BuildValue("{s:L,s:L,s:L,s:K,s:n}", "live_bytes", (long long)a->live_total, "peak_bytes",
                                (long long)a->peak_total, "allocated_bytes", (long long)a->alloc_total, "samples",
                                (unsigned long long)a->seq, "table", (Py_ssize_t)a->blocks.n);
    pthread_mutex_unlock(&a->lock);
    return r;
}

static void memory_dealloc(MemoryObject *self)
{
    if (self->state == 1) {
        PyObject *r = memory_stop(self, NULL);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    pm_alloc_free(self->a);
    Py_XDECREF(self->profile);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *memory_active(PyObject *cls, PyObject *noargs)
{
    (void)cls;
    (void)noargs;
    return PyBool_FromLong(atomic_load(&st.active) != NULL);
}

static PyMethodDef memory_methods[] = {
    {"start", (PyCFunction)memory_start, METH_NOARGS, "Installs the allocator hooks and starts sampling."},
    {"stop", (PyCFunction)memory_stop, METH_NOARGS, "Stops, and writes the memory metrics into the profile."},
    {"checkpoint", (PyCFunction)memory_checkpoint, METH_NOARGS, "Leaks are counted from here on."},
    {"stats", (PyCFunction)memory_stats, METH_NOARGS, "Live, peak and allocated estimates so far."},
    {"active", (PyCFunction)memory_active, METH_NOARGS | METH_CLASS, "Whether a memory profile is running."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pm_MemoryType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.MemoryProfiler",
    .tp_basicsize = sizeof(MemoryObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MemoryProfiler(profile, rate=524288): samples allocations every `rate` bytes on average.",
    .tp_new = memory_new,
    .tp_dealloc = (destructor)memory_dealloc,
    .tp_methods = memory_methods,
};
