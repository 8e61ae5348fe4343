/* Fuzzes the Socket.IO packet decoder and the JSON scanner. Checks the
 * invariants the server relies on: slices stay inside the input, a decoded
 * EVENT re-encodes to a packet that decodes again with the same fields. */
#include "sio/ym_sio_packet.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(ym_str_t s, const char *p, size_t len)
{
    if (s.len && (s.p < p || s.p + s.len > p + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    (void)ym_sio_json_valid(p, size);
    ym_sio_packet_t pk;
    const char *why = NULL;
    long n = ym_sio_decode(p, size, 10, &pk, &why);
    if (n < 0) {
        if (!why)
            abort();
        return 0;
    }
    if ((size_t)n != size)
        abort();
    check_inside(pk.data, p, size);
    if (pk.nsp.p != p && !ym_str_eq_lit(pk.nsp, "/"))
        check_inside(pk.nsp, p, size);
    if (pk.type == YM_SIO_EVENT || pk.type == YM_SIO_BINARY_EVENT) {
        check_inside(pk.event, p, size);
        check_inside(pk.rest, p, size);
        if (pk.event.len == 0 || !ym_sio_json_valid(pk.event.p, pk.event.len))
            abort();
        /* Re-encode through the string path the server uses for echoes. */
        if (pk.event.p[0] == '"') {
            ym_buf_t name = YM_BUF_INIT, args = YM_BUF_INIT, out = YM_BUF_INIT, nsp = YM_BUF_INIT;
            if (ym_sio_json_unquote(pk.event, &name) == 0) {
                ym_buf_append_byte(&args, '[');
                if (pk.rest.len)
                    ym_buf_append(&args, pk.rest.p + 1, pk.rest.len - 1);
                ym_buf_append_byte(&args, ']');
                ym_buf_append(&nsp, pk.nsp.p, pk.nsp.len);
                ym_buf_append_byte(&nsp, '\0');
                if (ym_sio_encode_event(&out, nsp.data, name.data, name.len, args.data, args.len,
                                        pk.attachments, pk.has_id, pk.id) != 0)
                    abort();
                ym_sio_packet_t again;
                /* Names with a NUL or a ',' in the namespace do not survive. */
                if (!memchr(nsp.data, ',', pk.nsp.len)) {
                    if (ym_sio_decode(out.data, out.len, 10, &again, &why) != (long)out.len)
                        abort();
                    /* A BINARY_EVENT with 0 attachments is re-encoded as a plain EVENT. */
                    ym_sio_type_t want = pk.attachments ? pk.type : YM_SIO_EVENT;
                    if (again.type != want || again.id != pk.id || again.attachments != pk.attachments)
                        abort();
                }
            }
            ym_buf_free(&name);
            ym_buf_free(&args);
            ym_buf_free(&out);
            ym_buf_free(&nsp);
        }
    }
    return 0;
}
