/* ym_stun_server.h: a STUN Binding server on one UDP socket (RFC 8489).
 *
 * Answers Binding requests with the sender's address (XOR-MAPPED-ADDRESS),
 * following ym_stun_answer's policy: garbage, indications and responses get
 * nothing. One receive buffer and one answer buffer live in the server, and
 * answers go out with uv_udp_try_send, so nothing is allocated per packet; an
 * answer the kernel cannot take at once is dropped (the client retransmits).
 *
 * Threading: everything runs on the thread of the loop given to start.
 */
#ifndef YM_STUN_SERVER_H
#define YM_STUN_SERVER_H

#include <stdint.h>
#include <uv.h>

typedef struct ym_stun_server ym_stun_server_t;

typedef struct ym_stun_server_stats {
    uint64_t requests;   /* datagrams received */
    uint64_t answered;   /* answers sent (successes and errors) */
    uint64_t dropped;    /* datagrams not answered, or whose answer failed to send */
} ym_stun_server_stats_t;

/* Binds host:port (an IPv4 or IPv6 literal; port 0 picks a free port) on loop
 * and starts answering. On success *out is the server (owned by the caller,
 * released with ym_stun_server_stop) and 0 is returned; otherwise a negative
 * errno and *out is untouched. */
int ym_stun_server_start(uv_loop_t *loop, const char *host, int port, ym_stun_server_t **out);

/* The bound port (useful after port 0). */
int ym_stun_server_port(const ym_stun_server_t *srv);

void ym_stun_server_stats(const ym_stun_server_t *srv, ym_stun_server_stats_t *out);

/* Stops receiving, logs the counters and closes the socket; the memory is
 * freed in the close callback, on a later loop iteration, so the loop must run
 * once more before uv_loop_close. srv is invalid after this call. NULL is
 * fine. Must not be called twice. */
void ym_stun_server_stop(ym_stun_server_t *srv);

#endif
