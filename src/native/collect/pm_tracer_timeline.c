/* pm_tracer_timeline.c — timeline mode's ring of the newest events: its
 * growth and wrapping (the hooks' slow path) and its hand-over to the
 * model's timeline.  See pm_tracer.h. */
#include "pm_tracer.h"

#include <stdlib.h>

/* Grown geometrically up to the capacity, as the model's store is: a
 * generous capacity then costs nothing for short runs. */
#define PM_TRACER_TL_FIRST 4096u

int pm_tracer_timeline_room(pm_tracer *t)
{
    if (!t->tl_laps && t->tl_end < t->tl_cap) {
        size_t n = t->tl_end ? t->tl_end * 2 : PM_TRACER_TL_FIRST;
        if (n < t->tl_end || n > t->tl_cap)
            n = t->tl_cap;
        pm_tlevent *ne = n <= SIZE_MAX / sizeof *ne ? realloc(t->tl, n * sizeof *ne) : NULL;
        if (ne) {
            t->tl = ne;
            t->tl_end = n;
            return 0;
        }
        /* Out of memory: what is allocated becomes the ring, so that the
         * newest events are still the ones kept. */
    }
    if (!t->tl_end) {
        t->tl_lost++;
        return -1;
    }
    t->tl_pos = 0;
    t->tl_laps++;
    return 0;
}

/* The model's nanoseconds since the timeline's zero (unsigned: a read
 * before the zero, as a user's timer may give, is the zero). */
static uint64_t tl_ns(const pm_tracer *t, int64_t ticks)
{
    int64_t d = ticks - t->tl_t0;
    return d > 0 ? (uint64_t)((double)d * t->tick_ns) : 0;
}

int pm_tracer_timeline_hand_over(pm_tracer *t)
{
    int rc = 0;
    /* Oldest first: after a wrap, the slots from tl_pos to the end, then
     * those before it (tl_pos at the end: the ring is in order). */
    size_t start = t->tl_laps && t->tl_pos < t->tl_end ? t->tl_pos : 0;
    size_t kept = t->tl_laps ? t->tl_end : t->tl_pos;
    for (size_t k = 0, i = start; k < kept; k++, i = i + 1 == t->tl_end ? 0 : i + 1) {
        const pm_tlevent *e = &t->tl[i];
        if (pm_timeline_add(t->p, tl_ns(t, e->t), e->thread, e->node) < 0)
            rc = -1;
    }
    uint64_t overwritten = t->tl_laps ? (t->tl_laps - 1) * (uint64_t)t->tl_end + t->tl_pos : 0;
    if (overwritten + t->tl_lost)
        pm_timeline_add_dropped(t->p, overwritten + t->tl_lost);
    free(t->tl);
    t->tl = NULL;
    t->tl_pos = t->tl_end = 0;
    t->tl_laps = t->tl_lost = 0;
    return rc;
}
