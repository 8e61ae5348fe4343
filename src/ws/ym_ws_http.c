/* ym_ws_t over a ym_conn_t: the upgrade from HTTP and the echo handler. */
#include "ws/ym_ws_int.h"

#include "base/ym_log.h"

#include <stdio.h>

static int conn_send(void *tp, ym_rbuf_t *r)
{
    return ym_conn_send(tp, r);
}

static void conn_close(void *tp)
{
    /* Let our close frame (and anything queued before it) reach the peer. */
    ym_conn_close_after_flush(tp);
}

static void conn_timer(ym_conn_t *c)
{
    ym_ws_timeout(ym_conn_proto_data(c));
}

static void conn_set_timer(void *tp, uint64_t ms)
{
    ym_conn_set_timer(tp, ms, conn_timer);
}

static const ym_ws_transport_t conn_transport = {
    .send = conn_send,
    .close = conn_close,
    .set_timer = conn_set_timer,
};

static ssize_t proto_read(ym_conn_t *c, const char *data, size_t len)
{
    /* The core consumes everything: partial frames are kept in its decoder. */
    ym_ws_feed(ym_conn_proto_data(c), data, len);
    return (ssize_t)len;
}

static void proto_close(ym_conn_t *c, int status)
{
    ym_ws_transport_closed(ym_conn_proto_data(c));
}

static const ym_conn_proto_t ws_proto = {
    .name = "websocket",
    .on_read = proto_read,
    .on_drain = NULL,
    .on_close = proto_close,
};

ym_ws_t *ym_ws_accept(ym_http_req_t *req, const ym_ws_handlers_t *h, void *ud, const ym_ws_config_t *cfg)
{
    ym_ws_handshake_t hs;
    if (ym_ws_check_handshake(req, cfg ? cfg->origin_ok : NULL, cfg ? cfg->origin_ud : NULL, &hs) != 101) {
        ym_conn_t *c = req->conn;
        ym_log_debug("ws: handshake refused (%d): %s", hs.status, hs.error);
        ym_http_respond(req, hs.status, "text/plain; charset=utf-8", hs.error, strlen(hs.error), hs.extra_headers);
        /* A refused upgrade never continues as HTTP keep-alive: the client
         * may already be sending frames behind the request. */
        if (!ym_conn_is_closing(c))
            ym_conn_close_after_flush(c);
        return NULL;
    }

    ym_conn_t *c = req->conn;
    ym_ws_t *ws = ym_ws_new(&conn_transport, c, h, ud, cfg);
    ws->conn = c;
    char head[160];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     hs.accept);
    ym_ws__enter(ws);
    ym_http_upgrade(req, head, (size_t)n, &ws_proto, ws);
    if (ym_ws__leave(ws))
        return NULL;
    return ws;
}

static void echo_message(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud)
{
    ym_ws_send(ws, binary, data, len);
}

ym_http_result_t ym_ws_echo_handler(ym_http_req_t *req, void *ud)
{
    static const ym_ws_handlers_t echo = { .on_message = echo_message, .on_close = NULL };
    static const ym_ws_config_t same_host = { .origin_ok = ym_ws_origin_same_host };
    ym_ws_accept(req, &echo, NULL, ud ? ud : &same_host);
    return YM_HTTP_DONE;
}
