/* test_requests.c — per-request attribution: thread tags, per-request
 * tallies (collect/pm_requests.c) checked against a plain reference, and a
 * request's profile cut out of the shared model (model/pm_extract.c). */
#include <stdlib.h>
#include <string.h>

#include "collect/pm_requests.h"
#include "test_util.h"

static void test_tags(pm_t *t)
{
    pm_requests *R = pm_requests_new();
    CHECK(R != NULL);
    CHECK(pm_requests_tag_of(R, 77) == 0);
    CHECK(pm_requests_tag(R, 77, 5) == 0);
    CHECK(pm_requests_tag(R, 78, 6) == 0);
    CHECK(pm_requests_tag_of(R, 77) == 5 && pm_requests_tag_of(R, 78) == 6);
    CHECK(pm_requests_tag(R, 77, 9) == 5); /* the previous, for a coroutine step */
    CHECK(pm_requests_tag(R, 77, 0) == 9 && pm_requests_tag_of(R, 77) == 0);
    CHECK(pm_requests_tag(R, 0, 3) == 0 && R->untagged == 1); /* no thread 0 */
    /* The table fills: the threads past it are counted, the others kept. */
    for (uint64_t i = 1; i <= PM_REQ_THREADS + 10; i++)
        pm_requests_tag(R, 1000 + i, i);
    CHECK(pm_requests_tag_of(R, 78) == 6);
    CHECK(R->untagged >= 1 + 10);
    pm_requests_free(R);
}

static void test_tallies_against_reference(pm_t *t)
{
    enum { NODES = 300, REQS = 7, CHARGES = 20000 };
    pm_requests *R = pm_requests_new();
    static int64_t ref[REQS + 1][NODES][2];
    memset(ref, 0, sizeof ref);
    for (uint64_t r = 1; r <= REQS; r++)
        CHECK(pm_requests_open(R, r) == 0);
    CHECK(pm_requests_open(R, 0) == -1);
    srand(7);
    for (int i = 0; i < CHARGES; i++) {
        uint64_t ident = 100 + (uint64_t)(rand() % 5);
        if (rand() % 10 == 0)
            pm_requests_tag(R, ident, (uint64_t)(rand() % (REQS + 2))); /* REQS+1: not open */
        pm_id node = (pm_id)(rand() % NODES);
        int64_t v[PM_MAX_METRICS] = {1, rand() % 1000};
        uint64_t rid = pm_requests_tag_of(R, ident);
        pm_requests_charge(R, ident, pm_requests_seq(R, ident), node, v);
        if (rid >= 1 && rid <= REQS) {
            ref[rid][node][0] += v[0];
            ref[rid][node][1] += v[1];
        }
    }
    for (uint64_t r = 1; r <= REQS; r++) {
        pm_req_cell *cells;
        size_t n;
        CHECK(pm_requests_take(R, r, &cells, &n) == 0);
        int64_t got[NODES][2];
        memset(got, 0, sizeof got);
        for (size_t i = 0; i < n; i++) {
            got[cells[i].node][0] += cells[i].v[0];
            got[cells[i].node][1] += cells[i].v[1];
        }
        CHECK(memcmp(got, ref[r], sizeof got) == 0);
        free(cells);
        CHECK(pm_requests_take(R, r, &cells, &n) == -1); /* taken once */
    }
    CHECK(R->nrecs == 0 && R->lost == 0 && R->torn == 0);
    /* A tag change between the stack read and the charge: not charged. */
    CHECK(pm_requests_open(R, 1) == 0);
    pm_requests_tag(R, 100, 1);
    uint64_t seq = pm_requests_seq(R, 100);
    CHECK(seq % 2 == 0);
    pm_requests_tag(R, 100, 1); /* even to the same request (A, B, A) */
    int64_t v[PM_MAX_METRICS] = {1};
    pm_requests_charge(R, 100, seq, 5, v);
    CHECK(R->torn == 1);
    pm_requests_charge(R, 100, pm_requests_seq(R, 100), 5, v);
    pm_req_cell *cells;
    size_t n;
    CHECK(pm_requests_take(R, 1, &cells, &n) == 0 && n == 1 && cells[0].v[0] == 1);
    free(cells);
    pm_requests_free(R);
}

static void test_extract(pm_t *t)
{
    pm_profile *src = pm_profile_new();
    int ms = pm_metric_add(src, "samples", "count"), mw = pm_metric_add(src, "wall", "nanoseconds");
    pm_id f[4];
    const char *names[] = {"main", "handle", "slow_red", "fast"};
    for (int i = 0; i < 4; i++)
        f[i] = pm_frame_intern(src, pm_str_intern_cstr(src, names[i]), pm_str_intern_cstr(src, "app.py"), 10 * i,
                               PM_FRAME_PYTHON);
    pm_id a = pm_thread_get(src, 11, 111), b = pm_thread_get(src, 22, 222);
    pm_thread_set_name(src, a, "worker-a", 8);
    pm_id red_path[] = {f[0], f[1], f[2]}, fast_path[] = {f[0], f[1], f[3]};
    int32_t lines[] = {1, 2, 3};
    pm_id red = pm_stack_insert(src, a, red_path, lines, 3);
    pm_id fast = pm_stack_insert(src, b, fast_path, lines, 3);
    pm_id mid = pm_node_get(src, red)->parent;
    pm_node_add(src, red, ms, 50);
    pm_node_add(src, fast, ms, 70);
    /* The request's own tallies differ from the shared model's totals. */
    pm_id leaves[] = {red, mid, PM_ROOT, 9999};
    int64_t values[4 * PM_MAX_METRICS] = {0};
    values[0 * PM_MAX_METRICS + ms] = 3;
    values[0 * PM_MAX_METRICS + mw] = 3000;
    values[1 * PM_MAX_METRICS + ms] = 1;
    pm_profile *dst = pm_profile_extract(src, leaves, values, 4);
    CHECK(dst != NULL);
    CHECK(pm_metric_count(dst) == 2 && pm_metric_find(dst, "wall") == mw);
    CHECK(pm_thread_count(dst) == 1);
    const pm_thread *th = pm_thread_at(dst, 0);
    CHECK(th->ident == 11 && th->native_id == 111);
    CHECK(strcmp(pm_str_get(dst, th->name, NULL), "worker-a") == 0);
    /* Only the red request's stack, with its own values. */
    int64_t samples = 0, wall = 0;
    int saw_fast = 0, red_leaf = 0;
    for (pm_id n = 0; n < pm_node_count(dst); n++) {
        const pm_node *node = pm_node_get(dst, n);
        samples += pm_node_value(dst, n, ms);
        wall += pm_node_value(dst, n, mw);
        if (node->frame == PM_NONE)
            continue;
        const char *name = pm_str_get(dst, pm_frame_get(dst, node->frame)->name, NULL);
        saw_fast += strcmp(name, "fast") == 0;
        if (strcmp(name, "slow_red") == 0) {
            red_leaf = pm_node_value(dst, n, ms) == 3 && node->line == 3;
            const pm_node *up = pm_node_get(dst, node->parent);
            CHECK(strcmp(pm_str_get(dst, pm_frame_get(dst, up->frame)->name, NULL), "handle") == 0);
            CHECK(pm_node_value(dst, node->parent, ms) == 1);
        }
    }
    CHECK(samples == 4 && wall == 3000 && saw_fast == 0 && red_leaf);
    /* Merging a profile into a copy of itself doubles every value and adds
     * no node. */
    pm_profile *twice = pm_profile_extract(src, leaves, values, 4);
    uint32_t nodes = pm_node_count(twice);
    CHECK(pm_profile_merge(twice, dst) == 0);
    CHECK(pm_node_count(twice) == nodes);
    int64_t s2 = 0;
    for (pm_id n = 0; n < pm_node_count(twice); n++)
        s2 += pm_node_value(twice, n, ms);
    CHECK(s2 == 8);
    pm_profile_free(twice);
    pm_profile_free(dst);
    dst = pm_profile_extract(src, NULL, NULL, 0);
    CHECK(dst != NULL && pm_thread_count(dst) == 0 && pm_metric_count(dst) == 2);
    pm_profile_free(dst);
    pm_profile_free(src);
}

const pm_test pm_tests_requests[] = {
    {"requests_tags", test_tags},
    {"requests_tallies_against_reference", test_tallies_against_reference},
    {"requests_extract", test_extract},
    {NULL, NULL},
};
