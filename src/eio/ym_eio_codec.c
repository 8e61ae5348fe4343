/* ym_eio_codec.c: Engine.IO v4 packets and polling payloads. */
#include "eio/ym_eio_codec.h"

#include "base/ym_codec.h"
#include "base/ym_utf8.h"

int ym_eio_packet_decode(const char *p, size_t n, ym_eio_frame_t *out)
{
    if (n == 0 || p[0] < '0' || p[0] > '6')
        return YM_EPROTO;
    out->type = (ym_eio_type_t)(p[0] - '0');
    out->binary = false;
    out->data = p + 1;
    out->len = n - 1;
    return 0;
}

int ym_eio_payload_next(const char *p, size_t n, size_t *off, ym_buf_t *scratch, ym_eio_frame_t *out)
{
    size_t start = *off;
    if (start > n)
        return YM_EPROTO;
    if (start == n)
        /* An empty payload is not "zero packets": Node rejects it too. */
        return start == 0 ? YM_EPROTO : 0;
    const char *sep = memchr(p + start, YM_EIO_SEP, n - start);
    size_t end = sep ? (size_t)(sep - p) : n;
    const char *pk = p + start;
    size_t len = end - start;
    /* A trailing separator would announce a packet that is not there. */
    if (sep && end + 1 == n)
        return YM_EPROTO;
    if (len == 0)
        return YM_EPROTO;
    if (pk[0] == 'b') {
        ym_buf_reset(scratch);
        if (ym_b64_decode(scratch, pk + 1, len - 1) != 0)
            return YM_EPROTO;
        out->type = YM_EIO_MESSAGE;
        out->binary = true;
        out->data = scratch->data ? scratch->data : "";
        out->len = scratch->len;
    } else {
        if (ym_eio_packet_decode(pk, len, out) != 0)
            return YM_EPROTO;
        if (!ym_utf8_valid(out->data, out->len))
            return YM_EPROTO;
    }
    *off = sep ? end + 1 : n;
    return 1;
}

int ym_eio_payload_check(const char *p, size_t n, size_t max_packets)
{
    ym_buf_t scratch = YM_BUF_INIT;
    size_t off = 0, count = 0;
    int rc;
    ym_eio_frame_t f;
    while ((rc = ym_eio_payload_next(p, n, &off, &scratch, &f)) == 1) {
        if (++count > max_packets) {
            rc = YM_EPROTO;
            break;
        }
    }
    ym_buf_free(&scratch);
    if (rc < 0)
        return YM_EPROTO;
    return count > (size_t)INT32_MAX ? YM_EPROTO : (int)count;
}

void ym_eio_payload_append(ym_buf_t *out, ym_eio_type_t type, const char *data, size_t len, bool binary)
{
    if (out->len > 0)
        ym_buf_append_byte(out, YM_EIO_SEP);
    if (binary) {
        ym_buf_append_byte(out, 'b');
        ym_b64_encode(out, data, len);
    } else {
        ym_buf_append_byte(out, (char)('0' + (int)type));
        if (len)
            ym_buf_append(out, data, len);
    }
}

void ym_eio_open_packet(ym_buf_t *out, const char *sid, bool upgrades_websocket, uint32_t ping_interval_ms,
                        uint32_t ping_timeout_ms, size_t max_payload)
{
    /* sid comes from ym_random_id (base64url), so it needs no JSON escaping. */
    ym_buf_appendf(out, "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%zu}",
                   sid, upgrades_websocket ? "\"websocket\"" : "", ping_interval_ms, ping_timeout_ms, max_payload);
}
