/* pm_remote_names.c — see pm_remote_names.h. */
#include "pm_remote_names.h"

#include <string.h>

#include "pm_remote_dict.h"
#include "pm_strread.h"

#define MAX_THREADS 65536 /* entries of _active looked at */

typedef struct {
    const pm_objreader *rd;
    pm_rname *out;
    size_t cap, n;
} collect;

/* Whether s[0..len) can be handed to Python as UTF-8: pm_str_read keeps lone
 * surrogates (ED A0..BF ..), which a strict decoder refuses. */
static int decodable(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if ((unsigned char)s[i] == 0xED && (unsigned char)s[i + 1] >= 0xA0)
            return 0;
    return memchr(s, 0, len) == NULL;
}

static int one_thread(void *ctx, uint64_t key, uint64_t value)
{
    collect *c = ctx;
    const pm_objreader *rd = c->rd;
    uint64_t ident, name, type = 0;
    if (pm_long_u64(rd, key, &ident) != 0 || !(name = pm_obj_attr(rd, value, "_name")))
        return 0;
    if (rd->str_type && (pm_space_read(rd->space, name + rd->L->ob_type, &type, 8) != 0 || type != rd->str_type))
        return 0;
    char buf[PM_STR_MAX_UTF8];
    size_t len = 0;
    if (pm_str_read(rd->space, rd->L, name, buf, sizeof buf, &len) != 0 || !decodable(buf, len))
        return 0;
    if (len >= PM_RNAME_MAX) { /* cut before a character's first byte */
        len = PM_RNAME_MAX - 1;
        while (len && ((unsigned char)buf[len] & 0xC0) == 0x80)
            len--;
    }
    pm_rname *o = &c->out[c->n++];
    o->ident = ident;
    memcpy(o->name, buf, len);
    o->name[len] = 0;
    return c->n == c->cap;
}

/* sys.modules["threading"].__dict__["_active"], or 0. */
static uint64_t find_active(pm_remote *r, const pm_objreader *rd)
{
    uint64_t modules = 0, md = 0;
    if (pm_space_read(&r->space, r->L.interp_addr + r->O.interp_modules, &modules, 8) != 0 || !modules)
        return 0;
    uint64_t threading = pm_dict_get(rd, modules, "threading");
    if (!threading || pm_space_read(&r->space, threading + r->O.md_dict, &md, 8) != 0 || !md)
        return 0;
    return pm_dict_get(rd, md, "_active");
}

size_t pm_remote_thread_names(pm_remote *r, uint64_t *active, pm_rname *out, size_t cap)
{
    pm_objreader rd = {&r->space, &r->L, &r->O, r->types[PM_RT_STR], r->types[PM_RT_INT]};
    collect c = {&rd, out, cap, 0};
    if (!cap || !r->L.interp_addr)
        return 0;
    if (*active && pm_dict_scan(&rd, *active, MAX_THREADS, one_thread, &c) == 0)
        return c.n;
    c.n = 0;
    *active = find_active(r, &rd);
    if (*active && pm_dict_scan(&rd, *active, MAX_THREADS, one_thread, &c) != 0)
        *active = 0;
    return c.n;
}

const char *pm_rname_find(const pm_rname *names, size_t n, uint64_t ident)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].ident == ident)
            return names[i].name;
    return NULL;
}
