/* pm_json_read.c — a pull JSON reader for untrusted input.
 *
 * Robustness rules: every read is bounds-checked against r->len; nothing
 * recurses; nesting is limited to PM_JR_MAX_DEPTH; the first error sticks and
 * every later call fails fast, so callers may check once per section. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pm_json.h"
#include "pm_num.h"
#include "pm_utf8.h"

void pm_jr_init(pm_jr *r, const char *s, size_t len)
{
    r->s = s;
    r->len = len;
    r->pos = 0;
    r->fresh = 0;
    r->failed = 0;
    r->msg[0] = '\0';
}

int pm_jr_fail(pm_jr *r, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->msg, sizeof r->msg, "%s at byte %zu", what, r->pos);
    return -1;
}

static void pm_jr_ws(pm_jr *r)
{
    while (r->pos < r->len) {
        char c = r->s[r->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        r->pos++;
    }
}

int pm_jr_peek(pm_jr *r)
{
    if (r->failed)
        return -1;
    pm_jr_ws(r);
    return r->pos < r->len ? (unsigned char)r->s[r->pos] : -1;
}

static int pm_jr_expect(pm_jr *r, char c, const char *what)
{
    if (pm_jr_peek(r) != (unsigned char)c)
        return pm_jr_fail(r, r->pos < r->len ? "expected %s" : "unexpected end of input, expected %s", what);
    r->pos++;
    return 0;
}

/* ---- strings -------------------------------------------------------------- */

/* Reads the 4 hex digits after "\u" at r->pos. */
static int pm_jr_u4(pm_jr *r, uint32_t *v)
{
    if (r->len - r->pos < 4)
        return pm_jr_fail(r, "truncated \\u escape");
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        int h = pm_hex_digit((unsigned char)r->s[r->pos + (size_t)i]);
        if (h < 0)
            return pm_jr_fail(r, "bad \\u escape");
        x = (x << 4) | (uint32_t)h;
    }
    r->pos += 4;
    *v = x;
    return 0;
}

/* Decodes (out != NULL) or only validates (out == NULL) a string whose
 * opening quote is at r->pos. */
static int pm_jr_string_body(pm_jr *r, pm_buf *out)
{
    r->pos++; /* the opening quote */
    for (;;) {
        size_t run = r->pos;
        while (run < r->len) {
            unsigned char c = (unsigned char)r->s[run];
            if (c == '"' || c == '\\' || c < 0x20)
                break;
            run++;
        }
        if (out && run > r->pos)
            pm_buf_put(out, r->s + r->pos, run - r->pos);
        r->pos = run;
        if (r->pos >= r->len)
            return pm_jr_fail(r, "unterminated string");
        unsigned char c = (unsigned char)r->s[r->pos];
        if (c == '"') {
            r->pos++;
            return 0;
        }
        if (c < 0x20)
            return pm_jr_fail(r, "control character in string");
        /* A backslash escape. */
        if (r->len - r->pos < 2)
            return pm_jr_fail(r, "unterminated string");
        char e = r->s[r->pos + 1];
        r->pos += 2;
        char lit;
        switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': lit = 0; break;
        default:
            r->pos -= 2;
            return pm_jr_fail(r, "bad escape in string");
        }
        if (e != 'u') {
            if (out)
                pm_buf_putc(out, lit);
            continue;
        }
        uint32_t cp;
        if (pm_jr_u4(r, &cp) != 0)
            return -1;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            /* A high surrogate must be followed by a low one. */
            uint32_t lo;
            if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
                return pm_jr_fail(r, "unpaired surrogate in string");
            r->pos += 2;
            if (pm_jr_u4(r, &lo) != 0)
                return -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return pm_jr_fail(r, "unpaired surrogate in string");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            /* A lone low surrogate is only meaningful as surrogateescape. */
            if (cp < 0xdc80 || cp > 0xdcff)
                return pm_jr_fail(r, "unpaired surrogate in string");
            if (out)
                pm_buf_putc(out, (char)(cp & 0xff));
            continue;
        }
        if (out) {
            unsigned char u[4];
            size_t n = pm_utf8_encode(cp, u);
            pm_buf_put(out, u, n);
        }
    }
}

int pm_jr_string(pm_jr *r, pm_buf *out)
{
    out->len = 0;
    if (out->data)
        out->data[0] = '\0';
    if (pm_jr_peek(r) != '"')
        return pm_jr_fail(r, "expected a string");
    if (pm_jr_string_body(r, out) != 0)
        return -1;
    if (out->oom)
        return pm_jr_fail(r, "out of memory");
    return 0;
}

/* ---- numbers -------------------------------------------------------------- */

/* Scans a number per the JSON grammar at r->pos; sets [*start, r->pos) and
 * whether it has a fraction or exponent. */
static int pm_jr_number(pm_jr *r, size_t *start, int *is_int)
{
    if (pm_jr_peek(r) < 0)
        return pm_jr_fail(r, "unexpected end of input, expected a number");
    size_t p = r->pos;
    const char *s = r->s;
    size_t n = r->len;
    *start = p;
    *is_int = 1;
    if (p < n && s[p] == '-')
        p++;
    if (p >= n || s[p] < '0' || s[p] > '9')
        return pm_jr_fail(r, "expected a number");
    if (s[p] == '0') {
        p++;
    } else {
        while (p < n && s[p] >= '0' && s[p] <= '9')
            p++;
    }
    if (p < n && s[p] == '.') {
        *is_int = 0;
        p++;
        if (p >= n || s[p] < '0' || s[p] > '9') {
            r->pos = p;
            return pm_jr_fail(r, "bad number");
        }
        while (p < n && s[p] >= '0' && s[p] <= '9')
            p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        *is_int = 0;
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p >= n || s[p] < '0' || s[p] > '9') {
            r->pos = p;
            return pm_jr_fail(r, "bad number");
        }
        while (p < n && s[p] >= '0' && s[p] <= '9')
            p++;
    }
    r->pos = p;
    return 0;
}

/* Magnitude of the integer literal s[a..b) (digits, optional '-'); -1 on
 * overflow of uint64. */
static int pm_jr_magnitude(const char *s, size_t a, size_t b, uint64_t *mag, int *neg)
{
    *neg = s[a] == '-';
    uint64_t v = 0;
    for (size_t i = a + (size_t)*neg; i < b; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *mag = v;
    return 0;
}

int pm_jr_i64(pm_jr *r, int64_t *v)
{
    size_t a;
    int is_int, neg;
    uint64_t mag;
    if (pm_jr_number(r, &a, &is_int) != 0)
        return -1;
    if (!is_int)
        return pm_jr_fail(r, "expected an integer");
    if (pm_jr_magnitude(r->s, a, r->pos, &mag, &neg) != 0 ||
        mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return pm_jr_fail(r, "integer out of range");
    *v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int pm_jr_u64(pm_jr *r, uint64_t *v)
{
    size_t a;
    int is_int, neg;
    uint64_t mag;
    if (pm_jr_number(r, &a, &is_int) != 0)
        return -1;
    if (!is_int)
        return pm_jr_fail(r, "expected an integer");
    if (pm_jr_magnitude(r->s, a, r->pos, &mag, &neg) != 0 || (neg && mag != 0))
        return pm_jr_fail(r, "integer out of range");
    *v = mag;
    return 0;
}

int pm_jr_double(pm_jr *r, double *v)
{
    size_t a;
    int is_int;
    if (pm_jr_number(r, &a, &is_int) != 0)
        return -1;
    if (pm_num_parse_double(r->s + a, r->pos - a, v) != 0)
        return pm_jr_fail(r, "bad number");
    return 0;
}

/* ---- structure ------------------------------------------------------------ */

int pm_jr_object_begin(pm_jr *r)
{
    if (pm_jr_expect(r, '{', "an object") != 0)
        return -1;
    r->fresh = 1;
    return 0;
}

int pm_jr_array_begin(pm_jr *r)
{
    if (pm_jr_expect(r, '[', "an array") != 0)
        return -1;
    r->fresh = 1;
    return 0;
}

/* The separator logic shared by arrays and objects: 1 when an item follows,
 * 0 after the closer, -1 on error. */
static int pm_jr_next_item(pm_jr *r, char closer)
{
    int c = pm_jr_peek(r);
    if (c < 0)
        return r->failed ? -1 : pm_jr_fail(r, "unexpected end of input");
    if (r->fresh) {
        r->fresh = 0;
        if (c == closer) {
            r->pos++;
            return 0;
        }
        return 1;
    }
    if (c == closer) {
        r->pos++;
        return 0;
    }
    if (c != ',')
        return pm_jr_fail(r, closer == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    r->pos++;
    return 1;
}

int pm_jr_array_next(pm_jr *r)
{
    return pm_jr_next_item(r, ']');
}

int pm_jr_object_next(pm_jr *r, pm_buf *key)
{
    int k = pm_jr_next_item(r, '}');
    if (k <= 0)
        return k;
    if (pm_jr_string(r, key) != 0)
        return -1;
    if (pm_jr_expect(r, ':', "':'") != 0)
        return -1;
    return 1;
}

int pm_jr_null(pm_jr *r)
{
    if (pm_jr_peek(r) == 'n' && r->len - r->pos >= 4 && memcmp(r->s + r->pos, "null", 4) == 0) {
        r->pos += 4;
        return 1;
    }
    return 0;
}

static int pm_jr_literal(pm_jr *r)
{
    static const char *const lits[] = {"null", "true", "false"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if (r->len - r->pos >= n && memcmp(r->s + r->pos, lits[i], n) == 0) {
            r->pos += n;
            return 0;
        }
    }
    return pm_jr_fail(r, "invalid literal");
}

int pm_jr_skip(pm_jr *r)
{
    /* One bit per open container (1 = object) instead of recursion, so a
     * hostile "[[[[..." costs neither stack nor more than this bitset. */
    unsigned char kind[PM_JR_MAX_DEPTH / 8];
    int depth = 0;
    for (;;) {
        /* A value is expected here. */
        int c = pm_jr_peek(r);
        if (c < 0)
            return r->failed ? -1 : pm_jr_fail(r, "unexpected end of input, expected a value");
        if (c == '{' || c == '[') {
            if (depth >= PM_JR_MAX_DEPTH)
                return pm_jr_fail(r, "JSON nested too deeply");
            int obj = c == '{';
            if (obj)
                kind[depth / 8] = (unsigned char)(kind[depth / 8] | (1u << (depth % 8)));
            else
                kind[depth / 8] = (unsigned char)(kind[depth / 8] & ~(1u << (depth % 8)));
            depth++;
            r->pos++;
            c = pm_jr_peek(r);
            if (c == (obj ? '}' : ']')) {
                r->pos++;
                depth--;
            } else if (obj) {
                if (c != '"')
                    return pm_jr_fail(r, "expected a string key");
                if (pm_jr_string_body(r, NULL) != 0 || pm_jr_expect(r, ':', "':'") != 0)
                    return -1;
                continue;
            } else {
                continue;
            }
        } else if (c == '"') {
            if (pm_jr_string_body(r, NULL) != 0)
                return -1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t a;
            int is_int;
            if (pm_jr_number(r, &a, &is_int) != 0)
                return -1;
        } else if (c == 'n' || c == 't' || c == 'f') {
            if (pm_jr_literal(r) != 0)
                return -1;
        } else {
            return pm_jr_fail(r, "expected a value");
        }
        /* After a value: close containers or move to the next item. */
        for (;;) {
            if (depth == 0)
                return 0;
            int obj = (kind[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
            c = pm_jr_peek(r);
            if (c == (obj ? '}' : ']')) {
                r->pos++;
                depth--;
                continue;
            }
            if (c != ',')
                return c < 0 ? pm_jr_fail(r, "unexpected end of input")
                             : pm_jr_fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            r->pos++;
            if (obj) {
                if (pm_jr_peek(r) != '"')
                    return pm_jr_fail(r, "expected a string key");
                if (pm_jr_string_body(r, NULL) != 0 || pm_jr_expect(r, ':', "':'") != 0)
                    return -1;
            }
            break;
        }
    }
}

int pm_jr_end(pm_jr *r)
{
    if (pm_jr_peek(r) >= 0)
        return pm_jr_fail(r, "trailing data after the JSON document");
    return r->failed ? -1 : 0;
}
