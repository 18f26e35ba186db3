/* pm_num.c — locale-independent number formatting and parsing. */
#include "pm_num.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t pm_num_fmt_u64(char *out, uint64_t v)
{
    /* Hand-rolled: this runs once per number of a file with millions of
     * them, where snprintf's format parsing dominates. */
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t pm_num_fmt_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        /* Negate in unsigned arithmetic: -INT64_MIN overflows int64. */
        return 1 + pm_num_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return pm_num_fmt_u64(out, (uint64_t)v);
}

/* printf under a foreign locale may print the decimal point as ',' (or as a
 * multi-byte sequence): whatever is not part of the number's own alphabet is
 * the decimal point, so it is replaced by one '.'. */
static size_t pm_num_normalise_radix(char *s, size_t n)
{
    size_t o = 0;
    int in_radix = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int own = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E';
        if (own) {
            s[o++] = c;
            in_radix = 0;
        } else if (!in_radix) {
            s[o++] = '.';
            in_radix = 1;
        }
    }
    s[o] = '\0';
    return o;
}

size_t pm_num_fmt_double(char *out, double v)
{
    if (isnan(v)) {
        memcpy(out, "nan", 4);
        return 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(out, "-inf", 5);
            return 4;
        }
        memcpy(out, "inf", 4);
        return 3;
    }
    size_t n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        int k = snprintf(out, PM_NUM_MAX, "%.*g", prec, v);
        if (k <= 0 || k >= PM_NUM_MAX)
            return 0;
        n = pm_num_normalise_radix(out, (size_t)k);
        double back;
        if (pm_num_parse_double(out, n, &back) == 0 && back == v)
            break;
    }
    return n;
}

int pm_num_parse_double(const char *s, size_t len, double *out)
{
    char tmp[512];
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end = NULL;
    /* strtod_l with the C locale: the process locale may use ','.  Doubles
     * are rare (metadata only), so creating the locale per call is fine. */
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c != (locale_t)0) {
        *out = strtod_l(tmp, &end, c);
        freelocale(c);
    } else {
        *out = strtod(tmp, &end);
    }
    return end == tmp + len ? 0 : -1;
}
