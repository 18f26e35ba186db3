/* test_remote_debug.c — another process's _Py_DebugOffsets
 * (collect/pm_remote_debug.c) on made-up memory holding exactly one
 * version's table: word i holds 1000 + i.  Each field must come from the
 * word the version's own header puts it at (the indices below are
 * offsetof(_Py_DebugOffsets, field) / 8 from 3.13.0's, 3.14.10's and 3.15.2's
 * internal headers), words a version lacks are absent, and nothing past the
 * table is read: the memory ends where it does, so a longer read fails. */
#include <string.h>
#include <unistd.h>

#include "collect/pm_remote_debug.h"
#include "pm_test.h"

#define BASE 0x30000000ull

typedef struct {
    int minor;
    int words; /* up to and including gc.collecting */
    int free_threaded, threads_head, thread_id, frame_owner, ma_values, ascii_size, gc_collecting;
    int base_frame, compact_size; /* 3.15, else -1 */
} expected;

static const expected E[] = {
    {13, 73, 2, 9, 24, 33, 58, 70, 72, -1, -1},
    {14, 83, 2, 9, 27, 36, 68, 80, 82, -1, -1},
    {15, 96, 2, 9, 30, 44, 80, 92, 95, 27, 93},
};

static void test_versions(pm_t *t)
{
    for (size_t v = 0; v < sizeof E / sizeof E[0]; v++) {
        const expected *e = &E[v];
        uint64_t mem[128];
        for (int i = 0; i < 128; i++)
            mem[i] = 1000 + (uint64_t)i;
        pm_snap_region reg = {BASE, (uint32_t)(e->words * 8), 0};
        pm_snapshot snap = {(const uint8_t *)mem, &reg, 1};
        pm_space sp;
        pm_space_init(&sp, getpid());
        sp.snap = &snap;
        uint64_t d[PM_DO_COUNT];
        CHECKF(pm_remote_debug_read(&sp, BASE, e->minor, d) == 0, "3.%d: the table is not read", e->minor);
        CHECK(d[PM_DO_free_threaded] == 1000u + e->free_threaded);
        CHECK(d[PM_DO_is_threads_head] == 1000u + e->threads_head);
        CHECKF(d[PM_DO_ts_thread_id] == 1000u + e->thread_id, "3.%d thread_id from word %d", e->minor,
               (int)(d[PM_DO_ts_thread_id] - 1000));
        CHECK(d[PM_DO_fr_owner] == 1000u + e->frame_owner);
        CHECK(d[PM_DO_dict_ma_values] == 1000u + e->ma_values);
        CHECK(d[PM_DO_str_ascii_size] == 1000u + e->ascii_size);
        CHECKF(d[PM_DO_gc_collecting] == 1000u + e->gc_collecting, "3.%d gc.collecting from word %d", e->minor,
               (int)(d[PM_DO_gc_collecting] - 1000));
        CHECK(d[PM_DO_ts_base_frame] == (e->base_frame < 0 ? PM_DO_ABSENT : 1000u + e->base_frame));
        CHECK(d[PM_DO_str_compact_size] == (e->compact_size < 0 ? PM_DO_ABSENT : 1000u + e->compact_size));
        /* One word short of the table: the read fails rather than run past. */
        reg.len -= 8;
        CHECKF(pm_remote_debug_read(&sp, BASE, e->minor, d) != 0, "3.%d: a cut table read", e->minor);
    }
}

const pm_test pm_tests_remote_debug[] = {
    {"remote_debug/versions", test_versions},
    {NULL, NULL},
};
