/* pm_collapsed_read.c — collapsed stacks read back ("a;b;c 12" per line),
 * as written by pyrometer, flamegraph.pl's stackcollapse-*, py-spy, etc.
 *
 * Weights become the "samples" metric (count).  Frame labels
 * "name (file:line)" give name, file and line, "[name]" a native frame,
 * anything else a frame with that name and no file.  The first element is a
 * thread name when no line's first element looks like "name (file:line)"
 * while some other element does (pyrometer's own files); otherwise every
 * stack goes to one thread "all".  Blank lines and lines starting with '#'
 * are skipped; any other malformed line is refused with its line number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_interchange.h"

typedef struct {
    const char *s;
    size_t len;
} pm_span;

/* "name (file:line)" -> 1 with the parts; 0 otherwise. */
static int pm_cr_parse_label(pm_span l, pm_span *name, pm_span *file, int32_t *line)
{
    if (l.len < 6 || l.s[l.len - 1] != ')')
        return 0;
    size_t colon = l.len - 1;
    while (colon > 0 && l.s[colon - 1] >= '0' && l.s[colon - 1] <= '9')
        colon--;
    if (colon == l.len - 1 || colon == 0 || l.s[colon - 1] != ':')
        return 0;
    size_t digits = l.len - 1 - colon;
    colon--; /* at ':' */
    /* The " (" that opens the file: the last one before the colon. */
    size_t open = colon;
    while (open > 1 && !(l.s[open - 2] == ' ' && l.s[open - 1] == '('))
        open--;
    if (open <= 1)
        return 0;
    name->s = l.s;
    name->len = open - 2;
    file->s = l.s + open;
    file->len = colon - open;
    long v = 0;
    for (size_t i = 0; i < digits && i < 9; i++)
        v = v * 10 + (l.s[colon + 1 + i] - '0');
    *line = (int32_t)v;
    return 1;
}

int pm_sniff_collapsed(const void *data, size_t len)
{
    const char *s = data;
    size_t i = 0;
    /* First non-comment line: text, then " <digits>" at its end. */
    while (i < len && (s[i] == '\n' || s[i] == '#')) {
        if (s[i] == '#')
            while (i < len && s[i] != '\n')
                i++;
        else
            i++;
    }
    if (i == len) /* comment lines only: an empty profile (pm_collapsed.c writes one) */
        return i > 0 && s[0] == '#';
    size_t e = i;
    while (e < len && s[e] != '\n')
        e++;
    if (e > i && s[e - 1] == '\r')
        e--;
    size_t d = e;
    while (d > i && s[d - 1] >= '0' && s[d - 1] <= '9')
        d--;
    if (d == e || d <= i + 1 || s[d - 1] != ' ')
        return 0;
    for (size_t k = i; k < d; k++)
        if ((unsigned char)s[k] < 0x20 && s[k] != '\t')
            return 0;
    return s[i] != '{' && s[i] != '[';
}

static pm_id pm_cr_frame(pm_profile *p, pm_span l)
{
    pm_span name, file;
    int32_t line = 0;
    if (pm_cr_parse_label(l, &name, &file, &line))
        return pm_frame_intern(p, pm_str_intern(p, name.s, name.len), pm_str_intern(p, file.s, file.len), line,
                               PM_FRAME_PYTHON);
    if (l.len >= 2 && l.s[0] == '[' && l.s[l.len - 1] == ']')
        return pm_frame_intern(p, pm_str_intern(p, l.s + 1, l.len - 2), pm_str_intern(p, "", 0), 0,
                               PM_FRAME_NATIVE);
    return pm_frame_intern(p, pm_str_intern(p, l.s, l.len), pm_str_intern(p, "", 0), 0, PM_FRAME_PYTHON);
}

/* The line at *pos, without its line break: [*b, *end), with *d where its
 * trailing digits (the count) start; *pos moves past it.  1 for a stack
 * line, 0 for an empty or comment line.  Both passes read lines this way. */
static int cr_line(const char *s, size_t len, size_t *pos, size_t *b, size_t *end, size_t *d)
{
    size_t i = *pos, e = i;
    while (e < len && s[e] != '\n')
        e++;
    *pos = e + 1;
    *b = i;
    *end = e > i && s[e - 1] == '\r' ? e - 1 : e;
    if (*end == i || s[i] == '#')
        return 0;
    *d = *end;
    while (*d > i && s[*d - 1] >= '0' && s[*d - 1] <= '9')
        (*d)--;
    return 1;
}

pm_profile *pm_read_collapsed(const void *data, size_t len, char *err, size_t errlen)
{
    const char *s = data;
    /* Pass 1: check every line, decide whether the first element is a thread. */
    int first_is_frame = 0, other_is_frame = 0;
    size_t lines = 0;
    for (size_t pos = 0, i, end, d; pos < len;) {
        lines++;
        if (cr_line(s, len, &pos, &i, &end, &d)) {
            if (d == end || d <= i + 1 || s[d - 1] != ' ' || end - d > 18) {
                snprintf(err, errlen, "not collapsed stacks: line %zu does not end with ' COUNT'", lines);
                return NULL;
            }
            size_t k = i, idx = 0;
            while (k < d - 1) {
                size_t q = k;
                while (q < d - 1 && s[q] != ';')
                    q++;
                pm_span l = {s + k, q - k}, a, b;
                int32_t ln;
                int isf = pm_cr_parse_label(l, &a, &b, &ln);
                if (idx == 0)
                    first_is_frame |= isf;
                else
                    other_is_frame |= isf;
                idx++;
                k = q + 1;
            }
        }
    }
    int thread_first = !first_is_frame && other_is_frame;
    pm_profile *p = pm_profile_new();
    pm_id *frames = NULL;
    int32_t *flines = NULL;
    size_t cap = 0;
    if (!p)
        goto oom;
    int ms = pm_metric_add(p, "samples", "count");
    if (ms < 0 || pm_meta_set_str(p, "source", "collapsed") != 0)
        goto oom;
    pm_id all = PM_NONE;
    uint64_t next_ident = 1;
    lines = 0;
    for (size_t pos = 0, i, end, d; pos < len;) {
        lines++;
        if (cr_line(s, len, &pos, &i, &end, &d)) {
            int64_t w = 0;
            for (size_t k = d; k < end; k++)
                w = w * 10 + (s[k] - '0');
            size_t k = i, depth = 0;
            pm_id th = PM_NONE;
            while (k < d - 1) {
                size_t q = k;
                while (q < d - 1 && s[q] != ';')
                    q++;
                pm_span l = {s + k, q - k};
                if (thread_first && th == PM_NONE) {
                    /* Thread by name: threads are found by ident, so keep a
                     * name -> ident mapping through the thread list. */
                    for (uint32_t t = 0; t < pm_thread_count(p) && th == PM_NONE; t++) {
                        size_t nl;
                        const char *nm = pm_str_get(p, pm_thread_at(p, t)->name, &nl);
                        if (nl == l.len && memcmp(nm, l.s, nl) == 0)
                            th = t;
                    }
                    if (th == PM_NONE) {
                        th = pm_thread_get(p, next_ident++, 0);
                        if (th == PM_NONE || pm_thread_set_name(p, th, l.s, l.len) != 0)
                            goto oom;
                    }
                } else {
                    if (depth == cap) {
                        size_t nc = cap ? cap * 2 : 64;
                        pm_id *nf = realloc(frames, nc * sizeof(pm_id));
                        if (!nf)
                            goto oom;
                        frames = nf;
                        int32_t *nl = realloc(flines, nc * sizeof(int32_t));
                        if (!nl)
                            goto oom;
                        flines = nl;
                        cap = nc;
                    }
                    pm_id f = pm_cr_frame(p, l);
                    if (f == PM_NONE)
                        goto oom;
                    frames[depth] = f;
                    flines[depth] = pm_frame_get(p, f)->line;
                    depth++;
                }
                k = q + 1;
            }
            if (th == PM_NONE) {
                if (all == PM_NONE) {
                    all = pm_thread_get(p, next_ident++, 0);
                    if (all == PM_NONE || pm_thread_set_name(p, all, "all", 3) != 0)
                        goto oom;
                }
                th = all;
            }
            pm_id leaf = pm_stack_insert(p, th, frames, flines, depth);
            if (leaf == PM_NONE)
                goto oom;
            pm_node_add(p, leaf, ms, w);
        }
    }
    free(frames);
    free(flines);
    return p;
oom:
    snprintf(err, errlen, "out of memory");
    free(frames);
    free(flines);
    pm_profile_free(p);
    return NULL;
}
