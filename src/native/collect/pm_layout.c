/* pm_layout.c — fills pm_layout for the interpreter this module runs in.
 *
 * This is the one file that knows CPython's private structures.  Every
 * offset comes from offsetof() on the version's own internal headers, so the
 * numbers are right for the exact build the extension is compiled against.
 * On 3.13+ the running interpreter also publishes the offsets debuggers need
 * (_Py_DebugOffsets, at the start of _PyRuntime); they describe the binary
 * actually running, which may be a later patch release than the headers, so
 * every field they cover is checked against them and theirs win.  The
 * start-up self-check (pm_bind_selfcheck.c) then proves the whole layout on a
 * live stack.
 *
 * What changed where (each from the version's own headers):
 *   3.11  frames move to per-thread data stack chunks (_PyInterpreterFrame)
 *   3.12  C-stack shim frames (FRAME_OWNED_BY_CSTACK); the GIL per interpreter
 *   3.13  no cframe: current_frame in the thread state; f_code -> f_executable,
 *         prev_instr -> instr_ptr; _Py_DebugOffsets
 *   3.14  f_executable is a tagged _PyStackRef; entry frames owned by
 *         FRAME_OWNED_BY_INTERPRETER (3), CSTACK moves to 4; the frame
 *         structs move to pycore_interpframe_structs.h
 *   3.15  FRAME_OWNED_BY_CSTACK is gone: INTERPRETER (3) is the only owner
 *         that is not Python code
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe_structs.h" /* _PyInterpreterFrame, enum _frameowner */
/* Only for Py_TAG_BITS; its inline helpers leave parameters unused in a
 * GIL build, which -Wextra -Werror would reject in CPython's code, not ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "internal/pycore_stackref.h"
#pragma GCC diagnostic pop
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

#if PY_VERSION_HEX >= 0x030D0000
/* One field of the layout that _Py_DebugOffsets also describes: where the
 * headers put it, where the running interpreter says it is, and the size of
 * the structure it lies in (published too, so a nonsense value is caught). */
typedef struct {
    size_t *mine;
    uint64_t theirs, limit;
    const char *name;
} published;

static void note(pm_layout *l, const char *fmt, const char *name, unsigned long long a, unsigned long long b)
{
    if (!l->debug_offsets_note[0])
        snprintf(l->debug_offsets_note, sizeof l->debug_offsets_note, fmt, name, a, b);
}

/* Checks every field d covers against the headers' offsets.  All published
 * values must lie inside their (published) structures, else the table is not
 * what these headers declare (its own layout changed) and nothing is taken
 * from it; otherwise a field that differs is taken from it: it describes the
 * binary that runs, the headers only the one built against. */
static void check_debug_offsets(pm_layout *l, const _Py_DebugOffsets *d, PyInterpreterState *interp)
{
    l->debug_offsets = PM_DEBUG_OFFSETS_UNUSABLE;
    if (memcmp(d->cookie, _Py_Debug_Cookie, sizeof d->cookie) != 0) {
        snprintf(l->debug_offsets_note, sizeof l->debug_offsets_note, "no _Py_DebugOffsets cookie in _PyRuntime");
        return;
    }
    if ((d->version >> 16) != ((uint64_t)PY_VERSION_HEX >> 16)) {
        snprintf(l->debug_offsets_note, sizeof l->debug_offsets_note,
                 "_Py_DebugOffsets are for Python %d.%d, built for %d.%d", (int)(d->version >> 24) & 0xff,
                 (int)(d->version >> 16) & 0xff, PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return;
    }
    if (d->free_threaded) {
        snprintf(l->debug_offsets_note, sizeof l->debug_offsets_note, "_Py_DebugOffsets describe a free-threaded build");
        return;
    }
    /* The GIL's fields are published as offsets from the interpreter state
     * (which embeds its own GIL); ours are from the GIL structure. */
    size_t gil_locked = 0, gil_holder = 0;
    uint64_t gil_base = d->interpreter_state.gil_runtime_state;
    const published f[] = {
        {&l->interp_tstate_head, d->interpreter_state.threads_head, d->interpreter_state.size, "threads.head"},
        {&gil_locked, d->interpreter_state.gil_runtime_state_locked, d->interpreter_state.size, "_gil.locked"},
        {&gil_holder, d->interpreter_state.gil_runtime_state_holder, d->interpreter_state.size, "_gil.last_holder"},
        {&l->ts_next, d->thread_state.next, d->thread_state.size, "PyThreadState.next"},
        {&l->ts_interp, d->thread_state.interp, d->thread_state.size, "PyThreadState.interp"},
        {&l->ts_frame, d->thread_state.current_frame, d->thread_state.size, "PyThreadState.current_frame"},
        {&l->ts_thread_id, d->thread_state.thread_id, d->thread_state.size, "PyThreadState.thread_id"},
        {&l->ts_native_thread_id, d->thread_state.native_thread_id, d->thread_state.size,
         "PyThreadState.native_thread_id"},
        {&l->ts_datastack_chunk, d->thread_state.datastack_chunk, d->thread_state.size,
         "PyThreadState.datastack_chunk"},
        {&l->fr_back, d->interpreter_frame.previous, d->interpreter_frame.size, "frame previous"},
        {&l->fr_code, d->interpreter_frame.executable, d->interpreter_frame.size, "frame f_executable"},
        {&l->fr_lasti, d->interpreter_frame.instr_ptr, d->interpreter_frame.size, "frame instr_ptr"},
        {&l->fr_owner, d->interpreter_frame.owner, d->interpreter_frame.size, "frame owner"},
        {&l->fr_read, d->interpreter_frame.localsplus, d->interpreter_frame.size + 1, "frame localsplus"},
        {&l->co_filename, d->code_object.filename, d->code_object.size, "co_filename"},
        {&l->co_name, d->code_object.name, d->code_object.size, "co_name"},
        {&l->co_qualname, d->code_object.qualname, d->code_object.size, "co_qualname"},
        {&l->co_lines, d->code_object.linetable, d->code_object.size, "co_linetable"},
        {&l->co_firstlineno, d->code_object.firstlineno, d->code_object.size, "co_firstlineno"},
        {&l->co_code_adaptive, d->code_object.co_code_adaptive, d->code_object.size + 1, "co_code_adaptive"},
        {&l->ob_type, d->pyobject.ob_type, d->pyobject.size, "ob_type"},
        {&l->bytes_size, d->bytes_object.ob_size, d->bytes_object.size, "bytes ob_size"},
        {&l->bytes_data, d->bytes_object.ob_sval, d->bytes_object.size, "bytes ob_sval"},
        {&l->str_state, d->unicode_object.state, d->unicode_object.size, "str state"},
        {&l->str_length, d->unicode_object.length, d->unicode_object.size, "str length"},
        {&l->str_ascii_data, d->unicode_object.asciiobject_size, d->unicode_object.size + 1, "sizeof(PyASCIIObject)"},
#if PY_VERSION_HEX >= 0x030F0000
        {&l->ts_base_frame, d->thread_state.base_frame, d->thread_state.size, "PyThreadState.base_frame"},
        {&l->str_compact_data, d->unicode_object.compactunicodeobject_size, d->unicode_object.size + 1,
         "sizeof(PyCompactUnicodeObject)"},
#endif
    };
    size_t n = sizeof f / sizeof f[0];
    gil_locked = (size_t)(gil_base + l->gil_locked);
    gil_holder = (size_t)(gil_base + l->gil_last_holder);
    for (size_t i = 0; i < n; i++) {
        if (f[i].limit == 0 || f[i].limit > (1u << 24) || f[i].theirs >= f[i].limit) {
            note(l, "_Py_DebugOffsets: %s at %llu, outside its structure (%llu bytes)", f[i].name, f[i].theirs,
                 f[i].limit);
            return;
        }
    }
    /* The GIL the interpreter uses: the pointer it publishes the place of. */
    if (d->interpreter_state.ceval_gil + 8 > d->interpreter_state.size) {
        note(l, "_Py_DebugOffsets: %s at %llu, outside its structure (%llu bytes)", "ceval.gil",
             d->interpreter_state.ceval_gil, d->interpreter_state.size);
        return;
    }
    l->debug_offsets = PM_DEBUG_OFFSETS_AGREE;
    l->debug_offsets_fields = (int)n + 1;
    uint64_t gil;
    memcpy(&gil, (const char *)interp + d->interpreter_state.ceval_gil, sizeof gil);
    if (gil != l->gil_addr) {
        note(l, "%s: headers say %#llx, the interpreter %#llx", "ceval.gil", l->gil_addr, gil);
        l->gil_addr = gil;
        l->debug_offsets_adopted++;
    }
    for (size_t i = 0; i < n; i++) {
        if (*f[i].mine == f[i].theirs)
            continue;
        note(l, "%s: headers say offset %llu, the interpreter %llu", f[i].name, *f[i].mine, f[i].theirs);
        *f[i].mine = (size_t)f[i].theirs;
        l->debug_offsets_adopted++;
    }
    /* Back to offsets inside the GIL structure (the interpreter's own GIL:
     * the main interpreter always has one). */
    if (gil_locked < gil_base || gil_holder < gil_base) {
        l->debug_offsets = PM_DEBUG_OFFSETS_UNUSABLE;
        note(l, "_Py_DebugOffsets: %s below _gil (%llu < %llu)", "_gil.locked", gil_locked, gil_base);
        return;
    }
    l->gil_locked = (size_t)(gil_locked - gil_base);
    l->gil_last_holder = (size_t)(gil_holder - gil_base);
    if (l->debug_offsets_adopted)
        l->debug_offsets = PM_DEBUG_OFFSETS_ADOPTED;
}
#endif

int pm_layout_fill(pm_layout *l, char *err, size_t errlen)
{
    return pm_layout_fill_altered(l, PM_ALTER_NONE, err, errlen);
}

int pm_layout_fill_altered(pm_layout *l, int alter, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->version_hex = PY_VERSION_HEX;
    PyInterpreterState *interp = PyInterpreterState_Main();
    l->interp_addr = (uint64_t)(uintptr_t)interp;
    l->gc_collecting_addr = (uint64_t)(uintptr_t)&interp->gc.collecting;

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
    l->fr_code_mask = ~(uint64_t)0;

#if PY_VERSION_HEX < 0x030B0000
    l->frames_kind = PM_FRAMES_OBJECTS;
    l->interp_tstate_head = offsetof(PyInterpreterState, tstate_head);
    l->ts_native_thread_id = PM_NO_OFFSET;
    l->ts_base_frame = PM_NO_OFFSET;
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
    l->fr_entry = PM_NO_OFFSET;
    l->fr_gen = offsetof(PyFrameObject, f_gen);
#if PY_VERSION_HEX < 0x030A0000
    l->fr_state = offsetof(PyFrameObject, f_executing);
#else
    l->fr_state = offsetof(PyFrameObject, f_state);
#endif
    l->owner_generator = -1;
    l->owner_shim = -1;
    l->owner_max = -1;
    l->fr_read = offsetof(PyFrameObject, f_lasti) + sizeof(int);
    if (l->fr_read < l->fr_state + 1)
        l->fr_read = l->fr_state + 1;
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
#if PY_VERSION_HEX >= 0x030F0000
    l->ts_base_frame = offsetof(PyThreadState, base_frame);
#else
    l->ts_base_frame = PM_NO_OFFSET;
#endif
    l->chunk_data = offsetof(_PyStackChunk, data);
    l->chunk_previous = offsetof(_PyStackChunk, previous);
    l->chunk_top = offsetof(_PyStackChunk, top);
    l->fr_back = offsetof(_PyInterpreterFrame, previous);
    l->fr_owner = offsetof(_PyInterpreterFrame, owner);
    l->fr_entry = PM_NO_OFFSET;
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
#if PY_VERSION_HEX >= 0x030E0000
    /* The reference's low bits are tags (deferred / borrowed), not address. */
    l->fr_code_mask = ~(uint64_t)Py_TAG_BITS;
#endif
#if PY_VERSION_HEX >= 0x030F0000
    /* 3.15+: entry frames are owned by the interpreter, the last owner. */
    l->owner_shim = FRAME_OWNED_BY_INTERPRETER;
    l->owner_max = FRAME_OWNED_BY_INTERPRETER;
#elif PY_VERSION_HEX >= 0x030E0000
    /* 3.14: what _PyFrame_IsIncomplete treats as not Python code:
     * owner >= FRAME_OWNED_BY_INTERPRETER (INTERPRETER, CSTACK). */
    l->owner_shim = FRAME_OWNED_BY_INTERPRETER;
    l->owner_max = FRAME_OWNED_BY_CSTACK;
#elif PY_VERSION_HEX >= 0x030C0000
    l->owner_shim = FRAME_OWNED_BY_CSTACK;
    l->owner_max = FRAME_OWNED_BY_CSTACK;
#else
    l->owner_shim = -1; /* 3.11 marks entry frames with is_entry, not an owner */
    l->fr_entry = offsetof(_PyInterpreterFrame, is_entry);
    l->owner_max = FRAME_OWNED_BY_FRAME_OBJECT;
#endif
#if PY_VERSION_HEX >= 0x030C0000
    l->gil_addr = (uint64_t)(uintptr_t)interp->ceval.gil;
#else
    l->gil_addr = (uint64_t)(uintptr_t)&_PyRuntime.ceval.gil;
#endif
#endif
    l->gil_locked = offsetof(struct _gil_runtime_state, locked);
    l->gil_last_holder = offsetof(struct _gil_runtime_state, last_holder);
    l->gil_size = sizeof(struct _gil_runtime_state);

#if PY_VERSION_HEX >= 0x030D0000
    {
        /* A copy, so the test hook can alter it the way a patch release
         * (or a broken build) would. */
        _Py_DebugOffsets d = _PyRuntime.debug_offsets;
        if (alter == PM_ALTER_MOVE_FIELD)
            d.thread_state.current_frame += 8;
        else if (alter == PM_ALTER_NO_COOKIE)
            d.cookie[0] ^= 0x20;
        else if (alter == PM_ALTER_OUT_OF_RANGE)
            d.interpreter_frame.owner = d.interpreter_frame.size + 64;
        check_debug_offsets(l, &d, interp);
    }
#else
    (void)alter;
    l->debug_offsets = PM_DEBUG_OFFSETS_NONE;
#endif
    pm_layout_sizes(l);

    if (l->gil_addr == 0 || l->interp_addr == 0) {
        snprintf(err, errlen, "cannot locate the interpreter state of Python %d.%d",
                 PY_MAJOR_VERSION, PY_MINOR_VERSION);
        return -1;
    }
    return 0;
}
