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

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int ym_b64_decode(ym_buf_t *out, const char *s, size_t n)
{
    if (n % 4 != 0)
        return -1;
    ym_buf_reserve(out, n / 4 * 3);
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) /* data after padding */
                return -1;
            v[k] = b64_value(c);
            if (v[k] < 0)
                return -1;
        }
        if (pad == 1 && s[i + 2] == '=')
            return -1;
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* Reject non-canonical encodings: the unused bits must be zero. */
        if ((pad == 2 && (w & 0xFFFF)) || (pad == 1 && (w & 0xFF)))
            return -1;
        char b[3] = { (char)(w >> 16), (char)(w >> 8), (char)w };
        ym_buf_append(out, b, (size_t)(3 - pad));
    }
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
