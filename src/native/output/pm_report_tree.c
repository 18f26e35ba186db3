/* pm_report_tree.c — the per-thread call trees of the terminal report.
 *
 * The model's trie distinguishes lines (one node per (parent, frame, line));
 * a reader wants functions.  So the trie is first re-merged on (merged
 * parent, frame) — "rnodes" — recursively, which is one forward pass since
 * nodes follow their parents.  Then, per thread, heaviest first, the tree is
 * drawn with an explicit stack (a deep recursion cannot overflow anything):
 *
 *   - children sorted by total, descending;
 *   - children below threshold_pct of the thread total are hidden and
 *     summarised per parent as "[N frames hidden, X%]" (N counts every
 *     frame in the hidden subtrees); subtrees deeper than PM_REP_MAX_DEPTH
 *     likewise, so a 10,000-deep recursion prints a bounded report;
 *   - a run of two or more library frames, each the only visible child of
 *     the previous, becomes one "[N library frames: modA, modB]" line, and so
 *     does a lone library frame under library code (the rest of a run a branch
 *     split); any other lone library frame keeps its name: collapsing it would hide more than
 *     it saves);
 *   - show_all disables hiding, collapsing and the depth limit;
 *   - subtrees whose total is zero carry nothing for this metric and are
 *     left out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"
#include "../model/pm_idmap.h"
#include "../codec/pm_num.h"
#include "pm_outcommon.h"
#include "pm_report_cells.h"
#include "pm_report_tree.h"
#include "pm_text.h"

#define PM_REP_MAX_DEPTH 200
#define PM_REP_MAX_MODULES 4

/* The merged tree. */
typedef struct {
    uint32_t n;
    pm_id *parent;
    pm_id *frame;
    int64_t *self;
    int64_t *total;
    uint32_t *hidden_n;   /* rnodes with a nonzero total in the subtree */
    uint32_t *kid_begin;  /* children: kids[kid_begin[r] .. kid_begin[r+1]) */
    pm_id *kids;
    pm_idmap map;
    pm_id *thread_rnode;  /* per thread */
    unsigned char *lib;   /* per frame: library code */
} pm_rt;

typedef struct {
    int hidden;          /* a "[N frames hidden]" summary rather than a node */
    pm_id node;
    uint32_t count;
    int64_t value;
} pm_rt_item;

typedef struct {
    size_t begin, end, next; /* range in the item stack */
    size_t prefix_len;       /* bytes of the tree prefix for these items */
    int depth;
} pm_rt_level;

#define PM_RT_STATES 4

typedef struct {
    pm_rep *r;
    pm_rt *t;
    int64_t thread_total;
    int has_wait;            /* the states' GIL waiting figure was measured (wall mode, probes made) */
    int64_t *states;         /* per thread (PM_RT_STATES each): samples, those holding the GIL, those in
                                the GC, those waiting for the GIL (estimated); or NULL */
    pm_rt_item *items;
    size_t nitems, items_cap;
    pm_rt_level *levels;
    size_t nlevels, levels_cap;
    pm_id *chain;
    size_t nchain, chain_cap;
    pm_buf prefix;
} pm_rt_draw;

static void pm_rt_free(pm_rt *t)
{
    free(t->parent);
    free(t->frame);
    free(t->self);
    free(t->total);
    free(t->hidden_n);
    free(t->kid_begin);
    free(t->kids);
    free(t->thread_rnode);
    free(t->lib);
    pm_idmap_free(&t->map);
}

static int pm_rt_starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n <= len && memcmp(s, prefix, n) == 0;
}

static int pm_rt_is_library(const pm_rep *r, const pm_frame *f)
{
    if (f->kind == PM_FRAME_SPECIAL)
        return 0;
    size_t len;
    const char *file = pm_str_get(r->p, f->file, &len);
    if (len == 0 || pm_rt_starts_with(file, len, "<frozen"))
        return 1;
    for (size_t i = 0; i < r->o->n_library_prefixes; i++) {
        const char *pre = r->o->library_prefixes[i];
        if (pre && *pre && pm_rt_starts_with(file, len, pre))
            return 1;
    }
    return 0;
}

static pm_id pm_rt_child(pm_rt *t, pm_id parent, pm_id frame)
{
    uint32_t h = pm_hash_ids3(parent, frame, 0x5eed);
    if (t->map.cap) {
        uint32_t mask = t->map.cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            const pm_idslot *s = &t->map.slots[i];
            if (s->id == PM_NONE)
                break;
            if (s->hash == h && t->parent[s->id] == parent && t->frame[s->id] == frame)
                return s->id;
        }
    }
    if (pm_idmap_reserve_one(&t->map) != 0)
        return PM_NONE;
    pm_id id = t->n++;
    t->parent[id] = parent;
    t->frame[id] = frame;
    t->self[id] = 0;
    pm_idmap_insert(&t->map, h, id);
    return id;
}

typedef struct {
    pm_id id;
    int64_t total;
} pm_rt_sortkey;

/* Siblings: total descending, then creation order. */
static int pm_rt_cmp(const void *a, const void *b)
{
    const pm_rt_sortkey *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int pm_rt_build(pm_rt *t, const pm_rep *r)
{
    const pm_profile *p = r->p;
    uint32_t nn = pm_node_count(p);
    uint32_t nf = pm_frame_count(p);
    memset(t, 0, sizeof *t);
    pm_idmap_init(&t->map);
    t->parent = malloc((size_t)nn * sizeof(pm_id));
    t->frame = malloc((size_t)nn * sizeof(pm_id));
    t->self = malloc((size_t)nn * sizeof(int64_t));
    t->total = malloc((size_t)nn * sizeof(int64_t));
    t->hidden_n = malloc((size_t)nn * sizeof(uint32_t));
    t->kid_begin = malloc(((size_t)nn + 1) * sizeof(uint32_t));
    t->kids = malloc((size_t)nn * sizeof(pm_id));
    t->thread_rnode = malloc(((size_t)pm_thread_count(p) + 1) * sizeof(pm_id));
    t->lib = malloc((size_t)nf + 1);
    pm_id *map = malloc((size_t)nn * sizeof(pm_id));
    pm_rt_sortkey *keys = malloc((size_t)nn * sizeof(pm_rt_sortkey));
    int rc = -1;
    if (!t->parent || !t->frame || !t->self || !t->total || !t->hidden_n || !t->kid_begin || !t->kids ||
        !t->thread_rnode || !t->lib || !map || !keys)
        goto done;
    for (uint32_t f = 0; f < nf; f++)
        t->lib[f] = (unsigned char)pm_rt_is_library(r, pm_frame_get(p, f));

    /* rnode 0 = the root; each thread root its own rnode; every other node
     * merges with its siblings of the same frame. */
    t->n = 1;
    t->parent[0] = PM_NONE;
    t->frame[0] = PM_NONE;
    t->self[0] = pm_node_value(p, 0, r->m);
    map[0] = 0;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        pm_id id;
        if (nd->frame == PM_NONE) {
            id = t->n++;
            t->parent[id] = 0;
            t->frame[id] = PM_NONE;
            t->self[id] = 0;
            t->thread_rnode[nd->thread] = id;
        } else {
            id = pm_rt_child(t, map[nd->parent], nd->frame);
            if (id == PM_NONE)
                goto done;
        }
        map[i] = id;
        t->self[id] = (int64_t)((uint64_t)t->self[id] + (uint64_t)pm_node_value(p, i, r->m));
    }

    /* Totals bottom-up: rnodes, like nodes, come after their parents. */
    uint32_t n = t->n;
    memcpy(t->total, t->self, (size_t)n * sizeof(int64_t));
    for (uint32_t i = n; i-- > 1;)
        t->total[t->parent[i]] = (int64_t)((uint64_t)t->total[t->parent[i]] + (uint64_t)t->total[i]);

    /* Children lists (CSR): count per parent, place in id order, then sort
     * each sibling run by total — sum of k log k over runs, far cheaper
     * than sorting all n nodes at once. */
    memset(t->kid_begin, 0, ((size_t)n + 1) * sizeof(uint32_t));
    for (uint32_t i = 1; i < n; i++)
        t->kid_begin[t->parent[i] + 1]++;
    for (uint32_t i = 0; i < n; i++)
        t->kid_begin[i + 1] += t->kid_begin[i];
    /* hidden_n doubles as the fill cursor before it gets its meaning. */
    uint32_t *cursor = t->hidden_n;
    memcpy(cursor, t->kid_begin, (size_t)n * sizeof(uint32_t));
    for (uint32_t i = 1; i < n; i++) {
        uint32_t at = cursor[t->parent[i]]++;
        keys[at].id = i;
        keys[at].total = t->total[i];
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = t->kid_begin[i], e = t->kid_begin[i + 1];
        if (e - a > 1)
            qsort(keys + a, e - a, sizeof(pm_rt_sortkey), pm_rt_cmp);
        for (uint32_t k = a; k < e; k++)
            t->kids[k] = keys[k].id;
    }

    /* Totals were needed above; now the hidden-frame counts, bottom-up. */
    for (uint32_t i = 0; i < n; i++)
        t->hidden_n[i] = t->total[i] != 0;
    for (uint32_t i = n; i-- > 1;)
        t->hidden_n[t->parent[i]] += t->hidden_n[i];
    rc = 0;
done:
    free(map);
    free(keys);
    return rc;
}

/* ---- drawing ------------------------------------------------------------------ */

static int pm_rt_grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *na = realloc(*arr, ncap * size);
    if (!na)
        return -1;
    *arr = na;
    *cap = ncap;
    return 0;
}

static int pm_rt_push_item(pm_rt_draw *d, int hidden, pm_id node, uint32_t count, int64_t value)
{
    if (pm_rt_grow((void **)&d->items, &d->items_cap, d->nitems + 1, sizeof(pm_rt_item)) != 0)
        return -1;
    pm_rt_item *it = &d->items[d->nitems++];
    it->hidden = hidden;
    it->node = node;
    it->count = count;
    it->value = value;
    return 0;
}

static int pm_rt_visible(const pm_rt_draw *d, pm_id c, int depth)
{
    const pm_rt *t = d->t;
    if (t->total[c] == 0)
        return 0;
    if (d->r->o->show_all)
        return 1;
    if (depth >= PM_REP_MAX_DEPTH)
        return 0;
    return fabs((double)t->total[c]) * 100.0 >= d->r->o->threshold_pct * fabs((double)d->thread_total);
}

/* Pushes the items shown under the chain d->chain[0..nchain) (a single node
 * or a collapsed library run): the visible children of the last node, and
 * one summary of everything hidden under any node of the chain. */
static int pm_rt_push_children(pm_rt_draw *d, int depth)
{
    const pm_rt *t = d->t;
    uint32_t hidden = 0;
    int64_t hidden_value = 0;
    for (size_t j = 0; j < d->nchain; j++) {
        pm_id c = d->chain[j];
        pm_id next = j + 1 < d->nchain ? d->chain[j + 1] : PM_NONE;
        for (uint32_t k = t->kid_begin[c]; k < t->kid_begin[c + 1]; k++) {
            pm_id x = t->kids[k];
            if (x == next || t->total[x] == 0)
                continue;
            if (next == PM_NONE && pm_rt_visible(d, x, depth)) {
                if (pm_rt_push_item(d, 0, x, 0, 0) != 0)
                    return -1;
            } else {
                hidden += t->hidden_n[x];
                hidden_value = (int64_t)((uint64_t)hidden_value + (uint64_t)t->total[x]);
            }
        }
    }
    if (hidden && pm_rt_push_item(d, 1, PM_NONE, hidden, hidden_value) != 0)
        return -1;
    return 0;
}

/* Fills d->chain with the run of library frames starting at c (just c when
 * c is not library code or collapsing is off). */
static int pm_rt_chain(pm_rt_draw *d, pm_id c, int depth)
{
    const pm_rt *t = d->t;
    d->nchain = 0;
    for (;;) {
        if (pm_rt_grow((void **)&d->chain, &d->chain_cap, d->nchain + 1, sizeof(pm_id)) != 0)
            return -1;
        d->chain[d->nchain++] = c;
        if (d->r->o->show_all || !t->lib[t->frame[c]])
            return 0;
        /* Extend only through a single visible child that is library code. */
        pm_id only = PM_NONE;
        int nvis = 0;
        for (uint32_t k = t->kid_begin[c]; k < t->kid_begin[c + 1] && nvis < 2; k++) {
            pm_id x = t->kids[k];
            if (pm_rt_visible(d, x, depth + 1)) {
                only = x;
                nvis++;
            }
        }
        if (nvis != 1 || !t->lib[t->frame[only]])
            return 0;
        c = only;
    }
}

/* The module a library file belongs to: the first path component after
 * the library prefix ("requests" for .../site-packages/requests/api.py),
 * the frozen module's name, or "<built-in>" without a file. */
static void pm_rt_module(const pm_rt_draw *d, pm_id frame, const char **s, size_t *len)
{
    const pm_rep *r = d->r;
    size_t flen;
    const char *file = pm_str_get(r->p, pm_frame_get(r->p, frame)->file, &flen);
    if (flen == 0) {
        *s = "<built-in>";
        *len = 10;
        return;
    }
    if (pm_rt_starts_with(file, flen, "<frozen ")) {
        *s = file + 8;
        *len = flen - 8;
        if (*len && (*s)[*len - 1] == '>')
            (*len)--;
        return;
    }
    size_t skip = 0;
    for (size_t i = 0; i < r->o->n_library_prefixes; i++) {
        const char *pre = r->o->library_prefixes[i];
        if (pre && *pre && pm_rt_starts_with(file, flen, pre) && strlen(pre) > skip)
            skip = strlen(pre);
    }
    const char *rest = file + skip;
    size_t n = flen - skip;
    while (n && *rest == '/') {
        rest++;
        n--;
    }
    size_t cut = 0;
    while (cut < n && rest[cut] != '/' && rest[cut] != '.')
        cut++;
    *s = rest;
    *len = cut ? cut : n;
}

static void pm_rt_numbers(pm_rt_draw *d, int64_t total, int64_t self)
{
    pm_rep *r = d->r;
    char buf[PM_NUM_MAX];
    pm_rep_color(r, pm_rep_pct_color(total, d->thread_total));
    pm_buf_put(r->out, buf, pm_rep_fmt_value(r, total, buf));
    pm_buf_puts(r->out, "  ");
    pm_buf_put(r->out, buf, pm_rep_fmt_value(r, self, buf));
    pm_buf_puts(r->out, "  ");
    pm_buf_put(r->out, buf, pm_rep_fmt_pct(total, d->thread_total, buf));
    pm_rep_reset(r);
    pm_buf_puts(r->out, "  ");
}

static size_t pm_rt_numbers_cols(pm_rt_draw *d, int64_t total, int64_t self)
{
    char buf[PM_NUM_MAX];
    return pm_rep_fmt_value(d->r, total, buf) + 2 + pm_rep_fmt_value(d->r, self, buf) + 2 +
           pm_rep_fmt_pct(total, d->thread_total, buf) + 2;
}

/* Room left on the line after `used` columns, for names. */
static size_t pm_rt_room(const pm_rt_draw *d, size_t used)
{
    int w = d->r->o->width;
    if (w <= 0)
        return PM_TEXT_UNLIMITED;
    return (size_t)w > used + 20 ? (size_t)w - used : 20;
}

static void pm_rt_node_line(pm_rt_draw *d, pm_id c, size_t used)
{
    pm_rep *r = d->r;
    const pm_rt *t = d->t;
    pm_rt_numbers(d, t->total[c], t->self[c]);
    used += pm_rt_numbers_cols(d, t->total[c], t->self[c]);
    size_t room = pm_rt_room(d, used);
    pm_id f = t->frame[c];
    size_t name = pm_rep_name_cols(r, f), loc = pm_rep_loc_cols(r, f);
    size_t name_room = PM_TEXT_UNLIMITED, loc_room = PM_TEXT_UNLIMITED;
    if (room != PM_TEXT_UNLIMITED && name + (loc ? 2 + loc : 0) > room) {
        /* The location (its end: file name and line) keeps up to half the
         * room, more when the name is short; the name gets the rest. */
        size_t half = room / 2 > 20 ? room / 2 : 20;
        loc_room = loc < half ? loc : half;
        if (name + 2 + loc_room <= room)
            loc_room = room - name - 2;
        name_room = room > loc_room + 2 ? room - loc_room - 2 : 12;
        if (name_room < 12)
            name_room = 12;
    }
    pm_rep_put_name(r, f, name_room);
    if (loc) {
        pm_buf_puts(r->out, "  ");
        pm_rep_color(r, PM_ANSI_DIM);
        pm_rep_put_loc(r, f, loc_room);
        pm_rep_reset(r);
    }
}

static void pm_rt_group_line(pm_rt_draw *d, size_t used)
{
    pm_rep *r = d->r;
    const pm_rt *t = d->t;
    int64_t self = 0;
    for (size_t j = 0; j < d->nchain; j++)
        self = (int64_t)((uint64_t)self + (uint64_t)t->self[d->chain[j]]);
    int64_t total = t->total[d->chain[0]];
    pm_rt_numbers(d, total, self);
    used += pm_rt_numbers_cols(d, total, self);
    size_t room = pm_rt_room(d, used);

    /* Build the label aside so it can be cut to the room as a whole. */
    pm_buf lab;
    pm_buf_init(&lab);
    pm_buf_putc(&lab, '[');
    pm_buf_put_u64(&lab, d->nchain);
    pm_buf_puts(&lab, d->nchain == 1 ? " library frame: " : " library frames: ");
    size_t shown = 0;
    for (size_t j = 0; j < d->nchain; j++) {
        const char *m;
        size_t mlen;
        pm_rt_module(d, t->frame[d->chain[j]], &m, &mlen);
        int dup = 0;
        for (size_t i = 0; i < j && !dup; i++) {
            const char *m2;
            size_t mlen2;
            pm_rt_module(d, t->frame[d->chain[i]], &m2, &mlen2);
            dup = mlen2 == mlen && memcmp(m, m2, mlen) == 0;
        }
        if (dup)
            continue;
        if (shown == PM_REP_MAX_MODULES) {
            pm_buf_puts(&lab, ", ...");
            break;
        }
        if (shown++)
            pm_buf_puts(&lab, ", ");
        pm_buf_put(&lab, m, mlen);
    }
    pm_buf_putc(&lab, ']');
    if (!lab.oom) {
        pm_rep_color(r, PM_ANSI_DIM);
        pm_text_put(r->out, lab.data, lab.len, room, 0);
        pm_rep_reset(r);
    }
    pm_buf_free(&lab);
}

static void pm_rt_hidden_line(pm_rt_draw *d, const pm_rt_item *it)
{
    pm_rep *r = d->r;
    char buf[PM_NUM_MAX];
    pm_rep_color(r, PM_ANSI_DIM);
    pm_buf_putc(r->out, '[');
    pm_buf_put_u64(r->out, it->count);
    pm_buf_puts(r->out, it->count == 1 ? " frame hidden, " : " frames hidden, ");
    pm_buf_put(r->out, buf, pm_rep_fmt_pct(it->value, d->thread_total, buf));
    pm_buf_putc(r->out, ']');
    pm_rep_reset(r);
}

static int pm_rt_push_level(pm_rt_draw *d, size_t begin, size_t prefix_len, int depth)
{
    if (d->nitems == begin)
        return 0;
    if (pm_rt_grow((void **)&d->levels, &d->levels_cap, d->nlevels + 1, sizeof(pm_rt_level)) != 0)
        return -1;
    pm_rt_level *l = &d->levels[d->nlevels++];
    l->begin = begin;
    l->end = d->nitems;
    l->next = begin;
    l->prefix_len = prefix_len;
    l->depth = depth;
    return 0;
}

/* A lone library frame right under library code continues a run that a
 * branch split (one caller, several callees): it folds like the rest of the
 * run instead of standing out by name. */
static int continues_library(const pm_rt_draw *d, pm_id node)
{
    const pm_rt *t = d->t;
    if (d->r->o->show_all || t->frame[node] == PM_NONE || !t->lib[t->frame[node]])
        return 0;
    pm_id parent = t->parent[node];
    return parent != PM_NONE && t->frame[parent] != PM_NONE && t->lib[t->frame[parent]];
}

static int pm_rt_draw_thread(pm_rt_draw *d, pm_id troot)
{
    pm_rep *r = d->r;
    d->nitems = d->nlevels = 0;
    d->prefix.len = 0;
    d->chain[0] = troot;
    d->nchain = 1;
    if (pm_rt_push_children(d, 0) != 0 || pm_rt_push_level(d, 0, 0, 0) != 0)
        return -1;
    while (d->nlevels > 0) {
        pm_rt_level *l = &d->levels[d->nlevels - 1];
        if (l->next == l->end) {
            d->nitems = l->begin;
            d->nlevels--;
            continue;
        }
        pm_rt_item it = d->items[l->next++];
        int last = l->next == l->end;
        int depth = l->depth;
        size_t prefix_len = l->prefix_len;
        /* Columns of the prefix: each 3-byte box drawing piece is one
         * column, each level 3 columns. */
        size_t used = (size_t)depth * 3 + 3;
        d->prefix.len = prefix_len;
        pm_buf_put(r->out, d->prefix.data, prefix_len);
        pm_buf_puts(r->out, last ? "\xe2\x94\x94\xe2\x94\x80 " : "\xe2\x94\x9c\xe2\x94\x80 ");
        if (it.hidden) {
            pm_rt_hidden_line(d, &it);
            pm_buf_putc(r->out, '\n');
            continue;
        }
        if (pm_rt_chain(d, it.node, depth) != 0)
            return -1;
        if (d->nchain > 1 || continues_library(d, it.node))
            pm_rt_group_line(d, used);
        else
            pm_rt_node_line(d, it.node, used);
        pm_buf_putc(r->out, '\n');
        size_t begin = d->nitems;
        if (pm_rt_push_children(d, depth + 1) != 0)
            return -1;
        if (d->nitems > begin) {
            pm_buf_puts(&d->prefix, last ? "   " : "\xe2\x94\x82  ");
            if (d->prefix.oom || pm_rt_push_level(d, begin, d->prefix.len, depth + 1) != 0)
                return -1;
        }
    }
    return r->out->oom ? -1 : 0;
}

static void pm_rt_heading(pm_rt_draw *d, pm_id thread)
{
    pm_rep *r = d->r;
    const pm_thread *th = pm_thread_at(r->p, thread);
    size_t len;
    const char *name = pm_str_get(r->p, th->name, &len);
    char buf[PM_NUM_MAX];
    pm_buf_putc(r->out, '\n');
    pm_rep_color(r, PM_ANSI_BOLD);
    pm_buf_puts(r->out, "Thread ");
    if (len)
        pm_text_put(r->out, name, len, 60, 0);
    else
        pm_buf_put_u64(r->out, th->ident);
    pm_rep_reset(r);
    pm_buf_puts(r->out, "  ");
    pm_buf_put(r->out, buf, pm_rep_fmt_value(r, d->thread_total, buf));
    pm_buf_puts(r->out, r->seconds ? " s" : "");
    pm_buf_puts(r->out, "  (ident ");
    pm_buf_put_u64(r->out, th->ident);
    if (th->native_id) {
        pm_buf_puts(r->out, ", native id ");
        pm_buf_put_u64(r->out, th->native_id);
    }
    pm_buf_putc(r->out, ')');
    const int64_t *st = d->states ? d->states + PM_RT_STATES * (size_t)thread : NULL;
    if (st && st[0] > 0) {
        /* What the sampler saw the thread do besides its stack.  Waiting
         * is an estimate (a probe every few ticks, see the sampler): never
         * more than the samples without the GIL. */
        pm_buf_puts(r->out, "  GIL held ");
        pm_buf_put(r->out, buf, pm_rep_fmt_pct(st[1], st[0], buf));
        if (d->has_wait) {
            int64_t without = st[0] - st[1], wait = st[3] < without ? st[3] : without;
            pm_buf_puts(r->out, ", waiting ");
            pm_buf_put(r->out, buf, pm_rep_fmt_pct(wait, st[0], buf));
            pm_buf_puts(r->out, ", released ");
            pm_buf_put(r->out, buf, pm_rep_fmt_pct(without - wait, st[0], buf));
        }
        pm_buf_puts(r->out, " of samples");
        if (st[2] > 0) {
            pm_buf_puts(r->out, ", in GC ");
            pm_buf_put(r->out, buf, pm_rep_fmt_pct(st[2], st[0], buf));
        }
    }
    pm_buf_putc(r->out, '\n');
}

/* Per thread, in one pass over the nodes: its samples, and those taken
 * while it held the GIL and while the garbage collector ran.  NULL when the
 * profile has no such figures (a deterministic or foreign profile). */
static int64_t *pm_rt_thread_states(const pm_profile *p, uint32_t nt)
{
    int ms = pm_metric_find(p, "samples"), mg = pm_metric_find(p, "gil"), mc = pm_metric_find(p, "gc");
    if (ms < 0 || mg < 0)
        return NULL;
    int64_t *st = calloc(((size_t)nt + 1) * PM_RT_STATES, sizeof *st);
    if (!st)
        return NULL;
    int mw = pm_metric_find(p, "gil_wait");
    uint32_t n = pm_node_count(p);
    for (pm_id i = 0; i < n; i++) {
        pm_id th = pm_node_get(p, i)->thread;
        if (th >= nt)
            continue;
        int64_t *row = st + PM_RT_STATES * (size_t)th;
        row[0] += pm_node_value(p, i, ms);
        row[1] += pm_node_value(p, i, mg);
        if (mc >= 0)
            row[2] += pm_node_value(p, i, mc);
        if (mw >= 0)
            row[3] += pm_node_value(p, i, mw);
    }
    return st;
}

typedef struct {
    pm_id thread;
    int64_t total;
} pm_rt_thread_order;

static int pm_rt_thread_cmp(const void *a, const void *b)
{
    const pm_rt_thread_order *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->thread < y->thread ? -1 : x->thread > y->thread;
}

int pm_report_trees(pm_rep *r)
{
    pm_rt t;
    if (pm_rt_build(&t, r) != 0) {
        pm_rt_free(&t);
        return -1;
    }
    uint32_t nt = pm_thread_count(r->p);
    pm_rt_thread_order *order = malloc(((size_t)nt + 1) * sizeof(pm_rt_thread_order));
    pm_rt_draw d;
    memset(&d, 0, sizeof d);
    d.r = r;
    d.t = &t;
    pm_buf_init(&d.prefix);
    int rc = -1;
    if (!order || pm_rt_grow((void **)&d.chain, &d.chain_cap, 1, sizeof(pm_id)) != 0)
        goto done;
    for (uint32_t i = 0; i < nt; i++) {
        order[i].thread = i;
        order[i].total = t.total[t.thread_rnode[i]];
    }
    qsort(order, nt, sizeof *order, pm_rt_thread_cmp);
    d.states = pm_rt_thread_states(r->p, nt);
    d.has_wait = pm_metric_find(r->p, "gil_wait") >= 0 && pm_out_meta_num(r->p, "gil_wait_probes", 0) > 0;
    int any = 0;
    for (uint32_t i = 0; i < nt; i++) {
        if (order[i].total == 0)
            continue;
        any = 1;
        d.thread_total = order[i].total;
        pm_rt_heading(&d, order[i].thread);
        if (pm_rt_draw_thread(&d, t.thread_rnode[order[i].thread]) != 0)
            goto done;
    }
    if (!any)
        pm_buf_puts(r->out, "\nNo samples recorded.\n");
    rc = 0;
done:
    free(order);
    free(d.states);
    free(d.items);
    free(d.levels);
    free(d.chain);
    pm_buf_free(&d.prefix);
    pm_rt_free(&t);
    return rc;
}
