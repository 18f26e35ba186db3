/* pm_natframes.c — see pm_natframes.h. */
#include "pm_natframes.h"

#include <stdlib.h>
#include <string.h>

#include "pm_native.h"

int pm_natframes_init(pm_natframes *nf)
{
    memset(nf, 0, sizeof *nf);
    nf->syms = pm_elfsym_new();
    nf->cap = 1024;
    nf->tab = calloc(nf->cap, sizeof *nf->tab);
    if (!nf->syms || !nf->tab) {
        pm_natframes_free(nf);
        return -1;
    }
    return 0;
}

void pm_natframes_free(pm_natframes *nf)
{
    pm_elfsym_free(nf->syms);
    free(nf->tab);
    memset(nf, 0, sizeof *nf);
}

static size_t slot_of(uint64_t addr, size_t cap)
{
    uint64_t h = addr * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

static int grow(pm_natframes *nf)
{
    size_t cap = nf->cap * 2;
    pm_natframe_entry *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < nf->cap; i++) {
        if (!nf->tab[i].addr)
            continue;
        size_t k = slot_of(nf->tab[i].addr, cap);
        while (t[k].addr)
            k = (k + 1) & (cap - 1);
        t[k] = nf->tab[i];
    }
    free(nf->tab);
    nf->tab = t;
    nf->cap = cap;
    return 0;
}

static int learned(const pm_natframes *nf, pm_id frame)
{
    for (size_t i = 0; i < nf->neval; i++)
        if (nf->eval[i] == frame)
            return 1;
    return 0;
}

int pm_natframes_learn_eval(pm_natframes *nf, const pm_id *frames, uint8_t *cls, size_t n, size_t missing)
{
    if (missing < 2 || nf->neval == PM_NATFRAMES_EVAL_MAX)
        return 0;
    pm_id found = PM_NONE;
    for (size_t i = 0; i < n; i++) {
        if (cls[i] != (PM_NAT_INTERP | PM_NAT_UNNAMED))
            continue;
        size_t count = 0, first = n;
        for (size_t j = 0; j < n; j++)
            if (frames[j] == frames[i]) {
                count++;
                first = j < first ? j : first;
            }
        if (first != i || count != missing) /* each function once, at its first place */
            continue;
        if (found != PM_NONE)
            return 0; /* two candidates: nothing is learned */
        found = frames[i];
    }
    if (found == PM_NONE)
        return 0;
    nf->eval[nf->neval++] = found;
    for (size_t i = 0; i < n; i++)
        if (frames[i] == found)
            cls[i] = PM_NAT_EVAL;
    return 1;
}

int pm_natframes_get(pm_natframes *nf, pm_profile *model, uint64_t addr, pm_id *frame, int *cls)
{
    if (!addr)
        addr = 1; /* 0 marks an empty slot; no code lives there */
    size_t k = slot_of(addr, nf->cap);
    while (nf->tab[k].addr) {
        if (nf->tab[k].addr == addr) {
            *frame = nf->tab[k].frame;
            *cls = learned(nf, *frame) ? PM_NAT_EVAL : nf->tab[k].cls;
            return 0;
        }
        k = (k + 1) & (nf->cap - 1);
    }
    char name[512];
    const char *file;
    if (pm_elfsym_lookup(nf->syms, addr, name, sizeof name, &file, cls) != 0)
        return -1;
    pm_id ns = pm_str_intern_cstr(model, name), fs = pm_str_intern_cstr(model, file);
    if (ns == PM_NONE || fs == PM_NONE)
        return -1;
    *frame = pm_frame_intern(model, ns, fs, 0, PM_FRAME_NATIVE);
    if (*frame == PM_NONE)
        return -1;
    if ((nf->n + 1) * 2 > nf->cap) {
        if (grow(nf) != 0)
            return -1;
        k = slot_of(addr, nf->cap);
        while (nf->tab[k].addr)
            k = (k + 1) & (nf->cap - 1);
    }
    nf->tab[k] = (pm_natframe_entry){addr, *frame, (uint8_t)*cls};
    nf->n++;
    return 0;
}
