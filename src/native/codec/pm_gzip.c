/* pm_gzip.c — streaming gzip compression and size-capped decompression. */
#include "pm_gzip.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* zlib counts in uInt: feed it at most this much per call. */
#define PM_GZ_CHUNK ((size_t)1 << 30)
/* Output room handed to zlib per call. */
#define PM_GZ_OUT_STEP ((size_t)1 << 18)

int pm_gz_begin(pm_gz_writer *w, pm_buf *out, int level)
{
    memset(&w->zs, 0, sizeof w->zs);
    w->out = out;
    w->failed = 0;
    /* windowBits 15 + 16: a gzip wrapper (not zlib), so `gunzip` and
     * Python's gzip module read the file directly. */
    if (deflateInit2(&w->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

static int pm_gz_run(pm_gz_writer *w, int flush)
{
    for (;;) {
        char *dst = pm_buf_reserve(w->out, PM_GZ_OUT_STEP);
        if (!dst)
            return -1;
        w->zs.next_out = (Bytef *)dst;
        w->zs.avail_out = (uInt)PM_GZ_OUT_STEP;
        int rc = deflate(&w->zs, flush);
        w->out->len += PM_GZ_OUT_STEP - w->zs.avail_out;
        if (rc == Z_STREAM_ERROR)
            return -1;
        if (flush == Z_FINISH) {
            if (rc == Z_STREAM_END)
                return 0;
        } else if (w->zs.avail_in == 0 && w->zs.avail_out != 0) {
            return 0;
        }
    }
}

int pm_gz_write(pm_gz_writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0 && !w->failed) {
        size_t n = len < PM_GZ_CHUNK ? len : PM_GZ_CHUNK;
        w->zs.next_in = (Bytef *)(uintptr_t)p;
        w->zs.avail_in = (uInt)n;
        if (pm_gz_run(w, Z_NO_FLUSH) != 0)
            w->failed = 1;
        p += n;
        len -= n;
    }
    return w->failed ? -1 : 0;
}

int pm_gz_end(pm_gz_writer *w)
{
    if (!w->failed) {
        w->zs.next_in = NULL;
        w->zs.avail_in = 0;
        if (pm_gz_run(w, Z_FINISH) != 0)
            w->failed = 1;
    }
    deflateEnd(&w->zs);
    return w->failed ? -1 : 0;
}

int pm_gz_is_gzip(const void *data, size_t len)
{
    const unsigned char *s = data;
    return len >= 2 && s[0] == 0x1f && s[1] == 0x8b;
}

int pm_gz_inflate(const void *data, size_t len, size_t cap, pm_buf *out, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        snprintf(err, errlen, "cannot start decompression");
        return -1;
    }
    const unsigned char *in = data;
    size_t in_left = len;
    size_t start = out->len;
    int rc = Z_OK;
    int result = -1;
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            size_t n = in_left < PM_GZ_CHUNK ? in_left : PM_GZ_CHUNK;
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = (uInt)n;
            in += n;
            in_left -= n;
        }
        /* Never let zlib write past the cap: the room offered shrinks as
         * the output approaches it.  Growth is driven by actual output,
         * never by the (attacker-controlled) size in the gzip trailer. */
        size_t produced = out->len - start;
        size_t room = PM_GZ_OUT_STEP;
        if (cap - produced < room)
            room = cap - produced + 1; /* one byte more detects the overflow */
        char *dst = pm_buf_reserve(out, room);
        if (!dst) {
            snprintf(err, errlen, "out of memory while decompressing");
            break;
        }
        zs.next_out = (Bytef *)dst;
        zs.avail_out = (uInt)room;
        uInt before_in = zs.avail_in;
        rc = inflate(&zs, Z_NO_FLUSH);
        out->len += room - zs.avail_out;
        if (out->len - start > cap) {
            snprintf(err, errlen, "decompressed size exceeds %zu bytes", cap);
            break;
        }
        if (rc == Z_STREAM_END) {
            if (zs.avail_in != 0 || in_left != 0)
                snprintf(err, errlen, "trailing data after the gzip stream");
            else
                result = 0;
            break;
        }
        if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
            snprintf(err, errlen, "corrupt gzip data (%s)", zs.msg ? zs.msg : "error");
            break;
        }
        /* Z_BUF_ERROR or Z_OK with nothing consumed or produced and no
         * input left: the stream ends early. */
        if (zs.avail_in == 0 && in_left == 0 && zs.avail_out != 0 && before_in == 0) {
            snprintf(err, errlen, "truncated gzip data");
            break;
        }
    }
    inflateEnd(&zs);
    if (out->data)
        out->data[out->len < out->cap ? out->len : out->cap - 1] = '\0';
    return result;
}
