/* app_chat.c: yoom's own events for its web UI (docs/PROTOCOL.md, "yoom's own
 * events"): the room list, joining and leaving, locking, chat messages. */
#include "app/app_internal.h"
#include "app/app_history.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/ym_codec.h"
#include "base/ym_time.h"

#define APP_OR_DROP(app, ack)             \
    do {                                  \
        if (!(app)) {                     \
            if (ack)                      \
                ym_sio_ack_free(ack);     \
            return;                       \
        }                                 \
    } while (0)

/* The one object argument of every yoom event; NULL (and an error ack) if
 * the arguments are not [ {...} ]. The caller decrefs *arr. */
static json_t *arg_object(const ym_sio_args_t *args, ym_sio_ack_t *ack, json_t **arr)
{
    *arr = ym_app__args(args);
    json_t *o = *arr ? json_array_get(*arr, 0) : NULL;
    if (!json_is_object(o)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return NULL;
    }
    return o;
}

/* A string member; *ok is false if present but not a string (or not allowed to be absent). */
static const char *field_str(json_t *o, const char *key, size_t *len, bool optional, bool *ok)
{
    json_t *v = json_object_get(o, key);
    *len = 0;
    if (!v || json_is_null(v)) {
        if (!optional)
            *ok = false;
        return NULL;
    }
    if (!json_is_string(v)) {
        *ok = false;
        return NULL;
    }
    *len = json_string_length(v);
    return json_string_value(v);
}

static void on_rooms_list(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                          void *ud)
{
    ym_app_t *app = ud;
    APP_OR_DROP(app, ack);
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "rooms", ym_app__rooms_json(app)));
}

/* The room named by o.room that s is a member of, or NULL with an error ack. */
static ym_app_room_t *my_room(ym_app_t *app, ym_sio_socket_t *s, json_t *o, ym_sio_ack_t *ack)
{
    bool ok = true;
    size_t len;
    const char *name = field_str(o, "room", &len, false, &ok);
    if (!ok || strlen(name) != len) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return NULL;
    }
    ym_app_room_t *room = ym_app__rooms_find(&app->rooms, name);
    if (!room || !ym_app__room_member(room, ym_sio_socket_id(s))) {
        ym_app__ack_error(ack, "You are not in this room.");
        return NULL;
    }
    return room;
}

static void on_room_join(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                         void *ud)
{
    ym_app_t *app = ud;
    APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = arg_object(args, ack, &arr);
    char *room_name = NULL, *nick = NULL;
    char err[200];
    if (!o)
        goto out;
    bool ok = true;
    size_t rlen, nlen, plen;
    const char *raw_room = field_str(o, "room", &rlen, false, &ok);
    const char *raw_name = field_str(o, "name", &nlen, false, &ok);
    const char *pw = field_str(o, "password", &plen, true, &ok);
    if (!ok) {
        ym_app__ack_error(ack, "Invalid arguments.");
        goto out;
    }
    if (!ym_app__clean_room_name(app, raw_room, rlen, &room_name, err, sizeof(err))) {
        ym_app__ack_error(ack, err);
        goto out;
    }
    if (ym_app__text_clean(raw_name, nlen, app->cfg.max_nickname_chars, 0, &nick) != YM_APP_TEXT_OK) {
        ym_app__err_nickname(app, err, sizeof(err));
        ym_app__ack_error(ack, err);
        goto out;
    }
    if (plen > YM_APP_MAX_PASSWORD) {
        snprintf(err, sizeof(err), "Passwords must be at most %d bytes.", YM_APP_MAX_PASSWORD);
        ym_app__ack_error(ack, err);
        goto out;
    }
    bool created;
    ym_app_member_t *m = ym_app__join(app, s, room_name, nick, pw, plen, false, &created, err, sizeof(err));
    if (!m) {
        ym_app__ack_error(ack, err);
        goto out;
    }
    ym_app_room_t *room = ym_app__rooms_find(&app->rooms, room_name);
    json_t *you = ym_app__member_json(room, m);
    if (ack) {
        json_t *members = json_array();
        for (size_t i = 0; i < room->n; i++)
            json_array_append_new(members, ym_app__member_json(room, &room->members[i]));
        /* The ack waits for the room's history (messages: [...]). */
        ym_app__history_join_ack(app, room->name, ack,
                                 json_pack("{s:b, s:o, s:O, s:o}", "ok", 1, "room", ym_app__room_json(room),
                                           "you", you, "members", members));
    }
    ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
    ym_sio_bcast_to(&b, room->name);
    ym_sio_bcast_except(&b, ym_sio_socket_id(s));
    ym_app__bcast_json(&b, "member:join",
                       json_pack("[{s:s, s:o, s:I}]", "room", room->name, "member", you, "count",
                                 (json_int_t)room->n));
    ym_app__broadcast_rooms(app, NULL);
out:
    free(room_name);
    free(nick);
    json_decref(arr);
}

static void on_room_leave(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                          void *ud)
{
    ym_app_t *app = ud;
    APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = arg_object(args, ack, &arr);
    ym_app_room_t *room = o ? my_room(app, s, o, ack) : NULL;
    if (room) {
        ym_app__leave(app, s, room, true);
        if (ack)
            ym_app__ack_json(ack, json_pack("{s:b}", "ok", 1));
        ym_app__broadcast_rooms(app, NULL);
    }
    json_decref(arr);
}

static void on_room_lock(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                         void *ud)
{
    ym_app_t *app = ud;
    APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = arg_object(args, ack, &arr);
    ym_app_room_t *room = o ? my_room(app, s, o, ack) : NULL;
    if (!room)
        goto out;
    bool ok = true;
    size_t plen;
    const char *pw = field_str(o, "password", &plen, true, &ok);
    if (!ok) {
        ym_app__ack_error(ack, "Invalid arguments.");
        goto out;
    }
    if (plen > YM_APP_MAX_PASSWORD) {
        char err[80];
        snprintf(err, sizeof(err), "Passwords must be at most %d bytes.", YM_APP_MAX_PASSWORD);
        ym_app__ack_error(ack, err);
        goto out;
    }
    if (strcmp(room->creator_sid, ym_sio_socket_id(s)) != 0) {
        ym_app__ack_error(ack, "Only the room's creator can change its password.");
        goto out;
    }
    ym_app__room_set_password(room, pw, plen);
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "room", ym_app__room_json(room)));
    ym_app__broadcast_rooms(app, NULL);
out:
    json_decref(arr);
}

static void on_chat_send(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                         void *ud)
{
    ym_app_t *app = ud;
    APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = arg_object(args, ack, &arr);
    ym_app_room_t *room = o ? my_room(app, s, o, ack) : NULL;
    char *text = NULL;
    if (!room)
        goto out;
    bool ok = true;
    size_t tlen;
    const char *raw = field_str(o, "text", &tlen, false, &ok);
    if (!ok) {
        ym_app__ack_error(ack, "Invalid arguments.");
        goto out;
    }
    ym_app_text_err_t te = ym_app__text_clean(raw, tlen, app->cfg.max_message_chars, YM_APP_TEXT_MULTILINE, &text);
    /* A clip alone is a message (app_clips.c). */
    if (te == YM_APP_TEXT_EMPTY && ym_app__has_frames(o)) {
        te = YM_APP_TEXT_OK;
        text = ym_xstrdup("");
    }
    if (te != YM_APP_TEXT_OK) {
        char err[160];
        if (te == YM_APP_TEXT_CONTROL)
            snprintf(err, sizeof(err), "Messages cannot contain control characters.");
        else
            snprintf(err, sizeof(err), "Messages must be 1 to %zu characters.", app->cfg.max_message_chars);
        ym_app__ack_error(ack, err);
        goto out;
    }
    /* With a store, the message is committed before it is acked or
     * broadcast (app_history.c). */
    if (app->cfg.store) {
        ym_app__history_chat_send(app, s, room, o, text, args, ack);
        goto out;
    }
    char id[21];
    ym_random_id(id);
    ym_app_member_t *m = ym_app__room_member(room, ym_sio_socket_id(s));
    json_t *msg = json_pack("{s:s, s:s, s:o, s:s, s:I}", "id", id, "room", room->name, "from",
                            ym_app__member_json(room, m), "text", text, "ts", (json_int_t)ym_wall_ms());
    app->msg_seq++;
    ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
    ym_sio_bcast_to(&b, room->name);
    ym_sio_bcast_except(&b, ym_sio_socket_id(s));
    json_t *bargs = json_array();
    json_array_append(bargs, msg);
    ym_app__bcast_json(&b, "chat:message", bargs);
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "message", msg));
    else
        json_decref(msg);
out:
    free(text);
    json_decref(arr);
}

void ym_app__chat_install(ym_app_t *app)
{
    ym_sio_on(app->nsp, "rooms:list", on_rooms_list);
    ym_sio_on(app->nsp, "room:join", on_room_join);
    ym_sio_on(app->nsp, "room:leave", on_room_leave);
    ym_sio_on(app->nsp, "room:lock", on_room_lock);
    ym_sio_on(app->nsp, "chat:send", on_chat_send);
}
