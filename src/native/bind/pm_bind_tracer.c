/* pm_bind_tracer.c — the Tracer type: the hooks that feed collect/pm_tracer
 * (calls mode and the cProfile-compatible pyrometer.Profile).
 *
 * 3.12+: sys.monitoring with callback objects of our own type (vectorcall,
 *        no bound-method or tuple in between), PY_START/RESUME/THROW and
 *        PY_RETURN/YIELD/UNWIND, plus CALL/C_RETURN/C_RAISE only with
 *        builtins.  Out-of-scope code gets DISABLE.  Events of every thread
 *        arrive; each thread has its own context stack (thread-local).
 *        Tool id: a free one, not PROFILER_ID first (pm_bind_use_tool).
 * 3.9-3.11: Python functions only (no builtins, no user timer): the
 *        frame-evaluation hook (pm_bind_evalhook.c), several times cheaper;
 *        it sees every thread, so without all_threads the hook skips the
 *        other threads.  Otherwise, or when another frame-evaluation hook
 *        is in place: the C profile hook (PyEval_SetProfile), on the calling
 *        thread or (all_threads) on every thread plus threads started later
 *        through threading.setprofile (pm_bind_hooks.c). */
#include "pm_bind.h"

#include <frameobject.h>
#include <math.h>
#include <time.h>
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include <opcode.h> /* RESUME */
#endif

#include "collect/pm_tracer.h"
#include "output/pm_callstats.h"

#define PM_MON (PY_VERSION_HEX >= 0x030C0000)

/* K_RESUME and K_YIELD are K_START and K_RETURN that are not a call or a
 * return: a generator's resumption and yield (--log-args logs neither). */
enum { K_START, K_RESUME, K_THROW, K_RETURN, K_YIELD, K_UNWIND, K_CCALL, K_CRET, K_RAISE, K_COUNT };

typedef struct pm_TracerObject pm_TracerObject;

struct pm_TracerObject {
    PyObject_HEAD
    pm_tracer *t;
    PyObject *profile; /* pm_ProfileObject owning the model */
    PyObject *timer;   /* external timer or NULL */
    double timeunit;
    int builtins, subcalls, all_threads, enabled, in_timer, tool_id;
    int evalhook;          /* 3.9-3.11: this session uses the frame-evaluation hook */
    int stackhook;         /* 3.9-3.11, profile hook: the frame-evaluation hook for C stack only */
    PyThreadState *owner;  /* the enabling thread (the only one without all_threads) */
    uint64_t serial;
    PyObject *keep;     /* key objects kept alive (code objects) */
    PyObject *userobjs; /* per frame id: code object or descriptive str */
    PyObject *exclude;  /* set of file names out of scope, or NULL */
    PyObject *hooks[K_COUNT];
    PyObject *prev_thread_hook;
    PyObject *disable_obj;
    pm_logargs la; /* --log-args (timeline only) */
};

static uint64_t next_serial = 1;

typedef struct {
    uint64_t serial;
    pm_tthread *ts;
} tls_slot;
static _Thread_local tls_slot tls __attribute__((tls_model("initial-exec")));

static pm_tthread *thread_state(pm_TracerObject *self)
{
    if (tls.serial == self->serial)
        return tls.ts;
    pm_tthread *ts = pm_tracer_thread(self->t, (uint64_t)PyThread_get_thread_ident(),
#if PY_VERSION_HEX >= 0x03080000
                                      (uint64_t)PyThread_get_thread_native_id()
#else
                                      0
#endif
    );
    if (ts) {
        tls.serial = self->serial;
        tls.ts = ts;
    }
    return ts;
}

/* The user's timer with cProfile's conversions (ints scaled by timeunit;
 * otherwise seconds).  Out of line: the hooks inline only now()'s test. */
static __attribute__((noinline)) int64_t timer_now(pm_TracerObject *self)
{
    PyObject *exc_type, *exc_val, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_val, &exc_tb);
    self->in_timer = 1;
    PyObject *o = PyObject_CallNoArgs(self->timer);
    self->in_timer = 0;
    int64_t r = 0;
    if (o) {
        if (self->timeunit > 0.0) {
            if (PyLong_Check(o))
                r = PyLong_AsLongLong(o);
            else
                PyErr_Format(PyExc_TypeError, "expect int, got %s", Py_TYPE(o)->tp_name);
        } else if (PyFloat_Check(o)) {
            double d = floor(PyFloat_AS_DOUBLE(o) * 1e9);
            if (d >= -9.2e18 && d < 9.2e18)
                r = (int64_t)d;
            else
                PyErr_SetString(PyExc_OverflowError, "timestamp too large");
        } else {
            long long s = PyLong_AsLongLong(o);
            if (!(s == -1 && PyErr_Occurred()))
                r = s * 1000000000LL;
        }
        Py_DECREF(o);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(self->timer);
        r = 0;
    }
    PyErr_Restore(exc_type, exc_val, exc_tb);
    return r;
}

/* One clock read: the TSC (or monotonic clock), or the user's timer. */
static inline int64_t now(pm_TracerObject *self)
{
    return self->timer ? timer_now(self) : pm_clock_now();
}

/* ---- naming (slow path, first sight of a key) --------------------------- */

static PyObject *cfunc_label(PyObject *obj)
{
    /* cProfile's normalizeUserObj: "<len>", "<mod.func>", repr of the
     * method descriptor, "<built-in method mod.name>". */
    PyCFunctionObject *fn = (PyCFunctionObject *)obj;
    if (fn->m_self == NULL) {
        PyObject *mod = fn->m_module, *modname = NULL;
        if (mod && PyUnicode_Check(mod)) {
            modname = mod;
            Py_INCREF(modname);
        } else if (mod && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (!modname)
                PyErr_Clear();
        }
        if (modname) {
            if (PyUnicode_CompareWithASCIIString(modname, "builtins") != 0) {
                PyObject *r = PyUnicode_FromFormat("<%U.%s>", modname, fn->m_ml->ml_name);
                Py_DECREF(modname);
                return r;
            }
            Py_DECREF(modname);
        }
        return PyUnicode_FromFormat("<%s>", fn->m_ml->ml_name);
    }
    PyObject *name = PyUnicode_FromString(fn->m_ml->ml_name);
    if (name) {
        PyObject *mo = _PyType_Lookup(Py_TYPE(fn->m_self), name);
        Py_DECREF(name);
        if (mo) {
            Py_INCREF(mo);
            PyObject *r = PyObject_Repr(mo);
            Py_DECREF(mo);
            if (r)
                return r;
        }
    }
    PyErr_Clear();
    if (fn->m_module && PyUnicode_Check(fn->m_module))
        return PyUnicode_FromFormat("<built-in method %S.%s>", fn->m_module, fn->m_ml->ml_name);
    return PyUnicode_FromFormat("<built-in method %s>", fn->m_ml->ml_name);
}

static pm_id add_frame(pm_TracerObject *self, void *key, PyObject *keyobj, PyObject *userobj, const char *name,
                       const char *file, int line, pm_frame_kind kind)
{
    pm_profile *p = self->t->p;
    pm_id fr = pm_frame_intern(p, pm_str_intern_cstr(p, name), pm_str_intern_cstr(p, file), line, kind);
    if (fr == PM_NONE)
        return PM_NONE;
    while (PyList_GET_SIZE(self->userobjs) <= (Py_ssize_t)fr)
        if (PyList_Append(self->userobjs, Py_None) != 0)
            return PM_NONE;
    if (PyList_GET_ITEM(self->userobjs, fr) == Py_None) {
        Py_INCREF(userobj);
        PyList_SetItem(self->userobjs, fr, userobj);
    }
    if (keyobj && PyList_Append(self->keep, keyobj) != 0)
        return PM_NONE;
    if (pm_tracer_key_add(self->t, key, fr) != 0)
        return PM_NONE;
    return fr;
}

static pm_id code_frame_slow(pm_TracerObject *self, PyCodeObject *co)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    pm_id fr = PM_NONE;
    if (self->exclude && PySet_Contains(self->exclude, co->co_filename) == 1) {
        if (PyList_Append(self->keep, (PyObject *)co) == 0 && pm_tracer_key_add(self->t, co, PM_TRACER_OUT) == 0)
            fr = PM_TRACER_OUT;
    } else {
#if PY_VERSION_HEX >= 0x030B0000
        PyObject *qn = co->co_qualname;
#else
        PyObject *qn = co->co_name;
#endif
        const char *name = PyUnicode_AsUTF8(qn), *file = PyUnicode_AsUTF8(co->co_filename);
        if (name && file)
            fr = add_frame(self, co, (PyObject *)co, (PyObject *)co, name, file, co->co_firstlineno, PM_FRAME_PYTHON);
    }
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return fr;
}

static pm_id cfunc_frame_slow(pm_TracerObject *self, PyObject *fn)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    pm_id fr = PM_NONE;
    PyObject *label = cfunc_label(fn);
    const char *name = label ? PyUnicode_AsUTF8(label) : NULL;
    if (name)
        fr = add_frame(self, ((PyCFunctionObject *)fn)->m_ml, NULL, label, name, "~", 0, PM_FRAME_NATIVE);
    Py_XDECREF(label);
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
    return fr;
}

#if PM_MON
static PyObject *as_cfunc(PyObject *callable, PyObject *arg0);
#endif

static pm_id descr_frame_slow(pm_TracerObject *self, PyObject *descr, PyObject *arg0)
{
#if PM_MON
    PyObject *fn = as_cfunc(descr, arg0);
    if (!fn)
        return PM_NONE;
    /* The bound builtin's definition is the descriptor's: the same key. */
    pm_id fr = cfunc_frame_slow(self, fn);
    Py_DECREF(fn);
    return fr;
#else
    (void)self, (void)descr, (void)arg0;
    return PM_NONE;
#endif
}

/* ---- the events --------------------------------------------------------- */

/* Returns 1 when the code is out of scope (3.12+: DISABLE). */
static pm_id descr_frame_slow(pm_TracerObject *self, PyObject *descr, PyObject *arg0);

/* is_c: 0 a code object, 1 a builtin function, 2 a method descriptor whose
 * bound builtin (made only here, on first sight) is named with arg0. */
static inline int on_enter(pm_TracerObject *self, void *key, PyObject *obj, int is_c, PyObject *arg0)
{
    pm_tthread *ts = thread_state(self);
    pm_id node = ts ? pm_tracer_cached(self->t, ts, key) : PM_NONE;
    if (node != PM_NONE) { /* the usual case: no look-up */
        pm_tracer_push(self->t, ts, key, node, now(self));
        return 0;
    }
    pm_id fr = pm_tracer_key_find(self->t, key);
    if (fr == PM_NONE) {
        fr = is_c == 2 ? descr_frame_slow(self, obj, arg0)
             : is_c     ? cfunc_frame_slow(self, obj)
                        : code_frame_slow(self, (PyCodeObject *)obj);
        if (fr == PM_NONE)
            return 0;
    }
    if (fr == PM_TRACER_OUT)
        return 1;
    if (!ts)
        return 0;
    pm_tracer_enter(self->t, ts, key, fr, now(self));
    return 0;
}

static inline int on_leave(pm_TracerObject *self, void *key)
{
    pm_tthread *ts = thread_state(self);
    if (ts && ts->depth && ts->stack[ts->depth - 1].key == key) { /* the usual case: no look-up */
        pm_tracer_leave(self->t, ts, now(self));
        return 0;
    }
    pm_id fr = pm_tracer_key_find(self->t, key);
    if (fr == PM_TRACER_OUT)
        return 1;
    if (!ts || ts->depth == 0)
        return 0;
    if (fr == PM_NONE) { /* cProfile: pop without figures, no clock read */
        ts->depth--;
        return 0;
    }
    pm_tracer_leave(self->t, ts, now(self));
    return 0;
}

#if PM_MON
/* CALL / C_RETURN / C_RAISE: (code, offset, callable, arg0).  A method
 * descriptor called with its self is the bound builtin method, as cProfile
 * counts it. */
static PyObject *as_cfunc(PyObject *callable, PyObject *arg0)
{
    if (PyCFunction_Check(callable)) {
        Py_INCREF(callable);
        return callable;
    }
    if (Py_TYPE(callable) == &PyMethodDescr_Type && arg0 && Py_TYPE(arg0)->tp_name &&
        Py_TYPE(callable)->tp_descr_get) {
        PyObject *m = Py_TYPE(callable)->tp_descr_get(callable, arg0, (PyObject *)Py_TYPE(arg0));
        if (!m) {
            PyErr_Clear();
            return NULL;
        }
        if (PyCFunction_Check(m))
            return m;
        Py_DECREF(m);
    }
    return NULL;
}

static PyObject *mon_missing;
#endif
static void span_on(pm_TracerObject *self, pm_tthread *ts, PyObject *name, int begin);

/* name (a new reference, or NULL) as an instant, a span of no length, on
 * ts's timeline. */
static void instant(pm_TracerObject *self, pm_tthread *ts, PyObject *name)
{
    if (name) {
        span_on(self, ts, name, 1);
        span_on(self, ts, name, 0);
        Py_DECREF(name);
    }
}

/* Each distinct text is a frame of its own: past this many, texts are
 * counted instead of shown, so that a function called with ever new
 * arguments cannot grow the profile without bound. */
#define PM_LOGARGS_DISTINCT 100000

/* --log-args: text (a new reference, or NULL) as an instant on the calling
 * thread's timeline, inside the function it describes. */
static void log_note(pm_TracerObject *self, PyObject *text)
{
    pm_tthread *ts = text ? thread_state(self) : NULL;
    if (ts) {
        PyUnicode_InternInPlace(&text);
        int known = pm_tracer_key_find(self->t, text) != PM_NONE;
        if (known || self->la.distinct < PM_LOGARGS_DISTINCT) {
            self->la.distinct += !known;
            Py_INCREF(text);
            instant(self, ts, text);
        } else {
            self->la.dropped++;
        }
    }
    Py_XDECREF(text);
}

static void log_call(pm_TracerObject *self, PyCodeObject *co, PyObject *frame)
{
    if (frame && pm_logargs_match(&self->la, co))
        log_note(self, pm_logargs_call_text(co, frame));
}

static void log_return(pm_TracerObject *self, PyCodeObject *co, PyObject *value)
{
    /* A generator's or coroutine's "return" is its StopIteration. */
    if (value && !(co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
        pm_logargs_match(&self->la, co))
        log_note(self, pm_logargs_return_text(value));
}

#if PM_MON

/* The callbacks' body: one callback per kind below (PM_HOOK_FN). */
static inline PyObject *dispatch(PyObject *op, PyObject *const *args, size_t nargsf, int kind)
{
    pm_TracerObject *self = (pm_TracerObject *)((pm_HookObject *)op)->owner;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (!self || !self->enabled || n < 1)
        Py_RETURN_NONE;
    switch (kind) {
    case K_START:
    case K_RESUME:
        if (on_enter(self, args[0], args[0], 0, NULL)) {
            Py_INCREF(self->disable_obj);
            return self->disable_obj;
        }
        if (kind == K_START && self->la.search)
            log_call(self, (PyCodeObject *)args[0], (PyObject *)PyEval_GetFrame());
        break;
    case K_THROW:
        on_enter(self, args[0], args[0], 0, NULL);
        break;
    case K_RETURN:
    case K_YIELD:
        if (kind == K_RETURN && self->la.search && n >= 3)
            log_return(self, (PyCodeObject *)args[0], args[2]);
        if (on_leave(self, args[0])) {
            Py_INCREF(self->disable_obj);
            return self->disable_obj;
        }
        break;
    case K_UNWIND:
        on_leave(self, args[0]);
        break;
    case K_CCALL:
    case K_CRET:
        if (n >= 4) {
            PyObject *a0 = args[3] == mon_missing ? NULL : args[3];
            PyObject *c = args[2];
            if (Py_TYPE(c) == &PyMethodDescr_Type && a0 &&
                PyObject_TypeCheck(a0, ((PyMethodDescrObject *)c)->d_common.d_type)) {
                /* lst.append(x): the descriptor and its self.  The bound
                 * builtin cProfile counts has the descriptor's method
                 * definition, the key: no bound object per call (two
                 * allocations per builtin call before). */
                void *key = ((PyMethodDescrObject *)c)->d_method;
                if (kind == K_CCALL)
                    on_enter(self, key, c, 2, a0);
                else
                    on_leave(self, key);
                break;
            }
            PyObject *fn = as_cfunc(c, a0);
            if (fn) {
                if (kind == K_CCALL)
                    on_enter(self, ((PyCFunctionObject *)fn)->m_ml, fn, 1, NULL);
                else
                    on_leave(self, ((PyCFunctionObject *)fn)->m_ml);
                Py_DECREF(fn);
            }
        }
        break;
    case K_RAISE: /* timeline only: an instant "raise Type" in the frame it passes */
        if (n >= 3 && self->t->timeline) {
            pm_tthread *ts = thread_state(self);
            if (ts)
                instant(self, ts, PyUnicode_FromFormat("raise %s", Py_TYPE(args[2])->tp_name));
            PyErr_Clear();
        }
        break;
    }
    Py_RETURN_NONE;
}

PM_HOOK_FN(hook_start, dispatch, K_START)
PM_HOOK_FN(hook_resume, dispatch, K_RESUME)
PM_HOOK_FN(hook_throw, dispatch, K_THROW)
PM_HOOK_FN(hook_return, dispatch, K_RETURN)
PM_HOOK_FN(hook_yield, dispatch, K_YIELD)
PM_HOOK_FN(hook_unwind, dispatch, K_UNWIND)
PM_HOOK_FN(hook_ccall, dispatch, K_CCALL)
PM_HOOK_FN(hook_cret, dispatch, K_CRET)
PM_HOOK_FN(hook_raise, dispatch, K_RAISE)
static const vectorcallfunc hook_fns[K_COUNT] = {hook_start,  hook_resume, hook_throw, hook_return, hook_yield,
                                                 hook_unwind, hook_ccall,  hook_cret,  hook_raise};
#else
/* Whether a call event is the frame's first start, not a generator's or
 * coroutine's resumption (which the profile hook reports as a call too). */
static int first_start(PyFrameObject *frame, PyCodeObject *co)
{
    if (!(co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)))
        return 1;
#if PY_VERSION_HEX >= 0x030B0000
    /* 3.11 reports the call at the RESUME instruction (f_lasti, a byte
     * offset): its argument is 0 at the start, 1-3 after a yield or await. */
    int lasti = PyFrame_GetLasti(frame), fresh = 0;
    PyObject *code = PyCode_GetCode(co);
    if (code && lasti >= 0 && lasti + 1 < PyBytes_GET_SIZE(code)) {
        const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(code);
        fresh = b[lasti] == RESUME && b[lasti + 1] == 0;
    }
    Py_XDECREF(code);
    PyErr_Clear();
    return fresh;
#else
    return frame->f_lasti < 0; /* no instruction run yet */
#endif
}

static int profile_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    pm_TracerObject *self = (pm_TracerObject *)obj;
    if (!self->enabled)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *co = PyFrame_GetCode(frame);
        Py_DECREF(co); /* the frame holds it */
        on_enter(self, co, (PyObject *)co, 0, NULL);
        if (self->la.search && first_start(frame, co))
            log_call(self, co, (PyObject *)frame);
        break;
    }
    case PyTrace_RETURN: {
        PyCodeObject *co = PyFrame_GetCode(frame);
        Py_DECREF(co);
        if (self->la.search)
            log_return(self, co, arg);
        on_leave(self, co);
        break;
    }
    case PyTrace_C_CALL:
        if (self->builtins && arg && PyCFunction_Check(arg))
            on_enter(self, ((PyCFunctionObject *)arg)->m_ml, arg, 1, NULL);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (self->builtins && arg && PyCFunction_Check(arg))
            on_leave(self, ((PyCFunctionObject *)arg)->m_ml);
        break;
    default:
        break;
    }
    return 0;
}

/* The frame-evaluation hook's events: the token is the depth after the push,
 * so a leave that does not match the stack (after an OOM) pops nothing. */
/* The frame-evaluation hook beside the profile hook: it counts nothing
 * (no token, no leave); it is there for its fresh C stack segments. */
static long stack_only(void *ctx, PyThreadState *tstate, PyCodeObject *co)
{
    (void)ctx;
    (void)tstate;
    (void)co;
    return 0;
}

/* A frame left by an exception (3.9-3.11, the frame-evaluation hook): the
 * instant "raise Type" that 3.12's RAISE event gives, in each frame the
 * exception leaves.  The exception is set, and stays so. */
static void raise_mark(pm_TracerObject *self, pm_tthread *ts)
{
    PyObject *type = PyErr_Occurred();
    if (!type || !PyType_Check(type))
        return;
    PyObject *exc_type, *exc_val, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_val, &exc_tb);
    instant(self, ts, PyUnicode_FromFormat("raise %s", ((PyTypeObject *)type)->tp_name));
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_val, exc_tb);
}

static long eval_enter(void *ctx, PyThreadState *tstate, PyCodeObject *co)
{
    pm_TracerObject *self = (pm_TracerObject *)ctx;
    if (!self->all_threads && tstate != self->owner)
        return 0;
    pm_tthread *ts = thread_state(self);
    if (!ts)
        return 0;
    uint32_t before = ts->depth;
    pm_id node = pm_tracer_cached(self->t, ts, co);
    if (node != PM_NONE) {
        pm_tracer_push(self->t, ts, co, node, pm_clock_now());
    } else {
        pm_id fr = pm_tracer_key_find(self->t, co);
        if (fr == PM_NONE && (fr = code_frame_slow(self, co)) == PM_NONE)
            return 0;
        if (fr == PM_TRACER_OUT)
            return 0;
        pm_tracer_enter(self->t, ts, co, fr, pm_clock_now());
    }
    return ts->depth > before ? (long)ts->depth : 0;
}

static void eval_leave(void *ctx, long token, PyObject *result)
{
    pm_TracerObject *self = (pm_TracerObject *)ctx;
    pm_tthread *ts = thread_state(self);
    if (!ts || ts->depth != (uint32_t)token)
        return;
    if (!result && self->t->timeline)
        raise_mark(self, ts);
    pm_tracer_leave(self->t, ts, pm_clock_now());
}
#endif

static PyObject *new_hook(pm_TracerObject *self, int kind)
{
#if PM_MON
    return pm_hook_new((PyObject *)self, &self->enabled, hook_fns[kind], NULL, 0);
#else
    (void)kind; /* before 3.12 a hook only installs the C hook in new threads */
    return pm_hook_new((PyObject *)self, &self->enabled, NULL, profile_hook, 0);
#endif
}

/* ---- the Tracer type ------------------------------------------------------ */

static PyObject *Tracer_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"profile", "timer",   "timeunit", "subcalls", "builtins",
                             "all_threads", "exclude", "timeline", "log_args", NULL};
    PyObject *prof, *timer = Py_None, *exclude = Py_None, *log_args = Py_None;
    double timeunit = 0.0;
    int subcalls = 1, builtins = 0, all_threads = 1;
    Py_ssize_t timeline = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|OdpppOnO:Tracer", kwlist, &pm_ProfileType, &prof, &timer,
                                     &timeunit, &subcalls, &builtins, &all_threads, &exclude, &timeline,
                                     &log_args))
        return NULL;
    if (log_args != Py_None && timeline == 0) {
        PyErr_SetString(PyExc_ValueError, "log_args needs a timeline (the texts are shown there)");
        return NULL;
    }
    if (timeline < 0) {
        PyErr_SetString(PyExc_ValueError, "timeline is a number of events, 0 or more");
        return NULL;
    }
    if (timer != Py_None && !PyCallable_Check(timer)) {
        PyErr_SetString(PyExc_TypeError, "timer must be callable");
        return NULL;
    }
    pm_TracerObject *self = (pm_TracerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->t = pm_tracer_new(((pm_ProfileObject *)prof)->p);
    self->keep = PyList_New(0);
    self->userobjs = PyList_New(0);
    if (!self->t || !self->keep || !self->userobjs) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(prof);
    self->profile = prof;
    if (timer != Py_None) {
        Py_INCREF(timer);
        self->timer = timer;
        self->timeunit = timeunit;
        self->t->tick_ns = timeunit > 0.0 ? timeunit * 1e9 : 1.0;
    } else {
        self->t->tick_ns = pm_clock_calibrate();
    }
    if (exclude != Py_None) {
        self->exclude = PySet_New(exclude);
        if (!self->exclude) {
            Py_DECREF(self);
            return NULL;
        }
    }
    if (timeline > 0) {
        /* Every call and return, newest kept: the model's timeline, whose
         * writers (Chrome trace, gecko) turn the stacks into slices. */
        pm_profile *p = ((pm_ProfileObject *)prof)->p;
        if (pm_timeline_enable(p, (size_t)timeline) != 0) {
            Py_DECREF(self);
            PyErr_SetString(PyExc_ValueError, "the profile already holds more timeline events than that");
            return NULL;
        }
        pm_timeline_keep_newest(p, 1);
        self->t->timeline = 1;
        self->t->tl_cap = (size_t)timeline;
        self->t->tl_t0 = timer == Py_None ? pm_clock_now() : 0;
        struct timespec wall;
        if (timer == Py_None && clock_gettime(CLOCK_REALTIME, &wall) == 0)
            pm_meta_set_u64(p, PM_META_TIMELINE_EPOCH, (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec);
    }
    if (pm_logargs_init(&self->la, log_args) != 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->subcalls = subcalls;
    self->builtins = builtins;
    self->all_threads = all_threads;
    self->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
    self->tool_id = -1;
    return (PyObject *)self;
}

#if PM_MON
static int mon_register(pm_TracerObject *self, PyObject *mon, int on);
#endif
static void hand_over(pm_TracerObject *self);

static void Tracer_dealloc(pm_TracerObject *self)
{
    if (self->enabled) { /* never leave a hook pointing at freed memory */
        self->enabled = 0;
#if PM_MON
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *mon = pm_bind_monitoring();
        if (mon) {
            if (self->tool_id >= 0)
                mon_register(self, mon, 0);
            pm_toolid_release(mon, (PyObject *)self);
            Py_DECREF(mon);
        }
        PyErr_Clear();
        PyErr_Restore(et, ev, tb);
#else
        if (self->evalhook || self->stackhook)
            pm_evalhook_remove(self);
        if (!self->evalhook)
            pm_hooks_clear(self->hooks[K_START], self->all_threads ? &self->prev_thread_hook : NULL);
#endif
    }
    for (int k = 0; k < K_COUNT; k++) {
        pm_hook_orphan(self->hooks[k]);
        Py_XDECREF(self->hooks[k]);
    }
    if (self->t && self->profile) /* freed while enabled: what it recorded is kept */
        hand_over(self);
    pm_tracer_free(self->t);
    Py_XDECREF(self->profile);
    Py_XDECREF(self->timer);
    pm_logargs_clear(&self->la);
    Py_XDECREF(self->keep);
    Py_XDECREF(self->userobjs);
    Py_XDECREF(self->exclude);
    Py_XDECREF(self->prev_thread_hook);
    Py_XDECREF(self->disable_obj);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#if PM_MON
/* The events cProfile listens to, by name (their numbers moved in 3.14). */
static const struct {
    int kind;
    const char *event;
} mon_events[] = {
    {K_START, "PY_START"},   {K_RESUME, "PY_RESUME"},
    {K_THROW, "PY_THROW"},   {K_RETURN, "PY_RETURN"},
    {K_YIELD, "PY_YIELD"},   {K_UNWIND, "PY_UNWIND"},
    {K_CCALL, "CALL"},       {K_CRET, "C_RETURN"},
    {K_CRET, "C_RAISE"},     {K_RAISE, "RAISE"},
};
#define N_MON_EVENTS ((int)(sizeof mon_events / sizeof mon_events[0]))

static int mon_register(pm_TracerObject *self, PyObject *mon, int on)
{
    int mask = 0;
    for (int i = 0; i < N_MON_EVENTS; i++) {
        int k = mon_events[i].kind;
        if (((k == K_CCALL || k == K_CRET) && !self->builtins) || (k == K_RAISE && !self->t->timeline))
            continue;
        int bit = pm_bind_event(mon, mon_events[i].event);
        if (!bit)
            return -1;
        PyObject *r = PyObject_CallMethod(mon, "register_callback", "iiO", self->tool_id, bit,
                                          on ? self->hooks[k] : Py_None);
        if (!r)
            return -1;
        Py_DECREF(r);
        mask |= bit;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", self->tool_id, on ? mask : 0);
    Py_XDECREF(r);
    return r ? 0 : -1;
}
#endif

#if PM_MON
/* pm_tool_move_fn: the program claimed our id (pm_bind_toolid.c). */
static int mon_move(PyObject *op, int new_id)
{
    pm_TracerObject *self = (pm_TracerObject *)op;
    PyObject *mon = pm_bind_monitoring();
    if (!mon)
        return -1;
    if (self->tool_id >= 0 && mon_register(self, mon, 0) != 0)
        PyErr_Clear(); /* the old id is freed next whatever it says */
    self->tool_id = new_id;
    int rc = new_id >= 0 ? mon_register(self, mon, 1) : 0;
    Py_DECREF(mon);
    return rc;
}
#endif

static PyObject *Tracer_enable(pm_TracerObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the profiler is already enabled");
        return NULL;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (!self->hooks[k] && !(self->hooks[k] = new_hook(self, k)))
            return NULL;
#if PM_MON
    PyObject *mon = pm_bind_monitoring();
    if (!mon)
        return NULL;
    if (!mon_missing)
        mon_missing = PyObject_GetAttrString(mon, "MISSING");
    if (!self->disable_obj)
        self->disable_obj = PyObject_GetAttrString(mon, "DISABLE");
    if (!mon_missing || !self->disable_obj) {
        Py_DECREF(mon);
        return NULL;
    }
    self->tool_id = pm_toolid_claim(mon, "pyrometer", (PyObject *)self, mon_move);
    if (self->tool_id == -2) {
        self->tool_id = -1;
        Py_DECREF(mon);
        return NULL;
    }
    if (self->tool_id < 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot profile: every sys.monitoring tool id is in use; "
                                            "stop the other profiler or debugger first");
        Py_DECREF(mon);
        return NULL;
    }
    self->enabled = 1;
    if (mon_register(self, mon, 1) != 0) {
        self->enabled = 0;
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        pm_toolid_release(mon, (PyObject *)self);
        PyErr_Restore(et, ev, tb);
        self->tool_id = -1;
        Py_DECREF(mon);
        return NULL;
    }
    /* Out-of-scope code disabled by an earlier session may be in scope now. */
    Py_XDECREF(PyObject_CallMethod(mon, "restart_events", NULL));
    PyErr_Clear();
    Py_DECREF(mon);
#else
    self->owner = PyThreadState_Get();
    self->evalhook = 0;
    self->stackhook = 0;
    if (!self->builtins && !self->timer && !self->la.search) { /* it sees no arguments */
        int rc = pm_evalhook_install(eval_enter, eval_leave, self);
        if (rc < 0)
            return NULL;
        if (rc == 0) {
            self->evalhook = 1;
            self->enabled = 1;
            Py_RETURN_NONE;
        }
    }
    self->enabled = 1;
    if (self->all_threads)
        pm_hooks_set_everywhere(self->hooks[K_START], &self->prev_thread_hook);
    if (_PyEval_SetProfile(PyThreadState_Get(), profile_hook, (PyObject *)self) < 0) {
        self->enabled = 0;
        return NULL;
    }
    /* The profile hook's path takes more C stack per Python call than the
     * interpreter alone: 3.10 overflows at 18,000 frames where plain python
     * does not (cProfile too).  The frame-evaluation hook, counting nothing,
     * moves deep recursion on to fresh stack segments (pm_bind_evalhook.c);
     * with another hook in its slot, the program keeps its own. */
    self->stackhook = pm_evalhook_install(stack_only, NULL, self) == 0;
    PyErr_Clear();
#endif
    Py_RETURN_NONE;
}

/* Timeline mode: the events recorded so far go to the model, whose readers
 * see them from then on. */
static void hand_over(pm_TracerObject *self)
{
    if (!self->t->timeline)
        return;
    pm_ProfileObject *po = (pm_ProfileObject *)self->profile;
    pthread_mutex_lock(&po->lock);
    pm_tracer_timeline_hand_over(self->t);
    pthread_mutex_unlock(&po->lock);
}

/* cProfile's flush_unmatched: every open context of every thread stops now
 * (in timeline mode, each an event); then the timeline is handed over. */
static void flush(pm_TracerObject *self)
{
    pm_tracer *t = self->t;
    for (uint32_t i = 0; i < t->nthreads; i++)
        while (t->threads[i]->depth)
            pm_tracer_leave(t, t->threads[i], now(self));
    hand_over(self);
}

static PyObject *Tracer_disable(pm_TracerObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->in_timer) {
        PyErr_SetString(PyExc_RuntimeError, "cannot disable profiler in external timer");
        return NULL;
    }
    if (!self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the profiler is not enabled (disable() called twice?)");
        return NULL;
    }
#if PM_MON
    PyObject *mon = pm_bind_monitoring();
    if (!mon)
        return NULL;
    int rc = self->tool_id >= 0 ? mon_register(self, mon, 0) : 0; /* < 0: parked */
    pm_toolid_release(mon, (PyObject *)self);
    Py_DECREF(mon);
    self->tool_id = -1;
    self->enabled = 0;
    flush(self);
    if (rc != 0)
        return NULL;
#else
    if (self->evalhook || self->stackhook)
        pm_evalhook_remove(self);
    if (!self->evalhook)
        pm_hooks_clear(self->hooks[K_START], self->all_threads ? &self->prev_thread_hook : NULL);
    self->stackhook = 0;
    self->enabled = 0;
    flush(self);
#endif
    Py_RETURN_NONE;
}

static PyObject *Tracer_commit(pm_TracerObject *self, PyObject *args)
{
    double a = 0, b = 0;
    if (!PyArg_ParseTuple(args, "|dd:commit", &a, &b))
        return NULL;
    pm_ProfileObject *po = (pm_ProfileObject *)self->profile;
    pthread_mutex_lock(&po->lock);
    int rc = pm_tracer_commit(self->t, a, b);
    pthread_mutex_unlock(&po->lock);
    if (rc != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *stats_lists(const pm_profile *p, const int64_t *calls, const int64_t *self_v, uint32_t n, pm_id thread)
{
    pm_cs_func *f = NULL;
    pm_cs_edge *e = NULL;
    uint32_t nf = 0, ne = 0;
    if (pm_callstats(p, calls, self_v, n, thread, &f, &nf, &e, &ne) != 0)
        return PyErr_NoMemory();
    PyObject *lf = PyList_New(nf), *le = lf ? PyList_New(ne) : NULL;
    for (uint32_t i = 0; le && i < nf; i++) {
        PyObject *row = Py_BuildValue("(kLLLL)", (unsigned long)f[i].frame, (long long)f[i].ncalls,
                                      (long long)f[i].reccalls, (long long)f[i].tottime, (long long)f[i].cumtime);
        if (!row) {
            Py_CLEAR(le);
            break;
        }
        PyList_SET_ITEM(lf, i, row);
    }
    for (uint32_t i = 0; le && i < ne; i++) {
        PyObject *row = Py_BuildValue("(kkLLLL)", (unsigned long)e[i].caller, (unsigned long)e[i].callee,
                                      (long long)e[i].ncalls, (long long)e[i].reccalls, (long long)e[i].tottime,
                                      (long long)e[i].cumtime);
        if (!row) {
            Py_CLEAR(le);
            break;
        }
        PyList_SET_ITEM(le, i, row);
    }
    free(f);
    free(e);
    if (!le) {
        Py_XDECREF(lf);
        return NULL;
    }
    return Py_BuildValue("(NN)", lf, le);
}

/* raw_stats(thread=None) -> (funcs, edges) in raw ticks:
 * funcs (frame, ncalls, reccalls, tottime, cumtime),
 * edges (caller frame, callee frame, ncalls, reccalls, tottime, cumtime). */
static PyObject *Tracer_raw_stats(pm_TracerObject *self, PyObject *args)
{
    PyObject *th = Py_None;
    if (!PyArg_ParseTuple(args, "|O:raw_stats", &th))
        return NULL;
    pm_id thread = th == Py_None ? PM_NONE : (pm_id)PyLong_AsUnsignedLong(th);
    if (PyErr_Occurred())
        return NULL;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "the profiler is still enabled; disable() it first");
        return NULL;
    }
    uint32_t n = pm_node_count(self->t->p);
    if (n > self->t->node_cap)
        n = self->t->node_cap;
    return stats_lists(self->t->p, self->t->calls, self->t->ticks, n, thread);
}

/* Seconds per raw tick, as cProfile's getstats scales: the timer unit for an
 * external integer timer, else 1e-9 times the clock's ns per tick. */
static PyObject *Tracer_factor(pm_TracerObject *self, void *c)
{
    (void)c;
    if (self->timer)
        return PyFloat_FromDouble(self->timeunit > 0.0 ? self->timeunit : (double)1 / 1000000000);
    return PyFloat_FromDouble(self->t->tick_ns * ((double)1 / 1000000000));
}

static PyObject *Tracer_userobjs(pm_TracerObject *self, void *c)
{
    (void)c;
    return PyList_GetSlice(self->userobjs, 0, PyList_GET_SIZE(self->userobjs));
}

static PyObject *Tracer_get_enabled(pm_TracerObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->enabled);
}

static PyObject *Tracer_get_tool_id(pm_TracerObject *self, void *c)
{
    (void)c;
    return PyLong_FromLong(self->tool_id);
}

static PyObject *Tracer_log_args(pm_TracerObject *self, void *c)
{
    (void)c;
    return Py_BuildValue("{s:O,s:n,s:K}", "matched", self->la.matched ? Py_True : Py_False, "distinct",
                         self->la.distinct, "dropped", (unsigned long long)self->la.dropped);
}

static PyObject *Tracer_events(pm_TracerObject *self, void *c)
{
    (void)c;
    int64_t total = 0;
    uint32_t n = self->t->node_cap < pm_node_count(self->t->p) ? self->t->node_cap : pm_node_count(self->t->p);
    for (uint32_t i = 0; i < n; i++)
        total += self->t->calls[i];
    return PyLong_FromLongLong(total);
}

/* The span core: name (a str) opens (begin) or closes on ts's stack.  Leaves
 * no exception set (a failure only loses the span, and sets oom). */
static void span_on(pm_TracerObject *self, pm_tthread *ts, PyObject *name, int begin)
{
    Py_INCREF(name);
    PyUnicode_InternInPlace(&name); /* one key per name */
    pm_id fr = pm_tracer_key_find(self->t, name);
    if (fr == PM_NONE) {
        const char *utf8 = PyUnicode_AsUTF8(name);
        fr = utf8 ? add_frame(self, name, name, name, utf8, "<span>", 0, PM_FRAME_SPECIAL) : PM_NONE;
        if (fr == PM_NONE) {
            PyErr_Clear();
            self->t->oom = 1;
            Py_DECREF(name);
            return;
        }
    }
    static const void *own;
    if (!own) {
        PyObject *d = PyDict_GetItemString(Py_TYPE(self)->tp_dict, "span");
        own = d && Py_TYPE(d) == &PyMethodDescr_Type ? (const void *)((PyMethodDescrObject *)d)->d_method : NULL;
    }
    pm_tctx lifted;
    int lift = own && ts->depth && ts->stack[ts->depth - 1].key == own;
    if (lift)
        lifted = ts->stack[--ts->depth];
    int64_t t = pm_clock_now();
    if (begin)
        pm_tracer_enter(self->t, ts, name, fr, t);
    else if (ts->depth && ts->stack[ts->depth - 1].key == name)
        pm_tracer_leave(self->t, ts, t);
    if (lift) {
        if (ts->depth == ts->cap && pm_tracer_grow_stack(ts) != 0)
            self->t->oom = 1;
        else
            ts->stack[ts->depth++] = lifted;
    }
    Py_DECREF(name); /* interned and kept alive by add_frame */
}

/* span(name, begin): a user span (pyrometer.span / mark) or a GC run opens
 * (begin) or closes on the calling thread's stack, as a call of a frame
 * "name" in "<span>" would: timeline mode's slices nest it between the
 * calls around it, and the call table counts it.  With builtins on, the C
 * call of this very method is on top of the stack: the span goes beneath
 * it, so that call's own return still finds itself on top.  A close that
 * does not match the innermost open span (a generator yielded inside it)
 * is ignored: the span ended with what returned. */
static PyObject *Tracer_span(pm_TracerObject *self, PyObject *args)
{
    PyObject *name;
    int begin;
    if (!PyArg_ParseTuple(args, "Up:span", &name, &begin))
        return NULL;
    pm_tthread *ts = self->enabled && self->t->timeline ? thread_state(self) : NULL;
    if (ts)
        span_on(self, ts, name, begin);
    Py_RETURN_NONE;
}

static PyMethodDef Tracer_methods[] = {
    {"span", (PyCFunction)Tracer_span, METH_VARARGS, "span(name, begin): opens or closes a span (timeline)."},
    {"enable", (PyCFunction)Tracer_enable, METH_NOARGS, "Starts tracing."},
    {"disable", (PyCFunction)Tracer_disable, METH_NOARGS, "Stops tracing; open calls end now."},
    {"commit", (PyCFunction)Tracer_commit, METH_VARARGS,
     "commit(callee_bias_ns=0, caller_bias_ns=0): writes calls/time into the profile."},
    {"raw_stats", (PyCFunction)Tracer_raw_stats, METH_VARARGS, "(funcs, edges) in raw clock ticks."},
    {NULL, NULL, 0, NULL},
};

static PyObject *Tracer_get_hook(pm_TracerObject *self, void *c)
{
    (void)c;
#if PM_MON
    (void)self;
    return PyUnicode_FromString("monitoring");
#else
    return PyUnicode_FromString(self->evalhook ? "eval" : "profile");
#endif
}

static PyObject *Tracer_get_builtins(pm_TracerObject *self, void *c)
{
    (void)c;
    return PyBool_FromLong(self->builtins);
}

/* cProfile's enable() sets its builtins flag on 3.14+ (enable(subcalls=True,
 * builtins=True) applies both each time), so the drop-in needs to change it
 * between sessions; never while enabled, where the hooks follow it. */
static int Tracer_set_builtins(pm_TracerObject *self, PyObject *v, void *c)
{
    (void)c;
    int b = v ? PyObject_IsTrue(v) : -1;
    if (!v)
        PyErr_SetString(PyExc_AttributeError, "cannot delete builtins");
    if (b < 0)
        return -1;
    if (self->enabled && b != self->builtins) {
        PyErr_SetString(PyExc_RuntimeError, "cannot change builtins while the profiler is enabled");
        return -1;
    }
    self->builtins = b;
    return 0;
}

static PyGetSetDef Tracer_getset[] = {
    {"builtins", (getter)Tracer_get_builtins, (setter)Tracer_set_builtins,
     "Whether C functions are timed on their own (settable while disabled).", NULL},
    {"hook", (getter)Tracer_get_hook, NULL,
     "How events arrive: 'monitoring' (3.12+), 'eval' (frame-evaluation hook) or 'profile' (C profile hook).",
     NULL},
    {"factor", (getter)Tracer_factor, NULL, "Seconds per raw tick.", NULL},
    {"userobjs", (getter)Tracer_userobjs, NULL, "Per frame id: code object or builtin label.", NULL},
    {"enabled", (getter)Tracer_get_enabled, NULL, "Whether tracing is on.", NULL},
    {"tool_id", (getter)Tracer_get_tool_id, NULL, "sys.monitoring tool id in use (-1: none).", NULL},
    {"calls", (getter)Tracer_events, NULL, "Calls recorded so far.", NULL},
    {"log_args", (getter)Tracer_log_args, NULL,
     "--log-args: whether a function matched, distinct texts shown, texts not shown past the bound.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_TracerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native.Tracer",
    .tp_basicsize = sizeof(pm_TracerObject),
    .tp_dealloc = (destructor)Tracer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Tracer(profile, timer=None, timeunit=0.0, subcalls=True, builtins=False, all_threads=True, "
              "exclude=None): the deterministic calls tracer feeding profile.",
    .tp_methods = Tracer_methods,
    .tp_getset = Tracer_getset,
    .tp_new = Tracer_new,
};


/* call_stats(profile, calls_metric="calls", time_metric="time", thread=None)
 * -> (funcs, edges) from a calls profile's model (e.g. one read from a file). */
PyObject *pm_bind_call_stats(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *prof, *th = Py_None;
    const char *cm = "calls", *tm = "time";
    if (!PyArg_ParseTuple(args, "O!|ssO:call_stats", &pm_ProfileType, &prof, &cm, &tm, &th))
        return NULL;
    pm_id thread = th == Py_None ? PM_NONE : (pm_id)PyLong_AsUnsignedLong(th);
    if (PyErr_Occurred())
        return NULL;
    pm_ProfileObject *po = (pm_ProfileObject *)prof;
    pthread_mutex_lock(&po->lock);
    int mc = pm_metric_find(po->p, cm), mt = pm_metric_find(po->p, tm);
    uint32_t n = pm_node_count(po->p);
    int64_t *c = mc >= 0 && mt >= 0 ? malloc((n ? n : 1) * sizeof *c) : NULL;
    int64_t *s = c ? malloc((n ? n : 1) * sizeof *s) : NULL;
    PyObject *out = NULL;
    if (mc < 0 || mt < 0)
        PyErr_Format(PyExc_ValueError, "the profile has no '%s' and '%s' metrics (not a calls profile)", cm, tm);
    else if (!s)
        PyErr_NoMemory();
    else {
        for (uint32_t i = 0; i < n; i++) {
            c[i] = pm_node_value(po->p, i, mc);
            s[i] = pm_node_value(po->p, i, mt);
        }
        out = stats_lists(po->p, c, s, n, thread);
    }
    pthread_mutex_unlock(&po->lock);
    free(c);
    free(s);
    return out;
}
