/* pm_elfsym.c — see pm_elfsym.h. */
#include "pm_elfsym.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "pm_native.h"

typedef struct {
    uint64_t start, size; /* relative to the module's load bias */
    const char *name;     /* inside the mapped file */
} sym;

typedef struct {
    char *path;           /* "" for no file (the vDSO) */
    uint64_t bias;        /* dlpi_addr: file address + bias = run-time address */
    uint64_t lo, hi;      /* run-time range of its executable segments */
    int cls;              /* PM_NAT_INTERP / SYSTEM / OTHER */
    int loaded;           /* symbols read (or tried) */
    void *map;            /* the file, mapped: the names point into it */
    size_t maplen;
    sym *syms;
    size_t nsyms;
    /* .eh_frame_hdr's sorted table of function starts (the unwinder's own
     * index): names a stripped library's static functions by where they
     * begin, so all of a function's addresses make one frame. */
    const int32_t *starts; /* pairs (start, fde), relative to hdr_addr */
    size_t nstarts;
    uint64_t hdr_addr;
} module;

struct pm_elfsym {
    module *mods;
    size_t nmods, cap;
    uint64_t eval_addr;   /* _PyEval_EvalFrameDefault: its module is the interpreter */
};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The C runtime, the loader, the unwinder: not the program's code. */
static int system_lib(const char *path)
{
    static const char *const prefixes[] = {"libc.so", "libm.so", "ld-linux", "ld64.so", "libpthread", "libdl.so",
                                           "librt.so", "libgcc_s", "linux-vdso", "linux-gate"};
    const char *b = base_name(path);
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(b, prefixes[i], strlen(prefixes[i])))
            return 1;
    return 0;
}

static void module_free(module *m)
{
    free(m->path);
    free(m->syms);
    if (m->map)
        munmap(m->map, m->maplen);
    memset(m, 0, sizeof *m);
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    pm_elfsym *e = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    if (lo >= hi)
        return 0;
    for (size_t i = 0; i < e->nmods; i++)
        if (e->mods[i].lo == lo && e->mods[i].hi == hi)
            return 0; /* known */
    if (e->nmods == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        module *n = realloc(e->mods, cap * sizeof *n);
        if (!n)
            return 1;
        e->mods = n;
        e->cap = cap;
    }
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    char exe[4096];
    int main_exe = 0;
    if (!*name && e->nmods == 0) {
        /* The first entry is the program itself, listed without a name. */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        name = exe;
        main_exe = 1;
    }
    module *m = &e->mods[e->nmods];
    memset(m, 0, sizeof *m);
    m->path = strdup(name);
    if (!m->path)
        return 1;
    m->bias = info->dlpi_addr;
    m->lo = lo;
    m->hi = hi;
    /* The python executable is the interpreter too (main, and everything
     * when libpython is linked in statically). */
    m->cls = main_exe || (e->eval_addr >= lo && e->eval_addr < hi) ? PM_NAT_INTERP
             : system_lib(name)                                  ? PM_NAT_SYSTEM
                                                                 : PM_NAT_OTHER;
    e->nmods++;
    return 0;
}

static void rescan(pm_elfsym *e) { dl_iterate_phdr(add_module, e); }

static int by_start(const void *a, const void *b)
{
    uint64_t x = ((const sym *)a)->start, y = ((const sym *)b)->start;
    return x < y ? -1 : x > y;
}

/* The whole file, mapped read-only (NULL when it is not a readable ELF
 * file of our class). */
static const uint8_t *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(ElfW(Ehdr)))
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return NULL;
    *len = (size_t)st.st_size;
    const ElfW(Ehdr) *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
        munmap(map, *len);
        return NULL;
    }
    return map;
}

/* The section header table, when it lies inside the file. */
static const ElfW(Shdr) *section_headers(const uint8_t *b, size_t len)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)b;
    if (eh->e_shentsize != sizeof(ElfW(Shdr)) || eh->e_shoff >= len ||
        (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr)) > len - eh->e_shoff)
        return NULL;
    return (const ElfW(Shdr) *)(b + eh->e_shoff);
}

/* The first symbol table of the type (SHT_SYMTAB or SHT_DYNSYM) and its
 * names, checked to lie inside the file.  0, or -1 when there is none. */
static int symbol_table(const uint8_t *b, size_t len, unsigned type, const ElfW(Sym) **syms, size_t *n,
                        const char **names, size_t *nameslen)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)b;
    const ElfW(Shdr) *sh = section_headers(b, len);
    if (!sh)
        return -1;
    const ElfW(Shdr) *tab = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == type && sh[i].sh_link < eh->e_shnum) {
            tab = &sh[i];
            break;
        }
    if (!tab || tab->sh_offset > len || tab->sh_size > len - tab->sh_offset || tab->sh_entsize != sizeof(ElfW(Sym)))
        return -1;
    const ElfW(Shdr) *strs = &sh[tab->sh_link];
    if (strs->sh_offset > len || strs->sh_size > len - strs->sh_offset || strs->sh_size == 0)
        return -1;
    *syms = (const ElfW(Sym) *)(b + tab->sh_offset);
    *n = tab->sh_size / sizeof **syms;
    *names = (const char *)(b + strs->sh_offset);
    *nameslen = strs->sh_size;
    return 0;
}

/* Reads the module's function symbols: .symtab if it has one, else .dynsym. */
static void load_symbols(module *m)
{
    m->loaded = 1;
    if (!*m->path || !strncmp(m->path, "linux-vdso", 10) || !strncmp(m->path, "linux-gate", 10))
        return; /* no file: the vDSO (dladdr names its exports) */
    size_t len;
    const uint8_t *b = map_file(m->path, &len);
    if (!b)
        return;
    m->map = (void *)b;
    m->maplen = len;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)b;
    const ElfW(Shdr) *sh = section_headers(b, len);
    if (!sh)
        return;
    if (eh->e_shstrndx < eh->e_shnum && sh[eh->e_shstrndx].sh_offset < len &&
        sh[eh->e_shstrndx].sh_size <= len - sh[eh->e_shstrndx].sh_offset) {
        const ElfW(Shdr) *ns = &sh[eh->e_shstrndx];
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            static const char want[] = ".eh_frame_hdr";
            if (sh[i].sh_name + sizeof want > ns->sh_size ||
                memcmp(b + ns->sh_offset + sh[i].sh_name, want, sizeof want) != 0)
                continue;
            /* version 1; eh_frame_ptr 4 bytes; count udata4; table
             * datarel|sdata4 (what every linker writes). */
            const uint8_t *h = b + sh[i].sh_offset;
            if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset || sh[i].sh_size < 12 ||
                h[0] != 1 || (h[1] & 0x0f) != 0x0b || h[2] != 0x03 || h[3] != 0x3b)
                break;
            uint32_t count;
            memcpy(&count, h + 8, 4);
            if ((uint64_t)count * 8 > sh[i].sh_size - 12)
                break;
            m->starts = (const int32_t *)(h + 12);
            m->nstarts = count;
            m->hdr_addr = sh[i].sh_addr;
            break;
        }
    }
    const ElfW(Sym) *s;
    const char *names;
    size_t n, nameslen;
    if (symbol_table(b, len, SHT_SYMTAB, &s, &n, &names, &nameslen) != 0 &&
        symbol_table(b, len, SHT_DYNSYM, &s, &n, &names, &nameslen) != 0)
        return;
    m->syms = malloc((n ? n : 1) * sizeof *m->syms);
    if (!m->syms)
        return;
    for (size_t i = 0; i < n; i++) {
        int type = ELF64_ST_TYPE(s[i].st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s[i].st_shndx == SHN_UNDEF || !s[i].st_value ||
            s[i].st_name >= nameslen)
            continue;
        /* Names must end inside the table. */
        if (!memchr(names + s[i].st_name, 0, nameslen - s[i].st_name))
            continue;
        m->syms[m->nsyms++] = (sym){s[i].st_value, s[i].st_size, names + s[i].st_name};
    }
    qsort(m->syms, m->nsyms, sizeof *m->syms, by_start);
}

/* The function whose extent holds rel, or NULL. */
static const sym *find_sym(const module *m, uint64_t rel)
{
    size_t lo = 0, hi = m->nsyms;
    while (lo < hi) { /* first symbol starting after rel */
        size_t mid = lo + (hi - lo) / 2;
        if (m->syms[mid].start <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Symbols at the same place (aliases) or nested: look back a little. */
    for (size_t k = lo, seen = 0; k-- > 0 && seen < 8; seen++)
        if (rel < m->syms[k].start + m->syms[k].size)
            return &m->syms[k];
    return NULL;
}

/* Where the function holding rel begins, by the unwind index; rel itself
 * when the index does not cover it. */
static uint64_t function_start(const module *m, uint64_t rel)
{
    size_t lo = 0, hi = m->nstarts;
    while (lo < hi) { /* first entry starting after rel */
        size_t mid = lo + (hi - lo) / 2;
        int32_t v;
        memcpy(&v, &m->starts[2 * mid], 4);
        if (m->hdr_addr + (uint64_t)(int64_t)v <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return rel;
    int32_t v;
    memcpy(&v, &m->starts[2 * (lo - 1)], 4);
    return m->hdr_addr + (uint64_t)(int64_t)v;
}

pm_elfsym *pm_elfsym_new(void)
{
    pm_elfsym *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    /* Exported by every CPython 3.9+ (libpython or the executable). */
    e->eval_addr = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    return e;
}

void pm_elfsym_free(pm_elfsym *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nmods; i++)
        module_free(&e->mods[i]);
    free(e->mods);
    free(e);
}

static module *module_at(pm_elfsym *e, uint64_t addr)
{
    for (size_t i = 0; i < e->nmods; i++)
        if (addr >= e->mods[i].lo && addr < e->mods[i].hi)
            return &e->mods[i];
    return NULL;
}

void pm_elfsym_preload(pm_elfsym *e)
{
    rescan(e);
    for (size_t i = 0; i < e->nmods; i++)
        if (!e->mods[i].loaded)
            load_symbols(&e->mods[i]);
}

static int is_eval(const char *name)
{
    static const char eval[] = "_PyEval_EvalFrameDefault";
    /* gcc's split-off cold part is "_PyEval_EvalFrameDefault.cold". */
    return !strncmp(name, eval, sizeof eval - 1) && (name[sizeof eval - 1] == 0 || name[sizeof eval - 1] == '.');
}

int pm_elfsym_lookup(pm_elfsym *e, uint64_t addr, char *name, size_t namecap, const char **file, int *cls)
{
    module *m = module_at(e, addr);
    if (!m) {
        rescan(e); /* loaded since */
        m = module_at(e, addr);
    }
    if (!m) {
        snprintf(name, namecap, "0x%llx", (unsigned long long)addr);
        *file = "";
        *cls = PM_NAT_OTHER;
        return 0;
    }
    if (!m->loaded)
        load_symbols(m);
    *file = m->path;
    *cls = m->cls;
    const sym *s = find_sym(m, addr - m->bias);
    if (s) {
        snprintf(name, namecap, "%s", s->name);
    } else {
        Dl_info di;
        /* dladdr only where the module's own tables gave nothing (no file,
         * the vDSO): elsewhere it would name the nearest export, however far. */
        if (m->nsyms == 0 && dladdr((void *)(uintptr_t)addr, &di) && di.dli_sname && di.dli_saddr)
            snprintf(name, namecap, "%s", di.dli_sname);
        else {
            snprintf(name, namecap, "%s+0x%llx", base_name(m->path),
                     (unsigned long long)function_start(m, addr - m->bias));
            *cls |= PM_NAT_UNNAMED;
        }
    }
    if (m->cls == PM_NAT_INTERP && is_eval(name))
        *cls = PM_NAT_EVAL;
    /* gcc's clones of one C function (f.part.0, f.isra.0, f.constprop.0,
     * f.cold) are that function to the reader: no C name has a dot. */
    char *dot = strchr(name, '.');
    if (dot && dot != name && s)
        *dot = 0;
    return 0;
}

int pm_elfsym_file(const char *path, const char *const *want, uint64_t *values, size_t n, uint64_t *load_vaddr)
{
    size_t len;
    const uint8_t *b = map_file(path, &len);
    if (!b)
        return -1;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)b;
    *load_vaddr = UINT64_MAX;
    if (eh->e_phentsize == sizeof(ElfW(Phdr)) && eh->e_phoff < len &&
        (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)) <= len - eh->e_phoff) {
        const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(b + eh->e_phoff);
        for (unsigned i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
                *load_vaddr = ph[i].p_vaddr;
    }
    int found = 0;
    for (size_t k = 0; k < n; k++)
        values[k] = 0;
    /* .symtab holds every symbol; .dynsym the exported ones (all a
     * stripped library keeps). */
    for (unsigned type = SHT_SYMTAB; type; type = type == SHT_SYMTAB ? SHT_DYNSYM : 0) {
        const ElfW(Sym) *s;
        const char *names;
        size_t ns, nameslen;
        if (symbol_table(b, len, type, &s, &ns, &names, &nameslen) != 0)
            continue;
        for (size_t i = 0; i < ns; i++) {
            if (s[i].st_shndx == SHN_UNDEF || !s[i].st_value || s[i].st_name >= nameslen)
                continue;
            const char *name = names + s[i].st_name;
            if (!memchr(name, 0, nameslen - s[i].st_name))
                continue;
            for (size_t k = 0; k < n; k++)
                if (!values[k] && !strcmp(name, want[k])) {
                    values[k] = s[i].st_value;
                    found++;
                }
        }
    }
    munmap((void *)b, len);
    return found;
}
