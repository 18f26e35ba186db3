/* test_model.c — the profile model: strings, frames, trie, totals,
 * threads, metrics, timeline, meta. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static void test_string_interning(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    CHECK(p != NULL);
    CHECK(pm_str_count(p) == 1);
    size_t len = 99;
    const char *s0 = pm_str_get(p, 0, &len);
    CHECK(s0 && len == 0 && s0[0] == '\0');
    CHECK(pm_str_intern(p, "", 0) == 0);
    CHECK(pm_str_intern(p, NULL, 0) == 0);

    pm_id a = pm_str_intern_cstr(p, "alpha");
    pm_id b = pm_str_intern_cstr(p, "beta");
    CHECK(a == 1 && b == 2);
    CHECK(pm_str_intern(p, "alphabet", 5) == a); /* length-delimited */
    CHECK(pm_str_intern_cstr(p, "beta") == b);
    /* Embedded NULs and arbitrary bytes are distinct strings. */
    pm_id n1 = pm_str_intern(p, "a\0b", 3);
    pm_id n2 = pm_str_intern(p, "a\0c", 3);
    pm_id n3 = pm_str_intern(p, "a", 1);
    CHECK(n1 != n2 && n1 != n3 && n2 != n3);
    CHECK(pm_str_intern(p, "a\0b", 3) == n1);
    const char *g = pm_str_get(p, n1, &len);
    CHECK(len == 3 && memcmp(g, "a\0b", 3) == 0 && g[3] == '\0');
    CHECK(pm_str_get(p, 9999, &len) == NULL && len == 0);
    CHECK(pm_str_get(p, PM_NONE, NULL) == NULL);

    /* Many strings: ids stay dense, lookups stable, early pointers valid
     * (strings never move while the table grows). */
    const char *early = pm_str_get(p, a, NULL);
    char buf[64];
    uint32_t before = pm_str_count(p);
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(buf, sizeof buf, "string-%d", i);
        CHECK(pm_str_intern(p, buf, (size_t)n) == before + (uint32_t)i);
    }
    int bad = 0;
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(buf, sizeof buf, "string-%d", i);
        bad += pm_str_intern(p, buf, (size_t)n) != before + (uint32_t)i;
        const char *got = pm_str_get(p, before + (uint32_t)i, &len);
        bad += len != (size_t)n || memcmp(got, buf, (size_t)n) != 0;
    }
    CHECK(bad == 0);
    CHECK(pm_str_count(p) == before + 50000);
    CHECK(early == pm_str_get(p, a, NULL) && strcmp(early, "alpha") == 0);
    /* A string bigger than a block. */
    size_t big = 200000;
    char *bigs = malloc(big);
    memset(bigs, 'x', big);
    pm_id bid = pm_str_intern(p, bigs, big);
    CHECK(bid != PM_NONE && pm_str_intern(p, bigs, big) == bid);
    CHECK(pm_str_get(p, bid, &len) && len == big);
    free(bigs);
    /* Interning a string from the table itself. */
    const char *self = pm_str_get(p, b, &len);
    CHECK(pm_str_intern(p, self, len) == b);
    CHECK(pm_profile_memory(p) > 50000 * 8);
    pm_profile_free(p);
    pm_profile_free(NULL);
}

static void test_frame_interning(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_id n = pm_str_intern_cstr(p, "f"), f = pm_str_intern_cstr(p, "x.py");
    pm_id a = pm_frame_intern(p, n, f, 1, PM_FRAME_PYTHON);
    CHECK(a == 0);
    CHECK(pm_frame_intern(p, n, f, 1, PM_FRAME_PYTHON) == a);
    CHECK(pm_frame_intern(p, n, f, 2, PM_FRAME_PYTHON) != a);
    CHECK(pm_frame_intern(p, n, f, 1, PM_FRAME_NATIVE) != a);
    CHECK(pm_frame_intern(p, f, n, 1, PM_FRAME_PYTHON) != a);
    CHECK(pm_frame_count(p) == 4);
    CHECK(pm_frame_get(p, a)->name == n && pm_frame_get(p, a)->file == f && pm_frame_get(p, a)->line == 1);
    CHECK(pm_frame_get(p, 4) == NULL);
    /* Invalid ids and kinds are refused. */
    CHECK(pm_frame_intern(p, 999, f, 1, PM_FRAME_PYTHON) == PM_NONE);
    CHECK(pm_frame_intern(p, n, PM_NONE, 1, PM_FRAME_PYTHON) == PM_NONE);
    CHECK(pm_frame_intern(p, n, f, 1, (pm_frame_kind)7) == PM_NONE);
    CHECK(pm_frame_count(p) == 4);
    for (int i = 0; i < 10000; i++)
        CHECK(pm_frame_intern(p, n, f, 100 + i, PM_FRAME_PYTHON) == 4u + (uint32_t)i);
    CHECK(pm_frame_intern(p, n, f, 5000, PM_FRAME_PYTHON) == 4u + 4900u);
    pm_profile_free(p);
}

static void test_trie_child_lookup_200k(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_metric_add(p, "samples", "count");
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id root = pm_thread_at(p, th)->root;
    /* A very wide node (100k children of one parent) and a long chain: the
     * two shapes that defeat a sibling scan. */
    enum { WIDE = 100000, DEEP = 100000 };
    pm_id *fr = malloc(sizeof(pm_id) * WIDE);
    for (int i = 0; i < WIDE; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        fr[i] = tu_frame(p, name, "w.py", i, PM_FRAME_PYTHON);
    }
    pm_id hub = pm_node_child(p, root, fr[0], 1);
    pm_id *kids = malloc(sizeof(pm_id) * WIDE);
    for (int i = 0; i < WIDE; i++)
        kids[i] = pm_node_child(p, hub, fr[i], i);
    pm_id cur = root;
    for (int i = 0; i < DEEP; i++)
        cur = pm_node_child(p, cur, fr[i % 7], i);
    pm_id deepest = cur;
    CHECK(pm_node_count(p) == 1 + 1 + 1 + WIDE + DEEP);
    /* Every lookup finds the same node and creates nothing. */
    uint32_t count = pm_node_count(p);
    int bad = 0;
    for (int i = 0; i < WIDE; i++)
        bad += pm_node_child(p, hub, fr[i], i) != kids[i];
    cur = root;
    for (int i = 0; i < DEEP; i++)
        cur = pm_node_child(p, cur, fr[i % 7], i);
    CHECK(bad == 0);
    CHECK(cur == deepest);
    CHECK(pm_node_count(p) == count);
    /* Different line = different node; fields are right. */
    pm_id other = pm_node_child(p, hub, fr[5], 6);
    CHECK(other != kids[5] && other == count);
    const pm_node *nd = pm_node_get(p, kids[42]);
    CHECK(nd->parent == hub && nd->frame == fr[42] && nd->line == 42 && nd->thread == th);
    /* The sibling links cover every child exactly once. */
    uint32_t siblings = 0;
    for (pm_id c = pm_node_get(p, hub)->first_child; c != PM_NONE; c = pm_node_get(p, c)->next_sibling)
        siblings++;
    CHECK(siblings == WIDE + 1);
    /* Refusals. */
    CHECK(pm_node_child(p, PM_ROOT, fr[0], 0) == PM_NONE);
    CHECK(pm_node_child(p, count + 10, fr[0], 0) == PM_NONE);
    CHECK(pm_node_child(p, hub, PM_NONE, 0) == PM_NONE);
    CHECK(pm_node_child(p, hub, 9999999, 0) == PM_NONE);
    CHECK(pm_node_get(p, PM_NONE) == NULL);
    free(fr);
    free(kids);
    pm_profile_free(p);
}

static void test_stack_insert_and_totals(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_id a = tu_frame(p, "a", "m.py", 1, PM_FRAME_PYTHON);
    pm_id b = tu_frame(p, "b", "m.py", 5, PM_FRAME_PYTHON);
    pm_id c = tu_frame(p, "c", "m.py", 9, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 7, 70);
    pm_id st[] = {a, b, c};
    int32_t ln[] = {2, 6, 10};
    pm_id leaf = pm_stack_insert(p, th, st, ln, 3);
    CHECK(leaf != PM_NONE);
    const pm_node *n = pm_node_get(p, leaf);
    CHECK(n->frame == c && n->line == 10);
    const pm_node *pb = pm_node_get(p, n->parent);
    CHECK(pb->frame == b && pb->line == 6);
    const pm_node *pa = pm_node_get(p, pb->parent);
    CHECK(pa->frame == a && pa->line == 2 && pb->parent != PM_NONE);
    CHECK(pa->parent == pm_thread_at(p, th)->root);
    CHECK(pm_stack_insert(p, th, st, ln, 3) == leaf);
    CHECK(pm_stack_insert(p, th, st, NULL, 0) == pm_thread_at(p, th)->root);
    pm_id leaf2 = pm_stack_insert(p, th, st, NULL, 2); /* lines 0 */
    CHECK(leaf2 != PM_NONE && pm_node_get(p, leaf2)->line == 0);
    pm_id bad_st[] = {a, 12345};
    CHECK(pm_stack_insert(p, th, bad_st, NULL, 2) == PM_NONE);
    CHECK(pm_stack_insert(p, 99, st, ln, 3) == PM_NONE);

    pm_node_add(p, leaf, m, 5);
    pm_node_add(p, leaf2, m, 2);
    pm_node_add(p, n->parent, m, 1);
    pm_node_add(p, leaf, m, 1);
    pm_node_add(p, leaf, 7, 100);      /* invalid metric: ignored */
    pm_node_add(p, 100000, m, 100);    /* invalid node: ignored */
    CHECK(pm_node_value(p, leaf, m) == 6);
    CHECK(pm_node_value(p, leaf, 3) == 0);
    CHECK(pm_node_value(p, 100000, m) == 0);
    int64_t *tot = malloc(sizeof(int64_t) * pm_node_count(p));
    pm_totals(p, m, tot);
    CHECK(tot[leaf] == 6);
    CHECK(tot[n->parent] == 7);
    CHECK(tot[pb->parent] == 7);  /* a, line 2 */
    CHECK(tot[pm_thread_at(p, th)->root] == 9);
    CHECK(tot[PM_ROOT] == 9);
    pm_totals(p, 5, tot);
    CHECK(tot[PM_ROOT] == 0);
    free(tot);
    pm_profile_free(p);
}

static void test_threads(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_id a = pm_thread_get(p, 100, 0);
    pm_id b = pm_thread_get(p, 200, 2000);
    CHECK(a == 0 && b == 1 && pm_thread_count(p) == 2);
    CHECK(pm_thread_get(p, 100, 1000) == a);
    CHECK(pm_thread_at(p, a)->native_id == 1000); /* learnt later */
    CHECK(pm_thread_get(p, 200, 0) == b && pm_thread_get(p, 200, 2000) == b);
    /* An ident CPython gave again to a new thread: another OS thread id. */
    pm_id b2 = pm_thread_get(p, 200, 9);
    CHECK(b2 == 2 && pm_thread_at(p, b2)->native_id == 9 && pm_thread_get(p, 200, 9) == b2);
    CHECK(pm_thread_get(p, 200, 2000) == b);
    const pm_node *r = pm_node_get(p, pm_thread_at(p, b)->root);
    CHECK(r->parent == PM_ROOT && r->frame == PM_NONE && r->thread == b);
    CHECK(pm_thread_at(p, a)->name == 0);
    CHECK(pm_thread_set_name(p, a, "worker\n1", 8) == 0);
    size_t len;
    CHECK(memcmp(pm_str_get(p, pm_thread_at(p, a)->name, &len), "worker\n1", 8) == 0 && len == 8);
    CHECK(pm_thread_set_name(p, 9, "x", 1) == -1);
    CHECK(pm_thread_at(p, 3) == NULL);
    for (uint64_t i = 0; i < 5000; i++)
        pm_thread_get(p, 1000 + i * 7919, i);
    CHECK(pm_thread_count(p) == 5003);
    CHECK(pm_thread_get(p, 1000 + 4999 * 7919, 0) == 5002);
    pm_profile_free(p);
}

static void test_metrics(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    CHECK(pm_metric_count(p) == 0);
    CHECK(pm_metric_find(p, "wall") == -1);
    pm_id th = pm_thread_get(p, 1, 1);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
    pm_id n = pm_node_child(p, pm_thread_at(p, th)->root, f, 1);
    CHECK(pm_metric_add(p, "samples", "count") == 0);
    pm_node_add(p, n, 0, 4);
    /* A metric added after nodes exist starts at zero everywhere. */
    CHECK(pm_metric_add(p, "wall", "nanoseconds") == 1);
    CHECK(pm_node_value(p, n, 1) == 0);
    CHECK(pm_metric_add(p, "wall", "other") == 1); /* existing name */
    CHECK(pm_metric_find(p, "wall") == 1 && pm_metric_find(p, "samples") == 0);
    size_t len;
    CHECK(strcmp(pm_str_get(p, pm_metric_get(p, 1)->unit, &len), "nanoseconds") == 0);
    char name[16];
    for (int i = 2; i < PM_MAX_METRICS; i++) {
        snprintf(name, sizeof name, "m%d", i);
        CHECK(pm_metric_add(p, name, "count") == i);
    }
    CHECK(pm_metric_add(p, "one-too-many", "count") == -1);
    CHECK(pm_metric_count(p) == PM_MAX_METRICS);
    CHECK(pm_metric_get(p, PM_MAX_METRICS) == NULL && pm_metric_get(p, -1) == NULL);
    CHECK(pm_metric_add(p, NULL, "x") == -1);
    CHECK(pm_metric_add_id(p, 12345, 0) == -1);
    /* Columns grow with the nodes. */
    for (int i = 0; i < 5000; i++)
        pm_node_add(p, pm_node_child(p, n, f, i), PM_MAX_METRICS - 1, i);
    CHECK(pm_node_value(p, pm_node_child(p, n, f, 4999), PM_MAX_METRICS - 1) == 4999);
    CHECK(pm_node_value(p, pm_node_child(p, n, f, 4999), 0) == 0);
    CHECK(pm_node_value(p, n, 0) == 4);
    pm_profile_free(p);
}

static void test_timeline_keep_newest(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_id a = pm_thread_get(p, 1, 0);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
    pm_id na = pm_node_child(p, pm_thread_at(p, a)->root, f, 1);
    CHECK(pm_timeline_enable(p, 8) == 0);
    pm_timeline_keep_newest(p, 1);
    for (uint64_t i = 0; i < 100; i++)
        CHECK(pm_timeline_add(p, i, a, i % 2 ? na : PM_NONE) == 0);
    size_t n;
    const pm_event *ev = pm_timeline_events(p, &n);
    CHECK(n >= 6 && n <= 8);
    CHECK(pm_timeline_dropped(p) == 100 - n);
    for (size_t i = 0; i < n; i++) /* the newest, in order */
        CHECK(ev[i].t_ns == 100 - n + i && ev[i].node == (ev[i].t_ns % 2 ? na : PM_NONE));
    pm_profile_free(p);
}

static void test_timeline(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_id a = pm_thread_get(p, 1, 0), b = pm_thread_get(p, 2, 0);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
    pm_id na = pm_node_child(p, pm_thread_at(p, a)->root, f, 1);
    CHECK(pm_timeline_capacity(p) == 0);
    CHECK(pm_timeline_add(p, 1, a, na) == -1); /* disabled */
    CHECK(pm_timeline_dropped(p) == 0);
    CHECK(pm_timeline_enable(p, 3) == 0);
    CHECK(pm_timeline_capacity(p) == 3);
    CHECK(pm_timeline_add(p, 10, a, na) == 0);
    CHECK(pm_timeline_add(p, 20, b, PM_NONE) == 0);
    CHECK(pm_timeline_add(p, 25, b, na) == -1);  /* node of another thread */
    CHECK(pm_timeline_add(p, 25, 7, PM_NONE) == -1);
    CHECK(pm_timeline_add(p, 25, a, 9999) == -1);
    CHECK(pm_timeline_add(p, 30, a, pm_thread_at(p, a)->root) == 0);
    CHECK(pm_timeline_add(p, 40, a, na) == 1);
    CHECK(pm_timeline_add(p, 50, b, PM_NONE) == 1);
    CHECK(pm_timeline_dropped(p) == 2);
    size_t n;
    const pm_event *ev = pm_timeline_events(p, &n);
    CHECK(n == 3);
    CHECK(ev[0].t_ns == 10 && ev[0].thread == a && ev[0].node == na);
    CHECK(ev[1].t_ns == 20 && ev[1].thread == b && ev[1].node == PM_NONE);
    CHECK(ev[2].t_ns == 30);
    CHECK(pm_timeline_enable(p, 2) == -1); /* below what is held */
    pm_profile *q = pm_profile_new(); /* a late event goes to its place */
    pm_id qa = pm_thread_get(q, 1, 0), qb = pm_thread_get(q, 2, 0);
    CHECK(pm_timeline_enable(q, 10) == 0);
    uint64_t times[] = {10, 30, 40, 20, 40, 5, 50};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++)
        CHECK(pm_timeline_add(q, times[i], i == 3 ? qb : qa, PM_NONE) == 0);
    const pm_event *qe = pm_timeline_events(q, &n);
    uint64_t sorted[] = {5, 10, 20, 30, 40, 40, 50};
    CHECK(n == 7);
    for (size_t i = 0; i < n; i++)
        CHECK(qe[i].t_ns == sorted[i] && qe[i].thread == (i == 2 ? qb : qa));
    pm_profile_free(q);
    CHECK(pm_timeline_enable(p, 5000) == 0);
    for (int i = 0; i < 6000; i++)
        pm_timeline_add(p, 100 + (uint64_t)i, a, na);
    pm_timeline_events(p, &n);
    CHECK(n == 5000 && pm_timeline_dropped(p) == 2 + 1003);
    pm_timeline_add_dropped(p, 5);
    CHECK(pm_timeline_dropped(p) == 1010);
    pm_timeline_add_dropped(p, UINT64_MAX);
    CHECK(pm_timeline_dropped(p) == UINT64_MAX);
    CHECK(pm_timeline_enable(p, 0) == 0);
    pm_timeline_events(p, &n);
    CHECK(n == 0 && pm_timeline_dropped(p) == 0 && pm_timeline_capacity(p) == 0);
    pm_timeline_add_dropped(p, 5);
    CHECK(pm_timeline_dropped(p) == 0);
    pm_profile_free(p);
}

static void test_meta(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    CHECK(pm_meta_count(p) == 0 && pm_meta_find(p, "mode") == NULL);
    CHECK(pm_meta_set_str(p, "mode", "wall") == 0);
    CHECK(pm_meta_set_num(p, "rate_hz", 1000) == 0);
    CHECK(pm_meta_set_num(p, "duration_s", 2.5) == 0);
    CHECK(pm_meta_count(p) == 3);
    /* Replacing keeps the position and may change the kind. */
    CHECK(pm_meta_set_num(p, "mode", 7) == 0);
    CHECK(pm_meta_set_str(p, "rate_hz", "fast") == 0);
    CHECK(pm_meta_count(p) == 3);
    const pm_meta *m0 = pm_meta_at(p, 0), *m1 = pm_meta_at(p, 1), *m2 = pm_meta_at(p, 2);
    CHECK(strcmp(pm_str_get(p, m0->key, NULL), "mode") == 0 && m0->kind == PM_META_NUM && m0->num == 7);
    CHECK(strcmp(pm_str_get(p, m1->key, NULL), "rate_hz") == 0 && m1->kind == PM_META_STR &&
          strcmp(pm_str_get(p, m1->str, NULL), "fast") == 0);
    CHECK(m2->kind == PM_META_NUM && m2->num == 2.5);
    CHECK(pm_meta_find(p, "duration_s") == m2);
    CHECK(pm_meta_find(p, "nope") == NULL && pm_meta_at(p, 3) == NULL);
    CHECK(pm_meta_set_str(p, NULL, "x") == -1 && pm_meta_set_str(p, "x", NULL) == -1);
    CHECK(pm_meta_set_str_id(p, 0, 99999) == -1);
    char key[32];
    for (int i = 3; i < PM_MAX_META; i++) {
        snprintf(key, sizeof key, "k%d", i);
        if (pm_meta_set_num(p, key, i) != 0)
            break;
    }
    CHECK(pm_meta_count(p) == PM_MAX_META);
    CHECK(pm_meta_set_num(p, "one-more", 1) == -1);
    CHECK(pm_meta_set_num(p, "k5", 55) == 0); /* replacing still works */
    CHECK(pm_meta_find(p, "k5")->num == 55);
    pm_profile_free(p);
}

static void test_value_wraps_without_ub(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "x", "count");
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
    pm_id n = pm_node_child(p, pm_thread_at(p, th)->root, f, 0);
    pm_id n2 = pm_node_child(p, n, f, 1);
    pm_node_add(p, n, m, INT64_MAX);
    pm_node_add(p, n2, m, INT64_MAX);
    int64_t tot[4];
    pm_totals(p, m, tot); /* overflow wraps; UBSan would abort on signed overflow */
    CHECK(tot[n2] == INT64_MAX);
    pm_node_add(p, n, m, 1);
    CHECK(pm_node_value(p, n, m) == INT64_MIN);
    pm_profile_free(p);
}

static void test_frame_rename(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    /* Many frames so that probe sequences collide and removal must shift. */
    pm_id ids[2000];
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "f%d", i);
        ids[i] = tu_frame(p, name, "m.py", i % 7, PM_FRAME_PYTHON);
    }
    for (int i = 0; i < 2000; i += 2) {
        snprintf(name, sizeof name, "C.f%d", i);
        CHECK(pm_frame_set_name(p, ids[i], pm_str_intern_cstr(p, name)) == 0);
    }
    /* Every frame is still found under its current key, and only there. */
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, i % 2 ? "f%d" : "C.f%d", i);
        CHECK(tu_frame(p, name, "m.py", i % 7, PM_FRAME_PYTHON) == ids[i]);
    }
    CHECK(pm_frame_count(p) == 2000);
    snprintf(name, sizeof name, "f%d", 0);
    pm_id fresh = tu_frame(p, name, "m.py", 0, PM_FRAME_PYTHON); /* the old key is free again */
    CHECK(fresh == 2000);
    /* A rename onto another frame's key is refused and changes nothing. */
    CHECK(pm_frame_set_name(p, ids[7], pm_frame_get(p, ids[0])->name) == -1);
    CHECK(pm_frame_set_name(p, 99999, 0) == -1);
    pm_profile_free(p);
}

/* Re-rooting: the launcher's frames go from the top of the runner thread's
 * stacks, the program's stacks start at the program, other threads stay,
 * values of dropped nodes go, merged paths add up, unused frames and
 * strings leave the tables, timeline events follow their nodes. */
static pm_id rr_frame(pm_profile *p, const char *name)
{
    return pm_frame_intern(p, pm_str_intern_cstr(p, name), pm_str_intern_cstr(p, "f.py"), 1, PM_FRAME_PYTHON);
}

static void test_reroot(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_timeline_enable(p, 16);
    pm_id launcher = rr_frame(p, "launcher"), run = rr_frame(p, "run_script"), own = rr_frame(p, "setup"),
          prog = rr_frame(p, "<module>"), work = rr_frame(p, "work"), boot = rr_frame(p, "bootstrap");
    pm_id main_t = pm_thread_get(p, 1, 0), other = pm_thread_get(p, 2, 0);
    pm_id s1[] = {launcher, run, prog, work};
    pm_id s2[] = {launcher, own};
    pm_id s3[] = {launcher};
    pm_id s4[] = {boot, work};
    pm_id s5[] = {own}; /* a top-level call of the launcher (a tracer started inside it) */
    pm_id leaf = pm_stack_insert(p, main_t, s1, NULL, 4);
    pm_node_add(p, leaf, m, 5);
    pm_node_add(p, pm_stack_insert(p, main_t, s1, NULL, 3), m, 2);
    pm_node_add(p, pm_stack_insert(p, main_t, s2, NULL, 2), m, 7);
    pm_node_add(p, pm_stack_insert(p, main_t, s3, NULL, 1), m, 9);
    pm_node_add(p, pm_stack_insert(p, other, s4, NULL, 2), m, 3);
    pm_node_add(p, pm_stack_insert(p, main_t, s5, NULL, 1), m, 4);
    pm_timeline_add(p, 1, main_t, leaf);
    uint8_t kind[16] = {0};
    kind[launcher] = PM_REROOT_CHAIN;
    kind[run] = PM_REROOT_ENTRY;
    kind[own] = PM_REROOT_DROP;
    CHECK(pm_profile_reroot(p, kind, 1) == 0);
    /* main: <module> (2) -> work (5) only; other: bootstrap -> work (3) */
    int64_t total = 0;
    for (uint32_t i = 0; i < pm_node_count(p); i++)
        total += pm_node_value(p, i, m);
    CHECK(total == 10);
    CHECK(pm_frame_count(p) == 3); /* <module>, work, bootstrap */
    const pm_thread *th = pm_thread_at(p, main_t);
    const pm_node *top = pm_node_get(p, pm_node_get(p, th->root)->first_child);
    CHECK(top && top->next_sibling == PM_NONE);
    CHECK(top && strcmp(pm_str_get(p, pm_frame_get(p, top->frame)->name, NULL), "<module>") == 0);
    for (uint32_t i = 0; i < pm_str_count(p); i++)
        CHECK(strcmp(pm_str_get(p, i, NULL), "launcher") != 0);
    size_t nev = 0;
    const pm_event *ev = pm_timeline_events(p, &nev);
    CHECK(nev == 1 && pm_node_value(p, ev[0].node, m) == 5);
    const pm_node *o = pm_node_get(p, pm_node_get(p, pm_thread_at(p, other)->root)->first_child);
    CHECK(o && strcmp(pm_str_get(p, pm_frame_get(p, o->frame)->name, NULL), "bootstrap") == 0);
    pm_profile_free(p);
}

/* Folding: a hook's node, and all it calls, anywhere in a thread's stacks,
 * go into its caller (values add up there, the paths below the hook merge
 * away); the rest of the profile is as it was; events follow. */
static void test_reroot_fold(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_timeline_enable(p, 16);
    pm_id boot = rr_frame(p, "bootstrap"), del = rr_frame(p, "delete"), hook = rr_frame(p, "hook"),
          note = rr_frame(p, "note"), work = rr_frame(p, "work");
    pm_id th = pm_thread_get(p, 2, 0);
    pm_id s1[] = {boot, del, hook, note};
    pm_id s2[] = {boot, del, hook};
    pm_id s3[] = {boot, del};
    pm_id s4[] = {boot, work};
    pm_id leaf = pm_stack_insert(p, th, s1, NULL, 4);
    pm_node_add(p, leaf, m, 3);
    pm_node_add(p, pm_stack_insert(p, th, s2, NULL, 3), m, 2);
    pm_node_add(p, pm_stack_insert(p, th, s3, NULL, 2), m, 1);
    pm_node_add(p, pm_stack_insert(p, th, s4, NULL, 2), m, 4);
    pm_timeline_add(p, 1, th, leaf);
    uint8_t kind[16] = {0};
    kind[hook] = PM_REROOT_FOLD;
    CHECK(pm_profile_reroot(p, kind, 0) == 0);
    /* bootstrap -> delete (6), bootstrap -> work (4); no hook, no note */
    CHECK(pm_node_count(p) == 5); /* the root, the thread's, bootstrap, delete, work */
    CHECK(pm_frame_count(p) == 3);
    size_t nev = 0;
    const pm_event *ev = pm_timeline_events(p, &nev);
    CHECK(nev == 1 && pm_node_value(p, ev[0].node, m) == 6);
    CHECK(strcmp(pm_str_get(p, pm_frame_get(p, pm_node_get(p, ev[0].node)->frame)->name, NULL), "delete") == 0);
    pm_profile_free(p);
}

/* Threads sharing an ident (CPython reuses an ended thread's ident): each
 * (ident, OS id) is its own thread, found again by both; an unknown OS id
 * finds the ident's latest thread; an OS id learnt later re-keys it. */
static void test_threads_reused_idents(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    enum { N = 20000, IDENTS = 7 };
    for (uint64_t i = 0; i < N; i++)
        CHECK(pm_thread_get(p, 100 + i % IDENTS, 5000 + i) == (pm_id)i);
    CHECK(pm_thread_count(p) == N);
    for (uint64_t i = 0; i < N; i += 997)
        CHECK(pm_thread_get(p, 100 + i % IDENTS, 5000 + i) == (pm_id)i);
    CHECK(pm_thread_get(p, 100, 0) == (pm_id)(N - 1 - (N - 1) % IDENTS)); /* the latest of ident 100 */
    pm_id late = pm_thread_get(p, 999, 0);
    CHECK(late == N && pm_thread_at(p, late)->native_id == 0);
    CHECK(pm_thread_get(p, 999, 77) == late && pm_thread_at(p, late)->native_id == 77);
    CHECK(pm_thread_get(p, 999, 77) == late && pm_thread_get(p, 999, 78) == N + 1);
    CHECK(pm_thread_count(p) == N + 2);
    pm_profile_free(p);
}

const pm_test pm_tests_model[] = {
    {"model/threads_reused_idents", test_threads_reused_idents},
    {"model/reroot", test_reroot},
    {"model/reroot_fold", test_reroot_fold},
    {"model/frame_rename", test_frame_rename},
    {"model/string_interning", test_string_interning},
    {"model/frame_interning", test_frame_interning},
    {"model/trie_child_lookup_200k", test_trie_child_lookup_200k},
    {"model/stack_insert_and_totals", test_stack_insert_and_totals},
    {"model/threads", test_threads},
    {"model/metrics", test_metrics},
    {"model/timeline", test_timeline},
    {"model/timeline_keep_newest", test_timeline_keep_newest},
    {"model/meta", test_meta},
    {"model/value_wraps_without_ub", test_value_wraps_without_ub},
    {NULL, NULL},
};
