/* pm_bind_requests.c — the Requests type: a Sampler's per-request
 * attribution (collect/pm_requests.h) for the web integrations.  The
 * program's threads tag themselves with the request they serve; the one
 * sampler of the process charges each sample to that request too; a request
 * that ends is cut out of the shared model as a Profile of its own. */
#include "pm_bind.h"

#include <stdlib.h>
#include <string.h>

#include "collect/pm_requests.h"
#include "collect/pm_sampler.h"

typedef struct {
    PyObject_HEAD
    PyObject *sampler; /* strong: the table must outlive its use */
    pm_sampler *s;
    pm_ProfileObject *profile;
    pm_requests *R;
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
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&self->profile->lock);
    rc = pm_requests_open(self->R, rid);
    pthread_mutex_unlock(&self->profile->lock);
    Py_END_ALLOW_THREADS
    if (rc != 0)
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
    Py_BEGIN_ALLOW_THREADS
    pm_req_cell *cells = NULL;
    size_t n = 0;
    pthread_mutex_lock(&self->profile->lock);
    rc = pm_requests_take(self->R, rid, &cells, &n);
    if (rc == 0 && keep) {
        pm_id *leaves = malloc((n ? n : 1) * sizeof *leaves);
        int64_t *values = malloc((n ? n : 1) * sizeof(int64_t) * PM_MAX_METRICS);
        if (leaves && values) {
            for (size_t i = 0; i < n; i++) {
                leaves[i] = cells[i].node;
                memcpy(&values[i * PM_MAX_METRICS], cells[i].v, sizeof cells[i].v);
            }
            out = pm_profile_extract(self->profile->p, leaves, values, n);
        }
        oom = out == NULL;
        free(leaves);
        free(values);
    }
    pthread_mutex_unlock(&self->profile->lock);
    free(cells);
    Py_END_ALLOW_THREADS
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

static PyObject *Requests_stats(RequestsObject *self, PyObject *noargs)
{
    (void)noargs;
    pthread_mutex_lock(&self->profile->lock);
    unsigned long long open = self->R->nrecs, lost = self->R->lost, torn = self->R->torn;
    pthread_mutex_unlock(&self->profile->lock);
    return Py_BuildValue("{sKsKsKsK}", "open", open, "lost", lost, "torn", torn, "untagged",
                         (unsigned long long)atomic_load(&self->R->untagged));
}

static PyMethodDef Requests_methods[] = {
    {"tag", (PyCFunction)Requests_tag, METH_O, "The calling thread serves this request now (0: none); the previous."},
    {"open", (PyCFunction)Requests_open, METH_O, "Gathers the samples of this request from now on."},
    {"take", (PyCFunction)Requests_take, METH_VARARGS, "Ends a request: its samples as a Profile (keep) or None."},
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
