/* pm_layout_py.h — filling a layout for the running interpreter (needs the GIL). */
#ifndef PM_LAYOUT_PY_H
#define PM_LAYOUT_PY_H
#include <stddef.h>
#include "pm_layout.h"
int pm_layout_fill(pm_layout *l, char *err, size_t errlen);
#endif
