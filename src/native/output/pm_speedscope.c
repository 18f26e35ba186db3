/* pm_speedscope.c — speedscope's JSON file format
 * (https://www.speedscope.app/file-format-schema.json): one "sampled"
 * profile per thread over shared frames {name, file, line}.
 *
 * Each node with a non-zero value is one sample (its stack, outermost
 * first) weighted by that value, so 1,000,000 samples over 100,000 stacks
 * cost 100,000 entries.  The weight is the time metric (cpu in cpu mode,
 * else wall) with unit "nanoseconds", or a count metric with unit "none".
 * Frames carry the function's first line (speedscope merges by frame). */
#include <stdlib.h>
#include <string.h>

#include "pm_interchange.h"
#include "../codec/pm_json.h"
#include "pm_outcommon.h"

static void pm_ss_str(pm_buf *out, const pm_ctext *c, pm_id id)
{
    pm_jw_str(out, c->ptr[id], c->len[id]);
}

int pm_write_speedscope(const pm_profile *p, int m, pm_buf *out)
{
    if (m < 0)
        m = pm_out_time_metric(p);
    if (m < 0)
        m = pm_metric_find(p, "samples");
    if (m < 0)
        m = pm_metric_find(p, "calls");
    if (m < 0 && pm_metric_count(p) > 0)
        m = 0;
    if (m < 0 || m >= pm_metric_count(p))
        return -1;
    const char *unit = pm_str_get(p, pm_metric_get(p, m)->unit, NULL);
    const char *ss_unit = unit && strcmp(unit, "nanoseconds") == 0 ? "nanoseconds"
                          : unit && strcmp(unit, "bytes") == 0   ? "bytes"
                                                                 : "none";
    pm_ctext c;
    if (pm_ctext_init(&c, p) != 0)
        return -1;
    uint32_t nn = pm_node_count(p), nt = pm_thread_count(p), nf = pm_frame_count(p);
    /* Nodes bucketed by thread (counting sort), in id order. */
    uint32_t *start = calloc((size_t)nt + 2, sizeof(uint32_t));
    uint32_t *order = malloc(((size_t)nn + 1) * sizeof(uint32_t));
    pm_id *path = NULL;
    size_t pcap = 0;
    pm_buf tmp;
    pm_buf_init(&tmp);
    int rc = -1;
    if (!start || !order)
        goto done;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame != PM_NONE && nd->thread < nt && pm_node_value(p, i, m) != 0)
            start[nd->thread + 1]++;
    }
    for (uint32_t t = 0; t < nt; t++)
        start[t + 1] += start[t];
    {
        uint32_t *fill = calloc((size_t)nt + 1, sizeof(uint32_t));
        if (!fill)
            goto done;
        for (uint32_t i = 1; i < nn; i++) {
            const pm_node *nd = pm_node_get(p, i);
            if (nd->frame != PM_NONE && nd->thread < nt && pm_node_value(p, i, m) != 0)
                order[start[nd->thread] + fill[nd->thread]++] = i;
        }
        free(fill);
    }

    pm_buf_puts(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":[");
    for (uint32_t f = 0; f < nf; f++) {
        const pm_frame *fr = pm_frame_get(p, f);
        if (f)
            pm_buf_putc(out, ',');
        pm_buf_puts(out, "{\"name\":");
        tmp.len = 0;
        pm_out_frame_name(p, &c, f, &tmp);
        pm_jw_str(out, tmp.data ? tmp.data : "", tmp.len);
        if (c.len[fr->file]) {
            pm_buf_puts(out, ",\"file\":");
            pm_ss_str(out, &c, fr->file);
        }
        if (fr->line > 0) {
            pm_buf_puts(out, ",\"line\":");
            pm_buf_put_i64(out, fr->line);
        }
        pm_buf_putc(out, '}');
    }
    pm_buf_puts(out, "]},\"profiles\":[");
    for (uint32_t t = 0; t < nt; t++) {
        if (t)
            pm_buf_putc(out, ',');
        /* Saturating: values are arbitrary int64 (a hostile file, wrapped sums). */
        int64_t total = 0;
        for (uint32_t k = start[t]; k < start[t + 1]; k++) {
            int64_t v = pm_node_value(p, order[k], m);
            if (v > 0 && total > INT64_MAX - v)
                total = INT64_MAX;
            else if (v < 0 && total < INT64_MIN - v)
                total = INT64_MIN;
            else
                total += v;
        }
        pm_buf_puts(out, "{\"type\":\"sampled\",\"name\":");
        tmp.len = 0;
        pm_out_thread_label(p, t, &tmp);
        pm_jw_str(out, tmp.data ? tmp.data : "", tmp.len);
        pm_buf_puts(out, ",\"unit\":\"");
        pm_buf_puts(out, ss_unit);
        pm_buf_puts(out, "\",\"startValue\":0,\"endValue\":");
        pm_buf_put_i64(out, total);
        pm_buf_puts(out, ",\"samples\":[");
        for (uint32_t k = start[t]; k < start[t + 1]; k++) {
            size_t depth = 0;
            for (pm_id j = order[k];; j = pm_node_get(p, j)->parent) {
                const pm_node *nd = pm_node_get(p, j);
                if (nd->frame == PM_NONE)
                    break;
                if (depth == pcap) {
                    size_t ncap = pcap ? pcap * 2 : 64;
                    pm_id *np = realloc(path, ncap * sizeof(pm_id));
                    if (!np)
                        goto done;
                    path = np;
                    pcap = ncap;
                }
                path[depth++] = nd->frame;
            }
            char *w = pm_buf_reserve(out, depth * 11 + 4);
            if (!w)
                goto done;
            char *w0 = w;
            *w++ = k > start[t] ? ',' : '[';
            if (k > start[t])
                *w++ = '[';
            while (depth-- > 0) {
                char num[12];
                int nl = 0;
                uint32_t v = path[depth];
                do {
                    num[nl++] = (char)('0' + v % 10);
                    v /= 10;
                } while (v);
                while (nl)
                    *w++ = num[--nl];
                if (depth)
                    *w++ = ',';
            }
            *w++ = ']';
            out->len += (size_t)(w - w0);
        }
        pm_buf_puts(out, "],\"weights\":[");
        for (uint32_t k = start[t]; k < start[t + 1]; k++) {
            if (k > start[t])
                pm_buf_putc(out, ',');
            pm_buf_put_i64(out, pm_node_value(p, order[k], m));
        }
        pm_buf_puts(out, "]}");
    }
    pm_buf_puts(out, "],\"name\":");
    size_t clen = 0;
    const char *cmd = pm_out_meta_str(p, "command", &clen);
    tmp.len = 0;
    if (cmd)
        pm_clean_utf8(cmd, clen, &tmp);
    else
        pm_buf_puts(&tmp, "pyrometer profile");
    pm_jw_str(out, tmp.data ? tmp.data : "", tmp.len);
    if (nt > 0)
        pm_buf_puts(out, ",\"activeProfileIndex\":0");
    pm_buf_puts(out, ",\"exporter\":\"pyrometer\"}\n");
    rc = out->oom ? -1 : 0;
done:
    free(start);
    free(order);
    free(path);
    pm_buf_free(&tmp);
    pm_ctext_free(&c);
    return rc;
}
