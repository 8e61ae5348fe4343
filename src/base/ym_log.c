#include "base/ym_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static ym_log_level_t current = YM_LOG_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };

void ym_log_set_level(ym_log_level_t level) { current = level; }
ym_log_level_t ym_log_get_level(void) { return current; }

int ym_log_parse_level(const char *s, ym_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (ym_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void ym_log(ym_log_level_t level, const char *fmt, ...)
{
    if (level > current)
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (((size_t)m < sizeof(line) - (size_t)n - 2) ? (size_t)m : sizeof(line) - (size_t)n - 2));
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
