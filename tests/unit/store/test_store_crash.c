/* test_store_crash.c: no acknowledged message is ever lost or duplicated when
 * the process dies with SIGKILL at a random moment.
 *
 * Each round forks a child that opens the store (synchronous = NORMAL, the
 * default, which promises durability across a process crash), re-sends some of
 * the previous round's messages (retries with the same client ids) and then
 * appends new ones as fast as it can, writing every acknowledgement to a pipe
 * from the commit callback. The parent kills it with SIGKILL after a random
 * delay (in even rounds counted from the fork, so some kills land during open
 * or migration; in odd rounds from the first ack), collects the acks, and
 * starts the next round on the same file. At the end every acknowledged
 * message must be in the database exactly once, with the id its ack carried,
 * and PRAGMA integrity_check must say ok.
 *
 * Rounds: 20 (make test); BENCH_ROUNDS=200 for the long run (bench/store/run.sh).
 * YM_CRASH_SEED fixes the random delays to reproduce a failure. */
#include "test.h"
#include "store_test_util.h"

#include "store/ym_store.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_PER_ROUND 4000   /* a child that is never killed stops here */
#define RETRIES 10           /* previous round's messages re-sent at the start */
#define IN_FLIGHT 24         /* appends outstanding in the child */

/* ---- child ---------------------------------------------------------------- */

typedef struct child {
    ym_store_t *st;
    int fd;
    int round;
    int next;          /* next new message index */
    int retry_next;    /* next retry index */
    int outstanding;
    bool closing;
} child_t;

static void child_pump(child_t *c);

static void child_ack(int status, const ym_store_msg_t *m, bool dup, void *ud)
{
    child_t *c = ud;
    c->outstanding--;
    if (status != 0) {
        fprintf(stderr, "child: append failed: %d\n", status);
        _exit(3);
    }
    /* client ids are "r<round>-<index>". One write() of less than PIPE_BUF
     * bytes is atomic, so a kill never leaves half a line. */
    int r, i;
    if (sscanf(m->client_id, "r%d-%d", &r, &i) != 2)
        _exit(4);
    char line[96];
    int n = snprintf(line, sizeof(line), "%d %d %lld %d\n", r, i, (long long)m->id, dup ? 1 : 0);
    if (write(c->fd, line, (size_t)n) != n)
        _exit(5);
    child_pump(c);
}

static void child_pump(child_t *c)
{
    while (!c->closing && c->outstanding < IN_FLIGHT) {
        char cid[48], text[64];
        if (c->round > 0 && c->retry_next < RETRIES) {
            snprintf(cid, sizeof(cid), "r%d-%d", c->round - 1, c->retry_next);
            c->retry_next++;
        } else if (c->next < MAX_PER_ROUND) {
            snprintf(cid, sizeof(cid), "r%d-%d", c->round, c->next);
            c->next++;
        } else {
            if (c->outstanding == 0) {
                c->closing = true;
                ym_store_close(c->st, NULL, NULL);
            }
            return;
        }
        snprintf(text, sizeof(text), "message %s", cid);
        ym_store_msg_t m = { .room = "crash", .sender = "client", .client_id = cid,
                             .text = text, .text_len = strlen(text) };
        int rc = ym_store_append(c->st, &m, child_ack, c);
        if (rc != 0) {
            fprintf(stderr, "child: append refused: %d\n", rc);
            _exit(6);
        }
        c->outstanding++;
    }
}

static void child_main(const char *path, int round, int fd)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ym_store_config_t cfg;
    ym_store_config_init(&cfg);
    cfg.path = path;
    cfg.synchronous = YM_STORE_SYNC_NORMAL;
    char err[256];
    child_t c = { .fd = fd, .round = round };
    if (ym_store_open(&loop, &cfg, &c.st, err, sizeof(err)) != 0) {
        fprintf(stderr, "child: open: %s\n", err);
        _exit(2);
    }
    child_pump(&c);
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(0);
}

/* ---- parent --------------------------------------------------------------- */

static int64_t *acked;   /* [round * MAX_PER_ROUND + index] = id, 0 = never acked */

static void record(int rounds, const char *line)
{
    int r, i, dup;
    long long id;
    ASSERT_EQ(sscanf(line, "%d %d %lld %d", &r, &i, &id, &dup), 4);
    ASSERT(r >= 0 && r < rounds && i >= 0 && i < MAX_PER_ROUND);
    ASSERT(id > 0);
    int64_t *slot = &acked[(size_t)r * MAX_PER_ROUND + (size_t)i];
    if (*slot != 0) {
        /* A retry of an acknowledged message gets the original ack. */
        ASSERT(dup);
        ASSERT_EQ(id, *slot);
    }
    *slot = id;
}

/* Runs one child and reads its acks until EOF (the child is dead or done),
 * killing it with SIGKILL delay_ms after the fork (or after its first ack). */
static int run_round(const char *path, int round, int rounds, int delay_ms, bool from_first_ack)
{
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(path, round, fds[1]);
    }
    close(fds[1]);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool killed = false;
    char buf[8192];
    size_t have = 0;
    int acks = 0;
    /* from_first_ack: the delay counts from the first ack, so that the kill
     * lands among commits however slow the start-up is on a loaded machine. */
    bool timing = !from_first_ack;
    for (;;) {
        int timeout = -1;
        if (!timing && acks > 0) {
            timing = true;
            clock_gettime(CLOCK_MONOTONIC, &start);
        }
        if (!killed && timing) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            if (elapsed >= delay_ms) {
                kill(pid, SIGKILL);
                killed = true;
            } else {
                timeout = (int)(delay_ms - elapsed);
            }
        }
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int pr = poll(&p, 1, timeout);
        if (pr < 0 && errno == EINTR)
            continue;
        ASSERT(pr >= 0);
        if (pr == 0)
            continue;
        ssize_t n = read(fds[0], buf + have, sizeof(buf) - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        ASSERT(n >= 0);
        if (n == 0)
            break;  /* every write end closed: the child is gone */
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            record(rounds, line);
            acks++;
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
    }
    close(fds[0]);
    ASSERT_EQ(have, 0);   /* no partial line */
    int wstatus;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
        TEST_FAIL_("child of round %d exited with %d", round, WEXITSTATUS(wstatus));
    if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) != SIGKILL)
        TEST_FAIL_("child of round %d died of signal %d", round, WTERMSIG(wstatus));
    return acks;
}

TEST(acked_messages_survive_sigkill)
{
    const char *env = getenv("BENCH_ROUNDS");
    int rounds = env && atoi(env) > 0 ? atoi(env) : 20;
    const char *seed_env = getenv("YM_CRASH_SEED");
    unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : (unsigned)time(NULL);
    fprintf(stderr, "     rounds %d, YM_CRASH_SEED=%u\n", rounds, seed);
    srand(seed);

    char *dir = make_tmpdir();
    char *path = path_join(dir, "yoom.db");
    acked = calloc((size_t)rounds * MAX_PER_ROUND, sizeof(*acked));
    ASSERT(acked != NULL);

    long total_acks = 0;
    int killed_early = 0;
    for (int r = 0; r < rounds; r++) {
        /* Mostly short lives (kills during open, migration, the first
         * commits), sometimes long ones with many group commits. */
        int delay = (rand() % 4 == 0) ? 50 + rand() % 250 : rand() % 50;
        struct timespec t0_, t1_;
        clock_gettime(CLOCK_MONOTONIC, &t0_);
        int acks = run_round(path, r, rounds, delay, r % 2 == 1);
        clock_gettime(CLOCK_MONOTONIC, &t1_);
        if (getenv("YM_CRASH_VERBOSE"))
            fprintf(stderr, "     round %d: delay %d ms, %d acks, %ld ms\n", r, delay, acks,
                    (long)((t1_.tv_sec - t0_.tv_sec) * 1000 + (t1_.tv_nsec - t0_.tv_nsec) / 1000000));
        total_acks += acks;
        killed_early += acks == 0;
    }

    /* Every acknowledged message is stored exactly once, under its acked id. */
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), min(id) FROM messages"
                                          " WHERE room = 'crash' AND sender = 'client' AND client_id = ?1", -1, &q, NULL),
              SQLITE_OK);
    long distinct_acked = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < MAX_PER_ROUND; i++) {
            int64_t id = acked[(size_t)r * MAX_PER_ROUND + (size_t)i];
            if (!id)
                continue;
            distinct_acked++;
            char cid[48];
            snprintf(cid, sizeof(cid), "r%d-%d", r, i);
            sqlite3_bind_text(q, 1, cid, -1, SQLITE_TRANSIENT);
            ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
            if (sqlite3_column_int64(q, 0) != 1)
                TEST_FAIL_("acked %s stored %lld times", cid, (long long)sqlite3_column_int64(q, 0));
            ASSERT_EQ(sqlite3_column_int64(q, 1), id);
            sqlite3_reset(q);
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    ASSERT(distinct_acked > 0);
    /* No client id twice, acked or not. */
    ASSERT_EQ(sql_int(path, "SELECT count(*) FROM (SELECT client_id FROM messages"
                            " GROUP BY room, sender, client_id HAVING count(*) > 1)"), 0);
    ASSERT(sql_integrity_ok(path));
    fprintf(stderr, "     %ld acks, %ld distinct acked messages, %lld rows, %d rounds killed before any ack\n",
            total_acks, distinct_acked, sql_int(path, "SELECT count(*) FROM messages"), killed_early);

    /* And the store itself opens the survivor cleanly (quick_check, schema). */
    uv_loop_t loop;
    uv_loop_init(&loop);
    ym_store_config_t cfg;
    ym_store_config_init(&cfg);
    cfg.path = path;
    ym_store_t *st;
    char err[256];
    ASSERT_EQ(ym_store_open(&loop, &cfg, &st, err, sizeof(err)), 0);
    ym_store_close(st, NULL, NULL);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(uv_loop_close(&loop), 0);

    free(acked);
    test_rm_tree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    RUN(acked_messages_survive_sigkill);
    return test_report();
}
