/* pm_timeline.c — the bounded, run-length timeline of (t, thread, leaf).
 *
 * Bounded because a long wall-clock run would otherwise grow without limit;
 * what does not fit is counted, so the writers can say the timeline is
 * partial rather than silently short.  Storage grows geometrically up to the
 * capacity instead of being reserved up front: a generous capacity then costs
 * nothing for short runs. */
#include <stdlib.h>
#include <string.h>

#include "pm_internal.h"

#define PM_TIMELINE_FIRST_ALLOC 1024u

int pm_timeline_enable(pm_profile *p, size_t capacity)
{
    if (capacity == 0) {
        pm_timeline_free(p);
        return 0;
    }
    if (capacity < p->event_count)
        return -1;
    p->event_capacity = capacity;
    return 0;
}

static int pm_timeline_grow(pm_profile *p)
{
    size_t n = p->event_alloc ? p->event_alloc * 2 : PM_TIMELINE_FIRST_ALLOC;
    if (n < p->event_alloc || n > p->event_capacity)
        n = p->event_capacity;
    if (n > SIZE_MAX / sizeof(pm_event))
        return -1;
    pm_event *ne = realloc(p->events, n * sizeof(pm_event));
    if (!ne)
        return -1;
    p->events = ne;
    p->event_alloc = n;
    return 0;
}

int pm_timeline_add(pm_profile *p, uint64_t t_ns, pm_id thread, pm_id node)
{
    if (p->event_capacity == 0 || thread >= p->thread_count)
        return -1;
    if (node != PM_NONE && (node >= p->node_count || p->nodes[node].thread != thread))
        return -1;
    if (p->event_count >= p->event_capacity && p->events_keep_newest && p->event_count >= 4) {
        /* A quarter at a time: one memmove per capacity/4 events keeps the
         * cost per event constant, and at least 3/4 of the capacity held. */
        size_t k = p->event_count / 4;
        memmove(p->events, p->events + k, (p->event_count - k) * sizeof(pm_event));
        p->event_count -= k;
        pm_timeline_add_dropped(p, k);
    }
    if (p->event_count >= p->event_capacity ||
        (p->event_count == p->event_alloc && pm_timeline_grow(p) != 0)) {
        p->events_dropped++;
        return 1;
    }
    /* Events arrive in time order but for a few: a sample held back while
     * its thread copies its own stack is charged a tick or two later, at
     * the time it was taken.  It goes to its place (a short move from the
     * end), so every reader sees one time-ordered timeline. */
    size_t at = p->event_count;
    if (at > 0 && p->events[at - 1].t_ns > t_ns) { /* late (rare): in order costs one comparison */
        while (at > 0 && p->events[at - 1].t_ns > t_ns)
            at--;
        memmove(p->events + at + 1, p->events + at, (p->event_count - at) * sizeof(pm_event));
    }
    p->event_count++;
    pm_event *e = &p->events[at];
    e->t_ns = t_ns;
    e->thread = thread;
    e->node = node;
    return 0;
}

const pm_event *pm_timeline_events(const pm_profile *p, size_t *count)
{
    if (count)
        *count = p->event_count;
    return p->events;
}

uint64_t pm_timeline_dropped(const pm_profile *p)
{
    return p->events_dropped;
}

void pm_timeline_add_dropped(pm_profile *p, uint64_t n)
{
    if (p->event_capacity == 0)
        return;
    /* Saturate: a count that wrapped would claim nothing was lost. */
    p->events_dropped = p->events_dropped + n < p->events_dropped ? UINT64_MAX : p->events_dropped + n;
}

size_t pm_timeline_capacity(const pm_profile *p)
{
    return p->event_capacity;
}

void pm_timeline_keep_newest(pm_profile *p, int on)
{
    p->events_keep_newest = on != 0;
}

void pm_timeline_free(pm_profile *p)
{
    free(p->events);
    p->events = NULL;
    p->event_count = p->event_alloc = p->event_capacity = 0;
    p->events_dropped = 0;
}

size_t pm_timeline_memory(const pm_profile *p)
{
    return p->event_alloc * sizeof(pm_event);
}
