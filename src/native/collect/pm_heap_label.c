/* pm_heap_label.c — the name of one reference, for the few edges of a
 * chain: dict key, list/tuple index, attribute (instance __dict__, slots),
 * closure cell, function and class internals.  Only the attribute search
 * through __dict__ and slot descriptors can run code (a slot is a plain
 * member read; __dict__ is the generic one, never a user property). */
#include "pm_heap.h"

#include <frameobject.h>

static PyObject *key_label(PyObject *key, const char *fmt)
{
    PyObject *r = PyObject_Repr(key);
    if (!r) {
        PyErr_Clear();
        return PyUnicode_FromString("[?]");
    }
    if (PyUnicode_GET_LENGTH(r) > 60) {
        PyObject *cut = PyUnicode_Substring(r, 0, 57);
        Py_DECREF(r);
        r = cut ? PyUnicode_FromFormat("%U...", cut) : NULL;
        Py_XDECREF(cut);
        if (!r) {
            PyErr_Clear();
            return PyUnicode_FromString("[?]");
        }
    }
    PyObject *l = PyUnicode_FromFormat(fmt, r);
    Py_DECREF(r);
    return l;
}

/* The key whose value is child (or "key" when child is a key). */
static PyObject *dict_label(PyObject *d, PyObject *child, const char *value_fmt)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (v == child) {
            if (PyUnicode_Check(k) && value_fmt[0] == '.')
                return PyUnicode_FromFormat(".%U", k);
            return key_label(k, "[%U]");
        }
        if (k == child)
            return key_label(k, "key %U");
    }
    return NULL;
}

static PyObject *attr_label(PyObject *parent, PyObject *child)
{
    PyTypeObject *tp = Py_TYPE(parent);
    int has_dict = tp->tp_dictoffset != 0;
#if PY_VERSION_HEX >= 0x030B0000
    has_dict |= PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT);
#endif
    if (has_dict) {
        PyObject *d = PyObject_GenericGetDict(parent, NULL);
        if (!d)
            PyErr_Clear();
        else {
            PyObject *l = d == child ? PyUnicode_FromString("__dict__") : PyDict_Check(d) ? dict_label(d, child, ".") : NULL;
            Py_DECREF(d);
            if (l)
                return l;
        }
    }
    /* Slots: member descriptors along the MRO. */
    PyObject *mro = tp->tp_mro;
    for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *base = PyTuple_GET_ITEM(mro, i);
        PyObject *bd = pm_heap_type_dict((PyTypeObject *)base);
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (bd && PyDict_Next(bd, &pos, &k, &v)) {
            if (!Py_IS_TYPE(v, &PyMemberDescr_Type))
                continue;
            PyObject *got = Py_TYPE(v)->tp_descr_get(v, parent, (PyObject *)tp);
            if (!got) {
                PyErr_Clear();
                continue;
            }
            int same = got == child;
            Py_DECREF(got);
            if (same)
                return PyUnicode_FromFormat(".%U", k);
        }
    }
    return NULL;
}

static PyObject *label(PyObject *parent, PyObject *child)
{
    if (PyDict_Check(parent))
        return dict_label(parent, child, "[");
    if (PyList_Check(parent) || PyTuple_Check(parent)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(parent);
        PyObject **items = PySequence_Fast_ITEMS(parent);
        for (Py_ssize_t i = 0; i < n; i++)
            if (items[i] == child)
                return PyUnicode_FromFormat("[%zd]", i);
        return NULL;
    }
    if (PyModule_Check(parent))
        return PyModule_GetDict(parent) == child ? PyUnicode_FromString("__dict__") : NULL;
    if (PyCell_Check(parent))
        return PyUnicode_FromString("cell_contents");
    if (PyMethod_Check(parent))
        return PyUnicode_FromString(PyMethod_GET_SELF(parent) == child ? "__self__" : "__func__");
    if (PyType_Check(parent)) {
        PyTypeObject *t = (PyTypeObject *)parent;
        PyObject *dict = pm_heap_type_dict(t);
        if (dict == child)
            return PyUnicode_FromString("__dict__");
        if (t->tp_mro == child)
            return PyUnicode_FromString("__mro__");
        if (t->tp_bases == child)
            return PyUnicode_FromString("__bases__");
        if ((PyObject *)t->tp_base == child)
            return PyUnicode_FromString("__base__");
        return dict ? dict_label(dict, child, ".") : NULL;
    }
    if (PyFunction_Check(parent)) {
        static const char *names[] = {"__globals__", "__closure__", "__defaults__", "__kwdefaults__",
                                      "__code__",    "__dict__",    "__module__",   "__annotations__"};
        PyObject *vals[] = {PyFunction_GET_GLOBALS(parent),  PyFunction_GET_CLOSURE(parent),
                            PyFunction_GET_DEFAULTS(parent), PyFunction_GET_KW_DEFAULTS(parent),
                            PyFunction_GET_CODE(parent),     ((PyFunctionObject *)parent)->func_dict,
                            PyFunction_GET_MODULE(parent),   PyFunction_GET_ANNOTATIONS(parent)};
        for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
            if (vals[i] == child)
                return PyUnicode_FromString(names[i]);
        return NULL;
    }
    if (PyTraceBack_Check(parent))
        return PyUnicode_FromString((PyObject *)((PyTracebackObject *)parent)->tb_next == child ? "tb_next" : "tb_frame");
    if (PyFrame_Check(parent))
        return PyUnicode_FromString("frame reference");
    return attr_label(parent, child);
}

PyObject *pm_heap_edge_label(PyObject *parent, PyObject *child)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    Py_INCREF(parent);
    Py_INCREF(child);
    PyObject *l = label(parent, child);
    if (!l) {
        PyErr_Clear();
        l = PyUnicode_FromString("?");
    }
    Py_DECREF(child);
    Py_DECREF(parent);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return l;
}
