/* pm_extract.c — a new profile made of some of another's stacks: the leaves
 * a collector charged to one part of the program's work (one web request),
 * with the values it charged there.  Frames, strings, threads and metric
 * columns are copied as they are met, so the part stands on its own and is
 * written by every writer like any profile (whole profiles merge in
 * pm_merge.c).  Uses only the public accessors. */
#include <stdlib.h>

#include "pm_model.h"

static pm_id copy_frame(pm_profile *dst, const pm_profile *src, pm_id frame)
{
    const pm_frame *f = pm_frame_get(src, frame);
    if (!f)
        return PM_NONE;
    pm_id name = pm_str_copy(dst, src, f->name), file = pm_str_copy(dst, src, f->file);
    if (name == PM_NONE || file == PM_NONE)
        return PM_NONE;
    return pm_frame_intern(dst, name, file, f->line, (pm_frame_kind)f->kind);
}

static pm_id copy_thread(pm_profile *dst, const pm_profile *src, pm_id thread)
{
    const pm_thread *t = pm_thread_at(src, thread);
    if (!t)
        return PM_NONE;
    pm_id out = pm_thread_get(dst, t->ident, t->native_id);
    size_t len = 0;
    const char *name = pm_str_get(src, t->name, &len);
    if (out != PM_NONE && name && len)
        pm_thread_set_name(dst, out, name, len);
    return out;
}

int pm_profile_add_stacks(pm_profile *dst, const pm_profile *src, const pm_id *leaves, const int64_t *values,
                          size_t n)
{
    pm_id *frames = malloc(sizeof *frames * (pm_node_count(src) + 1));
    int32_t *lines = malloc(sizeof *lines * (pm_node_count(src) + 1));
    int ok = frames && lines;
    int nm = pm_metric_count(src), col[PM_MAX_METRICS];
    /* Columns by name: the same metric lands in the same column. */
    for (int m = 0; ok && m < nm; m++) {
        const pm_metric *mt = pm_metric_get(src, m);
        ok = (col[m] = pm_metric_add_id(dst, pm_str_copy(dst, src, mt->name), pm_str_copy(dst, src, mt->unit))) >= 0;
    }
    for (size_t i = 0; ok && i < n; i++) {
        const pm_node *leaf = pm_node_get(src, leaves[i]);
        if (!leaf || leaf->thread == PM_NONE)
            continue; /* the root, or not a node of src: nothing to charge */
        /* The path leaf to thread root, reversed into outermost first. */
        size_t depth = 0;
        for (const pm_node *x = leaf; x && x->frame != PM_NONE; x = pm_node_get(src, x->parent)) {
            frames[depth] = x->frame;
            lines[depth++] = x->line;
        }
        for (size_t a = 0, b = depth; a < b / 2; a++) {
            pm_id f = frames[a];
            frames[a] = frames[b - 1 - a];
            frames[b - 1 - a] = f;
            int32_t l = lines[a];
            lines[a] = lines[b - 1 - a];
            lines[b - 1 - a] = l;
        }
        for (size_t d = 0; ok && d < depth; d++)
            ok = (frames[d] = copy_frame(dst, src, frames[d])) != PM_NONE;
        pm_id thread = ok ? copy_thread(dst, src, leaf->thread) : PM_NONE;
        pm_id at = thread != PM_NONE ? pm_stack_insert(dst, thread, frames, lines, depth) : PM_NONE;
        ok = at != PM_NONE;
        for (int m = 0; ok && m < nm; m++)
            pm_node_add(dst, at, col[m], values[i * PM_MAX_METRICS + (size_t)m]);
    }
    free(frames);
    free(lines);
    return ok ? 0 : -1;
}

pm_profile *pm_profile_extract(const pm_profile *src, const pm_id *leaves, const int64_t *values, size_t n)
{
    pm_profile *dst = pm_profile_new();
    if (dst && pm_profile_add_stacks(dst, src, leaves, values, n) != 0) {
        pm_profile_free(dst);
        return NULL;
    }
    return dst;
}
