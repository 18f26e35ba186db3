/* pm_remote_watch.c — see pm_remote_watch.h. */
#include "pm_remote_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pm_guard.h"
#include "pm_remote_session.h"

#define NTHREADS 256
#define REPEATS 3 /* a frame repeated in a row printed this many times, then counted */

/* The watch's state: one per process (a signal handler can reach nothing else). */
static struct {
    int on;
    int wake[2];              /* handler -> watcher: the signal number */
    int ack[2];               /* watcher -> fatal handler: the stacks are written */
    pthread_t thread;
    pm_remote r;
    pm_profile *names;
    pm_rsession s;
    double hang_s;
    int dump_signo;
    int fatal;
    atomic_int fatal_seen;
    _Atomic uint64_t fatal_tid; /* the thread the fatal signal holds in its handler */
    struct sigaction old_dump, old_fatal[5];
    pthread_mutex_t lock;     /* one dump at a time */
    pm_rdump_thread th[NTHREADS];
    char cut[8][1024];        /* files of the launcher's frames, left out at the root */
    int ncut;
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const int fatal_signals[5] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static void put(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

static void putf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A frame of the launcher (pyrometer's own runner), outermost on the main
 * thread: the program's stack starts above it, as in its profile. */
static int launcher_frame(pm_id frame)
{
    const pm_frame *f = pm_frame_get(watch.names, frame);
    size_t len = 0;
    const char *file = f ? pm_str_get(watch.names, f->file, &len) : NULL;
    for (int i = 0; file && i < watch.ncut; i++)
        if (strlen(watch.cut[i]) == len && !memcmp(watch.cut[i], file, len))
            return 1;
    return 0;
}

void pm_watch_cut(const char *file)
{
    if (watch.ncut < 8)
        snprintf(watch.cut[watch.ncut++], sizeof watch.cut[0], "%s", file);
}

static void put_frame(int fd, pm_id frame, int32_t line)
{
    const pm_frame *f = pm_frame_get(watch.names, frame);
    size_t nl = 0, fl = 0;
    const char *name = f ? pm_str_get(watch.names, f->name, &nl) : NULL;
    const char *file = f ? pm_str_get(watch.names, f->file, &fl) : NULL;
    putf(fd, "    %.*s (%.*s:%d)\n", (int)(name ? nl : 1), name ? name : "?", (int)(file ? fl : 1),
         file ? file : "?", (int)line);
}

static int dump(int fd, const char *why, uint64_t still_tid)
{
    if (!watch.names)
        return -1;
    pthread_mutex_lock(&watch.lock);
    pm_rdump_thread *th = watch.th;
    size_t n = 0;
    int rc = pm_rsession_dump(&watch.s, th, NTHREADS, &n, still_tid);
    if (rc == 0) {
        putf(fd, "pyrometer: Python stacks of process %d (%s), %zu thread%s, innermost frame first\n",
             (int)watch.r.pid, why, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            putf(fd, "\nThread %llu '%s' (%s%s%s)\n", (unsigned long long)th[i].native_id, th[i].name,
                 th[i].running ? "running" : "idle", th[i].gil ? ", holds the GIL" : "",
                 th[i].ok ? "" : ", stack changed while read: partial");
            size_t depth = th[i].depth;
            while (depth > 1 && launcher_frame(th[i].frames[depth - 1]))
                depth--;
            if (!depth)
                putf(fd, "    (no Python frames)\n");
            for (size_t k = 0; k < depth;) {
                /* A recursion's repeats folded as a traceback folds them. */
                size_t same = 1;
                while (k + same < depth && th[i].frames[k + same] == th[i].frames[k] &&
                       th[i].lines[k + same] == th[i].lines[k])
                    same++;
                for (size_t r = 0; r < same && r < REPEATS; r++)
                    put_frame(fd, th[i].frames[k], th[i].lines[k]);
                if (same > REPEATS)
                    putf(fd, "    [previous frame repeated %zu more times]\n", same - REPEATS);
                k += same;
            }
            if (th[i].cut)
                putf(fd, "    ... the outermost frames are not shown (deeper than a dump reads)\n");
        }
    } else {
        putf(fd, "pyrometer: cannot read the Python stacks of process %d (%s)\n", (int)watch.r.pid, why);
    }
    pthread_mutex_unlock(&watch.lock);
    return rc;
}

int pm_watch_dump(int fd, const char *why) { return dump(fd, why, (uint64_t)syscall(SYS_gettid)); }

static void on_dump_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;
    if (write(watch.wake[1], &b, 1) < 0) {
        /* a full pipe: dumps already waiting */
    }
    errno = saved;
}

/* Waits up to ms for the watcher's acknowledgement.  poll is never
 * restarted after a handler: a signal meanwhile (the sampler's capture
 * signal, sent when a read of this thread's stack tears) would end the
 * wait at once, and the process would die before the report. */
static void wait_for_ack(int ms)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = ms - ((now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L);
        struct pollfd p = {watch.ack[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) >= 0 || errno != EINTR)
            return;
    }
}

/* A fatal signal: the watcher writes every stack (this thread's stands
 * still), then the signal goes to whatever handled it before us (the
 * default action, or faulthandler's report and then the default action),
 * so the process ends as it would have. */
static void on_fatal_signal(int sig)
{
    /* A fault in one of our guarded reads, on a thread that was reading
     * while this handler went on top of the guard's: not the program's. */
    if (sig == SIGSEGV || sig == SIGBUS)
        pm_guard_catch();
    if (!atomic_exchange(&watch.fatal_seen, 1)) {
        atomic_store(&watch.fatal_tid, (uint64_t)syscall(SYS_gettid));
        char b = (char)sig;
        if (write(watch.wake[1], &b, 1) == 1)
            wait_for_ack(5000);
    }
    for (int i = 0; i < 5; i++)
        if (fatal_signals[i] == sig)
            sigaction(sig, &watch.old_fatal[i], NULL);
    /* Blocked until we return (no SA_NODEFER); a fault then also runs
     * again under the handler put back. */
    raise(sig);
}

static void *watcher(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* the program's signals are not ours */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int hang_done = watch.hang_s <= 0;
    for (;;) {
        int timeout = -1;
        if (!hang_done) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double left = watch.hang_s - ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
            timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
        }
        struct pollfd p = {watch.wake[0], POLLIN, 0};
        int rc = poll(&p, 1, timeout);
        if (rc == 0 && !hang_done) {
            char why[64];
            snprintf(why, sizeof why, "still running after %gs", watch.hang_s);
            pm_watch_dump(2, why);
            hang_done = 1;
            continue;
        }
        if (rc < 0)
            continue;
        char b;
        if (read(watch.wake[0], &b, 1) != 1)
            continue;
        if (b == 0)
            return NULL; /* stop */
        char why[64];
        snprintf(why, sizeof why, "signal %s", strsignal((int)b));
        int fatal = 0;
        for (int i = 0; i < 5; i++)
            fatal |= (int)b == fatal_signals[i] && watch.fatal;
        dump(2, why, fatal ? atomic_load(&watch.fatal_tid) : 0);
        if (fatal)
            put(watch.ack[1], "x", 1);
    }
}

int pm_watch_open_self(long tid_offset, char *err, size_t errlen)
{
    if (watch.names)
        return 0;
    if (pm_remote_open(&watch.r, getpid(), err, errlen) != PM_REMOTE_OK)
        return -1;
    watch.names = pm_profile_new();
    if (!watch.names || pm_rsession_init(&watch.s, &watch.r, watch.names, NULL, 0, 100, err, errlen) != 0)
        return -1;
    watch.s.w.tid_offset = tid_offset;
    return 0;
}

/* A forked child has no watcher thread (and shares the pipe with the
 * parent's): its signals go back to what they were. */
static void in_child(void)
{
    if (watch.dump_signo > 0)
        sigaction(watch.dump_signo, &watch.old_dump, NULL);
    if (watch.fatal)
        for (int i = 0; i < 5; i++)
            sigaction(fatal_signals[i], &watch.old_fatal[i], NULL);
    watch.on = 0;
}

int pm_watch_start(long tid_offset, double hang_s, int dump_signo, int fatal, char *err, size_t errlen)
{
    if (watch.on) {
        snprintf(err, errlen, "the stack watch is already on");
        return -1;
    }
    if (pm_watch_open_self(tid_offset, err, errlen) != 0)
        return -1;
    watch.hang_s = hang_s;
    watch.dump_signo = dump_signo;
    watch.fatal = fatal;
    if (pipe2(watch.wake, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(watch.ack, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    /* The reading end blocks in poll(), not read(). */
    fcntl(watch.wake[0], F_SETFL, 0);
    if (hang_s > 0 || dump_signo > 0 || fatal) {
        if (pthread_create(&watch.thread, NULL, watcher, NULL) != 0) {
            snprintf(err, errlen, "cannot start the watch thread");
            return -1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (dump_signo > 0) {
        sa.sa_handler = on_dump_signal;
        sigaction(dump_signo, &sa, &watch.old_dump);
    }
    if (fatal) {
        sa.sa_handler = on_fatal_signal;
        sa.sa_flags = SA_RESTART | SA_ONSTACK;
        for (int i = 0; i < 5; i++)
            sigaction(fatal_signals[i], &sa, &watch.old_fatal[i]);
    }
    pthread_atfork(NULL, NULL, in_child);
    watch.on = 1;
    return 0;
}

