/* pm_text.h — terminal-safe text (internal to the writers).
 *
 * Names in a profile come from the profiled program and may hold anything:
 * newlines, ANSI escape sequences, bidi overrides, invalid UTF-8.  The
 * terminal report prints them through these functions, which replace every
 * such character by '?', so a hostile name cannot break the layout or
 * drive the terminal.  Widths are counted in terminal columns (wide East
 * Asian characters 2, combining marks 0 — an approximation of wcwidth that
 * does not depend on the locale). */
#ifndef PM_TEXT_H
#define PM_TEXT_H

#include <stddef.h>

#include "pm_output.h"

#define PM_TEXT_UNLIMITED ((size_t)-1)

/* Columns s takes once sanitised. */
size_t pm_text_cols(const char *s, size_t len);
/* Appends s sanitised, in at most max_cols columns: when it does not fit,
 * its end (or, with keep_tail, its start) is replaced by "…".  Returns the
 * columns written. */
size_t pm_text_put(pm_buf *b, const char *s, size_t len, size_t max_cols, int keep_tail);
/* Appends n spaces. */
void pm_text_spaces(pm_buf *b, size_t n);

#endif
