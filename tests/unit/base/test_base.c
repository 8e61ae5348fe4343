#include "test.h"

#include "base/ym_buf.h"
#include "base/ym_codec.h"
#include "base/ym_time.h"
#include "base/ym_utf8.h"

TEST(buf_append_consume)
{
    ym_buf_t b = YM_BUF_INIT;
    ym_buf_append_str(&b, "hello ");
    ym_buf_appendf(&b, "%d-%s", 42, "x");
    ASSERT_MEM_EQ(b.data, b.len, "hello 42-x", 10);
    ym_buf_consume(&b, 6);
    ASSERT_MEM_EQ(b.data, b.len, "42-x", 4);
    for (int i = 0; i < 1000; i++)
        ym_buf_appendf(&b, "%04d", i);
    ASSERT_EQ(b.len, 4 + 4000);
    ym_buf_free(&b);
    ASSERT(b.data == NULL);
}

TEST(rbuf_refcount)
{
    ym_rbuf_t *r = ym_rbuf_copy("abc", 3);
    ASSERT_EQ(r->refs, 1);
    ym_rbuf_ref(r);
    ASSERT_EQ(r->refs, 2);
    ym_rbuf_unref(r);
    ASSERT_EQ(r->refs, 1);
    ASSERT_MEM_EQ(r->data, r->len, "abc", 3);
    ym_rbuf_unref(r);
}

TEST(str_tokens)
{
    ASSERT(ym_str_has_token(YM_STR("keep-alive, Upgrade"), "upgrade"));
    ASSERT(ym_str_has_token(YM_STR("Upgrade"), "upgrade"));
    ASSERT(!ym_str_has_token(YM_STR("Upgrades"), "upgrade"));
    ASSERT(!ym_str_has_token(YM_STR(""), "upgrade"));
}

static int valid(const char *s, size_t n) { return ym_utf8_valid(s, n); }

TEST(utf8_cases)
{
    ASSERT(valid("hello", 5));
    ASSERT(valid("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", 11)); /* kosme */
    ASSERT(valid("\xF4\x8F\xBF\xBF", 4));                                /* U+10FFFF */
    ASSERT(!valid("\xF4\x90\x80\x80", 4));                               /* above */
    ASSERT(!valid("\xED\xA0\x80", 3));                                   /* surrogate */
    ASSERT(!valid("\xC0\x80", 2));                                       /* overlong NUL */
    ASSERT(!valid("\xE0\x9F\xBF", 3));                                   /* overlong */
    ASSERT(!valid("\x80", 1));
    ASSERT(!valid("\xFE", 1));
    ASSERT(!valid("\xCE", 1));                                           /* truncated */
    ASSERT(valid("\xEF\xBF\xBF", 3));                                    /* U+FFFF is valid */
    /* Incremental: one byte at a time gives the same answer, and rejects early. */
    const char *s = "\xCE\xBA\xE1\xBD\xB9\xF4\x90\x80\x80zz";
    uint32_t st = YM_UTF8_ACCEPT;
    size_t i;
    for (i = 0; i < strlen(s); i++) {
        st = ym_utf8_feed(st, s + i, 1);
        if (st == YM_UTF8_REJECT)
            break;
    }
    ASSERT_EQ(i, 6); /* fails at F4 90: the second byte of the bad sequence */
    ASSERT_EQ(ym_utf8_count("a\xCE\xBA", 3), 2);
}

TEST(utf8_every_codepoint)
{
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint8_t b[4];
        size_t n;
        if (cp < 0x80) { b[0] = (uint8_t)cp; n = 1; }
        else if (cp < 0x800) { b[0] = (uint8_t)(0xC0 | cp >> 6); b[1] = (uint8_t)(0x80 | (cp & 63)); n = 2; }
        else if (cp < 0x10000) { b[0] = (uint8_t)(0xE0 | cp >> 12); b[1] = (uint8_t)(0x80 | ((cp >> 6) & 63)); b[2] = (uint8_t)(0x80 | (cp & 63)); n = 3; }
        else { b[0] = (uint8_t)(0xF0 | cp >> 18); b[1] = (uint8_t)(0x80 | ((cp >> 12) & 63)); b[2] = (uint8_t)(0x80 | ((cp >> 6) & 63)); b[3] = (uint8_t)(0x80 | (cp & 63)); n = 4; }
        bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        ASSERT_EQ(ym_utf8_valid(b, n), !surrogate);
    }
}

TEST(base64)
{
    ym_buf_t b = YM_BUF_INIT;
    ym_b64_encode(&b, "\x01\x02\x03\x04", 4);
    ASSERT_MEM_EQ(b.data, b.len, "AQIDBA==", 8);
    ym_buf_reset(&b);
    ASSERT_EQ(ym_b64_decode(&b, "AQIDBA==", 8), 0);
    ASSERT_MEM_EQ(b.data, b.len, "\x01\x02\x03\x04", 4);
    ym_buf_reset(&b);
    ASSERT_EQ(ym_b64_decode(&b, "AQIDBA=", 7), -1);
    ASSERT_EQ(ym_b64_decode(&b, "AQ=DBA==", 8), -1);
    ASSERT_EQ(ym_b64_decode(&b, "AQIDBB==", 8), -1); /* non-canonical */
    ASSERT_EQ(ym_b64_decode(&b, "AQ ID===", 8), -1);
    ym_buf_free(&b);
}

TEST(base64_round_trip_and_rejects)
{
    uint8_t raw[300];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 97 + 13);
    for (size_t n = 0; n <= sizeof raw; n++) {
        ym_buf_t enc = YM_BUF_INIT, dec = YM_BUF_INIT;
        ym_b64_encode(&enc, raw, n);
        ASSERT_EQ(enc.len, ym_b64_encoded_len(n));
        ASSERT_EQ(ym_b64_decode(&dec, enc.data ? enc.data : "", enc.len), 0);
        ASSERT_EQ(dec.len, n);
        if (n)
            ASSERT_MEM_EQ(dec.data, dec.len, raw, n);
        /* Any byte replaced by one outside the alphabet is refused. */
        for (size_t k = 0; k < enc.len; k += 7) {
            char saved = enc.data[k];
            enc.data[k] = k % 2 ? '*' : '\0';
            ym_buf_reset(&dec);
            ASSERT_EQ(ym_b64_decode(&dec, enc.data, enc.len), -1);
            enc.data[k] = saved;
        }
        ym_buf_free(&enc);
        ym_buf_free(&dec);
    }
    ym_buf_t b = YM_BUF_INIT;
    ASSERT_EQ(ym_b64_decode(&b, "====", 4), -1);
    ASSERT_EQ(ym_b64_decode(&b, "A===", 4), -1);
    ASSERT_EQ(ym_b64_decode(&b, "AA=A", 4), -1);
    ASSERT_EQ(ym_b64_decode(&b, "AA==AAAA", 8), -1); /* padding before the end */
    ASSERT_EQ(ym_b64_decode(&b, "", 0), 0);
    ASSERT_EQ(b.len, 0);
    ym_buf_free(&b);
}

TEST(sha1_and_ids)
{
    uint8_t d[20];
    ym_sha1("abc", 3, d);
    ASSERT_EQ(d[0], 0xa9);
    ASSERT_EQ(d[19], 0x9d);
    char a[21], b[21];
    ym_random_id(a);
    ym_random_id(b);
    ASSERT_EQ(strlen(a), 20);
    ASSERT(strcmp(a, b) != 0);
    for (int i = 0; i < 20; i++)
        ASSERT(a[i] != '+' && a[i] != '/' && a[i] != '=');
}

TEST(http_dates)
{
    char out[30];
    ym_http_date(784111777, out);
    ASSERT_STR_EQ(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    time_t t;
    ASSERT_EQ(ym_http_date_parse(out, strlen(out), &t), 0);
    ASSERT_EQ(t, 784111777);
    ASSERT_EQ(ym_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t), -1);
}

int main(void)
{
    RUN(buf_append_consume);
    RUN(rbuf_refcount);
    RUN(str_tokens);
    RUN(utf8_cases);
    RUN(utf8_every_codepoint);
    RUN(base64);
    RUN(base64_round_trip_and_rejects);
    RUN(sha1_and_ids);
    RUN(http_dates);
    return test_report();
}
