/* app_util.c: what every event handler of the app does the same way:
 * reading and type-checking a client's arguments, the shared error replies,
 * "is the sender in this room", and emitting JSON to a room or one socket.
 * One copy here so that the checks cannot drift apart between protocols. */
#include "app/app_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arguments ---- */

json_t *ym_app__arg_object(const ym_sio_args_t *args, ym_sio_ack_t *ack, json_t **arr)
{
    *arr = ym_app__args(args);
    json_t *o = *arr ? json_array_get(*arr, 0) : NULL;
    if (!json_is_object(o)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return NULL;
    }
    return o;
}

const char *ym_app__arg_str(json_t *arr, size_t i, size_t *len)
{
    json_t *v = arr ? json_array_get(arr, i) : NULL;
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

const char *ym_app__field_str(json_t *o, const char *key, size_t *len, bool optional, bool *ok)
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

bool ym_app__is_cstr(json_t *v)
{
    /* Arguments are parsed with JSON_ALLOW_NUL: a name with a NUL inside
     * would otherwise look like its shorter prefix to every C string API. */
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* ---- rooms of the sender ---- */

/* The room named by o.room of which s is a member (*mp the member), or NULL
 * after an error ack. */
static ym_app_room_t *my_room(ym_app_t *app, ym_sio_socket_t *s, json_t *o, ym_sio_ack_t *ack, ym_app_member_t **mp)
{
    json_t *v = json_object_get(o, "room");
    if (!ym_app__is_cstr(v)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return NULL;
    }
    ym_app_room_t *room = ym_app__rooms_find(&app->rooms, json_string_value(v));
    ym_app_member_t *m = room ? ym_app__room_member(room, ym_sio_socket_id(s)) : NULL;
    if (!m) {
        ym_app__ack_error(ack, "You are not in this room.");
        return NULL;
    }
    *mp = m;
    return room;
}

void ym_app__room_event(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                        ym_app_room_event_fn fn)
{
    YM_APP_OR_DROP(app, ack);
    json_t *arr;
    json_t *o = ym_app__arg_object(args, ack, &arr);
    ym_app_member_t *m = NULL;
    ym_app_room_t *room = o ? my_room(app, s, o, ack, &m) : NULL;
    if (room)
        fn(app, s, args, o, room, m, ack);
    json_decref(arr);
}

bool ym_app__in_shared_room(ym_app_t *app, ym_sio_socket_t *s, const char *room, ym_sio_ack_t *ack)
{
    /* Every socket is "in" the room named by its own id: relaying there
     * would reach that one person, whoever they are. */
    if (!ym_sio_in_room(s, room) || ym_sio_find_socket(app->nsp, room)) {
        ym_app__ack_error(ack, "You are not in this room.");
        return false;
    }
    return true;
}

ym_app_room_t *ym_app__seed_enter(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                                  bool *joined)
{
    *joined = false;
    if (!app) { /* after ym_app_free, as YM_APP_OR_DROP */
        if (ack)
            ym_sio_ack_free(ack);
        return NULL;
    }
    ym_app_sock_t *st = ym_app__sock(s);
    json_t *arr = ym_app__args(args);
    size_t len = 0;
    const char *raw = ym_app__arg_str(arr, 0, &len);
    char err[200];
    char *name = NULL;
    ym_app_room_t *r = NULL;
    if (!st || !raw) {
        ym_app__ack_error(ack, "Invalid arguments.");
        goto out;
    }
    if (!ym_app__clean_room_name(app, raw, len, &name, err, sizeof(err))) {
        ym_app__ack_error(ack, err);
        goto out;
    }
    const char *sid = ym_sio_socket_id(s);
    r = ym_app__rooms_find(&app->rooms, name);
    if (!(r && ym_app__room_member(r, sid))) {
        bool created;
        ym_app_member_t *m = ym_app__join(app, s, name, st->nick, NULL, 0, true, &created, err, sizeof(err));
        if (!m) {
            ym_app__ack_error(ack, err);
            r = NULL;
            goto out;
        }
        r = ym_app__rooms_find(&app->rooms, name);
        /* yoom's UI shows seed clients in its member lists too. */
        ym_app__tell_member(app, r, sid, "member:join", ym_app__member_json(r, m));
        *joined = true;
    }
    /* The seeds' done() callback comes before anything the room hears. */
    if (ack)
        ym_sio_ack_send(ack, "[]");
out:
    free(name);
    json_decref(arr);
    return r;
}

/* ---- replies ---- */

void ym_app__ack_ok(ym_sio_ack_t *ack)
{
    if (ack)
        ym_app__ack_json(ack, json_pack("{s:b}", "ok", 1));
}

void ym_app__ack_text_error(const ym_app_t *app, ym_sio_ack_t *ack, ym_app_text_err_t te)
{
    char err[160];
    if (te == YM_APP_TEXT_CONTROL)
        snprintf(err, sizeof(err), "Messages cannot contain control characters.");
    else
        snprintf(err, sizeof(err), "Messages must be 1 to %zu characters.", app->cfg.max_message_chars);
    ym_app__ack_error(ack, err);
}

const char *ym_app__encode_err(int rc)
{
    return rc == -EBUSY ? "Busy, try again: the server is encoding other clips right now."
                        : "The server is shutting down.";
}

void ym_app__clip_err(char *out, size_t n, const char *err)
{
    snprintf(out, n, "The clip could not be made: %s.", err);
}

bool ym_app__get_or_head(ym_http_req_t *req)
{
    if (ym_str_eq_lit(req->method, "GET") || ym_str_eq_lit(req->method, "HEAD"))
        return true;
    ym_http_respond(req, 405, "text/plain; charset=utf-8", "method not allowed\n", 19, "Allow: GET, HEAD\r\n");
    return false;
}

/* ---- emitting ---- */

ym_sio_bcast_t ym_app__room_bcast(const ym_app_t *app, const char *room, const char *except_sid)
{
    ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
    ym_sio_bcast_to(&b, room);
    ym_sio_bcast_except(&b, except_sid);
    return b;
}

void ym_app__emit_room(const ym_app_t *app, const char *room, const char *except_sid, const char *event,
                       json_t *args)
{
    ym_sio_bcast_t b = ym_app__room_bcast(app, room, except_sid);
    ym_app__bcast_json(&b, event, args);
}

void ym_app__tell_member(const ym_app_t *app, const ym_app_room_t *room, const char *except_sid,
                         const char *event, json_t *member)
{
    ym_app__emit_room(app, room->name, except_sid, event,
                      json_pack("[{s:s, s:o, s:I}]", "room", room->name, "member", member, "count",
                                (json_int_t)room->n));
}

void ym_app__emit_json(ym_sio_socket_t *s, const char *event, json_t *args)
{
    char *text = ym_app__json_text(args);
    (void)ym_sio_emit(s, event, text);
    free(text);
}
