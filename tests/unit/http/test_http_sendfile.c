/* Large static files over plaintext go out by sendfile(2) (ym_conn_sendfile),
 * falling back to a chunk read whenever the socket is full (that chunk's write
 * completion is the wake-up): whatever mix of the two paths a transfer takes,
 * the body must be the file's bytes in order. A client with a tiny receive
 * buffer that reads in small pieces forces many switches; Range requests start
 * and end inside the file. sendfile is interposed (this executable's
 * definition wins over libc's for the static libraries) to check it was used.
 *
 * The client runs on its own thread with blocking sockets; the server on the
 * main thread's loop. */
#include "http/ym_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "test_fs.h"
#include "test_sock.h"

#define FILE_BYTES (3u * 1000 * 1000 + 7)

static atomic_ulong sendfile_calls, sendfile_bytes;

ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    long r = syscall(SYS_sendfile, out_fd, in_fd, offset, count);
    atomic_fetch_add(&sendfile_calls, 1);
    if (r > 0)
        atomic_fetch_add(&sendfile_bytes, (unsigned long)r);
    return (ssize_t)r;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 11)); }

static int port;
static char dir[64];
static uv_async_t done_async;
static ym_http_server_t *srv;

/* Sends a GET for /big.bin with an optional Range header, reads the head and
 * checks status, then reads content-length bytes in pieces of `piece` and
 * checks each against the file from `first`. */
static void fetch(int fd, const char *range, int status, size_t first, size_t len, size_t piece)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET /big.bin HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n",
                     range ? "Range: bytes=" : "", range ? range : "", range ? "\r\n" : "");
    ASSERT_EQ(write(fd, req, (size_t)n), n);
    char head[2048];
    test_read_http_head(fd, head, sizeof head);
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    ASSERT(strncmp(head, want, strlen(want)) == 0);
    const char *cl = strcasestr(head, "\r\nContent-Length: ");
    ASSERT(cl);
    ASSERT_EQ(strtoull(cl + 18, NULL, 10), len);
    static char buf[65536];
    size_t got = 0;
    while (got < len) {
        size_t want_n = YM_MIN(piece, YM_MIN(len - got, sizeof buf));
        ssize_t r = read(fd, buf, want_n);
        if (r < 0 && errno == EINTR)
            continue;
        ASSERT(r > 0);
        for (ssize_t i = 0; i < r; i++)
            if ((unsigned char)buf[i] != pattern(first + got + (size_t)i))
                TEST_FAIL_("body byte %zu differs", first + got + (size_t)i);
        got += (size_t)r;
    }
}

static void *client_main(void *arg)
{
    (void)arg;
    /* Fast reader, keep-alive: whole file, then a range on the same connection. */
    int fd = test_connect_loopback(port, 0);
    fetch(fd, NULL, 200, 0, FILE_BYTES, 65536);
    fetch(fd, "1000000-2000099", 206, 1000000, 1000100, 65536);
    close(fd);
    /* Slow reader: a small receive buffer and small reads keep the server's
     * socket full, so the transfer switches between sendfile and chunks. */
    fd = test_connect_loopback(port, 4096);
    fetch(fd, "5-", 206, 5, FILE_BYTES - 5, 1000);
    fetch(fd, NULL, 200, 0, FILE_BYTES, 3000);
    close(fd);
    uv_async_send(&done_async);
    return NULL;
}

static void on_done(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
    ym_http_server_shutdown(srv, 0, NULL, NULL);
}

TEST(large_file_bytes_via_sendfile)
{
    test_tmpdir(dir, sizeof dir, "ym-sendfile");
    char path[128];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT(f >= 0);
    static unsigned char data[FILE_BYTES];
    for (size_t i = 0; i < FILE_BYTES; i++)
        data[i] = pattern(i);
    ASSERT_EQ(write(f, data, FILE_BYTES), FILE_BYTES);
    close(f);

    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_http_config_t cfg = { .quiet = true, .web_root = dir, .small_file_bytes = 4096 };
    ASSERT_EQ(ym_http_server_new(&loop, "127.0.0.1", 0, &cfg, NULL, &srv), 0);
    port = ym_http_server_port(srv);
    ASSERT_EQ(uv_async_init(&loop, &done_async, on_done), 0);
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, client_main, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ym_http_server_free(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    test_rm_tree(dir);

    fprintf(stderr, "sendfile: %lu calls, %lu bytes\n", (unsigned long)sendfile_calls,
            (unsigned long)sendfile_bytes);
    /* Most of the ~10 MB sent went by sendfile (the first chunk of each
     * response and the fallback chunks did not). */
    ASSERT(sendfile_calls > 0);
    ASSERT(sendfile_bytes > 5u * 1000 * 1000);
}

int main(void)
{
    RUN(large_file_bytes_via_sendfile);
    return test_report();
}
