/* pm_remote.h — another process's interpreter, found and described so the
 * walker (pm_walker.c) and the code cache read it as they read our own.
 *
 * pm_remote_open finds the interpreter in /proc/PID/maps (libpython, else the
 * executable), _PyRuntime and PyCode_Type in that file's ELF symbol tables
 * (pm_elfsym_file), the version (Py_Version, 3.11+; else the file's name),
 * and fills a pm_layout from the version's static table
 * (pm_remote_tables.c); on 3.13+ the target's own _Py_DebugOffsets (the
 * start of _PyRuntime, pm_remote_debug.c) are read and every field they
 * cover is taken from them.
 * Reads go through pm_space (process_vm_readv on the pid).  No Python.h.
 */
#ifndef PM_REMOTE_H
#define PM_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pm_layout.h"
#include "pm_remote_tables.h"
#include "pm_space.h"

/* Why a process cannot be read (pm_remote_open's result). */
enum {
    PM_REMOTE_OK = 0,
    PM_REMOTE_NO_PROCESS = 1,   /* no such pid (or it ended) */
    PM_REMOTE_DENIED = 2,       /* ptrace access refused */
    PM_REMOTE_NOT_PYTHON = 3,   /* no interpreter in its memory */
    PM_REMOTE_NO_SYMBOLS = 4,   /* an interpreter without _PyRuntime (stripped) */
    PM_REMOTE_UNSUPPORTED = 5,  /* a version or build we have no layout for */
    PM_REMOTE_NOT_READY = 6     /* no interpreter state (starting or ending) */
};

/* Objects the locals reader names (addresses in the target). */
enum { PM_RT_STR, PM_RT_INT, PM_RT_FLOAT, PM_RT_BOOL, PM_RT_NONE, PM_RT_TRUE, PM_RT_COUNT };

typedef struct {
    pid_t pid;
    int minor;                    /* 3.minor */
    char path[1024];              /* the file holding _PyRuntime */
    uint64_t bias;                /* its load bias in the target */
    uint64_t runtime;             /* &_PyRuntime */
    const pm_remote_table *T;
    pm_layout L;
    pm_objlayout O;               /* the table's, with 3.13+'s published offsets */
    /* Where `dump --locals` finds a frame's variables: the table's, with
     * 3.13+'s published offsets (co_localsplusnames, a tuple's items). */
    size_t co_varnames, tuple_items, fr_localsplus;
    pm_space space;
    uint64_t types[PM_RT_COUNT];  /* &PyUnicode_Type, ... , &_Py_NoneStruct, &_Py_TrueStruct */
} pm_remote;

/* Opens pid; on failure returns a PM_REMOTE_* code with one line in err. */
int pm_remote_open(pm_remote *r, pid_t pid, char *err, size_t errlen);

/* Reads the interpreter state's address again (0 while there is none). */
uint64_t pm_remote_interp(pm_remote *r);

/* Whether the process still exists (and is the one opened: not a zombie). */
int pm_remote_alive(const pm_remote *r);

/* A thread's CPU time in nanoseconds (from /proc: schedstat, else stat's
 * ticks) and, when state is not NULL, its state letter ('R' running, 'S'
 * sleeping, ...; one more read); -1 when gone. */
int pm_remote_task(pid_t pid, uint64_t tid, char *state, uint64_t *cpu_ns);
/* How long a thread has waited, runnable, for a CPU, in nanoseconds
 * (schedstat's run_delay, which grows when the wait ends); -1 when unknown. */
int pm_remote_task_waited(pid_t pid, uint64_t tid, uint64_t *wait_ns);
/* The OS's name of a thread (/proc/PID/task/TID/comm) into out; 0 or -1. */
int pm_remote_task_name(pid_t pid, uint64_t tid, char *out, size_t cap);

/* A bounded repr of the object at addr: str (quoted, cut), int (one that
 * fits 64 bits), float, bool, None; anything else its type's name in
 * angle brackets.  addr is a frame's local slot: a pointer, or on 3.14+ a
 * tagged _PyStackRef.  Used for `dump --locals`. */
void pm_remote_repr(pm_remote *r, uint64_t addr, char *out, size_t cap);

#endif
