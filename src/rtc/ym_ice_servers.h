/* ym_ice_servers.h: the RTCIceServer list the browser gets at runtime, as JSON
 * text, e.g.
 *   [{"urls":"stun:example.org:3478"},
 *    {"urls":["turn:turn.example.org:3478"],"username":"1700086400:yoom","credential":"..."}]
 *
 * yoom's own STUN server comes first, addressed with the host the browser
 * used to reach yoom (so it works behind any name or address), then optional
 * TURN servers from the configuration, with either static credentials or
 * time-limited ones derived from a shared secret, the "TURN REST API" scheme
 * coturn implements (use-auth-secret / static-auth-secret):
 *   username   = "<expiry unix time>:<user>"
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * Pure functions, safe on any thread; the config is only read.
 */
#ifndef YM_ICE_SERVERS_H
#define YM_ICE_SERVERS_H

#include "base/ym_buf.h"

#include <stdint.h>

#define YM_ICE_DEFAULT_TTL 86400u  /* seconds a REST credential stays valid */
#define YM_ICE_MAX_HOST 253        /* a DNS name; longer hosts are refused */

typedef struct ym_ice_config {
    bool stun_disabled;           /* leave yoom's own STUN out */
    int stun_port;                /* its UDP port; <= 0 also leaves it out */
    /* Comma-separated turn:, turns: or stun: URLs (RFC 7064/7065); NULL or ""
     * for none. Spaces around commas are ignored. */
    const char *turn_urls;
    const char *turn_username;    /* static credentials, used when no secret */
    const char *turn_credential;
    const char *turn_secret;      /* shared secret: REST credentials (wins) */
    const char *turn_user;        /* user part of REST usernames; NULL: "yoom" */
    unsigned turn_ttl;            /* seconds; 0: YM_ICE_DEFAULT_TTL */
} ym_ice_config_t;

/* Appends the JSON array to out. host is the host the browser used (no port):
 * a DNS name, an IPv4 literal, or an IPv6 literal with or without brackets;
 * it is checked strictly because it comes from the request. now is the
 * current Unix time (REST expiry = now + ttl).
 * Returns 0, or -EINVAL (nothing appended) when the host is unusable while
 * the own STUN entry is wanted, or a configured string is not usable (a URL
 * with another scheme, a control character, invalid UTF-8). */
int ym_ice_servers_json(const ym_ice_config_t *cfg, const char *host, size_t host_len,
                        int64_t now, ym_buf_t *out);

/* The TURN REST credential pair for user expiring at expiry (Unix time):
 * appends "<expiry>:<user>" to username and the base64 HMAC to credential. */
void ym_ice_turn_rest_credential(const char *secret, const char *user, int64_t expiry,
                                 ym_buf_t *username, ym_buf_t *credential);

/* Extracts the host from a Host header value ("name", "name:port", "[v6]",
 * "[v6]:port"): *host points into authority (brackets kept off). Returns 0,
 * or -EINVAL if the value is malformed. The result still goes through
 * ym_ice_servers_json's own checks. */
int ym_ice_host_from_authority(ym_str_t authority, ym_str_t *host);

#endif
