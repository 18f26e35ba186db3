/* pm_protobuf.h — the few protocol-buffer encodings the binary formats
 * (pprof, OTLP) write by hand: varints, fixed64 and length-delimited
 * fields.  proto3: a zero integer is the default and is left out. */
#ifndef PM_PROTOBUF_H
#define PM_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "pm_buf.h"

void pm_pb_varint(pm_buf *b, uint64_t v);
void pm_pb_tag(pm_buf *b, unsigned field, unsigned wire);
/* A varint field (int64, uint64, enum, bool); nothing when v is 0. */
void pm_pb_int(pm_buf *b, unsigned field, int64_t v);
/* A fixed64 field; nothing when v is 0. */
void pm_pb_fixed64(pm_buf *b, unsigned field, uint64_t v);
/* A length-delimited field: bytes, a string or an embedded message. */
void pm_pb_bytes(pm_buf *b, unsigned field, const void *s, size_t n);

/* OpenTelemetry's common KeyValue{key, AnyValue{string_value, or
 * int_value when str is NULL}} as field `field` of out (OTLP traces and
 * profiles); kv and any are scratch buffers. */
void pm_pb_keyvalue(pm_buf *out, pm_buf *kv, pm_buf *any, unsigned field, const char *key, const char *str,
                    size_t len, int64_t num);

#endif
