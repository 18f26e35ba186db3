/* pm_trace.c — tables of `pyrometer trace` (see pm_trace.h). */
#include "pm_trace.h"

#include <stdlib.h>
#include <string.h>

pm_trace *pm_trace_new(uint64_t log_cap)
{
    pm_trace *T = calloc(1, sizeof *T);
    if (!T)
        return NULL;
    T->log_cap = log_cap;
    return T;
}

void pm_trace_free(pm_trace *T)
{
    if (!T)
        return;
    for (uint32_t i = 0; i < T->ncodes; i++)
        free(T->codes[i].hits);
    free(T->codes);
    free(T->slots);
    free(T->pairs);
    free(T->log);
    free(T);
}

static int grow_slots(pm_trace *T)
{
    uint32_t cap = T->slot_cap ? T->slot_cap * 2 : 256;
    pm_trslot *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t j = 0; j < T->slot_cap; j++) {
        if (!T->slots[j].key)
            continue;
        uint32_t i = pm_trace_hash(T->slots[j].key, cap - 1);
        while (s[i].key)
            i = (i + 1) & (cap - 1);
        s[i] = T->slots[j];
    }
    free(T->slots);
    T->slots = s;
    T->slot_cap = cap;
    return 0;
}

uint32_t pm_trace_add(pm_trace *T, const void *key, int traced)
{
    if ((T->ncodes + 1) * 2 > T->slot_cap && grow_slots(T) != 0)
        goto oom;
    if (T->ncodes == T->codes_cap) {
        uint32_t cap = T->codes_cap ? T->codes_cap * 2 : 128;
        pm_trcode *c = realloc(T->codes, (size_t)cap * sizeof *c);
        if (!c)
            goto oom;
        T->codes = c;
        T->codes_cap = cap;
    }
    uint32_t idx = T->ncodes++;
    memset(&T->codes[idx], 0, sizeof T->codes[idx]);
    T->codes[idx].traced = traced != 0;
    uint32_t mask = T->slot_cap - 1, i = pm_trace_hash(key, mask);
    while (T->slots[i].key)
        i = (i + 1) & mask;
    T->slots[i].key = key;
    T->slots[i].idx = idx;
    return idx;
oom:
    T->oom = 1;
    return PM_TRACE_UNSEEN;
}

int pm_trace_grow_lines(pm_trace *T, pm_trcode *c, int32_t line)
{
    if (line <= 0)
        return -1; /* no line (an artificial instruction): nothing to count */
    int32_t lo = c->n ? (line < c->base ? line : c->base) : line;
    int32_t hi = c->n ? (line >= c->base + (int32_t)c->n ? line : c->base + (int32_t)c->n - 1) : line;
    /* Room on both sides: a function's lines arrive roughly in order. */
    lo = lo > 16 ? lo - 16 : 1;
    hi += 32;
    uint32_t n = (uint32_t)(hi - lo + 1);
    int64_t *h = calloc(n, sizeof *h);
    if (!h) {
        T->oom = 1;
        return -1;
    }
    if (c->n)
        memcpy(h + (c->base - lo), c->hits, (size_t)c->n * sizeof *h);
    free(c->hits);
    c->hits = h;
    c->base = lo;
    c->n = n;
    return 0;
}

int pm_trace_pair(pm_trace *T, uint32_t parent, uint32_t child)
{
    uint64_t v = ((uint64_t)parent + 1) << 32 | ((uint64_t)child + 1);
    if ((T->npairs + 1) * 2 > T->pair_cap) {
        uint32_t cap = T->pair_cap ? T->pair_cap * 2 : 256;
        uint64_t *s = calloc(cap, sizeof *s);
        if (!s) {
            T->oom = 1;
            return -1;
        }
        for (uint32_t j = 0; j < T->pair_cap; j++) {
            uint64_t w = T->pairs[j];
            if (!w)
                continue;
            uint32_t i = (uint32_t)((w * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
            while (s[i])
                i = (i + 1) & (cap - 1);
            s[i] = w;
        }
        free(T->pairs);
        T->pairs = s;
        T->pair_cap = cap;
    }
    uint32_t mask = T->pair_cap - 1;
    for (uint32_t i = (uint32_t)((v * 0x9E3779B97F4A7C15ull) >> 32) & mask;; i = (i + 1) & mask) {
        if (T->pairs[i] == v)
            return 0;
        if (!T->pairs[i]) {
            T->pairs[i] = v;
            T->npairs++;
            return 0;
        }
    }
}

int pm_trace_log_grow(pm_trace *T)
{
    /* Grown by doubling, so a large --limit costs memory only as it fills. */
    uint64_t cap = T->log_alloc ? T->log_alloc * 2 : 4096;
    if (cap > T->log_cap)
        cap = T->log_cap;
    pm_trline *l = realloc(T->log, (size_t)cap * sizeof *l);
    if (!l) {
        T->oom = 1;
        return -1;
    }
    T->log = l;
    T->log_alloc = cap;
    return 0;
}
