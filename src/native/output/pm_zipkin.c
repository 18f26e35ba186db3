/* pm_zipkin.c — a timeline's calls as Zipkin v2 spans: the JSON list that
 * Zipkin's POST /api/v2/spans takes (and Jaeger's Zipkin endpoint).
 *
 * One span per slice (pm_slices.h): traceId (32 hex digits, one per
 * profile), id, parentId (the enclosing call on the same thread; none for
 * a thread's outermost), name (the function), timestamp and duration in
 * microseconds (Unix time: the timeline's epoch plus its offsets; a
 * duration of at least 1, as Zipkin drops 0), localEndpoint.serviceName,
 * and tags (strings) code.function.name, code.file.path, code.line.number,
 * thread.id, thread.name.  No kind: a local call is neither side of an RPC. */
#include <stdlib.h>
#include <string.h>

#include "pm_interchange.h"
#include "../codec/pm_json.h"
#include "pm_outcommon.h"
#include "pm_slices.h"

static void pm_zk_hex(pm_buf *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    pm_buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        pm_buf_putc(out, digits[b[i] >> 4]);
        pm_buf_putc(out, digits[b[i] & 15]);
    }
    pm_buf_putc(out, '"');
}

static void pm_zk_tag(pm_buf *out, const char *key, const char *s, size_t len)
{
    pm_buf_putc(out, '"');
    pm_buf_puts(out, key);
    pm_buf_puts(out, "\":");
    pm_jw_str(out, s, len);
}

int pm_write_zipkin(const pm_profile *p, pm_buf *out)
{
    pm_spans all;
    if (pm_spans_collect(p, &all) != 0)
        return -1;
    const pm_ctext *c = &all.c;
    pm_buf name = {0}, tmp = {0}, svc = {0};
    int rc = -1;
    uint8_t id[8];
    size_t slen = 0;
    const char *service = pm_spans_service(p, &slen);
    pm_jw_str(&svc, service, slen);
    pm_buf_putc(out, '[');
    for (size_t i = 0; i < all.n; i++) {
        const pm_span *s = &all.v[i];
        const pm_frame *f = pm_frame_get(p, s->frame);
        const pm_thread *th = pm_thread_at(p, s->thread);
        name.len = tmp.len = 0;
        pm_out_frame_name(p, c, s->frame, &name);
        pm_buf_puts(out, i ? ",\n{\"traceId\":" : "\n{\"traceId\":");
        pm_zk_hex(out, all.trace_id, 16);
        pm_buf_puts(out, ",\"id\":");
        pm_spans_span_id(&all, i + 1, id);
        pm_zk_hex(out, id, 8);
        if (s->parent) {
            pm_buf_puts(out, ",\"parentId\":");
            pm_spans_span_id(&all, s->parent, id);
            pm_zk_hex(out, id, 8);
        }
        pm_buf_puts(out, ",\"name\":");
        pm_jw_str(out, name.data ? name.data : "", name.len);
        pm_buf_puts(out, ",\"timestamp\":");
        pm_buf_put_u64(out, (all.epoch_ns + s->start_ns) / 1000);
        pm_buf_puts(out, ",\"duration\":");
        uint64_t us = (s->end_ns - s->start_ns) / 1000;
        pm_buf_put_u64(out, us ? us : 1);
        pm_buf_puts(out, ",\"localEndpoint\":{\"serviceName\":");
        pm_buf_put(out, svc.data, svc.len);
        pm_buf_puts(out, "},\"tags\":{");
        pm_zk_tag(out, "code.function.name", name.data ? name.data : "", name.len);
        pm_buf_putc(out, ',');
        pm_zk_tag(out, "code.file.path", c->ptr[f->file], c->len[f->file]);
        pm_buf_puts(out, ",\"code.line.number\":\"");
        pm_buf_put_i64(out, f->line);
        pm_buf_puts(out, "\",\"thread.id\":\"");
        pm_buf_put_u64(out, th->native_id ? th->native_id : th->ident);
        pm_buf_puts(out, "\",");
        pm_out_thread_label(p, s->thread, &tmp);
        pm_zk_tag(out, "thread.name", tmp.data ? tmp.data : "", tmp.len);
        pm_buf_puts(out, "}}");
        if (out->oom || name.oom || tmp.oom)
            goto done;
    }
    pm_buf_puts(out, all.n ? "\n]\n" : "]\n");
    rc = out->oom || svc.oom ? -1 : 0;
done:
    pm_spans_free(&all);
    pm_buf_free(&name);
    pm_buf_free(&tmp);
    pm_buf_free(&svc);
    return rc;
}
