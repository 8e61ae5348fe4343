/* ym_store_sqlite.c: the SQLite backend of the store (WAL mode).
 *
 * One write handle (the writer thread) and one read handle (the reader thread).
 * WAL lets the reader see the last committed state while the writer commits.
 */
#include "store/ym_store.h"

#include "base/ym_base.h"
#include "base/ym_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *find;     /* writer: an existing row for (room, client_id) */
    sqlite3_stmt *insert;   /* writer */
    sqlite3_stmt *del;      /* writer: sweep */
    sqlite3_stmt *recent;   /* reader */
} sq_t;

/* Migrations, applied in order; step i takes user_version from i to i + 1.
 * Never edit a released step: append a new one and bump YM_STORE_SCHEMA_VERSION. */
static const char *const migrations[] = {
    /* 1: messages with their clips inline (see ym_store.h for why BLOBs).
     * AUTOINCREMENT so that an id is never reused after the sweep deleted it:
     * clients may hold ids of expired messages. */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  room TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  client_id TEXT,"
    "  text TEXT NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  clip BLOB,"
    "  clip_mime TEXT,"
    "  poster BLOB);"
    "CREATE INDEX messages_room ON messages(room, id);"
    "CREATE INDEX messages_ts ON messages(ts_ms);"
    "CREATE UNIQUE INDEX messages_client ON messages(room, sender, client_id)"
    "  WHERE client_id IS NOT NULL;",
    /* 2: a retry is recognised by (room, client_id) alone. With the sender in
     * the key, a client that reconnected under a de-duplicated display name
     * ("Ann (2)") stored its retry twice. Client ids are random per message,
     * so the sender adds no safety. Keep the oldest of any earlier copies. */
    "DELETE FROM messages WHERE client_id IS NOT NULL AND id NOT IN"
    "  (SELECT MIN(id) FROM messages WHERE client_id IS NOT NULL GROUP BY room, client_id);"
    "DROP INDEX messages_client;"
    "CREATE UNIQUE INDEX messages_room_client ON messages(room, client_id)"
    "  WHERE client_id IS NOT NULL;",
};

_Static_assert(YM_ARRAY_LEN(migrations) == YM_STORE_SCHEMA_VERSION, "one migration per schema version");

#define COLUMNS "id, room, sender, client_id, text, ts_ms, clip, clip_mime, poster"

static int map_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: return 0;
    case SQLITE_PERM:
    case SQLITE_AUTH: return -EACCES;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_CANTOPEN: return -EACCES;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_TOOBIG: return -EMSGSIZE;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return -EILSEQ;
    default: return -EIO;
    }
}

static void sq_close(void *h)
{
    sq_t *s = h;
    if (!s)
        return;
    sqlite3_finalize(s->find);
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->del);
    sqlite3_finalize(s->recent);
    sqlite3_close(s->db);
    free(s);
}

static int exec(sq_t *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* Runs a one-row pragma or query and returns its first column as an integer. */
static int query_int(sq_t *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(sq_t *s, const char *path, char *err, size_t errlen)
{
    int64_t version = 0;
    int rc = query_int(s, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        goto fail;
    if (version > YM_STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "database %s has schema version %lld, newer than this yoom supports (%d)",
                 path, (long long)version, YM_STORE_SCHEMA_VERSION);
        return -EPROTO;
    }
    if (version == 0) {
        /* Only takes effect before the first table exists: lets the sweep hand
         * freed pages back to the file system (PRAGMA incremental_vacuum). */
        if ((rc = exec(s, "PRAGMA auto_vacuum = INCREMENTAL")) != SQLITE_OK)
            goto fail;
    }
    for (int64_t v = version; v < YM_STORE_SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %lld", (long long)(v + 1));
        /* DDL and the version bump commit together: a crash mid-migration
         * leaves the previous version, and the step runs again. */
        if ((rc = exec(s, "BEGIN IMMEDIATE")) != SQLITE_OK)
            goto fail;
        if ((rc = exec(s, migrations[v])) != SQLITE_OK || (rc = exec(s, bump)) != SQLITE_OK ||
            (rc = exec(s, "COMMIT")) != SQLITE_OK) {
            snprintf(err, errlen, "database %s: schema migration to version %lld failed: %s",
                     path, (long long)(v + 1), sqlite3_errmsg(s->db));
            exec(s, "ROLLBACK");
            return map_error(rc);
        }
        ym_log_info("store: %s migrated to schema version %lld", path, (long long)(v + 1));
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot use database %s: %s", path, sqlite3_errmsg(s->db));
    return map_error(rc);
}

static int quick_check(sq_t *s, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "database %s is unreadable: %s", path, sqlite3_errmsg(s->db));
        return map_error(rc);
    }
    rc = sqlite3_step(st);
    int ret = 0;
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "database %s is corrupt: %s", path, sqlite3_errmsg(s->db));
        ret = map_error(rc);
    } else {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        if (!res || strcmp(res, "ok") != 0) {
            /* quick_check lists one problem per line; the error stays one line. */
            char first[160];
            snprintf(first, sizeof(first), "%s", res ? res : "?");
            for (char *p = first; *p; p++)
                if (*p == '\n')
                    *p = ' ';
            snprintf(err, errlen, "database %s is corrupt (quick_check: %s); move it away to start afresh",
                     path, first);
            ret = -EILSEQ;
        }
    }
    sqlite3_finalize(st);
    return ret;
}

static int prepare(sq_t *s, const char *sql, sqlite3_stmt **out, const char *path, char *err, size_t errlen)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(s->db));
        return map_error(rc);
    }
    return 0;
}

static int sq_open(const ym_store_config_t *cfg, bool writer, void **out, char *err, size_t errlen)
{
    const char *path = cfg->path;
    sq_t *s = ym_xcalloc(1, sizeof(*s));
    /* NOMUTEX: each handle is used by one thread at a time (ym_store.h). */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int sys = s->db ? sqlite3_system_errno(s->db) : 0;
        snprintf(err, errlen, "cannot open database %s: %s%s%s%s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc),
                 sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
        int ret = map_error(rc);
        sq_close(s);
        return ret;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* The reader may meet the writer's checkpoint; the writer may meet another
     * process (an admin's sqlite3 shell). Waiting briefly beats failing. */
    sqlite3_busy_timeout(s->db, 5000);

    int ret;
    if (writer) {
        /* The first statement reads the header: a file that is not a database
         * fails here with "file is not a database". */
        if ((ret = migrate(s, path, err, errlen)) < 0)
            goto fail;
        sqlite3_stmt *st;
        const char *mode = NULL;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
            mode = (const char *)sqlite3_column_text(st, 0);
        bool wal = mode && strcmp(mode, "wal") == 0;
        sqlite3_finalize(st);
        if (!wal) {
            snprintf(err, errlen, "database %s: cannot switch to WAL mode: %s", path, sqlite3_errmsg(s->db));
            ret = rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE ? -EIO : map_error(rc);
            goto fail;
        }
        if ((ret = quick_check(s, path, err, errlen)) < 0)
            goto fail;
        /* NORMAL: in WAL mode a commit is durable against a process crash;
         * FULL: the WAL is also fsynced at every commit (power loss). */
        rc = exec(s, cfg->synchronous == YM_STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                            : "PRAGMA synchronous = NORMAL");
        /* Keep the WAL file from staying large after a burst (bounded disk use). */
        if (rc == SQLITE_OK)
            rc = exec(s, "PRAGMA journal_size_limit = 67108864");
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(s->db));
            ret = map_error(rc);
            goto fail;
        }
        if ((ret = prepare(s, "SELECT " COLUMNS " FROM messages WHERE room = ?1 AND client_id = ?2",
                           &s->find, path, err, errlen)) < 0 ||
            (ret = prepare(s, "INSERT INTO messages (room, sender, client_id, text, ts_ms, clip, clip_mime, poster)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           &s->insert, path, err, errlen)) < 0 ||
            (ret = prepare(s, "DELETE FROM messages WHERE ts_ms < ?1", &s->del, path, err, errlen)) < 0)
            goto fail;
    } else {
        if ((rc = exec(s, "PRAGMA query_only = 1")) != SQLITE_OK) {
            snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(s->db));
            ret = map_error(rc);
            goto fail;
        }
        if ((ret = prepare(s, "SELECT " COLUMNS " FROM messages WHERE room = ?1 AND ts_ms >= ?2"
                              " ORDER BY id DESC LIMIT ?3",
                           &s->recent, path, err, errlen)) < 0)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    sq_close(s);
    return ret;
}

/* A packed copy of the current row of st (COLUMNS order). */
static ym_store_msg_t *row_to_msg(sqlite3_stmt *st)
{
    ym_store_msg_t m = { 0 };
    m.id = sqlite3_column_int64(st, 0);
    m.room = (const char *)sqlite3_column_text(st, 1);
    m.sender = (const char *)sqlite3_column_text(st, 2);
    m.client_id = (const char *)sqlite3_column_text(st, 3);
    m.text = (const char *)sqlite3_column_text(st, 4);
    m.text_len = (size_t)sqlite3_column_bytes(st, 4);
    m.ts_ms = sqlite3_column_int64(st, 5);
    m.clip = sqlite3_column_blob(st, 6);
    m.clip_len = (size_t)sqlite3_column_bytes(st, 6);
    m.clip_mime = (const char *)sqlite3_column_text(st, 7);
    m.poster = sqlite3_column_blob(st, 8);
    m.poster_len = (size_t)sqlite3_column_bytes(st, 8);
    return ym_store_msg_dup(&m);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (n)
        sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int append_one(sq_t *s, ym_store_append_item_t *it)
{
    const ym_store_msg_t *m = it->msg;
    int rc;
    if (m->client_id) {
        /* Inside the transaction: also sees a retry queued in the same batch. */
        sqlite3_bind_text(s->find, 1, m->room, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->find, 2, m->client_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(s->find);
        if (rc == SQLITE_ROW)
            it->original = row_to_msg(s->find);
        sqlite3_reset(s->find);
        sqlite3_clear_bindings(s->find);
        if (rc == SQLITE_ROW)
            return SQLITE_OK;
        if (rc != SQLITE_DONE)
            return rc;
    }
    sqlite3_bind_text(s->insert, 1, m->room, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->insert, 2, m->sender, -1, SQLITE_STATIC);
    bind_opt_text(s->insert, 3, m->client_id);
    sqlite3_bind_text64(s->insert, 4, m->text ? m->text : "", m->text_len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(s->insert, 5, m->ts_ms);
    bind_opt_blob(s->insert, 6, m->clip, m->clip_len);
    bind_opt_text(s->insert, 7, m->clip_mime);
    bind_opt_blob(s->insert, 8, m->poster, m->poster_len);
    rc = sqlite3_step(s->insert);
    sqlite3_reset(s->insert);
    sqlite3_clear_bindings(s->insert);
    if (rc != SQLITE_DONE)
        return rc;
    it->id = sqlite3_last_insert_rowid(s->db);
    return SQLITE_OK;
}

static int sq_append_batch(void *h, ym_store_append_item_t *items, size_t n)
{
    sq_t *s = h;
    int rc = exec(s, "BEGIN IMMEDIATE");
    size_t i = 0;
    if (rc == SQLITE_OK) {
        for (; i < n; i++)
            if ((rc = append_one(s, &items[i])) != SQLITE_OK)
                break;
    }
    if (rc == SQLITE_OK)
        rc = exec(s, "COMMIT");
    if (rc == SQLITE_OK)
        return 0;
    ym_log_error("store: append transaction failed: %s", sqlite3_errmsg(s->db));
    if (!sqlite3_get_autocommit(s->db))
        exec(s, "ROLLBACK");
    for (size_t k = 0; k < n; k++) {
        free(items[k].original);
        items[k].original = NULL;
        items[k].id = 0;
    }
    return map_error(rc);
}

static int sq_recent(void *h, const char *room, uint32_t limit, int64_t min_ts_ms,
                     ym_store_msg_t ***out, size_t *count)
{
    sq_t *s = h;
    ym_store_msg_t **list = ym_xcalloc(limit ? limit : 1, sizeof(*list));
    size_t n = 0;
    sqlite3_bind_text(s->recent, 1, room, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->recent, 2, min_ts_ms);
    sqlite3_bind_int64(s->recent, 3, limit);
    int rc;
    while ((rc = sqlite3_step(s->recent)) == SQLITE_ROW && n < limit)
        list[n++] = row_to_msg(s->recent);
    sqlite3_reset(s->recent);
    sqlite3_clear_bindings(s->recent);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        for (size_t i = 0; i < n; i++)
            free(list[i]);
        free(list);
        *out = NULL;
        *count = 0;
        return map_error(rc);
    }
    /* Newest first from the index; joiners want oldest first. */
    for (size_t i = 0; i < n / 2; i++) {
        ym_store_msg_t *t = list[i];
        list[i] = list[n - 1 - i];
        list[n - 1 - i] = t;
    }
    *out = list;
    *count = n;
    return 0;
}

static int sq_sweep(void *h, int64_t min_ts_ms, uint64_t *deleted)
{
    sq_t *s = h;
    *deleted = 0;
    sqlite3_bind_int64(s->del, 1, min_ts_ms);
    int rc = sqlite3_step(s->del);
    sqlite3_reset(s->del);
    if (rc != SQLITE_DONE)
        return map_error(rc);
    *deleted = (uint64_t)sqlite3_changes64(s->db);
    if (*deleted) {
        /* Return the freed pages to the file system, so disk use follows the
         * live rows instead of the peak. */
        rc = exec(s, "PRAGMA incremental_vacuum");
        if (rc != SQLITE_OK)
            ym_log_warn("store: incremental_vacuum failed: %s", sqlite3_errmsg(s->db));
    }
    return 0;
}

const ym_store_backend_t ym_store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .append_batch = sq_append_batch,
    .recent = sq_recent,
    .sweep = sq_sweep,
    .close = sq_close,
};
