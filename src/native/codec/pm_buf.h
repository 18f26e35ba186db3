/* pm_buf.h — the growable byte buffer every writer appends to and every
 * codec works on.  Plain C11, no Python.h. */
#ifndef PM_BUF_H
#define PM_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* set once an allocation failed; later appends are ignored */
} pm_buf;

void pm_buf_init(pm_buf *b);
void pm_buf_free(pm_buf *b);
void pm_buf_put(pm_buf *b, const void *s, size_t n);
void pm_buf_puts(pm_buf *b, const char *s);
void pm_buf_putc(pm_buf *b, char c);
void pm_buf_printf(pm_buf *b, const char *fmt, ...);
/* Room for n more bytes at b->data + b->len (the caller writes, then adds
 * what it wrote to b->len); NULL once out of memory. */
char *pm_buf_reserve(pm_buf *b, size_t n);
/* Numbers in the same text whatever the C locale (writers run inside a
 * host program that may have called setlocale).  Doubles are written with
 * the fewest digits that read back to the same value; a non-finite double is
 * written as nan, inf or -inf (JSON writers handle those themselves). */
void pm_buf_put_i64(pm_buf *b, int64_t v);
void pm_buf_put_u64(pm_buf *b, uint64_t v);
void pm_buf_put_double(pm_buf *b, double v);

#endif
