/* remote-offsets.c — prints one row of the remote reader's offset table
 * (src/native/collect/pm_remote_tables.c) from a CPython version's own
 * internal headers.  The tables are static (one pyrometer build reads every
 * version, so it cannot include them all); this program is how a row is
 * written for a new version, and tests/test_attach.py checks every row
 * against that version's in-process layout.
 *
 *   V=3.12; P=$(pyenv root)/versions/$(pyenv versions --bare | grep "^$V")
 *   gcc -I$P/include/python$V -I$P/include/python$V/internal scripts/remote-offsets.c -o /tmp/ro && /tmp/ro
 *
 * 3.14 and 3.15 (Debian's packages, in the sid chroot):
 *   scripts/sid-chroot run sh -c 'V=3.15; gcc -I/usr/include/python$V \
 *       -I/usr/include/python$V/internal scripts/remote-offsets.c -o /tmp/ro && /tmp/ro'
 */
#include <stddef.h>
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe_structs.h" /* _PyInterpreterFrame, enum _frameowner */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "internal/pycore_stackref.h"            /* Py_TAG_BITS */
#pragma GCC diagnostic pop
#endif
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030A0000
#include "internal/pycore_moduleobject.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"
#endif
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define F(name, v) printf("        ." #name " = %lu,\n", (unsigned long)(v))
#define I(name, v) printf("        ." #name " = %d,\n", (int)(v))
#define NO(name) printf("        ." #name " = PM_NO_OFFSET,\n")
#define X(name, v) printf("    ." #name " = %lu,\n", (unsigned long)(v))

/* The objects the thread-name reader walks (pm_remote_dict.h). */
static void objects(void)
{
    printf("    .O = {\n");
#if PY_VERSION_HEX < 0x030C0000
    F(interp_modules, offsetof(PyInterpreterState, modules));
#else
    F(interp_modules, offsetof(PyInterpreterState, imports.modules));
#endif
#if PY_VERSION_HEX < 0x030A0000
    F(md_dict, sizeof(PyObject)); /* Objects/moduleobject.c: the first field after the header */
#else
    F(md_dict, offsetof(PyModuleObject, md_dict));
#endif
    F(ma_keys, offsetof(PyDictObject, ma_keys));
    F(ma_values, offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX < 0x030B0000
    /* Objects/dict-common.h (not installed): refcnt, size, lookup function,
     * usable, nentries, then the indices. */
    printf("        .keys_kind = PM_KEYS_SIZED,\n");
    F(dk_size, 8);
    NO(dk_log2_index_bytes);
    NO(dk_kind);
    F(dk_nentries, 32);
    F(dk_indices, 40);
    F(values_items, 0);
    NO(values_valid);
#else
    printf("        .keys_kind = PM_KEYS_LOG2,\n");
    F(dk_size, offsetof(PyDictKeysObject, dk_log2_size));
    F(dk_log2_index_bytes, offsetof(PyDictKeysObject, dk_log2_index_bytes));
    F(dk_kind, offsetof(PyDictKeysObject, dk_kind));
    F(dk_nentries, offsetof(PyDictKeysObject, dk_nentries));
    F(dk_indices, offsetof(PyDictKeysObject, dk_indices));
    F(values_items, offsetof(PyDictValues, values));
#if PY_VERSION_HEX >= 0x030D0000
    F(values_valid, offsetof(PyDictValues, valid));
#else
    NO(values_valid);
#endif
#endif
    F(tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
    F(tp_flags, offsetof(PyTypeObject, tp_flags));
    F(tp_dictoffset, offsetof(PyTypeObject, tp_dictoffset));
    F(ht_cached_keys, offsetof(PyHeapTypeObject, ht_cached_keys));
#if PY_VERSION_HEX < 0x030B0000
    printf("        .attrs_kind = PM_ATTRS_DICTOFFSET,\n");
#elif PY_VERSION_HEX < 0x030C0000
    printf("        .attrs_kind = PM_ATTRS_311,\n");
#elif PY_VERSION_HEX < 0x030D0000
    printf("        .attrs_kind = PM_ATTRS_312,\n");
#else /* 3.13+: inline values after the object, or the dict at -3 words */
    printf("        .attrs_kind = PM_ATTRS_313,\n");
#endif
#ifdef Py_TPFLAGS_MANAGED_DICT
    printf("        .managed_dict_flag = 0x%lx,\n", (unsigned long)Py_TPFLAGS_MANAGED_DICT);
#endif
#ifdef Py_TPFLAGS_INLINE_VALUES
    printf("        .inline_values_flag = 0x%lx,\n", (unsigned long)Py_TPFLAGS_INLINE_VALUES);
#endif
#if PY_VERSION_HEX < 0x030C0000
    printf("        .long_kind = PM_LONG_SIZE,\n");
    F(long_size, offsetof(PyVarObject, ob_size));
    F(long_digits, offsetof(PyLongObject, ob_digit));
#else
    printf("        .long_kind = PM_LONG_TAG,\n");
    F(long_size, offsetof(PyLongObject, long_value.lv_tag));
    F(long_digits, offsetof(PyLongObject, long_value.ob_digit));
#endif
    printf("    },\n");
}

int main(void)
{
    PyASCIIObject o;
    uint32_t kind, compact, ascii;
    memset(&o, 0, sizeof o);
    o.state.kind = 7;
    memcpy(&kind, &o.state, 4);
    memset(&o, 0, sizeof o);
    o.state.compact = 1;
    memcpy(&compact, &o.state, 4);
    memset(&o, 0, sizeof o);
    o.state.ascii = 1;
    memcpy(&ascii, &o.state, 4);

    printf("{\n    .minor = %d,\n", PY_MINOR_VERSION);
    X(rt_interp_main, offsetof(_PyRuntimeState, interpreters.main));
#if PY_VERSION_HEX < 0x030C0000
    X(rt_gil, offsetof(_PyRuntimeState, ceval.gil));
    X(interp_gil_ptr, 0);
#else
    X(rt_gil, 0);
    X(interp_gil_ptr, offsetof(PyInterpreterState, ceval.gil));
#endif
    X(interp_gc_collecting, offsetof(PyInterpreterState, gc.collecting));
    X(co_nlocals, offsetof(PyCodeObject, co_nlocals));
#if PY_VERSION_HEX < 0x030B0000
    X(co_varnames, offsetof(PyCodeObject, co_varnames));
    X(fr_localsplus, offsetof(PyFrameObject, f_localsplus));
#else
    X(co_varnames, offsetof(PyCodeObject, co_localsplusnames));
    X(fr_localsplus, offsetof(_PyInterpreterFrame, localsplus));
#endif
    X(tuple_items, offsetof(PyTupleObject, ob_item));
    objects();
    printf("    .L = {\n");
    F(ob_refcnt, offsetof(PyObject, ob_refcnt));
    F(ob_type, offsetof(PyObject, ob_type));
    F(ob_size, offsetof(PyVarObject, ob_size));
    F(co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
    F(co_name, offsetof(PyCodeObject, co_name));
    F(co_filename, offsetof(PyCodeObject, co_filename));
    F(bytes_size, offsetof(PyVarObject, ob_size));
    F(bytes_data, offsetof(PyBytesObject, ob_sval));
    F(str_length, offsetof(PyASCIIObject, length));
    F(str_state, offsetof(PyASCIIObject, state));
    F(str_ascii_data, sizeof(PyASCIIObject));
    F(str_compact_data, sizeof(PyCompactUnicodeObject));
    printf("        .str_kind_mask = 0x%x,\n        .str_kind_shift = %d,\n", kind, __builtin_ctz(kind));
    printf("        .str_compact_mask = 0x%x,\n        .str_ascii_mask = 0x%x,\n", compact, ascii);
    F(ts_next, offsetof(PyThreadState, next));
    F(ts_thread_id, offsetof(PyThreadState, thread_id));
    F(ts_interp, offsetof(PyThreadState, interp));
    F(gil_locked_size, sizeof(int));
    F(gil_locked, offsetof(struct _gil_runtime_state, locked));
    F(gil_last_holder, offsetof(struct _gil_runtime_state, last_holder));
#if PY_VERSION_HEX >= 0x030F0000
    F(ts_base_frame, offsetof(PyThreadState, base_frame));
#else
    NO(ts_base_frame);
#endif
#if PY_VERSION_HEX < 0x030B0000
    I(frames_kind, 1);
    F(interp_tstate_head, offsetof(PyInterpreterState, tstate_head));
    NO(ts_native_thread_id);
    F(ts_frame, offsetof(PyThreadState, frame));
    NO(cframe_current_frame);
    NO(ts_datastack_chunk);
    NO(ts_datastack_top);
    NO(chunk_data);
    NO(chunk_previous);
    NO(chunk_top);
    F(fr_back, offsetof(PyFrameObject, f_back));
    F(fr_code, offsetof(PyFrameObject, f_code));
    F(fr_lasti, offsetof(PyFrameObject, f_lasti));
    NO(fr_owner);
    NO(fr_entry);
    F(fr_gen, offsetof(PyFrameObject, f_gen));
#if PY_VERSION_HEX < 0x030A0000
    F(fr_state, offsetof(PyFrameObject, f_executing));
    F(fr_read, offsetof(PyFrameObject, f_executing) + 1 > offsetof(PyFrameObject, f_lasti) + 4
                   ? offsetof(PyFrameObject, f_executing) + 1 : offsetof(PyFrameObject, f_lasti) + 4);
    I(lasti_kind, 1);
    I(lines_kind, 1);
    F(co_lines, offsetof(PyCodeObject, co_lnotab));
#else
    F(fr_state, offsetof(PyFrameObject, f_state));
    F(fr_read, offsetof(PyFrameObject, f_state) + 1 > offsetof(PyFrameObject, f_lasti) + 4
                   ? offsetof(PyFrameObject, f_state) + 1 : offsetof(PyFrameObject, f_lasti) + 4);
    I(lasti_kind, 2);
    I(lines_kind, 2);
    F(co_lines, offsetof(PyCodeObject, co_linetable));
#endif
    I(owner_generator, -1);
    I(owner_shim, -1);
    I(owner_max, -1);
    NO(co_qualname);
    F(co_code, offsetof(PyCodeObject, co_code));
    NO(co_code_adaptive);
    NO(co_firsttraceable);
#else
    I(frames_kind, 2);
    I(lines_kind, 3);
    F(interp_tstate_head, offsetof(PyInterpreterState, threads.head));
    F(ts_native_thread_id, offsetof(PyThreadState, native_thread_id));
    F(ts_datastack_chunk, offsetof(PyThreadState, datastack_chunk));
    F(ts_datastack_top, offsetof(PyThreadState, datastack_top));
    F(chunk_data, offsetof(_PyStackChunk, data));
    F(chunk_previous, offsetof(_PyStackChunk, previous));
    F(chunk_top, offsetof(_PyStackChunk, top));
    F(fr_back, offsetof(_PyInterpreterFrame, previous));
    F(fr_owner, offsetof(_PyInterpreterFrame, owner));
    NO(fr_gen);
    NO(fr_state);
    I(owner_generator, FRAME_OWNED_BY_GENERATOR);
    F(fr_read, offsetof(_PyInterpreterFrame, localsplus));
    F(co_qualname, offsetof(PyCodeObject, co_qualname));
    F(co_lines, offsetof(PyCodeObject, co_linetable));
    NO(co_code);
    F(co_code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
    F(co_firsttraceable, offsetof(PyCodeObject, _co_firsttraceable));
#if PY_VERSION_HEX < 0x030D0000
    F(ts_frame, offsetof(PyThreadState, cframe));
    F(cframe_current_frame, offsetof(_PyCFrame, current_frame));
    F(fr_code, offsetof(_PyInterpreterFrame, f_code));
    F(fr_lasti, offsetof(_PyInterpreterFrame, prev_instr));
    I(lasti_kind, 3);
#else
    F(ts_frame, offsetof(PyThreadState, current_frame));
    NO(cframe_current_frame);
    F(fr_code, offsetof(_PyInterpreterFrame, f_executable));
    F(fr_lasti, offsetof(_PyInterpreterFrame, instr_ptr));
    I(lasti_kind, 4);
#endif
#if PY_VERSION_HEX >= 0x030F0000
    /* entry frames are owned by the interpreter, the last owner */
    I(owner_shim, FRAME_OWNED_BY_INTERPRETER);
    I(owner_max, FRAME_OWNED_BY_INTERPRETER);
    NO(fr_entry);
#elif PY_VERSION_HEX >= 0x030E0000
    /* INTERPRETER and CSTACK are not Python code (_PyFrame_IsIncomplete) */
    I(owner_shim, FRAME_OWNED_BY_INTERPRETER);
    I(owner_max, FRAME_OWNED_BY_CSTACK);
    NO(fr_entry);
#elif PY_VERSION_HEX >= 0x030C0000
    I(owner_shim, FRAME_OWNED_BY_CSTACK);
    I(owner_max, FRAME_OWNED_BY_CSTACK);
    NO(fr_entry);
#else
    I(owner_shim, -1);
    I(owner_max, FRAME_OWNED_BY_FRAME_OBJECT);
    F(fr_entry, offsetof(_PyInterpreterFrame, is_entry));
#endif
#endif
#if PY_VERSION_HEX >= 0x030E0000
    /* f_executable is a _PyStackRef: its low bits tag how it is owned */
    printf("        .fr_code_mask = ~(uint64_t)0x%lx,\n    },\n},\n", (unsigned long)Py_TAG_BITS);
#else
    printf("        .fr_code_mask = ~(uint64_t)0,\n    },\n},\n");
#endif
    return 0;
}
