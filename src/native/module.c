/* module.c — the pyrometer._native extension module: bindings only.  The
 * types live in bind/; measuring is in collect/, the model in model/, the
 * writers in output/. */
#include "bind/pm_bind.h"

#include "collect/pm_layout.h"
#include "collect/pm_linetable.h"
#include "output/pm_output.h"

/* Test hook: this module's line map of a code object next to the
 * interpreter's own answer for every code unit, so the decoders can be
 * checked against CPython over a whole library. */
static PyObject *linetable(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyCode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "expected a code object");
        return NULL;
    }
    PyCodeObject *co = (PyCodeObject *)arg;
    pm_layout L;
    if (pm_bind_layout(&L) != 0)
        return NULL;
#if PY_VERSION_HEX >= 0x030A0000
    PyObject *table = PyObject_GetAttrString(arg, "co_linetable");
#else
    PyObject *table = PyObject_GetAttrString(arg, "co_lnotab");
#endif
    PyObject *code = table ? PyObject_GetAttrString(arg, "co_code") : NULL;
    if (!code || !PyBytes_Check(table) || !PyBytes_Check(code)) {
        Py_XDECREF(table);
        Py_XDECREF(code);
        return NULL;
    }
    size_t n = (size_t)PyBytes_GET_SIZE(code) / 2;
    int32_t *lines = PyMem_Malloc((n ? n : 1) * sizeof *lines);
    PyObject *mine = lines ? PyList_New((Py_ssize_t)n) : NULL, *ref = mine ? PyList_New((Py_ssize_t)n) : NULL;
    if (ref) {
        pm_linetable_build(L.lines_kind, (const uint8_t *)PyBytes_AS_STRING(table), (size_t)PyBytes_GET_SIZE(table),
                           co->co_firstlineno, lines, n);
        for (size_t i = 0; i < n; i++) {
            PyList_SET_ITEM(mine, (Py_ssize_t)i, PyLong_FromLong(lines[i]));
            PyList_SET_ITEM(ref, (Py_ssize_t)i, PyLong_FromLong(PyCode_Addr2Line(co, (int)(2 * i))));
        }
    }
    PyMem_Free(lines);
    Py_DECREF(table);
    Py_DECREF(code);
    if (!ref) {
        Py_XDECREF(mine);
        return lines ? NULL : PyErr_NoMemory();
    }
    return Py_BuildValue("(NN)", mine, ref);
}

/* write_file(path, data): data written to path the way every writer does it
 * (output/pm_file.c: atomic for a regular file, streamed into a FIFO or
 * device, symlinks followed); OSError("cannot write PATH: reason"). */
static PyObject *write_file(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *path_obj;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "O&y*", PyUnicode_FSConverter, &path_obj, &data))
        return NULL;
    char err[512] = "";
    int rc;
    const char *path = PyBytes_AS_STRING(path_obj);
    Py_BEGIN_ALLOW_THREADS
    rc = pm_file_write_atomic(path, data.buf, (size_t)data.len, err, sizeof err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    Py_DECREF(path_obj);
    if (rc != 0) {
        PyErr_SetString(PyExc_OSError, err);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"selfcheck", pm_bind_selfcheck, METH_NOARGS, "Checks the stack reader against the interpreter."},
    {"supported", pm_bind_supported, METH_VARARGS,
     "supported(newest=15) -> (ok, message): ok False, why not; ok True with a message, a warning to show once."},
    {"_layout", pm_bind_layout_info, METH_VARARGS, "Test hook: the frame layout and its _Py_DebugOffsets check."},
    {"_watch_start", pm_bind_watch_start, METH_VARARGS, "Stacks on a signal, a hang or a fatal signal (run)."},
    {"_dump_stacks", pm_bind_dump_stacks, METH_VARARGS, "Every thread's stack written to a file descriptor."},
    {"_stop_all", pm_bind_stop_all, METH_NOARGS, "Stops every sampler (run at exit)."},
    {"_fork_before", pm_bind_fork_before, METH_NOARGS, "Pauses samplers before os.fork."},
    {"_fork_parent", pm_bind_fork_parent, METH_NOARGS, "Resumes them in the parent."},
    {"_sigterm_install", pm_bind_sigterm_install, METH_O,
     "Takes SIGTERM (at SIG_DFL) below Python, forwarding to Python's handler of the proxy signal."},
    {"_sigterm_uninstall", pm_bind_sigterm_uninstall, METH_NOARGS, "SIGTERM back to SIG_DFL if still ours."},
    {"_sigterm_write", pm_bind_sigterm_write, METH_VARARGS,
     "Writes a profile as .pyro on SIGTERM, then dies of it (a child of --subprocesses)."},
    {"_signal_free", pm_bind_signal_free, METH_O, "Whether the kernel has the signal at its default action."},
    {"call_stats", pm_bind_call_stats, METH_VARARGS, "(funcs, edges) of a calls profile's model."},
    {"line_rows", pm_bind_line_rows, METH_VARARGS, "[(frame, line, hits, time_ns)] of a lines profile's model."},
    {"diff", pm_bind_diff, METH_VARARGS, "Compares BASE profiles with NEW profiles (output/pm_diff.c)."},
    {"write_file", write_file, METH_VARARGS, "Writes bytes to a path as the profile writers do."},
    {"heap_census", pm_bind_heap_census, METH_O, "heap_census(untracked) -> [(qualname, module, count, bytes, tracked)]."},
    {"heap_deep_size", pm_bind_heap_deep_size, METH_O, "Deep size with pympler.asizeof's rules."},
    {"heap_sizeof", pm_bind_heap_sizeof, METH_O, "sys.getsizeof as the census computes it."},
    {"heap_instances", pm_bind_heap_instances, METH_O, "Tracked instances of a class."},
    {"_linetable", linetable, METH_O, "Test hook: (decoded lines, interpreter's lines) per code unit."},
    {NULL, NULL, 0, NULL},
};

/* Samplers left running stop before the interpreter is torn down (atexit),
 * and pause around os.fork (register_at_fork). */
static int register_hooks(PyObject *m)
{
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *os = atexit ? PyImport_ImportModule("os") : NULL;
    PyObject *stop_all = os ? PyObject_GetAttrString(m, "_stop_all") : NULL;
    PyObject *before = stop_all ? PyObject_GetAttrString(m, "_fork_before") : NULL;
    PyObject *parent = before ? PyObject_GetAttrString(m, "_fork_parent") : NULL;
    PyObject *r1 = parent ? PyObject_CallMethod(atexit, "register", "O", stop_all) : NULL;
    PyObject *kw = r1 ? Py_BuildValue("{sOsO}", "before", before, "after_in_parent", parent) : NULL;
    PyObject *reg = kw ? PyObject_GetAttrString(os, "register_at_fork") : NULL;
    PyObject *empty = reg ? PyTuple_New(0) : NULL;
    PyObject *r2 = empty ? PyObject_Call(reg, empty, kw) : NULL;
    int rc = r2 ? 0 : -1;
    Py_XDECREF(r2);
    Py_XDECREF(empty);
    Py_XDECREF(reg);
    Py_XDECREF(kw);
    Py_XDECREF(r1);
    Py_XDECREF(parent);
    Py_XDECREF(before);
    Py_XDECREF(stop_all);
    Py_XDECREF(os);
    Py_XDECREF(atexit);
    return rc;
}

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "pyrometer._native", "pyrometer's C core.", -1, module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void)
{
    if (PyType_Ready(&pm_ProfileType) < 0 || PyType_Ready(&pm_SamplerType) < 0 || pm_hook_type_ready() < 0 ||
        PyType_Ready(&pm_TracerType) < 0 || PyType_Ready(&pm_MemoryType) < 0 || PyType_Ready(&pm_LineTracerType) < 0 ||
        PyType_Ready(&pm_HeapSnapshotType) < 0 || PyType_Ready(&pm_HeapIndexType) < 0 ||
        PyType_Ready(&pm_RemoteType) < 0 || PyType_Ready(&pm_RequestsType) < 0 ||
        PyType_Ready(&pm_LineCounterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&pm_ProfileType);
    Py_INCREF(&pm_SamplerType);
    Py_INCREF(&pm_TracerType);
    Py_INCREF(&pm_LineTracerType);
    Py_INCREF(&pm_LineCounterType);
    Py_INCREF(&pm_MemoryType);
    Py_INCREF(&pm_HeapSnapshotType);
    Py_INCREF(&pm_HeapIndexType);
    Py_INCREF(&pm_RemoteType);
    Py_INCREF(&pm_RequestsType);
    if (PyModule_AddObject(m, "Profile", (PyObject *)&pm_ProfileType) < 0 ||
        PyModule_AddObject(m, "Sampler", (PyObject *)&pm_SamplerType) < 0 ||
        PyModule_AddObject(m, "Tracer", (PyObject *)&pm_TracerType) < 0 ||
        PyModule_AddObject(m, "LineTracer", (PyObject *)&pm_LineTracerType) < 0 ||
        PyModule_AddObject(m, "MemoryProfiler", (PyObject *)&pm_MemoryType) < 0 ||
        PyModule_AddObject(m, "HeapSnapshot", (PyObject *)&pm_HeapSnapshotType) < 0 ||
        PyModule_AddObject(m, "HeapIndex", (PyObject *)&pm_HeapIndexType) < 0 ||
        PyModule_AddObject(m, "Remote", (PyObject *)&pm_RemoteType) < 0 ||
        PyModule_AddObject(m, "Requests", (PyObject *)&pm_RequestsType) < 0 ||
        PyModule_AddObject(m, "LineCounter", (PyObject *)&pm_LineCounterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    if (register_hooks(m) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
