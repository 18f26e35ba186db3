/* pm_remote_names.h — the Python names of another process's threads
 * (threading.Thread.name), read from outside as `py-spy dump` shows them:
 * sys.modules["threading"]._active, a dict of thread ident to Thread, and
 * each Thread's _name.  A thread not in it (a C thread that never made a
 * threading object, a process that never imported threading) or whose name
 * cannot be read has no entry, and its OS name is shown instead.  No
 * Python.h. */
#ifndef PM_REMOTE_NAMES_H
#define PM_REMOTE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "pm_remote.h"

#define PM_RNAME_MAX 256 /* bytes kept of a name, with its NUL (cut between characters) */

typedef struct {
    uint64_t ident;               /* threading.get_ident(): the thread state's thread_id */
    char name[PM_RNAME_MAX];      /* UTF-8 */
} pm_rname;

/* Fills out[0..n) with the names of the threads in threading._active and
 * returns n (0 when none can be read).  *active caches where the _active
 * dict is (0 at first: it is found through sys.modules, and found again
 * when the cached one no longer reads as a dict). */
size_t pm_remote_thread_names(pm_remote *r, uint64_t *active, pm_rname *out, size_t cap);

/* The name of thread ident in names[0..n), or NULL. */
const char *pm_rname_find(const pm_rname *names, size_t n, uint64_t ident);

#endif
