/* app_chat.c: yoom's own events for its web UI (docs/PROTOCOL.md, "yoom's own
 * events"): the room list, joining and leaving, locking, chat messages. */
#include "app/app_internal.h"
#include "app/app_history.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/ym_codec.h"
#include "base/ym_time.h"

static void on_rooms_list(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                          void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "rooms", ym_app__rooms_json(app)));
}

/* Passwords are hashed with PBKDF2: bound the work a client can ask for. */
static bool password_len_ok(const ym_app_t *app, size_t plen, ym_sio_ack_t *ack)
{
    if (plen <= app->cfg.max_password_bytes)
        return true;
    char err[80];
    snprintf(err, sizeof(err), "Passwords must be at most %zu bytes.", app->cfg.max_password_bytes);
    ym_app__ack_error(ack, err);
    return false;
}

static void on_room_join(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                         void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = ym_app__arg_object(args, ack, &arr);
    char *room_name = NULL, *nick = NULL;
    char err[200];
    if (!o)
        goto out;
    bool ok = true;
    size_t rlen, nlen, plen;
    const char *raw_room = ym_app__field_str(o, "room", &rlen, false, &ok);
    const char *raw_name = ym_app__field_str(o, "name", &nlen, false, &ok);
    const char *pw = ym_app__field_str(o, "password", &plen, true, &ok);
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
    if (!password_len_ok(app, plen, ack))
        goto out;
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
    ym_app__tell_member(app, room, ym_sio_socket_id(s), "member:join", you);
    ym_app__broadcast_rooms(app, NULL);
out:
    free(room_name);
    free(nick);
    json_decref(arr);
}

static void room_leave(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                       ym_app_member_t *m, ym_sio_ack_t *ack)
{
    ym_app__leave(app, s, room, true); /* may free room */
    ym_app__ack_ok(ack);
    ym_app__broadcast_rooms(app, NULL);
}

static void room_lock(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                      ym_app_member_t *m, ym_sio_ack_t *ack)
{
    bool ok = true;
    size_t plen;
    const char *pw = ym_app__field_str(o, "password", &plen, true, &ok);
    if (!ok) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    if (!password_len_ok(app, plen, ack))
        return;
    if (strcmp(room->creator_sid, ym_sio_socket_id(s)) != 0) {
        ym_app__ack_error(ack, "Only the room's creator can change its password.");
        return;
    }
    ym_app__room_set_password(room, pw, plen);
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "room", ym_app__room_json(room)));
    ym_app__broadcast_rooms(app, NULL);
}

static void chat_send(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                      ym_app_member_t *m, ym_sio_ack_t *ack)
{
    bool ok = true;
    size_t tlen;
    const char *raw = ym_app__field_str(o, "text", &tlen, false, &ok);
    if (!ok) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    char *text = NULL;
    ym_app_text_err_t te = ym_app__text_clean(raw, tlen, app->cfg.max_message_chars, YM_APP_TEXT_MULTILINE, &text);
    /* A clip alone is a message (app_clips.c). */
    if (te == YM_APP_TEXT_EMPTY && ym_app__has_frames(o)) {
        te = YM_APP_TEXT_OK;
        text = ym_xstrdup("");
    }
    if (te != YM_APP_TEXT_OK) {
        ym_app__ack_text_error(app, ack, te);
        return;
    }
    /* With a store, the message is committed before it is acked or
     * broadcast (app_history.c). */
    if (app->cfg.store) {
        ym_app__history_chat_send(app, s, room, o, text, args, ack);
        free(text);
        return;
    }
    char id[21];
    ym_random_id(id);
    json_t *msg = json_pack("{s:s, s:s, s:o, s:s, s:I}", "id", id, "room", room->name, "from",
                            ym_app__member_json(room, m), "text", text, "ts", (json_int_t)ym_wall_ms());
    free(text);
    app->msg_seq++;
    ym_app__emit_room(app, room->name, ym_sio_socket_id(s), "chat:message", json_pack("[O]", msg));
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b, s:o}", "ok", 1, "message", msg));
    else
        json_decref(msg);
}

YM_APP_ROOM_HANDLER(on_room_leave, room_leave)
YM_APP_ROOM_HANDLER(on_room_lock, room_lock)
YM_APP_ROOM_HANDLER(on_chat_send, chat_send)

void ym_app__chat_install(ym_app_t *app)
{
    ym_sio_on(app->nsp, "rooms:list", on_rooms_list);
    ym_sio_on(app->nsp, "room:join", on_room_join);
    ym_sio_on(app->nsp, "room:leave", on_room_leave);
    ym_sio_on(app->nsp, "room:lock", on_room_lock);
    ym_sio_on(app->nsp, "chat:send", on_chat_send);
}
