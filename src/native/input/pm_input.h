/* pm_input.h — the readers: pyrometer's own .pyro files, and other tools'
 * files for `convert`, `view` and `diff` (the format table,
 * output/pm_formats.c, lists them with the writers).  Each builds a new
 * profile through the model's API, or returns NULL with a one-line reason
 * in err; the input is untrusted and never crashes a reader.  The codecs
 * they share with the writers (JSON, gzip, marshal) are in codec/.  Plain
 * C, no Python.h. */
#ifndef PM_INPUT_H
#define PM_INPUT_H

#include "../model/pm_model.h"

/* .pyro (schema: top of output/pm_pyro.c): the gzip'd file or its plain
 * JSON.  Every id and index is validated.  JSON that decompresses to more
 * than PM_PYRO_MAX_JSON is refused. */
#define PM_PYRO_MAX_JSON ((size_t)1 << 30)
pm_profile *pm_read_pyro(const void *data, size_t len, char *err, size_t errlen);

/* pstats (.prof), what cProfile's dump_stats writes; sniff: a marshal'd
 * dict. */
pm_profile *pm_read_pstats(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_pstats(const void *data, size_t len);
/* A profile read from a pstats file keeps the file's figures as they are,
 * in these metrics: on a function's own stack [F] its entry (calls,
 * primitive calls, own and cumulative time), on [C, F] the caller edge C ->
 * F.  The trie's "calls" and "wall" (what other outputs draw) cannot hold
 * them: pstats does not record stacks, and the rules that derive primitive
 * calls and cumulative time from stacks would miscount recursion.  The writer
 * (output/pm_pstats.c) gives the source's table back (times to the
 * nanosecond). */
extern const char *const pm_pstats_exact_names[4];
/* The one entry of a profile with no calls (the writer's, dropped when read). */
#define PM_PSTATS_EMPTY_FILE "~"
#define PM_PSTATS_EMPTY_NAME "<no calls>"

/* speedscope JSON: sampled and evented profiles, one thread each (see
 * pm_speedscope_read.c); sniff: a JSON object whose "$schema" names
 * speedscope. */
pm_profile *pm_read_speedscope(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_speedscope(const void *data, size_t len);

/* Collapsed stacks ("a;b;c 12" lines) in the dialects of the tools that
 * write them (see pm_collapsed_read.c). */
pm_profile *pm_read_collapsed(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_collapsed(const void *data, size_t len);

/* `python -X importtime` logs (also PYTHONPROFILEIMPORTTIME=1): every
 * import with its self and cumulative microseconds, nested by indentation.
 * A profile whose frames are modules: metric "time" (ns, self), one thread,
 * meta mode "imports".  Lines that are not "import time:" lines (the
 * program's own stderr in the same log) are skipped; none at all, or one
 * that starts so and does not parse, is refused with its line number. */
pm_profile *pm_read_importtime(const void *data, size_t len, char *err, size_t errlen);
/* Whether the first line that is not blank is an "import time:" line. */
int pm_sniff_importtime(const void *data, size_t len);

#endif
