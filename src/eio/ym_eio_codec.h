/* ym_eio_codec.h: Engine.IO v4 packet and polling-payload codecs. Pure
 * functions, no I/O, no globals: safe on any thread.
 *
 * Packet (text form): "<type><data>", type one digit 0..6. A binary message is
 * carried raw in a WebSocket binary frame, and as "b<base64>" inside a polling
 * payload. A payload is packets joined by 0x1E (record separator).
 */
#ifndef YM_EIO_CODEC_H
#define YM_EIO_CODEC_H

#include "base/ym_buf.h"

typedef enum ym_eio_type {
    YM_EIO_OPEN = 0,
    YM_EIO_CLOSE = 1,
    YM_EIO_PING = 2,
    YM_EIO_PONG = 3,
    YM_EIO_MESSAGE = 4,
    YM_EIO_UPGRADE = 5,
    YM_EIO_NOOP = 6,
} ym_eio_type_t;

#define YM_EIO_SEP '\x1e'

/* A decoded packet. data does not own its bytes: it points into the input or
 * into the caller's scratch buffer (see each decoder). binary implies MESSAGE. */
typedef struct ym_eio_frame {
    ym_eio_type_t type;
    bool binary;
    const char *data;
    size_t len;
} ym_eio_frame_t;

/* Decodes one text packet "<type><data>" (a WebSocket text frame, or one
 * element of a payload without the "b" form). data points into p. Returns 0,
 * or YM_EPROTO if p is empty or the type is not 0..6. UTF-8 is not checked
 * here (the WebSocket layer validates text frames). */
int ym_eio_packet_decode(const char *p, size_t n, ym_eio_frame_t *out);

/* Iterates a polling payload. *off starts at 0. On success returns 1 and
 * fills *out, advancing *off past the packet and its separator; returns 0 at
 * the end; YM_EPROTO if the packet at *off is malformed: empty, unknown type,
 * invalid UTF-8, bad base64 in a "b" packet. A "b" packet is decoded into
 * scratch (reset first), so out->data is valid until the next call or until
 * scratch changes; other packets point into p. An empty payload is malformed. */
int ym_eio_payload_next(const char *p, size_t n, size_t *off, ym_buf_t *scratch, ym_eio_frame_t *out);

/* Checks a whole payload without delivering anything: returns the number of
 * packets (>= 1), or YM_EPROTO if any packet is malformed or there are more
 * than max_packets. Lets the server reject a payload atomically. */
int ym_eio_payload_check(const char *p, size_t n, size_t max_packets);

/* Appends one packet in payload form to out: "<type><data>" for text, "b" +
 * base64(data) for binary (type must be MESSAGE). Appends the separator first
 * if out is not empty, so calling this repeatedly builds a payload. */
void ym_eio_payload_append(ym_buf_t *out, ym_eio_type_t type, const char *data, size_t len, bool binary);

/* The handshake JSON "0{...}" (open packet), exactly the five keys in the
 * order the suites and clients expect. sid is 20 URL-safe characters. */
void ym_eio_open_packet(ym_buf_t *out, const char *sid, bool upgrades_websocket, uint32_t ping_interval_ms,
                        uint32_t ping_timeout_ms, size_t max_payload);

#endif
