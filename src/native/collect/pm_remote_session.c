/* pm_remote_session.c — see pm_remote_session.h. */
#include "pm_remote_session.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pm_sampler.h"
#include "pm_strread.h"

#define RETRIES 4          /* reads of a running thread's stack per tick */
#define READS_MAX 16       /* ... and more while within READS_NS of the first */
#define READS_NS 100000
#define STOP_SHARE 0.05    /* of the time attached, at most, spent stopping threads */
#define DEEP_FRAMES 100    /* a stack this deep at the last walk is read once before a stop */
#define MAX_LOCALS 256

uint64_t pm_rsession_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t self_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t next_rand(pm_rsession *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

int pm_rsession_init(pm_rsession *s, pm_remote *r, pm_profile *model, pthread_mutex_t *lock, int mode,
                     double rate_hz, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->r = r;
    s->model = model;
    s->lock = lock;
    s->mode = mode;
    s->rate_hz = rate_hz > 0 ? rate_hz : 100;
    s->rng = pm_rsession_now() | 1;
    if (pm_walker_init(&s->w, &r->L, &r->space) != 0 || pm_codecache_init(&s->codes, &r->L, &r->space) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->raw = malloc(PM_MAX_DEPTH * sizeof *s->raw);
    /* + 1: a stack cut at PM_MAX_DEPTH goes under a <truncated> root */
    s->frames = malloc((PM_MAX_DEPTH + 1) * sizeof *s->frames);
    s->lines = malloc((PM_MAX_DEPTH + 1) * sizeof *s->lines);
    s->verify = malloc(PM_MAX_DEPTH * sizeof *s->verify);
    if (!s->raw || !s->frames || !s->lines || !s->verify) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (lock)
        pthread_mutex_lock(lock);
    s->m_samples = pm_metric_add(model, "samples", "count");
    s->m_wall = pm_metric_add(model, "wall", "nanoseconds");
    s->m_cpu = pm_metric_add(model, "cpu", "nanoseconds");
    s->m_idle = pm_metric_add(model, "idle", "count");
    s->m_gil = pm_metric_add(model, "gil", "count");
    if (lock)
        pthread_mutex_unlock(lock);
    if (s->m_samples < 0 || s->m_wall < 0 || s->m_cpu < 0 || s->m_idle < 0 || s->m_gil < 0) {
        snprintf(err, errlen, "cannot add the sampling metrics to the profile");
        return -1;
    }
    s->self_cpu0 = self_cpu();
    return 0;
}

int pm_rsession_blocking(pm_rsession *s, char *err, size_t errlen)
{
    s->stop.pid = s->r->pid;
    if (pm_rstop_all(&s->stop) == 0) {
        int denied = s->stop.denied;
        pm_rstop_end(&s->stop);
        snprintf(err, errlen, "cannot stop process %d with ptrace%s", (int)s->r->pid,
                 denied ? ": permission denied (needs kernel.yama.ptrace_scope <= 1 and the same user, or "
                          "root / CAP_SYS_PTRACE)"
                        : "");
        return -1;
    }
    pm_rstop_resume(&s->stop);
    s->blocking = 1;
    s->w.patient = 1; /* nothing moves while read: no time limits */
    return 0;
}

void pm_rsession_free(pm_rsession *s)
{
    if (s->blocking)
        pm_rstop_end(&s->stop);
    for (size_t i = 0; i < s->nth; i++)
        pm_memo_free(&s->th[i].memo);
    free(s->th);
    free(s->names);
    free(s->raw);
    free(s->frames);
    free(s->lines);
    free(s->verify);
    free(s->dump_raw);
    free(s->dump_frames);
    free(s->dump_lines);
    pm_codecache_free(&s->codes);
    pm_walker_free(&s->w);
    memset(s, 0, sizeof *s);
}

static pm_rthread *thread_slot(pm_rsession *s, uint64_t tid)
{
    for (size_t i = 0; i < s->nth; i++)
        if (s->th[i].tid == tid)
            return &s->th[i];
    if (s->nth == s->capth) {
        size_t cap = s->capth ? s->capth * 2 : 16;
        pm_rthread *n = realloc(s->th, cap * sizeof *n);
        if (!n)
            return NULL;
        s->th = n;
        s->capth = cap;
    }
    pm_rthread *t = &s->th[s->nth++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->thread = PM_NONE;
    t->leaf = PM_NONE;
    return t;
}

/* Reads one thread's stack into s->raw (leaf first).  A thread off the CPU
 * through the whole read cannot have changed it; a running one is read
 * until the walker finds it unchanged, at most RETRIES times.  Returns the
 * depth, or -1 when no read caught it whole. */
static long walk(pm_rsession *s, const pm_tinfo *t, pm_walk_memo *memo, int *truncated)
{
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        size_t depth = 0;
        *truncated = 0;
        int rc = pm_walker_stack(&s->w, t, memo, s->raw, PM_MAX_DEPTH, &depth, truncated);
        s->walks++;
        if (rc == 0)
            return (long)depth;
        if (rc == -1 && !pm_remote_alive(s->r))
            return -1;
    }
    return -1;
}

/* Reads a thread that is off the CPU.  When its CPU clock, cpu_before
 * read before the walk, stands still until after it, the thread did not
 * run while it was read: the walk is a moment however long it took (a
 * deep stack read frame by frame takes longer than a running thread's
 * walk may).  The depth, or -1 when the thread ran or the walk failed. */
static long walk_still(pm_rsession *s, const pm_tinfo *t, pm_walk_memo *memo, uint64_t cpu_before, int *truncated)
{
    int patient = s->w.patient, snapshot = s->w.snapshot;
    s->w.patient = s->w.snapshot = 1;
    size_t depth = 0;
    int rc = pm_walker_stack(&s->w, t, memo, s->raw, PM_MAX_DEPTH, &depth, truncated);
    s->w.patient = patient;
    s->w.snapshot = snapshot;
    s->walks++;
    uint64_t cpu_after = 0;
    if (rc != 0 || pm_remote_task(s->r->pid, t->native_id, NULL, &cpu_after) != 0 || cpu_after != cpu_before)
        return -1;
    return (long)depth;
}

/* Reads a thread the caller has stopped with ptrace: its state as the stop
 * left it (the data stack chunk read before may be gone since: a deep
 * recursion frees and maps chunks as it crosses them).  Nothing moves while
 * read: no time limits, one look.  The depth, or -1. */
static long walk_stopped(pm_rsession *s, pm_tinfo *t, pm_walk_memo *memo, int *truncated)
{
    int patient = s->w.patient;
    s->w.patient = s->w.stopped = 1;
    size_t depth = 0;
    long walked = -1;
    if (pm_walker_reread(&s->w, t) == 0 && pm_walker_stack(&s->w, t, memo, s->raw, PM_MAX_DEPTH, &depth, truncated) == 0)
        walked = (long)depth;
    s->w.patient = patient;
    s->w.stopped = 0;
    s->walks++;
    s->stopped_reads++;
    return walked;
}

/* One raw frame as a model frame and line: 1, 0 for a frame that has not
 * started (left out), -1 when it is not code (a torn read).  Caller holds
 * the model lock. */
static int frame_line(pm_rsession *s, const pm_raw_frame *rf, pm_id *frame, int32_t *line)
{
    const pm_layout *L = &s->r->L;
    int not_code = 0;
    pm_code *e = pm_codecache_get(&s->codes, s->model, rf->code, s->tick, &not_code);
    if (!e || rf->lasti < -1 || rf->lasti >= (int64_t)e->n_units)
        return -1;
    if (L->frames_kind == PM_FRAMES_INTERP && rf->owner != L->owner_generator && rf->lasti < e->firsttraceable)
        return 0; /* set-up of a frame that has not started */
    int32_t l = rf->lasti >= 0 ? e->lines[rf->lasti] : e->firstlineno;
    *frame = e->frame;
    *line = l < 0 ? 0 : l;
    return 1;
}

/* The raw frames as model frames and lines, outermost first (frames not yet
 * started left out; a stack cut at PM_MAX_DEPTH under a <truncated> root,
 * as the in-process sampler keeps it).  Returns the count, or -1 for a
 * frame that is not code (a torn read).  Caller holds the model lock. */
static long resolve(pm_rsession *s, size_t depth, int truncated)
{
    size_t nv = 0;
    for (size_t i = 0; i < depth; i++)
        if (!pm_codecache_lookup(&s->codes, s->raw[i].code, s->tick))
            s->verify[nv++] = s->raw[i].code;
    if (nv)
        pm_codecache_verify(&s->codes, s->verify, nv, s->tick);
    size_t k = 0;
    if (truncated) {
        s->frames[0] = pm_frame_truncated(s->model);
        s->lines[0] = 0;
        if (s->frames[0] == PM_NONE)
            return -1;
        k = 1;
    }
    for (size_t j = depth; j-- > 0;) {
        int rc = frame_line(s, &s->raw[j], &s->frames[k], &s->lines[k]);
        if (rc < 0)
            return -1;
        k += (size_t)rc;
    }
    return (long)k;
}

/* As walk(), and the frames resolved into s->frames and s->lines: their
 * count, or -1 when no read caught the stack whole.  A frame that is not
 * code (one popped and reused while it was read) is a torn read too, and
 * the stack is read again: RETRIES times, and on up to READS_MAX while
 * within READS_NS of the first.  Those reads cost our CPU, not the
 * target's; a tick none of them catches whole costs the target a stop
 * (read_stopped), and on code of tiny calls one read in three or four
 * holds.  A stack DEEP_FRAMES deep at the last walk is read once only: a
 * running deep recursion was never caught whole by a second read (every
 * such tick needed its stop), which then came later for the reads, found
 * the thread moved on, and left the sampler behind its ticks (half a core
 * at 1 kHz).  An `off_cpu` thread is first read as walk_still reads it (its
 * clock `cpu` read this tick).  *truncated: the stack is cut at
 * PM_MAX_DEPTH.  Caller holds the model lock. */
static long walk_resolved(pm_rsession *s, const pm_tinfo *t, pm_walk_memo *memo, int off_cpu, uint64_t cpu,
                          int *truncated)
{
    if (off_cpu) {
        long depth = walk_still(s, t, memo, cpu, truncated);
        long k = depth >= 0 ? resolve(s, (size_t)depth, *truncated) : -1;
        if (k >= 0)
            return k;
    }
    uint64_t start = pm_rsession_now();
    int deep = memo->n >= DEEP_FRAMES;
    for (int attempt = 0;
         attempt < (deep ? 1 : RETRIES) || (!deep && attempt < READS_MAX && pm_rsession_now() - start < READS_NS);
         attempt++) {
        size_t depth = 0;
        int rc = pm_walker_stack(&s->w, t, memo, s->raw, PM_MAX_DEPTH, &depth, truncated);
        s->walks++;
        if (rc == -1 && !pm_remote_alive(s->r))
            return -1;
        if (rc != 0)
            continue;
        long k = resolve(s, depth, *truncated);
        if (k >= 0)
            return k;
    }
    return -1;
}

/* Reads the Python names of the target's threads into s->names; how many. */
static size_t read_names(pm_rsession *s, size_t threads)
{
    size_t want = threads * 2 + 64; /* _active may hold threads that have no state yet */
    if (want > s->names_cap) {
        pm_rname *n = realloc(s->names, want * sizeof *n);
        if (!n)
            return 0;
        s->names = n;
        s->names_cap = want;
    }
    return pm_remote_thread_names(s->r, &s->names_active, s->names, s->names_cap);
}

/* A thread's name: threading's when it has one, else the OS's; "" if none. */
static void thread_name(pm_rsession *s, size_t nnames, uint64_t ident, uint64_t tid, char *out, size_t cap)
{
    const char *py = pm_rname_find(s->names, nnames, ident);
    out[0] = 0;
    if (py)
        snprintf(out, cap, "%s", py);
    else if (tid && pm_remote_task_name(s->r->pid, tid, out, cap) != 0)
        out[0] = 0;
}

/* Walks one thread and charges the tick to its stack.  When no read caught
 * the stack whole, the tick is counted as torn, unless `may_defer`: then 0
 * is returned and the caller reads it again with the target stopped.  (In
 * blocking mode the threads are stopped already: a second stop would wait
 * for a thread that cannot stop again.)  A thread whose CPU clock (`cpu`,
 * read this tick) stood still since the last tick (`still`) has the stack
 * it had then, and is not read again; an idle one is read first as
 * walk_still reads it.  `walked` >= 0: the thread was read already, while
 * stopped, into s->raw (that many frames), and is only resolved. */
static int sample_thread(pm_rsession *s, pm_rthread *th, const pm_tinfo *t, size_t nthreads, uint64_t dt,
                         uint64_t dcpu, int idle, int still, uint64_t cpu, int may_defer, long walked)
{
    char name[PM_RNAME_MAX] = "";
    if (th->thread == PM_NONE) /* named when first seen (and again at the end) */
        thread_name(s, read_names(s, nthreads), t->ident, t->native_id, name, sizeof name);
    if (s->lock)
        pthread_mutex_lock(s->lock);
    pm_id leaf = still ? th->leaf : PM_NONE;
    if (leaf == PM_NONE) {
        long k = walked >= 0 ? resolve(s, (size_t)walked, th->truncated)
                             : walk_resolved(s, t, &th->memo, idle && cpu, cpu, &th->truncated); /* cpu 0: not read */
        if (k >= 0 && th->thread == PM_NONE) {
            th->thread = pm_thread_get(s->model, t->ident, t->native_id);
            th->ident = t->ident;
            if (name[0])
                pm_thread_set_name(s->model, th->thread, name, strlen(name));
        }
        if (k >= 0 && th->thread != PM_NONE)
            leaf = pm_stack_insert(s->model, th->thread, s->frames, s->lines, (size_t)k);
    }
    th->leaf = leaf;
    if (leaf != PM_NONE) {
        int64_t wall = s->mode == PM_MODE_CPU ? (int64_t)dcpu : (int64_t)dt;
        pm_node_add(s->model, leaf, s->m_samples, 1);
        s->truncated += (uint64_t)th->truncated;
        pm_node_add(s->model, leaf, s->m_wall, wall);
        pm_node_add(s->model, leaf, s->m_cpu, (int64_t)dcpu);
        if (idle)
            pm_node_add(s->model, leaf, s->m_idle, 1);
        if (s->w.gil_locked && s->w.gil_holder == t->tstate)
            pm_node_add(s->model, leaf, s->m_gil, 1);
    } else if (!may_defer) {
        s->torn++;
    }
    if (s->lock)
        pthread_mutex_unlock(s->lock);
    return leaf != PM_NONE || !may_defer;
}

/* The threads of this tick whose stacks changed under every read (a caller
 * of functions a few hundred nanoseconds long is rarely caught whole from
 * outside): each is stopped with ptrace for one more read, then let go
 * (detached: the target is traced only for that moment), and its frames are
 * resolved after.  Only that thread: a Python stack is changed by its own
 * thread alone, and the others run on.  Dropping such ticks instead takes
 * their time from exactly the fastest-changing code: 15-57 points of the
 * split on call-heavy and deeply recursive code (benchmarks/accuracy,
 * attach adapter).  The price is the stop itself, paid only on such ticks
 * and within a budget.  Where ptrace is refused (another tracer, a stricter
 * ptrace_scope than reading needs) they stay torn. */
static void read_stopped(pm_rsession *s, size_t nthreads, uint64_t dt)
{
    size_t nd = s->ndeferred;
    s->ndeferred = 0;
    s->stop.pid = s->r->pid;
    for (size_t i = 0; i < nd; i++) {
        const pm_rdefer *d = &s->deferred[i];
        pm_tinfo *t = &s->w.threads[d->t];
        pm_rthread *th = &s->th[d->th];
        pid_t tid = (pid_t)t->native_id;
        long walked = -1;
        /* The stops' cost is held to STOP_SHARE of the time attached: a
         * true stack bought with the target's time is not a win past that,
         * and such ticks stay torn.  The cost is the time from asking for
         * the stop to letting the thread go, by our clock, less the time
         * the thread spent waiting for a CPU meanwhile (its schedstat
         * run_delay: beside busy processes a thread that is runnable but
         * not running reaches its stop only when it gets a CPU, milliseconds
         * later, and loses nothing meanwhile).  Not after the release: the
         * thread's wake-up often takes our CPU away for a while (0.8 ms on
         * average in one such run), time the thread runs. */
        uint64_t t0 = pm_rsession_now();
        if (tid && !s->stop_refused && s->stopped_ns <= (uint64_t)((double)(t0 - s->start_ns) * STOP_SHARE)) {
            uint64_t waited0 = 0, waited1 = 0, reached = 0;
            int know = pm_remote_task_waited(s->r->pid, (uint64_t)tid, &waited0) == 0;
            if (pm_rstop_threads(&s->stop, &tid, 1) > 0) {
                reached = pm_rsession_now();
                walked = walk_stopped(s, t, &th->memo, &th->truncated);
            } else {
                s->stop_refused = s->stop.denied;
            }
            if (s->stop.n) {
                uint64_t cost = pm_rsession_now() - t0;
                /* A stopped thread does not wait for a CPU: read now, its
                 * wait is the one before the stop. */
                if (reached && know && pm_remote_task_waited(s->r->pid, (uint64_t)tid, &waited1) == 0 &&
                    waited1 > waited0)
                    cost -= waited1 - waited0 < reached - t0 ? waited1 - waited0 : reached - t0;
                s->stopped_ns += cost;
                pm_rstop_release(&s->stop);
            }
        }
        sample_thread(s, th, t, nthreads, dt, d->dcpu, d->idle, 0, 0, 0, walked);
    }
}

static void one_tick_read(pm_rsession *s, uint64_t dt);

static void one_tick(pm_rsession *s, uint64_t dt)
{
    s->tick++;
    if (s->blocking) {
        pm_rstop_all(&s->stop);
        one_tick_read(s, dt);
        pm_rstop_resume(&s->stop);
    } else {
        one_tick_read(s, dt);
    }
}

static void one_tick_read(pm_rsession *s, uint64_t dt)
{
    long n = pm_walker_threads(&s->w);
    if (n < 0) {
        if (pm_remote_alive(s->r))
            s->torn++;
        else
            s->ended = 1; /* gone (a zombie's memory is already released) */
        return;
    }
    for (size_t i = 0; i < s->nth; i++)
        s->th[i].seen = 0;
    for (long i = 0; i < n; i++) {
        const pm_tinfo *t = &s->w.threads[i];
        if (!t->frame)
            continue; /* runs no Python now */
        uint64_t tid = t->native_id;
        pm_rthread *th = thread_slot(s, tid ? tid : t->ident);
        if (!th)
            continue;
        char state = '?';
        uint64_t cpu = th->cpu_ns;
        /* Another process's thread clock (schedstat) moves only when the
         * kernel accounts the thread's time: when it leaves the CPU, and on
         * each scheduler tick while it runs (4 ms at 250 Hz).  Between those
         * a running thread's clock stands still, so the state letter says
         * whether it runs now, and the time a clock step brings is charged
         * over the ticks that follow, at most a tick's worth each.  The
         * clock of a thread that is not running (asleep, or stopped for a
         * blocking read) is exact: one that stood still since the last tick
         * did not run, and has the stack it had; one that ran under a
         * quarter of the interval counts as idle. */
        int first = !th->cpu_known;
        int have = tid && pm_remote_task(s->r->pid, tid, &state, &cpu) == 0;
        int running = have && state == 'R';
        uint64_t step = have && !first && cpu >= th->cpu_ns ? cpu - th->cpu_ns : 0;
        int still = have && !first && !running && step == 0;
        th->cpu_owed += first && running ? dt : step;
        uint64_t dcpu = th->cpu_owed < dt ? th->cpu_owed : dt;
        th->cpu_owed = running ? th->cpu_owed - dcpu : 0; /* time before a sleep: not the sleep's stack */
        th->cpu_ns = cpu;
        th->cpu_known = have;
        th->seen = 1;
        int idle = have && !running && (first || dcpu * 4 < dt);
        if (s->mode == PM_MODE_CPU && (idle || dcpu == 0))
            continue;
        if (sample_thread(s, th, t, (size_t)n, dt, dcpu, idle, still, cpu, !s->blocking, -1))
            continue;
        if (s->ndeferred < PM_MAX_DEFER)
            s->deferred[s->ndeferred++] = (pm_rdefer){(size_t)(th - s->th), (size_t)i, dcpu, idle};
        else
            s->torn++;
    }
    if (s->ndeferred)
        read_stopped(s, (size_t)n, dt);
}

int pm_rsession_sample(pm_rsession *s, uint64_t until_ns)
{
    uint64_t interval = (uint64_t)(1e9 / s->rate_hz);
    if (interval < 10000)
        interval = 10000;
    if (!s->start_ns) {
        s->start_ns = s->last_ns = pm_rsession_now();
        s->next_ns = s->start_ns + interval / 2 + next_rand(s) % (interval + 1);
    }
    for (;;) {
        if (s->next_ns >= until_ns) {
            uint64_t now = pm_rsession_now();
            if (now < until_ns) {
                struct timespec ts = {(time_t)(until_ns / 1000000000ull), (long)(until_ns % 1000000000ull)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                    ;
            }
            return pm_remote_alive(s->r) ? 0 : (s->ended = 1);
        }
        struct timespec ts = {(time_t)(s->next_ns / 1000000000ull), (long)(s->next_ns % 1000000000ull)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        uint64_t now = pm_rsession_now();
        one_tick(s, now - s->last_ns);
        s->ticks++;
        s->last_ns = now;
        /* A signal 0 per tick; the full check (a zombie is not alive) at
         * the end of each slice. */
        if (s->ended || (kill(s->r->pid, 0) != 0 && errno == ESRCH)) {
            s->ended = 1;
            return 1;
        }
        s->next_ns += interval / 2 + next_rand(s) % (interval + 1);
        uint64_t after = pm_rsession_now();
        if (after > s->next_ns + interval) /* behind: skip, no burst */
            s->next_ns += ((after - s->next_ns) / interval) * interval;
    }
}

void pm_rsession_finish(pm_rsession *s)
{
    uint64_t end = s->ended ? s->last_ns : pm_rsession_now();
    double duration = s->start_ns ? (double)(end - s->start_ns) / 1e9 : 0;
    /* A thread first seen before threading registered it had only its OS
     * name: the ones still running get their Python name now. */
    size_t nnames = s->ended ? 0 : read_names(s, s->nth);
    if (s->lock)
        pthread_mutex_lock(s->lock);
    pm_profile *m = s->model;
    for (size_t i = 0; i < s->nth; i++) {
        const char *py = s->th[i].thread != PM_NONE ? pm_rname_find(s->names, nnames, s->th[i].ident) : NULL;
        if (py)
            pm_thread_set_name(m, s->th[i].thread, py, strlen(py));
    }
    pm_meta_set_str(m, "mode", s->mode == PM_MODE_CPU ? "cpu" : "wall");
    pm_meta_set_num(m, "rate_hz", s->rate_hz);
    pm_meta_set_num(m, "duration_s", duration);
    pm_meta_set_num(m, "samples_expected", duration * s->rate_hz);
    pm_meta_set_num(m, "samples_taken", (double)s->ticks);
    pm_meta_set_num(m, "samples_torn", (double)s->torn);
    if (s->truncated) {
        pm_meta_set_num(m, "samples_truncated", (double)s->truncated);
        pm_meta_set_num(m, "stack_depth_limit", (double)PM_MAX_DEPTH);
    }
    pm_meta_set_num(m, "samples_stopped", (double)s->stopped_reads);
    pm_meta_set_num(m, "sampler_cpu_s", (double)(self_cpu() - s->self_cpu0) / 1e9);
    pm_meta_set_num(m, "idle_included", s->mode == PM_MODE_CPU ? 0.0 : 1.0);
    pm_meta_set_num(m, "pid", (double)s->r->pid);
    char v[16];
    snprintf(v, sizeof v, "3.%d", s->r->minor);
    pm_meta_set_str(m, "target_python", v);
    pm_meta_set_num(m, "target_exited", s->ended ? 1.0 : 0.0);
    pm_meta_set_num(m, "blocking", s->blocking ? 1.0 : 0.0);
    if (s->lock)
        pthread_mutex_unlock(s->lock);
}

/* Room for `need` frames in the dump's arrays (grown by doubling; what is
 * in them is kept).  0, or -1 out of memory. */
static int dump_reserve(pm_rsession *s, size_t need)
{
    if (need <= s->dump_room)
        return 0;
    size_t room = s->dump_room ? s->dump_room : PM_MAX_DEPTH;
    while (room < need)
        room *= 2;
    pm_raw_frame *raw = realloc(s->dump_raw, room * sizeof *raw);
    if (raw)
        s->dump_raw = raw;
    pm_id *frames = realloc(s->dump_frames, room * sizeof *frames);
    if (frames)
        s->dump_frames = frames;
    int32_t *lines = realloc(s->dump_lines, room * sizeof *lines);
    if (lines)
        s->dump_lines = lines;
    if (!raw || !frames || !lines)
        return -1;
    s->dump_room = room;
    return 0;
}

int pm_rsession_dump(pm_rsession *s, pm_rdump_thread *out, size_t cap, size_t *n, uint64_t still_tid)
{
    *n = 0;
    s->tick++;
    long nt = pm_walker_threads(&s->w);
    if (nt < 0)
        return -1;
    size_t nnames = read_names(s, (size_t)nt);
    /* Every thread's frames go one after the other into the dump's arrays,
     * which may move as they grow: each thread's place is an offset until
     * the last is read. */
    size_t used = 0;
    for (long i = 0; i < nt && *n < cap; i++) {
        const pm_tinfo *t = &s->w.threads[i];
        pm_rdump_thread *d = &out[(*n)++];
        memset(d, 0, sizeof *d);
        d->ident = t->ident;
        d->native_id = t->native_id;
        d->gil = s->w.gil_locked && s->w.gil_holder == t->tstate;
        uint64_t cpu = 0;
        int have_cpu = 0;
        d->state = '?';
        if (t->native_id) {
            have_cpu = pm_remote_task(s->r->pid, t->native_id, &d->state, &cpu) == 0;
            if (pm_remote_task_name(s->r->pid, t->native_id, d->os_name, sizeof d->os_name) != 0)
                d->os_name[0] = 0;
        }
        const char *py = pm_rname_find(s->names, nnames, t->ident);
        snprintf(d->name, sizeof d->name, "%s", py ? py : d->os_name);
        d->running = d->state == 'R';
        d->first = used;
        if (!t->frame) {
            d->ok = 1;
            continue;
        }
        pm_walk_memo memo = {0};
        int truncated = 0;
        long depth = have_cpu && d->state != 'R' ? walk_still(s, t, &memo, cpu, &truncated) : -1;
        if (depth < 0) {
            int patient = s->w.patient;
            if (still_tid && t->native_id == still_tid)
                s->w.patient = 1;
            depth = walk(s, t, &memo, &truncated);
            s->w.patient = patient;
        }
        /* A running thread whose stack changed under every read (code of
         * tiny calls, a deep recursion; more often beside busy processes)
         * is stopped for one read and let go: a dump is one look, where a
         * stop of some tens of microseconds costs nothing. */
        pid_t tid = (pid_t)t->native_id;
        s->stop.pid = s->r->pid;
        if (depth < 0 && tid && pm_rstop_threads(&s->stop, &tid, 1) > 0) {
            depth = walk_stopped(s, &s->w.threads[i], &memo, &truncated);
            pm_rstop_release(&s->stop);
        }
        pm_memo_free(&memo);
        if (depth < 0 || dump_reserve(s, used + (size_t)depth) != 0)
            continue;
        if (s->lock)
            pthread_mutex_lock(s->lock);
        /* Leaf first, as a dump prints them; a frame that cannot be named
         * is left out (the rest of the stack is still worth showing). */
        size_t k = used;
        for (long j = 0; j < depth; j++)
            if (frame_line(s, &s->raw[j], &s->dump_frames[k], &s->dump_lines[k]) > 0)
                s->dump_raw[k++] = s->raw[j];
        if (s->lock)
            pthread_mutex_unlock(s->lock);
        d->depth = k - used;
        d->ok = 1;
        d->cut = truncated;
        used = k;
    }
    for (size_t i = 0; i < *n; i++) {
        out[i].raw = s->dump_raw ? s->dump_raw + out[i].first : NULL;
        out[i].frames = s->dump_frames ? s->dump_frames + out[i].first : NULL;
        out[i].lines = s->dump_lines ? s->dump_lines + out[i].first : NULL;
    }
    return 0;
}

void pm_rsession_locals(pm_rsession *s, const pm_raw_frame *f, size_t max, pm_rlocal_fn fn, void *ctx)
{
    pm_remote *r = s->r;
    const pm_remote_table *T = r->T;
    int32_t nlocals = 0;
    uint64_t names = 0;
    if (pm_space_read(&r->space, f->code + T->co_nlocals, &nlocals, 4) != 0 ||
        pm_space_read(&r->space, f->code + r->co_varnames, &names, 8) != 0 || nlocals <= 0 || !names)
        return;
    int64_t nnames = 0;
    if (pm_space_read(&r->space, names + r->L.ob_size, &nnames, 8) != 0)
        return;
    size_t n = (size_t)nlocals;
    if ((int64_t)n > nnames)
        n = (size_t)nnames;
    if (n > max)
        n = max;
    if (n > MAX_LOCALS)
        n = MAX_LOCALS;
    uint64_t name_ptrs[MAX_LOCALS], values[MAX_LOCALS];
    /* the names are a tuple's items; the values start at the frame's localsplus. */
    if (pm_space_read(&r->space, names + r->tuple_items, name_ptrs, n * 8) != 0 ||
        pm_space_read(&r->space, f->addr + r->fr_localsplus, values, n * 8) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char name[PM_STR_MAX_UTF8];
        size_t len = 0;
        if (pm_str_read(&r->space, &r->L, name_ptrs[i], name, sizeof name, &len) != 0)
            continue;
        char repr[256];
        /* 3.14+ tags stack references; up to 3.13 a local is a plain pointer. */
        pm_remote_repr(r, values[i], repr, sizeof repr);
        fn(ctx, name, len, repr);
    }
}
