/* pm_alloc.c — the allocation collector's core (see pm_alloc.h). */
#include "pm_alloc.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pm_guard.h"
#include "pm_walker.h"

_Thread_local pm_alloc_tls pm_alloc_me __attribute__((tls_model("initial-exec")));

#define PM_ALLOC_POINTS_MAX 4096
#define PM_ALLOC_POINT_FIRST_NS 5000000ull /* 5 ms; doubles each time the timeline fills */
#define PM_ALLOC_RSS_EVERY_NS 1000000ull   /* /proc/self/statm at most once a millisecond */
/* Allocations over time: 1 ms buckets, doubling past 4096 of them (a run
 * of 4 s keeps 1 ms, an hour about 1 s) or past 32,768 distinct (leaf,
 * bucket, bucket) entries.  The table then has 65,536 slots of 24 bytes (it
 * grows when three quarters full): 1.5 MiB, twice that for a moment while
 * it is rebuilt, out of the 5 MB of peak RSS a profiled program may gain.
 * (65,536 entries of 32 bytes took 4 MiB.)  Real programs from PyPI make
 * 3,000-11,000 entries in their first 3 s at the default rate. */
#define PM_ALLOC_TIME_UNIT_NS 1000000ull
#define PM_ALLOC_TIME_BUCKETS 4096u
#define PM_ALLOC_TIME_ENTRIES 32768u

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The coarse clock: a read of the vDSO's last tick, no TSC (a few ns). */
static uint64_t coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rd64(uint64_t addr)
{
    uint64_t v;
    memcpy(&v, (const void *)(uintptr_t)addr, 8);
    return v;
}

static inline int32_t rd32(uint64_t addr)
{
    int32_t v;
    memcpy(&v, (const void *)(uintptr_t)addr, 4);
    return v;
}

int64_t pm_alloc_rss(void)
{
    /* open/read/close, not stdio: no allocation, so it is safe inside a hook. */
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *sp = strchr(buf, ' ');
    if (!sp)
        return -1;
    long long pages = strtoll(sp + 1, NULL, 10);
    long psz = sysconf(_SC_PAGESIZE);
    return pages >= 0 && psz > 0 ? (int64_t)pages * psz : -1;
}

/* ---- random gaps ---------------------------------------------------------- */

static uint64_t rng_next(pm_alloc_tls *me)
{
    if (!me->rng)
        me->rng = (uint64_t)(uintptr_t)me ^ now_ns() ^ 0x9e3779b97f4a7c15ull;
    uint64_t x = me->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    me->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform on (0, 1]. */
static double unit(pm_alloc_tls *me)
{
    return ((double)(rng_next(me) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static int64_t clamp_gap(double g)
{
    if (g < 1)
        return 1;
    if (g > 4e18)
        return (int64_t)4e18;
    return (int64_t)g;
}

/* Gaps between points are uniform on [(1 - J) rate, (1 + J) rate] (why:
 * pm_alloc.h, "Sampling"). */
#define PM_ALLOC_JITTER 0.25

static int64_t draw(const pm_alloc *a, pm_alloc_tls *me)
{
    return clamp_gap((1.0 - PM_ALLOC_JITTER + 2.0 * PM_ALLOC_JITTER * unit(me)) * a->rate);
}

/* A thread's first gap: from an arbitrary byte to the next point, which
 * lies in a gap chosen in proportion to its length (density ∝ g on
 * [lo, hi], inverted: g = √(lo² + v (hi² - lo²))), at a uniform place in
 * it. */
static int64_t draw_first(const pm_alloc *a, pm_alloc_tls *me)
{
    double lo = 1.0 - PM_ALLOC_JITTER;
    double g = a->rate * sqrt(lo * lo + 4.0 * PM_ALLOC_JITTER * unit(me));
    return clamp_gap(unit(me) * g);
}

/* The probability that a block of s bytes holds a point: the stationary
 * residual's distribution function, ∫₀ˢ P(gap > x) dx / rate. */
static double meet_probability(double s, double rate)
{
    double x = s / rate, lo = 1.0 - PM_ALLOC_JITTER, hi = 1.0 + PM_ALLOC_JITTER;
    if (x <= lo)
        return x;
    if (x >= hi)
        return 1.0;
    return lo + (hi * (x - lo) - (x * x - lo * lo) / 2) / (2.0 * PM_ALLOC_JITTER);
}

/* ---- lifetime ------------------------------------------------------------- */

pm_alloc *pm_alloc_new(const pm_layout *L, pm_profile *p, double rate, char *err, size_t errlen)
{
    pm_alloc *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->p = p;
    a->L = *L;
    a->rate = rate;
    a->exact = rate <= 1.0;
    a->big = a->exact ? 1 : (size_t)rate;
    pthread_mutex_init(&a->lock, NULL);
    pm_blocks_init(&a->blocks);
    if (a->exact)
        pm_blocks_every(&a->blocks);
    pm_alloctime_init(&a->times, PM_ALLOC_TIME_UNIT_NS, PM_ALLOC_TIME_BUCKETS, PM_ALLOC_TIME_ENTRIES);
    pm_space_init(&a->space, getpid());
    a->raw_code = malloc(PM_MAX_DEPTH * sizeof *a->raw_code);
    a->raw_lasti = malloc(PM_MAX_DEPTH * sizeof *a->raw_lasti);
    a->raw_owner = malloc(PM_MAX_DEPTH * sizeof *a->raw_owner);
    a->memo_code = malloc(PM_MAX_DEPTH * sizeof *a->memo_code);
    a->memo_lasti = malloc(PM_MAX_DEPTH * sizeof *a->memo_lasti);
    a->memo_pinned = malloc(PM_MAX_DEPTH * sizeof *a->memo_pinned);
    a->memo_at = malloc((PM_MAX_DEPTH + 1) * sizeof *a->memo_at);
    a->memo_thread = PM_NONE;
    a->memo_base = PM_NONE;
    a->entry_thread = a->entry_node = PM_NONE;
    if (!a->raw_code || !a->raw_lasti || !a->raw_owner || !a->memo_code || !a->memo_lasti || !a->memo_pinned ||
        !a->memo_at ||
        pm_codecache_init(&a->codes, &a->L, &a->space) != 0) {
        snprintf(err, errlen, "out of memory");
        pm_alloc_free(a);
        return NULL;
    }
    a->codes.L = &a->L; /* the copy in a, which outlives the caller's */
    a->snap_gen = 1;
    a->peak_rss = -1;
    a->rss_max = -1;
    a->rss_last = -1;
    a->truncated_frame = PM_NONE;
    return a;
}

void pm_alloc_free(pm_alloc *a)
{
    if (!a)
        return;
    if (a->guarded)
        pm_guard_uninstall();
    if (a->codes.slots)
        pm_codecache_free(&a->codes);
    pm_blocks_free(&a->blocks);
    pm_alloctime_free(&a->times);
    free(a->alloc_b);
    free(a->alloc_c);
    free(a->live_b);
    free(a->live_c);
    free(a->peak_b);
    free(a->peak_c);
    free(a->stamp);
    free(a->native_node);
    if (a->nat) {
        pm_natframes_free(a->nat);
        free(a->nat);
    }
    free(a->dirty);
    free(a->points);
    free(a->raw_code);
    free(a->raw_lasti);
    free(a->raw_owner);
    free(a->memo_code);
    free(a->memo_lasti);
    free(a->memo_pinned);
    free(a->memo_at);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void pm_alloc_start(pm_alloc *a)
{
    static uint64_t generation;
    a->gen = __atomic_add_fetch(&generation, 1, __ATOMIC_RELAXED);
    if (!a->guarded)
        a->guarded = pm_guard_install() == 0;
    /* Code objects are read with plain copies under the fault guard; without
     * it, through process_vm_readv (slower, never a crash). */
    a->space.direct = a->guarded && pm_guard_active();
    a->t0_ns = now_ns();
    struct timespec wall;
    if (clock_gettime(CLOCK_REALTIME, &wall) == 0)
        a->t0_wall_ns = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
    a->point_every_ns = PM_ALLOC_POINT_FIRST_NS;
    a->last_point_ns = 0;
}

/* ---- per-node columns ----------------------------------------------------- */

static int grow_nodes(pm_alloc *a, uint32_t need)
{
    if (need <= a->ncap)
        return 0;
    uint32_t cap = a->ncap ? a->ncap : 1024;
    while (cap < need)
        cap *= 2;
    int64_t **cols[] = {&a->alloc_b, &a->alloc_c, &a->live_b, &a->live_c, &a->peak_b, &a->peak_c};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        int64_t *n = realloc(*cols[i], (size_t)cap * sizeof **cols[i]);
        if (!n)
            return -1;
        memset(n + a->ncap, 0, (size_t)(cap - a->ncap) * sizeof *n);
        *cols[i] = n;
    }
    uint64_t *st = realloc(a->stamp, (size_t)cap * sizeof *st);
    if (!st)
        return -1;
    memset(st + a->ncap, 0, (size_t)(cap - a->ncap) * sizeof *st);
    a->stamp = st;
    uint8_t *nn = realloc(a->native_node, cap);
    if (!nn)
        return -1;
    memset(nn + a->ncap, 0, cap - a->ncap);
    a->native_node = nn;
    a->ncap = cap;
    return 0;
}

static void mark_dirty(pm_alloc *a, uint32_t node)
{
    if (a->stamp[node] == a->snap_gen)
        return;
    if (a->ndirty == a->dirty_cap) {
        uint32_t cap = a->dirty_cap ? a->dirty_cap * 2 : 256;
        uint32_t *d = realloc(a->dirty, (size_t)cap * sizeof *d);
        if (!d) { /* cannot track it: copy everything at the next snapshot */
            a->ndirty = UINT32_MAX;
            return;
        }
        a->dirty = d;
        a->dirty_cap = cap;
    }
    if (a->ndirty == UINT32_MAX)
        return;
    a->stamp[node] = a->snap_gen;
    a->dirty[a->ndirty++] = node;
}

/* RSS, read at most once a millisecond (lock held). */
static int64_t rss_now(pm_alloc *a, uint64_t t)
{
    if (a->rss_last < 0 || t - a->rss_last_t >= PM_ALLOC_RSS_EVERY_NS) {
        a->rss_last = pm_alloc_rss();
        a->rss_last_t = t;
    }
    if (a->rss_last > a->rss_max)
        a->rss_max = a->rss_last;
    return a->rss_last;
}

/* The live view at the high just reached becomes the peak view. */
static void snapshot(pm_alloc *a)
{
    if (a->ndirty == UINT32_MAX) {
        memcpy(a->peak_b, a->live_b, (size_t)a->ncap * sizeof *a->peak_b);
        memcpy(a->peak_c, a->live_c, (size_t)a->ncap * sizeof *a->peak_c);
    } else {
        for (uint32_t i = 0; i < a->ndirty; i++) {
            uint32_t n = a->dirty[i];
            a->peak_b[n] = a->live_b[n];
            a->peak_c[n] = a->live_c[n];
        }
    }
    a->ndirty = 0;
    a->snap_gen++;
    a->snap_total = a->live_total;
    a->peak_pending = 0;
    a->peak_rss = rss_now(a, a->last_t); /* the time of the latest sample: no clock read */
}

/* The time of an event (lock held).  In exact mode every allocation and
 * every free is an event: the clock is read once per 64 of them, or sooner
 * when the coarse clock has ticked since, so that the first events after an
 * idle spell (a sleep, a wait) are not stamped with the time before it. */
static uint64_t event_time(pm_alloc *a)
{
    if (!a->exact)
        return a->last_t = now_ns();
    uint64_t c = coarse_ns();
    if ((a->clock_skip++ & 63) == 0 || c != a->coarse_last) {
        a->coarse_last = c;
        a->last_t = now_ns();
    }
    return a->last_t;
}

static uint64_t since_start(const pm_alloc *a, uint64_t t)
{
    return t > a->t0_ns ? t - a->t0_ns : 0;
}

static void add_point(pm_alloc *a, uint64_t t)
{
    if (a->last_point_ns && t - a->last_point_ns < a->point_every_ns)
        return;
    if (a->npoints == PM_ALLOC_POINTS_MAX) {
        /* Full: keep every other point and halve the resolution. */
        for (size_t i = 0; i < a->npoints / 2; i++)
            a->points[i] = a->points[2 * i + 1];
        a->npoints /= 2;
        a->point_every_ns *= 2;
    }
    if (a->npoints == a->points_cap) {
        size_t cap = a->points_cap ? a->points_cap * 2 : 256;
        pm_alloc_point *np = realloc(a->points, cap * sizeof *np);
        if (!np)
            return;
        a->points = np;
        a->points_cap = cap;
    }
    a->last_point_ns = t;
    a->points[a->npoints++] = (pm_alloc_point){t - a->t0_ns, a->live_total, rss_now(a, t)};
}

/* ---- the stack of the allocating thread ----------------------------------- */

static int is_entry_code(const pm_alloc *a, uint64_t code)
{
    for (size_t i = 0; i < a->n_entry_codes; i++)
        if (a->entry_codes[i] == code)
            return 1;
    return 0;
}

void pm_alloc_set_entry_codes(pm_alloc *a, const uint64_t *codes, size_t n)
{
    a->n_entry_codes = n < 4 ? n : 4;
    memcpy(a->entry_codes, codes, a->n_entry_codes * sizeof *codes);
}

/* The thread's frames, leaf first, as (code, instruction index, owner);
 * returns the depth; *trunc when deeper than PM_MAX_DEPTH (the leaf-most
 * frames are kept).  Only this thread changes its frames, and it is in the
 * middle of an allocation, so they hold still while they are read. */
static size_t walk(pm_alloc *a, uint64_t tstate, pm_id thread, int *trunc)
{
    /* The layout's fields and the scratch arrays in locals: stores to the
     * arrays could otherwise alias them, and every frame would reload them
     * (this loop runs for every frame of every allocation in exact mode). */
    const pm_layout *L = &a->L;
    const size_t fr_owner = L->fr_owner, fr_back = L->fr_back, fr_code = L->fr_code, fr_lasti = L->fr_lasti;
    const uint64_t code_mask = L->fr_code_mask, co_code_adaptive = L->co_code_adaptive;
    const int lasti_kind = L->lasti_kind, owner_shim = L->owner_shim, owner_max = L->owner_max;
    uint64_t *restrict raw_code = a->raw_code;
    int64_t *restrict raw_lasti = a->raw_lasti;
    int *restrict raw_owner = a->raw_owner;
    uint64_t f;
    *trunc = 0;
    a->walk_entry = SIZE_MAX;
    a->walk_stopped = 0;
    if (!tstate)
        return 0;
    /* The entry frame, on its own thread; before it is known, each frame's
     * code is compared with the entry codes instead. */
    const uint64_t stop_f = tstate == a->entry_tstate && thread == a->entry_thread ? a->entry_frame : 0;
    const int learning = a->n_entry_codes && !a->entry_frame;
    if (L->frames_kind == PM_FRAMES_INTERP && L->cframe_current_frame != PM_NO_OFFSET) {
        uint64_t cf = rd64(tstate + L->ts_frame);
        f = cf ? rd64(cf + L->cframe_current_frame) : 0;
    } else {
        f = rd64(tstate + L->ts_frame);
    }
    if (L->ts_base_frame != PM_NO_OFFSET && f == rd64(tstate + L->ts_base_frame))
        f = 0;
    size_t n = 0;
    while (f) {
        int owner = fr_owner != PM_NO_OFFSET ? (int)*(const signed char *)(uintptr_t)(f + fr_owner) : -1;
        uint64_t back = rd64(f + fr_back);
        if (!(owner_shim >= 0 && owner >= owner_shim && owner <= owner_max)) {
            if (n == PM_MAX_DEPTH) {
                *trunc = 1;
                break;
            }
            uint64_t code = rd64(f + fr_code) & code_mask;
            int64_t lasti;
            switch (lasti_kind) {
            case PM_LASTI_BYTES: {
                int32_t v = rd32(f + fr_lasti);
                lasti = v < 0 ? -1 : v / 2;
                break;
            }
            case PM_LASTI_UNITS: {
                int32_t v = rd32(f + fr_lasti);
                lasti = v < 0 ? -1 : v;
                break;
            }
            default: {
                uint64_t ip = rd64(f + fr_lasti), base = code + co_code_adaptive;
                lasti = ip >= base ? (int64_t)((ip - base) / 2) : -1;
                break;
            }
            }
            if (f == stop_f) {
                if (code == a->entry_code && lasti == a->entry_lasti && a->entry_node != PM_NONE) {
                    a->walk_stopped = 1;
                    break;
                }
                if (is_entry_code(a, code)) {
                    a->walk_entry = n; /* at another instruction: learnt again below */
                } else {
                    a->entry_frame = 0; /* it returned, and another frame took its place */
                    a->entry_node = PM_NONE;
                }
            } else if (learning && is_entry_code(a, code)) {
                a->entry_frame = f;
                a->entry_tstate = tstate;
                a->entry_thread = thread;
                a->walk_entry = n;
            }
            raw_code[n] = code;
            raw_lasti[n] = lasti;
            raw_owner[n] = owner;
            n++;
        }
        f = back;
    }
    return n;
}

static size_t leaf_index(pm_id parent, uint64_t code, int64_t lasti)
{
    uint64_t x = (code ^ ((uint64_t)parent << 32) ^ (uint64_t)lasti * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    return (size_t)(x >> 56) & (PM_ALLOC_LEAVES - 1);
}

/* The trie node of the stack just walked (outermost frame first), under the
 * thread's root.  PM_NONE when the model is out of memory. */
static pm_id resolve(pm_alloc *a, pm_id thread, size_t n, int trunc)
{
    const pm_layout *L = &a->L;
    pm_profile *p = a->p;
    size_t j = 0;
    const pm_id base = a->walk_stopped ? a->entry_node : PM_NONE;
    int same = a->memo_thread == thread && a->memo_trunc == trunc && a->memo_base == base;
    if (same) {
        /* Locals: the loop runs over every frame of every allocation. */
        const size_t m = n < a->memo_n ? n : a->memo_n;
        const uint8_t *pinned = a->memo_pinned;
        const uint64_t *mcode = a->memo_code, *rcode = a->raw_code + n - 1;
        const int64_t *mlasti = a->memo_lasti, *rlasti = a->raw_lasti + n - 1;
        while (j < m && pinned[j] && mcode[j] == rcode[-(ptrdiff_t)j] && mlasti[j] == rlasti[-(ptrdiff_t)j])
            j++;
    }
    if (trunc)
        a->truncated++;
    pm_id node;
    if (same) {
        node = a->memo_at[j];
    } else if (base != PM_NONE) {
        node = base;
        a->memo_thread = thread;
        a->memo_trunc = trunc;
        a->memo_base = base;
        a->memo_at[0] = node;
    } else {
        const pm_thread *th = pm_thread_at(p, thread);
        node = th ? th->root : PM_NONE;
        if (trunc && node != PM_NONE) {
            if (a->truncated_frame == PM_NONE)
                a->truncated_frame = pm_frame_truncated(p);
            node = pm_node_child(p, node, a->truncated_frame, 0);
        }
        if (node == PM_NONE)
            return PM_NONE;
        a->memo_thread = thread;
        a->memo_trunc = trunc;
        a->memo_base = PM_NONE;
        a->memo_at[0] = node;
    }
    if (a->leaves_symbolized != a->codes.symbolized) { /* a code object was (re)symbolised: forget them all */
        memset(a->leaves, 0, sizeof a->leaves);
        a->leaves_symbolized = a->codes.symbolized;
    }
    for (size_t k = j; k < n; k++) {
        size_t i = n - 1 - k; /* raw frames are leaf first */
        a->memo_code[k] = a->raw_code[i];
        a->memo_lasti[k] = a->raw_lasti[i];
        a->memo_pinned[k] = 0;
        struct pm_alloc_leaf *c = &a->leaves[leaf_index(node, a->raw_code[i], a->raw_lasti[i])];
        if (c->code == a->raw_code[i] && c->lasti == a->raw_lasti[i] && c->parent == node &&
            c->owner == a->raw_owner[i] && c->entry < a->codes.n) {
            pm_code *e = &a->codes.entries[c->entry];
            if (e->addr == c->code && atomic_load(&e->trusted) && !atomic_load(&e->stale)) {
                a->memo_pinned[k] = 1;
                node = c->node;
                a->memo_at[k + 1] = node;
                continue;
            }
        }
        pm_id parent = node;
        int not_code = 0;
        pm_code *e = pm_codecache_get(&a->codes, p, a->raw_code[i], a->tick, &not_code);
        if (a->leaves_symbolized != a->codes.symbolized) {
            memset(a->leaves, 0, sizeof a->leaves);
            a->leaves_symbolized = a->codes.symbolized;
        }
        if (!e) {
            a->frames_skipped++;
        } else {
            a->memo_pinned[k] = (uint8_t)atomic_load(&e->trusted);
            int64_t lasti = a->raw_lasti[i];
            /* 3.11+: a frame before its first traceable instruction is still
             * being set up (its arguments copied in): not running yet. */
            if (!(L->frames_kind == PM_FRAMES_INTERP && a->raw_owner[i] != L->owner_generator && lasti >= 0 &&
                  lasti < e->firsttraceable)) {
                int32_t line = lasti >= 0 && lasti < (int64_t)e->n_units ? e->lines[lasti] : e->firstlineno;
                node = pm_node_child(p, node, e->frame, line < 0 ? 0 : line);
                if (node == PM_NONE) {
                    a->memo_thread = PM_NONE;
                    return PM_NONE;
                }
            }
            if (a->memo_pinned[k] && !atomic_load(&e->stale))
                *c = (struct pm_alloc_leaf){a->raw_code[i], a->raw_lasti[i], parent, node,
                                            (uint32_t)(e - a->codes.entries), a->raw_owner[i]};
        }
        a->memo_at[k + 1] = node;
    }
    a->memo_n = n;
    return node;
}

/* ---- events --------------------------------------------------------------- */

static void charge(pm_alloc *a, pm_id node, int64_t wb, int64_t wc, int sign)
{
    if (sign > 0) {
        a->alloc_b[node] += wb;
        a->alloc_c[node] += wc;
        a->alloc_total += wb;
        a->alloc_count += wc;
    }
    a->live_b[node] += sign * wb;
    a->live_c[node] += sign * wc;
    a->live_total += sign * wb;
    a->live_count += sign * wc;
    if (a->native_node[node]) {
        a->native_live += sign * wb;
        if (sign > 0)
            a->native_alloc += wb;
    }
    mark_dirty(a, node);
}

/* Below node: the native frames of ips (innermost first) and the
 * allocator's frame, named as the program called it (libc's symbol table
 * would name malloc after one of its aliases).  PM_NONE when out of
 * memory. */
static pm_id native_path(pm_alloc *a, pm_id node, const uint64_t *ips, size_t n, const char *allocator)
{
    if (!a->nat) {
        a->nat = calloc(1, sizeof *a->nat);
        if (!a->nat || pm_natframes_init(a->nat) != 0) {
            free(a->nat);
            a->nat = NULL;
            return PM_NONE;
        }
    }
    pm_id frame;
    int cls;
    for (size_t k = n; k-- > 0 && node != PM_NONE;) {
        /* A return address is the instruction after the call: the call's
         * own byte names the function that made it. */
        if (pm_natframes_get(a->nat, a->p, ips[k] - 1, &frame, &cls) != 0)
            return PM_NONE;
        node = pm_node_child(a->p, node, frame, 0);
    }
    if (node == PM_NONE)
        return PM_NONE;
    pm_id name = pm_str_intern_cstr(a->p, allocator), file = pm_str_intern_cstr(a->p, "");
    frame = name == PM_NONE || file == PM_NONE ? PM_NONE : pm_frame_intern(a->p, name, file, 0, PM_FRAME_NATIVE);
    return frame == PM_NONE ? PM_NONE : pm_node_child(a->p, node, frame, 0);
}

static void record(pm_alloc *a, uintptr_t ptr, size_t size, double prob, uint64_t tstate, uint64_t ident,
                   const uint64_t *ips, size_t nips, const char *allocator)
{
    pm_alloc_tls *me = &pm_alloc_me;
    if (!me->tid)
        me->tid = (uint64_t)gettid();
    pthread_mutex_lock(&a->lock);
    if (a->finished) { /* a thread that found the session just before it stopped */
        pthread_mutex_unlock(&a->lock);
        return;
    }
    uint64_t t = event_time(a);
    a->tick++;
    /* The table slot this block goes to is fetched while the stack is read:
     * in exact mode the table outgrows the caches. */
    pm_blocks_prefetch(&a->blocks, ptr);
    pm_id thread = a->memo_thread;
    if (ident != a->memo_ident || me->tid != a->memo_tid || thread == PM_NONE) {
        thread = pm_thread_get(a->p, ident, me->tid);
        a->memo_ident = ident;
        a->memo_tid = me->tid;
        a->memo_thread = PM_NONE; /* another thread: its stack is not the memo's */
    }
    pm_id node = PM_NONE;
    if (thread != PM_NONE) {
        int trunc = 0;
        size_t n = walk(a, tstate, thread, &trunc);
        node = resolve(a, thread, n, trunc);
        if (a->walk_entry != SIZE_MAX && node != PM_NONE && !trunc) {
            /* Met the entry frame and read on: what it leads to, from now. */
            a->entry_code = a->raw_code[a->walk_entry];
            a->entry_lasti = a->raw_lasti[a->walk_entry];
            a->entry_node = a->memo_at[n - a->walk_entry];
        }
        if (allocator && node != PM_NONE)
            node = native_path(a, node, ips, nips, allocator);
    }
    if (node == PM_NONE || node >= PM_BLOCK_NEW || grow_nodes(a, node + 1) != 0) {
        a->samples_lost++;
        pthread_mutex_unlock(&a->lock);
        return;
    }
    /* A block recorded whole weighs its size and one allocation: no
     * floating point (exact mode takes this path for every block). */
    pm_block b = {ptr, (int64_t)size, node | PM_BLOCK_NEW, PM_COUNT_ONE, since_start(a, t)};
    if (prob < 1.0) {
        double wc = PM_COUNT_ONE / prob;
        b.wbytes = (int64_t)llround((double)size / prob);
        b.wcount = (uint32_t)llround(wc > UINT32_MAX ? UINT32_MAX : wc);
    }
    a->seq++;
    pm_block stale;
    int rc = pm_blocks_insert(&a->blocks, &b, &stale);
    if (rc < 0) {
        a->samples_lost++;
        pthread_mutex_unlock(&a->lock);
        return;
    }
    if (rc == 1) /* its previous block was freed where no hook saw it */
        pm_alloc_release(a, &stale);
    if (allocator)
        a->native_node[node] = 1;
    charge(a, node, b.wbytes, (int64_t)b.wcount, +1);
    pm_alloctime_alloc(&a->times, node, b.t_ns, b.wbytes, (int64_t)b.wcount);
    if (a->live_total > a->peak_total) {
        a->peak_total = a->live_total;
        a->native_peak = a->native_live;
        a->peak_t_ns = b.t_ns;
        a->peak_pending = 1;
    }
    add_point(a, t);
    pthread_mutex_unlock(&a->lock);
}

double pm_alloc_due(pm_alloc *a, uintptr_t ptr, size_t size)
{
    pm_alloc_tls *me = &pm_alloc_me;
    if (size >= a->big) /* recorded whole, and the countdown left alone */
        return ptr ? 1.0 : 0.0;
    if (a->exact) {
        me->gen = a->gen;
        me->left = 0;
        return ptr && size ? 1.0 : 0.0;
    }
    if (me->gen != a->gen) {
        /* First allocation of this thread in this session: its countdown
         * starts now, and this block is the first to meet it. */
        me->gen = a->gen;
        me->left = draw_first(a, me) - (int64_t)size;
        if (me->left > 0)
            return 0.0;
    }
    /* One point fell inside the block, or two (blocks under rate, gaps of
     * 0.75 rate at least); the next lies a gap past the last. */
    while (me->left <= 0)
        me->left += draw(a, me);
    if (!ptr || size == 0)
        return 0.0;
    return meet_probability((double)size, a->rate);
}

void pm_alloc_slow(pm_alloc *a, uintptr_t ptr, size_t size, uint64_t tstate, uint64_t ident)
{
    double prob = pm_alloc_due(a, ptr, size);
    if (prob > 0)
        record(a, ptr, size, prob, tstate, ident, NULL, 0, NULL);
}

void pm_alloc_native(pm_alloc *a, uintptr_t ptr, size_t size, double prob, uint64_t tstate, uint64_t ident,
                     const uint64_t *ips, size_t nips, const char *allocator)
{
    record(a, ptr, size, prob, tstate, ident, ips, nips, allocator);
}

void pm_alloc_release(pm_alloc *a, const pm_block *b)
{
    /* Lock held.  About to fall from a high never copied: copy it now. */
    if (a->peak_pending)
        snapshot(a);
    if (PM_BLOCK_NODE(b) < a->ncap) {
        charge(a, PM_BLOCK_NODE(b), b->wbytes, (int64_t)b->wcount, -1);
        if (!a->finished)
            pm_alloctime_freed(&a->times, PM_BLOCK_NODE(b), b->t_ns, since_start(a, event_time(a)), b->wbytes,
                               (int64_t)b->wcount);
    }
}

void pm_alloc_freed(pm_alloc *a, uintptr_t ptr)
{
    pm_block b;
    pm_blocks_prefetch_free(&a->blocks, ptr); /* the probe's first slot, while the lock is taken */
    pthread_mutex_lock(&a->lock);
    if (!a->finished && pm_blocks_remove(&a->blocks, ptr, &b))
        pm_alloc_release(a, &b);
    pthread_mutex_unlock(&a->lock);
}

int pm_alloc_take(pm_alloc *a, uintptr_t ptr, pm_block *out)
{
    pthread_mutex_lock(&a->lock);
    int found = pm_blocks_remove(&a->blocks, ptr, out);
    pthread_mutex_unlock(&a->lock);
    return found;
}

void pm_alloc_restore(pm_alloc *a, const pm_block *b)
{
    pthread_mutex_lock(&a->lock);
    pm_block stale;
    if (pm_blocks_insert(&a->blocks, b, &stale) == 1)
        pm_alloc_release(a, &stale);
    pthread_mutex_unlock(&a->lock);
}

void pm_alloc_lookup(pm_alloc *a, const uintptr_t *ptrs, size_t n, uint32_t *nodes)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < n; i++) {
        pm_block b;
        nodes[i] = pm_blocks_find(&a->blocks, ptrs[i], &b) ? PM_BLOCK_NODE(&b) : PM_NONE;
    }
    pthread_mutex_unlock(&a->lock);
}

void pm_alloc_checkpoint(pm_alloc *a)
{
    pthread_mutex_lock(&a->lock);
    pm_blocks_age(&a->blocks);
    pthread_mutex_unlock(&a->lock);
}

size_t pm_alloc_take_pins(pm_alloc *a, uint64_t *addrs, size_t max)
{
    return pm_codecache_take_pins(&a->codes, addrs, max);
}

void pm_alloc_pinned(pm_alloc *a, uint64_t addr, int ok)
{
    pm_codecache_pinned(&a->codes, addr, ok);
}

/* ---- into the model --------------------------------------------------------- */

static int64_t counts(int64_t fixed)
{
    return (fixed + PM_COUNT_ONE / 2) / PM_COUNT_ONE;
}

/* The samples over time into the model's allocation records. */
static int put_allocs(pm_alloc *a)
{
    pm_profile *p = a->p;
    pm_alloctime_finish(&a->times);
    if (pm_allocs_enable(p, pm_alloctime_bucket_ns(&a->times)) != 0)
        return -1;
    uint32_t nodes = pm_node_count(p);
    for (size_t i = 0; i < a->times.cap; i++) {
        const pm_alloctime_entry *e = &a->times.slots[i];
        if (e->node >= nodes || e->node == PM_ROOT)
            continue; /* empty slots too */
        pm_alloc_rec r = {e->node, e->at, e->freed == PM_ALLOCTIME_LIVE ? PM_NONE : e->freed, e->bytes,
                          counts(e->count)};
        if (pm_allocs_add(p, &r) != 0)
            return -1;
    }
    pm_allocs_normalize(p);
    if (a->times.oom) /* some events could not be stored: the records fall short */
        pm_meta_set_num(p, "memory_allocs_incomplete", 1);
    return 0;
}

int pm_alloc_finish(pm_alloc *a)
{
    pm_profile *p = a->p;
    pthread_mutex_lock(&a->lock);
    a->finished = 1;
    if (a->peak_pending)
        snapshot(a);
    uint64_t t = now_ns();
    a->last_point_ns = 0;
    add_point(a, t);

    /* Go's heap profile names (pprof knows them: -sample_index=inuse_space),
     * in Go's order, then the peak and leak views. */
    int m_ac = pm_metric_add(p, "alloc_objects", "count"), m_ab = pm_metric_add(p, "alloc_space", "bytes");
    int m_lc = pm_metric_add(p, "inuse_objects", "count"), m_lb = pm_metric_add(p, "inuse_space", "bytes");
    int m_pb = pm_metric_add(p, "peak_space", "bytes"), m_pc = pm_metric_add(p, "peak_objects", "count");
    int m_kb = pm_metric_add(p, "leak_space", "bytes"), m_kc = pm_metric_add(p, "leak_objects", "count");
    int rc = (m_ab < 0 || m_ac < 0 || m_lb < 0 || m_lc < 0 || m_pb < 0 || m_pc < 0 || m_kb < 0 || m_kc < 0) ? -1 : 0;
    if (rc == 0) {
        uint32_t n = a->ncap < pm_node_count(p) ? a->ncap : pm_node_count(p);
        for (uint32_t i = 0; i < n; i++) {
            pm_node_add(p, i, m_ab, a->alloc_b[i]);
            pm_node_add(p, i, m_ac, counts(a->alloc_c[i]));
            pm_node_add(p, i, m_lb, a->live_b[i]);
            pm_node_add(p, i, m_lc, counts(a->live_c[i]));
            pm_node_add(p, i, m_pb, a->peak_b[i]);
            pm_node_add(p, i, m_pc, counts(a->peak_c[i]));
        }
        /* Leaks: what was sampled after the baseline and is still live. */
        int64_t leak_total = 0;
        for (size_t i = 0; i < a->blocks.cap; i++) {
            const pm_block *b = &a->blocks.slots[i];
            if (!b->ptr || !(b->node & PM_BLOCK_NEW))
                continue;
            pm_node_add(p, PM_BLOCK_NODE(b), m_kb, b->wbytes);
            pm_node_add(p, PM_BLOCK_NODE(b), m_kc, counts((int64_t)b->wcount));
            leak_total += b->wbytes;
        }
        if (put_allocs(a) != 0)
            rc = -1;
        pm_meta_set_str(p, "mode", "memory");
        pm_meta_set_num(p, "memory_rate", a->rate);
        pm_meta_set_num(p, "memory_samples", (double)a->seq);
        pm_meta_set_num(p, "memory_samples_lost", (double)a->samples_lost);
        pm_meta_set_num(p, "memory_frames_skipped", (double)a->frames_skipped);
        pm_meta_set_num(p, "memory_stacks_truncated", (double)a->truncated);
        if (a->truncated) /* deeper stacks keep their innermost frames, as the sampler's */
            pm_meta_set_num(p, "stack_depth_limit", (double)PM_MAX_DEPTH);
        pm_meta_set_num(p, "memory_allocated_bytes", (double)a->alloc_total);
        pm_meta_set_num(p, "memory_allocated_count", (double)counts(a->alloc_count));
        pm_meta_set_num(p, "memory_live_bytes", (double)a->live_total);
        pm_meta_set_num(p, "memory_leak_bytes", (double)leak_total);
        pm_meta_set_num(p, "memory_peak_bytes", (double)a->peak_total);
        if (a->native) {
            pm_meta_set_num(p, "memory_native", 1);
            pm_meta_set_num(p, "memory_native_peak_bytes", (double)a->native_peak);
            pm_meta_set_num(p, "memory_native_live_bytes", (double)a->native_live);
            pm_meta_set_num(p, "memory_native_allocated_bytes", (double)a->native_alloc);
        }
        pm_meta_set_num(p, "memory_peak_s", (double)a->peak_t_ns / 1e9);
        pm_meta_set_num(p, "memory_peak_rss", (double)a->peak_rss);
        pm_meta_set_num(p, "memory_rss_max", (double)a->rss_max);
        pm_meta_set_num(p, "duration_s", (double)(t - a->t0_ns) / 1e9);
        /* The zero of the heap timeline and of the allocation records on the
         * wall clock, as the sampler notes its timeline's. */
        if (a->t0_wall_ns)
            pm_meta_set_u64(p, PM_META_TIMELINE_EPOCH, a->t0_wall_ns);
        /* The timeline of (seconds, heap estimate, RSS) as text: meta is what
         * every format carries through losslessly. */
        size_t cap = a->npoints * 64 + 1;
        char *s = malloc(cap);
        if (s) {
            size_t len = 0;
            s[0] = 0;
            for (size_t i = 0; i < a->npoints && len + 64 < cap; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s%.6f %lld %lld", i ? ";" : "",
                                        (double)a->points[i].t_ns / 1e9, (long long)a->points[i].heap,
                                        (long long)a->points[i].rss);
            pm_meta_set_str(p, "memory_timeline", s);
            free(s);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}
