#include "test.h"

#include "rtc/ym_ice_servers.h"

#include <errno.h>

/* Known vectors, computed independently with the openssl CLI:
 *   printf %s "1700086400:yoom" | openssl dgst -sha1 -hmac "north-secret" -binary | base64
 *   printf %s "1700000123:alice" | openssl dgst -sha1 -hmac "s3cr3t" -binary | base64 */
TEST(rest_credential_vectors)
{
    ym_buf_t u = YM_BUF_INIT, c = YM_BUF_INIT;
    ym_ice_turn_rest_credential("north-secret", "yoom", 1700086400, &u, &c);
    ASSERT_MEM_EQ(u.data, u.len, "1700086400:yoom", 15);
    ASSERT_MEM_EQ(c.data, c.len, "ScqHvmm3vCzTGL2Vu47MWnj2Y0M=", 28);
    ym_buf_reset(&u);
    ym_buf_reset(&c);
    ym_ice_turn_rest_credential("s3cr3t", "alice", 1700000123, &u, &c);
    ASSERT_MEM_EQ(u.data, u.len, "1700000123:alice", 16);
    ASSERT_MEM_EQ(c.data, c.len, "zLOhiw2V2vXvW5hFvTCb0/o56Kg=", 28);
    ym_buf_free(&u);
    ym_buf_free(&c);
}

static const char *json(const ym_ice_config_t *cfg, const char *host, int64_t now, int *rc)
{
    static ym_buf_t b;
    ym_buf_reset(&b);
    *rc = ym_ice_servers_json(cfg, host, host ? strlen(host) : 0, now, &b);
    ym_buf_append_byte(&b, '\0');
    return b.data;
}

TEST(own_stun_entry)
{
    ym_ice_config_t cfg = { .stun_port = 3478 };
    int rc;
    ASSERT_STR_EQ(json(&cfg, "example.org", 0, &rc), "[{\"urls\":\"stun:example.org:3478\"}]");
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(json(&cfg, "192.168.1.20", 0, &rc), "[{\"urls\":\"stun:192.168.1.20:3478\"}]");
    /* IPv6, with or without brackets, comes out bracketed. */
    ASSERT_STR_EQ(json(&cfg, "::1", 0, &rc), "[{\"urls\":\"stun:[::1]:3478\"}]");
    ASSERT_STR_EQ(json(&cfg, "[2001:db8::7]", 0, &rc), "[{\"urls\":\"stun:[2001:db8::7]:3478\"}]");
    ASSERT_EQ(rc, 0);

    /* The host comes from the request: anything odd is refused, not echoed. */
    const char *bad[] = { "", "evil\"},{\"urls\":\"x", "a b", "host:80", "[::1", "[example.org]",
                          "-x.org", "[fe80::1%eth0]", "caf\xc3\xa9.org" };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        ASSERT_STR_EQ(json(&cfg, bad[i], 0, &rc), "");
        ASSERT_EQ(rc, -EINVAL);
    }
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "");
    ASSERT_EQ(rc, -EINVAL);

    /* Disabled (or no port): no entry, and then the host does not matter. */
    cfg.stun_disabled = true;
    ASSERT_STR_EQ(json(&cfg, "evil\"", 0, &rc), "[]");
    ASSERT_EQ(rc, 0);
    cfg = (ym_ice_config_t){ .stun_port = 0 };
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "[]");
}

TEST(turn_entries)
{
    int rc;
    /* Shared secret: REST credentials expiring now + ttl. */
    ym_ice_config_t cfg = {
        .stun_port = 3478,
        .turn_urls = " turn:turn.example.org:3478?transport=udp , turns:turn.example.org:5349,",
        .turn_secret = "north-secret",
        .turn_ttl = 86400,
    };
    ASSERT_STR_EQ(json(&cfg, "example.org", 1700000000, &rc),
                  "[{\"urls\":\"stun:example.org:3478\"},"
                  "{\"urls\":[\"turn:turn.example.org:3478?transport=udp\",\"turns:turn.example.org:5349\"],"
                  "\"username\":\"1700086400:yoom\",\"credential\":\"ScqHvmm3vCzTGL2Vu47MWnj2Y0M=\"}]");
    ASSERT_EQ(rc, 0);
    /* The default TTL is a day too; a custom user goes into the name. */
    cfg.turn_ttl = 0;
    cfg.turn_user = "alice";
    cfg.stun_disabled = true;
    cfg.turn_secret = "s3cr3t";
    ASSERT_STR_EQ(json(&cfg, NULL, 1700000123 - 86400, &rc),
                  "[{\"urls\":[\"turn:turn.example.org:3478?transport=udp\",\"turns:turn.example.org:5349\"],"
                  "\"username\":\"1700000123:alice\",\"credential\":\"zLOhiw2V2vXvW5hFvTCb0/o56Kg=\"}]");

    /* Static credentials, escaped. */
    cfg = (ym_ice_config_t){
        .stun_disabled = true,
        .turn_urls = "turn:10.0.0.1:3478",
        .turn_username = "bob",
        .turn_credential = "pa\"ss\\word",
    };
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc),
                  "[{\"urls\":[\"turn:10.0.0.1:3478\"],\"username\":\"bob\",\"credential\":\"pa\\\"ss\\\\word\"}]");
    ASSERT_EQ(rc, 0);

    /* Bad configuration is refused whole. */
    cfg.turn_urls = "http://example.org";
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "");
    ASSERT_EQ(rc, -EINVAL);
    cfg.turn_urls = " , ";
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "");
    cfg.turn_urls = "turn:a\nb";
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "");
    cfg.turn_urls = "turn:ok";
    cfg.turn_credential = "line\nbreak";
    ASSERT_STR_EQ(json(&cfg, NULL, 0, &rc), "");
    ASSERT_EQ(rc, -EINVAL);
}

TEST(host_from_authority)
{
    ym_str_t h;
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("example.org:8080"), &h), 0);
    ASSERT_MEM_EQ(h.p, h.len, "example.org", 11);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("example.org"), &h), 0);
    ASSERT_MEM_EQ(h.p, h.len, "example.org", 11);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("[::1]:3000"), &h), 0);
    ASSERT_MEM_EQ(h.p, h.len, "::1", 3);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("[::1]"), &h), 0);
    ASSERT_MEM_EQ(h.p, h.len, "::1", 3);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR(""), &h), -EINVAL);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR(":80"), &h), -EINVAL);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("a:b"), &h), -EINVAL);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("[::1]x"), &h), -EINVAL);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("[::1"), &h), -EINVAL);
    ASSERT_EQ(ym_ice_host_from_authority(YM_STR("a:1234567"), &h), -EINVAL);
}

int main(void)
{
    RUN(rest_credential_vectors);
    RUN(own_stun_entry);
    RUN(turn_entries);
    RUN(host_from_authority);
    return test_report();
}
