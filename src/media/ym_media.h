/* ym_media.h: clip encoding. JPEG frames -> VP8 WebM, in memory, on libuv's
 * worker pool (seed 000's "Animate" clips, done in-process instead of
 * writing files and running the ffmpeg CLI).
 *
 * Pipeline per clip: libturbojpeg decodes each frame to its native YUV planes
 * (4:2:0 ones straight into the encoder's frame, rescaled in place from JPEG's
 * full range to limited range; other layouts through libswscale), libavcodec's "libvpx"
 * encoder makes VP8 and libavformat's "webm" muxer writes into a memory
 * buffer through a custom AVIOContext. Every libav object belongs to one job,
 * so jobs run in parallel on different worker threads without sharing state.
 *
 * Threading: the encoder object (ym_media_encoder_t) belongs to its loop
 * thread. ym_media_encode_sync(), the validation and the data-URI helpers are
 * pure functions, safe on any thread.
 *
 * libav's log level (process-wide) is lowered to AV_LOG_WARNING on first use,
 * so clips do not print banner lines.
 *
 * Errors: limit and format violations come back as a human-readable string
 * ("frame 3: not a JPEG"), meant to be shown to the person who sent the clip.
 */
#ifndef YM_MEDIA_H
#define YM_MEDIA_H

#include "base/ym_buf.h"

#include <uv.h>

#define YM_MEDIA_ERR_LEN 160            /* size of every error-string buffer */
#define YM_MEDIA_FRAMES_CAP 20          /* hard cap on max_frames */
#define YM_MEDIA_DIM_CAP 4096           /* hard cap on max_width / max_height */

/* Settings. Fill with ym_media_config_default(), then change what you need.
 * Out-of-range values are clamped by the functions that read them. */
typedef struct ym_media_config {
    unsigned max_frames;        /* frames per clip, 1..YM_MEDIA_FRAMES_CAP; default 10 */
    unsigned max_width;         /* pixels; default 640 */
    unsigned max_height;        /* pixels; default 640 */
    size_t max_total_bytes;     /* sum of the JPEG sizes of one clip; default 3 MiB */
    unsigned frame_ms;          /* how long each frame shows, 10..10000; default 100 */
    unsigned bitrate_kbps;      /* VP8 target bitrate, 50..20000; default 200 (ffmpeg's
                                 * default, which seed 000 used) */
    unsigned cpu_used;          /* libvpx speed at the "realtime" deadline, 0 (best) .. 16
                                 * (fastest); default 16: at 200x200 it costs ~0.1 dB
                                 * PSNR against 8 and halves the encoding time */
    unsigned timeout_ms;        /* per-clip encoding time cap; default 5000 */
    unsigned max_queue;         /* clips queued or running per encoder; default 2 x cores */
} ym_media_config_t;

/* Writes the documented defaults into cfg. Any thread. */
void ym_media_config_default(ym_media_config_t *cfg);

/* ---- frames --------------------------------------------------------------- */

/* The JPEG frames of one clip, in order. Owned by whoever created it until it
 * is passed to ym_media_encode() (which takes it) or ym_media_frames_free().
 * One thread at a time. */
typedef struct ym_media_frames ym_media_frames_t;

/* Returns an empty list that enforces cfg's max_frames and max_total_bytes
 * while frames are added (cfg is copied; NULL means the defaults). Caller
 * frees with ym_media_frames_free() unless ownership passes to
 * ym_media_encode(). */
ym_media_frames_t *ym_media_frames_new(const ym_media_config_t *cfg);
void ym_media_frames_free(ym_media_frames_t *f);                  /* NULL is fine */
size_t ym_media_frames_count(const ym_media_frames_t *f);
/* The bytes of frame i (0-based), borrowed from f; NULL and *len = 0 when i
 * is out of range. */
const void *ym_media_frames_get(const ym_media_frames_t *f, size_t i, size_t *len);

/* Appends a copy of one JPEG. The limits are checked before anything is
 * allocated: returns 0, -E2BIG (too many frames or too many bytes) or -EINVAL
 * (empty or no JPEG magic FF D8 FF), with a message in err. Frames are
 * numbered from 1 in messages. */
int ym_media_frames_add(ym_media_frames_t *f, const void *jpeg, size_t len, char err[YM_MEDIA_ERR_LEN]);
/* Appends the JPEG carried by a "data:image/jpeg;base64,..." URI (strict, see
 * ym_media_data_uri_decode). Same returns as ym_media_frames_add. */
int ym_media_frames_add_data_uri(ym_media_frames_t *f, const char *uri, size_t len, char err[YM_MEDIA_ERR_LEN]);

/* Checks a whole clip against cfg without decoding the pixels: frame count,
 * JPEG magic, total bytes, readable JPEG headers, dimensions within the
 * limits and equal across frames. On success stores the size in *w, *h
 * (either may be NULL) and returns 0; otherwise returns -EINVAL or -E2BIG and
 * writes the reason into err. Any thread. */
int ym_media_validate(const ym_media_config_t *cfg, const ym_media_frames_t *f,
                      int *w, int *h, char err[YM_MEDIA_ERR_LEN]);

/* ---- encoding ------------------------------------------------------------- */

/* Encodes a clip on the calling thread (tests, benchmarks, tools): validates,
 * decodes and encodes every frame, and appends the WebM bytes to *webm.
 * Returns 0; -EINVAL / -E2BIG for invalid input; -ETIMEDOUT when cfg's
 * timeout_ms passed (err "timeout"); -EIO when libav failed. On failure err
 * holds the reason and *webm is unchanged. frames stays the caller's. Any
 * thread; uses no shared state. */
int ym_media_encode_sync(const ym_media_config_t *cfg, const ym_media_frames_t *frames,
                         ym_buf_t *webm, char err[YM_MEDIA_ERR_LEN]);

typedef struct ym_media_encoder ym_media_encoder_t;

/* Completion callback, on the loop thread. On success err is NULL and the
 * callback owns one reference to each of webm (the clip) and poster (the
 * first frame's original JPEG bytes): ym_rbuf_unref() them when done. On
 * failure err is the reason (valid only during the call: "frame 2: not a
 * JPEG", "timeout", "cancelled", ...) and webm and poster are NULL. The
 * callback may call ym_media_encode() (which returns -ECANCELED once the
 * encoder is closing) and ym_media_encoder_close(). */
typedef void (*ym_media_done_cb)(const char *err, ym_rbuf_t *webm, ym_rbuf_t *poster, void *ud);

/* Creates an encoder that runs clips on loop's worker pool. cfg is copied
 * (NULL means the defaults). Loop thread. Free with ym_media_encoder_close(). */
ym_media_encoder_t *ym_media_encoder_new(uv_loop_t *loop, const ym_media_config_t *cfg);

/* Queues one clip. Ownership of frames passes to the encoder in every case
 * (freed even when the call fails). Returns 0 and later calls cb exactly once
 * on the loop thread; or fails at once without calling cb: -EBUSY when
 * max_queue clips are already queued or running (answer "busy, try again"),
 * -ECANCELED after ym_media_encoder_close(), or another uv error. Loop thread. */
int ym_media_encode(ym_media_encoder_t *enc, ym_media_frames_t *frames, ym_media_done_cb cb, void *ud);

/* Number of clips queued or running. Loop thread. */
unsigned ym_media_encoder_pending(const ym_media_encoder_t *enc);

/* Closes the encoder: clips not started yet are cancelled, clips running are
 * left to finish; each of them still gets its callback, with err
 * "cancelled". The object is freed once the last callback has returned, so
 * the loop can be closed after uv_run() returns. Safe inside a callback. Do
 * not use enc after this call. Loop thread. */
void ym_media_encoder_close(ym_media_encoder_t *enc);

/* ---- data URIs (seed 000's wire format) ---------------------------------- */

/* Strictly decodes "data:<mime>;base64,<base64>" (exact, lowercase prefix;
 * standard alphabet, padding required, no whitespace) and appends the bytes
 * to out. The decoded size is computed from the length and checked against
 * max_bytes before anything is allocated. Returns 0, -EINVAL (malformed) or
 * -E2BIG (too large); *reason (may be NULL) then gets a static string. Any
 * thread. */
int ym_media_data_uri_decode(const char *uri, size_t len, const char *mime, size_t max_bytes,
                             ym_buf_t *out, const char **reason);
/* Appends "data:<mime>;base64,<base64 of p>" to out. Any thread. */
void ym_media_data_uri_append(ym_buf_t *out, const char *mime, const void *p, size_t n);

#endif
