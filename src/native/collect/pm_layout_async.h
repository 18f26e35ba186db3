/* pm_layout_async.h — filling a pm_async_layout (needs the GIL). */
#ifndef PM_LAYOUT_ASYNC_H
#define PM_LAYOUT_ASYNC_H
#include <Python.h>

#include "pm_async.h"

/* info: the live objects pyrometer._async made to calibrate with (see
 * there).  0, or -1 with the reason in err (a Python error may be set). */
int pm_async_layout_fill(pm_async_layout *A, PyObject *info, char *err, size_t errlen);
#endif
