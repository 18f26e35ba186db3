/* pm_trie.c — the stack trie: one node per (parent, frame, line), self values
 * per metric, totals.
 *
 * Child lookup is the sampler's hot path (once per frame per sample), so it
 * is a single hash probe keyed on (parent, frame, line) over the whole trie —
 * never a scan of a sibling list, which degenerates on wide nodes (a
 * dispatcher with thousands of callees) — and it allocates nothing when the
 * child exists.  The first_child/next_sibling links are still kept so that
 * writers can walk the tree top-down. */
#include <stdlib.h>
#include <string.h>

#include "pm_hash.h"
#include "pm_internal.h"

#define PM_TRIE_MIN_CAP 256u

int pm_trie_reserve_one(pm_profile *p)
{
    if (p->node_count < p->node_cap)
        return 0;
    if (p->node_count >= UINT32_MAX - 1)
        return -1;
    uint64_t ncap = p->node_cap ? (uint64_t)p->node_cap * 2 : PM_TRIE_MIN_CAP;
    if (ncap > UINT32_MAX - 1)
        ncap = UINT32_MAX - 1;
    if (ncap > SIZE_MAX / sizeof(pm_node))
        return -1;
    pm_node *nn = realloc(p->nodes, (size_t)ncap * sizeof(pm_node));
    if (!nn)
        return -1;
    p->nodes = nn;
    /* A column that grew before a later one failed is simply reallocated to
     * the same size on the next attempt; node_cap moves only when all did. */
    for (int m = 0; m < p->metric_count; m++) {
        int64_t *nv = realloc(p->values[m], (size_t)ncap * sizeof(int64_t));
        if (!nv)
            return -1;
        memset(nv + p->node_cap, 0, (size_t)(ncap - p->node_cap) * sizeof(int64_t));
        p->values[m] = nv;
    }
    p->node_cap = (uint32_t)ncap;
    return 0;
}

int pm_trie_add_column(pm_profile *p, int m)
{
    size_t n = p->node_cap ? p->node_cap : 1;
    p->values[m] = calloc(n, sizeof(int64_t));
    return p->values[m] ? 0 : -1;
}

pm_id pm_trie_append(pm_profile *p, pm_id parent, pm_id frame, int32_t line, pm_id thread)
{
    pm_id id = p->node_count++;
    pm_node *n = &p->nodes[id];
    n->parent = parent;
    n->frame = frame;
    n->line = line;
    n->thread = thread;
    n->first_child = PM_NONE;
    n->next_sibling = PM_NONE;
    n->last_child = PM_NONE;
    if (parent != PM_NONE) {
        /* Prepending is O(1); the order of siblings carries no meaning. */
        n->next_sibling = p->nodes[parent].first_child;
        p->nodes[parent].first_child = id;
    }
    return id;
}

static pm_id node_child(pm_profile *p, pm_id parent, pm_id frame, int32_t line);

pm_id pm_node_child(pm_profile *p, pm_id parent, pm_id frame, int32_t line)
{
    if (parent >= p->node_count || parent == PM_ROOT || frame >= p->frame_count)
        return PM_NONE;
    pm_id last = p->nodes[parent].last_child;
    if (last != PM_NONE && p->nodes[last].frame == frame && p->nodes[last].line == line)
        return last;
    pm_id id = node_child(p, parent, frame, line);
    if (id != PM_NONE)
        p->nodes[parent].last_child = id;
    return id;
}

/* The child of parent for (frame, line) through the map, made if new. */
static pm_id node_child(pm_profile *p, pm_id parent, pm_id frame, int32_t line)
{
    uint32_t h = pm_hash_ids3(parent, frame, (uint32_t)line);
    if (p->child_map.cap) {
        uint32_t mask = p->child_map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &p->child_map.slots[i];
            if (s->id == PM_NONE)
                break;
            if (s->hash == h) {
                const pm_node *n = &p->nodes[s->id];
                if (n->parent == parent && n->frame == frame && n->line == line)
                    return s->id;
            }
        }
    }
    if (pm_trie_reserve_one(p) != 0 || pm_idmap_reserve_one(&p->child_map) != 0)
        return PM_NONE;
    pm_id id = pm_trie_append(p, parent, frame, line, p->nodes[parent].thread);
    pm_idmap_insert(&p->child_map, h, id);
    return id;
}

const pm_node *pm_node_get(const pm_profile *p, pm_id node)
{
    return node < p->node_count ? &p->nodes[node] : NULL;
}

uint32_t pm_node_count(const pm_profile *p)
{
    return p->node_count;
}

void pm_node_add(pm_profile *p, pm_id node, int m, int64_t v)
{
    if (node >= p->node_count || m < 0 || m >= p->metric_count)
        return;
    /* Unsigned addition: wrapping is defined, signed overflow is not. */
    int64_t *cell = &p->values[m][node];
    *cell = (int64_t)((uint64_t)*cell + (uint64_t)v);
}

int64_t pm_node_value(const pm_profile *p, pm_id node, int m)
{
    if (node >= p->node_count || m < 0 || m >= p->metric_count)
        return 0;
    return p->values[m][node];
}

pm_id pm_stack_insert(pm_profile *p, pm_id thread, const pm_id *frames, const int32_t *lines, size_t depth)
{
    if (thread >= p->thread_count || (depth > 0 && !frames))
        return PM_NONE;
    pm_id cur = p->threads[thread].root;
    for (size_t i = 0; i < depth && cur != PM_NONE; i++)
        cur = pm_node_child(p, cur, frames[i], lines ? lines[i] : 0);
    return cur;
}

void pm_totals(const pm_profile *p, int m, int64_t *out)
{
    uint32_t n = p->node_count;
    if (m < 0 || m >= p->metric_count) {
        memset(out, 0, (size_t)n * sizeof(int64_t));
        return;
    }
    memcpy(out, p->values[m], (size_t)n * sizeof(int64_t));
    /* A child always has a larger id than its parent, so by the time node i
     * is folded into its parent, i has received all of its descendants. */
    for (uint32_t i = n; i-- > 1;) {
        pm_id parent = p->nodes[i].parent;
        out[parent] = (int64_t)((uint64_t)out[parent] + (uint64_t)out[i]);
    }
}

void pm_trie_free(pm_profile *p)
{
    free(p->nodes);
    p->nodes = NULL;
    for (int m = 0; m < PM_MAX_METRICS; m++) {
        free(p->values[m]);
        p->values[m] = NULL;
    }
    p->node_count = p->node_cap = 0;
    pm_idmap_free(&p->child_map);
}

size_t pm_trie_memory(const pm_profile *p)
{
    return (size_t)p->node_cap * (sizeof(pm_node) + (size_t)p->metric_count * sizeof(int64_t)) +
           pm_idmap_memory(&p->child_map);
}
