/* pm_internal.h — the layout of struct pm_profile, shared by the model's own
 * files only.  Writers go through the public accessors of pm_model.h. */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pm_idmap.h"
#include "pm_model.h"
#include "pm_strtab.h"

struct pm_profile {
    pm_strtab strings;

    pm_frame *frames;
    uint32_t frame_count;
    uint32_t frame_cap;
    pm_idmap frame_map;      /* (name, file, line, kind) -> frame id */

    pm_metric metrics[PM_MAX_METRICS];
    int metric_count;

    pm_node *nodes;
    uint32_t node_count;
    uint32_t node_cap;
    /* Self values, one column per metric, each node_cap long.  Columns (not
     * rows) so that a metric added late costs one allocation and pm_totals
     * walks contiguous memory. */
    int64_t *values[PM_MAX_METRICS];
    pm_idmap child_map;      /* (parent, frame, line) -> node id */

    pm_thread *threads;
    uint32_t thread_count;
    uint32_t thread_cap;
    pm_idmap thread_map;     /* (ident, OS id) -> thread index */
    pm_idmap ident_map;      /* ident -> its latest thread (pm_threads.c) */

    pm_event *events;
    size_t event_count;
    size_t event_alloc;      /* allocated slots (grows on demand) */
    size_t event_capacity;   /* the limit; 0 = timeline disabled */
    uint64_t events_dropped;
    int events_keep_newest;  /* full: drop the oldest events, not the new one */

    pm_alloc_rec *allocs;    /* pm_allocs.c */
    size_t alloc_count;
    size_t alloc_cap;
    uint64_t alloc_bucket_ns; /* 0: no allocation section */

    pm_meta *meta;
    uint32_t meta_count;
    uint32_t meta_cap;
};

/* Grows the node array and every value column to hold one more node.
 * 0, or -1 on OOM (nothing observable changes). */
int pm_trie_reserve_one(pm_profile *p);
/* Appends a node without indexing it (thread roots: they share the key
 * (root, PM_NONE, 0) and are found through their thread instead).  The
 * caller has called pm_trie_reserve_one. */
pm_id pm_trie_append(pm_profile *p, pm_id parent, pm_id frame, int32_t line, pm_id thread);
/* Allocates a zeroed column for a new metric, node_cap long. */
int pm_trie_add_column(pm_profile *p, int m);
void pm_trie_free(pm_profile *p);
size_t pm_trie_memory(const pm_profile *p);

void pm_frames_free(pm_profile *p);
size_t pm_frames_memory(const pm_profile *p);

void pm_allocs_free(pm_profile *p);
size_t pm_allocs_memory(const pm_profile *p);
/* Node ids changed (re-rooting): record i's node becomes map[node], records
 * on a node mapped to PM_NONE go, and records that now share a key merge. */
void pm_allocs_remap(pm_profile *p, const pm_id *map, uint32_t old_count);

void pm_timeline_free(pm_profile *p);
size_t pm_timeline_memory(const pm_profile *p);

/* Grows *arr (of *cap elements of `size` bytes) to hold `need` elements,
 * doubling.  0, or -1 on OOM / overflow with *arr untouched. */
int pm_grow(void **arr, uint32_t *cap, uint32_t need, size_t size);

#endif
