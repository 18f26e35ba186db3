/* pm_pyro_read.c — the .pyro reader (schema: top of pm_pyro.c).
 *
 * The file is untrusted: it may be truncated, corrupted or hand-crafted.
 * The reader therefore validates every id and index before the model sees
 * it, rebuilds the model through its public API (so the model's own
 * invariants hold by construction), and checks that each call reproduces
 * the id the file claims — a duplicate string, frame, node, thread or meta
 * key shows up as an id mismatch and is refused.  Any failure frees the
 * partial profile and reports one line: "invalid .pyro file: <why> at byte N".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_gzip.h"
#include "../codec/pm_json.h"
#include "pm_input.h"

enum {
    PM_SEC_FORMAT,
    PM_SEC_VERSION,
    PM_SEC_META,
    PM_SEC_METRICS,
    PM_SEC_STRINGS,
    PM_SEC_FRAMES,
    PM_SEC_THREADS,
    PM_SEC_NODES,
    PM_SEC_VALUES,
    PM_SEC_TIMELINE,
    PM_SEC_ALLOCS,
    PM_SEC_COUNT
};

static const char *const pm_sec_names[PM_SEC_COUNT] = {
    "format", "version", "meta", "metrics", "strings", "frames", "threads", "nodes", "values", "timeline", "allocations",
};

typedef struct {
    uint64_t ident;
    uint64_t native_id;
    uint64_t root;
    size_t name_pos; /* offset of the name string, interned after the nodes */
} pm_rd_thread;

typedef struct {
    pm_jr r;
    pm_profile *p;
    pm_buf s;                       /* scratch for decoded strings */
    size_t sec[PM_SEC_COUNT];       /* offset of each section's value, or SIZE_MAX */
    pm_rd_thread *threads;
    uint32_t nthreads;
} pm_rd;

static int pm_rd_oom(pm_rd *d)
{
    return pm_jr_fail(&d->r, "out of memory");
}

static int pm_rd_key_is(const pm_buf *k, const char *name)
{
    size_t n = strlen(name);
    return k->len == n && memcmp(k->data, name, n) == 0;
}

/* A string value, interned. */
static int pm_rd_intern(pm_rd *d, pm_id *id)
{
    if (pm_jr_string(&d->r, &d->s) != 0)
        return -1;
    *id = pm_str_intern(d->p, d->s.data ? d->s.data : "", d->s.len);
    return *id == PM_NONE ? pm_rd_oom(d) : 0;
}

/* An integer in [lo, hi]. */
static int pm_rd_int(pm_rd *d, int64_t lo, int64_t hi, int64_t *v, const char *what)
{
    if (pm_jr_i64(&d->r, v) != 0)
        return -1;
    if (*v < lo || *v > hi)
        return pm_jr_fail(&d->r, "%s %lld out of range", what, (long long)*v);
    return 0;
}

/* An id below `limit`, or PM_NONE when null is allowed and present. */
static int pm_rd_id(pm_rd *d, uint32_t limit, int nullable, pm_id *id, const char *what)
{
    if (pm_jr_null(&d->r)) {
        if (!nullable)
            return pm_jr_fail(&d->r, "%s must not be null", what);
        *id = PM_NONE;
        return 0;
    }
    int64_t v;
    if (pm_jr_i64(&d->r, &v) != 0)
        return -1;
    if (v < 0 || v >= (int64_t)limit)
        return pm_jr_fail(&d->r, "%s %lld out of range", what, (long long)v);
    *id = (pm_id)v;
    return 0;
}

/* The next element of a fixed-length array: fails unless one follows. */
static int pm_rd_elem(pm_rd *d)
{
    int k = pm_jr_array_next(&d->r);
    if (k == 0)
        return pm_jr_fail(&d->r, "array too short");
    return k < 0 ? -1 : 0;
}

static int pm_rd_close(pm_rd *d)
{
    int k = pm_jr_array_next(&d->r);
    if (k == 1)
        return pm_jr_fail(&d->r, "array too long");
    return k < 0 ? -1 : 0;
}

static int pm_rd_seek(pm_rd *d, int sec)
{
    d->r.pos = d->sec[sec];
    d->r.fresh = 0;
    return 0;
}

/* ---- sections ------------------------------------------------------------- */

static int pm_rd_header(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_FORMAT);
    if (pm_jr_string(&d->r, &d->s) != 0)
        return -1;
    if (!pm_rd_key_is(&d->s, "pyrometer"))
        return pm_jr_fail(&d->r, "not a pyrometer profile (format)");
    pm_rd_seek(d, PM_SEC_VERSION);
    int64_t v;
    if (pm_jr_i64(&d->r, &v) != 0)
        return -1;
    if (v != 1)
        return pm_jr_fail(&d->r, "unsupported version %lld (this reader knows 1)", (long long)v);
    return 0;
}

static int pm_rd_strings(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_STRINGS);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    uint32_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        if (i >= UINT32_MAX - 1)
            return pm_jr_fail(&d->r, "too many strings");
        pm_id id;
        if (pm_rd_intern(d, &id) != 0)
            return -1;
        if (id != i)
            return pm_jr_fail(&d->r, i == 0 ? "strings[0] must be \"\"" : "strings[%u] is a duplicate", i);
        i++;
    }
    return k < 0 ? -1 : 0;
}

static int pm_rd_metrics(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_METRICS);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    int i = 0, k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        if (i >= PM_MAX_METRICS)
            return pm_jr_fail(&d->r, "more than %d metrics", PM_MAX_METRICS);
        pm_id name = PM_NONE, unit = PM_NONE;
        if (pm_jr_object_begin(&d->r) != 0)
            return -1;
        pm_buf key;
        pm_buf_init(&key);
        int kk;
        while ((kk = pm_jr_object_next(&d->r, &key)) == 1) {
            int rc;
            if (pm_rd_key_is(&key, "name"))
                rc = pm_rd_intern(d, &name);
            else if (pm_rd_key_is(&key, "unit"))
                rc = pm_rd_intern(d, &unit);
            else
                rc = pm_jr_skip(&d->r);
            if (rc != 0)
                break;
        }
        pm_buf_free(&key);
        if (kk != 0 || d->r.failed)
            return -1;
        if (name == PM_NONE || unit == PM_NONE)
            return pm_jr_fail(&d->r, "metrics[%d] needs a name and a unit", i);
        int m = pm_metric_add_id(d->p, name, unit);
        if (m != i)
            return pm_jr_fail(&d->r, m < 0 ? "out of memory" : "metrics[%d] is a duplicate", i);
        i++;
    }
    return k < 0 ? -1 : 0;
}

static int pm_rd_frames(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_FRAMES);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    uint32_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        uint32_t nstr = pm_str_count(d->p);
        /* Initialised only to quiet -O3's may-be-uninitialized analysis. */
        pm_id name = PM_NONE, file = PM_NONE;
        int64_t line = 0, kind = 0;
        if (pm_jr_array_begin(&d->r) != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, nstr, 0, &name, "frame name") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, nstr, 0, &file, "frame file") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_int(d, INT32_MIN, INT32_MAX, &line, "frame line") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_int(d, PM_FRAME_PYTHON, PM_FRAME_SPECIAL, &kind, "frame kind") != 0 || pm_rd_close(d) != 0)
            return -1;
        pm_id id = pm_frame_intern(d->p, name, file, (int32_t)line, (pm_frame_kind)kind);
        if (id == PM_NONE)
            return pm_rd_oom(d);
        if (id != i)
            return pm_jr_fail(&d->r, "frames[%u] is a duplicate", i);
        i++;
    }
    return k < 0 ? -1 : 0;
}

/* Threads are read before the nodes (which create them) but named after. */
static int pm_rd_threads(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_THREADS);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    uint32_t cap = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        if (d->nthreads >= UINT32_MAX / 2)
            return pm_jr_fail(&d->r, "too many threads");
        if (d->nthreads == cap) {
            cap = cap ? cap * 2 : 16;
            pm_rd_thread *nt = realloc(d->threads, (size_t)cap * sizeof(pm_rd_thread));
            if (!nt)
                return pm_rd_oom(d);
            d->threads = nt;
        }
        pm_rd_thread *t = &d->threads[d->nthreads];
        int have_ident = 0, have_native = 0, have_root = 0;
        t->name_pos = SIZE_MAX;
        if (pm_jr_object_begin(&d->r) != 0)
            return -1;
        pm_buf key;
        pm_buf_init(&key);
        int kk;
        while ((kk = pm_jr_object_next(&d->r, &key)) == 1) {
            int rc;
            if (pm_rd_key_is(&key, "ident")) {
                rc = pm_jr_u64(&d->r, &t->ident);
                have_ident = 1;
            } else if (pm_rd_key_is(&key, "native_id")) {
                rc = pm_jr_u64(&d->r, &t->native_id);
                have_native = 1;
            } else if (pm_rd_key_is(&key, "root")) {
                rc = pm_jr_u64(&d->r, &t->root);
                have_root = 1;
            } else if (pm_rd_key_is(&key, "name")) {
                t->name_pos = d->r.pos;
                rc = pm_jr_skip(&d->r);
            } else {
                rc = pm_jr_skip(&d->r);
            }
            if (rc != 0)
                break;
        }
        pm_buf_free(&key);
        if (kk != 0 || d->r.failed)
            return -1;
        if (!have_ident || !have_native || !have_root || t->name_pos == SIZE_MAX)
            return pm_jr_fail(&d->r, "threads[%u] needs ident, native_id, name and root", d->nthreads);
        d->nthreads++;
    }
    return k < 0 ? -1 : 0;
}

static int pm_rd_thread_root(pm_rd *d, uint32_t i, pm_id frame, int64_t line, pm_id thread)
{
    uint32_t t = pm_thread_count(d->p);
    if (frame != PM_NONE || line != 0)
        return pm_jr_fail(&d->r, "nodes[%u]: a thread root has no frame and line 0", i);
    if (thread != t || t >= d->nthreads || d->threads[t].root != i)
        return pm_jr_fail(&d->r, "nodes[%u]: thread root does not match threads[%u]", i, t);
    pm_id got = pm_thread_get(d->p, d->threads[t].ident, d->threads[t].native_id);
    if (got == PM_NONE)
        return pm_rd_oom(d);
    if (got != t)
        return pm_jr_fail(&d->r, "threads[%u] repeats the ident of threads[%u]", t, got);
    return 0;
}

static int pm_rd_nodes(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_NODES);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    uint32_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        if (i >= UINT32_MAX - 1)
            return pm_jr_fail(&d->r, "too many nodes");
        pm_id parent = PM_NONE, frame = PM_NONE, thread = PM_NONE;
        int64_t line = 0;
        /* parent < i (a node is created after its parent); null only for
         * the root.  The model's node count is i here. */
        if (pm_jr_array_begin(&d->r) != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, i, i == 0, &parent, "node parent") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, pm_frame_count(d->p), 1, &frame, "node frame") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_int(d, INT32_MIN, INT32_MAX, &line, "node line") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, d->nthreads, 1, &thread, "node thread") != 0 || pm_rd_close(d) != 0)
            return -1;
        if (i == 0) {
            if (frame != PM_NONE || line != 0 || thread != PM_NONE)
                return pm_jr_fail(&d->r, "nodes[0] must be the root [null, null, 0, null]");
        } else if (parent == PM_ROOT) {
            if (pm_rd_thread_root(d, i, frame, line, thread) != 0)
                return -1;
        } else {
            if (frame == PM_NONE)
                return pm_jr_fail(&d->r, "nodes[%u]: only thread roots have no frame", i);
            if (thread != pm_node_get(d->p, parent)->thread)
                return pm_jr_fail(&d->r, "nodes[%u]: thread differs from its parent's", i);
            pm_id id = pm_node_child(d->p, parent, frame, (int32_t)line);
            if (id == PM_NONE)
                return pm_rd_oom(d);
            if (id != i)
                return pm_jr_fail(&d->r, "nodes[%u] duplicates nodes[%u]", i, id);
        }
        i++;
    }
    if (k < 0)
        return -1;
    if (i == 0)
        return pm_jr_fail(&d->r, "no root node");
    if (pm_thread_count(d->p) != d->nthreads)
        return pm_jr_fail(&d->r, "threads[%u] has no root node", pm_thread_count(d->p));
    return 0;
}

static int pm_rd_thread_names(pm_rd *d)
{
    for (uint32_t t = 0; t < d->nthreads; t++) {
        d->r.pos = d->threads[t].name_pos;
        pm_id name;
        if (pm_rd_intern(d, &name) != 0)
            return -1;
        size_t len;
        const char *s = pm_str_get(d->p, name, &len);
        if (pm_thread_set_name(d->p, t, s, len) != 0)
            return pm_rd_oom(d);
    }
    return 0;
}

static int pm_rd_values(pm_rd *d)
{
    pm_rd_seek(d, PM_SEC_VALUES);
    uint32_t n = pm_node_count(d->p);
    int nm = pm_metric_count(d->p);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    for (int m = 0; m < nm; m++) {
        if (pm_rd_elem(d) != 0 || pm_jr_array_begin(&d->r) != 0)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            int64_t v;
            if (pm_rd_elem(d) != 0 || pm_jr_i64(&d->r, &v) != 0)
                return -1;
            pm_node_add(d->p, i, m, v);
        }
        if (pm_rd_close(d) != 0)
            return -1;
    }
    return pm_rd_close(d);
}

static int pm_rd_meta_entry(pm_rd *d, uint32_t i)
{
    pm_id key = PM_NONE, str = PM_NONE;
    double num = 0;
    int have_num = 0;
    if (pm_jr_object_begin(&d->r) != 0)
        return -1;
    pm_buf k;
    pm_buf_init(&k);
    int kk;
    while ((kk = pm_jr_object_next(&d->r, &k)) == 1) {
        int rc;
        if (pm_rd_key_is(&k, "key")) {
            rc = pm_rd_intern(d, &key);
        } else if (pm_rd_key_is(&k, "str")) {
            rc = pm_rd_intern(d, &str);
        } else if (pm_rd_key_is(&k, "num")) {
            have_num = 1;
            if (pm_jr_peek(&d->r) == '"') {
                rc = pm_jr_string(&d->r, &d->s);
                if (rc == 0) {
                    if (pm_rd_key_is(&d->s, "nan"))
                        num = NAN;
                    else if (pm_rd_key_is(&d->s, "inf"))
                        num = INFINITY;
                    else if (pm_rd_key_is(&d->s, "-inf"))
                        num = -INFINITY;
                    else
                        rc = pm_jr_fail(&d->r, "meta[%u]: bad number", i);
                }
            } else {
                rc = pm_jr_double(&d->r, &num);
            }
        } else {
            rc = pm_jr_skip(&d->r);
        }
        if (rc != 0)
            break;
    }
    pm_buf_free(&k);
    if (kk != 0 || d->r.failed)
        return -1;
    if (key == PM_NONE || (str == PM_NONE) == !have_num)
        return pm_jr_fail(&d->r, "meta[%u] needs a key and one of str, num", i);
    uint32_t before = pm_meta_count(d->p);
    if (before >= PM_MAX_META)
        return pm_jr_fail(&d->r, "more than %d meta entries", PM_MAX_META);
    int rc = str != PM_NONE ? pm_meta_set_str_id(d->p, key, str) : pm_meta_set_num_id(d->p, key, num);
    if (rc != 0)
        return pm_rd_oom(d);
    if (pm_meta_count(d->p) != before + 1)
        return pm_jr_fail(&d->r, "meta[%u] repeats a key", i);
    return 0;
}

static int pm_rd_meta(pm_rd *d)
{
    if (d->sec[PM_SEC_META] == SIZE_MAX)
        return 0;
    pm_rd_seek(d, PM_SEC_META);
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    uint32_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        if (pm_rd_meta_entry(d, i++) != 0)
            return -1;
    }
    return k < 0 ? -1 : 0;
}

static int pm_rd_events(pm_rd *d)
{
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    size_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        uint64_t t = 0;
        pm_id thread = PM_NONE, node = PM_NONE;
        if (pm_jr_array_begin(&d->r) != 0 || pm_rd_elem(d) != 0 || pm_jr_u64(&d->r, &t) != 0 ||
            pm_rd_elem(d) != 0 || pm_rd_id(d, pm_thread_count(d->p), 0, &thread, "event thread") != 0 ||
            pm_rd_elem(d) != 0 || pm_rd_id(d, pm_node_count(d->p), 1, &node, "event node") != 0 ||
            pm_rd_close(d) != 0)
            return -1;
        int rc = pm_timeline_add(d->p, t, thread, node);
        if (rc < 0)
            return pm_jr_fail(&d->r, "timeline event %zu: node is not in its thread", i);
        if (rc > 0)
            return pm_jr_fail(&d->r, "timeline holds more events than its capacity");
        i++;
    }
    return k < 0 ? -1 : 0;
}

/* An object of unsigned numbers (names[i] into vals[i], seen[i] set) and one
 * array, of which only the position is taken (*arr_pos, SIZE_MAX when
 * absent): it is read afterwards, once what it refers to is known.  Other
 * keys are skipped. */
static int pm_rd_fields(pm_rd *d, const char *const *names, uint64_t *vals, int *seen, size_t n, const char *arr,
                        size_t *arr_pos)
{
    *arr_pos = SIZE_MAX;
    if (pm_jr_object_begin(&d->r) != 0)
        return -1;
    pm_buf k;
    pm_buf_init(&k);
    int kk;
    while ((kk = pm_jr_object_next(&d->r, &k)) == 1) {
        int rc = 1;
        for (size_t i = 0; rc == 1 && i < n; i++)
            if (pm_rd_key_is(&k, names[i])) {
                rc = pm_jr_u64(&d->r, &vals[i]);
                seen[i] = 1;
            }
        if (rc == 1) {
            if (pm_rd_key_is(&k, arr))
                *arr_pos = d->r.pos;
            rc = pm_jr_skip(&d->r);
        }
        if (rc != 0)
            break;
    }
    pm_buf_free(&k);
    return kk != 0 || d->r.failed ? -1 : 0;
}

static int pm_rd_timeline(pm_rd *d)
{
    if (d->sec[PM_SEC_TIMELINE] == SIZE_MAX)
        return 0;
    pm_rd_seek(d, PM_SEC_TIMELINE);
    static const char *const names[] = {"capacity", "dropped"};
    uint64_t vals[2] = {0, 0};
    int seen[2] = {0, 0};
    size_t events_pos;
    if (pm_rd_fields(d, names, vals, seen, 2, "events", &events_pos) != 0)
        return -1;
    uint64_t capacity = vals[0], dropped = vals[1];
    if (!seen[0])
        return pm_jr_fail(&d->r, "timeline needs a capacity");
    if (capacity > SIZE_MAX)
        return pm_jr_fail(&d->r, "timeline capacity out of range");
    if (capacity == 0) {
        /* A disabled timeline holds nothing. */
        if (dropped != 0)
            return pm_jr_fail(&d->r, "a disabled timeline has no dropped events");
        if (events_pos != SIZE_MAX) {
            d->r.pos = events_pos;
            if (pm_jr_array_begin(&d->r) != 0 || pm_jr_array_next(&d->r) != 0)
                return d->r.failed ? -1 : pm_jr_fail(&d->r, "a disabled timeline has no events");
        }
        return 0;
    }
    /* Storage grows with the events actually read, so a huge capacity in a
     * hostile file costs nothing. */
    if (pm_timeline_enable(d->p, (size_t)capacity) != 0)
        return pm_rd_oom(d);
    if (events_pos != SIZE_MAX) {
        d->r.pos = events_pos;
        d->r.fresh = 0;
        if (pm_rd_events(d) != 0)
            return -1;
    }
    pm_timeline_add_dropped(d->p, dropped);
    return 0;
}

static int pm_rd_alloc_records(pm_rd *d)
{
    if (pm_jr_array_begin(&d->r) != 0)
        return -1;
    size_t i = 0;
    int k;
    while ((k = pm_jr_array_next(&d->r)) == 1) {
        pm_alloc_rec rec;
        int64_t at = 0;
        if (pm_jr_array_begin(&d->r) != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, pm_node_count(d->p), 0, &rec.node, "allocation node") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_int(d, 0, (int64_t)PM_NONE - 1, &at, "allocation bucket") != 0 || pm_rd_elem(d) != 0 ||
            pm_rd_id(d, PM_NONE, 1, &rec.freed, "allocation free bucket") != 0 || pm_rd_elem(d) != 0 ||
            pm_jr_i64(&d->r, &rec.bytes) != 0 || pm_rd_elem(d) != 0 || pm_jr_i64(&d->r, &rec.count) != 0 ||
            pm_rd_close(d) != 0)
            return -1;
        rec.at = (uint32_t)at;
        if (pm_allocs_add(d->p, &rec) != 0) {
            if (rec.node == PM_ROOT || (rec.freed != PM_NONE && rec.freed < rec.at))
                return pm_jr_fail(&d->r, "allocation record %zu: %s", i,
                                  rec.node == PM_ROOT ? "charged to the root" : "freed before it was made");
            return pm_rd_oom(d);
        }
        i++;
    }
    return k < 0 ? -1 : 0;
}

static int pm_rd_allocs(pm_rd *d)
{
    if (d->sec[PM_SEC_ALLOCS] == SIZE_MAX)
        return 0;
    pm_rd_seek(d, PM_SEC_ALLOCS);
    static const char *const names[] = {"bucket_ns"};
    uint64_t bucket = 0;
    int seen = 0;
    size_t records_pos;
    if (pm_rd_fields(d, names, &bucket, &seen, 1, "records", &records_pos) != 0)
        return -1;
    if (bucket == 0)
        return pm_jr_fail(&d->r, "allocations need a bucket_ns above 0");
    pm_allocs_enable(d->p, bucket);
    if (records_pos == SIZE_MAX)
        return 0;
    d->r.pos = records_pos;
    d->r.fresh = 0;
    return pm_rd_alloc_records(d);
}

/* The top-level pass: validates the whole document's syntax and records
 * where each known section's value starts, so the sections can then be read
 * in dependency order whatever order the keys come in. */
static int pm_rd_index(pm_rd *d)
{
    for (int i = 0; i < PM_SEC_COUNT; i++)
        d->sec[i] = SIZE_MAX;
    if (pm_jr_object_begin(&d->r) != 0)
        return -1;
    int k;
    while ((k = pm_jr_object_next(&d->r, &d->s)) == 1) {
        for (int i = 0; i < PM_SEC_COUNT; i++) {
            if (pm_rd_key_is(&d->s, pm_sec_names[i])) {
                if (d->sec[i] != SIZE_MAX)
                    return pm_jr_fail(&d->r, "duplicate key \"%s\"", pm_sec_names[i]);
                pm_jr_peek(&d->r);
                d->sec[i] = d->r.pos;
            }
        }
        if (pm_jr_skip(&d->r) != 0)
            return -1;
    }
    if (k < 0 || pm_jr_end(&d->r) != 0)
        return -1;
    for (int i = 0; i < PM_SEC_COUNT; i++) {
        if (d->sec[i] == SIZE_MAX && i != PM_SEC_META && i != PM_SEC_TIMELINE && i != PM_SEC_ALLOCS)
            return pm_jr_fail(&d->r, "missing key \"%s\"", pm_sec_names[i]);
    }
    return 0;
}

static pm_profile *pm_rd_parse(const char *json, size_t len, char *err, size_t errlen)
{
    pm_rd d;
    memset(&d, 0, sizeof d);
    pm_jr_init(&d.r, json, len);
    pm_buf_init(&d.s);
    d.p = pm_profile_new();
    if (!d.p) {
        snprintf(err, errlen, "cannot read .pyro file: out of memory");
        return NULL;
    }
    /* Strings first (every other section refers to them), then what refers
     * to what: frames -> strings, nodes -> frames and threads, values ->
     * nodes and metrics, timeline -> nodes and threads, allocations -> nodes. */
    int rc = pm_rd_index(&d);
    if (rc == 0)
        rc = pm_rd_header(&d);
    if (rc == 0)
        rc = pm_rd_strings(&d);
    if (rc == 0)
        rc = pm_rd_metrics(&d);
    if (rc == 0)
        rc = pm_rd_frames(&d);
    if (rc == 0)
        rc = pm_rd_threads(&d);
    if (rc == 0)
        rc = pm_rd_nodes(&d);
    if (rc == 0)
        rc = pm_rd_thread_names(&d);
    if (rc == 0)
        rc = pm_rd_values(&d);
    if (rc == 0)
        rc = pm_rd_meta(&d);
    if (rc == 0)
        rc = pm_rd_timeline(&d);
    if (rc == 0)
        rc = pm_rd_allocs(&d);
    pm_buf_free(&d.s);
    free(d.threads);
    if (rc != 0 || d.r.failed) {
        snprintf(err, errlen, "invalid .pyro file: %s", d.r.failed ? d.r.msg : "malformed");
        pm_profile_free(d.p);
        return NULL;
    }
    return d.p;
}

pm_profile *pm_read_pyro(const void *data, size_t len, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!data && len > 0) {
        snprintf(err, errlen, "invalid .pyro file: no data");
        return NULL;
    }
    if (len == 0) {
        snprintf(err, errlen, "invalid .pyro file: empty");
        return NULL;
    }
    if (!pm_gz_is_gzip(data, len)) {
        /* Plain JSON (a decompressed file, or one written by hand). */
        if (len > PM_PYRO_MAX_JSON) {
            snprintf(err, errlen, "invalid .pyro file: larger than %zu bytes", PM_PYRO_MAX_JSON);
            return NULL;
        }
        const char *s = data;
        size_t i = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
            i++;
        if (i == len || s[i] != '{') {
            snprintf(err, errlen, "invalid .pyro file: neither gzip nor JSON");
            return NULL;
        }
        return pm_rd_parse(s, len, err, errlen);
    }
    pm_buf json;
    pm_buf_init(&json);
    char why[160];
    if (pm_gz_inflate(data, len, PM_PYRO_MAX_JSON, &json, why, sizeof why) != 0) {
        snprintf(err, errlen, "invalid .pyro file: %s", why);
        pm_buf_free(&json);
        return NULL;
    }
    pm_profile *p = pm_rd_parse(json.data ? json.data : "", json.len, err, errlen);
    pm_buf_free(&json);
    return p;
}
