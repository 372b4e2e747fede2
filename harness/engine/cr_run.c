/* cr_run: the run engine.
 *
 * One event loop (epoll) over a signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP),
 * one timerfd driven by a sorted timer list, an inotify watch on the event
 * file, and an eventfd through which the probe thread hands back results.
 * The run moves through explicit phases:
 *
 *   startup  start services in order, each waiting for its readiness check
 *   before   before-probes must pass (retried for a few seconds)  -> t0
 *   faults   the timeline: faults applied/reverted, during-probes, triggers
 *   drain    faults are over; the workload settles
 *   after    after-probes
 *   stop     services stopped gracefully in reverse order
 *
 * then expectations are judged (cr_runjudge.c) and the run directory is
 * completed.  Everything the run changes is recorded in the ledger first;
 * a janitor process undoes it if the harness dies. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

static const char *phase_names[] = {
    [CR_PH_INIT] = "init",     [CR_PH_STARTUP] = "startup",
    [CR_PH_BEFORE] = "before", [CR_PH_FAULTS] = "faults",
    [CR_PH_DRAIN] = "drain",   [CR_PH_AFTER] = "after",
    [CR_PH_STOP] = "stop",     [CR_PH_DONE] = "done",
};

#define BEFORE_RETRY_S    0.25
#define RECOVERY_PERIOD_S 0.1

double cr_run_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cr_run_unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cr_run_clock_pair(double *unix_now, double *mono_now)
{
    /* Read between two monotonic reads, and again while the pair was torn
     * apart by preemption: the run's times (monotonic) and the events'
     * (wall clock, converted through this pair) must agree to well under a
     * millisecond, also on a loaded machine where a task can lose the CPU
     * for 10 ms between two system calls (an exit recorded before the
     * last event the process wrote, seen beside stress-ng). */
    double best = INFINITY;
    for (int i = 0; i < 16 && best > 20e-6; i++) {
        double a = cr_run_mono(), u = cr_run_unix_now(), b = cr_run_mono();
        if (b - a < best) {
            best = b - a;
            *unix_now = u;
            *mono_now = a + (b - a) / 2;
        }
    }
}

/* ---- accessors (cr_run.h) ---------------------------------------------- */

const cr_scen *cr_run_scen(const cr_run *r)
{
    return r->sc;
}
const char *cr_run_dir(const cr_run *r)
{
    return r->dir;
}
int cr_run_dirfd(const cr_run *r)
{
    return r->dirfd;
}
uint64_t cr_run_seed(const cr_run *r)
{
    return r->seed;
}
const cr_history *cr_run_history(const cr_run *r)
{
    return &r->hist;
}
double cr_run_t0_unix(const cr_run *r)
{
    return r->t0_unix;
}

double cr_run_now(const cr_run *r)
{
    return cr_run_mono() - (r->t0_set ? r->mono_t0 : r->mono_start);
}

int cr_run_ledger_add(cr_run *r, cr_err *err, const char *fmt, ...)
{
    char line[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return cr_ledger_add(r->ledger, line, err);
}

void cr_run_utc_stamp(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y%m%dT%H%M%SZ", &tm);
}

void **cr_run_module_state(cr_run *r, const char *module)
{
    if (strcmp(module, "net") == 0)
        return &r->net;
    if (strcmp(module, "proxy") == 0)
        return &r->proxy;
    if (strcmp(module, "syscall") == 0)
        return &r->syscall;
    return NULL;
}

const char *cr_run_self_exe(const cr_run *r)
{
    return r->opts->self_exe ? r->opts->self_exe : "/proc/self/exe";
}

void cr_run_ledger_done(cr_run *r, int id)
{
    cr_ledger_done(r->ledger, id);
}

void cr_run_journal_log(cr_run *r, const char *text)
{
    json_array_append_new(
        r->j_log, json_pack("{s:f,s:s}", "t", cr_run_now(r), "text", text));
}

void cr_run_log(cr_run *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cr_run_journal_log(r, text);
    const cr_run_output *o = r->opts->out;
    if (o && o->log)
        o->log(o->ud, cr_run_now(r), text);
}

/* ---- timers -------------------------------------------------------------- */

static void timer_arm(cr_run *r)
{
    struct itimerspec its = {0};
    if (r->timers) {
        double at = r->timers->at;
        if (at <= 0)
            at = 1e-9;
        its.it_value.tv_sec = (time_t)at;
        its.it_value.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;
    }
    timerfd_settime(r->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* `at` is absolute CLOCK_MONOTONIC seconds. */
void cr_run_timer_add(cr_run *r, double at, int kind, void *ptr, long arg)
{
    cr_timer *t = cr_calloc(1, sizeof *t);
    if (!t) {
        cr_err_set(&r->err, CR_ENOMEM, "timer: out of memory");
        r->fatal_code = CR_ENOMEM;
        return;
    }
    t->at = at;
    t->kind = kind;
    t->ptr = ptr;
    t->arg = arg;
    cr_timer **pp = &r->timers;
    while (*pp && (*pp)->at <= at)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    timer_arm(r);
}

void cr_run_timer_cancel(cr_run *r, int kind, void *ptr)
{
    cr_timer **pp = &r->timers;
    while (*pp) {
        if ((*pp)->kind == kind && (!ptr || (*pp)->ptr == ptr)) {
            cr_timer *t = *pp;
            *pp = t->next;
            cr_free(t);
        } else {
            pp = &(*pp)->next;
        }
    }
    timer_arm(r);
}

/* ---- phases ------------------------------------------------------------- */

void cr_run_phase_enter(cr_run *r, enum cr_phase ph)
{
    r->phase = ph;
    json_array_append_new(
        r->j_phases,
        json_pack("{s:s,s:f}", "name", phase_names[ph], "t", cr_run_now(r)));
}

static void submit_probes(cr_run *r, unsigned phase_mask, int phase)
{
    for (size_t i = 0; i < r->sc->nprobes; i++) {
        const cr_probe_spec *p = &r->sc->probes[i];
        if (phase_mask && !(p->phases & phase_mask))
            continue;
        cr_probe_job *j = cr_calloc(1, sizeof *j);
        if (!j)
            continue;
        j->kind = 0;
        j->probe = p;
        j->phase = phase;
        j->t = cr_run_now(r);
        cr_runprobe_submit(r, j);
        if (phase == CR_PHASE_BEFORE)
            r->before_pending++;
        else if (phase == CR_PHASE_AFTER)
            r->after_pending++;
    }
}

/* Shift every time recorded during start-up so that t0 becomes 0. */
static void shift_json_times(json_t *arr, const char *key, double d)
{
    size_t i;
    json_t *o;
    json_array_foreach (arr, i, o) {
        json_t *t = json_object_get(o, key);
        if (json_is_number(t))
            json_object_set_new(o, key, json_real(json_number_value(t) - d));
    }
}

static void set_t0(cr_run *r)
{
    double now = cr_run_mono();
    double d = now - r->mono_start;
    r->mono_t0 = now;
    r->t0_unix = r->started_unix + d;
    r->t0_set = 1;
    shift_json_times(r->j_phases, "t", d);
    shift_json_times(r->j_probes, "t", d);
    shift_json_times(r->j_log, "t", d);
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++)
            shift_json_times(r->svcs[s].inst[i].history, "t", d);
    /* Triggers reached during start-up (their occurrences exist already). */
    static const char *const trig_keys[] = {"ready_t", "seen_t", "event_t"};
    for (size_t k = 0; k < r->nacts; k++) {
        json_t *tr = json_object_get(r->acts[k]->rec, "trigger");
        for (size_t j = 0; tr && j < 3; j++) {
            json_t *t = json_object_get(tr, trig_keys[j]);
            if (json_is_number(t))
                json_object_set_new(tr, trig_keys[j],
                                    json_real(json_number_value(t) - d));
        }
    }
    pthread_mutex_lock(&r->hist_lock);
    r->hist.t0 = r->t0_unix;
    for (size_t i = 0; i < r->hist.n; i++)
        r->hist.v[i].t = r->hist.v[i].ts - r->t0_unix;
    pthread_mutex_unlock(&r->hist_lock);
}

static double run_now_cb(void *ud)
{
    return cr_run_now(ud);
}

static void start_fault_phase(cr_run *r)
{
    cr_err err;
    cr_err_clear(&err);
    set_t0(r);
    /* Metrics for slo checks are scraped from t0 on, off the loop. */
    if (!r->opts->baseline && cr_scrape_start(r->sc, r->dir, run_now_cb, r, 1.0,
                                              &r->scrape, &err) != 0) {
        r->fatal_code = err.code;
        cr_err_set(&r->err, err.code, "%s", err.msg);
        return;
    }
    cr_run_phase_enter(r, CR_PH_FAULTS);
    cr_run_log(r, "t0: every service ready%s; timeline of %.3g s starts",
               r->sc->nprobes ? " and steady state holds" : "",
               r->sc->duration_s);
    if (cr_runfault_schedule(r, &err) != 0) {
        r->fatal_code = err.code;
        cr_err_set(&r->err, err.code, "%s", err.msg);
    }
    /* Triggers reached during start-up fire now: those still waiting,
     * and those whose time came before t0 (held by on_timer). */
    for (cr_timer *t = r->timers; t; t = t->next)
        if (t->kind == CR_T_FAULT_APPLY && t->arg == 1 && t->at < r->mono_t0)
            t->at = r->mono_t0;
    while (r->held) {
        cr_timer *t = r->held;
        r->held = t->next;
        cr_run_timer_add(r, t->at < r->mono_t0 ? r->mono_t0 : t->at, t->kind,
                         t->ptr, t->arg);
        cr_free(t);
    }
    for (size_t i = 0; i < r->sc->nprobes; i++)
        if (r->sc->probes[i].phases & CR_PHASE_DURING)
            cr_run_timer_add(r, r->mono_t0 + r->sc->probes[i].interval_s,
                             CR_T_PROBE, &r->sc->probes[i], 0);
    cr_run_timer_add(r, r->mono_t0 + r->sc->duration_s, CR_T_PHASE, NULL,
                     CR_PH_DRAIN);
}

void cr_run_before_phase(cr_run *r)
{
    cr_run_phase_enter(r, CR_PH_BEFORE);
    r->phase_end = cr_run_now(r) + r->sc->before_timeout_s;
    int any = 0;
    for (size_t i = 0; i < r->sc->nprobes; i++)
        any |= (r->sc->probes[i].phases & CR_PHASE_BEFORE) != 0;
    if (!any) {
        start_fault_phase(r);
        return;
    }
    cr_run_log(r, "checking the steady state before faults");
    submit_probes(r, CR_PHASE_BEFORE, CR_PHASE_BEFORE);
}

static void start_stop_phase(cr_run *r)
{
    if (r->phase >= CR_PH_STOP)
        return;
    cr_runfault_revert_all(r, r->interrupted ? "interrupt" : "end of run");
    cr_run_timer_cancel(r, CR_T_PROBE, NULL);
    cr_run_timer_cancel(r, CR_T_RECOVERY, NULL);
    cr_run_timer_cancel(r, CR_T_FAULT_APPLY, NULL);
    cr_run_timer_cancel(r, CR_T_READY, NULL);
    cr_run_phase_enter(r, CR_PH_STOP);
    cr_shutdown_begin(r);
}

void cr_run_stop_phase(cr_run *r)
{
    start_stop_phase(r);
}

static void on_phase_timer(cr_run *r, long ph);

/* The run time of the newest event matching m, or -INFINITY. */
static double last_match_t(cr_run *r, const cr_match *m)
{
    double last = -INFINITY;
    for (size_t i = r->hist.n; i-- > 0;)
        if (cr_match_event(m, &r->hist.v[i])) {
            last = r->hist.v[i].t;
            break;
        }
    return last;
}

/* Drain until quiet: the drain ends once no event matching drain.match
 * came for until_quiet_s, or after max_s.  Called when the drain begins
 * and at each planned end; reschedules itself (CR_PH_DRAIN timer) until
 * then.  The journal's "drain" says how it ended, and "drain_s" becomes
 * the time it took. */
static void drain_check(cr_run *r)
{
    const cr_drain *d = &r->sc->drain;
    cr_run_read_events(r);
    double now = cr_run_now(r);
    double last = last_match_t(r, &d->match);
    double quiet_from = last > r->drain_began ? last : r->drain_began;
    double waited = now - r->drain_began;
    int quiet = now - quiet_from >= d->until_quiet_s - 1e-3;
    int hit_max = !quiet && waited >= d->max_s - 1e-3;
    if (!quiet && !hit_max) {
        double next = quiet_from + d->until_quiet_s;
        if (next > r->drain_began + d->max_s)
            next = r->drain_began + d->max_s;
        if (next < now + 0.05)
            next = now + 0.05;
        cr_run_timer_add(r, r->mono_t0 + next, CR_T_PHASE, NULL, CR_PH_DRAIN);
        return;
    }
    json_t *j = json_pack("{s:f,s:s,s:f,s:f,s:b}", "until_quiet_s",
                          d->until_quiet_s, "ev", d->match.ev, "max_s",
                          d->max_s, "waited_s", waited, "hit_max", hit_max);
    if (d->match.svc)
        json_object_set_new(j, "svc", json_string(d->match.svc));
    json_object_set_new(j, "began_t", json_real(r->drain_began));
    json_object_set_new(j, "last_event_t",
                        isfinite(last) ? json_real(last) : json_null());
    json_object_set_new(r->journal, "drain", j);
    json_object_set_new(r->journal, "drain_s", json_real(waited));
    const char *from = d->match.svc ? " from " : "";
    const char *svc = d->match.svc ? d->match.svc : "";
    if (hit_max)
        cr_run_log(r,
                   "drain hit its maximum of %.3g s: %s events%s%s still "
                   "came (the last at %.3f s); going on",
                   d->max_s, d->match.ev, from, svc, last);
    else
        cr_run_log(r, "drain: no %s event%s%s for %.3g s; drained in %.3f s",
                   d->match.ev, from, svc, d->until_quiet_s, waited);
    on_phase_timer(r, CR_PH_AFTER);
}

static void on_phase_timer(cr_run *r, long ph)
{
    if (ph == CR_PH_DRAIN && r->phase == CR_PH_FAULTS) {
        /* duration_max_s: the timeline stretches while a state-triggered
         * fault has not fired or not ended (a slow boot delayed its
         * trigger), up to duration_max_s; checked every 0.1 s.  Not in a
         * fault-free baseline: nothing is injected there, so a trigger
         * that follows a fault's effect (a failed write) never comes. */
        double now = cr_run_now(r);
        char waiting[256];
        if (!r->opts->baseline && now < r->sc->duration_max_s - 1e-3 &&
            cr_runfault_triggered_unfinished(r, waiting, sizeof waiting)) {
            if (!r->stretch_logged)
                cr_run_log(r,
                           "timeline stretched past duration_s %.3g s: "
                           "waiting for %s (at most until duration_max_s "
                           "%.3g s)",
                           r->sc->duration_s, waiting, r->sc->duration_max_s);
            r->stretch_logged = 1;
            double next = now + 0.1;
            if (next > r->sc->duration_max_s)
                next = r->sc->duration_max_s;
            cr_run_timer_add(r, r->mono_t0 + next, CR_T_PHASE, NULL,
                             CR_PH_DRAIN);
            return;
        }
        r->timeline_s = now < r->sc->duration_s ? r->sc->duration_s : now;
        json_object_set_new(r->journal, "timeline_s", json_real(r->timeline_s));
        if (r->stretch_logged)
            cr_run_log(r, "timeline ends at %.3f s (stretched by %.3f s)",
                       r->timeline_s, r->timeline_s - r->sc->duration_s);
        cr_runfault_timeline_end(r);
        cr_runfault_revert_all(r, "end of timeline");
        cr_run_timer_cancel(r, CR_T_PROBE, NULL);
        cr_run_timer_cancel(r, CR_T_FAULT_APPLY, NULL);
        cr_run_phase_enter(r, CR_PH_DRAIN);
        if (r->sc->drain.until_quiet_s > 0) {
            r->drain_began = cr_run_now(r);
            const cr_drain *d = &r->sc->drain;
            cr_run_log(r,
                       "timeline over; draining until no %s event%s%s for "
                       "%.3g s (at most %.3g s)",
                       d->match.ev, d->match.svc ? " from " : "",
                       d->match.svc ? d->match.svc : "", d->until_quiet_s,
                       d->max_s);
            drain_check(r);
            return;
        }
        cr_run_log(r, "timeline over; draining for %.3g s", r->sc->drain_s);
        cr_run_timer_add(r, r->mono_t0 + r->timeline_s + r->sc->drain_s,
                         CR_T_PHASE, NULL, CR_PH_AFTER);
    } else if (ph == CR_PH_DRAIN && r->phase == CR_PH_DRAIN) {
        drain_check(r);
    } else if (ph == CR_PH_AFTER && r->phase == CR_PH_DRAIN) {
        cr_run_timer_cancel(r, CR_T_RECOVERY, NULL);
        cr_run_phase_enter(r, CR_PH_AFTER);
        int any = 0;
        for (size_t i = 0; i < r->sc->nprobes; i++)
            any |= (r->sc->probes[i].phases & CR_PHASE_AFTER) != 0;
        if (!any) {
            start_stop_phase(r);
            return;
        }
        cr_run_log(r, "checking the steady state after faults");
        submit_probes(r, CR_PHASE_AFTER, CR_PHASE_AFTER);
    }
}

/* After the last fault ended: probe everything quickly until a whole
 * round passes, so `recovers` can measure the recovery time. */
static void maybe_start_recovery(cr_run *r)
{
    if (r->sc->nprobes == 0 || r->recovery_probing)
        return;
    if (cr_runfault_active(r) || cr_runfault_pending(r))
        return;
    if (r->phase != CR_PH_FAULTS && r->phase != CR_PH_DRAIN)
        return;
    r->recovery_probing = 1;
    cr_run_timer_add(r, cr_run_mono(), CR_T_RECOVERY, NULL, 0);
}

static void recovery_round(cr_run *r)
{
    if (!r->recovery_probing || r->recovery_outstanding)
        return;
    if (r->phase != CR_PH_FAULTS && r->phase != CR_PH_DRAIN) {
        r->recovery_probing = 0;
        return;
    }
    r->recovery_ok = 1;
    for (size_t i = 0; i < r->sc->nprobes; i++) {
        cr_probe_job *j = cr_calloc(1, sizeof *j);
        if (!j)
            continue;
        j->kind = 2;
        j->probe = &r->sc->probes[i];
        j->phase = CR_PHASE_DURING;
        j->t = cr_run_now(r);
        r->recovery_outstanding++;
        cr_runprobe_submit(r, j);
    }
}

static void record_probe(cr_run *r, const cr_probe_job *j)
{
    static const char *ph[] = {"", "before", "during", "", "after"};
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:f,s:b,s:s}", "probe", j->probe->name, "kind",
                  j->probe->ops->kind, "phase", ph[j->phase & 7], "t",
                  cr_run_now(r), "ok", j->ok == 1, "detail", j->detail);
    if (j->kind == 2)
        json_object_set_new(o, "recovery", json_true());
    json_array_append_new(r->j_probes, o);
}

/* The before-probes did not hold within the grace time: the experiment
 * is aborted, nothing is judged (a verdict on a system that never reached
 * its steady state would say nothing about the faults), exit status 5. */
static void abort_before(cr_run *r)
{
    char last[sizeof r->startup_msg];
    snprintf(last, sizeof last, "%s", r->startup_msg);
    snprintf(r->startup_msg, sizeof r->startup_msg,
             "the steady state did not hold before any fault (checked for "
             "%g s, before_timeout_s): %s",
             r->sc->before_timeout_s, last);
    r->aborted = 1;
    cr_run_log(r, "%s: experiment aborted", r->startup_msg);
    start_stop_phase(r);
}

static void on_probe_results(cr_run *r)
{
    cr_probe_job *j = cr_runprobe_take(r);
    while (j) {
        cr_probe_job *next = j->next;
        if (j->kind == 1) {
            cr_svc_ready_result(r, j->inst, j->ok, j->detail);
        } else {
            record_probe(r, j);
            if (j->ok != 1 && j->kind != 2)
                cr_run_log(r, "probe %s (%s) failed: %s", j->probe->name,
                           j->phase == CR_PHASE_BEFORE  ? "before"
                           : j->phase == CR_PHASE_AFTER ? "after"
                                                        : "during",
                           j->detail);
            if (j->kind == 2) {
                r->recovery_outstanding--;
                r->recovery_ok &= j->ok == 1;
                if (r->recovery_outstanding == 0) {
                    if (r->recovery_ok) {
                        r->recovery_probing = 0;
                        cr_run_log(r, "steady state holds again");
                    } else {
                        cr_run_timer_add(r, cr_run_mono() + RECOVERY_PERIOD_S,
                                         CR_T_RECOVERY, NULL, 0);
                    }
                }
            } else if (j->phase == CR_PHASE_BEFORE &&
                       r->phase == CR_PH_BEFORE) {
                r->before_pending--;
                r->before_failed |= j->ok != 1;
                if (j->ok != 1) /* the last answer, for the abort message */
                    snprintf(r->startup_msg, sizeof r->startup_msg,
                             "probe %s: %s", j->probe->name, j->detail);
                if (r->before_pending == 0) {
                    if (!r->before_failed) {
                        start_fault_phase(r);
                    } else if (cr_run_now(r) < r->phase_end) {
                        r->before_failed = 0;
                        /* Give slow starters a moment: retry the round. */
                        cr_run_timer_add(r, cr_run_mono() + BEFORE_RETRY_S,
                                         CR_T_PHASE, NULL, CR_PH_BEFORE);
                    } else {
                        abort_before(r);
                    }
                }
            } else if (j->phase == CR_PHASE_AFTER && r->phase == CR_PH_AFTER) {
                if (--r->after_pending == 0)
                    start_stop_phase(r);
            }
        }
        cr_free(j);
        j = next;
    }
}

/* ---- events -------------------------------------------------------------- */

/* Append what the event file has beyond ev_buf to ev_buf; the number of
 * bytes read, 0 at the end, -1 when out of memory. */
static ssize_t events_fill(cr_run *r)
{
    if (r->ev_cap - r->ev_len < 65536) {
        size_t nc = r->ev_cap ? r->ev_cap * 2 : 131072;
        char *nb = cr_realloc(r->ev_buf, nc);
        if (!nb)
            return -1;
        r->ev_buf = nb;
        r->ev_cap = nc;
    }
    ssize_t n =
        read(r->events_fd, r->ev_buf + r->ev_len, r->ev_cap - r->ev_len - 1);
    if (n > 0) {
        for (const char *p = r->ev_buf + r->ev_len, *end = p + n;
             (p = memchr(p, '\n', (size_t)(end - p))); p++)
            r->ev_unparsed++;
        r->ev_len += (size_t)n;
        r->ev_off += (uint64_t)n;
    }
    return n;
}

/* The loop's read: parse now when events are live, else only collect. */
static void events_poll(cr_run *r)
{
    if (r->ev_live) {
        cr_run_read_events(r);
        return;
    }
    while (events_fill(r) > 0) {
    }
}

void cr_run_read_events(cr_run *r)
{
    for (;;) {
        ssize_t n = events_fill(r);
        if (n < 0)
            return;
        size_t start = 0;
        for (size_t i = 0; i < r->ev_len; i++) {
            if (r->ev_buf[i] != '\n')
                continue;
            pthread_mutex_lock(&r->hist_lock);
            size_t before = r->hist.n;
            cr_history_add_line(&r->hist, r->ev_buf + start, i - start);
            pthread_mutex_unlock(&r->hist_lock);
            /* Only the loop thread appends, so reading the new event
             * without the lock is safe. */
            if (r->hist.n > before)
                cr_runfault_on_event(r, &r->hist.v[r->hist.n - 1]);
            start = i + 1;
        }
        memmove(r->ev_buf, r->ev_buf + start, r->ev_len - start);
        r->ev_len -= start;
        r->ev_unparsed = 0;
        if (n == 0)
            break;
    }
}

static void inotify_drain(cr_run *r)
{
    char buf[4096];
    while (read(r->inofd, buf, sizeof buf) > 0) {
    }
}

/* The event file changed: read it now, or (batching) take the inotify fd
 * out of the loop and read when the batch timer fires. */
static void on_events_changed(cr_run *r)
{
    inotify_drain(r);
    if (r->ev_batch_s <= 0 || r->ev_batch_armed) {
        events_poll(r);
        return;
    }
    struct epoll_event ev = {.events = 0, .data.fd = r->inofd};
    if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, r->inofd, &ev) != 0) {
        events_poll(r);
        return;
    }
    r->ev_batch_armed = 1;
    cr_run_timer_add(r, cr_run_mono() + r->ev_batch_s, CR_T_EVENTS, NULL, 0);
}

static void events_batch_end(cr_run *r)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = r->inofd};
    r->ev_batch_armed = 0;
    inotify_drain(r);
    if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, r->inofd, &ev) != 0)
        cr_run_log(r,
                   "epoll_ctl on the event watch: %s (events are now read "
                   "once a second)",
                   strerror(errno));
    events_poll(r);
}

/* ---- signals and the loop ------------------------------------------------ */

static void on_signal(cr_run *r)
{
    struct signalfd_siginfo si;
    while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            cr_svc_reap(r);
            continue;
        }
        if (!r->interrupted) {
            r->interrupted = (int)si.ssi_signo;
            cr_run_log(r,
                       "%s received: stopping services, reverting faults "
                       "(again to force)",
                       cr_signal_name((int)si.ssi_signo));
            start_stop_phase(r);
        } else {
            /* Second interrupt: no more grace. */
            for (size_t s = 0; s < r->nsvcs; s++)
                for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
                    cr_inst *in = &r->svcs[s].inst[i];
                    if (in->pid <= 0)
                        continue;
                    if (in->svc->ctr) /* the container, not its client */
                        cr_run_ctr_signal(r, in, SIGKILL, NULL);
                    kill(-in->pid, SIGKILL);
                }
        }
    }
}

static void on_timer(cr_run *r)
{
    uint64_t exp;
    ssize_t rd = read(r->timerfd, &exp, sizeof exp);
    (void)rd;
    double now = cr_run_mono();
    while (r->timers && r->timers->at <= now) {
        cr_timer *t = r->timers;
        r->timers = t->next;
        switch (t->kind) {
        case CR_T_FAULT_APPLY:
            if (t->arg == 1 && !r->t0_set) {
                /* A trigger reached during start-up: due at t0 (applied
                 * now, it would be skipped: no fault phase yet). */
                t->next = r->held;
                r->held = t;
                continue;
            }
            /* Exits that already happened are recorded first: a SIGCHLD
             * read after the timer in the same wake-up would let a kill
             * "apply" to a replica that is already dead. */
            cr_svc_reap(r);
            cr_runfault_apply(r, t->ptr);
            maybe_start_recovery(r);
            break;
        case CR_T_FAULT_REVERT:
            cr_runfault_revert(r, t->ptr, NULL);
            maybe_start_recovery(r);
            break;
        case CR_T_PHASE:
            if (t->arg == CR_PH_BEFORE && r->phase == CR_PH_BEFORE)
                submit_probes(r, CR_PHASE_BEFORE, CR_PHASE_BEFORE);
            else
                on_phase_timer(r, t->arg);
            break;
        case CR_T_PROBE: {
            cr_probe_spec *p = t->ptr;
            if (r->phase == CR_PH_FAULTS) {
                cr_probe_job *j = cr_calloc(1, sizeof *j);
                if (j) {
                    j->probe = p;
                    j->phase = CR_PHASE_DURING;
                    j->t = cr_run_now(r);
                    cr_runprobe_submit(r, j);
                }
                cr_run_timer_add(r, t->at + p->interval_s, CR_T_PROBE, p, 0);
            }
            break;
        }
        case CR_T_STOP_KILL:
        case CR_T_RESTART:
        case CR_T_READY:
            cr_svc_on_timer(r, t->kind, t->ptr);
            break;
        case CR_T_RECOVERY:
            recovery_round(r);
            break;
        case CR_T_EVENTS:
            events_batch_end(r);
            break;
        }
        cr_free(t);
    }
    timer_arm(r);
}

/* The live status, for the caller to draw (at most 5 times a second). */
static void status_report(cr_run *r)
{
    const cr_run_output *o = r->opts->out;
    if (!r->opts->live_status || !o || !o->status)
        return;
    double now = cr_run_mono();
    if (now < r->next_status)
        return;
    r->next_status = now + 0.2;
    char active[256];
    cr_runfault_active_names(r, active, sizeof active);
    cr_run_status st = {
        .phase = phase_names[r->phase],
        .timeline = r->phase == CR_PH_FAULTS || r->phase == CR_PH_DRAIN,
        .t = cr_run_now(r),
        .length_s = r->sc->duration_s + (r->sc->drain.until_quiet_s > 0
                                             ? r->sc->drain.max_s
                                             : r->sc->drain_s),
        .faults = active,
        .up = cr_svc_running(r),
        .events = r->hist.n + r->ev_unparsed,
        .live = r->live != NULL && !r->live_failed,
        .holding = r->live_counts[CR_LIVE_HOLDING],
        .violated = r->live_counts[CR_LIVE_VIOLATED],
        .pending = r->live_counts[CR_LIVE_PENDING],
        .at_end = r->live_counts[CR_LIVE_AT_END],
    };
    for (size_t s = 0; s < r->nsvcs; s++)
        st.total += (size_t)r->svcs[s].spec->replicas;
    o->status(o->ud, &st);
}

static int loop_done(cr_run *r)
{
    return r->phase == CR_PH_STOP && cr_shutdown_done(r) &&
           cr_svc_running(r) == 0;
}

int cr_run_loop(cr_run *r)
{
    struct epoll_event evs[8];
    while (!loop_done(r)) {
        if (r->fatal_code && r->phase < CR_PH_STOP)
            start_stop_phase(r);
        int timeout = r->opts->live_status ? 200 : 1000;
        if (r->t0_set && !r->live_failed && !r->opts->baseline) {
            /* the next live-judging tick (cr_runlive.c) */
            double ms = (r->live_next - cr_run_mono()) * 1000.0 + 1;
            if (ms < timeout)
                timeout = ms > 0 ? (int)ms : 0;
        }
        int want = cr_run_ctr_watch(r); /* a container not yet watched */
        if (want >= 0 && want < timeout)
            timeout = want;
        int n = epoll_wait(r->epfd, evs, 8, timeout);
        if (n < 0 && errno != EINTR)
            return cr_err_sys(&r->err, CR_ESYS, errno, "epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == r->sigfd) {
                on_signal(r);
            } else if (fd == r->timerfd) {
                on_timer(r);
            } else if (fd == r->inofd) {
                on_events_changed(r);
            } else if (fd == r->evfd) {
                uint64_t v;
                ssize_t rd = read(r->evfd, &v, sizeof v);
                (void)rd;
                on_probe_results(r);
            } else {
                cr_run_ctr_on_fd(r, fd);
            }
        }
        events_poll(r);
        cr_stray_tick(r);
        cr_runlive_tick(r, 0);
        cr_runrot_tick(r);
        status_report(r);
    }
    return CR_OK;
}

/* Start the first service; the loop does the rest. */
void cr_run_begin(cr_run *r)
{
    cr_run_phase_enter(r, CR_PH_STARTUP);
    cr_run_startup_next(r);
}
