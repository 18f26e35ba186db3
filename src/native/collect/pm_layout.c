/* pm_layout.c — fills pm_layout for the interpreter this module runs in.
 *
 * This is the one file that knows CPython's private structures.  Every
 * offset comes from offsetof() on the version's own internal headers, so the
 * numbers are right for the exact build the extension is compiled against.
 * The start-up self-check (pm_selfcheck.c) then proves them on a live stack.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#endif
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"

#include <string.h>

#include "pm_layout.h"
#include "pm_layout_py.h"

/* The state word of a str is a bit-field; find its bits by setting them in
 * a scratch object rather than trusting the declared order. */
static void str_bits(pm_layout *l)
{
    PyASCIIObject o;
    uint32_t word;
    memset(&o, 0, sizeof o);
    o.state.kind = 7;
    memcpy(&word, &o.state, sizeof word);
    l->str_kind_mask = word;
    l->str_kind_shift = __builtin_ctz(word);
    memset(&o, 0, sizeof o);
    o.state.compact = 1;
    memcpy(&word, &o.state, sizeof word);
    l->str_compact_mask = word;
    memset(&o, 0, sizeof o);
    o.state.ascii = 1;
    memcpy(&word, &o.state, sizeof word);
    l->str_ascii_mask = word;
}

static size_t max_end(size_t a, size_t b) { return a > b ? a : b; }

int pm_layout_fill(pm_layout *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->version_hex = PY_VERSION_HEX;
    PyInterpreterState *interp = PyInterpreterState_Main();
    l->interp_addr = (uint64_t)(uintptr_t)interp;

    l->ob_refcnt = offsetof(PyObject, ob_refcnt);
    l->ob_type = offsetof(PyObject, ob_type);
    l->ob_size = offsetof(PyVarObject, ob_size);
    l->code_type = (uint64_t)(uintptr_t)&PyCode_Type;
    l->co_firstlineno = offsetof(PyCodeObject, co_firstlineno);
    l->co_name = offsetof(PyCodeObject, co_name);
    l->co_filename = offsetof(PyCodeObject, co_filename);
    l->bytes_size = offsetof(PyVarObject, ob_size);
    l->bytes_data = offsetof(PyBytesObject, ob_sval);
    l->str_length = offsetof(PyASCIIObject, length);
    l->str_state = offsetof(PyASCIIObject, state);
    l->str_ascii_data = sizeof(PyASCIIObject);
    l->str_compact_data = sizeof(PyCompactUnicodeObject);
    str_bits(l);

    l->ts_next = offsetof(PyThreadState, next);
    l->ts_thread_id = offsetof(PyThreadState, thread_id);
    l->ts_interp = offsetof(PyThreadState, interp);
    l->gil_locked_size = sizeof(int);

#if PY_VERSION_HEX < 0x030B0000
    l->frames_kind = PM_FRAMES_OBJECTS;
    l->interp_tstate_head = offsetof(PyInterpreterState, tstate_head);
    l->ts_native_thread_id = PM_NO_OFFSET;
    l->ts_frame = offsetof(PyThreadState, frame);
    l->cframe_current_frame = PM_NO_OFFSET;
    l->ts_datastack_chunk = PM_NO_OFFSET;
    l->ts_datastack_top = PM_NO_OFFSET;
    l->chunk_data = PM_NO_OFFSET;
    l->chunk_previous = PM_NO_OFFSET;
    l->chunk_top = PM_NO_OFFSET;
    l->fr_back = offsetof(PyFrameObject, f_back);
    l->fr_code = offsetof(PyFrameObject, f_code);
    l->fr_lasti = offsetof(PyFrameObject, f_lasti);
    l->fr_owner = PM_NO_OFFSET;
    l->fr_gen = offsetof(PyFrameObject, f_gen);
#if PY_VERSION_HEX < 0x030A0000
    l->fr_state = offsetof(PyFrameObject, f_executing);
#else
    l->fr_state = offsetof(PyFrameObject, f_state);
#endif
    l->owner_generator = -1;
    l->owner_cstack = -1;
    l->fr_read = max_end(offsetof(PyFrameObject, f_lasti) + sizeof(int), l->fr_state + 1);
    l->co_qualname = PM_NO_OFFSET;
    l->co_code = offsetof(PyCodeObject, co_code);
    l->co_code_adaptive = PM_NO_OFFSET;
    l->co_firsttraceable = PM_NO_OFFSET;
#if PY_VERSION_HEX < 0x030A0000
    l->lasti_kind = PM_LASTI_BYTES;
    l->lines_kind = PM_LINES_LNOTAB;
    l->co_lines = offsetof(PyCodeObject, co_lnotab);
#else
    l->lasti_kind = PM_LASTI_UNITS;
    l->lines_kind = PM_LINES_310;
    l->co_lines = offsetof(PyCodeObject, co_linetable);
#endif
    l->gil_addr = (uint64_t)(uintptr_t)&_PyRuntime.ceval.gil;
#else /* 3.11+ */
    l->frames_kind = PM_FRAMES_INTERP;
    l->lines_kind = PM_LINES_LOCATIONS;
    l->interp_tstate_head = offsetof(PyInterpreterState, threads.head);
    l->ts_native_thread_id = offsetof(PyThreadState, native_thread_id);
    l->ts_datastack_chunk = offsetof(PyThreadState, datastack_chunk);
    l->ts_datastack_top = offsetof(PyThreadState, datastack_top);
    l->chunk_data = offsetof(_PyStackChunk, data);
    l->chunk_previous = offsetof(_PyStackChunk, previous);
    l->chunk_top = offsetof(_PyStackChunk, top);
    l->fr_back = offsetof(_PyInterpreterFrame, previous);
    l->fr_owner = offsetof(_PyInterpreterFrame, owner);
    l->fr_gen = PM_NO_OFFSET;
    l->fr_state = PM_NO_OFFSET;
    l->owner_generator = FRAME_OWNED_BY_GENERATOR;
    l->fr_read = offsetof(_PyInterpreterFrame, localsplus);
    l->co_qualname = offsetof(PyCodeObject, co_qualname);
    l->co_lines = offsetof(PyCodeObject, co_linetable);
    l->co_code = PM_NO_OFFSET;
    l->co_code_adaptive = offsetof(PyCodeObject, co_code_adaptive);
    l->co_firsttraceable = offsetof(PyCodeObject, _co_firsttraceable);
#if PY_VERSION_HEX < 0x030D0000
    l->ts_frame = offsetof(PyThreadState, cframe);
    l->cframe_current_frame = offsetof(_PyCFrame, current_frame);
    l->fr_code = offsetof(_PyInterpreterFrame, f_code);
    l->fr_lasti = offsetof(_PyInterpreterFrame, prev_instr);
    l->lasti_kind = PM_LASTI_PREV_PTR;
#else
    l->ts_frame = offsetof(PyThreadState, current_frame);
    l->cframe_current_frame = PM_NO_OFFSET;
    l->fr_code = offsetof(_PyInterpreterFrame, f_executable);
    l->fr_lasti = offsetof(_PyInterpreterFrame, instr_ptr);
    l->lasti_kind = PM_LASTI_CUR_PTR;
#endif
#if PY_VERSION_HEX >= 0x030C0000
    l->owner_cstack = FRAME_OWNED_BY_CSTACK;
    l->gil_addr = (uint64_t)(uintptr_t)interp->ceval.gil;
#else
    l->owner_cstack = -1;
    l->gil_addr = (uint64_t)(uintptr_t)&_PyRuntime.ceval.gil;
#endif
#endif
    l->gil_locked = offsetof(struct _gil_runtime_state, locked);
    l->gil_last_holder = offsetof(struct _gil_runtime_state, last_holder);

    /* How much of each structure to copy: up to the end of the last field used. */
    size_t ts = 0;
    ts = max_end(ts, l->ts_next + 8);
    ts = max_end(ts, l->ts_thread_id + 8);
    ts = max_end(ts, l->ts_frame + 8);
    ts = max_end(ts, l->ts_interp + 8);
    if (l->ts_native_thread_id != PM_NO_OFFSET)
        ts = max_end(ts, l->ts_native_thread_id + 8);
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

    if (l->gil_addr == 0 || l->interp_addr == 0) {
        snprintf(err, errlen, "cannot locate the interpreter state of Python %d.%d",
                 PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return -1;
    }
    return 0;
}
