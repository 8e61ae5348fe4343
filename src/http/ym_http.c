/* ym_http.c: the HTTP/1.1 server: connections, request flow, router,
 * responses, held requests, upgrades, graceful shutdown.
 *
 * One request per connection is active at a time: the next pipelined request
 * is parsed only after the current one has been answered (its bytes wait in
 * the connection's kept tail). That keeps responses in order without a
 * response queue, and a held request naturally holds back the ones behind it.
 */
#include "http/ym_http_int.h"

#include "base/ym_log.h"
#include "base/ym_time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

enum { HC_IDLE = 0, HC_BODY = 1, HC_BUSY = 2 };

struct ym_http_conn {
    ym_http_server_t *s;
    ym_conn_t *c;
    ym_http_req_int_t *cur;
    uint64_t body_left;
    ym_http_chunked_t ck;
    size_t scan_hint;
    uint8_t state;
    bool partial;       /* some bytes of the next head are buffered */
    bool in_read;
    bool upgraded;
    bool close_when_done;
};

typedef struct route {
    char *prefix;
    size_t prefix_len;
    size_t max_body;
    ym_http_handler_cb cb;
    void *ud;
} route_t;

struct ym_http_server {
    uv_loop_t *loop;
    ym_listener_t *l;
    ym_http_config_t cfg;
    char *web_root;
    char *server_name;
    route_t *routes;
    size_t nroutes;
    ym_http_static_t *st;
    ym_http_header_t *scratch;    /* header slices while parsing a head */
    bool shutting_down;
    uv_timer_t *shutdown_timer;
    uint64_t shutdown_deadline;
    void (*done)(void *ud);
    void *done_ud;
    time_t date_t;
    char date[30];
};

static const ym_conn_proto_t http_proto;

/* ym_rbuf_from_buf copies and keeps the buffer's memory: free it here. */
static ym_rbuf_t *rbuf_take(ym_buf_t *b)
{
    ym_rbuf_t *r = ym_rbuf_from_buf(b);
    ym_buf_free(b);
    return r;
}

/* --- helpers ------------------------------------------------------------ */

static const char *date_now(ym_http_server_t *s)
{
    time_t now = time(NULL);
    if (now != s->date_t) {
        s->date_t = now;
        ym_http_date(now, s->date);
    }
    return s->date;
}

const char *ym_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default:  return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

ym_str_t ym_http_header(const ym_http_req_t *req, const char *name)
{
    ym_str_t n = ym_str_from(name);
    for (size_t i = 0; i < req->header_count; i++)
        if (ym_str_case_eq(req->headers[i].name, n))
            return req->headers[i].value;
    return (ym_str_t){ NULL, 0 };
}

size_t ym_http_header_count(const ym_http_req_t *req, const char *name)
{
    ym_str_t n = ym_str_from(name);
    size_t k = 0;
    for (size_t i = 0; i < req->header_count; i++)
        if (ym_str_case_eq(req->headers[i].name, n))
            k++;
    return k;
}

ssize_t ym_http_query(const ym_http_req_t *req, const char *key, char *out, size_t out_size)
{
    ym_str_t q = req->query;
    size_t klen = strlen(key);
    size_t i = 0;
    while (i <= q.len && q.len) {
        const char *amp = memchr(q.p + i, '&', q.len - i);
        size_t e = amp ? (size_t)(amp - q.p) : q.len;
        const char *eq = memchr(q.p + i, '=', e - i);
        size_t ke = eq ? (size_t)(eq - q.p) : e;
        if (ke - i == klen && memcmp(q.p + i, key, klen) == 0) {
            ym_str_t v = eq ? (ym_str_t){ eq + 1, e - ke - 1 } : (ym_str_t){ q.p + e, 0 };
            return ym_http__pct_decode(v, out, out_size, true);
        }
        i = e + 1;
    }
    return -1;
}

/* --- responses ------------------------------------------------------------ */

static bool status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

static void access_log(ym_http_server_t *s, ym_conn_t *c, ym_str_t method, ym_str_t target,
                       int status, uint64_t bytes, uint64_t start_ms)
{
    if (s->cfg.quiet)
        return;
    ym_log_info("%.*s %.*s %d %" PRIu64 " %" PRIu64 "ms %s", (int)method.len, method.p,
                (int)YM_MIN(target.len, 512), target.p, status, bytes, ym_now_ms() - start_ms,
                ym_conn_peer(c));
}

static void build_head(ym_http_server_t *s, ym_buf_t *b, int status, const char *ctype,
                       bool with_length, uint64_t len, bool keep_alive, const char *extra)
{
    ym_buf_appendf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n", status, ym_http_reason(status),
                   date_now(s), s->server_name);
    if (ctype)
        ym_buf_appendf(b, "Content-Type: %s\r\n", ctype);
    if (with_length)
        ym_buf_appendf(b, "Content-Length: %" PRIu64 "\r\n", len);
    ym_buf_append_str(b, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    if (extra)
        ym_buf_append_str(b, extra);
    ym_buf_append(b, "\r\n", 2);
}

static bool req_keep_alive(ym_http_req_int_t *r, int status)
{
    ym_http_conn_t *hc = r->hc;
    if (!r->pub.keep_alive || hc->s->shutting_down || hc->close_when_done)
        return false;
    /* After these the framing of what follows cannot be trusted. */
    return !(status == 400 || status == 408 || status == 413 || status == 414 || status == 431 ||
             status == 501 || status == 505);
}

int ym_http__send_head(ym_http_req_t *req, int status, const char *ctype, uint64_t clen, const char *extra)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_buf_t b = YM_BUF_INIT;
    r->pub.keep_alive = req_keep_alive(r, status);
    build_head(r->hc->s, &b, status, ctype, status != 304 && status >= 200 && status != 204, clen,
               r->pub.keep_alive, extra);
    r->status = status;
    r->head_sent = true;
    ym_rbuf_t *rb = rbuf_take(&b);
    int rc = ym_conn_send(r->hc->c, rb);
    ym_rbuf_unref(rb);
    return rc;
}

void ym_http__count_body(ym_http_req_t *req, uint64_t n)
{
    ((ym_http_req_int_t *)req)->bytes += n;
}

static void req_free(ym_http_req_int_t *r)
{
    free(r->head);
    free(r->hdrs);
    ym_buf_free(&r->body);
    free(r);
}

static void conn_timeout(ym_conn_t *c);

void ym_http__end_response(ym_http_req_t *req)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_http_conn_t *hc = r->hc;
    ym_http_server_t *s = hc->s;
    access_log(s, hc->c, r->pub.method, r->pub.target, r->status, r->bytes, r->start_ms);
    bool keep = r->pub.keep_alive && !s->shutting_down && !hc->close_when_done;
    hc->cur = NULL;
    req_free(r);
    hc->state = HC_IDLE;
    if (!keep) {
        ym_conn_close_after_flush(hc->c);
        return;
    }
    ym_conn_set_timer(hc->c, s->cfg.keepalive_timeout_ms, conn_timeout);
    if (!hc->in_read)
        ym_conn_resume_reading(hc->c);   /* present pipelined bytes kept meanwhile */
}

void ym_http__abort_response(ym_http_req_t *req)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_conn_close(r->hc->c);
}

void ym_http_respond(ym_http_req_t *req, int status, const char *ctype, const void *body, size_t len,
                     const char *extra)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_http_conn_t *hc = r->hc;
    ym_buf_t b = YM_BUF_INIT;
    r->pub.keep_alive = req_keep_alive(r, status);
    bool has_body = status_has_body(status);
    build_head(hc->s, &b, status, ctype, has_body, len, r->pub.keep_alive, extra);
    if (has_body && !req->head && len) {
        ym_buf_append(&b, body, len);
        r->bytes = len;
    }
    r->status = status;
    ym_rbuf_t *rb = rbuf_take(&b);
    ym_conn_send(hc->c, rb);
    ym_rbuf_unref(rb);
    ym_http__end_response(req);
}

void ym_http_respond_rbuf(ym_http_req_t *req, int status, const char *ctype, ym_rbuf_t *body,
                          const char *extra)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_http_conn_t *hc = r->hc;
    size_t len = body ? body->len : 0;
    ym_http__send_head(req, status, ctype, len, extra);
    if (body && len && status_has_body(status) && !req->head) {
        ym_conn_send(hc->c, body);
        r->bytes = len;
    }
    ym_http__end_response(req);
}

void ym_http_respond_error(ym_http_req_t *req, int status, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof body, "%d %s%s%s\n", status, ym_http_reason(status),
                     message ? ": " : "", message ? message : "");
    if (n < 0)
        n = 0;
    ym_http_respond(req, status, "text/plain; charset=utf-8", body, YM_MIN((size_t)n, sizeof body - 1), NULL);
}

/* An error found while parsing, before there is a request to answer. */
static void parser_error(ym_http_conn_t *hc, int status, const char *why, ym_str_t method, ym_str_t target)
{
    char body[256];
    int n = snprintf(body, sizeof body, "%d %s: %s\n", status, ym_http_reason(status), why ? why : "");
    ym_buf_t b = YM_BUF_INIT;
    build_head(hc->s, &b, status, "text/plain; charset=utf-8", true, (uint64_t)n, false, NULL);
    ym_buf_append(&b, body, (size_t)n);
    ym_rbuf_t *rb = rbuf_take(&b);
    ym_conn_send(hc->c, rb);
    ym_rbuf_unref(rb);
    ym_log_debug("conn %" PRIu64 " (%s): %d: %s", ym_conn_id(hc->c), ym_conn_peer(hc->c), status, why ? why : "");
    access_log(hc->s, hc->c, method.p ? method : YM_STR("-"), target.p ? target : YM_STR("-"), status,
               (uint64_t)n, ym_now_ms());
    hc->state = HC_BUSY;  /* nothing more is parsed on this connection */
    ym_conn_close_after_flush(hc->c);
}

/* --- holding and upgrading -------------------------------------------------- */

void ym_http_hold(ym_http_req_t *req, void (*on_abort)(ym_http_req_t *req, void *ud), void *ud)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    r->on_abort = on_abort;
    r->abort_ud = ud;
}

void ym_http_upgrade(ym_http_req_t *req, const char *response_head, size_t head_len,
                     const ym_conn_proto_t *proto, void *proto_data)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_http_conn_t *hc = r->hc;
    ym_conn_send_copy(hc->c, response_head, head_len);
    r->status = 101;
    access_log(hc->s, hc->c, r->pub.method, r->pub.target, 101, 0, r->start_ms);
    hc->cur = NULL;
    req_free(r);
    hc->upgraded = true;
    ym_conn_set_timer(hc->c, 0, NULL);
    /* The net layer hands the bytes after this head to the new protocol; the
     * http state is freed by on_read once the handler has returned. */
    ym_conn_set_proto(hc->c, proto, proto_data);
}

/* --- request flow --------------------------------------------------------- */

static const route_t *find_route(ym_http_server_t *s, ym_str_t path, size_t from)
{
    for (size_t i = from; i < s->nroutes; i++)
        if (path.len >= s->routes[i].prefix_len && memcmp(path.p, s->routes[i].prefix, s->routes[i].prefix_len) == 0)
            return &s->routes[i];
    return NULL;
}

static void builtin(ym_http_conn_t *hc, ym_http_req_int_t *r)
{
    ym_http_req_t *req = &r->pub;
    if (ym_str_eq_lit(req->path, "/healthz")) {
        if (ym_str_eq_lit(req->method, "GET") || ym_str_eq_lit(req->method, "HEAD"))
            ym_http_respond(req, 200, "text/plain; charset=utf-8", "ok", 2, "Cache-Control: no-store\r\n");
        else
            ym_http_respond(req, 405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", 23, "Allow: GET, HEAD\r\n");
        return;
    }
    if (hc->s->st) {
        ym_http__static_serve(hc->s->st, req);
        return;
    }
    ym_http_respond_error(req, 404, NULL);
}

static void dispatch(ym_http_conn_t *hc)
{
    ym_http_req_int_t *r = hc->cur;
    ym_http_server_t *s = hc->s;
    hc->state = HC_BUSY;
    ym_conn_set_timer(hc->c, 0, NULL);
    /* Bodies are NUL-terminated for the handlers' convenience. */
    ym_buf_append_byte(&r->body, '\0');
    r->body.len--;
    r->pub.body = r->body.data;
    r->pub.body_len = r->body.len;
    for (size_t i = 0; i < s->nroutes; i++) {
        const route_t *rt = find_route(s, r->pub.path, i);
        if (!rt)
            break;
        i = (size_t)(rt - s->routes);
        ym_http_result_t res = rt->cb(&r->pub, rt->ud);
        if (hc->upgraded || hc->cur != r)
            return;  /* answered (or upgraded); r is gone */
        if (res == YM_HTTP_HELD)
            return;
        if (res == YM_HTTP_DONE) {
            ym_log_error("route %s returned DONE without responding", rt->prefix);
            ym_http_respond_error(&r->pub, 500, NULL);
            return;
        }
    }
    builtin(hc, r);
}

static ym_http_req_int_t *make_req(ym_http_conn_t *hc, const char *p, size_t n, const ym_http_head_t *h)
{
    ym_http_req_int_t *r = ym_xcalloc(1, sizeof *r);
    r->hc = hc;
    r->head = ym_xmalloc(n + 1);
    memcpy(r->head, p, n);
    r->head[n] = '\0';
#define REBASE(s) ((ym_str_t){ r->head + ((s).p - p), (s).len })
    r->hdrs = ym_xmalloc((h->header_count ? h->header_count : 1) * sizeof *r->hdrs);
    for (size_t i = 0; i < h->header_count; i++)
        r->hdrs[i] = (ym_http_header_t){ REBASE(h->headers[i].name), REBASE(h->headers[i].value) };
    r->pub.method = REBASE(h->method);
    r->pub.target = REBASE(h->target);
    r->pub.path = REBASE(h->path);
    r->pub.query = REBASE(h->query);
#undef REBASE
    r->pub.version_minor = h->version_minor;
    r->pub.headers = r->hdrs;
    r->pub.header_count = h->header_count;
    r->pub.keep_alive = h->keep_alive;
    r->pub.head = ym_str_eq_lit(h->method, "HEAD");
    r->pub.conn = hc->c;
    r->pub.server = hc->s;
    r->pub.body = "";
    r->start_ms = ym_now_ms();
    r->status = 0;
    return r;
}

static void conn_timeout(ym_conn_t *c)
{
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    if (hc->state == HC_BODY || (hc->state == HC_IDLE && hc->partial)) {
        ym_str_t m = hc->cur ? hc->cur->pub.method : (ym_str_t){ NULL, 0 };
        ym_str_t t = hc->cur ? hc->cur->pub.target : (ym_str_t){ NULL, 0 };
        parser_error(hc, 408, "timeout", m, t);
    } else if (hc->state == HC_IDLE) {
        ym_conn_close(c);   /* idle keep-alive connection */
    }
}

static size_t handle_head(ym_http_conn_t *hc, const char *p, size_t n, const ym_http_head_t *h)
{
    ym_http_server_t *s = hc->s;
    hc->partial = false;
    hc->scan_hint = 0;
    hc->cur = make_req(hc, p, n, h);
    const route_t *rt = find_route(s, h->path, 0);
    size_t max_body = rt && rt->max_body ? rt->max_body : s->cfg.max_body_bytes;
    if (h->has_content_length && h->content_length > max_body) {
        ym_http_req_int_t *r = hc->cur;
        parser_error(hc, 413, "body too large", r->pub.method, r->pub.target);
        hc->cur = NULL;
        req_free(r);
        return n;
    }
    bool body = h->chunked || (h->has_content_length && h->content_length > 0);
    if (!body) {
        dispatch(hc);
        return n;
    }
    if (h->expect_continue && h->version_minor == 1)
        ym_conn_send_copy(hc->c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    hc->state = HC_BODY;
    memset(&hc->ck, 0, sizeof hc->ck);
    hc->body_left = h->chunked ? UINT64_MAX : h->content_length;
    ym_buf_reserve(&hc->cur->body, (size_t)YM_MIN(hc->body_left, (uint64_t)65536));
    ym_conn_set_timer(hc->c, s->cfg.body_timeout_ms, conn_timeout);
    return n;
}

static size_t route_max_body(ym_http_conn_t *hc)
{
    const route_t *rt = find_route(hc->s, hc->cur->pub.path, 0);
    return rt && rt->max_body ? rt->max_body : hc->s->cfg.max_body_bytes;
}

static ssize_t http_on_read(ym_conn_t *c, const char *data, size_t len)
{
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    ym_http_server_t *s = hc->s;
    size_t off = 0;
    hc->in_read = true;
    while (!ym_conn_is_closing(c) && !hc->upgraded) {
        if (hc->state == HC_BUSY)
            break;
        if (off == len)
            break;
        if (hc->state == HC_IDLE) {
            if (!hc->partial) {
                hc->partial = true;
                ym_conn_set_timer(c, s->cfg.header_timeout_ms, conn_timeout);
            }
            ym_http_head_t h;
            memset(&h, 0, sizeof h);
            h.headers = s->scratch;
            h.header_cap = s->cfg.max_headers;
            ssize_t n = ym_http__parse_head(data + off, len - off, s->cfg.max_header_bytes, &h, &hc->scan_hint);
            if (n == YM_AGAIN)
                break;
            if (n < 0) {
                parser_error(hc, h.status, h.error, h.method, h.target);
                off = len;
                break;
            }
            off += handle_head(hc, data + off, (size_t)n, &h);
            continue;
        }
        /* HC_BODY */
        ym_http_req_int_t *r = hc->cur;
        if (hc->body_left == UINT64_MAX) {
            int status = 400;
            ssize_t n = ym_http__chunked_feed(&hc->ck, data + off, len - off, &r->body, route_max_body(hc), &status);
            if (n < 0) {
                parser_error(hc, status, status == 413 ? "body too large" : "bad chunked body",
                             r->pub.method, r->pub.target);
                hc->cur = NULL;
                req_free(r);
                off = len;
                break;
            }
            off += (size_t)n;
            if (hc->ck.done)
                dispatch(hc);
        } else {
            size_t n = (size_t)YM_MIN((uint64_t)(len - off), hc->body_left);
            ym_buf_append(&r->body, data + off, n);
            off += n;
            hc->body_left -= n;
            if (hc->body_left == 0)
                dispatch(hc);
        }
    }
    hc->in_read = false;
    if (hc->upgraded) {
        free(hc);
        return (ssize_t)off;
    }
    /* While a request is being answered, pipelined bytes wait in the kept
     * tail; past one head's worth we stop reading until the answer is out. */
    if (hc->state == HC_BUSY && len - off > s->cfg.max_header_bytes)
        ym_conn_pause_reading(c);
    return (ssize_t)off;
}

static void http_on_drain(ym_conn_t *c)
{
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    if (hc->cur && hc->cur->stream)
        ym_http__stream_drain(&hc->cur->pub);
}

/* The client half-closed: finish a file response in progress, then close;
 * a held request is aborted; a request still arriving can never complete. */
static void http_on_eof(ym_conn_t *c)
{
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    if (hc->state == HC_BUSY && hc->cur && hc->cur->stream) {
        hc->close_when_done = true;   /* a file is being sent: let it finish */
        return;
    }
    if (hc->state == HC_BUSY && hc->cur) {
        /* A held request (a long-poll): the client is gone, abort it. */
        ym_conn_close(c);
        return;
    }
    ym_conn_close_after_flush(c);
}

static void http_on_close(ym_conn_t *c, int status)
{
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    ym_http_req_int_t *r = hc->cur;
    if (r) {
        if (r->stream)
            ym_http__stream_abort(&r->pub);
        if (r->on_abort)
            r->on_abort(&r->pub, r->abort_ud);
        req_free(r);
    }
    free(hc);
}

static const ym_conn_proto_t http_proto = {
    .name = "http",
    .on_read = http_on_read,
    .on_drain = http_on_drain,
    .on_close = http_on_close,
    .on_eof = http_on_eof,
};

static void on_accept(ym_listener_t *l, ym_conn_t *c, void *ud)
{
    ym_http_server_t *s = ud;
    ym_http_conn_t *hc = ym_xcalloc(1, sizeof *hc);
    hc->s = s;
    hc->c = c;
    ym_conn_set_proto(c, &http_proto, hc);
    /* A fresh connection must send its first head in time too. */
    ym_conn_set_timer(c, s->cfg.header_timeout_ms, conn_timeout);
}

/* --- server ------------------------------------------------------------------ */

int ym_http_server_new(uv_loop_t *loop, const char *host, int port, const ym_http_config_t *cfg,
                       const ym_net_config_t *net, ym_http_server_t **out)
{
    ym_http_server_t *s = ym_xcalloc(1, sizeof *s);
    s->loop = loop;
    if (cfg)
        s->cfg = *cfg;
    if (!s->cfg.max_header_bytes)
        s->cfg.max_header_bytes = 8192;
    if (!s->cfg.max_headers)
        s->cfg.max_headers = 100;
    if (!s->cfg.max_body_bytes)
        s->cfg.max_body_bytes = 1024 * 1024;
    if (!s->cfg.header_timeout_ms)
        s->cfg.header_timeout_ms = 10000;
    if (!s->cfg.body_timeout_ms)
        s->cfg.body_timeout_ms = 30000;
    if (!s->cfg.keepalive_timeout_ms)
        s->cfg.keepalive_timeout_ms = 5000;
    if (!s->cfg.small_file_bytes)
        s->cfg.small_file_bytes = 256 * 1024;
    s->server_name = ym_xstrdup(s->cfg.server_name ? s->cfg.server_name : "yoom");
    s->cfg.server_name = s->server_name;
    s->scratch = ym_xmalloc(s->cfg.max_headers * sizeof *s->scratch);
    if (s->cfg.web_root) {
        s->web_root = ym_xstrdup(s->cfg.web_root);
        s->cfg.web_root = s->web_root;
        s->st = ym_http__static_new(s->web_root, s->cfg.small_file_bytes);
        if (!s->st)
            ym_log_warn("web root %s cannot be opened: static files disabled", s->web_root);
    }
    int rc = ym_listener_open(loop, host, port, net, on_accept, s, &s->l);
    if (rc != 0) {
        s->l = NULL;
        ym_http_server_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int ym_http_server_port(const ym_http_server_t *s)
{
    return ym_listener_port(s->l);
}

void ym_http_route(ym_http_server_t *s, const char *prefix, size_t max_body, ym_http_handler_cb cb, void *ud)
{
    s->routes = ym_xrealloc(s->routes, (s->nroutes + 1) * sizeof *s->routes);
    s->routes[s->nroutes++] = (route_t){ ym_xstrdup(prefix), strlen(prefix), max_body, cb, ud };
}

static void shutdown_conn(ym_conn_t *c, void *ud)
{
    if (ym_conn_proto(c) != &http_proto)
        return;  /* upgraded: its protocol's owner shuts it down */
    ym_http_conn_t *hc = ym_conn_proto_data(c);
    if (hc->state == HC_IDLE && !hc->partial)
        ym_conn_close_after_flush(c);
    else
        hc->close_when_done = true;
}

static void close_all(ym_conn_t *c, void *ud)
{
    ym_conn_close(c);
}

static void shutdown_tick(uv_timer_t *t)
{
    ym_http_server_t *s = t->data;
    bool late = uv_now(s->loop) >= s->shutdown_deadline;
    if (ym_listener_conn_count(s->l) > 0 && !late)
        return;
    if (late && ym_listener_conn_count(s->l) > 0) {
        ym_log_warn("shutdown deadline: closing %u connection(s)", ym_listener_conn_count(s->l));
        ym_listener_foreach(s->l, close_all, NULL);
    }
    uv_timer_stop(t);
    void (*done)(void *) = s->done;
    s->done = NULL;
    if (done)
        done(s->done_ud);
}

void ym_http_server_shutdown(ym_http_server_t *s, uint64_t deadline_ms, void (*done)(void *ud), void *ud)
{
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->done = done;
    s->done_ud = ud;
    ym_listener_stop(s->l);
    ym_listener_foreach(s->l, shutdown_conn, NULL);
    s->shutdown_timer = ym_xmalloc(sizeof *s->shutdown_timer);
    uv_timer_init(s->loop, s->shutdown_timer);
    s->shutdown_timer->data = s;
    s->shutdown_deadline = uv_now(s->loop) + deadline_ms;
    /* Polling the count is simpler than hooking every protocol's close, and
     * shutdown happens once. */
    uv_timer_start(s->shutdown_timer, shutdown_tick, 0, 20);
}

static void free_timer(uv_handle_t *h)
{
    free(h);
}

void ym_http_server_free(ym_http_server_t *s)
{
    if (!s)
        return;
    if (s->shutdown_timer)
        uv_close((uv_handle_t *)s->shutdown_timer, free_timer);
    if (s->l)
        ym_listener_close(s->l);
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].prefix);
    free(s->routes);
    if (s->st)
        ym_http__static_free(s->st);
    free(s->scratch);
    free(s->web_root);
    free(s->server_name);
    free(s);
}
