/* pm_space.c — see pm_space.h.  process_vm_readv costs ~1.5 us per call and
 * ~0.3 us per extra region on this class of machine, so callers batch; the
 * bytes themselves cost little (a page is read in ~0.1 us), so many small
 * regions are read as the pages they lie on (pm_space_readv_paged). */
#include "pm_space.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "pm_guard.h"

/* The kernel accepts at most IOV_MAX (1024) regions per call. */
#define PM_SPACE_BATCH 1024

void pm_space_init(pm_space *s, pid_t pid)
{
    s->pid = pid;
    s->direct = 0;
    s->snap = NULL;
    s->calls = 0;
    s->faults = 0;
}

/* The snapshot region holding [addr, addr + len), by binary search. */
static const uint8_t *snap_at(const pm_snapshot *sn, size_t i, uint64_t addr, size_t len)
{
    const pm_snap_region *r = &sn->regions[i];
    if (addr < r->addr || addr - r->addr > r->len || len > r->len - (addr - r->addr))
        return NULL;
    return sn->data + r->off + (addr - r->addr);
}

static const uint8_t *snap_find(const pm_snapshot *sn, uint64_t addr, size_t len, size_t *hint)
{
    /* A walk reads a deep chain region after region in address order:
     * the last region read and its neighbours first, so thousands of
     * frames cost no binary search each. */
    size_t h = *hint;
    for (size_t i = h ? h - 1 : 0; i < sn->n && i <= h + 1; i++) {
        const uint8_t *p = snap_at(sn, i, addr, len);
        if (p) {
            *hint = i;
            return p;
        }
    }
    size_t lo = 0, hi = sn->n;
    while (lo < hi) { /* the first region starting after addr */
        size_t mid = lo + (hi - lo) / 2;
        if (sn->regions[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    *hint = lo - 1;
    return snap_at(sn, lo - 1, addr, len);
}

int pm_space_read(pm_space *s, uint64_t addr, void *dst, size_t len)
{
    if (len == 0)
        return 0;
    if (addr == 0) {
        s->faults++;
        return -1;
    }
    if (s->snap) {
        const uint8_t *p = snap_find(s->snap, addr, len, &s->snap_hint);
        if (!p) {
            s->faults++;
            return -1;
        }
        memcpy(dst, p, len);
        return 0;
    }
    if (s->direct) {
        if (pm_guard_copy(dst, (const void *)(uintptr_t)addr, len) == 0)
            return 0;
        s->faults++;
        return -1;
    }
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    s->calls++;
    ssize_t got = process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
    if (got != (ssize_t)len) {
        s->faults++;
        return -1;
    }
    return 0;
}

size_t pm_space_readv(pm_space *s, pm_region *r, size_t n)
{
    if (s->snap) {
        size_t whole = 0;
        for (size_t i = 0; i < n; i++) {
            r[i].ok = pm_space_read(s, r[i].addr, r[i].dst, r[i].len) == 0;
            whole += (size_t)r[i].ok;
        }
        return whole;
    }
    if (s->direct) {
        /* One guarded pass over the whole batch keeps it as short as a
         * run of memcpy; only if something faults, region by region. */
        if (pm_guard_copy_many(r, n) == 0) {
            for (size_t i = 0; i < n; i++)
                r[i].ok = 1;
            return n;
        }
        size_t whole = 0;
        for (size_t i = 0; i < n; i++) {
            r[i].ok = r[i].len == 0 || (r[i].addr && pm_space_read(s, r[i].addr, r[i].dst, r[i].len) == 0);
            whole += (size_t)r[i].ok;
        }
        return whole;
    }
    struct iovec local[PM_SPACE_BATCH], remote[PM_SPACE_BATCH];
    size_t done = 0, whole = 0;
    while (done < n) {
        /* Null addresses are never valid; mark them failed without a call. */
        while (done < n && (r[done].addr == 0 || r[done].len == 0)) {
            r[done].ok = r[done].len == 0;
            whole += (size_t)r[done].ok;
            s->faults += (uint64_t)!r[done].ok;
            done++;
        }
        if (done == n)
            break;
        size_t k = 0;
        while (done + k < n && k < PM_SPACE_BATCH && r[done + k].addr != 0 && r[done + k].len != 0) {
            local[k].iov_base = r[done + k].dst;
            local[k].iov_len = r[done + k].len;
            remote[k].iov_base = (void *)(uintptr_t)r[done + k].addr;
            remote[k].iov_len = r[done + k].len;
            k++;
        }
        s->calls++;
        ssize_t got = process_vm_readv(s->pid, local, (unsigned long)k, remote, (unsigned long)k, 0);
        size_t left = got < 0 ? 0 : (size_t)got;
        /* The kernel stops at the first region it cannot read: those before
         * it are whole, that one failed, the rest go in the next call. */
        size_t i = 0;
        for (; i < k && left >= r[done + i].len; i++) {
            left -= r[done + i].len;
            r[done + i].ok = 1;
            whole++;
        }
        if (i < k) {
            r[done + i].ok = 0;
            s->faults++;
            i++;
        }
        done += i;
    }
    return whole;
}

/* A region of the paged read, in address order. */
typedef struct {
    uint64_t addr;
    uint32_t i;
} paged_key;

static int by_addr(const void *a, const void *b)
{
    uint64_t x = ((const paged_key *)a)->addr, y = ((const paged_key *)b)->addr;
    return x < y ? -1 : x > y;
}

/* One read of the paged batch: region r[region] as it is (nkeys 0), or
 * the run of pages [addr, addr + len) holding keys[first .. first + nkeys),
 * pages->runs[region]. */
typedef struct {
    uint64_t addr;
    size_t len;
    uint8_t *dst;
    uint32_t region, first, nkeys;
} paged_item;

#define PAGE_OF(a) ((a) & ~(uint64_t)4095)
#define PAGE_END(a) (((a) + 4095) & ~(uint64_t)4095)

static paged_item as_is(pm_region *r, size_t i)
{
    return (paged_item){r[i].addr, r[i].len, r[i].dst, (uint32_t)i, 0, 0};
}

size_t pm_space_readv_paged(pm_space *s, pm_region *r, size_t n, pm_space_pages *pages)
{
    if (s->snap || s->direct || n < 4 || n > PM_SPACE_BATCH)
        return pm_space_readv(s, r, n);
    paged_key keys[PM_SPACE_BATCH];
    paged_item items[PM_SPACE_BATCH];
    size_t nk = 0, ni = 0, whole = 0;
    for (size_t i = 0; i < n; i++)
        r[i].ok = 0;
    items[ni++] = as_is(r, 0);
    for (size_t i = 1; i + 1 < n; i++) {
        if (r[i].addr && r[i].len && r[i].len <= PM_SPACE_PAGED_LEN && r[i].addr + r[i].len > r[i].addr)
            keys[nk++] = (paged_key){r[i].addr, (uint32_t)i};
        else if (r[i].dst)
            items[ni++] = as_is(r, i);
    }
    qsort(keys, nk, sizeof *keys, by_addr);
    for (size_t k = 0; k < nk;) {
        /* The pages of consecutive regions, while they touch or adjoin one
         * another: every page read holds a byte asked for. */
        uint64_t lo = PAGE_OF(keys[k].addr), hi = PAGE_END(keys[k].addr + r[keys[k].i].len);
        size_t m = k + 1;
        while (m < nk && PAGE_OF(keys[m].addr) <= hi) {
            uint64_t end = PAGE_END(keys[m].addr + r[keys[m].i].len);
            hi = end > hi ? end : hi;
            m++;
        }
        if (pages->buf && hi - lo <= pages->cap - pages->used && pages->nruns < pages->runs_cap) {
            items[ni++] = (paged_item){lo, (size_t)(hi - lo), pages->buf + pages->used, (uint32_t)pages->nruns,
                                       (uint32_t)k, (uint32_t)(m - k)};
            pages->runs[pages->nruns++] = (pm_space_run){lo, (size_t)(hi - lo), pages->used};
            pages->used += (size_t)(hi - lo);
        } else { /* out of scratch: as they are (those with no dst: not at all) */
            for (size_t j = k; j < m; j++)
                if (r[keys[j].i].dst)
                    items[ni++] = as_is(r, keys[j].i);
        }
        k = m;
    }
    items[ni++] = as_is(r, n - 1);

    struct iovec local[PM_SPACE_BATCH], remote[PM_SPACE_BATCH];
    size_t done = 0;
    while (done < ni) {
        size_t k = 0;
        while (done + k < ni && k < PM_SPACE_BATCH && items[done + k].addr && items[done + k].len) {
            local[k] = (struct iovec){items[done + k].dst, items[done + k].len};
            remote[k] = (struct iovec){(void *)(uintptr_t)items[done + k].addr, items[done + k].len};
            k++;
        }
        size_t left = 0;
        if (k > 0) {
            s->calls++;
            ssize_t got = process_vm_readv(s->pid, local, (unsigned long)k, remote, (unsigned long)k, 0);
            left = got < 0 ? 0 : (size_t)got;
        }
        /* The kernel stops at the first item it cannot read: those before
         * it are whole. */
        size_t i = 0;
        for (; i < k && left >= items[done + i].len; i++) {
            const paged_item *it = &items[done + i];
            left -= it->len;
            if (it->nkeys == 0)
                r[it->region].ok = 1;
            for (uint32_t j = 0; j < it->nkeys; j++) {
                pm_region *g = &r[keys[it->first + j].i];
                if (g->dst)
                    memcpy(g->dst, it->dst + (g->addr - it->addr), g->len);
                g->ok = 1;
            }
        }
        done += i;
        if (done == ni)
            break;
        /* items[done] failed (or is a null address, or empty).  A run with
         * a page gone may still hold regions that are not on that page:
         * each is read alone. */
        const paged_item *it = &items[done++];
        if (it->nkeys) {
            pages->runs[it->region].len = 0; /* not read: holds nothing */
        } else {
            r[it->region].ok = it->len == 0;
            s->faults += (uint64_t)(it->len != 0);
        }
        for (uint32_t j = 0; j < it->nkeys; j++) {
            pm_region *g = &r[keys[it->first + j].i];
            g->ok = g->dst && pm_space_read(s, g->addr, g->dst, g->len) == 0;
        }
    }
    for (size_t g = 0; g < n; g++)
        whole += (size_t)r[g].ok;
    return whole;
}
