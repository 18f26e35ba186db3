/* pm_bind_frame.c — a frame object's field that the API reaches only slowly.
 *
 * pm_bind_skip_lines runs at the call event of every frame out of scope
 * (the standard library called from traced code: an asyncio loop's every
 * step).  On 3.11 the frame object is opaque and f_trace_lines could only be
 * set as an attribute (a type dict probe and a member descriptor, about as
 * much as the rest of the event); the version's own internal header gives
 * the field, as pm_layout.c takes its offsets from them.  3.9/3.10 have it
 * in the public struct; 3.12+ switch line events per code object instead. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_frame.h"
#endif

#include "pm_bind.h"

#if PY_VERSION_HEX < 0x030C0000
int pm_bind_skip_lines(PyFrameObject *frame)
{
    frame->f_trace_lines = 0;
    return 0;
}
#endif
