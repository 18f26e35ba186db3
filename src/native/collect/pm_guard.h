/* pm_guard.h — reading our own memory at memcpy speed without crashing.
 *
 * A fault-tolerant read through process_vm_readv costs ~1.5 us; walking a
 * chain of heap frames (3.9/3.10) takes one per frame, and a fast program
 * changes its stack faster than that.  In our own process the same read can
 * be a plain memcpy, provided a fault (the page was unmapped under us) is
 * caught: a SIGSEGV/SIGBUS handler returns into the copy's caller when the
 * faulting thread is inside a guarded copy, and otherwise hands the signal
 * to whoever had it before.  If the program installs its own handler later,
 * pm_guard_active() says so and readers fall back to process_vm_readv.
 */
#ifndef PM_GUARD_H
#define PM_GUARD_H

#include <stddef.h>

#include "pm_space.h"

/* Reference counted: the handlers stay while any user remains. */
int pm_guard_install(void);
void pm_guard_uninstall(void);
/* For another SIGSEGV/SIGBUS handler that may be installed over ours: if
 * this thread is inside a guarded copy, ends the copy as failed (does not
 * return); otherwise returns. */
void pm_guard_catch(void);
/* Whether our handlers are the ones installed right now (two syscalls). */
int pm_guard_active(void);
/* Copies n bytes; 0, or -1 when a byte could not be read.  Only valid while
 * pm_guard_active(). */
int pm_guard_copy(void *dst, const void *src, size_t n);

/* The same for a batch of regions; -1 if any faults (which one is then
 * unknown: the caller retries region by region). */
int pm_guard_copy_many(pm_region *r, size_t n);

/* Runs fn(arg) with faults caught: 0, or -1 when it faulted (and was cut
 * short).  Only valid while pm_guard_active(). */
int pm_guard_run(void (*fn)(void *), void *arg);

#endif
