/* pm_bind_sampler.c — the Sampler type, and the small part of sampling that
 * needs the GIL: pinning code objects the sampler has met (so their addresses
 * cannot be reused while it runs) and naming new threads.  Both run from a
 * pending call the sampling thread schedules, in the main thread, between
 * bytecodes. */
#include "pm_bind.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect/pm_layout.h"
#include "collect/pm_layout_async.h"
#include "collect/pm_layout_py.h"
#include "collect/pm_native.h"
#include "collect/pm_sampler.h"
#include "collect/pm_walker.h"

/* Shared by the Sampler object and the pending calls it schedules: a pending
 * call may run after the Sampler is gone, so the context is reference
 * counted and `alive` says whether the sampler is still there. */
typedef struct {
    atomic_int refs;
    int alive;               /* read and written under the GIL only */
    int watched;             /* hears of code deaths (3.12+) */
    PyObject *owner;         /* the Sampler object (borrowed), for stop_all */
    pm_sampler *sampler;
    pm_ProfileObject *profile;
    pm_space space;          /* the main thread's own reader */
    PyObject **pinned;       /* strong references taken */
    size_t npinned, cappinned;
} pin_ctx;

typedef struct {
    PyObject_HEAD
    pm_ProfileObject *profile;
    pm_sampler *s;
    pin_ctx *ctx;
    int started, stopped;
} SamplerObject;

/* Module-wide state, touched only with the GIL held. */
static struct {
#if PY_VERSION_HEX >= 0x030C0000
    int watcher;              /* code watcher id + 1, 0 when not registered */
#endif
    pin_ctx *live[64];        /* every Sampler object alive */
} state;

#if PY_VERSION_HEX >= 0x030C0000
/* 3.12+: the interpreter tells us when a code object dies, so cache entries
 * are trusted at once and nothing needs pinning. */
static int code_watcher(PyCodeEvent event, PyCodeObject *co)
{
    if (event == PY_CODE_EVENT_DESTROY)
        for (size_t i = 0; i < sizeof state.live / sizeof state.live[0]; i++)
            if (state.live[i] && state.live[i]->watched)
                pm_codecache_forget(pm_sampler_codecache(state.live[i]->sampler), (uint64_t)(uintptr_t)co);
    return 0;
}
#endif

/* Adds a sampler to the live list and, on 3.12+, to code-death news;
 * returns 1 when its cache can trust entries at once. */
static int watch(pin_ctx *c)
{
    size_t i = 0;
    while (i < sizeof state.live / sizeof state.live[0] && state.live[i])
        i++;
    if (i == sizeof state.live / sizeof state.live[0])
        return 0;
    state.live[i] = c;
#if PY_VERSION_HEX >= 0x030C0000
    if (!state.watcher) {
        int id = PyCode_AddWatcher(code_watcher);
        if (id < 0) {
            PyErr_Clear();
            return 0;
        }
        state.watcher = id + 1;
    }
    c->watched = 1;
    return 1;
#else
    return 0;
#endif
}

static void unwatch(pin_ctx *c)
{
    for (size_t i = 0; i < sizeof state.live / sizeof state.live[0]; i++)
        if (state.live[i] == c)
            state.live[i] = NULL;
}

static void ctx_release(pin_ctx *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        PyMem_RawFree(c);
}

static void unpin_all(pin_ctx *c)
{
    for (size_t i = 0; i < c->npinned; i++)
        Py_DECREF(c->pinned[i]);
    PyMem_RawFree(c->pinned);
    c->pinned = NULL;
    c->npinned = c->cappinned = 0;
}

static void name_threads(pin_ctx *c)
{
    pm_id ids[256];
    size_t n = pm_sampler_take_new_threads(c->sampler, ids, 256);
    if (!n)
        return;
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *mod = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyObject *active = mod ? PyObject_GetAttrString(mod, "_active") : NULL;
    Py_XDECREF(mod);
    if (!active || !PyDict_Check(active)) {
        Py_XDECREF(active);
        PyErr_Clear();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&c->profile->lock);
        uint64_t ident = pm_thread_at(c->profile->p, ids[i])->ident;
        pthread_mutex_unlock(&c->profile->lock);
        PyObject *key = PyLong_FromUnsignedLongLong(ident);
        PyObject *t = key ? PyDict_GetItemWithError(active, key) : NULL;
        Py_XDECREF(key);
        /* _name, not the name property: reading it runs no Python code. */
        PyObject *tn = t ? PyObject_GetAttrString(t, "_name") : NULL;
        const char *s = tn && PyUnicode_Check(tn) ? PyUnicode_AsUTF8(tn) : NULL;
        if (s) {
            pthread_mutex_lock(&c->profile->lock);
            pm_thread_set_name(c->profile->p, ids[i], s, strlen(s));
            pthread_mutex_unlock(&c->profile->lock);
        }
        Py_XDECREF(tn);
        PyErr_Clear();
    }
    Py_DECREF(active);
}

static void pin_codes(pin_ctx *c)
{
    pm_codecache *cc = pm_sampler_codecache(c->sampler);
    uint64_t addrs[512];
    size_t n;
    while ((n = pm_codecache_take_pins(cc, addrs, 512)) > 0) {
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&cc->lock);
            pm_code *e = pm_codecache_find(cc, addrs[i]);
            /* Under the GIL nothing can free the object now; the safe read
             * tells whether it is still the one the sampler described. */
            int ok = e && pm_codecache_still_valid(cc, &c->space, e);
            pthread_mutex_unlock(&cc->lock);
            if (ok && c->npinned == c->cappinned) {
                size_t cap = c->cappinned ? c->cappinned * 2 : 256;
                PyObject **p = PyMem_RawRealloc(c->pinned, cap * sizeof *p);
                if (!p)
                    ok = 0;
                else {
                    c->pinned = p;
                    c->cappinned = cap;
                }
            }
            if (ok) {
                PyObject *o = (PyObject *)(uintptr_t)addrs[i];
                Py_INCREF(o);
                c->pinned[c->npinned++] = o;
            }
            pm_codecache_pinned(cc, addrs[i], ok);
        }
    }
}

static int pending(void *arg)
{
    pin_ctx *c = arg;
    if (c->alive) {
        pm_sampler_notify_done(c->sampler);
        pin_codes(c);
        name_threads(c);
    }
    ctx_release(c);
    return 0;
}

/* Runs on the sampling thread: only schedules. */
static void notify(void *arg)
{
    pin_ctx *c = arg;
    atomic_fetch_add(&c->refs, 1);
    if (Py_AddPendingCall(pending, c) != 0) {
        pm_sampler_notify_done(c->sampler);
        ctx_release(c);
    }
}

static PyObject *Sampler_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"profile", "rate", "mode", "idle", "timeline", "native", NULL};
    PyObject *profile;
    double rate = 1000.0;
    const char *mode = "wall";
    int idle = 1, native = 0;
    Py_ssize_t timeline = 1000000;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|$dspnp:Sampler", kwlist, &pm_ProfileType, &profile, &rate, &mode,
                                     &idle, &timeline, &native))
        return NULL;
    pm_sampler_opts o = {rate, PM_MODE_WALL, idle, timeline < 0 ? 0 : (size_t)timeline, native};
    if (strcmp(mode, "cpu") == 0)
        o.mode = PM_MODE_CPU;
    else if (strcmp(mode, "gil") == 0)
        o.mode = PM_MODE_GIL;
    else if (strcmp(mode, "wall") != 0) {
        PyErr_Format(PyExc_ValueError, "unknown mode '%s' (expected wall, cpu or gil)", mode);
        return NULL;
    }
    if (!(rate > 0) || rate > 100000) {
        PyErr_SetString(PyExc_ValueError, "rate must be between 0 and 100000 Hz");
        return NULL;
    }
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return NULL;
    SamplerObject *self = (SamplerObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    Py_INCREF(profile);
    self->profile = (pm_ProfileObject *)profile;
    char err[256] = "";
    self->s = pm_sampler_new(&L, self->profile->p, &self->profile->lock, &o, err, sizeof err);
    if (!self->s) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    if (L.ts_native_thread_id == PM_NO_OFFSET)
        pm_sampler_set_tid_offset(self->s, pm_bind_tid_offset());
    self->ctx = PyMem_RawCalloc(1, sizeof *self->ctx);
    if (!self->ctx) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    atomic_init(&self->ctx->refs, 1);
    self->ctx->alive = 1;
    self->ctx->sampler = self->s;
    self->ctx->profile = self->profile;
    pm_space_init(&self->ctx->space, getpid());
    pm_sampler_set_notify(self->s, notify, self->ctx);
    self->ctx->owner = (PyObject *)self;
    pm_sampler_codecache(self->s)->watched = watch(self->ctx);
    return (PyObject *)self;
}

#if PY_VERSION_HEX < 0x030B0000
/* Before 3.11 a code object knows only its plain name; the qualified name
 * (Class.method, outer.<locals>.inner) is on the function.  At the end, one
 * pass over the GC heap finds the function of each code object sampled and
 * renames its frame. */
/* "Class.name" or "outer.<locals>.name" qualifies "name"; a function whose
 * code was swapped for one with another name (code.replace(co_name=...))
 * keeps the code's own name, as 3.11+ would show it. */
static int qualifies(PyObject *qualname, PyObject *name)
{
    Py_ssize_t q = PyUnicode_GetLength(qualname), n = PyUnicode_GetLength(name);
    return q > n + 1 && PyUnicode_Tailmatch(qualname, name, q - n, q, 1) == 1 &&
           PyUnicode_ReadChar(qualname, q - n - 1) == '.';
}

void pm_bind_qualify_names(pm_codecache *cc, pm_space *space, pm_ProfileObject *profile)
{
    if (cc->n == 0)
        return;
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *objs = gc ? PyObject_CallMethod(gc, "get_objects", NULL) : NULL;
    Py_XDECREF(gc);
    if (!objs || !PyList_Check(objs)) {
        Py_XDECREF(objs);
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objs); i++) {
        PyObject *o = PyList_GET_ITEM(objs, i);
        if (!PyFunction_Check(o))
            continue;
        PyObject *code = PyFunction_GET_CODE(o);
        PyObject *qn = ((PyFunctionObject *)o)->func_qualname;
        pm_code *e = pm_codecache_find(cc, (uint64_t)(uintptr_t)code);
        if (!e || !qn || !PyUnicode_Check(qn) || !qualifies(qn, ((PyCodeObject *)code)->co_name) ||
            !pm_codecache_still_valid(cc, space, e))
            continue;
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(qn, &len);
        if (!s) {
            PyErr_Clear();
            continue;
        }
        pthread_mutex_lock(&profile->lock);
        pm_frame_set_name(profile->p, e->frame, pm_str_intern(profile->p, s, (size_t)len));
        pthread_mutex_unlock(&profile->lock);
    }
    Py_DECREF(objs);
}
#endif

static void stop_now(SamplerObject *self)
{
    if (!self->started || self->stopped)
        return;
    self->stopped = 1;
    Py_BEGIN_ALLOW_THREADS
    pm_sampler_stop(self->s);
    Py_END_ALLOW_THREADS
    /* Name what is still unnamed while the threads' objects may still exist. */
    name_threads(self->ctx);
#if PY_VERSION_HEX < 0x030B0000
    pm_bind_qualify_names(pm_sampler_codecache(self->s), &self->ctx->space, self->ctx->profile);
#endif
    self->ctx->alive = 0;
    unwatch(self->ctx);
    unpin_all(self->ctx);
}

static void Sampler_dealloc(SamplerObject *self)
{
    if (self->s)
        stop_now(self);
    /* Out of the watcher's list before the code cache it points at goes. */
    if (self->ctx) {
        self->ctx->alive = 0;
        unwatch(self->ctx);
        unpin_all(self->ctx);
    }
    if (self->s)
        pm_sampler_free(self->s);
    if (self->ctx)
        ctx_release(self->ctx);
    Py_XDECREF(self->profile);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* os.register_at_fork hooks: the sampling thread is ended before a fork and
 * started again after it in the parent, so that the program's os.fork sees
 * the threads it made and no others (3.12+ warns about forking a threaded
 * process), and the child starts with no sampler running. */
static PyObject *for_each_live(void (*fn)(pm_sampler *))
{
    for (size_t i = 0; i < sizeof state.live / sizeof state.live[0]; i++)
        if (state.live[i] && state.live[i]->alive) {
            Py_BEGIN_ALLOW_THREADS
            fn(state.live[i]->sampler);
            Py_END_ALLOW_THREADS
        }
    Py_RETURN_NONE;
}

#if PY_VERSION_HEX >= 0x030C0000
/* The frame that called os.fork and the instruction it was at: while that
 * frame is still on the stack at that instruction, os.fork has not returned
 * (Python hooks registered after ours run in between, and run pending calls). */
static PyFrameObject *fork_caller;
static int fork_caller_lasti;

#endif

/* The process's thread count as the kernel gives it (/proc/self/stat, field
 * 20): what 3.12+ counts for its fork warning. -1 when unreadable. */
static long os_thread_count(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    long v = -1;
    /* after ")": state is field 3, num_threads field 20 */
    for (int field = 2; field < 20 && p; field++)
        p = strchr(p + 1, ' ');
    if (p && sscanf(p + 1, "%ld", &v) != 1)
        v = -1;
    return v;
}

PyObject *pm_bind_fork_before(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    long before = -1;
    int running = 0;
    for (size_t i = 0; i < sizeof state.live / sizeof state.live[0]; i++)
        if (state.live[i] && state.live[i]->alive && pm_sampler_running(state.live[i]->sampler))
            running = 1;
    if (running)
        before = os_thread_count();
#if PY_VERSION_HEX >= 0x030C0000
    Py_CLEAR(fork_caller);
    fork_caller = PyEval_GetFrame(); /* the caller of os.fork (ours has no frame) */
    if (fork_caller) {
        Py_INCREF(fork_caller);
        fork_caller_lasti = PyFrame_GetLasti(fork_caller);
    }
#endif
    pm_bind_sigterm_writer_pause();
    PyObject *r = for_each_live(pm_sampler_pause);
    /* pthread_join returns when the kernel clears the thread's tid, a moment
     * before the thread leaves the thread group: the count read by the
     * fork warning can still include it. Wait (briefly, bounded) until it
     * has gone. */
    for (int tries = 0; before > 1 && tries < 400 && os_thread_count() >= before; tries++) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return r;
}

#if PY_VERSION_HEX >= 0x030C0000
/* Whether the calling thread is the main thread, as threading knows it
 * (3.12 exports no C call for it). Without threading imported there is no
 * other Python thread to fork from, so yes. */
static int on_main_thread(void)
{
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (!threading) {
        PyErr_Clear();
        return 1;
    }
    PyObject *main = PyObject_CallMethod(threading, "main_thread", NULL);
    PyObject *ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
    int yes = 1;
    if (ident && PyLong_Check(ident))
        yes = PyLong_AsUnsignedLong(ident) == PyThread_get_thread_ident();
    if (PyErr_Occurred())
        PyErr_Clear();
    Py_XDECREF(ident);
    Py_XDECREF(main);
    Py_DECREF(threading);
    return yes;
}

static int still_in_fork(void)
{
    if (!fork_caller)
        return 0;
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    while (f) {
        if (f == fork_caller) {
            int same = PyFrame_GetLasti(f) == fork_caller_lasti;
            Py_DECREF(f);
            return same;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    return 0;
}

static int resume_pending(void *arg)
{
    (void)arg;
    if (still_in_fork() && Py_AddPendingCall(resume_pending, NULL) == 0)
        return 0; /* again at the next check, once os.fork has returned */
    Py_CLEAR(fork_caller);
    pm_bind_sigterm_writer_resume();
    PyObject *r = for_each_live(pm_sampler_resume);
    Py_XDECREF(r);
    return 0;
}
#endif

PyObject *pm_bind_fork_parent(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
#if PY_VERSION_HEX >= 0x030C0000
    /* 3.13 counts the process's threads (/proc/self/stat) for its "is
     * multi-threaded" DeprecationWarning after the after_in_parent hooks have
     * run, so a sampling thread started here is counted. Resume it from a
     * pending call instead: it runs on the main thread once os.fork has
     * returned. Only when the fork comes from the main thread: a fork from any
     * other thread is from a process with two threads of its own, warned
     * about anyway, and the main thread may not run bytecode for a while. */
    if (on_main_thread() && Py_AddPendingCall(resume_pending, NULL) == 0)
        Py_RETURN_NONE;
#endif
    pm_bind_sigterm_writer_resume();
    return for_each_live(pm_sampler_resume);
}

/* Registered with atexit: a sampler left running must stop before the
 * interpreter tears down the structures it reads and the pending-call queue
 * it posts to. */
PyObject *pm_bind_stop_all(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    for (size_t i = 0; i < sizeof state.live / sizeof state.live[0]; i++)
        if (state.live[i] && state.live[i]->owner)
            stop_now((SamplerObject *)state.live[i]->owner);
    Py_RETURN_NONE;
}

static PyObject *Sampler_start(SamplerObject *self, PyObject *noargs)
{
    (void)noargs;
    if (self->started) {
        PyErr_SetString(PyExc_RuntimeError, "a Sampler runs once; create a new one");
        return NULL;
    }
    if (pm_selfcheck_run() < 0)
        return NULL;
    char err[256] = "";
    if (pm_sampler_start(self->s, err, sizeof err) != 0) {
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    self->started = 1;
    Py_RETURN_NONE;
}

/* --async: the live objects to calibrate asyncio's task layout with
 * (pyrometer._async.calibration()); before start. */
static PyObject *Sampler_set_async(SamplerObject *self, PyObject *info)
{
    if (self->started || !PyDict_Check(info)) {
        PyErr_SetString(PyExc_RuntimeError, "set_async takes a dict, before start");
        return NULL;
    }
    pm_async_layout A;
    char err[256] = "";
    if (pm_async_layout_fill(&A, info, err, sizeof err) != 0) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "cannot read asyncio's tasks here: %s", err);
        return NULL;
    }
    if (pm_sampler_set_async(self->s, &A) != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* --native, before start: fn() is called, and it calls _probe again, and
 * so on until _probe(None).  That innermost call unwinds its own C stack:
 * between it and the third _probe out lie exactly two runs of Python
 * frames (the two functions that called _probe), so an eval loop that no
 * symbol names is the one unnamed function found there twice
 * (pm_sampler_learn_eval).  Returns whether one was learned. */
static PyObject *Sampler_probe(SamplerObject *self, PyObject *fn)
{
    if (self->started) {
        PyErr_SetString(PyExc_RuntimeError, "_probe is for before start");
        return NULL;
    }
    if (fn != Py_None)
        return PyObject_CallNoArgs(fn);
    uint64_t ips[256], starts[256];
    size_t n = pm_native_unwind_here(ips, starts, 256), at[3], found = 0;
    for (size_t i = 0; i < n && found < 3; i++)
        if (starts[i] == (uint64_t)(uintptr_t)Sampler_probe)
            at[found++] = i;
    if (found < 3)
        Py_RETURN_FALSE;
    int rc = pm_sampler_learn_eval(self->s, ips + at[0] + 1, at[2] - at[0] - 1, 2);
    return PyBool_FromLong(rc == 1);
}

static PyObject *Sampler_stop(SamplerObject *self, PyObject *noargs)
{
    (void)noargs;
    stop_now(self);
    Py_RETURN_NONE;
}

static PyObject *Sampler_stats(SamplerObject *self, PyObject *noargs)
{
    (void)noargs;
    pm_sampler_stats st;
    pm_sampler_get_stats(self->s, &st);
    return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsKsK}", "capture_wait_ns", (unsigned long long)st.capture_wait_ns,
                         "capture_slept", (unsigned long long)st.capture_slept, "capture_late",
                         (unsigned long long)st.capture_late, "taken", (unsigned long long)st.ticks, "expected",
                         (unsigned long long)st.expected, "torn", (unsigned long long)st.torn,
                         "torn_held", (unsigned long long)st.torn_held,
                         "captured", (unsigned long long)st.captured, "walks",
                         (unsigned long long)st.walks, "reused", (unsigned long long)st.reused, "truncated",
                         (unsigned long long)st.truncated, "sampler_cpu_ns", (unsigned long long)st.cpu_ns,
                         "duration_ns", (unsigned long long)st.duration_ns, "reads", (unsigned long long)st.reads);
}

static PyObject *Sampler_running(SamplerObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->started && !self->stopped && pm_sampler_running(self->s));
}

static PyMethodDef Sampler_methods[] = {
    {"start", (PyCFunction)Sampler_start, METH_NOARGS, "Runs the self-check, then starts sampling."},
    {"set_async", (PyCFunction)Sampler_set_async, METH_O, "Reads asyncio task stacks (wall mode); before start."},
    {"_probe", (PyCFunction)Sampler_probe, METH_O, "--native: learns an unnamed eval loop (three nested calls)."},
    {"stop", (PyCFunction)Sampler_stop, METH_NOARGS, "Stops sampling and records the quality figures."},
    {"stats", (PyCFunction)Sampler_stats, METH_NOARGS, "The sampler's own figures so far."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Sampler_getset[] = {
    {"running", (getter)Sampler_running, NULL, "Whether the sampling thread runs.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_SamplerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native.Sampler",
    .tp_basicsize = sizeof(SamplerObject),
    .tp_dealloc = (destructor)Sampler_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The GIL-free sampling thread.",
    .tp_methods = Sampler_methods,
    .tp_getset = Sampler_getset,
    .tp_new = Sampler_new,
};

int pm_bind_sampler_parts(PyObject *o, pm_sampler **s, pm_ProfileObject **profile, int *started)
{
    if (!PyObject_TypeCheck(o, &pm_SamplerType)) {
        PyErr_SetString(PyExc_TypeError, "expected a Sampler");
        return -1;
    }
    SamplerObject *so = (SamplerObject *)o;
    *s = so->s;
    *profile = so->profile;
    *started = so->started;
    return 0;
}
