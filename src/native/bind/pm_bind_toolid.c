/* pm_bind_toolid.c — the sys.monitoring tool ids pyrometer holds (3.12+),
 * kept out of the program's way.
 *
 * There are six ids and a program may claim any of them, including the one
 * pyrometer took: without pyrometer that call succeeds, so with it, it must
 * too.  While pyrometer holds an id, sys.monitoring's get_tool, use_tool_id
 * and free_tool_id (and clear_tool_id where it exists) are wrappers:
 *   - get_tool answers None for our ids, as it would without us;
 *   - use_tool_id of one of our ids first moves our callbacks and events to
 *     another free id (the tracer's own move function re-registers them) and
 *     then passes the request on; with no id free, the tracer is parked: it
 *     sees no events until the program frees an id, which it takes back;
 *   - free_tool_id / clear_tool_id of one of our ids do nothing (the program
 *     never had it: without us, freeing an unused id changes nothing).
 * The module's own functions are put back when the last holder lets go. */
#include "bind/pm_bind.h"

#if PY_VERSION_HEX >= 0x030C0000

#define N_IDS 6
#define N_PARKED 8

typedef struct {
    PyObject *owner; /* borrowed: the tracer releases before it goes */
    pm_tool_move_fn move;
    const char *name;
} holder;

static holder held[N_IDS];
static holder parked[N_PARKED];
static int nparked;

/* The wrapped functions: sys.monitoring's own, and ours in their place. */
static const char *const wrapped[] = {"get_tool", "use_tool_id", "free_tool_id", "clear_tool_id"};
#define N_WRAPPED ((int)(sizeof wrapped / sizeof wrapped[0]))
static PyObject *orig[N_WRAPPED], *mine[N_WRAPPED];
enum { W_GET, W_USE, W_FREE, W_CLEAR };

static int ours(int id)
{
    return id >= 0 && id < N_IDS && held[id].owner;
}

static PyObject *call_orig(int w, const char *fmt, int id, const char *name)
{
    return name ? PyObject_CallFunction(orig[w], fmt, id, name) : PyObject_CallFunction(orig[w], fmt, id);
}

/* The first id that nobody holds, by our order of preference (see
 * pm_toolid_claim), claimed for name through the module's own function; -1
 * none; -2 error (exception set). */
static int claim_free(const char *name)
{
    /* Not PROFILER_ID first: the program's own cProfile (3.12+) takes it and
     * fails if it is held; DEBUGGER_ID and COVERAGE_ID belong to debuggers
     * and coverage.py.  4, then 3 (the one a program hard-coding a "free" id
     * most likely picks), then 5 (OPTIMIZER_ID, unused by CPython). */
    static const int order[] = {4, 3, 5, 2, 1, 0};
    for (int i = 0; i < N_IDS; i++) {
        int id = order[i];
        if (ours(id))
            continue;
        PyObject *holder_name = call_orig(W_GET, "i", id, NULL);
        if (!holder_name)
            return -2;
        int taken = holder_name != Py_None;
        Py_DECREF(holder_name);
        if (taken)
            continue;
        PyObject *r = call_orig(W_USE, "is", id, name);
        if (r) {
            Py_DECREF(r);
            return id;
        }
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return -2;
        PyErr_Clear();
    }
    return -1;
}

static int parse_id(PyObject *const *args, Py_ssize_t nargs, int *id)
{
    if (nargs < 1 || !PyLong_Check(args[0]))
        return 0;
    long v = PyLong_AsLong(args[0]);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *id = (int)v;
    return ours(*id);
}

static PyObject *pass_on(int w, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    return PyObject_Vectorcall(orig[w], args, (size_t)nargs, kw);
}

/* A holder moves to new_id (-1: parked); its old id is then freed.  A
 * failure parks it: the program's call must go through whatever happens. */
static void move_holder(holder h, int old_id, int new_id)
{
    if (h.move(h.owner, new_id) != 0) {
        PyErr_Clear();
        if (new_id >= 0) {
            h.move(h.owner, -1);
            PyErr_Clear();
            Py_XDECREF(call_orig(W_FREE, "i", new_id, NULL));
            PyErr_Clear();
            held[new_id] = (holder){0};
            new_id = -1;
        }
    }
    if (old_id >= 0) {
        Py_XDECREF(call_orig(W_FREE, "i", old_id, NULL));
        PyErr_Clear();
    }
    if (new_id < 0 && nparked < N_PARKED)
        parked[nparked++] = h;
}

static PyObject *w_get_tool(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    (void)self;
    int id;
    if (!kw && parse_id(args, nargs, &id))
        Py_RETURN_NONE;
    return pass_on(W_GET, args, nargs, kw);
}

static PyObject *w_use_tool_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    (void)self;
    int id;
    if (!kw && parse_id(args, nargs, &id)) {
        holder h = held[id];
        held[id] = (holder){0}; /* so claim_free passes it by */
        int new_id = claim_free(h.name);
        if (new_id == -2) {
            PyErr_Clear();
            new_id = -1;
        }
        if (new_id >= 0)
            held[new_id] = h;
        move_holder(h, id, new_id);
    }
    return pass_on(W_USE, args, nargs, kw);
}

static PyObject *release_call(int w, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    int id;
    if (!kw && parse_id(args, nargs, &id))
        Py_RETURN_NONE;
    PyObject *r = pass_on(w, args, nargs, kw);
    /* An id the program let go: a parked tracer takes it back. */
    if (r && nparked && nargs >= 1 && PyLong_Check(args[0])) {
        long v = PyLong_AsLong(args[0]);
        if (v >= 0 && v < N_IDS && !held[v].owner) {
            holder h = parked[nparked - 1];
            PyObject *u = call_orig(W_USE, "is", (int)v, h.name);
            if (u) {
                Py_DECREF(u);
                nparked--;
                held[v] = h;
                if (h.move(h.owner, (int)v) != 0) {
                    PyErr_Clear();
                    held[v] = (holder){0};
                    Py_XDECREF(call_orig(W_FREE, "i", (int)v, NULL));
                    parked[nparked++] = h;
                }
            }
            PyErr_Clear();
        }
    }
    return r;
}

static PyObject *w_free_tool_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    (void)self;
    return release_call(W_FREE, args, nargs, kw);
}

static PyObject *w_clear_tool_id(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    (void)self;
    int id;
    if (!kw && parse_id(args, nargs, &id))
        Py_RETURN_NONE;
    return pass_on(W_CLEAR, args, nargs, kw);
}

static PyMethodDef wrapper_defs[N_WRAPPED] = {
    {"get_tool", (PyCFunction)(void (*)(void))w_get_tool, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"use_tool_id", (PyCFunction)(void (*)(void))w_use_tool_id, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"free_tool_id", (PyCFunction)(void (*)(void))w_free_tool_id, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"clear_tool_id", (PyCFunction)(void (*)(void))w_clear_tool_id, METH_FASTCALL | METH_KEYWORDS, NULL},
};

static int any_holder(void)
{
    for (int i = 0; i < N_IDS; i++)
        if (held[i].owner)
            return 1;
    return nparked > 0;
}

/* The wrappers in place of the module's functions (once). */
static int wrap(PyObject *mon)
{
    if (orig[W_USE])
        return 0;
    for (int w = 0; w < N_WRAPPED; w++) {
        if (!PyObject_HasAttrString(mon, wrapped[w]))
            continue; /* clear_tool_id is 3.14+ */
        PyObject *o = PyObject_GetAttrString(mon, wrapped[w]);
        PyObject *m = o ? PyCFunction_New(&wrapper_defs[w], NULL) : NULL;
        if (!m || PyObject_SetAttrString(mon, wrapped[w], m) != 0) {
            Py_XDECREF(o);
            Py_XDECREF(m);
            return -1;
        }
        orig[w] = o;
        mine[w] = m;
    }
    return 0;
}

/* The module's own functions back, where ours are still in place. */
static void unwrap(PyObject *mon)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    for (int w = 0; w < N_WRAPPED; w++) {
        if (!orig[w])
            continue;
        PyObject *now = PyObject_GetAttrString(mon, wrapped[w]);
        if (now == mine[w])
            PyObject_SetAttrString(mon, wrapped[w], orig[w]);
        Py_XDECREF(now);
        PyErr_Clear();
        Py_CLEAR(orig[w]);
        Py_CLEAR(mine[w]);
    }
    PyErr_Restore(et, ev, tb);
}

int pm_toolid_claim(PyObject *mon, const char *name, PyObject *owner, pm_tool_move_fn move)
{
    if (wrap(mon) != 0)
        return -2;
    int id = claim_free(name);
    if (id >= 0)
        held[id] = (holder){owner, move, name};
    else if (!any_holder())
        unwrap(mon);
    return id;
}

void pm_toolid_release(PyObject *mon, PyObject *owner)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    for (int i = 0; i < N_IDS; i++)
        if (held[i].owner == owner) {
            held[i] = (holder){0};
            if (orig[W_FREE])
                Py_XDECREF(call_orig(W_FREE, "i", i, NULL));
            else
                Py_XDECREF(PyObject_CallMethod(mon, "free_tool_id", "i", i));
            PyErr_Clear();
        }
    for (int i = 0; i < nparked; i++)
        if (parked[i].owner == owner) {
            parked[i] = parked[--nparked];
            i--;
        }
    if (!any_holder())
        unwrap(mon);
    PyErr_Restore(et, ev, tb);
}

#endif
