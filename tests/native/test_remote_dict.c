/* test_remote_dict.c — the dict, attribute and int reader of the thread-name
 * reader (collect/pm_remote_dict.c) on made-up memory: dicts with 3.9/3.10
 * keys (dk_size, three-word entries) and 3.11+ keys (general, str-only and
 * split tables), instance attributes kept each version's way (a __dict__ at
 * tp_dictoffset; 3.11 values or dict before the object; 3.12's tagged word;
 * 3.13 inline values or a dict), ints of one to three digits in both
 * encodings; then the same memory with random bytes changed: never a fault
 * or a read outside it, and a name found is the right one or none. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/pm_remote_dict.h"
#include "pm_test.h"
#include "test_util.h"

#define BASE 0x20000000ull
#define SIZE 16384

enum { T_STR = 0x100, T_INT, T_TYPE };

/* Where things sit: strs, ints, the type, keys, values, dict, objects. */
enum { S_A = 0x0, S_NAME = 0x40, S_THREADING = 0x80, S_OTHER = 0xc0, S_LONG = 0x100, S_VALUE = 0x180,
       I_SMALL = 0x200, I_BIG = 0x240, TYPE = 0x300, KEYS = 0x800, VALUES = 0xa00, DICT = 0xb00,
       OBJ_PRE = 0xc00, OBJ = 0xc40, KEYS_BIG = 0x1000 };

static uint8_t mem[SIZE];

static void put(size_t at, uint64_t v) { memcpy(mem + at, &v, 8); }
static uint64_t A_(size_t off) { return BASE + off; }

static void str_at(size_t at, const char *s)
{
    put(at + 8, T_STR);
    put(at + 16, strlen(s));
    uint32_t state = 0x20 | 0x40 | (1 << 2); /* compact, ascii, one byte a character */
    memcpy(mem + at + 32, &state, 4);
    memcpy(mem + at + 40, s, strlen(s));
}

/* 3.9/3.10 or 3.11+ keys, and how attributes are kept (the numbers are each
 * version's, as in pm_remote_tables.c). */
static void obj_layout(pm_objlayout *O, int keys_kind, int attrs_kind)
{
    memset(O, 0, sizeof *O);
    O->md_dict = 16;
    O->ma_keys = 32;
    O->ma_values = 40;
    O->keys_kind = keys_kind;
    if (keys_kind == PM_KEYS_SIZED) {
        O->dk_size = 8;
        O->dk_nentries = 32;
        O->dk_indices = 40;
    } else {
        O->dk_size = 8;
        O->dk_log2_index_bytes = 9;
        O->dk_kind = 10;
        O->dk_nentries = 24;
        O->dk_indices = 32;
    }
    O->values_items = attrs_kind == PM_ATTRS_313 ? 8 : 0;
    O->values_valid = attrs_kind == PM_ATTRS_313 ? 3 : PM_NO_OFFSET;
    O->tp_basicsize = 32;
    O->tp_flags = 168;
    O->tp_dictoffset = 288;
    O->ht_cached_keys = 880;
    O->attrs_kind = attrs_kind;
    O->managed_dict_flag = attrs_kind == PM_ATTRS_DICTOFFSET ? 0 : 0x10;
    O->inline_values_flag = attrs_kind == PM_ATTRS_313 ? 0x4 : 0;
    O->long_kind = attrs_kind >= PM_ATTRS_312 ? PM_LONG_TAG : PM_LONG_SIZE;
    O->long_size = 16;
    O->long_digits = 24;
}

/* A keys object of 8 slots with the entries (key, value) given; kind 0
 * general, 1 str-only, 2 split (values elsewhere); values go in the entries
 * unless split. */
static void keys_at(const pm_objlayout *O, size_t at, int kind, const size_t *keys, const size_t *values, int n)
{
    size_t esize = O->keys_kind == PM_KEYS_SIZED || kind == 0 ? 24 : 16;
    size_t koff = esize == 24 ? 8 : 0, voff = esize == 24 ? 16 : 8;
    if (O->keys_kind == PM_KEYS_SIZED) {
        put(at + O->dk_size, 8);
    } else {
        mem[at + O->dk_size] = 3;
        mem[at + O->dk_log2_index_bytes] = 3;
        mem[at + O->dk_kind] = (uint8_t)kind;
    }
    put(at + O->dk_nentries, (uint64_t)n);
    size_t entries = at + O->dk_indices + 8;
    for (int i = 0; i < n; i++) {
        mem[at + O->dk_indices + i] = (uint8_t)i;
        put(entries + i * esize + koff, A_(keys[i]));
        if (kind != 2 && values)
            put(entries + i * esize + voff, A_(values[i]));
        if (esize == 24)
            put(entries + i * esize, 0x1234 + (uint64_t)i); /* a hash, never used */
    }
}

static void build(const pm_objlayout *O)
{
    memset(mem, 0, sizeof mem);
    str_at(S_A, "a");
    str_at(S_NAME, "_name");
    str_at(S_THREADING, "threading");
    str_at(S_OTHER, "_nam");   /* a prefix of the key looked up */
    str_at(S_LONG, "_names");  /* and a longer one */
    str_at(S_VALUE, "spinner");
    /* ints: 7, and 2^63 + 5 (three 30-bit digits) */
    uint64_t big = (1ull << 63) + 5;
    put(I_SMALL + 8, T_INT);
    put(I_BIG + 8, T_INT);
    if (O->long_kind == PM_LONG_TAG) {
        put(I_SMALL + 16, 1 << 3);
        put(I_BIG + 16, 3 << 3);
    } else {
        put(I_SMALL + 16, 1);
        put(I_BIG + 16, 3);
    }
    uint32_t d1[1] = {7}, d3[3] = {(uint32_t)(big & 0x3fffffff), (uint32_t)((big >> 30) & 0x3fffffff),
                                   (uint32_t)(big >> 60)};
    memcpy(mem + I_SMALL + 24, d1, 4);
    memcpy(mem + I_BIG + 24, d3, 12);
    put(TYPE + 8, T_TYPE);
}

/* One layout's reader over the memory (a snapshot: reads outside it fail). */
typedef struct {
    pm_layout L;
    pm_objlayout O;
    pm_space sp;
    pm_snapshot snap;
    pm_snap_region reg;
    pm_objreader rd;
} fixture;

static void fixture_init(fixture *f, const int kinds[2])
{
    memset(&f->L, 0, sizeof f->L);
    tu_str_layout(&f->L);
    obj_layout(&f->O, kinds[0], kinds[1]);
    f->reg = (pm_snap_region){BASE, SIZE, 0};
    f->snap = (pm_snapshot){mem, &f->reg, 1};
    pm_space_init(&f->sp, getpid());
    f->sp.snap = &f->snap;
    f->rd = (pm_objreader){&f->sp, &f->L, &f->O, T_STR, T_INT};
}

static const size_t K[] = {S_A, S_OTHER, S_LONG, S_NAME}, V[] = {I_SMALL, I_BIG, S_A, S_VALUE};

/* Lays out the object at OBJ whose _name is "spinner", the way `how` says:
 * 0 a dict (combined), 1 a split dict, 2 values without a dict. */
static void object(const pm_objlayout *O, int how)
{
    int log2 = O->keys_kind == PM_KEYS_LOG2;
    put(OBJ + 8, A_(TYPE));
    put(TYPE + O->tp_basicsize, 16);
    put(TYPE + O->tp_flags, O->managed_dict_flag | O->inline_values_flag);
    put(TYPE + O->tp_dictoffset, O->attrs_kind == PM_ATTRS_DICTOFFSET ? 16 : 0);
    put(TYPE + O->ht_cached_keys, A_(KEYS));
    keys_at(O, KEYS, how == 0 ? (log2 ? 1 : 0) : 2, K, how == 0 ? V : NULL, 4);
    for (int i = 0; i < 4; i++)
        put(VALUES + O->values_items + 8 * i, A_(V[i]));
    mem[VALUES + 3] = 1; /* 3.13: valid */
    put(DICT + O->ma_keys, A_(KEYS));
    put(DICT + O->ma_values, how == 1 ? A_(VALUES) : 0);
    uint64_t dict = how == 2 ? 0 : A_(DICT);
    switch (O->attrs_kind) {
    case PM_ATTRS_DICTOFFSET:
        put(OBJ + 16, dict);
        break;
    case PM_ATTRS_311:
        put(OBJ - 32, how == 2 ? A_(VALUES) : 0);
        put(OBJ - 24, dict);
        break;
    case PM_ATTRS_312:
        put(OBJ - 24, how == 2 ? A_(VALUES) - 1 : dict);
        break;
    default: /* inline values right after the 16-byte object */
        put(OBJ - 24, dict);
        if (how == 2) {
            memmove(mem + OBJ + 16, mem + VALUES, 64);
        }
        break;
    }
}

static const int KINDS[][2] = {{PM_KEYS_SIZED, PM_ATTRS_DICTOFFSET},
                               {PM_KEYS_LOG2, PM_ATTRS_311},
                               {PM_KEYS_LOG2, PM_ATTRS_312},
                               {PM_KEYS_LOG2, PM_ATTRS_313}};

static void test_dicts(pm_t *t)
{
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        fixture f;
        fixture_init(&f, KINDS[k]);
        const pm_objlayout O = f.O;
        const pm_objreader *rd = &f.rd;
        for (int kind = 0; kind < 3; kind++) {
            if (O.keys_kind == PM_KEYS_SIZED && kind == 1)
                continue; /* 3.9/3.10 keys have one entry layout */
            build(&O);
            keys_at(&O, KEYS, kind, K, V, 4);
            put(DICT + O.ma_keys, A_(KEYS));
            put(DICT + O.ma_values, kind == 2 ? A_(VALUES) : 0);
            for (int i = 0; i < 4; i++)
                put(VALUES + O.values_items + 8 * i, A_(V[i]));
            CHECKF(pm_dict_get(rd, A_(DICT), "_name") == A_(S_VALUE), "layout %zu kind %d", k, kind);
            CHECK(pm_dict_get(rd, A_(DICT), "a") == A_(I_SMALL));
            CHECK(pm_dict_get(rd, A_(DICT), "threading") == 0);
            CHECK(pm_dict_get(rd, A_(DICT), "_na") == 0);
            /* A deleted entry (its key gone) is passed over. */
            size_t esize = O.keys_kind == PM_KEYS_SIZED || kind == 0 ? 24 : 16;
            put(KEYS + O.dk_indices + 8 + 3 * esize + (esize == 24 ? 8 : 0), 0);
            CHECK(pm_dict_get(rd, A_(DICT), "_name") == 0);
            /* A key of another type with the same bytes is not the key. */
            put(S_A + 8, T_INT);
            CHECK(pm_dict_get(rd, A_(DICT), "a") == 0);
        }
        build(&O);
        uint64_t v = 0;
        CHECK(pm_long_u64(rd, A_(I_SMALL), &v) == 0 && v == 7);
        CHECK(pm_long_u64(rd, A_(I_BIG), &v) == 0 && v == (1ull << 63) + 5);
        CHECK(pm_long_u64(rd, A_(S_A), &v) != 0);                 /* not an int */
        mem[I_BIG + 24 + 8 + 3] = 0x01;                           /* beyond 64 bits */
        CHECK(pm_long_u64(rd, A_(I_BIG), &v) != 0);
        CHECK(pm_dict_get(rd, A_(SIZE) + 64, "a") == 0);          /* outside the memory */
    }
}

static void test_attributes(pm_t *t)
{
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        fixture f;
        fixture_init(&f, KINDS[k]);
        const pm_objlayout O = f.O;
        const pm_objreader *rd = &f.rd;
        for (int how = 0; how < 3; how++) {
            if (O.attrs_kind == PM_ATTRS_DICTOFFSET && how == 2)
                continue; /* 3.9/3.10 keep a dict always */
            build(&O);
            object(&O, how);
            CHECKF(pm_obj_attr(rd, A_(OBJ), "_name") == A_(S_VALUE), "layout %zu way %d", k, how);
            CHECK(pm_obj_attr(rd, A_(OBJ), "missing") == 0);
            if (O.attrs_kind == PM_ATTRS_313 && how == 2) {
                mem[OBJ + 16 + 3] = 0; /* values no longer valid, and no dict: nothing */
                CHECK(pm_obj_attr(rd, A_(OBJ), "_name") == 0);
            }
        }
    }
}

/* Whether v is a word the memory holds (a value the reader can have read). */
static int held(uint64_t v)
{
    for (size_t at = 0; at + 8 <= SIZE; at += 8)
        if (!memcmp(mem + at, &v, 8))
            return 1;
    return 0;
}

/* Random bytes changed: reads stay inside the memory (the snapshot fails
 * anything else), nothing faults or loops, and what is found is a value the
 * memory holds (the names reader then checks it is a str), or nothing. */
static void test_garbage(pm_t *t)
{
    srand(11);
    int wrong = 0, found = 0;
    for (int round = 0; round < 4000; round++) {
        fixture f;
        fixture_init(&f, KINDS[round % 4]);
        const pm_objlayout O = f.O;
        const pm_objreader *rd = &f.rd;
        build(&O);
        object(&O, (round / 4) % (O.attrs_kind == PM_ATTRS_DICTOFFSET ? 2 : 3));
        for (int j = 0, m = 1 + rand() % 6; j < m; j++) {
            size_t at = (size_t)rand() % 0xd00;
            mem[at] = rand() % 3 == 0 ? 0 : (rand() % 2 ? 0xff : (uint8_t)rand());
        }
        uint64_t v = pm_obj_attr(rd, A_(OBJ), "_name");
        found += v != 0;
        if (v && !held(v))
            wrong++;
        uint64_t n;
        pm_long_u64(rd, A_(I_BIG), &n);
    }
    CHECKF(wrong == 0, "%d reads gave a value the memory does not hold", wrong);
    CHECKF(found > 1000, "only %d of 4000 reads found the name", found);
}

const pm_test pm_tests_remote_dict[] = {
    {"remote_dict/dicts", test_dicts},
    {"remote_dict/attributes", test_attributes},
    {"remote_dict/garbage", test_garbage},
    {NULL, NULL},
};
