/* pm_requests.c — per-thread request tags and per-request tallies (see
 * pm_requests.h). */
#include "pm_requests.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_hash(uint64_t x, size_t mask)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x & mask;
}

pm_requests *pm_requests_new(void)
{
    pm_requests *R = calloc(1, sizeof(pm_requests));
    if (R && pthread_mutex_init(&R->lock, NULL) != 0) {
        free(R);
        return NULL;
    }
    return R;
}

void pm_requests_free(pm_requests *R)
{
    if (!R)
        return;
    for (size_t i = 0; i < R->nrecs; i++)
        free(R->recs[i].cells);
    free(R->recs);
    pthread_mutex_destroy(&R->lock);
    free(R);
}

/* The slot of `ident`, claimed when `claim` and it has none; -1 if none. */
static long thread_slot(pm_requests *R, uint64_t ident, int claim)
{
    if (ident == 0)
        return -1;
    size_t mask = PM_REQ_THREADS - 1, i = slot_hash(ident, mask);
    for (size_t k = 0; k < PM_REQ_THREADS; k++, i = (i + 1) & mask) {
        uint64_t key = atomic_load_explicit(&R->keys[i], memory_order_acquire);
        if (key == ident)
            return (long)i;
        if (key == 0) {
            if (!claim)
                return -1;
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&R->keys[i], &expected, ident) || expected == ident)
                return (long)i;
        }
    }
    return -1;
}

uint64_t pm_requests_tag(pm_requests *R, uint64_t ident, uint64_t rid)
{
    long i = thread_slot(R, ident, rid != 0);
    if (i < 0) {
        if (rid)
            atomic_fetch_add(&R->untagged, 1);
        return 0;
    }
    /* Only the thread itself changes its slot: plain increments suffice. */
    atomic_fetch_add_explicit(&R->seqs[i], 1, memory_order_acq_rel);
    uint64_t prev = atomic_exchange_explicit(&R->tags[i], rid, memory_order_acq_rel);
    atomic_fetch_add_explicit(&R->seqs[i], 1, memory_order_release);
    return prev;
}

uint64_t pm_requests_seq(pm_requests *R, uint64_t ident)
{
    long i = thread_slot(R, ident, 0);
    return i < 0 ? 0 : atomic_load_explicit(&R->seqs[i], memory_order_acquire);
}

uint64_t pm_requests_tag_of(pm_requests *R, uint64_t ident)
{
    long i = thread_slot(R, ident, 0);
    return i < 0 ? 0 : atomic_load_explicit(&R->tags[i], memory_order_acquire);
}

static pm_req_record *find(pm_requests *R, uint64_t rid)
{
    for (size_t i = 0; i < R->nrecs; i++)
        if (R->recs[i].rid == rid)
            return &R->recs[i];
    return NULL;
}

/* pm_requests_open with the lock held. */
static int open_locked(pm_requests *R, uint64_t rid)
{
    if (find(R, rid))
        return 0;
    if (R->nrecs == R->caprecs) {
        size_t cap = R->caprecs ? R->caprecs * 2 : 16;
        pm_req_record *r = realloc(R->recs, cap * sizeof *r);
        if (!r)
            return -1;
        R->recs = r;
        R->caprecs = cap;
    }
    memset(&R->recs[R->nrecs], 0, sizeof R->recs[0]);
    R->recs[R->nrecs++].rid = rid;
    return 0;
}

int pm_requests_open(pm_requests *R, uint64_t rid)
{
    if (rid == 0)
        return -1;
    pthread_mutex_lock(&R->lock);
    int rc = open_locked(R, rid);
    pthread_mutex_unlock(&R->lock);
    return rc;
}

/* The cell of `node` in rec, made when missing; NULL on OOM. */
static pm_req_cell *cell(pm_req_record *rec, pm_id node)
{
    if ((rec->n + 1) * 2 > rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 64;
        pm_req_cell *c = malloc(cap * sizeof *c);
        if (!c)
            return NULL;
        for (size_t i = 0; i < cap; i++)
            c[i].node = PM_NONE;
        for (size_t i = 0; i < rec->cap; i++)
            if (rec->cells[i].node != PM_NONE) {
                size_t j = slot_hash(rec->cells[i].node, cap - 1);
                while (c[j].node != PM_NONE)
                    j = (j + 1) & (cap - 1);
                c[j] = rec->cells[i];
            }
        free(rec->cells);
        rec->cells = c;
        rec->cap = cap;
    }
    size_t j = slot_hash(node, rec->cap - 1);
    while (rec->cells[j].node != PM_NONE && rec->cells[j].node != node)
        j = (j + 1) & (rec->cap - 1);
    if (rec->cells[j].node == PM_NONE) {
        memset(&rec->cells[j], 0, sizeof rec->cells[j]);
        rec->cells[j].node = node;
        rec->n++;
    }
    return &rec->cells[j];
}

/* pm_requests_add with the lock held. */
static void add_locked(pm_requests *R, uint64_t rid, pm_id node, const int64_t *v)
{
    pm_req_record *rec = node == PM_NONE ? NULL : find(R, rid);
    if (!rec)
        return; /* tagged, but not gathered (not sampled for a profile) */
    pm_req_cell *c = cell(rec, node);
    if (!c) {
        R->lost++;
        return;
    }
    for (int m = 0; m < PM_MAX_METRICS; m++)
        c->v[m] += v[m];
}

void pm_requests_charge(pm_requests *R, uint64_t ident, uint64_t seq, pm_id node, const int64_t *v)
{
    uint64_t rid = pm_requests_tag_of(R, ident);
    if (rid == 0 || node == PM_NONE)
        return;
    int torn = (seq & 1) || pm_requests_seq(R, ident) != seq;
    pthread_mutex_lock(&R->lock);
    if (torn)
        R->torn++;
    else
        add_locked(R, rid, node, v);
    pthread_mutex_unlock(&R->lock);
}

void pm_requests_add(pm_requests *R, uint64_t rid, pm_id node, const int64_t *v)
{
    pthread_mutex_lock(&R->lock);
    add_locked(R, rid, node, v);
    pthread_mutex_unlock(&R->lock);
}

void pm_requests_counts(pm_requests *R, uint64_t *open, uint64_t *lost, uint64_t *torn)
{
    pthread_mutex_lock(&R->lock);
    *open = R->nrecs;
    *lost = R->lost;
    *torn = R->torn;
    pthread_mutex_unlock(&R->lock);
}

int pm_requests_take(pm_requests *R, uint64_t rid, pm_req_cell **cells, size_t *n)
{
    *cells = NULL;
    *n = 0;
    pthread_mutex_lock(&R->lock);
    pm_req_record *rec = find(R, rid);
    if (!rec) {
        pthread_mutex_unlock(&R->lock);
        return -1;
    }
    /* Packed: the used cells first. */
    size_t k = 0;
    for (size_t i = 0; i < rec->cap; i++)
        if (rec->cells[i].node != PM_NONE)
            rec->cells[k++] = rec->cells[i];
    *cells = k ? rec->cells : NULL;
    if (!k)
        free(rec->cells);
    *n = k;
    *rec = R->recs[--R->nrecs];
    pthread_mutex_unlock(&R->lock);
    return 0;
}
