/* ym_utf8.h: strict, incremental UTF-8 validation (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). Feed bytes in any chops; the state
 * carries a partial code point across calls, so WebSocket text can be
 * checked fail-fast, fragment by fragment. Thread-safe (no globals). */
#ifndef YM_UTF8_H
#define YM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YM_UTF8_ACCEPT 0u           /* at a code-point boundary */
#define YM_UTF8_REJECT 0xFFFFFFFFu  /* invalid; stays rejected */

/* Returns the new state; YM_UTF8_REJECT as soon as a byte is impossible. */
uint32_t ym_utf8_feed(uint32_t state, const void *p, size_t n);
/* A whole, complete string. */
static inline bool ym_utf8_valid(const void *p, size_t n) { return ym_utf8_feed(YM_UTF8_ACCEPT, p, n) == YM_UTF8_ACCEPT; }
/* Number of code points in valid UTF-8 (counts bytes that are not continuation bytes). */
size_t ym_utf8_count(const void *p, size_t n);

#endif
