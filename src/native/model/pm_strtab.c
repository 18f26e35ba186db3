/* pm_strtab.c — string interning: open-addressing index over an append-only
 * arena of blocks. */
#include "pm_strtab.h"

#include <stdlib.h>
#include <string.h>

#include "pm_hash.h"

/* Small strings share blocks of this size; a larger string gets a block of
 * its own, so no block is ever reallocated (pointers stay valid). */
#define PM_STRBLOCK_SIZE 65536u

struct pm_strblock {
    pm_strblock *next;
    size_t used;
    size_t cap;
    char data[];
};

void pm_strtab_init(pm_strtab *t)
{
    t->ents = NULL;
    t->count = 0;
    t->cap = 0;
    pm_idmap_init(&t->map);
    t->blocks = NULL;
    t->block_bytes = 0;
}

void pm_strtab_free(pm_strtab *t)
{
    pm_strblock *b = t->blocks;
    while (b) {
        pm_strblock *next = b->next;
        free(b);
        b = next;
    }
    free(t->ents);
    pm_idmap_free(&t->map);
    pm_strtab_init(t);
}

static int pm_strtab_eq(const pm_strent *e, const char *s, size_t len)
{
    return e->len == len && (len == 0 || memcmp(e->ptr, s, len) == 0);
}

static pm_id pm_strtab_lookup(const pm_strtab *t, const char *s, size_t len, uint32_t h)
{
    if (t->map.cap == 0)
        return PM_NONE;
    uint32_t mask = t->map.cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const pm_idslot *slot = &t->map.slots[i];
        if (slot->id == PM_NONE)
            return PM_NONE;
        if (slot->hash == h && pm_strtab_eq(&t->ents[slot->id], s, len))
            return slot->id;
    }
}

pm_id pm_strtab_find(const pm_strtab *t, const char *s, size_t len)
{
    if (len >= UINT32_MAX || (len > 0 && !s))
        return PM_NONE;
    return pm_strtab_lookup(t, s, len, pm_hash_bytes(s, len));
}

/* Returns room for n bytes in the arena, or NULL on OOM. */
static char *pm_strtab_alloc(pm_strtab *t, size_t n)
{
    pm_strblock *b = t->blocks;
    if (b && b->cap - b->used >= n) {
        char *r = b->data + b->used;
        b->used += n;
        return r;
    }
    size_t cap = n > PM_STRBLOCK_SIZE ? n : PM_STRBLOCK_SIZE;
    pm_strblock *nb = malloc(sizeof(pm_strblock) + cap);
    if (!nb)
        return NULL;
    nb->cap = cap;
    nb->used = n;
    t->block_bytes += sizeof(pm_strblock) + cap;
    if (b && n > PM_STRBLOCK_SIZE / 2 && b->cap - b->used > n / 8) {
        /* A big string must not retire a block that still has room for
         * small ones: link the dedicated block behind the current one. */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        t->blocks = nb;
    }
    return nb->data;
}

pm_id pm_strtab_intern(pm_strtab *t, const char *s, size_t len)
{
    if (len >= UINT32_MAX || (len > 0 && !s))
        return PM_NONE;
    uint32_t h = pm_hash_bytes(s, len);
    pm_id id = pm_strtab_lookup(t, s, len, h);
    if (id != PM_NONE)
        return id;

    /* Every allocation happens before anything is modified, so a failure
     * leaves the table as it was (the arena may keep an unused block). */
    if (t->count >= UINT32_MAX - 1)
        return PM_NONE;
    if (t->count == t->cap) {
        uint64_t ncap = t->cap ? (uint64_t)t->cap * 2 : 64;
        if (ncap > UINT32_MAX - 1)
            ncap = UINT32_MAX - 1;
        if (ncap > SIZE_MAX / sizeof(pm_strent))
            return PM_NONE;
        pm_strent *ne = realloc(t->ents, (size_t)ncap * sizeof(pm_strent));
        if (!ne)
            return PM_NONE;
        t->ents = ne;
        t->cap = (uint32_t)ncap;
    }
    if (pm_idmap_reserve_one(&t->map) != 0)
        return PM_NONE;
    char *copy = pm_strtab_alloc(t, len + 1);
    if (!copy)
        return PM_NONE;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';

    id = t->count++;
    t->ents[id].ptr = copy;
    t->ents[id].len = (uint32_t)len;
    t->ents[id].hash = h;
    pm_idmap_insert(&t->map, h, id);
    return id;
}

const char *pm_strtab_get(const pm_strtab *t, pm_id id, size_t *len_out)
{
    if (id >= t->count) {
        if (len_out)
            *len_out = 0;
        return NULL;
    }
    if (len_out)
        *len_out = t->ents[id].len;
    return t->ents[id].ptr;
}

size_t pm_strtab_memory(const pm_strtab *t)
{
    return (size_t)t->cap * sizeof(pm_strent) + pm_idmap_memory(&t->map) + t->block_bytes;
}
