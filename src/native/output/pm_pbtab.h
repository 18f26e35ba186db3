/* pm_pbtab.h — the tables both protobuf profile formats (pprof, OTLP
 * profiles) index into: interned strings ("" first) and locations, one per
 * distinct (frame, executing line) of the profile's nodes. */
#ifndef PM_PBTAB_H
#define PM_PBTAB_H

#include <stdint.h>

#include "../model/pm_idmap.h"
#include "../model/pm_model.h"
#include "../model/pm_strtab.h"
#include "pm_outcommon.h"

typedef struct {
    pm_strtab strs;
    pm_idmap lmap;
    pm_id *lframe;
    int32_t *lline;
    uint32_t nloc, caploc;
    int failed; /* a string could not be interned (OOM): the output is not written */
} pm_pbtab;

/* Starts with string 0 = "". */
void pm_pbtab_init(pm_pbtab *t);
void pm_pbtab_free(pm_pbtab *t);
/* A string's index (0 and failed set on OOM). */
int64_t pm_pbtab_str(pm_pbtab *t, const char *s, size_t len);
int64_t pm_pbtab_cstr(pm_pbtab *t, const char *s);
/* A profile string (an id of c) as an index. */
int64_t pm_pbtab_sid(pm_pbtab *t, const pm_ctext *c, pm_id id);
/* The location id (0, 1, ... in order of first use) of (frame, line),
 * added if new; PM_NONE on OOM. */
uint32_t pm_pbtab_loc(pm_pbtab *t, pm_id frame, int32_t line);
/* Frame f's name and system name "FILE:NAME" as indexes.  The two are never
 * equal: pprof takes a function whose names are equal for one still to
 * demangle, and its C++ heuristic then strips <...> and (...) from it, so
 * `<module>` read as `<unknown>` and every built-in merged into one nameless
 * entry.  tmp is a scratch buffer. */
void pm_pbtab_function(pm_pbtab *t, const pm_profile *p, const pm_ctext *c, pm_id f, pm_buf *tmp, int64_t *name,
                       int64_t *sysname);

#endif
