/* pm_bind_remote.c — the Remote type: another Python process, opened by pid
 * (collect/pm_remote.c), dumped once or sampled into a Profile
 * (collect/pm_remote_session.c).  Sampling runs without the GIL, in slices
 * the caller asks for, so Ctrl-C, a duration and a live view are the
 * Python shell's business between slices. */
#include "pm_bind.h"

#include <stdlib.h>
#include <string.h>

#include "collect/pm_remote.h"
#include "collect/pm_remote_session.h"
#include "collect/pm_remote_watch.h"
#include "collect/pm_sampler.h"

typedef struct {
    PyObject_HEAD
    pm_remote r;
    pm_profile *names;           /* a dump's frames are interned here */
    pm_rsession dump;            /* over `names`, for dumps */
    int dump_ready;
    pm_rsession rec;             /* over a Profile, while recording */
    pm_ProfileObject *profile;
    int rec_ready;
} RemoteObject;

static PyObject *remote_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"pid", NULL};
    int pid;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "i:Remote", kwlist, &pid))
        return NULL;
    RemoteObject *self = (RemoteObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pm_remote_open(&self->r, (pid_t)pid, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc != PM_REMOTE_OK) {
        PyObject *e = Py_BuildValue("(is)", rc, err);
        if (e) {
            PyErr_SetObject(PyExc_RuntimeError, e);
            Py_DECREF(e);
        }
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void remote_dealloc(RemoteObject *self)
{
    if (self->dump_ready)
        pm_rsession_free(&self->dump);
    if (self->rec_ready)
        pm_rsession_free(&self->rec);
    if (self->names)
        pm_profile_free(self->names);
    Py_XDECREF(self->profile);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *remote_info(RemoteObject *self, PyObject *noargs)
{
    (void)noargs;
    static const char *const words[] = {"none", "agree", "adopted", "unusable"};
    int dof = self->r.L.debug_offsets;
    char version[16];
    snprintf(version, sizeof version, "3.%d", self->r.minor);
    return Py_BuildValue("{si ss ss sK sK ss si}", "pid", (int)self->r.pid, "python", version, "path", self->r.path,
                         "runtime", (unsigned long long)self->r.runtime, "interp",
                         (unsigned long long)self->r.L.interp_addr, "debug_offsets",
                         words[dof >= 0 && dof < 4 ? dof : 0], "debug_offsets_adopted",
                         self->r.L.debug_offsets_adopted);
}

static PyObject *remote_layout(RemoteObject *self, PyObject *noargs)
{
    (void)noargs;
    return pm_bind_layout_dict(&self->r.L);
}

static int ensure_dump(RemoteObject *self)
{
    if (self->dump_ready)
        return 0;
    if (!self->names && !(self->names = pm_profile_new())) {
        PyErr_NoMemory();
        return -1;
    }
    char err[256] = "";
    if (pm_rsession_init(&self->dump, &self->r, self->names, NULL, PM_MODE_WALL, 100, err, sizeof err) != 0) {
        pm_rsession_free(&self->dump);
        PyErr_SetString(PyExc_RuntimeError, err);
        return -1;
    }
    /* 3.9/3.10 keep no native id in the thread state: glibc's thread
     * descriptor does, at the offset our own glibc uses. */
    self->dump.w.tid_offset = pm_bind_tid_offset();
    self->dump_ready = 1;
    return 0;
}

static PyObject *str_of(pm_profile *p, pm_id id)
{
    size_t len = 0;
    const char *s = pm_str_get(p, id, &len);
    return PyUnicode_DecodeUTF8(s ? s : "", (Py_ssize_t)(s ? len : 0), "surrogateescape");
}

static void add_local(void *ctx, const char *name, size_t namelen, const char *repr)
{
    PyObject *list = ctx;
    PyObject *item = Py_BuildValue("(s#s)", name, (Py_ssize_t)namelen, repr);
    if (!item || PyList_Append(list, item) < 0)
        PyErr_Clear();
    Py_XDECREF(item);
}

/* dump(locals=False) -> [{ident, native_id, name, os_name, gil, running, state, ok,
 * frames: [(name, file, line, locals or None), ...] leaf first}, ...] */
static PyObject *remote_dump(RemoteObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"locals", NULL};
    int want_locals = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:dump", kwlist, &want_locals))
        return NULL;
    if (ensure_dump(self) != 0)
        return NULL;
    /* On the heap: a few hundred bytes a thread would not fit a small
     * thread stack. */
    const size_t cap = PM_MAX_THREADS > 1024 ? 1024 : PM_MAX_THREADS;
    pm_rdump_thread *th = PyMem_Malloc(cap * sizeof *th);
    if (!th)
        return PyErr_NoMemory();
    size_t n = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pm_rsession_dump(&self->dump, th, cap, &n, 0);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        PyMem_Free(th);
        PyErr_SetString(PyExc_RuntimeError, pm_remote_alive(&self->r) ? "cannot read the thread list" : "the process ended");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (!out) {
        PyMem_Free(th);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *frames = PyList_New(0);
        if (!frames)
            goto fail;
        for (size_t k = 0; k < th[i].depth; k++) {
            const pm_frame *f = pm_frame_get(self->names, th[i].frames[k]);
            PyObject *locals = Py_None;
            Py_INCREF(locals);
            if (want_locals) {
                Py_DECREF(locals);
                locals = PyList_New(0);
                if (!locals) {
                    Py_DECREF(frames);
                    goto fail;
                }
                pm_rsession_locals(&self->dump, &th[i].raw[k], 64, add_local, locals);
            }
            PyObject *name = str_of(self->names, f ? f->name : PM_NONE);
            PyObject *file = str_of(self->names, f ? f->file : PM_NONE);
            PyObject *item = name && file ? Py_BuildValue("(OOiN)", name, file, (int)th[i].lines[k], locals) : NULL;
            Py_XDECREF(name);
            Py_XDECREF(file);
            if (!item || PyList_Append(frames, item) < 0) {
                Py_XDECREF(item);
                Py_DECREF(frames);
                goto fail;
            }
            Py_DECREF(item);
        }
        char state[2] = {th[i].state, 0};
        /* An OS name is any bytes a program gave prctl: never an error. */
        PyObject *d = Py_BuildValue("{sK sK sN sN sO sO ss sO sO sN}", "ident", (unsigned long long)th[i].ident,
                                    "native_id", (unsigned long long)th[i].native_id, "name",
                                    PyUnicode_DecodeUTF8(th[i].name, (Py_ssize_t)strlen(th[i].name), "replace"),
                                    "os_name",
                                    PyUnicode_DecodeUTF8(th[i].os_name, (Py_ssize_t)strlen(th[i].os_name), "replace"),
                                    "gil",
                                    th[i].gil ? Py_True : Py_False, "running", th[i].running ? Py_True : Py_False,
                                    "state", state, "ok", th[i].ok ? Py_True : Py_False, "truncated",
                                    th[i].cut ? Py_True : Py_False, "frames", frames);
        if (!d || PyList_Append(out, d) < 0) {
            Py_XDECREF(d);
            goto fail;
        }
        Py_DECREF(d);
    }
    PyMem_Free(th);
    return out;
fail:
    PyMem_Free(th);
    Py_DECREF(out);
    return NULL;
}

/* start(profile, mode="wall", rate=100, blocking=False): sampling into
 * profile begins; blocking: the target's threads are stopped (ptrace) while
 * each tick reads them, from this thread (the tracer): call sample() and
 * finish() from it too. */
static PyObject *remote_start(RemoteObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"profile", "mode", "rate", "blocking", NULL};
    PyObject *profile;
    const char *mode = "wall";
    double rate = 100;
    int blocking = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|sdp:start", kwlist, &pm_ProfileType, &profile, &mode, &rate,
                                     &blocking))
        return NULL;
    if (strcmp(mode, "wall") && strcmp(mode, "cpu")) {
        PyErr_Format(PyExc_ValueError, "mode must be wall or cpu, not %s", mode);
        return NULL;
    }
    if (!(rate > 0 && rate <= 100000)) {
        PyErr_SetString(PyExc_ValueError, "rate must be between 0 and 100000 Hz");
        return NULL;
    }
    if (self->rec_ready) {
        PyErr_SetString(PyExc_RuntimeError, "already recording");
        return NULL;
    }
    pm_ProfileObject *p = (pm_ProfileObject *)profile;
    char err[256] = "";
    if (pm_rsession_init(&self->rec, &self->r, p->p, &p->lock, strcmp(mode, "cpu") ? PM_MODE_WALL : PM_MODE_CPU,
                         rate, err, sizeof err) != 0) {
        pm_rsession_free(&self->rec);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    self->rec.w.tid_offset = pm_bind_tid_offset();
    if (blocking && pm_rsession_blocking(&self->rec, err, sizeof err) != 0) {
        pm_rsession_free(&self->rec);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    Py_INCREF(profile);
    self->profile = p;
    self->rec_ready = 1;
    Py_RETURN_NONE;
}

/* sample(seconds) -> True when the target ended.  Without the GIL. */
static PyObject *remote_sample(RemoteObject *self, PyObject *args)
{
    double seconds;
    if (!PyArg_ParseTuple(args, "d:sample", &seconds))
        return NULL;
    if (!self->rec_ready) {
        PyErr_SetString(PyExc_RuntimeError, "not recording: call start() first");
        return NULL;
    }
    if (seconds < 0)
        seconds = 0;
    int ended;
    Py_BEGIN_ALLOW_THREADS
    ended = pm_rsession_sample(&self->rec, pm_rsession_now() + (uint64_t)(seconds * 1e9));
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ended);
}

/* finish(): the quality figures go into the profile's metadata; the
 * session ends (start() may begin another, into another profile). */
static PyObject *remote_finish(RemoteObject *self, PyObject *noargs)
{
    (void)noargs;
    if (!self->rec_ready)
        Py_RETURN_NONE;
    pm_rsession_finish(&self->rec);
    PyObject *stats = Py_BuildValue("{sK sK sK sK}", "ticks", (unsigned long long)self->rec.ticks, "torn",
                                    (unsigned long long)self->rec.torn, "walks", (unsigned long long)self->rec.walks,
                                    "reads", (unsigned long long)self->r.space.calls);
    pm_rsession_free(&self->rec);
    self->rec_ready = 0;
    Py_CLEAR(self->profile);
    return stats;
}

static PyObject *remote_alive(RemoteObject *self, PyObject *noargs)
{
    (void)noargs;
    return PyBool_FromLong(pm_remote_alive(&self->r));
}

static PyMethodDef remote_methods[] = {
    {"info", (PyCFunction)remote_info, METH_NOARGS, "pid, Python version, interpreter file, _Py_DebugOffsets use."},
    {"layout", (PyCFunction)remote_layout, METH_NOARGS, "The layout read for the target (test hook)."},
    {"dump", (PyCFunction)(void (*)(void))remote_dump, METH_VARARGS | METH_KEYWORDS, "Every thread's stack now."},
    {"start", (PyCFunction)(void (*)(void))remote_start, METH_VARARGS | METH_KEYWORDS, "Begin sampling into a Profile."},
    {"sample", (PyCFunction)remote_sample, METH_VARARGS, "Sample for some seconds; True when the target ended."},
    {"finish", (PyCFunction)remote_finish, METH_NOARGS, "End sampling; write the quality figures."},
    {"alive", (PyCFunction)remote_alive, METH_NOARGS, "Whether the target still runs."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject pm_RemoteType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pyrometer._native.Remote",
    .tp_basicsize = sizeof(RemoteObject),
    .tp_dealloc = (destructor)remote_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Another Python process, read by pid (process_vm_readv).",
    .tp_methods = remote_methods,
    .tp_new = remote_new,
};

/* _watch_start(hang_s, dump_signo, fatal, cut=()): see collect/pm_remote_watch.h. */
PyObject *pm_bind_watch_start(PyObject *self, PyObject *args)
{
    (void)self;
    double hang = 0;
    int signo = 0, fatal = 0;
    PyObject *cut = NULL;
    if (!PyArg_ParseTuple(args, "dip|O:_watch_start", &hang, &signo, &fatal, &cut))
        return NULL;
    /* cut: the launcher's files, left out at the root of the dumped stacks */
    PyObject *it = cut ? PyObject_GetIter(cut) : NULL, *item;
    if (cut && !it)
        return NULL;
    while (it && (item = PyIter_Next(it))) {
        const char *file = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (file)
            pm_watch_cut(file);
        Py_DECREF(item);
    }
    Py_XDECREF(it);
    if (PyErr_Occurred())
        return NULL;
    char err[512] = "";
    if (pm_watch_start(pm_bind_tid_offset(), hang, signo, fatal, err, sizeof err) != 0) {
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* _dump_stacks(fd, why): every thread's stack written to fd now. */
PyObject *pm_bind_dump_stacks(PyObject *self, PyObject *args)
{
    (void)self;
    int fd;
    const char *why;
    if (!PyArg_ParseTuple(args, "is:_dump_stacks", &fd, &why))
        return NULL;
    char err[512] = "";
    int rc;
    if (pm_watch_open_self(pm_bind_tid_offset(), err, sizeof err) != 0) {
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    /* Without the GIL: the walker reads this thread's stack as it stands. */
    Py_BEGIN_ALLOW_THREADS
    rc = pm_watch_dump(fd, why);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot read this process's thread list");
        return NULL;
    }
    Py_RETURN_NONE;
}
