/* pm_test.h — a tiny assertion harness for the native unit tests.
 *
 * A test is a function taking the harness context `t`; CHECK records a
 * failure (with file and line) and carries on, so one run reports every
 * broken expectation.  No global state: the context travels with the call. */
#ifndef PM_TEST_H
#define PM_TEST_H

#include <stdio.h>

typedef struct {
    const char *name;
    int failures;
} pm_t;

typedef struct {
    const char *name;
    void (*fn)(pm_t *t);
} pm_test;

static inline int pm_t_check(pm_t *t, int ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        if (t->failures < 20)
            fprintf(stderr, "  FAIL %s: %s:%d: %s\n", t->name, file, line, expr);
        t->failures++;
    }
    return ok;
}

#define CHECK(cond) pm_t_check(t, (cond) ? 1 : 0, #cond, __FILE__, __LINE__)
/* CHECK with a formatted explanation printed on failure. */
#define CHECKF(cond, ...)                                                     \
    do {                                                                      \
        if (!CHECK(cond)) {                                                   \
            fprintf(stderr, "       ");                                      \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

/* Test tables, one per file, ended by {NULL, NULL}. */
extern const pm_test pm_tests_model[];
extern const pm_test pm_tests_requests[];
extern const pm_test pm_tests_json[];
extern const pm_test pm_tests_funcstats[];
extern const pm_test pm_tests_pyro[];
extern const pm_test pm_tests_collapsed[];
extern const pm_test pm_tests_report[];
extern const pm_test pm_tests_file[];
extern const pm_test pm_tests_interchange[];
extern const pm_test pm_tests_stack[];
extern const pm_test pm_tests_trace[];
extern const pm_test pm_tests_tracer[];
extern const pm_test pm_tests_blocks[];
extern const pm_test pm_tests_got[];
extern const pm_test pm_tests_guard[];
extern const pm_test pm_tests_space[];
extern const pm_test pm_tests_alloctime[];
extern const pm_test pm_tests_heapset[];
extern const pm_test pm_tests_async[];
extern const pm_test pm_tests_native[];
extern const pm_test pm_tests_where[];
extern const pm_test pm_tests_remote_dict[];
extern const pm_test pm_tests_remote_debug[];

#endif
