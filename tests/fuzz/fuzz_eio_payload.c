/* libFuzzer target: Engine.IO polling payload and packet decoders. The first
 * byte picks the mode; the rest is the input. Checks that the atomic check and
 * the iterator agree, and that re-encoding a valid payload decodes to the same
 * packets. */
#include "eio/ym_eio_codec.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        ym_eio_frame_t f;
        if (ym_eio_packet_decode(p, n, &f) == 0 && (f.data != p + 1 || f.len != n - 1))
            abort();
        return 0;
    }
    int count = ym_eio_payload_check(p, n, 64);
    ym_buf_t scratch = YM_BUF_INIT, again = YM_BUF_INIT;
    size_t off = 0;
    int got = 0, rc;
    ym_eio_frame_t f;
    while ((rc = ym_eio_payload_next(p, n, &off, &scratch, &f)) == 1 && got <= 64) {
        got++;
        ym_eio_payload_append(&again, f.type, f.data, f.len, f.binary);
    }
    if (count >= 0) {
        if (rc != 0 || got != count)
            abort();
        /* Canonical encodings only: a valid payload re-encodes to itself. */
        if (again.len != n || memcmp(again.data, p, n) != 0)
            abort();
    }
    ym_buf_free(&scratch);
    ym_buf_free(&again);
    return 0;
}
