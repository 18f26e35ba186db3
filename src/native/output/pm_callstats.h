/* pm_callstats.h — pstats figures derived from a calls profile's trie.
 *
 * Per function (model frame): ncalls, recursive calls (ncalls - primitive),
 * tottime (sum of self values) and cumtime (inclusive value of the nodes
 * with no ancestor of the same function); per (caller, callee) edge the same
 * four figures, "recursive" meaning the same caller → callee pair is already
 * open above.  These are exactly cProfile's rules (_lsprof.c Stop()) applied
 * to the call paths.  Plain C, no Python.h. */
#ifndef PM_CALLSTATS_H
#define PM_CALLSTATS_H

#include <stdint.h>

#include "model/pm_model.h"

typedef struct {
    pm_id frame;
    int64_t ncalls, reccalls, tottime, cumtime;
} pm_cs_func;

typedef struct {
    pm_id caller, callee;
    int64_t ncalls, reccalls, tottime, cumtime;
} pm_cs_edge;

/* calls[] and self[] hold a value per node (n of them, n <= node count).
 * thread: PM_NONE for all threads merged, else that thread only.
 * Fills *funcs (one per frame that was called) and *edges; returns 0 or -1
 * (OOM).  Free both with free(). */
int pm_callstats(const pm_profile *p, const int64_t *calls, const int64_t *self, uint32_t n, pm_id thread,
                 pm_cs_func **funcs, uint32_t *nfuncs, pm_cs_edge **edges, uint32_t *nedges);

#endif
