/* app_rooms.c: the room registry. Rooms are few and small (a member cap of
 * 16 by default), so plain arrays and linear search are the simple choice. */
#include "app/app_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/ym_codec.h"

/* PBKDF2 runs on the loop thread; room passwords are set and checked rarely,
 * and this count keeps one check around a few milliseconds. */
#define PBKDF2_ITERATIONS 20000

ym_app_room_t *ym_app__rooms_find(const ym_app_rooms_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i]->name, name) == 0)
            return r->v[i];
    return NULL;
}

ym_app_room_t *ym_app__rooms_create(ym_app_rooms_t *r, const char *name, const char *creator_sid,
                                    const char *creator_name)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = ym_xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    ym_app_room_t *room = ym_xcalloc(1, sizeof(*room));
    room->name = ym_xstrdup(name);
    room->creator_sid = ym_xstrdup(creator_sid);
    room->creator_name = ym_xstrdup(creator_name);
    r->v[r->n++] = room;
    return room;
}

static void room_free(ym_app_room_t *room)
{
    for (size_t i = 0; i < room->n; i++) {
        free(room->members[i].sid);
        free(room->members[i].name);
    }
    free(room->members);
    free(room->name);
    free(room->creator_sid);
    free(room->creator_name);
    free(room);
}

void ym_app__rooms_delete(ym_app_rooms_t *r, ym_app_room_t *room)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i] == room) {
            /* Keep creation order: the lobby lists rooms oldest first. */
            memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
            r->n--;
            break;
        }
    }
    room_free(room);
}

void ym_app__rooms_free(ym_app_rooms_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        room_free(r->v[i]);
    free(r->v);
    *r = (ym_app_rooms_t){ 0 };
}

ym_app_member_t *ym_app__room_member(const ym_app_room_t *room, const char *sid)
{
    for (size_t i = 0; i < room->n; i++)
        if (strcmp(room->members[i].sid, sid) == 0)
            return &room->members[i];
    return NULL;
}

static bool name_taken(const ym_app_room_t *room, const char *name)
{
    for (size_t i = 0; i < room->n; i++)
        if (strcmp(room->members[i].name, name) == 0)
            return true;
    return false;
}

ym_app_member_t *ym_app__room_add(ym_app_room_t *room, const char *sid, const char *wanted, bool seed)
{
    char *name = ym_xstrdup(wanted);
    /* n + 1 candidates cannot all be taken by n members, so this ends. */
    for (size_t k = 2; name_taken(room, name); k++) {
        free(name);
        size_t sz = strlen(wanted) + 24;
        name = ym_xmalloc(sz);
        snprintf(name, sz, "%s (%zu)", wanted, k);
    }
    if (room->n == room->cap) {
        room->cap = room->cap ? room->cap * 2 : 4;
        room->members = ym_xrealloc(room->members, room->cap * sizeof(*room->members));
    }
    ym_app_member_t *m = &room->members[room->n++];
    m->sid = ym_xstrdup(sid);
    m->name = name;
    m->seed = seed;
    m->in_call = false;
    m->call_media = 0;
    return m;
}

bool ym_app__room_remove(ym_app_room_t *room, const char *sid)
{
    for (size_t i = 0; i < room->n; i++) {
        if (strcmp(room->members[i].sid, sid) == 0) {
            free(room->members[i].sid);
            free(room->members[i].name);
            /* Keep join order for the member list. */
            memmove(&room->members[i], &room->members[i + 1], (room->n - i - 1) * sizeof(*room->members));
            room->n--;
            return true;
        }
    }
    return false;
}

static void derive(const uint8_t salt[YM_APP_SALT_LEN], const char *pw, size_t len, uint8_t out[YM_APP_HASH_LEN])
{
    if (PKCS5_PBKDF2_HMAC(pw, (int)len, salt, YM_APP_SALT_LEN, PBKDF2_ITERATIONS, EVP_sha256(),
                          YM_APP_HASH_LEN, out) != 1) {
        /* Only on OOM inside OpenSSL: same policy as ym_xmalloc. */
        abort();
    }
}

void ym_app__room_set_password(ym_app_room_t *room, const char *pw, size_t len)
{
    if (len == 0) {
        room->locked = false;
        memset(room->salt, 0, sizeof(room->salt));
        memset(room->hash, 0, sizeof(room->hash));
        return;
    }
    ym_random_bytes(room->salt, sizeof(room->salt));
    derive(room->salt, pw, len, room->hash);
    room->locked = true;
}

bool ym_app__room_check_password(const ym_app_room_t *room, const char *pw, size_t len)
{
    if (!room->locked)
        return true;
    if (len == 0)
        return false;
    uint8_t h[YM_APP_HASH_LEN];
    derive(room->salt, pw, len, h);
    return CRYPTO_memcmp(h, room->hash, sizeof(h)) == 0;
}
