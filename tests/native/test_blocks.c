/* test_blocks.c — pm_blocks, the memory collector's table of sampled
 * blocks: random inserts and removals against a plain array, through
 * growth and shrinking (and as exact mode keeps it: half full at most, never
 * shrinking, every address a "maybe"); the filter never says "surely not" for a block in
 * the table, and says it for every address once the table is empty; a
 * checkpoint clears the "new" bit; a removed block is gone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/pm_blocks.h"
#include "pm_test.h"

#define N 20000

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* every: exact mode's table (at most half full, never shrinks, every
 * address a "maybe"). */
static void random_against_array(pm_t *t, int every)
{
    static pm_blocks tb;
    pm_blocks_init(&tb);
    if (every)
        pm_blocks_every(&tb);
    size_t most_cap = 0;
    uintptr_t *live = calloc(N, sizeof *live); /* ptr at i, or 0 */
    uint64_t *when = calloc(N, sizeof *when);  /* its sample time */
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t count = 0;
    for (int round = 0; round < 200000; round++) {
        size_t i = (size_t)(next(&seed) % N);
        if (live[i]) {
            pm_block out;
            CHECK(pm_blocks_maybe(&tb, live[i]));
            CHECK(pm_blocks_remove(&tb, live[i], &out) == 1);
            CHECK(out.ptr == live[i] && out.wbytes == (int64_t)i * 16 && PM_BLOCK_NODE(&out) == (uint32_t)i);
            CHECK(out.t_ns == when[i]); /* the sample's time comes back with its free */
            CHECK(pm_blocks_remove(&tb, live[i], &out) == 0);
            live[i] = 0;
            count--;
        } else {
            /* 16-byte aligned, clustered like an allocator's pools */
            live[i] = (uintptr_t)0x7f0000000000ULL + (uintptr_t)i * 48 + ((next(&seed) & 3) << 40);
            when[i] = (uint64_t)round * 1000;
            pm_block b = {live[i], (int64_t)i * 16, (uint32_t)i | PM_BLOCK_NEW, 1024, when[i]};
            CHECK(pm_blocks_insert(&tb, &b, NULL) == 0);
            count++;
        }
        CHECK(tb.n == count);
        /* the load stays under 3/4 (1/2 for every block) */
        CHECK(tb.cap == 0 || (every ? tb.n * 2 <= tb.cap : tb.n * 4 <= tb.cap * 3));
        if (tb.cap > most_cap)
            most_cap = tb.cap;
    }
    for (size_t i = 0; i < N; i++) {
        pm_block got;
        if (live[i]) {
            CHECK(pm_blocks_maybe(&tb, live[i]));
            /* find answers as the array does, and leaves the entry in place */
            CHECK(pm_blocks_find(&tb, live[i], &got) == 1);
            CHECK(got.ptr == live[i] && PM_BLOCK_NODE(&got) == (uint32_t)i && got.wbytes == (int64_t)i * 16);
        } else {
            uintptr_t never = (uintptr_t)0x7f0000000000ULL + (uintptr_t)i * 48 + 8; /* between blocks */
            CHECK(pm_blocks_find(&tb, never, &got) == 0);
        }
    }
    CHECK(tb.n == count);
    /* Empty it: it shrinks back and every filter counter returns to 0 or stays saturated. */
    for (size_t i = 0; i < N; i++) {
        if (live[i]) {
            CHECK(pm_blocks_remove(&tb, live[i], NULL) == 1);
            count--;
        }
    }
    CHECK(tb.n == 0 && count == 0);
    /* Empty, it shrank back, unless every block is recorded. */
    CHECK(every ? tb.cap == most_cap : tb.cap <= 512);
    /* Nothing is sampled: the filter says "surely not" wherever its counter
     * came back to 0 (only a saturated one may still say "maybe"); when every
     * block is recorded, "maybe" everywhere. */
    size_t maybes = 0;
    for (size_t i = 0; i < N; i++)
        maybes += (size_t)pm_blocks_maybe(&tb, (uintptr_t)0x7f0000000000ULL + (uintptr_t)i * 48);
    for (size_t i = 0; i < sizeof tb.counts; i++)
        CHECK(tb.counts[i] == 0 || tb.counts[i] == 255);
    CHECK(maybes == (every ? (size_t)N : 0));
    pm_blocks_free(&tb);
    free(live);
    free(when);
}

static void test_random_against_array(pm_t *t)
{
    random_against_array(t, 0);
}

static void test_every_against_array(pm_t *t)
{
    random_against_array(t, 1);
}

static void test_age_and_clear(pm_t *t)
{
    static pm_blocks tb;
    pm_blocks_init(&tb);
    for (uintptr_t p = 16; p <= 16 * 100; p += 16) {
        pm_block b = {p, 1, 7 | PM_BLOCK_NEW, 1, 0};
        CHECK(pm_blocks_insert(&tb, &b, NULL) == 0);
    }
    pm_blocks_age(&tb);
    pm_block b = {16 * 101, 1, 7 | PM_BLOCK_NEW, 1, 0};
    CHECK(pm_blocks_insert(&tb, &b, NULL) == 0);
    size_t fresh = 0, old = 0;
    for (size_t i = 0; i < tb.cap; i++) {
        if (!tb.slots[i].ptr)
            continue;
        CHECK(PM_BLOCK_NODE(&tb.slots[i]) == 7);
        if (tb.slots[i].node & PM_BLOCK_NEW)
            fresh++;
        else
            old++;
    }
    CHECK(fresh == 1 && old == 100);
    /* The same address again (freed behind the table's back): replaced, not doubled. */
    pm_block again = {16, 5, 9, 1, 0}, was;
    CHECK(pm_blocks_insert(&tb, &again, &was) == 1);
    CHECK(was.ptr == 16 && was.wbytes == 1 && PM_BLOCK_NODE(&was) == 7);
    CHECK(tb.n == 101);
    pm_block out;
    CHECK(pm_blocks_remove(&tb, 16, &out) == 1 && out.wbytes == 5 && out.node == 9);
    pm_blocks_clear(&tb);
    CHECK(tb.n == 0 && !pm_blocks_maybe(&tb, 32));
    CHECK(pm_blocks_remove(&tb, 32, NULL) == 0);
    pm_blocks_free(&tb);
}

const pm_test pm_tests_blocks[] = {
    {"blocks_random_against_array", test_random_against_array},
    {"blocks_every_against_array", test_every_against_array},
    {"blocks_age_and_clear", test_age_and_clear},
    {NULL, NULL},
};
