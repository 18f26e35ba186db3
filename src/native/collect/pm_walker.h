/* pm_walker.h — reads the interpreter's thread list and each thread's stack
 * as raw frames (code object address + instruction index), through a
 * pm_space, without the GIL.  Symbolising and validating code objects is the
 * resolver's job (pm_resolve.h).  No Python.h.
 */
#ifndef PM_WALKER_H
#define PM_WALKER_H

#include <stddef.h>
#include <stdint.h>

#include "pm_layout.h"
#include "pm_space.h"

/* Frames a walk reads, innermost first; a deeper stack is cut (and counted).
 * Above the default recursion limit (1000), and a bound on what one walk
 * costs: a walk costs its frames. */
#define PM_MAX_DEPTH 1024
#define PM_MAX_THREADS 4096
#define PM_MEMO_PAGES 64

typedef struct {
    uint64_t addr;    /* the frame's own address */
    uint64_t code;    /* code object address */
    int64_t lasti;    /* index of the current code unit; -1 when not started */
    int owner;        /* 3.11+: frame owner enum; -1 before */
    int entry;        /* the first frame an eval-loop call runs (3.9/3.10: every
                         frame; 3.11: is_entry; 3.12+: its caller is a C-stack
                         shim): where --native puts the eval loop's C frame */
} pm_raw_frame;

typedef struct {
    uint64_t tstate;
    uint64_t ident;       /* thread_id (pthread_t) */
    uint64_t native_id;   /* Linux tid, 0 when unknown */
    uint64_t frame;       /* top frame, 0 when the thread runs no Python */
    uint64_t chunk, stack_top; /* 3.11+: current data stack chunk and its top */
    uint64_t cframe;      /* 3.11/3.12 */
} pm_tinfo;

/* What the last walk of one thread saw, so the next walk can fetch the frames
 * it expects in one batched read instead of one read per frame. */
typedef struct {
    uint64_t *addrs;
    size_t n, cap;
    /* 3.11+: the data stack chunks that walk copied.  Their frames come
     * with their chunk's copy, never one by one: a deep recursion frees and
     * maps chunks as it crosses them, and a read of each stale frame would
     * fail on its own, one system call apiece. */
    struct { uint64_t lo, hi; } chunks[8];
    size_t nchunks;
    /* 3.9/3.10, another process: the pages its frame objects were on, in
     * that walk and the few before it (age: walks since).  A recursion's
     * frames come back out of the allocator on the same pages, not at the
     * same places, so the next walk's first batch reads them whole. */
    uint64_t pages[PM_MEMO_PAGES];
    uint8_t page_age[PM_MEMO_PAGES];
    size_t npages;
} pm_walk_memo;

typedef struct {
    const pm_layout *L;
    pm_space *space;
    pm_tinfo *threads;         /* this tick's threads, list order */
    size_t nthreads;
    pm_tinfo *prev;            /* last tick's, for speculation and cached tids */
    size_t nprev;
    int gil_locked;
    uint64_t gil_holder;
    int gc_collecting;         /* the garbage collector runs (in the GIL holder) */
    long tid_offset;           /* 3.9/3.10: offset of the tid in glibc's struct pthread, -1 unknown */
    /* scratch */
    uint8_t *tsbuf;
    pm_region *regions;
    uint8_t *copy, *copy2;     /* copies of data stack chunks (copy2: the second look) */
    pm_space_pages pages;      /* another process's pages read by this walk (read_frames) */
    struct page_slot *page_slots; /* and by address: open addressing, current when its gen is gen */
    size_t copy_cap, copy_len;
    struct { uint64_t lo, hi; size_t off; } spans[64];
    size_t nspans;
    uint64_t next_chunk;       /* the next older chunk not yet copied, 0 when none */
    uint8_t *spec, *spec2;     /* speculatively read frames (spec2: the second look) */
    size_t nspec_batch;        /* how many of them have a second look */
    uint64_t *spec_addr;
    uint8_t *spec_ok;
    size_t nspec, spec_cursor;
    uint64_t *seen;            /* cycle detection, open addressing */
    uint32_t *seen_gen;
    uint32_t gen;
    uint64_t torn_list;        /* thread lists that could not be read whole */
    unsigned copies;           /* reads of stack memory made by the current walk */
    uint64_t walk_top;         /* the current frame the walk started from */
    uint64_t top_after;        /* the current frame between the first batch's two copies */
    size_t held;               /* after a walk that returned -2: its frames, from the root,
                                  that a second look found unchanged */
    int patient;               /* no time limits: the thread read is stopped (self-check) */
    int snapshot;              /* the space is a copy the thread made at one moment (pm_capture) */
    int stopped;               /* the thread read is stopped: one read is a moment */
    struct frame_key *keys;    /* what each frame of the current walk looked like */
    size_t keys_cap;
    uint8_t *verify;           /* second reads of a walk's frames read late */
    const uint8_t **again;     /* per walked frame: its second look */
    size_t verify_cap;
} pm_walker;

int pm_walker_init(pm_walker *w, const pm_layout *L, pm_space *space);
void pm_walker_free(pm_walker *w);
void pm_memo_free(pm_walk_memo *m);

/* Reads the thread list and the GIL state.  Returns the thread count, or -1
 * when even the list head could not be read. */
long pm_walker_threads(pm_walker *w);

/* Walks one thread's stack, leaf first, into out[0..*depth).  Returns 0, or
 * -1 when no chain could be read (unreadable, or broken by a change under
 * us): nothing of it may be used, or -2 when the thread moved while the walk
 * read it: a chain was read, but its frames near the leaf may belong to
 * different moments; only the w->held outermost ones, which a second look
 * found unchanged, may be used.  *truncated is set when the stack is deeper
 * than cap. */
int pm_walker_stack(pm_walker *w, const pm_tinfo *t, pm_walk_memo *memo, pm_raw_frame *out,
                    size_t cap, size_t *depth, int *truncated);

/* Reads the thread's state again through the walker's space (its frame and
 * data stack fields); -1 if unreadable or no longer that thread. */
int pm_walker_reread(pm_walker *w, pm_tinfo *t);

/* Reads only the top frame of a thread (and its caller's address): enough
 * to tell that a thread which barely ran is still where it was. */
int pm_walker_top(pm_walker *w, const pm_tinfo *t, pm_raw_frame *top, uint64_t *back);

/* Reads a frame's code and instruction out of a copy of its first
 * L->fr_read bytes (the asyncio reader's suspended coroutine frames). */
void pm_walker_parse_frame(const pm_layout *L, const uint8_t *f, uint64_t addr, pm_raw_frame *rf);

/* Finds the tid's offset inside glibc's struct pthread by looking at the
 * calling thread's own (live) descriptor. */
long pm_tid_offset_find(uint64_t pthread_self_value, int tid);

#endif
