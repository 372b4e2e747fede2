/* Tests for cr_scen: the invalid-scenario corpus (exact messages and
 * positions), defaults of valid scenarios, variable expansion, targets,
 * signals, the seeded timeline, and allocation-failure loops over the
 * loader. */
#include "base/cr_alloc.h"
#include "faults/cr_fault.h"
#include "base/cr_rng.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *q = realloc(buf, cap);
            if (!q) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = q;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, fp);
        n += k;
        if (k == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

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

/* Load from a string; returns the code, *sc on success, diags text in
 * *msgs (malloc'd) when asked. */
static int load_str(const char *file, const char *text, cr_scen **sc,
                    char **msgs)
{
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer(file, text, strlen(text), sc, &d, &err);
    if (msgs)
        *msgs = diags_text(&d);
    cr_diags_free(&d);
    return rc;
}

/* One line of expected output matches: exact, or, when the expected line
 * ends with "[...]", any line with the same prefix (lists of registered
 * kinds grow as modules are added). */
static int line_matches(const char *exp, size_t el, const char *got, size_t gl)
{
    static const char wild[] = "[...]";
    size_t wl = sizeof wild - 1;
    if (el >= wl && memcmp(exp + el - wl, wild, wl) == 0)
        return gl >= el - wl && memcmp(exp, got, el - wl) == 0;
    return el == gl && memcmp(exp, got, el) == 0;
}

static int output_matches(const char *exp, const char *got)
{
    for (;;) {
        const char *en = strchr(exp, '\n'), *gn = strchr(got, '\n');
        size_t el = en ? (size_t)(en - exp) : strlen(exp);
        size_t gl = gn ? (size_t)(gn - got) : strlen(got);
        if (!el && !gl && !en && !gn)
            return 1;
        if (!line_matches(exp, el, got, gl))
            return 0;
        if (!en || !gn)
            return !en && !gn ? 1 : (!en && !gn[1]) || (!gn && !en[1]);
        exp = en + 1;
        got = gn + 1;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the invalid corpus ------------------------------------------------- */

static void test_scen_invalid_corpus(void)
{
    char cwd[PATH_MAX];
    const char *base = cr_test_src("tests/data/invalid");
    char root[PATH_MAX];
    char *names[256];
    size_t n = 0, failed = 0;
    snprintf(root, sizeof root, "%s", base);
    CU_ASSERT_FATAL(getcwd(cwd, sizeof cwd) != NULL);
    unsetenv("CHAOSRUN_TEST_UNSET_VAR");
    DIR *dir = opendir(root);
    CU_ASSERT_FATAL(dir != NULL);
    struct dirent *de;
    while ((de = readdir(dir)) && n < 256)
        if (de->d_name[0] != '.' && de->d_type == DT_DIR)
            names[n++] = strdup(de->d_name);
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    CU_ASSERT(n >= 25);
    for (size_t i = 0; i < n; i++) {
        char d[PATH_MAX + 256];
        snprintf(d, sizeof d, "%s/%s", root, names[i]);
        CU_ASSERT_FATAL(chdir(d) == 0);
        char *expected = slurp("expected", NULL);
        cr_scen *sc = NULL;
        cr_diags diags = {0};
        cr_err err;
        cr_err_clear(&err);
        /* A case in YAML has scenario.yaml instead. */
        const char *f = access("scenario.yaml", F_OK) == 0 ? "scenario.yaml"
                                                           : "scenario.json";
        int rc = cr_scen_load(f, &sc, &diags, &err);
        char *got = diags_text(&diags);
        int ok = expected && got && rc == CR_EINVAL && sc == NULL &&
                 diags.n > 0 && output_matches(expected, got);
        if (!ok) {
            failed++;
            fprintf(stderr, "\n--- case %s (rc %d)\nexpected:\n%sgot:\n%s",
                    names[i], rc, expected ? expected : "(no expected)\n",
                    got ? got : "(none)\n");
        }
        CU_ASSERT(ok);
        free(expected);
        free(got);
        cr_diags_free(&diags);
        cr_scen_free(sc);
        CU_ASSERT_FATAL(chdir(cwd) == 0);
        free(names[i]);
    }
    CU_ASSERT_EQUAL(failed, 0);
}

/* The wildcard rule itself: a test of the test. */
static void test_scen_corpus_matcher(void)
{
    CU_ASSERT(output_matches("a\nb\n", "a\nb\n"));
    CU_ASSERT(!output_matches("a\nb\n", "a\nc\n"));
    CU_ASSERT(!output_matches("a\n", "a\nb\n"));
    CU_ASSERT(!output_matches("a\nb\n", "a\n"));
    CU_ASSERT(output_matches("known: [...]\n", "known: x, y\n"));
    CU_ASSERT(!output_matches("known: [...]\n", "other: x\n"));
}

/* ---- valid scenarios ---------------------------------------------------- */

static const char *rich =
    "{\n"
    "  \"name\": \"rich\",\n"
    "  \"description\": \"every section\",\n"
    "  \"seed\": 42,\n"
    "  \"duration_s\": 60,\n"
    "  \"services\": [\n"
    "    {\"name\": \"api\", \"cmd\": [\"sleep\", \"1000\"], \"port\": 18080,\n"
    "     \"replicas\": 3, \"env\": {\"MODE\": \"fast\", \"D\": "
    "\"${CR_TEST_UNSET:-x}\"},\n"
    "     \"ready\": {\"kind\": \"tcp\"}, \"restart\": \"on-failure\",\n"
    "     \"stop_signal\": \"INT\", \"cwd\": \"/tmp\"},\n"
    "    {\"name\": \"db\", \"cmd\": [\"sleep\", \"1000\"],\n"
    "     \"ready\": {\"kind\": \"log\", \"regex\": \"^ready( now)?$\",\n"
    "                \"timeout_s\": 3}}\n"
    "  ],\n"
    "  \"faults\": [\n"
    "    {\"kind\": \"kill\", \"target\": \"api.random\", \"at_s\": [5, 10]},\n"
    "    {\"kind\": \"pause\", \"name\": \"freeze\", \"target\": {\"service\": "
    "\"db\"},\n"
    "     \"at_s\": 3, \"for_s\": 2, \"every_s\": 10, \"until_s\": 40},\n"
    "    {\"kind\": \"restart\", \"target\": \"api.1\",\n"
    "     \"on_event\": {\"ev\": \"ready\", \"svc\": \"api\", \"where\": "
    "{\"n\": 1},\n"
    "                  \"count\": 2, \"delay_s\": 0.5}},\n"
    "    {\"kind\": \"terminate\", \"target\": {\"service\": \"api\", "
    "\"replica\": \"random\"},\n"
    "     \"at_s\": [20, 30]}\n"
    "  ]\n"
    "}\n";

static void test_scen_valid_defaults(void)
{
    cr_scen *sc = NULL;
    char *msgs = NULL;
    int rc = load_str("rich.json", rich, &sc, &msgs);
    if (rc)
        fprintf(stderr, "%s", msgs ? msgs : "");
    free(msgs);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(sc->name, "rich");
    CU_ASSERT_STRING_EQUAL(sc->description, "every section");
    CU_ASSERT_EQUAL(sc->seed, 42);
    CU_ASSERT(sc->seed_given);
    CU_ASSERT_EQUAL(sc->duration_s, 60);
    CU_ASSERT_EQUAL(sc->drain_s, 2);
    CU_ASSERT_EQUAL_FATAL(sc->nsvcs, 2);
    const cr_svc_spec *api = cr_scen_service(sc, "api");
    const cr_svc_spec *db = cr_scen_service(sc, "db");
    CU_ASSERT_FATAL(api && db);
    CU_ASSERT_PTR_NULL(cr_scen_service(sc, "nope"));
    CU_ASSERT_EQUAL(api->replicas, 3);
    CU_ASSERT_EQUAL(api->port, 18080);
    CU_ASSERT_EQUAL(api->ready.kind, CR_READY_TCP);
    CU_ASSERT_EQUAL(api->ready.port, 18080); /* the service's port */
    CU_ASSERT_STRING_EQUAL(api->ready.host, "127.0.0.1");
    CU_ASSERT_EQUAL(api->ready.timeout_s, 10);
    CU_ASSERT_EQUAL(api->ready.interval_s, 0.05);
    CU_ASSERT_EQUAL(api->restart, CR_RESTART_ON_FAILURE);
    CU_ASSERT_EQUAL(api->stop_signal, SIGINT);
    CU_ASSERT_STRING_EQUAL(api->cwd, "/tmp");
    CU_ASSERT_STRING_EQUAL(api->env[0], "MODE=fast");
    CU_ASSERT_STRING_EQUAL(api->env[1], "D=x");
    CU_ASSERT_PTR_NULL(api->env[2]);
    CU_ASSERT_STRING_EQUAL(api->path, "services[0]");
    CU_ASSERT_EQUAL(db->replicas, 1);
    CU_ASSERT_EQUAL(db->port, 0);
    CU_ASSERT_EQUAL(db->stop_signal, SIGTERM);
    CU_ASSERT_EQUAL(db->stop_timeout_s, 5);
    CU_ASSERT_EQUAL(db->restart, CR_RESTART_NEVER);
    CU_ASSERT_EQUAL(db->restart_delay_s, 0.2);
    CU_ASSERT_EQUAL(db->max_restarts, 10);
    CU_ASSERT_EQUAL(db->ready.kind, CR_READY_LOG);
    CU_ASSERT_STRING_EQUAL(db->ready.regex, "^ready( now)?$");
    CU_ASSERT_EQUAL(db->ready.timeout_s, 3);
    CU_ASSERT_STRING_EQUAL(db->argv[0], "sleep");
    CU_ASSERT_STRING_EQUAL(db->argv[1], "1000");
    CU_ASSERT_PTR_NULL(db->argv[2]);
    CU_ASSERT_PTR_NULL(db->env);
    CU_ASSERT_PTR_NULL(db->cwd);

    CU_ASSERT_EQUAL_FATAL(sc->nfaults, 4);
    const cr_fault *k = cr_scen_fault(sc, "kill-0");
    const cr_fault *p = cr_scen_fault(sc, "freeze");
    const cr_fault *r = cr_scen_fault(sc, "restart-2");
    const cr_fault *t = cr_scen_fault(sc, "terminate-3");
    CU_ASSERT_FATAL(k && p && r && t);
    CU_ASSERT_STRING_EQUAL(k->ops->kind, "kill");
    CU_ASSERT_STRING_EQUAL(k->target.service, "api");
    CU_ASSERT_EQUAL(k->target.replica, CR_REPLICA_RANDOM);
    CU_ASSERT_EQUAL(k->at.lo, 5);
    CU_ASSERT_EQUAL(k->at.hi, 10);
    CU_ASSERT_EQUAL(k->for_s, 0);
    CU_ASSERT_EQUAL(k->every_s, 0);
    CU_ASSERT_EQUAL(k->until_s, 60); /* default: duration_s */
    CU_ASSERT_PTR_NULL(k->trigger);
    CU_ASSERT_STRING_EQUAL(k->path, "faults[0]");
    CU_ASSERT_EQUAL(p->target.replica, CR_REPLICA_ALL);
    CU_ASSERT_EQUAL(p->until_s, 40);
    CU_ASSERT_FATAL(r->trigger != NULL);
    CU_ASSERT_STRING_EQUAL(r->trigger->match.ev, "ready");
    CU_ASSERT_STRING_EQUAL(r->trigger->match.svc, "api");
    CU_ASSERT(json_is_object(r->trigger->match.where));
    CU_ASSERT_EQUAL(r->trigger->count, 2);
    CU_ASSERT_EQUAL(r->trigger->delay_s, 0.5);
    CU_ASSERT_EQUAL(r->target.replica, 1);
    CU_ASSERT_EQUAL(t->target.replica, CR_REPLICA_RANDOM);
    CU_ASSERT_PTR_NULL(cr_scen_fault(sc, "nope"));
    CU_ASSERT_PTR_NOT_NULL(sc->root);
    /* Loading resolves the timeline already. */
    CU_ASSERT_EQUAL(k->nstarts, 1);
    CU_ASSERT_EQUAL(r->nstarts, 0);
    cr_scen_free(sc);
    cr_scen_free(NULL);
}

static const char *minimal =
    "{\"name\": \"m\", \"duration_s\": 5,"
    " \"services\": [{\"name\": \"s\", \"cmd\": [\"true\"]}]}";

static void test_scen_seed_drawn_when_absent(void)
{
    cr_scen *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL_FATAL(load_str("m.json", minimal, &a, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(load_str("m.json", minimal, &b, NULL), 0);
    CU_ASSERT_FALSE(a->seed_given);
    CU_ASSERT(a->seed <= (1ULL << 53));
    /* Two draws of 53 bits agree with probability 2^-53. */
    CU_ASSERT_NOT_EQUAL(a->seed, b->seed);
    CU_ASSERT_EQUAL(a->nfaults, 0);
    CU_ASSERT_EQUAL(a->nprobes, 0);
    CU_ASSERT_EQUAL(a->nexpects, 0);
    cr_scen_free(a);
    cr_scen_free(b);
}

/* on_ready triggers, the drain until quiet: parsed into the model, shown
 * in the timeline (JSON and text). */
static const char *anchored =
    "{\"name\": \"a\", \"duration_s\": 40,"
    " \"drain\": {\"until_quiet_s\": 3, \"ev\": \"delivered\", \"svc\": "
    "\"sink\", \"max_s\": 30},"
    " \"services\": [{\"name\": \"queue\", \"cmd\": [\"true\"]},"
    "  {\"name\": \"sink\", \"cmd\": [\"true\"], \"replicas\": 2}],"
    " \"faults\": [{\"kind\": \"pause\", \"name\": \"p\", \"target\": "
    "\"queue\", \"for_s\": 4,"
    "   \"on_ready\": {\"svc\": \"queue\", \"count\": 2, \"delay_s\": 3}},"
    "  {\"kind\": \"kill\", \"name\": \"k\", \"target\": \"sink.1\","
    "   \"on_ready\": {\"svc\": \"sink.1\"}}]}";

static void test_scen_on_ready_and_drain(void)
{
    cr_scen *sc = NULL;
    char *msgs = NULL;
    int rc = load_str("a.json", anchored, &sc, &msgs);
    if (rc)
        fprintf(stderr, "%s", msgs ? msgs : "");
    free(msgs);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const cr_fault *p = cr_scen_fault(sc, "p"), *k = cr_scen_fault(sc, "k");
    CU_ASSERT_FATAL(p && k && p->trigger && k->trigger);
    CU_ASSERT_STRING_EQUAL(p->trigger->ready_svc, "queue");
    CU_ASSERT_PTR_NULL(p->trigger->match.ev);
    CU_ASSERT_EQUAL(p->trigger->count, 2);
    CU_ASSERT_EQUAL(p->trigger->delay_s, 3);
    CU_ASSERT_EQUAL(p->nstarts, 0);
    CU_ASSERT_STRING_EQUAL(k->trigger->ready_svc, "sink.1");
    CU_ASSERT_EQUAL(k->trigger->count, 1);
    CU_ASSERT_EQUAL(k->trigger->delay_s, 0);
    CU_ASSERT_EQUAL(sc->drain.until_quiet_s, 3);
    CU_ASSERT_EQUAL(sc->drain.max_s, 30);
    CU_ASSERT_STRING_EQUAL(sc->drain.match.ev, "delivered");
    CU_ASSERT_STRING_EQUAL(sc->drain.match.svc, "sink");
    json_t *tl = cr_scen_timeline_json(sc);
    CU_ASSERT_FATAL(json_array_size(tl) == 2);
    json_t *e = json_array_get(tl, 0);
    json_t *on = json_object_get(e, "on_ready");
    CU_ASSERT_PTR_NULL(json_object_get(e, "on_event"));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(on, "svc")),
                           "queue");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(on, "count")), 2);
    CU_ASSERT(json_is_null(json_object_get(e, "at_s")));
    json_decref(tl);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(fp != NULL);
    cr_scen_print_timeline(sc, fp);
    fclose(fp);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "on queue ready #2 +delay 3 s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "on sink.1 ready #1)"));
    free(buf);
    cr_scen_free(sc);
    /* A fixed drain leaves the drain until quiet off. */
    CU_ASSERT_EQUAL_FATAL(load_str("m.json", minimal, &sc, NULL), 0);
    CU_ASSERT_EQUAL(sc->drain.until_quiet_s, 0);
    CU_ASSERT_PTR_NULL(sc->drain.match.ev);
    cr_scen_free(sc);
}

static void test_scen_load_file_errors(void)
{
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_scen_load("/nonexistent/x.json", &sc, &d, &err),
                    CR_ENOTFOUND);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/x.json"));
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_scen_load("/tmp", &sc, &d, &err), CR_EINVAL);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "directory"));
}

/* ---- hostile input ------------------------------------------------------ */

/* A scenario whose only service has a log readiness check with `rx`. */
static int load_regex(const char *rx, char **msgs)
{
    char *text = NULL;
    cr_scen *sc = NULL;
    json_t *doc =
        json_pack("{s:s, s:i, s:[{s:s, s:[s], s:{s:s, s:s}}]}", "name", "rx",
                  "duration_s", 10, "services", "name", "w", "cmd", "true",
                  "ready", "kind", "log", "regex", rx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    text = json_dumps(doc, 0);
    json_decref(doc);
    int rc = load_str("rx.json", text, &sc, msgs);
    free(text);
    cr_scen_free(sc);
    return rc;
}

/* glibc's regcomp expands bounded repetitions: (((a{1,100}){1,100}){1,100})
 * took 12.7 s and 1.18 GB to validate, a{1,32767} 29 s and 8 GB, 50,000
 * nested parentheses crashed.  Each is now refused by its limit, before
 * regcomp sees it, with the limit in the message. */
static void test_scen_regex_limits(void)
{
    static const struct {
        const char *rx, *want;
    } bad[] = {
        {"(((a{1,100}){1,100}){1,100})",
         "rx.json:1:112: services[0].ready.regex: regular expression too "
         "large: its repetitions expand it to 2010100 positions (at most "
         "2000)\n"},
        {"(a{1,100}){1,100}", "expand it to 20100 positions (at most 2000)"},
        {"a{1,32767}", "repetition count 32767 at offset 1 is over 255"},
        {"a{1000}", "repetition count 1000 at offset 1 is over 255"},
        {"(x)\\1", "back-reference \\1 at offset 3"},
        {"((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
         "expand it to 4194303 positions (at most 2000)"},
        {"a{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}", "positions (at most 2000)"},
        /* Unbalanced: regcomp would expand before finding the error. */
        {"((a{1,100}){1,100}", "positions (at most 2000)"},
        {"([a-z]{1,200}){5}", "expand it to 2005 positions"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *msgs = NULL;
        CU_ASSERT_EQUAL(load_regex(bad[i].rx, &msgs), CR_EINVAL);
        if (!msgs || !strstr(msgs, bad[i].want))
            fprintf(stderr, "\n%s: got %s", bad[i].rx, msgs ? msgs : "");
        CU_ASSERT(msgs && strstr(msgs, bad[i].want));
        free(msgs);
    }
    /* Nesting and length, with patterns built here. */
    char deep[2 * 50000 + 2], *msgs = NULL;
    memset(deep, '(', 50000);
    deep[50000] = 'a';
    memset(deep + 50001, ')', 50000);
    deep[100001] = '\0';
    CU_ASSERT_EQUAL(load_regex(deep, &msgs), CR_EINVAL);
    CU_ASSERT(msgs && strstr(msgs, "regular expression of 100001 bytes (at "
                                   "most 4096)"));
    free(msgs);
    deep[33] = 'a';
    deep[34] = '\0';
    CU_ASSERT_EQUAL(load_regex(deep, &msgs), CR_EINVAL);
    CU_ASSERT(msgs && strstr(msgs, "parentheses nested more than 32 deep"));
    free(msgs);

    /* Ordinary patterns, and the limits themselves, pass. */
    static const char *good[] = {
        "listening on port [0-9]+",
        "^ready( in [0-9.]+ ms)?$",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}:[0-9]+",
        "[[:alpha:]_][[:alnum:]_]*=[^]]*",
        "a{1,255}",
        "(a|b|c){0,255}",
        "x{,5}y{3,}",
        "\\(literal\\)|\\{|[{}]",
        NULL,
    };
    for (int i = 0; good[i]; i++) {
        CU_ASSERT_EQUAL(load_regex(good[i], &msgs), 0);
        if (msgs && *msgs)
            fprintf(stderr, "\n%s: %s", good[i], msgs);
        free(msgs);
    }
    /* Syntax errors are still regcomp's to report. */
    CU_ASSERT_EQUAL(load_regex("a{2,1}", &msgs), CR_EINVAL);
    CU_ASSERT(msgs && strstr(msgs, "invalid regular expression \"a{2,1}\""));
    free(msgs);

    /* The same helpers for any caller (probes use cr_vregex). */
    char why[256];
    regex_t re;
    CU_ASSERT_EQUAL(cr_regex_check("(a{1,100}){1,100}", why, sizeof why),
                    CR_EINVAL);
    CU_ASSERT_EQUAL(cr_regex_compile(&re, "^ok [0-9]+$", why, sizeof why), 0);
    CU_ASSERT_EQUAL(regexec(&re, "ok 42", 0, NULL, 0), 0);
    regfree(&re);
}

/* body_regex of an http probe goes through the same limits. */
static void test_scen_probe_regex_limits(void)
{
    const char *text =
        "{\"name\": \"p\", \"duration_s\": 10,\n"
        " \"services\": [{\"name\": \"w\", \"cmd\": [\"true\"]}],\n"
        " \"steady_state\": [{\"kind\": \"http\", \"url\": "
        "\"http://127.0.0.1:1/\",\n"
        "   \"body_regex\": \"((a{1,100}){1,100}){1,100}\"}]}";
    char *msgs = NULL;
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(load_str("p.json", text, &sc, &msgs), CR_EINVAL);
    CU_ASSERT(msgs && strstr(msgs, "p.json:4:18: steady_state[0].body_regex: "
                                   "regular expression too large"));
    free(msgs);
    cr_scen_free(sc);
}

/* Write `text` to dir/name; returns the path (static buffer). */
static const char *put_file(const char *dir, const char *name, const char *text)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Load a file expecting an error without diagnostics; returns the code
 * (and checks that the message names the file and contains `why`). */
static int load_bad_file(const char *path, const char *why)
{
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load(path, &sc, &d, &err);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    if (!strstr(err.msg, why))
        fprintf(stderr, "\n%s: got \"%s\", want \"%s\"", path, err.msg, why);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    cr_scen_free(sc);
    cr_diags_free(&d);
    return rc;
}

/* /dev/zero took 20 s and 4.2 GB (exit 4), a FIFO blocked open() forever,
 * an unreadable file exited 4: every file that cannot be a scenario is now
 * refused at once with exit status 2 and a message naming it. */
static void test_scen_file_checks(void)
{
    char *dir = cr_test_tmpdir();
    char p[PATH_MAX + 64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);

    int rc = load_bad_file("/dev/zero", "is a character device");
    CU_ASSERT_EQUAL(rc, CR_EINVAL);
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    snprintf(p, sizeof p, "%s/fifo", dir);
    CU_ASSERT_FATAL(mkfifo(p, 0600) == 0);
    rc = load_bad_file(p, "is a FIFO"); /* must not block */
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    rc = load_bad_file(dir, "is a directory");
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    snprintf(p, sizeof p, "%s/missing.json", dir);
    rc = load_bad_file(p, "No such file");
    CU_ASSERT_EQUAL(rc, CR_ENOTFOUND);
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    /* A symbolic-link loop (ELOOP): the file, not the machine. */
    snprintf(p, sizeof p, "%s/loop", dir);
    CU_ASSERT_FATAL(symlink(p, p) == 0);
    rc = load_bad_file(p, "reading scenario");
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    /* Over the cap: refused from its size, without reading it. */
    snprintf(p, sizeof p, "%s/big.json", dir);
    FILE *fp = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    CU_ASSERT(ftruncate(fileno(fp), (off_t)CR_SCEN_MAX_FILE + 1) == 0);
    fclose(fp);
    rc = load_bad_file(p, "more than the 16 MiB a scenario may have");
    CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);

    /* Unreadable (only meaningful without root, which reads anything). */
    const char *un = put_file(dir, "unreadable.json", minimal);
    snprintf(p, sizeof p, "%s", un);
    CU_ASSERT(chmod(p, 0) == 0);
    if (geteuid() != 0) {
        rc = load_bad_file(p, "Permission denied");
        CU_ASSERT_EQUAL(cr_err_exit_status(rc), 2);
    }

    /* A symbolic link to a scenario is followed (a legitimate layout). */
    const char *real = put_file(dir, "real.json", minimal);
    snprintf(p, sizeof p, "%s/link.json", dir);
    CU_ASSERT_FATAL(symlink(real, p) == 0);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_scen_load(p, &sc, &d, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(sc);
    cr_scen_free(sc);
    cr_diags_free(&d);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* 10^5 unknown keys made 10^5 diagnostics (5.3 MB): the list stops at 100
 * and one last line counts the others. */
static void test_scen_diagnostics_capped(void)
{
    cr_sbuf b = {0};
    char tmp[64];
    const char *head = "{\"name\": \"k\", \"duration_s\": 1, \"services\": "
                       "[{\"name\": \"w\", \"cmd\": [\"true\"]";
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, head, strlen(head)), 0);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(tmp, sizeof tmp, ",\n \"k%d\": %d", i, i);
        CU_ASSERT_EQUAL_FATAL(cr_sbuf_add(&b, tmp, (size_t)n), 0);
    }
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, "}]}", 3), 0);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_scen_load_buffer("k.json", b.s, b.n, &sc, &d, &err),
                    CR_EINVAL);
    CU_ASSERT_EQUAL(d.n, CR_SCEN_MAX_DIAGS + 1);
    char *text = diags_text(&d);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "k.json:2:2: services[0]: unknown "
                                        "key \"k0\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        text, "\nk.json: ... and 99,900 more problems (only the first 100 "
              "are listed)\n"));
    CU_ASSERT(strlen(text) < 8192);
    free(text);
    cr_diags_free(&d);
    cr_free(b.s);
}

/* Occurrences are capped per scenario, not only per fault: 10^5 faults of
 * up to 10^4 occurrences each would plan 10^9 starts. */
static void test_scen_occurrences_capped(void)
{
    cr_sbuf b = {0};
    const char *head = "{\"name\": \"o\", \"duration_s\": 100, \"services\": "
                       "[{\"name\": \"w\", \"cmd\": [\"true\"]}],\n"
                       " \"faults\": [";
    char tmp[128];
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, head, strlen(head)), 0);
    for (int i = 0; i < 20; i++) {
        int n = snprintf(tmp, sizeof tmp,
                         "%s\n  {\"kind\": \"kill\", \"target\": \"w\", "
                         "\"every_s\": 0.0125}",
                         i ? "," : "");
        CU_ASSERT_EQUAL(cr_sbuf_add(&b, tmp, (size_t)n), 0);
    }
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, "]}", 2), 0);
    char *msgs = NULL;
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(load_str("o.json", b.s, &sc, &msgs), CR_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_STRING_EQUAL(msgs, "o.json:15:46: faults[12].every_s: with this "
                                 "fault the scenario plans 104013 fault "
                                 "occurrences (at most 100000 in a "
                                 "scenario)\n");
    free(msgs);
    cr_free(b.s);
}

/* Soak runs: a timeline of up to 7 days, with a fault repeated every few
 * minutes over all of it; one second more is refused at the key. */
static void test_scen_soak_duration(void)
{
    const char *week = "{\"name\": \"s\", \"duration_s\": 604800, "
                       "\"services\": [{\"name\": \"w\", \"cmd\": "
                       "[\"true\"]}], \"faults\": [{\"kind\": \"kill\", "
                       "\"target\": \"w\", \"at_s\": 60, \"every_s\": 180}]}";
    cr_scen *sc = NULL;
    char *msgs = NULL;
    CU_ASSERT_EQUAL(load_str("w.json", week, &sc, &msgs), 0);
    if (sc) {
        CU_ASSERT_DOUBLE_EQUAL(sc->duration_s, 604800, 1e-9);
        cr_scen_free(sc);
    }
    free(msgs);
    sc = NULL;
    const char *more = "{\"name\": \"s\", \"duration_s\": 604801, "
                       "\"services\": [{\"name\": \"w\", \"cmd\": "
                       "[\"true\"]}]}";
    CU_ASSERT_EQUAL(load_str("m.json", more, &sc, &msgs), CR_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_PTR_NOT_NULL(msgs);
    if (msgs)
        CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "duration_s: must be a number "
                                            "between 0 and 604800"));
    free(msgs);
}

/* Names are checked through a hash table now: duplicates and references
 * far apart in a large scenario are still found. */
static void test_scen_names_large(void)
{
    cr_sbuf b = {0};
    char tmp[256];
    const char *head = "{\"name\": \"n\", \"duration_s\": 100, \"services\": [";
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, head, strlen(head)), 0);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(tmp, sizeof tmp,
                         "%s{\"name\": \"s%d\", \"cmd\": [\"true\"]}",
                         i ? ",\n" : "\n", i % 4999);
        CU_ASSERT_EQUAL(cr_sbuf_add(&b, tmp, (size_t)n), 0);
    }
    const char *tail =
        "],\n \"faults\": [{\"kind\": \"kill\", \"name\": \"f\", \"target\": "
        "\"s4998\"},\n {\"kind\": \"kill\", \"name\": \"f\", \"target\": "
        "\"s5000\"}],\n"
        " \"steady_state\": [{\"kind\": \"tcp\", \"port\": 1, \"name\": "
        "\"p\"}, {\"kind\": \"tcp\", \"port\": 1, \"name\": \"p\"}],\n"
        " \"expect\": [{\"kind\": \"steady_state\", \"name\": \"x\"}, "
        "{\"kind\": \"steady_state\", \"name\": \"x\"}]}";
    CU_ASSERT_EQUAL(cr_sbuf_add(&b, tail, strlen(tail)), 0);
    char *msgs = NULL;
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(load_str("n.json", b.s, &sc, &msgs), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        msgs, "n.json:5001:10: services[4999].name: duplicate service name "
              "\"s0\" (also services[0])\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "faults[1].name: duplicate fault name "
                                        "\"f\" (also faults[0])"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "faults[1].target: unknown service "
                                        "\"s5000\""));
    CU_ASSERT_PTR_NULL(strstr(msgs, "faults[0].target"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "steady_state[1].name: duplicate "
                                        "probe name \"p\" (also "
                                        "steady_state[0])"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "expect[1].name: duplicate "
                                        "expectation name \"x\" (also "
                                        "expect[0])"));
    free(msgs);
    cr_free(b.s);
}

/* ---- variable expansion ------------------------------------------------- */

static void test_scen_variable_expansion(void)
{
    const char *text =
        "{\"name\": \"v\", \"duration_s\": 5, \"services\": [{\"name\": "
        "\"s\",\n"
        " \"cmd\": [\"${CR_TEST_X}/a\", \"${CR_TEST_UNSET:-d-f}\", "
        "\"$${LIT}\",\n"
        "         \"${CHAOSRUN_SCENARIO_DIR}\", \"${CHAOSRUN_BINDIR}\", "
        "\"a$b\",\n"
        "         \"${CR_TEST_EMPTY:-e}\", \"x${CR_TEST_EMPTY}y\"],\n"
        " \"env\": {\"K\": \"${CR_TEST_X}${CR_TEST_X}\"}, \"cwd\": "
        "\"${CR_TEST_X}\",\n"
        " \"ready\": {\"kind\": \"http\", \"url\": "
        "\"http://${CR_TEST_X}/\"}}]}";
    cr_scen *sc = NULL;
    char *msgs = NULL;
    setenv("CR_TEST_X", "val", 1);
    setenv("CR_TEST_EMPTY", "", 1);
    unsetenv("CR_TEST_UNSET");
    setenv("CHAOSRUN_BINDIR", "/opt/cr/bin", 1);
    int rc = load_str("/no/such/dir/v.json", text, &sc, &msgs);
    if (rc)
        fprintf(stderr, "%s", msgs);
    free(msgs);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char **a = sc->svcs[0].argv;
    CU_ASSERT_STRING_EQUAL(a[0], "val/a");
    CU_ASSERT_STRING_EQUAL(a[1], "d-f");
    CU_ASSERT_STRING_EQUAL(a[2], "${LIT}");
    CU_ASSERT_STRING_EQUAL(a[3], "/no/such/dir");
    CU_ASSERT_STRING_EQUAL(a[4], "/opt/cr/bin");
    CU_ASSERT_STRING_EQUAL(a[5], "a$b");
    CU_ASSERT_STRING_EQUAL(a[6], "e");
    CU_ASSERT_STRING_EQUAL(a[7], "xy");
    CU_ASSERT_STRING_EQUAL(sc->svcs[0].env[0], "K=valval");
    CU_ASSERT_STRING_EQUAL(sc->svcs[0].cwd, "val");
    CU_ASSERT_STRING_EQUAL(sc->svcs[0].ready.url, "http://val/");
    cr_scen_free(sc);

    /* Without the override: the directory of the running executable. */
    unsetenv("CHAOSRUN_BINDIR");
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CU_ASSERT_FATAL(k > 0);
    exe[k] = '\0';
    CU_ASSERT_EQUAL_FATAL(load_str("rel/v.json", text, &sc, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sc->svcs[0].argv[4], dirname(exe));
    /* A relative scenario path becomes absolute. */
    CU_ASSERT_EQUAL(sc->svcs[0].argv[3][0], '/');
    CU_ASSERT_PTR_NOT_NULL(strstr(sc->svcs[0].argv[3], "/rel"));
    cr_scen_free(sc);

    /* Unknown variable: an error at the string, every one reported. */
    unsetenv("CR_TEST_X");
    CU_ASSERT_EQUAL(load_str("v.json", text, &sc, &msgs), CR_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "v.json:2:10: services[0].cmd[0]: "
                                        "unknown variable \"CR_TEST_X\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "services[0].env.K: unknown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "services[0].cwd: unknown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "services[0].ready.url: unknown"));
    free(msgs);
    unsetenv("CR_TEST_EMPTY");
}

/* ---- targets, signals, edit distance ------------------------------------ */

static void test_scen_target_parse(void)
{
    cr_target t;
    char buf[64];
    CU_ASSERT_EQUAL(cr_target_parse("api", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.service, "api");
    CU_ASSERT_EQUAL(t.replica, CR_REPLICA_ALL);
    cr_target_format(&t, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "api");
    cr_free(t.service);
    CU_ASSERT_EQUAL(cr_target_parse("api.12", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.service, "api");
    CU_ASSERT_EQUAL(t.replica, 12);
    cr_target_format(&t, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "api.12");
    cr_free(t.service);
    CU_ASSERT_EQUAL(cr_target_parse("my-svc.random", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.service, "my-svc");
    CU_ASSERT_EQUAL(t.replica, CR_REPLICA_RANDOM);
    cr_target_format(&t, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "my-svc.random");
    cr_free(t.service);
    CU_ASSERT_EQUAL(cr_target_parse("api.all", &t), 0);
    CU_ASSERT_EQUAL(t.replica, CR_REPLICA_ALL);
    cr_free(t.service);
    const char *bad[] = {"",       ".1",     "api.",        "api.x",
                         "api.-1", "api.1x", "api.1234567", NULL};
    for (int i = 0; bad[i]; i++) {
        CU_ASSERT_EQUAL(cr_target_parse(bad[i], &t), CR_EINVAL);
        CU_ASSERT_PTR_NULL(t.service);
    }
    CU_ASSERT_EQUAL(cr_target_parse(NULL, &t), CR_EINVAL);
    cr_target none = {NULL, CR_REPLICA_ALL};
    cr_target_format(&none, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "-");
}

static void test_scen_signal_parse(void)
{
    CU_ASSERT_EQUAL(cr_signal_parse("SIGKILL"), SIGKILL);
    CU_ASSERT_EQUAL(cr_signal_parse("KILL"), SIGKILL);
    CU_ASSERT_EQUAL(cr_signal_parse("kill"), SIGKILL);
    CU_ASSERT_EQUAL(cr_signal_parse("sigterm"), SIGTERM);
    CU_ASSERT_EQUAL(cr_signal_parse("15"), SIGTERM);
    CU_ASSERT_EQUAL(cr_signal_parse("SIGSTOP"), SIGSTOP);
    CU_ASSERT_EQUAL(cr_signal_parse("SIGFOO"), -1);
    CU_ASSERT_EQUAL(cr_signal_parse(""), -1);
    CU_ASSERT_EQUAL(cr_signal_parse(NULL), -1);
    CU_ASSERT_EQUAL(cr_signal_parse("0"), -1);
    CU_ASSERT_EQUAL(cr_signal_parse("99"), -1);
    CU_ASSERT_EQUAL(cr_signal_parse("9x"), -1);
    CU_ASSERT_EQUAL(cr_signal_parse("SIGKILLKILLKILLKILLKILLKILLKILLKILL"), -1);
    CU_ASSERT_STRING_EQUAL(cr_signal_name(SIGKILL), "SIGKILL");
    CU_ASSERT_STRING_EQUAL(cr_signal_name(SIGINT), "SIGINT");
    CU_ASSERT_PTR_NULL(cr_signal_name(0));
    CU_ASSERT_PTR_NULL(cr_signal_name(200));
    for (int s = 1; s < 32; s++)
        if (cr_signal_name(s))
            CU_ASSERT_EQUAL(cr_signal_parse(cr_signal_name(s)), s);
}

static void test_scen_levenshtein(void)
{
    CU_ASSERT_EQUAL(cr_levenshtein("kitten", "sitting"), 3);
    CU_ASSERT_EQUAL(cr_levenshtein("", "abc"), 3);
    CU_ASSERT_EQUAL(cr_levenshtein("abc", ""), 3);
    CU_ASSERT_EQUAL(cr_levenshtein("for_s", "for_s"), 0);
    CU_ASSERT_EQUAL(cr_levenshtein("for", "for_s"), 2);
    CU_ASSERT_EQUAL(cr_levenshtein("on_failure", "on-failure"), 1);
}

/* ---- the timeline ------------------------------------------------------- */

static const char *timed =
    "{\"name\": \"tl\", \"seed\": %llu, \"duration_s\": 30,\n"
    " \"services\": [{\"name\": \"w\", \"cmd\": [\"true\"], \"replicas\": "
    "2}],\n"
    " \"faults\": [\n"
    "  {\"kind\": \"kill\", \"name\": \"k\", \"target\": \"w.random\", "
    "\"at_s\": [5, 10]},\n"
    "  {\"kind\": \"pause\", \"name\": \"p\", \"target\": \"w\", \"at_s\": 3,\n"
    "   \"for_s\": 2, \"every_s\": 5, \"until_s\": 20},\n"
    "  {\"kind\": \"pause\", \"name\": \"q\", \"target\": \"w.0\", \"at_s\": "
    "0,\n"
    "   \"for_s\": 5, \"every_s\": 10},\n"
    "  {\"kind\": \"kill\", \"name\": \"i\", \"target\": \"w.1\", \"at_s\": "
    "0,\n"
    "   \"every_s\": 10},\n"
    "  {\"kind\": \"restart\", \"name\": \"r\", \"target\": \"w.1\",\n"
    "   \"at_s\": [0, 20], \"every_s\": 4, \"until_s\": 25},\n"
    "  {\"kind\": \"kill\", \"name\": \"e\", \"target\": \"w.0\",\n"
    "   \"on_event\": {\"ev\": \"ready\", \"svc\": \"w.1\"}}%s\n"
    " ]}";

static cr_scen *load_timed(unsigned long long seed, const char *extra)
{
    char text[4096];
    cr_scen *sc = NULL;
    char *msgs = NULL;
    snprintf(text, sizeof text, timed, seed, extra);
    if (load_str("tl.json", text, &sc, &msgs))
        fprintf(stderr, "%s", msgs ? msgs : "");
    free(msgs);
    return sc;
}

static void test_scen_resolve_deterministic(void)
{
    cr_scen *a = load_timed(1, ""), *b = load_timed(1, "");
    CU_ASSERT_FATAL(a && b);
    for (size_t i = 0; i < a->nfaults; i++) {
        CU_ASSERT_EQUAL(a->faults[i].nstarts, b->faults[i].nstarts);
        for (size_t k = 0; k < a->faults[i].nstarts; k++)
            CU_ASSERT_EQUAL(a->faults[i].starts[k], b->faults[i].starts[k]);
    }
    /* Resolving again with the same seed changes nothing. */
    double k0 = cr_scen_fault(a, "k")->starts[0];
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_scen_resolve(a, &err), 0);
    CU_ASSERT_EQUAL(cr_scen_fault(a, "k")->starts[0], k0);
    /* Another seed moves the ranged faults. */
    a->seed = 2;
    CU_ASSERT_EQUAL(cr_scen_resolve(a, &err), 0);
    CU_ASSERT_NOT_EQUAL(cr_scen_fault(a, "k")->starts[0], k0);
    cr_scen_free(a);
    /* A fault's draw depends on its name, not on the other faults. */
    a = load_timed(1, ",\n  {\"kind\": \"kill\", \"name\": \"z\", "
                      "\"target\": \"w\", \"at_s\": [1, 2]}");
    CU_ASSERT_FATAL(a != NULL);
    CU_ASSERT_EQUAL(cr_scen_fault(a, "k")->starts[0], k0);
    cr_scen_free(a);
    cr_scen_free(b);
}

static void test_scen_resolve_ranges_and_repetition(void)
{
    double kmin = 1e9, kmax = -1;
    for (unsigned long long seed = 0; seed < 200; seed++) {
        cr_scen *sc = load_timed(seed, "");
        CU_ASSERT_FATAL(sc != NULL);
        const cr_fault *k = cr_scen_fault(sc, "k");
        CU_ASSERT_EQUAL_FATAL(k->nstarts, 1);
        CU_ASSERT(k->starts[0] >= 5 && k->starts[0] <= 10);
        if (k->starts[0] < kmin)
            kmin = k->starts[0];
        if (k->starts[0] > kmax)
            kmax = k->starts[0];
        /* Repeated with a drawn start: every 4 s while <= until_s. */
        const cr_fault *r = cr_scen_fault(sc, "r");
        CU_ASSERT(r->nstarts >= 2);
        CU_ASSERT(r->starts[0] >= 0 && r->starts[0] <= 20);
        for (size_t i = 1; i < r->nstarts; i++)
            CU_ASSERT(fabs(r->starts[i] - r->starts[i - 1] - 4) < 1e-9);
        CU_ASSERT(r->starts[r->nstarts - 1] <= 25);
        CU_ASSERT(r->starts[r->nstarts - 1] + 4 > 25);
        cr_scen_free(sc);
    }
    /* The draws cover the range rather than sit on one value. */
    CU_ASSERT(kmin < 6 && kmax > 9);

    cr_scen *sc = load_timed(9, "");
    CU_ASSERT_FATAL(sc != NULL);
    /* at 3, every 5 until 20: 3 8 13 18. */
    const cr_fault *p = cr_scen_fault(sc, "p");
    CU_ASSERT_EQUAL_FATAL(p->nstarts, 4);
    CU_ASSERT_EQUAL(p->starts[0], 3);
    CU_ASSERT_EQUAL(p->starts[3], 18);
    /* at 0, every 10, for 5, until duration 30: 30 would end after 30. */
    const cr_fault *q = cr_scen_fault(sc, "q");
    CU_ASSERT_EQUAL_FATAL(q->nstarts, 3);
    CU_ASSERT_EQUAL(q->starts[2], 20);
    /* Instantaneous every 10 from 0: 0 10 20 30. */
    const cr_fault *i = cr_scen_fault(sc, "i");
    CU_ASSERT_EQUAL_FATAL(i->nstarts, 4);
    CU_ASSERT_EQUAL(i->starts[3], 30);
    /* Triggered: no planned start. */
    CU_ASSERT_EQUAL(cr_scen_fault(sc, "e")->nstarts, 0);
    cr_scen_free(sc);
}

static void test_scen_timeline_json(void)
{
    cr_scen *sc = load_timed(5, "");
    CU_ASSERT_FATAL(sc != NULL);
    json_t *tl = cr_scen_timeline_json(sc);
    CU_ASSERT_FATAL(json_is_array(tl));
    size_t planned = 0;
    for (size_t i = 0; i < sc->nfaults; i++)
        planned += sc->faults[i].nstarts;
    /* Every occurrence plus one entry for the triggered fault. */
    CU_ASSERT_EQUAL(json_array_size(tl), planned + 1);
    double prev = -1;
    for (size_t i = 0; i < planned; i++) {
        json_t *e = json_array_get(tl, i);
        CU_ASSERT(json_is_string(json_object_get(e, "fault")));
        CU_ASSERT(json_is_string(json_object_get(e, "kind")));
        CU_ASSERT(json_is_string(json_object_get(e, "target")));
        CU_ASSERT(json_is_integer(json_object_get(e, "occurrence")));
        CU_ASSERT(json_is_number(json_object_get(e, "for_s")));
        double at = json_number_value(json_object_get(e, "at_s"));
        CU_ASSERT(at >= prev);
        prev = at;
    }
    json_t *k = NULL;
    for (size_t i = 0; i < planned; i++)
        if (strcmp(json_string_value(
                       json_object_get(json_array_get(tl, i), "fault")),
                   "k") == 0)
            k = json_array_get(tl, i);
    CU_ASSERT_FATAL(k != NULL);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(k, "target")),
                           "w.random");
    CU_ASSERT_EQUAL(json_number_value(json_object_get(k, "at_s")),
                    cr_scen_fault(sc, "k")->starts[0]);
    json_t *last = json_array_get(tl, planned);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(last, "fault")),
                           "e");
    CU_ASSERT(json_is_null(json_object_get(last, "at_s")));
    json_t *on = json_object_get(last, "on_event");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(on, "ev")),
                           "ready");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(on, "svc")),
                           "w.1");
    json_decref(tl);

    char *out = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&out, &n);
    cr_scen_print_timeline(sc, fp);
    fclose(fp);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "seed 5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "p #3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "w.random"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "on ready from w.1 #1"));
    free(out);
    cr_scen_free(sc);
}

/* ---- allocation failures ------------------------------------------------ */

/* Fail the Nth allocation for N = 1, 2, ... until the load goes through;
 * every failed load must report CR_ENOMEM without diagnostics (and leak
 * nothing: run under ASan), every completed one the reference result. */
static void oom_loop(const char *text, int want_rc, const char *want_msgs)
{
    long n;
    int done = 0;
    cr_alloc_install_json();
    for (n = 1; n < 200000 && !done; n++) {
        cr_scen *sc = NULL;
        cr_diags d = {0};
        cr_err err;
        cr_err_clear(&err);
        cr_alloc_fail_after(n);
        int rc =
            cr_scen_load_buffer("oom.json", text, strlen(text), &sc, &d, &err);
        cr_alloc_fail_after(0);
        if (rc == CR_ENOMEM) {
            CU_ASSERT_EQUAL(d.n, 0);
            CU_ASSERT_PTR_NULL(sc);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of memory"));
        } else {
            char *got = diags_text(&d);
            CU_ASSERT_EQUAL(rc, want_rc);
            CU_ASSERT(got && strcmp(got, want_msgs) == 0);
            free(got);
            done = 1;
        }
        cr_scen_free(sc);
        cr_diags_free(&d);
    }
    CU_ASSERT(done);
    CU_ASSERT(n > 20); /* the loop did exercise failures */
    fprintf(stderr, "(allocation-failure loop: %ld iterations) ", n - 1);
}

static void test_scen_oom_valid(void)
{
    unsetenv("CR_TEST_UNSET");
    oom_loop(rich, 0, "");
}

static void test_scen_oom_invalid(void)
{
    const char *bad =
        "{\"name\": \"x\", \"duration_s\": 10, \"fautls\": [],\n"
        " \"services\": [{\"name\": \"a\", \"cmd\": [\"${CR_TEST_UNSET}\"],\n"
        "   \"restart\": \"sometimes\"}, {\"name\": \"a\", \"cmd\": []}],\n"
        " \"faults\": [{\"kind\": \"pause\", \"target\": \"b\", \"for\": 1},\n"
        "   {\"kind\": \"kill\", \"target\": \"a\", \"on_event\": {\"ev\": "
        "\"x\"},"
        " \"at_s\": [3, 1]}]}";
    char *ref = NULL;
    unsetenv("CR_TEST_UNSET");
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL_FATAL(load_str("oom.json", bad, &sc, &ref), CR_EINVAL);
    CU_ASSERT(strlen(ref) > 0);
    oom_loop(bad, CR_EINVAL, ref);
    free(ref);
}

/* ---- mutated scenarios --------------------------------------------------- */

static json_t *mut_value(cr_rng *r)
{
    switch (cr_rng_below(r, 12)) {
    case 0:
        return json_integer((json_int_t)cr_rng_below(r, 6) - 1);
    case 1:
        return json_real(cr_rng_range(r, -5, 100));
    case 2:
        return json_string("api");
    case 3:
        return json_string("${CR_TEST_UNSET}");
    case 4:
        return json_null();
    case 5:
        return json_true();
    case 6:
        return json_pack("[ii]", (int)cr_rng_below(r, 70),
                         (int)cr_rng_below(r, 70));
    case 7:
        return json_object();
    case 8:
        return json_array();
    case 9:
        return json_string("api.random");
    case 10:
        return json_string("pause");
    default:
        return json_pack("{s:s}", "ev", "ready");
    }
}

/* Delete, replace or descend into one member or element. */
static void mutate(json_t *j, cr_rng *r, int depth)
{
    if (json_is_object(j) && json_object_size(j)) {
        size_t k = cr_rng_below(r, json_object_size(j)), i = 0;
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (j, tmp, key, v) {
            if (i++ != k)
                continue;
            uint64_t op = cr_rng_below(r, 4);
            if (op == 0)
                json_object_del(j, key);
            else if (op == 1 || depth > 5)
                json_object_set_new(j, key, mut_value(r));
            else
                mutate(v, r, depth + 1);
            return;
        }
    } else if (json_is_array(j) && json_array_size(j)) {
        size_t k = cr_rng_below(r, json_array_size(j));
        uint64_t op = cr_rng_below(r, 4);
        if (op == 0)
            json_array_remove(j, k);
        else if (op == 1)
            json_array_set_new(j, k, mut_value(r));
        else if (op == 2)
            json_array_append(j, json_array_get(j, k));
        else
            mutate(json_array_get(j, k), r, depth + 1);
    }
}

/* Thousands of plausible mistakes: every load either succeeds (and its
 * timeline can be printed) or fails with diagnostics that all have a
 * position; never a crash (run under ASan/UBSan). */
static void test_scen_mutations_never_crash(void)
{
    cr_rng r;
    size_t ok = 0, bad = 0;
    cr_rng_seed(&r, 2026);
    unsetenv("CR_TEST_UNSET");
    for (int it = 0; it < 3000; it++) {
        json_t *j = json_loads(rich, 0, NULL);
        CU_ASSERT_FATAL(j != NULL);
        for (uint64_t m = 0, nm = 1 + cr_rng_below(&r, 3); m < nm; m++)
            mutate(j, &r, 0);
        char *text = json_dumps(j, JSON_INDENT(1));
        json_decref(j);
        CU_ASSERT_FATAL(text != NULL);
        cr_scen *sc = NULL;
        cr_diags d = {0};
        cr_err err;
        cr_err_clear(&err);
        int rc =
            cr_scen_load_buffer("m.json", text, strlen(text), &sc, &d, &err);
        if (rc == 0) {
            ok++;
            json_t *tl = cr_scen_timeline_json(sc);
            CU_ASSERT(json_is_array(tl));
            json_decref(tl);
            FILE *fp = fopen("/dev/null", "w");
            cr_scen_print_timeline(sc, fp);
            fclose(fp);
        } else {
            bad++;
            CU_ASSERT_EQUAL(rc, CR_EINVAL);
            CU_ASSERT(d.n > 0);
            for (size_t i = 0; i < d.n; i++)
                CU_ASSERT(d.v[i].line > 0 && d.v[i].col > 0);
        }
        cr_scen_free(sc);
        cr_diags_free(&d);
        free(text);
    }
    /* Both outcomes were exercised. */
    CU_ASSERT(ok > 100 && bad > 100);
}

/* ---- the shipped example scenarios validate ----------------------------- */

static void test_scen_examples_valid(void)
{
    const char *dir = cr_test_src("scenarios/examples");
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    DIR *dp = opendir(d);
    size_t n = 0;
    CU_ASSERT_FATAL(dp != NULL);
    struct dirent *de;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if ((l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) &&
            (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0))
            continue;
        char f[PATH_MAX + 256];
        snprintf(f, sizeof f, "%s/%s", d, de->d_name);
        cr_scen *sc = NULL;
        cr_diags diags = {0};
        cr_err err;
        cr_err_clear(&err);
        int rc = cr_scen_load(f, &sc, &diags, &err);
        if (rc) {
            cr_diags_print(&diags, stderr);
            fprintf(stderr, "%s\n", err.msg);
        }
        CU_ASSERT_EQUAL(rc, 0);
        cr_diags_free(&diags);
        cr_scen_free(sc);
        n++;
    }
    closedir(dp);
    CU_ASSERT(n >= 1);
}

/* The stop order resolved into each service's stop_deps: by default each
 * service waits for the next one of the list; "parallel": nobody waits;
 * an explicit order; a service's stop_after replaces what the order gives
 * it. */
static int deps_are(const cr_scen *sc, size_t i, size_t n, const size_t *want)
{
    if (sc->svcs[i].nstop_deps != n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (sc->svcs[i].stop_deps[k] != want[k])
            return 0;
    return 1;
}

static void test_scen_stop_order(void)
{
    static const char fmt[] =
        "{\"name\": \"t\", \"duration_s\": 1%s, \"services\": ["
        "{\"name\": \"db\", \"cmd\": [\"true\"]},"
        "{\"name\": \"api\", \"cmd\": [\"true\"]%s},"
        "{\"name\": \"client\", \"cmd\": [\"true\"]}]}";
    char text[1024];
    cr_scen *sc = NULL;
    const size_t one[] = {1}, two[] = {2}, zero[] = {0}, zt[] = {0, 2};

    snprintf(text, sizeof text, fmt, "", "");
    CU_ASSERT_EQUAL_FATAL(load_str("s.json", text, &sc, NULL), 0);
    CU_ASSERT(deps_are(sc, 0, 1, one)); /* db after api */
    CU_ASSERT(deps_are(sc, 1, 1, two)); /* api after client */
    CU_ASSERT(deps_are(sc, 2, 0, NULL));
    CU_ASSERT_FALSE(sc->stop_parallel);
    cr_scen_free(sc);

    snprintf(text, sizeof text, fmt, ", \"stop_order\": \"parallel\"", "");
    CU_ASSERT_EQUAL_FATAL(load_str("s.json", text, &sc, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT(deps_are(sc, i, 0, NULL));
    CU_ASSERT_TRUE(sc->stop_parallel);
    cr_scen_free(sc);

    snprintf(text, sizeof text, fmt,
             ", \"stop_order\": [\"db\", \"client\", \"api\"]", "");
    CU_ASSERT_EQUAL_FATAL(load_str("s.json", text, &sc, NULL), 0);
    CU_ASSERT(deps_are(sc, 0, 0, NULL));
    CU_ASSERT(deps_are(sc, 2, 1, zero));
    CU_ASSERT(deps_are(sc, 1, 1, two));
    cr_scen_free(sc);

    /* With "parallel", api alone waits: for db and client. */
    snprintf(text, sizeof text, fmt, ", \"stop_order\": \"parallel\"",
             ", \"stop_after\": [\"db\", \"client\"]");
    CU_ASSERT_EQUAL_FATAL(load_str("s.json", text, &sc, NULL), 0);
    CU_ASSERT(deps_are(sc, 1, 2, zt));
    CU_ASSERT(deps_are(sc, 0, 0, NULL));
    CU_ASSERT(deps_are(sc, 2, 0, NULL));
    cr_scen_free(sc);

    snprintf(text, sizeof text, fmt, "", ", \"stop_after\": []");
    CU_ASSERT_EQUAL_FATAL(load_str("s.json", text, &sc, NULL), 0);
    CU_ASSERT(deps_are(sc, 1, 0, NULL));
    cr_scen_free(sc);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("scen", NULL, NULL);
    CR_ADD_TEST(s, test_scen_corpus_matcher);
    CR_ADD_TEST(s, test_scen_invalid_corpus);
    CR_ADD_TEST(s, test_scen_valid_defaults);
    CR_ADD_TEST(s, test_scen_seed_drawn_when_absent);
    CR_ADD_TEST(s, test_scen_on_ready_and_drain);
    CR_ADD_TEST(s, test_scen_load_file_errors);
    CR_ADD_TEST(s, test_scen_regex_limits);
    CR_ADD_TEST(s, test_scen_probe_regex_limits);
    CR_ADD_TEST(s, test_scen_file_checks);
    CR_ADD_TEST(s, test_scen_diagnostics_capped);
    CR_ADD_TEST(s, test_scen_occurrences_capped);
    CR_ADD_TEST(s, test_scen_soak_duration);
    CR_ADD_TEST(s, test_scen_names_large);
    CR_ADD_TEST(s, test_scen_variable_expansion);
    CR_ADD_TEST(s, test_scen_target_parse);
    CR_ADD_TEST(s, test_scen_signal_parse);
    CR_ADD_TEST(s, test_scen_levenshtein);
    CR_ADD_TEST(s, test_scen_resolve_deterministic);
    CR_ADD_TEST(s, test_scen_resolve_ranges_and_repetition);
    CR_ADD_TEST(s, test_scen_timeline_json);
    CR_ADD_TEST(s, test_scen_oom_valid);
    CR_ADD_TEST(s, test_scen_oom_invalid);
    CR_ADD_TEST(s, test_scen_mutations_never_crash);
    CR_ADD_TEST(s, test_scen_examples_valid);
    CR_ADD_TEST(s, test_scen_stop_order);
}
