/* Unit tests of the HTTP server API over loopback: held requests and their
 * order, on_abort, upgrades handing over the following bytes, route body
 * limits, query/header helpers, rbuf responses, graceful shutdown. */
#include "http/ym_http.h"

#include "test.h"

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t creq;
    ym_buf_t got;
    bool eof;
} client_t;

static uv_loop_t loop;
static ym_http_server_t *srv;
static uv_timer_t guard;

static void guard_cb(uv_timer_t *t)
{
    TEST_FAIL_("timed out");
}

static void setup(void)
{
    ASSERT_EQ(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, guard_cb, 10000, 0);
    uv_unref((uv_handle_t *)&guard);
    ym_http_config_t cfg = { .quiet = true, .max_body_bytes = 1000 };
    ASSERT_EQ(ym_http_server_new(&loop, "127.0.0.1", 0, &cfg, NULL, &srv), 0);
    ASSERT(ym_http_server_port(srv) > 0);
}

static bool shut_done;

static void on_shut(void *ud)
{
    shut_done = true;
}

static void teardown_with(uv_tcp_t *still_open)
{
    shut_done = false;
    ym_http_server_shutdown(srv, 500, on_shut, NULL);
    while (!shut_done)
        uv_run(&loop, UV_RUN_ONCE);
    ym_http_server_free(srv);
    srv = NULL;
    if (still_open)
        uv_close((uv_handle_t *)still_open, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

static void teardown(void)
{
    teardown_with(NULL);
}

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

static void client_write(client_t *c, const char *s)
{
    uv_write_t *w = ym_xmalloc(sizeof *w);
    char *copy = ym_xstrdup(s);
    w->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned)strlen(s));
    ASSERT_EQ(uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, c_written), 0);
}

static void c_connected(uv_connect_t *r, int status)
{
    ASSERT_EQ(status, 0);
    uv_read_start(r->handle, c_alloc, c_read);
}

static void client_open(client_t *c, const char *first)
{
    memset(c, 0, sizeof *c);
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", ym_http_server_port(srv), &a);
    ASSERT_EQ(uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, c_connected), 0);
    if (first)
        client_write(c, first);
}

static void client_close(client_t *c)
{
    uv_close((uv_handle_t *)&c->tcp, NULL);
}

static size_t count_str(const ym_buf_t *b, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (size_t i = 0; i + l <= b->len; i++)
        if (memcmp(b->data + i, needle, l) == 0)
            n++;
    return n;
}

static void run_until_count(client_t *c, const char *needle, size_t n)
{
    while (count_str(&c->got, needle) < n && !c->eof)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(count_str(&c->got, needle), n);
}

/* --- held requests ---------------------------------------------------------- */

static ym_http_req_t *held;
static int aborts;

static void held_abort(ym_http_req_t *req, void *ud)
{
    ASSERT(req == held);
    aborts++;
    held = NULL;
}

static ym_http_result_t hold_handler(ym_http_req_t *req, void *ud)
{
    held = req;
    ym_http_hold(req, held_abort, NULL);
    return YM_HTTP_HELD;
}

static void release_cb(uv_timer_t *t)
{
    ym_http_req_t *r = held;
    held = NULL;
    ym_http_respond(r, 200, "text/plain", "late", 4, "X-Held: 1\r\n");
    uv_close((uv_handle_t *)t, NULL);
}

TEST(held_request_keeps_order)
{
    setup();
    ym_http_route(srv, "/hold", 0, hold_handler, NULL);
    held = NULL;
    aborts = 0;
    client_t c;
    client_open(&c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    while (!held)
        uv_run(&loop, UV_RUN_ONCE);
    /* Nothing may be answered while the first request is held. */
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, release_cb, 100, 0);
    run_until_count(&c, "HTTP/1.1 200", 2);
    const char *late = strstr(c.got.data, "late");
    const char *ok = strstr(c.got.data, "\r\n\r\nok");
    ASSERT(late && ok && late < ok);
    ASSERT(strstr(c.got.data, "X-Held: 1\r\n") != NULL);
    ASSERT_EQ(aborts, 0);
    client_close(&c);
    ym_buf_free(&c.got);
    teardown();
}

TEST(held_request_aborted_when_client_leaves)
{
    setup();
    ym_http_route(srv, "/hold", 0, hold_handler, NULL);
    held = NULL;
    aborts = 0;
    client_t c;
    client_open(&c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
    while (!held)
        uv_run(&loop, UV_RUN_ONCE);
    client_close(&c);
    while (aborts == 0)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(aborts, 1);
    ASSERT(held == NULL);
    ym_buf_free(&c.got);
    teardown();
}

TEST(shutdown_aborts_held_request_at_deadline)
{
    setup();
    ym_http_route(srv, "/hold", 0, hold_handler, NULL);
    held = NULL;
    aborts = 0;
    client_t c;
    client_open(&c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
    while (!held)
        uv_run(&loop, UV_RUN_ONCE);
    teardown_with(&c.tcp);   /* 500 ms deadline; the held request is aborted */
    ASSERT_EQ(aborts, 1);
    ym_buf_free(&c.got);
}

/* --- upgrade -------------------------------------------------------------------- */

static ym_buf_t up_seen;
static int up_closes;

static ssize_t up_read(ym_conn_t *c, const char *d, size_t n)
{
    ym_buf_append(&up_seen, d, n);
    if (up_seen.len >= 10)
        ym_conn_send_copy(c, "UPGRADED-ECHO", 13);
    return (ssize_t)n;
}

static void up_close(ym_conn_t *c, int status)
{
    up_closes++;
}

static const ym_conn_proto_t up_proto = { .name = "test-up", .on_read = up_read, .on_close = up_close };

static ym_http_result_t up_handler(ym_http_req_t *req, void *ud)
{
    static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n";
    ym_http_upgrade(req, head, sizeof head - 1, &up_proto, NULL);
    return YM_HTTP_DONE;
}

TEST(upgrade_hands_over_following_bytes)
{
    setup();
    up_seen = YM_BUF_INIT;
    up_closes = 0;
    ym_http_route(srv, "/up", 0, up_handler, NULL);
    client_t c;
    client_open(&c, "GET /up HTTP/1.1\r\nHost: a\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nfirst-");
    while (up_seen.len < 6)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_MEM_EQ(up_seen.data, up_seen.len, "first-", 6);
    client_write(&c, "more");
    run_until_count(&c, "UPGRADED-ECHO", 1);
    ASSERT(strncmp(c.got.data, "HTTP/1.1 101 ", 13) == 0);
    client_close(&c);
    while (up_closes == 0)
        uv_run(&loop, UV_RUN_ONCE);
    ym_buf_free(&up_seen);
    ym_buf_free(&c.got);
    teardown();
}

/* --- helpers, bodies, limits --------------------------------------------- */

static char seen_body[64];
static size_t seen_body_len;

static ym_http_result_t echo_handler(ym_http_req_t *req, void *ud)
{
    char v[32];
    if (ym_str_eq_lit(req->path, "/echo/next"))
        return YM_HTTP_NEXT;
    ASSERT_EQ(ym_http_query(req, "b", v, sizeof v), 11);
    ASSERT_STR_EQ(v, "hello world");
    ASSERT_EQ(ym_http_query(req, "c", v, sizeof v), 3);
    ASSERT_STR_EQ(v, "x y");
    ASSERT_EQ(ym_http_query(req, "d", v, sizeof v), 0);
    ASSERT_EQ(ym_http_query(req, "zz", v, sizeof v), -1);
    ASSERT_EQ(ym_http_query(req, "bad", v, sizeof v), -1);
    ASSERT_EQ(ym_http_query(req, "b", v, 4), -1);   /* does not fit */
    ASSERT_EQ(ym_http_header_count(req, "x-twice"), 2);
    ym_str_t h = ym_http_header(req, "X-TWICE");
    ASSERT(ym_str_eq_lit(h, "one"));
    ASSERT(ym_http_header(req, "missing").p == NULL);
    ASSERT(req->body[req->body_len] == '\0');
    seen_body_len = YM_MIN(req->body_len, sizeof seen_body);
    memcpy(seen_body, req->body, seen_body_len);
    ym_rbuf_t *r = ym_rbuf_copy(req->body, req->body_len);
    ym_http_respond_rbuf(req, 200, "application/octet-stream", r, NULL);
    ASSERT_EQ(r->refs, 2);   /* the queue holds one until it is written */
    ym_rbuf_unref(r);
    return YM_HTTP_DONE;
}

TEST(route_helpers_bodies_limits)
{
    setup();
    ym_http_route(srv, "/echo", 10, echo_handler, NULL);
    client_t c;
    client_open(&c,
        "POST /echo?a=1&b=hello%20world&c=x+y&d&bad=%zz HTTP/1.1\r\nHost: a\r\nX-Twice: one\r\nx-twice: two\r\n"
        "Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n3\r\n123\r\n0\r\n\r\n"
        "GET /echo/next HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n");
    run_until_count(&c, "HTTP/1.1 ", 3);
    ASSERT_MEM_EQ(seen_body, seen_body_len, "body123", 7);
    ASSERT(strstr(c.got.data, "\r\n\r\nbody123") != NULL);
    ASSERT(strstr(c.got.data, "HTTP/1.1 404 ") != NULL);   /* NEXT → static (none) → 404 */
    ASSERT(strstr(c.got.data, "HTTP/1.1 413 ") != NULL);   /* the route's own limit */
    client_close(&c);
    ym_buf_free(&c.got);
    teardown();
}

int main(void)
{
    RUN(held_request_keeps_order);
    RUN(held_request_aborted_when_client_leaves);
    RUN(shutdown_aborts_held_request_at_deadline);
    RUN(upgrade_hands_over_following_bytes);
    RUN(route_helpers_bodies_limits);
    return test_report();
}
