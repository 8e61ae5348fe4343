/* ym_config.c: the option table and its parser (see ym_config.h). */
#include "main/ym_config.h"

#include "base/ym_base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_kind {
    OPT_STR,        /* const char * */
    OPT_U64,        /* uint64_t, decimal, no sign */
    OPT_PORT,       /* uint64_t, 0..65535 */
    OPT_FLAG,       /* bool, takes no value */
    OPT_LOG_LEVEL,  /* ym_log_level_t */
    OPT_LIST,       /* ym_config_list_t: repeatable, values appended */
} opt_kind_t;

typedef struct opt {
    const char *name;
    opt_kind_t kind;
    size_t offset;
    const char *def;     /* NULL for flags */
    uint64_t min, max;   /* for numbers */
    const char *help;
} opt_t;

#define F(field) offsetof(ym_config_t, field)

static const opt_t opts[] = {
    { "host", OPT_STR, F(host), "0.0.0.0", 0, 0, "address to listen on" },
    { "port", OPT_PORT, F(port), "8080", 0, 65535, "TCP port (0 = any free port; the PORT environment variable is used when --port is absent)" },
    { "web-root", OPT_STR, F(web_root), "./web", 0, 0, "directory of static files" },
    { "data-dir", OPT_STR, F(data_dir), "./var", 0, 0, "directory for data (created if missing)" },
    { "log-level", OPT_LOG_LEVEL, F(log_level), "info", 0, 0, "error, warn, info or debug" },
    { "max-header-bytes", OPT_U64, F(max_header_bytes), "8192", 256, 1048576, "request line + headers limit (414/431)" },
    { "max-headers", OPT_U64, F(max_headers), "100", 1, 10000, "header fields per request (431)" },
    { "max-body-bytes", OPT_U64, F(max_body_bytes), "1048576", 1, 1ull << 32, "request body limit (413)" },
    { "header-timeout-ms", OPT_U64, F(header_timeout_ms), "10000", 1, 3600000, "a request head must arrive within (408)" },
    { "keepalive-timeout-ms", OPT_U64, F(keepalive_timeout_ms), "5000", 1, 3600000, "idle time between requests" },
    { "max-send-backlog", OPT_U64, F(max_send_backlog), "4194304", 4096, 1ull << 32, "bytes queued per connection before a slow client is dropped" },
    { "max-connections", OPT_U64, F(max_connections), "19000", 1, 1000000, "connections at once" },
    { "listen-backlog", OPT_U64, F(listen_backlog), "4096", 1, 65535, "connections the kernel completes before yoom accepts them (clamped by net.core.somaxconn)" },
    { "shutdown-timeout-ms", OPT_U64, F(shutdown_timeout_ms), "10000", 0, 3600000, "graceful shutdown deadline on SIGINT/SIGTERM" },
    { "max-room-members", OPT_U64, F(max_room_members), "16", 1, 100000, "people in one room at once" },
    { "max-rooms", OPT_U64, F(max_rooms), "10000", 1, 10000000, "rooms existing at once" },
    { "max-room-name-chars", OPT_U64, F(max_room_name_chars), "64", 1, 1024, "room name length (characters)" },
    { "max-nickname-chars", OPT_U64, F(max_nickname_chars), "32", 1, 1024, "nickname length (characters, after trimming)" },
    { "max-message-chars", OPT_U64, F(max_message_chars), "2000", 1, 100000, "chat message length (characters)" },
    { "max-sdp-bytes", OPT_U64, F(max_sdp_bytes), "65536", 1024, 900000, "call signalling: size of one session description (bytes)" },
    { "max-candidate-bytes", OPT_U64, F(max_candidate_bytes), "4096", 256, 65536, "call signalling: size of one ICE candidate line (bytes)" },
    { "max-password-bytes", OPT_U64, F(max_password_bytes), "128", 8, 4096, "room password length (bytes; each try costs one PBKDF2 hash of it)" },
    { "process-max-body-bytes", OPT_U64, F(process_max_body_bytes), "3145728", 1024, 1ull << 30, "POST /process (seed 000 clips) request body; larger gets 413" },
    { "stun-port", OPT_PORT, F(stun_port), "3478", 0, 65535, "UDP port of the built-in STUN server (0 = any free port)" },
    { "stun-host", OPT_STR, F(stun_host), NULL, 0, 0, "IP address the STUN server binds; when off, the --host address" },
    { "no-stun", OPT_FLAG, F(no_stun), NULL, 0, 0, "no built-in STUN server (and none in the ICE server list)" },
    { "turn-urls", OPT_STR, F(turn_urls), NULL, 0, 0, "comma-separated turn:/turns: URLs offered to browsers" },
    { "turn-username", OPT_STR, F(turn_username), NULL, 0, 0, "static TURN username" },
    { "turn-credential", OPT_STR, F(turn_credential), NULL, 0, 0, "static TURN password" },
    { "turn-secret", OPT_STR, F(turn_secret), NULL, 0, 0, "TURN shared secret (coturn static-auth-secret): time-limited credentials" },
    { "turn-ttl", OPT_U64, F(turn_ttl), "86400", 60, 31536000, "lifetime of time-limited TURN credentials (seconds)" },
    { "store-sync", OPT_STR, F(store_sync), "normal", 0, 0, "history durability: normal (survives a crash of the process) or full (also a power loss)" },
    { "history", OPT_U64, F(history), "10", 1, 1000, "messages per room given to whoever joins" },
    { "history-ttl-s", OPT_U64, F(history_ttl_s), "600", 1, 31536000, "messages (and clips) older than this are not given out nor kept (seconds)" },
    { "clip-frame-ms", OPT_U64, F(clip_frame_ms), "100", 10, 10000, "how long each frame of a clip shows (ms)" },
    { "clip-max-frames", OPT_U64, F(clip_max_frames), "10", 1, 20, "frames per clip" },
    { "clip-max-bytes", OPT_U64, F(clip_max_bytes), "3145728", 1024, 67108864, "JPEG bytes per clip (all frames together)" },
    { "clip-queue", OPT_U64, F(clip_queue), "0", 0, 10000, "clips encoding or waiting at once; more get \"busy, try again\" (0 = 2 x cores)" },
    { "cors-origin", OPT_LIST, F(cors_origins), NULL, 0, 0, "origin allowed cross-origin with credentials, e.g. https://admin.socket.io (repeatable or comma-separated)" },
    { "admin", OPT_FLAG, F(admin), NULL, 0, 0, "the /admin Socket.IO namespace (@socket.io/admin-ui protocol; yoom's own page is /admin/), without a password" },
    { "admin-password", OPT_STR, F(admin_password), NULL, 0, 0, "turns on /admin, with user \"admin\" and this password" },
    { "admin-readonly", OPT_FLAG, F(admin_readonly), NULL, 0, 0, "the admin view can watch but not emit, join, leave or disconnect" },
    { "tls-cert", OPT_STR, F(tls_cert), NULL, 0, 0, "serve HTTPS/WSS with this PEM certificate (chain); needs --tls-key" },
    { "tls-key", OPT_STR, F(tls_key), NULL, 0, 0, "PEM private key of --tls-cert" },
    { "tls-self-signed", OPT_FLAG, F(tls_self_signed), NULL, 0, 0, "serve HTTPS/WSS with a self-signed certificate made once and kept in <data-dir>/tls/" },
    { "tls-san", OPT_LIST, F(tls_sans), NULL, 0, 0, "extra host names or IP addresses for --tls-self-signed (repeatable or comma-separated; localhost, 127.0.0.1, ::1 and the hostname are always in)" },
    { "http-redirect-port", OPT_PORT, F(http_redirect_port), NULL, 1, 65535, "with TLS on: also listen for plain HTTP on this port and answer everything with a 301 to https" },
    { "quiet", OPT_FLAG, F(quiet), NULL, 0, 0, "no access log" },
    { "conformance", OPT_FLAG, F(conformance), NULL, 0, 0, "Engine.IO/Socket.IO conformance mode: the endpoints the public protocol suites test" },
    { "conformance-ping-timeout-ms", OPT_U64, F(conformance_ping_timeout_ms), "200", 1, 600000, "pingTimeout of the conformance endpoints (the suites expect 200; yoom's own suites allow a loaded machine more)" },
    { "bench", OPT_FLAG, F(bench), NULL, 0, 0, "serve the benchmark workload (bench/README.md) on the default namespace instead of the app" },
    { "help", OPT_FLAG, F(help), NULL, 0, 0, "show this help and exit" },
};

static void errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static int set_value(ym_config_t *cfg, const opt_t *o, const char *v, char *err, size_t err_size)
{
    char *field = (char *)cfg + o->offset;
    switch (o->kind) {
    case OPT_STR:
        if (!*v) {
            errf(err, err_size, "--%s: empty value", o->name);
            return -1;
        }
        *(const char **)(void *)field = v;
        return 0;
    case OPT_U64:
    case OPT_PORT: {
        if (*v < '0' || *v > '9') {
            errf(err, err_size, "--%s: '%s' is not a non-negative integer", o->name, v);
            return -1;
        }
        errno = 0;
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || *end || n < o->min || n > o->max) {
            errf(err, err_size, "--%s: '%s' is not an integer in [%llu, %llu]", o->name, v,
                 (unsigned long long)o->min, (unsigned long long)o->max);
            return -1;
        }
        *(uint64_t *)(void *)field = n;
        return 0;
    }
    case OPT_LOG_LEVEL:
        if (ym_log_parse_level(v, (ym_log_level_t *)(void *)field) != 0) {
            errf(err, err_size, "--%s: unknown level '%s' (error, warn, info, debug)", o->name, v);
            return -1;
        }
        return 0;
    case OPT_FLAG:
        *(bool *)(void *)field = true;
        return 0;
    case OPT_LIST: {
        ym_config_list_t *l = (ym_config_list_t *)(void *)field;
        if (!*v) {
            errf(err, err_size, "--%s: empty value", o->name);
            return -1;
        }
        if (l->n == YM_CONFIG_MAX_LIST) {
            errf(err, err_size, "--%s: at most %d times", o->name, YM_CONFIG_MAX_LIST);
            return -1;
        }
        l->v[l->n++] = v;
        return 0;
    }
    }
    return -1;
}

void ym_config_defaults(ym_config_t *cfg)
{
    char err[16];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < YM_ARRAY_LEN(opts); i++)
        if (opts[i].def)
            set_value(cfg, &opts[i], opts[i].def, err, sizeof err);
}

static const opt_t *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < YM_ARRAY_LEN(opts); i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int ym_config_parse(ym_config_t *cfg, int argc, char **argv, char *err, size_t err_size)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0) {
            errf(err, err_size, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt_t *o = find_opt(name, nlen);
        if (!o) {
            errf(err, err_size, "unknown flag '--%.*s' (see --help)", (int)nlen, name);
            return -1;
        }
        const char *v = NULL;
        if (o->kind == OPT_FLAG) {
            if (eq) {
                errf(err, err_size, "--%s takes no value", o->name);
                return -1;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            errf(err, err_size, "--%s needs a value", o->name);
            return -1;
        }
        if (set_value(cfg, o, v, err, err_size) != 0)
            return -1;
        if (o->offset == F(port))
            cfg->port_given = true;
    }
    const char *env_port = getenv("PORT");
    if (!cfg->port_given && env_port && *env_port) {
        if (set_value(cfg, find_opt("port", 4), env_port, err, err_size) != 0) {
            size_t l = strlen(err);
            errf(err + l, err_size - l, " (from the PORT environment variable)");
            return -1;
        }
    }
    return 0;
}

void ym_config_usage(FILE *f, const char *argv0)
{
    fprintf(f, "usage: %s [flags]\n\nyoom, a self-hosted video-chat server.\n\nflags:\n", argv0);
    for (size_t i = 0; i < YM_ARRAY_LEN(opts); i++) {
        const opt_t *o = &opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, o->kind == OPT_FLAG ? "" : " VALUE");
        if (o->def)
            fprintf(f, "  %-30s %s (default: %s)\n", left, o->help, o->def);
        else
            fprintf(f, "  %-30s %s (default: off)\n", left, o->help);
    }
}
