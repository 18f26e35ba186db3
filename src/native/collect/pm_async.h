/* pm_async.h — asyncio task stacks read from memory (`--async`).
 *
 * A task that waits has no frames on any thread's stack: its coroutine's
 * frame sits inside the coroutine object, and the coroutine it awaits inside
 * that one.  This reader finds the live tasks (the WeakSet asyncio keeps of
 * them, read as a plain set of weak references), follows each task's await
 * chain (coroutine -> its frame -> the object on top of its value stack,
 * which is the awaited coroutine while it is suspended in an await) and
 * finds which task waits for which (the child's done-callbacks lead to the
 * parent: its wake-up method, a closure cell or a bound method whose object
 * the parent's frames hold in a local).  It is called only while the
 * thread running the event loop is known not to run (its CPU clock stood
 * still), so the tasks it reads cannot change under it.  No Python.h: the
 * offsets come from pm_layout_async.c, filled with the GIL at start.
 */
#ifndef PM_ASYNC_H
#define PM_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include "pm_layout.h"
#include "pm_space.h"
#include "pm_walker.h"

#define PM_ASYNC_MAX_TASKS 4096
#define PM_ASYNC_MAX_CHAIN 64   /* coroutines per task's await chain */
#define PM_ASYNC_LOCALS 16      /* locals of each chain frame looked at */
#define PM_ASYNC_MAX_SETS 2

typedef struct {
    int ready;
    /* Where the tasks are: sets whose entries are weak references to tasks
     * (the WeakSet's `data`, 3.9-3.13) or tasks (3.12, 3.13 `_eager_tasks`). */
    uint64_t set_addr[PM_ASYNC_MAX_SETS];
    int set_weak[PM_ASYNC_MAX_SETS];
    size_t nsets;
    size_t set_mask, set_table, setentry_size; /* PySetObject, setentry */
    size_t wr_object;                          /* PyWeakReference */
    uint64_t weakref_type;
    /* 3.14+: no sets; each pending task is linked (struct llist_node: next,
     * prev) into a circular list headed in the thread state of the thread
     * that made it, or in the interpreter's once that thread ended. */
    int task_lists;
    size_t ts_tasks_head;       /* in a thread state */
    uint64_t interp_tasks_head; /* the interpreter's list (an address) */
    size_t task_node;           /* in a task: its node (calibrated) */

    /* Calibrated on live objects (TaskObj / FutureObj are private). */
    uint64_t task_type, future_type, gathering_type;
    size_t fut_loop, fut_state, fut_callback0, fut_callbacks;
    size_t task_coro, task_name;
    size_t task_fut_waiter;     /* not read: found at start to prove the probe task waits as expected */
    uint64_t wakeup_type;       /* the task's wake-up callback's type */
    size_t wakeup_task;         /* where it keeps the task */
    /* 3.11+: the wake-up is a builtin method (PyCFunction) like any other:
     * its method definition tells it from, say, another task's bound
     * `cancel`.  0 when its type alone says it. */
    uint64_t wakeup_ml;
    size_t wakeup_ml_off;
    size_t long_digit;          /* PyLongObject's first digit (3.12+ unnamed tasks) */

    /* Public objects (offsetof on the headers). */
    uint64_t coro_type, gen_type, cell_type, method_type, function_type, tuple_type, list_type, str_type,
        long_type;
    size_t gen_frame;           /* 3.9/3.10: PyFrameObject *gi_frame; 3.11+: the embedded frame */
    int gen_frame_embedded;
    size_t gen_state;           /* 3.11+: gi_frame_state (int8); PM_NO_OFFSET before */
    /* Its values: suspended, suspended in an await (3.15 also "locked", a
     * reader of the awaited object holds it), running. */
    int gen_suspended, gen_yield_from, gen_yield_from_locked, gen_executing;
    size_t fr_stack;            /* 3.9: f_stacktop (pointer); 3.10: f_stackdepth (int); 3.11-3.13:
                                   stacktop (int); 3.14+: stackpointer (pointer) */
    /* A value-stack or local word is the object's address & ref_mask: on
     * 3.14+ a _PyStackRef whose low bits say how it is owned; all ones before. */
    uint64_t ref_mask;
    /* A coroutine suspended in an await keeps the awaited object this many
     * words below its stack's top (1; 3.15: 2, SEND keeps a slot above it;
     * calibrated on 3.11+). */
    size_t yf_depth;
    size_t fr_valuestack;       /* 3.10: f_valuestack */
    size_t fr_localsplus;
    size_t fr_read;             /* bytes of a frame to read */
    size_t cell_ref, method_self, func_closure, tuple_items, list_items, list_size;

    /* Where the loop's thread waits: the code of BaseEventLoop._run_once
     * (its first local is the loop), and of asyncio.run / Runner.run (a loop
     * whose own run is not Python, e.g. uvloop's). */
    uint64_t run_once_code;
    uint64_t runner_codes[2];
} pm_async_layout;

/* One task's await chain as raw frames, outermost (the task's coroutine)
 * first, and what the chain's frames hold. */
typedef struct {
    uint64_t addr, name, loop;
    int parent;                 /* index in the reader's tasks, -1: a root */
    int waited_on;              /* another task waits for this one */
    uint32_t first, n;          /* its frames in the reader's frame array */
    uint32_t lfirst, ln;        /* the chain's locals in the reader's array */
    uint64_t cb0, cbs;          /* its first done-callback and its list of the others */
    uint64_t wakers[8];         /* objects its done-callbacks lead to */
    int nwakers;
} pm_async_task;

typedef struct {
    const pm_async_layout *A;
    const pm_layout *L;
    pm_space *space;
    pm_async_task *tasks;
    size_t ntasks;
    size_t running;             /* pending tasks whose coroutine runs (the thread's own stack) */
    pm_raw_frame *frames;       /* outermost first within each task */
    size_t nframes, capframes;
    uint64_t *locals;
    size_t nlocals, caplocals;
    uint8_t *table;             /* a set's table */
    size_t captable;
    int32_t *index;             /* task address -> index + 1, open addressing */
    size_t imask;
    size_t task_read;           /* bytes of a task holding every field read */
    /* The last closure followed and what it led to: gather's children
     * share one done-callback. */
    uint64_t fn_last, fn_wakers[8];
    int fn_n;
    /* Inside a signal handler: nothing may be allocated (a read that does
     * not fit the buffers reserved beforehand fails). */
    int no_alloc;
    size_t table_bytes;         /* the largest set table read */
    struct pm_async_local { uint64_t value; int32_t task; } *lindex; /* local -> a task holding it */
    size_t lcap, lused;
} pm_async_reader;

/* Makes room for a read of about this size without allocating (for a read
 * made with no_alloc).  0 or -1. */
int pm_async_reserve(pm_async_reader *r, size_t frames, size_t locals, size_t table_bytes);

int pm_async_reader_init(pm_async_reader *r, const pm_async_layout *A, const pm_layout *L, pm_space *space);
void pm_async_reader_free(pm_async_reader *r);

/* Reads every pending task of `loop` (0: any loop) with its await chain and
 * finds who waits for whom.  Returns the number of tasks read, -1 when the
 * sets could not be read. */
long pm_async_read(pm_async_reader *r, uint64_t loop);

/* The task's name as UTF-8 into out, or nothing (*len 0) for a task that
 * has asyncio's numbered default name (Task-7): a name given by the program
 * tells tasks apart, a number only splits the same code into one branch per
 * task ever created.  0 or -1. */
int pm_async_task_name(pm_async_reader *r, const pm_async_task *t, char *out, size_t cap, size_t *len);

#endif
