/* cr_check_checkpoint: after a crash, a service resumes from exactly the
 * checkpoint it last saved, and replays at most max_replay steps.
 *
 * A crash is an exit of one of the service's instances (facts->procs) by
 * a signal or a non-zero code, or with cause "fault:...", but not an exit
 * caused by the run's own stop.  For each crash of instance I at time tc:
 * S = the step of I's last `checkpoint_saved` before tc (same `name` field
 * when the key "checkpoint" is set), R = the step of I's first
 * `checkpoint_restored` after tc, H = the highest `step` of any event of I
 * since its previous crash (progress, checkpoint_saved, ...).  R must equal S
 * (older: work lost; newer: restored something never saved), and H - R <=
 * max_replay.  A crash after which I never started again is not judged; I
 * started again but never reported checkpoint_restored fails.  Events are I's
 * when their `inst` is I, or (without `inst`) their `svc` is the service. No
 * crash: unknown. */
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
    const cr_fact_proc *proc; /* the exit */
    double tprev;             /* the instance's previous crash, or -inf */
    int restarted;            /* it started again afterwards */
    const cr_event *saved;    /* last checkpoint_saved before the crash */
    const cr_event *restored; /* first checkpoint_restored after it */
    double high;              /* highest step since tprev, or NAN */
} cp_crash;

/* Crash i of the process records: the instance's previous crash bounds
 * the window its progress is read from; a later start is the restart. */
static void cp_collect_procs(const cr_facts *f, size_t i, cp_crash *c)
{
    const char *inst = f->procs[i].inst;
    c->tprev = -INFINITY;
    for (size_t j = 0; j < i; j++)
        if (f->procs[j].inst && !strcmp(f->procs[j].inst, inst) &&
            is_crash(&f->procs[j]))
            c->tprev = f->procs[j].t;
    for (size_t j = i + 1; j < f->nprocs && !c->restarted; j++)
        c->restarted = f->procs[j].inst && !strcmp(f->procs[j].inst, inst) &&
                       f->procs[j].what == CR_PROC_START;
}

/* The instance's events around the crash: the highest step and the last
 * save in [tprev, tc), the first restore at or after tc. */
static void cp_collect_events(const cp_priv *p, const cr_history *h,
                              cp_crash *c)
{
    double tc = c->proc->t;
    for (size_t k = 0; h && k < h->n; k++) {
        const cr_event *e = &h->v[k];
        if (!event_of(p, e, c->proc->inst))
            continue;
        if (e->t >= tc) {
            if (!strcmp(e->ev, "checkpoint_restored") && name_ok(p, e)) {
                c->restored = e;
                return;
            }
            continue;
        }
        if (e->t < c->tprev)
            continue;
        double st = cr_event_num(e, "step");
        if (!isnan(st) && (isnan(c->high) || st > c->high))
            c->high = st;
        if (!strcmp(e->ev, "checkpoint_saved") && name_ok(p, e) && !isnan(st))
            c->saved = e;
    }
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
        snprintf(why, n,
                 "%s crashed at t=%.3f and started again but never reported "
                 "checkpoint_restored",
                 inst, tc);
        return 1;
    }
    double r = cr_event_num(c->restored, "step");
    double s = c->saved ? cr_event_num(c->saved, "step") : NAN;
    if (isnan(r))
        snprintf(why, n, "%s checkpoint_restored without a step", inst);
    else if (!c->saved && r != 0)
        snprintf(why, n,
                 "%s restored step %g but nothing was saved before the crash "
                 "at t=%.3f",
                 inst, r, tc);
    else if (c->saved && r < s)
        snprintf(why, n,
                 "%s restored step %g but step %g was saved before the crash "
                 "at t=%.3f",
                 inst, r, s, tc);
    else if (c->saved && r > s)
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

static void cp_conclude(const cr_expect *x, size_t crashes, size_t judged,
                        size_t viol, double worst_replay, const char *why,
                        cr_result *res)
{
    const cp_priv *p = x->priv;
    cr_chk_detail_int(res, "crashes", (long long)crashes);
    cr_chk_detail_int(res, "judged", (long long)judged);
    cr_chk_detail_num(res, "worst_replay_steps", worst_replay);
    if (!isnan(worst_replay)) {
        cr_chk_measure(res, worst_replay, "steps");
        if (p->max_replay >= 0)
            cr_chk_bound(res, "<=", (double)p->max_replay);
    }
    if (viol)
        cr_result_set(res, CR_VERDICT_FAILED, "%s", why);
    else if (crashes == 0)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "service %s never crashed: nothing to judge", p->service);
    else if (judged == 0 || judged < (size_t)x->min_samples)
        cr_result_set(
            res, CR_VERDICT_UNKNOWN,
            "%zu crashes of %s, %zu followed by a restart (min_samples %d)",
            crashes, p->service, judged, x->min_samples);
    else
        cr_result_set(res, CR_VERDICT_PASSED,
                      "%zu crashes, each resumed from the last saved "
                      "checkpoint (worst replay %g steps)",
                      judged, isnan(worst_replay) ? 0 : worst_replay);
}

static int cp_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const cp_priv *p = x->priv;
    size_t crashes = 0, judged = 0, viol = 0;
    double worst_replay = NAN;
    char why[512] = "", w[512];
    (void)err;

    for (size_t i = 0; i < f->nprocs; i++) {
        const cr_fact_proc *pr = &f->procs[i];
        if (!pr->svc || strcmp(pr->svc, p->service) || !pr->inst ||
            !is_crash(pr))
            continue;
        crashes++;
        cp_crash c = {.proc = pr, .high = NAN};
        cp_collect_procs(f, i, &c);
        cp_collect_events(p, f->hist, &c);
        cp_evidence_crash(res, &c);
        if (!c.restored && !c.restarted)
            continue; /* never came back: nothing to resume */
        judged++;
        if (c.restored)
            cr_result_evidence_event(res, c.restored, "restored");
        double replay = NAN;
        if (cp_judge(p, &c, &replay, w, sizeof w) && !viol++)
            snprintf(why, sizeof why, "%s", w); /* the first is the summary */
        if (!isnan(replay) && (isnan(worst_replay) || replay > worst_replay))
            worst_replay = replay;
    }
    cp_conclude(x, crashes, judged, viol, worst_replay, why, res);
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
