/* pm_grow.c — the model's growable arrays (pm_internal.h): frames, threads
 * and meta entries double their capacity as they fill. */
#include <stdint.h>
#include <stdlib.h>

#include "pm_internal.h"

int pm_grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    uint64_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX)
        ncap = UINT32_MAX;
    if (ncap > SIZE_MAX / size)
        return -1;
    void *na = realloc(*arr, (size_t)ncap * size);
    if (!na)
        return -1;
    *arr = na;
    *cap = (uint32_t)ncap;
    return 0;
}
