/* pm_bind_nativemem.c — memory mode's native allocations (--native-memory):
 * malloc, calloc, realloc, the aligned allocators, free, and anonymous
 * mmap/munmap called by the shared objects outside the interpreter
 * (extension modules and the libraries they use, libc's own helpers such as
 * strdup included), redirected to the hooks below through their GOT slots
 * (collect/pm_got.c).
 *
 * The interpreter (the python executable and libpython) keeps calling the
 * real functions: its allocations already reach the PyMem hooks, and
 * pymalloc's arenas are the Python heap those hooks count block by block.
 * So nothing is counted twice, and the PyMem fast path pays nothing.
 *
 * A native allocation counts down the same per-thread gap as a Python one.
 * When a sample point falls in it, the allocating thread unwinds its own
 * stack: the frames between the hook and the first interpreter frame are
 * the native code that asked (kept, innermost first), the rest is the
 * Python stack the collector reads from the thread state.  The stack ends in
 * the allocator's own frame (malloc, mmap, ...), so native bytes are told
 * from Python bytes per stack.
 *
 * The interpreter's dlopen is redirected too, so the extension modules
 * imported while the session runs are reached when they load. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr, dladdr */
#endif
#include "pm_bind.h"

#include <dlfcn.h>
#include <malloc.h>
#include <string.h>
#include <sys/mman.h>

#include "collect/pm_got.h"
#include "collect/pm_native.h"
#include "pm_bind_memsession.h"
#include "pm_bind_nativemem.h"

enum { GROUP_ALLOC = 0, GROUP_LOAD = 1 };

static struct {
    pthread_mutex_t lock; /* the GOT list: start, stop, and a dlopen meanwhile */
    _Atomic int on;
    pm_got got;
    uintptr_t own_base, interp_base;       /* load addresses: ours, libpython's */
    uintptr_t own_lo, own_hi;              /* our mapped range */
    uintptr_t interp_lo, interp_hi;        /* libpython's (the program's when static) */
    uintptr_t main_lo, main_hi;            /* the python executable's */
} nm = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the sample ----------------------------------------------------------- */

static int in_range(uint64_t ip, uintptr_t lo, uintptr_t hi)
{
    return ip >= lo && ip < hi;
}

/* A sample point fell in a native block: the native frames that asked for
 * it, and the record.  Never inlined: the hooks' common path stays the
 * real call and a countdown, with no frame of this size to set up. */
static __attribute__((noinline)) void sample(void *ptr, size_t size, const char *allocator)
{
    /* The unwinder, the symbol reader and libc's helpers they call (strdup,
     * fopen) allocate through hooked objects: those calls, made while the
     * collector's lock is held, must not come back here. */
    if (pm_alloc_me.in_native)
        return;
    pm_alloc *a = pm_mem_session_for_sample();
    if (!a || !ptr)
        return;
    double prob = pm_alloc_due(a, (uintptr_t)ptr, size);
    if (!(prob > 0))
        return;
    pm_alloc_me.in_native = 1;
    uint64_t ips[PM_NATIVE_MAX], starts[PM_NATIVE_MAX];
    size_t n = pm_native_unwind_here(ips, starts, PM_NATIVE_MAX);
    size_t k = 0;
    while (k < n && in_range(ips[k], nm.own_lo, nm.own_hi)) /* this file's frames */
        k++;
    size_t m = k;
    while (m < n && !in_range(ips[m], nm.interp_lo, nm.interp_hi) && !in_range(ips[m], nm.main_lo, nm.main_hi))
        m++;
    PyThreadState *ts = PyGILState_GetThisThreadState(); /* a TLS read: no GIL needed */
    pm_alloc_native(a, (uintptr_t)ptr, size, prob, (uint64_t)(uintptr_t)ts, (uint64_t)PyThread_get_thread_ident(),
                    ips + k, m - k, allocator);
    pm_alloc_me.in_native = 0;
}

static __attribute__((noinline)) void release(pm_alloc *a, void *ptr)
{
    pm_alloc_freed(a, (uintptr_t)ptr);
}

/* A block the program gives back: out of the table when it was sampled. */
static inline void forget(void *ptr)
{
    pm_alloc *a = atomic_load_explicit(&pm_mem_now.active, memory_order_relaxed);
    if (a && ptr && __builtin_expect(pm_blocks_maybe(&a->blocks, (uintptr_t)ptr), 0) && !pm_alloc_me.in_native)
        release(a, ptr);
}

/* ---- the hooks: the real function, then the countdown ----------------------- */

static void *hook_malloc(size_t size)
{
    void *p = malloc(size);
    if (__builtin_expect(pm_mem_countdown(size), 0))
        sample(p, size, "malloc");
    return p;
}

static void *hook_calloc(size_t nelem, size_t elsize)
{
    void *p = calloc(nelem, elsize);
    size_t size = elsize && nelem > SIZE_MAX / elsize ? SIZE_MAX : nelem * elsize;
    if (p && __builtin_expect(pm_mem_countdown(size), 0))
        sample(p, size, "calloc");
    return p;
}

static void *hook_realloc(void *old, size_t size)
{
    pm_alloc *a = atomic_load_explicit(&pm_mem_now.active, memory_order_relaxed);
    pm_block was;
    /* Out of the table before the old block is released, so that another
     * thread given its address cannot be confused with it. */
    int had = a && old && pm_blocks_maybe(&a->blocks, (uintptr_t)old) && !pm_alloc_me.in_native &&
              pm_alloc_take(a, (uintptr_t)old, &was);
    void *p = realloc(old, size);
    if (had) {
        if (!p && size) { /* failed: the old block is still there, still sampled */
            pm_alloc_restore(a, &was);
            return NULL;
        }
        pthread_mutex_lock(&a->lock);
        pm_alloc_release(a, &was);
        pthread_mutex_unlock(&a->lock);
    }
    if (p && __builtin_expect(pm_mem_countdown(size), 0))
        sample(p, size, "realloc");
    return p;
}

static void hook_free(void *ptr)
{
    forget(ptr);
    free(ptr);
}

static int hook_posix_memalign(void **out, size_t align, size_t size)
{
    int rc = posix_memalign(out, align, size);
    if (rc == 0 && __builtin_expect(pm_mem_countdown(size), 0))
        sample(*out, size, "posix_memalign");
    return rc;
}

static void *hook_aligned_alloc(size_t align, size_t size)
{
    void *p = aligned_alloc(align, size);
    if (__builtin_expect(pm_mem_countdown(size), 0))
        sample(p, size, "aligned_alloc");
    return p;
}

static void *hook_memalign(size_t align, size_t size)
{
    void *p = memalign(align, size);
    if (__builtin_expect(pm_mem_countdown(size), 0))
        sample(p, size, "memalign");
    return p;
}

/* Anonymous mappings are memory the program asked for; a file's mapping is
 * its page cache, not counted.  A mapping unmapped in part is taken as
 * freed whole when its start goes. */
static void *hook_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && __builtin_expect(pm_mem_countdown(len), 0))
        sample(p, len, "mmap");
    return p;
}

static int hook_munmap(void *addr, size_t len)
{
    forget(addr);
    return munmap(addr, len);
}

static void *hook_dlopen(const char *file, int flags)
{
    void *h = dlopen(file, flags);
    if (h && atomic_load(&nm.on)) {
        pthread_mutex_lock(&nm.lock);
        if (atomic_load(&nm.on))
            (void)pm_got_apply(&nm.got); /* out of memory: the new object is not hooked */
        pthread_mutex_unlock(&nm.lock);
    }
    return h;
}

static const pm_got_hook hooks[] = {
    {"malloc", (void *)hook_malloc, GROUP_ALLOC},
    {"calloc", (void *)hook_calloc, GROUP_ALLOC},
    {"realloc", (void *)hook_realloc, GROUP_ALLOC},
    {"free", (void *)hook_free, GROUP_ALLOC},
    {"posix_memalign", (void *)hook_posix_memalign, GROUP_ALLOC},
    {"aligned_alloc", (void *)hook_aligned_alloc, GROUP_ALLOC},
    {"memalign", (void *)hook_memalign, GROUP_ALLOC},
    {"mmap", (void *)hook_mmap, GROUP_ALLOC},
    {"mmap64", (void *)hook_mmap, GROUP_ALLOC},
    {"munmap", (void *)hook_munmap, GROUP_ALLOC},
    {"dlopen", (void *)hook_dlopen, GROUP_LOAD},
};

/* Which hooks an object gets: none for ourselves and the dynamic loader
 * (whose allocations are its own); dlopen alone for the interpreter; all
 * for everything else. */
static unsigned classify(const char *path, uintptr_t base, void *arg)
{
    (void)arg;
    if (base == nm.own_base || strstr(path, "/ld-linux") || strstr(path, "linux-vdso") || strstr(path, "/ld-musl"))
        return 0;
    if (base == nm.interp_base || path[0] == 0)
        return 1u << GROUP_LOAD;
    return (1u << GROUP_ALLOC) | (1u << GROUP_LOAD);
}

/* ---- start and stop --------------------------------------------------------- */

int pm_nativemem_start(void)
{
    const char *why = NULL;
    if (pm_native_init(&why) != 0) {
        PyErr_Format(PyExc_RuntimeError, "native memory cannot be tracked here: %s", why ? why : "no unwinder");
        return -1;
    }
#if !defined(__x86_64__) && !defined(__aarch64__)
    PyErr_SetString(PyExc_RuntimeError, "native memory is tracked on x86-64 and aarch64 Linux only");
    return -1;
#endif
    Dl_info own, interp;
    if (!dladdr((void *)classify, &own) || !dladdr((void *)PyMem_Malloc, &interp)) {
        PyErr_SetString(PyExc_RuntimeError, "native memory: cannot find the interpreter's shared objects");
        return -1;
    }
    pthread_mutex_lock(&nm.lock);
    nm.own_base = (uintptr_t)own.dli_fbase;
    nm.interp_base = (uintptr_t)interp.dli_fbase;
    (void)pm_got_object_of((uintptr_t)classify, &nm.own_lo, &nm.own_hi);
    (void)pm_got_object_of((uintptr_t)PyMem_Malloc, &nm.interp_lo, &nm.interp_hi);
    pm_got_program(&nm.main_lo, &nm.main_hi);
    nm.got = (pm_got){hooks, sizeof hooks / sizeof hooks[0], classify, NULL, NULL, 0, 0};
    atomic_store(&nm.on, 1);
    int rc = pm_got_apply(&nm.got);
    if (rc != 0) {
        atomic_store(&nm.on, 0);
        pm_got_restore(&nm.got);
    }
    pthread_mutex_unlock(&nm.lock);
    if (rc != 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void pm_nativemem_stop(void)
{
    pthread_mutex_lock(&nm.lock);
    atomic_store(&nm.on, 0);
    pm_got_restore(&nm.got);
    pthread_mutex_unlock(&nm.lock);
}
