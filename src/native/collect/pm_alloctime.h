/* pm_alloctime.h — the memory collector's allocations over time: what the
 * samples stood for, summed per (leaf node, bucket allocated in, bucket
 * freed in), for the viewer's "allocated in [t0, t1]".  No Python.h.
 *
 * A sample adds to (node, bucket(t), LIVE) and a sampled free adds the same
 * weights to (node, bucket(t_alloc), bucket(t_free)), and pm_alloctime_finish
 * subtracts each freed entry from its LIVE entry, which then holds what is
 * still live at the end.  Events of the current bucket (allocations, and
 * frees of blocks allocated in it: with exact sampling, nearly every event)
 * are summed per node in flat arrays first and go into the table when the
 * bucket turns: an event is then two additions, where a table lookup was
 * about a tenth of exact mode's cost.
 *
 * Bounded: buckets start unit_ns wide; when a time falls past max_buckets, or
 * a new entry would pass max_entries, every bucket doubles (b -> b / 2 for
 * both times) and entries that now share a key merge.  At the default rate
 * a run makes about one entry per (leaf, bucket) sampled, a few thousand.
 * Only when every time is already in bucket 0 can the cap not be kept
 * (entries then differ by node and whether freed): it doubles, so the
 * table is bounded by max(max_entries, twice the nodes sampled).
 *
 * Not thread-safe: the collector's lock guards it. */
#ifndef PM_ALLOCTIME_H
#define PM_ALLOCTIME_H

#include <stddef.h>
#include <stdint.h>

#define PM_ALLOCTIME_LIVE UINT16_MAX
#define PM_ALLOCTIME_MEMO 256u

/* 24 bytes: bucket indexes stay below max_buckets, at most
 * PM_ALLOCTIME_LIVE, so they fit 16 bits (a quarter less than 32-bit
 * indexes padded to 32 bytes: the table is most of what a run at the
 * default rate adds to the program's peak RSS once it outlasts a few
 * seconds). */
typedef struct {
    uint32_t node;      /* UINT32_MAX: empty slot */
    uint16_t at;        /* bucket allocated in */
    uint16_t freed;     /* bucket freed in; PM_ALLOCTIME_LIVE before finish: everything allocated */
    int64_t bytes;
    int64_t count;      /* the collector's fixed-point count */
} pm_alloctime_entry;

typedef struct {
    pm_alloctime_entry *slots;
    size_t cap;         /* power of two, 0 before the first entry */
    size_t n;
    uint64_t unit_ns;   /* the finest bucket */
    uint32_t shift;     /* buckets are unit_ns << shift wide */
    uint32_t max_buckets;
    size_t max_entries;
    /* Slots last added to by frees of blocks from an earlier bucket,
     * direct-mapped by key (checked against the key, so a stale one is only a
     * miss): most land on a key seen a moment before. */
    uint32_t memo_freed[PM_ALLOCTIME_MEMO];
    /* The bucket of the last time asked, and the times it covers [lo, lo + w),
     * for the time of an event (0) and the allocation time of a freed block
     * (1): a 64-bit division per lookup is most of a lookup's cost. */
    uint64_t span_lo[2], span_w[2];
    uint32_t span_b[2];
    /* The current bucket's sums, per node: the times [cur_lo, cur_lo + cur_w)
     * (cur_w 0: none), and the nodes listed in cur_nodes. */
    uint64_t cur_lo, cur_w;
    struct pm_alloctime_sums {
        int64_t ab, ac;     /* allocated in the bucket: bytes, count */
        int64_t fb, fc;     /* of those, freed in it */
    } *cur;
    uint8_t *cur_listed;
    uint32_t *cur_nodes;
    uint32_t cur_n, cur_cap;    /* listed nodes; nodes the arrays hold */
    uint64_t merges;    /* how many times buckets doubled */
    int oom;            /* an event could not be stored */
} pm_alloctime;

/* max_buckets is taken as at most PM_ALLOCTIME_LIVE. */
void pm_alloctime_init(pm_alloctime *t, uint64_t unit_ns, uint32_t max_buckets, size_t max_entries);
void pm_alloctime_free(pm_alloctime *t);
/* Bucket width now, in nanoseconds. */
uint64_t pm_alloctime_bucket_ns(const pm_alloctime *t);
/* A sampled allocation at t_ns (since the start) standing for (bytes, count). */
void pm_alloctime_alloc(pm_alloctime *t, uint32_t node, uint64_t t_ns, int64_t bytes, int64_t count);
/* The free at free_ns of a sample taken at alloc_ns. */
void pm_alloctime_freed(pm_alloctime *t, uint32_t node, uint64_t alloc_ns, uint64_t free_ns, int64_t bytes,
                        int64_t count);
/* End of collection: the current bucket's sums go into the table, and LIVE
 * entries keep what was not freed.  Entries left at zero have node
 * UINT32_MAX afterwards.  Call once. */
void pm_alloctime_finish(pm_alloctime *t);

#endif
