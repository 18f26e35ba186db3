/* pm_chrome.c — Chrome's Trace Event Format (JSON object form), which
 * chrome://tracing, Perfetto and the Firefox Profiler open.
 *
 * From the timeline: each slice (pm_slices.h) is a "B" event where it opens
 * and an "E" event where it closes, so the output is balanced per thread
 * and ordered by ts.  ts in microseconds.
 *
 * A profile without a timeline (e.g. converted from pstats or collapsed
 * stacks) is laid out from the trie instead: per thread, one "X" event per
 * node with dur = its total of the time metric, children placed one after
 * another from the parent's start (a flame graph on a time axis; marked by
 * otherData.layout = "aggregate").
 *
 * "M" events name the process (the command) and every thread. */
#include <stdlib.h>
#include <string.h>

#include "pm_interchange.h"
#include "../codec/pm_json.h"
#include "pm_outcommon.h"
#include "pm_slices.h"

typedef struct {
    const pm_profile *p;
    pm_ctext c;
    pm_buf frag;       /* per frame: "name":..,"cat":"python","args":{..} */
    size_t *frag_off;  /* offset, SIZE_MAX when not rendered yet */
    uint32_t *frag_len;
    pm_buf tmp;
    uint64_t *tid;
} pm_ch;

static void pm_ch_ts(pm_buf *b, uint64_t ns)
{
    pm_buf_put_u64(b, ns / 1000);
    unsigned r = (unsigned)(ns % 1000);
    if (r) {
        char d[4] = {'.', (char)('0' + r / 100), (char)('0' + r / 10 % 10), (char)('0' + r % 10)};
        pm_buf_put(b, d, 4);
    }
}

static int pm_ch_frag(pm_ch *h, pm_id f, pm_buf *out)
{
    if (h->frag_off[f] == SIZE_MAX) {
        const pm_frame *fr = pm_frame_get(h->p, f);
        size_t at = h->frag.len;
        pm_buf_puts(&h->frag, "\"name\":");
        h->tmp.len = 0;
        pm_out_frame_name(h->p, &h->c, f, &h->tmp);
        pm_jw_str(&h->frag, h->tmp.data ? h->tmp.data : "", h->tmp.len);
        pm_buf_puts(&h->frag, ",\"cat\":\"python\",\"args\":{\"file\":");
        pm_jw_str(&h->frag, h->c.ptr[fr->file], h->c.len[fr->file]);
        pm_buf_puts(&h->frag, ",\"line\":");
        pm_buf_put_i64(&h->frag, fr->line);
        pm_buf_putc(&h->frag, '}');
        if (h->frag.oom)
            return -1;
        h->frag_off[f] = at;
        h->frag_len[f] = (uint32_t)(h->frag.len - at);
    }
    pm_buf_put(out, h->frag.data + h->frag_off[f], h->frag_len[f]);
    return 0;
}

static void pm_ch_head(pm_buf *out, const char *ph, uint64_t tid, uint64_t ns, int *first)
{
    if (!*first)
        pm_buf_puts(out, ",\n");
    *first = 0;
    pm_buf_puts(out, "{\"ph\":\"");
    pm_buf_puts(out, ph);
    pm_buf_puts(out, "\",\"pid\":1,\"tid\":");
    pm_buf_put_u64(out, tid);
    pm_buf_puts(out, ",\"ts\":");
    pm_ch_ts(out, ns);
}

/* The timeline's slices (pm_slices.h) as "B" and "E" events. */
typedef struct {
    pm_ch *h;
    pm_buf *out;
    int *first;
} pm_ch_walk;

static int pm_ch_open(void *ctx, uint32_t thread, uint32_t depth, pm_id frame, uint64_t t_ns)
{
    pm_ch_walk *w = ctx;
    (void)depth;
    pm_ch_head(w->out, "B", w->h->tid[thread], t_ns, w->first);
    pm_buf_putc(w->out, ',');
    if (pm_ch_frag(w->h, frame, w->out) != 0)
        return -1;
    pm_buf_putc(w->out, '}');
    return w->out->oom ? -1 : 0;
}

static int pm_ch_close(void *ctx, uint32_t thread, uint32_t depth, uint64_t t_ns)
{
    pm_ch_walk *w = ctx;
    (void)depth;
    pm_ch_head(w->out, "E", w->h->tid[thread], t_ns, w->first);
    pm_buf_putc(w->out, '}');
    return w->out->oom ? -1 : 0;
}

static int pm_ch_aggregate(pm_ch *h, int m, pm_buf *out, int *first)
{
    const pm_profile *p = h->p;
    uint32_t nn = pm_node_count(p);
    int64_t *tot = malloc(((size_t)nn + 1) * sizeof(int64_t));
    uint64_t *cur = NULL;
    size_t ccap = 0;
    if (!tot)
        return -1;
    pm_totals(p, m, tot);
    /* Scale to nanoseconds: time metrics are; counts become samples at the
     * sampling rate (1 ms each without one). */
    const char *unit = pm_str_get(p, pm_metric_get(p, m)->unit, NULL);
    double scale = 1.0;
    if (!unit || strcmp(unit, "nanoseconds") != 0) {
        double rate = pm_out_meta_num(p, "rate_hz", 0);
        scale = rate > 0 ? 1e9 / rate : 1e6;
    }
    int rc = -1;
    for (uint32_t t = 0; t < pm_thread_count(p); t++) {
        pm_id root = pm_thread_at(p, t)->root;
        /* Iterative walk; cur[d] = where the next child at depth d starts. */
        pm_id n = pm_node_get(p, root)->first_child;
        size_t d = 0;
        if (ccap < 64) {
            uint64_t *nc = realloc(cur, 64 * sizeof(uint64_t));
            if (!nc)
                goto done;
            cur = nc;
            ccap = 64;
        }
        cur[0] = 0;
        while (n != PM_NONE) {
            const pm_node *nd = pm_node_get(p, n);
            uint64_t start = cur[d];
            int64_t v = tot[n] > 0 ? tot[n] : 0;
            uint64_t dur = (uint64_t)((double)v * scale);
            cur[d] += dur;
            if (v > 0) {
                pm_ch_head(out, "X", h->tid[t], start, first);
                pm_buf_puts(out, ",\"dur\":");
                pm_ch_ts(out, dur);
                pm_buf_putc(out, ',');
                if (pm_ch_frag(h, nd->frame, out) != 0)
                    goto done;
                pm_buf_putc(out, '}');
            }
            if (v > 0 && nd->first_child != PM_NONE) {
                if (d + 2 > ccap) {
                    uint64_t *nc = realloc(cur, ccap * 2 * sizeof(uint64_t));
                    if (!nc)
                        goto done;
                    cur = nc;
                    ccap *= 2;
                }
                cur[++d] = start;
                n = nd->first_child;
                continue;
            }
            while (n != PM_NONE && pm_node_get(p, n)->next_sibling == PM_NONE) {
                n = pm_node_get(p, n)->parent;
                if (n == root) {
                    n = PM_NONE;
                    break;
                }
                d--;
            }
            if (n != PM_NONE)
                n = pm_node_get(p, n)->next_sibling;
        }
        if (out->oom)
            goto done;
    }
    rc = 0;
done:
    free(tot);
    free(cur);
    return rc;
}

int pm_write_chrome(const pm_profile *p, int m, pm_buf *out)
{
    pm_ch h;
    memset(&h, 0, sizeof h);
    h.p = p;
    pm_buf_init(&h.frag);
    pm_buf_init(&h.tmp);
    uint32_t nf = pm_frame_count(p), nt = pm_thread_count(p);
    int rc = -1;
    if (pm_ctext_init(&h.c, p) != 0)
        return -1;
    h.frag_off = malloc(((size_t)nf + 1) * sizeof(size_t));
    h.frag_len = malloc(((size_t)nf + 1) * sizeof(uint32_t));
    h.tid = malloc(((size_t)nt + 1) * sizeof(uint64_t));
    if (!h.frag_off || !h.frag_len || !h.tid)
        goto done;
    for (uint32_t f = 0; f < nf; f++)
        h.frag_off[f] = SIZE_MAX;
    for (uint32_t t = 0; t < nt; t++) {
        const pm_thread *th = pm_thread_at(p, t);
        h.tid[t] = th->native_id ? th->native_id : (uint64_t)t + 1;
    }
    int first = 1;
    pm_buf_puts(out, "{\"traceEvents\":[\n");
    /* Metadata: process and thread names. */
    pm_ch_head(out, "M", nt ? h.tid[0] : 0, 0, &first);
    pm_buf_puts(out, ",\"name\":\"process_name\",\"args\":{\"name\":");
    size_t clen = 0;
    const char *cmd = pm_out_meta_str(p, "command", &clen);
    h.tmp.len = 0;
    if (cmd && clen)
        pm_clean_utf8(cmd, clen, &h.tmp);
    else
        pm_buf_puts(&h.tmp, "python");
    pm_jw_str(out, h.tmp.data, h.tmp.len);
    pm_buf_puts(out, "}}");
    for (uint32_t t = 0; t < nt; t++) {
        pm_ch_head(out, "M", h.tid[t], 0, &first);
        pm_buf_puts(out, ",\"name\":\"thread_name\",\"args\":{\"name\":");
        h.tmp.len = 0;
        pm_out_thread_label(p, t, &h.tmp);
        pm_jw_str(out, h.tmp.data ? h.tmp.data : "", h.tmp.len);
        pm_buf_puts(out, "}}");
        pm_ch_head(out, "M", h.tid[t], 0, &first);
        pm_buf_puts(out, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":");
        pm_buf_put_u64(out, t);
        pm_buf_puts(out, "}}");
    }
    size_t nev = 0;
    const pm_event *ev = pm_timeline_events(p, &nev);
    const char *layout = "timeline";
    if (ev && nev > 0) {
        static const pm_slice_fns fns = {pm_ch_open, pm_ch_close};
        pm_ch_walk w = {&h, out, &first};
        if (pm_slices_walk(p, &fns, &w) != 0)
            goto done;
    } else {
        layout = "aggregate";
        if (m < 0)
            m = pm_out_time_metric(p);
        if (m < 0)
            m = pm_metric_find(p, "samples");
        if (m < 0 && pm_metric_count(p) > 0)
            m = 0;
        if (m >= 0 && m < pm_metric_count(p) && pm_ch_aggregate(&h, m, out, &first) != 0)
            goto done;
    }
    pm_buf_puts(out, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"pyrometer\",\"layout\":\"");
    pm_buf_puts(out, layout);
    pm_buf_putc(out, '"');
    if (nev > 0 && pm_timeline_dropped(p) > 0) { /* a partial timeline says so */
        pm_buf_puts(out, ",\"events_dropped\":");
        pm_buf_put_u64(out, pm_timeline_dropped(p));
    }
    pm_buf_puts(out, "}}\n");
    rc = out->oom ? -1 : 0;
done:
    free(h.frag_off);
    free(h.frag_len);
    free(h.tid);
    pm_buf_free(&h.frag);
    pm_buf_free(&h.tmp);
    pm_ctext_free(&h.c);
    return rc;
}
