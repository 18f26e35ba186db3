/* pm_diff.h — comparing two sides of profiles (BASE runs, NEW runs): per
 * function self/total change with its noise, the judgement of regressions,
 * the text table and the differential profile the viewer colours.
 * Plain C, no Python.h: `pyrometer diff` (cli/diff.py) only parses options. */
#ifndef PM_DIFF_H
#define PM_DIFF_H

#include "pm_output.h"

enum { PM_DIFF_NORM_NONE = 0, PM_DIFF_NORM_TOTAL = 1, PM_DIFF_NORM_SAMPLES = 2 };

typedef struct {
    const char *metric; /* NULL: the one the profiles' mode measures */
    int normalize;      /* PM_DIFF_NORM_* */
    double threshold;   /* percent: smaller relative changes are not reported */
    double min_share;   /* percent of BASE's total: smaller absolute changes are not reported */
} pm_diff_opts;

typedef struct {
    char *name, *file; /* owned */
    int line;
    double base_self, new_self, base_total, new_total; /* means over the runs, normalised */
    double noise_self, noise_total;                     /* what the runs' own spread allows */
    int sig_self, sig_total;                            /* change beyond noise, threshold and floor */
} pm_diff_row;

typedef struct {
    pm_diff_row *rows; /* sorted: largest self change first, then total change */
    size_t n;
    char metric[64], unit[32], mode[32];
    size_t nbase, nnew;
    int normalize;
    double threshold, min_share;
    double base_total, new_total, noise_total; /* the whole profile */
    pm_profile *flame; /* NEW's stacks (metric) with BASE's on the same paths ("base:" metric) */
} pm_diff;

/* Compares; 0, or -1 with a one-line reason in err (modes differ, metric
 * missing, out of memory).  d is owned by the caller (pm_diff_free). */
int pm_diff_compute(pm_profile *const *base, size_t nb, pm_profile *const *nw, size_t nn, const pm_diff_opts *o,
                    pm_diff *d, char *err, size_t errlen);
void pm_diff_free(pm_diff *d);
/* The table: the totals, then slower and faster functions (at most top rows each). */
void pm_diff_write_text(const pm_diff *d, int top, pm_buf *out);
/* Regressions beyond pct percent (the total, or a function's self or total,
 * changed beyond the noise): one line each into out; returns their count. */
long pm_diff_regressions(const pm_diff *d, double pct, pm_buf *out);

#endif
