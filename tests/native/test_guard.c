/* test_guard.c — pm_guard, the fault-catching reads of our own memory: a
 * guarded read of an unmapped page fails without reaching the handler that
 * was there before; a fault outside a guarded read goes to that handler and
 * the guard stays installed for the next read (a crash report written
 * meanwhile must not lose the guard); a handler installed over the guard's
 * hands a guarded read's fault back with pm_guard_catch. */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collect/pm_guard.h"
#include "pm_test.h"

static sigjmp_buf back;
static volatile sig_atomic_t prior_calls, top_calls;

/* The program's own handler: counts and leaves the faulting code. */
static void prior(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)info;
    (void)ctx;
    prior_calls++;
    siglongjmp(back, 1);
}

/* A handler installed over the guard's, as --dump-on-fatal's may be. */
static void on_top(int sig)
{
    (void)sig;
    pm_guard_catch();
    top_calls++;
    siglongjmp(back, 1);
}

static char *unmapped_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, (size_t)page);
    return p;
}

static void set(int sig, struct sigaction *sa, struct sigaction *old)
{
    sigemptyset(&sa->sa_mask);
    sigaction(sig, sa, old);
}

static void test_chains_and_stays(pm_t *t)
{
    struct sigaction sa, saved_segv, saved_bus;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prior;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    set(SIGSEGV, &sa, &saved_segv);
    set(SIGBUS, &sa, &saved_bus);
    volatile char *bad = unmapped_page();
    char buf[8];

    CHECK(pm_guard_install() == 0 && pm_guard_active());
    CHECK(pm_guard_copy(buf, (const void *)bad, sizeof buf) == -1);
    CHECK(prior_calls == 0);

    if (sigsetjmp(back, 1) == 0)
        buf[0] = bad[0]; /* the program's own fault */
    CHECK(prior_calls == 1);
    CHECK(pm_guard_active()); /* still ours afterwards */
    CHECK(pm_guard_copy(buf, (const void *)bad, sizeof buf) == -1);
    CHECK(prior_calls == 1);

    /* A plain handler put over the guard's. */
    struct sigaction top, under;
    memset(&top, 0, sizeof top);
    top.sa_handler = on_top;
    top.sa_flags = SA_NODEFER;
    set(SIGSEGV, &top, &under);
    CHECK(pm_guard_copy(buf, (const void *)bad, sizeof buf) == -1);
    CHECK(top_calls == 0);
    if (sigsetjmp(back, 1) == 0)
        buf[0] = bad[0];
    CHECK(top_calls == 1);
    sigaction(SIGSEGV, &under, NULL);

    pm_guard_uninstall();
    CHECK(!pm_guard_active());
    sigaction(SIGSEGV, &saved_segv, NULL);
    sigaction(SIGBUS, &saved_bus, NULL);
}

const pm_test pm_tests_guard[] = {
    {"guard_chains_and_stays", test_chains_and_stays},
    {NULL, NULL},
};
