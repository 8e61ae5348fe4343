/* app_internal.h: what the files of src/app share (not exported).
 *
 *   app_text.c     validation and trimming of names and messages
 *   app_rooms.c    the room registry: rooms, members, unique display names, passwords
 *   app_seed004.c  seed 004's chat protocol
 *   app_chat.c     yoom's own events (rooms:list, room:join, chat:send, ...)
 *   app_call.c     call signalling: seed 004's video events and yoom's call:* events
 *   app_ice.c      GET /api/ice-servers
 *   ym_app.c       wiring: handlers, per-socket state, disconnects, the /r/ route
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

/* ---- registry (app_rooms.c) ---- */

#define YM_APP_SALT_LEN 16
#define YM_APP_HASH_LEN 32
#define YM_APP_MAX_PASSWORD 128

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
#define YM_APP_MAX_CANDIDATE_BYTES 4096   /* one ICE candidate line */

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

/* Replies to an ack with [{"error": msg}] (ack may be NULL: then nothing). */
void ym_app__ack_error(ym_sio_ack_t *ack, const char *msg);
/* Replies with [obj] and decrefs obj; frees ack. */
void ym_app__ack_json(ym_sio_ack_t *ack, json_t *obj);
/* Emits event with args (a JSON array, decref'd) to b. */
void ym_app__bcast_json(const ym_sio_bcast_t *b, const char *event, json_t *args);
/* Parses the args array; NULL if it is not valid JSON. Caller decrefs. */
json_t *ym_app__args(const ym_sio_args_t *args);

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
