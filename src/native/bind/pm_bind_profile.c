/* pm_bind_profile.c — the Profile type: a Python handle on the C model, with
 * the readers and writers of output/ behind a few methods. */
#include "pm_bind.h"

#include <stdlib.h>
#include <string.h>

#include "input/pm_input.h"
#include "output/pm_formats.h"
#include "output/pm_output.h"

#define LOCK(o) pthread_mutex_lock(&(o)->lock)
#define UNLOCK(o) pthread_mutex_unlock(&(o)->lock)

static PyObject *str_of(const pm_profile *p, pm_id id)
{
    size_t len = 0;
    const char *s = pm_str_get(p, id, &len);
    /* Names copied out of another interpreter may hold lone surrogates in
     * their 3-byte form; surrogatepass brings them back as they were. */
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)len : 0, "surrogatepass");
}

static PyObject *id_or_none(pm_id id) { return id == PM_NONE ? PyLong_FromLong(-1) : PyLong_FromUnsignedLong(id); }

static PyObject *Profile_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":Profile", kwlist))
        return NULL;
    pm_ProfileObject *self = (pm_ProfileObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->p = pm_profile_new();
    if (!self->p) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void Profile_dealloc(pm_ProfileObject *self)
{
    pm_profile_free(self->p);
    pthread_mutex_destroy(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *pm_profile_wrap(pm_profile *p)
{
    pm_ProfileObject *self = (pm_ProfileObject *)pm_ProfileType.tp_alloc(&pm_ProfileType, 0);
    if (!self) {
        pm_profile_free(p);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->p = p;
    return (PyObject *)self;
}

static PyObject *read_with(PyObject *arg, pm_profile *(*reader)(const void *, size_t, char *, size_t))
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0)
        return NULL;
    char err[256] = "";
    pm_profile *p;
    Py_BEGIN_ALLOW_THREADS
    p = reader(view.buf, (size_t)view.len, err, sizeof err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (!p) {
        PyErr_SetString(PyExc_ValueError, err[0] ? err : "not a pyrometer profile");
        return NULL;
    }
    return pm_profile_wrap(p);
}

static PyObject *Profile_from_pyro(PyObject *cls, PyObject *arg)
{
    (void)cls;
    return read_with(arg, pm_read_pyro);
}

static PyObject *Profile_from_bytes(PyObject *cls, PyObject *arg)
{
    (void)cls;
    return read_with(arg, pm_read_any);
}

static PyObject *formats(PyObject *cls, PyObject *noargs)
{
    (void)cls;
    (void)noargs;
    PyObject *out = PyList_New(0);
    for (const pm_format *const *f = pm_formats(); out && *f; f++) {
        PyObject *row = Py_BuildValue("(sssO)", (*f)->name, (*f)->extensions, (*f)->description,
                                      (*f)->read ? Py_True : Py_False);
        if (!row || PyList_Append(out, row) != 0)
            Py_CLEAR(out);
        Py_XDECREF(row);
    }
    return out;
}

/* The metric a report or a stat uses when none is named: the one the mode
 * measures. Caller holds the lock. */
static int default_metric(const pm_profile *p, const char *fallback)
{
    const pm_meta *m = pm_meta_find(p, "mode");
    const char *mode = NULL;
    if (m && m->kind == PM_META_STR)
        mode = pm_str_get(p, m->str, NULL);
    int idx = -1;
    if (mode && strcmp(mode, "cpu") == 0)
        idx = pm_metric_find(p, "cpu");
    else if (mode && (strcmp(mode, "calls") == 0 || strcmp(mode, "lines") == 0))
        idx = pm_metric_find(p, "time"); /* deterministic modes: self time */
    if (idx < 0)
        idx = pm_metric_find(p, fallback);
    if (idx < 0 && pm_metric_count(p) > 0)
        idx = 0;
    return idx;
}

static int metric_arg(const pm_profile *p, const char *name, const char *fallback)
{
    int m = name ? pm_metric_find(p, name) : default_metric(p, fallback);
    if (m < 0) {
        if (name)
            PyErr_Format(PyExc_ValueError, "the profile has no metric named '%s'", name);
        else
            PyErr_SetString(PyExc_ValueError, "the profile has no metrics");
    }
    return m;
}

/* Serialises to one of the formats of output/pm_formats.c; fills buf.
 * Returns 0 or -1 (exception set). */
static int render(pm_ProfileObject *self, const char *format, const char *metric, int per_line,
                  const char *tmpl, Py_ssize_t tmpl_len, pm_buf *buf)
{
    const pm_format *f = pm_format_find(format);
    if (!f) {
        PyErr_Format(PyExc_ValueError, "unknown format '%s'", format);
        return -1;
    }
    pm_format_opts o = {-1, per_line, tmpl, tmpl ? (size_t)tmpl_len : 0};
    pm_buf_init(buf);
    int rc;
    LOCK(self);
    if (metric && (o.metric = pm_metric_find(self->p, metric)) < 0) {
        UNLOCK(self);
        PyErr_Format(PyExc_ValueError, "the profile has no metric named '%s'", metric);
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = f->write(self->p, &o, buf);
    Py_END_ALLOW_THREADS
    UNLOCK(self);
    if (rc != 0 || buf->oom) {
        pm_buf_free(buf);
        PyErr_SetString(buf->oom ? PyExc_MemoryError : PyExc_ValueError,
                        buf->oom ? "out of memory" : "the profile cannot be written in this format");
        return -1;
    }
    return 0;
}

static PyObject *Profile_to_bytes(pm_ProfileObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"format", "metric", "per_line", "template", NULL};
    const char *format, *metric = NULL, *tmpl = NULL;
    Py_ssize_t tmpl_len = 0;
    int per_line = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|$zpz#:to_bytes", kwlist, &format, &metric, &per_line, &tmpl,
                                     &tmpl_len))
        return NULL;
    pm_buf buf;
    if (render(self, format, metric, per_line, tmpl, tmpl_len, &buf) != 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(buf.data, (Py_ssize_t)buf.len);
    pm_buf_free(&buf);
    return out;
}

static PyObject *Profile_write(pm_ProfileObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "format", "metric", "per_line", "template", NULL};
    PyObject *path_obj;
    const char *format, *metric = NULL, *tmpl = NULL;
    Py_ssize_t tmpl_len = 0;
    int per_line = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&s|$zpz#:write", kwlist, PyUnicode_FSConverter, &path_obj,
                                     &format, &metric, &per_line, &tmpl, &tmpl_len))
        return NULL;
    pm_buf buf;
    if (render(self, format, metric, per_line, tmpl, tmpl_len, &buf) != 0) {
        Py_DECREF(path_obj);
        return NULL;
    }
    char err[512] = "";
    int rc;
    const char *path = PyBytes_AS_STRING(path_obj);
    Py_BEGIN_ALLOW_THREADS
    rc = pm_file_write_atomic(path, buf.data, buf.len, err, sizeof err);
    Py_END_ALLOW_THREADS
    pm_buf_free(&buf);
    Py_DECREF(path_obj);
    if (rc != 0) {
        PyErr_SetString(PyExc_OSError, err);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *Profile_report(pm_ProfileObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"metric", "show_all", "threshold", "color", "top", "width", "library_prefixes", NULL};
    const char *metric = NULL;
    int show_all = 0, color = 0, top = 15, width = 100;
    double threshold = 0.5;
    PyObject *prefixes = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$zpdpiiO:report", kwlist, &metric, &show_all, &threshold,
                                     &color, &top, &width, &prefixes))
        return NULL;
    PyObject *seq = prefixes ? PySequence_Fast(prefixes, "library_prefixes must be a sequence of str") : NULL;
    if (prefixes && !seq)
        return NULL;
    Py_ssize_t np = seq ? PySequence_Fast_GET_SIZE(seq) : 0;
    const char **pre = PyMem_Calloc((size_t)np + 1, sizeof *pre);
    if (!pre) {
        Py_XDECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < np; i++) {
        pre[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!pre[i]) {
            PyMem_Free(pre);
            Py_DECREF(seq);
            return NULL;
        }
    }
    pm_report_opts o;
    pm_report_opts_default(&o);
    o.show_all = show_all;
    o.threshold_pct = threshold;
    o.color = color;
    o.top_n = top;
    o.width = width;
    o.library_prefixes = pre;
    o.n_library_prefixes = (size_t)np;
    pm_buf buf;
    pm_buf_init(&buf);
    LOCK(self);
    int rc = -1;
    o.metric = metric_arg(self->p, metric, "wall");
    if (o.metric >= 0) {
        Py_BEGIN_ALLOW_THREADS
        rc = pm_write_report(self->p, &o, &buf);
        Py_END_ALLOW_THREADS
        if (rc != 0 || buf.oom)
            PyErr_NoMemory();
    }
    UNLOCK(self);
    PyMem_Free(pre);
    Py_XDECREF(seq);
    PyObject *out = NULL;
    if (rc == 0 && !buf.oom)
        out = PyUnicode_DecodeUTF8(buf.data, (Py_ssize_t)buf.len, "replace");
    pm_buf_free(&buf);
    return out;
}

static PyObject *Profile_func_stats(pm_ProfileObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"metric", "thread", NULL};
    const char *metric = NULL;
    PyObject *thread_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zO:func_stats", kwlist, &metric, &thread_obj))
        return NULL;
    pm_id thread = PM_NONE;
    if (thread_obj != Py_None) {
        long t = PyLong_AsLong(thread_obj);
        if (t == -1 && PyErr_Occurred())
            return NULL;
        thread = (pm_id)t;
    }
    LOCK(self);
    int m = metric_arg(self->p, metric, "wall");
    if (m < 0 || (thread != PM_NONE && thread >= pm_thread_count(self->p))) {
        UNLOCK(self);
        if (m >= 0)
            PyErr_SetString(PyExc_ValueError, "no such thread index");
        return NULL;
    }
    pm_func_stat *st = NULL;
    long n = pm_func_stats(self->p, m, thread, &st);
    PyObject *out = n < 0 ? PyErr_NoMemory() : PyList_New(n);
    for (long i = 0; out && i < n; i++) {
        const pm_frame *f = pm_frame_get(self->p, st[i].frame);
        PyObject *name = str_of(self->p, f->name), *file = str_of(self->p, f->file);
        PyObject *row = name && file ? Py_BuildValue("(NNiLLLL)", name, file, (int)f->line, (long long)st[i].self,
                                                     (long long)st[i].total, (long long)st[i].samples_self,
                                                     (long long)st[i].samples_total)
                                     : NULL;
        if (!row) {
            Py_XDECREF(name);
            Py_XDECREF(file);
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    UNLOCK(self);
    free(st);
    return out;
}

static PyObject *Profile_meta(pm_ProfileObject *self, void *closure)
{
    (void)closure;
    PyObject *d = PyDict_New();
    LOCK(self);
    for (uint32_t i = 0; d && i < pm_meta_count(self->p); i++) {
        const pm_meta *m = pm_meta_at(self->p, i);
        PyObject *k = str_of(self->p, m->key);
        PyObject *v = m->kind == PM_META_NUM ? PyFloat_FromDouble(m->num) : str_of(self->p, m->str);
        if (!k || !v || PyDict_SetItem(d, k, v) != 0)
            Py_CLEAR(d);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    UNLOCK(self);
    return d;
}

/* merge(other): other's stacks and values added into this profile. */
static PyObject *Profile_merge(pm_ProfileObject *self, PyObject *other)
{
    if (!PyObject_TypeCheck(other, &pm_ProfileType)) {
        PyErr_SetString(PyExc_TypeError, "merge() takes a Profile");
        return NULL;
    }
    pm_ProfileObject *o = (pm_ProfileObject *)other;
    if (o == self) {
        PyErr_SetString(PyExc_ValueError, "a profile cannot be merged into itself");
        return NULL;
    }
    LOCK(self);
    LOCK(o);
    int rc = pm_profile_merge(self->p, o->p);
    UNLOCK(o);
    UNLOCK(self);
    if (rc < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *Profile_set_meta(pm_ProfileObject *self, PyObject *args)
{
    const char *key;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "sO:set_meta", &key, &value))
        return NULL;
    if (PyUnicode_Check(value)) {
        const char *v = PyUnicode_AsUTF8(value);
        if (!v)
            return NULL;
        LOCK(self);
        pm_meta_set_str(self->p, key, v);
        UNLOCK(self);
    } else {
        double v = PyFloat_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred())
            return NULL;
        LOCK(self);
        pm_meta_set_num(self->p, key, v);
        UNLOCK(self);
    }
    Py_RETURN_NONE;
}

/* delta(state) -> (Profile, state): the values every stack gained since the
 * call that returned state (None: since the start), as a profile of its own
 * (a push to a continuous-profiling server sends each interval's share),
 * and the state for the next call (every node's values now, as bytes). */
static PyObject *Profile_delta(pm_ProfileObject *self, PyObject *state)
{
    Py_buffer prev = {0};
    int have = state != Py_None;
    if (have && PyObject_GetBuffer(state, &prev, PyBUF_SIMPLE) != 0)
        return NULL;
    const size_t row = sizeof(int64_t) * PM_MAX_METRICS;
    size_t nprev = have ? (size_t)prev.len / row : 0;
    const int64_t *pv = have ? (const int64_t *)prev.buf : NULL;
    pm_profile *out = NULL;
    int64_t *cur = NULL, *d = NULL;
    pm_id *leaves = NULL;
    size_t n;
    LOCK(self);
    n = pm_node_count(self->p);
    int nm = pm_metric_count(self->p);
    cur = calloc(n + 1, row);
    d = calloc(n + 1, row);
    leaves = malloc((n + 1) * sizeof *leaves);
    if (cur && d && leaves) {
        for (size_t i = 0; i < n; i++) {
            leaves[i] = (pm_id)i;
            for (int m = 0; m < nm; m++) {
                size_t k = i * PM_MAX_METRICS + (size_t)m;
                cur[k] = pm_node_value(self->p, (pm_id)i, m);
                d[k] = cur[k] - (i < nprev ? pv[k] : 0);
            }
        }
        out = pm_profile_extract(self->p, leaves, d, n);
    }
    UNLOCK(self);
    if (have)
        PyBuffer_Release(&prev);
    PyObject *result = NULL;
    if (out) {
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)cur, (Py_ssize_t)(n * row));
        PyObject *wrapped = bytes ? pm_profile_wrap(out) : (pm_profile_free(out), NULL);
        if (bytes && wrapped)
            result = PyTuple_Pack(2, wrapped, bytes);
        Py_XDECREF(bytes);
        Py_XDECREF(wrapped);
    } else {
        PyErr_NoMemory();
    }
    free(cur);
    free(d);
    free(leaves);
    return result;
}

static PyObject *Profile_set_thread_name(pm_ProfileObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"ident", "name", "native_id", NULL};
    unsigned long long ident, native_id = 0;
    const char *name;
    Py_ssize_t len;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Ks#|K:set_thread_name", kwlist, &ident, &name, &len, &native_id))
        return NULL;
    LOCK(self);
    /* An ident can belong to several threads one after the other; the OS
     * id, when given, names only the right one. */
    for (uint32_t i = 0; i < pm_thread_count(self->p); i++) {
        const pm_thread *t = pm_thread_at(self->p, i);
        if (t->ident == ident && (!native_id || !t->native_id || t->native_id == native_id))
            pm_thread_set_name(self->p, i, name, (size_t)len);
    }
    UNLOCK(self);
    Py_RETURN_NONE;
}

/* set_thread_names({ident: name}): names every thread of each ident in one
 * pass over the threads (a dict look-up each). set_thread_name per thread
 * scans them all, so naming N threads that way was O(N^2): 16,800 short-lived
 * threads took 3.5 s at the end of a calls profile. */
static PyObject *Profile_set_thread_names(pm_ProfileObject *self, PyObject *names)
{
    if (!PyDict_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "set_thread_names() takes a dict {ident: name}");
        return NULL;
    }
    LOCK(self);
    int err = 0;
    for (uint32_t i = 0; !err && i < pm_thread_count(self->p); i++) {
        PyObject *key = PyLong_FromUnsignedLongLong(pm_thread_at(self->p, i)->ident);
        PyObject *name = key ? PyDict_GetItemWithError(names, key) : NULL;
        Py_XDECREF(key);
        if (!name) {
            err = PyErr_Occurred() != NULL;
            continue;
        }
        Py_ssize_t len;
        const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
        if (!s) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "set_thread_names(): a name is a str");
            err = 1;
            continue;
        }
        pm_thread_set_name(self->p, i, s, (size_t)len);
    }
    UNLOCK(self);
    if (err)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Profile_threads(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    uint32_t n = pm_thread_count(self->p);
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out && i < n; i++) {
        const pm_thread *t = pm_thread_at(self->p, i);
        PyObject *row = Py_BuildValue("(KKNk)", (unsigned long long)t->ident, (unsigned long long)t->native_id,
                                      str_of(self->p, t->name), (unsigned long)t->root);
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    UNLOCK(self);
    return out;
}

static PyObject *Profile_metrics(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    int n = pm_metric_count(self->p);
    PyObject *out = PyList_New(n);
    for (int i = 0; out && i < n; i++) {
        const pm_metric *m = pm_metric_get(self->p, i);
        PyObject *row = Py_BuildValue("(NN)", str_of(self->p, m->name), str_of(self->p, m->unit));
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    UNLOCK(self);
    return out;
}

static PyObject *Profile_frames(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    uint32_t n = pm_frame_count(self->p);
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out && i < n; i++) {
        const pm_frame *f = pm_frame_get(self->p, i);
        PyObject *row = Py_BuildValue("(NNii)", str_of(self->p, f->name), str_of(self->p, f->file), (int)f->line,
                                      (int)f->kind);
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    UNLOCK(self);
    return out;
}

static PyObject *Profile_nodes(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    uint32_t n = pm_node_count(self->p);
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out && i < n; i++) {
        const pm_node *d = pm_node_get(self->p, i);
        PyObject *row = Py_BuildValue("(NNiN)", id_or_none(d->parent), id_or_none(d->frame), (int)d->line,
                                      id_or_none(d->thread));
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    UNLOCK(self);
    return out;
}

static PyObject *Profile_values(pm_ProfileObject *self, PyObject *args)
{
    const char *metric;
    if (!PyArg_ParseTuple(args, "s:values", &metric))
        return NULL;
    LOCK(self);
    int m = pm_metric_find(self->p, metric);
    if (m < 0) {
        UNLOCK(self);
        PyErr_Format(PyExc_ValueError, "the profile has no metric named '%s'", metric);
        return NULL;
    }
    uint32_t n = pm_node_count(self->p);
    PyObject *out = PyList_New(n);
    for (uint32_t i = 0; out && i < n; i++) {
        PyObject *v = PyLong_FromLongLong(pm_node_value(self->p, i, m));
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    UNLOCK(self);
    return out;
}

static PyObject *Profile_timeline(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    size_t n = 0;
    const pm_event *ev = pm_timeline_events(self->p, &n);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out && i < n; i++) {
        PyObject *row = Py_BuildValue("(KkN)", (unsigned long long)ev[i].t_ns, (unsigned long)ev[i].thread,
                                      id_or_none(ev[i].node));
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, row);
    }
    UNLOCK(self);
    return out;
}

/* allocations() -> (bucket_ns, [(node, at, freed or -1, bytes, count)]),
 * or None when the profile has no allocation records (see pm_model.h). */
static PyObject *Profile_allocations(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    uint64_t bucket = pm_allocs_bucket_ns(self->p);
    size_t n = 0;
    const pm_alloc_rec *r = pm_allocs_records(self->p, &n);
    PyObject *list = bucket ? PyList_New((Py_ssize_t)n) : NULL;
    for (size_t i = 0; list && i < n; i++) {
        PyObject *row = Py_BuildValue("(kkNLL)", (unsigned long)r[i].node, (unsigned long)r[i].at,
                                      id_or_none(r[i].freed), (long long)r[i].bytes, (long long)r[i].count);
        if (!row) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, row);
    }
    UNLOCK(self);
    if (!bucket)
        Py_RETURN_NONE;
    return list ? Py_BuildValue("(KN)", (unsigned long long)bucket, list) : NULL;
}

/* reroot({(file, first line): kind}, runner thread ident=0): pm_profile_reroot with frames classed by
 * the function they are (file and first line name it; the name differs
 * between versions and collectors).  A C function (calls mode's builtins,
 * all at ("~", 0)) is looked up as (file, line, name) first. */
static PyObject *Profile_reroot(pm_ProfileObject *self, PyObject *args)
{
    PyObject *kinds;
    unsigned long long runner = 0;
    if (!PyArg_ParseTuple(args, "O!|K:reroot", &PyDict_Type, &kinds, &runner))
        return NULL;
    LOCK(self);
    uint32_t n = pm_frame_count(self->p);
    uint8_t *kind = calloc((size_t)n + 1, 1);
    int err = kind == NULL;
    for (uint32_t i = 0; !err && i < n; i++) {
        const pm_frame *f = pm_frame_get(self->p, i);
        PyObject *v = NULL;
        if (f->kind == PM_FRAME_NATIVE) {
            /* C functions share ("~", 0): a builtin is named whole. */
            PyObject *nkey = Py_BuildValue("(NiN)", str_of(self->p, f->file), (int)f->line, str_of(self->p, f->name));
            v = nkey ? PyDict_GetItemWithError(kinds, nkey) : NULL;
            Py_XDECREF(nkey);
            if (!v && PyErr_Occurred()) {
                err = 1;
                continue;
            }
        }
        PyObject *key = v ? NULL : Py_BuildValue("(Ni)", str_of(self->p, f->file), (int)f->line);
        if (!v)
            v = key ? PyDict_GetItemWithError(kinds, key) : NULL;
        Py_XDECREF(key);
        if (!v) {
            err = PyErr_Occurred() != NULL;
            continue;
        }
        long k = PyLong_AsLong(v);
        if (k < PM_REROOT_KEEP || k > PM_REROOT_FOLD) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "reroot(): a kind is 0 to 7");
            err = 1;
            continue;
        }
        kind[i] = (uint8_t)k;
    }
    int rc = err ? 0 : pm_profile_reroot(self->p, kind, (uint64_t)runner);
    UNLOCK(self);
    free(kind);
    if (err)
        return kind ? NULL : PyErr_NoMemory();
    if (rc != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *Profile_counts(pm_ProfileObject *self, PyObject *noargs)
{
    (void)noargs;
    LOCK(self);
    size_t events = 0;
    pm_timeline_events(self->p, &events);
    PyObject *out = Py_BuildValue("{sksksksksnsKsn}", "strings", (unsigned long)pm_str_count(self->p), "frames",
                                  (unsigned long)pm_frame_count(self->p), "nodes", (unsigned long)pm_node_count(self->p),
                                  "threads", (unsigned long)pm_thread_count(self->p), "events", (Py_ssize_t)events,
                                  "events_dropped", (unsigned long long)pm_timeline_dropped(self->p), "memory",
                                  (Py_ssize_t)pm_profile_memory(self->p));
    UNLOCK(self);
    return out;
}

static PyMethodDef Profile_methods[] = {
    {"from_pyro", (PyCFunction)Profile_from_pyro, METH_O | METH_STATIC, "Reads a .pyro file's bytes."},
    {"from_bytes", (PyCFunction)Profile_from_bytes, METH_O | METH_STATIC,
     "Reads a profile in any readable format, recognised by its content."},
    {"formats", (PyCFunction)formats, METH_NOARGS | METH_STATIC,
     "(name, extensions, description, readable) for every format."},
    {"to_bytes", (PyCFunction)(void (*)(void))Profile_to_bytes, METH_VARARGS | METH_KEYWORDS, "Serialises the profile."},
    {"write", (PyCFunction)(void (*)(void))Profile_write, METH_VARARGS | METH_KEYWORDS, "Writes a file atomically."},
    {"report", (PyCFunction)(void (*)(void))Profile_report, METH_VARARGS | METH_KEYWORDS, "The terminal report."},
    {"func_stats", (PyCFunction)(void (*)(void))Profile_func_stats, METH_VARARGS | METH_KEYWORDS, "Per-function figures."},
    {"set_meta", (PyCFunction)Profile_set_meta, METH_VARARGS, "Sets a metadata value."},
    {"merge", (PyCFunction)Profile_merge, METH_O, "Adds another profile's stacks and values to this one."},
    {"delta", (PyCFunction)Profile_delta, METH_O, "(Profile of what stacks gained since state, new state)."},
    {"set_thread_name", (PyCFunction)(void (*)(void))Profile_set_thread_name, METH_VARARGS | METH_KEYWORDS,
     "Names a thread: (ident, name, native_id=0)."},
    {"set_thread_names", (PyCFunction)Profile_set_thread_names, METH_O,
     "Names threads from {ident: name}, every thread of an ident."},
    {"threads", (PyCFunction)Profile_threads, METH_NOARGS, "(ident, native_id, name, root) per thread."},
    {"metrics", (PyCFunction)Profile_metrics, METH_NOARGS, "(name, unit) per metric."},
    {"frames", (PyCFunction)Profile_frames, METH_NOARGS, "(name, file, line, kind) per frame."},
    {"nodes", (PyCFunction)Profile_nodes, METH_NOARGS, "(parent, frame, line, thread) per node."},
    {"values", (PyCFunction)Profile_values, METH_VARARGS, "Self values of a metric per node."},
    {"timeline", (PyCFunction)Profile_timeline, METH_NOARGS, "(t_ns, thread, node) events."},
    {"allocations", (PyCFunction)Profile_allocations, METH_NOARGS,
     "(bucket_ns, [(node, at, freed, bytes, count)]) of a memory profile, or None."},
    {"counts", (PyCFunction)Profile_counts, METH_NOARGS, "Sizes of the model."},
    {"reroot", (PyCFunction)Profile_reroot, METH_VARARGS,
     "Drops a launcher's frames from the top of every thread's stacks: {(file, first line): kind}."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Profile_getset[] = {
    {"meta", (getter)Profile_meta, NULL, "Metadata as a dict.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject pm_ProfileType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native.Profile",
    .tp_basicsize = sizeof(pm_ProfileObject),
    .tp_dealloc = (destructor)Profile_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A profile: the C model every collector feeds and every writer reads.",
    .tp_methods = Profile_methods,
    .tp_getset = Profile_getset,
    .tp_new = Profile_new,
};
