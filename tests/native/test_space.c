/* test_space.c — pm_space_readv_paged, reading many small regions as the
 * pages they lie on: every region reads exactly what pm_space_readv reads
 * (bytes and ok flags), on pages that are there and on one that is not, in
 * any order, with regions that share, straddle or skip pages; the pages read
 * are kept (fewer runs than regions) and hold the memory they came from;
 * with too little room, regions are read as they are and pages-only ones
 * are not read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collect/pm_space.h"
#include "pm_test.h"

#define PAGES 24
#define NREG 400

typedef struct {
    uint8_t *mem; /* PAGES pages, page `HOLE` unmapped */
    pm_region r[NREG], ref[NREG];
    uint8_t got[NREG][600], want[NREG][600];
    size_t n;
} fixture;

#define HOLE 11

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int setup(fixture *f)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page != 4096)
        return -1;
    f->mem = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f->mem == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < PAGES * 4096; i++)
        f->mem[i] = (uint8_t)(i * 131 + (i >> 9));
    munmap(f->mem + HOLE * 4096, 4096);
    /* The first and last regions are the bracketing pointers; between
     * them, frames of 1-600 bytes anywhere (some on the missing page, some
     * across its edges), a null address, an empty one, and a large one. */
    size_t n = 0;
    for (; n < NREG - 5; n++) {
        /* pages 0-7 and 13-23: two runs, apart from the hole's */
        size_t len = 1 + next_rand() % 600;
        size_t at = n % 2 ? next_rand() % (8 * 4096 - len) : 13 * 4096 + next_rand() % (11 * 4096 - len);
        f->r[n] = (pm_region){(uint64_t)(uintptr_t)(f->mem + at), f->got[n], len, 0};
    }
    f->r[n] = (pm_region){0, f->got[n], 16, 0};
    n++;
    f->r[n] = (pm_region){(uint64_t)(uintptr_t)f->mem, f->got[n], 0, 0};
    n++;
    f->r[n] = (pm_region){(uint64_t)(uintptr_t)(f->mem + HOLE * 4096 - 8), f->got[n], 16, 0};
    n++;
    f->r[n] = (pm_region){(uint64_t)(uintptr_t)(f->mem + HOLE * 4096 + 100), f->got[n], 64, 0};
    n++;
    f->r[n] = (pm_region){(uint64_t)(uintptr_t)(f->mem + 40), f->got[n], 8, 0};
    f->n = ++n;
    for (size_t i = 0; i < f->n; i++) {
        f->ref[i] = f->r[i];
        f->ref[i].dst = f->want[i];
        f->r[i].ok = f->ref[i].ok = 7; /* stale flags must not survive */
    }
    memset(f->got, 0xEE, sizeof f->got);
    memset(f->want, 0xEE, sizeof f->want);
    return 0;
}

static void same_as_plain(pm_t *t, fixture *f, size_t whole, size_t whole_ref)
{
    CHECKF(whole == whole_ref, "paged %zu whole, plain %zu", whole, whole_ref);
    size_t bad = 0, holes = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->r[i].ok != f->ref[i].ok || (f->r[i].ok && memcmp(f->got[i], f->want[i], f->r[i].len) != 0))
            bad++;
        holes += (size_t)!f->ref[i].ok;
    }
    CHECKF(bad == 0, "%zu of %zu regions differ", bad, f->n);
    CHECKF(holes == 3, "%zu regions failed, not 3 (the null one, the one on the hole, the one across its edge)", holes);
}

static void test_paged_reads_as_plain(pm_t *t)
{
    static fixture f;
    if (!CHECK(setup(&f) == 0))
        return;
    pm_space s;
    pm_space_init(&s, getpid());
    size_t whole_ref = pm_space_readv(&s, f.ref, f.n);
    uint8_t *buf = malloc(1 << 20);
    pm_space_run runs[256];
    pm_space_pages pages = {buf, 1 << 20, 0, runs, 256, 0};
    uint64_t calls = s.calls;
    size_t whole = pm_space_readv_paged(&s, f.r, f.n, &pages);
    same_as_plain(t, &f, whole, whole_ref);
    CHECKF(s.calls - calls < 20, "%llu calls", (unsigned long long)(s.calls - calls));
    /* ~400 regions: the two areas' runs, and the one across the hole
     * (not read: its region is read alone, and fails). */
    CHECKF(pages.nruns == 3, "%zu runs", pages.nruns);
    for (size_t i = 0; i < pages.nruns; i++) {
        const pm_space_run *run = &pages.runs[i];
        if (!run->len)
            continue;
        CHECK(run->addr % 4096 == 0 && run->len % 4096 == 0);
        CHECK(memcmp(buf + run->off, (const void *)(uintptr_t)run->addr, run->len) == 0);
    }
    free(buf);
    munmap(f.mem, PAGES * 4096);
}

static void test_paged_short_of_room(pm_t *t)
{
    static fixture f;
    if (!CHECK(setup(&f) == 0))
        return;
    /* A pages-only region (no dst) beside the others: read when there is
     * room, not read (and not fatal) when there is none. */
    f.r[1].dst = NULL;
    f.ref[1].len = 0; /* the plain read's stand-in: nothing to compare */
    pm_space s;
    pm_space_init(&s, getpid());
    size_t whole_ref = pm_space_readv(&s, f.ref, f.n);
    uint8_t buf[8192];
    pm_space_run runs[4];
    pm_space_pages pages = {buf, sizeof buf, 0, runs, 4, 0};
    size_t whole = pm_space_readv_paged(&s, f.r, f.n, &pages);
    int ok1 = f.r[1].ok;
    f.r[1].ok = f.ref[1].ok;
    same_as_plain(t, &f, whole - (size_t)ok1, whole_ref - 1);
    CHECK(pages.nruns <= 4 && pages.used <= sizeof buf);
    munmap(f.mem, PAGES * 4096);
}

const pm_test pm_tests_space[] = {
    {"space_paged_reads_as_plain", test_paged_reads_as_plain},
    {"space_paged_short_of_room", test_paged_short_of_room},
    {NULL, NULL},
};
