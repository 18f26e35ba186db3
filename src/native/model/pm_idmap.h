/* pm_idmap.h — the open-addressing index shared by every interning table.
 *
 * A table maps a key to a dense id, but stores only (hash, id) pairs: the key
 * itself lives in the owner's array (strings, frames, nodes, threads), so the
 * index costs 8 bytes a slot and the owner keeps one copy of each key.  The
 * owner runs the probe loop itself with its own key comparison (inlined, no
 * callback) — this file only owns the slots, their growth and insertion.
 *
 * Linear probing, power-of-two capacity, load kept at or below 1/2: probes
 * stay short and a lookup of an existing key never allocates.
 */
#ifndef PM_IDMAP_H
#define PM_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "pm_model.h"

typedef struct {
    uint32_t hash;
    uint32_t id; /* PM_NONE marks an empty slot */
} pm_idslot;

typedef struct {
    pm_idslot *slots;
    uint32_t cap;   /* 0 or a power of two */
    uint32_t count;
} pm_idmap;

void pm_idmap_init(pm_idmap *m);
void pm_idmap_free(pm_idmap *m);
/* Ensures one more entry fits under the load limit (may rehash, which moves
 * slots but not ids).  0, or -1 on OOM with the map unchanged. */
int pm_idmap_reserve_one(pm_idmap *m);
/* Stores (hash, id) in the first empty slot of hash's probe sequence.  The
 * caller has checked that the key is absent and called pm_idmap_reserve_one. */
void pm_idmap_insert(pm_idmap *m, uint32_t hash, uint32_t id);
/* Removes the slot holding id (found along hash's probe sequence). */
void pm_idmap_remove(pm_idmap *m, uint32_t hash, uint32_t id);
size_t pm_idmap_memory(const pm_idmap *m);

#endif
