/* pm_interchange.h — writers of the formats other tools read (pstats,
 * speedscope, pprof, Chrome trace, Firefox Profiler, OTLP, Zipkin,
 * importtime logs).  Each one reads only the profile model.  Their readers,
 * for `convert`, are in input/pm_input.h. */
#ifndef PM_INTERCHANGE_H
#define PM_INTERCHANGE_H

#include "pm_output.h"

/* pstats (.prof): the marshal'd dict cProfile's dump_stats writes. */
int pm_write_pstats(const pm_profile *p, pm_buf *out);

/* speedscope JSON: one sampled profile per thread, metric m (-1: default). */
int pm_write_speedscope(const pm_profile *p, int m, pm_buf *out);
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

/* A `python -X importtime` log (post-order, two spaces per level, µs). */
int pm_write_importtime(const pm_profile *p, int m, pm_buf *out);

#endif
