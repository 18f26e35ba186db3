/* pm_slices.h — a profile's timeline read as slices: the time each frame of
 * each thread's stack was open, which the Chrome trace and the span formats
 * (OTLP, Zipkin) each write in their own way. */
#ifndef PM_SLICES_H
#define PM_SLICES_H

#include "model/pm_model.h"
#include "pm_outcommon.h"

typedef struct {
    /* A frame opens at t_ns on thread (depth 0: outermost), outer first. */
    int (*open)(void *ctx, uint32_t thread, uint32_t depth, pm_id frame, uint64_t t_ns);
    /* The innermost open frame of thread (at depth) closes at t_ns. */
    int (*close)(void *ctx, uint32_t thread, uint32_t depth, uint64_t t_ns);
} pm_slice_fns;

/* Walks the timeline in time order.  When a thread's stack changes, frames
 * past the common prefix (compared by frame, so consecutive stacks in the
 * same functions are one slice even when the line moves) close, inner
 * first, and the new ones open, outer first: balanced per thread and
 * ordered by time.  A PM_NONE record (idle / not profiled) closes
 * everything; the end of the profile (meta duration_s, or the last record
 * when the timeline overflowed) closes what is left.  0, or -1 on OOM or
 * when a callback returned non-zero. */
int pm_slices_walk(const pm_profile *p, const pm_slice_fns *fn, void *ctx);

/* A slice as a span (OTLP, Zipkin): ids are indexes + 1 in the list. */
typedef struct {
    uint32_t thread, depth;
    pm_id frame;
    uint64_t start_ns, end_ns; /* on the timeline's clock */
    size_t parent;             /* the enclosing span's id, 0 for a thread's outermost */
} pm_span;

/* What both span formats write: every slice as a span, in the order they
 * open, the profile's strings as the writers print them, the trace's id
 * (derived from the profile's epoch and command, so that the same profile
 * written twice has the same ids; never all zero, which both formats
 * reserve for "none") and the epoch (pm_slices_epoch_ns). */
typedef struct {
    pm_span *v;
    size_t n;
    pm_ctext c;
    uint8_t trace_id[16];
    uint64_t epoch_ns;
} pm_spans;

/* 0, or -1 on OOM (nothing to free then). */
int pm_spans_collect(const pm_profile *p, pm_spans *out);
void pm_spans_free(pm_spans *s);
/* The 8-byte id of span `id` (an index + 1, as pm_span.parent). */
void pm_spans_span_id(const pm_spans *s, size_t id, uint8_t out[8]);
/* The service the spans are of: meta service_name, else "python". */
const char *pm_spans_service(const pm_profile *p, size_t *len);

/* Meta PM_META_TIMELINE_EPOCH: the wall-clock time (ns since the Unix
 * epoch) of the timeline's zero; 0 when the profile does not say (a file
 * of an older version, a user timer). */
uint64_t pm_slices_epoch_ns(const pm_profile *p);

#endif
