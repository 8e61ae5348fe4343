/* ym_app.c: wiring. Installs the handlers on the default namespace, keeps the
 * per-socket state, implements joining and leaving for both protocols, the
 * room-list broadcasts, disconnects and the /r/<room> route. */
#include "app/app_internal.h"
#include "app/app_history.h"
#include "app/app_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ym_buf.h"
#include "base/ym_log.h"

/* index.html is a few KB; anything larger than this is not our page. */
#define INDEX_MAX_BYTES (1u << 20)

void ym_app_config_defaults(ym_app_config_t *cfg)
{
    *cfg = (ym_app_config_t){
        .max_room_name_chars = YM_APP_DEFAULT_ROOM_NAME_CHARS,
        .max_nickname_chars = YM_APP_DEFAULT_NICKNAME_CHARS,
        .max_message_chars = YM_APP_DEFAULT_MESSAGE_CHARS,
        .max_room_members = YM_APP_DEFAULT_ROOM_MEMBERS,
        .max_rooms = YM_APP_DEFAULT_ROOMS,
        .max_sdp_bytes = YM_APP_DEFAULT_SDP_BYTES,
        .max_candidate_bytes = YM_APP_DEFAULT_CANDIDATE_BYTES,
        .max_password_bytes = YM_APP_DEFAULT_PASSWORD_BYTES,
        .process_max_body_bytes = YM_APP_DEFAULT_PROCESS_BODY,
        .web_root = "./web",
    };
}

/* ---- JSON helpers ---- */

json_t *ym_app__args(const ym_sio_args_t *args)
{
    json_error_t jerr;
    /* NUL is allowed through so that it meets the text checks (a clear
     * "control characters" error); every string is then used with its length. */
    json_t *v = json_loadb(args->json, args->json_len, JSON_ALLOW_NUL, &jerr);
    if (v && !json_is_array(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

char *ym_app__json_text(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!text)
        abort(); /* jansson fails only on OOM here */
    return text;
}

void ym_app__ack_json(ym_sio_ack_t *ack, json_t *obj)
{
    json_t *arr = json_array();
    json_array_append_new(arr, obj);
    char *text = ym_app__json_text(arr);
    ym_sio_ack_send(ack, text);
    free(text);
}

void ym_app__ack_error(ym_sio_ack_t *ack, const char *msg)
{
    if (!ack)
        return;
    ym_app__ack_json(ack, json_pack("{s:s}", "error", msg));
}

void ym_app__bcast_json(const ym_sio_bcast_t *b, const char *event, json_t *args)
{
    char *text = ym_app__json_text(args);
    ym_sio_bcast_emit(b, event, text);
    free(text);
}

void ym_app__err_room_name(const ym_app_t *app, char *out, size_t n)
{
    snprintf(out, n, "Room names must be 1 to %zu characters without control characters.",
             app->cfg.max_room_name_chars);
}

void ym_app__err_nickname(const ym_app_t *app, char *out, size_t n)
{
    snprintf(out, n, "Nicknames must be 1 to %zu characters without control characters.",
             app->cfg.max_nickname_chars);
}

json_t *ym_app__member_json(const ym_app_room_t *room, const ym_app_member_t *m)
{
    return json_pack("{s:s, s:s, s:b}", "id", m->sid, "name", m->name, "creator",
                     strcmp(m->sid, room->creator_sid) == 0);
}

json_t *ym_app__room_json(const ym_app_room_t *room)
{
    return json_pack("{s:s, s:I, s:b, s:s}", "name", room->name, "count", (json_int_t)room->n, "locked",
                     room->locked, "creator", room->creator_name);
}

json_t *ym_app__rooms_json(const ym_app_t *app)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < app->rooms.n; i++)
        json_array_append_new(arr, ym_app__room_json(app->rooms.v[i]));
    return arr;
}

ym_app_sock_t *ym_app__sock(ym_sio_socket_t *s)
{
    return ym_sio_socket_data(s);
}

/* ---- rooms shared by both protocols ---- */

bool ym_app__clean_room_name(ym_app_t *app, const char *s, size_t len, char **out, char *err, size_t errn)
{
    if (ym_app__text_clean(s, len, app->cfg.max_room_name_chars, 0, out) != YM_APP_TEXT_OK) {
        ym_app__err_room_name(app, err, errn);
        return false;
    }
    /* Every socket is alone in the room named by its id: joining it would
     * receive that person's private traffic. */
    if (ym_sio_find_socket(app->nsp, *out)) {
        free(*out);
        *out = NULL;
        snprintf(err, errn, "This room name is reserved.");
        return false;
    }
    return true;
}

ym_app_member_t *ym_app__join(ym_app_t *app, ym_sio_socket_t *s, const char *name_of_room, const char *name,
                              const char *password, size_t pw_len, bool seed, bool *created,
                              char *err, size_t errn)
{
    const char *sid = ym_sio_socket_id(s);
    ym_app_room_t *room = ym_app__rooms_find(&app->rooms, name_of_room);
    *created = false;
    if (room) {
        if (ym_app__room_member(room, sid)) {
            snprintf(err, errn, "You are already in this room.");
            return NULL;
        }
        if (room->n >= app->cfg.max_room_members) {
            snprintf(err, errn, "This room is full (%zu members).", app->cfg.max_room_members);
            return NULL;
        }
        if (room->locked) {
            if (!password || pw_len == 0) {
                snprintf(err, errn, "This room is locked: a password is needed.");
                return NULL;
            }
            if (pw_len > app->cfg.max_password_bytes || !ym_app__room_check_password(room, password, pw_len)) {
                snprintf(err, errn, "Wrong password for this room.");
                return NULL;
            }
        }
    } else {
        if (app->rooms.n >= app->cfg.max_rooms) {
            snprintf(err, errn, "Too many rooms exist right now; try again later.");
            return NULL;
        }
        room = ym_app__rooms_create(&app->rooms, name_of_room, sid, name);
        if (password && pw_len)
            ym_app__room_set_password(room, password, pw_len);
        *created = true;
    }
    int rc = ym_sio_join(s, room->name);
    if (rc < 0) {
        if (*created)
            ym_app__rooms_delete(&app->rooms, room);
        *created = false;
        snprintf(err, errn, "Could not join the room.");
        return NULL;
    }
    return ym_app__room_add(room, sid, name, seed);
}

void ym_app__leave(ym_app_t *app, ym_sio_socket_t *s, ym_app_room_t *room, bool sio_leave)
{
    const char *sid = ym_sio_socket_id(s);
    ym_app_member_t *m = ym_app__room_member(room, sid);
    if (!m)
        return;
    json_t *member = ym_app__member_json(room, m);
    ym_app__room_remove(room, sid);
    if (sio_leave)
        ym_sio_leave(s, room->name);
    if (room->n == 0) {
        json_decref(member);
        ym_app__rooms_delete(&app->rooms, room);
        return;
    }
    ym_app__tell_member(app, room, sid, "member:leave", member);
}

void ym_app__broadcast_rooms(ym_app_t *app, const char *except_sid)
{
    ym_app__seed004_room_change(app, except_sid);
    ym_sio_bcast_t b = ym_sio_bcast(app->nsp);
    if (except_sid)
        ym_sio_bcast_except(&b, except_sid);
    ym_app__bcast_json(&b, "rooms", json_pack("[{s:o}]", "rooms", ym_app__rooms_json(app)));
}

/* ---- namespace handlers ---- */

static const char *on_connect(ym_sio_socket_t *s, const char *auth_json, size_t auth_len, void *ud)
{
    ym_app_t *app = ud;
    ym_app_sock_t *st = ym_xcalloc(1, sizeof(*st));
    st->id = ym_xstrdup(ym_sio_socket_id(s));
    st->nick = ym_xstrdup("Anon"); /* seed 004's default */
    st->next = app->socks.next;
    st->prev = &app->socks;
    app->socks.next->prev = st;
    app->socks.next = st;
    ym_sio_socket_set_data(s, st);
    ym_app__seed000_connect(app, s, auth_json, auth_len); /* messages([last N]) for seed 000 */
    return NULL;
}

static void on_disconnecting(ym_sio_socket_t *s, const char *reason, void *ud)
{
    ym_app_t *app = ud;
    ym_app__seed004_disconnecting(app, s);
    const char *sid = ym_sio_socket_id(s);
    /* Leaving may delete a room and shift the array: walk from the end. */
    for (size_t i = app->rooms.n; i-- > 0;) {
        if (i < app->rooms.n && ym_app__room_member(app->rooms.v[i], sid))
            ym_app__leave(app, s, app->rooms.v[i], false);
    }
}

static void sock_free(ym_app_sock_t *st)
{
    st->prev->next = st->next;
    st->next->prev = st->prev;
    free(st->id);
    free(st->nick);
    free(st);
}

static void on_disconnect(ym_sio_socket_t *s, const char *reason, void *ud)
{
    ym_app_t *app = ud;
    ym_app_sock_t *st = ym_app__sock(s);
    ym_app__broadcast_rooms(app, ym_sio_socket_id(s));
    if (st) {
        ym_sio_socket_set_data(s, NULL);
        sock_free(st);
    }
}

static void on_any(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, void *ud)
{
    if (!ack)
        return;
    /* Event names are client-chosen: bound what goes back into the message. */
    char msg[128];
    int n = (int)ym_app__utf8_prefix(event, strlen(event), 64);
    snprintf(msg, sizeof(msg), "Unknown event \"%.*s\".", n, event);
    ym_app__ack_error(ack, msg);
}

/* ---- /r/<room>: the single-page app opens the room named in the path ---- */

static ym_http_result_t on_room_page(ym_http_req_t *req, void *ud)
{
    ym_app_t *app = ud;
    if (!ym_app__get_or_head(req))
        return YM_HTTP_DONE;
    char path[4096];
    snprintf(path, sizeof(path), "%s/index.html", app->web_root);
    /* A small local file, read on the loop like the static file cache does. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)INDEX_MAX_BYTES) {
        if (fd >= 0)
            close(fd);
        ym_log_warn("app: cannot serve %s", path);
        ym_http_respond_error(req, 404, "no web app here");
        return YM_HTTP_DONE;
    }
    ym_buf_t body = YM_BUF_INIT;
    ym_buf_reserve(&body, (size_t)st.st_size + 1);
    ssize_t n;
    while (body.len < (size_t)st.st_size &&
           (n = read(fd, body.data + body.len, (size_t)st.st_size - body.len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        body.len += (size_t)n;
    }
    close(fd);
    ym_http_respond(req, 200, "text/html; charset=utf-8", body.data, body.len,
                    "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n");
    ym_buf_free(&body);
    return YM_HTTP_DONE;
}

/* ---- lifetime ---- */

ym_app_t *ym_app_new(uv_loop_t *loop, ym_http_server_t *http, ym_sio_t *sio, const ym_app_config_t *cfg)
{
    ym_app_t *app = ym_xcalloc(1, sizeof(*app));
    ym_app_config_t def;
    ym_app_config_defaults(&def);
    app->loop = loop;
    app->http = http;
    app->sio = sio;
    app->cfg = cfg ? *cfg : def;
    /* Every limit left 0 takes its default. */
#define DEFAULT_IF_ZERO(field) if (!app->cfg.field) app->cfg.field = def.field
    DEFAULT_IF_ZERO(max_room_name_chars);
    DEFAULT_IF_ZERO(max_nickname_chars);
    DEFAULT_IF_ZERO(max_message_chars);
    DEFAULT_IF_ZERO(max_room_members);
    DEFAULT_IF_ZERO(max_rooms);
    DEFAULT_IF_ZERO(max_sdp_bytes);
    DEFAULT_IF_ZERO(max_candidate_bytes);
    DEFAULT_IF_ZERO(max_password_bytes);
    DEFAULT_IF_ZERO(process_max_body_bytes);
#undef DEFAULT_IF_ZERO
    app->web_root = ym_xstrdup(app->cfg.web_root ? app->cfg.web_root : def.web_root);
    app->cfg.web_root = app->web_root;
    app->socks.next = app->socks.prev = &app->socks;
    if (app->cfg.media_cfg)
        app->media_cfg = *app->cfg.media_cfg;
    else
        ym_media_config_default(&app->media_cfg);
    app->cfg.media_cfg = &app->media_cfg;
    if (!app->cfg.history_ttl_ms)
        app->cfg.history_ttl_ms = YM_STORE_DEFAULT_TTL_MS;

    app->nsp = ym_sio_of(sio, "/");
    ym_sio_handlers_t h = {
        .on_connect = on_connect,
        .on_disconnecting = on_disconnecting,
        .on_disconnect = on_disconnect,
        .on_any = on_any,
        .ud = app,
    };
    ym_sio_nsp_set_handlers(app->nsp, &h);
    ym_app__seed004_install(app);
    ym_app__chat_install(app);
    ym_app__clips_install(app);
    ym_app__seed000_install(app);
    ym_app__call_install(app);
    ym_app__ice_install(app);
    if (http)
        ym_http_route(http, "/r/", 0, on_room_page, app);
    if (app->cfg.admin) {
        ym_app_admin_config_t adc = { .password = app->cfg.admin_password, .readonly = app->cfg.admin_readonly,
                                      .app_nsp = app->nsp };
        app->admin = ym_app_admin_new(loop, sio, &adc);
        app->cfg.admin_password = NULL; /* hashed; the clear text is not kept */
    }
    return app;
}

void ym_app_free(ym_app_t *app)
{
    if (!app)
        return;
    /* Detach first so that sockets disconnected later by ym_sio_free no longer
     * call into freed state; their data pointers are cleared below. */
    ym_app_admin_free(app->admin);
    app->admin = NULL;
    ym_sio_handlers_t none = { 0 };
    ym_sio_nsp_set_handlers(app->nsp, &none);
    while (app->socks.next != &app->socks) {
        ym_app_sock_t *st = app->socks.next;
        ym_sio_socket_t *s = ym_sio_find_socket(app->nsp, st->id);
        if (s)
            ym_sio_socket_set_data(s, NULL);
        sock_free(st);
    }
    ym_app__rooms_free(&app->rooms);
    ym_app__clips_free(app->clips);
    ym_app__seed000_free(app);
    free(app->web_root);
    free(app);
}

size_t ym_app_room_count(const ym_app_t *app)
{
    return app->rooms.n;
}
