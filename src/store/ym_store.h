/* ym_store.h: durable message history (the store layer).
 *
 * The public API (ym_store_*) is used on the loop thread. Behind it sit a
 * backend, a const vtable (ym_store_backend_t) so that SQLite never shows in
 * this interface and a distributed backend can follow, and two worker threads:
 *
 *  - the writer owns the backend's write handle. It drains everything that is
 *    queued (up to max_batch messages) into ONE transaction, so under load many
 *    messages share one commit (group commit) instead of one fsync each. A
 *    message's callback runs on the loop thread only after that commit returned:
 *    an acknowledgement sent from the callback is durable.
 *  - the reader owns a second, read-only handle (SQLite in WAL mode lets it read
 *    while the writer commits), for the history given to whoever joins.
 *
 * Results travel back to the loop through one uv_async_t; nothing here blocks
 * the loop except ym_store_open, which runs at start-up.
 *
 * Durability (SQLite backend, WAL mode), chosen with ym_store_config_t.synchronous:
 *  - NORMAL: a committed message survives a crash of the process (SIGKILL, abort):
 *    the WAL is in the OS page cache. A power loss or kernel crash may lose the
 *    last commits (the database stays consistent). This is the default.
 *  - FULL: the WAL is fsynced at every commit, so a commit also survives a power
 *    loss. Group commit keeps this to one fsync per batch, not per message.
 *
 * Clips are stored as BLOBs in the message's own row, not as files: a message
 * and its clip are then written by one transaction (one ack covers both), the
 * expiry sweep removes both at once, a crash can leave no orphan file and no
 * row pointing at a missing file, and the backup is one file. Clips are small
 * (a few seconds of low-resolution VP8, typically tens to hundreds of KB, capped
 * at YM_STORE_MAX_CLIP), a size at which SQLite reads blobs about as fast as the
 * file system; the price is that a clip is written twice (WAL, then the
 * checkpoint), which the cap keeps bounded.
 *
 * Errors: functions returning int give 0 or a negative errno. Async functions:
 * if the call fails synchronously, the callback is never called.
 */
#ifndef YM_STORE_H
#define YM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Limits on everything a peer controls, checked by ym_store_append before any
 * copy is made (-EMSGSIZE when exceeded). */
#define YM_STORE_MAX_ROOM       128u               /* bytes, UTF-8 */
#define YM_STORE_MAX_SENDER     128u               /* bytes, UTF-8 */
#define YM_STORE_MAX_CLIENT_ID  128u               /* bytes, UTF-8 */
#define YM_STORE_MAX_TEXT       (64u * 1024u)      /* bytes, UTF-8 */
#define YM_STORE_MAX_MIME       64u                /* bytes, ASCII */
#define YM_STORE_MAX_CLIP       (4u * 1024u * 1024u)
#define YM_STORE_MAX_POSTER     (1u * 1024u * 1024u)
#define YM_STORE_MAX_HISTORY    1000u              /* upper bound of history_limit */

/* Defaults. The app derives the path from --data-dir: <dir>/YM_STORE_DB_FILE. */
#define YM_STORE_DEFAULT_DIR    "./var"
#define YM_STORE_DB_FILE        "yoom.db"
#define YM_STORE_DEFAULT_PATH   YM_STORE_DEFAULT_DIR "/" YM_STORE_DB_FILE
#define YM_STORE_DEFAULT_HISTORY   10u
#define YM_STORE_DEFAULT_TTL_MS    (10u * 60u * 1000u)
#define YM_STORE_DEFAULT_SWEEP_MS  (60u * 1000u)
#define YM_STORE_DEFAULT_MAX_BATCH 256u
#define YM_STORE_DEFAULT_MAX_QUEUE 4096u
#define YM_STORE_DEFAULT_MAX_QUEUE_BYTES ((size_t)64u * 1024u * 1024u)

/* The schema version this build writes (PRAGMA user_version for SQLite). A
 * database with a newer version is refused at open. */
#define YM_STORE_SCHEMA_VERSION 2

/* One chat message. As an append request every pointer is borrowed for the
 * duration of the call only (ym_store_append copies); as a result handed to a
 * callback it is owned by the store and valid until the callback returns. */
typedef struct ym_store_msg {
    int64_t id;             /* server-assigned, > 0, increasing in commit order; ignored in a request */
    const char *room;       /* NUL-terminated UTF-8, 1..YM_STORE_MAX_ROOM bytes */
    const char *sender;     /* NUL-terminated UTF-8, 1..YM_STORE_MAX_SENDER bytes */
    const char *client_id;  /* NULL, or 1..YM_STORE_MAX_CLIENT_ID bytes: makes retries idempotent
                               within the room for as long as the original is kept (TTL) */
    const char *text;       /* UTF-8, text_len bytes (may be NULL when text_len == 0) */
    size_t text_len;
    int64_t ts_ms;          /* wall clock, ms since the epoch; 0 in a request = now (config clock) */
    const void *clip;       /* optional clip (e.g. WebM), clip_len bytes; NULL/0 = none */
    size_t clip_len;
    const char *clip_mime;  /* NULL, or the clip's MIME type */
    const void *poster;     /* optional still image, poster_len bytes; NULL/0 = none */
    size_t poster_len;
} ym_store_msg_t;

typedef enum ym_store_sync {
    YM_STORE_SYNC_NORMAL = 0,   /* survives a process crash (default) */
    YM_STORE_SYNC_FULL = 1,     /* also survives a power loss */
} ym_store_sync_t;

/* Parses "normal" or "full" (ASCII case-insensitive). Returns 0 or -EINVAL. Any thread. */
int ym_store_sync_parse(const char *s, ym_store_sync_t *out);

/* A wall clock in ms since the epoch; called on the loop AND worker threads. */
typedef int64_t (*ym_store_clock_cb)(void *ud);

struct ym_store_backend;

typedef struct ym_store_config {
    const char *path;            /* database file; missing parent directories are created (0700).
                                    Copied by ym_store_open. NULL = YM_STORE_DEFAULT_PATH */
    ym_store_sync_t synchronous;
    uint32_t history_limit;      /* messages given to a joiner per room; 1..YM_STORE_MAX_HISTORY */
    uint64_t ttl_ms;             /* older messages are neither given out nor kept */
    uint64_t sweep_interval_ms;  /* period of the expiry sweep */
    uint32_t max_batch;          /* most messages per transaction */
    uint32_t max_queue;          /* appends accepted but not yet called back; beyond: -EBUSY */
    size_t max_queue_bytes;      /* bytes of those appends (text + clips); beyond: -EBUSY */
    ym_store_clock_cb clock;     /* NULL = the real wall clock (tests inject their own) */
    void *clock_ud;
    const struct ym_store_backend *backend; /* NULL = SQLite (ym_store_sqlite_backend) */
} ym_store_config_t;

/* Fills cfg with the defaults above. Any thread. */
void ym_store_config_init(ym_store_config_t *cfg);

typedef struct ym_store ym_store_t;

/* Opens (creating on first run) the database at cfg->path, applies the schema
 * migrations in order, checks the file (SQLite: PRAGMA quick_check) and starts
 * the worker threads and the periodic sweep on loop. Synchronous: call it at
 * start-up, on the loop thread. On failure returns a negative errno and writes a
 * one-line, human-readable reason to err (unwritable path, corrupt file, schema
 * from a newer version...); *out is then untouched. cfg is copied. */
int ym_store_open(uv_loop_t *loop, const ym_store_config_t *cfg, ym_store_t **out,
                  char *err, size_t errlen);

/* status: 0 after the commit, or a negative errno (the transaction was rolled back:
 * the message is not stored, a retry with the same client_id is safe).
 * stored: the row as committed (NULL when status < 0). For a retry of an already
 * stored client_id it is the ORIGINAL row (its id, text and ts) and duplicate is
 * true. Owned by the store, valid during the callback. Runs on the loop thread;
 * it may call any ym_store_* function, including ym_store_close. */
typedef void (*ym_store_append_cb)(int status, const ym_store_msg_t *stored, bool duplicate, void *ud);

/* Queues msg for the next transaction. Copies msg (and its clip); cb (required) is called
 * exactly once, after the commit. Loop thread. Fails synchronously (cb not
 * called) with -EINVAL (missing room/sender, invalid UTF-8), -EMSGSIZE (a limit
 * above), -EBUSY (queue full: max_queue or max_queue_bytes) or -ECANCELED
 * (ym_store_close was called). */
int ym_store_append(ym_store_t *st, const ym_store_msg_t *msg, ym_store_append_cb cb, void *ud);

/* msgs: count messages, oldest first, owned by the store and valid during the
 * callback. count is 0 on error. Loop thread. */
typedef void (*ym_store_list_cb)(int status, const ym_store_msg_t *const *msgs, size_t count, void *ud);

/* The last history_limit messages of room younger than ttl_ms, oldest first,
 * read on the reader thread. Loop thread. Fails synchronously with -EINVAL or
 * -ECANCELED. Messages whose commit callback has run are always included. */
int ym_store_recent(ym_store_t *st, const char *room, ym_store_list_cb cb, void *ud);

/* deleted: rows removed by this sweep. Loop thread. */
typedef void (*ym_store_sweep_cb)(int status, uint64_t deleted, void *ud);

/* Runs the expiry sweep now (it also runs every sweep_interval_ms, and once at
 * open): deletes messages (with their clips) older than ttl_ms and returns the
 * freed pages to the file system. cb may be NULL. Loop thread. */
int ym_store_sweep(ym_store_t *st, ym_store_sweep_cb cb, void *ud);

typedef struct ym_store_stats {
    uint64_t appended;       /* rows inserted */
    uint64_t duplicates;     /* appends answered with an existing row */
    uint64_t failed;         /* appends whose transaction failed */
    uint64_t transactions;   /* committed append transactions (group commits) */
    uint64_t swept;          /* rows deleted by sweeps */
    size_t pending;          /* appends accepted, not yet called back */
} ym_store_stats_t;

/* A snapshot of the counters. Loop thread. */
void ym_store_get_stats(const ym_store_t *st, ym_store_stats_t *out);

/* Stops accepting work, lets the workers finish everything already queued
 * (every pending append is committed and called back), closes the database and
 * frees st; then calls done(ud) on the loop thread (done may be NULL). The loop
 * must keep running until then. Loop thread; may be called from a store
 * callback; call it once. */
void ym_store_close(ym_store_t *st, void (*done)(void *ud), void *ud);

/* Packs a copy of m (all strings and bytes) into ONE allocation: free() it.
 * NULL strings stay NULL. Any thread. Used by backends for results. */
ym_store_msg_t *ym_store_msg_dup(const ym_store_msg_t *m);

/* ---- Backends ---------------------------------------------------------------
 * A backend is a const vtable. Its handles are created by open and then used by
 * one thread at a time (open on the loop thread at start-up, everything else on
 * the writer or the reader thread). Status codes are 0 or a negative errno. */

typedef struct ym_store_append_item {
    const ym_store_msg_t *msg;   /* in: validated request (ts_ms already set) */
    int64_t id;                  /* out: the new row's id (when !duplicate) */
    ym_store_msg_t *original;    /* out: when the client_id was already stored in (room,
                                    sender), a packed copy of that row (ym_store_msg_dup;
                                    the caller frees it) and nothing is inserted */
} ym_store_append_item_t;

typedef struct ym_store_backend {
    const char *name;
    /* writer: create if missing, migrate, check; the one handle that writes.
     * !writer: a read-only handle on the same store, opened after the writer. */
    int (*open)(const ym_store_config_t *cfg, bool writer, void **out, char *err, size_t errlen);
    /* All n items in one transaction; on failure nothing is stored and every
     * item's original is NULL. */
    int (*append_batch)(void *h, ym_store_append_item_t *items, size_t n);
    /* Up to limit messages of room with ts_ms >= min_ts_ms, newest last, as an
     * array of packed messages (*out and each element are freed by the caller). */
    int (*recent)(void *h, const char *room, uint32_t limit, int64_t min_ts_ms,
                  ym_store_msg_t ***out, size_t *count);
    /* Deletes messages with ts_ms < min_ts_ms. */
    int (*sweep)(void *h, int64_t min_ts_ms, uint64_t *deleted);
    void (*close)(void *h);
} ym_store_backend_t;

/* SQLite in WAL mode (ym_store_sqlite.c). */
extern const ym_store_backend_t ym_store_sqlite_backend;

#endif
