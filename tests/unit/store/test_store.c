/* test_store.c: the store layer on a real SQLite file: insert, last N within
 * the TTL, expiry sweep, idempotent retries, group commit, limits, start-up
 * errors (unwritable, corrupt, newer schema) and close flushing pending work. */
#include "test.h"
#include "store_test_util.h"

#include "store/ym_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/stat.h>

/* ---- helpers -------------------------------------------------------------- */

static int64_t fake_now;
static int64_t fake_clock(void *ud)
{
    (void)ud;
    return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}
static void set_now(int64_t t) { __atomic_store_n(&fake_now, t, __ATOMIC_SEQ_CST); }

typedef struct ack {
    int calls;
    int status;
    bool duplicate;
    bool stored_null;
    int64_t id;
    int64_t ts;
    char text[256];
} ack_t;

static void on_ack(int status, const ym_store_msg_t *m, bool dup, void *ud)
{
    ack_t *a = ud;
    a->calls++;
    a->status = status;
    a->duplicate = dup;
    a->stored_null = m == NULL;
    if (m) {
        a->id = m->id;
        a->ts = m->ts_ms;
        snprintf(a->text, sizeof(a->text), "%.*s", (int)m->text_len, m->text);
        ASSERT_EQ(m->text[m->text_len], '\0');
    }
}

typedef struct listing {
    int calls;
    int status;
    size_t count;
    int64_t ids[64];
    char texts[64][64];
} listing_t;

static void on_list(int status, const ym_store_msg_t *const *msgs, size_t count, void *ud)
{
    listing_t *l = ud;
    l->calls++;
    l->status = status;
    l->count = count;
    for (size_t i = 0; i < count && i < 64; i++) {
        l->ids[i] = msgs[i]->id;
        snprintf(l->texts[i], sizeof(l->texts[i]), "%.*s", (int)msgs[i]->text_len, msgs[i]->text);
    }
}

static void on_closed(void *ud) { (*(int *)ud)++; }

/* Runs the loop until *counter reaches want (every test is bounded: the
 * store's async handle keeps the loop alive, UV_RUN_ONCE waits for results). */
static void run_until(uv_loop_t *loop, const int *counter, int want)
{
    while (*counter < want)
        uv_run(loop, UV_RUN_ONCE);
}

typedef struct fixture {
    uv_loop_t loop;
    char *dir;
    char *path;
    ym_store_config_t cfg;
    ym_store_t *st;
} fixture_t;

static void fx_init(fixture_t *f)
{
    ASSERT_EQ(uv_loop_init(&f->loop), 0);
    f->dir = make_tmpdir();
    f->path = path_join(f->dir, "sub/dir/yoom.db");   /* missing dirs get created */
    ym_store_config_init(&f->cfg);
    f->cfg.path = f->path;
    f->cfg.clock = fake_clock;
    set_now(1700000000000LL);
    f->st = NULL;
}

static void fx_open(fixture_t *f)
{
    char err[256];
    int rc = ym_store_open(&f->loop, &f->cfg, &f->st, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "open: %s\n", err);
    ASSERT_EQ(rc, 0);
}

static void fx_close(fixture_t *f)
{
    int closed = 0;
    ym_store_close(f->st, on_closed, &closed);
    run_until(&f->loop, &closed, 1);
    ASSERT_EQ(closed, 1);
    f->st = NULL;
}

static void fx_done(fixture_t *f)
{
    if (f->st)
        fx_close(f);
    ASSERT_EQ(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(uv_loop_close(&f->loop), 0);
    test_rm_tree(f->dir);
    free(f->dir);
    free(f->path);
}

static ym_store_msg_t msg(const char *room, const char *sender, const char *cid, const char *text)
{
    return (ym_store_msg_t){ .room = room, .sender = sender, .client_id = cid,
                             .text = text, .text_len = strlen(text) };
}

static int append_sync(fixture_t *f, ym_store_msg_t m, ack_t *a)
{
    memset(a, 0, sizeof(*a));
    int rc = ym_store_append(f->st, &m, on_ack, a);
    if (rc == 0)
        run_until(&f->loop, &a->calls, 1);
    return rc;
}

static void recent_sync(fixture_t *f, const char *room, listing_t *l)
{
    memset(l, 0, sizeof(*l));
    ASSERT_EQ(ym_store_recent(f->st, room, on_list, l), 0);
    run_until(&f->loop, &l->calls, 1);
    ASSERT_EQ(l->calls, 1);
    ASSERT_EQ(l->status, 0);
}

/* ---- tests ---------------------------------------------------------------- */

TEST(insert_and_read_back)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    ack_t a1, a2, a3;
    ASSERT_EQ(append_sync(&f, msg("lobby", "ann", NULL, "hello"), &a1), 0);
    ASSERT_EQ(a1.calls, 1);
    ASSERT_EQ(a1.status, 0);
    ASSERT(!a1.duplicate);
    ASSERT(!a1.stored_null);
    ASSERT(a1.id > 0);
    ASSERT_EQ(a1.ts, 1700000000000LL);   /* ts 0 in the request = the store's clock */
    ASSERT_STR_EQ(a1.text, "hello");
    ASSERT_EQ(append_sync(&f, msg("lobby", "bob", NULL, "h\xc3\xa9 there"), &a2), 0);
    ASSERT_EQ(append_sync(&f, msg("other", "bob", NULL, "elsewhere"), &a3), 0);
    ASSERT(a2.id > a1.id);

    listing_t l;
    recent_sync(&f, "lobby", &l);
    ASSERT_EQ(l.count, 2);
    ASSERT_EQ(l.ids[0], a1.id);          /* oldest first */
    ASSERT_STR_EQ(l.texts[0], "hello");
    ASSERT_STR_EQ(l.texts[1], "h\xc3\xa9 there");
    recent_sync(&f, "nobody-here", &l);
    ASSERT_EQ(l.count, 0);

    /* Reopen: the rows are durable and the schema is not migrated twice. */
    fx_close(&f);
    fx_open(&f);
    recent_sync(&f, "lobby", &l);
    ASSERT_EQ(l.count, 2);
    ASSERT_EQ(l.ids[1], a2.id);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "PRAGMA user_version"), YM_STORE_SCHEMA_VERSION);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages"), 3);
    fx_done(&f);
}

static const unsigned char test_clip[] = { 0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0xff, 0 };
static const unsigned char test_poster[] = { 0xff, 0xd8, 0, 0xd9 };

/* Checks the bytes inside the list callback, where they are valid. */
static void check_clip(int status, const ym_store_msg_t *const *msgs, size_t count, void *ud)
{
    ASSERT_EQ(status, 0);
    ASSERT_EQ(count, 1);
    ASSERT_MEM_EQ(msgs[0]->clip, msgs[0]->clip_len, test_clip, sizeof(test_clip));
    ASSERT_MEM_EQ(msgs[0]->poster, msgs[0]->poster_len, test_poster, sizeof(test_poster));
    ASSERT_STR_EQ(msgs[0]->clip_mime, "video/webm");
    ASSERT_STR_EQ(msgs[0]->client_id, "c1");
    ASSERT_STR_EQ(msgs[0]->sender, "s");
    (*(int *)ud)++;
}

TEST(clip_round_trip)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    ym_store_msg_t m = msg("r", "s", "c1", "with clip");
    m.clip = test_clip;
    m.clip_len = sizeof(test_clip);
    m.clip_mime = "video/webm";
    m.poster = test_poster;
    m.poster_len = sizeof(test_poster);
    ack_t a;
    ASSERT_EQ(append_sync(&f, m, &a), 0);
    ASSERT_EQ(a.status, 0);
    int checked = 0;
    ASSERT_EQ(ym_store_recent(f.st, "r", check_clip, &checked), 0);
    run_until(&f.loop, &checked, 1);
    ASSERT_EQ(checked, 1);
    fx_done(&f);
}

TEST(last_n_within_ttl)
{
    fixture_t f;
    fx_init(&f);
    f.cfg.history_limit = 5;
    f.cfg.ttl_ms = 10000;
    fx_open(&f);
    ack_t a;
    char text[32];
    int64_t t0 = fake_clock(NULL);
    for (int i = 0; i < 8; i++) {
        set_now(t0 + i);
        snprintf(text, sizeof(text), "m%d", i);
        ASSERT_EQ(append_sync(&f, msg("room", "ann", NULL, text), &a), 0);
        ASSERT_EQ(a.status, 0);
    }
    listing_t l;
    recent_sync(&f, "room", &l);
    ASSERT_EQ(l.count, 5);                 /* the last N ... */
    ASSERT_STR_EQ(l.texts[0], "m3");       /* ... oldest first */
    ASSERT_STR_EQ(l.texts[4], "m7");

    /* 6 s later two more; at t0 + 10007 m0..m6 (ts t0..t0+6) are older than the TTL. */
    set_now(t0 + 6000);
    ASSERT_EQ(append_sync(&f, msg("room", "bob", NULL, "late1"), &a), 0);
    ASSERT_EQ(append_sync(&f, msg("room", "bob", NULL, "late2"), &a), 0);
    set_now(t0 + 10007);
    recent_sync(&f, "room", &l);
    ASSERT_EQ(l.count, 3);
    ASSERT_STR_EQ(l.texts[0], "m7");
    ASSERT_STR_EQ(l.texts[1], "late1");
    ASSERT_STR_EQ(l.texts[2], "late2");
    set_now(t0 + 20000);
    recent_sync(&f, "room", &l);
    ASSERT_EQ(l.count, 0);
    fx_done(&f);
}

static void on_sweep(int status, uint64_t deleted, void *ud)
{
    int64_t *out = ud;
    out[0]++;
    out[1] = status;
    out[2] = (int64_t)deleted;
}

TEST(expiry_sweep_deletes_rows_and_clips)
{
    fixture_t f;
    fx_init(&f);
    f.cfg.ttl_ms = 60000;
    fx_open(&f);
    int64_t t0 = fake_clock(NULL);
    static unsigned char clip[200000];
    memset(clip, 0x5a, sizeof(clip));
    ack_t a;
    for (int i = 0; i < 20; i++) {
        ym_store_msg_t m = msg("room", "ann", NULL, "old");
        m.ts_ms = t0 - 120000 + i;         /* explicit, already expired */
        m.clip = clip;
        m.clip_len = sizeof(clip);
        ASSERT_EQ(append_sync(&f, m, &a), 0);
        ASSERT_EQ(a.status, 0);
    }
    ASSERT_EQ(append_sync(&f, msg("room", "ann", NULL, "fresh"), &a), 0);
    int64_t fresh_id = a.id;

    int64_t res[3] = { 0 };
    ASSERT_EQ(ym_store_sweep(f.st, on_sweep, res), 0);
    int calls = 0;
    while (res[0] < 1)
        uv_run(&f.loop, UV_RUN_ONCE);
    (void)calls;
    ASSERT_EQ(res[1], 0);
    ASSERT_EQ(res[2], 20);
    ym_store_stats_t s;
    ym_store_get_stats(f.st, &s);
    ASSERT(s.swept >= 20);
    /* A second sweep finds nothing. */
    res[0] = 0;
    ASSERT_EQ(ym_store_sweep(f.st, on_sweep, res), 0);
    while (res[0] < 1)
        uv_run(&f.loop, UV_RUN_ONCE);
    ASSERT_EQ(res[2], 0);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages"), 1);
    ASSERT_EQ(sql_int(f.path, "SELECT id FROM messages"), fresh_id);
    /* The clips' pages went back to the file system (incremental vacuum):
     * 4 MB of clips were written, the file now holds a few pages. */
    ASSERT(sql_int(f.path, "PRAGMA page_count") < 100);
    ASSERT_EQ(sql_int(f.path, "PRAGMA freelist_count"), 0);
    fx_done(&f);
}

TEST(idempotent_retry)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    ack_t a1, a2, a3, a4;
    ASSERT_EQ(append_sync(&f, msg("room", "ann", "cid-1", "first"), &a1), 0);
    ASSERT_EQ(a1.status, 0);
    ASSERT(!a1.duplicate);
    set_now(fake_clock(NULL) + 5);
    /* A retry (even with other text): the original ack, no new row. */
    ASSERT_EQ(append_sync(&f, msg("room", "ann", "cid-1", "retry"), &a2), 0);
    ASSERT_EQ(a2.status, 0);
    ASSERT(a2.duplicate);
    ASSERT_EQ(a2.id, a1.id);
    ASSERT_EQ(a2.ts, a1.ts);
    ASSERT_STR_EQ(a2.text, "first");
    /* The scope is the room: a retry under another display name (a reconnect
     * that got "ann (2)") is still the same message; another room is new. */
    ASSERT_EQ(append_sync(&f, msg("room", "ann (2)", "cid-1", "renamed retry"), &a3), 0);
    ASSERT(a3.duplicate);
    ASSERT_EQ(a3.id, a1.id);
    ASSERT_EQ(append_sync(&f, msg("room2", "ann", "cid-1", "room2"), &a4), 0);
    ASSERT(!a4.duplicate);

    /* Two copies queued together land in one transaction: still one row. */
    ack_t b1 = { 0 }, b2 = { 0 };
    ym_store_msg_t m = msg("room", "ann", "cid-2", "twice");
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &b1), 0);
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &b2), 0);
    run_until(&f.loop, &b2.calls, 1);
    run_until(&f.loop, &b1.calls, 1);
    ASSERT_EQ(b1.status, 0);
    ASSERT_EQ(b2.status, 0);
    ASSERT(!b1.duplicate);
    ASSERT(b2.duplicate);
    ASSERT_EQ(b1.id, b2.id);

    ym_store_stats_t s;
    ym_store_get_stats(f.st, &s);
    ASSERT_EQ(s.appended, 3);
    ASSERT_EQ(s.duplicates, 3);
    ASSERT_EQ(s.pending, 0);

    /* After a restart the retry still gets the original ack. */
    fx_close(&f);
    fx_open(&f);
    ASSERT_EQ(append_sync(&f, msg("room", "ann", "cid-1", "after restart"), &a2), 0);
    ASSERT(a2.duplicate);
    ASSERT_EQ(a2.id, a1.id);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages WHERE client_id = 'cid-1'"), 2);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages WHERE client_id = 'cid-2'"), 1);
    fx_done(&f);
}

/* A backend that wraps SQLite and holds its first append transaction until
 * the test has queued everything: makes the group-commit count deterministic. */
static sem_t gate;
static int gate_batches;
static int gated_append(void *h, ym_store_append_item_t *items, size_t n)
{
    if (__atomic_fetch_add(&gate_batches, 1, __ATOMIC_SEQ_CST) == 0)
        sem_wait(&gate);
    return ym_store_sqlite_backend.append_batch(h, items, n);
}
static ym_store_backend_t gated_backend;

static void count_ok(int status, const ym_store_msg_t *m, bool dup, void *ud)
{
    int *c = ud;
    ASSERT_EQ(status, 0);
    ASSERT(m && m->id > 0);
    (*c)++;
}

TEST(group_commit)
{
    gated_backend = ym_store_sqlite_backend;
    gated_backend.append_batch = gated_append;
    sem_init(&gate, 0, 0);
    gate_batches = 0;
    fixture_t f;
    fx_init(&f);
    f.cfg.backend = &gated_backend;
    f.cfg.max_batch = 256;
    fx_open(&f);
    int acked = 0;
    char text[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof(text), "m%d", i);
        ym_store_msg_t m = msg("room", "ann", NULL, text);
        ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    }
    ym_store_stats_t s;
    ym_store_get_stats(f.st, &s);
    ASSERT_EQ(s.pending, 1000);
    sem_post(&gate);
    run_until(&f.loop, &acked, 1000);
    ym_store_get_stats(f.st, &s);
    ASSERT_EQ(s.appended, 1000);
    ASSERT_EQ(s.pending, 0);
    /* At most one batch started before the gate closed on it, then batches of
     * max_batch: 1 + ceil(999 / 256) = 5 transactions, far fewer than 1000. */
    ASSERT(s.transactions >= 4);
    ASSERT(s.transactions <= 5);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages"), 1000);
    fx_done(&f);
    sem_destroy(&gate);
}

/* A backend whose append transactions fail (as on a full disk). */
static int failing_append(void *h, ym_store_append_item_t *items, size_t n)
{
    return -ENOSPC;
}

TEST(failed_transaction_reports_error_and_stores_nothing)
{
    ym_store_backend_t failing = ym_store_sqlite_backend;
    failing.append_batch = failing_append;
    fixture_t f;
    fx_init(&f);
    f.cfg.backend = &failing;
    fx_open(&f);
    ack_t a;
    ASSERT_EQ(append_sync(&f, msg("room", "ann", "cid", "lost"), &a), 0);
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(a.status, -ENOSPC);
    ASSERT(a.stored_null);
    ASSERT(!a.duplicate);
    ym_store_stats_t s;
    ym_store_get_stats(f.st, &s);
    ASSERT_EQ(s.failed, 1);
    ASSERT_EQ(s.appended, 0);
    ASSERT_EQ(s.transactions, 0);
    ASSERT_EQ(s.pending, 0);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages"), 0);
    fx_done(&f);
}

TEST(limits_and_queue_bound)
{
    fixture_t f;
    fx_init(&f);
    f.cfg.max_queue = 3;
    fx_open(&f);
    ym_store_msg_t m = msg("room", "ann", NULL, "x");
    ack_t a;
    int acked = 0;

    m.room = NULL;
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EINVAL);
    m.room = "";
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EINVAL);
    m.room = "room";
    m.text = "bad \xc0\xaf utf8";
    m.text_len = strlen(m.text);
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EINVAL);
    char *big = malloc(YM_STORE_MAX_TEXT + 1);
    memset(big, 'a', YM_STORE_MAX_TEXT + 1);
    m.text = big;
    m.text_len = YM_STORE_MAX_TEXT + 1;
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EMSGSIZE);
    m.text_len = YM_STORE_MAX_TEXT;        /* exactly the limit is fine */
    ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    free(big);
    m = msg("room", "ann", NULL, "x");
    m.clip = "";
    m.clip_len = YM_STORE_MAX_CLIP + 1;   /* rejected before anything is read */
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EMSGSIZE);
    char longroom[YM_STORE_MAX_ROOM + 2];
    memset(longroom, 'r', sizeof(longroom) - 1);
    longroom[sizeof(longroom) - 1] = '\0';
    m = msg(longroom, "ann", NULL, "x");
    ASSERT_EQ(ym_store_append(f.st, &m, on_ack, &a), -EMSGSIZE);
    ASSERT_EQ(ym_store_recent(f.st, longroom, on_list, NULL), -EINVAL);

    /* The queue bound: max_queue accepted, then -EBUSY until callbacks ran. */
    m = msg("room", "ann", NULL, "q");
    ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), -EBUSY);
    run_until(&f.loop, &acked, 3);
    ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    run_until(&f.loop, &acked, 4);
    fx_done(&f);
}

TEST(close_flushes_pending_then_refuses)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    int acked = 0;
    char text[32];
    for (int i = 0; i < 50; i++) {
        snprintf(text, sizeof(text), "m%d", i);
        ym_store_msg_t m = msg("room", "ann", NULL, text);
        ASSERT_EQ(ym_store_append(f.st, &m, count_ok, &acked), 0);
    }
    int closed = 0;
    ym_store_t *st = f.st;
    ym_store_close(st, on_closed, &closed);
    ym_store_msg_t m = msg("room", "ann", NULL, "too late");
    ASSERT_EQ(ym_store_append(st, &m, count_ok, &acked), -ECANCELED);
    ASSERT_EQ(ym_store_recent(st, "room", on_list, NULL), -ECANCELED);
    run_until(&f.loop, &closed, 1);
    ASSERT_EQ(acked, 50);                  /* every pending append was committed and called back */
    f.st = NULL;
    ASSERT_EQ(sql_int(f.path, "SELECT count(*) FROM messages"), 50);
    fx_done(&f);
}

/* Closing from inside a store callback is allowed (the store is freed later). */
static void close_in_cb(int status, const ym_store_msg_t *m, bool dup, void *ud)
{
    fixture_t *f = ud;
    ASSERT_EQ(status, 0);
    ym_store_close(f->st, NULL, NULL);
    f->st = NULL;
}

TEST(close_from_callback)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    ym_store_msg_t m = msg("room", "ann", NULL, "bye");
    ASSERT_EQ(ym_store_append(f.st, &m, close_in_cb, &f), 0);
    /* The async and timer handles close; then the loop has nothing left. */
    ASSERT_EQ(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
    ASSERT(f.st == NULL);
    fx_done(&f);
}

static void expect_open_error(fixture_t *f, const char *needle)
{
    char err[512] = "";
    ym_store_t *st = NULL;
    int rc = ym_store_open(&f->loop, &f->cfg, &st, err, sizeof(err));
    fprintf(stderr, "     (expected) %s\n", err);
    ASSERT(rc < 0);
    ASSERT(st == NULL);
    if (!strstr(err, needle))
        TEST_FAIL_("error \"%s\" lacks \"%s\"", err, needle);
}

TEST(unwritable_path_is_a_clear_error)
{
    fixture_t f;
    fx_init(&f);
    /* A data "directory" that is a regular file (root ignores permissions, so
     * chmod would not make this test fail as another user). */
    char *file = path_join(f.dir, "plainfile");
    FILE *fp = fopen(file, "w");
    ASSERT(fp != NULL);
    fclose(fp);
    char *bad = path_join(file, "yoom.db");
    f.cfg.path = bad;
    expect_open_error(&f, "not a directory");
    /* A directory no one can create files in. */
    f.cfg.path = "/proc/yoom-test/yoom.db";
    expect_open_error(&f, "/proc/yoom-test");
    f.cfg.path = "/proc/yoom.db";
    expect_open_error(&f, "/proc/yoom.db");
    free(bad);
    free(file);
    fx_done(&f);
}

TEST(corrupt_file_is_a_clear_error)
{
    fixture_t f;
    fx_init(&f);
    /* Not a database at all. */
    char *junk = path_join(f.dir, "junk.db");
    FILE *fp = fopen(junk, "w");
    ASSERT(fp != NULL);
    for (int i = 0; i < 3000; i++)
        fputs("this is not sqlite ", fp);
    fclose(fp);
    f.cfg.path = junk;
    expect_open_error(&f, "not a database");

    /* A real database whose pages were damaged. */
    f.cfg.path = f.path;
    fx_open(&f);
    ack_t a;
    char text[600];
    memset(text, 'z', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    for (int i = 0; i < 40; i++)
        ASSERT_EQ(append_sync(&f, msg("room", "ann", NULL, text), &a), 0);
    fx_close(&f);
    ASSERT(sql_integrity_ok(f.path));
    int fd = open(f.path, O_WRONLY);
    ASSERT(fd >= 0);
    unsigned char garbage[4096 * 3];
    memset(garbage, 0xa5, sizeof(garbage));
    ASSERT_EQ(pwrite(fd, garbage, sizeof(garbage), 4096 * 2), (ssize_t)sizeof(garbage));
    close(fd);
    expect_open_error(&f, "corrupt");
    free(junk);
    fx_done(&f);
}

TEST(newer_schema_is_refused)
{
    fixture_t f;
    fx_init(&f);
    fx_open(&f);
    fx_close(&f);
    ASSERT_EQ(sql_int(f.path, "PRAGMA user_version = 99"), -1);  /* no row; sets it */
    ASSERT_EQ(sql_int(f.path, "PRAGMA user_version"), 99);
    expect_open_error(&f, "newer");
    fx_done(&f);
}

TEST(sync_parse)
{
    ym_store_sync_t s;
    ASSERT_EQ(ym_store_sync_parse("normal", &s), 0);
    ASSERT_EQ(s, YM_STORE_SYNC_NORMAL);
    ASSERT_EQ(ym_store_sync_parse("FULL", &s), 0);
    ASSERT_EQ(s, YM_STORE_SYNC_FULL);
    ASSERT_EQ(ym_store_sync_parse("off", &s), -EINVAL);
    ASSERT_EQ(ym_store_sync_parse(NULL, &s), -EINVAL);
}

int main(void)
{
    RUN(insert_and_read_back);
    RUN(clip_round_trip);
    RUN(last_n_within_ttl);
    RUN(expiry_sweep_deletes_rows_and_clips);
    RUN(idempotent_retry);
    RUN(group_commit);
    RUN(failed_transaction_reports_error_and_stores_nothing);
    RUN(limits_and_queue_bound);
    RUN(close_flushes_pending_then_refuses);
    RUN(close_from_callback);
    RUN(unwritable_path_is_a_clear_error);
    RUN(corrupt_file_is_a_clear_error);
    RUN(newer_schema_is_refused);
    RUN(sync_parse);
    return test_report();
}
