/* Frame codec: every rule of RFC 6455 §5 the decoder enforces, each input fed
 * whole, octet-wise and in odd chops (the result must not depend on chopping). */
#include "test.h"

#include "base/ym_utf8.h"
#include "ws/ym_ws_frame.h"

static const uint8_t MASK[4] = { 0x12, 0x34, 0x56, 0x78 };

/* Feeds in with chop-sized writes (0 = one write) and renders what came out:
 * "T:<text>|" "B<len>|" "PING:<p>|" "PONG:<p>|" "CLOSE:<code>:<reason>|" "ERR:<code>|". */
static void run_dec(ym_buf_t *log, const void *in, size_t n, size_t chop, size_t max_msg, unsigned max_frags)
{
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, max_msg, max_frags, true);
    const char *p = in;
    size_t off = 0;
    bool failed = false;
    while (off < n && !failed) {
        size_t w = chop ? YM_MIN(chop, n - off) : n - off;
        size_t used = 0;
        while (used < w) {
            ym_ws_event_t ev;
            ssize_t r = ym_ws_decoder_feed(&d, p + off + used, w - used, &ev);
            if (r < 0) {
                ASSERT_EQ(r, YM_EPROTO);
                ym_buf_appendf(log, "ERR:%u|", d.error_code);
                failed = true;
                break;
            }
            used += (size_t)r;
            switch (ev.type) {
            case YM_WS_EV_NONE: ASSERT_EQ(used, w); break;
            case YM_WS_EV_MESSAGE:
                if (ev.binary) ym_buf_appendf(log, "B%zu|", ev.len);
                else ym_buf_appendf(log, "T:%.*s|", (int)ev.len, ev.data);
                break;
            case YM_WS_EV_PING: ym_buf_appendf(log, "PING:%.*s|", (int)ev.len, ev.data); break;
            case YM_WS_EV_PONG: ym_buf_appendf(log, "PONG:%.*s|", (int)ev.len, ev.data); break;
            case YM_WS_EV_CLOSE: ym_buf_appendf(log, "CLOSE:%u:%.*s|", ev.close_code, (int)ev.len, ev.data); break;
            }
        }
        off += w;
    }
    ym_ws_decoder_free(&d);
    ym_buf_append_byte(log, '\0');
}

/* Runs the same bytes in several chops and checks they all agree with expect. */
static void expect_lim(const ym_buf_t *in, const char *expect, size_t max_msg, unsigned max_frags)
{
    static const size_t chops[] = { 0, 1, 2, 3, 7, 997 };
    for (size_t i = 0; i < YM_ARRAY_LEN(chops); i++) {
        ym_buf_t log = YM_BUF_INIT;
        run_dec(&log, in->data, in->len, chops[i], max_msg, max_frags);
        if (strcmp(log.data, expect) != 0)
            fprintf(stderr, "chop %zu\n", chops[i]);
        ASSERT_STR_EQ(log.data, expect);
        ym_buf_free(&log);
    }
}

static void expect(const ym_buf_t *in, const char *e) { expect_lim(in, e, 0, 0); }

static void add(ym_buf_t *b, int op, bool fin, const char *s)
{
    ym_ws_frame_append_masked(b, op, fin, 0, MASK, s, strlen(s));
}

static void addn(ym_buf_t *b, int op, bool fin, unsigned rsv, const void *p, size_t n)
{
    ym_ws_frame_append_masked(b, op, fin, rsv, MASK, p, n);
}

TEST(text_and_binary_all_lengths)
{
    static const size_t lens[] = { 0, 1, 125, 126, 127, 128, 65535, 65536, 70000 };
    for (size_t i = 0; i < YM_ARRAY_LEN(lens); i++) {
        size_t n = lens[i];
        char *p = ym_xmalloc(n + 1);
        for (size_t k = 0; k < n; k++)
            p[k] = (char)('a' + k % 26);
        ym_buf_t in = YM_BUF_INIT;
        addn(&in, YM_WS_OP_TEXT, true, 0, p, n);
        addn(&in, YM_WS_OP_BINARY, true, 0, p, n);
        ym_ws_decoder_t d;
        ym_ws_decoder_init(&d, 0, 0, true);
        ym_ws_event_t ev;
        ssize_t r = ym_ws_decoder_feed(&d, in.data, in.len, &ev);
        ASSERT(r > 0);
        ASSERT_EQ(ev.type, YM_WS_EV_MESSAGE);
        ASSERT(!ev.binary);
        ASSERT_MEM_EQ(ev.data, ev.len, p, n);
        ssize_t r2 = ym_ws_decoder_feed(&d, in.data + r, in.len - (size_t)r, &ev);
        ASSERT_EQ((size_t)r + (size_t)r2, in.len);
        ASSERT_EQ(ev.type, YM_WS_EV_MESSAGE);
        ASSERT(ev.binary);
        ASSERT_MEM_EQ(ev.data, ev.len, p, n);
        ym_ws_decoder_free(&d);
        ym_buf_free(&in);
        free(p);
    }
}

TEST(chops_do_not_matter)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_TEXT, true, "hello");
    add(&in, YM_WS_OP_PING, true, "p1");
    add(&in, YM_WS_OP_TEXT, false, "frag");
    add(&in, YM_WS_OP_PING, true, "");
    add(&in, YM_WS_OP_CONT, false, "");
    add(&in, YM_WS_OP_PONG, true, "x");
    add(&in, YM_WS_OP_CONT, true, "ment");
    addn(&in, YM_WS_OP_BINARY, true, 0, "\xff\x00\xfe", 3);
    add(&in, YM_WS_OP_CLOSE, true, "\x03\xe8" "bye");
    expect(&in, "T:hello|PING:p1|PING:|PONG:x|T:fragment|B3|CLOSE:1000:bye|");
    ym_buf_free(&in);
}

TEST(unmasked_client_frame_is_1002)
{
    ym_buf_t in = YM_BUF_INIT;
    ym_ws_frame_append(&in, YM_WS_OP_TEXT, true, "hi", 2);
    expect(&in, "ERR:1002|");
    /* A client-side decoder (require_mask false) takes it. */
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 0, 0, false);
    ym_ws_event_t ev;
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data, in.len, &ev), (ssize_t)in.len);
    ASSERT_EQ(ev.type, YM_WS_EV_MESSAGE);
    ASSERT_MEM_EQ(ev.data, ev.len, "hi", 2);
    ym_ws_decoder_free(&d);
    ym_buf_free(&in);
}

TEST(rsv_bits_are_1002)
{
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        ym_buf_t in = YM_BUF_INIT;
        add(&in, YM_WS_OP_TEXT, true, "ok");
        addn(&in, rsv == 6 ? YM_WS_OP_PING : YM_WS_OP_TEXT, true, rsv, "x", 1);
        add(&in, YM_WS_OP_PING, true, "never");
        expect(&in, "T:ok|ERR:1002|");
        ym_buf_free(&in);
    }
}

TEST(reserved_opcodes_are_1002)
{
    static const int ops[] = { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 };
    for (size_t i = 0; i < YM_ARRAY_LEN(ops); i++) {
        ym_buf_t in = YM_BUF_INIT;
        add(&in, YM_WS_OP_TEXT, true, "ok");
        add(&in, ops[i], true, "payload");
        add(&in, YM_WS_OP_PING, true, "never");
        expect(&in, "T:ok|ERR:1002|");
        ym_buf_free(&in);
    }
}

TEST(control_frames_rules)
{
    char big[126];
    memset(big, 'x', sizeof(big));
    ym_buf_t in = YM_BUF_INIT;
    addn(&in, YM_WS_OP_PING, true, 0, big, 125);
    ym_buf_t log = YM_BUF_INIT;
    run_dec(&log, in.data, in.len, 1, 0, 0);
    ASSERT_EQ(strlen(log.data), 5 + 125 + 1);
    ym_buf_free(&log);
    ym_buf_reset(&in);
    addn(&in, YM_WS_OP_PING, true, 0, big, 126);
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    /* Fragmented ping and pong. */
    add(&in, YM_WS_OP_PING, false, "ab");
    add(&in, YM_WS_OP_CONT, true, "cd");
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_PONG, false, "ab");
    expect(&in, "ERR:1002|");
    ym_buf_free(&in);
}

TEST(fragmentation_errors)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_CONT, true, "stray");
    add(&in, YM_WS_OP_TEXT, true, "never");
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_CONT, false, "stray");
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_TEXT, false, "a");
    add(&in, YM_WS_OP_CONT, true, "b");
    add(&in, YM_WS_OP_CONT, false, "stray");
    expect(&in, "T:ab|ERR:1002|");
    ym_buf_reset(&in);
    /* Two fragments both with opcode text. */
    add(&in, YM_WS_OP_TEXT, false, "a");
    add(&in, YM_WS_OP_TEXT, true, "b");
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_TEXT, false, "a");
    add(&in, YM_WS_OP_BINARY, true, "b");
    expect(&in, "ERR:1002|");
    ym_buf_free(&in);
}

TEST(utf8_across_fragments)
{
    /* κόσμε split octet-wise across frames: valid. */
    const char *s = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf0\x9f\x98\x80";
    size_t n = strlen(s);
    ym_buf_t in = YM_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        addn(&in, i ? YM_WS_OP_CONT : YM_WS_OP_TEXT, i == n - 1, 0, s + i, 1);
    char want[64];
    snprintf(want, sizeof(want), "T:%s|", s);
    expect(&in, want);
    ym_buf_reset(&in);
    /* Invalid: surrogate inside; fail before the FIN frame arrives. */
    const char *bad = "\xce\xba\xed\xa0\x80" "edited";
    addn(&in, YM_WS_OP_TEXT, true, 0, bad, strlen(bad));
    expect(&in, "ERR:1007|");
    ym_buf_reset(&in);
    addn(&in, YM_WS_OP_TEXT, false, 0, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
    addn(&in, YM_WS_OP_CONT, false, 0, "\xf4\x90\x80\x80", 4);
    expect(&in, "ERR:1007|");
    ym_buf_reset(&in);
    /* Truncated at the end of the message. */
    addn(&in, YM_WS_OP_TEXT, true, 0, "ab\xce", 3);
    expect(&in, "ERR:1007|");
    ym_buf_reset(&in);
    /* Binary is not checked. */
    addn(&in, YM_WS_OP_BINARY, true, 0, "\xff\xfe", 2);
    expect(&in, "B2|");
    ym_buf_free(&in);
}

TEST(utf8_fail_fast_inside_one_frame)
{
    /* The frame claims 20 bytes; we give only the first 15: the decoder must
     * fail on the 0x90 after F4 without waiting for the rest (case 6.4.3). */
    ym_buf_t in = YM_BUF_INIT;
    char payload[20] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80" "edite";
    addn(&in, YM_WS_OP_TEXT, true, 0, payload, 20);
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 0, 0, true);
    ym_ws_event_t ev;
    ssize_t r = ym_ws_decoder_feed(&d, in.data, 6 + 11, &ev);
    ASSERT_EQ(r, 17);
    ASSERT_EQ(ev.type, YM_WS_EV_NONE);
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data + 17, 1, &ev), 1); /* F4 may start a sequence */
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data + 18, 1, &ev), YM_EPROTO); /* F4 90 is above U+10FFFF */
    ASSERT_EQ(d.error_code, 1007);
    ym_ws_decoder_free(&d);
    ym_buf_free(&in);
}

TEST(empty_fragments)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_TEXT, false, "");
    add(&in, YM_WS_OP_CONT, false, "");
    add(&in, YM_WS_OP_CONT, true, "");
    add(&in, YM_WS_OP_TEXT, false, "");
    add(&in, YM_WS_OP_CONT, false, "mid");
    add(&in, YM_WS_OP_CONT, true, "");
    expect(&in, "T:|T:mid|");
    ym_buf_free(&in);
}

TEST(message_size_limit_1009)
{
    char p[100];
    memset(p, 'a', sizeof(p));
    ym_buf_t in = YM_BUF_INIT;
    addn(&in, YM_WS_OP_TEXT, true, 0, p, 100);
    expect_lim(&in, "T:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|", 100, 0);
    ym_buf_reset(&in);
    addn(&in, YM_WS_OP_TEXT, true, 0, p, 100);
    expect_lim(&in, "ERR:1009|", 99, 0);
    ym_buf_reset(&in);
    /* Across fragments: the second header already exceeds. */
    addn(&in, YM_WS_OP_BINARY, false, 0, p, 60);
    addn(&in, YM_WS_OP_CONT, true, 0, p, 40);
    expect_lim(&in, "ERR:1009|", 99, 0);
    ym_buf_reset(&in);
    /* A huge 64-bit length fails on the header, before any payload. */
    static const uint8_t huge[] = { 0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4 };
    ym_buf_append(&in, huge, sizeof(huge));
    expect(&in, "ERR:1009|");
    ym_buf_free(&in);
}

TEST(length_msb_set_is_1002)
{
    static const uint8_t f[] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
    ym_buf_t in = YM_BUF_INIT;
    ym_buf_append(&in, f, sizeof(f));
    expect(&in, "ERR:1002|");
    ym_buf_free(&in);
}

TEST(non_minimal_lengths_are_accepted)
{
    /* "hi" with a 16-bit and then a 64-bit length field. */
    static const uint8_t f[] = {
        0x81, 0xFE, 0x00, 0x02, 0, 0, 0, 0, 'h', 'i',
        0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 'y', 'o',
    };
    ym_buf_t in = YM_BUF_INIT;
    ym_buf_append(&in, f, sizeof(f));
    expect(&in, "T:hi|T:yo|");
    ym_buf_free(&in);
}

TEST(fragment_cap_1008_counts_empty_frames)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_TEXT, false, "");
    for (int i = 0; i < 3; i++)
        add(&in, YM_WS_OP_CONT, false, "");
    add(&in, YM_WS_OP_CONT, true, "x");
    expect_lim(&in, "T:x|", 0, 5);
    expect_lim(&in, "ERR:1008|", 0, 4);
    /* Control frames in between do not count. */
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_TEXT, false, "a");
    add(&in, YM_WS_OP_PING, true, "");
    add(&in, YM_WS_OP_PING, true, "");
    add(&in, YM_WS_OP_CONT, true, "b");
    expect_lim(&in, "PING:|PING:|T:ab|", 0, 2);
    ym_buf_free(&in);
}

TEST(close_payload_rules)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_CLOSE, true, "");
    expect(&in, "CLOSE:1005:|");
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_CLOSE, true, "\x03");
    expect(&in, "ERR:1002|");
    ym_buf_reset(&in);
    addn(&in, YM_WS_OP_CLOSE, true, 0, "\x03\xe8\xce\xba\xff", 5);
    expect(&in, "ERR:1007|");
    ym_buf_reset(&in);
    char reason[126];
    reason[0] = 0x03;
    reason[1] = (char)0xe8;
    memset(reason + 2, 'r', 124);
    addn(&in, YM_WS_OP_CLOSE, true, 0, reason, 125);
    ym_buf_t log = YM_BUF_INIT;
    run_dec(&log, in.data, in.len, 0, 0, 0);
    ASSERT(strncmp(log.data, "CLOSE:1000:rrr", 14) == 0);
    ym_buf_free(&log);
    ym_buf_reset(&in);
    addn(&in, YM_WS_OP_CLOSE, true, 0, reason, 126);
    expect(&in, "ERR:1002|");
    ym_buf_free(&in);

    static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
    static const unsigned bad[] = { 0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535 };
    for (size_t i = 0; i < YM_ARRAY_LEN(good); i++) {
        ASSERT(ym_ws_close_code_valid(good[i]));
        ym_buf_t b = YM_BUF_INIT;
        uint8_t c[2] = { (uint8_t)(good[i] >> 8), (uint8_t)good[i] };
        addn(&b, YM_WS_OP_CLOSE, true, 0, c, 2);
        char want[32];
        snprintf(want, sizeof(want), "CLOSE:%u:|", good[i]);
        expect(&b, want);
        ym_buf_free(&b);
    }
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        ASSERT(!ym_ws_close_code_valid(bad[i]));
        ym_buf_t b = YM_BUF_INIT;
        uint8_t c[2] = { (uint8_t)(bad[i] >> 8), (uint8_t)bad[i] };
        addn(&b, YM_WS_OP_CLOSE, true, 0, c, 2);
        expect(&b, "ERR:1002|");
        ym_buf_free(&b);
    }
}

TEST(error_is_sticky)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_CONT, true, "x");
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 0, 0, true);
    ym_ws_event_t ev;
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data, in.len, &ev), YM_EPROTO);
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data, in.len, &ev), YM_EPROTO);
    ASSERT(d.error != NULL);
    ym_ws_decoder_free(&d);
    ym_buf_free(&in);
}

TEST(idle_decoder_holds_no_buffer)
{
    ym_buf_t in = YM_BUF_INIT;
    add(&in, YM_WS_OP_TEXT, false, "partial");
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 0, 0, true);
    ym_ws_event_t ev;
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data, in.len, &ev), (ssize_t)in.len);
    ym_ws_decoder_trim(&d);
    ASSERT(d.msg.data != NULL); /* pending fragment kept */
    ym_buf_reset(&in);
    add(&in, YM_WS_OP_CONT, true, "!");
    ASSERT_EQ(ym_ws_decoder_feed(&d, in.data, in.len, &ev), (ssize_t)in.len);
    ASSERT_EQ(ev.type, YM_WS_EV_MESSAGE);
    ASSERT_MEM_EQ(ev.data, ev.len, "partial!", 8);
    ym_ws_decoder_trim(&d);
    ASSERT(d.msg.data == NULL);
    ym_ws_decoder_free(&d);
    ym_buf_free(&in);
}

TEST(encoder_headers)
{
    uint8_t h[10];
    ASSERT_EQ(ym_ws_frame_header(h, YM_WS_OP_TEXT, true, 0), 2);
    ASSERT_EQ(h[0], 0x81);
    ASSERT_EQ(h[1], 0);
    ASSERT_EQ(ym_ws_frame_header(h, YM_WS_OP_BINARY, false, 125), 2);
    ASSERT_EQ(h[0], 0x02);
    ASSERT_EQ(h[1], 125);
    ASSERT_EQ(ym_ws_frame_header(h, YM_WS_OP_TEXT, true, 126), 4);
    ASSERT_EQ(h[1], 126);
    ASSERT_EQ(h[2], 0);
    ASSERT_EQ(h[3], 126);
    ASSERT_EQ(ym_ws_frame_header(h, YM_WS_OP_TEXT, true, 65535), 4);
    ASSERT_EQ(h[2], 0xFF);
    ASSERT_EQ(ym_ws_frame_header(h, YM_WS_OP_TEXT, true, 65536), 10);
    ASSERT_EQ(h[1], 127);
    ASSERT_EQ(h[7], 1);
    ASSERT_EQ(h[8], 0);
    ASSERT_EQ(h[9], 0);

    ym_rbuf_t *r = ym_ws_frame_build(YM_WS_OP_TEXT, "abc", 3);
    ASSERT_MEM_EQ(r->data, r->len, "\x81\x03" "abc", 5);
    ym_rbuf_unref(r);
    r = ym_ws_frame_build_close(1000, "bye");
    ASSERT_MEM_EQ(r->data, r->len, "\x88\x05\x03\xe8" "bye", 7);
    ym_rbuf_unref(r);
    r = ym_ws_frame_build_close(0, "ignored");
    ASSERT_MEM_EQ(r->data, r->len, "\x88\x00", 2);
    ym_rbuf_unref(r);
    /* A long reason is cut to 123 bytes without splitting a code point. */
    char reason[200];
    memset(reason, 'a', sizeof(reason));
    reason[199] = 0;
    memcpy(reason + 122, "\xce\xba", 2);
    r = ym_ws_frame_build_close(1001, reason);
    ASSERT_EQ(r->len, 2 + 2 + 122);
    ASSERT(ym_utf8_valid(r->data + 4, r->len - 4));
    ym_rbuf_unref(r);

    /* Round trip through a client-side decoder. */
    ym_buf_t b = YM_BUF_INIT;
    ym_ws_frame_append(&b, YM_WS_OP_BINARY, true, "\x00\x01", 2);
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 0, 0, false);
    ym_ws_event_t ev;
    ASSERT_EQ(ym_ws_decoder_feed(&d, b.data, b.len, &ev), 4);
    ASSERT_EQ(ev.type, YM_WS_EV_MESSAGE);
    ASSERT(ev.binary);
    ASSERT_MEM_EQ(ev.data, ev.len, "\x00\x01", 2);
    ym_ws_decoder_free(&d);
    ym_buf_free(&b);
}

TEST(validator_every_code_point)
{
    /* The upstream suite's cheap check: every BMP scalar is valid, every
     * surrogate (single or paired) is not. */
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        char s[4];
        size_t n;
        if (cp < 0x80) { s[0] = (char)cp; n = 1; }
        else if (cp < 0x800) { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
        else if (cp < 0x10000) { s[0] = (char)(0xE0 | (cp >> 12)); s[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); s[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
        else { s[0] = (char)(0xF0 | (cp >> 18)); s[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); s[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        ASSERT_EQ(ym_utf8_valid(s, n), !surrogate);
    }
}

int main(void)
{
    RUN(text_and_binary_all_lengths);
    RUN(chops_do_not_matter);
    RUN(unmasked_client_frame_is_1002);
    RUN(rsv_bits_are_1002);
    RUN(reserved_opcodes_are_1002);
    RUN(control_frames_rules);
    RUN(fragmentation_errors);
    RUN(utf8_across_fragments);
    RUN(utf8_fail_fast_inside_one_frame);
    RUN(empty_fragments);
    RUN(message_size_limit_1009);
    RUN(length_msb_set_is_1002);
    RUN(non_minimal_lengths_are_accepted);
    RUN(fragment_cap_1008_counts_empty_frames);
    RUN(close_payload_rules);
    RUN(error_is_sticky);
    RUN(idle_decoder_holds_no_buffer);
    RUN(encoder_headers);
    RUN(validator_every_code_point);
    return test_report();
}
