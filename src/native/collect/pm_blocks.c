/* pm_blocks.c — the sampled-block table (see pm_blocks.h). */
#include "pm_blocks.h"

#include <stdlib.h>
#include <string.h>

#define PM_BLOCKS_MIN_CAP 256u

/* Publishes the slots for pm_blocks_prefetch_free (after any change of them). */
static void show(pm_blocks *t)
{
    atomic_store_explicit(&t->shown_mask, t->cap ? t->cap - 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&t->shown_slots, (uintptr_t)t->slots, memory_order_relaxed);
}

/* Empties the filter: no address is "maybe" sampled (every one is when
 * every block is recorded). */
static void filter_reset(pm_blocks *t)
{
    memset(t->counts, 0, sizeof t->counts);
    for (size_t i = 0; i < sizeof t->bits / sizeof t->bits[0]; i++)
        atomic_store_explicit(&t->bits[i], t->every ? ~(uint64_t)0 : 0, memory_order_relaxed);
}

void pm_blocks_init(pm_blocks *t)
{
    t->slots = NULL;
    t->cap = t->n = 0;
    show(t);
    t->every = 0;
    filter_reset(t);
}

void pm_blocks_every(pm_blocks *t)
{
    t->every = 1;
    filter_reset(t);
}

void pm_blocks_free(pm_blocks *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
    show(t);
}

static void put(pm_block *slots, size_t mask, const pm_block *b)
{
    size_t i = pm_blocks_home(b->ptr, mask);
    while (slots[i].ptr)
        i = (i + 1) & mask;
    slots[i] = *b;
}

static int resize(pm_blocks *t, size_t cap)
{
    pm_block *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].ptr)
            put(ns, cap - 1, &t->slots[i]);
    free(t->slots);
    t->slots = ns;
    t->cap = cap;
    show(t);
    return 0;
}

/* Only the lock holder writes the bitmap, so a plain load and store of the
 * word is enough; the frees read it without the lock. */
static void set_bit(pm_blocks *t, size_t i, int on)
{
    _Atomic uint64_t *w = &t->bits[i / 64];
    uint64_t v = atomic_load_explicit(w, memory_order_relaxed), m = (uint64_t)1 << (i % 64);
    atomic_store_explicit(w, on ? v | m : v & ~m, memory_order_relaxed);
}

static void filter_inc(pm_blocks *t, uintptr_t ptr)
{
    if (t->every)
        return;
    size_t i = pm_blocks_filter_index(ptr);
    if (t->counts[i] == 0)
        set_bit(t, i, 1);
    if (t->counts[i] < 255) /* saturated counters stay: a false "maybe" costs a probe, never a miss */
        t->counts[i]++;
}

static void filter_dec(pm_blocks *t, uintptr_t ptr)
{
    if (t->every)
        return;
    size_t i = pm_blocks_filter_index(ptr);
    if (t->counts[i] > 0 && t->counts[i] < 255 && --t->counts[i] == 0)
        set_bit(t, i, 0);
}

int pm_blocks_insert(pm_blocks *t, const pm_block *b, pm_block *old)
{
    if (!b->ptr)
        return -1;
    /* At most 3/4 full; half when every block is recorded: a free then
     * probes and shifts about a third of the slots it would at 3/4
     * (linear probing's runs grow as 1 / (1 - load)²), and exact mode does
     * one for every free of the program. */
    size_t full = t->every ? t->cap / 2 : t->cap / 4 * 3;
    if (t->n + 1 > full && resize(t, t->cap ? t->cap * 2 : PM_BLOCKS_MIN_CAP) != 0)
        return -1;
    size_t mask = t->cap - 1, i = pm_blocks_home(b->ptr, mask);
    while (t->slots[i].ptr) {
        if (t->slots[i].ptr == b->ptr) { /* a block freed behind our back: the newer wins */
            if (old)
                *old = t->slots[i];
            t->slots[i] = *b;
            return 1;
        }
        i = (i + 1) & mask;
    }
    t->slots[i] = *b;
    t->n++;
    filter_inc(t, b->ptr);
    return 0;
}

/* The slot holding ptr, or SIZE_MAX. */
static size_t probe(const pm_blocks *t, uintptr_t ptr)
{
    if (!t->n || !ptr)
        return SIZE_MAX;
    size_t mask = t->cap - 1, i = pm_blocks_home(ptr, mask);
    while (t->slots[i].ptr != ptr) {
        if (!t->slots[i].ptr)
            return SIZE_MAX;
        i = (i + 1) & mask;
    }
    return i;
}

int pm_blocks_find(const pm_blocks *t, uintptr_t ptr, pm_block *out)
{
    size_t i = probe(t, ptr);
    if (i == SIZE_MAX)
        return 0;
    if (out)
        *out = t->slots[i];
    return 1;
}

int pm_blocks_remove(pm_blocks *t, uintptr_t ptr, pm_block *out)
{
    size_t i = probe(t, ptr);
    if (i == SIZE_MAX)
        return 0;
    size_t mask = t->cap - 1;
    if (out)
        *out = t->slots[i];
    /* Backward-shift deletion: move later members of the run into the hole
     * when their home slot allows it, so probes never meet a tombstone. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; t->slots[j].ptr; j = (j + 1) & mask) {
        size_t home = pm_blocks_home(t->slots[j].ptr, mask);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].ptr = 0;
    t->n--;
    filter_dec(t, ptr);
    /* Keep the table small and hot once most samples are gone. */
    if (!t->every && t->cap > PM_BLOCKS_MIN_CAP && t->n * 8 < t->cap)
        resize(t, t->cap / 2);
    return 1;
}

void pm_blocks_age(pm_blocks *t)
{
    for (size_t i = 0; i < t->cap; i++)
        t->slots[i].node &= ~PM_BLOCK_NEW;
}

void pm_blocks_clear(pm_blocks *t)
{
    pm_blocks_free(t);
    filter_reset(t);
}
