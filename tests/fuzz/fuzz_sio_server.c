/* Fuzzes the Socket.IO server's per-connection state machine (namespaces,
 * binary reassembly, acks, rooms, disconnects) over a fake Engine.IO: the
 * input is split at 0x1e into messages; a message starting with 'B' is a
 * binary one. The conformance/test handlers answer. ASan/UBSan find the bugs;
 * afterwards every socket must be gone once the session closes. */
#include "eio/ym_eio.h"
#include "sio/ym_sio_conformance.h"

#include <errno.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ym_eio_packet {
    unsigned refs;
};
struct ym_eio_session {
    void *data;
    bool closed;
};
struct ym_eio_server {
    ym_eio_handlers_t h;
};
static ym_eio_server_t srv;

ym_eio_server_t *ym_eio_server_new(uv_loop_t *loop, ym_http_server_t *http, const ym_eio_config_t *cfg,
                                   const ym_eio_handlers_t *h)
{
    srv.h = *h;
    return &srv;
}
void ym_eio_server_free(ym_eio_server_t *s) {}
void ym_eio_server_shutdown(ym_eio_server_t *s) {}
int ym_eio_send(ym_eio_session_t *s, const char *d, size_t n, bool b) { return s->closed ? -EPIPE : 0; }
ym_eio_packet_t *ym_eio_packet_new(const char *d, size_t n, bool b)
{
    ym_eio_packet_t *p = malloc(sizeof(*p));
    p->refs = 1;
    return p;
}
ym_eio_packet_t *ym_eio_packet_ref(ym_eio_packet_t *p) { p->refs++; return p; }
void ym_eio_packet_unref(ym_eio_packet_t *p) { if (p && --p->refs == 0) free(p); }
int ym_eio_send_packet(ym_eio_session_t *s, ym_eio_packet_t *p) { return 0; }
void ym_eio_close(ym_eio_session_t *s, const char *r) { s->closed = true; }
void ym_eio_session_set_data(ym_eio_session_t *s, void *d) { s->data = d; }
void *ym_eio_session_data(const ym_eio_session_t *s) { return s->data; }
const char *ym_eio_session_id(const ym_eio_session_t *s) { return "fuzz"; }
const char *ym_eio_session_transport(const ym_eio_session_t *s) { return "websocket"; }
const char *ym_eio_session_peer(const ym_eio_session_t *s) { return "127.0.0.1:1"; }
size_t ym_eio_session_count(const ym_eio_server_t *s) { return 1; }
ym_eio_server_t *ym_eio_session_server(const ym_eio_session_t *s) { return &srv; }
void ym_http_route(ym_http_server_t *s, const char *p, size_t m, ym_http_handler_cb cb, void *ud) {}
void ym_http_respond(ym_http_req_t *r, int st, const char *ct, const void *b, size_t n, const char *x) {}
void ym_http_respond_rbuf(ym_http_req_t *r, int st, const char *ct, ym_rbuf_t *b, const char *x) {}
void ym_http_respond_error(ym_http_req_t *r, int st, const char *m) {}
ym_str_t ym_http_header(const ym_http_req_t *r, const char *n) { return (ym_str_t){ NULL, 0 }; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ym_sio_t *sio = ym_sio_new(&loop, NULL, &(ym_sio_config_t){ .ack_timeout_ms = 1 });
    ym_sio_conformance_setup(sio);
    ym_eio_session_t es = { 0 };
    srv.h.on_open(&es, srv.h.ud);
    const char *p = (const char *)data, *end = p + size;
    while (p < end && !es.closed) {
        const char *q = memchr(p, 0x1e, (size_t)(end - p));
        if (!q)
            q = end;
        if (q > p && p[0] == 'B')
            srv.h.on_message(&es, p + 1, (size_t)(q - p - 1), true, srv.h.ud);
        else
            srv.h.on_message(&es, p, (size_t)(q - p), false, srv.h.ud);
        p = q + 1;
    }
    srv.h.on_close(&es, "transport close", srv.h.ud);
    if (ym_sio_room_size(ym_sio_find_nsp(sio, "/test"), "r") != 0)
        abort(); /* a socket outlived its connection */
    ym_sio_free(sio);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        abort();
    return 0;
}
