/* ym_net.h: TCP listeners and connections on the libuv loop.
 *
 * Threading: everything here runs on the loop thread, and only there.
 *
 * A connection is driven by a protocol (ym_conn_proto_t: HTTP first, then
 * WebSocket after an upgrade). The protocol sees input through on_read and
 * writes by queueing references to immutable ym_rbuf_t blocks; the connection
 * flushes each connection's queue once per loop pass with one writev
 * (docs/ARCHITECTURE.md, "Broadcast"). The same rbuf can sit in thousands of
 * queues: that is how a broadcast is encoded once.
 *
 * Memory: an idle connection holds no read buffer. Reads land in one buffer
 * shared by the loop; only the unconsumed tail of a partial message is copied
 * into a per-connection buffer, which is freed once it is consumed.
 *
 * TLS: a listener opened with ym_net_config_t.tls decrypts before on_read and
 * encrypts queued plaintext at flush time (ym_tls.h, memory BIOs); protocols
 * are the same on both kinds. Plaintext connections carry one NULL pointer
 * and a branch for it; the OpenSSL state (several KiB) exists only on TLS ones.
 *
 * Lifetime: ym_conn_close() never frees synchronously; the connection is freed
 * after libuv's close callback, after proto->on_close has run. It is safe to call
 * ym_conn_close() from inside any callback of the connection, more than once.
 */
#ifndef YM_NET_H
#define YM_NET_H

#include "base/ym_buf.h"
#include "net/ym_tls.h"

#include <sys/socket.h>
#include <uv.h>

typedef struct ym_conn ym_conn_t;
typedef struct ym_listener ym_listener_t;

typedef struct ym_conn_proto {
    const char *name;
    /* Bytes arrived. Returns how many were consumed; the unconsumed tail is kept
     * and presented again, with more bytes appended, on the next call. Return
     * YM_EPROTO after having closed the connection (nothing more is delivered).
     * The data pointer is valid only during the call. */
    ssize_t (*on_read)(ym_conn_t *c, const char *data, size_t len);
    /* Optional: the send queue drained to zero after having been non-empty. */
    void (*on_drain)(ym_conn_t *c);
    /* The peer closed, an error occurred, or ym_conn_close() was called. Called
     * exactly once; the protocol releases its state here. status is 0 or a
     * negative errno (UV_EOF for a clean peer close). The connection is freed
     * after this returns; do not touch it afterwards. */
    void (*on_close)(ym_conn_t *c, int status);
    /* Optional: the peer half-closed (no more input will come). Reading has
     * stopped; the protocol closes the connection when it is done (e.g. after
     * finishing the response in progress). When NULL, the connection closes
     * once what is queued has been written. */
    void (*on_eof)(ym_conn_t *c);
} ym_conn_proto_t;

typedef struct ym_net_config {
    size_t max_send_backlog;     /* bytes queued per connection before it is dropped as too slow; 0 = default 4 MiB */
    unsigned max_connections;    /* accepted connections at once; 0 = default 19000 */
    /* Connections the kernel completes before we accept them (listen(2)'s
     * backlog, clamped by net.core.somaxconn); 0 = default 4096. A reconnect
     * storm overflows a small one, and a dropped SYN costs its client a
     * second before it retries. */
    unsigned listen_backlog;
    /* Non-NULL: every accepted connection speaks TLS (ym_tls.h). Borrowed: it
     * must outlive the listener and its connections. Protocols see plaintext
     * and need not change; ym_conn_send on a TLS connection encrypts at flush
     * time, so a shared broadcast rbuf costs one encryption (and one
     * ciphertext copy) per TLS recipient instead of being written as is.
     * The handshake has no deadline of its own: the protocol's first
     * deadline (HTTP's header timeout, armed at accept) covers it. */
    ym_tls_ctx_t *tls;
} ym_net_config_t;

/* The new connection starts with proto/proto_data set by the listener's callback. */
typedef void (*ym_accept_cb)(ym_listener_t *l, ym_conn_t *c, void *ud);

/* Listens on host:port (IPv4 or IPv6 literal, or "localhost"). Returns 0 or a
 * negative errno; *out belongs to the caller, released with ym_listener_close(). */
int ym_listener_open(uv_loop_t *loop, const char *host, int port, const ym_net_config_t *cfg,
                     ym_accept_cb on_accept, void *ud, ym_listener_t **out);
/* The port actually bound (useful with port 0). */
int ym_listener_port(const ym_listener_t *l);
/* Stops accepting; existing connections are untouched. Frees the listener later
 * (after its last connection is gone); do not use l after this call. */
void ym_listener_close(ym_listener_t *l);
/* Stops accepting but keeps l valid (counts, foreach) until ym_listener_close(). */
void ym_listener_stop(ym_listener_t *l);
/* Number of open connections accepted by this listener. */
unsigned ym_listener_conn_count(const ym_listener_t *l);
/* Calls fn for every open connection (e.g. graceful shutdown). fn may close c. */
void ym_listener_foreach(ym_listener_t *l, void (*fn)(ym_conn_t *c, void *ud), void *ud);

/* Protocol switching (HTTP → WebSocket). Takes effect for the next on_read. */
void ym_conn_set_proto(ym_conn_t *c, const ym_conn_proto_t *proto, void *proto_data);
void *ym_conn_proto_data(const ym_conn_t *c);
const ym_conn_proto_t *ym_conn_proto(const ym_conn_t *c);
uv_loop_t *ym_conn_loop(const ym_conn_t *c);

/* Queues a reference to r (the caller keeps its own reference). Bytes go out in
 * queue order. Returns 0, or -ENOBUFS if the backlog cap is exceeded, in which
 * case the connection is being closed (logged once) and r was not queued. */
int ym_conn_send(ym_conn_t *c, ym_rbuf_t *r);
/* Queues bytes [off, off+len) of r. */
int ym_conn_send_slice(ym_conn_t *c, ym_rbuf_t *r, size_t off, size_t len);
/* Copies p into a new rbuf and queues it. */
int ym_conn_send_copy(ym_conn_t *c, const void *p, size_t len);
/* Bytes queued and not yet written. */
size_t ym_conn_backlog(const ym_conn_t *c);
/* Writes now instead of at the end of the loop pass (rarely needed). */
void ym_conn_flush(ym_conn_t *c);
/* Sends bytes [*off, *off + len) of the regular file fd straight from the page
 * cache (sendfile(2)), as far as the socket takes them without blocking, and
 * advances *off. Only when nothing is queued or being written and the
 * connection is plaintext (TLS needs the bytes in user space); otherwise it
 * sends nothing. Returns the bytes sent (0: not possible now, socket full, or
 * end of file), or -errno, in which case the connection is being closed. Nothing
 * is queued, so no on_drain follows: a caller that got less than len arranges
 * its own wake-up (e.g. queues the next piece with ym_conn_send_slice). fd
 * stays the caller's. Loop thread. */
ssize_t ym_conn_sendfile(ym_conn_t *c, int fd, uint64_t *off, uint64_t len);

/* Pause/resume reading (back-pressure, e.g. while a response streams a file). */
void ym_conn_pause_reading(ym_conn_t *c);
void ym_conn_resume_reading(ym_conn_t *c);

/* Closes once everything queued has been written (or after a short linger). */
void ym_conn_close_after_flush(ym_conn_t *c);
/* Closes now; queued bytes are dropped. */
void ym_conn_close(ym_conn_t *c);
/* True once ym_conn_close() or ym_conn_close_after_flush() was called or the
 * connection failed: no more input will be handled on it. */
bool ym_conn_is_closing(const ym_conn_t *c);

/* One timer per connection for its protocol's deadlines (header timeout, idle,
 * heartbeat...). Re-arming replaces the previous deadline; ms == 0 disarms. */
void ym_conn_set_timer(ym_conn_t *c, uint64_t ms, void (*cb)(ym_conn_t *c));

/* The peer address as text ("127.0.0.1:54321"), valid for the connection's life. */
const char *ym_conn_peer(ym_conn_t *c);
/* A small id, unique per process, for logs. */
uint64_t ym_conn_id(const ym_conn_t *c);
/* True for connections accepted by a TLS listener (e.g. to build https:// URLs
 * or set Secure cookies); everything else about them is the same. */
bool ym_conn_is_tls(const ym_conn_t *c);

#endif
