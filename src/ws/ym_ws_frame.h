/* ym_ws_frame.h: the RFC 6455 frame codec. Pure: no I/O, no globals, so it is
 * safe on any thread; one decoder belongs to one connection (one thread).
 *
 * The decoder is incremental and indifferent to how the input is chopped: it
 * keeps a partial frame header inline (at most 14 bytes) and unmasks payload
 * straight into a message buffer that exists only while a message is being
 * received. It checks everything RFC 6455 requires of a client's frames and
 * the limits we add, and reports a failure as the close code to send:
 *   1002 protocol error (RSV bits, reserved opcodes, unmasked client frames,
 *        fragmented or > 125-byte control frames, stray continuations, a new
 *        message inside a fragmented one, 64-bit lengths with the MSB set,
 *        bad close payloads and codes),
 *   1007 text or close reason that is not UTF-8 (fail-fast, byte by byte),
 *   1008 more fragments in one message than the configured cap,
 *   1009 a message larger than the configured cap (checked on the frame
 *        header, before anything is allocated).
 *
 * The encoder writes server frames (unmasked). ym_ws_frame_header() writes only
 * a header so that one payload can be framed once and shared (broadcast).
 */
#ifndef YM_WS_FRAME_H
#define YM_WS_FRAME_H

#include "base/ym_buf.h"

#include <sys/types.h>

enum {
    YM_WS_OP_CONT = 0x0,
    YM_WS_OP_TEXT = 0x1,
    YM_WS_OP_BINARY = 0x2,
    YM_WS_OP_CLOSE = 0x8,
    YM_WS_OP_PING = 0x9,
    YM_WS_OP_PONG = 0xA,
};

/* Close codes we send. */
enum {
    YM_WS_CLOSE_NORMAL = 1000,
    YM_WS_CLOSE_GOING_AWAY = 1001,
    YM_WS_CLOSE_PROTOCOL = 1002,
    YM_WS_CLOSE_NO_STATUS = 1005,    /* never on the wire: "close frame had no code" */
    YM_WS_CLOSE_ABNORMAL = 1006,     /* never on the wire: "no close frame at all" */
    YM_WS_CLOSE_BAD_DATA = 1007,
    YM_WS_CLOSE_POLICY = 1008,
    YM_WS_CLOSE_TOO_BIG = 1009,
    YM_WS_CLOSE_INTERNAL = 1011,
};

#define YM_WS_MAX_CONTROL 125u                     /* RFC 6455 §5.5 */
#define YM_WS_MAX_HEADER 14u                       /* 2 + 8 (length) + 4 (mask) */
#define YM_WS_DEFAULT_MAX_MESSAGE (1u << 20)       /* 1 MiB → 1009 */
#define YM_WS_DEFAULT_MAX_FRAGMENTS 1024u          /* frames per message, empty ones too → 1008 */

/* True if code may appear in a close frame (RFC 6455 §7.4, IANA registry):
 * 1000-1003, 1007-1014, 3000-4999. */
bool ym_ws_close_code_valid(unsigned code);

/* ---- decoder ---- */

typedef enum ym_ws_event_type {
    YM_WS_EV_NONE = 0,   /* consumed input, nothing complete yet */
    YM_WS_EV_MESSAGE,    /* a whole data message (reassembled, unmasked, UTF-8 checked if text) */
    YM_WS_EV_PING,
    YM_WS_EV_PONG,
    YM_WS_EV_CLOSE,      /* a valid close frame; code 1005 if it carried none */
} ym_ws_event_type_t;

typedef struct ym_ws_event {
    ym_ws_event_type_t type;
    bool binary;              /* MESSAGE: opcode was binary */
    const char *data;         /* payload (MESSAGE, PING, PONG) or close reason (CLOSE); */
    size_t len;               /* valid until the next call into the decoder */
    unsigned close_code;      /* CLOSE only */
} ym_ws_event_t;

typedef struct ym_ws_decoder {
    /* configuration: set by ym_ws_decoder_init, may be changed between calls */
    size_t max_message;
    unsigned max_fragments;
    bool require_mask;        /* true on a server (frames from clients) */

    /* current frame */
    uint8_t hdr[YM_WS_MAX_HEADER];
    uint8_t hdr_have, hdr_need;
    bool in_payload;
    uint8_t opcode;
    bool fin;
    bool masked;
    uint8_t mask[4];
    uint8_t mask_pos;
    uint64_t remaining;

    /* current control frame payload */
    uint8_t ctrl_len;
    /* YM_WS_MAX_CONTROL + 1 bytes, owned: allocated at the first control
     * frame and kept until ym_ws_decoder_free. Most connections only ever see
     * the closing one, and an inline buffer would cost every idle connection
     * its size (the per-client memory budget, DESIGN.md). */
    char *ctrl;

    /* current data message */
    bool msg_open;            /* a first data frame was seen, the last one not yet */
    bool msg_binary;
    bool msg_delivered;       /* msg holds a delivered message; dropped on the next call */
    unsigned msg_frames;
    uint32_t utf8;
    ym_buf_t msg;             /* owned; allocated only while a message is being received */

    /* failure */
    unsigned error_code;      /* close code to send once YM_EPROTO was returned */
    const char *error;        /* static text for logs */
} ym_ws_decoder_t;

/* Sets up d. max_message 0 = YM_WS_DEFAULT_MAX_MESSAGE, max_fragments 0 =
 * YM_WS_DEFAULT_MAX_FRAGMENTS. Allocates nothing. */
void ym_ws_decoder_init(ym_ws_decoder_t *d, size_t max_message, unsigned max_fragments, bool require_mask);
/* Releases d's message buffer. d may be re-initialised afterwards. */
void ym_ws_decoder_free(ym_ws_decoder_t *d);
/* Frees the message buffer if it holds nothing pending (call when going idle). */
void ym_ws_decoder_trim(ym_ws_decoder_t *d);

/* Consumes bytes from in until it has one event or the input is exhausted.
 * Returns bytes consumed (>= 0, possibly 0 when an empty frame completes) and
 * sets *ev (type NONE if nothing completed); call again with the rest. Never
 * returns YM_AGAIN: partial frames are kept inside d. Returns YM_EPROTO on a
 * violation; then d->error_code is the close code to send and d->error a static
 * reason. After YM_EPROTO the decoder must not be fed again.
 * ev->data points into d (or nowhere, len 0) and stays valid until the next call. */
ssize_t ym_ws_decoder_feed(ym_ws_decoder_t *d, const void *in, size_t n, ym_ws_event_t *ev);

/* ---- encoder ---- */

/* Writes a server (unmasked) frame header for a payload of len bytes into out
 * and returns its size (2, 4 or 10). opcode is one of YM_WS_OP_*. */
size_t ym_ws_frame_header(uint8_t out[10], int opcode, bool fin, uint64_t len);
/* Appends a complete unmasked frame to out. */
void ym_ws_frame_append(ym_buf_t *out, int opcode, bool fin, const void *p, size_t len);
/* A complete unmasked frame (FIN set) in a new rbuf with refs = 1 (caller owns the ref).
 * Frame once, send to many: ym_conn_send / ym_ws_send_frame take their own references. */
ym_rbuf_t *ym_ws_frame_build(int opcode, const void *p, size_t len);
/* A close frame: code 0 means an empty payload (reason ignored); reason may be
 * NULL and is cut to 123 bytes (at a UTF-8 boundary). Caller owns the ref. */
ym_rbuf_t *ym_ws_frame_build_close(unsigned code, const char *reason);

/* Appends a masked (client) frame with explicit header bits: for tests, fuzz
 * seeds and benchmark clients. rsv is the 3-bit RSV field. */
void ym_ws_frame_append_masked(ym_buf_t *out, int opcode, bool fin, unsigned rsv,
                               const uint8_t mask[4], const void *p, size_t len);

#endif
