/* pm_sampler.h — the sampling profiler: a native thread that never takes
 * the GIL, wakes at a fixed rate (absolute, slightly jittered deadlines),
 * reads every Python thread's stack through the walker, and adds the sample
 * to the model.  No Python.h: the module supplies the layout and a callback
 * for the little work that needs the GIL (pinning code objects, thread
 * names).
 */
#ifndef PM_SAMPLER_H
#define PM_SAMPLER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "model/pm_model.h"
#include "pm_async.h"
#include "pm_codecache.h"
#include "pm_layout.h"
#include "pm_requests.h"

/* wall: every thread, running or not; cpu: threads that used CPU, weighted
 * by it; gil: only the thread holding the GIL (what Python code can run). */
typedef enum { PM_MODE_WALL = 0, PM_MODE_CPU = 1, PM_MODE_GIL = 2 } pm_sampler_mode;

typedef struct {
    double rate_hz;
    int mode;            /* pm_sampler_mode */
    int idle;            /* wall mode: keep samples of threads that are off-CPU */
    size_t timeline_cap; /* events; 0: no timeline */
    int native;          /* --native: C frames interleaved with the Python ones */
} pm_sampler_opts;

typedef struct {
    uint64_t ticks;          /* samples taken (one per tick, all threads) */
    uint64_t expected;       /* ticks the rate asked for over the run so far */
    uint64_t torn;           /* thread stacks no read caught at one moment: not charged */
    uint64_t torn_held;      /* of them, held-back samples whose capture and walk both failed */
    uint64_t captured;       /* thread stacks the running thread copied itself (pm_capture) */
    uint64_t capture_wait_ns, capture_slept, capture_late; /* waiting for captures (pm_capture) */
    uint64_t walks;          /* thread stacks read */
    uint64_t reused;         /* thread stacks known unchanged (no CPU used since) */
    uint64_t truncated;      /* samples charged to a stack cut at PM_MAX_DEPTH */
    uint64_t cpu_ns;         /* the sampling thread's own CPU time */
    uint64_t duration_ns;
    uint64_t reads;          /* process_vm_readv calls */
    /* --async: ticks whose tasks were read while the loop's thread stood
     * still; ticks it ran (its running task keeps its real stack, the
     * others are not shown); ticks whose tasks could not be read at one
     * moment (charged to the thread's own stack). */
    uint64_t async_read, async_running, async_torn;
    uint64_t async_skipped;  /* ticks left to the next read (the sampler's budget) */
    uint64_t async_in_handler; /* of async_read: read by the running loop thread's capture handler */
    /* --native: stacks charged with their C frames; captured stacks whose
     * C stack could not be had (charged with Python frames only); those
     * whose eval-loop frames and Python frames did not pair up. */
    uint64_t native, native_failed, native_mismatch;
    uint64_t native_syscall;  /* off-CPU stacks given the blocking call's C function */
    uint64_t gil_probes;      /* threads off the CPU without the GIL asked whether they wait for it */
    uint64_t gil_waiting;     /* of them, those that did */
} pm_sampler_stats;

typedef struct pm_sampler pm_sampler;

/* Called on the sampling thread when code objects wait to be pinned or new
 * threads wait for a name; it must only schedule work (Py_AddPendingCall). */
typedef void (*pm_sampler_notify)(void *ctx);

pm_sampler *pm_sampler_new(const pm_layout *L, pm_profile *model, pthread_mutex_t *model_lock,
                           const pm_sampler_opts *o, char *err, size_t errlen);
void pm_sampler_free(pm_sampler *s);
void pm_sampler_set_notify(pm_sampler *s, pm_sampler_notify fn, void *ctx);
/* 3.9/3.10: where glibc keeps a thread's tid (pm_tid_offset_find). */
void pm_sampler_set_tid_offset(pm_sampler *s, long off);
/* --async (wall mode): asyncio tasks' await chains, read while the loop's
 * thread waits, stand in for that thread's idle stack (pm_async.h).  Before
 * start; off, nothing of it runs. */
int pm_sampler_set_async(pm_sampler *s, const pm_async_layout *A);
/* Charges each sample also to the request its thread serves (pm_requests.h);
 * before start.  The table stays the caller's. */
void pm_sampler_set_requests(pm_sampler *s, pm_requests *R);
int pm_sampler_start(pm_sampler *s, char *err, size_t errlen);
/* Stops and joins the thread and writes the quality figures into the
 * model's metadata.  Safe to call twice. */
void pm_sampler_stop(pm_sampler *s);
int pm_sampler_running(const pm_sampler *s);
/* Ends the thread for a while and starts it again (around fork(): a
 * process with a second thread draws warnings from os.fork on 3.12+, and the
 * child could not use it anyway).  The profile keeps accumulating. */
void pm_sampler_pause(pm_sampler *s);
void pm_sampler_resume(pm_sampler *s);
void pm_sampler_get_stats(pm_sampler *s, pm_sampler_stats *out);
/* --native: return addresses (leaf first) spanning exactly `runs` runs of
 * Python frames, as a probe made them; an unnamed eval loop among them is
 * learned (pm_natframes_learn_eval).  1 if learned, 0 if not, -1 on error. */
int pm_sampler_learn_eval(pm_sampler *s, const uint64_t *ips, size_t n, size_t runs);
pm_codecache *pm_sampler_codecache(pm_sampler *s);
/* Clears the "notified" flag so the next need schedules a new callback. */
void pm_sampler_notify_done(pm_sampler *s);
/* Model threads created since the last call (for naming); returns count. */
size_t pm_sampler_take_new_threads(pm_sampler *s, pm_id *out, size_t max);

/* Reads the stack of the thread whose state is at `tstate` right now, as the
 * sampling thread would (for the self-check).  Frames outermost first. */
int pm_sampler_probe(pm_sampler *s, uint64_t tstate, pm_id *frames, int32_t *lines, size_t cap,
                     size_t *depth);

#endif
