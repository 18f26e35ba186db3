/* pm_linetable.h — instruction offset → line number, decoded from the bytes
 * of a code object's line table, for each format CPython has used since 3.9.
 * No Python.h: the table is copied out of the interpreter's memory. */
#ifndef PM_LINETABLE_H
#define PM_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Fills lines[0..n_units) with the line of each code unit (2-byte
 * instruction word); -1 where the table says "no line".  kind is a
 * pm_lines_kind (pm_layout.h). */
void pm_linetable_build(int kind, const uint8_t *table, size_t len, int firstlineno,
                        int32_t *lines, size_t n_units);

#endif
