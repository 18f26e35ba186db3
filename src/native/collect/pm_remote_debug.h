/* pm_remote_debug.h — another process's _Py_DebugOffsets (3.13+): the table
 * of offsets CPython publishes at the start of _PyRuntime for debuggers.
 *
 * Its layout is fixed within a minor version but grows between them, with
 * fields added in the middle (3.14: threads_main, frame stackpointer,
 * co_tlbc, the set object; 3.15: thread state base_frame and GIL fields,
 * type object sizes, the heap type, sizeof(PyCompactUnicodeObject)).  So it
 * is described once, as the ordered list of its 64-bit words with the minor
 * each first appeared in; a version's layout is the words that exist in it.
 * Only the words the target's version declares are read (up to the last one
 * used here), never what lies after its table in _PyRuntime.  No Python.h. */
#ifndef PM_REMOTE_DEBUG_H
#define PM_REMOTE_DEBUG_H

#include <stdint.h>

#include "pm_space.h"

/* Every word up to gc.collecting, in order: name and the minor it appeared
 * in (pycore_runtime.h in 3.13, pycore_debug_offsets.h in 3.14+). */
#define PM_DEBUG_WORDS(X)                                                                                   \
    X(cookie, 13) X(version, 13) X(free_threaded, 13)                                                        \
    X(rt_size, 13) X(rt_finalizing, 13) X(rt_interpreters_head, 13)                                          \
    X(is_size, 13) X(is_id, 13) X(is_next, 13) X(is_threads_head, 13) X(is_threads_main, 14) X(is_gc, 13)    \
    X(is_imports_modules, 13) X(is_sysdict, 13) X(is_builtins, 13) X(is_ceval_gil, 13) X(is_gil, 13)         \
    X(is_gil_enabled, 13) X(is_gil_locked, 13) X(is_gil_holder, 13) X(is_code_generation, 14)                \
    X(is_tlbc_generation, 14)                                                                                \
    X(ts_size, 13) X(ts_prev, 13) X(ts_next, 13) X(ts_interp, 13) X(ts_current_frame, 13)                    \
    X(ts_base_frame, 15) X(ts_last_profiled_frame, 15) X(ts_last_profiled_seq, 15) X(ts_thread_id, 13)       \
    X(ts_native_thread_id, 13) X(ts_datastack_chunk, 13) X(ts_status, 13) X(ts_holds_gil, 15)                \
    X(ts_gil_requested, 15) X(ts_current_exception, 15) X(ts_exc_state, 15)                                  \
    X(err_exc_value, 15)                                                                                     \
    X(fr_size, 13) X(fr_previous, 13) X(fr_executable, 13) X(fr_instr_ptr, 13) X(fr_localsplus, 13)          \
    X(fr_owner, 13) X(fr_stackpointer, 14) X(fr_tlbc_index, 14)                                              \
    X(co_size, 13) X(co_filename, 13) X(co_name, 13) X(co_qualname, 13) X(co_linetable, 13)                  \
    X(co_firstlineno, 13) X(co_argcount, 13) X(co_localsplusnames, 13) X(co_localspluskinds, 13)             \
    X(co_code_adaptive, 13) X(co_tlbc, 14)                                                                   \
    X(ob_size, 13) X(ob_type, 13)                                                                            \
    X(tp_size, 13) X(tp_name, 13) X(tp_repr, 13) X(tp_flags, 13) X(tp_basicsize, 15) X(tp_dictoffset, 15)    \
    X(ht_size, 15) X(ht_cached_keys, 15)                                                                     \
    X(tuple_size, 13) X(tuple_item, 13) X(tuple_obsize, 13) X(list_size, 13) X(list_item, 13)                \
    X(list_obsize, 13) X(set_size, 14) X(set_used, 14) X(set_table, 14) X(set_mask, 14)                      \
    X(dict_size, 13) X(dict_ma_keys, 13) X(dict_ma_values, 13) X(float_size, 13) X(float_fval, 13)           \
    X(long_size, 13) X(long_tag, 13) X(long_digit, 13) X(bytes_size, 13) X(bytes_obsize, 13)                 \
    X(bytes_sval, 13) X(str_size, 13) X(str_state, 13) X(str_length, 13) X(str_ascii_size, 13)               \
    X(str_compact_size, 15) X(gc_size, 13) X(gc_collecting, 13)

enum {
#define PM_DEBUG_ENUM(name, since) PM_DO_##name,
    PM_DEBUG_WORDS(PM_DEBUG_ENUM)
#undef PM_DEBUG_ENUM
    PM_DO_COUNT
};

/* A word the target's version does not have. */
#define PM_DO_ABSENT UINT64_MAX

/* Reads the _Py_DebugOffsets of a Python 3.minor (13 or later) at addr into
 * d, indexed by PM_DO_*; words the version lacks are PM_DO_ABSENT (the
 * cookie's eight bytes are d[PM_DO_cookie]).  0, or -1 when unreadable. */
int pm_remote_debug_read(pm_space *space, uint64_t addr, int minor, uint64_t d[PM_DO_COUNT]);

#endif
