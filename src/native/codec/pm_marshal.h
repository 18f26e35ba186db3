/* pm_marshal.h — the subset of Python's marshal format that cProfile's
 * dump_stats writes (and pstats reads): dict, tuple, int, long, binary float,
 * str (unicode, ascii, short ascii, interned variants), None/True/False, list,
 * and back-references (FLAG_REF / 'r', marshal version 3+).  Written as
 * version 4, the version every Python 3.4+ reads.  Shared by the pstats
 * writer (output/pm_pstats.c) and reader (input/pm_pstats_read.c). */
#ifndef PM_MARSHAL_H
#define PM_MARSHAL_H

#include <stddef.h>
#include <stdint.h>

#include "pm_buf.h"

/* ---- writer ------------------------------------------------------------ */
void pm_mw_int(pm_buf *b, int64_t v);          /* 'i' or 'l' */
void pm_mw_float(pm_buf *b, double v);         /* 'g' */
/* A str: must already be valid UTF-8 (marshal decodes with surrogatepass;
 * callers clean first).  's' short ascii / 'u' unicode. */
void pm_mw_str(pm_buf *b, const char *s, size_t len);
void pm_mw_tuple(pm_buf *b, uint32_t n, int flag_ref); /* header only */
void pm_mw_ref(pm_buf *b, uint32_t index);
void pm_mw_dict_begin(pm_buf *b);
void pm_mw_dict_end(pm_buf *b);

/* ---- reader: a parsed value graph -------------------------------------- */
typedef enum {
    PM_MV_NONE, PM_MV_BOOL, PM_MV_INT, PM_MV_FLOAT, PM_MV_STR, PM_MV_TUPLE, PM_MV_LIST, PM_MV_DICT
} pm_mv_kind;

typedef struct {
    int32_t kind;
    uint32_t n;       /* items (tuple/list) or pairs (dict); string length */
    uint32_t first;   /* index into kids (containers) or into text (str) */
    int64_t i;        /* PM_MV_INT / BOOL (saturated for huge longs) */
    double f;         /* PM_MV_FLOAT, also set for INT */
} pm_mv;

typedef struct {
    pm_mv *v;
    uint32_t nv, capv;
    uint32_t *kids;   /* value indexes */
    uint32_t nk, capk;
    pm_buf text;      /* string bytes (UTF-8 as stored) */
    uint32_t *refs;
    uint32_t nrefs, caprefs;
    char err[160];
} pm_marshal;

/* No value: what the parse returns when it fails. */
#define PM_MARSHAL_ERR UINT32_MAX

/* Parses one object; returns the root value index, or PM_MARSHAL_ERR with a
 * one-line reason (and byte offset) in m->err.  Bounded: nesting depth,
 * counts checked against the bytes left, no cycles can be followed because
 * callers only descend a fixed shape. */
uint32_t pm_marshal_parse(pm_marshal *m, const void *data, size_t len, size_t *end);
void pm_marshal_free(pm_marshal *m);
const pm_mv *pm_mv_get(const pm_marshal *m, uint32_t i);
/* Item k of a tuple/list, or key/value k of a dict (NULL when out of range). */
const pm_mv *pm_mv_item(const pm_marshal *m, const pm_mv *c, uint32_t k);
const pm_mv *pm_mv_key(const pm_marshal *m, const pm_mv *d, uint32_t k);
const pm_mv *pm_mv_val(const pm_marshal *m, const pm_mv *d, uint32_t k);
const char *pm_mv_text(const pm_marshal *m, const pm_mv *s);

#endif
