#include "test.h"

#include "rtc/ym_stun.h"

#include <arpa/inet.h>
#include <errno.h>

/* Binary comparison: ASSERT_MEM_EQ prints its arguments as text. */
#define ASSERT_BYTES(a, b, n) ASSERT(memcmp((a), (b), (n)) == 0)

/* RFC 5769 test vectors, typed in from the RFC text. */
static const char rfc_password[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* §2.1 Sample Request: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED,
 * USERNAME "evtj:h6vY" padded with spaces, MESSAGE-INTEGRITY, FINGERPRINT. */
static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
    0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20,
    0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5,
    0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
    0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* §2.2 Sample IPv4 Response: 192.0.2.1 port 32853, SOFTWARE "test vector". */
static const uint8_t rfc_resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* §2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc_resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
    0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c,
    0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc_txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

static int parse(const uint8_t *p, size_t n, ym_stun_msg_t *m, const char **why)
{
    *why = NULL;
    return ym_stun_parse(p, n, m, why);
}

TEST(crc32_check_value)
{
    /* The CRC-32 catalogue's check value: CRC of "123456789". */
    ASSERT_EQ(ym_stun_crc32("123456789", 9), 0xCBF43926u);
    ASSERT_EQ(ym_stun_crc32("", 0), 0);
}

TEST(rfc5769_sample_request)
{
    ym_stun_msg_t m;
    const char *why;
    ASSERT_EQ(parse(rfc_request, sizeof(rfc_request), &m, &why), (int)sizeof(rfc_request));
    ASSERT_EQ(m.cls, YM_STUN_REQUEST);
    ASSERT_EQ(m.method, YM_STUN_BINDING);
    ASSERT_BYTES(m.txid, rfc_txid, 12);
    ASSERT(m.has_fingerprint);
    ASSERT_EQ(m.integrity_at, 20 + 20 + 8 + 12 + 16);
    ASSERT_MEM_EQ(m.software.p, m.software.len, "STUN test client", 16);
    ASSERT_MEM_EQ(m.username.p, m.username.len, "evtj:h6vY", 9);
    ASSERT_EQ(m.n_unknown, 0); /* PRIORITY is known; ICE-CONTROLLED is optional */
    ASSERT(ym_stun_check_integrity(&m, rfc_password, strlen(rfc_password)));
    ASSERT(!ym_stun_check_integrity(&m, "VOkJxbRl1RmTxUk/WvJxBT", strlen(rfc_password)));
    ASSERT(!ym_stun_check_integrity(&m, "", 0));
    ASSERT(ym_stun_looks_like(rfc_request, sizeof(rfc_request)));
}

static void check_response(const uint8_t *p, size_t n, int family, const char *ip_text)
{
    ym_stun_msg_t m;
    const char *why;
    ASSERT_EQ(parse(p, n, &m, &why), (int)n);
    ASSERT_EQ(m.cls, YM_STUN_SUCCESS);
    ASSERT_EQ(m.method, YM_STUN_BINDING);
    ASSERT(m.has_fingerprint);
    ASSERT(m.has_xor_mapped);
    ASSERT(!m.has_mapped);
    ASSERT_EQ(m.xor_mapped.family, family);
    ASSERT_EQ(m.xor_mapped.port, 32853);
    uint8_t want[16] = { 0 };
    ASSERT_EQ(inet_pton(family == 4 ? AF_INET : AF_INET6, ip_text, want), 1);
    ASSERT_BYTES(m.xor_mapped.ip, want, 16);
    ASSERT_MEM_EQ(m.software.p, m.software.len, "test vector", 11);
    ASSERT(ym_stun_check_integrity(&m, rfc_password, strlen(rfc_password)));
    ASSERT(!ym_stun_check_integrity(&m, "wrong", 5));
}

TEST(rfc5769_ipv4_response)
{
    check_response(rfc_resp4, sizeof(rfc_resp4), 4, "192.0.2.1");
}

TEST(rfc5769_ipv6_response)
{
    check_response(rfc_resp6, sizeof(rfc_resp6), 6, "2001:db8:1234:5678:11:2233:4455:6677");
}

/* Our builder reproduces the XOR-MAPPED-ADDRESS bytes of the RFC vectors. */
TEST(build_matches_rfc_xor_address)
{
    ym_stun_addr_t a = { .family = 4, .port = 32853 };
    ASSERT_EQ(inet_pton(AF_INET, "192.0.2.1", a.ip), 1);
    uint8_t out[YM_STUN_MAX_RESPONSE];
    int n = ym_stun_build_binding_success(out, sizeof(out), rfc_txid, &a, false);
    ASSERT_EQ(n, 20 + 12 + 8 + 8);
    ASSERT_BYTES(out + 20, rfc_resp4 + 36, 12);

    ym_stun_addr_t b = { .family = 6, .port = 32853 };
    ASSERT_EQ(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", b.ip), 1);
    n = ym_stun_build_binding_success(out, sizeof(out), rfc_txid, &b, true);
    ASSERT_EQ(n, 20 + 24 + 24 + 8 + 8);
    ASSERT_BYTES(out + 20, rfc_resp6 + 36, 24);

    /* And it parses back: fingerprint, both addresses, SOFTWARE. */
    ym_stun_msg_t m;
    const char *why;
    ASSERT_EQ(parse(out, (size_t)n, &m, &why), n);
    ASSERT(m.has_fingerprint && m.has_xor_mapped && m.has_mapped);
    ASSERT_BYTES(m.mapped.ip, b.ip, 16);
    ASSERT_EQ(m.mapped.port, 32853);
    ASSERT_MEM_EQ(m.software.p, m.software.len, "yoom", 4);
    ASSERT_EQ(m.cls, YM_STUN_SUCCESS);

    /* A buffer one byte short is refused, never overrun. */
    ASSERT_EQ(ym_stun_build_binding_success(out, (size_t)n - 1, rfc_txid, &b, true), -ENOSPC);
    ASSERT_EQ(ym_stun_build_binding_success(out, 10, rfc_txid, &b, true), -ENOSPC);
    b.family = 5;
    ASSERT_EQ(ym_stun_build_binding_success(out, sizeof(out), rfc_txid, &b, true), -EINVAL);
}

/* A copy of a vector that a test may mutate. */
typedef struct { uint8_t b[256]; size_t n; } msgbuf_t;

static msgbuf_t copy(const uint8_t *p, size_t n)
{
    msgbuf_t m;
    memcpy(m.b, p, n);
    m.n = n;
    return m;
}

static void expect_reject(const msgbuf_t *b, const char *reason)
{
    ym_stun_msg_t m;
    const char *why;
    ASSERT_EQ(parse(b->b, b->n, &m, &why), YM_EPROTO);
    ASSERT_STR_EQ(why, reason);
}

/* Appends a correct FINGERPRINT to a message built by hand. */
static void add_fingerprint(msgbuf_t *b)
{
    size_t at = b->n;
    b->b[at] = 0x80; b->b[at + 1] = 0x28; b->b[at + 2] = 0; b->b[at + 3] = 4;
    b->n += 8;
    b->b[2] = (uint8_t)((b->n - 20) >> 8);
    b->b[3] = (uint8_t)(b->n - 20);
    uint32_t c = ym_stun_crc32(b->b, at) ^ YM_STUN_FINGERPRINT_XOR;
    b->b[at + 4] = (uint8_t)(c >> 24); b->b[at + 5] = (uint8_t)(c >> 16);
    b->b[at + 6] = (uint8_t)(c >> 8);  b->b[at + 7] = (uint8_t)c;
}

/* A Binding request header with no attributes (length filled by callers). */
static msgbuf_t bare_request(uint16_t type)
{
    msgbuf_t b = { { 0 }, 20 };
    b.b[0] = (uint8_t)(type >> 8);
    b.b[1] = (uint8_t)type;
    b.b[4] = 0x21; b.b[5] = 0x12; b.b[6] = 0xa4; b.b[7] = 0x42;
    memcpy(b.b + 8, rfc_txid, 12);
    return b;
}

static void set_len(msgbuf_t *b)
{
    b->b[2] = (uint8_t)((b->n - 20) >> 8);
    b->b[3] = (uint8_t)(b->n - 20);
}

TEST(malformed_rejected)
{
    msgbuf_t b = copy(rfc_request, sizeof(rfc_request));
    b.b[4] ^= 1;
    expect_reject(&b, "bad magic cookie");

    b = copy(rfc_request, sizeof(rfc_request));
    b.b[0] |= 0x80;
    expect_reject(&b, "leading bits not zero");

    b = copy(rfc_request, sizeof(rfc_request));
    b.b[3] = 0x5a; /* not a multiple of 4 */
    expect_reject(&b, "length not a multiple of 4");

    b = copy(rfc_request, sizeof(rfc_request));
    b.b[3] = 0x54; /* a multiple of 4, but not the datagram's */
    expect_reject(&b, "length does not match the datagram");
    b = copy(rfc_request, sizeof(rfc_request));
    b.n -= 4; /* datagram shorter than the header says */
    expect_reject(&b, "length does not match the datagram");

    b = copy(rfc_request, 19);
    expect_reject(&b, "shorter than a STUN header");

    /* SOFTWARE claims 0x20 bytes: runs past the end of the message. */
    b = copy(rfc_request, sizeof(rfc_request));
    b.b[23] = 0xf0;
    expect_reject(&b, "truncated attribute");

    /* A truncated message whose header length was fixed up: the USERNAME
     * attribute header survives but its value does not. */
    b = copy(rfc_request, 20 + 20 + 8 + 12 + 8);
    set_len(&b);
    expect_reject(&b, "truncated attribute");

    /* One flipped bit anywhere covered by the CRC is caught. */
    b = copy(rfc_request, sizeof(rfc_request));
    b.b[30] ^= 0x01;
    expect_reject(&b, "bad FINGERPRINT");
    b = copy(rfc_request, sizeof(rfc_request));
    b.b[sizeof(rfc_request) - 1] ^= 0x01;
    expect_reject(&b, "bad FINGERPRINT");

    /* An attribute after FINGERPRINT. */
    b = copy(rfc_request, sizeof(rfc_request));
    memcpy(b.b + b.n, "\x80\x22\x00\x04yoom", 8);
    b.n += 8;
    set_len(&b);
    expect_reject(&b, "attribute after FINGERPRINT");

    /* Bad address families and lengths. */
    b = bare_request(0x0101);
    memcpy(b.b + 20, "\x00\x20\x00\x08\x00\x03\xa1\x47\xe1\x12\xa6\x43", 12);
    b.n += 12;
    set_len(&b);
    expect_reject(&b, "bad XOR-MAPPED-ADDRESS");
    b.b[25] = 0x02; /* IPv6 family with an IPv4-sized value */
    expect_reject(&b, "bad XOR-MAPPED-ADDRESS");

    /* SOFTWARE must be UTF-8. */
    b = bare_request(0x0001);
    memcpy(b.b + 20, "\x80\x22\x00\x02\xc3\x28\x00\x00", 8);
    b.n += 8;
    set_len(&b);
    expect_reject(&b, "bad SOFTWARE");

    /* MESSAGE-INTEGRITY of the wrong size. */
    b = bare_request(0x0001);
    memcpy(b.b + 20, "\x00\x08\x00\x04\x00\x00\x00\x00", 8);
    b.n += 8;
    set_len(&b);
    expect_reject(&b, "bad MESSAGE-INTEGRITY length");
}

TEST(padding_and_unknown_attributes)
{
    /* Padding may hold any bytes; unknown comprehension-optional attributes
     * are ignored; unknown comprehension-required ones are listed once. */
    msgbuf_t b = bare_request(0x0001);
    memcpy(b.b + b.n, "\x80\x77\x00\x01\xff\xff\xff\xff", 8);  b.n += 8; /* optional */
    memcpy(b.b + b.n, "\x00\x03\x00\x04\x00\x00\x00\x06", 8);  b.n += 8; /* CHANGE-REQUEST */
    memcpy(b.b + b.n, "\x7f\xff\x00\x00", 4);                  b.n += 4;
    memcpy(b.b + b.n, "\x00\x03\x00\x04\x00\x00\x00\x00", 8);  b.n += 8; /* again */
    add_fingerprint(&b);
    ym_stun_msg_t m;
    const char *why;
    ASSERT_EQ(parse(b.b, b.n, &m, &why), (int)b.n);
    ASSERT(m.has_fingerprint);
    ASSERT_EQ(m.n_unknown, 2);
    ASSERT_EQ(m.unknown[0], 0x0003);
    ASSERT_EQ(m.unknown[1], 0x7fff);
    ASSERT(!m.unknown_overflow);

    /* Attributes after MESSAGE-INTEGRITY are ignored, even unknown ones. */
    b = bare_request(0x0001);
    memcpy(b.b + b.n, "\x00\x08\x00\x14", 4);
    memset(b.b + b.n + 4, 0xaa, 20);
    b.n += 24;
    memcpy(b.b + b.n, "\x00\x03\x00\x00", 4);
    b.n += 4;
    set_len(&b);
    ASSERT_EQ(parse(b.b, b.n, &m, &why), (int)b.n);
    ASSERT_EQ(m.n_unknown, 0);
    ASSERT_EQ(m.integrity_at, 20);
    ASSERT(!ym_stun_check_integrity(&m, "k", 1));

    /* More unknown types than we list: flagged, the list stays bounded. */
    b = bare_request(0x0001);
    for (uint8_t t = 0x40; t < 0x40 + YM_STUN_MAX_UNKNOWN + 3; t++) {
        uint8_t a[4] = { 0x00, t, 0x00, 0x00 };
        memcpy(b.b + b.n, a, 4);
        b.n += 4;
    }
    set_len(&b);
    ASSERT_EQ(parse(b.b, b.n, &m, &why), (int)b.n);
    ASSERT_EQ(m.n_unknown, YM_STUN_MAX_UNKNOWN);
    ASSERT(m.unknown_overflow);
}

static const ym_stun_addr_t client4 = { .family = 4, .port = 40000, .ip = { 127, 0, 0, 1 } };

TEST(answer_policy)
{
    uint8_t out[YM_STUN_MAX_RESPONSE];
    const char *why;
    ym_stun_msg_t m;

    /* The RFC request is a Binding request: answered with our mapping. */
    size_t n = ym_stun_answer(rfc_request, sizeof(rfc_request), &client4, out, sizeof(out), &why);
    ASSERT_STR_EQ(why, "Binding success");
    ASSERT_EQ(n, 48);
    ASSERT(n <= sizeof(rfc_request));
    ASSERT_EQ(ym_stun_parse(out, n, &m, NULL), (int)n);
    ASSERT_EQ(m.cls, YM_STUN_SUCCESS);
    ASSERT_BYTES(m.txid, rfc_txid, 12);
    ASSERT(m.has_xor_mapped && m.has_fingerprint);
    ASSERT_BYTES(m.xor_mapped.ip, client4.ip, 4);
    ASSERT_EQ(m.xor_mapped.port, 40000);

    /* The smallest Binding request, a bare header. */
    msgbuf_t b = bare_request(0x0001);
    n = ym_stun_answer(b.b, b.n, &client4, out, sizeof(out), &why);
    ASSERT_EQ(n, 48);

    /* Responses and indications are never answered. */
    ASSERT_EQ(ym_stun_answer(rfc_resp4, sizeof(rfc_resp4), &client4, out, sizeof(out), &why), 0);
    ASSERT_STR_EQ(why, "dropped: not a request");
    b = bare_request(0x0011); /* Binding indication */
    ASSERT_EQ(ym_stun_answer(b.b, b.n, &client4, out, sizeof(out), &why), 0);
    b = bare_request(0x0111); /* Binding error response */
    ASSERT_EQ(ym_stun_answer(b.b, b.n, &client4, out, sizeof(out), &why), 0);

    /* Garbage and short datagrams are dropped. */
    ASSERT_EQ(ym_stun_answer("GET / HTTP/1.1\r\n\r\n", 18, &client4, out, sizeof(out), &why), 0);
    ASSERT_EQ(ym_stun_answer("hello, this is not STUN at all!!", 32, &client4, out, sizeof(out), &why), 0);
    ASSERT_STR_EQ(why, "leading bits not zero");

    /* Another method (Allocate, 0x003): 400. */
    b = bare_request(0x0003);
    n = ym_stun_answer(b.b, b.n, &client4, out, sizeof(out), &why);
    ASSERT(n > 0);
    ASSERT_EQ(ym_stun_parse(out, n, &m, NULL), (int)n);
    ASSERT_EQ(m.cls, YM_STUN_ERROR);
    ASSERT_EQ(m.method, 0x003);
    ASSERT_EQ(m.error_code, 400);
    ASSERT_MEM_EQ(m.error_reason.p, m.error_reason.len, "Bad Request", 11);
    ASSERT(m.has_fingerprint);

    /* An unknown comprehension-required attribute: 420 listing it. */
    b = bare_request(0x0001);
    memcpy(b.b + b.n, "\x00\x03\x00\x04\x00\x00\x00\x06", 8);
    b.n += 8;
    set_len(&b);
    n = ym_stun_answer(b.b, b.n, &client4, out, sizeof(out), &why);
    ASSERT(n > 0);
    ASSERT_EQ(ym_stun_parse(out, n, &m, NULL), (int)n);
    ASSERT_EQ(m.cls, YM_STUN_ERROR);
    ASSERT_EQ(m.method, YM_STUN_BINDING);
    ASSERT_EQ(m.error_code, 420);
    /* UNKNOWN-ATTRIBUTES follows ERROR-CODE ("Unknown Attribute": 4 + 17 + 3). */
    ASSERT_BYTES(out + 20 + 4 + 24, "\x00\x0a\x00\x02\x00\x03", 6);

    /* Every answer fits the documented bound, IPv6 included. */
    ym_stun_addr_t v6 = { .family = 6, .port = 1 };
    memset(v6.ip, 0xff, 16);
    n = ym_stun_answer(rfc_request, sizeof(rfc_request), &v6, out, sizeof(out), &why);
    ASSERT_EQ(n, 60);
}

TEST(error_builder_limits)
{
    uint8_t out[YM_STUN_MAX_RESPONSE];
    ASSERT_EQ(ym_stun_build_error(out, sizeof(out), 1, rfc_txid, 299, "x", NULL, 0), -EINVAL);
    ASSERT_EQ(ym_stun_build_error(out, sizeof(out), 1, rfc_txid, 700, "x", NULL, 0), -EINVAL);
    ASSERT_EQ(ym_stun_build_error(out, sizeof(out), 0x1000, rfc_txid, 400, "x", NULL, 0), -EINVAL);
    uint16_t many[YM_STUN_MAX_UNKNOWN + 1] = { 0 };
    ASSERT_EQ(ym_stun_build_error(out, sizeof(out), 1, rfc_txid, 420, "x", many, YM_STUN_MAX_UNKNOWN + 1), -EINVAL);
    /* The largest 420 we can emit fits YM_STUN_MAX_RESPONSE. */
    int n = ym_stun_build_error(out, sizeof(out), 1, rfc_txid, 420, "Unknown Attribute", many, YM_STUN_MAX_UNKNOWN);
    ASSERT(n > 0 && n <= YM_STUN_MAX_RESPONSE);
    ym_stun_msg_t m;
    ASSERT_EQ(ym_stun_parse(out, (size_t)n, &m, NULL), n);
    ASSERT_EQ(m.error_code, 420);
    /* A method with high bits round-trips through the type encoding. */
    n = ym_stun_build_error(out, sizeof(out), 0xABC, rfc_txid, 599, NULL, NULL, 0);
    ASSERT(n > 0);
    ASSERT_EQ(ym_stun_parse(out, (size_t)n, &m, NULL), n);
    ASSERT_EQ(m.method, 0xABC);
    ASSERT_EQ(m.cls, YM_STUN_ERROR);
    ASSERT_EQ(m.error_code, 599);
}

int main(void)
{
    RUN(crc32_check_value);
    RUN(rfc5769_sample_request);
    RUN(rfc5769_ipv4_response);
    RUN(rfc5769_ipv6_response);
    RUN(build_matches_rfc_xor_address);
    RUN(malformed_rejected);
    RUN(padding_and_unknown_attributes);
    RUN(answer_policy);
    RUN(error_builder_limits);
    return test_report();
}
