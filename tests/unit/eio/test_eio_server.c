/* The Engine.IO server on a real ym_http server over loopback, driven by a
 * small raw-HTTP client on the same loop: session lifecycle and callbacks
 * (on_close exactly once, deferred), CORS allowlist, WebSocket Origin check,
 * shared packets, the send-backlog cap, shutdown answering held polls, and a
 * clean loop at the end (every handle closed). */
#include "eio/ym_eio.h"
#include "test.h"
#include "ws/ym_ws_frame.h"

#include <errno.h>

static uv_loop_t *loop;
static ym_http_server_t *http;
static ym_eio_server_t *eio;
static int port;

/* ---- callbacks under test ---- */

static int opened, closed, messages;
static bool any_closed;
static char last_close_reason[64];
static ym_eio_session_t *last_session;
static bool in_handler;             /* on_close must never run inside a handler */
static ym_eio_packet_t *shared_pkt; /* "4shared" sent on "4broadcast" */
static ym_eio_session_t *sessions[4];
static int nsessions;

static void on_open(ym_eio_session_t *s, void *ud)
{
    (void)ud;
    opened++;
    last_session = s;
    if (nsessions < 4)
        sessions[nsessions++] = s;
    ASSERT(strcmp(ym_eio_session_transport(s), "polling") == 0 || strcmp(ym_eio_session_transport(s), "websocket") == 0);
    ASSERT_EQ(strlen(ym_eio_session_id(s)), 20);
    ASSERT(strncmp(ym_eio_session_peer(s), "127.0.0.1:", 10) == 0);
}

static void on_message(ym_eio_session_t *s, const char *data, size_t len, bool binary, void *ud)
{
    (void)ud;
    in_handler = true;
    messages++;
    if (len == 3 && memcmp(data, "bye", 3) == 0) {
        ym_eio_close(s, "bye");
        ASSERT_EQ(closed, 0); /* deferred */
        ASSERT_EQ(ym_eio_send(s, "late", 4, false), -EPIPE);
    } else if (len == 9 && memcmp(data, "broadcast", 9) == 0) {
        for (int i = 0; i < nsessions; i++)
            ASSERT_EQ(ym_eio_send_packet(sessions[i], shared_pkt), 0);
    } else if (len == 5 && memcmp(data, "cross", 5) == 0) {
        /* Both sessions go on the flush list, then this one closes: the other
         * must still be flushed (the lists must not get tangled). */
        ym_eio_session_t *other = sessions[0] == s ? sessions[1] : sessions[0];
        ASSERT_EQ(ym_eio_send(other, "for-other", 9, false), 0);
        ASSERT_EQ(ym_eio_send(s, "for-me", 6, false), 0);
        ym_eio_close(s, "cross");
    } else if (len == 5 && memcmp(data, "flood", 5) == 0) {
        static char big[200];
        memset(big, 'x', sizeof big);
        ASSERT_EQ(ym_eio_send(s, big, sizeof big, false), 0);
        ASSERT_EQ(ym_eio_send(s, big, sizeof big, false), -ENOBUFS); /* cap is 300 bytes */
    } else {
        ym_eio_send(s, data, len, binary);
    }
    in_handler = false;
}

static void on_close(ym_eio_session_t *s, const char *reason, void *ud)
{
    (void)ud;
    (void)s;
    ASSERT(!in_handler);
    closed++;
    any_closed = true;
    snprintf(last_close_reason, sizeof last_close_reason, "%s", reason);
    for (int i = 0; i < nsessions; i++)
        if (sessions[i] == s)
            sessions[i] = sessions[--nsessions];
}

/* ---- a raw HTTP/1.1 client on the loop ---- */

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t cr;
    uv_write_t wr;
    char *req;
    ym_buf_t in;
    bool done;       /* a whole response arrived */
    bool closed;     /* handle closed */
    bool keep_open;  /* read on after the head until the server closes (101) */
    int status;
    const char *body;
    size_t body_len;
    size_t head_len;
} client_t;

static void client_close_cb(uv_handle_t *h)
{
    client_t *c = h->data;
    c->closed = true;
}

static void client_parse(client_t *c)
{
    if (c->done)
        return;
    ym_buf_reserve(&c->in, 1);
    c->in.data[c->in.len] = '\0';
    char *end = strstr(c->in.data, "\r\n\r\n");
    if (!end)
        return;
    c->head_len = (size_t)(end - c->in.data) + 4;
    c->status = atoi(c->in.data + 9);
    size_t cl = 0;
    const char *h = strcasestr(c->in.data, "\r\nContent-Length: ");
    if (h && h < end)
        cl = (size_t)strtoul(h + 18, NULL, 10);
    if (c->in.len < c->head_len + cl)
        return;
    c->body = c->in.data + c->head_len;
    c->body_len = cl;
    c->done = true;
    if (!c->keep_open)
        uv_close((uv_handle_t *)&c->tcp, client_close_cb);
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    client_t *c = h->data;
    (void)sz;
    ym_buf_reserve(&c->in, 65536);
    *b = uv_buf_init(c->in.data + c->in.len, 65535 - 1);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    client_t *c = s->data;
    (void)b;
    if (n > 0) {
        c->in.len += (size_t)n;
        client_parse(c);
    } else if (n < 0 && !uv_is_closing((uv_handle_t *)s)) {
        uv_close((uv_handle_t *)s, client_close_cb);
    }
}

static void write_cb(uv_write_t *w, int status)
{
    (void)w;
    ASSERT_EQ(status, 0);
}

static void connect_cb(uv_connect_t *cr, int status)
{
    client_t *c = cr->data;
    ASSERT_EQ(status, 0);
    uv_buf_t b = uv_buf_init(c->req, (unsigned)strlen(c->req));
    uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void client_start(client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_start(client_t *c, const char *fmt, ...)
{
    memset(c, 0, sizeof *c);
    ym_buf_t r = YM_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ym_buf_vappendf(&r, fmt, ap);
    va_end(ap);
    ym_buf_append_byte(&r, '\0');
    c->req = r.data;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->cr.data = c;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    ASSERT_EQ(uv_tcp_connect(&c->cr, &c->tcp, (const struct sockaddr *)&sa, connect_cb), 0);
}

static void client_free(client_t *c)
{
    ASSERT(c->closed);
    free(c->req);
    ym_buf_free(&c->in);
}

static void client_write_cb(uv_write_t *w, int status)
{
    ASSERT_EQ(status, 0);
    free(w->data);
    free(w);
}

/* Sends bytes on an open client connection (e.g. WebSocket frames). */
static void client_write(client_t *c, const void *p, size_t n)
{
    uv_write_t *w = ym_xmalloc(sizeof *w);
    w->data = ym_xmalloc(n);
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    ASSERT_EQ(uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, client_write_cb), 0);
}

static bool timed_out;
static void guard_cb(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
}

/* Runs the loop until *flag, failing the test after 5 s. */
static void run_until(const bool *flag)
{
    uv_timer_t guard;
    timed_out = false;
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, guard_cb, 5000, 0);
    while (!*flag && !timed_out)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (timed_out)
        TEST_FAIL_("timed out waiting");
}

/* Runs the loop until done(arg), failing the test after 5 s. */
static void run_until_fn(bool (*done)(const void *), const void *arg)
{
    uv_timer_t guard;
    timed_out = false;
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, guard_cb, 5000, 0);
    while (!done(arg) && !timed_out)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (timed_out)
        TEST_FAIL_("timed out waiting");
}

static bool poll_held(const void *s) { return ym_eio_session_poll_held(s); }

/* Runs the loop until the server holds a long-poll GET of s. (A fixed 50 ms
 * wait let a descheduled test act before its GET had reached the server.) */
static void wait_held(const ym_eio_session_t *s)
{
    run_until_fn(poll_held, s);
}

/* One request, whole response; returns the status, copies the body into body. */
static int request(char *body, size_t cap, char *headers, size_t hcap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int request(char *body, size_t cap, char *headers, size_t hcap, const char *fmt, ...)
{
    client_t c;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    client_start(&c, "%s", buf);
    run_until(&c.done);
    run_until(&c.closed);
    int st = c.status;
    if (body)
        snprintf(body, cap, "%.*s", (int)c.body_len, c.body);
    if (headers)
        snprintf(headers, hcap, "%.*s", (int)c.head_len, c.in.data);
    client_free(&c);
    return st;
}

#define GET(q) "GET /engine.io/?" q " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

static void handshake(char sid[21])
{
    char body[512];
    ASSERT_EQ(request(body, sizeof body, NULL, 0, GET("EIO=4&transport=polling")), 200);
    ASSERT(strncmp(body, "0{\"sid\":\"", 9) == 0);
    memcpy(sid, body + 9, 20);
    sid[20] = '\0';
}

static int post(const char *sid, const char *payload, char *body, size_t cap)
{
    return request(body, cap, NULL, 0,
                   "POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: %zu\r\n\r\n%s",
                   sid, strlen(payload), payload);
}

static int poll_get(const char *sid, char *body, size_t cap)
{
    return request(body, cap, NULL, 0,
                   "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", sid);
}

static const char *const origins[] = { "https://ok.example", NULL };

static void setup(size_t backlog, uint32_t upgrade_timeout_ms)
{
    loop = ym_xmalloc(sizeof *loop);
    ASSERT_EQ(uv_loop_init(loop), 0);
    ym_http_config_t hc = { .quiet = true };
    ym_net_config_t nc = { 0 };
    ASSERT_EQ(ym_http_server_new(loop, "127.0.0.1", 0, &hc, &nc, &http), 0);
    port = ym_http_server_port(http);
    ym_eio_config_t cfg = {
        .path = "/engine.io/",
        .ping_interval_ms = 60000,  /* no heartbeat traffic in these tests */
        .ping_timeout_ms = 60000,
        .max_payload = 10000,
        .max_send_backlog = backlog,
        .upgrade_timeout_ms = upgrade_timeout_ms,
        .cors_origins = origins,
    };
    ym_eio_handlers_t h = { on_open, on_message, on_close, NULL };
    eio = ym_eio_server_new(loop, http, &cfg, &h);
    ASSERT(eio != NULL);
    opened = closed = messages = nsessions = 0;
    any_closed = false;
    last_close_reason[0] = '\0';
}

static bool http_done;
static void http_done_cb(void *ud)
{
    (void)ud;
    http_done = true;
}

static void teardown(void)
{
    ym_eio_server_shutdown(eio);
    http_done = false;
    ym_http_server_shutdown(http, 2000, http_done_cb, NULL);
    run_until(&http_done);
    ym_eio_server_free(eio);
    ym_http_server_free(http);
    uv_run(loop, UV_RUN_DEFAULT);     /* let every handle close */
    ASSERT_EQ(uv_loop_close(loop), 0);
    free(loop);
}

TEST(lifecycle_and_deferred_close)
{
    setup(0, 0);
    char sid[21], body[512];
    handshake(sid);
    ASSERT_EQ(opened, 1);
    ASSERT_EQ(ym_eio_session_count(eio), 1);
    ASSERT_EQ(post(sid, "4hi\x1e" "bAQI=", body, sizeof body), 200);
    ASSERT_STR_EQ(body, "ok");
    ASSERT_EQ(messages, 2);
    ASSERT_EQ(poll_get(sid, body, sizeof body), 200);
    ASSERT_STR_EQ(body, "4hi\x1e" "bAQI=");
    /* Closing from inside on_message: on_close comes later, exactly once. */
    ASSERT_EQ(post(sid, "4bye", body, sizeof body), 200);
    ASSERT_EQ(closed, 1);
    ASSERT_STR_EQ(last_close_reason, "bye");
    ASSERT_EQ(ym_eio_session_count(eio), 0);
    ASSERT_EQ(poll_get(sid, body, sizeof body), 400);
    ASSERT_STR_EQ(body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
    teardown();
    ASSERT_EQ(closed, 1);
}

TEST(cors_allowlist)
{
    setup(0, 0);
    char hdr[1024];
    ASSERT_EQ(request(NULL, 0, hdr, sizeof hdr,
                      "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: https://ok.example\r\n"
                      "Connection: close\r\n\r\n"), 200);
    ASSERT(strstr(hdr, "\r\nAccess-Control-Allow-Origin: https://ok.example\r\n") != NULL);
    ASSERT(strstr(hdr, "\r\nAccess-Control-Allow-Credentials: true\r\n") != NULL);
    ASSERT_EQ(request(NULL, 0, hdr, sizeof hdr,
                      "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                      "Connection: close\r\n\r\n"), 200);
    ASSERT(strstr(hdr, "Access-Control-Allow-Origin") == NULL);
    /* Preflight. */
    ASSERT_EQ(request(NULL, 0, hdr, sizeof hdr,
                      "OPTIONS /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: https://ok.example\r\n"
                      "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"), 204);
    ASSERT(strstr(hdr, "\r\nAccess-Control-Allow-Methods: GET, POST, OPTIONS\r\n") != NULL);
    ASSERT_EQ(request(NULL, 0, NULL, 0,
                      "OPTIONS /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                      "Connection: close\r\n\r\n"), 400);
    /* Cross-site WebSocket hijacking: a foreign Origin gets no 101. */
    ASSERT_EQ(request(NULL, 0, NULL, 0,
                      "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"), 403);
    ASSERT_EQ(opened, 2);
    teardown();
    ASSERT_EQ(closed, 2);
    ASSERT_STR_EQ(last_close_reason, "server shutting down");
}

TEST(shared_packet_to_two_sessions)
{
    setup(0, 0);
    char a[21], b[21], body[512];
    handshake(a);
    handshake(b);
    shared_pkt = ym_eio_packet_new("shared", 6, false);
    ASSERT_EQ(post(a, "4broadcast", body, sizeof body), 200);
    ym_eio_packet_unref(shared_pkt); /* the sessions hold their own references */
    ASSERT_EQ(poll_get(a, body, sizeof body), 200);
    ASSERT_STR_EQ(body, "4shared");
    ASSERT_EQ(poll_get(b, body, sizeof body), 200);
    ASSERT_STR_EQ(body, "4shared");
    teardown();
}

TEST(send_backlog_cap_drops_the_session)
{
    setup(300, 0);
    char sid[21], body[512];
    handshake(sid);
    ASSERT_EQ(post(sid, "4flood", body, sizeof body), 200);
    ASSERT_EQ(closed, 1);
    ASSERT_STR_EQ(last_close_reason, "send backlog");
    ASSERT_EQ(poll_get(sid, body, sizeof body), 400);
    teardown();
}

TEST(held_poll_answered_on_send_and_on_shutdown)
{
    setup(0, 0);
    char sid[21], body[512];
    handshake(sid);
    client_t c;
    client_start(&c, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", sid);
    wait_held(last_session);
    ASSERT(!c.done); /* held */
    ASSERT_EQ(ym_eio_send(last_session, "one", 3, false), 0);
    ASSERT_EQ(ym_eio_send(last_session, "two", 3, false), 0);
    run_until(&c.done);
    ASSERT_MEM_EQ(c.body, c.body_len, "4one\x1e" "4two", 9); /* both in one response */
    run_until(&c.closed);
    client_free(&c);
    /* A held poll is answered with a close packet when the server shuts down. */
    client_start(&c, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", sid);
    wait_held(last_session);
    ASSERT(!c.done);
    ym_eio_server_shutdown(eio);
    run_until(&c.done);
    ASSERT_EQ(c.status, 200);
    ASSERT_MEM_EQ(c.body, c.body_len, "1", 1);
    run_until(&c.closed);
    client_free(&c);
    ASSERT_EQ(request(body, sizeof body, NULL, 0, GET("EIO=4&transport=polling")), 503);
    teardown();
    ASSERT_EQ(closed, 1);
}

TEST(bad_requests)
{
    setup(0, 0);
    char body[512];
    ASSERT_EQ(request(body, sizeof body, NULL, 0, GET("EIO=4&transport=websocket")), 400); /* not an upgrade */
    ASSERT_EQ(request(body, sizeof body, NULL, 0, GET("EIO=4&transport=polling&sid=")), 400);
    ASSERT_EQ(request(body, sizeof body, NULL, 0, GET("EIO=4&transport=polling&EIO=4")), 200);
    char sid[21];
    handshake(sid);
    /* Malformed payloads close the session. */
    ASSERT_EQ(post(sid, "4ok\x1e", body, sizeof body), 400);
    ASSERT_STR_EQ(last_close_reason, "parse error");
    handshake(sid);
    ASSERT_EQ(post(sid, "2", body, sizeof body), 200); /* client ping: wrong direction */
    ASSERT_STR_EQ(last_close_reason, "parse error");
    ASSERT_EQ(poll_get(sid, body, sizeof body), 400);
    teardown();
}

TEST(upgrade_timeout_keeps_polling)
{
    setup(0, 100);
    char sid[21], body[512];
    handshake(sid);
    client_t g, w;
    client_start(&g, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", sid);
    wait_held(last_session);
    ASSERT(!g.done);
    client_start(&w, "GET /engine.io/?EIO=4&transport=websocket&sid=%s HTTP/1.1\r\nHost: x\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", sid);
    w.keep_open = true;
    run_until(&w.done);
    ASSERT_EQ(w.status, 101);
    /* The probe releases the held poll with a noop. */
    run_until(&g.done);
    ASSERT_MEM_EQ(g.body, g.body_len, "6", 1);
    run_until(&g.closed);
    client_free(&g);
    /* No "2probe"/"5" within 100 ms: the probe gets a close frame and goes. */
    run_until(&w.closed);
    ASSERT(w.in.len > w.head_len);
    ASSERT_EQ((unsigned char)w.in.data[w.head_len], 0x88);
    client_free(&w);
    /* The session itself is still there, on polling. */
    ASSERT_EQ(closed, 0);
    ASSERT_EQ(post(sid, "4still", body, sizeof body), 200);
    ASSERT_EQ(poll_get(sid, body, sizeof body), 200);
    ASSERT_STR_EQ(body, "4still");
    teardown();
}

TEST(close_while_flush_pending)
{
    setup(0, 0);
    char a[21], b[21], body[512];
    handshake(a);
    handshake(b);
    client_t ga, gb;
    client_start(&gb, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b);
    client_start(&ga, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", a);
    wait_held(sessions[0]);
    wait_held(sessions[1]);
    ASSERT(!ga.done && !gb.done);
    ASSERT_EQ(post(a, "4cross", body, sizeof body), 200);
    run_until(&gb.done);
    ASSERT_MEM_EQ(gb.body, gb.body_len, "4for-other", 10);
    run_until(&ga.done);
    ASSERT_MEM_EQ(ga.body, ga.body_len, "4for-me\x1e" "1", 9); /* queued data, then the close packet */
    run_until(&ga.closed);
    run_until(&gb.closed);
    client_free(&ga);
    client_free(&gb);
    ASSERT_EQ(closed, 1);
    ASSERT_STR_EQ(last_close_reason, "cross");
    teardown();
}

static bool open_frame_arrived(const void *arg)
{
    const client_t *c = arg;
    return c->in.len > c->head_len + 2;
}

TEST(websocket_send_backlog_cap)
{
    setup(300, 0);
    client_t w;
    client_start(&w, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    w.keep_open = true;
    run_until(&w.done);
    ASSERT_EQ(w.status, 101);
    ASSERT_EQ(opened, 1);
    /* The open packet is the first frame. */
    run_until_fn(open_frame_arrived, &w);
    ASSERT(w.in.len > w.head_len + 2);
    ASSERT_EQ((unsigned char)w.in.data[w.head_len], 0x81);
    ASSERT_EQ(w.in.data[w.head_len + 2], '0');
    ym_buf_t f = YM_BUF_INIT;
    static const uint8_t mask[4] = { 1, 2, 3, 4 };
    ym_ws_frame_append_masked(&f, YM_WS_OP_TEXT, true, 0, mask, "4flood", 6);
    client_write(&w, f.data, f.len);
    ym_buf_free(&f);
    /* Two 200-byte messages in one pass exceed the 300-byte cap. */
    run_until(&any_closed);
    ASSERT_STR_EQ(last_close_reason, "send backlog");
    ASSERT_EQ(messages, 1);
    run_until(&w.closed);
    client_free(&w);
    teardown();
}

int main(void)
{
    RUN(lifecycle_and_deferred_close);
    RUN(cors_allowlist);
    RUN(shared_packet_to_two_sessions);
    RUN(send_backlog_cap_drops_the_session);
    RUN(held_poll_answered_on_send_and_on_shutdown);
    RUN(bad_requests);
    RUN(upgrade_timeout_keeps_polling);
    RUN(close_while_flush_pending);
    RUN(websocket_send_backlog_cap);
    return test_report();
}
