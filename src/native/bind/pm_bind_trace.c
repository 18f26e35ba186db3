/* pm_bind_trace.c — the LineCounter type: the hooks that feed collect/pm_trace
 * (`pyrometer trace`: stdlib trace's --count, --listfuncs, --trackcalls and
 * --trace, and --coverage-only).
 *
 * Whether a code object is traced is decided once, on first sight, by the
 * `classify` callable (ignored modules and directories, targets); the code
 * object is kept alive so its address stays its own.
 *
 * The events are the ones `sys.settrace` gives stdlib trace, so the counts
 * are the same:
 * 3.12+: sys.monitoring with callback objects of our own type (vectorcall).
 *        PY_START/PY_RESUME (global) discover code; a code out of scope gets
 *        DISABLE at once, and so does every code when no function calls are
 *        wanted.  LINE is switched on per traced code (set_local_events).
 *        sys.settrace (built on sys.monitoring since 3.12) also reports a
 *        line when a backward jump lands on the line it left (a one-line
 *        loop), which LINE does not: JUMP is switched on with LINE, a
 *        forward jump or one to another line gets DISABLE (that instruction
 *        never reports again), a backward one within its line counts the
 *        line.  --coverage-only counts a line once and returns DISABLE, so
 *        covered code runs uninstrumented from then on.
 * 3.9-3.11: the C trace hook (PyEval_SetTrace) on every thread, threads
 *        started later through threading.settrace (pm_bind_hooks.c); a frame
 *        out of scope gets f_trace_lines = 0 at its call event; a line event
 *        of the frame a thread looked up last needs no look-up. */
#include "pm_bind.h"

#include <frameobject.h>

#include "collect/pm_trace.h"
#include "collect/pm_tracer.h" /* the clock */

#define PM_MON (PY_VERSION_HEX >= 0x030C0000)

enum { K_START, K_LINE, K_JUMP, K_COUNT };

typedef struct {
    PyObject_HEAD
    pm_trace *T;
    PyObject *classify;    /* callable(code) -> bool: is it traced */
    PyObject *thread_name; /* callable() -> str: the running thread's name (log) */
    PyObject *codes;       /* list: the code object of each index */
    PyObject *threads;     /* list: thread names, by the log's thread index */
    PyObject *hooks[K_COUNT];
    PyObject *prev_thread_hook;
    PyObject *disable_obj;
    PyObject *mon;
    int enabled, tool_id, local_events;
    int count, first_only, calls, callers, logging;
    uint64_t serial;
    int64_t t0;
    double tick_ns;
} pm_TraceObject;

static uint64_t next_serial = 1;

typedef struct {
    uint64_t serial;
    uint32_t thread;
} tls_slot;
static _Thread_local tls_slot tls __attribute__((tls_model("initial-exec")));

/* Set while Python code of ours (classify, thread_name) runs on this thread:
 * its own events are not the program's.  Initial-exec like tls: every event
 * reads it, and the general model costs a call per read. */
static _Thread_local int in_callback __attribute__((tls_model("initial-exec")));

/* First sight of a code object: asks classify, records the answer.  Never
 * leaves an exception behind (the program must not see one). */
static uint32_t first_sight(pm_TraceObject *self, PyCodeObject *co)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    in_callback = 1;
    PyObject *r = PyObject_CallOneArg(self->classify, (PyObject *)co);
    in_callback = 0;
    int traced = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    if (traced < 0) {
        PyErr_WriteUnraisable(self->classify);
        traced = 0;
    }
    uint32_t idx = PM_TRACE_UNSEEN;
    if (PyList_Append(self->codes, (PyObject *)co) == 0) {
        idx = pm_trace_add(self->T, co, traced);
        if (idx == PM_TRACE_UNSEEN)
            PyList_SetSlice(self->codes, PyList_GET_SIZE(self->codes) - 1, PyList_GET_SIZE(self->codes), NULL);
    }
#if PM_MON
    if (idx != PM_TRACE_UNSEEN && traced && self->local_events &&
        pm_bind_set_local(self->mon, self->tool_id, (PyObject *)co, self->local_events))
        PyErr_WriteUnraisable((PyObject *)self);
#endif
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return idx;
}

static inline uint32_t index_of(pm_TraceObject *self, PyCodeObject *co)
{
    uint32_t idx = pm_trace_find(self->T, co);
    return idx == PM_TRACE_UNSEEN ? first_sight(self, co) : idx;
}

static inline int traced(pm_TraceObject *self, uint32_t idx)
{
    return idx != PM_TRACE_UNSEEN && self->T->codes[idx].traced;
}

/* The log's index of the running thread (its name asked once). */
static uint32_t thread_index(pm_TraceObject *self)
{
    if (tls.serial == self->serial)
        return tls.thread;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    in_callback = 1;
    PyObject *name = self->thread_name ? PyObject_CallNoArgs(self->thread_name) : NULL;
    in_callback = 0;
    if (!name) {
        PyErr_Clear();
        name = PyUnicode_FromFormat("thread-%lu", PyThread_get_thread_ident());
    }
    uint32_t i = (uint32_t)PyList_GET_SIZE(self->threads);
    if (!name || PyList_Append(self->threads, name) != 0)
        i = 0; /* the first thread's name stands in; nothing better to do without memory */
    Py_XDECREF(name);
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    tls.serial = self->serial;
    tls.thread = i;
    return i;
}

static inline void on_line(pm_TraceObject *self, uint32_t idx, int line)
{
    if (self->first_only)
        pm_trace_mark(self->T, idx, line);
    else if (self->count)
        pm_trace_hit(self->T, idx, line);
    if (self->logging)
        pm_trace_log(self->T, thread_index(self), idx, line, pm_clock_now());
}

/* A call (or a generator's resumption) of code idx, whose caller is back. */
static void on_call(pm_TraceObject *self, uint32_t idx, PyFrameObject *back)
{
    self->T->codes[idx].called = 1;
    if (!self->callers || !back)
        return;
    PyCodeObject *pco = PyFrame_GetCode(back);
    uint32_t parent = index_of(self, pco);
    Py_DECREF(pco);
    if (traced(self, parent))
        pm_trace_pair(self->T, parent, idx);
}

#if PM_MON
/* The backward jump within one line this thread counted last: a one-line
 * loop fires the same jump on every turn, and whether it stays on its line
 * is fixed by the instruction (a backward jump's target is in the code), so
 * the line is found once, not by decoding the location table twice a turn.
 * The code is traced, so kept alive: its address is its own for the session;
 * serial: no other session's entry is taken. */
typedef struct {
    uint64_t serial;
    PyCodeObject *co;
    long from;
    int line;
    uint32_t idx;
} jump_slot;
static _Thread_local jump_slot last_jump __attribute__((tls_model("initial-exec")));

static inline PyObject *disable(pm_TraceObject *self)
{
    Py_INCREF(self->disable_obj);
    return self->disable_obj;
}

static inline PyObject *dispatch(PyObject *op, PyObject *const *args, size_t nargsf, int kind)
{
    pm_TraceObject *self = (pm_TraceObject *)((pm_HookObject *)op)->owner;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (!self || !self->enabled || in_callback || n < 2 || !PyCode_Check(args[0]))
        Py_RETURN_NONE;
    PyCodeObject *co = (PyCodeObject *)args[0];
    switch (kind) {
    case K_START: { /* PY_START, PY_RESUME; PY_THROW (3 arguments, cannot be disabled) */
        uint32_t idx = index_of(self, co);
        int is = traced(self, idx);
        if (is && self->calls) {
            PyFrameObject *f = PyEval_GetFrame(); /* the frame starting */
            PyFrameObject *back = f ? PyFrame_GetBack(f) : NULL;
            on_call(self, idx, back);
            Py_XDECREF(back);
        }
        /* Out of scope, or nothing more to learn from this code's starts.
         * While lines are counted exactly, the starts of traced code stay
         * instrumented, as sys.settrace keeps them: whether CPython reports
         * the LINE event right after a RESUME on the RESUME's own line
         * depends on how that RESUME is instrumented (3.13: a generator
         * expression called again lost a line with PY_START disabled). */
        if (n == 2 && (!is || (!self->calls && (self->first_only || !(self->count || self->logging)))))
            return disable(self);
        break;
    }
    case K_LINE: {
        uint32_t idx = pm_trace_find(self->T, co);
        if (!traced(self, idx))
            return disable(self);
        long line = pm_bind_small_int(args[1]);
        if (line <= 0 || line > INT32_MAX) {
            PyErr_Clear();
            break;
        }
        on_line(self, idx, (int)line);
        if (self->first_only)
            return disable(self);
        break;
    }
    case K_JUMP: { /* code, from, to (byte offsets) */
        if (n < 3)
            break;
        long from = pm_bind_small_int(args[1]), to = pm_bind_small_int(args[2]);
        if (from < 0 || to < 0) {
            PyErr_Clear();
            break;
        }
        if (to > from)
            return disable(self);
        if (last_jump.co == co && last_jump.from == from && last_jump.serial == self->serial) {
            on_line(self, last_jump.idx, last_jump.line);
            break;
        }
        int to_line = PyCode_Addr2Line(co, (int)to);
        if (to_line != PyCode_Addr2Line(co, (int)from) || to_line <= 0)
            return disable(self); /* LINE reports it (or no line at all) */
        uint32_t idx = pm_trace_find(self->T, co);
        if (!traced(self, idx))
            return disable(self);
        last_jump = (jump_slot){self->serial, co, from, to_line, idx};
        on_line(self, idx, to_line);
        break;
    }
    }
    Py_RETURN_NONE;
}

PM_HOOK_FN(hook_start, dispatch, K_START)
PM_HOOK_FN(hook_line, dispatch, K_LINE)
PM_HOOK_FN(hook_jump, dispatch, K_JUMP)
static const vectorcallfunc hook_fns[K_COUNT] = {hook_start, hook_line, hook_jump};

#else /* 3.9-3.11 */

/* The frame this thread looked up last, and its code's index: the lines of
 * one frame come one after another, so most line events need neither the
 * code object nor a look-up (on 3.11 the look-up cost as much as the rest of
 * our hook).  The entry is set when a frame is looked up (its call event, or
 * a line event of a frame that was running before the session) and dropped
 * at its return event, so no frame reusing a freed frame object's address
 * inherits it: a new frame's first event is its call, and on 3.11 a frame
 * already running gets its frame object only at its first event, possibly
 * where a returned frame's was.  Per thread: no other thread's frame can
 * match; serial: no other session's entry is taken. */
typedef struct {
    uint64_t serial;
    PyFrameObject *frame;
    uint32_t idx; /* traced (an untraced frame has no line events) */
} frame_slot;
static _Thread_local frame_slot last __attribute__((tls_model("initial-exec")));

/* The frame's code when traced (and then the frame's entry in `last`), else
 * PM_TRACE_UNSEEN, the frame's line events switched off. */
static uint32_t frame_index(pm_TraceObject *self, PyFrameObject *frame)
{
    uint32_t idx = index_of(self, pm_bind_frame_code(frame));
    if (!traced(self, idx)) {
        if (last.frame == frame)
            last.frame = NULL;
        if (pm_bind_skip_lines(frame) != 0)
            PyErr_Clear();
        return PM_TRACE_UNSEEN;
    }
    last.serial = self->serial;
    last.frame = frame;
    last.idx = idx;
    return idx;
}

static int trace_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    pm_TraceObject *self = (pm_TraceObject *)obj;
    if (!self->enabled || in_callback)
        return 0;
    uint32_t idx;
    switch (what) {
    case PyTrace_LINE:
        if (!(self->count || self->logging))
            return 0;
        if (last.frame == frame && last.serial == self->serial)
            idx = last.idx;
        else if ((idx = frame_index(self, frame)) == PM_TRACE_UNSEEN)
            return 0;
        on_line(self, idx, pm_bind_frame_line(frame));
        return 0;
    case PyTrace_CALL:
        if ((idx = frame_index(self, frame)) != PM_TRACE_UNSEEN && self->calls) {
            PyFrameObject *back = PyFrame_GetBack(frame);
            on_call(self, idx, back);
            Py_XDECREF(back);
        }
        return 0;
    case PyTrace_RETURN:
        if (last.frame == frame)
            last.frame = NULL;
        return 0;
    default:
        return 0;
    }
}
#endif

static PyObject *new_hook(pm_TraceObject *self, int kind)
{
#if PM_MON
    return pm_hook_new((PyObject *)self, &self->enabled, hook_fns[kind], NULL, 1);
#else
    (void)kind;
    return pm_hook_new((PyObject *)self, &self->enabled, NULL, trace_hook, 1);
#endif
}

/* ---- the type ------------------------------------------------------------------------ */

static PyObject *TR_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"classify", "count", "first_only", "calls", "callers", "log_limit", "thread_name",
                             NULL};
    PyObject *classify, *thread_name = Py_None;
    int count = 1, first_only = 0, calls = 0, callers = 0;
    unsigned long long log_limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|ppppKO:LineCounter", kwlist, &classify, &count, &first_only,
                                     &calls, &callers, &log_limit, &thread_name))
        return NULL;
    if (!PyCallable_Check(classify) || (thread_name != Py_None && !PyCallable_Check(thread_name))) {
        PyErr_SetString(PyExc_TypeError, "classify and thread_name must be callable");
        return NULL;
    }
    pm_TraceObject *self = (pm_TraceObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->T = pm_trace_new(log_limit);
    self->codes = PyList_New(0);
    self->threads = PyList_New(0);
    if (!self->T || !self->codes || !self->threads) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(classify);
    self->classify = classify;
    if (thread_name != Py_None) {
        Py_INCREF(thread_name);
        self->thread_name = thread_name;
    }
    self->count = count;
    self->first_only = first_only;
    self->calls = calls || callers;
    self->callers = callers;
    self->logging = log_limit > 0;
    self->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
    self->tool_id = -1;
    self->tick_ns = pm_clock_calibrate();
    return (PyObject *)self;
}

#if PM_MON
static const struct {
    int kind;
    const char *event;
} mon_events[] = {
    {K_START, "PY_START"}, {K_START, "PY_RESUME"}, {K_START, "PY_THROW"}, {K_LINE, "LINE"}, {K_JUMP, "JUMP"},
};
#define N_MON_EVENTS ((int)(sizeof mon_events / sizeof mon_events[0]))

/* Registers (on) or removes every callback; sets the global events and the
 * local ones of every traced code seen so far. */
static int mon_register(pm_TraceObject *self, int on)
{
    int global = 0, local = 0;
    int lines = self->count || self->logging;
    for (int i = 0; i < N_MON_EVENTS; i++) {
        int bit = pm_bind_event(self->mon, mon_events[i].event);
        if (!bit)
            return -1;
        int kind = mon_events[i].kind, wanted;
        if (kind == K_START)
            wanted = i < 2 || self->calls; /* PY_THROW only tells of calls */
        else if (kind == K_LINE)
            wanted = lines;
        else
            wanted = lines && !self->first_only;
        if (!wanted)
            continue;
        PyObject *r = PyObject_CallMethod(self->mon, "register_callback", "iiO", self->tool_id, bit,
                                          on ? self->hooks[kind] : Py_None);
        if (!r)
            return -1;
        Py_DECREF(r);
        if (kind == K_START)
            global |= bit;
        else
            local |= bit;
    }
    self->local_events = on ? local : 0;
    PyObject *r = PyObject_CallMethod(self->mon, "set_events", "ii", self->tool_id, on ? global : 0);
    if (!r)
        return -1;
    Py_DECREF(r);
    for (uint32_t i = 0; local && i < self->T->ncodes; i++) {
        PyObject *code = PyList_GET_ITEM(self->codes, i);
        if (self->T->codes[i].traced && pm_bind_set_local(self->mon, self->tool_id, code, on ? local : 0) != 0)
            return -1;
    }
    return 0;
}

/* pm_tool_move_fn: the program claimed our id (pm_bind_toolid.c). */
static int mon_move(PyObject *op, int new_id)
{
    pm_TraceObject *self = (pm_TraceObject *)op;
    if (self->tool_id >= 0 && mon_register(self, 0) != 0)
        PyErr_Clear();
    self->tool_id = new_id;
    return new_id >= 0 ? mon_register(self, 1) : 0;
}

static void mon_stop(pm_TraceObject *self)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (self->tool_id >= 0 && mon_register(self, 0) != 0)
        PyErr_Clear();
    pm_toolid_release(self->mon, (PyObject *)self);
    self->tool_id = -1;
    Py_CLEAR(self->mon);
    PyErr_Restore(et, ev, tb);
}
#endif

static void stop(pm_TraceObject *self)
{
    if (!self->enabled)
        return;
    self->enabled = 0;
#if PM_MON
    mon_stop(self);
#else
    pm_hooks_clear(self->hooks[K_START], &self->prev_thread_hook);
#endif
}

static void TR_dealloc(pm_TraceObject *self)
{
    stop(self); /* never leave a hook pointing at freed memory */
    for (int k = 0; k < K_COUNT; k++) {
        pm_hook_orphan(self->hooks[k]);
        Py_XDECREF(self->hooks[k]);
    }
    pm_trace_free(self->T);
    Py_XDECREF(self->classify);
    Py_XDECREF(self->thread_name);
    Py_XDECREF(self->codes);
    Py_XDECREF(self->threads);
    Py_XDECREF(self->prev_thread_hook);
    Py_XDECREF(self->disable_obj);
    Py_XDECREF(self->mon);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *TR_enable(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the line counter is already enabled");
        return NULL;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (!self->hooks[k] && !(self->hooks[k] = new_hook(self, k)))
            return NULL;
    self->t0 = pm_clock_now();
#if PM_MON
    PyObject *mon = pm_bind_monitoring();
    if (!mon)
        return NULL;
    if (!self->disable_obj && !(self->disable_obj = PyObject_GetAttrString(mon, "DISABLE"))) {
        Py_DECREF(mon);
        return NULL;
    }
    self->mon = mon;
    self->tool_id = pm_toolid_claim(mon, "pyrometer-trace", (PyObject *)self, mon_move);
    if (self->tool_id < 0) {
        if (self->tool_id == -1)
            PyErr_SetString(PyExc_RuntimeError, "cannot trace: every sys.monitoring tool id is in use");
        self->tool_id = -1;
        Py_CLEAR(self->mon);
        return NULL;
    }
    self->enabled = 1;
    if (mon_register(self, 1) != 0) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        self->enabled = 0;
        mon_stop(self);
        PyErr_Restore(et, ev, tb);
        return NULL;
    }
    Py_XDECREF(PyObject_CallMethod(mon, "restart_events", NULL));
    PyErr_Clear();
#else
    self->enabled = 1;
    pm_hooks_set_everywhere(self->hooks[K_START], &self->prev_thread_hook);
    if (_PyEval_SetTrace(PyThreadState_Get(), trace_hook, (PyObject *)self) < 0) {
        stop(self);
        return NULL;
    }
#endif
    Py_RETURN_NONE;
}

static PyObject *TR_disable(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    stop(self);
    Py_RETURN_NONE;
}

/* counts() -> [(code index, line, count)] of the traced code. */
static PyObject *TR_counts(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out && i < self->T->ncodes; i++) {
        const pm_trcode *c = &self->T->codes[i];
        for (uint32_t j = 0; out && j < c->n; j++) {
            if (!c->hits[j])
                continue;
            PyObject *row = Py_BuildValue("(IiL)", i, (int)(c->base + (int32_t)j), (long long)c->hits[j]);
            if (!row || PyList_Append(out, row) != 0)
                Py_CLEAR(out);
            Py_XDECREF(row);
        }
    }
    return out;
}

/* called() -> [code index] of the traced functions that were called. */
static PyObject *TR_called(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out && i < self->T->ncodes; i++) {
        if (!self->T->codes[i].called)
            continue;
        PyObject *v = PyLong_FromUnsignedLong(i);
        if (!v || PyList_Append(out, v) != 0)
            Py_CLEAR(out);
        Py_XDECREF(v);
    }
    return out;
}

/* pairs() -> [(caller index, callee index)]. */
static PyObject *TR_pairs(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out && i < self->T->pair_cap; i++) {
        uint64_t v = self->T->pairs[i];
        if (!v)
            continue;
        PyObject *row = Py_BuildValue("(II)", (unsigned)(v >> 32) - 1, (unsigned)(v & 0xffffffffu) - 1);
        if (!row || PyList_Append(out, row) != 0)
            Py_CLEAR(out);
        Py_XDECREF(row);
    }
    return out;
}

/* log() -> [(thread index, code index, line, seconds since enable())]. */
static PyObject *TR_log(pm_TraceObject *self, PyObject *noargs)
{
    (void)noargs;
    const pm_trace *T = self->T;
    PyObject *out = PyList_New((Py_ssize_t)T->nlog);
    for (uint64_t i = 0; out && i < T->nlog; i++) {
        const pm_trline *r = &T->log[i];
        PyObject *row = Py_BuildValue("(IIid)", r->thread, r->code, (int)r->line,
                                      (double)(r->t - self->t0) * self->tick_ns * 1e-9);
        if (!row)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, row);
    }
    return out;
}

static PyObject *TR_codes(pm_TraceObject *self, void *c)
{
    (void)c;
    return PyList_GetSlice(self->codes, 0, PyList_GET_SIZE(self->codes));
}

static PyObject *TR_threads(pm_TraceObject *self, void *c)
{
    (void)c;
    return PyList_GetSlice(self->threads, 0, PyList_GET_SIZE(self->threads));
}

static PyObject *TR_dropped(pm_TraceObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(self->T->log_dropped);
}

static PyObject *TR_oom(pm_TraceObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->T->oom);
}

static PyObject *TR_hook(pm_TraceObject *self, void *c)
{
    (void)c;
    (void)self;
    return PyUnicode_FromString(PM_MON ? "monitoring" : "trace");
}

static PyMethodDef TR_methods[] = {
    {"enable", (PyCFunction)TR_enable, METH_NOARGS, "Starts counting (every thread)."},
    {"disable", (PyCFunction)TR_disable, METH_NOARGS, "Stops counting."},
    {"counts", (PyCFunction)TR_counts, METH_NOARGS, "[(code index, line, count)]."},
    {"called", (PyCFunction)TR_called, METH_NOARGS, "[code index] of the functions called."},
    {"pairs", (PyCFunction)TR_pairs, METH_NOARGS, "[(caller index, callee index)]."},
    {"log", (PyCFunction)TR_log, METH_NOARGS, "[(thread index, code index, line, seconds)] in order."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef TR_getset[] = {
    {"codes", (getter)TR_codes, NULL, "The code object of each index.", NULL},
    {"threads", (getter)TR_threads, NULL, "The thread names of the log, by index.", NULL},
    {"dropped", (getter)TR_dropped, NULL, "Lines left out of the full log.", NULL},
    {"oom", (getter)TR_oom, NULL, "Whether events were lost for lack of memory.", NULL},
    {"hook", (getter)TR_hook, NULL, "How events arrive: 'monitoring' (3.12+) or 'trace'.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_LineCounterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native.LineCounter",
    .tp_basicsize = sizeof(pm_TraceObject),
    .tp_dealloc = (destructor)TR_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "LineCounter(classify, count=True, first_only=False, calls=False, callers=False, log_limit=0, "
              "thread_name=None): the counts of `pyrometer trace`.",
    .tp_methods = TR_methods,
    .tp_getset = TR_getset,
    .tp_new = TR_new,
};
