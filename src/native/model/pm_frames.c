/* pm_frames.c — frame interning: (name, file, first line, kind) -> id. */
#include <stdlib.h>

#include "pm_hash.h"
#include "pm_internal.h"

static uint32_t pm_frame_hash(pm_id name, pm_id file, int32_t line, int32_t kind)
{
    /* kind has 2 bits; fold it into the line so one 3-id mix suffices. */
    return pm_hash_ids3(name, file, (uint32_t)line * 4u + (uint32_t)kind);
}

pm_id pm_frame_intern(pm_profile *p, pm_id name, pm_id file, int32_t line, pm_frame_kind kind)
{
    uint32_t nstr = p->strings.count;
    if (name >= nstr || file >= nstr || (int)kind < PM_FRAME_PYTHON || kind > PM_FRAME_SPECIAL)
        return PM_NONE;
    uint32_t h = pm_frame_hash(name, file, line, (int32_t)kind);
    if (p->frame_map.cap) {
        uint32_t mask = p->frame_map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &p->frame_map.slots[i];
            if (s->id == PM_NONE)
                break;
            const pm_frame *f = &p->frames[s->id];
            if (s->hash == h && f->name == name && f->file == file && f->line == line &&
                f->kind == (int32_t)kind)
                return s->id;
        }
    }
    if (p->frame_count >= UINT32_MAX - 1)
        return PM_NONE;
    if (pm_grow((void **)&p->frames, &p->frame_cap, p->frame_count + 1, sizeof(pm_frame)) != 0)
        return PM_NONE;
    if (pm_idmap_reserve_one(&p->frame_map) != 0)
        return PM_NONE;
    pm_id id = p->frame_count++;
    p->frames[id].name = name;
    p->frames[id].file = file;
    p->frames[id].line = line;
    p->frames[id].kind = (int32_t)kind;
    pm_idmap_insert(&p->frame_map, h, id);
    return id;
}

pm_id pm_frame_truncated(pm_profile *p)
{
    return pm_frame_intern(p, pm_str_intern_cstr(p, "<truncated>"), 0, 0, PM_FRAME_SPECIAL);
}

int pm_frame_set_name(pm_profile *p, pm_id frame, pm_id name)
{
    if (frame >= p->frame_count || name >= p->strings.count)
        return -1;
    pm_frame *f = &p->frames[frame];
    if (f->name == name)
        return 0;
    /* Refuse a rename that would make two frames equal: interning (and so
     * the lossless .pyro round trip) relies on keys being unique. */
    uint32_t nh = pm_frame_hash(name, f->file, f->line, f->kind);
    uint32_t mask = p->frame_map.cap - 1;
    for (uint32_t i = nh & mask;; i = (i + 1) & mask) {
        const pm_idslot *s = &p->frame_map.slots[i];
        if (s->id == PM_NONE)
            break;
        const pm_frame *g = &p->frames[s->id];
        if (s->hash == nh && g->name == name && g->file == f->file && g->line == f->line && g->kind == f->kind)
            return -1;
    }
    pm_idmap_remove(&p->frame_map, pm_frame_hash(f->name, f->file, f->line, f->kind), frame);
    f->name = name;
    pm_idmap_insert(&p->frame_map, nh, frame);
    return 0;
}

const pm_frame *pm_frame_get(const pm_profile *p, pm_id id)
{
    return id < p->frame_count ? &p->frames[id] : NULL;
}

uint32_t pm_frame_count(const pm_profile *p)
{
    return p->frame_count;
}

void pm_frames_free(pm_profile *p)
{
    free(p->frames);
    p->frames = NULL;
    p->frame_count = p->frame_cap = 0;
    pm_idmap_free(&p->frame_map);
}

size_t pm_frames_memory(const pm_profile *p)
{
    return (size_t)p->frame_cap * sizeof(pm_frame) + pm_idmap_memory(&p->frame_map);
}
