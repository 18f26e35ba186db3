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
#define INDEX_SLOTS (4 * PM_ASYNC_MAX_TASKS) /* at most; a power of two */

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
    size_t offs[] = {A->fut_state, A->fut_loop, A->task_coro, A->task_name, A->fut_callback0, A->fut_callbacks};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
        if (offs[i] + 8 > r->task_read)
            r->task_read = offs[i] + 8;
    r->tasks = calloc(PM_ASYNC_MAX_TASKS, sizeof *r->tasks);
    r->index = calloc(INDEX_SLOTS, sizeof *r->index);
    if (!r->tasks || !r->index) {
        pm_async_reader_free(r);
        return -1;
    }
    return 0;
}

void pm_async_reader_free(pm_async_reader *r)
{
    free(r->tasks);
    free(r->index);
    free(r->lindex);
    free(r->frames);
    free(r->locals);
    free(r->table);
    memset(r, 0, sizeof *r);
}

static int grow(const pm_async_reader *r, void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    if (r->no_alloc)
        return -1;
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

static size_t slot_of(uint64_t addr, size_t mask) { return (size_t)((addr >> 4) * 0x9E3779B97F4A7C15ull >> 40) & mask; }

/* The index of the task at addr, -1 when none (a hash: with thousands of
 * tasks a scan per look-up would cost milliseconds per tick). */
static int known(const pm_async_reader *r, uint64_t addr)
{
    for (size_t h = slot_of(addr, r->imask);; h = (h + 1) & r->imask) {
        int32_t v = r->index[h];
        if (!v)
            return -1;
        if (r->tasks[v - 1].addr == addr)
            return v - 1;
    }
}

/* Indexes the tasks read, dropping any listed twice (a task moves from the
 * eager set to the scheduled one as it first waits). */
static void index_rebuild(pm_async_reader *r)
{
    size_t cap = 64;
    while (cap < 2 * r->ntasks)
        cap *= 2;
    r->imask = cap - 1;
    memset(r->index, 0, cap * sizeof *r->index);
    size_t k = 0;
    for (size_t i = 0; i < r->ntasks; i++) {
        size_t h = slot_of(r->tasks[i].addr, r->imask);
        while (r->index[h] && r->tasks[r->index[h] - 1].addr != r->tasks[i].addr)
            h = (h + 1) & r->imask;
        if (r->index[h])
            continue;
        r->tasks[k] = r->tasks[i];
        r->index[h] = (int32_t)++k;
    }
    r->ntasks = k;
}

/* Adds obj to the tasks read when it is one (a set's dummy, a dead
 * reference's None or a node of another type is skipped); -1 when the reader
 * holds no more: no read rather than a part of them (the shares would be
 * wrong). */
static int add_task(pm_async_reader *r, uint64_t obj)
{
    if (type_of(r, obj) != r->A->task_type)
        return 0;
    if (r->ntasks == PM_ASYNC_MAX_TASKS)
        return -1;
    pm_async_task *t = &r->tasks[r->ntasks++];
    memset(t, 0, sizeof *t);
    t->addr = obj;
    t->parent = -1;
    return 0;
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
    if (grow(r, (void **)&r->table, &r->captable, bytes, 1) != 0 || pm_space_read(r->space, table, r->table, bytes) != 0)
        return -1;
    if (bytes > r->table_bytes)
        r->table_bytes = bytes;
    for (size_t i = 0; i <= mask; i++) {
        uint64_t key;
        memcpy(&key, r->table + i * A->setentry_size, 8);
        if (!key)
            continue;
        uint64_t obj = key;
        if (weak && (type_of(r, key) != A->weakref_type || rd(r, key + A->wr_object, &obj) != 0))
            continue;
        if (add_task(r, obj) != 0)
            return -1;
    }
    return 0;
}

/* Adds the tasks of one list (3.14+): from its head, node by node, until
 * the head again. */
static int read_list(pm_async_reader *r, uint64_t head)
{
    const pm_async_layout *A = r->A;
    uint64_t node;
    if (rd(r, head, &node) != 0)
        return -1;
    for (size_t n = 0; node != head; n++) {
        /* A list that does not come back (torn) or holds more tasks than
         * the reader: no read. */
        if (!node || n == PM_ASYNC_MAX_TASKS || add_task(r, node - A->task_node) != 0)
            return -1;
        if (rd(r, node, &node) != 0)
            return -1;
    }
    return 0;
}

/* Every thread's list and the interpreter's. */
static int read_lists(pm_async_reader *r)
{
    const pm_layout *L = r->L;
    uint64_t ts;
    if (read_list(r, r->A->interp_tasks_head) != 0 || rd(r, L->interp_addr + L->interp_tstate_head, &ts) != 0)
        return -1;
    for (int n = 0; ts; n++) {
        if (n == 4096 || read_list(r, ts + r->A->ts_tasks_head) != 0 || rd(r, ts + L->ts_next, &ts) != 0)
            return -1;
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
        if (st == A->gen_executing)
            return -2;
        int yf = st == A->gen_yield_from || st == A->gen_yield_from_locked;
        if (st != A->gen_suspended && !yf)
            return -1;
        /* 3.13+ says "suspended in an await" itself; before, a suspended
         * coroutine is always in one (a plain yield ends the chain below). */
        *in_await = A->gen_yield_from != A->gen_suspended ? yf : 1;
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
    uint8_t head[512];
    /* One copy of the task's fields. */
    if (r->task_read > sizeof head || pm_space_read(r->space, t->addr, head, r->task_read) != 0)
        return -1;
    memcpy(&state, head + A->fut_state, 4);
    if (state != 0)
        return -1; /* done or cancelled */
    memcpy(&t->loop, head + A->fut_loop, 8);
    if (loop && t->loop != loop)
        return -1;
    memcpy(&coro, head + A->task_coro, 8);
    memcpy(&t->name, head + A->task_name, 8);
    memcpy(&t->cb0, head + A->fut_callback0, 8);
    memcpy(&t->cbs, head + A->fut_callbacks, 8);
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
        } else if (L->version_hex >= 0x030E0000) {
            memcpy(&top, buf + A->fr_stack, 8); /* stackpointer */
        } else {
            int32_t d;
            memcpy(&d, buf + A->fr_stack, 4);
            if (d < 0)
                break;
            top = base + (uint64_t)d * 8;
        }
        if (top < base || top - base > (1u << 20))
            break;
        if (grow(r, (void **)&r->frames, &r->capframes, r->nframes + 1, sizeof *r->frames) != 0)
            break;
        r->frames[r->nframes++] = rf;
        size_t nl = (size_t)(top - base) / 8;
        if (nl > PM_ASYNC_LOCALS)
            nl = PM_ASYNC_LOCALS;
        if (nl && grow(r, (void **)&r->locals, &r->caplocals, r->nlocals + nl, 8) == 0 &&
            pm_space_read(r->space, base, r->locals + r->nlocals, nl * 8) == 0) {
            for (size_t i = 0; i < nl; i++)
                r->locals[r->nlocals + i] &= A->ref_mask;
            r->nlocals += nl;
        }
        uint64_t yf;
        if (!in_await || top < base + 8 * A->yf_depth || rd(r, top - 8 * A->yf_depth, &yf) != 0)
            break;
        obj = yf & A->ref_mask;
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
    uint64_t task = 0, ml;
    if (type_of(r, cb) != r->A->wakeup_type ||
        (r->A->wakeup_ml && (rd(r, cb + r->A->wakeup_ml_off, &ml) != 0 || ml != r->A->wakeup_ml)))
        return 0;
    if (rd(r, cb + r->A->wakeup_task, &task) == 0)
        return task;
    return 0;
}

/* What one done-callback leads to: the task it wakes; a bound method's
 * object; a closure's cell contents, and the task a future among them wakes
 * (gather's callback holds the outer future, which wakes the parent). */
static void follow_closure(pm_async_reader *r, pm_async_task *t, uint64_t cb);

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
        if (cb == r->fn_last) {
            for (int i = 0; i < r->fn_n; i++)
                add_waker(t, r->fn_wakers[i]);
            return;
        }
        int before = t->nwakers;
        follow_closure(r, t, cb);
        r->fn_last = cb;
        r->fn_n = t->nwakers - before;
        memcpy(r->fn_wakers, t->wakers + before, (size_t)r->fn_n * sizeof *r->fn_wakers);
    }
}

/* A closure's cell contents that are futures, and the task each wakes. */
static void follow_closure(pm_async_reader *r, pm_async_task *t, uint64_t cb)
{
    const pm_async_layout *A = r->A;
    {
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
    uint64_t list = t->cbs, n, items;
    if (t->cb0)
        follow_callback(r, t, t->cb0);
    if (!list || type_of(r, list) != A->list_type ||
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

/* Which task's chain holds obj in a local (a frame that keeps what it waits
 * for: wait_for's inner task, a TaskGroup's `self` in __aexit__), -1 when
 * none: a hash of every chain's locals, built once per read. */
static int lhash(uint64_t v, size_t cap) { return (int)((size_t)((v >> 3) * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1)); }

static void key_put(pm_async_reader *r, uint64_t v)
{
    if (!v)
        return;
    size_t h = (size_t)lhash(v, r->lused);
    while (r->lindex[h].value && r->lindex[h].value != v)
        h = (h + 1) & (r->lused - 1);
    r->lindex[h].value = v;
    r->lindex[h].task = -1;
}

/* The table holds only what the tasks without a parent yet could be held
 * by (themselves, what their callbacks lead to), then each gets the first
 * task whose chain holds it: a table the size of those keys, not of every
 * local of every task (which cost a megabyte of clearing per read at 1000
 * tasks). */
static int build_locals(pm_async_reader *r)
{
    size_t nk = 0;
    for (size_t c = 0; c < r->ntasks; c++)
        if (r->tasks[c].parent < 0)
            nk += 1 + (size_t)r->tasks[c].nwakers;
    size_t need = 16;
    while (need < 4 * nk)
        need *= 2;
    if (need > r->lcap) {
        if (r->no_alloc)
            return -1;
        void *n = realloc(r->lindex, need * sizeof *r->lindex);
        if (!n)
            return -1;
        r->lindex = n;
        r->lcap = need;
    }
    r->lused = need;
    memset(r->lindex, 0, need * sizeof *r->lindex);
    for (size_t c = 0; c < r->ntasks; c++) {
        const pm_async_task *t = &r->tasks[c];
        if (t->parent >= 0)
            continue;
        key_put(r, t->addr);
        for (int w = 0; w < t->nwakers; w++)
            key_put(r, t->wakers[w]);
    }
    for (size_t t = 0; t < r->ntasks; t++) {
        const pm_async_task *p = &r->tasks[t];
        for (uint32_t i = 0; i < p->ln; i++) {
            uint64_t v = r->locals[p->lfirst + i];
            if (!v)
                continue;
            for (size_t h = (size_t)lhash(v, r->lused); r->lindex[h].value; h = (h + 1) & (r->lused - 1))
                if (r->lindex[h].value == v) {
                    if (r->lindex[h].task < 0)
                        r->lindex[h].task = (int32_t)t;
                    break;
                }
        }
    }
    return 0;
}

static int holder(const pm_async_reader *r, uint64_t v)
{
    if (!v)
        return -1;
    for (size_t h = (size_t)lhash(v, r->lused);; h = (h + 1) & (r->lused - 1)) {
        if (!r->lindex[h].value)
            return -1;
        if (r->lindex[h].value == v)
            return r->lindex[h].task;
    }
}

static int ancestor(const pm_async_reader *r, int maybe, int of)
{
    for (int i = maybe, k = 0; i >= 0 && k < 64; i = r->tasks[i].parent, k++)
        if (i == of)
            return 1;
    return 0;
}

int pm_async_reserve(pm_async_reader *r, size_t frames, size_t locals, size_t table_bytes)
{
    size_t lneed = 64;
    while (lneed < 2 * locals)
        lneed *= 2;
    if (grow(r, (void **)&r->frames, &r->capframes, frames, sizeof *r->frames) != 0 ||
        grow(r, (void **)&r->locals, &r->caplocals, locals, 8) != 0 ||
        grow(r, (void **)&r->table, &r->captable, table_bytes, 1) != 0)
        return -1;
    if (lneed > r->lcap) {
        void *n = realloc(r->lindex, lneed * sizeof *r->lindex);
        if (!n)
            return -1;
        r->lindex = n;
        r->lcap = lneed;
    }
    return 0;
}

long pm_async_read(pm_async_reader *r, uint64_t loop)
{
    const pm_async_layout *A = r->A;
    r->ntasks = r->nframes = r->nlocals = r->running = 0;
    r->fn_last = 0;
    if (!A->ready)
        return -1;
    if (A->task_lists && read_lists(r) != 0)
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
    index_rebuild(r);
    for (size_t i = 0; i < r->ntasks; i++)
        read_wakers(r, &r->tasks[i]);
    /* Who waits for whom: a wake-up callback names the waiting task; other
     * objects a callback leads to (or the task itself) name it when one of
     * its chain's frames holds them. */
    int orphans = 0;
    for (size_t c = 0; c < r->ntasks; c++) {
        pm_async_task *t = &r->tasks[c];
        for (int w = 0; w < t->nwakers && t->parent < 0; w++) {
            int p = known(r, t->wakers[w]);
            if (p >= 0 && p != (int)c && !ancestor(r, p, (int)c))
                t->parent = p;
        }
        orphans += t->parent < 0;
    }
    if (orphans && build_locals(r) == 0)
        for (size_t c = 0; c < r->ntasks; c++) {
            pm_async_task *t = &r->tasks[c];
            for (int w = -1; w < t->nwakers && t->parent < 0; w++) {
                int p = holder(r, w < 0 ? t->addr : t->wakers[w]);
                if (p >= 0 && p != (int)c && !ancestor(r, p, (int)c))
                    t->parent = p;
            }
        }
    for (size_t c = 0; c < r->ntasks; c++)
        if (r->tasks[c].parent >= 0)
            r->tasks[r->tasks[c].parent].waited_on = 1;
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
