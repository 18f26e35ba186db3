/* pm_bind_signals.c — saving the profile on SIGTERM without a Python-level
 * SIGTERM handler.
 *
 * `pyrometer run` must write the profile when the program is ended by a
 * SIGTERM it leaves at its default, yet the program must not see a handler
 * of ours: signal.getsignal(SIGTERM) is SIG_DFL, as without pyrometer. And a
 * Python-level handler is inherited by forked children (multiprocessing's
 * fork workers): a worker whose SIGTERM arrives just before it blocks in
 * sem_wait only sets the "tripped" flag, never runs the handler, and never
 * dies, so the parent waits forever in Pool.terminate().
 *
 * So the SIGTERM disposition is a C handler of ours, set with sigaction
 * below Python's signal module (which keeps SIG_DFL in its own table):
 *  - in any process but the one that installed it (a forked child), it puts
 *    SIG_DFL back and re-raises: the child dies of SIGTERM at once, as it
 *    would without pyrometer, even while it blocks;
 *  - in the profiled process, it forwards to the C handler Python's signal
 *    module installed for a proxy signal (one of the real-time signals, which
 *    carries the Python callable that writes the profile). Python's handler
 *    only sets its flag and wakes the eval loop, which is async-signal-safe;
 *    a blocking call interrupted by the SIGTERM returns EINTR and runs the
 *    callable, exactly as a Python-level SIGTERM handler would.
 * The program replacing the handler (signal.signal(SIGTERM, ...)) replaces
 * ours, as it would replace the default action. */
#include "pm_bind.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static pid_t owner_pid;
static int proxy_signo;
static void (*proxy_handler)(int);
static int installed;

static void on_sigterm(int signo)
{
    if (getpid() != owner_pid || !proxy_handler) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(signo, &dfl, NULL);
        raise(signo); /* blocked until this handler returns, then fatal */
        return;
    }
    proxy_handler(proxy_signo);
}

/* _sigterm_install(proxy) -> bool: takes SIGTERM when it is at SIG_DFL (the
 * kernel's view), forwarding to the handler Python installed for proxy. */
PyObject *pm_bind_sigterm_install(PyObject *self, PyObject *arg)
{
    (void)self;
    long proxy = PyLong_AsLong(arg);
    if (proxy == -1 && PyErr_Occurred())
        return NULL;
    if (proxy <= 0 || proxy >= NSIG || proxy == SIGTERM) {
        PyErr_SetString(PyExc_ValueError, "bad proxy signal");
        return NULL;
    }
    struct sigaction cur, py;
    if (sigaction(SIGTERM, NULL, &cur) != 0 || sigaction((int)proxy, NULL, &py) != 0)
        Py_RETURN_FALSE;
    if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
        Py_RETURN_FALSE; /* someone else's: leave it */
    if ((py.sa_flags & SA_SIGINFO) || py.sa_handler == SIG_DFL || py.sa_handler == SIG_IGN)
        Py_RETURN_FALSE; /* Python's handler for the proxy is not there */
    owner_pid = getpid();
    proxy_signo = (int)proxy;
    proxy_handler = py.sa_handler;
    struct sigaction mine;
    memset(&mine, 0, sizeof mine);
    mine.sa_handler = on_sigterm;
    /* Python's flags (SA_ONSTACK, no SA_RESTART): a blocking call is
     * interrupted, as it would be for a Python-level handler. */
    mine.sa_flags = py.sa_flags & ~SA_RESETHAND;
    sigemptyset(&mine.sa_mask);
    if (sigaction(SIGTERM, &mine, NULL) != 0)
        Py_RETURN_FALSE;
    installed = 1;
    Py_RETURN_TRUE;
}

/* _sigterm_uninstall(): SIGTERM back to SIG_DFL if it is still ours. */
PyObject *pm_bind_sigterm_uninstall(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    if (!installed)
        Py_RETURN_FALSE;
    installed = 0;
    struct sigaction cur;
    if (sigaction(SIGTERM, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == on_sigterm) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGTERM, &dfl, NULL);
        Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

/* _signal_free(signo) -> bool: the kernel has the signal at its default
 * action, with no handler at all.  Python's own table cannot tell: a
 * handler installed below it (the sampler's capture signal) reads as
 * SIG_DFL there. */
PyObject *pm_bind_signal_free(PyObject *self, PyObject *arg)
{
    (void)self;
    long signo = PyLong_AsLong(arg);
    if (signo == -1 && PyErr_Occurred())
        return NULL;
    struct sigaction cur;
    if (signo <= 0 || signo >= NSIG || sigaction((int)signo, NULL, &cur) != 0)
        Py_RETURN_FALSE;
    return PyBool_FromLong(!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL);
}
