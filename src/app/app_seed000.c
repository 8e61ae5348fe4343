/* app_seed000.c: seed 000's ("Animate") protocol, unchanged, so the seed's
 * own client runs against yoom (docs/PROTOCOL.md, "Seed 000 clips"):
 *
 *   message({id, message, frames: [data:image/jpeg;base64,...]})
 *     -> message({id, message, video: data:video/webm;base64,...}) to everyone else
 *     -> messageack(same) to the sender, after the clip is encoded AND committed
 *   messages([last N]) to every new connection, oldest first
 *   POST /process {images: [dataURI...]} -> {video: dataURI}
 *
 * Seed 000 had no rooms: its clients share one global scope, stored under the
 * room key "seed000" (yoom rooms are stored as "r:..." so they cannot collide)
 * and broadcast to the whole default namespace, as the seed's
 * socket.broadcast.emit did. yoom's own UI says so in its CONNECT auth
 * ({yoom: 1}) and is spared the messages() replay.
 *
 * The replay is cached as encoded JSON for a second, so a burst of
 * connections costs one history read instead of one each. */
#include "app/app_history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ym_log.h"
#include "base/ym_time.h"
#include "base/ym_utf8.h"

#define SEED000_SENDER "seed000"
#define REPLAY_CACHE_MS 1000u

struct ym_app_seed000 {
    char *replay;          /* "[[...]]": the args of messages(), or NULL */
    uint64_t replay_at;    /* ym_now_ms() when read */
    uint64_t generation;   /* bumped by every commit: older reads are not cached */
};

static struct ym_app_seed000 *seed(ym_app_t *app)
{
    if (!app->seed000)
        app->seed000 = ym_xcalloc(1, sizeof(*app->seed000));
    return app->seed000;
}

void ym_app__seed000_free(ym_app_t *app)
{
    if (!app->seed000)
        return;
    free(app->seed000->replay);
    free(app->seed000);
    app->seed000 = NULL;
}

/* {id, message, video} of a stored row. */
static json_t *row_json(const ym_store_msg_t *m)
{
    char idbuf[24];
    const char *id = m->client_id;
    if (!id) {
        snprintf(idbuf, sizeof(idbuf), "%" PRId64, m->id);
        id = idbuf;
    }
    json_t *o = json_pack("{s:s, s:s#}", "id", id, "message", m->text ? m->text : "", m->text ? m->text_len : 0);
    if (m->clip_len) {
        ym_buf_t uri = YM_BUF_INIT;
        ym_media_data_uri_append(&uri, "video/webm", m->clip, m->clip_len);
        json_object_set_new(o, "video", json_stringn(uri.data, uri.len));
        ym_buf_free(&uri);
    }
    return o;
}

/* The frames of a clip from an array of data:image/jpeg;base64 URIs (the
 * caller checked its size), or NULL with *bad the index of the first bad
 * element and merr why (nothing left allocated). */
static ym_media_frames_t *data_uri_frames(ym_app_t *app, json_t *uris, size_t *bad, char merr[YM_MEDIA_ERR_LEN])
{
    ym_media_frames_t *fr = ym_media_frames_new(&app->media_cfg);
    for (size_t i = 0; i < json_array_size(uris); i++) {
        json_t *f = json_array_get(uris, i);
        snprintf(merr, YM_MEDIA_ERR_LEN, "not a string");
        if (!json_is_string(f) ||
            ym_media_frames_add_data_uri(fr, json_string_value(f), json_string_length(f), merr) < 0) {
            ym_media_frames_free(fr);
            *bad = i;
            return NULL;
        }
    }
    return fr;
}

/* ---- messages([last N]) on connect ---- */

typedef struct replay_ctx {
    ym_app_t *app;
    char *sid;
    uint64_t generation;
} replay_ctx_t;

static void emit_replay(ym_app_t *app, const char *sid, const char *args)
{
    ym_sio_socket_t *s = ym_sio_find_socket(app->nsp, sid);
    if (s) /* gone meanwhile: nothing to do */
        ym_sio_emit(s, "messages", args);
}

static void on_replay(int status, const ym_store_msg_t *const *msgs, size_t count, void *ud)
{
    replay_ctx_t *c = ud;
    ym_app_t *app = c->app;
    json_t *list = json_array();
    if (status < 0)
        ym_log_warn("app: seed 000 history not read: %s", strerror(-status));
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, row_json(msgs[i]));
    json_t *args = json_array();
    json_array_append_new(args, list);
    char *text = ym_app__json_text(args);
    emit_replay(app, c->sid, text);
    struct ym_app_seed000 *sd = seed(app);
    if (status == 0 && c->generation == sd->generation) {
        free(sd->replay);
        sd->replay = text;
        sd->replay_at = ym_now_ms();
    } else {
        free(text);
    }
    free(c->sid);
    free(c);
    ym_app__pending_dec(app);
}

static bool is_yoom_ui(const char *auth_json, size_t auth_len)
{
    if (!auth_json || auth_len == 0)
        return false;
    json_t *a = json_loadb(auth_json, auth_len, 0, NULL);
    json_t *v = json_object_get(a, "yoom");
    bool yes = v && !json_is_false(v) && !json_is_null(v);
    json_decref(a);
    return yes;
}

void ym_app__seed000_connect(ym_app_t *app, ym_sio_socket_t *s, const char *auth_json, size_t auth_len)
{
    if (!app->cfg.store || app->draining || is_yoom_ui(auth_json, auth_len))
        return;
    struct ym_app_seed000 *sd = seed(app);
    if (sd->replay && ym_now_ms() - sd->replay_at < REPLAY_CACHE_MS) {
        ym_sio_emit(s, "messages", sd->replay);
        return;
    }
    replay_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->sid = ym_xstrdup(ym_sio_socket_id(s));
    c->generation = sd->generation;
    if (ym_store_recent(app->cfg.store, YM_APP_SEED000_KEY, on_replay, c) < 0) {
        free(c->sid);
        free(c);
        return;
    }
    ym_app__pending_inc(app);
}

/* ---- message({id, message, frames}) ---- */

typedef struct msg_ctx {
    ym_app_t *app;
    ym_sio_ack_t *ack;      /* if the client asked for one (the seed does not) */
    char *sid;
    json_t *msg;            /* the client's object without frames */
    char *client_id;
    ym_rbuf_t *webm;        /* the encoded clip, kept for the data URI */
} msg_ctx_t;

static void msg_ctx_free(msg_ctx_t *c)
{
    if (c->ack)
        ym_sio_ack_free(c->ack);
    free(c->sid);
    json_decref(c->msg);
    free(c->client_id);
    ym_rbuf_unref(c->webm);
    free(c);
}

/* The seed's client has no ack and no error event: errors go to the ack if
 * there is one, and always as messageerror({id, error}) to the sender. */
static void reply_error(ym_app_t *app, const char *sid, json_t *id, ym_sio_ack_t **ack, const char *err)
{
    ym_app__ack_error(*ack, err); /* sends and frees it */
    *ack = NULL;
    ym_sio_socket_t *s = ym_sio_find_socket(app->nsp, sid);
    if (!s)
        return;
    ym_app__emit_json(s, "messageerror", json_pack("[{s:O?, s:s}]", "id", id, "error", err));
}

static void on_msg_committed(int status, const ym_store_msg_t *stored, bool duplicate, void *ud)
{
    msg_ctx_t *c = ud;
    ym_app_t *app = c->app;
    if (status < 0) {
        reply_error(app, c->sid, json_object_get(c->msg, "id"), &c->ack, "Could not save the message; try again.");
        goto out;
    }
    /* The replay is out of date, and so is any read still in flight. */
    struct ym_app_seed000 *sd = seed(app);
    sd->generation++;
    free(sd->replay);
    sd->replay = NULL;
    json_t *out;
    if (duplicate) {
        out = row_json(stored);
        json_object_set(out, "id", json_object_get(c->msg, "id")); /* as the client sent it */
    } else {
        /* The seed's server: delete message.frames; message.video = video. */
        out = json_incref(c->msg);
        ym_buf_t uri = YM_BUF_INIT;
        ym_media_data_uri_append(&uri, "video/webm", c->webm->data, c->webm->len);
        json_object_set_new(out, "video", json_stringn(uri.data, uri.len));
        ym_buf_free(&uri);
    }
    json_t *args = json_array();
    json_array_append_new(args, out);
    char *text = ym_app__json_text(args);
    if (!duplicate) {
        ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
        ym_sio_bcast_except(&b, c->sid);
        ym_sio_bcast_emit(&b, "message", text);
    }
    ym_sio_socket_t *s = ym_sio_find_socket(app->nsp, c->sid);
    if (s)
        ym_sio_emit(s, "messageack", text);
    if (c->ack)
        ym_sio_ack_send(c->ack, text);
    c->ack = NULL;
    free(text);
out:
    msg_ctx_free(c);
    ym_app__pending_dec(app);
}

static void on_msg_encoded(const char *err, ym_rbuf_t *webm, ym_rbuf_t *poster, void *ud)
{
    msg_ctx_t *c = ud;
    ym_app_t *app = c->app;
    if (err) {
        char msg[YM_MEDIA_ERR_LEN + 40];
        ym_app__clip_err(msg, sizeof(msg), err);
        reply_error(app, c->sid, json_object_get(c->msg, "id"), &c->ack, msg);
        msg_ctx_free(c);
        ym_app__pending_dec(app);
        return;
    }
    c->webm = webm; /* our reference */
    json_t *jm = json_object_get(c->msg, "message");
    ym_store_msg_t m = {
        .room = YM_APP_SEED000_KEY,
        .sender = SEED000_SENDER,
        .client_id = c->client_id,
        .text = json_string_value(jm),
        .text_len = json_string_length(jm),
        .clip = webm->data,
        .clip_len = webm->len,
        .clip_mime = "video/webm",
        .poster = poster->data,
        .poster_len = poster->len,
    };
    int rc = ym_store_append(app->cfg.store, &m, on_msg_committed, c);
    ym_rbuf_unref(poster);
    if (rc < 0) {
        reply_error(app, c->sid, json_object_get(c->msg, "id"), &c->ack, ym_app__store_err(rc));
        msg_ctx_free(c);
        ym_app__pending_dec(app);
    }
    /* else: the pending count carries over to on_msg_committed */
}

static void on_message(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                       void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    const char *sid = ym_sio_socket_id(s);
    json_t *arr = ym_app__args(args);
    json_t *o = json_array_get(arr, 0);
    json_t *id = json_object_get(o, "id");
    json_t *text = json_object_get(o, "message");
    json_t *frames = json_object_get(o, "frames");
    char idbuf[32];
    const char *client_id = NULL;
    char err[YM_MEDIA_ERR_LEN + 80];
    if (json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) <= YM_STORE_MAX_CLIENT_ID &&
        strlen(json_string_value(id)) == json_string_length(id)) {
        client_id = json_string_value(id);
    } else if (json_is_integer(id)) {
        snprintf(idbuf, sizeof(idbuf), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        client_id = idbuf;
    }
    if (!json_is_object(o) || !client_id || !json_is_string(text) || !json_is_array(frames)) {
        reply_error(app, sid, json_is_object(o) ? id : NULL, &ack,
                    "A message is {id, message, frames}: id a string of 1 to 128 bytes, message a string, "
                    "frames an array of data:image/jpeg;base64 URIs.");
        goto out;
    }
    if (ym_utf8_count(json_string_value(text), json_string_length(text)) > app->cfg.max_message_chars) {
        snprintf(err, sizeof(err), "Messages must be at most %zu characters.", app->cfg.max_message_chars);
        reply_error(app, sid, id, &ack, err);
        goto out;
    }
    if (!app->cfg.store || !app->cfg.media || app->draining) {
        reply_error(app, sid, id, &ack, "The server is shutting down.");
        goto out;
    }
    size_t n = json_array_size(frames);
    if (n == 0 || n > app->media_cfg.max_frames) {
        snprintf(err, sizeof(err), "A clip has 1 to %u frames.", app->media_cfg.max_frames);
        reply_error(app, sid, id, &ack, err);
        goto out;
    }
    size_t bad;
    char merr[YM_MEDIA_ERR_LEN];
    ym_media_frames_t *fr = data_uri_frames(app, frames, &bad, merr);
    if (!fr) {
        ym_app__clip_err(err, sizeof(err), merr);
        reply_error(app, sid, id, &ack, err);
        goto out;
    }
    msg_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->ack = ack;
    c->sid = ym_xstrdup(sid);
    c->msg = json_deep_copy(o);
    json_object_del(c->msg, "frames");
    c->client_id = ym_xstrdup(client_id);
    ack = NULL;
    int rc = ym_media_encode(app->cfg.media, fr, on_msg_encoded, c); /* takes fr */
    if (rc < 0) {
        reply_error(app, sid, id, &c->ack, ym_app__encode_err(rc));
        msg_ctx_free(c);
        goto out;
    }
    ym_app__pending_inc(app);
out:
    if (ack)
        ym_sio_ack_free(ack);
    json_decref(arr);
}

/* ---- POST /process ---- */

typedef struct process_ctx {
    ym_app_t *app;
    ym_http_req_t *req;     /* NULL once the client went away */
} process_ctx_t;

static void respond_json_error(ym_http_req_t *req, int status, const char *msg, const char *extra)
{
    char *text = ym_app__json_text(json_pack("{s:s}", "error", msg));
    ym_http_respond(req, status, "application/json; charset=utf-8", text, strlen(text), extra);
    free(text);
}

static void on_process_abort(ym_http_req_t *req, void *ud)
{
    process_ctx_t *c = ud;
    c->req = NULL;
}

static void on_process_encoded(const char *err, ym_rbuf_t *webm, ym_rbuf_t *poster, void *ud)
{
    process_ctx_t *c = ud;
    ym_app_t *app = c->app;
    if (c->req) {
        if (err) {
            bool ours = strcmp(err, "cancelled") == 0 || strcmp(err, "timeout") == 0;
            char msg[YM_MEDIA_ERR_LEN + 40];
            ym_app__clip_err(msg, sizeof(msg), err);
            respond_json_error(c->req, ours ? 503 : 400, msg, NULL);
        } else {
            /* A data URI needs no JSON escaping: splice it in without a copy
             * through jansson. */
            ym_buf_t body = YM_BUF_INIT;
            ym_buf_append_str(&body, "{\"video\":\"");
            ym_media_data_uri_append(&body, "video/webm", webm->data, webm->len);
            ym_buf_append_str(&body, "\"}");
            ym_http_respond(c->req, 200, "application/json; charset=utf-8", body.data, body.len, NULL);
            ym_buf_free(&body);
        }
    }
    ym_rbuf_unref(webm);
    ym_rbuf_unref(poster);
    free(c);
    ym_app__pending_dec(app);
}

static ym_http_result_t on_process(ym_http_req_t *req, void *ud)
{
    ym_app_t *app = ud;
    if (!ym_str_eq_lit(req->path, "/process"))
        return YM_HTTP_NEXT;
    if (!ym_str_eq_lit(req->method, "POST")) {
        ym_http_respond(req, 405, "text/plain; charset=utf-8", "method not allowed\n", 19, "Allow: POST\r\n");
        return YM_HTTP_DONE;
    }
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *images = json_object_get(body, "images");
    size_t n = json_array_size(images);
    char err[YM_MEDIA_ERR_LEN + 80];
    if (!json_is_array(images) || n == 0) {
        respond_json_error(req, 400, "The body must be JSON {\"images\": [data:image/jpeg;base64 URIs]}.", NULL);
        goto out;
    }
    if (n > app->media_cfg.max_frames) {
        snprintf(err, sizeof(err), "A clip has 1 to %u frames.", app->media_cfg.max_frames);
        respond_json_error(req, 400, err, NULL);
        goto out;
    }
    if (!app->cfg.media || app->draining) {
        respond_json_error(req, 503, "The server is shutting down.", NULL);
        goto out;
    }
    size_t bad;
    char merr[YM_MEDIA_ERR_LEN];
    ym_media_frames_t *fr = data_uri_frames(app, images, &bad, merr);
    if (!fr) {
        snprintf(err, sizeof(err), "images[%zu]: %s", bad, merr);
        respond_json_error(req, 400, err, NULL);
        goto out;
    }
    process_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->req = req;
    int rc = ym_media_encode(app->cfg.media, fr, on_process_encoded, c); /* takes fr */
    if (rc < 0) {
        free(c);
        respond_json_error(req, 503, ym_app__encode_err(rc), "Retry-After: 1\r\n");
        goto out;
    }
    ym_app__pending_inc(app);
    ym_http_hold(req, on_process_abort, c);
    json_decref(body);
    return YM_HTTP_HELD;
out:
    json_decref(body);
    return YM_HTTP_DONE;
}

void ym_app__seed000_install(ym_app_t *app)
{
    ym_sio_on(app->nsp, "message", on_message);
    if (app->http)
        ym_http_route(app->http, "/process", app->cfg.process_max_body_bytes, on_process, app);
}
