/* cr_runfault: fault occurrences as the engine drives them.
 *
 * Every occurrence of a fault becomes a cr_act_rec with its own generator
 * (derived from the run seed, the fault name and the occurrence), is applied
 * by its backend at its instant, reverted at the end of its window, and
 * recorded in the journal with scheduled, applied and reverted times.
 * State-triggered faults count matching events as they arrive. */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

/* r->cause is set while a backend's apply/revert runs, so that exits it
 * causes are attributed to the fault ("fault:<name>"). */
const char *cr_runfault_cause(cr_run *r)
{
    return r->cause[0] ? r->cause : NULL;
}

static cr_act_rec *act_new(cr_run *r, cr_fault *f, int occ, double t_sched)
{
    cr_act_rec *a = cr_calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (r->nacts == r->cap_acts) {
        size_t nc = r->cap_acts ? r->cap_acts * 2 : 16;
        cr_act_rec **nv = cr_realloc(r->acts, nc * sizeof *nv);
        if (!nv) {
            cr_free(a);
            return NULL;
        }
        r->acts = nv;
        r->cap_acts = nc;
    }
    r->acts[r->nacts++] = a;
    a->act.fault = f;
    a->act.occurrence = occ;
    a->act.t_sched = t_sched;
    a->act.details = json_object();
    char label[CR_PATH_MAX + 32];
    snprintf(label, sizeof label, "act:%s:%d", f->name, occ);
    cr_rng_derive(&a->act.rng, r->seed, label);
    a->t_applied = a->t_reverted = a->t_apply_began = NAN;
    a->rec = json_object();
    json_object_set_new(a->rec, "name", json_string(f->name));
    json_object_set_new(a->rec, "kind", json_string(f->ops->kind));
    json_object_set_new(a->rec, "occurrence", json_integer(occ));
    json_object_set_new(a->rec, "scheduled_t", json_real(t_sched));
    json_object_set_new(a->rec, "for_s", json_real(f->for_s));
    json_array_append(r->j_faults, a->rec);
    return a;
}

/* Schedule every time-triggered occurrence (called at t0). */
int cr_runfault_schedule(cr_run *r, cr_err *err)
{
    for (size_t i = 0; i < r->sc->nfaults; i++) {
        cr_fault *f = &r->sc->faults[i];
        if (f->trigger)
            continue;
        for (size_t k = 0; k < f->nstarts; k++) {
            cr_act_rec *a = act_new(r, f, (int)k, f->starts[k]);
            if (!a)
                return cr_err_set(err, CR_ENOMEM, "faults: out of memory");
            cr_run_timer_add(r, r->mono_t0 + f->starts[k], CR_T_FAULT_APPLY, a,
                             0);
        }
    }
    return CR_OK;
}

/* "h1,h2": details.hosts of a network fault; NULL when it has none. */
static const char *fault_hosts_text(const json_t *d, char *buf, size_t n)
{
    size_t k = 0, i;
    json_t *h;
    buf[0] = '\0';
    json_array_foreach (json_object_get(d, "hosts"), i, h)
        if (json_is_string(h) && k + 2 < n)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "",
                                  json_string_value(h));
    return k ? buf : NULL;
}

/* Size of every replica's log now, so reports can show the lines written
 * around a fault even when a service does not stamp its lines. */
static json_t *log_offsets(cr_run *r)
{
    json_t *o = json_object();
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            struct stat st;
            cr_inst *in = &r->svcs[s].inst[i];
            if (fstatat(r->logsfd, in->log_name, &st, AT_SYMLINK_NOFOLLOW) ==
                    0 &&
                S_ISREG(st.st_mode))
                json_object_set_new(o, in->name,
                                    json_integer((json_int_t)st.st_size));
        }
    return o;
}

/* The journal's target of a fault: its instances; else its service
 * target; else a proxy fault's link ("link w2f"); else "-" (a network
 * fault: its hosts are in details.hosts). */
static void target_string(cr_act_rec *a, char *buf, size_t n)
{
    if (a->act.ninst == 0) {
        const char *link =
            json_string_value(json_object_get(a->act.details, "link"));
        if (a->act.fault->target.service)
            cr_target_format(&a->act.fault->target, buf, n);
        else if (link)
            snprintf(buf, n, "link %s", link);
        else
            snprintf(buf, n, "%s", "-");
        return;
    }
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->act.ninst && k + 2 < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "",
                              cr_inst_name(a->act.inst[i]));
}

void cr_runfault_apply(cr_run *r, cr_act_rec *a)
{
    cr_fault *f = a->act.fault;
    cr_err err;
    char tgt[512];
    cr_err_clear(&err);
    if (r->phase != CR_PH_FAULTS) {
        a->state = 3;
        json_object_set_new(a->rec, "outcome", json_string("skipped"));
        json_object_set_new(a->rec, "error",
                            json_string("the fault phase had ended"));
        return;
    }
    if (r->opts->baseline) {
        /* A baseline run keeps the timeline but injects nothing. */
        a->state = 2;
        json_object_set_new(a->rec, "outcome", json_string("skipped"));
        json_object_set_new(a->rec, "error", json_string("baseline run"));
        return;
    }
    if (f->target.service)
        a->act.ninst = cr_run_resolve_target(r, &f->target, &a->act.rng,
                                             a->act.inst, CR_ACT_MAX_INST);
    snprintf(r->cause, sizeof r->cause, "fault:%s", f->name);
    /* An apply can take a while (a partition installs a table in every
     * namespace, one after the other; on a loaded machine 0.6 s was seen)
     * and its first step takes effect at once: checkers judge the fault
     * from the instant its apply began (apply_began_t), not from when it
     * was complete (applied_t). */
    a->t_apply_began = cr_run_now(r);
    int rc = f->ops->apply(f, r, &a->act, &err);
    r->cause[0] = '\0';
    a->t_applied = cr_run_now(r);
    target_string(a, tgt, sizeof tgt);
    json_object_set_new(a->rec, "target", json_string(tgt));
    json_object_set_new(a->rec, "apply_began_t", json_real(a->t_apply_began));
    json_object_set_new(a->rec, "applied_t", json_real(a->t_applied));
    json_object_set_new(a->rec, "log_offsets", log_offsets(r));
    json_object_set(a->rec, "details", a->act.details);
    if (rc != 0) {
        a->state = 3;
        json_object_set_new(a->rec, "outcome", json_string("failed"));
        json_object_set_new(a->rec, "error", json_string(err.msg));
        cr_run_log(r, "fault %s (%s) FAILED: %s", f->name, f->ops->kind,
                   err.msg);
        /* Revert whatever part was applied. */
        if (f->ops->revert) {
            cr_err e2;
            cr_err_clear(&e2);
            f->ops->revert(f, r, &a->act, &e2);
        }
        return;
    }
    json_object_set_new(a->rec, "outcome", json_string("applied"));
    char hosts[400];
    if (strcmp(tgt, "-") == 0 &&
        fault_hosts_text(a->act.details, hosts, sizeof hosts))
        cr_run_log(r, "fault %s (%s) applied to hosts %s", f->name,
                   f->ops->kind, hosts);
    else
        cr_run_log(r, "fault %s (%s) applied to %s", f->name, f->ops->kind,
                   tgt);
    if (f->for_s > 0) {
        a->state = 1;
        double end =
            (isnan(a->act.t_sched) ? a->t_applied : a->act.t_sched) + f->for_s;
        if (end < a->t_applied)
            end = a->t_applied;
        cr_run_timer_add(r, r->mono_t0 + end, CR_T_FAULT_REVERT, a, 0);
    } else {
        a->state = 2;
        a->t_reverted = a->t_applied;
    }
}

void cr_runfault_revert(cr_run *r, cr_act_rec *a, const char *why)
{
    cr_fault *f = a->act.fault;
    cr_err err;
    if (a->state != 1)
        return;
    /* Events the target wrote up to now belong to the window (backends
     * count the errors seen in it). */
    cr_run_read_events(r);
    cr_err_clear(&err);
    int rc = 0;
    /* Like an apply, a revert's first step takes effect at once (a thaw
     * lets the target run before the revert returns; at load the harness
     * may take that return 0.2 s later). */
    json_object_set_new(a->rec, "revert_began_t", json_real(cr_run_now(r)));
    if (f->ops->revert) {
        snprintf(r->cause, sizeof r->cause, "fault:%s", f->name);
        rc = f->ops->revert(f, r, &a->act, &err);
        r->cause[0] = '\0';
    }
    a->state = 2;
    a->t_reverted = cr_run_now(r);
    json_object_set_new(a->rec, "reverted_t", json_real(a->t_reverted));
    json_object_set_new(a->rec, "log_offsets_reverted", log_offsets(r));
    if (why)
        json_object_set_new(a->rec, "reverted_by", json_string(why));
    if (rc != 0) {
        json_object_set_new(a->rec, "revert_error", json_string(err.msg));
        cr_run_log(r, "fault %s: revert FAILED: %s", f->name, err.msg);
    } else {
        cr_run_log(r, "fault %s reverted", f->name);
    }
}

void cr_runfault_revert_all(cr_run *r, const char *why)
{
    /* Newest first, like any undo. */
    for (size_t i = r->nacts; i-- > 0;)
        cr_runfault_revert(r, r->acts[i], why);
}

int cr_runfault_active(const cr_run *r)
{
    for (size_t i = 0; i < r->nacts; i++)
        if (r->acts[i]->state == 1)
            return 1;
    return 0;
}

/* Any time-triggered occurrence still to come? */
int cr_runfault_pending(const cr_run *r)
{
    for (size_t i = 0; i < r->nacts; i++)
        if (r->acts[i]->state == 0)
            return 1;
    return 0;
}

/* State-triggered faults whose trigger has not come, or whose occurrence
 * is still planned or active: what a stretched timeline waits for.
 * Returns how many; their names (comma-separated) go into buf. */
size_t cr_runfault_triggered_unfinished(const cr_run *r, char *buf, size_t n)
{
    size_t k = 0, count = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->sc->nfaults; i++) {
        const cr_fault *f = &r->sc->faults[i];
        if (!f->trigger)
            continue;
        int waiting = !r->trigger_fired[i];
        for (size_t j = 0; j < r->nacts && !waiting; j++)
            waiting = r->acts[j]->act.fault == f &&
                      (r->acts[j]->state == 0 || r->acts[j]->state == 1);
        if (!waiting)
            continue;
        count++;
        if (k + 4 < n)
            k +=
                (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "", f->name);
        if (k >= n)
            k = n - 1;
    }
    return count;
}

/* Names of active faults for the status line. */
void cr_runfault_active_names(const cr_run *r, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->nacts && k + 4 < n; i++)
        if (r->acts[i]->state == 1)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "",
                                  r->acts[i]->act.fault->name);
    if (!k)
        snprintf(buf, n, "none");
}

/* Trigger i was reached: its occurrence is planned delay_s from now (at
 * t0 when that is before t0).  trig (taken) is its journal record. */
static void trigger_fire(cr_run *r, size_t i, json_t *trig)
{
    cr_fault *f = &r->sc->faults[i];
    r->trigger_fired[i] = 1;
    cr_act_rec *a = act_new(r, f, 0, NAN);
    if (!a) {
        json_decref(trig);
        return;
    }
    double now = cr_run_now(r);
    json_object_set_new(trig, "count", json_integer(f->trigger->count));
    json_object_set_new(trig, "seen_t", json_real(now));
    json_object_set_new(trig, "delay_s", json_real(f->trigger->delay_s));
    json_object_set_new(a->rec, "trigger", trig);
    double at =
        (r->t0_set ? r->mono_t0 : r->mono_start) + now + f->trigger->delay_s;
    /* A trigger reached before t0 fires at t0. */
    if (r->phase != CR_PH_FAULTS && r->t0_set == 0)
        a->act.t_sched = NAN;
    cr_run_timer_add(r, at, CR_T_FAULT_APPLY, a, 1);
}

/* A new event arrived: count it for on_event triggers. */
void cr_runfault_on_event(cr_run *r, const cr_event *e)
{
    for (size_t i = 0; i < r->sc->nfaults; i++) {
        cr_fault *f = &r->sc->faults[i];
        if (!f->trigger || f->trigger->ready_svc || r->trigger_fired[i])
            continue;
        if (!cr_match_event(&f->trigger->match, e))
            continue;
        if (++r->trigger_counts[i] < f->trigger->count)
            continue;
        json_t *trig = json_pack("{s:s,s:f}", "ev", e->ev, "event_t", e->t);
        json_object_set_new(trig, "event", cr_event_to_json(e));
        trigger_fire(r, i, trig);
    }
}

/* A replica became ready: count it for on_ready triggers. */
void cr_runfault_on_ready(cr_run *r, const cr_inst *in)
{
    if (r->phase >= CR_PH_DRAIN)
        return;
    for (size_t i = 0; i < r->sc->nfaults; i++) {
        cr_fault *f = &r->sc->faults[i];
        if (!f->trigger || !f->trigger->ready_svc || r->trigger_fired[i])
            continue;
        if (!cr_svc_ref_match(f->trigger->ready_svc, in->svc->spec->name,
                              in->name))
            continue;
        if (++r->trigger_counts[i] < f->trigger->count)
            continue;
        trigger_fire(r, i,
                     json_pack("{s:s,s:s,s:f}", "ready", f->trigger->ready_svc,
                               "instance", in->name, "ready_t", cr_run_now(r)));
    }
}

/* What a trigger waits for, for messages: "queue ready for the 2nd
 * time", "event delivered from sink #3". */
static void trigger_text(const cr_trigger *t, char *buf, size_t n)
{
    int c = t->count;
    const char *sfx = c % 100 >= 11 && c % 100 <= 13 ? "th"
                      : c % 10 == 1                  ? "st"
                      : c % 10 == 2                  ? "nd"
                      : c % 10 == 3                  ? "rd"
                                                     : "th";
    if (t->ready_svc)
        snprintf(buf, n, "%s ready for the %d%s time", t->ready_svc, c, sfx);
    else
        snprintf(buf, n, "the %d%s event %s%s%s", c, sfx, t->match.ev,
                 t->match.svc ? " from " : "",
                 t->match.svc ? t->match.svc : "");
}

/* Append one problem of the timeline to r->timeline_problems (journal
 * "timeline_incomplete") and to the log. */
static void timeline_problem(cr_run *r, const char *fault, const char *fmt, ...)
    CR_PRINTF(3, 4);
static void timeline_problem(cr_run *r, const char *fault, const char *fmt, ...)
{
    char text[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!r->timeline_problems)
        r->timeline_problems = json_array();
    json_array_append_new(
        r->timeline_problems,
        json_pack("{s:s,s:s}", "fault", fault, "problem", text));
    cr_run_log(r, "fault %s: %s", fault, text);
}

/* The end of the fault timeline (duration_s): a state-triggered fault
 * whose trigger never came, or whose occurrence was planned after the
 * end or would have lasted beyond it, did not happen as the scenario
 * says.  Each becomes a journal record (outcome "not_fired") or a note
 * on its record, and a problem that fails the run: the faults the
 * scenario meant to inject were not all injected.  Call before the
 * pending fault timers are cancelled. */
/* "duration_s 4 s", or for a timeline that may stretch "10.2 s, at most
 * duration_max_s 12 s". */
static void timeline_text(const cr_run *r, char *buf, size_t n)
{
    if (r->sc->duration_max_s > r->sc->duration_s)
        snprintf(buf, n, "%.3g s, at most duration_max_s %g s", r->timeline_s,
                 r->sc->duration_max_s);
    else
        snprintf(buf, n, "duration_s %g s", r->sc->duration_s);
}

void cr_runfault_timeline_end(cr_run *r)
{
    double dur = r->timeline_s;
    char what[CR_PATH_MAX + 64], msg[600], tl[96];
    timeline_text(r, tl, sizeof tl);
    for (size_t i = 0; i < r->sc->nfaults; i++) {
        cr_fault *f = &r->sc->faults[i];
        if (!f->trigger)
            continue;
        trigger_text(f->trigger, what, sizeof what);
        if (r->trigger_fired[i])
            continue;
        r->trigger_fired[i] = 1; /* no occurrence after the timeline */
        cr_act_rec *a = act_new(r, f, 0, NAN);
        if (!a)
            continue;
        a->state = 3;
        json_object_set_new(a->rec, "outcome", json_string("not_fired"));
        if (f->trigger->ready_svc)
            snprintf(msg, sizeof msg,
                     "never fired: its trigger (%s) did not come within the "
                     "timeline (%s; %s became ready %d "
                     "time%s)",
                     what, tl, f->trigger->ready_svc, r->trigger_counts[i],
                     r->trigger_counts[i] == 1 ? "" : "s");
        else
            snprintf(msg, sizeof msg,
                     "never fired: its trigger (%s) did not come within the "
                     "timeline (%s; %d matching event%s)",
                     what, tl, r->trigger_counts[i],
                     r->trigger_counts[i] == 1 ? "" : "s");
        json_object_set_new(a->rec, "error", json_string(msg));
        timeline_problem(r, f->name, "%s", msg);
    }
    for (size_t k = 0; k < r->nacts; k++) {
        cr_act_rec *a = r->acts[k];
        cr_fault *f = a->act.fault;
        if (!f->trigger)
            continue;
        trigger_text(f->trigger, what, sizeof what);
        if (a->state == 0) {
            /* Its trigger came, but too late for delay_s to fit. */
            a->state = 3;
            json_object_set_new(a->rec, "outcome", json_string("not_fired"));
            snprintf(msg, sizeof msg,
                     "never fired: its trigger (%s) came at %.3f s, so with "
                     "delay_s %g it would start after the end of the "
                     "timeline (%s)",
                     what,
                     json_number_value(json_object_get(
                         json_object_get(a->rec, "trigger"), "seen_t")),
                     f->trigger->delay_s, tl);
            json_object_set_new(a->rec, "error", json_string(msg));
            timeline_problem(r, f->name, "%s", msg);
        } else if (a->state == 1 && a->t_applied + f->for_s > dur + 1e-3) {
            timeline_problem(r, f->name,
                             "cut short: applied at %.3f s for %g s, it "
                             "was reverted at the end of the timeline "
                             "(%s)",
                             a->t_applied, f->for_s, tl);
        }
    }
}

/* A replica (re)started: give it the faults active on its service. */
void cr_runfault_on_spawn(cr_run *r, cr_inst *in)
{
    for (size_t i = 0; i < r->nacts; i++) {
        cr_act_rec *a = r->acts[i];
        cr_fault *f = a->act.fault;
        if (a->state != 1 || !f->ops->on_spawn || !f->target.service)
            continue;
        if (strcmp(f->target.service, cr_inst_service(in)) != 0)
            continue;
        int hit = f->target.replica == CR_REPLICA_ALL;
        for (size_t k = 0; !hit && k < a->act.ninst; k++)
            hit = a->act.inst[k] == in;
        if (hit)
            f->ops->on_spawn(f, r, &a->act, in);
    }
}

void cr_runfault_free(cr_run *r)
{
    for (size_t i = 0; i < r->nacts; i++) {
        json_decref(r->acts[i]->act.details);
        json_decref(r->acts[i]->rec);
        cr_free(r->acts[i]);
    }
    cr_free(r->acts);
    r->acts = NULL;
    r->nacts = r->cap_acts = 0;
}
