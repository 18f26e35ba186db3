/* pm_strread.h — copy a Python str out of an address space as UTF-8. */
#ifndef PM_STRREAD_H
#define PM_STRREAD_H

#include <stddef.h>
#include <stdint.h>

#include "pm_layout.h"
#include "pm_space.h"

/* Longest name kept: 1024 code points, 4 bytes each. */
#define PM_STR_MAX_CHARS 1024
#define PM_STR_MAX_UTF8 (PM_STR_MAX_CHARS * 4 + 4)

/* Reads the compact str at addr into out (not NUL-terminated) and sets *len.
 * Lone surrogates are kept as their 3-byte (invalid UTF-8) form so nothing
 * is lost; writers escape them.  Longer strings are cut.  0 or -1. */
int pm_str_read(pm_space *s, const pm_layout *L, uint64_t addr, char *out, size_t cap, size_t *len);

#endif
