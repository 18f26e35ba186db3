/* pm_report_cells.h — what every part of the terminal report prints with
 * (internal): the report's state, and its cells (numbers, percentages,
 * colours, frame names and locations).  Used by pm_report.c (header, top
 * table, profiler figures) and pm_report_tree.c (the per-thread call trees). */
#ifndef PM_REPORT_CELLS_H
#define PM_REPORT_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include "pm_output.h"

#define PM_ANSI_RESET "\x1b[0m"
#define PM_ANSI_BOLD "\x1b[1m"
#define PM_ANSI_DIM "\x1b[2m"
#define PM_ANSI_RED "\x1b[31m"
#define PM_ANSI_GREEN "\x1b[32m"
#define PM_ANSI_YELLOW "\x1b[33m"

typedef struct {
    const pm_profile *p;
    const pm_report_opts *o;
    pm_buf *out;
    int m;         /* the report metric */
    int seconds;   /* the metric is in nanoseconds: show seconds */
    int bytes;     /* the metric is in bytes: show K/M/G (powers of 1024) */
} pm_rep;

/* A metric value as shown: seconds with 3 decimals, bytes with a K/M/G
 * suffix, or an integer count. */
size_t pm_rep_fmt_value(const pm_rep *r, int64_t v, char *buf);
/* v as a percentage of whole, one decimal ("45.6%"); "-" when whole is 0. */
size_t pm_rep_fmt_pct(int64_t v, int64_t whole, char *buf);
/* A double with fixed decimals, locale-independent. */
size_t pm_rep_fmt_fixed(double v, int decimals, char *buf);
/* Right-aligns the text in `width` columns. */
void pm_rep_pad_left(pm_buf *b, const char *s, size_t len, size_t width);
/* Starts a colour when colours are on (and the code is not NULL). */
void pm_rep_color(const pm_rep *r, const char *code);
void pm_rep_reset(const pm_rep *r);
/* Colour for a share of the whole, by percent. */
const char *pm_rep_pct_color(int64_t v, int64_t whole);
/* A frame's printed name ("[name]" for native frames) and location
 * ("file:line"; none for special frames or an unknown file): their widths,
 * and appending them within max_cols (the name keeps its start, the
 * location its end).  Both return columns. */
size_t pm_rep_name_cols(const pm_rep *r, pm_id frame);
size_t pm_rep_loc_cols(const pm_rep *r, pm_id frame);
size_t pm_rep_put_name(const pm_rep *r, pm_id frame, size_t max_cols);
size_t pm_rep_put_loc(const pm_rep *r, pm_id frame, size_t max_cols);
#endif
