/* ym_log.h: leveled logging to stderr, one line per call. Thread-safe (one
 * fprintf per line). Access log lines go through ym_log_access. */
#ifndef YM_LOG_H
#define YM_LOG_H

typedef enum ym_log_level {
    YM_LOG_ERROR = 0,
    YM_LOG_WARN = 1,
    YM_LOG_INFO = 2,
    YM_LOG_DEBUG = 3,
} ym_log_level_t;

void ym_log_set_level(ym_log_level_t level);
ym_log_level_t ym_log_get_level(void);
/* Parses "error", "warn", "info", "debug". Returns 0, or -1 if unknown. */
int ym_log_parse_level(const char *s, ym_log_level_t *out);
void ym_log(ym_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ym_log_error(...) ym_log(YM_LOG_ERROR, __VA_ARGS__)
#define ym_log_warn(...)  ym_log(YM_LOG_WARN, __VA_ARGS__)
#define ym_log_info(...)  ym_log(YM_LOG_INFO, __VA_ARGS__)
#define ym_log_debug(...) do { if (ym_log_get_level() >= YM_LOG_DEBUG) ym_log(YM_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
