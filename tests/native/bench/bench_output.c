/* bench_output.c — times the model's hot paths and every writer on a large
 * synthetic profile: 1,000,000 samples over 100,000 distinct stacks.
 * Prints figures; asserts nothing (timings belong in benchmarks, not tests).
 * Build and run: make -C tests/native bench */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input/pm_input.h"
#include "model/pm_model.h"
#include "output/pm_output.h"

#define PHASE(name) (!*only || strcmp(only, name) == 0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: steadier than wall time on a shared machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A deterministic xorshift generator: the same profile every run. */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

enum { NSTACKS = 100000, NSAMPLES = 1000000, NFUNCS = 2000, MAXDEPTH = 40 };

int main(int argc, char **argv)
{
    /* "wide": stacks diverge after a few frames (about 2M nodes, the worst
     * case); "framework": 16 shared 15-frame prefixes, then a diverging tail
     * (closer to a web app).  Optional second argument: only this phase. */
    int framework = argc > 1 && strcmp(argv[1], "framework") == 0;
    const char *only = argc > 2 ? argv[2] : "";
    pm_profile *p = pm_profile_new();
    int ms = pm_metric_add(p, "samples", "count");
    int mw = pm_metric_add(p, "wall", "nanoseconds");
    int mc = pm_metric_add(p, "cpu", "nanoseconds");
    pm_meta_set_str(p, "mode", "wall");
    pm_meta_set_num(p, "rate_hz", 1000);
    pm_meta_set_num(p, "duration_s", 1000);
    pm_id threads[4];
    for (int i = 0; i < 4; i++) {
        char name[32];
        threads[i] = pm_thread_get(p, 1000 + (uint64_t)i, (uint64_t)i);
        snprintf(name, sizeof name, "Thread-%d", i);
        pm_thread_set_name(p, threads[i], name, strlen(name));
    }
    /* Symbolisation-like interning of function names. */
    char names[NFUNCS][64], files[NFUNCS][80];
    pm_id frames[NFUNCS];
    for (int i = 0; i < NFUNCS; i++) {
        snprintf(names[i], sizeof names[i], "package.module%d.Class%d.method_%d", i % 50, i % 7, i);
        snprintf(files[i], sizeof files[i], "/usr/lib/python3.11/site-packages/package/module%d.py", i % 50);
        frames[i] = pm_frame_intern(p, pm_str_intern_cstr(p, names[i]), pm_str_intern_cstr(p, files[i]), i % 900,
                                    PM_FRAME_PYTHON);
    }
    /* 100k distinct stacks sharing prefixes, as real programs do. */
    uint64_t seed = 88172645463325252ULL;
    static pm_id st[NSTACKS][MAXDEPTH];
    static int32_t ln[NSTACKS][MAXDEPTH];
    static int depth[NSTACKS];
    for (int s = 0; s < NSTACKS; s++) {
        int d = 5 + (int)(rng(&seed) % (MAXDEPTH - 5));
        depth[s] = d;
        for (int k = 0; k < d; k++) {
            if (framework && k < 15) {
                st[s][k] = frames[(s % 16) * 15 + k];
                ln[s][k] = 1;
                continue;
            }
            /* Shallow frames come from a small set, deep ones from many. */
            uint64_t span = k < 3 ? 4 : k < 8 ? 40 : NFUNCS;
            st[s][k] = frames[rng(&seed) % span];
            ln[s][k] = (int32_t)(rng(&seed) % 20);
        }
    }
    double t0 = now();
    uint64_t sink = 0;
    for (int i = 0; i < NSAMPLES; i++) {
        int s = (int)(rng(&seed) % NSTACKS);
        pm_id leaf = pm_stack_insert(p, threads[s % 4], st[s], ln[s], (size_t)depth[s]);
        pm_node_add(p, leaf, ms, 1);
        pm_node_add(p, leaf, mw, 1000000);
        pm_node_add(p, leaf, mc, 900000);
        sink += leaf;
    }
    double t1 = now();
    printf("insert %d samples (avg depth ~%d): %.3f s, %.0f ns/sample, %.1f ns/frame\n", NSAMPLES,
           (MAXDEPTH + 5) / 2, t1 - t0, (t1 - t0) * 1e9 / NSAMPLES, (t1 - t0) * 1e9 / NSAMPLES / ((MAXDEPTH + 5) / 2));
    /* Steady-state interning: every name already present. */
    t0 = now();
    for (int i = 0; i < 1000000; i++)
        sink += pm_str_intern_cstr(p, names[i % NFUNCS]);
    t1 = now();
    printf("intern existing string: %.1f ns\n", (t1 - t0) * 1e9 / 1000000);
    printf("nodes %u, frames %u, strings %u, memory %.1f MB\n", pm_node_count(p), pm_frame_count(p),
           pm_str_count(p), (double)pm_profile_memory(p) / 1e6);

    pm_buf b;
    pm_buf_init(&b);
    if (PHASE("pyro")) {
    t0 = now();
    pm_write_pyro(p, &b);
    t1 = now();
    printf("write .pyro: %.3f s, %.1f MB\n", t1 - t0, (double)b.len / 1e6);
    char err[256];
    t0 = now();
    pm_profile *q = pm_read_pyro(b.data, b.len, err, sizeof err);
    t1 = now();
    printf("read .pyro: %.3f s (%s)\n", t1 - t0, q ? "ok" : err);
    pm_profile_free(q);
    }
    if (PHASE("collapsed")) {
    b.len = 0;
    t0 = now();
    pm_write_collapsed(p, ms, 0, &b);
    t1 = now();
    printf("write collapsed: %.3f s, %.1f MB\n", t1 - t0, (double)b.len / 1e6);
    b.len = 0;
    t0 = now();
    pm_write_collapsed(p, ms, 1, &b);
    t1 = now();
    printf("write collapsed per line: %.3f s, %.1f MB\n", t1 - t0, (double)b.len / 1e6);
    }
    if (PHASE("report") || strcmp(only, "report1") == 0) {
    pm_report_opts o;
    pm_report_opts_default(&o);
    o.metric = mw;
    b.len = 0;
    t0 = now();
    pm_write_report(p, &o, &b);
    t1 = now();
    printf("write report: %.3f s, %.1f KB\n", t1 - t0, (double)b.len / 1e3);
    if (strcmp(only, "report1") != 0) {
    o.show_all = 1;
    b.len = 0;
    t0 = now();
    pm_write_report(p, &o, &b);
    t1 = now();
    printf("write report --all: %.3f s, %.1f MB\n", t1 - t0, (double)b.len / 1e6);
    }
    }
    pm_func_stat *fs = NULL;
    long n = 0;
    if (PHASE("stats")) {
    t0 = now();
    n = pm_func_stats(p, mw, PM_NONE, &fs);
    t1 = now();
    printf("func stats: %.3f s, %ld functions\n", t1 - t0, n);
    }
    free(fs);
    pm_buf_free(&b);
    pm_profile_free(p);
    return sink == 42;
}
