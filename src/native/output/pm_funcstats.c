/* pm_funcstats.c — per-function self and total figures.
 *
 * "total" must count each sample once even under recursion (a;a;a with one
 * sample gives a total of 1, not 3).  Instead of walking every node's path
 * to the root (O(nodes x depth)), one depth-first walk keeps, per frame, how
 * many times it is on the current path: a node whose frame is not already on
 * the path is that frame's outermost occurrence, and the inclusive total of
 * the node's subtree is exactly what the frame gains from it — any deeper
 * occurrence lies inside that subtree and adds nothing.  O(nodes + frames). */
#include <stdlib.h>
#include <string.h>

#include "pm_output.h"

typedef struct {
    const pm_profile *p;
    const int64_t *tot;   /* inclusive totals, metric m */
    const int64_t *stot;  /* inclusive totals, samples metric (or NULL) */
    int m;
    int sm;
    uint32_t *on_path;    /* per frame: occurrences on the current path */
    pm_func_stat *acc;    /* per frame */
    unsigned char *seen;  /* per frame */
} pm_fs_walk;

static void pm_fs_add(int64_t *a, int64_t v)
{
    *a = (int64_t)((uint64_t)*a + (uint64_t)v);
}

static void pm_fs_enter(pm_fs_walk *w, pm_id n)
{
    pm_id f = pm_node_get(w->p, n)->frame;
    if (f == PM_NONE)
        return;
    pm_func_stat *s = &w->acc[f];
    w->seen[f] = 1;
    pm_fs_add(&s->self, pm_node_value(w->p, n, w->m));
    if (w->sm >= 0)
        pm_fs_add(&s->samples_self, pm_node_value(w->p, n, w->sm));
    if (w->on_path[f]++ == 0) {
        pm_fs_add(&s->total, w->tot[n]);
        if (w->stot)
            pm_fs_add(&s->samples_total, w->stot[n]);
    }
}

static void pm_fs_leave(pm_fs_walk *w, pm_id n)
{
    pm_id f = pm_node_get(w->p, n)->frame;
    if (f != PM_NONE)
        w->on_path[f]--;
}

/* Iterative pre/post-order walk of the subtree at `start` over the
 * first_child/next_sibling/parent links: no recursion, no explicit stack, so
 * any depth is fine. */
static void pm_fs_walk_tree(pm_fs_walk *w, pm_id start)
{
    pm_id cur = start;
    pm_fs_enter(w, cur);
    for (;;) {
        const pm_node *nd = pm_node_get(w->p, cur);
        if (nd->first_child != PM_NONE) {
            cur = nd->first_child;
            pm_fs_enter(w, cur);
            continue;
        }
        for (;;) {
            pm_fs_leave(w, cur);
            if (cur == start)
                return;
            nd = pm_node_get(w->p, cur);
            if (nd->next_sibling != PM_NONE) {
                cur = nd->next_sibling;
                pm_fs_enter(w, cur);
                break;
            }
            cur = nd->parent;
        }
    }
}

static int pm_fs_cmp(const void *a, const void *b)
{
    const pm_func_stat *x = a, *y = b;
    if (x->self != y->self)
        return x->self > y->self ? -1 : 1;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

long pm_func_stats(const pm_profile *p, int m, pm_id thread, pm_func_stat **out)
{
    *out = NULL;
    if (m < 0 || m >= pm_metric_count(p))
        return -1;
    if (thread != PM_NONE && thread >= pm_thread_count(p))
        return -1;
    uint32_t nn = pm_node_count(p);
    uint32_t nf = pm_frame_count(p);
    int sm = pm_metric_find(p, "samples");
    pm_fs_walk w = {.p = p, .m = m, .sm = sm};
    int64_t *tot = malloc((size_t)nn * sizeof(int64_t));
    int64_t *stot = sm >= 0 && sm != m ? malloc((size_t)nn * sizeof(int64_t)) : NULL;
    w.on_path = calloc((size_t)nf + 1, sizeof(uint32_t));
    w.acc = calloc((size_t)nf + 1, sizeof(pm_func_stat));
    w.seen = calloc((size_t)nf + 1, 1);
    long count = -1;
    if (!tot || (sm >= 0 && sm != m && !stot) || !w.on_path || !w.acc || !w.seen)
        goto done;
    pm_totals(p, m, tot);
    if (stot)
        pm_totals(p, sm, stot);
    w.tot = tot;
    w.stot = sm < 0 ? NULL : (stot ? stot : tot);
    pm_fs_walk_tree(&w, thread == PM_NONE ? PM_ROOT : pm_thread_at(p, thread)->root);

    /* Compact the frames that occur in scope, in place. */
    count = 0;
    for (uint32_t f = 0; f < nf; f++) {
        if (!w.seen[f])
            continue;
        w.acc[count] = w.acc[f];
        w.acc[count].frame = f;
        count++;
    }
    if (count > 0) {
        qsort(w.acc, (size_t)count, sizeof(pm_func_stat), pm_fs_cmp);
        *out = w.acc;
        w.acc = NULL;
    }
done:
    free(tot);
    free(stot);
    free(w.on_path);
    free(w.acc);
    free(w.seen);
    return count;
}
