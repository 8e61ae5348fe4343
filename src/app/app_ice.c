/* app_ice.c: GET /api/ice-servers, the RTCPeerConnection iceServers list the
 * browser fetches before a call (docs/PROTOCOL.md, "Calls (signalling)").
 *
 * It is an HTTP endpoint rather than part of a Socket.IO ack because the own
 * STUN URL is built from the Host the browser used to reach yoom, which only
 * the HTTP request carries. */
#include "app/app_internal.h"

#include "base/ym_buf.h"
#include "base/ym_log.h"
#include "base/ym_time.h"

#define ICE_PATH "/api/ice-servers"

static ym_http_result_t on_ice_servers(ym_http_req_t *req, void *ud)
{
    ym_app_t *app = ud;
    if (!ym_str_eq_lit(req->path, ICE_PATH))
        return YM_HTTP_NEXT;
    if (!ym_app__get_or_head(req))
        return YM_HTTP_DONE;
    ym_str_t authority = ym_http_header(req, "Host");
    ym_str_t host = { "", 0 };
    if (authority.p && ym_ice_host_from_authority(authority, &host) != 0)
        host = (ym_str_t){ "", 0 };
    ym_buf_t out = YM_BUF_INIT;
    int rc = ym_ice_servers_json(&app->cfg.ice, host.p, host.len, (int64_t)(ym_wall_ms() / 1000), &out);
    if (rc != 0) {
        ym_buf_free(&out);
        /* The configured strings were checked at startup, so this is the Host. */
        ym_http_respond_error(req, 400, "unusable Host header for the STUN server address");
        return YM_HTTP_DONE;
    }
    /* TURN REST credentials expire: never cache them. */
    ym_http_respond(req, 200, "application/json", out.data, out.len,
                    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n");
    ym_buf_free(&out);
    return YM_HTTP_DONE;
}

void ym_app__ice_install(ym_app_t *app)
{
    /* main refuses bad TURN settings at startup (ym_app_ice_check); an
     * embedder that did not check learns it here rather than per call. */
    if (ym_app_ice_check(&app->cfg.ice) != 0)
        ym_log_warn("app: the TURN settings are not usable: /api/ice-servers will answer 400");
    if (app->http)
        ym_http_route(app->http, ICE_PATH, 0, on_ice_servers, app);
}

int ym_app_ice_check(const ym_ice_config_t *ice)
{
    ym_buf_t probe = YM_BUF_INIT;
    int rc = ym_ice_servers_json(ice, "127.0.0.1", 9, 0, &probe);
    ym_buf_free(&probe);
    return rc;
}
