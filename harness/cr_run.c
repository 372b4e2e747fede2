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
#include <regex.h>
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

#include "cr_alloc.h"
#include "cr_run_internal.h"

/* Optional modules, linked in when present (weak: the engine works
 * without them, and a scenario that needs one fails validation first). */
int cr_net_run_setup(cr_run *r, cr_err *err) __attribute__((weak));
void cr_net_run_teardown(cr_run *r) __attribute__((weak));
int cr_proxy_run_start(cr_run *r, cr_err *err) __attribute__((weak));
json_t *cr_proxy_run_stop(cr_run *r) __attribute__((weak));
int cr_report_write_all(const char *run_dir, cr_err *err)
    __attribute__((weak));

static const char *phase_names[] = {
    [CR_PH_INIT] = "init",     [CR_PH_STARTUP] = "startup",
    [CR_PH_BEFORE] = "before", [CR_PH_FAULTS] = "faults",
    [CR_PH_DRAIN] = "drain",   [CR_PH_AFTER] = "after",
    [CR_PH_STOP] = "stop",     [CR_PH_DONE] = "done",
};

#define BEFORE_RETRY_S 0.25
#define BEFORE_GRACE_S 5.0
#define RECOVERY_PERIOD_S 0.1

double cr_run_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- accessors (cr_run.h) ---------------------------------------------- */

const cr_scen *cr_run_scen(const cr_run *r) { return r->sc; }
const char *cr_run_dir(const cr_run *r) { return r->dir; }
uint64_t cr_run_seed(const cr_run *r) { return r->seed; }
const cr_history *cr_run_history(const cr_run *r) { return &r->hist; }
double cr_run_t0_unix(const cr_run *r) { return r->t0_unix; }

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

void cr_run_ledger_done(cr_run *r, int id)
{
    cr_ledger_done(r->ledger, id);
}

static void status_clear(cr_run *r)
{
    if (r->status_line) {
        fputs("\r\033[K", stderr);
        r->status_line = 0;
    }
}

void cr_run_journal_log(cr_run *r, const char *text)
{
    json_array_append_new(r->j_log, json_pack("{s:f,s:s}", "t", cr_run_now(r),
                                              "text", text));
}

void cr_run_log(cr_run *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cr_run_journal_log(r, text);
    if (!r->opts->quiet) {
        status_clear(r);
        fprintf(stderr, "[%8.3f] %s\n", cr_run_now(r), text);
    }
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

static void timer_cancel(cr_run *r, int kind, void *ptr)
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

static void phase_enter(cr_run *r, enum cr_phase ph)
{
    r->phase = ph;
    json_array_append_new(r->j_phases,
                          json_pack("{s:s,s:f}", "name", phase_names[ph], "t",
                                    cr_run_now(r)));
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

static void start_stop_phase(cr_run *r);

/* Shift every time recorded during start-up so that t0 becomes 0. */
static void shift_json_times(json_t *arr, const char *key, double d)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
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
    pthread_mutex_lock(&r->hist_lock);
    r->hist.t0 = r->t0_unix;
    for (size_t i = 0; i < r->hist.n; i++)
        r->hist.v[i].t = r->hist.v[i].ts - r->t0_unix;
    pthread_mutex_unlock(&r->hist_lock);
}

static void start_fault_phase(cr_run *r)
{
    cr_err err;
    cr_err_clear(&err);
    set_t0(r);
    phase_enter(r, CR_PH_FAULTS);
    cr_run_log(r, "t0: every service ready%s; timeline of %.3g s starts",
               r->sc->nprobes ? " and steady state holds" : "",
               r->sc->duration_s);
    if (cr_runfault_schedule(r, &err) != 0) {
        r->fatal_code = err.code;
        cr_err_set(&r->err, err.code, "%s", err.msg);
    }
    /* Triggers reached during start-up fire now. */
    for (cr_timer *t = r->timers; t; t = t->next)
        if (t->kind == CR_T_FAULT_APPLY && t->arg == 1 && t->at < r->mono_t0)
            t->at = r->mono_t0;
    for (size_t i = 0; i < r->sc->nprobes; i++)
        if (r->sc->probes[i].phases & CR_PHASE_DURING)
            cr_run_timer_add(r, r->mono_t0 + r->sc->probes[i].interval_s,
                             CR_T_PROBE, &r->sc->probes[i], 0);
    cr_run_timer_add(r, r->mono_t0 + r->sc->duration_s, CR_T_PHASE, NULL,
                     CR_PH_DRAIN);
}

static void start_before_phase(cr_run *r)
{
    phase_enter(r, CR_PH_BEFORE);
    r->phase_end = cr_run_now(r) + BEFORE_GRACE_S;
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

/* Start the next service in order, or move on when all are up. */
static void startup_next(cr_run *r)
{
    cr_err err;
    while (r->start_next < r->nsvcs) {
        cr_svc *svc = &r->svcs[r->start_next];
        int all_ready = 1;
        for (int i = 0; i < svc->spec->replicas; i++)
            all_ready &= svc->inst[i].ready;
        if (svc->inst[0].starts > 0 && !all_ready)
            return; /* still waiting for this service */
        if (svc->inst[0].starts > 0 && all_ready) {
            r->start_next++;
            continue;
        }
        for (int i = 0; i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            cr_err_clear(&err);
            if (cr_svc_start(r, in, NULL, &err) != 0) {
                r->startup_failed = 1;
                snprintf(r->startup_msg, sizeof r->startup_msg, "%s", err.msg);
                if (err.code != CR_EUNSUP) {
                    r->fatal_code = err.code;
                    cr_err_set(&r->err, err.code, "%s", err.msg);
                }
                cr_run_log(r, "%s", err.msg);
                start_stop_phase(r);
                return;
            }
            cr_run_log(r, "started %s (pid %d)", in->name, (int)in->pid);
            in->ready_deadline = cr_run_now(r) + svc->spec->ready.timeout_s;
            cr_run_timer_add(r, cr_run_mono(), CR_T_READY, in, 0);
        }
        return;
    }
    start_before_phase(r);
}

/* Scan new log output for the readiness regex. */
static int log_ready(cr_inst *in)
{
    const cr_ready *rd = &in->svc->spec->ready;
    regex_t re;
    int hit = 0;
    int fd = open(in->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (regcomp(&re, rd->regex, REG_EXTENDED | REG_NOSUB) != 0) {
        close(fd);
        return 0;
    }
    char buf[65536];
    ssize_t n = pread(fd, buf, sizeof buf - 1, in->log_scanned);
    close(fd);
    if (n > 0) {
        buf[n] = '\0';
        /* Only whole lines are judged; a partial last line waits. */
        char *last_nl = strrchr(buf, '\n');
        if (last_nl) {
            *last_nl = '\0';
            char *save = NULL;
            for (char *line = strtok_r(buf, "\n", &save); line && !hit;
                 line = strtok_r(NULL, "\n", &save))
                hit = regexec(&re, line, 0, NULL, 0) == 0;
            in->log_scanned += (last_nl - buf) + 1;
        }
    }
    regfree(&re);
    return hit;
}

static void mark_ready(cr_run *r, cr_inst *in, const char *detail)
{
    in->ready = 1;
    cr_inst_hist(in, "ready", detail ? json_pack("{s:s}", "detail", detail)
                                     : NULL);
    if (r->phase == CR_PH_STARTUP)
        cr_run_log(r, "%s ready", in->name);
    if (r->phase == CR_PH_STARTUP)
        startup_next(r);
}

static void ready_tick(cr_run *r, cr_inst *in)
{
    const cr_ready *rd = &in->svc->spec->ready;
    if (in->pid <= 0 || in->ready)
        return;
    if (rd->kind == CR_READY_NONE) {
        mark_ready(r, in, NULL);
        return;
    }
    if (rd->kind == CR_READY_LOG) {
        if (log_ready(in)) {
            mark_ready(r, in, "log line matched");
            return;
        }
    } else if (!in->ready_pending) {
        cr_probe_job *j = cr_calloc(1, sizeof *j);
        if (j) {
            j->kind = 1;
            j->inst = in;
            j->t = cr_run_now(r);
            in->ready_pending = 1;
            cr_runprobe_submit(r, j);
        }
    }
    if (cr_run_now(r) > in->ready_deadline) {
        if (r->phase == CR_PH_STARTUP) {
            r->startup_failed = 1;
            snprintf(r->startup_msg, sizeof r->startup_msg,
                     "service %s not ready after %.3g s (see logs/%s.log)",
                     in->name, rd->timeout_s, in->name);
            cr_run_log(r, "%s", r->startup_msg);
            start_stop_phase(r);
        } else {
            cr_run_log(r, "%s did not become ready within %.3g s after "
                          "its restart", in->name, rd->timeout_s);
        }
        return;
    }
    double iv = rd->interval_s > 0 ? rd->interval_s : 0.05;
    cr_run_timer_add(r, cr_run_mono() + iv, CR_T_READY, in, 0);
}

static void start_stop_phase(cr_run *r)
{
    if (r->phase >= CR_PH_STOP)
        return;
    cr_runfault_revert_all(r, r->interrupted ? "interrupt" : "end of run");
    timer_cancel(r, CR_T_PROBE, NULL);
    timer_cancel(r, CR_T_RECOVERY, NULL);
    timer_cancel(r, CR_T_FAULT_APPLY, NULL);
    timer_cancel(r, CR_T_RESTART, NULL);
    timer_cancel(r, CR_T_READY, NULL);
    phase_enter(r, CR_PH_STOP);
    for (size_t s = r->nsvcs; s-- > 0;) {
        cr_svc *svc = &r->svcs[s];
        for (int i = 0; i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            in->restart_at = -1;
            if (in->pid <= 0)
                continue;
            cr_err err;
            cr_err_clear(&err);
            if (in->paused)
                kill(-in->pid, SIGCONT);
            cr_run_stop_inst(r, in, svc->spec->stop_signal,
                             svc->spec->stop_timeout_s, 0, &err);
            snprintf(in->stop_cause, sizeof in->stop_cause, "stop");
        }
    }
}

static void on_phase_timer(cr_run *r, long ph)
{
    if (ph == CR_PH_DRAIN && r->phase == CR_PH_FAULTS) {
        cr_runfault_revert_all(r, "end of timeline");
        timer_cancel(r, CR_T_PROBE, NULL);
        timer_cancel(r, CR_T_FAULT_APPLY, NULL);
        phase_enter(r, CR_PH_DRAIN);
        cr_run_log(r, "timeline over; draining for %.3g s", r->sc->drain_s);
        cr_run_timer_add(r, r->mono_t0 + r->sc->duration_s + r->sc->drain_s,
                         CR_T_PHASE, NULL, CR_PH_AFTER);
    } else if (ph == CR_PH_AFTER && r->phase == CR_PH_DRAIN) {
        timer_cancel(r, CR_T_RECOVERY, NULL);
        phase_enter(r, CR_PH_AFTER);
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
    json_t *o = json_pack("{s:s,s:s,s:s,s:f,s:b,s:s}", "probe", j->probe->name,
                          "kind", j->probe->ops->kind, "phase",
                          ph[j->phase & 7], "t", cr_run_now(r), "ok",
                          j->ok == 1, "detail", j->detail);
    if (j->kind == 2)
        json_object_set_new(o, "recovery", json_true());
    json_array_append_new(r->j_probes, o);
}

static void on_probe_results(cr_run *r)
{
    cr_probe_job *j = cr_runprobe_take(r);
    while (j) {
        cr_probe_job *next = j->next;
        if (j->kind == 1) {
            cr_inst *in = j->inst;
            in->ready_pending = 0;
            if (j->ok == 1 && in->pid > 0 && !in->ready)
                mark_ready(r, in, j->detail);
        } else {
            record_probe(r, j);
            if (j->ok != 1 && j->kind != 2)
                cr_run_log(r, "probe %s (%s) failed: %s", j->probe->name,
                           j->phase == CR_PHASE_BEFORE   ? "before"
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
                if (r->before_pending == 0) {
                    if (!r->before_failed) {
                        start_fault_phase(r);
                    } else if (cr_run_now(r) < r->phase_end) {
                        r->before_failed = 0;
                        /* Give slow starters a moment: retry the round. */
                        cr_run_timer_add(r, cr_run_mono() + BEFORE_RETRY_S,
                                         CR_T_PHASE, NULL, CR_PH_BEFORE);
                    } else {
                        cr_run_log(r, "the steady state does not hold before "
                                      "any fault: experiment aborted");
                        start_stop_phase(r);
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

int cr_run_stop_inst(cr_run *r, cr_inst *i, int sig, double timeout_s,
                     int restart, cr_err *err)
{
    if (i->pid <= 0)
        return cr_err_set(err, CR_ESTATE, "stop %s: not running", i->name);
    const char *cause = cr_runfault_cause(r);
    if (kill(-i->pid, sig) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "stop %s: %s", i->name,
                          cr_signal_name(sig));
    if (i->paused) {
        /* A stopped process cannot handle the stop signal. */
        kill(-i->pid, SIGCONT);
        i->paused = 0;
    }
    i->stopping = 1;
    i->stop_restart = restart;
    snprintf(i->stop_cause, sizeof i->stop_cause, "%s", cause ? cause : "stop");
    i->stop_kill_at = cr_run_now(r) + timeout_s;
    cr_run_timer_add(r, cr_run_mono() + timeout_s, CR_T_STOP_KILL, i, 0);
    return CR_OK;
}

void cr_run_on_exit(cr_run *r, cr_inst *in, int status)
{
    json_t *h = json_object();
    int code = -1, sig = 0;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        sig = WTERMSIG(status);
    json_object_set_new(h, "code", code >= 0 ? json_integer(code) : json_null());
    json_object_set_new(h, "signal",
                        sig ? json_string(cr_signal_name(sig)) : json_null());
    const char *cause = in->stopping ? in->stop_cause : in->kill_cause;
    if (!cause[0])
        cause = NULL;
    if (cause)
        json_object_set_new(h, "cause", json_string(cause));
    cr_inst_hist(in, "exit", h);
    timer_cancel(r, CR_T_STOP_KILL, in);
    if (sig)
        cr_run_log(r, "%s exited: killed by %s%s%s", in->name,
                   cr_signal_name(sig), cause ? " — " : "", cause ? cause : "");
    else
        cr_run_log(r, "%s exited with status %d%s%s", in->name, code,
                   cause ? " — " : "", cause ? cause : "");
    int was_stopping = in->stopping, restart = in->stop_restart;
    in->stopping = 0;
    in->stop_restart = 0;
    in->kill_cause[0] = '\0';
    if (r->phase >= CR_PH_STOP || r->interrupted)
        return;
    if (r->phase == CR_PH_STARTUP && !restart) {
        r->startup_failed = 1;
        snprintf(r->startup_msg, sizeof r->startup_msg,
                 "service %s exited during start-up (see logs/%s.log)",
                 in->name, in->name);
        start_stop_phase(r);
        return;
    }
    const cr_svc_spec *sp = in->svc->spec;
    int policy = 0;
    if (!was_stopping) {
        int failed = sig != 0 || code != 0;
        policy = sp->restart == CR_RESTART_ALWAYS ||
                 (sp->restart == CR_RESTART_ON_FAILURE && failed);
        if (policy && sp->max_restarts >= 0 &&
            in->restarts >= sp->max_restarts) {
            cr_run_log(r, "%s: restart limit (%d) reached", in->name,
                       sp->max_restarts);
            policy = 0;
        }
    }
    if (restart) {
        cr_run_timer_add(r, cr_run_mono(), CR_T_RESTART, in, 1);
    } else if (policy) {
        in->restart_at = cr_run_now(r) + sp->restart_delay_s;
        cr_run_timer_add(r, cr_run_mono() + sp->restart_delay_s, CR_T_RESTART,
                         in, 0);
    }
}

static void do_restart(cr_run *r, cr_inst *in, long by_fault)
{
    cr_err err;
    cr_err_clear(&err);
    in->restart_at = -1;
    if (r->phase >= CR_PH_STOP || in->pid > 0)
        return;
    if (cr_svc_start(r, in, by_fault ? "restart-fault" : "restart-policy",
                     &err) != 0) {
        cr_run_log(r, "restart of %s failed: %s", in->name, err.msg);
        return;
    }
    in->restarts++;
    cr_run_log(r, "restarted %s (pid %d)", in->name, (int)in->pid);
    in->ready_deadline = cr_run_now(r) + in->svc->spec->ready.timeout_s;
    cr_run_timer_add(r, cr_run_mono(), CR_T_READY, in, 0);
    cr_runfault_on_spawn(r, in);
}

/* ---- events -------------------------------------------------------------- */

static void read_events(cr_run *r)
{
    for (;;) {
        if (r->ev_cap - r->ev_len < 65536) {
            size_t nc = r->ev_cap ? r->ev_cap * 2 : 131072;
            char *nb = cr_realloc(r->ev_buf, nc);
            if (!nb)
                return;
            r->ev_buf = nb;
            r->ev_cap = nc;
        }
        ssize_t n = read(r->events_fd, r->ev_buf + r->ev_len,
                         r->ev_cap - r->ev_len - 1);
        if (n <= 0)
            break;
        r->ev_len += (size_t)n;
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
    }
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
            status_clear(r);
            cr_run_log(r, "%s received: stopping services, reverting faults "
                          "(again to force)",
                       cr_signal_name((int)si.ssi_signo));
            start_stop_phase(r);
        } else {
            /* Second interrupt: no more grace. */
            for (size_t s = 0; s < r->nsvcs; s++)
                for (int i = 0; i < r->svcs[s].spec->replicas; i++)
                    if (r->svcs[s].inst[i].pid > 0)
                        kill(-r->svcs[s].inst[i].pid, SIGKILL);
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
        case CR_T_STOP_KILL: {
            cr_inst *in = t->ptr;
            if (in->pid > 0 && in->stopping) {
                cr_run_log(r, "%s did not stop in time: SIGKILL", in->name);
                kill(-in->pid, SIGKILL);
            }
            break;
        }
        case CR_T_RESTART:
            do_restart(r, t->ptr, t->arg);
            break;
        case CR_T_READY:
            ready_tick(r, t->ptr);
            break;
        case CR_T_RECOVERY:
            recovery_round(r);
            break;
        }
        cr_free(t);
    }
    timer_arm(r);
}

static void status_draw(cr_run *r)
{
    if (!r->opts->live_status || r->opts->quiet)
        return;
    double now = cr_run_mono();
    if (now < r->next_status)
        return;
    r->next_status = now + 0.2;
    char active[256];
    cr_runfault_active_names(r, active, sizeof active);
    double t = cr_run_now(r);
    size_t up = cr_svc_running(r), total = 0;
    for (size_t s = 0; s < r->nsvcs; s++)
        total += (size_t)r->svcs[s].spec->replicas;
    if (r->phase == CR_PH_FAULTS || r->phase == CR_PH_DRAIN)
        fprintf(stderr,
                "\r\033[K[%s] t=%.1f/%.0fs  faults: %s  up %zu/%zu  "
                "events %zu",
                phase_names[r->phase], t, r->sc->duration_s + r->sc->drain_s,
                active, up, total, r->hist.n);
    else
        fprintf(stderr, "\r\033[K[%s] up %zu/%zu  events %zu",
                phase_names[r->phase], up, total, r->hist.n);
    r->status_line = 1;
}

static int loop_done(cr_run *r)
{
    return r->phase == CR_PH_STOP && cr_svc_running(r) == 0;
}

static int run_loop(cr_run *r)
{
    struct epoll_event evs[8];
    while (!loop_done(r)) {
        if (r->fatal_code && r->phase < CR_PH_STOP)
            start_stop_phase(r);
        int timeout = r->opts->live_status ? 200 : 1000;
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
                char buf[4096];
                while (read(r->inofd, buf, sizeof buf) > 0) {
                }
                read_events(r);
            } else if (fd == r->evfd) {
                uint64_t v;
                ssize_t rd = read(r->evfd, &v, sizeof v);
                (void)rd;
                on_probe_results(r);
            }
        }
        read_events(r);
        status_draw(r);
    }
    return CR_OK;
}

/* ---- set-up and tear-down -------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int make_run_dir(cr_run *r, cr_err *err)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (r->opts->out_dir) {
        snprintf(path, sizeof path, "%s", r->opts->out_dir);
        if (mkdir_p(path) != 0)
            return cr_err_sys(err, CR_ESYS, errno, "run directory %s", path);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32];
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (mkdir_p("chaosrun-out") != 0)
            return cr_err_sys(err, CR_ESYS, errno, "chaosrun-out");
        for (int k = 1;; k++) {
            if (k == 1)
                snprintf(path, sizeof path, "chaosrun-out/%s-%s",
                         r->sc->name, stamp);
            else
                snprintf(path, sizeof path, "chaosrun-out/%s-%s-%d",
                         r->sc->name, stamp, k);
            if (mkdir(path, 0755) == 0)
                break;
            if (errno != EEXIST || k > 1000)
                return cr_err_sys(err, CR_ESYS, errno, "run directory %s",
                                  path);
        }
    }
    if (!realpath(path, real))
        return cr_err_sys(err, CR_ESYS, errno, "run directory %s", path);
    r->dir = cr_strdup(real);
    char logs[PATH_MAX + 8];
    snprintf(logs, sizeof logs, "%s/logs", real);
    if (!r->dir || mkdir_p(logs) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "run directory %s", logs);
    r->events_path = cr_asprintf("%s/events.live.jsonl", real);
    if (!r->events_path)
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    return CR_OK;
}

static char *self_bindir(void)
{
    const char *o = getenv("CHAOSRUN_BINDIR");
    char buf[PATH_MAX];
    if (o && *o)
        return cr_strdup(o);
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return cr_strdup(".");
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return cr_strdup(buf);
}

static int add_fd(cr_run *r, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(cr_run *r, cr_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return cr_err_set(err, CR_ESYS, "sigprocmask failed");
    signal(SIGPIPE, SIG_IGN);
    r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (r->sigfd < 0 || r->epfd < 0 || r->timerfd < 0 || r->evfd < 0 ||
        r->inofd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "event loop set-up");
    int fd = open(r->events_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0644);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "event file %s",
                          r->events_path);
    close(fd);
    r->events_fd = open(r->events_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (r->events_fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "event file %s",
                          r->events_path);
    r->ino_wd = inotify_add_watch(r->inofd, r->events_path, IN_MODIFY);
    if (r->ino_wd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "inotify on %s",
                          r->events_path);
    if (add_fd(r, r->sigfd) || add_fd(r, r->timerfd) || add_fd(r, r->evfd) ||
        add_fd(r, r->inofd))
        return cr_err_sys(err, CR_ESYS, errno, "epoll_ctl");
    /* Orphans of the services are reparented to us, not to init, so
     * they are reaped here and killed with their group. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return CR_OK;
}

static json_t *machine_json(void)
{
    struct utsname u;
    json_t *m = json_object();
    if (uname(&u) == 0) {
        json_object_set_new(m, "hostname", json_string(u.nodename));
        json_object_set_new(m, "kernel", json_string(u.release));
        json_object_set_new(m, "arch", json_string(u.machine));
    }
    json_object_set_new(m, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    return m;
}

static int needs_baseline(const cr_scen *sc)
{
    for (size_t i = 0; i < sc->nexpects; i++)
        if (sc->expects[i].ops->flags & CR_CHECK_NEEDS_BASELINE)
            return 1;
    return 0;
}

static void shell_quote(char *buf, size_t n, const char *s)
{
    if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_-./:=@,+") == strlen(s)) {
        snprintf(buf, n, "%s", s);
        return;
    }
    size_t k = 0;
    buf[k++] = '\'';
    for (const char *p = s; *p && k + 5 < n; p++) {
        if (*p == '\'') {
            memcpy(buf + k, "'\\''", 4);
            k += 4;
        } else {
            buf[k++] = *p;
        }
    }
    buf[k++] = '\'';
    buf[k] = '\0';
}

static void journal_init(cr_run *r)
{
    char q[PATH_MAX * 2], repro[PATH_MAX * 2 + 64];
    r->journal = json_object();
    r->j_phases = json_array();
    r->j_faults = json_array();
    r->j_probes = json_array();
    r->j_log = json_array();
    shell_quote(q, sizeof q, r->sc->file ? r->sc->file : "scenario.json");
    snprintf(repro, sizeof repro, "chaosrun --seed %llu %s",
             (unsigned long long)r->seed, q);
    json_t *j = r->journal;
    json_object_set_new(j, "chaosrun", json_string(CR_VERSION));
    json_object_set_new(j, "format", json_integer(1));
    json_object_set_new(j, "scenario_file",
                        json_string(r->sc->file ? r->sc->file : ""));
    json_object_set_new(j, "name", json_string(r->sc->name));
    json_object_set_new(j, "description",
                        json_string(r->sc->description ? r->sc->description
                                                       : ""));
    json_object_set_new(j, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(j, "seed_source", json_string(r->seed_source));
    json_object_set_new(j, "reproduce", json_string(repro));
    json_object_set_new(j, "baseline", json_boolean(r->opts->baseline));
    json_object_set_new(j, "started_at", json_real(r->started_unix));
    json_object_set_new(j, "duration_s", json_real(r->sc->duration_s));
    json_object_set_new(j, "drain_s", json_real(r->sc->drain_s));
    json_object_set_new(j, "machine", machine_json());
    json_object_set(j, "scenario", r->sc->root);
    json_object_set_new(j, "timeline", cr_scen_timeline_json(r->sc));
    json_object_set(j, "phases", r->j_phases);
    json_object_set(j, "faults", r->j_faults);
    json_object_set(j, "probes", r->j_probes);
    json_object_set(j, "log", r->j_log);
}

static int write_json_atomic(const char *dir, const char *name, json_t *j,
                             cr_err *err)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0)
        return cr_err_set(err, CR_ESYS, "write %s failed", tmp);
    if (rename(tmp, dst) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "rename %s", dst);
    return CR_OK;
}

static void finish_services_json(cr_run *r)
{
    json_t *arr = json_array();
    for (size_t s = 0; s < r->nsvcs; s++) {
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            char log[160];
            snprintf(log, sizeof log, "logs/%s.log", in->name);
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:i,s:i,s:s,s:O}", "instance",
                               in->name, "service", r->svcs[s].spec->name,
                               "replica", in->idx, "restarts", in->restarts,
                               "log", log, "history", in->history));
        }
    }
    json_object_set_new(r->journal, "services", arr);
}

static void teardown(cr_run *r)
{
    cr_runprobe_stop(r);
    while (r->timers) {
        cr_timer *t = r->timers;
        r->timers = t->next;
        cr_free(t);
    }
    /* Anything still alive (a failed set-up) goes now. */
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            if (in->pid > 0) {
                kill(-in->pid, SIGKILL);
                waitpid(in->pid, NULL, 0);
                cr_ledger_done(r->ledger, in->ledger_id);
                in->pid = 0;
            }
        }
    if (r->proxy && cr_proxy_run_stop) {
        json_t *st = cr_proxy_run_stop(r);
        if (st && r->journal)
            json_object_set_new(r->journal, "proxy", st);
        else
            json_decref(st);
    }
    if (r->net && cr_net_run_teardown)
        cr_net_run_teardown(r);
    int fds[] = {r->sigfd, r->epfd, r->timerfd, r->evfd, r->inofd,
                 r->events_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Discard signals that arrived after the loop ended, then unblock. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static const char *status_name(int exit_code, const cr_run *r)
{
    if (r->interrupted)
        return "interrupted";
    switch (exit_code) {
    case 0:
        return "passed";
    case 1:
        return "failed";
    case 3:
        return "unrunnable";
    default:
        return "error";
    }
}

int cr_run_scenario(cr_scen *sc, const cr_run_opts *opts, char **run_dir_out)
{
    cr_run run, *r = &run;
    cr_err err;
    cr_history baseline;
    int have_baseline = 0;
    int exit_code = 4;
    memset(r, 0, sizeof *r);
    cr_err_clear(&err);
    cr_err_clear(&r->err);
    r->sc = sc;
    r->opts = opts;
    r->sigfd = r->epfd = r->timerfd = r->evfd = r->inofd = r->events_fd = -1;
    r->janitor_fd = -1;
    pthread_mutex_init(&r->hist_lock, NULL);
    pthread_mutex_init(&r->pq_lock, NULL);
    pthread_cond_init(&r->pq_cond, NULL);
    if (run_dir_out)
        *run_dir_out = NULL;
    if (opts->seed_override) {
        r->seed = opts->seed;
        r->seed_source = "command line";
    } else {
        r->seed = sc->seed;
        r->seed_source = sc->seed_given ? "scenario" : "drawn";
    }
    sc->seed = r->seed;
    if (cr_scen_resolve(sc, &err) != 0)
        goto fatal_early;
    r->started_unix = unix_now();
    r->mono_start = cr_run_mono();
    r->mono_t0 = r->mono_start;
    cr_history_init(&r->hist, r->started_unix);
    if (make_run_dir(r, &err) != 0)
        goto fatal_early;
    if (run_dir_out)
        *run_dir_out = cr_strdup(r->dir);
    r->bindir = self_bindir();
    if (!opts->quiet)
        fprintf(stderr, "chaosrun: %s%s, seed %llu (%s), run directory %s\n",
                sc->name, opts->baseline ? " (fault-free baseline)" : "",
                (unsigned long long)r->seed, r->seed_source, r->dir);

    if (!opts->baseline && needs_baseline(sc)) {
        cr_run_opts bo = *opts;
        char bdir[PATH_MAX + 16];
        snprintf(bdir, sizeof bdir, "%s/baseline", r->dir);
        bo.out_dir = bdir;
        bo.baseline = 1;
        bo.seed_override = 1;
        bo.seed = r->seed;
        bo.live_status = 0;
        int brc = cr_run_scenario(sc, &bo, NULL);
        char bev[PATH_MAX + 32];
        snprintf(bev, sizeof bev, "%s/events.jsonl", bdir);
        cr_history_init(&baseline, 0);
        have_baseline = 1;
        cr_err e2;
        cr_err_clear(&e2);
        if (brc > 1 || cr_history_load(&baseline, bev, &e2) != 0)
            cr_run_journal_log(r, "baseline run did not complete");
        r->mono_start = cr_run_mono();
        r->started_unix = unix_now();
        r->hist.t0 = r->started_unix;
    }

    journal_init(r);
    if (cr_ledger_open(r->dir, &r->ledger, &err) != 0)
        goto fatal;
    if (cr_janitor_spawn(r->ledger, &r->janitor_pid, &r->janitor_fd, &err) !=
        0)
        goto fatal;
    if (setup_loop(r, &err) != 0)
        goto fatal;
    if (cr_svc_init(r, &err) != 0)
        goto fatal;
    /* Can this machine do every fault?  Asked before anything starts. */
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->ops->check && f->ops->check(f, r, &err) != 0)
            goto fatal;
    }
    if (sc->hosts) {
        if (!cr_net_run_setup) {
            cr_err_set(&err, CR_EUNSUP, "hosts: network module not built");
            goto fatal;
        }
        r->net = r; /* marks "set up" for teardown */
        if (cr_net_run_setup(r, &err) != 0)
            goto fatal;
    }
    if (sc->links) {
        if (!cr_proxy_run_start) {
            cr_err_set(&err, CR_EUNSUP, "links: fault proxy not built");
            goto fatal;
        }
        r->proxy = r;
        if (cr_proxy_run_start(r, &err) != 0)
            goto fatal;
    }
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->ops->prepare && f->ops->prepare(f, r, &err) != 0)
            goto fatal;
    }
    r->trigger_counts = cr_calloc(sc->nfaults + 1, sizeof *r->trigger_counts);
    r->trigger_fired = cr_calloc(sc->nfaults + 1, sizeof *r->trigger_fired);
    if (!r->trigger_counts || !r->trigger_fired) {
        cr_err_set(&err, CR_ENOMEM, "out of memory");
        goto fatal;
    }
    if (cr_runprobe_start(r, &err) != 0)
        goto fatal;

    phase_enter(r, CR_PH_STARTUP);
    startup_next(r);
    if (run_loop(r) != 0) {
        cr_err_set(&err, r->err.code, "%s", r->err.msg);
        goto fatal;
    }
    read_events(r);
    cr_runprobe_stop(r);
    if (r->fatal_code) {
        cr_err_set(&err, r->fatal_code, "%s", r->err.msg);
        goto fatal;
    }
    phase_enter(r, CR_PH_DONE);
    exit_code = opts->baseline ? 0
                               : cr_runjudge_eval(r, have_baseline ? &baseline
                                                                   : NULL);
    if (r->interrupted)
        exit_code = 4;
    goto finish;

fatal:
    exit_code = cr_err_exit_status(err.code);
    if (r->journal)
        json_object_set_new(r->journal, "error", json_string(err.msg));
    if (!opts->quiet) {
        status_clear(r);
        fprintf(stderr, "chaosrun: %s\n", err.msg);
    }
finish:
    status_clear(r);
    teardown(r);
    if (r->journal) {
        cr_err e2;
        cr_err_clear(&e2);
        pthread_mutex_lock(&r->hist_lock);
        cr_history_sort(&r->hist);
        char evp[PATH_MAX + 16];
        snprintf(evp, sizeof evp, "%s/events.jsonl", r->dir);
        cr_history_write(&r->hist, evp, &e2);
        pthread_mutex_unlock(&r->hist_lock);
        json_object_set_new(r->journal, "status",
                            json_string(status_name(exit_code, r)));
        json_object_set_new(r->journal, "exit_code", json_integer(exit_code));
        json_object_set_new(r->journal, "t0_unix", json_real(r->t0_unix));
        json_object_set_new(r->journal, "ended_at", json_real(unix_now()));
        if (r->interrupted)
            json_object_set_new(r->journal, "interrupted_by",
                                json_string(cr_signal_name(r->interrupted)));
        if (!json_object_get(r->journal, "error"))
            json_object_set_new(
                r->journal, "error",
                r->startup_failed ? json_string(r->startup_msg) : json_null());
        json_object_set_new(
            r->journal, "events",
            json_pack("{s:s,s:I,s:I,s:s?}", "file", "events.jsonl", "count",
                      (json_int_t)r->hist.n, "malformed",
                      (json_int_t)r->hist.malformed, "first_malformed",
                      r->hist.malformed ? r->hist.first_malformed : NULL));
        finish_services_json(r);
        if (write_json_atomic(r->dir, "journal.json", r->journal, &e2) != 0) {
            fprintf(stderr, "chaosrun: %s\n", e2.msg);
            exit_code = 4;
        }
        if (cr_report_write_all && !opts->baseline &&
            cr_report_write_all(r->dir, &e2) != 0 && !opts->quiet)
            fprintf(stderr, "chaosrun: reports: %s\n", e2.msg);
        if (!opts->quiet && !opts->baseline)
            cr_runjudge_summary(r, stdout);
    }
    if (r->ledger) {
        /* Everything recorded has been undone: the index entry goes, and
         * the janitor is told not to act. */
        cr_ledger_close(r->ledger, 1);
        r->ledger = NULL;
    }
    if (r->janitor_fd >= 0) {
        ssize_t w = write(r->janitor_fd, "done\n", 5);
        (void)w;
        close(r->janitor_fd);
        waitpid(r->janitor_pid, NULL, 0);
    }
    cr_runfault_free(r);
    cr_svc_fini(r);
    json_decref(r->journal);
    json_decref(r->j_phases);
    json_decref(r->j_faults);
    json_decref(r->j_probes);
    json_decref(r->j_log);
    cr_history_free(&r->hist);
    if (have_baseline)
        cr_history_free(&baseline);
    cr_free(r->trigger_counts);
    cr_free(r->trigger_fired);
    cr_free(r->ev_buf);
    cr_free(r->events_path);
    cr_free(r->bindir);
    cr_free(r->dir);
    pthread_mutex_destroy(&r->hist_lock);
    pthread_mutex_destroy(&r->pq_lock);
    pthread_cond_destroy(&r->pq_cond);
    return exit_code;

fatal_early:
    fprintf(stderr, "chaosrun: %s\n", err.msg);
    cr_history_free(&r->hist);
    cr_free(r->dir);
    pthread_mutex_destroy(&r->hist_lock);
    pthread_mutex_destroy(&r->pq_lock);
    pthread_cond_destroy(&r->pq_cond);
    return cr_err_exit_status(err.code);
}
