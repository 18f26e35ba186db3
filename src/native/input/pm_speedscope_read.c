/* pm_speedscope_read.c — speedscope JSON files read back (what pyrometer,
 * py-spy, rbspy, and speedscope's own exporter write).
 *
 *   shared.frames   [{name, file?, line?, col?}] -> model frames: "[name]"
 *                   without a file is a native frame, "<name>" without a
 *                   file a special one, anything else a Python frame.
 *   profiles        one thread each (ident = index + 1, name = its name):
 *     "sampled"     samples[i] (frame indexes, outermost first) weighted by
 *                   weights[i] (1 when weights are absent);
 *     "evented"     O/C events in time order: the time between two events
 *                   is charged to the stack open between them; frames still
 *                   open at the end are closed at endValue.  A C event must
 *                   close the innermost open frame.
 *   unit            nanoseconds/microseconds/milliseconds/seconds -> metric
 *                   "wall" (nanoseconds); bytes -> "bytes"; none (or
 *                   anything else) -> "samples" (count).
 *
 * Keys may come in any order (frames are resolved after parsing); every
 * index, count and number is checked, so any input gives a profile or a
 * one-line error, never a crash.  The document is parsed twice (frames
 * first, then profiles) with the bounded pull reader of pm_json.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_json.h"
#include "pm_input.h"

/* Largest value (in the model's unit) accepted: leaves headroom in int64. */
#define PM_SSR_MAX 4e18

int pm_sniff_speedscope(const void *data, size_t len)
{
    const char *s = data;
    size_t i = 0;
    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    if (i >= len || s[i] != '{')
        return 0;
    size_t win = len < 4096 ? len : 4096;
    static const char key[] = "\"$schema\"";
    for (size_t k = i; k + sizeof key - 1 <= win; k++) {
        if (memcmp(s + k, key, sizeof key - 1) != 0)
            continue;
        /* The value: a string mentioning speedscope, before its closing quote. */
        size_t v = k + sizeof key - 1;
        while (v < win && (s[v] == ' ' || s[v] == ':' || s[v] == '\n' || s[v] == '\r' || s[v] == '\t'))
            v++;
        if (v >= win || s[v] != '"')
            return 0;
        for (size_t e = v + 1; e + 10 <= win && s[e] != '"'; e++)
            if (memcmp(s + e, "speedscope", 10) == 0)
                return 1;
        return 0;
    }
    return 0;
}

typedef struct {
    pm_profile *p;
    pm_jr r;
    pm_buf key, str, name;
    pm_id *frames; /* speedscope frame index -> model frame */
    size_t nframes, capframes;
    /* One profile's arrays. */
    uint32_t *idx;     /* sample frame indexes, flat */
    size_t nidx, capidx;
    size_t *off;       /* sample k is idx[off[k] .. off[k+1]) */
    size_t noff, capoff;
    double *w;
    size_t nw, capw;
    struct ev { int open; uint32_t frame; double at; } *ev;
    size_t nev, capev;
    pm_id *path;       /* open nodes while replaying events / inserting */
    size_t cappath;
    int32_t *lines;    /* first lines of path's frames (sampled) */
    size_t caplines;
    double duration_s;
    char *err;
    size_t errlen;
    int oom;
} pm_ssr;

static int ssr_grow(pm_ssr *s, void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *n = realloc(*arr, nc * size);
    if (!n) {
        s->oom = 1;
        return -1;
    }
    *arr = n;
    *cap = nc;
    return 0;
}
#define SSR_PUSH(s, arr, n, cap, val)                                                                  \
    (ssr_grow((s), (void **)&(arr), &(cap), (n) + 1, sizeof *(arr)) == 0 ? ((arr)[(n)++] = (val), 0) : -1)

static int ssr_fail(pm_ssr *s, const char *what)
{
    if (!s->r.failed)
        pm_jr_fail(&s->r, "%s", what);
    return -1;
}

static int ssr_key_is(const pm_ssr *s, const char *k)
{
    size_t n = strlen(k);
    return s->key.len == n && memcmp(s->key.data, k, n) == 0;
}

/* ---- pass 1: shared.frames ------------------------------------------------ */

static int ssr_frame(pm_ssr *s)
{
    pm_profile *p = s->p;
    int have_name = 0;
    int32_t line = 0;
    s->name.len = 0;
    s->str.len = 0; /* the file */
    pm_buf file;
    pm_buf_init(&file);
    int rc = -1;
    if (pm_jr_object_begin(&s->r) != 0)
        goto done;
    int k;
    while ((k = pm_jr_object_next(&s->r, &s->key)) == 1) {
        if (ssr_key_is(s, "name")) {
            if (pm_jr_string(&s->r, &s->name) != 0)
                goto done;
            have_name = 1;
        } else if (ssr_key_is(s, "file") && pm_jr_peek(&s->r) == '"') {
            if (pm_jr_string(&s->r, &file) != 0)
                goto done;
        } else if (ssr_key_is(s, "line") && pm_jr_peek(&s->r) != 'n') {
            double d;
            if (pm_jr_double(&s->r, &d) != 0)
                goto done;
            line = d >= 1 && d <= INT32_MAX ? (int32_t)d : 0;
        } else if (pm_jr_skip(&s->r) != 0) {
            goto done;
        }
    }
    if (k < 0)
        goto done;
    if (!have_name) {
        ssr_fail(s, "a frame without a name");
        goto done;
    }
    const char *n = s->name.data ? s->name.data : "";
    size_t nl = s->name.len;
    pm_frame_kind kind = PM_FRAME_PYTHON;
    if (file.len == 0 && nl >= 2 && n[0] == '[' && n[nl - 1] == ']') {
        kind = PM_FRAME_NATIVE;
        n++;
        nl -= 2;
    } else if (file.len == 0 && nl >= 2 && n[0] == '<' && n[nl - 1] == '>') {
        kind = PM_FRAME_SPECIAL;
    }
    pm_id ns = pm_str_intern(p, n, nl), fs = pm_str_intern(p, file.data ? file.data : "", file.len);
    pm_id f = ns == PM_NONE || fs == PM_NONE ? PM_NONE : pm_frame_intern(p, ns, fs, line, kind);
    if (f == PM_NONE || SSR_PUSH(s, s->frames, s->nframes, s->capframes, f) != 0) {
        s->oom = 1;
        ssr_fail(s, "out of memory");
        goto done;
    }
    rc = 0;
done:
    pm_buf_free(&file);
    return rc;
}

static int ssr_pass_frames(pm_ssr *s, int *have_profiles)
{
    if (pm_jr_object_begin(&s->r) != 0)
        return -1;
    int k;
    while ((k = pm_jr_object_next(&s->r, &s->key)) == 1) {
        if (ssr_key_is(s, "shared")) {
            if (pm_jr_object_begin(&s->r) != 0)
                return -1;
            int k2;
            while ((k2 = pm_jr_object_next(&s->r, &s->key)) == 1) {
                if (ssr_key_is(s, "frames")) {
                    if (pm_jr_array_begin(&s->r) != 0)
                        return -1;
                    int k3;
                    while ((k3 = pm_jr_array_next(&s->r)) == 1)
                        if (ssr_frame(s) != 0)
                            return -1;
                    if (k3 < 0)
                        return -1;
                } else if (pm_jr_skip(&s->r) != 0) {
                    return -1;
                }
            }
            if (k2 < 0)
                return -1;
        } else {
            if (ssr_key_is(s, "profiles"))
                *have_profiles = 1;
            if (pm_jr_skip(&s->r) != 0)
                return -1;
        }
    }
    if (k < 0)
        return -1;
    return pm_jr_end(&s->r);
}

/* ---- pass 2: profiles -------------------------------------------------------- */

/* A number of this profile's unit converted to the model's, rounded. */
static int ssr_scale(pm_ssr *s, double v, double mult, int64_t *out)
{
    double x = v * mult;
    if (!isfinite(x) || x > PM_SSR_MAX || x < -PM_SSR_MAX)
        return ssr_fail(s, "number out of range");
    *out = (int64_t)llround(x);
    return 0;
}

static int ssr_frame_index(pm_ssr *s, uint32_t *out)
{
    uint64_t v;
    if (pm_jr_u64(&s->r, &v) != 0)
        return -1;
    if (v >= s->nframes)
        return ssr_fail(s, "frame index out of range");
    *out = (uint32_t)v;
    return 0;
}

static int ssr_events(pm_ssr *s)
{
    if (pm_jr_array_begin(&s->r) != 0)
        return -1;
    int k;
    while ((k = pm_jr_array_next(&s->r)) == 1) {
        struct ev e = {-1, UINT32_MAX, NAN};
        if (pm_jr_object_begin(&s->r) != 0)
            return -1;
        int k2;
        while ((k2 = pm_jr_object_next(&s->r, &s->key)) == 1) {
            if (ssr_key_is(s, "type")) {
                if (pm_jr_string(&s->r, &s->str) != 0)
                    return -1;
                e.open = s->str.len == 1 && s->str.data[0] == 'O'   ? 1
                         : s->str.len == 1 && s->str.data[0] == 'C' ? 0
                                                                     : -2;
                if (e.open == -2)
                    return ssr_fail(s, "an event type other than \"O\" or \"C\"");
            } else if (ssr_key_is(s, "frame")) {
                if (ssr_frame_index(s, &e.frame) != 0)
                    return -1;
            } else if (ssr_key_is(s, "at")) {
                if (pm_jr_double(&s->r, &e.at) != 0)
                    return -1;
            } else if (pm_jr_skip(&s->r) != 0) {
                return -1;
            }
        }
        if (k2 < 0)
            return -1;
        if (e.open < 0 || e.frame == UINT32_MAX || isnan(e.at))
            return ssr_fail(s, "an event without type, frame or at");
        if (SSR_PUSH(s, s->ev, s->nev, s->capev, e) != 0)
            return ssr_fail(s, "out of memory");
    }
    return k < 0 ? -1 : 0;
}

static int ssr_samples(pm_ssr *s)
{
    if (pm_jr_array_begin(&s->r) != 0)
        return -1;
    int k;
    if (SSR_PUSH(s, s->off, s->noff, s->capoff, s->nidx) != 0)
        return ssr_fail(s, "out of memory");
    while ((k = pm_jr_array_next(&s->r)) == 1) {
        if (pm_jr_array_begin(&s->r) != 0)
            return -1;
        int k2;
        while ((k2 = pm_jr_array_next(&s->r)) == 1) {
            uint32_t f;
            if (ssr_frame_index(s, &f) != 0)
                return -1;
            if (SSR_PUSH(s, s->idx, s->nidx, s->capidx, f) != 0)
                return ssr_fail(s, "out of memory");
        }
        if (k2 < 0)
            return -1;
        if (SSR_PUSH(s, s->off, s->noff, s->capoff, s->nidx) != 0)
            return ssr_fail(s, "out of memory");
    }
    return k < 0 ? -1 : 0;
}

static int ssr_metric(pm_ssr *s, const char *unit, size_t ulen, double *mult, int *is_time)
{
    static const struct { const char *u; double mult; } times[] = {
        {"nanoseconds", 1}, {"microseconds", 1e3}, {"milliseconds", 1e6}, {"seconds", 1e9}};
    *is_time = 0;
    *mult = 1;
    for (size_t i = 0; i < 4; i++)
        if (ulen == strlen(times[i].u) && memcmp(unit, times[i].u, ulen) == 0) {
            *mult = times[i].mult;
            *is_time = 1;
            return pm_metric_add(s->p, "wall", "nanoseconds");
        }
    if (ulen == 5 && memcmp(unit, "bytes", 5) == 0)
        return pm_metric_add(s->p, "bytes", "bytes");
    return pm_metric_add(s->p, "samples", "count");
}

static int ssr_ensure_path(pm_ssr *s, size_t n)
{
    if (ssr_grow(s, (void **)&s->path, &s->cappath, n, sizeof(pm_id)) != 0)
        return ssr_fail(s, "out of memory");
    return 0;
}

static int ssr_profile(pm_ssr *s, uint32_t index)
{
    pm_profile *p = s->p;
    int evented = -1, have_name = 0, have_start = 0, have_end = 0;
    double start = 0, end = 0;
    pm_buf unit;
    pm_buf_init(&unit);
    s->nidx = s->noff = s->nw = s->nev = 0;
    int rc = -1;
    if (pm_jr_object_begin(&s->r) != 0)
        goto done;
    int k;
    while ((k = pm_jr_object_next(&s->r, &s->key)) == 1) {
        if (ssr_key_is(s, "type")) {
            if (pm_jr_string(&s->r, &s->str) != 0)
                goto done;
            if (s->str.len == 7 && memcmp(s->str.data, "sampled", 7) == 0)
                evented = 0;
            else if (s->str.len == 7 && memcmp(s->str.data, "evented", 7) == 0)
                evented = 1;
            else {
                ssr_fail(s, "a profile type other than \"sampled\" or \"evented\"");
                goto done;
            }
        } else if (ssr_key_is(s, "name") && pm_jr_peek(&s->r) == '"') {
            if (pm_jr_string(&s->r, &s->name) != 0)
                goto done;
            have_name = 1;
        } else if (ssr_key_is(s, "unit") && pm_jr_peek(&s->r) == '"') {
            if (pm_jr_string(&s->r, &unit) != 0)
                goto done;
        } else if (ssr_key_is(s, "startValue")) {
            if (pm_jr_double(&s->r, &start) != 0)
                goto done;
            have_start = 1;
        } else if (ssr_key_is(s, "endValue")) {
            if (pm_jr_double(&s->r, &end) != 0)
                goto done;
            have_end = 1;
        } else if (ssr_key_is(s, "samples")) {
            if (s->noff) {
                ssr_fail(s, "duplicate samples");
                goto done;
            }
            if (ssr_samples(s) != 0)
                goto done;
        } else if (ssr_key_is(s, "weights")) {
            if (s->nw) {
                ssr_fail(s, "duplicate weights");
                goto done;
            }
            if (pm_jr_array_begin(&s->r) != 0)
                goto done;
            int k2;
            while ((k2 = pm_jr_array_next(&s->r)) == 1) {
                double w;
                if (pm_jr_double(&s->r, &w) != 0)
                    goto done;
                if (SSR_PUSH(s, s->w, s->nw, s->capw, w) != 0) {
                    ssr_fail(s, "out of memory");
                    goto done;
                }
            }
            if (k2 < 0)
                goto done;
        } else if (ssr_key_is(s, "events")) {
            if (s->nev) {
                ssr_fail(s, "duplicate events");
                goto done;
            }
            if (ssr_events(s) != 0)
                goto done;
        } else if (pm_jr_skip(&s->r) != 0) {
            goto done;
        }
    }
    if (k < 0)
        goto done;
    if (evented < 0) {
        ssr_fail(s, "a profile without a type");
        goto done;
    }
    double mult;
    int is_time;
    int m = ssr_metric(s, unit.data ? unit.data : "", unit.len, &mult, &is_time);
    pm_id th = pm_thread_get(p, (uint64_t)index + 1, 0);
    if (m < 0 || th == PM_NONE) {
        ssr_fail(s, "out of memory");
        goto done;
    }
    if (have_name) {
        if (pm_thread_set_name(p, th, s->name.data ? s->name.data : "", s->name.len) != 0) {
            ssr_fail(s, "out of memory");
            goto done;
        }
    } else {
        char nm[32];
        int n = snprintf(nm, sizeof nm, "profile %u", index);
        if (pm_thread_set_name(p, th, nm, (size_t)n) != 0) {
            ssr_fail(s, "out of memory");
            goto done;
        }
    }
    pm_id troot = pm_thread_at(p, th)->root;
    if (!evented) {
        size_t ns = s->noff ? s->noff - 1 : 0;
        if (s->nw && s->nw != ns) {
            ssr_fail(s, "samples and weights differ in length");
            goto done;
        }
        for (size_t i = 0; i < ns; i++) {
            size_t a = s->off[i], b = s->off[i + 1];
            if (ssr_ensure_path(s, b - a + 1) != 0)
                goto done;
            if (ssr_grow(s, (void **)&s->lines, &s->caplines, b - a + 1, sizeof(int32_t)) != 0) {
                ssr_fail(s, "out of memory");
                goto done;
            }
            for (size_t j = a; j < b; j++) {
                s->path[j - a] = s->frames[s->idx[j]];
                s->lines[j - a] = pm_frame_get(p, s->path[j - a])->line;
            }
            pm_id leaf = pm_stack_insert(p, th, s->path, s->lines, b - a);
            int64_t w = 1;
            if (s->nw && ssr_scale(s, s->w[i], mult, &w) != 0)
                goto done;
            if (w < 0) {
                ssr_fail(s, "a negative weight");
                goto done;
            }
            if (leaf == PM_NONE) {
                ssr_fail(s, "out of memory");
                goto done;
            }
            pm_node_add(p, leaf, m, w);
        }
    } else {
        /* Replay: path[0..depth) are the open nodes, innermost last. */
        size_t depth = 0;
        int64_t last = 0;
        for (size_t i = 0; i < s->nev; i++) {
            int64_t at;
            if (ssr_scale(s, s->ev[i].at, mult, &at) != 0)
                goto done;
            if (i > 0 && at < last) {
                ssr_fail(s, "events out of time order");
                goto done;
            }
            if (depth > 0 && i > 0)
                pm_node_add(p, s->path[depth - 1], m, at - last);
            last = at;
            pm_id f = s->frames[s->ev[i].frame];
            if (s->ev[i].open) {
                pm_id parent = depth ? s->path[depth - 1] : troot;
                if (ssr_ensure_path(s, depth + 1) != 0)
                    goto done;
                pm_id n = pm_node_child(p, parent, f, pm_frame_get(p, f)->line);
                if (n == PM_NONE) {
                    ssr_fail(s, "out of memory");
                    goto done;
                }
                s->path[depth++] = n;
            } else {
                if (depth == 0 || pm_node_get(p, s->path[depth - 1])->frame != f) {
                    ssr_fail(s, "a \"C\" event that does not close the innermost open frame");
                    goto done;
                }
                depth--;
            }
        }
        if (depth > 0 && have_end) {
            int64_t e;
            if (ssr_scale(s, end, mult, &e) != 0)
                goto done;
            if (e > last)
                pm_node_add(p, s->path[depth - 1], m, e - last);
        }
    }
    if (is_time && have_end) {
        double d = (end - (have_start ? start : 0)) * mult / 1e9;
        if (isfinite(d) && d > s->duration_s && d < 1e12)
            s->duration_s = d;
    }
    rc = 0;
done:
    pm_buf_free(&unit);
    return rc;
}

static int ssr_pass_profiles(pm_ssr *s)
{
    if (pm_jr_object_begin(&s->r) != 0)
        return -1;
    int k;
    while ((k = pm_jr_object_next(&s->r, &s->key)) == 1) {
        if (ssr_key_is(s, "profiles")) {
            if (pm_jr_array_begin(&s->r) != 0)
                return -1;
            int k2;
            uint32_t index = 0;
            while ((k2 = pm_jr_array_next(&s->r)) == 1) {
                if (index >= 1u << 20)
                    return ssr_fail(s, "too many profiles");
                if (ssr_profile(s, index++) != 0)
                    return -1;
            }
            if (k2 < 0)
                return -1;
        } else if (pm_jr_skip(&s->r) != 0) {
            return -1;
        }
    }
    return k < 0 ? -1 : 0;
}

pm_profile *pm_read_speedscope(const void *data, size_t len, char *err, size_t errlen)
{
    pm_ssr s;
    memset(&s, 0, sizeof s);
    pm_buf_init(&s.key);
    pm_buf_init(&s.str);
    pm_buf_init(&s.name);
    const char *text = data;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    s.p = pm_profile_new();
    int have_profiles = 0;
    if (!s.p || pm_meta_set_str(s.p, "source", "speedscope") != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    pm_jr_init(&s.r, text, len);
    if (ssr_pass_frames(&s, &have_profiles) != 0)
        goto bad;
    if (!have_profiles) {
        snprintf(err, errlen, "not a speedscope file: no \"profiles\"");
        goto fail;
    }
    pm_jr_init(&s.r, text, len);
    if (ssr_pass_profiles(&s) != 0)
        goto bad;
    if (pm_metric_find(s.p, "wall") >= 0 &&
        (pm_meta_set_str(s.p, "mode", "wall") != 0 || pm_meta_set_num(s.p, "duration_s", s.duration_s) != 0)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (pm_metric_count(s.p) == 0 && pm_metric_add(s.p, "samples", "count") < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    goto out;
bad:
    if (s.oom)
        snprintf(err, errlen, "out of memory");
    else
        snprintf(err, errlen, "bad speedscope file: %s", s.r.msg[0] ? s.r.msg : "malformed");
fail:
    pm_profile_free(s.p);
    s.p = NULL;
out:
    pm_buf_free(&s.key);
    pm_buf_free(&s.str);
    pm_buf_free(&s.name);
    free(s.frames);
    free(s.idx);
    free(s.off);
    free(s.w);
    free(s.ev);
    free(s.path);
    free(s.lines);
    return s.p;
}
