/* test_funcstats.c — per-function self/total, recursion counted once. */
#include <stdlib.h>

#include "test_util.h"

static const pm_func_stat *find(const pm_func_stat *st, long n, pm_id frame)
{
    for (long i = 0; i < n; i++)
        if (st[i].frame == frame)
            return &st[i];
    return NULL;
}

static void test_recursion_counted_once(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_id a = tu_frame(p, "a", "a.py", 1, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id st3[] = {a, a, a};
    pm_node_add(p, pm_stack_insert(p, th, st3, NULL, 3), m, 1);
    pm_func_stat *st;
    long n = pm_func_stats(p, m, PM_NONE, &st);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(st[0].frame == a && st[0].self == 1 && st[0].total == 1);
        CHECK(st[0].samples_self == 1 && st[0].samples_total == 1);
    }
    free(st);
    pm_profile_free(p);
}

static void test_mixed_recursion(pm_t *t)
{
    /* Stacks (weights): a;b;a;b 2   a;b 3   a 1   b;c 4 (thread 2)
     * wall = 10 x samples. */
    pm_profile *p = pm_profile_new();
    int ms = pm_metric_add(p, "samples", "count");
    int mw = pm_metric_add(p, "wall", "nanoseconds");
    pm_id a = tu_frame(p, "a", "x.py", 1, PM_FRAME_PYTHON);
    pm_id b = tu_frame(p, "b", "x.py", 5, PM_FRAME_PYTHON);
    pm_id c = tu_frame(p, "c", "x.py", 9, PM_FRAME_PYTHON);
    pm_id unused = tu_frame(p, "unused", "x.py", 99, PM_FRAME_PYTHON);
    pm_id t1 = pm_thread_get(p, 1, 0), t2 = pm_thread_get(p, 2, 0);
    struct {
        pm_id th;
        pm_id fr[4];
        int32_t ln[4];
        size_t d;
        int w;
    } stacks[] = {
        {t1, {a, b, a, b}, {2, 6, 3, 7}, 4, 2},
        {t1, {a, b}, {2, 6}, 2, 3},
        {t1, {a, b}, {2, 8}, 2, 0}, /* a node with no weight */
        {t1, {a}, {4}, 1, 1},
        {t2, {b, c}, {6, 10}, 2, 4},
    };
    for (size_t i = 0; i < sizeof stacks / sizeof stacks[0]; i++) {
        pm_id leaf = pm_stack_insert(p, stacks[i].th, stacks[i].fr, stacks[i].ln, stacks[i].d);
        pm_node_add(p, leaf, ms, stacks[i].w);
        pm_node_add(p, leaf, mw, stacks[i].w * 10);
    }
    pm_func_stat *st;
    long n = pm_func_stats(p, mw, PM_NONE, &st);
    CHECK(n == 3);
    const pm_func_stat *sa = find(st, n, a), *sb = find(st, n, b), *sc = find(st, n, c);
    CHECK(sa && sb && sc && !find(st, n, unused));
    if (sa && sb && sc) {
        CHECK(sa->self == 10 && sa->total == 60 && sa->samples_self == 1 && sa->samples_total == 6);
        CHECK(sb->self == 50 && sb->total == 90 && sb->samples_self == 5 && sb->samples_total == 9);
        CHECK(sc->self == 40 && sc->total == 40);
        /* Sorted by self, descending. */
        CHECK(st[0].frame == b && st[1].frame == c && st[2].frame == a);
    }
    free(st);
    n = pm_func_stats(p, ms, t1, &st);
    CHECK(n == 2);
    sb = find(st, n, b);
    CHECK(sb && sb->self == 5 && sb->total == 5);
    free(st);
    n = pm_func_stats(p, ms, t2, &st);
    CHECK(n == 2 && find(st, n, a) == NULL);
    free(st);
    CHECK(pm_func_stats(p, 5, PM_NONE, &st) == -1);
    CHECK(pm_func_stats(p, ms, 7, &st) == -1 && st == NULL);
    pm_profile_free(p);
}

static void test_deep_recursion(pm_t *t)
{
    /* 50,000 levels of a/b alternation: the walk must not recurse. */
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "wall", "nanoseconds");
    pm_id a = tu_frame(p, "a", "x.py", 1, PM_FRAME_PYTHON);
    pm_id b = tu_frame(p, "b", "x.py", 2, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id cur = pm_thread_at(p, th)->root;
    for (int i = 0; i < 50000; i++) {
        cur = pm_node_child(p, cur, i % 2 ? b : a, 0);
        pm_node_add(p, cur, m, 1);
    }
    pm_func_stat *st;
    long n = pm_func_stats(p, m, PM_NONE, &st);
    CHECK(n == 2);
    CHECK(st[0].frame == a); /* equal self: the larger total first */
    const pm_func_stat *sa = find(st, n, a), *sb = find(st, n, b);
    CHECK(sa && sa->total == 50000 && sa->self == 25000);
    CHECK(sb && sb->total == 49999 && sb->self == 25000);
    CHECK(sa && sa->samples_total == 0); /* no "samples" metric */
    free(st);
    pm_profile_free(p);
}

static void test_empty(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_func_stat *st = (pm_func_stat *)1;
    CHECK(pm_func_stats(p, m, PM_NONE, &st) == 0 && st == NULL);
    pm_profile_free(p);
}

const pm_test pm_tests_funcstats[] = {
    {"funcstats/recursion_counted_once", test_recursion_counted_once},
    {"funcstats/mixed_recursion", test_mixed_recursion},
    {"funcstats/deep_recursion", test_deep_recursion},
    {"funcstats/empty", test_empty},
    {NULL, NULL},
};
