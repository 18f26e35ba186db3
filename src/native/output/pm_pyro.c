/* pm_pyro.c — the native .pyro file: writer (the reader is input/pm_pyro_read.c).
 *
 * ---- .pyro schema, version 1 -------------------------------------------------
 *
 * A .pyro file is one gzip member (RFC 1952) holding one JSON object (UTF-8).
 * It is the profile model serialised losslessly: reading it back gives the
 * same strings, frames, metrics, threads, nodes, values, timeline and meta,
 * with the same ids in the same order.  Readers also accept the plain JSON.
 *
 *   {
 *     "format":   "pyrometer",
 *     "version":  1,
 *     "meta":     [ {"key": K, "str": S} | {"key": K, "num": N}, ... ],
 *     "metrics":  [ {"name": S, "unit": S}, ... ],
 *     "strings":  [ "", S, ... ],
 *     "frames":   [ [name, file, line, kind], ... ],
 *     "threads":  [ {"ident": U, "native_id": U, "name": S, "root": NODE}, ... ],
 *     "nodes":    [ [parent, frame, line, thread], ... ],
 *     "values":   [ [v_0, v_1, ..., v_(n-1)], ... ],
 *     "timeline": {"capacity": U, "dropped": U, "events": [ [t_ns, thread, node], ... ]},
 *     "allocations": {"bucket_ns": U, "records": [ [node, at, freed, bytes, count], ... ]}
 *   }
 *
 *   meta      ordered key/value pairs.  "num" is a JSON number, or one of the
 *             strings "nan", "inf", "-inf" (JSON has no non-finite numbers).
 *             Well-known keys: mode, rate_hz, duration_s, start_unix, python,
 *             command, pyrometer, samples_expected, samples_taken,
 *             samples_torn, samples_captured, sampler_cpu_s.
 *   metrics   the metric columns; index = metric index (at most 8).  Units:
 *             "count", "nanoseconds" (others may appear).
 *   strings   the string table; index = string id; strings[0] is "".
 *   frames    index = frame id.  name and file are string ids; line is the
 *             function's first line (0 = unknown); kind 0 = Python, 1 =
 *             native, 2 = special (a marker such as "<idle>").
 *   threads   index = thread index.  ident = threading.get_ident(), native_id
 *             = OS thread id (0 = unknown), root = the thread's root node.
 *   nodes     the stack trie; index = node id.  Node 0 is the root
 *             [null, null, 0, null].  A thread root is [0, null, 0, t].
 *             Every other node is [parent, frame, line, thread] with parent
 *             < its own id, frame a frame id, line the line executing in that
 *             frame, thread = its parent's thread.  (parent, frame, line) is
 *             unique.  null stands for "none".
 *   values    one array per metric (same order as "metrics"), each with one
 *             integer per node: the node's *self* value.  Totals are derived
 *             by summing each node into its parent, in decreasing id order.
 *   timeline  run-length thread states: an event [t, thread, node] means
 *             "from t (ns since the profile started) on, this thread is at
 *             this leaf"; node null = not running profiled Python.  capacity
 *             0 means the timeline was disabled; dropped counts events that
 *             did not fit.  The profile ends at meta duration_s.
 *   allocations  optional (memory profiles): the sampled allocations over
 *             time.  Bucket b is [b * bucket_ns, (b + 1) * bucket_ns) in ns
 *             since the profile started (the zero of meta memory_timeline).
 *             A record [node, at, freed, bytes, count]: the allocations
 *             charged to leaf node, made in bucket at and freed in bucket
 *             freed (>= at; null = still live at the end), standing for bytes
 *             bytes and count allocations (estimates, as the node metrics).
 *             Sorted by (at, freed, node), one record per key.  Absent when
 *             the profile has none.
 *
 * Strings are arbitrary bytes: valid UTF-8 is written as is (JSON-escaped);
 * each byte of an ill-formed sequence is the lone surrogate "\udcXX" (XX =
 * the byte, Python's surrogateescape), which readers map back to the byte.
 * Python: json.loads(gzip.decompress(data)), then s.encode("utf-8",
 * "surrogateescape") gives a string's bytes.  Integers are exact (ids are
 * < 2^32, values are int64, idents uint64).  Readers ignore unknown keys; a
 * change that old readers must not misread bumps "version".
 * ------------------------------------------------------------------------------
 */
#include <string.h>

#include "../codec/pm_gzip.h"
#include "../codec/pm_json.h"
#include "pm_output.h"

/* JSON is built in a small buffer and streamed through the compressor, so
 * writing never holds the whole document uncompressed. */
#define PM_PYRO_FLUSH_AT ((size_t)1 << 20)
/* Deflate dominates the writer's time.  On this repetitive JSON, level 1
 * is 6x faster than the default (6) for a file about 15% larger, and
 * within 5% of level 3 at 1.7x its speed: measured on a 2M-node profile
 * (tests/native/bench). */
#define PM_PYRO_LEVEL 1

typedef struct {
    pm_buf j;
    pm_gz_writer gz;
} pm_pyro_w;

static void pm_pyro_flush(pm_pyro_w *w)
{
    if (w->j.len >= PM_PYRO_FLUSH_AT) {
        pm_gz_write(&w->gz, w->j.data, w->j.len);
        w->j.len = 0;
    }
}

static void pm_pyro_id(pm_buf *b, pm_id id)
{
    if (id == PM_NONE)
        pm_buf_put(b, "null", 4);
    else
        pm_buf_put_u64(b, id);
}

static void pm_pyro_str_id(pm_buf *b, const pm_profile *p, pm_id id)
{
    size_t len;
    const char *s = pm_str_get(p, id, &len);
    pm_jw_str(b, s ? s : "", len);
}

static void pm_pyro_meta(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"meta\":[");
    for (uint32_t i = 0; i < pm_meta_count(p); i++) {
        const pm_meta *m = pm_meta_at(p, i);
        pm_buf_puts(b, i ? ",\n{\"key\":" : "\n{\"key\":");
        pm_pyro_str_id(b, p, m->key);
        if (m->kind == PM_META_STR) {
            pm_buf_puts(b, ",\"str\":");
            pm_pyro_str_id(b, p, m->str);
        } else {
            pm_buf_puts(b, ",\"num\":");
            pm_jw_double(b, m->num);
        }
        pm_buf_putc(b, '}');
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_metrics(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"metrics\":[");
    for (int m = 0; m < pm_metric_count(p); m++) {
        const pm_metric *mt = pm_metric_get(p, m);
        pm_buf_puts(b, m ? ",{\"name\":" : "{\"name\":");
        pm_pyro_str_id(b, p, mt->name);
        pm_buf_puts(b, ",\"unit\":");
        pm_pyro_str_id(b, p, mt->unit);
        pm_buf_putc(b, '}');
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_strings(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"strings\":[");
    for (uint32_t i = 0; i < pm_str_count(p); i++) {
        if (i)
            pm_buf_putc(b, ',');
        pm_pyro_str_id(b, p, i);
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_frames(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"frames\":[");
    for (uint32_t i = 0; i < pm_frame_count(p); i++) {
        const pm_frame *f = pm_frame_get(p, i);
        pm_buf_puts(b, i ? ",[" : "[");
        pm_buf_put_u64(b, f->name);
        pm_buf_putc(b, ',');
        pm_buf_put_u64(b, f->file);
        pm_buf_putc(b, ',');
        pm_buf_put_i64(b, f->line);
        pm_buf_putc(b, ',');
        pm_buf_put_i64(b, f->kind);
        pm_buf_putc(b, ']');
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_threads(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"threads\":[");
    for (uint32_t i = 0; i < pm_thread_count(p); i++) {
        const pm_thread *t = pm_thread_at(p, i);
        pm_buf_puts(b, i ? ",\n{\"ident\":" : "\n{\"ident\":");
        pm_buf_put_u64(b, t->ident);
        pm_buf_puts(b, ",\"native_id\":");
        pm_buf_put_u64(b, t->native_id);
        pm_buf_puts(b, ",\"name\":");
        pm_pyro_str_id(b, p, t->name);
        pm_buf_puts(b, ",\"root\":");
        pm_buf_put_u64(b, t->root);
        pm_buf_putc(b, '}');
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_nodes(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    pm_buf_puts(b, "\"nodes\":[");
    uint32_t n = pm_node_count(p);
    for (uint32_t i = 0; i < n; i++) {
        const pm_node *nd = pm_node_get(p, i);
        pm_buf_puts(b, i ? ",[" : "[");
        pm_pyro_id(b, nd->parent);
        pm_buf_putc(b, ',');
        pm_pyro_id(b, nd->frame);
        pm_buf_putc(b, ',');
        pm_buf_put_i64(b, nd->line);
        pm_buf_putc(b, ',');
        pm_pyro_id(b, nd->thread);
        pm_buf_putc(b, ']');
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "],\n\"values\":[");
    for (int m = 0; m < pm_metric_count(p); m++) {
        pm_buf_puts(b, m ? ",\n[" : "\n[");
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                pm_buf_putc(b, ',');
            pm_buf_put_i64(b, pm_node_value(p, i, m));
            pm_pyro_flush(w);
        }
        pm_buf_putc(b, ']');
    }
    pm_buf_puts(b, "],\n");
}

static void pm_pyro_timeline(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    size_t count;
    const pm_event *ev = pm_timeline_events(p, &count);
    pm_buf_puts(b, "\"timeline\":{\"capacity\":");
    pm_buf_put_u64(b, pm_timeline_capacity(p));
    pm_buf_puts(b, ",\"dropped\":");
    pm_buf_put_u64(b, pm_timeline_dropped(p));
    pm_buf_puts(b, ",\"events\":[");
    for (size_t i = 0; i < count; i++) {
        pm_buf_puts(b, i ? ",[" : "[");
        pm_buf_put_u64(b, ev[i].t_ns);
        pm_buf_putc(b, ',');
        pm_buf_put_u64(b, ev[i].thread);
        pm_buf_putc(b, ',');
        pm_pyro_id(b, ev[i].node);
        pm_buf_putc(b, ']');
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "]}");
}

static void pm_pyro_allocs(pm_pyro_w *w, const pm_profile *p)
{
    pm_buf *b = &w->j;
    if (!pm_allocs_bucket_ns(p))
        return; /* no section: a profile without it is written as before */
    size_t count;
    const pm_alloc_rec *r = pm_allocs_records(p, &count);
    pm_buf_puts(b, ",\n\"allocations\":{\"bucket_ns\":");
    pm_buf_put_u64(b, pm_allocs_bucket_ns(p));
    pm_buf_puts(b, ",\"records\":[");
    for (size_t i = 0; i < count; i++) {
        pm_buf_puts(b, i ? ",\n[" : "\n[");
        pm_buf_put_u64(b, r[i].node);
        pm_buf_putc(b, ',');
        pm_buf_put_u64(b, r[i].at);
        pm_buf_putc(b, ',');
        pm_pyro_id(b, r[i].freed);
        pm_buf_putc(b, ',');
        pm_buf_put_i64(b, r[i].bytes);
        pm_buf_putc(b, ',');
        pm_buf_put_i64(b, r[i].count);
        pm_buf_putc(b, ']');
        pm_pyro_flush(w);
    }
    pm_buf_puts(b, "]}");
}

int pm_write_pyro(const pm_profile *p, pm_buf *out)
{
    pm_pyro_w w;
    pm_buf_init(&w.j);
    size_t out_start = out->len;
    if (pm_gz_begin(&w.gz, out, PM_PYRO_LEVEL) != 0)
        return -1;
    pm_buf_puts(&w.j, "{\"format\":\"pyrometer\",\"version\":1,\n");
    pm_pyro_meta(&w, p);
    pm_pyro_metrics(&w, p);
    pm_pyro_strings(&w, p);
    pm_pyro_frames(&w, p);
    pm_pyro_threads(&w, p);
    pm_pyro_nodes(&w, p);
    pm_pyro_timeline(&w, p);
    pm_pyro_allocs(&w, p);
    pm_buf_puts(&w.j, "}\n");
    int failed = w.j.oom;
    if (!failed && w.j.len)
        failed = pm_gz_write(&w.gz, w.j.data, w.j.len) != 0;
    if (pm_gz_end(&w.gz) != 0)
        failed = 1;
    pm_buf_free(&w.j);
    if (failed || out->oom) {
        /* Leave no half document behind in the caller's buffer. */
        out->len = out_start;
        if (out->data)
            out->data[out->len] = '\0';
        return -1;
    }
    return 0;
}
