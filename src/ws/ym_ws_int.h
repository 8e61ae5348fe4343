/* ym_ws_int.h: shared between the files of the ws module only. */
#ifndef YM_WS_INT_H
#define YM_WS_INT_H

#include "ws/ym_ws.h"

struct ym_ws {
    const ym_ws_transport_t *t;
    void *tp;
    ym_conn_t *conn;            /* NULL unless created by ym_ws_accept */
    ym_ws_handlers_t h;
    void *ud;
    uint64_t close_timeout_ms;
    int close_code;             /* reported to on_close */
    unsigned busy;              /* depth of our own frames on the stack: no free while > 0 */
    bool close_sent;            /* our close frame is queued: ignore data, wait for theirs */
    bool close_rcvd;
    bool closing;               /* transport close requested: ignore all input */
    bool gone;                  /* transport closed */
    bool on_close_done;
    ym_ws_decoder_t dec;
};

/* Bracket a piece of work that may end with the transport closing: leave
 * runs on_close and frees ws if it went away meanwhile, and then returns true. */
static inline void ym_ws__enter(ym_ws_t *ws) { ws->busy++; }
bool ym_ws__leave(ym_ws_t *ws);

#endif
