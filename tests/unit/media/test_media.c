/* test_media.c: clip encoding. JPEGs are made here with libturbojpeg from
 * synthetic moving gradients; every WebM is read back with libavformat from
 * memory and decoded, so the assertions are about what a player would see. */
#include "test.h"

#include "media/ym_media.h"
#include "base/ym_codec.h"

#include <errno.h>

#include <turbojpeg.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

/* ---- helpers -------------------------------------------------------------- */

/* A w x h JPEG of a gradient that moves with t, appended to out. */
static void make_jpeg(ym_buf_t *out, int w, int h, int t, int quality, int subsamp)
{
    unsigned char *rgb = malloc((size_t)w * (size_t)h * 3);
    ASSERT(rgb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            p[0] = (unsigned char)(x * 255 / w + t * 12);
            p[1] = (unsigned char)(y * 255 / h + t * 7);
            p[2] = (unsigned char)(((x - t * 9) * (x - t * 9) + y * y) >> 6);
        }
    tjhandle tj = tjInitCompress();
    ASSERT(tj);
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    ASSERT_EQ(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &len, subsamp, quality, 0), 0);
    ym_buf_append(out, jpeg, len);
    tjFree(jpeg);
    tjDestroy(tj);
    free(rgb);
}

static ym_media_frames_t *make_frames(const ym_media_config_t *cfg, int n, int w, int h, int subsamp)
{
    ym_media_frames_t *f = ym_media_frames_new(cfg);
    char err[YM_MEDIA_ERR_LEN];
    for (int i = 0; i < n; i++) {
        ym_buf_t j = YM_BUF_INIT;
        make_jpeg(&j, w, h, i, 40, subsamp);
        ASSERT_EQ(ym_media_frames_add(f, j.data, j.len, err), 0);
        ym_buf_free(&j);
    }
    return f;
}

/* A config that lets a frames list hold more than an encoder accepts. */
static ym_media_config_t roomy_config(void)
{
    ym_media_config_t c;
    ym_media_config_default(&c);
    c.max_frames = YM_MEDIA_FRAMES_CAP;
    c.max_width = c.max_height = 1024;
    return c;
}

typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
} reader_t;

static int reader_read(void *opaque, uint8_t *buf, int n)
{
    reader_t *r = opaque;
    size_t left = r->len - r->pos;
    if (left == 0)
        return AVERROR_EOF;
    size_t k = YM_MIN(left, (size_t)n);
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int)k;
}

static int64_t reader_seek(void *opaque, int64_t off, int whence)
{
    reader_t *r = opaque;
    if (whence & AVSEEK_SIZE)
        return (int64_t)r->len;
    int64_t base = (whence & ~AVSEEK_FORCE) == SEEK_CUR ? (int64_t)r->pos
                 : (whence & ~AVSEEK_FORCE) == SEEK_END ? (int64_t)r->len : 0;
    if (base + off < 0 || base + off > (int64_t)r->len)
        return -1;
    r->pos = (size_t)(base + off);
    return (int64_t)r->pos;
}

typedef struct probe {
    enum AVCodecID codec;
    int width, height;
    int packets, keyframes, decoded;
    int64_t duration_ms;     /* the container's Duration */
    int64_t end_ms;          /* max(pts + duration) over the packets */
    int64_t first_pts_ms;
    int64_t pts_ms[YM_MEDIA_FRAMES_CAP];  /* of the first packets, in order */
    int center[3];           /* Y, U, V at the middle of the last decoded frame */
} probe_t;

/* Demuxes and decodes a WebM held in memory. */
static probe_t probe_webm(const void *data, size_t len)
{
    probe_t pr = { .codec = AV_CODEC_ID_NONE, .first_pts_ms = -1 };
    reader_t rd = { data, len, 0 };
    uint8_t *iobuf = av_malloc(4096);
    AVIOContext *avio = avio_alloc_context(iobuf, 4096, 0, &rd, reader_read, NULL, reader_seek);
    ASSERT(avio);
    AVFormatContext *ic = avformat_alloc_context();
    ic->pb = avio;
    ASSERT_EQ(avformat_open_input(&ic, NULL, NULL, NULL), 0);
    ASSERT(avformat_find_stream_info(ic, NULL) >= 0);
    ASSERT(strstr(ic->iformat->name, "webm") != NULL);
    ASSERT_EQ(ic->nb_streams, 1);
    AVStream *st = ic->streams[0];
    pr.codec = st->codecpar->codec_id;
    pr.width = st->codecpar->width;
    pr.height = st->codecpar->height;
    pr.duration_ms = ic->duration == AV_NOPTS_VALUE ? -1 : ic->duration / 1000;

    const AVCodec *dec = avcodec_find_decoder(pr.codec);
    ASSERT(dec);
    AVCodecContext *dc = avcodec_alloc_context3(dec);
    ASSERT_EQ(avcodec_parameters_to_context(dc, st->codecpar), 0);
    ASSERT_EQ(avcodec_open2(dc, dec, NULL), 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    for (;;) {
        int rc = av_read_frame(ic, pkt);
        if (rc < 0) {
            ASSERT_EQ(avcodec_send_packet(dc, NULL), 0);
        } else {
            pr.packets++;
            if (pkt->flags & AV_PKT_FLAG_KEY)
                pr.keyframes++;
            int64_t pts = av_rescale_q(pkt->pts, st->time_base, (AVRational){ 1, 1000 });
            int64_t dur = av_rescale_q(pkt->duration, st->time_base, (AVRational){ 1, 1000 });
            if (pr.first_pts_ms < 0)
                pr.first_pts_ms = pts;
            if (pr.packets <= YM_MEDIA_FRAMES_CAP)
                pr.pts_ms[pr.packets - 1] = pts;
            pr.end_ms = YM_MAX(pr.end_ms, pts + dur);
            ASSERT_EQ(avcodec_send_packet(dc, pkt), 0);
            av_packet_unref(pkt);
        }
        while (avcodec_receive_frame(dc, fr) == 0) {
            ASSERT_EQ(fr->width, pr.width);
            ASSERT_EQ(fr->height, pr.height);
            ASSERT_EQ(fr->format, AV_PIX_FMT_YUV420P);
            int cx = fr->width / 2, cy = fr->height / 2;
            pr.center[0] = fr->data[0][cy * fr->linesize[0] + cx];
            pr.center[1] = fr->data[1][cy / 2 * fr->linesize[1] + cx / 2];
            pr.center[2] = fr->data[2][cy / 2 * fr->linesize[2] + cx / 2];
            pr.decoded++;
        }
        if (rc < 0)
            break;
    }
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    avformat_close_input(&ic);
    av_freep(&avio->buffer);
    avio_context_free(&avio);
    return pr;
}

/* Encodes n synthetic frames and checks the clip a player would see. */
static void check_clip(const ym_media_config_t *cfg, int n, int w, int h, int subsamp)
{
    ym_media_config_t c = cfg ? *cfg : roomy_config();
    ym_media_frames_t *f = make_frames(&c, n, w, h, subsamp);
    ym_buf_t webm = YM_BUF_INIT;
    char err[YM_MEDIA_ERR_LEN];
    int rc = ym_media_encode_sync(&c, f, &webm, err);
    if (rc)
        TEST_FAIL_("encode failed: %d %s", rc, err);
    ASSERT(webm.len > 4);
    ASSERT_MEM_EQ(webm.data, 4, "\x1A\x45\xDF\xA3", 4); /* EBML magic */
    probe_t pr = probe_webm(webm.data, webm.len);
    ASSERT_EQ(pr.codec, AV_CODEC_ID_VP8);
    ASSERT_EQ(pr.width, w);
    ASSERT_EQ(pr.height, h);
    ASSERT_EQ(pr.packets, n);
    ASSERT_EQ(pr.decoded, n);
    ASSERT_EQ(pr.keyframes, 1);
    ASSERT_EQ(pr.first_pts_ms, 0);
    /* Evenly spaced frames: each shows for frame_ms, so the loop is smooth. */
    for (int i = 0; i < n; i++)
        ASSERT_EQ(pr.pts_ms[i], (int64_t)i * c.frame_ms);
    int64_t want = (int64_t)n * c.frame_ms;
    /* Within one frame, as the brief allows; in practice it is exact. */
    if (pr.duration_ms < want - (int64_t)c.frame_ms || pr.duration_ms > want + (int64_t)c.frame_ms)
        TEST_FAIL_("duration %" PRId64 " ms, want %" PRId64, pr.duration_ms, want);
    ASSERT_EQ(pr.end_ms, want);
    ym_buf_free(&webm);
    ym_media_frames_free(f);
}

/* Expects the clip to be refused with exactly this reason. */
static void expect_reject(const ym_media_config_t *cfg, ym_media_frames_t *f, int want_rc, const char *want)
{
    ym_buf_t webm = YM_BUF_INIT;
    char err[YM_MEDIA_ERR_LEN];
    int rc = ym_media_encode_sync(cfg, f, &webm, err);
    ASSERT_EQ(rc, want_rc);
    ASSERT_STR_EQ(err, want);
    ASSERT_EQ(webm.len, 0);
    ASSERT(webm.data == NULL);
    /* ym_media_validate gives the same answer without encoding. */
    if (want_rc != -ETIMEDOUT && strstr(want, "truncated") == NULL) {
        char err2[YM_MEDIA_ERR_LEN];
        ASSERT_EQ(ym_media_validate(cfg, f, NULL, NULL, err2), want_rc);
        ASSERT_STR_EQ(err2, want);
    }
}

static void add_jpeg(ym_media_frames_t *f, int w, int h, int t)
{
    ym_buf_t j = YM_BUF_INIT;
    char err[YM_MEDIA_ERR_LEN];
    make_jpeg(&j, w, h, t, 40, TJSAMP_420);
    ASSERT_EQ(ym_media_frames_add(f, j.data, j.len, err), 0);
    ym_buf_free(&j);
}

/* ---- encoding ------------------------------------------------------------- */

TEST(ten_frames_200x200_is_one_second_of_vp8)
{
    ym_media_config_t c;
    ym_media_config_default(&c);
    ASSERT_EQ(c.max_frames, 10);
    ASSERT_EQ(c.frame_ms, 100);
    ASSERT_EQ(c.max_width, 640);
    ASSERT_EQ(c.max_total_bytes, 3u << 20);
    check_clip(&c, 10, 200, 200, TJSAMP_420);
}

TEST(one_frame_clip)
{
    check_clip(NULL, 1, 200, 200, TJSAMP_420);
}

TEST(frame_ms_setting_sets_the_duration)
{
    ym_media_config_t c = roomy_config();
    c.frame_ms = 250;
    check_clip(&c, 3, 120, 90, TJSAMP_420);
    c.frame_ms = 40;
    check_clip(&c, 20, 64, 64, TJSAMP_420);
}

TEST(other_subsamplings_odd_sizes_and_grey)
{
    check_clip(NULL, 4, 200, 200, TJSAMP_444);
    check_clip(NULL, 4, 160, 120, TJSAMP_422);
    check_clip(NULL, 3, 201, 149, TJSAMP_420);
    check_clip(NULL, 3, 99, 77, TJSAMP_GRAY);
    check_clip(NULL, 2, 640, 640, TJSAMP_420);
}

/* A flat colour must come out as the same colour: JPEG holds full-range
 * BT.601, a VP8 player reads limited range, so the encoder has to rescale
 * (Y 0..255 -> 16..235, chroma -> 16..240). Skipping that step shows dark
 * greys too dark and bright ones blown out (#336699 came out as #28629c). */
static void check_flat_colour(int subsamp, const uint8_t rgb[3], const int want[3])
{
    enum { W = 64, H = 48, N = 3 };
    unsigned char *px = malloc(W * H * 3);
    ASSERT(px);
    for (int i = 0; i < W * H; i++)
        memcpy(px + i * 3, rgb, 3);
    tjhandle tj = tjInitCompress();
    ASSERT(tj);
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    ASSERT_EQ(tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpeg, &len, subsamp, 95, 0), 0);
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    char err[YM_MEDIA_ERR_LEN];
    for (int i = 0; i < N; i++)
        ASSERT_EQ(ym_media_frames_add(f, jpeg, len, err), 0);
    ym_buf_t webm = YM_BUF_INIT;
    ASSERT_EQ(ym_media_encode_sync(NULL, f, &webm, err), 0);
    probe_t pr = probe_webm(webm.data, webm.len);
    ASSERT_EQ(pr.decoded, N);
    int planes = subsamp == TJSAMP_GRAY ? 1 : 3;
    for (int c = 0; c < planes; c++)
        if (abs(pr.center[c] - want[c]) > 2)
            TEST_FAIL_("subsampling %d, rgb %d,%d,%d: plane %d is %d, want %d", subsamp, rgb[0], rgb[1],
                       rgb[2], c, pr.center[c], want[c]);
    ym_buf_free(&webm);
    ym_media_frames_free(f);
    tjFree(jpeg);
    tjDestroy(tj);
    free(px);
}

TEST(colours_are_rescaled_to_limited_range)
{
    /* want: BT.601 Y'CbCr of the colour, full range, then scaled to limited. */
    static const struct {
        uint8_t rgb[3];
        int want[3];
    } cases[] = {
        { { 0, 0, 0 }, { 16, 128, 128 } },
        { { 255, 255, 255 }, { 235, 128, 128 } },
        { { 51, 102, 153 }, { 95, 158, 102 } },
        { { 255, 0, 0 }, { 81, 90, 240 } },
        { { 128, 128, 128 }, { 126, 128, 128 } },
    };
    static const int subsamps[] = { TJSAMP_420, TJSAMP_444, TJSAMP_422, TJSAMP_440 };
    for (size_t s = 0; s < sizeof(subsamps) / sizeof(subsamps[0]); s++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            check_flat_colour(subsamps[s], cases[i].rgb, cases[i].want);
    /* Grey JPEGs carry only Y. */
    check_flat_colour(TJSAMP_GRAY, cases[4].rgb, cases[4].want);
    check_flat_colour(TJSAMP_GRAY, cases[0].rgb, cases[0].want);
}

/* The poster is the caller's first JPEG; the encoder must not depend on
 * frames staying alive or change them (sync: frames stay the caller's). */
TEST(encode_sync_leaves_frames_alone)
{
    ym_media_config_t c = roomy_config();
    ym_media_frames_t *f = make_frames(&c, 3, 50, 50, TJSAMP_420);
    size_t len0;
    const void *p0 = ym_media_frames_get(f, 0, &len0);
    ym_buf_t copy = YM_BUF_INIT;
    ym_buf_append(&copy, p0, len0);
    ym_buf_t webm = YM_BUF_INIT;
    char err[YM_MEDIA_ERR_LEN];
    ASSERT_EQ(ym_media_encode_sync(&c, f, &webm, err), 0);
    ASSERT_EQ(ym_media_frames_count(f), 3);
    p0 = ym_media_frames_get(f, 0, &len0);
    ASSERT_MEM_EQ(p0, len0, copy.data, copy.len);
    size_t l;
    ASSERT(ym_media_frames_get(f, 3, &l) == NULL);
    ASSERT_EQ(l, 0);
    ym_buf_free(&webm);
    ym_buf_free(&copy);
    ym_media_frames_free(f);
}

/* ---- validation ----------------------------------------------------------- */

TEST(zero_frames_rejected)
{
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    expect_reject(NULL, f, -EINVAL, "no frames");
    ym_media_frames_free(f);
}

TEST(too_many_frames_rejected)
{
    ym_media_config_t roomy = roomy_config();
    ym_media_frames_t *f = make_frames(&roomy, 11, 32, 32, TJSAMP_420);
    expect_reject(NULL, f, -E2BIG, "too many frames (11, max 10)");
    ym_media_frames_free(f);

    /* The list itself stops at its limit, before copying anything. */
    f = make_frames(NULL, 10, 32, 32, TJSAMP_420);
    char err[YM_MEDIA_ERR_LEN];
    ASSERT_EQ(ym_media_frames_add(f, "\xFF\xD8\xFF", 3, err), -E2BIG);
    ASSERT_STR_EQ(err, "too many frames (max 10)");
    ASSERT_EQ(ym_media_frames_count(f), 10);
    ym_media_frames_free(f);

    /* max_frames is capped at 20 whatever the setting says. */
    ym_media_config_t c = roomy_config();
    c.max_frames = 1000;
    f = make_frames(&c, 20, 16, 16, TJSAMP_420);
    ASSERT_EQ(ym_media_frames_add(f, "\xFF\xD8\xFF", 3, err), -E2BIG);
    ASSERT_STR_EQ(err, "too many frames (max 20)");
    ym_media_frames_free(f);
}

TEST(wrong_magic_rejected)
{
    ym_media_frames_t *f = make_frames(NULL, 2, 32, 32, TJSAMP_420);
    char err[YM_MEDIA_ERR_LEN];
    ASSERT_EQ(ym_media_frames_add(f, "\x89PNG\r\n\x1a\n", 8, err), -EINVAL);
    ASSERT_STR_EQ(err, "frame 3: not a JPEG");
    ASSERT_EQ(ym_media_frames_add(f, "\xFF\xD8", 2, err), -EINVAL);
    ASSERT_STR_EQ(err, "frame 3: not a JPEG");
    ASSERT_EQ(ym_media_frames_add(f, "", 0, err), -EINVAL);
    ASSERT_STR_EQ(err, "frame 3: not a JPEG");
    ASSERT_EQ(ym_media_frames_count(f), 2);
    ym_media_frames_free(f);
}

TEST(truncated_jpeg_rejected)
{
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    add_jpeg(f, 200, 200, 0);
    ym_buf_t j = YM_BUF_INIT;
    make_jpeg(&j, 200, 200, 1, 40, TJSAMP_420);
    char err[YM_MEDIA_ERR_LEN];
    /* Cut in the middle of the entropy-coded data: the header is fine,
     * libjpeg only warns and would paint the rest grey. */
    ASSERT_EQ(ym_media_frames_add(f, j.data, j.len / 2, err), 0);
    expect_reject(NULL, f, -EINVAL, "frame 2: truncated JPEG");
    ym_media_frames_free(f);

    /* Cut inside the headers. */
    f = ym_media_frames_new(NULL);
    ASSERT_EQ(ym_media_frames_add(f, j.data, 40, err), 0);
    ym_buf_t webm = YM_BUF_INIT;
    ASSERT_EQ(ym_media_encode_sync(NULL, f, &webm, err), -EINVAL);
    ASSERT(strncmp(err, "frame 1: ", 9) == 0);
    ASSERT_EQ(webm.len, 0);
    ym_media_frames_free(f);
    ym_buf_free(&j);
}

TEST(mismatched_sizes_rejected)
{
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    add_jpeg(f, 200, 200, 0);
    add_jpeg(f, 320, 240, 1);
    expect_reject(NULL, f, -EINVAL, "frame 2: size 320x240 differs from 200x200");
    ym_media_frames_free(f);
}

TEST(oversized_dimensions_rejected)
{
    ym_media_config_t roomy = roomy_config();
    ym_media_frames_t *f = make_frames(&roomy, 1, 641, 100, TJSAMP_420);
    expect_reject(NULL, f, -E2BIG, "frame 1: size 641x100 exceeds 640x640");
    ym_media_frames_free(f);

    ym_media_config_t c;
    ym_media_config_default(&c);
    c.max_width = 100;
    c.max_height = 50;
    f = make_frames(&roomy, 2, 100, 50, TJSAMP_420);
    add_jpeg(f, 100, 51, 3);
    expect_reject(&c, f, -E2BIG, "frame 3: size 100x51 exceeds 100x50");
    ym_media_frames_free(f);
}

TEST(total_bytes_capped)
{
    ym_buf_t j = YM_BUF_INIT;
    make_jpeg(&j, 200, 200, 0, 90, TJSAMP_444);
    ym_media_config_t c;
    ym_media_config_default(&c);
    c.max_total_bytes = j.len * 2 + 10;
    char err[YM_MEDIA_ERR_LEN];
    ym_media_frames_t *f = ym_media_frames_new(&c);
    ASSERT_EQ(ym_media_frames_add(f, j.data, j.len, err), 0);
    ASSERT_EQ(ym_media_frames_add(f, j.data, j.len, err), 0);
    ASSERT_EQ(ym_media_frames_add(f, j.data, j.len, err), -E2BIG);
    char want[YM_MEDIA_ERR_LEN];
    snprintf(want, sizeof(want), "clip too large (max %zu bytes)", c.max_total_bytes);
    ASSERT_STR_EQ(err, want);
    ASSERT_EQ(ym_media_frames_count(f), 2);

    /* An encoder with a tighter setting than the list refuses the clip. */
    ym_media_config_t tight = c;
    tight.max_total_bytes = j.len + 1;
    snprintf(want, sizeof(want), "clip too large (max %zu bytes)", tight.max_total_bytes);
    expect_reject(&tight, f, -E2BIG, want);
    ym_media_frames_free(f);
    ym_buf_free(&j);
}

/* Random damage must end in a clip or a "frame N: ..." error, never a crash
 * (ASan watches the decoder and the error paths). */
TEST(corrupted_jpegs_never_crash)
{
    ym_buf_t j = YM_BUF_INIT;
    make_jpeg(&j, 48, 48, 2, 60, TJSAMP_420);
    unsigned seed = 12345;
    int rejected = 0;
    for (int round = 0; round < 60; round++) {
        ym_buf_t bad = YM_BUF_INIT;
        ym_buf_append(&bad, j.data, j.len);
        for (int k = 0; k < 1 + round % 5; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = 3 + (seed >> 8) % (bad.len - 3);
            bad.data[pos] = (char)(seed >> 3);
        }
        if (round % 7 == 0)
            bad.len = 3 + (seed >> 4) % (bad.len - 3);
        ym_media_frames_t *f = ym_media_frames_new(NULL);
        char err[YM_MEDIA_ERR_LEN];
        ASSERT_EQ(ym_media_frames_add(f, bad.data, bad.len, err), 0);
        ym_buf_t webm = YM_BUF_INIT;
        int rc = ym_media_encode_sync(NULL, f, &webm, err);
        if (rc) {
            rejected++;
            ASSERT(rc == -EINVAL || rc == -E2BIG);
            if (strncmp(err, "frame 1: ", 9) != 0)
                TEST_FAIL_("unexpected reason: %s", err);
            ASSERT_EQ(webm.len, 0);
        } else {
            ASSERT(webm.len > 0);
        }
        ym_buf_free(&webm);
        ym_media_frames_free(f);
        ym_buf_free(&bad);
    }
    ASSERT(rejected > 0);
    ym_buf_free(&j);
}

TEST(timeout_gives_up)
{
    /* 20 frames of 640x640 at the slowest speed take far more than 1 ms, so
     * the check between frames must fire; the result is an error, not a clip. */
    ym_media_config_t c = roomy_config();
    c.timeout_ms = 1;
    c.cpu_used = 0;
    ym_media_frames_t *f = make_frames(&c, 20, 640, 640, TJSAMP_420);
    expect_reject(&c, f, -ETIMEDOUT, "timeout");
    ym_media_frames_free(f);
}

/* ---- data URIs ------------------------------------------------------------ */

TEST(data_uri_roundtrip_and_strictness)
{
    ym_buf_t uri = YM_BUF_INIT, out = YM_BUF_INIT;
    const char bytes[] = "\xFF\xD8\xFF\xE0 hello";
    ym_media_data_uri_append(&uri, "image/jpeg", bytes, sizeof(bytes) - 1);
    ASSERT(strncmp(uri.data, "data:image/jpeg;base64,/9j/4CBoZWxsbw==", uri.len) == 0);
    const char *why = "unset";
    ASSERT_EQ(ym_media_data_uri_decode(uri.data, uri.len, "image/jpeg", 100, &out, &why), 0);
    ASSERT(why == NULL);
    ASSERT_MEM_EQ(out.data, out.len, bytes, sizeof(bytes) - 1);
    ym_buf_free(&out);

    static const char *const bad[] = {
        "data:image/png;base64,/9j/4A==",
        "data:IMAGE/JPEG;base64,/9j/4A==",
        "data:image/jpeg,/9j/4A==",
        "data:image/jpeg;base64,",
        "data:image/jpeg;base64,/9j/4A=",
        "data:image/jpeg;base64,/9j/ 4A==",
        "data:image/jpeg;base64,/9j/4A==\n",
        "data:image/jpeg;base64,/9j_4A==",
        "image/jpeg;base64,/9j/4A==",
        "data:image/jpeg;charset=utf-8;base64,/9j/4A==",
        "",
    };
    for (size_t i = 0; i < YM_ARRAY_LEN(bad); i++) {
        why = NULL;
        ASSERT_EQ(ym_media_data_uri_decode(bad[i], strlen(bad[i]), "image/jpeg", 100, &out, &why), -EINVAL);
        ASSERT(why != NULL);
        ASSERT_EQ(out.len, 0);
    }
    ym_buf_free(&out);

    /* Too large is known from the length: nothing is allocated. */
    ASSERT_EQ(ym_media_data_uri_decode(uri.data, uri.len, "image/jpeg", sizeof(bytes) - 2, &out, &why), -E2BIG);
    ASSERT_EQ(out.cap, 0);
    ASSERT_EQ(ym_media_data_uri_decode(uri.data, uri.len, "image/jpeg", sizeof(bytes) - 1, &out, &why), 0);
    ym_buf_free(&out);
    ym_buf_free(&uri);

    ym_media_data_uri_append(&uri, "video/webm", "\x1A\x45\xDF\xA3", 4);
    ASSERT_MEM_EQ(uri.data, uri.len, "data:video/webm;base64,GkXfow==", 31);
    ym_buf_free(&uri);
}

TEST(frames_from_data_uris)
{
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    char err[YM_MEDIA_ERR_LEN];
    for (int i = 0; i < 3; i++) {
        ym_buf_t j = YM_BUF_INIT, uri = YM_BUF_INIT;
        make_jpeg(&j, 200, 200, i, 40, TJSAMP_420);
        ym_media_data_uri_append(&uri, "image/jpeg", j.data, j.len);
        ASSERT_EQ(ym_media_frames_add_data_uri(f, uri.data, uri.len, err), 0);
        size_t len;
        const void *p = ym_media_frames_get(f, (size_t)i, &len);
        ASSERT_MEM_EQ(p, len, j.data, j.len);
        ym_buf_free(&j);
        ym_buf_free(&uri);
    }
    const char *png = "data:image/png;base64,iVBORw0KGgo=";
    ASSERT_EQ(ym_media_frames_add_data_uri(f, png, strlen(png), err), -EINVAL);
    ASSERT_STR_EQ(err, "frame 4: not a base64 data URI of the expected type");
    const char *notjpeg = "data:image/jpeg;base64,iVBORw0KGgo=";
    ASSERT_EQ(ym_media_frames_add_data_uri(f, notjpeg, strlen(notjpeg), err), -EINVAL);
    ASSERT_STR_EQ(err, "frame 4: not a JPEG");
    ASSERT_EQ(ym_media_frames_count(f), 3);
    ym_buf_t webm = YM_BUF_INIT;
    ASSERT_EQ(ym_media_encode_sync(NULL, f, &webm, err), 0);
    probe_t pr = probe_webm(webm.data, webm.len);
    ASSERT_EQ(pr.decoded, 3);
    ym_buf_free(&webm);
    ym_media_frames_free(f);

    /* The byte limit applies to the decoded size, checked up front. */
    ym_media_config_t c;
    ym_media_config_default(&c);
    c.max_total_bytes = 4;
    f = ym_media_frames_new(&c);
    const char *six = "data:image/jpeg;base64,/9j/4CBo";
    ASSERT_EQ(ym_media_frames_add_data_uri(f, six, strlen(six), err), -E2BIG);
    ASSERT_STR_EQ(err, "clip too large (max 4 bytes)");
    ym_media_frames_free(f);
}

/* ---- the asynchronous encoder --------------------------------------------- */

typedef struct result {
    int calls;
    char err[YM_MEDIA_ERR_LEN];
    size_t webm_len;
    probe_t probe;
    ym_buf_t poster;
    ym_media_encoder_t *close_me;
    ym_media_encoder_t *retry_enc;  /* try to queue another clip from the callback */
    int retry_rc;
} result_t;

static void done_cb(const char *err, ym_rbuf_t *webm, ym_rbuf_t *poster, void *ud)
{
    result_t *r = ud;
    r->calls++;
    snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
    if (err) {
        ASSERT(webm == NULL);
        ASSERT(poster == NULL);
    } else {
        ASSERT(webm && poster);
        ASSERT_EQ(webm->refs, 1);
        r->webm_len = webm->len;
        r->probe = probe_webm(webm->data, webm->len);
        ym_buf_append(&r->poster, poster->data, poster->len);
    }
    ym_rbuf_unref(webm);
    ym_rbuf_unref(poster);
    if (r->close_me) {
        ym_media_encoder_close(r->close_me);
        r->close_me = NULL;
    }
    if (r->retry_enc) {
        ym_media_encoder_t *enc = r->retry_enc;
        r->retry_enc = NULL; /* once */
        r->retry_rc = ym_media_encode(enc, make_frames(NULL, 1, 16, 16, TJSAMP_420), done_cb, r);
    }
}

TEST(async_encode_and_busy_queue)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_media_config_t c;
    ym_media_config_default(&c);
    ASSERT(c.max_queue >= 2);
    c.max_queue = 2;
    ym_media_encoder_t *enc = ym_media_encoder_new(&loop, &c);

    result_t r[3] = { 0 };
    ym_buf_t first = YM_BUF_INIT;
    make_jpeg(&first, 200, 200, 0, 40, TJSAMP_420);
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 10, 200, 200, TJSAMP_420), done_cb, &r[0]), 0);
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 5, 100, 100, TJSAMP_420), done_cb, &r[1]), 0);
    ASSERT_EQ(ym_media_encoder_pending(enc), 2);
    /* Full: refused at once, frames freed (ASan would report a leak), no callback. */
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 2, 32, 32, TJSAMP_420), done_cb, &r[2]), -EBUSY);

    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r[0].calls, 1);
    ASSERT_EQ(r[1].calls, 1);
    ASSERT_EQ(r[2].calls, 0);
    ASSERT_STR_EQ(r[0].err, "");
    ASSERT_EQ(r[0].probe.codec, AV_CODEC_ID_VP8);
    ASSERT_EQ(r[0].probe.decoded, 10);
    ASSERT_EQ(r[0].probe.width, 200);
    ASSERT_EQ(r[0].probe.end_ms, 1000);
    ASSERT_MEM_EQ(r[0].poster.data, r[0].poster.len, first.data, first.len);
    ASSERT_EQ(r[1].probe.decoded, 5);
    ASSERT_EQ(r[1].probe.width, 100);
    ASSERT_EQ(ym_media_encoder_pending(enc), 0);

    /* Room again once the queue drained. */
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 1, 16, 16, TJSAMP_420), done_cb, &r[2]), 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r[2].calls, 1);
    ASSERT_EQ(r[2].probe.decoded, 1);

    ym_media_encoder_close(enc);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    for (int i = 0; i < 3; i++)
        ym_buf_free(&r[i].poster);
    ym_buf_free(&first);
}

TEST(async_error_reaches_callback)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_media_encoder_t *enc = ym_media_encoder_new(&loop, NULL);
    result_t r = { 0 };
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    add_jpeg(f, 64, 64, 0);
    add_jpeg(f, 64, 48, 1);
    ASSERT_EQ(ym_media_encode(enc, f, done_cb, &r), 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r.calls, 1);
    ASSERT_STR_EQ(r.err, "frame 2: size 64x48 differs from 64x64");
    ym_media_encoder_close(enc);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(async_close_cancels_pending_clips)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_media_config_t c;
    ym_media_config_default(&c);
    c.max_queue = 8;
    ym_media_encoder_t *enc = ym_media_encoder_new(&loop, &c);
    result_t r[6] = { 0 };
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 4, 64, 64, TJSAMP_420), done_cb, &r[i]), 0);
    ym_media_encoder_close(enc);
    /* Whether a clip was still queued or already running, it reports "cancelled". */
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(r[i].calls, 1);
        ASSERT_STR_EQ(r[i].err, "cancelled");
    }
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

TEST(async_close_inside_callback)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_media_encoder_t *enc = ym_media_encoder_new(&loop, NULL);
    result_t r = { 0 };
    r.close_me = enc;
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 2, 32, 32, TJSAMP_420), done_cb, &r), 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r.calls, 1);
    ASSERT_STR_EQ(r.err, "");
    ASSERT_EQ(r.probe.decoded, 2);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    ym_buf_free(&r.poster);
}

TEST(callbacks_can_queue_more_until_closed)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ym_media_encoder_t *enc = ym_media_encoder_new(&loop, NULL);
    result_t r = { 0 };
    /* Open encoder: a callback queues a follow-up clip, which runs too. */
    r.retry_enc = enc;
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 1, 32, 32, TJSAMP_420), done_cb, &r), 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r.retry_rc, 0);
    ASSERT_EQ(r.calls, 2);
    ASSERT_EQ(r.probe.width, 16);
    ASSERT_STR_EQ(r.err, "");
    ym_buf_free(&r.poster);

    /* Closed with a clip in flight: enc lives until that clip's callback,
     * which gets "cancelled" and cannot queue more (frames still freed). */
    result_t r2 = { 0 };
    ASSERT_EQ(ym_media_encode(enc, make_frames(NULL, 1, 32, 32, TJSAMP_420), done_cb, &r2), 0);
    r2.retry_enc = enc;
    r2.retry_rc = 12345;
    ym_media_encoder_close(enc);
    ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ASSERT_EQ(r2.calls, 1);
    ASSERT_STR_EQ(r2.err, "cancelled");
    ASSERT_EQ(r2.retry_rc, -ECANCELED);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN(ten_frames_200x200_is_one_second_of_vp8);
    RUN(one_frame_clip);
    RUN(frame_ms_setting_sets_the_duration);
    RUN(other_subsamplings_odd_sizes_and_grey);
    RUN(colours_are_rescaled_to_limited_range);
    RUN(encode_sync_leaves_frames_alone);
    RUN(zero_frames_rejected);
    RUN(too_many_frames_rejected);
    RUN(wrong_magic_rejected);
    RUN(truncated_jpeg_rejected);
    RUN(mismatched_sizes_rejected);
    RUN(oversized_dimensions_rejected);
    RUN(total_bytes_capped);
    RUN(corrupted_jpegs_never_crash);
    RUN(timeout_gives_up);
    RUN(data_uri_roundtrip_and_strictness);
    RUN(frames_from_data_uris);
    RUN(async_encode_and_busy_queue);
    RUN(async_error_reaches_callback);
    RUN(async_close_cancels_pending_clips);
    RUN(async_close_inside_callback);
    RUN(callbacks_can_queue_more_until_closed);
    return test_report();
}
