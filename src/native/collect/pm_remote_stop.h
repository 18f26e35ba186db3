/* pm_remote_stop.h — `attach --blocking`: every thread of the target
 * stopped with ptrace (PTRACE_SEIZE once, PTRACE_INTERRUPT per tick) while
 * its stacks are read, so each sample is one moment of the whole process,
 * then resumed (a signal that arrived meanwhile is handed on).  The calls
 * must come from one thread of ours (ptrace's tracer is a thread).  No
 * Python.h. */
#ifndef PM_REMOTE_STOP_H
#define PM_REMOTE_STOP_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t tid;
    int stopped;
    int signal;      /* to hand on at resume */
} pm_rthread_stop;

typedef struct {
    pid_t pid;
    pm_rthread_stop *t;
    size_t n, cap;
    int denied;      /* a PTRACE_SEIZE was refused */
} pm_rstop;

/* Seizes new threads and stops every one; returns how many are stopped. */
size_t pm_rstop_all(pm_rstop *st);
/* Seizes these threads (native ids) and stops them, with any seized
 * before; returns how many are stopped. */
size_t pm_rstop_threads(pm_rstop *st, const pid_t *tids, size_t n);
/* Lets every stopped thread run again. */
void pm_rstop_resume(pm_rstop *st);
/* Detaches from every thread, each let go from its stop with the signal
 * that stopped it, if any: the target is no longer traced. */
void pm_rstop_release(pm_rstop *st);
/* Resumes and detaches from every thread. */
void pm_rstop_end(pm_rstop *st);

#endif
