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

/* The prefix of 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h),
 * up to what the walker uses: a table of 64-bit offsets, the same on every
 * 3.13 build, at the start of _PyRuntime. */
typedef struct {
    char cookie[8];
    uint64_t version, free_threaded;
    struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins, ceval_gil, gil_runtime_state,
            gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder;
    } interpreter_state;
    struct {
        uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id, datastack_chunk, status;
    } thread_state;
    struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
    struct {
        uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames, localspluskinds,
            co_code_adaptive;
    } code_object;
    struct { uint64_t size, ob_type; } pyobject;
    struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { uint64_t size, ob_item, ob_size; } tuple_object, list_object;
    struct { uint64_t size, ma_keys, ma_values; } dict_object;
    struct { uint64_t size, ob_fval; } float_object;
    struct { uint64_t size, lv_tag, ob_digit; } long_object;
    struct { uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
    struct { uint64_t size, collecting; } gc;
} debug_offsets_313;

typedef struct {
    size_t *mine;
    uint64_t theirs, limit;
} published;

/* 3.13: the target's own offsets win over the table for every field they
 * cover (they describe the binary that runs; the table, the headers of one
 * patch release).  Also gives the interpreter list's head and the GIL. */
static int adopt_debug_offsets(pm_remote *r, uint64_t *interp, char *err, size_t errlen)
{
    debug_offsets_313 d;
    if (read_at(r, r->runtime, &d, sizeof d) != 0)
        return fail(err, errlen, PM_REMOTE_NOT_READY, "cannot read _Py_DebugOffsets of process %d", (int)r->pid);
    if (memcmp(d.cookie, "xdebugpy", 8) != 0)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: no _Py_DebugOffsets cookie in _PyRuntime",
                    (int)r->pid);
    if ((d.version >> 16) != (0x0300u | (unsigned)r->minor))
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED, "process %d: _Py_DebugOffsets say Python %d.%d, not 3.%d",
                    (int)r->pid, (int)(d.version >> 24) & 0xff, (int)(d.version >> 16) & 0xff, r->minor);
    if (d.free_threaded)
        return fail(err, errlen, PM_REMOTE_UNSUPPORTED,
                    "process %d runs a free-threaded Python 3.%d, which pyrometer does not read", (int)r->pid,
                    r->minor);
    pm_layout *l = &r->L;
    size_t fr_read = l->fr_read, ascii = l->str_ascii_data, adaptive = l->co_code_adaptive;
    const published f[] = {
        {&l->interp_tstate_head, d.interpreter_state.threads_head, d.interpreter_state.size},
        {&l->ts_next, d.thread_state.next, d.thread_state.size},
        {&l->ts_interp, d.thread_state.interp, d.thread_state.size},
        {&l->ts_frame, d.thread_state.current_frame, d.thread_state.size},
        {&l->ts_thread_id, d.thread_state.thread_id, d.thread_state.size},
        {&l->ts_native_thread_id, d.thread_state.native_thread_id, d.thread_state.size},
        {&l->ts_datastack_chunk, d.thread_state.datastack_chunk, d.thread_state.size},
        {&l->fr_back, d.interpreter_frame.previous, d.interpreter_frame.size},
        {&l->fr_code, d.interpreter_frame.executable, d.interpreter_frame.size},
        {&l->fr_lasti, d.interpreter_frame.instr_ptr, d.interpreter_frame.size},
        {&l->fr_owner, d.interpreter_frame.owner, d.interpreter_frame.size},
        {&fr_read, d.interpreter_frame.localsplus, d.interpreter_frame.size + 1},
        {&l->co_filename, d.code_object.filename, d.code_object.size},
        {&l->co_name, d.code_object.name, d.code_object.size},
        {&l->co_qualname, d.code_object.qualname, d.code_object.size},
        {&l->co_lines, d.code_object.linetable, d.code_object.size},
        {&l->co_firstlineno, d.code_object.firstlineno, d.code_object.size},
        {&adaptive, d.code_object.co_code_adaptive, d.code_object.size + 1},
        {&l->ob_type, d.pyobject.ob_type, d.pyobject.size},
        {&l->bytes_size, d.bytes_object.ob_size, d.bytes_object.size},
        {&l->bytes_data, d.bytes_object.ob_sval, d.bytes_object.size},
        {&l->str_state, d.unicode_object.state, d.unicode_object.size},
        {&l->str_length, d.unicode_object.length, d.unicode_object.size},
        {&ascii, d.unicode_object.asciiobject_size, d.unicode_object.size + 1},
    };
    size_t n = sizeof f / sizeof f[0];
    /* Every published offset must lie inside its published structure, else
     * this is not the table we think: nothing is taken from it. */
    for (size_t i = 0; i < n; i++)
        if (f[i].limit == 0 || f[i].limit > (1u << 24) || f[i].theirs >= f[i].limit)
            return fail(err, errlen, PM_REMOTE_UNSUPPORTED,
                        "process %d: _Py_DebugOffsets hold an offset (%llu) outside its structure (%llu bytes)",
                        (int)r->pid, (unsigned long long)f[i].theirs, (unsigned long long)f[i].limit);
    if (d.interpreter_state.gil_runtime_state_locked < d.interpreter_state.gil_runtime_state ||
        d.interpreter_state.gil_runtime_state_holder < d.interpreter_state.gil_runtime_state ||
        d.interpreter_state.ceval_gil + 8 > d.interpreter_state.size)
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
    l->co_code_adaptive = adaptive;
    l->gil_locked = (size_t)(d.interpreter_state.gil_runtime_state_locked - d.interpreter_state.gil_runtime_state);
    l->gil_last_holder =
        (size_t)(d.interpreter_state.gil_runtime_state_holder - d.interpreter_state.gil_runtime_state);
    /* The list's head is the newest interpreter; the main one is its last. */
    uint64_t head = read_ptr(r, r->runtime + d.runtime_state.interpreters_head);
    for (int i = 0; head && i < 64; i++) {
        uint64_t next = read_ptr(r, head + d.interpreter_state.next);
        if (!next)
            break;
        head = next;
    }
    *interp = head;
    if (head) {
        l->gil_addr = read_ptr(r, head + d.interpreter_state.ceval_gil);
        l->gc_collecting_addr = head + d.interpreter_state.gc + d.gc.collecting;
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
                    "process %d runs Python 3.%d; pyrometer reads Python 3.9 to 3.13 in another process", (int)pid,
                    r->minor);
    for (int k = 0; k < PM_RT_COUNT; k++)
        r->types[k] = v[W_TYPES + k] ? v[W_TYPES + k] + r->bias : 0;

    r->L = r->T->L;
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

int pm_remote_task(pid_t pid, uint64_t tid, char *state, uint64_t *cpu_ns)
{
    char path[96], buf[1024];
    unsigned long long run;
    /* schedstat alone when the state is not asked for: one small read per
     * thread per tick, in nanoseconds (finer than stat's clock ticks). */
    if (!state) {
        snprintf(path, sizeof path, "/proc/%d/task/%llu/schedstat", (int)pid, (unsigned long long)tid);
        if (pm_procfile_read(path, buf, sizeof buf) > 0 && sscanf(buf, "%llu", &run) == 1) {
            *cpu_ns = run;
            return 0;
        }
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
    snprintf(path, sizeof path, "/proc/%d/task/%llu/schedstat", (int)pid, (unsigned long long)tid);
    if (pm_procfile_read(path, buf, sizeof buf) > 0 && sscanf(buf, "%llu", &run) == 1)
        *cpu_ns = run;
    return 0;
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
