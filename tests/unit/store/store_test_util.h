/* store_test_util.h: temporary directories and raw SQLite checks shared by the
 * store tests. Header-only: each test_*.c is its own executable. */
#ifndef STORE_TEST_UTIL_H
#define STORE_TEST_UTIL_H

#include "test_fs.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string. */
static inline char *make_tmpdir(void)
{
    char d[512];
    test_tmpdir(d, sizeof(d), "ym_store");
    return strdup(d);
}

static inline char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Runs a one-value query on the database file directly; returns the integer
 * (or -1 on any error). */
static inline long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return v;
}

/* PRAGMA integrity_check's first row equals "ok". */
static inline int sql_integrity_ok(const char *path)
{
    sqlite3 *db;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) {
                const char *r = (const char *)sqlite3_column_text(st, 0);
                ok = r && strcmp(r, "ok") == 0;
                if (!ok)
                    fprintf(stderr, "integrity_check: %s\n", r ? r : "(null)");
            }
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return ok;
}

#endif
