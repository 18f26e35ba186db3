/* pm_diff_flame.c — the differential profile: every run's stacks merged into
 * one thread by (function, file, first line) paths, NEW's mean values under
 * the compared metric and BASE's mean values on the same paths under
 * "base:<metric>".  The viewer draws NEW's shape (a path only BASE has gets
 * no width) and colours each frame by its change (meta "diff_base_metric"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_diff.h"

typedef struct {
    double *v[2]; /* per node of the merged profile: NEW, BASE */
    size_t cap;
} pm_dacc;

static int acc_room(pm_dacc *a, size_t n)
{
    if (n <= a->cap)
        return 0;
    size_t nc = a->cap ? a->cap : 1024;
    while (nc < n)
        nc *= 2;
    for (int s = 0; s < 2; s++) {
        double *v = realloc(a->v[s], nc * sizeof(double));
        if (!v)
            return -1;
        memset(v + a->cap, 0, (nc - a->cap) * sizeof(double));
        a->v[s] = v;
    }
    a->cap = nc;
    return 0;
}

/* Adds one run's values (times w) to side s of the merged profile. */
static int merge_run(pm_profile *q, pm_id qroot, const pm_profile *p, int m, double w, int s, pm_dacc *a)
{
    uint32_t nn = pm_node_count(p), nf = pm_frame_count(p);
    pm_id *map = malloc(((size_t)nn + 1) * sizeof(pm_id)), *fmap = malloc(((size_t)nf + 1) * sizeof(pm_id));
    if (!map || !fmap) {
        free(map);
        free(fmap);
        return -1;
    }
    for (uint32_t f = 0; f < nf; f++)
        fmap[f] = PM_NONE;
    int rc = 0;
    for (uint32_t n = 0; n < nn && rc == 0; n++) {
        const pm_node *nd = pm_node_get(p, n);
        if (nd->parent == PM_NONE || nd->frame == PM_NONE) { /* the root, a thread's root */
            map[n] = qroot;
        } else {
            if (fmap[nd->frame] == PM_NONE) {
                const pm_frame *fr = pm_frame_get(p, nd->frame);
                fmap[nd->frame] = pm_frame_intern(q, pm_str_copy(q, p, fr->name), pm_str_copy(q, p, fr->file), fr->line,
                                                  (pm_frame_kind)fr->kind);
            }
            map[n] = fmap[nd->frame] == PM_NONE ? PM_NONE : pm_node_child(q, map[nd->parent], fmap[nd->frame], 0);
            if (map[n] == PM_NONE) {
                rc = -1;
                break;
            }
        }
        int64_t v = pm_node_value(p, n, m);
        if (v) {
            if (acc_room(a, (size_t)map[n] + 1) < 0) {
                rc = -1;
                break;
            }
            a->v[s][map[n]] += (double)v * w;
        }
    }
    free(map);
    free(fmap);
    return rc;
}

int pm_diff_flame(pm_profile *const *base, size_t nb, const double *sb, pm_profile *const *nw, size_t nn,
                  const double *sn, const char *metric, pm_diff *d)
{
    pm_profile *q = pm_profile_new();
    pm_dacc a = {{NULL, NULL}, 0};
    if (!q)
        return -1;
    char bname[96];
    snprintf(bname, sizeof bname, "base:%s", metric);
    int m_new = pm_metric_add(q, metric, d->unit), m_base = pm_metric_add(q, bname, d->unit);
    pm_id th = pm_thread_get(q, 1, 0);
    int rc = m_new < 0 || m_base < 0 || th == PM_NONE ? -1 : 0;
    if (rc == 0)
        rc = pm_thread_set_name(q, th, "BASE -> NEW", 11);
    pm_id root = rc == 0 ? pm_thread_at(q, th)->root : PM_NONE;
    for (size_t r = 0; rc == 0 && r < nn; r++)
        rc = merge_run(q, root, nw[r], pm_metric_find(nw[r], metric), sn[r] / (double)nn, 0, &a);
    for (size_t r = 0; rc == 0 && r < nb; r++)
        rc = merge_run(q, root, base[r], pm_metric_find(base[r], metric), sb[r] / (double)nb, 1, &a);
    uint32_t qn = pm_node_count(q);
    if (rc == 0 && acc_room(&a, qn) < 0)
        rc = -1;
    for (uint32_t n = 0; rc == 0 && n < qn; n++) {
        pm_node_add(q, n, m_new, (int64_t)llround(a.v[0][n]));
        pm_node_add(q, n, m_base, (int64_t)llround(a.v[1][n]));
    }
    if (rc == 0) {
        rc |= pm_meta_set_str(q, "mode", d->mode);
        rc |= pm_meta_set_str(q, "diff_metric", metric);
        rc |= pm_meta_set_str(q, "diff_base_metric", bname);
        rc |= pm_meta_set_num(q, "diff_threshold_pct", d->threshold);
        rc |= pm_meta_set_num(q, "diff_base_runs", (double)nb);
        rc |= pm_meta_set_num(q, "diff_new_runs", (double)nn);
        rc |= pm_meta_set_num(q, "diff_base_total", d->base_total);
        rc |= pm_meta_set_num(q, "diff_new_total", d->new_total);
    }
    free(a.v[0]);
    free(a.v[1]);
    if (rc != 0) {
        pm_profile_free(q);
        return -1;
    }
    d->flame = q;
    return 0;
}
