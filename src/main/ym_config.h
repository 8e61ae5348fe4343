/* ym_config.h: yoom's settings, from flags and the environment.
 *
 * Adding a setting is one field here plus one row in the option table in
 * ym_config.c (name, kind, field offset, default, help); parsing, defaults,
 * validation and --help all come from that table.
 *
 * Threading: parse once on the main thread before the loop starts; read-only after.
 * Strings point into argv, the environment or static defaults: never freed.
 */
#ifndef YM_CONFIG_H
#define YM_CONFIG_H

#include "base/ym_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A flag that may be given several times (each value kept, in order). */
#define YM_CONFIG_MAX_LIST 16
typedef struct ym_config_list {
    const char *v[YM_CONFIG_MAX_LIST];
    size_t n;
} ym_config_list_t;

typedef struct ym_config {
    const char *host;
    uint64_t port;
    bool port_given;             /* --port was on the command line (PORT env is ignored then) */
    const char *web_root;
    const char *data_dir;
    ym_log_level_t log_level;
    uint64_t max_header_bytes;
    uint64_t max_headers;
    uint64_t max_body_bytes;
    uint64_t header_timeout_ms;
    uint64_t keepalive_timeout_ms;
    uint64_t max_send_backlog;
    uint64_t max_connections;
    uint64_t listen_backlog;       /* listen(2) backlog */
    uint64_t shutdown_timeout_ms;
    uint64_t max_room_members;     /* app: see src/app/ym_app.h */
    uint64_t max_rooms;
    uint64_t max_room_name_chars;
    uint64_t max_nickname_chars;
    uint64_t max_message_chars;
    uint64_t max_sdp_bytes;        /* call signalling: one session description */
    uint64_t max_candidate_bytes;  /* call signalling: one ICE candidate line */
    uint64_t max_password_bytes;   /* room passwords */
    uint64_t process_max_body_bytes; /* POST /process body (seed 000) */
    uint64_t stun_port;            /* built-in STUN server (UDP); 0 = any free port */
    const char *stun_host;         /* its address; NULL = the --host address */
    bool no_stun;
    const char *turn_urls;         /* optional TURN servers for the ICE list (src/rtc/ym_ice_servers.h) */
    const char *turn_username;
    const char *turn_credential;
    const char *turn_secret;       /* shared secret: time-limited REST credentials */
    uint64_t turn_ttl;
    const char *store_sync;        /* history (src/store/ym_store.h): "normal" or "full" */
    uint64_t history;              /* messages given to a joiner */
    uint64_t history_ttl_s;
    uint64_t clip_frame_ms;        /* clips (src/media/ym_media.h) */
    uint64_t clip_max_frames;
    uint64_t clip_max_bytes;
    uint64_t clip_queue;           /* 0 = the media layer's default (2 x cores) */
    ym_config_list_t cors_origins; /* --cors-origin, each value comma-separated origins */
    bool admin;                    /* the /admin namespace (src/app/app_admin.h) */
    const char *admin_password;    /* implies admin */
    bool admin_readonly;
    const char *tls_cert;          /* native TLS (src/net/ym_tls.h): PEM certificate chain */
    const char *tls_key;           /* and its PEM private key */
    bool tls_self_signed;          /* generate (or reuse) <data-dir>/tls/{cert,key}.pem */
    ym_config_list_t tls_sans;     /* --tls-san: extra names for the self-signed certificate, comma-separated */
    uint64_t http_redirect_port;   /* with TLS: plain-HTTP port answering 301 to https (0 = none) */
    bool quiet;
    bool conformance;
    uint64_t conformance_ping_timeout_ms; /* pingTimeout of the --conformance endpoints (the suites' 200 by default) */
    bool bench;                    /* the benchmark workload (src/main/ym_bench_mode.h) instead of the app */
    bool help;
} ym_config_t;

/* Fills every field with its default. */
void ym_config_defaults(ym_config_t *cfg);
/* Parses argv (argv[0] skipped) over the defaults, then the PORT environment
 * variable when --port was not given. Returns 0, or -1 with a message in err. */
int ym_config_parse(ym_config_t *cfg, int argc, char **argv, char *err, size_t err_size);
/* Writes the --help text (every flag with its default) to f. */
void ym_config_usage(FILE *f, const char *argv0);

#endif
