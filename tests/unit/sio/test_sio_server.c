/* The Socket.IO server over a fake Engine.IO and a fake HTTP router, so the
 * protocol rows of the conformance suite (and the server's bookkeeping) are
 * checked without sockets: each fake session records what the server sent,
 * and the test feeds messages as eio would. The timers run on a real loop. */
#include "eio/ym_eio.h"
#include "sio/ym_sio_conformance.h"
#include "sio/ym_sio_packet.h"

#include <errno.h>
#include <stdlib.h>

#include "test.h"

/* ---- fake Engine.IO ---- */

#define MAXOUT 64
struct ym_eio_packet {
    unsigned refs;
    bool binary;
    size_t len;
    char data[];
};
struct ym_eio_session {
    void *data;
    char id[21];
    const char *closed;       /* reason given to ym_eio_close */
    bool gone;                /* on_close ran */
    ym_buf_t out[MAXOUT];
    bool outbin[MAXOUT];
    size_t nout;
};
struct ym_eio_server {
    ym_eio_handlers_t h;
    size_t open;
};
static ym_eio_server_t fake_srv;
static ym_eio_session_t *all_sessions[16];
static size_t nall;

ym_eio_server_t *ym_eio_server_new(uv_loop_t *loop, ym_http_server_t *http, const ym_eio_config_t *cfg,
                                   const ym_eio_handlers_t *h)
{
    fake_srv.h = *h;
    return &fake_srv;
}
void ym_eio_server_free(ym_eio_server_t *srv)
{
    for (size_t i = 0; i < nall; i++)
        if (!all_sessions[i]->gone) {
            all_sessions[i]->gone = true;
            srv->h.on_close(all_sessions[i], "server shutting down", srv->h.ud);
        }
}
static bool shutdown_called;
void ym_eio_server_shutdown(ym_eio_server_t *srv) { shutdown_called = true; }
static void record(ym_eio_session_t *s, const char *d, size_t n, bool bin)
{
    ASSERT(s->nout < MAXOUT);
    s->out[s->nout] = YM_BUF_INIT;
    ym_buf_append(&s->out[s->nout], d, n);
    ym_buf_append_byte(&s->out[s->nout], '\0');
    s->out[s->nout].len--;
    s->outbin[s->nout++] = bin;
}
int ym_eio_send(ym_eio_session_t *s, const char *data, size_t len, bool binary)
{
    if (s->closed || s->gone)
        return -EPIPE;
    record(s, data, len, binary);
    return 0;
}
ym_eio_packet_t *ym_eio_packet_new(const char *data, size_t len, bool binary)
{
    ym_eio_packet_t *p = malloc(sizeof(*p) + len + 1);
    p->refs = 1;
    p->binary = binary;
    p->len = len;
    memcpy(p->data, data, len);
    return p;
}
ym_eio_packet_t *ym_eio_packet_ref(ym_eio_packet_t *p) { p->refs++; return p; }
void ym_eio_packet_unref(ym_eio_packet_t *p) { if (p && --p->refs == 0) free(p); }
static size_t packets_shared; /* sends that reused the previous send's packet */
static ym_eio_packet_t *last_packet;
int ym_eio_send_packet(ym_eio_session_t *s, ym_eio_packet_t *p)
{
    if (p == last_packet)
        packets_shared++;
    last_packet = p;
    return ym_eio_send(s, p->data, p->len, p->binary);
}
void ym_eio_close(ym_eio_session_t *s, const char *reason) { if (!s->closed) s->closed = reason; }
void ym_eio_session_set_data(ym_eio_session_t *s, void *d) { s->data = d; }
void *ym_eio_session_data(const ym_eio_session_t *s) { return s->data; }
const char *ym_eio_session_id(const ym_eio_session_t *s) { return s->id; }
const char *ym_eio_session_transport(const ym_eio_session_t *s) { return "websocket"; }
const char *ym_eio_session_peer(const ym_eio_session_t *s) { return "127.0.0.1:1"; }
size_t ym_eio_session_count(const ym_eio_server_t *srv) { return srv->open; }
ym_eio_server_t *ym_eio_session_server(const ym_eio_session_t *s) { return &fake_srv; }

/* ---- fake HTTP (the client bundle route is registered, not exercised) ---- */
static int routes;
void ym_http_route(ym_http_server_t *s, const char *prefix, size_t max_body, ym_http_handler_cb cb, void *ud)
{
    ASSERT_STR_EQ(prefix, "/socket.io/socket.io.");
    routes++;
}
void ym_http_respond(ym_http_req_t *req, int status, const char *ct, const void *body, size_t len, const char *x) {}
void ym_http_respond_rbuf(ym_http_req_t *req, int status, const char *ct, ym_rbuf_t *body, const char *x) {}
void ym_http_respond_error(ym_http_req_t *req, int status, const char *message) {}
ym_str_t ym_http_header(const ym_http_req_t *req, const char *name) { return (ym_str_t){ NULL, 0 }; }

/* ---- helpers ---- */

static uv_loop_t loop;
static ym_sio_t *sio;

static ym_eio_session_t *open_session(void)
{
    ym_eio_session_t *s = calloc(1, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "eio%zu", nall);
    all_sessions[nall++] = s;
    fake_srv.open++;
    fake_srv.h.on_open(s, fake_srv.h.ud);
    return s;
}
static void close_session(ym_eio_session_t *s, const char *reason)
{
    if (!s->gone) {
        s->gone = true;
        fake_srv.open--;
        fake_srv.h.on_close(s, reason, fake_srv.h.ud);
    }
}
static void in(ym_eio_session_t *s, const char *text)
{
    fake_srv.h.on_message(s, text, strlen(text), false, fake_srv.h.ud);
}
static void in_bin(ym_eio_session_t *s, const char *d, size_t n)
{
    fake_srv.h.on_message(s, d, n, true, fake_srv.h.ud);
}
static const char *out(ym_eio_session_t *s, size_t i)
{
    if (i >= s->nout)
        TEST_FAIL_("session %s sent %zu packets, wanted #%zu", s->id, s->nout, i);
    return s->out[i].data;
}
/* Compares a packet, with "SID" in want standing for any 20-character id. */
static void expect(ym_eio_session_t *s, size_t i, const char *want)
{
    const char *got = out(s, i);
    const char *w = strstr(want, "SID");
    if (!w) {
        ASSERT_STR_EQ(got, want);
        return;
    }
    size_t pre = (size_t)(w - want);
    if (strncmp(got, want, pre) != 0 || strlen(got) != strlen(want) - 3 + 20 ||
        strcmp(got + pre + 20, w + 3) != 0)
        TEST_FAIL_("got %s, want %s", got, want);
}
static const char *sid_of(ym_eio_session_t *s, size_t i, char out_id[21])
{
    const char *p = strstr(out(s, i), "\"sid\":\"");
    ASSERT(p);
    memcpy(out_id, p + 7, 20);
    out_id[20] = '\0';
    return out_id;
}
/* Runs the loop until done() holds, failing after limit_ms. The server's
 * timers decide when things happen; the test only waits for the outcome. (It
 * used to run the loop for a fixed time and then look: a loaded machine that
 * descheduled the process across the deadline ended the wait before the due
 * timer had run, and the assertion after it failed.) */
static void run_until(bool (*done)(void *), void *arg, uint64_t limit_ms, const char *what)
{
    uv_update_time(&loop);
    uint64_t end = uv_now(&loop) + limit_ms;
    while (!done(arg)) {
        if (uv_now(&loop) >= end)
            TEST_FAIL_("%s did not happen within %llu ms", what, (unsigned long long)limit_ms);
        uv_run(&loop, UV_RUN_NOWAIT);
        if (done(arg))
            break;
        uv_sleep(2);
        uv_update_time(&loop);
    }
}
static bool is_closed(void *s) { return ((ym_eio_session_t *)s)->closed != NULL; }
static size_t want_nout;
static bool has_want_nout(void *s) { return ((ym_eio_session_t *)s)->nout >= want_nout; }

static void setup(uint32_t connect_timeout_ms)
{
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_sio_config_t cfg = { .connect_timeout_ms = connect_timeout_ms, .ack_timeout_ms = 50 };
    sio = ym_sio_new(&loop, NULL, &cfg);
    ASSERT(sio != NULL);
    ym_sio_conformance_setup(sio);
}
static void teardown(void)
{
    ym_sio_free(sio);
    uv_run(&loop, UV_RUN_DEFAULT); /* timer close callbacks */
    ASSERT_EQ(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < nall; i++) {
        for (size_t k = 0; k < all_sessions[i]->nout; k++)
            ym_buf_free(&all_sessions[i]->out[k]);
        free(all_sessions[i]);
    }
    nall = 0;
    fake_srv.open = 0;
}
static ym_eio_session_t *init_main(void)
{
    ym_eio_session_t *s = open_session();
    in(s, "0");
    expect(s, 0, "0{\"sid\":\"SID\"}");
    expect(s, 1, "2[\"auth\",{}]");
    return s;
}

/* ---- conformance rows ---- */

TEST(connect_rows)
{
    setup(0);
    ASSERT_EQ(routes, 1);
    ym_eio_session_t *a = init_main();
    char id[21];
    sid_of(a, 0, id);
    ASSERT(strcmp(id, a->id) != 0);
    ym_eio_session_t *b = open_session();
    in(b, "0{\"token\":\"123\"}");
    expect(b, 1, "2[\"auth\",{\"token\":\"123\"}]");
    ym_eio_session_t *c = open_session();
    in(c, "0/custom,");
    expect(c, 0, "0/custom,{\"sid\":\"SID\"}");
    expect(c, 1, "2/custom,[\"auth\",{}]");
    ym_eio_session_t *d = open_session();
    in(d, "0/custom,{\"token\":\"abc\"}");
    expect(d, 1, "2/custom,[\"auth\",{\"token\":\"abc\"}]");
    ym_eio_session_t *e = open_session();
    in(e, "0/random");
    expect(e, 0, "4/random,{\"message\":\"Invalid namespace\"}");
    ASSERT(e->closed == NULL);
    ym_eio_session_t *f = open_session();
    in(f, "abc");
    ASSERT(f->closed != NULL);
    ym_eio_session_t *g = open_session();
    in(g, "0/refuse,");
    expect(g, 0, "4/refuse,{\"message\":\"not allowed\"}");
    ASSERT_EQ(g->nout, 1);
    ASSERT_EQ(ym_sio_room_size(ym_sio_find_nsp(sio, "/refuse"), "x"), 0);
    teardown();
}

TEST(connect_timeout)
{
    setup(30);
    uint64_t t0 = uv_now(&loop); /* the cached loop time the timers start from */
    ym_eio_session_t *a = open_session();
    ym_eio_session_t *b = open_session();
    in(b, "0");
    run_until(is_closed, a, 10000, "closing the session that never connected");
    ASSERT(uv_now(&loop) - t0 >= 30); /* not before the connect timeout */
    ASSERT(b->closed == NULL); /* its timer was cancelled when it connected */
    teardown();
}

TEST(disconnect_rows)
{
    setup(0);
    ym_eio_session_t *a = init_main();
    in(a, "1");
    ASSERT_EQ(a->nout, 2);    /* no reply */
    ASSERT(a->closed == NULL); /* the EIO link stays */
    ym_eio_session_t *b = init_main();
    in(b, "0/custom");
    expect(b, 2, "0/custom,{\"sid\":\"SID\"}");
    expect(b, 3, "2/custom,[\"auth\",{}]");
    in(b, "1/custom");
    in(b, "2[\"message\",\"message to main namespace\"]");
    expect(b, 4, "2[\"message-back\",\"message to main namespace\"]");
    /* an event to the namespace just left closes the connection */
    in(b, "2/custom,[\"x\"]");
    ASSERT(b->closed != NULL);
    teardown();
}

TEST(message_rows)
{
    setup(0);
    ym_eio_session_t *a = init_main();
    in(a, "2[\"message\",1,\"2\",{\"3\":[true]}]");
    expect(a, 2, "2[\"message-back\",1,\"2\",{\"3\":[true]}]");
    in(a, "52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    ASSERT_EQ(a->nout, 3);
    in_bin(a, "\x01\x02\x03", 3);
    ASSERT_EQ(a->nout, 3);
    in_bin(a, "\x04\x05\x06", 3);
    expect(a, 3, "52-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    ASSERT(a->outbin[4] && a->outbin[5]);
    ASSERT_MEM_EQ(a->out[4].data, a->out[4].len, "\x01\x02\x03", 3);
    ASSERT_MEM_EQ(a->out[5].data, a->out[5].len, "\x04\x05\x06", 3);
    in(a, "2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]");
    expect(a, 6, "3456[1,\"2\",{\"3\":[false]}]");
    in(a, "52-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    in_bin(a, "\x01\x02\x03", 3);
    in_bin(a, "\x04\x05\x06", 3);
    expect(a, 7, "62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    ASSERT_MEM_EQ(a->out[9].data, a->out[9].len, "\x04\x05\x06", 3);
    ASSERT(a->closed == NULL);
    teardown();
}

TEST(invalid_rows_close)
{
    static const char *bad[] = { "abc", "2{}", "2abc[\"message-with-ack\",1]", "0", "3[]", "4{}",
                                 "2/nope,[\"x\"]", "51-[\"x\",{\"_placeholder\":true,\"num\":5}]" };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        setup(0);
        ym_eio_session_t *a = init_main();
        in(a, bad[i]);
        if (a->closed == NULL)
            TEST_FAIL_("%s did not close", bad[i]);
        teardown();
    }
}

TEST(binary_protocol_errors)
{
    setup(0);
    ym_eio_session_t *a = init_main();
    in_bin(a, "x", 1); /* no pending header */
    ASSERT(a->closed != NULL);
    ym_eio_session_t *b = init_main();
    in(b, "51-[\"message\",{\"_placeholder\":true,\"num\":0}]");
    in(b, "2[\"message\"]"); /* text while waiting */
    ASSERT(b->closed != NULL);
    ym_eio_session_t *c = init_main();
    in(c, "51-/custom,[\"message\",{\"_placeholder\":true,\"num\":0}]");
    ASSERT(c->closed != NULL);
    teardown();
}

/* ---- rooms, broadcast, acks ---- */

static ym_eio_session_t *init_test(char id[21])
{
    ym_eio_session_t *s = open_session();
    in(s, "0/test,");
    expect(s, 0, "0/test,{\"sid\":\"SID\"}");
    sid_of(s, 0, id);
    return s;
}

TEST(rooms_and_broadcast)
{
    setup(0);
    char ida[21], idb[21], idc[21];
    ym_eio_session_t *a = init_test(ida), *b = init_test(idb), *c = init_test(idc);
    ym_sio_nsp_t *t = ym_sio_find_nsp(sio, "/test");
    in(a, "2/test,1[\"join\",\"r\"]");
    expect(a, 1, "3/test,1[1]");
    in(b, "2/test,1[\"join\",\"r\"]");
    expect(b, 1, "3/test,1[2]");
    ASSERT_EQ(ym_sio_room_size(t, "r"), 2);
    ASSERT(ym_sio_in_room(ym_sio_find_socket(t, ida), "r"));
    ASSERT(ym_sio_in_room(ym_sio_find_socket(t, ida), ida));
    packets_shared = 0;
    in(a, "2/test,2[\"broadcast\",\"r\",\"ev\",{\"k\":[1,2]}]");
    expect(a, 2, "3/test,2[1]");           /* sender excluded */
    expect(b, 2, "2/test,[\"ev\",{\"k\":[1,2]}]");
    ASSERT_EQ(c->nout, 1);                 /* not in the room */
    in(c, "51-/test,3[\"broadcast-bin\",\"r\",\"b\",{\"_placeholder\":true,\"num\":0}]");
    in_bin(c, "\xff", 1);
    expect(c, 1, "3/test,3[2]");
    expect(a, 3, "51-/test,[\"b\",{\"_placeholder\":true,\"num\":0}]");
    ASSERT(a->outbin[4] && (unsigned char)a->out[4].data[0] == 0xff);
    in(a, "2/test,4[\"leave\",\"r\"]");
    expect(a, 4 + 1, "3/test,4[1]");
    close_session(b, "transport close");
    ASSERT_EQ(ym_sio_room_size(t, "r"), 0);
    ASSERT(ym_sio_find_socket(t, idb) == NULL);
    /* whole namespace, API level */
    ym_sio_bcast_t all = ym_sio_bcast(t);
    packets_shared = 0;
    last_packet = NULL;
    ASSERT_EQ(ym_sio_bcast_emit(&all, "hi", NULL), 2);
    ASSERT_EQ(packets_shared, 1);          /* one encoded packet, sent to both */
    ASSERT_EQ(ym_sio_bcast_emit(&all, "hi", "{}"), 0); /* args not an array */
    teardown();
}

TEST(server_to_client_acks)
{
    setup(0);
    char ida[21];
    ym_eio_session_t *a = init_test(ida);
    in(a, "2/test,[\"ask\",\"q\",7]");
    expect(a, 1, "2/test,0[\"q\",7]");
    in(a, "3/test,0[\"yes\",{\"n\":1}]");
    expect(a, 2, "2/test,[\"answer\",null,\"yes\",{\"n\":1}]");
    in(a, "3/test,0[\"late\"]"); /* unknown id: ignored */
    ASSERT(a->closed == NULL);
    uint64_t t0 = uv_now(&loop); /* the cached loop time the ack timer starts from */
    in(a, "2/test,[\"ask\",\"q\"]");
    expect(a, 4 - 1, "2/test,1[\"q\"]");
    /* the helper asks with a 1000 ms timeout */
    want_nout = 5;
    run_until(has_want_nout, a, 20000, "the ack timeout");
    ASSERT(uv_now(&loop) - t0 >= 1000); /* not before it */
    expect(a, 4, "2/test,[\"answer\",\"timeout\"]");
    teardown();
}

static int replies_disconnected;
static void reply_cb(const char *err, const ym_sio_args_t *args, void *ud)
{
    if (err && strcmp(err, "disconnected") == 0)
        replies_disconnected++;
}

TEST(acks_survive_disconnect)
{
    setup(0);
    char ida[21];
    ym_eio_session_t *a = init_test(ida);
    ym_sio_nsp_t *t = ym_sio_find_nsp(sio, "/test");
    ym_sio_socket_t *s = ym_sio_find_socket(t, ida);
    replies_disconnected = 0;
    ASSERT_EQ(ym_sio_emit_with_ack(s, "q", "[]", 0, reply_cb, NULL), 0);
    ASSERT_EQ(ym_sio_emit(s, "e", "not json"), -EINVAL);
    close_session(a, "transport close");
    ASSERT_EQ(replies_disconnected, 1);
    ASSERT(ym_sio_find_socket(t, ida) == NULL);
    teardown();
}

/* A client ack kept by the app after the socket is gone must be harmless. */
static ym_sio_ack_t *kept;
static void keep_ack(ym_sio_socket_t *s, const char *ev, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    kept = ack;
}

TEST(client_ack_after_disconnect)
{
    setup(0);
    ym_sio_on(ym_sio_find_nsp(sio, "/test"), "keep", keep_ack);
    char ida[21];
    ym_eio_session_t *a = init_test(ida);
    in(a, "2/test,9[\"keep\"]");
    ASSERT(kept != NULL);
    ASSERT_STR_EQ(ym_sio_ack_socket_id(kept), ida);
    close_session(a, "transport close");
    ASSERT_EQ(ym_sio_ack_send(kept, "[1]"), -EPIPE);
    kept = NULL;
    /* and answered while connected: */
    ym_eio_session_t *b = init_test(ida);
    in(b, "2/test,9[\"keep\"]");
    ASSERT_EQ(ym_sio_ack_send(kept, NULL), 0);
    expect(b, 1, "3/test,9[]");
    teardown();
}

TEST(server_disconnect)
{
    setup(0);
    char ida[21];
    ym_eio_session_t *a = init_test(ida);
    in(a, "0");
    in(a, "2/test,[\"bye\",false]");
    expect(a, 3, "1/test,");
    ASSERT(a->closed == NULL);
    in(a, "2[\"message\",1]"); /* "/" still works */
    expect(a, 4, "2[\"message-back\",1]");
    in(a, "0/test,");
    in(a, "2/test,[\"bye\",true]");
    ASSERT(a->closed != NULL);
    teardown();
}

TEST(second_connect_closes)
{
    setup(0);
    ym_eio_session_t *a = init_main();
    in(a, "0");
    ASSERT(a->closed != NULL);
    teardown();
}

TEST(shutdown_disconnects)
{
    setup(0);
    char ida[21];
    init_test(ida);
    init_test(ida);
    ASSERT_EQ(ym_sio_room_size(ym_sio_find_nsp(sio, "/test"), ida), 1);
    ym_sio_shutdown(sio);
    ASSERT(shutdown_called);
    teardown(); /* ASan: nothing leaks, no use after free */
}

int main(void)
{
    RUN(connect_rows);
    RUN(connect_timeout);
    RUN(disconnect_rows);
    RUN(message_rows);
    RUN(invalid_rows_close);
    RUN(binary_protocol_errors);
    RUN(rooms_and_broadcast);
    RUN(server_to_client_acks);
    RUN(acks_survive_disconnect);
    RUN(client_ack_after_disconnect);
    RUN(server_disconnect);
    RUN(second_connect_closes);
    RUN(shutdown_disconnects);
    return test_report();
}
