#include "rtc/ym_stun.h"

#include "base/ym_utf8.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Half-byte table for the reflected polynomial 0xEDB88320: 64 bytes of
 * constants instead of a 1 KiB table or lazy global initialisation. STUN
 * messages are small, so two lookups per byte cost nothing that matters. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t ym_stun_crc32(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= s[i];
        c = crc_nibble[c & 15] ^ (c >> 4);
        c = crc_nibble[c & 15] ^ (c >> 4);
    }
    return c ^ 0xFFFFFFFFu;
}

bool ym_stun_looks_like(const void *data, size_t len)
{
    const uint8_t *p = data;
    return len >= YM_STUN_HEADER_LEN && (p[0] & 0xC0) == 0 && get32(p + 4) == YM_STUN_MAGIC;
}

static uint16_t type_encode(uint16_t method, ym_stun_class_t cls)
{
    unsigned m = method, c = (unsigned)cls;
    return (uint16_t)((m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 | (c & 1) << 4 | (c & 2) << 7);
}

static bool known_required(uint16_t type)
{
    switch (type) {
    case YM_STUN_ATTR_MAPPED_ADDRESS:
    case YM_STUN_ATTR_USERNAME:
    case YM_STUN_ATTR_MESSAGE_INTEGRITY:
    case YM_STUN_ATTR_ERROR_CODE:
    case YM_STUN_ATTR_UNKNOWN_ATTRIBUTES:
    case YM_STUN_ATTR_REALM:
    case YM_STUN_ATTR_NONCE:
    case YM_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
    case YM_STUN_ATTR_PASSWORD_ALGORITHM:
    case YM_STUN_ATTR_USERHASH:
    case YM_STUN_ATTR_XOR_MAPPED_ADDRESS:
    /* ICE connectivity checks carry these; a Binding server can ignore them. */
    case YM_STUN_ATTR_PRIORITY:
    case YM_STUN_ATTR_USE_CANDIDATE:
        return true;
    default:
        return false;
    }
}

/* hdr is the message start: xoring with hdr + 4 covers the cookie (IPv4) or
 * the cookie followed by the transaction id (IPv6), as RFC 8489 §14.2 says. */
static bool parse_addr(const uint8_t *v, size_t n, bool xored, const uint8_t *hdr, ym_stun_addr_t *out)
{
    if (n < 4)
        return false;
    size_t iplen;
    if (v[1] == 0x01 && n == 8) {
        out->family = 4;
        iplen = 4;
    } else if (v[1] == 0x02 && n == 20) {
        out->family = 6;
        iplen = 16;
    } else {
        return false;
    }
    out->port = get16(v + 2);
    memset(out->ip, 0, sizeof(out->ip));
    memcpy(out->ip, v + 4, iplen);
    if (xored) {
        out->port ^= (uint16_t)(YM_STUN_MAGIC >> 16);
        for (size_t i = 0; i < iplen; i++)
            out->ip[i] ^= hdr[4 + i];
    }
    return true;
}

static bool text_ok(const uint8_t *v, size_t n, size_t max)
{
    return n <= max && ym_utf8_valid(v, n);
}

static void note_unknown(ym_stun_msg_t *msg, uint16_t type)
{
    for (size_t i = 0; i < msg->n_unknown; i++)
        if (msg->unknown[i] == type)
            return;
    if (msg->n_unknown < YM_STUN_MAX_UNKNOWN)
        msg->unknown[msg->n_unknown++] = type;
    else
        msg->unknown_overflow = true;
}

int ym_stun_parse(const void *data, size_t len, ym_stun_msg_t *msg, const char **reason)
{
    const uint8_t *p = data;
    const char *why = NULL;
    memset(msg, 0, sizeof(*msg));

    if (len < YM_STUN_HEADER_LEN) { why = "shorter than a STUN header"; goto fail; }
    if (len > YM_STUN_MAX_MSG) { why = "too long"; goto fail; }
    if (p[0] & 0xC0) { why = "leading bits not zero"; goto fail; }
    if (get32(p + 4) != YM_STUN_MAGIC) { why = "bad magic cookie"; goto fail; }
    size_t mlen = get16(p + 2);
    if (mlen % 4 != 0) { why = "length not a multiple of 4"; goto fail; }
    if (mlen != len - YM_STUN_HEADER_LEN) { why = "length does not match the datagram"; goto fail; }

    uint16_t t = get16(p);
    msg->cls = (ym_stun_class_t)((t >> 7 & 2) | (t >> 4 & 1));
    msg->method = (uint16_t)((t & 0x000F) | (t >> 1 & 0x0070) | (t >> 2 & 0x0F80));
    memcpy(msg->txid, p + 8, YM_STUN_TXID_LEN);
    msg->data = p;
    msg->len = len;

    size_t off = YM_STUN_HEADER_LEN;
    bool after_integrity = false;
    while (off < len) {
        /* len - off is a multiple of 4 here, so a header always fits. */
        uint16_t type = get16(p + off);
        size_t alen = get16(p + off + 2);
        size_t padded = (alen + 3) & ~(size_t)3;
        if (padded > len - off - 4) { why = "truncated attribute"; goto fail; }
        const uint8_t *v = p + off + 4;

        if (type == YM_STUN_ATTR_FINGERPRINT) {
            if (alen != 4) { why = "bad FINGERPRINT length"; goto fail; }
            if (off + 8 != len) { why = "attribute after FINGERPRINT"; goto fail; }
            if ((ym_stun_crc32(p, off) ^ YM_STUN_FINGERPRINT_XOR) != get32(v)) { why = "bad FINGERPRINT"; goto fail; }
            msg->has_fingerprint = true;
        } else if (after_integrity) {
            /* RFC 8489 §14.5: everything after MESSAGE-INTEGRITY but the
             * fingerprint (and MESSAGE-INTEGRITY-SHA256) is ignored. */
        } else {
            switch (type) {
            case YM_STUN_ATTR_MESSAGE_INTEGRITY:
                if (alen != 20) { why = "bad MESSAGE-INTEGRITY length"; goto fail; }
                msg->integrity_at = off;
                after_integrity = true;
                break;
            case YM_STUN_ATTR_XOR_MAPPED_ADDRESS:
                if (!parse_addr(v, alen, true, p, &msg->xor_mapped)) { why = "bad XOR-MAPPED-ADDRESS"; goto fail; }
                msg->has_xor_mapped = true;
                break;
            case YM_STUN_ATTR_MAPPED_ADDRESS:
                if (!parse_addr(v, alen, false, p, &msg->mapped)) { why = "bad MAPPED-ADDRESS"; goto fail; }
                msg->has_mapped = true;
                break;
            case YM_STUN_ATTR_SOFTWARE:
                if (!text_ok(v, alen, YM_STUN_MAX_TEXT)) { why = "bad SOFTWARE"; goto fail; }
                if (!msg->software.p)
                    msg->software = (ym_str_t){ (const char *)v, alen };
                break;
            case YM_STUN_ATTR_USERNAME:
                if (!text_ok(v, alen, YM_STUN_MAX_USERNAME)) { why = "bad USERNAME"; goto fail; }
                if (!msg->username.p)
                    msg->username = (ym_str_t){ (const char *)v, alen };
                break;
            case YM_STUN_ATTR_ERROR_CODE: {
                if (alen < 4 || !text_ok(v + 4, alen - 4, YM_STUN_MAX_TEXT)) { why = "bad ERROR-CODE"; goto fail; }
                int cls = v[2] & 7, num = v[3];
                if (cls < 3 || cls > 6 || num > 99) { why = "bad ERROR-CODE"; goto fail; }
                if (!msg->error_code) {
                    msg->error_code = cls * 100 + num;
                    msg->error_reason = (ym_str_t){ (const char *)v + 4, alen - 4 };
                }
                break;
            }
            case YM_STUN_ATTR_UNKNOWN_ATTRIBUTES:
                if (alen % 2 != 0) { why = "bad UNKNOWN-ATTRIBUTES"; goto fail; }
                break;
            case YM_STUN_ATTR_PRIORITY:
                if (alen != 4) { why = "bad PRIORITY"; goto fail; }
                break;
            case YM_STUN_ATTR_USE_CANDIDATE:
                if (alen != 0) { why = "bad USE-CANDIDATE"; goto fail; }
                break;
            case YM_STUN_ATTR_ICE_CONTROLLED:
            case YM_STUN_ATTR_ICE_CONTROLLING:
                if (alen != 8) { why = "bad ICE-CONTROLLED/CONTROLLING"; goto fail; }
                break;
            default:
                /* Types 0x0000-0x7FFF are comprehension-required: the request
                 * must be refused with 420 if we do not know one. */
                if (type < 0x8000 && !known_required(type))
                    note_unknown(msg, type);
                break;
            }
        }
        off += 4 + padded;
    }
    return (int)len;

fail:
    if (reason)
        *reason = why;
    return YM_EPROTO;
}

bool ym_stun_check_integrity(const ym_stun_msg_t *msg, const void *key, size_t key_len)
{
    if (!msg->integrity_at)
        return false;
    size_t at = msg->integrity_at;
    /* The HMAC covers the message up to MESSAGE-INTEGRITY with the header's
     * length rewritten as if that attribute ended the message (§14.5). */
    uint8_t hdr[YM_STUN_HEADER_LEN];
    memcpy(hdr, msg->data, sizeof(hdr));
    put16(hdr + 2, (uint16_t)(at + 24 - YM_STUN_HEADER_LEN));

    bool ok = false;
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* An empty key is legal; give OpenSSL a non-NULL pointer for it. */
    static const uint8_t empty_key[1];
    if (ctx && EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params) == 1 &&
        EVP_MAC_update(ctx, hdr, sizeof(hdr)) == 1 &&
        EVP_MAC_update(ctx, msg->data + YM_STUN_HEADER_LEN, at - YM_STUN_HEADER_LEN) == 1 &&
        EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 && mac_len == 20)
        ok = CRYPTO_memcmp(mac, msg->data + at + 4, 20) == 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return ok;
}

/* A bounded writer: every put checks room first, so builders cannot
 * overflow whatever the caller's cap. */
typedef struct writer {
    uint8_t *out;
    size_t cap, len;
    bool full;
} writer_t;

static uint8_t *w_attr(writer_t *w, uint16_t type, size_t vlen)
{
    size_t padded = (vlen + 3) & ~(size_t)3;
    if (w->full || vlen > 0xFFFF || padded + 4 > w->cap - w->len) {
        w->full = true;
        return NULL;
    }
    uint8_t *a = w->out + w->len;
    put16(a, type);
    put16(a + 2, (uint16_t)vlen);
    memset(a + 4 + vlen, 0, padded - vlen);
    w->len += 4 + padded;
    return a + 4;
}

static void w_begin(writer_t *w, uint16_t method, ym_stun_class_t cls, const uint8_t *txid)
{
    if (w->cap < YM_STUN_HEADER_LEN) {
        w->full = true;
        return;
    }
    put16(w->out, type_encode(method, cls));
    put16(w->out + 2, 0);
    put32(w->out + 4, YM_STUN_MAGIC);
    memcpy(w->out + 8, txid, YM_STUN_TXID_LEN);
    w->len = YM_STUN_HEADER_LEN;
}

static void w_addr(writer_t *w, uint16_t type, const ym_stun_addr_t *a, bool xored)
{
    size_t iplen = a->family == 4 ? 4 : 16;
    uint8_t *v = w_attr(w, type, 4 + iplen);
    if (!v)
        return;
    v[0] = 0;
    v[1] = a->family == 4 ? 0x01 : 0x02;
    put16(v + 2, xored ? (uint16_t)(a->port ^ (YM_STUN_MAGIC >> 16)) : a->port);
    for (size_t i = 0; i < iplen; i++)
        v[4 + i] = xored ? (uint8_t)(a->ip[i] ^ w->out[4 + i]) : a->ip[i];
}

/* SOFTWARE, then the final length and FINGERPRINT. */
static int w_finish(writer_t *w)
{
    static const char software[] = "yoom";
    uint8_t *v = w_attr(w, YM_STUN_ATTR_SOFTWARE, sizeof(software) - 1);
    if (v)
        memcpy(v, software, sizeof(software) - 1);
    size_t fp_at = w->len;
    v = w_attr(w, YM_STUN_ATTR_FINGERPRINT, 4);
    if (!v)
        return -ENOSPC;
    /* The CRC covers a header whose length already counts the fingerprint. */
    put16(w->out + 2, (uint16_t)(w->len - YM_STUN_HEADER_LEN));
    put32(v, ym_stun_crc32(w->out, fp_at) ^ YM_STUN_FINGERPRINT_XOR);
    return (int)w->len;
}

int ym_stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[YM_STUN_TXID_LEN],
                                  const ym_stun_addr_t *mapped, bool with_mapped)
{
    if (mapped->family != 4 && mapped->family != 6)
        return -EINVAL;
    writer_t w = { out, cap, 0, false };
    w_begin(&w, YM_STUN_BINDING, YM_STUN_SUCCESS, txid);
    w_addr(&w, YM_STUN_ATTR_XOR_MAPPED_ADDRESS, mapped, true);
    if (with_mapped)
        w_addr(&w, YM_STUN_ATTR_MAPPED_ADDRESS, mapped, false);
    return w_finish(&w);
}

int ym_stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[YM_STUN_TXID_LEN],
                        int code, const char *reason, const uint16_t *unknown, size_t n_unknown)
{
    size_t rlen = reason ? strlen(reason) : 0;
    if (code < 300 || code > 699 || method > 0xFFF || n_unknown > YM_STUN_MAX_UNKNOWN || rlen > YM_STUN_MAX_TEXT)
        return -EINVAL;
    writer_t w = { out, cap, 0, false };
    w_begin(&w, method, YM_STUN_ERROR, txid);
    uint8_t *v = w_attr(&w, YM_STUN_ATTR_ERROR_CODE, 4 + rlen);
    if (v) {
        v[0] = 0;
        v[1] = 0;
        v[2] = (uint8_t)(code / 100);
        v[3] = (uint8_t)(code % 100);
        if (rlen)
            memcpy(v + 4, reason, rlen);
    }
    if (n_unknown) {
        v = w_attr(&w, YM_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n_unknown);
        for (size_t i = 0; v && i < n_unknown; i++)
            put16(v + 2 * i, unknown[i]);
    }
    return w_finish(&w);
}

size_t ym_stun_answer(const void *req, size_t len, const ym_stun_addr_t *from,
                      uint8_t *out, size_t cap, const char **why)
{
    const char *what;
    int n = 0;
    ym_stun_msg_t msg;
    if (len < YM_STUN_HEADER_LEN) {
        what = "dropped: shorter than a header";
    } else if (ym_stun_parse(req, len, &msg, &what) < 0) {
        /* what holds the parser's reason */
    } else if (msg.cls != YM_STUN_REQUEST) {
        what = "dropped: not a request";
    } else if (msg.n_unknown) {
        n = ym_stun_build_error(out, cap, msg.method, msg.txid, 420, "Unknown Attribute",
                                msg.unknown, msg.n_unknown);
        what = "420 unknown comprehension-required attribute";
    } else if (msg.method != YM_STUN_BINDING) {
        n = ym_stun_build_error(out, cap, msg.method, msg.txid, 400, "Bad Request", NULL, 0);
        what = "400 not a Binding request";
    } else {
        n = ym_stun_build_binding_success(out, cap, msg.txid, from, false);
        what = "Binding success";
    }
    if (why)
        *why = what;
    return n > 0 ? (size_t)n : 0;
}
