/* ym_http_parse.h: the HTTP/1.1 request-head parser, the chunked body
 * decoder, path resolution, ranges: internal to the http module (ym_http__),
 * exposed for unit tests and the fuzz target.
 *
 * Threading: pure functions on caller-owned memory; any thread.
 */
#ifndef YM_HTTP_PARSE_H
#define YM_HTTP_PARSE_H

#include "http/ym_http.h"

typedef struct ym_http_head {
    ym_str_t method, target, path, query;     /* slices of the parsed input */
    int version_minor;
    ym_http_header_t *headers;                 /* caller-provided array ... */
    size_t header_cap;                         /* ... of this many entries */
    size_t header_count;
    bool has_content_length;
    uint64_t content_length;
    bool chunked;
    bool keep_alive;
    bool expect_continue;
    int status;                                /* on YM_EPROTO: the status to answer */
    const char *error;                         /* on YM_EPROTO: why (static string) */
} ym_http_head_t;

/* Parses one request head from p[0..len). Returns the bytes of the head
 * (request line, headers and the empty line; leading empty lines included),
 * YM_AGAIN if incomplete, or YM_EPROTO with head->status (400, 414, 431, 501,
 * 505) and head->error set. Slices in *head point into p. *scan_hint is an
 * optimisation for repeated calls on a growing buffer: start it at 0 and pass
 * the same variable back; reset it to 0 for a new request. Never reads past len. */
ssize_t ym_http__parse_head(const char *p, size_t len, size_t max_header_bytes,
                            ym_http_head_t *head, size_t *scan_hint);

/* Known methods; unknown ones are answered 501. */
bool ym_http__method_known(ym_str_t m);

/* Incremental chunked-body decoder. State lives in the struct (zero it to start). */
typedef struct ym_http_chunked {
    uint8_t state;
    bool done;
    uint16_t ext_len;
    uint16_t digits;
    uint32_t trailer_bytes;
    uint64_t size;       /* current chunk's remaining bytes */
} ym_http_chunked_t;

/* Consumes from p[0..len), appending decoded data to out (which must not exceed
 * max_body). Returns bytes consumed (st->done set when the terminating empty
 * line was read; consumption stops right after it), or YM_EPROTO with *status
 * set (400 malformed, 413 body too large). */
ssize_t ym_http__chunked_feed(ym_http_chunked_t *st, const char *p, size_t len,
                              ym_buf_t *out, size_t max_body, int *status);

/* Decodes and checks a raw request path for the static file tree. On success
 * returns 0 and writes the relative path (no leading '/', "" for the root) to
 * out, NUL-terminated; *dir_slash says the path ended with '/'. Otherwise
 * returns the status to answer: 400 (bad escape, NUL, control byte, invalid
 * UTF-8) or 404 (escaped '/' or '\', backslash, '.' or '..' segment, empty
 * segment, too long). */
int ym_http__resolve_path(ym_str_t raw, char *out, size_t out_size, bool *dir_slash);

/* Range header against a file of size bytes. Returns 1 with [*start, *end]
 * (inclusive) for one satisfiable range, 0 when the header must be ignored
 * (absent, malformed, several ranges: serve the whole file), -1 when
 * unsatisfiable (416). */
int ym_http__parse_range(ym_str_t value, uint64_t size, uint64_t *start, uint64_t *end);

/* Percent-decodes src into out (NUL-terminated); plus_space turns '+' into ' '.
 * Returns the length, or -1 on a bad escape or if out is too small. */
ssize_t ym_http__pct_decode(ym_str_t src, char *out, size_t out_size, bool plus_space);

#endif
