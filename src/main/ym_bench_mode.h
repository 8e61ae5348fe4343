/* ym_bench_mode.h: the benchmark workload (bench/README.md) served on the
 * default namespace "/", the same as every peer in bench/peers/:
 *   join(room) + ack        the socket joins room; ack() with no arguments
 *   bcast(room, payload)    the server emits msg(payload) to everyone in room,
 *                           the sender included
 *   echo(payload) + ack     ack(payload)
 * Payloads are relayed as the client sent them (JSON text, not re-encoded). */
#ifndef YM_BENCH_MODE_H
#define YM_BENCH_MODE_H

#include "yoom/sio.h"

/* Longest room name accepted by join/bcast, in bytes; longer ones are ignored
 * (join acks with an error). */
#define YM_BENCH_MAX_ROOM 128

/* Registers the handlers on sio's "/" namespace (replacing any there).
 * Loop thread; call once, before clients connect. Holds no state of its own:
 * nothing to free, sio owns the sockets and rooms. */
void ym_bench_mode_wire(ym_sio_t *sio);

#endif
