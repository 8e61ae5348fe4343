/* ym_time.h: clocks and HTTP dates. Thread-safe. */
#ifndef YM_TIME_H
#define YM_TIME_H

#include <stdint.h>
#include <time.h>

uint64_t ym_now_ms(void);        /* CLOCK_MONOTONIC, milliseconds */
uint64_t ym_wall_ms(void);       /* CLOCK_REALTIME, milliseconds since the epoch */
/* IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; out must hold 30 bytes. */
void ym_http_date(time_t t, char out[30]);
/* Parses an IMF-fixdate. Returns 0 or -1. */
int ym_http_date_parse(const char *s, size_t len, time_t *out);

#endif
