/* pm_elfsym.h — names the code at an address of our own process: the
 * module mapped there (dl_iterate_phdr) and the function, from the module's
 * ELF symbol table (.symtab, which also has static functions: the
 * interpreter's own are most of what --native shows), else its dynamic one
 * (.dynsym, the exported functions), else dladdr (modules with no file, the
 * vDSO).  Code no symbol covers is named "module+0xOFFSET".
 *
 * Not async-signal-safe (files, malloc, the loader's lock): the sampling
 * thread calls it, once per new address.  No Python.h.
 */
#ifndef PM_ELFSYM_H
#define PM_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

typedef struct pm_elfsym pm_elfsym;

pm_elfsym *pm_elfsym_new(void);
void pm_elfsym_free(pm_elfsym *e);

/* Names the code at addr (for a return address, pass addr - 1: the call
 * instruction).  name: the function, or "module+0xOFF"; *file: the module's
 * path ("" when unknown), valid until pm_elfsym_free; *cls: a PM_NAT_* class
 * (pm_native.h).  Returns 0, -1 when out of memory. */
int pm_elfsym_lookup(pm_elfsym *e, uint64_t addr, char *name, size_t namecap, const char **file, int *cls);

/* Reads the symbol tables of every module loaded now.  A module's tables
 * are otherwise read at its first lookup, on the sampling thread: the
 * interpreter's are the largest (tens of thousands of symbols), and read
 * there at the start of a run on a busy machine they can hold the sampler
 * up while the program's first ticks pass. */
void pm_elfsym_preload(pm_elfsym *e);
/* Looks up symbols by name in an ELF file's own tables (.symtab, else
 * .dynsym): values[k] is want[k]'s file address, 0 when absent.  The file
 * address of the segment mapped from the file's start goes in *load_vaddr
 * (run-time address of that mapping - it = the load bias).  Returns how many
 * were found, -1 when the file is not a readable 64-bit ELF file.  For
 * another process's interpreter (pm_remote.c). */
int pm_elfsym_file(const char *path, const char *const *want, uint64_t *values, size_t n, uint64_t *load_vaddr);

#endif
