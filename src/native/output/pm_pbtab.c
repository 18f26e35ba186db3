/* pm_pbtab.c — see pm_pbtab.h. */
#include "pm_pbtab.h"

#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"

void pm_pbtab_init(pm_pbtab *t)
{
    memset(t, 0, sizeof *t);
    pm_strtab_init(&t->strs);
    pm_idmap_init(&t->lmap);
    pm_pbtab_str(t, "", 0); /* both formats' string_table[0] */
}

void pm_pbtab_free(pm_pbtab *t)
{
    pm_strtab_free(&t->strs);
    pm_idmap_free(&t->lmap);
    free(t->lframe);
    free(t->lline);
    memset(t, 0, sizeof *t);
}

int64_t pm_pbtab_str(pm_pbtab *t, const char *s, size_t len)
{
    pm_id id = pm_strtab_intern(&t->strs, s, len);
    if (id == PM_NONE) {
        t->failed = 1;
        return 0;
    }
    return (int64_t)id;
}

int64_t pm_pbtab_cstr(pm_pbtab *t, const char *s) { return pm_pbtab_str(t, s, strlen(s)); }

int64_t pm_pbtab_sid(pm_pbtab *t, const pm_ctext *c, pm_id id) { return pm_pbtab_str(t, c->ptr[id], c->len[id]); }

uint32_t pm_pbtab_loc(pm_pbtab *t, pm_id frame, int32_t line)
{
    uint32_t h = pm_hash_ids3(frame, (uint32_t)line, 0x77);
    if (t->lmap.cap) {
        uint32_t mask = t->lmap.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *sl = &t->lmap.slots[i];
            if (sl->id == PM_NONE)
                break;
            if (sl->hash == h && t->lframe[sl->id] == frame && t->lline[sl->id] == line)
                return sl->id;
        }
    }
    if (t->nloc == t->caploc) {
        uint32_t nc = t->caploc ? t->caploc * 2 : 1024;
        pm_id *nf = realloc(t->lframe, (size_t)nc * sizeof(pm_id));
        if (!nf)
            return PM_NONE;
        t->lframe = nf;
        int32_t *nl = realloc(t->lline, (size_t)nc * sizeof(int32_t));
        if (!nl)
            return PM_NONE;
        t->lline = nl;
        t->caploc = nc;
    }
    if (pm_idmap_reserve_one(&t->lmap) != 0)
        return PM_NONE;
    t->lframe[t->nloc] = frame;
    t->lline[t->nloc] = line;
    pm_idmap_insert(&t->lmap, h, t->nloc);
    return t->nloc++;
}

void pm_pbtab_function(pm_pbtab *t, const pm_profile *p, const pm_ctext *c, pm_id f, pm_buf *tmp, int64_t *name,
                       int64_t *sysname)
{
    const pm_frame *fr = pm_frame_get(p, f);
    tmp->len = 0;
    pm_out_frame_name(p, c, f, tmp);
    *name = pm_pbtab_str(t, tmp->data ? tmp->data : "", tmp->len);
    tmp->len = 0;
    if (c->len[fr->file])
        pm_buf_put(tmp, c->ptr[fr->file], c->len[fr->file]);
    else
        pm_buf_put(tmp, "~", 1);
    pm_buf_put(tmp, ":", 1);
    pm_out_frame_name(p, c, f, tmp);
    *sysname = pm_pbtab_str(t, tmp->data ? tmp->data : "", tmp->len);
}
