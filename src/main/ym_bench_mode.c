/* ym_bench_mode.c: the benchmark workload handlers (see ym_bench_mode.h).
 * The arguments are scanned by hand rather than parsed with jansson: bcast is
 * the hot path of the fan-out benchmark, and the Socket.IO layer has already
 * checked that the arguments are a well-formed JSON array, so all we need is
 * where the first string ends. */
#include "main/ym_bench_mode.h"

#include "base/ym_base.h"

#include <stdlib.h>
#include <string.h>

/* Reads the first array element when it is a string without escapes (room
 * names in the workload are plain ASCII). On success copies it NUL-terminated
 * into room and returns a pointer just past it (at the ',' or ']', after
 * blanks), else NULL. */
static const char *first_string(const ym_sio_args_t *args, char room[YM_BENCH_MAX_ROOM + 1])
{
    const char *p = args->json, *end = args->json + args->json_len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p == end || *p++ != '[')
        return NULL;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p == end || *p++ != '"')
        return NULL;
    const char *s = p;
    while (p < end && *p != '"' && *p != '\\')
        p++;
    if (p == end || *p != '"' || (size_t)(p - s) > YM_BENCH_MAX_ROOM || p == s)
        return NULL;
    memcpy(room, s, (size_t)(p - s));
    room[p - s] = '\0';
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p < end ? p : NULL;
}

static void on_join(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args,
                    ym_sio_ack_t *ack, void *ud)
{
    char room[YM_BENCH_MAX_ROOM + 1];
    const char *rest = first_string(args, room);
    int rc = rest ? ym_sio_join(s, room) : -1;
    if (ack)
        ym_sio_ack_send(ack, rc == 0 ? NULL : "[{\"error\":\"bad room\"}]");
}

static void on_bcast(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args,
                     ym_sio_ack_t *ack, void *ud)
{
    char room[YM_BENCH_MAX_ROOM + 1];
    const char *rest = first_string(args, room);
    /* Only members may send to a room, like the peers (a socket.io room has no
     * such rule, but the Node peer checks it too, so the work is the same). */
    if (rest && *rest == ',' && ym_sio_in_room(s, room)) {
        /* rest is ",payload...]": the emitted arguments are "[payload...]",
         * the client's bytes relayed as they are. */
        size_t n = args->json_len - (size_t)(rest - args->json);
        char stackbuf[2048];
        char *buf = n < sizeof stackbuf ? stackbuf : ym_xmalloc(n + 1);
        memcpy(buf, rest, n);
        buf[0] = '[';
        buf[n] = '\0';
        ym_sio_bcast_t b = ym_sio_bcast(ym_sio_socket_nsp(s));
        ym_sio_bcast_to(&b, room);
        ym_sio_bcast_emit(&b, "msg", buf);
        if (buf != stackbuf)
            free(buf);
    }
    if (ack)
        ym_sio_ack_send(ack, NULL);
}

static void on_echo(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args,
                    ym_sio_ack_t *ack, void *ud)
{
    if (ack)
        ym_sio_ack_send(ack, args->json);
}

void ym_bench_mode_wire(ym_sio_t *sio)
{
    ym_sio_nsp_t *nsp = ym_sio_of(sio, "/");
    ym_sio_handlers_t h = { 0 };
    ym_sio_nsp_set_handlers(nsp, &h);
    ym_sio_on(nsp, "join", on_join);
    ym_sio_on(nsp, "bcast", on_bcast);
    ym_sio_on(nsp, "echo", on_echo);
}
