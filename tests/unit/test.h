/* test.h: a tiny test runner. Each test file defines TEST(name) functions and a
 * main() that calls RUN(name) for each; a failing assertion prints the
 * expression and both values, then aborts (ctest reports the file as failed).
 *
 *   TEST(parses_get) { ASSERT_EQ(1, 1); }
 *   int main(void) { RUN(parses_get); return test_report(); }
 */
#ifndef YM_TEST_H
#define YM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_count_;
static const char *test_current_;

#define TEST(name) static void test_##name(void)
#define RUN(name) do { test_current_ = #name; test_##name(); test_count_++; \
                       fprintf(stderr, "ok   %s\n", #name); } while (0)

static inline int test_report(void)
{
    printf("%d passed, 0 failed\n", test_count_);
    return 0;
}

#define TEST_FAIL_(...) do { fprintf(stderr, "FAIL %s (%s:%d): ", test_current_, __FILE__, __LINE__); \
                             fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define ASSERT(cond) do { if (!(cond)) TEST_FAIL_("%s", #cond); } while (0)
#define ASSERT_EQ(a, b) do { intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b); \
    if (a_ != b_) TEST_FAIL_("%s == %s: %jd != %jd", #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b); \
    if (a_ == b_) TEST_FAIL_("%s != %s: both %jd", #a, #b, a_); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_MEM_EQ(a, alen, b, blen) do { size_t al_ = (alen), bl_ = (blen); \
    if (al_ != bl_ || memcmp((a), (b), al_) != 0) TEST_FAIL_("%s == %s: lengths %zu, %zu, \"%.*s\" vs \"%.*s\"", #a, #b, al_, bl_, (int)al_, (const char *)(a), (int)bl_, (const char *)(b)); } while (0)

#endif
