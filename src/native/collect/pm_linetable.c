/* pm_linetable.c — see pm_linetable.h.  Each decoder walks the table once and
 * paints the line of every address range it describes, so a sample costs one
 * array index instead of a table walk.  The semantics follow each version's
 * PyCode_Addr2Line exactly (including what an offset past a range maps to);
 * the test suite checks them against the interpreter for the whole stdlib. */
#include "pm_linetable.h"

#include "pm_layout.h"

static void paint(int32_t *lines, size_t n_units, size_t from_byte, size_t to_byte, int32_t line)
{
    size_t a = from_byte / 2, b = (to_byte + 1) / 2;
    if (b > n_units)
        b = n_units;
    for (size_t i = a; i < b; i++)
        lines[i] = line;
}

/* 3.9 co_lnotab: (address increment, signed line increment) byte pairs.  An
 * address maps to the line in force at the last increment not beyond it. */
static void build_lnotab(const uint8_t *t, size_t len, int first, int32_t *lines, size_t n)
{
    int32_t line = first;
    size_t addr = 0, start = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        size_t next = addr + t[i];
        if (next != addr) {
            paint(lines, n, start, next, line);
            start = next;
        }
        addr = next;
        line += (int8_t)t[i + 1];
    }
    paint(lines, n, start, n * 2, line);
}

/* 3.10 co_linetable: (byte length of range, signed line delta) pairs where a
 * delta of -128 means "no line" for that range. */
static void build_310(const uint8_t *t, size_t len, int first, int32_t *lines, size_t n)
{
    int32_t computed = first;
    size_t start = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        size_t end = start + t[i];
        int8_t delta = (int8_t)t[i + 1];
        int32_t line = -1;
        if (delta != -128) {
            computed += delta;
            line = computed;
        }
        paint(lines, n, start, end, line);
        start = end;
    }
}

/* 3.11+ location table: entries of one header byte (bit 7 set; bits 3-6 the
 * form; bits 0-2 the length in code units minus one) and form-specific
 * varints after it. */
static size_t scan_varint(const uint8_t *t, size_t len, size_t *i)
{
    size_t val = 0;
    unsigned shift = 0;
    while (*i < len) {
        uint8_t b = t[(*i)++];
        if (shift < 8 * sizeof(size_t) - 6)
            val |= (size_t)(b & 63) << shift;
        shift += 6;
        if (!(b & 64))
            break;
    }
    return val;
}

static int32_t scan_svarint(const uint8_t *t, size_t len, size_t *i)
{
    size_t u = scan_varint(t, len, i);
    return (u & 1) ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
}

static void build_locations(const uint8_t *t, size_t len, int first, int32_t *lines, size_t n)
{
    int32_t computed = first;
    size_t i = 0, unit = 0;
    while (i < len) {
        uint8_t h = t[i++];
        int form = (h >> 3) & 15;
        size_t units = (size_t)(h & 7) + 1;
        int32_t delta = 0;
        switch (form) {
        case 15: /* no location */
            break;
        case 14: /* long form: line delta, end line, column, end column */
            delta = scan_svarint(t, len, &i);
            scan_varint(t, len, &i);
            scan_varint(t, len, &i);
            scan_varint(t, len, &i);
            break;
        case 13: /* no columns */
            delta = scan_svarint(t, len, &i);
            break;
        case 10: case 11: case 12: /* one line, delta in the form: 2 column bytes */
            delta = form - 10;
            i += 2;
            break;
        default: /* short form, same line: 1 column byte */
            i += 1;
            break;
        }
        computed += delta;
        int32_t line = form == 15 ? -1 : computed;
        size_t end = unit + units;
        for (size_t u = unit; u < end && u < n; u++)
            lines[u] = line;
        unit = end;
        /* Skip to the next header byte, as CPython does, in case of padding. */
        while (i < len && !(t[i] & 128))
            i++;
    }
}

void pm_linetable_build(int kind, const uint8_t *table, size_t len, int firstlineno,
                        int32_t *lines, size_t n_units)
{
    for (size_t i = 0; i < n_units; i++)
        lines[i] = -1;
    switch (kind) {
    case PM_LINES_LNOTAB:
        build_lnotab(table, len, firstlineno, lines, n_units);
        break;
    case PM_LINES_310:
        build_310(table, len, firstlineno, lines, n_units);
        break;
    case PM_LINES_LOCATIONS:
        build_locations(table, len, firstlineno, lines, n_units);
        break;
    default:
        break;
    }
}
