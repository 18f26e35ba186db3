/* pm_importtime_read.c — `python -X importtime` logs read into the model.
 *
 * The interpreter prints, on stderr, one line per import as it *ends*:
 *
 *     import time: self [us] | cumulative | imported package
 *     import time:       345 |        345 |   _io
 *     import time:      1210 |       1555 | encodings
 *
 * The name is indented two spaces per nesting level below the import that
 * caused it, and children come before their parent (post-order).  Read
 * backwards, every parent comes before its children (pre-order of the
 * mirrored tree), so one backward pass with a stack per level builds the
 * trie: the parent of an entry at level L is the last entry seen at L-1.
 * Only self times are stored (cumulative = self + descendants, which the
 * model derives); the cumulative column is checked to be at least the self
 * one, to refuse a log whose columns mean something else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_input.h"

#define IT_PREFIX "import time:"
#define IT_MAX_DEPTH 4096

typedef struct {
    const char *name;
    size_t len;
    int level;
    long long self_us;
    size_t line_no;
} pm_it_entry;

static const char *line_end(const char *s, const char *end)
{
    const char *e = memchr(s, '\n', (size_t)(end - s));
    return e ? e : end;
}

int pm_sniff_importtime(const void *data, size_t len)
{
    const char *s = data, *end = s + len;
    while (s < end && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t'))
        s++;
    return (size_t)(end - s) >= sizeof IT_PREFIX - 1 && memcmp(s, IT_PREFIX, sizeof IT_PREFIX - 1) == 0;
}

/* Digits (blanks around them allowed) into *v; 0, or -1. */
static int parse_num(const char *s, const char *e, long long *v)
{
    while (s < e && *s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        e--;
    if (s == e || e - s > 18)
        return -1;
    long long n = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (*s - '0');
    }
    *v = n;
    return 0;
}

/* One "import time:" line (after the prefix) into *out; 1 entry, 0 the
 * header line, -1 malformed. */
static int parse_line(const char *s, const char *e, pm_it_entry *out)
{
    if (e > s && e[-1] == '\r')
        e--;
    const char *bar1 = memchr(s, '|', (size_t)(e - s));
    const char *bar2 = bar1 ? memchr(bar1 + 1, '|', (size_t)(e - bar1 - 1)) : NULL;
    if (!bar2)
        return -1;
    long long self_us, cum_us;
    if (parse_num(s, bar1, &self_us) < 0 || parse_num(bar1 + 1, bar2, &cum_us) < 0) {
        const char *h = s;
        while (h < bar1 && *h == ' ')
            h++;
        return (size_t)(bar1 - h) >= 4 && memcmp(h, "self", 4) == 0 ? 0 : -1;
    }
    if (cum_us < self_us)
        return -1;
    const char *n = bar2 + 1;
    size_t spaces = 0;
    while (n + spaces < e && n[spaces] == ' ')
        spaces++;
    /* One blank after the bar, then two per level. */
    if (spaces < 1 || (spaces - 1) % 2 != 0 || n + spaces == e)
        return -1;
    out->level = (int)((spaces - 1) / 2);
    out->name = n + spaces;
    out->len = (size_t)(e - out->name);
    out->self_us = self_us;
    return 1;
}

pm_profile *pm_read_importtime(const void *data, size_t len, char *err, size_t errlen)
{
    const char *s = data, *end = s + len;
    pm_it_entry *ents = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    pm_profile *p = NULL;
    pm_id *stack = NULL;
    while (s < end) {
        const char *e = line_end(s, end);
        line_no++;
        if ((size_t)(e - s) >= sizeof IT_PREFIX - 1 && memcmp(s, IT_PREFIX, sizeof IT_PREFIX - 1) == 0) {
            pm_it_entry ent;
            int rc = parse_line(s + sizeof IT_PREFIX - 1, e, &ent);
            if (rc < 0 || (rc > 0 && ent.level >= IT_MAX_DEPTH)) {
                snprintf(err, errlen, "line %zu: not a -X importtime line (\"self | cumulative | module\")", line_no);
                goto fail;
            }
            if (rc > 0) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 256;
                    pm_it_entry *ne = realloc(ents, nc * sizeof *ne);
                    if (!ne)
                        goto oom;
                    ents = ne;
                    cap = nc;
                }
                ent.line_no = line_no;
                ents[n++] = ent;
            }
        }
        s = e < end ? e + 1 : end;
    }
    if (n == 0) {
        snprintf(err, errlen, "no import found: not a python -X importtime log");
        goto fail;
    }
    p = pm_profile_new();
    stack = malloc(IT_MAX_DEPTH * sizeof(pm_id));
    if (!p || !stack)
        goto oom;
    int m = pm_metric_add(p, "time", "nanoseconds");
    /* Not "": the report folds frames without a file as library code. */
    pm_id th = pm_thread_get(p, 1, 0), file = pm_str_intern_cstr(p, "<import>");
    if (m < 0 || th == PM_NONE || file == PM_NONE || pm_thread_set_name(p, th, "imports", 7) < 0)
        goto oom;
    pm_id root = pm_thread_at(p, th)->root;
    int top = -1; /* deepest level with a node on the stack */
    for (size_t i = n; i-- > 0;) {
        pm_it_entry *en = &ents[i];
        /* A level deeper than its parent's + 1 (a truncated log) hangs at
         * the deepest ancestor there is. */
        int lv = en->level > top + 1 ? top + 1 : en->level;
        pm_id parent = lv == 0 ? root : stack[lv - 1];
        pm_id name = pm_str_intern(p, en->name, en->len);
        pm_id fr = name == PM_NONE ? PM_NONE : pm_frame_intern(p, name, file, 0, PM_FRAME_PYTHON);
        pm_id node = fr == PM_NONE ? PM_NONE : pm_node_child(p, parent, fr, 0);
        if (node == PM_NONE)
            goto oom;
        pm_node_add(p, node, m, en->self_us * 1000);
        stack[lv] = node;
        top = lv;
    }
    if (pm_meta_set_str(p, "mode", "imports") < 0 || pm_meta_set_str(p, "source_format", "importtime") < 0)
        goto oom;
    free(ents);
    free(stack);
    return p;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(ents);
    free(stack);
    if (p)
        pm_profile_free(p);
    return NULL;
}
