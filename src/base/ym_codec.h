/* ym_codec.h: base64, hex, SHA-1 and random ids. Thread-safe. */
#ifndef YM_CODEC_H
#define YM_CODEC_H

#include "base/ym_buf.h"

size_t ym_b64_encoded_len(size_t n);                       /* with padding */
/* Appends the standard (RFC 4648 §4) base64 of p to out. */
void ym_b64_encode(ym_buf_t *out, const void *p, size_t n);
/* Strict decode: standard alphabet, padding required, no whitespace.
 * Appends to out. Returns 0, or -1 on any invalid input (out then holds junk). */
int ym_b64_decode(ym_buf_t *out, const char *s, size_t n);

void ym_sha1(const void *p, size_t n, uint8_t out[20]);

/* Fills p with n bytes from the kernel's CSPRNG. Aborts if it cannot. */
void ym_random_bytes(void *p, size_t n);
/* A URL-safe random id of 20 characters (15 random bytes, base64url), NUL-terminated. */
void ym_random_id(char out[21]);

#endif
