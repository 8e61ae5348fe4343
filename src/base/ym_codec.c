#include "base/ym_codec.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ym_b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

static void b64_encode_with(ym_buf_t *out, const uint8_t *s, size_t n, const char *alphabet, bool pad)
{
    ym_buf_reserve(out, ym_b64_encoded_len(n));
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        if (pad) { *o++ = '='; *o++ = '='; }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        if (pad) *o++ = '=';
    }
    out->len = (size_t)(o - out->data);
}

void ym_b64_encode(ym_buf_t *out, const void *p, size_t n)
{
    b64_encode_with(out, p, n, b64_chars, true);
}

/* Decoding table, stored plus one so that every other byte is 0: value + 1
 * for the alphabet, 65 for '='. Looked up through b64_val(). */
static const uint8_t b64_plus1[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    ['='] = 65,
};

/* 0-63 for the alphabet, 64 for '=', 255 for anything else. */
static inline uint32_t b64_val(uint8_t c)
{
    return (uint8_t)(b64_plus1[c] - 1);
}

int ym_b64_decode(ym_buf_t *out, const char *s, size_t n)
{
    if (n % 4 != 0)
        return -1;
    if (n == 0)
        return 0;
    /* Writes straight into reserved space: clip frames arrive as data URIs of
     * tens of kilobytes, and a per-byte append showed in the encode profile. */
    ym_buf_reserve(out, n / 4 * 3);
    uint8_t *o = (uint8_t *)out->data + out->len;
    const uint8_t *u = (const uint8_t *)s;
    size_t full = n - 4; /* the last quantum may carry padding */
    for (size_t i = 0; i < full; i += 4) {
        uint32_t a = b64_val(u[i]), b = b64_val(u[i + 1]), c = b64_val(u[i + 2]), d = b64_val(u[i + 3]);
        if ((a | b | c | d) & 0xC0) /* 64 ('=') or 255 (invalid) before the end */
            return -1;
        uint32_t w = a << 18 | b << 12 | c << 6 | d;
        *o++ = (uint8_t)(w >> 16);
        *o++ = (uint8_t)(w >> 8);
        *o++ = (uint8_t)w;
    }
    uint32_t a = b64_val(u[full]), b = b64_val(u[full + 1]), c = b64_val(u[full + 2]), d = b64_val(u[full + 3]);
    if ((a | b) & 0xC0)
        return -1;
    int pad;
    if (c == 64) {
        if (d != 64)
            return -1; /* "x=" followed by data */
        pad = 2;
        c = d = 0;
    } else if (d == 64) {
        pad = 1;
        d = 0;
    } else {
        pad = 0;
    }
    if ((c | d) & 0xC0)
        return -1;
    uint32_t w = a << 18 | b << 12 | c << 6 | d;
    /* Reject non-canonical encodings: the unused bits must be zero. */
    if ((pad == 2 && (w & 0xFFFF)) || (pad == 1 && (w & 0xFF)))
        return -1;
    *o++ = (uint8_t)(w >> 16);
    if (pad < 2)
        *o++ = (uint8_t)(w >> 8);
    if (pad < 1)
        *o++ = (uint8_t)w;
    out->len = (size_t)((char *)o - out->data);
    return 0;
}

void ym_sha1(const void *p, size_t n, uint8_t out[20])
{
    unsigned int len = 20;
    if (!EVP_Digest(p, n, out, &len, EVP_sha1(), NULL)) {
        fprintf(stderr, "yoom: SHA-1 unavailable\n");
        abort();
    }
}

void ym_random_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = getrandom(b, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("yoom: getrandom");
            abort();
        }
        b += r;
        n -= (size_t)r;
    }
}

void ym_random_id(char out[21])
{
    static const char url_chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[15];
    ym_random_bytes(raw, sizeof(raw));
    ym_buf_t b = YM_BUF_INIT;
    b64_encode_with(&b, raw, sizeof(raw), url_chars, false);
    memcpy(out, b.data, 20);
    out[20] = '\0';
    ym_buf_free(&b);
}
