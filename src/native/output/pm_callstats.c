/* pm_callstats.c — pstats figures from the trie (see pm_callstats.h).
 *
 * One reverse pass gives every node's inclusive value; one depth-first walk
 * per thread keeps, for the path from the thread root, how many times each
 * function and each (caller, callee) pair is open, which decides whether a
 * node's calls are recursive and whether its inclusive time counts towards
 * cumtime. */
#include "pm_callstats.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key; /* caller << 32 | callee, 0 = empty (frame ids < 2^32-2) */
    uint32_t edge;
    uint32_t open;
} pair_slot;

typedef struct {
    pair_slot *s;
    uint32_t cap, used;
} pair_map;

static uint32_t pair_hash(uint64_t k, uint32_t mask) { return (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & mask; }

static pair_slot *pair_get(pair_map *m, uint64_t key, int create)
{
    if (create && (m->used + 1) * 2 > m->cap) {
        uint32_t ncap = m->cap ? m->cap * 2 : 256;
        pair_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (uint32_t i = 0; i < m->cap; i++) {
            if (!m->s[i].key)
                continue;
            uint32_t j = pair_hash(m->s[i].key, ncap - 1);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->s[i];
        }
        free(m->s);
        m->s = ns;
        m->cap = ncap;
    }
    if (!m->cap)
        return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = pair_hash(key, mask);; i = (i + 1) & mask) {
        if (m->s[i].key == key)
            return &m->s[i];
        if (!m->s[i].key) {
            if (!create)
                return NULL;
            m->s[i].key = key;
            m->s[i].edge = UINT32_MAX;
            m->used++;
            return &m->s[i];
        }
    }
}

int pm_callstats(const pm_profile *p, const int64_t *calls, const int64_t *self, uint32_t n, pm_id thread,
                 pm_cs_func **funcs_out, uint32_t *nfuncs, pm_cs_edge **edges_out, uint32_t *nedges)
{
    *funcs_out = NULL;
    *edges_out = NULL;
    *nfuncs = *nedges = 0;
    uint32_t nn = pm_node_count(p), nf = pm_frame_count(p);
    if (n > nn)
        n = nn;
    int64_t *incl = calloc(n ? n : 1, sizeof *incl);
    uint32_t *fidx = malloc((nf ? nf : 1) * sizeof *fidx); /* frame → funcs index */
    uint32_t *open = calloc(nf ? nf : 1, sizeof *open);
    pm_cs_func *funcs = calloc(nf ? nf : 1, sizeof *funcs);
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
    uint8_t *state = calloc(n ? n : 1, 1);
    pm_cs_edge *edges = NULL;
    uint32_t ne = 0, ecap = 0;
    pair_map pm = {0};
    int rc = -1;
    if (!incl || !fidx || !open || !funcs || !stack || !state)
        goto out;
    memset(fidx, 0xff, (nf ? nf : 1) * sizeof *fidx);
    for (uint32_t i = 0; i < n; i++)
        incl[i] = self[i];
    for (uint32_t i = n; i-- > 1;) {
        pm_id par = pm_node_get(p, i)->parent;
        if (par != PM_NONE && par < n)
            incl[par] += incl[i];
    }
    for (uint32_t ti = 0; ti < pm_thread_count(p); ti++) {
        if (thread != PM_NONE && ti != thread)
            continue;
        pm_id root = pm_thread_at(p, ti)->root;
        if (root >= n)
            continue;
        /* Iterative DFS: a node is pushed once (state 0 → 1 when entered,
         * its counters raised), and lowered again when popped (state 2). */
        uint32_t sp = 0;
        for (pm_id c = pm_node_get(p, root)->first_child; c != PM_NONE; c = pm_node_get(p, c)->next_sibling)
            if (c < n)
                stack[sp++] = c;
        while (sp) {
            pm_id id = stack[sp - 1];
            const pm_node *d = pm_node_get(p, id);
            pm_id f = d->frame;
            pm_id pf = d->parent == root ? PM_NONE : pm_node_get(p, d->parent)->frame;
            uint64_t key = pf == PM_NONE ? 0 : ((uint64_t)(pf + 1) << 32 | (uint64_t)(f + 1));
            if (state[id] == 0) {
                state[id] = 1;
                if (fidx[f] == UINT32_MAX) {
                    fidx[f] = (*nfuncs)++;
                    funcs[fidx[f]].frame = f;
                }
                pm_cs_func *fn = &funcs[fidx[f]];
                fn->ncalls += calls[id];
                fn->tottime += self[id];
                if (open[f])
                    fn->reccalls += calls[id];
                else
                    fn->cumtime += incl[id];
                open[f]++;
                if (key) {
                    pair_slot *s = pair_get(&pm, key, 1);
                    if (!s)
                        goto out;
                    if (s->edge == UINT32_MAX) {
                        if (ne == ecap) {
                            uint32_t nc = ecap ? ecap * 2 : 256;
                            pm_cs_edge *ed = realloc(edges, nc * sizeof *ed);
                            if (!ed)
                                goto out;
                            edges = ed;
                            ecap = nc;
                        }
                        memset(&edges[ne], 0, sizeof edges[ne]);
                        edges[ne].caller = pf;
                        edges[ne].callee = f;
                        s->edge = ne++;
                    }
                    pm_cs_edge *e = &edges[s->edge];
                    e->ncalls += calls[id];
                    e->tottime += self[id];
                    if (s->open)
                        e->reccalls += calls[id];
                    else
                        e->cumtime += incl[id];
                    s->open++;
                }
                for (pm_id c = d->first_child; c != PM_NONE; c = pm_node_get(p, c)->next_sibling)
                    if (c < n)
                        stack[sp++] = c;
            } else {
                sp--;
                state[id] = 2;
                open[f]--;
                if (key)
                    pair_get(&pm, key, 0)->open--;
            }
        }
    }
    /* Functions and edges that were never actually called (a node created
     * for an event that was then dropped) are still listed with 0 calls. */
    *funcs_out = funcs;
    funcs = NULL;
    *edges_out = edges;
    edges = NULL;
    *nedges = ne;
    rc = 0;
out:
    if (rc != 0) {
        *nfuncs = 0;
        *nedges = 0;
    }
    free(incl);
    free(fidx);
    free(open);
    free(funcs);
    free(stack);
    free(state);
    free(edges);
    free(pm.s);
    return rc;
}
