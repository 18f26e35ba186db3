/* pm_procfile.h — a small /proc file in one read (the sampler's thread
 * states and system calls, the remote reader's task stats).  No Python.h.
 */
#ifndef PM_PROCFILE_H
#define PM_PROCFILE_H

#include <stddef.h>
#include <stdint.h>

/* The file at path into buf, NUL-terminated, in one read: the bytes read,
 * or -1 when it cannot be read or is empty. */
int pm_procfile_read(const char *path, char *buf, size_t cap);

/* The kernel's view of one of this process's threads (any tid of ours), from
 * /proc/self/task/TID/syscall: 1 when it is not in a system call that sleeps
 * (the file says "running"), 0 when it is, with f[0] the call's number,
 * f[1..6] its arguments, f[7] the stack pointer and f[8] the program counter
 * (*n = 9; *n = 3 for "-1 SP PC", blocked outside a call, e.g. a page
 * fault), -1 when it cannot be read. */
int pm_proc_syscall(uint64_t tid, uint64_t f[9], int *n);

#endif
