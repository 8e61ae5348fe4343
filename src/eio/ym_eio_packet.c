/* ym_eio_packet.c: refcounted encoded packets, shared by many sessions. */
#include "eio/ym_eio_internal.h"

#include "ws/ym_ws_frame.h"

ym_eio_packet_t *ym_eio__packet_new_type(ym_eio_type_t type, const char *data, size_t len, bool binary)
{
    ym_eio_packet_t *p = ym_xmalloc(sizeof(*p));
    p->refs = 1;
    p->type = (uint8_t)type;
    p->binary = binary;
    p->ws_frame = NULL;
    if (binary) {
        p->bytes = ym_rbuf_copy(data, len);
    } else {
        /* Text packets keep their wire form "<type><data>": it is both the
         * WebSocket text frame payload and the polling payload element. */
        p->bytes = ym_rbuf_new(len + 1);
        p->bytes->data[0] = (char)('0' + (int)type);
        if (len)
            memcpy(p->bytes->data + 1, data, len);
    }
    return p;
}

ym_eio_packet_t *ym_eio_packet_new(const char *data, size_t len, bool binary)
{
    return ym_eio__packet_new_type(YM_EIO_MESSAGE, data, len, binary);
}

ym_eio_packet_t *ym_eio_packet_ref(ym_eio_packet_t *p)
{
    p->refs++;
    return p;
}

void ym_eio_packet_unref(ym_eio_packet_t *p)
{
    if (!p || --p->refs > 0)
        return;
    ym_rbuf_unref(p->bytes);
    ym_rbuf_unref(p->ws_frame);
    free(p);
}

ym_rbuf_t *ym_eio__packet_ws_frame(ym_eio_packet_t *p)
{
    /* Built on first use by a WebSocket session, then shared by all of them. */
    if (!p->ws_frame)
        p->ws_frame = ym_ws_frame_build(p->binary ? YM_WS_OP_BINARY : YM_WS_OP_TEXT, p->bytes->data, p->bytes->len);
    return p->ws_frame;
}

size_t ym_eio__packet_size(const ym_eio_packet_t *p)
{
    return p->binary ? 1 + ym_b64_encoded_len(p->bytes->len) : p->bytes->len;
}

void ym_eio__packet_append_payload(ym_buf_t *out, const ym_eio_packet_t *p)
{
    if (p->binary) {
        ym_eio_payload_append(out, YM_EIO_MESSAGE, p->bytes->data, p->bytes->len, true);
    } else {
        if (out->len > 0)
            ym_buf_append_byte(out, YM_EIO_SEP);
        ym_buf_append(out, p->bytes->data, p->bytes->len);
    }
}
