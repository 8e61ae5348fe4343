/* app_clips.c: yoom's clip messages. The web UI attaches the JPEG frames as
 * Socket.IO binary attachments of chat:send; the media encoder turns them
 * into a VP8 WebM on the worker pool; the message and its clip are then
 * committed together (app_history.c) before the sender's ack and the room's
 * chat:message, which carry the clip's URL.
 *
 * GET /clips/<key>.webm and /clips/<key>.jpg (the poster: the first frame)
 * are served from memory. <key> is the SHA-1 of the WebM bytes: it cannot be
 * guessed (clips of locked rooms stay private to whoever saw the message),
 * it is the same after a restart, and it names immutable content, so it is
 * the ETag too. The cache holds clips for the history TTL within a byte cap;
 * the store keeps the clips themselves, and history reads put them back in
 * the cache (after a restart, or once evicted), so every URL handed out in a
 * message or a join ack works at least until the next eviction. */
#include "app/app_history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ym_codec.h"
#include "base/ym_log.h"
#include "base/ym_time.h"

#define CLIP_CACHE_DEFAULT ((size_t)64u * 1024u * 1024u)

typedef struct clip_entry {
    char key[YM_APP_CLIP_KEY_LEN + 1];
    ym_rbuf_t *webm;
    ym_rbuf_t *poster;    /* may be NULL */
    int64_t expires_ms;   /* wall clock */
} clip_entry_t;

struct ym_app_clips {
    clip_entry_t *v;      /* insertion order: the oldest is evicted first */
    size_t n, cap;
    size_t bytes;
    size_t max_bytes;
};

ym_app_clips_t *ym_app__clips_new(ym_app_t *app)
{
    ym_app_clips_t *c = ym_xcalloc(1, sizeof(*c));
    c->max_bytes = app->cfg.clip_cache_bytes ? app->cfg.clip_cache_bytes : CLIP_CACHE_DEFAULT;
    return c;
}

static size_t entry_bytes(const clip_entry_t *e)
{
    return e->webm->len + (e->poster ? e->poster->len : 0);
}

static void remove_at(ym_app_clips_t *c, size_t i)
{
    c->bytes -= entry_bytes(&c->v[i]);
    ym_rbuf_unref(c->v[i].webm);
    ym_rbuf_unref(c->v[i].poster);
    memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(c->v[0]));
    c->n--;
}

void ym_app__clips_free(ym_app_clips_t *c)
{
    if (!c)
        return;
    while (c->n)
        remove_at(c, c->n - 1);
    free(c->v);
    free(c);
}

static void clip_key(const void *p, size_t n, char key[YM_APP_CLIP_KEY_LEN + 1])
{
    uint8_t d[20];
    ym_sha1(p, n, d);
    for (size_t i = 0; i < 20; i++)
        snprintf(key + 2 * i, 3, "%02x", d[i]);
}

static clip_entry_t *find(ym_app_clips_t *c, const char *key)
{
    int64_t now = (int64_t)ym_wall_ms();
    for (size_t i = 0; i < c->n; i++) {
        if (memcmp(c->v[i].key, key, YM_APP_CLIP_KEY_LEN) != 0)
            continue;
        if (c->v[i].expires_ms < now) {
            remove_at(c, i);
            return NULL;
        }
        return &c->v[i];
    }
    return NULL;
}

static void put(ym_app_t *app, const char *key, ym_rbuf_t *webm, ym_rbuf_t *poster, int64_t expires_ms)
{
    ym_app_clips_t *c = app->clips;
    size_t need = webm->len + (poster ? poster->len : 0);
    if (need > c->max_bytes)
        return;
    int64_t now = (int64_t)ym_wall_ms();
    for (size_t i = c->n; i-- > 0;)
        if (c->v[i].expires_ms < now)
            remove_at(c, i);
    while (c->n && c->bytes + need > c->max_bytes)
        remove_at(c, 0);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = ym_xrealloc(c->v, c->cap * sizeof(c->v[0]));
    }
    clip_entry_t *e = &c->v[c->n++];
    memcpy(e->key, key, YM_APP_CLIP_KEY_LEN + 1);
    e->webm = ym_rbuf_ref(webm);
    e->poster = poster ? ym_rbuf_ref(poster) : NULL;
    e->expires_ms = expires_ms;
    c->bytes += need;
}

void ym_app__clips_put(ym_app_t *app, ym_rbuf_t *webm, ym_rbuf_t *poster, int64_t expires_ms,
                       char key[YM_APP_CLIP_KEY_LEN + 1])
{
    clip_key(webm->data, webm->len, key);
    clip_entry_t *e = find(app->clips, key);
    if (e) {
        if (e->expires_ms < expires_ms)
            e->expires_ms = expires_ms;
        return;
    }
    put(app, key, webm, poster, expires_ms);
}

void ym_app__clips_put_bytes(ym_app_t *app, const ym_store_msg_t *m, char key[YM_APP_CLIP_KEY_LEN + 1])
{
    clip_key(m->clip, m->clip_len, key);
    int64_t expires = m->ts_ms + (int64_t)app->cfg.history_ttl_ms;
    clip_entry_t *e = find(app->clips, key);
    if (e) {
        if (e->expires_ms < expires)
            e->expires_ms = expires;
        return;
    }
    ym_rbuf_t *webm = ym_rbuf_copy(m->clip, m->clip_len);
    ym_rbuf_t *poster = m->poster_len ? ym_rbuf_copy(m->poster, m->poster_len) : NULL;
    put(app, key, webm, poster, expires);
    ym_rbuf_unref(webm);
    ym_rbuf_unref(poster);
}

json_t *ym_app__clip_json(const char key[YM_APP_CLIP_KEY_LEN + 1], bool has_poster)
{
    char url[64], purl[64];
    snprintf(url, sizeof(url), "/clips/%s.webm", key);
    snprintf(purl, sizeof(purl), "/clips/%s.jpg", key);
    json_t *o = json_pack("{s:s, s:s}", "url", url, "type", "video/webm");
    if (has_poster)
        json_object_set_new(o, "poster", json_string(purl));
    return o;
}

/* ---- encoding a clip message ---- */

typedef struct clip_ctx {
    ym_app_t *app;
    ym_sio_ack_t *ack;
    char *room;
    char *sid;
    json_t *from;
    char *text;
    char *client_id;
} clip_ctx_t;

/* Frees c and what it owns except from and ack, which are handed on or
 * answered by the caller. */
static void clip_ctx_free(clip_ctx_t *c)
{
    free(c->room);
    free(c->sid);
    free(c->text);
    free(c->client_id);
    free(c);
}

static void on_encoded(const char *err, ym_rbuf_t *webm, ym_rbuf_t *poster, void *ud)
{
    clip_ctx_t *c = ud;
    ym_app_t *app = c->app;
    if (err) {
        char msg[YM_MEDIA_ERR_LEN + 40];
        ym_app__clip_err(msg, sizeof(msg), err);
        ym_app__ack_error(c->ack, msg);
        json_decref(c->from);
    } else {
        /* history_send takes the ack and from, and its own rbuf references. */
        ym_app__history_send(app, c->room, c->sid, c->from, c->text, c->client_id, webm, poster, c->ack);
    }
    ym_rbuf_unref(webm);
    ym_rbuf_unref(poster);
    clip_ctx_free(c);
    ym_app__pending_dec(app);
}

/* Attachment number of a {"_placeholder":true,"num":i} element, or -1. */
static long placeholder_num(json_t *v, size_t nbins)
{
    json_t *num = json_object_get(v, "num");
    if (!json_is_true(json_object_get(v, "_placeholder")) || !json_is_integer(num))
        return -1;
    json_int_t i = json_integer_value(num);
    return i >= 0 && (size_t)i < nbins ? (long)i : -1;
}

void ym_app__clip_send(ym_app_t *app, ym_sio_socket_t *s, const char *room_name, json_t *from, const char *text,
                       const char *client_id, json_t *frames, const ym_sio_args_t *args, ym_sio_ack_t *ack)
{
    if (!app->cfg.media || !app->cfg.store) {
        ym_app__ack_error(ack, "Clips are not available on this server.");
        json_decref(from);
        return;
    }
    size_t n = json_array_size(frames);
    if (n > app->media_cfg.max_frames) {
        char msg[80];
        snprintf(msg, sizeof(msg), "A clip has at most %u frames.", app->media_cfg.max_frames);
        ym_app__ack_error(ack, msg);
        json_decref(from);
        return;
    }
    ym_media_frames_t *fr = ym_media_frames_new(&app->media_cfg);
    for (size_t i = 0; i < n; i++) {
        long k = placeholder_num(json_array_get(frames, i), args->nbins);
        char err[YM_MEDIA_ERR_LEN];
        if (k < 0) {
            ym_app__ack_error(ack, "Clip frames must be binary attachments.");
            goto fail;
        }
        if (ym_media_frames_add(fr, args->bins[k].data, args->bins[k].len, err) < 0) {
            char msg[YM_MEDIA_ERR_LEN + 40];
            ym_app__clip_err(msg, sizeof(msg), err);
            ym_app__ack_error(ack, msg);
            goto fail;
        }
    }
    clip_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->ack = ack;
    c->room = ym_xstrdup(room_name);
    c->sid = ym_xstrdup(ym_sio_socket_id(s));
    c->from = from;
    c->text = ym_xstrdup(text);
    c->client_id = client_id ? ym_xstrdup(client_id) : NULL;
    int rc = ym_media_encode(app->cfg.media, fr, on_encoded, c); /* takes fr in every case */
    if (rc < 0) {
        ym_app__ack_error(ack, ym_app__encode_err(rc));
        json_decref(c->from);
        clip_ctx_free(c);
        return;
    }
    ym_app__pending_inc(app);
    return;
fail:
    ym_media_frames_free(fr);
    json_decref(from);
}

/* ---- GET /clips/<key>.webm | .jpg ---- */

/* One "bytes=" range against size. 1: [*a, *b]; 0: ignore the header (serve
 * everything: absent, malformed or several ranges); -1: unsatisfiable (416). */
static int parse_range(ym_str_t v, uint64_t size, uint64_t *a, uint64_t *b)
{
    if (v.len < 6 || memcmp(v.p, "bytes=", 6) != 0)
        return 0;
    const char *p = v.p + 6, *end = v.p + v.len;
    if (memchr(p, ',', (size_t)(end - p)))
        return 0;
    uint64_t x = 0, y = 0;
    bool hx = false, hy = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++, hx = true) {
        if (x > (UINT64_MAX - 9) / 10)
            return 0;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (p == end || *p != '-')
        return 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, hy = true) {
        if (y > (UINT64_MAX - 9) / 10)
            return 0;
        y = y * 10 + (uint64_t)(*p - '0');
    }
    if (p != end || (!hx && !hy))
        return 0;
    if (!hx) { /* suffix: the last y bytes */
        if (y == 0 || size == 0)
            return -1;
        *a = y >= size ? 0 : size - y;
        *b = size - 1;
        return 1;
    }
    if (hy && y < x)
        return 0;
    if (x >= size)
        return -1;
    *a = x;
    *b = hy && y < size ? y : size - 1;
    return 1;
}

static bool etag_matches(ym_str_t list, const char *etag)
{
    /* If-None-Match: "*" or a comma list of (possibly weak) tags. */
    size_t n = strlen(etag);
    for (size_t i = 0; i < list.len;) {
        while (i < list.len && (list.p[i] == ' ' || list.p[i] == ','))
            i++;
        size_t j = i;
        while (j < list.len && list.p[j] != ',')
            j++;
        ym_str_t t = { list.p + i, j - i };
        while (t.len && t.p[t.len - 1] == ' ')
            t.len--;
        if (t.len >= 2 && t.p[0] == 'W' && t.p[1] == '/') {
            t.p += 2;
            t.len -= 2;
        }
        if ((t.len == 1 && t.p[0] == '*') || (t.len == n && memcmp(t.p, etag, n) == 0))
            return true;
        i = j;
    }
    return false;
}

static ym_http_result_t on_clip_get(ym_http_req_t *req, void *ud)
{
    ym_app_t *app = ud;
    const size_t pre = sizeof("/clips/") - 1;
    ym_str_t path = req->path;
    if (!ym_app__get_or_head(req))
        return YM_HTTP_DONE;
    bool webm = path.len == pre + YM_APP_CLIP_KEY_LEN + 5 && memcmp(path.p + pre + YM_APP_CLIP_KEY_LEN, ".webm", 5) == 0;
    bool jpg = path.len == pre + YM_APP_CLIP_KEY_LEN + 4 && memcmp(path.p + pre + YM_APP_CLIP_KEY_LEN, ".jpg", 4) == 0;
    char key[YM_APP_CLIP_KEY_LEN + 1];
    bool hex = webm || jpg;
    for (size_t i = 0; hex && i < YM_APP_CLIP_KEY_LEN; i++) {
        char ch = path.p[pre + i];
        hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        key[i] = ch;
    }
    key[YM_APP_CLIP_KEY_LEN] = '\0';
    clip_entry_t *e = hex ? find(app->clips, key) : NULL;
    ym_rbuf_t *body = e ? (webm ? e->webm : e->poster) : NULL;
    if (!body) {
        ym_http_respond_error(req, 404, "no such clip (clips expire with the history)");
        return YM_HTTP_DONE;
    }
    const char *ctype = webm ? "video/webm" : "image/jpeg";
    char etag[YM_APP_CLIP_KEY_LEN + 8];
    snprintf(etag, sizeof(etag), "\"%s%s\"", key, webm ? "" : "-p");
    char hdr[512];
    int hn = snprintf(hdr, sizeof(hdr),
                      "ETag: %s\r\nCache-Control: public, max-age=31536000, immutable\r\n"
                      "Accept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n",
                      etag);
    ym_str_t inm = ym_http_header(req, "If-None-Match");
    if (inm.p && etag_matches(inm, etag)) {
        ym_http_respond(req, 304, ctype, NULL, 0, hdr);
        return YM_HTTP_DONE;
    }
    ym_str_t range = ym_http_header(req, "Range");
    ym_str_t if_range = ym_http_header(req, "If-Range");
    uint64_t a = 0, b = 0;
    /* If-Range with another validator: the client's partial copy is stale. */
    int r = range.p && (!if_range.p || ym_str_eq(if_range, ym_str_from(etag))) ? parse_range(range, body->len, &a, &b)
                                                                               : 0;
    if (r < 0) {
        snprintf(hdr + hn, sizeof(hdr) - (size_t)hn, "Content-Range: bytes */%" PRIu32 "\r\n", body->len);
        ym_http_respond(req, 416, "text/plain; charset=utf-8", "range not satisfiable\n", 22, hdr);
        return YM_HTTP_DONE;
    }
    if (r > 0) {
        snprintf(hdr + hn, sizeof(hdr) - (size_t)hn, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu32 "\r\n", a,
                 b, body->len);
        ym_http_respond(req, 206, ctype, body->data + a, (size_t)(b - a + 1), hdr);
        return YM_HTTP_DONE;
    }
    ym_http_respond_rbuf(req, 200, ctype, body, hdr);
    return YM_HTTP_DONE;
}

void ym_app__clips_install(ym_app_t *app)
{
    app->clips = ym_app__clips_new(app);
    if (app->http)
        ym_http_route(app->http, "/clips/", 0, on_clip_get, app);
}
