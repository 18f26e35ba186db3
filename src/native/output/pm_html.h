/* pm_html.h — the self-contained HTML viewer (internal to the format table). */
#ifndef PM_HTML_H
#define PM_HTML_H

#include "pm_output.h"

/* The marker in the template that the profile's JSON replaces.  It must sit
 * inside <script type="application/json">…</script>. */
#define PM_HTML_MARKER "@PYROMETER_PROFILE_JSON@"

/* Writes tmpl with PM_HTML_MARKER replaced by the profile as the .pyro JSON
 * (schema at the top of pm_pyro.c), escaped so that it cannot end the script
 * element or be read as markup: '<', '>', '&', U+2028 and U+2029 become \uXXXX
 * escapes (they only occur inside JSON strings, so the JSON is unchanged).
 * 0, or -1 when the template has no marker or on OOM (out left as it was). */
int pm_write_html(const pm_profile *p, const char *tmpl, size_t tlen, pm_buf *out);

#endif
