/* pm_bind_nativemem.h — memory mode's native allocation hooks
 * (pm_bind_nativemem.c), started and stopped with a session by
 * pm_bind_memory.c. */
#ifndef PM_BIND_NATIVEMEM_H
#define PM_BIND_NATIVEMEM_H

/* Native allocations (pm_bind_nativemem.c): hooked in the shared objects
 * outside the interpreter while the session runs.  0, or -1 with a Python
 * exception set. */
int pm_nativemem_start(void);
void pm_nativemem_stop(void);

#endif
