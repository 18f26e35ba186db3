/* pm_guard.c — see pm_guard.h. */
#include "pm_guard.h"

#include "pm_space.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* The jump target of the guarded copy running on this thread, if any.
 * initial-exec: reading it in the signal handler must not allocate. */
static __thread sigjmp_buf *volatile guard_target __attribute__((tls_model("initial-exec")));

static struct {
    pthread_mutex_t lock;
    int users;
    struct sigaction old_segv, old_bus;
} guard = {.lock = PTHREAD_MUTEX_INITIALIZER};

void pm_guard_catch(void)
{
    sigjmp_buf *target = guard_target;
    if (target) {
        guard_target = NULL;
        siglongjmp(*target, 1);
    }
}

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
    pm_guard_catch();
    /* Not ours: the handler that was there before handles it, and ours
     * stays, so a guarded read on another thread meanwhile (while that
     * handler writes a crash report, say) is still caught.  The default
     * action or SIG_IGN cannot be called: put it back and return, and the
     * faulting instruction runs again under it. */
    const struct sigaction *old = sig == SIGSEGV ? &guard.old_segv : &guard.old_bus;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction)
        old->sa_sigaction(sig, info, ctx);
    else if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN)
        old->sa_handler(sig);
    else
        sigaction(sig, old, NULL);
}

int pm_guard_install(void)
{
    pthread_mutex_lock(&guard.lock);
    int rc = 0;
    if (guard.users == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        /* NODEFER: leaving the handler by a jump must not leave the signal
         * blocked for the next fault. */
        sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, &guard.old_segv) != 0)
            rc = -1;
        else if (sigaction(SIGBUS, &sa, &guard.old_bus) != 0) {
            sigaction(SIGSEGV, &guard.old_segv, NULL);
            rc = -1;
        }
    }
    if (rc == 0)
        guard.users++;
    pthread_mutex_unlock(&guard.lock);
    return rc;
}

static int ours(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault;
}

void pm_guard_uninstall(void)
{
    pthread_mutex_lock(&guard.lock);
    if (guard.users > 0 && --guard.users == 0) {
        /* Only put back what we replaced if nobody replaced us since. */
        if (ours(SIGSEGV))
            sigaction(SIGSEGV, &guard.old_segv, NULL);
        if (ours(SIGBUS))
            sigaction(SIGBUS, &guard.old_bus, NULL);
    }
    pthread_mutex_unlock(&guard.lock);
}

int pm_guard_active(void) { return ours(SIGSEGV) && ours(SIGBUS); }

int pm_guard_copy(void *dst, const void *src, size_t n)
{
    sigjmp_buf target;
    if (sigsetjmp(target, 0) != 0)
        return -1;
    guard_target = &target;
    atomic_signal_fence(memory_order_seq_cst);
    memcpy(dst, src, n);
    atomic_signal_fence(memory_order_seq_cst);
    guard_target = NULL;
    return 0;
}

int pm_guard_copy_many(pm_region *r, size_t n)
{
    sigjmp_buf target;
    for (size_t i = 0; i < n; i++)
        if (!r[i].addr && r[i].len)
            return -1;
    if (sigsetjmp(target, 0) != 0)
        return -1;
    guard_target = &target;
    atomic_signal_fence(memory_order_seq_cst);
    for (size_t i = 0; i < n; i++)
        memcpy(r[i].dst, (const void *)(uintptr_t)r[i].addr, r[i].len);
    atomic_signal_fence(memory_order_seq_cst);
    guard_target = NULL;
    return 0;
}

int pm_guard_run(void (*fn)(void *), void *arg)
{
    sigjmp_buf target;
    if (sigsetjmp(target, 0) != 0)
        return -1;
    guard_target = &target;
    atomic_signal_fence(memory_order_seq_cst);
    fn(arg);
    atomic_signal_fence(memory_order_seq_cst);
    guard_target = NULL;
    return 0;
}
