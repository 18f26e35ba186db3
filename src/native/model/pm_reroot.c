/* pm_reroot.c — re-rooting each thread's stacks below a launcher's frames.
 *
 * A program run by `pyrometer run` has pyrometer's runner under its main
 * thread's stacks (runpy, pyrometer's __main__, cli.main, _run, _run_script,
 * then the program's <module>); under plain `python script.py` the stack
 * starts at <module>. Rather than teach every collector where the program
 * begins, the trie is rebuilt once at the end with the launcher's frames
 * taken out, so every writer, the report and the API see the program's own
 * stacks with no change of their own.
 *
 * Frames are classed by the caller (PM_REROOT_*). Walking down from a
 * thread's root, the path is in one of these states:
 *  - CHAIN: the launcher, down to the call that runs the program. CHAIN
 *    frames (and runpy's, which also starts pyrometer) keep it there;
 *    anything else the launcher calls is its own work and goes, with all it
 *    calls.
 *  - PASS: on the way to the program (pyrometer's _run_module, runpy's
 *    _run_module_as_main): ENTRY frames go on, anything else goes.
 *  - ENTRY: the call that runs the program's code (_run_script's exec,
 *    runpy's _run_code, and the wait for the program's threads at its end):
 *    whatever it calls is the program, and becomes a top-level stack.
 *  - DROP frames (runpy finding the module) go with all they call.
 *  - FOLD frames (pyrometer's own hooks, which the program's code calls
 *    into: the dict that notes ended threads' names) go with all they call,
 *    anywhere in the program's stacks; their values are their caller's, as
 *    the time of an ordinary dict operation would be.
 * A thread whose top frame is none of these (every thread the program
 * starts) is left as it is, except the launcher's own thread: a tracer
 * started inside the launcher (calls mode) sees its later calls as top-level
 * ones, which are not the program's either; a marker at the top (the
 * sampler's "<truncated>" above the innermost frames of a stack too deep to
 * keep whole) stays: what is below it is the program's. Values of dropped nodes (the
 * launcher's own
 * time) go; nodes reaching the same (parent, frame, line) merge. */
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"

enum { ST_KEEP = 0, ST_CHAIN, ST_ENTRY, ST_PASS, ST_GONE, ST_FOLD };

/* After the rebuild: frames no node uses any more, and strings nothing uses,
 * go too, so that no output names the launcher (the .pyro file carries the
 * string and frame tables whole). Ids change; only a finished profile is
 * re-rooted, so no collector holds one. -1 on OOM, the profile unchanged. */
static int compact(pm_profile *p)
{
    uint32_t nf = p->frame_count, ns = p->strings.count;
    uint8_t *used = calloc((size_t)nf + 1, 1);
    pm_id *smap = malloc(((size_t)ns + 1) * sizeof(pm_id));
    pm_id *fmap = malloc(((size_t)nf + 1) * sizeof(pm_id));
    pm_strtab nt;
    pm_strtab_init(&nt);
    int rc = -1;
    if (!used || !smap || !fmap)
        goto out;
    for (uint32_t i = 0; i < p->node_count; i++)
        if (p->nodes[i].frame < nf)
            used[p->nodes[i].frame] = 1;
    for (uint32_t i = 0; i < ns; i++)
        smap[i] = PM_NONE;
#define PM_REMAP(id)                                                                         \
    do {                                                                                     \
        if ((id) < ns && smap[(id)] == PM_NONE) {                                            \
            size_t len_;                                                                     \
            const char *s_ = pm_strtab_get(&p->strings, (id), &len_);                        \
            if ((smap[(id)] = pm_strtab_intern(&nt, s_, len_)) == PM_NONE)                   \
                goto out;                                                                    \
        }                                                                                    \
    } while (0)
    pm_id empty = 0;
    PM_REMAP(empty); /* string 0 stays "" */
    for (uint32_t f = 0; f < nf; f++)
        if (used[f]) {
            PM_REMAP(p->frames[f].name);
            PM_REMAP(p->frames[f].file);
        }
    for (uint32_t t = 0; t < p->thread_count; t++)
        PM_REMAP(p->threads[t].name);
    for (int m = 0; m < p->metric_count; m++) {
        PM_REMAP(p->metrics[m].name);
        PM_REMAP(p->metrics[m].unit);
    }
    for (uint32_t k = 0; k < p->meta_count; k++) {
        PM_REMAP(p->meta[k].key);
        if (p->meta[k].kind == PM_META_STR)
            PM_REMAP(p->meta[k].str);
    }
#undef PM_REMAP
    /* The new frame table, interned against the new strings. */
    pm_frame *oldf = p->frames;
    pm_idmap oldfm = p->frame_map;
    uint32_t oldcap = p->frame_cap;
    pm_strtab olds = p->strings;
    p->frames = NULL;
    p->frame_count = p->frame_cap = 0;
    pm_idmap_init(&p->frame_map);
    p->strings = nt;
    for (uint32_t f = 0; f < nf; f++) {
        fmap[f] = PM_NONE;
        if (!used[f])
            continue;
        fmap[f] = pm_frame_intern(p, smap[oldf[f].name], smap[oldf[f].file], oldf[f].line,
                                  (pm_frame_kind)oldf[f].kind);
        if (fmap[f] == PM_NONE) { /* back to the old tables */
            pm_frames_free(p);
            p->frames = oldf;
            p->frame_count = nf;
            p->frame_cap = oldcap;
            p->frame_map = oldfm;
            p->strings = olds;
            goto out; /* nt (now in no table) is freed below */
        }
    }
    pm_strtab_init(&nt); /* it is p->strings now */
    for (uint32_t i = 0; i < p->node_count; i++)
        if (p->nodes[i].frame < nf)
            p->nodes[i].frame = fmap[p->nodes[i].frame];
    for (uint32_t t = 0; t < p->thread_count; t++)
        p->threads[t].name = smap[p->threads[t].name];
    for (int m = 0; m < p->metric_count; m++) {
        p->metrics[m].name = smap[p->metrics[m].name];
        p->metrics[m].unit = smap[p->metrics[m].unit];
    }
    for (uint32_t k = 0; k < p->meta_count; k++) {
        p->meta[k].key = smap[p->meta[k].key];
        if (p->meta[k].kind == PM_META_STR)
            p->meta[k].str = smap[p->meta[k].str];
    }
    free(oldf);
    pm_idmap_free(&oldfm);
    pm_strtab_free(&olds);
    rc = 0;
out:
    pm_strtab_free(&nt);
    free(used);
    free(smap);
    free(fmap);
    return rc;
}

int pm_profile_reroot(pm_profile *p, const uint8_t *kind, uint64_t runner_ident)
{
    uint32_t nn = p->node_count;
    if (nn <= 1)
        return 0;
    uint8_t *st = malloc(nn);
    pm_id *map = malloc((size_t)nn * sizeof(pm_id));
    pm_id *troot = malloc(((size_t)p->thread_count + 1) * sizeof(pm_id));
    if (!st || !map || !troot) {
        free(st);
        free(map);
        free(troot);
        return -1;
    }
    /* Classify: a child always has a larger id than its parent. */
    st[0] = ST_GONE;
    int any = 0;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *n = &p->nodes[i];
        if (n->frame == PM_NONE) {
            st[i] = ST_CHAIN; /* a thread root */
            continue;
        }
        int k = n->frame < p->frame_count ? kind[n->frame] : PM_REROOT_KEEP;
        uint8_t ps = st[n->parent];
        if (ps == ST_FOLD || (ps == ST_KEEP && k == PM_REROOT_FOLD)) {
            st[i] = ST_FOLD; /* pyrometer's hook, and all it calls: its caller's time */
        } else if (ps == ST_KEEP || ps == ST_GONE) {
            st[i] = ps; /* under a kept node: kept; under a gone one: gone */
        } else if (k == PM_REROOT_DROP) {
            st[i] = ST_GONE;
        } else if (ps == ST_CHAIN) {
            if (k == PM_REROOT_CHAIN || k == PM_REROOT_RUNPY || k == PM_REROOT_RUNPY_EXEC)
                st[i] = ST_CHAIN;
            else if (k == PM_REROOT_ENTRY)
                st[i] = ST_ENTRY;
            else if (k == PM_REROOT_PASS)
                st[i] = ST_PASS;
            else if (p->nodes[n->parent].frame != PM_NONE ||
                     (n->thread < p->thread_count && p->threads[n->thread].ident == runner_ident &&
                      p->frames[n->frame].kind != PM_FRAME_SPECIAL))
                st[i] = ST_GONE; /* the launcher's own work */
            else
                st[i] = ST_KEEP; /* a thread the launcher does not run on */
        } else {
            /* below the call that runs the program (ENTRY) or on the way to it (PASS) */
            if (k == PM_REROOT_ENTRY || k == PM_REROOT_RUNPY_EXEC)
                st[i] = ST_ENTRY;
            else if (k == PM_REROOT_RUNPY || k == PM_REROOT_PASS)
                st[i] = ST_PASS;
            else if (p->frames[n->frame].kind == PM_FRAME_NATIVE)
                st[i] = ST_GONE; /* a builtin the runner calls (runpy's dict.update): the program starts
                                    with its own code, and an exec() on the way is classed ENTRY */
            else
                st[i] = ps == ST_ENTRY ? ST_KEEP : ST_GONE;
        }
        any |= st[i] != ST_KEEP;
    }
    if (!any) {
        free(st);
        free(map);
        free(troot);
        return 0;
    }

    /* Rebuild the trie: the old arrays are read while the new one fills. */
    pm_node *old = p->nodes;
    int64_t *oldv[PM_MAX_METRICS];
    memcpy(oldv, p->values, sizeof oldv);
    pm_idmap oldmap = p->child_map;
    uint32_t oldcap = p->node_cap;
    p->nodes = NULL;
    memset(p->values, 0, sizeof p->values);
    p->node_count = p->node_cap = 0;
    pm_idmap_init(&p->child_map);
    int rc = -1;
    for (int m = 0; m < p->metric_count; m++)
        if (pm_trie_add_column(p, m) != 0)
            goto restore;
    if (pm_trie_reserve_one(p) != 0)
        goto restore;
    pm_trie_append(p, PM_NONE, PM_NONE, 0, PM_NONE);
    for (uint32_t t = 0; t < p->thread_count; t++) {
        if (pm_trie_reserve_one(p) != 0)
            goto restore;
        troot[t] = pm_trie_append(p, PM_ROOT, PM_NONE, 0, t);
    }
    map[0] = PM_ROOT;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *n = &old[i];
        pm_id th = n->thread < p->thread_count ? n->thread : 0;
        if (n->frame == PM_NONE) {
            map[i] = troot[th];
            continue;
        }
        if (st[i] == ST_FOLD) { /* the parent's map is the kept caller */
            map[i] = map[n->parent];
            for (int m = 0; m < p->metric_count; m++)
                if (oldv[m][i])
                    pm_node_add(p, map[i], m, oldv[m][i]);
            continue;
        }
        if (st[i] != ST_KEEP) {
            map[i] = troot[th]; /* for timeline events that stood here */
            continue;
        }
        pm_id parent = st[n->parent] == ST_KEEP ? map[n->parent] : troot[th];
        pm_id id = pm_node_child(p, parent, n->frame, n->line);
        if (id == PM_NONE)
            goto restore;
        map[i] = id;
        for (int m = 0; m < p->metric_count; m++)
            if (oldv[m][i])
                pm_node_add(p, id, m, oldv[m][i]);
    }
    for (uint32_t t = 0; t < p->thread_count; t++)
        p->threads[t].root = troot[t];
    for (size_t e = 0; e < p->event_count; e++)
        if (p->events[e].node < nn)
            p->events[e].node = map[p->events[e].node];
    /* Allocation records go with the values: on a dropped node, they go. */
    for (uint32_t i = 1; i < nn; i++)
        if (st[i] != ST_KEEP && st[i] != ST_FOLD && old[i].frame != PM_NONE)
            map[i] = PM_NONE;
    pm_allocs_remap(p, map, nn);
    free(old);
    for (int m = 0; m < PM_MAX_METRICS; m++)
        free(oldv[m]);
    pm_idmap_free(&oldmap);
    rc = 0;
    compact(p); /* on OOM the unused entries simply stay */
    goto done;
restore: /* out of memory: the profile stays as it was */
    pm_trie_free(p);
    p->nodes = old;
    memcpy(p->values, oldv, sizeof oldv);
    p->child_map = oldmap;
    p->node_count = nn;
    p->node_cap = oldcap;
done:
    free(st);
    free(map);
    free(troot);
    return rc;
}
