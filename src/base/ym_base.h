/* ym_base.h: allocation, error codes and small helpers shared by every layer.
 *
 * Conventions (docs/ARCHITECTURE.md, "Conventions"):
 *  - Internal allocations use ym_xmalloc & co, which abort on OOM: there is no
 *    sensible recovery and checking every call hides real errors. Anything whose
 *    size a peer controls is checked against a documented limit first.
 *  - System and I/O functions return 0 or a negative errno (libuv style).
 *  - Incremental parsers return bytes consumed (>= 0), YM_AGAIN when they need
 *    more input, YM_EPROTO when the input is malformed.
 *  - Everything here is safe on any thread unless stated otherwise.
 */
#ifndef YM_BASE_H
#define YM_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define YM_AGAIN  (-2)   /* parser: need more input */
#define YM_EPROTO (-1)   /* parser: malformed input */

#define YM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define YM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define YM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define YM_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define YM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define YM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Abort-on-OOM allocators. The returned memory belongs to the caller (free()). */
void *ym_xmalloc(size_t n);
void *ym_xcalloc(size_t count, size_t n);
void *ym_xrealloc(void *p, size_t n);
char *ym_xstrdup(const char *s);
char *ym_xstrndup(const char *s, size_t n);

/* A string slice: does not own its bytes. */
typedef struct ym_str {
    const char *p;
    size_t len;
} ym_str_t;

#define YM_STR(lit) ((ym_str_t){ (lit), sizeof(lit) - 1 })
static inline ym_str_t ym_str_from(const char *s) { return (ym_str_t){ s, s ? strlen(s) : 0 }; }
static inline bool ym_str_eq(ym_str_t a, ym_str_t b) { return a.len == b.len && memcmp(a.p, b.p, a.len) == 0; }
static inline bool ym_str_eq_lit(ym_str_t a, const char *lit) { return ym_str_eq(a, ym_str_from(lit)); }
bool ym_str_case_eq(ym_str_t a, ym_str_t b);                 /* ASCII case-insensitive */
bool ym_str_has_token(ym_str_t list, const char *token);     /* comma list, case-insensitive, trims OWS */

#endif
