/* pm_codecache.h — code object address → symbol (a model frame) and line map.
 *
 * The sampler sees only addresses.  The first time it meets a code object it
 * copies out its name, file, first line and line table (fault-tolerant reads,
 * no GIL) and interns a frame in the model.  Address reuse is the danger: a
 * code object can die and another take its address.  Two defences:
 *   - every entry keeps a fingerprint (type, name, file and line-table
 *     pointers, first line); until the entry is pinned, each sighting (once
 *     per tick) re-reads the header and compares it;
 *   - the module pins entries (takes a strong reference under the GIL, from a
 *     pending call), after which the address cannot be reused while sampling.
 * No Python.h: pinning is done by the caller through pm_codecache_take_pins.
 */
#ifndef PM_CODECACHE_H
#define PM_CODECACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "model/pm_model.h"
#include "pm_layout.h"
#include "pm_space.h"

typedef struct {
    uint64_t addr;
    uint64_t fp_name, fp_file, fp_lines;   /* fingerprint */
    int32_t firstlineno;
    int32_t firsttraceable;                /* 3.11+: index of the first traced unit */
    uint32_t n_units;                      /* code units (2-byte words) */
    int32_t *lines;                        /* line per code unit */
    pm_id frame;                           /* frame id in the model */
    uint64_t seen_tick;                    /* last tick its fingerprint was checked */
    atomic_int trusted;                    /* pinned, or watched: no re-check needed */
    atomic_int stale;                      /* the object died: symbolise again */
    int pin_queued;
} pm_code;

typedef struct {
    const pm_layout *L;
    pm_space *space;
    pm_code *entries;
    size_t n, cap;
    uint32_t *slots;            /* open addressing: index+1, 0 = empty */
    size_t nslots;
    int watched;                /* deaths are reported (pm_codecache_forget): trust at once */
    pthread_mutex_t lock;       /* guards growth, re-symbolising and the pin queue */
    size_t *queue;              /* entries waiting to be pinned */
    size_t nqueue, capqueue;
    uint64_t symbolized, reused, invalid;
} pm_codecache;

int pm_codecache_init(pm_codecache *c, const pm_layout *L, pm_space *space);
void pm_codecache_free(pm_codecache *c);

/* The entry for addr if it can be used this tick without reading anything;
 * NULL otherwise (unknown, stale, or waiting for its per-tick check). */
pm_code *pm_codecache_lookup(pm_codecache *c, uint64_t addr, uint64_t tick);
/* Checks the fingerprints of untrusted entries in one batched read and
 * marks the ones that still match as seen this tick. */
void pm_codecache_verify(pm_codecache *c, const uint64_t *addrs, size_t n, uint64_t tick);
/* Returns the entry for a code object address, symbolising it on first
 * sight, or NULL when the address does not hold a code object now (torn
 * stack, or not a code object: *not_code is set when the object was read and
 * its type is simply something else).  Takes the model's frames/strings
 * (caller holds whatever lock protects the model). */
pm_code *pm_codecache_get(pm_codecache *c, pm_profile *model, uint64_t addr, uint64_t tick, int *not_code);

/* Moves the queued entries to `out` (up to max) for pinning; returns count.
 * The caller pins each address (if the fingerprint still matches) and
 * reports back with pm_codecache_pinned. */
size_t pm_codecache_take_pins(pm_codecache *c, uint64_t *addrs, size_t max);
void pm_codecache_pinned(pm_codecache *c, uint64_t addr, int ok);
/* The code object at addr is being destroyed (called under the GIL). */
void pm_codecache_forget(pm_codecache *c, uint64_t addr);
int pm_codecache_pins_waiting(pm_codecache *c);

/* Reads the header of the code object at addr and says whether it is still
 * the object the entry describes (for pinning under the GIL). */
int pm_codecache_still_valid(pm_codecache *c, pm_space *space, const pm_code *e);
pm_code *pm_codecache_find(pm_codecache *c, uint64_t addr);

#endif
