/* pm_remote_dict.c — see pm_remote_dict.h. */
#include "pm_remote_dict.h"

#include <string.h>

#define MAX_LOG2_SIZE 26       /* 64M slots: a sanity bound on a keys object */
#define MAX_LOOKUP 65536       /* entries looked at for one key (sys.modules, a module's globals) */
#define MAX_ATTR_ENTRIES 4096  /* an instance's attributes */
#define MAX_KEY_LEN 256        /* keys looked up are short names */
#define CHUNK 128              /* entries per read */

static int rd(const pm_objreader *r, uint64_t addr, void *dst, size_t len)
{
    if (!addr)
        return -1;
    return pm_space_read(r->space, addr, dst, len);
}

static uint64_t rd_ptr(const pm_objreader *r, uint64_t addr)
{
    uint64_t v = 0;
    return rd(r, addr, &v, 8) == 0 ? v : 0;
}

/* Where a keys object's entries are and how they are laid out. */
typedef struct {
    uint64_t entries;
    size_t n;                 /* entries in use (live or deleted) */
    size_t size;              /* bytes per entry */
    size_t key, value;        /* offsets in an entry */
} keys_view;

static int view_keys(const pm_objreader *r, uint64_t keys, keys_view *v)
{
    const pm_objlayout *O = r->O;
    uint8_t h[128];
    if (O->dk_indices > sizeof h || rd(r, keys, h, O->dk_indices) != 0)
        return -1;
    int64_t nentries;
    memcpy(&nentries, h + O->dk_nentries, 8);
    uint64_t slots, index_bytes;
    int general;
    if (O->keys_kind == PM_KEYS_SIZED) {
        int64_t size;
        memcpy(&size, h + O->dk_size, 8);
        if (size < 1 || size > ((int64_t)1 << MAX_LOG2_SIZE) || (size & (size - 1)))
            return -1;
        slots = (uint64_t)size;
        /* 3.9/3.10 (Objects/dict-common.h, DK_IXSIZE): indices as wide as
         * the table's size needs. */
        index_bytes = slots * (slots <= 0xff ? 1 : slots <= 0xffff ? 2 : 4);
        general = 1;
    } else if (O->keys_kind == PM_KEYS_LOG2) {
        unsigned log2 = h[O->dk_size], log2_ix = h[O->dk_log2_index_bytes];
        if (log2 > MAX_LOG2_SIZE || log2_ix < log2 || log2_ix > log2 + 3)
            return -1;
        slots = (uint64_t)1 << log2;
        index_bytes = (uint64_t)1 << log2_ix;
        general = h[O->dk_kind] == 0; /* DICT_KEYS_GENERAL; unicode and split keys omit the hash */
    } else {
        return -1;
    }
    if (nentries < 0 || (uint64_t)nentries > slots)
        return -1;
    v->entries = keys + O->dk_indices + index_bytes;
    v->n = (size_t)nentries;
    v->size = general ? 24 : 16;
    v->key = general ? 8 : 0;
    v->value = general ? 16 : 8;
    return 0;
}

/* Calls fn per live entry of keys; the values are the entries' own, or
 * (values != 0, a split table) values[i] for entry i. */
static int scan_keys(const pm_objreader *r, uint64_t keys, uint64_t values, size_t max, pm_dict_fn fn, void *ctx)
{
    keys_view v;
    if (view_keys(r, keys, &v) != 0)
        return -1;
    size_t n = v.n < max ? v.n : max;
    uint8_t buf[CHUNK * 24];
    uint64_t vals[CHUNK];
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        if (rd(r, v.entries + at * v.size, buf, k * v.size) != 0)
            return -1;
        if (values && rd(r, values + at * 8, vals, k * 8) != 0)
            return -1;
        for (size_t i = 0; i < k; i++) {
            uint64_t key, value;
            memcpy(&key, buf + i * v.size + v.key, 8);
            if (values)
                value = vals[i];
            else
                memcpy(&value, buf + i * v.size + v.value, 8);
            if (key && value && fn(ctx, key, value))
                return 0;
        }
    }
    return 0;
}

int pm_dict_scan(const pm_objreader *r, uint64_t dict, size_t max, pm_dict_fn fn, void *ctx)
{
    uint64_t keys = rd_ptr(r, dict + r->O->ma_keys);
    if (!keys)
        return -1;
    uint64_t values = rd_ptr(r, dict + r->O->ma_values);
    return scan_keys(r, keys, values ? values + r->O->values_items : 0, max, fn, ctx);
}

int pm_str_equals(const pm_objreader *r, uint64_t addr, const char *key)
{
    const pm_layout *L = r->L;
    uint8_t h[128];
    size_t len = strlen(key);
    char data[MAX_KEY_LEN];
    if (len > sizeof data || L->str_ascii_data > sizeof h || rd(r, addr, h, L->str_ascii_data) != 0)
        return 0;
    uint64_t type;
    int64_t length;
    uint32_t state;
    memcpy(&type, h + L->ob_type, 8);
    memcpy(&length, h + L->str_length, 8);
    memcpy(&state, h + L->str_state, 4);
    if ((r->str_type && type != r->str_type) || length != (int64_t)len || !(state & L->str_compact_mask) ||
        !(state & L->str_ascii_mask))
        return 0;
    return rd(r, addr + L->str_ascii_data, data, len) == 0 && memcmp(data, key, len) == 0;
}

typedef struct {
    const pm_objreader *r;
    const char *key;
    uint64_t value;
} lookup;

static int match(void *ctx, uint64_t key, uint64_t value)
{
    lookup *l = ctx;
    if (!pm_str_equals(l->r, key, l->key))
        return 0;
    l->value = value;
    return 1;
}

uint64_t pm_dict_get(const pm_objreader *r, uint64_t dict, const char *key)
{
    lookup l = {r, key, 0};
    pm_dict_scan(r, dict, MAX_LOOKUP, match, &l);
    return l.value;
}

/* An attribute kept in the values array of a type's shared keys. */
static uint64_t cached_keys_get(const pm_objreader *r, uint64_t type, uint64_t values, const char *name)
{
    uint64_t keys = rd_ptr(r, type + r->O->ht_cached_keys);
    lookup l = {r, name, 0};
    if (keys)
        scan_keys(r, keys, values + r->O->values_items, MAX_ATTR_ENTRIES, match, &l);
    return l.value;
}

uint64_t pm_obj_attr(const pm_objreader *r, uint64_t obj, const char *name)
{
    const pm_objlayout *O = r->O;
    uint64_t type = rd_ptr(r, obj + r->L->ob_type);
    uint64_t flags = 0;
    if (!type || (O->managed_dict_flag && rd(r, type + O->tp_flags, &flags, 8) != 0))
        return 0;
    if (O->attrs_kind == PM_ATTRS_DICTOFFSET || !(flags & O->managed_dict_flag)) {
        /* A __dict__ slot inside the object (negative offsets, from the end
         * of variable-sized objects, are not needed for threads). */
        int64_t off = 0;
        if (rd(r, type + O->tp_dictoffset, &off, 8) != 0 || off <= 0 || off > (1 << 16))
            return 0;
        uint64_t dict = rd_ptr(r, obj + (uint64_t)off);
        return dict ? pm_dict_get(r, dict, name) : 0;
    }
    /* Managed dicts: pointers in the words before the object's GC header
     * (Include/internal/pycore_object.h of each version). */
    switch (O->attrs_kind) {
    case PM_ATTRS_311: { /* values at -4 words when not materialized, else the dict at -3 */
        uint64_t values = rd_ptr(r, obj - 4 * 8);
        if (values)
            return cached_keys_get(r, type, values, name);
        uint64_t dict = rd_ptr(r, obj - 3 * 8);
        return dict ? pm_dict_get(r, dict, name) : 0;
    }
    case PM_ATTRS_312: { /* one word at -3: the values pointer less one (odd: a tag), or the dict */
        uint64_t dorv = rd_ptr(r, obj - 3 * 8);
        if (dorv & 1)
            return cached_keys_get(r, type, dorv + 1, name);
        return dorv ? pm_dict_get(r, dorv, name) : 0;
    }
    case PM_ATTRS_313: { /* the dict at -3 once made; before that, values inline after the object */
        uint64_t dict = rd_ptr(r, obj - 3 * 8);
        if (dict)
            return pm_dict_get(r, dict, name);
        int64_t basic = 0;
        uint8_t valid = 0;
        if (!(flags & O->inline_values_flag) || rd(r, type + O->tp_basicsize, &basic, 8) != 0 || basic < 16 ||
            basic > (1 << 16))
            return 0;
        uint64_t values = obj + (uint64_t)basic;
        if (rd(r, values + O->values_valid, &valid, 1) != 0 || !valid)
            return 0;
        return cached_keys_get(r, type, values, name);
    }
    default:
        return 0;
    }
}

int pm_long_u64(const pm_objreader *r, uint64_t addr, uint64_t *out)
{
    const pm_objlayout *O = r->O;
    uint64_t head[8];
    if (O->long_digits > sizeof head || O->long_size + 8 > O->long_digits || rd(r, addr, head, O->long_digits) != 0)
        return -1;
    uint64_t type, word;
    memcpy(&type, (uint8_t *)head + r->L->ob_type, 8);
    memcpy(&word, (uint8_t *)head + O->long_size, 8);
    if (r->int_type && type != r->int_type)
        return -1;
    uint64_t ndigits;
    if (O->long_kind == PM_LONG_TAG) { /* lv_tag: digits << 3 | sign (0 positive, 1 zero, 2 negative) */
        if ((word & 3) == 2)
            return -1;
        ndigits = word >> 3;
    } else {
        if ((int64_t)word < 0)
            return -1;
        ndigits = word;
    }
    uint32_t d[3] = {0, 0, 0};
    if (ndigits > 3 || (ndigits && rd(r, addr + O->long_digits, d, 4 * ndigits) != 0))
        return -1;
    if (d[2] >> 4) /* beyond 64 bits */
        return -1;
    *out = (uint64_t)d[0] | ((uint64_t)d[1] << 30) | ((uint64_t)d[2] << 60);
    return 0;
}
