/* pm_text.c — sanitising and measuring text for the terminal. */
#include "pm_text.h"

#include <string.h>

#include "../codec/pm_utf8.h"

#define PM_ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */

/* Characters a terminal may act on rather than print. */
static int pm_text_unsafe(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f ||
           (cp >= 0x80 && cp <= 0x9f) ||        /* C1 controls (0x9b is CSI) */
           cp == 0x2028 || cp == 0x2029 ||      /* line / paragraph separator */
           (cp >= 0x202a && cp <= 0x202e) ||    /* bidi embeddings, overrides */
           (cp >= 0x2066 && cp <= 0x2069) ||    /* bidi isolates */
           cp == 0xfeff;
}

static int pm_text_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0xfe00 && cp <= 0xfe0f))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* One character at s: its byte length, its width, and whether it is
 * printed as is (0) or replaced by '?' (1). */
static size_t pm_text_step(const unsigned char *s, size_t n, int *width, int *replace)
{
    uint32_t cp;
    size_t k = pm_utf8_decode(s, n, &cp);
    if (k == 0 || pm_text_unsafe(cp)) {
        *width = 1;
        *replace = 1;
        return k ? k : 1;
    }
    *width = pm_text_width(cp);
    *replace = 0;
    return k;
}

/* Printable ASCII: one column, printed as is (the common case, so it
 * skips the decoder). */
static int pm_text_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

size_t pm_text_cols(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t cols = 0;
    for (size_t i = 0; i < len;) {
        if (pm_text_plain(s[i])) {
            i++;
            cols++;
            continue;
        }
        int w, rep;
        i += pm_text_step(s + i, len - i, &w, &rep);
        cols += (size_t)w;
    }
    return cols;
}

/* Appends s[a..b) sanitised; returns columns. */
static size_t pm_text_copy(pm_buf *b, const unsigned char *s, size_t from, size_t to)
{
    size_t cols = 0;
    for (size_t i = from; i < to;) {
        size_t run = i;
        while (run < to && pm_text_plain(s[run]))
            run++;
        if (run > i) {
            pm_buf_put(b, s + i, run - i);
            cols += run - i;
            i = run;
            continue;
        }
        int w, rep;
        size_t k = pm_text_step(s + i, to - i, &w, &rep);
        if (rep)
            pm_buf_putc(b, '?');
        else
            pm_buf_put(b, s + i, k);
        cols += (size_t)w;
        i += k;
    }
    return cols;
}

size_t pm_text_put(pm_buf *b, const char *str, size_t len, size_t max_cols, int keep_tail)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t total = pm_text_cols(str, len);
    if (total <= max_cols)
        return pm_text_copy(b, s, 0, len);
    if (max_cols == 0)
        return 0;
    size_t room = max_cols - 1; /* one column for the ellipsis */
    if (keep_tail) {
        /* Skip characters until what is left fits. */
        size_t i = 0, skipped = 0;
        while (i < len && total - skipped > room) {
            int w = 1, rep;
            i += pm_text_plain(s[i]) ? 1 : pm_text_step(s + i, len - i, &w, &rep);
            skipped += (size_t)w;
        }
        pm_buf_puts(b, PM_ELLIPSIS);
        return 1 + pm_text_copy(b, s, i, len);
    }
    size_t i = 0, used = 0;
    while (i < len) {
        int w = 1, rep;
        size_t k = pm_text_plain(s[i]) ? 1 : pm_text_step(s + i, len - i, &w, &rep);
        if (used + (size_t)w > room)
            break;
        used += (size_t)w;
        i += k;
    }
    size_t cols = pm_text_copy(b, s, 0, i);
    pm_buf_puts(b, PM_ELLIPSIS);
    return cols + 1;
}

void pm_text_spaces(pm_buf *b, size_t n)
{
    char *w = pm_buf_reserve(b, n);
    if (!w)
        return;
    memset(w, ' ', n);
    b->len += n;
    b->data[b->len] = '\0';
}
