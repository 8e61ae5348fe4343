/* app_admin.h: the /admin namespace, speaking the protocol of the
 * @socket.io/admin-ui dashboard (https://admin.socket.io) and of yoom's own
 * page at /admin/ (docs/PROTOCOL.md, "Admin"; the wire contract is
 * ../shared/docs/socketio-protocol-notes.md §8).
 *
 * What it does: authenticates admins (optional password, session ids),
 * sends config + all_sockets on connect, server_stats every stats interval,
 * socket_connected / socket_disconnected / room_joined / room_left as they
 * happen (through the sio observer), and runs the commands emit, join, leave
 * and _disconnect unless read-only.
 *
 * Threading: loop thread only; everything runs on the loop.
 * Ownership: borrows loop and sio (which must outlive it); installs itself as
 * sio's observer (one per server) and owns the /admin handlers.
 */
#ifndef YM_APP_ADMIN_H
#define YM_APP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "yoom/sio.h"

#define YM_APP_ADMIN_MAX_PASSWORD 1024   /* longer passwords are refused before hashing */
#define YM_APP_ADMIN_MAX_SESSIONS 32     /* remembered session ids; the oldest goes first */
#define YM_APP_ADMIN_DEFAULT_STATS_MS 2000

typedef struct ym_app_admin_config {
    /* NULL or "": no authentication (every connection is an admin). Else the
     * dashboard must send {username:"admin", password}. Only a salted hash is
     * kept; the string is not referenced after ym_app_admin_new returns. */
    const char *password;
    bool readonly;               /* no commands (empty feature list) */
    uint32_t stats_interval_ms;  /* 0 = YM_APP_ADMIN_DEFAULT_STATS_MS */
    /* The app's namespace: its sockets' data is the app's ym_app_sock_t, whose
     * nickname the dashboard shows. May be NULL. */
    ym_sio_nsp_t *app_nsp;
} ym_app_admin_config_t;

typedef struct ym_app_admin ym_app_admin_t;

/* Creates /admin on sio, its handlers, the observer and the stats timer.
 * Never NULL (allocation failure aborts). */
ym_app_admin_t *ym_app_admin_new(uv_loop_t *loop, ym_sio_t *sio, const ym_app_admin_config_t *cfg);
/* Removes the observer and the /admin handlers (admin sockets still connected
 * no longer reach it) and frees it; the timer's memory goes on the next loop
 * pass. Call before ym_sio_free(). NULL is ignored. */
void ym_app_admin_free(ym_app_admin_t *adm);

#endif
