/* main.c: the yoom binary: flags, wiring of the layers, signals and graceful
 * shutdown. Other layers plug in inside wire_layers() (and unwire_layers()). */
#include "main/ym_config.h"

#include "base/ym_log.h"
#include "http/ym_http.h"
#include "main/ym_bench_mode.h"
#include "main/ym_conformance.h"
#include "app/ym_app.h"
#include "media/ym_media.h"
#include "net/ym_tls.h"
#include "store/ym_store.h"
#include "rtc/ym_stun_server.h"
#include "yoom/sio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

typedef struct yoom {
    ym_config_t cfg;
    uv_loop_t *loop;
    ym_http_server_t *http;
    ym_http_server_t *redirect;  /* --http-redirect-port: 301 to https, or NULL */
    ym_sio_t *sio;      /* the app's Socket.IO server (not in conformance mode) */
    ym_app_t *app;
    ym_stun_server_t *stun;  /* NULL with --no-stun or when its port was taken */
    ym_store_t *store;       /* message history (not in conformance mode) */
    ym_media_encoder_t *media; /* clip encoder (not in conformance mode) */
    ym_media_config_t media_cfg;
    /* --cors-origin values split at commas; Engine.IO reads them for its
     * whole life (ym_sio_config_t.cors_origins), so they live here. */
    char cors_buf[4096];
    const char *cors[65];
    ym_tls_ctx_t *tls;       /* --tls-*: outlives the listener; freed after the loop */
    char san_buf[2048];      /* --tls-san values split at commas */
    const char *sans[64];
    uv_signal_t sigint, sigterm;
    bool stopping;
    int shutdown_waits;      /* HTTP shutdown and app drain still running */
    int exit_code;
} yoom_t;

/* mkdir -p for the data directory. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -errno;
            buf[i] = saved;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -errno;
    return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

/* The message store (<data-dir>/yoom.db) and the clip encoder. A store that
 * cannot be opened (unwritable, corrupt, newer schema) stops start-up with
 * the store's one-line reason. */
static int open_history(yoom_t *y)
{
    const ym_config_t *c = &y->cfg;
    ym_store_config_t sc;
    ym_store_config_init(&sc);
    if (ym_store_sync_parse(c->store_sync, &sc.synchronous) != 0) {
        ym_log_error("--store-sync: '%s' is not normal or full", c->store_sync);
        return -EINVAL;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", c->data_dir, YM_STORE_DB_FILE) >= sizeof path) {
        ym_log_error("--data-dir: path too long");
        return -ENAMETOOLONG;
    }
    sc.path = path;
    sc.history_limit = (uint32_t)c->history;
    sc.ttl_ms = c->history_ttl_s * 1000u;
    char err[256];
    int rc = ym_store_open(y->loop, &sc, &y->store, err, sizeof err);
    if (rc != 0) {
        ym_log_error("cannot open the message store %s: %s", path, err);
        return rc;
    }
    ym_media_config_default(&y->media_cfg);
    y->media_cfg.frame_ms = (unsigned)c->clip_frame_ms;
    y->media_cfg.max_frames = (unsigned)c->clip_max_frames;
    y->media_cfg.max_total_bytes = (size_t)c->clip_max_bytes;
    if (c->clip_queue)
        y->media_cfg.max_queue = (unsigned)c->clip_queue;
    y->media = ym_media_encoder_new(y->loop, &y->media_cfg);
    return 0;
}

/* Splits the --cors-origin values (each may list several, comma-separated)
 * into y->cors, NULL-terminated. */
static int split_cors(yoom_t *y)
{
    const ym_config_list_t *l = &y->cfg.cors_origins;
    size_t used = 0, n = 0;
    for (size_t i = 0; i < l->n; i++) {
        for (const char *p = l->v[i]; *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *next = end ? end + 1 : p + len;
            while (len && (*p == ' ' || *p == '\t')) {
                p++;
                len--;
            }
            while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                len--;
            if (len) {
                if (n + 1 >= YM_ARRAY_LEN(y->cors) || used + len + 1 > sizeof(y->cors_buf)) {
                    ym_log_error("--cors-origin: too many origins");
                    return -EINVAL;
                }
                /* An origin is scheme://host[:port]: a path or "*" would never match a browser's Origin. */
                if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0) {
                    ym_log_error("--cors-origin: '%.*s' is not an http:// or https:// origin", (int)len, p);
                    return -EINVAL;
                }
                memcpy(y->cors_buf + used, p, len);
                y->cors_buf[used + len] = '\0';
                y->cors[n++] = y->cors_buf + used;
                used += len + 1;
            }
            p = next;
        }
    }
    y->cors[n] = NULL;
    return (int)n;
}

/* The TLS context from --tls-cert/--tls-key or --tls-self-signed (nothing
 * when neither is given). Made before the loop runs: it may write files. */
static int open_tls(yoom_t *y)
{
    const ym_config_t *c = &y->cfg;
    char err[YM_TLS_ERR_LEN];
    if (!c->tls_cert && !c->tls_key && !c->tls_self_signed) {
        if (c->tls_sans.n) {
            ym_log_error("--tls-san names go into the --tls-self-signed certificate: add --tls-self-signed");
            return -EINVAL;
        }
        return 0;
    }
    if (c->tls_self_signed && (c->tls_cert || c->tls_key)) {
        ym_log_error("--tls-self-signed and --tls-cert/--tls-key exclude each other");
        return -EINVAL;
    }
    if (!c->tls_self_signed) {
        if (!c->tls_cert || !c->tls_key) {
            ym_log_error("--tls-cert and --tls-key go together");
            return -EINVAL;
        }
        if (c->tls_sans.n) {
            ym_log_error("--tls-san applies to --tls-self-signed only (a given certificate has its own names)");
            return -EINVAL;
        }
        y->tls = ym_tls_ctx_new_from_files(c->tls_cert, c->tls_key, err);
        if (!y->tls) {
            ym_log_error("%s", err);
            return -EINVAL;
        }
        return 0;
    }
    /* Split the --tls-san values at commas. */
    size_t n = 0, used = 0;
    for (size_t i = 0; i < c->tls_sans.n; i++) {
        for (const char *p = c->tls_sans.v[i]; *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            const char *next = end ? end + 1 : p + len;
            while (len && *p == ' ') {
                p++;
                len--;
            }
            while (len && p[len - 1] == ' ')
                len--;
            if (len) {
                if (n >= YM_ARRAY_LEN(y->sans) || used + len + 1 > sizeof y->san_buf) {
                    ym_log_error("--tls-san: too many names");
                    return -EINVAL;
                }
                memcpy(y->san_buf + used, p, len);
                y->san_buf[used + len] = '\0';
                y->sans[n++] = y->san_buf + used;
                used += len + 1;
            }
            p = next;
        }
    }
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s/tls", c->data_dir) >= sizeof dir - 32) {
        ym_log_error("--data-dir: path too long");
        return -ENAMETOOLONG;
    }
    bool generated = false;
    y->tls = ym_tls_ctx_new_self_signed(y->sans, n, dir, &generated, err);
    if (!y->tls) {
        ym_log_error("%s", err);
        return -EINVAL;
    }
    char names[1024];
    ym_tls_ctx_describe(y->tls, names, sizeof names);
    ym_log_info("TLS: %s self-signed certificate %s/%s for %s", generated ? "new" : "reusing", dir,
                YM_TLS_SELF_CERT, names);
    return 0;
}

/* --http-redirect-port: every request gets a 301 to the same target on the
 * https port, at the host the browser asked for (its port replaced). */
static ym_http_result_t redirect_handler(ym_http_req_t *req, void *ud)
{
    yoom_t *y = ud;
    ym_str_t host = ym_http_header(req, "Host");
    size_t hlen = 0;
    if (host.p && host.len && host.len < 256) {
        /* Host without its port: "[::1]:80" → "[::1]", "a.b:80" → "a.b". */
        if (host.p[0] == '[') {
            const char *rb = memchr(host.p, ']', host.len);
            hlen = rb ? (size_t)(rb - host.p) + 1 : 0;
        } else {
            const char *colon = memchr(host.p, ':', host.len);
            hlen = colon ? (size_t)(colon - host.p) : host.len;
        }
        /* It goes into a header: host characters only. */
        for (size_t i = 0; i < hlen; i++) {
            char ch = host.p[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '-' || ch == '[' || ch == ']' || ch == ':')) {
                hlen = 0;
                break;
            }
        }
    }
    if (hlen == 0) {
        ym_http_respond_error(req, 400, "a Host header is needed to redirect to https");
        return YM_HTTP_DONE;
    }
    int port = ym_http_server_port(y->http);
    char loc[4096];
    int n = port == 443 ? snprintf(loc, sizeof loc, "Location: https://%.*s%.*s\r\n", (int)hlen, host.p,
                                   (int)req->target.len, req->target.p)
                        : snprintf(loc, sizeof loc, "Location: https://%.*s:%d%.*s\r\n", (int)hlen, host.p, port,
                                   (int)req->target.len, req->target.p);
    if (n < 0 || (size_t)n >= sizeof loc) {
        ym_http_respond_error(req, 414, "target too long to redirect");
        return YM_HTTP_DONE;
    }
    static const char body[] = "Moved to https.\n";
    ym_http_respond(req, 301, "text/plain; charset=utf-8", body, sizeof body - 1, loc);
    return YM_HTTP_DONE;
}

static int open_redirect(yoom_t *y, const ym_http_config_t *hc, const ym_net_config_t *nc)
{
    const ym_config_t *c = &y->cfg;
    if (!c->http_redirect_port)
        return 0;
    if (!y->tls) {
        ym_log_error("--http-redirect-port needs TLS on (--tls-cert/--tls-key or --tls-self-signed)");
        return -EINVAL;
    }
    ym_http_config_t rc_cfg = *hc;
    rc_cfg.web_root = NULL;
    ym_net_config_t rn = *nc;
    rn.tls = NULL;
    int rc = ym_http_server_new(y->loop, c->host, (int)c->http_redirect_port, &rc_cfg, &rn, &y->redirect);
    if (rc != 0) {
        ym_log_error("--http-redirect-port: cannot listen on %s:%d: %s", c->host, (int)c->http_redirect_port,
                     uv_strerror(rc));
        return rc;
    }
    ym_http_route(y->redirect, "/", 0, redirect_handler, y);
    return 0;
}

/* Creates the servers and registers every layer's routes. Layers above http
 * (Engine.IO/Socket.IO, app, store, media, STUN) are wired here, in order. */
static int wire_layers(yoom_t *y)
{
    const ym_config_t *c = &y->cfg;
    ym_http_config_t hc = {
        .max_header_bytes = c->max_header_bytes,
        .max_headers = (unsigned)c->max_headers,
        .max_body_bytes = c->max_body_bytes,
        .header_timeout_ms = c->header_timeout_ms,
        .keepalive_timeout_ms = c->keepalive_timeout_ms,
        .web_root = c->web_root,
        .quiet = c->quiet,
    };
    ym_net_config_t nc = {
        .max_send_backlog = c->max_send_backlog,
        .max_connections = (unsigned)c->max_connections,
        .listen_backlog = (unsigned)c->listen_backlog,
        .tls = y->tls,
    };
    int rc = ym_http_server_new(y->loop, c->host, (int)c->port, &hc, &nc, &y->http);
    if (rc != 0) {
        ym_log_error("cannot listen on %s:%d: %s", c->host, (int)c->port, uv_strerror(rc));
        return rc;
    }
    if ((rc = open_redirect(y, &hc, &nc)) != 0)
        return rc;
    /* Routes of the upper layers go here, e.g. ym_http_route(y->http, "/socket.io/", ...). */
    if (c->conformance && (rc = ym_conformance_wire(y->loop, y->http, (uint32_t)c->conformance_ping_timeout_ms)) != 0)
        return rc;
    if (c->bench && !c->conformance) {
        /* No app, store, media or STUN: only what the load generator measures. */
        ym_sio_config_t sc = { .max_send_backlog = c->max_send_backlog };
        y->sio = ym_sio_new(y->loop, y->http, &sc);
        if (!y->sio) {
            ym_log_error("cannot create the Socket.IO server");
            return -EINVAL;
        }
        ym_bench_mode_wire(y->sio);
        return 0;
    }
    if (!c->conformance) {
        ym_sio_config_t sc = { .max_send_backlog = c->max_send_backlog };
        int ncors = split_cors(y);
        if (ncors < 0)
            return ncors;
        if (ncors > 0)
            sc.cors_origins = y->cors;
        /* Clip frames travel as attachments of one packet. */
        if (c->clip_max_frames > 10)
            sc.max_attachments = (unsigned)c->clip_max_frames;
        y->sio = ym_sio_new(y->loop, y->http, &sc);
        if (!y->sio) {
            ym_log_error("cannot create the Socket.IO server");
            return -EINVAL;
        }
        ym_app_config_t ac = {
            .max_room_members = c->max_room_members,
            .max_rooms = c->max_rooms,
            .max_room_name_chars = c->max_room_name_chars,
            .max_nickname_chars = c->max_nickname_chars,
            .max_message_chars = c->max_message_chars,
            .web_root = c->web_root,
            .max_sdp_bytes = c->max_sdp_bytes,
            .max_candidate_bytes = c->max_candidate_bytes,
            .max_password_bytes = c->max_password_bytes,
            .process_max_body_bytes = c->process_max_body_bytes,
            .ice = {
                .turn_urls = c->turn_urls,
                .turn_username = c->turn_username,
                .turn_credential = c->turn_credential,
                .turn_secret = c->turn_secret,
                .turn_ttl = (unsigned)c->turn_ttl,
            },
        };
        if (ym_app_ice_check(&ac.ice) != 0) {
            ym_log_error("--turn-urls must be turn:, turns: or stun: URLs, and TURN settings plain text");
            return -EINVAL;
        }
        if (!c->no_stun) {
            const char *sh = c->stun_host ? c->stun_host : c->host;
            rc = ym_stun_server_start(y->loop, sh, (int)c->stun_port, &y->stun);
            /* Not fatal: calls on one network need no STUN at all, and a
             * second yoom on the machine should still start. */
            if (rc != 0)
                ym_log_warn("STUN server: cannot bind udp %s:%d: %s (the ICE list leaves it out)", sh,
                            (int)c->stun_port, uv_strerror(rc));
        }
        ac.ice.stun_disabled = y->stun == NULL;
        ac.ice.stun_port = y->stun ? ym_stun_server_port(y->stun) : 0;
        if ((rc = open_history(y)) != 0)
            return rc;
        ac.store = y->store;
        ac.media = y->media;
        ac.media_cfg = &y->media_cfg;
        ac.history_ttl_ms = c->history_ttl_s * 1000u;
        ac.admin = c->admin || c->admin_password;
        ac.admin_password = c->admin_password;
        ac.admin_readonly = c->admin_readonly;
        y->app = ym_app_new(y->loop, y->http, y->sio, &ac);
    }
    return 0;
}

/* Releases what wire_layers made, after the connections are gone. */
static void unwire_layers(yoom_t *y)
{
    if (y->cfg.conformance)
        ym_conformance_unwire();
    /* The app first: it detaches from the namespace that ym_sio_free tears down. */
    ym_app_free(y->app);
    y->app = NULL;
    ym_stun_server_stop(y->stun);
    y->stun = NULL;
    if (y->sio)
        ym_sio_free(y->sio);
    y->sio = NULL;
    ym_http_server_free(y->http);
    y->http = NULL;
    if (y->redirect)
        ym_http_server_free(y->redirect);
    y->redirect = NULL;
}

static void store_closed(void *ud)
{
    yoom_t *y = ud;
    y->store = NULL;
    ym_log_info("shutdown complete");
    unwire_layers(y);
}

/* Graceful shutdown, in this order:
 *  1. HTTP stops accepting and closes idle connections; in parallel the app
 *     refuses new work and waits until every message and clip in flight is
 *     committed and answered (the encoder cancels queued clips with an error).
 *  2. Drained: Socket.IO closes its clients (held long-polls answered, WebSocket
 *     close frames), so HTTP's wait ends without running into its deadline.
 *  3. Both done: the store closes (its threads finish), then everything is freed. */
static void maybe_close_store(yoom_t *y)
{
    if (y->shutdown_waits > 0)
        return;
    if (y->store)
        ym_store_close(y->store, store_closed, y);
    else
        store_closed(y);
}

static void app_drained(void *ud)
{
    yoom_t *y = ud;
    if (y->sio)
        ym_sio_shutdown(y->sio);
    y->shutdown_waits--;
    maybe_close_store(y);
}

static void http_done(void *ud)
{
    yoom_t *y = ud;
    uv_close((uv_handle_t *)&y->sigint, NULL);
    uv_close((uv_handle_t *)&y->sigterm, NULL);
    y->shutdown_waits--;
    maybe_close_store(y);
}

static void redirect_done(void *ud)
{
    yoom_t *y = ud;
    y->shutdown_waits--;
    maybe_close_store(y);
}

static void on_signal(uv_signal_t *h, int signum)
{
    yoom_t *y = h->data;
    if (y->stopping) {
        ym_log_warn("second signal: exiting now");
        exit(1);
    }
    y->stopping = true;
    ym_log_info("%s: shutting down (deadline %llu ms)", signum == SIGINT ? "SIGINT" : "SIGTERM",
                (unsigned long long)y->cfg.shutdown_timeout_ms);
    if (y->cfg.conformance)
        ym_conformance_shutdown(); /* answers held long-polls so HTTP need not wait for them */
    else if (y->sio && !y->app)
        ym_sio_shutdown(y->sio); /* --bench: no app to drain first */
    y->shutdown_waits = (y->app ? 2 : 1) + (y->redirect ? 1 : 0);
    if (y->redirect)
        ym_http_server_shutdown(y->redirect, y->cfg.shutdown_timeout_ms, redirect_done, y);
    ym_http_server_shutdown(y->http, y->cfg.shutdown_timeout_ms, http_done, y);
    if (y->app) {
        ym_app_drain(y->app, app_drained, y);
        if (y->media)
            ym_media_encoder_close(y->media);
        y->media = NULL;
    }
}

int main(int argc, char **argv)
{
    static yoom_t y;
    char err[256];
    ym_config_defaults(&y.cfg);
    if (ym_config_parse(&y.cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "yoom: %s\n", err);
        return 2;
    }
    if (y.cfg.help) {
        ym_config_usage(stdout, argv[0]);
        return 0;
    }
    /* The public conformance suites hard-code port 3000. */
    if (y.cfg.conformance && !y.cfg.port_given)
        y.cfg.port = 3000;
    ym_log_set_level(y.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    int rc = make_dirs(y.cfg.data_dir);
    if (rc != 0) {
        ym_log_error("data dir %s: %s", y.cfg.data_dir, strerror(-rc));
        return 1;
    }
    y.loop = uv_default_loop();
    if (open_tls(&y) != 0)
        return 1;
    if (wire_layers(&y) != 0)
        return 1;
    uv_signal_init(y.loop, &y.sigint);
    uv_signal_init(y.loop, &y.sigterm);
    y.sigint.data = y.sigterm.data = &y;
    uv_signal_start(&y.sigint, on_signal, SIGINT);
    uv_signal_start(&y.sigterm, on_signal, SIGTERM);
    /* Printed at any --log-level: launchers and tests wait for this line. */
    ym_log_set_level(YM_LOG_INFO);
    ym_log_info("listening on %s://%s:%d/", y.tls ? "https" : "http", y.cfg.host, ym_http_server_port(y.http));
    if (y.redirect)
        ym_log_info("plain http on %s:%d answers with a redirect to https", y.cfg.host,
                    ym_http_server_port(y.redirect));
    ym_log_set_level(y.cfg.log_level);
    uv_run(y.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(y.loop);
    if (rc != 0)
        ym_log_warn("loop closed with handles open: %s", uv_strerror(rc));
    ym_tls_ctx_free(y.tls);
    return y.exit_code;
}
