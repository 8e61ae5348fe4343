#include "rtc/ym_ice_servers.h"

#include "base/ym_codec.h"
#include "base/ym_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

/* A JSON string literal of p. The caller has checked p is valid UTF-8 with no
 * control characters, so only quote and backslash need escaping; keeping the
 * escaper this small keeps it obviously right. */
static void json_string(ym_buf_t *out, const char *p, size_t n)
{
    ym_buf_append_byte(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            ym_buf_append_byte(out, '\\');
        ym_buf_append_byte(out, p[i]);
    }
    ym_buf_append_byte(out, '"');
}

static bool text_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return ym_utf8_valid(p, n);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* An IPv6 literal's characters (no zone id: a browser cannot use one from a
 * URL anyway). The exact syntax is the browser's business; this only makes
 * sure nothing else hides in it. */
static bool v6_ok(const char *p, size_t n)
{
    if (n < 2 || n > 45)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_hex(p[i]) && p[i] != ':' && p[i] != '.')
            return false;
    return true;
}

static bool name_ok(const char *p, size_t n)
{
    if (n == 0 || n > YM_ICE_MAX_HOST || p[0] == '.' || p[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int ym_ice_host_from_authority(ym_str_t a, ym_str_t *host)
{
    if (a.len == 0)
        return -EINVAL;
    const char *end = a.p + a.len;
    const char *host_end;
    if (a.p[0] == '[') {
        const char *close = memchr(a.p, ']', a.len);
        if (!close)
            return -EINVAL;
        *host = (ym_str_t){ a.p + 1, (size_t)(close - a.p - 1) };
        host_end = close + 1;
    } else {
        const char *colon = memchr(a.p, ':', a.len);
        host_end = colon ? colon : end;
        *host = (ym_str_t){ a.p, (size_t)(host_end - a.p) };
    }
    if (host_end < end) {
        /* ":port", digits only (an empty port is allowed by RFC 3986). */
        if (*host_end != ':' || end - host_end > 6)
            return -EINVAL;
        for (const char *q = host_end + 1; q < end; q++)
            if (*q < '0' || *q > '9')
                return -EINVAL;
    }
    return host->len ? 0 : -EINVAL;
}

void ym_ice_turn_rest_credential(const char *secret, const char *user, int64_t expiry,
                                 ym_buf_t *username, ym_buf_t *credential)
{
    size_t start = username->len;
    ym_buf_appendf(username, "%" PRId64 ":%s", expiry, user);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    /* HMAC() cannot fail with SHA-1 and a valid buffer short of OOM, which
     * OpenSSL reports as NULL: treat that like our own allocators do. */
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username->data + start,
              username->len - start, mac, &mac_len))
        abort();
    ym_b64_encode(credential, mac, mac_len);
}

/* Splits the URL list, checks each and appends them as a JSON array. Returns
 * false on a bad URL. */
static bool append_urls(ym_buf_t *out, const char *list)
{
    static const char *const schemes[] = { "turn:", "turns:", "stun:" };
    bool first = true;
    ym_buf_append_byte(out, '[');
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        while (s < e && *s == ' ')
            s++;
        const char *t = e;
        while (t > s && t[-1] == ' ')
            t--;
        size_t n = (size_t)(t - s);
        if (n) {
            bool scheme = false;
            for (size_t i = 0; i < YM_ARRAY_LEN(schemes); i++) {
                size_t sl = strlen(schemes[i]);
                if (n > sl && strncmp(s, schemes[i], sl) == 0)
                    scheme = true;
            }
            if (!scheme || !text_ok(s, n) || memchr(s, ' ', n))
                return false;
            if (!first)
                ym_buf_append_byte(out, ',');
            json_string(out, s, n);
            first = false;
        }
        p = comma ? comma + 1 : e;
    }
    ym_buf_append_byte(out, ']');
    return !first;
}

int ym_ice_servers_json(const ym_ice_config_t *cfg, const char *host, size_t host_len,
                        int64_t now, ym_buf_t *out)
{
    size_t start = out->len;
    bool any = false;
    ym_buf_append_byte(out, '[');

    if (!cfg->stun_disabled && cfg->stun_port > 0 && cfg->stun_port <= 65535) {
        if (!host)
            goto invalid;
        bool bracketed = host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']';
        const char *h = bracketed ? host + 1 : host;
        size_t hn = bracketed ? host_len - 2 : host_len;
        bool v6 = hn && memchr(h, ':', hn);
        if (!(v6 ? v6_ok(h, hn) : (!bracketed && name_ok(h, hn))))
            goto invalid;
        /* RFC 7064: an IPv6 host goes in brackets. */
        ym_buf_appendf(out, "{\"urls\":\"stun:%s%.*s%s:%d\"}", v6 ? "[" : "", (int)hn, h, v6 ? "]" : "",
                       cfg->stun_port);
        any = true;
    }

    if (cfg->turn_urls && cfg->turn_urls[0]) {
        if (any)
            ym_buf_append_byte(out, ',');
        ym_buf_append_str(out, "{\"urls\":");
        if (!append_urls(out, cfg->turn_urls))
            goto invalid;
        ym_buf_t user = YM_BUF_INIT, cred = YM_BUF_INIT;
        if (cfg->turn_secret && cfg->turn_secret[0]) {
            const char *u = cfg->turn_user && cfg->turn_user[0] ? cfg->turn_user : "yoom";
            unsigned ttl = cfg->turn_ttl ? cfg->turn_ttl : YM_ICE_DEFAULT_TTL;
            ym_ice_turn_rest_credential(cfg->turn_secret, u, now + (int64_t)ttl, &user, &cred);
        } else if (cfg->turn_username && cfg->turn_credential) {
            ym_buf_append_str(&user, cfg->turn_username);
            ym_buf_append_str(&cred, cfg->turn_credential);
        }
        bool ok = text_ok(user.data ? user.data : "", user.len) && text_ok(cred.data ? cred.data : "", cred.len);
        if (ok && user.len) {
            ym_buf_append_str(out, ",\"username\":");
            json_string(out, user.data, user.len);
            ym_buf_append_str(out, ",\"credential\":");
            json_string(out, cred.data ? cred.data : "", cred.len);
        }
        ym_buf_free(&user);
        ym_buf_free(&cred);
        if (!ok)
            goto invalid;
        ym_buf_append_byte(out, '}');
    }
    ym_buf_append_byte(out, ']');
    return 0;

invalid:
    out->len = start;
    return -EINVAL;
}
