/* Tests for cr_fmt: the words and numbers every report writer shares
 * (durations, measured figures, times, bounds, verdicts, faults, seed,
 * machine), including their edges: NAN, truncation, unknown words. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "reports/cr_fmt.h"
#include "cr_test.h"

static void test_report_fmt_durations(void)
{
    char b[32];
    cr_fmt_dur(b, sizeof b, 0.25);
    CU_ASSERT_STRING_EQUAL(b, "250 ms");
    cr_fmt_dur(b, sizeof b, 1.844);
    CU_ASSERT_STRING_EQUAL(b, "1.84 s");
    cr_fmt_dur(b, sizeof b, 12.51);
    CU_ASSERT_STRING_EQUAL(b, "12.5 s");
    cr_fmt_dur(b, sizeof b, 125);
    CU_ASSERT_STRING_EQUAL(b, "2 min 5 s");
    cr_fmt_dur(b, sizeof b, -0.004);
    CU_ASSERT_STRING_EQUAL(b, "-4 ms");
    cr_fmt_dur(b, sizeof b, NAN);
    CU_ASSERT_STRING_EQUAL(b, "n/a");
    /* Truncated, never overrun. */
    char small[4];
    cr_fmt_dur(small, sizeof small, 125);
    CU_ASSERT_STRING_EQUAL(small, "2 m");
}

static void test_report_fmt_measured(void)
{
    char b[64];
    cr_fmt_measured(b, sizeof b, 7.4, "s");
    CU_ASSERT_STRING_EQUAL(b, "7.40 s");
    cr_fmt_measured(b, sizeof b, 3, "records");
    CU_ASSERT_STRING_EQUAL(b, "3 records");
    cr_fmt_measured(b, sizeof b, 0.251, "ratio");
    CU_ASSERT_STRING_EQUAL(b, "0.251 ratio");
    cr_fmt_measured(b, sizeof b, 123.6, "ms");
    CU_ASSERT_STRING_EQUAL(b, "124 ms");
    cr_fmt_measured(b, sizeof b, 2, "");
    CU_ASSERT_STRING_EQUAL(b, "2");
    cr_fmt_measured(b, sizeof b, 2.5, NULL);
    CU_ASSERT_STRING_EQUAL(b, "2.5");
    cr_fmt_measured(b, sizeof b, NAN, "s");
    CU_ASSERT_STRING_EQUAL(b, "n/a");
    cr_rep_expect x = {.has_measured = 1, .measured = 61, .unit = "ids"};
    cr_fmt_expect_measured(b, sizeof b, &x);
    CU_ASSERT_STRING_EQUAL(b, "61 ids");
    x.has_measured = 0;
    cr_fmt_expect_measured(b, sizeof b, &x);
    CU_ASSERT_STRING_EQUAL(b, "\xE2\x80\x94");
    cr_fmt_expect_measured(b, sizeof b, NULL);
    CU_ASSERT_STRING_EQUAL(b, "\xE2\x80\x94");
}

static void test_report_fmt_times(void)
{
    char b[40];
    cr_fmt_utc(b, sizeof b, 1764200000.12);
    CU_ASSERT_STRING_EQUAL(b, "2025-11-26 23:33:20 UTC");
    cr_fmt_utc(b, sizeof b, NAN);
    CU_ASSERT_STRING_EQUAL(b, "");
    cr_fmt_iso(b, sizeof b, 1764200000.12);
    CU_ASSERT_STRING_EQUAL(b, "2025-11-26T23:33:20");
    cr_fmt_iso(b, sizeof b, NAN);
    CU_ASSERT_STRING_EQUAL(b, "1970-01-01T00:00:00");
    /* A buffer too small for the time gives "", not half a date. */
    char small[8];
    cr_fmt_utc(small, sizeof small, 1764200000.12);
    CU_ASSERT_STRING_EQUAL(small, "");
    CU_ASSERT_STRING_EQUAL(cr_fmt_s(1), "");
    CU_ASSERT_STRING_EQUAL(cr_fmt_s(0), "s");
    CU_ASSERT_STRING_EQUAL(cr_fmt_s(2), "s");
}

static void test_report_fmt_bounds(void)
{
    cr_fmt_bound b;
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("<= 5", &b), 0);
    CU_ASSERT_STRING_EQUAL(b.op, "<=");
    CU_ASSERT_DOUBLE_EQUAL(b.value, 5, 1e-12);
    CU_ASSERT_EQUAL(b.better, -1);
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("  >=100", &b), 0);
    CU_ASSERT_STRING_EQUAL(b.op, ">=");
    CU_ASSERT_DOUBLE_EQUAL(b.value, 100, 1e-12);
    CU_ASSERT_EQUAL(b.better, 1);
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("< 0.5", &b), 0);
    CU_ASSERT_STRING_EQUAL(b.op, "<");
    CU_ASSERT_EQUAL(b.better, -1);
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("== 0", &b), 0);
    CU_ASSERT_EQUAL(b.better, 0);
    CU_ASSERT_DOUBLE_EQUAL(b.value, 0, 1e-12);
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("> lots", &b), 0);
    CU_ASSERT(isnan(b.value));
    CU_ASSERT_EQUAL(cr_fmt_bound_parse("about 5", &b), -1);
    CU_ASSERT_STRING_EQUAL(b.op, "");
    CU_ASSERT(isnan(b.value));
    CU_ASSERT_EQUAL(cr_fmt_bound_parse(NULL, &b), -1);
    char p[32];
    cr_fmt_bound_pretty(p, sizeof p, "<= 5");
    CU_ASSERT_STRING_EQUAL(p, "\xE2\x89\xA4 5");
    cr_fmt_bound_pretty(p, sizeof p, ">= 1");
    CU_ASSERT_STRING_EQUAL(p, "\xE2\x89\xA5 1");
    cr_fmt_bound_pretty(p, sizeof p, "== 0");
    CU_ASSERT_STRING_EQUAL(p, "= 0");
    cr_fmt_bound_pretty(p, sizeof p, "!= 0");
    CU_ASSERT_STRING_EQUAL(p, "\xE2\x89\xA0 0");
    cr_fmt_bound_pretty(p, sizeof p, "< 3");
    CU_ASSERT_STRING_EQUAL(p, "< 3");
    cr_fmt_bound_pretty(p, sizeof p, "in [1, 2]");
    CU_ASSERT_STRING_EQUAL(p, "in [1, 2]");
}

static void test_report_fmt_verdicts(void)
{
    static const char *const words[] = {"passed",      "failed",     "unknown",
                                        "interrupted", "unrunnable", "error"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const cr_fmt_verdict *v = cr_fmt_verdict_of(words[i]);
        CU_ASSERT_STRING_EQUAL(v->word, words[i]);
        CU_ASSERT_STRING_EQUAL(v->css, words[i]);
        /* The Markdown badge says the word, not only an emoji. */
        CU_ASSERT_PTR_NOT_NULL(strstr(v->md, words[i]));
    }
    CU_ASSERT_STRING_EQUAL(cr_fmt_verdict_of("failed")->md,
                           "\xE2\x9D\x8C failed");
    CU_ASSERT_STRING_EQUAL(cr_fmt_verdict_of("passed")->icon, "\xE2\x9C\x94");
    /* A word the table does not know is never a pass. */
    CU_ASSERT_STRING_EQUAL(cr_fmt_verdict_of("weird")->word, "unknown");
    CU_ASSERT_STRING_EQUAL(cr_fmt_verdict_of(NULL)->word, "unknown");
    /* Suite order: error, unrunnable, interrupted, failed, passed. */
    CU_ASSERT(cr_fmt_verdict_of("error")->severity <
              cr_fmt_verdict_of("unrunnable")->severity);
    CU_ASSERT(cr_fmt_verdict_of("unrunnable")->severity <
              cr_fmt_verdict_of("interrupted")->severity);
    CU_ASSERT(cr_fmt_verdict_of("interrupted")->severity <
              cr_fmt_verdict_of("failed")->severity);
    CU_ASSERT(cr_fmt_verdict_of("failed")->severity <
              cr_fmt_verdict_of("passed")->severity);
    CU_ASSERT_EQUAL(cr_fmt_verdict_of("weird")->severity, 0);
}

static void test_report_fmt_faults(void)
{
    char b[128];
    cr_rep_fault f = {.name = "kill-worker",
                      .kind = "kill",
                      .target = "worker.1",
                      .outcome = "applied",
                      .occurrence = 0,
                      .start = 6.21,
                      .end = 6.21,
                      .instant = 1};
    cr_fmt_fault_name(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "kill-worker");
    f.occurrence = 2;
    cr_fmt_fault_name(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "kill-worker #3");
    cr_fmt_fault_lasted(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "instant");
    cr_fmt_fault_line(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "kill-worker (kill) on worker.1 at 6.21 s");
    f.instant = 0;
    f.end = 10.22;
    cr_fmt_fault_lasted(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "4.01 s");
    f.open = 1;
    cr_fmt_fault_lasted(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "4.01 s (never reverted)");
    f.target = "";
    cr_fmt_fault_line(b, sizeof b, &f);
    CU_ASSERT_STRING_EQUAL(b, "kill-worker (kill) on - at 6.21 s");
    cr_fmt_fault_verb(b, sizeof b, "kill");
    CU_ASSERT_STRING_EQUAL(b, "killed");
    cr_fmt_fault_verb(b, sizeof b, "pause");
    CU_ASSERT_STRING_EQUAL(b, "paused");
    cr_fmt_fault_verb(b, sizeof b, "netem");
    CU_ASSERT_STRING_EQUAL(b, "hit by a netem fault");
}

static void test_report_fmt_seed_and_machine(void)
{
    char b[160];
    cr_report r = {0};
    cr_fmt_seed(b, sizeof b, &r);
    CU_ASSERT_STRING_EQUAL(b, "");
    r.has_seed = 1;
    r.seed = 42;
    cr_fmt_seed(b, sizeof b, &r);
    CU_ASSERT_STRING_EQUAL(b, "42");
    r.seed_source = "command line";
    cr_fmt_seed(b, sizeof b, &r);
    CU_ASSERT_STRING_EQUAL(b, "42 (command line)");
    json_t *j = json_loads("{\"machine\":{\"hostname\":\"ci-7\",\"kernel\":"
                           "\"6.18.0\",\"cpus\":2}}",
                           0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    cr_fmt_machine(b, sizeof b, j);
    CU_ASSERT_STRING_EQUAL(b, "ci-7 \xC2\xB7 Linux 6.18.0 \xC2\xB7 2 CPUs");
    json_object_set_new(json_object_get(j, "machine"), "cpus", json_integer(1));
    json_object_del(json_object_get(j, "machine"), "kernel");
    cr_fmt_machine(b, sizeof b, j);
    CU_ASSERT_STRING_EQUAL(b, "ci-7 \xC2\xB7 1 CPU");
    json_object_del(j, "machine");
    cr_fmt_machine(b, sizeof b, j);
    CU_ASSERT_STRING_EQUAL(b, "");
    cr_fmt_machine(b, sizeof b, NULL);
    CU_ASSERT_STRING_EQUAL(b, "");
    json_decref(j);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("report_fmt", NULL, NULL);
    CR_ADD_TEST(s, test_report_fmt_durations);
    CR_ADD_TEST(s, test_report_fmt_measured);
    CR_ADD_TEST(s, test_report_fmt_times);
    CR_ADD_TEST(s, test_report_fmt_bounds);
    CR_ADD_TEST(s, test_report_fmt_verdicts);
    CR_ADD_TEST(s, test_report_fmt_faults);
    CR_ADD_TEST(s, test_report_fmt_seed_and_machine);
}
