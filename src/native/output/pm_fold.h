/* pm_fold.h — a deterministic profile with its recursion folded, for the
 * exports whose size grows with every distinct call path (collapsed stacks,
 * Gecko).  Plain C, no Python.h. */
#ifndef PM_FOLD_H
#define PM_FOLD_H

#include "model/pm_model.h"

/* Whether the exports of p are folded: a calls profile (meta mode "calls"). */
int pm_fold_wanted(const pm_profile *p);

/* A copy of p (frames, threads, metrics, metadata, no timeline) in which a
 * call of a function already on the stack is counted where that function
 * was entered first: A;B;C;B;D becomes A;B;D, A;B;C;B;C becomes A;B;C.
 * Every value is kept (self values move, totals per thread do not change);
 * the depth is at most the number of distinct functions, so the collapsed
 * lines no longer repeat a recursion's path once per level.  NULL on OOM. */
pm_profile *pm_fold_recursion(const pm_profile *p);

#endif
