/* pm_bind_diff.c — `_native.diff`: the binding of output/pm_diff.c. */
#include "pm_bind.h"

#include "output/pm_diff.h"

static int profiles_of(PyObject *seq, pm_profile ***out, Py_ssize_t *n)
{
    PyObject *fast = PySequence_Fast(seq, "a list of profiles is needed");
    if (!fast)
        return -1;
    *n = PySequence_Fast_GET_SIZE(fast);
    *out = PyMem_Calloc((size_t)*n + 1, sizeof(pm_profile *));
    if (!*out) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyObject_TypeCheck(o, &pm_ProfileType)) {
            Py_DECREF(fast);
            PyErr_SetString(PyExc_TypeError, "a list of profiles is needed");
            return -1;
        }
        (*out)[i] = ((pm_ProfileObject *)o)->p;
    }
    Py_DECREF(fast);
    return 0;
}

/* diff(base, new, metric, normalize, threshold, min_share, top, fail_pct)
 * -> (table text, regression lines, regression count, differential Profile).
 * fail_pct < 0: no judgement.  ValueError with one line on bad input. */
PyObject *pm_bind_diff(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *bo, *no;
    const char *metric;
    int normalize, top;
    double threshold, min_share, fail_pct;
    if (!PyArg_ParseTuple(args, "OOziddid:diff", &bo, &no, &metric, &normalize, &threshold, &min_share, &top,
                          &fail_pct))
        return NULL;
    pm_profile **b = NULL, **n = NULL;
    Py_ssize_t nb = 0, nn = 0;
    PyObject *res = NULL;
    if (profiles_of(bo, &b, &nb) < 0 || profiles_of(no, &n, &nn) < 0)
        goto done;
    pm_diff_opts o = {metric, normalize, threshold, min_share};
    pm_diff d;
    char err[256];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pm_diff_compute(b, (size_t)nb, n, (size_t)nn, &o, &d, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_SetString(PyExc_ValueError, err);
        goto done;
    }
    pm_buf text, reg;
    pm_buf_init(&text);
    pm_buf_init(&reg);
    pm_diff_write_text(&d, top, &text);
    long count = fail_pct >= 0 ? pm_diff_regressions(&d, fail_pct, &reg) : 0;
    if (text.oom || reg.oom) {
        PyErr_NoMemory();
    } else {
        pm_profile *fp = d.flame;
        d.flame = NULL; /* owned by the Profile object from here (freed by it on failure) */
        PyObject *flame = pm_profile_wrap(fp);
        if (flame) {
            res = Py_BuildValue("(s#s#lN)", text.data ? text.data : "", (Py_ssize_t)text.len,
                                reg.data ? reg.data : "", (Py_ssize_t)reg.len, count, flame);
        }
    }
    pm_buf_free(&text);
    pm_buf_free(&reg);
    pm_diff_free(&d);
done:
    PyMem_Free(b);
    PyMem_Free(n);
    return res;
}
