/* sio-example.c: a small chat server on yoom's Socket.IO library.
 *
 * Clients (socket.io-client 4.x) connect to http://127.0.0.1:3000/ and:
 *   emit("join", room, ack)  → joins room; ack(["ok", <members>])
 *   emit("say", room, text)  → everyone else in room gets "said" [<sender id>, text]
 *   emit("ping?", ack)       → the server asks the client "pong?" with an ack and logs the answer
 * A browser page can load the client from /socket.io/socket.io.min.js.
 *
 * Build (from the repo root, after building the libraries in build/):
 *   cc -std=gnu17 -Iinclude -Isrc docs/sio-example.c build/libym_sio.a build/libym_eio.a \
 *      build/libym_ws.a build/libym_http.a build/libym_net.a build/libym_base.a \
 *      $(pkg-config --libs libuv openssl) -o sio-example
 */
#include "yoom/sio.h"

#include "http/ym_http.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Arguments arrive as JSON text. This example accepts only plain string
 * arguments without escapes, so it can pick them out with sscanf; a real app
 * uses a JSON library (yoom's app layer uses jansson). */
static int two_strings(const char *json, char *a, size_t an, char *b, size_t bn)
{
    char fmt[64];
    snprintf(fmt, sizeof(fmt), "[\"%%%zu[^\"]\",\"%%%zu[^\"]\"]", an - 1, bn - 1);
    return sscanf(json, fmt, a, b);
}

static const char *on_connect(ym_sio_socket_t *s, const char *auth, size_t auth_len, void *ud)
{
    (void)ud;
    printf("%s connected from %s over %s, auth %.*s\n", ym_sio_socket_id(s), ym_sio_socket_peer(s),
           ym_sio_socket_transport(s), (int)auth_len, auth);
    return NULL; /* accept; return a message to refuse */
}

static void on_disconnect(ym_sio_socket_t *s, const char *reason, void *ud)
{
    (void)ud;
    printf("%s left: %s\n", ym_sio_socket_id(s), reason);
}

static void on_join(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, void *ud)
{
    char room[65], unused[2];
    if (two_strings(args->json, room, sizeof(room), unused, sizeof(unused)) < 1) {
        if (ack)
            ym_sio_ack_send(ack, "[\"error\"]");
        return;
    }
    ym_sio_join(s, room);
    if (ack) {
        char reply[64];
        snprintf(reply, sizeof(reply), "[\"ok\",%zu]", ym_sio_room_size(ym_sio_socket_nsp(s), room));
        ym_sio_ack_send(ack, reply);
    }
}

static void on_say(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, void *ud)
{
    char room[65], text[501];
    if (ack)
        ym_sio_ack_free(ack); /* not answered: free it */
    if (two_strings(args->json, room, sizeof(room), text, sizeof(text)) != 2 || !ym_sio_in_room(s, room))
        return;
    char out[640];
    snprintf(out, sizeof(out), "[\"%s\",\"%s\"]", ym_sio_socket_id(s), text);
    ym_sio_bcast_t b = ym_sio_bcast(ym_sio_socket_nsp(s));
    ym_sio_bcast_to(&b, room);
    ym_sio_bcast_except(&b, ym_sio_socket_id(s)); /* not back to the sender */
    ym_sio_bcast_emit(&b, "said", out);           /* encoded once for every recipient */
}

static void on_pong(const char *err, const ym_sio_args_t *args, void *ud)
{
    (void)ud;
    printf("pong?: %s\n", err ? err : args->json);
}

static void on_ping(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, void *ud)
{
    if (ack)
        ym_sio_ack_send(ack, "[\"asking you back\"]");
    ym_sio_emit_with_ack(s, "pong?", NULL, 5000, on_pong, NULL);
}

static uv_signal_t sigint;
static void on_sigint(uv_signal_t *h, int signum)
{
    (void)signum;
    uv_stop(h->loop);
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    ym_http_server_t *http;
    int rc = ym_http_server_new(loop, "127.0.0.1", 3000, &(ym_http_config_t){ 0 }, NULL, &http);
    if (rc < 0) {
        fprintf(stderr, "listen: %s\n", uv_strerror(rc));
        return 1;
    }
    ym_sio_t *sio = ym_sio_new(loop, http, &(ym_sio_config_t){ 0 }); /* defaults: /socket.io/, 25 s pings */
    ym_sio_nsp_t *root = ym_sio_of(sio, "/");
    ym_sio_nsp_set_handlers(root, &(ym_sio_handlers_t){ .on_connect = on_connect, .on_disconnect = on_disconnect });
    ym_sio_on(root, "join", on_join);
    ym_sio_on(root, "say", on_say);
    ym_sio_on(root, "ping?", on_ping);

    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_sigint, SIGINT);
    printf("listening on http://127.0.0.1:3000/\n");
    uv_run(loop, UV_RUN_DEFAULT);

    /* Order: stop HTTP dispatching, free sio (disconnects everyone), free HTTP. */
    ym_sio_free(sio);
    uv_close((uv_handle_t *)&sigint, NULL);
    ym_http_server_free(http);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
