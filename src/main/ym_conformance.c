/* ym_conformance.c: the --conformance endpoints (see ym_conformance.h). */
#include "main/ym_conformance.h"

#include "base/ym_log.h"
#include "eio/ym_eio.h"
#include "sio/ym_sio_conformance.h"
#include "ws/ym_ws.h"

#include <errno.h>

static ym_eio_server_t *g_eio;

/* The Engine.IO suite's echo: a message goes back on the same session as it came. */
static void eio_echo(ym_eio_session_t *s, const char *data, size_t len, bool binary, void *ud)
{
    (void)ud;
    ym_eio_send(s, data, len, binary);
}

int ym_conformance_wire(uv_loop_t *loop, ym_http_server_t *http, uint32_t ping_timeout_ms)
{
    static const ym_eio_handlers_t echo = { .on_message = eio_echo };
    if (ping_timeout_ms == 0)
        ping_timeout_ms = 200;
    const ym_eio_config_t cfg = {
        .path = "/engine.io/",
        .ping_interval_ms = 300,
        .ping_timeout_ms = ping_timeout_ms,
        .max_payload = 1000000,
    };
    g_eio = ym_eio_server_new(loop, http, &cfg, &echo);
    if (!g_eio) {
        ym_log_error("conformance: cannot create the Engine.IO echo server");
        return -EINVAL;
    }
    ym_http_route(http, "/ws-echo", 0, ym_ws_echo_handler, NULL);

    /* ---- Socket.IO (owned by the sio layer) --------------------------------
     * Wire /socket.io/ here with namespaces "/" and "/custom" and the
     * behaviours of socketio-protocol-notes.md §3 (pingInterval 300,
     * pingTimeout 200, connectTimeout 1000, recovery off), and release it in
     * ym_conformance_unwire() below.
     * ------------------------------------------------------------------------ */
    /* /socket.io/ for the suite, /sio-test/ for yoom's own sio tests. */
    if (ym_sio_conformance_wire(loop, http, ping_timeout_ms) != 0) {
        ym_log_error("conformance: cannot create the Socket.IO servers");
        return -EINVAL;
    }

    return 0;
}

void ym_conformance_shutdown(void)
{
    /* ---- Socket.IO shutdown goes here (before the Engine.IO servers). ---- */
    ym_sio_conformance_shutdown();
    ym_eio_server_shutdown(g_eio);
}

void ym_conformance_unwire(void)
{
    /* ---- Socket.IO teardown goes here (before the Engine.IO servers). ---- */
    ym_sio_conformance_unwire();
    ym_eio_server_free(g_eio);
    g_eio = NULL;
}
