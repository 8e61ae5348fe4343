/* ym_stun.h: a strict STUN message codec (RFC 8489), pure: no I/O, no globals,
 * no allocation. Safe on any thread.
 *
 * Scope: what a public Binding server needs. The parser checks the header
 * (leading zero bits, magic cookie, length a multiple of 4 and equal to the
 * datagram's), walks every attribute (TLV, 4-byte padding, padding bytes may
 * hold anything as RFC 8489 §14 allows), verifies FINGERPRINT when present
 * (it must be the last attribute), locates MESSAGE-INTEGRITY so that a caller
 * holding a key can verify it, decodes (XOR-)MAPPED-ADDRESS, SOFTWARE,
 * USERNAME and ERROR-CODE, and lists comprehension-required attributes it does
 * not know so the caller can answer 420.
 *
 * All pointers in a parsed ym_stun_msg_t point into the caller's datagram:
 * the message is valid only while that buffer is.
 */
#ifndef YM_STUN_H
#define YM_STUN_H

#include "base/ym_base.h"

#define YM_STUN_HEADER_LEN 20
#define YM_STUN_MAGIC 0x2112A442u
#define YM_STUN_TXID_LEN 12
/* The fingerprint is CRC-32 of the message xor this ("STUN"). */
#define YM_STUN_FINGERPRINT_XOR 0x5354554eu
/* Largest datagram we parse: a STUN length field is 16 bits. */
#define YM_STUN_MAX_MSG (YM_STUN_HEADER_LEN + 65532)
/* Room for any response ym_stun_build_* or ym_stun_answer writes. */
#define YM_STUN_MAX_RESPONSE 128
/* How many unknown comprehension-required attribute types a parse records;
 * more are still detected (unknown_overflow) but not listed. Keeps a 420
 * response small whatever the request holds. */
#define YM_STUN_MAX_UNKNOWN 8
/* RFC 8489 §14.3 and §14.14: USERNAME < 513 bytes, SOFTWARE/reason < 763. */
#define YM_STUN_MAX_USERNAME 512
#define YM_STUN_MAX_TEXT 763

/* Message classes (the C1 C0 bits of the type). */
typedef enum ym_stun_class {
    YM_STUN_REQUEST = 0,
    YM_STUN_INDICATION = 1,
    YM_STUN_SUCCESS = 2,
    YM_STUN_ERROR = 3,
} ym_stun_class_t;

#define YM_STUN_BINDING 0x001

/* Attribute types we know (RFC 8489 §18.3, RFC 8445 §16.1 for ICE). */
enum {
    YM_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    YM_STUN_ATTR_USERNAME = 0x0006,
    YM_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    YM_STUN_ATTR_ERROR_CODE = 0x0009,
    YM_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    YM_STUN_ATTR_REALM = 0x0014,
    YM_STUN_ATTR_NONCE = 0x0015,
    YM_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    YM_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    YM_STUN_ATTR_USERHASH = 0x001E,
    YM_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    YM_STUN_ATTR_PRIORITY = 0x0024,
    YM_STUN_ATTR_USE_CANDIDATE = 0x0025,
    YM_STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    YM_STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    YM_STUN_ATTR_SOFTWARE = 0x8022,
    YM_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    YM_STUN_ATTR_FINGERPRINT = 0x8028,
    YM_STUN_ATTR_ICE_CONTROLLED = 0x8029,
    YM_STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* A transport address. family is 4 or 6; ip holds 4 or 16 bytes in network
 * order; port is in host order. */
typedef struct ym_stun_addr {
    uint8_t family;
    uint16_t port;
    uint8_t ip[16];
} ym_stun_addr_t;

typedef struct ym_stun_msg {
    uint16_t method;                   /* 12 bits */
    ym_stun_class_t cls;
    uint8_t txid[YM_STUN_TXID_LEN];
    const uint8_t *data;               /* the whole message (borrowed) */
    size_t len;

    bool has_fingerprint;              /* present, and it matched */
    /* Offset of the MESSAGE-INTEGRITY attribute header, 0 when absent. */
    size_t integrity_at;
    bool has_xor_mapped;
    ym_stun_addr_t xor_mapped;         /* already un-xored */
    bool has_mapped;
    ym_stun_addr_t mapped;
    ym_str_t software;                 /* p == NULL when absent; valid UTF-8 */
    ym_str_t username;                 /* p == NULL when absent; valid UTF-8 */
    int error_code;                    /* 300..699 from ERROR-CODE, 0 when absent */
    ym_str_t error_reason;

    /* Comprehension-required (type < 0x8000) attributes we do not know, in
     * order of appearance, first occurrence of each. */
    uint16_t unknown[YM_STUN_MAX_UNKNOWN];
    size_t n_unknown;
    bool unknown_overflow;             /* there were more than listed */
} ym_stun_msg_t;

/* Quick test for demultiplexing a datagram: at least a header, leading bits
 * 00, the magic cookie. Does not validate the rest. */
bool ym_stun_looks_like(const void *data, size_t len);

/* Parses one whole datagram strictly. Returns len (bytes consumed) or
 * YM_EPROTO with *reason (static string; reason may be NULL) saying why. A
 * datagram is never partial, so YM_AGAIN is never returned. msg borrows data.
 * A FINGERPRINT that does not match is YM_EPROTO; MESSAGE-INTEGRITY is only
 * located, see ym_stun_check_integrity. Attributes after MESSAGE-INTEGRITY
 * other than FINGERPRINT are walked (they must be well formed) but ignored,
 * as RFC 8489 §14.5 requires. */
int ym_stun_parse(const void *data, size_t len, ym_stun_msg_t *msg, const char **reason);

/* Verifies the HMAC-SHA1 MESSAGE-INTEGRITY of a parsed message with key
 * (the short-term password, or the long-term MD5 key). Returns true only if
 * the attribute is present and matches (constant-time compare). */
bool ym_stun_check_integrity(const ym_stun_msg_t *msg, const void *key, size_t key_len);

/* CRC-32 (ISO-HDLC, as zlib) of p; exposed for tests and the fingerprint. */
uint32_t ym_stun_crc32(const void *p, size_t n);

/* Builders. Each writes one complete message into out (cap bytes), ending
 * with SOFTWARE "yoom" and FINGERPRINT, and returns its length, or -ENOSPC
 * if cap is too small (YM_STUN_MAX_RESPONSE always suffices), or -EINVAL.
 *
 * Binding success: XOR-MAPPED-ADDRESS of mapped, plus MAPPED-ADDRESS when
 * with_mapped (for RFC 3489 clients; off by default to keep answers small). */
int ym_stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[YM_STUN_TXID_LEN],
                                  const ym_stun_addr_t *mapped, bool with_mapped);
/* Error response of method with code (300..699) and a short reason phrase;
 * unknown (n_unknown <= YM_STUN_MAX_UNKNOWN types) adds UNKNOWN-ATTRIBUTES. */
int ym_stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[YM_STUN_TXID_LEN],
                        int code, const char *reason, const uint16_t *unknown, size_t n_unknown);

/* The server's policy for one received datagram, pure so that tests and the
 * fuzzer can drive it without sockets. from is the sender. Writes an answer
 * into out (cap >= YM_STUN_MAX_RESPONSE) and returns its length, or returns 0
 * when the datagram gets no answer:
 *  - shorter than a header, not STUN, malformed or a bad FINGERPRINT: dropped;
 *  - indications and responses: dropped (never answer a non-request);
 *  - a request with unknown comprehension-required attributes: 420 with
 *    UNKNOWN-ATTRIBUTES;
 *  - a request of another method: 400;
 *  - a Binding request: success with XOR-MAPPED-ADDRESS of from.
 * Success answers are 48 bytes (IPv4) or 60 (IPv6) for requests of at least
 * 20; the largest answer, a 420 listing YM_STUN_MAX_UNKNOWN types (80 bytes),
 * answers a request of at least 52. Amplification stays at most 3x and needs
 * a well-formed request.
 * *why (static, may be NULL) says what was done, for debug logs. */
size_t ym_stun_answer(const void *req, size_t len, const ym_stun_addr_t *from,
                      uint8_t *out, size_t cap, const char **why);

#endif
