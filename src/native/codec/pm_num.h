/* pm_num.h — locale-independent number text (internal to the writers).
 *
 * The writers run inside a host program that may have called setlocale(),
 * which changes the decimal point printf and strtod use; every number in a
 * file must nevertheless read back the same anywhere. */
#ifndef PM_NUM_H
#define PM_NUM_H

#include <stddef.h>
#include <stdint.h>

#define PM_NUM_MAX 40 /* room for any text these functions produce */

size_t pm_num_fmt_u64(char *out, uint64_t v);
size_t pm_num_fmt_i64(char *out, int64_t v);
/* The shortest of %.15g/%.16g/%.17g that parses back to v, with '.' as the
 * decimal point; "nan", "inf", "-inf" for non-finite values. */
size_t pm_num_fmt_double(char *out, double v);
/* Parses a decimal floating-point literal with '.' as the decimal point
 * (the whole of s[0..len) must be consumed).  0, or -1. */
int pm_num_parse_double(const char *s, size_t len, double *out);

#endif
