/* ym_eio.h: an Engine.IO v4 server (HTTP long-polling and WebSocket transports,
 * upgrade, heartbeats, payload limits) on top of ym_http and ym_ws.
 *
 * Threading: loop thread only, everything here.
 *
 * Lifetime: a session (one Engine.IO client, one sid) is created by the server
 * on a successful handshake (on_open) and released by the server after
 * on_close has returned. on_close runs exactly once per session, always from a
 * deferred point of the loop (a uv_idle pass), never inside the stack of the
 * caller that triggered the close, so a handler may call ym_eio_close() or
 * ym_eio_send() on any session, including the one it is handling.
 * A session pointer must not be used after its on_close returned.
 *
 * The pure codecs (packets, polling payloads) are in ym_eio_codec.h.
 */
#ifndef YM_EIO_H
#define YM_EIO_H

#include "eio/ym_eio_codec.h"
#include "http/ym_http.h"

#include <uv.h>

typedef struct ym_eio_server ym_eio_server_t;
typedef struct ym_eio_session ym_eio_session_t;   /* one Engine.IO client (sid) */
typedef struct ym_eio_packet ym_eio_packet_t;     /* refcounted encoded message packet, shareable across sessions */

typedef struct ym_eio_config {
    const char *path;               /* route prefix, e.g. "/engine.io/"; copied */
    uint32_t ping_interval_ms;      /* 0 = 25000 */
    uint32_t ping_timeout_ms;       /* 0 = 20000 */
    uint32_t upgrade_timeout_ms;    /* 0 = 10000 */
    size_t max_payload;             /* POST body / WS message cap; 0 = 1000000 (advertised as maxPayload) */
    size_t max_send_backlog;        /* bytes queued per session before it is dropped as too slow; 0 = 4 MiB */
    const char *const *cors_origins;/* NULL-terminated exact-match Origin allowlist; NULL = CORS off. Not copied:
                                     * must outlive the server. */
    bool disable_polling, disable_websocket;
} ym_eio_config_t;

typedef struct ym_eio_handlers {
    /* The handshake is done; the open packet has been queued. */
    void (*on_open)(ym_eio_session_t *s, void *ud);
    /* One message packet. data is valid only during the call (not NUL-terminated
     * for binary; text is valid UTF-8). */
    void (*on_message)(ym_eio_session_t *s, const char *data, size_t len, bool binary, void *ud);
    /* Exactly once per opened session; s is freed after this returns. reason is a
     * static string: "transport close", "transport error", "ping timeout",
     * "parse error", "forced close", "client close", "server shutting down",
     * "send backlog", or the reason given to ym_eio_close(). */
    void (*on_close)(ym_eio_session_t *s, const char *reason, void *ud);
    void *ud;
} ym_eio_handlers_t;

/* Creates the server and registers the route for cfg->path on http (cfg and h
 * are copied, except cfg->cors_origins). Returns NULL if cfg is invalid (both
 * transports disabled, no path). Released with ym_eio_server_free(). */
ym_eio_server_t *ym_eio_server_new(uv_loop_t *loop, ym_http_server_t *http, const ym_eio_config_t *cfg,
                                   const ym_eio_handlers_t *h);
/* Start of a graceful shutdown, before the HTTP server's: new handshakes get
 * 503, every session is closed with "server shutting down" (held GETs are
 * answered with a close packet at once, WebSockets get a close frame), so the
 * HTTP layer does not wait for long-polls. on_close runs from the loop as
 * usual. Idempotent; ym_eio_server_free() is still needed afterwards. */
void ym_eio_server_shutdown(ym_eio_server_t *srv);
/* Closes all sessions (on_close with "server shutting down" runs for each,
 * synchronously here, since the server is going away), answers held GETs,
 * closes the WebSockets and frees the server once its handles are closed
 * (the loop must run once more). Not from inside one of its own handlers.
 * The http route stays registered with a pointer to srv: call this only once
 * the HTTP server dispatches no more requests (after its shutdown is done). */
void ym_eio_server_free(ym_eio_server_t *srv);

/* Queues one message packet (copies data). Returns 0, -EPIPE if the session is
 * closing/closed, or -ENOBUFS if the send backlog cap was hit (the session is
 * then being closed with "send backlog"). */
int ym_eio_send(ym_eio_session_t *s, const char *data, size_t len, bool binary);

/* A message packet built once and sent to many sessions (broadcast). refs = 1,
 * owned by the caller; data is copied. len must be < 4 GiB. */
ym_eio_packet_t *ym_eio_packet_new(const char *data, size_t len, bool binary);
ym_eio_packet_t *ym_eio_packet_ref(ym_eio_packet_t *p);
void ym_eio_packet_unref(ym_eio_packet_t *p);           /* NULL is fine */
/* Queues p on s; the session takes its own reference (the caller keeps its own).
 * WebSocket sessions share one lazily built WS frame rbuf per packet; polling
 * sessions queue the packet and encode it into the next GET body. Returns as
 * ym_eio_send(). */
int ym_eio_send_packet(ym_eio_session_t *s, ym_eio_packet_t *p);

/* Server-side close: queued packets are still offered to the client where the
 * transport allows (a close packet "1" is sent), then the transport is closed.
 * on_close(s, reason) follows from a deferred point. reason must be a static
 * string (or outlive the session). Idempotent. */
void ym_eio_close(ym_eio_session_t *s, const char *reason);

/* Opaque user pointer (e.g. the Socket.IO client); never touched by eio. */
void ym_eio_session_set_data(ym_eio_session_t *s, void *d);
void *ym_eio_session_data(const ym_eio_session_t *s);
/* The sid: 20 URL-safe characters, valid for the session's life. */
const char *ym_eio_session_id(const ym_eio_session_t *s);
/* "polling" | "websocket" (after an upgrade: "websocket"). Static string. */
const char *ym_eio_session_transport(const ym_eio_session_t *s);
/* Peer address of the handshake request ("127.0.0.1:54321"), valid for the session's life. */
const char *ym_eio_session_peer(const ym_eio_session_t *s);
/* True while a long-polling GET of s is held open, waiting for packets (lets
 * tests wait for "the poll reached the server" instead of sleeping). */
bool ym_eio_session_poll_held(const ym_eio_session_t *s);
/* The open sessions (not yet closed or closing). */
size_t ym_eio_session_count(const ym_eio_server_t *srv);
/* The server a session belongs to. */
ym_eio_server_t *ym_eio_session_server(const ym_eio_session_t *s);

#endif
