/* test_stack.c — pm_stack: calls continue on fresh segments when a thread's
 * stack runs low, so recursion far deeper than the stack returns the right
 * result, including a deep caller calling a small function in a loop. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "collect/pm_stack.h"
#include "pm_test.h"

typedef struct {
    long depth;
    uintptr_t lo, hi; /* the thread's own stack */
    int off_stack;    /* a level ran outside it */
    long sum;
} deep_ctx;

typedef struct {
    deep_ctx *d;
    long n;
} level;

static void *down(void *p);

/* Each level keeps ~512 bytes of its own on the stack, as an interpreter
 * frame would, and enters the next through pm_stack_call when low. */
static long step(deep_ctx *d, long n)
{
    volatile char pad[512];
    memset((char *)pad, (int)(n & 0x7f), sizeof pad);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here < d->lo || here > d->hi)
        d->off_stack = 1;
    level next = {d, n - 1};
    long r;
    if (n == 0)
        r = 0;
    else if (pm_stack_low())
        r = (long)(intptr_t)pm_stack_call(down, &next);
    else
        r = (long)(intptr_t)down(&next);
    return r + pad[n % 512] - (char)(n & 0x7f) + 1;
}

static void *down(void *p)
{
    level *l = p;
    return (void *)(intptr_t)step(l->d, l->n);
}

static void *leaf(void *p)
{
    return (void *)(intptr_t)(((level *)p)->n & 3);
}

static void *thread_main(void *p)
{
    deep_ctx *d = p;
    pthread_attr_t a;
    void *addr;
    size_t size;
    pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    d->lo = (uintptr_t)addr;
    d->hi = (uintptr_t)addr + size;
    level top = {d, d->depth};
    d->sum = (long)(intptr_t)down(&top);
    /* hovering: past the first switch, many short calls through it */
    level l = {d, 5};
    for (int i = 0; i < 2000; i++) {
        l.n = i;
        d->sum += (long)(intptr_t)pm_stack_call(leaf, &l) - (i & 3);
    }
    return NULL;
}

static void run_on_small_thread(pm_t *t, long depth)
{
    deep_ctx d = {.depth = depth};
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    pthread_t th;
    CHECK(pthread_create(&th, &a, thread_main, &d) == 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&a);
    CHECKF(d.sum == depth + 1, "sum %ld for depth %ld", d.sum, depth); /* a 1 per level */
    CHECK(d.off_stack == PM_STACK_SWITCHES);
}

/* 256 KB of thread stack; 90,000 levels need ~50 MB: several segments. */
static void test_stack_deep_recursion_moves_to_segments(pm_t *t)
{
    run_on_small_thread(t, 90000);
}

/* Shallow: never leaves the thread's stack. */
static void test_stack_shallow_stays(pm_t *t)
{
    deep_ctx d = {.depth = 50};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, thread_main, &d) == 0);
    pthread_join(th, NULL);
    CHECK(d.sum == 51);
    CHECK(d.off_stack == 0);
}

const pm_test pm_tests_stack[] = {
    {"stack_deep_recursion_moves_to_segments", test_stack_deep_recursion_moves_to_segments},
    {"stack_shallow_stays", test_stack_shallow_stays},
    {NULL, NULL},
};
