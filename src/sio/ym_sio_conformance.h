/* ym_sio_conformance.h: the server-side handlers the Socket.IO conformance
 * suite and yoom's own sio node tests talk to. CONFORMANCE/TEST ONLY: wired in
 * by `yoom --conformance`, never in a normal server.
 *
 * "/"        on connect emits ["auth", <CONNECT payload>];
 *            "message" → "message-back" with the same args (and attachments);
 *            "message-with-ack" → ack with the same args (and attachments).
 * "/custom"  on connect emits ["auth", <payload>]; no handlers.
 * "/test"    helpers for tests/node/sio-client.test.mjs (acks answer each):
 *            "join" [room] → [size]; "leave" [room] → [size];
 *            "broadcast" [room, event, arg] → others in room get event [arg]; ack [recipients];
 *            "broadcast-bin" [room, event] + 1 attachment → others get event [<bin>];
 *            "ask" [event, arg] → the server emits event [arg] with an ack and
 *               then emits "answer" [err or null, reply args...];
 *            "bye" [close_transport] → server-side disconnect;
 *            "echo" [...] → ack with the same args and attachments.
 * "/refuse"  refuses every CONNECT with "not allowed".
 *
 * Two servers are wired: /socket.io/ with the suite's timings (pingInterval
 * 300, pingTimeout 200 unless told otherwise, connectTimeout 1000, maxPayload
 * 1000000), and
 * /sio-test/ with the same handlers and the default timings (25 s pings), for
 * tests that run many clients on a loaded machine, where a 200 ms pong
 * deadline would drop healthy clients.
 *
 * Loop thread only. */
#ifndef YM_SIO_CONFORMANCE_H
#define YM_SIO_CONFORMANCE_H

#include "yoom/sio.h"

/* Installs the handlers above on sio. */
void ym_sio_conformance_setup(ym_sio_t *sio);

struct ym_http_server;
/* Creates both servers and registers their routes. ping_timeout_ms is the
 * pingTimeout of /socket.io/ (0 = the suite's 200). Returns 0 or -EINVAL. */
int ym_sio_conformance_wire(uv_loop_t *loop, struct ym_http_server *http, uint32_t ping_timeout_ms);
/* Starts their graceful shutdown (ym_sio_shutdown). */
void ym_sio_conformance_shutdown(void);
/* Frees them (safe if not wired). Same rules as ym_sio_free. */
void ym_sio_conformance_unwire(void);

#endif
