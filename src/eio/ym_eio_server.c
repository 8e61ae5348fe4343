/* ym_eio.c: the Engine.IO v4 server: handshake, sessions, long-polling and
 * WebSocket transports, upgrade, heartbeats.
 *
 * Deferred work: one uv_idle handle per server runs (a) the flush of queued
 * packets into held GETs, so that everything sent during one loop pass goes
 * out in one polling response, and (b) the pending closes, so on_close never
 * runs inside the stack that caused it and sessions are freed at a safe point.
 * An active idle handle also keeps the loop from blocking in poll while work
 * is pending.
 */
#include "eio/ym_eio_internal.h"

#include "base/ym_log.h"
#include "ws/ym_ws.h"

#include <errno.h>
#include <stdio.h>

enum { T_POLLING = 0, T_WEBSOCKET = 1 };
enum { S_OPEN = 0, S_CLOSING = 1 };

struct ym_eio_session {
    ym_eio_server_t *srv;
    ym_eio_session_t *hnext;       /* sid hash chain */
    ym_eio_session_t *flush_next;  /* flush list (while flush_listed) */
    ym_eio_session_t *close_next;  /* close list (while closing) */
    void *data;
    uint8_t transport;
    uint8_t state;
    bool upgrading;                /* a probe WebSocket is attached */
    bool awaiting_pong;
    bool flush_listed;
    bool opened;                   /* on_open ran: on_close is owed */
    ym_http_req_t *get;            /* the held long-poll GET */
    ym_ws_t *ws;                   /* the WebSocket transport (after handshake or upgrade) */
    ym_ws_t *probe;                /* the WebSocket being upgraded to */
    ym_eio_packet_t **queue;       /* polling: packets waiting for a GET */
    uint32_t qlen, qcap;
    size_t qbytes;
    uint64_t next_ping_at;         /* loop time (uv_now) */
    uint64_t pong_deadline;
    uint64_t upgrade_deadline;
    const char *close_reason;
    uint64_t due;                  /* loop time of the next timer event, while in the heap */
    uint32_t heap_pos;             /* 1-based index in srv->heap; 0 = not scheduled */
    char sid[21];
    char peer[48];
};

struct ym_eio_server {
    uv_loop_t *loop;
    ym_http_server_t *http;
    ym_eio_config_t cfg;
    char *path;
    ym_eio_handlers_t h;
    ym_eio_session_t **buckets;
    size_t nbuckets, count;
    ym_eio_session_t *flush_head;
    ym_eio_session_t *close_head, **close_tail;
    uv_idle_t idle;
    /* Session deadlines (ping, pong, upgrade) in a binary min-heap on due,
     * served by one timer: a uv_timer_t per session would be 152 bytes of
     * every idle client's budget (DESIGN.md). */
    uv_timer_t timer;
    ym_eio_session_t **heap;
    uint32_t heap_len, heap_cap;
    unsigned handles;              /* open uv handles (idle + timer) */
    bool shutting_down;            /* no new sessions */
    bool freeing;
};

static const char k_text_plain[] = "text/plain; charset=UTF-8";

/* ---------- sid table ---------- */

static size_t sid_hash(const char *sid, size_t nb)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = sid; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h & (nb - 1));
}

static void table_grow(ym_eio_server_t *srv)
{
    size_t nb = srv->nbuckets * 2;
    ym_eio_session_t **b = ym_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < srv->nbuckets; i++) {
        ym_eio_session_t *s = srv->buckets[i];
        while (s) {
            ym_eio_session_t *next = s->hnext;
            size_t k = sid_hash(s->sid, nb);
            s->hnext = b[k];
            b[k] = s;
            s = next;
        }
    }
    free(srv->buckets);
    srv->buckets = b;
    srv->nbuckets = nb;
}

static void table_add(ym_eio_server_t *srv, ym_eio_session_t *s)
{
    if (srv->count + 1 > srv->nbuckets)
        table_grow(srv);
    size_t k = sid_hash(s->sid, srv->nbuckets);
    s->hnext = srv->buckets[k];
    srv->buckets[k] = s;
    srv->count++;
}

static void table_remove(ym_eio_server_t *srv, ym_eio_session_t *s)
{
    ym_eio_session_t **pp = &srv->buckets[sid_hash(s->sid, srv->nbuckets)];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == s) {
            *pp = s->hnext;
            s->hnext = NULL;
            srv->count--;
            return;
        }
    }
}

static ym_eio_session_t *table_find(ym_eio_server_t *srv, const char *sid)
{
    for (ym_eio_session_t *s = srv->buckets[sid_hash(sid, srv->nbuckets)]; s; s = s->hnext)
        if (strcmp(s->sid, sid) == 0)
            return s;
    return NULL;
}

/* ---------- helpers ---------- */

static void cors_headers(ym_eio_server_t *srv, const ym_http_req_t *req, char *out, size_t cap)
{
    out[0] = '\0';
    if (!srv->cfg.cors_origins)
        return;
    ym_str_t origin = ym_http_header(req, "Origin");
    if (!origin.p || origin.len > 200)
        return;
    for (const char *const *o = srv->cfg.cors_origins; *o; o++) {
        if (ym_str_eq_lit(origin, *o)) {
            snprintf(out, cap, "Access-Control-Allow-Origin: %.*s\r\nAccess-Control-Allow-Credentials: true\r\n"
                     "Vary: Origin\r\n", (int)origin.len, origin.p);
            return;
        }
    }
}

/* True unless an allowlist is configured and a browser sent an Origin not on
 * it (cross-site WebSocket hijacking: CORS does not protect WebSockets). */
static bool origin_allowed(ym_eio_server_t *srv, const ym_http_req_t *req)
{
    if (!srv->cfg.cors_origins)
        return true;
    ym_str_t origin = ym_http_header(req, "Origin");
    if (!origin.p)
        return true;
    for (const char *const *o = srv->cfg.cors_origins; *o; o++)
        if (ym_str_eq_lit(origin, *o))
            return true;
    return false;
}

static ym_http_result_t respond_code(ym_eio_server_t *srv, ym_http_req_t *req, int status, int code, const char *msg)
{
    char hdr[512], body[128];
    cors_headers(srv, req, hdr, sizeof(hdr));
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code, msg);
    ym_http_respond(req, status, "application/json", body, (size_t)n, hdr[0] ? hdr : NULL);
    return YM_HTTP_DONE;
}

static void respond_body(ym_eio_session_t *s, ym_http_req_t *req, const char *body, size_t len)
{
    char hdr[512];
    cors_headers(s->srv, req, hdr, sizeof(hdr));
    ym_http_respond(req, 200, k_text_plain, body, len, hdr[0] ? hdr : NULL);
}

static void start_idle(ym_eio_server_t *srv);

static void queue_clear(ym_eio_session_t *s)
{
    for (uint32_t i = 0; i < s->qlen; i++)
        ym_eio_packet_unref(s->queue[i]);
    s->qlen = 0;
    s->qbytes = 0;
}

/* Answers the held GET with everything queued, plus an optional trailing packet. */
static void flush_get(ym_eio_session_t *s, const char *tail)
{
    ym_http_req_t *req = s->get;
    if (!req)
        return;
    s->get = NULL;
    ym_buf_t body = YM_BUF_INIT;
    for (uint32_t i = 0; i < s->qlen; i++)
        ym_eio__packet_append_payload(&body, s->queue[i]);
    queue_clear(s);
    if (tail) {
        if (body.len)
            ym_buf_append_byte(&body, YM_EIO_SEP);
        ym_buf_append_str(&body, tail);
    }
    respond_body(s, req, body.data ? body.data : "", body.len);
    ym_buf_free(&body);
}

static int ws_send_packet(ym_eio_session_t *s, ym_ws_t *ws, ym_eio_packet_t *p)
{
    (void)s;
    return ym_ws_send_frame(ws, ym_eio__packet_ws_frame(p));
}

/* ---------- closing ---------- */

static void arm_timer(ym_eio_session_t *s);
static void server_timer_cb(uv_timer_t *t);

/* ---------- the deadline heap ---------- */

static void heap_place(ym_eio_server_t *srv, uint32_t i, ym_eio_session_t *s)
{
    srv->heap[i] = s;
    s->heap_pos = i + 1;
}

static void heap_up(ym_eio_server_t *srv, uint32_t i)
{
    ym_eio_session_t *s = srv->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (srv->heap[parent]->due <= s->due)
            break;
        heap_place(srv, i, srv->heap[parent]);
        i = parent;
    }
    heap_place(srv, i, s);
}

static void heap_down(ym_eio_server_t *srv, uint32_t i)
{
    ym_eio_session_t *s = srv->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= srv->heap_len)
            break;
        if (child + 1 < srv->heap_len && srv->heap[child + 1]->due < srv->heap[child]->due)
            child++;
        if (s->due <= srv->heap[child]->due)
            break;
        heap_place(srv, i, srv->heap[child]);
        i = child;
    }
    heap_place(srv, i, s);
}

/* Starts, moves or stops the server timer for the earliest deadline. */
static void heap_rearm(ym_eio_server_t *srv)
{
    if (srv->freeing)
        return;
    if (srv->heap_len == 0) {
        uv_timer_stop(&srv->timer);
        return;
    }
    uint64_t at = srv->heap[0]->due, now = uv_now(srv->loop);
    uv_timer_start(&srv->timer, server_timer_cb, at > now ? at - now : 0, 0);
}

static void heap_remove(ym_eio_session_t *s)
{
    ym_eio_server_t *srv = s->srv;
    if (!s->heap_pos)
        return;
    uint32_t i = s->heap_pos - 1;
    s->heap_pos = 0;
    ym_eio_session_t *last = srv->heap[--srv->heap_len];
    if (last != s) {
        heap_place(srv, i, last);
        heap_up(srv, i);
        heap_down(srv, last->heap_pos - 1);
    }
    if (i == 0)
        heap_rearm(srv);
}

/* (Re)schedules s at due. */
static void heap_set(ym_eio_session_t *s, uint64_t due)
{
    ym_eio_server_t *srv = s->srv;
    bool was_first = s->heap_pos == 1;
    if (!s->heap_pos) {
        if (srv->heap_len == srv->heap_cap) {
            srv->heap_cap = srv->heap_cap ? srv->heap_cap * 2 : 64;
            srv->heap = ym_xrealloc(srv->heap, srv->heap_cap * sizeof(*srv->heap));
        }
        heap_place(srv, srv->heap_len++, s);
    }
    s->due = due;
    heap_up(srv, s->heap_pos - 1);
    heap_down(srv, s->heap_pos - 1);
    if (was_first || srv->heap[0] == s)
        heap_rearm(srv);
}

/* Closes the session now as far as the outside world can see (sid unknown from
 * here on); on_close and the free happen in the idle pass. get_tail is what a
 * held GET receives: "1" (server-side close) or "6" (the client asked). */
static void session_close(ym_eio_session_t *s, const char *reason, const char *get_tail)
{
    if (s->state != S_OPEN)
        return;
    ym_eio_server_t *srv = s->srv;
    s->state = S_CLOSING;
    s->close_reason = reason;
    table_remove(srv, s);
    heap_remove(s);
    if (s->get)
        flush_get(s, get_tail);
    queue_clear(s);
    if (s->probe) {
        ym_ws_set_userdata(s->probe, NULL);
        ym_ws_close(s->probe, YM_WS_CLOSE_NORMAL, NULL);
        s->probe = NULL;
    }
    if (s->ws) {
        ym_ws_set_userdata(s->ws, NULL);
        ym_ws_close(s->ws, YM_WS_CLOSE_NORMAL, NULL);
        s->ws = NULL;
    }
    if (s->flush_listed) {
        /* Freed after the close pass: it must not stay on the flush list. */
        for (ym_eio_session_t **pp = &srv->flush_head; *pp; pp = &(*pp)->flush_next) {
            if (*pp == s) {
                *pp = s->flush_next;
                break;
            }
        }
        s->flush_listed = false;
    }
    s->close_next = NULL;
    *srv->close_tail = s;
    srv->close_tail = &s->close_next;
    start_idle(srv);
    ym_log_debug("eio %s: closing (%s)", s->sid, reason);
}

static void session_free(ym_eio_session_t *s)
{
    free(s->queue);
    free(s);
}

static void run_closes(ym_eio_server_t *srv)
{
    ym_eio_session_t *s;
    while ((s = srv->close_head) != NULL) {
        srv->close_head = s->close_next;
        if (!srv->close_head)
            srv->close_tail = &srv->close_head;
        if (s->opened && srv->h.on_close)
            srv->h.on_close(s, s->close_reason, srv->h.ud);
        /* Nothing refers to s any more: out of the sid table, the heap and
         * the flush list, its WebSocket and held GET detached. */
        session_free(s);
    }
}

static void run_flushes(ym_eio_server_t *srv)
{
    ym_eio_session_t *s;
    while ((s = srv->flush_head) != NULL) {
        srv->flush_head = s->flush_next;
        s->flush_next = NULL;
        s->flush_listed = false;
        if (s->state == S_OPEN && s->get && s->qlen > 0 && !s->upgrading)
            flush_get(s, NULL);
    }
}

static void idle_cb(uv_idle_t *h)
{
    ym_eio_server_t *srv = h->data;
    run_flushes(srv);
    run_closes(srv);
    if (!srv->flush_head && !srv->close_head)
        uv_idle_stop(&srv->idle);
}

static void start_idle(ym_eio_server_t *srv)
{
    if (!srv->freeing)
        uv_idle_start(&srv->idle, idle_cb);
}

/* ---------- sending ---------- */

static int session_enqueue(ym_eio_session_t *s, ym_eio_packet_t *p)
{
    if (s->state != S_OPEN)
        return -EPIPE;
    if (s->transport == T_WEBSOCKET && s->ws) {
        /* The same per-session cap as polling, on the bytes the connection has
         * not written yet (the net layer's own, larger cap also applies). */
        ym_conn_t *c = ym_ws_conn(s->ws);
        ym_rbuf_t *frame = ym_eio__packet_ws_frame(p);
        if (c && ym_conn_backlog(c) + frame->len > s->srv->cfg.max_send_backlog) {
            ym_log_warn("eio %s (%s): send backlog over %zu bytes, dropping the slow client", s->sid, s->peer,
                        s->srv->cfg.max_send_backlog);
            session_close(s, "send backlog", "1");
            return -ENOBUFS;
        }
        return ws_send_packet(s, s->ws, p);
    }
    size_t sz = ym_eio__packet_size(p) + 1;
    if (s->qbytes + sz > s->srv->cfg.max_send_backlog) {
        ym_log_warn("eio %s (%s): send backlog over %zu bytes, dropping the slow client", s->sid, s->peer,
                    s->srv->cfg.max_send_backlog);
        session_close(s, "send backlog", "1");
        return -ENOBUFS;
    }
    if (s->qlen == s->qcap) {
        s->qcap = s->qcap ? s->qcap * 2 : 4;
        s->queue = ym_xrealloc(s->queue, s->qcap * sizeof(*s->queue));
    }
    s->queue[s->qlen++] = ym_eio_packet_ref(p);
    s->qbytes += sz;
    if (s->get && !s->flush_listed) {
        s->flush_listed = true;
        s->flush_next = s->srv->flush_head;
        s->srv->flush_head = s;
        start_idle(s->srv);
    }
    return 0;
}

static int send_control(ym_eio_session_t *s, ym_eio_type_t type)
{
    ym_eio_packet_t *p = ym_eio__packet_new_type(type, NULL, 0, false);
    int rc = session_enqueue(s, p);
    ym_eio_packet_unref(p);
    return rc;
}

int ym_eio_send_packet(ym_eio_session_t *s, ym_eio_packet_t *p)
{
    return session_enqueue(s, p);
}

int ym_eio_send(ym_eio_session_t *s, const char *data, size_t len, bool binary)
{
    if (s->state != S_OPEN)
        return -EPIPE;
    ym_eio_packet_t *p = ym_eio_packet_new(data, len, binary);
    int rc = session_enqueue(s, p);
    ym_eio_packet_unref(p);
    return rc;
}

void ym_eio_close(ym_eio_session_t *s, const char *reason)
{
    session_close(s, reason ? reason : "forced close", "1");
}

/* ---------- heartbeat and upgrade deadlines ---------- */

/* The loop's clock, refreshed: the cached uv_now() can lag by however long
 * this loop pass has been running, and deadlines are judged to the ms. */
static uint64_t now_ms(ym_eio_server_t *srv)
{
    uv_update_time(srv->loop);
    return uv_now(srv->loop);
}

static void session_timer(ym_eio_session_t *s, uint64_t now)
{
    if (s->state != S_OPEN)
        return;
    if (s->upgrading && now >= s->upgrade_deadline) {
        ym_log_debug("eio %s: upgrade timeout", s->sid);
        ym_ws_set_userdata(s->probe, NULL);
        ym_ws_close(s->probe, YM_WS_CLOSE_NORMAL, NULL);
        s->probe = NULL;
        s->upgrading = false;
    }
    if (s->awaiting_pong && now >= s->pong_deadline) {
        session_close(s, "ping timeout", "1");
        return;
    }
    if (!s->awaiting_pong && now >= s->next_ping_at) {
        s->awaiting_pong = true;
        /* From the scheduled ping time, not from when the timer ran: the
         * session ends at exactly pingInterval + pingTimeout without a pong,
         * even on a busy loop. */
        s->pong_deadline = s->next_ping_at + s->srv->cfg.ping_timeout_ms;
        if (send_control(s, YM_EIO_PING) != 0)
            return;
    }
    arm_timer(s);
}

static void arm_timer(ym_eio_session_t *s)
{
    uint64_t at = s->awaiting_pong ? s->pong_deadline : s->next_ping_at;
    if (s->upgrading && s->upgrade_deadline < at)
        at = s->upgrade_deadline;
    heap_set(s, at);
}

static void server_timer_cb(uv_timer_t *t)
{
    ym_eio_server_t *srv = t->data;
    uint64_t now = now_ms(srv);
    /* Each due session leaves the heap and goes back in (arm_timer) with a
     * later deadline, or is closed; one that is due again at once (a pong
     * deadline already past after a ping) is closed on its next turn, so the
     * loop ends. */
    while (srv->heap_len > 0 && srv->heap[0]->due <= now) {
        ym_eio_session_t *s = srv->heap[0];
        heap_remove(s);
        session_timer(s, now);
    }
    heap_rearm(srv);
}

/* Requests check the pong deadline themselves, so a session is gone exactly at
 * its deadline even if the timer has not run yet in this loop pass. */
static bool expired(ym_eio_session_t *s)
{
    uint64_t now = now_ms(s->srv);
    /* A ping that is due but whose timer has not run yet counts as sent. */
    uint64_t deadline = s->awaiting_pong ? s->pong_deadline : s->next_ping_at + s->srv->cfg.ping_timeout_ms;
    if (now >= deadline) {
        session_close(s, "ping timeout", "1");
        return true;
    }
    return false;
}

/* ---------- packets from the client ---------- */

/* Returns false once the session is closing (stop delivering). */
static bool handle_packet(ym_eio_session_t *s, const ym_eio_frame_t *f)
{
    ym_eio_server_t *srv = s->srv;
    switch (f->type) {
    case YM_EIO_MESSAGE:
        if (srv->h.on_message)
            srv->h.on_message(s, f->data, f->len, f->binary, srv->h.ud);
        break;
    case YM_EIO_PONG:
        if (s->awaiting_pong) {
            s->awaiting_pong = false;
            s->next_ping_at = now_ms(srv) + srv->cfg.ping_interval_ms;
            arm_timer(s);
        }
        break;
    case YM_EIO_CLOSE:
        session_close(s, "client close", "6");
        break;
    case YM_EIO_NOOP:
    case YM_EIO_UPGRADE:
        /* Harmless outside an upgrade; Node ignores them too. */
        break;
    case YM_EIO_PING: /* EIO4: only the server pings (except "2probe", handled on the probe) */
    case YM_EIO_OPEN:
    default:
        session_close(s, "parse error", "1");
        break;
    }
    return s->state == S_OPEN;
}

/* ---------- sessions ---------- */

static ym_eio_session_t *session_new(ym_eio_server_t *srv, ym_http_req_t *req, int transport)
{
    ym_eio_session_t *s = ym_xcalloc(1, sizeof(*s));
    s->srv = srv;
    s->transport = (uint8_t)transport;
    do
        ym_random_id(s->sid);
    while (table_find(srv, s->sid));
    snprintf(s->peer, sizeof(s->peer), "%s", ym_conn_peer(req->conn));
    s->next_ping_at = now_ms(srv) + srv->cfg.ping_interval_ms;
    table_add(srv, s);
    arm_timer(s);
    return s;
}

static void open_packet(ym_eio_server_t *srv, ym_eio_session_t *s, ym_buf_t *out)
{
    ym_eio_open_packet(out, s->sid, s->transport == T_POLLING && !srv->cfg.disable_websocket,
                       srv->cfg.ping_interval_ms, srv->cfg.ping_timeout_ms, srv->cfg.max_payload);
}

static void session_opened(ym_eio_session_t *s)
{
    ym_eio_server_t *srv = s->srv;
    s->opened = true;
    if (srv->h.on_open)
        srv->h.on_open(s, srv->h.ud);
}

/* ---------- WebSocket transport ---------- */

static void ws_on_message(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud);
static void ws_on_close(ym_ws_t *ws, int code, void *ud);

static const ym_ws_handlers_t k_ws_handlers = {
    .on_message = ws_on_message,
    .on_close = ws_on_close,
};

static void ws_send_text(ym_ws_t *ws, const char *text, size_t len)
{
    ym_rbuf_t *r = ym_ws_frame_build(YM_WS_OP_TEXT, text, len);
    ym_ws_send_frame(ws, r);
    ym_rbuf_unref(r);
}

static void finish_upgrade(ym_eio_session_t *s)
{
    s->ws = s->probe;
    s->probe = NULL;
    s->upgrading = false;
    s->transport = T_WEBSOCKET;
    /* A GET that slipped in is told to stop polling. */
    if (s->get) {
        ym_http_req_t *req = s->get;
        s->get = NULL;
        respond_body(s, req, "6", 1);
    }
    for (uint32_t i = 0; i < s->qlen; i++)
        ws_send_packet(s, s->ws, s->queue[i]);
    queue_clear(s);
    free(s->queue);
    s->queue = NULL;
    s->qcap = 0;
    arm_timer(s);
    ym_log_debug("eio %s: upgraded to websocket", s->sid);
}

static void probe_message(ym_eio_session_t *s, ym_ws_t *ws, const char *data, size_t len, bool binary)
{
    ym_eio_frame_t f;
    if (!binary && ym_eio_packet_decode(data, len, &f) == 0) {
        if (f.type == YM_EIO_PING && f.len == 5 && memcmp(f.data, "probe", 5) == 0) {
            ws_send_text(ws, "3probe", 6);
            return;
        }
        if (f.type == YM_EIO_UPGRADE && f.len == 0) {
            finish_upgrade(s);
            return;
        }
    }
    /* Anything else on a probe fails the upgrade, not the session. */
    s->probe = NULL;
    s->upgrading = false;
    ym_ws_set_userdata(ws, NULL);
    ym_ws_close(ws, YM_WS_CLOSE_PROTOCOL, NULL);
    arm_timer(s);
}

static void ws_on_message(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud)
{
    ym_eio_session_t *s = ym_ws_userdata(ws);
    (void)ud;
    if (!s || s->state != S_OPEN)
        return;
    if (ws == s->probe) {
        probe_message(s, ws, data, len, binary);
        return;
    }
    if (ws != s->ws)
        return;
    ym_eio_frame_t f;
    if (binary) {
        f.type = YM_EIO_MESSAGE;
        f.binary = true;
        f.data = data;
        f.len = len;
    } else if (ym_eio_packet_decode(data, len, &f) != 0) {
        session_close(s, "parse error", "1");
        return;
    }
    handle_packet(s, &f);
}

static void ws_on_close(ym_ws_t *ws, int code, void *ud)
{
    ym_eio_session_t *s = ym_ws_userdata(ws);
    (void)ud;
    (void)code;
    if (!s)
        return;
    if (ws == s->probe) {
        s->probe = NULL;
        s->upgrading = false;
        if (s->state == S_OPEN)
            arm_timer(s);
        return;
    }
    if (ws == s->ws) {
        s->ws = NULL;
        session_close(s, "transport close", "1");
    }
}

static ym_http_result_t handle_websocket(ym_eio_server_t *srv, ym_http_req_t *req, const char *sid)
{
    if (srv->cfg.disable_websocket)
        return respond_code(srv, req, 400, 0, "Transport unknown");
    if (!origin_allowed(srv, req)) {
        ym_http_respond_error(req, 403, "origin not allowed");
        return YM_HTTP_DONE;
    }
    ym_eio_session_t *s = NULL;
    if (sid) {
        s = table_find(srv, sid);
        if (!s || expired(s))
            return respond_code(srv, req, 400, 1, "Session ID unknown");
        /* One upgrade per session: a second WebSocket (or one after the
         * upgrade) is refused, the first keeps working. */
        if (s->transport != T_POLLING || s->upgrading)
            return respond_code(srv, req, 400, 3, "Bad request");
    }
    /* ym_ws_accept checks the handshake itself and answers a bad one. */
    ym_ws_config_t wcfg = { .max_message_bytes = srv->cfg.max_payload };
    if (s) {
        ym_ws_t *ws = ym_ws_accept(req, &k_ws_handlers, s, &wcfg);
        if (!ws)
            return YM_HTTP_DONE;
        s->probe = ws;
        s->upgrading = true;
        s->upgrade_deadline = uv_now(srv->loop) + srv->cfg.upgrade_timeout_ms;
        arm_timer(s);
        /* The client waits for its pending GET before sending "5": release it. */
        if (s->get) {
            ym_http_req_t *g = s->get;
            s->get = NULL;
            respond_body(s, g, "6", 1);
        }
        return YM_HTTP_DONE;
    }
    /* The session exists first: the request (and its peer address) is gone
     * once the upgrade is done. */
    s = session_new(srv, req, T_WEBSOCKET);
    ym_ws_t *ws = ym_ws_accept(req, &k_ws_handlers, s, &wcfg);
    if (!ws) {
        session_close(s, "transport error", NULL); /* never opened: no on_close */
        return YM_HTTP_DONE;
    }
    s->ws = ws;
    ym_buf_t open = YM_BUF_INIT;
    open_packet(srv, s, &open);
    ws_send_text(ws, open.data, open.len);
    ym_buf_free(&open);
    session_opened(s);
    return YM_HTTP_DONE;
}

/* ---------- polling transport ---------- */

static void get_abort(ym_http_req_t *req, void *ud)
{
    ym_eio_session_t *s = ud;
    if (s->get != req)
        return;
    s->get = NULL;
    session_close(s, "transport close", NULL);
}

static ym_http_result_t handle_get(ym_eio_session_t *s, ym_http_req_t *req)
{
    if (s->get) {
        /* Two concurrent polls: the client is broken or two tabs share a sid. */
        respond_code(s->srv, req, 400, 3, "Bad request");
        session_close(s, "transport error", "1");
        return YM_HTTP_DONE;
    }
    if (s->upgrading) {
        respond_body(s, req, "6", 1);
        return YM_HTTP_DONE;
    }
    if (s->qlen > 0) {
        s->get = req;
        flush_get(s, NULL);
        return YM_HTTP_DONE;
    }
    s->get = req;
    ym_http_hold(req, get_abort, s);
    return YM_HTTP_HELD;
}

static ym_http_result_t handle_post(ym_eio_session_t *s, ym_http_req_t *req)
{
    ym_eio_server_t *srv = s->srv;
    ym_str_t ct = ym_http_header(req, "Content-Type");
    if (ct.p && ct.len >= 24 && ym_str_case_eq((ym_str_t){ ct.p, 24 }, YM_STR("application/octet-stream"))) {
        /* EIO4 carries binary as base64 inside text payloads only. */
        respond_code(srv, req, 400, 3, "Bad request");
        session_close(s, "transport error", "1");
        return YM_HTTP_DONE;
    }
    if (req->body_len > srv->cfg.max_payload) {
        ym_http_respond_error(req, 413, "payload too large");
        session_close(s, "transport error", "1");
        return YM_HTTP_DONE;
    }
    if (ym_eio_payload_check(req->body, req->body_len, srv->cfg.max_payload) < 0) {
        respond_code(srv, req, 400, 3, "Bad request");
        session_close(s, "parse error", "1");
        return YM_HTTP_DONE;
    }
    ym_buf_t scratch = YM_BUF_INIT;
    size_t off = 0;
    ym_eio_frame_t f;
    while (ym_eio_payload_next(req->body, req->body_len, &off, &scratch, &f) == 1)
        if (!handle_packet(s, &f))
            break;
    ym_buf_free(&scratch);
    char hdr[512];
    cors_headers(srv, req, hdr, sizeof(hdr));
    ym_http_respond(req, 200, "text/html", "ok", 2, hdr[0] ? hdr : NULL);
    return YM_HTTP_DONE;
}

static ym_http_result_t handle_polling(ym_eio_server_t *srv, ym_http_req_t *req, const char *sid)
{
    bool is_get = ym_str_eq_lit(req->method, "GET") || ym_str_eq_lit(req->method, "HEAD");
    bool is_post = ym_str_eq_lit(req->method, "POST");
    if (!sid) {
        if (!is_get || req->head)
            return respond_code(srv, req, 400, 2, "Bad handshake method");
        if (srv->cfg.disable_polling)
            return respond_code(srv, req, 400, 0, "Transport unknown");
        ym_eio_session_t *s = session_new(srv, req, T_POLLING);
        ym_buf_t open = YM_BUF_INIT;
        open_packet(srv, s, &open);
        respond_body(s, req, open.data, open.len);
        ym_buf_free(&open);
        session_opened(s);
        return YM_HTTP_DONE;
    }
    ym_eio_session_t *s = table_find(srv, sid);
    if (!s || expired(s))
        return respond_code(srv, req, 400, 1, "Session ID unknown");
    if (s->transport != T_POLLING)
        return respond_code(srv, req, 400, 3, "Bad request");
    if (is_get && !req->head)
        return handle_get(s, req);
    if (is_post)
        return handle_post(s, req);
    return respond_code(srv, req, 400, 2, "Bad handshake method");
}

/* ---------- routing ---------- */

static ym_http_result_t eio_route(ym_http_req_t *req, void *ud)
{
    ym_eio_server_t *srv = ud;
    if (req->path.len != strlen(srv->path) || memcmp(req->path.p, srv->path, req->path.len) != 0) {
        /* Also accept the path without its trailing slash ("/engine.io"). */
        size_t pl = strlen(srv->path);
        if (!(pl > 1 && srv->path[pl - 1] == '/' && req->path.len == pl - 1 &&
              memcmp(req->path.p, srv->path, pl - 1) == 0))
            return YM_HTTP_NEXT;
    }
    if (srv->freeing || srv->shutting_down)
        return respond_code(srv, req, 503, 4, "Server shutting down");
    if (ym_str_eq_lit(req->method, "OPTIONS")) {
        char hdr[512];
        cors_headers(srv, req, hdr, sizeof(hdr));
        if (!hdr[0])
            return respond_code(srv, req, 400, 2, "Bad handshake method");
        size_t n = strlen(hdr);
        snprintf(hdr + n, sizeof(hdr) - n, "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                 "Access-Control-Allow-Headers: Content-Type\r\n");
        ym_http_respond(req, 204, NULL, NULL, 0, hdr);
        return YM_HTTP_DONE;
    }
    char transport[16], eio[8], sid[32];
    ssize_t tl = ym_http_query(req, "transport", transport, sizeof(transport));
    bool polling = tl >= 0 && strcmp(transport, "polling") == 0;
    bool websocket = tl >= 0 && strcmp(transport, "websocket") == 0;
    if (!polling && !websocket)
        return respond_code(srv, req, 400, 0, "Transport unknown");
    ssize_t el = ym_http_query(req, "EIO", eio, sizeof(eio));
    if (el != 1 || eio[0] != '4')
        return respond_code(srv, req, 400, 5, "Unsupported protocol version");
    ssize_t sl = ym_http_query(req, "sid", sid, sizeof(sid));
    const char *sidp = sl > 0 ? sid : NULL;
    if (sl == 0 || (sl < 0 && ym_http_header_count(req, "sid") > 0))
        return respond_code(srv, req, 400, 1, "Session ID unknown");
    ym_str_t upgrade = ym_http_header(req, "Upgrade");
    bool is_upgrade = upgrade.p && ym_str_case_eq(upgrade, YM_STR("websocket"));
    if (websocket) {
        if (!is_upgrade)
            return respond_code(srv, req, 400, 3, "Bad request");
        return handle_websocket(srv, req, sidp);
    }
    if (is_upgrade)
        return respond_code(srv, req, 400, 3, "Bad request");
    return handle_polling(srv, req, sidp);
}

/* ---------- server ---------- */

ym_eio_server_t *ym_eio_server_new(uv_loop_t *loop, ym_http_server_t *http, const ym_eio_config_t *cfg,
                                   const ym_eio_handlers_t *h)
{
    if (!cfg || !cfg->path || cfg->path[0] != '/' || (cfg->disable_polling && cfg->disable_websocket))
        return NULL;
    ym_eio_server_t *srv = ym_xcalloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->http = http;
    srv->cfg = *cfg;
    srv->path = ym_xstrdup(cfg->path);
    srv->cfg.path = srv->path;
    if (!srv->cfg.ping_interval_ms)
        srv->cfg.ping_interval_ms = 25000;
    if (!srv->cfg.ping_timeout_ms)
        srv->cfg.ping_timeout_ms = 20000;
    if (!srv->cfg.upgrade_timeout_ms)
        srv->cfg.upgrade_timeout_ms = 10000;
    if (!srv->cfg.max_payload)
        srv->cfg.max_payload = 1000000;
    if (!srv->cfg.max_send_backlog)
        srv->cfg.max_send_backlog = 4u << 20;
    if (h)
        srv->h = *h;
    srv->nbuckets = 64;
    srv->buckets = ym_xcalloc(srv->nbuckets, sizeof(*srv->buckets));
    srv->close_tail = &srv->close_head;
    uv_idle_init(loop, &srv->idle);
    srv->idle.data = srv;
    uv_timer_init(loop, &srv->timer);
    srv->timer.data = srv;
    srv->handles = 2;
    /* The route prefix without the trailing slash also catches "/engine.io". */
    size_t pl = strlen(srv->path);
    char *prefix = ym_xstrndup(srv->path, pl > 1 && srv->path[pl - 1] == '/' ? pl - 1 : pl);
    ym_http_route(http, prefix, srv->cfg.max_payload, eio_route, srv);
    free(prefix);
    return srv;
}

static void idle_closed_cb(uv_handle_t *h)
{
    ym_eio_server_t *srv = h->data;
    if (--srv->handles == 0) {
        free(srv->heap);
        free(srv->buckets);
        free(srv->path);
        free(srv);
    }
}

static void close_all(ym_eio_server_t *srv)
{
    for (size_t i = 0; i < srv->nbuckets; i++)
        while (srv->buckets[i])
            session_close(srv->buckets[i], "server shutting down", "1");
}

void ym_eio_server_shutdown(ym_eio_server_t *srv)
{
    if (!srv)
        return;
    srv->shutting_down = true;
    close_all(srv);
}

void ym_eio_server_free(ym_eio_server_t *srv)
{
    if (!srv)
        return;
    close_all(srv);
    run_flushes(srv);
    run_closes(srv);
    srv->freeing = true;
    uv_idle_stop(&srv->idle);
    uv_close((uv_handle_t *)&srv->idle, idle_closed_cb);
    uv_close((uv_handle_t *)&srv->timer, idle_closed_cb);
}

/* ---------- accessors ---------- */

void ym_eio_session_set_data(ym_eio_session_t *s, void *d) { s->data = d; }
void *ym_eio_session_data(const ym_eio_session_t *s) { return s->data; }
const char *ym_eio_session_id(const ym_eio_session_t *s) { return s->sid; }
const char *ym_eio_session_transport(const ym_eio_session_t *s)
{
    return s->transport == T_WEBSOCKET ? "websocket" : "polling";
}
const char *ym_eio_session_peer(const ym_eio_session_t *s) { return s->peer; }
bool ym_eio_session_poll_held(const ym_eio_session_t *s) { return s->get != NULL; }
size_t ym_eio_session_count(const ym_eio_server_t *srv) { return srv->count; }
ym_eio_server_t *ym_eio_session_server(const ym_eio_session_t *s) { return s->srv; }
