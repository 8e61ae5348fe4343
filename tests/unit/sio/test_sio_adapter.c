/* The in-memory adapter: rooms appear on first join and vanish when empty,
 * every member is in its own id room, broadcasts reach each member once. */
#include "sio/ym_sio_adapter.h"

#include <errno.h>
#include <stdio.h>

#include "test.h"

static const ym_sio_adapter_ops_t *A = &ym_sio_memory_adapter;

static int hits[2000];

static int vals[2000];
static void reset_hits(void) { memset(hits, 0, sizeof(hits)); }

TEST(attach_own_room_find_detach)
{
    ym_sio_adapter_t *a = A->create();
    vals[1] = 1;
    ASSERT_EQ(A->attach(a, "s1", &vals[1]), 0);
    ASSERT_EQ(A->attach(a, "s1", &vals[1]), -EEXIST);
    ASSERT(A->find(a, "s1") == &vals[1]);
    ASSERT(A->find(a, "nope") == NULL);
    ASSERT(A->in_room(a, "s1", "s1"));
    ASSERT_EQ(A->room_size(a, "s1"), 1);
    ASSERT_EQ(A->member_count(a), 1);
    A->detach(a, "s1");
    ASSERT(A->find(a, "s1") == NULL);
    ASSERT_EQ(A->room_size(a, "s1"), 0);
    ASSERT_EQ(A->member_count(a), 0);
    A->detach(a, "s1"); /* no-op */
    ASSERT_EQ(A->join(a, "s1", "r"), -ENOENT);
    ASSERT_EQ(A->leave(a, "s1", "r"), -ENOENT);
    A->destroy(a);
}

static int nrooms;
static void room_seen(const char *room, size_t size, void *ud)
{
    (void)room; (void)size; (void)ud;
    nrooms++;
}

static void member_room_seen(const char *room, void *ud)
{
    (void)ud;
    ASSERT(strcmp(room, "s1") == 0 || strcmp(room, "x") == 0);
    nrooms++;
}

TEST(rooms_created_and_deleted)
{
    ym_sio_adapter_t *a = A->create();
    vals[1] = 1; vals[2] = 2;
    A->attach(a, "s1", &vals[1]);
    A->attach(a, "s2", &vals[2]);
    ASSERT_EQ(A->join(a, "s1", "room"), 0);
    ASSERT_EQ(A->join(a, "s1", "room"), 0); /* twice: still one membership */
    ASSERT_EQ(A->join(a, "s2", "room"), 0);
    ASSERT_EQ(A->room_size(a, "room"), 2);
    nrooms = 0;
    A->rooms_foreach(a, room_seen, NULL);
    ASSERT_EQ(nrooms, 3);
    ASSERT_EQ(A->leave(a, "s1", "room"), 0);
    ASSERT_EQ(A->leave(a, "s1", "room"), 0);
    ASSERT_EQ(A->room_size(a, "room"), 1);
    ASSERT(!A->in_room(a, "s1", "room"));
    A->detach(a, "s2");
    ASSERT_EQ(A->room_size(a, "room"), 0);
    nrooms = 0;
    A->rooms_foreach(a, room_seen, NULL);
    ASSERT_EQ(nrooms, 1); /* only s1's own room */
    nrooms = 0;
    A->join(a, "s1", "x");
    A->member_rooms_foreach(a, "s1", member_room_seen, NULL);
    ASSERT_EQ(nrooms, 2);
    A->destroy(a);
}

static void hit(void *member, void *ud)
{
    (void)ud;
    hits[*(int *)member]++;
}

TEST(broadcast_once_with_except)
{
    ym_sio_adapter_t *a = A->create();
    char id[32];
    for (int i = 0; i < 1000; i++) {
        vals[i] = i;
        snprintf(id, sizeof(id), "s%d", i);
        ASSERT_EQ(A->attach(a, id, &vals[i]), 0);
        A->join(a, id, i % 2 ? "odd" : "even");
        if (i % 3 == 0)
            A->join(a, id, "three");
    }
    reset_hits();
    const char *to[] = { "odd", "three" };
    const char *except[] = { "s1", "s999" };
    size_t n = A->broadcast(a, to, 2, except, 2, hit, NULL);
    size_t expect = 0;
    for (int i = 0; i < 1000; i++) {
        int want = (i % 2 || i % 3 == 0) && i != 1 && i != 999;
        expect += (size_t)want;
        if (hits[i] != want)
            TEST_FAIL_("member %d got %d, want %d", i, hits[i], want);
    }
    ASSERT_EQ(n, expect);
    reset_hits();
    ASSERT_EQ(A->broadcast(a, NULL, 0, except, 1, hit, NULL), 999);
    ASSERT_EQ(hits[1], 0);
    ASSERT_EQ(hits[0], 1);
    reset_hits();
    const char *missing[] = { "nobody" };
    ASSERT_EQ(A->broadcast(a, missing, 1, NULL, 0, hit, NULL), 0);
    for (int i = 0; i < 1000; i += 2) {
        snprintf(id, sizeof(id), "s%d", i);
        A->detach(a, id);
    }
    ASSERT_EQ(A->room_size(a, "even"), 0);
    ASSERT_EQ(A->room_size(a, "odd"), 500);
    ASSERT_EQ(A->member_count(a), 500);
    A->destroy(a);
}

int main(void)
{
    RUN(attach_own_room_find_detach);
    RUN(rooms_created_and_deleted);
    RUN(broadcast_once_with_except);
    return test_report();
}
