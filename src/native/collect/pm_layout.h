/* pm_layout.h — where things are in a CPython process.
 *
 * The walker is written once against this table of offsets; what differs
 * between 3.9 and 3.15 lives only in pm_layout.c, which takes every number
 * from the running version's own (internal) headers, so a layout can never be
 * out of date for the interpreter it was built with, and on 3.13+ checks them
 * against the running interpreter's own _Py_DebugOffsets.
 * No Python.h here: a layout for another process can be filled from a table
 * or from _Py_DebugOffsets without changing the walker.
 */
#ifndef PM_LAYOUT_H
#define PM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* How frames are linked and where the current instruction is kept. */
typedef enum {
    PM_FRAMES_OBJECTS = 1,  /* 3.9, 3.10: heap PyFrameObject chain via f_back */
    PM_FRAMES_INTERP = 2    /* 3.11+: _PyInterpreterFrame in per-thread data stack chunks */
} pm_frames_kind;

typedef enum {
    PM_LASTI_BYTES = 1,     /* 3.9: int f_lasti, byte offset of the last instruction */
    PM_LASTI_UNITS = 2,     /* 3.10: int f_lasti, index of the last instruction */
    PM_LASTI_PREV_PTR = 3,  /* 3.11, 3.12: prev_instr, pointer to the last code unit run */
    PM_LASTI_CUR_PTR = 4    /* 3.13+: instr_ptr, pointer to the instruction running */
} pm_lasti_kind;

typedef enum {
    PM_LINES_LNOTAB = 1,    /* 3.9 co_lnotab */
    PM_LINES_310 = 2,       /* 3.10 co_linetable */
    PM_LINES_LOCATIONS = 3  /* 3.11+ location table */
} pm_lines_kind;

#define PM_NO_OFFSET ((size_t)-1)

typedef struct {
    int version_hex;              /* PY_VERSION_HEX of the interpreter */
    int frames_kind, lasti_kind, lines_kind;

    uint64_t interp_addr;         /* the main PyInterpreterState */
    size_t interp_tstate_head;    /* offset of the head of its thread list */

    /* PyThreadState */
    size_t ts_read;               /* bytes to copy: covers every field below */
    size_t ts_next, ts_thread_id, ts_native_thread_id; /* native id PM_NO_OFFSET before 3.11 */
    size_t ts_interp;             /* its interpreter: tells a live state from freed memory */
    size_t ts_frame;              /* 3.9/3.10 frame; 3.11/3.12 cframe; 3.13+ current_frame */
    size_t cframe_current_frame;  /* 3.11/3.12: offset in _PyCFrame; else PM_NO_OFFSET */
    size_t ts_datastack_chunk, ts_datastack_top; /* 3.11+; else PM_NO_OFFSET */
    /* 3.15+: PyThreadState.base_frame, the sentinel frame at the bottom of
     * every stack (owned by the interpreter).  A thread whose current frame
     * is it runs no Python code: a state not yet bound to its thread, or one
     * between calls into Python.  PM_NO_OFFSET before 3.15. */
    size_t ts_base_frame;

    /* _PyStackChunk (3.11+) */
    size_t chunk_previous, chunk_top, chunk_data; /* top: slots used, valid once left */

    /* the frame (PyFrameObject or _PyInterpreterFrame) */
    size_t fr_read;
    size_t fr_back, fr_code, fr_lasti, fr_owner; /* owner PM_NO_OFFSET before 3.11 */
    size_t fr_gen;                /* 3.9/3.10: the frame's generator, or PM_NO_OFFSET */
    size_t fr_state;              /* 3.9 f_executing, 3.10 f_state (one byte); PM_NO_OFFSET after */
    size_t fr_entry;              /* 3.11 is_entry (one byte: the first frame of an eval-loop call,
                                     for --native); PM_NO_OFFSET otherwise */
    /* The word at fr_code is a tagged _PyStackRef on 3.14+ (low bits say how
     * the reference is owned); the code object's address is word & mask.
     * All ones before 3.14. */
    uint64_t fr_code_mask;
    /* Frame owners (3.11+ enum _frameowner values; -1 when absent).  Owners
     * from owner_shim to owner_max are not Python code (3.12/3.13 CSTACK;
     * 3.14 INTERPRETER and CSTACK; 3.15 INTERPRETER, CSTACK is gone) and
     * are skipped; an owner above owner_max is torn memory. */
    int owner_generator, owner_shim, owner_max;

    /* PyCodeObject */
    uint64_t code_type;           /* &PyCode_Type */
    size_t co_read;
    size_t ob_refcnt, ob_type, ob_size;
    size_t co_firstlineno, co_name, co_qualname, co_filename; /* qualname PM_NO_OFFSET before 3.11 */
    size_t co_lines;              /* co_lnotab (3.9) or co_linetable (3.10+) */
    size_t co_code;               /* 3.9/3.10: the co_code bytes object; else PM_NO_OFFSET */
    size_t co_code_adaptive;      /* 3.11+: start of the code units inside the code object */
    size_t co_firsttraceable;     /* 3.11+: first instruction after the frame's set-up */

    /* bytes and str */
    size_t bytes_size, bytes_data;
    size_t str_length, str_state, str_ascii_data, str_compact_data;
    uint32_t str_kind_mask, str_compact_mask, str_ascii_mask;
    int str_kind_shift;

    /* GIL: whether it is locked and who had it last */
    uint64_t gil_addr;
    size_t gil_locked, gil_last_holder;
    size_t gil_locked_size;       /* 4 (int) */
    /* sizeof(struct _gil_runtime_state): a thread waiting for the GIL
     * waits on a futex inside it (its condition variable or mutex). */
    size_t gil_size;

    /* The main interpreter's gc.collecting (an int, every version): the
     * garbage collector runs, in the thread that holds the GIL. */
    uint64_t gc_collecting_addr;

    /* 3.13+: how the offsets above compare with the running interpreter's
     * _Py_DebugOffsets (the offsets CPython publishes for debuggers, which
     * describe the binary actually running rather than the headers built
     * against).  PM_DEBUG_OFFSETS_NONE before 3.13. */
    int debug_offsets;
    int debug_offsets_fields;     /* fields of this layout checked against them */
    int debug_offsets_adopted;    /* of those, how many differed and were taken from them */
    char debug_offsets_note[160]; /* the first difference, or why they could not be used */
} pm_layout;

enum {
    PM_DEBUG_OFFSETS_NONE = 0,     /* before 3.13: nothing to check against */
    PM_DEBUG_OFFSETS_AGREE = 1,    /* every field checked agrees with the headers */
    PM_DEBUG_OFFSETS_ADOPTED = 2,  /* some differed; the running interpreter's were taken */
    PM_DEBUG_OFFSETS_UNUSABLE = 3  /* missing cookie, another version, free-threaded */
};

/* Sets ts_read, co_read and widens fr_read so every field the walker and
 * the code cache use lies in what they copy (pm_layout_sizes.c). */
void pm_layout_sizes(pm_layout *l);

#endif
