/* pm_stack.c — fresh C stack segments for deep recursion (see pm_stack.h).
 *
 * A segment is 64 MB of address space mapped with MAP_NORESERVE and a
 * PROT_NONE guard page at its bottom; the kernel commits pages as they are
 * touched.  Calls move on to a new segment once half of the current one is
 * used; they leave the thread's own stack once a quarter of it is, since
 * the C code below (a deep repr, a parser) may need the rest, as much as
 * the interpreter's C recursion limit allows.  Each thread keeps one spare
 * segment: a program whose recursion hovers at a boundary (a deep caller
 * calling small functions in a loop) pays a context switch per crossing
 * (~0.5 us, glibc's swapcontext saves the signal mask), never a mapping.
 * Deeper segments are unmapped when their call returns; the spare goes at
 * thread exit.
 *
 * The switch uses ucontext: the call's arguments travel in a thread-local
 * pointer because makecontext passes only ints.  Under AddressSanitizer the
 * switches are announced, or it would take the segment for an overflow. */
#include "pm_stack.h"

#if PM_STACK_SWITCHES

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PM_ASAN 1
#endif
#endif
#ifdef PM_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define SEG_SIZE ((size_t)64 << 20)
/* A thread stack reported larger than this (unlimited) counts as this. */
#define OWN_MAX ((size_t)64 << 20)

__thread char *pm_stack_floor __attribute__((tls_model("initial-exec")));

typedef struct {
    void *(*fn)(void *);
    void *arg;
    void *result;
    ucontext_t back;
#ifdef PM_ASAN
    const void *back_bottom;
    size_t back_size;
#endif
} call;

static __thread call *pending;
/* the thread's spare segment (its base) is the key's value, so that the
 * thread's exit unmaps it */
static pthread_key_t spare_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void drop_spare(void *seg) { munmap(seg, SEG_SIZE); }
static void make_key(void) { (void)pthread_key_create(&spare_key, drop_spare); }

/* First call on this thread: its stack's bounds. */
static void init_floor(void)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    char *fl = (char *)1; /* unknown bounds: never switch */
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &addr, &size) == 0 && addr && size) {
            char *top = (char *)addr + size;
            if (size > OWN_MAX)
                size = OWN_MAX;
            fl = top - size / 4; /* three quarters stay below */
        }
        pthread_attr_destroy(&a);
    }
    pm_stack_floor = fl;
}

static char *take_segment(void)
{
    char *seg = pthread_getspecific(spare_key);
    if (seg) {
        pthread_setspecific(spare_key, NULL);
        return seg;
    }
    seg = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (seg == MAP_FAILED)
        return NULL;
    /* a runaway recursion faults on the guard instead of writing below */
    (void)mprotect(seg, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);
    return seg;
}

static void give_back(char *seg)
{
    if (pthread_getspecific(spare_key) || pthread_setspecific(spare_key, seg) != 0)
        munmap(seg, SEG_SIZE);
}

static void trampoline(void)
{
    call *c = pending;
#ifdef PM_ASAN
    __sanitizer_finish_switch_fiber(NULL, &c->back_bottom, &c->back_size);
#endif
    c->result = c->fn(c->arg);
#ifdef PM_ASAN
    __sanitizer_start_switch_fiber(NULL, c->back_bottom, c->back_size);
#endif
    /* returning resumes c->back (uc_link) */
}

void *pm_stack_call(void *(*fn)(void *), void *arg)
{
    if (!pm_stack_floor) {
        init_floor();
        if (!pm_stack_low())
            return fn(arg);
    }
    pthread_once(&key_once, make_key);
    char *seg = take_segment();
    if (!seg)
        return fn(arg);

    call c = {.fn = fn, .arg = arg};
    ucontext_t there;
    if (getcontext(&there) != 0) {
        give_back(seg);
        return fn(arg);
    }
    there.uc_stack.ss_sp = seg;
    there.uc_stack.ss_size = SEG_SIZE;
    there.uc_link = &c.back;
    makecontext(&there, trampoline, 0);

    char *saved_floor = pm_stack_floor;
    pm_stack_floor = seg + SEG_SIZE / 2;
    pending = &c;
#ifdef PM_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, seg, SEG_SIZE);
#endif
    int rc = swapcontext(&c.back, &there);
#ifdef PM_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    pm_stack_floor = saved_floor;
    give_back(seg);
    if (rc != 0) /* never switched */
        return fn(arg);
    return c.result;
}

#else

void *pm_stack_call(void *(*fn)(void *), void *arg) { return fn(arg); }

#endif
