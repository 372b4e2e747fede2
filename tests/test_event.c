/* Tests for cr_event: line parsing, malformed counting, load/write, sort,
 * accessors, matching and formatting; allocation failures. */
#include "base/cr_alloc.h"
#include "checks/cr_check.h"
#include "events/cr_event.h"
#include "cr_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add(cr_history *h, const char *s)
{
    return cr_history_add_line(h, s, strlen(s));
}

static void test_event_parse_kept_and_defaults(void)
{
    cr_history h;
    cr_history_init(&h, 1000.0);
    CU_ASSERT_EQUAL(add(&h, "{\"ts\":1001.5,\"ev\":\"ready\"}\n"), 1);
    CU_ASSERT_EQUAL(add(&h, "{\"ts\":1002,\"svc\":\"w\",\"ev\":\"retry\","
                            "\"op\":\"x\",\"attempt\":2}\r\n"),
                    1);
    CU_ASSERT_EQUAL(h.n, 2);
    CU_ASSERT_STRING_EQUAL(h.v[0].svc, "");
    CU_ASSERT_STRING_EQUAL(h.v[0].ev, "ready");
    CU_ASSERT_DOUBLE_EQUAL(h.v[0].t, 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(h.v[1].t, 2.0, 1e-9);
    CU_ASSERT_STRING_EQUAL(h.v[1].svc, "w");
    CU_ASSERT_EQUAL(h.v[1].seq, 1);
    CU_ASSERT_EQUAL(h.malformed, 0);
    CU_ASSERT_STRING_EQUAL(cr_event_str(&h.v[1], "op"), "x");
    CU_ASSERT_PTR_NULL(cr_event_str(&h.v[1], "attempt"));
    CU_ASSERT_DOUBLE_EQUAL(cr_event_num(&h.v[1], "attempt"), 2.0, 0);
    CU_ASSERT(isnan(cr_event_num(&h.v[1], "op")));
    CU_ASSERT(isnan(cr_event_num(&h.v[1], "missing")));
    CU_ASSERT(cr_event_has(&h.v[1], "op"));
    CU_ASSERT(!cr_event_has(&h.v[1], "nope"));
    cr_history_free(&h);
    CU_ASSERT_EQUAL(h.n, 0);
    cr_history_free(&h); /* twice is fine */
    cr_history_free(NULL);
}

static void test_event_malformed_counted(void)
{
    static const char *bad[] = {
        "not json",
        "[1,2]",
        "{\"ev\":\"x\"}",              /* no ts */
        "{\"ts\":\"1\",\"ev\":\"x\"}", /* ts not a number */
        "{\"ts\":1}",                  /* no ev */
        "{\"ts\":1,\"ev\":3}",         /* ev not a string */
        "{\"ts\":1,\"ev\":\"x\"",      /* truncated (writer died) */
        "42",
    };
    cr_history h;
    cr_history_init(&h, 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(add(&h, bad[i]), 0);
    CU_ASSERT_EQUAL(h.n, 0);
    CU_ASSERT_EQUAL(h.malformed, sizeof bad / sizeof *bad);
    CU_ASSERT_STRING_EQUAL(h.first_malformed, "not json");
    /* a very long malformed line is truncated, not overflowed */
    cr_history h2;
    cr_history_init(&h2, 0);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(add(&h2, big), 0);
    CU_ASSERT_EQUAL(strlen(h2.first_malformed), sizeof h2.first_malformed - 1);
    /* svc of the wrong type defaults to "" rather than rejecting */
    CU_ASSERT_EQUAL(add(&h2, "{\"ts\":1,\"ev\":\"x\",\"svc\":5}"), 1);
    CU_ASSERT_STRING_EQUAL(h2.v[0].svc, "");
    /* add_obj validates and steals */
    CU_ASSERT_EQUAL(cr_history_add_obj(&h2, json_pack("{s:i}", "ts", 3)), 0);
    CU_ASSERT_EQUAL(h2.malformed, 2);
    CU_ASSERT_EQUAL(
        cr_history_add_obj(&h2, json_pack("{s:f,s:s}", "ts", 2.0, "ev", "y")),
        1);
    CU_ASSERT_EQUAL(h2.n, 2);
    CU_ASSERT_EQUAL(cr_history_add_obj(&h2, NULL), CR_ENOMEM);
    cr_history_free(&h);
    cr_history_free(&h2);
}

static void test_event_sort_stable(void)
{
    cr_history h;
    cr_history_init(&h, 0);
    add(&h, "{\"ts\":3,\"ev\":\"a\"}");
    add(&h, "{\"ts\":1,\"ev\":\"b\"}");
    add(&h, "{\"ts\":3,\"ev\":\"c\"}");
    add(&h, "{\"ts\":1,\"ev\":\"d\"}");
    add(&h, "{\"ts\":2,\"ev\":\"e\"}");
    cr_history_sort(&h);
    const char *want[] = {"b", "d", "e", "a", "c"};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(h.v[i].ev, want[i]);
    cr_history_free(&h);
}

static void test_event_load_write_roundtrip(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char in[512], out[512];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    FILE *fp = fopen(in, "w");
    fputs("{\"ts\":10.5,\"svc\":\"a\",\"ev\":\"x\",\"id\":1}\n\n   \n"
          "garbage\n{\"ts\":11,\"ev\":\"y\"}",
          fp); /* last line: no newline */
    fclose(fp);
    cr_history h;
    cr_err err;
    cr_err_clear(&err);
    cr_history_init(&h, 10);
    CU_ASSERT_EQUAL(cr_history_load(&h, in, &err), 0);
    CU_ASSERT_EQUAL(h.n, 2);
    CU_ASSERT_EQUAL(h.malformed, 1);
    CU_ASSERT_STRING_EQUAL(h.first_malformed, "garbage");
    CU_ASSERT_EQUAL(cr_history_write(&h, out, &err), 0);
    cr_history h2;
    cr_history_init(&h2, 10);
    CU_ASSERT_EQUAL(cr_history_load(&h2, out, &err), 0);
    CU_ASSERT_EQUAL(h2.n, 2);
    CU_ASSERT_EQUAL(h2.malformed, 0);
    for (int k = 0; k < 2; k++) {
        json_t *a = cr_event_to_json(&h.v[k]), *b = cr_event_to_json(&h2.v[k]);
        CU_ASSERT(a && b && json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
    cr_history_free(&h2);
    /* error paths name the file */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.jsonl", dir);
    CU_ASSERT_EQUAL(cr_history_load(&h2, missing, &err), CR_ESYS);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "none.jsonl"));
    cr_err_clear(&err);
    snprintf(missing, sizeof missing, "%s/nodir/x.jsonl", dir);
    CU_ASSERT_EQUAL(cr_history_write(&h, missing, &err), CR_ESYS);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nodir"));
    cr_history_free(&h);
    unlink(in);
    unlink(out);
    rmdir(dir);
    free(dir);
}

/* jansson's reading of a line, as the history used to keep it: 1 when it
 * is an object with a finite numeric ts and a string ev. */
static int jansson_keeps(const char *line)
{
    json_t *o = json_loads(line, JSON_DECODE_ANY, NULL);
    const json_t *ts = json_object_get(o, "ts");
    int ok = json_is_object(o) && json_is_number(ts) &&
             isfinite(json_number_value(ts)) &&
             json_is_string(json_object_get(o, "ev"));
    json_decref(o);
    return ok;
}

static const char *const corpus[] = {
    "{\"ts\":1,\"ev\":\"x\"}",
    "{\"ts\":1.5e3,\"ev\":\"x\",\"n\":null,\"t\":true,\"f\":false}",
    "{\"ts\":1,\"ev\":\"x\",\"big\":9223372036854775807}",
    "{\"ts\":1,\"ev\":\"x\",\"big\":9223372036854775808}", /* > 64 bits */
    "{\"ts\":1,\"ev\":\"x\",\"neg\":-9223372036854775808}",
    "{\"ts\":1,\"ev\":\"x\",\"r\":1e999}",         /* real overflow */
    "{\"ts\":1,\"ev\":\"x\",\"r\":1e-999}",        /* underflow: kept */
    "{\"ts\":1,\"ev\":\"x\",\"s\":\"a\\u0000b\"}", /* NUL */
    "{\"ts\":1,\"ev\":\"x\",\"s\":\"\\u00e9\\n\\\"\\ud83d\\ude00\"}",
    "{\"ts\":1,\"ev\":\"x\"} {\"ts\":2,\"ev\":\"y\"}", /* two values */
    "{\"ts\":1,\"ev\":\"x\"} 7",
    "{\"ts\":-1,\"ev\":\"\"}\"", /* an unfinished token after it */
    "{\"ts\":-1,\"ev\":\"\"} [",
    "{\"ts\":-1,\"ev\":\"\"} \t ",
    "{\"ts\":-1,\"ev\":\"\"\v}", /* not JSON whitespace */
    "{\"ts\":1,\"ev\":\"x\",\"svc\":\"a\",\"svc\":7,\"svc\":\"b\"}",
    "{\"ts\":1,\"ev\":\"x\",\"svc\":\"a\",\"svc\":7}",
    "{\"ts\":1,\"ev\":\"x\",\"inst\":[1],\"inst\":\"i\"}",
    "{\"ts\":-1,\f\"ev\":\"\"}",
    "{\"ts\":1,\"ev\":\"x\"} /* c */",
    "{\"ts\":1,\"ev\":\"x\",}",
    "{\"ts\":NaN,\"ev\":\"x\"}",
    "{\"ts\":1,\"ts\":\"a\",\"ev\":\"x\"}", /* the last ts counts */
    "{\"ts\":\"a\",\"ts\":2,\"ev\":\"x\"}",
    "{\"ts\":1,\"ev\":{\"a\":1}}",
    "{\"ts\":[1],\"ev\":\"x\"}",
    "{\"ts\":1,\"ev\":\"x\",\"a\":{\"b\":[1,2.5,{\"c\":null}],\"d\":\"e\"}}",
    "{\"ts\":1,\"ev\":\"x\",\"a\":[1,9223372036854775808]}",
    "{\"ts\":1,\"ev\":\"x\",\"a\":[\"\\u0000\"]}",
    "{\"ts\":1,\"ev\":\"x\",\"\\u0000\":1}",
    "{\"ts\":1,\"ev\":\"\xff\"}",             /* not UTF-8 */
    "{\"ts\":1,\"ev\":\"\xc0\x80\"}",         /* overlong */
    "{\"ts\":1,\"ev\":\"\xed\xa0\x80\"}",     /* an encoded surrogate */
    "{\"ts\":1,\"ev\":\"\xf4\x90\x80\x80\"}", /* beyond U+10FFFF */
    "{\"ts\":1,\"ev\":\"\xe2\x82\"}",         /* cut short */
    "{\"ts\":1,\"ev\":\"x\",\"k\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}",
    "{\"ts\":1,\"ev\":\"\\ud800\"}", /* a lone surrogate escape */
    "{\"ts\":1,\"ev\":\"\\udc00\\ud800\"}",
    "{\"ts\":1,\"ev\":\"x\",\"k\":\"\\\\ud800\"}", /* not an escape */
    "{\"ts\":1,\"ev\":\"x\",\"k\":[\"\\ud800\"]}",
    "{\"ts\":1,\"ev\":\"x\",\"a\":[}",
    "",
    "null",
    "\"{}\"",
    "{\"ts\":1,\"ev\":\"x\",\"svc\":5,\"inst\":[1]}",
};

/* The streaming reader keeps exactly the lines jansson kept, and reads
 * every value the way jansson does. */
static void test_event_reader_agrees_with_jansson(void)
{
    cr_history h;
    cr_history_init(&h, 0);
    for (size_t i = 0; i < sizeof corpus / sizeof *corpus; i++) {
        size_t before = h.n;
        int r = add(&h, corpus[i]);
        if (r != jansson_keeps(corpus[i]))
            fprintf(stderr, "\n  disagreement on line %zu: %s (kept %d)\n", i,
                    corpus[i], r);
        CU_ASSERT_EQUAL(r, jansson_keeps(corpus[i]));
        if (r != 1 || h.n != before + 1)
            continue;
        /* the event, written back, is the line jansson read (ts as real) */
        json_t *want = json_loads(corpus[i], JSON_DECODE_ANY, NULL);
        json_object_set_new(
            want, "ts",
            json_real(json_number_value(json_object_get(want, "ts"))));
        json_t *got = cr_event_to_json(&h.v[before]);
        CU_ASSERT(got && json_equal(want, got));
        json_decref(want);
        json_decref(got);
    }
    cr_history_free(&h);
}

static void test_event_compact_accessors(void)
{
    cr_history h;
    cr_history_init(&h, 0);
    CU_ASSERT_EQUAL(
        add(&h,
            "{\"ts\":3,\"svc\":\"w\",\"inst\":\"w.1\",\"ev\":\"x\","
            "\"id\":-12345678901,\"attempt\":2.5,\"graceful\":false,"
            "\"a_rather_long_key_of_its_own\":\"v w\",\"nul\":null,"
            "\"obj\":{\"k\":[1,\"two\"]},\"op\":\"first\",\"op\":\"last\"}"),
        1);
    const cr_event *e = &h.v[0];
    long long i = 0;
    CU_ASSERT(cr_event_int(e, "id", &i));
    CU_ASSERT_EQUAL(i, -12345678901LL);
    CU_ASSERT(!cr_event_int(e, "attempt", &i)); /* a real, not an integer */
    CU_ASSERT_DOUBLE_EQUAL(cr_event_num(e, "attempt"), 2.5, 0);
    CU_ASSERT_EQUAL(cr_event_bool(e, "graceful"), 0);
    CU_ASSERT_EQUAL(cr_event_bool(e, "nul"), -1);
    CU_ASSERT(cr_event_has(e, "nul"));
    CU_ASSERT_STRING_EQUAL(cr_event_str(e, "a_rather_long_key_of_its_own"),
                           "v w");
    CU_ASSERT_STRING_EQUAL(cr_event_str(e, "op"), "last"); /* last wins */
    CU_ASSERT_STRING_EQUAL(cr_event_str(e, "inst"), "w.1");
    CU_ASSERT_STRING_EQUAL(cr_event_str(e, "svc"), "w");
    CU_ASSERT_STRING_EQUAL(cr_event_str(e, "ev"), "x");
    CU_ASSERT_DOUBLE_EQUAL(cr_event_num(e, "ts"), 3.0, 0);
    json_t *o = cr_event_json(e, "obj"),
           *want = json_pack("{s:[i,s]}", "k", 1, "two");
    CU_ASSERT(o && json_equal(o, want));
    json_decref(o);
    json_decref(want);
    CU_ASSERT_PTR_NULL(cr_event_json(e, "absent"));
    /* names are interned: one copy per history */
    CU_ASSERT_EQUAL(
        add(&h, "{\"ts\":4,\"svc\":\"w\",\"inst\":\"w.1\",\"ev\":\"x\"}"), 1);
    CU_ASSERT_PTR_EQUAL(h.v[0].svc, h.v[1].svc);
    CU_ASSERT_PTR_EQUAL(h.v[0].ev, h.v[1].ev);
    CU_ASSERT_PTR_EQUAL(h.v[0].inst, h.v[1].inst);
    /* a match on a nested value */
    cr_match m = {.ev = "x",
                  .where = json_pack("{s:{s:[i,s]}}", "obj", "k", 1, "two")};
    CU_ASSERT(cr_match_event(&m, &h.v[0]));
    CU_ASSERT(!cr_match_event(&m, &h.v[1]));
    json_decref(m.where);
    /* "svc":"" is written back; an absent svc is not */
    CU_ASSERT_EQUAL(add(&h, "{\"ts\":5,\"svc\":\"\",\"ev\":\"y\"}"), 1);
    json_t *a = cr_event_to_json(&h.v[2]), *b = cr_event_to_json(&h.v[1]);
    CU_ASSERT(json_object_get(a, "svc") != NULL);
    CU_ASSERT_STRING_EQUAL(h.v[2].svc, "");
    json_decref(a);
    json_decref(b);
    cr_history_free(&h);
}

/* A bench-like line takes well under 100 bytes in memory (the goal of
 * issue 20; jansson's objects took about 1,080). */
static void test_event_compact_size(void)
{
    cr_history h;
    cr_history_init(&h, 1764000000.0);
    char line[256];
    size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        int len =
            snprintf(line, sizeof line,
                     i % 2 ? "{\"ts\":%.6f,\"svc\":\"sink\",\"ev\":"
                             "\"delivered\",\"id\":\"%zu\",\"latency_ms\":%zu}"
                           : "{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":"
                             "\"worker.1\",\"ev\":\"retry\",\"op\":\"fetch\","
                             "\"attempt\":1,\"delay_ms\":%zu}",
                     1764000000.0 + (double)i / 1000, i, i % 50);
        CU_ASSERT_EQUAL_FATAL(cr_history_add_line(&h, line, (size_t)len), 1);
    }
    double per = (double)cr_history_mem(&h) / (double)n;
    if (per >= 100)
        fprintf(stderr, "\n  %.1f bytes per event\n", per);
    CU_ASSERT(per < 100);
    cr_history_free(&h);
}

/* Nearly sorted input sorts in place; far-off input falls back to qsort;
 * both give the same stable order. */
static void test_event_sort_far_off(void)
{
    for (int far = 0; far < 2; far++) {
        cr_history h;
        cr_history_init(&h, 0);
        char line[128];
        size_t n = 5000;
        for (size_t i = 0; i < n; i++) {
            double ts = (double)i + ((i % 3) ? 0.0 : -2.5); /* nearly */
            if (far && i % 2)
                ts = (double)(n - i); /* a clock far off: half reversed */
            int len = snprintf(line, sizeof line,
                               "{\"ts\":%.3f,\"ev\":\"e\",\"i\":%zu}", ts, i);
            cr_history_add_line(&h, line, (size_t)len);
        }
        cr_history_sort(&h);
        for (size_t i = 1; i < n; i++) {
            const cr_event *a = &h.v[i - 1], *b = &h.v[i];
            CU_ASSERT_FATAL(a->ts < b->ts ||
                            (a->ts == b->ts && a->seq < b->seq));
        }
        cr_history_free(&h);
    }
}

static void test_event_match(void)
{
    cr_history h;
    cr_history_init(&h, 0);
    add(&h,
        "{\"ts\":1,\"svc\":\"worker\",\"inst\":\"worker.1\",\"ev\":\"retry\","
        "\"op\":\"db\",\"attempt\":3,\"error\":\"timeout\"}");
    const cr_event *e = &h.v[0];
    cr_match m = {.ev = "retry"};
    CU_ASSERT(cr_match_event(&m, e));
    m.ev = "giveup";
    CU_ASSERT(!cr_match_event(&m, e));
    m.ev = "retry";
    m.svc = "worker";
    CU_ASSERT(cr_match_event(&m, e));
    m.svc = "worker.1"; /* instance name also matches */
    CU_ASSERT(cr_match_event(&m, e));
    m.svc = "worker.2";
    CU_ASSERT(!cr_match_event(&m, e));
    m.svc = NULL;
    m.where = json_pack("{s:s,s:f}", "op", "db", "attempt", 3.0); /* 3 == 3.0 */
    CU_ASSERT(cr_match_event(&m, e));
    json_object_set_new(m.where, "error", json_string("refused"));
    CU_ASSERT(!cr_match_event(&m, e));
    json_object_set_new(m.where, "error", json_string("timeout"));
    json_object_set_new(m.where, "absent", json_true());
    CU_ASSERT(!cr_match_event(&m, e));
    json_decref(m.where);
    m.where = json_pack("{s:s}", "attempt", "3"); /* string vs number */
    CU_ASSERT(!cr_match_event(&m, e));
    json_decref(m.where);
    cr_history_free(&h);
}

static void test_event_format(void)
{
    cr_history h;
    cr_history_init(&h, 100);
    add(&h, "{\"ts\":112.3456,\"svc\":\"worker\",\"inst\":\"worker.1\",\"ev\":"
            "\"retry\","
            "\"op\":\"feature\",\"attempt\":3,\"delay_ms\":400,\"error\":"
            "\"conn refused\","
            "\"x\":[1]}");
    add(&h, "{\"ts\":100,\"ev\":\"ready\"}");
    char buf[256];
    cr_event_format(&h.v[0], buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "t=12.346 worker.1 retry op=feature attempt=3 "
                                "delay_ms=400 error=\"conn refused\" x=[1]");
    cr_event_format(&h.v[1], buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "t=0.000 ready");
    char tiny[10];
    cr_event_format(&h.v[0], tiny, sizeof tiny);
    CU_ASSERT_EQUAL(strlen(tiny), 9);
    CU_ASSERT_STRING_EQUAL(tiny, "t=12.346 ");
    cr_history_free(&h);
}

static void test_event_oom_loop(void)
{
    /* Fail the n-th allocation for n = 1, 2, ... until everything works:
     * never a crash or a leak (ASan build).  jansson reports most of its
     * own allocation failures as syntax errors, so such a line may be
     * counted malformed: every line is accounted for either way. */
    cr_alloc_install_json();
    for (long n = 1; n < 10000; n++) {
        cr_history h;
        cr_history_init(&h, 0);
        cr_alloc_fail_after(n);
        int rc = 0;
        int i;
        for (i = 0; i < 100 && rc >= 0; i++)
            rc = add(&h, "{\"ts\":1,\"ev\":\"x\",\"a\":[1,2,{\"b\":\"c\"}]}");
        cr_alloc_fail_after(0);
        CU_ASSERT_EQUAL(h.n + h.malformed + (rc < 0), (size_t)i);
        if (rc >= 0 && h.malformed == 0) {
            CU_ASSERT_EQUAL(h.n, 100);
            cr_history_free(&h);
            break;
        }
        CU_ASSERT(rc >= 0 || rc == CR_ENOMEM);
        cr_history_free(&h);
    }
}

static void test_event_result_helpers(void)
{
    CU_ASSERT_STRING_EQUAL(cr_verdict_name(CR_VERDICT_PASSED), "passed");
    CU_ASSERT_STRING_EQUAL(cr_verdict_name(CR_VERDICT_FAILED), "failed");
    CU_ASSERT_STRING_EQUAL(cr_verdict_name(CR_VERDICT_UNKNOWN), "unknown");
    cr_result r;
    cr_result_init(&r);
    CU_ASSERT_EQUAL(r.verdict, CR_VERDICT_UNKNOWN);
    for (int i = 0; i < 60; i++)
        cr_result_evidence(&r, i, "line %d", i);
    CU_ASSERT_EQUAL(json_array_size(r.evidence), 50);
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(r.details, "evidence_omitted")), 10);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
                               json_array_get(r.evidence, 3), "text")),
                           "line 3");
    cr_result_set(&r, CR_VERDICT_FAILED, "lost %d of %d", 2, 10);
    CU_ASSERT_EQUAL(r.verdict, CR_VERDICT_FAILED);
    CU_ASSERT_STRING_EQUAL(r.summary, "lost 2 of 10");
    cr_result_free(&r);
    cr_result_free(&r);
    cr_result_free(NULL);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("event", NULL, NULL);
    CR_ADD_TEST(s, test_event_parse_kept_and_defaults);
    CR_ADD_TEST(s, test_event_malformed_counted);
    CR_ADD_TEST(s, test_event_sort_stable);
    CR_ADD_TEST(s, test_event_load_write_roundtrip);
    CR_ADD_TEST(s, test_event_reader_agrees_with_jansson);
    CR_ADD_TEST(s, test_event_compact_accessors);
    CR_ADD_TEST(s, test_event_compact_size);
    CR_ADD_TEST(s, test_event_sort_far_off);
    CR_ADD_TEST(s, test_event_match);
    CR_ADD_TEST(s, test_event_format);
    CR_ADD_TEST(s, test_event_oom_loop);
    CR_ADD_TEST(s, test_event_result_helpers);
}
