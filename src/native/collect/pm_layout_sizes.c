/* pm_layout_sizes.c — how much of each structure a layout reads, from the
 * offsets it holds.  Shared by the layout of our own interpreter
 * (pm_layout.c) and the one built for another process (pm_remote.c), so both
 * copy exactly the fields the walker uses.  No Python.h. */
#include "pm_layout.h"

static size_t max_end(size_t a, size_t b) { return a > b ? a : b; }

void pm_layout_sizes(pm_layout *l)
{
    /* Every frame field read lies in the part copied. */
    if (l->fr_owner != PM_NO_OFFSET)
        l->fr_read = max_end(l->fr_read, l->fr_owner + 1);
    if (l->fr_entry != PM_NO_OFFSET)
        l->fr_read = max_end(l->fr_read, l->fr_entry + 1);
    l->fr_read = max_end(l->fr_read, l->fr_back + 8);
    l->fr_read = max_end(l->fr_read, l->fr_code + 8);
    if (l->lasti_kind >= PM_LASTI_PREV_PTR)
        l->fr_read = max_end(l->fr_read, l->fr_lasti + 8);

    /* How much of each structure to copy: up to the end of the last field used. */
    size_t ts = 0;
    ts = max_end(ts, l->ts_next + 8);
    ts = max_end(ts, l->ts_thread_id + 8);
    ts = max_end(ts, l->ts_frame + 8);
    ts = max_end(ts, l->ts_interp + 8);
    if (l->ts_native_thread_id != PM_NO_OFFSET)
        ts = max_end(ts, l->ts_native_thread_id + 8);
    if (l->ts_base_frame != PM_NO_OFFSET)
        ts = max_end(ts, l->ts_base_frame + 8);
    if (l->ts_datastack_chunk != PM_NO_OFFSET) {
        ts = max_end(ts, l->ts_datastack_chunk + 8);
        ts = max_end(ts, l->ts_datastack_top + 8);
    }
    l->ts_read = ts;

    size_t co = 0;
    co = max_end(co, l->ob_size + 8);
    co = max_end(co, l->co_firstlineno + 4);
    co = max_end(co, l->co_name + 8);
    co = max_end(co, l->co_filename + 8);
    co = max_end(co, l->co_lines + 8);
    if (l->co_qualname != PM_NO_OFFSET)
        co = max_end(co, l->co_qualname + 8);
    if (l->co_code != PM_NO_OFFSET)
        co = max_end(co, l->co_code + 8);
    if (l->co_firsttraceable != PM_NO_OFFSET)
        co = max_end(co, l->co_firsttraceable + 4);
    l->co_read = co;
}
