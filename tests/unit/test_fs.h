/* test_fs.h: scratch directories for the unit tests that need real files
 * (store, TLS, sendfile). Under $TMPDIR, else /tmp; failures are ASSERTs. */
#ifndef YM_TEST_FS_H
#define YM_TEST_FS_H

#include "test.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* Makes <$TMPDIR or /tmp>/<prefix>-XXXXXX into buf (cap bytes). */
static inline void test_tmpdir(char *buf, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(buf, cap, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    ASSERT(n > 0 && (size_t)n < cap);
    if (!mkdtemp(buf))
        TEST_FAIL_("mkdtemp %s: %s", buf, strerror(errno));
}

static int test_rm_entry_(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

/* Removes a tree made under test_tmpdir (symbolic links are not followed). */
static inline void test_rm_tree(const char *dir)
{
    nftw(dir, test_rm_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
