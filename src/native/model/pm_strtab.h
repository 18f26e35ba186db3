/* pm_strtab.h — a byte-string interning table (internal to the model, also
 * reused by writers that need to deduplicate labels).
 *
 * Strings are copied into fixed blocks that are never reallocated, so a
 * pointer returned by pm_strtab_get stays valid until pm_strtab_free even as
 * the table grows.  Each copy is NUL-terminated for the convenience of C
 * callers, but the length is authoritative (strings may contain NULs). */
#ifndef PM_STRTAB_H
#define PM_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "pm_idmap.h"

typedef struct pm_strblock pm_strblock;

typedef struct {
    const char *ptr;
    uint32_t len;
    uint32_t hash;
} pm_strent;

typedef struct {
    pm_strent *ents;
    uint32_t count;
    uint32_t cap;
    pm_idmap map;
    pm_strblock *blocks;  /* newest first */
    size_t block_bytes;   /* bytes allocated for blocks (memory accounting) */
} pm_strtab;

void pm_strtab_init(pm_strtab *t);
void pm_strtab_free(pm_strtab *t);
/* Finds or adds; PM_NONE on OOM or a string of 4 GiB or more. */
pm_id pm_strtab_intern(pm_strtab *t, const char *s, size_t len);
/* Finds only (never allocates); PM_NONE when absent. */
pm_id pm_strtab_find(const pm_strtab *t, const char *s, size_t len);
const char *pm_strtab_get(const pm_strtab *t, pm_id id, size_t *len_out);
size_t pm_strtab_memory(const pm_strtab *t);

#endif
