/* pm_remote_dict.h — reading dicts, instance attributes and ints out of an
 * address space, for the names of another process's threads
 * (pm_remote_names.c).  A dict is found by a linear scan of its entries
 * that compares str keys byte by byte: no hashing, so nothing depends on the
 * target's hash seed.  Every read goes through pm_space and is bounded (entry
 * counts, sizes, string lengths): a garbage pointer gives "not found", never
 * a crash or a long loop.  No Python.h.
 *
 * The layouts differ by version: dict keys objects (3.9/3.10 dk_size and
 * three-word entries; 3.11+ dk_log2_size, dk_kind and two-word entries for
 * str-only keys), values arrays (3.13 puts four bytes of sizes first) and
 * where an instance's attributes live (3.9/3.10 a __dict__ at the type's
 * tp_dictoffset; 3.11 values and dict pointers before the object; 3.12 one
 * tagged pointer there; 3.13 inline values after the object, or a dict). */
#ifndef PM_REMOTE_DICT_H
#define PM_REMOTE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "pm_layout.h"
#include "pm_space.h"

enum { PM_KEYS_SIZED = 1, PM_KEYS_LOG2 = 2 };                  /* pm_objlayout.keys_kind */
enum { PM_ATTRS_DICTOFFSET = 1, PM_ATTRS_311 = 2, PM_ATTRS_312 = 3, PM_ATTRS_313 = 4 }; /* .attrs_kind */
enum { PM_LONG_SIZE = 1, PM_LONG_TAG = 2 };                    /* .long_kind */

typedef struct {
    size_t interp_modules;       /* PyInterpreterState.modules (3.9-3.11), .imports.modules (3.12+) */
    size_t md_dict;              /* PyModuleObject.md_dict */
    size_t ma_keys, ma_values;   /* PyDictObject */
    int keys_kind;
    size_t dk_size;              /* dk_size (PM_KEYS_SIZED) or dk_log2_size (PM_KEYS_LOG2, one byte) */
    size_t dk_log2_index_bytes;  /* one byte (PM_KEYS_LOG2) */
    size_t dk_kind;              /* one byte (PM_KEYS_LOG2): 0 general entries, else str-only */
    size_t dk_nentries, dk_indices;
    size_t values_items;         /* PyDictValues.values */
    size_t values_valid;         /* PyDictValues.valid (3.13, one byte), else PM_NO_OFFSET */
    size_t tp_basicsize, tp_flags, tp_dictoffset, ht_cached_keys;
    int attrs_kind;
    uint64_t managed_dict_flag;  /* Py_TPFLAGS_MANAGED_DICT (3.11+), else 0 */
    uint64_t inline_values_flag; /* Py_TPFLAGS_INLINE_VALUES (3.13), else 0 */
    int long_kind;
    size_t long_size, long_digits; /* ob_size or lv_tag; the 30-bit digits */
} pm_objlayout;

/* What a read needs: where, the str layout (L), the object layout (O), and
 * the addresses of str and int's types to check keys and values by (0: not
 * checked). */
typedef struct {
    pm_space *space;
    const pm_layout *L;
    const pm_objlayout *O;
    uint64_t str_type, int_type;
} pm_objreader;

/* Called for each live entry of a dict (key and value non-NULL); a non-zero
 * return stops the scan. */
typedef int (*pm_dict_fn)(void *ctx, uint64_t key, uint64_t value);

/* The dict at dict: calls fn per entry, at most max entries looked at.
 * 0, or -1 when the dict cannot be read. */
int pm_dict_scan(const pm_objreader *rd, uint64_t dict, size_t max, pm_dict_fn fn, void *ctx);

/* The value of the ASCII str key in the dict at dict, or 0. */
uint64_t pm_dict_get(const pm_objreader *rd, uint64_t dict, const char *key);

/* The instance attribute name of the object at obj (found where its type
 * keeps attributes, without looking at class attributes), or 0. */
uint64_t pm_obj_attr(const pm_objreader *rd, uint64_t obj, const char *name);

/* Whether the str at addr is the ASCII string key (compact str, same bytes). */
int pm_str_equals(const pm_objreader *rd, uint64_t addr, const char *key);

/* The non-negative int at addr that fits 64 bits into *out; 0 or -1. */
int pm_long_u64(const pm_objreader *rd, uint64_t addr, uint64_t *out);

#endif
