/* pm_codecache.c — see pm_codecache.h. */
#include "pm_codecache.h"

#include <stdlib.h>
#include <string.h>

#include "pm_linetable.h"
#include "pm_strread.h"

#define PM_MAX_UNITS (1u << 22)      /* 8 MiB of bytecode: larger is not a code object */
#define PM_MAX_LINETABLE (1u << 22)

static uint64_t rd64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static int32_t rd32(const uint8_t *b, size_t off)
{
    int32_t v;
    memcpy(&v, b + off, 4);
    return v;
}

static size_t hash_addr(uint64_t a, size_t mask)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdULL;
    a ^= a >> 33;
    return (size_t)a & mask;
}

int pm_codecache_init(pm_codecache *c, const pm_layout *L, pm_space *space)
{
    memset(c, 0, sizeof *c);
    c->L = L;
    c->space = space;
    c->nslots = 1024;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    if (!c->slots)
        return -1;
    pthread_mutex_init(&c->lock, NULL);
    return 0;
}

void pm_codecache_free(pm_codecache *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->entries[i].lines);
    free(c->entries);
    free(c->slots);
    free(c->queue);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof *c);
}

pm_code *pm_codecache_find(pm_codecache *c, uint64_t addr)
{
    size_t mask = c->nslots - 1;
    for (size_t i = hash_addr(addr, mask);; i = (i + 1) & mask) {
        uint32_t s = c->slots[i];
        if (s == 0)
            return NULL;
        if (c->entries[s - 1].addr == addr)
            return &c->entries[s - 1];
    }
}

static int grow_slots(pm_codecache *c)
{
    size_t n = c->nslots * 2;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t e = 0; e < c->n; e++) {
        size_t i = hash_addr(c->entries[e].addr, n - 1);
        while (s[i])
            i = (i + 1) & (n - 1);
        s[i] = (uint32_t)(e + 1);
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return 0;
}

/* The fields that identify a code object; equal fingerprints at the same
 * address mean the same object (names, file and line table are owned by it). */
typedef struct {
    uint64_t type, refcnt, name, qualname, file, lines, code, size;
    int32_t firstlineno, firsttraceable;
} header;

static int parse_header(const pm_layout *L, const uint8_t *buf, header *h)
{
    h->refcnt = rd64(buf, L->ob_refcnt);
    h->type = rd64(buf, L->ob_type);
    h->size = rd64(buf, L->ob_size);
    h->name = rd64(buf, L->co_name);
    h->qualname = L->co_qualname != PM_NO_OFFSET ? rd64(buf, L->co_qualname) : h->name;
    h->file = rd64(buf, L->co_filename);
    h->lines = rd64(buf, L->co_lines);
    h->code = L->co_code != PM_NO_OFFSET ? rd64(buf, L->co_code) : 0;
    h->firstlineno = rd32(buf, L->co_firstlineno);
    h->firsttraceable = L->co_firsttraceable != PM_NO_OFFSET ? rd32(buf, L->co_firsttraceable) : 0;
    return 0;
}

static int read_header(const pm_layout *L, pm_space *space, uint64_t addr, header *h)
{
    uint8_t buf[512];
    if (L->co_read > sizeof buf || pm_space_read(space, addr, buf, L->co_read) != 0)
        return -1;
    return parse_header(L, buf, h);
}

/* A live object has a plausible reference count; freed memory holds an
 * allocator's free-list pointer there (or zero).  Immortal objects of 3.12+
 * sit just under 2^32. */
/* A live object's reference count.  3.14+ keeps flags in its top 16 bits
 * (statically allocated immortal objects, such as the code object of the
 * shim frame under every __init__ a class call runs), so only the count
 * below them is judged. */
static int plausible(const header *h)
{
    uint64_t count = h->refcnt & ((1ULL << 48) - 1);
    return count >= 1 && count < (1ULL << 40);
}

static int matches(const pm_code *e, const header *h)
{
    return h->qualname == e->fp_name && h->file == e->fp_file && h->lines == e->fp_lines &&
           h->firstlineno == e->firstlineno;
}

int pm_codecache_still_valid(pm_codecache *c, pm_space *space, const pm_code *e)
{
    header h;
    if (read_header(c->L, space, e->addr, &h) != 0)
        return 0;
    return h.type == c->L->code_type && plausible(&h) && matches(e, &h);
}

/* Copies names and the line table out of the object and fills the entry. */
static int symbolize(pm_codecache *c, pm_profile *model, uint64_t addr, const header *h, pm_code *e)
{
    const pm_layout *L = c->L;
    char name[PM_STR_MAX_UTF8], file[PM_STR_MAX_UTF8];
    size_t name_len = 0, file_len = 0;
    if (pm_str_read(c->space, L, h->qualname, name, sizeof name, &name_len) != 0)
        return -1;
    if (pm_str_read(c->space, L, h->file, file, sizeof file, &file_len) != 0)
        return -1;

    uint64_t n_units;
    if (L->co_code != PM_NO_OFFSET) {
        uint64_t nbytes;
        if (pm_space_read(c->space, h->code + L->bytes_size, &nbytes, 8) != 0)
            return -1;
        n_units = nbytes / 2;
    } else {
        n_units = h->size;
    }
    if (n_units == 0 || n_units > PM_MAX_UNITS)
        return -1;

    uint64_t tlen;
    if (pm_space_read(c->space, h->lines + L->bytes_size, &tlen, 8) != 0 || tlen > PM_MAX_LINETABLE)
        return -1;
    uint8_t *table = malloc(tlen ? tlen : 1);
    int32_t *lines = malloc(n_units * sizeof *lines);
    if (!table || !lines || (tlen && pm_space_read(c->space, h->lines + L->bytes_data, table, tlen) != 0)) {
        free(table);
        free(lines);
        return -1;
    }
    pm_linetable_build(L->lines_kind, table, tlen, h->firstlineno, lines, n_units);
    free(table);

    pm_id sname = pm_str_intern(model, name, name_len);
    pm_id sfile = pm_str_intern(model, file, file_len);
    pm_id frame = pm_frame_intern(model, sname, sfile, h->firstlineno, PM_FRAME_PYTHON);
    if (frame == PM_NONE) {
        free(lines);
        return -1;
    }
    free(e->lines);
    e->addr = addr;
    e->fp_name = h->qualname;
    e->fp_file = h->file;
    e->fp_lines = h->lines;
    e->firstlineno = h->firstlineno;
    e->firsttraceable = h->firsttraceable;
    e->n_units = (uint32_t)n_units;
    e->lines = lines;
    e->frame = frame;
    return 0;
}

static void queue_pin(pm_codecache *c, size_t index)
{
    pm_code *e = &c->entries[index];
    if (c->watched) {
        atomic_store(&e->trusted, 1);
        return;
    }
    if (e->pin_queued || atomic_load(&e->trusted))
        return;
    if (c->nqueue == c->capqueue) {
        size_t cap = c->capqueue ? c->capqueue * 2 : 64;
        size_t *q = realloc(c->queue, cap * sizeof *q);
        if (!q)
            return;
        c->queue = q;
        c->capqueue = cap;
    }
    c->queue[c->nqueue++] = index;
    e->pin_queued = 1;
}

pm_code *pm_codecache_lookup(pm_codecache *c, uint64_t addr, uint64_t tick)
{
    pm_code *e = pm_codecache_find(c, addr);
    if (!e || atomic_load(&e->stale))
        return NULL;
    if (atomic_load(&e->trusted) || e->seen_tick == tick) {
        c->reused++;
        return e;
    }
    return NULL;
}

void pm_codecache_verify(pm_codecache *c, const uint64_t *addrs, size_t n, uint64_t tick)
{
    enum { BATCH = 64 };
    uint8_t buf[BATCH][512];
    pm_region r[BATCH];
    pm_code *es[BATCH];
    if (c->L->co_read > sizeof buf[0])
        return;
    for (size_t done = 0; done < n;) {
        size_t k = 0;
        for (; done < n && k < BATCH; done++) {
            pm_code *e = pm_codecache_find(c, addrs[done]);
            if (!e || atomic_load(&e->stale) || atomic_load(&e->trusted) || e->seen_tick == tick)
                continue;
            es[k] = e;
            r[k] = (pm_region){e->addr, buf[k], c->L->co_read, 0};
            k++;
        }
        pm_space_readv(c->space, r, k);
        for (size_t i = 0; i < k; i++) {
            header h;
            if (!r[i].ok || parse_header(c->L, buf[i], &h) != 0)
                continue;
            if (h.type == c->L->code_type && plausible(&h) && matches(es[i], &h))
                es[i]->seen_tick = tick;
        }
    }
}

pm_code *pm_codecache_get(pm_codecache *c, pm_profile *model, uint64_t addr, uint64_t tick, int *not_code)
{
    *not_code = 0;
    pm_code *e = pm_codecache_lookup(c, addr, tick);
    if (e)
        return e;
    e = pm_codecache_find(c, addr);
    header h;
    if (read_header(c->L, c->space, addr, &h) != 0)
        return NULL;
    if (h.type != c->L->code_type) {
        *not_code = 1;
        return NULL;
    }
    if (!plausible(&h))
        return NULL;
    if (e && !atomic_load(&e->stale) && matches(e, &h)) {
        e->seen_tick = tick;
        c->reused++;
        return e;
    }
    /* New object, or a new object at a reused address: symbolise afresh. */
    pthread_mutex_lock(&c->lock);
    if (!e) {
        if ((c->n + 1) * 2 > c->nslots && grow_slots(c) != 0)
            goto fail;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 256;
            pm_code *ne = realloc(c->entries, cap * sizeof *ne);
            if (!ne)
                goto fail;
            c->entries = ne;
            c->cap = cap;
        }
        e = &c->entries[c->n];
        memset(e, 0, sizeof *e);
        if (symbolize(c, model, addr, &h, e) != 0)
            goto fail;
        size_t mask = c->nslots - 1, i = hash_addr(addr, mask);
        while (c->slots[i])
            i = (i + 1) & mask;
        c->slots[i] = (uint32_t)(c->n + 1);
        c->n++;
    } else {
        if (symbolize(c, model, addr, &h, e) != 0) {
            c->invalid++;
            goto fail;
        }
        atomic_store(&e->trusted, 0);
        atomic_store(&e->stale, 0);
    }
    c->symbolized++;
    e->seen_tick = tick;
    queue_pin(c, (size_t)(e - c->entries));
    pthread_mutex_unlock(&c->lock);
    return e;
fail:
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

size_t pm_codecache_take_pins(pm_codecache *c, uint64_t *addrs, size_t max)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->nqueue < max ? c->nqueue : max;
    for (size_t i = 0; i < n; i++) {
        pm_code *e = &c->entries[c->queue[c->nqueue - 1 - i]];
        e->pin_queued = 0;
        addrs[i] = e->addr;
    }
    c->nqueue -= n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void pm_codecache_pinned(pm_codecache *c, uint64_t addr, int ok)
{
    pthread_mutex_lock(&c->lock);
    pm_code *e = pm_codecache_find(c, addr);
    if (e && ok)
        atomic_store(&e->trusted, 1);
    pthread_mutex_unlock(&c->lock);
}

void pm_codecache_forget(pm_codecache *c, uint64_t addr)
{
    pthread_mutex_lock(&c->lock);
    pm_code *e = pm_codecache_find(c, addr);
    if (e) {
        atomic_store(&e->trusted, 0);
        atomic_store(&e->stale, 1);
    }
    pthread_mutex_unlock(&c->lock);
}

int pm_codecache_pins_waiting(pm_codecache *c)
{
    pthread_mutex_lock(&c->lock);
    int n = c->nqueue > 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}
