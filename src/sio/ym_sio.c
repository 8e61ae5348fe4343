/* ym_sio.c: the Socket.IO v5 server on Engine.IO: namespaces, sockets,
 * events, acks both ways, binary attachments, rooms and broadcast.
 *
 * Objects: one client per Engine.IO session (created in on_open, freed after
 * on_close), one socket per (client, namespace) while connected. Sockets are
 * reference counted so that a handler may disconnect the socket it is
 * handling: the dispatcher holds a reference around every callback.
 */
#include "sio/ym_sio_internal.h"

#include "base/ym_codec.h"
#include "base/ym_log.h"
#include "base/ym_time.h"
#include "eio/ym_eio.h"
#include "sio/ym_sio_adapter.h"
#include "sio/ym_sio_packet.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

typedef struct client client_t;

typedef struct event_handler {
    char *name;
    ym_sio_event_cb cb;
} event_handler_t;

struct ym_sio_nsp {
    ym_sio_t *sio;
    char *name;
    ym_sio_handlers_t h;
    event_handler_t *events;
    size_t nevents;
    const ym_sio_adapter_ops_t *ops;
    ym_sio_adapter_t *ad;
};

/* A reply the server waits for (ym_sio_emit_with_ack). */
typedef struct pending_ack {
    struct pending_ack *next;
    uint64_t id;
    ym_sio_reply_cb cb;
    void *ud;
    uv_timer_t timer;
    ym_sio_socket_t *s;
} pending_ack_t;

typedef enum sock_state { SOCK_CONNECTING, SOCK_CONNECTED, SOCK_CLOSED } sock_state_t;

struct ym_sio_socket {
    unsigned refs;
    sock_state_t state;
    client_t *c;
    ym_sio_nsp_t *nsp;
    ym_sio_socket_t *next;     /* in c->sockets */
    char id[21];
    uint64_t serial;           /* tells a reused pointer from the socket an ack refers to */
    uint64_t connected_at;     /* wall clock, ms */
    void *data;
    uint64_t next_ack_id;
    pending_ack_t *acks;
    /* While on_connect runs the CONNECT reply is not out yet: emits wait here. */
    ym_eio_packet_t **early;
    size_t nearly, capearly;
};

struct client {
    ym_sio_t *sio;
    ym_eio_session_t *es;
    client_t *prev, *next;     /* sio->clients; after close, next links sio->dead */
    ym_sio_socket_t *sockets;
    /* Until its first CONNECT a client is in sio's FIFO of waiting clients:
     * one timer for all of them instead of a uv_timer_t each (152 bytes of
     * every idle client's budget, DESIGN.md), which works because the
     * timeout is the same for all, so the FIFO is in deadline order. */
    client_t *wprev, *wnext;
    uint64_t connect_deadline; /* loop time (uv_now) */
    bool waiting;              /* in the FIFO */
    bool closing;              /* ym_eio_close called: ignore further input */
    bool ever_connected;
    /* Binary reassembly: the header packet's text and the attachments so far. */
    char *bin_text;
    size_t bin_text_len;
    unsigned bin_expected;
    ym_buf_t *bins;
    size_t nbins;
};

struct ym_sio {
    uv_loop_t *loop;
    ym_http_server_t *http;
    ym_eio_server_t *eio;
    ym_sio_config_t cfg;
    char *path;
    char *client_dir;
    ym_sio_static_t *st;
    ym_sio_nsp_t **nsps;
    size_t nnsps;
    client_t *clients;
    client_t *waiting_head, *waiting_tail; /* no CONNECT yet, oldest first */
    client_t *dead;            /* closed clients, freed by the reaper */
    /* Initialised with the first client (a server that never had one has no
     * handles to close); sio is freed when both have closed. */
    uv_timer_t connect_timer;  /* due at waiting_head's deadline */
    uv_check_t reaper;         /* frees dead clients after the callbacks that closed them */
    bool handles_init;
    unsigned handles_open;
    uint64_t serial;
    ym_sio_observer_t obs;     /* all NULL when nobody observes */
    uint64_t packets_in, packets_out;
};

static void waiting_remove(ym_sio_t *sio, client_t *c);

struct ym_sio_ack {
    ym_sio_nsp_t *nsp;
    char socket_id[21];
    uint64_t serial;
    uint64_t id;
};

/* ---- sockets: lifetime ---- */

static void sock_ref(ym_sio_socket_t *s) { s->refs++; }

static void sock_unref(ym_sio_socket_t *s)
{
    if (--s->refs > 0)
        return;
    for (size_t i = 0; i < s->nearly; i++)
        ym_eio_packet_unref(s->early[i]);
    free(s->early);
    free(s);
}

static void ack_timer_closed(uv_handle_t *h)
{
    pending_ack_t *pa = h->data;
    free(pa);
}

/* Removes pa from its socket's list and releases it (the timer asynchronously). */
static void pending_release(pending_ack_t *pa)
{
    ym_sio_socket_t *s = pa->s;
    for (pending_ack_t **pp = &s->acks; *pp; pp = &(*pp)->next)
        if (*pp == pa) {
            *pp = pa->next;
            break;
        }
    uv_timer_stop(&pa->timer);
    uv_close((uv_handle_t *)&pa->timer, ack_timer_closed);
}

static void socket_send_packet(ym_sio_socket_t *s, ym_eio_packet_t *p)
{
    if (s->state == SOCK_CLOSED || s->c->closing)
        return;
    if (s->state == SOCK_CONNECTING) {
        if (s->nearly == s->capearly) {
            s->capearly = s->capearly ? s->capearly * 2 : 4;
            s->early = ym_xrealloc(s->early, s->capearly * sizeof(*s->early));
        }
        s->early[s->nearly++] = ym_eio_packet_ref(p);
        return;
    }
    s->c->sio->packets_out++;
    /* -ENOBUFS: eio is closing the session as too slow; on_close follows. */
    (void)ym_eio_send_packet(s->c->es, p);
}

static void socket_send_text(ym_sio_socket_t *s, const char *p, size_t n)
{
    ym_eio_packet_t *pk = ym_eio_packet_new(p, n, false);
    socket_send_packet(s, pk);
    ym_eio_packet_unref(pk);
}

static void socket_send_bins(ym_sio_socket_t *s, const ym_sio_bin_t *bins, size_t nbins)
{
    for (size_t i = 0; i < nbins; i++) {
        ym_eio_packet_t *pk = ym_eio_packet_new(bins[i].data, bins[i].len, true);
        socket_send_packet(s, pk);
        ym_eio_packet_unref(pk);
    }
}

static void unlink_socket(client_t *c, ym_sio_socket_t *s)
{
    for (ym_sio_socket_t **pp = &c->sockets; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

static void observe_leave(const char *room, void *ud)
{
    ym_sio_socket_t *s = ud;
    const ym_sio_observer_t *obs = &s->c->sio->obs;
    obs->on_leave(s, room, obs->ud);
}

/* Ends a socket: disconnecting (still in rooms), optional DISCONNECT packet,
 * leave every room, fail pending replies, disconnect. Drops the client's
 * reference; the memory goes when the last dispatcher lets go. */
static void socket_close(ym_sio_socket_t *s, const char *reason, bool send_packet)
{
    if (s->state == SOCK_CLOSED)
        return;
    sock_ref(s);
    bool was_connected = s->state == SOCK_CONNECTED;
    ym_sio_nsp_t *nsp = s->nsp;
    if (was_connected && nsp->h.on_disconnecting)
        nsp->h.on_disconnecting(s, reason, nsp->h.ud);
    if (send_packet && was_connected) {
        ym_buf_t b = YM_BUF_INIT;
        ym_sio_encode_head(&b, YM_SIO_DISCONNECT, 0, nsp->name, false, 0);
        socket_send_text(s, b.data, b.len);
        ym_buf_free(&b);
    }
    ym_sio_t *sio = s->c->sio;
    /* Leaving every room is a leave too, as Node's adapter reports it. */
    if (was_connected && sio->obs.on_leave)
        nsp->ops->member_rooms_foreach(nsp->ad, s->id, observe_leave, s);
    s->state = SOCK_CLOSED;
    nsp->ops->detach(nsp->ad, s->id);
    unlink_socket(s->c, s);
    while (s->acks) {
        pending_ack_t *pa = s->acks;
        ym_sio_reply_cb cb = pa->cb;
        void *ud = pa->ud;
        pending_release(pa);
        cb("disconnected", NULL, ud);
    }
    if (was_connected && nsp->h.on_disconnect)
        nsp->h.on_disconnect(s, reason, nsp->h.ud);
    if (was_connected && sio->obs.on_socket_disconnect)
        sio->obs.on_socket_disconnect(s, reason, sio->obs.ud);
    /* Drop the client's reference; ours (taken above) keeps s alive until the
     * last line, so this one cannot be the last. */
    assert(s->refs >= 2);
    s->refs--;
    sock_unref(s);
}

/* ---- clients ---- */

static void client_fail(client_t *c, const char *why)
{
    if (c->closing)
        return;
    ym_log_debug("sio: closing %s: %s", ym_eio_session_id(c->es), why);
    c->closing = true;
    ym_eio_close(c->es, "parse error");
}

static void bin_reset(client_t *c)
{
    free(c->bin_text);
    c->bin_text = NULL;
    for (size_t i = 0; i < c->nbins; i++)
        ym_buf_free(&c->bins[i]);
    free(c->bins);
    c->bins = NULL;
    c->nbins = 0;
    c->bin_expected = 0;
}

static ym_sio_socket_t *client_socket(client_t *c, ym_str_t nsp)
{
    for (ym_sio_socket_t *s = c->sockets; s; s = s->next)
        if (strlen(s->nsp->name) == nsp.len && memcmp(s->nsp->name, nsp.p, nsp.len) == 0)
            return s;
    return NULL;
}

static ym_sio_nsp_t *find_nsp(ym_sio_t *sio, const char *p, size_t n)
{
    for (size_t i = 0; i < sio->nnsps; i++)
        if (strlen(sio->nsps[i]->name) == n && memcmp(sio->nsps[i]->name, p, n) == 0)
            return sio->nsps[i];
    return NULL;
}

static void on_connect_packet(client_t *c, const ym_sio_packet_t *pk)
{
    ym_sio_t *sio = c->sio;
    ym_sio_nsp_t *nsp = find_nsp(sio, pk->nsp.p, pk->nsp.len);
    ym_buf_t b = YM_BUF_INIT;
    if (!nsp) {
        ym_buf_append_str(&b, "4");
        ym_buf_append(&b, pk->nsp.p, pk->nsp.len);
        ym_buf_append_str(&b, ",{\"message\":\"Invalid namespace\"}");
        (void)ym_eio_send(c->es, b.data, b.len, false);
        ym_buf_free(&b);
        return;
    }
    ym_sio_socket_t *s = ym_xcalloc(1, sizeof(*s));
    s->refs = 1;
    s->state = SOCK_CONNECTING;
    s->c = c;
    s->nsp = nsp;
    s->serial = ++sio->serial;
    do
        ym_random_id(s->id);
    while (nsp->ops->attach(nsp->ad, s->id, s) != 0);
    s->next = c->sockets;
    c->sockets = s;
    const char *auth = pk->data.len ? pk->data.p : "{}";
    size_t auth_len = pk->data.len ? pk->data.len : 2;
    /* The handler may emit and join already; the emits wait for the reply. */
    const char *refusal = NULL;
    sock_ref(s);
    if (nsp->h.on_connect)
        refusal = nsp->h.on_connect(s, auth, auth_len, nsp->h.ud);
    if (s->state != SOCK_CONNECTING) {
        /* Disconnected from inside on_connect (or the client went away). */
        sock_unref(s);
        return;
    }
    if (refusal) {
        ym_sio_encode_head(&b, YM_SIO_CONNECT_ERROR, 0, nsp->name, false, 0);
        ym_buf_append_str(&b, "{\"message\":");
        ym_sio_json_quote(&b, refusal, strlen(refusal));
        ym_buf_append_byte(&b, '}');
        socket_close(s, "server namespace disconnect", false);
        (void)ym_eio_send(c->es, b.data, b.len, false);
        ym_buf_free(&b);
        sock_unref(s);
        return;
    }
    s->state = SOCK_CONNECTED;
    s->connected_at = ym_wall_ms();
    if (!c->ever_connected) {
        c->ever_connected = true;
        waiting_remove(c->sio, c);
    }
    ym_sio_encode_head(&b, YM_SIO_CONNECT, 0, nsp->name, false, 0);
    ym_buf_appendf(&b, "{\"sid\":\"%s\"}", s->id);
    socket_send_text(s, b.data, b.len);
    ym_buf_free(&b);
    for (size_t i = 0; i < s->nearly; i++) {
        socket_send_packet(s, s->early[i]);
        ym_eio_packet_unref(s->early[i]);
    }
    s->nearly = 0;
    if (sio->obs.on_socket_connect && s->state == SOCK_CONNECTED)
        sio->obs.on_socket_connect(s, sio->obs.ud);
    sock_unref(s);
}

static void on_event_packet(ym_sio_socket_t *s, const ym_sio_packet_t *pk, const ym_sio_bin_t *bins,
                            size_t nbins)
{
    ym_sio_nsp_t *nsp = s->nsp;
    ym_buf_t name = YM_BUF_INIT, args = YM_BUF_INIT;
    if (pk->event.p[0] == '"') {
        if (ym_sio_json_unquote(pk->event, &name) < 0) {
            ym_buf_free(&name);
            client_fail(s->c, "event name with NUL");
            return;
        }
    } else {
        ym_buf_append(&name, pk->event.p, pk->event.len);
        ym_buf_append_byte(&name, '\0');
    }
    ym_buf_append_byte(&args, '[');
    if (pk->rest.len)
        ym_buf_append(&args, pk->rest.p + 1, pk->rest.len - 1); /* drop the ',' */
    ym_buf_append_byte(&args, ']');
    ym_buf_append_byte(&args, '\0');
    ym_sio_args_t a = { .json = args.data, .json_len = args.len - 1, .bins = bins, .nbins = nbins };
    ym_sio_event_cb cb = nsp->h.on_any;
    for (size_t i = 0; i < nsp->nevents; i++)
        if (strcmp(nsp->events[i].name, name.data) == 0) {
            cb = nsp->events[i].cb;
            break;
        }
    if (cb) {
        ym_sio_ack_t *ack = NULL;
        if (pk->has_id) {
            ack = ym_xcalloc(1, sizeof(*ack));
            ack->nsp = nsp;
            memcpy(ack->socket_id, s->id, sizeof(s->id));
            ack->serial = s->serial;
            ack->id = pk->id;
        }
        cb(s, name.data, &a, ack, nsp->h.ud);
    }
    ym_buf_free(&name);
    ym_buf_free(&args);
}

static void on_ack_packet(ym_sio_socket_t *s, const ym_sio_packet_t *pk, const ym_sio_bin_t *bins, size_t nbins)
{
    for (pending_ack_t *pa = s->acks; pa; pa = pa->next) {
        if (pa->id != pk->id)
            continue;
        ym_sio_reply_cb cb = pa->cb;
        void *ud = pa->ud;
        pending_release(pa);
        char *json = ym_xstrndup(pk->data.p, pk->data.len);
        ym_sio_args_t a = { .json = json, .json_len = pk->data.len, .bins = bins, .nbins = nbins };
        cb(NULL, &a, ud);
        free(json);
        return;
    }
    /* Late (after timeout) or unknown id: ignored, as Node does. */
}

/* A complete packet (with its attachments). */
static void dispatch(client_t *c, const ym_sio_packet_t *pk, const ym_sio_bin_t *bins, size_t nbins)
{
    ym_sio_socket_t *s = client_socket(c, pk->nsp);
    if (pk->type == YM_SIO_CONNECT) {
        if (s)
            client_fail(c, "second CONNECT to a joined namespace");
        else
            on_connect_packet(c, pk);
        return;
    }
    if (!s || pk->type == YM_SIO_CONNECT_ERROR) {
        client_fail(c, "packet for a namespace not joined");
        return;
    }
    sock_ref(s);
    switch (pk->type) {
    case YM_SIO_DISCONNECT:
        socket_close(s, "client namespace disconnect", false);
        break;
    case YM_SIO_EVENT:
    case YM_SIO_BINARY_EVENT:
        on_event_packet(s, pk, bins, nbins);
        break;
    case YM_SIO_ACK:
    case YM_SIO_BINARY_ACK:
        on_ack_packet(s, pk, bins, nbins);
        break;
    default:
        break;
    }
    sock_unref(s);
}

static void dispatch_binary(client_t *c)
{
    ym_sio_packet_t pk;
    /* Decoded again from our copy: the slices must point into live memory. */
    if (ym_sio_decode(c->bin_text, c->bin_text_len, c->sio->cfg.max_attachments, &pk, NULL) < 0) {
        client_fail(c, "binary header");
        return;
    }
    ym_sio_bin_t bins[64];
    size_t n = YM_MIN(c->nbins, YM_ARRAY_LEN(bins));
    for (size_t i = 0; i < n; i++)
        bins[i] = (ym_sio_bin_t){ c->bins[i].data ? c->bins[i].data : "", c->bins[i].len };
    /* Take the reassembly state out first, so the client is ready for the
     * next packet whatever the handler does. */
    char *text = c->bin_text;
    ym_buf_t *held = c->bins;
    size_t nheld = c->nbins;
    c->bin_text = NULL;
    c->bins = NULL;
    c->nbins = 0;
    c->bin_expected = 0;
    dispatch(c, &pk, bins, n);
    free(text);
    for (size_t i = 0; i < nheld; i++)
        ym_buf_free(&held[i]);
    free(held);
}

static void eio_on_message(ym_eio_session_t *es, const char *data, size_t len, bool binary, void *ud)
{
    client_t *c = ym_eio_session_data(es);
    if (!c || c->closing)
        return;
    c->sio->packets_in++;
    if (binary) {
        if (c->bin_expected == 0) {
            client_fail(c, "unexpected binary message");
            return;
        }
        c->bins = ym_xrealloc(c->bins, (c->nbins + 1) * sizeof(*c->bins));
        c->bins[c->nbins] = YM_BUF_INIT;
        ym_buf_append(&c->bins[c->nbins], data, len);
        c->nbins++;
        if (c->nbins == c->bin_expected)
            dispatch_binary(c);
        return;
    }
    if (c->bin_expected) {
        client_fail(c, "text while waiting for attachments");
        return;
    }
    ym_sio_packet_t pk;
    const char *why = NULL;
    if (ym_sio_decode(data, len, c->sio->cfg.max_attachments, &pk, &why) < 0) {
        client_fail(c, why);
        return;
    }
    if ((pk.type == YM_SIO_BINARY_EVENT || pk.type == YM_SIO_BINARY_ACK) && pk.attachments > 0) {
        /* Check now what can be checked, so a bad packet does not wait for bytes. */
        if (!client_socket(c, pk.nsp)) {
            client_fail(c, "packet for a namespace not joined");
            return;
        }
        c->bin_text = ym_xstrndup(data, len);
        c->bin_text_len = len;
        c->bin_expected = pk.attachments;
        return;
    }
    dispatch(c, &pk, NULL, 0);
}

static void connect_timeout(uv_timer_t *t);

static void connect_timer_arm(ym_sio_t *sio)
{
    uint64_t now = uv_now(sio->loop), due = sio->waiting_head->connect_deadline;
    uv_timer_start(&sio->connect_timer, connect_timeout, due > now ? due - now : 0, 0);
}

static void waiting_remove(ym_sio_t *sio, client_t *c)
{
    if (!c->waiting)
        return;
    c->waiting = false;
    if (c->wprev)
        c->wprev->wnext = c->wnext;
    else
        sio->waiting_head = c->wnext;
    if (c->wnext)
        c->wnext->wprev = c->wprev;
    else
        sio->waiting_tail = c->wprev;
    c->wprev = c->wnext = NULL;
    /* A timer left running for nobody would keep the loop alive; one due for
     * a client that has left just fires early and re-arms. */
    if (!sio->waiting_head)
        uv_timer_stop(&sio->connect_timer);
}

static void connect_timeout(uv_timer_t *t)
{
    ym_sio_t *sio = t->data;
    uint64_t now = uv_now(sio->loop);
    while (sio->waiting_head && sio->waiting_head->connect_deadline <= now) {
        client_t *c = sio->waiting_head;
        /* Off the list before ym_eio_close, which may run eio_on_close now. */
        waiting_remove(sio, c);
        if (!c->ever_connected && !c->closing) {
            c->closing = true;
            ym_eio_close(c->es, "connect timeout");
        }
    }
    if (sio->waiting_head)
        connect_timer_arm(sio);
}

static void reap_clients(ym_sio_t *sio)
{
    while (sio->dead) {
        client_t *c = sio->dead;
        sio->dead = c->next;
        free(c);
    }
}

static void reaper_cb(uv_check_t *h)
{
    ym_sio_t *sio = h->data;
    reap_clients(sio);
    uv_check_stop(h);
}

static void eio_on_open(ym_eio_session_t *es, void *ud)
{
    ym_sio_t *sio = ud;
    client_t *c = ym_xcalloc(1, sizeof(*c));
    c->sio = sio;
    c->es = es;
    if (!sio->handles_init) {
        sio->handles_init = true;
        uv_timer_init(sio->loop, &sio->connect_timer);
        uv_check_init(sio->loop, &sio->reaper);
        sio->connect_timer.data = sio;
        sio->reaper.data = sio;
        sio->handles_open = 2;
    }
    c->connect_deadline = uv_now(sio->loop) + sio->cfg.connect_timeout_ms;
    c->waiting = true;
    c->wprev = sio->waiting_tail;
    if (sio->waiting_tail)
        sio->waiting_tail->wnext = c;
    else
        sio->waiting_head = c;
    sio->waiting_tail = c;
    if (sio->waiting_head == c)
        connect_timer_arm(sio);
    c->next = sio->clients;
    if (sio->clients)
        sio->clients->prev = c;
    sio->clients = c;
    ym_eio_session_set_data(es, c);
    if (sio->obs.on_client_open)
        sio->obs.on_client_open(sio->obs.ud);
}


static const char *sio_reason(const char *eio_reason)
{
    if (strcmp(eio_reason, "client close") == 0)
        return "transport close";
    if (strcmp(eio_reason, "forced close") == 0)
        return "forced close";
    return eio_reason;
}

static void eio_on_close(ym_eio_session_t *es, const char *reason, void *ud)
{
    ym_sio_t *sio = ud;
    client_t *c = ym_eio_session_data(es);
    if (!c)
        return;
    c->closing = true;
    const char *r = sio_reason(reason);
    while (c->sockets)
        socket_close(c->sockets, r, false);
    bin_reset(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        sio->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ym_eio_session_set_data(es, NULL);
    waiting_remove(sio, c);
    /* Freed from the loop, not here: the callback that closed the session
     * may still be using c up the stack. */
    c->next = sio->dead;
    sio->dead = c;
    uv_check_start(&sio->reaper, reaper_cb);
    if (sio->obs.on_client_close)
        sio->obs.on_client_close(r, sio->obs.ud);
}

/* ---- server ---- */

ym_sio_t *ym_sio_new(uv_loop_t *loop, struct ym_http_server *http, const ym_sio_config_t *config)
{
    ym_sio_config_t cfg = config ? *config : (ym_sio_config_t){ 0 };
    if (cfg.disable_polling && cfg.disable_websocket)
        return NULL;
    if (!cfg.path)
        cfg.path = "/socket.io/";
    if (cfg.path[0] != '/' || cfg.path[strlen(cfg.path) - 1] != '/')
        return NULL;
    if (!cfg.ping_interval_ms)
        cfg.ping_interval_ms = 25000;
    if (!cfg.ping_timeout_ms)
        cfg.ping_timeout_ms = 20000;
    if (!cfg.connect_timeout_ms)
        cfg.connect_timeout_ms = 45000;
    if (!cfg.upgrade_timeout_ms)
        cfg.upgrade_timeout_ms = 10000;
    if (!cfg.max_payload)
        cfg.max_payload = 1000000;
    if (!cfg.max_attachments)
        cfg.max_attachments = 10;
    if (cfg.max_attachments > 64)
        return NULL; /* dispatch_binary's array */
    if (!cfg.ack_timeout_ms)
        cfg.ack_timeout_ms = 10000;
    if (!cfg.max_send_backlog)
        cfg.max_send_backlog = 4u << 20;
    if (!cfg.client_dir)
        cfg.client_dir = "node_modules/socket.io-client/dist";
    ym_sio_t *sio = ym_xcalloc(1, sizeof(*sio));
    sio->loop = loop;
    sio->http = http;
    sio->path = ym_xstrdup(cfg.path);
    sio->client_dir = ym_xstrdup(cfg.client_dir);
    cfg.path = sio->path;
    cfg.client_dir = sio->client_dir;
    sio->cfg = cfg;
    sio->st = ym_sio__static_new(http, sio->path, sio->client_dir);
    ym_eio_config_t ec = {
        .path = sio->path,
        .ping_interval_ms = cfg.ping_interval_ms,
        .ping_timeout_ms = cfg.ping_timeout_ms,
        .upgrade_timeout_ms = cfg.upgrade_timeout_ms,
        .max_payload = cfg.max_payload,
        .max_send_backlog = cfg.max_send_backlog,
        .cors_origins = cfg.cors_origins,
        .disable_polling = cfg.disable_polling,
        .disable_websocket = cfg.disable_websocket,
    };
    ym_eio_handlers_t eh = { .on_open = eio_on_open, .on_message = eio_on_message, .on_close = eio_on_close, .ud = sio };
    sio->eio = ym_eio_server_new(loop, http, &ec, &eh);
    if (!sio->eio) {
        ym_sio__static_free(sio->st);
        free(sio->path);
        free(sio->client_dir);
        free(sio);
        return NULL;
    }
    ym_sio_of(sio, "/");
    return sio;
}

void ym_sio_shutdown(ym_sio_t *sio)
{
    if (sio)
        ym_eio_server_shutdown(sio->eio);
}

static void sio_handle_closed(uv_handle_t *h)
{
    ym_sio_t *sio = h->data;
    if (--sio->handles_open == 0)
        free(sio);
}

void ym_sio_free(ym_sio_t *sio)
{
    if (!sio)
        return;
    /* eio calls on_close for every session from here, synchronously. */
    ym_eio_server_free(sio->eio);
    for (size_t i = 0; i < sio->nnsps; i++) {
        ym_sio_nsp_t *nsp = sio->nsps[i];
        nsp->ops->destroy(nsp->ad);
        for (size_t k = 0; k < nsp->nevents; k++)
            free(nsp->events[k].name);
        free(nsp->events);
        free(nsp->name);
        free(nsp);
    }
    free(sio->nsps);
    ym_sio__static_free(sio->st);
    free(sio->path);
    free(sio->client_dir);
    /* Every session closed above; nothing up the stack uses their clients. */
    reap_clients(sio);
    if (sio->handles_init) {
        uv_close((uv_handle_t *)&sio->connect_timer, sio_handle_closed);
        uv_close((uv_handle_t *)&sio->reaper, sio_handle_closed);
    } else {
        free(sio);
    }
}

ym_sio_nsp_t *ym_sio_find_nsp(ym_sio_t *sio, const char *name)
{
    return find_nsp(sio, name, strlen(name));
}

ym_sio_nsp_t *ym_sio_of(ym_sio_t *sio, const char *name)
{
    ym_sio_nsp_t *nsp = ym_sio_find_nsp(sio, name);
    if (nsp)
        return nsp;
    nsp = ym_xcalloc(1, sizeof(*nsp));
    nsp->sio = sio;
    nsp->name = ym_xstrdup(name);
    nsp->ops = &ym_sio_memory_adapter;
    nsp->ad = nsp->ops->create();
    sio->nsps = ym_xrealloc(sio->nsps, (sio->nnsps + 1) * sizeof(*sio->nsps));
    sio->nsps[sio->nnsps++] = nsp;
    return nsp;
}

const char *ym_sio_nsp_name(const ym_sio_nsp_t *nsp) { return nsp->name; }

void ym_sio_nsp_set_handlers(ym_sio_nsp_t *nsp, const ym_sio_handlers_t *h)
{
    nsp->h = *h;
}

void ym_sio_on(ym_sio_nsp_t *nsp, const char *event, ym_sio_event_cb cb)
{
    for (size_t i = 0; i < nsp->nevents; i++)
        if (strcmp(nsp->events[i].name, event) == 0) {
            nsp->events[i].cb = cb;
            return;
        }
    nsp->events = ym_xrealloc(nsp->events, (nsp->nevents + 1) * sizeof(*nsp->events));
    nsp->events[nsp->nevents++] = (event_handler_t){ ym_xstrdup(event), cb };
}

/* ---- socket accessors ---- */

const char *ym_sio_socket_id(const ym_sio_socket_t *s) { return s->id; }
ym_sio_nsp_t *ym_sio_socket_nsp(const ym_sio_socket_t *s) { return s->nsp; }

ym_sio_socket_t *ym_sio_find_socket(ym_sio_nsp_t *nsp, const char *id)
{
    ym_sio_socket_t *s = nsp->ops->find(nsp->ad, id);
    return s && s->state != SOCK_CLOSED ? s : NULL;
}

const char *ym_sio_socket_transport(const ym_sio_socket_t *s) { return ym_eio_session_transport(s->c->es); }
const char *ym_sio_socket_peer(const ym_sio_socket_t *s) { return ym_eio_session_peer(s->c->es); }
void ym_sio_socket_set_data(ym_sio_socket_t *s, void *data) { s->data = data; }
void *ym_sio_socket_data(const ym_sio_socket_t *s) { return s->data; }

void ym_sio_disconnect(ym_sio_socket_t *s, bool close_transport)
{
    client_t *c = s->c;
    socket_close(s, "server namespace disconnect", true);
    if (close_transport && !c->closing) {
        c->closing = true;
        ym_eio_close(c->es, "forced close");
    }
}

/* ---- emitting ---- */

/* args must be a JSON array whose placeholders index the given attachments. */
static bool args_ok(const char *args_json, size_t nbins)
{
    if (!args_json)
        return true;
    size_t len = strlen(args_json);
    long n = ym_sio_json_scan(args_json, len, nbins ? (long)nbins : -1, NULL);
    ym_str_t inner;
    return n >= 0 && (size_t)n == len && ym_sio_json_array_inner(args_json, len, &inner) == 0;
}

static int emit_common(ym_sio_socket_t *s, const char *event, const char *args_json, const ym_sio_bin_t *bins,
                       size_t nbins, bool has_id, uint64_t id)
{
    if (s->state == SOCK_CLOSED)
        return -EPIPE;
    if (!args_ok(args_json, nbins))
        return -EINVAL;
    ym_buf_t b = YM_BUF_INIT;
    if (ym_sio_encode_event(&b, s->nsp->name, event, strlen(event), args_json, args_json ? strlen(args_json) : 0,
                            (unsigned)nbins, has_id, id) < 0) {
        ym_buf_free(&b);
        return -EINVAL;
    }
    socket_send_text(s, b.data, b.len);
    socket_send_bins(s, bins, nbins);
    ym_buf_free(&b);
    return 0;
}

int ym_sio_emit(ym_sio_socket_t *s, const char *event, const char *args_json)
{
    return emit_common(s, event, args_json, NULL, 0, false, 0);
}

int ym_sio_emit_bin(ym_sio_socket_t *s, const char *event, const char *args_json, const ym_sio_bin_t *bins,
                    size_t nbins)
{
    return emit_common(s, event, args_json, bins, nbins, false, 0);
}

static void ack_timeout(uv_timer_t *t)
{
    pending_ack_t *pa = t->data;
    ym_sio_reply_cb cb = pa->cb;
    void *ud = pa->ud;
    pending_release(pa);
    cb("timeout", NULL, ud);
}

int ym_sio_emit_with_ack(ym_sio_socket_t *s, const char *event, const char *args_json, uint32_t timeout_ms,
                         ym_sio_reply_cb cb, void *ud)
{
    uint64_t id = s->next_ack_id;
    int rc = emit_common(s, event, args_json, NULL, 0, true, id);
    if (rc < 0)
        return rc;
    s->next_ack_id++;
    pending_ack_t *pa = ym_xcalloc(1, sizeof(*pa));
    pa->id = id;
    pa->cb = cb;
    pa->ud = ud;
    pa->s = s;
    uv_timer_init(s->nsp->sio->loop, &pa->timer);
    pa->timer.data = pa;
    uv_timer_start(&pa->timer, ack_timeout, timeout_ms ? timeout_ms : s->nsp->sio->cfg.ack_timeout_ms, 0);
    pa->next = s->acks;
    s->acks = pa;
    return 0;
}

/* ---- client acks ---- */

static ym_sio_socket_t *ack_socket(const ym_sio_ack_t *ack)
{
    ym_sio_socket_t *s = ym_sio_find_socket(ack->nsp, ack->socket_id);
    return s && s->serial == ack->serial ? s : NULL;
}

int ym_sio_ack_send_bin(ym_sio_ack_t *ack, const char *args_json, const ym_sio_bin_t *bins, size_t nbins)
{
    ym_sio_socket_t *s = ack_socket(ack);
    int rc = 0;
    if (!args_json)
        args_json = "[]";
    if (!s) {
        rc = -EPIPE;
    } else if (!args_ok(args_json, nbins)) {
        rc = -EINVAL;
    } else {
        ym_buf_t b = YM_BUF_INIT;
        ym_sio_encode_head(&b, nbins ? YM_SIO_BINARY_ACK : YM_SIO_ACK, (unsigned)nbins, s->nsp->name, true,
                           ack->id);
        ym_buf_append_str(&b, args_json);
        socket_send_text(s, b.data, b.len);
        socket_send_bins(s, bins, nbins);
        ym_buf_free(&b);
    }
    free(ack);
    return rc;
}

int ym_sio_ack_send(ym_sio_ack_t *ack, const char *args_json)
{
    return ym_sio_ack_send_bin(ack, args_json, NULL, 0);
}

void ym_sio_ack_free(ym_sio_ack_t *ack) { free(ack); }
const char *ym_sio_ack_socket_id(const ym_sio_ack_t *ack) { return ack->socket_id; }

/* ---- rooms ---- */

int ym_sio_join(ym_sio_socket_t *s, const char *room)
{
    if (s->state == SOCK_CLOSED)
        return -EPIPE;
    const ym_sio_observer_t *obs = &s->nsp->sio->obs;
    /* The observer hears only of changes, so look first (only when observed). */
    bool tell = obs->on_join && !s->nsp->ops->in_room(s->nsp->ad, s->id, room);
    int rc = s->nsp->ops->join(s->nsp->ad, s->id, room);
    if (rc == 0 && tell)
        obs->on_join(s, room, obs->ud);
    return rc;
}

int ym_sio_leave(ym_sio_socket_t *s, const char *room)
{
    if (s->state == SOCK_CLOSED)
        return -EPIPE;
    const ym_sio_observer_t *obs = &s->nsp->sio->obs;
    bool tell = obs->on_leave && s->nsp->ops->in_room(s->nsp->ad, s->id, room);
    int rc = s->nsp->ops->leave(s->nsp->ad, s->id, room);
    if (rc == 0 && tell)
        obs->on_leave(s, room, obs->ud);
    return rc;
}

bool ym_sio_in_room(const ym_sio_socket_t *s, const char *room)
{
    return s->state != SOCK_CLOSED && s->nsp->ops->in_room(s->nsp->ad, s->id, room);
}

size_t ym_sio_room_size(ym_sio_nsp_t *nsp, const char *room) { return nsp->ops->room_size(nsp->ad, room); }

void ym_sio_rooms_foreach(ym_sio_nsp_t *nsp, void (*fn)(const char *room, size_t size, void *ud), void *ud)
{
    nsp->ops->rooms_foreach(nsp->ad, fn, ud);
}

void ym_sio_socket_rooms_foreach(const ym_sio_socket_t *s, void (*fn)(const char *room, void *ud), void *ud)
{
    if (s->state != SOCK_CLOSED)
        s->nsp->ops->member_rooms_foreach(s->nsp->ad, s->id, fn, ud);
}

typedef struct room_iter {
    void (*fn)(ym_sio_socket_t *s, void *ud);
    void *ud;
} room_iter_t;

static void room_iter_one(void *member, void *ud)
{
    room_iter_t *it = ud;
    it->fn(member, it->ud);
}

void ym_sio_room_foreach(ym_sio_nsp_t *nsp, const char *room, void (*fn)(ym_sio_socket_t *s, void *ud), void *ud)
{
    room_iter_t it = { fn, ud };
    const char *to[1] = { room };
    nsp->ops->broadcast(nsp->ad, to, room ? 1 : 0, NULL, 0, room_iter_one, &it);
}

/* ---- broadcast ---- */

typedef struct bcast_send {
    ym_eio_packet_t *text;
    ym_eio_packet_t **bins;
    size_t nbins;
} bcast_send_t;

static void bcast_one(void *member, void *ud)
{
    ym_sio_socket_t *s = member;
    bcast_send_t *bs = ud;
    socket_send_packet(s, bs->text);
    for (size_t i = 0; i < bs->nbins; i++)
        socket_send_packet(s, bs->bins[i]);
}

size_t ym_sio_bcast_emit_bin(const ym_sio_bcast_t *b, const char *event, const char *args_json,
                             const ym_sio_bin_t *bins, size_t nbins)
{
    ym_sio_nsp_t *nsp = b->nsp;
    if (!args_ok(args_json, nbins))
        return 0;
    ym_buf_t t = YM_BUF_INIT;
    if (ym_sio_encode_event(&t, nsp->name, event, strlen(event), args_json, args_json ? strlen(args_json) : 0,
                            (unsigned)nbins, false, 0) < 0) {
        ym_buf_free(&t);
        return 0;
    }
    /* Encoded once; every recipient's queue references the same packets. */
    bcast_send_t bs = { .text = ym_eio_packet_new(t.data, t.len, false), .nbins = nbins };
    ym_buf_free(&t);
    bs.bins = nbins ? ym_xcalloc(nbins, sizeof(*bs.bins)) : NULL;
    for (size_t i = 0; i < nbins; i++)
        bs.bins[i] = ym_eio_packet_new(bins[i].data, bins[i].len, true);
    size_t n = nsp->ops->broadcast(nsp->ad, b->to, b->nto, b->except, b->nexcept, bcast_one, &bs);
    ym_eio_packet_unref(bs.text);
    for (size_t i = 0; i < nbins; i++)
        ym_eio_packet_unref(bs.bins[i]);
    free(bs.bins);
    return n;
}

size_t ym_sio_bcast_emit(const ym_sio_bcast_t *b, const char *event, const char *args_json)
{
    return ym_sio_bcast_emit_bin(b, event, args_json, NULL, 0);
}

size_t ym_sio_client_count(const ym_sio_t *sio) { return ym_eio_session_count(sio->eio); }

/* ---- observation ---- */

void ym_sio_get_stats(const ym_sio_t *sio, ym_sio_stats_t *out)
{
    *out = (ym_sio_stats_t){ .packets_in = sio->packets_in, .packets_out = sio->packets_out };
    out->clients = ym_eio_session_count(sio->eio);
    /* A walk: called every few seconds by an admin view, not per packet. */
    for (const client_t *c = sio->clients; c; c = c->next)
        if (strcmp(ym_eio_session_transport(c->es), "polling") == 0)
            out->polling_clients++;
}

void ym_sio_nsps_foreach(ym_sio_t *sio, void (*fn)(ym_sio_nsp_t *nsp, void *ud), void *ud)
{
    for (size_t i = 0; i < sio->nnsps; i++)
        fn(sio->nsps[i], ud);
}

const char *ym_sio_socket_client_id(const ym_sio_socket_t *s) { return ym_eio_session_id(s->c->es); }
uint64_t ym_sio_socket_connected_at(const ym_sio_socket_t *s) { return s->connected_at; }

void ym_sio_set_observer(ym_sio_t *sio, const ym_sio_observer_t *obs)
{
    sio->obs = obs ? *obs : (ym_sio_observer_t){ 0 };
}
