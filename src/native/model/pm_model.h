/* pm_model.h — the profile model: the one data structure every collector feeds
 * and every writer reads.  Plain C11, no Python.h, so it builds and is unit
 * tested (and fuzzed) on its own.
 *
 * Shape:
 *   strings  interned UTF-8, id 0 is always ""            (pm_str_*)
 *   frames   interned (name, file, first line, kind)      (pm_frame_*)
 *   nodes    a trie of stacks: one node per (parent, frame, line); node 0 is
 *            the root.  Every thread owns one child of the root (frame
 *            PM_NONE) under which its stacks hang.  Each node carries *self*
 *            values for every metric of the profile; totals are derived.
 *   threads  (ident, native id, name, root node)
 *   timeline optional, bounded: time-ordered (t, thread, node) records,
 *            run-length: a record means "from t on, this thread is at this
 *            leaf"; it is written only when a thread's leaf changes.  node
 *            PM_NONE means the thread is not running Python that is being
 *            profiled (idle and left out, off-CPU in cpu mode, or exited).
 *            The profile's end is meta "duration_s".
 *   allocs   optional (memory mode): sampled allocations over time, as
 *            records (leaf node, bucket allocated in, bucket freed in or
 *            "live at the end", bytes, count); a bucket is bucket_ns wide
 *            and counts from the profile's start.  What was allocated in a
 *            time range, by stack, is a sum over its buckets.
 *   meta     ordered key/value pairs (strings or numbers): mode, rate,
 *            duration, python version, command line, quality figures.
 *
 * Conventions every collector and writer shares:
 *   metrics  "samples" (count), "wall" (nanoseconds), "cpu" (nanoseconds),
 *            "idle" (count: samples taken while the thread was off-CPU),
 *            "gil" (count: samples taken while the thread held the GIL),
 *            "gc" (count: samples taken while it held the GIL and the
 *            garbage collector ran).
 *            Deterministic modes add their own ("calls", ...).
 *   meta     "mode" (str: wall|cpu|...), "rate_hz", "duration_s", "start_unix",
 *            "python" (str), "command" (str), "pyrometer" (str version),
 *            "samples_expected", "samples_taken", "samples_torn" (thread
 *            stacks not read at one moment, not charged), "samples_captured"
 *            (thread stacks the running thread copied itself),
 *            "sampler_cpu_s" (the profiler's own CPU time),
 *            "samples_truncated" and "stack_depth_limit" (stacks cut to
 *            their innermost frames, and the limit; only when any was).
 *
 * All ids are dense uint32 indexes; nothing is ever removed, so an id stays
 * valid for the life of the profile.  Functions that allocate return PM_NONE
 * (or -1) on out-of-memory and leave the profile consistent.  Invalid ids
 * passed in are refused the same way (never a crash).
 *
 * The model is not thread-safe: a collector that feeds it from a sampling
 * thread serialises access itself.  Looking up an existing string, frame or
 * child node never allocates.
 */
#ifndef PM_MODEL_H
#define PM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PM_NONE UINT32_MAX
#define PM_MAX_METRICS 8
/* Meta is for a handful of figures; the cap keeps key lookup (a linear scan)
 * and hostile files cheap. */
#define PM_MAX_META 4096
#define PM_ROOT 0u

typedef uint32_t pm_id;

/* What a frame stands for.  Writers render non-Python kinds with brackets. */
typedef enum {
    PM_FRAME_PYTHON = 0, /* a Python code object */
    PM_FRAME_NATIVE = 1, /* a C function (builtins in calls mode) */
    PM_FRAME_SPECIAL = 2 /* a marker such as "<idle>" or "<truncated>" */
} pm_frame_kind;

typedef struct {
    pm_id name;      /* string id: qualified name */
    pm_id file;      /* string id: file name ("" when unknown) */
    int32_t line;    /* first line of the function (0 when unknown) */
    int32_t kind;    /* pm_frame_kind */
} pm_frame;

typedef struct {
    pm_id parent;    /* PM_NONE for the root */
    pm_id frame;     /* PM_NONE for the root and thread roots */
    int32_t line;    /* line executing in this frame (0 when unknown) */
    pm_id first_child;
    pm_id next_sibling;
    pm_id thread;    /* index of the owning thread, PM_NONE for the root */
    pm_id last_child; /* the child pm_node_child found last (a loop calls the
                         same callee again and again): checked before the map */
} pm_node;

typedef struct {
    uint64_t ident;     /* Python's thread ident (threading.get_ident()) */
    uint64_t native_id; /* OS thread id, 0 when unknown */
    pm_id name;         /* string id */
    pm_id root;         /* node id of this thread's root */
} pm_thread;

typedef struct {
    uint64_t t_ns;   /* nanoseconds since the profile started */
    pm_id thread;    /* thread index */
    pm_id node;      /* leaf node of the stack at that moment */
} pm_event;

typedef enum { PM_META_STR = 0, PM_META_NUM = 1 } pm_meta_kind;

typedef struct {
    pm_id key;       /* string id */
    int32_t kind;    /* pm_meta_kind */
    pm_id str;       /* string id when PM_META_STR */
    double num;      /* value when PM_META_NUM */
} pm_meta;

typedef struct {
    pm_id name;      /* e.g. "samples", "wall", "cpu", "idle", "gil" */
    pm_id unit;      /* e.g. "count", "nanoseconds" */
} pm_metric;

typedef struct pm_profile pm_profile;

/* ---- lifetime ---------------------------------------------------------- */
pm_profile *pm_profile_new(void);
void pm_profile_free(pm_profile *p);

/* ---- strings ----------------------------------------------------------- */
/* Interns `len` bytes (need not be NUL-terminated; may contain any byte). */
pm_id pm_str_intern(pm_profile *p, const char *s, size_t len);
pm_id pm_str_intern_cstr(pm_profile *p, const char *s);
/* The bytes are followed by a NUL (handy for C strings; a string may also
 * contain NULs, hence len_out).  The pointer stays valid until
 * pm_profile_free: strings never move.  NULL (and *len_out = 0) for an
 * invalid id.  len_out may be NULL. */
const char *pm_str_get(const pm_profile *p, pm_id id, size_t *len_out);
uint32_t pm_str_count(const pm_profile *p);

/* ---- frames ------------------------------------------------------------ */
pm_id pm_frame_intern(pm_profile *p, pm_id name, pm_id file, int32_t line, pm_frame_kind kind);
/* The "<truncated>" marker at the root of a stack cut at its innermost
 * frames (every collector that cuts stacks uses this one). */
pm_id pm_frame_truncated(pm_profile *p);
/* Renames a frame (e.g. to its qualified name once it is known).  0, or -1
 * when the id is bad or another frame already has the new key. */
int pm_frame_set_name(pm_profile *p, pm_id frame, pm_id name);
const pm_frame *pm_frame_get(const pm_profile *p, pm_id id);
uint32_t pm_frame_count(const pm_profile *p);

/* ---- metrics ----------------------------------------------------------- */
/* Declares a metric column; returns its index or -1 (full / OOM).  Declaring
 * a name that exists returns the existing index (the unit is not changed). */
int pm_metric_add(pm_profile *p, const char *name, const char *unit);
/* Same with interned string ids (names may then hold any byte). */
int pm_metric_add_id(pm_profile *p, pm_id name, pm_id unit);
int pm_metric_find(const pm_profile *p, const char *name); /* -1 if absent */
int pm_metric_count(const pm_profile *p);
const pm_metric *pm_metric_get(const pm_profile *p, int index);

/* ---- threads ----------------------------------------------------------- */
/* Finds or creates the thread with this ident and OS thread id (0: unknown,
 * matches any); creates its root node.  Idents are reused by CPython for new
 * threads, OS ids tell such threads apart. */
pm_id pm_thread_get(pm_profile *p, uint64_t ident, uint64_t native_id);
/* 0, or -1 on OOM / invalid thread. */
int pm_thread_set_name(pm_profile *p, pm_id thread, const char *name, size_t len);
const pm_thread *pm_thread_at(const pm_profile *p, pm_id thread);
uint32_t pm_thread_count(const pm_profile *p);

/* ---- the stack trie ---------------------------------------------------- */
/* Finds or creates the child of `parent` for (frame, line).  O(1) expected.
 * The root's children are the thread roots only, so parent PM_ROOT (like an
 * invalid parent or frame) gives PM_NONE. */
pm_id pm_node_child(pm_profile *p, pm_id parent, pm_id frame, int32_t line);
const pm_node *pm_node_get(const pm_profile *p, pm_id node);
uint32_t pm_node_count(const pm_profile *p);
/* Adds `v` to the self value of metric `m` at `node` (wrapping on int64
 * overflow); an invalid node or metric is ignored, and reads as 0. */
void pm_node_add(pm_profile *p, pm_id node, int m, int64_t v);
int64_t pm_node_value(const pm_profile *p, pm_id node, int m);
/* Inserts a whole stack, outermost frame first, under the thread's root and
 * returns the leaf (the thread root itself for an empty stack).  `lines` may
 * be NULL (every line 0).  PM_NONE on OOM or an invalid thread/frame. */
pm_id pm_stack_insert(pm_profile *p, pm_id thread, const pm_id *frames, const int32_t *lines, size_t depth);
/* Totals (self + all descendants) for metric m, for every node: fills
 * out[0..pm_node_count) .  Nodes are created after their parent, so one
 * reverse pass suffices.  An invalid metric gives zeros. */
void pm_totals(const pm_profile *p, int m, int64_t *out);

/* Re-roots every thread's stacks below a launcher's frames (pm_reroot.c):
 * kind[f] (pm_frame_count long) classes each frame; runner_ident is the
 * thread the launcher runs on (its top-level calls go). Node ids change; thread
 * roots, timeline events and allocation records follow. 0, or -1 on OOM (the profile unchanged). */
enum {
    PM_REROOT_KEEP = 0,       /* the program's, or anyone's */
    PM_REROOT_CHAIN = 1,      /* the launcher above the program */
    PM_REROOT_ENTRY = 2,      /* runs the program's code: its callees are the program */
    PM_REROOT_RUNPY = 3,      /* runpy on the way: CHAIN above ENTRY, PASS below */
    PM_REROOT_DROP = 4,       /* the launcher's work: gone with its callees */
    PM_REROOT_RUNPY_EXEC = 5, /* runpy's _run_code: CHAIN above ENTRY, ENTRY below */
    PM_REROOT_PASS = 6,       /* on the way to an ENTRY call; nothing else it calls stays */
    PM_REROOT_FOLD = 7,       /* pyrometer's hook called by the program: its values go to the caller */
};
int pm_profile_reroot(pm_profile *p, const uint8_t *kind, uint64_t runner_ident);

/* Adds src's stacks and values into dst (pm_merge.c): threads matched by
 * (ident, OS id), frames by key, metrics by name; dst's meta, timeline and
 * allocation records stay.  0, or -1 on OOM (dst then holds part of src). */
int pm_profile_merge(pm_profile *dst, const pm_profile *src);
/* The id in dst of src's string s (interned there); PM_NONE on OOM. */
pm_id pm_str_copy(pm_profile *dst, const pm_profile *src, pm_id s);
/* A new profile holding only the stacks ending at leaves[0..n) of src (one
 * part of the program's work, e.g. a web request), leaf i charged
 * values[i * PM_MAX_METRICS + m] for each metric m of src (same columns).
 * Threads keep their idents and names; no timeline, no meta.  Invalid or
 * root leaves are skipped.  NULL on OOM (pm_extract.c). */
pm_profile *pm_profile_extract(const pm_profile *src, const pm_id *leaves, const int64_t *values, size_t n);
/* The same into an existing profile, metric columns matched by name (added
 * when missing).  0, or -1 on OOM. */
int pm_profile_add_stacks(pm_profile *dst, const pm_profile *src, const pm_id *leaves, const int64_t *values,
                          size_t n);

/* ---- timeline ---------------------------------------------------------- */
/* Enables the timeline with room for `capacity` events (0 disables). */
int pm_timeline_enable(pm_profile *p, size_t capacity);
/* Adds an event at its place in time (after those of the same time; late
 * ones are rare and a few events back); returns 0, or 1 when the timeline is full (the event is
 * dropped and counted), -1 when disabled.  Storage grows on demand up to the
 * capacity; an allocation failure also drops and counts (returns 1).  An
 * event whose thread is invalid, or whose node is neither PM_NONE nor a node
 * of that thread, is refused (-1) so that a written file always reads back.
 * Calling pm_timeline_enable again changes the capacity (not below the events
 * already held: -1); 0 disables and forgets the events and drop count. */
int pm_timeline_add(pm_profile *p, uint64_t t_ns, pm_id thread, pm_id node);
const pm_event *pm_timeline_events(const pm_profile *p, size_t *count);
uint64_t pm_timeline_dropped(const pm_profile *p);
/* Counts n events dropped outside the model (a collector's own buffer, a
 * file being read back).  No effect while the timeline is disabled. */
void pm_timeline_add_dropped(pm_profile *p, uint64_t n);
size_t pm_timeline_capacity(const pm_profile *p);
/* Meta key: the wall-clock time (ns since the Unix epoch) of the
 * timeline's zero, which the collectors note when they start, for the
 * formats that need absolute times (OTLP, Zipkin). */
#define PM_META_TIMELINE_EPOCH "timeline_epoch_ns"
/* on: a full timeline makes room by dropping its oldest quarter (counted as
 * dropped) instead of refusing the new event — what a trace of calls wants
 * (the end of a run, where it failed, matters most).  Each event is a whole
 * stack (its node), so what remains still reads as balanced slices. */
void pm_timeline_keep_newest(pm_profile *p, int on);

/* ---- allocations over time (pm_allocs.c) -------------------------------- */
/* What the memory collector's samples stood for, grouped by (leaf, bucket of
 * the allocation, bucket of the free).  Buckets are bucket_ns wide from the
 * profile's start (the zero of meta memory_timeline). */
typedef struct {
    pm_id node;      /* leaf the allocations were charged to */
    uint32_t at;     /* bucket they were allocated in */
    uint32_t freed;  /* bucket they were freed in, >= at; PM_NONE: live at the end */
    int64_t bytes;   /* bytes they stand for */
    int64_t count;   /* allocations they stand for */
} pm_alloc_rec;

/* Turns the section on with buckets of bucket_ns (> 0) nanoseconds; 0 turns
 * it off and forgets the records.  A width cannot change while records are
 * held (-1). */
int pm_allocs_enable(pm_profile *p, uint64_t bucket_ns);
uint64_t pm_allocs_bucket_ns(const pm_profile *p); /* 0: no section */
/* Appends a record.  0, or -1 when the section is off, the node is the root
 * or not a node, freed < at, or on OOM.  Records may share a key until
 * pm_allocs_normalize. */
int pm_allocs_add(pm_profile *p, const pm_alloc_rec *r);
/* Sorts the records by (at, freed, node) and merges those with one key
 * (drops the ones left at zero): a range of time is then a run of records. */
void pm_allocs_normalize(pm_profile *p);
const pm_alloc_rec *pm_allocs_records(const pm_profile *p, size_t *count);

/* ---- metadata ---------------------------------------------------------- */
/* Setting an existing key replaces its value (keeping its position).
 * 0, or -1 on OOM / invalid id / more than PM_MAX_META keys. */
int pm_meta_set_str(pm_profile *p, const char *key, const char *value);
int pm_meta_set_num(pm_profile *p, const char *key, double value);
/* An exact unsigned integer, as a string of decimal digits (a double holds
 * only 53 bits: a time in nanoseconds since 1970 would lose its last). */
int pm_meta_set_u64(pm_profile *p, const char *key, uint64_t value);
/* Same with interned string ids (keys and values may then hold any byte). */
int pm_meta_set_str_id(pm_profile *p, pm_id key, pm_id value);
int pm_meta_set_num_id(pm_profile *p, pm_id key, double value);
const pm_meta *pm_meta_find(const pm_profile *p, const char *key);
const pm_meta *pm_meta_at(const pm_profile *p, uint32_t i);
uint32_t pm_meta_count(const pm_profile *p);

/* Approximate bytes held by the profile (for the quality block and tests). */
size_t pm_profile_memory(const pm_profile *p);

#endif
