/* pm_formats.c — see pm_formats.h. */
#include "pm_formats.h"

#include "pm_fold.h"
#include "pm_interchange.h"
#include "pm_html.h"
#include "../input/pm_input.h"

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

/* Collapsed stacks, speedscope, Chrome and Gecko of a calls profile have its
 * recursion folded (pm_fold.h): printed whole, every distinct call path made
 * them hundreds of times the size of the .pyro file.  The collapsed file's
 * first line says so. */
static int write_collapsed(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    int m = o->metric >= 0 ? o->metric : pm_metric_find(p, "samples");
    if (m < 0)
        m = 0;
    if (!pm_fold_wanted(p))
        return pm_write_collapsed(p, m, o->per_line, out);
    pm_profile *q = pm_fold_recursion(p);
    if (!q)
        return -1;
    pm_buf_puts(out, "# pyrometer: calls profile with recursion folded (a call of a function already on the "
                     "stack is shown at its outer call); the .pyro and .prof files keep every call path\n");
    int rc = pm_write_collapsed(q, m, o->per_line, out);
    pm_profile_free(q);
    return rc;
}

static int write_pstats(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_pstats(p, out);
}

static int write_speedscope(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    if (!pm_fold_wanted(p))
        return pm_write_speedscope(p, o->metric, out);
    pm_profile *q = pm_fold_recursion(p);
    if (!q)
        return -1;
    int rc = pm_write_speedscope(q, o->metric, out);
    pm_profile_free(q);
    return rc;
}

static int write_pprof(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_pprof(p, out);
}

static int write_chrome(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    if (!pm_fold_wanted(p))
        return pm_write_chrome(p, o->metric, out);
    pm_profile *q = pm_fold_recursion(p);
    if (!q)
        return -1;
    int rc = pm_write_chrome(q, o->metric, out);
    pm_profile_free(q);
    return rc;
}

static int write_gecko(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    if (!pm_fold_wanted(p))
        return pm_write_gecko(p, out);
    pm_profile *q = pm_fold_recursion(p);
    if (!q)
        return -1;
    int rc = pm_write_gecko(q, out);
    pm_profile_free(q);
    return rc;
}

static const pm_format pyro = {"pyro", ".pyro", "pyrometer's own lossless profile (gzip'd JSON)", write_pyro,
                               pm_read_pyro, sniff_pyro};
static const pm_format collapsed = {"collapsed", ".collapsed .folded",
                                    "collapsed stacks (flamegraph.pl, inferno, speedscope)", write_collapsed,
                                    pm_read_collapsed, pm_sniff_collapsed};
static const pm_format pstats = {"pstats", ".prof .pstats",
                                 "cProfile/pstats marshal dump (pstats, SnakeViz, tuna, gprof2dot)", write_pstats,
                                 pm_read_pstats, pm_sniff_pstats};
static const pm_format speedscope = {"speedscope", ".speedscope.json .speedscope",
                                     "speedscope JSON (one sampled profile per thread)", write_speedscope,
                                     pm_read_speedscope, pm_sniff_speedscope};
static const pm_format pprof = {"pprof", ".pprof .pb.gz", "pprof protobuf, gzip'd (go tool pprof)", write_pprof, NULL,
                                NULL};
static const pm_format chrome = {"chrome", ".trace.json .chrome.json",
                                 "Chrome Trace Event JSON (chrome://tracing, Perfetto)", write_chrome, NULL, NULL};
static const pm_format gecko = {"gecko", ".gecko.json",
                                "Firefox Profiler (Gecko profile format, version 28)", write_gecko, NULL, NULL};

static int write_otlp(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_otlp(p, out);
}

static int write_zipkin(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_zipkin(p, out);
}

static int write_otlp_profiles(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    (void)o;
    return pm_write_otlp_profiles(p, out);
}

static const pm_format otlp_profiles = {"otlp-profiles", ".otlp-profiles .otlp-profiles.pb",
                                        "OpenTelemetry profiles, OTLP protobuf (POST to /v1development/profiles)",
                                        write_otlp_profiles, NULL, NULL};
static const pm_format otlp = {"otlp", ".otlp .otlp.pb",
                               "OpenTelemetry spans, OTLP protobuf (a timeline's calls; POST to /v1/traces)",
                               write_otlp, NULL, NULL};
static const pm_format zipkin = {"zipkin", ".zipkin.json",
                                 "Zipkin v2 spans JSON (a timeline's calls; Zipkin, Jaeger)", write_zipkin, NULL,
                                 NULL};

static int write_importtime(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    return pm_write_importtime(p, o->metric, out);
}

static const pm_format importtime = {"importtime", ".importtime",
                                     "python -X importtime log (tuna); frames are modules", write_importtime,
                                     pm_read_importtime, pm_sniff_importtime};

static int write_html(const pm_profile *p, const pm_format_opts *o, pm_buf *out)
{
    return pm_write_html(p, o->template, o->template_len, out);
}

static const pm_format html = {"html", ".html .htm", "the self-contained HTML viewer (profile embedded)",
                               write_html, NULL, NULL};

/* Order matters for pm_read_any: pstats and speedscope before pyro (whose
 * sniff accepts any '{'), importtime before collapsed (plain text) last. */
static const pm_format *const all[] = {&pstats, &speedscope, &pyro, &importtime, &collapsed, &html, &pprof, &chrome, &gecko,
                                       &otlp_profiles, &otlp, &zipkin, NULL};

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
