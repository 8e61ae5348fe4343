/* app_seed004.c: seed 004's chat protocol, event for event, so the seed's own
 * client runs unchanged (docs/PROTOCOL.md, "Seed 004 chat"). */
#include "app/app_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/ym_buf.h"

typedef struct public_rooms {
    ym_sio_nsp_t *nsp;
    const char *except;
    json_t *arr;
} public_rooms_t;

static void collect_public(const char *room, size_t size, void *ud)
{
    public_rooms_t *pr = ud;
    /* The seed's publicRooms(): adapter rooms that are not a socket's own room. */
    if (size == 0 || ym_sio_find_socket(pr->nsp, room) || (pr->except && strcmp(room, pr->except) == 0))
        return;
    json_array_append_new(pr->arr, json_string(room));
}

void ym_app__seed004_room_change(ym_app_t *app, const char *except_sid)
{
    public_rooms_t pr = { app->nsp, except_sid, json_array() };
    ym_sio_rooms_foreach(app->nsp, collect_public, &pr);
    ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
    if (except_sid)
        ym_sio_bcast_except(&b, except_sid);
    json_t *args = json_array();
    json_array_append_new(args, pr.arr);
    ym_app__bcast_json(&b, "room_change", args);
}

static void on_nickname(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                        void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    ym_app_sock_t *st = ym_app__sock(s);
    json_t *arr = ym_app__args(args);
    size_t len = 0;
    const char *name = ym_app__arg_str(arr, 0, &len);
    char *clean = NULL;
    if (!st || !name || ym_app__text_clean(name, len, app->cfg.max_nickname_chars, 0, &clean) != YM_APP_TEXT_OK) {
        char err[160];
        ym_app__err_nickname(app, err, sizeof(err));
        ym_app__ack_error(ack, err);
        json_decref(arr);
        return;
    }
    json_decref(arr);
    free(st->nick);
    st->nick = clean;
    /* The seed's nickname takes no ack; answer one if the client asked. */
    if (ack)
        ym_sio_ack_send(ack, "[]");
}

static void on_enter_room(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                          void *ud)
{
    ym_app_t *app = ud;
    bool joined;
    ym_app_room_t *r = ym_app__seed_enter(app, s, args, ack, &joined);
    if (!r)
        return;
    ym_app_sock_t *st = ym_app__sock(s);
    /* Like socket.io's join: entering a room again changes nothing but the
     * seed's events still follow. Order as in the seed: done(), welcome, room_change. */
    ym_app__emit_room(app, r->name, ym_sio_socket_id(s), "welcome",
                      json_pack("[s, I]", st->nick, (json_int_t)ym_sio_room_size(app->nsp, r->name)));
    ym_app__broadcast_rooms(app, NULL);
}

static void on_new_message(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                           void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    ym_app_sock_t *st = ym_app__sock(s);
    json_t *arr = ym_app__args(args);
    size_t len = 0, rlen = 0;
    const char *text = ym_app__arg_str(arr, 0, &len);
    const char *room = ym_app__arg_str(arr, 1, &rlen);
    if (!st || !text || !ym_app__is_cstr(json_array_get(arr, 1))) {
        ym_app__ack_error(ack, "Invalid arguments.");
        json_decref(arr);
        return;
    }
    char *clean = NULL;
    ym_app_text_err_t te = ym_app__text_clean(text, len, app->cfg.max_message_chars, YM_APP_TEXT_MULTILINE, &clean);
    if (te != YM_APP_TEXT_OK) {
        ym_app__ack_text_error(app, ack, te);
        json_decref(arr);
        return;
    }
    free(clean);
    if (!ym_app__in_shared_room(app, s, room, ack)) {
        json_decref(arr);
        return;
    }
    /* The seed relays the text as sent, prefixed with the sender's nickname. */
    ym_buf_t line = YM_BUF_INIT;
    ym_buf_append_str(&line, st->nick);
    ym_buf_append_str(&line, ": ");
    ym_buf_append(&line, text, len);
    ym_app__emit_room(app, room, ym_sio_socket_id(s), "new_message", json_pack("[s%]", line.data, line.len));
    ym_buf_free(&line);
    json_decref(arr);
    if (ack)
        ym_sio_ack_send(ack, "[]");
}

static void collect_room(const char *room, void *ud)
{
    json_array_append_new(ud, json_string(room));
}

void ym_app__seed004_disconnecting(ym_app_t *app, ym_sio_socket_t *s)
{
    ym_app_sock_t *st = ym_app__sock(s);
    const char *sid = ym_sio_socket_id(s);
    /* Collect first: emitting while walking the socket's rooms is not allowed. */
    json_t *rooms = json_array();
    ym_sio_socket_rooms_foreach(s, collect_room, rooms);
    size_t i;
    json_t *v;
    json_array_foreach(rooms, i, v) {
        const char *room = json_string_value(v);
        /* As the seed: to each room, own room included, with the size it will have. */
        size_t size = ym_sio_room_size(app->nsp, room);
        ym_app__emit_room(app, room, sid, "bye",
                          json_pack("[s, I]", st ? st->nick : "Anon", (json_int_t)(size ? size - 1 : 0)));
    }
    json_decref(rooms);
}

void ym_app__seed004_install(ym_app_t *app)
{
    ym_sio_on(app->nsp, "nickname", on_nickname);
    ym_sio_on(app->nsp, "enter_room", on_enter_room);
    ym_sio_on(app->nsp, "new_message", on_new_message);
}
