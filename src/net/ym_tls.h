/* ym_tls.h: TLS (OpenSSL 3) for the net layer, over memory BIOs.
 *
 * A context holds the certificate, key and settings of one listener: TLS 1.2
 * and 1.3 only, forward-secret AEAD ciphers, ALPN "http/1.1", session tickets.
 * A per-connection state wraps one SSL with a pair of memory BIOs: the net
 * layer feeds the ciphertext it read, takes out plaintext, encrypts plaintext
 * and takes out the ciphertext to write. No socket is ever handed to OpenSSL,
 * so libuv stays the only owner of the file descriptor.
 *
 * Threading: contexts are created on the main thread before the loop runs (the
 * self-signed path writes files); everything per connection runs on the loop
 * thread only.
 */
#ifndef YM_TLS_H
#define YM_TLS_H

#include "base/ym_base.h"

#include <sys/types.h>

/* Error messages written by the constructors fit in this many bytes. */
#define YM_TLS_ERR_LEN 256

/* Names of the files a self-signed identity is persisted as, under its dir. */
#define YM_TLS_SELF_CERT "cert.pem"
#define YM_TLS_SELF_KEY  "key.pem"

typedef struct ym_tls_ctx ym_tls_ctx_t;
typedef struct ym_tls_conn ym_tls_conn_t;

/* Loads a PEM certificate (chain) and its PEM private key. Returns a context
 * owned by the caller (ym_tls_ctx_free), or NULL with a message naming the
 * file and the reason in err (at least YM_TLS_ERR_LEN bytes). */
ym_tls_ctx_t *ym_tls_ctx_new_from_files(const char *cert_pem, const char *key_pem, char *err);

/* Reuses <dir>/cert.pem + <dir>/key.pem when they exist, parse, match, are
 * valid for at least another day and name every wanted host; otherwise makes
 * a new EC P-256 key and a self-signed certificate valid 365 days whose
 * subjectAltName lists localhost, 127.0.0.1, ::1, this machine's hostname and
 * the n names in extra (DNS names or IP literals), and writes them there (dir
 * created 0700, key file 0600) so a browser's exception survives restarts.
 * Returns a context owned by the caller, or NULL with a message in err.
 * *generated (optional) tells whether new files were written. */
ym_tls_ctx_t *ym_tls_ctx_new_self_signed(const char *const *extra, size_t n, const char *dir,
                                         bool *generated, char *err);

/* Frees the context. Connections made from it hold their own reference to the
 * OpenSSL context, so this may run before they are gone. NULL is fine. */
void ym_tls_ctx_free(ym_tls_ctx_t *ctx);

/* Writes the subjectAltName entries of the context's certificate to out as
 * "DNS:localhost, IP:127.0.0.1, ..." (for the start-up log and tests). */
void ym_tls_ctx_describe(const ym_tls_ctx_t *ctx, char *out, size_t out_len);

/* --- per connection (loop thread) ------------------------------------------- */

/* A server-side TLS state for one accepted connection; freed with
 * ym_tls_conn_free by whoever made it (the net layer, in its close path). */
ym_tls_conn_t *ym_tls_conn_new(ym_tls_ctx_t *ctx);
void ym_tls_conn_free(ym_tls_conn_t *t);

/* Ciphertext from the peer. Copies it into the input BIO. Returns 0 or -EPROTO
 * (memory BIO refused the bytes). */
int ym_tls_conn_feed(ym_tls_conn_t *t, const void *p, size_t len);

/* Runs the handshake as far as the fed bytes allow and decrypts. Returns the
 * number of plaintext bytes written to buf (> 0), YM_AGAIN when more
 * ciphertext is needed, 0 when the peer sent close_notify, or -EPROTO on a
 * TLS error (the reason is logged at debug level with the given log id). The
 * handshake may have produced output either way: check ym_tls_conn_pending. */
ssize_t ym_tls_conn_read(ym_tls_conn_t *t, void *buf, size_t cap, uint64_t log_id);

/* Encrypts len plaintext bytes into the output BIO. Only after the handshake
 * (ym_tls_conn_established). Returns 0 or -EPROTO. */
int ym_tls_conn_write(ym_tls_conn_t *t, const void *p, size_t len, uint64_t log_id);

/* Ciphertext waiting to be written to the socket. */
size_t ym_tls_conn_pending(const ym_tls_conn_t *t);
/* Moves up to cap bytes of that ciphertext into out; returns how many. */
size_t ym_tls_conn_take(ym_tls_conn_t *t, void *out, size_t cap);

/* True once the handshake finished: plaintext may be encrypted. */
bool ym_tls_conn_established(const ym_tls_conn_t *t);

/* Queues a close_notify alert (ciphertext, see ym_tls_conn_pending). Only
 * after the handshake; harmless to call twice. */
void ym_tls_conn_shutdown(ym_tls_conn_t *t);

#endif
