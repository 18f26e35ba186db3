/* pm_threads.c — the profile's threads, found by Python ident and OS id.
 * CPython hands an ended thread's ident to the next thread it starts, so the
 * ident alone would merge unrelated threads; the OS thread id tells them
 * apart (an id of 0 means unknown and matches any). */
#include "pm_hash.h"
#include "pm_internal.h"

pm_id pm_thread_get(pm_profile *p, uint64_t ident, uint64_t native_id)
{
    uint32_t h = pm_hash_u64(ident);
    if (p->thread_map.cap) {
        uint32_t mask = p->thread_map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &p->thread_map.slots[i];
            if (s->id == PM_NONE)
                break;
            pm_thread *th = &p->threads[s->id];
            if (s->hash == h && th->ident == ident &&
                (native_id == 0 || th->native_id == 0 || th->native_id == native_id)) {
                /* The native id may only become known later. */
                if (th->native_id == 0)
                    th->native_id = native_id;
                return s->id;
            }
        }
    }
    if (p->thread_count >= UINT32_MAX - 1)
        return PM_NONE;
    if (pm_grow((void **)&p->threads, &p->thread_cap, p->thread_count + 1, sizeof(pm_thread)) != 0 ||
        pm_idmap_reserve_one(&p->thread_map) != 0 || pm_trie_reserve_one(p) != 0)
        return PM_NONE;
    pm_id t = p->thread_count++;
    pm_thread *th = &p->threads[t];
    th->ident = ident;
    th->native_id = native_id;
    th->name = 0;
    th->root = pm_trie_append(p, PM_ROOT, PM_NONE, 0, t);
    pm_idmap_insert(&p->thread_map, h, t);
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
