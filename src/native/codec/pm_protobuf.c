/* pm_protobuf.c — protocol-buffer field encodings (see pm_protobuf.h). */
#include "pm_protobuf.h"

#include <string.h>

void pm_pb_varint(pm_buf *b, uint64_t v)
{
    char tmp[10];
    int n = 0;
    while (v >= 0x80) {
        tmp[n++] = (char)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    tmp[n++] = (char)v;
    pm_buf_put(b, tmp, (size_t)n);
}

void pm_pb_tag(pm_buf *b, unsigned field, unsigned wire) { pm_pb_varint(b, ((uint64_t)field << 3) | wire); }

void pm_pb_int(pm_buf *b, unsigned field, int64_t v)
{
    if (v == 0)
        return;
    pm_pb_tag(b, field, 0);
    pm_pb_varint(b, (uint64_t)v);
}

void pm_pb_fixed64(pm_buf *b, unsigned field, uint64_t v)
{
    if (v == 0)
        return;
    pm_pb_tag(b, field, 1);
    char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (char)(v >> (8 * i));
    pm_buf_put(b, le, 8);
}

void pm_pb_bytes(pm_buf *b, unsigned field, const void *s, size_t n)
{
    pm_pb_tag(b, field, 2);
    pm_pb_varint(b, n);
    if (n)
        pm_buf_put(b, s, n);
}

void pm_pb_keyvalue(pm_buf *out, pm_buf *kv, pm_buf *any, unsigned field, const char *key, const char *str,
                    size_t len, int64_t num)
{
    any->len = kv->len = 0;
    if (str)
        pm_pb_bytes(any, 1, str, len);
    else {
        pm_pb_tag(any, 3, 0); /* int_value, 0 included */
        pm_pb_varint(any, (uint64_t)num);
    }
    pm_pb_bytes(kv, 1, key, strlen(key));
    pm_pb_bytes(kv, 2, any->data ? any->data : "", any->len);
    pm_pb_bytes(out, field, kv->data ? kv->data : "", kv->len);
}
