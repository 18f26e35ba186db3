/* pm_gzip.h — gzip streams over pm_buf (internal to the writers). */
#ifndef PM_GZIP_H
#define PM_GZIP_H

#include <stddef.h>
#include <zlib.h>

#include "pm_buf.h"

/* A compressor fed in chunks, so a writer never holds the whole
 * uncompressed document next to the compressed one. */
typedef struct {
    z_stream zs;
    pm_buf *out;
    int failed;
} pm_gz_writer;

int pm_gz_begin(pm_gz_writer *w, pm_buf *out, int level); /* 0 or -1 */
int pm_gz_write(pm_gz_writer *w, const void *data, size_t len);
/* Finishes the stream and releases zlib's state; always call once after a
 * successful begin, even after a failed write.  0 or -1. */
int pm_gz_end(pm_gz_writer *w);

/* 1 when the data starts with the gzip magic. */
int pm_gz_is_gzip(const void *data, size_t len);
/* Inflates one complete gzip member into out (appended), refusing output
 * larger than cap and trailing bytes after the member.  0, or -1 with a
 * one-line reason in err. */
int pm_gz_inflate(const void *data, size_t len, size_t cap, pm_buf *out, char *err, size_t errlen);

#endif
