/* test_util.c — fixtures shared by the tests. */
#include "test_util.h"

#include <math.h>
#include <string.h>

pm_id tu_frame(pm_profile *p, const char *name, const char *file, int line, pm_frame_kind kind)
{
    return pm_frame_intern(p, pm_str_intern_cstr(p, name), pm_str_intern_cstr(p, file), line, kind);
}

int tu_contains(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

pm_profile *tu_sample_profile(void)
{
    pm_profile *p = pm_profile_new();
    int ms = pm_metric_add(p, "samples", "count");
    int mw = pm_metric_add(p, "wall", "nanoseconds");
    int mc = pm_metric_add(p, "cpu", "nanoseconds");
    pm_meta_set_str(p, "mode", "wall");
    pm_meta_set_num(p, "rate_hz", 1000);
    pm_meta_set_num(p, "duration_s", 1.5);
    pm_meta_set_num(p, "tiny", 1e-300);
    pm_meta_set_num(p, "third", 1.0 / 3.0);
    pm_meta_set_num(p, "nan", NAN);
    pm_meta_set_num(p, "pinf", INFINITY);
    pm_meta_set_num(p, "ninf", -INFINITY);
    pm_meta_set_num(p, "negzero", -0.0);
    pm_meta_set_str(p, "command", "python -c 'print(\"hi\")'\n\t<script>");
    /* A key and a value with bytes a C string cannot hold. */
    pm_meta_set_str_id(p, TU_LIT(p, "k\0ey"), TU_LIT(p, "v\xff\0\xc3"));

    pm_id main_f = tu_frame(p, "<module>", "/app/main.py", 1, PM_FRAME_PYTHON);
    pm_id work = tu_frame(p, "work", "/app/main.py", 10, PM_FRAME_PYTHON);
    pm_id rec = tu_frame(p, "rec", "/app/main.py", 20, PM_FRAME_PYTHON);
    pm_id len_f = tu_frame(p, "len", "", 0, PM_FRAME_NATIVE);
    pm_id idle = tu_frame(p, "<idle>", "", 0, PM_FRAME_SPECIAL);
    /* Invalid UTF-8, a lone-surrogate encoding, a NUL, an escape sequence. */
    pm_id bad = pm_frame_intern(p, TU_LIT(p, "bad\xff\xfe\xed\xa0\x80name\0x"),
                                TU_LIT(p, "/tmp/\x1b[31mred\x1b[0m.py"), -5, PM_FRAME_PYTHON);
    pm_id emoji = tu_frame(p, "caf\xc3\xa9_\xf0\x9f\x94\xa5", "/app/\xe2\x80\xa8sep.py", 7, PM_FRAME_PYTHON);

    pm_id t0 = pm_thread_get(p, 140000000000001ULL, 4242);
    pm_thread_set_name(p, t0, "MainThread", 10);
    pm_id t1 = pm_thread_get(p, UINT64_MAX, 0); /* unnamed, extreme ident */

    pm_id s1[] = {main_f, work, len_f};
    int32_t l1[] = {3, 12, 0};
    pm_id n1 = pm_stack_insert(p, t0, s1, l1, 3);
    pm_id s2[] = {main_f, rec, rec, rec};
    int32_t l2[] = {4, 21, 22, 22};
    pm_id n2 = pm_stack_insert(p, t0, s2, l2, 4);
    pm_id s3[] = {main_f, work};
    int32_t l3[] = {3, 13};
    pm_id n3 = pm_stack_insert(p, t0, s3, l3, 2);
    pm_id s4[] = {idle};
    pm_id n4 = pm_stack_insert(p, t1, s4, NULL, 1);
    pm_id s5[] = {bad, emoji};
    int32_t l5[] = {INT32_MIN, INT32_MAX};
    pm_id n5 = pm_stack_insert(p, t1, s5, l5, 2);

    pm_node_add(p, n1, ms, 3);
    pm_node_add(p, n1, mw, 3000000);
    pm_node_add(p, n1, mc, 2500000);
    pm_node_add(p, n2, ms, 5);
    pm_node_add(p, n2, mw, 5000000);
    pm_node_add(p, n3, ms, 1);
    pm_node_add(p, n3, mw, INT64_MAX);
    pm_node_add(p, n4, ms, 7);
    pm_node_add(p, n4, mw, 7000000);
    pm_node_add(p, n5, ms, 2);
    pm_node_add(p, n5, mc, INT64_MIN);

    pm_timeline_enable(p, 4);
    pm_timeline_add(p, 0, t0, n1);
    pm_timeline_add(p, 1000, t1, n4);
    pm_timeline_add(p, 2000, t0, PM_NONE);
    pm_timeline_add(p, UINT64_MAX, t1, n5);
    pm_timeline_add(p, 5000, t0, n2); /* dropped */
    pm_timeline_add(p, 6000, t0, n3); /* dropped */

    /* Allocations over time: live at the end, freed, extreme values. */
    pm_allocs_enable(p, 1000000);
    pm_alloc_rec recs[] = {{n1, 0, PM_NONE, 524288, 3}, {n3, 0, 2, 64, 1}, {n4, 7, 7, INT64_MAX, INT64_MIN},
                           {n5, PM_NONE - 1, PM_NONE, -1, 0}, {pm_thread_at(p, t0)->root, 2, 9, 1, 1}};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
        pm_allocs_add(p, &recs[i]);
    pm_allocs_normalize(p);
    return p;
}

static int tu_same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

void tu_check_same(pm_t *t, const pm_profile *a, const pm_profile *b)
{
    CHECK(pm_str_count(a) == pm_str_count(b));
    for (uint32_t i = 0; i < pm_str_count(a) && i < pm_str_count(b); i++) {
        size_t la, lb;
        const char *sa = pm_str_get(a, i, &la), *sb = pm_str_get(b, i, &lb);
        CHECKF(la == lb && memcmp(sa, sb, la) == 0, "string %u differs", i);
    }
    CHECK(pm_frame_count(a) == pm_frame_count(b));
    for (uint32_t i = 0; i < pm_frame_count(a) && i < pm_frame_count(b); i++) {
        const pm_frame *x = pm_frame_get(a, i), *y = pm_frame_get(b, i);
        CHECKF(x->name == y->name && x->file == y->file && x->line == y->line && x->kind == y->kind,
               "frame %u differs", i);
    }
    CHECK(pm_metric_count(a) == pm_metric_count(b));
    for (int m = 0; m < pm_metric_count(a) && m < pm_metric_count(b); m++) {
        CHECK(pm_metric_get(a, m)->name == pm_metric_get(b, m)->name);
        CHECK(pm_metric_get(a, m)->unit == pm_metric_get(b, m)->unit);
    }
    CHECK(pm_thread_count(a) == pm_thread_count(b));
    for (uint32_t i = 0; i < pm_thread_count(a) && i < pm_thread_count(b); i++) {
        const pm_thread *x = pm_thread_at(a, i), *y = pm_thread_at(b, i);
        CHECKF(x->ident == y->ident && x->native_id == y->native_id && x->name == y->name && x->root == y->root,
               "thread %u differs", i);
    }
    CHECK(pm_node_count(a) == pm_node_count(b));
    for (uint32_t i = 0; i < pm_node_count(a) && i < pm_node_count(b); i++) {
        const pm_node *x = pm_node_get(a, i), *y = pm_node_get(b, i);
        CHECKF(x->parent == y->parent && x->frame == y->frame && x->line == y->line && x->thread == y->thread &&
                   x->first_child == y->first_child && x->next_sibling == y->next_sibling,
               "node %u differs", i);
        for (int m = 0; m < pm_metric_count(a); m++)
            CHECKF(pm_node_value(a, i, m) == pm_node_value(b, i, m), "value node %u metric %d", i, m);
    }
    size_t ca, cb;
    const pm_event *ea = pm_timeline_events(a, &ca), *eb = pm_timeline_events(b, &cb);
    CHECK(ca == cb);
    CHECK(pm_timeline_capacity(a) == pm_timeline_capacity(b));
    CHECK(pm_timeline_dropped(a) == pm_timeline_dropped(b));
    for (size_t i = 0; i < ca && i < cb; i++)
        CHECKF(ea[i].t_ns == eb[i].t_ns && ea[i].thread == eb[i].thread && ea[i].node == eb[i].node,
               "event %zu differs", i);
    size_t ra, rb;
    const pm_alloc_rec *xa = pm_allocs_records(a, &ra), *xb = pm_allocs_records(b, &rb);
    CHECK(ra == rb && pm_allocs_bucket_ns(a) == pm_allocs_bucket_ns(b));
    for (size_t i = 0; i < ra && i < rb; i++)
        CHECKF(xa[i].node == xb[i].node && xa[i].at == xb[i].at && xa[i].freed == xb[i].freed &&
                   xa[i].bytes == xb[i].bytes && xa[i].count == xb[i].count,
               "allocation record %zu differs", i);
    CHECK(pm_meta_count(a) == pm_meta_count(b));
    for (uint32_t i = 0; i < pm_meta_count(a) && i < pm_meta_count(b); i++) {
        const pm_meta *x = pm_meta_at(a, i), *y = pm_meta_at(b, i);
        CHECKF(x->key == y->key && x->kind == y->kind, "meta %u key/kind differs", i);
        if (x->kind == PM_META_STR)
            CHECKF(x->str == y->str, "meta %u str differs", i);
        else
            CHECKF(tu_same_double(x->num, y->num), "meta %u num differs: %.17g vs %.17g", i, x->num, y->num);
    }
}

void tu_str_layout(pm_layout *L)
{
    L->ob_type = 8;
    L->str_length = 16;
    L->str_state = 32;
    L->str_ascii_data = 40;
    L->str_compact_data = 56;
    L->str_compact_mask = 0x20;
    L->str_ascii_mask = 0x40;
    L->str_kind_mask = 0x1c;
    L->str_kind_shift = 2;
}
