/* app_text.c: trimming and checking user-chosen text (names, messages). */
#include "app/app_internal.h"

#include "base/ym_utf8.h"

/* Decodes one code point of valid UTF-8 at p (n bytes left); returns its length. */
static size_t decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;
    if (len > n) { /* cannot happen after validation; stay in bounds anyway */
        *cp = 0xFFFD;
        return n;
    }
    uint32_t c = p[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (p[i] & 0x3F);
    *cp = c;
    return len;
}

static bool is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           c == 0xA0 || c == 0x3000 || c == 0xFEFF || (c >= 0x2000 && c <= 0x200B) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F;
}

ym_app_text_err_t ym_app__text_clean(const char *in, size_t len, size_t max_chars, unsigned flags, char **out)
{
    *out = NULL;
    if (!ym_utf8_valid(in, len))
        return YM_APP_TEXT_UTF8;
    const unsigned char *p = (const unsigned char *)in;
    /* Find the first and last non-space code points. */
    size_t start = len, end = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = decode(p + i, len - i, &c);
        if (!is_space(c)) {
            if (start == len)
                start = i;
            end = i + k;
        }
        i += k;
    }
    if (start == len)
        return YM_APP_TEXT_EMPTY;
    size_t chars = 0;
    for (size_t i = start; i < end;) {
        uint32_t c;
        i += decode(p + i, end - i, &c);
        bool control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
        /* Bidi overrides can make a name or message display as something else. */
        bool bidi = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
        if ((control && !((flags & YM_APP_TEXT_MULTILINE) && (c == '\n' || c == '\t'))) || bidi)
            return YM_APP_TEXT_CONTROL;
        if (++chars > max_chars)
            return YM_APP_TEXT_TOO_LONG;
    }
    *out = ym_xstrndup(in + start, end - start);
    return YM_APP_TEXT_OK;
}

size_t ym_app__utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    /* Back off continuation bytes so the cut never splits a code point. */
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}
