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
#include "collect/pm_layout_py.h"
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
#if PY_VERSION_HEX < 0x03090000 || defined(Py_GIL_DISABLED)
    PyErr_SetString(PyExc_RuntimeError, "this Python build has no stack layout in pyrometer");
    return -1;
#else
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return -1;
    pm_profile *scratch = pm_profile_new();
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    char err[256] = "";
    pm_sampler_opts o = {100.0, PM_MODE_WALL, 1, 0, 0};
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

/* The versions pyrometer is tested on: 3.9 to this minor.  A newer CPython
 * has layouts nobody has looked at; it runs only if its offsets could be
 * checked against the interpreter's own _Py_DebugOffsets and the self-check
 * then reads this very stack right. */
#define PM_NEWEST_TESTED_MINOR 15

static const char *debug_offsets_word(int state)
{
    switch (state) {
    case PM_DEBUG_OFFSETS_AGREE:
        return "agree";
    case PM_DEBUG_OFFSETS_ADOPTED:
        return "adopted";
    case PM_DEBUG_OFFSETS_UNUSABLE:
        return "unusable";
    default:
        return "none";
    }
}

/* supported(newest=15) -> (ok, message).  ok False: message says why not.
 * ok True with a message: a warning to show once (a version newer than the
 * newest tested that passed the checks).  `newest` is for the tests, which
 * pretend the running version is the newer one. */
PyObject *pm_bind_supported(PyObject *self, PyObject *args)
{
    (void)self;
    int newest = PM_NEWEST_TESTED_MINOR;
    if (!PyArg_ParseTuple(args, "|i:supported", &newest))
        return NULL;
#if defined(Py_GIL_DISABLED)
    (void)newest;
    return Py_BuildValue("(Os)", Py_False, "free-threaded Python builds are not supported yet");
#elif PY_VERSION_HEX < 0x03090000
    (void)newest;
    return Py_BuildValue("(Os)", Py_False, "pyrometer supports CPython 3.9 to 3.15");
#else
    if (PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION <= newest)
        return Py_BuildValue("(Os)", Py_True, "");
    char known[32];
    snprintf(known, sizeof known, "3.9-3.%d", newest);
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return NULL;
    if (L.debug_offsets != PM_DEBUG_OFFSETS_AGREE && L.debug_offsets != PM_DEBUG_OFFSETS_ADOPTED)
        return Py_BuildValue(
            "(ON)", Py_False,
            PyUnicode_FromFormat("it is newer than the versions pyrometer knows (%s) and its frame layout could not "
                                 "be checked against the interpreter's _Py_DebugOffsets (%s)",
                                 known, L.debug_offsets_note[0] ? L.debug_offsets_note : "there are none"));
    if (pm_selfcheck_run() < 0) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *why = ev ? PyObject_Str(ev) : NULL;
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        if (!why)
            return NULL;
        return Py_BuildValue("(ON)", Py_False,
                             PyUnicode_FromFormat("it is newer than the versions pyrometer knows (%s) and %U", known,
                                                  why));
    }
    return Py_BuildValue("(ON)", Py_True,
                         PyUnicode_FromFormat("Python %d.%d is newer than the versions pyrometer is tested on (%s); "
                                              "running with its frame layout checked against the interpreter's "
                                              "_Py_DebugOffsets (%d fields, %s) and the stack self-check",
                                              PY_MAJOR_VERSION, PY_MINOR_VERSION, known, L.debug_offsets_fields,
                                              debug_offsets_word(L.debug_offsets)));
#endif
}

/* _layout(alter=0) -> dict: what the layout is and how it compares with the
 * interpreter's _Py_DebugOffsets; alter (a PM_ALTER_* value) checks against
 * an altered copy of them instead (tests). */
PyObject *pm_bind_layout_info(PyObject *self, PyObject *args)
{
    (void)self;
    int alter = PM_ALTER_NONE;
    if (!PyArg_ParseTuple(args, "|i:_layout", &alter))
        return NULL;
    pm_layout L;
    char err[256] = "";
    if (alter == PM_ALTER_NONE) {
        if (pm_bind_layout(&L) != 0)
            return NULL;
    } else if (pm_layout_fill_altered(&L, alter, err, sizeof err) != 0) {
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    PyObject *mine = Py_BuildValue("{ss si si ss si si si sn sn sn sK sn}", "debug_offsets", debug_offsets_word(L.debug_offsets),
                         "debug_offsets_fields", L.debug_offsets_fields, "debug_offsets_adopted",
                         L.debug_offsets_adopted, "debug_offsets_note", L.debug_offsets_note, "owner_generator",
                         L.owner_generator, "owner_shim", L.owner_shim, "owner_max", L.owner_max, "ts_frame",
                         (Py_ssize_t)L.ts_frame, "fr_owner", (Py_ssize_t)L.fr_owner, "fr_read",
                         (Py_ssize_t)L.fr_read, "fr_code_mask", (unsigned long long)L.fr_code_mask, "ts_read",
                         (Py_ssize_t)L.ts_read);
    /* With every other field of the layout (what the remote reader's
     * tables are checked against). */
    PyObject *all = mine ? pm_bind_layout_dict(&L) : NULL;
    if (!all || PyDict_Update(all, mine) < 0) {
        Py_XDECREF(all);
        Py_XDECREF(mine);
        return NULL;
    }
    Py_DECREF(mine);
    return all;
}
