/* pm_strings.c — the profile's public string API over its string table. */
#include <string.h>

#include "pm_internal.h"

pm_id pm_str_intern(pm_profile *p, const char *s, size_t len)
{
    return pm_strtab_intern(&p->strings, s, len);
}

pm_id pm_str_intern_cstr(pm_profile *p, const char *s)
{
    return s ? pm_strtab_intern(&p->strings, s, strlen(s)) : PM_NONE;
}

const char *pm_str_get(const pm_profile *p, pm_id id, size_t *len_out)
{
    return pm_strtab_get(&p->strings, id, len_out);
}

uint32_t pm_str_count(const pm_profile *p)
{
    return p->strings.count;
}
