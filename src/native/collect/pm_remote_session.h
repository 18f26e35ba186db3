/* pm_remote_session.h — reading another process's stacks: one dump of every
 * thread, or sampling into the profile model (the same metrics and quality
 * figures as the in-process sampler), through the in-process walker and code
 * cache pointed at the target (pm_remote).  No Python.h.
 *
 * The target is not stopped to be read: a thread that is not running (its
 * state letter) and whose CPU clock (/proc schedstat, exact for such a
 * thread) did not move while it was read cannot have changed its stack; a
 * running thread's walk keeps only what the walker's second look proves
 * unchanged.  A tick no such read caught whole is read once more with that
 * thread stopped for the moment (ptrace, then detached: samples_stopped),
 * within 5% of the time attached; past that budget, or where ptrace is
 * refused, it is counted (samples_torn), not charged.
 */
#ifndef PM_REMOTE_SESSION_H
#define PM_REMOTE_SESSION_H

#include <pthread.h>
#include <stdint.h>

#include "model/pm_model.h"
#include "pm_codecache.h"
#include "pm_remote.h"
#include "pm_remote_names.h"
#include "pm_remote_stop.h"
#include "pm_walker.h"

typedef struct {
    uint64_t tid;                 /* native id */
    uint64_t ident;               /* thread_id (threading.get_ident()) */
    pm_id thread;                 /* in the model */
    uint64_t cpu_ns;              /* at the last tick */
    uint64_t cpu_owed;            /* CPU time read but not yet charged to a tick */
    int seen;                     /* present this tick */
    int cpu_known;                /* cpu_ns was read */
    pm_id leaf;                   /* its stack at the last tick, PM_NONE if not read */
    int truncated;                /* that stack was cut at PM_MAX_DEPTH */
    pm_walk_memo memo;
} pm_rthread;

#define PM_MAX_DEFER 64

/* A thread of this tick left to be read with the target stopped. */
typedef struct {
    size_t th, t;                 /* its pm_rthread and pm_tinfo */
    uint64_t dcpu;
    int idle;
} pm_rdefer;

typedef struct {
    pm_remote *r;
    pm_profile *model;
    pthread_mutex_t *lock;        /* guards the model, may be NULL */
    pm_walker w;
    pm_codecache codes;
    pm_raw_frame *raw;
    pm_id *frames;
    int32_t *lines;
    uint64_t *verify;
    pm_rthread *th;
    size_t nth, capth;
    int mode;                     /* pm_sampler_mode: wall or cpu */
    double rate_hz;
    int m_samples, m_wall, m_cpu, m_idle, m_gil;
    uint64_t tick, start_ns, last_ns, next_ns;
    uint64_t ticks, expected, torn, walks, ended, truncated;
    uint64_t self_cpu0;           /* our CPU time at start */
    uint64_t rng;
    pm_raw_frame *dump_raw;       /* a dump's frames, every thread's in one block */
    pm_id *dump_frames;
    int32_t *dump_lines;
    size_t dump_room;
    pm_rname *names;              /* threads' Python names, as last read */
    size_t names_cap;
    uint64_t names_active;        /* where threading._active is (pm_remote_names) */
    int blocking;                 /* every thread stopped while read (ptrace) */
    pm_rstop stop;
    pm_rdefer deferred[PM_MAX_DEFER];
    size_t ndeferred;
    int stop_refused;             /* ptrace refused: torn ticks stay torn */
    uint64_t stopped_reads;       /* ticks of a thread read with the target stopped */
    uint64_t stopped_ns;          /* time spent stopping, reading, letting go */
} pm_rsession;

/* One thread of a dump: its frames leaf first (model frames and lines;
 * frame and code addresses for the locals reader). */
typedef struct {
    uint64_t ident, native_id;
    int gil, running, ok;         /* holds the GIL; on a CPU; stack read whole */
    int cut;                      /* deeper than PM_MAX_DEPTH: the outermost frames not read */
    char state;                   /* /proc state letter */
    char name[PM_RNAME_MAX];      /* threading's name, else the OS name */
    char os_name[64];             /* the OS thread name (/proc comm) */
    size_t first, depth;          /* where its frames are in the session's dump arrays; how many */
    pm_id *frames;
    int32_t *lines;
    pm_raw_frame *raw;
} pm_rdump_thread;

int pm_rsession_init(pm_rsession *s, pm_remote *r, pm_profile *model, pthread_mutex_t *lock, int mode,
                     double rate_hz, char *err, size_t errlen);
void pm_rsession_free(pm_rsession *s);

/* Stops the target's threads with ptrace while each tick reads them (call
 * before sampling, from the thread that samples).  0, or -1 with a line in
 * err (refused: permission). */
int pm_rsession_blocking(pm_rsession *s, char *err, size_t errlen);

/* Samples until the monotonic clock reaches until_ns.  Returns 0, or 1 when
 * the target ended (what was collected stays in the model). */
int pm_rsession_sample(pm_rsession *s, uint64_t until_ns);

/* Writes the quality figures into the model's metadata. */
void pm_rsession_finish(pm_rsession *s);

/* Reads every thread's stack once (retrying a thread that moved).  Fills
 * out[0..*n) (arrays owned by the session until the next call). -1 when the
 * thread list cannot be read.  still_tid (0: none) names a thread known to
 * stand still, one a fatal signal holds in its handler: it is read without
 * the time limits that tell a moving thread, since signal handlers may run
 * on it meanwhile (its CPU clock moves, its Python frames cannot). */
int pm_rsession_dump(pm_rsession *s, pm_rdump_thread *out, size_t cap, size_t *n, uint64_t still_tid);

/* The frame's local variables (names and bounded reprs, see pm_remote_repr):
 * calls fn for each, at most max. */
typedef void (*pm_rlocal_fn)(void *ctx, const char *name, size_t namelen, const char *repr);
void pm_rsession_locals(pm_rsession *s, const pm_raw_frame *f, size_t max, pm_rlocal_fn fn, void *ctx);

uint64_t pm_rsession_now(void);

#endif
