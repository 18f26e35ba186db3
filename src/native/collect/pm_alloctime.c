/* pm_alloctime.c — allocations over time, summed per (node, bucket, bucket)
 * (see pm_alloctime.h).  An open-addressing table with linear probing;
 * nothing is ever deleted while collecting, so no tombstones. */
#include "pm_alloctime.h"

#include <stdlib.h>
#include <string.h>

#define PM_ALLOCTIME_EMPTY UINT32_MAX
#define PM_ALLOCTIME_MIN_CAP 256u

_Static_assert(sizeof(pm_alloctime_entry) == 24, "the table's size is counted in 24-byte entries (pm_alloc.c)");

/* Memos and cached spans point at slots and at a bucket width: both change
 * when the table is rebuilt. */
static void forget(pm_alloctime *t)
{
    memset(t->memo_freed, 0xff, sizeof t->memo_freed);
    t->span_w[0] = t->span_w[1] = 0;
}

void pm_alloctime_init(pm_alloctime *t, uint64_t unit_ns, uint32_t max_buckets, size_t max_entries)
{
    memset(t, 0, sizeof *t);
    t->unit_ns = unit_ns ? unit_ns : 1;
    t->max_buckets = !max_buckets ? 1 : max_buckets > PM_ALLOCTIME_LIVE ? PM_ALLOCTIME_LIVE : max_buckets;
    t->max_entries = max_entries ? max_entries : 1;
    forget(t);
}

void pm_alloctime_free(pm_alloctime *t)
{
    free(t->slots);
    free(t->cur);
    free(t->cur_listed);
    free(t->cur_nodes);
    t->slots = NULL;
    t->cur = NULL;
    t->cur_listed = NULL;
    t->cur_nodes = NULL;
    t->cap = t->n = 0;
    t->cur_n = t->cur_cap = 0;
    t->cur_w = 0;
}

uint64_t pm_alloctime_bucket_ns(const pm_alloctime *t)
{
    return t->unit_ns << t->shift;
}

static size_t slot_of(uint32_t node, uint32_t at, uint32_t freed, size_t mask)
{
    uint64_t x = ((uint64_t)node << 32 | at) * 0x9e3779b97f4a7c15ULL;
    x ^= (uint64_t)freed * 0xc2b2ae3d27d4eb4fULL;
    x ^= x >> 29;
    return (size_t)(x * 0xbf58476d1ce4e5b9ULL >> 32) & mask;
}

/* Adds into slots (which has room): the entry of (node, at, freed), both
 * below max_buckets or freed PM_ALLOCTIME_LIVE, so 16 bits hold them. */
static pm_alloctime_entry *put(pm_alloctime_entry *slots, size_t mask, uint32_t node, uint32_t at, uint32_t freed,
                               size_t *n)
{
    size_t i = slot_of(node, at, freed, mask);
    while (slots[i].node != PM_ALLOCTIME_EMPTY) {
        if (slots[i].node == node && slots[i].at == at && slots[i].freed == freed)
            return &slots[i];
        i = (i + 1) & mask;
    }
    slots[i] = (pm_alloctime_entry){node, (uint16_t)at, (uint16_t)freed, 0, 0};
    (*n)++;
    return &slots[i];
}

/* Moves every entry into a table of cap slots; with coarser, each bucket
 * index is halved first, so entries of neighbouring buckets merge. */
static int rebuild(pm_alloctime *t, size_t cap, int coarser)
{
    pm_alloctime_entry *ns = malloc(cap * sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < cap; i++)
        ns[i].node = PM_ALLOCTIME_EMPTY;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const pm_alloctime_entry *e = &t->slots[i];
        if (e->node == PM_ALLOCTIME_EMPTY)
            continue;
        uint32_t at = coarser ? e->at >> 1 : e->at;
        uint32_t freed = coarser && e->freed != PM_ALLOCTIME_LIVE ? e->freed >> 1 : e->freed;
        pm_alloctime_entry *d = put(ns, cap - 1, e->node, at, freed, &n);
        d->bytes += e->bytes;
        d->count += e->count;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = cap;
    t->n = n;
    forget(t);
    if (coarser) {
        t->shift++;
        t->merges++;
    }
    return 0;
}

/* The bucket of t_ns, through span `which`: times come in order, so the
 * last bucket's span usually holds the next one too. */
static uint64_t bucket_of(pm_alloctime *t, int which, uint64_t t_ns)
{
    if (t_ns - t->span_lo[which] < t->span_w[which])
        return t->span_b[which];
    uint64_t b = t_ns / t->unit_ns;
    if (t->shift >= 64)
        return 0;
    b >>= t->shift;
    uint64_t w, lo;
    if (t->shift < 63 && b <= UINT32_MAX && !__builtin_mul_overflow(t->unit_ns, (uint64_t)1 << t->shift, &w) &&
        !__builtin_mul_overflow(b, w, &lo)) {
        t->span_lo[which] = lo;
        t->span_w[which] = w;
        t->span_b[which] = (uint32_t)b;
    }
    return b;
}

static size_t memo_index(uint32_t node, uint32_t at)
{
    return (size_t)(((uint64_t)node * 0x9e3779b97f4a7c15ULL + at) >> 40) & (PM_ALLOCTIME_MEMO - 1);
}

/* The memo'd slot when it holds (node, at, freed): NULL otherwise. */
static pm_alloctime_entry *memo_hit(const pm_alloctime *t, const uint32_t *memo, size_t k, uint32_t node, uint32_t at,
                                    uint32_t freed)
{
    size_t i = memo[k];
    if (i >= t->cap)
        return NULL;
    pm_alloctime_entry *e = &t->slots[i];
    return e->node == node && e->at == at && e->freed == freed ? e : NULL;
}

/* Whether doubling the buckets could merge anything. */
static int any_above_zero(const pm_alloctime *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        const pm_alloctime_entry *e = &t->slots[i];
        if (e->node != PM_ALLOCTIME_EMPTY && (e->at > 0 || (e->freed != PM_ALLOCTIME_LIVE && e->freed > 0)))
            return 1;
    }
    return 0;
}

/* The entry of (node, bucket(a_ns), bucket(f_ns) or LIVE), made room for:
 * buckets double until both times fit, and once more whenever the table
 * reaches max_entries.  NULL on OOM. */
static pm_alloctime_entry *entry(pm_alloctime *t, uint32_t node, uint64_t a_ns, uint64_t f_ns, int live)
{
    for (;;) {
        uint64_t at = bucket_of(t, live ? 0 : 1, a_ns), freed = live ? 0 : bucket_of(t, 0, f_ns);
        if (at >= t->max_buckets || freed >= t->max_buckets) {
            if (rebuild(t, t->cap ? t->cap : PM_ALLOCTIME_MIN_CAP, 1) != 0)
                return NULL;
            continue;
        }
        uint32_t fb = live ? PM_ALLOCTIME_LIVE : (uint32_t)freed;
        if (t->cap && (t->n + 1) * 4 <= t->cap * 3) {
            size_t before = t->n;
            pm_alloctime_entry *e = put(t->slots, t->cap - 1, node, (uint32_t)at, fb, &t->n);
            if (t->n == before || t->n <= t->max_entries)
                return e;
            /* A new key past the cap: take it back, double the buckets
             * (entries merge), retry.  Once every time is in bucket 0,
             * entries differ by node alone, which cannot merge: the cap is
             * raised instead (at most twice the nodes are needed). */
            e->node = PM_ALLOCTIME_EMPTY;
            t->n--;
            if (!any_above_zero(t))
                t->max_entries *= 2;
            else if (rebuild(t, t->cap, 1) != 0)
                return NULL;
            continue;
        }
        if (rebuild(t, t->cap ? t->cap * 2 : PM_ALLOCTIME_MIN_CAP, 0) != 0)
            return NULL;
    }
}

/* Adds (bytes, count) to the entry of (node, a_ns, f_ns or LIVE). */
static void add(pm_alloctime *t, uint32_t node, uint64_t a_ns, uint64_t f_ns, int live, int64_t bytes, int64_t count)
{
    pm_alloctime_entry *e = entry(t, node, a_ns, f_ns, live);
    if (!e) {
        t->oom = 1;
        return;
    }
    e->bytes += bytes;
    e->count += count;
}

/* The current bucket's sums into the table.  They stay right if buckets
 * doubled since: times of one bucket share the wider one too. */
static void flush(pm_alloctime *t)
{
    uint64_t lo = t->cur_lo;
    t->cur_w = 0;
    for (uint32_t i = 0; i < t->cur_n; i++) {
        uint32_t node = t->cur_nodes[i];
        struct pm_alloctime_sums *s = &t->cur[node];
        if (s->ab || s->ac)
            add(t, node, lo, 0, 1, s->ab, s->ac);
        if (s->fb || s->fc)
            add(t, node, lo, lo, 0, s->fb, s->fc);
        *s = (struct pm_alloctime_sums){0, 0, 0, 0};
        t->cur_listed[node] = 0;
    }
    t->cur_n = 0;
}

/* Whether t_ns falls in the current bucket, which moves on to t_ns's when
 * t_ns is later (the collector's times come in order): 0 when it is earlier,
 * or past the last bucket (the table must make room first). */
static int in_cur(pm_alloctime *t, uint64_t t_ns)
{
    if (t_ns - t->cur_lo < t->cur_w)
        return 1;
    if (t->cur_w && t_ns < t->cur_lo)
        return 0;
    flush(t);
    if (bucket_of(t, 0, t_ns) >= t->max_buckets || !t->span_w[0])
        return 0;
    t->cur_lo = t->span_lo[0];
    t->cur_w = t->span_w[0];
    return 1;
}

/* Room in the per-node arrays for node; -1 when out of memory. */
static __attribute__((noinline)) int cur_grow(pm_alloctime *t, uint32_t node)
{
    uint32_t cap = t->cur_cap ? t->cur_cap : 1024;
    while (cap <= node) {
        if (cap > UINT32_MAX / 2)
            return -1;
        cap *= 2;
    }
    /* Each array is grown before the capacity is: a failure leaves the old
     * one in use, at its old size. */
    struct pm_alloctime_sums *c = realloc(t->cur, (size_t)cap * sizeof *c);
    if (!c)
        return -1;
    t->cur = c;
    uint8_t *l = realloc(t->cur_listed, cap);
    if (!l)
        return -1;
    t->cur_listed = l;
    uint32_t *ns = realloc(t->cur_nodes, (size_t)cap * sizeof *ns);
    if (!ns)
        return -1;
    t->cur_nodes = ns;
    memset(c + t->cur_cap, 0, (size_t)(cap - t->cur_cap) * sizeof *c);
    memset(l + t->cur_cap, 0, cap - t->cur_cap);
    t->cur_cap = cap;
    return 0;
}

/* node's sums in the current bucket, listed; NULL when out of memory. */
static inline struct pm_alloctime_sums *cur_of(pm_alloctime *t, uint32_t node)
{
    if (node >= t->cur_cap && cur_grow(t, node) != 0)
        return NULL;
    if (!t->cur_listed[node]) {
        t->cur_listed[node] = 1;
        t->cur_nodes[t->cur_n++] = node;
    }
    return &t->cur[node];
}

void pm_alloctime_alloc(pm_alloctime *t, uint32_t node, uint64_t t_ns, int64_t bytes, int64_t count)
{
    struct pm_alloctime_sums *s = in_cur(t, t_ns) ? cur_of(t, node) : NULL;
    if (!s) {
        add(t, node, t_ns, 0, 1, bytes, count);
        return;
    }
    s->ab += bytes;
    s->ac += count;
}

void pm_alloctime_freed(pm_alloctime *t, uint32_t node, uint64_t alloc_ns, uint64_t free_ns, int64_t bytes,
                        int64_t count)
{
    if (free_ns < alloc_ns)
        free_ns = alloc_ns;
    struct pm_alloctime_sums *s = NULL;
    if (alloc_ns - t->cur_lo < t->cur_w && free_ns - t->cur_lo < t->cur_w && (s = cur_of(t, node))) {
        s->fb += bytes;
        s->fc += count;
        return;
    }
    /* A block from an earlier bucket. */
    uint64_t at = bucket_of(t, 1, alloc_ns), fb = bucket_of(t, 0, free_ns);
    pm_alloctime_entry *e = NULL;
    if (at < t->max_buckets && fb < t->max_buckets)
        e = memo_hit(t, t->memo_freed, memo_index(node, (uint32_t)at), node, (uint32_t)at, (uint32_t)fb);
    if (!e && !(e = entry(t, node, alloc_ns, free_ns, 0))) {
        t->oom = 1;
        return;
    }
    /* Keyed by the entry's own bucket (entry may have made buckets wider). */
    t->memo_freed[memo_index(node, e->at)] = (uint32_t)(e - t->slots);
    e->bytes += bytes;
    e->count += count;
}

void pm_alloctime_finish(pm_alloctime *t)
{
    flush(t);
    size_t mask = t->cap ? t->cap - 1 : 0;
    for (size_t i = 0; i < t->cap; i++) {
        pm_alloctime_entry *e = &t->slots[i];
        if (e->node == PM_ALLOCTIME_EMPTY || e->freed == PM_ALLOCTIME_LIVE)
            continue;
        /* Its LIVE entry: allocated in the same bucket at the same node.  It
         * exists unless that sample's entry could not be stored. */
        size_t j = slot_of(e->node, e->at, PM_ALLOCTIME_LIVE, mask);
        while (t->slots[j].node != PM_ALLOCTIME_EMPTY &&
               !(t->slots[j].node == e->node && t->slots[j].at == e->at && t->slots[j].freed == PM_ALLOCTIME_LIVE))
            j = (j + 1) & mask;
        if (t->slots[j].node == PM_ALLOCTIME_EMPTY)
            continue;
        pm_alloctime_entry *live = &t->slots[j];
        live->bytes = live->bytes > e->bytes ? live->bytes - e->bytes : 0;
        live->count = live->count > e->count ? live->count - e->count : 0;
    }
    /* Zero entries are marked gone, without moving any (the probe runs
     * above needed them in place). */
    for (size_t i = 0; i < t->cap; i++) {
        pm_alloctime_entry *e = &t->slots[i];
        if (e->node != PM_ALLOCTIME_EMPTY && !e->bytes && !e->count) {
            e->node = PM_ALLOCTIME_EMPTY;
            t->n--;
        }
    }
}
