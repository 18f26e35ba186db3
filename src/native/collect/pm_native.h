/* pm_native.h — native (C) stacks for --native: taken by the interrupted
 * thread itself, in the capture signal's handler, and merged with its Python
 * stack.  No Python.h.
 *
 * Unwinding uses libgcc's _Unwind_Backtrace from the handler.  With glibc
 * 2.35+ libgcc finds each frame's unwind table through _dl_find_object,
 * which is lock-free and async-signal-safe (no dl_iterate_phdr, no loader
 * lock), so a thread stopped inside dlopen or malloc cannot deadlock it.  Its
 * one-time set-up (the register size table) runs before the first request
 * (pm_native_init).  The walk goes through the handler's own frames and the
 * kernel's signal frame, and keeps what lies beyond the interrupted
 * instruction.
 */
#ifndef PM_NATIVE_H
#define PM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#define PM_NATIVE_MAX 256 /* native frames kept per stack (leaf side) */

/* Whether native stacks can be taken here at all; 0, or -1 with a reason. */
int pm_native_init(const char **why);

/* In a signal handler: the interrupted thread's return addresses, leaf
 * first, into ips[0..cap).  ucontext is the handler's third argument.  The
 * first address is the interrupted instruction; the others are return
 * addresses.  Returns how many, or -1 when the interrupted frame was not
 * found (*complete: the walk ended at the outermost frame rather than at an
 * error or the cap). */
int pm_native_unwind(void *ucontext, uint64_t *ips, size_t cap, int *complete);

/* The calling thread's own return addresses (leaf first, from its caller)
 * and the start of the function each lies in, outside any signal handler.
 * Returns how many. */
size_t pm_native_unwind_here(uint64_t *ips, uint64_t *starts, size_t cap);

/* The classes of native frames the merge tells apart. */
enum {
    PM_NAT_EVAL = 1,   /* the eval loop: stands for a run of Python frames */
    PM_NAT_INTERP,     /* elsewhere in the interpreter (libpython, or the python binary) */
    PM_NAT_SYSTEM,     /* libc, the loader, libgcc: below everything */
    PM_NAT_OTHER       /* extension modules and the libraries they use */
};
/* Added to a class by the naming (pm_elfsym): no symbol names the function,
 * it goes by its module and start.  PM_NAT_CLASS takes it off. */
#define PM_NAT_UNNAMED 0x10
#define PM_NAT_CLASS(c) ((c) & ~PM_NAT_UNNAMED)

/* One item of a merged stack, outermost first: a native frame (index into
 * the leaf-first native array) or a group of Python frames (index from the
 * outermost group). */
typedef struct {
    int32_t native; /* -1 for a Python group */
    int32_t group;  /* -1 for a native frame */
} pm_merge_item;

/* Merges a native stack (cls[0..nn), leaf first) with ngroups groups of
 * Python frames (one per eval-loop call, outermost first).  Each eval-loop
 * frame is replaced by its group; when the counts agree, the outermost eval
 * frame gets the outermost group, otherwise (an unwind that stopped early)
 * they are paired from the leaf and *mismatch is set, unpaired outer groups
 * going first.  Native frames below the outermost Python frame (process and
 * thread start-up) are dropped; interpreter frames between two groups are
 * call plumbing and dropped; after the innermost group, interpreter frames
 * before the first extension frame are plumbing too (a call into the
 * extension), and everything from it on is kept.  When no extension frame
 * follows, the interpreter's own work (a builtin, the GC) is kept.  Returns
 * the number of items. */
size_t pm_native_merge(const uint8_t *cls, size_t nn, size_t ngroups, pm_merge_item *out, size_t cap,
                       int *mismatch);

#endif
