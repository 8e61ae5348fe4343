/* ym_media.c: JPEG frames -> VP8 WebM in memory (see ym_media.h). */
#include "media/ym_media.h"

#include "base/ym_codec.h"
#include "base/ym_log.h"
#include "base/ym_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

/* Whatever a setting says, one clip never holds more than this many JPEG
 * bytes: keeps each frame inside an rbuf and bounds a worker's memory. */
#define TOTAL_BYTES_CAP ((size_t)64 << 20)

struct ym_media_frames {
    unsigned max_frames;
    size_t max_total;
    size_t total;
    size_t n;
    ym_rbuf_t *f[YM_MEDIA_FRAMES_CAP];
};

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, YM_MEDIA_ERR_LEN, fmt, ap);
    va_end(ap);
}

static unsigned clamp_u(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void ym_media_config_default(ym_media_config_t *cfg)
{
    unsigned cores = uv_available_parallelism();
    *cfg = (ym_media_config_t){
        .max_frames = 10,
        .max_width = 640,
        .max_height = 640,
        .max_total_bytes = (size_t)3 << 20,
        .frame_ms = 100,
        .bitrate_kbps = 200,
        .cpu_used = 16,
        .timeout_ms = 5000,
        .max_queue = 2 * (cores ? cores : 1),
    };
}

/* The settings actually used: every value brought into its documented range. */
static ym_media_config_t effective_config(const ym_media_config_t *in)
{
    ym_media_config_t c;
    if (in)
        c = *in;
    else
        ym_media_config_default(&c);
    c.max_frames = clamp_u(c.max_frames, 1, YM_MEDIA_FRAMES_CAP);
    c.max_width = clamp_u(c.max_width, 1, YM_MEDIA_DIM_CAP);
    c.max_height = clamp_u(c.max_height, 1, YM_MEDIA_DIM_CAP);
    c.max_total_bytes = YM_MIN(c.max_total_bytes, TOTAL_BYTES_CAP);
    c.frame_ms = clamp_u(c.frame_ms, 10, 10000);
    c.bitrate_kbps = clamp_u(c.bitrate_kbps, 50, 20000);
    c.cpu_used = clamp_u(c.cpu_used, 0, 16);
    c.timeout_ms = YM_MAX(c.timeout_ms, 1u);
    c.max_queue = YM_MAX(c.max_queue, 1u);
    return c;
}

/* ---- frames --------------------------------------------------------------- */

ym_media_frames_t *ym_media_frames_new(const ym_media_config_t *cfg)
{
    ym_media_config_t c = effective_config(cfg);
    ym_media_frames_t *f = ym_xcalloc(1, sizeof(*f));
    f->max_frames = c.max_frames;
    f->max_total = c.max_total_bytes;
    return f;
}

void ym_media_frames_free(ym_media_frames_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        ym_rbuf_unref(f->f[i]);
    free(f);
}

size_t ym_media_frames_count(const ym_media_frames_t *f)
{
    return f->n;
}

const void *ym_media_frames_get(const ym_media_frames_t *f, size_t i, size_t *len)
{
    if (i >= f->n) {
        *len = 0;
        return NULL;
    }
    *len = f->f[i]->len;
    return f->f[i]->data;
}

static bool has_jpeg_magic(const void *p, size_t len)
{
    const unsigned char *b = p;
    return len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

/* The checks shared by both ways of adding a frame, made before allocating. */
static int check_room(const ym_media_frames_t *f, size_t len, char *err)
{
    if (f->n >= f->max_frames) {
        set_err(err, "too many frames (max %u)", f->max_frames);
        return -E2BIG;
    }
    if (len > f->max_total - f->total) {
        set_err(err, "clip too large (max %zu bytes)", f->max_total);
        return -E2BIG;
    }
    return 0;
}

int ym_media_frames_add(ym_media_frames_t *f, const void *jpeg, size_t len, char err[YM_MEDIA_ERR_LEN])
{
    int rc = check_room(f, len, err);
    if (rc)
        return rc;
    if (!has_jpeg_magic(jpeg, len)) {
        set_err(err, "frame %zu: not a JPEG", f->n + 1);
        return -EINVAL;
    }
    f->f[f->n++] = ym_rbuf_copy(jpeg, len);
    f->total += len;
    return 0;
}

int ym_media_frames_add_data_uri(ym_media_frames_t *f, const char *uri, size_t len, char err[YM_MEDIA_ERR_LEN])
{
    /* The room check uses the decoded size, known from the length alone. */
    int rc = check_room(f, 0, err);
    if (rc)
        return rc;
    ym_buf_t b = YM_BUF_INIT;
    const char *reason = NULL;
    rc = ym_media_data_uri_decode(uri, len, "image/jpeg", f->max_total - f->total, &b, &reason);
    if (rc == -E2BIG)
        set_err(err, "clip too large (max %zu bytes)", f->max_total);
    else if (rc)
        set_err(err, "frame %zu: %s", f->n + 1, reason);
    else
        rc = ym_media_frames_add(f, b.data, b.len, err);
    ym_buf_free(&b);
    return rc;
}

/* ---- validation ----------------------------------------------------------- */

/* Turns a libjpeg message into the reason shown to people. */
static void jpeg_err(char *err, size_t frame, const char *msg)
{
    if (msg && strcasestr(msg, "premature end"))
        set_err(err, "frame %zu: truncated JPEG", frame);
    else
        set_err(err, "frame %zu: corrupt JPEG (%s)", frame, msg ? msg : "?");
}

static int validate_with(tjhandle tj, const ym_media_config_t *c, const ym_media_frames_t *f,
                         int *w_out, int *h_out, char *err)
{
    if (f->n == 0) {
        set_err(err, "no frames");
        return -EINVAL;
    }
    if (f->n > c->max_frames) {
        set_err(err, "too many frames (%zu, max %u)", f->n, c->max_frames);
        return -E2BIG;
    }
    size_t total = 0;
    int w0 = 0, h0 = 0;
    for (size_t i = 0; i < f->n; i++) {
        const ym_rbuf_t *r = f->f[i];
        if (!has_jpeg_magic(r->data, r->len)) {
            set_err(err, "frame %zu: not a JPEG", i + 1);
            return -EINVAL;
        }
        total += r->len;
        if (total > c->max_total_bytes) {
            set_err(err, "clip too large (max %zu bytes)", c->max_total_bytes);
            return -E2BIG;
        }
        /* tjDecompressHeader3 can succeed on a file cut before the SOF
         * without storing a size: start from zero. */
        int w = 0, h = 0, subsamp = -1, cs = -1;
        if (tjDecompressHeader3(tj, (const unsigned char *)r->data, r->len, &w, &h, &subsamp, &cs) != 0) {
            jpeg_err(err, i + 1, tjGetErrorStr2(tj));
            return -EINVAL;
        }
        if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
            set_err(err, "frame %zu: CMYK JPEG not supported", i + 1);
            return -EINVAL;
        }
        if (w < 1 || h < 1) { /* headers without a frame: cut before the SOF */
            set_err(err, "frame %zu: truncated JPEG", i + 1);
            return -EINVAL;
        }
        if ((unsigned)w > c->max_width || (unsigned)h > c->max_height) {
            set_err(err, "frame %zu: size %dx%d exceeds %ux%u", i + 1, w, h, c->max_width, c->max_height);
            return -E2BIG;
        }
        if (i == 0) {
            w0 = w;
            h0 = h;
        } else if (w != w0 || h != h0) {
            set_err(err, "frame %zu: size %dx%d differs from %dx%d", i + 1, w, h, w0, h0);
            return -EINVAL;
        }
    }
    if (w_out)
        *w_out = w0;
    if (h_out)
        *h_out = h0;
    return 0;
}

int ym_media_validate(const ym_media_config_t *cfg, const ym_media_frames_t *f,
                      int *w, int *h, char err[YM_MEDIA_ERR_LEN])
{
    ym_media_config_t c = effective_config(cfg);
    tjhandle tj = tjInitDecompress();
    if (!tj) {
        set_err(err, "JPEG decoder unavailable");
        return -EIO;
    }
    int rc = validate_with(tj, &c, f, w, h, err);
    tjDestroy(tj);
    return rc;
}

/* ---- encoding ------------------------------------------------------------- */

/* The WebM muxer writes into memory through these callbacks. It needs to seek
 * back to fill in the duration and the cue position, so writes land at pos. */
typedef struct memio {
    ym_buf_t buf;
    size_t pos;
} memio_t;

#define MEMIO_CAP ((size_t)1 << 30)

static int memio_write(void *opaque, uint8_t *p, int n)
{
    memio_t *m = opaque;
    if (n < 0 || (size_t)n > MEMIO_CAP - m->pos)
        return AVERROR(EFBIG);
    size_t end = m->pos + (size_t)n;
    if (end > m->buf.len) {
        ym_buf_reserve(&m->buf, end - m->buf.len);
        if (m->pos > m->buf.len) /* a seek past the end leaves a hole */
            memset(m->buf.data + m->buf.len, 0, m->pos - m->buf.len);
        m->buf.len = end;
    }
    memcpy(m->buf.data + m->pos, p, (size_t)n);
    m->pos = end;
    return n;
}

static int64_t memio_seek(void *opaque, int64_t off, int whence)
{
    memio_t *m = opaque;
    if (whence & AVSEEK_SIZE)
        return (int64_t)m->buf.len;
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)m->pos; break;
    case SEEK_END: base = (int64_t)m->buf.len; break;
    default: return AVERROR(EINVAL);
    }
    if (off < -base || off > (int64_t)MEMIO_CAP - base)
        return AVERROR(EINVAL);
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

/* Everything one clip encoding owns; clip_free releases whatever was made. */
typedef struct clip {
    tjhandle tj;
    unsigned char *planes;
    size_t planes_cap;
    struct SwsContext *sws;
    int sws_src_fmt;
    AVCodecContext *cc;
    AVFormatContext *oc;
    AVIOContext *avio;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    memio_t mem;
    bool header_written;
} clip_t;

static void clip_free(clip_t *k)
{
    if (k->tj)
        tjDestroy(k->tj);
    free(k->planes);
    sws_freeContext(k->sws);
    avcodec_free_context(&k->cc);
    /* With custom I/O, avformat_free_context leaves pb alone: free it here. */
    avformat_free_context(k->oc);
    if (k->avio) {
        av_freep(&k->avio->buffer);
        avio_context_free(&k->avio);
    }
    av_frame_free(&k->frame);
    av_packet_free(&k->pkt);
    ym_buf_free(&k->mem.buf);
}

static int av_fail(char *err, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof(msg));
    set_err(err, "encoder error: %s: %s", what, msg);
    return -EIO;
}

static int tj_pix_fmt(int subsamp)
{
    switch (subsamp) {
    case TJSAMP_444: return AV_PIX_FMT_YUV444P;
    case TJSAMP_422: return AV_PIX_FMT_YUV422P;
    case TJSAMP_420: return AV_PIX_FMT_YUV420P;
    case TJSAMP_GRAY: return AV_PIX_FMT_GRAY8;
    case TJSAMP_440: return AV_PIX_FMT_YUV440P;
    case TJSAMP_411: return AV_PIX_FMT_YUV411P;
    default: return AV_PIX_FMT_NONE;
    }
}

static int open_output(clip_t *k, const ym_media_config_t *c, size_t nframes, int w, int h, char *err)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libvpx");
    if (!codec) {
        set_err(err, "encoder error: libvpx VP8 encoder not available");
        return -EIO;
    }
    int rc = avformat_alloc_output_context2(&k->oc, NULL, "webm", NULL);
    if (rc < 0)
        return av_fail(err, "webm muxer", rc);

    k->cc = avcodec_alloc_context3(codec);
    k->frame = av_frame_alloc();
    k->pkt = av_packet_alloc();
    if (!k->cc || !k->frame || !k->pkt) {
        set_err(err, "encoder error: out of memory");
        return -EIO;
    }
    AVCodecContext *cc = k->cc;
    cc->width = w;
    cc->height = h;
    cc->pix_fmt = AV_PIX_FMT_YUV420P;
    /* One tick per frame: pts i is frame i, shown for frame_ms. */
    cc->time_base = (AVRational){ (int)c->frame_ms, 1000 };
    cc->framerate = (AVRational){ 1000, (int)c->frame_ms };
    cc->bit_rate = (int64_t)c->bitrate_kbps * 1000;
    /* A clip is short and always played from the start: one key frame. */
    cc->gop_size = (int)nframes + 1;
    /* The worker pool gives the parallelism; threads inside a job would fight it. */
    cc->thread_count = 1;
    if (k->oc->oformat->flags & AVFMT_GLOBALHEADER)
        cc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    AVDictionary *opts = NULL;
    av_dict_set(&opts, "deadline", "realtime", 0);
    av_dict_set_int(&opts, "cpu-used", c->cpu_used, 0);
    /* Lag would only delay packets; the whole clip is flushed at the end anyway. */
    av_dict_set_int(&opts, "lag-in-frames", 0, 0);
    rc = avcodec_open2(cc, codec, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return av_fail(err, "open VP8 encoder", rc);

    k->frame->format = AV_PIX_FMT_YUV420P;
    k->frame->width = w;
    k->frame->height = h;
    rc = av_frame_get_buffer(k->frame, 0);
    if (rc < 0)
        return av_fail(err, "frame buffer", rc);

    k->st = avformat_new_stream(k->oc, NULL);
    if (!k->st) {
        set_err(err, "encoder error: out of memory");
        return -EIO;
    }
    k->st->time_base = (AVRational){ 1, 1000 };
    k->st->avg_frame_rate = cc->framerate;
    rc = avcodec_parameters_from_context(k->st->codecpar, cc);
    if (rc < 0)
        return av_fail(err, "stream parameters", rc);

    enum { IOBUF = 16384 };
    unsigned char *iobuf = av_malloc(IOBUF);
    if (!iobuf) {
        set_err(err, "encoder error: out of memory");
        return -EIO;
    }
    k->avio = avio_alloc_context(iobuf, IOBUF, 1, &k->mem, NULL, memio_write, memio_seek);
    if (!k->avio) {
        av_free(iobuf);
        set_err(err, "encoder error: out of memory");
        return -EIO;
    }
    k->oc->pb = k->avio;
    k->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    rc = avformat_write_header(k->oc, NULL);
    if (rc < 0)
        return av_fail(err, "webm header", rc);
    k->header_written = true;
    return 0;
}

/* Moves every packet the encoder has ready into the muxer. */
static int drain(clip_t *k, char *err)
{
    for (;;) {
        int rc = avcodec_receive_packet(k->cc, k->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return av_fail(err, "encode", rc);
        /* The muxer derives the clip's duration from pts + duration of the
         * last block, so every packet must say it lasts one frame. */
        if (k->pkt->duration <= 0)
            k->pkt->duration = 1;
        k->pkt->stream_index = 0;
        av_packet_rescale_ts(k->pkt, k->cc->time_base, k->st->time_base);
        rc = av_interleaved_write_frame(k->oc, k->pkt);
        av_packet_unref(k->pkt);
        if (rc < 0)
            return av_fail(err, "mux", rc);
    }
}

/* JPEG (JFIF) is full-range BT.601; VP8 players expect limited range:
 * Y 0..255 -> 16..235 and Cb/Cr 0..255 -> 16..240 around 128. The scales
 * 219/255 and 224/255 are taken as 220/256 and 225/256: both ends still
 * land exactly, and no value moves by more than one step from the exact
 * rounding, while the 8-bit shift lets the compiler work 16 pixels at a
 * time (GNU vector extensions) where a table lookup goes byte by byte.
 * swscale is no help here: for same-size, same-format planes it copies and
 * ignores the range. */
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));

/* Both maps are v -> (v * mul + add) >> 8 with everything non-negative:
 * luma 16 + ((v * 220 + 128) >> 8), so add = 128 + 16 * 256; chroma
 * 128 + floor(((v - 128) * 225 + 128) / 256), so add = 128 + 128 * 256 -
 * 128 * 225. The largest sum, 255 * 225 + 4096, fits 16 unsigned bits. */
#define LUMA_MUL 220u
#define LUMA_ADD (128u + 16u * 256u)
#define CHROMA_MUL 225u
#define CHROMA_ADD (128u + 128u * 256u - 128u * 225u)

static void limited_range_plane(uint8_t *p, int stride, int w, int h, unsigned mul, unsigned add)
{
    for (int y = 0; y < h; y++, p += stride) {
        int x = 0;
        for (; x + 16 <= w; x += 16) {
            u8x16 v;
            memcpy(&v, p + x, sizeof(v));
            u16x16 t = __builtin_convertvector(v, u16x16);
            t = (u16x16)(t * (uint16_t)mul + (uint16_t)add) >> 8;
            v = __builtin_convertvector(t, u8x16);
            memcpy(p + x, &v, sizeof(v));
        }
        for (; x < w; x++)
            p[x] = (uint8_t)((p[x] * mul + add) >> 8);
    }
}

static void to_limited_range(AVFrame *fr, int w, int h)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    limited_range_plane(fr->data[0], fr->linesize[0], w, h, LUMA_MUL, LUMA_ADD);
    limited_range_plane(fr->data[1], fr->linesize[1], cw, ch, CHROMA_MUL, CHROMA_ADD);
    limited_range_plane(fr->data[2], fr->linesize[2], cw, ch, CHROMA_MUL, CHROMA_ADD);
}

/* Decodes frame i's JPEG into the given planes. (TJFLAG_FASTDCT was tried:
 * no measurable gain over libjpeg-turbo's SIMD accurate IDCT, so no.) */
static int tj_decode(tjhandle tj, const ym_rbuf_t *r, size_t i, unsigned char **planes, int *strides,
                     int w, int h, char *err)
{
    /* libjpeg's warnings cover both harmless oddities and real damage
     * (a truncated file is "decoded" with the rest painted grey): only
     * stray bytes between markers are let through. */
    if (tjDecompressToYUVPlanes(tj, (const unsigned char *)r->data, r->len, planes, w, strides, h, 0) != 0) {
        const char *msg = tjGetErrorStr2(tj);
        if (tjGetErrorCode(tj) == TJERR_FATAL || !msg || !strstr(msg, "extraneous bytes")) {
            jpeg_err(err, i + 1, msg);
            return -EINVAL;
        }
    }
    return 0;
}

/* Decodes frame i into k->frame (YUV 4:2:0, limited range). */
static int decode_frame(clip_t *k, const ym_rbuf_t *r, size_t i, int w, int h, char *err)
{
    int jw = 0, jh = 0, subsamp = -1, cs = -1;
    if (tjDecompressHeader3(k->tj, (const unsigned char *)r->data, r->len, &jw, &jh, &subsamp, &cs) != 0) {
        jpeg_err(err, i + 1, tjGetErrorStr2(k->tj));
        return -EINVAL;
    }
    int fmt = tj_pix_fmt(subsamp);
    if (fmt == AV_PIX_FMT_NONE || jw != w || jh != h) {
        set_err(err, "frame %zu: unsupported JPEG layout", i + 1);
        return -EINVAL;
    }
    int rc = av_frame_make_writable(k->frame);
    if (rc < 0)
        return av_fail(err, "frame buffer", rc);
    k->frame->pts = (int64_t)i;

    /* 4:2:0 (what browsers' canvas.toDataURL produces) has the encoder's
     * layout already: decode straight into the frame and fix the range in
     * place, with no intermediate planes and no pixel converter. */
    if (subsamp == TJSAMP_420) {
        unsigned char *dst[3] = { k->frame->data[0], k->frame->data[1], k->frame->data[2] };
        int dst_stride[3] = { k->frame->linesize[0], k->frame->linesize[1], k->frame->linesize[2] };
        rc = tj_decode(k->tj, r, i, dst, dst_stride, w, h, err);
        if (rc)
            return rc;
        to_limited_range(k->frame, w, h);
        return 0;
    }

    int ncomp = subsamp == TJSAMP_GRAY ? 1 : 3;
    unsigned char *planes[3] = { NULL, NULL, NULL };
    int strides[3] = { 0, 0, 0 };
    size_t sizes[3] = { 0, 0, 0 }, total = 0;
    for (int c = 0; c < ncomp; c++) {
        strides[c] = tjPlaneWidth(c, w, subsamp);
        int ph = tjPlaneHeight(c, h, subsamp);
        if (strides[c] <= 0 || ph <= 0) {
            set_err(err, "frame %zu: unsupported JPEG layout", i + 1);
            return -EINVAL;
        }
        sizes[c] = (size_t)strides[c] * (size_t)ph;
        total += sizes[c];
    }
    if (total > k->planes_cap) {
        free(k->planes);
        k->planes = ym_xmalloc(total);
        k->planes_cap = total;
    }
    for (int c = 0, off = 0; c < ncomp; off += (int)sizes[c], c++)
        planes[c] = k->planes + off;

    rc = tj_decode(k->tj, r, i, planes, strides, w, h, err);
    if (rc)
        return rc;

    if (!k->sws || k->sws_src_fmt != fmt) {
        sws_freeContext(k->sws);
        k->sws = sws_getContext(w, h, fmt, w, h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (!k->sws) {
            set_err(err, "encoder error: no pixel converter");
            return -EIO;
        }
        k->sws_src_fmt = fmt;
        /* JPEG (JFIF) is full-range BT.601; VP8 players expect limited range. */
        const int *coefs = sws_getCoefficients(SWS_CS_ITU601);
        sws_setColorspaceDetails(k->sws, coefs, 1, coefs, 0, 0, 1 << 16, 1 << 16);
    }
    const uint8_t *src[4] = { planes[0], planes[1], planes[2], NULL };
    int src_stride[4] = { strides[0], strides[1], strides[2], 0 };
    sws_scale(k->sws, src, src_stride, 0, h, k->frame->data, k->frame->linesize);
    return 0;
}

/* libvpx logs its version at "info" level for every clip it opens; a
 * server would print one line per clip. libav's level is process-wide, and
 * this layer is yoom's only libav user. */
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void quiet_libav(void)
{
    if (av_log_get_level() > AV_LOG_WARNING)
        av_log_set_level(AV_LOG_WARNING);
}

static int encode_clip(const ym_media_config_t *c, const ym_media_frames_t *f, ym_buf_t *webm, char *err)
{
    pthread_once(&quiet_once, quiet_libav);
    uint64_t t0 = ym_now_ms();
    clip_t k = { 0 };
    int w = 0, h = 0, rc;
    k.tj = tjInitDecompress();
    if (!k.tj) {
        set_err(err, "JPEG decoder unavailable");
        rc = -EIO;
        goto done;
    }
    rc = validate_with(k.tj, c, f, &w, &h, err);
    if (rc)
        goto done;
    rc = open_output(&k, c, f->n, w, h, err);
    if (rc)
        goto done;
    for (size_t i = 0; i < f->n; i++) {
        /* A clip that takes too long (a flood of large frames on a slow
         * machine) gives way instead of holding a worker thread. */
        if (ym_now_ms() - t0 > c->timeout_ms) {
            set_err(err, "timeout");
            rc = -ETIMEDOUT;
            goto done;
        }
        rc = decode_frame(&k, f->f[i], i, w, h, err);
        if (rc)
            goto done;
        rc = avcodec_send_frame(k.cc, k.frame);
        if (rc < 0) {
            rc = av_fail(err, "encode", rc);
            goto done;
        }
        rc = drain(&k, err);
        if (rc)
            goto done;
    }
    rc = avcodec_send_frame(k.cc, NULL);
    if (rc < 0) {
        rc = av_fail(err, "flush", rc);
        goto done;
    }
    rc = drain(&k, err);
    if (rc)
        goto done;
    rc = av_write_trailer(k.oc);
    if (rc < 0) {
        rc = av_fail(err, "webm trailer", rc);
        goto done;
    }
    avio_flush(k.avio);
    if (k.avio->error < 0) {
        rc = av_fail(err, "write", k.avio->error);
        goto done;
    }
    ym_buf_append(webm, k.mem.buf.data, k.mem.buf.len);
    rc = 0;
done:
    clip_free(&k);
    return rc;
}

int ym_media_encode_sync(const ym_media_config_t *cfg, const ym_media_frames_t *frames,
                         ym_buf_t *webm, char err[YM_MEDIA_ERR_LEN])
{
    ym_media_config_t c = effective_config(cfg);
    err[0] = '\0';
    return encode_clip(&c, frames, webm, err);
}

/* ---- the asynchronous encoder --------------------------------------------- */

typedef struct job job_t;

struct ym_media_encoder {
    uv_loop_t *loop;
    ym_media_config_t cfg;
    job_t *jobs;              /* queued or running, for cancellation */
    unsigned pending;
    unsigned dispatching;     /* callbacks running right now */
    bool closing;
};

struct job {
    uv_work_t req;
    ym_media_encoder_t *enc;
    job_t *prev, *next;
    ym_media_frames_t *frames;
    ym_media_done_cb cb;
    void *ud;
    ym_buf_t webm;
    int rc;
    char err[YM_MEDIA_ERR_LEN];
};

ym_media_encoder_t *ym_media_encoder_new(uv_loop_t *loop, const ym_media_config_t *cfg)
{
    ym_media_encoder_t *enc = ym_xcalloc(1, sizeof(*enc));
    enc->loop = loop;
    enc->cfg = effective_config(cfg);
    return enc;
}

unsigned ym_media_encoder_pending(const ym_media_encoder_t *enc)
{
    return enc->pending;
}

static void maybe_free_encoder(ym_media_encoder_t *enc)
{
    if (enc->closing && enc->pending == 0 && enc->dispatching == 0)
        free(enc);
}

/* Worker thread: touches only the job and the encoder's immutable cfg. */
static void work_cb(uv_work_t *req)
{
    job_t *j = YM_CONTAINER_OF(req, job_t, req);
    j->rc = encode_clip(&j->enc->cfg, j->frames, &j->webm, j->err);
}

static void after_work_cb(uv_work_t *req, int status)
{
    job_t *j = YM_CONTAINER_OF(req, job_t, req);
    ym_media_encoder_t *enc = j->enc;
    if (j->prev)
        j->prev->next = j->next;
    else
        enc->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    enc->pending--;

    const char *err = NULL;
    ym_rbuf_t *webm = NULL, *poster = NULL;
    if (status == UV_ECANCELED || enc->closing)
        err = "cancelled";
    else if (j->rc)
        err = j->err[0] ? j->err : "encoding failed";
    else {
        webm = ym_rbuf_from_buf(&j->webm);
        /* The rbuf refcount is not atomic: the poster's reference is taken
         * here, on the loop thread, not in the worker. */
        poster = ym_rbuf_ref(j->frames->f[0]);
    }
    ym_media_frames_free(j->frames);
    j->frames = NULL;

    enc->dispatching++;
    j->cb(err, webm, poster, j->ud);
    enc->dispatching--;

    ym_buf_free(&j->webm);
    free(j);
    maybe_free_encoder(enc);
}

int ym_media_encode(ym_media_encoder_t *enc, ym_media_frames_t *frames, ym_media_done_cb cb, void *ud)
{
    if (enc->closing) {
        ym_media_frames_free(frames);
        return -ECANCELED;
    }
    if (enc->pending >= enc->cfg.max_queue) {
        ym_media_frames_free(frames);
        return -EBUSY;
    }
    job_t *j = ym_xcalloc(1, sizeof(*j));
    j->enc = enc;
    j->frames = frames;
    j->cb = cb;
    j->ud = ud;
    int rc = uv_queue_work(enc->loop, &j->req, work_cb, after_work_cb);
    if (rc) {
        ym_media_frames_free(frames);
        free(j);
        return rc;
    }
    j->next = enc->jobs;
    if (enc->jobs)
        enc->jobs->prev = j;
    enc->jobs = j;
    enc->pending++;
    return 0;
}

void ym_media_encoder_close(ym_media_encoder_t *enc)
{
    if (!enc || enc->closing)
        return;
    enc->closing = true;
    /* uv_cancel fails (EBUSY) for jobs already running; they finish and
     * report "cancelled" from after_work_cb. */
    for (job_t *j = enc->jobs; j; j = j->next)
        uv_cancel((uv_req_t *)&j->req);
    maybe_free_encoder(enc);
}

/* ---- data URIs ------------------------------------------------------------ */

int ym_media_data_uri_decode(const char *uri, size_t len, const char *mime, size_t max_bytes,
                             ym_buf_t *out, const char **reason)
{
    const char *why = NULL;
    int rc = -EINVAL;
    size_t mlen = strlen(mime);
    size_t plen = 5 + mlen + 8; /* "data:" mime ";base64," */
    if (len < plen || memcmp(uri, "data:", 5) != 0 || memcmp(uri + 5, mime, mlen) != 0 ||
        memcmp(uri + 5 + mlen, ";base64,", 8) != 0) {
        why = "not a base64 data URI of the expected type";
        goto done;
    }
    const char *b64 = uri + plen;
    size_t n = len - plen;
    if (n == 0 || n % 4 != 0) {
        why = "bad base64 length";
        goto done;
    }
    size_t decoded = n / 4 * 3 - (b64[n - 1] == '=') - (b64[n - 2] == '=');
    if (decoded > max_bytes) {
        why = "too large";
        rc = -E2BIG;
        goto done;
    }
    size_t start = out->len;
    if (ym_b64_decode(out, b64, n) != 0) {
        out->len = start; /* drop the partial output */
        why = "bad base64";
        goto done;
    }
    rc = 0;
done:
    if (reason)
        *reason = why;
    return rc;
}

void ym_media_data_uri_append(ym_buf_t *out, const char *mime, const void *p, size_t n)
{
    ym_buf_reserve(out, 5 + strlen(mime) + 8 + ym_b64_encoded_len(n));
    ym_buf_append_str(out, "data:");
    ym_buf_append_str(out, mime);
    ym_buf_append_str(out, ";base64,");
    ym_b64_encode(out, p, n);
}
