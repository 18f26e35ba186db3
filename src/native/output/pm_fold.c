/* pm_fold.c — recursion folded (see pm_fold.h).
 *
 * Why: a calls profile keeps every distinct call path (the trie), and a
 * recursive program (a visitor, a parser, copy.deepcopy of nested data) has
 * as many as it has calls, each as deep as its recursion.  The .pyro file
 * stores each path once (a node per level); collapsed stacks print every
 * path whole, one line each, and Gecko expands them into samples: a 1.7 MB
 * .pyro gave 550 MB of collapsed stacks.  Folding bounds the depth by the
 * number of distinct functions.  The .pyro and pstats files keep the full
 * paths; the report and the viewer read those. */
#include "pm_fold.h"

#include <stdlib.h>
#include <string.h>

#include "pm_outcommon.h"

int pm_fold_wanted(const pm_profile *p)
{
    /* A calls profile with a timeline (--mode timeline) is written as it
     * ran: its events name exact call paths, which folding would merge
     * (and the copy has no timeline).  The output is bounded by the
     * timeline's capacity instead. */
    size_t len, nev = 0;
    pm_timeline_events(p, &nev);
    if (nev > 0)
        return 0;
    const char *mode = pm_out_meta_str(p, "mode", &len);
    return mode && len == 5 && memcmp(mode, "calls", 5) == 0;
}

static pm_id copy_str(pm_profile *q, const pm_profile *p, pm_id id)
{
    size_t len;
    const char *s = pm_str_get(p, id, &len);
    return pm_str_intern(q, s ? s : "", s ? len : 0);
}

pm_profile *pm_fold_recursion(const pm_profile *p)
{
    uint32_t nn = pm_node_count(p), nf = pm_frame_count(p), nt = pm_thread_count(p);
    int nm = pm_metric_count(p);
    pm_profile *q = pm_profile_new();
    pm_id *fmap = malloc(((size_t)nf + 1) * sizeof(pm_id));
    pm_id *nmap = malloc(((size_t)nn + 1) * sizeof(pm_id));
    pm_id *tmap = malloc(((size_t)nt + 1) * sizeof(pm_id));
    if (!q || !fmap || !nmap || !tmap)
        goto fail;
    for (int m = 0; m < nm; m++) {
        const pm_metric *mt = pm_metric_get(p, m);
        if (pm_metric_add_id(q, copy_str(q, p, mt->name), copy_str(q, p, mt->unit)) != m)
            goto fail;
    }
    for (uint32_t f = 0; f < nf; f++) {
        const pm_frame *fr = pm_frame_get(p, f);
        fmap[f] = pm_frame_intern(q, copy_str(q, p, fr->name), copy_str(q, p, fr->file), fr->line,
                                  (pm_frame_kind)fr->kind);
        if (fmap[f] == PM_NONE)
            goto fail;
    }
    for (uint32_t i = 0; i < pm_meta_count(p); i++) {
        const pm_meta *mt = pm_meta_at(p, i);
        pm_id key = copy_str(q, p, mt->key);
        int rc = mt->kind == PM_META_STR ? pm_meta_set_str_id(q, key, copy_str(q, p, mt->str))
                                         : pm_meta_set_num_id(q, key, mt->num);
        if (rc != 0)
            goto fail;
    }
    for (uint32_t t = 0; t < nt; t++) {
        const pm_thread *th = pm_thread_at(p, t);
        size_t len;
        const char *name = pm_str_get(p, th->name, &len);
        tmap[t] = pm_thread_get(q, th->ident, th->native_id);
        if (tmap[t] == PM_NONE || pm_thread_set_name(q, tmap[t], name ? name : "", name ? len : 0) != 0)
            goto fail;
    }
    nmap[0] = 0;
    /* Nodes come after their parents: one forward pass. */
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        if (nd->frame == PM_NONE) {
            nmap[i] = nd->thread < nt ? pm_thread_at(q, tmap[nd->thread])->root : PM_NONE;
        } else {
            pm_id parent = nmap[nd->parent], f = fmap[nd->frame], at = PM_NONE;
            if (parent == PM_NONE) {
                nmap[i] = PM_NONE;
                continue;
            }
            for (pm_id a = parent; a != PM_NONE;) {
                const pm_node *an = pm_node_get(q, a);
                if (an->frame == PM_NONE)
                    break; /* the thread's root */
                if (an->frame == f) {
                    at = a;
                    break;
                }
                a = an->parent;
            }
            nmap[i] = at != PM_NONE ? at : pm_node_child(q, parent, f, nd->line);
            if (nmap[i] == PM_NONE)
                goto fail;
        }
        if (nmap[i] == PM_NONE)
            continue;
        for (int m = 0; m < nm; m++) {
            int64_t v = pm_node_value(p, i, m);
            if (v)
                pm_node_add(q, nmap[i], m, v);
        }
    }
    free(fmap);
    free(nmap);
    free(tmap);
    return q;
fail:
    free(fmap);
    free(nmap);
    free(tmap);
    pm_profile_free(q);
    return NULL;
}
