#include "base/ym_buf.h"

#include <stdio.h>
#include <stdlib.h>

void ym_buf_reserve(ym_buf_t *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = ym_xrealloc(b->data, cap);
    b->cap = cap;
}

void ym_buf_append(ym_buf_t *b, const void *p, size_t n)
{
    if (!n)
        return;
    ym_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ym_buf_append_str(ym_buf_t *b, const char *s)
{
    ym_buf_append(b, s, strlen(s));
}

void ym_buf_append_byte(ym_buf_t *b, char c)
{
    ym_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void ym_buf_vappendf(ym_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    ym_buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        ym_buf_reserve(b, (size_t)n + 1);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0)
        b->len += (size_t)n;
}

void ym_buf_appendf(ym_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ym_buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void ym_buf_consume(ym_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void ym_buf_reset(ym_buf_t *b)
{
    b->len = 0;
}

void ym_buf_free(ym_buf_t *b)
{
    free(b->data);
    *b = YM_BUF_INIT;
}

char *ym_buf_steal(ym_buf_t *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    *b = YM_BUF_INIT;
    return d;
}

ym_rbuf_t *ym_rbuf_new(size_t len)
{
    if (len > UINT32_MAX) {
        fprintf(stderr, "yoom: rbuf of %zu bytes is too large\n", len);
        abort();
    }
    ym_rbuf_t *r = ym_xmalloc(sizeof(*r) + len);
    r->refs = 1;
    r->len = (uint32_t)len;
    return r;
}

ym_rbuf_t *ym_rbuf_copy(const void *p, size_t len)
{
    ym_rbuf_t *r = ym_rbuf_new(len);
    if (len)
        memcpy(r->data, p, len);
    return r;
}

ym_rbuf_t *ym_rbuf_from_buf(ym_buf_t *b)
{
    ym_rbuf_t *r = ym_rbuf_copy(b->data, b->len);
    ym_buf_free(b);
    return r;
}

void ym_rbuf_unref(ym_rbuf_t *r)
{
    if (!r)
        return;
    if (YM_UNLIKELY(r->refs == 0)) {
        fprintf(stderr, "yoom: rbuf released below zero\n");
        abort();
    }
    if (--r->refs == 0)
        free(r);
}
