/* pm_remote_debug.c — see pm_remote_debug.h. */
#include "pm_remote_debug.h"

static const unsigned char since[PM_DO_COUNT] = {
#define PM_DEBUG_SINCE(name, from) from,
    PM_DEBUG_WORDS(PM_DEBUG_SINCE)
#undef PM_DEBUG_SINCE
};

int pm_remote_debug_read(pm_space *space, uint64_t addr, int minor, uint64_t d[PM_DO_COUNT])
{
    /* The version's words, packed as the target declares them. */
    uint64_t raw[PM_DO_COUNT];
    size_t n = 0;
    for (size_t i = 0; i < PM_DO_COUNT; i++)
        if (since[i] <= minor)
            n++;
    if (pm_space_read(space, addr, raw, n * sizeof raw[0]) != 0)
        return -1;
    for (size_t i = 0, k = 0; i < PM_DO_COUNT; i++)
        d[i] = since[i] <= minor ? raw[k++] : PM_DO_ABSENT;
    return 0;
}
