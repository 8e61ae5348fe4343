/* ym_sio_adapter.c: the in-memory adapter. Two chained hash maps (rooms by
 * name, members by id); each membership is stored on both sides so leaving a
 * room and dropping a member are O(rooms of the member).
 *
 * Memory is counted per idle client (DESIGN.md: under 2 KiB across all
 * layers), and every client is a member with its own-id room, so the common
 * shapes take one allocation each: the hash node is embedded in the member
 * and the room, the id/name is stored inline after them, and a membership list
 * of one entry (a fresh member's own room, a room holding one socket) lives in
 * the struct instead of a separate array. */
#include "sio/ym_sio_adapter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* A hash chain link embedded in its member or room; key points at the
 * container's own inline id or name. */
typedef struct node {
    struct node *next;
    uint64_t hash;
    const char *key;
} node_t;

typedef struct map {
    node_t **b;
    size_t nb;
    size_t n;
} map_t;

/* A list of pointers; up to one entry it is stored inline (cap <= 1), larger
 * lists in a heap array (cap > 1) that is kept when they shrink again. */
typedef struct pvec {
    union {
        void *one;
        void **many;
    } u;
    uint32_t n, cap;
} pvec_t;

typedef struct room room_t;
typedef struct member {
    node_t node;      /* in a->members */
    void *ptr;
    pvec_t rooms;     /* room_t * */
    uint64_t mark;    /* last broadcast epoch that saw this member */
    char id[];
} member_t;

struct room {
    node_t node;      /* in a->rooms */
    pvec_t members;   /* member_t * */
    char name[];
};

struct ym_sio_adapter {
    map_t rooms;
    map_t members;
    uint64_t epoch;
};

#define MEMBER_OF(nd) ((member_t *)(void *)((char *)(nd) - offsetof(member_t, node)))
#define ROOM_OF(nd) ((room_t *)(void *)((char *)(nd) - offsetof(room_t, node)))

static void **pv_items(pvec_t *p) { return p->cap <= 1 ? &p->u.one : p->u.many; }

static void pv_push(pvec_t *p, void *x)
{
    if (p->cap == 0)
        p->cap = 1;
    if (p->n == p->cap) {
        uint32_t ncap = p->cap < 4 ? 4 : p->cap * 2;
        void **nv = ym_xmalloc(ncap * sizeof(*nv));
        memcpy(nv, pv_items(p), p->n * sizeof(*nv));
        if (p->cap > 1)
            free(p->u.many);
        p->u.many = nv;
        p->cap = ncap;
    }
    pv_items(p)[p->n++] = x;
}

/* Order does not matter: swap-remove. false if x is not in the list. */
static bool pv_remove(pvec_t *p, const void *x)
{
    void **it = pv_items(p);
    for (uint32_t i = 0; i < p->n; i++)
        if (it[i] == x) {
            it[i] = it[--p->n];
            return true;
        }
    return false;
}

static void pv_free(pvec_t *p)
{
    if (p->cap > 1)
        free(p->u.many);
    *p = (pvec_t){ 0 };
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static node_t **map_slot(map_t *m, const char *key, uint64_t h)
{
    if (m->nb == 0)
        return NULL;
    node_t **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
            return pp;
    return pp;
}

static node_t *map_get(map_t *m, const char *key)
{
    node_t **pp = map_slot(m, key, hash_str(key));
    return pp ? *pp : NULL;
}

static member_t *get_member(ym_sio_adapter_t *a, const char *id)
{
    node_t *n = map_get(&a->members, id);
    return n ? MEMBER_OF(n) : NULL;
}

static room_t *get_room(ym_sio_adapter_t *a, const char *name)
{
    node_t *n = map_get(&a->rooms, name);
    return n ? ROOM_OF(n) : NULL;
}

static void map_grow(map_t *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    node_t **b = ym_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < m->nb; i++) {
        node_t *n = m->b[i];
        while (n) {
            node_t *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

/* n->key is set and absent from the map (the caller checked). */
static void map_put(map_t *m, node_t *n)
{
    if (m->n >= m->nb)
        map_grow(m);
    n->hash = hash_str(n->key);
    n->next = m->b[n->hash & (m->nb - 1)];
    m->b[n->hash & (m->nb - 1)] = n;
    m->n++;
}

/* Unlinks n (which is in m); its container is the caller's to free. */
static void map_del(map_t *m, node_t *n)
{
    node_t **pp = &m->b[n->hash & (m->nb - 1)];
    while (*pp != n)
        pp = &(*pp)->next;
    *pp = n->next;
    m->n--;
}

static ym_sio_adapter_t *mem_create(void)
{
    return ym_xcalloc(1, sizeof(ym_sio_adapter_t));
}

static void room_free(room_t *r)
{
    pv_free(&r->members);
    free(r);
}

static void member_free(member_t *m)
{
    pv_free(&m->rooms);
    free(m);
}

static void mem_destroy(ym_sio_adapter_t *a)
{
    for (size_t i = 0; i < a->rooms.nb; i++)
        for (node_t *n = a->rooms.b[i], *next; n; n = next) {
            next = n->next;
            room_free(ROOM_OF(n));
        }
    for (size_t i = 0; i < a->members.nb; i++)
        for (node_t *n = a->members.b[i], *next; n; n = next) {
            next = n->next;
            member_free(MEMBER_OF(n));
        }
    free(a->rooms.b);
    free(a->members.b);
    free(a);
}

static bool member_in(member_t *m, const room_t *r)
{
    void **it = pv_items(&m->rooms);
    for (uint32_t i = 0; i < m->rooms.n; i++)
        if (it[i] == r)
            return true;
    return false;
}

static void do_join(ym_sio_adapter_t *a, member_t *m, const char *name)
{
    room_t *r = get_room(a, name);
    if (!r) {
        size_t len = strlen(name);
        r = ym_xcalloc(1, sizeof(*r) + len + 1);
        memcpy(r->name, name, len + 1);
        r->node.key = r->name;
        map_put(&a->rooms, &r->node);
    } else if (member_in(m, r)) {
        return;
    }
    pv_push(&r->members, m);
    pv_push(&m->rooms, r);
}

static void do_leave(ym_sio_adapter_t *a, member_t *m, room_t *r)
{
    if (!pv_remove(&m->rooms, r))
        return;
    pv_remove(&r->members, m);
    if (r->members.n == 0) {
        map_del(&a->rooms, &r->node);
        room_free(r);
    }
}

static int mem_attach(ym_sio_adapter_t *a, const char *id, void *ptr)
{
    if (get_member(a, id))
        return -EEXIST;
    size_t len = strlen(id);
    member_t *m = ym_xcalloc(1, sizeof(*m) + len + 1);
    memcpy(m->id, id, len + 1);
    m->node.key = m->id;
    m->ptr = ptr;
    map_put(&a->members, &m->node);
    do_join(a, m, id);
    return 0;
}

static void mem_detach(ym_sio_adapter_t *a, const char *id)
{
    member_t *m = get_member(a, id);
    if (!m)
        return;
    while (m->rooms.n > 0)
        do_leave(a, m, pv_items(&m->rooms)[m->rooms.n - 1]);
    map_del(&a->members, &m->node);
    member_free(m);
}

static void *mem_find(ym_sio_adapter_t *a, const char *id)
{
    member_t *m = get_member(a, id);
    return m ? m->ptr : NULL;
}

static int mem_join(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = get_member(a, id);
    if (!m)
        return -ENOENT;
    do_join(a, m, room);
    return 0;
}

static int mem_leave(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = get_member(a, id);
    if (!m)
        return -ENOENT;
    room_t *r = get_room(a, room);
    if (r)
        do_leave(a, m, r);
    return 0;
}

static bool mem_in_room(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = get_member(a, id);
    room_t *r = get_room(a, room);
    return m && r && member_in(m, r);
}

static size_t mem_room_size(ym_sio_adapter_t *a, const char *room)
{
    room_t *r = get_room(a, room);
    return r ? r->members.n : 0;
}

static size_t mem_member_count(ym_sio_adapter_t *a) { return a->members.n; }

static size_t mem_broadcast(ym_sio_adapter_t *a, const char *const *to, size_t nto,
                            const char *const *except, size_t nexcept, ym_sio_member_cb fn, void *ud)
{
    uint64_t epoch = ++a->epoch;
    for (size_t i = 0; i < nexcept; i++) {
        room_t *r = get_room(a, except[i]);
        if (!r)
            continue;
        void **it = pv_items(&r->members);
        for (uint32_t j = 0; j < r->members.n; j++)
            ((member_t *)it[j])->mark = epoch;
    }
    size_t n = 0, cap = 0;
    void **out = NULL;
#define COLLECT(m) do { member_t *m_ = (m); if (m_->mark != epoch) { m_->mark = epoch; \
        if (n == cap) { cap = cap ? cap * 2 : 64; out = ym_xrealloc(out, cap * sizeof(*out)); } \
        out[n++] = m_->ptr; } } while (0)
    if (nto == 0) {
        for (size_t i = 0; i < a->members.nb; i++)
            for (node_t *nd = a->members.b[i]; nd; nd = nd->next)
                COLLECT(MEMBER_OF(nd));
    } else {
        for (size_t i = 0; i < nto; i++) {
            room_t *r = get_room(a, to[i]);
            if (!r)
                continue;
            void **it = pv_items(&r->members);
            for (uint32_t j = 0; j < r->members.n; j++)
                COLLECT((member_t *)it[j]);
        }
    }
#undef COLLECT
    for (size_t i = 0; i < n; i++)
        fn(out[i], ud);
    free(out);
    return n;
}

static void mem_rooms_foreach(ym_sio_adapter_t *a, ym_sio_room_cb fn, void *ud)
{
    for (size_t i = 0; i < a->rooms.nb; i++)
        for (node_t *nd = a->rooms.b[i]; nd; nd = nd->next) {
            room_t *r = ROOM_OF(nd);
            fn(r->name, r->members.n, ud);
        }
}

static void mem_member_rooms_foreach(ym_sio_adapter_t *a, const char *id,
                                     void (*fn)(const char *room, void *ud), void *ud)
{
    member_t *m = get_member(a, id);
    if (!m)
        return;
    void **it = pv_items(&m->rooms);
    for (uint32_t i = 0; i < m->rooms.n; i++)
        fn(((room_t *)it[i])->name, ud);
}

const ym_sio_adapter_ops_t ym_sio_memory_adapter = {
    .create = mem_create,
    .destroy = mem_destroy,
    .attach = mem_attach,
    .detach = mem_detach,
    .find = mem_find,
    .join = mem_join,
    .leave = mem_leave,
    .in_room = mem_in_room,
    .room_size = mem_room_size,
    .member_count = mem_member_count,
    .broadcast = mem_broadcast,
    .rooms_foreach = mem_rooms_foreach,
    .member_rooms_foreach = mem_member_rooms_foreach,
};
