/* ym_sio_packet.c: Socket.IO v5 packet decoder/encoder and a strict JSON
 * scanner. The scanner validates and measures JSON text without building a
 * tree: the relay path splices raw argument text, so echoes are byte-exact and
 * nothing a peer sends is allocated here. */
#include "sio/ym_sio_packet.h"

#include "base/ym_utf8.h"

#include <stdio.h>

typedef struct scan {
    const char *p;
    size_t len;
    size_t pos;
    long attachments;
    unsigned placeholders;
} scan_t;

static void skip_ws(scan_t *s)
{
    while (s->pos < s->len) {
        char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        s->pos++;
    }
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int scan_string(scan_t *s)
{
    size_t start = s->pos;
    if (s->pos >= s->len || s->p[s->pos] != '"')
        return -1;
    s->pos++;
    bool ascii = true;
    while (s->pos < s->len) {
        unsigned char c = (unsigned char)s->p[s->pos];
        if (c == '"') {
            s->pos++;
            /* Multi-byte sequences are checked once per string, not per byte. */
            if (!ascii && !ym_utf8_valid(s->p + start, s->pos - start))
                return -1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c >= 0x80)
            ascii = false;
        if (c == '\\') {
            if (s->pos + 1 >= s->len)
                return -1;
            char e = s->p[s->pos + 1];
            if (e == 'u') {
                if (s->pos + 6 > s->len)
                    return -1;
                for (size_t i = 2; i < 6; i++)
                    if (!is_hex(s->p[s->pos + i]))
                        return -1;
                s->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return -1;
            s->pos += 2;
            continue;
        }
        s->pos++;
    }
    return -1;
}

static int scan_number(scan_t *s)
{
    if (s->pos < s->len && s->p[s->pos] == '-')
        s->pos++;
    if (s->pos >= s->len || !is_digit(s->p[s->pos]))
        return -1;
    if (s->p[s->pos] == '0')
        s->pos++;
    else
        while (s->pos < s->len && is_digit(s->p[s->pos]))
            s->pos++;
    if (s->pos < s->len && s->p[s->pos] == '.') {
        s->pos++;
        if (s->pos >= s->len || !is_digit(s->p[s->pos]))
            return -1;
        while (s->pos < s->len && is_digit(s->p[s->pos]))
            s->pos++;
    }
    if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
        s->pos++;
        if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
            s->pos++;
        if (s->pos >= s->len || !is_digit(s->p[s->pos]))
            return -1;
        while (s->pos < s->len && is_digit(s->p[s->pos]))
            s->pos++;
    }
    return 0;
}

static int scan_lit(scan_t *s, const char *lit)
{
    size_t n = strlen(lit);
    if (s->len - s->pos < n || memcmp(s->p + s->pos, lit, n) != 0)
        return -1;
    s->pos += n;
    return 0;
}

static int scan_value(scan_t *s, unsigned depth);

/* A placeholder's num must be a plain non-negative integer below the
 * attachment count: anything else would index outside the received buffers. */
static bool placeholder_num_ok(ym_str_t num, long attachments)
{
    if (num.len == 0 || num.len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < num.len; i++) {
        if (!is_digit(num.p[i]))
            return false;
        v = v * 10 + (num.p[i] - '0');
    }
    if (num.len > 1 && num.p[0] == '0')
        return false;
    return v < attachments;
}

static int scan_object(scan_t *s, unsigned depth)
{
    s->pos++; /* '{' */
    bool is_placeholder = false;
    ym_str_t num = { NULL, 0 };
    skip_ws(s);
    if (s->pos < s->len && s->p[s->pos] == '}') {
        s->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        size_t kstart = s->pos;
        if (scan_string(s) < 0)
            return -1;
        ym_str_t key = { s->p + kstart, s->pos - kstart };
        skip_ws(s);
        if (s->pos >= s->len || s->p[s->pos] != ':')
            return -1;
        s->pos++;
        skip_ws(s);
        size_t vstart = s->pos;
        if (scan_value(s, depth + 1) < 0)
            return -1;
        size_t vend = s->pos;
        while (vend > vstart && strchr(" \t\r\n", s->p[vend - 1]))
            vend--;
        ym_str_t val = { s->p + vstart, vend - vstart };
        if (ym_str_eq_lit(key, "\"_placeholder\"") && ym_str_eq_lit(val, "true"))
            is_placeholder = true;
        else if (ym_str_eq_lit(key, "\"num\""))
            num = val;
        if (s->pos >= s->len)
            return -1;
        if (s->p[s->pos] == ',') {
            s->pos++;
            continue;
        }
        if (s->p[s->pos] == '}') {
            s->pos++;
            break;
        }
        return -1;
    }
    if (is_placeholder && s->attachments >= 0) {
        if (!placeholder_num_ok(num, s->attachments))
            return -1;
        s->placeholders++;
    }
    return 0;
}

static int scan_array(scan_t *s, unsigned depth)
{
    s->pos++; /* '[' */
    skip_ws(s);
    if (s->pos < s->len && s->p[s->pos] == ']') {
        s->pos++;
        return 0;
    }
    for (;;) {
        if (scan_value(s, depth + 1) < 0)
            return -1;
        if (s->pos >= s->len)
            return -1;
        if (s->p[s->pos] == ',') {
            s->pos++;
            continue;
        }
        if (s->p[s->pos] == ']') {
            s->pos++;
            return 0;
        }
        return -1;
    }
}

/* Scans one value plus the whitespace around it. */
static int scan_value(scan_t *s, unsigned depth)
{
    if (depth > YM_SIO_JSON_MAX_DEPTH)
        return -1;
    skip_ws(s);
    if (s->pos >= s->len)
        return -1;
    int rc;
    switch (s->p[s->pos]) {
    case '{': rc = scan_object(s, depth); break;
    case '[': rc = scan_array(s, depth); break;
    case '"': rc = scan_string(s); break;
    case 't': rc = scan_lit(s, "true"); break;
    case 'f': rc = scan_lit(s, "false"); break;
    case 'n': rc = scan_lit(s, "null"); break;
    default: rc = scan_number(s); break;
    }
    if (rc < 0)
        return -1;
    skip_ws(s);
    return 0;
}

long ym_sio_json_scan(const char *p, size_t len, long attachments, ym_sio_json_info_t *info)
{
    scan_t s = { .p = p, .len = len, .pos = 0, .attachments = attachments };
    if (scan_value(&s, 0) < 0)
        return YM_EPROTO;
    if (info)
        info->placeholders = s.placeholders;
    return (long)s.pos;
}

bool ym_sio_json_valid(const char *p, size_t len)
{
    long n = ym_sio_json_scan(p, len, -1, NULL);
    return n >= 0 && (size_t)n == len;
}

bool ym_sio_event_reserved(ym_str_t ev)
{
    static const char *const reserved[] = {
        "\"connect\"", "\"connect_error\"", "\"disconnect\"",
        "\"disconnecting\"", "\"newListener\"", "\"removeListener\"",
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(reserved); i++)
        if (ym_str_eq_lit(ev, reserved[i]))
            return true;
    /* An escaped spelling decodes to the same name in a JS client. */
    if (memchr(ev.p, '\\', ev.len)) {
        ym_buf_t b = YM_BUF_INIT;
        bool r = false;
        if (ym_sio_json_unquote(ev, &b) == 0) {
            for (size_t i = 0; i < YM_ARRAY_LEN(reserved) && !r; i++) {
                const char *name = reserved[i] + 1;
                size_t n = strlen(name) - 1;
                r = b.len == n && memcmp(b.data, name, n) == 0;
            }
        }
        ym_buf_free(&b);
        return r;
    }
    return false;
}

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    return (unsigned)(c - 'A' + 10);
}

static void put_utf8(ym_buf_t *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ym_buf_append(out, b, n);
}

int ym_sio_json_unquote(ym_str_t tok, ym_buf_t *out)
{
    scan_t s = { .p = tok.p, .len = tok.len, .attachments = -1 };
    if (scan_string(&s) < 0 || s.pos != tok.len)
        return -1;
    for (size_t i = 1; i + 1 < tok.len; i++) {
        char c = tok.p[i];
        if (c != '\\') {
            ym_buf_append_byte(out, c);
            continue;
        }
        char e = tok.p[++i];
        switch (e) {
        case 'b': ym_buf_append_byte(out, '\b'); break;
        case 'f': ym_buf_append_byte(out, '\f'); break;
        case 'n': ym_buf_append_byte(out, '\n'); break;
        case 'r': ym_buf_append_byte(out, '\r'); break;
        case 't': ym_buf_append_byte(out, '\t'); break;
        case 'u': {
            uint32_t cp = 0;
            for (int k = 1; k <= 4; k++)
                cp = (cp << 4) | hexval(tok.p[i + (size_t)k]);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < tok.len && tok.p[i + 1] == '\\' &&
                tok.p[i + 2] == 'u') {
                uint32_t lo = 0;
                for (int k = 3; k <= 6; k++)
                    lo = (lo << 4) | hexval(tok.p[i + (size_t)k]);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp == 0)
                return -1; /* would truncate a C string */
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* lone surrogate: no UTF-8 form */
            put_utf8(out, cp);
            break;
        }
        default: ym_buf_append_byte(out, e); break; /* " \ / */
        }
    }
    ym_buf_reserve(out, 1);
    out->data[out->len] = '\0';
    return 0;
}

void ym_sio_json_quote(ym_buf_t *out, const char *str, size_t len)
{
    ym_buf_append_byte(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)str[i];
        switch (c) {
        case '"': ym_buf_append(out, "\\\"", 2); break;
        case '\\': ym_buf_append(out, "\\\\", 2); break;
        case '\n': ym_buf_append(out, "\\n", 2); break;
        case '\r': ym_buf_append(out, "\\r", 2); break;
        case '\t': ym_buf_append(out, "\\t", 2); break;
        case '\b': ym_buf_append(out, "\\b", 2); break;
        case '\f': ym_buf_append(out, "\\f", 2); break;
        default:
            if (c < 0x20)
                ym_buf_appendf(out, "\\u%04x", c);
            else
                ym_buf_append_byte(out, (char)c);
        }
    }
    ym_buf_append_byte(out, '"');
}

int ym_sio_json_array_inner(const char *a, size_t len, ym_str_t *inner)
{
    size_t b = 0, e = len;
    while (b < e && strchr(" \t\r\n", a[b]))
        b++;
    while (e > b && strchr(" \t\r\n", a[e - 1]))
        e--;
    if (e - b < 2 || a[b] != '[' || a[e - 1] != ']')
        return -1;
    b++;
    e--;
    while (b < e && strchr(" \t\r\n", a[b]))
        b++;
    *inner = (ym_str_t){ a + b, e - b };
    return 0;
}

static bool is_object_text(ym_str_t d) { return d.len > 0 && d.p[0] == '{'; }

#define FAIL(msg) do { if (why) *why = (msg); return YM_EPROTO; } while (0)

long ym_sio_decode(const char *p, size_t len, unsigned max_attachments, ym_sio_packet_t *out,
                   const char **why)
{
    memset(out, 0, sizeof(*out));
    out->nsp = YM_STR("/");
    if (len == 0 || p[0] < '0' || p[0] > '6')
        FAIL("unknown packet type");
    out->type = (ym_sio_type_t)(p[0] - '0');
    size_t i = 1;
    if (out->type == YM_SIO_BINARY_EVENT || out->type == YM_SIO_BINARY_ACK) {
        size_t start = i;
        uint64_t n = 0;
        while (i < len && is_digit(p[i]) && i - start < 10) {
            n = n * 10 + (uint64_t)(p[i] - '0');
            i++;
        }
        if (i == start || i >= len || p[i] != '-')
            FAIL("illegal attachments");
        if (n > max_attachments)
            FAIL("too many attachments");
        out->attachments = (unsigned)n;
        i++;
    }
    if (i < len && p[i] == '/') {
        size_t start = i;
        while (i < len && p[i] != ',')
            i++;
        out->nsp = (ym_str_t){ p + start, i - start };
        if (out->nsp.len > YM_SIO_NSP_MAX)
            FAIL("namespace too long");
        if (!ym_utf8_valid(out->nsp.p, out->nsp.len))
            FAIL("namespace not UTF-8");
        if (i < len)
            i++; /* ',' */
    }
    if (i < len && is_digit(p[i])) {
        size_t start = i;
        uint64_t id = 0;
        while (i < len && is_digit(p[i])) {
            if (i - start >= YM_SIO_ACK_MAX_DIGITS)
                FAIL("ack id too long");
            id = id * 10 + (uint64_t)(p[i] - '0');
            i++;
        }
        out->has_id = true;
        out->id = id;
    }
    out->data = (ym_str_t){ p + i, len - i };
    bool binary = out->type == YM_SIO_BINARY_EVENT || out->type == YM_SIO_BINARY_ACK;
    ym_sio_json_info_t info = { 0 };
    if (out->data.len > 0) {
        long n = ym_sio_json_scan(out->data.p, out->data.len, binary ? (long)out->attachments : -1, &info);
        if (n < 0 || (size_t)n != out->data.len)
            FAIL("invalid payload");
    }
    ym_str_t d = out->data;
    switch (out->type) {
    case YM_SIO_CONNECT:
        if (d.len > 0 && !is_object_text(d))
            FAIL("invalid payload");
        if (out->has_id)
            FAIL("invalid payload");
        break;
    case YM_SIO_DISCONNECT:
        if (d.len > 0 || out->has_id)
            FAIL("invalid payload");
        break;
    case YM_SIO_CONNECT_ERROR:
        if (d.len == 0 || (d.p[0] != '{' && d.p[0] != '"'))
            FAIL("invalid payload");
        break;
    case YM_SIO_ACK:
    case YM_SIO_BINARY_ACK:
        if (!out->has_id || d.len == 0 || d.p[0] != '[')
            FAIL("invalid payload");
        break;
    case YM_SIO_EVENT:
    case YM_SIO_BINARY_EVENT: {
        if (d.len == 0 || d.p[0] != '[')
            FAIL("invalid payload");
        /* The value scanned whole above; now find where arg0 ends. */
        scan_t s = { .p = d.p, .len = d.len, .pos = 1, .attachments = binary ? (long)out->attachments : -1 };
        skip_ws(&s);
        size_t a0 = s.pos;
        if (a0 >= d.len || d.p[a0] == ']')
            FAIL("invalid payload");
        if (scan_value(&s, 1) < 0)
            FAIL("invalid payload");
        size_t a1 = s.pos;
        while (a1 > a0 && strchr(" \t\r\n", d.p[a1 - 1]))
            a1--;
        out->event = (ym_str_t){ d.p + a0, a1 - a0 };
        char c0 = d.p[a0];
        if (c0 == '"') {
            if (ym_sio_event_reserved(out->event))
                FAIL("reserved event name");
        } else if (!(c0 == '-' || is_digit(c0))) {
            FAIL("invalid event name");
        }
        size_t end = d.len; /* the closing ']', before any trailing whitespace */
        while (end > s.pos && d.p[end - 1] != ']')
            end--;
        end--;
        out->rest = (ym_str_t){ d.p + s.pos, end - s.pos };
        break;
    }
    }
    if (why)
        *why = NULL;
    return (long)len;
}

void ym_sio_encode_head(ym_buf_t *out, ym_sio_type_t type, unsigned attachments, const char *nsp,
                        bool has_id, uint64_t id)
{
    ym_buf_append_byte(out, (char)('0' + (int)type));
    if (type == YM_SIO_BINARY_EVENT || type == YM_SIO_BINARY_ACK)
        ym_buf_appendf(out, "%u-", attachments);
    if (nsp && strcmp(nsp, "/") != 0) {
        ym_buf_append_str(out, nsp);
        ym_buf_append_byte(out, ',');
    }
    if (has_id)
        ym_buf_appendf(out, "%llu", (unsigned long long)id);
}

int ym_sio_encode_event(ym_buf_t *out, const char *nsp, const char *event, size_t event_len,
                        const char *args_json, size_t args_len, unsigned attachments, bool has_id,
                        uint64_t id)
{
    ym_str_t inner = { "", 0 };
    if (args_json && ym_sio_json_array_inner(args_json, args_len, &inner) < 0)
        return -1;
    ym_sio_encode_head(out, attachments > 0 ? YM_SIO_BINARY_EVENT : YM_SIO_EVENT, attachments, nsp,
                       has_id, id);
    ym_buf_append_byte(out, '[');
    ym_sio_json_quote(out, event, event_len);
    if (inner.len > 0) {
        ym_buf_append_byte(out, ',');
        ym_buf_append(out, inner.p, inner.len);
    }
    ym_buf_append_byte(out, ']');
    return 0;
}
