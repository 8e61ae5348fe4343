/* ym_store.c: the backend-independent part of the store: validation, the
 * writer and reader threads with their queues, group commit, and delivery of
 * results to the loop thread. */
#include "store/ym_store.h"

#include "base/ym_base.h"
#include "base/ym_log.h"
#include "base/ym_time.h"
#include "base/ym_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

typedef enum job_kind {
    JOB_APPEND,
    JOB_RECENT,
    JOB_SWEEP,
    JOB_EXIT,       /* posted by a worker thread as its last result */
} job_kind_t;

typedef struct job {
    struct job *next;
    job_kind_t kind;
    int status;
    void *ud;
    union {
        ym_store_append_cb append;
        ym_store_list_cb list;
        ym_store_sweep_cb sweep;
    } cb;
    /* JOB_APPEND */
    ym_store_msg_t *msg;        /* packed copy of the request */
    ym_store_msg_t *original;   /* duplicate: the stored row */
    size_t bytes;               /* counted in st->pending_bytes */
    /* JOB_RECENT */
    char *room;
    ym_store_msg_t **list;
    size_t count;
    /* JOB_SWEEP */
    uint64_t deleted;
} job_t;

typedef struct worker {
    ym_store_t *st;
    bool writer;
    void *h;                    /* backend handle, used only by this thread once started */
    pthread_t tid;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;         /* guarded by mu */
    bool stop;                  /* guarded by mu: exit once the queue is empty */
} worker_t;

struct ym_store {
    uv_loop_t *loop;
    ym_store_config_t cfg;
    char *path;
    const ym_store_backend_t *be;
    uv_async_t async;
    uv_timer_t sweep_timer;
    worker_t writer, reader;

    pthread_mutex_t done_mu;
    job_t *done_head, *done_tail;   /* guarded by done_mu */

    /* Loop thread only. */
    size_t pending;
    size_t pending_bytes;
    int workers_running;
    int handles_open;
    bool closing;
    bool finalizing;
    void (*close_done)(void *ud);
    void *close_ud;

    /* Written by the writer thread, read on the loop (relaxed atomics). */
    uint64_t n_appended, n_duplicates, n_failed, n_transactions, n_swept;
};

static int64_t real_clock(void *ud)
{
    (void)ud;
    return (int64_t)ym_wall_ms();
}

static int64_t store_now(const ym_store_t *st)
{
    return st->cfg.clock(st->cfg.clock_ud);
}

static void counter_add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t counter_get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

int ym_store_sync_parse(const char *s, ym_store_sync_t *out)
{
    if (s && strcasecmp(s, "normal") == 0) {
        *out = YM_STORE_SYNC_NORMAL;
        return 0;
    }
    if (s && strcasecmp(s, "full") == 0) {
        *out = YM_STORE_SYNC_FULL;
        return 0;
    }
    return -EINVAL;
}

void ym_store_config_init(ym_store_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->path = YM_STORE_DEFAULT_PATH;
    cfg->synchronous = YM_STORE_SYNC_NORMAL;
    cfg->history_limit = YM_STORE_DEFAULT_HISTORY;
    cfg->ttl_ms = YM_STORE_DEFAULT_TTL_MS;
    cfg->sweep_interval_ms = YM_STORE_DEFAULT_SWEEP_MS;
    cfg->max_batch = YM_STORE_DEFAULT_MAX_BATCH;
    cfg->max_queue = YM_STORE_DEFAULT_MAX_QUEUE;
    cfg->max_queue_bytes = YM_STORE_DEFAULT_MAX_QUEUE_BYTES;
}

/* ---- Packed messages ------------------------------------------------------ */

static size_t opt_len(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

ym_store_msg_t *ym_store_msg_dup(const ym_store_msg_t *m)
{
    size_t total = sizeof(*m) + opt_len(m->room) + opt_len(m->sender) + opt_len(m->client_id) +
                   m->text_len + 1 + m->clip_len + opt_len(m->clip_mime) + m->poster_len;
    ym_store_msg_t *c = ym_xmalloc(total);
    char *p = (char *)(c + 1);
    *c = *m;
#define COPY_STR(f) do { if (m->f) { size_t n_ = strlen(m->f) + 1; memcpy(p, m->f, n_); c->f = p; p += n_; } } while (0)
    COPY_STR(room);
    COPY_STR(sender);
    COPY_STR(client_id);
    COPY_STR(clip_mime);
#undef COPY_STR
    /* The text keeps a NUL after it so that C callers may treat it as a string. */
    if (m->text_len)
        memcpy(p, m->text, m->text_len);
    p[m->text_len] = '\0';
    c->text = p;
    p += m->text_len + 1;
    if (m->clip_len) {
        memcpy(p, m->clip, m->clip_len);
        c->clip = p;
        p += m->clip_len;
    } else {
        c->clip = NULL;
    }
    if (m->poster_len) {
        memcpy(p, m->poster, m->poster_len);
        c->poster = p;
    } else {
        c->poster = NULL;
    }
    return c;
}

static void free_list(ym_store_msg_t **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

/* ---- Worker threads -------------------------------------------------------- */

static void post_done(ym_store_t *st, job_t *first, job_t *last)
{
    pthread_mutex_lock(&st->done_mu);
    if (st->done_tail)
        st->done_tail->next = first;
    else
        st->done_head = first;
    st->done_tail = last;
    pthread_mutex_unlock(&st->done_mu);
    uv_async_send(&st->async);
}

static void run_append_batch(ym_store_t *st, worker_t *w, job_t *first, size_t n)
{
    ym_store_append_item_t stack_items[64];
    ym_store_append_item_t *items = n <= YM_ARRAY_LEN(stack_items) ? stack_items
                                    : ym_xcalloc(n, sizeof(*items));
    job_t *j = first;
    for (size_t i = 0; i < n; i++, j = j->next)
        items[i] = (ym_store_append_item_t){ .msg = j->msg };

    int rc = st->be->append_batch(w->h, items, n);
    uint64_t dups = 0;
    j = first;
    for (size_t i = 0; i < n; i++, j = j->next) {
        j->status = rc;
        if (rc == 0) {
            j->msg->id = items[i].id;
            j->original = items[i].original;
            dups += items[i].original != NULL;
        }
    }
    if (rc == 0) {
        counter_add(&st->n_transactions, 1);
        counter_add(&st->n_appended, n - dups);
        counter_add(&st->n_duplicates, dups);
    } else {
        counter_add(&st->n_failed, n);
        ym_log_error("store: a transaction of %zu messages failed: %s", n, strerror(-rc));
    }
    if (items != stack_items)
        free(items);
}

static void run_job(ym_store_t *st, worker_t *w, job_t *j)
{
    switch (j->kind) {
    case JOB_RECENT:
        j->status = st->be->recent(w->h, j->room, st->cfg.history_limit,
                                   store_now(st) - (int64_t)st->cfg.ttl_ms, &j->list, &j->count);
        break;
    case JOB_SWEEP:
        j->status = st->be->sweep(w->h, store_now(st) - (int64_t)st->cfg.ttl_ms, &j->deleted);
        if (j->status == 0)
            counter_add(&st->n_swept, j->deleted);
        break;
    case JOB_APPEND:
    case JOB_EXIT:
        break;
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    ym_store_t *st = w->st;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        /* Group commit: take every append queued right now (up to max_batch).
         * While this batch commits, new appends pile up for the next one, so
         * the number of transactions falls as the load rises. */
        job_t *first = w->head, *last = first;
        size_t n = 1;
        if (first->kind == JOB_APPEND) {
            while (n < st->cfg.max_batch && last->next && last->next->kind == JOB_APPEND) {
                last = last->next;
                n++;
            }
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);

        if (first->kind == JOB_APPEND)
            run_append_batch(st, w, first, n);
        else
            run_job(st, w, first);
        post_done(st, first, last);
    }
    st->be->close(w->h);
    w->h = NULL;
    job_t *exit_job = ym_xcalloc(1, sizeof(*exit_job));
    exit_job->kind = JOB_EXIT;
    post_done(st, exit_job, exit_job);
    return NULL;
}

static void worker_push(worker_t *w, job_t *j)
{
    j->next = NULL;
    pthread_mutex_lock(&w->mu);
    /* Only an empty queue can have the worker asleep on it: a worker that finds
     * work re-checks the queue before it waits again. */
    bool was_empty = w->head == NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    if (was_empty)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void worker_stop(worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void worker_init(worker_t *w, ym_store_t *st, bool writer)
{
    memset(w, 0, sizeof(*w));
    w->st = st;
    w->writer = writer;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void worker_destroy(worker_t *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

/* ---- Loop side ------------------------------------------------------------ */

static void on_handle_closed(uv_handle_t *h)
{
    ym_store_t *st = h->data;
    if (--st->handles_open > 0)
        return;
    void (*done)(void *) = st->close_done;
    void *ud = st->close_ud;
    worker_destroy(&st->writer);
    worker_destroy(&st->reader);
    pthread_mutex_destroy(&st->done_mu);
    free(st->path);
    free(st);
    if (done)
        done(ud);
}

static void finalize(ym_store_t *st)
{
    st->finalizing = true;
    pthread_join(st->writer.tid, NULL);
    pthread_join(st->reader.tid, NULL);
    st->handles_open = 2;
    uv_close((uv_handle_t *)&st->async, on_handle_closed);
    uv_close((uv_handle_t *)&st->sweep_timer, on_handle_closed);
}

static void deliver(ym_store_t *st, job_t *j)
{
    switch (j->kind) {
    case JOB_APPEND: {
        st->pending--;
        st->pending_bytes -= j->bytes;
        const ym_store_msg_t *stored = NULL;
        if (j->status == 0)
            stored = j->original ? j->original : j->msg;
        j->cb.append(j->status, stored, j->original != NULL, j->ud);
        free(j->msg);
        free(j->original);
        break;
    }
    case JOB_RECENT:
        j->cb.list(j->status, (const ym_store_msg_t *const *)j->list, j->status == 0 ? j->count : 0, j->ud);
        free_list(j->list, j->count);
        free(j->room);
        break;
    case JOB_SWEEP:
        if (j->status < 0)
            ym_log_error("store: sweep failed: %s", strerror(-j->status));
        else if (j->deleted)
            ym_log_debug("store: sweep deleted %" PRIu64 " expired messages", j->deleted);
        if (j->cb.sweep)
            j->cb.sweep(j->status, j->deleted, j->ud);
        break;
    case JOB_EXIT:
        st->workers_running--;
        break;
    }
    free(j);
}

static void on_async(uv_async_t *a)
{
    ym_store_t *st = a->data;
    if (st->finalizing)
        return;
    pthread_mutex_lock(&st->done_mu);
    job_t *j = st->done_head;
    st->done_head = st->done_tail = NULL;
    pthread_mutex_unlock(&st->done_mu);
    while (j) {
        job_t *next = j->next;
        deliver(st, j);
        j = next;
    }
    /* Both workers post JOB_EXIT after their last result, so once both are
     * counted every callback has run and nothing can touch st any more. */
    if (st->closing && st->workers_running == 0)
        finalize(st);
}

static int queue_sweep(ym_store_t *st, ym_store_sweep_cb cb, void *ud)
{
    job_t *j = ym_xcalloc(1, sizeof(*j));
    j->kind = JOB_SWEEP;
    j->cb.sweep = cb;
    j->ud = ud;
    worker_push(&st->writer, j);
    return 0;
}

static void on_sweep_timer(uv_timer_t *t)
{
    ym_store_t *st = t->data;
    if (!st->closing)
        queue_sweep(st, NULL, NULL);
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char *dir = ym_xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; ; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char c = *p;
            *p = '\0';
            struct stat sb;
            if (stat(dir, &sb) != 0) {
                if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                    rc = -errno;
                    snprintf(err, errlen, "cannot create the data directory %s: %s", dir, strerror(errno));
                    break;
                }
            } else if (!S_ISDIR(sb.st_mode)) {
                rc = -ENOTDIR;
                snprintf(err, errlen, "cannot create the database %s: %s is not a directory", path, dir);
                break;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    free(dir);
    return rc;
}

int ym_store_open(uv_loop_t *loop, const ym_store_config_t *cfg, ym_store_t **out,
                  char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    ym_store_config_t c = *cfg;
    if (!c.path)
        c.path = YM_STORE_DEFAULT_PATH;
    if (!c.history_limit)
        c.history_limit = YM_STORE_DEFAULT_HISTORY;
    if (!c.ttl_ms)
        c.ttl_ms = YM_STORE_DEFAULT_TTL_MS;
    if (!c.sweep_interval_ms)
        c.sweep_interval_ms = YM_STORE_DEFAULT_SWEEP_MS;
    if (!c.max_batch)
        c.max_batch = YM_STORE_DEFAULT_MAX_BATCH;
    if (!c.max_queue)
        c.max_queue = YM_STORE_DEFAULT_MAX_QUEUE;
    if (!c.max_queue_bytes)
        c.max_queue_bytes = YM_STORE_DEFAULT_MAX_QUEUE_BYTES;
    if (!c.clock)
        c.clock = real_clock;
    if (!c.backend)
        c.backend = &ym_store_sqlite_backend;
    if (c.history_limit > YM_STORE_MAX_HISTORY || c.ttl_ms > INT64_MAX / 2 ||
        (c.synchronous != YM_STORE_SYNC_NORMAL && c.synchronous != YM_STORE_SYNC_FULL)) {
        snprintf(err, errlen, "invalid store configuration");
        return -EINVAL;
    }

    int rc = make_parent_dirs(c.path, err, errlen);
    if (rc < 0)
        return rc;

    ym_store_t *st = ym_xcalloc(1, sizeof(*st));
    st->loop = loop;
    st->path = ym_xstrdup(c.path);
    c.path = st->path;
    st->cfg = c;
    st->be = c.backend;
    worker_init(&st->writer, st, true);
    worker_init(&st->reader, st, false);
    pthread_mutex_init(&st->done_mu, NULL);

    rc = st->be->open(&st->cfg, true, &st->writer.h, err, errlen);
    if (rc == 0) {
        rc = st->be->open(&st->cfg, false, &st->reader.h, err, errlen);
        if (rc < 0)
            st->be->close(st->writer.h);
    }
    if (rc < 0) {
        worker_destroy(&st->writer);
        worker_destroy(&st->reader);
        pthread_mutex_destroy(&st->done_mu);
        free(st->path);
        free(st);
        return rc;
    }

    uv_async_init(loop, &st->async, on_async);
    st->async.data = st;
    uv_timer_init(loop, &st->sweep_timer);
    st->sweep_timer.data = st;
    /* The sweep timer alone must not keep a finished loop alive. */
    uv_unref((uv_handle_t *)&st->sweep_timer);
    uv_timer_start(&st->sweep_timer, on_sweep_timer, c.sweep_interval_ms, c.sweep_interval_ms);

    if (pthread_create(&st->writer.tid, NULL, worker_main, &st->writer) != 0 ||
        pthread_create(&st->reader.tid, NULL, worker_main, &st->reader) != 0) {
        /* Out of threads at start-up: nothing sensible to do. */
        ym_log_error("store: cannot start worker threads");
        abort();
    }
    st->workers_running = 2;
    /* Rows that expired while the server was down go now, not in a minute. */
    queue_sweep(st, NULL, NULL);
    *out = st;
    return 0;
}

static int check_str(const char *s, size_t max, bool required)
{
    if (!s)
        return required ? -EINVAL : 0;
    size_t n = strnlen(s, max + 1);
    if (n == 0)
        return -EINVAL;
    if (n > max)
        return -EMSGSIZE;
    return ym_utf8_valid(s, n) ? 0 : -EINVAL;
}

int ym_store_append(ym_store_t *st, const ym_store_msg_t *msg, ym_store_append_cb cb, void *ud)
{
    if (st->closing)
        return -ECANCELED;
    if (!cb)
        return -EINVAL;
    int rc;
    if ((rc = check_str(msg->room, YM_STORE_MAX_ROOM, true)) < 0 ||
        (rc = check_str(msg->sender, YM_STORE_MAX_SENDER, true)) < 0 ||
        (rc = check_str(msg->client_id, YM_STORE_MAX_CLIENT_ID, false)) < 0 ||
        (rc = check_str(msg->clip_mime, YM_STORE_MAX_MIME, false)) < 0)
        return rc;
    if (msg->text_len > YM_STORE_MAX_TEXT || msg->clip_len > YM_STORE_MAX_CLIP ||
        msg->poster_len > YM_STORE_MAX_POSTER)
        return -EMSGSIZE;
    if ((msg->text_len && !msg->text) || (msg->clip_len && !msg->clip) || (msg->poster_len && !msg->poster))
        return -EINVAL;
    if (msg->text_len && !ym_utf8_valid(msg->text, msg->text_len))
        return -EINVAL;
    size_t bytes = msg->text_len + msg->clip_len + msg->poster_len;
    if (st->pending >= st->cfg.max_queue || st->pending_bytes + bytes > st->cfg.max_queue_bytes)
        return -EBUSY;

    job_t *j = ym_xcalloc(1, sizeof(*j));
    j->kind = JOB_APPEND;
    j->cb.append = cb;
    j->ud = ud;
    j->msg = ym_store_msg_dup(msg);
    j->msg->id = 0;
    if (j->msg->ts_ms == 0)
        j->msg->ts_ms = store_now(st);
    j->bytes = bytes;
    st->pending++;
    st->pending_bytes += bytes;
    worker_push(&st->writer, j);
    return 0;
}

int ym_store_recent(ym_store_t *st, const char *room, ym_store_list_cb cb, void *ud)
{
    if (st->closing)
        return -ECANCELED;
    if (!cb || check_str(room, YM_STORE_MAX_ROOM, true) < 0)
        return -EINVAL;
    job_t *j = ym_xcalloc(1, sizeof(*j));
    j->kind = JOB_RECENT;
    j->cb.list = cb;
    j->ud = ud;
    j->room = ym_xstrdup(room);
    worker_push(&st->reader, j);
    return 0;
}

int ym_store_sweep(ym_store_t *st, ym_store_sweep_cb cb, void *ud)
{
    if (st->closing)
        return -ECANCELED;
    return queue_sweep(st, cb, ud);
}

void ym_store_get_stats(const ym_store_t *st, ym_store_stats_t *out)
{
    out->appended = counter_get(&st->n_appended);
    out->duplicates = counter_get(&st->n_duplicates);
    out->failed = counter_get(&st->n_failed);
    out->transactions = counter_get(&st->n_transactions);
    out->swept = counter_get(&st->n_swept);
    out->pending = st->pending;
}

void ym_store_close(ym_store_t *st, void (*done)(void *ud), void *ud)
{
    if (st->closing)
        return;
    st->closing = true;
    st->close_done = done;
    st->close_ud = ud;
    uv_timer_stop(&st->sweep_timer);
    worker_stop(&st->writer);
    worker_stop(&st->reader);
}
