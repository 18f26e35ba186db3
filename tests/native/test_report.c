/* test_report.c — the terminal report. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const char *const LIB[] = {"/usr/lib/python3.11/", "/site/"};

static pm_profile *report_profile(int *ms, int *mw)
{
    pm_profile *p = pm_profile_new();
    *ms = pm_metric_add(p, "samples", "count");
    *mw = pm_metric_add(p, "wall", "nanoseconds");
    pm_meta_set_str(p, "mode", "wall");
    pm_meta_set_num(p, "rate_hz", 1000);
    pm_meta_set_num(p, "duration_s", 1.5);
    pm_meta_set_num(p, "samples_expected", 1234);
    pm_meta_set_num(p, "samples_taken", 1180);
    pm_meta_set_num(p, "samples_torn", 3);
    pm_meta_set_num(p, "sampler_cpu_s", 0.015);
    pm_id mod = tu_frame(p, "<module>", "/app/main.py", 1, PM_FRAME_PYTHON);
    pm_id work = tu_frame(p, "work", "/app/main.py", 10, PM_FRAME_PYTHON);
    pm_id loads = tu_frame(p, "loads", "/usr/lib/python3.11/json/__init__.py", 300, PM_FRAME_PYTHON);
    pm_id decode = tu_frame(p, "JSONDecoder.decode", "/usr/lib/python3.11/json/decoder.py", 330, PM_FRAME_PYTHON);
    pm_id raw = tu_frame(p, "raw_decode", "<frozen json.decoder>", 340, PM_FRAME_PYTHON);
    pm_id user = tu_frame(p, "user", "/app/main.py", 50, PM_FRAME_PYTHON);
    pm_id tiny = tu_frame(p, "tiny", "/app/main.py", 70, PM_FRAME_PYTHON);
    pm_id idle = tu_frame(p, "<idle>", "", 0, PM_FRAME_SPECIAL);
    pm_id evil = tu_frame(p, "x\ry\x1b]0;title\x07", "/app/\xff.py", 3, PM_FRAME_PYTHON);
    pm_id t1 = pm_thread_get(p, 1, 11), t2 = pm_thread_get(p, 2, 0), t3 = pm_thread_get(p, 3, 0);
    pm_thread_set_name(p, t1, "MainThread", 10);
    pm_thread_set_name(p, t2, "evil\x1b[2J\nname", 13);
    pm_thread_set_name(p, t3, "Idle", 4);
    struct {
        pm_id th;
        pm_id fr[6];
        int32_t ln[6];
        size_t d;
        int64_t ms;
    } st[] = {
        {t1, {mod, work}, {5, 12}, 2, 600},
        {t1, {mod, work}, {5, 13}, 2, 200},
        {t1, {mod, work, loads, decode, raw, user}, {5, 14, 301, 331, 341, 51}, 6, 100},
        {t1, {mod, tiny}, {6, 71}, 2, 5},
        {t2, {idle}, {0}, 1, 40},
        {t2, {evil}, {4}, 1, 10},
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        pm_id leaf = pm_stack_insert(p, st[i].th, st[i].fr, st[i].ln, st[i].d);
        pm_node_add(p, leaf, *ms, st[i].ms);
        pm_node_add(p, leaf, *mw, st[i].ms * 1000000);
    }
    pm_thread_get(p, 3, 0); /* a thread with nothing: skipped */
    pm_timeline_enable(p, 1);
    for (int i = 0; i < 6; i++)
        pm_timeline_add(p, (uint64_t)i, t3, PM_NONE);
    return p;
}

static void opts(pm_report_opts *o, int metric)
{
    pm_report_opts_default(o);
    o->metric = metric;
    o->library_prefixes = LIB;
    o->n_library_prefixes = 2;
}

static void test_report_content(pm_t *t)
{
    int ms, mw;
    pm_profile *p = report_profile(&ms, &mw);
    pm_report_opts o;
    opts(&o, mw);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_report(p, &o, &b) == 0);
    const char *r = b.data;
    CHECK(tu_contains(r, "pyrometer  mode: wall  duration: 1.500 s  samples: 1180  rate: 1000 Hz\n"));
    CHECK(tu_contains(r, "Thread MainThread  0.905 s  (ident 1, native id 11)\n"));
    CHECK(tu_contains(r, "\xe2\x94\x94\xe2\x94\x80 0.905  0.000  100.0%  <module>  /app/main.py:1\n"));
    /* Lines 12 and 13 of work merged into one function line. */
    CHECK(tu_contains(r, "   \xe2\x94\x9c\xe2\x94\x80 0.900  0.800  99.4%  work  /app/main.py:10\n"));
    CHECK(tu_contains(r, "   \xe2\x94\x82  \xe2\x94\x94\xe2\x94\x80 0.100  0.000  11.0%  "
                         "[3 library frames: json, json.decoder]\n"));
    CHECK(tu_contains(r, "   \xe2\x94\x82     \xe2\x94\x94\xe2\x94\x80 0.100  0.100  11.0%  user  /app/main.py:50\n"));
    CHECK(tu_contains(r, "   \xe2\x94\x94\xe2\x94\x80 [1 frame hidden, 0.6%]\n"));
    /* Hidden and collapsed frames are absent from the trees. */
    const char *top = strstr(r, "Top ");
    CHECK(top && memmem(r, (size_t)(top - r), "tiny", 4) == NULL);
    CHECK(top && memmem(r, (size_t)(top - r), "loads", 5) == NULL);
    /* Heaviest thread first; the empty one is skipped. */
    const char *main_at = strstr(r, "Thread MainThread"), *evil_at = strstr(r, "Thread evil");
    CHECK(main_at && evil_at && main_at < evil_at);
    CHECK(!tu_contains(r, "Thread Idle"));
    /* Hostile names: no control characters leak, layout holds. */
    CHECK(tu_contains(r, "Thread evil?[2J?name  0.050 s"));
    CHECK(tu_contains(r, "x?y?]0;title?  /app/?.py:3\n"));
    CHECK(tu_contains(r, "<idle>\n"));
    for (const char *c = r; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n')
            CHECKF(0, "control character 0x%02x in the report", (unsigned char)*c);
    /* The top table. */
    CHECK(tu_contains(r, "Top 9 functions by self time\n"));
    CHECK(tu_contains(r, "   self s   self%   total s  total%  function            file:line\n"));
    CHECK(tu_contains(r, "    0.800   83.8%     0.900   94.2%  work                /app/main.py:10\n"));
    CHECK(tu_contains(r, "    0.000    0.0%     0.100   10.5%  raw_decode          <frozen json.decoder>:340\n"));
    /* The profiler's own figures. */
    CHECK(tu_contains(r, "  duration        1.500 s\n"));
    CHECK(tu_contains(r, "  samples         1180 taken of 1234 expected (95.6% taken)\n"));
    CHECK(tu_contains(r, "  torn stacks     3 (0.25% of samples; not charged)\n"));
    CHECK(tu_contains(r, "  sampler CPU     0.015 s (1.0% of one core)\n"));
    CHECK(tu_contains(r, "  timeline        5 events dropped\n"));
    CHECK(memchr(r, 0x1b, b.len) == NULL);
    pm_buf_free(&b);
    /* Without the sample count, the torn count alone. */
    pm_meta_set_num(p, "samples_taken", 0);
    pm_buf_init(&b);
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(tu_contains(b.data, "  torn stacks     3 (not charged)\n"));
    pm_buf_free(&b);
    pm_profile_free(p);
}

/* A library run split by a branch: the lone library frame after the split
 * folds too, a lone library frame under user code keeps its name. */
static void test_report_split_library_run(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "wall", "nanoseconds");
    pm_id a = tu_frame(p, "run", "/usr/lib/python3.11/runpy.py", 1, PM_FRAME_PYTHON);
    pm_id b = tu_frame(p, "code", "/usr/lib/python3.11/runpy.py", 9, PM_FRAME_PYTHON);
    pm_id c = tu_frame(p, "script", "/usr/lib/python3.11/runner.py", 5, PM_FRAME_PYTHON);
    pm_id d = tu_frame(p, "setup", "/usr/lib/python3.11/runner.py", 20, PM_FRAME_PYTHON);
    pm_id u = tu_frame(p, "main", "/app/main.py", 1, PM_FRAME_PYTHON);
    pm_id l = tu_frame(p, "loads", "/usr/lib/python3.11/json/__init__.py", 300, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 1, 1);
    pm_id s1[] = {a, b, c, u, l}, s2[] = {a, b, d};
    pm_node_add(p, pm_stack_insert(p, th, s1, NULL, 5), m, 900000000);
    pm_node_add(p, pm_stack_insert(p, th, s2, NULL, 3), m, 100000000);
    pm_report_opts o;
    opts(&o, m);
    o.top_n = 0;
    pm_buf b2;
    pm_buf_init(&b2);
    CHECK(pm_write_report(p, &o, &b2) == 0);
    CHECK(tu_contains(b2.data, "[2 library frames: runpy]\n"));
    CHECK(tu_contains(b2.data, "[1 library frame: runner]\n"));
    CHECK(!tu_contains(b2.data, "script"));
    CHECK(tu_contains(b2.data, "loads  /usr/lib/python3.11/json/__init__.py:300\n"));
    pm_buf_free(&b2);
    pm_profile_free(p);
}

static void test_report_show_all_and_counts(pm_t *t)
{
    int ms, mw;
    pm_profile *p = report_profile(&ms, &mw);
    pm_report_opts o;
    opts(&o, mw);
    o.show_all = 1;
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(tu_contains(b.data, "0.005  0.005  0.6%  tiny  /app/main.py:70\n"));
    CHECK(tu_contains(b.data, "loads  /usr/lib/python3.11/json/__init__.py:300\n"));
    CHECK(tu_contains(b.data, "raw_decode  <frozen json.decoder>:340\n"));
    CHECK(!tu_contains(b.data, "hidden"));
    CHECK(!tu_contains(b.data, "library frames"));

    /* A count metric shows counts, not seconds. */
    b.len = 0;
    opts(&o, ms);
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(tu_contains(b.data, "Thread MainThread  905  (ident 1"));
    CHECK(tu_contains(b.data, "900  800  99.4%  work  /app/main.py:10\n"));

    /* Colour: ANSI only when asked, and never from names. */
    b.len = 0;
    opts(&o, mw);
    o.color = 1;
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(tu_contains(b.data, "\x1b[31m0.900  0.800  99.4%\x1b[0m  work  \x1b[2m/app/main.py:10\x1b[0m"));
    CHECK(!tu_contains(b.data, "\x1b[2J") && !tu_contains(b.data, "\x1b]0"));

    CHECK(pm_write_report(p, &o, &b) == 0);
    o.metric = 5;
    CHECK(pm_write_report(p, &o, &b) == -1);
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_report_deep_and_wide(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "wall", "nanoseconds");
    pm_id th = pm_thread_get(p, 1, 0);
    char name[400];
    memset(name, 'n', 300);
    name[300] = '\0';
    pm_id longf = tu_frame(p, name, "/very/long/path/to/some/deeply/nested/package/module_with_a_long_name.py", 1,
                           PM_FRAME_PYTHON);
    pm_id rec = tu_frame(p, "rec", "/app/r.py", 1, PM_FRAME_PYTHON);
    pm_id cur = pm_thread_at(p, th)->root;
    for (int i = 0; i < 5000; i++)
        cur = pm_node_child(p, cur, rec, 2);
    pm_node_add(p, cur, m, 1000000000);
    pm_node_add(p, pm_node_child(p, pm_thread_at(p, th)->root, longf, 3), m, 500000000);
    pm_report_opts o;
    pm_report_opts_default(&o);
    o.metric = m;
    o.width = 100;
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_report(p, &o, &b) == 0);
    /* Depth is capped without show_all: the rest is summarised. */
    CHECK(tu_contains(b.data, "frames hidden, 66.7%]"));
    CHECK(b.len < 200000);
    /* The long name is cut to the width, with an ellipsis. */
    const char *ln = strstr(b.data, "nnnnnnnnnn");
    CHECK(ln != NULL);
    if (ln) {
        const char *start = ln;
        while (start > b.data && start[-1] != '\n')
            start--;
        const char *end = strchr(ln, '\n');
        CHECK(tu_contains(ln, "\xe2\x80\xa6"));
        /* Columns: every multi-byte character here is one column. */
        size_t cols = 0;
        for (const char *c = start; c < end; c++)
            cols += ((unsigned char)*c & 0xc0) != 0x80;
        CHECKF(cols <= 100, "line is %zu columns", cols);
        CHECK(tu_contains(start, "module_with_a_long_name.py:1"));
    }
    o.show_all = 1;
    b.len = 0;
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(!tu_contains(b.data, "hidden"));
    pm_buf_free(&b);
    pm_profile_free(p);
}

/* The sampler's per-sample figures: the share of a thread's samples taken
 * while it held the GIL, and while the garbage collector ran. */
static void test_report_gil_and_gc(pm_t *t)
{
    int ms, mw;
    pm_profile *p = report_profile(&ms, &mw);
    int mg = pm_metric_add(p, "gil", "count"), mc = pm_metric_add(p, "gc", "count");
    pm_id mod = tu_frame(p, "<module>", "/app/main.py", 1, PM_FRAME_PYTHON);
    pm_id leaf = pm_stack_insert(p, 0, &mod, (int32_t[]){5}, 1);
    pm_node_add(p, leaf, mg, 181); /* of MainThread's 905 samples */
    pm_node_add(p, leaf, mc, 9);
    pm_report_opts o;
    opts(&o, mw);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_report(p, &o, &b) == 0);
    CHECK(tu_contains(b.data, "Thread MainThread  0.905 s  (ident 1, native id 11)  GIL held 20.0% of samples, "
                              "in GC 1.0%\n"));
    /* A thread that never held it says so; no GC part then. */
    CHECK(tu_contains(b.data, "(ident 2)  GIL held 0.0% of samples\n"));
    pm_buf_free(&b);
    pm_profile_free(p);
}

static void test_report_empty(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "wall", "nanoseconds");
    pm_thread_get(p, 1, 0);
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_report(p, NULL, &b) == 0);
    CHECK(tu_contains(b.data, "No samples recorded."));
    (void)m;
    pm_buf_free(&b);
    pm_profile_free(p);
}

const pm_test pm_tests_report[] = {
    {"report/split_library_run", test_report_split_library_run},
    {"report/content", test_report_content},
    {"report/show_all_and_counts", test_report_show_all_and_counts},
    {"report/deep_and_wide", test_report_deep_and_wide},
    {"report/empty", test_report_empty},
    {"report/gil_and_gc", test_report_gil_and_gc},
    {NULL, NULL},
};
