/* pm_bind_lines.c — the LineTracer type: the hooks that feed collect/pm_lines
 * (lines mode and pyrometer.LineProfiler).
 *
 * Which code is a target is decided once per code object: explicitly
 * (add_code) or by the `select` callable given at construction (called on
 * first sight; the answer is cached by code address, the code object kept
 * alive so the address cannot be reused).
 *
 * 3.12+: sys.monitoring, callback objects of our own type (vectorcall).  LINE,
 *        PY_START/RESUME/RETURN/YIELD are switched on per target code object
 *        only (set_local_events), so other code runs uninstrumented.  With a
 *        `select` callable, PY_START is also on globally to discover targets:
 *        a non-target code gets DISABLE on its first start and is never seen
 *        again.  PY_UNWIND and PY_THROW cannot be local: they are global and
 *        return at once for non-target code (they only fire on exceptions).
 * 3.9-3.11: the C trace hook (PyEval_SetTrace), switched on for a thread
 *        only while a target frame runs on it: the frame-evaluation hook
 *        (pm_bind_evalhook.c) turns it on when a target frame starts on a
 *        thread that is not traced, and off when that frame's evaluation
 *        ends, so code outside the targets' extent runs untraced (tracing
 *        slows all code 1.5-3x on these versions).  Non-target frames called
 *        from targets get f_trace_lines = 0 at their call event so they
 *        cause no line events.  When another frame-evaluation hook is in
 *        place: the trace hook on every thread, later threads through
 *        threading.settrace (pm_bind_hooks.c). */
#include "pm_bind.h"

#include <frameobject.h>

#include "collect/pm_lines.h"
#include "collect/pm_tracer.h" /* the clock */

#define PM_MON (PY_VERSION_HEX >= 0x030C0000)

enum { K_START, K_RETURN, K_UNWIND, K_LINE, K_COUNT };

typedef struct pm_LineTracerObject pm_LineTracerObject;

struct pm_LineTracerObject {
    PyObject_HEAD
    pm_lines *L;
    PyObject *profile;  /* pm_ProfileObject owning the model */
    PyObject *select;   /* callable(code) -> bool, or NULL */
    PyObject *keep;     /* code objects seen (their addresses are keys) */
    PyObject *targets;  /* list: target code objects, in order of first sight */
    PyObject *userobjs; /* per frame id: code object (None until known) */
    PyObject *hooks[K_COUNT];
    PyObject *prev_thread_hook;
    PyObject *disable_obj;
    PyObject *mon;      /* sys.monitoring while enabled (3.12+) */
    int all_threads, enabled, tool_id;
    int local_events;     /* 3.12+: the events switched on for a target's code (bits by name) */
    int gated;            /* 3.9-3.11: tracing is switched per target frame */
    PyThreadState *owner; /* the enabling thread (the only one without all_threads) */
    uint64_t serial;
};

static uint64_t next_serial = 1;

typedef struct {
    uint64_t serial;
    pm_lthread *ts;
} tls_slot;
static _Thread_local tls_slot tls __attribute__((tls_model("initial-exec")));

static pm_lthread *thread_state(pm_LineTracerObject *self)
{
    if (tls.serial == self->serial)
        return tls.ts;
    pm_lthread *ts = pm_lines_thread(self->L, (uint64_t)PyThread_get_thread_ident(),
                                     (uint64_t)PyThread_get_thread_native_id());
    if (ts) {
        tls.serial = self->serial;
        tls.ts = ts;
    }
    return ts;
}

/* ---- targets ------------------------------------------------------------------ */

/* Records code as a target (is_target) or not; returns its frame or
 * PM_LINES_OUT, PM_NONE on error (exception set). */
static pm_id mark(pm_LineTracerObject *self, PyCodeObject *co, int is_target)
{
    pm_id fr = PM_LINES_OUT;
    if (is_target) {
        pm_profile *p = self->L->p;
#if PY_VERSION_HEX >= 0x030B0000
        PyObject *qn = co->co_qualname;
#else
        PyObject *qn = co->co_name;
#endif
        const char *name = PyUnicode_AsUTF8(qn), *file = PyUnicode_AsUTF8(co->co_filename);
        if (!name || !file)
            return PM_NONE;
        fr = pm_frame_intern(p, pm_str_intern_cstr(p, name), pm_str_intern_cstr(p, file), co->co_firstlineno,
                             PM_FRAME_PYTHON);
        if (fr == PM_NONE || fr >= PM_LINES_OUT) {
            PyErr_NoMemory();
            return PM_NONE;
        }
        while (PyList_GET_SIZE(self->userobjs) <= (Py_ssize_t)fr)
            if (PyList_Append(self->userobjs, Py_None) != 0)
                return PM_NONE;
        if (PyList_GET_ITEM(self->userobjs, fr) == Py_None) {
            Py_INCREF(co);
            PyList_SetItem(self->userobjs, fr, (PyObject *)co);
        }
        if (PyList_Append(self->targets, (PyObject *)co) != 0)
            return PM_NONE;
    }
    if (PyList_Append(self->keep, (PyObject *)co) != 0 || pm_lines_key_add(self->L, co, fr) != 0) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return PM_NONE;
    }
#if PM_MON
    if (is_target && self->enabled &&
        pm_bind_set_local(self->mon, self->tool_id, (PyObject *)co, self->local_events) != 0)
        return PM_NONE;
#endif
    return fr;
}

/* Set while `select` runs on this thread: its own frames are not asked about
 * (the frame-evaluation hook would ask again, without end). */
static _Thread_local int in_select;

/* First sight of a code object during tracing: asks `select`.  Never leaves
 * an exception behind (the program must not see one). */
static pm_id first_sight(pm_LineTracerObject *self, PyCodeObject *co)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int is_target = 0;
    if (self->select) {
        in_select = 1;
        PyObject *r = PyObject_CallOneArg(self->select, (PyObject *)co);
        in_select = 0;
        is_target = r ? PyObject_IsTrue(r) : -1;
        Py_XDECREF(r);
        if (is_target < 0) {
            PyErr_WriteUnraisable(self->select);
            is_target = 0;
        }
    }
    pm_id fr = mark(self, co, is_target);
    if (fr == PM_NONE)
        PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(et, ev, tb);
    return fr;
}

static inline pm_id frame_of(pm_LineTracerObject *self, PyCodeObject *co)
{
    pm_id fr = pm_lines_key_find(self->L, co);
    return fr == PM_NONE ? first_sight(self, co) : fr;
}

/* ---- events -------------------------------------------------------------------- */

static inline void on_start(pm_LineTracerObject *self, pm_id fr, PyCodeObject *co)
{
    pm_lthread *ts = thread_state(self);
    if (ts)
        pm_lines_enter(self->L, ts, fr, co);
}

static inline void on_line(pm_LineTracerObject *self, pm_id fr, PyCodeObject *co, int line)
{
    pm_lthread *ts = thread_state(self);
    if (!ts)
        return;
    /* A frame that started before tracing did (enable() inside it). */
    if (ts->depth == 0 || ts->stack[ts->depth - 1].key != co) {
        pm_lines_enter(self->L, ts, fr, co);
        if (ts->depth == 0 || ts->stack[ts->depth - 1].key != co)
            return; /* OOM */
    }
    pm_lines_line(ts, line, pm_clock_now());
}

/* The code on top of the thread's activations: a target (only targets are
 * pushed), so its events need no look-up. */
static inline pm_lthread *running(pm_LineTracerObject *self, PyCodeObject *co)
{
    pm_lthread *ts = thread_state(self);
    return ts && ts->depth && ts->stack[ts->depth - 1].key == co ? ts : NULL;
}

static inline void on_leave(pm_LineTracerObject *self, PyCodeObject *co)
{
    pm_lthread *ts = running(self, co);
    if (ts)
        pm_lines_leave(ts, pm_clock_now());
}

#if PM_MON
/* The callbacks' body: one callback per kind below (PM_HOOK_FN). */
static inline PyObject *dispatch(PyObject *op, PyObject *const *args, size_t nargsf, int kind)
{
    pm_LineTracerObject *self = (pm_LineTracerObject *)((pm_HookObject *)op)->owner;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (!self || !self->enabled || n < 2 || !PyCode_Check(args[0]))
        Py_RETURN_NONE;
    PyCodeObject *co = (PyCodeObject *)args[0];
    pm_lthread *ts;
    switch (kind) {
    case K_START: { /* PY_START (global or local), PY_RESUME, PY_THROW */
        pm_id fr = frame_of(self, co);
        if (fr == PM_LINES_OUT) {
            if (n == 2) { /* PY_START/PY_RESUME; PY_THROW (3 args) cannot be disabled */
                Py_INCREF(self->disable_obj);
                return self->disable_obj;
            }
        } else if (fr != PM_NONE) {
            on_start(self, fr, co);
        }
        break;
    }
    case K_LINE: {
        long line = pm_bind_small_int(args[1]);
        if (line <= 0 || line > INT32_MAX) {
            PyErr_Clear();
            break;
        }
        if ((ts = running(self, co))) {
            pm_lines_line(ts, (int)line, pm_clock_now());
            break;
        }
        pm_id fr = pm_lines_key_find(self->L, co);
        if (fr == PM_LINES_OUT || fr == PM_NONE) {
            Py_INCREF(self->disable_obj);
            return self->disable_obj;
        }
        on_line(self, fr, co, (int)line);
        break;
    }
    case K_RETURN: /* PY_RETURN, PY_YIELD (local) */
        if ((ts = running(self, co))) {
            pm_lines_leave(ts, pm_clock_now());
        } else if (pm_lines_key_find(self->L, co) == PM_LINES_OUT) {
            Py_INCREF(self->disable_obj);
            return self->disable_obj;
        }
        break;
    case K_UNWIND: /* global: any code */
        on_leave(self, co);
        break;
    }
    Py_RETURN_NONE;
}

PM_HOOK_FN(hook_start, dispatch, K_START)
PM_HOOK_FN(hook_return, dispatch, K_RETURN)
PM_HOOK_FN(hook_unwind, dispatch, K_UNWIND)
PM_HOOK_FN(hook_line, dispatch, K_LINE)
static const vectorcallfunc hook_fns[K_COUNT] = {hook_start, hook_return, hook_unwind, hook_line};
#endif

#if !PM_MON
static int trace_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    pm_LineTracerObject *self = (pm_LineTracerObject *)obj;
    if (!self->enabled)
        return 0;
    PyCodeObject *co = pm_bind_frame_code(frame);
    switch (what) {
    case PyTrace_CALL: {
        pm_id fr = frame_of(self, co);
        if (fr == PM_LINES_OUT) {
            if (pm_bind_skip_lines(frame) != 0)
                PyErr_Clear();
        } else if (fr != PM_NONE) {
            on_start(self, fr, co);
        }
        break;
    }
    case PyTrace_LINE: {
        pm_lthread *ts = running(self, co);
        if (ts) {
            pm_lines_line(ts, pm_bind_frame_line(frame), pm_clock_now());
            break;
        }
        pm_id fr = frame_of(self, co);
        if (fr == PM_LINES_OUT) {
            if (pm_bind_skip_lines(frame) != 0)
                PyErr_Clear();
        } else if (fr != PM_NONE) {
            on_line(self, fr, co, pm_bind_frame_line(frame));
        }
        break;
    }
    case PyTrace_RETURN:
        on_leave(self, co);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- 3.9-3.11: tracing gated by the frame-evaluation hook ------------------------------ */

static int set_trace(PyThreadState *tstate, pm_LineTracerObject *self)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int rc = _PyEval_SetTrace(tstate, self ? trace_hook : NULL, (PyObject *)self);
    if (rc < 0)
        PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(et, ev, tb);
    return rc;
}

/* Token 1: this target frame switched tracing on for its thread. */
static long gate_enter(void *ctx, PyThreadState *tstate, PyCodeObject *co)
{
    pm_LineTracerObject *self = (pm_LineTracerObject *)ctx;
    if (in_select || tstate->c_traceobj == (PyObject *)self || (!self->all_threads && tstate != self->owner))
        return 0; /* already traced: the trace hook sees the nested frames */
    if (tstate->c_tracefunc)
        return 0; /* the program traces this thread (sys.settrace, coverage): its tracer stays */
    pm_id fr = frame_of(self, co);
    if (fr == PM_NONE || fr == PM_LINES_OUT)
        return 0;
    return set_trace(tstate, self) == 0;
}

static void gate_leave(void *ctx, long token, PyObject *result)
{
    (void)token;
    (void)result;
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->c_traceobj == (PyObject *)ctx)
        set_trace(tstate, NULL);
}

/* enable() called inside target frames: they started untraced, so their
 * thread is traced from now on (until disable()). */
static int in_target_now(pm_LineTracerObject *self)
{
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    int found = 0;
    while (f && !found) {
        PyCodeObject *co = PyFrame_GetCode(f);
        pm_id fr = frame_of(self, co);
        Py_DECREF(co);
        found = fr != PM_NONE && fr != PM_LINES_OUT;
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    return found;
}
#endif

static PyObject *new_hook(pm_LineTracerObject *self, int kind)
{
#if PM_MON
    return pm_hook_new((PyObject *)self, &self->enabled, hook_fns[kind], NULL, 1);
#else
    (void)kind; /* before 3.12 a hook only installs the C hook in new threads */
    return pm_hook_new((PyObject *)self, &self->enabled, NULL, trace_hook, 1);
#endif
}

/* ---- the LineTracer type ------------------------------------------------------------ */

static PyObject *LT_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"profile", "select", "all_threads", NULL};
    PyObject *prof, *select = Py_None;
    int all_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|Op:LineTracer", kwlist, &pm_ProfileType, &prof, &select,
                                     &all_threads))
        return NULL;
    if (select != Py_None && !PyCallable_Check(select)) {
        PyErr_SetString(PyExc_TypeError, "select must be callable or None");
        return NULL;
    }
    pm_LineTracerObject *self = (pm_LineTracerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->L = pm_lines_new(((pm_ProfileObject *)prof)->p, pm_clock_calibrate());
    self->keep = PyList_New(0);
    self->targets = PyList_New(0);
    self->userobjs = PyList_New(0);
    if (!self->L || !self->keep || !self->targets || !self->userobjs) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(prof);
    self->profile = prof;
    if (select != Py_None) {
        Py_INCREF(select);
        self->select = select;
    }
    self->all_threads = all_threads;
    self->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
    self->tool_id = -1;
    return (PyObject *)self;
}

#if PM_MON
static int mon_register(pm_LineTracerObject *self, int on);
#endif

static void LT_dealloc(pm_LineTracerObject *self)
{
    if (self->enabled) { /* never leave a hook pointing at freed memory */
        self->enabled = 0;
#if PM_MON
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (self->mon) {
            if (self->tool_id >= 0)
                mon_register(self, 0);
            pm_toolid_release(self->mon, (PyObject *)self);
        }
        PyErr_Clear();
        PyErr_Restore(et, ev, tb);
#else
        if (self->gated)
            pm_evalhook_remove(self);
        pm_hooks_clear(self->hooks[K_START], self->all_threads && !self->gated ? &self->prev_thread_hook : NULL);
#endif
    }
    for (int k = 0; k < K_COUNT; k++) {
        pm_hook_orphan(self->hooks[k]);
        Py_XDECREF(self->hooks[k]);
    }
    pm_lines_free(self->L);
    Py_XDECREF(self->profile);
    Py_XDECREF(self->select);
    Py_XDECREF(self->keep);
    Py_XDECREF(self->targets);
    Py_XDECREF(self->userobjs);
    Py_XDECREF(self->prev_thread_hook);
    Py_XDECREF(self->disable_obj);
    Py_XDECREF(self->mon);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* add_code(code) -> frame id: makes code a target (also while enabled). */
static PyObject *LT_add_code(pm_LineTracerObject *self, PyObject *code)
{
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_TypeError, "add_code() needs a code object, not %.100s", Py_TYPE(code)->tp_name);
        return NULL;
    }
    pm_id fr = pm_lines_key_find(self->L, code);
    if (fr == PM_NONE || fr == PM_LINES_OUT)
        fr = mark(self, (PyCodeObject *)code, 1);
    if (fr == PM_NONE)
        return NULL;
    return PyLong_FromUnsignedLong(fr);
}

#if PM_MON
/* By name: the numbers moved in 3.14 (pm_bind_event).  Local events are
 * switched on for target code only; global ones everywhere. */
static const struct {
    int kind;
    const char *event;
    int global;
} mon_events[] = {
    {K_START, "PY_START", 0}, {K_START, "PY_RESUME", 0}, {K_START, "PY_THROW", 1},
    {K_RETURN, "PY_RETURN", 0}, {K_RETURN, "PY_YIELD", 0}, {K_UNWIND, "PY_UNWIND", 1},
    {K_LINE, "LINE", 0},
};
#define N_MON_EVENTS ((int)(sizeof mon_events / sizeof mon_events[0]))

static int mon_register(pm_LineTracerObject *self, int on)
{
    PyObject *mon = self->mon;
    int mask = 0, local = 0, start = 0;
    for (int i = 0; i < N_MON_EVENTS; i++) {
        int bit = pm_bind_event(mon, mon_events[i].event);
        if (!bit)
            return -1;
        PyObject *r = PyObject_CallMethod(mon, "register_callback", "iiO", self->tool_id, bit,
                                          on ? self->hooks[mon_events[i].kind] : Py_None);
        if (!r)
            return -1;
        Py_DECREF(r);
        if (mon_events[i].global)
            mask |= bit;
        else
            local |= bit;
        if (i == 0)
            start = bit; /* PY_START */
    }
    self->local_events = local;
    if (self->select)
        mask |= start; /* discovers targets; DISABLE for the rest */
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", self->tool_id, on ? mask : 0);
    if (!r)
        return -1;
    Py_DECREF(r);
    Py_ssize_t nt = PyList_GET_SIZE(self->targets);
    for (Py_ssize_t i = 0; i < nt; i++)
        if (pm_bind_set_local(self->mon, self->tool_id, PyList_GET_ITEM(self->targets, i), on ? local : 0) != 0)
            return -1;
    return 0;
}
#endif

#if PM_MON
/* pm_tool_move_fn: the program claimed our id (pm_bind_toolid.c). */
static int mon_move(PyObject *op, int new_id)
{
    pm_LineTracerObject *self = (pm_LineTracerObject *)op;
    if (self->tool_id >= 0 && mon_register(self, 0) != 0)
        PyErr_Clear(); /* the old id is freed next whatever it says */
    self->tool_id = new_id;
    return new_id >= 0 ? mon_register(self, 1) : 0;
}
#endif

static PyObject *LT_enable(pm_LineTracerObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the line profiler is already enabled");
        return NULL;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (!self->hooks[k] && !(self->hooks[k] = new_hook(self, k)))
            return NULL;
#if PM_MON
    PyObject *mon = pm_bind_monitoring();
    if (!mon)
        return NULL;
    if (!self->disable_obj && !(self->disable_obj = PyObject_GetAttrString(mon, "DISABLE"))) {
        Py_DECREF(mon);
        return NULL;
    }
    self->mon = mon;
    self->tool_id = pm_toolid_claim(mon, "pyrometer-lines", (PyObject *)self, mon_move);
    if (self->tool_id == -2) {
        self->tool_id = -1;
        Py_CLEAR(self->mon);
        return NULL;
    }
    if (self->tool_id < 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot profile lines: every sys.monitoring tool id is in use; "
                                            "stop the other profiler or debugger first");
        Py_CLEAR(self->mon);
        return NULL;
    }
    self->enabled = 1;
    if (mon_register(self, 1) != 0) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        mon_register(self, 0);
        PyErr_Clear();
        pm_toolid_release(mon, (PyObject *)self);
        PyErr_Restore(et, ev, tb);
        self->enabled = 0;
        self->tool_id = -1;
        Py_CLEAR(self->mon);
        return NULL;
    }
    /* Code disabled (DISABLE) in an earlier session may be a target now. */
    Py_XDECREF(PyObject_CallMethod(mon, "restart_events", NULL));
    PyErr_Clear();
#else
    self->owner = PyThreadState_Get();
    self->gated = 0;
    int rc = pm_evalhook_install(gate_enter, gate_leave, self);
    if (rc < 0)
        return NULL;
    if (rc == 0) {
        self->gated = 1;
        self->enabled = 1;
        if (in_target_now(self) && _PyEval_SetTrace(self->owner, trace_hook, (PyObject *)self) < 0) {
            self->enabled = 0;
            pm_evalhook_remove(self);
            return NULL;
        }
        Py_RETURN_NONE;
    }
    self->enabled = 1;
    if (self->all_threads)
        pm_hooks_set_everywhere(self->hooks[K_START], &self->prev_thread_hook);
    if (_PyEval_SetTrace(PyThreadState_Get(), trace_hook, (PyObject *)self) < 0) {
        self->enabled = 0;
        return NULL;
    }
#endif
    Py_RETURN_NONE;
}

static PyObject *LT_disable(pm_LineTracerObject *self, PyObject *noargs)
{
    (void)noargs;
    if (!self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the line profiler is not enabled (disable() called twice?)");
        return NULL;
    }
#if PM_MON
    int rc = self->tool_id >= 0 ? mon_register(self, 0) : 0; /* < 0: parked */
    pm_toolid_release(self->mon, (PyObject *)self);
    self->tool_id = -1;
    self->enabled = 0;
    Py_CLEAR(self->mon);
    pm_lines_flush(self->L, pm_clock_now());
    if (rc != 0)
        return NULL;
#else
    if (self->gated)
        pm_evalhook_remove(self);
    pm_hooks_clear(self->hooks[K_START], self->all_threads && !self->gated ? &self->prev_thread_hook : NULL);
    self->enabled = 0;
    pm_lines_flush(self->L, pm_clock_now());
#endif
    Py_RETURN_NONE;
}

static PyObject *LT_commit(pm_LineTracerObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_ProfileObject *po = (pm_ProfileObject *)self->profile;
    pthread_mutex_lock(&po->lock);
    int rc = pm_lines_commit(self->L);
    pthread_mutex_unlock(&po->lock);
    if (rc != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* func_totals() -> [(frame, activations, total_ns)] merged over threads:
 * total_ns is the time of the outermost activations (what the function's
 * line times add up to). */
static PyObject *LT_func_totals(pm_LineTracerObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_lines *L = self->L;
    uint32_t nf = pm_frame_count(L->p);
    int64_t *calls = calloc(nf ? nf : 1, sizeof *calls), *tot = calloc(nf ? nf : 1, sizeof *tot);
    char *seen = calloc(nf ? nf : 1, 1);
    PyObject *out = NULL;
    if (!calls || !tot || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t i = 0; i < L->nthreads; i++) {
        pm_lthread *ts = L->threads[i];
        for (uint32_t f = 0; f < ts->nfd && f < nf; f++)
            if (ts->fd[f]) {
                seen[f] = 1;
                calls[f] += ts->fd[f]->calls;
                tot[f] += ts->fd[f]->total;
            }
    }
    out = PyList_New(0);
    for (uint32_t f = 0; out && f < nf; f++) {
        if (!seen[f])
            continue;
        PyObject *row = Py_BuildValue("(kLd)", (unsigned long)f, (long long)calls[f], (double)tot[f] * L->tick_ns);
        if (!row || PyList_Append(out, row) != 0)
            Py_CLEAR(out);
        Py_XDECREF(row);
    }
done:
    free(calls);
    free(tot);
    free(seen);
    return out;
}

static PyObject *LT_get_enabled(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->enabled);
}

static PyObject *LT_userobjs(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyList_GetSlice(self->userobjs, 0, PyList_GET_SIZE(self->userobjs));
}

static PyObject *LT_targets(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyList_GetSlice(self->targets, 0, PyList_GET_SIZE(self->targets));
}

static PyObject *LT_tool_id(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyLong_FromLong(self->tool_id);
}

static PyObject *LT_tick_ns(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyFloat_FromDouble(self->L->tick_ns);
}

static PyMethodDef LT_methods[] = {
    {"enable", (PyCFunction)LT_enable, METH_NOARGS, "Starts tracing."},
    {"disable", (PyCFunction)LT_disable, METH_NOARGS, "Stops tracing; running lines end now."},
    {"add_code", (PyCFunction)LT_add_code, METH_O, "add_code(code) -> frame id: makes code a target."},
    {"commit", (PyCFunction)LT_commit, METH_NOARGS, "Writes what is new into the profile (hits, time)."},
    {"func_totals", (PyCFunction)LT_func_totals, METH_NOARGS, "[(frame, activations, outermost total ns)]."},
    {NULL, NULL, 0, NULL},
};

static PyObject *LT_hook(pm_LineTracerObject *self, void *c)
{
    (void)c;
    return PyUnicode_FromString(PM_MON ? "monitoring" : self->gated ? "eval+trace" : "trace");
}

static PyGetSetDef LT_getset[] = {
    {"hook", (getter)LT_hook, NULL,
     "How events arrive: 'monitoring' (3.12+), 'eval+trace' (trace hook switched on per target frame by the "
     "frame-evaluation hook) or 'trace' (trace hook on every thread).",
     NULL},
    {"enabled", (getter)LT_get_enabled, NULL, "Whether tracing is on.", NULL},
    {"userobjs", (getter)LT_userobjs, NULL, "Per frame id: the code object (None for no target).", NULL},
    {"targets", (getter)LT_targets, NULL, "Target code objects seen so far.", NULL},
    {"tool_id", (getter)LT_tool_id, NULL, "sys.monitoring tool id in use (-1: none).", NULL},
    {"tick_ns", (getter)LT_tick_ns, NULL, "Nanoseconds per clock tick.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_LineTracerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native.LineTracer",
    .tp_basicsize = sizeof(pm_LineTracerObject),
    .tp_dealloc = (destructor)LT_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LineTracer(profile, select=None, all_threads=True): the line tracer feeding profile.",
    .tp_methods = LT_methods,
    .tp_getset = LT_getset,
    .tp_new = LT_new,
};


/* line_rows(profile, thread=None) -> [(frame, line, hits, time_ns)] of a lines
 * profile's model, merged over threads, sorted by (frame, line). */
PyObject *pm_bind_line_rows(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *prof, *th = Py_None;
    if (!PyArg_ParseTuple(args, "O!|O:line_rows", &pm_ProfileType, &prof, &th))
        return NULL;
    pm_id thread = th == Py_None ? PM_NONE : (pm_id)PyLong_AsUnsignedLong(th);
    if (PyErr_Occurred())
        return NULL;
    pm_ProfileObject *po = (pm_ProfileObject *)prof;
    pthread_mutex_lock(&po->lock);
    int mh = pm_metric_find(po->p, "hits"), mt = pm_metric_find(po->p, "time");
    pm_lrow *rows = NULL;
    uint32_t n = 0;
    int rc = mh >= 0 && mt >= 0 ? pm_lines_rows(po->p, mh, mt, thread, &rows, &n) : -2;
    pthread_mutex_unlock(&po->lock);
    if (rc == -2) {
        PyErr_SetString(PyExc_ValueError, "the profile has no 'hits' and 'time' metrics (not a lines profile)");
        return NULL;
    }
    if (rc != 0)
        return PyErr_NoMemory();
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out && i < n; i++) {
        PyObject *row = Py_BuildValue("(kiLL)", (unsigned long)rows[i].frame, (int)rows[i].line,
                                      (long long)rows[i].hits, (long long)rows[i].time);
        if (!row)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, row);
    }
    free(rows);
    return out;
}
