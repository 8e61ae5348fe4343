/* ym_ws over the real net and HTTP layers on loopback: the upgrade (with frame
 * bytes arriving in the same segment as the request), refusals closing TCP,
 * echo, the server-initiated close handshake (answered, and timed out), a
 * shared pre-framed rbuf, and on_close exactly once with the right code.
 * One loop, a raw libuv client, a guard timer so nothing can hang. */
#include "test.h"

#include "ws/ym_ws.h"

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t creq;
    ym_buf_t got;
    bool eof;
    bool closed;
} client_t;

static uv_loop_t loop;
static ym_http_server_t *srv;
static uv_timer_t guard;
static const uint8_t MASK[4] = { 1, 2, 3, 4 };

/* What the server-side handlers saw. */
static int closes;
static int last_code;
static int messages;
static ym_rbuf_t *shared;

static void guard_cb(uv_timer_t *t)
{
    TEST_FAIL_("timed out");
}

/* ---- server side ---- */

static void h_message(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud)
{
    messages++;
    ASSERT(ym_ws_conn(ws) != NULL);
    ym_ws_send(ws, binary, data, len);
}

static void h_close(ym_ws_t *ws, int code, void *ud)
{
    closes++;
    last_code = code;
    ASSERT(ym_ws_is_closing(ws));
}

static const ym_ws_handlers_t counting = { h_message, h_close };

static ym_http_result_t route_count(ym_http_req_t *req, void *ud)
{
    ym_ws_accept(req, &counting, NULL, NULL);
    return YM_HTTP_DONE;
}

/* The server closes at once and waits close_timeout_ms (ud) for the answer:
 * /ws-close 100 ms, for the row where the client never answers; /ws-close-wait
 * 5 s, for the row where it does (the client runs on the same loop, and a
 * descheduled test process used to miss a 100 ms deadline: 1006, not 1001). */
static const ym_ws_config_t close_quick = { .close_timeout_ms = 100 };
static const ym_ws_config_t close_patient = { .close_timeout_ms = 5000 };

static ym_http_result_t route_close(ym_http_req_t *req, void *ud)
{
    const ym_ws_config_t *cfg = ud;
    ym_ws_t *ws = ym_ws_accept(req, &counting, NULL, cfg);
    ASSERT(ws != NULL);
    ym_ws_close(ws, 1001, "bye");
    return YM_HTTP_DONE;
}

static ym_http_result_t route_shared(ym_http_req_t *req, void *ud)
{
    ym_ws_t *ws = ym_ws_accept(req, &counting, NULL, NULL);
    ASSERT(ws != NULL);
    ASSERT_EQ(ym_ws_send_frame(ws, shared), 0);
    ASSERT_EQ(ym_ws_send_frame(ws, shared), 0);
    ASSERT(ym_conn_backlog(ym_ws_conn(ws)) >= 2 * shared->len);
    return YM_HTTP_DONE;
}

static void setup(void)
{
    closes = 0;
    last_code = 0;
    messages = 0;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, guard_cb, 10000, 0);
    uv_unref((uv_handle_t *)&guard);
    ym_http_config_t cfg = { .quiet = true };
    ASSERT_EQ(ym_http_server_new(&loop, "127.0.0.1", 0, &cfg, NULL, &srv), 0);
    ym_http_route(srv, "/ws-echo", 0, ym_ws_echo_handler, NULL);
    ym_http_route(srv, "/ws-count", 0, route_count, NULL);
    ym_http_route(srv, "/ws-close-wait", 0, route_close, (void *)&close_patient);
    ym_http_route(srv, "/ws-close", 0, route_close, (void *)&close_quick);
    ym_http_route(srv, "/ws-shared", 0, route_shared, NULL);
}

static bool shut_done;

static void on_shut(void *ud)
{
    shut_done = true;
}

static void teardown(void)
{
    shut_done = false;
    ym_http_server_shutdown(srv, 500, on_shut, NULL);
    while (!shut_done)
        uv_run(&loop, UV_RUN_ONCE);
    ym_http_server_free(srv);
    srv = NULL;
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* ---- raw client ---- */

static void c_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    static char buf[65536];
    b->base = buf;
    b->len = sizeof buf;
}

static void c_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    client_t *c = s->data;
    if (n > 0) {
        ym_buf_append(&c->got, b->base, (size_t)n);
    } else if (n < 0) {
        c->eof = true;
        uv_read_stop(s);
    }
}

static void c_written(uv_write_t *w, int status)
{
    free(w->data);
    free(w);
}

static void client_send(client_t *c, const void *p, size_t n)
{
    uv_write_t *w = ym_xmalloc(sizeof *w);
    char *copy = ym_xmalloc(n);
    memcpy(copy, p, n);
    w->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned)n);
    ASSERT_EQ(uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, c_written), 0);
}

static void client_frame(client_t *c, int op, const void *p, size_t n)
{
    ym_buf_t b = YM_BUF_INIT;
    ym_ws_frame_append_masked(&b, op, true, 0, MASK, p, n);
    client_send(c, b.data, b.len);
    ym_buf_free(&b);
}

static void c_connected(uv_connect_t *r, int status)
{
    ASSERT_EQ(status, 0);
    uv_read_start(r->handle, c_alloc, c_read);
}

static void c_closed(uv_handle_t *h)
{
    ((client_t *)h->data)->closed = true;
}

/* Connects and sends an upgrade request for path with extra header lines,
 * followed in the same write by tail (may be NULL). */
static void client_open(client_t *c, const char *path, const char *extra, const void *tail, size_t tail_len)
{
    memset(c, 0, sizeof *c);
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", ym_http_server_port(srv), &a);
    ASSERT_EQ(uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, c_connected), 0);
    ym_buf_t req = YM_BUF_INIT;
    ym_buf_appendf(&req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\n",
                   path, ym_http_server_port(srv), extra ? extra : "Sec-WebSocket-Version: 13\r\n");
    if (tail)
        ym_buf_append(&req, tail, tail_len);
    client_send(c, req.data, req.len);
    ym_buf_free(&req);
}

static void client_free(client_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, c_closed);
    while (!c->closed)
        uv_run(&loop, UV_RUN_ONCE);
    ym_buf_free(&c->got);
}

/* Runs the loop until the client has at least n bytes, or EOF. */
static void wait_bytes(client_t *c, size_t n)
{
    while (c->got.len < n && !c->eof)
        uv_run(&loop, UV_RUN_ONCE);
}

static void wait_eof(client_t *c)
{
    while (!c->eof)
        uv_run(&loop, UV_RUN_ONCE);
}

static void wait_closes(int n)
{
    while (closes < n)
        uv_run(&loop, UV_RUN_ONCE);
}

/* Length of the response head (up to and including the blank line), 0 if incomplete. */
static size_t head_len(const client_t *c)
{
    if (!c->got.len)
        return 0;
    const char *e = memmem(c->got.data, c->got.len, "\r\n\r\n", 4);
    return e ? (size_t)(e - c->got.data) + 4 : 0;
}

static void wait_head(client_t *c)
{
    while (!head_len(c) && !c->eof)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT(head_len(c) > 0);
}

static bool starts_with(const client_t *c, const char *s)
{
    return c->got.len >= strlen(s) && memcmp(c->got.data, s, strlen(s)) == 0;
}

static bool head_has(const client_t *c, const char *s)
{
    size_t hl = head_len(c);
    return hl && memmem(c->got.data, hl, s, strlen(s)) != NULL;
}

/* ---- tests ---- */

TEST(echo_with_frames_in_the_request_segment)
{
    setup();
    client_t c;
    ym_buf_t early = YM_BUF_INIT;
    ym_ws_frame_append_masked(&early, YM_WS_OP_TEXT, true, 0, MASK, "hello", 5);
    ym_ws_frame_append_masked(&early, YM_WS_OP_PING, true, 0, MASK, "p", 1);
    client_open(&c, "/ws-echo", NULL, early.data, early.len);
    ym_buf_free(&early);
    wait_head(&c);
    ASSERT(starts_with(&c, "HTTP/1.1 101 "));
    ASSERT(head_has(&c, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    ASSERT(!head_has(&c, "Sec-WebSocket-Extensions"));
    size_t hl = head_len(&c);
    wait_bytes(&c, hl + 7 + 3);
    ASSERT_MEM_EQ(c.got.data + hl, 10, "\x81\x05hello\x8a\x01p", 10);
    client_frame(&c, YM_WS_OP_CLOSE, "\x03\xe8", 2);
    wait_eof(&c);
    ASSERT_MEM_EQ(c.got.data + hl + 10, c.got.len - hl - 10, "\x88\x02\x03\xe8", 4);
    client_free(&c);
    teardown();
}

TEST(refusals_answer_4xx_and_close)
{
    setup();
    static const struct { const char *extra; const char *status; const char *must; } cases[] = {
        { "Sec-WebSocket-Version: 12\r\n", "HTTP/1.1 426 ", "Sec-WebSocket-Version: 13\r\n" },
        { "Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n", "HTTP/1.1 403 ", NULL },
        { "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n", "HTTP/1.1 400 ", NULL },
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(cases); i++) {
        client_t c;
        /* A valid-looking frame behind the refused request must not be taken as HTTP or WS. */
        ym_buf_t tail = YM_BUF_INIT;
        ym_ws_frame_append_masked(&tail, YM_WS_OP_TEXT, true, 0, MASK, "x", 1);
        client_open(&c, "/ws-echo", cases[i].extra, tail.data, tail.len);
        ym_buf_free(&tail);
        wait_eof(&c);
        ASSERT(starts_with(&c, cases[i].status));
        if (cases[i].must)
            ASSERT(head_has(&c, cases[i].must));
        client_free(&c);
    }
    teardown();
}

TEST(same_origin_is_accepted)
{
    setup();
    client_t c;
    char extra[128];
    snprintf(extra, sizeof extra, "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%d\r\n", ym_http_server_port(srv));
    client_open(&c, "/ws-echo", extra, NULL, 0);
    wait_head(&c);
    ASSERT(starts_with(&c, "HTTP/1.1 101 "));
    client_free(&c);
    teardown();
}

TEST(invalid_bytes_with_the_request_fail_1002)
{
    setup();
    client_t c;
    client_open(&c, "/ws-count", NULL, "test", 4);  /* 't': RSV bits and a reserved opcode */
    wait_eof(&c);
    ASSERT(starts_with(&c, "HTTP/1.1 101 "));
    size_t hl = head_len(&c);
    ASSERT_MEM_EQ(c.got.data + hl, c.got.len - hl, "\x88\x02\x03\xea", 4);
    wait_closes(1);
    ASSERT_EQ(last_code, 1002);
    ASSERT_EQ(messages, 0);
    client_free(&c);
    teardown();
}

TEST(server_close_answered)
{
    setup();
    client_t c;
    client_open(&c, "/ws-close-wait", NULL, NULL, 0);
    wait_head(&c);
    size_t hl = head_len(&c);
    wait_bytes(&c, hl + 7);
    ASSERT_MEM_EQ(c.got.data + hl, 7, "\x88\x05\x03\xe9" "bye", 7);
    client_frame(&c, YM_WS_OP_TEXT, "ignored", 7);   /* after the server's close: dropped */
    client_frame(&c, YM_WS_OP_CLOSE, "\x03\xe9", 2);
    wait_eof(&c);
    ASSERT_EQ(c.got.len, hl + 7);                    /* no echo, no second close */
    wait_closes(1);
    ASSERT_EQ(last_code, 1001);
    ASSERT_EQ(messages, 0);
    client_free(&c);
    teardown();
}

TEST(server_close_times_out)
{
    setup();
    client_t c;
    client_open(&c, "/ws-close", NULL, NULL, 0);
    /* We never answer: the server drops TCP after its 100 ms close timeout. */
    wait_eof(&c);
    size_t hl = head_len(&c);
    ASSERT_EQ(c.got.len, hl + 7);
    wait_closes(1);
    ASSERT_EQ(last_code, 1006);
    client_free(&c);
    teardown();
}

TEST(peer_vanishes_on_close_1006_once)
{
    setup();
    client_t c;
    client_open(&c, "/ws-count", NULL, NULL, 0);
    wait_head(&c);
    client_frame(&c, YM_WS_OP_TEXT, "hi", 2);
    wait_bytes(&c, head_len(&c) + 4);
    ASSERT_EQ(messages, 1);
    client_free(&c);     /* TCP close without a close frame */
    wait_closes(1);
    ASSERT_EQ(last_code, 1006);
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_EQ(closes, 1);
    teardown();
}

TEST(shared_preframed_rbuf)
{
    setup();
    shared = ym_ws_frame_build(YM_WS_OP_TEXT, "to everyone", 11);
    client_t a, b;
    client_open(&a, "/ws-shared", NULL, NULL, 0);
    client_open(&b, "/ws-shared", NULL, NULL, 0);
    wait_head(&a);
    wait_head(&b);
    wait_bytes(&a, head_len(&a) + 2 * shared->len);
    wait_bytes(&b, head_len(&b) + 2 * shared->len);
    ASSERT_MEM_EQ(a.got.data + head_len(&a), shared->len, shared->data, shared->len);
    ASSERT_MEM_EQ(b.got.data + head_len(&b) + shared->len, shared->len, shared->data, shared->len);
    client_frame(&a, YM_WS_OP_CLOSE, "", 0);
    client_frame(&b, YM_WS_OP_CLOSE, "", 0);
    wait_eof(&a);
    wait_eof(&b);
    wait_closes(2);
    ASSERT_EQ(last_code, 1005);
    /* Every queue released its references once written. */
    ASSERT_EQ(shared->refs, 1);
    ym_rbuf_unref(shared);
    shared = NULL;
    client_free(&a);
    client_free(&b);
    teardown();
}

int main(void)
{
    RUN(echo_with_frames_in_the_request_segment);
    RUN(refusals_answer_4xx_and_close);
    RUN(same_origin_is_accepted);
    RUN(invalid_bytes_with_the_request_fail_1002);
    RUN(server_close_answered);
    RUN(server_close_times_out);
    RUN(peer_vanishes_on_close_1006_once);
    RUN(shared_preframed_rbuf);
    return test_report();
}
