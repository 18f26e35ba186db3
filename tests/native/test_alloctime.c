/* test_alloctime.c — pm_alloctime, the memory collector's allocations over
 * time: random allocations and frees against a plain list of the events
 * summed afresh with the final bucket width (doubling buckets must give
 * exactly what summing with the wider bucket would), the entry cap merges
 * buckets and loses nothing, and entries that cannot merge raise the cap
 * rather than lose data.  Plus the model's records: normalize merges one
 * key, and re-rooting moves records with their nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/pm_alloctime.h"
#include "model/pm_model.h"
#include "pm_test.h"

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct {
    uint32_t node;
    uint64_t t_alloc, t_free; /* t_free UINT64_MAX: never freed */
    int64_t bytes, count;
} event;

/* The finished table's sum over (node, at, freed); -1 when absent. */
static int64_t table_bytes(const pm_alloctime *t, uint32_t node, uint32_t at, uint32_t freed, int64_t *count)
{
    for (size_t i = 0; i < t->cap; i++) {
        const pm_alloctime_entry *e = &t->slots[i];
        if (e->node == node && e->at == at && e->freed == freed) {
            if (count)
                *count = e->count;
            return e->bytes;
        }
    }
    return -1;
}

static void check_against(pm_t *t, const pm_alloctime *tb, const event *ev, size_t n, uint32_t nodes)
{
    uint64_t w = pm_alloctime_bucket_ns(tb);
    uint32_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t last = ev[i].t_free != UINT64_MAX ? ev[i].t_free : ev[i].t_alloc;
        if (last / w + 1 > nb)
            nb = (uint32_t)(last / w + 1);
    }
    CHECKF(nb <= tb->max_buckets, "%u buckets of %llu ns", nb, (unsigned long long)w);
    /* expected[node][at][freed + 1], freed + 1 == 0 for live */
    size_t cells = (size_t)nodes * nb * (nb + 1);
    int64_t *eb = calloc(cells, sizeof *eb), *ec = calloc(cells, sizeof *ec);
    for (size_t i = 0; i < n; i++) {
        size_t at = ev[i].t_alloc / w, fr = ev[i].t_free == UINT64_MAX ? 0 : ev[i].t_free / w + 1;
        size_t k = ((size_t)ev[i].node * nb + at) * (nb + 1) + fr;
        eb[k] += ev[i].bytes;
        ec[k] += ev[i].count;
    }
    size_t seen = 0;
    for (uint32_t node = 0; node < nodes; node++)
        for (uint32_t at = 0; at < nb; at++)
            for (uint32_t fr = 0; fr <= nb; fr++) {
                size_t k = ((size_t)node * nb + at) * (nb + 1) + fr;
                int64_t c = 0, b = table_bytes(tb, node, at, fr ? fr - 1 : PM_ALLOCTIME_LIVE, &c);
                if (eb[k] || ec[k]) {
                    seen++;
                    CHECKF(b == eb[k] && c == ec[k], "node %u at %u freed %u: %lld/%lld, want %lld/%lld", node, at,
                           fr, (long long)b, (long long)c, (long long)eb[k], (long long)ec[k]);
                } else {
                    CHECKF(b == -1, "node %u at %u freed %u: unexpected entry", node, at, fr);
                }
            }
    CHECKF(seen == tb->n, "%zu expected entries, table holds %zu", seen, tb->n);
    free(eb);
    free(ec);
}

/* Random samples and frees, buckets doubling many times over the run. */
static void test_random_against_list(pm_t *t)
{
    enum { N = 20000, NODES = 12 };
    event *ev = calloc(N, sizeof *ev);
    pm_alloctime tb;
    pm_alloctime_init(&tb, 1000, 64, 1u << 20);
    uint64_t seed = 0x2545f4914f6cdd1dULL, now = 0;
    /* Frees are replayed in time order with the allocations: a free waits
     * in a small pending list until the clock passes it. */
    size_t pending[64], np = 0;
    for (size_t i = 0; i < N; i++) {
        now += next(&seed) % 3000; /* ~1.5 us apart: ~30 ms in all, 1 us buckets at first */
        for (size_t j = 0; j < np;) {
            event *e = &ev[pending[j]];
            if (e->t_free <= now) {
                pm_alloctime_freed(&tb, e->node, e->t_alloc, e->t_free, e->bytes, e->count);
                pending[j] = pending[--np];
            } else {
                j++;
            }
        }
        ev[i].node = (uint32_t)(next(&seed) % NODES);
        ev[i].t_alloc = now;
        ev[i].bytes = (int64_t)(next(&seed) % 100000) + 1;
        ev[i].count = (int64_t)(next(&seed) % 5000) + 1024;
        ev[i].t_free = UINT64_MAX;
        pm_alloctime_alloc(&tb, ev[i].node, now, ev[i].bytes, ev[i].count);
        if (np < 64 && next(&seed) % 3) {
            ev[i].t_free = now + next(&seed) % 200000;
            pending[np++] = i;
        }
    }
    /* Frees still pending happen at the end. */
    for (size_t j = 0; j < np; j++) {
        event *e = &ev[pending[j]];
        pm_alloctime_freed(&tb, e->node, e->t_alloc, e->t_free, e->bytes, e->count);
    }
    CHECK(tb.merges > 0 && !tb.oom);
    CHECK(pm_alloctime_bucket_ns(&tb) == (1000ull << tb.merges));
    pm_alloctime_finish(&tb);
    check_against(t, &tb, ev, N, NODES);
    pm_alloctime_free(&tb);
    free(ev);
}

/* Exact mode's pattern: runs of events in one bucket from a few hundred
 * leaves, frees of blocks from earlier buckets, the table rebuilt (grown,
 * buckets doubled by time and by the entry cap) in the middle of it all.
 * The current bucket's sums, the memos and the cached bucket spans must
 * give exactly what the list does. */
static void test_memos_against_list(pm_t *t)
{
    enum { N = 60000, NODES = 300, LIVE = 512 };
    event *ev = calloc(N, sizeof *ev);
    pm_alloctime tb;
    pm_alloctime_init(&tb, 1000000, 256, 4096);
    uint64_t seed = 0x9e3779b97f4a7c15ULL, now = 0;
    size_t live[LIVE], nl = 0;
    uint32_t leaf = 0;
    for (size_t i = 0; i < N; i++) {
        now += next(&seed) % 40000; /* ~50 events per 1 ms bucket, some exactly on a boundary */
        if (next(&seed) % 16 == 0)
            now = (now / 1000000 + 1) * 1000000;
        if (next(&seed) % 8 == 0) /* a loop moves on to another leaf now and then */
            leaf = (uint32_t)(next(&seed) % NODES);
        ev[i] = (event){leaf, now, UINT64_MAX, (int64_t)(next(&seed) % 500) + 16, 1024};
        pm_alloctime_alloc(&tb, leaf, now, ev[i].bytes, ev[i].count);
        if (nl == LIVE || (nl && next(&seed) % 2)) { /* free one of the live blocks */
            size_t j = (size_t)(next(&seed) % nl);
            event *e = &ev[live[j]];
            e->t_free = now;
            pm_alloctime_freed(&tb, e->node, e->t_alloc, now, e->bytes, e->count);
            live[j] = live[--nl];
        }
        live[nl++] = i;
    }
    CHECK(tb.merges > 0 && !tb.oom);
    pm_alloctime_finish(&tb);
    check_against(t, &tb, ev, N, NODES);
    pm_alloctime_free(&tb);
    free(ev);
}

/* Past max_entries, buckets double (entries merge) and nothing is lost. */
static void test_entry_cap_merges(pm_t *t)
{
    enum { N = 5000, NODES = 4 };
    event *ev = calloc(N, sizeof *ev);
    pm_alloctime tb;
    pm_alloctime_init(&tb, 10, 1u << 20, 100);
    for (size_t i = 0; i < N; i++) {
        ev[i] = (event){(uint32_t)(i % NODES), i * 10, UINT64_MAX, (int64_t)i, 1};
        pm_alloctime_alloc(&tb, ev[i].node, ev[i].t_alloc, ev[i].bytes, 1);
        CHECKF(tb.n <= 100, "%zu entries", tb.n);
    }
    CHECK(tb.merges >= 8 && tb.max_entries == 100); /* 4 nodes x 25 buckets at most: 256x wider */
    pm_alloctime_finish(&tb);
    check_against(t, &tb, ev, N, NODES);
    pm_alloctime_free(&tb);
    free(ev);
}

/* Entries that differ by node only cannot merge: the cap gives way. */
static void test_cap_gives_way_to_nodes(pm_t *t)
{
    enum { NODES = 1000 };
    event ev[NODES];
    pm_alloctime tb;
    pm_alloctime_init(&tb, 1000, 16, 64);
    for (uint32_t i = 0; i < NODES; i++) {
        ev[i] = (event){i, 5, 7 + i % 3, 100 + i, 1};
        pm_alloctime_alloc(&tb, i, 5, ev[i].bytes, 1);
        pm_alloctime_freed(&tb, i, 5, ev[i].t_free, ev[i].bytes, 1);
    }
    pm_alloctime_finish(&tb); /* the current bucket's sums reach the table here */
    CHECK(tb.max_entries >= 2 * NODES && !tb.oom);
    CHECK(tb.merges == 0 && pm_alloctime_bucket_ns(&tb) == 1000); /* no time resolution given up for nothing */
    /* everything was freed: no live entry is left, each freed one is there */
    check_against(t, &tb, ev, NODES, NODES);
    CHECK(tb.n == NODES);
    pm_alloctime_free(&tb);
}

/* Live at the end = allocated minus freed, per (node, bucket). */
static void test_finish_subtracts_frees(pm_t *t)
{
    pm_alloctime tb;
    pm_alloctime_init(&tb, 1000000, 4096, 1024);
    pm_alloctime_alloc(&tb, 3, 1500000, 100, 1024);   /* bucket 1, freed in bucket 4 */
    pm_alloctime_alloc(&tb, 3, 1700000, 50, 1024);    /* bucket 1, live */
    pm_alloctime_alloc(&tb, 3, 2100000, 10, 1024);    /* bucket 2, freed in bucket 2 */
    pm_alloctime_freed(&tb, 3, 1500000, 4200000, 100, 1024);
    pm_alloctime_freed(&tb, 3, 2100000, 2900000, 10, 1024);
    pm_alloctime_finish(&tb);
    int64_t c = 0;
    CHECK(table_bytes(&tb, 3, 1, PM_ALLOCTIME_LIVE, &c) == 50 && c == 1024);
    CHECK(table_bytes(&tb, 3, 1, 4, &c) == 100 && c == 1024);
    CHECK(table_bytes(&tb, 3, 2, 2, &c) == 10);
    CHECK(table_bytes(&tb, 3, 2, PM_ALLOCTIME_LIVE, NULL) == -1); /* nothing left live there */
    CHECK(tb.n == 3);
    pm_alloctime_free(&tb);
}

/* The model's records: refused when invalid, one per key after
 * normalize, sorted by time; re-rooting carries them to the new nodes and
 * drops those of dropped nodes. */
static void test_model_records(pm_t *t)
{
    pm_profile *p = pm_profile_new();
    pm_id fl = pm_frame_intern(p, pm_str_intern_cstr(p, "launcher"), pm_str_intern_cstr(p, "f.py"), 1, PM_FRAME_PYTHON);
    pm_id fr = pm_frame_intern(p, pm_str_intern_cstr(p, "run"), pm_str_intern_cstr(p, "f.py"), 2, PM_FRAME_PYTHON);
    pm_id fo = pm_frame_intern(p, pm_str_intern_cstr(p, "own"), pm_str_intern_cstr(p, "f.py"), 3, PM_FRAME_PYTHON);
    pm_id fw = pm_frame_intern(p, pm_str_intern_cstr(p, "work"), pm_str_intern_cstr(p, "g.py"), 4, PM_FRAME_PYTHON);
    pm_id th = pm_thread_get(p, 1, 0);
    pm_id s1[] = {fl, fr, fw}, s2[] = {fl, fo};
    pm_id work = pm_stack_insert(p, th, s1, NULL, 3), own = pm_stack_insert(p, th, s2, NULL, 2);
    pm_alloc_rec r = {work, 3, PM_NONE, 10, 1};
    CHECK(pm_allocs_add(p, &r) == -1); /* not enabled */
    CHECK(pm_allocs_enable(p, 1000) == 0);
    CHECK(pm_allocs_add(p, &r) == 0);
    CHECK(pm_allocs_enable(p, 2000) == -1); /* records held: the width stays */
    pm_alloc_rec bad[] = {{PM_ROOT, 0, PM_NONE, 1, 1}, {work, 5, 4, 1, 1}, {pm_node_count(p), 0, PM_NONE, 1, 1}};
    for (size_t i = 0; i < 3; i++)
        CHECK(pm_allocs_add(p, &bad[i]) == -1);
    pm_alloc_rec more[] = {{work, 3, PM_NONE, 5, 2}, {work, 1, 2, 7, 1}, {own, 1, PM_NONE, 9, 1},
                           {work, 0, 0, 4, 1},       {work, 0, 0, -4, -1}};
    for (size_t i = 0; i < 5; i++)
        CHECK(pm_allocs_add(p, &more[i]) == 0);
    pm_allocs_normalize(p);
    size_t n = 0;
    const pm_alloc_rec *rs = pm_allocs_records(p, &n);
    CHECK(n == 3); /* (work, 0, 0) summed to zero and went */
    CHECK(n == 3 && rs[0].node == work && rs[0].at == 1 && rs[0].freed == 2 && rs[0].bytes == 7);
    CHECK(n == 3 && rs[1].node == own && rs[1].at == 1 && rs[1].freed == PM_NONE);
    CHECK(n == 3 && rs[2].node == work && rs[2].at == 3 && rs[2].bytes == 15 && rs[2].count == 3);
    uint8_t kind[8] = {0};
    kind[fl] = PM_REROOT_CHAIN;
    kind[fr] = PM_REROOT_ENTRY;
    kind[fo] = PM_REROOT_DROP;
    CHECK(pm_profile_reroot(p, kind, 1) == 0);
    rs = pm_allocs_records(p, &n);
    CHECK(n == 2); /* own's record went with own */
    for (size_t i = 0; i < n; i++) {
        const pm_node *nd = pm_node_get(p, rs[i].node);
        CHECK(nd && nd->frame != PM_NONE &&
              strcmp(pm_str_get(p, pm_frame_get(p, nd->frame)->name, NULL), "work") == 0);
        CHECK(nd && pm_node_get(p, nd->parent)->frame == PM_NONE); /* work is now top level */
    }
    CHECK(pm_allocs_bucket_ns(p) == 1000);
    pm_profile_free(p);
}

const pm_test pm_tests_alloctime[] = {
    {"alloctime/random_against_list", test_random_against_list},
    {"alloctime/memos_against_list", test_memos_against_list},
    {"alloctime/entry_cap_merges", test_entry_cap_merges},
    {"alloctime/cap_gives_way_to_nodes", test_cap_gives_way_to_nodes},
    {"alloctime/finish_subtracts_frees", test_finish_subtracts_frees},
    {"alloctime/model_records", test_model_records},
    {NULL, NULL},
};
