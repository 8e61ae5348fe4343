/* ym_sio_adapter.c: the in-memory adapter. Two chained hash maps (rooms by
 * name, members by id); each membership is stored on both sides so leaving a
 * room and dropping a member are O(rooms of the member). */
#include "sio/ym_sio_adapter.h"

#include <errno.h>
#include <stdlib.h>

typedef struct node {
    struct node *next;
    uint64_t hash;
    char *key;
    void *val;
} node_t;

typedef struct map {
    node_t **b;
    size_t nb;
    size_t n;
} map_t;

typedef struct room room_t;
typedef struct member {
    char *id;
    void *ptr;
    room_t **rooms;
    size_t nrooms, cap;
    uint64_t mark;    /* last broadcast epoch that saw this member */
} member_t;

struct room {
    char *name;
    member_t **members;
    size_t n, cap;
};

struct ym_sio_adapter {
    map_t rooms;
    map_t members;
    uint64_t epoch;
};

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

static void *map_get(map_t *m, const char *key)
{
    node_t **pp = map_slot(m, key, hash_str(key));
    return pp && *pp ? (*pp)->val : NULL;
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

/* key is owned by the map from here on; the caller checked it is absent. */
static void map_put(map_t *m, char *key, void *val)
{
    if (m->n >= m->nb)
        map_grow(m);
    uint64_t h = hash_str(key);
    node_t *n = ym_xmalloc(sizeof(*n));
    n->hash = h;
    n->key = key;
    n->val = val;
    n->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = n;
    m->n++;
}

static void map_del(map_t *m, const char *key)
{
    node_t **pp = map_slot(m, key, hash_str(key));
    if (!pp || !*pp)
        return;
    node_t *n = *pp;
    *pp = n->next;
    free(n->key);
    free(n);
    m->n--;
}

static void map_free(map_t *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        node_t *n = m->b[i];
        while (n) {
            node_t *next = n->next;
            free(n->key);
            free(n);
            n = next;
        }
    }
    free(m->b);
    *m = (map_t){ 0 };
}

static ym_sio_adapter_t *mem_create(void)
{
    return ym_xcalloc(1, sizeof(ym_sio_adapter_t));
}

static void room_free(room_t *r)
{
    free(r->members);
    free(r->name);
    free(r);
}

static void mem_destroy(ym_sio_adapter_t *a)
{
    for (size_t i = 0; i < a->rooms.nb; i++)
        for (node_t *n = a->rooms.b[i]; n; n = n->next)
            room_free(n->val);
    for (size_t i = 0; i < a->members.nb; i++)
        for (node_t *n = a->members.b[i]; n; n = n->next) {
            member_t *m = n->val;
            free(m->rooms);
            free(m->id);
            free(m);
        }
    map_free(&a->rooms);
    map_free(&a->members);
    free(a);
}

static bool member_in(const member_t *m, const room_t *r)
{
    for (size_t i = 0; i < m->nrooms; i++)
        if (m->rooms[i] == r)
            return true;
    return false;
}

static void do_join(ym_sio_adapter_t *a, member_t *m, const char *name)
{
    room_t *r = map_get(&a->rooms, name);
    if (!r) {
        r = ym_xcalloc(1, sizeof(*r));
        r->name = ym_xstrdup(name);
        map_put(&a->rooms, ym_xstrdup(name), r);
    } else if (member_in(m, r)) {
        return;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->members = ym_xrealloc(r->members, r->cap * sizeof(*r->members));
    }
    r->members[r->n++] = m;
    if (m->nrooms == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 4;
        m->rooms = ym_xrealloc(m->rooms, m->cap * sizeof(*m->rooms));
    }
    m->rooms[m->nrooms++] = r;
}

static void do_leave(ym_sio_adapter_t *a, member_t *m, room_t *r)
{
    size_t i;
    for (i = 0; i < m->nrooms && m->rooms[i] != r; i++)
        ;
    if (i == m->nrooms)
        return;
    m->rooms[i] = m->rooms[--m->nrooms];
    /* Order inside a room does not matter: swap-remove. */
    for (i = 0; i < r->n; i++)
        if (r->members[i] == m) {
            r->members[i] = r->members[--r->n];
            break;
        }
    if (r->n == 0) {
        /* map_del frees the key copy, room_free the name. */
        map_del(&a->rooms, r->name);
        room_free(r);
    }
}

static int mem_attach(ym_sio_adapter_t *a, const char *id, void *ptr)
{
    if (map_get(&a->members, id))
        return -EEXIST;
    member_t *m = ym_xcalloc(1, sizeof(*m));
    m->id = ym_xstrdup(id);
    m->ptr = ptr;
    map_put(&a->members, ym_xstrdup(id), m);
    do_join(a, m, id);
    return 0;
}

static void mem_detach(ym_sio_adapter_t *a, const char *id)
{
    member_t *m = map_get(&a->members, id);
    if (!m)
        return;
    while (m->nrooms > 0)
        do_leave(a, m, m->rooms[m->nrooms - 1]);
    map_del(&a->members, id);
    free(m->rooms);
    free(m->id);
    free(m);
}

static void *mem_find(ym_sio_adapter_t *a, const char *id)
{
    member_t *m = map_get(&a->members, id);
    return m ? m->ptr : NULL;
}

static int mem_join(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = map_get(&a->members, id);
    if (!m)
        return -ENOENT;
    do_join(a, m, room);
    return 0;
}

static int mem_leave(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = map_get(&a->members, id);
    if (!m)
        return -ENOENT;
    room_t *r = map_get(&a->rooms, room);
    if (r)
        do_leave(a, m, r);
    return 0;
}

static bool mem_in_room(ym_sio_adapter_t *a, const char *id, const char *room)
{
    member_t *m = map_get(&a->members, id);
    room_t *r = map_get(&a->rooms, room);
    return m && r && member_in(m, r);
}

static size_t mem_room_size(ym_sio_adapter_t *a, const char *room)
{
    room_t *r = map_get(&a->rooms, room);
    return r ? r->n : 0;
}

static size_t mem_member_count(ym_sio_adapter_t *a) { return a->members.n; }

static size_t mem_broadcast(ym_sio_adapter_t *a, const char *const *to, size_t nto,
                            const char *const *except, size_t nexcept, ym_sio_member_cb fn, void *ud)
{
    uint64_t epoch = ++a->epoch;
    for (size_t i = 0; i < nexcept; i++) {
        room_t *r = map_get(&a->rooms, except[i]);
        for (size_t j = 0; r && j < r->n; j++)
            r->members[j]->mark = epoch;
    }
    size_t n = 0, cap = 0;
    void **out = NULL;
#define COLLECT(m) do { member_t *m_ = (m); if (m_->mark != epoch) { m_->mark = epoch; \
        if (n == cap) { cap = cap ? cap * 2 : 64; out = ym_xrealloc(out, cap * sizeof(*out)); } \
        out[n++] = m_->ptr; } } while (0)
    if (nto == 0) {
        for (size_t i = 0; i < a->members.nb; i++)
            for (node_t *nd = a->members.b[i]; nd; nd = nd->next)
                COLLECT((member_t *)nd->val);
    } else {
        for (size_t i = 0; i < nto; i++) {
            room_t *r = map_get(&a->rooms, to[i]);
            for (size_t j = 0; r && j < r->n; j++)
                COLLECT(r->members[j]);
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
            room_t *r = nd->val;
            fn(r->name, r->n, ud);
        }
}

static void mem_member_rooms_foreach(ym_sio_adapter_t *a, const char *id,
                                     void (*fn)(const char *room, void *ud), void *ud)
{
    member_t *m = map_get(&a->members, id);
    for (size_t i = 0; m && i < m->nrooms; i++)
        fn(m->rooms[i]->name, ud);
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
