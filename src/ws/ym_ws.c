/* The WebSocket connection core (transport-independent) and the handshake
 * check. The ym_conn glue lives in ym_ws_http.c so that this file and its tests
 * need nothing but the base layer. */
#include "ws/ym_ws_int.h"

#include "base/ym_codec.h"
#include "base/ym_log.h"

#include <errno.h>
#include <stdlib.h>

#define DEFAULT_CLOSE_TIMEOUT_MS 2000u

/* ---- handshake ---- */

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ym_ws_accept_key(const char *key, size_t len, char out[29])
{
    uint8_t digest[20];
    ym_buf_t b = YM_BUF_INIT;
    ym_buf_append(&b, key, len);
    ym_buf_append(&b, WS_GUID, sizeof(WS_GUID) - 1);
    ym_sha1(b.data, b.len, digest);
    ym_buf_reset(&b);
    ym_b64_encode(&b, digest, sizeof(digest));
    /* base64 of 20 bytes is always 28 characters. */
    memcpy(out, b.data, 28);
    out[28] = '\0';
    ym_buf_free(&b);
}

/* Our own lookups over req->headers: this file must not depend on the http
 * library's code, only on its request struct. */
static size_t header_count(const ym_http_req_t *req, const char *name, ym_str_t *first)
{
    ym_str_t n = ym_str_from(name);
    size_t count = 0;
    if (first)
        *first = (ym_str_t){ NULL, 0 };
    for (size_t i = 0; i < req->header_count; i++) {
        if (!ym_str_case_eq(req->headers[i].name, n))
            continue;
        if (count++ == 0 && first)
            *first = req->headers[i].value;
    }
    return count;
}

/* Element count and byte size of a comma list spread over repeated header
 * lines. Linear, no allocation: the classic DoS here was a quadratic split. */
static bool list_within_limits(const ym_http_req_t *req, const char *name)
{
    ym_str_t n = ym_str_from(name);
    size_t bytes = 0, items = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        if (!ym_str_case_eq(req->headers[i].name, n))
            continue;
        ym_str_t v = req->headers[i].value;
        bytes += v.len;
        items++;
        for (size_t k = 0; k < v.len; k++)
            items += v.p[k] == ',';
        if (bytes > YM_WS_MAX_PROTOCOL_BYTES || items > YM_WS_MAX_PROTOCOL_ITEMS)
            return false;
    }
    return true;
}

static int hs_fail(ym_ws_handshake_t *out, int status, const char *why, const char *extra)
{
    out->status = status;
    out->error = why;
    out->extra_headers = extra;
    return status;
}

int ym_ws_check_handshake(const ym_http_req_t *req, ym_ws_origin_cb origin_ok, void *origin_ud,
                          ym_ws_handshake_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!ym_str_eq_lit(req->method, "GET"))
        return hs_fail(out, 405, "WebSocket handshake must be GET", "Allow: GET\r\n");
    if (req->version_minor != 1)
        return hs_fail(out, 400, "WebSocket handshake needs HTTP/1.1", NULL);

    ym_str_t upgrade, version, key, origin;
    size_t n_upgrade = header_count(req, "Upgrade", &upgrade);
    if (n_upgrade != 1 || !ym_str_has_token(upgrade, "websocket"))
        return hs_fail(out, 400, n_upgrade > 1 ? "duplicate Upgrade header" : "missing Upgrade: websocket", NULL);

    bool conn_upgrade = false;
    for (size_t i = 0; i < req->header_count; i++)
        if (ym_str_case_eq(req->headers[i].name, YM_STR("Connection")) &&
            ym_str_has_token(req->headers[i].value, "upgrade"))
            conn_upgrade = true;
    if (!conn_upgrade)
        return hs_fail(out, 400, "Connection header lacks the upgrade token", NULL);

    size_t n_version = header_count(req, "Sec-WebSocket-Version", &version);
    if (n_version > 1)
        return hs_fail(out, 400, "duplicate Sec-WebSocket-Version header", NULL);
    if (n_version == 0 || !ym_str_eq_lit(version, "13"))
        return hs_fail(out, 426, "unsupported Sec-WebSocket-Version (13 only)", "Sec-WebSocket-Version: 13\r\n");

    size_t n_key = header_count(req, "Sec-WebSocket-Key", &key);
    if (n_key != 1)
        return hs_fail(out, 400, n_key ? "duplicate Sec-WebSocket-Key header" : "missing Sec-WebSocket-Key", NULL);
    /* 16 bytes are always 24 base64 characters; check the length before decoding. */
    bool key_ok = key.len == 24;
    if (key_ok) {
        ym_buf_t raw = YM_BUF_INIT;
        key_ok = ym_b64_decode(&raw, key.p, key.len) == 0 && raw.len == 16;
        ym_buf_free(&raw);
    }
    if (!key_ok)
        return hs_fail(out, 400, "Sec-WebSocket-Key is not base64 of 16 bytes", NULL);

    if (!list_within_limits(req, "Sec-WebSocket-Protocol"))
        return hs_fail(out, 400, "Sec-WebSocket-Protocol list too long", NULL);
    /* Extensions are never negotiated, but an absurd list is still refused. */
    if (!list_within_limits(req, "Sec-WebSocket-Extensions"))
        return hs_fail(out, 400, "Sec-WebSocket-Extensions list too long", NULL);

    if (origin_ok) {
        size_t n_origin = header_count(req, "Origin", &origin);
        if (n_origin > 1 || !origin_ok(req, origin, origin_ud))
            return hs_fail(out, 403, "Origin not allowed", NULL);
    }

    ym_ws_accept_key(key.p, key.len, out->accept);
    out->status = 101;
    return 101;
}

bool ym_ws_origin_same_host(const ym_http_req_t *req, ym_str_t origin, void *ud)
{
    if (!origin.p)
        return true;
    /* origin = scheme "://" host [ ":" port ], nothing after (RFC 6454 §6.1). */
    const char *sep = memchr(origin.p, ':', origin.len);
    if (!sep || (size_t)(origin.p + origin.len - sep) < 3 || sep[1] != '/' || sep[2] != '/')
        return false;
    ym_str_t authority = { sep + 3, (size_t)(origin.p + origin.len - (sep + 3)) };
    ym_str_t host;
    if (header_count(req, "Host", &host) != 1 || authority.len == 0)
        return false;
    return ym_str_case_eq(authority, host);
}

/* ---- connection core ---- */

ym_ws_t *ym_ws_new(const ym_ws_transport_t *t, void *tp, const ym_ws_handlers_t *h, void *ud,
                   const ym_ws_config_t *cfg)
{
    ym_ws_t *ws = ym_xcalloc(1, sizeof(*ws));
    ym_ws_config_t c = cfg ? *cfg : (ym_ws_config_t){ 0 };
    ws->t = t;
    ws->tp = tp;
    if (h)
        ws->h = *h;
    ws->ud = ud;
    ws->close_timeout_ms = c.close_timeout_ms ? c.close_timeout_ms : DEFAULT_CLOSE_TIMEOUT_MS;
    ws->close_code = YM_WS_CLOSE_ABNORMAL;
    ym_ws_decoder_init(&ws->dec, c.max_message_bytes, c.max_fragments, true);
    return ws;
}

static void finish(ym_ws_t *ws)
{
    if (!ws->on_close_done) {
        ws->on_close_done = true;
        if (ws->h.on_close) {
            ws->busy++;
            ws->h.on_close(ws, ws->close_code, ws->ud);
            ws->busy--;
        }
    }
    ym_ws_decoder_free(&ws->dec);
    free(ws);
}

bool ym_ws__leave(ym_ws_t *ws)
{
    if (--ws->busy == 0 && ws->gone) {
        finish(ws);
        return true;
    }
    return false;
}

static void request_close(ym_ws_t *ws)
{
    if (ws->closing || ws->gone)
        return;
    ws->closing = true;
    ws->t->set_timer(ws->tp, 0);
    ws->t->close(ws->tp);
}

static int queue(ym_ws_t *ws, ym_rbuf_t *r)
{
    int rc = ws->t->send(ws->tp, r);
    if (rc < 0)
        request_close(ws);  /* backlog cap hit: the transport is dropping us anyway */
    return rc;
}

static void send_close_frame(ym_ws_t *ws, unsigned code, const char *reason)
{
    ym_rbuf_t *r = ym_ws_frame_build_close(code, reason);
    ws->close_sent = true;
    queue(ws, r);
    ym_rbuf_unref(r);
}

/* Fail the WebSocket connection (RFC 6455 §7.1.7): close frame, then TCP. */
static void fail(ym_ws_t *ws, unsigned code, const char *why)
{
    ym_log_debug("ws: failing connection with %u: %s", code, why);
    if (!ws->close_sent) {
        send_close_frame(ws, code, NULL);
        if (!ws->close_rcvd)
            ws->close_code = (int)code;
    }
    request_close(ws);
}

static void on_peer_close(ym_ws_t *ws, const ym_ws_event_t *ev)
{
    ws->close_rcvd = true;
    ws->close_code = (int)ev->close_code;
    /* Echo the peer's code (an empty close if it sent none); once both close
     * frames have crossed, the server closes TCP first (RFC 6455 §7.1.1). */
    if (!ws->close_sent)
        send_close_frame(ws, ev->close_code == YM_WS_CLOSE_NO_STATUS ? 0 : ev->close_code, NULL);
    request_close(ws);
}

void ym_ws_feed(ym_ws_t *ws, const char *data, size_t len)
{
    size_t off = 0;
    ym_ws__enter(ws);
    while (off < len && !ws->closing && !ws->gone) {
        ym_ws_event_t ev;
        ssize_t r = ym_ws_decoder_feed(&ws->dec, data + off, len - off, &ev);
        if (r < 0) {
            fail(ws, ws->dec.error_code, ws->dec.error);
            break;
        }
        off += (size_t)r;
        switch (ev.type) {
        case YM_WS_EV_MESSAGE:
            if (!ws->close_sent && ws->h.on_message)
                ws->h.on_message(ws, ev.binary, ev.data, ev.len, ws->ud);
            break;
        case YM_WS_EV_PING:
            if (!ws->close_sent) {
                ym_rbuf_t *pong = ym_ws_frame_build(YM_WS_OP_PONG, ev.data, ev.len);
                queue(ws, pong);
                ym_rbuf_unref(pong);
            }
            break;
        case YM_WS_EV_CLOSE:
            on_peer_close(ws, &ev);
            break;
        case YM_WS_EV_PONG:  /* unsolicited pongs are allowed and ignored */
        case YM_WS_EV_NONE:
            break;
        }
    }
    /* An idle connection keeps no message buffer. */
    if (!ws->gone)
        ym_ws_decoder_trim(&ws->dec);
    ym_ws__leave(ws);
}

void ym_ws_timeout(ym_ws_t *ws)
{
    ym_ws__enter(ws);
    request_close(ws);
    ym_ws__leave(ws);
}

void ym_ws_transport_closed(ym_ws_t *ws)
{
    if (ws->gone)
        return;
    ws->gone = true;
    ws->closing = true;
    if (ws->busy == 0)
        finish(ws);
}

int ym_ws_send(ym_ws_t *ws, bool binary, const void *p, size_t len)
{
    if (ws->close_sent || ws->closing || ws->gone)
        return -EPIPE;
    /* An rbuf holds less than 4 GiB. */
    if (len > UINT32_MAX - 10u)
        return -EMSGSIZE;
    ym_rbuf_t *r = ym_ws_frame_build(binary ? YM_WS_OP_BINARY : YM_WS_OP_TEXT, p, len);
    ym_ws__enter(ws);
    int rc = queue(ws, r);
    ym_rbuf_unref(r);
    ym_ws__leave(ws);
    return rc;
}

int ym_ws_send_frame(ym_ws_t *ws, ym_rbuf_t *preframed)
{
    if (ws->close_sent || ws->closing || ws->gone)
        return -EPIPE;
    ym_ws__enter(ws);
    int rc = queue(ws, preframed);
    ym_ws__leave(ws);
    return rc;
}

void ym_ws_close(ym_ws_t *ws, unsigned code, const char *reason)
{
    if (ws->close_sent || ws->closing || ws->gone)
        return;
    if (code && !ym_ws_close_code_valid(code)) {
        /* 1005/1006/1015 and unassigned codes must not go on the wire: a strict
         * peer would fail us with 1002. Caller bug, so say it loudly. */
        ym_log_warn("ws: ym_ws_close with invalid code %u, sending 1011", code);
        code = YM_WS_CLOSE_INTERNAL;
    }
    ym_ws__enter(ws);
    send_close_frame(ws, code, reason);
    if (!ws->closing)
        ws->t->set_timer(ws->tp, ws->close_timeout_ms);
    ym_ws__leave(ws);
}

bool ym_ws_is_closing(const ym_ws_t *ws)
{
    return ws->close_sent || ws->closing || ws->gone;
}

ym_conn_t *ym_ws_conn(const ym_ws_t *ws)
{
    return ws->conn;
}

void *ym_ws_userdata(const ym_ws_t *ws)
{
    return ws->ud;
}

void ym_ws_set_userdata(ym_ws_t *ws, void *ud)
{
    ws->ud = ud;
}
