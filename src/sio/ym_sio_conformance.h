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
 * Loop thread only. */
#ifndef YM_SIO_CONFORMANCE_H
#define YM_SIO_CONFORMANCE_H

#include "yoom/sio.h"

void ym_sio_conformance_setup(ym_sio_t *sio);

#endif
