/* pm_bind_memsession.c — the memory session both hook sets count down
 * against (pm_bind_memsession.h): set by pm_bind_memory.c as a session
 * starts and stops, read by every hook. */
#include "pm_bind_memsession.h"

pm_mem_session pm_mem_now;

pm_alloc *pm_mem_session_for_sample(void)
{
    pm_alloc *a = atomic_load_explicit(&pm_mem_now.active, memory_order_relaxed);
    if (!a || !atomic_load_explicit(&pm_mem_now.gen, memory_order_relaxed)) {
        /* No session: a countdown that never runs out, and a generation
         * (0) that matches while none runs and no session's (from 1). */
        pm_alloc_me.gen = 0;
        pm_alloc_me.left = INT64_MAX / 2;
        return NULL;
    }
    if (pm_alloc_me.quiet) /* pyrometer's own work: not the program's allocations */
        return NULL;
    return a;
}
