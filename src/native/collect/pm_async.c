/* pm_async.c — see pm_async.h.
 *
 * Every read goes through the space (fault-tolerant); every pointer taken
 * from memory is checked by its type word before it is followed, and the
 * links between tasks are accepted only when they end at a task the sets
 * listed this very read, so stale or foreign memory yields no link rather
 * than a wrong one.
 */
#include "pm_async.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm_strread.h"

#define SET_MAX_ENTRIES 65536

static int rd(pm_async_reader *r, uint64_t addr, uint64_t *v)
{
    return addr ? pm_space_read(r->space, addr, v, 8) : -1;
}

static uint64_t type_of(pm_async_reader *r, uint64_t obj)
{
    uint64_t t = 0;
    if (rd(r, obj + r->L->ob_type, &t) != 0)
        return 0;
    return t;
}

int pm_async_reader_init(pm_async_reader *r, const pm_async_layout *A, const pm_layout *L, pm_space *space)
{
    memset(r, 0, sizeof *r);
    r->A = A;
    r->L = L;
    r->space = space;
    r->tasks = calloc(PM_ASYNC_MAX_TASKS, sizeof *r->tasks);
    return r->tasks ? 0 : -1;
}

void pm_async_reader_free(pm_async_reader *r)
{
    free(r->tasks);
    free(r->frames);
    free(r->locals);
    free(r->table);
    memset(r, 0, sizeof *r);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *n = realloc(*p, c * elem);
    if (!n)
        return -1;
    *p = n;
    *cap = c;
    return 0;
}

static int known(const pm_async_reader *r, uint64_t addr)
{
    for (size_t i = 0; i < r->ntasks; i++)
        if (r->tasks[i].addr == addr)
            return (int)i;
    return -1;
}

/* Adds the tasks listed in one set (entries are weak references when weak). */
static int read_set(pm_async_reader *r, uint64_t set, int weak)
{
    const pm_async_layout *A = r->A;
    uint64_t mask, table;
    if (rd(r, set + A->set_mask, &mask) != 0 || rd(r, set + A->set_table, &table) != 0 ||
        mask + 1 > SET_MAX_ENTRIES || ((mask + 1) & mask) != 0)
        return -1;
    size_t bytes = (size_t)(mask + 1) * A->setentry_size;
    if (grow((void **)&r->table, &r->captable, bytes, 1) != 0 || pm_space_read(r->space, table, r->table, bytes) != 0)
        return -1;
    for (size_t i = 0; i <= mask && r->ntasks < PM_ASYNC_MAX_TASKS; i++) {
        uint64_t key;
        memcpy(&key, r->table + i * A->setentry_size, 8);
        if (!key)
            continue;
        uint64_t obj = key;
        if (weak && (type_of(r, key) != A->weakref_type || rd(r, key + A->wr_object, &obj) != 0))
            continue;
        /* The set's dummy (a deleted entry) and dead references (None) have
         * other types. */
        if (type_of(r, obj) != A->task_type || known(r, obj) >= 0)
            continue;
        pm_async_task *t = &r->tasks[r->ntasks++];
        memset(t, 0, sizeof *t);
        t->addr = obj;
        t->parent = -1;
    }
    return 0;
}

/* Whether a coroutine (or generator) is suspended in an await, and the
 * address of its frame. */
static int suspended_frame(pm_async_reader *r, uint64_t gen, uint64_t *frame, int *in_await)
{
    const pm_async_layout *A = r->A;
    uint64_t t = type_of(r, gen);
    if (t != A->coro_type && t != A->gen_type)
        return -1;
    if (A->gen_frame_embedded) {
        int8_t st;
        if (pm_space_read(r->space, gen + A->gen_state, &st, 1) != 0)
            return -1;
        if (st == 0) /* FRAME_EXECUTING */
            return -2;
        if (st != A->gen_suspended && !(A->gen_yield_from != A->gen_suspended && st == A->gen_yield_from))
            return -1;
        /* 3.13 says "suspended in an await" itself; before, a suspended
         * coroutine is always in one (a plain yield ends the chain below). */
        *in_await = A->gen_yield_from != A->gen_suspended ? st == A->gen_yield_from : 1;
        *frame = gen + A->gen_frame;
        return 0;
    }
    if (rd(r, gen + A->gen_frame, frame) != 0 || !*frame)
        return -1;
    /* 3.9 f_executing 1; 3.10 f_state FRAME_EXECUTING 0 */
    int8_t st;
    if (r->L->fr_state != PM_NO_OFFSET && pm_space_read(r->space, *frame + r->L->fr_state, &st, 1) == 0 &&
        st == (r->L->version_hex < 0x030A0000 ? 1 : 0))
        return -2;
    *in_await = 1;
    return 0;
}

/* Reads one task: pending, of the loop, its coroutine chain and locals. */
static int read_task(pm_async_reader *r, pm_async_task *t, uint64_t loop)
{
    const pm_async_layout *A = r->A;
    const pm_layout *L = r->L;
    int32_t state;
    uint64_t coro;
    if (pm_space_read(r->space, t->addr + A->fut_state, &state, 4) != 0 || state != 0)
        return -1; /* done or cancelled */
    if (rd(r, t->addr + A->fut_loop, &t->loop) != 0 || (loop && t->loop != loop))
        return -1;
    if (rd(r, t->addr + A->task_coro, &coro) != 0 || rd(r, t->addr + A->task_name, &t->name) != 0)
        return -1;
    t->first = (uint32_t)r->nframes;
    t->lfirst = (uint32_t)r->nlocals;
    uint8_t buf[512];
    uint64_t obj = coro;
    for (int depth = 0; depth < PM_ASYNC_MAX_CHAIN; depth++) {
        uint64_t f;
        int in_await, rc = suspended_frame(r, obj, &f, &in_await);
        if (rc == -2 && depth == 0)
            r->running++;
        if (rc != 0 || A->fr_read > sizeof buf ||
            pm_space_read(r->space, f, buf, A->fr_read) != 0)
            break;
        pm_raw_frame rf;
        pm_walker_parse_frame(L, buf, f, &rf);
        if (rf.lasti < 0)
            break;
        /* Where the value stack ends: locals, cells and the stack below. */
        uint64_t base = f + A->fr_localsplus, top;
        if (L->version_hex < 0x030A0000) {
            memcpy(&top, buf + A->fr_stack, 8); /* f_stacktop: NULL unless suspended */
            if (!top)
                break;
        } else if (L->version_hex < 0x030B0000) {
            int32_t d, fst = (int8_t)buf[L->fr_state];
            uint64_t vs;
            memcpy(&d, buf + A->fr_stack, 4);
            memcpy(&vs, buf + A->fr_valuestack, 8);
            if (fst != -1 || d < 0) /* FRAME_SUSPENDED */
                break;
            top = vs + (uint64_t)d * 8;
        } else {
            int32_t d;
            memcpy(&d, buf + A->fr_stack, 4);
            if (d < 0)
                break;
            top = base + (uint64_t)d * 8;
        }
        if (top < base || top - base > (1u << 20))
            break;
        if (grow((void **)&r->frames, &r->capframes, r->nframes + 1, sizeof *r->frames) != 0)
            break;
        r->frames[r->nframes++] = rf;
        size_t nl = (size_t)(top - base) / 8;
        if (nl > PM_ASYNC_LOCALS)
            nl = PM_ASYNC_LOCALS;
        if (nl && grow((void **)&r->locals, &r->caplocals, r->nlocals + nl, 8) == 0 &&
            pm_space_read(r->space, base, r->locals + r->nlocals, nl * 8) == 0)
            r->nlocals += nl;
        uint64_t yf;
        if (!in_await || top == base || rd(r, top - 8, &yf) != 0)
            break;
        obj = yf;
    }
    t->n = (uint32_t)(r->nframes - t->first);
    t->ln = (uint32_t)(r->nlocals - t->lfirst);
    return t->n ? 0 : -1;
}

static void add_waker(pm_async_task *t, uint64_t obj)
{
    if (obj && t->nwakers < (int)(sizeof t->wakers / sizeof t->wakers[0]))
        t->wakers[t->nwakers++] = obj;
}

/* The task a task's wake-up callback wakes, or 0. */
static uint64_t woken(pm_async_reader *r, uint64_t cb)
{
    uint64_t task = 0;
    if (type_of(r, cb) == r->A->wakeup_type && rd(r, cb + r->A->wakeup_task, &task) == 0)
        return task;
    return 0;
}

/* What one done-callback leads to: the task it wakes; a bound method's
 * object; a closure's cell contents, and the task a future among them wakes
 * (gather's callback holds the outer future, which wakes the parent). */
static void follow_callback(pm_async_reader *r, pm_async_task *t, uint64_t cb)
{
    const pm_async_layout *A = r->A;
    uint64_t type = type_of(r, cb), v;
    if (!type)
        return;
    if (type == A->wakeup_type) {
        add_waker(t, woken(r, cb));
    } else if (type == A->method_type) {
        if (rd(r, cb + A->method_self, &v) == 0)
            add_waker(t, v);
    } else if (type == A->function_type) {
        uint64_t clo, n;
        if (rd(r, cb + A->func_closure, &clo) != 0 || !clo || type_of(r, clo) != A->tuple_type ||
            rd(r, clo + r->L->ob_size, &n) != 0)
            return;
        for (uint64_t i = 0; i < n && i < 8; i++) {
            uint64_t cell, obj, ft, cb0;
            if (rd(r, clo + A->tuple_items + i * 8, &cell) != 0 || type_of(r, cell) != A->cell_type ||
                rd(r, cell + A->cell_ref, &obj) != 0 || !obj)
                continue;
            ft = type_of(r, obj);
            if (ft == A->future_type || ft == A->gathering_type || ft == A->task_type) {
                if (rd(r, obj + A->fut_callback0, &cb0) == 0 && cb0)
                    add_waker(t, woken(r, cb0));
                add_waker(t, obj);
            }
        }
    }
}

static void read_wakers(pm_async_reader *r, pm_async_task *t)
{
    const pm_async_layout *A = r->A;
    uint64_t cb0, list, n, items;
    if (rd(r, t->addr + A->fut_callback0, &cb0) == 0 && cb0)
        follow_callback(r, t, cb0);
    if (rd(r, t->addr + A->fut_callbacks, &list) != 0 || !list || type_of(r, list) != A->list_type ||
        rd(r, list + A->list_size, &n) != 0 || rd(r, list + A->list_items, &items) != 0)
        return;
    for (uint64_t i = 0; i < n && i < 4; i++) {
        uint64_t pair, cb;
        /* (callback, context) */
        if (rd(r, items + i * 8, &pair) == 0 && type_of(r, pair) == A->tuple_type &&
            rd(r, pair + A->tuple_items, &cb) == 0)
            follow_callback(r, t, cb);
    }
}

/* Whether p's chain holds obj in a local: a frame that keeps what it waits
 * for (wait_for's inner task, a TaskGroup's `self` in __aexit__). */
static int holds(const pm_async_reader *r, const pm_async_task *p, uint64_t obj)
{
    for (uint32_t i = 0; i < p->ln; i++)
        if (r->locals[p->lfirst + i] == obj)
            return 1;
    return 0;
}

static int ancestor(const pm_async_reader *r, int maybe, int of)
{
    for (int i = maybe, k = 0; i >= 0 && k < 64; i = r->tasks[i].parent, k++)
        if (i == of)
            return 1;
    return 0;
}

long pm_async_read(pm_async_reader *r, uint64_t loop)
{
    const pm_async_layout *A = r->A;
    r->ntasks = r->nframes = r->nlocals = r->running = 0;
    if (!A->ready)
        return -1;
    for (size_t i = 0; i < A->nsets; i++)
        if (read_set(r, A->set_addr[i], A->set_weak[i]) != 0)
            return -1;
    /* Keep the pending tasks of this loop whose chain could be read. */
    size_t k = 0;
    for (size_t i = 0; i < r->ntasks; i++) {
        pm_async_task t = r->tasks[i];
        if (read_task(r, &t, loop) == 0)
            r->tasks[k++] = t;
    }
    r->ntasks = k;
    for (size_t i = 0; i < r->ntasks; i++)
        read_wakers(r, &r->tasks[i]);
    /* Who waits for whom: a wake-up callback names the waiting task; other
     * objects a callback leads to (or the task itself) name it when one of
     * its chain's frames holds them. */
    for (size_t c = 0; c < r->ntasks; c++) {
        pm_async_task *t = &r->tasks[c];
        for (int w = 0; w < t->nwakers && t->parent < 0; w++) {
            int p = known(r, t->wakers[w]);
            if (p >= 0 && p != (int)c && !ancestor(r, p, (int)c))
                t->parent = p;
        }
        for (size_t p = 0; p < r->ntasks && t->parent < 0; p++) {
            if (p == c || ancestor(r, (int)p, (int)c))
                continue;
            int h = holds(r, &r->tasks[p], t->addr);
            for (int w = 0; w < t->nwakers && !h; w++)
                h = holds(r, &r->tasks[p], t->wakers[w]);
            if (h)
                t->parent = (int)p;
        }
        if (t->parent >= 0)
            r->tasks[t->parent].waited_on = 1;
    }
    return (long)r->ntasks;
}

/* asyncio's own name for a task nobody named: Task-<number>. */
static int default_name(const char *s, size_t len)
{
    if (len < 6 || memcmp(s, "Task-", 5) != 0)
        return 0;
    for (size_t i = 5; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int pm_async_task_name(pm_async_reader *r, const pm_async_task *t, char *out, size_t cap, size_t *len)
{
    uint64_t type = type_of(r, t->name);
    *len = 0;
    /* 3.12+: an unnamed task's name is its number until asked for. */
    if (type == r->A->long_type)
        return 0;
    if (type != r->A->str_type || pm_str_read(r->space, r->L, t->name, out, cap, len) != 0)
        return -1;
    if (default_name(out, *len))
        *len = 0;
    return 0;
}
