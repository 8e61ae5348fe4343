/* ym_sio_conformance.c: CONFORMANCE/TEST ONLY handlers (see the header). */
#include "sio/ym_sio_conformance.h"

#include "base/ym_buf.h"
#include "sio/ym_sio_packet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Splits the top level of a JSON array into raw element texts. Returns the
 * count (at most max), or -1 if json is not an array. */
static int split(const char *json, size_t len, ym_str_t *el, int max)
{
    ym_str_t inner;
    if (ym_sio_json_array_inner(json, len, &inner) < 0)
        return -1;
    int n = 0;
    size_t pos = 0;
    while (pos < inner.len && n < max) {
        long k = ym_sio_json_scan(inner.p + pos, inner.len - pos, -1, NULL);
        if (k < 0)
            return -1;
        size_t e = pos + (size_t)k;
        size_t t = e;
        while (t > pos && strchr(" \t\r\n", inner.p[t - 1]))
            t--;
        el[n++] = (ym_str_t){ inner.p + pos, t - pos };
        pos = e;
        if (pos < inner.len && inner.p[pos] == ',')
            pos++;
    }
    return n;
}

/* ym_buf does not keep a NUL; the API takes C strings. */
static const char *cstr(ym_buf_t *b)
{
    ym_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}

/* A JSON string element as a C string in b; NULL if it is not a string. */
static const char *str_arg(ym_str_t tok, ym_buf_t *b)
{
    ym_buf_reset(b);
    return ym_sio_json_unquote(tok, b) == 0 ? b->data : NULL;
}

static const char *auth_connect(ym_sio_socket_t *s, const char *auth, size_t auth_len, void *ud)
{
    ym_buf_t b = YM_BUF_INIT;
    ym_buf_append_byte(&b, '[');
    ym_buf_append(&b, auth, auth_len);
    ym_buf_append_str(&b, "]");
    ym_sio_emit(s, "auth", cstr(&b));
    ym_buf_free(&b);
    return NULL;
}

static void on_message(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    ym_sio_emit_bin(s, "message-back", a->json, a->bins, a->nbins);
    if (ack)
        ym_sio_ack_free(ack);
}

static void on_message_with_ack(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack,
                                void *ud)
{
    if (ack)
        ym_sio_ack_send_bin(ack, a->json, a->bins, a->nbins);
}

static void ack_num(ym_sio_ack_t *ack, size_t v)
{
    if (!ack)
        return;
    char b[32];
    snprintf(b, sizeof(b), "[%zu]", v);
    ym_sio_ack_send(ack, b);
}

static void t_join(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    ym_str_t el[1];
    ym_buf_t b = YM_BUF_INIT;
    const char *room = split(a->json, a->json_len, el, 1) == 1 ? str_arg(el[0], &b) : NULL;
    if (room) {
        if (strcmp(event, "join") == 0)
            ym_sio_join(s, room);
        else
            ym_sio_leave(s, room);
    }
    ack_num(ack, room ? ym_sio_room_size(ym_sio_socket_nsp(s), room) : 0);
    ym_buf_free(&b);
}

static void t_broadcast(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    ym_str_t el[3];
    ym_buf_t rb = YM_BUF_INIT, eb = YM_BUF_INIT, args = YM_BUF_INIT;
    int n = split(a->json, a->json_len, el, 3);
    bool bin = strcmp(event, "broadcast-bin") == 0;
    const char *room = n >= 2 ? str_arg(el[0], &rb) : NULL;
    const char *ev = n >= 2 ? str_arg(el[1], &eb) : NULL;
    size_t sent = 0;
    if (room && ev) {
        ym_sio_bcast_t b = ym_sio_bcast(ym_sio_socket_nsp(s));
        ym_sio_bcast_to(&b, room);
        ym_sio_bcast_except(&b, ym_sio_socket_id(s));
        if (bin && a->nbins == 1) {
            sent = ym_sio_bcast_emit_bin(&b, ev, "[{\"_placeholder\":true,\"num\":0}]", a->bins, 1);
        } else if (!bin) {
            ym_buf_append_byte(&args, '[');
            if (n == 3)
                ym_buf_append(&args, el[2].p, el[2].len);
            ym_buf_append_str(&args, "]");
            sent = ym_sio_bcast_emit(&b, ev, cstr(&args));
        }
    }
    ack_num(ack, sent);
    ym_buf_free(&rb);
    ym_buf_free(&eb);
    ym_buf_free(&args);
}

/* The reply callback outlives nothing: it finds the socket again by id. */
typedef struct ask {
    ym_sio_nsp_t *nsp;
    char id[21];
} ask_t;

static void ask_reply(const char *err, const ym_sio_args_t *args, void *ud)
{
    ask_t *q = ud;
    ym_sio_socket_t *s = ym_sio_find_socket(q->nsp, q->id);
    if (s) {
        ym_buf_t b = YM_BUF_INIT;
        if (err) {
            ym_buf_append_byte(&b, '[');
            ym_sio_json_quote(&b, err, strlen(err));
            ym_buf_append_byte(&b, ']');
        } else {
            ym_str_t inner;
            ym_sio_json_array_inner(args->json, args->json_len, &inner);
            ym_buf_append_str(&b, "[null");
            if (inner.len) {
                ym_buf_append_byte(&b, ',');
                ym_buf_append(&b, inner.p, inner.len);
            }
            ym_buf_append_byte(&b, ']');
        }
        ym_sio_emit(s, "answer", cstr(&b));
        ym_buf_free(&b);
    }
    free(q);
}

static void t_ask(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    ym_str_t el[2];
    ym_buf_t eb = YM_BUF_INIT, args = YM_BUF_INIT;
    int n = split(a->json, a->json_len, el, 2);
    const char *ev = n >= 1 ? str_arg(el[0], &eb) : NULL;
    if (ev) {
        ym_buf_append_byte(&args, '[');
        if (n == 2)
            ym_buf_append(&args, el[1].p, el[1].len);
        ym_buf_append_str(&args, "]");
        ask_t *q = ym_xcalloc(1, sizeof(*q));
        q->nsp = ym_sio_socket_nsp(s);
        memcpy(q->id, ym_sio_socket_id(s), sizeof(q->id));
        if (ym_sio_emit_with_ack(s, ev, cstr(&args), 1000, ask_reply, q) < 0)
            free(q);
    }
    if (ack)
        ym_sio_ack_free(ack);
    ym_buf_free(&eb);
    ym_buf_free(&args);
}

static void t_bye(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    if (ack)
        ym_sio_ack_free(ack);
    ym_str_t el[1];
    bool close = split(a->json, a->json_len, el, 1) == 1 && ym_str_eq_lit(el[0], "true");
    ym_sio_disconnect(s, close);
}

static void t_echo(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *a, ym_sio_ack_t *ack, void *ud)
{
    if (ack)
        ym_sio_ack_send_bin(ack, a->json, a->bins, a->nbins);
}

static const char *refuse(ym_sio_socket_t *s, const char *auth, size_t auth_len, void *ud)
{
    return "not allowed";
}

void ym_sio_conformance_setup(ym_sio_t *sio)
{
    ym_sio_handlers_t h = { .on_connect = auth_connect };
    ym_sio_nsp_t *root = ym_sio_of(sio, "/");
    ym_sio_nsp_set_handlers(root, &h);
    ym_sio_on(root, "message", on_message);
    ym_sio_on(root, "message-with-ack", on_message_with_ack);
    ym_sio_nsp_set_handlers(ym_sio_of(sio, "/custom"), &h);

    ym_sio_handlers_t none = { 0 };
    ym_sio_nsp_t *t = ym_sio_of(sio, "/test");
    ym_sio_nsp_set_handlers(t, &none);
    ym_sio_on(t, "join", t_join);
    ym_sio_on(t, "leave", t_join);
    ym_sio_on(t, "broadcast", t_broadcast);
    ym_sio_on(t, "broadcast-bin", t_broadcast);
    ym_sio_on(t, "ask", t_ask);
    ym_sio_on(t, "bye", t_bye);
    ym_sio_on(t, "echo", t_echo);

    ym_sio_handlers_t r = { .on_connect = refuse };
    ym_sio_nsp_set_handlers(ym_sio_of(sio, "/refuse"), &r);
}

static ym_sio_t *g_suite, *g_test;

int ym_sio_conformance_wire(uv_loop_t *loop, struct ym_http_server *http, uint32_t ping_timeout_ms)
{
    const ym_sio_config_t suite = {
        .ping_interval_ms = 300,
        .ping_timeout_ms = ping_timeout_ms ? ping_timeout_ms : 200,
        .max_payload = 1000000,
        .connect_timeout_ms = 1000,
    };
    const ym_sio_config_t test = { .path = "/sio-test/" };
    g_suite = ym_sio_new(loop, http, &suite);
    g_test = ym_sio_new(loop, http, &test);
    if (!g_suite || !g_test) {
        ym_sio_conformance_unwire();
        return -EINVAL;
    }
    ym_sio_conformance_setup(g_suite);
    ym_sio_conformance_setup(g_test);
    return 0;
}

void ym_sio_conformance_shutdown(void)
{
    ym_sio_shutdown(g_suite);
    ym_sio_shutdown(g_test);
}

void ym_sio_conformance_unwire(void)
{
    ym_sio_free(g_suite);
    ym_sio_free(g_test);
    g_suite = g_test = NULL;
}
