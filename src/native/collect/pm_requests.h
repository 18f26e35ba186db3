/* pm_requests.h — attribution of samples to the unit of work a thread is
 * serving (a web request): each thread publishes the id of its current
 * request in a table the sampler reads at every charge, and every open
 * request gathers the leaves (of the shared model) charged while one of its
 * threads had its id, with their values.  One sampler for the process; a
 * request's own profile is cut from these tallies when it ends
 * (pm_profile_extract).  No Python.h.
 *
 * Threads: pm_requests_tag is lock-free (the program's threads call it at
 * every request start, end and, for coroutines, every step).  The open
 * requests have a lock of their own, held only for each open, charge and
 * take, never the model's: a server thread opens and ends a request holding
 * the GIL, and the sampler holds the model's lock for a whole tick, during
 * which a busy machine may preempt it for milliseconds; waiting for that
 * lock with the GIL held could stop every thread of the server meanwhile.
 * Lock order: the model's, then this one. */
#ifndef PM_REQUESTS_H
#define PM_REQUESTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "model/pm_model.h"

/* Threads a process may tag over its life (idents are reused by new
 * threads, so a worker pool stays well under it); a thread past it is not
 * attributed, and counted. */
#define PM_REQ_THREADS 4096

typedef struct {
    pm_id node;
    int64_t v[PM_MAX_METRICS];
} pm_req_cell;

typedef struct {
    uint64_t rid;
    pm_req_cell *cells; /* open addressing by node, cap a power of two */
    size_t n, cap;
} pm_req_record;

typedef struct {
    _Atomic uint64_t keys[PM_REQ_THREADS]; /* thread ident, 0 = free */
    _Atomic uint64_t tags[PM_REQ_THREADS]; /* its current request, 0 = none */
    /* Bumped before and after each change of the thread's tag (odd while
     * it changes): a sample whose stack read and tag read saw the same even
     * value read both at one moment. */
    _Atomic uint64_t seqs[PM_REQ_THREADS];
    _Atomic uint64_t untagged;             /* tags refused: table full */
    pthread_mutex_t lock;                  /* guards recs, nrecs, caprecs, lost, torn */
    pm_req_record *recs;                   /* the open requests */
    size_t nrecs, caprecs;
    uint64_t lost;                         /* charges lost to out-of-memory */
    uint64_t torn;                         /* samples whose thread changed request while read */
} pm_requests;

pm_requests *pm_requests_new(void);
void pm_requests_free(pm_requests *R);
/* Sets thread `ident`'s current request (0: none); returns the previous
 * one, so a coroutine step can put it back. */
uint64_t pm_requests_tag(pm_requests *R, uint64_t ident, uint64_t rid);
uint64_t pm_requests_tag_of(pm_requests *R, uint64_t ident);
/* Starts gathering for rid (nonzero).  0, or -1 on OOM. */
int pm_requests_open(pm_requests *R, uint64_t rid);
/* Thread ident's change count, read before its stack is (see seqs). */
uint64_t pm_requests_seq(pm_requests *R, uint64_t ident);
/* The sampler charged `node` with v[metric] on thread `ident`, whose stack
 * it read after seeing change count seq: charged to the thread's request
 * only when no tag change began or ended since (else counted in torn: an
 * asyncio loop switches requests at every step, and a stack of one with the
 * tag of the next would mix them). */
void pm_requests_charge(pm_requests *R, uint64_t ident, uint64_t seq, pm_id node, const int64_t *v);
/* Charges node with v[metric] to request rid itself, whichever thread
 * tags (time the request spent suspended, on no thread); nothing when rid
 * is not gathered. */
void pm_requests_add(pm_requests *R, uint64_t rid, pm_id node, const int64_t *v);
/* Ends gathering for rid: its cells (caller frees; NULL and 0 when none)
 * in *cells, *n.  -1 when rid is not open. */
int pm_requests_take(pm_requests *R, uint64_t rid, pm_req_cell **cells, size_t *n);
/* Requests open now, charges lost to out-of-memory, torn samples. */
void pm_requests_counts(pm_requests *R, uint64_t *open, uint64_t *lost, uint64_t *torn);

#endif
