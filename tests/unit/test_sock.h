/* test_sock.h: blocking loopback client helpers for the unit tests that talk
 * to a real listener from a second thread (test_http_sendfile, test_sio_idle_mem).
 * Every failure is an ASSERT, so callers need no error paths. */
#ifndef YM_TEST_SOCK_H
#define YM_TEST_SOCK_H

#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void test_read_exact(int fd, char *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        ASSERT(r > 0);
        p += r;
        n -= (size_t)r;
    }
}

static inline void test_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        ASSERT(r > 0);
        p += r;
        n -= (size_t)r;
    }
}

/* A connected socket to 127.0.0.1:port; rcvbuf 0 keeps the kernel's default. */
static inline int test_connect_loopback(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    if (rcvbuf)
        ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Reads an HTTP response head byte by byte (so no body byte is taken with it)
 * into buf, NUL-terminated; returns its length. */
static inline size_t test_read_http_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4) != 0) {
        ASSERT(n < cap - 1);
        test_read_exact(fd, buf + n, 1);
        n++;
    }
    buf[n] = '\0';
    return n;
}

#endif
