/* test_native.c — --native's pieces that need no Python: merging a C stack
 * with its Python frames (pm_native_merge), unwinding from a signal handler
 * (pm_native_unwind), and naming static functions from the ELF symbol
 * table (pm_elfsym). */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "collect/pm_elfsym.h"
#include "collect/pm_native.h"
#include "collect/pm_natframes.h"
#include "pm_test.h"

enum { E = PM_NAT_EVAL, I = PM_NAT_INTERP, S = PM_NAT_SYSTEM, O = PM_NAT_OTHER };

/* The merged stack as text: "g0" for group 0, "n3" for native frame 3. */
static void render(const pm_merge_item *it, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && k + 8 < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%c%d", i ? " " : "", it[i].group >= 0 ? 'g' : 'n',
                              it[i].group >= 0 ? it[i].group : it[i].native);
}

static void merge_case(pm_t *t, const uint8_t *cls, size_t nn, size_t groups, const char *want, int want_mismatch)
{
    pm_merge_item items[64];
    int mismatch = -1;
    size_t n = pm_native_merge(cls, nn, groups, items, 64, &mismatch);
    char got[256];
    render(items, n, got, sizeof got);
    CHECKF(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
    CHECK(mismatch == want_mismatch);
}

static void test_merge(pm_t *t)
{
    /* Leaf first.  _start, main (interp), eval, plumbing, extension, libc:
     * start-up and plumbing go, the group takes the eval frame's place. */
    const uint8_t ext[] = {S, O, I, I, E, I, S};
    merge_case(t, ext, 7, 1, "g0 n1 n0", 0);
    /* Python -> extension -> Python -> extension: both extension frames
     * stay, between and after the groups; interpreter plumbing goes. */
    const uint8_t back[] = {O, I, E, I, O, I, E, I};
    merge_case(t, back, 8, 2, "g0 n4 g1 n0", 0);
    /* The interpreter's own work with no extension after the eval frame
     * (a builtin, the GC) is kept. */
    const uint8_t builtin[] = {S, I, I, E, I};
    merge_case(t, builtin, 5, 1, "g0 n2 n1 n0", 0);
    /* An unwind that stopped early (one eval frame for two groups): paired
     * from the leaf, the outer group first. */
    const uint8_t early[] = {O, I, E, I};
    merge_case(t, early, 4, 2, "g0 g1 n0", 1);
    /* No eval frame at all: the Python stack alone. */
    const uint8_t none[] = {O, S};
    merge_case(t, none, 2, 3, "g0 g1 g2", 1);
    /* More eval frames than groups (one being entered): the outer one goes. */
    const uint8_t more[] = {E, I, E, I};
    merge_case(t, more, 4, 1, "g0", 1);
}

/* ---- unwinding from a handler, naming static functions --------------------- */

static uint64_t ips[PM_NATIVE_MAX];
static volatile int nips;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    nips = pm_native_unwind(uc, ips, PM_NATIVE_MAX, NULL);
}

__attribute__((noinline)) static void pmtest_leaf(void)
{
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void pmtest_caller(void)
{
    pmtest_leaf();
    __asm__ volatile("" ::: "memory");
}

static void test_unwind_and_names(pm_t *t)
{
    const char *why = NULL;
    CHECK(pm_native_init(&why) == 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    nips = 0;
    pmtest_caller();
    sigaction(SIGUSR1, &old, NULL);
    CHECKF(nips >= 3, "unwound %d frames", nips);
    pm_elfsym *e = pm_elfsym_new();
    CHECK(e != NULL);
    int leaf = -1, caller = -1, runner = -1;
    for (int i = 0; e && i < nips; i++) {
        char name[256];
        const char *file;
        int cls;
        CHECK(pm_elfsym_lookup(e, ips[i] - (i > 0), name, sizeof name, &file, &cls) == 0);
        CHECK(name[0] != 0 && name[0] != '<');
        if (!strcmp(name, "pmtest_leaf") && leaf < 0)
            leaf = i;
        else if (!strcmp(name, "pmtest_caller") && caller < 0)
            caller = i;
        else if (!strcmp(name, "test_unwind_and_names") && runner < 0)
            runner = i;
    }
    /* The static functions, named, in call order (the interrupted frame is
     * in the libc syscall wrapper, below them). */
    CHECKF(leaf >= 0 && caller == leaf + 1 && runner == caller + 1, "leaf %d caller %d runner %d", leaf, caller,
           runner);
    /* An address in no module at all is a number, never a pseudo-name. */
    char name[64];
    const char *file;
    int cls;
    CHECK(pm_elfsym_lookup(e, 16, name, sizeof name, &file, &cls) == 0);
    CHECK(!strcmp(name, "0x10") && !strcmp(file, "") && cls == PM_NAT_OTHER);
    pm_elfsym_free(e);
}

/* An eval loop no symbol names is learned from stacks whose Python runs
 * lack their eval frames: the one unnamed interpreter function seen
 * exactly as often as frames are missing, never on a tie or from one. */
static void test_learn_eval(pm_t *t)
{
    enum { U = PM_NAT_INTERP | PM_NAT_UNNAMED };
    pm_natframes nf;
    memset(&nf, 0, sizeof nf);
    /* frames 7 (twice, unnamed), 8 (once, unnamed), 9 (twice, named) */
    const pm_id frames[] = {1, 7, 8, 7, 9, 9, 2};
    uint8_t cls[] = {O, U, U, U, I, I, S};
    CHECK(pm_natframes_learn_eval(&nf, frames, cls, 7, 1) == 0); /* one missing: never */
    CHECK(pm_natframes_learn_eval(&nf, frames, cls, 7, 3) == 0); /* no function seen 3 times */
    CHECK(nf.neval == 0 && cls[1] == U);
    CHECK(pm_natframes_learn_eval(&nf, frames, cls, 7, 2) == 1);
    CHECK(nf.neval == 1 && nf.eval[0] == 7 && cls[1] == E && cls[3] == E && cls[2] == U && cls[4] == I);
    /* two unnamed functions twice each: a tie, nothing learned */
    const pm_id tie[] = {5, 6, 5, 6};
    uint8_t tcls[] = {U, U, U, U};
    CHECK(pm_natframes_learn_eval(&nf, tie, tcls, 4, 2) == 0 && nf.neval == 1);
}

/* Symbols by name from a file's own tables (the remote reader's way to
 * find _PyRuntime): two functions of this very binary lie as far apart in
 * the file as in memory; a name it lacks is 0; a file that is not ELF, -1. */
static void test_file_symbols(pm_t *t)
{
    static const char *const want[] = {"pm_elfsym_file", "pm_elfsym_new", "no_such_symbol_anywhere"};
    uint64_t v[3], load;
    int found = pm_elfsym_file("/proc/self/exe", want, v, 3, &load);
    CHECKF(found == 2, "found %d", found);
    CHECK(v[0] && v[1] && v[2] == 0);
    CHECK(v[0] - v[1] == (uint64_t)((uintptr_t)pm_elfsym_file - (uintptr_t)pm_elfsym_new));
    CHECK(load != UINT64_MAX);
    CHECK(pm_elfsym_file("/proc/self/status", want, v, 3, &load) == -1);
}

const pm_test pm_tests_native[] = {
    {"native_file_symbols", test_file_symbols},
    {"native_merge", test_merge},
    {"native_learn_eval", test_learn_eval},
    {"native_unwind_and_names", test_unwind_and_names},
    {NULL, NULL},
};
