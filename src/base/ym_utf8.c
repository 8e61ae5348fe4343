#include "base/ym_utf8.h"

/* State layout: bits 0-7 lowest allowed next byte, bits 8-15 highest,
 * bits 16-17 continuation bytes still expected. 0 means "between code points". */
#define ST(need, lo, hi) (((uint32_t)(need) << 16) | ((uint32_t)(hi) << 8) | (uint32_t)(lo))

static uint32_t first_byte(uint8_t c)
{
    if (c < 0x80)
        return YM_UTF8_ACCEPT;
    if (c >= 0xC2 && c <= 0xDF)
        return ST(1, 0x80, 0xBF);
    if (c == 0xE0)
        return ST(2, 0xA0, 0xBF);
    if (c == 0xED)
        return ST(2, 0x80, 0x9F); /* excludes surrogates */
    if (c >= 0xE1 && c <= 0xEF)
        return ST(2, 0x80, 0xBF);
    if (c == 0xF0)
        return ST(3, 0x90, 0xBF);
    if (c >= 0xF1 && c <= 0xF3)
        return ST(3, 0x80, 0xBF);
    if (c == 0xF4)
        return ST(3, 0x80, 0x8F); /* caps at U+10FFFF */
    return YM_UTF8_REJECT;
}

uint32_t ym_utf8_feed(uint32_t state, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (state == YM_UTF8_REJECT)
            return state;
        if (state == YM_UTF8_ACCEPT) {
            /* Fast path over ASCII runs. */
            if (c < 0x80)
                continue;
            state = first_byte(c);
            continue;
        }
        uint32_t lo = state & 0xFF, hi = (state >> 8) & 0xFF, need = state >> 16;
        if (c < lo || c > hi)
            return YM_UTF8_REJECT;
        need--;
        state = need ? ST(need, 0x80, 0xBF) : YM_UTF8_ACCEPT;
    }
    return state;
}

size_t ym_utf8_count(const void *p, size_t n)
{
    const uint8_t *s = p;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            count++;
    return count;
}
