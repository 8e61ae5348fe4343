/* libFuzzer target for the WebSocket connection core (ym_ws_feed) over a fake
 * transport. Input byte 0 picks the chop size and whether the transport
 * reports its close synchronously; byte 1 picks when the handler starts a
 * server-side close. Checks the lifetime rules: on_close exactly once and
 * never inside on_message, nothing written after our close frame, and every
 * byte we write is a well-formed unmasked server frame sequence. */
#include "ws/ym_ws.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
    ym_ws_t *ws;
    ym_buf_t wire;
    bool close_sync;
    bool gone;
    bool in_message;
    int on_close;
    unsigned close_after;   /* messages before the handler calls ym_ws_close; 0 = never */
    unsigned messages;
} fz_t;

static int t_send(void *tp, ym_rbuf_t *r)
{
    fz_t *f = tp;
    ym_buf_append(&f->wire, r->data, r->len);
    return 0;
}

static void t_close(void *tp)
{
    fz_t *f = tp;
    if (f->close_sync && !f->gone) {
        f->gone = true;
        ym_ws_transport_closed(f->ws);
    }
}

static void t_timer(void *tp, uint64_t ms)
{
}

static const ym_ws_transport_t transport = { t_send, t_close, t_timer };

static void on_message(ym_ws_t *ws, bool binary, const char *p, size_t n, void *ud)
{
    fz_t *f = ud;
    if (f->on_close || f->in_message)
        abort();
    f->in_message = true;
    f->messages++;
    ym_ws_send(ws, binary, p, n);
    if (f->close_after && f->messages == f->close_after)
        ym_ws_close(ws, 1000, "done");
    f->in_message = false;
}

static void on_close(ym_ws_t *ws, int code, void *ud)
{
    fz_t *f = ud;
    if (f->in_message || f->on_close++)
        abort();
}

static const ym_ws_handlers_t handlers = { on_message, on_close };

/* Our output must decode cleanly with a client-side decoder, and nothing may
 * follow the (single) close frame. */
static void check_wire(const ym_buf_t *w)
{
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, 64u << 20, 1u << 30, false);
    size_t off = 0;
    bool closed = false;
    while (off < w->len) {
        ym_ws_event_t ev;
        ssize_t r = ym_ws_decoder_feed(&d, w->data + off, w->len - off, &ev);
        if (r < 0 || (closed && ev.type != YM_WS_EV_NONE))
            abort();
        off += (size_t)r;
        if (ev.type == YM_WS_EV_CLOSE)
            closed = true;
    }
    if (d.hdr_have || d.in_payload)
        abort();  /* a truncated frame */
    ym_ws_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fz_t f;
    memset(&f, 0, sizeof(f));
    size_t chop = (data[0] & 0x7F) ? (data[0] & 0x7F) : 0;
    f.close_sync = (data[0] & 0x80) != 0;
    f.close_after = data[1] & 0x03;
    ym_ws_config_t cfg = { .max_message_bytes = (data[1] & 0x04) ? 200 : 0, .max_fragments = (data[1] & 0x08) ? 3 : 0 };
    data += 2;
    size -= 2;

    f.ws = ym_ws_new(&transport, &f, &handlers, &f, &cfg);
    size_t off = 0;
    while (off < size && !f.gone) {
        size_t w = chop ? YM_MIN(chop, size - off) : size - off;
        ym_ws_feed(f.ws, (const char *)data + off, w);
        off += w;
    }
    if (!f.gone) {
        f.gone = true;
        ym_ws_transport_closed(f.ws);
    }
    if (f.on_close != 1)
        abort();
    check_wire(&f.wire);
    ym_buf_free(&f.wire);
    return 0;
}
