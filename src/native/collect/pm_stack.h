/* pm_stack.h — running a call on a fresh C stack when this thread's runs low.
 *
 * Why: the frame-evaluation hook (3.9-3.11) puts a C frame under every
 * Python call, and on 3.11 it also stops the interpreter from running
 * Python-to-Python calls inside one C frame.  A program that raises its
 * recursion limit and recurses 100,000 deep runs fine on 3.11 by itself but
 * would overflow the 8 MB C stack under the hook (at ~18,000 frames) and
 * crash.  The hook asks pm_stack_low() on every call; once a quarter of
 * the thread's stack is used it continues on a fresh segment (mapped on
 * demand, kept for the next time, its pages committed only as they are
 * touched).  C code called from Python thus always has at least three
 * quarters of the thread's stack, or half a 64 MB segment, to itself.
 *
 * Linux with glibc (ucontext); elsewhere pm_stack_low() is always false.
 */
#ifndef PM_STACK_H
#define PM_STACK_H

#include <limits.h> /* defines __GLIBC__ on glibc */

#if defined(__GLIBC__)
#define PM_STACK_SWITCHES 1
/* The lowest address the current stack may reach before calls move to a
 * segment; NULL until the thread first asks (then pm_stack_call finds it). */
extern __thread char *pm_stack_floor __attribute__((tls_model("initial-exec")));
static inline int pm_stack_low(void)
{
    char *floor = pm_stack_floor;
    return !floor || (char *)__builtin_frame_address(0) < floor;
}
#else
#define PM_STACK_SWITCHES 0
static inline int pm_stack_low(void) { return 0; }
#endif

/* Returns fn(arg), run on a fresh segment when the stack is low (else right
 * here).  If no segment can be mapped it runs here: nothing worse than
 * without this module. */
void *pm_stack_call(void *(*fn)(void *), void *arg);

#endif
