/* pm_remote_tables.h — the layout of each CPython version another process
 * may run, as static tables: one pyrometer build reads every supported
 * version, so it cannot take them from headers the way pm_layout.c does for
 * its own.  Rows are written by scripts/remote-offsets.c from each version's
 * internal headers and checked by the tests against that version's own
 * in-process layout.  No Python.h. */
#ifndef PM_REMOTE_TABLES_H
#define PM_REMOTE_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "pm_layout.h"
#include "pm_remote_dict.h"

typedef struct {
    int minor;                    /* 3.minor */
    size_t rt_interp_main;        /* _PyRuntime.interpreters.main */
    size_t rt_gil;                /* _PyRuntime.ceval.gil (before 3.12), else 0 */
    size_t interp_gil_ptr;        /* PyInterpreterState.ceval.gil, a pointer (3.12+), else 0 */
    size_t interp_gc_collecting;  /* PyInterpreterState.gc.collecting */
    size_t co_nlocals;            /* PyCodeObject.co_nlocals (int) */
    size_t co_varnames;           /* co_varnames (3.9/3.10) or co_localsplusnames (3.11+): a tuple */
    size_t fr_localsplus;         /* where a frame's local variables start */
    size_t tuple_items;           /* PyTupleObject.ob_item (3.14+ caches the hash before it) */
    pm_objlayout O;               /* dicts, modules, attributes, ints (thread names) */
    pm_layout L;                  /* every offset that does not depend on where things are */
} pm_remote_table;

/* The row for Python 3.minor (GIL build, 64-bit), or NULL. */
const pm_remote_table *pm_remote_table_for(int minor);

#endif
