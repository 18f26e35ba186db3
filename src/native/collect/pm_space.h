/* pm_space.h — fault-tolerant reads of an address space.
 *
 * The sampler never dereferences a pointer into the interpreter's memory:
 * thread states, frames and code objects can be freed (and their pages
 * unmapped) by the thread that owns them while we look.  Every read goes
 * through process_vm_readv, which fails with EFAULT instead of crashing.
 * The space is a pid, so reading our own process and attaching to another
 * one are the same code.
 */
#ifndef PM_SPACE_H
#define PM_SPACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A copy of some regions of memory taken at one moment (pm_capture): a
 * space can read from it instead of from the live process, so the walker
 * reads a snapshot with the very code it reads live memory with. */
typedef struct {
    uint64_t addr;
    uint32_t len, off; /* bytes, and where they are in the snapshot's data */
} pm_snap_region;

typedef struct {
    const uint8_t *data;
    const pm_snap_region *regions; /* sorted by addr, none overlapping */
    size_t n;
} pm_snapshot;

typedef struct {
    pid_t pid;
    int direct;       /* our own process with the fault guard on: plain copies */
    const pm_snapshot *snap; /* when set, reads come from it alone: what it
                                lacks fails, as an unmapped page would */
    size_t snap_hint; /* region of the last read from snap */
    uint64_t calls;   /* system calls made */
    uint64_t faults;  /* regions that could not be read */
} pm_space;

/* One region of a batched read. */
typedef struct {
    uint64_t addr;
    void *dst;
    size_t len;
    int ok;           /* set by pm_space_readv */
} pm_region;

void pm_space_init(pm_space *s, pid_t pid);
/* Reads len bytes at addr into dst.  0 on success, -1 if any byte faulted. */
int pm_space_read(pm_space *s, uint64_t addr, void *dst, size_t len);
/* Reads many regions with as few system calls as possible; sets each
 * region's ok flag and returns how many were read whole. */
size_t pm_space_readv(pm_space *s, pm_region *r, size_t n);
/* Whole pages of another process, read by pm_space_readv_paged: the
 * caller's buffer, and where each run of pages read lies in it.  Reads add
 * to it until the caller empties it (used = nruns = 0). */
typedef struct {
    uint64_t addr;
    size_t len, off; /* [addr, addr + len) is at buf + off */
} pm_space_run;

typedef struct {
    uint8_t *buf;
    size_t cap, used;
    pm_space_run *runs;
    size_t runs_cap, nruns;
} pm_space_pages;

/* As pm_space_readv, for many small regions (frames) of another process:
 * those of at most PM_SPACE_PAGED_LEN bytes are read as the runs of whole
 * pages they lie on, into `pages` while it has room, and copied out from
 * there (a region with no dst is read into `pages` only).  The first region
 * is read before all the others and the last one after them (a pointer
 * read at both ends brackets the rest); the others in any order. */
#define PM_SPACE_PAGED_LEN 4096
size_t pm_space_readv_paged(pm_space *s, pm_region *r, size_t n, pm_space_pages *pages);

#endif
