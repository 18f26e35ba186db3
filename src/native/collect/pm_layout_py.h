/* pm_layout_py.h — filling a layout for the running interpreter (needs the GIL). */
#ifndef PM_LAYOUT_PY_H
#define PM_LAYOUT_PY_H
#include <stddef.h>
#include "pm_layout.h"
int pm_layout_fill(pm_layout *l, char *err, size_t errlen);

/* Test hook: pm_layout_fill checking against a copy of the interpreter's
 * _Py_DebugOffsets altered as a patch release or a broken build would (3.13+;
 * before that the alteration is ignored). */
enum {
    PM_ALTER_NONE = 0,
    PM_ALTER_MOVE_FIELD = 1,   /* PyThreadState.current_frame published 8 bytes later */
    PM_ALTER_NO_COOKIE = 2,    /* no "xdebugpy" cookie */
    PM_ALTER_OUT_OF_RANGE = 3  /* the frame's owner published past the frame's size */
};
int pm_layout_fill_altered(pm_layout *l, int alter, char *err, size_t errlen);
#endif
