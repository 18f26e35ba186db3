/* pm_capture.c — see pm_capture.h. */
#include "pm_capture.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "pm_guard.h"
#include "pm_native.h"
#include "pm_walker.h"

#define DATA_CAP (4u << 20)               /* bytes a capture may copy */
#define REGIONS_CAP (PM_MAX_DEPTH + 64)   /* thread state, current frame slot, chunk, frames */

#define SPIN_NS 10000                     /* wait this long for an answer before sleeping */

enum { IDLE = 0, ASKED, BUSY, DONE };

/* The request being served, for the handler; one capture at a time in the
 * process (the lock), whichever sampler asks. */
static _Atomic(pm_capture *) current;
static pthread_mutex_t take_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int signo; /* 0 until installed */

static uint64_t rd64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Copies [addr, addr + len) into the capture; its copy, or NULL. */
static const uint8_t *grab(pm_capture *c, uint64_t addr, size_t len)
{
    if (c->nregions == c->capregions || len > c->cap - c->used || len > UINT32_MAX)
        return NULL;
    uint8_t *dst = c->data + c->used;
    if (pm_space_read(&c->space, addr, dst, len) != 0)
        return NULL;
    c->regions[c->nregions++] = (pm_snap_region){addr, (uint32_t)len, (uint32_t)c->used};
    c->used += (len + 7) & ~(size_t)7;
    if (c->used > c->cap)
        c->used = c->cap;
    return dst;
}

/* Copies the data stack chunk at *older whole (header and used slots)
 * if `frame` lies in it: 1 and its span, the chunk before it next; 0 (and
 * nothing copied) when the frame is elsewhere (a generator's frame) or the
 * chunk cannot be copied. */
static int next_chunk(pm_capture *c, uint64_t *older, uint64_t frame, uint64_t *olo, uint64_t *ohi,
                      const uint8_t **ochunk)
{
    const pm_layout *L = c->L;
    uint8_t head[64];
    if (!*older || L->chunk_data > sizeof head || frame < *older + L->chunk_data ||
        pm_space_read(&c->space, *older, head, L->chunk_data) != 0)
        return 0;
    uint64_t top = rd64(head, L->chunk_top);
    uint64_t end = *older + L->chunk_data + top * 8;
    if (top > c->cap / 8 || frame >= end || L->fr_read > end - frame)
        return 0;
    const uint8_t *copy = grab(c, *older, (size_t)(end - *older));
    if (!copy)
        return 0;
    *olo = *older;
    *ohi = end;
    *ochunk = copy;
    *older = rd64(copy, L->chunk_previous);
    return 1;
}

/* On the interrupted thread: the thread state, where the current frame
 * pointer is kept (3.11/3.12: the C frame), the used part of the live data
 * stack chunk, and every frame of the chain outside that chunk (frame
 * objects before 3.11; generator, coroutine and older-chunk frames after). */
static void copy_self(pm_capture *c)
{
    const pm_layout *L = c->L;
    const uint8_t *ts = grab(c, c->tstate, L->ts_read);
    if (!ts) {
        c->failed = 1;
        return;
    }
    uint64_t frame;
    if (L->cframe_current_frame != PM_NO_OFFSET) {
        uint64_t cf = rd64(ts, L->ts_frame);
        const uint8_t *slot = cf ? grab(c, cf + L->cframe_current_frame, 8) : NULL;
        if (!slot) {
            c->failed = cf != 0;
            return;
        }
        frame = rd64(slot, 0);
    } else {
        frame = rd64(ts, L->ts_frame);
    }
    uint64_t lo = 0, hi = 0;
    const uint8_t *chunk = NULL;
    /* Older data stack chunks (3.11+, a deep stack): each copied whole, as
     * one region, when the walk reaches it, so a stack of thousands of
     * frames is a few dozen regions, not a region per frame. */
    uint64_t older = 0, olo = 0, ohi = 0;
    const uint8_t *ochunk = NULL;
    if (L->frames_kind == PM_FRAMES_INTERP) {
        lo = rd64(ts, L->ts_datastack_chunk);
        hi = rd64(ts, L->ts_datastack_top);
        if (lo && hi > lo && hi - lo <= c->cap / 2)
            chunk = grab(c, lo, (size_t)(hi - lo));
        if (!chunk)
            lo = hi = 0;
        else if (L->chunk_data <= hi - lo)
            older = rd64(chunk, L->chunk_previous);
    }
    /* A chain that loops (the thread stopped while relinking a frame) is
     * caught within twice its length (Brent): the walker rejects it. */
    uint64_t mark = frame;
    size_t power = 1, since = 0;
    for (size_t depth = 0; frame && depth < PM_MAX_DEPTH + 32; depth++) {
        if (depth && frame == mark) {
            c->failed = 1;
            return;
        }
        if (++since == power) {
            mark = frame;
            power *= 2;
            since = 0;
        }
        const uint8_t *f;
        if (chunk && frame >= lo && frame < hi && L->fr_read <= hi - frame)
            f = chunk + (frame - lo);
        else if ((ochunk && frame >= olo && frame < ohi && L->fr_read <= ohi - frame) ||
                 next_chunk(c, &older, frame, &olo, &ohi, &ochunk))
            f = ochunk + (frame - olo);
        else if (!(f = grab(c, frame, L->fr_read))) {
            c->failed = 1;
            return;
        }
        frame = rd64(f, L->fr_back);
    }
}

static void unwind(void *arg)
{
    pm_capture *c = arg;
    c->nat_n = pm_native_unwind(c->nat_uc, c->nat_ips, PM_NATIVE_MAX, NULL);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    int saved = errno;
    pm_capture *c = atomic_load(&current);
    if (c && si->si_code == SI_TKILL && si->si_pid == c->pid && (pid_t)syscall(SYS_gettid) == c->tid) {
        int want = ASKED;
        if (atomic_compare_exchange_strong(&c->state, &want, BUSY)) {
            copy_self(c);
            c->nat_n = -1;
            /* The unwinder reads this thread's stack and the modules'
             * unwind tables; a fault there (a corrupt table) must cost a
             * sample, not the process: only under the guard. */
            if (c->native && c->direct && !c->failed) {
                c->nat_uc = uc;
                if (pm_guard_run(unwind, c) != 0)
                    c->nat_n = -1;
            }
            if (c->extra && !c->failed)
                c->extra(c->extra_ctx);
            atomic_store(&c->state, DONE);
            syscall(SYS_futex, (int *)&c->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
    }
    errno = saved;
}

/* A real-time signal that nobody handles, searched from the top (programs
 * and libraries that use one usually take SIGRTMIN + k).  Kept for the life
 * of the process once installed: a request that timed out may leave the
 * signal pending on a thread that blocks it, and the default action of a
 * real-time signal is to end the process. */
static int install(void)
{
    pthread_mutex_lock(&install_lock);
    if (!signo) {
        for (int s = SIGRTMAX; s >= SIGRTMIN + 4 && !signo; s--) {
            struct sigaction cur;
            if (sigaction(s, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
                continue;
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_signal;
            /* RESTART: a system call the signal lands in goes on, where the
             * kernel can restart it.  ONSTACK: a thread with an alternate
             * signal stack (faulthandler's) uses it. */
            sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
            sigemptyset(&sa.sa_mask);
            if (sigaction(s, &sa, NULL) == 0)
                signo = s;
        }
    }
    int rc = signo ? 0 : -1;
    pthread_mutex_unlock(&install_lock);
    return rc;
}

int pm_capture_init(pm_capture *c, const pm_layout *L)
{
    memset(c, 0, sizeof *c);
    c->L = L;
    c->pid = getpid();
    pm_space_init(&c->space, c->pid);
    c->cap = DATA_CAP;
    c->capregions = REGIONS_CAP;
    c->data = malloc(c->cap);
    c->regions = malloc(c->capregions * sizeof *c->regions);
    c->nat_ips = malloc(PM_NATIVE_MAX * sizeof *c->nat_ips);
    c->nat_n = -1;
    if (!c->data || !c->regions || !c->nat_ips || install() != 0) {
        pm_capture_free(c);
        return -1;
    }
    return 0;
}

void pm_capture_free(pm_capture *c)
{
    free(c->data);
    free(c->regions);
    free(c->nat_ips);
    memset(c, 0, sizeof *c);
}

int pm_capture_usable(const pm_capture *c)
{
    struct sigaction cur;
    return c->data && signo && sigaction(signo, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
           cur.sa_sigaction == on_signal;
}

static int by_addr(const void *a, const void *b)
{
    uint64_t x = ((const pm_snap_region *)a)->addr, y = ((const pm_snap_region *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Waits while the state is `was`, up to `until` (CLOCK_MONOTONIC ns). */
static void wait_while(pm_capture *c, int was, uint64_t until)
{
    uint64_t now = mono_ns();
    if (now >= until)
        return;
    struct timespec rel = {(time_t)((until - now) / 1000000000ull), (long)((until - now) % 1000000000ull)};
    syscall(SYS_futex, (int *)&c->state, FUTEX_WAIT_PRIVATE, was, &rel, NULL, 0);
}

int pm_capture_ask(pm_capture *c, pid_t tid, uint64_t tstate, int direct)
{
    /* Another sampler's request may be waiting for its answer: no waiting
     * here, this thread is then read from outside. */
    if (!c->data || !signo || c->pending || pthread_mutex_trylock(&take_lock) != 0)
        return -1;
    /* Checked at the last moment: a program that took the signal since must
     * not get ours (one system call; the window left is microseconds). */
    if (!pm_capture_usable(c)) {
        pthread_mutex_unlock(&take_lock);
        return -1;
    }
    c->tid = tid;
    c->tstate = tstate;
    c->direct = direct;
    c->space.direct = direct;
    c->used = 0;
    c->nregions = 0;
    c->failed = 0;
    c->nat_n = -1;
    atomic_store(&c->state, ASKED);
    atomic_store(&current, c);
    if (syscall(SYS_tgkill, c->pid, tid, signo) != 0) {
        atomic_store(&current, NULL);
        atomic_store(&c->state, IDLE);
        pthread_mutex_unlock(&take_lock);
        return -1;
    }
    c->pending = 1;
    return 0;
}

int pm_capture_wait(pm_capture *c, uint64_t timeout_ns)
{
    if (!c->pending)
        return -1;
    /* A thread running on another core usually answers within a few
     * microseconds: spin that long before sleeping (a futex wait and
     * wake-up costs more than that). */
    uint64_t t0 = mono_ns(), until = t0 + timeout_ns;
    int st;
    while ((st = atomic_load(&c->state)) != DONE && mono_ns() - t0 < SPIN_NS && mono_ns() < until)
        ;
    if ((st = atomic_load(&c->state)) != DONE && mono_ns() < until)
        c->slept++;
    while ((st = atomic_load(&c->state)) != DONE && mono_ns() < until)
        wait_while(c, st, until);
    if (st != DONE) {
        int want = ASKED;
        if (!atomic_compare_exchange_strong(&c->state, &want, IDLE)) {
            /* The handler is copying: it ends soon, whatever preempted
             * it; its buffers are ours again only then. */
            while ((st = atomic_load(&c->state)) != DONE)
                wait_while(c, st, mono_ns() + 1000000);
        } else {
            c->late++;
        }
    }
    c->wait_ns += mono_ns() - t0;
    int rc = -1;
    if (atomic_load(&c->state) == DONE && !c->failed) {
        qsort(c->regions, c->nregions, sizeof *c->regions, by_addr);
        c->snap = (pm_snapshot){c->data, c->regions, c->nregions};
        rc = 0;
    }
    atomic_store(&current, NULL);
    atomic_store(&c->state, IDLE);
    c->pending = 0;
    pthread_mutex_unlock(&take_lock);
    return rc;
}

void pm_capture_set_extra(pm_capture *c, void (*fn)(void *ctx), void *ctx)
{
    if (c->pending) /* the handler may be running it */
        return;
    c->extra = fn;
    c->extra_ctx = ctx;
}

int pm_capture_answered(pm_capture *c)
{
    return c->pending && atomic_load(&c->state) == DONE;
}

int pm_capture_await(pm_capture *c, uint64_t timeout_ns)
{
    if (!c->pending)
        return 0;
    uint64_t until = mono_ns() + timeout_ns;
    int st;
    while ((st = atomic_load(&c->state)) != DONE && mono_ns() < until)
        wait_while(c, st, until);
    return st == DONE;
}
