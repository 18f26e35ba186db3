/* pm_html.c — the HTML viewer file: the viewer's template (HTML with its CSS
 * and JS inlined, passed in by the caller: the assets are package data of the
 * Python shell) with the profile embedded as JSON.
 *
 * The JSON is exactly the .pyro document (pm_pyro.c), so the viewer reads the
 * one documented schema.  It is produced by the .pyro writer and inflated
 * again rather than written twice: one serialiser, one schema. */
#include "pm_html.h"

#include <string.h>

#include "../codec/pm_gzip.h"
#include "../input/pm_input.h"

static const char *find_marker(const char *s, size_t n)
{
    size_t m = sizeof PM_HTML_MARKER - 1;
    for (size_t i = 0; i + m <= n; i++)
        if (s[i] == '@' && memcmp(s + i, PM_HTML_MARKER, m) == 0)
            return s + i;
    return NULL;
}

/* Appends json with every byte that could end the <script> element or start
 * markup replaced by a JSON escape.  Those bytes (and U+2028/2029, which old
 * JS parsers treat as line ends) only occur inside JSON strings, where the
 * escape means the same character. */
static void put_escaped(pm_buf *b, const char *s, size_t n)
{
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        size_t skip = 1;
        if (c == '<')
            esc = "\\u003c";
        else if (c == '>')
            esc = "\\u003e";
        else if (c == '&')
            esc = "\\u0026";
        else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                 ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            esc = (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            skip = 3;
        }
        if (!esc)
            continue;
        pm_buf_put(b, s + run, i - run);
        pm_buf_put(b, esc, 6);
        i += skip - 1;
        run = i + 1;
    }
    pm_buf_put(b, s + run, n - run);
}

int pm_write_html(const pm_profile *p, const char *tmpl, size_t tlen, pm_buf *out)
{
    if (!tmpl)
        return -1;
    const char *mark = find_marker(tmpl, tlen);
    if (!mark)
        return -1;
    size_t start = out->len;
    pm_buf gz, json;
    pm_buf_init(&gz);
    pm_buf_init(&json);
    char err[128];
    int failed = pm_write_pyro(p, &gz) != 0 ||
                 pm_gz_inflate(gz.data, gz.len, PM_PYRO_MAX_JSON, &json, err, sizeof err) != 0;
    pm_buf_free(&gz);
    if (!failed) {
        size_t before = (size_t)(mark - tmpl);
        size_t mlen = sizeof PM_HTML_MARKER - 1;
        pm_buf_put(out, tmpl, before);
        put_escaped(out, json.data, json.len);
        pm_buf_put(out, mark + mlen, tlen - before - mlen);
    }
    pm_buf_free(&json);
    if (failed || out->oom) {
        out->len = start;
        if (out->data)
            out->data[out->len] = '\0';
        return -1;
    }
    return 0;
}
