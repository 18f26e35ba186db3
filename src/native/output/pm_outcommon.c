/* pm_outcommon.c — see pm_outcommon.h. */
#include "pm_outcommon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/pm_utf8.h"

void pm_clean_utf8(const char *str, size_t len, pm_buf *out)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] < 0x80)
            run++;
        if (run > i) {
            pm_buf_put(out, s + i, run - i);
            i = run;
            if (i == len)
                break;
        }
        uint32_t cp;
        size_t n = pm_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            pm_buf_put(out, "\xef\xbf\xbd", 3);
            i++;
        } else {
            pm_buf_put(out, s + i, n);
            i += n;
        }
    }
}

static int pm_is_clean(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = pm_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int pm_ctext_init(pm_ctext *c, const pm_profile *p)
{
    memset(c, 0, sizeof *c);
    pm_buf_init(&c->store);
    uint32_t n = pm_str_count(p);
    c->count = n;
    c->ptr = malloc(((size_t)n + 1) * sizeof(const char *));
    c->len = malloc(((size_t)n + 1) * sizeof(uint32_t));
    size_t *off = malloc(((size_t)n + 1) * sizeof(size_t));
    if (!c->ptr || !c->len || !off) {
        free(off);
        pm_ctext_free(c);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *s = pm_str_get(p, i, &len);
        if (!s)
            s = "", len = 0;
        if (pm_is_clean(s, len)) {
            c->ptr[i] = s;
            c->len[i] = (uint32_t)len;
            off[i] = SIZE_MAX;
        } else {
            off[i] = c->store.len;
            pm_clean_utf8(s, len, &c->store);
            c->len[i] = (uint32_t)(c->store.len - off[i]);
        }
    }
    if (c->store.oom) {
        free(off);
        pm_ctext_free(c);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        if (off[i] != SIZE_MAX)
            c->ptr[i] = c->store.data + off[i];
    free(off);
    return 0;
}

void pm_ctext_free(pm_ctext *c)
{
    free(c->ptr);
    free(c->len);
    pm_buf_free(&c->store);
    c->ptr = NULL;
    c->len = NULL;
}

static int pm_unit_is(const pm_profile *p, int m, const char *unit)
{
    const pm_metric *mt = pm_metric_get(p, m);
    if (!mt)
        return 0;
    const char *u = pm_str_get(p, mt->unit, NULL);
    return u && strcmp(u, unit) == 0;
}

int pm_out_time_metric(const pm_profile *p)
{
    size_t len;
    const char *mode = pm_out_meta_str(p, "mode", &len);
    int m = -1;
    if (mode && strcmp(mode, "cpu") == 0)
        m = pm_metric_find(p, "cpu");
    if (m < 0)
        m = pm_metric_find(p, "wall");
    if (m < 0)
        for (int i = 0; i < pm_metric_count(p); i++)
            if (pm_unit_is(p, i, "nanoseconds"))
                return i;
    return m;
}

int pm_out_value_metrics(const pm_profile *p, int *mets)
{
    int nm = 0, ms = pm_metric_find(p, "samples"), mt = pm_out_time_metric(p);
    if (ms >= 0) {
        mets[nm++] = ms;
        if (mt >= 0 && mt != ms)
            mets[nm++] = mt;
    } else {
        for (int i = 0; i < pm_metric_count(p) && nm < PM_MAX_METRICS; i++)
            mets[nm++] = i;
    }
    return nm;
}

double pm_out_meta_num(const pm_profile *p, const char *key, double def)
{
    const pm_meta *m = pm_meta_find(p, key);
    if (!m || m->kind != PM_META_NUM || !isfinite(m->num))
        return def;
    return m->num;
}

const char *pm_out_meta_str(const pm_profile *p, const char *key, size_t *len)
{
    const pm_meta *m = pm_meta_find(p, key);
    if (!m || m->kind != PM_META_STR)
        return NULL;
    return pm_str_get(p, m->str, len);
}

void pm_out_thread_label(const pm_profile *p, pm_id thread, pm_buf *out)
{
    const pm_thread *t = pm_thread_at(p, thread);
    if (!t)
        return;
    size_t len;
    const char *s = pm_str_get(p, t->name, &len);
    if (s && len > 0) {
        pm_clean_utf8(s, len, out);
    } else {
        pm_buf_puts(out, "thread ");
        pm_buf_put_u64(out, t->ident);
    }
}

void pm_out_frame_name(const pm_profile *p, const pm_ctext *c, pm_id frame, pm_buf *out)
{
    const pm_frame *f = pm_frame_get(p, frame);
    if (!f)
        return;
    if (f->kind == PM_FRAME_NATIVE && c->len[f->file] == 0) {
        pm_buf_putc(out, '[');
        pm_buf_put(out, c->ptr[f->name], c->len[f->name]);
        pm_buf_putc(out, ']');
    } else {
        pm_buf_put(out, c->ptr[f->name], c->len[f->name]);
    }
}

uint32_t *pm_out_depths(const pm_profile *p)
{
    uint32_t n = pm_node_count(p);
    uint32_t *d = malloc(((size_t)n + 1) * sizeof(uint32_t));
    if (!d)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const pm_node *nd = pm_node_get(p, i);
        d[i] = (nd->parent == PM_NONE || nd->frame == PM_NONE) ? 0 : d[nd->parent] + 1;
    }
    return d;
}

void pm_out_fixed3(pm_buf *b, double v)
{
    if (!isfinite(v))
        v = 0;
    int neg = v < 0;
    if (neg)
        v = -v;
    uint64_t thousandths = (uint64_t)llround(v * 1000.0);
    if (neg && thousandths)
        pm_buf_putc(b, '-');
    pm_buf_put_u64(b, thousandths / 1000);
    unsigned r = (unsigned)(thousandths % 1000);
    char d[4] = {'.', (char)('0' + r / 100), (char)('0' + r / 10 % 10), (char)('0' + r % 10)};
    pm_buf_put(b, d, 4);
}
