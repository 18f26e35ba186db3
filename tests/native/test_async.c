/* test_async.c — the asyncio task reader (collect/pm_async.c) on a made-up
 * address space: a snapshot holding a set of tasks, their coroutines and
 * frames and the callbacks that link them, laid out by a made-up layout.
 * Checks the three ways a child finds its parent (wake-up callback, a
 * closure holding the gathering future, a bound method whose object the
 * parent's frame holds), then reads the same memory with random bytes
 * changed: never a fault, and every link still ends at a task read.  Both
 * ways tasks are kept: a set (3.9-3.13) and 3.14+'s lists headed in thread
 * states and the interpreter, with tagged stack words and the awaited
 * object two words below the stack's top (3.15). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/pm_async.h"
#include "collect/pm_strread.h"
#include "pm_test.h"
#include "test_util.h"

#define BASE 0x10000000ull
#define SIZE 8192

/* Types are only compared: any distinct values do. */
enum { T_TASK = 0x100, T_FUT, T_GATHER, T_WAKE, T_CORO, T_GEN, T_CELL, T_METH, T_FUNC, T_TUPLE, T_LIST, T_STR,
       T_LONG, T_WEAK };

/* Where each object sits in the snapshot. */
enum { SET = 0x0, TABLE = 0x100, P = 0x200, C1 = 0x300, C2 = 0x400, C3 = 0x500, DONE = 0x600, CORO_P = 0x700,
       CORO_P2 = 0x800, CORO_C = 0x900, GATHER = 0xa00, WAKE1 = 0xb00, WAKE2 = 0xb40, FN = 0xb80, CLO = 0xbc0,
       CELL = 0xc00, METH = 0xc40, GROUP = 0xc80, NAME_P = 0xcc0, NAME_C1 = 0xd00, FUT = 0xd80, CODE = 0x1000,
       INTERP = 0x1200, TS1 = 0x1300, TS2 = 0x1400 };
#define NODE 64 /* a task's list node (lists) */

static uint8_t mem[SIZE];
static int lists; /* the 3.14+ way */

static void put(size_t at, uint64_t v) { memcpy(mem + at, &v, 8); }
static void put32(size_t at, int32_t v) { memcpy(mem + at, &v, 4); }
static uint64_t A_(size_t off) { return BASE + off; }

static void layouts(pm_layout *L, pm_async_layout *A)
{
    memset(L, 0, sizeof *L);
    L->version_hex = 0x030D0000;
    L->frames_kind = PM_FRAMES_INTERP;
    L->lasti_kind = PM_LASTI_CUR_PTR;
    L->ob_type = 8;
    L->ob_size = 16;
    L->fr_code = 0;
    L->fr_lasti = 8;
    L->fr_owner = 16;
    L->fr_state = PM_NO_OFFSET;
    L->fr_code_mask = ~0ull;
    L->co_code_adaptive = 0x40;
    tu_str_layout(L);

    memset(A, 0, sizeof *A);
    A->ready = 1;
    A->set_addr[0] = A_(SET);
    A->set_weak[0] = 0;
    A->nsets = 1;
    A->set_mask = 24;
    A->set_table = 32;
    A->setentry_size = 16;
    A->weakref_type = T_WEAK;
    A->task_type = T_TASK;
    A->future_type = T_FUT;
    A->gathering_type = T_GATHER;
    A->fut_loop = 16;
    A->fut_state = 24;
    A->fut_callback0 = 32;
    A->fut_callbacks = 40;
    A->task_coro = 48;
    A->task_name = 56;
    A->wakeup_type = T_WAKE;
    A->wakeup_task = 16;
    A->long_digit = 24;
    A->coro_type = T_CORO;
    A->gen_type = T_GEN;
    A->cell_type = T_CELL;
    A->method_type = T_METH;
    A->function_type = T_FUNC;
    A->tuple_type = T_TUPLE;
    A->list_type = T_LIST;
    A->str_type = T_STR;
    A->long_type = T_LONG;
    A->gen_frame = 64;
    A->gen_frame_embedded = 1;
    A->gen_state = 40;
    A->gen_suspended = -2;
    A->gen_yield_from = -1;
    A->fr_stack = 24;
    A->fr_localsplus = 32;
    A->fr_read = 32;
    A->cell_ref = 16;
    A->method_self = 24;
    A->func_closure = 32;
    A->tuple_items = 24;
    A->list_items = 24;
    A->list_size = 16;
    A->gen_yield_from_locked = -1;
    A->gen_executing = 0;
    A->ref_mask = ~0ull;
    A->yf_depth = 1;
    if (lists) {
        /* 3.15: no set, the states' values, tagged words, the stack pointer. */
        L->version_hex = 0x030F0000;
        L->interp_addr = A_(INTERP);
        L->interp_tstate_head = 16;
        L->ts_next = 0;
        A->nsets = 0;
        A->task_lists = 1;
        A->ts_tasks_head = 32;
        A->interp_tasks_head = A_(INTERP + 48);
        A->task_node = NODE;
        A->gen_suspended = 1;
        A->gen_yield_from = 2;
        A->gen_yield_from_locked = 3;
        A->gen_executing = 4;
        A->ref_mask = ~3ull;
        A->yf_depth = 2;
    }
}

static void task(size_t at, int state, size_t coro, size_t name, uint64_t cb0)
{
    put(at + 8, T_TASK);
    put(at + 16, 0x4242); /* the loop */
    put32(at + 24, state);
    put(at + 32, cb0);
    put(at + 40, 0);
    put(at + 48, A_(coro));
    put(at + 56, A_(name));
}

/* A coroutine suspended in an await: its frame runs CODE at unit `unit`,
 * its stack holds `nlocals` words, the last of which it awaits (lists:
 * each word tagged, and one more word above it). */
static void coro(size_t at, int unit, const uint64_t *locals, int nlocals)
{
    put(at + 8, T_CORO);
    mem[at + 40] = (uint8_t)(int8_t)(lists ? (unit == 4 ? 3 : 2) : -1); /* suspended in an await */
    size_t f = at + 64;
    put(f + 0, A_(CODE));
    put(f + 8, A_(CODE) + 0x40 + 2 * (uint64_t)unit);
    mem[f + 16] = 1;
    for (int i = 0; i < nlocals; i++)
        put(f + 32 + 8 * (size_t)i, locals[i] | (uint64_t)lists);
    if (lists) {
        put(f + 32 + 8 * (size_t)nlocals, 1);
        put(f + 24, A_(f + 32 + 8 * (size_t)nlocals + 8)); /* the stack pointer */
    } else {
        put32(f + 24, nlocals);
    }
}

/* A circular list at head through the tasks' nodes. */
static void link_list(size_t head, const size_t *tasks, size_t n)
{
    size_t prev = head;
    for (size_t i = 0; i < n; i++) {
        put(prev, A_(tasks[i] + NODE));
        put(tasks[i] + NODE + 8, A_(prev));
        prev = tasks[i] + NODE;
    }
    put(prev, A_(head));
    put(head + 8, A_(prev));
}

static void build(void)
{
    memset(mem, 0, sizeof mem);
    /* The set: 8 slots, five tasks. */
    put(SET + 8, 0x999);
    put(SET + 24, 7);
    put(SET + 32, A_(TABLE));
    size_t tasks[] = {P, C1, C2, C3, DONE};
    for (size_t i = 0; i < 5; i++)
        put(TABLE + 16 * i, A_(tasks[i]));
    /* The parent awaits a coroutine (its frame keeps the task group in a
     * local) that awaits a gathering future. */
    uint64_t lp[] = {A_(GROUP), A_(CORO_P2)}, lp2[] = {A_(GATHER)}, lc[] = {7, A_(FUT)};
    coro(CORO_P, 3, lp, 2);
    coro(CORO_P2, 4, lp2, 1);
    coro(CORO_C, 5, lc, 2);
    put(GATHER + 8, T_GATHER);
    put(GATHER + 32, A_(WAKE2));
    put(FUT + 8, T_FUT);
    put(WAKE1 + 8, T_WAKE);
    put(WAKE1 + 16, A_(P));
    put(WAKE2 + 8, T_WAKE);
    put(WAKE2 + 16, A_(P));
    put(FN + 8, T_FUNC);
    put(FN + 32, A_(CLO));
    put(CLO + 8, T_TUPLE);
    put(CLO + 16, 1);
    put(CLO + 24, A_(CELL));
    put(CELL + 8, T_CELL);
    put(CELL + 16, A_(GATHER));
    put(METH + 8, T_METH);
    put(METH + 24, A_(GROUP));
    put(NAME_P + 8, T_LONG);
    put32(NAME_P + 24, 1);
    put(NAME_C1 + 8, T_STR);
    put(NAME_C1 + 16, 6);
    put32(NAME_C1 + 32, 0x20 | 0x40 | (1 << 2));
    memcpy(mem + NAME_C1 + 40, "worker", 6);
    put(CODE + 8, 0x555);
    task(P, 0, CORO_P, NAME_P, 0);
    task(C1, 0, CORO_C, NAME_C1, A_(WAKE1)); /* await task */
    task(C2, 0, CORO_C, NAME_P, A_(FN));     /* gather's closure */
    task(C3, 0, CORO_C, NAME_P, A_(METH));   /* a TaskGroup's bound method */
    task(DONE, 2, CORO_C, NAME_P, A_(WAKE1));
    if (lists) {
        /* Two threads (the second has no task) and the interpreter's list
         * (tasks of threads that ended). */
        put(INTERP + 16, A_(TS1));
        put(TS1, A_(TS2));
        size_t one[] = {P, C1, C2}, ended[] = {C3, DONE};
        link_list(TS1 + 32, one, 3);
        link_list(TS2 + 32, NULL, 0);
        link_list(INTERP + 48, ended, 2);
    }
}

static int find(const pm_async_reader *r, uint64_t addr)
{
    for (size_t i = 0; i < r->ntasks; i++)
        if (r->tasks[i].addr == addr)
            return (int)i;
    return -1;
}

static void test_links(pm_t *t)
{
    pm_layout L;
    pm_async_layout A;
    layouts(&L, &A);
    build();
    pm_snap_region reg = {BASE, SIZE, 0};
    pm_snapshot snap = {mem, &reg, 1};
    pm_space sp;
    pm_space_init(&sp, getpid());
    sp.snap = &snap;
    pm_async_reader r;
    CHECK(pm_async_reader_init(&r, &A, &L, &sp) == 0);
    long n = pm_async_read(&r, 0x4242);
    CHECKF(n == 4, "%ld tasks", n);
    int p = find(&r, A_(P)), c1 = find(&r, A_(C1)), c2 = find(&r, A_(C2)), c3 = find(&r, A_(C3));
    CHECK(p >= 0 && c1 >= 0 && c2 >= 0 && c3 >= 0 && find(&r, A_(DONE)) < 0);
    if (p >= 0 && c1 >= 0 && c2 >= 0 && c3 >= 0) {
        CHECK(r.tasks[p].parent == -1 && r.tasks[p].waited_on);
        CHECK(r.tasks[c1].parent == p && r.tasks[c2].parent == p && r.tasks[c3].parent == p);
        CHECK(!r.tasks[c1].waited_on);
        /* The parent's chain: two frames, outermost first. */
        CHECK(r.tasks[p].n == 2);
        CHECK(r.frames[r.tasks[p].first].lasti == 3 && r.frames[r.tasks[p].first + 1].lasti == 4);
        CHECK(r.frames[r.tasks[p].first].code == A_(CODE));
        CHECK(r.tasks[c1].n == 1 && r.frames[r.tasks[c1].first].lasti == 5);
        char name[64];
        size_t len = 99;
        CHECK(pm_async_task_name(&r, &r.tasks[p], name, sizeof name, &len) == 0 && len == 0);
        CHECK(pm_async_task_name(&r, &r.tasks[c1], name, sizeof name, &len) == 0 && len == 6 &&
              memcmp(name, "worker", 6) == 0);
    }
    /* Another loop's tasks are not read. */
    CHECK(pm_async_read(&r, 0x4343) == 0);
    pm_async_reader_free(&r);
}

/* Random bytes changed anywhere in the objects: the reader may find fewer
 * tasks or links, never read out of bounds, and every link it makes ends at
 * a task of the same read. */
static void test_garbage(pm_t *t)
{
    pm_layout L;
    pm_async_layout A;
    layouts(&L, &A);
    pm_snap_region reg = {BASE, SIZE, 0};
    pm_snapshot snap = {mem, &reg, 1};
    pm_space sp;
    pm_space_init(&sp, getpid());
    sp.snap = &snap;
    pm_async_reader r;
    CHECK(pm_async_reader_init(&r, &A, &L, &sp) == 0);
    srand(7);
    int bad = 0;
    for (int round = 0; round < 3000; round++) {
        build();
        for (int k = 0, m = 1 + rand() % 8; k < m; k++) {
            size_t at = (size_t)rand() % (lists ? 0x1500 : 0x1100);
            mem[at] = rand() % 3 == 0 ? 0 : (uint8_t)rand();
        }
        long n = pm_async_read(&r, 0);
        if (n < 0)
            continue;
        for (long i = 0; i < n; i++) {
            const pm_async_task *tk = &r.tasks[i];
            bad += tk->parent >= n || tk->parent == i || tk->first + tk->n > r.nframes || tk->n > PM_ASYNC_MAX_CHAIN;
            char name[PM_STR_MAX_UTF8];
            size_t len;
            (void)pm_async_task_name(&r, tk, name, sizeof name, &len);
        }
    }
    CHECKF(bad == 0, "%d impossible tasks", bad);
    pm_async_reader_free(&r);
}

static void test_links_lists(pm_t *t)
{
    lists = 1;
    test_links(t);
    lists = 0;
}

static void test_garbage_lists(pm_t *t)
{
    lists = 1;
    test_garbage(t);
    lists = 0;
}

const pm_test pm_tests_async[] = {
    {"async_links", test_links},
    {"async_garbage", test_garbage},
    {"async_links_lists", test_links_lists},
    {"async_garbage_lists", test_garbage_lists},
    {NULL, NULL},
};
