/* test_main.c — runs every test table; the last line is "N passed, M failed"
 * and the exit status is non-zero when anything failed.  An optional
 * argument runs only the tests whose name contains it. */
#include <stdlib.h>
#include <string.h>

#include "pm_test.h"

int main(int argc, char **argv)
{
    const pm_test *const tables[] = {
        pm_tests_model, pm_tests_json, pm_tests_funcstats, pm_tests_pyro,
        pm_tests_collapsed, pm_tests_report, pm_tests_file, pm_tests_interchange,
        pm_tests_stack, pm_tests_blocks, pm_tests_alloctime, pm_tests_async, pm_tests_native, pm_tests_heapset, pm_tests_where, pm_tests_requests, pm_tests_trace, pm_tests_tracer, pm_tests_remote_dict, pm_tests_remote_debug, pm_tests_got, pm_tests_guard, pm_tests_space,
    };
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        for (const pm_test *tc = tables[i]; tc->name; tc++) {
            if (filter && !strstr(tc->name, filter))
                continue;
            pm_t t = {tc->name, 0};
            tc->fn(&t);
            if (t.failures) {
                failed++;
                printf("FAIL %s (%d checks)\n", tc->name, t.failures);
            } else {
                passed++;
                printf("ok   %s\n", tc->name);
            }
            fflush(stdout);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
