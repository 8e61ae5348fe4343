/* bench_store.c: acknowledged messages per second and ack latency (append to
 * commit callback) of the store, with `inflight` concurrent appenders each
 * keeping one message outstanding, as many chat clients would.
 *
 *   bench_store --sync normal|full [--messages N] [--inflight C] [--text BYTES] [--dir DIR]
 *
 * Prints one markdown table row:
 *   | sync | inflight | messages | acked msg/s | p50 ms | p99 ms | transactions | msgs/transaction |
 * Built and run by bench/store/run.sh. */
#include "store/ym_store.h"

#include "base/ym_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bench {
    ym_store_t *st;
    long total, sent, acked;
    double *lat_ms;
    char *text;
    size_t text_len;
    double t_end;
    ym_store_stats_t stats;   /* read in the last ack, before the close frees the store */
} bench_t;

typedef struct appender {
    bench_t *b;
    int idx;
    double t_sent;
} appender_t;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void send_next(appender_t *a);

static void on_ack(int status, const ym_store_msg_t *m, bool dup, void *ud)
{
    appender_t *a = ud;
    bench_t *b = a->b;
    if (status != 0) {
        fprintf(stderr, "append failed: %s\n", strerror(-status));
        exit(1);
    }
    b->lat_ms[b->acked++] = now_ms() - a->t_sent;
    if (b->acked == b->total) {
        b->t_end = now_ms();
        ym_store_get_stats(b->st, &b->stats);
        ym_store_close(b->st, NULL, NULL);
    }
    else
        send_next(a);
}

static void send_next(appender_t *a)
{
    bench_t *b = a->b;
    if (b->sent >= b->total)
        return;
    char cid[32], room[16], sender[16];
    snprintf(cid, sizeof(cid), "c%ld", b->sent);
    snprintf(room, sizeof(room), "room%d", a->idx % 8);
    snprintf(sender, sizeof(sender), "user%d", a->idx);
    ym_store_msg_t m = { .room = room, .sender = sender, .client_id = cid,
                         .text = b->text, .text_len = b->text_len };
    a->t_sent = now_ms();
    int rc = ym_store_append(b->st, &m, on_ack, a);
    if (rc != 0) {
        fprintf(stderr, "append refused: %s\n", strerror(-rc));
        exit(1);
    }
    b->sent++;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    const char *sync = "normal", *dir = ".";
    long messages = 20000;
    int inflight = 64;
    size_t text_len = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sync")) sync = argv[i + 1];
        else if (!strcmp(argv[i], "--messages")) messages = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--inflight")) inflight = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--text")) text_len = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (messages <= 0 || inflight <= 0 || text_len > YM_STORE_MAX_TEXT)
        return 2;

    ym_log_set_level(YM_LOG_WARN);
    char path[4096];
    snprintf(path, sizeof(path), "%s/bench-%s-%d-%ld.db", dir, sync, inflight, (long)getpid());
    uv_loop_t loop;
    uv_loop_init(&loop);
    ym_store_config_t cfg;
    ym_store_config_init(&cfg);
    cfg.path = path;
    if (ym_store_sync_parse(sync, &cfg.synchronous) != 0) {
        fprintf(stderr, "--sync normal|full\n");
        return 2;
    }
    cfg.max_queue = (uint32_t)inflight + 16;
    bench_t b = { .total = messages };
    b.lat_ms = calloc((size_t)messages, sizeof(double));
    b.text = malloc(text_len + 1);
    memset(b.text, 'x', text_len);
    b.text_len = text_len;
    char err[256];
    if (ym_store_open(&loop, &cfg, &b.st, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    appender_t *apps = calloc((size_t)inflight, sizeof(*apps));
    double t0 = now_ms();
    for (int i = 0; i < inflight; i++) {
        apps[i] = (appender_t){ .b = &b, .idx = i };
        send_next(&apps[i]);
    }
    /* Runs until the last ack has closed the store. */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    double elapsed = b.t_end - t0;
    ym_store_stats_t stats = b.stats;

    qsort(b.lat_ms, (size_t)messages, sizeof(double), cmp_double);
    double p50 = b.lat_ms[(size_t)(messages * 50 / 100)];
    double p99 = b.lat_ms[(size_t)(messages * 99 / 100)];
    printf("| %s | %d | %ld | %.0f | %.2f | %.2f | %llu | %.1f |\n", sync, inflight, messages,
           (double)messages / (elapsed / 1e3), p50, p99, (unsigned long long)stats.transactions,
           stats.transactions ? (double)stats.appended / (double)stats.transactions : 0.0);
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    free(apps);
    free(b.lat_ms);
    free(b.text);
    return 0;
}
