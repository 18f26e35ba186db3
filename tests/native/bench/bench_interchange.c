/* bench_interchange.c — times every interchange writer on 1,000,000 samples
 * over 100,000 distinct stacks (4 threads, depth 5-40) with a 1,000,000
 * event timeline whose consecutive stacks share most frames.  Prints
 * figures, asserts nothing.  make -C tests/native bench-interchange */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/pm_model.h"
#include "output/pm_formats.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

enum { NSTACKS = 100000, NSAMPLES = 1000000, NFUNCS = 2000, MAXDEPTH = 40 };
static pm_id st[NSTACKS][MAXDEPTH];
static int32_t ln[NSTACKS][MAXDEPTH];
static int depth[NSTACKS];
static pm_id leafs[NSTACKS];

int main(void)
{
    pm_profile *p = pm_profile_new();
    int ms = pm_metric_add(p, "samples", "count");
    int mw = pm_metric_add(p, "wall", "nanoseconds");
    int mc = pm_metric_add(p, "cpu", "nanoseconds");
    pm_meta_set_str(p, "mode", "wall");
    pm_meta_set_num(p, "rate_hz", 1000);
    pm_meta_set_num(p, "duration_s", 1000);
    pm_timeline_enable(p, NSAMPLES);
    pm_id threads[4];
    for (int i = 0; i < 4; i++) {
        char name[32];
        threads[i] = pm_thread_get(p, 1000 + (uint64_t)i, (uint64_t)i + 1);
        snprintf(name, sizeof name, "Thread-%d", i);
        pm_thread_set_name(p, threads[i], name, strlen(name));
    }
    pm_id frames[NFUNCS];
    for (int i = 0; i < NFUNCS; i++) {
        char n[64], f[80];
        snprintf(n, sizeof n, "package.module%d.Class%d.method_%d", i % 50, i % 7, i);
        snprintf(f, sizeof f, "/usr/lib/python3.11/site-packages/package/module%d.py", i % 50);
        frames[i] = pm_frame_intern(p, pm_str_intern_cstr(p, n), pm_str_intern_cstr(p, f), i % 900, PM_FRAME_PYTHON);
    }
    uint64_t seed = 88172645463325252ULL;
    /* Stacks made by a random walk: each shares a prefix with the previous,
     * as consecutive samples of a real program do. */
    for (int s = 0; s < NSTACKS; s++) {
        int keep = s ? (int)(rng(&seed) % (uint64_t)depth[s - 1]) : 0;
        int d = keep + 1 + (int)(rng(&seed) % 6);
        if (d > MAXDEPTH)
            d = MAXDEPTH;
        if (d < 5)
            d = 5;
        depth[s] = d;
        for (int k = 0; k < d; k++) {
            if (s && k < keep) {
                st[s][k] = st[s - 1][k];
                ln[s][k] = ln[s - 1][k];
            } else {
                st[s][k] = frames[rng(&seed) % NFUNCS];
                ln[s][k] = (int32_t)(rng(&seed) % 20);
            }
        }
        leafs[s] = pm_stack_insert(p, threads[s % 4], st[s], ln[s], (size_t)d);
    }
    /* Samples: runs of the same stack, stacks visited in order (locality). */
    int s = 0;
    for (int i = 0; i < NSAMPLES; i++) {
        if (rng(&seed) % 10 == 0)
            s = (s + 1) % NSTACKS;
        pm_id leaf = leafs[s];
        pm_node_add(p, leaf, ms, 1);
        pm_node_add(p, leaf, mw, 1000000);
        pm_node_add(p, leaf, mc, 900000);
        pm_timeline_add(p, (uint64_t)i * 1000000ULL, pm_node_get(p, leaf)->thread, leaf);
    }
    printf("profile: %d samples, %u nodes, %u frames, %zu timeline events\n", NSAMPLES, pm_node_count(p),
           pm_frame_count(p), (size_t)NSAMPLES);
    const char *names[] = {"pstats", "speedscope", "pprof", "chrome", "gecko", "collapsed", "pyro"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const pm_format *f = pm_format_find(names[i]);
        pm_buf b;
        pm_buf_init(&b);
        pm_format_opts o;
        memset(&o, 0, sizeof o);
        o.metric = -1;
        double t0 = now();
        int rc = f->write(p, &o, &b);
        double t1 = now();
        printf("write %-10s %.3f s  %8.1f MB  %s\n", names[i], t1 - t0, (double)b.len / 1e6, rc == 0 ? "ok" : "FAILED");
        if (f->read) {
            char err[256];
            t0 = now();
            pm_profile *q = f->read(b.data, b.len, err, sizeof err);
            t1 = now();
            printf("read  %-10s %.3f s  %s\n", names[i], t1 - t0, q ? "ok" : err);
            pm_profile_free(q);
        }
        pm_buf_free(&b);
    }
    pm_profile_free(p);
    return 0;
}
