/* Unit tests of crp_schema: valid v2, v1 upgrade, and each violation. */
#include "cr_test.h"

#include <string.h>

#include "crp_schema.h"

#define X16 "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]"

static int check(const char *text, char *reason, json_t **out)
{
    json_t *rec = json_loads(text, 0, NULL);
    int rc = rec ? crp_schema_check(rec, reason, 200) : -2;
    if (out)
        *out = rec;
    else
        json_decref(rec);
    return rc;
}

static void test_crp_schema_valid_v2(void)
{
    char reason[200] = "";
    json_t *r;
    CU_ASSERT_EQUAL(
        check("{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":" X16 "}",
              reason, &r),
        0);
    CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(r, "weight")), 1.0,
                           1e-12);
    json_decref(r);
}

static void test_crp_schema_upgrades_v1(void)
{
    char reason[200] = "";
    json_t *r;
    CU_ASSERT_EQUAL(check("{\"schema\":1,\"source\":\"s\",\"time\":5,\"class\":"
                          "\"b\",\"features\":" X16 "}",
                          reason, &r),
                    1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "schema")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "label")), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "src")), "s");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r, "x")), 16);
    CU_ASSERT_PTR_NULL(json_object_get(r, "features"));
    CU_ASSERT_PTR_NULL(json_object_get(r, "class"));
    /* the upgraded record is a valid v2 record */
    CU_ASSERT_EQUAL(crp_schema_check(r, reason, sizeof reason), 0);
    json_decref(r);
}

static void test_crp_schema_rejects_with_reason(void)
{
    static const struct {
        const char *rec, *reason;
    } bad[] = {
        {"[1]", "record: not a JSON object"},
        {"{\"src\":\"a\"}", "schema: required integer"},
        {"{\"schema\":9}", "schema: unsupported version 9"},
        {"{\"schema\":2,\"ts\":1,\"label\":1,\"x\":" X16 "}",
         "src: required string"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":-1,\"label\":1,\"x\":" X16 "}",
         "ts: required number >= 0"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":2,\"x\":" X16 "}",
         "label: required 0 or 1"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":[1,2]}",
         "x: 2 values, expected 16"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":[1,2,3,4,5,6,"
         "7,8,9,10,11,12,13,14,15,1e9]}",
         "x[15]: out of range [-100,100]"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":[1,2,3,4,5,6,"
         "7,8,9,10,11,12,13,14,15,\"a\"]}",
         "x[15]: not a number"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":" X16
         ",\"weight\":0}",
         "weight: not in (0,10]"},
        {"{\"schema\":2,\"src\":\"a\",\"ts\":1,\"label\":1,\"x\":" X16
         ",\"extra\":1}",
         "extra: unknown field"},
        {"{\"schema\":1,\"source\":\"s\",\"time\":5,\"class\":\"c\","
         "\"features\":" X16 "}",
         "class: required \"a\" or \"b\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char reason[200] = "";
        json_t *r;
        CU_ASSERT_EQUAL(check(bad[i].rec, reason, &r), -1);
        CU_ASSERT_STRING_EQUAL(reason, bad[i].reason);
        if (strcmp(reason, bad[i].reason) != 0)
            printf("case %zu: got \"%s\"\n", i, reason);
        json_decref(r);
    }
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_schema", NULL, NULL);
    CR_ADD_TEST(s, test_crp_schema_valid_v2);
    CR_ADD_TEST(s, test_crp_schema_upgrades_v1);
    CR_ADD_TEST(s, test_crp_schema_rejects_with_reason);
}
