/* pm_remote.c — see pm_remote.h. */
#include "pm_remote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "pm_elfsym.h"
#include "pm_remote_debug.h"
#include "pm_procfile.h"

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static const char DENIED[] =
    "permission denied (reading another process needs the same user with kernel.yama.ptrace_scope = 0, "
    "or root / CAP_SYS_PTRACE)";

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* 3.minor from a name such as libpython3.12.so.1.0, python3.9 or
 * lib/python3.10/...; -1 when the name does not say. */
static int minor_from_name(const char *p)
{
    for (const char *s = strstr(p, "python3."); s; s = strstr(s + 1, "python3.")) {
        char *end;
        long m = strtol(s + 8, &end, 10);
        if (end != s + 8 && m > 0 && m < 100 && (*end == 0 || *end == '.' || *end == '/' || *end == 'd' ||
                                                 *end == 'm' || *end == 't'))
            return (int)m;
    }
    return -1;
}

/* A mapped file the interpreter may live in, and where its first byte is. */
typedef struct {
    char path[1024];
    uint64_t base;
    int libpython;
} candidate;

/* Reads /proc/PID/maps: libpython first, then the executable. */
static int find_candidates(pid_t pid, candidate *c, size_t cap, size_t *n, char *err, size_t errlen)
{
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(name, "re");
    if (!f) {
        if (errno == ENOENT || errno == ESRCH)
            return fail(err, errlen, PM_REMOTE_NO_PROCESS, "no process with pid %d", (int)pid);
        if (errno == EACCES || errno == EPERM)
            return fail(err, errlen, PM_REMOTE_DENIED, "cannot read process %d: %s", (int)pid, DENIED);
        return fail(err, errlen, PM_REMOTE_NO_PROCESS, "cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
    }
    char exe[1024] = "";
    snprintf(name, sizeof name, "/proc/%d/exe", (int)pid);
    ssize_t k = readlink(name, exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    char line[2048];
    *n = 0;
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        unsigned long long lo, hi, off;
        char perms[8];
        int at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &at) < 4 || !at)
            continue;
        char *path = line + at;
        path[strcspn(path, "\n")] = 0;
        if (path[0] != '/' || off != 0)
            continue;
        int lib = strncmp(base_name(path), "libpython3", 10) == 0;
        if (!lib && strcmp(path, exe) != 0)
            continue;
        size_t i;
        for (i = 0; i < *n; i++)
            if (!strcmp(c[i].path, path))
                break;
        if (i < *n) {
            if (lo < c[i].base)
                c[i].base = lo;
            continue;
        }
        if (*n == cap)
            continue;
        snprintf(c[*n].path, sizeof c[*n].path, "%s", path);
        c[*n].base = lo;
        c[*n].libpython = lib;
        (*n)++;
    }
    fclose(f);
    if (!lines) /* an empty map: a zombie, or a kernel thread */
        return fail(err, errlen, PM_REMOTE_NOT_PYTHON, "process %d has no memory to read (a zombie or a kernel thread)",
                    (int)pid);
    /* libpython before the executable: with a shared build the executable
     * holds no interpreter. */
    for (size_t i = 1; i < *n; i++)
        if (c[i].libpython && !c[0].libpython) {
            candidate t = c[0];
            c[0] = c[i];
            c[i] = t;
        }
    return PM_REMOTE_OK;
}

/* One read straight from the kernel, leaving errno to say why it failed
 * (pm_space keeps only success or failure). */
static int probe_read(pid_t pid, uint64_t addr, uint64_t *out)
{
    struct iovec local = {out, 8}, remote = {(void *)(uintptr_t)addr, 8};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == 8 ? 0 : -1;
}

static int read_at(pm_remote *r, uint64_t addr, void *dst, size_t len)
{
    return pm_space_read(&r->space, addr, dst, len);
}

static uint64_t read_ptr(pm_remote *r, uint64_t addr)
{
    uint64_t v = 0;
    if (read_at(r, addr, &v, 8) != 0)
        return 0;
    return v;
}

typedef struct {
    size_t *mine;
    uint64_t theirs, limit;
} published;

/* 3.13+: the target's own offsets win over the table for every field they
 * cover (they describe the binary that runs; the table, the headers of one
 * patch release).  Also gives the interpreter list's head and the GIL. */
static int adopt_debug_offsets(pm_remote *r, uint64_t *interp, char *err, size_t errlen)
{
    uint64_t d[PM_DO_COUNT];
    if (pm_remote_debug_read(&r->space, r->runtime, r->minor, d) != 0)
        return fail(err, errlen, PM_REMOTE_NOT_READY, "cannot read _Py_DebugOffsets of process %d", (int)r->pid);
    if (memcmp(&d[PM_DO_cookie], "xdebugpy", 8) != 0)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: no _Py_DebugOffsets cookie in _PyRuntime",
                    (int)r->pid);
    uint64_t version = d[PM_DO_version];
    if ((version >> 16) != (0x0300u | (unsigned)r->minor))
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: _Py_DebugOffsets say Python %d.%d, not 3.%d",
                    (int)r->pid, (int)(version >> 24) & 0xff, (int)(version >> 16) & 0xff, r->minor);
    if (d[PM_DO_free_threaded])
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED,
                    "process %d runs a free-threaded Python 3.%d, which pyrometer does not read", (int)r->pid,
                    r->minor);
    pm_layout *l = &r->L;
    size_t fr_read = l->fr_read, ascii = l->str_ascii_data, compact = l->str_compact_data,
           adaptive = l->co_code_adaptive;
    const uint64_t is = d[PM_DO_is_size], ts = d[PM_DO_ts_size], fr = d[PM_DO_fr_size], co = d[PM_DO_co_size],
                   str = d[PM_DO_str_size], tp = d[PM_DO_tp_size];
    /* Fields of published structures; an offset that ends a structure (its
     * size) may equal the size, hence + 1. */
    const published all[] = {
        {&l->interp_tstate_head, d[PM_DO_is_threads_head], is},
        {&l->ts_next, d[PM_DO_ts_next], ts},
        {&l->ts_interp, d[PM_DO_ts_interp], ts},
        {&l->ts_frame, d[PM_DO_ts_current_frame], ts},
        {&l->ts_thread_id, d[PM_DO_ts_thread_id], ts},
        {&l->ts_native_thread_id, d[PM_DO_ts_native_thread_id], ts},
        {&l->ts_datastack_chunk, d[PM_DO_ts_datastack_chunk], ts},
        {&l->fr_back, d[PM_DO_fr_previous], fr},
        {&l->fr_code, d[PM_DO_fr_executable], fr},
        {&l->fr_lasti, d[PM_DO_fr_instr_ptr], fr},
        {&l->fr_owner, d[PM_DO_fr_owner], fr},
        {&fr_read, d[PM_DO_fr_localsplus], fr + 1},
        {&l->co_filename, d[PM_DO_co_filename], co},
        {&l->co_name, d[PM_DO_co_name], co},
        {&l->co_qualname, d[PM_DO_co_qualname], co},
        {&l->co_lines, d[PM_DO_co_linetable], co},
        {&l->co_firstlineno, d[PM_DO_co_firstlineno], co},
        {&adaptive, d[PM_DO_co_code_adaptive], co + 1},
        {&l->ob_type, d[PM_DO_ob_type], d[PM_DO_ob_size]},
        {&l->bytes_size, d[PM_DO_bytes_obsize], d[PM_DO_bytes_size]},
        {&l->bytes_data, d[PM_DO_bytes_sval], d[PM_DO_bytes_size]},
        {&l->str_state, d[PM_DO_str_state], str},
        {&l->str_length, d[PM_DO_str_length], str},
        {&ascii, d[PM_DO_str_ascii_size], str + 1},
        {&r->O.interp_modules, d[PM_DO_is_imports_modules], is},
        {&r->O.ma_keys, d[PM_DO_dict_ma_keys], d[PM_DO_dict_size]},
        {&r->O.ma_values, d[PM_DO_dict_ma_values], d[PM_DO_dict_size]},
        {&r->O.tp_flags, d[PM_DO_tp_flags], tp},
        {&r->co_varnames, d[PM_DO_co_localsplusnames], co},
        {&r->tuple_items, d[PM_DO_tuple_item], d[PM_DO_tuple_size]},
        {&r->fr_localsplus, d[PM_DO_fr_localsplus], fr + 1},
        /* 3.15+ */
        {&l->ts_base_frame, d[PM_DO_ts_base_frame], ts},
        {&compact, d[PM_DO_str_compact_size], str + 1},
        {&r->O.tp_basicsize, d[PM_DO_tp_basicsize], tp},
        {&r->O.tp_dictoffset, d[PM_DO_tp_dictoffset], tp},
        {&r->O.ht_cached_keys, d[PM_DO_ht_cached_keys], d[PM_DO_ht_size]},
    };
    published f[sizeof all / sizeof all[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].theirs != PM_DO_ABSENT) /* a word this version does not publish */
            f[n++] = all[i];
    /* Every published offset must lie inside its published structure, else
     * this is not the table we think: nothing is taken from it. */
    for (size_t i = 0; i < n; i++)
        if (f[i].limit == 0 || f[i].limit > (1u << 24) || f[i].theirs >= f[i].limit)
            return fail(err, errlen, PM_REMOTE_UNSUPPORTED,
                        "process %d: _Py_DebugOffsets hold an offset (%llu) outside its structure (%llu bytes)",
                        (int)r->pid, (unsigned long long)f[i].theirs, (unsigned long long)f[i].limit);
    if (d[PM_DO_is_gil_locked] < d[PM_DO_is_gil] || d[PM_DO_is_gil_holder] < d[PM_DO_is_gil] ||
        d[PM_DO_is_ceval_gil] + 8 > is)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: _Py_DebugOffsets place the GIL outside it",
                    (int)r->pid);
    l->debug_offsets = PM_DEBUG_OFFSETS_AGREE;
    l->debug_offsets_fields = (int)n;
    for (size_t i = 0; i < n; i++)
        if (*f[i].mine != f[i].theirs) {
            if (!l->debug_offsets_note[0])
                snprintf(l->debug_offsets_note, sizeof l->debug_offsets_note,
                         "table says offset %llu, the interpreter %llu", (unsigned long long)*f[i].mine,
                         (unsigned long long)f[i].theirs);
            *f[i].mine = (size_t)f[i].theirs;
            l->debug_offsets_adopted++;
            l->debug_offsets = PM_DEBUG_OFFSETS_ADOPTED;
        }
    l->fr_read = fr_read;
    l->str_ascii_data = ascii;
    l->str_compact_data = compact;
    l->co_code_adaptive = adaptive;
    l->gil_locked = (size_t)(d[PM_DO_is_gil_locked] - d[PM_DO_is_gil]);
    l->gil_last_holder = (size_t)(d[PM_DO_is_gil_holder] - d[PM_DO_is_gil]);
    /* The list's head is the newest interpreter; the main one is its last. */
    uint64_t head = read_ptr(r, r->runtime + d[PM_DO_rt_interpreters_head]);
    for (int i = 0; head && i < 64; i++) {
        uint64_t next = read_ptr(r, head + d[PM_DO_is_next]);
        if (!next)
            break;
        head = next;
    }
    *interp = head;
    if (head) {
        l->gil_addr = read_ptr(r, head + d[PM_DO_is_ceval_gil]);
        l->gc_collecting_addr = head + d[PM_DO_is_gc] + d[PM_DO_gc_collecting];
    }
    return PM_REMOTE_OK;
}

uint64_t pm_remote_interp(pm_remote *r)
{
    return read_ptr(r, r->runtime + r->T->rt_interp_main);
}

int pm_remote_open(pm_remote *r, pid_t pid, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->pid = pid;
    if (pid <= 0)
        return fail(err, errlen, PM_REMOTE_NO_PROCESS, "no process with pid %d", (int)pid);
    candidate c[8];
    size_t nc = 0;
    int rc = find_candidates(pid, c, 8, &nc, err, errlen);
    if (rc != PM_REMOTE_OK)
        return rc;
    if (nc == 0) {
        char comm[64] = "?";
        pm_remote_task_name(pid, (uint64_t)pid, comm, sizeof comm);
        return fail(err, errlen, PM_REMOTE_NOT_PYTHON,
                    "process %d (%s) is not running Python: no python executable or libpython in its memory",
                    (int)pid, comm);
    }
    static const char *const want[] = {"_PyRuntime", "PyCode_Type", "Py_Version", "PyUnicode_Type", "PyLong_Type",
                                       "PyFloat_Type", "PyBool_Type", "_Py_NoneStruct", "_Py_TrueStruct"};
    enum { W_RUNTIME, W_CODE, W_VERSION, W_TYPES, NW = sizeof want / sizeof want[0] };
    uint64_t v[NW];
    const candidate *hit = NULL;
    int readable = 0;
    uint64_t load_vaddr = 0;
    for (size_t i = 0; i < nc && !hit; i++) {
        int found = pm_elfsym_file(c[i].path, want, v, NW, &load_vaddr);
        if (found < 0)
            continue;
        readable++;
        if (v[W_RUNTIME] && v[W_CODE])
            hit = &c[i];
    }
    if (!hit) {
        if (!readable)
            return fail(err, errlen, PM_REMOTE_NOT_PYTHON, "process %d: cannot read its interpreter's file %s",
                        (int)pid, c[0].path);
        int looks_python = c[0].libpython || strstr(base_name(c[0].path), "python") != NULL;
        if (!looks_python)
            return fail(err, errlen, PM_REMOTE_NOT_PYTHON,
                        "process %d is not running Python: %s has no Python interpreter in it", (int)pid, c[0].path);
        return fail(err, errlen, PM_REMOTE_NO_SYMBOLS,
                    "process %d: %s has no _PyRuntime symbol (a stripped interpreter?); pyrometer needs its symbol table",
                    (int)pid, c[0].path);
    }
    snprintf(r->path, sizeof r->path, "%s", hit->path);
    r->bias = hit->base - (load_vaddr == UINT64_MAX ? 0 : (load_vaddr & ~(uint64_t)0xfff));
    r->runtime = v[W_RUNTIME] + r->bias;
    pm_space_init(&r->space, pid);

    /* A first read says whether we may read it at all. */
    uint64_t probe;
    if (probe_read(pid, r->runtime, &probe) != 0) {
        if (errno == EPERM || errno == EACCES)
            return fail(err, errlen, PM_REMOTE_DENIED, "cannot read process %d: %s", (int)pid, DENIED);
        if (errno == ESRCH)
            return fail(err, errlen, PM_REMOTE_NO_PROCESS, "process %d ended", (int)pid);
        return fail(err, errlen, PM_REMOTE_NOT_PYTHON, "cannot read process %d's memory: %s", (int)pid,
                    strerror(errno));
    }

    r->minor = -1;
    if (v[W_VERSION]) {
        uint64_t hex = read_ptr(r, v[W_VERSION] + r->bias);
        if ((hex >> 24) == 3)
            r->minor = (int)(hex >> 16) & 0xff;
    }
    if (r->minor < 0)
        r->minor = minor_from_name(r->path);
    if (r->minor < 0)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: cannot tell which Python version %s is",
                    (int)pid, r->path);
    r->T = pm_remote_table_for(r->minor);
    if (!r->T)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED,
                    "process %d runs Python 3.%d; pyrometer reads Python 3.9 to 3.15 in another process", (int)pid,
                    r->minor);
    for (int k = 0; k < PM_RT_COUNT; k++)
        r->types[k] = v[W_TYPES + k] ? v[W_TYPES + k] + r->bias : 0;

    r->L = r->T->L;
    r->O = r->T->O;
    r->co_varnames = r->T->co_varnames;
    r->tuple_items = r->T->tuple_items;
    r->fr_localsplus = r->T->fr_localsplus;
    pm_layout *l = &r->L;
    l->version_hex = 0x03000000 | (r->minor << 16);
    l->code_type = v[W_CODE] + r->bias;
    uint64_t interp = 0;
    if (r->minor >= 13) {
        rc = adopt_debug_offsets(r, &interp, err, errlen);
        if (rc != PM_REMOTE_OK)
            return rc;
    } else {
        interp = pm_remote_interp(r);
        if (interp) {
            l->gil_addr = r->T->interp_gil_ptr ? read_ptr(r, interp + r->T->interp_gil_ptr) : r->runtime + r->T->rt_gil;
            l->gc_collecting_addr = interp + r->T->interp_gc_collecting;
        }
    }
    if (!interp || !l->gil_addr)
        return fail(err, errlen, PM_REMOTE_NOT_READY,
                    "process %d: its Python 3.%d has no interpreter state (starting up or shutting down)", (int)pid,
                    r->minor);
    l->interp_addr = interp;
    pm_layout_sizes(l);
    return PM_REMOTE_OK;
}

int pm_remote_alive(const pm_remote *r)
{
    char state;
    uint64_t cpu;
    if (kill(r->pid, 0) != 0 && errno == ESRCH)
        return 0;
    return pm_remote_task(r->pid, (uint64_t)r->pid, &state, &cpu) == 0 && state != 'Z' && state != 'X';
}

/* A thread's schedstat: time on a CPU and time waiting, runnable, for one
 * (nanoseconds); 0, or -1 when it cannot be read. */
static int schedstat(pid_t pid, uint64_t tid, uint64_t *run_ns, uint64_t *wait_ns)
{
    char path[96], buf[256];
    unsigned long long run, wait;
    snprintf(path, sizeof path, "/proc/%d/task/%llu/schedstat", (int)pid, (unsigned long long)tid);
    if (pm_procfile_read(path, buf, sizeof buf) <= 0 || sscanf(buf, "%llu %llu", &run, &wait) != 2)
        return -1;
    *run_ns = run;
    *wait_ns = wait;
    return 0;
}

int pm_remote_task(pid_t pid, uint64_t tid, char *state, uint64_t *cpu_ns)
{
    char path[96], buf[1024];
    uint64_t run, wait;
    /* schedstat alone when the state is not asked for: one small read per
     * thread per tick, in nanoseconds (finer than stat's clock ticks). */
    if (!state && schedstat(pid, tid, &run, &wait) == 0) {
        *cpu_ns = run;
        return 0;
    }
    snprintf(path, sizeof path, "/proc/%d/task/%llu/stat", (int)pid, (unsigned long long)tid);
    if (pm_procfile_read(path, buf, sizeof buf) < 0)
        return -1;
    /* The name is in parentheses and may hold anything: parse after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    if (state)
        *state = p[2];
    unsigned long long ut = 0, st = 0;
    /* fields after the state: ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 3, "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    *cpu_ns = (ut + st) * (1000000000ull / (unsigned long long)(hz > 0 ? hz : 100));
    if (schedstat(pid, tid, &run, &wait) == 0)
        *cpu_ns = run;
    return 0;
}

int pm_remote_task_waited(pid_t pid, uint64_t tid, uint64_t *wait_ns)
{
    uint64_t run;
    return schedstat(pid, tid, &run, wait_ns);
}

int pm_remote_task_name(pid_t pid, uint64_t tid, char *out, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%llu/comm", (int)pid, (unsigned long long)tid);
    if (pm_procfile_read(path, out, cap) < 0)
        return -1;
    out[strcspn(out, "\n")] = 0;
    return 0;
}
