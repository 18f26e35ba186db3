/* pm_json.h — the small JSON writer and pull reader behind the .pyro format
 * (internal to the writers; speedscope/Chrome writers can reuse them).
 *
 * Strings are bytes.  The writer emits valid UTF-8 as is and each byte of an
 * ill-formed sequence as the lone surrogate \udcXX (Python's surrogateescape),
 * so the output is JSON that Python's json module loads, and the reader maps
 * \udc80-\udcff back to the byte: bytes -> JSON -> bytes is exact.
 *
 * The reader is a pull parser: the caller asks for the value it expects
 * (object, array, string, integer, ...) and the reader checks it is there.
 * It never recurses (pm_jr_skip walks nesting with a bounded bit stack),
 * checks every bound, and keeps the first error with its byte offset.
 */
#ifndef PM_JSON_H
#define PM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "pm_buf.h"

/* ---- writer ---------------------------------------------------------------- */
/* A quoted, escaped JSON string for the bytes s[0..len). */
void pm_jw_str(pm_buf *b, const char *s, size_t len);
/* A JSON number; non-finite values (which JSON lacks) as the strings "nan",
 * "inf", "-inf" — callers that need them back must expect those. */
void pm_jw_double(pm_buf *b, double v);

/* ---- reader ---------------------------------------------------------------- */
#define PM_JR_MAX_DEPTH 512

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    int fresh;      /* just after '[' or '{': no ',' expected before the next item */
    int failed;
    char msg[192];  /* first error, with its byte offset */
} pm_jr;

void pm_jr_init(pm_jr *r, const char *s, size_t len);
/* Records an error (the first one wins); always returns -1. */
int pm_jr_fail(pm_jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first byte of the next value after whitespace ('{', '[', '"', 'n',
 * 't', 'f', '-' or a digit), or -1 at the end of input. */
int pm_jr_peek(pm_jr *r);

/* Objects: begin consumes '{'; next returns 1 with the member's key decoded
 * into *key (and ':' consumed), 0 after the closing '}', -1 on error. */
int pm_jr_object_begin(pm_jr *r);
int pm_jr_object_next(pm_jr *r, pm_buf *key);
/* Arrays: begin consumes '['; next returns 1 when an element follows, 0
 * after the closing ']', -1 on error.  next must follow begin directly. */
int pm_jr_array_begin(pm_jr *r);
int pm_jr_array_next(pm_jr *r);

/* Scalars: 0, or -1 (with an error) when the next value is not one. */
int pm_jr_string(pm_jr *r, pm_buf *out); /* out is reset, then filled */
int pm_jr_i64(pm_jr *r, int64_t *v);     /* integer literals only */
int pm_jr_u64(pm_jr *r, uint64_t *v);
int pm_jr_double(pm_jr *r, double *v);
/* 1 and consumed when the next value is null, 0 when it is something else. */
int pm_jr_null(pm_jr *r);
/* Skips one value of any type, validating it. */
int pm_jr_skip(pm_jr *r);
/* 0 when nothing but whitespace remains. */
int pm_jr_end(pm_jr *r);

#endif
