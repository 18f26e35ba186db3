/* pm_outcommon.h — helpers shared by the interchange writers (pstats,
 * speedscope, pprof, Chrome trace, Gecko): clean text for formats that must
 * hold valid UTF-8, the time metric of a profile, thread labels, node paths.
 * Internal to output/. */
#ifndef PM_OUTCOMMON_H
#define PM_OUTCOMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pm_output.h"

/* Every string of a profile as valid UTF-8: well-formed sequences are kept,
 * every ill-formed byte (including the three bytes of an encoded lone
 * surrogate, ED A0..BF xx) becomes U+FFFD.  Formats read by browsers, Go and
 * Python's strict decoders all accept the result; nothing else is changed
 * (each writer escapes what its own syntax needs). */
typedef struct {
    const char **ptr;
    uint32_t *len;
    uint32_t count;
    pm_buf store;
} pm_ctext;

int pm_ctext_init(pm_ctext *c, const pm_profile *p); /* 0 or -1 (OOM) */
void pm_ctext_free(pm_ctext *c);
/* Appends the cleaned bytes of s[0..len) to out. */
void pm_clean_utf8(const char *s, size_t len, pm_buf *out);

/* The metric that measures time for this profile: "cpu" in cpu mode, else
 * "wall", else the first metric whose unit is "nanoseconds"; -1 if none. */
int pm_out_time_metric(const pm_profile *p);
/* The metrics the profile formats with values per sample write (pprof, OTLP
 * profiles): a sampled profile's samples then its time metric; any other
 * profile's every metric.  Fills mets (PM_MAX_METRICS), returns how many. */
int pm_out_value_metrics(const pm_profile *p, int *mets);
/* A numeric meta value, or def when absent / not a number / not finite. */
double pm_out_meta_num(const pm_profile *p, const char *key, double def);
/* A string meta value (raw bytes), or NULL. */
const char *pm_out_meta_str(const pm_profile *p, const char *key, size_t *len);
/* The thread's label into out (cleaned): its name, or "thread IDENT". */
void pm_out_thread_label(const pm_profile *p, pm_id thread, pm_buf *out);
/* The display name of a frame into out (cleaned): the name, "[name]" for a
 * native frame without a file, "<idle>"-style special names as they are. */
void pm_out_frame_name(const pm_profile *p, const pm_ctext *c, pm_id frame, pm_buf *out);
/* Depth of every node below its thread root (thread roots 0, root 0). */
uint32_t *pm_out_depths(const pm_profile *p);
/* A double as text, locale-independent, with exactly 3 decimals (for
 * microsecond / millisecond timestamps): fast path for the hot loops. */
void pm_out_fixed3(pm_buf *b, double v);

#endif
