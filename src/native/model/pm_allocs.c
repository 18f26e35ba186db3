/* pm_allocs.c — the model's allocations over time (memory mode): records of
 * (leaf, bucket allocated in, bucket freed in, bytes, count).
 *
 * Kept apart from the per-node metrics because time is a second dimension:
 * one column per bucket would cost nodes x buckets, while the records hold
 * only the (leaf, bucket) pairs that were sampled, a few per sample at most.
 * The collector merges buckets before it writes them (collect/pm_alloctime.c),
 * so a long run stays a bounded number of records. */
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"

int pm_allocs_enable(pm_profile *p, uint64_t bucket_ns)
{
    if (bucket_ns == 0) {
        pm_allocs_free(p);
        return 0;
    }
    if (p->alloc_count && bucket_ns != p->alloc_bucket_ns)
        return -1;
    p->alloc_bucket_ns = bucket_ns;
    return 0;
}

uint64_t pm_allocs_bucket_ns(const pm_profile *p)
{
    return p->alloc_bucket_ns;
}

int pm_allocs_add(pm_profile *p, const pm_alloc_rec *r)
{
    if (!p->alloc_bucket_ns || r->node == PM_ROOT || r->node >= p->node_count ||
        (r->freed != PM_NONE && r->freed < r->at) || r->at == PM_NONE)
        return -1;
    if (p->alloc_count == p->alloc_cap) {
        size_t cap = p->alloc_cap ? p->alloc_cap * 2 : 256;
        if (cap > SIZE_MAX / sizeof(pm_alloc_rec))
            return -1;
        pm_alloc_rec *n = realloc(p->allocs, cap * sizeof *n);
        if (!n)
            return -1;
        p->allocs = n;
        p->alloc_cap = cap;
    }
    p->allocs[p->alloc_count++] = *r;
    return 0;
}

static int cmp_rec(const void *x, const void *y)
{
    const pm_alloc_rec *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->freed != b->freed)
        return a->freed < b->freed ? -1 : 1;
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    return 0;
}

void pm_allocs_normalize(pm_profile *p)
{
    if (p->alloc_count > 1)
        qsort(p->allocs, p->alloc_count, sizeof *p->allocs, cmp_rec);
    size_t out = 0;
    for (size_t i = 0; i < p->alloc_count; i++) {
        pm_alloc_rec r = p->allocs[i];
        if (out && cmp_rec(&p->allocs[out - 1], &r) == 0) {
            /* Wrapping, as node values do: a hostile file must not be UB. */
            p->allocs[out - 1].bytes = (int64_t)((uint64_t)p->allocs[out - 1].bytes + (uint64_t)r.bytes);
            p->allocs[out - 1].count = (int64_t)((uint64_t)p->allocs[out - 1].count + (uint64_t)r.count);
        } else {
            if (out && !p->allocs[out - 1].bytes && !p->allocs[out - 1].count)
                out--;
            p->allocs[out++] = r;
        }
    }
    if (out && !p->allocs[out - 1].bytes && !p->allocs[out - 1].count)
        out--;
    p->alloc_count = out;
}

const pm_alloc_rec *pm_allocs_records(const pm_profile *p, size_t *count)
{
    if (count)
        *count = p->alloc_count;
    return p->allocs;
}

void pm_allocs_remap(pm_profile *p, const pm_id *map, uint32_t old_count)
{
    size_t out = 0;
    for (size_t i = 0; i < p->alloc_count; i++) {
        pm_alloc_rec r = p->allocs[i];
        if (r.node >= old_count || map[r.node] == PM_NONE || map[r.node] == PM_ROOT)
            continue;
        r.node = map[r.node];
        p->allocs[out++] = r;
    }
    p->alloc_count = out;
    pm_allocs_normalize(p);
}

void pm_allocs_free(pm_profile *p)
{
    free(p->allocs);
    p->allocs = NULL;
    p->alloc_count = p->alloc_cap = 0;
    p->alloc_bucket_ns = 0;
}

size_t pm_allocs_memory(const pm_profile *p)
{
    return p->alloc_cap * sizeof(pm_alloc_rec);
}
