/* yoom/sio.h: a Socket.IO v5 server (over Engine.IO v4) in C.
 *
 * The official socket.io-client (4.x) connects to it over WebSocket and HTTP
 * long-polling. This library knows nothing of video chat: yoom's app layer is
 * one user of it (docs/sio-example.c is a complete small server).
 *
 * THREADING. Every function here must be called on the loop thread that runs
 * the server, and every callback runs there. Work done on other threads comes
 * back to the loop (uv_async / uv_queue_work's after_work) before calling in.
 *
 * OWNERSHIP. The library owns servers, namespaces and sockets. Pointers to a
 * socket are valid until its on_disconnect callback has returned; code that
 * outlives a callback (async work) keeps the socket's id (ym_sio_socket_id) or
 * an ack handle, never the pointer. Strings passed in are copied before the
 * call returns. Strings handed out are valid for the duration of the callback.
 *
 * ARGUMENTS are JSON text: an event's arguments travel as the text of a JSON
 * array ("[1,\"two\",{}]"), spliced into packets without re-encoding, so what a
 * client sends is relayed byte for byte. Binary attachments travel beside the
 * JSON: the array holds {"_placeholder":true,"num":i} where attachment i goes.
 *
 * ERRORS. Functions that can fail return 0 or a negative errno-style code.
 */
#ifndef YOOM_SIO_H
#define YOOM_SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ym_sio ym_sio_t;
typedef struct ym_sio_nsp ym_sio_nsp_t;
typedef struct ym_sio_socket ym_sio_socket_t;
typedef struct ym_sio_ack ym_sio_ack_t;
struct ym_http_server;

/* A binary attachment: borrowed bytes. */
typedef struct ym_sio_bin {
    const void *data;
    size_t len;
} ym_sio_bin_t;

/* Received arguments (everything after the event name). Borrowed for the
 * duration of the callback. */
typedef struct ym_sio_args {
    const char *json;          /* JSON array text, e.g. "[\"hi\",1]"; "[]" if none */
    size_t json_len;
    const ym_sio_bin_t *bins;  /* attachments, in placeholder order */
    size_t nbins;
} ym_sio_args_t;

typedef struct ym_sio_config {
    const char *path;              /* default "/socket.io/" */
    uint32_t ping_interval_ms;     /* default 25000 */
    uint32_t ping_timeout_ms;      /* default 20000 */
    uint32_t connect_timeout_ms;   /* Socket.IO CONNECT must arrive within; default 45000 */
    uint32_t upgrade_timeout_ms;   /* default 10000 */
    size_t max_payload;            /* maxHttpBufferSize / maxPayload; default 1000000 */
    unsigned max_attachments;      /* per packet; default 10 */
    uint32_t ack_timeout_ms;       /* default for server→client acks; default 10000 */
    size_t max_send_backlog;       /* per-client bytes queued before it is dropped; default 4 MiB */
    const char *const *cors_origins; /* NULL-terminated allowlist; NULL = CORS off */
    bool allow_polling;            /* default true (set disable_polling to turn off) */
    bool disable_polling;
    bool disable_websocket;
    /* Where socket.io.js & co are served from (<path>socket.io.js ...);
     * default "node_modules/socket.io-client/dist" relative to the working dir. */
    const char *client_dir;
} ym_sio_config_t;

/* Creates the server and registers its routes (config->path) on http: the
 * Engine.IO endpoint and the browser client bundle. config is copied, except
 * cors_origins, which must outlive the server. Zero fields take the defaults.
 * Returns NULL only on invalid configuration. The http server must be freed
 * first or together with this one (its routes point here). */
ym_sio_t *ym_sio_new(uv_loop_t *loop, struct ym_http_server *http, const ym_sio_config_t *config);
/* Graceful shutdown start: refuses new connections and closes every client
 * ("server shutting down"; held long-polls answered at once, WebSockets get a
 * close frame), so the HTTP server's shutdown does not wait for them. The
 * disconnect callbacks run from the loop afterwards. Idempotent;
 * ym_sio_free() is still needed. */
void ym_sio_shutdown(ym_sio_t *sio);
/* Disconnects every client (server shutting down: on_disconnecting and
 * on_disconnect run for each socket, pending reply callbacks get
 * "disconnected") and frees the server; the loop must run once more to
 * release its timers. Not from inside one of its own callbacks. Acks the app
 * still holds must be freed before. */
void ym_sio_free(ym_sio_t *sio);

/* Namespaces. "/" exists from the start; others must be created to be joinable
 * (a CONNECT to an unknown namespace gets CONNECT_ERROR "Invalid namespace"). */
ym_sio_nsp_t *ym_sio_of(ym_sio_t *sio, const char *name);   /* creates if missing */
ym_sio_nsp_t *ym_sio_find_nsp(ym_sio_t *sio, const char *name);
const char *ym_sio_nsp_name(const ym_sio_nsp_t *nsp);

/* Connection handler: return NULL to accept, or an error message to refuse
 * (sent as CONNECT_ERROR {"message": msg}; the string is copied). auth_json is
 * the CONNECT payload ("{}" if none). */
typedef const char *(*ym_sio_connect_cb)(ym_sio_socket_t *s, const char *auth_json, size_t auth_len, void *ud);
/* Event handler. ack is non-NULL when the client asked for an acknowledgement:
 * the handler then owns it and must ym_sio_ack_send() or ym_sio_ack_free() it,
 * now or later. */
typedef void (*ym_sio_event_cb)(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args,
                                ym_sio_ack_t *ack, void *ud);
/* reason is Socket.IO's: "client namespace disconnect", "server namespace disconnect",
 * "transport close", "transport error", "ping timeout", "parse error", "server shutting down". */
typedef void (*ym_sio_disconnect_cb)(ym_sio_socket_t *s, const char *reason, void *ud);

typedef struct ym_sio_handlers {
    ym_sio_connect_cb on_connect;          /* optional: accept all if NULL */
    ym_sio_disconnect_cb on_disconnecting; /* still in its rooms */
    ym_sio_disconnect_cb on_disconnect;    /* rooms already left */
    ym_sio_event_cb on_any;                /* events without a handler of their own */
    void *ud;
} ym_sio_handlers_t;

void ym_sio_nsp_set_handlers(ym_sio_nsp_t *nsp, const ym_sio_handlers_t *h);
/* Per-event handlers (take precedence over on_any). Same ud as the handlers. */
void ym_sio_on(ym_sio_nsp_t *nsp, const char *event, ym_sio_event_cb cb);

/* Sockets. */
const char *ym_sio_socket_id(const ym_sio_socket_t *s);     /* Socket.IO id (not the Engine.IO sid) */
ym_sio_nsp_t *ym_sio_socket_nsp(const ym_sio_socket_t *s);
ym_sio_socket_t *ym_sio_find_socket(ym_sio_nsp_t *nsp, const char *id);
const char *ym_sio_socket_transport(const ym_sio_socket_t *s); /* "polling" or "websocket" */
const char *ym_sio_socket_peer(const ym_sio_socket_t *s);      /* "ip:port" */
void ym_sio_socket_set_data(ym_sio_socket_t *s, void *data);   /* app state; the app frees it in on_disconnect */
void *ym_sio_socket_data(const ym_sio_socket_t *s);
/* Server-initiated disconnect. close_transport also closes the underlying
 * connection (every namespace on it). */
void ym_sio_disconnect(ym_sio_socket_t *s, bool close_transport);

/* Emit to one socket. args_json is a JSON array text (NULL = no arguments). */
int ym_sio_emit(ym_sio_socket_t *s, const char *event, const char *args_json);
int ym_sio_emit_bin(ym_sio_socket_t *s, const char *event, const char *args_json,
                    const ym_sio_bin_t *bins, size_t nbins);
/* Emit expecting an acknowledgement: cb gets the reply args, or err = "timeout"
 * (args NULL) after timeout_ms (0 = config default), or "disconnected". */
typedef void (*ym_sio_reply_cb)(const char *err, const ym_sio_args_t *args, void *ud);
int ym_sio_emit_with_ack(ym_sio_socket_t *s, const char *event, const char *args_json,
                         uint32_t timeout_ms, ym_sio_reply_cb cb, void *ud);

/* Client acknowledgements (see ym_sio_event_cb). Sending frees the ack; if the
 * socket has gone meanwhile, nothing is sent. */
int ym_sio_ack_send(ym_sio_ack_t *ack, const char *args_json);
int ym_sio_ack_send_bin(ym_sio_ack_t *ack, const char *args_json, const ym_sio_bin_t *bins, size_t nbins);
void ym_sio_ack_free(ym_sio_ack_t *ack);
/* The socket id the ack answers to (for logs, lookups). */
const char *ym_sio_ack_socket_id(const ym_sio_ack_t *ack);

/* Rooms. Every socket is in the room named by its own id. */
int ym_sio_join(ym_sio_socket_t *s, const char *room);
int ym_sio_leave(ym_sio_socket_t *s, const char *room);
bool ym_sio_in_room(const ym_sio_socket_t *s, const char *room);
size_t ym_sio_room_size(ym_sio_nsp_t *nsp, const char *room);
/* Calls fn for each room of the namespace (including sockets' own rooms). */
void ym_sio_rooms_foreach(ym_sio_nsp_t *nsp, void (*fn)(const char *room, size_t size, void *ud), void *ud);
/* Calls fn for each room the socket is in (including its own). */
void ym_sio_socket_rooms_foreach(const ym_sio_socket_t *s, void (*fn)(const char *room, void *ud), void *ud);
/* Calls fn for each socket in room (NULL = whole namespace). fn must not join/leave/disconnect. */
void ym_sio_room_foreach(ym_sio_nsp_t *nsp, const char *room, void (*fn)(ym_sio_socket_t *s, void *ud), void *ud);

/* Broadcast operators: build a target, then emit. The packet is encoded once
 * and every recipient's queue references the same bytes.
 *   ym_sio_bcast_t b = ym_sio_bcast(nsp);
 *   ym_sio_bcast_to(&b, "room1");          // union of rooms (none = everyone)
 *   ym_sio_bcast_except(&b, sender_id);    // rooms or socket ids to skip
 *   ym_sio_bcast_emit(&b, "message", "[\"hi\"]");
 */
#define YM_SIO_BCAST_MAX_ROOMS 8
typedef struct ym_sio_bcast {
    ym_sio_nsp_t *nsp;
    const char *to[YM_SIO_BCAST_MAX_ROOMS];
    size_t nto;
    const char *except[YM_SIO_BCAST_MAX_ROOMS];
    size_t nexcept;
} ym_sio_bcast_t;

static inline ym_sio_bcast_t ym_sio_bcast(ym_sio_nsp_t *nsp)
{
    ym_sio_bcast_t b = { .nsp = nsp };
    return b;
}
static inline void ym_sio_bcast_to(ym_sio_bcast_t *b, const char *room)
{
    if (b->nto < YM_SIO_BCAST_MAX_ROOMS)
        b->to[b->nto++] = room;
}
static inline void ym_sio_bcast_except(ym_sio_bcast_t *b, const char *room)
{
    if (b->nexcept < YM_SIO_BCAST_MAX_ROOMS)
        b->except[b->nexcept++] = room;
}
/* Returns the number of recipients. */
size_t ym_sio_bcast_emit(const ym_sio_bcast_t *b, const char *event, const char *args_json);
size_t ym_sio_bcast_emit_bin(const ym_sio_bcast_t *b, const char *event, const char *args_json,
                             const ym_sio_bin_t *bins, size_t nbins);

/* Counts for status pages and benchmarks. */
size_t ym_sio_client_count(const ym_sio_t *sio);   /* Engine.IO sessions */

/* ---- Observation (for an admin view such as the app's /admin namespace) ----
 *
 * Totals since the server started, and a walk over the namespaces. */
typedef struct ym_sio_stats {
    uint64_t packets_in;        /* Engine.IO messages received (text and binary) */
    uint64_t packets_out;       /* messages queued to clients (a broadcast counts per recipient) */
    size_t clients;             /* Engine.IO sessions now (= ym_sio_client_count) */
    size_t polling_clients;     /* of which on HTTP long-polling now */
} ym_sio_stats_t;
void ym_sio_get_stats(const ym_sio_t *sio, ym_sio_stats_t *out);
/* Calls fn for every namespace, in creation order. fn must not create namespaces. */
void ym_sio_nsps_foreach(ym_sio_t *sio, void (*fn)(ym_sio_nsp_t *nsp, void *ud), void *ud);
/* The Engine.IO session id of the socket's connection (shared by its namespaces). */
const char *ym_sio_socket_client_id(const ym_sio_socket_t *s);
/* When the socket connected (wall clock, ms since the epoch). */
uint64_t ym_sio_socket_connected_at(const ym_sio_socket_t *s);

/* One observer per server, called on the loop thread as things happen, after
 * the namespace's own handlers. Every member is optional. Observers may emit
 * (to any socket, or broadcast) but must not join, leave or disconnect from
 * inside a callback, nor free the server. The struct is copied; NULL removes
 * the observer. ud must stay valid until the observer is removed. */
typedef struct ym_sio_observer {
    void (*on_client_open)(void *ud);                        /* Engine.IO session opened */
    void (*on_client_close)(const char *reason, void *ud);   /* Engine.IO session closed */
    /* After the CONNECT reply went out (the socket is in its own room). */
    void (*on_socket_connect)(ym_sio_socket_t *s, void *ud);
    /* After on_disconnect: the socket has left its rooms; its id and
     * namespace are still readable. */
    void (*on_socket_disconnect)(ym_sio_socket_t *s, const char *reason, void *ud);
    /* ym_sio_join/ym_sio_leave that changed the socket's rooms; on_leave
     * also for every room (its own included) as a socket disconnects, after
     * on_disconnecting and before on_socket_disconnect. */
    void (*on_join)(ym_sio_socket_t *s, const char *room, void *ud);
    void (*on_leave)(ym_sio_socket_t *s, const char *room, void *ud);
    void *ud;
} ym_sio_observer_t;
void ym_sio_set_observer(ym_sio_t *sio, const ym_sio_observer_t *obs);

#endif
