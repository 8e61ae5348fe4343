/* ym_sio_adapter.h: who is in which room, per namespace.
 *
 * The adapter is an interface (a const vtable) so another backend (e.g. one
 * shared between processes) can replace the in-memory one without touching
 * the server. A member is an opaque pointer (the server's socket) registered
 * under its id; every member is in the room named by its id from attach to
 * detach. Rooms exist while they have members.
 *
 * Threading: loop thread only. Ownership: the adapter copies ids and room
 * names; member pointers are borrowed (the server detaches a socket before
 * freeing it). Callbacks must not change membership (collect first).
 */
#ifndef YM_SIO_ADAPTER_H
#define YM_SIO_ADAPTER_H

#include "base/ym_base.h"

typedef struct ym_sio_adapter ym_sio_adapter_t;

typedef void (*ym_sio_member_cb)(void *member, void *ud);
typedef void (*ym_sio_room_cb)(const char *room, size_t size, void *ud);

typedef struct ym_sio_adapter_ops {
    ym_sio_adapter_t *(*create)(void);
    void (*destroy)(ym_sio_adapter_t *a);          /* members are not touched */
    /* Registers member under id and joins it to the room id. -EEXIST if taken. */
    int (*attach)(ym_sio_adapter_t *a, const char *id, void *member);
    /* Leaves every room and forgets the id. No-op if unknown. */
    void (*detach)(ym_sio_adapter_t *a, const char *id);
    void *(*find)(ym_sio_adapter_t *a, const char *id);
    /* 0 (also if already in), or -ENOENT if id is not attached. */
    int (*join)(ym_sio_adapter_t *a, const char *id, const char *room);
    /* 0 (also if not in), -ENOENT if id is not attached. */
    int (*leave)(ym_sio_adapter_t *a, const char *id, const char *room);
    bool (*in_room)(ym_sio_adapter_t *a, const char *id, const char *room);
    size_t (*room_size)(ym_sio_adapter_t *a, const char *room);
    size_t (*member_count)(ym_sio_adapter_t *a);
    /* Calls fn once for each member that is in any of to[] (all members when
     * nto == 0) and in none of except[]. Returns the number of calls. The
     * recipients are collected before the first call. */
    size_t (*broadcast)(ym_sio_adapter_t *a, const char *const *to, size_t nto,
                        const char *const *except, size_t nexcept, ym_sio_member_cb fn, void *ud);
    void (*rooms_foreach)(ym_sio_adapter_t *a, ym_sio_room_cb fn, void *ud);
    void (*member_rooms_foreach)(ym_sio_adapter_t *a, const char *id,
                                 void (*fn)(const char *room, void *ud), void *ud);
} ym_sio_adapter_ops_t;

/* Hash maps in memory: rooms created on first join, deleted when empty. */
extern const ym_sio_adapter_ops_t ym_sio_memory_adapter;

#endif
