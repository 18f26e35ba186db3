/* pm_utf8.h — strict UTF-8 decoding (internal to the writers).
 *
 * Names in a profile are arbitrary bytes (file names on Linux are; code
 * objects can be given any name).  Writers that need text (JSON, the
 * terminal) decode with this and deal with invalid bytes one at a time. */
#ifndef PM_UTF8_H
#define PM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one well-formed sequence at s[0..n): returns its length (1-4) and
 * the code point, or 0 when s[0] does not start one (overlong forms,
 * surrogates, values above U+10FFFF, truncated and stray bytes are all
 * ill-formed).  n must be at least 1. */
size_t pm_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Appends the UTF-8 encoding of cp (at most 4 bytes) to out; returns the
 * length, 0 for a value that has none. */
size_t pm_utf8_encode(uint32_t cp, unsigned char *out);

/* A hexadecimal digit's value, -1 for any other character. */
static inline int pm_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
