/* pm_bind_logargs.c — --log-args: the text of a matching function's
 * arguments when it is called and of the value it returns, for the
 * timeline tracer to put there as an instant (pm_bind_tracer.c).
 *
 * Which functions: a regular expression searched in the function's
 * qualified name (co_qualname from 3.11, co_name before), decided once per
 * code object.  The texts are reprs, each cut to PM_LOGARGS_REPR characters
 * and the whole to PM_LOGARGS_TEXT, as a timeline is for reading, and a
 * repr that fails is named rather than raised: the program never sees an
 * exception of ours.  repr() runs the program's own __repr__ code, inside
 * the tracer's callback, where the interpreter reports no events: it is not
 * itself traced (its time falls on the function whose arguments it shows). */
#include "pm_bind.h"

#include <frameobject.h>

#define PM_LOGARGS_REPR 80
#define PM_LOGARGS_TEXT 240
#define PM_LOGARGS_NAMES 32

int pm_logargs_init(pm_logargs *la, PyObject *pattern)
{
    memset(la, 0, sizeof *la);
    if (pattern == NULL || pattern == Py_None)
        return 0;
    PyObject *search = PyObject_GetAttrString(pattern, "search");
    if (!search)
        return -1;
    la->verdicts = PyDict_New();
    if (!la->verdicts) {
        Py_DECREF(search);
        return -1;
    }
    la->search = search;
    return 0;
}

void pm_logargs_clear(pm_logargs *la)
{
    Py_CLEAR(la->search);
    Py_CLEAR(la->verdicts);
}

int pm_logargs_match(pm_logargs *la, PyCodeObject *co)
{
    if (!la->search)
        return 0;
    PyObject *v = PyDict_GetItemWithError(la->verdicts, (PyObject *)co);
    if (v)
        return v == Py_True;
    if (PyErr_Occurred())
        goto fail;
    PyObject *name = PyObject_GetAttrString((PyObject *)co, PY_VERSION_HEX >= 0x030B0000 ? "co_qualname" : "co_name");
    PyObject *m = name ? PyObject_CallOneArg(la->search, name) : NULL;
    Py_XDECREF(name);
    if (!m)
        goto fail;
    int hit = m != Py_None;
    Py_DECREF(m);
    if (PyDict_SetItem(la->verdicts, (PyObject *)co, hit ? Py_True : Py_False) != 0)
        goto fail;
    la->matched |= hit;
    return hit;
fail:
    PyErr_Clear();
    return 0;
}

/* repr(v), cut; a failing repr is named by the value's type. */
static PyObject *short_repr(PyObject *v)
{
    PyObject *r = PyObject_Repr(v);
    if (!r) {
        PyErr_Clear();
        return PyUnicode_FromFormat("<repr failed: %s>", Py_TYPE(v)->tp_name);
    }
    if (PyUnicode_GET_LENGTH(r) <= PM_LOGARGS_REPR)
        return r;
    PyObject *cut = PyUnicode_Substring(r, 0, PM_LOGARGS_REPR - 3);
    Py_DECREF(r);
    if (!cut)
        return NULL;
    PyObject *out = PyUnicode_FromFormat("%U...", cut);
    Py_DECREF(cut);
    return out;
}

/* "prefix" + parts joined with ", ", cut to PM_LOGARGS_TEXT characters. */
static PyObject *finish_text(const char *prefix, PyObject *parts)
{
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *body = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    if (!body)
        return NULL;
    if (PyUnicode_GET_LENGTH(body) > PM_LOGARGS_TEXT) {
        PyObject *cut = PyUnicode_Substring(body, 0, PM_LOGARGS_TEXT - 3);
        Py_DECREF(body);
        body = cut ? PyUnicode_FromFormat("%U...", cut) : NULL;
        Py_XDECREF(cut);
        if (!body)
            return NULL;
    }
    PyObject *out = PyUnicode_FromFormat("%s%U", prefix, body);
    Py_DECREF(body);
    return out;
}

PyObject *pm_logargs_call_text(PyCodeObject *co, PyObject *frame)
{
    PyObject *exc_type, *exc_val, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_val, &exc_tb);
    /* co_varnames holds the positional names, the keyword-only ones, then
     * *args and **kwargs: shown in the order of the signature. */
    int npos = co->co_argcount, nkw = co->co_kwonlyargcount;
    int vararg = co->co_flags & CO_VARARGS ? npos + nkw : -1;
    int varkw = co->co_flags & CO_VARKEYWORDS ? npos + nkw + (vararg >= 0) : -1;
    PyObject *out = NULL, *names = PyObject_GetAttrString((PyObject *)co, "co_varnames");
    PyObject *locals = names ? PyObject_GetAttrString(frame, "f_locals") : NULL;
    PyObject *parts = locals ? PyList_New(0) : NULL;
    if (!parts)
        goto done;
    /* At most PM_LOGARGS_NAMES names: the text is cut well before. */
    int at[PM_LOGARGS_NAMES], n = 0;
    for (int i = 0; i < npos && n < PM_LOGARGS_NAMES - 2; i++)
        at[n++] = i;
    if (vararg >= 0)
        at[n++] = vararg;
    for (int i = npos; i < npos + nkw && n < PM_LOGARGS_NAMES - 1; i++)
        at[n++] = i;
    if (varkw >= 0)
        at[n++] = varkw;
    for (int k = 0; k < n; k++) {
        if (at[k] >= PyTuple_GET_SIZE(names))
            continue;
        PyObject *name = PyTuple_GET_ITEM(names, at[k]);
        PyObject *v = PyObject_GetItem(locals, name);
        if (!v) { /* deleted already: nothing to show */
            PyErr_Clear();
            continue;
        }
        PyObject *r = short_repr(v);
        Py_DECREF(v);
        const char *stars = at[k] == vararg ? "*" : at[k] == varkw ? "**" : "";
        PyObject *part = r ? PyUnicode_FromFormat("%s%U=%U", stars, name, r) : NULL;
        Py_XDECREF(r);
        if (!part || PyList_Append(parts, part) != 0) {
            Py_XDECREF(part);
            goto done;
        }
        Py_DECREF(part);
    }
    out = finish_text("args: ", parts);
done:
    Py_XDECREF(parts);
    Py_XDECREF(locals);
    Py_XDECREF(names);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_val, exc_tb);
    return out;
}

PyObject *pm_logargs_return_text(PyObject *value)
{
    PyObject *exc_type, *exc_val, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_val, &exc_tb);
    PyObject *r = short_repr(value), *parts = r ? PyList_New(1) : NULL, *out = NULL;
    if (parts) {
        PyList_SET_ITEM(parts, 0, r);
        r = NULL;
        out = finish_text("return: ", parts);
        Py_DECREF(parts);
    }
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_val, exc_tb);
    return out;
}
