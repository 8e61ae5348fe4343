/* ym_buf.h: byte buffers.
 *
 * ym_buf_t   a growable buffer owned by one holder (abort on OOM).
 * ym_rbuf_t  an immutable, reference-counted block of bytes. One encoded
 *            broadcast frame lives in one rbuf and every recipient's send
 *            queue holds a reference to it (docs/ARCHITECTURE.md, "Broadcast").
 *            The count is not atomic: rbufs belong to the loop thread. A worker
 *            thread may build one and hand it over whole (refs == 1).
 */
#ifndef YM_BUF_H
#define YM_BUF_H

#include "base/ym_base.h"

#include <stdarg.h>

typedef struct ym_buf {
    char *data;
    size_t len;
    size_t cap;
} ym_buf_t;

#define YM_BUF_INIT ((ym_buf_t){ NULL, 0, 0 })

void ym_buf_reserve(ym_buf_t *b, size_t extra);           /* ensure cap >= len + extra */
void ym_buf_append(ym_buf_t *b, const void *p, size_t n);
void ym_buf_append_str(ym_buf_t *b, const char *s);
void ym_buf_append_byte(ym_buf_t *b, char c);
void ym_buf_appendf(ym_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ym_buf_vappendf(ym_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void ym_buf_consume(ym_buf_t *b, size_t n);                /* drop n bytes from the front */
void ym_buf_reset(ym_buf_t *b);                            /* len = 0, keeps memory */
void ym_buf_free(ym_buf_t *b);                             /* frees memory, back to YM_BUF_INIT */
/* Hands the bytes over: returns data (caller frees) and resets b. */
char *ym_buf_steal(ym_buf_t *b, size_t *len);

typedef struct ym_rbuf {
    uint32_t refs;
    uint32_t len;
    char data[];
} ym_rbuf_t;

/* New rbuf with refs = 1 and len bytes of uninitialised data. len < 4 GiB. */
ym_rbuf_t *ym_rbuf_new(size_t len);
ym_rbuf_t *ym_rbuf_copy(const void *p, size_t len);
/* Moves a ym_buf's bytes into a new rbuf; b's memory is freed (b = YM_BUF_INIT). */
ym_rbuf_t *ym_rbuf_from_buf(ym_buf_t *b);
static inline ym_rbuf_t *ym_rbuf_ref(ym_rbuf_t *r) { r->refs++; return r; }
void ym_rbuf_unref(ym_rbuf_t *r);                           /* frees at zero; NULL is fine */

#endif
