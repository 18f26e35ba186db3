/* pm_blocks.h — the table of sampled blocks of the allocation collector:
 * block address → what the sample charged (node, weights, whether it is
 * newer than the last checkpoint).
 *
 * Every free and realloc of the program asks whether its block was sampled,
 * so the question must usually be answered without a lock and without
 * touching the table: a counting filter indexed by a hash of the address
 * says "surely not" for almost every block.  The free asks only its bitmap
 * (bit set: some sampled block hashes there), read with relaxed atomic
 * loads; at 4 KB it stays in the L1 cache beside the program's own data,
 * where the byte counters behind it (32 KB, kept under the lock) would
 * cost a free a cache miss every few calls.  Only a hit takes the
 * collector's lock and probes the table (open addressing, linear probing,
 * deletion by backward shift so no tombstones pile up).  The table holds
 * about live heap / rate entries (a few thousand at the default rate): it
 * stays in cache, and it shrinks again when samples die (exact mode, where
 * every block is recorded, differs: see `every`).  No Python.h.
 *
 * Not thread-safe except pm_blocks_maybe: the caller holds its lock for the
 * rest. */
#ifndef PM_BLOCKS_H
#define PM_BLOCKS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PM_BLOCKS_FILTER_BITS 15

/* 32 bytes: in exact mode there is one per live block, and the table's
 * size decides how often a free misses the cache.  (It was 24 before the
 * time of the sample joined it; at 32 an entry never straddles two cache
 * lines, and exact mode measured no slower: see ARCHITECTURE.md.) */
typedef struct {
    uintptr_t ptr;      /* 0 = empty slot */
    int64_t wbytes;     /* bytes this sample stands for (s / P(s)) */
    uint32_t node;      /* trie node charged; PM_BLOCK_NEW: sampled since the last checkpoint */
    uint32_t wcount;    /* allocations it stands for, fixed point (PM_COUNT_ONE) */
    uint64_t t_ns;      /* when it was sampled, ns since the session started */
} pm_block;

#define PM_BLOCK_NEW 0x80000000u
#define PM_BLOCK_NODE(b) ((b)->node & ~PM_BLOCK_NEW)

typedef struct {
    pm_block *slots;
    size_t cap;         /* power of two, 0 when nothing was ever inserted */
    size_t n;
    /* Every block is recorded (exact mode; pm_blocks_every).  The table is
     * then as large as the live heap, so it never shrinks (a program whose
     * heap rises and falls, a batch built and dropped, would otherwise
     * rebuild it on every cycle) and stays at most half full (every free of
     * the program probes it); and the filter says "maybe" for every address
     * without counting (nearly every free is of a recorded block, and the
     * counters were one more cache miss per event). */
    int every;
    /* The slots' address and cap - 1, published for pm_blocks_prefetch_free. */
    _Atomic uintptr_t shown_slots;
    _Atomic size_t shown_mask;
    unsigned char counts[1u << PM_BLOCKS_FILTER_BITS]; /* sampled blocks per hash, saturating */
    _Atomic uint64_t bits[(1u << PM_BLOCKS_FILTER_BITS) / 64]; /* bit i: counts[i] > 0 */
} pm_blocks;

void pm_blocks_init(pm_blocks *t);
/* Every block will be recorded (see every): before the first insert. */
void pm_blocks_every(pm_blocks *t);
void pm_blocks_free(pm_blocks *t);

static inline size_t pm_blocks_filter_index(uintptr_t ptr)
{
    uint64_t x = (uint64_t)ptr * 0x9e3779b97f4a7c15ULL;
    return (size_t)(x >> (64 - PM_BLOCKS_FILTER_BITS));
}

/* Lock-free: 0 when ptr is surely not in the table.  A block is inserted
 * before the program sees its address, so any free of it comes after. */
static inline int pm_blocks_maybe(pm_blocks *t, uintptr_t ptr)
{
    size_t i = pm_blocks_filter_index(ptr);
    return (int)((atomic_load_explicit(&t->bits[i / 64], memory_order_relaxed) >> (i % 64)) & 1);
}

/* The slot where ptr's probe begins.  Fibonacci hashing: the high bits of
 * the product, so that addresses that differ only above their alignment
 * still spread over the whole table. */
static inline size_t pm_blocks_home(uintptr_t ptr, size_t mask)
{
    uint64_t x = ((uint64_t)ptr ^ ((uint64_t)ptr >> 32)) * 0x9e3779b97f4a7c15ULL;
    return (size_t)((x >> 24) ^ (x >> 40)) & mask;
}

/* Starts fetching the slot where ptr's probe begins. */
static inline void pm_blocks_prefetch(const pm_blocks *t, uintptr_t ptr)
{
    if (t->cap)
        __builtin_prefetch(&t->slots[pm_blocks_home(ptr, t->cap - 1)], 1);
}

/* The same without the lock, for a free about to take it (in exact mode the
 * probe's first slot was a cache miss per free): the table it sees may be
 * one just replaced, and fetching from it is harmless (a prefetch reads
 * nothing and cannot fault). */
static inline void pm_blocks_prefetch_free(pm_blocks *t, uintptr_t ptr)
{
    uintptr_t slots = atomic_load_explicit(&t->shown_slots, memory_order_relaxed);
    if (slots)
        __builtin_prefetch((const char *)slots +
                               pm_blocks_home(ptr, atomic_load_explicit(&t->shown_mask, memory_order_relaxed)) *
                                   sizeof(pm_block),
                           1);
}

/* 0; 1 when ptr was there already (its block was freed without the table
 * being told): the old entry is replaced and copied to *old (if not NULL);
 * -1 on OOM (the block is then simply not tracked). */
int pm_blocks_insert(pm_blocks *t, const pm_block *b, pm_block *old);
/* Removes ptr's entry into *out; 1 found, 0 not there. */
int pm_blocks_remove(pm_blocks *t, uintptr_t ptr, pm_block *out);
/* Copies ptr's entry to *out (if not NULL) without removing it; 1 found,
 * 0 not there.  The heap report at exit asks it once per surviving object:
 * was the block at this address sampled, and under which node. */
int pm_blocks_find(const pm_blocks *t, uintptr_t ptr, pm_block *out);
/* Clears PM_BLOCK_NEW on every entry (a checkpoint). */
void pm_blocks_age(pm_blocks *t);
/* Forgets every entry (the filter too). */
void pm_blocks_clear(pm_blocks *t);

#endif
