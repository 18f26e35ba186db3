/* pm_layout_async.c — fills pm_async_layout for the running interpreter,
 * with the GIL, when `--async` is asked for.
 *
 * Generators, frames, sets, weak references, cells, methods, functions,
 * tuples and lists: offsetof() on the version's own headers, as pm_layout.c.
 * asyncio's Task and Future (Modules/_asynciomodule.c) are not in any header
 * and differ per version, so their fields are found on live objects the
 * Python side made for this (a task with a known coroutine waiting on a
 * known future, futures pending, cancelled and finished, with one and two
 * callbacks): each field is the one word that holds the known value, and it
 * must be exactly one, or --async is refused.  3.14+ keeps no set of its
 * tasks: each is linked into a list headed in a thread state (fill_where).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
#include "internal/pycore_genobject.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe_structs.h" /* PyGenObject, _PyInterpreterFrame */
/* Only for Py_TAG_BITS (see pm_layout.c). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "internal/pycore_stackref.h"
#pragma GCC diagnostic pop
#include "internal/pycore_interp.h"
#include "internal/pycore_tstate.h"
#endif

#include <stdio.h>
#include <string.h>

#include "pm_async.h"
#include "pm_layout_async.h"

/* The offset of the one pointer-sized word of obj that equals value (from
 * after the object header to the end of the instance), -1 when none or
 * several. */
static long find_word(PyObject *obj, const void *value)
{
    size_t size = (size_t)Py_TYPE(obj)->tp_basicsize;
    long found = -1;
    for (size_t off = sizeof(PyObject); off + sizeof(void *) <= size; off += sizeof(void *)) {
        void *w;
        memcpy(&w, (char *)obj + off, sizeof w);
        if (w == value) {
            if (found >= 0)
                return -1;
            found = (long)off;
        }
    }
    return found;
}

/* The one int-sized field that reads a, b, c in three objects of one type. */
static long find_int3(PyObject *x, int a, PyObject *y, int b, PyObject *z, int c)
{
    size_t size = (size_t)Py_TYPE(x)->tp_basicsize;
    long found = -1;
    for (size_t off = sizeof(PyObject); off + 4 <= size; off += 4) {
        int32_t u, v, w;
        memcpy(&u, (char *)x + off, 4);
        memcpy(&v, (char *)y + off, 4);
        memcpy(&w, (char *)z + off, 4);
        if (u == a && v == b && w == c) {
            if (found >= 0)
                return -1;
            found = (long)off;
        }
    }
    return found;
}

/* The one word that is NULL in `without` and set in `with`. */
static long find_set_word(PyObject *without, PyObject *with)
{
    size_t size = (size_t)Py_TYPE(without)->tp_basicsize;
    long found = -1;
    for (size_t off = sizeof(PyObject); off + 8 <= size; off += 8) {
        void *u, *v;
        memcpy(&u, (char *)without + off, 8);
        memcpy(&v, (char *)with + off, 8);
        if (!u && v) {
            if (found >= 0)
                return -1;
            found = (long)off;
        }
    }
    return found;
}

static PyObject *item(PyObject *info, const char *key, char *err, size_t errlen)
{
    PyObject *v = PyDict_GetItemString(info, key);
    if (!v)
        snprintf(err, errlen, "no '%s' to calibrate with", key);
    return v;
}

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

/* Where the tasks are: the sets listed by the Python side (3.9-3.13), or
 * the lists of 3.14+, whose node in a task is found from the probe task:
 * made last on this thread, it is its list's tail. */
static int fill_where(pm_async_layout *A, PyObject *sets, PyObject *task, char *err, size_t errlen)
{
#if PY_VERSION_HEX >= 0x030E0000
    (void)sets;
    struct llist_node *head = &((_PyThreadStateImpl *)PyThreadState_Get())->asyncio_tasks_head;
    uintptr_t tail = (uintptr_t)head->prev, t = (uintptr_t)task;
    if (tail < t + sizeof(PyObject) || tail + sizeof(struct llist_node) > t + (size_t)Py_TYPE(task)->tp_basicsize ||
        ((struct llist_node *)tail)->next != head) {
        snprintf(err, errlen, "cannot find the task's place in its thread's list of tasks");
        return -1;
    }
    A->task_lists = 1;
    A->task_node = tail - t;
    A->ts_tasks_head = offsetof(_PyThreadStateImpl, asyncio_tasks_head);
    A->interp_tasks_head = ADDR(&PyInterpreterState_Get()->asyncio_tasks_head);
#else
    (void)task;
    if (!PyList_Check(sets) || PyList_GET_SIZE(sets) > PM_ASYNC_MAX_SETS) {
        snprintf(err, errlen, "bad task sets");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sets); i++) {
        PyObject *pair = PyList_GET_ITEM(sets, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyAnySet_Check(PyTuple_GET_ITEM(pair, 0))) {
            snprintf(err, errlen, "bad task sets");
            return -1;
        }
        A->set_addr[A->nsets] = ADDR(PyTuple_GET_ITEM(pair, 0));
        A->set_weak[A->nsets++] = PyObject_IsTrue(PyTuple_GET_ITEM(pair, 1));
    }
    A->set_mask = offsetof(PySetObject, mask);
    A->set_table = offsetof(PySetObject, table);
    A->setentry_size = sizeof(setentry);
    A->wr_object = offsetof(PyWeakReference, wr_object);
    A->weakref_type = ADDR(&_PyWeakref_RefType);
#endif
    return 0;
}

#if PY_VERSION_HEX >= 0x030B0000
/* How far below the top of the probe coroutine's stack the object it awaits
 * is (the probe is suspended in `await fut`). */
static int find_awaited(pm_async_layout *A, PyObject *coro, PyObject *awaited, char *err, size_t errlen)
{
    _PyInterpreterFrame *fr = (_PyInterpreterFrame *)&((PyGenObject *)coro)->gi_iframe;
#if PY_VERSION_HEX >= 0x030E0000
    uintptr_t base = (uintptr_t)fr->localsplus, top = (uintptr_t)fr->stackpointer;
#else
    uintptr_t base = (uintptr_t)fr->localsplus, top = base + (uintptr_t)fr->stacktop * sizeof(PyObject *);
#endif
    for (size_t d = 1; d <= 3 && top >= base + d * 8; d++) {
        uint64_t w;
        memcpy(&w, (const void *)(top - d * 8), 8);
        if ((w & A->ref_mask) == ADDR(awaited)) {
            A->yf_depth = d;
            return 0;
        }
    }
    snprintf(err, errlen, "cannot find what a suspended coroutine awaits");
    return -1;
}
#endif

int pm_async_layout_fill(pm_async_layout *A, PyObject *info, char *err, size_t errlen)
{
    memset(A, 0, sizeof *A);
    const char *keys[] = {"sets", "task_type", "future_type", "gathering_type", "task", "coro", "fut", "loop",
                          "name", "pending", "cancelled", "finished", "one_cb", "two_cb", "cb", "wakeup",
                          "run_once_code", "runner_codes", "awaited"};
    PyObject *v[sizeof keys / sizeof keys[0]];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!(v[i] = item(info, keys[i], err, errlen)))
            return -1;
    PyObject *sets = v[0], *task = v[4], *coro = v[5], *fut = v[6], *loop = v[7], *name = v[8];
    PyObject *pending = v[9], *cancelled = v[10], *finished = v[11], *one_cb = v[12], *two_cb = v[13];
    PyObject *cb = v[14], *wakeup = v[15], *runners = v[17];

    if (fill_where(A, sets, task, err, errlen) != 0)
        return -1;

    A->task_type = ADDR(v[1]);
    A->future_type = ADDR(v[2]);
    A->gathering_type = ADDR(v[3]);

    /* Task and Future fields, found on the live objects. */
    long o;
    struct {
        const char *what;
        size_t *dst;
    } f[] = {{"the task's coroutine", &A->task_coro},
             {"the task's awaited future", &A->task_fut_waiter},
             {"the task's name", &A->task_name},
             {"the future's loop", &A->fut_loop},
             {"the future's first callback", &A->fut_callback0}};
    PyObject *in[] = {task, task, task, pending, one_cb};
    PyObject *val[] = {coro, fut, name, loop, cb};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if ((o = find_word(in[i], val[i])) < 0) {
            snprintf(err, errlen, "cannot find %s", f[i].what);
            return -1;
        }
        *f[i].dst = (size_t)o;
    }
    /* STATE_PENDING, STATE_CANCELLED, STATE_FINISHED */
    if ((o = find_int3(pending, 0, cancelled, 1, finished, 2)) < 0) {
        snprintf(err, errlen, "cannot find the future's state");
        return -1;
    }
    A->fut_state = (size_t)o;
    if ((o = find_set_word(one_cb, two_cb)) < 0) {
        snprintf(err, errlen, "cannot find the future's callback list");
        return -1;
    }
    A->fut_callbacks = (size_t)o;
    PyObject *lst = *(PyObject **)((char *)two_cb + o);
    if (!PyList_Check(lst) || PyList_GET_SIZE(lst) < 1) {
        snprintf(err, errlen, "the future's callback list is not a list");
        return -1;
    }
    A->wakeup_type = ADDR(Py_TYPE(wakeup));
    if (PyCFunction_Check(wakeup)) {
        A->wakeup_ml_off = offsetof(PyCFunctionObject, m_ml);
        A->wakeup_ml = ADDR(((PyCFunctionObject *)wakeup)->m_ml);
    }
    if ((o = find_word(wakeup, task)) < 0) {
        snprintf(err, errlen, "cannot find the task in its wake-up callback");
        return -1;
    }
    A->wakeup_task = (size_t)o;
    PyObject *num = PyLong_FromLong(0x12345);
    if (!num)
        return -1;
    long d = -1;
    for (size_t off = sizeof(PyObject); off + 4 <= (size_t)Py_TYPE(num)->tp_basicsize + 4; off += 4) {
        uint32_t w;
        memcpy(&w, (char *)num + off, 4);
        if (w == 0x12345) {
            d = (long)off;
            break;
        }
    }
    Py_DECREF(num);
    if (d < 0) {
        snprintf(err, errlen, "cannot find an int's digits");
        return -1;
    }
    A->long_digit = (size_t)d;

    A->coro_type = ADDR(&PyCoro_Type);
    A->gen_type = ADDR(&PyGen_Type);
    A->cell_type = ADDR(&PyCell_Type);
    A->method_type = ADDR(&PyMethod_Type);
    A->function_type = ADDR(&PyFunction_Type);
    A->tuple_type = ADDR(&PyTuple_Type);
    A->list_type = ADDR(&PyList_Type);
    A->str_type = ADDR(&PyUnicode_Type);
    A->long_type = ADDR(&PyLong_Type);
    A->cell_ref = offsetof(PyCellObject, ob_ref);
    A->method_self = offsetof(PyMethodObject, im_self);
    A->func_closure = offsetof(PyFunctionObject, func_closure);
    A->tuple_items = offsetof(PyTupleObject, ob_item);
    A->list_items = offsetof(PyListObject, ob_item);
    A->list_size = offsetof(PyVarObject, ob_size);

    A->ref_mask = ~(uint64_t)0;
    A->yf_depth = 1;
#if PY_VERSION_HEX < 0x030B0000
    A->gen_frame = offsetof(PyGenObject, gi_frame);
    A->gen_frame_embedded = 0;
    A->gen_state = PM_NO_OFFSET;
    A->fr_localsplus = offsetof(PyFrameObject, f_localsplus);
    A->fr_valuestack = offsetof(PyFrameObject, f_valuestack);
    A->fr_read = offsetof(PyFrameObject, f_localsplus);
#if PY_VERSION_HEX < 0x030A0000
    A->fr_stack = offsetof(PyFrameObject, f_stacktop);
#else
    A->fr_stack = offsetof(PyFrameObject, f_stackdepth);
#endif
#else
    A->gen_frame = offsetof(PyGenObject, gi_iframe);
    A->gen_frame_embedded = 1;
    A->gen_state = offsetof(PyGenObject, gi_frame_state);
    A->gen_suspended = FRAME_SUSPENDED;
    A->gen_executing = FRAME_EXECUTING;
#if PY_VERSION_HEX >= 0x030D0000
    A->gen_yield_from = FRAME_SUSPENDED_YIELD_FROM;
#else
    A->gen_yield_from = FRAME_SUSPENDED;
#endif
#if PY_VERSION_HEX >= 0x030F0000
    A->gen_yield_from_locked = FRAME_SUSPENDED_YIELD_FROM_LOCKED;
#else
    A->gen_yield_from_locked = A->gen_yield_from;
#endif
#if PY_VERSION_HEX >= 0x030E0000
    A->fr_stack = offsetof(_PyInterpreterFrame, stackpointer);
    A->ref_mask = ~(uint64_t)Py_TAG_BITS;
#else
    A->fr_stack = offsetof(_PyInterpreterFrame, stacktop);
#endif
    A->fr_localsplus = offsetof(_PyInterpreterFrame, localsplus);
    A->fr_read = offsetof(_PyInterpreterFrame, localsplus);
    if (find_awaited(A, coro, v[18], err, errlen) != 0)
        return -1;
#endif

    A->run_once_code = ADDR(v[16]);
    if (!PyList_Check(runners)) {
        snprintf(err, errlen, "bad runner codes");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(runners) && i < 2; i++)
        A->runner_codes[i] = ADDR(PyList_GET_ITEM(runners, i));
    A->ready = 1;
    return 0;
}
