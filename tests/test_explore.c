/* Tests for cr_explore: the "explore" fault space -- loading it, drawing
 * concrete schedules from a seed (same seed, same schedule; every value
 * inside its template's range or list; time order; windows inside
 * duration_s), a drawn schedule being a valid scenario's faults, and
 * allocation failures.  Invalid spaces are in tests/data/invalid/explore-*
 * (test_scen.c checks their exact messages and positions). */
#include "base/cr_alloc.h"
#include "cr_test.h"
#include "scenario/cr_scen.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char space[] =
    "{\"name\": \"t\", \"duration_s\": 10, \"seed\": 5,\n"
    " \"services\": [{\"name\": \"worker\", \"cmd\": [\"sleep\", \"1\"],"
    " \"replicas\": 3},\n"
    "   {\"name\": \"feature\", \"cmd\": [\"sleep\", \"1\"]}],\n"
    " \"explore\": {\"count\": [2, 5], \"faults\": [\n"
    "   {\"kind\": \"kill\", \"target\": \"worker.random\", \"at_s\": [1, 4],"
    "    \"signal\": [\"SIGKILL\", \"SIGTERM\"]},\n"
    "   {\"kind\": \"pause\", \"target\": [\"feature\", \"worker.1\"],"
    "    \"for_s\": [0.5, 3]}]}}";

static cr_scen *load(const char *text)
{
    cr_diags d = {0};
    cr_err err;
    cr_scen *sc = NULL;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("t.json", text, strlen(text), &sc, &d, &err);
    if (rc != 0)
        cr_diags_print(&d, stderr);
    cr_diags_free(&d);
    return sc;
}

static void test_explore_absent(void)
{
    cr_scen *sc = load("{\"name\": \"t\", \"duration_s\": 1, \"services\":"
                       " [{\"name\": \"a\", \"cmd\": [\"true\"]}]}");
    json_t *out = (json_t *)1;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_FALSE(cr_explore_present(sc));
    CU_ASSERT_EQUAL(cr_explore_draw(sc, 1, &out, &err), CR_EINVAL);
    CU_ASSERT_PTR_NULL(out);
    cr_scen_free(sc);
}

/* Every drawn fault within its template; the schedule in time order. */
static void check_schedule(const json_t *a)
{
    size_t i, n = json_array_size(a);
    json_t *f;
    double prev = -1;
    CU_ASSERT(n >= 2 && n <= 5);
    json_array_foreach (a, i, f) {
        const char *kind = json_string_value(json_object_get(f, "kind"));
        const char *tgt = json_string_value(json_object_get(f, "target"));
        double at = json_number_value(json_object_get(f, "at_s"));
        double for_s = json_number_value(json_object_get(f, "for_s"));
        char name[64];
        CU_ASSERT_PTR_NOT_NULL_FATAL(kind);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tgt);
        snprintf(name, sizeof name, "x%zu-%s", i, kind);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "name")),
                               name);
        CU_ASSERT(at >= prev);
        prev = at;
        CU_ASSERT_PTR_NULL(json_object_get(f, "every_s"));
        if (strcmp(kind, "kill") == 0) {
            const char *sig = json_string_value(json_object_get(f, "signal"));
            CU_ASSERT(at >= 1 && at <= 4);
            CU_ASSERT_STRING_EQUAL(tgt, "worker.random");
            CU_ASSERT_PTR_NULL(json_object_get(f, "for_s"));
            CU_ASSERT(sig &&
                      (!strcmp(sig, "SIGKILL") || !strcmp(sig, "SIGTERM")));
        } else {
            CU_ASSERT_STRING_EQUAL(kind, "pause");
            CU_ASSERT(!strcmp(tgt, "feature") || !strcmp(tgt, "worker.1"));
            CU_ASSERT(for_s >= 0.5 && for_s <= 3);
            CU_ASSERT(at >= 0 && at + for_s <= 10 + 1e-9);
        }
    }
}

static void test_explore_draw(void)
{
    cr_scen *sc = load(space);
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_TRUE(cr_explore_present(sc));
    size_t sizes[6] = {0}, kinds[2] = {0};
    for (uint64_t seed = 0; seed < 200; seed++) {
        json_t *a = NULL, *b = NULL;
        CU_ASSERT_EQUAL_FATAL(cr_explore_draw(sc, seed, &a, &err), 0);
        CU_ASSERT_EQUAL_FATAL(cr_explore_draw(sc, seed, &b, &err), 0);
        CU_ASSERT_TRUE(json_equal(a, b)); /* same seed, same schedule */
        check_schedule(a);
        sizes[json_array_size(a)]++;
        size_t i;
        json_t *f;
        json_array_foreach (a, i, f)
            kinds[strcmp(json_string_value(json_object_get(f, "kind")),
                         "kill") == 0]++;
        json_decref(a);
        json_decref(b);
    }
    /* Uniform: every count of [2, 5] and both templates come up. */
    for (size_t k = 2; k <= 5; k++)
        CU_ASSERT(sizes[k] > 20);
    CU_ASSERT(kinds[0] > 100 && kinds[1] > 100);
    json_t *a = NULL, *b = NULL;
    cr_explore_draw(sc, 1, &a, &err);
    cr_explore_draw(sc, 2, &b, &err);
    CU_ASSERT_FALSE(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    cr_scen_free(sc);
}

/* A drawn schedule as the faults of the scenario (no explore) loads. */
static void test_explore_draw_is_valid(void)
{
    cr_scen *sc = load(space);
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    for (uint64_t seed = 0; seed < 30; seed++) {
        json_t *a = NULL, *doc = json_deep_copy(sc->root);
        CU_ASSERT_EQUAL_FATAL(cr_explore_draw(sc, seed, &a, &err), 0);
        json_object_del(doc, "explore");
        json_object_set_new(doc, "faults", a);
        char *text = json_dumps(doc, 0);
        cr_scen *c = load(text);
        CU_ASSERT_PTR_NOT_NULL(c);
        CU_ASSERT_FALSE(cr_explore_present(c));
        if (c) {
            CU_ASSERT_EQUAL(c->nfaults, json_array_size(a));
        }
        cr_scen_free(c);
        free(text);
        json_decref(doc);
    }
    cr_scen_free(sc);
}

/* The coverage strategy: every arm (template x target x third of the
 * start window) is tried once before any is tried twice -- the tally
 * never spreads by more than one -- with every value still inside its
 * template; the same seed and tally give the same schedule. */
static void test_explore_draw_coverage(void)
{
    cr_scen *sc = load(space);
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    /* kill: 1 target x 3 bins; pause: 2 targets x 3 bins of [0, 10]. */
    CU_ASSERT_EQUAL_FATAL(cr_explore_narms(sc), 9);
    char name[128];
    CU_ASSERT_EQUAL(cr_explore_arm_name(sc, 0, name, sizeof name), 0);
    CU_ASSERT_STRING_EQUAL(name, "kill \"worker.random\" at 1-2 s");
    CU_ASSERT_EQUAL(cr_explore_arm_name(sc, 8, name, sizeof name), 0);
    CU_ASSERT_STRING_EQUAL(name, "pause \"worker.1\" at 6.667-10 s");
    CU_ASSERT_EQUAL(cr_explore_arm_name(sc, 9, name, sizeof name), -1);
    size_t tried[9] = {0}, total = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        json_t *a = NULL, *b = NULL;
        size_t copy[9];
        memcpy(copy, tried, sizeof copy);
        CU_ASSERT_EQUAL_FATAL(cr_explore_draw_with(sc, seed,
                                                   CR_EXPLORE_COVERAGE, tried,
                                                   &a, &err),
                              0);
        CU_ASSERT_EQUAL_FATAL(
            cr_explore_draw_with(sc, seed, CR_EXPLORE_COVERAGE, copy, &b, &err),
            0);
        CU_ASSERT_TRUE(json_equal(a, b));
        CU_ASSERT_EQUAL(memcmp(copy, tried, sizeof copy), 0);
        check_schedule(a);
        total += json_array_size(a);
        size_t lo = SIZE_MAX, hi = 0, sum = 0;
        for (size_t k = 0; k < 9; k++) {
            lo = tried[k] < lo ? tried[k] : lo;
            hi = tried[k] > hi ? tried[k] : hi;
            sum += tried[k];
        }
        CU_ASSERT_EQUAL(sum, total);
        CU_ASSERT(hi - lo <= 1);
        json_decref(a);
        json_decref(b);
    }
    /* Uniform fills the same tally but does not balance it, and draws
     * exactly cr_explore_draw's schedules. */
    size_t u[9] = {0}, spread = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        json_t *a = NULL, *b = NULL;
        CU_ASSERT_EQUAL_FATAL(
            cr_explore_draw_with(sc, seed, CR_EXPLORE_UNIFORM, u, &a, &err), 0);
        CU_ASSERT_EQUAL_FATAL(cr_explore_draw(sc, seed, &b, &err), 0);
        CU_ASSERT_TRUE(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t k = 0; k < 9; k++) {
            lo = u[k] < lo ? u[k] : lo;
            hi = u[k] > hi ? u[k] : hi;
        }
        spread = hi - lo > spread ? hi - lo : spread;
    }
    CU_ASSERT(spread > 1);
    json_t *a = (json_t *)1;
    CU_ASSERT_EQUAL(
        cr_explore_draw_with(sc, 1, CR_EXPLORE_COVERAGE, NULL, &a, &err),
        CR_EINVAL);
    CU_ASSERT_PTR_NULL(a);
    cr_explore_strategy st = CR_EXPLORE_UNIFORM;
    CU_ASSERT_EQUAL(cr_explore_strategy_parse("coverage", &st), 0);
    CU_ASSERT_EQUAL(st, CR_EXPLORE_COVERAGE);
    CU_ASSERT_STRING_EQUAL(cr_explore_strategy_name(st), "coverage");
    CU_ASSERT_EQUAL(cr_explore_strategy_parse("smart", &st), -1);
    cr_scen_free(sc);
}

/* A coverage draw puts each fault inside its arm's bin: with one
 * template, one target and count 1, three schedules land one in each
 * third of the start window [1, 4]. */
static void test_explore_draw_coverage_bins(void)
{
    cr_scen *sc =
        load("{\"name\": \"t\", \"duration_s\": 10, \"services\": [{\"name\":"
             " \"w\", \"cmd\": [\"true\"]}], \"explore\": {\"count\": 1,"
             " \"faults\": [{\"kind\": \"kill\", \"target\": \"w\","
             " \"at_s\": [1, 4]}]}}");
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL_FATAL(cr_explore_narms(sc), 3);
    for (uint64_t seed = 0; seed < 10; seed++) {
        size_t tried[3] = {0};
        int bin_seen[3] = {0};
        for (int i = 0; i < 3; i++) {
            json_t *a = NULL;
            CU_ASSERT_EQUAL_FATAL(cr_explore_draw_with(sc, seed + 100 * i,
                                                       CR_EXPLORE_COVERAGE,
                                                       tried, &a, &err),
                                  0);
            double at = json_number_value(
                json_object_get(json_array_get(a, 0), "at_s"));
            CU_ASSERT(at >= 1 && at <= 4);
            int b = at < 2 ? 0 : at < 3 ? 1 : 2;
            bin_seen[b]++;
            json_decref(a);
        }
        CU_ASSERT(bin_seen[0] == 1 && bin_seen[1] == 1 && bin_seen[2] == 1);
    }
    cr_scen_free(sc);
}

/* Fail the Nth allocation of a load with a fault space until it
 * succeeds: CR_ENOMEM each time, no diagnostic, nothing leaked (ASan). */
static void test_explore_oom(void)
{
    for (long n = 1; n < 10000; n++) {
        cr_diags d = {0};
        cr_err err;
        cr_scen *sc = NULL;
        cr_err_clear(&err);
        cr_alloc_fail_after(n);
        int rc =
            cr_scen_load_buffer("t.json", space, strlen(space), &sc, &d, &err);
        cr_alloc_fail_after(-1);
        CU_ASSERT(rc == 0 || rc == CR_ENOMEM);
        CU_ASSERT(rc != 0 || sc != NULL);
        CU_ASSERT_EQUAL(d.n, 0);
        cr_diags_free(&d);
        cr_scen_free(sc);
        if (rc == 0)
            return;
    }
    CU_FAIL("the load never succeeded");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("explore", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_explore_absent);
    CR_ADD_TEST(s, test_explore_draw);
    CR_ADD_TEST(s, test_explore_draw_is_valid);
    CR_ADD_TEST(s, test_explore_draw_coverage);
    CR_ADD_TEST(s, test_explore_draw_coverage_bins);
    CR_ADD_TEST(s, test_explore_oom);
}
