/* cr_check_checkpoint: after a crash, a service resumes from exactly the
 * checkpoint it last saved, and replays at most max_replay steps.
 *
 * A crash is an exit of one of the service's instances (facts->procs) by
 * a signal or a non-zero code, or with cause "fault:...", but not an exit
 * caused by the run's own stop.  For each crash of instance I at time tc:
 * S = the step of I's last `checkpoint_saved` before tc (same `name` field
 * when the key "checkpoint" is set), R = the step of I's first
 * `checkpoint_restored` after tc and before I's next exit, H = the highest
 * `step` of any event of I since its previous crash (progress,
 * checkpoint_saved, ...).  R must equal S (older: work lost; newer:
 * restored something never saved), and H - R <= max_replay.
 *
 * A correct service can be caught in awkward places, and those are not
 * failures:
 * - killed after making checkpoint R durable but before reporting it: R > S
 *   is accepted when I had reached step R (R <= H; details.unreported_saves);
 * - killed again while starting (no restore, no step reported, the next
 *   exit a crash): that restart is not judged, the next crash is;
 * - stopped by the run while starting: restarted, nothing with a step
 *   reported, ended by the run's stop, and either never ready or restarted
 *   after the workload ended (during the drain): not judged.
 * A crash after which I never started again is not judged; I started again
 * but never reported checkpoint_restored otherwise fails (naming the step
 * it worked on, if any).  Events are I's when their `inst` is I, or
 * (without `inst`) their `svc` is the service.  No crash: unknown. */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct cp_priv {
    const char *service, *name;
    long long max_replay; /* -1: unlimited */
} cp_priv;

static const cr_param cp_params[] = {
    {"service", "string", NULL, "the service that checkpoints"},
    {"checkpoint", "string", "any",
     "checkpoint name (`name` field of the events; the key `name` names the "
     "expectation)"},
    {"max_replay", "integer", "unlimited",
     "most steps that may be redone: highest step before the crash minus the "
     "restored step"},
    {NULL, NULL, NULL, NULL},
};

static int cp_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(cp_priv)) < 0)
        return CR_ENOMEM;
    cp_priv *p = x->priv;
    if (cr_vrequire(vx, obj, path, "service") &&
        cr_vstr(vx, obj, path, "service", NULL, &p->service) > 0 &&
        !cr_scen_service(cr_vscen(vx), p->service)) {
        char q[CR_PATH_MAX];
        cr_path_key(q, sizeof q, path, "service");
        cr_verr(vx, q, "unknown service \"%s\"", p->service);
    }
    cr_vstr(vx, obj, path, "checkpoint", NULL, &p->name);
    cr_vint(vx, obj, path, "max_replay", 0, 1000000000000LL, -1,
            &p->max_replay);
    return 0;
}

static int is_crash(const cr_fact_proc *pr)
{
    if (pr->what != CR_PROC_EXIT)
        return 0;
    if (pr->cause && !strcmp(pr->cause, "stop"))
        return 0;
    return pr->sig != 0 || pr->code != 0 ||
           (pr->cause && !strncmp(pr->cause, "fault:", 6));
}

static int event_of(const cp_priv *p, const cr_event *e, const char *inst)
{
    const char *ei = cr_event_str(e, "inst");
    if (ei)
        return !strcmp(ei, inst);
    return !strcmp(e->svc, p->service);
}

static int name_ok(const cp_priv *p, const cr_event *e)
{
    if (!p->name)
        return 1;
    const char *n = cr_event_str(e, "name");
    return n && !strcmp(n, p->name);
}

/* ---- collect: what one crash of one instance looked like ------------- */

typedef struct cp_crash {
    const cr_fact_proc *proc;  /* the exit */
    double tprev;              /* the instance's previous crash, or -inf */
    const cr_fact_proc *start; /* the restart after it, or NULL */
    const cr_fact_proc *end;   /* the restarted one's exit, or NULL */
    int ready;                 /* the restarted one became ready */
    const cr_event *saved;     /* last checkpoint_saved before the crash */
    const cr_event *restored;  /* first checkpoint_restored after it */
    const cr_event *worked;    /* first other event with a step after it */
    double high;               /* highest step since tprev, or NAN */
} cp_crash;

/* Crash i of the process records: the instance's previous crash bounds
 * the window its progress is read from; then the restart, whether it
 * became ready, and how it ended. */
static void cp_collect_procs(const cr_facts *f, size_t i, cp_crash *c)
{
    const char *inst = f->procs[i].inst;
    c->tprev = -INFINITY;
    for (size_t j = 0; j < i; j++)
        if (f->procs[j].inst && !strcmp(f->procs[j].inst, inst) &&
            is_crash(&f->procs[j]))
            c->tprev = f->procs[j].t;
    for (size_t j = i + 1; j < f->nprocs && !c->end; j++) {
        const cr_fact_proc *pr = &f->procs[j];
        if (!pr->inst || strcmp(pr->inst, inst))
            continue;
        if (!c->start && pr->what == CR_PROC_START)
            c->start = pr;
        else if (c->start && pr->what == CR_PROC_READY)
            c->ready = 1;
        else if (c->start && pr->what == CR_PROC_EXIT)
            c->end = pr;
    }
}

/* The instance's events around the crash: the last save before tc, the
 * highest step in [tprev, tc); after tc and before the restarted one's
 * exit, the first restore and the first other event with a step. */
static void cp_collect_events(const cp_priv *p, const cr_history *h,
                              cp_crash *c)
{
    double tc = c->proc->t, tend = c->end ? c->end->t : INFINITY;
    for (size_t k = 0; h && k < h->n; k++) {
        const cr_event *e = &h->v[k];
        if (!event_of(p, e, c->proc->inst))
            continue;
        double st = cr_event_num(e, "step");
        if (e->t >= tc) {
            if (e->t > tend)
                return;
            if (!strcmp(e->ev, "checkpoint_restored") && name_ok(p, e)) {
                c->restored = e;
                return;
            }
            if (!isnan(st) && !c->worked)
                c->worked = e;
            continue;
        }
        if (!strcmp(e->ev, "checkpoint_saved") && name_ok(p, e) && !isnan(st))
            c->saved = e;
        if (e->t >= c->tprev && !isnan(st) && (isnan(c->high) || st > c->high))
            c->high = st;
    }
}

/* A restart that never restored but was not given the chance: killed
 * again while starting, or stopped by the run while starting.  Returns a
 * description (into buf) or NULL when the restart must be judged. */
static const char *cp_excused(const cp_crash *c, const cr_facts *f, char *buf,
                              size_t n)
{
    if (c->restored || !c->start || c->worked || !c->end)
        return NULL;
    if (is_crash(c->end)) {
        snprintf(buf, n,
                 "%s crashed again at t=%.3f while starting: not judged",
                 c->end->inst, c->end->t);
        return buf;
    }
    int by_stop = c->end->cause && !strcmp(c->end->cause, "stop");
    if (by_stop && (!c->ready || c->start->t >= f->t_workload_end)) {
        snprintf(buf, n,
                 "%s restarted at t=%.3f%s, stopped by the run at t=%.3f "
                 "while starting: not judged",
                 c->end->inst, c->start->t,
                 c->ready ? " during the drain" : ", never ready", c->end->t);
        return buf;
    }
    return NULL;
}

static void cp_evidence_crash(cr_result *res, const cp_crash *c)
{
    const cr_fact_proc *pr = c->proc;
    if (pr->sig)
        cr_result_evidence(res, pr->t, "%s crashed: killed by %s%s%s", pr->inst,
                           cr_signal_name(pr->sig), pr->cause ? ", cause " : "",
                           pr->cause ? pr->cause : "");
    else
        cr_result_evidence(res, pr->t, "%s crashed: exit code %d%s%s", pr->inst,
                           pr->code, pr->cause ? ", cause " : "",
                           pr->cause ? pr->cause : "");
    if (c->saved)
        cr_result_evidence_event(res, c->saved, "last saved before the crash");
}

/* ---- judge: one crash ------------------------------------------------- */

/* Restored step r, newer than anything reported saved, is a checkpoint
 * made durable just before the crash and not yet reported when the
 * instance had reached that step. */
static int cp_unreported(const cp_crash *c, double r)
{
    double s = c->saved ? cr_event_num(c->saved, "step") : 0;
    return r > s && !isnan(c->high) && r <= c->high;
}

/* Judge a restarted crash: the restored step R must equal the saved step
 * S (0 when nothing was saved), and the replay H - R stay within
 * max_replay.  *replay gets H - R once R is right (NAN before).  Returns 1
 * and writes why (n bytes) on a violation, else 0. */
static int cp_judge(const cp_priv *p, const cp_crash *c, double *replay,
                    char *why, size_t n)
{
    const char *inst = c->proc->inst;
    double tc = c->proc->t;
    if (!c->restored) {
        int k = snprintf(why, n,
                         "%s crashed at t=%.3f and started again but never "
                         "reported checkpoint_restored",
                         inst, tc);
        if (c->worked && k > 0 && (size_t)k < n)
            snprintf(why + k, n - (size_t)k, " (it reported step %g at t=%.3f)",
                     cr_event_num(c->worked, "step"), c->worked->t);
        return 1;
    }
    double r = cr_event_num(c->restored, "step");
    double s = c->saved ? cr_event_num(c->saved, "step") : NAN;
    if (isnan(r))
        snprintf(why, n, "%s checkpoint_restored without a step", inst);
    else if (!c->saved && r != 0 && !cp_unreported(c, r))
        snprintf(why, n,
                 "%s restored step %g but nothing was saved before the crash "
                 "at t=%.3f",
                 inst, r, tc);
    else if (c->saved && r < s)
        snprintf(why, n,
                 "%s restored step %g but step %g was saved before the crash "
                 "at t=%.3f",
                 inst, r, s, tc);
    else if (c->saved && r > s && !cp_unreported(c, r))
        snprintf(why, n,
                 "%s restored step %g but the last step saved before the "
                 "crash at t=%.3f was %g",
                 inst, r, tc, s);
    else {
        *replay = isnan(c->high) || c->high < r ? 0 : c->high - r;
        if (p->max_replay < 0 || *replay <= (double)p->max_replay)
            return 0;
        snprintf(why, n,
                 "%s replays %g steps after the crash at t=%.3f (reached %g, "
                 "restored %g; bound %lld)",
                 inst, *replay, tc, c->high, r, p->max_replay);
    }
    return 1;
}

/* ---- conclude --------------------------------------------------------- */

/* What the crashes added up to. */
typedef struct cp_tally {
    size_t crashes, judged, excused, unreported, viol;
    double worst_replay; /* NAN: none judged */
    char why[512];       /* the first violation */
} cp_tally;

static void cp_conclude(const cr_expect *x, const cp_tally *t, cr_result *res)
{
    const cp_priv *p = x->priv;
    cr_chk_detail_int(res, "crashes", (long long)t->crashes);
    cr_chk_detail_int(res, "judged", (long long)t->judged);
    cr_chk_detail_num(res, "worst_replay_steps", t->worst_replay);
    cr_chk_detail_int(res, "not_judged_while_starting", (long long)t->excused);
    cr_chk_detail_int(res, "unreported_saves", (long long)t->unreported);
    if (!isnan(t->worst_replay)) {
        cr_chk_measure(res, t->worst_replay, "steps");
        if (p->max_replay >= 0)
            cr_chk_bound(res, "<=", (double)p->max_replay);
    }
    if (t->viol)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", t->why);
    else if (t->crashes == 0)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "service %s never crashed: nothing to judge", p->service);
    else if (t->judged == 0 || t->judged < (size_t)x->min_samples)
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "%zu crashes of %s, %zu followed by a restart (min_samples %d)",
            t->crashes, p->service, t->judged, x->min_samples);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "%zu crashes, each resumed from the last saved "
                      "checkpoint (worst replay %g steps)",
                      t->judged, isnan(t->worst_replay) ? 0 : t->worst_replay);
}

/* Judge one restarted crash into the tally. */
static void cp_tally_crash(const cp_priv *p, const cp_crash *c, cp_tally *t,
                           cr_result *res)
{
    char w[512];
    double replay = NAN;
    t->judged++;
    if (c->restored)
        cr_result_evidence_event(res, c->restored, "restored");
    if (cp_judge(p, c, &replay, w, sizeof w)) {
        if (!t->viol++) /* the first violation is the summary */
            snprintf(t->why, sizeof t->why, "%s", w);
        return;
    }
    double r = c->restored ? cr_event_num(c->restored, "step") : NAN;
    if (cp_unreported(c, r)) {
        t->unreported++;
        cr_result_evidence(res, c->restored->t,
                           "step %g: made durable before the crash, not yet "
                           "reported saved (reached step %g)",
                           r, c->high);
    }
    if (!isnan(replay) && (isnan(t->worst_replay) || replay > t->worst_replay))
        t->worst_replay = replay;
}

static int cp_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const cp_priv *p = x->priv;
    cp_tally t = {.worst_replay = NAN};
    char buf[256];
    (void)err;

    for (size_t i = 0; i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (!pr->svc || strcmp(pr->svc, p->service) || !pr->inst ||
            !is_crash(pr))
            continue;
        t.crashes++;
        cp_crash c = {.proc = pr, .high = NAN};
        cp_collect_procs(f, i, &c);
        cp_collect_events(p, f->hist, &c);
        cp_evidence_crash(res, &c);
        if (!c.restored && !c.start)
            continue; /* never came back: nothing to resume */
        const char *excuse = cp_excused(&c, f, buf, sizeof buf);
        if (excuse) {
            t.excused++;
            cr_result_evidence(res, c.end->t, "%s", excuse);
            continue;
        }
        cp_tally_crash(p, &c, &t, res);
    }
    cp_conclude(x, &t, res);
    return 0;
}

const cr_check_ops cr_check_checkpoint_ops = {
    .kind = "checkpoint",
    .summary = "after each crash the service resumes from the checkpoint it "
               "last saved",
    .params = cp_params,
    .parse = cp_parse,
    .eval = cp_eval,
    .destroy = cr_chk_destroy_priv,
};
