/* ym_net.c: TCP listeners and connections (contract in ym_net.h). */
#include "net/ym_net.h"

#include "base/ym_log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>

#define YM_NET_READ_BUF   (64 * 1024)
/* Slices per writev. Under fan-out load a connection collects hundreds of
 * small messages per loop pass; one syscall (and one TCP push) for all of them
 * costs far less than one per 64. 1024 is Linux's IOV_MAX. */
#define YM_NET_MAX_IOV    1024
#define YM_NET_LINGER_MS  2000
#define YM_NET_DEFAULT_BACKLOG  (4u * 1024 * 1024)
#define YM_NET_DEFAULT_MAXCONN  19000u
#define YM_NET_DEFAULT_LISTEN_BACKLOG 4096
#define YM_NET_TLS_PLAIN  16384   /* one TLS record of plaintext */

typedef struct ym_wq_ent {
    ym_rbuf_t *r;
    uint32_t off;
    uint32_t len;
} ym_wq_ent_t;

enum {
    YM_CONN_CLOSING      = 1u << 0,
    YM_CONN_PAUSED       = 1u << 1,
    YM_CONN_DIRTY        = 1u << 2,  /* on the listener's dirty list */
    YM_CONN_WRITING      = 1u << 3,  /* a uv_write is in flight */
    YM_CONN_CLOSE_AFTER  = 1u << 4,  /* close once the queue is empty */
    YM_CONN_LINGER       = 1u << 5,  /* write side shut; reads are discarded */
    YM_CONN_REDELIVER    = 1u << 6,  /* present the kept tail again at the next pass */
    YM_CONN_EOF          = 1u << 7,  /* the peer half-closed */
    YM_CONN_HAD_BACKLOG  = 1u << 8,
};

/* Only TLS connections carry this (plaintext ones keep a NULL pointer). */
typedef struct ym_conn_tls {
    ym_tls_conn_t *s;
    ym_rbuf_t *out;              /* ciphertext handed to the uv_write in flight */
    uint32_t out_off;            /* bytes of out already written by uv_try_write */
} ym_conn_tls_t;

struct ym_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    ym_listener_t *l;
    const ym_conn_proto_t *proto;
    void *proto_data;
    void (*timer_cb)(ym_conn_t *c);
    ym_buf_t in;                 /* unconsumed tail only; freed when empty */
    ym_wq_ent_t *q;              /* ring of queued slices */
    uint32_t q_head, q_count, q_cap;
    uint32_t inflight;           /* entries at the head owned by the uv_write in flight */
    size_t backlog;
    uv_write_t *wreq;            /* allocated only while a partial write continues */
    ym_conn_tls_t *tls;          /* NULL for plaintext connections */
    ym_conn_t *dirty_next;
    ym_conn_t *prev, *next;      /* listener's list of open connections */
    uint64_t id;
    int close_status;
    uint16_t flags;
    uint8_t handles_open;
    char peer[54];
};

struct ym_listener {
    uv_tcp_t tcp;
    uv_check_t check;
    uv_prepare_t prepare;
    uv_loop_t *loop;
    ym_accept_cb on_accept;
    void *ud;
    size_t max_backlog;
    unsigned max_conns;
    unsigned count;
    unsigned handles_open;
    bool closed;         /* not accepting any more */
    bool released;       /* the owner called ym_listener_close */
    bool tcp_closed;
    bool freeing;
    ym_conn_t *conns;
    ym_conn_t *dirty;
    char *rbuf;                  /* the shared read buffer */
    ym_tls_ctx_t *tls;           /* borrowed; NULL = plaintext listener */
    bool rbuf_busy;
    uint64_t last_emfile_log;
};

/* Per-connection memory is a tracked figure (DESIGN.md): the target is under
 * 2 KiB per idle Socket.IO client across all layers. */
_Static_assert(sizeof(struct ym_conn) <= 640, "ym_conn grew: check the idle memory budget");

static uint64_t next_conn_id = 1;

/* The i-th queued slice. q_cap is 0 or a power of two (4, doubling), so the
 * ring index is a mask, not a division: this runs once per message per
 * recipient. */
static inline ym_wq_ent_t *q_at(const ym_conn_t *c, uint32_t i)
{
    return &c->q[(c->q_head + i) & (c->q_cap - 1)];
}

static void conn_flush(ym_conn_t *c);
static void conn_start_close(ym_conn_t *c, int status);
static void listener_maybe_free(ym_listener_t *l);
static void tls_flush(ym_conn_t *c);
static void tls_pump(ym_conn_t *c);
static void tls_free(ym_conn_t *c);

/* --- listener bookkeeping --------------------------------------------- */

static void handle_closed_listener(uv_handle_t *h)
{
    ym_listener_t *l = h->data;
    if (--l->handles_open == 0) {
        free(l->rbuf);
        free(l);
    }
}

static void listener_maybe_free(ym_listener_t *l)
{
    /* The listener owns the flush handles and the shared read buffer, so it
     * stays until its last connection is gone. */
    if (!l->released || !l->tcp_closed || l->count > 0 || l->freeing)
        return;
    l->freeing = true;
    l->handles_open = 2;
    uv_close((uv_handle_t *)&l->check, handle_closed_listener);
    uv_close((uv_handle_t *)&l->prepare, handle_closed_listener);
}

static void dirty_add(ym_conn_t *c)
{
    if (c->flags & (YM_CONN_DIRTY | YM_CONN_CLOSING))
        return;
    c->flags |= YM_CONN_DIRTY;
    c->dirty_next = c->l->dirty;
    c->l->dirty = c;
}

static void dirty_remove(ym_conn_t *c)
{
    if (!(c->flags & YM_CONN_DIRTY))
        return;
    ym_conn_t **pp = &c->l->dirty;
    while (*pp && *pp != c)
        pp = &(*pp)->dirty_next;
    if (*pp)
        *pp = c->dirty_next;
    c->flags &= (uint16_t)~YM_CONN_DIRTY;
    c->dirty_next = NULL;
}

static void deliver(ym_conn_t *c, const char *data, size_t len, bool from_tail);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Runs before and after each poll: everything queued during the pass leaves in
 * one writev per connection, and kept tails are presented again if asked. */
static void flush_pass(ym_listener_t *l)
{
    while (l->dirty) {
        ym_conn_t *c = l->dirty;
        l->dirty = c->dirty_next;
        c->dirty_next = NULL;
        c->flags &= (uint16_t)~YM_CONN_DIRTY;
        if (c->flags & YM_CONN_REDELIVER) {
            c->flags &= (uint16_t)~YM_CONN_REDELIVER;
            if (!(c->flags & (YM_CONN_CLOSING | YM_CONN_PAUSED | YM_CONN_LINGER | YM_CONN_CLOSE_AFTER))) {
                if (c->in.len)
                    deliver(c, c->in.data, c->in.len, true);
                /* Records left undecrypted while the protocol had paused us. */
                if (c->tls)
                    tls_pump(c);
            }
        }
        if (!(c->flags & YM_CONN_CLOSING))
            conn_flush(c);
    }
}

static void check_cb(uv_check_t *h) { flush_pass(h->data); }
static void prepare_cb(uv_prepare_t *h) { flush_pass(h->data); }

/* --- closing ------------------------------------------------------------- */

static void queue_drop_all(ym_conn_t *c)
{
    for (uint32_t i = 0; i < c->q_count; i++)
        ym_rbuf_unref(q_at(c, i)->r);
    c->q_count = 0;
    c->backlog = 0;
    free(c->q);
    c->q = NULL;
    c->q_cap = 0;
    c->q_head = 0;
}

static void conn_handle_closed(uv_handle_t *h)
{
    ym_conn_t *c = h->data;
    if (--c->handles_open > 0)
        return;
    ym_listener_t *l = c->l;
    if (c->proto && c->proto->on_close)
        c->proto->on_close(c, c->close_status);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    queue_drop_all(c);
    ym_buf_free(&c->in);
    if (c->tls)
        tls_free(c);
    free(c->wreq);
    free(c);
    l->count--;
    listener_maybe_free(l);
}

static void conn_start_close(ym_conn_t *c, int status)
{
    if (c->flags & YM_CONN_CLOSING)
        return;
    c->flags |= YM_CONN_CLOSING;
    c->close_status = status;
    dirty_remove(c);
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

void ym_conn_close(ym_conn_t *c)
{
    conn_start_close(c, 0);
}

bool ym_conn_is_closing(const ym_conn_t *c)
{
    return (c->flags & (YM_CONN_CLOSING | YM_CONN_CLOSE_AFTER | YM_CONN_LINGER)) != 0;
}

static void linger_timeout(uv_timer_t *t)
{
    conn_start_close(t->data, 0);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    ym_conn_t *c = req->data;
    free(req);
    if (status < 0 || (c->flags & YM_CONN_EOF))
        conn_start_close(c, status < 0 ? status : 0);
}

/* Half-close, then discard what the peer still sends for a moment: closing
 * with unread bytes would make the kernel send RST, and the peer could lose
 * the error response we just wrote. */
static void conn_begin_linger(ym_conn_t *c)
{
    if (c->flags & (YM_CONN_LINGER | YM_CONN_CLOSING))
        return;
    c->flags |= YM_CONN_LINGER;
    ym_buf_free(&c->in);
    if (c->tls && ym_tls_conn_established(c->tls->s)) {
        /* close_notify, best effort: the queue is empty, and a peer that
         * never reads it loses nothing (HTTP frames its own messages). */
        char alert[128];
        ym_tls_conn_shutdown(c->tls->s);
        size_t n = ym_tls_conn_take(c->tls->s, alert, sizeof alert);
        if (n) {
            uv_buf_t b = uv_buf_init(alert, (unsigned)n);
            (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        }
    }
    if (c->flags & YM_CONN_EOF) {
        conn_start_close(c, 0);
        return;
    }
    uv_shutdown_t *req = ym_xmalloc(sizeof *req);
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
        free(req);
        conn_start_close(c, 0);
        return;
    }
    c->timer_cb = NULL;
    uv_timer_start(&c->timer, linger_timeout, YM_NET_LINGER_MS, 0);
    if (c->flags & YM_CONN_PAUSED) {
        c->flags &= (uint16_t)~YM_CONN_PAUSED;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
}

void ym_conn_close_after_flush(ym_conn_t *c)
{
    if (c->flags & YM_CONN_CLOSING)
        return;
    c->flags |= YM_CONN_CLOSE_AFTER;
    if (c->backlog == 0)
        conn_begin_linger(c);
    else
        dirty_add(c);
}

/* --- writing ------------------------------------------------------------- */

static void queue_pop(ym_conn_t *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        ym_wq_ent_t *e = &c->q[c->q_head];
        c->backlog -= e->len;
        ym_rbuf_unref(e->r);
        c->q_head = (c->q_head + 1) & (c->q_cap - 1);
        c->q_count--;
    }
    if (c->q_count == 0) {
        /* Idle connections hold no queue memory. */
        free(c->q);
        c->q = NULL;
        c->q_cap = 0;
        c->q_head = 0;
    }
}

static void after_drain(ym_conn_t *c)
{
    if (c->backlog != 0 || (c->flags & YM_CONN_CLOSING))
        return;
    if (c->flags & YM_CONN_CLOSE_AFTER) {
        conn_begin_linger(c);
        return;
    }
    if ((c->flags & YM_CONN_HAD_BACKLOG) && c->proto && c->proto->on_drain) {
        c->flags &= (uint16_t)~YM_CONN_HAD_BACKLOG;
        c->proto->on_drain(c);
    }
}

static void write_cb(uv_write_t *req, int status)
{
    ym_conn_t *c = req->data;
    queue_pop(c, c->inflight);
    c->inflight = 0;
    c->flags &= (uint16_t)~YM_CONN_WRITING;
    if (c->flags & YM_CONN_CLOSING)
        return;
    if (status < 0) {
        conn_start_close(c, status);
        return;
    }
    if (c->q_count) {
        dirty_add(c);
    } else {
        /* Idle connections keep no write request either (libuv allows
         * freeing a uv_write_t in its own callback). */
        free(c->wreq);
        c->wreq = NULL;
        after_drain(c);
    }
}

static void conn_flush(ym_conn_t *c)
{
    if (c->tls) {
        tls_flush(c);
        return;
    }
    if ((c->flags & (YM_CONN_WRITING | YM_CONN_CLOSING)) || c->q_count == 0) {
        if (c->q_count == 0)
            after_drain(c);
        return;
    }
    for (;;) {
        uv_buf_t iov[YM_NET_MAX_IOV];
        uint32_t n = YM_MIN(c->q_count, (uint32_t)YM_NET_MAX_IOV);
        if (n == 0)
            return;
        for (uint32_t i = 0; i < n; i++) {
            ym_wq_ent_t *e = q_at(c, i);
            iov[i] = uv_buf_init(e->r->data + e->off, e->len);
        }
        int w = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
        if (w < 0 && w != UV_EAGAIN) {
            conn_start_close(c, w);
            return;
        }
        size_t written = w > 0 ? (size_t)w : 0;
        uint32_t done = 0;
        while (done < n && written >= q_at(c, done)->len) {
            written -= q_at(c, done)->len;
            done++;
        }
        if (done < n && written > 0) {
            ym_wq_ent_t *e = q_at(c, done);
            e->off += (uint32_t)written;
            e->len -= (uint32_t)written;
            c->backlog -= written;
        }
        queue_pop(c, done);
        if (done == n) {
            if (c->q_count)
                continue;   /* more than one writev worth of entries */
            after_drain(c);
            return;
        }
        /* The socket is full: hand the rest of this batch to uv_write, which
         * continues when writable; the refs stay queued until write_cb. */
        uint32_t rest = n - done;
        for (uint32_t i = 0; i < rest; i++) {
            ym_wq_ent_t *e = q_at(c, i);
            iov[i] = uv_buf_init(e->r->data + e->off, e->len);
        }
        if (!c->wreq)
            c->wreq = ym_xmalloc(sizeof *c->wreq);
        c->wreq->data = c;
        int rc = uv_write(c->wreq, (uv_stream_t *)&c->tcp, iov, rest, write_cb);
        if (rc < 0) {
            conn_start_close(c, rc);
            return;
        }
        c->inflight = rest;
        c->flags |= YM_CONN_WRITING;
        return;
    }
}

int ym_conn_send_slice(ym_conn_t *c, ym_rbuf_t *r, size_t off, size_t len)
{
    if (c->flags & (YM_CONN_CLOSING | YM_CONN_LINGER))
        return -EPIPE;
    if (len == 0)
        return 0;
    /* The cap bounds what a slow reader makes us hold: a reply larger than
     * the cap (a big static file, a source map) may still go out whole when
     * nothing else is queued, so memory stays within cap + one message. */
    if (c->backlog > 0 && c->backlog + len > c->l->max_backlog) {
        ym_log_warn("conn %llu (%s): send backlog over %zu bytes, closing slow client",
                    (unsigned long long)c->id, c->peer, c->l->max_backlog);
        conn_start_close(c, -ENOBUFS);
        return -ENOBUFS;
    }
    if (c->q_count == c->q_cap) {
        uint32_t ncap = c->q_cap ? c->q_cap * 2 : 4;
        ym_wq_ent_t *nq = ym_xmalloc(ncap * sizeof *nq);
        for (uint32_t i = 0; i < c->q_count; i++)
            nq[i] = *q_at(c, i);
        free(c->q);
        c->q = nq;
        c->q_cap = ncap;
        c->q_head = 0;
    }
    *q_at(c, c->q_count) = (ym_wq_ent_t){ ym_rbuf_ref(r), (uint32_t)off, (uint32_t)len };
    c->q_count++;
    c->backlog += len;
    c->flags |= YM_CONN_HAD_BACKLOG;
    dirty_add(c);
    return 0;
}

int ym_conn_send(ym_conn_t *c, ym_rbuf_t *r)
{
    return ym_conn_send_slice(c, r, 0, r->len);
}

int ym_conn_send_copy(ym_conn_t *c, const void *p, size_t len)
{
    ym_rbuf_t *r = ym_rbuf_copy(p, len);
    int rc = ym_conn_send(c, r);
    ym_rbuf_unref(r);
    return rc;
}

size_t ym_conn_backlog(const ym_conn_t *c)
{
    return c->backlog;
}

void ym_conn_flush(ym_conn_t *c)
{
    dirty_remove(c);
    conn_flush(c);
}

ssize_t ym_conn_sendfile(ym_conn_t *c, int fd, uint64_t *off, uint64_t len)
{
    if (c->tls || c->q_count || (c->flags & (YM_CONN_WRITING | YM_CONN_CLOSING | YM_CONN_LINGER)))
        return 0;
    uv_os_fd_t sock;
    if (uv_fileno((uv_handle_t *)&c->tcp, &sock) != 0)
        return 0;
    uint64_t sent = 0;
    while (sent < len) {
        off_t o = (off_t)*off;
        /* At most 1 GiB a call: Linux caps a sendfile at just under 2 GiB. */
        ssize_t n = sendfile(sock, fd, &o, (size_t)YM_MIN(len - sent, (uint64_t)1 << 30));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            int err = -errno;
            conn_start_close(c, err);
            return err;
        }
        if (n == 0)
            break;              /* the file ended early: the caller finds out on its next read */
        *off += (uint64_t)n;
        sent += (uint64_t)n;
    }
    return (ssize_t)sent;
}

/* --- reading ------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ym_conn_t *c = h->data;
    ym_listener_t *l = c->l;
    if (l->rbuf_busy) {
        /* Cannot happen with one read per callback; stay safe anyway. */
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    l->rbuf_busy = true;
    buf->base = l->rbuf;
    buf->len = YM_NET_READ_BUF;
}

static void deliver(ym_conn_t *c, const char *data, size_t len, bool from_tail)
{
    /* A protocol switch inside on_read means the new protocol gets what is left. */
    for (;;) {
        const ym_conn_proto_t *p = c->proto;
        ssize_t n = p->on_read(c, data, len);
        if (n < 0 || (c->flags & (YM_CONN_CLOSING | YM_CONN_LINGER))) {
            if (!(c->flags & YM_CONN_CLOSING) && n < 0 && !(c->flags & YM_CONN_LINGER))
                conn_start_close(c, -EPROTO);
            ym_buf_free(&c->in);
            return;
        }
        size_t used = (size_t)n > len ? len : (size_t)n;
        if (from_tail) {
            ym_buf_consume(&c->in, used);
            if (c->in.len == 0)
                ym_buf_free(&c->in);
            data = c->in.data;
            len = c->in.len;
        } else {
            data += used;
            len -= used;
        }
        if (len == 0 || c->proto == p)
            break;
    }
    if (!from_tail && len) {
        ym_buf_append(&c->in, data, len);
    }
}

/* The peer will send nothing more: a TCP FIN, or a TLS close_notify. */
static void conn_peer_eof(ym_conn_t *c)
{
    c->flags |= YM_CONN_EOF;
    uv_read_stop((uv_stream_t *)&c->tcp);
    /* Let what we already queued (a response to the last request) go out. */
    if (c->flags & YM_CONN_LINGER)
        conn_start_close(c, UV_EOF);
    else if (c->flags & YM_CONN_CLOSE_AFTER)
        ;   /* already closing once flushed */
    else if (c->proto && c->proto->on_eof)
        c->proto->on_eof(c);
    else if (c->backlog > 0)
        ym_conn_close_after_flush(c);
    else
        conn_start_close(c, UV_EOF);
}

/* Plaintext for the protocol, appended to a kept tail if there is one. */
static inline void conn_input(ym_conn_t *c, const char *data, size_t len)
{
    if (c->in.len) {
        ym_buf_append(&c->in, data, len);
        deliver(c, c->in.data, c->in.len, true);
    } else {
        deliver(c, data, len, false);
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    ym_conn_t *c = s->data;
    c->l->rbuf_busy = false;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && !(c->flags & YM_CONN_CLOSING)) {
            conn_peer_eof(c);
            return;
        }
        conn_start_close(c, (int)nread);
        return;
    }
    if (c->flags & (YM_CONN_CLOSING | YM_CONN_LINGER | YM_CONN_CLOSE_AFTER))
        return; /* discard */
    if (YM_UNLIKELY(c->tls != NULL)) {
        if (ym_tls_conn_feed(c->tls->s, buf->base, (size_t)nread) != 0) {
            conn_start_close(c, -EPROTO);
            return;
        }
        tls_pump(c);
        return;
    }
    conn_input(c, buf->base, (size_t)nread);
}

void ym_conn_pause_reading(ym_conn_t *c)
{
    if (c->flags & (YM_CONN_PAUSED | YM_CONN_CLOSING | YM_CONN_EOF))
        return;
    c->flags |= YM_CONN_PAUSED;
    uv_read_stop((uv_stream_t *)&c->tcp);
}

void ym_conn_resume_reading(ym_conn_t *c)
{
    if (c->flags & YM_CONN_CLOSING)
        return;
    if ((c->flags & YM_CONN_PAUSED) && !(c->flags & YM_CONN_EOF)) {
        c->flags &= (uint16_t)~YM_CONN_PAUSED;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
    c->flags &= (uint16_t)~YM_CONN_PAUSED;
    /* A TLS connection may hold whole records not yet decrypted. */
    if (c->in.len || c->tls) {
        c->flags |= YM_CONN_REDELIVER;
        dirty_add(c);
    }
}

/* --- TLS ------------------------------------------------------------------- *
 *
 * Reading: ciphertext goes into the connection's TLS state, and plaintext comes
 * out one record at a time (a stack buffer, then the same delivery as a
 * plaintext connection). Writing: the queue holds plaintext slices as usual,
 * so ym_conn_send takes its reference to a shared broadcast rbuf without
 * copying; each TLS stream must encrypt it separately, which happens at flush
 * time: every queued slice is encrypted into one new ciphertext rbuf per pass
 * (one copy of the bytes plus ~22-29 bytes per 16 KiB record, and the AES-GCM
 * or ChaCha20 work, per recipient). Nothing is encrypted while a write is in
 * flight, so a slow reader's backlog is still counted, and capped, as
 * plaintext queued; backlog also counts ciphertext not yet written, so
 * on_drain and close-after-flush wait for it. */

static void tls_free(ym_conn_t *c)
{
    ym_rbuf_unref(c->tls->out);
    ym_tls_conn_free(c->tls->s);
    free(c->tls);
    c->tls = NULL;
}

static void tls_pump(ym_conn_t *c)
{
    char plain[YM_NET_TLS_PLAIN];
    while (!(c->flags & (YM_CONN_CLOSING | YM_CONN_PAUSED | YM_CONN_LINGER | YM_CONN_CLOSE_AFTER))) {
        ssize_t n = ym_tls_conn_read(c->tls->s, plain, sizeof plain, c->id);
        if (n > 0) {
            conn_input(c, plain, (size_t)n);
            continue;
        }
        if (n == YM_AGAIN)
            break;
        if (n == 0) {
            if (!(c->flags & YM_CONN_EOF))
                conn_peer_eof(c);
            break;
        }
        /* Not TLS (plain HTTP on the TLS port, garbage) or a failed
         * handshake: nothing can be said to such a peer. */
        conn_start_close(c, -EPROTO);
        return;
    }
    if (c->tls && (ym_tls_conn_pending(c->tls->s) || c->q_count))
        dirty_add(c);
}

static void tls_write_cb(uv_write_t *req, int status)
{
    ym_conn_t *c = req->data;
    ym_conn_tls_t *t = c->tls;
    c->backlog -= t->out->len - t->out_off;
    ym_rbuf_unref(t->out);
    t->out = NULL;
    t->out_off = 0;
    c->flags &= (uint16_t)~YM_CONN_WRITING;
    if (c->flags & YM_CONN_CLOSING)
        return;
    if (status < 0) {
        conn_start_close(c, status);
        return;
    }
    if (c->q_count || ym_tls_conn_pending(t->s)) {
        dirty_add(c);
    } else {
        free(c->wreq);
        c->wreq = NULL;
        after_drain(c);
    }
}

static void tls_flush(ym_conn_t *c)
{
    ym_conn_tls_t *t = c->tls;
    if (c->flags & (YM_CONN_WRITING | YM_CONN_CLOSING))
        return;
    if (c->q_count) {
        if (ym_tls_conn_established(t->s)) {
            while (c->q_count) {
                ym_wq_ent_t *e = &c->q[c->q_head];
                if (ym_tls_conn_write(t->s, e->r->data + e->off, e->len, c->id) != 0) {
                    conn_start_close(c, -EPROTO);
                    return;
                }
                queue_pop(c, 1);
            }
        } else if (c->flags & YM_CONN_CLOSE_AFTER) {
            /* e.g. a 408 to a peer that never finished its handshake: it
             * cannot be encrypted, so there is nothing to wait for. */
            conn_start_close(c, 0);
            return;
        }
    }
    size_t pend = ym_tls_conn_pending(t->s);
    if (pend) {
        ym_rbuf_t *r = ym_rbuf_new(pend);
        size_t got = ym_tls_conn_take(t->s, r->data, pend);
        r->len = (uint32_t)got;
        c->backlog += got;
        uv_buf_t b = uv_buf_init(r->data, (unsigned)got);
        int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (w < 0 && w != UV_EAGAIN) {
            ym_rbuf_unref(r);
            conn_start_close(c, w);
            return;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        c->backlog -= done;
        if (done < got) {
            /* The socket is full: uv_write continues when it is writable. */
            t->out = r;
            t->out_off = (uint32_t)done;
            b = uv_buf_init(r->data + done, (unsigned)(got - done));
            if (!c->wreq)
                c->wreq = ym_xmalloc(sizeof *c->wreq);
            c->wreq->data = c;
            int rc = uv_write(c->wreq, (uv_stream_t *)&c->tcp, &b, 1, tls_write_cb);
            if (rc < 0) {
                conn_start_close(c, rc);
                return;
            }
            c->flags |= YM_CONN_WRITING;
            return;
        }
        ym_rbuf_unref(r);
    }
    if (c->q_count == 0)
        after_drain(c);
}

/* --- misc accessors -------------------------------------------------------- */

void ym_conn_set_proto(ym_conn_t *c, const ym_conn_proto_t *proto, void *proto_data)
{
    c->proto = proto;
    c->proto_data = proto_data;
}

void *ym_conn_proto_data(const ym_conn_t *c) { return c->proto_data; }
const ym_conn_proto_t *ym_conn_proto(const ym_conn_t *c) { return c->proto; }
uv_loop_t *ym_conn_loop(const ym_conn_t *c) { return c->l->loop; }
const char *ym_conn_peer(ym_conn_t *c) { return c->peer; }
uint64_t ym_conn_id(const ym_conn_t *c) { return c->id; }
bool ym_conn_is_tls(const ym_conn_t *c) { return c->tls != NULL; }

static void conn_timer_cb(uv_timer_t *t)
{
    ym_conn_t *c = t->data;
    void (*cb)(ym_conn_t *) = c->timer_cb;
    if (cb && !(c->flags & YM_CONN_CLOSING))
        cb(c);
}

void ym_conn_set_timer(ym_conn_t *c, uint64_t ms, void (*cb)(ym_conn_t *c))
{
    /* While lingering the timer belongs to the linger deadline. */
    if (c->flags & (YM_CONN_CLOSING | YM_CONN_LINGER))
        return;
    if (ms == 0 || !cb) {
        c->timer_cb = NULL;
        uv_timer_stop(&c->timer);
        return;
    }
    c->timer_cb = cb;
    uv_timer_start(&c->timer, conn_timer_cb, ms, 0);
}

/* --- accepting -------------------------------------------------------------- */

static void format_peer(ym_conn_t *c)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(c->peer, sizeof c->peer, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

static void discard_closed(uv_handle_t *h)
{
    free(h);
}

static void on_connection(uv_stream_t *server, int status)
{
    ym_listener_t *l = server->data;
    if (status < 0) {
        /* libuv already sheds the pending connection on EMFILE (it keeps a
         * spare fd for that); we only log, at most once a second. */
        uint64_t now = uv_now(l->loop);
        if (now - l->last_emfile_log >= 1000) {
            l->last_emfile_log = now;
            ym_log_warn("accept failed: %s", uv_strerror(status));
        }
        return;
    }
    if (l->closed)
        return;
    if (l->count >= l->max_conns) {
        uv_tcp_t *t = ym_xmalloc(sizeof *t);
        uv_tcp_init(l->loop, t);
        if (uv_accept(server, (uv_stream_t *)t) == 0) {
            uint64_t now = uv_now(l->loop);
            if (now - l->last_emfile_log >= 1000) {
                l->last_emfile_log = now;
                ym_log_warn("connection limit (%u) reached: refusing connections", l->max_conns);
            }
        }
        uv_close((uv_handle_t *)t, discard_closed);
        return;
    }
    ym_conn_t *c = ym_xcalloc(1, sizeof *c);
    c->l = l;
    c->id = next_conn_id++;
    uv_tcp_init(l->loop, &c->tcp);
    uv_timer_init(l->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->count++;
    if (l->tls) {
        c->tls = ym_xcalloc(1, sizeof *c->tls);
        c->tls->s = ym_tls_conn_new(l->tls);
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_start_close(c, -ECONNABORTED);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    format_peer(c);
    l->on_accept(l, c, l->ud);
    if (c->flags & YM_CONN_CLOSING)
        return;
    if (!c->proto) {
        conn_start_close(c, -EPROTO);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

int ym_listener_open(uv_loop_t *loop, const char *host, int port, const ym_net_config_t *cfg,
                     ym_accept_cb on_accept, void *ud, ym_listener_t **out)
{
    struct sockaddr_storage addr;
    const char *h = host && *host ? host : "0.0.0.0";
    if (strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    if (port < 0 || port > 65535)
        return -EINVAL;
    int rc = strchr(h, ':') ? uv_ip6_addr(h, port, (struct sockaddr_in6 *)&addr)
                            : uv_ip4_addr(h, port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        return rc;
    /* A peer closing mid-write must give EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    ym_listener_t *l = ym_xcalloc(1, sizeof *l);
    l->loop = loop;
    l->on_accept = on_accept;
    l->ud = ud;
    l->max_backlog = cfg && cfg->max_send_backlog ? cfg->max_send_backlog : YM_NET_DEFAULT_BACKLOG;
    l->max_conns = cfg && cfg->max_connections ? cfg->max_connections : YM_NET_DEFAULT_MAXCONN;
    l->tls = cfg ? cfg->tls : NULL;
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    l->handles_open = 1;
    rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp,
                       cfg && cfg->listen_backlog ? (int)cfg->listen_backlog : YM_NET_DEFAULT_LISTEN_BACKLOG,
                       on_connection);
    if (rc != 0) {
        uv_close((uv_handle_t *)&l->tcp, handle_closed_listener);
        return rc;
    }
    l->rbuf = ym_xmalloc(YM_NET_READ_BUF);
    uv_check_init(loop, &l->check);
    uv_prepare_init(loop, &l->prepare);
    l->check.data = l;
    l->prepare.data = l;
    uv_check_start(&l->check, check_cb);
    uv_prepare_start(&l->prepare, prepare_cb);
    /* The flush handles must not keep the loop alive on their own. */
    uv_unref((uv_handle_t *)&l->check);
    uv_unref((uv_handle_t *)&l->prepare);
    l->handles_open = 3;
    *out = l;
    return 0;
}

int ym_listener_port(const ym_listener_t *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void listener_tcp_closed(uv_handle_t *h)
{
    ym_listener_t *l = h->data;
    l->tcp_closed = true;
    listener_maybe_free(l);
}

void ym_listener_stop(ym_listener_t *l)
{
    if (l->closed)
        return;
    l->closed = true;
    uv_close((uv_handle_t *)&l->tcp, listener_tcp_closed);
}

void ym_listener_close(ym_listener_t *l)
{
    ym_listener_stop(l);
    l->released = true;
    listener_maybe_free(l);
}

unsigned ym_listener_conn_count(const ym_listener_t *l)
{
    return l->count;
}

void ym_listener_foreach(ym_listener_t *l, void (*fn)(ym_conn_t *c, void *ud), void *ud)
{
    /* fn may close c, which only unlinks it later (in the close callback). */
    for (ym_conn_t *c = l->conns, *n; c; c = n) {
        n = c->next;
        if (!(c->flags & YM_CONN_CLOSING))
            fn(c, ud);
    }
}
