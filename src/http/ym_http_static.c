/* ym_http_static.c: static files under the web root.
 *
 * Safety: the path is decoded once and checked (ym_http__resolve_path), then
 * opened relative to a descriptor of the root with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so neither "..", symlinks nor races can leave the root.
 * Without openat2 (old kernels), each component is opened with O_NOFOLLOW.
 * Missing and refused files get the same 404.
 *
 * Small files are cached as rbufs (one copy shared by every response) and
 * revalidated by size, mtime and inode on each request. Large files go out by
 * sendfile(2) on plaintext connections whenever the socket has room; the rest
 * (all of it over TLS) is read in 64 KiB chunks on libuv's thread pool. The
 * next chunk is read only once the connection's backlog is below a low-water
 * mark, so a client that stops reading does not make us buffer the file.
 */
#include "http/ym_http_int.h"

#include "base/ym_log.h"
#include "base/ym_time.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define YM_STATIC_CHUNK      (64 * 1024)
#define YM_STATIC_LOW_WATER  (256 * 1024)
#define YM_STATIC_BUCKETS    256
#define YM_STATIC_CACHE_MAX  (64u * 1024 * 1024)
#define YM_STATIC_PATH_MAX   1024

typedef struct cache_ent {
    struct cache_ent *next;
    char *key;
    ym_rbuf_t *data;
    int64_t mtime_ns;
    ino_t ino;
    dev_t dev;
} cache_ent_t;

struct ym_http_static {
    int root_fd;
    size_t small;
    size_t cache_bytes;
    cache_ent_t *buckets[YM_STATIC_BUCKETS];
};

struct ym_http_stream {
    ym_http_req_t *req;     /* NULL once the connection went away */
    uv_loop_t *loop;
    uv_fs_t fs;
    int fd;
    bool reading;
    uint64_t off, end;      /* end is exclusive */
    ym_rbuf_t *chunk;
};

const char *ym_http_mime_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" },
        { "mjs", "text/javascript; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "svg", "image/svg+xml" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "webp", "image/webp" },
        { "webm", "video/webm" },
        { "json", "application/json" },
        { "wasm", "application/wasm" },
        { "ico", "image/x-icon" },
        { "map", "application/json" },
        { "txt", "text/plain; charset=utf-8" },
        { "woff2", "font/woff2" },
    };
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) {
        for (size_t i = 0; i < YM_ARRAY_LEN(types); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    }
    return "application/octet-stream";
}

static int open_beneath(int dirfd, const char *rel)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* O_NONBLOCK: opening a FIFO must not block the loop; we serve only regular files. */
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    const char *p = rel[0] ? rel : ".";
    long fd = syscall(SYS_openat2, dirfd, p, &how, sizeof how);
    if (fd >= 0)
        return (int)fd;
    if (errno != ENOSYS)
        return -errno;

    /* Fallback: one component at a time, never following a symlink. The path
     * has no "." or ".." segments (resolve_path refused them). */
    int cur = dup(dirfd);
    if (cur < 0)
        return -errno;
    char comp[YM_STATIC_PATH_MAX];
    while (*p) {
        const char *sl = strchr(p, '/');
        size_t n = sl ? (size_t)(sl - p) : strlen(p);
        if (n == 0 || n >= sizeof comp) {
            close(cur);
            return -ENOENT;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        int next = openat(cur, comp, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW |
                          ((sl && sl[1]) ? O_DIRECTORY : 0));
        int err = errno;
        close(cur);
        if (next < 0)
            return -err;
        cur = next;
        p += n;
        while (*p == '/')
            p++;
    }
    return cur;
}

ym_http_static_t *ym_http__static_new(const char *root, size_t small)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ym_http_static_t *st = ym_xcalloc(1, sizeof *st);
    st->root_fd = fd;
    st->small = small;
    return st;
}

static void cache_clear(ym_http_static_t *st)
{
    for (size_t i = 0; i < YM_STATIC_BUCKETS; i++) {
        for (cache_ent_t *e = st->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->key);
            ym_rbuf_unref(e->data);
            free(e);
        }
        st->buckets[i] = NULL;
    }
    st->cache_bytes = 0;
}

void ym_http__static_free(ym_http_static_t *st)
{
    cache_clear(st);
    close(st->root_fd);
    free(st);
}

static size_t hash_key(const char *k)
{
    uint32_t h = 2166136261u;
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 16777619u;
    return h % YM_STATIC_BUCKETS;
}

static int64_t mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* The whole small file as an rbuf: from the cache when it is still current. */
static ym_rbuf_t *cached_file(ym_http_static_t *st, const char *key, int fd, const struct stat *sb)
{
    size_t b = hash_key(key);
    cache_ent_t **pp = &st->buckets[b];
    for (; *pp; pp = &(*pp)->next) {
        cache_ent_t *e = *pp;
        if (strcmp(e->key, key) != 0)
            continue;
        if (e->mtime_ns == mtime_ns(sb) && e->ino == sb->st_ino && e->dev == sb->st_dev &&
            e->data->len == (uint64_t)sb->st_size)
            return ym_rbuf_ref(e->data);
        *pp = e->next;   /* stale */
        st->cache_bytes -= e->data->len;
        free(e->key);
        ym_rbuf_unref(e->data);
        free(e);
        break;
    }
    /* A small file is read here, on the loop: at most small_file_bytes, once
     * per change of the file. */
    size_t size = (size_t)sb->st_size;
    ym_rbuf_t *r = ym_rbuf_new(size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, r->data + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != size) {
        ym_rbuf_unref(r);
        return NULL;
    }
    if (st->cache_bytes + size > YM_STATIC_CACHE_MAX)
        cache_clear(st);
    cache_ent_t *e = ym_xcalloc(1, sizeof *e);
    e->key = ym_xstrdup(key);
    e->data = ym_rbuf_ref(r);
    e->mtime_ns = mtime_ns(sb);
    e->ino = sb->st_ino;
    e->dev = sb->st_dev;
    e->next = st->buckets[b];
    st->buckets[b] = e;
    st->cache_bytes += size;
    return r;
}

/* If-None-Match: weak comparison, a list, or "*". */
static bool etag_matches(ym_str_t list, const char *etag)
{
    size_t i = 0;
    while (i < list.len) {
        while (i < list.len && (list.p[i] == ' ' || list.p[i] == '\t' || list.p[i] == ','))
            i++;
        size_t s = i;
        while (i < list.len && list.p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (list.p[e - 1] == ' ' || list.p[e - 1] == '\t'))
            e--;
        ym_str_t t = { list.p + s, e - s };
        if (t.len == 1 && t.p[0] == '*')
            return true;
        if (t.len > 2 && t.p[0] == 'W' && t.p[1] == '/') {
            t.p += 2;
            t.len -= 2;
        }
        if (t.len && ym_str_eq_lit(t, etag))
            return true;
    }
    return false;
}

/* --- streaming ------------------------------------------------------------- */

static void stream_free(ym_http_stream_t *sm)
{
    if (sm->fd >= 0)
        close(sm->fd);
    ym_rbuf_unref(sm->chunk);
    free(sm);
}

static void stream_pump(ym_http_stream_t *sm);

static void stream_read_done(uv_fs_t *f)
{
    ym_http_stream_t *sm = f->data;
    ssize_t res = f->result;
    uv_fs_req_cleanup(f);
    sm->reading = false;
    ym_rbuf_t *chunk = sm->chunk;
    sm->chunk = NULL;
    if (!sm->req) {
        ym_rbuf_unref(chunk);
        stream_free(sm);
        return;
    }
    if (res <= 0) {
        /* The file shrank or failed under us: the header promised more bytes
         * than we can send, so the only honest end is to cut the connection. */
        ym_log_warn("static: read failed at offset %" PRIu64 ": %s", sm->off,
                    res < 0 ? uv_strerror((int)res) : "unexpected end of file");
        ym_rbuf_unref(chunk);
        ym_http__abort_response(sm->req);
        return;
    }
    size_t n = (size_t)res;
    ym_conn_send_slice(sm->req->conn, chunk, 0, n);
    ym_rbuf_unref(chunk);
    ym_http__count_body(sm->req, n);
    sm->off += n;
    /* Plaintext: the rest goes by sendfile once this chunk is written
     * (on_drain); reading ahead would keep the queue busy and sendfile out. */
    if (!ym_conn_is_tls(sm->req->conn))
        return;
    stream_pump(sm);
}

static void stream_pump(ym_http_stream_t *sm)
{
    ym_http_req_t *req = sm->req;
    if (!req || sm->reading || ym_conn_is_closing(req->conn))
        return;
    if (sm->off >= sm->end) {
        ((ym_http_req_int_t *)req)->stream = NULL;
        stream_free(sm);
        ym_http__end_response(req);
        return;
    }
    if (ym_conn_backlog(req->conn) >= YM_STATIC_LOW_WATER)
        return;   /* on_drain calls us again */
    /* Plaintext with nothing queued: straight from the page cache, as much as
     * the socket takes now. The rest goes as one chunk read below, whose write
     * completion (on_drain) brings us back here once the socket drained: the
     * wake-up sendfile alone would not have, and still at most one chunk is
     * buffered for a slow client. */
    ssize_t sent = ym_conn_sendfile(req->conn, sm->fd, &sm->off, sm->end - sm->off);
    if (sent < 0)
        return;   /* the connection is closing; its close aborts the stream */
    if (sent > 0) {
        ym_http__count_body(req, (uint64_t)sent);
        if (sm->off >= sm->end) {
            ((ym_http_req_int_t *)req)->stream = NULL;
            stream_free(sm);
            ym_http__end_response(req);
            return;
        }
    }
    size_t n = (size_t)YM_MIN((uint64_t)YM_STATIC_CHUNK, sm->end - sm->off);
    sm->chunk = ym_rbuf_new(n);
    uv_buf_t b = uv_buf_init(sm->chunk->data, (unsigned)n);
    sm->fs.data = sm;
    sm->reading = true;
    int rc = uv_fs_read(sm->loop, &sm->fs, sm->fd, &b, 1, (int64_t)sm->off, stream_read_done);
    if (rc < 0) {
        sm->reading = false;
        ym_log_warn("static: uv_fs_read: %s", uv_strerror(rc));
        ym_http__abort_response(req);
    }
}

void ym_http__stream_drain(ym_http_req_t *req)
{
    ym_http_stream_t *sm = ((ym_http_req_int_t *)req)->stream;
    if (sm)
        stream_pump(sm);
}

void ym_http__stream_abort(ym_http_req_t *req)
{
    ym_http_req_int_t *r = (ym_http_req_int_t *)req;
    ym_http_stream_t *sm = r->stream;
    r->stream = NULL;
    if (!sm)
        return;
    sm->req = NULL;
    if (!sm->reading)
        stream_free(sm);
}

/* --- serving --------------------------------------------------------------- */

void ym_http__static_serve(ym_http_static_t *st, ym_http_req_t *req)
{
    if (!ym_str_eq_lit(req->method, "GET") && !req->head) {
        ym_http_respond(req, 405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", 23,
                        "Allow: GET, HEAD\r\n");
        return;
    }
    char rel[YM_STATIC_PATH_MAX + 16];
    bool slash = false;
    int rc = ym_http__resolve_path(req->path, rel, YM_STATIC_PATH_MAX, &slash);
    if (rc) {
        ym_http_respond_error(req, rc, NULL);
        return;
    }
    int fd = open_beneath(st->root_fd, rel);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0)
            close(fd);
        ym_http_respond_error(req, 404, NULL);
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (!slash) {
            ym_buf_t loc = YM_BUF_INIT;
            ym_buf_appendf(&loc, "Location: %.*s/%s%.*s\r\n", (int)req->path.len, req->path.p,
                           req->query.len ? "?" : "", (int)req->query.len, req->query.p);
            ym_buf_append_byte(&loc, '\0');
            ym_http_respond(req, 301, "text/plain; charset=utf-8", "301 Moved Permanently\n", 22, loc.data);
            ym_buf_free(&loc);
            close(fd);
            return;
        }
        int ifd = open_beneath(fd, "index.html");
        close(fd);
        fd = ifd;
        strcat(rel, "index.html");
        if (fd < 0 || fstat(fd, &sb) != 0) {
            if (fd >= 0)
                close(fd);
            ym_http_respond_error(req, 404, NULL);
            return;
        }
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        ym_http_respond_error(req, 404, NULL);
        return;
    }

    uint64_t size = (uint64_t)sb.st_size;
    char etag[64], lastmod[30];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", size, (uint64_t)mtime_ns(&sb));
    ym_http_date(sb.st_mtim.tv_sec, lastmod);
    const char *ctype = ym_http_mime_type(rel);
    bool html = strncmp(ctype, "text/html", 9) == 0;
    char extra[384];
    int elen = snprintf(extra, sizeof extra,
                        "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: %s\r\nAccept-Ranges: bytes\r\n",
                        etag, lastmod, html ? "no-cache" : "public, max-age=3600");

    ym_str_t inm = ym_http_header(req, "If-None-Match");
    ym_str_t ims = ym_http_header(req, "If-Modified-Since");
    bool not_modified = false;
    time_t since;
    if (inm.p)
        not_modified = etag_matches(inm, etag);
    else if (ims.p && ym_http_date_parse(ims.p, ims.len, &since) == 0)
        not_modified = sb.st_mtim.tv_sec <= since;
    if (not_modified) {
        close(fd);
        ym_http__send_head(req, 304, NULL, 0, extra);
        ym_http__end_response(req);
        return;
    }

    int status = 200;
    uint64_t start = 0, end = size ? size - 1 : 0;
    ym_str_t range = ym_http_header(req, "Range");
    ym_str_t if_range = ym_http_header(req, "If-Range");
    if (range.p && (!if_range.p || ym_str_eq_lit(if_range, etag))) {
        int rr = ym_http__parse_range(range, size, &start, &end);
        if (rr < 0) {
            close(fd);
            snprintf(extra + elen, sizeof extra - (size_t)elen, "Content-Range: bytes */%" PRIu64 "\r\n", size);
            ym_http_respond(req, 416, "text/plain; charset=utf-8", "416 Range Not Satisfiable\n", 26, extra);
            return;
        }
        if (rr > 0) {
            status = 206;
            snprintf(extra + elen, sizeof extra - (size_t)elen, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
                     start, end, size);
        } else {
            start = 0;
            end = size ? size - 1 : 0;
        }
    }
    uint64_t len = size ? end - start + 1 : 0;

    if (size <= st->small) {
        ym_rbuf_t *data = cached_file(st, rel, fd, &sb);
        close(fd);
        if (!data) {
            ym_http_respond_error(req, 500, NULL);
            return;
        }
        ym_http__send_head(req, status, ctype, len, extra);
        if (!req->head && len) {
            ym_conn_send_slice(req->conn, data, (size_t)start, (size_t)len);
            ym_http__count_body(req, len);
        }
        ym_rbuf_unref(data);
        ym_http__end_response(req);
        return;
    }

    ym_http__send_head(req, status, ctype, len, extra);
    if (req->head || len == 0) {
        close(fd);
        ym_http__end_response(req);
        return;
    }
    ym_http_stream_t *sm = ym_xcalloc(1, sizeof *sm);
    sm->req = req;
    sm->loop = ym_conn_loop(req->conn);
    sm->fd = fd;
    sm->off = start;
    sm->end = end + 1;
    ((ym_http_req_int_t *)req)->stream = sm;
    stream_pump(sm);
}
