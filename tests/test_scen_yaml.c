/* Tests for YAML scenarios (cr_yaml): the mapping of YAML to the JSON
 * document (core-schema scalars, quoted strings), the positions of every
 * diagnostic (FILE:LINE:COLUMN of the YAML node, byte columns), what is
 * refused and where (anchors, aliases, tags, duplicate keys, several
 * documents, complex keys, NUL, non-finite numbers, depth), a shipped
 * scenario in both formats, the variables a scenario expands, and an
 * allocation-failure loop. */
#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"
#include "scenario/cr_yaml.h"
#include "cr_test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *diags_text(const cr_diags *d)
{
    char *s = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    if (!fp)
        return NULL;
    cr_diags_print(d, fp);
    fclose(fp);
    return s;
}

/* Load text as `file`; returns the code and the diagnostics (malloc'd). */
static int load(const char *file, const char *text, size_t len, cr_scen **sc,
                char **msgs)
{
    cr_diags d = {0};
    cr_err err;
    cr_scen *tmp = NULL;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer(file, text, len, sc ? sc : &tmp, &d, &err);
    *msgs = diags_text(&d);
    cr_diags_free(&d);
    cr_scen_free(tmp);
    return rc;
}

/* The text fails to load with exactly `want` (all lines). */
static void expect_msgs(const char *text, const char *want)
{
    char *got = NULL;
    int rc = load("t.yaml", text, strlen(text), NULL, &got);
    int ok = rc == CR_EINVAL && got && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "\n--- rc %d\nwant: %sgot:  %s", rc, want,
                got ? got : "(none)\n");
    CU_ASSERT(ok);
    free(got);
}

static json_t *yload(const char *text)
{
    json_t *root = NULL;
    cr_jpos *pos = NULL;
    cr_yaml_error e;
    int rc = cr_yaml_load(text, strlen(text), &root, &pos, &e);
    if (rc)
        fprintf(stderr, "\n%d:%d: %s\n", e.line, e.col, e.text);
    cr_jpos_free(pos);
    return root;
}

static const char *minimal = "name: t\n"
                             "duration_s: 5\n"
                             "services:\n"
                             "  - name: a\n"
                             "    cmd: [sleep, \"100\"]\n";

/* ---- the mapping ------------------------------------------------------ */

static void test_scen_yaml_scalars(void)
{
    json_t *r = yload("i: 12\n"
                      "neg: -7\n"
                      "plus: +3\n"
                      "hex: 0x1F\n"
                      "oct: 0o17\n"
                      "f: 1.5\n"
                      "e: 1e3\n"
                      "dot: .5\n"
                      "t: true\n"
                      "T: True\n"
                      "f2: FALSE\n"
                      "n1: null\n"
                      "n2: ~\n"
                      "n3:\n"
                      "yes: yes\n"
                      "on: off\n"
                      "under: 1_000\n"
                      "lead0: 0755\n"
                      "qi: '12'\n"
                      "qt: \"true\"\n"
                      "qn: 'null'\n"
                      "s: hello world\n"
                      "lit: |\n"
                      "  two\n"
                      "  lines\n"
                      "fold: >-\n"
                      "  one\n"
                      "  line\n"
                      "esc: \"a\\tb\\u00e9\"\n"
                      "5: five\n"
                      "seq: [1, a, 'b']\n"
                      "map: {k: v}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
#define INT(k, v)                                                              \
    CU_ASSERT(json_is_integer(json_object_get(r, k)) &&                        \
              json_integer_value(json_object_get(r, k)) == (v))
#define REAL(k, v)                                                             \
    CU_ASSERT(json_is_real(json_object_get(r, k)) &&                           \
              json_real_value(json_object_get(r, k)) == (v))
#define STR(k, v)                                                              \
    CU_ASSERT(json_is_string(json_object_get(r, k)) &&                         \
              strcmp(json_string_value(json_object_get(r, k)), v) == 0)
    INT("i", 12);
    INT("neg", -7);
    INT("plus", 3);
    INT("hex", 31);
    INT("oct", 15);
    INT("lead0", 755); /* YAML 1.2: decimal, not octal */
    REAL("f", 1.5);
    REAL("e", 1000.0);
    REAL("dot", 0.5);
    CU_ASSERT(json_is_true(json_object_get(r, "t")));
    CU_ASSERT(json_is_true(json_object_get(r, "T")));
    CU_ASSERT(json_is_false(json_object_get(r, "f2")));
    CU_ASSERT(json_is_null(json_object_get(r, "n1")));
    CU_ASSERT(json_is_null(json_object_get(r, "n2")));
    CU_ASSERT(json_is_null(json_object_get(r, "n3")));
    STR("yes", "yes"); /* YAML 1.1's booleans are strings in 1.2 */
    STR("on", "off");
    STR("under", "1_000");
    STR("qi", "12"); /* quoted scalars stay strings */
    STR("qt", "true");
    STR("qn", "null");
    STR("s", "hello world");
    STR("lit", "two\nlines\n");
    STR("fold", "one line");
    STR("esc", "a\tb\xc3\xa9");
    STR("5", "five"); /* keys are text */
    json_t *seq = json_object_get(r, "seq");
    CU_ASSERT(json_is_array(seq) && json_array_size(seq) == 3 &&
              json_is_integer(json_array_get(seq, 0)) &&
              json_is_string(json_array_get(seq, 2)));
    CU_ASSERT(json_is_object(json_object_get(r, "map")));
    json_decref(r);
#undef INT
#undef REAL
#undef STR
}

/* The shipped example in both formats: one document, one timeline. */
static void test_scen_yaml_example_same_as_json(void)
{
    char jp[PATH_MAX], yp[PATH_MAX];
    snprintf(jp, sizeof jp, "%s",
             cr_test_src("scenarios/examples/kill-restart.json"));
    snprintf(yp, sizeof yp, "%s",
             cr_test_src("scenarios/examples/kill-restart.yaml"));
    cr_scen *a = NULL, *b = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(cr_scen_load(jp, &a, &d, &err), 0);
    CU_ASSERT_EQUAL_FATAL(cr_scen_load(yp, &b, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT(json_equal(a->root, b->root));
    json_t *ta = cr_scen_timeline_json(a), *tb = cr_scen_timeline_json(b);
    CU_ASSERT(ta && tb && json_equal(ta, tb));
    CU_ASSERT_EQUAL(a->nfaults, b->nfaults);
    CU_ASSERT_EQUAL(a->seed, b->seed);
    json_decref(ta);
    json_decref(tb);
    cr_scen_free(a);
    cr_scen_free(b);
    cr_diags_free(&d);
}

static void test_scen_yaml_file_names(void)
{
    CU_ASSERT(cr_yaml_is_yaml_name("a.yaml"));
    CU_ASSERT(cr_yaml_is_yaml_name("dir/a.yml"));
    CU_ASSERT(!cr_yaml_is_yaml_name("a.json"));
    CU_ASSERT(!cr_yaml_is_yaml_name("yaml"));
    CU_ASSERT(!cr_yaml_is_yaml_name(".yml.json"));
    /* The same text as .json is JSON: a YAML mapping is not. */
    char *got = NULL;
    CU_ASSERT_EQUAL(load("t.json", minimal, strlen(minimal), NULL, &got),
                    CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(got && strstr(got, "t.json:1:1: invalid JSON"));
    free(got);
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(load("t.yml", minimal, strlen(minimal), &sc, &got), 0);
    CU_ASSERT_PTR_NOT_NULL(sc);
    CU_ASSERT(sc && sc->nsvcs == 1 && strcmp(sc->svcs[0].argv[1], "100") == 0);
    cr_scen_free(sc);
    free(got);
}

/* ---- positions -------------------------------------------------------- */

static void test_scen_yaml_error_positions(void)
{
    /* An unknown key on line 7, column 5: at its key. */
    expect_msgs("name: t\n"
                "duration_s: 5\n"
                "services:\n"
                "  - name: a\n"
                "    cmd: [sleep, \"100\"]\n"
                "    restart: always\n"
                "    restrat_delay_s: 1\n",
                "t.yaml:7:5: services[0]: unknown key \"restrat_delay_s\" "
                "(did you mean \"restart_delay_s\"?)\n");
    /* A bad value: at the value, in flow style too. */
    expect_msgs(
        "name: t\n"
        "duration_s: -5\n"
        "services: [{name: a, cmd: [sleep, 1]}]\n",
        "t.yaml:2:13: duration_s: must be a number between 0 and 604800 (got "
        "-5)\n"
        "t.yaml:3:35: services[0].cmd[1]: must be a string (got "
        "integer)\n");
    /* Columns count bytes, as for JSON: "\xc3\xa9" is two. */
    expect_msgs("name: t\n"
                "duration_s: 5\n"
                "services:\n"
                "  - name: a\n"
                "  - {name: \"b\", cmd: [\"\xc3\xa9\", 1]}\n",
                "t.yaml:4:5: services[0]: missing required key \"cmd\"\n"
                "t.yaml:5:29: services[1].cmd[1]: must be a string (got "
                "integer)\n");
    /* CR LF line ends. */
    expect_msgs("name: t\r\nduration_s: 5\r\nservices: []\r\n",
                "t.yaml:3:11: services: must be a non-empty array (got an "
                "empty array)\n");
    /* A missing key: at the mapping that lacks it. */
    expect_msgs("name: t\n"
                "services:\n"
                "  - name: a\n"
                "    cmd: [sleep, \"100\"]\n",
                "t.yaml:1:1: missing required key \"duration_s\"\n");
    /* A syntax error: at libyaml's position, with its context. */
    expect_msgs("name: t\n"
                "services: [a, b\n"
                "duration_s: 5\n",
                "t.yaml:3:11: invalid YAML: did not find expected ',' or "
                "']' (while parsing a flow sequence at 2:11)\n");
    expect_msgs("name: t\n\tduration_s: 5\n",
                "t.yaml:2:1: invalid YAML: found a tab character that "
                "violates indentation (while scanning a plain scalar at "
                "1:7)\n");
}

/* ---- refused ---------------------------------------------------------- */

static void test_scen_yaml_refused(void)
{
    expect_msgs("name: &n t\n",
                "t.yaml:1:7: anchors (&n) are not supported: write the "
                "value out\n");
    expect_msgs("a: 1\nb: *x\n", "t.yaml:2:4: aliases (*x) are not "
                                 "supported: write the value out\n");
    expect_msgs("name: t\nb: !!str 1\n",
                "t.yaml:2:4: tags (!!str) are not supported: a scenario's "
                "values are strings, numbers, booleans, null, sequences "
                "and mappings\n");
    expect_msgs("name: t\nx: !custom 1\n",
                "t.yaml:2:4: tags (!custom) are not supported: a "
                "scenario's values are strings, numbers, booleans, null, "
                "sequences and mappings\n");
    expect_msgs("name: t\nduration_s: 1\nname: u\n",
                "t.yaml:3:1: duplicate key \"name\"\n");
    expect_msgs("name: t\n---\nname: u\n",
                "t.yaml:2:1: a second document: a scenario file holds one "
                "(no \"---\" between two)\n");
    expect_msgs("? [a, b]\n: 1\n",
                "t.yaml:1:3: a key must be a scalar (text), not a "
                "sequence\n");
    expect_msgs("name: \"a\\0b\"\n",
                "t.yaml:1:7: a string holds a NUL character\n");
    expect_msgs("duration_s: .inf\n",
                "t.yaml:1:13: .inf is not a finite number (a scenario's "
                "numbers are JSON's)\n");
    expect_msgs("duration_s: 1e999\n",
                "t.yaml:1:13: number 1e999 out of range\n");
    expect_msgs("seed: 99999999999999999999\n",
                "t.yaml:1:7: integer 99999999999999999999 out of range "
                "(-2^63..2^63-1)\n");
    expect_msgs("", "t.yaml:1:1: empty document: a scenario is a mapping "
                    "of keys to values\n");
    expect_msgs("# nothing but a comment\n",
                "t.yaml:2:1: empty document: a scenario is a mapping of "
                "keys to values\n");
    expect_msgs("- a\n- b\n", "t.yaml:1:1: a scenario is a YAML mapping of "
                              "keys to values (got array)\n");
    expect_msgs("just text\n", "t.yaml:1:1: a scenario is a YAML mapping of "
                               "keys to values (got string)\n");
}

/* Hostile input: deep nesting and the "billion laughs" stop at once. */
static void test_scen_yaml_hostile(void)
{
    size_t n = CR_YAML_MAX_DEPTH + 10;
    char *deep = malloc(2 * n + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    memcpy(deep, "a: ", 3);
    memset(deep + 3, '[', n);
    memset(deep + 3 + n, ']', n);
    deep[3 + 2 * n] = '\n';
    deep[4 + 2 * n] = '\0';
    char want[128];
    snprintf(
        want, sizeof want, "t.yaml:1:%d: nested more than %d levels deep\n",
        3 + CR_YAML_MAX_DEPTH, CR_YAML_MAX_DEPTH); /* the root is a level */
    expect_msgs(deep, want);
    free(deep);

    expect_msgs("a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
                "t.yaml:1:4: anchors (&a) are not supported: write the "
                "value out\n");

    /* The size cap of the file holds for YAML (same reader). */
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/big.yaml", dir);
    FILE *fp = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    CU_ASSERT(ftruncate(fileno(fp), (off_t)CR_SCEN_MAX_FILE + 1) == 0);
    fclose(fp);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load(p, &sc, &d, &err);
    CU_ASSERT_EQUAL(rc, CR_EINVAL);
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than the 16 MiB"));
    cr_diags_free(&d);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* Garbage never crashes and never loads half: every prefix of a valid
 * scenario either loads or fails with a positioned diagnostic. */
static void test_scen_yaml_prefixes(void)
{
    size_t n = strlen(minimal);
    for (size_t k = 0; k <= n; k++) {
        char *got = NULL;
        cr_scen *sc = NULL;
        int rc = load("t.yaml", minimal, k, &sc, &got);
        CU_ASSERT(rc == 0 || rc == CR_EINVAL);
        CU_ASSERT(rc != 0 || sc != NULL);
        CU_ASSERT(rc == 0 || (got && strncmp(got, "t.yaml:", 7) == 0 &&
                              strstr(got, "t.yaml:0:0") == NULL));
        cr_scen_free(sc);
        free(got);
    }
}

/* ---- variables -------------------------------------------------------- */

static void test_scen_yaml_variables_recorded(void)
{
    const char *text = "name: t\n"
                       "duration_s: 5\n"
                       "services:\n"
                       "  - name: a\n"
                       "    cmd: [sleep, \"${CR_TY_SET}\", "
                       "\"${CR_TY_UNSET:-1}\", \"${CR_TY_SET}\"]\n"
                       "    cwd: ${CHAOSRUN_SCENARIO_DIR}\n";
    setenv("CR_TY_SET", "it's 2", 1);
    unsetenv("CR_TY_UNSET");
    cr_scen *sc = NULL;
    char *got = NULL;
    CU_ASSERT_EQUAL_FATAL(load("t.yaml", text, strlen(text), &sc, &got), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(json_object_size(sc->vars), 2);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(sc->vars, "CR_TY_SET")), "it's 2");
    CU_ASSERT(json_is_null(json_object_get(sc->vars, "CR_TY_UNSET")));
    /* Defined by chaosrun itself: not a variable of the environment. */
    CU_ASSERT_PTR_NULL(json_object_get(sc->vars, "CHAOSRUN_SCENARIO_DIR"));
    cr_scen_free(sc);
    free(got);
    unsetenv("CR_TY_SET");
}

/* ---- allocation failures ---------------------------------------------- */

static void test_scen_yaml_oom(void)
{
    long n;
    int done = 0;
    cr_alloc_install_json();
    for (n = 1; n < 100000 && !done; n++) {
        cr_scen *sc = NULL;
        cr_diags d = {0};
        cr_err err;
        cr_err_clear(&err);
        cr_alloc_fail_after(n);
        int rc = cr_scen_load_buffer("oom.yaml", minimal, strlen(minimal), &sc,
                                     &d, &err);
        cr_alloc_fail_after(0);
        if (rc == CR_ENOMEM) {
            CU_ASSERT_EQUAL(d.n, 0);
            CU_ASSERT_PTR_NULL(sc);
        } else {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_EQUAL(d.n, 0);
            done = 1;
        }
        cr_scen_free(sc);
        cr_diags_free(&d);
    }
    CU_ASSERT(done);
    CU_ASSERT(n > 10);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("scen_yaml", NULL, NULL);
    CR_ADD_TEST(s, test_scen_yaml_scalars);
    CR_ADD_TEST(s, test_scen_yaml_example_same_as_json);
    CR_ADD_TEST(s, test_scen_yaml_file_names);
    CR_ADD_TEST(s, test_scen_yaml_error_positions);
    CR_ADD_TEST(s, test_scen_yaml_refused);
    CR_ADD_TEST(s, test_scen_yaml_hostile);
    CR_ADD_TEST(s, test_scen_yaml_prefixes);
    CR_ADD_TEST(s, test_scen_yaml_variables_recorded);
    CR_ADD_TEST(s, test_scen_yaml_oom);
}
