/* pm_collapsed.c — collapsed stacks ("thread;outer;...;leaf WEIGHT"), the
 * input format of flamegraph.pl, speedscope, inferno and friends.
 *
 * Several nodes can print as the same line: with per_line == 0 the nodes
 * of one function at different lines share a label, and two frames can
 * share a label after sanitising.  A line must appear once with the summed
 * weight, so labels are interned and the trie is re-merged on (merged
 * parent, label) before printing; lines come in order of first appearance. */
#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"
#include "../model/pm_idmap.h"
#include "../model/pm_strtab.h"
#include "pm_outcommon.h"
#include "pm_output.h"

typedef struct {
    pm_id parent;  /* merged parent */
    pm_id label;   /* label id */
} pm_cl_node;

typedef struct {
    const pm_profile *p;
    int per_line;
    int micro; /* the metric counts millionths (unit "1e-6"): decimals */
    int no_threads; /* read from a file with no thread column: none written */
    pm_strtab labels;
    pm_buf scratch;
    pm_cl_node *mn;
    int64_t *weight;
    uint32_t mcount;
    pm_idmap map;
    pm_id *frame_label;   /* per frame, when !per_line */
    /* per_line: (frame, line) -> label, so each distinct pair is formatted
     * and hashed as a string once rather than once per node. */
    pm_idmap pair_map;
    pm_id *pair_frame;
    int32_t *pair_line;
    pm_id *pair_label;
    uint32_t npairs, pairs_cap;
    const char **label_ptr;
    size_t *label_len;
} pm_cl;

/* Appends s with the line structure protected: ';' separates frames and
 * a newline separates stacks, so neither may appear inside a label. */
static void pm_cl_put_clean(pm_buf *b, const char *s, size_t len)
{
    char *w = pm_buf_reserve(b, len);
    if (!w)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        w[i] = c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c;
    }
    b->len += len;
}

static void pm_cl_put_str(pm_buf *b, const pm_profile *p, pm_id id)
{
    size_t len;
    const char *s = pm_str_get(p, id, &len);
    if (s)
        pm_cl_put_clean(b, s, len);
}

/* The label of a frame at a line, into c->scratch. */
static void pm_cl_frame_label(pm_cl *c, pm_id frame, int32_t line)
{
    const pm_frame *f = pm_frame_get(c->p, frame);
    pm_buf *b = &c->scratch;
    b->len = 0;
    size_t flen;
    pm_str_get(c->p, f->file, &flen);
    if (f->kind == PM_FRAME_SPECIAL) {
        pm_cl_put_str(b, c->p, f->name);
    } else if (f->kind == PM_FRAME_NATIVE && flen == 0) {
        pm_buf_putc(b, '[');
        pm_cl_put_str(b, c->p, f->name);
        pm_buf_putc(b, ']');
    } else if (flen == 0 && line == 0) {
        pm_cl_put_str(b, c->p, f->name); /* a bare name (perf, stackcollapse-*): as read */
    } else {
        pm_cl_put_str(b, c->p, f->name);
        pm_buf_puts(b, " (");
        pm_cl_put_str(b, c->p, f->file);
        pm_buf_putc(b, ':');
        pm_buf_put_i64(b, line);
        pm_buf_putc(b, ')');
    }
}

/* A weight; in millionths (decimal counts read from another tool's
 * collapsed file) it is written back as the decimal it was. */
static void pm_cl_put_weight(pm_buf *b, int64_t v, int micro)
{
    if (!micro || v < 0) {
        pm_buf_put_i64(b, v);
        return;
    }
    pm_buf_put_i64(b, v / 1000000);
    int64_t frac = v % 1000000;
    if (!frac)
        return;
    char digits[8];
    int n = 6;
    for (int k = 5; k >= 0; k--, frac /= 10)
        digits[k] = (char)('0' + frac % 10);
    while (n > 0 && digits[n - 1] == '0')
        n--;
    pm_buf_putc(b, '.');
    pm_buf_put(b, digits, (size_t)n);
}

static void pm_cl_thread_label(pm_cl *c, pm_id thread)
{
    const pm_thread *t = pm_thread_at(c->p, thread);
    pm_buf *b = &c->scratch;
    b->len = 0;
    size_t len;
    pm_str_get(c->p, t->name, &len);
    if (len > 0) {
        pm_cl_put_str(b, c->p, t->name);
    } else {
        pm_buf_puts(b, "thread ");
        pm_buf_put_u64(b, t->ident);
    }
}

static pm_id pm_cl_intern_scratch(pm_cl *c)
{
    if (c->scratch.oom)
        return PM_NONE;
    return pm_strtab_intern(&c->labels, c->scratch.data ? c->scratch.data : "", c->scratch.len);
}

static pm_id pm_cl_pair_label(pm_cl *c, pm_id frame, int32_t line)
{
    uint32_t h = pm_hash_ids3(frame, (uint32_t)line, 0x11);
    if (c->pair_map.cap) {
        uint32_t mask = c->pair_map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &c->pair_map.slots[i];
            if (s->id == PM_NONE)
                break;
            if (s->hash == h && c->pair_frame[s->id] == frame && c->pair_line[s->id] == line)
                return c->pair_label[s->id];
        }
    }
    if (c->npairs == c->pairs_cap) {
        uint32_t ncap = c->pairs_cap ? c->pairs_cap * 2 : 256;
        pm_id *nf = realloc(c->pair_frame, (size_t)ncap * sizeof(pm_id));
        if (!nf)
            return PM_NONE;
        c->pair_frame = nf;
        int32_t *nl = realloc(c->pair_line, (size_t)ncap * sizeof(int32_t));
        if (!nl)
            return PM_NONE;
        c->pair_line = nl;
        pm_id *nb = realloc(c->pair_label, (size_t)ncap * sizeof(pm_id));
        if (!nb)
            return PM_NONE;
        c->pair_label = nb;
        c->pairs_cap = ncap;
    }
    if (pm_idmap_reserve_one(&c->pair_map) != 0)
        return PM_NONE;
    pm_cl_frame_label(c, frame, line);
    pm_id label = pm_cl_intern_scratch(c);
    if (label == PM_NONE)
        return PM_NONE;
    pm_id id = c->npairs++;
    c->pair_frame[id] = frame;
    c->pair_line[id] = line;
    c->pair_label[id] = label;
    pm_idmap_insert(&c->pair_map, h, id);
    return label;
}

/* The merged node for (parent, label), created if absent. */
static pm_id pm_cl_child(pm_cl *c, pm_id parent, pm_id label)
{
    uint32_t h = pm_hash_ids3(parent, label, 0);
    if (c->map.cap) {
        uint32_t mask = c->map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &c->map.slots[i];
            if (s->id == PM_NONE)
                break;
            if (s->hash == h && c->mn[s->id].parent == parent && c->mn[s->id].label == label)
                return s->id;
        }
    }
    if (pm_idmap_reserve_one(&c->map) != 0)
        return PM_NONE;
    /* mn and weight were sized for one merged node per node: no growth. */
    pm_id id = c->mcount++;
    c->mn[id].parent = parent;
    c->mn[id].label = label;
    c->weight[id] = 0;
    pm_idmap_insert(&c->map, h, id);
    return id;
}

static int pm_cl_build(pm_cl *c, int m, pm_id *map)
{
    const pm_profile *p = c->p;
    uint32_t n = pm_node_count(p);
    if (!c->per_line) {
        for (uint32_t f = 0; f < pm_frame_count(p); f++) {
            pm_cl_frame_label(c, f, pm_frame_get(p, f)->line);
            if ((c->frame_label[f] = pm_cl_intern_scratch(c)) == PM_NONE)
                return -1;
        }
    }
    /* Merged node 0 is the root.  Nodes come after their parents, so one
     * forward pass maps every node. */
    c->mn[0].parent = PM_NONE;
    c->mn[0].label = PM_NONE;
    c->weight[0] = 0;
    c->mcount = 1;
    map[0] = 0;
    for (uint32_t i = 1; i < n; i++) {
        const pm_node *nd = pm_node_get(p, i);
        pm_id label;
        if (nd->frame == PM_NONE) {
            pm_cl_thread_label(c, nd->thread);
            label = pm_cl_intern_scratch(c);
        } else if (!c->per_line) {
            label = c->frame_label[nd->frame];
        } else {
            label = pm_cl_pair_label(c, nd->frame, nd->line);
        }
        if (label == PM_NONE)
            return -1;
        pm_id mid = pm_cl_child(c, map[nd->parent], label);
        if (mid == PM_NONE)
            return -1;
        map[i] = mid;
        int64_t *w = &c->weight[mid];
        *w = (int64_t)((uint64_t)*w + (uint64_t)pm_node_value(p, i, m));
    }
    return 0;
}

#define PM_CL_NUM_MAX 24

static int pm_cl_print(pm_cl *c, pm_buf *out)
{
    /* Label pointers and lengths in flat arrays for the copy loop. */
    uint32_t nl = c->labels.count;
    c->label_ptr = malloc(((size_t)nl + 1) * sizeof(const char *));
    c->label_len = malloc(((size_t)nl + 1) * sizeof(size_t));
    if (!c->label_ptr || !c->label_len)
        return -1;
    for (uint32_t l = 0; l < nl; l++)
        c->label_ptr[l] = pm_strtab_get(&c->labels, l, &c->label_len[l]);
    /* Path of label ids, leaf first; reused across lines. */
    pm_id *path = NULL;
    size_t cap = 0;
    for (uint32_t i = 1; i < c->mcount; i++) {
        if (c->weight[i] == 0)
            continue;
        size_t depth = 0;
        for (pm_id j = i; j != 0; j = c->mn[j].parent) {
            if (depth == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                pm_id *np = realloc(path, ncap * sizeof(pm_id));
                if (!np) {
                    free(path);
                    return -1;
                }
                path = np;
                cap = ncap;
            }
            path[depth++] = c->mn[j].label;
        }
        /* Size the line, reserve once, then copy. */
        size_t need = PM_CL_NUM_MAX + 3;
        for (size_t k = 0; k < depth; k++)
            need += c->label_len[path[k]] + 1;
        char *w = pm_buf_reserve(out, need);
        if (!w)
            break;
        char *start = w;
        /* The outermost label is the thread's, left out when the source
         * had none; an empty stack is then " COUNT", as py-spy writes it. */
        size_t d = c->no_threads && depth ? depth - 1 : depth;
        if (d == 0)
            *w++ = ' ';
        while (d-- > 0) {
            pm_id l = path[d];
            memcpy(w, c->label_ptr[l], c->label_len[l]);
            w += c->label_len[l];
            *w++ = d ? ';' : ' ';
        }
        out->len += (size_t)(w - start);
        pm_cl_put_weight(out, c->weight[i], c->micro);
        pm_buf_putc(out, '\n');
    }
    free(path);
    return out->oom ? -1 : 0;
}

int pm_write_collapsed(const pm_profile *p, int m, int per_line, pm_buf *out)
{
    if (m < 0 || m >= pm_metric_count(p))
        return -1;
    size_t ulen;
    const char *unit = pm_str_get(p, pm_metric_get(p, m)->unit, &ulen);
    uint32_t n = pm_node_count(p);
    pm_cl c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.per_line = per_line;
    c.micro = unit && ulen == 4 && memcmp(unit, "1e-6", 4) == 0;
    size_t tclen;
    const char *tc = pm_out_meta_str(p, "thread_column", &tclen);
    c.no_threads = tc && tclen == 2 && memcmp(tc, "no", 2) == 0 && pm_thread_count(p) == 1;
    pm_strtab_init(&c.labels);
    pm_buf_init(&c.scratch);
    pm_idmap_init(&c.map);
    pm_idmap_init(&c.pair_map);
    c.mn = malloc((size_t)n * sizeof(pm_cl_node));
    c.weight = malloc((size_t)n * sizeof(int64_t));
    c.frame_label = malloc(((size_t)pm_frame_count(p) + 1) * sizeof(pm_id));
    pm_id *map = malloc((size_t)n * sizeof(pm_id));
    int rc = -1;
    size_t before = out->len;
    if (c.mn && c.weight && c.frame_label && map && pm_cl_build(&c, m, map) == 0)
        rc = pm_cl_print(&c, out);
    /* No stack at all: a comment line, not 0 bytes, so the file reads back
     * as collapsed stacks (the reader skips '#' lines; an empty file could
     * be anything). */
    if (rc == 0 && out->len == before)
        pm_buf_puts(out, "# collapsed stacks: the profile has no samples\n");
    free(map);
    free(c.mn);
    free(c.weight);
    free(c.frame_label);
    pm_idmap_free(&c.map);
    pm_idmap_free(&c.pair_map);
    free(c.pair_frame);
    free(c.pair_line);
    free(c.pair_label);
    free(c.label_ptr);
    free(c.label_len);
    pm_buf_free(&c.scratch);
    pm_strtab_free(&c.labels);
    return rc;
}
