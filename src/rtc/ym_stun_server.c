#include "rtc/ym_stun_server.h"

#include "base/ym_base.h"
#include "base/ym_log.h"
#include "rtc/ym_stun.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Bigger than any STUN request we answer: larger datagrams arrive truncated
 * (UV_UDP_PARTIAL) and are dropped. A browser's Binding request is < 200. */
#define RECV_BUF 2048

struct ym_stun_server {
    uv_udp_t udp;
    int port;
    bool in_use;          /* the receive buffer is lent to libuv */
    ym_stun_server_stats_t stats;
    char recv_buf[RECV_BUF];
    uint8_t answer[YM_STUN_MAX_RESPONSE];
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ym_stun_server_t *srv = h->data;
    /* libuv lends the buffer back after each recv callback, so one buffer
     * per server suffices; hand out none if it is somehow still out. */
    if (srv->in_use) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    srv->in_use = true;
    *buf = uv_buf_init(srv->recv_buf, sizeof(srv->recv_buf));
}

static bool to_stun_addr(const struct sockaddr *sa, ym_stun_addr_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->family = 4;
        out->port = ntohs(in->sin_port);
        memcpy(out->ip, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        /* A v4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; the
         * browser wants its IPv4 address back. */
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            out->family = 4;
            memcpy(out->ip, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            out->family = 6;
            memcpy(out->ip, &in6->sin6_addr, 16);
        }
        out->port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

static void on_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
    ym_stun_server_t *srv = udp->data;
    if (buf->base == srv->recv_buf)
        srv->in_use = false;
    /* nread == 0 with no sender just means "nothing more to read". */
    if (nread == 0 && !from)
        return;
    if (nread < 0) {
        ym_log_debug("stun: receive error: %s", uv_strerror((int)nread));
        return;
    }
    srv->stats.requests++;
    ym_stun_addr_t peer;
    if ((flags & UV_UDP_PARTIAL) || !from || !to_stun_addr(from, &peer)) {
        srv->stats.dropped++;
        return;
    }
    const char *why = NULL;
    size_t n = ym_stun_answer(buf->base, (size_t)nread, &peer, srv->answer, sizeof(srv->answer), &why);
    if (n == 0) {
        srv->stats.dropped++;
        ym_log_debug("stun: %zd bytes not answered: %s", nread, why ? why : "?");
        return;
    }
    uv_buf_t out = uv_buf_init((char *)srv->answer, (unsigned)n);
    int rc = uv_udp_try_send(udp, &out, 1, from);
    if (rc < 0) {
        srv->stats.dropped++;
        ym_log_debug("stun: answer not sent: %s", uv_strerror(rc));
        return;
    }
    srv->stats.answered++;
}

static void on_close(uv_handle_t *h)
{
    free(h->data);
}

int ym_stun_server_start(uv_loop_t *loop, const char *host, int port, ym_stun_server_t **out)
{
    if (!host || port < 0 || port > 65535)
        return UV_EINVAL;
    struct sockaddr_storage ss;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc < 0)
        return rc;

    ym_stun_server_t *srv = ym_xcalloc(1, sizeof(*srv));
    rc = uv_udp_init(loop, &srv->udp);
    if (rc < 0) {
        free(srv);
        return rc;
    }
    srv->udp.data = srv;
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    if ((rc = uv_udp_bind(&srv->udp, (const struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_udp_getsockname(&srv->udp, (struct sockaddr *)&bound, &blen)) < 0 ||
        (rc = uv_udp_recv_start(&srv->udp, on_alloc, on_recv)) < 0) {
        /* The handle is initialised: it must be closed, and srv is freed by
         * the close callback like in ym_stun_server_stop. */
        uv_close((uv_handle_t *)&srv->udp, on_close);
        return rc;
    }
    srv->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    ym_log_info("stun: listening on udp %s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                strchr(host, ':') ? "]" : "", srv->port);
    *out = srv;
    return 0;
}

int ym_stun_server_port(const ym_stun_server_t *srv)
{
    return srv->port;
}

void ym_stun_server_stats(const ym_stun_server_t *srv, ym_stun_server_stats_t *out)
{
    *out = srv->stats;
}

void ym_stun_server_stop(ym_stun_server_t *srv)
{
    if (!srv)
        return;
    uv_udp_recv_stop(&srv->udp);
    ym_log_info("stun: stopped: %llu requests, %llu answered, %llu dropped",
                (unsigned long long)srv->stats.requests, (unsigned long long)srv->stats.answered,
                (unsigned long long)srv->stats.dropped);
    uv_close((uv_handle_t *)&srv->udp, on_close);
}
