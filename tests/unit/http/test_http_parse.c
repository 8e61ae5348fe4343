/* Unit tests of the HTTP request parser, chunked decoder, path resolution,
 * ranges and MIME types. */
#include "http/ym_http_parse.h"

#include "test.h"

#define MAXH 8192

static ym_http_header_t hdrs[16];

static ssize_t parse(const char *s, ym_http_head_t *h)
{
    size_t hint = 0;
    memset(h, 0, sizeof *h);
    h->headers = hdrs;
    h->header_cap = YM_ARRAY_LEN(hdrs);
    return ym_http__parse_head(s, strlen(s), MAXH, h, &hint);
}

/* Feeds every prefix of s (as a growing TCP buffer would), reusing the scan
 * hint: all but the full length must ask for more, the full length must
 * parse to the same result as one call. */
static void parse_every_split(const char *s)
{
    size_t n = strlen(s);
    size_t hint = 0;
    ym_http_head_t h;
    memset(&h, 0, sizeof h);
    h.headers = hdrs;
    h.header_cap = YM_ARRAY_LEN(hdrs);
    for (size_t k = 0; k < n; k++) {
        ssize_t r = ym_http__parse_head(s, k, MAXH, &h, &hint);
        if (r != YM_AGAIN)
            TEST_FAIL_("prefix %zu of %zu: %zd (%s)", k, n, r, h.error ? h.error : "");
    }
    ASSERT_EQ(ym_http__parse_head(s, n, MAXH, &h, &hint), (ssize_t)n);
    /* And split in two at every point, without the hint carried over. */
    for (size_t k = 1; k < n; k++) {
        size_t hint2 = 0;
        ASSERT_EQ(ym_http__parse_head(s, k, MAXH, &h, &hint2), YM_AGAIN);
        ASSERT_EQ(ym_http__parse_head(s, n, MAXH, &h, &hint2), (ssize_t)n);
    }
}

static const char *const valid[] = {
    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
    "HEAD /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Spaces:   v  \r\n\r\n",
    "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "DELETE /r/1 HTTP/1.1\r\nhost: a:8080\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
};

TEST(valid_requests_any_split)
{
    for (size_t i = 0; i < YM_ARRAY_LEN(valid); i++)
        parse_every_split(valid[i]);
}

TEST(fields)
{
    ym_http_head_t h;
    const char *s = "GET /p/q?x=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  spaced value \t\r\n\r\nrest";
    ASSERT_EQ(parse(s, &h), (ssize_t)(strlen(s) - 4));
    ASSERT(ym_str_eq_lit(h.method, "GET"));
    ASSERT(ym_str_eq_lit(h.target, "/p/q?x=1"));
    ASSERT(ym_str_eq_lit(h.path, "/p/q"));
    ASSERT(ym_str_eq_lit(h.query, "x=1"));
    ASSERT_EQ(h.version_minor, 1);
    ASSERT_EQ(h.header_count, 2);
    ASSERT(ym_str_eq_lit(h.headers[1].name, "X-A"));
    ASSERT(ym_str_eq_lit(h.headers[1].value, "spaced value"));
    ASSERT(h.keep_alive);
    ASSERT(!h.has_content_length);
    ASSERT(!h.chunked);
}

TEST(keep_alive_and_body_flags)
{
    ym_http_head_t h;
    ASSERT(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
    ASSERT(!h.keep_alive);
    ASSERT(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
    ASSERT(h.keep_alive);
    ASSERT(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &h) > 0);
    ASSERT(!h.keep_alive);
    ASSERT(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234\r\n\r\n", &h) > 0);
    ASSERT(h.has_content_length);
    ASSERT_EQ(h.content_length, 1234);
    ASSERT(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n", &h) > 0);
    ASSERT(h.chunked);
    ASSERT(h.expect_continue);
}

static void expect_status(const char *s, int status)
{
    ym_http_head_t h;
    ssize_t r = parse(s, &h);
    if (r != YM_EPROTO || h.status != status)
        TEST_FAIL_("%zd status %d (want %d) for \"%s\"", r, h.status, status, s);
}

TEST(smuggling_shapes_rejected)
{
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400);        /* obs-fold */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", 400);           /* bare CR */
    expect_status("GET / HTTP/1.1\nHost: a\n\n", 400);                              /* bare LF */
    expect_status("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);                       /* space before colon */
    expect_status("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\n\r\n", 400);                                   /* missing Host */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);             /* duplicate Host */
    expect_status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400);         /* control byte */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nX\x7f: a\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", 400);                /* empty name */
}

TEST(request_line_errors)
{
    expect_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
    expect_status("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_status("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
    expect_status("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
    expect_status("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
    expect_status("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET /\r\nHost: a\r\n\r\n", 400);
    expect_status("BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
    expect_status("get / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
    expect_status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_status("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(nul_detected_early)
{
    ym_http_head_t h;
    memset(&h, 0, sizeof h);
    h.headers = hdrs;
    h.header_cap = YM_ARRAY_LEN(hdrs);
    size_t hint = 0;
    ASSERT_EQ(ym_http__parse_head("GET /\0", 6, MAXH, &h, &hint), YM_EPROTO);
    ASSERT_EQ(h.status, 400);
    hint = 0;
    ASSERT_EQ(ym_http__parse_head("GET / HTTP/1.1\n", 15, MAXH, &h, &hint), YM_EPROTO);
}

TEST(limits)
{
    ym_http_head_t h;
    char big[MAXH + 200];
    /* A request line longer than the limit: 414, even before it ends. */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    size_t hint = 0;
    memset(&h, 0, sizeof h);
    h.headers = hdrs;
    h.header_cap = YM_ARRAY_LEN(hdrs);
    ASSERT_EQ(ym_http__parse_head(big, sizeof big, MAXH, &h, &hint), YM_EPROTO);
    ASSERT_EQ(h.status, 414);
    /* Headers over the limit: 431, also before the head ends. */
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'b', sizeof big - (size_t)n);
    hint = 0;
    ASSERT_EQ(ym_http__parse_head(big, sizeof big, MAXH, &h, &hint), YM_EPROTO);
    ASSERT_EQ(h.status, 431);
    /* Too many header fields: 431. */
    ym_buf_t b = YM_BUF_INIT;
    ym_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 20; i++)
        ym_buf_appendf(&b, "X-%d: v\r\n", i);
    ym_buf_append_str(&b, "\r\n");
    ym_buf_append_byte(&b, '\0');
    expect_status(b.data, 431);
    ym_buf_free(&b);
}

/* --- chunked --- */

static int dechunk(const char *s, size_t n, size_t max, ym_buf_t *out, size_t *consumed, size_t step)
{
    ym_http_chunked_t st;
    memset(&st, 0, sizeof st);
    size_t off = 0;
    int status = 0;
    while (off < n && !st.done) {
        size_t len = YM_MIN(step, n - off);
        ssize_t r = ym_http__chunked_feed(&st, s + off, len, out, max, &status);
        if (r < 0)
            return status;
        off += (size_t)r;
    }
    *consumed = off;
    return st.done ? 0 : -1;
}

TEST(chunked_valid_any_split)
{
    const char *s = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    size_t n = strlen(s);
    for (size_t step = 1; step <= n; step++) {
        ym_buf_t out = YM_BUF_INIT;
        size_t used = 0;
        ASSERT_EQ(dechunk(s, n, 1000, &out, &used, step), 0);
        ASSERT_EQ(used, n - 4);
        ASSERT_MEM_EQ(out.data, out.len, "hello 0123456789", 16);
        ym_buf_free(&out);
    }
}

static void chunk_bad(const char *s, size_t max, int status)
{
    ym_buf_t out = YM_BUF_INIT;
    size_t used = 0;
    int r = dechunk(s, strlen(s), max, &out, &used, 1);
    ym_buf_free(&out);
    if (r != status)
        TEST_FAIL_("status %d (want %d) for \"%s\"", r, status, s);
}

TEST(chunked_invalid)
{
    chunk_bad("x\r\n", 100, 400);
    chunk_bad("\r\n", 100, 400);
    chunk_bad("-1\r\n", 100, 400);
    chunk_bad("5 \r\nhello\r\n0\r\n\r\n", 100, 400);
    chunk_bad("5\nhello\r\n0\r\n\r\n", 100, 400);
    chunk_bad("5\r\nhelloX\r\n0\r\n\r\n", 100, 400);
    chunk_bad("5\r\nhello\r\n0\r\n\n", 100, 400);
    chunk_bad("1000000000000000\r\n", 1u << 30, 400);  /* 16 digits */
    chunk_bad("10\r\n0123456789abcdef\r\n0\r\n\r\n", 8, 413);
    char ext[400] = "1;";
    memset(ext + 2, 'e', 300);
    strcpy(ext + 302, "\r\na\r\n0\r\n\r\n");
    chunk_bad(ext, 100, 400);
}

/* --- paths --- */

static int resolve(const char *raw, char *out)
{
    bool slash;
    return ym_http__resolve_path(ym_str_from(raw), out, 256, &slash);
}

TEST(path_ok)
{
    char out[256];
    bool slash = false;
    ASSERT_EQ(ym_http__resolve_path(YM_STR("/"), out, sizeof out, &slash), 0);
    ASSERT_STR_EQ(out, "");
    ASSERT(slash);
    ASSERT_EQ(ym_http__resolve_path(YM_STR("/a/b.txt"), out, sizeof out, &slash), 0);
    ASSERT_STR_EQ(out, "a/b.txt");
    ASSERT(!slash);
    ASSERT_EQ(ym_http__resolve_path(YM_STR("/dir/"), out, sizeof out, &slash), 0);
    ASSERT_STR_EQ(out, "dir/");
    ASSERT(slash);
    ASSERT_EQ(resolve("/a%20b.txt", out), 0);
    ASSERT_STR_EQ(out, "a b.txt");
    ASSERT_EQ(resolve("/caf%C3%A9", out), 0);
    ASSERT_STR_EQ(out, "caf\xc3\xa9");
    ASSERT_EQ(resolve("/.well-known/x", out), 0);
    ASSERT_EQ(resolve("/a..b", out), 0);
    ASSERT_EQ(resolve("/%252e%252e/", out), 0);   /* decoded once: "%2e%2e" is a plain name */
    ASSERT_STR_EQ(out, "%2e%2e/");
}

TEST(path_traversal_variants)
{
    static const struct { const char *raw; int status; } bad[] = {
        { "/..", 404 }, { "/../", 404 }, { "/../etc/passwd", 404 }, { "/a/../../etc/passwd", 404 },
        { "/a/..", 404 }, { "/./a", 404 }, { "/a/./b", 404 }, { "/.", 404 },
        { "/%2e%2e/etc/passwd", 404 }, { "/%2E%2E/etc/passwd", 404 }, { "/.%2e/etc/passwd", 404 },
        { "/%2e./etc/passwd", 404 }, { "/%2e/a", 404 }, { "/a%2f..%2f..%2fetc%2fpasswd", 404 },
        { "/..%2fetc%2fpasswd", 404 }, { "/%2F..", 404 }, { "/a%5c..%5cb", 404 }, { "/..%5c", 404 },
        { "/a\\..\\b", 404 }, { "/\\etc\\passwd", 404 }, { "//etc/passwd", 404 }, { "/a//b", 404 },
        { "/a%00.txt", 400 }, { "/%00", 400 }, { "/a%", 400 }, { "/a%2", 400 }, { "/a%zz", 400 },
        { "/%c0%ae%c0%ae/etc/passwd", 400 }, { "/%c0%af", 400 }, { "/%ff", 400 }, { "/%e0%80%ae", 400 },
        { "/a%0ab", 400 }, { "/a%0d%0ab", 400 }, { "/%7f", 400 }, { "/%ed%a0%80", 400 },
        { "a/b", 400 }, { "", 400 }, { "/...%2f", 404 },
    };
    ASSERT(YM_ARRAY_LEN(bad) >= 30);
    char out[256];
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        int r = resolve(bad[i].raw, out);
        if (r != bad[i].status)
            TEST_FAIL_("%s: %d, want %d", bad[i].raw, r, bad[i].status);
    }
    /* Too long for the output: refused, never truncated. */
    bool slash;
    ASSERT_EQ(ym_http__resolve_path(YM_STR("/abcdefgh"), out, 4, &slash), 404);
}

/* --- ranges --- */

static int range(const char *v, uint64_t size, uint64_t *a, uint64_t *b)
{
    return ym_http__parse_range(ym_str_from(v), size, a, b);
}

TEST(ranges)
{
    uint64_t a = 0, b = 0;
    ASSERT_EQ(range("bytes=0-9", 100, &a, &b), 1);
    ASSERT_EQ(a, 0);
    ASSERT_EQ(b, 9);
    ASSERT_EQ(range("bytes=90-", 100, &a, &b), 1);
    ASSERT_EQ(a, 90);
    ASSERT_EQ(b, 99);
    ASSERT_EQ(range("bytes=-10", 100, &a, &b), 1);
    ASSERT_EQ(a, 90);
    ASSERT_EQ(b, 99);
    ASSERT_EQ(range("bytes=-1000", 100, &a, &b), 1);
    ASSERT_EQ(a, 0);
    ASSERT_EQ(range("bytes=50-1000", 100, &a, &b), 1);
    ASSERT_EQ(b, 99);
    ASSERT_EQ(range("bytes=100-", 100, &a, &b), -1);
    ASSERT_EQ(range("bytes=200-300", 100, &a, &b), -1);
    ASSERT_EQ(range("bytes=-0", 100, &a, &b), -1);
    ASSERT_EQ(range("bytes=0-0", 0, &a, &b), -1);
    ASSERT_EQ(range("bytes=0-1,5-6", 100, &a, &b), 0);
    ASSERT_EQ(range("bytes=5-1", 100, &a, &b), 0);
    ASSERT_EQ(range("items=0-1", 100, &a, &b), 0);
    ASSERT_EQ(range("bytes=a-b", 100, &a, &b), 0);
    ASSERT_EQ(range("bytes=-", 100, &a, &b), 0);
    ASSERT_EQ(range("bytes=+1-2", 100, &a, &b), 0);
}

TEST(mime)
{
    ASSERT_STR_EQ(ym_http_mime_type("a/index.html"), "text/html; charset=utf-8");
    ASSERT_STR_EQ(ym_http_mime_type("x.js"), "text/javascript; charset=utf-8");
    ASSERT_STR_EQ(ym_http_mime_type("x.mjs"), "text/javascript; charset=utf-8");
    ASSERT_STR_EQ(ym_http_mime_type("x.css"), "text/css; charset=utf-8");
    ASSERT_STR_EQ(ym_http_mime_type("x.svg"), "image/svg+xml");
    ASSERT_STR_EQ(ym_http_mime_type("x.PNG"), "image/png");
    ASSERT_STR_EQ(ym_http_mime_type("x.jpg"), "image/jpeg");
    ASSERT_STR_EQ(ym_http_mime_type("x.jpeg"), "image/jpeg");
    ASSERT_STR_EQ(ym_http_mime_type("x.webp"), "image/webp");
    ASSERT_STR_EQ(ym_http_mime_type("x.webm"), "video/webm");
    ASSERT_STR_EQ(ym_http_mime_type("x.json"), "application/json");
    ASSERT_STR_EQ(ym_http_mime_type("x.wasm"), "application/wasm");
    ASSERT_STR_EQ(ym_http_mime_type("x.ico"), "image/x-icon");
    ASSERT_STR_EQ(ym_http_mime_type("x.js.map"), "application/json");
    ASSERT_STR_EQ(ym_http_mime_type("x.txt"), "text/plain; charset=utf-8");
    ASSERT_STR_EQ(ym_http_mime_type("x.woff2"), "font/woff2");
    ASSERT_STR_EQ(ym_http_mime_type("x.bin"), "application/octet-stream");
    ASSERT_STR_EQ(ym_http_mime_type("Makefile"), "application/octet-stream");
    ASSERT_STR_EQ(ym_http_mime_type(".html"), "application/octet-stream");
    ASSERT_STR_EQ(ym_http_mime_type("dir.html/file"), "application/octet-stream");
}

TEST(pct_decode)
{
    char out[16];
    ASSERT_EQ(ym_http__pct_decode(YM_STR("a%20b+c"), out, sizeof out, true), 5);
    ASSERT_STR_EQ(out, "a b c");
    ASSERT_EQ(ym_http__pct_decode(YM_STR("a+b"), out, sizeof out, false), 3);
    ASSERT_STR_EQ(out, "a+b");
    ASSERT_EQ(ym_http__pct_decode(YM_STR("%4"), out, sizeof out, true), -1);
    ASSERT_EQ(ym_http__pct_decode(YM_STR("%g0"), out, sizeof out, true), -1);
    ASSERT_EQ(ym_http__pct_decode(YM_STR("0123456789abcdef"), out, sizeof out, true), -1);
}

int main(void)
{
    RUN(valid_requests_any_split);
    RUN(fields);
    RUN(keep_alive_and_body_flags);
    RUN(smuggling_shapes_rejected);
    RUN(request_line_errors);
    RUN(nul_detected_early);
    RUN(limits);
    RUN(chunked_valid_any_split);
    RUN(chunked_invalid);
    RUN(path_ok);
    RUN(path_traversal_variants);
    RUN(ranges);
    RUN(mime);
    RUN(pct_decode);
    return test_report();
}
