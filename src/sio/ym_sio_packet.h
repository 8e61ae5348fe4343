/* ym_sio_packet.h: Socket.IO v5 packet codec and a strict JSON scanner.
 *
 * Pure functions: no allocation except where stated, no globals, safe on any
 * thread. The decoder never copies the payload: it returns slices into the
 * caller's text, so the server relays what a client sent byte for byte
 * (docs/PROTOCOL.md, "Engine.IO / Socket.IO").
 */
#ifndef YM_SIO_PACKET_H
#define YM_SIO_PACKET_H

#include "base/ym_buf.h"

typedef enum ym_sio_type {
    YM_SIO_CONNECT = 0,
    YM_SIO_DISCONNECT = 1,
    YM_SIO_EVENT = 2,
    YM_SIO_ACK = 3,
    YM_SIO_CONNECT_ERROR = 4,
    YM_SIO_BINARY_EVENT = 5,
    YM_SIO_BINARY_ACK = 6,
} ym_sio_type_t;

/* Nesting deeper than this is refused: the scanner recurses, and no real
 * client sends more. */
#define YM_SIO_JSON_MAX_DEPTH 64
/* Ack ids are JavaScript counters; more than 15 digits would lose precision
 * there, so a longer run is malformed. */
#define YM_SIO_ACK_MAX_DIGITS 15
/* Namespace names longer than this are refused (they end up in replies). */
#define YM_SIO_NSP_MAX 256

/* What the scanner learned about one JSON value. */
typedef struct ym_sio_json_info {
    unsigned placeholders;   /* binary placeholder objects seen */
} ym_sio_json_info_t;

/* Scans one JSON value starting at p[0] (no leading whitespace is skipped by
 * the caller; the scanner accepts JSON whitespace around the value).
 * attachments: for binary packets, objects {"_placeholder":true,...} must carry
 * "num" as an integer in [0, attachments) (CVE-2022-2421); pass -1 to treat
 * placeholders as ordinary objects.
 * Returns the bytes consumed (value + trailing whitespace) or YM_EPROTO.
 * Truncated input is YM_EPROTO too: packets arrive whole. info may be NULL. */
long ym_sio_json_scan(const char *p, size_t len, long attachments, ym_sio_json_info_t *info);
/* True if the whole of p is exactly one valid JSON value (whitespace around ok). */
bool ym_sio_json_valid(const char *p, size_t len);

/* A decoded packet: slices into the decoded text (valid while it is). */
typedef struct ym_sio_packet {
    ym_sio_type_t type;
    unsigned attachments;    /* types 5 and 6 */
    ym_str_t nsp;            /* "/" when absent */
    bool has_id;
    uint64_t id;
    ym_str_t data;           /* raw JSON text, len 0 if none */
    /* EVENT / BINARY_EVENT only: */
    ym_str_t event;          /* raw JSON of arg0, quotes included ("\"msg\"" or "12") */
    ym_str_t rest;           /* text after arg0 up to, not including, the final ']':
                              * empty, or starting with ',' */
} ym_sio_packet_t;

/* Decodes one Socket.IO packet from a whole Engine.IO text message.
 * max_attachments caps the N- count. Returns len on success or YM_EPROTO, with
 * a static reason in *why (may be NULL). */
long ym_sio_decode(const char *p, size_t len, unsigned max_attachments, ym_sio_packet_t *out,
                   const char **why);

/* True if the raw JSON string event (quotes included) is a name Node reserves
 * (connect, connect_error, disconnect, disconnecting, newListener, removeListener). */
bool ym_sio_event_reserved(ym_str_t event_json);

/* Decodes a JSON string token (quotes included) into out, NUL-terminated.
 * Returns 0, or -1 if it is not a string or contains \u0000. */
int ym_sio_json_unquote(ym_str_t tok, ym_buf_t *out);
/* Appends s as a JSON string (quotes included). */
void ym_sio_json_quote(ym_buf_t *out, const char *s, size_t len);

/* Encodes a packet header: <type>[<n>-][<nsp>,][<id>] . Appends to out. */
void ym_sio_encode_head(ym_buf_t *out, ym_sio_type_t type, unsigned attachments, const char *nsp,
                        bool has_id, uint64_t id);
/* Encodes an EVENT/BINARY_EVENT: header + ["<event>"<sep><args inner>].
 * args_json is a JSON array text or NULL (no arguments); it is spliced, not
 * re-encoded. Returns 0, or -1 if args_json is not an array. */
int ym_sio_encode_event(ym_buf_t *out, const char *nsp, const char *event, size_t event_len,
                        const char *args_json, size_t args_len, unsigned attachments, bool has_id,
                        uint64_t id);
/* The inner text of a JSON array ("[1,2]" → "1,2", "[ ]" → ""), or -1. */
int ym_sio_json_array_inner(const char *a, size_t len, ym_str_t *inner);

#endif
