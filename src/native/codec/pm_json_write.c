/* pm_json_write.c — JSON string escaping (surrogateescape for bad UTF-8) and
 * numbers. */
#include <math.h>
#include <string.h>

#include "pm_json.h"
#include "pm_utf8.h"

static const char pm_jw_hex[] = "0123456789abcdef";

static void pm_jw_u4(pm_buf *b, unsigned v)
{
    char e[6] = {'\\', 'u', pm_jw_hex[(v >> 12) & 15], pm_jw_hex[(v >> 8) & 15],
                 pm_jw_hex[(v >> 4) & 15], pm_jw_hex[v & 15]};
    pm_buf_put(b, e, sizeof e);
}

/* ASCII bytes that are copied verbatim.  '<' is escaped so that a document
 * embedded in an HTML <script> can never contain "</script>"; controls and
 * DEL so that the file is plain printable text. */
static int pm_jw_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<';
}

void pm_jw_str(pm_buf *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    pm_buf_putc(b, '"');
    size_t i = 0;
    while (i < len) {
        /* Runs of plain ASCII (the common case) go out in one copy. */
        size_t run = i;
        while (run < len && pm_jw_plain(s[run]))
            run++;
        if (run > i) {
            pm_buf_put(b, s + i, run - i);
            i = run;
            if (i == len)
                break;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            switch (c) {
            case '"': pm_buf_put(b, "\\\"", 2); break;
            case '\\': pm_buf_put(b, "\\\\", 2); break;
            case '\n': pm_buf_put(b, "\\n", 2); break;
            case '\r': pm_buf_put(b, "\\r", 2); break;
            case '\t': pm_buf_put(b, "\\t", 2); break;
            default: pm_jw_u4(b, c); break;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = pm_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            /* One ill-formed byte: surrogateescape. */
            pm_jw_u4(b, 0xdc00u | c);
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            /* Valid JSON, but line terminators in older JavaScript. */
            pm_jw_u4(b, cp);
            i += n;
        } else {
            pm_buf_put(b, s + i, n);
            i += n;
        }
    }
    pm_buf_putc(b, '"');
}

void pm_jw_double(pm_buf *b, double v)
{
    if (isnan(v))
        pm_buf_puts(b, "\"nan\"");
    else if (isinf(v))
        pm_buf_puts(b, v < 0 ? "\"-inf\"" : "\"inf\"");
    else
        pm_buf_put_double(b, v);
}
