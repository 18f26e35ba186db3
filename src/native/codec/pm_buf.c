/* pm_buf.c — the growable byte buffer every writer appends to.
 *
 * Failure is sticky (b->oom) rather than returned by every append, so
 * writers can append freely and check once at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_num.h"
#include "pm_buf.h"

void pm_buf_init(pm_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

void pm_buf_free(pm_buf *b)
{
    free(b->data);
    pm_buf_init(b);
}

char *pm_buf_reserve(pm_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->cap - b->len > n)  /* keep one spare byte for a NUL */
        return b->data + b->len;
    if (n >= SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return NULL;
    }
    size_t need = b->len + n + 1;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    char *nd = realloc(b->data, ncap);
    if (!nd) {
        b->oom = 1;
        return NULL;
    }
    b->data = nd;
    b->cap = ncap;
    return b->data + b->len;
}

void pm_buf_put(pm_buf *b, const void *s, size_t n)
{
    if (n == 0)
        return;
    char *w = pm_buf_reserve(b, n);
    if (!w)
        return;
    memcpy(w, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pm_buf_puts(pm_buf *b, const char *s)
{
    pm_buf_put(b, s, strlen(s));
}

void pm_buf_putc(pm_buf *b, char c)
{
    char *w = pm_buf_reserve(b, 1);
    if (!w)
        return;
    w[0] = c;
    b->len++;
    b->data[b->len] = '\0';
}

void pm_buf_printf(pm_buf *b, const char *fmt, ...)
{
    char *w = pm_buf_reserve(b, 128);
    if (!w)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        w = pm_buf_reserve(b, (size_t)n + 1);
        if (!w)
            return;
        va_start(ap, fmt);
        vsnprintf(w, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void pm_buf_put_i64(pm_buf *b, int64_t v)
{
    char *w = pm_buf_reserve(b, PM_NUM_MAX);
    if (!w)
        return;
    b->len += pm_num_fmt_i64(w, v);
    b->data[b->len] = '\0';
}

void pm_buf_put_u64(pm_buf *b, uint64_t v)
{
    char *w = pm_buf_reserve(b, PM_NUM_MAX);
    if (!w)
        return;
    b->len += pm_num_fmt_u64(w, v);
    b->data[b->len] = '\0';
}

void pm_buf_put_double(pm_buf *b, double v)
{
    char *w = pm_buf_reserve(b, PM_NUM_MAX);
    if (!w)
        return;
    b->len += pm_num_fmt_double(w, v);
    b->data[b->len] = '\0';
}
