/* pm_bind_layout.c — this interpreter's layout (collect/pm_layout.c), filled
 * once and handed to every collector that reads frames in-process (sampler,
 * memory, eval hook, self-check), with the thread-id offset 3.9/3.10 need and
 * the layout as a dict for the tests. */
#include "pm_bind.h"

#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collect/pm_layout.h"
#include "collect/pm_layout_py.h"
#include "collect/pm_walker.h"

/* Filled at the first use, under the GIL. */
static pm_layout cached;
static int cached_ready;

int pm_bind_layout(void *out)
{
    if (!cached_ready) {
        char err[256];
        if (pm_layout_fill(&cached, err, sizeof err) != 0) {
            PyErr_SetString(PyExc_RuntimeError, err);
            return -1;
        }
        cached_ready = 1;
    }
    memcpy(out, &cached, sizeof cached);
    return 0;
}

long pm_bind_tid_offset(void)
{
    return pm_tid_offset_find((uint64_t)(uintptr_t)pthread_self(), (int)syscall(SYS_gettid));
}

PyObject *pm_bind_layout_dict(const void *layout)
{
    const pm_layout *L = layout;
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
#define PUT(field, make)                                       \
    do {                                                       \
        PyObject *v = make;                                    \
        if (!v || PyDict_SetItemString(d, #field, v) < 0) {    \
            Py_XDECREF(v);                                     \
            Py_DECREF(d);                                      \
            return NULL;                                       \
        }                                                      \
        Py_DECREF(v);                                          \
    } while (0)
#define OFF(field) PUT(field, L->field == PM_NO_OFFSET ? PyLong_FromLong(-1) : PyLong_FromSize_t(L->field))
#define INT(field) PUT(field, PyLong_FromLongLong((long long)L->field))
    INT(frames_kind); INT(lasti_kind); INT(lines_kind);
    OFF(interp_tstate_head); OFF(ts_read); OFF(ts_next); OFF(ts_thread_id); OFF(ts_native_thread_id);
    OFF(ts_interp); OFF(ts_frame); OFF(cframe_current_frame); OFF(ts_datastack_chunk); OFF(ts_datastack_top);
    OFF(ts_base_frame); OFF(chunk_previous); OFF(chunk_top); OFF(chunk_data);
    OFF(fr_read); OFF(fr_back); OFF(fr_code); OFF(fr_lasti); OFF(fr_owner); OFF(fr_gen); OFF(fr_state); OFF(fr_entry);
    PUT(fr_code_mask, PyLong_FromUnsignedLongLong(L->fr_code_mask));
    INT(owner_generator); INT(owner_shim); INT(owner_max);
    OFF(co_read); OFF(ob_refcnt); OFF(ob_type); OFF(ob_size); OFF(co_firstlineno); OFF(co_name); OFF(co_qualname);
    OFF(co_filename); OFF(co_lines); OFF(co_code); OFF(co_code_adaptive); OFF(co_firsttraceable);
    OFF(bytes_size); OFF(bytes_data); OFF(str_length); OFF(str_state); OFF(str_ascii_data); OFF(str_compact_data);
    INT(str_kind_mask); INT(str_compact_mask); INT(str_ascii_mask); INT(str_kind_shift);
    OFF(gil_locked); OFF(gil_last_holder); OFF(gil_locked_size);
    PUT(interp_addr, PyLong_FromUnsignedLongLong(L->interp_addr));
    PUT(gil_addr, PyLong_FromUnsignedLongLong(L->gil_addr));
    PUT(gc_collecting_addr, PyLong_FromUnsignedLongLong(L->gc_collecting_addr));
    PUT(code_type, PyLong_FromUnsignedLongLong(L->code_type));
    return d;
#undef INT
#undef OFF
#undef PUT
}
