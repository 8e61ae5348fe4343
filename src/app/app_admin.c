/* app_admin.c: the /admin namespace (see app_admin.h). Everything sent is
 * built with jansson, so names chosen by clients (rooms, events, reasons)
 * are always escaped JSON strings. */
#include "app/app_admin.h"
#include "app/app_internal.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/ym_codec.h"
#include "base/ym_log.h"
#include "base/ym_time.h"

#define ADMIN_NSP "/admin"
#define ADMIN_USER "admin"
#define SALT_LEN 16
#define HASH_LEN 32
/* Hashing runs on the loop: enough to slow guessing, small enough (a few ms)
 * not to stall everyone else while an admin logs in. */
#define PBKDF2_ITERATIONS 20000
/* Password checks per second, all clients together: each costs a few ms of
 * the loop, so a flood of guesses must not become a stall for everyone. */
#define MAX_CHECKS_PER_S 8
#define SESSION_HEX 16   /* as @socket.io/admin-ui: 8 random bytes in hex */
/* Aggregated events buffered between two server_stats; reasons come from a
 * small fixed set, so this is only reached under a flood within one interval. */
#define MAX_AGG 64

typedef struct agg {
    uint64_t ts_ms;          /* rounded down to the second */
    const char *type;        /* static string */
    char subtype[40];        /* "" = none */
    uint64_t count;
} agg_t;

struct ym_app_admin {
    uv_loop_t *loop;
    ym_sio_t *sio;
    ym_sio_nsp_t *nsp;       /* /admin */
    ym_sio_nsp_t *app_nsp;
    bool auth;
    bool readonly;
    uint8_t salt[SALT_LEN];
    uint8_t hash[HASH_LEN];
    char sessions[YM_APP_ADMIN_MAX_SESSIONS][SESSION_HEX + 1];
    size_t next_session;
    uint64_t check_window_ms;   /* start of the current one-second window */
    unsigned checks;            /* password checks in it */
    uv_timer_t timer;
    uint64_t started_ms;
    uint64_t last_in, last_out;
    agg_t agg[MAX_AGG];
    size_t nagg;
    char hostname[256];
};

/* ---- small helpers ---- */

static void iso_time(uint64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

static json_t *now_json(void)
{
    char ts[32];
    iso_time(ym_wall_ms(), ts);
    return json_string(ts);
}

/* Emits event with args (a JSON array, decref'd) to every admin. */
static void admins_emit(ym_app_admin_t *adm, const char *event, json_t *args)
{
    ym_sio_bcast_t b = ym_sio_bcast(adm->nsp);
    ym_app__bcast_json(&b, event, args);
}

static void agg_push(ym_app_admin_t *adm, const char *type, const char *subtype, uint64_t count)
{
    uint64_t ts = ym_wall_ms() / 1000 * 1000;
    if (!subtype)
        subtype = "";
    for (size_t i = 0; i < adm->nagg; i++) {
        agg_t *a = &adm->agg[i];
        if (a->ts_ms == ts && a->type == type && strncmp(a->subtype, subtype, sizeof(a->subtype) - 1) == 0) {
            a->count += count;
            return;
        }
    }
    if (adm->nagg == MAX_AGG)
        return;
    agg_t *a = &adm->agg[adm->nagg++];
    a->ts_ms = ts;
    a->type = type;
    snprintf(a->subtype, sizeof(a->subtype), "%s", subtype);
    a->count = count;
}

/* ---- serialisation ---- */

static void add_room(const char *room, void *ud)
{
    json_array_append_new(ud, json_string(room));
}

/* The dashboard's "data": for the app's sockets, the seed 004 nickname. */
static json_t *socket_data_json(const ym_app_admin_t *adm, ym_sio_socket_t *s)
{
    json_t *data = json_object();
    if (adm->app_nsp && ym_sio_socket_nsp(s) == adm->app_nsp) {
        const ym_app_sock_t *st = ym_sio_socket_data(s);
        if (st && st->nick)
            json_object_set_new(data, "nickname", json_string(st->nick));
    }
    return data;
}

static json_t *socket_json(ym_app_admin_t *adm, ym_sio_socket_t *s)
{
    /* "ip:port" → "ip", as Node's handshake.address. */
    char addr[64];
    snprintf(addr, sizeof(addr), "%s", ym_sio_socket_peer(s));
    char *colon = strrchr(addr, ':');
    if (colon && strchr(addr, ':') == colon)
        *colon = '\0';
    char cid[13];
    snprintf(cid, sizeof(cid), "%s", ym_sio_socket_client_id(s));
    uint64_t at = ym_sio_socket_connected_at(s);
    if (!at)
        at = ym_wall_ms(); /* still connecting: it connects now */
    char ts[32];
    iso_time(at, ts);
    json_t *rooms = json_array();
    ym_sio_socket_rooms_foreach(s, add_room, rooms);
    json_t *data = socket_data_json(adm, s);
    json_t *hs = json_pack("{s:s, s:{}, s:{}, s:I, s:b, s:s, s:s, s:b}", "address", addr, "headers", "query",
                           "issued", (json_int_t)at, "secure", false, "time", ts, "url", "", "xdomain", false);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", ym_sio_socket_id(s), "clientId", cid,
                     "transport", ym_sio_socket_transport(s), "nsp", ym_sio_nsp_name(ym_sio_socket_nsp(s)),
                     "data", data, "handshake", hs, "rooms", rooms);
}

typedef struct sock_list {
    ym_app_admin_t *adm;
    json_t *arr;
} sock_list_t;

static void add_socket(ym_sio_socket_t *s, void *ud)
{
    sock_list_t *l = ud;
    json_array_append_new(l->arr, socket_json(l->adm, s));
}

static void add_nsp_sockets(ym_sio_nsp_t *nsp, void *ud)
{
    ym_sio_room_foreach(nsp, NULL, add_socket, ud);
}

static void count_one(ym_sio_socket_t *s, void *ud)
{
    (void)s;
    (*(size_t *)ud)++;
}

static void add_nsp_count(ym_sio_nsp_t *nsp, void *ud)
{
    size_t n = 0;
    ym_sio_room_foreach(nsp, NULL, count_one, &n);
    json_array_append_new(ud, json_pack("{s:s, s:I}", "name", ym_sio_nsp_name(nsp), "socketsCount", (json_int_t)n));
}

static json_t *packets_json(const char *type, uint64_t count)
{
    return json_pack("{s:I, s:s, s:I}", "timestamp", (json_int_t)(ym_wall_ms() / 1000 * 1000), "type", type, "count",
                     (json_int_t)count);
}

/* drain: the periodic report, which hands out the buffered events and clears
 * them; otherwise (one admin's report on connect) the buffer stays for the
 * next periodic report that every admin gets. */
static json_t *stats_json(ym_app_admin_t *adm, bool drain)
{
    ym_sio_stats_t st;
    ym_sio_get_stats(adm->sio, &st);
    /* Packets are totals in sio: what happened since the last report goes
     * into this second's bucket. */
    uint64_t din = st.packets_in - adm->last_in, dout = st.packets_out - adm->last_out;
    if (drain) {
        if (din)
            agg_push(adm, "packetsIn", NULL, din);
        if (dout)
            agg_push(adm, "packetsOut", NULL, dout);
        adm->last_in = st.packets_in;
        adm->last_out = st.packets_out;
    }
    json_t *agg = json_array();
    if (!drain && din)
        json_array_append_new(agg, packets_json("packetsIn", din));
    if (!drain && dout)
        json_array_append_new(agg, packets_json("packetsOut", dout));
    for (size_t i = 0; i < adm->nagg; i++) {
        const agg_t *a = &adm->agg[i];
        json_t *o = json_pack("{s:I, s:s, s:I}", "timestamp", (json_int_t)a->ts_ms, "type", a->type, "count",
                              (json_int_t)a->count);
        if (a->subtype[0])
            json_object_set_new(o, "subType", json_string(a->subtype));
        json_array_append_new(agg, o);
    }
    if (drain)
        adm->nagg = 0;
    json_t *nsps = json_array();
    ym_sio_nsps_foreach(adm->sio, add_nsp_count, nsps);
    char sid[300];
    snprintf(sid, sizeof(sid), "%s#%ld", adm->hostname, (long)getpid());
    return json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:o, s:o}", "serverId", sid, "hostname", adm->hostname, "pid",
                     (json_int_t)getpid(), "uptime", (double)(ym_now_ms() - adm->started_ms) / 1000.0,
                     "clientsCount", (json_int_t)st.clients, "pollingClientsCount", (json_int_t)st.polling_clients,
                     "aggregatedEvents", agg, "namespaces", nsps);
}

static void on_stats_timer(uv_timer_t *t)
{
    ym_app_admin_t *adm = t->data;
    admins_emit(adm, "server_stats", json_pack("[o]", stats_json(adm, true)));
}

/* ---- observer: what happens on every namespace ---- */

static void obs_client_open(void *ud)
{
    agg_push(ud, "rawConnection", NULL, 1);
}

static void obs_client_close(const char *reason, void *ud)
{
    agg_push(ud, "rawDisconnection", reason, 1);
}

static void obs_socket_connect(ym_sio_socket_t *s, void *ud)
{
    ym_app_admin_t *adm = ud;
    admins_emit(adm, "socket_connected", json_pack("[o, o]", socket_json(adm, s), now_json()));
}

static void obs_socket_disconnect(ym_sio_socket_t *s, const char *reason, void *ud)
{
    admins_emit(ud, "socket_disconnected",
                json_pack("[s, s, s, o]", ym_sio_nsp_name(ym_sio_socket_nsp(s)), ym_sio_socket_id(s), reason,
                          now_json()));
}

/* The app has no "nickname changed" signal for us, but seed 004 sets the
 * nickname before entering a room: joining one refreshes the data. */
static void refresh_data(ym_app_admin_t *adm, ym_sio_socket_t *s)
{
    if (!adm->app_nsp || ym_sio_socket_nsp(s) != adm->app_nsp)
        return;
    admins_emit(adm, "socket_updated",
                json_pack("[{s:s, s:s, s:o}]", "id", ym_sio_socket_id(s), "nsp", ym_sio_nsp_name(adm->app_nsp), "data",
                          socket_data_json(adm, s)));
}

static void obs_join(ym_sio_socket_t *s, const char *room, void *ud)
{
    refresh_data(ud, s);
    admins_emit(ud, "room_joined",
                json_pack("[s, s, s, o]", ym_sio_nsp_name(ym_sio_socket_nsp(s)), room, ym_sio_socket_id(s),
                          now_json()));
}

static void obs_leave(ym_sio_socket_t *s, const char *room, void *ud)
{
    admins_emit(ud, "room_left",
                json_pack("[s, s, s, o]", ym_sio_nsp_name(ym_sio_socket_nsp(s)), room, ym_sio_socket_id(s),
                          now_json()));
}

/* ---- authentication ---- */

static void derive(const uint8_t salt[SALT_LEN], const char *pw, size_t len, uint8_t out[HASH_LEN])
{
    if (PKCS5_PBKDF2_HMAC(pw, (int)len, salt, SALT_LEN, PBKDF2_ITERATIONS, EVP_sha256(), HASH_LEN, out) != 1)
        abort(); /* only on OOM inside OpenSSL: same policy as ym_xmalloc */
}

static bool session_known(const ym_app_admin_t *adm, const char *id, size_t len)
{
    if (len != SESSION_HEX)
        return false;
    bool found = false;
    /* Every slot compared in constant time: how far a guess matches stays hidden. */
    for (size_t i = 0; i < YM_APP_ADMIN_MAX_SESSIONS; i++)
        if (adm->sessions[i][0] && CRYPTO_memcmp(adm->sessions[i], id, SESSION_HEX) == 0)
            found = true;
    return found;
}

static const char *new_session(ym_app_admin_t *adm)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[SESSION_HEX / 2];
    ym_random_bytes(r, sizeof(r));
    char *out = adm->sessions[adm->next_session];
    adm->next_session = (adm->next_session + 1) % YM_APP_ADMIN_MAX_SESSIONS;
    for (size_t i = 0; i < sizeof(r); i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[SESSION_HEX] = '\0';
    return out;
}

static bool check_allowed(ym_app_admin_t *adm)
{
    uint64_t now = ym_now_ms();
    if (now - adm->check_window_ms >= 1000) {
        adm->check_window_ms = now;
        adm->checks = 0;
    }
    if (adm->checks >= MAX_CHECKS_PER_S) {
        ym_log_warn("admin: more than %d password attempts in a second; refused unchecked", MAX_CHECKS_PER_S);
        return false;
    }
    adm->checks++;
    return true;
}

/* Returns NULL if the CONNECT's auth is good; *session is set when a new
 * session id was issued. */
static const char *check_auth(ym_app_admin_t *adm, const char *auth_json, size_t auth_len, const char **session)
{
    *session = NULL;
    if (!adm->auth)
        return NULL;
    const char *refusal = "invalid credentials"; /* the dashboard keys off this exact text */
    json_t *auth = json_loadb(auth_json, auth_len, 0, NULL);
    if (!json_is_object(auth)) {
        json_decref(auth);
        return refusal;
    }
    json_t *sid = json_object_get(auth, "sessionId");
    json_t *user = json_object_get(auth, "username");
    json_t *pw = json_object_get(auth, "password");
    if (json_is_string(sid) && session_known(adm, json_string_value(sid), json_string_length(sid))) {
        refusal = NULL;
    } else if (json_is_string(user) && json_is_string(pw) && /* length too: "admin\u0000junk" is not the admin */
               json_string_length(user) == strlen(ADMIN_USER) &&
               memcmp(json_string_value(user), ADMIN_USER, strlen(ADMIN_USER)) == 0 &&
               json_string_length(pw) > 0 && json_string_length(pw) <= YM_APP_ADMIN_MAX_PASSWORD &&
               check_allowed(adm)) {
        uint8_t h[HASH_LEN];
        derive(adm->salt, json_string_value(pw), json_string_length(pw), h);
        if (CRYPTO_memcmp(h, adm->hash, HASH_LEN) == 0) {
            refusal = NULL;
            *session = new_session(adm);
        }
    }
    json_decref(auth);
    return refusal;
}

/* ---- the namespace ---- */

static const char *on_connect(ym_sio_socket_t *s, const char *auth_json, size_t auth_len, void *ud)
{
    ym_app_admin_t *adm = ud;
    const char *session;
    const char *refusal = check_auth(adm, auth_json, auth_len, &session);
    if (refusal) {
        ym_log_warn("admin: refused %s: %s", ym_sio_socket_peer(s), refusal);
        return refusal;
    }
    ym_log_info("admin: %s connected%s", ym_sio_socket_peer(s), session ? " (new session)" : "");
    /* These wait in the socket's queue and follow the CONNECT reply. */
    if (session)
        ym_app__emit_json(s, "session", json_pack("[s]", session));
    json_t *features = json_array();
    if (!adm->readonly) {
        static const char *const cmds[] = { "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT" };
        for (size_t i = 0; i < YM_ARRAY_LEN(cmds); i++)
            json_array_append_new(features, json_string(cmds[i]));
    }
    json_array_append_new(features, json_string("AGGREGATED_EVENTS"));
    ym_app__emit_json(s, "config", json_pack("[{s:o}]", "supportedFeatures", features));
    sock_list_t l = { adm, json_array() };
    ym_sio_nsps_foreach(adm->sio, add_nsp_sockets, &l);
    ym_app__emit_json(s, "all_sockets", json_pack("[o]", l.arr));
    /* Not in @socket.io/admin-ui (which waits for the timer), but a page
     * that shows numbers at once is nicer; the dashboard takes it as any other. */
    ym_app__emit_json(s, "server_stats", json_pack("[o]", stats_json(adm, false)));
    return NULL;
}

typedef struct id_list {
    char **v;
    size_t n, cap;
} id_list_t;

static void collect(ym_sio_socket_t *s, void *ud)
{
    id_list_t *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = ym_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = ym_xstrdup(ym_sio_socket_id(s));
}

typedef enum cmd { CMD_JOIN, CMD_LEAVE, CMD_DISCONNECT } cmd_t;

/* Runs cmd on the sockets of nsp in filter (a room or socket id; NULL = all).
 * The ids are collected first: the room walk must not change rooms. */
static size_t apply(ym_sio_nsp_t *nsp, const char *filter, cmd_t cmd, const char *room, bool close)
{
    id_list_t l = { 0 };
    ym_sio_room_foreach(nsp, filter, collect, &l);
    size_t done = 0;
    for (size_t i = 0; i < l.n; i++) {
        ym_sio_socket_t *s = ym_sio_find_socket(nsp, l.v[i]);
        if (s) {
            if (cmd == CMD_JOIN)
                (void)ym_sio_join(s, room);
            else if (cmd == CMD_LEAVE)
                (void)ym_sio_leave(s, room);
            else
                ym_sio_disconnect(s, close);
            done++;
        }
        free(l.v[i]);
    }
    free(l.v);
    return done;
}

/* Events that Socket.IO reserves: a client could not tell them from its own. */
static bool reserved_event(const char *ev)
{
    static const char *const names[] = { "connect", "connect_error", "disconnect", "disconnecting",
                                         "newListener", "removeListener" };
    for (size_t i = 0; i < YM_ARRAY_LEN(names); i++)
        if (strcmp(ev, names[i]) == 0)
            return true;
    return false;
}

static const char *opt_filter(json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static void on_any(ym_sio_socket_t *s, const char *event, const ym_sio_args_t *args, ym_sio_ack_t *ack, void *ud)
{
    ym_app_admin_t *adm = ud;
    if (ack)
        ym_sio_ack_free(ack); /* the dashboard asks for none */
    if (adm->readonly)
        return;
    bool is_emit = strcmp(event, "emit") == 0, is_join = strcmp(event, "join") == 0,
         is_leave = strcmp(event, "leave") == 0, is_disc = strcmp(event, "_disconnect") == 0;
    if (!is_emit && !is_join && !is_leave && !is_disc)
        return;
    json_t *a = ym_app__args(args);
    if (!a)
        return;
    const char *nsp_name = json_string_value(json_array_get(a, 0));
    /* Only existing namespaces: a command must not create one. */
    ym_sio_nsp_t *nsp = nsp_name ? ym_sio_find_nsp(adm->sio, nsp_name) : NULL;
    if (!nsp)
        goto out;
    if (is_emit) {
        const char *filter = opt_filter(json_array_get(a, 1));
        const char *ev = json_string_value(json_array_get(a, 2));
        if (!ev || !*ev || reserved_event(ev))
            goto out;
        json_t *rest = json_array();
        for (size_t i = 3; i < json_array_size(a); i++)
            json_array_append(rest, json_array_get(a, i));
        ym_sio_bcast_t b = ym_sio_bcast(nsp);
        if (filter)
            ym_sio_bcast_to(&b, filter);
        ym_app__bcast_json(&b, ev, rest);
        ym_log_info("admin: %s emitted \"%.64s\" to %s %.64s", ym_sio_socket_id(s), ev, nsp_name,
                    filter ? filter : "(all)");
    } else if (is_join || is_leave) {
        const char *room = json_string_value(json_array_get(a, 1));
        if (!room || !*room)
            goto out;
        size_t n = apply(nsp, opt_filter(json_array_get(a, 2)), is_join ? CMD_JOIN : CMD_LEAVE, room, false);
        ym_log_info("admin: %s made %zu socket(s) of %s %s \"%.64s\"", ym_sio_socket_id(s), n, nsp_name,
                    is_join ? "join" : "leave", room);
    } else {
        json_t *close = json_array_get(a, 1);
        const char *filter = opt_filter(json_array_get(a, 2));
        char me[32];
        snprintf(me, sizeof(me), "%s", ym_sio_socket_id(s)); /* s may be among the targets */
        size_t n = apply(nsp, filter, CMD_DISCONNECT, NULL, json_is_true(close));
        ym_log_info("admin: %s disconnected %zu socket(s) of %s", me, n, nsp_name);
    }
out:
    json_decref(a);
}

/* ---- lifetime ---- */

ym_app_admin_t *ym_app_admin_new(uv_loop_t *loop, ym_sio_t *sio, const ym_app_admin_config_t *cfg)
{
    ym_app_admin_t *adm = ym_xcalloc(1, sizeof(*adm));
    adm->loop = loop;
    adm->sio = sio;
    adm->app_nsp = cfg ? cfg->app_nsp : NULL;
    adm->readonly = cfg && cfg->readonly;
    if (cfg && cfg->password && cfg->password[0]) {
        adm->auth = true;
        ym_random_bytes(adm->salt, sizeof(adm->salt));
        derive(adm->salt, cfg->password, strlen(cfg->password), adm->hash);
    }
    if (gethostname(adm->hostname, sizeof(adm->hostname) - 1) != 0)
        snprintf(adm->hostname, sizeof(adm->hostname), "localhost");
    adm->started_ms = ym_now_ms();
    adm->nsp = ym_sio_of(sio, ADMIN_NSP);
    /* on_any only: once the handlers are cleared (ym_app_admin_free) no
     * per-event callback can reach freed state. */
    ym_sio_handlers_t h = { .on_connect = on_connect, .on_any = on_any, .ud = adm };
    ym_sio_nsp_set_handlers(adm->nsp, &h);
    ym_sio_observer_t obs = {
        .on_client_open = obs_client_open,
        .on_client_close = obs_client_close,
        .on_socket_connect = obs_socket_connect,
        .on_socket_disconnect = obs_socket_disconnect,
        .on_join = obs_join,
        .on_leave = obs_leave,
        .ud = adm,
    };
    ym_sio_set_observer(sio, &obs);
    uint32_t every = cfg && cfg->stats_interval_ms ? cfg->stats_interval_ms : YM_APP_ADMIN_DEFAULT_STATS_MS;
    uv_timer_init(loop, &adm->timer);
    adm->timer.data = adm;
    uv_timer_start(&adm->timer, on_stats_timer, every, every);
    ym_log_info("admin: namespace %s on%s%s", ADMIN_NSP, adm->auth ? ", password required" : ", NO password",
                adm->readonly ? ", read-only" : "");
    return adm;
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void ym_app_admin_free(ym_app_admin_t *adm)
{
    if (!adm)
        return;
    ym_sio_set_observer(adm->sio, NULL);
    ym_sio_handlers_t none = { 0 };
    ym_sio_nsp_set_handlers(adm->nsp, &none);
    OPENSSL_cleanse(adm->hash, sizeof(adm->hash));
    uv_timer_stop(&adm->timer);
    uv_close((uv_handle_t *)&adm->timer, timer_closed);
}
