/* libFuzzer target for the WebSocket frame decoder. The first input byte picks
 * how the rest is chopped (1..256 bytes a call, 0 = whole) and the decoder
 * limits, so one corpus covers chop-independence too. Every message that comes
 * out is re-framed by the encoder and must decode to the same bytes. */
#include "base/ym_utf8.h"
#include "ws/ym_ws_frame.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const ym_ws_event_t *ev)
{
    ym_buf_t b = YM_BUF_INIT;
    ym_ws_frame_append(&b, ev->binary ? YM_WS_OP_BINARY : YM_WS_OP_TEXT, true, ev->data, ev->len);
    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, ev->len + 1, 0, false);
    ym_ws_event_t out;
    ssize_t r = ym_ws_decoder_feed(&d, b.data, b.len, &out);
    if (r != (ssize_t)b.len || out.type != YM_WS_EV_MESSAGE || out.len != ev->len ||
        (ev->len && memcmp(out.data, ev->data, ev->len) != 0))
        abort();
    ym_ws_decoder_free(&d);
    ym_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chop = data[0] & 0x3F ? (size_t)(data[0] & 0x3F) * 4 - 3 : 0;
    /* Small limits reach the 1008/1009 paths with short inputs. */
    size_t max_msg = (data[0] & 0x40) ? 300 : 0;
    unsigned max_frags = (data[0] & 0x80) ? 4 : 0;
    data++;
    size--;

    ym_ws_decoder_t d;
    ym_ws_decoder_init(&d, max_msg, max_frags, (max_msg == 0));
    size_t off = 0;
    while (off < size) {
        size_t w = chop ? YM_MIN(chop, size - off) : size - off;
        size_t used = 0;
        while (used < w) {
            ym_ws_event_t ev;
            ssize_t r = ym_ws_decoder_feed(&d, data + off + used, w - used, &ev);
            if (r < 0) {
                if (d.error_code != 1002 && d.error_code != 1007 && d.error_code != 1008 && d.error_code != 1009)
                    abort();
                goto out;
            }
            used += (size_t)r;
            if (ev.type == YM_WS_EV_MESSAGE) {
                if (!ev.binary && !ym_utf8_valid(ev.data, ev.len))
                    abort();
                roundtrip(&ev);
            } else if (ev.type == YM_WS_EV_CLOSE) {
                if (ev.close_code != YM_WS_CLOSE_NO_STATUS && !ym_ws_close_code_valid(ev.close_code))
                    abort();
            } else if (ev.type == YM_WS_EV_NONE && used != w) {
                abort();
            }
            if (ev.len > YM_WS_MAX_CONTROL && ev.type != YM_WS_EV_MESSAGE)
                abort();
        }
        off += w;
        ym_ws_decoder_trim(&d);
    }
out:
    ym_ws_decoder_free(&d);
    return 0;
}
