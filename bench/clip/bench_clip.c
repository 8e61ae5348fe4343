/* bench_clip.c: one "Animate" clip, made two ways in the same run.
 *
 *   yoom  data URIs -> ym_media (libturbojpeg + libvpx + webm muxer in
 *         memory) -> data URI, on the calling thread.
 *   seed  seed 000's pipeline: decode the data URIs, write <id>-<i>.jpg into a
 *         temp folder, run `ffmpeg -i <id>-%d.jpg -filter:v setpts=2.5*PTS
 *         -vcodec libvpx -an <id>.webm`, read the file back, base64 it, delete
 *         the files.
 *
 * Both start from the same 10 JPEG data URIs (200x200, quality 40, a moving
 * gradient with texture, like seed 000's canvas captures at quality 0.4).
 * Rounds alternate between the two so that machine noise hits both alike.
 * Prints a markdown table: median wall time, the ratio, clips per second per
 * core (from CPU time, children included), clip sizes, duration and frames.
 *
 * Usage: bench_clip [rounds] [dir-to-keep-sample-clips]
 */
#include "media/ym_media.h"
#include "base/ym_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <turbojpeg.h>
#include <libavformat/avformat.h>

extern char **environ;

#define NFRAMES 10
#define SIDE 200

static double now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double children_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_clip: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Frame t of a moving gradient with some texture (so the encoders have
 * detail to spend bits on, as with a webcam), as a data URI. */
static void make_frame_uri(ym_buf_t *out, int t)
{
    static unsigned char rgb[SIDE * SIDE * 3];
    unsigned seed = 7u + (unsigned)t;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            unsigned char *p = rgb + (y * SIDE + x) * 3;
            seed = seed * 1103515245u + 12345u;
            int noise = (int)((seed >> 16) & 15) - 8;
            int cx = x - 100 - t * 6, cy = y - 100;
            int ring = (cx * cx + cy * cy) / 40;
            p[0] = (unsigned char)YM_MAX(0, YM_MIN(255, x + t * 10 + noise));
            p[1] = (unsigned char)YM_MAX(0, YM_MIN(255, y + (ring & 63) + noise));
            p[2] = (unsigned char)YM_MAX(0, YM_MIN(255, 128 + ((x ^ y) & 31) + noise));
        }
    tjhandle tj = tjInitCompress();
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    if (!tj || tjCompress2(tj, rgb, SIDE, 0, SIDE, TJPF_RGB, &jpeg, &len, TJSAMP_420, 40, 0) != 0) {
        fprintf(stderr, "bench_clip: tjCompress2 failed\n");
        exit(1);
    }
    ym_media_data_uri_append(out, "image/jpeg", jpeg, len);
    tjFree(jpeg);
    tjDestroy(tj);
}

/* ---- the two pipelines ---------------------------------------------------- */

/* Returns the data URI of the clip in *uri; fills *webm with the raw bytes. */
static void run_yoom(ym_buf_t uris[NFRAMES], ym_buf_t *uri, ym_buf_t *webm)
{
    char err[YM_MEDIA_ERR_LEN];
    ym_media_frames_t *f = ym_media_frames_new(NULL);
    for (int i = 0; i < NFRAMES; i++)
        if (ym_media_frames_add_data_uri(f, uris[i].data, uris[i].len, err) != 0) {
            fprintf(stderr, "bench_clip: %s\n", err);
            exit(1);
        }
    if (ym_media_encode_sync(NULL, f, webm, err) != 0) {
        fprintf(stderr, "bench_clip: encode: %s\n", err);
        exit(1);
    }
    ym_media_frames_free(f);
    ym_media_data_uri_append(uri, "video/webm", webm->data, webm->len);
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0)
            die("write");
        c += w;
        n -= (size_t)w;
    }
    close(fd);
}

static void read_file(const char *path, ym_buf_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    for (;;) {
        ym_buf_reserve(out, 65536);
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len);
        if (r < 0)
            die("read");
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    close(fd);
}

static void run_seed(ym_buf_t uris[NFRAMES], ym_buf_t *uri, ym_buf_t *webm)
{
    char dir[] = "/tmp/yoom-bench-clip-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    char path[256], pattern[256], out[256];
    for (int i = 0; i < NFRAMES; i++) {
        ym_buf_t jpeg = YM_BUF_INIT;
        if (ym_media_data_uri_decode(uris[i].data, uris[i].len, "image/jpeg", SIZE_MAX, &jpeg, NULL) != 0) {
            fprintf(stderr, "bench_clip: bad frame URI\n");
            exit(1);
        }
        snprintf(path, sizeof(path), "%s/clip-%d.jpg", dir, i);
        write_file(path, jpeg.data, jpeg.len);
        ym_buf_free(&jpeg);
    }
    snprintf(pattern, sizeof(pattern), "%s/clip-%%d.jpg", dir);
    snprintf(out, sizeof(out), "%s/clip.webm", dir);
    /* posix_spawn, not fork: a fork marks every page of this process
     * copy-on-write, and the next yoom round then paid ~600 page faults
     * (~1 ms) re-owning its own heap, a cost of the bench, not of yoom (the
     * server never forks). glibc's posix_spawn shares the memory until exec. */
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        die("posix_spawn_file_actions_init");
    for (int fd = 0; fd <= 2; fd++)
        if (posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0) != 0)
            die("posix_spawn_file_actions_addopen");
    /* Seed 000's helper/ffmpeg.js, argument for argument. */
    /* posix_spawn's argv is char *const[] for historical reasons; it does
     * not write to the strings. */
    char a_ffmpeg[] = "ffmpeg", a_i[] = "-i", a_f[] = "-filter:v", a_pts[] = "setpts=2.5*PTS";
    char a_vc[] = "-vcodec", a_vpx[] = "libvpx", a_an[] = "-an";
    char *argv[] = { a_ffmpeg, a_i, pattern, a_f, a_pts, a_vc, a_vpx, a_an, out, NULL };
    pid_t pid;
    int src = posix_spawnp(&pid, "ffmpeg", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (src != 0) {
        errno = src;
        die("posix_spawnp ffmpeg");
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_clip: ffmpeg failed (status %d)\n", status);
        exit(1);
    }
    read_file(out, webm);
    ym_media_data_uri_append(uri, "video/webm", webm->data, webm->len);
    for (int i = 0; i < NFRAMES; i++) {
        snprintf(path, sizeof(path), "%s/clip-%d.jpg", dir, i);
        unlink(path);
    }
    unlink(out);
    rmdir(dir);
}

/* ---- reading a clip back -------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
} reader_t;

static int reader_read(void *opaque, uint8_t *buf, int n)
{
    reader_t *r = opaque;
    size_t k = YM_MIN(r->len - r->pos, (size_t)n);
    if (k == 0)
        return AVERROR_EOF;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int)k;
}

static int64_t reader_seek(void *opaque, int64_t off, int whence)
{
    reader_t *r = opaque;
    if (whence & AVSEEK_SIZE)
        return (int64_t)r->len;
    int w = whence & ~AVSEEK_FORCE;
    int64_t base = w == SEEK_CUR ? (int64_t)r->pos : w == SEEK_END ? (int64_t)r->len : 0;
    if (base + off < 0 || base + off > (int64_t)r->len)
        return -1;
    r->pos = (size_t)(base + off);
    return (int64_t)r->pos;
}

/* Container duration (ms), packets and the codec name of a WebM in memory. */
static void probe(const ym_buf_t *webm, double *dur_ms, int *packets, const char **codec)
{
    reader_t rd = { (const uint8_t *)webm->data, webm->len, 0 };
    uint8_t *iobuf = av_malloc(4096);
    AVIOContext *avio = avio_alloc_context(iobuf, 4096, 0, &rd, reader_read, NULL, reader_seek);
    AVFormatContext *ic = avformat_alloc_context();
    ic->pb = avio;
    *dur_ms = -1;
    *packets = 0;
    *codec = "?";
    if (avformat_open_input(&ic, NULL, NULL, NULL) == 0) {
        avformat_find_stream_info(ic, NULL);
        if (ic->duration != AV_NOPTS_VALUE)
            *dur_ms = (double)ic->duration / 1000.0;
        *codec = avcodec_get_name(ic->streams[0]->codecpar->codec_id);
        AVPacket *pkt = av_packet_alloc();
        while (av_read_frame(ic, pkt) >= 0) {
            (*packets)++;
            av_packet_unref(pkt);
        }
        av_packet_free(&pkt);
        avformat_close_input(&ic);
    }
    av_freep(&avio->buffer);
    avio_context_free(&avio);
}

/* ---- main ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    const char *keep = argc > 2 ? argv[2] : NULL;
    if (rounds < 1 || rounds > 1000)
        rounds = 15;

    ym_buf_t uris[NFRAMES];
    size_t jpeg_bytes = 0;
    for (int i = 0; i < NFRAMES; i++) {
        uris[i] = YM_BUF_INIT;
        make_frame_uri(&uris[i], i);
        jpeg_bytes += (uris[i].len - strlen("data:image/jpeg;base64,")) / 4 * 3;
    }

    double *y_wall = calloc((size_t)rounds, sizeof(double)), *y_cpu = calloc((size_t)rounds, sizeof(double));
    double *s_wall = calloc((size_t)rounds, sizeof(double)), *s_cpu = calloc((size_t)rounds, sizeof(double));
    ym_buf_t y_webm = YM_BUF_INIT, s_webm = YM_BUF_INIT, y_uri = YM_BUF_INIT, s_uri = YM_BUF_INIT;

    /* One unmeasured round each: page in libraries, warm caches. */
    run_yoom(uris, &y_uri, &y_webm);
    run_seed(uris, &s_uri, &s_webm);
    for (int r = 0; r < rounds; r++) {
        ym_buf_reset(&y_webm);
        ym_buf_reset(&y_uri);
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        run_yoom(uris, &y_uri, &y_webm);
        y_wall[r] = now_ms(CLOCK_MONOTONIC) - w0;
        y_cpu[r] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;

        ym_buf_reset(&s_webm);
        ym_buf_reset(&s_uri);
        w0 = now_ms(CLOCK_MONOTONIC);
        c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        double k0 = children_cpu_ms();
        run_seed(uris, &s_uri, &s_webm);
        s_wall[r] = now_ms(CLOCK_MONOTONIC) - w0;
        s_cpu[r] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0 + children_cpu_ms() - k0;
    }
    if (keep) {
        char p[512];
        snprintf(p, sizeof(p), "%s/yoom.webm", keep);
        write_file(p, y_webm.data, y_webm.len);
        snprintf(p, sizeof(p), "%s/seed.webm", keep);
        write_file(p, s_webm.data, s_webm.len);
    }

    double yw = median(y_wall, rounds), yc = median(y_cpu, rounds);
    double sw = median(s_wall, rounds), sc = median(s_cpu, rounds);
    double ydur, sdur;
    int ypk, spk;
    const char *ycodec, *scodec;
    probe(&y_webm, &ydur, &ypk, &ycodec);
    probe(&s_webm, &sdur, &spk, &scodec);

    printf("Clip: %d JPEG frames, %dx%d, quality 40, %zu JPEG bytes in all; %d rounds each, alternating; medians.\n\n",
           NFRAMES, SIDE, SIDE, jpeg_bytes, rounds);
    printf("| pipeline | median latency (ms) | CPU per clip (ms) | clips/s per core | WebM bytes | data URI bytes | duration (ms) | frames | codec |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    printf("| yoom ym_media (in-process) | %.2f | %.2f | %.1f | %zu | %zu | %.0f | %d | %s |\n",
           yw, yc, 1000.0 / yc, y_webm.len, y_uri.len, ydur, ypk, ycodec);
    printf("| seed 000 (temp files + ffmpeg CLI) | %.2f | %.2f | %.1f | %zu | %zu | %.0f | %d | %s |\n",
           sw, sc, 1000.0 / sc, s_webm.len, s_uri.len, sdur, spk, scodec);
    printf("\nyoom is %.1fx faster (median latency) and uses %.1fx less CPU per clip.\n", sw / yw, sc / yc);

    for (int i = 0; i < NFRAMES; i++)
        ym_buf_free(&uris[i]);
    ym_buf_free(&y_webm);
    ym_buf_free(&s_webm);
    ym_buf_free(&y_uri);
    ym_buf_free(&s_uri);
    free(y_wall);
    free(y_cpu);
    free(s_wall);
    free(s_cpu);
    return 0;
}
