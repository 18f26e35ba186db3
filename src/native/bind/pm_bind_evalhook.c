/* pm_bind_evalhook.c — the frame-evaluation hook (PEP 523) on 3.9-3.11.
 *
 * Why: the C profile hook (PyEval_SetProfile) is expensive before 3.12 by
 * itself, whatever the callback does.  It switches the eval loop to its
 * tracing path (on 3.11 every instruction then runs unspecialised) and, on
 * 3.11, makes a frame object for every call.  A do-nothing C profile hook
 * slows a recursive fib down 4.5x on 3.11 (cProfile: 6.8x), which leaves no
 * room for a profiler that must add a third of cProfile's overhead.  The
 * frame-evaluation hook is called once per Python frame evaluation (a call,
 * or a generator/coroutine resumed) around the interpreter's own loop, which
 * keeps running at full speed: entering the hook is the call event, its
 * return (a return, a yield, or an exception leaving) the return event, the
 * same events the profile hook reports for Python code.
 *
 * It is per interpreter (every thread, including later ones) and has one
 * slot: when someone else's hook is in place (a debugger, a JIT), install
 * reports it and the caller falls back to the profile hook.  On 3.11 an
 * installed hook also stops the interpreter from inlining Python-to-Python
 * calls, so every call passes through it.
 *
 * 3.11 evaluates a frame of a generator (coroutine) function once to make
 * the generator object; that evaluation is skipped, as the profile hook
 * skips it (its call event is at the RESUME after the set-up): only the
 * resumptions of a generator are its calls.
 *
 * With the hook, every Python call also takes C stack: deep recursion moves
 * on to fresh stack segments (collect/pm_stack.c) rather than crash.
 *
 * Frames already inside the hook when it is removed (or replaced by a new
 * session) finish without a leave: each entry remembers the generation it
 * was entered under. */
#include "pm_bind.h"

#if PY_VERSION_HEX < 0x030C0000

#include "collect/pm_layout.h"
#include "collect/pm_stack.h"

#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame pm_eval_frame;
#else
typedef PyFrameObject pm_eval_frame;
#endif

static struct {
    pm_eval_enter_fn enter;
    pm_eval_leave_fn leave;
    void *ctx;
    uint64_t gen; /* 0: no session */
    _PyFrameEvalFunction prev;
} H;
static uint64_t last_gen;
static size_t code_offset; /* of the code object in the frame (pm_layout) */
#if PY_VERSION_HEX >= 0x030B0000
static size_t owner_offset; /* of the frame's owner (a char) */
static int owner_generator; /* its value for a frame owned by a generator */
#define GEN_FLAGS (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)
#endif

static PyObject *eval_body(PyThreadState *ts, pm_eval_frame *f, int throwflag)
{
    uint64_t gen = H.gen;
    long token = 0;
    if (gen) {
        PyCodeObject *co = *(PyCodeObject **)((char *)f + code_offset);
#if PY_VERSION_HEX >= 0x030B0000
        if (!(co->co_flags & GEN_FLAGS) || *((char *)f + owner_offset) == owner_generator)
#endif
            token = H.enter(H.ctx, ts, co);
    }
    PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
    if (token && H.gen == gen)
        H.leave(H.ctx, token, r);
    return r;
}

typedef struct {
    PyThreadState *ts;
    pm_eval_frame *f;
    int throwflag;
} eval_args;

static void *eval_moved(void *p)
{
    eval_args *a = p;
    return eval_body(a->ts, a->f, a->throwflag);
}

/* Every call passes a C frame through here, so a deep recursion that would
 * need no C stack without the hook continues on a fresh segment once half
 * of this one is used (pm_stack.h) instead of overflowing it. */
static PyObject *eval_hook(PyThreadState *ts, pm_eval_frame *f, int throwflag)
{
    if (pm_stack_low()) {
        eval_args a = {ts, f, throwflag};
        return pm_stack_call(eval_moved, &a);
    }
    return eval_body(ts, f, throwflag);
}

int pm_evalhook_install(pm_eval_enter_fn enter, pm_eval_leave_fn leave, void *ctx)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    _PyFrameEvalFunction cur = _PyInterpreterState_GetEvalFrameFunc(interp);
    if (cur != _PyEval_EvalFrameDefault)
        return 1; /* someone else's, or ours for another session */
    if (!code_offset) {
        pm_layout L;
        if (pm_bind_layout(&L) != 0)
            return -1;
        code_offset = L.fr_code;
#if PY_VERSION_HEX >= 0x030B0000
        owner_offset = L.fr_owner;
        owner_generator = L.owner_generator;
#endif
    }
    H.enter = enter;
    H.leave = leave;
    H.ctx = ctx;
    H.prev = cur;
    H.gen = ++last_gen;
    _PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)eval_hook);
    return 0;
}

void pm_evalhook_remove(void *ctx)
{
    if (!H.gen || H.ctx != ctx)
        return;
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == (_PyFrameEvalFunction)eval_hook)
        _PyInterpreterState_SetEvalFrameFunc(interp, H.prev);
    H.gen = 0;
    H.ctx = NULL;
}

#endif
