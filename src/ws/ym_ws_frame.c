#include "ws/ym_ws_frame.h"

#include <stdlib.h>

#include "base/ym_utf8.h"

bool ym_ws_close_code_valid(unsigned code)
{
    if (code >= 1000 && code <= 1003)
        return true;
    /* 1004 is reserved, 1005/1006 must never be sent, 1015 is TLS-only. */
    if (code >= 1007 && code <= 1014)
        return true;
    return code >= 3000 && code <= 4999;
}

void ym_ws_decoder_init(ym_ws_decoder_t *d, size_t max_message, unsigned max_fragments, bool require_mask)
{
    memset(d, 0, sizeof(*d));
    d->max_message = max_message ? max_message : YM_WS_DEFAULT_MAX_MESSAGE;
    d->max_fragments = max_fragments ? max_fragments : YM_WS_DEFAULT_MAX_FRAGMENTS;
    d->require_mask = require_mask;
    d->hdr_need = 2;
    d->utf8 = YM_UTF8_ACCEPT;
    d->msg = YM_BUF_INIT;
}

void ym_ws_decoder_free(ym_ws_decoder_t *d)
{
    ym_buf_free(&d->msg);
    free(d->ctrl);
    d->ctrl = NULL;
    d->msg_open = false;
    d->msg_delivered = false;
}

void ym_ws_decoder_trim(ym_ws_decoder_t *d)
{
    if (!d->msg_open) {
        ym_buf_free(&d->msg);
        d->msg_delivered = false;
    }
}

static ssize_t fail(ym_ws_decoder_t *d, unsigned code, const char *why)
{
    d->error_code = code;
    d->error = why;
    return YM_EPROTO;
}

static bool is_control(uint8_t op)
{
    return (op & 0x8) != 0;
}

/* The first two header bytes decide everything that does not need the length:
 * checking them at once makes a bad frame fail before its length arrives. */
static ssize_t check_first(ym_ws_decoder_t *d)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    uint8_t op = b0 & 0x0F;
    uint8_t len7 = b1 & 0x7F;

    d->fin = (b0 & 0x80) != 0;
    d->opcode = op;
    d->masked = (b1 & 0x80) != 0;
    if (b0 & 0x70)
        return fail(d, YM_WS_CLOSE_PROTOCOL, "RSV bits set without an extension");
    switch (op) {
    case YM_WS_OP_CONT:
    case YM_WS_OP_TEXT:
    case YM_WS_OP_BINARY:
    case YM_WS_OP_CLOSE:
    case YM_WS_OP_PING:
    case YM_WS_OP_PONG:
        break;
    default:
        return fail(d, YM_WS_CLOSE_PROTOCOL, "reserved opcode");
    }
    if (is_control(op)) {
        if (!d->fin)
            return fail(d, YM_WS_CLOSE_PROTOCOL, "fragmented control frame");
        if (len7 > YM_WS_MAX_CONTROL)
            return fail(d, YM_WS_CLOSE_PROTOCOL, "control frame payload > 125 bytes");
    } else if (op == YM_WS_OP_CONT) {
        if (!d->msg_open)
            return fail(d, YM_WS_CLOSE_PROTOCOL, "continuation without a message");
    } else if (d->msg_open) {
        return fail(d, YM_WS_CLOSE_PROTOCOL, "new data frame inside a fragmented message");
    }
    if (d->require_mask && !d->masked)
        return fail(d, YM_WS_CLOSE_PROTOCOL, "unmasked client frame");
    d->hdr_need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (d->masked ? 4 : 0));
    return 0;
}

static ssize_t header_done(ym_ws_decoder_t *d)
{
    uint8_t len7 = d->hdr[1] & 0x7F;
    size_t pos = 2;
    uint64_t len = len7;

    if (len7 == 126) {
        len = ((uint64_t)d->hdr[2] << 8) | d->hdr[3];
        pos = 4;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | d->hdr[2 + i];
        pos = 10;
        /* RFC 6455 §5.2: the most significant bit MUST be 0. Non-minimal
         * encodings are legal and accepted. */
        if (len >> 63)
            return fail(d, YM_WS_CLOSE_PROTOCOL, "64-bit length with the MSB set");
    }
    if (d->masked)
        memcpy(d->mask, d->hdr + pos, 4);
    d->mask_pos = 0;
    d->remaining = len;

    if (is_control(d->opcode)) {
        if (!d->ctrl)
            d->ctrl = ym_xmalloc(YM_WS_MAX_CONTROL + 1);
        d->ctrl_len = 0;
    } else {
        if (d->opcode != YM_WS_OP_CONT) {
            d->msg_open = true;
            d->msg_binary = d->opcode == YM_WS_OP_BINARY;
            d->msg_frames = 0;
            d->utf8 = YM_UTF8_ACCEPT;
            ym_buf_reset(&d->msg);
        }
        /* Count every frame, empty ones too: a stream of empty fragments costs
         * us per-frame work without ever growing the message. */
        if (d->msg_frames >= d->max_fragments)
            return fail(d, YM_WS_CLOSE_POLICY, "too many fragments in one message");
        d->msg_frames++;
        /* Compare without adding to len: a peer-chosen 63-bit length must not overflow. */
        if (len > d->max_message - d->msg.len)
            return fail(d, YM_WS_CLOSE_TOO_BIG, "message too big");
    }
    d->in_payload = true;
    return 0;
}

static void unmask_copy(ym_ws_decoder_t *d, char *dst, const uint8_t *src, size_t n)
{
    if (!d->masked) {
        memcpy(dst, src, n);
        return;
    }
    unsigned k = d->mask_pos;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(src[i] ^ d->mask[(k + i) & 3]);
    d->mask_pos = (uint8_t)((k + n) & 3);
}

static ssize_t frame_done(ym_ws_decoder_t *d, ym_ws_event_t *ev)
{
    d->in_payload = false;
    d->hdr_have = 0;
    d->hdr_need = 2;

    switch (d->opcode) {
    case YM_WS_OP_PING:
    case YM_WS_OP_PONG:
        ev->type = d->opcode == YM_WS_OP_PING ? YM_WS_EV_PING : YM_WS_EV_PONG;
        ev->data = d->ctrl;
        ev->len = d->ctrl_len;
        return 0;
    case YM_WS_OP_CLOSE:
        if (d->ctrl_len == 1)
            return fail(d, YM_WS_CLOSE_PROTOCOL, "close payload of 1 byte");
        ev->type = YM_WS_EV_CLOSE;
        ev->close_code = YM_WS_CLOSE_NO_STATUS;
        ev->data = d->ctrl;
        ev->len = 0;
        if (d->ctrl_len >= 2) {
            unsigned code = ((unsigned)(uint8_t)d->ctrl[0] << 8) | (uint8_t)d->ctrl[1];
            if (!ym_ws_close_code_valid(code))
                return fail(d, YM_WS_CLOSE_PROTOCOL, "invalid close code");
            if (!ym_utf8_valid(d->ctrl + 2, d->ctrl_len - 2u))
                return fail(d, YM_WS_CLOSE_BAD_DATA, "close reason is not UTF-8");
            ev->close_code = code;
            ev->data = d->ctrl + 2;
            ev->len = d->ctrl_len - 2u;
        }
        return 0;
    default:
        break;
    }
    if (!d->fin)
        return 0;
    if (!d->msg_binary && d->utf8 != YM_UTF8_ACCEPT)
        return fail(d, YM_WS_CLOSE_BAD_DATA, "text ends inside a UTF-8 sequence");
    d->msg_open = false;
    d->msg_delivered = true;
    ev->type = YM_WS_EV_MESSAGE;
    ev->binary = d->msg_binary;
    ev->data = d->msg.data ? d->msg.data : "";
    ev->len = d->msg.len;
    return 0;
}

ssize_t ym_ws_decoder_feed(ym_ws_decoder_t *d, const void *in, size_t n, ym_ws_event_t *ev)
{
    const uint8_t *p = in;
    size_t i = 0;
    ssize_t r;

    ev->type = YM_WS_EV_NONE;
    ev->binary = false;
    ev->data = NULL;
    ev->len = 0;
    ev->close_code = 0;
    if (d->msg_delivered) {
        /* The previous event's bytes are no longer needed; keep the memory for
         * the next message (ym_ws_decoder_trim frees it when idle). */
        ym_buf_reset(&d->msg);
        d->msg_delivered = false;
    }
    if (d->error_code)
        return YM_EPROTO;

    for (;;) {
        if (!d->in_payload) {
            while (d->hdr_have < d->hdr_need) {
                if (i == n)
                    return (ssize_t)i;
                d->hdr[d->hdr_have++] = p[i++];
                if (d->hdr_have == 2 && (r = check_first(d)) < 0)
                    return r;
            }
            if ((r = header_done(d)) < 0)
                return r;
        }
        if (d->remaining > 0) {
            if (i == n)
                return (ssize_t)i;
            size_t take = (size_t)YM_MIN(d->remaining, (uint64_t)(n - i));
            if (is_control(d->opcode)) {
                unmask_copy(d, d->ctrl + d->ctrl_len, p + i, take);
                d->ctrl_len = (uint8_t)(d->ctrl_len + take);
            } else {
                ym_buf_reserve(&d->msg, take);
                char *dst = d->msg.data + d->msg.len;
                unmask_copy(d, dst, p + i, take);
                d->msg.len += take;
                /* Fail fast: validate what we have, not the whole message at its end. */
                if (!d->msg_binary) {
                    d->utf8 = ym_utf8_feed(d->utf8, dst, take);
                    if (d->utf8 == YM_UTF8_REJECT)
                        return fail(d, YM_WS_CLOSE_BAD_DATA, "text is not UTF-8");
                }
            }
            i += take;
            d->remaining -= take;
            if (d->remaining > 0)
                return (ssize_t)i;
        }
        if ((r = frame_done(d, ev)) < 0)
            return r;
        if (ev->type != YM_WS_EV_NONE || i == n)
            return (ssize_t)i;
    }
}

size_t ym_ws_frame_header(uint8_t out[10], int opcode, bool fin, uint64_t len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

void ym_ws_frame_append(ym_buf_t *out, int opcode, bool fin, const void *p, size_t len)
{
    uint8_t h[10];
    size_t hl = ym_ws_frame_header(h, opcode, fin, len);
    ym_buf_reserve(out, hl + len);
    ym_buf_append(out, h, hl);
    ym_buf_append(out, p, len);
}

ym_rbuf_t *ym_ws_frame_build(int opcode, const void *p, size_t len)
{
    uint8_t h[10];
    size_t hl = ym_ws_frame_header(h, opcode, true, len);
    ym_rbuf_t *r = ym_rbuf_new(hl + len);
    memcpy(r->data, h, hl);
    if (len)
        memcpy(r->data + hl, p, len);
    return r;
}

ym_rbuf_t *ym_ws_frame_build_close(unsigned code, const char *reason)
{
    char payload[YM_WS_MAX_CONTROL];
    size_t len = 0;

    if (code) {
        payload[0] = (char)(code >> 8);
        payload[1] = (char)code;
        len = 2;
        if (reason) {
            size_t rl = strlen(reason);
            if (rl > YM_WS_MAX_CONTROL - 2) {
                rl = YM_WS_MAX_CONTROL - 2;
                /* Do not cut a code point in half: the peer would fail us with 1007. */
                while (rl > 0 && ((uint8_t)reason[rl] & 0xC0) == 0x80)
                    rl--;
            }
            memcpy(payload + 2, reason, rl);
            len += rl;
        }
    }
    return ym_ws_frame_build(YM_WS_OP_CLOSE, payload, len);
}

void ym_ws_frame_append_masked(ym_buf_t *out, int opcode, bool fin, unsigned rsv,
                               const uint8_t mask[4], const void *p, size_t len)
{
    uint8_t h[10];
    size_t hl = ym_ws_frame_header(h, opcode, fin, len);
    h[0] = (uint8_t)(h[0] | ((rsv & 7) << 4));
    h[1] |= 0x80;
    ym_buf_reserve(out, hl + 4 + len);
    ym_buf_append(out, h, hl);
    ym_buf_append(out, mask, 4);
    const uint8_t *s = p;
    for (size_t i = 0; i < len; i++)
        out->data[out->len + i] = (char)(s[i] ^ mask[i & 3]);
    out->len += len;
}
