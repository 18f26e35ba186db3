/* pm_remote_repr.c — bounded reprs of another process's simple objects, for
 * `pyrometer dump --locals`.  Only values whose layout is the same in every
 * supported version are decoded (str, int, float, bool, None); anything else
 * is named by its type, so a dump never calls into the target and never
 * prints more than a line per variable.  No Python.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pm_remote.h"
#include "pm_strread.h"

#define TP_NAME 24      /* PyTypeObject.tp_name: after the PyVarObject header (3.9-3.13) */
#define FLOAT_VALUE 16  /* PyFloatObject.ob_fval */
#define LONG_DIGITS 24  /* PyLongObject: the 30-bit digits */
#define REPR_MAX 80     /* characters of a str shown */

static int rd(pm_remote *r, uint64_t addr, void *dst, size_t len) { return pm_space_read(&r->space, addr, dst, len); }

/* An int of at most two 30-bit digits (what fits a signed 64-bit value
 * comfortably); longer ones are shown by their size. */
static void int_repr(pm_remote *r, uint64_t addr, char *out, size_t cap)
{
    int64_t size;
    uint64_t tag;
    if (rd(r, addr + 16, &tag, 8) != 0) {
        snprintf(out, cap, "<int>");
        return;
    }
    int negative;
    uint64_t ndigits;
    if (r->minor >= 12) { /* lv_tag: digits << 3 | sign (0 positive, 1 zero, 2 negative) */
        ndigits = tag >> 3;
        negative = (tag & 3) == 2;
    } else {
        memcpy(&size, &tag, 8);
        negative = size < 0;
        ndigits = (uint64_t)(size < 0 ? -size : size);
    }
    if (ndigits > 2) {
        snprintf(out, cap, "<int of %" PRIu64 " digits>", ndigits * 30 * 3 / 10);
        return;
    }
    uint32_t d[2] = {0, 0};
    if (ndigits && rd(r, addr + LONG_DIGITS, d, 4 * ndigits) != 0) {
        snprintf(out, cap, "<int>");
        return;
    }
    uint64_t v = (uint64_t)d[0] | ((uint64_t)d[1] << 30);
    snprintf(out, cap, "%s%" PRIu64, negative ? "-" : "", v);
}

static void str_repr(pm_remote *r, uint64_t addr, char *out, size_t cap)
{
    char buf[PM_STR_MAX_UTF8];
    size_t len = 0;
    if (pm_str_read(&r->space, &r->L, addr, buf, sizeof buf, &len) != 0) {
        snprintf(out, cap, "<str>");
        return;
    }
    size_t o = 0, shown = 0;
    out[o++] = '\'';
    for (size_t i = 0; i < len && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c & 0xc0) != 0x80 && ++shown > REPR_MAX) {
            o += (size_t)snprintf(out + o, cap - o, "...");
            break;
        }
        if (c == '\'' || c == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (o + 2 <= cap) {
        out[o++] = '\'';
        out[o] = 0;
    } else {
        out[cap - 1] = 0;
    }
}

void pm_remote_repr(pm_remote *r, uint64_t addr, char *out, size_t cap)
{
    /* A local's slot on 3.14+ is a _PyStackRef: its low bits say how the
     * reference is owned (and NULL is a tag alone), not where the object is. */
    addr &= r->L.fr_code_mask;
    if (!addr) {
        snprintf(out, cap, "<unbound>");
        return;
    }
    if (addr == r->types[PM_RT_NONE]) {
        snprintf(out, cap, "None");
        return;
    }
    uint64_t type;
    if (rd(r, addr + r->L.ob_type, &type, 8) != 0) {
        snprintf(out, cap, "<unreadable>");
        return;
    }
    if (type == r->types[PM_RT_BOOL]) {
        snprintf(out, cap, "%s", addr == r->types[PM_RT_TRUE] ? "True" : "False");
    } else if (type == r->types[PM_RT_STR]) {
        str_repr(r, addr, out, cap);
    } else if (type == r->types[PM_RT_INT]) {
        int_repr(r, addr, out, cap);
    } else if (type == r->types[PM_RT_FLOAT]) {
        double v;
        if (rd(r, addr + FLOAT_VALUE, &v, 8) == 0)
            snprintf(out, cap, "%.17g", v);
        else
            snprintf(out, cap, "<float>");
    } else {
        uint64_t name_ptr;
        char name[64] = "";
        if (rd(r, type + TP_NAME, &name_ptr, 8) == 0 && name_ptr) {
            /* The name may end before 63 bytes, at the end of a page: read
             * what can be read. */
            for (size_t n = sizeof name - 1; n >= 8; n /= 2)
                if (rd(r, name_ptr, name, n) == 0) {
                    name[n] = 0;
                    break;
                }
        }
        name[strnlen(name, sizeof name - 1)] = 0;
        for (char *p = name; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                *p = '?';
        snprintf(out, cap, "<%s>", name[0] ? name : "object");
    }
}
