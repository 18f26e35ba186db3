/* pm_sampler.c — see pm_sampler.h.
 *
 * One tick: read the thread list (one batched read), read every thread's
 * CPU clock, and walk only the threads that used CPU since the last tick —
 * a thread that has not run cannot have changed its Python stack, so its
 * previous leaf is reused.  That keeps the cost near one walk per tick even
 * with many threads, since under the GIL few of them run in any millisecond.
 */
#include "pm_sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "pm_capture.h"
#include "pm_guard.h"
#include "pm_strread.h"
#include "pm_native.h"
#include "pm_natframes.h"
#include "pm_procfile.h"
#include "pm_walker.h"

typedef struct {
    uint64_t tstate, ident, native_id;
    uint64_t prev_cpu;       /* CPU clock at the last tick, ns */
    uint64_t req_seq;        /* the thread's request change count before this tick's read (pm_requests) */
    uint64_t prev_frame;     /* top frame address at the last walk */
    uint64_t last_tick;      /* tick this slot was last seen */
    pm_id thread;            /* model thread, PM_NONE until first sample */
    pm_id leaf;              /* leaf of the last good walk, PM_NONE if none */
    pm_id tl_leaf;           /* last leaf written to the timeline */
    int have_cpu;
    pm_walk_memo memo;
    /* The last good walk, outermost first: each raw frame and the node the
     * stack had reached after it.  The next walk reuses the longest common
     * outer part instead of resolving it again. */
    pm_raw_frame *prev_raw;
    pm_id *prev_path;
    size_t prev_n, prev_cap;
    int prev_truncated;      /* that walk was cut at PM_MAX_DEPTH */
    /* Ticks owed to the thread's next stack: it was caught off the CPU in
     * the middle of linking a frame (see walk_thread). */
    struct {
        uint64_t ticks, dt, dcpu, now;
        int flags;
    } owed;
} pm_slot;

struct pm_sampler {
    pm_layout L;
    pm_space space;
    pm_walker walker;
    pm_capture capture;         /* the running thread copies its own stack */
    int can_capture;            /* capture set up (each request checks its signal is still ours) */
    int frozen;                 /* walk_thread's last thread held still in a stack that does not read */
    pm_space snapspace;         /* the walker's reader while it walks a capture */
    /* The GIL holder's sample of the last tick, waiting for the copy it was
     * asked to make of its stack (taken up at the next tick, so the
     * sampler never waits for the signal's delivery). */
    struct {
        int pending;
        pm_tinfo t;
        uint64_t now, dt, dcpu, cpu_at_ask;
        uint64_t ticks;           /* ticks of that thread that wait for the answer */
        int flags;                /* HELD_GIL, IN_GC at the request */
        int retries;              /* copies asked again because one gave no stack */
        uint64_t asked_ns;
        /* --native, a thread asked while preempted: its Python frames read
         * from outside at the request, while its clock stood still (so at
         * the moment its copy will be of), for when the copy is read too
         * late to name them (a module's code object freed since). */
        int pre;
        pm_id *pre_frames;
        int32_t *pre_lines;
        size_t *pre_starts, pre_n, pre_groups;
    } held_back;
    pm_codecache codes;
    pm_profile *model;
    pthread_mutex_t *model_lock;
    pm_sampler_opts o;
    /* --async: the layout, the reader, a slot with no memory of a previous
     * walk for resolving task chains, and their frames leaf first. */
    int async_on;
    pm_async_layout async_L;
    pm_async_reader areader;
    pm_slot aslot;
    pm_raw_frame *araw;
    /* The last read's leaves, kept while the loop's thread has not run
     * since (its CPU clock at the read): its tasks cannot have changed. */
    struct {
        int valid, running;
        uint64_t tstate, ident, cpu;
        pm_id base;
        pm_id *leaves;
        size_t n, cap;
    } alast;
    uint64_t aread_ns;          /* how long the last read took */
    uint64_t aread_tick;        /* tick of the last read */
    uint64_t askipped_dt;       /* wall of the ticks a read was skipped for, not yet charged */
    /* The same read made by the capture handler on the loop's thread while
     * it is stopped (its running ticks): own reader and space, buffers
     * reserved beforehand; hread_n is what the read returned (-2: none). */
    pm_async_reader hreader;
    pm_space hspace;
    uint64_t hloop;
    volatile long hread_n;
    volatile uint64_t hread_ns; /* how long the handler's read held the thread */
    int hattached;
    pm_id *hleaves;
    size_t hcap;
    int m_samples, m_wall, m_cpu, m_idle, m_gil, m_gc, m_gilwait, m_preempt;
    /* GIL waiting (see gil_wait_probe): this tick probes; the candidates
     * seen so far and the one chosen among them (its node and tid). */
    int gw_probe;
    uint32_t gw_n;
    pm_id gw_at;
    uint64_t gw_tid;
    /* Per-request attribution (pm_requests.h), NULL when off. */
    pm_requests *requests;

    pthread_t thread;
    int thread_alive;           /* a thread was started and not joined */
    int paused;                 /* thread ended for a fork, to be started again */
    int guarded;                /* holds a use of the fault guard */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    atomic_int stop;
    atomic_int running;

    pm_sampler_notify notify;
    void *notify_ctx;
    atomic_int notified;

    pm_slot *slots;
    size_t nslots, capslots;
    pm_id new_threads[256];
    size_t nnew;

    pm_raw_frame *raw, *raw_rev;
    pm_id *path;
    /* --native: the names of C frames, and scratch for merging stacks. */
    pm_natframes nat;
    uint8_t *nat_cls;
    pm_id *nat_frame;
    size_t *group_start;
    pm_id *nat_py;              /* py_frames' output */
    int32_t *nat_lines;
    pm_merge_item *merged;
    uint64_t *verify;

    uint64_t start_ns, last_ns;
    uint64_t rng;
    pthread_mutex_t stats_lock;
    pm_sampler_stats st;
};

/* Every live sampler, for fork(): the child has no sampling thread, and must
 * not inherit a lock that thread held at the moment of the fork. */
static struct {
    pthread_mutex_t lock;
    pthread_once_t once;
    pm_sampler *list[64];
} registry = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, {NULL}};

static void fork_prepare(void)
{
    pthread_mutex_lock(&registry.lock);
    for (size_t i = 0; i < 64; i++)
        if (registry.list[i]) {
            pthread_mutex_lock(registry.list[i]->model_lock);
            pthread_mutex_lock(&registry.list[i]->codes.lock);
        }
}

static void fork_parent(void)
{
    for (size_t i = 0; i < 64; i++)
        if (registry.list[i]) {
            pthread_mutex_unlock(&registry.list[i]->codes.lock);
            pthread_mutex_unlock(registry.list[i]->model_lock);
        }
    pthread_mutex_unlock(&registry.lock);
}

static void fork_child(void)
{
    for (size_t i = 0; i < 64; i++) {
        pm_sampler *s = registry.list[i];
        if (!s)
            continue;
        pthread_mutex_unlock(&s->codes.lock);
        pthread_mutex_unlock(s->model_lock);
        /* The thread did not come along: nothing to stop or join. */
        s->thread_alive = 0;
        s->paused = 0;
        atomic_store(&s->running, 0);
    }
    pthread_mutex_unlock(&registry.lock);
}

static void registry_init(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static void registry_set(pm_sampler *old, pm_sampler *new_)
{
    pthread_once(&registry.once, registry_init);
    pthread_mutex_lock(&registry.lock);
    for (size_t i = 0; i < 64; i++)
        if (registry.list[i] == old) {
            registry.list[i] = new_;
            break;
        }
    pthread_mutex_unlock(&registry.lock);
}

static void slot_clear(pm_slot *sl)
{
    pm_memo_free(&sl->memo);
    free(sl->prev_raw);
    free(sl->prev_path);
    sl->prev_raw = NULL;
    sl->prev_path = NULL;
    sl->prev_n = sl->prev_cap = 0;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Linux encodes "CPU clock of thread tid" as a clockid (what glibc's
 * pthread_getcpuclockid computes); using the tid avoids touching a pthread_t
 * whose thread may have exited, and works for another process too. */
static int thread_cpu_ns(uint64_t tid, uint64_t *out)
{
    if (!tid)
        return -1;
    clockid_t cid = (clockid_t)(((~(unsigned)tid) << 3) | 6);
    struct timespec t;
    if (clock_gettime(cid, &t) != 0)
        return -1;
    *out = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
    return 0;
}

pm_sampler *pm_sampler_new(const pm_layout *L, pm_profile *model, pthread_mutex_t *model_lock,
                           const pm_sampler_opts *o, char *err, size_t errlen)
{
    pm_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->L = *L;
    s->model = model;
    s->model_lock = model_lock;
    s->o = *o;
    pm_space_init(&s->space, getpid());
    s->raw = malloc(PM_MAX_DEPTH * sizeof *s->raw);
    s->raw_rev = malloc(PM_MAX_DEPTH * sizeof *s->raw_rev);
    s->path = malloc(PM_MAX_DEPTH * sizeof *s->path);
    s->verify = malloc(PM_MAX_DEPTH * sizeof *s->verify);
    int walker = s->raw && s->raw_rev && s->path && s->verify && pm_walker_init(&s->walker, &s->L, &s->space) == 0;
    if (!walker || pm_codecache_init(&s->codes, &s->L, &s->space) != 0) {
        if (walker)
            pm_walker_free(&s->walker);
        free(s->raw);
        free(s->raw_rev);
        free(s->path);
        free(s->verify);
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Without a free real-time signal, every thread is read from outside
     * (as before captures existed): more torn stacks, never wrong ones. */
    s->can_capture = pm_capture_init(&s->capture, &s->L) == 0;
    pm_space_init(&s->snapspace, getpid());
    pthread_mutex_init(&s->wake_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->stats_lock, NULL);
    s->rng = now_ns() | 1;
    if (o->native) {
        const char *why = NULL;
        if (pm_native_init(&why) != 0 || !s->can_capture) {
            snprintf(err, errlen, "%s", why ? why : "native stacks need a free real-time signal");
            pm_sampler_free(s);
            return NULL;
        }
        s->capture.native = 1;
        s->nat_cls = malloc(PM_NATIVE_MAX);
        s->nat_frame = malloc(PM_NATIVE_MAX * sizeof *s->nat_frame);
        s->group_start = malloc((PM_MAX_DEPTH + 1) * sizeof *s->group_start);
        s->merged = malloc((PM_NATIVE_MAX + PM_MAX_DEPTH) * sizeof *s->merged);
        s->nat_py = malloc(PM_MAX_DEPTH * sizeof *s->nat_py);
        s->nat_lines = malloc(PM_MAX_DEPTH * sizeof *s->nat_lines);
        s->held_back.pre_frames = malloc(PM_MAX_DEPTH * sizeof *s->held_back.pre_frames);
        s->held_back.pre_lines = malloc(PM_MAX_DEPTH * sizeof *s->held_back.pre_lines);
        s->held_back.pre_starts = malloc((PM_MAX_DEPTH + 1) * sizeof *s->held_back.pre_starts);
        if (pm_natframes_init(&s->nat) != 0 || !s->nat_cls || !s->nat_frame || !s->group_start || !s->merged ||
            !s->nat_py || !s->nat_lines || !s->held_back.pre_frames || !s->held_back.pre_lines ||
            !s->held_back.pre_starts) {
            snprintf(err, errlen, "out of memory");
            pm_sampler_free(s);
            return NULL;
        }
        pm_elfsym_preload(s->nat.syms);
    }

    pthread_mutex_lock(model_lock);
    s->m_samples = pm_metric_add(model, "samples", "count");
    s->m_wall = pm_metric_add(model, "wall", "nanoseconds");
    s->m_cpu = pm_metric_add(model, "cpu", "nanoseconds");
    s->m_idle = pm_metric_add(model, "idle", "count");
    s->m_gil = pm_metric_add(model, "gil", "count");
    s->m_gc = pm_metric_add(model, "gc", "count");
    s->m_gilwait = pm_metric_add(model, "gil_wait", "count");
    s->m_preempt = pm_metric_add(model, "preempted", "nanoseconds");
    if (o->timeline_cap)
        pm_timeline_enable(model, o->timeline_cap);
    pthread_mutex_unlock(model_lock);
    if (s->m_samples < 0 || s->m_wall < 0 || s->m_cpu < 0 || s->m_idle < 0 || s->m_gil < 0 || s->m_gc < 0 ||
        s->m_gilwait < 0 || s->m_preempt < 0) {
        snprintf(err, errlen, "the profile has no room for the sampler's metrics");
        pm_sampler_free(s);
        return NULL;
    }
    return s;
}

void pm_sampler_free(pm_sampler *s)
{
    if (!s)
        return;
    pm_sampler_stop(s);
    for (size_t i = 0; i < s->nslots; i++)
        slot_clear(&s->slots[i]);
    free(s->slots);
    pm_walker_free(&s->walker);
    pm_capture_free(&s->capture);
    pm_codecache_free(&s->codes);
    if (s->async_on)
        pm_async_reader_free(&s->areader);
    if (s->async_on)
        pm_async_reader_free(&s->hreader);
    free(s->hleaves);
    free(s->araw);
    free(s->alast.leaves);
    pm_natframes_free(&s->nat);
    free(s->nat_cls);
    free(s->nat_frame);
    free(s->group_start);
    free(s->merged);
    free(s->nat_py);
    free(s->nat_lines);
    free(s->held_back.pre_frames);
    free(s->held_back.pre_lines);
    free(s->held_back.pre_starts);
    free(s->raw);
    free(s->raw_rev);
    free(s->path);
    free(s->verify);
    pthread_mutex_destroy(&s->wake_lock);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->stats_lock);
    free(s);
}

void pm_sampler_set_notify(pm_sampler *s, pm_sampler_notify fn, void *ctx)
{
    s->notify = fn;
    s->notify_ctx = ctx;
}

int pm_sampler_set_async(pm_sampler *s, const pm_async_layout *A)
{
    if (s->thread_alive || s->async_on)
        return -1;
    s->async_L = *A;
    s->araw = malloc(PM_MAX_DEPTH * sizeof *s->araw);
    pm_space_init(&s->hspace, getpid());
    if (!s->araw || pm_async_reader_init(&s->areader, &s->async_L, &s->L, &s->space) != 0) {
        free(s->araw);
        s->araw = NULL;
        return -1;
    }
    if (pm_async_reader_init(&s->hreader, &s->async_L, &s->L, &s->hspace) != 0) {
        pm_async_reader_free(&s->areader);
        free(s->araw);
        s->araw = NULL;
        return -1;
    }
    s->aslot.thread = s->aslot.leaf = s->aslot.tl_leaf = PM_NONE;
    s->async_on = 1;
    return 0;
}

void pm_sampler_set_requests(pm_sampler *s, pm_requests *R) { s->requests = R; }
void pm_sampler_set_tid_offset(pm_sampler *s, long off) { s->walker.tid_offset = off; }
pm_codecache *pm_sampler_codecache(pm_sampler *s) { return &s->codes; }
int pm_sampler_running(const pm_sampler *s) { return atomic_load(&((pm_sampler *)s)->running); }
void pm_sampler_notify_done(pm_sampler *s) { atomic_store(&s->notified, 0); }

size_t pm_sampler_take_new_threads(pm_sampler *s, pm_id *out, size_t max)
{
    pthread_mutex_lock(s->model_lock);
    size_t n = s->nnew < max ? s->nnew : max;
    memcpy(out, s->new_threads, n * sizeof *out);
    memmove(s->new_threads, s->new_threads + n, (s->nnew - n) * sizeof *out);
    s->nnew -= n;
    pthread_mutex_unlock(s->model_lock);
    return n;
}

static pm_slot *slot_for(pm_sampler *s, const pm_tinfo *t)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].tstate == t->tstate && s->slots[i].ident == t->ident)
            return &s->slots[i];
    if (s->nslots == s->capslots) {
        size_t cap = s->capslots ? s->capslots * 2 : 16;
        pm_slot *n = realloc(s->slots, cap * sizeof *n);
        if (!n)
            return NULL;
        s->slots = n;
        s->capslots = cap;
    }
    pm_slot *sl = &s->slots[s->nslots++];
    memset(sl, 0, sizeof *sl);
    sl->tstate = t->tstate;
    sl->ident = t->ident;
    sl->thread = PM_NONE;
    sl->leaf = PM_NONE;
    sl->tl_leaf = PM_NONE;
    return sl;
}

static int same_raw(const pm_raw_frame *a, const pm_raw_frame *b)
{
    return a->addr == b->addr && a->code == b->code && a->lasti == b->lasti && a->owner == b->owner;
}

static int keep_prev(pm_slot *sl, const pm_raw_frame *raw, const pm_id *path, size_t n)
{
    if (n > sl->prev_cap) {
        size_t cap = n < 64 ? 64 : n;
        pm_raw_frame *r = realloc(sl->prev_raw, cap * sizeof *r);
        if (r)
            sl->prev_raw = r;
        pm_id *p = realloc(sl->prev_path, cap * sizeof *p);
        if (p)
            sl->prev_path = p;
        if (!r || !p) {
            sl->prev_n = 0;
            return -1;
        }
        sl->prev_cap = cap;
    }
    memcpy(sl->prev_raw, raw, n * sizeof *raw);
    memcpy(sl->prev_path, path, n * sizeof *path);
    sl->prev_n = n;
    return 0;
}

/* Turns a walk (raw frames, leaf first) into a leaf node of the model.
 * Frames that have not really started (3.11+ set-up) are left out; anything
 * impossible makes the whole stack torn (PM_NONE).  Caller holds the model
 * lock. */
static pm_id resolve(pm_sampler *s, pm_slot *sl, pm_id root, const pm_raw_frame *leaf_first, size_t n,
                     int truncated, int remember, uint64_t tick)
{
    const pm_layout *L = &s->L;
    /* Outermost first from here on. */
    pm_raw_frame *raw = s->raw_rev;
    for (size_t i = 0; i < n; i++)
        raw[i] = leaf_first[n - 1 - i];

    pm_id node = root;
    size_t k = 0;
    if (truncated)
        node = pm_node_child(s->model, root, pm_frame_truncated(s->model), 0);
    /* A cut stack reuses the last cut one's outer part too: a program deep
     * in recursion changes its leaf frames, not the thousands below them.
     * (--native: the path of a stack holds C frames between the Python
     * ones, so a Python prefix does not name a node.) */
    if (!s->o.native && truncated == sl->prev_truncated) {
        while (k < n && k < sl->prev_n && same_raw(&raw[k], &sl->prev_raw[k]))
            k++;
        if (k)
            node = sl->prev_path[k - 1];
    }

    /* One batched read checks every code object that needs it this tick. */
    size_t nv = 0;
    for (size_t i = k; i < n; i++)
        if (!pm_codecache_lookup(&s->codes, raw[i].code, tick))
            s->verify[nv++] = raw[i].code;
    if (nv)
        pm_codecache_verify(&s->codes, s->verify, nv, tick);

    for (size_t i = k; i < n; i++) {
        int not_code = 0;
        pm_code *e = pm_codecache_get(&s->codes, s->model, raw[i].code, tick, &not_code);
        if (!e)
            return PM_NONE;
        int64_t lasti = raw[i].lasti;
        if (lasti < -1 || lasti >= (int64_t)e->n_units)
            return PM_NONE;
        if (!(L->frames_kind == PM_FRAMES_INTERP && raw[i].owner != L->owner_generator &&
              lasti < e->firsttraceable)) {
            int32_t line = lasti >= 0 ? e->lines[lasti] : e->firstlineno;
            node = pm_node_child(s->model, node, e->frame, line < 0 ? 0 : line);
            if (node == PM_NONE)
                return PM_NONE;
        }
        s->path[i] = node;
    }
    if (remember) {
        memcpy(s->path, sl->prev_path, k * sizeof *s->path);
        keep_prev(sl, raw, s->path, n);
        sl->prev_truncated = truncated;
    }
    return node;
}

/* --native: a captured stack, its Python frames (raw, leaf first) and the
 * C return addresses the thread unwound at the same moment (ips, leaf
 * first), merged into one path of the model (pm_native_merge says where
 * each part goes).  Caller holds the model lock. */
/* --native, first half: a walk's Python frames (raw, leaf first) as model
 * frames and lines, outermost first (PM_NONE: a frame not yet started,
 * left out), and where each eval-loop call's run of them starts
 * (starts[0..*ngroups], the last entry n).  -1 when a frame is impossible. */
static int py_frames(pm_sampler *s, const pm_raw_frame *leaf_first, size_t n, uint64_t tick, pm_id *frames,
                     int32_t *lines, size_t *starts, size_t *ngroups)
{
    const pm_layout *L = &s->L;
    pm_raw_frame *raw = s->raw_rev;
    for (size_t i = 0; i < n; i++)
        raw[i] = leaf_first[n - 1 - i];
    size_t nv = 0;
    for (size_t i = 0; i < n; i++)
        if (!pm_codecache_lookup(&s->codes, raw[i].code, tick))
            s->verify[nv++] = raw[i].code;
    if (nv)
        pm_codecache_verify(&s->codes, s->verify, nv, tick);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || raw[i].entry)
            starts[g++] = i;
        int not_code = 0;
        pm_code *e = pm_codecache_get(&s->codes, s->model, raw[i].code, tick, &not_code);
        if (!e)
            return -1;
        int64_t lasti = raw[i].lasti;
        if (lasti < -1 || lasti >= (int64_t)e->n_units)
            return -1;
        frames[i] = PM_NONE;
        if (!(L->frames_kind == PM_FRAMES_INTERP && raw[i].owner != L->owner_generator &&
              lasti < e->firsttraceable)) {
            int32_t line = lasti >= 0 ? e->lines[lasti] : e->firstlineno;
            frames[i] = e->frame;
            lines[i] = line < 0 ? 0 : line;
        }
    }
    starts[g] = n;
    *ngroups = g;
    return 0;
}

/* --native, second half: the C return addresses the thread unwound (ips,
 * leaf first) merged with its Python frames (py_frames) into one path of
 * the model (pm_native_merge says where each part goes).  Caller holds the
 * model lock. */
static pm_id merge_native(pm_sampler *s, pm_id root, const pm_id *frames, const int32_t *lines, const size_t *starts,
                          size_t ngroups, const uint64_t *ips, size_t nips)
{
    /* A return address is named by its call instruction (the byte before):
     * a call that ends a function returns past its end. */
    for (size_t j = 0; j < nips; j++) {
        int cls;
        if (pm_natframes_get(&s->nat, s->model, ips[j] - (j > 0), &s->nat_frame[j], &cls) != 0)
            return PM_NONE;
        s->nat_cls[j] = (uint8_t)cls;
    }
    size_t nev = 0;
    for (size_t j = 0; j < nips; j++)
        nev += s->nat_cls[j] == PM_NAT_EVAL;
    if (nev < ngroups)
        pm_natframes_learn_eval(&s->nat, s->nat_frame, s->nat_cls, nips, ngroups - nev);
    for (size_t j = 0; j < nips; j++)
        s->nat_cls[j] = (uint8_t)PM_NAT_CLASS(s->nat_cls[j]);
    int mismatch = 0;
    size_t nitems = pm_native_merge(s->nat_cls, nips, ngroups, s->merged, PM_NATIVE_MAX + PM_MAX_DEPTH, &mismatch);
    if (mismatch)
        s->st.native_mismatch++;
    pm_id node = root;
    for (size_t m = 0; m < nitems; m++) {
        const pm_merge_item *it = &s->merged[m];
        if (it->group < 0) {
            node = pm_node_child(s->model, node, s->nat_frame[it->native], 0);
            if (node == PM_NONE)
                return PM_NONE;
            continue;
        }
        for (size_t i = starts[it->group]; i < starts[it->group + 1]; i++) {
            if (frames[i] != PM_NONE && (node = pm_node_child(s->model, node, frames[i], lines[i])) == PM_NONE)
                return PM_NONE;
            s->path[i] = node;
        }
    }
    s->st.native++;
    return node;
}

int pm_sampler_learn_eval(pm_sampler *s, const uint64_t *ips, size_t n, size_t runs)
{
    if (!s->o.native || n > PM_NATIVE_MAX)
        return -1;
    pthread_mutex_lock(s->model_lock);
    int rc = 0;
    size_t nev = 0;
    for (size_t j = 0; j < n && rc == 0; j++) {
        int cls;
        rc = pm_natframes_get(&s->nat, s->model, ips[j] - 1, &s->nat_frame[j], &cls) != 0 ? -1 : 0;
        s->nat_cls[j] = (uint8_t)cls;
        nev += cls == PM_NAT_EVAL;
    }
    if (rc == 0 && nev < runs)
        rc = pm_natframes_learn_eval(&s->nat, s->nat_frame, s->nat_cls, n, runs - nev);
    pthread_mutex_unlock(s->model_lock);
    return rc;
}

/* --native: a captured stack, its Python frames and C return addresses
 * from the same moment, as a leaf of the model. */
static pm_id resolve_native(pm_sampler *s, pm_slot *sl, pm_id root, const pm_raw_frame *leaf_first, size_t n,
                            const uint64_t *ips, size_t nips, uint64_t tick)
{
    size_t ngroups;
    if (py_frames(s, leaf_first, n, tick, s->nat_py, s->nat_lines, s->group_start, &ngroups) != 0)
        return PM_NONE;
    pm_id leaf = merge_native(s, root, s->nat_py, s->nat_lines, s->group_start, ngroups, ips, nips);
    /* Kept for the top-frame check of a thread that barely ran. */
    if (leaf != PM_NONE)
        keep_prev(sl, s->raw_rev, s->path, n);
    return leaf;
}

/* How long to wait for a thread to copy its stack: one that was running
 * answers in microseconds unless it was preempted since, and then its stack
 * holds still and is read from here. */
#define CAPTURE_WAIT_NS 200000

/* Waits for the copy the thread was asked to make of its own stack
 * (pm_capture) and walks it with the same walker: the copy is one moment,
 * so the walker's checks that a live read held still pass by construction,
 * and what they still reject is a stack impossible in itself.  PM_NONE when
 * no capture was had. */
static pm_id walk_captured(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id root, uint64_t tick,
                           uint64_t timeout_ns)
{
    if (pm_capture_wait(&s->capture, timeout_ns) != 0)
        return PM_NONE;
    s->st.captured++;
    pm_tinfo now = *t;
    s->snapspace.snap = &s->capture.snap;
    s->walker.space = &s->snapspace;
    int patient = s->walker.patient;
    s->walker.patient = 1; /* a copy has no timing to doubt */
    s->walker.snapshot = 1;
    size_t depth = 0;
    int truncated = 0;
    int rc = pm_walker_reread(&s->walker, &now);
    if (rc == 0)
        rc = pm_walker_stack(&s->walker, &now, &sl->memo, s->raw, PM_MAX_DEPTH, &depth, &truncated);
    s->walker.patient = patient;
    s->walker.snapshot = 0;
    s->walker.space = &s->space;
    s->snapspace.snap = NULL;
    s->st.walks++;
    if (rc != 0)
        return PM_NONE;
    if (s->o.native) {
        if (!truncated && s->capture.nat_n > 0)
            return resolve_native(s, sl, root, s->raw, depth, s->capture.nat_ips, (size_t)s->capture.nat_n, tick);
        s->st.native_failed++;
    }
    return resolve(s, sl, root, s->raw, depth, truncated, 1, tick);
}

/* Whether the thread is on a CPU right now: its CPU clock moved since the
 * tick read it.  Only such a thread can change its stack while we read it,
 * and only such a thread is sent the capture signal (one that sleeps or
 * waits in a system call never is). */
static int running_now(const pm_tinfo *t, uint64_t cpu_at_tick, uint64_t *cpu_now)
{
    uint64_t cpu;
    int moved = t->native_id && thread_cpu_ns(t->native_id, &cpu) == 0 && cpu != cpu_at_tick;
    if (moved && cpu_now)
        *cpu_now = cpu;
    return moved;
}

/* Whether the thread has certainly not run since the tick read its clock. */
static int still_now(const pm_tinfo *t, uint64_t cpu_at_tick)
{
    uint64_t cpu;
    return t->native_id && thread_cpu_ns(t->native_id, &cpu) == 0 && cpu == cpu_at_tick;
}

/* Reads a thread that is not running: if its CPU clock stood still from the
 * tick's reading until after the walk, the thread did not run at all while
 * it was read, and the read is a moment just as a capture is. */
static pm_id walk_still(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id root, uint64_t tick,
                        uint64_t cpu_at_tick)
{
    int patient = s->walker.patient;
    s->walker.patient = 1;
    s->walker.snapshot = 1;
    size_t depth = 0;
    int truncated = 0;
    int rc = pm_walker_stack(&s->walker, t, &sl->memo, s->raw, PM_MAX_DEPTH, &depth, &truncated);
    s->walker.patient = patient;
    s->walker.snapshot = 0;
    s->st.walks++;
    if (rc != 0 || !still_now(t, cpu_at_tick))
        return PM_NONE;
    return resolve(s, sl, root, s->raw, depth, truncated, 1, tick);
}

/* Walks and resolves one thread; returns the leaf node, or PM_NONE when no
 * true stack could be had (torn: counted, and the tick is not charged; or,
 * with s->frozen set, owed to its next stack).
 * A stack is read at one moment when the thread copies it itself (the GIL
 * holder, the only thread that can change a Python stack, while it runs),
 * or when the thread did not run while it was read (its CPU clock stood
 * still).  Otherwise the walker's own checks decide, over a few reads, with
 * up to two copies among them if the thread is running by then. */
static pm_id walk_thread(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, uint64_t tick, uint64_t cpu_at_tick)
{
    s->frozen = 0;
    if (sl->thread == PM_NONE) {
        sl->thread = pm_thread_get(s->model, t->ident, t->native_id);
        if (sl->thread == PM_NONE)
            return PM_NONE;
        if (s->nnew < sizeof s->new_threads / sizeof s->new_threads[0])
            s->new_threads[s->nnew++] = sl->thread;
    }
    pm_id root = pm_thread_at(s->model, sl->thread)->root;
    /* Copies asked, and whether the last was answered.  A copy that gives
     * no stack (the thread stopped while linking a frame, or a code object
     * in it was freed before the copy was read) is asked once more: the
     * next moment stands in for it.  One not answered in time (the thread
     * lost its CPU) is not asked again. */
    int captures = 0, answered = 1;
    if (!s->walker.patient && still_now(t, cpu_at_tick)) {
        pm_id leaf = walk_still(s, sl, t, root, tick, cpu_at_tick);
        if (leaf != PM_NONE)
            return leaf;
        sl->prev_n = 0;
        /* It held still through that read and still gave no stack: it lost
         * its CPU in the middle of linking a frame (a generator's frame
         * made current before its caller is set, a C frame's current frame
         * not yet set), and every read gives the same until it runs again.
         * Its next stack, a few instructions on, stands in for this tick
         * (sample_thread). */
        if (still_now(t, cpu_at_tick)) {
            s->frozen = 1;
            return PM_NONE;
        }
    }
    /* Up to 8 reads within 50 us, so a thread that never holds still cannot
     * eat the sampler's budget. */
    uint64_t start = now_ns();
    for (int attempt = 0; attempt < 8 && (attempt == 0 || s->walker.patient || now_ns() - start < 50000);
         attempt++) {
        size_t depth = 0;
        int truncated = 0;
        s->st.walks++;
        if (pm_walker_stack(&s->walker, t, &sl->memo, s->raw, PM_MAX_DEPTH, &depth, &truncated) == 0) {
            pm_id leaf = resolve(s, sl, root, s->raw, depth, truncated, 1, tick);
            if (leaf != PM_NONE)
                return leaf;
        }
        sl->prev_n = 0;
        while (captures < 2 && answered && s->can_capture && !s->walker.patient &&
               running_now(t, cpu_at_tick, NULL) && !s->capture.pending &&
               (pm_capture_set_extra(&s->capture, NULL, NULL), s->hattached = 0, 1) &&
               pm_capture_ask(&s->capture, (pid_t)t->native_id, t->tstate, s->space.direct) == 0) {
            captures++;
            uint64_t had = s->st.captured;
            pm_id leaf = walk_captured(s, sl, t, root, tick, CAPTURE_WAIT_NS);
            if (leaf != PM_NONE)
                return leaf;
            answered = s->st.captured != had;
            sl->prev_n = 0;
        }
    }
    s->st.torn++;
    return PM_NONE;
}

/* Whether a thread's stack is known to be the one of its last walk without
 * walking it.  A thread that has not run since cannot have changed it.  One
 * that barely ran (under 5% of the interval: waking to wait for the GIL
 * again, a sleep loop) is checked by its top frame alone — same frame, code,
 * instruction and caller — which is one small read instead of a walk. */
static int unchanged(pm_sampler *s, const pm_slot *sl, const pm_tinfo *t, uint64_t dcpu, uint64_t dt)
{
    if (dcpu == 0)
        return 1;
    if (dcpu * 20 >= dt || sl->prev_n < 2)
        return 0;
    pm_raw_frame top;
    uint64_t back;
    if (pm_walker_top(&s->walker, t, &top, &back) != 0)
        return 0;
    const pm_raw_frame *was = &sl->prev_raw[sl->prev_n - 1];
    return top.addr == was->addr && top.code == was->code && top.lasti == was->lasti &&
           back == sl->prev_raw[sl->prev_n - 2].addr;
}

/* Whether the kernel has thread tid waiting on something (sleeping, I/O,
 * a lock) rather than running or ready to run: the state letter of
 * /proc/TID/stat (any thread's tid works there, in any process).  -1 if it
 * cannot be read. */
static int thread_waiting(uint64_t tid)
{
    char path[48], buf[512];
    snprintf(path, sizeof path, "/proc/%llu/stat", (unsigned long long)tid);
    if (pm_procfile_read(path, buf, sizeof buf) < 0)
        return -1;
    /* "tid (comm) S ...": comm may hold spaces and parentheses. */
    const char *end = strrchr(buf, ')');
    if (!end || end[1] != ' ' || !end[2])
        return -1;
    return end[2] != 'R';
}

/* CPU mode, a thread whose stack changed since the last tick: if it is
 * blocked now, it is blocked in what it runs now, and the CPU it used since
 * the last tick was used before it blocked, in what it ran then.  Charging
 * that CPU to the blocking call would give sleep() the tail of the work
 * before it.  A CPU clock that stood still while we walked the thread is the
 * cheap first test, but it also fits a thread that is ready and merely
 * preempted — often by this sampling thread on the same core — and that
 * thread's CPU belongs to what it runs now; the kernel's state tells the two
 * apart (if it cannot be read, the clock alone decides). */
static int blocked_now(const pm_tinfo *t, uint64_t cpu_at_tick)
{
    uint64_t cpu;
    if (thread_cpu_ns(t->native_id, &cpu) != 0 || cpu != cpu_at_tick)
        return 0;
    return thread_waiting(t->native_id) != 0;
}

/* What a sample of a thread was doing besides its stack. */
enum { HELD_GIL = 1, IN_GC = 2 };

static int sample_flags(const pm_sampler *s, const pm_tinfo *t)
{
    int gil = s->walker.gil_locked && s->walker.gil_holder == t->tstate;
    /* The collector runs in the thread that holds the GIL. */
    return (gil ? HELD_GIL : 0) | (gil && s->walker.gc_collecting ? IN_GC : 0);
}

static uint64_t next_rand(pm_sampler *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

/* Charges one thread's sample at `leaf` (PM_NONE: nothing to charge) and
 * keeps its timeline.  before: the thread's last stack, for the CPU-mode
 * rule on threads that are blocked now (check_blocked). */
static void charge(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id leaf, pm_id before, uint64_t now,
                   uint64_t dt, int have, uint64_t dcpu, uint64_t cpu, int flags, int check_blocked)
{
    /* Off-CPU for most of the interval counts as idle (sleeping, blocked
     * on I/O or waiting for the GIL). */
    int idle = have ? dcpu * 4 < dt : 0;
    int keep = leaf != PM_NONE;
    if (s->o.mode == PM_MODE_CPU)
        keep = keep && dcpu > 0;
    else if (s->o.mode == PM_MODE_GIL)
        keep = keep && (flags & HELD_GIL);
    else if (!s->o.idle)
        keep = keep && !idle;
    if (keep) {
        pm_id at = leaf;
        if (check_blocked && s->o.mode == PM_MODE_CPU && before != PM_NONE && before != leaf && blocked_now(t, cpu))
            at = before;
        pm_node_add(s->model, at, s->m_samples, 1);
        s->st.truncated += (uint64_t)(at == leaf && sl->prev_truncated);
        pm_node_add(s->model, at, s->m_wall, (int64_t)dt);
        pm_node_add(s->model, at, s->m_cpu, (int64_t)dcpu);
        if (idle)
            pm_node_add(s->model, at, s->m_idle, 1);
        if (flags & HELD_GIL) {
            pm_node_add(s->model, at, s->m_gil, 1);
            /* Holding the GIL, the thread wants to run Python: the part of
             * the interval it spent off the CPU is the machine's other work
             * (the scheduler gave the CPU to someone else), not the
             * program's; `pyrometer diff` leaves it out of wall time. */
            if (have && dt > dcpu)
                pm_node_add(s->model, at, s->m_preempt, (int64_t)(dt - dcpu));
        }
        if (flags & IN_GC)
            pm_node_add(s->model, at, s->m_gc, 1);
        /* A candidate for this tick's GIL probe, chosen uniformly among them
         * (reservoir sampling: the n-th replaces the choice with odds 1/n). */
        if (s->gw_probe && idle && !(flags & HELD_GIL) && t->native_id && next_rand(s) % ++s->gw_n == 0) {
            s->gw_at = at;
            s->gw_tid = t->native_id;
        }
        if (s->requests) {
            int64_t v[PM_MAX_METRICS] = {0};
            v[s->m_samples] = 1;
            v[s->m_wall] = (int64_t)dt;
            v[s->m_cpu] = (int64_t)dcpu;
            v[s->m_idle] = idle;
            v[s->m_gil] = (flags & HELD_GIL) != 0;
            v[s->m_gc] = (flags & IN_GC) != 0;
            pm_requests_charge(s->requests, t->ident, sl->req_seq, at, v);
        }
    }
    pm_id tl = keep ? leaf : PM_NONE;
    if (s->o.timeline_cap && sl->thread != PM_NONE && tl != sl->tl_leaf) {
        pm_timeline_add(s->model, now - s->start_ns, sl->thread, tl);
        sl->tl_leaf = tl;
    }
}

/* A thread's walk is done: what to reuse at the next tick. */
static pm_id settle(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id leaf)
{
    /* Only frames not yet started (or C-stack shims): no Python stack to
     * charge, like a thread with no frame. */
    if (leaf != PM_NONE && leaf == pm_thread_at(s->model, sl->thread)->root)
        leaf = PM_NONE;
    /* A torn tick leaves nothing to reuse (prev_frame 0 forces a walk). */
    sl->leaf = leaf;
    sl->prev_frame = leaf != PM_NONE ? t->frame : 0;
    return leaf;
}

/* The slot and CPU figures of a thread seen this tick.  *cpu is its CPU
 * clock (read here unless have_cpu); returns the slot or NULL. */
static pm_slot *see_thread(pm_sampler *s, const pm_tinfo *t, uint64_t tickno, uint64_t dt, int have_cpu,
                           uint64_t *cpu, int *have, uint64_t *dcpu)
{
    pm_slot *sl = slot_for(s, t);
    if (!sl)
        return NULL;
    sl->last_tick = tickno;
    sl->native_id = t->native_id;
    *dcpu = 0;
    *have = have_cpu || thread_cpu_ns(t->native_id, cpu) == 0;
    if (*have) {
        /* A thread seen for the first time: its CPU since the last tick
         * is at most the interval. */
        *dcpu = sl->have_cpu ? (*cpu > sl->prev_cpu ? *cpu - sl->prev_cpu : 0) : (*cpu < dt ? *cpu : dt);
        sl->prev_cpu = *cpu;
        sl->have_cpu = 1;
    }
    return sl;
}

/* Whether the thread's last stack runs an asyncio loop: the index of the
 * innermost loop frame and the loop (0 when its run is not Python). */
static int loop_frame(pm_sampler *s, const pm_slot *sl, size_t *at, uint64_t *loop)
{
    const pm_async_layout *A = &s->async_L;
    *loop = 0;
    for (size_t i = sl->prev_n; i-- > 0;) {
        uint64_t c = sl->prev_raw[i].code;
        if (c == A->run_once_code) {
            *at = i;
            /* _run_once(self): its first local is the loop. */
            if (pm_space_read(&s->space, sl->prev_raw[i].addr + A->fr_localsplus, loop, 8) != 0)
                return 0;
            *loop &= A->ref_mask;
            return 1;
        }
        if (c && (c == A->runner_codes[0] || c == A->runner_codes[1])) {
            *at = i;
            return 1;
        }
    }
    return 0;
}

/* What a read of the tasks costs, for the budgets: the time the last one
 * took, but at most twice the estimate before (plus 2 us): a read the
 * machine preempted is not the read's cost, while tasks that really
 * multiply still raise the estimate within a few reads. */
static uint64_t read_cost(uint64_t before, uint64_t took)
{
    uint64_t cap = 2 * before + 2000;
    return took < cap ? took : cap;
}

/* The leaves of a read: for each task no other task waits for, the stack
 * of the chains of the tasks above it and its own, each under a `task NAME`
 * level, below base.  Returns how many (into *leaves), -1 out of memory. */
static long async_leaves(pm_sampler *s, pm_async_reader *r, pm_id base, uint64_t tickno, pm_id **leaves,
                         size_t *cap)
{
    size_t n = r->ntasks, k = 0;
    if (n > *cap) {
        pm_id *l = realloc(*leaves, n * sizeof *l);
        if (!l)
            return -1;
        *leaves = l;
        *cap = n;
    }
    char name[PM_STR_MAX_UTF8 + 8];
    pm_id empty = pm_str_intern(s->model, "", 0), unnamed = PM_NONE;
    for (size_t i = 0; i < n; i++) {
        if (r->tasks[i].waited_on)
            continue;
        int chain[64], d = 0;
        for (int j = (int)i; j >= 0 && d < 64; j = r->tasks[j].parent)
            chain[d++] = j;
        pm_id node = base;
        while (d-- > 0 && node != PM_NONE) {
            const pm_async_task *tk = &r->tasks[chain[d]];
            size_t len = 0;
            memcpy(name, "task ", 5);
            if (pm_async_task_name(r, tk, name + 5, sizeof name - 5, &len) != 0) {
                node = PM_NONE;
                break;
            }
            pm_id label = len ? PM_NONE : unnamed;
            if (label == PM_NONE)
                label = pm_frame_intern(s->model, pm_str_intern(s->model, name, len ? len + 5 : 4), empty, 0,
                                        PM_FRAME_NATIVE);
            if (!len)
                unnamed = label;
            node = label == PM_NONE ? PM_NONE : pm_node_child(s->model, node, label, 0);
            if (node == PM_NONE)
                break;
            for (uint32_t q = 0; q < tk->n; q++)
                s->araw[q] = r->frames[tk->first + tk->n - 1 - q];
            node = resolve(s, &s->aslot, node, s->araw, tk->n, 0, 0, tickno);
        }
        if (node != PM_NONE)
            (*leaves)[k++] = node;
    }
    return (long)k;
}

/* --async, wall mode: a thread waiting in an asyncio loop (its stack holds
 * BaseEventLoop._run_once, or asyncio.run when the loop is not Python) is
 * charged as the loop's pending tasks instead: each task that no other task
 * waits for gets the tick, as the stack of its await chain under the chains
 * of the tasks that wait for it (each under a `task NAME` level, `task`
 * for asyncio's numbered default names), all below
 * the loop's frame.  Read only while the thread's CPU clock stands still,
 * before and after: the loop's thread is the one that changes its tasks,
 * and it did not run.  A task that runs (blocked in a call of its own)
 * keeps the thread's real stack, which is charged too.  Returns whether
 * the tick was charged (the caller charges the real stack otherwise). */
static int async_charge(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id leaf, uint64_t tickno,
                        uint64_t now, uint64_t dt, uint64_t dcpu, uint64_t cpu)
{
    if (s->o.mode != PM_MODE_WALL || !s->o.idle)
        return 0;
    size_t at = 0;
    uint64_t loop = 0;
    if (!loop_frame(s, sl, &at, &loop))
        return 0;
    pm_id base = sl->prev_path[at];
    int idle = dcpu * 4 < dt;
    if (!(s->alast.valid && s->alast.tstate == t->tstate && s->alast.ident == t->ident && s->alast.cpu == cpu &&
          s->alast.base == base)) {
        s->alast.valid = 0;
        if (!still_now(t, cpu)) {
            s->st.async_running++;
            return 0;
        }
        /* The sampler's own budget: reads that take more than 5% of an
         * interval (thousands of tasks) are made every k-th tick, each
         * standing for the ticks since the previous one (sampling at a
         * lower rate: the shares stay right, the samples are fewer). */
        double budget = 0.05e9 / s->o.rate_hz;
        if ((double)s->aread_ns > budget && (double)(tickno - s->aread_tick) * budget < (double)s->aread_ns) {
            s->askipped_dt += dt;
            s->st.async_skipped++;
            return 1;
        }
        pm_async_reader *r = &s->areader;
        uint64_t t0 = now_ns();
        long n = pm_async_read(r, loop);
        /* A read that fails (too many tasks) costs as much: the budget
         * counts it too. */
        uint64_t t1 = now_ns();
        s->aread_ns = read_cost(s->aread_ns, t1 > t0 ? t1 - t0 : 0);
        s->aread_tick = tickno;
        if (n < 0 || !still_now(t, cpu)) {
            s->st.async_torn++;
            /* The ticks left to this read go where this one goes: the
             * thread's own stack. */
            pm_node_add(s->model, leaf, s->m_wall, (int64_t)s->askipped_dt);
            s->askipped_dt = 0;
            return 0;
        }
        long nl = async_leaves(s, r, base, tickno, &s->alast.leaves, &s->alast.cap);
        if (nl < 0)
            return 0;
        s->alast.n = (size_t)nl;
        s->alast.valid = 1;
        s->alast.running = r->running > 0;
        s->alast.tstate = t->tstate;
        s->alast.ident = t->ident;
        s->alast.cpu = cpu;
        s->alast.base = base;
    }
    s->st.async_read++;
    uint64_t wall = dt + s->askipped_dt;
    s->askipped_dt = 0;
    for (size_t i = 0; i < s->alast.n; i++) {
        pm_id node = s->alast.leaves[i];
        pm_node_add(s->model, node, s->m_samples, 1);
        pm_node_add(s->model, node, s->m_wall, (int64_t)wall);
        if (idle)
            pm_node_add(s->model, node, s->m_idle, 1);
        if (i == 0 && !s->alast.running && s->o.timeline_cap && node != sl->tl_leaf) {
            pm_timeline_add(s->model, now - s->start_ns, sl->thread, node);
            sl->tl_leaf = node;
        }
    }
    if (!s->alast.n || s->alast.running)
        return 0;
    /* The CPU the thread used since the last tick was not the waiting
     * tasks': it stays on the thread's own stack. */
    if (dcpu)
        pm_node_add(s->model, leaf, s->m_cpu, (int64_t)dcpu);
    return 1;
}

/* The kernel's view of a thread that is not on a CPU (any tid of ours):
 * 1 when it is ready to run (preempted, in user mode or in a system call
 * that does not sleep; /proc/TID/syscall says "running"), 0 when it waits in
 * a system call (*pc: where, in its C library; 0 when unknown), -1 when
 * unreadable.  The file gives the call's number, six arguments, the stack
 * pointer and the program counter. */
static int proc_syscall(uint64_t tid, uint64_t *pc)
{
    uint64_t f[9];
    int n, rc = pm_proc_syscall(tid, f, &n);
    *pc = rc == 0 && (n == 3 || n == 9) ? f[n - 1] : 0;
    return rc;
}

/* --native: a thread that ran since the last tick and is now ready to run
 * but not on a CPU (preempted: on a busy machine, most of the time).  It is
 * in no blocking system call, so it may be asked to copy its stacks; the
 * handler runs when it gets a CPU again, and as it runs nothing of its own
 * before that, the copy is its stack now (the held-back sample). */
static int preempted(pm_sampler *s, const pm_tinfo *t)
{
    uint64_t cpu, pc;
    if (!s->can_capture || !t->frame || !t->native_id || thread_cpu_ns(t->native_id, &cpu) != 0)
        return 0;
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].tstate == t->tstate && s->slots[i].ident == t->ident && s->slots[i].have_cpu &&
            s->slots[i].prev_cpu == cpu)
            return 0; /* did not run: its last stack stands */
    return !running_now(t, cpu, NULL) && proc_syscall(t->native_id, &pc) == 1;
}

/* --native, a thread that is not the GIL holder: its C stack changes while
 * it runs, with or without the GIL, so a thread on a CPU now copies its own
 * stacks (Python and C) at one moment, as the GIL holder does.  A thread off
 * the CPU is never signalled (the signal could interrupt a system call that
 * C code does not restart): it is read from outside, with Python frames
 * only, and one that did not run since the last tick kept its last stack,
 * C frames included, before we got here. */
static pm_id walk_native(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, uint64_t tick, uint64_t cpu_at_tick)
{
    if (sl->thread == PM_NONE) {
        sl->thread = pm_thread_get(s->model, t->ident, t->native_id);
        if (sl->thread == PM_NONE)
            return PM_NONE;
        if (s->nnew < sizeof s->new_threads / sizeof s->new_threads[0])
            s->new_threads[s->nnew++] = sl->thread;
    }
    if (!s->capture.pending) {
        /* Not the loop thread's own task read (async_attach): that is for
         * the GIL holder alone. */
        s->hattached = 0;
        pm_capture_set_extra(&s->capture, NULL, NULL);
    }
    if (running_now(t, cpu_at_tick, NULL) &&
        pm_capture_ask(&s->capture, (pid_t)t->native_id, t->tstate, s->space.direct) == 0) {
        pm_id leaf = walk_captured(s, sl, t, pm_thread_at(s->model, sl->thread)->root, tick, CAPTURE_WAIT_NS);
        if (leaf != PM_NONE)
            return leaf;
        sl->prev_n = 0;
    }
    uint64_t merged = s->st.native;
    pm_id leaf = walk_thread(s, sl, t, tick, cpu_at_tick);
    /* Off the CPU in a system call: its Python stack, and where in the C
     * library it waits, named from the kernel's view of its registers.  Only
     * for a stack read while the thread held still (not one it copied with
     * its C frames), and only if it still has not run since the tick: the
     * call read is then the one it waited in during the walk. */
    uint64_t pc;
    pm_id frame;
    int cls;
    if (leaf != PM_NONE && s->st.native == merged && proc_syscall(t->native_id, &pc) == 0 && pc &&
        still_now(t, cpu_at_tick) && pm_natframes_get(&s->nat, s->model, pc, &frame, &cls) == 0) {
        leaf = pm_node_child(s->model, leaf, frame, 0);
        s->st.native_syscall++;
    }
    return leaf;
}

/* Ticks owed to a thread's next stack, at most OWED_MAX in a row: past
 * that, or when the thread ends or sampling stops first, they are torn. */
#define OWED_MAX 8

static void forgive_owed(pm_sampler *s, pm_slot *sl)
{
    s->st.torn += sl->owed.ticks;
    memset(&sl->owed, 0, sizeof sl->owed);
}

/* This tick is owed to the thread's next stack (1), or torn (0). */
static int owe(pm_sampler *s, pm_slot *sl, uint64_t now, uint64_t dt, uint64_t dcpu, int flags)
{
    if (sl->owed.ticks == OWED_MAX) {
        forgive_owed(s, sl);
        s->st.torn++;
        return 0;
    }
    if (!sl->owed.ticks) {
        sl->owed.now = now;
        sl->owed.flags = flags;
    }
    sl->owed.ticks++;
    sl->owed.dt += dt;
    sl->owed.dcpu += dcpu;
    return 1;
}

/* The owed ticks, charged to the stack the thread has now, at the time the
 * first was owed (the timeline puts late events at their place). */
static void pay_owed(pm_sampler *s, pm_slot *sl, const pm_tinfo *t, pm_id leaf)
{
    uint64_t n = sl->owed.ticks;
    for (uint64_t k = 0; k < n; k++)
        charge(s, sl, t, leaf, PM_NONE, sl->owed.now, sl->owed.dt / n, 1, sl->owed.dcpu / n, 0, sl->owed.flags, 0);
    memset(&sl->owed, 0, sizeof sl->owed);
}

/* Samples one thread that was not asked to copy its stack. */
static void sample_thread(pm_sampler *s, const pm_tinfo *t, uint64_t tickno, uint64_t now, uint64_t dt)
{
    uint64_t cpu = 0, dcpu;
    int have;
    pm_slot *sl = see_thread(s, t, tickno, dt, 0, &cpu, &have, &dcpu);
    if (!sl)
        return;
    pm_id leaf = PM_NONE, before = sl->leaf;
    if (s->requests)
        sl->req_seq = pm_requests_seq(s->requests, t->ident);
    if (t->frame) {
        if (have && sl->leaf != PM_NONE && t->frame == sl->prev_frame && unchanged(s, sl, t, dcpu, dt)) {
            leaf = sl->leaf;
            s->st.reused++;
        } else if (s->o.native) {
            leaf = settle(s, sl, t, walk_native(s, sl, t, tickno, cpu));
        } else {
            leaf = settle(s, sl, t, walk_thread(s, sl, t, tickno, cpu));
            if (leaf == PM_NONE && s->frozen && owe(s, sl, now, dt, dcpu, sample_flags(s, t)))
                return;
        }
    } else {
        sl->leaf = PM_NONE;
    }
    if (leaf != PM_NONE && sl->owed.ticks)
        pay_owed(s, sl, t, leaf);
    if (s->async_on && leaf != PM_NONE && have && async_charge(s, sl, t, leaf, tickno, now, dt, dcpu, cpu))
        return;
    charge(s, sl, t, leaf, before, now, dt, have, dcpu, cpu, sample_flags(s, t), 1);
}

/* How long a thread may leave the capture signal unanswered (it blocks
 * the signal, or it is not given a CPU) before its held-back ticks are
 * counted as torn. */
#define HELD_BACK_MAX_NS 100000000ull

/* How long the sampler waits, asleep, for a copy asked again because the
 * last one gave no stack. */
#define RETRY_WAIT_NS 200000

/* A tick of the thread whose sample is held back joins it. */
static int join_held_back(pm_sampler *s, const pm_tinfo *now_t, uint64_t tickno, uint64_t dt)
{
    uint64_t cpu = 0, dcpu = 0;
    int have;
    see_thread(s, now_t, tickno, dt, 0, &cpu, &have, &dcpu);
    s->held_back.ticks++;
    s->held_back.dt += dt;
    s->held_back.dcpu += dcpu;
    return 1;
}

/* Takes up the ticks held back for the GIL holder that was asked to copy
 * its own stack: once it answered, they are charged to the copy, the stack
 * it had at the request (it ran none of its code between the signal and the
 * handler).  While it has not answered it has run none of its code either,
 * so its stack is still that one: this tick joins the held-back ones
 * (returns 1; the thread is not sampled again).  After too long, or once the
 * thread is gone, its clock decides: still since the request, it is read as
 * it is; otherwise the ticks are torn. */
static int take_up_held_back(pm_sampler *s, uint64_t tickno, const pm_tinfo *now_t, uint64_t dt, int final,
                             int join)
{
    if (!s->held_back.pending)
        return 0;
    const pm_tinfo *t = &s->held_back.t;
    pm_slot *sl = NULL;
    for (size_t i = 0; i < s->nslots && !sl; i++)
        if (s->slots[i].tstate == t->tstate && s->slots[i].ident == t->ident)
            sl = &s->slots[i];
    int answered = pm_capture_answered(&s->capture);
    int may_wait = !final && sl && now_t && now_ns() - s->held_back.asked_ns < HELD_BACK_MAX_NS;
    if (!answered && may_wait)
        return join ? join_held_back(s, now_t, tickno, dt) : 1;
    s->held_back.pending = 0;
    if (!sl || sl->thread == PM_NONE) {
        pm_capture_wait(&s->capture, 0);
        return 0;
    }
    pm_id root = pm_thread_at(s->model, sl->thread)->root;
    pm_id leaf = walk_captured(s, sl, t, root, tickno, 0);
    int from_capture = leaf != PM_NONE;
    if (leaf == PM_NONE && s->held_back.pre && s->capture.nat_n > 0) {
        /* The copy could not be read any more; the frames read at the
         * request are of the same moment. */
        leaf = merge_native(s, root, s->held_back.pre_frames, s->held_back.pre_lines, s->held_back.pre_starts,
                            s->held_back.pre_groups, s->capture.nat_ips, (size_t)s->capture.nat_n);
        sl->prev_n = 0;
    }
    if (leaf == PM_NONE) {
        sl->prev_n = 0;
        /* A copy that gives no stack: the thread stopped in the middle of
         * linking a frame (a chain that loops for an instant), or a code
         * object in it died before the copy was read (a tick later).  The
         * next moment of the same thread stands in for it: asked again, up
         * to 3 times while it runs, or read while it holds still (it has
         * gone to sleep, or waits for a CPU); one that began to run during
         * that read is looked at once more. */
        for (int pass = 0; pass < 2 && leaf == PM_NONE; pass++) {
            uint64_t c0;
            int have_c0 = may_wait && thread_cpu_ns(now_t->native_id, &c0) == 0;
            if (answered && have_c0 && s->held_back.retries < 3 && running_now(now_t, c0, NULL) &&
                pm_capture_ask(&s->capture, (pid_t)now_t->native_id, now_t->tstate, s->space.direct) == 0) {
                s->held_back.pending = 1;
                s->held_back.retries++;
                s->held_back.pre = 0; /* a new moment */
                s->held_back.asked_ns = now_ns();
                if (thread_cpu_ns(now_t->native_id, &s->held_back.cpu_at_ask) != 0)
                    s->held_back.cpu_at_ask = 0;
                int joined = join ? join_held_back(s, now_t, tickno, dt) : 1;
                /* This copy is read as soon as it is made: read a tick
                 * later, as the first one was, it would meet the same end
                 * (a program importing modules one after another frees a
                 * module's code every millisecond or so).  Asleep, and only
                 * here (a fraction of a percent of the ticks): an answer is
                 * microseconds away. */
                if (pm_capture_await(&s->capture, RETRY_WAIT_NS))
                    take_up_held_back(s, tickno, now_t, dt, final, 0);
                return joined;
            }
            if (pass == 0 && still_now(t, s->held_back.cpu_at_ask))
                leaf = walk_still(s, sl, t, root, tickno, s->held_back.cpu_at_ask);
            else if (have_c0)
                leaf = walk_still(s, sl, now_t, root, tickno, c0);
        }
        if (leaf == PM_NONE) {
            s->st.torn += s->held_back.ticks;
            s->st.torn_held += s->held_back.ticks;
        }
    }
    leaf = settle(s, sl, t, leaf);
    /* --async: the loop's thread ran Python code, which changes its tasks;
     * they are shown only if the capture's handler read them at the moment
     * of the copy (of this loop), else these ticks are counted. */
    size_t at;
    uint64_t loop;
    long nl = -1;
    if (s->async_on && leaf != PM_NONE && s->o.mode == PM_MODE_WALL && s->o.idle && loop_frame(s, sl, &at, &loop)) {
        if (from_capture && s->hattached && s->hread_n >= 0 && loop == s->hloop)
            nl = async_leaves(s, &s->hreader, sl->prev_path[at], tickno, &s->hleaves, &s->hcap);
        /* What the program's thread paid decides whether the next capture
         * reads again (tasks grow while the loop is busy). */
        if (from_capture && s->hattached && s->hread_ns)
            s->aread_ns = read_cost(s->aread_ns, s->hread_ns);
        if (nl >= 0) {
            s->st.async_read += s->held_back.ticks;
            s->st.async_in_handler += s->held_back.ticks;
        }
        else
            s->st.async_running += s->held_back.ticks;
    }
    s->hattached = 0;
    /* One sample per tick held back, the interval and CPU they covered. */
    uint64_t each = s->held_back.dt / s->held_back.ticks;
    for (uint64_t k = 0; k < s->held_back.ticks; k++) {
        charge(s, sl, t, leaf, PM_NONE, s->held_back.now, each, 1, s->held_back.dcpu / s->held_back.ticks, 0,
               s->held_back.flags, 0);
        for (long i = 0; i < nl; i++) {
            pm_node_add(s->model, s->hleaves[i], s->m_samples, 1);
            pm_node_add(s->model, s->hleaves[i], s->m_wall, (int64_t)each);
        }
    }
    return 0;
}

/* --async: on the loop's thread, in the capture signal's handler after its
 * stack copy: the thread is stopped, so its tasks are read at the moment of
 * the copy.  Allocates nothing (buffers reserved by async_attach). */
static void async_in_handler(void *ctx)
{
    pm_sampler *s = ctx;
    uint64_t t0 = now_ns(); /* clock_gettime: async-signal-safe */
    s->hread_n = pm_async_read(&s->hreader, s->hloop);
    s->hread_ns = now_ns() - t0;
}

/* Before a capture of thread t: whether its handler also reads the loop's
 * tasks — the thread's last stack runs a loop, and the last read was short
 * enough (under 2% of an interval) to hold the program's thread for. */
static void async_attach(pm_sampler *s, const pm_tinfo *t)
{
    if (s->capture.pending)
        return;
    s->hattached = 0;
    pm_capture_set_extra(&s->capture, NULL, NULL);
    if (!s->async_on || s->o.mode != PM_MODE_WALL || !s->o.idle ||
        (double)s->aread_ns * 50 > 1e9 / s->o.rate_hz)
        return;
    const pm_slot *sl = NULL;
    for (size_t i = 0; i < s->nslots && !sl; i++)
        if (s->slots[i].tstate == t->tstate && s->slots[i].ident == t->ident)
            sl = &s->slots[i];
    size_t at;
    uint64_t loop;
    if (!sl || !loop_frame(s, sl, &at, &loop))
        return;
    const pm_async_reader *r = &s->areader;
    s->hreader.no_alloc = 0;
    if (pm_async_reserve(&s->hreader, 2 * r->nframes + 256, 2 * r->nlocals + 1024, 2 * r->table_bytes + 4096) != 0)
        return;
    s->hreader.no_alloc = 1;
    s->hspace.direct = s->space.direct;
    s->hloop = loop;
    s->hread_n = -2;
    s->hread_ns = 0;
    s->hattached = 1;
    pm_capture_set_extra(&s->capture, async_in_handler, s);
}

/* The GIL holder, the one thread that can be changing its Python stack:
 * if it is on a CPU (its clock moves between two reads), it is asked to copy
 * its own stack, and its sample is held back until the next tick, by when
 * the copy is long made.  Returns whether it was. */
static int hold_back(pm_sampler *s, const pm_tinfo *t, uint64_t tickno, uint64_t now, uint64_t dt, int ready)
{
    uint64_t cpu = 0, cpu_now = 0, dcpu;
    int have;
    if (!s->can_capture || !t->frame || thread_cpu_ns(t->native_id, &cpu) != 0 ||
        !(ready || running_now(t, cpu, &cpu_now)))
        return 0;
    async_attach(s, t);
    /* The request the thread serves, before its stack is copied: charged
     * to that request only if it still serves it then (pm_requests). */
    uint64_t seq = s->requests ? pm_requests_seq(s->requests, t->ident) : 0;
    if (pm_capture_ask(&s->capture, (pid_t)t->native_id, t->tstate, s->space.direct) != 0)
        return 0;
    pm_slot *sl = see_thread(s, t, tickno, dt, 1, &cpu, &have, &dcpu);
    if (sl)
        sl->req_seq = seq;
    if (sl && sl->thread == PM_NONE) {
        sl->thread = pm_thread_get(s->model, t->ident, t->native_id);
        if (sl->thread != PM_NONE && s->nnew < sizeof s->new_threads / sizeof s->new_threads[0])
            s->new_threads[s->nnew++] = sl->thread;
    }
    if (!sl || sl->thread == PM_NONE) { /* out of memory: no sample */
        pm_capture_wait(&s->capture, 0);
        return 1;
    }
    s->held_back.pending = 1;
    s->held_back.t = *t;
    s->held_back.now = now;
    s->held_back.dt = dt;
    s->held_back.dcpu = dcpu;
    s->held_back.ticks = 1;
    s->held_back.flags = sample_flags(s, t);
    s->held_back.retries = 0;
    s->held_back.asked_ns = now_ns();
    s->held_back.pre = 0;
    if (ready) {
        /* Not running, and the signal is pending: if its clock still reads
         * as before the request once the walk is done, it ran nothing while
         * read, and its handler will copy this very moment. */
        size_t depth = 0;
        int truncated = 0, patient = s->walker.patient;
        s->walker.patient = 1;
        s->walker.snapshot = 1;
        int rc = pm_walker_stack(&s->walker, t, &sl->memo, s->raw, PM_MAX_DEPTH, &depth, &truncated);
        s->walker.patient = patient;
        s->walker.snapshot = 0;
        s->held_back.pre = rc == 0 && !truncated && still_now(t, cpu) &&
                           py_frames(s, s->raw, depth, tickno, s->held_back.pre_frames, s->held_back.pre_lines,
                                     s->held_back.pre_starts, &s->held_back.pre_groups) == 0;
        s->held_back.pre_n = depth;
    }
    /* The clock once the signal is pending: from here on the thread runs
     * no code of its own before the handler, so a clock still at this
     * value later means it has not run since. */
    if (thread_cpu_ns(t->native_id, &cpu_now) != 0)
        cpu_now = 0;
    s->held_back.cpu_at_ask = cpu_now;
    return 1;
}

/* --native: how long the end of a tick waits for the GIL holder's copy. */
#define NATIVE_HOLDER_WAIT_NS 50000

/* GIL waiting.  A thread off the CPU without the GIL either released it
 * (sleeping, in I/O, in a lock; C code releases it around any blocking call)
 * or waits for it, blocked on a futex inside the GIL's own structure (its
 * condition variable or mutex); only the kernel can tell which, from the
 * call the thread sleeps in (/proc/self/task/TID/syscall, three system calls
 * to read).  So one such thread is asked every GIL_PROBE_EVERY ticks, chosen
 * uniformly among those of the tick, and a "yes" is charged to its stack as
 * that many samples times the candidates it was chosen from: each sample
 * off the CPU without the GIL is counted with its probability of being
 * asked, so the "gil_wait" metric estimates, per stack, the samples spent
 * waiting for the GIL, without bias (a read costs about 3 us: 0.3 us a
 * tick). */
#define GIL_PROBE_EVERY 8

static void gil_wait_probe(pm_sampler *s)
{
    uint64_t f[9];
    int n;
    s->st.gil_probes++;
    if (pm_proc_syscall(s->gw_tid, f, &n) == 0 && n == 9 && f[0] == SYS_futex && f[1] >= s->L.gil_addr &&
        f[1] < s->L.gil_addr + s->L.gil_size) {
        s->st.gil_waiting++;
        pm_node_add(s->model, s->gw_at, s->m_gilwait, (int64_t)s->gw_n * GIL_PROBE_EVERY);
    }
}

static void tick(pm_sampler *s, uint64_t tickno, uint64_t now, uint64_t dt)
{
    /* Plain guarded copies while our fault handler is in place; if the
     * program has put its own there since, the slower safe reads. */
    s->space.direct = s->guarded && pm_guard_active();

    pthread_mutex_lock(s->model_lock);
    long n = pm_walker_threads(&s->walker);
    if (n < 0) {
        pthread_mutex_unlock(s->model_lock);
        return;
    }
    /* First what was held back: answered, it is charged at the time it was
     * asked (the timeline puts those events at their place). */
    long waiting = -1;
    if (s->held_back.pending) {
        const pm_tinfo *t = NULL;
        for (long i = 0; i < n && !t; i++)
            if (s->walker.threads[i].tstate == s->held_back.t.tstate && s->walker.threads[i].ident == s->held_back.t.ident)
                t = &s->walker.threads[(waiting = i)];
        if (!take_up_held_back(s, tickno, t, dt, 0, 1))
            waiting = -1;
    }
    long asked = -1, holder = -1;
    s->gw_n = 0;
    s->gw_probe = s->L.gil_size && s->o.mode == PM_MODE_WALL && tickno % GIL_PROBE_EVERY == 0;
    for (long i = 0; i < n; i++) {
        const pm_tinfo *t = &s->walker.threads[i];
        if (i == waiting)
            continue;
        if (s->o.native && s->walker.gil_locked && s->walker.gil_holder == t->tstate)
            holder = i; /* last: the other running threads need the capture first */
        else if (s->walker.gil_locked && s->walker.gil_holder == t->tstate && hold_back(s, t, tickno, now, dt, 0))
            asked = i;
        else if (s->o.native && !s->walker.gil_locked && asked < 0 && preempted(s, t) &&
                 hold_back(s, t, tickno, now, dt, 1))
            asked = i;
        else
            sample_thread(s, t, tickno, now, dt);
    }
    if (holder >= 0) {
        const pm_tinfo *t = &s->walker.threads[holder];
        if (hold_back(s, t, tickno, now, dt, asked < 0 && preempted(s, t)))
            asked = holder;
        else
            sample_thread(s, t, tickno, now, dt);
    }
    /* Most answers arrive while the other threads are sampled: taken up at
     * once, the copy is read before a code object in it can go away (a
     * module's code is freed as soon as its import ends).  The rest wait
     * for the next tick. */
    if (asked >= 0 && s->o.native) {
        /* --native asks the holder last, after the others' captures: there
         * is no sampling of other threads left to answer during, so give it
         * a little time, asleep (a running thread answers within
         * microseconds). */
        pm_capture_await(&s->capture, NATIVE_HOLDER_WAIT_NS);
    }
    if (asked >= 0 && pm_capture_answered(&s->capture))
        take_up_held_back(s, tickno, &s->walker.threads[asked], dt, 0, 0);
    if (s->gw_n)
        gil_wait_probe(s);
    /* Threads gone since the last tick: close their timeline, drop the slot. */
    for (size_t i = 0; i < s->nslots;) {
        pm_slot *sl = &s->slots[i];
        if (sl->last_tick == tickno) {
            i++;
            continue;
        }
        if (s->o.timeline_cap && sl->thread != PM_NONE && sl->tl_leaf != PM_NONE)
            pm_timeline_add(s->model, now - s->start_ns, sl->thread, PM_NONE);
        forgive_owed(s, sl);
        slot_clear(sl);
        s->slots[i] = s->slots[--s->nslots];
    }
    int want = s->nnew > 0;
    pthread_mutex_unlock(s->model_lock);
    want = want || pm_codecache_pins_waiting(&s->codes);
    if (want && s->notify && !atomic_exchange(&s->notified, 1))
        s->notify(s->notify_ctx);
}

/* The sampling thread asks the kernel for a short time slice (EEVDF, Linux
 * 6.12+): a waking task whose slice is shorter than the running one's
 * preempts it, so a tick is not held back for the rest of a busy thread's
 * slice (several ms on a loaded machine, and a tick later than one interval
 * is lost: 5-7% of them with 4 busy threads on 2 cores). It needs no
 * privilege and does not change the thread's share of the CPU. Only a normal
 * (SCHED_OTHER) thread asks, keeping its nice value; older kernels ignore or
 * refuse the request and the sampler runs as before. */
static void ask_short_slice(void)
{
#ifdef SYS_sched_setattr
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
    } attr = {.size = 48, .policy = SCHED_OTHER, .runtime = 100000 /* ns, the shortest allowed */};
    if (sched_getscheduler(0) != SCHED_OTHER)
        return;
    errno = 0;
    attr.nice = (int32_t)getpriority(PRIO_PROCESS, 0); /* on Linux: this thread's */
    if (errno == 0)
        (void)syscall(SYS_sched_setattr, 0, &attr, 0);
#endif
}

static void *run(void *arg)
{
    pm_sampler *s = arg;
    ask_short_slice();
    uint64_t interval = (uint64_t)(1e9 / s->o.rate_hz);
    if (interval < 10000)
        interval = 10000;
    /* Ticks and the last tick's time carry over a pause (see fork). */
    uint64_t deadline = now_ns() + interval, tickno = s->st.ticks;
    pthread_mutex_lock(&s->wake_lock);
    while (!atomic_load(&s->stop)) {
        struct timespec ts = {(time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull)};
        int rc = 0;
        while (!atomic_load(&s->stop) && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->wake, &s->wake_lock, &ts);
        if (atomic_load(&s->stop))
            break;
        pthread_mutex_unlock(&s->wake_lock);
        uint64_t now = now_ns();
        tick(s, ++tickno, now, now - s->last_ns);
        s->last_ns = now;
        pthread_mutex_lock(&s->stats_lock);
        s->st.ticks = tickno;
        pthread_mutex_unlock(&s->stats_lock);
        /* The next interval is drawn from [0.5, 1.5] x the mean, so the
         * wake-ups' phase against any periodic program drifts at random: on
         * a fixed grid (even with a small jitter) a program whose period is
         * a multiple of ours would be seen at the same point of its cycle
         * every time (one part of its loop gets every sample). */
        deadline += interval / 2 + next_rand(s) % (interval + 1);
        /* Fell behind (machine busy): skip the missed deadlines rather than
         * firing a burst of samples at once. */
        uint64_t after = now_ns();
        if (after > deadline + interval)
            deadline += ((after - deadline) / interval) * interval;
        pthread_mutex_lock(&s->wake_lock);
    }
    pthread_mutex_unlock(&s->wake_lock);
    /* A sample held back at the last tick is not lost at a stop or pause. */
    pthread_mutex_lock(s->model_lock);
    take_up_held_back(s, tickno, NULL, 0, 1, 0);
    for (size_t i = 0; i < s->nslots; i++)
        forgive_owed(s, &s->slots[i]);
    pthread_mutex_unlock(s->model_lock);
    struct timespec c;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
    pthread_mutex_lock(&s->stats_lock);
    /* Accumulated: a pause (fork) ends one thread and starts another. */
    s->st.cpu_ns += (uint64_t)c.tv_sec * 1000000000ull + (uint64_t)c.tv_nsec;
    pthread_mutex_unlock(&s->stats_lock);
    return NULL;
}

static int spawn(pm_sampler *s, char *err, size_t errlen);

int pm_sampler_start(pm_sampler *s, char *err, size_t errlen)
{
    if (s->thread_alive) {
        snprintf(err, errlen, "the sampler is already running");
        return -1;
    }
    if (!(s->o.rate_hz > 0) || s->o.rate_hz > 100000) {
        snprintf(err, errlen, "sampling rate must be between 0 and 100000 Hz");
        return -1;
    }
    atomic_store(&s->stop, 0);
    s->start_ns = now_ns();
    s->last_ns = s->start_ns;
    struct timespec wall;
    if (s->o.timeline_cap && clock_gettime(CLOCK_REALTIME, &wall) == 0)
        pm_meta_set_u64(s->model, PM_META_TIMELINE_EPOCH,
                        (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec);
    s->guarded = pm_guard_install() == 0;
    if (spawn(s, err, errlen) != 0) {
        if (s->guarded)
            pm_guard_uninstall();
        s->guarded = 0;
        return -1;
    }
    registry_set(NULL, s);
    return 0;
}

/* Starts the sampling thread. */
static int spawn(pm_sampler *s, char *err, size_t errlen)
{
    /* Signals are the program's: the sampling thread blocks them all so a
     * SIGINT or SIGTERM is never delivered to it. */
    sigset_t all, old;
    sigfillset(&all);
    /* ...except the synchronous ones: a fault in a guarded read must reach
     * the guard's handler (a blocked SIGSEGV kills the process outright). */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, run, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the sampling thread: %s", strerror(rc));
        return -1;
    }
    /* Named before start returns, so that top -H, /proc and debuggers tell
     * it from the program's threads. */
    (void)pthread_setname_np(s->thread, "pyrometer");
    s->thread_alive = 1;
    atomic_store(&s->running, 1);
    return 0;
}

/* Ends the sampling thread and waits for it. */
static void join(pm_sampler *s)
{
    pthread_mutex_lock(&s->wake_lock);
    atomic_store(&s->stop, 1);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->wake_lock);
    pthread_join(s->thread, NULL);
    s->thread_alive = 0;
}

void pm_sampler_pause(pm_sampler *s)
{
    if (!s->thread_alive || s->paused)
        return;
    join(s);
    s->paused = 1;
}

void pm_sampler_resume(pm_sampler *s)
{
    if (!s->paused)
        return;
    s->paused = 0;
    char err[128];
    atomic_store(&s->stop, 0);
    if (spawn(s, err, sizeof err) != 0)
        atomic_store(&s->running, 0); /* the profile so far stays valid */
}

void pm_sampler_stop(pm_sampler *s)
{
    registry_set(s, NULL);
    if (!s->thread_alive && !s->paused)
        return;
    if (s->thread_alive)
        join(s);
    s->paused = 0;
    atomic_store(&s->running, 0);
    if (s->guarded)
        pm_guard_uninstall();
    s->guarded = 0;
    s->space.direct = 0;
    uint64_t end = now_ns();

    pm_sampler_stats st;
    pm_sampler_get_stats(s, &st);
    st.duration_ns = end - s->start_ns;
    pthread_mutex_lock(s->model_lock);
    pm_meta_set_str(s->model, "mode", s->o.mode == PM_MODE_CPU ? "cpu" : s->o.mode == PM_MODE_GIL ? "gil" : "wall");
    pm_meta_set_num(s->model, "rate_hz", s->o.rate_hz);
    pm_meta_set_num(s->model, "duration_s", (double)st.duration_ns / 1e9);
    pm_meta_set_num(s->model, "samples_expected", (double)st.expected);
    pm_meta_set_num(s->model, "samples_taken", (double)st.ticks);
    pm_meta_set_num(s->model, "samples_torn", (double)st.torn);
    pm_meta_set_num(s->model, "samples_captured", (double)st.captured);
    if (st.truncated) { /* stacks deeper than the walk's limit: the cut is counted */
        pm_meta_set_num(s->model, "samples_truncated", (double)st.truncated);
        pm_meta_set_num(s->model, "stack_depth_limit", (double)PM_MAX_DEPTH);
    }
    pm_meta_set_num(s->model, "sampler_cpu_s", (double)st.cpu_ns / 1e9);
    pm_meta_set_num(s->model, "idle_included", s->o.idle ? 1.0 : 0.0);
    if (st.gil_probes) {
        pm_meta_set_num(s->model, "gil_wait_probes", (double)st.gil_probes);
        pm_meta_set_num(s->model, "gil_wait_probes_waiting", (double)st.gil_waiting);
    }
    if (s->async_on) {
        pm_meta_set_num(s->model, "async_ticks_read", (double)st.async_read);
        pm_meta_set_num(s->model, "async_ticks_running", (double)st.async_running);
        pm_meta_set_num(s->model, "async_ticks_torn", (double)st.async_torn);
        pm_meta_set_num(s->model, "async_ticks_thinned", (double)st.async_skipped);
        pm_meta_set_num(s->model, "async_ticks_read_running", (double)st.async_in_handler);
    }
    if (s->o.native) {
        pm_meta_set_num(s->model, "native", 1.0);
        pm_meta_set_num(s->model, "samples_native", (double)st.native);
        pm_meta_set_num(s->model, "samples_native_failed", (double)st.native_failed);
        pm_meta_set_num(s->model, "samples_native_mismatch", (double)st.native_mismatch);
        pm_meta_set_num(s->model, "samples_native_syscall", (double)st.native_syscall);
    }
    pthread_mutex_unlock(s->model_lock);
}

void pm_sampler_get_stats(pm_sampler *s, pm_sampler_stats *out)
{
    pthread_mutex_lock(&s->stats_lock);
    *out = s->st;
    pthread_mutex_unlock(&s->stats_lock);
    uint64_t end = atomic_load(&s->running) ? now_ns() : s->last_ns;
    if (s->start_ns && end > s->start_ns) {
        out->duration_ns = end - s->start_ns;
        out->expected = (uint64_t)((double)out->duration_ns * s->o.rate_hz / 1e9);
    }
    if (atomic_load(&s->running)) {
        clockid_t cid;
        struct timespec c;
        if (s->thread_alive && pthread_getcpuclockid(s->thread, &cid) == 0 && clock_gettime(cid, &c) == 0)
            out->cpu_ns += (uint64_t)c.tv_sec * 1000000000ull + (uint64_t)c.tv_nsec;
    }
    out->reads = s->space.calls;
    out->capture_wait_ns = s->capture.wait_ns; /* read racily: figures for a report */
    out->capture_slept = s->capture.slept;
    out->capture_late = s->capture.late;
}

int pm_sampler_probe(pm_sampler *s, uint64_t tstate, pm_id *frames, int32_t *lines, size_t cap,
                     size_t *depth)
{
    if (pm_sampler_running(s))
        return -1;
    long n = pm_walker_threads(&s->walker);
    for (long i = 0; i < n; i++) {
        const pm_tinfo *t = &s->walker.threads[i];
        if (t->tstate != tstate)
            continue;
        pm_slot sl;
        memset(&sl, 0, sizeof sl);
        sl.thread = sl.leaf = sl.tl_leaf = PM_NONE;
        pthread_mutex_lock(s->model_lock);
        /* The thread read is the caller, stopped in this function: a slow
         * copy (a loaded machine) says nothing about its consistency. */
        s->walker.patient = 1;
        /* Read from outside, the way a thread not holding the GIL is. */
        pm_id leaf = walk_thread(s, &sl, t, 1, 0);
        s->walker.patient = 0;
        pm_id root = sl.thread == PM_NONE ? PM_NONE : pm_thread_at(s->model, sl.thread)->root;
        size_t k = 0;
        /* Read the stack back from the model: the path the sampler would
         * have charged, so the check covers resolving and insertion too. */
        for (pm_id nd = leaf; leaf != PM_NONE && nd != root && k < cap; nd = pm_node_get(s->model, nd)->parent) {
            frames[k] = pm_node_get(s->model, nd)->frame;
            lines[k] = pm_node_get(s->model, nd)->line;
            k++;
        }
        pthread_mutex_unlock(s->model_lock);
        slot_clear(&sl);
        if (leaf == PM_NONE)
            return -1;
        for (size_t j = 0; j < k / 2; j++) {
            pm_id f = frames[j];
            frames[j] = frames[k - 1 - j];
            frames[k - 1 - j] = f;
            int32_t l = lines[j];
            lines[j] = lines[k - 1 - j];
            lines[k - 1 - j] = l;
        }
        *depth = k;
        return 0;
    }
    return -1;
}
