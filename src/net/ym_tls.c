/* ym_tls.c: TLS contexts and per-connection TLS state (contract in ym_tls.h). */
#include "net/ym_tls.h"

#include "base/ym_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define YM_TLS_DAYS         365
#define YM_TLS_MIN_LEFT_S   (24 * 3600)   /* regenerate a persisted cert this close to expiry */
#define YM_TLS_MAX_NAMES    (YM_TLS_FIXED_NAMES + 1 + 64)
#define YM_TLS_FIXED_NAMES  3
#define YM_TLS_NAME_MAX     253

struct ym_tls_ctx {
    SSL_CTX *sc;
};

struct ym_tls_conn {
    SSL *ssl;
    BIO *rb;    /* ciphertext in: the net layer writes, OpenSSL reads */
    BIO *wb;    /* ciphertext out: OpenSSL writes, the net layer reads */
};

static void errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errf(char *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, YM_TLS_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* The most specific OpenSSL reason on the thread's error queue, which is
 * emptied so that the next connection's SSL_get_error is not misled. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0) {
        snprintf(buf, len, "unknown error");
    } else {
        ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
    return buf;
}

/* --- context ------------------------------------------------------------- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char http11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    unsigned char sel_len = 0;
    if (SSL_select_next_proto(&sel, &sel_len, http11, sizeof http11 - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        *outlen = sel_len;
        return SSL_TLSEXT_ERR_OK;
    }
    /* A client offering only h2 gets no ALPN answer rather than a failed
     * handshake; it falls back or gives up on its own terms. */
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *ctx_base(char *err)
{
    SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
    if (!sc) {
        char r[160];
        errf(err, "TLS: cannot create a context: %s", ssl_reason(r, sizeof r));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
    /* TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are all modern. */
    SSL_CTX_set_cipher_list(sc, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle connections (most of them) give their record buffers back. */
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    /* Stateless tickets: resumption without a server-side cache. */
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    SSL_CTX_clear_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_set_alpn_select_cb(sc, alpn_select, NULL);
    return sc;
}

static ym_tls_ctx_t *ctx_wrap(SSL_CTX *sc)
{
    ym_tls_ctx_t *ctx = ym_xcalloc(1, sizeof *ctx);
    ctx->sc = sc;
    return ctx;
}

ym_tls_ctx_t *ym_tls_ctx_new_from_files(const char *cert_pem, const char *key_pem, char *err)
{
    char r[160];
    if (!cert_pem || !key_pem) {
        errf(err, "TLS: both a certificate and a key file are needed");
        return NULL;
    }
    /* The OS reason (missing, unreadable) is clearer than OpenSSL's. */
    if (access(cert_pem, R_OK) != 0) {
        errf(err, "TLS certificate %s: %s", cert_pem, strerror(errno));
        return NULL;
    }
    if (access(key_pem, R_OK) != 0) {
        errf(err, "TLS key %s: %s", key_pem, strerror(errno));
        return NULL;
    }
    SSL_CTX *sc = ctx_base(err);
    if (!sc)
        return NULL;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(sc, cert_pem) != 1) {
        errf(err, "TLS certificate %s: not a PEM certificate (%s)", cert_pem, ssl_reason(r, sizeof r));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(sc, key_pem, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            errf(err, "TLS key %s does not match certificate %s", key_pem, cert_pem);
            ERR_clear_error();
            goto fail;
        }
        errf(err, "TLS key %s: not a PEM private key (%s)", key_pem, ssl_reason(r, sizeof r));
        goto fail;
    }
    if (SSL_CTX_check_private_key(sc) != 1) {
        errf(err, "TLS key %s does not match certificate %s", key_pem, cert_pem);
        ERR_clear_error();
        goto fail;
    }
    return ctx_wrap(sc);
fail:
    SSL_CTX_free(sc);
    return NULL;
}

void ym_tls_ctx_free(ym_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->sc);
    free(ctx);
}

/* --- self-signed --------------------------------------------------------- */

static bool is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* DNS names and IP literals only: the names go into a certificate. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > YM_TLS_NAME_MAX)
        return false;
    if (is_ip(s))
        return true;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || (ch == '*' && i == 0)))
            return false;
    }
    return true;
}

typedef struct names {
    const char *v[YM_TLS_MAX_NAMES];
    size_t n;
    char host[256];
} names_t;

static void names_add(names_t *ns, const char *s)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcasecmp(ns->v[i], s) == 0)
            return;
    if (ns->n < YM_TLS_MAX_NAMES)
        ns->v[ns->n++] = s;
}

static bool cert_has_name(X509 *x, const char *name)
{
    if (is_ip(name))
        return X509_check_ip_asc(x, name, 0) == 1;
    return X509_check_host(x, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

/* The persisted identity, if it is still good for every wanted name. */
static bool load_existing(const char *cert_path, const char *key_path, const names_t *ns,
                          X509 **xo, EVP_PKEY **ko)
{
    FILE *f = fopen(cert_path, "r");
    if (!f)
        return false;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(key_path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    bool ok = x && k && X509_check_private_key(x, k) == 1;
    if (ok) {
        time_t soon = time(NULL) + YM_TLS_MIN_LEFT_S;
        ok = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
    }
    for (size_t i = 0; ok && i < ns->n; i++)
        ok = cert_has_name(x, ns->v[i]);
    ERR_clear_error();
    if (!ok) {
        X509_free(x);
        EVP_PKEY_free(k);
        return false;
    }
    *xo = x;
    *ko = k;
    return true;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    int rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

/* Built as GENERAL_NAMEs rather than a config string, so no name can smuggle
 * in extra entries. */
static int add_sans(X509 *x, const names_t *ns)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = -1;
    for (size_t i = 0; i < ns->n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        if (is_ip(ns->v[i])) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(ns->v[i]);
            if (!ip) {
                GENERAL_NAME_free(g);
                goto out;
            }
            GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
        } else {
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            ASN1_STRING_set(s, ns->v[i], (int)strlen(ns->v[i]));
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
        }
        sk_GENERAL_NAME_push(gens, g);
    }
    rc = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_REPLACE) == 1 ? 0 : -1;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

static int make_identity(const names_t *ns, X509 **xo, EVP_PKEY **ko)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *bn = BN_new();
    int rc = -1;
    if (!k || !x || !bn)
        goto out;
    X509_set_version(x, X509_VERSION_3);
    /* A random serial: browsers remember exceptions per (issuer, serial). */
    if (!BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto out;
    /* An hour back, for clients whose clock runs a little behind. */
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)YM_TLS_DAYS * 86400);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"yoom", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"yoom self-signed", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    /* An end-entity certificate (not a CA): Firefox refuses CA certificates
     * used as a server's own. */
    if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") != 0 || add_sans(x, ns) != 0)
        goto out;
    if (X509_sign(x, k, EVP_sha256()) == 0)
        goto out;
    rc = 0;
out:
    BN_free(bn);
    if (rc == 0) {
        *xo = x;
        *ko = k;
    } else {
        X509_free(x);
        EVP_PKEY_free(k);
    }
    return rc;
}

/* Written to a temporary name and renamed, so a crash leaves the old pair or
 * the new one, never half a file. */
static int write_pem(const char *path, mode_t mode, X509 *x, EVP_PKEY *k)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -ENAMETOOLONG;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return -e;
    }
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        ERR_clear_error();
        return -EIO;
    }
    return 0;
}

ym_tls_ctx_t *ym_tls_ctx_new_self_signed(const char *const *extra, size_t n, const char *dir,
                                         bool *generated, char *err)
{
    char r[160];
    names_t ns = { .n = 0 };
    if (generated)
        *generated = false;
    names_add(&ns, "localhost");
    names_add(&ns, "127.0.0.1");
    names_add(&ns, "::1");
    if (gethostname(ns.host, sizeof ns.host - 1) == 0 && name_ok(ns.host))
        names_add(&ns, ns.host);
    if (n > YM_TLS_MAX_NAMES - ns.n) {
        errf(err, "TLS: at most %d extra names", (int)(YM_TLS_MAX_NAMES - ns.n));
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(extra[i])) {
            errf(err, "TLS: '%.80s' is not a host name or IP address", extra[i]);
            return NULL;
        }
        names_add(&ns, extra[i]);
    }
    if (!dir || !*dir) {
        errf(err, "TLS: no directory for the self-signed certificate");
        return NULL;
    }
    char cert_path[4096], key_path[4096];
    if ((size_t)snprintf(cert_path, sizeof cert_path, "%s/%s", dir, YM_TLS_SELF_CERT) >= sizeof cert_path - 8 ||
        (size_t)snprintf(key_path, sizeof key_path, "%s/%s", dir, YM_TLS_SELF_KEY) >= sizeof key_path - 8) {
        errf(err, "TLS: directory name too long");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        errf(err, "TLS: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    if (!load_existing(cert_path, key_path, &ns, &x, &k)) {
        if (make_identity(&ns, &x, &k) != 0) {
            errf(err, "TLS: cannot generate a self-signed certificate: %s", ssl_reason(r, sizeof r));
            return NULL;
        }
        int rc = write_pem(key_path, 0600, NULL, k);
        if (rc == 0)
            rc = write_pem(cert_path, 0644, x, NULL);
        if (rc != 0) {
            errf(err, "TLS: cannot write %s: %s", dir, strerror(-rc));
            X509_free(x);
            EVP_PKEY_free(k);
            return NULL;
        }
        if (generated)
            *generated = true;
    }
    SSL_CTX *sc = ctx_base(err);
    if (sc && (SSL_CTX_use_certificate(sc, x) != 1 || SSL_CTX_use_PrivateKey(sc, k) != 1)) {
        errf(err, "TLS: self-signed certificate rejected: %s", ssl_reason(r, sizeof r));
        SSL_CTX_free(sc);
        sc = NULL;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return sc ? ctx_wrap(sc) : NULL;
}

void ym_tls_ctx_describe(const ym_tls_ctx_t *ctx, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    out[0] = '\0';
    X509 *x = SSL_CTX_get0_certificate(ctx->sc);
    GENERAL_NAMES *gens = x ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
    size_t used = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char one[300];
        one[0] = '\0';
        if (g->type == GEN_DNS) {
            snprintf(one, sizeof one, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, p, ip, sizeof ip);
            snprintf(one, sizeof one, "IP:%s", ip);
        }
        if (!one[0])
            continue;
        int w = snprintf(out + used, out_len - used, "%s%s", used ? ", " : "", one);
        if (w < 0 || (size_t)w >= out_len - used)
            break;
        used += (size_t)w;
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
}

/* --- per connection ------------------------------------------------------ */

ym_tls_conn_t *ym_tls_conn_new(ym_tls_ctx_t *ctx)
{
    SSL *ssl = SSL_new(ctx->sc);
    BIO *rb = BIO_new(BIO_s_mem());
    BIO *wb = BIO_new(BIO_s_mem());
    if (!ssl || !rb || !wb)
        abort();   /* out of memory, as ym_xmalloc would */
    /* An empty memory BIO means "no more yet", not end of stream. */
    BIO_set_mem_eof_return(rb, -1);
    BIO_set_mem_eof_return(wb, -1);
    SSL_set_bio(ssl, rb, wb);
    SSL_set_accept_state(ssl);
    ym_tls_conn_t *t = ym_xmalloc(sizeof *t);
    *t = (ym_tls_conn_t){ ssl, rb, wb };
    return t;
}

void ym_tls_conn_free(ym_tls_conn_t *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);   /* frees both BIOs */
    free(t);
}

int ym_tls_conn_feed(ym_tls_conn_t *t, const void *p, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        int w = BIO_write(t->rb, p, chunk);
        if (w <= 0) {
            ERR_clear_error();
            return -EPROTO;
        }
        p = (const char *)p + w;
        len -= (size_t)w;
    }
    return 0;
}

ssize_t ym_tls_conn_read(ym_tls_conn_t *t, void *buf, size_t cap, uint64_t log_id)
{
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return YM_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    char r[160];
    ym_log_debug("conn %llu: TLS %s failed: %s", (unsigned long long)log_id,
                 SSL_is_init_finished(t->ssl) ? "read" : "handshake", ssl_reason(r, sizeof r));
    return -EPROTO;
}

int ym_tls_conn_write(ym_tls_conn_t *t, const void *p, size_t len, uint64_t log_id)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        ERR_clear_error();
        int w = SSL_write(t->ssl, p, chunk);
        if (w <= 0) {
            char r[160];
            ym_log_debug("conn %llu: TLS write failed: %s", (unsigned long long)log_id, ssl_reason(r, sizeof r));
            return -EPROTO;
        }
        p = (const char *)p + w;
        len -= (size_t)w;
    }
    return 0;
}

size_t ym_tls_conn_pending(const ym_tls_conn_t *t)
{
    return BIO_ctrl_pending(t->wb);
}

size_t ym_tls_conn_take(ym_tls_conn_t *t, void *out, size_t cap)
{
    int chunk = cap > INT32_MAX ? INT32_MAX : (int)cap;
    int n = BIO_read(t->wb, out, chunk);
    return n > 0 ? (size_t)n : 0;
}

bool ym_tls_conn_established(const ym_tls_conn_t *t)
{
    return SSL_is_init_finished(t->ssl);
}

void ym_tls_conn_shutdown(ym_tls_conn_t *t)
{
    if (!SSL_is_init_finished(t->ssl))
        return;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}
