/* Loopback integration test of the STUN server: a libuv UDP client on the
 * same loop sends a mix of garbage and Binding requests and checks that
 * exactly the requests are answered, with its own address. */
#include "test.h"

#include "rtc/ym_stun.h"
#include "rtc/ym_stun_server.h"

#include <arpa/inet.h>
#include <uv.h>

typedef struct client {
    uv_udp_t udp;
    uv_timer_t timeout;
    struct sockaddr_storage server;
    int family;            /* 4 or 6: what the answers must say */
    uint8_t ip[16];        /* the loopback address they must carry */
    int client_port;
    int received;          /* answers seen, in order */
    int expected;          /* answers to wait for */
    uint8_t txids[4][12];  /* txid of each request, in sending order */
    bool timed_out;
    bool failed;           /* an answer did not check out */
    ym_stun_server_t *srv; /* stopped when the client is done */
    ym_stun_server_stats_t stats;
    char buf[512];
} client_t;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client_t *c = h->data;
    *buf = uv_buf_init(c->buf, sizeof(c->buf));
}

static void finish(client_t *c)
{
    ym_stun_server_stats(c->srv, &c->stats);
    ym_stun_server_stop(c->srv);
    c->srv = NULL;
    uv_udp_recv_stop(&c->udp);
    uv_close((uv_handle_t *)&c->udp, NULL);
    uv_close((uv_handle_t *)&c->timeout, NULL);
}

static void on_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
    client_t *c = udp->data;
    if (nread == 0 && !from)
        return;
    ym_stun_msg_t m;
    const char *why = NULL;
    int i = c->received++;
    if (nread <= 0 || i >= c->expected || ym_stun_parse(buf->base, (size_t)nread, &m, &why) != (int)nread) {
        fprintf(stderr, "bad answer %d (%zd bytes): %s\n", i, nread, why ? why : "");
        c->failed = true;
    } else {
        /* Each answer is a Binding success for the matching request, with a
         * valid FINGERPRINT, SOFTWARE, and our loopback address and port. */
        if (m.cls != YM_STUN_SUCCESS || m.method != YM_STUN_BINDING || !m.has_fingerprint ||
            !m.has_xor_mapped || m.has_mapped || m.xor_mapped.family != c->family ||
            memcmp(m.xor_mapped.ip, c->ip, 16) != 0 || m.xor_mapped.port != c->client_port ||
            memcmp(m.txid, c->txids[i], 12) != 0 || !ym_str_eq_lit(m.software, "yoom")) {
            fprintf(stderr, "answer %d does not check out\n", i);
            c->failed = true;
        }
    }
    if (c->failed || c->received == c->expected)
        finish(c);
}

static void on_timeout(uv_timer_t *t)
{
    client_t *c = t->data;
    c->timed_out = true;
    finish(c);
}

static void send_bytes(client_t *c, const void *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    /* Loopback with an empty socket buffer: try_send does not block or fail. */
    ASSERT_EQ(uv_udp_try_send(&c->udp, &b, 1, (const struct sockaddr *)&c->server), (int)n);
}

/* A Binding message (0x0001 request, 0x0011 indication, 0x0101 success)
 * with a FINGERPRINT, as browsers send them. */
static size_t binding(uint8_t out[28], uint16_t type, const uint8_t txid[12])
{
    memset(out, 0, 28);
    out[0] = (uint8_t)(type >> 8);
    out[1] = (uint8_t)type;
    out[3] = 8;
    out[4] = 0x21; out[5] = 0x12; out[6] = 0xa4; out[7] = 0x42;
    memcpy(out + 8, txid, 12);
    out[20] = 0x80; out[21] = 0x28; out[23] = 4;
    uint32_t crc = ym_stun_crc32(out, 20) ^ YM_STUN_FINGERPRINT_XOR;
    out[24] = (uint8_t)(crc >> 24); out[25] = (uint8_t)(crc >> 16);
    out[26] = (uint8_t)(crc >> 8);  out[27] = (uint8_t)crc;
    return 28;
}

static void exchange(const char *host, int family)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_stun_server_t *srv = NULL;
    ASSERT_EQ(ym_stun_server_start(&loop, host, 0, &srv), 0);
    ASSERT(srv != NULL);
    int port = ym_stun_server_port(srv);
    ASSERT(port > 0);

    client_t c;
    memset(&c, 0, sizeof(c));
    c.expected = 2;
    c.srv = srv;
    c.family = family;
    ASSERT_EQ(inet_pton(family == 4 ? AF_INET : AF_INET6, host, c.ip), 1);
    ASSERT_EQ(uv_udp_init(&loop, &c.udp), 0);
    ASSERT_EQ(uv_timer_init(&loop, &c.timeout), 0);
    c.udp.data = &c;
    c.timeout.data = &c;
    struct sockaddr_storage any, me;
    if (family == 4) {
        ASSERT_EQ(uv_ip4_addr(host, 0, (struct sockaddr_in *)&any), 0);
        ASSERT_EQ(uv_ip4_addr(host, port, (struct sockaddr_in *)&c.server), 0);
    } else {
        ASSERT_EQ(uv_ip6_addr(host, 0, (struct sockaddr_in6 *)&any), 0);
        ASSERT_EQ(uv_ip6_addr(host, port, (struct sockaddr_in6 *)&c.server), 0);
    }
    ASSERT_EQ(uv_udp_bind(&c.udp, (const struct sockaddr *)&any, 0), 0);
    int melen = sizeof(me);
    ASSERT_EQ(uv_udp_getsockname(&c.udp, (struct sockaddr *)&me, &melen), 0);
    /* sin_port and sin6_port sit at the same offset. */
    c.client_port = ntohs(((struct sockaddr_in *)&me)->sin_port);
    ASSERT_EQ(uv_udp_recv_start(&c.udp, on_alloc, on_recv), 0);
    /* A generous bound so that a lost answer fails the test instead of
     * hanging it; it is not a timing assertion. */
    ASSERT_EQ(uv_timer_start(&c.timeout, on_timeout, 10000, 0), 0);

    /* Garbage, a request, a well-formed success response and indication
     * (never answered), a request whose FINGERPRINT is wrong, a too-short
     * datagram, and a last request. Answers come back in order, so an answer
     * to anything but the two requests would arrive before the second success
     * and fail the txid check. */
    memcpy(c.txids[0], "yoom-txid-01", 12);
    memcpy(c.txids[1], "yoom-txid-02", 12);
    uint8_t req[28];
    send_bytes(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    send_bytes(&c, req, binding(req, 0x0001, c.txids[0]));
    send_bytes(&c, req, binding(req, 0x0101, (const uint8_t *)"a-response.."));
    send_bytes(&c, req, binding(req, 0x0011, (const uint8_t *)"indication.."));
    binding(req, 0x0001, (const uint8_t *)"bad-fingerpr");
    req[27] ^= 1;
    send_bytes(&c, req, 28);
    send_bytes(&c, req, 19);
    send_bytes(&c, req, binding(req, 0x0001, c.txids[1]));

    /* Runs until the client has its answers (or times out) and has stopped
     * the server: then no handle is left. */
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT(!c.timed_out);
    ASSERT(!c.failed);
    ASSERT_EQ(c.received, 2);
    ASSERT_EQ(c.stats.requests, 7);
    ASSERT_EQ(c.stats.answered, 2);
    ASSERT_EQ(c.stats.dropped, 5);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(binding_over_loopback_ipv4)
{
    exchange("127.0.0.1", 4);
}

TEST(binding_over_loopback_ipv6)
{
    exchange("::1", 6);
}

TEST(start_errors)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_stun_server_t *srv = NULL, *other = NULL;
    ASSERT_EQ(ym_stun_server_start(&loop, "not an address", 0, &other), UV_EINVAL);
    ASSERT_EQ(ym_stun_server_start(&loop, "127.0.0.1", 70000, &other), UV_EINVAL);
    ASSERT_EQ(ym_stun_server_start(&loop, "127.0.0.1", 0, &srv), 0);
    /* The port is taken: the error comes back and the half-made server is
     * closed and freed by the loop (ASan would report a leak otherwise). */
    ASSERT_EQ(ym_stun_server_start(&loop, "127.0.0.1", ym_stun_server_port(srv), &other), UV_EADDRINUSE);
    ASSERT(other == NULL);
    ym_stun_server_stop(srv);
    ym_stun_server_stop(NULL);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN(binding_over_loopback_ipv4);
    RUN(binding_over_loopback_ipv6);
    RUN(start_errors);
    return test_report();
}
