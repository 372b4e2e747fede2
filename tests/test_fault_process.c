/* Tests for the process fault kinds (kill, pause, restart, terminate):
 * their parse rules, and what they do to real processes when the engine
 * runs them (read back from the run's journal). */
#include "base/cr_alloc.h"
#include "faults/cr_fault.h"
#include "faults/process/cr_procfault.h"
#include "engine/cr_run.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parse rules -------------------------------------------------------- */

static const char *scen_fmt =
    "{\"name\": \"p\", \"duration_s\": 30, \"services\": [\n"
    "  {\"name\": \"w\", \"cmd\": [\"sleep\", \"1\"], \"replicas\": 2,\n"
    "   \"stop_signal\": \"SIGINT\", \"stop_timeout_s\": 7}],\n"
    " \"faults\": [%s]}";

/* Load a scenario with one fault; returns the code, diagnostics text in
 * *msgs (malloc'd). */
static int load_fault(const char *fault, cr_scen **sc, char **msgs)
{
    char text[2048];
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    snprintf(text, sizeof text, scen_fmt, fault);
    *sc = NULL;
    int rc = cr_scen_load_buffer("f.json", text, strlen(text), sc, &d, &err);
    char *s = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    cr_diags_print(&d, fp);
    fclose(fp);
    cr_diags_free(&d);
    if (msgs)
        *msgs = s;
    else
        free(s);
    return rc;
}

/* The fault must be rejected with a message containing `want`. */
static void expect_invalid(const char *fault, const char *want)
{
    cr_scen *sc;
    char *msgs;
    int rc = load_fault(fault, &sc, &msgs);
    CU_ASSERT_EQUAL(rc, CR_EINVAL);
    CU_ASSERT_PTR_NULL(sc);
    if (!strstr(msgs, want))
        fprintf(stderr, "\nwanted \"%s\" for %s, got:\n%s", want, fault, msgs);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgs, want));
    free(msgs);
    cr_scen_free(sc);
}

static const cr_procfault_spec *spec_of(const char *fault, cr_scen **sc)
{
    char *msgs;
    int rc = load_fault(fault, sc, &msgs);
    if (rc)
        fprintf(stderr, "\n%s", msgs);
    free(msgs);
    if (rc || !*sc || (*sc)->nfaults != 1)
        return NULL;
    return (*sc)->faults[0].priv;
}

static void test_fault_process_registered(void)
{
    const char *kinds[] = {"kill", "pause", "restart", "terminate"};
    for (int i = 0; i < 4; i++) {
        const cr_fault_ops *o = cr_fault_lookup(kinds[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        CU_ASSERT_STRING_EQUAL(o->kind, kinds[i]);
        CU_ASSERT(o->summary && *o->summary);
        CU_ASSERT(o->flags & CR_FAULT_NEEDS_SERVICE);
        CU_ASSERT_PTR_NOT_NULL(o->parse);
        CU_ASSERT_PTR_NOT_NULL(o->apply);
        for (const cr_param *p = o->params; p && p->name; p++)
            CU_ASSERT(p->type && p->doc && p->dflt);
    }
    CU_ASSERT(cr_fault_lookup("kill")->flags & CR_FAULT_INSTANT);
    CU_ASSERT(cr_fault_lookup("restart")->flags & CR_FAULT_INSTANT);
    CU_ASSERT(cr_fault_lookup("terminate")->flags & CR_FAULT_INSTANT);
    CU_ASSERT(cr_fault_lookup("pause")->flags & CR_FAULT_NEEDS_DURATION);
    CU_ASSERT_PTR_NOT_NULL(cr_fault_lookup("pause")->revert);
}

static void test_fault_process_kill_parse(void)
{
    cr_scen *sc = NULL;
    const cr_procfault_spec *s =
        spec_of("{\"kind\": \"kill\", \"target\": \"w\"}", &sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sig, SIGKILL);
    cr_scen_free(sc);
    s = spec_of(
        "{\"kind\": \"kill\", \"target\": \"w.1\", \"signal\": \"TERM\"}", &sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sig, SIGTERM);
    cr_scen_free(sc);
    s = spec_of("{\"kind\": \"kill\", \"target\": \"w\", \"signal\": 10}", &sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sig, SIGUSR1);
    cr_scen_free(sc);
    expect_invalid(
        "{\"kind\": \"kill\", \"target\": \"w\", \"signal\": \"SIGKIL\"}",
        "f.json:4:55: faults[0].signal: unknown signal \"SIGKIL\" "
        "(did you mean \"SIGKILL\"?)");
    expect_invalid("{\"kind\": \"kill\", \"target\": \"w\", \"signal\": true}",
                   "faults[0].signal: must be a signal name");
    expect_invalid("{\"kind\": \"kill\"}",
                   "faults[0]: missing required key \"target\"");
    expect_invalid("{\"kind\": \"kill\", \"target\": \"w\", \"for_s\": 1}",
                   "faults[0]: kind \"kill\" is instantaneous");
    expect_invalid("{\"kind\": \"kill\", \"target\": \"w\", \"sig\": 9}",
                   "faults[0]: unknown key \"sig\"");
}

static void test_fault_process_pause_parse(void)
{
    cr_scen *sc = NULL;
    char *msgs = NULL;
    CU_ASSERT_EQUAL(load_fault("{\"kind\": \"pause\", \"target\": \"w.0\", "
                               "\"at_s\": 1, \"for_s\": 2}",
                               &sc, &msgs),
                    0);
    free(msgs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_EQUAL(sc->faults[0].for_s, 2);
    CU_ASSERT_EQUAL(sc->faults[0].target.replica, 0);
    cr_scen_free(sc);
    expect_invalid("{\"kind\": \"pause\", \"target\": \"w\"}",
                   "faults[0]: kind \"pause\" needs \"for_s\" > 0");
    expect_invalid("{\"kind\": \"pause\", \"target\": \"w\", \"for_s\": 0}",
                   "faults[0].for_s: kind \"pause\" needs \"for_s\" > 0");
    expect_invalid("{\"kind\": \"pause\", \"target\": \"w\", \"for_s\": 1, "
                   "\"signal\": \"STOP\"}",
                   "faults[0]: unknown key \"signal\"");
    expect_invalid("{\"kind\": \"pause\", \"for_s\": 1}",
                   "missing required key \"target\"");
}

static void test_fault_process_pause_revert_idempotent(void)
{
    /* Revert of an occurrence that was never applied does nothing (the
     * engine reverts whatever is still active at the end, and after a
     * failed apply). */
    cr_fault f = {0};
    cr_fault_act act = {0};
    cr_err err;
    cr_err_clear(&err);
    f.name = "p";
    act.fault = &f;
    CU_ASSERT_EQUAL(cr_fault_lookup("pause")->revert(&f, NULL, &act, &err), 0);
    CU_ASSERT_EQUAL(cr_fault_lookup("pause")->revert(&f, NULL, &act, &err), 0);
    CU_ASSERT_EQUAL(err.code, 0);
}

static void test_fault_process_restart_parse(void)
{
    cr_scen *sc = NULL;
    const cr_procfault_spec *s =
        spec_of("{\"kind\": \"restart\", \"target\": \"w.random\"}", &sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sig, SIGTERM);
    CU_ASSERT(s->timeout_s < 0); /* the service's stop_timeout_s */
    cr_scen_free(sc);
    s = spec_of("{\"kind\": \"restart\", \"target\": \"w\", \"signal\": "
                "\"SIGHUP\", \"timeout_s\": 0.5}",
                &sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->sig, SIGHUP);
    CU_ASSERT_EQUAL(s->timeout_s, 0.5);
    cr_scen_free(sc);
    expect_invalid(
        "{\"kind\": \"restart\", \"target\": \"w\", \"timeout_s\": -1}",
        "faults[0].timeout_s: must be a number between 0 and 3600 "
        "(got -1)");
    expect_invalid("{\"kind\": \"restart\", \"target\": \"w\", \"timeout\": 1}",
                   "unknown key \"timeout\" (did you mean \"timeout_s\"?)");
    expect_invalid("{\"kind\": \"restart\", \"target\": \"w\", \"for_s\": 2}",
                   "kind \"restart\" is instantaneous");
}

static void test_fault_process_terminate_parse(void)
{
    cr_scen *sc = NULL;
    char *msgs = NULL;
    CU_ASSERT_EQUAL(load_fault("{\"kind\": \"terminate\", \"target\": \"w.1\"}",
                               &sc, &msgs),
                    0);
    free(msgs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_PTR_NULL(sc->faults[0].priv);
    cr_scen_free(sc);
    expect_invalid(
        "{\"kind\": \"terminate\", \"target\": \"w\", \"signal\": 9}",
        "faults[0]: unknown key \"signal\"");
    expect_invalid("{\"kind\": \"terminate\", \"target\": \"w.2\"}",
                   "replica 2 out of range");
}

/* ---- what they do, through the engine ----------------------------------- */

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(p);
}

static json_t *inst_history(json_t *journal, const char *inst)
{
    size_t i;
    json_t *s;
    json_array_foreach (json_object_get(journal, "services"), i, s) {
        const char *n = json_string_value(json_object_get(s, "instance"));
        if (n && strcmp(n, inst) == 0)
            return json_object_get(s, "history");
    }
    return NULL;
}

static json_t *fault_rec(json_t *journal, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(journal, "faults"), i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

static size_t count_what(json_t *hist, const char *what)
{
    size_t i, n = 0;
    json_t *h;
    json_array_foreach (hist, i, h) {
        const char *w = json_string_value(json_object_get(h, "what"));
        n += w && strcmp(w, what) == 0;
    }
    return n;
}

static json_t *first_what(json_t *hist, const char *what)
{
    size_t i;
    json_t *h;
    json_array_foreach (hist, i, h) {
        const char *w = json_string_value(json_object_get(h, "what"));
        if (w && strcmp(w, what) == 0)
            return h;
    }
    return NULL;
}

static const char *str_at(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void test_fault_process_effects(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char text[4096], ticks[512], out[512], jpath[600];
    snprintf(ticks, sizeof ticks, "%s/ticks", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    /* b writes a timestamp every 20 ms: a pause shows as a gap. */
    snprintf(text, sizeof text,
             "{\"name\": \"procfaults\", \"seed\": 7, \"duration_s\": 2.5,"
             " \"drain_s\": 0.2, \"services\": [\n"
             "  {\"name\": \"a\", \"cmd\": [\"sleep\", \"1000\"]},\n"
             "  {\"name\": \"b\", \"cmd\": [\"sh\", \"-c\", \"while :; do date "
             "+%%s.%%N"
             " >> \\\"$TICKS\\\"; sleep 0.02; done\"], \"env\": {\"TICKS\": "
             "\"%s\"}},\n"
             "  {\"name\": \"c\", \"cmd\": [\"sleep\", \"1000\"]},\n"
             "  {\"name\": \"d\", \"cmd\": [\"sleep\", \"1000\"], \"restart\": "
             "\"always\","
             "   \"stop_signal\": \"SIGINT\", \"stop_timeout_s\": 1}],\n"
             " \"faults\": [\n"
             "  {\"kind\": \"kill\", \"name\": \"k\", \"target\": \"a\", "
             "\"at_s\": 0.2},\n"
             "  {\"kind\": \"kill\", \"name\": \"k2\", \"target\": \"a\", "
             "\"at_s\": 0.8},\n"
             "  {\"kind\": \"pause\", \"name\": \"p\", \"target\": \"b\", "
             "\"at_s\": 0.5,"
             "   \"for_s\": 1},\n"
             "  {\"kind\": \"restart\", \"name\": \"r\", \"target\": \"c.0\","
             "   \"at_s\": 0.3, \"timeout_s\": 1},\n"
             "  {\"kind\": \"terminate\", \"name\": \"t\", \"target\": \"d\","
             "   \"at_s\": 0.4}]}",
             ticks);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("pf.json", text, strlen(text), &sc, &d, &err);
    if (rc)
        cr_diags_print(&d, stderr);
    cr_diags_free(&d);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* The janitor is the built chaosrun, not this test program. */
    cr_run_opts opts = {.out_dir = out,
                        .argv0 = "chaosrun",
                        .self_exe = cr_test_bin("chaosrun")};
    cr_run_scenario(sc, &opts, NULL);
    snprintf(jpath, sizeof jpath, "%s/journal.json", out);
    json_error_t je;
    json_t *j = json_load_file(jpath, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);

    /* kill: a.0 died of SIGKILL, the pid killed is the one started. */
    json_t *ha = inst_history(j, "a.0");
    json_t *ex = first_what(ha, "exit");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT_STRING_EQUAL(str_at(ex, "signal"), "SIGKILL");
    json_t *fk = fault_rec(j, "k");
    CU_ASSERT_STRING_EQUAL(str_at(fk, "outcome"), "applied");
    json_t *det = json_object_get(fk, "details");
    CU_ASSERT_STRING_EQUAL(str_at(det, "signal"), "SIGKILL");
    CU_ASSERT_EQUAL(
        json_integer_value(json_array_get(json_object_get(det, "pids"), 0)),
        json_integer_value(json_object_get(first_what(ha, "start"), "pid")));
    /* A second kill finds nothing running (restart "never"): it fails and
     * says why. */
    json_t *fk2 = fault_rec(j, "k2");
    CU_ASSERT_STRING_EQUAL(str_at(fk2, "outcome"), "failed");
    CU_ASSERT_PTR_NOT_NULL(strstr(str_at(fk2, "error"), "a.0 is not running"));
    CU_ASSERT_EQUAL(count_what(ha, "start"), 1);

    /* pause: paused then resumed, and the ticker stopped meanwhile. */
    json_t *hb = inst_history(j, "b.0");
    CU_ASSERT_EQUAL(count_what(hb, "paused"), 1);
    CU_ASSERT_EQUAL(count_what(hb, "resumed"), 1);
    json_t *fp = fault_rec(j, "p");
    CU_ASSERT_STRING_EQUAL(str_at(fp, "outcome"), "applied");
    CU_ASSERT(json_is_number(json_object_get(fp, "reverted_t")));
    FILE *tf = fopen(ticks, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tf);
    double prev = 0, t, gap = 0;
    size_t nt = 0, after = 0;
    while (fscanf(tf, "%lf", &t) == 1) {
        if (nt && t - prev > gap) {
            gap = t - prev;
            after = 0;
        }
        after++;
        prev = t;
        nt++;
    }
    fclose(tf);
    /* A stopped process writes nothing between SIGSTOP and SIGCONT: the
     * longest silence covers the whole window the engine measured; ticks
     * resume afterwards. */
    double window = json_number_value(json_object_get(fp, "reverted_t")) -
                    json_number_value(json_object_get(fp, "applied_t"));
    CU_ASSERT(window > 0.5);
    CU_ASSERT(gap >= window - 0.01);
    if (gap < window - 0.01)
        fprintf(stderr, "\nlongest tick gap %.3f s, pause window %.3f s\n", gap,
                window);
    CU_ASSERT(after >= 2);

    /* restart: stopped with SIGTERM and started again. */
    json_t *hc = inst_history(j, "c.0");
    CU_ASSERT_EQUAL(count_what(hc, "start"), 2);
    CU_ASSERT_STRING_EQUAL(str_at(first_what(hc, "exit"), "signal"), "SIGTERM");
    CU_ASSERT_EQUAL(
        json_is_true(json_object_get(
            json_object_get(fault_rec(j, "r"), "details"), "restart")),
        1);

    /* terminate: the service's stop_signal, and no restart even though the
     * policy is "always". */
    json_t *hd = inst_history(j, "d.0");
    CU_ASSERT_STRING_EQUAL(str_at(first_what(hd, "exit"), "signal"), "SIGINT");
    CU_ASSERT_EQUAL(count_what(hd, "start"), 1);
    CU_ASSERT_STRING_EQUAL(
        str_at(json_object_get(fault_rec(j, "t"), "details"), "signal"),
        "SIGINT");

    json_decref(j);
    cr_scen_free(sc);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("fault_process", NULL, NULL);
    CR_ADD_TEST(s, test_fault_process_registered);
    CR_ADD_TEST(s, test_fault_process_kill_parse);
    CR_ADD_TEST(s, test_fault_process_pause_parse);
    CR_ADD_TEST(s, test_fault_process_pause_revert_idempotent);
    CR_ADD_TEST(s, test_fault_process_restart_parse);
    CR_ADD_TEST(s, test_fault_process_terminate_parse);
    CR_ADD_TEST(s, test_fault_process_effects);
}
