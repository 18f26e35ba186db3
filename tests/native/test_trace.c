/* test_trace.c — pm_trace, the tables of `pyrometer trace`: addresses get
 * dense indexes once, line counts grow in both directions without losing
 * what was counted, caller -> callee pairs are a set, and the --trace log
 * keeps the first lines up to its cap and counts the rest. */
#include <stdint.h>

#include "collect/pm_trace.h"
#include "pm_test.h"

static void test_trace_codes_and_counts(pm_t *t)
{
    pm_trace *T = pm_trace_new(0);
    CHECK(T != NULL);
    static char keys[3000];
    CHECK(pm_trace_find(T, &keys[0]) == PM_TRACE_UNSEEN);
    for (uint32_t i = 0; i < 3000; i++) /* through several growths of the map */
        CHECK(pm_trace_add(T, &keys[i], i % 3 != 0) == i);
    for (uint32_t i = 0; i < 3000; i++)
        CHECK(pm_trace_find(T, &keys[i]) == i && T->codes[i].traced == (i % 3 != 0));
    pm_trace_hit(T, 1, 100);
    pm_trace_hit(T, 1, 100);
    pm_trace_hit(T, 1, 3);    /* below the first: the array grows down */
    pm_trace_hit(T, 1, 5000); /* far above */
    pm_trace_hit(T, 1, 0);    /* no line: not counted */
    const pm_trcode *c = &T->codes[1];
    int64_t total = 0;
    for (uint32_t j = 0; j < c->n; j++)
        total += c->hits[j];
    CHECK(total == 4);
    CHECK(c->hits[100 - c->base] == 2 && c->hits[3 - c->base] == 1 && c->hits[5000 - c->base] == 1);
    pm_trace_mark(T, 1, 100);
    pm_trace_mark(T, 2, 7);
    CHECK(c->hits[100 - c->base] == 1 && T->codes[2].hits[7 - T->codes[2].base] == 1);
    CHECK(!T->oom);
    pm_trace_free(T);
}

static void test_trace_pairs_are_a_set(pm_t *t)
{
    pm_trace *T = pm_trace_new(0);
    for (uint32_t round = 0; round < 3; round++)
        for (uint32_t i = 0; i < 500; i++)
            CHECK(pm_trace_pair(T, i, (i * 7) % 500) == 0);
    CHECK(pm_trace_pair(T, 0, 0) == 0); /* (0, 0) is not the empty slot */
    CHECK(T->npairs == 500);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < T->pair_cap; i++) {
        uint64_t v = T->pairs[i];
        if (!v)
            continue;
        uint32_t parent = (uint32_t)(v >> 32) - 1, child = (uint32_t)v - 1;
        CHECK(child == (parent * 7) % 500);
        seen++;
    }
    CHECK(seen == 500);
    pm_trace_free(T);
}

static void test_trace_log_cap(pm_t *t)
{
    pm_trace *T = pm_trace_new(10000);
    for (int i = 0; i < 12345; i++)
        pm_trace_log(T, (uint32_t)(i % 2), 0, i + 1, i);
    CHECK(T->nlog == 10000 && T->log_dropped == 2345);
    CHECK(T->log[0].line == 1 && T->log[9999].line == 10000 && T->log[9999].thread == 1);
    pm_trace_free(T);
    T = pm_trace_new(0); /* no log */
    CHECK(pm_trace_log(T, 0, 0, 1, 1) == 1 && T->nlog == 0);
    pm_trace_free(T);
}

const pm_test pm_tests_trace[] = {
    {"trace_codes_and_counts", test_trace_codes_and_counts},
    {"trace_pairs_are_a_set", test_trace_pairs_are_a_set},
    {"trace_log_cap", test_trace_log_cap},
    {NULL, NULL},
};
