/* pm_bind_memory.c — memory mode: the PyMem allocator hooks and the
 * MemoryProfiler type.  The accounting is in collect/pm_alloc.c.
 *
 * The hooks sit on all three domains (RAW, MEM, OBJ) and pass every call to
 * the allocator installed before them (pymalloc, the debug hooks,
 * tracemalloc's), so whatever was there keeps working below.  An allocation
 * costs one thread-local subtraction and compare unless a sample point
 * falls in it; a free asks a lock-free filter whether the block might be
 * sampled.  A block the MEM/OBJ allocator hands on to the RAW domain
 * (pymalloc does above 512 bytes; measured at start, never assumed) is
 * counted by the RAW hook only, so nothing is counted twice and the
 * common path needs no re-entrancy flag.
 *
 * The hooks stay installed until stop, and are removed only if they are
 * still the domain's allocator: when the program started tracemalloc on top
 * of them, removing ours would remove tracemalloc's too, so they stay in the
 * chain as plain pass-throughs (the state below is static for that reason). */
#include "pm_bind.h"

#include "collect/pm_heap.h"
#include "pm_bind_memsession.h"
#include "pm_bind_nativemem.h"

#define NDOMAINS 3
static const PyMemAllocatorDomain domains[NDOMAINS] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static struct {
    PyMemAllocatorEx prev[NDOMAINS]; /* what each hook passes to */
    PyMemAllocatorEx ours[NDOMAINS];
    int installed[NDOMAINS];
    size_t fwd[NDOMAINS];            /* MEM/OBJ blocks above this size go on to RAW */
    PyObject **pinned;               /* strong references to code objects seen */
    size_t npinned, cappinned;
    int atfork;
} st;

/* ---- pins: code objects kept alive so their address means them ---------- */

/* Under the GIL only, and under the collector's lock: a thread sampling a
 * RAW allocation without the GIL may be growing the code cache meanwhile. */
static void drain_pins(pm_alloc *a)
{
    uint64_t addrs[64];
    size_t n;
    pthread_mutex_lock(&a->lock);
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
    pthread_mutex_unlock(&a->lock);
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

/* A sample point fell in a block: the stack is read and the block recorded. */
static void sample_slow(pm_alloc *a, void *ptr, size_t size, int gil)
{
    PyThreadState *ts = PyGILState_GetThisThreadState();
    pm_alloc_slow(a, (uintptr_t)ptr, size, (uint64_t)(uintptr_t)ts, (uint64_t)PyThread_get_thread_ident());
    /* A RAW call may come without the GIL (and PyGILState_Check says 1
     * whenever its checks are off): code objects first seen there are
     * pinned at the next MEM/OBJ sample, and verified meanwhile. */
    if (gil && a->codes.nqueue)
        drain_pins(a);
}

/* The countdown crossed zero, or belongs to another session. */
static void counted_slow(void *ptr, size_t size, int gil)
{
    pm_alloc *a = pm_mem_session_for_sample();
    if (a && ptr)
        sample_slow(a, ptr, size, gil);
}

/* A MEM/OBJ block larger than fwd[d] is one the allocator below passes on
 * to the RAW domain (pymalloc does above 512 bytes): the RAW hook counts
 * it, once.
 * The slow paths are functions of their own (noinline) so that the fast
 * path saves no register and ends in a tail call to the allocator below. */
#define HOOKS(D, I, GIL)                                                               \
    static __attribute__((noinline)) void *malloc_slow_##D(PyMemAllocatorEx *prev, size_t size) \
    {                                                                                  \
        void *ptr = prev->malloc(prev->ctx, size);                                     \
        counted_slow(ptr, size, GIL);                                                  \
        return ptr;                                                                    \
    }                                                                                  \
    static void *malloc_##D(void *ctx, size_t size)                                    \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        if (I == 0 && __builtin_expect(pm_alloc_me.probe, 0))                          \
            pm_alloc_me.probe_seen = size;                                             \
        if (size <= st.fwd[I] && __builtin_expect(pm_mem_countdown(size), 0))          \
            return malloc_slow_##D(prev, size);                                        \
        return prev->malloc(prev->ctx, size);                                          \
    }                                                                                  \
    static __attribute__((noinline)) void *calloc_slow_##D(PyMemAllocatorEx *prev, size_t nelem, \
                                                           size_t elsize)              \
    {                                                                                  \
        void *ptr = prev->calloc(prev->ctx, nelem, elsize);                            \
        counted_slow(ptr, nelem * elsize, GIL);                                        \
        return ptr;                                                                    \
    }                                                                                  \
    static void *calloc_##D(void *ctx, size_t nelem, size_t elsize)                    \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        size_t size = elsize && nelem > SIZE_MAX / elsize ? SIZE_MAX : nelem * elsize; \
        if (I == 0 && __builtin_expect(pm_alloc_me.probe, 0))                          \
            pm_alloc_me.probe_seen = size;                                             \
        if (size <= st.fwd[I] && size != SIZE_MAX && __builtin_expect(pm_mem_countdown(size), 0)) \
            return calloc_slow_##D(prev, nelem, elsize);                               \
        return prev->calloc(prev->ctx, nelem, elsize);                                 \
    }                                                                                  \
    static __attribute__((noinline)) void *realloc_slow_##D(PyMemAllocatorEx *prev, pm_alloc *a, \
                                                            void *old, size_t size)    \
    {                                                                                  \
        pm_block was;                                                                  \
        /* Out of the table before the old block is released, so that     \
         * another thread given its address cannot be confused with it. */             \
        int had = old && pm_blocks_maybe(&a->blocks, (uintptr_t)old) &&                \
                  pm_alloc_take(a, (uintptr_t)old, &was);                              \
        void *ptr = prev->realloc(prev->ctx, old, size);                               \
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
        if (size <= st.fwd[I] && pm_mem_countdown(size))                               \
            counted_slow(ptr, size, GIL);                                              \
        return ptr;                                                                    \
    }                                                                                  \
    static void *realloc_##D(void *ctx, void *old, size_t size)                        \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc *a = atomic_load_explicit(&pm_mem_now.active, memory_order_relaxed);          \
        if (I == 0 && __builtin_expect(pm_alloc_me.probe, 0))                          \
            pm_alloc_me.probe_seen = size;                                             \
        if (a)                                                                         \
            return realloc_slow_##D(prev, a, old, size);                               \
        return prev->realloc(prev->ctx, old, size);                                    \
    }                                                                                  \
    static __attribute__((noinline)) void free_slow_##D(PyMemAllocatorEx *prev, pm_alloc *a, void *ptr) \
    {                                                                                  \
        pm_alloc_freed(a, (uintptr_t)ptr);                                             \
        prev->free(prev->ctx, ptr);                                                    \
    }                                                                                  \
    static void free_##D(void *ctx, void *ptr)                                         \
    {                                                                                  \
        PyMemAllocatorEx *prev = ctx;                                                  \
        pm_alloc *a = atomic_load_explicit(&pm_mem_now.active, memory_order_relaxed);          \
        if (a && ptr && __builtin_expect(pm_blocks_maybe(&a->blocks, (uintptr_t)ptr), 0)) \
            return free_slow_##D(prev, a, ptr);                                        \
        prev->free(prev->ctx, ptr);                                                    \
    }

/* RAW calls may come from a thread without the GIL; MEM and OBJ hold it. */
HOOKS(raw, 0, 0)
HOOKS(mem, 1, 1)
HOOKS(obj, 2, 1)

/* Above which size the allocator below domain d hands blocks to the RAW
 * domain: asked of it, not assumed (PYTHONMALLOC=malloc hands nothing on,
 * the debug hooks add their own header).  Our RAW hook must be on top. */
static size_t probe_forwarding(int d)
{
    PyMemAllocatorEx *prev = &st.prev[d];
    size_t lo = 1, hi = (size_t)1 << 20, found = 0;
    pm_alloc_me.probe = 1;
    while (lo <= hi) {
        size_t mid = lo + (hi - lo) / 2;
        pm_alloc_me.probe_seen = 0;
        void *p = prev->malloc(prev->ctx, mid);
        size_t seen = pm_alloc_me.probe_seen;
        if (p)
            prev->free(prev->ctx, p);
        if (seen >= mid) {
            found = mid;
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    pm_alloc_me.probe = 0;
    return found ? found - 1 : SIZE_MAX;
}

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
    if (!atomic_load(&pm_mem_now.active))
        atomic_store(&pm_mem_now.big, SIZE_MAX); /* 0 before the first session: all would go the slow way */
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
    st.fwd[0] = SIZE_MAX;
    st.fwd[1] = probe_forwarding(1);
    st.fwd[2] = probe_forwarding(2);
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
    pm_alloc *a = atomic_load(&pm_mem_now.active);
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
    atomic_store(&pm_mem_now.gen, 0);
    atomic_store(&pm_mem_now.big, SIZE_MAX);
    atomic_store(&pm_mem_now.active, NULL);
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
    static char *kwlist[] = {"profile", "rate", "native", NULL};
    PyObject *profile;
    double rate;
    int native = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!d|p", kwlist, &pm_ProfileType, &profile, &rate, &native))
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
    self->a->native = native;
    return (PyObject *)self;
}

static PyObject *memory_start(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->state != 0) {
        PyErr_SetString(PyExc_RuntimeError, "this memory profiler was already started");
        return NULL;
    }
    if (atomic_load(&pm_mem_now.active)) {
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
    if (self->a->native && pm_nativemem_start() != 0)
        return NULL;
    pm_alloc_start(self->a);
    self->state = 1;
    install();
    atomic_store(&pm_mem_now.active, self->a);
    atomic_store(&pm_mem_now.big, self->a->big);
    atomic_store(&pm_mem_now.gen, self->a->gen); /* after active: a thread that sees the new gen finds the session */
    Py_RETURN_NONE;
}

static PyObject *memory_stop(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->state != 1)
        Py_RETURN_NONE;
    self->state = 2;
    if (atomic_load(&pm_mem_now.active) == self->a) {
        atomic_store(&pm_mem_now.gen, 0);
        atomic_store(&pm_mem_now.big, SIZE_MAX);
        atomic_store(&pm_mem_now.active, NULL);
        uninstall();
    }
    if (self->a->native)
        pm_nativemem_stop();
    pthread_mutex_lock(&self->profile->lock);
    int rc = pm_alloc_finish(self->a);
    pthread_mutex_unlock(&self->profile->lock);
#if PY_VERSION_HEX < 0x030B0000
    pm_bind_qualify_names(&self->a->codes, &self->a->space, self->profile);
#endif
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

/* quiet(flag): while set, nothing this thread allocates is sampled (the
 * heap census pyrometer takes at start and at exit is not the program's);
 * frees are still seen, so the live figures stay right. */
static PyObject *memory_quiet(MemoryObject *self, PyObject *arg)
{
    (void)self;
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    pm_alloc_me.quiet = on;
    if (!on) /* a fresh gap at the next allocation, drawn as at a thread's first */
        pm_alloc_me.gen = 0;
    Py_RETURN_NONE;
}

/* entry_codes(codes): the code objects of the functions that run the
 * program (pyrometer run's), so that a walk can stop at their frame
 * (collect/pm_alloc.h, entry_codes).  Taken under the collector's lock, so
 * while it runs too; the caller keeps them alive. */
static PyObject *memory_entry_codes(MemoryObject *self, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "entry_codes takes a sequence of code objects");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint64_t codes[4];
    if (n > 4) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "entry_codes takes at most 4 code objects");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyCode_Check(c)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "entry_codes takes code objects");
            return NULL;
        }
        codes[i] = (uint64_t)(uintptr_t)c;
    }
    Py_DECREF(seq);
    pthread_mutex_lock(&self->a->lock);
    pm_alloc_set_entry_codes(self->a, codes, (size_t)n);
    pthread_mutex_unlock(&self->a->lock);
    Py_RETURN_NONE;
}

/* sampled_nodes(objects) -> [node or -1]: the trie node of the sample of
 * each object's allocation, when the block holding it was sampled and is
 * live.  The block starts before the object by the type's pre-header
 * (GC header, managed dict/weakref words): what the OBJ allocator hook saw
 * is that address, with that size. */
static PyObject *memory_sampled_nodes(MemoryObject *self, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "sampled_nodes() takes a sequence of objects");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    uintptr_t *ptrs = PyMem_RawMalloc((size_t)(n ? n : 1) * sizeof *ptrs);
    uint32_t *nodes = PyMem_RawMalloc((size_t)(n ? n : 1) * sizeof *nodes);
    PyObject *out = ptrs && nodes ? PyList_New(n) : PyErr_NoMemory();
    if (out) {
        for (Py_ssize_t i = 0; i < n; i++)
            ptrs[i] = (uintptr_t)items[i] - pm_heap_preheader(Py_TYPE(items[i]));
        pm_alloc_lookup(self->a, ptrs, (size_t)n, nodes);
        for (Py_ssize_t i = 0; out && i < n; i++) {
            PyObject *v = PyLong_FromLong(nodes[i] == PM_NONE ? -1 : (long)nodes[i]);
            if (!v)
                Py_CLEAR(out);
            else
                PyList_SET_ITEM(out, i, v);
        }
    }
    PyMem_RawFree(ptrs);
    PyMem_RawFree(nodes);
    Py_DECREF(seq);
    return out;
}

static PyObject *memory_stats(MemoryObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_alloc *a = self->a;
    /* Read under the lock, built after it: building allocates, and an
     * allocation that is sampled takes the lock (every one at rate 1). */
    pthread_mutex_lock(&a->lock);
    long long live = a->live_total, peak = a->peak_total, allocated = a->alloc_total;
    unsigned long long samples = a->seq;
    Py_ssize_t table = (Py_ssize_t)a->blocks.n;
    pthread_mutex_unlock(&a->lock);
    return Py_BuildValue("{s:L,s:L,s:L,s:K,s:n}", "live_bytes", live, "peak_bytes", peak, "allocated_bytes",
                         allocated, "samples", samples, "table", table);
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
    return PyBool_FromLong(atomic_load(&pm_mem_now.active) != NULL);
}

static PyMethodDef memory_methods[] = {
    {"start", (PyCFunction)memory_start, METH_NOARGS, "Installs the allocator hooks and starts sampling."},
    {"stop", (PyCFunction)memory_stop, METH_NOARGS, "Stops, and writes the memory metrics into the profile."},
    {"checkpoint", (PyCFunction)memory_checkpoint, METH_NOARGS, "Leaks are counted from here on."},
    {"quiet", (PyCFunction)memory_quiet, METH_O, "While true, this thread's allocations are not sampled."},
    {"entry_codes", (PyCFunction)memory_entry_codes, METH_O,
     "The code objects of the functions that run the program: stacks are read down to their frame."},
    {"sampled_nodes", (PyCFunction)memory_sampled_nodes, METH_O,
     "The node of each object's sampled allocation, -1 when it was not sampled."},
    {"stats", (PyCFunction)memory_stats, METH_NOARGS, "Live, peak and allocated estimates so far."},
    {"active", (PyCFunction)memory_active, METH_NOARGS | METH_CLASS, "Whether a memory profile is running."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pm_MemoryType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.MemoryProfiler",
    .tp_basicsize = sizeof(MemoryObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MemoryProfiler(profile, rate, native=False): samples allocations every `rate` bytes on "
              "average; native: also malloc and mmap by the shared objects outside the interpreter.",
    .tp_new = memory_new,
    .tp_dealloc = (destructor)memory_dealloc,
    .tp_methods = memory_methods,
};
