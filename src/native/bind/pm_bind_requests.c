/* pm_bind_requests.c — the Requests type: a Sampler's per-request
 * attribution (collect/pm_requests.h) for the web integrations.  The
 * program's threads tag themselves with the request they serve; the one
 * sampler of the process charges each sample to that request too; a request
 * that ends is cut out of the shared model as a Profile of its own. */
#include "pm_bind.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <frameobject.h>

#include "collect/pm_requests.h"
#include "collect/pm_sampler.h"

typedef struct {
    PyObject_HEAD
    PyObject *sampler; /* strong: the table must outlive its use */
    pm_sampler *s;
    pm_ProfileObject *profile;
    pm_requests *R;
    uint64_t rng; /* rounds an awaited time's share of a sample */
} RequestsObject;

static PyObject *Requests_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"sampler", NULL};
    PyObject *sampler;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Requests", kwlist, &sampler))
        return NULL;
    pm_sampler *s;
    pm_ProfileObject *profile;
    int started;
    if (pm_bind_sampler_parts(sampler, &s, &profile, &started) != 0)
        return NULL;
    if (started) {
        PyErr_SetString(PyExc_RuntimeError, "Requests attaches to a Sampler before it starts");
        return NULL;
    }
    RequestsObject *self = (RequestsObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->R = pm_requests_new();
    if (!self->R) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(sampler);
    self->sampler = sampler;
    self->s = s;
    self->profile = profile;
    pm_sampler_set_requests(s, self->R);
    return (PyObject *)self;
}

static void Requests_dealloc(RequestsObject *self)
{
    if (self->R) {
        pthread_mutex_lock(&self->profile->lock);
        pm_sampler_set_requests(self->s, NULL);
        pthread_mutex_unlock(&self->profile->lock);
        pm_requests_free(self->R);
    }
    Py_XDECREF(self->sampler);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int rid_of(PyObject *arg, uint64_t *rid)
{
    unsigned long long v = PyLong_AsUnsignedLongLong(arg);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *rid = v;
    return 0;
}

/* tag(rid) -> the previous one: the calling thread serves rid now (0: none). */
static PyObject *Requests_tag(RequestsObject *self, PyObject *arg)
{
    uint64_t rid;
    if (rid_of(arg, &rid) != 0)
        return NULL;
    uint64_t prev = pm_requests_tag(self->R, (uint64_t)PyThread_get_thread_ident(), rid);
    return PyLong_FromUnsignedLongLong(prev);
}

/* open(rid): samples tagged rid are gathered from now on. */
static PyObject *Requests_open(RequestsObject *self, PyObject *arg)
{
    uint64_t rid;
    if (rid_of(arg, &rid) != 0)
        return NULL;
    if (rid == 0) {
        PyErr_SetString(PyExc_ValueError, "a request id is nonzero");
        return NULL;
    }
    /* The GIL is kept: the table's lock is held for microseconds, never
     * for a tick (pm_requests.h), while giving the GIL up here would hand
     * it to another server thread, and getting it back can take a whole
     * switch interval (5 ms) on a busy server: twice per request, a
     * throughput loss of a fifth in the web benchmark. */
    if (pm_requests_open(self->R, rid) != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* take(rid, keep=True) -> Profile or None: ends gathering for rid; with
 * keep, its samples as a profile of their own. */
static PyObject *Requests_take(RequestsObject *self, PyObject *args)
{
    PyObject *arg;
    int keep = 1;
    if (!PyArg_ParseTuple(args, "O|p:take", &arg, &keep))
        return NULL;
    uint64_t rid;
    if (rid_of(arg, &rid) != 0)
        return NULL;
    pm_profile *out = NULL;
    int rc, oom = 0;
    /* Only a kept request's extraction, under the model's lock, is long
     * enough to give the GIL up for (see open()). */
    PyThreadState *ts = keep ? PyEval_SaveThread() : NULL;
    pm_req_cell *cells = NULL;
    size_t n = 0;
    rc = pm_requests_take(self->R, rid, &cells, &n);
    if (rc == 0 && keep) {
        pm_id *leaves = malloc((n ? n : 1) * sizeof *leaves);
        int64_t *values = malloc((n ? n : 1) * sizeof(int64_t) * PM_MAX_METRICS);
        if (leaves && values) {
            for (size_t i = 0; i < n; i++) {
                leaves[i] = cells[i].node;
                memcpy(&values[i * PM_MAX_METRICS], cells[i].v, sizeof cells[i].v);
            }
            pthread_mutex_lock(&self->profile->lock);
            out = pm_profile_extract(self->profile->p, leaves, values, n);
            pthread_mutex_unlock(&self->profile->lock);
        }
        oom = out == NULL;
        free(leaves);
        free(values);
    }
    free(cells);
    if (ts)
        PyEval_RestoreThread(ts);
    if (rc != 0) {
        PyErr_SetString(PyExc_KeyError, "that request is not open");
        return NULL;
    }
    if (oom)
        return PyErr_NoMemory();
    if (!keep)
        Py_RETURN_NONE;
    return pm_profile_wrap(out);
}

/* How deep an awaited stack is kept (the thread's frames and the chain). */
#define AWAIT_DEPTH 512

/* Heap-allocated whole: the calling thread may have a small stack. */
typedef struct {
    PyCodeObject *code[AWAIT_DEPTH]; /* strong */
    int32_t lines[AWAIT_DEPTH];
    const char *name[AWAIT_DEPTH], *file[AWAIT_DEPTH]; /* UTF-8 of code[i], NULL if none */
    Py_ssize_t name_len[AWAIT_DEPTH], file_len[AWAIT_DEPTH];
    pm_id frames[AWAIT_DEPTH];
    size_t n;
} await_stack;

static void await_push(await_stack *st, PyFrameObject *f)
{
    if (st->n < AWAIT_DEPTH) {
        st->code[st->n] = PyFrame_GetCode(f);
        st->lines[st->n++] = PyFrame_GetLineNumber(f);
    }
}

/* A coroutine's (or generator's) frame and what it awaits now, as new
 * references (NULL when none).  Only these two exact kinds are followed:
 * reading an attribute of any other awaitable could run its code. */
static int await_step(PyObject *o, PyObject **frame, PyObject **next)
{
    const char *fa, *na;
    if (PyCoro_CheckExact(o))
        fa = "cr_frame", na = "cr_await";
    else if (PyGen_CheckExact(o))
        fa = "gi_frame", na = "gi_yieldfrom";
    else
        return 0;
    *frame = PyObject_GetAttrString(o, fa);
    *next = *frame ? PyObject_GetAttrString(o, na) : NULL;
    if (!*frame || !*next || !PyFrame_Check(*frame)) {
        PyErr_Clear();
        Py_XDECREF(*frame);
        Py_XDECREF(*next);
        return 0;
    }
    return 1;
}

/* The calling thread's stack (outermost first), then coro's chain from
 * coro's own frame down to the awaitable that is no coroutine (a Future). */
static void await_collect(await_stack *st, PyObject *coro)
{
    PyFrameObject *f = PyEval_GetFrame();
    Py_XINCREF(f);
    while (f && st->n < AWAIT_DEPTH) {
        await_push(st, f);
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    for (size_t i = 0, j = st->n; i + 1 < j; i++, j--) { /* outermost first */
        PyCodeObject *c = st->code[i];
        int32_t l = st->lines[i];
        st->code[i] = st->code[j - 1], st->lines[i] = st->lines[j - 1];
        st->code[j - 1] = c, st->lines[j - 1] = l;
    }
    PyObject *o = coro, *frame, *next;
    Py_INCREF(o);
    while (st->n < AWAIT_DEPTH && await_step(o, &frame, &next)) {
        await_push(st, (PyFrameObject *)frame);
        Py_DECREF(frame);
        Py_DECREF(o);
        o = next;
    }
    Py_DECREF(o);
}

/* awaited(rid, coro, since_ns, rate_hz): request rid was suspended from
 * since_ns (time.monotonic_ns()) until now, in coro's chain, on no thread:
 * that wall time, as the samples a sampler at rate_hz would have taken of
 * it (off-CPU), is charged to it at the stack where the request waited
 * (the calling thread's stack, which runs the request's steps, then the
 * chain), as the wall view of pyinstrument or an asyncio task's view would
 * show it. */
static PyObject *Requests_awaited(RequestsObject *self, PyObject *args)
{
    PyObject *arg, *coro;
    long long since;
    double rate;
    if (!PyArg_ParseTuple(args, "OOLd:awaited", &arg, &coro, &since, &rate))
        return NULL;
    uint64_t rid;
    if (rid_of(arg, &rid) != 0)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long dt = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec - since;
    if (dt <= 0 || rate <= 0)
        Py_RETURN_NONE;
    /* A sample is taken with the chance of the wait's share of one (and
     * the whole ones of a longer wait), as the sampler would have: most
     * waits of a busy server are short, and cost only this draw. */
    double share = (double)dt * rate / 1e9;
    int64_t samples = (int64_t)share;
    self->rng = self->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((double)(self->rng >> 11) / 9007199254740992.0 < share - (double)samples)
        samples++;
    if (samples == 0)
        Py_RETURN_NONE;
    if (share < 1.0) /* one sample of a short wait stands for a whole interval */
        dt = (long long)(1e9 / rate);
    await_stack *st = malloc(sizeof *st);
    if (!st)
        return PyErr_NoMemory();
    st->n = 0;
    await_collect(st, coro);
    for (size_t i = 0; i < st->n; i++) {
#if PY_VERSION_HEX >= 0x030B0000
        PyObject *qn = st->code[i]->co_qualname; /* the sampler's name for it */
#else
        PyObject *qn = st->code[i]->co_name;
#endif
        st->name[i] = PyUnicode_AsUTF8AndSize(qn, &st->name_len[i]);
        st->file[i] = PyUnicode_AsUTF8AndSize(st->code[i]->co_filename, &st->file_len[i]);
        if (!st->name[i] || !st->file[i]) {
            PyErr_Clear();
            st->name[i] = NULL;
        }
    }
    pm_profile *p = self->profile->p;
    pthread_mutex_lock(&self->profile->lock);
    size_t n = 0; /* frames interned, packed in place (n <= i) */
    for (size_t i = 0; i < st->n; i++) {
        if (!st->name[i])
            continue;
        pm_id fr = pm_frame_intern(p, pm_str_intern(p, st->name[i], (size_t)st->name_len[i]),
                                   pm_str_intern(p, st->file[i], (size_t)st->file_len[i]),
                                   st->code[i]->co_firstlineno, PM_FRAME_PYTHON);
        if (fr != PM_NONE) {
            st->frames[n] = fr;
            st->lines[n++] = st->lines[i];
        }
    }
    pm_id thread = pm_thread_get(p, (uint64_t)PyThread_get_thread_ident(), (uint64_t)PyThread_get_thread_native_id());
    pm_id leaf = n && thread != PM_NONE ? pm_stack_insert(p, thread, st->frames, st->lines, n) : PM_NONE;
    int64_t v[PM_MAX_METRICS] = {0};
    int ms = pm_metric_find(p, "samples"), mw = pm_metric_find(p, "wall"), mi = pm_metric_find(p, "idle");
    if (ms >= 0)
        v[ms] = samples;
    if (mw >= 0)
        v[mw] = dt;
    if (mi >= 0)
        v[mi] = samples;
    pm_requests_add(self->R, rid, leaf, v);
    pthread_mutex_unlock(&self->profile->lock);
    for (size_t i = 0; i < st->n; i++)
        Py_DECREF(st->code[i]);
    free(st);
    Py_RETURN_NONE;
}

static PyObject *Requests_stats(RequestsObject *self, PyObject *noargs)
{
    (void)noargs;
    uint64_t open, lost, torn;
    pm_requests_counts(self->R, &open, &lost, &torn);
    return Py_BuildValue("{sKsKsKsK}", "open", (unsigned long long)open, "lost", (unsigned long long)lost,
                         "torn", (unsigned long long)torn, "untagged",
                         (unsigned long long)atomic_load(&self->R->untagged));
}

static PyMethodDef Requests_methods[] = {
    {"tag", (PyCFunction)Requests_tag, METH_O, "The calling thread serves this request now (0: none); the previous."},
    {"open", (PyCFunction)Requests_open, METH_O, "Gathers the samples of this request from now on."},
    {"take", (PyCFunction)Requests_take, METH_VARARGS, "Ends a request: its samples as a Profile (keep) or None."},
    {"awaited", (PyCFunction)Requests_awaited, METH_VARARGS,
     "awaited(rid, coro, since_ns, rate_hz): the request's time suspended in coro's chain since since_ns."},
    {"stats", (PyCFunction)Requests_stats, METH_NOARGS, "Open requests and charges lost."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pm_RequestsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.Requests",
    .tp_basicsize = sizeof(RequestsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Per-request attribution of a Sampler's samples (the web integrations).",
    .tp_new = Requests_new,
    .tp_dealloc = (destructor)Requests_dealloc,
    .tp_methods = Requests_methods,
};
