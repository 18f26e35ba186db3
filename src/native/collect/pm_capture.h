/* pm_capture.h — a running thread copies its own stack, on request.
 *
 * A thread that runs Python code changes its frame chain every fraction of
 * a microsecond; a copy taken from another thread while it runs is not a
 * moment (a torn stack), however it is checked afterwards.  But a thread
 * interrupted by a signal is stopped at one instruction: its handler can copy
 * the thread state, the used part of the data stack chunk and every frame
 * outside it, and that copy is the stack at that instruction.  The sampler
 * asks only the thread that holds the GIL, and only while its CPU clock is
 * moving (it runs Python code, or C code that holds the GIL; no other thread
 * can change a Python stack), so the signal never interrupts a thread that
 * sleeps or waits in a system call; SA_RESTART covers the rest.
 *
 * Between the signal's sending and its handler the thread runs no code of
 * its own (a pending signal is taken on the way back to user mode), so the
 * copy is the stack at the moment of the request, however late the handler
 * runs (the thread preempted, its virtual CPU descheduled): the sampler
 * never needs to wait for the answer.
 *
 * The handler is async-signal-safe: it only copies memory (under the fault
 * guard, or with process_vm_readv when the program replaced the guard's
 * handler) into buffers allocated beforehand, and wakes the sampler with a
 * futex.  No Python.h.
 */
#ifndef PM_CAPTURE_H
#define PM_CAPTURE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pm_layout.h"
#include "pm_space.h"

typedef struct {
    const pm_layout *L;
    /* The request: the handler takes it only in state ASKED, on thread tid. */
    atomic_int state;
    pid_t pid, tid;
    uint64_t tstate;
    int direct;                 /* copy with the fault guard (else process_vm_readv) */
    pm_space space;             /* the handler's reader */
    /* What the handler copied. */
    uint8_t *data;
    size_t used, cap;
    pm_snap_region *regions;
    size_t nregions, capregions;
    int failed;                 /* something could not be read or did not fit */
    /* --native: the handler also unwinds the thread's C stack (pm_native),
     * under the fault guard only. */
    int native;
    uint64_t *nat_ips;          /* leaf first: the interrupted pc, then return addresses */
    int nat_n;                  /* how many; -1 when no native stack was had */
    void *nat_uc;               /* the handler's context, while it unwinds */
    int pending;                /* asked, not yet waited for */
    pm_snapshot snap;           /* regions sorted, after a capture succeeded */
    /* Run by the handler after the copy, on the same thread, still
     * stopped (--async reads the loop's tasks there); must be
     * async-signal-safe.  Set with pm_capture_set_extra before asking. */
    void (*extra)(void *ctx);
    void *extra_ctx;
    uint64_t late;                  /* requests not answered in time */
    uint64_t wait_ns, slept;        /* time the asker waited for answers; waits that went to sleep */
} pm_capture;

/* Allocates the buffers and installs the signal handler (once per process,
 * on a real-time signal nobody handles).  -1 when no such signal is free. */
int pm_capture_init(pm_capture *c, const pm_layout *L);
void pm_capture_free(pm_capture *c);

/* Whether captures can be asked for: our handler is still the one on the
 * signal (a program may have taken that signal since). */
int pm_capture_usable(const pm_capture *c);

/* Asks thread tid, whose thread state is at tstate, to copy its stack: 0
 * when the signal went out (then pm_capture_wait must follow, from the same
 * thread, before anything else is asked), -1 when it could not. */
int pm_capture_ask(pm_capture *c, pid_t tid, uint64_t tstate, int direct);
/* What the handler runs after its copy for the requests that follow (NULL:
 * nothing). */
void pm_capture_set_extra(pm_capture *c, void (*fn)(void *ctx), void *ctx);
/* Waits up to timeout_ns (counted from now) for the answer to the pending
 * request, and ends it.  0: c->snap holds the stack at one moment; -1: no
 * capture (the thread did not answer in time, or its stack did not fit). */
int pm_capture_wait(pm_capture *c, uint64_t timeout_ns);
/* Sleeps (futex) until the pending request has its answer or timeout_ns
 * passed, without ending it; whether it has. */
int pm_capture_await(pm_capture *c, uint64_t timeout_ns);
/* Whether the pending request has its answer (pm_capture_wait then returns
 * at once). */
int pm_capture_answered(pm_capture *c);

#endif
