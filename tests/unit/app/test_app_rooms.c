/* Unit tests for the app's text validation and room registry (no Socket.IO). */
#include <stdlib.h>

#include "app/app_internal.h"
#include "test.h"

static ym_app_text_err_t clean(const char *s, size_t max, unsigned flags, char **out)
{
    return ym_app__text_clean(s, strlen(s), max, flags, out);
}

TEST(text_trims_and_accepts_unicode)
{
    char *out;
    ASSERT_EQ(clean("  Café 한국어 \t", 32, 0, &out), YM_APP_TEXT_OK);
    ASSERT_STR_EQ(out, "Café 한국어");
    free(out);
    /* A non-breaking and an ideographic space are trimmed too. */
    ASSERT_EQ(clean("\xC2\xA0x\xE3\x80\x80", 32, 0, &out), YM_APP_TEXT_OK);
    ASSERT_STR_EQ(out, "x");
    free(out);
}

TEST(text_counts_code_points_not_bytes)
{
    char *out;
    /* 32 Hangul syllables are 96 bytes but 32 characters. */
    char buf[200] = "";
    for (int i = 0; i < 32; i++)
        strcat(buf, "가");
    ASSERT_EQ(clean(buf, 32, 0, &out), YM_APP_TEXT_OK);
    free(out);
    strcat(buf, "가");
    ASSERT_EQ(clean(buf, 32, 0, &out), YM_APP_TEXT_TOO_LONG);
    ASSERT(out == NULL);
}

TEST(text_rejects_empty_control_and_bad_utf8)
{
    char *out;
    ASSERT_EQ(clean("", 32, 0, &out), YM_APP_TEXT_EMPTY);
    ASSERT_EQ(clean("   \t ", 32, 0, &out), YM_APP_TEXT_EMPTY);
    ASSERT_EQ(clean("a\x01" "b", 32, 0, &out), YM_APP_TEXT_CONTROL);
    ASSERT_EQ(clean("a\x7f" "b", 32, 0, &out), YM_APP_TEXT_CONTROL);
    ASSERT_EQ(clean("a\xC2\x85" "b", 32, 0, &out), YM_APP_TEXT_CONTROL);     /* C1 NEL */
    ASSERT_EQ(clean("a\xE2\x80\xAE" "b", 32, 0, &out), YM_APP_TEXT_CONTROL); /* RLO */
    ASSERT_EQ(clean("a\nb", 32, 0, &out), YM_APP_TEXT_CONTROL);
    ASSERT_EQ(clean("a\xC0\xAF", 32, 0, &out), YM_APP_TEXT_UTF8);
    ASSERT(out == NULL);
}

TEST(text_multiline_allows_newline_and_tab_only)
{
    char *out;
    ASSERT_EQ(clean("line 1\nline\t2\n", 100, YM_APP_TEXT_MULTILINE, &out), YM_APP_TEXT_OK);
    ASSERT_STR_EQ(out, "line 1\nline\t2");
    free(out);
    ASSERT_EQ(clean("a\rb", 100, YM_APP_TEXT_MULTILINE, &out), YM_APP_TEXT_CONTROL);
}

TEST(rooms_create_find_delete_keep_order)
{
    ym_app_rooms_t r = { 0 };
    ym_app_room_t *a = ym_app__rooms_create(&r, "a", "s1", "Ann");
    ym_app_room_t *b = ym_app__rooms_create(&r, "b", "s2", "Bob");
    ym_app__rooms_create(&r, "c", "s3", "Cy");
    ASSERT(ym_app__rooms_find(&r, "b") == b);
    ASSERT(ym_app__rooms_find(&r, "B") == NULL);
    ym_app__rooms_delete(&r, a);
    ASSERT_EQ(r.n, 2);
    ASSERT_STR_EQ(r.v[0]->name, "b");
    ASSERT_STR_EQ(r.v[1]->name, "c");
    ASSERT(ym_app__rooms_find(&r, "a") == NULL);
    ym_app__rooms_free(&r);
    ASSERT_EQ(r.n, 0);
}

TEST(members_get_unique_names)
{
    ym_app_rooms_t r = { 0 };
    ym_app_room_t *room = ym_app__rooms_create(&r, "x", "s1", "Ann");
    ASSERT_STR_EQ(ym_app__room_add(room, "s1", "Ann", false)->name, "Ann");
    ASSERT_STR_EQ(ym_app__room_add(room, "s2", "Ann", false)->name, "Ann (2)");
    ASSERT_STR_EQ(ym_app__room_add(room, "s3", "Ann", true)->name, "Ann (3)");
    ASSERT_STR_EQ(ym_app__room_add(room, "s4", "Ann (2)", false)->name, "Ann (2) (2)");
    ASSERT(ym_app__room_remove(room, "s2"));
    ASSERT(!ym_app__room_remove(room, "s2"));
    /* The freed name is given again. */
    ASSERT_STR_EQ(ym_app__room_add(room, "s5", "Ann", false)->name, "Ann (2)");
    ASSERT_EQ(room->n, 4);
    ASSERT_STR_EQ(room->members[0].sid, "s1");
    ASSERT_STR_EQ(room->members[3].sid, "s5");
    ASSERT(ym_app__room_member(room, "s3")->seed);
    ASSERT(ym_app__room_member(room, "nobody") == NULL);
    ym_app__rooms_free(&r);
}

TEST(passwords_are_hashed_and_checked)
{
    ym_app_rooms_t r = { 0 };
    ym_app_room_t *room = ym_app__rooms_create(&r, "x", "s1", "Ann");
    ASSERT(!room->locked);
    ASSERT(ym_app__room_check_password(room, NULL, 0));
    ym_app__room_set_password(room, "hunter2", 7);
    ASSERT(room->locked);
    /* The clear text is nowhere in the room. */
    ASSERT(memmem(room, sizeof(*room), "hunter2", 7) == NULL);
    ASSERT(memmem(room->hash, sizeof(room->hash), "hunter2", 7) == NULL);
    ASSERT(ym_app__room_check_password(room, "hunter2", 7));
    ASSERT(!ym_app__room_check_password(room, "hunter3", 7));
    ASSERT(!ym_app__room_check_password(room, "", 0));
    ASSERT(!ym_app__room_check_password(room, "hunter2", 6));
    /* Two rooms with the same password get different salts and hashes. */
    ym_app_room_t *other = ym_app__rooms_create(&r, "y", "s2", "Bob");
    ym_app__room_set_password(other, "hunter2", 7);
    ASSERT(memcmp(room->hash, other->hash, sizeof(room->hash)) != 0);
    ym_app__room_set_password(room, "", 0);
    ASSERT(!room->locked);
    ASSERT(ym_app__room_check_password(room, "anything", 8));
    ym_app__rooms_free(&r);
}

int main(void)
{
    RUN(text_trims_and_accepts_unicode);
    RUN(text_counts_code_points_not_bytes);
    RUN(text_rejects_empty_control_and_bad_utf8);
    RUN(text_multiline_allows_newline_and_tab_only);
    RUN(rooms_create_find_delete_keep_order);
    RUN(members_get_unique_names);
    RUN(passwords_are_hashed_and_checked);
    return test_report();
}
