/* pm_bind_hooks.c — the hook objects the tracers (calls and lines) hand to
 * the interpreter, and on 3.9-3.11 their C hook on every thread.
 *
 * 3.12+: a hook object is a sys.monitoring callback, called by vectorcall
 *        straight into the owner's C function (no bound method, no argument
 *        tuple in between).
 * 3.9-3.11: a hook object is what threading's bootstrap hands a thread
 *        started while profiling, through sys.setprofile or sys.settrace.
 *        On its first event it puts the owner's C hook in its place and
 *        passes that event on, so the thread runs at C-hook cost from its
 *        first frame. */
#include "pm_bind.h"

#include <frameobject.h>
#include <string.h>

static void Hook_dealloc(pm_HookObject *h) { PyObject_Free(h); }

#if PY_VERSION_HEX < 0x030C0000
static int set_hook(PyThreadState *ts, int trace, Py_tracefunc fn, PyObject *obj)
{
    return trace ? _PyEval_SetTrace(ts, fn, obj) : _PyEval_SetProfile(ts, fn, obj);
}

static PyObject *Hook_call(PyObject *op, PyObject *args, PyObject *kw)
{
    (void)kw;
    pm_HookObject *h = (pm_HookObject *)op;
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    PyThreadState *me = PyThreadState_Get();
    if (!h->owner || !*h->enabled || !h->cfunc) { /* the session is over */
        if (set_hook(me, h->trace, NULL, NULL) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (set_hook(me, h->trace, h->cfunc, h->owner) < 0)
        return NULL;
    const char *ev = PyUnicode_Check(event) ? PyUnicode_AsUTF8(event) : "";
    if (ev && strcmp(ev, "call") == 0 && PyFrame_Check(frame))
        h->cfunc(h->owner, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}
#endif

static PyTypeObject pm_HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyrometer._native._Hook",
    .tp_basicsize = sizeof(pm_HookObject),
    .tp_dealloc = (destructor)Hook_dealloc,
#if PY_VERSION_HEX >= 0x030C0000
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(pm_HookObject, vc),
    .tp_call = PyVectorcall_Call,
#else
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = Hook_call,
#endif
};

int pm_hook_type_ready(void) { return PyType_Ready(&pm_HookType); }

PyObject *pm_hook_new(PyObject *owner, const int *enabled, vectorcallfunc vc, Py_tracefunc cfunc, int trace)
{
    pm_HookObject *h = PyObject_New(pm_HookObject, &pm_HookType);
    if (!h)
        return NULL;
    h->vc = vc;
    h->owner = owner;
    h->enabled = enabled;
    h->cfunc = cfunc;
    h->trace = trace;
    return (PyObject *)h;
}

void pm_hook_orphan(PyObject *hook)
{
    if (hook)
        ((pm_HookObject *)hook)->owner = NULL;
}

#if PY_VERSION_HEX < 0x030C0000
void pm_hooks_set_everywhere(PyObject *hook, PyObject **prev)
{
    pm_HookObject *h = (pm_HookObject *)hook;
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading) {
        Py_XSETREF(*prev, PyObject_GetAttrString(threading, h->trace ? "_trace_hook" : "_profile_hook"));
        PyErr_Clear();
        Py_XDECREF(PyObject_CallMethod(threading, h->trace ? "settrace" : "setprofile", "O", hook));
        Py_DECREF(threading);
    }
    PyErr_Clear();
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts; ts = PyThreadState_Next(ts))
        if (ts != me && set_hook(ts, h->trace, h->cfunc, h->owner) < 0)
            PyErr_Clear();
}

void pm_hooks_clear(PyObject *hook, PyObject **prev)
{
    pm_HookObject *h = (pm_HookObject *)hook;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (prev) {
        PyObject *threading = PyImport_ImportModule("threading");
        if (threading) {
            Py_XDECREF(PyObject_CallMethod(threading, h->trace ? "settrace" : "setprofile", "O",
                                           *prev ? *prev : Py_None));
            Py_DECREF(threading);
        }
        PyErr_Clear();
        Py_CLEAR(*prev);
    }
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(me->interp); ts && h->owner; ts = PyThreadState_Next(ts))
        if ((h->trace ? ts->c_traceobj : ts->c_profileobj) == h->owner && set_hook(ts, h->trace, NULL, NULL) < 0)
            PyErr_Clear();
    PyErr_Restore(et, ev, tb);
}
#endif

