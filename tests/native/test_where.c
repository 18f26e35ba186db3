/* test_where.c — the -X importtime reader and writer, profile merging, and
 * the diff of BASE and NEW runs (input/pm_importtime_read.c,
 * output/pm_importtime.c, model/pm_merge.c, output/pm_diff*.c). */
#include <stdlib.h>
#include <string.h>

#include "input/pm_input.h"
#include "output/pm_diff.h"
#include "output/pm_interchange.h"
#include "test_util.h"

static const char LOG[] =
    "import time: self [us] | cumulative | imported package\n"
    "import time:        10 |         10 |     c\n"
    "import time:        20 |         30 |   b\n"
    "a line the program wrote\n"
    "import time:         5 |          5 |   d\n"
    "import time:       100 |        135 | a\n"
    "import time:         7 |          7 | e\n";

static pm_id node_named(const pm_profile *p, const char *name)
{
    for (uint32_t n = 0; n < pm_node_count(p); n++) {
        const pm_node *nd = pm_node_get(p, n);
        if (nd->frame != PM_NONE && strcmp(pm_str_get(p, pm_frame_get(p, nd->frame)->name, NULL), name) == 0)
            return n;
    }
    return PM_NONE;
}

static const char *parent_name(const pm_profile *p, pm_id n)
{
    const pm_node *pa = pm_node_get(p, pm_node_get(p, n)->parent);
    return pa->frame == PM_NONE ? "" : pm_str_get(p, pm_frame_get(p, pa->frame)->name, NULL);
}

static void test_importtime_tree(pm_t *t)
{
    char err[200];
    CHECK(pm_sniff_importtime(LOG, sizeof LOG - 1));
    pm_profile *p = pm_read_importtime(LOG, sizeof LOG - 1, err, sizeof err);
    if (!CHECK(p != NULL))
        return;
    int m = pm_metric_find(p, "time");
    int64_t *tot = calloc(pm_node_count(p), sizeof(int64_t));
    pm_totals(p, m, tot);
    pm_id a = node_named(p, "a"), b = node_named(p, "b"), c = node_named(p, "c"), d = node_named(p, "d");
    pm_id e = node_named(p, "e");
    CHECK(strcmp(parent_name(p, b), "a") == 0 && strcmp(parent_name(p, c), "b") == 0);
    CHECK(strcmp(parent_name(p, d), "a") == 0 && strcmp(parent_name(p, e), "") == 0);
    CHECK(tot[a] == 135000 && tot[b] == 30000 && pm_node_value(p, a, m) == 100000 && tot[e] == 7000);
    /* Written back: the same lines (post-order, same indentation). */
    pm_buf out;
    pm_buf_init(&out);
    CHECK(pm_write_importtime(p, -1, &out) == 0);
    pm_buf_putc(&out, 0);
    CHECK(strstr(out.data, "import time:        10 |         10 |     c\n") != NULL);
    CHECK(strstr(out.data, "import time:       100 |        135 | a\n") != NULL);
    pm_buf_free(&out);
    free(tot);
    pm_profile_free(p);
}

static void test_importtime_refuses(pm_t *t)
{
    char err[200];
    const char *bad[] = {"hello\n", "import time: 1 | x | a\n", "import time: 5 | 3 | a\n",
                         "import time: 5 | 6 |a\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        pm_profile *p = pm_read_importtime(bad[i], strlen(bad[i]), err, sizeof err);
        CHECKF(p == NULL && err[0], "%s", bad[i]);
        if (p)
            pm_profile_free(p);
    }
    CHECK(!pm_sniff_importtime("a;b 1\n", 6));
}

static pm_profile *runs(int slow_weight, int steady_weight)
{
    pm_profile *p = pm_profile_new();
    int ms = pm_metric_add(p, "samples", "count"), mc = pm_metric_add(p, "cpu", "nanoseconds");
    pm_meta_set_str(p, "mode", "cpu");
    pm_id main_ = tu_frame(p, "main", "p.py", 1, PM_FRAME_PYTHON), slow = tu_frame(p, "slow", "p.py", 5, PM_FRAME_PYTHON);
    pm_id steady = tu_frame(p, "steady", "p.py", 9, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id s1[] = {main_, slow}, s2[] = {main_, steady};
    pm_id l1 = pm_stack_insert(p, th, s1, NULL, 2), l2 = pm_stack_insert(p, th, s2, NULL, 2);
    pm_node_add(p, l1, ms, slow_weight);
    pm_node_add(p, l1, mc, (int64_t)slow_weight * 1000000);
    pm_node_add(p, l2, ms, steady_weight);
    pm_node_add(p, l2, mc, (int64_t)steady_weight * 1000000);
    return p;
}

static void test_diff_names_the_changed_function(pm_t *t)
{
    pm_profile *b = runs(300, 300), *n = runs(600, 305);
    pm_diff_opts o = {NULL, PM_DIFF_NORM_NONE, 5, 1};
    pm_diff d;
    char err[200];
    if (!CHECK(pm_diff_compute(&b, 1, &n, 1, &o, &d, err, sizeof err) == 0))
        return;
    CHECK(strcmp(d.metric, "cpu") == 0 && d.n == 3);
    CHECK(strcmp(d.rows[0].name, "slow") == 0 && d.rows[0].sig_self);
    for (size_t i = 0; i < d.n; i++)
        if (strcmp(d.rows[i].name, "steady") == 0)
            CHECK(!d.rows[i].sig_self); /* 300 -> 305 samples: within the sampling error */
    pm_buf out;
    pm_buf_init(&out);
    CHECK(pm_diff_regressions(&d, 20, &out) >= 2); /* the total and slow */
    pm_buf_putc(&out, 0);
    CHECK(strstr(out.data, "slow (p.py:5) self up 100.0%") != NULL);
    pm_buf_free(&out);
    /* The differential profile: NEW under cpu, BASE under base:cpu. */
    CHECK(pm_metric_find(d.flame, "cpu") == 0 && pm_metric_find(d.flame, "base:cpu") == 1);
    pm_diff_free(&d);
    /* Modes differ: refused. */
    pm_meta_set_str(n, "mode", "calls");
    CHECK(pm_diff_compute(&b, 1, &n, 1, &o, &d, err, sizeof err) < 0 && strstr(err, "modes differ"));
    pm_profile_free(b);
    pm_profile_free(n);
}

static void test_merge_adds_values(pm_t *t)
{
    pm_profile *a = runs(3, 4), *b = runs(10, 20);
    CHECK(pm_profile_merge(a, b) == 0);
    int ms = pm_metric_find(a, "samples");
    int64_t *tot = calloc(pm_node_count(a), sizeof(int64_t));
    pm_totals(a, ms, tot);
    CHECK(tot[0] == 37 && pm_node_count(a) == pm_node_count(b));
    CHECK(pm_node_value(a, node_named(a, "slow"), ms) == 13);
    free(tot);
    pm_profile_free(a);
    pm_profile_free(b);
}

const pm_test pm_tests_where[] = {
    {"importtime_tree", test_importtime_tree},
    {"importtime_refuses", test_importtime_refuses},
    {"diff_names_the_changed_function", test_diff_names_the_changed_function},
    {"merge_adds_values", test_merge_adds_values},
    {NULL, NULL},
};
