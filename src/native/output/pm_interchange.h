/* pm_interchange.h — writers and readers of the formats other tools read
 * (pstats, speedscope, pprof, Chrome trace, Firefox Profiler) and the
 * readers `convert` uses for other tools' output (cProfile .prof, collapsed
 * stacks).  Each one reads or builds only the profile model. */
#ifndef PM_INTERCHANGE_H
#define PM_INTERCHANGE_H

#include "pm_output.h"

/* pstats (.prof): the marshal'd dict cProfile's dump_stats writes. */
int pm_write_pstats(const pm_profile *p, pm_buf *out);
pm_profile *pm_read_pstats(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_pstats(const void *data, size_t len);

/* speedscope JSON: one sampled profile per thread, metric m (-1: default). */
int pm_write_speedscope(const pm_profile *p, int m, pm_buf *out);
/* speedscope JSON read back: sampled and evented profiles, one thread each
 * (see pm_speedscope_read.c); sniff: a JSON object whose "$schema" names
 * speedscope. */
pm_profile *pm_read_speedscope(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_speedscope(const void *data, size_t len);
/* pprof: gzip'd perftools.profiles.Profile. */
int pm_write_pprof(const pm_profile *p, pm_buf *out);
/* Chrome Trace Event JSON (from the timeline; aggregate layout without one). */
int pm_write_chrome(const pm_profile *p, int m, pm_buf *out);
/* Firefox Profiler, Gecko profile format (meta.version pinned in pm_gecko.c). */
int pm_write_gecko(const pm_profile *p, pm_buf *out);
/* The timeline's calls as spans: an OTLP ExportTraceServiceRequest
 * (protobuf) and Zipkin v2 JSON.  No timeline: no spans. */
int pm_write_otlp(const pm_profile *p, pm_buf *out);
int pm_write_zipkin(const pm_profile *p, pm_buf *out);
/* Samples as OpenTelemetry profiles: an OTLP ExportProfilesServiceRequest
 * (pm_otlp_profiles.c).  0 or -1. */
int pm_write_otlp_profiles(const pm_profile *p, pm_buf *out);

/* Collapsed stacks ("a;b;c 12" lines) read back. */
pm_profile *pm_read_collapsed(const void *data, size_t len, char *err, size_t errlen);
int pm_sniff_collapsed(const void *data, size_t len);

/* A `python -X importtime` log (post-order, two spaces per level, µs). */
int pm_write_importtime(const pm_profile *p, int m, pm_buf *out);

#endif
