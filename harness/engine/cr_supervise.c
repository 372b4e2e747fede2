/* cr_supervise: the engine's side of the supervision table
 * (cr_svc_fsm.h).  Everything that happens to a replica -- its start in
 * start-up order, its readiness, a fault's signal or stop, its exit, a
 * restart timer, the end of the run -- is an event fed to cr_svc_fire(),
 * which takes the table's new state and carries out its actions (spawn,
 * signals, timers, log lines, history).  No other code changes a
 * replica's state.
 *
 * Also here: the start-up order (each service once the previous one is
 * ready), readiness polling (log regex on the loop, other checks on the
 * probe thread), and the instance API of cr_run.h that faults use
 * (cr_run_signal, cr_run_stop_inst, cr_inst_set_paused). */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

/* ---- firing events ------------------------------------------------------ */

/* A signal to the replica's process group; never kill(-0) (our own). */
static int group_kill(const cr_inst *in, int sig)
{
    if (in->pid <= 0) {
        errno = ESRCH;
        return -1;
    }
    if (in->svc->ctr || in->svc->remote) {
        /* Through the container engine, or over ssh to the remote
         * process group. */
        cr_err e;
        cr_err_clear(&e);
        if ((in->svc->ctr ? cr_run_ctr_signal(in->run, in, sig, &e)
                          : cr_run_ssh_signal(in->run, in, sig, &e)) != 0) {
            cr_run_journal_log(in->run, e.msg);
            errno = EIO;
            return -1;
        }
        return 0;
    }
    return kill(-in->pid, sig);
}

static cr_svc_fsm_ctx fsm_ctx(const cr_run *r, const cr_inst *in,
                              const cr_svc_args *a)
{
    const cr_svc_spec *sp = in->svc->spec;
    cr_svc_fsm_ctx c = {
        .ready = in->ready,
        .in_startup = r->phase == CR_PH_STARTUP,
        .shutting_down = r->phase >= CR_PH_STOP || r->interrupted,
        .policy = sp->restart,
        .restarts = in->restarts,
        .max_restarts = sp->max_restarts,
    };
    if (a && (WIFSIGNALED(a->status) ||
              (WIFEXITED(a->status) && WEXITSTATUS(a->status) != 0)))
        c.exit_failed = 1;
    return c;
}

/* The state's history entries a report draws: entering and leaving a
 * pause. */
static void note_state(cr_inst *in, cr_svc_state from, cr_svc_state to)
{
    if (to == CR_SVC_PAUSED && from != CR_SVC_PAUSED)
        cr_inst_hist(in, "paused", NULL);
    else if (from == CR_SVC_PAUSED &&
             (to == CR_SVC_RUNNING || to == CR_SVC_STARTING))
        cr_inst_hist(in, "resumed", NULL);
}

static void act_spawn(cr_run *r, cr_inst *in, cr_svc_event ev, cr_err *err)
{
    int restart = ev != CR_SVE_START;
    const char *cause = !restart            ? NULL
                        : in->restart_fault ? "restart-fault"
                                            : "restart-policy";
    cr_err e;
    cr_err_clear(&e);
    in->ready = 0;
    in->ready_last[0] = '\0';
    if (cr_svc_start(r, in, cause, &e) != 0) {
        cr_err_set(err, e.code, "%s", e.msg);
        if (!restart) {
            /* A service that cannot start: the run cannot either. */
            r->startup_failed = 1;
            snprintf(r->startup_msg, sizeof r->startup_msg, "%s", e.msg);
            if (e.code != CR_EUNSUP) {
                r->fatal_code = e.code;
                cr_err_set(&r->err, e.code, "%s", e.msg);
            }
            cr_run_log(r, "%s", e.msg);
        } else {
            cr_run_log(r, "restart of %s failed: %s", in->name, e.msg);
        }
        return;
    }
    if (!restart)
        cr_run_log(r, "started %s (pid %d)", in->name, (int)in->pid);
    in->ready_deadline = cr_run_now(r) + in->svc->spec->ready.timeout_s;
    cr_run_timer_add(r, cr_run_mono(), CR_T_READY, in, 0);
}

static int act_stop_signal(cr_run *r, cr_inst *in, cr_svc_state from,
                           cr_err *err)
{
    if (group_kill(in, in->stop_sig) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "stop %s: %s", in->name,
                          cr_signal_name(in->stop_sig));
    if (from != CR_SVC_STOPPING && from != CR_SVC_RESTARTING) {
        /* The first stop signal starts the clock of this stop. */
        const char *cause = cr_runfault_cause(r);
        snprintf(in->stop_cause, sizeof in->stop_cause, "%s",
                 cause ? cause : "stop");
        in->stop_t = cr_run_now(r);
        in->stop_killed = 0;
    }
    return CR_OK;
}

/* What the readiness check of a replica probes: "tcp 127.0.0.1:8080". */
static void ready_what(const cr_inst *in, char *buf, size_t n)
{
    const cr_svc_spec *sp = in->svc->spec;
    const cr_ready *rd = &sp->ready;
    switch (rd->kind) {
    case CR_READY_TCP:
        snprintf(buf, n, "tcp %s:%d", rd->host ? rd->host : "127.0.0.1",
                 rd->port ? rd->port : sp->port + in->idx);
        break;
    case CR_READY_HTTP:
        snprintf(buf, n, "http %s (status %d)", rd->url,
                 rd->status ? rd->status : 200);
        break;
    case CR_READY_EXEC:
        snprintf(buf, n, "exec %s", rd->argv && rd->argv[0] ? rd->argv[0] : "");
        break;
    case CR_READY_LOG:
        snprintf(buf, n, "a log line matching /%s/", rd->regex);
        break;
    default:
        snprintf(buf, n, "nothing");
    }
}

/* The last `lines` lines of a replica's log, each as "\n    | text",
 * into buf ("" when the log is empty or unreadable). */
static void log_tail(const cr_inst *in, int lines, char *buf, size_t n)
{
    char tail[1024];
    buf[0] = '\0';
    int fd = open(in->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from =
        end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    ssize_t k = pread(fd, tail, sizeof tail - 1, from);
    close(fd);
    if (k <= 0)
        return;
    tail[k] = '\0';
    while (k > 0 && (tail[k - 1] == '\n' || tail[k - 1] == '\r'))
        tail[--k] = '\0';
    char *p = tail + k;
    for (int seen = 0; p > tail; p--)
        if (p[-1] == '\n' && ++seen == lines)
            break;
    size_t at = 0;
    for (char *save = NULL, *l = strtok_r(p, "\n", &save); l && at + 8 < n;
         l = strtok_r(NULL, "\n", &save))
        at += (size_t)snprintf(buf + at, n - at, "\n    | %.160s", l);
}

/* The start-up failed: why, in one message naming the replica, what its
 * readiness check probed and the last answer (or how it exited), and the
 * last lines of its log (the journal's error and the summary show it). */
static void act_startup_failed(cr_run *r, cr_inst *in, cr_svc_event ev,
                               const cr_svc_args *a)
{
    char what[300], tail[800], how[64];
    r->startup_failed = 1;
    log_tail(in, 5, tail, sizeof tail);
    if (ev == CR_SVE_READY_LATE) {
        ready_what(in, what, sizeof what);
        /* A probe's answer often repeats its target: "tcp h:p: refused". */
        size_t wl = strlen(what);
        if (strncmp(in->ready_last, what, wl) == 0 &&
            strncmp(in->ready_last + wl, ": ", 2) == 0)
            memmove(in->ready_last, in->ready_last + wl + 2,
                    strlen(in->ready_last + wl + 2) + 1);
        snprintf(r->startup_msg, sizeof r->startup_msg,
                 "service %s not ready after %.3g s: %s%s%s%s; logs/%s.log%s",
                 in->name, in->svc->spec->ready.timeout_s, what,
                 in->ready_last[0] ? " (last answer: " : " never answered",
                 in->ready_last, in->ready_last[0] ? ")" : "", in->name,
                 tail[0] ? " ends with:" : " is empty");
    } else {
        int st = a ? a->status : 0;
        if (a && WIFSIGNALED(st))
            snprintf(how, sizeof how, "killed by %s",
                     cr_signal_name(WTERMSIG(st)));
        else if (a && WIFEXITED(st))
            snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(st));
        else
            snprintf(how, sizeof how, "exited");
        snprintf(r->startup_msg, sizeof r->startup_msg,
                 "service %s %s during start-up, before it was ready; "
                 "logs/%s.log%s",
                 in->name, how, in->name,
                 tail[0] ? " ends with:" : " is empty");
    }
    size_t len = strlen(r->startup_msg);
    snprintf(r->startup_msg + len, sizeof r->startup_msg - len, "%s", tail);
    if (ev == CR_SVE_READY_LATE)
        cr_run_log(r, "%s", r->startup_msg);
    cr_run_stop_phase(r);
}

/* Carry out one action.  Only the stop signal can fail in a way that
 * undoes the transition (the caller's request is then refused). */
static int act_one(cr_run *r, cr_inst *in, unsigned act, cr_svc_state from,
                   cr_svc_event ev, const cr_svc_args *a, cr_err *err)
{
    const cr_svc_spec *sp = in->svc->spec;
    switch (act) {
    case CR_SVA_SPAWN:
        act_spawn(r, in, ev, err);
        break;
    case CR_SVA_COUNT_RESTART:
        in->restarts++;
        cr_run_log(r, "restarted %s (pid %d)", in->name, (int)in->pid);
        cr_runfault_on_spawn(r, in);
        break;
    case CR_SVA_MARK_READY:
        in->ready = 1;
        cr_inst_hist(in, "ready",
                     a && a->detail ? json_pack("{s:s}", "detail", a->detail)
                                    : NULL);
        if (r->phase == CR_PH_STARTUP)
            cr_run_log(r, "%s ready", in->name);
        else
            cr_run_log(r, "%s ready again", in->name);
        cr_runfault_on_ready(r, in);
        break;
    case CR_SVA_NOT_READY:
        cr_run_log(r, "%s did not become ready within %.3g s after its restart",
                   in->name, sp->ready.timeout_s);
        break;
    case CR_SVA_STOP_SIGNAL:
        return act_stop_signal(r, in, from, err);
    case CR_SVA_CONT:
        group_kill(in, SIGCONT);
        /* Frozen through the freezer (pause mode "freezer"): the stop
         * signal and SIGKILL act only once the cgroup is thawed. */
        if (in->svc->remote && !in->svc->ctr)
            cr_run_ssh_thaw_inst(r, in);
        else
            cr_run_cgroup_thaw_inst(r, in);
        break;
    case CR_SVA_ARM_KILL:
        in->stop_kill_at = cr_run_now(r) + in->stop_timeout_s;
        cr_run_timer_add(r, cr_run_mono() + in->stop_timeout_s, CR_T_STOP_KILL,
                         in, 0);
        break;
    case CR_SVA_KILL:
        cr_run_log(r, "%s did not stop in time: SIGKILL", in->name);
        group_kill(in, SIGKILL);
        in->stop_killed = 1;
        break;
    case CR_SVA_CANCEL_KILL:
        cr_run_timer_cancel(r, CR_T_STOP_KILL, in);
        break;
    case CR_SVA_ARM_RESTART:
        in->restart_fault = 0;
        cr_run_timer_add(r, cr_run_mono() + sp->restart_delay_s, CR_T_RESTART,
                         in, 0);
        break;
    case CR_SVA_RESTART_NOW:
        in->restart_fault = 1;
        cr_run_timer_add(r, cr_run_mono(), CR_T_RESTART, in, 0);
        break;
    case CR_SVA_CANCEL_RESTART:
        cr_run_timer_cancel(r, CR_T_RESTART, in);
        break;
    case CR_SVA_RECORD_CAUSE: {
        /* An exit that follows is attributed to the fault that sent it. */
        const char *cause = cr_runfault_cause(r);
        if (cause)
            snprintf(in->kill_cause, sizeof in->kill_cause, "%s", cause);
        break;
    }
    case CR_SVA_LIMIT:
        cr_run_log(r, "%s: restart limit (%d) reached", in->name,
                   sp->max_restarts);
        break;
    case CR_SVA_STARTUP_FAILED:
        act_startup_failed(r, in, ev, a);
        break;
    }
    return CR_OK;
}

int cr_svc_fire(cr_run *r, cr_inst *in, cr_svc_event ev, const cr_svc_args *a,
                cr_err *err)
{
    cr_svc_fsm_ctx c = fsm_ctx(r, in, ev == CR_SVE_EXIT ? a : NULL);
    cr_svc_fsm_out out;
    cr_svc_state from = in->st;
    if (cr_svc_fsm_step(from, ev, &c, &out) != 0)
        return cr_err_set(err, CR_ESTATE, "%s: %s while %s", in->name,
                          cr_svc_event_name(ev), cr_svc_state_name(from));
    in->st = out.to;
    note_state(in, from, out.to);
    for (unsigned b = 0; b < CR_SVA_NBITS; b++) {
        unsigned act = 1u << b;
        if (!(out.act & act))
            continue;
        if (act_one(r, in, act, from, out.ev, a, err) != 0) {
            in->st = from; /* the signal could not be sent: no stop */
            return err ? err->code : CR_ESYS;
        }
        if (act == CR_SVA_SPAWN && in->pid <= 0) {
            /* Spawn failed: the rest of the actions do not apply; a
             * service that cannot start stops the run's start-up. */
            cr_svc_fire(r, in, CR_SVE_SPAWN_FAILED, NULL, NULL);
            if (ev == CR_SVE_START)
                cr_run_stop_phase(r);
            return err && err->code ? err->code : CR_ESYS;
        }
    }
    /* Start-up goes on once a service is ready. */
    if ((out.act & CR_SVA_MARK_READY) && r->phase == CR_PH_STARTUP)
        cr_run_startup_next(r);
    return CR_OK;
}

/* ---- start-up order ------------------------------------------------------ */

void cr_run_startup_next(cr_run *r)
{
    while (r->phase == CR_PH_STARTUP && r->start_next < r->nsvcs) {
        cr_svc *svc = &r->svcs[r->start_next];
        int started = svc->inst[0].st != CR_SVC_DOWN, all_ready = 1;
        for (int i = 0; i < svc->spec->replicas; i++)
            all_ready &= svc->inst[i].ready;
        if (started && !all_ready)
            return; /* still waiting for this service */
        if (started) {
            r->start_next++;
            continue;
        }
        for (int i = 0; i < svc->spec->replicas; i++) {
            cr_err err;
            cr_err_clear(&err);
            if (cr_svc_fire(r, &svc->inst[i], CR_SVE_START, NULL, &err) != 0)
                return; /* the run is stopping (act_spawn said why) */
        }
        return;
    }
    if (r->phase == CR_PH_STARTUP)
        cr_run_before_phase(r);
}

/* ---- readiness ----------------------------------------------------------- */

/* Scan new log output for the readiness regex. */
static int log_ready(cr_inst *in)
{
    const cr_ready *rd = &in->svc->spec->ready;
    regex_t re;
    int hit = 0;
    int fd = openat(in->run->logsfd, in->log_name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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

static void ready(cr_run *r, cr_inst *in, const char *detail)
{
    cr_svc_args a = {.detail = detail};
    cr_svc_fire(r, in, CR_SVE_READY, &a, NULL);
}

void cr_svc_ready_tick(cr_run *r, cr_inst *in)
{
    const cr_ready *rd = &in->svc->spec->ready;
    /* Polling lasts while the process that started it lives unready. */
    if (in->pid <= 0 || in->ready ||
        (in->st != CR_SVC_STARTING && in->st != CR_SVC_PAUSED))
        return;
    if (rd->kind == CR_READY_NONE) {
        ready(r, in, NULL);
        return;
    }
    if (rd->kind == CR_READY_LOG) {
        if (log_ready(in)) {
            ready(r, in, "log line matched");
            return;
        }
    } else if (!in->ready_job) {
        cr_probe_job *j = cr_calloc(1, sizeof *j);
        if (j) {
            j->kind = 1;
            j->inst = in;
            j->t = cr_run_now(r);
            in->ready_job = 1;
            cr_runprobe_submit(r, j);
        }
    }
    if (cr_run_now(r) > in->ready_deadline) {
        cr_svc_fire(r, in, CR_SVE_READY_TIMEOUT, NULL, NULL);
        return;
    }
    double iv = rd->interval_s > 0 ? rd->interval_s : 0.05;
    cr_run_timer_add(r, cr_run_mono() + iv, CR_T_READY, in, 0);
}

void cr_svc_ready_result(cr_run *r, cr_inst *in, int ok, const char *detail)
{
    in->ready_job = 0;
    if (ok == 1 && in->pid > 0 && !in->ready)
        ready(r, in, detail);
    else if (ok != 1 && detail)
        snprintf(in->ready_last, sizeof in->ready_last, "%s", detail);
}

/* ---- exits, restarts, stop deadlines ------------------------------------- */

void cr_run_on_exit(cr_run *r, cr_inst *in, int status)
{
    json_t *h = json_object();
    int code = -1, sig = 0;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        sig = WTERMSIG(status);
    int stopping = in->st == CR_SVC_STOPPING || in->st == CR_SVC_RESTARTING;
    json_object_set_new(h, "code",
                        code >= 0 ? json_integer(code) : json_null());
    json_object_set_new(h, "signal",
                        sig ? json_string(cr_signal_name(sig)) : json_null());
    const char *cause = stopping ? in->stop_cause : in->kill_cause;
    if (!cause[0])
        cause = NULL;
    if (cause)
        json_object_set_new(h, "cause", json_string(cause));
    if (in->svc->ctr) /* which watch saw it (cr_run_ctr.c) */
        json_object_set_new(
            h, "seen_by",
            json_string(in->ctr_exit_seen ? "container process" : "client"));
    cr_inst_hist(in, "exit", h);
    if (sig)
        cr_run_log(r, "%s exited: killed by %s%s%s", in->name,
                   cr_signal_name(sig), cause ? " — " : "", cause ? cause : "");
    else
        cr_run_log(r, "%s exited with status %d%s%s", in->name, code,
                   cause ? " — " : "", cause ? cause : "");
    if (stopping)
        cr_shutdown_record(r, in, status);
    in->kill_cause[0] = '\0';
    in->ready = 0;
    cr_svc_args a = {.status = status};
    cr_svc_fire(r, in, CR_SVE_EXIT, &a, NULL);
    cr_shutdown_advance(r); /* the next service's turn, maybe */
}

void cr_svc_on_timer(cr_run *r, int kind, cr_inst *in)
{
    switch (kind) {
    case CR_T_STOP_KILL:
        if (in->pid > 0)
            cr_svc_fire(r, in, CR_SVE_STOP_TIMEOUT, NULL, NULL);
        break;
    case CR_T_RESTART:
        cr_svc_fire(r, in, CR_SVE_RESTART_TIMER, NULL, NULL);
        break;
    case CR_T_READY:
        cr_svc_ready_tick(r, in);
        break;
    }
}

/* ---- the instance API of cr_run.h ----------------------------------------
 */

int cr_run_stop_inst(cr_run *r, cr_inst *i, int sig, double timeout_s,
                     int restart, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    if (i->pid <= 0)
        return cr_err_set(err, CR_ESTATE, "stop %s: not running", i->name);
    i->stop_sig = sig;
    i->stop_timeout_s = timeout_s;
    int rc = cr_svc_fire(r, i, restart ? CR_SVE_STOP_RESTART : CR_SVE_STOP,
                         NULL, &e);
    if (rc != 0)
        return cr_err_set(err, rc, "%s", e.msg);
    return CR_OK;
}

int cr_run_signal(cr_run *r, cr_inst *i, int sig, cr_err *err)
{
    cr_svc_event ev = sig == SIGSTOP   ? CR_SVE_FAULT_PAUSE
                      : sig == SIGCONT ? CR_SVE_FAULT_RESUME
                                       : CR_SVE_FAULT_KILL;
    cr_svc_fsm_ctx c = fsm_ctx(r, i, NULL);
    cr_svc_fsm_out out;
    if (i->pid <= 0)
        return cr_err_set(err, CR_ESTATE, "signal %s to %s: not running",
                          cr_signal_name(sig), i->name);
    /* Asked first, so that a refused pause sends nothing. */
    if (cr_svc_fsm_step(i->st, ev, &c, &out) != 0)
        return cr_err_set(err, CR_ESTATE, "signal %s to %s: it is %s",
                          cr_signal_name(sig), i->name,
                          cr_svc_state_name(i->st));
    if (i->svc->ctr) {
        if (cr_run_ctr_signal(r, i, sig, err) != 0)
            return err ? err->code : CR_ESYS;
    } else if (i->svc->remote) {
        if (cr_run_ssh_signal(r, i, sig, err) != 0)
            return err ? err->code : CR_ESYS;
    } else if (kill(-i->pid, sig) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "signal %s to %s (pgid %d)",
                          cr_signal_name(sig), i->name, (int)i->pid);
    return cr_svc_fire(r, i, ev, NULL, err);
}

int cr_run_freeze(cr_run *r, cr_inst *i, int frozen, double timeout_s,
                  cr_err *err)
{
    cr_svc_event ev = frozen ? CR_SVE_FAULT_PAUSE : CR_SVE_FAULT_RESUME;
    cr_svc_fsm_ctx c = fsm_ctx(r, i, NULL);
    cr_svc_fsm_out out;
    const char *what = frozen ? "freeze" : "thaw";
    if (frozen && i->pid <= 0)
        return cr_err_set(err, CR_ESTATE, "%s %s: not running", what, i->name);
    /* Asked first, so that a refused pause freezes nothing. */
    if (i->pid > 0 && cr_svc_fsm_step(i->st, ev, &c, &out) != 0)
        return cr_err_set(err, CR_ESTATE, "%s %s: it is %s", what, i->name,
                          cr_svc_state_name(i->st));
    /* A container: the engine's pause is the cgroup freezer.  On an ssh
     * node: the replica's freezer cgroup there. */
    int rc =
        i->svc->ctr
            ? (i->pid > 0
                   ? cr_run_ctr_signal(r, i, frozen ? SIGSTOP : SIGCONT, err)
                   : 0)
        : i->svc->remote ? cr_run_ssh_freeze(r, i, frozen, timeout_s, err)
                         : cr_run_cgroup_freeze(r, i, frozen, timeout_s, err);
    if (rc != 0 || i->pid <= 0)
        return rc;
    return cr_svc_fire(r, i, ev, NULL, err);
}

int cr_inst_paused(const cr_inst *i)
{
    return i->st == CR_SVC_PAUSED;
}

void cr_inst_set_paused(cr_inst *i, int paused)
{
    /* For fault kinds that freeze without a signal (and idempotent after
     * cr_run_signal(SIGSTOP/SIGCONT), which has already moved the state). */
    if (!!paused != cr_inst_paused(i))
        cr_svc_fire(i->run, i,
                    paused ? CR_SVE_FAULT_PAUSE : CR_SVE_FAULT_RESUME, NULL,
                    NULL);
}
