/* pm_meta.c — metric columns and ordered metadata. */
#include <stdio.h>
#include <string.h>

#include "pm_internal.h"

int pm_metric_add_id(pm_profile *p, pm_id name, pm_id unit)
{
    if (name >= p->strings.count || unit >= p->strings.count)
        return -1;
    for (int m = 0; m < p->metric_count; m++)
        if (p->metrics[m].name == name)
            return m;
    if (p->metric_count >= PM_MAX_METRICS)
        return -1;
    int m = p->metric_count;
    if (pm_trie_add_column(p, m) != 0)
        return -1;
    p->metrics[m].name = name;
    p->metrics[m].unit = unit;
    p->metric_count++;
    return m;
}

int pm_metric_add(pm_profile *p, const char *name, const char *unit)
{
    if (!name || !unit)
        return -1;
    pm_id n = pm_str_intern_cstr(p, name);
    pm_id u = pm_str_intern_cstr(p, unit);
    if (n == PM_NONE || u == PM_NONE)
        return -1;
    return pm_metric_add_id(p, n, u);
}

int pm_metric_find(const pm_profile *p, const char *name)
{
    if (!name)
        return -1;
    pm_id n = pm_strtab_find(&p->strings, name, strlen(name));
    if (n == PM_NONE)
        return -1;
    for (int m = 0; m < p->metric_count; m++)
        if (p->metrics[m].name == n)
            return m;
    return -1;
}

int pm_metric_count(const pm_profile *p)
{
    return p->metric_count;
}

const pm_metric *pm_metric_get(const pm_profile *p, int index)
{
    return index >= 0 && index < p->metric_count ? &p->metrics[index] : NULL;
}

/* The entry for key, appended if absent; NULL when full or OOM. */
static pm_meta *pm_meta_slot(pm_profile *p, pm_id key)
{
    for (uint32_t i = 0; i < p->meta_count; i++)
        if (p->meta[i].key == key)
            return &p->meta[i];
    if (p->meta_count >= PM_MAX_META ||
        pm_grow((void **)&p->meta, &p->meta_cap, p->meta_count + 1, sizeof(pm_meta)) != 0)
        return NULL;
    pm_meta *e = &p->meta[p->meta_count++];
    e->key = key;
    e->kind = PM_META_NUM;
    e->str = 0;
    e->num = 0;
    return e;
}

int pm_meta_set_str_id(pm_profile *p, pm_id key, pm_id value)
{
    if (key >= p->strings.count || value >= p->strings.count)
        return -1;
    pm_meta *e = pm_meta_slot(p, key);
    if (!e)
        return -1;
    e->kind = PM_META_STR;
    e->str = value;
    e->num = 0;
    return 0;
}

int pm_meta_set_num_id(pm_profile *p, pm_id key, double value)
{
    if (key >= p->strings.count)
        return -1;
    pm_meta *e = pm_meta_slot(p, key);
    if (!e)
        return -1;
    e->kind = PM_META_NUM;
    e->str = 0;
    e->num = value;
    return 0;
}

int pm_meta_set_str(pm_profile *p, const char *key, const char *value)
{
    if (!key || !value)
        return -1;
    pm_id k = pm_str_intern_cstr(p, key);
    pm_id v = pm_str_intern_cstr(p, value);
    if (k == PM_NONE || v == PM_NONE)
        return -1;
    return pm_meta_set_str_id(p, k, v);
}

int pm_meta_set_num(pm_profile *p, const char *key, double value)
{
    if (!key)
        return -1;
    pm_id k = pm_str_intern_cstr(p, key);
    if (k == PM_NONE)
        return -1;
    return pm_meta_set_num_id(p, k, value);
}

int pm_meta_set_u64(pm_profile *p, const char *key, uint64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return pm_meta_set_str(p, key, text);
}

const pm_meta *pm_meta_find(const pm_profile *p, const char *key)
{
    if (!key)
        return NULL;
    pm_id k = pm_strtab_find(&p->strings, key, strlen(key));
    if (k == PM_NONE)
        return NULL;
    for (uint32_t i = 0; i < p->meta_count; i++)
        if (p->meta[i].key == k)
            return &p->meta[i];
    return NULL;
}

const pm_meta *pm_meta_at(const pm_profile *p, uint32_t i)
{
    return i < p->meta_count ? &p->meta[i] : NULL;
}

uint32_t pm_meta_count(const pm_profile *p)
{
    return p->meta_count;
}
