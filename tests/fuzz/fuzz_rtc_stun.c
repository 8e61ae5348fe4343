/* libFuzzer target for the STUN codec: the parser, MESSAGE-INTEGRITY check
 * and the server's answer policy, with the answer checked to be a valid,
 * fingerprinted STUN message for the same transaction. */
#include "rtc/ym_stun.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ym_stun_msg_t m;
    const char *why = NULL;
    int rc = ym_stun_parse(data, size, &m, &why);
    if (rc >= 0) {
        if ((size_t)rc != size || m.n_unknown > YM_STUN_MAX_UNKNOWN || m.integrity_at >= size)
            abort();
        /* The RFC 5769 password, so seeds built from its vectors verify. */
        (void)ym_stun_check_integrity(&m, "VOkJxbRl1RmTxUk/WvJxBt", 22);
    } else if (rc != YM_EPROTO || !why) {
        abort();
    }

    static const ym_stun_addr_t from4 = { .family = 4, .port = 5000, .ip = { 192, 0, 2, 1 } };
    static const ym_stun_addr_t from6 = { .family = 6, .port = 65535, .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    uint8_t out[YM_STUN_MAX_RESPONSE];
    size_t n = ym_stun_answer(data, size, size % 2 ? &from6 : &from4, out, sizeof(out), &why);
    if (n) {
        ym_stun_msg_t a;
        if (rc < 0 || m.cls != YM_STUN_REQUEST || n > sizeof(out) ||
            ym_stun_parse(out, n, &a, NULL) != (int)n || !a.has_fingerprint ||
            memcmp(a.txid, m.txid, YM_STUN_TXID_LEN) != 0 || a.method != m.method)
            abort();
    }
    return 0;
}
