/* test_interchange.c — the interchange writers (pstats, speedscope, pprof,
 * Chrome trace, Gecko) and readers (pstats, collapsed, speedscope) on a small
 * known profile with hostile names: each output is decoded here (JSON into a
 * small tree, marshal through the reader, protobuf varint by varint) and
 * checked for the expected keys, values, balance and valid UTF-8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/pm_formats.h"
#include "codec/pm_gzip.h"
#include "output/pm_interchange.h"
#include "codec/pm_json.h"
#include "codec/pm_marshal.h"
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------- */

/* Strict UTF-8: no overlongs, no surrogates (ED A0..BF), nothing > U+10FFFF. */
static int valid_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0)
                lo = 0xa0;
            if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        if (u[i + 1] < lo || u[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if (u[i + j] < 0x80 || u[i + j] > 0xbf)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* A JSON tree built with the pull reader (test input is our own output, so
 * recursion is fine here). */
enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };
typedef struct jv {
    int type;
    char *s; /* string value */
    size_t slen;
    double num;
    struct jv *items;
    char **keys; /* objects */
    size_t n;
} jv;

static void jv_free(jv *v)
{
    if (!v)
        return;
    free(v->s);
    for (size_t i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static int jv_parse(pm_jr *r, jv *v, pm_buf *tmp)
{
    memset(v, 0, sizeof *v);
    int c = pm_jr_peek(r);
    if (c == '{' || c == '[') {
        int obj = c == '{';
        v->type = obj ? JV_OBJ : JV_ARR;
        if ((obj ? pm_jr_object_begin(r) : pm_jr_array_begin(r)) != 0)
            return -1;
        size_t cap = 0;
        for (;;) {
            int k = obj ? pm_jr_object_next(r, tmp) : pm_jr_array_next(r);
            if (k < 0)
                return -1;
            if (k == 0)
                return 0;
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                v->items = realloc(v->items, cap * sizeof(jv));
                if (obj)
                    v->keys = realloc(v->keys, cap * sizeof(char *));
            }
            if (obj) {
                v->keys[v->n] = malloc(tmp->len + 1);
                memcpy(v->keys[v->n], tmp->data ? tmp->data : "", tmp->len);
                v->keys[v->n][tmp->len] = '\0';
            }
            int rc = jv_parse(r, &v->items[v->n], tmp);
            v->n++;
            if (rc != 0)
                return -1;
        }
    }
    if (c == '"') {
        v->type = JV_STR;
        if (pm_jr_string(r, tmp) != 0)
            return -1;
        v->s = malloc(tmp->len + 1);
        memcpy(v->s, tmp->data ? tmp->data : "", tmp->len);
        v->s[tmp->len] = '\0';
        v->slen = tmp->len;
        return 0;
    }
    if (pm_jr_null(r))
        return 0;
    if (c == 't' || c == 'f') {
        v->type = JV_BOOL;
        v->num = c == 't';
        return pm_jr_skip(r);
    }
    v->type = JV_NUM;
    return pm_jr_double(r, &v->num);
}

/* Parses a whole document; 0 on success. */
static int jv_doc(const char *s, size_t len, jv *v)
{
    pm_jr r;
    pm_buf tmp;
    pm_buf_init(&tmp);
    pm_jr_init(&r, s, len);
    int rc = jv_parse(&r, v, &tmp);
    if (rc == 0)
        rc = pm_jr_end(&r);
    if (rc != 0)
        fprintf(stderr, "       json: %s\n", r.msg);
    pm_buf_free(&tmp);
    return rc;
}

static const jv *jv_get(const jv *v, const char *key)
{
    if (!v || v->type != JV_OBJ)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

static const jv *jv_at(const jv *v, size_t i)
{
    return v && v->type == JV_ARR && i < v->n ? &v->items[i] : NULL;
}

static size_t jv_len(const jv *v) { return v && (v->type == JV_ARR || v->type == JV_OBJ) ? v->n : (size_t)-1; }

/* Every string (keys included) is valid UTF-8. */
static int jv_all_utf8(const jv *v)
{
    if (v->type == JV_STR)
        return valid_utf8(v->s, v->slen);
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys && !valid_utf8(v->keys[i], strlen(v->keys[i])))
            return 0;
        if (!jv_all_utf8(&v->items[i]))
            return 0;
    }
    return 1;
}

/* ---- the known profile ----------------------------------------------------- */

#define HOSTILE_NAME "se;mi\nnl \"q\" \\ \xff\xed\xa0\x80 end"
#define HOSTILE_THREAD "w;x\n\"q\"\xed\xa0\x80"

typedef struct {
    pm_profile *p;
    int ms, mw;
    pm_id t1, t2;
    pm_id fmain, fwork, fbad;
} known;

/* T1 "Main": [main] 1, [main,work] 3, [main,bad] 2;  T2 (hostile name):
 * [work] 4.  samples as given, wall = samples * 1 ms.  A timeline of four
 * records and duration 0.005 s. */
static void known_init(known *k)
{
    pm_profile *p = k->p = pm_profile_new();
    k->ms = pm_metric_add(p, "samples", "count");
    k->mw = pm_metric_add(p, "wall", "nanoseconds");
    pm_meta_set_str(p, "mode", "wall");
    pm_meta_set_num(p, "rate_hz", 1000);
    pm_meta_set_num(p, "duration_s", 0.005);
    pm_meta_set_str(p, "command", "prog \xed\xa0\x80;\n\"");
    k->fmain = tu_frame(p, "main", "a.py", 1, PM_FRAME_PYTHON);
    k->fwork = tu_frame(p, "work", "a.py", 10, PM_FRAME_PYTHON);
    k->fbad = tu_frame(p, HOSTILE_NAME, "f\"x;\n.py", 5, PM_FRAME_PYTHON);
    k->t1 = pm_thread_get(p, 1, 10);
    pm_thread_set_name(p, k->t1, "Main", 4);
    k->t2 = pm_thread_get(p, 2, 20);
    pm_thread_set_name(p, k->t2, HOSTILE_THREAD, sizeof HOSTILE_THREAD - 1);
    pm_id s1[] = {k->fmain}, s2[] = {k->fmain, k->fwork}, s3[] = {k->fmain, k->fbad}, s4[] = {k->fwork};
    int32_t l2[] = {2, 11}, l3[] = {3, 6};
    pm_id n1 = pm_stack_insert(p, k->t1, s1, NULL, 1);
    pm_id n2 = pm_stack_insert(p, k->t1, s2, l2, 2);
    pm_id n3 = pm_stack_insert(p, k->t1, s3, l3, 2);
    pm_id n4 = pm_stack_insert(p, k->t2, s4, NULL, 1);
    const pm_id nodes[] = {n1, n2, n3, n4};
    const int w[] = {1, 3, 2, 4};
    for (int i = 0; i < 4; i++) {
        pm_node_add(p, nodes[i], k->ms, w[i]);
        pm_node_add(p, nodes[i], k->mw, (int64_t)w[i] * 1000000);
    }
    pm_timeline_enable(p, 16);
    pm_timeline_add(p, 0, k->t1, n2);
    pm_timeline_add(p, 1000000, k->t1, n3);
    pm_timeline_add(p, 1500000, k->t2, n4);
    pm_timeline_add(p, 3000000, k->t1, n1);
    pm_timeline_add(p, 4000000, k->t1, PM_NONE);
}

static int write_fmt(const char *name, const pm_profile *p, pm_buf *out)
{
    pm_format_opts o;
    memset(&o, 0, sizeof o);
    o.metric = -1;
    const pm_format *f = pm_format_find(name);
    return f ? f->write(p, &o, out) : -1;
}

/* Sum of metric m's self values over the nodes of thread t. */
static int64_t thread_total(const pm_profile *p, pm_id t, int m)
{
    int64_t s = 0;
    for (uint32_t i = 1; i < pm_node_count(p); i++)
        if (pm_node_get(p, i)->thread == t)
            s += pm_node_value(p, i, m);
    return s;
}

/* ---- pstats ------------------------------------------------------------------ */

static const pm_mv *ps_lookup(const pm_marshal *m, const pm_mv *d, const char *file, int64_t line, const char *name)
{
    for (uint32_t k = 0; k < d->n; k++) {
        const pm_mv *key = pm_mv_key(m, d, k);
        const pm_mv *f = pm_mv_item(m, key, 0), *l = pm_mv_item(m, key, 1), *n = pm_mv_item(m, key, 2);
        if (f && l && n && f->kind == PM_MV_STR && n->kind == PM_MV_STR && l->kind == PM_MV_INT &&
            f->n == strlen(file) && memcmp(pm_mv_text(m, f), file, f->n) == 0 && l->i == line &&
            n->n == strlen(name) && memcmp(pm_mv_text(m, n), name, n->n) == 0)
            return pm_mv_val(m, d, k);
    }
    return NULL;
}

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

static void test_pstats_decodes(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(write_fmt("pstats", k.p, &b) == 0);
    CHECK(pm_sniff_pstats(b.data, b.len));
    pm_marshal m;
    size_t end = 0;
    uint32_t root = pm_marshal_parse(&m, b.data, b.len, &end);
    CHECKF(root != PM_MARSHAL_ERR, "%s", m.err);
    if (root != PM_MARSHAL_ERR) {
        CHECK(end == b.len);
        const pm_mv *d = pm_mv_get(&m, root);
        CHECK(d->kind == PM_MV_DICT && d->n == 3);
        /* Every string valid UTF-8 (the hostile name cleaned). */
        for (uint32_t i = 0; i < m.nv; i++)
            if (m.v[i].kind == PM_MV_STR)
                CHECK(valid_utf8(pm_mv_text(&m, &m.v[i]), m.v[i].n));
        const pm_mv *vm = ps_lookup(&m, d, "a.py", 1, "main");
        const pm_mv *vw = ps_lookup(&m, d, "a.py", 10, "work");
        CHECK(vm && vw);
        if (vm && vw) {
            /* (cc, nc, tt, ct, callers): sample hits, own and total seconds. */
            CHECK(vm->kind == PM_MV_TUPLE && vm->n == 5);
            CHECK(pm_mv_item(&m, vm, 0)->i == 6 && pm_mv_item(&m, vm, 1)->i == 6);
            CHECK(near(pm_mv_item(&m, vm, 2)->f, 0.001));
            CHECK(near(pm_mv_item(&m, vm, 3)->f, 0.006));
            CHECK(pm_mv_item(&m, vm, 4)->kind == PM_MV_DICT && pm_mv_item(&m, vm, 4)->n == 0);
            CHECK(pm_mv_item(&m, vw, 1)->i == 7);
            CHECK(near(pm_mv_item(&m, vw, 2)->f, 0.007));
            CHECK(near(pm_mv_item(&m, vw, 3)->f, 0.007));
            const pm_mv *callers = pm_mv_item(&m, vw, 4);
            CHECK(callers->kind == PM_MV_DICT && callers->n == 1);
            const pm_mv *edge = ps_lookup(&m, callers, "a.py", 1, "main");
            CHECK(edge && edge->kind == PM_MV_TUPLE && edge->n == 4);
            if (edge && edge->n == 4) {
                CHECK(pm_mv_item(&m, edge, 0)->i == 3);
                CHECK(near(pm_mv_item(&m, edge, 2)->f, 0.003));
            }
        }
        /* The hostile frame: one key whose name starts "se;mi\nnl". */
        int found = 0;
        for (uint32_t i = 0; i < d->n; i++) {
            const pm_mv *n = pm_mv_item(&m, pm_mv_key(&m, d, i), 2);
            if (n && n->n > 8 && memcmp(pm_mv_text(&m, n), "se;mi\nnl", 8) == 0)
                found++;
        }
        CHECK(found == 1);
    }
    pm_marshal_free(&m);

    /* Read back: per-function own time is kept. */
    char err[256] = "";
    pm_profile *q = pm_read_pstats(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        int qw = pm_metric_find(q, "wall");
        CHECK(qw >= 0 && thread_total(q, 0, qw) == 10000000);
        CHECK(pm_frame_count(q) == 3);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

/* ---- speedscope ---------------------------------------------------------------- */

static void test_speedscope_frames_weights(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(write_fmt("speedscope", k.p, &b) == 0);
    CHECK(valid_utf8(b.data, b.len));
    jv doc;
    CHECK(jv_doc(b.data, b.len, &doc) == 0);
    CHECK(jv_all_utf8(&doc));
    const jv *sch = jv_get(&doc, "$schema");
    CHECK(sch && sch->type == JV_STR && strstr(sch->s, "speedscope"));
    const jv *frames = jv_get(jv_get(&doc, "shared"), "frames");
    CHECK(jv_len(frames) == 3);
    const jv *f0 = jv_at(frames, 0), *f2 = jv_at(frames, 2);
    CHECK(f0 && strcmp(jv_get(f0, "name")->s, "main") == 0 && strcmp(jv_get(f0, "file")->s, "a.py") == 0 &&
          jv_get(f0, "line")->num == 1);
    CHECK(f2 && strncmp(jv_get(f2, "name")->s, "se;mi\nnl \"q\" \\ \xef\xbf\xbd", 18) == 0);
    const jv *profs = jv_get(&doc, "profiles");
    CHECK(jv_len(profs) == 2);
    for (size_t i = 0; i < 2 && jv_len(profs) == 2; i++) {
        const jv *pr = jv_at(profs, i);
        CHECK(strcmp(jv_get(pr, "type")->s, "sampled") == 0);
        CHECK(strcmp(jv_get(pr, "unit")->s, "nanoseconds") == 0);
        const jv *smp = jv_get(pr, "samples"), *w = jv_get(pr, "weights");
        CHECK(jv_len(smp) == (i == 0 ? 3u : 1u) && jv_len(smp) == jv_len(w));
        double sum = 0;
        for (size_t s = 0; s < jv_len(w); s++) {
            sum += jv_at(w, s)->num;
            const jv *st = jv_at(smp, s);
            /* Outermost first: T1 stacks start with main (frame 0). */
            if (i == 0)
                CHECK(jv_at(st, 0)->num == 0);
            if (i == 0 && jv_len(st) == 2 && jv_at(st, 1)->num == 1)
                CHECK(jv_at(w, s)->num == 3e6);
            if (i == 0 && jv_len(st) == 2 && jv_at(st, 1)->num == 2)
                CHECK(jv_at(w, s)->num == 2e6);
        }
        CHECK(sum == (i == 0 ? 6e6 : 4e6));
        CHECK(jv_get(pr, "endValue")->num == sum);
    }
    jv_free(&doc);

    /* Read back through the speedscope reader: totals per thread. */
    char err[256] = "";
    pm_profile *q = pm_read_any(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        int qw = pm_metric_find(q, "wall");
        CHECK(qw >= 0 && pm_thread_count(q) == 2);
        CHECK(thread_total(q, 0, qw) == 6000000 && thread_total(q, 1, qw) == 4000000);
        size_t nl;
        const char *nm = pm_str_get(q, pm_thread_at(q, 0)->name, &nl);
        CHECK(nl == 4 && memcmp(nm, "Main", 4) == 0);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

/* ---- pprof ----------------------------------------------------------------------- */

typedef struct {
    const unsigned char *s;
    size_t n, pos;
    int bad;
} pb;

static uint64_t pb_varint(pb *r)
{
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->pos >= r->n) {
            r->bad = 1;
            return 0;
        }
        unsigned char c = r->s[r->pos++];
        v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* Next field: 1 with its number, wire type, varint value or bytes; 0 at end. */
static int pb_next(pb *r, unsigned *field, unsigned *wire, uint64_t *v, const unsigned char **bytes, size_t *blen)
{
    if (r->pos >= r->n || r->bad)
        return 0;
    uint64_t tag = pb_varint(r);
    *field = (unsigned)(tag >> 3);
    *wire = (unsigned)(tag & 7);
    if (*wire == 0) {
        *v = pb_varint(r);
    } else if (*wire == 1) { /* fixed64, little-endian */
        if (r->n - r->pos < 8) {
            r->bad = 1;
            return 0;
        }
        *v = 0;
        for (int i = 7; i >= 0; i--)
            *v = *v << 8 | r->s[r->pos + (size_t)i];
        r->pos += 8;
    } else if (*wire == 2) {
        uint64_t l = pb_varint(r);
        if (l > r->n - r->pos) {
            r->bad = 1;
            return 0;
        }
        *bytes = r->s + r->pos;
        *blen = (size_t)l;
        r->pos += (size_t)l;
    } else {
        r->bad = 1;
        return 0;
    }
    return !r->bad;
}

static void test_pprof_fields(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf gz, raw;
    pm_buf_init(&gz);
    pm_buf_init(&raw);
    CHECK(write_fmt("pprof", k.p, &gz) == 0);
    char err[256] = "";
    CHECK(pm_gz_is_gzip(gz.data, gz.len));
    CHECKF(pm_gz_inflate(gz.data, gz.len, (size_t)1 << 26, &raw, err, sizeof err) == 0, "%s", err);
    pb r = {(const unsigned char *)raw.data, raw.len, 0, 0};
    unsigned field, wire;
    uint64_t v = 0;
    const unsigned char *by = NULL;
    size_t bl = 0;
    int nsample_type = 0, nsample = 0, nloc = 0, nfunc = 0, nstr = 0, first_empty = 0, utf8_ok = 1;
    uint64_t sum0 = 0, sum1 = 0, max_loc_id = 0, max_func_ref = 0;
    int64_t period = 0;
    while (pb_next(&r, &field, &wire, &v, &by, &bl)) {
        if (field == 1 && wire == 2) {
            nsample_type++;
        } else if (field == 2 && wire == 2) {
            nsample++;
            pb s = {by, bl, 0, 0};
            unsigned f2, w2;
            uint64_t v2;
            const unsigned char *b2;
            size_t l2;
            while (pb_next(&s, &f2, &w2, &v2, &b2, &l2)) {
                if (f2 == 1 && w2 == 2) { /* packed location ids */
                    pb q = {b2, l2, 0, 0};
                    int depth = 0;
                    while (q.pos < q.n && !q.bad) {
                        uint64_t id = pb_varint(&q);
                        CHECK(id >= 1);
                        depth++;
                    }
                    CHECK(depth >= 1 && depth <= 2);
                } else if (f2 == 2 && w2 == 2) { /* packed values */
                    pb q = {b2, l2, 0, 0};
                    sum0 += pb_varint(&q);
                    sum1 += pb_varint(&q);
                    CHECK(q.pos == q.n && !q.bad);
                }
            }
            CHECK(!s.bad);
        } else if (field == 4 && wire == 2) {
            nloc++;
            pb s = {by, bl, 0, 0};
            unsigned f2, w2;
            uint64_t v2;
            const unsigned char *b2;
            size_t l2;
            while (pb_next(&s, &f2, &w2, &v2, &b2, &l2)) {
                if (f2 == 1 && w2 == 0 && v2 > max_loc_id)
                    max_loc_id = v2;
                if (f2 == 4 && w2 == 2) {
                    pb q = {b2, l2, 0, 0};
                    unsigned f3, w3;
                    uint64_t v3;
                    const unsigned char *b3;
                    size_t l3;
                    while (pb_next(&q, &f3, &w3, &v3, &b3, &l3))
                        if (f3 == 1 && w3 == 0 && v3 > max_func_ref)
                            max_func_ref = v3;
                }
            }
        } else if (field == 5 && wire == 2) {
            nfunc++;
        } else if (field == 6 && wire == 2) {
            if (nstr == 0)
                first_empty = bl == 0;
            nstr++;
            utf8_ok &= valid_utf8((const char *)by, bl);
        } else if (field == 12 && wire == 0) {
            period = (int64_t)v;
        }
    }
    CHECK(!r.bad && r.pos == r.n);
    CHECK(nsample_type == 2);
    CHECKF(nsample == 4, "%d samples", nsample);
    CHECK(sum0 == 10 && sum1 == 10000000);
    CHECK(nfunc == 3);
    CHECK(nloc >= 3 && max_loc_id == (uint64_t)nloc);
    CHECK(max_func_ref >= 1 && max_func_ref <= 3);
    CHECK(nstr > 5 && first_empty && utf8_ok);
    CHECK(period == 1000000);
    pm_buf_free(&gz);
    pm_buf_free(&raw);
    pm_profile_free(k.p);
}

/* ---- Chrome trace ------------------------------------------------------------------ */

static void check_chrome_balanced(pm_t *t, const jv *evs, int *nb_out)
{
    /* Per tid: a stack of open names; E closes the innermost. */
    double tids[8];
    const char *open[8][16];
    int depth[8] = {0}, ntid = 0, nb = 0, ne = 0;
    double last_ts = -1;
    for (size_t i = 0; i < jv_len(evs); i++) {
        const jv *e = jv_at(evs, i);
        const char *ph = jv_get(e, "ph")->s;
        if (strcmp(ph, "B") != 0 && strcmp(ph, "E") != 0)
            continue;
        double tid = jv_get(e, "tid")->num, ts = jv_get(e, "ts")->num;
        CHECK(ts >= last_ts);
        last_ts = ts;
        int ti = 0;
        while (ti < ntid && tids[ti] != tid)
            ti++;
        if (ti == ntid) {
            if (ntid == 8)
                continue;
            tids[ntid++] = tid;
        }
        if (ph[0] == 'B') {
            nb++;
            const jv *nm = jv_get(e, "name");
            CHECK(nm && nm->type == JV_STR && depth[ti] < 16);
            if (depth[ti] < 16)
                open[ti][depth[ti]++] = nm ? nm->s : "";
        } else {
            ne++;
            CHECK(depth[ti] > 0);
            if (depth[ti] > 0) {
                depth[ti]--;
                const jv *nm = jv_get(e, "name");
                if (nm) /* an E that names its slice names the innermost one */
                    CHECK(strcmp(nm->s, open[ti][depth[ti]]) == 0);
            }
        }
    }
    CHECKF(nb == ne, "%d B, %d E", nb, ne);
    for (int i = 0; i < ntid; i++)
        CHECK(depth[i] == 0);
    *nb_out = nb;
}

static void test_chrome_balanced(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(write_fmt("chrome", k.p, &b) == 0);
    CHECK(valid_utf8(b.data, b.len));
    jv doc;
    CHECK(jv_doc(b.data, b.len, &doc) == 0);
    CHECK(jv_all_utf8(&doc));
    const jv *evs = jv_get(&doc, "traceEvents");
    CHECK(evs && evs->type == JV_ARR);
    int nb = 0;
    check_chrome_balanced(t, evs, &nb);
    /* T1: main+work, then bad, then main alone; T2: work. */
    CHECKF(nb == 4, "%d B events", nb);
    /* Thread names from the M events, the hostile one cleaned. */
    int names = 0;
    for (size_t i = 0; i < jv_len(evs); i++) {
        const jv *e = jv_at(evs, i);
        if (strcmp(jv_get(e, "ph")->s, "M") == 0 && strcmp(jv_get(e, "name")->s, "thread_name") == 0) {
            const char *nm = jv_get(jv_get(e, "args"), "name")->s;
            names += strcmp(nm, "Main") == 0 || strncmp(nm, "w;x\n\"q\"", 7) == 0;
        }
    }
    CHECK(names == 2);
    jv_free(&doc);

    /* Without a timeline: the aggregate layout (X events) is valid too. */
    pm_timeline_enable(k.p, 0);
    b.len = 0;
    CHECK(write_fmt("chrome", k.p, &b) == 0);
    CHECK(jv_doc(b.data, b.len, &doc) == 0);
    evs = jv_get(&doc, "traceEvents");
    int nx = 0;
    for (size_t i = 0; i < jv_len(evs); i++)
        nx += strcmp(jv_get(jv_at(evs, i), "ph")->s, "X") == 0;
    /* One per node: main at lines 0, 2 and 3 (three nodes), work, bad; work. */
    CHECKF(nx == 6, "%d X events", nx);
    jv_free(&doc);
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

/* ---- spans (OTLP, Zipkin) ------------------------------------------------------------ */

/* The timeline's 4 slices as spans, in both formats: the same ids, a parent
 * that is an earlier span, ends after starts. */
static void test_spans_both_formats(pm_t *t)
{
    known k;
    known_init(&k);
    pm_meta_set_u64(k.p, PM_META_TIMELINE_EPOCH, 1700000000000000000ULL);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(write_fmt("zipkin", k.p, &b) == 0);
    CHECK(valid_utf8(b.data, b.len));
    jv doc;
    CHECK(jv_doc(b.data, b.len, &doc) == 0);
    CHECK(doc.type == JV_ARR && jv_len(&doc) == 4);
    char ids[4][17];
    for (size_t i = 0; i < jv_len(&doc) && i < 4; i++) {
        const jv *s = jv_at(&doc, i), *parent = jv_get(s, "parentId");
        CHECK(strlen(jv_get(s, "traceId")->s) == 32 && strlen(jv_get(s, "id")->s) == 16);
        snprintf(ids[i], sizeof ids[i], "%s", jv_get(s, "id")->s);
        int known_parent = !parent;
        for (size_t j = 0; parent && j < i; j++)
            known_parent |= strcmp(parent->s, ids[j]) == 0;
        CHECKF(known_parent, "span %zu", i);
        CHECK(jv_get(s, "timestamp")->num >= 1700000000000000.0 && jv_get(s, "duration")->num >= 1);
    }
    jv_free(&doc);

    b.len = 0;
    CHECK(write_fmt("otlp", k.p, &b) == 0);
    pb r = {(const unsigned char *)b.data, b.len, 0, 0};
    unsigned field, wire;
    uint64_t v = 0;
    const unsigned char *by = NULL;
    size_t bl = 0;
    int nspans = 0;
    /* ExportTraceServiceRequest.resource_spans -> scope_spans -> spans */
    while (pb_next(&r, &field, &wire, &v, &by, &bl)) {
        CHECK(field == 1 && wire == 2);
        pb rs = {by, bl, 0, 0};
        while (pb_next(&rs, &field, &wire, &v, &by, &bl)) {
            if (field != 2)
                continue;
            pb ss = {by, bl, 0, 0};
            while (pb_next(&ss, &field, &wire, &v, &by, &bl)) {
                if (field != 2)
                    continue;
                pb sp = {by, bl, 0, 0};
                uint64_t start = 0, end = 0;
                int has_id = 0;
                while (pb_next(&sp, &field, &wire, &v, &by, &bl)) {
                    if (field == 2 && bl == 8 && nspans < 4) {
                        char hex[17];
                        for (int i = 0; i < 8; i++)
                            snprintf(hex + 2 * i, 3, "%02x", by[i]);
                        has_id = strcmp(hex, ids[nspans]) == 0;
                    }
                    start = field == 7 ? v : start;
                    end = field == 8 ? v : end;
                }
                CHECK(!sp.bad && has_id && start >= 1700000000000000000ULL && end >= start);
                nspans++;
            }
            CHECK(!ss.bad);
        }
        CHECK(!rs.bad);
    }
    CHECK(!r.bad && nspans == 4);
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

/* ---- Gecko ------------------------------------------------------------------------- */

static void test_gecko_tables(pm_t *t)
{
    known k;
    known_init(&k);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            pm_timeline_enable(k.p, 0); /* samples from the trie */
        pm_buf b;
        pm_buf_init(&b);
        CHECK(write_fmt("gecko", k.p, &b) == 0);
        CHECK(valid_utf8(b.data, b.len));
        jv doc;
        CHECK(jv_doc(b.data, b.len, &doc) == 0);
        CHECK(jv_all_utf8(&doc));
        CHECK(jv_get(jv_get(&doc, "meta"), "version")->num == 28);
        const jv *ths = jv_get(&doc, "threads");
        CHECK(jv_len(ths) == 2);
        /* Nodes are per (frame, line): main appears at three lines. */
        const size_t want_stacks[2] = {5, 1}, want_frames[2] = {3, 1};
        for (size_t i = 0; i < jv_len(ths) && i < 2; i++) {
            const jv *th = jv_at(ths, i);
            const jv *st = jv_get(jv_get(th, "stackTable"), "data");
            const jv *ft = jv_get(jv_get(th, "frameTable"), "data");
            const jv *sm = jv_get(jv_get(th, "samples"), "data");
            const jv *strs = jv_get(th, "stringTable");
            const jv *fschema = jv_get(jv_get(th, "frameTable"), "schema");
            const jv *sschema = jv_get(jv_get(th, "samples"), "schema");
            CHECKF(jv_len(st) == want_stacks[i], "thread %zu: %zu stacks", i, jv_len(st));
            CHECKF(jv_len(ft) == want_frames[i], "thread %zu: %zu frames", i, jv_len(ft));
            CHECK(jv_len(strs) != (size_t)-1 && jv_len(strs) >= want_frames[i]);
            int loc = (int)jv_get(fschema, "location")->num;
            int sstack = (int)jv_get(sschema, "stack")->num;
            /* Rows as long as their schema; indexes inside their tables. */
            for (size_t r = 0; r < jv_len(ft); r++) {
                const jv *row = jv_at(ft, r);
                CHECK(jv_len(row) == jv_len(fschema));
                CHECK(jv_at(row, (size_t)loc)->num < (double)jv_len(strs));
            }
            for (size_t r = 0; r < jv_len(st); r++) {
                const jv *row = jv_at(st, r);
                const jv *prefix = jv_at(row, 0);
                CHECK(prefix->type == JV_NULL || prefix->num < (double)r);
                CHECK(jv_at(row, 1)->num < (double)jv_len(ft));
            }
            CHECK(jv_len(sm) >= 1);
            size_t total_samples = 0;
            for (size_t r = 0; r < jv_len(sm); r++) {
                const jv *s = jv_at(jv_at(sm, r), (size_t)sstack);
                CHECK(s && (s->type == JV_NULL || s->num < (double)jv_len(st)));
                total_samples++;
            }
            if (pass == 1) /* one per sample of the trie */
                CHECKF(total_samples == (i == 0 ? 6u : 4u), "thread %zu: %zu samples", i, total_samples);
        }
        jv_free(&doc);
        pm_buf_free(&b);
    }
    pm_profile_free(k.p);
}

/* ---- collapsed read back -------------------------------------------------------------- */

static void test_collapsed_round_trip(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_collapsed(k.p, k.ms, 0, &b) == 0);
    CHECK(pm_sniff_collapsed(b.data, b.len));
    char err[256] = "";
    pm_profile *q = pm_read_any(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        int qs = pm_metric_find(q, "samples");
        CHECK(qs >= 0 && pm_thread_count(q) == 2);
        size_t nl;
        const char *nm = pm_str_get(q, pm_thread_at(q, 0)->name, &nl);
        CHECK(nl == 4 && memcmp(nm, "Main", 4) == 0);
        CHECK(thread_total(q, 0, qs) == 6 && thread_total(q, 1, qs) == 4);
        /* Frames: name, file and first line come back (';' and LF as ':' and ' '). */
        int found_main = 0, found_bad = 0;
        for (uint32_t f = 0; f < pm_frame_count(q); f++) {
            const pm_frame *fr = pm_frame_get(q, f);
            const char *n = pm_str_get(q, fr->name, NULL), *file = pm_str_get(q, fr->file, NULL);
            found_main += strcmp(n, "main") == 0 && strcmp(file, "a.py") == 0 && fr->line == 1;
            found_bad += strncmp(n, "se:mi nl", 8) == 0 && fr->line == 5;
        }
        CHECK(found_main == 1 && found_bad == 1);
        /* Written again, the same text. */
        pm_buf b2;
        pm_buf_init(&b2);
        CHECK(pm_write_collapsed(q, qs, 0, &b2) == 0);
        CHECKF(b2.len == b.len && memcmp(b2.data, b.data, b.len) == 0, "%s\n---\n%s", b.data, b2.data);
        pm_buf_free(&b2);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

/* Every writer on the shared fixture (invalid UTF-8, NULs, extreme values):
 * the text formats are valid UTF-8 and parse. */
/* OTLP profiles: every dictionary table starts with its empty zero entry,
 * strings are valid UTF-8 (the hostile thread name included), one profile
 * per metric (samples, wall), every sample's stack and attributes index
 * entries that exist, and the samples' values add up to the profile's. */
static void test_otlp_profiles_tables(pm_t *t)
{
    known k;
    known_init(&k);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(write_fmt("otlp-profiles", k.p, &b) == 0);
    pb r = {(const unsigned char *)b.data, b.len, 0, 0};
    unsigned field, wire;
    uint64_t v = 0;
    const unsigned char *by = NULL, *profs[8];
    size_t bl = 0, plen[8], count[8] = {0};
    int nprof = 0, zero_first[8] = {0};
    while (pb_next(&r, &field, &wire, &v, &by, &bl)) {
        CHECK(wire == 2 && (field == 1 || field == 2));
        pb q = {by, bl, 0, 0};
        unsigned f2, w2;
        const unsigned char *b2;
        size_t l2;
        if (field == 2) { /* the dictionary: tables 1..7 */
            while (pb_next(&q, &f2, &w2, &v, &b2, &l2)) {
                CHECK(f2 >= 1 && f2 <= 7 && w2 == 2);
                if (f2 < 8 && count[f2]++ == 0)
                    zero_first[f2] = l2 == 0;
                if (f2 == 5)
                    CHECK(valid_utf8((const char *)b2, l2));
            }
            continue;
        }
        /* resource_profiles -> scope_profiles (2) -> profiles (2) */
        while (pb_next(&q, &f2, &w2, &v, &b2, &l2)) {
            if (f2 != 2)
                continue;
            pb sp = {b2, l2, 0, 0};
            unsigned f3, w3;
            const unsigned char *b3;
            size_t l3;
            while (pb_next(&sp, &f3, &w3, &v, &b3, &l3))
                if (f3 == 2 && nprof < 8) {
                    profs[nprof] = b3;
                    plen[nprof++] = l3;
                }
        }
    }
    for (unsigned f = 1; f <= 7; f++)
        CHECKF(count[f] >= 1 && zero_first[f], "table %u", f);
    CHECK(count[1] == 1 && count[4] == 1);  /* no mapping, no link (no trace labels) */
    CHECK(count[6] == 1 + 2 * 2);           /* thread.id and thread.name of 2 threads */
    CHECKF(nprof == 2, "%d profiles", nprof);
    int64_t totals[2] = {0, 0};
    for (int i = 0; i < nprof && i < 2; i++) {
        pb q = {profs[i], plen[i], 0, 0};
        unsigned f2, w2;
        const unsigned char *b2;
        size_t l2;
        while (pb_next(&q, &f2, &w2, &v, &b2, &l2)) {
            if (f2 != 2)
                continue;
            pb smp = {b2, l2, 0, 0};
            unsigned f3, w3;
            const unsigned char *b3;
            size_t l3;
            while (pb_next(&smp, &f3, &w3, &v, &b3, &l3)) {
                if (f3 == 1)
                    CHECK(v >= 1 && v < count[7]);
                if (f3 == 2 || f3 == 4) { /* packed: attribute indices, values */
                    pb pk = {b3, l3, 0, 0};
                    while (pk.pos < pk.n) {
                        uint64_t x = pb_varint(&pk);
                        if (f3 == 2)
                            CHECK(x >= 1 && x < count[6]);
                        else
                            totals[i] += (int64_t)x;
                    }
                }
            }
        }
    }
    int64_t want[2] = {0, 0};
    for (uint32_t i = 0; i < pm_node_count(k.p); i++) {
        want[0] += pm_node_value(k.p, i, k.ms);
        want[1] += pm_node_value(k.p, i, k.mw);
    }
    CHECKF(totals[0] == want[0] && totals[1] == want[1], "%lld/%lld %lld/%lld", (long long)totals[0],
           (long long)want[0], (long long)totals[1], (long long)want[1]);
    pm_buf_free(&b);
    pm_profile_free(k.p);
}

static void test_hostile_everywhere(pm_t *t)
{
    pm_profile *p = tu_sample_profile();
    const char *json_fmts[] = {"speedscope", "chrome", "gecko", "zipkin"};
    pm_buf b;
    pm_buf_init(&b);
    for (size_t i = 0; i < 4; i++) {
        b.len = 0;
        CHECKF(write_fmt(json_fmts[i], p, &b) == 0, "%s", json_fmts[i]);
        CHECKF(valid_utf8(b.data, b.len), "%s", json_fmts[i]);
        jv doc;
        CHECKF(jv_doc(b.data, b.len, &doc) == 0, "%s", json_fmts[i]);
        CHECKF(jv_all_utf8(&doc), "%s", json_fmts[i]);
        jv_free(&doc);
    }
    b.len = 0;
    CHECK(write_fmt("pstats", p, &b) == 0);
    pm_marshal m;
    size_t end;
    uint32_t root = pm_marshal_parse(&m, b.data, b.len, &end);
    CHECK(root != PM_MARSHAL_ERR && end == b.len);
    for (uint32_t i = 0; root != PM_MARSHAL_ERR && i < m.nv; i++)
        if (m.v[i].kind == PM_MV_STR)
            CHECK(valid_utf8(pm_mv_text(&m, &m.v[i]), m.v[i].n));
    pm_marshal_free(&m);
    b.len = 0;
    CHECK(write_fmt("pprof", p, &b) == 0);
    pm_buf raw;
    pm_buf_init(&raw);
    char err[256] = "";
    CHECK(pm_gz_inflate(b.data, b.len, (size_t)1 << 26, &raw, err, sizeof err) == 0);
    pb r = {(const unsigned char *)raw.data, raw.len, 0, 0};
    unsigned field, wire;
    uint64_t v;
    const unsigned char *by = NULL;
    size_t bl = 0;
    int nstr = 0;
    while (pb_next(&r, &field, &wire, &v, &by, &bl))
        if (field == 6 && wire == 2) {
            nstr++;
            CHECK(valid_utf8((const char *)by, bl));
        }
    CHECK(!r.bad && nstr > 0);
    pm_buf_free(&raw);
    /* Collapsed: one record per line, and it reads back. */
    b.len = 0;
    int ms = pm_metric_find(p, "samples");
    CHECK(pm_write_collapsed(p, ms, 0, &b) == 0);
    pm_profile *q = pm_read_collapsed(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        int64_t want = 0, got = 0;
        for (uint32_t th = 0; th < pm_thread_count(p); th++)
            want += thread_total(p, th, ms);
        for (uint32_t th = 0; th < pm_thread_count(q); th++)
            got += thread_total(q, th, pm_metric_find(q, "samples"));
        CHECK(want == got);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(p);
}

/* ---- speedscope reader ------------------------------------------------------------ */

static pm_profile *read_ss(pm_t *t, const char *doc, char *err, size_t errlen)
{
    CHECKF(pm_sniff_speedscope(doc, strlen(doc)), "sniff: %.60s", doc);
    err[0] = '\0';
    pm_profile *p = pm_read_any(doc, strlen(doc), err, errlen);
    return p;
}

static void test_speedscope_read_sampled(pm_t *t)
{
    /* Keys in an unusual order (profiles before shared), milliseconds. */
    const char *doc =
        "{\"profiles\":[{\"weights\":[1.5,2,0.25],\"samples\":[[0,1],[0],[2]],\"type\":\"sampled\","
        "\"name\":\"T\",\"unit\":\"milliseconds\",\"startValue\":0,\"endValue\":3.75}],"
        "\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
        "\"shared\":{\"frames\":[{\"name\":\"main\",\"file\":\"m.py\",\"line\":3,\"col\":1},"
        "{\"name\":\"[len]\"},{\"name\":\"<idle>\",\"line\":null}]}}";
    char err[256];
    pm_profile *p = pm_read_speedscope(doc, strlen(doc), err, sizeof err);
    CHECKF(p != NULL, "%s", err);
    if (!p)
        return;
    int mw = pm_metric_find(p, "wall");
    CHECK(mw >= 0 && pm_thread_count(p) == 1 && pm_frame_count(p) == 3);
    CHECK(thread_total(p, 0, mw) == 3750000);
    CHECK(pm_frame_get(p, 0)->line == 3 && pm_frame_get(p, 0)->kind == PM_FRAME_PYTHON);
    CHECK(pm_frame_get(p, 1)->kind == PM_FRAME_NATIVE && strcmp(pm_str_get(p, pm_frame_get(p, 1)->name, NULL), "len") == 0);
    CHECK(pm_frame_get(p, 2)->kind == PM_FRAME_SPECIAL);
    const pm_meta *d = pm_meta_find(p, "duration_s");
    CHECK(d && d->kind == PM_META_NUM && fabs(d->num - 0.00375) < 1e-12);
    /* The [main, len] stack: main's total is its own 2 ms plus len's 1.5 ms. */
    int64_t *tot = calloc(pm_node_count(p), sizeof(int64_t));
    pm_totals(p, mw, tot);
    for (uint32_t i = 1; i < pm_node_count(p); i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame == 0)
            CHECK(tot[i] == 3500000 && pm_node_value(p, i, mw) == 2000000);
    }
    free(tot);
    pm_profile_free(p);

    /* Unit none and no weights: one count per sample. */
    const char *doc2 = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":"
                       "[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\",\"unit\":\"none\",\"samples\":[[0],[0],[]]}]}";
    p = read_ss(t, doc2, err, sizeof err);
    CHECKF(p != NULL, "%s", err);
    if (p) {
        int ms = pm_metric_find(p, "samples");
        CHECK(ms >= 0 && thread_total(p, 0, ms) == 3);
        pm_profile_free(p);
    }
}

static void test_speedscope_read_evented(pm_t *t)
{
    /* a opens at 0, b inside it 10..30, a closes at 50, c opens at 60 and is
     * still open at endValue 100 (microseconds). */
    const char *doc =
        "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":"
        "[{\"name\":\"a\",\"file\":\"x.py\",\"line\":1},{\"name\":\"b\",\"file\":\"x.py\",\"line\":5},{\"name\":\"c\"}]},"
        "\"profiles\":[{\"type\":\"evented\",\"name\":\"E\",\"unit\":\"microseconds\",\"startValue\":0,"
        "\"endValue\":100,\"events\":[{\"type\":\"O\",\"frame\":0,\"at\":0},{\"type\":\"O\",\"frame\":1,\"at\":10},"
        "{\"type\":\"C\",\"frame\":1,\"at\":30},{\"type\":\"C\",\"frame\":0,\"at\":50},"
        "{\"type\":\"O\",\"frame\":2,\"at\":60}]}]}";
    char err[256];
    pm_profile *p = read_ss(t, doc, err, sizeof err);
    CHECKF(p != NULL, "%s", err);
    if (!p)
        return;
    int mw = pm_metric_find(p, "wall");
    CHECK(mw >= 0 && thread_total(p, 0, mw) == 90000);
    for (uint32_t i = 1; i < pm_node_count(p); i++) {
        const pm_node *nd = pm_node_get(p, i);
        int64_t v = pm_node_value(p, i, mw);
        if (nd->frame == 0)
            CHECK(v == 30000 && nd->parent == pm_thread_at(p, 0)->root);
        if (nd->frame == 1)
            CHECK(v == 20000 && pm_node_get(p, nd->parent)->frame == 0);
        if (nd->frame == 2)
            CHECK(v == 40000);
    }
    pm_profile_free(p);
}

static void test_speedscope_read_hostile(pm_t *t)
{
    static const char *const bad[] = {
        "{\"$schema\":\"speedscope\"}",
        "{\"$schema\":\"speedscope\",\"profiles\":[{\"type\":\"sampled\",\"samples\":[[0]],\"weights\":[1]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\","
        "\"samples\":[[0]],\"weights\":[1,2]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\","
        "\"samples\":[[0]],\"weights\":[-1]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"sampled\","
        "\"unit\":\"seconds\",\"samples\":[[0]],\"weights\":[1e300]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"evented\","
        "\"events\":[{\"type\":\"C\",\"frame\":0,\"at\":1}]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"evented\","
        "\"events\":[{\"type\":\"O\",\"frame\":0,\"at\":5},{\"type\":\"C\",\"frame\":0,\"at\":1}]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":\"evented\","
        "\"events\":[{\"type\":\"X\",\"frame\":0,\"at\":5}]}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"file\":\"a\"}]},\"profiles\":[]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[]},\"profiles\":[{\"type\":\"other\"}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[]},\"profiles\":[{}]}",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[]},\"profiles\":[{\"type\":\"sampled\"}]} x",
        "{\"$schema\":\"speedscope\",\"shared\":{\"frames\":[{\"name\":\"\\ud800\"}]},\"profiles\":[]}",
        "{\"$schema\":\"speedscope\",\"profiles\":[",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        pm_profile *p = pm_read_speedscope(bad[i], strlen(bad[i]), err, sizeof err);
        CHECKF(p == NULL && err[0] && !strchr(err, '\n'), "case %zu: %s", i, err);
        pm_profile_free(p);
    }
    /* Hostile names (invalid UTF-8 kept as bytes through \udcXX, ';', LF,
     * quotes) read back and are written as valid output by every writer. */
    const char *doc = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":"
                      "[{\"name\":\"a;b\\nc \\\"q\\\" \\udcff\\udced\\udca0\\udc80\"}]},\"profiles\":[{\"type\":"
                      "\"sampled\",\"name\":\"t;\\n\",\"unit\":\"none\",\"samples\":[[0,0]],\"weights\":[2]}]}";
    char err[256];
    pm_profile *p = read_ss(t, doc, err, sizeof err);
    CHECKF(p != NULL, "%s", err);
    if (p) {
        size_t nl;
        const char *nm = pm_str_get(p, pm_frame_get(p, 0)->name, &nl);
        CHECK(nl == 14 && memcmp(nm, "a;b\nc \"q\" \xff\xed\xa0\x80", 14) == 0);
        const char *json_fmts[] = {"speedscope", "chrome", "gecko"};
        pm_buf b;
        pm_buf_init(&b);
        for (size_t i = 0; i < 3; i++) {
            b.len = 0;
            CHECK(write_fmt(json_fmts[i], p, &b) == 0);
            CHECKF(valid_utf8(b.data, b.len), "%s", json_fmts[i]);
        }
        pm_buf_free(&b);
        pm_profile_free(p);
    }
    CHECK(!pm_sniff_speedscope("{\"a\":1}", 7));
    CHECK(!pm_sniff_speedscope("[]", 2));
    CHECK(!pm_sniff_speedscope("{\"$schema\":\"x\"}", 15));
}

const pm_test pm_tests_interchange[] = {
    {"interchange/pstats_decodes", test_pstats_decodes},
    {"interchange/speedscope_frames_weights", test_speedscope_frames_weights},
    {"interchange/pprof_fields", test_pprof_fields},
    {"interchange/chrome_balanced", test_chrome_balanced},
    {"interchange/spans_both_formats", test_spans_both_formats},
    {"interchange/otlp_profiles_tables", test_otlp_profiles_tables},
    {"interchange/gecko_tables", test_gecko_tables},
    {"interchange/collapsed_round_trip", test_collapsed_round_trip},
    {"interchange/hostile_everywhere", test_hostile_everywhere},
    {"interchange/speedscope_read_sampled", test_speedscope_read_sampled},
    {"interchange/speedscope_read_evented", test_speedscope_read_evented},
    {"interchange/speedscope_read_hostile", test_speedscope_read_hostile},
    {NULL, NULL},
};
