/* pm_otlp_profiles.c — a profile as OpenTelemetry profiles: an OTLP
 * ExportProfilesServiceRequest (opentelemetry/proto/collector/profiles/
 * v1development, the schema of opentelemetry-proto 1.9), the protobuf body an
 * OTLP/HTTP collector takes at /v1development/profiles.
 *
 *   dictionary   tables shared by the profiles, each beginning with the zero
 *                entry the schema reserves for "none": string_table ("" first),
 *                function_table (one per frame: name, system_name FILE:NAME,
 *                filename, start_line), location_table (one per (frame,
 *                line), one Line), stack_table (one per node that has a
 *                value: location indices, leaf first), attribute_table
 *                (thread.id and thread.name of each thread), link_table (the
 *                request's trace and span: meta label.trace_id and
 *                label.span_id, as the OpenTelemetry integration sets them).
 *   resource_profiles[0]  resource service.name and each meta resource.KEY
 *                (the push's tags); scope "pyrometer"; one
 *                Profile per metric written (sampled profiles: samples/count
 *                then the mode's time metric, as pprof; others: every metric),
 *                each with its sample_type, one Sample per node whose value is
 *                not zero (stack, the thread's attributes, the link, the
 *                value), time_unix_nano, duration_nano, period_type and
 *                period (sampled), a profile_id.
 *
 * The profiles schema is still in development upstream: field numbers are
 * those of that release, in one place below. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/pm_hash.h"
#include "pm_interchange.h"
#include "pm_outcommon.h"
#include "pm_pbtab.h"
#include "../codec/pm_protobuf.h"
#include "pm_slices.h"
#include "../codec/pm_utf8.h"

/* Field numbers (opentelemetry-proto 1.9, profiles v1development). */
enum {
    REQ_RESOURCE_PROFILES = 1, REQ_DICTIONARY = 2,
    DICT_MAPPING = 1, DICT_LOCATION = 2, DICT_FUNCTION = 3, DICT_LINK = 4, DICT_STRING = 5, DICT_ATTRIBUTE = 6,
    DICT_STACK = 7,
    RP_RESOURCE = 1, RP_SCOPE_PROFILES = 2, SP_SCOPE = 1, SP_PROFILES = 2,
    PR_SAMPLE_TYPE = 1, PR_SAMPLES = 2, PR_TIME = 3, PR_DURATION = 4, PR_PERIOD_TYPE = 5, PR_PERIOD = 6,
    PR_PROFILE_ID = 7,
    SA_STACK = 1, SA_ATTRIBUTES = 2, SA_LINK = 3, SA_VALUES = 4,
    LOC_LINES = 3, LINE_FUNCTION = 1, LINE_LINE = 2,
    FN_NAME = 1, FN_SYSTEM_NAME = 2, FN_FILENAME = 3, FN_START_LINE = 4,
    LINK_TRACE = 1, LINK_SPAN = 2, STACK_LOCATIONS = 1,
    KVU_KEY = 1, KVU_VALUE = 2,
    VT_TYPE = 1, VT_UNIT = 2,
};

typedef struct {
    const pm_profile *p;
    pm_ctext c;
    pm_pbtab tab;
    pm_buf dict, tmp, sub, sub2;
} pm_op;

static int64_t op_sid(pm_op *s, pm_id id) { return pm_pbtab_sid(&s->tab, &s->c, id); }

/* A packed repeated integer field (varints inside one length-delimited
 * field); nothing when empty. */
static void op_packed(pm_op *s, pm_buf *out, unsigned field, const int64_t *v, size_t n)
{
    if (!n)
        return;
    s->sub2.len = 0;
    for (size_t i = 0; i < n; i++)
        pm_pb_varint(&s->sub2, (uint64_t)v[i]);
    pm_pb_bytes(out, field, s->sub2.data, s->sub2.len);
}

static void op_value_type(pm_op *s, pm_buf *out, unsigned field, const pm_metric *m)
{
    s->sub2.len = 0;
    pm_pb_int(&s->sub2, VT_TYPE, op_sid(s, m->name));
    pm_pb_int(&s->sub2, VT_UNIT, op_sid(s, m->unit));
    pm_pb_bytes(out, field, s->sub2.data ? s->sub2.data : "", s->sub2.len);
}

/* Meta label.KEY as exactly n bytes of hex, not all zero (the schema's
 * "no id"); 0 when it is, -1 otherwise. */
static int meta_hex_id(const pm_profile *p, const char *key, uint8_t *out, size_t n)
{
    size_t len = 0;
    const char *v = pm_out_meta_str(p, key, &len);
    if (!v || len != 2 * n)
        return -1;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = pm_hex_digit(v[2 * i]), lo = pm_hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
        any |= out[i];
    }
    return any ? 0 : -1;
}

/* The dictionary's tables but strings (written last, once every string is
 * interned): functions, locations, attributes and the link. */
static int op_tables(pm_op *s, const uint64_t *th_ids, int *has_link)
{
    const pm_profile *p = s->p;
    pm_buf *d = &s->dict;
    uint32_t nf = pm_frame_count(p), nt = pm_thread_count(p);
    pm_pb_bytes(d, DICT_MAPPING, "", 0); /* Python code has no mapping: only the zero entry */
    pm_pb_bytes(d, DICT_FUNCTION, "", 0);
    for (uint32_t f = 0; f < nf; f++) {
        const pm_frame *fr = pm_frame_get(p, f);
        int64_t name, sysname;
        pm_pbtab_function(&s->tab, p, &s->c, f, &s->tmp, &name, &sysname);
        s->sub.len = 0;
        pm_pb_int(&s->sub, FN_NAME, name);
        pm_pb_int(&s->sub, FN_SYSTEM_NAME, sysname);
        pm_pb_int(&s->sub, FN_FILENAME, op_sid(s, fr->file));
        pm_pb_int(&s->sub, FN_START_LINE, fr->line > 0 ? fr->line : 0);
        pm_pb_bytes(d, DICT_FUNCTION, s->sub.data ? s->sub.data : "", s->sub.len);
    }
    pm_pb_bytes(d, DICT_LOCATION, "", 0);
    for (uint32_t l = 0; l < s->tab.nloc; l++) {
        s->sub2.len = 0;
        pm_pb_int(&s->sub2, LINE_FUNCTION, (int64_t)s->tab.lframe[l] + 1);
        pm_pb_int(&s->sub2, LINE_LINE, s->tab.lline[l] > 0 ? s->tab.lline[l] : 0);
        s->sub.len = 0;
        pm_pb_bytes(&s->sub, LOC_LINES, s->sub2.data ? s->sub2.data : "", s->sub2.len);
        pm_pb_bytes(d, DICT_LOCATION, s->sub.data, s->sub.len);
    }
    /* Attributes 1 + 2t and 2 + 2t: thread t's id and name. */
    pm_buf any = {0};
    pm_pb_bytes(d, DICT_ATTRIBUTE, "", 0);
    int64_t k_id = pm_pbtab_cstr(&s->tab, "thread.id"), k_name = pm_pbtab_cstr(&s->tab, "thread.name");
    for (uint32_t t = 0; t < nt; t++) {
        s->tmp.len = 0;
        pm_out_thread_label(p, t, &s->tmp);
        for (int which = 0; which < 2; which++) {
            /* KeyValueAndUnit{key_strindex, value}: the AnyValue as in KeyValue. */
            s->sub.len = 0;
            pm_pb_int(&s->sub, KVU_KEY, which ? k_name : k_id);
            any.len = 0;
            if (which)
                pm_pb_bytes(&any, 1, s->tmp.data ? s->tmp.data : "", s->tmp.len);
            else {
                pm_pb_tag(&any, 3, 0);
                pm_pb_varint(&any, th_ids[t]);
            }
            pm_pb_bytes(&s->sub, KVU_VALUE, any.data ? any.data : "", any.len);
            pm_pb_bytes(d, DICT_ATTRIBUTE, s->sub.data, s->sub.len);
        }
    }
    int rc = any.oom ? -1 : 0;
    pm_buf_free(&any);
    pm_pb_bytes(d, DICT_LINK, "", 0);
    uint8_t trace[16], span[8];
    *has_link = meta_hex_id(p, "label.trace_id", trace, 16) == 0 && meta_hex_id(p, "label.span_id", span, 8) == 0;
    if (*has_link) {
        s->sub.len = 0;
        pm_pb_bytes(&s->sub, LINK_TRACE, trace, 16);
        pm_pb_bytes(&s->sub, LINK_SPAN, span, 8);
        pm_pb_bytes(d, DICT_LINK, s->sub.data, s->sub.len);
    }
    return rc;
}

int pm_write_otlp_profiles(const pm_profile *p, pm_buf *out)
{
    pm_op s;
    memset(&s, 0, sizeof s);
    s.p = p;
    pm_pbtab_init(&s.tab);
    pm_buf profiles = {0}, prof = {0}, scope = {0}, resource = {0}, rp = {0}, kv = {0}, any = {0};
    uint32_t nn = pm_node_count(p), nt = pm_thread_count(p);
    uint32_t *node_stack = NULL;
    uint64_t *th_ids = NULL; /* the OS thread id, else Python's ident (64 bits) */
    int rc = -1, mets[PM_MAX_METRICS], nm = 0, has_link = 0;
    if (pm_ctext_init(&s.c, p) != 0)
        goto done;
    int mt = pm_out_time_metric(p);
    nm = pm_out_value_metrics(p, mets);
    node_stack = calloc((size_t)nn + 1, sizeof *node_stack);
    th_ids = malloc(((size_t)nt + 1) * sizeof *th_ids);
    if (nm == 0 || !node_stack || !th_ids)
        goto done;
    for (uint32_t t = 0; t < nt; t++) {
        const pm_thread *th = pm_thread_at(p, t);
        th_ids[t] = th->native_id ? th->native_id : th->ident;
    }
    /* Stacks: one per node that any profile has a sample at, locations
     * leaf first (index = location id + 1). */
    pm_pb_bytes(&s.dict, DICT_STACK, "", 0);
    uint32_t nstacks = 0;
    int64_t *locs = NULL;
    size_t caplocs = 0;
    for (uint32_t i = 1; i < nn; i++) {
        const pm_node *nd = pm_node_get(p, i);
        int used = 0;
        for (int k = 0; k < nm; k++)
            used |= pm_node_value(p, i, mets[k]) != 0;
        if (nd->frame == PM_NONE || !used)
            continue;
        size_t n = 0;
        for (pm_id j = i; pm_node_get(p, j)->frame != PM_NONE; j = pm_node_get(p, j)->parent) {
            const pm_node *q = pm_node_get(p, j);
            uint32_t l = pm_pbtab_loc(&s.tab, q->frame, q->line);
            if (l == PM_NONE)
                goto fail_locs;
            if (n == caplocs) {
                size_t nc = caplocs ? 2 * caplocs : 64;
                int64_t *g = realloc(locs, nc * sizeof *g);
                if (!g)
                    goto fail_locs;
                locs = g;
                caplocs = nc;
            }
            locs[n++] = (int64_t)l + 1;
        }
        s.sub.len = 0;
        op_packed(&s, &s.sub, STACK_LOCATIONS, locs, n);
        pm_pb_bytes(&s.dict, DICT_STACK, s.sub.data ? s.sub.data : "", s.sub.len);
        node_stack[i] = ++nstacks;
    }
    free(locs);
    if (op_tables(&s, th_ids, &has_link) != 0)
        goto done;
    /* The profiles, one per metric. */
    double rate = pm_out_meta_num(p, "rate_hz", 0), dur = pm_out_meta_num(p, "duration_s", 0);
    double start = pm_out_meta_num(p, "start_unix", 0);
    uint64_t start_ns = start > 0 && start < 9e9 ? (uint64_t)llround(start * 1e9) : 0;
    size_t clen = 0;
    const char *cmd = pm_out_meta_str(p, "command", &clen);
    for (int k = 0; k < nm; k++) {
        const pm_metric *md = pm_metric_get(p, mets[k]);
        prof.len = 0;
        op_value_type(&s, &prof, PR_SAMPLE_TYPE, md);
        for (uint32_t i = 1; i < nn; i++) {
            int64_t v = pm_node_value(p, i, mets[k]);
            const pm_node *nd = pm_node_get(p, i);
            if (!v || !node_stack[i])
                continue;
            s.sub.len = 0;
            pm_pb_int(&s.sub, SA_STACK, node_stack[i]);
            if (nd->thread < nt) {
                int64_t at[2] = {1 + 2 * (int64_t)nd->thread, 2 + 2 * (int64_t)nd->thread};
                op_packed(&s, &s.sub, SA_ATTRIBUTES, at, 2);
            }
            pm_pb_int(&s.sub, SA_LINK, has_link);
            op_packed(&s, &s.sub, SA_VALUES, &v, 1);
            pm_pb_bytes(&prof, PR_SAMPLES, s.sub.data, s.sub.len);
        }
        pm_pb_fixed64(&prof, PR_TIME, start_ns);
        pm_pb_int(&prof, PR_DURATION, dur > 0 && dur < 9e9 ? (int64_t)llround(dur * 1e9) : 0);
        if (rate > 0 && mt >= 0) {
            op_value_type(&s, &prof, PR_PERIOD_TYPE, pm_metric_get(p, mt));
            pm_pb_int(&prof, PR_PERIOD, (int64_t)llround(1e9 / rate));
        }
        /* An id that is the same when the same profile is written again. */
        uint64_t a = pm_hash_mix64(start_ns ^ (uint64_t)pm_hash_bytes(cmd ? cmd : "", cmd ? clen : 0));
        uint64_t b = pm_hash_mix64(a ^ (uint64_t)(k + 1)) | 1;
        uint8_t id[16];
        for (int i = 0; i < 8; i++) {
            id[i] = (uint8_t)(a >> (56 - 8 * i));
            id[8 + i] = (uint8_t)(b >> (56 - 8 * i));
        }
        pm_pb_bytes(&prof, PR_PROFILE_ID, id, 16);
        pm_pb_bytes(&profiles, SP_PROFILES, prof.data, prof.len);
    }
    /* ScopeProfiles{scope, profiles}, ResourceProfiles{resource, scope_profiles}. */
    s.sub.len = 0;
    pm_pb_bytes(&s.sub, 1, "pyrometer", 9);
    pm_pb_bytes(&scope, SP_SCOPE, s.sub.data, s.sub.len);
    pm_buf_put(&scope, profiles.data ? profiles.data : "", profiles.len);
    size_t slen = 0;
    const char *service = pm_spans_service(p, &slen);
    pm_pb_keyvalue(&resource, &kv, &any, 1, "service.name", service, slen, 0);
    /* The push's tags: meta resource.KEY = value. */
    for (uint32_t i = 0; i < pm_meta_count(p); i++) {
        const pm_meta *m = pm_meta_at(p, i);
        size_t klen = 0, vlen = 0;
        const char *key = pm_str_get(p, m->key, &klen);
        if (m->kind != PM_META_STR || !key || klen <= 9 || strncmp(key, "resource.", 9) != 0)
            continue;
        const char *val = pm_str_get(p, m->str, &vlen);
        s.tmp.len = 0; /* the key as a C string */
        pm_buf_put(&s.tmp, key + 9, klen - 9);
        pm_buf_put(&s.tmp, "", 1);
        if (!s.tmp.oom)
            pm_pb_keyvalue(&resource, &kv, &any, 1, s.tmp.data, val ? val : "", vlen, 0);
    }
    pm_pb_bytes(&rp, RP_RESOURCE, resource.data, resource.len);
    pm_pb_bytes(&rp, RP_SCOPE_PROFILES, scope.data, scope.len);
    /* The strings, now all interned, close the dictionary. */
    for (uint32_t i = 0; i < s.tab.strs.count; i++) {
        size_t len;
        const char *str = pm_strtab_get(&s.tab.strs, i, &len);
        pm_pb_bytes(&s.dict, DICT_STRING, str, len);
    }
    pm_pb_bytes(out, REQ_RESOURCE_PROFILES, rp.data, rp.len);
    pm_pb_bytes(out, REQ_DICTIONARY, s.dict.data, s.dict.len);
    rc = s.tab.failed || s.dict.oom || s.sub.oom || s.sub2.oom || s.tmp.oom || profiles.oom || prof.oom || scope.oom ||
                 resource.oom || rp.oom || kv.oom || any.oom || out->oom
             ? -1
             : 0;
    goto done;
fail_locs:
    free(locs);
done:
    free(node_stack);
    free(th_ids);
    pm_pbtab_free(&s.tab);
    pm_ctext_free(&s.c);
    pm_buf_free(&s.dict);
    pm_buf_free(&s.tmp);
    pm_buf_free(&s.sub);
    pm_buf_free(&s.sub2);
    pm_buf_free(&profiles);
    pm_buf_free(&prof);
    pm_buf_free(&scope);
    pm_buf_free(&resource);
    pm_buf_free(&rp);
    pm_buf_free(&kv);
    pm_buf_free(&any);
    return rc;
}
