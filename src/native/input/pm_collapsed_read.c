/* pm_collapsed_read.c — collapsed stacks read back ("a;b;c 12" per line), in
 * every dialect the tools that write them use:
 *
 *  - flamegraph.pl's stackcollapse-* (perf script | stackcollapse-perf.pl,
 *    ...), inferno, pyrometer: "frame;frame;... COUNT".  The count is what
 *    flamegraph.pl takes: digits, optionally with decimals; one or more
 *    blanks before it.
 *  - py-spy (record -f raw): frames "name (file:line)", the first element
 *    "thread (TID)" with --threads, and lines with an empty stack (" 22":
 *    samples with no Python frame), which flamegraph.pl and inferno accept.
 *  - Austin: "P<pid>;T<iid>:<tid>;file:function:line;... METRIC" under
 *    "# austin:", "# interval:", "# mode:" header lines; METRIC is the time
 *    in microseconds (wall or cpu mode), a memory delta in bytes (memory
 *    mode), or "time,idle,memory" (full mode); ":GC:" as the last frame marks
 *    a sample taken while the garbage collector ran.
 *
 * What the frames' lines mean: pyrometer writes a function's first line,
 * py-spy and Austin the line running in it.  When one function (name, file)
 * shows up at more than one line (always for Austin), the lines are running
 * lines: the frame gets first line 0 (not known) and the line goes on the
 * node, where the model keeps running lines; meta "lines" says "current",
 * so that a collapsed file written back keeps them (per line).
 *
 * Weights: integer counts become the "samples" metric (count); decimal
 * counts the "weight" metric in millionths (unit "1e-6"), which the
 * collapsed writer prints back as decimals.  Austin's become samples (one
 * per line) plus wall / cpu (ns), memory (bytes, signed deltas), idle and gc
 * (sample counts) as its mode has them.
 *
 * Threads: Austin's P/T pair is the thread; otherwise the first element is a
 * thread name when no line's first element looks like "name (file:line)"
 * while some other element does (pyrometer's, py-spy --threads); otherwise
 * every stack goes to one thread "all".  Blank lines and lines starting
 * with '#' are skipped; any other malformed line is refused with its line
 * number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_strtab.h"
#include "../codec/pm_buf.h"
#include "pm_input.h"

typedef struct {
    const char *s;
    size_t len;
} pm_span;

#define CR_WEIGHT_SCALE 1000000 /* decimal counts: millionths */
#define CR_MAX_METRICS 3        /* Austin full mode: time, idle, memory */

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

/* Austin's "file:function:line" (the file may hold colons, the function
 * does not) -> 1 with the parts; 0 otherwise. */
static int pm_cr_parse_austin(pm_span l, pm_span *name, pm_span *file, int32_t *line)
{
    size_t c2 = l.len;
    while (c2 > 0 && l.s[c2 - 1] != ':')
        c2--;
    if (c2 == 0)
        return 0;
    size_t c1 = c2 - 1;
    while (c1 > 0 && l.s[c1 - 1] != ':')
        c1--;
    if (c1 == 0)
        return 0;
    long v = 0;
    for (size_t i = c2; i < l.len; i++) {
        if (l.s[i] < '0' || l.s[i] > '9' || i - c2 >= 9)
            return 0;
        v = v * 10 + (l.s[i] - '0');
    }
    file->s = l.s;
    file->len = c1 - 1;
    name->s = l.s + c1;
    name->len = c2 - 1 - c1;
    *line = (int32_t)v;
    return 1;
}

static int cr_is_count_char(char c) { return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '-'; }

/* The line at *pos without its line break; *pos moves past it.  Returns 1
 * for a stack line (stack and count token set), 0 for a blank or comment
 * line, -1 when no " COUNT" ends it. */
static int cr_line(const char *s, size_t len, size_t *pos, pm_span *line, pm_span *stack, pm_span *count)
{
    size_t i = *pos, e = i;
    while (e < len && s[e] != '\n')
        e++;
    *pos = e + 1;
    size_t end = e > i && s[e - 1] == '\r' ? e - 1 : e;
    line->s = s + i;
    line->len = end - i;
    if (end == i || s[i] == '#')
        return 0;
    size_t d = end;
    while (d > i && cr_is_count_char(s[d - 1]))
        d--;
    if (d == end || d == i || (s[d - 1] != ' ' && s[d - 1] != '\t') || end - d > 64)
        return -1;
    count->s = s + d;
    count->len = end - d;
    size_t se = d;
    while (se > i && (s[se - 1] == ' ' || s[se - 1] == '\t'))
        se--;
    stack->s = s + i;
    stack->len = se - i;
    return 1;
}

/* A plain count: digits, optionally '.' and decimals.  *v in millionths
 * when scaled, else the integer; *decimal set when a fraction is non-zero.
 * -1 when malformed or too large. */
static int cr_count(pm_span c, int scaled, int64_t *v, int *decimal)
{
    size_t k = 0;
    int64_t ip = 0, frac = 0, fscale = CR_WEIGHT_SCALE;
    size_t ndig = 0;
    for (; k < c.len && c.s[k] >= '0' && c.s[k] <= '9'; k++, ndig++) {
        if (ndig >= 12 && (scaled || ndig >= 18))
            return -1;
        ip = ip * 10 + (c.s[k] - '0');
    }
    if (ndig == 0)
        return -1;
    if (k < c.len) {
        if (c.s[k] != '.')
            return -1;
        for (k++; k < c.len; k++) {
            if (c.s[k] < '0' || c.s[k] > '9')
                return -1;
            if (c.s[k] != '0')
                *decimal = 1;
            if (fscale > 1) {
                fscale /= 10;
                frac += (c.s[k] - '0') * fscale;
            }
        }
    }
    *v = scaled ? ip * CR_WEIGHT_SCALE + frac : ip;
    return 0;
}

/* Austin's metrics: comma-separated signed integers, at most 3. */
static int cr_austin_metrics(pm_span c, int64_t *v, int *n)
{
    *n = 0;
    size_t k = 0;
    while (k <= c.len) {
        int neg = 0;
        if (k < c.len && c.s[k] == '-') {
            neg = 1;
            k++;
        }
        int64_t x = 0;
        size_t nd = 0;
        for (; k < c.len && c.s[k] >= '0' && c.s[k] <= '9'; k++, nd++) {
            if (nd >= 18)
                return -1;
            x = x * 10 + (c.s[k] - '0');
        }
        if (nd == 0 || *n >= CR_MAX_METRICS)
            return -1;
        v[(*n)++] = neg ? -x : x;
        if (k == c.len)
            return 0;
        if (c.s[k] != ',')
            return -1;
        k++;
    }
    return -1;
}

/* "P<digits>;T..." (with or without frames after it): Austin's prefix,
 * its length (up to the ';' after the thread, or the end) in *plen. */
static int cr_austin_prefix(pm_span st, size_t *plen)
{
    size_t k = 1;
    if (st.len < 4 || st.s[0] != 'P')
        return 0;
    while (k < st.len && st.s[k] >= '0' && st.s[k] <= '9')
        k++;
    if (k == 1 || k + 1 >= st.len || st.s[k] != ';' || st.s[k + 1] != 'T')
        return 0;
    k += 2;
    while (k < st.len && st.s[k] != ';')
        k++;
    *plen = k;
    return 1;
}

int pm_sniff_collapsed(const void *data, size_t len)
{
    const char *s = data;
    size_t pos = 0;
    int comments = 0;
    while (pos < len) {
        pm_span line, stack, count;
        int r = cr_line(s, len, &pos, &line, &stack, &count);
        if (r == 0) {
            comments |= line.len > 0;
            continue;
        }
        if (r < 0)
            return 0;
        int has_digit = 0;
        for (size_t k = 0; k < count.len; k++)
            has_digit |= count.s[k] >= '0' && count.s[k] <= '9';
        for (size_t k = 0; k < stack.len; k++)
            if ((unsigned char)stack.s[k] < 0x20 && stack.s[k] != '\t')
                return 0;
        return has_digit && line.s[0] != '{' && line.s[0] != '[';
    }
    /* comment lines only: an empty profile (pm_collapsed.c writes one) */
    return comments && len > 0 && s[0] == '#';
}

typedef struct {
    const pm_profile *p;
    pm_strtab funcs;  /* "name\0file" of each labelled function seen */
    int32_t *line_of; /* per funcs entry: the line first seen */
    uint32_t cap;
    int varied;       /* a function seen at two lines: running lines */
} cr_lines;

static int cr_lines_note(cr_lines *c, pm_span name, pm_span file, int32_t line, pm_buf *kb)
{
    if (c->varied)
        return 0;
    kb->len = 0;
    pm_buf_put(kb, name.s, name.len);
    pm_buf_putc(kb, '\0');
    pm_buf_put(kb, file.s, file.len);
    if (kb->oom)
        return -1;
    uint32_t before = c->funcs.count;
    pm_id id = pm_strtab_intern(&c->funcs, kb->data, kb->len);
    if (id == PM_NONE)
        return -1;
    if (id >= c->cap) {
        uint32_t nc = c->cap ? c->cap * 2 : 256;
        while (nc <= id)
            nc *= 2;
        int32_t *nl = realloc(c->line_of, (size_t)nc * sizeof(int32_t));
        if (!nl)
            return -1;
        c->line_of = nl;
        c->cap = nc;
    }
    if (id >= before)
        c->line_of[id] = line;
    else if (c->line_of[id] != line)
        c->varied = 1;
    return 0;
}

static pm_id pm_cr_frame(pm_profile *p, pm_span l, int austin, int running_lines, int32_t *node_line)
{
    pm_span name, file;
    int32_t line = 0;
    int ok = austin ? pm_cr_parse_austin(l, &name, &file, &line) : pm_cr_parse_label(l, &name, &file, &line);
    *node_line = 0;
    if (ok) {
        *node_line = line;
        return pm_frame_intern(p, pm_str_intern(p, name.s, name.len), pm_str_intern(p, file.s, file.len),
                               running_lines ? 0 : line, PM_FRAME_PYTHON);
    }
    if (l.len >= 2 && l.s[0] == '[' && l.s[l.len - 1] == ']')
        return pm_frame_intern(p, pm_str_intern(p, l.s + 1, l.len - 2), pm_str_intern(p, "", 0), 0,
                               PM_FRAME_NATIVE);
    return pm_frame_intern(p, pm_str_intern(p, l.s, l.len), pm_str_intern(p, "", 0), 0, PM_FRAME_PYTHON);
}

/* Austin's header "# key: value" -> value, or an empty span. */
static pm_span cr_header(pm_span line, const char *key)
{
    pm_span v = {NULL, 0};
    size_t kl = strlen(key);
    if (line.len > kl + 2 && line.s[0] == '#' && line.s[1] == ' ' && memcmp(line.s + 2, key, kl) == 0 &&
        line.s[2 + kl] == ':') {
        size_t k = 3 + kl;
        while (k < line.len && line.s[k] == ' ')
            k++;
        v.s = line.s + k;
        v.len = line.len - k;
    }
    return v;
}

static int cr_span_is(pm_span v, const char *s) { return v.len == strlen(s) && memcmp(v.s, s, v.len) == 0; }

pm_profile *pm_read_collapsed(const void *data, size_t len, char *err, size_t errlen)
{
    const char *s = data;
    pm_profile *p = NULL;
    pm_id *frames = NULL;
    int32_t *flines = NULL;
    size_t cap = 0;
    pm_buf kb;
    pm_buf_init(&kb);
    cr_lines cl;
    memset(&cl, 0, sizeof cl);
    pm_strtab_init(&cl.funcs);

    /* Pass 1: check every line; the dialect, the threads, the lines. */
    int first_is_frame = 0, other_is_frame = 0, decimal = 0, austin_header = 0, austin_gc = 0;
    size_t lines = 0, stack_lines = 0, austin_lines = 0, first_bad_austin = 0;
    pm_span austin_mode = {NULL, 0}, austin_interval = {NULL, 0};
    for (size_t pos = 0; pos < len;) {
        pm_span line, st, count;
        lines++;
        int r = cr_line(s, len, &pos, &line, &st, &count);
        if (r == 0) {
            if (cr_header(line, "austin").len)
                austin_header = 1;
            pm_span v = cr_header(line, "mode");
            if (v.len)
                austin_mode = v;
            v = cr_header(line, "interval");
            if (v.len)
                austin_interval = v;
            continue;
        }
        if (r < 0) {
            snprintf(err, errlen, "not collapsed stacks: line %zu does not end with ' COUNT'", lines);
            goto fail;
        }
        stack_lines++;
        size_t plen;
        if (cr_austin_prefix(st, &plen)) {
            austin_lines++;
            if (st.len >= 5 && memcmp(st.s + st.len - 5, ";:GC:", 5) == 0)
                austin_gc = 1;
            continue; /* checked in pass 2, once the dialect is known */
        }
        if (!first_bad_austin)
            first_bad_austin = lines;
        int64_t v;
        if (cr_count(count, 0, &v, &decimal) != 0) {
            /* not a plain count: maybe Austin's "time,idle,memory" */
            if (!austin_header) {
                snprintf(err, errlen, "not collapsed stacks: line %zu: the count '%.*s' is not a number", lines,
                         (int)(count.len < 40 ? count.len : 40), count.s);
                goto fail;
            }
        }
        size_t k = 0, idx = 0;
        while (k < st.len) {
            size_t q = k;
            while (q < st.len && st.s[q] != ';')
                q++;
            pm_span l = {st.s + k, q - k}, a, b;
            int32_t ln;
            int isf = pm_cr_parse_label(l, &a, &b, &ln);
            if (isf && cr_lines_note(&cl, a, b, ln, &kb) != 0)
                goto oom;
            if (idx == 0)
                first_is_frame |= isf;
            else
                other_is_frame |= isf;
            idx++;
            k = q + 1;
        }
    }
    int austin = stack_lines > 0 ? austin_lines == stack_lines : austin_header;
    if (austin_header && !austin) {
        snprintf(err, errlen, "bad Austin file: line %zu is not a 'P<pid>;T<thread>;...' sample", first_bad_austin);
        goto fail;
    }
    int thread_first = !austin && !first_is_frame && other_is_frame;
    int running_lines = austin || cl.varied;

    p = pm_profile_new();
    if (!p)
        goto oom;
    /* metrics */
    int ms = -1, mw = -1, mcpu = -1, mmem = -1, midle = -1, mgc = -1, mweight = -1;
    int a_time = 0, a_mem = 0, a_full = 0;
    if (austin) {
        a_full = cr_span_is(austin_mode, "full");
        a_mem = cr_span_is(austin_mode, "memory");
        a_time = !a_full && !a_mem; /* wall, cpu, or no header */
        ms = pm_metric_add(p, "samples", "count");
        if (a_full || (a_time && !cr_span_is(austin_mode, "cpu")))
            mw = pm_metric_add(p, "wall", "nanoseconds");
        if (a_full || (a_time && cr_span_is(austin_mode, "cpu")))
            mcpu = pm_metric_add(p, "cpu", "nanoseconds");
        if (a_full || a_mem)
            mmem = pm_metric_add(p, "memory", "bytes");
        if (a_full)
            midle = pm_metric_add(p, "idle", "count");
        if (austin_gc && (mgc = pm_metric_add(p, "gc", "count")) < 0)
            goto oom;
        if (ms < 0 || (a_time && mw < 0 && mcpu < 0) || ((a_full || a_mem) && mmem < 0) || (a_full && midle < 0))
            goto oom;
        const char *mode = cr_span_is(austin_mode, "cpu") ? "cpu" : a_mem ? "memory" : "wall";
        if (pm_meta_set_str(p, "source", "austin") != 0 || pm_meta_set_str(p, "mode", mode) != 0)
            goto oom;
        if (austin_interval.len) {
            int64_t us = 0;
            int dec = 0;
            if (cr_count(austin_interval, 0, &us, &dec) == 0 && us > 0 &&
                pm_meta_set_num(p, "rate_hz", 1e6 / (double)us) != 0)
                goto oom;
        }
    } else if (decimal) {
        mweight = pm_metric_add(p, "weight", "1e-6");
        if (mweight < 0 || pm_meta_set_str(p, "source", "collapsed") != 0)
            goto oom;
    } else {
        ms = pm_metric_add(p, "samples", "count");
        if (ms < 0 || pm_meta_set_str(p, "source", "collapsed") != 0)
            goto oom;
    }
    if (running_lines && pm_meta_set_str(p, "lines", "current") != 0)
        goto oom;
    /* No thread column (flamegraph.pl's, py-spy's without --threads): the
     * collapsed writer leaves it out again. */
    if (!austin && !thread_first && pm_meta_set_str(p, "thread_column", "no") != 0)
        goto oom;

    /* Pass 2: the stacks. */
    pm_id all = PM_NONE;
    uint64_t next_ident = 1;
    lines = 0;
    for (size_t pos = 0; pos < len;) {
        pm_span line, st, count;
        lines++;
        if (cr_line(s, len, &pos, &line, &st, &count) != 1)
            continue;
        int64_t mv[CR_MAX_METRICS] = {0, 0, 0};
        int nm = 0, dec = 0;
        size_t k = 0, depth = 0;
        pm_id th = PM_NONE;
        int gc = 0;
        if (austin) {
            if (cr_austin_metrics(count, mv, &nm) != 0 || nm != (a_full ? 3 : 1)) {
                snprintf(err, errlen, "bad Austin file: line %zu: the metric '%.*s' is not %s", lines,
                         (int)(count.len < 40 ? count.len : 40), count.s,
                         a_full ? "time,idle,memory" : "one number");
                goto fail;
            }
            size_t plen = 0;
            cr_austin_prefix(st, &plen);
            /* The process and thread: "P<pid>;T<iid>:<tid>" -> "P<pid> T<iid>:<tid>". */
            kb.len = 0;
            for (size_t c = 0; c < plen; c++)
                pm_buf_putc(&kb, st.s[c] == ';' ? ' ' : st.s[c]);
            if (kb.oom)
                goto oom;
            for (uint32_t t = 0; t < pm_thread_count(p) && th == PM_NONE; t++) {
                size_t nl;
                const char *nm2 = pm_str_get(p, pm_thread_at(p, t)->name, &nl);
                if (nl == kb.len && memcmp(nm2, kb.data, nl) == 0)
                    th = t;
            }
            if (th == PM_NONE) {
                uint64_t tid = 0;
                size_t c = plen;
                while (c > 0 && st.s[c - 1] >= '0' && st.s[c - 1] <= '9')
                    c--;
                if (c > 0 && st.s[c - 1] == ':' && plen - c < 19)
                    for (size_t q = c; q < plen; q++)
                        tid = tid * 10 + (uint64_t)(st.s[q] - '0');
                th = pm_thread_get(p, next_ident++, tid);
                if (th == PM_NONE || pm_thread_set_name(p, th, kb.data, kb.len) != 0)
                    goto oom;
            }
            k = plen + 1;
        } else if (cr_count(count, decimal, &mv[0], &dec) != 0) {
            snprintf(err, errlen, "not collapsed stacks: line %zu: the count is not a number", lines);
            goto fail;
        }
        while (k < st.len) {
            size_t q = k;
            while (q < st.len && st.s[q] != ';')
                q++;
            pm_span l = {st.s + k, q - k};
            k = q + 1;
            if (austin && q == st.len && cr_span_is(l, ":GC:")) {
                gc = 1; /* not a frame: the sample counts as taken during GC */
                continue;
            }
            if (thread_first && th == PM_NONE) {
                /* Thread by name: threads are found by ident, so keep a
                 * name -> ident mapping through the thread list. */
                for (uint32_t t = 0; t < pm_thread_count(p) && th == PM_NONE; t++) {
                    size_t nl;
                    const char *nm2 = pm_str_get(p, pm_thread_at(p, t)->name, &nl);
                    if (nl == l.len && memcmp(nm2, l.s, nl) == 0)
                        th = t;
                }
                if (th == PM_NONE) {
                    th = pm_thread_get(p, next_ident++, 0);
                    if (th == PM_NONE || pm_thread_set_name(p, th, l.s, l.len) != 0)
                        goto oom;
                }
                continue;
            }
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
            int32_t node_line = 0;
            pm_id f = pm_cr_frame(p, l, austin, running_lines, &node_line);
            if (f == PM_NONE)
                goto oom;
            frames[depth] = f;
            flines[depth] = running_lines ? node_line : pm_frame_get(p, f)->line;
            depth++;
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
        if (!austin) {
            pm_node_add(p, leaf, decimal ? mweight : ms, mv[0]);
            continue;
        }
        pm_node_add(p, leaf, ms, 1);
        if (gc)
            pm_node_add(p, leaf, mgc, 1);
        if (a_full) {
            int idle = mv[1] != 0;
            pm_node_add(p, leaf, mw, mv[0] * 1000);
            if (!idle)
                pm_node_add(p, leaf, mcpu, mv[0] * 1000);
            pm_node_add(p, leaf, midle, idle);
            pm_node_add(p, leaf, mmem, mv[2]);
        } else if (a_mem) {
            pm_node_add(p, leaf, mmem, mv[0]);
        } else {
            pm_node_add(p, leaf, mw >= 0 ? mw : mcpu, mv[0] * 1000);
        }
    }
    free(frames);
    free(flines);
    free(cl.line_of);
    pm_strtab_free(&cl.funcs);
    pm_buf_free(&kb);
    return p;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(frames);
    free(flines);
    free(cl.line_of);
    pm_strtab_free(&cl.funcs);
    pm_buf_free(&kb);
    pm_profile_free(p);
    return NULL;
}
