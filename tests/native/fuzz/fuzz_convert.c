/* fuzz_convert.c — fuzz target for what `convert` reads: pm_read_any (pstats
 * marshal, speedscope JSON, .pyro, collapsed stacks), then every writer on
 * what it accepts.
 *
 * With clang:  clang -g -O1 -fsanitize=fuzzer,address,undefined -DPM_LIBFUZZER \
 *                -I src/native src/native/model/\*.c src/native/codec/\*.c src/native/input/\*.c src/native/output/\*.c \
 *                tests/native/fuzz/fuzz_convert.c -lz -lm -o fuzz_convert
 * With gcc:    make -C tests/native fuzz-convert  (FUZZ_ITERS random and
 *              mutated inputs from valid seeds; every refusal must be one
 *              line, no crash, no hang). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pm_model.h"
#include "output/pm_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    pm_profile *p = pm_read_any(data, size, err, sizeof err);
    if (p) {
        pm_buf b;
        pm_buf_init(&b);
        for (const pm_format *const *f = pm_formats(); *f; f++) {
            if (strcmp((*f)->name, "html") == 0)
                continue; /* needs a template */
            pm_format_opts o;
            memset(&o, 0, sizeof o);
            o.metric = -1;
            b.len = 0;
            (*f)->write(p, &o, &b);
        }
        pm_buf_free(&b);
        pm_profile_free(p);
    } else if (err[0] == '\0' || strchr(err, '\n')) {
        abort();
    }
    return 0;
}

#ifndef PM_LIBFUZZER
static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* An evented speedscope profile (the writer only makes sampled ones). */
static const char evented_seed[] =
    "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"shared\":{\"frames\":"
    "[{\"name\":\"a\",\"file\":\"x.py\",\"line\":1},{\"name\":\"[b]\"},{\"name\":\"<c>\\udcff\"}]},"
    "\"profiles\":[{\"type\":\"evented\",\"name\":\"E\",\"unit\":\"microseconds\",\"startValue\":0,"
    "\"endValue\":100,\"events\":[{\"type\":\"O\",\"frame\":0,\"at\":0},{\"type\":\"O\",\"frame\":1,\"at\":10},"
    "{\"type\":\"C\",\"frame\":1,\"at\":30.5},{\"type\":\"O\",\"frame\":2,\"at\":60}]},"
    "{\"type\":\"sampled\",\"unit\":\"seconds\",\"samples\":[[0,1],[2]],\"weights\":[1e-3,2]}]}";

/* Other tools' collapsed dialects: Austin (full mode, GC, an empty stack)
 * and py-spy (a thread column, an empty stack, decimal counts). */
static const char austin_seed[] =
    "# austin: 3.7.0\n# interval: 5000\n# mode: full\n\n"
    "P1;T0:1;/a b.py:<module>:3;/a b.py:f:9;:GC: 5000,0,-16384\n"
    "P1;T0:2;C:\\x.py:g:1 7,1,0\nP1;T0:1 12,1,0\n";
static const char pyspy_seed[] =
    " 22\nthread (7): Main;<module> (x.py:3);f (x.py:9) 5\nthread (7): Main;<module> (x.py:4) 1.5\n"
    "[native];f (x.py:10) 2\n";

/* Seeds: a pstats dump, collapsed text and speedscope JSON written from a
 * small profile. */
static void seeds(pm_buf *pst, pm_buf *col, pm_buf *ss)
{
    pm_profile *p = pm_profile_new();
    int m = pm_metric_add(p, "samples", "count");
    pm_metric_add(p, "wall", "nanoseconds");
    pm_id th = pm_thread_get(p, 1, 1);
    pm_thread_set_name(p, th, "Main;T\n", 7);
    pm_id f[4];
    f[0] = pm_frame_intern(p, pm_str_intern_cstr(p, "main"), pm_str_intern_cstr(p, "a.py"), 1, PM_FRAME_PYTHON);
    f[1] = pm_frame_intern(p, pm_str_intern_cstr(p, "we;ird \xed\xa0\x80"), pm_str_intern_cstr(p, "b.py"), 7,
                           PM_FRAME_PYTHON);
    f[2] = pm_frame_intern(p, pm_str_intern_cstr(p, "len"), pm_str_intern_cstr(p, ""), 0, PM_FRAME_NATIVE);
    f[3] = f[1];
    for (size_t d = 1; d <= 4; d++)
        pm_node_add(p, pm_stack_insert(p, th, f, NULL, d), m, (int64_t)d);
    pm_format_opts o = {.metric = -1};
    pm_format_find("pstats")->write(p, &o, pst);
    pm_format_find("collapsed")->write(p, &o, col);
    pm_format_find("speedscope")->write(p, &o, ss);
    pm_profile_free(p);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 100000;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    pm_buf pst, col, ss, ev;
    pm_buf_init(&pst);
    pm_buf_init(&col);
    pm_buf_init(&ss);
    pm_buf_init(&ev);
    seeds(&pst, &col, &ss);
    pm_buf_put(&ev, evented_seed, sizeof evented_seed - 1);
    uint8_t *buf = malloc(1 << 16);
    for (long i = 0; i < iters; i++) {
        size_t n;
        int kind = (int)(rng(&seed) % 8);
        if (kind == 0) { /* random bytes, sometimes with a plausible first byte */
            n = rng(&seed) % 256;
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)rng(&seed);
            if (n && rng(&seed) % 2)
                buf[0] = (uint8_t)("{\xfb" "a"[rng(&seed) % 3]);
        } else {
            const pm_buf *src = kind == 3 ? &col : kind == 4 ? &ss : kind == 5 ? &ev : &pst;
            const char *text = kind == 6 ? austin_seed : kind == 7 ? pyspy_seed : NULL;
            n = text ? strlen(text) : src->len;
            memcpy(buf, text ? (const void *)text : (const void *)src->data, n);
            int muts = 1 + (int)(rng(&seed) % 4);
            for (int k = 0; k < muts && n; k++) {
                size_t at = rng(&seed) % n;
                switch (rng(&seed) % 4) {
                case 0: buf[at] = (uint8_t)rng(&seed); break;
                case 1: n = at; break; /* truncate */
                case 2: buf[at] ^= (uint8_t)(1u << (rng(&seed) % 8)); break;
                default: buf[at] = (uint8_t)"0i()[{r;z \n\"]}:,-9e."[rng(&seed) % 19]; break;
                }
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_convert: %ld inputs, no crash\n", iters);
    free(buf);
    pm_buf_free(&pst);
    pm_buf_free(&col);
    pm_buf_free(&ss);
    pm_buf_free(&ev);
    return 0;
}
#endif
