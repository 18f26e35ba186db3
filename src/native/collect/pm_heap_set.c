/* pm_heap_set.c — address sets and maps (see pm_heap_set.h). */
#include "pm_heap_set.h"

#include <stdlib.h>

static unsigned bits_for(size_t expected)
{
    unsigned bits = 4;
    while (((size_t)1 << bits) * 3 / 4 <= expected)
        bits++;
    return bits;
}

int pm_ptrset_init(pm_ptrset *s, size_t expected)
{
    s->bits = bits_for(expected);
    s->count = 0;
    s->keys = calloc((size_t)1 << s->bits, sizeof *s->keys);
    return s->keys ? 0 : -1;
}

static int set_grow(pm_ptrset *s)
{
    pm_ptrset bigger;
    /* Four times larger while small: a set that starts small for a big
     * structure rehashes less. */
    bigger.bits = s->bits + (s->bits < 20 ? 2 : 1);
    bigger.count = 0;
    bigger.keys = calloc((size_t)1 << bigger.bits, sizeof *bigger.keys);
    if (!bigger.keys)
        return -1;
    size_t n = (size_t)1 << s->bits;
    for (size_t i = 0; i < n; i++)
        if (s->keys[i])
            pm_ptrset_add(&bigger, s->keys[i]);
    free(s->keys);
    *s = bigger;
    return 0;
}

int pm_ptrset_reserve(pm_ptrset *s, size_t extra)
{
    while ((s->count + extra + 1) * 4 > ((size_t)3 << s->bits))
        if (set_grow(s) != 0)
            return -1;
    return 0;
}

int pm_ptrset_add(pm_ptrset *s, uintptr_t key)
{
    if ((s->count + 1) * 4 > ((size_t)3 << s->bits) && set_grow(s) != 0)
        return -1;
    size_t mask = ((size_t)1 << s->bits) - 1;
    for (size_t i = pm_heap_slot(key, s->bits);; i = (i + 1) & mask) {
        if (s->keys[i] == key)
            return 0;
        if (!s->keys[i]) {
            s->keys[i] = key;
            s->count++;
            return 1;
        }
    }
}

int pm_ptrset_has(const pm_ptrset *s, uintptr_t key)
{
    if (!s->keys)
        return 0;
    size_t mask = ((size_t)1 << s->bits) - 1;
    for (size_t i = pm_heap_slot(key, s->bits);; i = (i + 1) & mask) {
        if (s->keys[i] == key)
            return 1;
        if (!s->keys[i])
            return 0;
    }
}

size_t pm_ptrset_bytes(const pm_ptrset *s)
{
    return s->keys ? ((size_t)1 << s->bits) * sizeof *s->keys : 0;
}

void pm_ptrset_free(pm_ptrset *s)
{
    free(s->keys);
    s->keys = NULL;
    s->count = 0;
}

int pm_ptrmap_init(pm_ptrmap *m, size_t expected)
{
    m->bits = bits_for(expected);
    m->count = 0;
    m->slots = calloc((size_t)1 << m->bits, sizeof *m->slots);
    return m->slots ? 0 : -1;
}

static int map_grow(pm_ptrmap *m)
{
    pm_ptrmap bigger;
    bigger.bits = m->bits + 1;
    bigger.count = 0;
    bigger.slots = calloc((size_t)1 << bigger.bits, sizeof *bigger.slots);
    if (!bigger.slots)
        return -1;
    size_t n = (size_t)1 << m->bits;
    for (size_t i = 0; i < n; i++)
        if (m->slots[i].key)
            pm_ptrmap_put(&bigger, m->slots[i].key, m->slots[i].val);
    free(m->slots);
    *m = bigger;
    return 0;
}

int pm_ptrmap_put(pm_ptrmap *m, uintptr_t key, uint32_t val)
{
    if ((m->count + 1) * 4 > ((size_t)3 << m->bits) && map_grow(m) != 0)
        return -1;
    size_t mask = ((size_t)1 << m->bits) - 1;
    for (size_t i = pm_heap_slot(key, m->bits);; i = (i + 1) & mask) {
        if (m->slots[i].key == key) {
            m->slots[i].val = val;
            return 0;
        }
        if (!m->slots[i].key) {
            m->slots[i].key = key;
            m->slots[i].val = val;
            m->count++;
            return 0;
        }
    }
}

int64_t pm_ptrmap_get(const pm_ptrmap *m, uintptr_t key)
{
    if (!m->slots)
        return -1;
    size_t mask = ((size_t)1 << m->bits) - 1;
    for (size_t i = pm_heap_slot(key, m->bits);; i = (i + 1) & mask) {
        if (m->slots[i].key == key)
            return m->slots[i].val;
        if (!m->slots[i].key)
            return -1;
    }
}

void pm_ptrmap_free(pm_ptrmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->count = 0;
}
