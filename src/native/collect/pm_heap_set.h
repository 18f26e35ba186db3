/* pm_heap_set.h — open-addressing address sets and maps for the heap
 * analyser (no Python.h: unit-tested on their own).  Addresses are keys
 * (0 is the empty slot); a set costs 8 bytes a slot, a map 16, at most 3/4
 * full, against ~70 bytes for a Python int in a Python set. */
#ifndef PM_HEAP_SET_H
#define PM_HEAP_SET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uintptr_t *keys;
    unsigned bits;
    size_t count;
} pm_ptrset;

typedef struct {
    uintptr_t key;
    uint32_t val;
} pm_ptrmap_slot;

typedef struct {
    pm_ptrmap_slot *slots;
    unsigned bits;
    size_t count;
} pm_ptrmap;

/* 0, or -1 when out of memory.  expected sizes the table (it grows). */
int pm_ptrset_init(pm_ptrset *s, size_t expected);
/* 1 added, 0 already there, -1 out of memory. */
int pm_ptrset_add(pm_ptrset *s, uintptr_t key);
int pm_ptrset_has(const pm_ptrset *s, uintptr_t key);
/* Room for extra more keys without growing (so prefetched slots stay
 * where they are); 0, or -1 out of memory. */
int pm_ptrset_reserve(pm_ptrset *s, size_t extra);
/* The first slot of key in a table of 2^bits slots: Fibonacci hashing on
 * the top bits (object addresses are 16-byte aligned and clustered, so
 * their low bits alone would collide). */
static inline size_t pm_heap_slot(uintptr_t key, unsigned bits)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}
/* Asks the CPU for key's first slot ahead of an add or has. */
static inline void pm_ptrset_prefetch(const pm_ptrset *s, uintptr_t key)
{
    __builtin_prefetch(&s->keys[pm_heap_slot(key, s->bits)], 1);
}
size_t pm_ptrset_bytes(const pm_ptrset *s);
void pm_ptrset_free(pm_ptrset *s);

int pm_ptrmap_init(pm_ptrmap *m, size_t expected);
static inline void pm_ptrmap_prefetch(const pm_ptrmap *m, uintptr_t key)
{
    __builtin_prefetch(&m->slots[pm_heap_slot(key, m->bits)]);
}
/* Sets key to val; 0, or -1 out of memory. */
int pm_ptrmap_put(pm_ptrmap *m, uintptr_t key, uint32_t val);
/* The value, or -1 when key is absent. */
int64_t pm_ptrmap_get(const pm_ptrmap *m, uintptr_t key);
void pm_ptrmap_free(pm_ptrmap *m);

#endif
