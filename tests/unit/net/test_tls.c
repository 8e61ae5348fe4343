/* Unit tests of TLS in the net layer: the per-connection state against an
 * OpenSSL client over memory BIOs; certificate loading errors; self-signed
 * generation, persistence and reuse; and TLS listeners over loopback with a
 * blocking OpenSSL client on a thread (echo of small and large messages, a
 * shared rbuf sent to two TLS connections, plain HTTP and garbage on the TLS
 * port dropped while other clients are served, pause/resume of reading). */
#include "net/ym_net.h"
#include "net/ym_tls.h"

#include "test_fs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static char tmpdir_[256];

static void make_tmpdir(void) { test_tmpdir(tmpdir_, sizeof tmpdir_, "ym-tls-test"); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    ym_buf_t b = YM_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ym_buf_append(&b, chunk, n);
    fclose(f);
    return ym_buf_steal(&b, len);
}

/* --- memory-BIO handshake ---------------------------------------------------- */

static SSL_CTX *client_ctx(const char *ca_file)
{
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    ASSERT(cc != NULL);
    if (ca_file) {
        ASSERT_EQ(SSL_CTX_load_verify_locations(cc, ca_file, NULL), 1);
        SSL_CTX_set_verify(cc, SSL_VERIFY_PEER, NULL);
    }
    return cc;
}

/* Moves bytes both ways until neither side has anything to say. */
static void shuttle(SSL *client, BIO *c_in, BIO *c_out, ym_tls_conn_t *srv, ym_buf_t *srv_plain)
{
    for (int round = 0; round < 20; round++) {
        bool moved = false;
        char buf[16384];
        int n;
        while ((n = BIO_read(c_out, buf, sizeof buf)) > 0) {
            ASSERT_EQ(ym_tls_conn_feed(srv, buf, (size_t)n), 0);
            moved = true;
        }
        ssize_t r;
        while ((r = ym_tls_conn_read(srv, buf, sizeof buf, 0)) > 0)
            ym_buf_append(srv_plain, buf, (size_t)r);
        if (r != YM_AGAIN && r != 0)   /* 0: the client's close_notify */
            TEST_FAIL_("server read: %zd", r);
        size_t p;
        while ((p = ym_tls_conn_take(srv, buf, sizeof buf)) > 0) {
            ASSERT_EQ(BIO_write(c_in, buf, (int)p), (int)p);
            moved = true;
        }
        if (!SSL_is_init_finished(client)) {
            int rc = SSL_do_handshake(client);
            if (rc != 1)
                ASSERT_EQ(SSL_get_error(client, rc), SSL_ERROR_WANT_READ);
        }
        if (!moved && SSL_is_init_finished(client) && ym_tls_conn_established(srv))
            return;
    }
    TEST_FAIL_("handshake did not settle");
}

TEST(memory_bio_handshake_alpn_and_data)
{
    make_tmpdir();
    char err[YM_TLS_ERR_LEN] = "";
    bool gen = false;
    ym_tls_ctx_t *ctx = ym_tls_ctx_new_self_signed(NULL, 0, tmpdir_, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(gen);
    char ca[512];
    snprintf(ca, sizeof ca, "%s/%s", tmpdir_, YM_TLS_SELF_CERT);

    SSL_CTX *cc = client_ctx(ca);
    SSL *cl = SSL_new(cc);
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c_in, -1);
    BIO_set_mem_eof_return(c_out, -1);
    SSL_set_bio(cl, c_in, c_out);
    SSL_set_connect_state(cl);
    SSL_set_tlsext_host_name(cl, "localhost");
    ASSERT_EQ(SSL_set1_host(cl, "localhost"), 1);
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    ASSERT_EQ(SSL_set_alpn_protos(cl, alpn, sizeof alpn - 1), 0);

    ym_tls_conn_t *srv = ym_tls_conn_new(ctx);
    ASSERT(!ym_tls_conn_established(srv));
    ym_buf_t plain = YM_BUF_INIT;
    ASSERT_EQ(SSL_do_handshake(cl), -1);
    shuttle(cl, c_in, c_out, srv, &plain);
    ASSERT_EQ(SSL_get_verify_result(cl), X509_V_OK);
    ASSERT(SSL_version(cl) >= TLS1_2_VERSION);
    const unsigned char *sel = NULL;
    unsigned sel_len = 0;
    SSL_get0_alpn_selected(cl, &sel, &sel_len);
    ASSERT_MEM_EQ(sel, sel_len, "http/1.1", 8);

    /* client → server */
    ASSERT_EQ(SSL_write(cl, "GET / HTTP/1.1\r\n\r\n", 18), 18);
    shuttle(cl, c_in, c_out, srv, &plain);
    ASSERT_MEM_EQ(plain.data, plain.len, "GET / HTTP/1.1\r\n\r\n", 18);

    /* server → client, larger than one record */
    size_t big = 100000;
    char *msg = ym_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        msg[i] = (char)('a' + i % 26);
    ASSERT_EQ(ym_tls_conn_write(srv, msg, big, 0), 0);
    ASSERT(ym_tls_conn_pending(srv) > big);
    shuttle(cl, c_in, c_out, srv, &plain);
    ym_buf_t got = YM_BUF_INIT;
    char buf[16384];
    int n;
    while ((n = SSL_read(cl, buf, sizeof buf)) > 0)
        ym_buf_append(&got, buf, (size_t)n);
    ASSERT_EQ(got.len, big);
    ASSERT(memcmp(got.data, msg, big) == 0);

    /* close_notify from the client reads as end of stream */
    SSL_shutdown(cl);
    shuttle(cl, c_in, c_out, srv, &plain);
    ASSERT_EQ(ym_tls_conn_read(srv, buf, sizeof buf, 0), 0);

    char sans[512];
    ym_tls_ctx_describe(ctx, sans, sizeof sans);
    ASSERT(strstr(sans, "DNS:localhost") != NULL);
    ASSERT(strstr(sans, "IP:127.0.0.1") != NULL);
    ASSERT(strstr(sans, "IP:::1") != NULL);

    free(msg);
    ym_buf_free(&got);
    ym_buf_free(&plain);
    ym_tls_conn_free(srv);
    SSL_free(cl);
    SSL_CTX_free(cc);
    ym_tls_ctx_free(ctx);
    test_rm_tree(tmpdir_);
}

TEST(garbage_instead_of_client_hello_fails)
{
    make_tmpdir();
    char err[YM_TLS_ERR_LEN] = "";
    ym_tls_ctx_t *ctx = ym_tls_ctx_new_self_signed(NULL, 0, tmpdir_, NULL, err);
    ASSERT(ctx != NULL);
    ym_tls_conn_t *srv = ym_tls_conn_new(ctx);
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(ym_tls_conn_feed(srv, req, strlen(req)), 0);
    char buf[256];
    ASSERT_EQ(ym_tls_conn_read(srv, buf, sizeof buf, 0), -EPROTO);
    ASSERT(!ym_tls_conn_established(srv));
    ym_tls_conn_free(srv);
    ym_tls_ctx_free(ctx);
    test_rm_tree(tmpdir_);
}

/* --- certificate files ------------------------------------------------------- */

TEST(bad_certificate_files_give_clear_errors)
{
    make_tmpdir();
    char err[YM_TLS_ERR_LEN];
    char cert[512], key[512], junk[512];
    snprintf(cert, sizeof cert, "%s/missing.pem", tmpdir_);
    snprintf(key, sizeof key, "%s/missing-key.pem", tmpdir_);
    ASSERT(ym_tls_ctx_new_from_files(cert, key, err) == NULL);
    ASSERT(strstr(err, "missing.pem") != NULL);
    ASSERT(strstr(err, "No such file") != NULL);

    snprintf(junk, sizeof junk, "%s/junk.pem", tmpdir_);
    write_file(junk, "this is not a certificate\n");
    ASSERT(ym_tls_ctx_new_from_files(junk, junk, err) == NULL);
    ASSERT(strstr(err, "junk.pem: not a PEM certificate") != NULL);

    /* A real certificate with a key that is not its own. */
    char d1[300], d2[300];
    snprintf(d1, sizeof d1, "%s/a", tmpdir_);
    snprintf(d2, sizeof d2, "%s/b", tmpdir_);
    ym_tls_ctx_t *a = ym_tls_ctx_new_self_signed(NULL, 0, d1, NULL, err);
    ym_tls_ctx_t *b = ym_tls_ctx_new_self_signed(NULL, 0, d2, NULL, err);
    ASSERT(a && b);
    snprintf(cert, sizeof cert, "%s/%s", d1, YM_TLS_SELF_CERT);
    snprintf(key, sizeof key, "%s/%s", d2, YM_TLS_SELF_KEY);
    ASSERT(ym_tls_ctx_new_from_files(cert, key, err) == NULL);
    if (!strstr(err, "does not match"))
        TEST_FAIL_("err: %s", err);
    ASSERT(ym_tls_ctx_new_from_files(cert, junk, err) == NULL);
    ASSERT(strstr(err, "not a PEM private key") != NULL);

    /* The matching pair loads. */
    snprintf(key, sizeof key, "%s/%s", d1, YM_TLS_SELF_KEY);
    ym_tls_ctx_t *ok = ym_tls_ctx_new_from_files(cert, key, err);
    ASSERT(ok != NULL);
    ym_tls_ctx_free(ok);
    ym_tls_ctx_free(a);
    ym_tls_ctx_free(b);
    test_rm_tree(tmpdir_);
}

/* --- self-signed ------------------------------------------------------------- */

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    ASSERT(f != NULL);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ASSERT(x != NULL);
    return x;
}

TEST(self_signed_is_persisted_with_sans_and_reused)
{
    make_tmpdir();
    char dir[400], cert[512], key[512], err[YM_TLS_ERR_LEN] = "";
    snprintf(dir, sizeof dir, "%s/tls", tmpdir_);
    snprintf(cert, sizeof cert, "%s/%s", dir, YM_TLS_SELF_CERT);
    snprintf(key, sizeof key, "%s/%s", dir, YM_TLS_SELF_KEY);
    const char *extra[] = { "yoom.test", "192.168.1.20" };
    bool gen = false;
    ym_tls_ctx_t *ctx = ym_tls_ctx_new_self_signed(extra, 2, dir, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(gen);
    struct stat st;
    ASSERT_EQ(stat(key, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(stat(dir, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);

    X509 *x = load_cert(cert);
    ASSERT_EQ(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    ASSERT_EQ(X509_check_host(x, "yoom.test", 0, 0, NULL), 1);
    ASSERT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    ASSERT_EQ(X509_check_ip_asc(x, "::1", 0), 1);
    ASSERT_EQ(X509_check_ip_asc(x, "192.168.1.20", 0), 1);
    ASSERT_EQ(X509_check_host(x, "other.test", 0, 0, NULL), 0);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (host[0])
        ASSERT_EQ(X509_check_host(x, host, 0, 0, NULL), 1);
    /* About a year, and an end-entity certificate with an EC P-256 key. */
    int days = 0, secs = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
    ASSERT(days >= 365 && days <= 366);
    ASSERT_EQ(X509_check_ca(x), 0);
    ASSERT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
    X509_free(x);
    ym_tls_ctx_free(ctx);

    /* Second start: same files, nothing written. */
    size_t len1, len2;
    char *before = read_file(cert, &len1);
    ctx = ym_tls_ctx_new_self_signed(extra, 2, dir, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(!gen);
    char *after = read_file(cert, &len2);
    ASSERT_MEM_EQ(before, len1, after, len2);
    free(after);
    ym_tls_ctx_free(ctx);

    /* Fewer names: still covered, reused. */
    ctx = ym_tls_ctx_new_self_signed(extra, 1, dir, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(!gen);
    ym_tls_ctx_free(ctx);

    /* A new name is not covered: regenerated with it. */
    const char *more[] = { "yoom.test", "meet.example" };
    ctx = ym_tls_ctx_new_self_signed(more, 2, dir, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(gen);
    x = load_cert(cert);
    ASSERT_EQ(X509_check_host(x, "meet.example", 0, 0, NULL), 1);
    X509_free(x);
    ym_tls_ctx_free(ctx);

    /* A damaged file is replaced, not fatal. */
    write_file(cert, "garbage");
    ctx = ym_tls_ctx_new_self_signed(more, 2, dir, &gen, err);
    ASSERT(ctx != NULL);
    ASSERT(gen);
    ym_tls_ctx_free(ctx);

    /* Names that cannot go into a certificate are refused. */
    const char *bad[] = { "a,DNS:evil" };
    ASSERT(ym_tls_ctx_new_self_signed(bad, 1, dir, &gen, err) == NULL);
    ASSERT(strstr(err, "not a host name") != NULL);

    free(before);
    test_rm_tree(tmpdir_);
}

/* --- TLS listener over loopback ------------------------------------------------ */

static uv_loop_t loop;
static ym_listener_t *lst;
static uv_async_t done_async;
static uv_timer_t guard;
static int accepts, closes, eproto_closes, tls_accepts;
static ym_conn_t *conns[8];
static int nconns;
static ym_rbuf_t *shared;
static bool use_pauser;
static const ym_conn_proto_t pauser;

static ssize_t echo_read(ym_conn_t *c, const char *data, size_t len)
{
    /* "B" asks for the shared rbuf to go to every open connection. */
    if (len >= 1 && data[0] == 'B') {
        for (int i = 0; i < nconns; i++)
            if (conns[i])
                ym_conn_send(conns[i], shared);
        return 1;
    }
    ym_conn_send_copy(c, data, len);
    return (ssize_t)len;
}

static void echo_close(ym_conn_t *c, int status)
{
    closes++;
    if (status == -EPROTO)
        eproto_closes++;
    for (int i = 0; i < nconns; i++)
        if (conns[i] == c)
            conns[i] = NULL;
}

static const ym_conn_proto_t echo = { .name = "echo", .on_read = echo_read, .on_close = echo_close };

static void on_accept(ym_listener_t *l, ym_conn_t *c, void *ud)
{
    accepts++;
    if (ym_conn_is_tls(c))
        tls_accepts++;
    if (nconns < 8)
        conns[nconns++] = c;
    ym_conn_set_proto(c, use_pauser ? &pauser : &echo, NULL);
}

static void done_cb(uv_async_t *a)
{
    uv_close((uv_handle_t *)&done_async, NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    ym_listener_close(lst);
    lst = NULL;
}

static void guard_cb(uv_timer_t *t)
{
    TEST_FAIL_("timed out");
}

typedef struct client_job {
    int port;
    const char *ca;
    void (*fn)(struct client_job *j);
} client_job_t;

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static SSL *tls_connect(SSL_CTX *cc, int fd)
{
    SSL *s = SSL_new(cc);
    SSL_set_fd(s, fd);
    ASSERT_EQ(SSL_set1_host(s, "127.0.0.1"), 1);
    int rc = SSL_connect(s);
    if (rc != 1) {
        ERR_print_errors_fp(stderr);
        TEST_FAIL_("SSL_connect: %d", SSL_get_error(s, rc));
    }
    ASSERT_EQ(SSL_get_verify_result(s), X509_V_OK);
    return s;
}

static void ssl_read_exact(SSL *s, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int n = SSL_read(s, buf + got, (int)YM_MIN(len - got, (size_t)65536));
        if (n <= 0)
            TEST_FAIL_("SSL_read after %zu of %zu: %d", got, len, SSL_get_error(s, n));
        got += (size_t)n;
    }
}

/* Echo of a short line and of 1 MiB (many records, partial socket writes). */
static void job_echo(client_job_t *j)
{
    SSL_CTX *cc = client_ctx(j->ca);
    int fd = tcp_connect(j->port);
    SSL *s = tls_connect(cc, fd);
    char buf[64];
    ASSERT_EQ(SSL_write(s, "hello\n", 6), 6);
    ssl_read_exact(s, buf, 6);
    ASSERT_MEM_EQ(buf, 6, "hello\n", 6);

    size_t big = 1 << 20;
    char *out = ym_xmalloc(big), *in = ym_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        out[i] = (char)('a' + (i * 7) % 26);   /* never 'B' (see echo_read) */
    ASSERT_EQ(SSL_write(s, out, (int)big), (int)big);
    ssl_read_exact(s, in, big);
    for (size_t i = 0; i < big; i++)
        if (in[i] != out[i])
            TEST_FAIL_("echo differs at byte %zu of %zu", i, big);
    free(out);
    free(in);
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
    SSL_CTX_free(cc);
}

/* Plain HTTP and garbage on the TLS port are dropped; a TLS client that comes
 * after them (and one already connected) is served, and one shared rbuf
 * reaches two TLS connections. */
static void job_bad_peers(client_job_t *j)
{
    SSL_CTX *cc = client_ctx(j->ca);
    int fd1 = tcp_connect(j->port);
    SSL *s1 = tls_connect(cc, fd1);

    /* Plain HTTP; a handshake record holding a ClientHello cut short; junk. */
    static const struct { const char *p; size_t n; } bad[] = {
        { "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 35 },
        { "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10 },
        { "\xff\xfe\x00garbage\r\n", 12 },
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        int fd = tcp_connect(j->port);
        ASSERT_EQ(write(fd, bad[i].p, bad[i].n), (ssize_t)bad[i].n);
        char buf[256];
        ssize_t n;
        /* The server closes; it may first send a TLS alert, never HTTP. */
        while ((n = read(fd, buf, sizeof buf)) > 0)
            ASSERT(memcmp(buf, "HTTP", n < 4 ? (size_t)n : 4) != 0);
        ASSERT(n == 0 || (n < 0 && errno == ECONNRESET));
        close(fd);
    }

    int fd2 = tcp_connect(j->port);
    SSL *s2 = tls_connect(cc, fd2);
    char buf[64];
    ASSERT_EQ(SSL_write(s2, "x", 1), 1);
    ssl_read_exact(s2, buf, 1);
    ASSERT_EQ(SSL_write(s1, "B", 1), 1);
    ssl_read_exact(s1, buf, 5);
    ASSERT_MEM_EQ(buf, 5, "news\n", 5);
    ssl_read_exact(s2, buf, 5);
    ASSERT_MEM_EQ(buf, 5, "news\n", 5);
    SSL_free(s1);
    SSL_free(s2);
    close(fd1);
    close(fd2);
    SSL_CTX_free(cc);
}

/* One line at a time with a pause after each (back-pressure): whole records
 * wait undecrypted in the TLS state while paused and must all come out, in
 * order, after the resumes. */
static ssize_t pauser_read(ym_conn_t *c, const char *data, size_t len);
static void pauser_resume(ym_conn_t *c)
{
    ym_conn_resume_reading(c);
}

static ssize_t pauser_read(ym_conn_t *c, const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - data) + 1;
    ym_conn_send_copy(c, data, n);
    ym_conn_pause_reading(c);
    ym_conn_set_timer(c, 1, pauser_resume);
    return (ssize_t)n;
}

static const ym_conn_proto_t pauser = { .name = "pauser", .on_read = pauser_read, .on_close = echo_close };

static void job_pause(client_job_t *j)
{
    SSL_CTX *cc = client_ctx(j->ca);
    int fd = tcp_connect(j->port);
    SSL *s = tls_connect(cc, fd);
    ym_buf_t want = YM_BUF_INIT;
    /* Many lines in one record, then one record per line. */
    ym_buf_t one = YM_BUF_INIT;
    for (int i = 0; i < 40; i++)
        ym_buf_appendf(&one, "line %d\n", i);
    ASSERT_EQ(SSL_write(s, one.data, (int)one.len), (int)one.len);
    ym_buf_append(&want, one.data, one.len);
    for (int i = 40; i < 100; i++) {
        char line[32];
        int n = snprintf(line, sizeof line, "line %d\n", i);
        ASSERT_EQ(SSL_write(s, line, n), n);
        ym_buf_append(&want, line, (size_t)n);
    }
    char *got = ym_xmalloc(want.len);
    ssl_read_exact(s, got, want.len);
    ASSERT_MEM_EQ(got, want.len, want.data, want.len);
    free(got);
    ym_buf_free(&one);
    ym_buf_free(&want);
    SSL_shutdown(s);
    SSL_free(s);
    close(fd);
    SSL_CTX_free(cc);
}

static void *client_thread(void *arg)
{
    client_job_t *j = arg;
    j->fn(j);
    uv_async_send(&done_async);
    return NULL;
}

static void run_listener(void (*fn)(client_job_t *j))
{
    make_tmpdir();
    char err[YM_TLS_ERR_LEN] = "", ca[512];
    ym_tls_ctx_t *ctx = ym_tls_ctx_new_self_signed(NULL, 0, tmpdir_, NULL, err);
    ASSERT(ctx != NULL);
    snprintf(ca, sizeof ca, "%s/%s", tmpdir_, YM_TLS_SELF_CERT);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    accepts = closes = eproto_closes = tls_accepts = nconns = 0;
    memset(conns, 0, sizeof conns);
    shared = ym_rbuf_copy("news\n", 5);
    ym_net_config_t nc = { .tls = ctx };
    ASSERT_EQ(ym_listener_open(&loop, "127.0.0.1", 0, &nc, on_accept, NULL, &lst), 0);
    uv_async_init(&loop, &done_async, done_cb);
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, guard_cb, 60000, 0);
    client_job_t job = { .port = ym_listener_port(lst), .ca = ca, .fn = fn };
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, client_thread, &job), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    ym_rbuf_unref(shared);
    ym_tls_ctx_free(ctx);
    test_rm_tree(tmpdir_);
}

TEST(listener_echo_small_and_large)
{
    run_listener(job_echo);
    ASSERT_EQ(accepts, 1);
    ASSERT_EQ(tls_accepts, 1);
    ASSERT_EQ(closes, 1);
    ASSERT_EQ(eproto_closes, 0);
}

TEST(listener_drops_non_tls_peers_serves_others)
{
    run_listener(job_bad_peers);
    ASSERT_EQ(accepts, 5);
    ASSERT_EQ(tls_accepts, 5);
    ASSERT_EQ(closes, 5);
    ASSERT_EQ(eproto_closes, 3);
}

TEST(listener_pause_resume_keeps_records_in_order)
{
    use_pauser = true;
    run_listener(job_pause);
    use_pauser = false;
    ASSERT_EQ(accepts, 1);
    ASSERT_EQ(closes, 1);
    ASSERT_EQ(eproto_closes, 0);
}

int main(void)
{
    RUN(memory_bio_handshake_alpn_and_data);
    RUN(garbage_instead_of_client_hello_fails);
    RUN(bad_certificate_files_give_clear_errors);
    RUN(self_signed_is_persisted_with_sans_and_reused);
    RUN(listener_echo_small_and_large);
    RUN(listener_drops_non_tls_peers_serves_others);
    RUN(listener_pause_resume_keeps_records_in_order);
    return test_report();
}
