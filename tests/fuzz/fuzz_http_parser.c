/* libFuzzer target: the request-head parser, fed both whole and as a growing
 * buffer (as TCP would deliver it), then the chunked decoder on what follows
 * the head, plus path resolution and range parsing of the parsed fields.
 * Invariants checked: whole and incremental parsing agree. */
#include "http/ym_http_parse.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path accepted for the file tree never climbs or hides a separator. */
static void check_resolved(ym_str_t raw)
{
    char out[512];
    bool slash;
    if (ym_http__resolve_path(raw, out, sizeof out, &slash) != 0)
        return;
    size_t n = strlen(out);
    if (memchr(out, '\\', n) || out[0] == '/')
        abort();
    for (size_t s = 0, i = 0; i <= n; i++) {
        if (i == n || out[i] == '/') {
            size_t sl = i - s;
            if (i < n && sl == 0)
                abort();
            if ((sl == 1 && out[s] == '.') || (sl == 2 && out[s] == '.' && out[s + 1] == '.'))
                abort();
            s = i + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    check_resolved((ym_str_t){ p, size });
    ym_http_header_t hdrs[32];
    ym_http_head_t h;
    memset(&h, 0, sizeof h);
    h.headers = hdrs;
    h.header_cap = 32;
    size_t hint = 0;
    ssize_t whole = ym_http__parse_head(p, size, 4096, &h, &hint);
    int whole_status = h.status;

    /* Incremental: prefixes in steps of 7 bytes must agree with the whole parse. */
    ym_http_head_t h2;
    memset(&h2, 0, sizeof h2);
    h2.headers = hdrs;
    h2.header_cap = 32;
    size_t hint2 = 0;
    ssize_t inc = YM_AGAIN;
    for (size_t k = 0; k <= size; k += (k + 7 <= size || k == size) ? 7 : size - k) {
        inc = ym_http__parse_head(p, k, 4096, &h2, &hint2);
        if (inc != YM_AGAIN || k == size)
            break;
    }
    if (whole >= 0 && inc != whole)
        abort();
    if (whole == YM_EPROTO && inc >= 0)
        abort();
    (void)whole_status;

    if (whole > 0) {
        /* Re-parse to get the slices (h2 may hold a prefix's view). */
        hint = 0;
        ym_http__parse_head(p, size, 4096, &h, &hint);
        char out[512];
        check_resolved(h.path);
        for (size_t i = 0; i < h.header_count; i++) {
            if (ym_str_case_eq(h.headers[i].name, YM_STR("Range"))) {
                uint64_t a, b;
                if (ym_http__parse_range(h.headers[i].value, 1000, &a, &b) == 1 && (a > b || b >= 1000))
                    abort();
            }
        }
        ym_http__pct_decode(h.query, out, sizeof out, true);
        if (h.chunked) {
            ym_http_chunked_t st;
            memset(&st, 0, sizeof st);
            ym_buf_t body = YM_BUF_INIT;
            int status;
            ssize_t r = ym_http__chunked_feed(&st, p + whole, size - (size_t)whole, &body, 65536, &status);
            if (r >= 0 && (size_t)r > size - (size_t)whole)
                abort();
            if (body.len > 65536)
                abort();
            ym_buf_free(&body);
        }
    }
    return 0;
}
