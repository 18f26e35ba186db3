/* pm_bind_memsession.h — what the two sets of allocator hooks share: the
 * PyMem hooks (pm_bind_memory.c) and the native ones (pm_bind_nativemem.c)
 * count down the same per-thread gap against the session that runs, so
 * samples fall on the stream of all bytes the program allocates, Python's
 * and native alike. */
#ifndef PM_BIND_MEMSESSION_H
#define PM_BIND_MEMSESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include "collect/pm_alloc.h"

typedef struct {
    _Atomic(pm_alloc *) active; /* the collecting session, NULL: pass through */
    _Atomic uint64_t gen;       /* its generation, 0 when none */
    _Atomic size_t big;         /* its pm_alloc.big, SIZE_MAX when none */
} pm_mem_session;

extern pm_mem_session pm_mem_now;

/* The whole fast path: one subtraction and two compares.  True when the
 * allocation must go the slow way (a sample point may fall in it, or the
 * countdown belongs to another session). */
static inline int pm_mem_countdown(size_t size)
{
    return size >= atomic_load_explicit(&pm_mem_now.big, memory_order_relaxed) ||
           (pm_alloc_me.left -= (int64_t)size) <= 0 ||
           pm_alloc_me.gen != atomic_load_explicit(&pm_mem_now.gen, memory_order_relaxed);
}

/* The session a countdown that ran out records in, or NULL: none runs (the
 * countdown is then parked), or the thread is pyrometer's own. */
pm_alloc *pm_mem_session_for_sample(void);

#endif
