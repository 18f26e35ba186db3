/* fuzz_pyro.c — fuzz target for the .pyro reader (and every writer on what
 * it accepts).
 *
 * With clang:  clang -g -O1 -fsanitize=fuzzer,address,undefined -DPM_LIBFUZZER \
 *                -I src/native src/native/model/\*.c src/native/codec/\*.c src/native/input/\*.c src/native/output/\*.c \
 *                tests/native/fuzz/fuzz_pyro.c -lz -o fuzz_pyro
 * With gcc:    make -C tests/native fuzz-smoke   (a built-in random mutator,
 *              a quick smoke run rather than coverage-guided fuzzing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/pm_input.h"
#include "model/pm_model.h"
#include "output/pm_output.h"

static void pm_fuzz_writers(pm_profile *p)
{
    pm_buf b;
    pm_buf_init(&b);
    pm_write_pyro(p, &b);
    for (int m = 0; m < pm_metric_count(p); m++) {
        b.len = 0;
        pm_write_collapsed(p, m, m & 1, &b);
        pm_report_opts o;
        pm_report_opts_default(&o);
        o.metric = m;
        o.show_all = m & 1;
        b.len = 0;
        pm_write_report(p, &o, &b);
        pm_func_stat *st = NULL;
        pm_func_stats(p, m, PM_NONE, &st);
        free(st);
    }
    pm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    pm_profile *p = pm_read_pyro(data, size, err, sizeof err);
    if (p) {
        pm_fuzz_writers(p);
        pm_profile_free(p);
    } else if (err[0] == '\0' || strchr(err, '\n')) {
        abort(); /* every refusal must come with one line */
    }
    return 0;
}

#ifndef PM_LIBFUZZER
/* A small mutational driver for compilers without libFuzzer. */
static uint64_t pm_fuzz_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *const pm_fuzz_seed =
    "{\"format\":\"pyrometer\",\"version\":1,\"meta\":[{\"key\":\"mode\",\"str\":\"wall\"},"
    "{\"key\":\"duration_s\",\"num\":1.5},{\"key\":\"x\",\"num\":\"nan\"}],"
    "\"metrics\":[{\"name\":\"samples\",\"unit\":\"count\"},{\"name\":\"wall\",\"unit\":\"nanoseconds\"}],"
    "\"strings\":[\"\",\"f\",\"x.py\",\"T\",\"g\\udcff\",\"<idle>\",\"\\u00e9\\ud83d\\udd25\"],"
    "\"frames\":[[1,2,1,0],[4,2,9,0],[5,0,0,2],[6,0,0,1]],"
    "\"threads\":[{\"ident\":5,\"native_id\":0,\"name\":\"T\",\"root\":1},"
    "{\"ident\":6,\"native_id\":7,\"name\":\"\",\"root\":2}],"
    "\"nodes\":[[null,null,0,null],[0,null,0,0],[0,null,0,1],[1,0,3,0],[3,1,10,0],[3,1,11,0],[4,0,2,0],"
    "[2,2,0,1],[2,3,0,1],[6,0,2,0]],"
    "\"values\":[[0,0,0,1,2,3,4,5,6,7],[0,0,0,10,20,30,40,50,60,70]],"
    "\"timeline\":{\"capacity\":3,\"dropped\":9,\"events\":[[5,0,4],[6,1,null],[7,0,9]]}}";

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x9e3779b97f4a7c15ULL;
    size_t base_len = strlen(pm_fuzz_seed);
    size_t cap = base_len * 4;
    char *buf = malloc(cap);
    /* The seed itself must be accepted, or the mutations test nothing. */
    char err[256];
    pm_profile *p = pm_read_pyro(pm_fuzz_seed, base_len, err, sizeof err);
    if (!p) {
        fprintf(stderr, "seed refused: %s\n", err);
        return 1;
    }
    pm_buf gz;
    pm_buf_init(&gz);
    pm_write_pyro(p, &gz);
    pm_profile_free(p);
    long accepted = 0;
    static const char tokens[][12] = {"0", "-1", "null", "[", "]", "{", "}", ",", "\"", "4294967295", "\\u", "1e9", "[]"};
    for (long it = 0; it < iters; it++) {
        size_t len = base_len;
        memcpy(buf, pm_fuzz_seed, len);
        int nmut = 1 + (int)(pm_fuzz_rng(&seed) % 4);
        for (int k = 0; k < nmut && len > 1; k++) {
            size_t at = pm_fuzz_rng(&seed) % len;
            switch (pm_fuzz_rng(&seed) % 5) {
            case 0: /* overwrite a byte */
                buf[at] = (char)pm_fuzz_rng(&seed);
                break;
            case 1: /* delete a run */
            {
                size_t n = 1 + pm_fuzz_rng(&seed) % 8;
                if (at + n > len)
                    n = len - at;
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
                break;
            }
            case 2: /* insert a token */
            {
                const char *tk = tokens[pm_fuzz_rng(&seed) % (sizeof tokens / sizeof tokens[0])];
                size_t n = strlen(tk);
                if (len + n < cap) {
                    memmove(buf + at + n, buf + at, len - at);
                    memcpy(buf + at, tk, n);
                    len += n;
                }
                break;
            }
            case 3: /* duplicate a chunk */
            {
                size_t n = 1 + pm_fuzz_rng(&seed) % 32;
                if (at + n <= len && len + n < cap) {
                    memmove(buf + at + n, buf + at, len - at);
                    len += n;
                }
                break;
            }
            default: /* change a digit */
                if (buf[at] >= '0' && buf[at] <= '9')
                    buf[at] = (char)('0' + pm_fuzz_rng(&seed) % 10);
                break;
            }
        }
        /* An exact-size copy so ASan catches any over-read. */
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, buf, len);
        char err2[256];
        pm_profile *q = pm_read_pyro(in, len, err2, sizeof err2);
        if (q) {
            accepted++;
            pm_fuzz_writers(q);
            pm_profile_free(q);
        } else if (err2[0] == '\0' || strchr(err2, '\n')) {
            abort();
        }
        free(in);
        /* Now and then, damage the compressed form instead. */
        if (it % 16 == 0) {
            uint8_t *z = malloc(gz.len);
            memcpy(z, gz.data, gz.len);
            z[pm_fuzz_rng(&seed) % gz.len] ^= (uint8_t)(1u << (pm_fuzz_rng(&seed) % 8));
            LLVMFuzzerTestOneInput(z, gz.len);
            free(z);
        }
    }
    printf("fuzz-smoke: %ld inputs, %ld accepted, no crash\n", iters, accepted);
    pm_buf_free(&gz);
    free(buf);
    return 0;
}
#endif
