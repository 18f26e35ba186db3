/* pm_got.h — calls from loaded shared objects redirected to our functions
 * by rewriting their global offset tables (the slots their PLT stubs and
 * -fno-plt calls jump through), as the dynamic loader itself fills them.
 * No Python.h.
 *
 * Why not LD_PRELOAD: it needs the program to be started again, which an
 * API call (`profile(mode="memory", native_memory=True)`) or a notebook
 * cannot do, and it cannot be undone at stop.  Rewriting the tables works
 * in a running process, affects only the objects asked for (the
 * interpreter's own calls to malloc are left alone: its allocations are
 * already seen by the PyMem hooks) and is undone slot by slot at stop.
 *
 * A slot is one aligned word: other threads calling through it meanwhile
 * see the old target or the new one, never a torn address.  Slots under
 * RELRO (read-only after relocation) are made writable for the store and
 * read-only again after it. */
#ifndef PM_GOT_H
#define PM_GOT_H

#include <stddef.h>
#include <stdint.h>

/* A function to redirect: calls to `name` go to `hook`.  `group` lets the
 * caller redirect some functions in some objects only (a bit in the mask
 * the classify callback returns). */
typedef struct {
    const char *name;
    void *hook;
    unsigned group;
} pm_got_hook;

typedef struct {
    uintptr_t slot;
    uintptr_t old;
    uintptr_t hook;
    int relro;
} pm_got_patch;

typedef struct {
    const pm_got_hook *hooks;
    size_t nhooks;
    /* Which groups of hooks apply to the object loaded at base from path
     * ("" for the main program): a mask of (1 << group). */
    unsigned (*classify)(const char *path, uintptr_t base, void *arg);
    void *arg;
    pm_got_patch *patches;
    size_t n, cap;
} pm_got;

/* Redirects the slots of every object loaded now (an object already done
 * is skipped slot by slot: a slot holding a hook is left).  Call again
 * after a dlopen to reach the new objects.  0, or -1 when out of memory
 * (what was done stays done, and is undone by pm_got_restore). */
int pm_got_apply(pm_got *g);

/* Every redirected slot back to what it held, and the list freed. */
void pm_got_restore(pm_got *g);

/* The mapped range [lo, hi) of the object whose segments hold addr: 0
 * when none does.  Not for use inside a hook (it takes the loader's lock). */
int pm_got_object_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
/* The same for the program itself (the executable). */
void pm_got_program(uintptr_t *lo, uintptr_t *hi);

#endif
