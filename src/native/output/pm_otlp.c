/* pm_otlp.c — a timeline's calls as OpenTelemetry spans: an OTLP
 * ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1), the
 * protobuf body an OTLP/HTTP collector takes at /v1/traces.
 *
 *   resource_spans[0]  resource: service.name; scope_spans[0]: scope
 *                      "pyrometer", one span per slice (pm_slices.h):
 *     span  trace_id (one per profile), span_id, parent_span_id (the
 *           enclosing call on the same thread; none for a thread's
 *           outermost), name (the function), kind INTERNAL, start/end in
 *           Unix nanoseconds (the timeline's epoch plus its offsets),
 *           attributes code.function.name, code.file.path,
 *           code.line.number, thread.id, thread.name (the semantic
 *           conventions' names). */
#include <stdlib.h>
#include <string.h>

#include "pm_interchange.h"
#include "pm_outcommon.h"
#include "../codec/pm_protobuf.h"
#include "pm_slices.h"

int pm_write_otlp(const pm_profile *p, pm_buf *out)
{
    pm_spans all;
    if (pm_spans_collect(p, &all) != 0)
        return -1;
    const pm_ctext *c = &all.c;
    pm_buf spans = {0}, span = {0}, kv = {0}, any = {0}, name = {0}, tmp = {0};
    int rc = -1;
    uint8_t id[8];
    for (size_t i = 0; i < all.n; i++) {
        const pm_span *s = &all.v[i];
        const pm_frame *f = pm_frame_get(p, s->frame);
        const pm_thread *th = pm_thread_at(p, s->thread);
        span.len = name.len = 0;
        pm_pb_bytes(&span, 1, all.trace_id, 16);
        pm_spans_span_id(&all, i + 1, id);
        pm_pb_bytes(&span, 2, id, 8);
        if (s->parent) {
            pm_spans_span_id(&all, s->parent, id);
            pm_pb_bytes(&span, 4, id, 8);
        }
        pm_out_frame_name(p, c, s->frame, &name);
        pm_pb_bytes(&span, 5, name.data ? name.data : "", name.len);
        pm_pb_int(&span, 6, 1); /* SPAN_KIND_INTERNAL */
        pm_pb_fixed64(&span, 7, all.epoch_ns + s->start_ns);
        pm_pb_fixed64(&span, 8, all.epoch_ns + s->end_ns);
        pm_pb_keyvalue(&span, &kv, &any, 9, "code.function.name", name.data ? name.data : "", name.len, 0);
        pm_pb_keyvalue(&span, &kv, &any, 9, "code.file.path", c->ptr[f->file], c->len[f->file], 0);
        pm_pb_keyvalue(&span, &kv, &any, 9, "code.line.number", NULL, 0, f->line);
        pm_pb_keyvalue(&span, &kv, &any, 9, "thread.id", NULL, 0,
                   (int64_t)(th->native_id ? th->native_id : th->ident));
        tmp.len = 0;
        pm_out_thread_label(p, s->thread, &tmp);
        pm_pb_keyvalue(&span, &kv, &any, 9, "thread.name", tmp.data ? tmp.data : "", tmp.len, 0);
        pm_pb_bytes(&spans, 2, span.data, span.len);
        if (spans.oom || span.oom || kv.oom || any.oom || name.oom || tmp.oom)
            goto done;
    }
    /* ScopeSpans{scope, spans}, then ResourceSpans{resource, scope_spans}. */
    pm_buf scope = {0}, resource = {0}, rs = {0};
    pm_pb_bytes(&scope, 1, "pyrometer", 9);
    span.len = 0;
    pm_pb_bytes(&span, 1, scope.data, scope.len);
    pm_buf_put(&span, spans.data ? spans.data : "", spans.len);
    size_t slen = 0;
    const char *service = pm_spans_service(p, &slen);
    pm_pb_keyvalue(&resource, &kv, &any, 1, "service.name", service, slen, 0);
    pm_pb_bytes(&rs, 1, resource.data, resource.len);
    pm_pb_bytes(&rs, 2, span.data, span.len);
    pm_pb_bytes(out, 1, rs.data, rs.len);
    rc = scope.oom || resource.oom || rs.oom || span.oom || out->oom ? -1 : 0;
    pm_buf_free(&scope);
    pm_buf_free(&resource);
    pm_buf_free(&rs);
done:
    pm_spans_free(&all);
    pm_buf_free(&spans);
    pm_buf_free(&span);
    pm_buf_free(&kv);
    pm_buf_free(&any);
    pm_buf_free(&name);
    pm_buf_free(&tmp);
    return rc;
}
