/* yoom_bench_server.c: yoom's HTTP + Engine.IO + Socket.IO layers serving the
 * benchmark workload (src/main/ym_bench_mode.c), for use until `yoom --bench`
 * exists; bench/run.sh prefers the real binary when it has that flag.
 * Usage: yoom_bench_server PORT | --port PORT   (127.0.0.1; prints "listening on ..." on
 * stderr like yoom; SIGTERM/SIGINT exit at once: a benchmark peer needs no
 * graceful shutdown). */
#include "http/ym_http.h"
#include "main/ym_bench_mode.h"
#include "yoom/sio.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static void on_signal(uv_signal_t *h, int signum)
{
    _exit(0);
}

int main(int argc, char **argv)
{
    /* "PORT", or yoom's own "--port N" (other yoom flags are ignored), so
     * the node test launcher can start this in place of `yoom --bench`. */
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (argv[i][0] != '-' && (i == 1 || argv[i - 1][0] != '-'))
            port = atoi(argv[i]);
    }
    uv_loop_t *loop = uv_default_loop();
    ym_http_config_t hc = { .quiet = true };
    ym_net_config_t nc = { .max_connections = 1000000 };
    ym_http_server_t *http = NULL;
    int rc = ym_http_server_new(loop, "127.0.0.1", port, &hc, &nc, &http);
    if (rc != 0) {
        fprintf(stderr, "listen: %s\n", uv_strerror(rc));
        return 1;
    }
    ym_sio_config_t sc = { 0 };
    ym_sio_t *sio = ym_sio_new(loop, http, &sc);
    if (!sio)
        return 1;
    ym_bench_mode_wire(sio);
    uv_signal_t s1, s2;
    uv_signal_init(loop, &s1);
    uv_signal_init(loop, &s2);
    uv_signal_start(&s1, on_signal, SIGTERM);
    uv_signal_start(&s2, on_signal, SIGINT);
    fprintf(stderr, "listening on http://127.0.0.1:%d/\n", ym_http_server_port(http));
    return uv_run(loop, UV_RUN_DEFAULT);
}
