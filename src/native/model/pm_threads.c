/* pm_threads.c — the profile's threads, found by Python ident and OS id.
 * CPython hands an ended thread's ident to the next thread it starts, so the
 * ident alone would merge unrelated threads; the OS thread id tells them
 * apart (an id of 0 means unknown and matches any). */
#include "pm_hash.h"
#include "pm_internal.h"

/* thread_map is keyed by (ident, OS id): the threads that share an ident
 * (CPython reuses an ended thread's ident at once, so a program that starts
 * 10,000 short-lived threads has a few idents for all of them) spread over
 * the table instead of one probe chain that every look-up walked, which made
 * registering N threads O(N^2). ident_map holds the latest thread of each
 * ident, for a look-up without an OS id and for a thread whose OS id
 * becomes known later. */
static uint32_t key_hash(uint64_t ident, uint64_t native_id)
{
    return native_id ? pm_hash_u64(ident ^ (native_id * 0x9E3779B97F4A7C15ull)) : pm_hash_u64(ident);
}

static pm_id find_exact(const pm_profile *p, uint64_t ident, uint64_t native_id)
{
    if (!p->thread_map.cap)
        return PM_NONE;
    uint32_t h = key_hash(ident, native_id), mask = p->thread_map.cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const pm_idslot *s = &p->thread_map.slots[i];
        if (s->id == PM_NONE)
            return PM_NONE;
        const pm_thread *th = &p->threads[s->id];
        if (s->hash == h && th->ident == ident && th->native_id == native_id)
            return s->id;
    }
}

static pm_id find_latest(const pm_profile *p, uint64_t ident)
{
    if (!p->ident_map.cap)
        return PM_NONE;
    uint32_t h = pm_hash_u64(ident), mask = p->ident_map.cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const pm_idslot *s = &p->ident_map.slots[i];
        if (s->id == PM_NONE)
            return PM_NONE;
        if (s->hash == h && p->threads[s->id].ident == ident)
            return s->id;
    }
}

pm_id pm_thread_get(pm_profile *p, uint64_t ident, uint64_t native_id)
{
    if (native_id) {
        pm_id t = find_exact(p, ident, native_id);
        if (t != PM_NONE)
            return t;
    }
    pm_id latest = find_latest(p, ident);
    if (latest != PM_NONE) {
        pm_thread *th = &p->threads[latest];
        if (native_id == 0)
            return latest; /* an unknown OS id matches the ident's latest thread */
        if (th->native_id == 0) {
            /* The native id may only become known later: re-key it. */
            if (pm_idmap_reserve_one(&p->thread_map) != 0)
                return PM_NONE;
            pm_idmap_remove(&p->thread_map, key_hash(ident, 0), latest);
            th->native_id = native_id;
            pm_idmap_insert(&p->thread_map, key_hash(ident, native_id), latest);
            return latest;
        }
    }
    if (p->thread_count >= UINT32_MAX - 1)
        return PM_NONE;
    if (pm_grow((void **)&p->threads, &p->thread_cap, p->thread_count + 1, sizeof(pm_thread)) != 0 ||
        pm_idmap_reserve_one(&p->thread_map) != 0 || pm_idmap_reserve_one(&p->ident_map) != 0 ||
        pm_trie_reserve_one(p) != 0)
        return PM_NONE;
    pm_id t = p->thread_count++;
    pm_thread *th = &p->threads[t];
    th->ident = ident;
    th->native_id = native_id;
    th->name = 0;
    th->root = pm_trie_append(p, PM_ROOT, PM_NONE, 0, t);
    pm_idmap_insert(&p->thread_map, key_hash(ident, native_id), t);
    if (latest != PM_NONE)
        pm_idmap_remove(&p->ident_map, pm_hash_u64(ident), latest);
    pm_idmap_insert(&p->ident_map, pm_hash_u64(ident), t);
    return t;
}

int pm_thread_set_name(pm_profile *p, pm_id thread, const char *name, size_t len)
{
    if (thread >= p->thread_count)
        return -1;
    pm_id s = pm_strtab_intern(&p->strings, name, len);
    if (s == PM_NONE)
        return -1;
    p->threads[thread].name = s;
    return 0;
}

const pm_thread *pm_thread_at(const pm_profile *p, pm_id thread)
{
    return thread < p->thread_count ? &p->threads[thread] : NULL;
}

uint32_t pm_thread_count(const pm_profile *p)
{
    return p->thread_count;
}
