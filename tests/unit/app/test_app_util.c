/* Unit tests for the argument helpers shared by the app's event handlers
 * (app_util.c) and the UTF-8-safe cut used when quoting client text back. */
#include <stdlib.h>

#include "app/app_internal.h"
#include "test.h"

static json_t *parse(const char *text)
{
    ym_sio_args_t a = { .json = text, .json_len = strlen(text) };
    return ym_app__args(&a);
}

TEST(utf8_prefix_never_splits_a_code_point)
{
    /* 63 ASCII bytes then "é" (2 bytes): a 64-byte cut would split it. */
    char name[80];
    memset(name, 'a', 63);
    memcpy(name + 63, "\xC3\xA9zz", 5);
    ASSERT_EQ(ym_app__utf8_prefix(name, strlen(name), 64), 63);
    ASSERT_EQ(ym_app__utf8_prefix(name, strlen(name), 65), 65);
    /* Short strings are returned whole; a 4-byte code point is kept or dropped whole. */
    ASSERT_EQ(ym_app__utf8_prefix("ab", 2, 64), 2);
    ASSERT_EQ(ym_app__utf8_prefix("\xF0\x9F\x98\x80", 4, 3), 0);
    ASSERT_EQ(ym_app__utf8_prefix("x\xF0\x9F\x98\x80y", 6, 5), 5);
}

TEST(utf8_prefix_keeps_a_quoted_reply_packable)
{
    /* The unknown-event reply quotes at most 64 bytes of the name; the bug was
     * a cut inside a code point, which made json_pack fail and the client get
     * an empty ack instead of the error. */
    char name[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(name, "한"); /* 3 bytes each: 64 is not a multiple of 3 */
    char msg[128];
    int n = (int)ym_app__utf8_prefix(name, strlen(name), 64);
    snprintf(msg, sizeof(msg), "Unknown event \"%.*s\".", n, name);
    json_t *o = json_pack("{s:s}", "error", msg);
    ASSERT(o != NULL);
    json_decref(o);
    /* And the unguarded cut really was a problem. */
    snprintf(msg, sizeof(msg), "Unknown event \"%.64s\".", name);
    json_t *bad = json_pack("{s:s}", "error", msg);
    ASSERT(bad == NULL);
}

TEST(arg_str_checks_type_and_index)
{
    json_t *arr = parse("[\"hi\", 3, null]");
    ASSERT(arr != NULL);
    size_t len = 99;
    ASSERT_STR_EQ(ym_app__arg_str(arr, 0, &len), "hi");
    ASSERT_EQ(len, 2);
    ASSERT(ym_app__arg_str(arr, 1, &len) == NULL);
    ASSERT(ym_app__arg_str(arr, 2, &len) == NULL);
    ASSERT(ym_app__arg_str(arr, 7, &len) == NULL);
    ASSERT(ym_app__arg_str(NULL, 0, &len) == NULL);
    json_decref(arr);
}

TEST(field_str_optional_and_wrong_types)
{
    json_t *arr = parse("[{\"a\":\"x\\u0000y\", \"n\":null, \"i\":1}]");
    json_t *o = json_array_get(arr, 0);
    bool ok = true;
    size_t len;
    const char *a = ym_app__field_str(o, "a", &len, false, &ok);
    ASSERT(ok && a != NULL);
    ASSERT_EQ(len, 3); /* NUL kept, with its length */
    ASSERT(!ym_app__is_cstr(json_object_get(o, "a")));
    /* Absent or null: fine when optional, not otherwise. */
    ASSERT(ym_app__field_str(o, "n", &len, true, &ok) == NULL && ok);
    ASSERT(ym_app__field_str(o, "zz", &len, true, &ok) == NULL && ok);
    ASSERT(ym_app__field_str(o, "zz", &len, false, &ok) == NULL && !ok);
    ok = true;
    /* Another type is wrong even when optional. */
    ASSERT(ym_app__field_str(o, "i", &len, true, &ok) == NULL && !ok);
    ASSERT_EQ(len, 0);
    json_decref(arr);
}

TEST(arg_object_requires_an_object_first)
{
    json_t *arr;
    ym_sio_args_t good = { .json = "[{\"room\":\"r\"}]", .json_len = 14 };
    json_t *o = ym_app__arg_object(&good, NULL, &arr);
    ASSERT(json_is_object(o));
    ASSERT(ym_app__is_cstr(json_object_get(o, "room")));
    json_decref(arr);
    const char *bad[] = { "[]", "[\"r\"]", "[[1]]", "{\"room\":1}", "not json" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ym_sio_args_t a = { .json = bad[i], .json_len = strlen(bad[i]) };
        ASSERT(ym_app__arg_object(&a, NULL, &arr) == NULL); /* a NULL ack: nothing sent */
        json_decref(arr);
    }
}

int main(void)
{
    RUN(utf8_prefix_never_splits_a_code_point);
    RUN(utf8_prefix_keeps_a_quoted_reply_packable);
    RUN(arg_str_checks_type_and_index);
    RUN(field_str_optional_and_wrong_types);
    RUN(arg_object_requires_an_object_first);
    return test_report();
}
