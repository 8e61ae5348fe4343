/* loadgen.c: the benchmark load generator (bench/README.md).
 *
 * Speaks WebSocket (RFC 6455, masked client frames) and, over it, Engine.IO v4
 * + Socket.IO v5 ("sio"), or the raw-WebSocket variant of the workload ("ws":
 * JSON text frames ["join",room,id] ["bcast",room,payload] ["echo",payload,id]
 * answered by ["ack",id,...] and ["msg",payload]).
 *
 * The parent forks K workers; worker w binds its sockets to 127.0.1.(w+1)
 * (each source address has its own ephemeral port range) and holds at most
 * ~19,000 descriptors. Workers connect and join, then report "ready" through a
 * pipe; when all are ready the parent samples the server (RSS, CPU, kernel
 * socket memory) and sends every worker the same start time, so the send
 * phase starts together. Each sender sends on a fixed schedule; a message
 * carries its *scheduled* send time, so a late sender (or a slow server)
 * shows up as latency rather than as fewer samples: no coordinated omission.
 * Receivers count deliveries, and per sender detect gaps and reordering.
 * Workers send their counters and histogram back as one binary struct; the
 * parent adds them up and prints one JSON object on stdout.
 *
 * Raw epoll, non-blocking sockets, level-triggered; one thread per worker.
 */
#include "hist.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define MAX_FRAME (4u << 20) /* longest server frame accepted */

enum { P_SIO, P_WS };
enum { M_BCAST, M_ECHO, M_IDLE, M_RECONNECT };

typedef struct opts {
    const char *host;
    int port;
    const char *path;
    int proto, mode;
    uint32_t clients, procs, room_size, senders;
    double rate;          /* messages per second per sender */
    double duration, warmup, max_drain;
    uint32_t size;        /* payload bytes */
    uint32_t concurrency; /* connects in flight per worker */
    int server_pid;
    double connect_timeout;
} opts_t;

static opts_t O = {
    .host = "127.0.0.1", .port = 3000, .path = NULL, .proto = P_SIO, .mode = M_BCAST,
    .clients = 100, .procs = 0, .room_size = 0, .senders = 1, .rate = 10, .duration = 5,
    .warmup = 0, .max_drain = 5, .size = 64, .concurrency = 1000, .server_pid = 0,
    .connect_timeout = 120,
};

/* What a worker sends back. */
typedef struct result {
    uint64_t connected, connect_errors, disconnects, reconnected;
    uint64_t sent, expected, delivered, reordered, bad;
    uint64_t acks;
    uint64_t connect_start_us, connect_end_us;
    uint64_t reconnect_first_close_us, reconnect_done_us;
    uint64_t cpu_us; /* user+sys during the send phase */
    lg_hist_t lat;
} result_t;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t cpu_self_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p && n)
        die("out of memory");
    return p;
}

/* ---- per-connection state ---- */

enum { C_IDLE, C_CONNECTING, C_UPGRADE, C_EIO_OPEN, C_SIO_CONNECT, C_JOIN, C_READY, C_CLOSED };

typedef struct conn {
    int fd;
    uint8_t state;
    bool want_out;
    uint32_t gid;          /* global client index */
    uint32_t room;
    int32_t sender;        /* index among its room's senders, or -1 */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    uint64_t *last;        /* highest seq seen from each sender of the room */
    uint64_t seq;          /* next seq to send (from 1) */
    uint64_t slot;         /* schedule slots used (sent or skipped while not connected) */
    uint64_t next_due;     /* scheduled time of that message */
    uint64_t retry_at;
    uint32_t ack_id;
} conn_t;

typedef struct worker {
    uint32_t index, first, count; /* global ids [first, first+count) */
    struct sockaddr_in src, dst;
    int ep;
    conn_t *c;
    uint32_t ready, in_flight, next_to_connect;
    uint32_t *heap;                /* senders by next_due */
    uint32_t heap_len;
    result_t r;
    uint64_t t0, t_end, warm_end, last_rx;
    uint64_t expect_local;         /* deliveries this worker's clients should get */
    bool go, sending;
    uint64_t rng;
    char *pad;
} worker_t;

static uint32_t room_of(uint32_t gid) { return O.room_size ? gid / O.room_size : 0; }
static uint32_t room_base(uint32_t room) { return room * O.room_size; }
static uint32_t room_members(uint32_t room)
{
    uint32_t base = room_base(room);
    uint32_t end = base + O.room_size;
    return (end > O.clients ? O.clients : end) - base;
}
static uint32_t senders_in_room(uint32_t room)
{
    uint32_t m = room_members(room);
    return O.senders < m ? O.senders : m;
}

static uint32_t rnd32(worker_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t)w->rng;
}

/* ---- output ---- */

static void out_reserve(conn_t *c, size_t n)
{
    if (c->out_off && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 512;
            while (cap < c->out_len + n)
                cap *= 2;
            c->out = xrealloc(c->out, cap);
            c->out_cap = cap;
        }
    }
}

static void conn_close(worker_t *w, conn_t *c, bool error);

static void flush(worker_t *w, conn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(w, c, true);
        return;
    }
    bool want = c->out_off < c->out_len;
    if (want != c->want_out) {
        struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.u32 = (uint32_t)(c - w->c) };
        epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
}

/* Appends one masked client frame (the mask is mandatory for clients). */
static void ws_frame(worker_t *w, conn_t *c, unsigned opcode, const char *p, size_t n)
{
    out_reserve(c, n + 14);
    uint8_t *o = (uint8_t *)c->out + c->out_len;
    size_t h = 0;
    o[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        o[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        o[h++] = 0x80 | 126;
        o[h++] = (uint8_t)(n >> 8);
        o[h++] = (uint8_t)n;
    } else {
        o[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            o[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    uint32_t key = rnd32(w);
    uint8_t k[4];
    memcpy(k, &key, 4);
    memcpy(o + h, k, 4);
    h += 4;
    uint8_t *d = o + h;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        memcpy(&v, p + i, 4);
        v ^= key;
        memcpy(d + i, &v, 4);
    }
    for (; i < n; i++)
        d[i] = (uint8_t)p[i] ^ k[i & 3];
    c->out_len += h + n;
}

static void send_text(worker_t *w, conn_t *c, const char *p, size_t n)
{
    ws_frame(w, c, 1, p, n);
    flush(w, c);
}

/* ---- connecting ---- */

static void conn_start(worker_t *w, conn_t *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s (raise the open-file limit or use more --procs)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Pick the port at connect time, knowing the destination: with bind()
     * alone the kernel would reserve a port per socket for any destination. */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(c->fd, (struct sockaddr *)&w->src, sizeof w->src) != 0)
        die("bind %s: %s", inet_ntoa(w->src.sin_addr), strerror(errno));
    int rc = connect(c->fd, (struct sockaddr *)&w->dst, sizeof w->dst);
    if (rc != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        c->state = C_IDLE;
        c->retry_at = now_us() + 20000;
        w->r.connect_errors++;
        return;
    }
    c->state = C_CONNECTING;
    c->want_out = true;
    c->in_len = 0;
    c->out_len = c->out_off = 0;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(c - w->c) };
    epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
    w->in_flight++;
}

static void send_upgrade(worker_t *w, conn_t *c)
{
    char req[512];
    /* The key is fixed: the server's answer is not checked (we trust the
     * server under test; a wrong accept would not change its speed). */
    int n = snprintf(req, sizeof req,
                     "GET %s%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     O.path, O.proto == P_SIO ? "?EIO=4&transport=websocket" : "", O.host, O.port);
    out_reserve(c, (size_t)n);
    memcpy(c->out + c->out_len, req, (size_t)n);
    c->out_len += (size_t)n;
    c->state = C_UPGRADE;
    flush(w, c);
}

static void send_join(worker_t *w, conn_t *c)
{
    char b[128];
    int n = O.proto == P_SIO ? snprintf(b, sizeof b, "421[\"join\",\"r%u\"]", c->room)
                             : snprintf(b, sizeof b, "[\"join\",\"r%u\",1]", c->room);
    c->state = C_JOIN;
    send_text(w, c, b, (size_t)n);
}

static void heap_push(worker_t *w, uint32_t i);

static void became_ready(worker_t *w, conn_t *c)
{
    c->state = C_READY;
    w->ready++;
    w->in_flight--;
    uint64_t t = now_us();
    if (!w->go) {
        w->r.connected++;
        if (w->ready == w->count)
            w->r.connect_end_us = t;
    } else if (O.mode == M_RECONNECT) {
        w->r.reconnected++;
        if (w->ready == w->count)
            w->r.reconnect_done_us = t;
    }
}

static void conn_close(worker_t *w, conn_t *c, bool error)
{
    if (c->fd < 0)
        return;
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->state == C_READY)
        w->ready--;
    else
        w->in_flight--;
    if (c->state == C_READY) {
        w->r.disconnects++;
        if (!w->r.reconnect_first_close_us)
            w->r.reconnect_first_close_us = now_us();
    } else {
        w->r.connect_errors++;
    }
    c->state = C_IDLE;
    c->in_len = c->out_len = c->out_off = 0;
    c->want_out = false;
    /* Reconnect: always while connecting (a refused connect during a storm is
     * retried, as a real client does), and in reconnect mode after go. */
    bool again = !w->go || O.mode == M_RECONNECT;
    c->retry_at = again ? now_us() + 10000 + rnd32(w) % 40000 : UINT64_MAX;
    (void)error;
}

/* ---- receiving ---- */

/* Parses "gid:seq:ts" at p (the payload's first bytes). */
static bool parse_payload(const char *p, const char *end, uint64_t v[3])
{
    for (int k = 0; k < 3; k++) {
        uint64_t x = 0;
        const char *s = p;
        while (p < end && *p >= '0' && *p <= '9')
            x = x * 10 + (uint64_t)(*p++ - '0');
        if (p == s)
            return false;
        v[k] = x;
        if (k < 2) {
            if (p == end || *p != ':')
                return false;
            p++;
        }
    }
    return true;
}

static void on_msg(worker_t *w, conn_t *c, const char *p, const char *end)
{
    uint64_t v[3];
    if (!parse_payload(p, end, v)) {
        w->r.bad++;
        return;
    }
    uint64_t t = now_us();
    w->last_rx = t;
    uint32_t gid = (uint32_t)v[0];
    if (gid >= O.clients || room_of(gid) != c->room) {
        w->r.bad++;
        return;
    }
    uint32_t k = gid - room_base(c->room);
    if (k >= senders_in_room(c->room)) {
        w->r.bad++;
        return;
    }
    w->r.delivered++;
    if (v[1] <= c->last[k])
        w->r.reordered++;
    else
        c->last[k] = v[1];
    if (v[2] >= w->warm_end)
        lg_hist_add(&w->r.lat, t > v[2] ? t - v[2] : 0);
}

static void on_ack_payload(worker_t *w, conn_t *c, const char *p, const char *end)
{
    uint64_t v[3];
    if (!parse_payload(p, end, v) || v[0] != c->gid) {
        w->r.bad++;
        return;
    }
    uint64_t t = now_us();
    w->last_rx = t;
    w->r.acks++;
    w->r.delivered++;
    if (v[1] <= c->last[0])
        w->r.reordered++;
    else
        c->last[0] = v[1];
    if (v[2] >= w->warm_end)
        lg_hist_add(&w->r.lat, t > v[2] ? t - v[2] : 0);
}

static bool starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* One text message from the server. */
static void on_text(worker_t *w, conn_t *c, const char *p, size_t n)
{
    const char *end = p + n;
    if (O.proto == P_WS) {
        if (starts(p, end, "[\"msg\",\""))
            on_msg(w, c, p + 8, end);
        else if (starts(p, end, "[\"ack\",")) {
            if (c->state == C_JOIN) {
                became_ready(w, c);
                return;
            }
            const char *q = memchr(p + 7, ',', n - 7);
            if (q && q + 2 <= end && q[1] == '"')
                on_ack_payload(w, c, q + 2, end);
            else
                w->r.bad++;
        } else
            w->r.bad++;
        return;
    }
    /* Engine.IO packet type, then Socket.IO packet. */
    if (n == 0) {
        w->r.bad++;
        return;
    }
    switch (p[0]) {
    case '0': /* EIO open */
        if (c->state == C_EIO_OPEN) {
            c->state = C_SIO_CONNECT;
            send_text(w, c, "40", 2);
        }
        return;
    case '2': /* ping */
        send_text(w, c, "3", 1);
        return;
    case '1': /* close */
        conn_close(w, c, false);
        return;
    case '4':
        break;
    default:
        return;
    }
    if (starts(p, end, "42[\"msg\",\"")) {
        on_msg(w, c, p + 10, end);
    } else if (starts(p, end, "43")) {
        const char *q = p + 2;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (c->state == C_JOIN) {
            became_ready(w, c);
        } else if (q + 2 <= end && q[0] == '[' && q[1] == '"') {
            on_ack_payload(w, c, q + 2, end);
        } else {
            w->r.bad++;
        }
    } else if (starts(p, end, "40")) {
        if (c->state == C_SIO_CONNECT) {
            if (O.mode == M_BCAST)
                send_join(w, c);
            else
                became_ready(w, c);
        }
    } else if (starts(p, end, "41") || starts(p, end, "44")) {
        conn_close(w, c, true);
    }
}

/* Parses server frames in c->in. Returns false if the connection was closed. */
static bool parse_frames(worker_t *w, conn_t *c)
{
    size_t off = 0;
    while (c->fd >= 0) {
        const uint8_t *b = (const uint8_t *)c->in + off;
        size_t avail = c->in_len - off;
        if (c->state == C_UPGRADE) {
            const char *e = memmem(b, avail, "\r\n\r\n", 4);
            if (!e) {
                if (avail > 8192) {
                    conn_close(w, c, true);
                    return false;
                }
                break;
            }
            if (avail < 12 || memcmp(b, "HTTP/1.1 101", 12) != 0) {
                conn_close(w, c, true);
                return false;
            }
            off += (size_t)(e - (const char *)b) + 4;
            if (O.proto == P_SIO) {
                c->state = C_EIO_OPEN;
            } else if (O.mode == M_BCAST) {
                send_join(w, c);
            } else {
                became_ready(w, c);
            }
            continue;
        }
        if (avail < 2)
            break;
        unsigned op = b[0] & 0x0f;
        bool fin = b[0] & 0x80;
        uint64_t len = b[1] & 0x7f;
        size_t h = 2;
        if (b[1] & 0x80) { /* servers never mask */
            conn_close(w, c, true);
            return false;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)b[2] << 8) | b[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            h = 10;
        }
        if (len > MAX_FRAME || !fin) { /* the peers send no fragments */
            w->r.bad++;
            conn_close(w, c, true);
            return false;
        }
        if (avail < h + len)
            break;
        const char *payload = (const char *)b + h;
        off += h + (size_t)len;
        if (op == 1 || op == 2) {
            on_text(w, c, payload, (size_t)len);
        } else if (op == 9) {
            ws_frame(w, c, 10, payload, (size_t)len);
            flush(w, c);
        } else if (op == 8) {
            conn_close(w, c, false);
            return false;
        }
    }
    if (c->fd < 0)
        return false;
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return true;
}

static void on_readable(worker_t *w, conn_t *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
            if (cap > 2 * MAX_FRAME + 65536) {
                conn_close(w, c, true);
                return;
            }
            c->in = xrealloc(c->in, cap);
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (!parse_frames(w, c))
                return;
            if ((size_t)n < 16384)
                return; /* level-triggered: the rest comes on the next wait */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(w, c, n < 0);
        return;
    }
}

static void on_event(worker_t *w, conn_t *c, uint32_t events)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_close(w, c, true);
            return;
        }
        if (events & EPOLLOUT) {
            send_upgrade(w, c);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(w, c);
    if (c->fd >= 0 && (events & EPOLLOUT))
        flush(w, c);
}

/* ---- sending on a schedule ---- */

static bool heap_less(worker_t *w, uint32_t a, uint32_t b) { return w->c[a].next_due < w->c[b].next_due; }

static void heap_push(worker_t *w, uint32_t i)
{
    uint32_t k = w->heap_len++;
    w->heap[k] = i;
    while (k > 0) {
        uint32_t p = (k - 1) / 2;
        if (!heap_less(w, w->heap[k], w->heap[p]))
            break;
        uint32_t t = w->heap[k];
        w->heap[k] = w->heap[p];
        w->heap[p] = t;
        k = p;
    }
}

static void heap_sift_top(worker_t *w)
{
    uint32_t k = 0;
    for (;;) {
        uint32_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < w->heap_len && heap_less(w, w->heap[l], w->heap[m]))
            m = l;
        if (r < w->heap_len && heap_less(w, w->heap[r], w->heap[m]))
            m = r;
        if (m == k)
            return;
        uint32_t t = w->heap[k];
        w->heap[k] = w->heap[m];
        w->heap[m] = t;
        k = m;
    }
}

static void send_one(worker_t *w, conn_t *c)
{
    char head[96];
    int hn = snprintf(head, sizeof head, "%u:%llu:%llu:", c->gid, (unsigned long long)c->seq,
                      (unsigned long long)c->next_due);
    size_t pad = O.size > (uint32_t)hn ? O.size - (uint32_t)hn : 0;
    char pre[64], post[32];
    int pn, qn;
    if (O.mode == M_ECHO) {
        c->ack_id++;
        pn = O.proto == P_SIO ? snprintf(pre, sizeof pre, "42%u[\"echo\",\"", c->ack_id)
                              : snprintf(pre, sizeof pre, "[\"echo\",\"");
        qn = O.proto == P_SIO ? snprintf(post, sizeof post, "\"]") : snprintf(post, sizeof post, "\",%u]", c->ack_id);
    } else {
        pn = O.proto == P_SIO ? snprintf(pre, sizeof pre, "42[\"bcast\",\"r%u\",\"", c->room)
                              : snprintf(pre, sizeof pre, "[\"bcast\",\"r%u\",\"", c->room);
        qn = snprintf(post, sizeof post, "\"]");
    }
    size_t n = (size_t)pn + (size_t)hn + pad + (size_t)qn;
    char stackbuf[4096];
    char *m = n <= sizeof stackbuf ? stackbuf : xrealloc(NULL, n);
    memcpy(m, pre, (size_t)pn);
    memcpy(m + pn, head, (size_t)hn);
    memcpy(m + pn + hn, w->pad, pad);
    memcpy(m + pn + hn + pad, post, (size_t)qn);
    ws_frame(w, c, 1, m, n);
    if (m != stackbuf)
        free(m);
    w->r.sent++;
    w->r.expected += O.mode == M_ECHO ? 1 : room_members(c->room);
    c->seq++;
}

/* Scheduled send time of slot k of sender gid (the one formula for both
 * the schedule and the count of expected messages). */
static uint64_t slot_due(const worker_t *w, uint32_t gid, uint64_t k)
{
    return w->t0 + (uint64_t)(((double)k + (double)(gid % 1000) / 1000.0) * 1e6 / O.rate);
}

/* Messages sender gid sends in the whole send phase if connected throughout. */
static uint64_t slots_of(const worker_t *w, uint32_t gid)
{
    uint64_t k = 0;
    while (slot_due(w, gid, k) < w->t_end)
        k++;
    return k;
}

/* What this worker's clients should receive; the drain after the send phase
 * ends as soon as it has all arrived (else at --max-drain: the rest is lost). */
static uint64_t expected_local(const worker_t *w)
{
    uint64_t sum = 0, room_sum = 0;
    uint32_t cached_room = UINT32_MAX;
    for (uint32_t i = 0; i < w->count; i++) {
        const conn_t *c = &w->c[i];
        if (O.mode == M_ECHO) {
            sum += c->sender >= 0 ? slots_of(w, c->gid) : 0;
            continue;
        }
        if (c->room != cached_room) {
            cached_room = c->room;
            room_sum = 0;
            for (uint32_t k = 0; k < senders_in_room(c->room); k++)
                room_sum += slots_of(w, room_base(c->room) + k);
        }
        sum += room_sum;
    }
    return sum;
}

/* Sends every message whose scheduled time has come. */
static void run_schedule(worker_t *w, uint64_t t)
{
    while (w->heap_len) {
        conn_t *c = &w->c[w->heap[0]];
        if (c->next_due > t || c->next_due >= w->t_end)
            break;
        if (c->state == C_READY) {
            send_one(w, c);
            flush(w, c);
        }
        /* A slot missed while disconnected is skipped, not sent late. */
        c->slot++;
        c->next_due = slot_due(w, c->gid, c->slot);
        heap_sift_top(w);
    }
}

/* ---- the worker ---- */

static void write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            _exit(3);
        s += k;
        n -= (size_t)k;
    }
}

static bool read_all(int fd, void *p, size_t n)
{
    char *s = p;
    while (n) {
        ssize_t k = read(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        s += k;
        n -= (size_t)k;
    }
    return true;
}

static void worker_main(worker_t *w, int to_parent, int from_parent)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max < 20000 ? rl.rlim_max : 20000;
    setrlimit(RLIMIT_NOFILE, &rl);

    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)w->index << 32) ^ now_us();
    w->c = calloc(w->count, sizeof *w->c);
    w->heap = calloc(w->count + 1, sizeof *w->heap);
    w->pad = malloc(O.size + 1);
    if (!w->c || !w->heap || !w->pad)
        die("out of memory");
    memset(w->pad, 'x', O.size);
    for (uint32_t i = 0; i < w->count; i++) {
        conn_t *c = &w->c[i];
        c->fd = -1;
        c->gid = w->first + i;
        c->room = room_of(c->gid);
        uint32_t k = c->gid - room_base(c->room);
        if (O.mode == M_ECHO)
            c->sender = c->gid < O.senders ? 0 : -1;
        else
            c->sender = O.mode == M_BCAST && k < senders_in_room(c->room) ? (int32_t)k : -1;
        c->last = calloc(O.mode == M_BCAST ? senders_in_room(c->room) : 1, sizeof *c->last);
        c->seq = 1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    epoll_ctl(w->ep, EPOLL_CTL_ADD, from_parent, &ev);

    w->r.connect_start_us = now_us();
    bool told_ready = false;
    uint64_t cpu0 = 0, drain_until = UINT64_MAX;
    struct epoll_event evs[512];
    for (;;) {
        uint64_t t = now_us();
        /* Start connects up to the concurrency cap; retry failed ones. */
        if (!w->go || O.mode == M_RECONNECT) {
            for (uint32_t i = 0; i < w->count && w->in_flight < O.concurrency; i++) {
                conn_t *c = &w->c[i];
                if (c->state == C_IDLE && c->fd < 0 && c->retry_at <= t)
                    conn_start(w, c);
            }
        }
        if (!told_ready && w->ready == w->count) {
            told_ready = true;
            char m = 'R';
            write_all(to_parent, &m, 1);
        }
        int timeout = 50;
        if (w->sending) {
            run_schedule(w, t);
            t = now_us();
            if (t >= w->t_end && drain_until == UINT64_MAX)
                drain_until = t + (uint64_t)(O.max_drain * 1e6);
            if (w->heap_len && w->c[w->heap[0]].next_due < w->t_end) {
                uint64_t due = w->c[w->heap[0]].next_due;
                timeout = due <= t ? 0 : (int)((due - t + 999) / 1000);
                if (timeout > 50)
                    timeout = 50;
            }
        } else if (w->go && t >= w->t0) {
            if (O.mode == M_BCAST || O.mode == M_ECHO) {
                w->sending = true;
                cpu0 = cpu_self_us();
                w->last_rx = t;
                continue;
            }
            if (!cpu0)
                cpu0 = cpu_self_us();
            /* idle: hold the connections for the duration; reconnect: until
             * every client has lost its connection and is back, or the
             * duration has passed. */
            if (t >= w->t_end)
                break;
            if (O.mode == M_RECONNECT && w->r.disconnects >= w->count && w->ready == w->count)
                break;
        } else if (w->go) {
            timeout = (int)((w->t0 - t) / 1000);
        }
        if (drain_until != UINT64_MAX) {
            /* Stop when all has arrived, or at the drain deadline: whatever
             * is missing then is lost. */
            if (t >= drain_until || w->r.delivered >= w->expect_local)
                break;
        }
        int n;
        if (w->sending && timeout > 0 && timeout < 50) {
            /* Wake at the scheduled microsecond, not the next millisecond,
             * so the schedule itself adds no latency. */
            uint64_t due = w->c[w->heap[0]].next_due, t1 = now_us();
            struct timespec ts = { 0, due > t1 ? (long)(due - t1) * 1000 : 0 };
            n = epoll_pwait2(w->ep, evs, 512, &ts, NULL);
        } else {
            n = epoll_wait(w->ep, evs, 512, timeout);
        }
        for (int i = 0; i < n; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == UINT32_MAX) {
                uint64_t t0;
                if (!read_all(from_parent, &t0, sizeof t0))
                    _exit(4); /* the parent is gone */
                w->go = true;
                w->t0 = t0;
                w->warm_end = t0 + (uint64_t)(O.warmup * 1e6);
                w->t_end = t0 + (uint64_t)((O.warmup + O.duration) * 1e6);
                epoll_ctl(w->ep, EPOLL_CTL_DEL, from_parent, NULL);
                for (uint32_t k = 0; k < w->count; k++) {
                    conn_t *c = &w->c[k];
                    if (c->sender >= 0) {
                        /* Spread the senders over one period so they do not
                         * all fire in the same millisecond. */
                        c->next_due = slot_due(w, c->gid, 0);
                        heap_push(w, k);
                    }
                }
                if (O.mode == M_BCAST || O.mode == M_ECHO)
                    w->expect_local = expected_local(w);
                continue;
            }
            conn_t *c = &w->c[id];
            if (c->fd >= 0)
                on_event(w, c, evs[i].events);
        }
    }
    w->r.cpu_us = cpu_self_us() - cpu0;
    write_all(to_parent, "D", 1);
    write_all(to_parent, &w->r, sizeof w->r);
    _exit(0);
}

/* ---- the parent ---- */

static uint64_t proc_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    uint64_t kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu", (unsigned long long *)&kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* utime + stime of a process and its threads, in clock ticks. */
static uint64_t proc_cpu_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    unsigned long long ut = 0, st = 0;
    /* fields after ")": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return ut + st;
}

/* Kernel TCP buffer memory (pages) from /proc/net/sockstat, in KiB. */
static uint64_t sock_mem_kb(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    char line[256];
    unsigned long long pages = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        char *m = strstr(line, "TCP:");
        char *k = m ? strstr(m, " mem ") : NULL;
        if (k)
            sscanf(k, " mem %llu", &pages);
    }
    fclose(f);
    return pages * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen [options]\n"
            "  --proto sio|ws         Socket.IO over WebSocket (default) or raw WebSocket JSON\n"
            "  --host H --port P      server (default 127.0.0.1:3000)\n"
            "  --path P               default /socket.io/ (sio) or / (ws)\n"
            "  --mode bcast|echo|idle|reconnect\n"
            "  --clients N            connections (default 100)\n"
            "  --procs K              worker processes (default: one per 15000 clients)\n"
            "  --room-size R          clients per room (0 = one room for all)\n"
            "  --senders S            senders per room (bcast) / echoing clients (echo)\n"
            "  --rate M               messages per second per sender\n"
            "  --size B               payload bytes (default 64)\n"
            "  --duration D --warmup W  seconds of sending (latency counted after W)\n"
            "  --max-drain S          seconds to wait for stragglers (default 5)\n"
            "  --concurrency C        connects in flight per worker (default 1000)\n"
            "  --server-pid PID       sample its RSS and CPU\n"
            "  --connect-timeout S    give up if not all connected by then (default 120)\n");
    exit(2);
}

/* Checks the histogram: bucket error bound, monotonic buckets, quantiles of
 * a known distribution, merging. Returns the number of failures. */
static int self_test(void)
{
    int fails = 0;
    unsigned prev = 0;
    for (uint64_t v = 0; v < (1ull << 36); v = v < 1000 ? v + 1 : v + v / 997) {
        unsigned i = lg_hist_index(v);
        uint64_t m = lg_hist_value(i);
        uint64_t err = m > v ? m - v : v - m;
        if (i < prev || err > v / 64 + 1) {
            fprintf(stderr, "self-test: value %llu -> bucket %u (%llu)\n", (unsigned long long)v, i,
                    (unsigned long long)m);
            if (++fails > 10)
                return fails;
        }
        prev = i;
    }
    static lg_hist_t a, b;
    for (uint64_t v = 1; v <= 100000; v++)
        lg_hist_add(v % 2 ? &a : &b, v);
    lg_hist_merge(&a, &b);
    const struct { double q; double want; } qs[] = { { 0.5, 50000 }, { 0.99, 99000 }, { 0.999, 99900 }, { 1.0, 100000 } };
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double got = (double)lg_hist_quantile(&a, qs[k].q);
        if (fabs(got - qs[k].want) > qs[k].want * 0.02) {
            fprintf(stderr, "self-test: q%g = %.0f, want %.0f\n", qs[k].q, got, qs[k].want);
            fails++;
        }
    }
    if (a.count != 100000 || a.max != 100000) {
        fprintf(stderr, "self-test: merged count %llu max %llu\n", (unsigned long long)a.count,
                (unsigned long long)a.max);
        fails++;
    }
    return fails;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--self-test") == 0) {
        int f = self_test();
        printf("%s\n", f ? "FAILED" : "ok");
        return f ? 1 : 0;
    }
    static const struct option lo[] = {
        { "proto", 1, 0, 'P' }, { "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "path", 1, 0, 'a' },
        { "mode", 1, 0, 'm' }, { "clients", 1, 0, 'c' }, { "procs", 1, 0, 'k' }, { "room-size", 1, 0, 'r' },
        { "senders", 1, 0, 's' }, { "rate", 1, 0, 'R' }, { "size", 1, 0, 'z' }, { "duration", 1, 0, 'd' },
        { "warmup", 1, 0, 'w' }, { "max-drain", 1, 0, 'D' }, { "concurrency", 1, 0, 'C' },
        { "server-pid", 1, 0, 'S' }, { "connect-timeout", 1, 0, 'T' }, { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'P':
            O.proto = strcmp(optarg, "ws") == 0 ? P_WS : P_SIO;
            break;
        case 'h': O.host = optarg; break;
        case 'p': O.port = atoi(optarg); break;
        case 'a': O.path = optarg; break;
        case 'm':
            O.mode = !strcmp(optarg, "echo") ? M_ECHO : !strcmp(optarg, "idle") ? M_IDLE
                   : !strcmp(optarg, "reconnect") ? M_RECONNECT : !strcmp(optarg, "bcast") ? M_BCAST : -1;
            if (O.mode < 0)
                usage();
            break;
        case 'c': O.clients = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': O.procs = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': O.room_size = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 's': O.senders = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'R': O.rate = atof(optarg); break;
        case 'z': O.size = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'd': O.duration = atof(optarg); break;
        case 'w': O.warmup = atof(optarg); break;
        case 'D': O.max_drain = atof(optarg); break;
        case 'C': O.concurrency = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'S': O.server_pid = atoi(optarg); break;
        case 'T': O.connect_timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (!O.path)
        O.path = O.proto == P_SIO ? "/socket.io/" : "/";
    if (O.clients == 0 || O.rate <= 0 || O.duration < 0 || O.size > (1u << 20) || O.concurrency == 0)
        usage();
    if (O.room_size == 0 || O.room_size > O.clients)
        O.room_size = O.clients;
    if (!O.procs)
        O.procs = (O.clients + 14999) / 15000;
    if (O.procs > MAX_PROCS || O.procs > O.clients || O.clients / O.procs > 19000)
        die("need between ceil(clients/19000) and %d processes", MAX_PROCS);
    if (O.mode == M_ECHO && O.senders > O.clients)
        O.senders = O.clients;

    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)O.port) };
    if (inet_pton(AF_INET, O.host, &dst.sin_addr) != 1)
        die("--host must be an IPv4 address");

    signal(SIGPIPE, SIG_IGN);
    int up[MAX_PROCS], down[MAX_PROCS];
    pid_t pids[MAX_PROCS];
    uint32_t first = 0;
    for (uint32_t i = 0; i < O.procs; i++) {
        int a[2], b[2];
        if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
            die("pipe: %s", strerror(errno));
        uint32_t count = O.clients / O.procs + (i < O.clients % O.procs ? 1 : 0);
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            static worker_t w;
            w.index = i;
            w.first = first;
            w.count = count;
            w.dst = dst;
            w.src.sin_family = AF_INET;
            w.src.sin_addr.s_addr = htonl(0x7f000100u + i + 1); /* 127.0.1.(i+1) */
            close(a[0]);
            close(b[1]);
            worker_main(&w, a[1], b[0]);
        }
        close(a[1]);
        close(b[0]);
        up[i] = a[0];
        down[i] = b[1];
        pids[i] = pid;
        first += count;
    }

    /* Barrier: every worker connected (and joined). */
    uint64_t started = now_us();
    for (uint32_t i = 0; i < O.procs; i++) {
        struct timeval tv = { .tv_sec = (time_t)O.connect_timeout, .tv_usec = 0 };
        fd_set fs;
        FD_ZERO(&fs);
        FD_SET(up[i], &fs);
        char m = 0;
        uint64_t left = (uint64_t)(O.connect_timeout * 1e6) - (now_us() - started);
        if ((int64_t)left <= 0)
            left = 1;
        tv.tv_sec = (time_t)(left / 1000000u);
        tv.tv_usec = (suseconds_t)(left % 1000000u);
        if (select(up[i] + 1, &fs, NULL, NULL, &tv) <= 0 || !read_all(up[i], &m, 1) || m != 'R') {
            for (uint32_t k = 0; k < O.procs; k++)
                kill(pids[k], SIGKILL);
            printf("{\"error\":\"not all clients connected within %.0f s\"}\n", O.connect_timeout);
            return 1;
        }
    }
    uint64_t connected_at = now_us();
    uint64_t rss_kb = 0, cpu_ticks0 = 0;
    uint64_t smem = sock_mem_kb();
    if (O.server_pid) {
        rss_kb = proc_rss_kb(O.server_pid);
        cpu_ticks0 = proc_cpu_ticks(O.server_pid);
    }
    fprintf(stderr, "loadgen: ready (%u clients)\n", O.clients);
    uint64_t t0 = now_us() + 100000;
    for (uint32_t i = 0; i < O.procs; i++)
        write_all(down[i], &t0, sizeof t0);

    result_t *sum = calloc(1, sizeof *sum), *one = malloc(sizeof *one);
    if (!sum || !one)
        die("out of memory");
    uint64_t cstart = UINT64_MAX, cend = 0, rstart = UINT64_MAX, rend = 0;
    bool ok = true;
    for (uint32_t i = 0; i < O.procs; i++) {
        char m = 0;
        if (!read_all(up[i], &m, 1) || m != 'D' || !read_all(up[i], one, sizeof *one)) {
            ok = false;
            continue;
        }
        sum->connected += one->connected;
        sum->connect_errors += one->connect_errors;
        sum->disconnects += one->disconnects;
        sum->reconnected += one->reconnected;
        sum->sent += one->sent;
        sum->expected += one->expected;
        sum->delivered += one->delivered;
        sum->reordered += one->reordered;
        sum->bad += one->bad;
        sum->acks += one->acks;
        sum->cpu_us += one->cpu_us;
        lg_hist_merge(&sum->lat, &one->lat);
        if (one->connect_start_us < cstart)
            cstart = one->connect_start_us;
        if (one->connect_end_us > cend)
            cend = one->connect_end_us;
        if (one->reconnect_first_close_us && one->reconnect_first_close_us < rstart)
            rstart = one->reconnect_first_close_us;
        if (one->reconnect_done_us > rend)
            rend = one->reconnect_done_us;
    }
    uint64_t ended = now_us();
    for (uint32_t i = 0; i < O.procs; i++)
        waitpid(pids[i], NULL, 0);
    double server_cpu = 0;
    if (O.server_pid) {
        uint64_t d = proc_cpu_ticks(O.server_pid) - cpu_ticks0;
        server_cpu = 100.0 * (double)d / (double)sysconf(_SC_CLK_TCK) / ((double)(ended - t0) / 1e6);
    }
    cpu_set_t cs;
    int ncpu = sched_getaffinity(0, sizeof cs, &cs) == 0 ? CPU_COUNT(&cs) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    double phase_s = (double)(ended - t0) / 1e6;
    double loadgen_cpu = 100.0 * (double)sum->cpu_us / 1e6 / phase_s;
    double connect_s = (double)(cend - cstart) / 1e6;
    uint64_t lost = sum->expected > sum->delivered ? sum->expected - sum->delivered : 0;
    double send_s = O.duration + O.warmup;
    const char *modes[] = { "bcast", "echo", "idle", "reconnect" };
    printf("{\"proto\":\"%s\",\"mode\":\"%s\",\"clients\":%u,\"procs\":%u,\"room_size\":%u,\"senders\":%u,"
           "\"rate\":%g,\"size\":%u,\"duration_s\":%g,\"warmup_s\":%g,",
           O.proto == P_SIO ? "sio" : "ws", modes[O.mode], O.clients, O.procs, O.room_size, O.senders, O.rate, O.size,
           O.duration, O.warmup);
    printf("\"connected\":%llu,\"connect_errors\":%llu,\"connect_s\":%.3f,\"connects_per_s\":%.0f,",
           (unsigned long long)sum->connected, (unsigned long long)sum->connect_errors, connect_s,
           connect_s > 0 ? (double)sum->connected / connect_s : 0.0);
    printf("\"sent\":%llu,\"expected\":%llu,\"delivered\":%llu,\"lost\":%llu,\"reordered\":%llu,\"bad\":%llu,"
           "\"deliveries_per_s\":%.0f,",
           (unsigned long long)sum->sent, (unsigned long long)sum->expected, (unsigned long long)sum->delivered,
           (unsigned long long)lost, (unsigned long long)sum->reordered, (unsigned long long)sum->bad,
           send_s > 0 ? (double)sum->delivered / send_s : 0.0);
    const lg_hist_t *h = &sum->lat;
    printf("\"latency_us\":{\"count\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu},",
           (unsigned long long)h->count, (unsigned long long)lg_hist_quantile(h, 0.5),
           (unsigned long long)lg_hist_quantile(h, 0.9), (unsigned long long)lg_hist_quantile(h, 0.99),
           (unsigned long long)lg_hist_quantile(h, 0.999), (unsigned long long)h->max);
    printf("\"disconnects\":%llu,\"reconnected\":%llu,\"reconnect_s\":%.3f,",
           (unsigned long long)sum->disconnects, (unsigned long long)sum->reconnected,
           rend > rstart && rstart != UINT64_MAX ? (double)(rend - rstart) / 1e6 : 0.0);
    printf("\"loadgen_cpu_pct\":%.1f,\"loadgen_cpus\":%d,\"client_limited\":%s,",
           loadgen_cpu, ncpu, loadgen_cpu > 90.0 * ncpu ? "true" : "false");
    printf("\"server_rss_kb\":%llu,\"server_cpu_pct\":%.1f,\"sock_mem_kb\":%llu,\"connected_after_s\":%.3f,"
           "\"phase_s\":%.3f,\"complete\":%s}\n",
           (unsigned long long)rss_kb, server_cpu, (unsigned long long)smem,
           (double)(connected_at - started) / 1e6, phase_s, ok ? "true" : "false");
    fflush(stdout);
    free(sum);
    free(one);
    return ok ? 0 : 1;
}
