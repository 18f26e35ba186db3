/* test_collapsed.c — collapsed stacks output. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "output/pm_formats.h"
#include "output/pm_interchange.h"

/* Number of lines in text, and whether `line` is one of them exactly. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *s = text; s && *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && memcmp(s, line, n) == 0)
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *s = text; s && *s; s++)
        n += *s == '\n';
    return n;
}

static pm_profile *known_profile(int *ms, int *mw)
{
    pm_profile *p = pm_profile_new();
    *ms = pm_metric_add(p, "samples", "count");
    *mw = pm_metric_add(p, "wall", "nanoseconds");
    pm_id mainf = tu_frame(p, "main", "/app/m.py", 1, PM_FRAME_PYTHON);
    pm_id work = tu_frame(p, "work", "/app/m.py", 10, PM_FRAME_PYTHON);
    pm_id len_f = tu_frame(p, "len", "", 0, PM_FRAME_NATIVE);
    pm_id idle = tu_frame(p, "<idle>", "", 0, PM_FRAME_SPECIAL);
    pm_id evil = tu_frame(p, "a;b\nc\rd", "x;y.py", 5, PM_FRAME_PYTHON);
    pm_id t1 = pm_thread_get(p, 1, 0), t2 = pm_thread_get(p, 77, 0);
    pm_thread_set_name(p, t1, "MainThread", 10);
    struct {
        pm_id th;
        pm_id fr[3];
        int32_t ln[3];
        size_t d;
        int w;
    } st[] = {
        {t1, {mainf, work}, {3, 12}, 2, 3},
        {t1, {mainf, work}, {3, 13}, 2, 2},
        {t1, {mainf}, {4}, 1, 1},
        {t1, {mainf, len_f}, {3, 0}, 2, 2},
        {t1, {mainf, evil}, {3, 6}, 2, 1},
        {t1, {mainf, work, work}, {3, 12, 11}, 3, 0}, /* zero weight: no line */
        {t2, {idle}, {0}, 1, 4},
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        pm_id leaf = pm_stack_insert(p, st[i].th, st[i].fr, st[i].ln, st[i].d);
        pm_node_add(p, leaf, *ms, st[i].w);
        pm_node_add(p, leaf, *mw, (int64_t)st[i].w * 1000000);
    }
    return p;
}

static void test_collapsed_lines(pm_t *t)
{
    int ms, mw;
    pm_profile *p = known_profile(&ms, &mw);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_collapsed(p, ms, 0, &b) == 0);
    const char *out = b.data;
    CHECK(has_line(out, "MainThread;main (/app/m.py:1);work (/app/m.py:10) 5"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:1) 1"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:1);[len] 2"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:1);a:b c d (x:y.py:5) 1"));
    CHECK(has_line(out, "thread 77;<idle> 4"));
    CHECKF(count_lines(out) == 5, "%s", out);
    /* Lines in order of first appearance: a stack before its extensions. */
    const char *first = "MainThread;main (/app/m.py:1) 1\nMainThread;main (/app/m.py:1);work (/app/m.py:10) 5\n";
    CHECK(strncmp(out, first, strlen(first)) == 0);

    b.len = 0;
    CHECK(pm_write_collapsed(p, ms, 1, &b) == 0);
    out = b.data;
    CHECK(has_line(out, "MainThread;main (/app/m.py:3);work (/app/m.py:12) 3"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:3);work (/app/m.py:13) 2"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:4) 1"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:3);[len] 2"));
    CHECK(has_line(out, "MainThread;main (/app/m.py:3);a:b c d (x:y.py:6) 1"));
    CHECK(has_line(out, "thread 77;<idle> 4"));
    CHECKF(count_lines(out) == 6, "%s", out);

    b.len = 0;
    CHECK(pm_write_collapsed(p, mw, 0, &b) == 0);
    CHECK(has_line(b.data, "MainThread;main (/app/m.py:1);work (/app/m.py:10) 5000000"));
    CHECK(pm_write_collapsed(p, 9, 0, &b) == -1);
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_collapsed_merges_equal_labels(pm_t *t)
{
    /* Two threads with one name, and two frames whose labels collide after
     * sanitising: one line each, weights summed. */
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_id t1 = pm_thread_get(p, 1, 0), t2 = pm_thread_get(p, 2, 0);
    pm_thread_set_name(p, t1, "W", 1);
    pm_thread_set_name(p, t2, "W", 1);
    pm_id f1 = tu_frame(p, "a;b", "f", 1, PM_FRAME_PYTHON);
    pm_id f2 = tu_frame(p, "a:b", "f", 1, PM_FRAME_PYTHON);
    pm_node_add(p, pm_stack_insert(p, t1, &f1, NULL, 1), m, 2);
    pm_node_add(p, pm_stack_insert(p, t2, &f2, NULL, 1), m, 3);
    pm_node_add(p, pm_thread_at(p, t2)->root, m, 7); /* empty stack */
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_collapsed(p, m, 0, &b) == 0);
    CHECKF(strcmp(b.data, "W 7\nW;a:b (f:1) 5\n") == 0, "%s", b.data);
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_collapsed_empty(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_thread_get(p, 1, 0);
    pm_buf b;
    pm_buf_init(&b);
    /* not 0 bytes: a comment line, which reads back as an empty profile */
    CHECK(pm_write_collapsed(p, m, 0, &b) == 0 && b.len > 0 && b.data[0] == '#');
    CHECK(pm_sniff_collapsed(b.data, b.len));
    char err[128];
    pm_profile *q = pm_read_any(b.data, b.len, err, sizeof err);
    CHECK(q != NULL);
    if (q)
        pm_profile_free(q);
    CHECK(!pm_sniff_collapsed("", 0));
    pm_buf_free(&b);
    pm_profile_free(p);
}

const pm_test pm_tests_collapsed[] = {
    {"collapsed/lines", test_collapsed_lines},
    {"collapsed/merges_equal_labels", test_collapsed_merges_equal_labels},
    {"collapsed/empty", test_collapsed_empty},
    {NULL, NULL},
};
