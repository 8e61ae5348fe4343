/* ym_conformance.h: `yoom --conformance`, the endpoints the public protocol
 * suites run against (socketio-protocol-notes.md §2 and §3):
 *   /engine.io/  Engine.IO v4 echo (pingInterval 300, pingTimeout 200 unless
 *                told otherwise, maxPayload 1000000): every message comes back,
 *                text as text, binary as binary;
 *   /ws-echo     WebSocket echo (ym_ws_echo_handler);
 *   /socket.io/  Socket.IO namespaces "/" and "/custom" (wired by the sio layer).
 *
 * Threading: loop thread, before the loop runs (wire) and during shutdown
 * (unwire). One conformance setup per process.
 */
#ifndef YM_CONFORMANCE_H
#define YM_CONFORMANCE_H

#include "http/ym_http.h"

/* Registers the routes on http. ping_timeout_ms is the pingTimeout of
 * /engine.io/ and /socket.io/: the suites' 200, or more for yoom's own suites,
 * whose clients on a loaded machine can take longer than 200 ms to answer a
 * ping (every behaviour is the same, only the deadline moves). 0 means 200.
 * Returns 0, or -EINVAL if a server could not be created (logged). */
int ym_conformance_wire(uv_loop_t *loop, ym_http_server_t *http, uint32_t ping_timeout_ms);
/* Start of a graceful shutdown (before ym_http_server_shutdown): closes every
 * session so that held long-polls are answered at once. */
void ym_conformance_shutdown(void);
/* Closes every session and frees the servers. Call after the HTTP server has
 * stopped dispatching requests (ym_http_server_shutdown done) and before
 * ym_http_server_free; the loop must run once more to release handles.
 * Safe to call when nothing was wired. */
void ym_conformance_unwire(void);

#endif
