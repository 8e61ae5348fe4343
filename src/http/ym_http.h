/* ym_http.h: a strict HTTP/1.1 server on ym_net: parser, router, responses,
 * long-held (deferred) responses, protocol upgrades, static files.
 *
 * Threading: loop thread only.
 *
 * Request lifetime: a ym_http_req_t is owned by the server. A handler either
 * answers before returning (YM_HTTP_DONE), or keeps the request and answers
 * later (YM_HTTP_HELD, e.g. an Engine.IO long-poll GET); it then stays valid
 * until a ym_http_respond*() call or until its on_abort callback has run,
 * whichever comes first. Pipelined responses go out in request order; a held
 * request holds back the responses behind it.
 */
#ifndef YM_HTTP_H
#define YM_HTTP_H

#include "net/ym_net.h"

typedef struct ym_http_server ym_http_server_t;
typedef struct ym_http_req ym_http_req_t;

typedef struct ym_http_header {
    ym_str_t name;   /* as received; compare with ym_str_case_eq */
    ym_str_t value;  /* leading/trailing whitespace removed */
} ym_http_header_t;

struct ym_http_req {
    ym_str_t method;        /* "GET", ... */
    ym_str_t target;        /* raw request-target: path and query, as sent */
    ym_str_t path;          /* raw path part of target (not decoded) */
    ym_str_t query;         /* raw query without '?', may be empty */
    int version_minor;      /* 0 or 1 */
    const ym_http_header_t *headers;
    size_t header_count;
    const char *body;       /* de-chunked body, NUL-terminated; body_len may be 0 */
    size_t body_len;
    bool keep_alive;        /* the connection will be kept after the response */
    bool head;              /* HEAD: responses omit the body automatically */
    ym_conn_t *conn;
    ym_http_server_t *server;
    void *user;             /* free for the handler that holds the request */
};

typedef enum ym_http_result {
    YM_HTTP_DONE = 0,   /* the handler has responded */
    YM_HTTP_HELD = 1,   /* the handler will respond later */
    YM_HTTP_NEXT = 2,   /* not mine: try the next route (then static files / 404) */
} ym_http_result_t;

typedef ym_http_result_t (*ym_http_handler_cb)(ym_http_req_t *req, void *ud);

typedef struct ym_http_config {
    size_t max_header_bytes;      /* request line + headers; default 8192 → 414 / 431 */
    unsigned max_headers;         /* header count; default 100 → 431 */
    size_t max_body_bytes;        /* default 1 MiB → 413 (a route may raise it, see ym_http_route) */
    uint64_t header_timeout_ms;   /* whole head must arrive within; default 10000 → 408 */
    uint64_t body_timeout_ms;     /* whole body within; default 30000 → 408 */
    uint64_t keepalive_timeout_ms;/* idle between requests; default 5000 */
    const char *web_root;         /* static files; NULL = none */
    size_t small_file_bytes;      /* files up to this size are cached in memory; default 256 KiB */
    const char *server_name;      /* Server header; default "yoom" */
    bool access_log;              /* one line per request; default on (false here means default) */
    bool quiet;                   /* disables the access log */
} ym_http_config_t;

/* Creates the server and starts listening. Returns 0 or a negative errno.
 * *out is released with ym_http_server_free() after ym_http_server_shutdown(). */
int ym_http_server_new(uv_loop_t *loop, const char *host, int port, const ym_http_config_t *cfg,
                       const ym_net_config_t *net, ym_http_server_t **out);
int ym_http_server_port(const ym_http_server_t *s);
/* Routes are tried in registration order. A route matches when the path starts
 * with prefix. max_body overrides the body limit for that route (0 = default);
 * it is checked against Content-Length before the body is read. */
void ym_http_route(ym_http_server_t *s, const char *prefix, size_t max_body, ym_http_handler_cb cb, void *ud);
/* Graceful shutdown: stop accepting, close idle connections, let in-flight
 * responses finish; calls done() when the last connection is gone or after
 * deadline_ms, whichever is first (then remaining connections are closed). */
void ym_http_server_shutdown(ym_http_server_t *s, uint64_t deadline_ms, void (*done)(void *ud), void *ud);
void ym_http_server_free(ym_http_server_t *s);

/* Request helpers. */
ym_str_t ym_http_header(const ym_http_req_t *req, const char *name);      /* first match; .p == NULL if absent */
size_t ym_http_header_count(const ym_http_req_t *req, const char *name);  /* how many times it appears */
/* Finds key in the query and percent-decodes its value into out (NUL-terminated).
 * Returns the decoded length, or -1 if absent or undecodable. */
ssize_t ym_http_query(const ym_http_req_t *req, const char *key, char *out, size_t out_size);

/* Responses. extra_headers is NULL or complete lines each ending in "\r\n".
 * Date, Server, Content-Length and Connection are always written by the server.
 * The request is finished (and freed) by these calls. */
void ym_http_respond(ym_http_req_t *req, int status, const char *content_type,
                     const void *body, size_t len, const char *extra_headers);
/* Same, taking a reference to a prepared body. */
void ym_http_respond_rbuf(ym_http_req_t *req, int status, const char *content_type,
                          ym_rbuf_t *body, const char *extra_headers);
/* A small error page for status (text/plain, reason phrase + message).
 * After 400, 408, 413, 414, 431, 501 and 505 the connection is closed (the
 * framing of what follows cannot be trusted); other statuses keep it alive
 * when the request allows. Set req->keep_alive = false before any respond
 * call to close after the response. */
void ym_http_respond_error(ym_http_req_t *req, int status, const char *message);

/* For a held request: called if the client goes away before the response.
 * The request is freed after on_abort returns. */
void ym_http_hold(ym_http_req_t *req, void (*on_abort)(ym_http_req_t *req, void *ud), void *ud);

/* Protocol upgrade: writes response_head verbatim (a complete "HTTP/1.1 101 ...
 * \r\n\r\n"), switches the connection to proto, frees the request, and feeds
 * any bytes that arrived after the request head to proto->on_read. The HTTP
 * timers are disarmed. The upgrade must happen from the handler (not held). */
void ym_http_upgrade(ym_http_req_t *req, const char *response_head, size_t head_len,
                     const ym_conn_proto_t *proto, void *proto_data);

const char *ym_http_reason(int status);
/* MIME type for a file name's extension; "application/octet-stream" if unknown. */
const char *ym_http_mime_type(const char *path);

#endif
