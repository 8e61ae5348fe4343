/* ym_ws.h: WebSocket (RFC 6455) handshake and connections on top of ym_http.
 *
 * Threading: loop thread only.
 *
 * A ym_ws_t is created by ym_ws_accept() from an HTTP upgrade request and then
 * drives the connection (it is the ym_conn_t's protocol). It answers pings,
 * ignores unsolicited pongs, reassembles fragments, runs the close handshake,
 * enforces the limits of ym_ws_config_t and delivers whole messages to
 * on_message. Permessage-deflate is never negotiated.
 *
 * Lifetime: the ym_ws_t lives until the TCP connection is gone. Then on_close
 * runs exactly once, and the ym_ws_t is freed right after on_close returns; do
 * not touch it afterwards. It is never freed while one of its callbacks is on
 * the stack: ym_ws_close() and ym_ws_send() are safe from inside on_message,
 * and on_close never runs inside on_message.
 *
 * Transport: the core (ym_ws_new) is independent of ym_net, written against a
 * tiny transport interface; ym_ws_accept() plugs in a ym_conn_t. Unit tests
 * plug in a fake one.
 */
#ifndef YM_WS_H
#define YM_WS_H

#include "http/ym_http.h"
#include "ws/ym_ws_frame.h"

typedef struct ym_ws ym_ws_t;

typedef struct ym_ws_handlers {
    /* A whole message. data is valid only during the call (not NUL-terminated);
     * text has been checked to be UTF-8. May call ym_ws_send/ym_ws_close. */
    void (*on_message)(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud);
    /* The connection is gone. code: the peer's close code (1005 if its close
     * frame had none), else the code we failed the connection with, else 1006
     * (TCP went away without a close frame). Called exactly once; ws is freed
     * when this returns. Optional. */
    void (*on_close)(ym_ws_t *ws, int code, void *ud);
} ym_ws_handlers_t;

/* Origin hook (Cross-Site WebSocket Hijacking defence): origin.p is NULL when
 * the request carried no Origin header. Return false to refuse with 403.
 * Called from inside ym_ws_check_handshake; req is valid during the call. */
typedef bool (*ym_ws_origin_cb)(const ym_http_req_t *req, ym_str_t origin, void *ud);

/* A ready origin hook: allows requests without Origin (non-browser clients)
 * and browsers whose Origin's host[:port] equals the Host header (same origin,
 * any scheme); refuses everything else. ud is unused. */
bool ym_ws_origin_same_host(const ym_http_req_t *req, ym_str_t origin, void *ud);

typedef struct ym_ws_config {
    size_t max_message_bytes;   /* 0 = 1 MiB; bigger messages fail with 1009 */
    unsigned max_fragments;     /* frames per message, 0 = 1024; more fail with 1008 */
    uint64_t close_timeout_ms;  /* after our close frame, wait this long for the peer's; 0 = 2000 */
    ym_ws_origin_cb origin_ok;  /* NULL = accept any Origin (see ym_ws_origin_same_host) */
    void *origin_ud;
} ym_ws_config_t;

#define YM_WS_MAX_PROTOCOL_BYTES 1024u   /* Sec-WebSocket-Protocol / -Extensions, all lines together */
#define YM_WS_MAX_PROTOCOL_ITEMS 16u

typedef struct ym_ws_handshake {
    int status;                 /* 101, or the error status to answer with */
    const char *error;          /* static text for the error body and logs; NULL on 101 */
    const char *extra_headers;  /* static header lines to add to the error response, or NULL */
    char accept[29];            /* Sec-WebSocket-Accept value (NUL-terminated) on 101 */
} ym_ws_handshake_t;

/* Checks an upgrade request (RFC 6455 §4.2.1): GET, HTTP/1.1, one Upgrade
 * header with the token "websocket", Connection with the token "upgrade", one
 * Sec-WebSocket-Version equal to 13 (else 426 + Sec-WebSocket-Version: 13), one
 * Sec-WebSocket-Key that is base64 of exactly 16 bytes, Protocol/Extensions
 * lists within YM_WS_MAX_PROTOCOL_*, and the Origin hook. Fills *out and
 * returns out->status (101 or 400/403/405/426). Reads req only. */
int ym_ws_check_handshake(const ym_http_req_t *req, ym_ws_origin_cb origin_ok, void *origin_ud,
                          ym_ws_handshake_t *out);

/* Computes the Sec-WebSocket-Accept value for a key (any length). */
void ym_ws_accept_key(const char *key, size_t len, char out[29]);

/* Checks the handshake; on failure answers the request with the error status
 * (and Connection: close from the HTTP layer) and returns NULL. On success
 * writes the 101 head through ym_http_upgrade (bytes that came with the request
 * go through the same frame decoder) and returns the connection. cfg may be
 * NULL (defaults); it is copied. h is copied; ud belongs to the caller.
 * Must be called from an HTTP handler, which then returns YM_HTTP_DONE.
 * Bytes that arrived behind the request are fed after the handler returns, so
 * ym_ws_set_userdata() right after accept is in time for the first message.
 * May also return NULL if the connection closed during the upgrade itself;
 * on_close has then already run. */
ym_ws_t *ym_ws_accept(ym_http_req_t *req, const ym_ws_handlers_t *h, void *ud, const ym_ws_config_t *cfg);

/* Sends one message as a single frame (p is copied). Returns 0, -EPIPE once a
 * close frame was sent or the connection is closing, -EMSGSIZE for 4 GiB or
 * more, or -ENOBUFS when the send backlog cap was hit (the connection is then
 * being dropped). */
int ym_ws_send(ym_ws_t *ws, bool binary, const void *p, size_t len);
/* Queues a complete, already-framed message (e.g. from ym_ws_frame_build),
 * taking its own reference: the caller keeps its reference, so one rbuf can go
 * to many connections (broadcast encodes once). Same returns as ym_ws_send. */
int ym_ws_send_frame(ym_ws_t *ws, ym_rbuf_t *preframed);
/* Starts the close handshake: sends a close frame with code (and reason, cut to
 * 123 bytes) and waits up to close_timeout_ms for the peer's close frame, then
 * drops TCP. Further received data is ignored. Idempotent. code must be valid
 * for the wire (ym_ws_close_code_valid) or 0 for an empty close frame; an
 * invalid code is logged and replaced by 1011. */
void ym_ws_close(ym_ws_t *ws, unsigned code, const char *reason);
/* True once a close frame was sent or the connection is going away. */
bool ym_ws_is_closing(const ym_ws_t *ws);

/* The underlying connection (backlog queries: ym_conn_backlog), NULL for a
 * ym_ws_new() core without one. Valid for the life of ws. */
ym_conn_t *ym_ws_conn(const ym_ws_t *ws);
void *ym_ws_userdata(const ym_ws_t *ws);
void ym_ws_set_userdata(ym_ws_t *ws, void *ud);

/* An HTTP handler that accepts a WebSocket and echoes every message (text as
 * text, binary as binary), for the conformance suite. ud: NULL (default limits
 * and the ym_ws_origin_same_host policy) or a ym_ws_config_t* that outlives
 * the route. */
ym_http_result_t ym_ws_echo_handler(ym_http_req_t *req, void *ud);

/* ---- the transport-independent core (used by ym_ws_accept and by tests) ---- */

typedef struct ym_ws_transport {
    /* Queue a reference to r (caller keeps its own). 0, or a negative errno. */
    int (*send)(void *tp, ym_rbuf_t *r);
    /* Close the transport once queued bytes are out. The transport must later
     * call ym_ws_transport_closed(); it may do so from inside this call. */
    void (*close)(void *tp);
    /* Arm (ms > 0) or disarm (0) the close timer; on expiry call ym_ws_timeout(). */
    void (*set_timer)(void *tp, uint64_t ms);
} ym_ws_transport_t;

/* A connection core over an arbitrary transport; tp is passed to its functions.
 * The result is owned by the transport, which must end it with
 * ym_ws_transport_closed() (that runs on_close and frees it). */
ym_ws_t *ym_ws_new(const ym_ws_transport_t *t, void *tp, const ym_ws_handlers_t *h, void *ud,
                   const ym_ws_config_t *cfg);
/* Input from the peer; consumes everything. */
void ym_ws_feed(ym_ws_t *ws, const char *data, size_t len);
/* The close timer fired: drop the transport. */
void ym_ws_timeout(ym_ws_t *ws);
/* The transport is gone: runs on_close (once) and frees ws, unless a callback
 * of ws is on the stack, in which case that happens when it unwinds. */
void ym_ws_transport_closed(ym_ws_t *ws);

#endif
