/* pm_profile.c — lifetime and memory accounting of a profile. */
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"

pm_profile *pm_profile_new(void)
{
    pm_profile *p = calloc(1, sizeof(pm_profile));
    if (!p)
        return NULL;
    pm_strtab_init(&p->strings);
    pm_idmap_init(&p->frame_map);
    pm_idmap_init(&p->child_map);
    pm_idmap_init(&p->thread_map);
    pm_idmap_init(&p->ident_map);
    /* String 0 is "" and node 0 is the root, so that id 0 always exists
     * and a zeroed field is a valid reference. */
    if (pm_strtab_intern(&p->strings, "", 0) != 0 || pm_trie_reserve_one(p) != 0) {
        pm_profile_free(p);
        return NULL;
    }
    pm_trie_append(p, PM_NONE, PM_NONE, 0, PM_NONE);
    return p;
}

void pm_profile_free(pm_profile *p)
{
    if (!p)
        return;
    pm_strtab_free(&p->strings);
    pm_frames_free(p);
    pm_trie_free(p);
    free(p->threads);
    pm_idmap_free(&p->thread_map);
    pm_idmap_free(&p->ident_map);
    pm_timeline_free(p);
    pm_allocs_free(p);
    free(p->meta);
    free(p);
}

size_t pm_profile_memory(const pm_profile *p)
{
    return sizeof(*p) + pm_strtab_memory(&p->strings) + pm_frames_memory(p) + pm_trie_memory(p) +
           (size_t)p->thread_cap * sizeof(pm_thread) + pm_idmap_memory(&p->thread_map) + pm_idmap_memory(&p->ident_map) +
           pm_timeline_memory(p) + pm_allocs_memory(p) + (size_t)p->meta_cap * sizeof(pm_meta);
}
