/* pm_strread.c — see pm_strread.h.  Only compact strings are handled: code
 * object names and file names are always created compact. */
#include "pm_strread.h"

#include <string.h>

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int pm_str_read(pm_space *s, const pm_layout *L, uint64_t addr, char *out, size_t cap, size_t *len)
{
    uint8_t head[128];
    *len = 0;
    if (L->str_compact_data > sizeof head || pm_space_read(s, addr, head, L->str_compact_data) != 0)
        return -1;
    int64_t length;
    uint32_t state;
    memcpy(&length, head + L->str_length, 8);
    memcpy(&state, head + L->str_state, 4);
    if (length < 0 || !(state & L->str_compact_mask))
        return -1;
    unsigned kind = (state & L->str_kind_mask) >> L->str_kind_shift;
    int ascii = (state & L->str_ascii_mask) != 0;
    if (kind != 1 && kind != 2 && kind != 4)
        return -1;
    size_t n = (size_t)length > PM_STR_MAX_CHARS ? PM_STR_MAX_CHARS : (size_t)length;
    uint8_t raw[PM_STR_MAX_CHARS * 4];
    uint64_t data = addr + (ascii ? L->str_ascii_data : L->str_compact_data);
    if (n && pm_space_read(s, data, raw, n * kind) != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 <= cap; i++) {
        uint32_t cp;
        if (kind == 1)
            cp = raw[i];
        else if (kind == 2) {
            uint16_t u;
            memcpy(&u, raw + 2 * i, 2);
            cp = u;
        } else
            memcpy(&cp, raw + 4 * i, 4);
        if (cp > 0x10FFFF)
            return -1;
        o += put_utf8(out + o, cp);
    }
    *len = o;
    return 0;
}
