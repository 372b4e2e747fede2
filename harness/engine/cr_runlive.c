/* cr_runlive: judging while the run goes on (checks/cr_live.h).
 *
 * About once a second after t0 the loop parses the events that came,
 * feeds them in time order to the checkers that stream, and writes the
 * states to status.json in the run directory (replaced atomically through
 * the run directory's fd: a temporary file made with O_EXCL, then
 * renameat, never following a link; reports/README.md, "status.json").
 * With --fail-fast the first violation that no later event can mend stops
 * the run: the ordered stop as at the end of the timeline (faults
 * reverted, services stopped), then judged and reported as usual; the
 * journal's "stopped_early" and its log say which expectation and why.
 * At the end the last status.json carries "final": true and each
 * expectation's verdict. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "cr_run_internal.h"

#define LIVE_PERIOD_S   1.0
#define LIVE_LATENESS_S 1.0

static const char *const phase_names[] = {
    [CR_PH_INIT] = "init",     [CR_PH_STARTUP] = "startup",
    [CR_PH_BEFORE] = "before", [CR_PH_FAULTS] = "faults",
    [CR_PH_DRAIN] = "drain",   [CR_PH_AFTER] = "after",
    [CR_PH_STOP] = "stop",     [CR_PH_DONE] = "done",
};

static int live_wanted(const cr_run *r)
{
    return !r->opts->baseline && r->t0_set && !r->live_failed;
}

static void live_off(cr_run *r, const char *why)
{
    r->live_failed = 1;
    cr_run_log(r,
               "live judging stopped: %s (the verdicts at the end are "
               "not affected)",
               why);
}

static int cmp_fault(const void *a, const void *b)
{
    const cr_fact_fault *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The fault windows applied so far (an open one ends now).  Names and
 * kinds are borrowed from the scenario; targets are not needed live. */
static size_t live_faults(const cr_run *r, cr_fact_fault *ff, double now,
                          double *t_end_faults)
{
    size_t n = 0;
    *t_end_faults = 0;
    for (size_t i = 0; i < r->nacts; i++) {
        const cr_act_rec *a = r->acts[i];
        if (isnan(a->t_applied))
            continue;
        cr_fact_fault *f = &ff[n++];
        f->name = a->act.fault->name;
        f->kind = a->act.fault->ops->kind;
        f->target = "-";
        f->start = a->t_applied;
        f->applied = a->t_applied;
        f->end = isnan(a->t_reverted) ? now : a->t_reverted;
        f->ok = a->state != 3;
        if (f->ok && f->end > *t_end_faults)
            *t_end_faults = f->end;
    }
    qsort(ff, n, sizeof *ff, cmp_fault);
    return n;
}

/* Feed what came and take every state.  The index of the first final
 * violation, or -1 (also when live judging is off). */
static long live_update(cr_run *r, int flush)
{
    cr_err err;
    cr_err_clear(&err);
    if (!r->live) {
        r->live_st = cr_calloc(r->sc->nexpects + 1, sizeof *r->live_st);
        if (!r->live_st ||
            cr_live_set_new(r->sc, LIVE_LATENESS_S, &r->live, &err) != 0) {
            live_off(r, "out of memory");
            return -1;
        }
    }
    double now = cr_run_now(r);
    if (cr_live_set_feed(r->live, &r->hist, now, flush, &err) != 0) {
        live_off(r, err.msg);
        return -1;
    }
    cr_fact_fault *ff = cr_calloc(r->nacts + 1, sizeof *ff);
    if (!ff) {
        live_off(r, "out of memory");
        return -1;
    }
    cr_facts f = {
        .scen = r->sc,
        .hist = &r->hist,
        .faults = ff,
        .t_workload_end = r->sc->duration_s,
        .t_end = now,
        .run_dir = r->dir,
    };
    f.nfaults = live_faults(r, ff, now, &f.t_faults_end);
    long first = cr_live_set_status(r->live, &f, r->live_st);
    cr_free(ff);
    memset(r->live_counts, 0, sizeof r->live_counts);
    for (size_t i = 0; i < r->sc->nexpects; i++)
        r->live_counts[r->live_st[i].state]++;
    return first;
}

/* The content of status.json (new reference, NULL when out of memory). */
static json_t *status_json(cr_run *r, int final)
{
    json_t *exps = cr_live_json(r->sc, r->live_st);
    const size_t *c = r->live_counts;
    json_t *early = json_object_get(r->journal, "stopped_early");
    json_t *j = json_pack(
        "{s:i,s:s,s:I,s:s,s:f,s:b,s:b,s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,"
        "s:I,s:I},s:O,s:o}",
        "version", 1, "scenario", r->sc->name, "seed", (json_int_t)r->seed,
        "phase", phase_names[r->phase], "t", cr_run_now(r), "final", final,
        "fail_fast", r->opts->fail_fast != 0, "counts", "holding",
        (json_int_t)c[CR_LIVE_HOLDING], "violated",
        (json_int_t)c[CR_LIVE_VIOLATED], "pending",
        (json_int_t)c[CR_LIVE_PENDING], "at_end", (json_int_t)c[CR_LIVE_AT_END],
        "events", "received", (json_int_t)(r->hist.n + r->ev_unparsed),
        "judged", (json_int_t)cr_live_set_fed(r->live), "held_back",
        (json_int_t)cr_live_set_held(r->live), "late",
        (json_int_t)cr_live_set_late(r->live), "disordered",
        (json_int_t)cr_live_set_disordered(r->live), "stopped_early",
        early ? early : json_null(), "expectations",
        exps ? exps : json_array());
    return j;
}

static void status_write(cr_run *r, json_t *j)
{
    cr_err e;
    cr_err_clear(&e);
    char *text =
        j ? json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    if (!text) {
        live_off(r, "status.json: out of memory");
        return;
    }
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps's NUL becomes the last newline */
    if (cr_dir_write(r->dirfd, "status.json", text, n + 1, 0644, &e) != 0)
        live_off(r, e.msg);
    free(text);
}

/* --fail-fast: expectation i is violated for good; stop the run. */
static void stop_early(cr_run *r, long i)
{
    const cr_expect *x = &r->sc->expects[i];
    const cr_live *o = &r->live_st[i];
    double now = cr_run_now(r);
    r->stopped_early = i;
    json_object_set_new(r->journal, "stopped_early",
                        json_pack("{s:s,s:s,s:s,s:f,s:f,s:s}", "reason",
                                  "fail-fast", "expectation", x->name, "kind",
                                  x->ops->kind, "violated_at", o->since, "t",
                                  now, "summary", o->summary));
    cr_run_log(r,
               "--fail-fast: expectation %s (%s) violated at t=%.3f, which "
               "no later event can mend: %s; stopping the run early (%.3g s "
               "of a %.3g s timeline)",
               x->name, x->ops->kind, o->since, o->summary, now,
               r->sc->duration_s);
    cr_run_stop_phase(r);
}

void cr_runlive_tick(cr_run *r, int force)
{
    if (!live_wanted(r))
        return;
    double m = cr_run_mono();
    if (!force && m < r->live_next)
        return;
    r->live_next = m + LIVE_PERIOD_S;
    cr_run_read_events(r);
    long first = live_update(r, 0);
    if (r->live_failed)
        return;
    if (first >= 0 && r->opts->fail_fast && r->stopped_early < 0 &&
        !r->interrupted && r->phase >= CR_PH_FAULTS && r->phase < CR_PH_STOP)
        stop_early(r, first);
    json_t *j = status_json(r, 0);
    status_write(r, j);
    json_decref(j);
}

void cr_runlive_flush(cr_run *r)
{
    if (live_wanted(r))
        live_update(r, 1);
}

void cr_runlive_end(cr_run *r, int exit_code)
{
    if (live_wanted(r) && r->live) {
        json_t *j = status_json(r, 1);
        json_t *exps = json_object_get(j, "expectations");
        json_t *verdicts = json_object_get(r->journal, "expectations");
        size_t i;
        json_t *o;
        json_array_foreach (exps, i, o) {
            const char *v = json_string_value(
                json_object_get(json_array_get(verdicts, i), "verdict"));
            json_object_set_new(o, "verdict", v ? json_string(v) : json_null());
        }
        json_object_set(j, "status", json_object_get(r->journal, "status"));
        json_object_set_new(j, "exit_code", json_integer(exit_code));
        status_write(r, j);
        json_decref(j);
    }
    cr_live_set_free(r->live);
    r->live = NULL;
    cr_free(r->live_st);
    r->live_st = NULL;
}
