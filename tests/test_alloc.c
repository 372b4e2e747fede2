/* Tests for cr_alloc: the failure hook and the growing string buffer. */
#include <string.h>

#include "base/cr_alloc.h"
#include "base/cr_err.h"
#include "cr_test.h"

static void test_sbuf_appends_and_grows(void)
{
    cr_sbuf b = {0};
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, "", 0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.s);
    CU_ASSERT_STRING_EQUAL(b.s, "");
    char want[1001];
    for (int i = 0; i < 1000; i++) {
        want[i] = (char)('a' + i % 26);
        CU_ASSERT_EQUAL_FATAL(cr_sbuf_add(&b, &want[i], 1), 0);
    }
    want[1000] = '\0';
    CU_ASSERT_EQUAL(b.n, 1000);
    CU_ASSERT(b.cap > b.n);
    CU_ASSERT_STRING_EQUAL(b.s, want);
    cr_free(b.s);
}

static void test_sbuf_oom_leaves_buffer_intact(void)
{
    cr_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(cr_sbuf_add(&b, "keep", 4), 0);
    char big[200];
    memset(big, 'x', sizeof big);
    cr_alloc_fail_after(1);
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, big, sizeof big), CR_ENOMEM);
    cr_alloc_fail_after(0);
    CU_ASSERT_EQUAL(b.n, 4);
    CU_ASSERT_STRING_EQUAL(b.s, "keep");
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, big, sizeof big), 0);
    CU_ASSERT_EQUAL(b.n, 204);
    cr_free(b.s);
}

static void test_fail_after_counts(void)
{
    cr_alloc_fail_after(2);
    void *a = cr_malloc(8), *c = cr_malloc(8), *d = cr_malloc(8);
    cr_alloc_fail_after(0);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NULL(d);
    cr_free(a);
    char *s = cr_asprintf("%s-%d", "x", 7);
    CU_ASSERT_STRING_EQUAL(s, "x-7");
    cr_free(s);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("alloc", NULL, NULL);
    CR_ADD_TEST(s, test_sbuf_appends_and_grows);
    CR_ADD_TEST(s, test_sbuf_oom_leaves_buffer_intact);
    CR_ADD_TEST(s, test_fail_after_counts);
}
