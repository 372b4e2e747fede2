/* Tests of the command line's pieces that are pure functions: the command
 * table against the usage text and README.md, the colour decision
 * (--color, NO_COLOR, TERM) on a real pseudo-terminal, and what shrink and
 * explore build runs from (a journal's concrete schedule, concrete
 * scenario documents, --budget durations). */
#include "cli/cr_cli.h"
#include "cli/cr_cli_internal.h"
#include "cr_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The usage text, captured. */
static char usage_buf[16384];

static const char *usage_text(void)
{
    FILE *fp = fmemopen(usage_buf, sizeof usage_buf - 1, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    cr_cli_usage(fp);
    fclose(fp);
    return usage_buf;
}

/* Every visible command has a line "  NAME ARGS  SUMMARY" in the usage's
 * Commands block; the hidden janitor has none. */
static void test_cli_usage_lists_every_command(void)
{
    const char *u = usage_text();
    const char *blk = strstr(u, "\nCommands");
    CU_ASSERT_PTR_NOT_NULL_FATAL(blk);
    size_t n = 0;
    for (const cr_cli_cmd *c = cr_cli_commands(); c->name; c++) {
        char line[200];
        snprintf(line, sizeof line, "\n  %s ", c->name);
        if (c->hidden) {
            CU_ASSERT_PTR_NULL(strstr(u, c->name));
            continue;
        }
        n++;
        if (!strstr(blk, line) || !strstr(blk, c->summary)) {
            fprintf(stderr, "usage text lacks the command %s\n", c->name);
            CU_FAIL("a command is missing from the usage text");
        }
        CU_ASSERT(*c->summary != '\0');
    }
    CU_ASSERT(n >= 10);
}

/* README.md names every visible command in a `chaosrun NAME` example. */
static void test_cli_readme_names_every_command(void)
{
    FILE *fp = fopen(cr_test_src("README.md"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static char text[1 << 18];
    size_t len = fread(text, 1, sizeof text - 1, fp);
    text[len] = '\0';
    fclose(fp);
    for (const cr_cli_cmd *c = cr_cli_commands(); c->name; c++) {
        char w[100];
        snprintf(w, sizeof w, "chaosrun %s", c->name);
        if (c->hidden || !strcmp(c->name, "run") || !strcmp(c->name, "help"))
            continue;
        if (!strstr(text, w)) {
            fprintf(stderr, "README.md never shows `%s`\n", w);
            CU_FAIL("README.md misses a command");
        }
    }
}

static void test_cli_color_parse(void)
{
    CU_ASSERT_EQUAL(cr_cli__color_parse("auto"), CR_COLOR_AUTO);
    CU_ASSERT_EQUAL(cr_cli__color_parse("always"), CR_COLOR_ALWAYS);
    CU_ASSERT_EQUAL(cr_cli__color_parse("never"), CR_COLOR_NEVER);
    CU_ASSERT_EQUAL(cr_cli__color_parse("yes"), -1);
    CU_ASSERT_EQUAL(cr_cli__color_parse(""), -1);
    CU_ASSERT_EQUAL(cr_cli__color_parse(NULL), -1);
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(0, "red"), "");
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(1, "red"), "\033[31m");
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(1, "nonsense"), "");
}

/* auto: a terminal, NO_COLOR unset or empty, TERM not dumb. */
static void test_cli_color_auto(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        CU_FAIL("no pseudo-terminal");
        return;
    }
    int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    CU_ASSERT_FATAL(s >= 0);
    FILE *tty = fdopen(s, "w");
    FILE *file = tmpfile();
    CU_ASSERT_FATAL(tty && file);
    unsetenv("NO_COLOR");
    setenv("TERM", "xterm", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, file), 0);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_ALWAYS, file), 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_NEVER, tty), 0);
    setenv("NO_COLOR", "", 1); /* empty: as if unset (no-color.org) */
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    setenv("NO_COLOR", "1", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 0);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_ALWAYS, tty), 1);
    unsetenv("NO_COLOR");
    setenv("TERM", "dumb", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 0);
    unsetenv("TERM");
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    fclose(tty);
    fclose(file);
    close(m);
}

/* ---- shrink and explore (cr_cli_sched.c) --------------------------------- */

/* A real journal (tests/data/journal-shrink.json: pipeline-worker-kill
 * with ack_before_commit, one failed occurrence added) into its concrete
 * schedule. */
static void test_cli_journal_schedule(void)
{
    json_error_t je;
    json_t *j =
        json_load_file(cr_test_src("tests/data/journal-shrink.json"), 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *s = cr_cli__journal_schedule(j);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    static const char *const want[][3] = {
        {"kill-worker.0", "worker.1", "1.778"},
        {"stall-worker0.0", "worker.0", "2.991"},
        {"kill-worker.1", "worker.0", "4.278"},
        {"stall-worker1.0", "worker.1", "6.426"},
        {"kill-worker.2", "worker.0", "6.778"},
    };
    CU_ASSERT_EQUAL_FATAL(json_array_size(s), 5); /* the failed one left out */
    for (size_t i = 0; i < 5; i++) {
        json_t *f = json_array_get(s, i);
        char at[32];
        snprintf(at, sizeof at, "%.3f",
                 json_number_value(json_object_get(f, "at_s")));
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "name")),
                               want[i][0]);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "target")),
                               want[i][1]);
        CU_ASSERT_STRING_EQUAL(at, want[i][2]);
        CU_ASSERT_PTR_NULL(json_object_get(f, "every_s"));
        CU_ASSERT_PTR_NULL(json_object_get(f, "until_s"));
        int kill =
            strcmp(json_string_value(json_object_get(f, "kind")), "kill") == 0;
        if (kill) {
            CU_ASSERT_PTR_NULL(json_object_get(f, "for_s"));
        } else {
            CU_ASSERT_DOUBLE_EQUAL(
                json_number_value(json_object_get(f, "for_s")), 2.5, 1e-9);
        }
    }
    /* Faults triggered by the system's state stay triggered (at their
     * original instant they would hit whatever the system does then). */
    json_t *spec = json_object_get(json_object_get(j, "scenario"), "faults");
    json_t *st0 = json_array_get(spec, 1), *st1 = json_array_get(spec, 2);
    json_object_del(st0, "at_s");
    json_object_set_new(st0, "on_event",
                        json_pack("{s:s, s:s, s:i}", "ev", "leased", "svc",
                                  "worker.0", "count", 5));
    json_object_del(st1, "at_s");
    json_object_set_new(st1, "on_ready",
                        json_pack("{s:s, s:i}", "svc", "worker", "count", 2));
    json_t *t = cr_cli__journal_schedule(j);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(json_array_size(t), 5);
    size_t i;
    json_t *f;
    json_array_foreach (t, i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        int trig = strncmp(n, "stall-", 6) == 0;
        CU_ASSERT_EQUAL(json_object_get(f, "at_s") == NULL, trig);
        if (strcmp(n, "stall-worker0.0") == 0)
            CU_ASSERT(json_equal(json_object_get(f, "on_event"),
                                 json_object_get(st0, "on_event")));
        if (strcmp(n, "stall-worker1.0") == 0)
            CU_ASSERT(json_equal(json_object_get(f, "on_ready"),
                                 json_object_get(st1, "on_ready")));
        if (trig)
            CU_ASSERT_DOUBLE_EQUAL(
                json_number_value(json_object_get(f, "for_s")), 2.5, 1e-9);
    }
    json_decref(t);
    /* A fault the scenario does not have: no schedule. */
    json_object_set_new(json_array_get(json_object_get(j, "faults"), 0), "name",
                        json_string("not-there"));
    json_t *bad = cr_cli__journal_schedule(j);
    CU_ASSERT_PTR_NULL(bad);
    json_decref(bad);
    json_decref(s);
    json_decref(j);
}

/* The concrete document loads as a scenario: no explore key, the seed
 * and duration set, ${CHAOSRUN_SCENARIO_DIR} pinned. */
static void test_cli_concrete_doc(void)
{
    json_error_t je;
    json_t *j =
        json_load_file(cr_test_src("tests/data/journal-shrink.json"), 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *s = cr_cli__journal_schedule(j);
    json_t *doc = cr_cli__concrete_doc(json_object_get(j, "scenario"), s, 99,
                                       12.5, "/opt/sc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_PTR_NULL(json_object_get(doc, "explore"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "seed")), 99);
    CU_ASSERT_DOUBLE_EQUAL(
        json_number_value(json_object_get(doc, "duration_s")), 12.5, 1e-9);
    CU_ASSERT_TRUE(json_equal(json_object_get(doc, "faults"), s));
    json_t *svc = json_array_get(json_object_get(doc, "services"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(svc, "cwd")),
                           "/opt/sc/x");
    /* The journal's own scenario is left as it was. */
    CU_ASSERT_PTR_NOT_NULL(
        json_object_get(json_object_get(j, "scenario"), "explore"));
    char *text = json_dumps(doc, 0);
    cr_diags d = {0};
    cr_err err;
    cr_scen *sc = NULL;
    cr_err_clear(&err);
    json_object_del(svc, "cwd");
    free(text);
    text = json_dumps(doc, 0);
    CU_ASSERT_EQUAL(
        cr_scen_load_buffer("c.json", text, strlen(text), &sc, &d, &err), 0);
    if (sc) {
        CU_ASSERT_EQUAL(sc->nfaults, 5);
    }
    cr_diags_print(&d, stderr);
    cr_diags_free(&d);
    cr_scen_free(sc);
    free(text);
    json_decref(doc);
    json_decref(s);
    json_decref(j);
}

static void test_cli_parse_duration(void)
{
    double v = 0;
    CU_ASSERT_EQUAL(cr_cli__parse_duration("90", &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 90, 1e-9);
    CU_ASSERT_EQUAL(cr_cli__parse_duration("90s", &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 90, 1e-9);
    CU_ASSERT_EQUAL(cr_cli__parse_duration("10m", &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 600, 1e-9);
    CU_ASSERT_EQUAL(cr_cli__parse_duration("1.5h", &v), 0);
    CU_ASSERT_DOUBLE_EQUAL(v, 5400, 1e-9);
    static const char *const bad[] = {"",    "m",   "0",   "-5m",
                                      "10x", "5 m", "nan", "9999h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(cr_cli__parse_duration(bad[i], &v), -1);
}

/* The shard hash is FNV-1a 64 (published test vectors) of the base name,
 * modulo N: every file in exactly one shard, the same shard whatever
 * directory it is in and whatever other files exist, and spread. */
static void test_cli_shard_hash(void)
{
    CU_ASSERT_EQUAL(cr_cli__fnv1a64(""), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(cr_cli__fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(cr_cli__fnv1a64("foobar"), 0x85944171f73967e8ULL);
    CU_ASSERT_EQUAL(cr_cli__shard_of("a", 1000),
                    (unsigned)(0xaf63dc4c8601ec8cULL % 1000));
    CU_ASSERT_EQUAL(cr_cli__shard_of("scenarios/x/a", 7),
                    cr_cli__shard_of("a", 7));
    CU_ASSERT_EQUAL(cr_cli__shard_of("/abs/a", 7), cr_cli__shard_of("a", 7));
    /* 1000 names over 4 shards: every shard gets a fair share (the
     * expected 250, binomial sd ~14: 180..320 is > 4.9 sd). */
    unsigned count[4] = {0};
    char name[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "dir/scenario-%d.json", i);
        unsigned k = cr_cli__shard_of(name, 4);
        CU_ASSERT_FATAL(k < 4);
        count[k]++;
        CU_ASSERT_EQUAL(cr_cli__shard_of(name, 1), 0);
    }
    for (int k = 0; k < 4; k++) {
        CU_ASSERT(count[k] > 180 && count[k] < 320);
    }
}

static void test_cli_parse_shard(void)
{
    unsigned k = 0, n = 0;
    CU_ASSERT_EQUAL(cr_cli__parse_shard("1/2", &k, &n), 0);
    CU_ASSERT_EQUAL(k, 1);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(cr_cli__parse_shard("1000/1000", &k, &n), 0);
    CU_ASSERT_EQUAL(k, 1000);
    CU_ASSERT_EQUAL(cr_cli__parse_shard("1/1", &k, &n), 0);
    static const char *const bad[] = {
        "",     "1",    "/2",  "1/",   "0/2",   "3/2",  "1/0",  "1/1001",
        "-1/2", "1/2x", "a/b", "1 /2", "1/2/3", " 1/2", "1//2", "2.0/3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        k = n = 77;
        CU_ASSERT_EQUAL(cr_cli__parse_shard(bad[i], &k, &n), -1);
        CU_ASSERT_EQUAL(k, 77);
    }
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_cli_usage_lists_every_command);
    CR_ADD_TEST(s, test_cli_readme_names_every_command);
    CR_ADD_TEST(s, test_cli_journal_schedule);
    CR_ADD_TEST(s, test_cli_concrete_doc);
    CR_ADD_TEST(s, test_cli_parse_duration);
    CR_ADD_TEST(s, test_cli_color_parse);
    CR_ADD_TEST(s, test_cli_color_auto);
    CR_ADD_TEST(s, test_cli_shard_hash);
    CR_ADD_TEST(s, test_cli_parse_shard);
}
