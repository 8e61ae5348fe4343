/* app_history.h: durable history and clip messages of the app (not exported).
 *
 *   app_history.c  store keys, persisting chat messages before they are acked
 *                  and broadcast, history in the join ack, the drain at shutdown
 *   app_clips.c    yoom's clip messages (frames as binary attachments), the
 *                  in-memory clip cache and GET /clips/<key>.webm|.jpg
 *   app_seed000.c  seed 000's protocol (message/messageack/messages) and
 *                  POST /process
 *
 * Threading: loop thread only. The store and the media encoder call back on
 * the loop; every asynchronous operation counts in app->pending so that
 * ym_app_drain() can tell main when the store may be closed.
 *
 * Lifetime of async contexts: they hold copies (room name, socket id) and
 * ack handles, never socket pointers (sockets may be gone when the result
 * comes back; acks then send nothing).
 */
#ifndef YM_APP_HISTORY_H
#define YM_APP_HISTORY_H

#include <jansson.h>

#include "app/app_internal.h"
#include "media/ym_media.h"
#include "store/ym_store.h"

/* The store's room key of the global seed 000 scope. yoom rooms are stored
 * as "r:<name>" (or "h:<sha1 hex>" when the name is too long for the
 * store), so no yoom room can collide with it. */
#define YM_APP_SEED000_KEY "seed000"
/* Bytes of the hex key of a clip (SHA-1 of the WebM bytes). */
#define YM_APP_CLIP_KEY_LEN 40

/* The store key of yoom room `room` (NUL-terminated, fits YM_STORE_MAX_ROOM). */
void ym_app__room_key(const char *room, char out[YM_STORE_MAX_ROOM + 1]);
/* Copies a display name into out, cut at a UTF-8 boundary to fit the store. */
void ym_app__sender_key(const char *name, char out[YM_STORE_MAX_SENDER + 1]);

/* Counts an async operation in / out; the last one out while draining calls
 * the drain callback (deferred to the next loop pass). */
void ym_app__pending_inc(ym_app_t *app);
void ym_app__pending_dec(ym_app_t *app);

/* A human-readable reason for a synchronous store append failure. */
const char *ym_app__store_err(int rc);

/* chat:send with a store, after the text was checked (text may be "" when
 * frames are attached): reads clientId and frames from o, then
 * ym_app__clip_send or ym_app__history_send. Takes ack. */
void ym_app__history_chat_send(ym_app_t *app, ym_sio_socket_t *s, ym_app_room_t *room, json_t *o,
                               const char *text, const ym_sio_args_t *args, ym_sio_ack_t *ack);
/* o.frames is a non-empty array (a clip is attached). */
bool ym_app__has_frames(json_t *o);

/* Persists {text, clip?} and only after the commit
 * broadcasts chat:message to the room and acks the sender. Takes ack.
 * room_name and sid are copied; from is a member JSON (reference stolen);
 * clip/poster may be NULL (their bytes are copied by the store). */
void ym_app__history_send(ym_app_t *app, const char *room_name, const char *sid, json_t *from,
                          const char *text, const char *client_id, ym_rbuf_t *clip, ym_rbuf_t *poster,
                          ym_sio_ack_t *ack);
/* Sends the room:join ack `reply` (reference stolen) once the room's history
 * has been read, with it as reply.messages (oldest first). Takes ack. */
void ym_app__history_join_ack(ym_app_t *app, const char *room_name, ym_sio_ack_t *ack, json_t *reply);
/* The JSON Message of a stored row (history shape: from = {name}). */
json_t *ym_app__stored_json(ym_app_t *app, const char *room_name, const ym_store_msg_t *m);

/* ---- clips (app_clips.c) ---- */

typedef struct ym_app_clips ym_app_clips_t;
ym_app_clips_t *ym_app__clips_new(ym_app_t *app);
void ym_app__clips_free(ym_app_clips_t *c);
/* Remembers a clip for GET /clips (takes a reference to each rbuf; poster may
 * be NULL); key gets its hex name. expires_ms is a wall-clock time. */
void ym_app__clips_put(ym_app_t *app, ym_rbuf_t *webm, ym_rbuf_t *poster, int64_t expires_ms,
                       char key[YM_APP_CLIP_KEY_LEN + 1]);
/* Same, copying bytes from a stored row (when they are not cached yet). */
void ym_app__clips_put_bytes(ym_app_t *app, const ym_store_msg_t *m, char key[YM_APP_CLIP_KEY_LEN + 1]);
/* {url, poster, type} of a cached clip. */
json_t *ym_app__clip_json(const char key[YM_APP_CLIP_KEY_LEN + 1], bool has_poster);
/* chat:send with frames attached: encodes, then ym_app__history_send. Takes
 * ack; text may be "" (a clip alone is a message). */
void ym_app__clip_send(ym_app_t *app, ym_sio_socket_t *s, const char *room_name, json_t *from, const char *text,
                       const char *client_id, json_t *frames, const ym_sio_args_t *args, ym_sio_ack_t *ack);
void ym_app__clips_install(ym_app_t *app);

/* ---- seed 000 (app_seed000.c) ---- */

void ym_app__seed000_install(ym_app_t *app);
/* On connect: emits messages([last N]) to s unless the client is yoom's UI. */
void ym_app__seed000_connect(ym_app_t *app, ym_sio_socket_t *s, const char *auth_json, size_t auth_len);
void ym_app__seed000_free(ym_app_t *app);

#endif
