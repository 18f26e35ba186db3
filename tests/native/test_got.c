/* test_got.c — pm_got, the GOT rewriting of --native-memory: a libc
 * function this program calls goes to our hook once its slot is
 * redirected, back to libc once restored; a second apply changes nothing;
 * objects the classifier declines are left alone. */
#include <string.h>
#include <unistd.h>

#include "collect/pm_got.h"
#include "pm_test.h"

static int hooked_calls;

static pid_t fake_getppid(void)
{
    hooked_calls++;
    return 424242;
}

/* The program only ("" is the executable's name in the loader's list). */
static unsigned program_only(const char *path, uintptr_t base, void *arg)
{
    (void)base;
    (void)arg;
    return path[0] == 0 ? 1u : 0u;
}

static unsigned nothing(const char *path, uintptr_t base, void *arg)
{
    (void)path;
    (void)base;
    (void)arg;
    return 0;
}

static const pm_got_hook hooks[] = {{"getppid", (void *)fake_getppid, 0}};

static void test_redirect_and_restore(pm_t *t)
{
    pid_t real = getppid();
    pm_got g = {hooks, 1, program_only, NULL, NULL, 0, 0};
    CHECK(pm_got_apply(&g) == 0);
    CHECK(g.n >= 1);
    CHECK(getppid() == 424242 && hooked_calls == 1);
    size_t n = g.n;
    CHECK(pm_got_apply(&g) == 0); /* slots holding the hook already are left */
    CHECK(g.n == n);
    pm_got_restore(&g);
    CHECK(g.n == 0 && g.patches == NULL);
    CHECK(getppid() == real && hooked_calls == 1);
}

static void test_declined_objects_are_left(pm_t *t)
{
    pid_t real = getppid();
    pm_got g = {hooks, 1, nothing, NULL, NULL, 0, 0};
    CHECK(pm_got_apply(&g) == 0);
    CHECK(g.n == 0);
    CHECK(getppid() == real);
    pm_got_restore(&g);
}

static void test_ranges(pm_t *t)
{
    uintptr_t lo = 0, hi = 0, plo = 0, phi = 0;
    CHECK(pm_got_object_of((uintptr_t)test_ranges, &lo, &hi) == 1);
    CHECK(lo <= (uintptr_t)test_ranges && (uintptr_t)test_ranges < hi);
    pm_got_program(&plo, &phi);
    CHECK(plo == lo && phi == hi); /* this function is in the program */
    CHECK(pm_got_object_of((uintptr_t)memcpy, &lo, &hi) == 1); /* libc's */
    CHECK(!(lo <= (uintptr_t)test_ranges && (uintptr_t)test_ranges < hi));
    CHECK(pm_got_object_of(0, &lo, &hi) == 0);
}

const pm_test pm_tests_got[] = {
    {"got_redirect_and_restore", test_redirect_and_restore},
    {"got_declined_objects_are_left", test_declined_objects_are_left},
    {"got_ranges", test_ranges},
    {NULL, NULL},
};
