/* pm_formats.c — see pm_formats.h. */
#include "pm_formats.h"

#include <stdio.h>
#include <string.h>

static int write_pyro(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_pyro(p, out);
}

static int sniff_pyro(const void *data, size_t len)
{
    const unsigned char *d = data;
    /* gzip magic, or the plain JSON the reader also accepts. */
    return (len >= 2 && d[0] == 0x1f && d[1] == 0x8b) || (len >= 1 && d[0] == '{');
}

static int write_collapsed(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    int m = o->metric >= 0 ? o->metric : pm_metric_find(p, "samples");
    if (m < 0)
        m = 0;
    return pm_write_collapsed(p, m, o->per_line, out);
}

static const pm_format pyro = {"pyro", ".pyro", "pyrometer's own lossless profile (gzip'd JSON)", write_pyro,
                               pm_read_pyro, sniff_pyro};
static const pm_format collapsed = {"collapsed", ".collapsed .folded",
                                    "collapsed stacks (flamegraph.pl, inferno, speedscope)", write_collapsed, NULL,
                                    NULL};

static const pm_format *const all[] = {&pyro, &collapsed, NULL};

const pm_format *const *pm_formats(void) { return all; }

const pm_format *pm_format_find(const char *name)
{
    for (size_t i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

const pm_format *pm_format_for_path(const char *path)
{
    size_t plen = strlen(path);
    for (size_t i = 0; all[i]; i++) {
        const char *e = all[i]->extensions;
        while (*e) {
            size_t n = strcspn(e, " ");
            if (n && plen >= n && strncmp(path + plen - n, e, n) == 0)
                return all[i];
            e += n;
            while (*e == ' ')
                e++;
        }
    }
    return NULL;
}

pm_profile *pm_read_any(const void *data, size_t len, char *err, size_t errlen)
{
    for (size_t i = 0; all[i]; i++)
        if (all[i]->read && all[i]->sniff && all[i]->sniff(data, len))
            return all[i]->read(data, len, err, errlen);
    snprintf(err, errlen, "not a profile format pyrometer reads");
    return NULL;
}
