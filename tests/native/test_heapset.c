/* test_heapset.c — the heap analyser's address set and map
 * (collect/pm_heap_set.c): random clustered addresses against a plain
 * sorted array, through many growths; reserve keeps slots in place. */
#include <stdint.h>
#include <stdlib.h>

#include "collect/pm_heap_set.h"
#include "pm_test.h"

#define N 50000

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static int in(const uintptr_t *sorted, size_t n, uintptr_t k)
{
    return bsearch(&k, sorted, n, sizeof k, cmp) != NULL;
}

static void test_set_against_array(pm_t *t)
{
    pm_ptrset s;
    CHECK(pm_ptrset_init(&s, 4) == 0);
    uintptr_t *keys = malloc(N * sizeof *keys);
    uint64_t seed = 0x2545F4914F6CDD1DULL;
    size_t distinct = 0;
    for (size_t i = 0; i < N; i++) {
        /* 16-byte aligned, clustered, with repeats */
        keys[i] = 0x7f0000000000ull + (uintptr_t)(next(&seed) % (N * 2)) * 16;
        int added = pm_ptrset_add(&s, keys[i]);
        CHECK(added == 0 || added == 1);
        distinct += (size_t)added;
    }
    qsort(keys, N, sizeof *keys, cmp);
    size_t unique = 0;
    for (size_t i = 0; i < N; i++)
        unique += i == 0 || keys[i] != keys[i - 1];
    CHECK(unique == distinct && s.count == distinct);
    for (size_t i = 0; i < N; i++)
        CHECK(pm_ptrset_has(&s, keys[i]) && pm_ptrset_add(&s, keys[i]) == 0);
    for (uintptr_t k = 0x7f0000000000ull + 8; k < 0x7f0000000000ull + 8 + 16 * 1000; k += 16)
        CHECK(!pm_ptrset_has(&s, k)); /* misaligned: never added */
    for (uintptr_t k = 0x7f0000000000ull; k < 0x7f0000000000ull + 16 * 2000; k += 16)
        CHECK(pm_ptrset_has(&s, k) == in(keys, N, k));
    CHECK(pm_ptrset_bytes(&s) >= s.count * sizeof(uintptr_t) * 4 / 3);
    size_t before = pm_ptrset_bytes(&s);
    CHECK(pm_ptrset_reserve(&s, 3 * s.count) == 0 && pm_ptrset_bytes(&s) > before);
    before = pm_ptrset_bytes(&s);
    for (size_t i = 0; i < 3 * distinct; i++)
        pm_ptrset_add(&s, 0x100000000000ull + i * 16);
    CHECK(pm_ptrset_bytes(&s) == before); /* reserved: no growth */
    pm_ptrset_free(&s);
    CHECK(!pm_ptrset_has(&s, keys[0]));
    free(keys);
}

static void test_map_against_array(pm_t *t)
{
    pm_ptrmap m;
    CHECK(pm_ptrmap_init(&m, 1) == 0);
    for (uint32_t i = 0; i < N; i++)
        CHECK(pm_ptrmap_put(&m, 0x55550000ull + (uintptr_t)i * 48, i) == 0);
    CHECK(m.count == N);
    for (uint32_t i = 0; i < N; i++)
        CHECK(pm_ptrmap_get(&m, 0x55550000ull + (uintptr_t)i * 48) == (int64_t)i);
    CHECK(pm_ptrmap_get(&m, 0x55550000ull + 8) == -1);
    CHECK(pm_ptrmap_put(&m, 0x55550000ull, 7) == 0 && pm_ptrmap_get(&m, 0x55550000ull) == 7 && m.count == N);
    pm_ptrmap_free(&m);
    CHECK(pm_ptrmap_get(&m, 0x55550000ull) == -1);
}

const pm_test pm_tests_heapset[] = {
    {"heapset_set_against_array", test_set_against_array},
    {"heapset_map_against_array", test_map_against_array},
    {NULL, NULL},
};
