/* app_internal.h: what the files of src/app share (not exported).
 *
 *   app_text.c     validation and trimming of names and messages
 *   app_rooms.c    the room registry: rooms, members, unique display names, passwords
 *   app_seed004.c  seed 004's chat protocol
 *   app_chat.c     yoom's own events (rooms:list, room:join, chat:send, ...)
 *   app_call.c     call signalling: seed 004's video events and yoom's call:* events
 *   app_ice.c      GET /api/ice-servers
 *   ym_app.c       wiring: handlers, per-socket state, disconnects, the /r/ route
 *   app_util.c     argument checks, shared replies, room-scoped emits (all handlers)
 *
 * Threading: loop thread only. The registry (app_rooms.c, app_text.c) calls no
 * Socket.IO function, so the unit tests link it alone.
 */
#ifndef YM_APP_INTERNAL_H
#define YM_APP_INTERNAL_H

#include <jansson.h>

#include "app/ym_app.h"
#include "base/ym_base.h"

/* ---- text (app_text.c) ---- */

typedef enum ym_app_text_err {
    YM_APP_TEXT_OK = 0,
    YM_APP_TEXT_EMPTY,      /* nothing left after trimming */
    YM_APP_TEXT_TOO_LONG,   /* more code points than allowed */
    YM_APP_TEXT_CONTROL,    /* C0/C1 control character (or one not allowed here) */
    YM_APP_TEXT_UTF8,       /* not valid UTF-8 (jansson checks too; kept for direct callers) */
} ym_app_text_err_t;

#define YM_APP_TEXT_MULTILINE 1u   /* allow \n and \t (messages) */

/* Trims whitespace (ASCII and Unicode spaces) at both ends, then checks length (1..max_chars
 * code points) and characters. On success *out is a NUL-terminated copy the
 * caller frees; on error *out is NULL and nothing is allocated. */
ym_app_text_err_t ym_app__text_clean(const char *in, size_t len, size_t max_chars, unsigned flags, char **out);

/* The longest prefix of valid UTF-8 s (len bytes) of at most max bytes that
 * ends on a code point boundary: quoting a client's text back in a bounded
 * reply must stay valid UTF-8, or jansson refuses the whole reply. */
size_t ym_app__utf8_prefix(const char *s, size_t len, size_t max);

/* ---- registry (app_rooms.c) ---- */

#define YM_APP_SALT_LEN 16
#define YM_APP_HASH_LEN 32

typedef struct ym_app_member {
    char *sid;          /* Socket.IO socket id (owned) */
    char *name;         /* display name, unique within the room (owned) */
    bool seed;          /* joined by seed 004's enter_room */
    bool in_call;       /* joined the room's call (app_call.c) */
    uint8_t call_media; /* YM_APP_MEDIA_* the member sends, while in_call */
} ym_app_member_t;

#define YM_APP_MEDIA_AUDIO  1u
#define YM_APP_MEDIA_VIDEO  2u
#define YM_APP_MEDIA_SCREEN 4u

typedef struct ym_app_room {
    char *name;                 /* owned */
    char *creator_sid;          /* owned; the first member, even after leaving */
    char *creator_name;         /* owned; display name at creation */
    bool locked;
    uint8_t salt[YM_APP_SALT_LEN];
    uint8_t hash[YM_APP_HASH_LEN];
    ym_app_member_t *members;   /* array of n, owned */
    size_t n, cap;
} ym_app_room_t;

typedef struct ym_app_rooms {
    ym_app_room_t **v;          /* creation order; owned */
    size_t n, cap;
} ym_app_rooms_t;

ym_app_room_t *ym_app__rooms_find(const ym_app_rooms_t *r, const char *name);
/* Creates an empty room (name copied). The caller checks the room limit. */
ym_app_room_t *ym_app__rooms_create(ym_app_rooms_t *r, const char *name, const char *creator_sid,
                                    const char *creator_name);
/* Removes and frees the room (it need not be empty). */
void ym_app__rooms_delete(ym_app_rooms_t *r, ym_app_room_t *room);
void ym_app__rooms_free(ym_app_rooms_t *r);

ym_app_member_t *ym_app__room_member(const ym_app_room_t *room, const char *sid);
/* Adds sid with wanted as its display name, or "wanted (2)", "wanted (3)"...
 * if taken. Returns the member (valid until the room's member list changes). */
ym_app_member_t *ym_app__room_add(ym_app_room_t *room, const char *sid, const char *wanted, bool seed);
/* Removes sid; returns false if it was not a member. */
bool ym_app__room_remove(ym_app_room_t *room, const char *sid);

/* Passwords: PBKDF2-HMAC-SHA256 with a fresh random salt; the clear text is
 * not kept. len 0 unlocks. Checking compares in constant time. */
void ym_app__room_set_password(ym_app_room_t *room, const char *pw, size_t len);
bool ym_app__room_check_password(const ym_app_room_t *room, const char *pw, size_t len);

/* ---- the app (ym_app.c) ---- */

typedef struct ym_app_sock {
    struct ym_app_sock *prev, *next;   /* app->socks list, so ym_app_free frees them all */
    char *id;                          /* socket id (owned) */
    char *nick;                        /* seed 004 nickname, default "Anon" (owned) */
} ym_app_sock_t;

struct ym_app {
    uv_loop_t *loop;
    ym_http_server_t *http;
    ym_sio_t *sio;
    ym_sio_nsp_t *nsp;
    ym_app_config_t cfg;
    char *web_root;
    ym_app_rooms_t rooms;
    ym_app_sock_t socks;               /* list head */
    uint64_t msg_seq;
    /* History and clips (app_history.h). */
    ym_media_config_t media_cfg;        /* copy of cfg.media_cfg (or the defaults) */
    struct ym_app_clips *clips;         /* GET /clips cache (app_clips.c) */
    struct ym_app_seed000 *seed000;     /* seed 000's cached history (app_seed000.c) */
    unsigned pending;                   /* async messages/clips/history reads in flight */
    bool draining;                      /* ym_app_drain was called: refuse new work */
    void (*drain_done)(void *ud);
    void *drain_ud;
    bool drain_fired;                   /* drain_done scheduled (once) */
    struct ym_app_admin *admin;         /* /admin namespace (app_admin.h); NULL when off */
};

/* Compact JSON text of v (malloc'd, caller frees); decrefs v. Aborts on OOM. */
char *ym_app__json_text(json_t *v);
/* Replies to an ack with [{"error": msg}] (ack may be NULL: then nothing). */
void ym_app__ack_error(ym_sio_ack_t *ack, const char *msg);
/* Replies with [obj] and decrefs obj; frees ack. */
void ym_app__ack_json(ym_sio_ack_t *ack, json_t *obj);
/* Emits event with args (a JSON array, decref'd) to b. */
void ym_app__bcast_json(const ym_sio_bcast_t *b, const char *event, json_t *args);
/* Parses the args array; NULL if it is not valid JSON. Caller decrefs. */
json_t *ym_app__args(const ym_sio_args_t *args);

/* ---- shared by the event handlers (app_util.c) ---- */

/* After ym_app_free the per-event handlers may still be registered, with a
 * NULL ud: they then drop the event (and free its ack). */
#define YM_APP_OR_DROP(app, ack)          \
    do {                                  \
        if (!(app)) {                     \
            if (ack)                      \
                ym_sio_ack_free(ack);     \
            return;                       \
        }                                 \
    } while (0)

/* The one object argument of a yoom event ([ {...} ]), or NULL after an
 * "Invalid arguments." ack. *arr is the parsed array (may be NULL): the
 * caller decrefs it in every case; the object is borrowed from it. */
json_t *ym_app__arg_object(const ym_sio_args_t *args, ym_sio_ack_t *ack, json_t **arr);
/* arr[i] if it is a string (borrowed from arr, *len its byte length), else
 * NULL. arr may be NULL. */
const char *ym_app__arg_str(json_t *arr, size_t i, size_t *len);
/* String member o[key] (borrowed, *len its byte length). Absent or null:
 * NULL, and *ok = false unless optional. Another type: NULL, *ok = false.
 * *ok is only ever cleared, so several fields can share one flag. */
const char *ym_app__field_str(json_t *o, const char *key, size_t *len, bool optional, bool *ok);
/* v is a string without NUL bytes inside (safe to use as a C string). */
bool ym_app__is_cstr(json_t *v);

/* The body of a yoom event about one of the sender's rooms ({room, ...}):
 * o is the argument object and room/m the sender's room and membership, all
 * checked; borrowed for the call (room and m only until the room's members
 * change). Takes ack (answers or frees it). */
typedef void (*ym_app_room_event_fn)(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, json_t *o,
                                     ym_app_room_t *room, ym_app_member_t *m, ym_sio_ack_t *ack);
/* The common front of those events: drops the event after ym_app_free (app
 * NULL), parses [ {room, ...} ], finds the room named by o.room of which s is
 * a member, and calls fn; or acks "Invalid arguments." / "You are not in this
 * room.". Takes ack. */
void ym_app__room_event(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                        ym_app_room_event_fn fn);
/* Defines the Socket.IO handler `name` that runs fn through ym_app__room_event. */
#define YM_APP_ROOM_HANDLER(name, fn)                                                                  \
    static void name(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, \
                     void *ud)                                                                         \
    {                                                                                                  \
        ym_app__room_event(ud, s, args, ack, fn);                                                      \
    }
/* The seed relays: s is in the Socket.IO room `room` and it is not a
 * socket's private room; else false after "You are not in this room.". */
bool ym_app__in_shared_room(ym_app_t *app, ym_sio_socket_t *s, const char *room, ym_sio_ack_t *ack);
/* The front of the seed protocols' joins, enter_room(name) and
 * join_room(name): drops the event if app is NULL, checks the socket's state and the name (args[0]), then
 * joins it as the socket's nickname unless s is already a member, telling
 * the room's yoom members (member:join), and acks [] (the seeds' done()).
 * Returns the room, *joined whether s was added; or NULL after an error ack
 * (nothing changed). Takes ack in every case. */
ym_app_room_t *ym_app__seed_enter(ym_app_t *app, ym_sio_socket_t *s, const ym_sio_args_t *args, ym_sio_ack_t *ack,
                                  bool *joined);

/* Acks [{"ok":true}] (ack may be NULL: then nothing). Takes ack. */
void ym_app__ack_ok(ym_sio_ack_t *ack);
/* Acks the message error for a failed ym_app__text_clean of a message. Takes ack. */
void ym_app__ack_text_error(const ym_app_t *app, ym_sio_ack_t *ack, ym_app_text_err_t te);
/* The reason for a synchronous ym_media_encode failure rc (static string). */
const char *ym_app__encode_err(int rc);
/* "The clip could not be made: <err>." into out. */
void ym_app__clip_err(char *out, size_t n, const char *err);

/* The app's pages are read-only: true for GET and HEAD; otherwise answers
 * 405 with Allow: GET, HEAD and returns false (the route returns DONE). */
bool ym_app__get_or_head(ym_http_req_t *req);

/* A broadcast to room, except the socket (or room) except_sid. Both strings
 * are borrowed by the returned value: use it before they change. */
ym_sio_bcast_t ym_app__room_bcast(const ym_app_t *app, const char *room, const char *except_sid);
/* Emits event with args (a JSON array, decref'd) to room except except_sid. */
void ym_app__emit_room(const ym_app_t *app, const char *room, const char *except_sid, const char *event,
                       json_t *args);
/* event([{room, member, count}]) to room except except_sid (member:join,
 * member:leave); member is stolen. */
void ym_app__tell_member(const ym_app_t *app, const ym_app_room_t *room, const char *except_sid,
                         const char *event, json_t *member);
/* Emits event with args (a JSON array, decref'd) to the one socket s. */
void ym_app__emit_json(ym_sio_socket_t *s, const char *event, json_t *args);

/* The messages of docs/PROTOCOL.md, with the configured limits. */
void ym_app__err_room_name(const ym_app_t *app, char *out, size_t n);
void ym_app__err_nickname(const ym_app_t *app, char *out, size_t n);

/* Checks a room name for joining: valid text and not a socket id. On success
 * *out is the cleaned name (caller frees); else NULL with err filled. */
bool ym_app__clean_room_name(ym_app_t *app, const char *s, size_t len, char **out, char *err, size_t errn);

/* Room membership shared by both protocols: checks cap and password, creates
 * the room if missing, joins the Socket.IO room and the registry. Returns the
 * member, or NULL with err filled (nothing changed). password may be NULL. */
ym_app_member_t *ym_app__join(ym_app_t *app, ym_sio_socket_t *s, const char *room, const char *name,
                              const char *password, size_t pw_len, bool seed, bool *created,
                              char *err, size_t errn);
/* Leaves one room: registry, Socket.IO room (if sio_leave: not while
 * disconnecting, when Socket.IO empties the socket's rooms itself), member:leave to the others,
 * deletes the room if empty. Does not broadcast the room lists. */
void ym_app__leave(ym_app_t *app, ym_sio_socket_t *s, ym_app_room_t *room, bool sio_leave);
/* room_change (seed) and rooms (yoom) to everyone; except_sid (may be NULL)
 * is a socket that is going away and must not be listed or sent to. */
void ym_app__broadcast_rooms(ym_app_t *app, const char *except_sid);
void ym_app__seed004_room_change(ym_app_t *app, const char *except_sid);
json_t *ym_app__room_json(const ym_app_room_t *room);
json_t *ym_app__rooms_json(const ym_app_t *app);
ym_app_sock_t *ym_app__sock(ym_sio_socket_t *s);
json_t *ym_app__member_json(const ym_app_room_t *room, const ym_app_member_t *m);

/* Event handlers, per file. */
void ym_app__seed004_install(ym_app_t *app);
void ym_app__seed004_disconnecting(ym_app_t *app, ym_sio_socket_t *s);
void ym_app__chat_install(ym_app_t *app);
void ym_app__call_install(ym_app_t *app);
void ym_app__ice_install(ym_app_t *app);

#endif
