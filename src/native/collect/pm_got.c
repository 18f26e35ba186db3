/* pm_got.c — see pm_got.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr, dladdr */
#endif
#include "pm_got.h"

#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define PM_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define PM_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define PM_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define PM_R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

static int remember(pm_got *g, uintptr_t slot, uintptr_t old, uintptr_t hook, int relro)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        pm_got_patch *p = realloc(g->patches, cap * sizeof *p);
        if (!p)
            return -1;
        g->patches = p;
        g->cap = cap;
    }
    g->patches[g->n++] = (pm_got_patch){slot, old, hook, relro};
    return 0;
}

static int store(uintptr_t slot, uintptr_t value, int relro)
{
    long psz = sysconf(_SC_PAGESIZE);
    uintptr_t page = slot & ~((uintptr_t)psz - 1);
    if (relro && mprotect((void *)page, (size_t)psz, PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n((uintptr_t *)slot, value, __ATOMIC_RELEASE);
    if (relro)
        (void)mprotect((void *)page, (size_t)psz, PROT_READ);
    return 0;
}

/* The dynamic section's addresses are relocated in memory by glibc on most
 * targets, left as link-time offsets on others: both are accepted. */
static uintptr_t dyn_addr(uintptr_t base, uintptr_t v)
{
    return v < base ? v + base : v;
}

#ifdef PM_R_JUMP_SLOT
static const pm_got_hook *wanted(const pm_got *g, const char *name, unsigned mask)
{
    for (size_t i = 0; i < g->nhooks; i++)
        if ((mask & (1u << g->hooks[i].group)) && strcmp(g->hooks[i].name, name) == 0)
            return &g->hooks[i];
    return NULL;
}

static int patch_relocs(pm_got *g, uintptr_t base, const ElfW(Rela) * r, size_t n, const ElfW(Sym) * syms,
                        const char *strs, uintptr_t relro_lo, uintptr_t relro_hi, unsigned mask)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long type = ELF64_R_TYPE(r[i].r_info);
        if (type != PM_R_JUMP_SLOT && type != PM_R_GLOB_DAT)
            continue;
        const ElfW(Sym) *s = &syms[ELF64_R_SYM(r[i].r_info)];
        const pm_got_hook *h = wanted(g, strs + s->st_name, mask);
        if (!h)
            continue;
        uintptr_t slot = base + r[i].r_offset;
        uintptr_t old = __atomic_load_n((uintptr_t *)slot, __ATOMIC_ACQUIRE);
        if (old == (uintptr_t)h->hook)
            continue; /* done before */
        int relro = slot >= relro_lo && slot < relro_hi;
        if (remember(g, slot, old, (uintptr_t)h->hook, relro) != 0)
            return -1;
        if (store(slot, (uintptr_t)h->hook, relro) != 0)
            g->n--; /* could not be made writable: left as it is */
    }
    return 0;
}
#endif

static int each_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    pm_got *g = arg;
#ifdef PM_R_JUMP_SLOT
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    uintptr_t base = info->dlpi_addr;
    unsigned mask = g->classify(path, base, g->arg);
    if (!mask)
        return 0;
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(base + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = base + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    if (!dyn)
        return 0;
    uintptr_t symtab = 0, strtab = 0, jmprel = 0, rela = 0;
    size_t pltrelsz = 0, relasz = 0;
    int pltrel_is_rela = 1;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: symtab = dyn_addr(base, dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = dyn_addr(base, dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmprel = dyn_addr(base, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: pltrelsz = dyn->d_un.d_val; break;
        case DT_PLTREL: pltrel_is_rela = dyn->d_un.d_val == DT_RELA; break;
        case DT_RELA: rela = dyn_addr(base, dyn->d_un.d_ptr); break;
        case DT_RELASZ: relasz = dyn->d_un.d_val; break;
        default: break;
        }
    }
    if (!symtab || !strtab)
        return 0;
    const ElfW(Sym) *syms = (const ElfW(Sym) *)symtab;
    const char *strs = (const char *)strtab;
    /* x86-64 and aarch64 use RELA alone; an object that does not is left. */
    if (jmprel && pltrel_is_rela &&
        patch_relocs(g, base, (const ElfW(Rela) *)jmprel, pltrelsz / sizeof(ElfW(Rela)), syms, strs, relro_lo,
                     relro_hi, mask) != 0)
        return 1;
    if (rela && patch_relocs(g, base, (const ElfW(Rela) *)rela, relasz / sizeof(ElfW(Rela)), syms, strs, relro_lo,
                             relro_hi, mask) != 0)
        return 1;
#else
    (void)info;
    (void)g;
#endif
    return 0;
}

int pm_got_apply(pm_got *g)
{
    return dl_iterate_phdr(each_object, g) == 0 ? 0 : -1;
}

/* Only slots of objects still loaded, and still holding our hook: an
 * object unloaded since (dlclose) is not written to, nor one loaded at its
 * address afterwards. */
static int restore_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    pm_got *g = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        for (size_t k = 0; k < g->n; k++) {
            pm_got_patch *p = &g->patches[k];
            if (p->slot >= s && p->slot < e && __atomic_load_n((uintptr_t *)p->slot, __ATOMIC_ACQUIRE) == p->hook)
                (void)store(p->slot, p->old, p->relro);
        }
    }
    return 0;
}

void pm_got_restore(pm_got *g)
{
    if (g->n)
        dl_iterate_phdr(restore_object, g);
    free(g->patches);
    g->patches = NULL;
    g->n = g->cap = 0;
}

struct find {
    uintptr_t addr, lo, hi;
    int found, first; /* first: the first object (the program), whatever addr */
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct find *f = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int inside = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
        inside |= f->addr >= s && f->addr < e;
    }
    if (!inside && !f->first)
        return 0;
    f->lo = lo;
    f->hi = hi;
    f->found = 1;
    return 1;
}

int pm_got_object_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    struct find f = {addr, 0, 0, 0, 0};
    dl_iterate_phdr(find_object, &f);
    *lo = f.lo;
    *hi = f.hi;
    return f.found;
}

void pm_got_program(uintptr_t *lo, uintptr_t *hi)
{
    struct find f = {0, 0, 0, 0, 1};
    dl_iterate_phdr(find_object, &f);
    *lo = f.lo;
    *hi = f.hi;
}
