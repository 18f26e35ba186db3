/* pm_heap_gclists.c — where the collector keeps its tracked objects: the
 * heads of the generation lists gc.get_objects() walks, so that a census
 * can read them in place instead of paying for a list of a million strong
 * references that is built, read once and freed.
 *
 * The lists are linked through each object's PyGC_Head (_gc_next, a plain
 * pointer outside the unreachable set of a running collection), which sits
 * right before the object on every default build 3.9-3.13.  Only those are
 * read in place: a free-threaded build has no such lists, and 3.14's
 * incremental collector splits and flags them differently; there the census
 * keeps using gc.get_objects(). */
#define Py_BUILD_CORE 1
#include "pm_heap.h"

#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
#define PM_GC_IN_PLACE 1
#include "internal/pycore_gc.h"
#include "internal/pycore_interp.h"

/* pm_gc_link must be the collector's header, word for word: the census
 * steps from object to object through it. */
_Static_assert(sizeof(PyGC_Head) == sizeof(pm_gc_link), "PyGC_Head is two words");
_Static_assert(offsetof(PyGC_Head, _gc_next) == offsetof(pm_gc_link, next), "_gc_next comes first");
_Static_assert(NUM_GENERATIONS <= PM_GC_MAX_LISTS, "every generation fits");
#endif

int pm_heap_gc_lists(pm_gc_link **heads, size_t *estimate)
{
    *estimate = 0;
#ifdef PM_GC_IN_PLACE
    struct _gc_runtime_state *gc = &PyInterpreterState_Get()->gc;
    /* gc.get_objects()'s order: the youngest generation first. */
    for (int i = 0; i < NUM_GENERATIONS; i++)
        heads[i] = (pm_gc_link *)&gc->generations[i].head;
    /* Survivors of the collections so far plus allocations since: a
     * guess to size tables with, never a bound (they grow). */
    Py_ssize_t guess = gc->long_lived_total + gc->long_lived_pending + gc->generations[0].count;
    *estimate = guess > 0 ? (size_t)guess : 0;
    return NUM_GENERATIONS;
#else
    (void)heads;
    return 0;
#endif
}
