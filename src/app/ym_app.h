/* ym_app.h: yoom itself on top of the Socket.IO server: the lobby's room list,
 * rooms with members, nicknames and chat, both seed 004's protocol and yoom's
 * own (docs/PROTOCOL.md, "yoom app protocol").
 *
 * Threading: loop thread only; every callback runs on the loop.
 * Ownership: the app borrows loop, http and sio, which must outlive it.
 */
#ifndef YM_APP_H
#define YM_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "http/ym_http.h"
#include "media/ym_media.h"
#include "rtc/ym_ice_servers.h"
#include "store/ym_store.h"
#include "yoom/sio.h"

/* Limits, each a setting. A field left 0 (or NULL) takes the default shown. */
typedef struct ym_app_config {
    size_t max_room_name_chars;   /* code points; default 64 */
    size_t max_nickname_chars;    /* code points after trimming; default 32 */
    size_t max_message_chars;     /* code points; default 2000 */
    size_t max_room_members;      /* per room, seed and yoom clients together; default 16 */
    size_t max_rooms;             /* rooms existing at once; default 10000 */
    const char *web_root;         /* where index.html lives (for /r/<room>); default "./web" */
    size_t max_sdp_bytes;         /* call signalling: one session description; default 65536 */
    size_t max_candidate_bytes;   /* call signalling: one ICE candidate line; default 4096 */
    size_t max_password_bytes;    /* room passwords; bounds the PBKDF2 work a try costs; default 128 */
    size_t process_max_body_bytes; /* POST /process (seed 000) body; default 3 MiB, the seed's */
    /* GET /api/ice-servers (src/rtc/ym_ice_servers.h). Its strings are not
     * copied: they must outlive the app (main's come from argv). */
    ym_ice_config_t ice;
    /* History and clips (app_history.h). Borrowed: they must outlive the app
     * (close them after ym_app_drain). NULL store: chat is not persisted,
     * there is no history and clips are refused; NULL media: clips refused. */
    ym_store_t *store;
    ym_media_encoder_t *media;
    const ym_media_config_t *media_cfg; /* clip limits (frames, bytes); copied; NULL = defaults */
    uint64_t history_ttl_ms;      /* how long clips stay served from memory; default 10 min */
    size_t clip_cache_bytes;      /* clips kept in memory for GET /clips; default 64 MiB */
    /* The /admin namespace (app_admin.h, @socket.io/admin-ui's protocol): off
     * unless admin is set. admin_password (NULL = none) is hashed at start
     * and not kept; admin_readonly refuses the commands. */
    bool admin;
    const char *admin_password;
    bool admin_readonly;
} ym_app_config_t;

#define YM_APP_DEFAULT_ROOM_NAME_CHARS 64
#define YM_APP_DEFAULT_NICKNAME_CHARS  32
#define YM_APP_DEFAULT_MESSAGE_CHARS   2000
#define YM_APP_DEFAULT_ROOM_MEMBERS    16
#define YM_APP_DEFAULT_ROOMS           10000
#define YM_APP_DEFAULT_SDP_BYTES       65536
#define YM_APP_DEFAULT_CANDIDATE_BYTES 4096
#define YM_APP_DEFAULT_PASSWORD_BYTES  128
#define YM_APP_DEFAULT_PROCESS_BODY    ((size_t)3u * 1024u * 1024u) /* express.json({limit: '3mb'}) */

typedef struct ym_app ym_app_t;

/* Fills cfg with the defaults (for flag parsers that show them in --help). */
void ym_app_config_defaults(ym_app_config_t *cfg);

/* Installs the app: handlers on sio's default namespace and the /r/ route on
 * http. cfg may be NULL (all defaults); it is copied (web_root too).
 * Returns the app (never NULL: allocation failure aborts). Free with ym_app_free. */
ym_app_t *ym_app_new(uv_loop_t *loop, ym_http_server_t *http, ym_sio_t *sio, const ym_app_config_t *cfg);
/* Detaches the app's handlers from the namespace and frees its rooms and
 * per-socket state. Call BEFORE ym_sio_free() (sio's namespace must still
 * exist); sockets still connected then no longer reach the app. */
void ym_app_free(ym_app_t *app);

/* 0 if ice gives a usable ICE server list (TURN URLs of a known scheme,
 * no control characters), else -EINVAL: for checking flags at startup. */
int ym_app_ice_check(const ym_ice_config_t *ice);

/* Graceful shutdown, step 1: refuses new messages and clips ("The server is
 * shutting down.") and calls done(ud) on the loop, from a later loop pass,
 * once every message and clip in flight has been committed (or failed) and
 * answered. Then close the store (ym_store_close) and, after that, free the
 * app. Call ym_media_encoder_close() before or after: cancelled clips are
 * answered with an error. Call once. Loop thread. */
void ym_app_drain(ym_app_t *app, void (*done)(void *ud), void *ud);

/* Counts, for status logs and tests. */
size_t ym_app_room_count(const ym_app_t *app);

#endif
