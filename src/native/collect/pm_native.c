/* pm_native.c — see pm_native.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* REG_RIP */
#endif
#include "pm_native.h"

#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unwind.h>

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

struct walk {
    uint64_t *ips;
    size_t n, cap;
    uint64_t pc;
    int found, skipped;
};

/* Frames before the interrupted one are the handler's own and the kernel's
 * signal frame: a handful.  Give up if the interrupted instruction does not
 * show up within this many (the signal frame could not be crossed). */
#define SKIP_MAX 32

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    int before = 0;
    uint64_t ip = (uint64_t)_Unwind_GetIPInfo(ctx, &before);
    if (!w->found) {
        if (ip != w->pc)
            return ++w->skipped > SKIP_MAX ? _URC_END_OF_STACK : _URC_NO_REASON;
        w->found = 1;
    } else if (!ip) {
        return _URC_END_OF_STACK;
    }
    if (w->n == w->cap)
        return _URC_END_OF_STACK;
    w->ips[w->n++] = ip;
    return _URC_NO_REASON;
}

static _Unwind_Reason_Code nothing(struct _Unwind_Context *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return _URC_END_OF_STACK;
}

int pm_native_init(const char **why)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
    *why = "native stacks are supported on x86-64 and arm64 Linux only";
    return -1;
#else
#if defined(__GLIBC__)
    /* Before 2.35 libgcc finds unwind tables with dl_iterate_phdr, which
     * takes the loader's lock: a thread interrupted inside dlopen would
     * deadlock its own handler. */
    int major = 0, minor = 0;
    const char *v = gnu_get_libc_version();
    for (; *v >= '0' && *v <= '9'; v++)
        major = major * 10 + (*v - '0');
    if (*v == '.')
        for (v++; *v >= '0' && *v <= '9'; v++)
            minor = minor * 10 + (*v - '0');
    if (major < 2 || (major == 2 && minor < 35)) {
        *why = "native stacks need glibc 2.35 or newer (a lock-free unwind table lookup)";
        return -1;
    }
#else
    /* Elsewhere libgcc's table lookup takes the loader's lock. */
    *why = "native stacks need glibc 2.35 or newer (a lock-free unwind table lookup)";
    return -1;
#endif
    /* libgcc's first unwind initialises a table under a once-lock: done
     * here, never in a handler. */
    _Unwind_Backtrace(nothing, NULL);
    *why = NULL;
    return 0;
#endif
}

struct here {
    uint64_t *ips, *starts;
    size_t n, cap;
};

static _Unwind_Reason_Code step_here(struct _Unwind_Context *ctx, void *arg)
{
    struct here *h = arg;
    int before = 0;
    uint64_t ip = (uint64_t)_Unwind_GetIPInfo(ctx, &before);
    if (!ip || h->n == h->cap)
        return _URC_END_OF_STACK;
    h->ips[h->n] = ip;
    h->starts[h->n++] = (uint64_t)_Unwind_GetRegionStart(ctx);
    return _URC_NO_REASON;
}

size_t pm_native_unwind_here(uint64_t *ips, uint64_t *starts, size_t cap)
{
    struct here h = {ips, starts, 0, cap};
    _Unwind_Backtrace(step_here, &h);
    return h.n;
}

int pm_native_unwind(void *ucontext, uint64_t *ips, size_t cap, int *complete)
{
    const ucontext_t *uc = ucontext;
    struct walk w = {ips, 0, cap, 0, 0, 0};
#if defined(__x86_64__)
    w.pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    w.pc = (uint64_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return -1;
#endif
    _Unwind_Backtrace(step, &w);
    if (complete)
        *complete = w.n < cap;
    return w.found ? (int)w.n : -1;
}

size_t pm_native_merge(const uint8_t *cls, size_t nn, size_t ngroups, pm_merge_item *out, size_t cap,
                       int *mismatch)
{
    size_t k = 0;
#define PUT(nat, grp)                                                                                        \
    do {                                                                                                     \
        if (k < cap)                                                                                         \
            out[k++] = (pm_merge_item){(int32_t)(nat), (int32_t)(grp)};                                      \
    } while (0)
    size_t nev = 0;
    for (size_t i = 0; i < nn; i++)
        nev += cls[i] == PM_NAT_EVAL;
    *mismatch = nev != ngroups;
    if (nev == 0 || ngroups == 0) {
        /* No eval loop found in the native stack (the unwind stopped before
         * it): no place to put native frames, the Python stack alone. */
        for (size_t g = 0; g < ngroups; g++)
            PUT(-1, g);
        return k;
    }
    size_t pairs = nev < ngroups ? nev : ngroups;
    /* Paired from the leaf: the outermost (nev - pairs) eval frames have no
     * group, the outermost (ngroups - pairs) groups no eval frame. */
    size_t skip_ev = nev - pairs, g = 0;
    for (; g < ngroups - pairs; g++)
        PUT(-1, g);
    /* Outermost first: native index i = nn - 1 - j. */
    size_t seen_ev = 0, paired = 0;
    size_t j = 0;
    for (; j < nn && paired < pairs; j++) {
        size_t i = nn - 1 - j;
        if (cls[i] == PM_NAT_EVAL) {
            if (seen_ev++ < skip_ev)
                continue;
            PUT(-1, g++);
            paired++;
            continue;
        }
        /* Below the outermost Python frame: start-up; between two: plumbing. */
        if (paired == 0 || cls[i] == PM_NAT_INTERP)
            continue;
        PUT(i, -1);
    }
    /* The leaf run, after the innermost Python frames. */
    size_t first_other = nn;
    for (size_t jj = j; jj < nn; jj++)
        if (cls[nn - 1 - jj] == PM_NAT_OTHER) {
            first_other = jj;
            break;
        }
    for (; j < nn; j++) {
        size_t i = nn - 1 - j;
        if (cls[i] == PM_NAT_EVAL || (j < first_other && first_other < nn && cls[i] == PM_NAT_INTERP))
            continue;
        PUT(i, -1);
    }
#undef PUT
    return k;
}
