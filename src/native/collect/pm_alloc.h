/* pm_alloc.h — the allocation collector's core: byte-weighted sampling
 * of allocations, the stack of each sample, live / peak / leak
 * accounting per trie node, and a timeline of the heap estimate and RSS.
 * No Python.h: the allocator hooks live in bind/pm_bind_memory.c and call
 * the functions below.
 *
 * Sampling.  Sample points fall on the stream of allocated bytes as a
 * renewal process whose gaps are uniform on [0.75, 1.25] x rate bytes: each
 * thread keeps the bytes left to its next point (pm_alloc_tls.left); an
 * allocation subtracts its size and is sampled when that crosses zero (the
 * overshoot carries into the next gap, so the points never depend on where
 * blocks begin).  A thread's first gap is the stationary one (the distance
 * from an arbitrary byte to the next point), so a block of s bytes meets a
 * point with the same probability P(s) wherever it falls: s/rate up to
 * 0.75 rate.  It stands for s/P bytes and 1/P allocations: unbiased
 * whatever the mix of sizes.  Why not memoryless gaps (Poisson): the count
 * of points in a run of bytes varies 48 times less with these, so a site
 * that allocates its objects together (a list built in a loop) is estimated
 * several times closer for the same number of samples, and no worse when
 * sites interleave; the gaps still vary by a quarter of the rate each way,
 * so a loop allocating with a period cannot lock onto the points as with a
 * fixed gap.  rate 1 samples every allocation with weight s (exact).
 * Blocks of `rate` bytes or more are all recorded with their own size,
 * outside the countdown: there are at most as many of them as samples, and
 * their sites (buffers, arrays) come out exact instead of within a few
 * percent.
 *
 * Live and peak.  The live estimate is the sum of the weights of sampled
 * blocks not yet freed (pm_blocks).  Per node the collector keeps live
 * bytes/count; when a free is about to lower the estimate from a new high,
 * the nodes that changed since the last snapshot are copied to the peak
 * columns (a dirty list: cost proportional to what changed, never to the
 * trie), so the peak view is the live view at the highest point reached.
 *
 * Over time.  Each sample keeps its time in the block table; the sample and
 * its free (when seen) are summed per (leaf, bucket, bucket) in pm_alloctime,
 * which the model receives as its allocation records: what was allocated in
 * any range of the run, and whether it was freed, by stack.
 *
 * Locking: one mutex guards everything below except the thread-local fast
 * path and pm_blocks_maybe.  MEM/OBJ allocations hold the GIL; RAW ones may
 * not, hence the mutex.  The stack is read from the allocating thread's own
 * frames, which only that thread changes. */
#ifndef PM_ALLOC_H
#define PM_ALLOC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "model/pm_model.h"
#include "pm_alloctime.h"
#include "pm_blocks.h"
#include "pm_codecache.h"
#include "pm_layout.h"
#include "pm_natframes.h"
#include "pm_space.h"

/* Entries of pm_alloc.leaves (a power of two). */
#define PM_ALLOC_LEAVES 256

/* Fixed point of the allocation-count weights (1/P is rarely whole). */
#define PM_COUNT_ONE 1024

/* The thread-local state of the fast path.  initial-exec: a dlopen'd
 * extension would otherwise pay a __tls_get_addr call per allocation. */
typedef struct {
    int64_t left;       /* bytes to the next sample point */
    uint64_t gen;       /* session the countdown belongs to */
    uint64_t rng;       /* xorshift state */
    uint64_t tid;       /* OS thread id, 0 until first needed */
    size_t probe_seen;  /* start-up probe: the size the RAW hook last saw */
    int probe;          /* start-up probe running on this thread */
    int quiet;          /* pyrometer's own work on this thread: nothing is sampled */
    int in_native;      /* inside a native sample: what the collector itself
                         * allocates through hooked libraries passes through */
} pm_alloc_tls;

extern _Thread_local pm_alloc_tls pm_alloc_me __attribute__((tls_model("initial-exec")));

typedef struct {
    uint64_t t_ns;
    int64_t heap;       /* live estimate, bytes */
    int64_t rss;        /* bytes, -1 unknown */
} pm_alloc_point;

typedef struct pm_alloc {
    pm_profile *p;
    pm_layout L;
    pm_space space;
    pm_codecache codes;
    pthread_mutex_t lock;
    double rate;
    uint64_t gen;
    int exact;          /* rate 1: every allocation, weight = size */
    size_t big;         /* blocks of at least this size are all recorded, weight = size */
    int guarded;
    int finished;       /* pm_alloc_finish ran: the model is Python's now */

    pm_blocks blocks;
    pm_alloctime times;         /* samples and their frees over time */
    uint64_t seq;               /* samples taken */
    uint64_t tick;              /* code cache verification epoch */

    /* per node (indexed by trie node id), grown as nodes appear */
    int64_t *alloc_b, *alloc_c, *live_b, *live_c, *peak_b, *peak_c;
    uint64_t *stamp;            /* snapshot generation that last saw the node change */
    uint32_t ncap;
    uint32_t *dirty;            /* nodes changed since the last snapshot */
    uint32_t ndirty, dirty_cap;
    uint64_t snap_gen;

    int64_t live_total, live_count, peak_total, snap_total;
    int64_t alloc_total, alloc_count;
    uint64_t peak_t_ns;
    int64_t peak_rss, rss_max;
    int peak_pending;           /* the high has not been copied yet */

    pm_alloc_point *points;
    size_t npoints, points_cap;
    uint64_t point_every_ns, last_point_ns;

    uint64_t t0_ns;
    uint64_t t0_wall_ns;        /* the same moment on CLOCK_REALTIME (0 unknown) */
    uint64_t samples_lost;      /* samples that could not be stored */
    uint64_t frames_skipped;    /* frames whose code object could not be read */
    uint64_t truncated;         /* stacks deeper than PM_MAX_DEPTH */
    pm_id truncated_frame;
    /* scratch for a walk */
    uint64_t *raw_code;
    int64_t *raw_lasti;
    int *raw_owner;
    /* The last stack resolved, outermost frame first: the next sample
     * re-resolves only the frames below the part that did not change
     * (usually just the leaf).  A frame is reused only if its code object
     * was pinned then, so its address cannot have been reused since. */
    pm_id memo_thread;
    uint64_t memo_ident, memo_tid; /* the thread memo_thread is */
    int64_t rss_last;
    uint64_t rss_last_t;
    int memo_trunc;
    size_t memo_n;
    uint64_t *memo_code;
    int64_t *memo_lasti;
    uint8_t *memo_pinned;
    pm_id *memo_at;             /* node after the k outermost frames, k = 0..memo_n */
    pm_id memo_base;            /* the node memo_at[0] is: entry_node, or PM_NONE for the thread's root */
    /* The frame that runs the program (pyrometer run's _run_script and the
     * like, named by their code objects): its callers are the launcher's,
     * which wait for it and never change, so a walk that meets it at the
     * instruction it had stops there and goes on from the node it led to
     * (with exact sampling, the launcher's frames were 6 of about 10 read
     * per allocation).  A walk that meets it elsewhere (the program ended)
     * reads on and learns it again. */
    uint64_t entry_codes[4];
    size_t n_entry_codes;
    uint64_t entry_tstate, entry_frame, entry_code; /* 0 until a walk met one of the codes */
    int64_t entry_lasti;
    pm_id entry_thread, entry_node; /* PM_NONE until learned */
    size_t walk_entry;          /* set by a walk: the entry frame's index (leaf first), SIZE_MAX if not met */
    int walk_stopped;           /* set by a walk: it stopped at the entry frame */
    /* Frames resolved lately: (parent node, code, instruction, owner) ->
     * child node, direct-mapped.  The leaf of a loop moves from line to line;
     * this spares it the code cache and the trie's child map.  An entry is
     * used only while its code is trusted (pinned or watched) and no code
     * object was symbolised since (symbolized_at: a new object at a dead
     * one's address could otherwise be taken for it). */
    struct pm_alloc_leaf {
        uint64_t code;
        int64_t lasti;
        pm_id parent, node;
        uint32_t entry;         /* index in codes.entries */
        int owner;
    } leaves[PM_ALLOC_LEAVES];
    uint64_t leaves_symbolized; /* codes.symbolized when they were last valid */
    uint32_t clock_skip;        /* exact mode reads the clock once per 64 events... */
    uint64_t coarse_last;       /* ...or when the coarse clock moved */
    uint64_t last_t;

    /* Native allocations (malloc and mmap outside the interpreter): their
     * stacks end in native frames, named on first sight. */
    int native;                 /* native allocations are hooked in this session */
    pm_natframes *nat;          /* NULL until the first native sample */
    uint8_t *native_node;       /* per node: charged by native allocations */
    int64_t native_live, native_peak, native_alloc;
} pm_alloc;

/* NULL with a message in err on failure. */
pm_alloc *pm_alloc_new(const pm_layout *L, pm_profile *p, double rate, char *err, size_t errlen);
void pm_alloc_free(pm_alloc *a);
/* The code objects of the frames that run the program (at most 4): see
 * entry_codes.  Lock held. */
void pm_alloc_set_entry_codes(pm_alloc *a, const uint64_t *codes, size_t n);
void pm_alloc_start(pm_alloc *a);

/* The slow path of an allocation of size bytes at ptr (the fast path found
 * its countdown crossed zero, or stale): decides whether the block is
 * sampled and, if so, reads the stack of the thread whose state is at
 * tstate (0: none) and records it.  Runs on the allocating thread. */
void pm_alloc_slow(pm_alloc *a, uintptr_t ptr, size_t size, uint64_t tstate, uint64_t ident);

/* The same decision alone: the probability with which this block stands
 * sampled (its weight is size / it), or 0 when it is not sampled. */
double pm_alloc_due(pm_alloc *a, uintptr_t ptr, size_t size);

/* Records a sampled native allocation (pm_alloc_due said prob): the stack
 * is the thread's Python stack, then the native frames of ips (return
 * addresses, innermost first: the native code between the innermost Python
 * frame and the allocator), then the allocator's own frame (the name of the
 * function the program called, e.g. "malloc"). */
void pm_alloc_native(pm_alloc *a, uintptr_t ptr, size_t size, double prob, uint64_t tstate, uint64_t ident,
                     const uint64_t *ips, size_t nips, const char *allocator);

/* ptr is being freed (pm_blocks_maybe said it may be sampled). */
void pm_alloc_freed(pm_alloc *a, uintptr_t ptr);
/* realloc: the old block's entry, removed (1), or 0; pm_alloc_restore puts
 * it back when the realloc failed. */
int pm_alloc_take(pm_alloc *a, uintptr_t ptr, pm_block *out);
void pm_alloc_restore(pm_alloc *a, const pm_block *b);
/* A freed block's weights leave the live figures (after pm_alloc_take). */
void pm_alloc_release(pm_alloc *a, const pm_block *b);

/* For each of n block addresses, the trie node its sample was charged to,
 * or PM_NONE when the block was not sampled (or is no longer live).  Takes
 * the lock once; valid after pm_alloc_finish too (the table stays). */
void pm_alloc_lookup(pm_alloc *a, const uintptr_t *ptrs, size_t n, uint32_t *nodes);

/* Leaks are counted from here on. */
void pm_alloc_checkpoint(pm_alloc *a);
/* Code objects waiting for a strong reference (see pm_codecache). */
size_t pm_alloc_take_pins(pm_alloc *a, uint64_t *addrs, size_t max);
void pm_alloc_pinned(pm_alloc *a, uint64_t addr, int ok);

/* Writes the metrics, meta, timeline and allocation records into the
 * model; 0 or -1 (OOM).
 * Metrics (self values per node): alloc_objects, alloc_space (everything
 * sampled), inuse_objects, inuse_space (live at the end), peak_space,
 * peak_objects (live at the peak of the heap estimate), leak_space,
 * leak_objects (sampled after the last checkpoint and live at the end). */
int pm_alloc_finish(pm_alloc *a);

/* Resident set size of this process in bytes (/proc/self/statm), -1. */
int64_t pm_alloc_rss(void);

#endif
