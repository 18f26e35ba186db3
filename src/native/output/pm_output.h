/* pm_output.h — writers over the profile model (the readers: input/).
 * Plain C11, no Python.h.  Every writer reads only the model (pm_model.h) and
 * appends bytes to a pm_buf; the caller decides where the bytes go
 * (pm_file_write_atomic for files).
 */
#ifndef PM_OUTPUT_H
#define PM_OUTPUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../codec/pm_buf.h"
#include "../model/pm_model.h"

/* ---- aggregated per-function figures (report, API stats, pstats) ------- */
typedef struct {
    pm_id frame;
    int64_t self;   /* sum of self values of every node of this frame */
    int64_t total;  /* inclusive, each sample counted once even under recursion */
    int64_t samples_self;  /* same two figures for the "samples" metric */
    int64_t samples_total;
} pm_func_stat;

/* Aggregates metric m per frame over one thread (or all when thread ==
 * PM_NONE).  *out is malloc'd (NULL when the count is 0), sorted by self then
 * total, descending (then frame id).  Every frame that has a node in scope is
 * listed.  Returns the count, or -1 on OOM / invalid metric or thread. */
long pm_func_stats(const pm_profile *p, int m, pm_id thread, pm_func_stat **out);

/* ---- native file (.pyro): gzip'd JSON, lossless ------------------------ */
/* The schema is documented at the top of pm_pyro.c. */
/* 0, or -1 on OOM (out is then left as it was, unless it is out of memory). */
int pm_write_pyro(const pm_profile *p, pm_buf *out);

/* ---- collapsed stacks: "thread;outer;...;leaf COUNT\n" ----------------- */
/* Weights are metric m (use the "samples" metric for the classic format).
 * Frame labels are "name (file:line)"; with per_line the executing line is
 * used and stacks split by line, otherwise the function's first line.
 * Thread labels are the thread name ("thread <ident>" when unnamed), special
 * frames are their bare name, native frames without a file are "[name]";
 * ';' becomes ':' and CR/LF a space inside labels.  Stacks whose labels are
 * equal are merged; lines come in order of first appearance. */
int pm_write_collapsed(const pm_profile *p, int m, int per_line, pm_buf *out);

/* ---- terminal report ----------------------------------------------------- */
typedef struct {
    int metric;              /* metric shown as time (wall or cpu column) */
    double threshold_pct;    /* hide subtrees below this percent of their thread */
    int show_all;            /* no collapsing of library frames, no threshold */
    int color;               /* ANSI colours */
    int top_n;               /* rows in the top-functions table */
    int width;               /* terminal width used for truncating names (<= 0: none) */
    const char *const *library_prefixes; /* files under these are library code */
    size_t n_library_prefixes;
} pm_report_opts;

/* Defaults: first metric, 1% threshold, 20 rows, width 100, no colour, no
 * library prefixes (files "" and "<frozen ..." still count as library). */
void pm_report_opts_default(pm_report_opts *o);
/* o NULL means the defaults.  0, or -1 on OOM / invalid metric. */
int pm_write_report(const pm_profile *p, const pm_report_opts *o, pm_buf *out);

/* ---- files ------------------------------------------------------------- */
/* Writes to a temporary file beside `path`, then renames it into place, so a
 * reader never sees half a file.  0, or -1 with a one-line reason in err
 * ("cannot write PATH: REASON"); the temporary is removed on failure.  A
 * symlink at `path` is replaced, not followed. */
int pm_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
