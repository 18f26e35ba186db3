/* pm_procfile.h — a small /proc file in one read (the sampler's thread
 * states and system calls, the remote reader's task stats).  No Python.h.
 */
#ifndef PM_PROCFILE_H
#define PM_PROCFILE_H

#include <stddef.h>

/* The file at path into buf, NUL-terminated, in one read: the bytes read,
 * or -1 when it cannot be read or is empty. */
int pm_procfile_read(const char *path, char *buf, size_t cap);

#endif
