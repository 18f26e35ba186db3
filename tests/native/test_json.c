/* test_json.c — the JSON writer's escaping and the pull reader. */
#include <stdlib.h>
#include <string.h>

#include "codec/pm_json.h"
#include "codec/pm_num.h"
#include "test_util.h"

/* Writes bytes as a JSON string, reads them back, compares. */
static int roundtrip(const char *s, size_t len, pm_buf *json)
{
    json->len = 0;
    pm_jw_str(json, s, len);
    pm_jr r;
    pm_jr_init(&r, json->data, json->len);
    pm_buf out;
    pm_buf_init(&out);
    int ok = pm_jr_string(&r, &out) == 0 && pm_jr_end(&r) == 0 && out.len == len &&
             (len == 0 || memcmp(out.data, s, len) == 0);
    pm_buf_free(&out);
    return ok;
}

static void test_escaping(pm_t *t)
{
    pm_buf b;
    pm_buf_init(&b);
    pm_jw_str(&b, "a\"b\\c\n\r\t\x01\x7f</x>", 14);
    CHECK(strcmp(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\\u003c/x>\"") == 0);
    b.len = 0;
    /* Valid UTF-8 as is; U+2028 escaped; bad bytes as \udcXX. */
    pm_jw_str(&b, "\xc3\xa9\xe2\x80\xa8\xff\xc3", 7);
    CHECK(strcmp(b.data, "\"\xc3\xa9\\u2028\\udcff\\udcc3\"") == 0);
    b.len = 0;
    /* An encoded surrogate (ED A0 80) is not valid UTF-8: three escapes. */
    pm_jw_str(&b, "\xed\xa0\x80", 3);
    CHECK(strcmp(b.data, "\"\\udced\\udca0\\udc80\"") == 0);
    b.len = 0;
    pm_jw_str(&b, "a\0b", 3);
    CHECK(strcmp(b.data, "\"a\\u0000b\"") == 0);

    /* Every single byte, and every pair of bytes, round-trips. */
    int bad = 0;
    char s[4];
    for (int i = 0; i < 256; i++) {
        s[0] = (char)i;
        bad += !roundtrip(s, 1, &b);
        for (int j = 0; j < 256; j++) {
            s[1] = (char)j;
            bad += !roundtrip(s, 2, &b);
        }
    }
    CHECK(bad == 0);
    /* Overlong, out of range, truncated sequences, valid 4-byte. */
    const char *cases[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xf0\x9f\x94", "\xf0\x9f\x94\xa5",
                           "\xef\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(roundtrip(cases[i], strlen(cases[i]), &b));
    pm_buf_free(&b);
}

static void test_reader_values(pm_t *t)
{
    const char *doc = " { \"a\" : [1, -2, 18446744073709551615, 9223372036854775807, -9223372036854775808],"
                      "\"b\": \"x\\u00e9\\ud83d\\udd25\\udc80\\/\", \"c\": null, \"d\": [true, false, {}, []],"
                      "\"e\": 1.5e3 } ";
    pm_jr r;
    pm_jr_init(&r, doc, strlen(doc));
    pm_buf key, s;
    pm_buf_init(&key);
    pm_buf_init(&s);
    CHECK(pm_jr_object_begin(&r) == 0);
    CHECK(pm_jr_object_next(&r, &key) == 1 && strcmp(key.data, "a") == 0);
    CHECK(pm_jr_array_begin(&r) == 0);
    int64_t i64;
    uint64_t u64;
    CHECK(pm_jr_array_next(&r) == 1 && pm_jr_i64(&r, &i64) == 0 && i64 == 1);
    CHECK(pm_jr_array_next(&r) == 1 && pm_jr_i64(&r, &i64) == 0 && i64 == -2);
    CHECK(pm_jr_array_next(&r) == 1 && pm_jr_u64(&r, &u64) == 0 && u64 == UINT64_MAX);
    CHECK(pm_jr_array_next(&r) == 1 && pm_jr_i64(&r, &i64) == 0 && i64 == INT64_MAX);
    CHECK(pm_jr_array_next(&r) == 1 && pm_jr_i64(&r, &i64) == 0 && i64 == INT64_MIN);
    CHECK(pm_jr_array_next(&r) == 0);
    CHECK(pm_jr_object_next(&r, &key) == 1 && strcmp(key.data, "b") == 0);
    CHECK(pm_jr_string(&r, &s) == 0);
    CHECK(s.len == 9 && memcmp(s.data, "x\xc3\xa9\xf0\x9f\x94\xa5\x80/", 9) == 0);
    CHECK(pm_jr_object_next(&r, &key) == 1 && pm_jr_null(&r) == 1);
    CHECK(pm_jr_object_next(&r, &key) == 1 && pm_jr_skip(&r) == 0);
    CHECK(pm_jr_object_next(&r, &key) == 1);
    double d;
    CHECK(pm_jr_double(&r, &d) == 0 && d == 1500.0);
    CHECK(pm_jr_object_next(&r, &key) == 0);
    CHECK(pm_jr_end(&r) == 0);
    pm_buf_free(&key);
    pm_buf_free(&s);
}

/* Parses doc as "an array of integers" or skips it; returns the error. */
static int reject(const char *doc, const char *expect_msg, pm_t *t)
{
    pm_jr r;
    pm_jr_init(&r, doc, strlen(doc));
    int rc = pm_jr_skip(&r);
    if (rc == 0)
        rc = pm_jr_end(&r);
    CHECKF(rc != 0, "accepted: %s", doc);
    if (expect_msg)
        CHECKF(tu_contains(r.msg, expect_msg), "message '%s' lacks '%s'", r.msg, expect_msg);
    return rc;
}

static void test_reader_rejects(pm_t *t)
{
    reject("", "unexpected end", t);
    reject("[1,]", "expected a value", t);
    reject("[1 2]", "expected ',' or ']'", t);
    reject("{\"a\" 1}", "expected ':'", t);
    reject("{1: 2}", "expected a string key", t);
    reject("{\"a\": 1,}", "expected a string key", t);
    reject("[01]", "expected ',' or ']'", t);
    reject("[1.]", "bad number", t);
    reject("[1e]", "bad number", t);
    reject("[-]", "expected a number", t);
    reject("\"abc", "unterminated string", t);
    reject("\"a\nb\"", "control character", t);
    reject("\"\\x\"", "bad escape", t);
    reject("\"\\u12zz\"", "bad \\u escape", t);
    reject("\"\\u12", "truncated", t);
    reject("\"\\ud800\"", "unpaired surrogate", t);
    reject("\"\\ud800\\u0041\"", "unpaired surrogate", t);
    reject("\"\\udc00\"", "unpaired surrogate", t);
    reject("[nul]", "invalid literal", t);
    reject("[1] x", "trailing data", t);
    reject("[}", "expected a value", t);
    reject("{]", "expected a string key", t);
    reject("[1}", "expected ',' or ']'", t);
    /* Nesting deeper than the limit fails cleanly; at the limit it works. */
    size_t deep = 100000;
    char *s = malloc(deep * 2 + 1);
    memset(s, '[', deep);
    memset(s + deep, ']', deep);
    s[deep * 2] = '\0';
    reject(s, "nested too deeply", t);
    memset(s, '[', PM_JR_MAX_DEPTH);
    memset(s + PM_JR_MAX_DEPTH, ']', PM_JR_MAX_DEPTH);
    s[PM_JR_MAX_DEPTH * 2] = '\0';
    pm_jr r;
    pm_jr_init(&r, s, strlen(s));
    CHECK(pm_jr_skip(&r) == 0 && pm_jr_end(&r) == 0);
    free(s);
    /* Integer range checks. */
    pm_jr_init(&r, "9223372036854775808", 19);
    int64_t v;
    CHECK(pm_jr_i64(&r, &v) == -1 && tu_contains(r.msg, "out of range"));
    pm_jr_init(&r, "18446744073709551616", 20);
    uint64_t u;
    CHECK(pm_jr_u64(&r, &u) == -1);
    pm_jr_init(&r, "-1", 2);
    CHECK(pm_jr_u64(&r, &u) == -1);
    pm_jr_init(&r, "1.0", 3);
    CHECK(pm_jr_i64(&r, &v) == -1 && tu_contains(r.msg, "expected an integer"));
    /* The first error sticks. */
    pm_jr_init(&r, "[x] [", 5);
    CHECK(pm_jr_skip(&r) == -1);
    CHECK(pm_jr_array_begin(&r) == -1);
    CHECK(tu_contains(r.msg, "expected a value at byte 1"));
}

static void test_numbers(pm_t *t)
{
    char buf[PM_NUM_MAX];
    double vals[] = {0, 1, -1, 0.1, 1.0 / 3.0, 1e300, 5e-324, 123456789.125, -2.5e-7, 1e21, 9007199254740993.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        size_t n = pm_num_fmt_double(buf, vals[i]);
        double back;
        CHECKF(pm_num_parse_double(buf, n, &back) == 0 && back == vals[i], "%s", buf);
    }
    pm_num_fmt_double(buf, 0.1);
    CHECK(strcmp(buf, "0.1") == 0);
    pm_num_fmt_double(buf, 1000);
    CHECK(strcmp(buf, "1000") == 0);
    CHECK(pm_num_fmt_i64(buf, INT64_MIN) == 20 && memcmp(buf, "-9223372036854775808", 20) == 0);
    CHECK(pm_num_fmt_u64(buf, 0) == 1 && buf[0] == '0');
    double d;
    CHECK(pm_num_parse_double("1.5x", 4, &d) == -1);
}

const pm_test pm_tests_json[] = {
    {"json/escaping_roundtrip", test_escaping},
    {"json/reader_values", test_reader_values},
    {"json/reader_rejects", test_reader_rejects},
    {"json/numbers", test_numbers},
    {NULL, NULL},
};
