/* app_call.c: call signalling (docs/PROTOCOL.md, "Calls (signalling)").
 *
 * The server never sees media: browsers connect to each other (a WebRTC mesh,
 * one peer connection per pair of members) and yoom only carries their
 * session descriptions and ICE candidates. Two protocols:
 *
 *   - seed 004's video half: join_room(room[, done]), then offer/answer/ice
 *     relayed to the rest of the room with their first argument only;
 *   - yoom's own: call:join/leave/state, and call:signal addressed to ONE
 *     member by socket id and stamped with the sender's id, so every pair of
 *     members negotiates its own connection.
 *
 * Both relay only between members of the same room: a room name that is a
 * socket id (everyone's private room) is refused, and a target must be a
 * member of the sender's room. Sizes are checked on the raw argument text
 * before jansson parses (and allocates) anything.
 */
#include "app/app_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Room for the JSON around a description or candidate (room name, ids,
 * field names, escaping of a few quotes): far more than any honest client
 * needs, small next to the SDP limit. */
#define ENVELOPE_BYTES 4096

static size_t args_limit(const ym_app_t *app)
{
    return YM_MAX(app->cfg.max_sdp_bytes, app->cfg.max_candidate_bytes) + ENVELOPE_BYTES;
}

static void err_too_big(const ym_app_t *app, ym_sio_ack_t *ack)
{
    char msg[120];
    snprintf(msg, sizeof(msg), "Session descriptions must be at most %zu bytes.", app->cfg.max_sdp_bytes);
    ym_app__ack_error(ack, msg);
}

/* The raw argument text within the limit and no attachments, checked before
 * jansson parses (and allocates) anything; else false after an error ack. */
static bool args_size_ok(const ym_app_t *app, const ym_sio_args_t *args, ym_sio_ack_t *ack)
{
    if (args->json_len > args_limit(app) || args->nbins) {
        err_too_big(app, ack);
        return false;
    }
    return true;
}

/* ---- seed 004's video protocol ---- */

/* The seed's join_room(roomName[, done]): socket.join, done(), welcome() to
 * the others. yoom also registers the seed client as a member (cap, password,
 * member lists), as enter_room does. */
static void on_join_room(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                         void *ud)
{
    ym_app_t *app = ud;
    bool joined;
    ym_app_room_t *r = ym_app__seed_enter(app, s, args, ack, &joined);
    if (!r)
        return;
    /* The seed's order: done() first (its client starts the camera there),
     * then welcome() to the others, who answer with an offer. */
    ym_sio_bcast_t b = ym_app__room_bcast(app, r->name, ym_sio_socket_id(s));
    /* Seed 004's notes spell it "Welcome" in the server and the design
     * table "welcome": event names are case-sensitive, so both go out and
     * the client listens to the one it knows. */
    ym_sio_bcast_emit(&b, "welcome", "[]");
    ym_sio_bcast_emit(&b, "Welcome", "[]");
    if (joined)
        ym_app__broadcast_rooms(app, NULL);
}

/* offer(offer, room), answer(answer, room), ice(candidate, room): the first
 * argument goes to the others in room, exactly as the seed's server does. */
static void on_seed_relay(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                          void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    if (!args_size_ok(app, args, ack))
        return;
    json_t *arr = ym_app__args(args);
    json_t *payload = arr ? json_array_get(arr, 0) : NULL;
    json_t *room = arr ? json_array_get(arr, 1) : NULL;
    bool is_ice = strcmp(event, "ice") == 0;
    /* Descriptions are objects; a candidate may also be null (the seed sends
     * the end-of-candidates event as is). */
    bool shape_ok = payload && (json_is_object(payload) || (is_ice && json_is_null(payload)));
    if (!shape_ok || !ym_app__is_cstr(room)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        goto out;
    }
    const char *name = json_string_value(room);
    /* Only within a room the sender is in, and never into someone's
     * private room (which every socket is "in"). */
    if (!ym_app__in_shared_room(app, s, name, ack))
        goto out;
    ym_app__emit_room(app, name, ym_sio_socket_id(s), event, json_pack("[O]", payload));
    if (ack)
        ym_sio_ack_send(ack, "[]");
    ack = NULL;
out:
    json_decref(arr);
}

/* ---- yoom's own call events ---- */

/* Optional boolean o[key]: absent/null keeps *bit as dflt; false if it is
 * there but not a boolean. */
static bool media_flag(json_t *o, const char *key, unsigned bit, bool dflt, unsigned *media)
{
    json_t *v = json_object_get(o, key);
    bool on = dflt;
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return false;
        on = json_is_true(v);
    }
    if (on)
        *media |= bit;
    else
        *media &= ~bit;
    return true;
}

static json_t *peer_json(const ym_app_member_t *m)
{
    return json_pack("{s:s, s:s, s:b, s:b, s:b}", "id", m->sid, "name", m->name, "audio",
                     (m->call_media & YM_APP_MEDIA_AUDIO) != 0, "video", (m->call_media & YM_APP_MEDIA_VIDEO) != 0,
                     "screen", (m->call_media & YM_APP_MEDIA_SCREEN) != 0);
}

/* event({room, peer}) to the other members of room. */
static void tell_room(ym_app_t *app, const ym_app_room_t *room, const ym_app_member_t *m, const char *event)
{
    ym_app__emit_room(app, room->name, m->sid, event,
                      json_pack("[{s:s, s:o}]", "room", room->name, "peer", peer_json(m)));
}

static bool read_media(json_t *o, unsigned *media)
{
    return media_flag(o, "audio", YM_APP_MEDIA_AUDIO, (*media & YM_APP_MEDIA_AUDIO) != 0, media) &&
           media_flag(o, "video", YM_APP_MEDIA_VIDEO, (*media & YM_APP_MEDIA_VIDEO) != 0, media) &&
           media_flag(o, "screen", YM_APP_MEDIA_SCREEN, (*media & YM_APP_MEDIA_SCREEN) != 0, media);
}

static void call_join(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                      ym_app_member_t *m, ym_sio_ack_t *ack)
{
    if (m->in_call) {
        ym_app__ack_error(ack, "You are already in the call.");
        return;
    }
    unsigned media = YM_APP_MEDIA_AUDIO | YM_APP_MEDIA_VIDEO;
    if (!read_media(o, &media)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    m->in_call = true;
    m->call_media = (uint8_t)media;
    if (ack) {
        /* The newcomer learns who is already in the call; each side then
         * opens a connection to the other (perfect negotiation sorts out
         * who offers). */
        json_t *peers = json_array();
        for (size_t i = 0; i < room->n; i++) {
            const ym_app_member_t *p = &room->members[i];
            if (p->in_call && p != m)
                json_array_append_new(peers, peer_json(p));
        }
        ym_app__ack_json(ack, json_pack("{s:b, s:s, s:o}", "ok", 1, "id", m->sid, "peers", peers));
    }
    tell_room(app, room, m, "call:peer-join");
}

static void call_leave(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                       ym_app_member_t *m, ym_sio_ack_t *ack)
{
    /* Leaving twice is harmless: the UI may leave on page hide and again on click. */
    if (m->in_call) {
        m->in_call = false;
        m->call_media = 0;
        tell_room(app, room, m, "call:peer-leave");
    }
    ym_app__ack_ok(ack);
}

static void call_state(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                       ym_app_member_t *m, ym_sio_ack_t *ack)
{
    if (!m->in_call) {
        ym_app__ack_error(ack, "You are not in the call.");
        return;
    }
    unsigned media = m->call_media;
    if (!read_media(o, &media)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    m->call_media = (uint8_t)media;
    tell_room(app, room, m, "call:peer-state");
    ym_app__ack_ok(ack);
}

YM_APP_ROOM_HANDLER(on_call_join, call_join)
YM_APP_ROOM_HANDLER(on_call_leave, call_leave)
YM_APP_ROOM_HANDLER(on_call_state, call_state)

/* Optional string-or-null member copied into dst; false if of another type. */
static bool copy_opt_string(json_t *src, const char *key, json_t *dst, size_t max)
{
    json_t *v = json_object_get(src, key);
    if (!v)
        return true;
    if (json_is_null(v)) {
        json_object_set_new(dst, key, json_null());
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) > max)
        return false;
    json_object_set_new(dst, key, json_stringn(json_string_value(v), json_string_length(v)));
    return true;
}

/* A clean copy of an RTCSessionDescriptionInit ({type, sdp}), or NULL. */
static json_t *clean_description(const ym_app_t *app, json_t *d, bool *too_big)
{
    json_t *type = json_object_get(d, "type");
    json_t *sdp = json_object_get(d, "sdp");
    if (!json_is_object(d) || !json_is_string(type))
        return NULL;
    const char *t = json_string_value(type);
    if (strcmp(t, "offer") != 0 && strcmp(t, "answer") != 0 && strcmp(t, "pranswer") != 0 &&
        strcmp(t, "rollback") != 0)
        return NULL;
    if (sdp && !json_is_null(sdp) && !json_is_string(sdp))
        return NULL;
    if (json_is_string(sdp) && json_string_length(sdp) > app->cfg.max_sdp_bytes) {
        *too_big = true;
        return NULL;
    }
    return json_pack("{s:s, s:s%}", "type", t, "sdp", json_is_string(sdp) ? json_string_value(sdp) : "",
                     json_is_string(sdp) ? json_string_length(sdp) : (size_t)0);
}

/* A clean copy of an RTCIceCandidateInit, or JSON null for the
 * end-of-candidates signal; NULL if malformed. */
static json_t *clean_candidate(const ym_app_t *app, json_t *c)
{
    if (json_is_null(c))
        return json_null();
    if (!json_is_object(c))
        return NULL;
    json_t *out = json_object();
    json_t *line = json_object_get(c, "candidate");
    json_t *idx = json_object_get(c, "sdpMLineIndex");
    bool ok = json_is_string(line) && json_string_length(line) <= app->cfg.max_candidate_bytes;
    if (ok)
        json_object_set_new(out, "candidate", json_stringn(json_string_value(line), json_string_length(line)));
    ok = ok && copy_opt_string(c, "sdpMid", out, 256) && copy_opt_string(c, "usernameFragment", out, 256);
    if (ok && idx && !json_is_null(idx)) {
        json_int_t i = json_is_integer(idx) ? json_integer_value(idx) : -1;
        ok = i >= 0 && i <= 65535;
        if (ok)
            json_object_set_new(out, "sdpMLineIndex", json_integer(i));
    } else if (ok && idx) {
        json_object_set_new(out, "sdpMLineIndex", json_null());
    }
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static void call_signal(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o, ym_app_room_t *room,
                        ym_app_member_t *m, ym_sio_ack_t *ack)
{
    if (!m->in_call) {
        ym_app__ack_error(ack, "You are not in the call.");
        return;
    }
    json_t *to = json_object_get(o, "to");
    json_t *desc = json_object_get(o, "description");
    json_t *cand = json_object_get(o, "candidate");
    if (!ym_app__is_cstr(to) || (!desc == !cand)) {
        ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    /* The target must be in the sender's room and call: a socket id from
     * elsewhere gets nothing, whatever the sender knows of it. */
    const ym_app_member_t *peer = ym_app__room_member(room, json_string_value(to));
    ym_sio_socket_t *ts = peer && peer->in_call && peer != m ? ym_sio_find_socket(app->nsp, peer->sid) : NULL;
    if (!ts) {
        ym_app__ack_error(ack, "That person is not in this call.");
        return;
    }
    bool too_big = false;
    json_t *clean = desc ? clean_description(app, desc, &too_big) : clean_candidate(app, cand);
    if (!clean) {
        if (too_big)
            err_too_big(app, ack);
        else
            ym_app__ack_error(ack, "Invalid arguments.");
        return;
    }
    ym_app__emit_json(ts, "call:signal",
                      json_pack("[{s:s, s:s, s:o}]", "room", room->name, "from", m->sid,
                                desc ? "description" : "candidate", clean));
    ym_app__ack_ok(ack);
}

static void on_call_signal(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                           void *ud)
{
    ym_app_t *app = ud;
    YM_APP_OR_DROP(app, ack);
    if (!args_size_ok(app, args, ack))
        return;
    ym_app__room_event(app, s, args, ack, call_signal);
}

void ym_app__call_install(ym_app_t *app)
{
    ym_sio_on(app->nsp, "join_room", on_join_room);
    ym_sio_on(app->nsp, "offer", on_seed_relay);
    ym_sio_on(app->nsp, "answer", on_seed_relay);
    ym_sio_on(app->nsp, "ice", on_seed_relay);
    ym_sio_on(app->nsp, "call:join", on_call_join);
    ym_sio_on(app->nsp, "call:leave", on_call_leave);
    ym_sio_on(app->nsp, "call:state", on_call_state);
    ym_sio_on(app->nsp, "call:signal", on_call_signal);
}
