/* ym_eio_internal.h: shared between the files of src/eio only. Loop thread. */
#ifndef YM_EIO_INTERNAL_H
#define YM_EIO_INTERNAL_H

#include "eio/ym_eio.h"

#include "base/ym_codec.h"

#include <stdlib.h>

struct ym_eio_packet {
    uint32_t refs;
    uint8_t type;          /* ym_eio_type_t */
    bool binary;           /* binary message: bytes are the raw data */
    ym_rbuf_t *bytes;      /* text: "<type><data>"; binary: raw data */
    ym_rbuf_t *ws_frame;   /* lazily built complete WebSocket frame, or NULL */
};

/* Any packet type (ping, noop, close...), refs = 1, data copied. */
ym_eio_packet_t *ym_eio__packet_new_type(ym_eio_type_t type, const char *data, size_t len, bool binary);
/* The shared frame; owned by p (take a ref to keep it). */
ym_rbuf_t *ym_eio__packet_ws_frame(ym_eio_packet_t *p);
/* Size of p in a polling payload (without the separator). */
size_t ym_eio__packet_size(const ym_eio_packet_t *p);
/* Appends p to a polling payload (separator first if out is not empty). */
void ym_eio__packet_append_payload(ym_buf_t *out, const ym_eio_packet_t *p);

#endif
