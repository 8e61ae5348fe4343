/* ym_sio_internal.h: shared between the files of src/sio (not exported). */
#ifndef YM_SIO_INTERNAL_H
#define YM_SIO_INTERNAL_H

#include "yoom/sio.h"

#include "http/ym_http.h"

/* Registers the routes that serve the official browser client bundle
 * (socket.io.js, .min.js, .esm.min.js and their maps) under prefix (the
 * Socket.IO path, e.g. "/socket.io/") from client_dir. Must run before the
 * Engine.IO route is registered (routes match by prefix in order). The files
 * are read on first request and kept in memory. The returned state is freed
 * with ym_sio__static_free(). Loop thread only. */
typedef struct ym_sio_static ym_sio_static_t;
ym_sio_static_t *ym_sio__static_new(ym_http_server_t *http, const char *prefix, const char *client_dir);
void ym_sio__static_free(ym_sio_static_t *st);

#endif
