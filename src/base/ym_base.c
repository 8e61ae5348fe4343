#include "base/ym_base.h"

#include <stdio.h>
#include <stdlib.h>

static void oom(size_t n)
{
    fprintf(stderr, "yoom: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ym_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (YM_UNLIKELY(!p))
        oom(n);
    return p;
}

void *ym_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (YM_UNLIKELY(!p))
        oom(count * n);
    return p;
}

void *ym_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (YM_UNLIKELY(!q))
        oom(n);
    return q;
}

char *ym_xstrdup(const char *s)
{
    return ym_xstrndup(s, strlen(s));
}

char *ym_xstrndup(const char *s, size_t n)
{
    char *p = ym_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool ym_str_case_eq(ym_str_t a, ym_str_t b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.p[i]) != lower(b.p[i]))
            return false;
    return true;
}

bool ym_str_has_token(ym_str_t list, const char *token)
{
    ym_str_t tok = ym_str_from(token);
    size_t i = 0;
    while (i <= list.len) {
        size_t start = i;
        while (i < list.len && list.p[i] != ',')
            i++;
        size_t end = i;
        while (start < end && (list.p[start] == ' ' || list.p[start] == '\t'))
            start++;
        while (end > start && (list.p[end - 1] == ' ' || list.p[end - 1] == '\t'))
            end--;
        if (ym_str_case_eq((ym_str_t){ list.p + start, end - start }, tok))
            return true;
        i++;
    }
    return false;
}
