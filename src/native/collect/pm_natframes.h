/* pm_natframes.h — native return addresses to model frames, cached per
 * address (the sampling thread; pm_elfsym does the naming).  A native frame
 * is a PM_FRAME_NATIVE frame named after the function, its file the module's
 * path, line 0.  No Python.h.
 */
#ifndef PM_NATFRAMES_H
#define PM_NATFRAMES_H

#include <stdint.h>

#include "model/pm_model.h"
#include "pm_elfsym.h"

typedef struct {
    uint64_t addr;
    pm_id frame;
    uint8_t cls;
} pm_natframe_entry;

#define PM_NATFRAMES_EVAL_MAX 4

typedef struct {
    pm_elfsym *syms;
    pm_natframe_entry *tab; /* open addressing, addr 0 = empty */
    size_t cap, n;
    pm_id eval[PM_NATFRAMES_EVAL_MAX]; /* unnamed functions learned to be the eval loop */
    size_t neval;
} pm_natframes;

int pm_natframes_init(pm_natframes *nf);
void pm_natframes_free(pm_natframes *nf);
/* The frame and class (PM_NAT_*) of the code at addr, which is already the
 * address to name (a return address minus one).  Caller holds the model
 * lock.  -1 when out of memory. */
int pm_natframes_get(pm_natframes *nf, pm_profile *model, uint64_t addr, pm_id *frame, int *cls);

/* An interpreter built without symbols for its eval loop (Debian's 3.14+
 * binaries: the loop is an unnamed clone or cold part) is found from the
 * stacks: when `missing` of a stack's Python runs have no eval-loop frame
 * (classes with PM_NAT_UNNAMED from pm_natframes_get, leaf first), the one
 * unnamed interpreter function that occurs exactly `missing` times in it
 * is the eval loop from then on; cls is updated.  1 if learned, else 0.
 * Learning needs missing >= 2, so that a function met once by chance is
 * never taken for it. */
int pm_natframes_learn_eval(pm_natframes *nf, const pm_id *frames, uint8_t *cls, size_t n, size_t missing);

#endif
