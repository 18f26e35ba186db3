/* pm_bind.h — what the binding files share.  Only bind/ and module.c include
 * Python.h; everything they wrap is plain C. */
#ifndef PM_BIND_H
#define PM_BIND_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#include "model/pm_model.h"

typedef struct {
    PyObject_HEAD
    pm_profile *p;
    /* The sampling thread adds to the model while Python may read it. */
    pthread_mutex_t lock;
} pm_ProfileObject;

extern PyTypeObject pm_ProfileType;
extern PyTypeObject pm_SamplerType;
/* A hook object (pm_bind_hooks.c): what the calls and lines tracers hand
 * the interpreter.  3.12+: a sys.monitoring callback (vc).  3.9-3.11: the
 * object threading gives a new thread, which puts cfunc in its place. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vc;   /* 3.12+: the callback */
    PyObject *owner;     /* the tracer, borrowed: it orphans its hooks before it goes */
    const int *enabled;  /* the owner's flag: a new thread gets cfunc only while it is set */
    Py_tracefunc cfunc;  /* 3.9-3.11: the owner's C hook, installed ... */
    int trace;           /* ... as the trace (1) or the profile (0) hook */
} pm_HookObject;
int pm_hook_type_ready(void);
/* A vectorcall callback that is dispatch(op, args, nargsf, kind) with kind a
 * constant: one per kind, so dispatch's switch folds away on hot events. */
#define PM_HOOK_FN(name, dispatch, kind)                                                   \
    static PyObject *name(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kw) \
    {                                                                                      \
        (void)kw;                                                                          \
        return dispatch(op, args, nargsf, kind);                                           \
    }
PyObject *pm_hook_new(PyObject *owner, const int *enabled, vectorcallfunc vc, Py_tracefunc cfunc, int trace);
/* The owner is going away: the hook passes no more events to it. */
void pm_hook_orphan(PyObject *hook);
#if PY_VERSION_HEX < 0x030C0000
/* The hook's cfunc on every other thread, and through threading's hook on
 * threads started later; threading's previous hook is kept in *prev. */
void pm_hooks_set_everywhere(PyObject *hook, PyObject **prev);
/* The hook's cfunc off every thread that has it for its owner, the calling
 * one included; with prev, threading's hook goes back to *prev (or None).
 * The caller's exception state is left as it was. */
void pm_hooks_clear(PyObject *hook, PyObject **prev);
#endif

extern PyTypeObject pm_MemoryType;
extern PyTypeObject pm_RemoteType;
/* Every field of a layout (pm_layout) as a dict, for the tests. */
PyObject *pm_bind_layout_dict(const void *layout);
PyObject *pm_bind_watch_start(PyObject *self, PyObject *args);
PyObject *pm_bind_dump_stacks(PyObject *self, PyObject *args);
extern PyTypeObject pm_TracerType;
/* --log-args (pm_bind_logargs.c): which functions' arguments and return
 * values the timeline shows, and the texts shown. */
typedef struct {
    PyObject *search;   /* the pattern's search method, or NULL: off */
    PyObject *verdicts; /* code object -> True/False */
    int matched;        /* some function that ran matched */
    Py_ssize_t distinct; /* texts shown so far (each is a frame of its own) */
    uint64_t dropped;    /* texts not shown, past the bound */
} pm_logargs;
int pm_logargs_init(pm_logargs *la, PyObject *pattern);
void pm_logargs_clear(pm_logargs *la);
/* 1 when co's functions are logged (never raises). */
int pm_logargs_match(pm_logargs *la, PyCodeObject *co);
/* "args: a=1, b='x'" of the frame being entered; "return: 3".  New
 * references, NULL on failure (no exception set, the caller's kept). */
PyObject *pm_logargs_call_text(PyCodeObject *co, PyObject *frame);
PyObject *pm_logargs_return_text(PyObject *value);
PyObject *pm_bind_call_stats(PyObject *self, PyObject *args);
extern PyTypeObject pm_LineTracerType;
extern PyTypeObject pm_LineCounterType;
PyObject *pm_bind_line_rows(PyObject *self, PyObject *args);
PyObject *pm_bind_diff(PyObject *self, PyObject *args);

/* The sampler, its profile and whether it started, of a Sampler object (-1
 * and TypeError for anything else). */
struct pm_sampler;
int pm_bind_sampler_parts(PyObject *o, struct pm_sampler **s, pm_ProfileObject **profile, int *started);
extern PyTypeObject pm_RequestsType;

/* Returns a new Profile object owning p (NULL and an exception on error). */
PyObject *pm_profile_wrap(pm_profile *p);
/* Checks the sampler's reading of the calling thread's stack against the
 * interpreter's own frames; returns the depth or -1 with RuntimeError set. */
long pm_selfcheck_run(void);
PyObject *pm_bind_selfcheck(PyObject *self, PyObject *noargs);
PyObject *pm_bind_supported(PyObject *self, PyObject *args);
PyObject *pm_bind_layout_info(PyObject *self, PyObject *args);
PyObject *pm_bind_stop_all(PyObject *self, PyObject *noargs);
PyObject *pm_bind_sigterm_install(PyObject *self, PyObject *proxy);
PyObject *pm_bind_signal_free(PyObject *self, PyObject *signo);
PyObject *pm_bind_sigterm_uninstall(PyObject *self, PyObject *noargs);
PyObject *pm_bind_sigterm_write(PyObject *self, PyObject *args);
void pm_bind_sigterm_writer_pause(void);
void pm_bind_sigterm_writer_resume(void);
PyObject *pm_bind_fork_before(PyObject *self, PyObject *noargs);
PyObject *pm_bind_fork_parent(PyObject *self, PyObject *noargs);
/* Fills a layout (pm_layout) for this interpreter, with a RuntimeError when
 * it can't. */
int pm_bind_layout(void *layout_out);
/* The tid offset in glibc's thread descriptor, for 3.9/3.10 (-1 unknown). */
long pm_bind_tid_offset(void);

#if PY_VERSION_HEX < 0x030B0000
#include "collect/pm_codecache.h"
/* Before 3.11 a code object knows only its plain name; the qualified name
 * (Class.method, outer.<locals>.inner) is on the function.  At the end, one
 * pass over the GC heap finds the function of each code object in cc and
 * renames its frame in profile (pm_bind_sampler.c; the sampler and memory
 * mode). */
void pm_bind_qualify_names(pm_codecache *cc, pm_space *space, pm_ProfileObject *profile);
#endif

#if PY_VERSION_HEX < 0x030C0000
/* The frame-evaluation hook (pm_bind_evalhook.c), 3.9-3.11.  enter runs
 * before a Python frame is evaluated and returns a token (0: no leave
 * wanted); leave gets that token and the evaluation's result (NULL: it
 * ended by an exception, which is set) once the evaluation has ended,
 * unless the session was removed meanwhile.  Both leave the thread's
 * exception state as they found it (a frame may start with an exception
 * to throw in). */
typedef long (*pm_eval_enter_fn)(void *ctx, PyThreadState *ts, PyCodeObject *co);
typedef void (*pm_eval_leave_fn)(void *ctx, long token, PyObject *result);
/* 0 installed; 1 another frame-evaluation hook is in place (nothing done);
 * -1 error with an exception set. */
int pm_evalhook_install(pm_eval_enter_fn enter, pm_eval_leave_fn leave, void *ctx);
/* Removes ctx's session (no-op when it is not the installed one). */
void pm_evalhook_remove(void *ctx);
#endif

/* pyrometer.heap (pm_bind_heap.c). */
extern PyTypeObject pm_HeapSnapshotType;
extern PyTypeObject pm_HeapIndexType;
PyObject *pm_bind_heap_census(PyObject *self, PyObject *untracked);
PyObject *pm_bind_heap_deep_size(PyObject *self, PyObject *o);
PyObject *pm_bind_heap_sizeof(PyObject *self, PyObject *o);
PyObject *pm_bind_heap_instances(PyObject *self, PyObject *cls);

/* sys.monitoring (3.12+), a new reference; NULL with an exception. */
static inline PyObject *pm_bind_monitoring(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *mon = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL;
    Py_XDECREF(sys);
    return mon;
}

/* The bit of a sys.monitoring event, looked up by name in
 * sys.monitoring.events: the numbers are not stable across versions (3.14
 * inserted BRANCH_LEFT and BRANCH_RIGHT before STOP_ITERATION, moving
 * PY_UNWIND, PY_THROW, C_RETURN and C_RAISE up by one), so they are asked
 * for, never hard-coded.  0 with an exception set when there is none. */
static inline int pm_bind_event(PyObject *mon, const char *name)
{
    PyObject *events = PyObject_GetAttrString(mon, "events");
    PyObject *v = events ? PyObject_GetAttrString(events, name) : NULL;
    long bit = v ? PyLong_AsLong(v) : 0;
    Py_XDECREF(v);
    Py_XDECREF(events);
    if (bit == -1 && PyErr_Occurred())
        return 0;
    if (bit <= 0 || bit > (1L << 30) || (bit & (bit - 1))) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "sys.monitoring.events.%s is not a single event", name);
        return 0;
    }
    return (int)bit;
}

#if PY_VERSION_HEX >= 0x030C0000
/* sys.monitoring.set_local_events(tool_id, code, events); nothing while the
 * tracer holds no id (parked).  0 or -1 with an exception. */
static inline int pm_bind_set_local(PyObject *mon, int tool_id, PyObject *code, int events)
{
    if (!mon || tool_id < 0)
        return 0;
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOi", tool_id, code, events);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* An event's small int argument (a line, an offset), read without a call. */
static inline long pm_bind_small_int(PyObject *o)
{
    if (PyLong_CheckExact(o) && PyUnstable_Long_IsCompact((PyLongObject *)o))
        return (long)PyUnstable_Long_CompactValue((PyLongObject *)o);
    return PyLong_AsLong(o);
}
#else
/* No line events for this frame (f_trace_lines = 0): code out of scope
 * called from traced code (pm_bind_frame.c).  0 or -1 with an exception. */
int pm_bind_skip_lines(PyFrameObject *frame);

#include <frameobject.h>

/* The frame's code, borrowed (the frame holds it): the C trace hooks'
 * first question on every event. */
static inline PyCodeObject *pm_bind_frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX < 0x030B0000
    return frame->f_code;
#else
    PyCodeObject *co = PyFrame_GetCode(frame);
    Py_DECREF(co);
    return co;
#endif
}

/* The line of a frame's line event, from the C trace hook. */
static inline int pm_bind_frame_line(PyFrameObject *frame)
{
#if PY_VERSION_HEX < 0x030B0000
    /* Set by the eval loop for the trace call: read without a call, and 3.9's
     * PyFrame_GetLineNumber would decode the line table again (it trusts
     * f_lineno only for frames with a Python-level f_trace). */
    return frame->f_lineno ? frame->f_lineno : PyFrame_GetLineNumber(frame);
#else
    return PyFrame_GetLineNumber(frame);
#endif
}
#endif

/* pm_bind_toolid.c (3.12+).  A tracer moves its callbacks and events from
 * its tool id to new_id (-1: it listens to nothing, parked); 0 or -1 with an
 * exception. */
typedef int (*pm_tool_move_fn)(PyObject *owner, int new_id);
/* Claims a free sys.monitoring tool id for name, on owner's behalf: when the
 * program asks for it, owner is moved (pm_bind_toolid.c says how).  The id;
 * -1 when all are taken (no exception); -2 on another error (exception set). */
int pm_toolid_claim(PyObject *mon, const char *name, PyObject *owner, pm_tool_move_fn move);
/* Frees whatever id owner holds; the caller's exception state is kept. */
void pm_toolid_release(PyObject *mon, PyObject *owner);

#endif
