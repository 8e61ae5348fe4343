/* Socket.IO packet codec and JSON scanner: the rows of the conformance table
 * that the parser alone decides, plus the edge cases around them. */
#include "sio/ym_sio_packet.h"

#include "test.h"

static long dec(const char *s, ym_sio_packet_t *p)
{
    const char *why = NULL;
    long n = ym_sio_decode(s, strlen(s), 10, p, &why);
    if (n < 0)
        ASSERT(why != NULL);
    return n;
}

static bool ok(const char *s)
{
    ym_sio_packet_t p;
    return dec(s, &p) >= 0;
}

TEST(json_valid_values)
{
    const char *good[] = { "1", "-0", "0.5", "1e10", "-1.25E-3", "\"a\"", "\"\\u00e9\\n\"", "true", "false",
                           "null", "[]", "{}", " [ 1 , {\"a\" : [ null ] } ] ", "\"\xc3\xa9\"",
                           "{\"3\":[true]}" };
    for (size_t i = 0; i < YM_ARRAY_LEN(good); i++)
        if (!ym_sio_json_valid(good[i], strlen(good[i])))
            TEST_FAIL_("should be valid: %s", good[i]);
    const char *bad[] = { "", "01", "1.", ".5", "-", "+1", "1e", "\"a", "\"\\x\"", "\"\\u12\"", "tru", "nul",
                          "[1,]", "[,1]", "{\"a\"}", "{\"a\":1,}", "{1:2}", "[1 2]", "abc", "1 2",
                          "\"\x01\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "[", "{", "}" , "NaN", "Infinity" };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++)
        if (ym_sio_json_valid(bad[i], strlen(bad[i])))
            TEST_FAIL_("should be invalid: %s", bad[i]);
}

TEST(json_depth_capped)
{
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    ASSERT(!ym_sio_json_valid(deep, 200));
    ASSERT(ym_sio_json_valid(deep + 100 - 30, 60));
}

TEST(json_scan_reports_consumed)
{
    ASSERT_EQ(ym_sio_json_scan("[1] x", 5, -1, NULL), 4);
    ASSERT_EQ(ym_sio_json_scan("x", 1, -1, NULL), YM_EPROTO);
}

TEST(connect_main_and_custom)
{
    ym_sio_packet_t p;
    ASSERT_EQ(dec("0", &p), 1);
    ASSERT_EQ(p.type, YM_SIO_CONNECT);
    ASSERT(ym_str_eq_lit(p.nsp, "/"));
    ASSERT_EQ(p.data.len, 0);
    ASSERT(dec("0{\"token\":\"123\"}", &p) > 0);
    ASSERT(ym_str_eq_lit(p.data, "{\"token\":\"123\"}"));
    ASSERT(dec("0/custom,", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/custom"));
    ASSERT(dec("0/custom", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/custom"));
    ASSERT_EQ(p.data.len, 0);
    ASSERT(dec("0/custom,{\"token\":\"abc\"}", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/custom"));
    ASSERT(ym_str_eq_lit(p.data, "{\"token\":\"abc\"}"));
    ASSERT(!ok("0[]"));
    ASSERT(!ok("0\"x\""));
    ASSERT(!ok("01{}"));
}

TEST(disconnect)
{
    ym_sio_packet_t p;
    ASSERT(dec("1", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_DISCONNECT);
    ASSERT(dec("1/custom,", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/custom"));
    ASSERT(!ok("1{}"));
}

TEST(event_fields)
{
    ym_sio_packet_t p;
    ASSERT(dec("2[\"message\",1,\"2\",{\"3\":[true]}]", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_EVENT);
    ASSERT(!p.has_id);
    ASSERT(ym_str_eq_lit(p.event, "\"message\""));
    ASSERT(ym_str_eq_lit(p.rest, ",1,\"2\",{\"3\":[true]}"));
    ASSERT(dec("2456[\"message-with-ack\",1]", &p) > 0);
    ASSERT(p.has_id);
    ASSERT_EQ(p.id, 456);
    ASSERT(dec("2/chat,7[\"x\"]", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/chat"));
    ASSERT_EQ(p.id, 7);
    ASSERT(ym_str_eq_lit(p.event, "\"x\""));
    ASSERT_EQ(p.rest.len, 0);
    ASSERT(dec("2[12,true]", &p) > 0);
    ASSERT(ym_str_eq_lit(p.event, "12"));
    ASSERT(dec("2[\"\",{}]\t ", &p) > 0);  /* trailing whitespace (fuzz find) */
    ASSERT(ym_str_eq_lit(p.rest, ",{}"));
    ASSERT(dec("2[ \"a\" , 1 ]", &p) > 0);
    ASSERT(ym_str_eq_lit(p.event, "\"a\""));
}

TEST(event_invalid)
{
    ASSERT(!ok("2{}"));                         /* invalid payload format row */
    ASSERT(!ok("2abc[\"message-with-ack\",1]")); /* invalid ack id row */
    ASSERT(!ok("abc"));                         /* unknown type row */
    ASSERT(!ok("7[\"a\"]"));
    ASSERT(!ok(""));
    ASSERT(!ok("2[]"));
    ASSERT(!ok("2"));
    ASSERT(!ok("2[true]"));
    ASSERT(!ok("2[{}]"));
    ASSERT(!ok("2[\"connect\"]"));
    ASSERT(!ok("2[\"disconnecting\",1]"));
    ASSERT(!ok("2[\"newListener\"]"));
    ASSERT(!ok("2[\"removeListener\"]"));
    ASSERT(!ok("2[\"connect_error\"]"));
    ASSERT(!ok("2[\"disconnect\"]"));
    ASSERT(!ok("2[\"\\u0063onnect\"]"));        /* escaped reserved name */
    ASSERT(ok("2[\"connected\"]"));
    ASSERT(!ok("2[\"a\"] "  "x"));
    ASSERT(!ok("21234567890123456[\"a\"]"));    /* ack id over 15 digits */
    ASSERT(ok("2123456789012345[\"a\"]"));
}

TEST(ack)
{
    ym_sio_packet_t p;
    ASSERT(dec("3456[1,\"2\",{\"3\":[false]}]", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_ACK);
    ASSERT_EQ(p.id, 456);
    ASSERT(ym_str_eq_lit(p.data, "[1,\"2\",{\"3\":[false]}]"));
    ASSERT(ok("31[]"));
    ASSERT(!ok("3[]"));
    ASSERT(!ok("31{}"));
    ASSERT(!ok("31"));
}

TEST(connect_error)
{
    ym_sio_packet_t p;
    ASSERT(dec("4/random,{\"message\":\"Invalid namespace\"}", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_CONNECT_ERROR);
    ASSERT(ok("4\"nope\""));
    ASSERT(!ok("4[]"));
    ASSERT(!ok("4"));
}

TEST(binary_event_and_placeholders)
{
    ym_sio_packet_t p;
    ASSERT(dec("52-[\"message\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_BINARY_EVENT);
    ASSERT_EQ(p.attachments, 2);
    ASSERT(!p.has_id);
    ASSERT(dec("52-789[\"message-with-ack\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p) > 0);
    ASSERT_EQ(p.id, 789);
    ASSERT(dec("62-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p) > 0);
    ASSERT_EQ(p.type, YM_SIO_BINARY_ACK);
    ASSERT_EQ(p.attachments, 2);
    ASSERT(dec("51-/chat,3[\"x\",{\"_placeholder\":true,\"num\":0}]", &p) > 0);
    ASSERT(ym_str_eq_lit(p.nsp, "/chat"));
    ASSERT_EQ(p.id, 3);
    /* CVE-2022-2421: num must index a received attachment. */
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":1}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":-1}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":\"0\"}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":0.5}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":{}}]"));
    ASSERT(!ok("51-[\"x\",{\"_placeholder\":true,\"num\":00}]"));
    ASSERT(ok("51-[\"x\",{\"_placeholder\":false,\"num\":9}]"));
    /* a placeholder-looking object in a plain EVENT is just an object */
    ASSERT(ok("2[\"x\",{\"_placeholder\":true,\"num\":9}]"));
    /* attachment count */
    ASSERT(!ok("5[\"x\"]"));
    ASSERT(!ok("5-[\"x\"]"));
    ASSERT(!ok("511-[\"x\"]"));    /* over max_attachments 10 */
    ASSERT(ok("510-[\"x\"]"));
    ASSERT(!ok("599999999999-[\"x\"]"));
    ASSERT(!ok("52[\"x\"]"));
}

TEST(namespace_limits)
{
    char big[400] = "0/";
    memset(big + 2, 'a', 300);
    big[302] = '\0';
    ASSERT(!ok(big));
    ASSERT(!ok("0/\xff,"));
}

TEST(encode)
{
    ym_buf_t b = YM_BUF_INIT;
    ASSERT_EQ(ym_sio_encode_event(&b, "/", "message-back", 12, "[1,\"2\",{\"3\":[true]}]", 20, 0, false, 0), 0);
    ASSERT_MEM_EQ(b.data, b.len, "2[\"message-back\",1,\"2\",{\"3\":[true]}]", strlen("2[\"message-back\",1,\"2\",{\"3\":[true]}]"));
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_encode_event(&b, "/custom", "auth", 4, "[{}]", 4, 0, false, 0), 0);
    ASSERT_MEM_EQ(b.data, b.len, "2/custom,[\"auth\",{}]", strlen("2/custom,[\"auth\",{}]"));
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_encode_event(&b, "/", "e", 1, NULL, 0, 0, true, 5), 0);
    ASSERT_MEM_EQ(b.data, b.len, "25[\"e\"]", strlen("25[\"e\"]"));
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_encode_event(&b, "/", "e", 1, "[ ]", 3, 0, false, 0), 0);
    ASSERT_MEM_EQ(b.data, b.len, "2[\"e\"]", strlen("2[\"e\"]"));
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_encode_event(&b, "/", "q\"\n", 3, "[{\"_placeholder\":true,\"num\":0}]", 31, 1, false, 0), 0);
    ASSERT_MEM_EQ(b.data, b.len, "51-[\"q\\\"\\n\",{\"_placeholder\":true,\"num\":0}]", strlen("51-[\"q\\\"\\n\",{\"_placeholder\":true,\"num\":0}]"));
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_encode_event(&b, "/", "e", 1, "{}", 2, 0, false, 0), -1);
    ym_buf_reset(&b);
    ym_sio_encode_head(&b, YM_SIO_BINARY_ACK, 2, "/", true, 789);
    ASSERT_MEM_EQ(b.data, b.len, "62-789", strlen("62-789"));
    ym_buf_reset(&b);
    ym_sio_encode_head(&b, YM_SIO_CONNECT_ERROR, 0, "/random", false, 0);
    ASSERT_MEM_EQ(b.data, b.len, "4/random,", strlen("4/random,"));
    ym_buf_free(&b);
}

TEST(encode_decode_roundtrip)
{
    ym_buf_t b = YM_BUF_INIT;
    ASSERT_EQ(ym_sio_encode_event(&b, "/n", "ev", 2, "[1,[2]]", 7, 0, true, 42), 0);
    ym_sio_packet_t p;
    ASSERT_EQ(ym_sio_decode(b.data, b.len, 10, &p, NULL), (long)b.len);
    ASSERT(ym_str_eq_lit(p.nsp, "/n"));
    ASSERT_EQ(p.id, 42);
    ASSERT(ym_str_eq_lit(p.event, "\"ev\""));
    ASSERT(ym_str_eq_lit(p.rest, ",1,[2]"));
    ym_buf_free(&b);
}

TEST(unquote_quote)
{
    ym_buf_t b = YM_BUF_INIT;
    ASSERT_EQ(ym_sio_json_unquote(YM_STR("\"a\\n\\u00e9\\ud83d\\ude00\\\"\""), &b), 0);
    ASSERT_STR_EQ(b.data, "a\n\xc3\xa9\xf0\x9f\x98\x80\"");
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_json_unquote(YM_STR("\"\\u0000\""), &b), -1);
    ym_buf_reset(&b);
    ASSERT_EQ(ym_sio_json_unquote(YM_STR("12"), &b), -1);
    ym_buf_reset(&b);
    ym_sio_json_quote(&b, "x\x01\\", 3);
    ASSERT_MEM_EQ(b.data, b.len, "\"x\\u0001\\\\\"", strlen("\"x\\u0001\\\\\""));
    ym_buf_free(&b);
}

int main(void)
{
    RUN(json_valid_values);
    RUN(json_depth_capped);
    RUN(json_scan_reports_consumed);
    RUN(connect_main_and_custom);
    RUN(disconnect);
    RUN(event_fields);
    RUN(event_invalid);
    RUN(ack);
    RUN(connect_error);
    RUN(binary_event_and_placeholders);
    RUN(namespace_limits);
    RUN(encode);
    RUN(encode_decode_roundtrip);
    RUN(unquote_quote);
    return test_report();
}
