/* test_pyro.c — the .pyro writer and reader: lossless round trip, and a
 * reader that refuses (never crashes on) truncated, corrupted, garbage and
 * out-of-range input. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec/pm_gzip.h"
#include "test_util.h"

static void test_roundtrip(pm_t *t)
{
    pm_profile *p = tu_sample_profile();
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_pyro(p, &b) == 0);
    CHECK(b.len > 18 && (unsigned char)b.data[0] == 0x1f && (unsigned char)b.data[1] == 0x8b);
    char err[256] = "x";
    pm_profile *q = pm_read_pyro(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    CHECK(err[0] == '\0');
    if (q) {
        tu_check_same(t, p, q);
        /* Writing the copy gives the same bytes: nothing drifts. */
        pm_buf b2;
        pm_buf_init(&b2);
        CHECK(pm_write_pyro(q, &b2) == 0);
        CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
        pm_buf_free(&b2);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_empty_profile_roundtrip(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_pyro(p, &b) == 0);
    char err[256];
    pm_profile *q = pm_read_pyro(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        tu_check_same(t, p, q);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(p);
}

/* The decompressed JSON of a profile's .pyro file. */
static void pyro_json(const pm_profile *p, pm_buf *json)
{
    pm_buf z;
    pm_buf_init(&z);
    pm_write_pyro(p, &z);
    char err[128];
    pm_gz_inflate(z.data, z.len, (size_t)1 << 30, json, err, sizeof err);
    pm_buf_free(&z);
}

static void test_json_is_python_compatible(pm_t *t)
{
    pm_profile *p = tu_sample_profile();
    pm_buf j;
    pm_buf_init(&j);
    pyro_json(p, &j);
    CHECK(tu_contains(j.data, "\"format\":\"pyrometer\""));
    CHECK(tu_contains(j.data, "\"version\":1"));
    /* Invalid UTF-8 as surrogateescape, controls escaped, no raw ESC. */
    CHECK(tu_contains(j.data, "bad\\udcff\\udcfe\\udced\\udca0\\udc80name\\u0000x"));
    CHECK(tu_contains(j.data, "/tmp/\\u001b[31mred\\u001b[0m.py"));
    CHECK(tu_contains(j.data, "caf\xc3\xa9_\xf0\x9f\x94\xa5"));
    CHECK(tu_contains(j.data, "\"num\":\"nan\""));
    CHECK(tu_contains(j.data, "\"num\":\"-inf\""));
    CHECK(tu_contains(j.data, "{\"key\":\"duration_s\",\"num\":1.5}"));
    CHECK(tu_contains(j.data, "\\u003cscript>"));
    CHECK(memchr(j.data, 0x1b, j.len) == NULL);
    CHECK(tu_contains(j.data, "\"timeline\":{\"capacity\":4,\"dropped\":2,"));
    CHECK(tu_contains(j.data, "[18446744073709551615,1,"));
    /* The plain JSON reads back too. */
    char err[256];
    pm_profile *q = pm_read_pyro(j.data, j.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        tu_check_same(t, p, q);
        pm_profile_free(q);
    }
    pm_buf_free(&j);
    pm_profile_free(p);
}

static void test_surrogateescape_names(pm_t *t)
{
    /* Every byte value in names and files, alone and in bad sequences. */
    pm_profile *p = pm_profile_new();
    pm_metric_add(p, "samples", "count");
    pm_id th = pm_thread_get(p, 1, 0);
    pm_thread_set_name(p, th, "\xff\xfe thread \xc3", 11);
    pm_id cur = pm_thread_at(p, th)->root;
    for (int i = 0; i < 256; i++) {
        char name[4] = {(char)i, (char)(255 - i), (char)0x80, 'x'};
        pm_id f = pm_frame_intern(p, pm_str_intern(p, name, 4), pm_str_intern(p, name + 1, 2), i, PM_FRAME_PYTHON);
        cur = pm_node_child(p, cur, f, i);
        pm_node_add(p, cur, 0, 1);
    }
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_pyro(p, &b) == 0);
    char err[256];
    pm_profile *q = pm_read_pyro(b.data, b.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        tu_check_same(t, p, q);
        pm_profile_free(q);
    }
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_foreign_locale(pm_t *t)
{
    /* A host program may run under a locale whose decimal point is ','
     * (the Makefile builds de_DE.UTF-8 under $LOCPATH when it can). */
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE", NULL};
    const char *got = NULL;
    for (int i = 0; names[i] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    if (!got || strcmp(probe, "1,5") != 0)
        printf("     (no locale with a decimal comma here: locale checks are vacuous)\n");
    pm_profile *p = tu_sample_profile();
    pm_buf j;
    pm_buf_init(&j);
    pyro_json(p, &j);
    CHECK(tu_contains(j.data, "{\"key\":\"duration_s\",\"num\":1.5}"));
    CHECK(tu_contains(j.data, "{\"key\":\"third\",\"num\":0.3333333333333333}"));
    char err[256];
    pm_profile *q = pm_read_pyro(j.data, j.len, err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        tu_check_same(t, p, q);
        pm_profile_free(q);
    }
    /* The report's numbers too. */
    pm_report_opts o;
    pm_report_opts_default(&o);
    o.metric = 1;
    j.len = 0;
    CHECK(pm_write_report(p, &o, &j) == 0);
    CHECK(tu_contains(j.data, "duration: 1.500 s"));
    CHECK(!tu_contains(j.data, "1,500"));
    setlocale(LC_NUMERIC, "C");
    pm_buf_free(&j);
    pm_profile_free(p);
}

/* Reads data that must be refused; checks the error is one useful line. */
static void expect_reject(pm_t *t, const void *data, size_t len, const char *needle)
{
    char err[256];
    memset(err, 'Z', sizeof err);
    pm_profile *q = pm_read_pyro(data, len, err, sizeof err);
    CHECKF(q == NULL, "accepted, expected '%s'", needle ? needle : "an error");
    if (q) {
        pm_profile_free(q);
        return;
    }
    CHECK(memchr(err, '\0', sizeof err) != NULL);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(strncmp(err, "invalid .pyro file: ", 20) == 0 || strncmp(err, "cannot read", 11) == 0);
    if (needle)
        CHECKF(tu_contains(err, needle), "error '%s' lacks '%s'", err, needle);
}

static const char *const MINIMAL =
    "{\"format\":\"pyrometer\",\"version\":1,\"meta\":[{\"key\":\"mode\",\"str\":\"wall\"}],"
    "\"metrics\":[{\"name\":\"samples\",\"unit\":\"count\"}],"
    "\"strings\":[\"\",\"f\",\"x.py\",\"T\",\"mode\",\"wall\",\"samples\",\"count\"],"
    "\"frames\":[[1,2,1,0]],"
    "\"threads\":[{\"ident\":5,\"native_id\":0,\"name\":\"T\",\"root\":1}],"
    "\"nodes\":[[null,null,0,null],[0,null,0,0],[1,0,3,0]],"
    "\"values\":[[0,0,4]],"
    "\"timeline\":{\"capacity\":2,\"dropped\":0,\"events\":[[5,0,2]]},"
    "\"allocations\":{\"bucket_ns\":1000000,\"records\":[[2,0,null,64,1],[1,1,3,128,2]]}}";

/* MINIMAL with the first occurrence of `from` replaced by `to`. */
static char *variant(const char *from, const char *to)
{
    const char *at = strstr(MINIMAL, from);
    if (!at)
        return NULL;
    size_t a = (size_t)(at - MINIMAL), fl = strlen(from), tl = strlen(to), n = strlen(MINIMAL);
    char *s = malloc(n - fl + tl + 1);
    memcpy(s, MINIMAL, a);
    memcpy(s + a, to, tl);
    memcpy(s + a + tl, at + fl, n - a - fl + 1);
    return s;
}

static void reject_variant(pm_t *t, const char *from, const char *to, const char *needle)
{
    char *s = variant(from, to);
    CHECKF(s != NULL, "fixture lacks %s", from);
    if (!s)
        return;
    expect_reject(t, s, strlen(s), needle);
    free(s);
}

static void test_minimal_and_variants(pm_t *t)
{
    char err[256];
    pm_profile *q = pm_read_pyro(MINIMAL, strlen(MINIMAL), err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q) {
        CHECK(pm_node_count(q) == 3 && pm_node_value(q, 2, 0) == 4);
        CHECK(pm_thread_count(q) == 1 && pm_thread_at(q, 0)->ident == 5);
        size_t nr = 0;
        const pm_alloc_rec *r = pm_allocs_records(q, &nr);
        CHECK(pm_allocs_bucket_ns(q) == 1000000 && nr == 2);
        CHECK(nr == 2 && r[0].node == 2 && r[0].at == 0 && r[0].freed == PM_NONE && r[0].bytes == 64);
        CHECK(nr == 2 && r[1].node == 1 && r[1].at == 1 && r[1].freed == 3 && r[1].count == 2);
        pm_profile_free(q);
    }
    /* Without the section: no allocation records, as before it existed. */
    char *plain = variant(",\"allocations\":{\"bucket_ns\":1000000,\"records\":[[2,0,null,64,1],[1,1,3,128,2]]}", "");
    q = plain ? pm_read_pyro(plain, strlen(plain), err, sizeof err) : NULL;
    CHECKF(q != NULL, "%s", err);
    if (q)
        CHECK(pm_allocs_bucket_ns(q) == 0);
    pm_profile_free(q);
    free(plain);
    /* Accepted variations: key order, unknown keys, absent optional parts. */
    const char *reordered =
        "{\"nodes\":[[null,null,0,null]],\"values\":[],\"extra\":{\"x\":[1,2,{\"y\":null}]},"
        "\"strings\":[\"\"],\"frames\":[],\"threads\":[],\"metrics\":[],\"version\":1,\"format\":\"pyrometer\"}";
    q = pm_read_pyro(reordered, strlen(reordered), err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    pm_profile_free(q);

    reject_variant(t, "\"format\":\"pyrometer\"", "\"format\":\"other\"", "not a pyrometer profile");
    reject_variant(t, "\"version\":1", "\"version\":2", "unsupported version 2");
    reject_variant(t, "\"version\":1,", "", "missing key \"version\"");
    reject_variant(t, "\"version\":1,", "\"version\":1,\"version\":1,", "duplicate key");
    reject_variant(t, "\"strings\":[\"\",", "\"strings\":[\"z\",", "strings[0]");
    reject_variant(t, "\"x.py\",", "\"x.py\",\"f\",", "duplicate");
    reject_variant(t, "[1,2,1,0]", "[1,99,1,0]", "frame file 99 out of range");
    reject_variant(t, "[1,2,1,0]", "[1,2,1,3]", "frame kind 3 out of range");
    reject_variant(t, "[1,2,1,0]", "[1,2,4294967296,0]", "frame line");
    reject_variant(t, "[1,2,1,0]", "[1,2,1]", "array too short");
    reject_variant(t, "[1,2,1,0]", "[1,2,1,0,0]", "array too long");
    reject_variant(t, "[1,2,1,0]", "[-1,2,1,0]", "out of range");
    reject_variant(t, "[1,2,1,0]", "[\"1\",2,1,0]", "expected a number");
    reject_variant(t, "[1,0,3,0]", "[2,0,3,0]", "node parent 2 out of range");
    reject_variant(t, "[1,0,3,0]", "[7,0,3,0]", "node parent 7 out of range");
    reject_variant(t, "[1,0,3,0]", "[1,5,3,0]", "node frame 5 out of range");
    reject_variant(t, "[1,0,3,0]", "[1,0,3,1]", "node thread 1 out of range");
    reject_variant(t, "[1,0,3,0]", "[1,null,3,0]", "only thread roots");
    reject_variant(t, "[1,0,3,0]]", "[1,0,3,0],[1,0,3,0]]", "duplicates nodes[2]");
    reject_variant(t, "[0,null,0,0]", "[0,null,0,null]", "thread root does not match");
    reject_variant(t, "[0,null,0,0]", "[0,0,0,0]", "a thread root has no frame");
    reject_variant(t, "[null,null,0,null]", "[null,null,1,null]", "nodes[0] must be the root");
    reject_variant(t, "\"root\":1", "\"root\":2", "thread root does not match");
    reject_variant(t, "\"ident\":5,", "", "needs ident");
    reject_variant(t, "\"ident\":5,", "\"ident\":-5,", "out of range");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[[0,0]]", "array too short");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[[0,0,4,5]]", "array too long");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[]", "array too short");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[[0,0,4],[1,1,1]]", "array too long");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[[0,0,1.5]]", "expected an integer");
    reject_variant(t, "\"values\":[[0,0,4]]", "\"values\":[[0,0,9223372036854775808]]", "out of range");
    reject_variant(t, "{\"name\":\"samples\",\"unit\":\"count\"}",
                   "{\"name\":\"a\",\"unit\":\"u\"},{\"name\":\"b\",\"unit\":\"u\"},{\"name\":\"c\",\"unit\":\"u\"},"
                   "{\"name\":\"d\",\"unit\":\"u\"},{\"name\":\"e\",\"unit\":\"u\"},{\"name\":\"f\",\"unit\":\"u\"},"
                   "{\"name\":\"g\",\"unit\":\"u\"},{\"name\":\"h\",\"unit\":\"u\"},{\"name\":\"i\",\"unit\":\"u\"}",
                   "more than 8 metrics");
    reject_variant(t, "{\"name\":\"samples\",\"unit\":\"count\"}",
                   "{\"name\":\"samples\",\"unit\":\"count\"},{\"name\":\"samples\",\"unit\":\"count\"}",
                   "metrics[1] is a duplicate");
    reject_variant(t, "\"unit\":\"count\"", "\"unit\":7", "expected a string");
    reject_variant(t, "{\"key\":\"mode\",\"str\":\"wall\"}",
                   "{\"key\":\"mode\",\"str\":\"wall\"},{\"key\":\"mode\",\"num\":1}", "repeats a key");
    reject_variant(t, "{\"key\":\"mode\",\"str\":\"wall\"}", "{\"key\":\"mode\",\"str\":\"wall\",\"num\":1}",
                   "one of str, num");
    reject_variant(t, "{\"key\":\"mode\",\"str\":\"wall\"}", "{\"key\":\"mode\",\"num\":\"lots\"}", "bad number");
    reject_variant(t, "\"events\":[[5,0,2]]", "\"events\":[[5,0,0]]", "not in its thread");
    reject_variant(t, "\"events\":[[5,0,2]]", "\"events\":[[5,1,2]]", "event thread 1 out of range");
    reject_variant(t, "\"events\":[[5,0,2]]", "\"events\":[[5,0,3]]", "event node 3 out of range");
    reject_variant(t, "\"events\":[[5,0,2]]", "\"events\":[[5,0,2],[6,0,2],[7,0,2]]", "more events than");
    reject_variant(t, "\"capacity\":2", "\"capacity\":0", "disabled timeline");
    reject_variant(t, "\"capacity\":2,", "", "needs a capacity");
    reject_variant(t, "[2,0,null,64,1]", "[0,0,null,64,1]", "charged to the root");
    reject_variant(t, "[2,0,null,64,1]", "[3,0,null,64,1]", "allocation node 3 out of range");
    reject_variant(t, "[1,1,3,128,2]", "[1,4,3,128,2]", "freed before it was made");
    reject_variant(t, "[2,0,null,64,1]", "[2,-1,null,64,1]", "allocation bucket -1 out of range");
    reject_variant(t, "[2,0,null,64,1]", "[2,4294967295,null,64,1]", "allocation bucket 4294967295 out of range");
    reject_variant(t, "[2,0,null,64,1]", "[2,0,null,64]", "array too short");
    reject_variant(t, "[2,0,null,64,1]", "[2,0,null,64,1.5]", "expected an integer");
    reject_variant(t, "\"bucket_ns\":1000000", "\"bucket_ns\":0", "bucket_ns above 0");
    reject_variant(t, "\"bucket_ns\":1000000,", "", "bucket_ns above 0");
    reject_variant(t, "}}", "}} x", "trailing data");
    reject_variant(t, "\"f\",", "\"f\\udc00\",", "unpaired surrogate");

    /* A huge capacity is fine: storage follows the events. */
    char *s = variant("\"capacity\":2", "\"capacity\":18446744073709551615");
    q = pm_read_pyro(s, strlen(s), err, sizeof err);
    CHECKF(q != NULL, "%s", err);
    if (q)
        CHECK(pm_timeline_capacity(q) == (size_t)UINT64_MAX);
    pm_profile_free(q);
    free(s);
}

static void test_garbage(pm_t *t)
{
    expect_reject(t, "", 0, "empty");
    expect_reject(t, NULL, 5, "no data");
    expect_reject(t, "hello", 5, "neither gzip nor JSON");
    expect_reject(t, "   ", 3, "neither gzip nor JSON");
    expect_reject(t, "[1,2]", 5, "neither gzip nor JSON");
    expect_reject(t, "{}", 2, "missing key");
    expect_reject(t, "{", 1, "unexpected end");
    expect_reject(t, "\x1f\x8b", 2, "truncated");
    expect_reject(t, "\x1f\x8bgarbage-garbage-garbage", 25, "corrupt gzip");
    /* No error buffer at all must still be safe. */
    CHECK(pm_read_pyro("x", 1, NULL, 0) == NULL);
    char tiny[8];
    CHECK(pm_read_pyro("x", 1, tiny, sizeof tiny) == NULL && strlen(tiny) == 7);
    /* A gzip member followed by more bytes. */
    pm_profile *p = pm_profile_new();
    pm_buf b;
    pm_buf_init(&b);
    pm_write_pyro(p, &b);
    pm_buf_put(&b, "x", 1);
    expect_reject(t, b.data, b.len, "trailing data after the gzip stream");
    pm_buf_free(&b);
    pm_profile_free(p);
    /* Deep nesting inside an unknown key. */
    size_t deep = 200000;
    char *s = malloc(deep + 64);
    strcpy(s, "{\"x\":");
    memset(s + 5, '[', deep);
    s[5 + deep] = '\0';
    expect_reject(t, s, strlen(s), "nested too deeply");
    free(s);
}

static void test_decompression_cap(pm_t *t)
{
    /* 64 MiB of zeros compress to ~64 KiB; a cap below refuses it without
     * allocating the whole output. */
    size_t n = (size_t)64 << 20;
    pm_buf z;
    pm_buf_init(&z);
    pm_gz_writer w;
    pm_gz_begin(&w, &z, 9);
    char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 64; i++)
        pm_gz_write(&w, zeros, 1 << 20);
    CHECK(pm_gz_end(&w) == 0);
    free(zeros);
    CHECK(z.len < n / 100);
    pm_buf out;
    pm_buf_init(&out);
    char err[128];
    CHECK(pm_gz_inflate(z.data, z.len, (size_t)1 << 20, &out, err, sizeof err) == -1);
    CHECK(tu_contains(err, "exceeds 1048576 bytes"));
    CHECK(out.cap < ((size_t)4 << 20));
    pm_buf_free(&out);
    pm_buf_init(&out);
    CHECK(pm_gz_inflate(z.data, z.len, n, &out, err, sizeof err) == 0 && out.len == n);
    pm_buf_free(&out);
    pm_buf_free(&z);
}

/* Runs every writer on a profile the reader accepted: an accepted model
 * must be safe for all of them. */
static void exercise_writers(pm_t *t, pm_profile *q)
{
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_pyro(q, &b) == 0);
    for (int m = 0; m < pm_metric_count(q); m++) {
        b.len = 0;
        CHECK(pm_write_collapsed(q, m, 0, &b) == 0);
        b.len = 0;
        CHECK(pm_write_collapsed(q, m, 1, &b) == 0);
        pm_report_opts o;
        pm_report_opts_default(&o);
        o.metric = m;
        b.len = 0;
        CHECK(pm_write_report(q, &o, &b) == 0);
        pm_func_stat *st;
        long n = pm_func_stats(q, m, PM_NONE, &st);
        CHECK(n >= 0);
        free(st);
    }
    pm_buf_free(&b);
}

static void test_truncations(pm_t *t)
{
    pm_profile *p = tu_sample_profile();
    pm_buf b;
    pm_buf_init(&b);
    pm_write_pyro(p, &b);
    int accepted = 0;
    for (size_t len = 0; len < b.len; len++) {
        /* A copy of exactly len bytes, so ASan sees any over-read. */
        char *c = malloc(len ? len : 1);
        memcpy(c, b.data, len);
        char err[256];
        pm_profile *q = pm_read_pyro(c, len, err, sizeof err);
        if (q) {
            accepted++;
            pm_profile_free(q);
        } else {
            CHECK(err[0] != '\0');
        }
        free(c);
    }
    CHECK(accepted == 0);
    /* The same over the plain JSON. */
    pm_buf j;
    pm_buf_init(&j);
    pyro_json(p, &j);
    for (size_t len = 0; len < j.len; len++) {
        char *c = malloc(len ? len : 1);
        memcpy(c, j.data, len);
        char err[256];
        pm_profile *q = pm_read_pyro(c, len, err, sizeof err);
        /* Only cutting the final newline leaves a whole document. */
        CHECKF(q == NULL || len == j.len - 1, "accepted a cut at %zu", len);
        if (!q)
            CHECK(err[0] != '\0');
        pm_profile_free(q);
        free(c);
    }
    pm_buf_free(&j);
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_mutations(pm_t *t)
{
    pm_profile *p = tu_sample_profile();
    pm_buf j;
    pm_buf_init(&j);
    pyro_json(p, &j);
    static const unsigned char repl[] = {0, '0', '1', '9', '-', '"', '\\', '[', ']', '{', '}', ',', ':', 'n', ' ', 0xff};
    int accepted = 0, rejected = 0;
    char *c = malloc(j.len);
    for (size_t i = 0; i < j.len; i++) {
        for (size_t k = 0; k < sizeof repl; k++) {
            if ((unsigned char)j.data[i] == repl[k])
                continue;
            memcpy(c, j.data, j.len);
            c[i] = (char)repl[k];
            char err[256];
            pm_profile *q = pm_read_pyro(c, j.len, err, sizeof err);
            if (q) {
                accepted++;
                exercise_writers(t, q);
                pm_profile_free(q);
            } else {
                rejected++;
                if (err[0] == '\0' || strchr(err, '\n'))
                    CHECKF(0, "bad error for mutation at %zu: '%s'", i, err);
            }
        }
    }
    free(c);
    CHECK(rejected > accepted);
    /* Bit flips in the compressed file: the CRC or the parser refuses. */
    pm_buf b;
    pm_buf_init(&b);
    pm_write_pyro(p, &b);
    char *z = malloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(z, b.data, b.len);
            z[i] = (char)(z[i] ^ (1 << bit));
            char err[256];
            pm_profile *q = pm_read_pyro(z, b.len, err, sizeof err);
            if (q) {
                exercise_writers(t, q);
                pm_profile_free(q);
            }
        }
    }
    free(z);
    pm_buf_free(&b);
    pm_buf_free(&j);
    pm_profile_free(p);
}

const pm_test pm_tests_pyro[] = {
    {"pyro/roundtrip", test_roundtrip},
    {"pyro/empty_profile_roundtrip", test_empty_profile_roundtrip},
    {"pyro/json_is_python_compatible", test_json_is_python_compatible},
    {"pyro/surrogateescape_names", test_surrogateescape_names},
    {"pyro/foreign_locale", test_foreign_locale},
    {"pyro/minimal_and_variants", test_minimal_and_variants},
    {"pyro/garbage", test_garbage},
    {"pyro/decompression_cap", test_decompression_cap},
    {"pyro/truncations", test_truncations},
    {"pyro/mutations", test_mutations},
    {NULL, NULL},
};
