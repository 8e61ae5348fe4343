/* app_history.c: yoom's chat through the store. A message is committed
 * before anyone hears of it: the sender's ack and the room's chat:message go
 * out from the store's commit callback, so an acknowledged message is in the
 * history even if the process is killed right after. Joiners get the room's
 * recent history in their room:join ack. */
#include "app/app_history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ym_codec.h"
#include "base/ym_log.h"

/* ---- keys ---- */

void ym_app__room_key(const char *room, char out[YM_STORE_MAX_ROOM + 1])
{
    size_t n = strlen(room);
    if (n + 2 <= YM_STORE_MAX_ROOM) {
        memcpy(out, "r:", 2);
        memcpy(out + 2, room, n + 1);
        return;
    }
    /* Room names are limited in characters, the store in bytes: a long name
     * of 4-byte characters gets a digest key instead of failing every message. */
    uint8_t d[20];
    ym_sha1(room, n, d);
    memcpy(out, "h:", 2);
    for (size_t i = 0; i < 20; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", d[i]);
}

void ym_app__sender_key(const char *name, char out[YM_STORE_MAX_SENDER + 1])
{
    size_t n = strlen(name);
    if (n > YM_STORE_MAX_SENDER) {
        n = YM_STORE_MAX_SENDER;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--; /* back to the start of the code point that does not fit */
    }
    memcpy(out, name, n);
    out[n] = '\0';
}

const char *ym_app__store_err(int rc)
{
    switch (rc) {
    case -EBUSY:
        return "The server is busy, try again in a moment.";
    case -EMSGSIZE:
        return "This message is too large.";
    case -ECANCELED:
        return "The server is shutting down.";
    case -EINVAL:
        return "Invalid message.";
    default:
        return "Could not save the message; try again.";
    }
}

/* ---- pending work and the drain ---- */

static void drain_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void drain_fire(uv_timer_t *t)
{
    ym_app_t *app = t->data;
    uv_close((uv_handle_t *)t, drain_timer_closed);
    if (app->drain_done)
        app->drain_done(app->drain_ud);
}

static void drain_check(ym_app_t *app)
{
    if (!app->draining || app->pending || app->drain_fired)
        return;
    app->drain_fired = true;
    /* From a later loop pass: the caller may be inside a store or media
     * callback, and done() goes on to close the store and free the app. */
    uv_timer_t *t = ym_xmalloc(sizeof(*t));
    uv_timer_init(app->loop, t);
    t->data = app;
    uv_timer_start(t, drain_fire, 0, 0);
}

void ym_app__pending_inc(ym_app_t *app)
{
    app->pending++;
}

void ym_app__pending_dec(ym_app_t *app)
{
    app->pending--;
    drain_check(app);
}

void ym_app_drain(ym_app_t *app, void (*done)(void *ud), void *ud)
{
    app->draining = true;
    app->drain_done = done;
    app->drain_ud = ud;
    drain_check(app);
}

/* ---- stored rows as JSON ---- */

static json_t *text_json(const char *p, size_t n)
{
    return json_stringn(p ? p : "", p ? n : 0);
}

json_t *ym_app__stored_json(ym_app_t *app, const char *room_name, const ym_store_msg_t *m)
{
    char id[24];
    snprintf(id, sizeof(id), "%012" PRId64, m->id); /* fixed width: sorts as text */
    json_t *o = json_pack("{s:s, s:s, s:{s:s}, s:o, s:I}", "id", id, "room", room_name, "from", "name",
                          m->sender, "text", text_json(m->text, m->text_len), "ts", (json_int_t)m->ts_ms);
    if (m->client_id)
        json_object_set_new(o, "clientId", json_string(m->client_id));
    if (m->clip_len) {
        char key[YM_APP_CLIP_KEY_LEN + 1];
        ym_app__clips_put_bytes(app, m, key);
        json_object_set_new(o, "clip", ym_app__clip_json(key, m->poster_len > 0));
    }
    return o;
}

/* ---- sending ---- */

typedef struct send_ctx {
    ym_app_t *app;
    ym_sio_ack_t *ack;
    char *room;         /* the yoom room's name */
    char *sid;          /* the sender's socket id */
    json_t *from;       /* the sender as a Member */
    ym_rbuf_t *clip, *poster;
} send_ctx_t;

static void send_ctx_free(send_ctx_t *c)
{
    free(c->room);
    free(c->sid);
    json_decref(c->from);
    ym_rbuf_unref(c->clip);
    ym_rbuf_unref(c->poster);
    free(c);
}

static void on_committed(int status, const ym_store_msg_t *stored, bool duplicate, void *ud)
{
    send_ctx_t *c = ud;
    ym_app_t *app = c->app;
    if (status < 0) {
        ym_log_warn("app: message in %s not stored: %s", c->room, strerror(-status));
        ym_app__ack_error(c->ack, "Could not save the message; try again.");
        goto out;
    }
    char id[24];
    snprintf(id, sizeof(id), "%012" PRId64, stored->id);
    json_t *msg = json_pack("{s:s, s:s, s:O, s:o, s:I}", "id", id, "room", c->room, "from", c->from, "text",
                            text_json(stored->text, stored->text_len), "ts", (json_int_t)stored->ts_ms);
    if (stored->client_id)
        json_object_set_new(msg, "clientId", json_string(stored->client_id));
    if (stored->clip_len) {
        char key[YM_APP_CLIP_KEY_LEN + 1];
        if (c->clip && !duplicate)
            ym_app__clips_put(app, c->clip, c->poster, stored->ts_ms + (int64_t)app->cfg.history_ttl_ms, key);
        else
            ym_app__clips_put_bytes(app, stored, key);
        json_object_set_new(msg, "clip", ym_app__clip_json(key, stored->poster_len > 0));
    }
    /* A retry of a stored message gets the original back, and the room,
     * which heard of it the first time, hears nothing. */
    if (!duplicate) {
        ym_app__emit_room(app, c->room, c->sid, "chat:message", json_pack("[O]", msg));
    }
    if (c->ack)
        ym_app__ack_json(c->ack, json_pack("{s:b, s:o, s:b}", "ok", 1, "message", msg, "duplicate", duplicate));
    else
        json_decref(msg);
out:
    send_ctx_free(c);
    ym_app__pending_dec(app);
}

void ym_app__history_send(ym_app_t *app, const char *room_name, const char *sid, json_t *from,
                          const char *text, const char *client_id, ym_rbuf_t *clip, ym_rbuf_t *poster,
                          ym_sio_ack_t *ack)
{
    /* Not refused while draining: a clip that finished encoding during the
     * drain is still stored (the store closes after the drain). */
    if (!app->cfg.store) {
        ym_app__ack_error(ack, "The server is shutting down.");
        json_decref(from);
        return;
    }
    char key[YM_STORE_MAX_ROOM + 1], sender[YM_STORE_MAX_SENDER + 1];
    ym_app__room_key(room_name, key);
    const char *name = json_string_value(json_object_get(from, "name"));
    ym_app__sender_key(name ? name : "?", sender);
    ym_store_msg_t m = {
        .room = key,
        .sender = sender,
        .client_id = client_id,
        .text = text,
        .text_len = strlen(text),
        .clip = clip ? clip->data : NULL,
        .clip_len = clip ? clip->len : 0,
        .clip_mime = clip ? "video/webm" : NULL,
        .poster = poster ? poster->data : NULL,
        .poster_len = poster ? poster->len : 0,
    };
    send_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->ack = ack;
    c->room = ym_xstrdup(room_name);
    c->sid = ym_xstrdup(sid);
    c->from = from;
    c->clip = clip ? ym_rbuf_ref(clip) : NULL;
    c->poster = poster ? ym_rbuf_ref(poster) : NULL;
    int rc = ym_store_append(app->cfg.store, &m, on_committed, c);
    if (rc < 0) {
        ym_app__ack_error(ack, ym_app__store_err(rc));
        send_ctx_free(c);
        return;
    }
    ym_app__pending_inc(app);
}

bool ym_app__has_frames(json_t *o)
{
    json_t *f = json_object_get(o, "frames");
    return json_is_array(f) && json_array_size(f) > 0;
}

void ym_app__history_chat_send(ym_app_t *app, ym_sio_socket_t *s, ym_app_room_t *room, json_t *o,
                               const char *text, const ym_sio_args_t *args, ym_sio_ack_t *ack)
{
    if (app->draining) {
        ym_app__ack_error(ack, "The server is shutting down.");
        return;
    }
    /* clientId makes a retry idempotent: the store answers it with the
     * original row (within the room, for the TTL). */
    json_t *cid = json_object_get(o, "clientId");
    const char *client_id = NULL;
    if (cid && !json_is_null(cid)) {
        size_t n = json_is_string(cid) ? json_string_length(cid) : 0;
        if (n == 0 || n > YM_STORE_MAX_CLIENT_ID || strlen(json_string_value(cid)) != n) {
            ym_app__ack_error(ack, "clientId must be a string of 1 to 128 bytes.");
            return;
        }
        client_id = json_string_value(cid);
    }
    json_t *frames = json_object_get(o, "frames");
    if (frames && !json_is_null(frames) && !json_is_array(frames)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    const char *sid = ym_sio_socket_id(s);
    ym_app_member_t *m = ym_app__room_member(room, sid);
    json_t *from = ym_app__member_json(room, m);
    app->msg_seq++;
    if (ym_app__has_frames(o))
        ym_app__clip_send(app, s, room->name, from, text, client_id, frames, args, ack);
    else
        ym_app__history_send(app, room->name, sid, from, text, client_id, NULL, NULL, ack);
}

/* ---- history in the join ack ---- */

typedef struct join_ctx {
    ym_app_t *app;
    ym_sio_ack_t *ack;
    json_t *reply;
    char *room;
} join_ctx_t;

static void on_recent(int status, const ym_store_msg_t *const *msgs, size_t count, void *ud)
{
    join_ctx_t *c = ud;
    json_t *arr = json_array();
    if (status < 0)
        ym_log_warn("app: history of %s not read: %s", c->room, strerror(-status));
    for (size_t i = 0; i < count; i++)
        json_array_append_new(arr, ym_app__stored_json(c->app, c->room, msgs[i]));
    json_object_set_new(c->reply, "messages", arr);
    ym_app__ack_json(c->ack, c->reply);
    ym_app_t *app = c->app;
    free(c->room);
    free(c);
    ym_app__pending_dec(app);
}

void ym_app__history_join_ack(ym_app_t *app, const char *room_name, ym_sio_ack_t *ack, json_t *reply)
{
    if (!app->cfg.store || app->draining) {
        json_object_set_new(reply, "messages", json_array());
        ym_app__ack_json(ack, reply);
        return;
    }
    char key[YM_STORE_MAX_ROOM + 1];
    ym_app__room_key(room_name, key);
    join_ctx_t *c = ym_xcalloc(1, sizeof(*c));
    c->app = app;
    c->ack = ack;
    c->reply = reply;
    c->room = ym_xstrdup(room_name);
    int rc = ym_store_recent(app->cfg.store, key, on_recent, c);
    if (rc < 0) {
        json_object_set_new(reply, "messages", json_array());
        ym_app__ack_json(ack, reply);
        free(c->room);
        free(c);
        return;
    }
    ym_app__pending_inc(app);
}
