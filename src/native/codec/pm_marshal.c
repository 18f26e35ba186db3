/* pm_marshal.c — see pm_marshal.h.  Written from the marshal format as
 * documented by CPython (type codes, FLAG_REF = 0x80, 15-bit long digits,
 * little-endian fields). */
#include "pm_marshal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_REF 0x80

static void pm_mw_u32(pm_buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    pm_buf_put(b, c, 4);
}

void pm_mw_int(pm_buf *b, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        pm_buf_putc(b, 'i');
        pm_mw_u32(b, (uint32_t)(int32_t)v);
        return;
    }
    /* 'l': signed digit count, then 15-bit digits, least significant first. */
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned char d[16];
    int n = 0;
    while (a) {
        uint16_t dig = (uint16_t)(a & 0x7fff);
        d[2 * n] = (unsigned char)dig;
        d[2 * n + 1] = (unsigned char)(dig >> 8);
        n++;
        a >>= 15;
    }
    pm_buf_putc(b, 'l');
    pm_mw_u32(b, (uint32_t)(int32_t)(v < 0 ? -n : n));
    pm_buf_put(b, d, (size_t)n * 2);
}

void pm_mw_float(pm_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    unsigned char c[9];
    c[0] = 'g';
    for (int i = 0; i < 8; i++)
        c[1 + i] = (unsigned char)(u >> (8 * i));
    pm_buf_put(b, c, 9);
}

void pm_mw_str(pm_buf *b, const char *s, size_t len)
{
    int ascii = 1;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii && len < 256) {
        unsigned char h[2] = {'z', (unsigned char)len};
        pm_buf_put(b, h, 2);
    } else {
        pm_buf_putc(b, ascii ? 'a' : 'u');
        pm_mw_u32(b, (uint32_t)len);
    }
    pm_buf_put(b, s, len);
}

void pm_mw_tuple(pm_buf *b, uint32_t n, int flag_ref)
{
    if (n < 256) {
        unsigned char h[2] = {(unsigned char)(')' | (flag_ref ? FLAG_REF : 0)), (unsigned char)n};
        pm_buf_put(b, h, 2);
    } else {
        pm_buf_putc(b, (char)('(' | (flag_ref ? FLAG_REF : 0)));
        pm_mw_u32(b, n);
    }
}

void pm_mw_ref(pm_buf *b, uint32_t index)
{
    pm_buf_putc(b, 'r');
    pm_mw_u32(b, index);
}

void pm_mw_dict_begin(pm_buf *b) { pm_buf_putc(b, '{'); }
void pm_mw_dict_end(pm_buf *b) { pm_buf_putc(b, '0'); }

/* ---- reader ------------------------------------------------------------ */

typedef struct {
    pm_marshal *m;
    const unsigned char *s;
    size_t len, pos;
    int failed;
} pm_mr;

#define PM_MR_MAX_DEPTH 100

static uint32_t pm_mr_fail(pm_mr *r, const char *fmt, ...)
{
    if (!r->failed) {
        r->failed = 1;
        char msg[120];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(r->m->err, sizeof r->m->err, "%s at byte %zu", msg, r->pos);
    }
    return PM_MARSHAL_ERR;
}

static int pm_mr_need(pm_mr *r, size_t n)
{
    if (r->len - r->pos < n) {
        pm_mr_fail(r, "truncated marshal data");
        return -1;
    }
    return 0;
}

static uint32_t pm_mr_u32(pm_mr *r)
{
    const unsigned char *c = r->s + r->pos;
    r->pos += 4;
    return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
}

static uint32_t pm_mr_new(pm_mr *r, int kind)
{
    pm_marshal *m = r->m;
    if (m->nv == m->capv) {
        uint32_t nc = m->capv ? m->capv * 2 : 256;
        pm_mv *nv = realloc(m->v, (size_t)nc * sizeof(pm_mv));
        if (!nv)
            return pm_mr_fail(r, "out of memory");
        m->v = nv;
        m->capv = nc;
    }
    pm_mv *v = &m->v[m->nv];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return m->nv++;
}

static int pm_mr_kids(pm_mr *r, uint32_t n, uint32_t *first)
{
    pm_marshal *m = r->m;
    if ((uint64_t)m->nk + n > UINT32_MAX / 2) {
        pm_mr_fail(r, "too many items");
        return -1;
    }
    if (m->nk + n > m->capk) {
        uint32_t nc = m->capk ? m->capk : 256;
        while (nc < m->nk + n)
            nc *= 2;
        uint32_t *nk = realloc(m->kids, (size_t)nc * sizeof(uint32_t));
        if (!nk) {
            pm_mr_fail(r, "out of memory");
            return -1;
        }
        m->kids = nk;
        m->capk = nc;
    }
    *first = m->nk;
    m->nk += n;
    return 0;
}

static uint32_t pm_mr_reserve_ref(pm_mr *r)
{
    pm_marshal *m = r->m;
    if (m->nrefs == m->caprefs) {
        uint32_t nc = m->caprefs ? m->caprefs * 2 : 64;
        uint32_t *nr = realloc(m->refs, (size_t)nc * sizeof(uint32_t));
        if (!nr)
            return pm_mr_fail(r, "out of memory");
        m->refs = nr;
        m->caprefs = nc;
    }
    m->refs[m->nrefs] = PM_MARSHAL_ERR;
    return m->nrefs++;
}

static uint32_t pm_mr_value(pm_mr *r, int depth);

static uint32_t pm_mr_seq(pm_mr *r, int kind, uint32_t n, int depth, uint32_t refslot)
{
    /* Every item takes at least one byte: a count larger than what is left
     * is corrupt (and would otherwise allocate for nothing). */
    if (n > r->len - r->pos)
        return pm_mr_fail(r, "container of %u items in %zu bytes", n, r->len - r->pos);
    uint32_t id = pm_mr_new(r, kind);
    if (id == PM_MARSHAL_ERR)
        return PM_MARSHAL_ERR;
    if (refslot != PM_MARSHAL_ERR)
        r->m->refs[refslot] = id;
    uint32_t first;
    if (pm_mr_kids(r, n, &first) != 0)
        return PM_MARSHAL_ERR;
    r->m->v[id].n = n;
    r->m->v[id].first = first;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t c = pm_mr_value(r, depth + 1);
        if (c == PM_MARSHAL_ERR)
            return PM_MARSHAL_ERR;
        r->m->kids[first + k] = c;
    }
    return id;
}

static uint32_t pm_mr_dict(pm_mr *r, int depth, uint32_t refslot)
{
    uint32_t id = pm_mr_new(r, PM_MV_DICT);
    if (id == PM_MARSHAL_ERR)
        return PM_MARSHAL_ERR;
    if (refslot != PM_MARSHAL_ERR)
        r->m->refs[refslot] = id;
    /* Pairs are collected on a local list first: nested containers append
     * their own kids meanwhile, so the dict's kids are copied at the end. */
    uint32_t *pairs = NULL;
    size_t np = 0, cap = 0;
    for (;;) {
        if (pm_mr_need(r, 1) != 0)
            goto fail;
        if (r->s[r->pos] == '0') {
            r->pos++;
            break;
        }
        if (np + 2 > cap) {
            size_t nc = cap ? cap * 2 : 32;
            uint32_t *npairs = realloc(pairs, nc * sizeof(uint32_t));
            if (!npairs) {
                pm_mr_fail(r, "out of memory");
                goto fail;
            }
            pairs = npairs;
            cap = nc;
        }
        uint32_t k = pm_mr_value(r, depth + 1);
        if (k == PM_MARSHAL_ERR)
            goto fail;
        uint32_t v = pm_mr_value(r, depth + 1);
        if (v == PM_MARSHAL_ERR)
            goto fail;
        pairs[np++] = k;
        pairs[np++] = v;
    }
    uint32_t first;
    if (np / 2 > UINT32_MAX / 4 || pm_mr_kids(r, (uint32_t)np, &first) != 0)
        goto fail;
    if (np)
        memcpy(r->m->kids + first, pairs, np * sizeof(uint32_t));
    r->m->v[id].n = (uint32_t)(np / 2);
    r->m->v[id].first = first;
    free(pairs);
    return id;
fail:
    free(pairs);
    return PM_MARSHAL_ERR;
}

static uint32_t pm_mr_str(pm_mr *r, size_t n, uint32_t refslot)
{
    if (pm_mr_need(r, n) != 0)
        return PM_MARSHAL_ERR;
    uint32_t id = pm_mr_new(r, PM_MV_STR);
    if (id == PM_MARSHAL_ERR)
        return PM_MARSHAL_ERR;
    if (refslot != PM_MARSHAL_ERR)
        r->m->refs[refslot] = id;
    pm_buf *t = &r->m->text;
    if (t->len > UINT32_MAX - n - 1)
        return pm_mr_fail(r, "strings too large");
    r->m->v[id].first = (uint32_t)t->len;
    r->m->v[id].n = (uint32_t)n;
    pm_buf_put(t, r->s + r->pos, n);
    pm_buf_putc(t, '\0');
    if (t->oom)
        return pm_mr_fail(r, "out of memory");
    r->pos += n;
    return id;
}

static uint32_t pm_mr_value(pm_mr *r, int depth)
{
    if (depth > PM_MR_MAX_DEPTH)
        return pm_mr_fail(r, "marshal data nested too deeply");
    if (pm_mr_need(r, 1) != 0)
        return PM_MARSHAL_ERR;
    size_t at = r->pos;
    unsigned code = r->s[r->pos++];
    int flag = (code & FLAG_REF) != 0;
    code &= ~FLAG_REF;
    uint32_t slot = PM_MARSHAL_ERR;
    if (flag && (slot = pm_mr_reserve_ref(r)) == PM_MARSHAL_ERR)
        return PM_MARSHAL_ERR;
    uint32_t id = PM_MARSHAL_ERR;
    switch (code) {
    case 'N':
    case 'T':
    case 'F':
        id = pm_mr_new(r, code == 'N' ? PM_MV_NONE : PM_MV_BOOL);
        if (id != PM_MARSHAL_ERR)
            r->m->v[id].i = code == 'T';
        break;
    case 'i':
        if (pm_mr_need(r, 4) != 0)
            return PM_MARSHAL_ERR;
        id = pm_mr_new(r, PM_MV_INT);
        if (id != PM_MARSHAL_ERR) {
            r->m->v[id].i = (int32_t)pm_mr_u32(r);
            r->m->v[id].f = (double)r->m->v[id].i;
        }
        break;
    case 'l': {
        if (pm_mr_need(r, 4) != 0)
            return PM_MARSHAL_ERR;
        int32_t nd = (int32_t)pm_mr_u32(r);
        uint32_t an = nd < 0 ? (uint32_t)0 - (uint32_t)nd : (uint32_t)nd;
        if (an > (r->len - r->pos) / 2)
            return pm_mr_fail(r, "truncated marshal data");
        double f = 0, scale = 1;
        uint64_t u = 0;
        for (uint32_t k = 0; k < an; k++) {
            unsigned dig = r->s[r->pos] | (unsigned)r->s[r->pos + 1] << 8;
            r->pos += 2;
            if (dig > 0x7fff)
                return pm_mr_fail(r, "bad long digit");
            f += dig * scale;
            scale *= 32768.0;
            if (k < 4)
                u |= (uint64_t)dig << (15 * k);
        }
        id = pm_mr_new(r, PM_MV_INT);
        if (id != PM_MARSHAL_ERR) {
            /* Exact up to 60 bits; beyond, through the double (saturated). */
            int64_t v = an <= 4 ? (int64_t)u : f >= 9.2e18 ? INT64_MAX : (int64_t)f;
            r->m->v[id].i = nd < 0 ? -v : v;
            r->m->v[id].f = nd < 0 ? -f : f;
        }
        break;
    }
    case 'g': {
        if (pm_mr_need(r, 8) != 0)
            return PM_MARSHAL_ERR;
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u |= (uint64_t)r->s[r->pos + k] << (8 * k);
        r->pos += 8;
        double d;
        memcpy(&d, &u, 8);
        id = pm_mr_new(r, PM_MV_FLOAT);
        if (id != PM_MARSHAL_ERR)
            r->m->v[id].f = d;
        break;
    }
    case 'u':
    case 't':
    case 'a':
    case 'A':
    case 's': {
        if (pm_mr_need(r, 4) != 0)
            return PM_MARSHAL_ERR;
        uint32_t n = pm_mr_u32(r);
        return pm_mr_str(r, n, slot);
    }
    case 'z':
    case 'Z': {
        if (pm_mr_need(r, 1) != 0)
            return PM_MARSHAL_ERR;
        size_t n = r->s[r->pos++];
        return pm_mr_str(r, n, slot);
    }
    case ')': {
        if (pm_mr_need(r, 1) != 0)
            return PM_MARSHAL_ERR;
        uint32_t n = r->s[r->pos++];
        return pm_mr_seq(r, PM_MV_TUPLE, n, depth, slot);
    }
    case '(':
    case '[': {
        if (pm_mr_need(r, 4) != 0)
            return PM_MARSHAL_ERR;
        uint32_t n = pm_mr_u32(r);
        return pm_mr_seq(r, code == '(' ? PM_MV_TUPLE : PM_MV_LIST, n, depth, slot);
    }
    case '{':
        return pm_mr_dict(r, depth, slot);
    case 'r': {
        if (flag)
            return pm_mr_fail(r, "flagged back-reference");
        if (pm_mr_need(r, 4) != 0)
            return PM_MARSHAL_ERR;
        uint32_t k = pm_mr_u32(r);
        if (k >= r->m->nrefs || r->m->refs[k] == PM_MARSHAL_ERR)
            return pm_mr_fail(r, "bad back-reference %u", k);
        return r->m->refs[k];
    }
    default:
        r->pos = at;
        return pm_mr_fail(r, "unsupported marshal type 0x%02x", code);
    }
    if (id != PM_MARSHAL_ERR && slot != PM_MARSHAL_ERR)
        r->m->refs[slot] = id;
    return id;
}

uint32_t pm_marshal_parse(pm_marshal *m, const void *data, size_t len, size_t *end)
{
    memset(m, 0, sizeof *m);
    pm_buf_init(&m->text);
    pm_mr r = {m, data, len, 0, 0};
    uint32_t root = pm_mr_value(&r, 0);
    if (end)
        *end = r.pos;
    return r.failed ? PM_MARSHAL_ERR : root;
}

void pm_marshal_free(pm_marshal *m)
{
    free(m->v);
    free(m->kids);
    free(m->refs);
    pm_buf_free(&m->text);
    memset(m, 0, sizeof *m);
}

const pm_mv *pm_mv_get(const pm_marshal *m, uint32_t i) { return i < m->nv ? &m->v[i] : NULL; }

const pm_mv *pm_mv_item(const pm_marshal *m, const pm_mv *c, uint32_t k)
{
    if (!c || (c->kind != PM_MV_TUPLE && c->kind != PM_MV_LIST) || k >= c->n)
        return NULL;
    return pm_mv_get(m, m->kids[c->first + k]);
}

const pm_mv *pm_mv_key(const pm_marshal *m, const pm_mv *d, uint32_t k)
{
    if (!d || d->kind != PM_MV_DICT || k >= d->n)
        return NULL;
    return pm_mv_get(m, m->kids[d->first + 2 * k]);
}

const pm_mv *pm_mv_val(const pm_marshal *m, const pm_mv *d, uint32_t k)
{
    if (!d || d->kind != PM_MV_DICT || k >= d->n)
        return NULL;
    return pm_mv_get(m, m->kids[d->first + 2 * k + 1]);
}

const char *pm_mv_text(const pm_marshal *m, const pm_mv *s)
{
    return s && s->kind == PM_MV_STR ? m->text.data + s->first : NULL;
}
