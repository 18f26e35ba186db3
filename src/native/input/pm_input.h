/* pm_input.h — readers of other tools' files that are not profiles of a
 * profiler (the format table, output/pm_formats.c, lists them with the
 * rest).  Plain C, no Python.h. */
#ifndef PM_INPUT_H
#define PM_INPUT_H

#include "../model/pm_model.h"

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
