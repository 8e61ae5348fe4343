/* The handshake check and the connection core over a fake transport: what goes
 * out on the wire for each input, when TCP is closed, and that on_close runs
 * exactly once and never inside another callback. */
#include "test.h"

#include "ws/ym_ws.h"

#include <errno.h>

static const uint8_t MASK[4] = { 0xA1, 0xB2, 0xC3, 0xD4 };

/* ---- handshake ---- */

typedef struct {
    ym_http_header_t h[40];
    size_t n;
    ym_http_req_t req;
} fake_req_t;

static void req_init(fake_req_t *f, const char *method, int minor)
{
    memset(f, 0, sizeof(*f));
    f->req.method = ym_str_from(method);
    f->req.target = YM_STR("/ws");
    f->req.path = YM_STR("/ws");
    f->req.version_minor = minor;
    f->req.headers = f->h;
}

static void hdr(fake_req_t *f, const char *name, const char *value)
{
    f->h[f->n].name = ym_str_from(name);
    f->h[f->n].value = ym_str_from(value);
    f->n++;
    f->req.header_count = f->n;
}

static void good_req(fake_req_t *f)
{
    req_init(f, "GET", 1);
    hdr(f, "Host", "127.0.0.1");
    hdr(f, "upgrade", "WebSocket");
    hdr(f, "Connection", "keep-alive, Upgrade");
    hdr(f, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    hdr(f, "Sec-WebSocket-Version", "13");
}

static int check(fake_req_t *f, ym_ws_handshake_t *hs)
{
    return ym_ws_check_handshake(&f->req, NULL, NULL, hs);
}

TEST(handshake_accepts_rfc_example)
{
    fake_req_t f;
    ym_ws_handshake_t hs;
    good_req(&f);
    hdr(&f, "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
    hdr(&f, "Sec-WebSocket-Protocol", "chat, superchat");
    ASSERT_EQ(check(&f, &hs), 101);
    ASSERT_STR_EQ(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ASSERT(hs.error == NULL);
}

TEST(handshake_rejections)
{
    fake_req_t f;
    ym_ws_handshake_t hs;

    req_init(&f, "POST", 1);
    hdr(&f, "Upgrade", "websocket");
    ASSERT_EQ(check(&f, &hs), 405);

    good_req(&f);
    f.req.version_minor = 0;
    ASSERT_EQ(check(&f, &hs), 400);

    req_init(&f, "GET", 1);
    hdr(&f, "Connection", "Upgrade");
    hdr(&f, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    hdr(&f, "Sec-WebSocket-Version", "13");
    ASSERT_EQ(check(&f, &hs), 400);          /* no Upgrade at all */
    hdr(&f, "Upgrade", "h2c");
    ASSERT_EQ(check(&f, &hs), 400);          /* not websocket */

    good_req(&f);
    hdr(&f, "Upgrade", "websocket");
    ASSERT_EQ(check(&f, &hs), 400);          /* duplicate Upgrade */

    good_req(&f);
    f.h[2].value = YM_STR("keep-alive");
    ASSERT_EQ(check(&f, &hs), 400);          /* Connection without upgrade */
    hdr(&f, "Connection", "upgrade");
    ASSERT_EQ(check(&f, &hs), 101);          /* the token may come on a second line */

    good_req(&f);
    f.h[4].value = YM_STR("8");
    ASSERT_EQ(check(&f, &hs), 426);
    ASSERT_STR_EQ(hs.extra_headers, "Sec-WebSocket-Version: 13\r\n");
    good_req(&f);
    f.h[4].name = YM_STR("X-Other");
    ASSERT_EQ(check(&f, &hs), 426);          /* missing version */
    good_req(&f);
    hdr(&f, "Sec-WebSocket-Version", "13");
    ASSERT_EQ(check(&f, &hs), 400);          /* duplicate version */

    good_req(&f);
    f.h[3].name = YM_STR("X-Key");
    ASSERT_EQ(check(&f, &hs), 400);          /* missing key */
    good_req(&f);
    hdr(&f, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==");
    ASSERT_EQ(check(&f, &hs), 400);          /* duplicate key */
    static const char *bad_keys[] = {
        "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j",          /* short */
        "dGhlIHNhbXBsZSBub25jZQ==AAAA",                                  /* 19 bytes */
        "dGhlIHNhbXBsZSBub25jZ*==", "dGhlIHNhbXBsZSBub25jZQ= ",          /* alphabet, spaces */
        "AAAAAAAAAAAAAAAAAAAAAAA=",                                      /* 17 bytes */
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad_keys); i++) {
        good_req(&f);
        f.h[3].value = ym_str_from(bad_keys[i]);
        ASSERT_EQ(check(&f, &hs), 400);
        ASSERT(hs.error != NULL);
    }
}

TEST(handshake_protocol_list_limits)
{
    fake_req_t f;
    ym_ws_handshake_t hs;
    char list[2048];

    good_req(&f);
    strcpy(list, "p0");
    for (int i = 1; i < 16; i++)
        sprintf(list + strlen(list), ",p%d", i);
    hdr(&f, "Sec-WebSocket-Protocol", list);
    ASSERT_EQ(check(&f, &hs), 101);         /* 16 elements */
    hdr(&f, "Sec-WebSocket-Protocol", "one-more");
    ASSERT_EQ(check(&f, &hs), 400);         /* 17 across two lines */

    good_req(&f);
    memset(list, 'b', 1100);
    list[1100] = 0;
    hdr(&f, "Sec-WebSocket-Protocol", list);
    ASSERT_EQ(check(&f, &hs), 400);         /* > 1 KiB */

    good_req(&f);
    list[0] = 'b';
    memset(list + 1, ' ', 900);
    strcpy(list + 901, "x");
    hdr(&f, "Sec-WebSocket-Protocol", list); /* the ReDoS shape is just a long token here */
    ASSERT_EQ(check(&f, &hs), 101);

    good_req(&f);
    strcpy(list, "a");
    for (int i = 0; i < 20; i++)
        strcat(list, ",a");
    hdr(&f, "Sec-WebSocket-Extensions", list);
    ASSERT_EQ(check(&f, &hs), 400);
}

static bool allow_example(const ym_http_req_t *req, ym_str_t origin, void *ud)
{
    (*(int *)ud)++;
    return origin.p && ym_str_eq_lit(origin, "https://good.example");
}

TEST(handshake_origin_hook)
{
    fake_req_t f;
    ym_ws_handshake_t hs;
    int calls = 0;
    good_req(&f);
    ASSERT_EQ(ym_ws_check_handshake(&f.req, allow_example, &calls, &hs), 403);  /* no Origin */
    hdr(&f, "Origin", "https://evil.example");
    ASSERT_EQ(ym_ws_check_handshake(&f.req, allow_example, &calls, &hs), 403);
    f.h[f.n - 1].value = YM_STR("https://good.example");
    ASSERT_EQ(ym_ws_check_handshake(&f.req, allow_example, &calls, &hs), 101);
    hdr(&f, "Origin", "https://good.example");
    ASSERT_EQ(ym_ws_check_handshake(&f.req, allow_example, &calls, &hs), 403);  /* two Origins */
    ASSERT_EQ(calls, 3);
}

TEST(origin_same_host_policy)
{
    fake_req_t f;
    ym_ws_handshake_t hs;
    good_req(&f);  /* Host: 127.0.0.1 */
    f.h[0].value = YM_STR("127.0.0.1:8080");
    ASSERT_EQ(ym_ws_check_handshake(&f.req, ym_ws_origin_same_host, NULL, &hs), 101);  /* no Origin */
    hdr(&f, "Origin", "http://127.0.0.1:8080");
    ASSERT_EQ(ym_ws_check_handshake(&f.req, ym_ws_origin_same_host, NULL, &hs), 101);
    static const char *bad[] = {
        "https://evil.example", "http://127.0.0.1:8081", "http://127.0.0.1", "null",
        "http://127.0.0.1:8080/", "http://", "127.0.0.1:8080", "http:/127.0.0.1:8080",
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        f.h[f.n - 1].value = ym_str_from(bad[i]);
        ASSERT_EQ(ym_ws_check_handshake(&f.req, ym_ws_origin_same_host, NULL, &hs), 403);
    }
}

/* ---- connection core over a fake transport ---- */

typedef struct fake {
    ym_buf_t wire;          /* everything the server sent */
    int closes;             /* transport close requests */
    uint64_t timer;         /* armed deadline, 0 = none */
    bool close_sync;        /* report the close back from inside close() */
    ym_ws_t *ws;
    int fail_sends;         /* make sends fail with -ENOBUFS */
    /* handler side */
    ym_buf_t msgs;          /* "T:<text>|" or "B:<len>|" per message */
    int on_close_calls;
    int close_code;
    bool in_message;
    bool echo;
    bool close_in_message;
} fake_t;

static int f_send(void *tp, ym_rbuf_t *r)
{
    fake_t *f = tp;
    if (f->fail_sends)
        return -ENOBUFS;
    ym_buf_append(&f->wire, r->data, r->len);
    return 0;
}

static void f_close(void *tp)
{
    fake_t *f = tp;
    f->closes++;
    if (f->close_sync)
        ym_ws_transport_closed(f->ws);
}

static void f_timer(void *tp, uint64_t ms)
{
    ((fake_t *)tp)->timer = ms;
}

static const ym_ws_transport_t fake_transport = { f_send, f_close, f_timer };

static void h_message(ym_ws_t *ws, bool binary, const char *data, size_t len, void *ud)
{
    fake_t *f = ud;
    ASSERT(!f->in_message);
    f->in_message = true;
    if (binary)
        ym_buf_appendf(&f->msgs, "B:%zu|", len);
    else
        ym_buf_appendf(&f->msgs, "T:%.*s|", (int)len, data);
    if (f->echo)
        ASSERT_EQ(ym_ws_send(ws, binary, data, len), 0);
    if (f->close_in_message)
        ym_ws_close(ws, 1001, "bye");
    f->in_message = false;
}

static void h_close(ym_ws_t *ws, int code, void *ud)
{
    fake_t *f = ud;
    ASSERT(!f->in_message);
    f->on_close_calls++;
    f->close_code = code;
    ASSERT_EQ(ym_ws_send(ws, false, "x", 1), -EPIPE);
}

static const ym_ws_handlers_t handlers = { h_message, h_close };

static void fake_open(fake_t *f, const ym_ws_config_t *cfg)
{
    memset(f, 0, sizeof(*f));
    f->ws = ym_ws_new(&fake_transport, f, &handlers, f, cfg);
    ASSERT(ym_ws_userdata(f->ws) == f);
    ASSERT(ym_ws_conn(f->ws) == NULL);
}

static void fake_end(fake_t *f)
{
    if (f->on_close_calls == 0)
        ym_ws_transport_closed(f->ws);
    ASSERT_EQ(f->on_close_calls, 1);
    ym_buf_free(&f->wire);
    ym_buf_free(&f->msgs);
}

static void client(ym_buf_t *b, int op, bool fin, const void *p, size_t n)
{
    ym_ws_frame_append_masked(b, op, fin, 0, MASK, p, n);
}

/* Renders the server's frames: "T:<text>|", "B<len>|", "PONG:<p>|", "CLOSE:<code>|" ("CLOSE:-|" if empty). */
static void render(const ym_buf_t *wire, ym_buf_t *out)
{
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 64u << 20, 0, false);
    size_t off = 0;
    while (off < wire->len) {
        ym_ws_event_t ev;
        ssize_t r = ym_ws_decoder_feed(&d, wire->data + off, wire->len - off, &ev);
        ASSERT(r >= 0);
        off += (size_t)r;
        switch (ev.type) {
        case YM_WS_EV_MESSAGE:
            if (ev.binary) ym_buf_appendf(out, "B%zu|", ev.len);
            else ym_buf_appendf(out, "T:%.*s|", (int)ev.len, ev.data);
            break;
        case YM_WS_EV_PONG: ym_buf_appendf(out, "PONG:%.*s|", (int)ev.len, ev.data); break;
        case YM_WS_EV_PING: ym_buf_appendf(out, "PING|"); break;
        case YM_WS_EV_CLOSE:
            if (ev.close_code == YM_WS_CLOSE_NO_STATUS) ym_buf_appendf(out, "CLOSE:-|");
            else ym_buf_appendf(out, "CLOSE:%u|", ev.close_code);
            break;
        case YM_WS_EV_NONE: break;
        }
    }
    ym_ws_decoder_free(&d);
    ym_buf_append_byte(out, '\0');
}

static void assert_wire(fake_t *f, const char *want)
{
    ym_buf_t out = YM_BUF_INIT;
    render(&f->wire, &out);
    ASSERT_STR_EQ(out.data, want);
    ym_buf_free(&out);
}

/* Feeds in, octet-wise if octets, else in one call. */
static void feed(fake_t *f, const ym_buf_t *in, bool octets)
{
    if (!octets) {
        ym_ws_feed(f->ws, in->data, in->len);
        return;
    }
    for (size_t i = 0; i < in->len && f->on_close_calls == 0; i++)
        ym_ws_feed(f->ws, in->data + i, 1);
}

TEST(echo_ping_pong_and_clean_close)
{
    for (int octets = 0; octets < 2; octets++) {
        fake_t f;
        fake_open(&f, NULL);
        f.echo = true;
        ym_buf_t in = YM_BUF_INIT;
        client(&in, YM_WS_OP_TEXT, true, "hello", 5);
        client(&in, YM_WS_OP_PONG, true, "unsolicited", 11);
        client(&in, YM_WS_OP_BINARY, false, "\x01\x02", 2);
        client(&in, YM_WS_OP_PING, true, "mid", 3);
        client(&in, YM_WS_OP_CONT, true, "\x03", 1);
        client(&in, YM_WS_OP_CLOSE, true, "\x0b\xb8" "app", 5);   /* 3000 */
        client(&in, YM_WS_OP_PING, true, "after", 5);             /* ignored: close received */
        client(&in, YM_WS_OP_TEXT, true, "after", 5);
        feed(&f, &in, octets);
        assert_wire(&f, "T:hello|PONG:mid|B3|CLOSE:3000|");
        ASSERT_STR_EQ(f.msgs.data, "T:hello|B:3|");
        ASSERT_EQ(f.closes, 1);
        ASSERT(ym_ws_is_closing(f.ws));
        ym_ws_transport_closed(f.ws);
        ASSERT_EQ(f.on_close_calls, 1);
        ASSERT_EQ(f.close_code, 3000);
        fake_end(&f);
        ym_buf_free(&in);
    }
}

TEST(empty_close_is_echoed_empty)
{
    fake_t f;
    fake_open(&f, NULL);
    ym_buf_t in = YM_BUF_INIT;
    client(&in, YM_WS_OP_CLOSE, true, "", 0);
    client(&in, YM_WS_OP_CLOSE, true, "\x03\xe8", 2);  /* a second close is ignored */
    feed(&f, &in, false);
    assert_wire(&f, "CLOSE:-|");
    ASSERT_EQ(f.closes, 1);
    ym_ws_transport_closed(f.ws);
    ASSERT_EQ(f.close_code, 1005);
    fake_end(&f);
    ym_buf_free(&in);
}

TEST(protocol_errors_fail_with_code)
{
    static const struct { int op; bool fin; const char *p; size_t n; unsigned code; } cases[] = {
        { 3, true, "x", 1, 1002 },
        { YM_WS_OP_CONT, true, "x", 1, 1002 },
        { YM_WS_OP_TEXT, true, "\xed\xa0\x80", 3, 1007 },
        { YM_WS_OP_CLOSE, true, "\x03", 1, 1002 },
        { YM_WS_OP_CLOSE, true, "\x03\xed", 2, 1002 },
        { YM_WS_OP_CLOSE, true, "\x03\xe8\xff", 3, 1007 },
        { YM_WS_OP_PING, false, "x", 1, 1002 },
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(cases); i++) {
        fake_t f;
        fake_open(&f, NULL);
        ym_buf_t in = YM_BUF_INIT;
        client(&in, YM_WS_OP_TEXT, true, "ok", 2);
        client(&in, cases[i].op, cases[i].fin, cases[i].p, cases[i].n);
        client(&in, YM_WS_OP_PING, true, "never", 5);
        f.echo = true;
        feed(&f, &in, i % 2 == 1);
        char want[64];
        snprintf(want, sizeof(want), "T:ok|CLOSE:%u|", cases[i].code);
        assert_wire(&f, want);
        ASSERT_EQ(f.closes, 1);
        ym_ws_transport_closed(f.ws);
        ASSERT_EQ(f.close_code, (int)cases[i].code);
        fake_end(&f);
        ym_buf_free(&in);
    }
}

TEST(unmasked_frame_fails_1002)
{
    fake_t f;
    fake_open(&f, NULL);
    ym_buf_t in = YM_BUF_INIT;
    ym_ws_frame_append(&in, YM_WS_OP_TEXT, true, "plain", 5);
    feed(&f, &in, false);
    assert_wire(&f, "CLOSE:1002|");
    ASSERT_EQ(f.msgs.len, 0);
    fake_end(&f);
    ASSERT_EQ(f.close_code, 1002);
    ym_buf_free(&in);
}

TEST(limits_from_config)
{
    ym_ws_config_t cfg = { .max_message_bytes = 10, .max_fragments = 3 };
    fake_t f;
    fake_open(&f, &cfg);
    ym_buf_t in = YM_BUF_INIT;
    client(&in, YM_WS_OP_TEXT, true, "0123456789", 10);
    client(&in, YM_WS_OP_TEXT, true, "0123456789A", 11);
    feed(&f, &in, false);
    ASSERT_STR_EQ(f.msgs.data, "T:0123456789|");
    assert_wire(&f, "CLOSE:1009|");
    fake_end(&f);
    ym_buf_free(&in);

    fake_open(&f, &cfg);
    client(&in, YM_WS_OP_TEXT, false, "", 0);
    client(&in, YM_WS_OP_CONT, false, "", 0);
    client(&in, YM_WS_OP_CONT, false, "", 0);
    client(&in, YM_WS_OP_CONT, true, "", 0);
    feed(&f, &in, true);
    assert_wire(&f, "CLOSE:1008|");
    fake_end(&f);
    ASSERT_EQ(f.close_code, 1008);
    ym_buf_free(&in);
}

TEST(server_close_waits_for_peer_then_drops)
{
    fake_t f;
    fake_open(&f, &(ym_ws_config_t){ .close_timeout_ms = 1234 });
    ym_ws_close(f.ws, 1001, "going away");
    ym_ws_close(f.ws, 1000, NULL);                   /* idempotent */
    ASSERT_EQ(f.timer, 1234);
    ASSERT_EQ(f.closes, 0);
    ASSERT_EQ(ym_ws_send(f.ws, false, "late", 4), -EPIPE);
    ym_buf_t in = YM_BUF_INIT;
    client(&in, YM_WS_OP_TEXT, true, "ignored", 7);  /* data after our close: dropped */
    client(&in, YM_WS_OP_PING, true, "p", 1);        /* no pong either */
    client(&in, YM_WS_OP_CLOSE, true, "\x03\xe9", 2);
    f.echo = true;
    feed(&f, &in, false);
    assert_wire(&f, "CLOSE:1001|");                  /* no second close frame */
    ASSERT_EQ(f.msgs.len, 0);
    ASSERT_EQ(f.closes, 1);
    ASSERT_EQ(f.timer, 0);
    fake_end(&f);
    ASSERT_EQ(f.close_code, 1001);
    ym_buf_free(&in);

    /* The peer never answers: the timer drops TCP, code 1006. */
    fake_open(&f, NULL);
    ym_ws_close(f.ws, 1000, NULL);
    ASSERT_EQ(f.timer, 2000);
    ym_ws_timeout(f.ws);
    ASSERT_EQ(f.closes, 1);
    fake_end(&f);
    ASSERT_EQ(f.close_code, 1006);
}

TEST(close_from_inside_on_message_with_synchronous_transport_close)
{
    fake_t f;
    fake_open(&f, NULL);
    f.close_sync = true;        /* the transport reports "gone" from inside close() */
    f.close_in_message = true;
    ym_buf_t in = YM_BUF_INIT;
    client(&in, YM_WS_OP_TEXT, true, "one", 3);
    client(&in, YM_WS_OP_TEXT, true, "two", 3);     /* after our close: not delivered */
    client(&in, YM_WS_OP_CLOSE, true, "\x03\xe8", 2);
    feed(&f, &in, false);
    /* on_close ran after on_message returned (h_close asserts that) and the core freed itself. */
    ASSERT_EQ(f.on_close_calls, 1);
    ASSERT_EQ(f.close_code, 1000);
    ASSERT_STR_EQ(f.msgs.data, "T:one|");
    assert_wire(&f, "CLOSE:1001|");
    ym_buf_free(&f.wire);
    ym_buf_free(&f.msgs);
    ym_buf_free(&in);
}

TEST(protocol_error_with_synchronous_close)
{
    fake_t f;
    fake_open(&f, NULL);
    f.close_sync = true;
    ym_buf_t in = YM_BUF_INIT;
    client(&in, 5, true, "", 0);
    feed(&f, &in, false);
    ASSERT_EQ(f.on_close_calls, 1);
    ASSERT_EQ(f.close_code, 1002);
    assert_wire(&f, "CLOSE:1002|");
    ym_buf_free(&f.wire);
    ym_buf_free(&f.msgs);
    ym_buf_free(&in);
}

TEST(peer_vanishes_without_close)
{
    fake_t f;
    fake_open(&f, NULL);
    ym_buf_t in = YM_BUF_INIT;
    client(&in, YM_WS_OP_TEXT, false, "half", 4);
    feed(&f, &in, false);
    ym_ws_transport_closed(f.ws);
    ASSERT_EQ(f.close_code, 1006);
    fake_end(&f);
    ym_buf_free(&in);
}

TEST(send_frame_shares_one_rbuf)
{
    fake_t a, b;
    fake_open(&a, NULL);
    fake_open(&b, NULL);
    ym_rbuf_t *r = ym_ws_frame_build(YM_WS_OP_TEXT, "broadcast", 9);
    ASSERT_EQ(ym_ws_send_frame(a.ws, r), 0);
    ASSERT_EQ(ym_ws_send_frame(b.ws, r), 0);
    ASSERT_EQ(r->refs, 1);    /* the fake copies; a real queue would hold a ref */
    ym_rbuf_unref(r);
    assert_wire(&a, "T:broadcast|");
    assert_wire(&b, "T:broadcast|");
    ASSERT_EQ(ym_ws_send(a.ws, true, "\x00", 1), 0);
    ym_buf_t out = YM_BUF_INIT;
    render(&a.wire, &out);
    ASSERT_STR_EQ(out.data, "T:broadcast|B1|");
    ym_buf_free(&out);
    fake_end(&a);
    fake_end(&b);
}

TEST(invalid_close_code_becomes_1011)
{
    fake_t f;
    fake_open(&f, NULL);
    ym_ws_close(f.ws, 1005, NULL);
    assert_wire(&f, "CLOSE:1011|");
    fake_end(&f);
    fake_open(&f, NULL);
    ym_ws_close(f.ws, 0, "reason dropped");
    assert_wire(&f, "CLOSE:-|");
    fake_end(&f);
}

TEST(send_failure_closes_transport)
{
    fake_t f;
    fake_open(&f, NULL);
    f.fail_sends = 1;
    ASSERT_EQ(ym_ws_send(f.ws, false, "x", 1), -ENOBUFS);
    ASSERT_EQ(f.closes, 1);
    ASSERT_EQ(ym_ws_send(f.ws, false, "x", 1), -EPIPE);
    fake_end(&f);
}

int main(void)
{
    RUN(handshake_accepts_rfc_example);
    RUN(handshake_rejections);
    RUN(handshake_protocol_list_limits);
    RUN(handshake_origin_hook);
    RUN(origin_same_host_policy);
    RUN(echo_ping_pong_and_clean_close);
    RUN(empty_close_is_echoed_empty);
    RUN(protocol_errors_fail_with_code);
    RUN(unmasked_frame_fails_1002);
    RUN(limits_from_config);
    RUN(server_close_waits_for_peer_then_drops);
    RUN(close_from_inside_on_message_with_synchronous_transport_close);
    RUN(protocol_error_with_synchronous_close);
    RUN(peer_vanishes_without_close);
    RUN(send_frame_shares_one_rbuf);
    RUN(invalid_close_code_becomes_1011);
    RUN(send_failure_closes_transport);
    return test_report();
}
