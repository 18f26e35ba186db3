/* pm_merge.c — adds one profile's stacks and values into another (the
 * combined profile of a test session, of several notebook cells).  Threads
 * are matched by (ident, OS id), frames by their interned key, metrics by
 * name; the destination's metadata, timeline and allocation records are
 * kept as they are (the source's have their own clock). */
#include <stdlib.h>

#include "pm_model.h"

pm_id pm_str_copy(pm_profile *dst, const pm_profile *src, pm_id s)
{
    size_t n;
    const char *b = pm_str_get(src, s, &n);
    return pm_str_intern(dst, b ? b : "", b ? n : 0);
}

int pm_profile_merge(pm_profile *dst, const pm_profile *src)
{
    int nm = pm_metric_count(src), mmap[PM_MAX_METRICS];
    for (int m = 0; m < nm; m++) {
        const pm_metric *mt = pm_metric_get(src, m);
        mmap[m] = pm_metric_add_id(dst, pm_str_copy(dst, src, mt->name), pm_str_copy(dst, src, mt->unit));
        if (mmap[m] < 0)
            return -1;
    }
    uint32_t nt = pm_thread_count(src), nf = pm_frame_count(src), nn = pm_node_count(src);
    pm_id *tmap = malloc(((size_t)nt + 1) * sizeof(pm_id)), *fmap = malloc(((size_t)nf + 1) * sizeof(pm_id));
    pm_id *map = malloc(((size_t)nn + 1) * sizeof(pm_id));
    int rc = tmap && fmap && map ? 0 : -1;
    for (uint32_t t = 0; rc == 0 && t < nt; t++) {
        const pm_thread *th = pm_thread_at(src, t);
        tmap[t] = pm_thread_get(dst, th->ident, th->native_id);
        size_t len;
        const char *name = pm_str_get(src, th->name, &len);
        if (tmap[t] == PM_NONE || (len && pm_thread_set_name(dst, tmap[t], name, len) < 0))
            rc = -1;
    }
    for (uint32_t f = 0; rc == 0 && f < nf; f++) {
        const pm_frame *fr = pm_frame_get(src, f);
        fmap[f] = pm_frame_intern(dst, pm_str_copy(dst, src, fr->name), pm_str_copy(dst, src, fr->file), fr->line,
                                  (pm_frame_kind)fr->kind);
        if (fmap[f] == PM_NONE)
            rc = -1;
    }
    /* Nodes come after their parent, so one forward pass maps them all. */
    for (uint32_t n = 0; rc == 0 && n < nn; n++) {
        const pm_node *nd = pm_node_get(src, n);
        if (nd->parent == PM_NONE)
            map[n] = PM_ROOT;
        else if (nd->frame == PM_NONE)
            map[n] = pm_thread_at(dst, tmap[nd->thread])->root;
        else
            map[n] = pm_node_child(dst, map[nd->parent], fmap[nd->frame], nd->line);
        if (map[n] == PM_NONE) {
            rc = -1;
            break;
        }
        for (int m = 0; m < nm; m++) {
            int64_t v = pm_node_value(src, n, m);
            if (v)
                pm_node_add(dst, map[n], mmap[m], v);
        }
    }
    free(tmap);
    free(fmap);
    free(map);
    return rc;
}
