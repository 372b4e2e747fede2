/* cr_junit: JUnit XML writer (see cr_junit.h for the mapping). */
#include "cr_junit.h"

#include <math.h>
#include <string.h>

#include "cr_evid.h"
#include "cr_fmt.h"
#include "cr_report_internal.h"

static int run_errored(const cr_report *r)
{
    const char *s = cr_report_verdict(r);
    return strcmp(s, "passed") && strcmp(s, "failed");
}

void cr_junit_counts(const cr_report *r, size_t *tests, size_t *failures,
                     size_t *errors, double *time_s)
{
    *tests = r->nex + (run_errored(r) ? 1 : 0);
    /* Expectations the engine did not judge (the run did not start or was
     * interrupted) are <skipped>: the run's <error> keeps the suite red. */
    *failures = r->nfailed + r->nunknown - cr_rep_count_not_judged(r);
    *errors = run_errored(r) ? 1 : 0;
    double t = r->ended_at - r->started_at;
    *time_s = isnan(t) || t < 0 ? 0 : t;
}

void cr_junit_begin(cr_out *o, const char *name, size_t tests, size_t failures,
                    size_t errors, double time_s)
{
    cr_out_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    cr_out_puts(o, "<testsuites name=\"");
    cr_out_esc(o, name);
    cr_out_printf(o,
                  "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                  "time=\"%.3f\">\n",
                  tests, failures, errors, time_s);
}

void cr_junit_end(cr_out *o)
{
    cr_out_puts(o, "</testsuites>\n");
}

static void property(cr_out *o, const char *name, const char *value)
{
    if (!value)
        return;
    cr_out_puts(o, "      <property name=\"");
    cr_out_esc(o, name);
    cr_out_puts(o, "\" value=\"");
    cr_out_esc(o, value);
    cr_out_puts(o, "\"/>\n");
}

static void evidence_story(cr_out *o, const cr_rep_expect *x)
{
    char m[64];
    cr_out_esc(o, x->summary);
    cr_out_puts(o, "\n");
    if (x->has_measured) {
        cr_fmt_measured(m, sizeof m, x->measured, x->unit);
        cr_out_puts(o, "measured: ");
        cr_out_esc(o, m);
        if (*x->bound) {
            cr_out_puts(o, ", bound ");
            cr_out_esc(o, x->bound);
        }
        cr_out_puts(o, "\n");
    }
    if (x->lost && x->lost->hint)
        cr_out_wrap(o, "hint: ", x->lost->hint, "\n");
    for (size_t i = 0; i < x->nrows; i++) {
        const cr_rep_evrow *w = &x->rows[i];
        if (i == 0 || i == x->nfail)
            cr_out_puts(o, i < x->nfail ? "evidence:\n"
                                        : "informational (not reasons for "
                                          "the verdict):\n");
        if (!isnan(w->t))
            cr_out_printf(o, "  t=%.3f ", w->t);
        else
            cr_out_puts(o, "  ");
        cr_out_wrap(o, "", w->text, "\n");
    }
    if (x->omitted > 0)
        cr_out_printf(o, "  ... and %lld more\n", x->omitted);
}

static void testcase(const cr_report *r, cr_out *o, const cr_rep_expect *x)
{
    cr_out_puts(o, "    <testcase name=\"");
    cr_out_esc(o, x->name);
    cr_out_puts(o, "\" classname=\"chaosrun.");
    cr_out_esc(o, r->name);
    cr_out_puts(o, "\" time=\"0\"");
    if (!strcmp(x->verdict, "passed")) {
        cr_out_puts(o, ">\n      <system-out>");
        cr_out_esc(o, x->summary);
        cr_out_puts(o, "</system-out>\n    </testcase>\n");
        return;
    }
    if (cr_rep_not_judged(x)) {
        cr_out_puts(o, ">\n      <skipped message=\"");
        cr_out_esc(o, x->summary);
        cr_out_puts(o, "\"/>\n    </testcase>\n");
        return;
    }
    int unknown = strcmp(x->verdict, "failed") != 0;
    cr_out_puts(o, ">\n      <failure message=\"");
    if (unknown)
        cr_out_puts(o, "unknown: ");
    cr_out_esc(o, *x->summary ? x->summary : x->verdict);
    cr_out_puts(o, "\" type=\"");
    cr_out_esc(o, unknown ? "unknown" : (*x->kind ? x->kind : "failed"));
    cr_out_puts(o, "\">");
    evidence_story(o, x);
    cr_out_puts(o, "</failure>\n    </testcase>\n");
}

static void fault_list(const cr_report *r, cr_out *o)
{
    char d[64];
    if (r->nfaults == 0) {
        cr_out_puts(o, "no faults were injected\n");
        return;
    }
    cr_out_puts(o, "faults:\n");
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        cr_out_printf(o, "  t=%.3f ", f->start);
        cr_out_esc(o, f->name);
        cr_out_puts(o, " (");
        cr_out_esc(o, f->kind);
        cr_out_puts(o, ") on ");
        cr_out_esc(o, *f->target ? f->target : "-");
        cr_out_puts(o, ": ");
        cr_out_esc(o, f->outcome);
        if (!f->instant) {
            cr_fmt_fault_lasted(d, sizeof d, f);
            cr_out_printf(o, " for %s", d);
        }
        if (f->error) {
            cr_out_puts(o, ": ");
            cr_out_esc(o, f->error);
        }
        cr_out_puts(o, "\n");
    }
}

void cr_junit_suite(const cr_report *r, cr_out *o)
{
    size_t tests, failures, errors;
    double time_s;
    char ts[32];
    cr_junit_counts(r, &tests, &failures, &errors, &time_s);
    cr_fmt_iso(ts, sizeof ts, r->started_at);
    const char *host =
        cr_rep_jstr(json_object_get(r->journal, "machine"), "hostname");
    cr_out_puts(o, "  <testsuite name=\"");
    cr_out_esc(o, r->name);
    cr_out_printf(o,
                  "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                  "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\"",
                  tests, failures, errors, cr_rep_count_not_judged(r), time_s,
                  ts);
    if (host) {
        cr_out_puts(o, " hostname=\"");
        cr_out_esc(o, host);
        cr_out_puts(o, "\"");
    }
    cr_out_puts(o, ">\n    <properties>\n");
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", r->seed);
    property(o, "seed", r->has_seed ? seed : NULL);
    property(o, "seed_source", r->seed_source);
    property(o, "reproduce", r->reproduce);
    property(o, "scenario_file", r->scenario_file);
    property(o, "status", cr_report_verdict(r));
    property(o, "run_dir", r->dir);
    cr_out_puts(o, "    </properties>\n");
    if (run_errored(r)) {
        const char *st = cr_report_verdict(r);
        cr_out_puts(o, "    <testcase name=\"run\" classname=\"chaosrun.");
        cr_out_esc(o, r->name);
        cr_out_puts(o, "\" time=\"0\">\n      <error message=\"");
        cr_out_esc(o, st);
        if (r->error) {
            cr_out_puts(o, ": ");
            cr_out_esc(o, r->error);
        }
        cr_out_puts(o, "\" type=\"");
        cr_out_esc(o, st);
        cr_out_puts(o, "\">");
        cr_out_esc(o, r->error ? r->error
                      : !strcmp(st, "interrupted")
                          ? cr_rep_interrupted_note(r)
                          : "the run did not complete");
        cr_out_puts(o, "</error>\n    </testcase>\n");
    }
    for (size_t i = 0; i < r->nex; i++)
        testcase(r, o, &r->ex[i]);
    cr_out_puts(o, "    <system-out>");
    if (r->reproduce) {
        cr_out_puts(o, "reproduce: ");
        cr_out_esc(o, r->reproduce);
        cr_out_puts(o, "\n");
    }
    fault_list(r, o);
    cr_out_puts(o, "</system-out>\n  </testsuite>\n");
}

int cr_junit_write(const cr_report *r, cr_out *o, cr_err *err)
{
    size_t tests, failures, errors;
    double time_s;
    cr_junit_counts(r, &tests, &failures, &errors, &time_s);
    cr_junit_begin(o, r->name, tests, failures, errors, time_s);
    cr_junit_suite(r, o);
    cr_junit_end(o);
    if (cr_out_failed(o))
        return cr_err_set(err, CR_ENOMEM, "junit.xml for %s: out of memory",
                          r->name);
    return 0;
}
