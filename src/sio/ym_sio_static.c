/* ym_sio_static.c: serves the official browser client bundle under the
 * Socket.IO path, as Node's socket.io does (serveClient): a strong ETag and
 * Cache-Control, 304 on a matching If-None-Match. Files are read once, on
 * first request, and kept as refcounted bodies. */
#include "sio/ym_sio_internal.h"

#include "base/ym_log.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const files[] = {
    "socket.io.js", "socket.io.js.map", "socket.io.min.js", "socket.io.min.js.map",
    "socket.io.esm.min.js", "socket.io.esm.min.js.map",
};
#define NFILES (sizeof(files) / sizeof(files[0]))
/* The bundles are ~150 KiB; anything far larger is not what we expect. */
#define MAX_FILE (16u << 20)

struct ym_sio_static {
    char *prefix;
    char *dir;
    ym_rbuf_t *body[NFILES];
    char etag[NFILES][24];
};

static int load(ym_sio_static_t *st, size_t i)
{
    if (st->body[i])
        return 0;
    ym_buf_t path = YM_BUF_INIT;
    ym_buf_appendf(&path, "%s/%s", st->dir, files[i]);
    FILE *f = fopen(path.data, "rb");
    if (!f) {
        ym_log_warn("sio: cannot serve %s (run from the repo root or set client_dir)", path.data);
        ym_buf_free(&path);
        return -1;
    }
    ym_buf_free(&path);
    ym_buf_t b = YM_BUF_INIT;
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= MAX_FILE)
        ym_buf_append(&b, chunk, n);
    bool bad = ferror(f) || b.len > MAX_FILE;
    fclose(f);
    if (bad) {
        ym_buf_free(&b);
        return -1;
    }
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the content: changes when the file does */
    for (size_t k = 0; k < b.len; k++) {
        h ^= (unsigned char)b.data[k];
        h *= 1099511628211ull;
    }
    snprintf(st->etag[i], sizeof(st->etag[i]), "\"%016llx\"", (unsigned long long)h);
    st->body[i] = ym_rbuf_from_buf(&b);
    return 0;
}

static ym_http_result_t handle(ym_http_req_t *req, void *ud)
{
    ym_sio_static_t *st = ud;
    size_t plen = strlen(st->prefix);
    ym_str_t name = { req->path.p + plen, req->path.len - plen };
    size_t i;
    for (i = 0; i < NFILES; i++)
        if (ym_str_eq_lit(name, files[i]))
            break;
    if (i == NFILES)
        return YM_HTTP_NEXT;
    if (!ym_str_eq_lit(req->method, "GET") && !ym_str_eq_lit(req->method, "HEAD")) {
        ym_http_respond(req, 405, "text/plain", "Method Not Allowed\n", 19, "Allow: GET, HEAD\r\n");
        return YM_HTTP_DONE;
    }
    if (load(st, i) < 0) {
        ym_http_respond_error(req, 404, "client bundle not found");
        return YM_HTTP_DONE;
    }
    char headers[160];
    snprintf(headers, sizeof(headers), "ETag: %s\r\nCache-Control: public, max-age=0\r\n", st->etag[i]);
    ym_str_t inm = ym_http_header(req, "If-None-Match");
    if (inm.p && ym_str_eq(inm, ym_str_from(st->etag[i]))) {
        ym_http_respond(req, 304, NULL, NULL, 0, headers);
        return YM_HTTP_DONE;
    }
    bool map = strstr(files[i], ".map") != NULL;
    ym_http_respond_rbuf(req, 200, map ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8",
                         st->body[i], headers);
    return YM_HTTP_DONE;
}

ym_sio_static_t *ym_sio__static_new(ym_http_server_t *http, const char *prefix, const char *client_dir)
{
    ym_sio_static_t *st = ym_xcalloc(1, sizeof(*st));
    st->prefix = ym_xstrdup(prefix);
    st->dir = ym_xstrdup(client_dir);
    /* One route for the shared stem; other paths fall through to Engine.IO. */
    ym_buf_t stem = YM_BUF_INIT;
    ym_buf_appendf(&stem, "%ssocket.io.", prefix);
    ym_http_route(http, stem.data, 0, handle, st);
    ym_buf_free(&stem);
    return st;
}

void ym_sio__static_free(ym_sio_static_t *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < NFILES; i++)
        ym_rbuf_unref(st->body[i]);
    free(st->prefix);
    free(st->dir);
    free(st);
}
