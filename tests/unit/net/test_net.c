/* Unit tests of the net layer over loopback: partial consumption and kept
 * tails, shared rbufs, backlog cap, closing from callbacks, pause/resume
 * redelivery, protocol switching, close-after-flush, timers. Every test ends
 * by closing all handles and asserting uv_loop_close() == 0. */
#include "net/ym_net.h"

#include "test.h"

#include <errno.h>

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t creq;
    ym_buf_t got;
    bool eof;
    bool closed;
    bool reading;
} client_t;

static uv_loop_t loop;
static ym_listener_t *lst;
static ym_conn_t *last_conn;
static int accepts, closes, last_close_status, reads, drains;
static uv_timer_t guard;

static void guard_cb(uv_timer_t *t)
{
    TEST_FAIL_("timed out");
}

static void setup(const ym_conn_proto_t *proto, size_t backlog)
{
    ASSERT_EQ(uv_loop_init(&loop), 0);
    accepts = closes = reads = drains = 0;
    last_close_status = 1;
    last_conn = NULL;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, guard_cb, 10000, 0);
    uv_unref((uv_handle_t *)&guard);
    (void)proto;
    (void)backlog;
}

static void teardown(void)
{
    uv_close((uv_handle_t *)&guard, NULL);
    if (lst)
        ym_listener_close(lst);
    lst = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* --- client side ------------------------------------------------------------ */

static void c_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    static char buf[65536];
    b->base = buf;
    b->len = sizeof buf;
}

static void c_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    client_t *c = s->data;
    if (n > 0)
        ym_buf_append(&c->got, b->base, (size_t)n);
    else if (n < 0) {
        c->eof = true;
        uv_read_stop(s);
    }
}

static void c_connected(uv_connect_t *r, int status)
{
    client_t *c = r->data;
    ASSERT_EQ(status, 0);
    if (c->reading)
        uv_read_start((uv_stream_t *)&c->tcp, c_alloc, c_read);
}

static void client_open(client_t *c, bool reading)
{
    memset(c, 0, sizeof *c);
    c->reading = reading;
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", ym_listener_port(lst), &a);
    ASSERT_EQ(uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, c_connected), 0);
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

static void c_closed(uv_handle_t *h)
{
    client_t *c = h->data;
    c->closed = true;
}

static void client_close(client_t *c)
{
    uv_close((uv_handle_t *)&c->tcp, c_closed);
}

/* Runs the loop until cond() holds (or the guard fires). */
static void run_until(bool (*cond)(void *), void *arg)
{
    while (!cond(arg))
        uv_run(&loop, UV_RUN_ONCE);
}

static bool got_at_least(void *arg)
{
    client_t *c = arg;
    return c->got.len >= 12;
}

static bool client_eof(void *arg)
{
    return ((client_t *)arg)->eof;
}

static bool conn_closed(void *arg)
{
    return closes >= *(int *)arg;
}

static bool accepted(void *arg)
{
    return accepts >= *(int *)arg;
}

/* --- a line protocol: consumes whole lines only and echoes them --------- */

static ym_buf_t seen;   /* every on_read's data, to check tails are presented again */

static ssize_t line_read(ym_conn_t *c, const char *d, size_t n)
{
    reads++;
    ym_buf_append(&seen, d, n);
    ym_buf_append_byte(&seen, '|');
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '\n') {
            ASSERT_EQ(ym_conn_send_copy(c, d + used, i + 1 - used), 0);
            used = i + 1;
        }
    }
    return (ssize_t)used;
}

static void any_close(ym_conn_t *c, int status)
{
    closes++;
    last_close_status = status;
}

static void any_drain(ym_conn_t *c)
{
    drains++;
}

static const ym_conn_proto_t line_proto = { .name = "line", .on_read = line_read, .on_drain = any_drain, .on_close = any_close };

static void accept_with(ym_listener_t *l, ym_conn_t *c, void *ud)
{
    accepts++;
    last_conn = c;
    ym_conn_set_proto(c, ud, NULL);
}

static void open_listener(const ym_conn_proto_t *p, size_t backlog)
{
    ym_net_config_t cfg = { .max_send_backlog = backlog, .max_connections = 0 };
    ASSERT_EQ(ym_listener_open(&loop, "127.0.0.1", 0, &cfg, accept_with, (void *)p, &lst), 0);
    ASSERT(ym_listener_port(lst) > 0);
}

TEST(partial_lines_and_tail)
{
    setup(NULL, 0);
    open_listener(&line_proto, 0);
    seen = YM_BUF_INIT;
    client_t c;
    client_open(&c, true);
    int one = 1;
    run_until(accepted, &one);
    client_write(&c, "hel");
    while (reads < 1)
        uv_run(&loop, UV_RUN_ONCE);
    client_write(&c, "lo\nwor");
    while (reads < 2)
        uv_run(&loop, UV_RUN_ONCE);
    client_write(&c, "ld\n");
    run_until(got_at_least, &c);
    ASSERT_MEM_EQ(c.got.data, c.got.len, "hello\nworld\n", 12);
    /* The unconsumed tail came back in front of the new bytes. */
    ASSERT(strstr(seen.data, "hello\nwor|") != NULL);
    ASSERT(strstr(seen.data, "world\n|") != NULL);
    ASSERT_EQ(ym_listener_conn_count(lst), 1);
    client_close(&c);
    run_until(conn_closed, &one);
    ASSERT_EQ(last_close_status, UV_EOF);
    ASSERT(drains >= 1);
    ym_buf_free(&c.got);
    ym_buf_free(&seen);
    teardown();
}

/* --- one rbuf to many connections ------------------------------------------ */

static ym_conn_t *conns[3];

static void accept_many(ym_listener_t *l, ym_conn_t *c, void *ud)
{
    conns[accepts++] = c;
    ym_conn_set_proto(c, &line_proto, NULL);
}

static bool all_got(void *arg)
{
    client_t *cs = arg;
    for (int i = 0; i < 3; i++)
        if (cs[i].got.len < 12)
            return false;
    return true;
}

TEST(shared_rbuf_broadcast)
{
    setup(NULL, 0);
    ASSERT_EQ(ym_listener_open(&loop, "127.0.0.1", 0, NULL, accept_many, NULL, &lst), 0);
    client_t cs[3];
    for (int i = 0; i < 3; i++)
        client_open(&cs[i], true);
    int three = 3;
    run_until(accepted, &three);
    ym_rbuf_t *r = ym_rbuf_copy("broadcast!\r\n", 12);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(ym_conn_send(conns[i], r), 0);
    ASSERT_EQ(r->refs, 4);
    ASSERT_EQ(ym_conn_backlog(conns[0]), 12);
    run_until(all_got, cs);
    ASSERT_EQ(r->refs, 1);   /* every queue released its reference */
    for (int i = 0; i < 3; i++) {
        ASSERT_MEM_EQ(cs[i].got.data, cs[i].got.len, "broadcast!\r\n", 12);
        ASSERT_EQ(ym_conn_backlog(conns[i]), 0);
    }
    ym_rbuf_unref(r);
    for (int i = 0; i < 3; i++) {
        client_close(&cs[i]);
        ym_buf_free(&cs[i].got);
    }
    run_until(conn_closed, &three);
    teardown();
}

/* --- backlog cap ------------------------------------------------------------- */

static int send_result;

static ssize_t flood_read(ym_conn_t *c, const char *d, size_t n)
{
    ym_rbuf_t *r = ym_rbuf_new(16 * 1024);
    memset(r->data, 'x', r->len);
    send_result = 0;
    for (int i = 0; i < 100 && send_result == 0; i++)
        send_result = ym_conn_send(c, r);
    ym_rbuf_unref(r);
    /* After the cap the connection is closing and refuses more. */
    ASSERT(ym_conn_is_closing(c));
    return (ssize_t)n;
}

static const ym_conn_proto_t flood_proto = { .name = "flood", .on_read = flood_read, .on_close = any_close };

TEST(backlog_cap_drops_slow_client)
{
    setup(NULL, 0);
    open_listener(&flood_proto, 64 * 1024);
    client_t c;
    client_open(&c, false);
    int one = 1;
    run_until(accepted, &one);
    client_write(&c, "go");
    run_until(conn_closed, &one);
    ASSERT_EQ(send_result, -ENOBUFS);
    ASSERT_EQ(last_close_status, -ENOBUFS);
    client_close(&c);
    teardown();
}

/* --- closing from inside callbacks, twice ---------------------------------- */

static ssize_t closing_read(ym_conn_t *c, const char *d, size_t n)
{
    ym_conn_close(c);
    ym_conn_close(c);
    ASSERT(ym_conn_is_closing(c));
    ASSERT_EQ(closes, 0);  /* never synchronously */
    ASSERT_EQ(ym_conn_send_copy(c, "x", 1), -EPIPE);
    return YM_EPROTO;
}

static const ym_conn_proto_t closing_proto = { .name = "closing", .on_read = closing_read, .on_close = any_close };

TEST(close_inside_on_read)
{
    setup(NULL, 0);
    open_listener(&closing_proto, 0);
    client_t c;
    client_open(&c, true);
    int one = 1;
    run_until(accepted, &one);
    client_write(&c, "bye");
    run_until(conn_closed, &one);
    ASSERT_EQ(closes, 1);
    ASSERT_EQ(last_close_status, 0);
    run_until(client_eof, &c);
    client_close(&c);
    ym_buf_free(&c.got);
    teardown();
}

/* --- pause, resume and redelivery of the kept tail ----------------------- */

static int pause_reads;
static ym_buf_t pause_seen;

static ssize_t pause_read(ym_conn_t *c, const char *d, size_t n)
{
    pause_reads++;
    ym_buf_append(&pause_seen, d, n);
    ym_buf_append_byte(&pause_seen, '|');
    if (pause_reads == 1) {
        ym_conn_pause_reading(c);
        return 0;   /* keep everything for later */
    }
    return (ssize_t)n;
}

static const ym_conn_proto_t pause_proto = { .name = "pause", .on_read = pause_read, .on_close = any_close };

static bool two_pause_reads(void *arg)
{
    return pause_reads >= 2;
}

static void resume_cb(uv_timer_t *t)
{
    ym_conn_resume_reading(last_conn);
    uv_close((uv_handle_t *)t, NULL);
}

TEST(pause_resume_redelivers_tail)
{
    setup(NULL, 0);
    pause_reads = 0;
    pause_seen = YM_BUF_INIT;
    open_listener(&pause_proto, 0);
    client_t c;
    client_open(&c, true);
    int one = 1;
    run_until(accepted, &one);
    client_write(&c, "abc");
    while (pause_reads < 1)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, resume_cb, 50, 0);
    run_until(two_pause_reads, NULL);
    /* The second call saw the same bytes again, without any new input. */
    ASSERT_MEM_EQ(pause_seen.data, pause_seen.len, "abc|abc|", 8);
    client_close(&c);
    run_until(conn_closed, &one);
    ym_buf_free(&pause_seen);
    ym_buf_free(&c.got);
    teardown();
}

/* --- protocol switch: the new protocol gets the rest -------------------- */

static ym_buf_t b_seen;

static ssize_t b_read(ym_conn_t *c, const char *d, size_t n)
{
    ym_buf_append(&b_seen, d, n);
    return (ssize_t)n;
}

static const ym_conn_proto_t b_proto = { .name = "b", .on_read = b_read, .on_close = any_close };

static ssize_t a_read(ym_conn_t *c, const char *d, size_t n)
{
    const char *nl = memchr(d, '\n', n);
    if (!nl)
        return 0;
    ym_conn_set_proto(c, &b_proto, &b_seen);
    ASSERT(ym_conn_proto(c) == &b_proto);
    ASSERT(ym_conn_proto_data(c) == &b_seen);
    return nl - d + 1;
}

static const ym_conn_proto_t a_proto = { .name = "a", .on_read = a_read, .on_close = any_close };

static bool b_has(void *arg)
{
    return b_seen.len >= 5;
}

TEST(protocol_switch_hands_over_rest)
{
    setup(NULL, 0);
    b_seen = YM_BUF_INIT;
    open_listener(&a_proto, 0);
    client_t c;
    client_open(&c, true);
    int one = 1;
    run_until(accepted, &one);
    client_write(&c, "UPGRADE\nfrag1");
    run_until(b_has, NULL);
    ASSERT_MEM_EQ(b_seen.data, b_seen.len, "frag1", 5);
    client_close(&c);
    run_until(conn_closed, &one);
    ym_buf_free(&b_seen);
    teardown();
}

/* --- close after flush, timers ---------------------------------------------- */

static void timer_fired(ym_conn_t *c)
{
    ym_conn_send_copy(c, "timer fired\n", 12);
    ym_conn_close_after_flush(c);
}

static ssize_t timer_read(ym_conn_t *c, const char *d, size_t n)
{
    ym_conn_set_timer(c, 1000, timer_fired);   /* replaced by the next line */
    ym_conn_set_timer(c, 20, timer_fired);
    return (ssize_t)n;
}

static const ym_conn_proto_t timer_proto = { .name = "timer", .on_read = timer_read, .on_close = any_close };

TEST(timer_and_close_after_flush)
{
    setup(NULL, 0);
    open_listener(&timer_proto, 0);
    client_t c;
    client_open(&c, true);
    int one = 1;
    run_until(accepted, &one);
    ASSERT(strncmp(ym_conn_peer(last_conn), "127.0.0.1:", 10) == 0);
    ASSERT(ym_conn_id(last_conn) > 0);
    client_write(&c, "x");
    run_until(client_eof, &c);
    ASSERT_MEM_EQ(c.got.data, c.got.len, "timer fired\n", 12);
    run_until(conn_closed, &one);
    client_close(&c);
    ym_buf_free(&c.got);
    teardown();
}

/* --- connection limit ------------------------------------------------------ */

TEST(connection_limit)
{
    setup(NULL, 0);
    ym_net_config_t cfg = { .max_connections = 1 };
    ASSERT_EQ(ym_listener_open(&loop, "127.0.0.1", 0, &cfg, accept_with, (void *)&line_proto, &lst), 0);
    client_t a, b;
    client_open(&a, true);
    int one = 1;
    run_until(accepted, &one);
    client_open(&b, true);
    run_until(client_eof, &b);   /* the second one is refused */
    ASSERT_EQ(accepts, 1);
    ASSERT_EQ(ym_listener_conn_count(lst), 1);
    client_close(&a);
    client_close(&b);
    run_until(conn_closed, &one);
    teardown();
}

/* --- many slices: in order across writev batches, partial writes and the
 * send ring wrapping around ------------------------------------------------ */

#define SLICE_BYTES 8000
#define FIRST_BATCH 3000   /* 24 MB: more than a loopback socket buffers */
static uint32_t slices_sent, batch_size;

static ssize_t batch_read(ym_conn_t *c, const char *d, size_t n)
{
    for (uint32_t k = 0; k < batch_size; k++) {
        ym_rbuf_t *r = ym_rbuf_new(SLICE_BYTES);
        memset(r->data, '.', SLICE_BYTES);
        char num[16];
        int w = snprintf(num, sizeof num, "%08u", slices_sent++);
        memcpy(r->data, num, (size_t)w);
        ASSERT_EQ(ym_conn_send(c, r), 0);
        ym_rbuf_unref(r);
    }
    return (ssize_t)n;
}

static const ym_conn_proto_t batch_proto = { .name = "batch", .on_read = batch_read, .on_close = any_close };

static bool sent_all(void *arg) { return slices_sent >= *(uint32_t *)arg; }
static bool got_bytes(void *arg) { return lst && ((client_t *)arg)->got.len >= (size_t)slices_sent * SLICE_BYTES; }

TEST(many_slices_in_order_through_ring_wrap)
{
    setup(NULL, 0);
    open_listener(&batch_proto, 256u << 20);
    slices_sent = 0;
    client_t c;
    client_open(&c, false);   /* not reading yet: the socket fills up */
    int one = 1;
    run_until(accepted, &one);
    batch_size = FIRST_BATCH;
    client_write(&c, "g");
    uint32_t want = FIRST_BATCH;
    run_until(sent_all, &want);
    uv_run(&loop, UV_RUN_NOWAIT);   /* the flush pass after the read */
    size_t left = ym_conn_backlog(last_conn);
    uint32_t queued = (uint32_t)((left + SLICE_BYTES - 1) / SLICE_BYTES);
    ASSERT(left > 0);
    ASSERT(queued < FIRST_BATCH);
    /* The ring holds 4096 slices and its head has moved past the written
     * ones: fill it to the brim, so its tail wraps to the front. */
    batch_size = 4096 - queued;
    client_write(&c, "g");
    want = FIRST_BATCH + batch_size;
    run_until(sent_all, &want);
    uv_read_start((uv_stream_t *)&c.tcp, c_alloc, c_read);
    run_until(got_bytes, &c);
    ASSERT_EQ(c.got.len, (size_t)slices_sent * SLICE_BYTES);
    for (uint32_t i = 0; i < slices_sent; i++) {
        char num[16];
        snprintf(num, sizeof num, "%08u", i);
        const char *slice = c.got.data + (size_t)i * SLICE_BYTES;
        ASSERT_MEM_EQ(slice, 8, num, 8);
        ASSERT_EQ(slice[SLICE_BYTES - 1], '.');
    }
    ASSERT_EQ(ym_conn_backlog(last_conn), 0);
    client_close(&c);
    ym_buf_free(&c.got);
    run_until(conn_closed, &one);
    teardown();
}

TEST(bad_address)
{
    setup(NULL, 0);
    ym_listener_t *l = NULL;
    ASSERT(ym_listener_open(&loop, "not-an-ip", 0, NULL, accept_with, NULL, &l) < 0);
    ASSERT(ym_listener_open(&loop, "127.0.0.1", 70000, NULL, accept_with, NULL, &l) < 0);
    teardown();
}

int main(void)
{
    RUN(partial_lines_and_tail);
    RUN(shared_rbuf_broadcast);
    RUN(backlog_cap_drops_slow_client);
    RUN(close_inside_on_read);
    RUN(pause_resume_redelivers_tail);
    RUN(protocol_switch_hands_over_rest);
    RUN(timer_and_close_after_flush);
    RUN(connection_limit);
    RUN(many_slices_in_order_through_ring_wrap);
    RUN(bad_address);
    return test_report();
}
