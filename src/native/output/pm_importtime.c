/* pm_importtime.c — a profile written as a `python -X importtime` log (what
 * tuna and other import-time viewers read): one line per frame in
 * post-order (children first, as the interpreter prints them), indented two
 * spaces per level, self and cumulative in microseconds.  Meant for import
 * profiles (frames = modules, metric "time"); any profile can be written,
 * one stack path per line. */
#include <stdlib.h>

#include "pm_interchange.h"

int pm_write_importtime(const pm_profile *p, int m, pm_buf *out)
{
    if (m < 0)
        m = pm_metric_find(p, "time");
    if (m < 0)
        m = pm_metric_find(p, "wall");
    if (m < 0)
        m = 0;
    int ns = m < pm_metric_count(p) &&
             pm_str_get(p, pm_metric_get(p, m)->unit, NULL)[0] == 'n'; /* "nanoseconds": to µs */
    uint32_t nn = pm_node_count(p);
    int64_t *tot = malloc(((size_t)nn + 1) * sizeof(int64_t));
    if (!tot)
        return -1;
    pm_totals(p, m, tot);
    pm_buf_puts(out, "import time: self [us] | cumulative | imported package\n");
    /* Iterative post-order over first_child/next_sibling; depth 0 = root. */
    pm_id cur = PM_ROOT;
    int depth = 0;
    for (;;) {
        const pm_node *nd = pm_node_get(p, cur);
        if (nd && nd->first_child != PM_NONE) {
            cur = nd->first_child;
            depth++;
            continue;
        }
        for (;;) {
            nd = pm_node_get(p, cur);
            if (depth >= 2 && nd->frame != PM_NONE) { /* below the root and a thread's root */
                const pm_frame *f = pm_frame_get(p, nd->frame);
                int64_t sv = pm_node_value(p, cur, m), tv = tot[cur];
                pm_buf_puts(out, "import time: ");
                pm_buf_printf(out, "%9lld | %10lld | ", (long long)(ns ? (sv + 500) / 1000 : sv),
                              (long long)(ns ? (tv + 500) / 1000 : tv));
                for (int i = 2; i < depth; i++)
                    pm_buf_puts(out, "  ");
                pm_buf_puts(out, pm_str_get(p, f->name, NULL));
                pm_buf_putc(out, '\n');
            }
            if (cur == PM_ROOT) {
                free(tot);
                return out->oom ? -1 : 0;
            }
            if (nd->next_sibling != PM_NONE) {
                cur = nd->next_sibling;
                break;
            }
            cur = nd->parent;
            depth--;
        }
    }
}
