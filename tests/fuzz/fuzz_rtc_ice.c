/* libFuzzer target for the peer-controlled part of the ICE server list: the
 * Host header value, through ym_ice_host_from_authority and into the JSON.
 * Whatever the input, the JSON must be one of our fixed shapes with no quote,
 * backslash or control character smuggled in through the host. */
#include "rtc/ym_ice_servers.h"

#include <errno.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ym_str_t host;
    const char *p = (const char *)data;
    if (ym_ice_host_from_authority((ym_str_t){ p, size }, &host) != 0) {
        host = (ym_str_t){ p, size }; /* feed the raw value too */
    } else if (host.p < p || host.p + host.len > p + size) {
        abort();
    }
    ym_ice_config_t cfg = {
        .stun_port = 3478,
        .turn_urls = "turn:turn.example.org:3478",
        .turn_secret = "secret",
    };
    ym_buf_t out = YM_BUF_INIT;
    ym_buf_append_str(&out, "x");
    int rc = ym_ice_servers_json(&cfg, host.p, host.len, 1700000000, &out);
    if (rc == -EINVAL) {
        if (out.len != 1) /* nothing appended on failure */
            abort();
    } else if (rc == 0) {
        static const char head[] = "x[{\"urls\":\"stun:";
        static const char tail[] = ":3478\"},{\"urls\":[\"turn:turn.example.org:3478\"],";
        if (out.len < sizeof(head) || memcmp(out.data, head, sizeof(head) - 1) != 0)
            abort();
        const char *h = out.data + sizeof(head) - 1;
        const char *t = memmem(h, out.len - (size_t)(h - out.data), tail, sizeof(tail) - 1);
        if (!t)
            abort();
        for (const char *q = h; q < t; q++)
            if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x21 || (unsigned char)*q >= 0x7f)
                abort();
    } else {
        abort();
    }
    ym_buf_free(&out);
    return 0;
}
