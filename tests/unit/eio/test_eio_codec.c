/* Engine.IO packet and polling-payload codecs. */
#include "eio/ym_eio_codec.h"
#include "test.h"

TEST(packet_decode_types)
{
    ym_eio_frame_t f;
    ASSERT_EQ(ym_eio_packet_decode("4hello", 6, &f), 0);
    ASSERT_EQ(f.type, YM_EIO_MESSAGE);
    ASSERT(!f.binary);
    ASSERT_MEM_EQ(f.data, f.len, "hello", 5);
    ASSERT_EQ(ym_eio_packet_decode("2probe", 6, &f), 0);
    ASSERT_EQ(f.type, YM_EIO_PING);
    ASSERT_MEM_EQ(f.data, f.len, "probe", 5);
    ASSERT_EQ(ym_eio_packet_decode("6", 1, &f), 0);
    ASSERT_EQ(f.type, YM_EIO_NOOP);
    ASSERT_EQ(f.len, 0);
    ASSERT_EQ(ym_eio_packet_decode("0", 1, &f), 0);
    ASSERT_EQ(f.type, YM_EIO_OPEN);
}

TEST(packet_decode_rejects)
{
    ym_eio_frame_t f;
    ASSERT_EQ(ym_eio_packet_decode("", 0, &f), YM_EPROTO);
    ASSERT_EQ(ym_eio_packet_decode("7", 1, &f), YM_EPROTO);
    ASSERT_EQ(ym_eio_packet_decode("abc", 3, &f), YM_EPROTO);
    ASSERT_EQ(ym_eio_packet_decode("/4", 2, &f), YM_EPROTO);
}

/* Collects a payload into a readable trace: "T:data|" per text packet, "B:hex|" per binary. */
static int trace(const char *p, size_t n, ym_buf_t *out)
{
    ym_buf_t scratch = YM_BUF_INIT;
    size_t off = 0;
    ym_eio_frame_t f;
    int rc;
    while ((rc = ym_eio_payload_next(p, n, &off, &scratch, &f)) == 1) {
        if (f.binary) {
            ym_buf_append_str(out, "B:");
            for (size_t i = 0; i < f.len; i++)
                ym_buf_appendf(out, "%02x", (unsigned char)f.data[i]);
        } else {
            ym_buf_appendf(out, "%d:", (int)f.type);
            ym_buf_append(out, f.data, f.len);
        }
        ym_buf_append_byte(out, '|');
    }
    ym_buf_append_byte(out, '\0');
    ym_buf_free(&scratch);
    return rc;
}

TEST(payload_single_and_several)
{
    ym_buf_t t = YM_BUF_INIT;
    ASSERT_EQ(trace("4hello", 6, &t), 0);
    ASSERT_STR_EQ(t.data, "4:hello|");
    ym_buf_reset(&t);
    const char *p = "4test1\x1e" "4test2\x1e" "4test3";
    ASSERT_EQ(trace(p, strlen(p), &t), 0);
    ASSERT_STR_EQ(t.data, "4:test1|4:test2|4:test3|");
    ASSERT_EQ(ym_eio_payload_check(p, strlen(p), 16), 3);
    ASSERT_EQ(ym_eio_payload_check(p, strlen(p), 2), YM_EPROTO);
    ym_buf_free(&t);
}

TEST(payload_binary)
{
    ym_buf_t t = YM_BUF_INIT;
    const char *p = "4hello\x1e" "bAQIDBA==";
    ASSERT_EQ(trace(p, strlen(p), &t), 0);
    ASSERT_STR_EQ(t.data, "4:hello|B:01020304|");
    ym_buf_reset(&t);
    /* An empty binary message is allowed. */
    ASSERT_EQ(trace("b", 1, &t), 0);
    ASSERT_STR_EQ(t.data, "B:|");
    ym_buf_free(&t);
}

TEST(payload_rejects)
{
    static const struct { const char *p; size_t n; } bad[] = {
        { "", 0 },                 /* empty payload */
        { "abc", 3 },              /* unknown type */
        { "4a\x1e", 3 },           /* trailing separator */
        { "\x1e" "4a", 3 },        /* empty first packet */
        { "4a\x1e\x1e" "4b", 5 },  /* empty middle packet */
        { "bAQIDB", 6 },           /* base64 length */
        { "bAQ=D", 5 },            /* data after padding */
        { "b!!!!", 5 },            /* alphabet */
        { "4\xff", 2 },            /* invalid UTF-8 */
        { "4\xed\xa0\x80", 4 },    /* surrogate */
        { "8x", 2 },
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        if (ym_eio_payload_check(bad[i].p, bad[i].n, 100) != YM_EPROTO)
            TEST_FAIL_("bad payload #%zu accepted", i);
    }
    /* The valid prefix is delivered by the iterator, the check rejects the whole. */
    ym_buf_t t = YM_BUF_INIT;
    ASSERT_EQ(trace("4ok\x1e" "zz", 5, &t), YM_EPROTO);
    ASSERT_STR_EQ(t.data, "4:ok|");
    ym_buf_free(&t);
}

TEST(payload_encode_roundtrip)
{
    ym_buf_t out = YM_BUF_INIT;
    ym_eio_payload_append(&out, YM_EIO_MESSAGE, "hello", 5, false);
    ym_eio_payload_append(&out, YM_EIO_MESSAGE, "\x01\x02\x03\x04", 4, true);
    ym_eio_payload_append(&out, YM_EIO_PING, NULL, 0, false);
    ASSERT_MEM_EQ(out.data, out.len, "4hello\x1e" "bAQIDBA==\x1e" "2", 18);
    ym_buf_t t = YM_BUF_INIT;
    ASSERT_EQ(trace(out.data, out.len, &t), 0);
    ASSERT_STR_EQ(t.data, "4:hello|B:01020304|2:|");
    ym_buf_free(&t);
    ym_buf_free(&out);
}

TEST(open_packet_exact)
{
    ym_buf_t out = YM_BUF_INIT;
    ym_eio_open_packet(&out, "abcdefghij0123456789", true, 300, 200, 1000000);
    ym_buf_append_byte(&out, '\0');
    ASSERT_STR_EQ(out.data, "0{\"sid\":\"abcdefghij0123456789\",\"upgrades\":[\"websocket\"],"
                            "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}");
    ym_buf_reset(&out);
    ym_eio_open_packet(&out, "abcdefghij0123456789", false, 25000, 20000, 1000000);
    ym_buf_append_byte(&out, '\0');
    ASSERT_STR_EQ(out.data, "0{\"sid\":\"abcdefghij0123456789\",\"upgrades\":[],"
                            "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");
    ym_buf_free(&out);
}

int main(void)
{
    RUN(packet_decode_types);
    RUN(packet_decode_rejects);
    RUN(payload_single_and_several);
    RUN(payload_binary);
    RUN(payload_rejects);
    RUN(payload_encode_roundtrip);
    RUN(open_packet_exact);
    return test_report();
}
