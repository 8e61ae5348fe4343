/* Fuzzes the clip input path: the input is one JPEG frame (validated, and
 * encoded when it is small enough to keep runs fast), and is also tried as a
 * data URI, the shape seed 000's clients send. */
#include "base/ym_buf.h"
#include "media/ym_media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ym_media_config_t cfg;
    ym_media_config_default(&cfg);
    cfg.max_width = 64;
    cfg.max_height = 64;
    char err[YM_MEDIA_ERR_LEN];

    ym_media_frames_t *frames = ym_media_frames_new(&cfg);
    if (ym_media_frames_add(frames, data, size, err) == 0 &&
        ym_media_frames_add(frames, data, size, err) == 0) {
        int w = 0, h = 0;
        if (ym_media_validate(&cfg, frames, &w, &h, err) == 0) {
            ym_buf_t webm = YM_BUF_INIT;
            ym_media_encode_sync(&cfg, frames, &webm, err);
            ym_buf_free(&webm);
        }
    }
    ym_media_frames_free(frames);

    ym_buf_t out = YM_BUF_INIT;
    const char *reason = NULL;
    ym_media_data_uri_decode((const char *)data, size, "image/jpeg", 1 << 20, &out, &reason);
    ym_buf_free(&out);
    return 0;
}
