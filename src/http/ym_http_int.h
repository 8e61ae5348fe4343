/* ym_http_int.h: what the files of the http module share (not exported).
 * Loop thread only. */
#ifndef YM_HTTP_INT_H
#define YM_HTTP_INT_H

#include "http/ym_http_parse.h"

typedef struct ym_http_static ym_http_static_t;
typedef struct ym_http_stream ym_http_stream_t;
typedef struct ym_http_conn ym_http_conn_t;

/* The server's view of a request; the public part comes first. */
typedef struct ym_http_req_int {
    ym_http_req_t pub;
    ym_http_conn_t *hc;
    char *head;                  /* owned copy of the request head; pub slices point here */
    ym_http_header_t *hdrs;      /* owned */
    ym_buf_t body;
    uint64_t start_ms;
    void (*on_abort)(ym_http_req_t *req, void *ud);
    void *abort_ud;
    ym_http_stream_t *stream;    /* a static file still being sent */
    int status;
    uint64_t bytes;
    bool head_sent;
} ym_http_req_int_t;

/* Queues the response head. content_length is what the header says; for HEAD
 * and 304 the caller sends no body. Returns 0 or a negative errno. */
int ym_http__send_head(ym_http_req_t *req, int status, const char *content_type,
                       uint64_t content_length, const char *extra_headers);
/* Counts body bytes for the access log (the bytes themselves go through ym_conn_send*). */
void ym_http__count_body(ym_http_req_t *req, uint64_t n);
/* The response is complete: access log, free the request, continue with the
 * next one (or close). */
void ym_http__end_response(ym_http_req_t *req);
/* Closes the connection now (a stream failed half-way); the request is freed
 * in the close path. */
void ym_http__abort_response(ym_http_req_t *req);

/* Static files. root is the web root directory. NULL if it cannot be opened. */
ym_http_static_t *ym_http__static_new(const char *root, size_t small_file_bytes);
void ym_http__static_free(ym_http_static_t *st);
/* GET/HEAD (others get 405) under the root. Always responds or starts a stream
 * (req->stream set; it ends the response itself). */
void ym_http__static_serve(ym_http_static_t *st, ym_http_req_t *req);
/* The connection's send queue drained: read the next chunk. */
void ym_http__stream_drain(ym_http_req_t *req);
/* The connection is going away: drop the stream (its pending read, if any,
 * finishes on its own and frees it). */
void ym_http__stream_abort(ym_http_req_t *req);

#endif
