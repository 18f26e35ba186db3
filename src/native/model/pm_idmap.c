/* pm_idmap.c — slot storage and growth of the open-addressing id index. */
#include "pm_idmap.h"

#include <stdlib.h>

#define PM_IDMAP_MIN_CAP 16u

void pm_idmap_init(pm_idmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void pm_idmap_free(pm_idmap *m)
{
    free(m->slots);
    pm_idmap_init(m);
}

static void pm_idmap_place(pm_idslot *slots, uint32_t cap, uint32_t hash, uint32_t id)
{
    uint32_t mask = cap - 1;
    uint32_t i = hash & mask;
    while (slots[i].id != PM_NONE)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].id = id;
}

int pm_idmap_reserve_one(pm_idmap *m)
{
    /* Load <= 1/2 after the insertion. */
    if ((uint64_t)(m->count + 1) * 2 <= m->cap)
        return 0;
    uint64_t ncap = m->cap ? (uint64_t)m->cap * 2 : PM_IDMAP_MIN_CAP;
    if (ncap > ((uint64_t)1 << 31) || ncap > SIZE_MAX / sizeof(pm_idslot))
        return -1;
    pm_idslot *ns = malloc((size_t)ncap * sizeof(pm_idslot));
    if (!ns)
        return -1;
    for (uint64_t i = 0; i < ncap; i++)
        ns[i].id = PM_NONE;
    /* The stored hashes make a rehash a pure copy: no key is touched. */
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->slots[i].id != PM_NONE)
            pm_idmap_place(ns, (uint32_t)ncap, m->slots[i].hash, m->slots[i].id);
    free(m->slots);
    m->slots = ns;
    m->cap = (uint32_t)ncap;
    return 0;
}

void pm_idmap_insert(pm_idmap *m, uint32_t hash, uint32_t id)
{
    pm_idmap_place(m->slots, m->cap, hash, id);
    m->count++;
}

void pm_idmap_remove(pm_idmap *m, uint32_t hash, uint32_t id)
{
    if (!m->cap)
        return;
    uint32_t mask = m->cap - 1;
    uint32_t i = hash & mask;
    while (m->slots[i].id != id) {
        if (m->slots[i].id == PM_NONE)
            return;
        i = (i + 1) & mask;
    }
    /* Backward-shift deletion keeps every other key reachable from its home
     * slot without tombstones. */
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (m->slots[j].id == PM_NONE)
            break;
        uint32_t home = m->slots[j].hash & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].id = PM_NONE;
    m->count--;
}

size_t pm_idmap_memory(const pm_idmap *m)
{
    return (size_t)m->cap * sizeof(pm_idslot);
}
