/* ym_http_parse.c: strict HTTP/1.1 request parsing (RFC 9112). Anything a
 * front proxy might read differently from us (the request smuggling shapes) is
 * refused rather than repaired: see ym_http_parse.h for the statuses. */
#include "http/ym_http_parse.h"

#include "base/ym_utf8.h"

#include <stdio.h>

static bool is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static ssize_t fail(ym_http_head_t *h, int status, const char *why)
{
    h->status = status;
    h->error = why;
    return YM_EPROTO;
}

bool ym_http__method_known(ym_str_t m)
{
    static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
    for (size_t i = 0; i < YM_ARRAY_LEN(known); i++)
        if (ym_str_eq_lit(m, known[i]))
            return true;
    return false;
}

/* Too long: 414 if the request line itself does not fit, else 431. */
static ssize_t too_long(ym_http_head_t *h, const char *p, size_t start, size_t len, size_t max)
{
    const char *nl = memchr(p + start, '\n', YM_MIN(len - start, max + 1));
    if (!nl)
        return fail(h, 414, "request line too long");
    return fail(h, 431, "request header fields too large");
}

static ssize_t parse_request_line(const char *p, size_t ls, size_t le, ym_http_head_t *h)
{
    size_t i = ls;
    while (i < le && is_tchar((unsigned char)p[i]))
        i++;
    if (i == ls || i >= le || p[i] != ' ')
        return fail(h, 400, "bad method");
    h->method = (ym_str_t){ p + ls, i - ls };
    size_t ts = ++i;
    while (i < le && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == ts || i >= le || p[i] != ' ')
        return fail(h, 400, "bad request target");
    h->target = (ym_str_t){ p + ts, i - ts };
    i++;
    size_t vlen = le - i;
    const char *v = p + i;
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
        v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
        return fail(h, 400, "bad version");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(h, 505, "HTTP version not supported");
    h->version_minor = v[7] - '0';

    if (h->target.p[0] == '*' && h->target.len == 1) {
        if (!ym_str_eq_lit(h->method, "OPTIONS"))
            return fail(h, 400, "asterisk form only with OPTIONS");
        h->path = h->target;
        h->query = (ym_str_t){ h->target.p + 1, 0 };
        return 0;
    }
    if (h->target.p[0] != '/')
        return fail(h, 400, "only origin-form targets");
    if (memchr(h->target.p, '#', h->target.len))
        return fail(h, 400, "fragment in target");
    const char *q = memchr(h->target.p, '?', h->target.len);
    if (q) {
        h->path = (ym_str_t){ h->target.p, (size_t)(q - h->target.p) };
        h->query = (ym_str_t){ q + 1, h->target.len - h->path.len - 1 };
    } else {
        h->path = h->target;
        h->query = (ym_str_t){ h->target.p + h->target.len, 0 };
    }
    return 0;
}

static ssize_t parse_content_length(ym_str_t v, uint64_t *out, ym_http_head_t *h)
{
    /* Digits only: no sign, no spaces, no hex, no lists. 18 digits fit in 64 bits. */
    if (v.len == 0 || v.len > 18)
        return fail(h, 400, "bad Content-Length");
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return fail(h, 400, "bad Content-Length");
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return 0;
}

ssize_t ym_http__parse_head(const char *p, size_t len, size_t max, ym_http_head_t *h, size_t *scan_hint)
{
    size_t start = 0;
    h->header_count = 0;
    h->status = 0;
    h->error = NULL;
    /* RFC 9112 2.2: a server should ignore at least one empty line before the
     * request line (some clients send CRLF after a POST body). */
    while (start + 1 < len && p[start] == '\r' && p[start + 1] == '\n') {
        start += 2;
        if (start > max)
            return fail(h, 400, "too many empty lines");
    }
    if (start == len || (start + 1 == len && p[start] == '\r'))
        return YM_AGAIN;

    size_t i = YM_MAX(*scan_hint, start);
    size_t end = 0;
    for (; i < len; i++) {
        char ch = p[i];
        if (ch == '\n') {
            if (i == start || p[i - 1] != '\r')
                return fail(h, 400, "bare LF");
            if (i >= start + 3 && p[i - 2] == '\n') {
                end = i + 1;
                break;
            }
        } else if (ch == '\r') {
            if (i + 1 < len && p[i + 1] != '\n')
                return fail(h, 400, "bare CR");
        } else if (ch == '\0') {
            return fail(h, 400, "NUL in head");
        }
        if (i - start >= max + 2)
            return too_long(h, p, start, len, max);
    }
    if (!end) {
        *scan_hint = len > start ? len - 1 : start;
        if (len - start > max + 2)
            return too_long(h, p, start, len, max);
        return YM_AGAIN;
    }
    if (end - start > max + 2)
        return too_long(h, p, start, len, max);

    /* The head [start, end) has only CRLF line ends now. */
    const char *crlf = memchr(p + start, '\r', end - start);
    size_t le = (size_t)(crlf - p);
    if (parse_request_line(p, start, le, h) < 0)
        return YM_EPROTO;

    size_t host_count = 0, te_count = 0;
    ym_str_t te = { NULL, 0 };
    bool conn_close = false, conn_keep = false;
    h->has_content_length = false;
    h->content_length = 0;
    h->chunked = false;
    h->expect_continue = false;

    size_t ls = le + 2;
    while (ls < end - 2) {
        crlf = memchr(p + ls, '\r', end - ls);
        le = (size_t)(crlf - p);
        if (p[ls] == ' ' || p[ls] == '\t')
            return fail(h, 400, "obsolete line folding");
        size_t j = ls;
        while (j < le && is_tchar((unsigned char)p[j]))
            j++;
        if (j == ls || j >= le || p[j] != ':')
            return fail(h, 400, j < le && (p[j] == ' ' || p[j] == '\t') ? "whitespace before colon" : "bad header name");
        ym_str_t name = { p + ls, j - ls };
        j++;
        while (j < le && (p[j] == ' ' || p[j] == '\t'))
            j++;
        size_t vs = j, ve = j;
        for (; j < le; j++) {
            unsigned char ch = (unsigned char)p[j];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return fail(h, 400, "control byte in header value");
            if (ch != ' ' && ch != '\t')
                ve = j + 1;
        }
        ym_str_t value = { p + vs, ve - vs };
        if (h->header_count >= h->header_cap)
            return fail(h, 431, "too many header fields");
        h->headers[h->header_count++] = (ym_http_header_t){ name, value };

        if (ym_str_case_eq(name, YM_STR("Content-Length"))) {
            if (h->has_content_length)
                return fail(h, 400, "duplicate Content-Length");
            if (parse_content_length(value, &h->content_length, h) < 0)
                return YM_EPROTO;
            h->has_content_length = true;
        } else if (ym_str_case_eq(name, YM_STR("Transfer-Encoding"))) {
            te_count++;
            te = value;
        } else if (ym_str_case_eq(name, YM_STR("Host"))) {
            host_count++;
            for (size_t k = 0; k < value.len; k++) {
                unsigned char ch = (unsigned char)value.p[k];
                if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == '@' || ch == '\\')
                    return fail(h, 400, "bad Host");
            }
        } else if (ym_str_case_eq(name, YM_STR("Connection"))) {
            if (ym_str_has_token(value, "close"))
                conn_close = true;
            if (ym_str_has_token(value, "keep-alive"))
                conn_keep = true;
        } else if (ym_str_case_eq(name, YM_STR("Expect"))) {
            if (ym_str_case_eq(value, YM_STR("100-continue")))
                h->expect_continue = true;
        }
        ls = le + 2;
    }

    if (h->version_minor == 1 && host_count == 0)
        return fail(h, 400, "missing Host");
    if (host_count > 1)
        return fail(h, 400, "duplicate Host");
    if (te_count) {
        if (h->has_content_length)
            return fail(h, 400, "both Content-Length and Transfer-Encoding");
        if (te_count > 1 || h->version_minor == 0)
            return fail(h, 400, "bad Transfer-Encoding");
        if (!ym_str_case_eq(te, YM_STR("chunked")))
            return fail(h, 501, "Transfer-Encoding other than chunked");
        h->chunked = true;
    }
    if (!ym_http__method_known(h->method))
        return fail(h, 501, "unknown method");
    h->keep_alive = h->version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
    *scan_hint = 0;
    return (ssize_t)end;
}

/* --- chunked ------------------------------------------------------------ */

enum {
    CK_SIZE = 0, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF,
    CK_TRAILER_START, CK_TRAILER_LINE, CK_TRAILER_LF, CK_END_LF,
};

#define YM_CHUNK_EXT_MAX     256
#define YM_CHUNK_TRAILER_MAX 8192

ssize_t ym_http__chunked_feed(ym_http_chunked_t *st, const char *p, size_t len,
                              ym_buf_t *out, size_t max_body, int *status)
{
    size_t i = 0;
    *status = 400;
    while (i < len && !st->done) {
        unsigned char ch = (unsigned char)p[i];
        switch (st->state) {
        case CK_SIZE: {
            int hv = hexval(ch);
            if (hv >= 0) {
                /* 15 hex digits keep the size below 2^60: no overflow. */
                if (++st->digits > 15)
                    return YM_EPROTO;
                st->size = st->size * 16 + (uint64_t)hv;
            } else if (st->digits == 0) {
                return YM_EPROTO;
            } else if (ch == ';') {
                st->state = CK_EXT;
                st->ext_len = 0;
            } else if (ch == '\r') {
                st->state = CK_SIZE_LF;
            } else {
                return YM_EPROTO;
            }
            i++;
            break;
        }
        case CK_EXT:
            if (ch == '\r') {
                st->state = CK_SIZE_LF;
            } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f || ++st->ext_len > YM_CHUNK_EXT_MAX) {
                return YM_EPROTO;
            }
            i++;
            break;
        case CK_SIZE_LF:
            if (ch != '\n')
                return YM_EPROTO;
            i++;
            st->digits = 0;
            if (st->size == 0) {
                st->state = CK_TRAILER_START;
            } else {
                if (st->size > max_body || out->len + st->size > max_body) {
                    *status = 413;
                    return YM_EPROTO;
                }
                st->state = CK_DATA;
            }
            break;
        case CK_DATA: {
            size_t n = (size_t)YM_MIN((uint64_t)(len - i), st->size);
            ym_buf_append(out, p + i, n);
            i += n;
            st->size -= n;
            if (st->size == 0)
                st->state = CK_DATA_CR;
            break;
        }
        case CK_DATA_CR:
            if (ch != '\r')
                return YM_EPROTO;
            st->state = CK_DATA_LF;
            i++;
            break;
        case CK_DATA_LF:
            if (ch != '\n')
                return YM_EPROTO;
            st->state = CK_SIZE;
            i++;
            break;
        case CK_TRAILER_START:
            if (ch == '\r') {
                st->state = CK_END_LF;
            } else if (is_tchar(ch)) {
                st->state = CK_TRAILER_LINE;
            } else {
                return YM_EPROTO;
            }
            i++;
            break;
        case CK_TRAILER_LINE:
            /* Trailers are read and dropped: nothing here uses them. */
            if (++st->trailer_bytes > YM_CHUNK_TRAILER_MAX || ch == '\n' || ch == 0 ||
                (ch < 0x20 && ch != '\t' && ch != '\r'))
                return YM_EPROTO;
            if (ch == '\r')
                st->state = CK_TRAILER_LF;
            i++;
            break;
        case CK_TRAILER_LF:
            if (ch != '\n')
                return YM_EPROTO;
            st->state = CK_TRAILER_START;
            i++;
            break;
        case CK_END_LF:
            if (ch != '\n')
                return YM_EPROTO;
            st->done = true;
            i++;
            break;
        default:
            return YM_EPROTO;
        }
    }
    return (ssize_t)i;
}

/* --- paths, ranges, escapes --------------------------------------------- */

ssize_t ym_http__pct_decode(ym_str_t src, char *out, size_t out_size, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < src.len; i++) {
        char ch = src.p[i];
        if (ch == '%') {
            if (i + 2 >= src.len)
                return -1;
            int a = hexval((unsigned char)src.p[i + 1]), b = hexval((unsigned char)src.p[i + 2]);
            if (a < 0 || b < 0)
                return -1;
            ch = (char)(a * 16 + b);
            i += 2;
        } else if (ch == '+' && plus_space) {
            ch = ' ';
        }
        if (o + 1 >= out_size)
            return -1;
        out[o++] = ch;
    }
    if (out_size == 0)
        return -1;
    out[o] = '\0';
    return (ssize_t)o;
}

int ym_http__resolve_path(ym_str_t raw, char *out, size_t out_size, bool *dir_slash)
{
    if (raw.len == 0 || raw.p[0] != '/')
        return 400;
    size_t o = 0;
    /* Decode once, segment by segment, so an escaped '/' can be told apart
     * from a real one and refused. */
    for (size_t i = 1; i < raw.len; i++) {
        unsigned char ch = (unsigned char)raw.p[i];
        if (ch == '%') {
            if (i + 2 >= raw.len)
                return 400;
            int a = hexval((unsigned char)raw.p[i + 1]), b = hexval((unsigned char)raw.p[i + 2]);
            if (a < 0 || b < 0)
                return 400;
            ch = (unsigned char)(a * 16 + b);
            i += 2;
            if (ch == 0)
                return 400;
            if (ch == '/' || ch == '\\')
                return 404;
        } else if (ch == '\\') {
            return 404;
        }
        if (ch < 0x20 || ch == 0x7f)
            return 400;
        if (o + 1 >= out_size)
            return 404;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    if (!ym_utf8_valid(out, o))
        return 400;
    *dir_slash = o == 0 || out[o - 1] == '/';
    /* Segment checks on the decoded path: no empty, "." or ".." segments. */
    size_t seg = 0;
    for (size_t i = 0; i <= o; i++) {
        if (i == o || out[i] == '/') {
            size_t sl = i - seg;
            if (i == o && sl == 0)
                break;   /* trailing slash (or the root) */
            if (sl == 0)
                return 404;
            if ((sl == 1 && out[seg] == '.') || (sl == 2 && out[seg] == '.' && out[seg + 1] == '.'))
                return 404;
            seg = i + 1;
        }
    }
    return 0;
}

static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
    if (len == 0 || len > 18)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(p[i] - '0');
    }
    *out = n;
    return true;
}

int ym_http__parse_range(ym_str_t v, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (!v.p || v.len < 7 || strncasecmp(v.p, "bytes=", 6) != 0)
        return 0;
    const char *s = v.p + 6;
    size_t n = v.len - 6;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (memchr(s, ',', n))
        return 0;   /* several ranges: we answer with the whole file */
    const char *dash = memchr(s, '-', n);
    if (!dash)
        return 0;
    size_t al = (size_t)(dash - s), bl = n - al - 1;
    uint64_t a = 0, b = 0;
    if (al == 0) {
        /* suffix range: the last b bytes */
        if (!parse_u64(dash + 1, bl, &b))
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *start = b >= size ? 0 : size - b;
        *end = size - 1;
        return 1;
    }
    if (!parse_u64(s, al, &a))
        return 0;
    if (bl == 0) {
        b = UINT64_MAX;
    } else if (!parse_u64(dash + 1, bl, &b) || b < a) {
        return 0;
    }
    if (a >= size)
        return -1;
    *start = a;
    *end = b >= size ? size - 1 : b;
    return 1;
}
