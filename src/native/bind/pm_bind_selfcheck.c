/* pm_bind_selfcheck.c — the start-up self-check and the support probe.
 *
 * Before sampling, the calling thread reads its own stack exactly as the
 * sampling thread will (same layout, walker and resolver) and compares it,
 * frame by frame — name, file, line — with what the interpreter reports.  A
 * layout that is wrong for this build (an unusual patch release, a debug or
 * free-threaded build) shows up here, and pyrometer refuses to run instead of
 * emitting wrong stacks. */
#include "pm_bind.h"

#include <frameobject.h>
#include <string.h>

#include "collect/pm_layout.h"
#include "collect/pm_linetable.h"
#include "collect/pm_sampler.h"
#include "collect/pm_walker.h"

static int same_str(const pm_profile *p, pm_id id, PyObject *u)
{
    size_t len = 0;
    const char *s = pm_str_get(p, id, &len);
    Py_ssize_t ulen = 0;
    const char *us = PyUnicode_AsUTF8AndSize(u, &ulen);
    if (!us) {
        PyErr_Clear();
        return 0;
    }
    return (size_t)ulen == len && memcmp(s, us, len) == 0;
}

static PyObject *frame_name(PyCodeObject *co)
{
#if PY_VERSION_HEX >= 0x030B0000
    return co->co_qualname;
#else
    return co->co_name;
#endif
}

long pm_selfcheck_run(void)
{
#if PY_VERSION_HEX < 0x03090000 || PY_VERSION_HEX >= 0x030E0000 || defined(Py_GIL_DISABLED)
    PyErr_SetString(PyExc_RuntimeError, "this Python build has no stack layout in pyrometer");
    return -1;
#else
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return -1;
    pm_profile *scratch = pm_profile_new();
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    char err[256] = "";
    pm_sampler_opts o = {100.0, PM_MODE_WALL, 1, 0};
    pm_sampler *s = scratch ? pm_sampler_new(&L, scratch, &lock, &o, err, sizeof err) : NULL;
    if (!s) {
        pm_profile_free(scratch);
        PyErr_Format(PyExc_RuntimeError, "self-check could not start: %s", err[0] ? err : "out of memory");
        return -1;
    }
    if (L.ts_native_thread_id == PM_NO_OFFSET)
        pm_sampler_set_tid_offset(s, pm_bind_tid_offset());

    enum { CAP = PM_MAX_DEPTH };
    static pm_id frames[CAP];
    static int32_t lines[CAP];
    size_t depth = 0;
    long result = -1;
    const char *why = NULL;
    char detail[512] = "";
    if (pm_sampler_probe(s, (uint64_t)(uintptr_t)PyThreadState_Get(), frames, lines, CAP, &depth) != 0) {
        why = "the stack reader could not read this thread's stack";
    } else {
        PyFrameObject *f = PyEval_GetFrame();
        Py_XINCREF(f);
        size_t i = 0;
        while (f && !why) {
            if (i >= depth) {
                why = "the stack reader saw fewer frames than the interpreter";
                break;
            }
            PyCodeObject *co = PyFrame_GetCode(f);
            const pm_frame *fr = pm_frame_get(scratch, frames[depth - 1 - i]);
            int line = PyFrame_GetLineNumber(f);
            if (!same_str(scratch, fr->name, frame_name(co)) || !same_str(scratch, fr->file, co->co_filename) ||
                lines[depth - 1 - i] != line) {
                size_t nl = 0;
                const char *nm = pm_str_get(scratch, fr->name, &nl);
                snprintf(detail, sizeof detail, " (frame %zu: read %.*s:%d, interpreter says %s:%d)", i, (int)nl, nm,
                         (int)lines[depth - 1 - i], PyUnicode_AsUTF8(frame_name(co)), line);
                why = "the stack reader disagrees with the interpreter";
            }
            Py_DECREF(co);
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
            i++;
        }
        Py_XDECREF(f);
        if (!why && i != depth)
            why = "the stack reader saw more frames than the interpreter";
        if (!why)
            result = (long)depth;
    }
    pm_sampler_free(s);
    pm_profile_free(scratch);
    if (why) {
        PyErr_Format(PyExc_RuntimeError, "self-check failed on Python %d.%d: %s%s; refusing to profile",
                     PY_MAJOR_VERSION, PY_MINOR_VERSION, why, detail);
        return -1;
    }
    return result;
#endif
}

PyObject *pm_bind_selfcheck(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    long d = pm_selfcheck_run();
    return d < 0 ? NULL : PyLong_FromLong(d);
}

PyObject *pm_bind_supported(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
#if defined(Py_GIL_DISABLED)
    return Py_BuildValue("(Os)", Py_False, "free-threaded Python builds are not supported yet");
#elif PY_VERSION_HEX < 0x03090000 || PY_VERSION_HEX >= 0x030E0000
    return Py_BuildValue("(Os)", Py_False, "pyrometer supports CPython 3.9 to 3.13");
#else
    return Py_BuildValue("(Os)", Py_True, "");
#endif
}
