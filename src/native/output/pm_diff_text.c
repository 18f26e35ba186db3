/* pm_diff_text.c — the terminal table of `pyrometer diff`: the totals, then
 * the functions that got slower and those that got faster, each sorted by
 * the change of their self value (the function that changed, not its
 * callers, whose totals carry the same change, comes first). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pm_diff.h"
#include "pm_text.h"

/* A value in the metric's unit, short ("12.3 ms", "1.5 MiB", "420"). */
static void put_val(pm_buf *b, double v, const char *unit)
{
    char s[48];
    double a = fabs(v);
    if (strcmp(unit, "nanoseconds") == 0)
        snprintf(s, sizeof s, a >= 1e9 ? "%.2f s" : a >= 1e6 ? "%.1f ms" : a >= 1e3 ? "%.1f us" : "%.0f ns",
                 a >= 1e9 ? v / 1e9 : a >= 1e6 ? v / 1e6 : a >= 1e3 ? v / 1e3 : v);
    else if (strcmp(unit, "bytes") == 0)
        snprintf(s, sizeof s, a >= 1048576 ? "%.1f MiB" : a >= 1024 ? "%.1f KiB" : "%.0f B",
                 a >= 1048576 ? v / 1048576 : a >= 1024 ? v / 1024 : v);
    else
        snprintf(s, sizeof s, a >= 100 || a == floor(a) ? "%.0f" : "%.2f", v);
    pm_buf_puts(b, s);
}

static void put_change(pm_buf *b, double base, double nw, int sig, const char *unit)
{
    size_t start = b->len;
    put_val(b, base, unit);
    pm_buf_puts(b, " -> ");
    put_val(b, nw, unit);
    if (base > 0)
        pm_buf_printf(b, " (%+.0f%%)", 100.0 * (nw - base) / base);
    else if (nw > 0)
        pm_buf_puts(b, " (new)");
    if (!sig)
        pm_buf_puts(b, " ~");
    size_t w = b->len - start;
    pm_text_spaces(b, w < 34 ? 34 - w : 1);
}

static int direction(const pm_diff_row *r)
{
    if (r->sig_self)
        return r->new_self > r->base_self ? 1 : -1;
    if (r->sig_total)
        return r->new_total > r->base_total ? 1 : -1;
    return 0;
}

void pm_diff_write_text(const pm_diff *d, int top, pm_buf *out)
{
    static const char *const norm[] = {"none", "total", "samples"};
    pm_buf_printf(out, "pyrometer diff: %s (%s), %zu BASE run%s, %zu NEW run%s, normalize %s\n", d->metric, d->unit,
                  d->nbase, d->nbase == 1 ? "" : "s", d->nnew, d->nnew == 1 ? "" : "s", norm[d->normalize]);
    pm_buf_puts(out, "total: ");
    put_change(out, d->base_total, d->new_total, fabs(d->new_total - d->base_total) > d->noise_total, d->unit);
    pm_buf_puts(out, "(noise: ");
    put_val(out, d->noise_total, d->unit);
    pm_buf_printf(out, ")\nreported: changes beyond the runs' noise, >= %g%% of the base value and >= %g%% of the "
                       "base total; ~ marks a figure within them\n",
                  d->threshold, d->min_share);
    for (int dir = 1; dir >= -1; dir -= 2) {
        int shown = 0;
        for (size_t i = 0; i < d->n; i++) {
            const pm_diff_row *r = &d->rows[i];
            if (direction(r) != dir)
                continue;
            if (shown == top) {
                pm_buf_puts(out, "  ...\n");
                break;
            }
            if (!shown++)
                pm_buf_printf(out, "\n%s\n  %-34s%-34s%s\n", dir > 0 ? "slower" : "faster", "self", "total",
                              "function");
            pm_buf_puts(out, "  ");
            put_change(out, r->base_self, r->new_self, r->sig_self, d->unit);
            put_change(out, r->base_total, r->new_total, r->sig_total, d->unit);
            pm_text_put(out, r->name, strlen(r->name), 60, 0);
            if (*r->file)
                pm_buf_printf(out, "  %s:%d", r->file, r->line);
            pm_buf_putc(out, '\n');
        }
        if (!shown)
            pm_buf_printf(out, "\n%s: none beyond the noise\n", dir > 0 ? "slower" : "faster");
    }
}
