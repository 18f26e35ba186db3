/* test_tracer.c — timeline mode of the calls tracer: its events go to a ring
 * of the newest tl_cap, handed over to the model oldest first, in time
 * order, with the overwritten ones counted as dropped; a stack's events
 * name its innermost open call (none after the outermost return). */
#include <stdint.h>

#include "collect/pm_tracer.h"
#include "pm_test.h"
#include "test_util.h"

/* A tracer in timeline mode on a fresh profile (1 ns a tick, zero at 0). */
static pm_tracer *tl_tracer(pm_profile *p, size_t cap)
{
    pm_timeline_enable(p, 1u << 20);
    pm_timeline_keep_newest(p, 1);
    pm_tracer *tr = pm_tracer_new(p);
    tr->timeline = 1;
    tr->tl_cap = cap;
    tr->tl_t0 = 0;
    return tr;
}

/* n calls of f from the thread's root, each returning at once: 2n events,
 * at times 1, 2, ... (the call's event names f's node, the return's none). */
static pm_id calls(pm_tracer *tr, pm_tthread *ts, pm_id f, int n, int64_t *clock)
{
    static int key;
    pm_id node = PM_NONE;
    for (int i = 0; i < n; i++) {
        pm_tracer_enter(tr, ts, &key, f, ++*clock);
        node = ts->stack[ts->depth - 1].node;
        pm_tracer_leave(tr, ts, ++*clock);
    }
    return node;
}

static void test_tracer_timeline_ring(pm_t *t)
{
    /* Under, at, and well past the capacity, through the ring's growth. */
    const struct {
        size_t cap;
        int calls;
    } cases[] = {{10, 3}, {10, 5}, {10, 6}, {10, 1000}, {10000, 3000}, {10000, 12345}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pm_profile *p = pm_profile_new();
        pm_tracer *tr = tl_tracer(p, cases[c].cap);
        pm_tthread *ts = pm_tracer_thread(tr, 1, 1);
        pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
        int64_t clock = 0;
        pm_id node = calls(tr, ts, f, cases[c].calls, &clock);
        CHECK(pm_tracer_timeline_hand_over(tr) == 0);
        uint64_t total = 2 * (uint64_t)cases[c].calls;
        size_t want = total < cases[c].cap ? total : cases[c].cap, n;
        const pm_event *ev = pm_timeline_events(p, &n);
        CHECKF(n == want, "cap %zu: %zu events", cases[c].cap, n);
        CHECK(pm_timeline_dropped(p) == total - want);
        for (size_t i = 0; i < n; i++) { /* the newest, oldest first */
            uint64_t at = total - want + 1 + i;
            CHECK(ev[i].t_ns == at && ev[i].thread == ts->thread);
            CHECK(ev[i].node == (at % 2 ? node : PM_NONE));
        }
        CHECK(tr->tl == NULL && tr->tl_pos == 0); /* emptied */
        pm_tracer_free(tr);
        pm_profile_free(p);
    }
}

static void test_tracer_timeline_hand_over_twice(pm_t *t)
{
    /* A second session of the same tracer adds to what the first handed
     * over; a clock read before the zero is the zero; ticks become ns. */
    pm_profile *p = pm_profile_new();
    pm_tracer *tr = tl_tracer(p, 4);
    tr->tick_ns = 2.0;
    tr->tl_t0 = 10;
    pm_tthread *ts = pm_tracer_thread(tr, 1, 1);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON);
    int64_t clock = 8;
    calls(tr, ts, f, 1, &clock); /* at 9 and 10: both at the zero */
    CHECK(pm_tracer_timeline_hand_over(tr) == 0);
    CHECK(pm_tracer_timeline_hand_over(tr) == 0); /* nothing new */
    calls(tr, ts, f, 3, &clock); /* 11 .. 16: the last 4 kept */
    CHECK(pm_tracer_timeline_hand_over(tr) == 0);
    size_t n;
    const pm_event *ev = pm_timeline_events(p, &n);
    CHECK(n == 6 && pm_timeline_dropped(p) == 2);
    const uint64_t want[] = {0, 0, 6, 8, 10, 12};
    for (size_t i = 0; i < n && i < 6; i++)
        CHECKF(ev[i].t_ns == want[i], "event %zu at %llu", i, (unsigned long long)ev[i].t_ns);
    pm_tracer_free(tr);
    pm_profile_free(p);
}

static void test_tracer_timeline_nested(pm_t *t)
{
    /* g called from f: f's node, g's node, f's node again, then none. */
    pm_profile *p = pm_profile_new();
    pm_tracer *tr = tl_tracer(p, 100);
    pm_tthread *ts = pm_tracer_thread(tr, 1, 1);
    pm_id f = tu_frame(p, "f", "f.py", 1, PM_FRAME_PYTHON), g = tu_frame(p, "g", "g.py", 1, PM_FRAME_PYTHON);
    static int kf, kg;
    pm_tracer_enter(tr, ts, &kf, f, 1);
    pm_id nf = ts->stack[0].node;
    pm_tracer_enter(tr, ts, &kg, g, 2);
    pm_id ng = ts->stack[1].node;
    pm_tracer_leave(tr, ts, 3);
    pm_tracer_leave(tr, ts, 4);
    CHECK(pm_tracer_timeline_hand_over(tr) == 0);
    size_t n;
    const pm_event *ev = pm_timeline_events(p, &n);
    CHECK(n == 4 && pm_timeline_dropped(p) == 0);
    if (n == 4)
        CHECK(ev[0].node == nf && ev[1].node == ng && ev[2].node == nf && ev[3].node == PM_NONE);
    pm_tracer_free(tr);
    pm_profile_free(p);
}

const pm_test pm_tests_tracer[] = {
    {"tracer_timeline_ring", test_tracer_timeline_ring},
    {"tracer_timeline_hand_over_twice", test_tracer_timeline_hand_over_twice},
    {"tracer_timeline_nested", test_tracer_timeline_nested},
    {NULL, NULL},
};
