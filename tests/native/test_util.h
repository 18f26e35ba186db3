/* test_util.h — fixtures shared by the tests. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include "collect/pm_layout.h"
#include "input/pm_input.h"
#include "model/pm_model.h"
#include "output/pm_output.h"
#include "pm_test.h"

/* A small profile that uses every feature of the model: three metrics, meta
 * of both kinds (NaN and infinities included), hostile strings (invalid
 * UTF-8, NUL, controls, surrogate-looking bytes), all frame kinds, named and
 * unnamed threads, recursion, a timeline that overflowed. */
pm_profile *tu_sample_profile(void);
/* Checks, field by field, that two profiles are identical. */
void tu_check_same(pm_t *t, const pm_profile *a, const pm_profile *b);
/* Interns a string literal, embedded NULs included. */
#define TU_LIT(p, s) pm_str_intern((p), (s), sizeof(s) - 1)
/* Interns a frame from C strings. */
pm_id tu_frame(pm_profile *p, const char *name, const char *file, int line, pm_frame_kind kind);
/* The str fields of a 3.12/3.13 layout (compact ASCII data after 40 bytes),
 * for made-up str objects. */
void tu_str_layout(pm_layout *L);
/* 1 when the NUL-terminated text contains needle. */
int tu_contains(const char *text, const char *needle);

#endif
