/* pm_report_cells.c — the terminal report's cells: metric values,
 * percentages, colours, and frame names and locations fitted to a width.
 *
 * Numbers are formatted with integer arithmetic (no %f): the host program's
 * locale must not turn "1.234" into "1,234". */
#include <math.h>
#include <string.h>

#include "../codec/pm_num.h"
#include "pm_report_cells.h"
#include "pm_text.h"

/* ---- formatting helpers ------------------------------------------------------ */

size_t pm_rep_fmt_value(const pm_rep *r, int64_t v, char *buf)
{
    if (r->bytes) {
        static const char suffix[] = "KMGTPE";
        double mag = v < 0 ? -(double)v : (double)v;
        if (mag < 1024)
            return pm_num_fmt_i64(buf, v);
        int k = -1;
        while (mag >= 1024 && k < 5) {
            mag /= 1024;
            k++;
        }
        size_t n = pm_rep_fmt_fixed(v < 0 ? -mag : mag, 1, buf);
        buf[n++] = suffix[k];
        buf[n] = '\0';
        return n;
    }
    if (!r->seconds)
        return pm_num_fmt_i64(buf, v);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ms = mag / 1000000u + (mag % 1000000u >= 500000u);
    size_t n = 0;
    if (v < 0 && ms)
        buf[n++] = '-';
    n += pm_num_fmt_u64(buf + n, ms / 1000);
    buf[n++] = '.';
    unsigned frac = (unsigned)(ms % 1000);
    buf[n++] = (char)('0' + frac / 100);
    buf[n++] = (char)('0' + frac / 10 % 10);
    buf[n++] = (char)('0' + frac % 10);
    buf[n] = '\0';
    return n;
}

size_t pm_rep_fmt_fixed(double v, int decimals, char *buf)
{
    if (!isfinite(v) || fabs(v) >= 1e15)
        return pm_num_fmt_double(buf, v);
    static const double scale[] = {1, 10, 100, 1000, 10000};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 4)
        decimals = 4;
    /* Round half up by hand: llround would tie the library to libm. */
    uint64_t q = (uint64_t)(fabs(v) * scale[decimals] + 0.5);
    uint64_t div = (uint64_t)scale[decimals];
    size_t n = 0;
    if (v < 0 && q)
        buf[n++] = '-';
    n += pm_num_fmt_u64(buf + n, q / div);
    if (decimals) {
        buf[n++] = '.';
        uint64_t frac = q % div;
        for (int d = decimals - 1; d >= 0; d--) {
            buf[n + (size_t)d] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)decimals;
    }
    buf[n] = '\0';
    return n;
}

size_t pm_rep_fmt_pct(int64_t v, int64_t whole, char *buf)
{
    if (whole == 0) {
        memcpy(buf, "-", 2);
        return 1;
    }
    size_t n = pm_rep_fmt_fixed((double)v * 100.0 / (double)whole, 1, buf);
    buf[n++] = '%';
    buf[n] = '\0';
    return n;
}

void pm_rep_pad_left(pm_buf *b, const char *s, size_t len, size_t width)
{
    if (len < width)
        pm_text_spaces(b, width - len);
    pm_buf_put(b, s, len);
}

void pm_rep_color(const pm_rep *r, const char *code)
{
    if (r->o->color && code)
        pm_buf_puts(r->out, code);
}

void pm_rep_reset(const pm_rep *r)
{
    if (r->o->color)
        pm_buf_puts(r->out, PM_ANSI_RESET);
}

const char *pm_rep_pct_color(int64_t v, int64_t whole)
{
    double pct = whole ? fabs((double)v * 100.0 / (double)whole) : 0;
    if (pct >= 50)
        return PM_ANSI_RED;
    if (pct >= 20)
        return PM_ANSI_YELLOW;
    if (pct >= 5)
        return PM_ANSI_GREEN;
    return PM_ANSI_DIM;
}

/* ---- frame names and locations ---------------------------------------------- */

static int pm_rep_bracketed(const pm_frame *f)
{
    return f->kind == PM_FRAME_NATIVE;
}

/* A pseudo-file without a line ("<import>": the frames of an import-time
 * profile are modules) locates nothing. */
static int pm_rep_has_loc(const pm_rep *r, const pm_frame *f, size_t *flen)
{
    const char *file = pm_str_get(r->p, f->file, flen);
    return f->kind != PM_FRAME_SPECIAL && *flen > 0 && !(file[0] == '<' && f->line == 0);
}

size_t pm_rep_name_cols(const pm_rep *r, pm_id frame)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t len;
    const char *s = pm_str_get(r->p, f->name, &len);
    return pm_text_cols(s, len) + (pm_rep_bracketed(f) ? 2 : 0);
}

size_t pm_rep_put_name(const pm_rep *r, pm_id frame, size_t max_cols)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t len;
    const char *s = pm_str_get(r->p, f->name, &len);
    if (!pm_rep_bracketed(f))
        return pm_text_put(r->out, s, len, max_cols, 0);
    if (max_cols < 3)
        return pm_text_put(r->out, "[", 1, max_cols, 0);
    pm_buf_putc(r->out, '[');
    size_t cols = pm_text_put(r->out, s, len, max_cols == PM_TEXT_UNLIMITED ? max_cols : max_cols - 2, 0);
    pm_buf_putc(r->out, ']');
    return cols + 2;
}

/* A C function's location is its module (--native): no line to give. */
static int pm_rep_no_line(const pm_frame *f) { return f->kind == PM_FRAME_NATIVE && f->line == 0; }

size_t pm_rep_loc_cols(const pm_rep *r, pm_id frame)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t flen;
    if (!pm_rep_has_loc(r, f, &flen))
        return 0;
    char num[PM_NUM_MAX];
    const char *file = pm_str_get(r->p, f->file, NULL);
    if (pm_rep_no_line(f))
        return pm_text_cols(file, flen);
    return pm_text_cols(file, flen) + 1 + pm_num_fmt_i64(num, f->line);
}

size_t pm_rep_put_loc(const pm_rep *r, pm_id frame, size_t max_cols)
{
    const pm_frame *f = pm_frame_get(r->p, frame);
    size_t flen;
    if (!pm_rep_has_loc(r, f, &flen))
        return 0;
    char num[PM_NUM_MAX + 1];
    num[0] = ':';
    size_t nlen = pm_rep_no_line(f) ? 0 : 1 + pm_num_fmt_i64(num + 1, f->line);
    const char *file = pm_str_get(r->p, f->file, NULL);
    /* The end of a path (file name, line) says most: shorten from the left. */
    size_t file_room = max_cols == PM_TEXT_UNLIMITED ? max_cols : (max_cols > nlen + 1 ? max_cols - nlen : 1);
    size_t cols = pm_text_put(r->out, file, flen, file_room, 1);
    pm_buf_put(r->out, num, nlen);
    return cols + nlen;
}
