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
 * ours, as it would replace the default action.
 *
 * A child process of `pyrometer run --subprocesses` (_subprocesses.py) has
 * no Python to spare at SIGTERM: the same handler wakes a thread of ours
 * that writes the child's profile from C and then dies of SIGTERM
 * (_sigterm_write below). */
#include "pm_bind.h"

#include <semaphore.h>
#include <stdlib.h>

#include "output/pm_formats.h"
#include "output/pm_output.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The signal's default action back (async-signal-safe). */
static void set_default(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
}

static pid_t owner_pid;
static int proxy_signo;
static void (*proxy_handler)(int);
static int installed;

/* The writer of a profiled child process (pyrometer run --subprocesses): a
 * thread of ours, asleep on a semaphore, that the SIGTERM handler wakes. No
 * Python runs to write the profile: a child blocked in sem_wait (a pool
 * worker that Pool.terminate() ends) may never run a Python-level handler,
 * and the child must die of SIGTERM promptly whatever it was doing. */
static pid_t writer_pid;
static sem_t writer_wake;
static pm_ProfileObject *writer_profile; /* a reference held while armed */
static char *writer_path;
static pthread_t writer_tid;
static int writer_running;
static volatile sig_atomic_t writer_quit;

static void on_sigterm(int signo)
{
    if (writer_pid && getpid() == writer_pid) {
        sem_post(&writer_wake); /* async-signal-safe */
        return;
    }
    if (getpid() != owner_pid || !proxy_handler) {
        set_default(signo);
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
        set_default(SIGTERM);
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

/* Puts SIGTERM's default action back and dies of it, as the process would
 * have without pyrometer. */
static void die_of_sigterm(void)
{
    set_default(SIGTERM);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), SIGTERM);
    for (;;)
        pause();
}

static void *writer_main(void *arg)
{
    (void)arg;
    /* Only the handler's wake-up matters: every signal stays with the
     * program's threads. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (sem_wait(&writer_wake) != 0)
        ;
    if (writer_quit)
        return NULL; /* paused around a fork */
    pm_ProfileObject *po = writer_profile;
    if (po && writer_path && getpid() == writer_pid) {
        const pm_format *f = pm_format_find("pyro");
        pm_format_opts o = {-1, 0, NULL, 0};
        pm_buf buf;
        pm_buf_init(&buf);
        pthread_mutex_lock(&po->lock);
        int rc = f ? f->write(po->p, &o, &buf) : -1;
        pthread_mutex_unlock(&po->lock);
        char err[256];
        if (rc == 0 && !buf.oom)
            pm_file_write_atomic(writer_path, buf.data, buf.len, err, sizeof err);
        pm_buf_free(&buf);
    }
    die_of_sigterm();
    return NULL;
}

static int start_writer(void)
{
    writer_quit = 0;
    if (pthread_create(&writer_tid, NULL, writer_main, NULL) != 0)
        return -1;
    writer_running = 1;
    return 0;
}

/* Around os.fork (pm_bind_sampler.c's hooks): the writer thread goes, as
 * the sampling thread does, so that the program's fork sees its own threads
 * only (3.12+ warns about forking a process with several), and comes back
 * in the parent. A SIGTERM meanwhile stays posted for the new thread. */
void pm_bind_sigterm_writer_pause(void)
{
    if (!writer_running || writer_pid != getpid())
        return;
    writer_quit = 1;
    sem_post(&writer_wake);
    pthread_join(writer_tid, NULL);
    writer_running = 0;
}

void pm_bind_sigterm_writer_resume(void)
{
    if (!writer_running && writer_pid && writer_pid == getpid())
        start_writer();
}

/* _sigterm_write(profile, path) -> bool: on SIGTERM (while it is at SIG_DFL
 * or ours), this process writes profile to path as .pyro and dies of
 * SIGTERM. _sigterm_write(None, None) disarms: SIGTERM is SIG_DFL again.
 * A forked child arms anew (its parent's writer thread is not in it). */
PyObject *pm_bind_sigterm_write(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *profile, *path_obj;
    if (!PyArg_ParseTuple(args, "OO:_sigterm_write", &profile, &path_obj))
        return NULL;
    struct sigaction cur;
    if (sigaction(SIGTERM, NULL, &cur) != 0)
        Py_RETURN_FALSE;
    int ours = !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == on_sigterm;
    if (profile == Py_None) {
        if (writer_pid == getpid() && ours) {
            set_default(SIGTERM);
        }
        pm_bind_sigterm_writer_pause();
        writer_pid = 0;
        Py_RETURN_TRUE;
    }
    if (!PyObject_TypeCheck(profile, &pm_ProfileType)) {
        PyErr_SetString(PyExc_TypeError, "_sigterm_write() takes a Profile");
        return NULL;
    }
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(path_obj, &bytes))
        return NULL;
    if (!ours && ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)) {
        Py_DECREF(bytes);
        Py_RETURN_FALSE; /* the program's own handler: leave it */
    }
    char *path = strdup(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    if (!path)
        return PyErr_NoMemory();
    if (writer_pid != getpid()) {
        /* A new process: a new semaphore and thread (a forked child's
         * copies of the parent's are not to be used). The old profile
         * reference is left as it is: the parent's object, in this copy of
         * its memory. */
        writer_running = 0;
        if (sem_init(&writer_wake, 0, 0) != 0 || start_writer() != 0) {
            free(path);
            Py_RETURN_FALSE;
        }
        writer_profile = NULL;
        writer_path = NULL;
    }
    Py_INCREF(profile);
    Py_XDECREF((PyObject *)writer_profile);
    writer_profile = (pm_ProfileObject *)profile;
    free(writer_path);
    writer_path = path;
    writer_pid = getpid();
    if (!ours) {
        struct sigaction mine;
        memset(&mine, 0, sizeof mine);
        mine.sa_handler = on_sigterm;
        mine.sa_flags = SA_RESTART;
        sigemptyset(&mine.sa_mask);
        if (sigaction(SIGTERM, &mine, NULL) != 0) {
            writer_pid = 0;
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}
