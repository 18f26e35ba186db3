/* pm_diff.c — per-function comparison of BASE runs with NEW runs (pm_diff.h).
 *
 * Functions are matched across profiles by (name, file, first line): frame
 * ids differ from file to file.  Each run's figures come from pm_func_stats
 * (self, and total counted once under recursion), scaled by the run's
 * normalisation, and each side is summarised by its mean.
 *
 * Noise.  A change is reported only when it is larger than what the runs
 * themselves show without any change:
 *   - the spread of each side (max - min over its runs), when a side has
 *     several runs: machine noise, GC, caches;
 *   - three standard deviations of the sampling error, for sampled profiles:
 *     a value v made of c of a run's N samples is a binomial count scaled by
 *     v/c, so its variance is (v/c)^2 c (1 - c/N); one run per side still
 *     gets a fair bound.
 * and only when it is at least `threshold` percent of the base value and
 * `min_share` percent of the base total (a function going from 2 to 4
 * samples doubles, and is of no interest).  Sampled wall time is compared
 * less the time threads holding the GIL spent off the CPU (metric
 * "preempted"): the machine's other work, the largest noise of a shared
 * machine, which several runs a side would otherwise be needed to bound. */
#include "pm_diff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"

int pm_diff_flame(pm_profile *const *base, size_t nb, const double *sb, pm_profile *const *nw, size_t nn,
                  const double *sn, const char *metric, pm_diff *d);

typedef struct {
    char *key; /* name \0 file \0 line, keylen bytes */
    size_t keylen;
    double *self, *total, *var_self, *var_total; /* per run */
} pm_dfunc;

typedef struct {
    pm_dfunc *f;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t nslots;
    size_t runs;
} pm_dtable;

static const char *mode_of(const pm_profile *p)
{
    const pm_meta *m = pm_meta_find(p, "mode");
    return m && m->kind == PM_META_STR ? pm_str_get(p, m->str, NULL) : "";
}

static int grow_slots(pm_dtable *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof(uint32_t));
    if (!s)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = pm_hash_bytes(t->f[i].key, t->f[i].keylen) & (ns - 1);
        while (s[h])
            h = (h + 1) & (ns - 1);
        s[h] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
    return 0;
}

/* The index of the function with this key, created (zeroed) when new; -1 on OOM. */
static long dtable_get(pm_dtable *t, const char *key, size_t keylen)
{
    if ((t->n + 1) * 2 > t->nslots && grow_slots(t) < 0)
        return -1;
    size_t h = pm_hash_bytes(key, keylen) & (t->nslots - 1);
    while (t->slots[h]) {
        pm_dfunc *f = &t->f[t->slots[h] - 1];
        if (f->keylen == keylen && memcmp(f->key, key, keylen) == 0)
            return (long)t->slots[h] - 1;
        h = (h + 1) & (t->nslots - 1);
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        pm_dfunc *nf = realloc(t->f, nc * sizeof(pm_dfunc));
        if (!nf)
            return -1;
        t->f = nf;
        t->cap = nc;
    }
    pm_dfunc *f = &t->f[t->n];
    memset(f, 0, sizeof(*f));
    f->key = malloc(keylen + 1);
    f->self = calloc(t->runs * 4, sizeof(double));
    if (!f->key || !f->self) {
        free(f->key);
        free(f->self);
        return -1;
    }
    memcpy(f->key, key, keylen);
    f->key[keylen] = 0;
    f->keylen = keylen;
    f->total = f->self + t->runs;
    f->var_self = f->total + t->runs;
    f->var_total = f->var_self + t->runs;
    t->slots[h] = (uint32_t)t->n + 1;
    return (long)t->n++;
}

static void dtable_free(pm_dtable *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->f[i].key);
        free(t->f[i].self);
    }
    free(t->f);
    free(t->slots);
}

/* The metric compared when none is named: the one the mode measures, that
 * every profile has (a .pyro file's wall time and a collapsed file's sample
 * counts meet at "samples"). */
static const char *default_metric(pm_profile *const *ps, size_t n)
{
    const char *mode = mode_of(ps[0]);
    static const char *const pref[][2] = {{"cpu", "cpu"}, {"calls", "time"}, {"lines", "time"},
                                          {"memory", "alloc_space"}, {"", "wall"}, {"", "time"}, {"", "samples"}};
    for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
        if (pref[i][0][0] && strcmp(mode, pref[i][0]) != 0)
            continue;
        size_t k = 0;
        while (k < n && pm_metric_find(ps[k], pref[i][1]) >= 0)
            k++;
        if (k == n)
            return pref[i][1];
    }
    return pm_metric_count(ps[0]) > 0 ? pm_str_get(ps[0], pm_metric_get(ps[0], 0)->name, NULL) : NULL;
}

static double metric_sum(const pm_profile *p, int m)
{
    double s = 0;
    if (m < 0)
        return 0;
    for (uint32_t n = 0; n < pm_node_count(p); n++)
        s += (double)pm_node_value(p, n, m);
    return s;
}

/* Whether the profile's values are sampled (and so carry Poisson noise). */
static int is_sampled(const pm_profile *p)
{
    const char *mode = mode_of(p);
    return pm_metric_find(p, "samples") >= 0 && strcmp(mode, "calls") != 0 && strcmp(mode, "lines") != 0 &&
           strcmp(mode, "memory") != 0;
}

/* The side's mean, spread and the variance of its mean over runs [r0, r1). */
static void side(const double *v, const double *var, size_t r0, size_t r1, double *mean, double *spread,
                 double *var_mean)
{
    double s = 0, lo = INFINITY, hi = -INFINITY, vs = 0;
    size_t k = r1 - r0;
    for (size_t r = r0; r < r1; r++) {
        s += v[r];
        vs += var[r];
        lo = v[r] < lo ? v[r] : lo;
        hi = v[r] > hi ? v[r] : hi;
    }
    *mean = s / (double)k;
    *spread = k > 1 ? hi - lo : 0;
    *var_mean = vs / ((double)k * (double)k);
}

static double noise_of(double spread_b, double spread_n, double var_b, double var_n)
{
    double poisson = 3.0 * sqrt(var_b + var_n);
    double n = spread_b > spread_n ? spread_b : spread_n;
    return poisson > n ? poisson : n;
}

/* A change beyond the noise, pct percent of the base and floor (absolute). */
static int beyond(double base, double nw, double noise, double pct, double floor)
{
    double dv = fabs(nw - base);
    if (dv <= noise || dv < floor || dv == 0)
        return 0;
    return base <= 0 || dv * 100.0 >= pct * base;
}

static int row_cmp(const void *a, const void *b)
{
    const pm_diff_row *x = a, *y = b;
    double dx = fabs(x->new_self - x->base_self), dy = fabs(y->new_self - y->base_self);
    int sx = x->sig_self || x->sig_total, sy = y->sig_self || y->sig_total;
    if (sx != sy) /* reported changes first */
        return sx ? -1 : 1;
    if (dx != dy)
        return dx > dy ? -1 : 1;
    dx = fabs(x->new_total - x->base_total);
    dy = fabs(y->new_total - y->base_total);
    if (dx != dy)
        return dx > dy ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A run's per-function figures of metric m, less those of metric less
 * (-1: none) for the same functions. */
static int run_stats(pm_dtable *t, const pm_profile *p, int m, int less, size_t r, double scale, double nsamples)
{
    pm_func_stat *st = NULL, *lst = NULL;
    long n = pm_func_stats(p, m, PM_NONE, &st);
    if (n < 0)
        return -1;
    uint32_t nf = pm_frame_count(p);
    int64_t *lself = NULL, *ltotal = NULL;
    if (less >= 0) {
        long ln = pm_func_stats(p, less, PM_NONE, &lst);
        lself = calloc((size_t)nf + 1, sizeof *lself);
        ltotal = calloc((size_t)nf + 1, sizeof *ltotal);
        if (ln < 0 || !lself || !ltotal) {
            free(lst);
            free(lself);
            free(ltotal);
            free(st);
            return -1;
        }
        for (long i = 0; i < ln; i++)
            if (lst[i].frame < nf) {
                lself[lst[i].frame] = lst[i].self;
                ltotal[lst[i].frame] = lst[i].total;
            }
        free(lst);
    }
    int sampled = is_sampled(p);
    char *key = NULL;
    size_t keycap = 0;
    for (long i = 0; i < n; i++) {
        const pm_frame *f = pm_frame_get(p, st[i].frame);
        size_t nl, fl;
        const char *name = pm_str_get(p, f->name, &nl), *file = pm_str_get(p, f->file, &fl);
        size_t need = nl + fl + 16;
        if (need > keycap) {
            char *k2 = realloc(key, need);
            if (!k2)
                goto oom;
            key = k2;
            keycap = need;
        }
        memcpy(key, name, nl);
        key[nl] = 0;
        memcpy(key + nl + 1, file, fl);
        key[nl + 1 + fl] = 0;
        int kl = snprintf(key + nl + fl + 2, 14, "%d", (int)f->line);
        long fi = dtable_get(t, key, nl + fl + 2 + (size_t)kl);
        if (fi < 0)
            goto oom;
        pm_dfunc *df = &t->f[fi];
        int64_t vs = st[i].self, vt = st[i].total;
        if (lself && st[i].frame < nf) {
            vs -= lself[st[i].frame];
            vt -= ltotal[st[i].frame];
        }
        double s = (double)(vs > 0 ? vs : 0) * scale, tot = (double)(vt > 0 ? vt : 0) * scale;
        df->self[r] += s;
        df->total[r] += tot;
        if (sampled && nsamples > 0) {
            /* c of N samples: binomial, variance c (1 - c/N); scaled by (v/c)^2. */
            double cs = (double)st[i].samples_self, ct = (double)st[i].samples_total;
            if (cs > 0)
                df->var_self[r] += s * s / cs * (1.0 - cs / nsamples);
            if (ct > 0)
                df->var_total[r] += tot * tot / ct * (1.0 - ct / nsamples);
        }
    }
    free(key);
    free(st);
    free(lself);
    free(ltotal);
    return 0;
oom:
    free(key);
    free(st);
    free(lself);
    free(ltotal);
    return -1;
}

int pm_diff_compute(pm_profile *const *base, size_t nb, pm_profile *const *nw, size_t nn, const pm_diff_opts *o,
                    pm_diff *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    if (nb == 0 || nn == 0) {
        snprintf(err, errlen, "nothing to compare");
        return -1;
    }
    pm_profile *const *all[2] = {base, nw};
    /* One mode on both sides: a calls profile's time and a sampled profile's
     * wall time are not the same quantity.  Files of other tools say no mode
     * (collapsed stacks): they meet any on a common metric. */
    const char *mode = "";
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < (s ? nn : nb); i++) {
            const char *mi = mode_of(all[s][i]);
            if (!*mode)
                mode = mi;
            else if (*mi && strcmp(mi, mode) != 0) {
                snprintf(err, errlen, "cannot compare a %s profile with a %s profile (profile modes differ)",
                         *mode ? mode : "foreign", *mi ? mi : "foreign");
                return -1;
            }
        }
    size_t R = nb + nn;
    pm_profile **every = malloc(R * sizeof(pm_profile *));
    if (!every) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(every, base, nb * sizeof(pm_profile *));
    memcpy(every + nb, nw, nn * sizeof(pm_profile *));
    const char *metric = o->metric ? o->metric : default_metric(every, R);
    free(every);
    if (!metric) {
        snprintf(err, errlen, "the profiles have no metrics");
        return -1;
    }
    /* Sampled wall time, by default, leaves out the time a thread holding
     * the GIL was off the CPU: the machine's other work, which on a shared
     * machine varies from run to run by more than any change worth
     * reporting (metric "preempted" of the sampler). */
    int less_preempted = !o->metric && strcmp(metric, "wall") == 0;
    for (size_t r = 0; r < R && less_preempted; r++)
        less_preempted = pm_metric_find(r < nb ? base[r] : nw[r - nb], "preempted") >= 0;
    int *mi = malloc(R * sizeof(int)), *ml = malloc(R * sizeof(int));
    double *raw = malloc(R * 2 * sizeof(double)), *scale = malloc(R * sizeof(double));
    pm_dtable t = {.runs = R};
    if (!mi || !ml || !raw || !scale)
        goto oom;
    for (size_t r = 0; r < R; r++) {
        const pm_profile *p = r < nb ? base[r] : nw[r - nb];
        ml[r] = less_preempted ? pm_metric_find(p, "preempted") : -1;
        mi[r] = pm_metric_find(p, metric);
        if (mi[r] < 0) {
            snprintf(err, errlen, "the %s profile%s no metric named '%s'", r < nb ? "BASE" : "NEW",
                     (r < nb ? nb : nn) > 1 ? "s have" : " has", metric);
            goto fail;
        }
        raw[2 * r] = metric_sum(p, mi[r]) - (ml[r] >= 0 ? metric_sum(p, ml[r]) : 0);
        raw[2 * r + 1] = metric_sum(p, pm_metric_find(p, "samples"));
        if (o->normalize == PM_DIFF_NORM_SAMPLES && raw[2 * r + 1] <= 0) {
            snprintf(err, errlen, "--normalize samples needs sampled profiles (a samples count)");
            goto fail;
        }
    }
    double mean_raw = 0, mean_samples = 0;
    for (size_t r = 0; r < nb; r++) {
        mean_raw += raw[2 * r] / (double)nb;
        mean_samples += raw[2 * r + 1] / (double)nb;
    }
    for (size_t r = 0; r < R; r++) {
        double den = o->normalize == PM_DIFF_NORM_TOTAL ? raw[2 * r] : raw[2 * r + 1];
        double num = o->normalize == PM_DIFF_NORM_TOTAL ? mean_raw : mean_samples;
        scale[r] = o->normalize == PM_DIFF_NORM_NONE || den <= 0 ? 1.0 : num / den;
    }
    for (size_t r = 0; r < R; r++)
        if (run_stats(&t, r < nb ? base[r] : nw[r - nb], mi[r], ml[r], r, scale[r], raw[2 * r + 1]) < 0)
            goto oom;

    /* The whole profile: each run's total.  Its sampling error is nil (the
     * samples cover the run's whole duration), so only the runs' spread
     * bounds it. */
    double *tv = malloc(R * 2 * sizeof(double));
    if (!tv)
        goto oom;
    for (size_t r = 0; r < R; r++) {
        tv[r] = raw[2 * r] * scale[r];
        tv[R + r] = 0;
    }
    double *tot = tv, *vtot = tv + R;
    double sb, sn, vb, vn;
    side(tot, vtot, 0, nb, &d->base_total, &sb, &vb);
    side(tot, vtot, nb, R, &d->new_total, &sn, &vn);
    d->noise_total = noise_of(sb, sn, vb, vn);
    free(tv);

    double floor = o->min_share / 100.0 * d->base_total;
    d->rows = calloc(t.n ? t.n : 1, sizeof(pm_diff_row));
    if (!d->rows)
        goto oom;
    for (size_t i = 0; i < t.n; i++) {
        pm_dfunc *f = &t.f[i];
        pm_diff_row *row = &d->rows[d->n++];
        row->name = strdup(f->key);
        row->file = strdup(f->key + strlen(f->key) + 1);
        if (!row->name || !row->file)
            goto oom;
        row->line = atoi(f->key + strlen(f->key) + 1 + strlen(row->file) + 1);
        side(f->self, f->var_self, 0, nb, &row->base_self, &sb, &vb);
        side(f->self, f->var_self, nb, R, &row->new_self, &sn, &vn);
        row->noise_self = noise_of(sb, sn, vb, vn);
        side(f->total, f->var_total, 0, nb, &row->base_total, &sb, &vb);
        side(f->total, f->var_total, nb, R, &row->new_total, &sn, &vn);
        row->noise_total = noise_of(sb, sn, vb, vn);
        row->sig_self = beyond(row->base_self, row->new_self, row->noise_self, o->threshold, floor);
        row->sig_total = beyond(row->base_total, row->new_total, row->noise_total, o->threshold, floor);
    }
    qsort(d->rows, d->n, sizeof(pm_diff_row), row_cmp);

    const pm_profile *p0 = base[0];
    const pm_metric *pm = pm_metric_get(p0, mi[0]);
    snprintf(d->metric, sizeof d->metric, "%s%s", metric, less_preempted ? " less preempted" : "");
    snprintf(d->unit, sizeof d->unit, "%s", pm_str_get(p0, pm->unit, NULL));
    snprintf(d->mode, sizeof d->mode, "%s", mode);
    d->nbase = nb;
    d->nnew = nn;
    d->normalize = o->normalize;
    d->threshold = o->threshold;
    d->min_share = o->min_share;
    if (pm_diff_flame(base, nb, scale, nw, nn, scale + nb, metric, d) < 0)
        goto oom;
    free(mi);
    free(ml);
    free(raw);
    free(scale);
    dtable_free(&t);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(mi);
    free(ml);
    free(raw);
    free(scale);
    dtable_free(&t);
    pm_diff_free(d);
    return -1;
}

void pm_diff_free(pm_diff *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->rows[i].name);
        free(d->rows[i].file);
    }
    free(d->rows);
    if (d->flame)
        pm_profile_free(d->flame);
    memset(d, 0, sizeof(*d));
}

long pm_diff_regressions(const pm_diff *d, double pct, pm_buf *out)
{
    long n = 0;
    double floor = d->min_share / 100.0 * d->base_total;
    if (d->normalize != PM_DIFF_NORM_TOTAL && d->new_total > d->base_total &&
        beyond(d->base_total, d->new_total, d->noise_total, pct, 0)) {
        pm_buf_printf(out, "regression: the total %s went up %.1f%% (beyond %.1f%%)\n", d->metric,
                      100.0 * (d->new_total - d->base_total) / d->base_total, pct);
        n++;
    }
    for (size_t i = 0; i < d->n; i++) {
        const pm_diff_row *r = &d->rows[i];
        int s = r->new_self > r->base_self && beyond(r->base_self, r->new_self, r->noise_self, pct, floor);
        int t = r->new_total > r->base_total && beyond(r->base_total, r->new_total, r->noise_total, pct, floor);
        if (!s && !t)
            continue;
        double b = s ? r->base_self : r->base_total, v = s ? r->new_self : r->new_total;
        if (b > 0)
            pm_buf_printf(out, "regression: %s (%s:%d) %s up %.1f%%\n", r->name, r->file, r->line,
                          s ? "self" : "total", 100.0 * (v - b) / b);
        else
            pm_buf_printf(out, "regression: %s (%s:%d) is new, %.1f%% of the base total\n", r->name, r->file,
                          r->line, d->base_total > 0 ? 100.0 * v / d->base_total : 100.0);
        n++;
    }
    return n;
}
