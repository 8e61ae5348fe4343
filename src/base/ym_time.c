#include "base/ym_time.h"

#include <stdio.h>
#include <string.h>

uint64_t ym_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ym_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void ym_http_date(time_t t, char out[30])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    /* strftime's %a/%b follow the locale; HTTP wants English names. */
    char tail[32];
    strftime(tail, sizeof(tail), "%d ### %Y %H:%M:%S GMT", &tm);
    memcpy(out, days[tm.tm_wday], 3);
    out[3] = ',';
    out[4] = ' ';
    memcpy(out + 5, tail, 3);
    memcpy(out + 8, months[tm.tm_mon], 3);
    memcpy(out + 11, tail + 6, strlen(tail + 6) + 1);
}

int ym_http_date_parse(const char *s, size_t len, time_t *out)
{
    /* "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes. */
    if (len != 29 || s[3] != ',' || s[4] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
        return -1;
    char buf[30];
    memcpy(buf, s, 29);
    buf[29] = '\0';
    char mon[4];
    int d, y, h, mi, se;
    if (sscanf(buf + 5, "%2d %3s %4d %2d:%2d:%2d", &d, mon, &y, &h, &mi, &se) != 6)
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(mon, months[i], 3) == 0)
            m = i;
    if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
        return -1;
    struct tm tm = { .tm_sec = se, .tm_min = mi, .tm_hour = h, .tm_mday = d, .tm_mon = m,
                     .tm_year = y - 1900 };
    *out = timegm(&tm);
    return 0;
}
