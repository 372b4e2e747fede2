/* crp_super: the pipeline's own supervisor (self-healing, autoscaling).
 * `crp supervise` starts every stage as a child process (queue, feature,
 * ingest, --workers workers, sink, trainer, produce; --stages picks a
 * subset), restarts one that crashes (exit status != 0 or a signal) after
 * a delay that doubles from --restart-base-ms up to 5 s, at most
 * --restart-max times per stage, and on SIGTERM shuts the pipeline down in
 * dependency order - producer first, queue last - waiting for each stage's
 * own graceful drain (SIGTERM, then SIGKILL after 10 s).  Under chaosrun
 * each stage can instead be its own service; `--stages worker` lets the
 * supervisor run only the workers beside such services.
 *
 * Each child is a state machine (crp_supsm.h: a state x event table);
 * this file only turns what happens - an exit reaped, a timer due, a
 * scaling decision, the stop - into events and carries out the action of
 * each transition.  One loop: poll() on a self-pipe that SIGCHLD, SIGTERM
 * and SIGINT write to (crp_signals_wakeup), with the nearest timer as the
 * timeout.
 *
 * Spawning (as libuv's process.c does it): the child's argv and
 * environment are built before fork(), because the supervisor has threads
 * (the metrics server) and between fork() and exec() only
 * async-signal-safe calls are allowed; every signal is blocked around
 * fork() so that no handler of the supervisor runs in the child; the
 * child resets every disposition and its mask, then execve()s; an exec
 * failure is reported over a CLOEXEC pipe (an exec that worked closes it
 * without a word).
 *
 * Autoscaling (--autoscale MIN:MAX): every --scale-poll-ms the supervisor
 * asks the queue for the ready depth of `work` (DEPTH) and feeds it to
 * crp_scale_decide (crp_scale.h: thresholds held --scale-for-ms, a
 * --cooldown-ms after every change, always within [MIN, MAX]).  Each
 * change is a `scaled` event {from, to, reason, depth, instance}.  Up: a
 * new worker with the lowest free replica number.  Down: the newest
 * serving worker is drained: SIGTERM (it finishes or hands back its batch
 * and exits), not counted as a crash nor restarted; SIGKILLed only after
 * --drain-timeout-ms.  Its end is a `drained` event {instance, ms,
 * graceful}. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crp_qc.h"
#include "crp_scale.h"
#include "crp_stage.h"
#include "crp_supsm.h"

#define MAX_CHILD       32
#define MAX_WARGS       16
#define STOP_TIMEOUT_MS 10000

extern char **environ;

typedef struct child {
    int used; /* slot in use (a retired worker frees it) */
    char stage[16], inst[32];
    int replica;
    crp_sup_state state;
    pid_t pid;        /* > 0 while a process may be alive */
    int restarts;     /* restarts done */
    int64_t timer_at; /* restart (backoff), drain or stop deadline; 0 none */
    int64_t drain_at; /* scale-down began */
    int killed;       /* SIGKILLed at a deadline */
} child;

typedef struct super {
    crp_ctx *x;
    child ch[MAX_CHILD];
    int n; /* slots used so far (high-water mark) */
    char exe[PATH_MAX], config[CRP_STR];
    char wargs[CRP_STR];
    char *wargv[MAX_WARGS];
    int nwargs;
    int wake; /* the self-pipe's read end */
    crp_metric *m_workers, *m_scaled, *m_drain_kill;
} super;

static const char *const order[] = {"queue", "feature", "ingest", "worker",
                                    "sink",  "trainer", "produce"};
#define NORDER ((int)(sizeof order / sizeof order[0]))

/* ---- spawning ---- */

/* 1 when env entry e sets one of the variables the child gets anew. */
static int replaced(const char *e)
{
    static const char *const names[] = {
        "CHAOSRUN_SERVICE=", "CHAOSRUN_INSTANCE=", "CHAOSRUN_REPLICA=",
        "CHAOSRUN_PORT="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(e, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* The child's environment: the supervisor's own without CHAOSRUN_PORT
 * (each stage takes its default port) and with the child's service,
 * instance and replica.  The array and own[] are the caller's to free;
 * the other strings are environ's.  0 or -ENOMEM. */
static int child_env(const child *ch, char ***envp, char *own[3])
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **v = calloc(n + 4, sizeof *v);
    own[0] = own[1] = own[2] = NULL;
    if (!v || asprintf(&own[0], "CHAOSRUN_SERVICE=%s", ch->stage) < 0 ||
        asprintf(&own[1], "CHAOSRUN_INSTANCE=%s", ch->inst) < 0 ||
        asprintf(&own[2], "CHAOSRUN_REPLICA=%d", ch->replica) < 0) {
        free(v);
        for (int i = 0; i < 3; i++)
            free(own[i]), own[i] = NULL;
        return -ENOMEM;
    }
    size_t k = 0;
    for (char **e = environ; *e; e++)
        if (!replaced(*e))
            v[k++] = *e;
    for (int i = 0; i < 3; i++)
        v[k++] = own[i];
    v[k] = NULL;
    *envp = v;
    return 0;
}

/* In the child, between fork and exec: async-signal-safe calls only.
 * Never returns. */
static void exec_child(const char *exe, char *const argv[], char *const envp[],
                       int errfd)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL); /* EINVAL for the RT ones libc uses */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(exe, argv, envp);
    int err = errno;
    while (write(errfd, &err, sizeof err) < 0 && errno == EINTR) {
    }
    _exit(127);
}

/* Start ch's process.  0 with ch->pid set, or -errno (fork failed, or
 * the exec failed: the child is reaped here). */
static int spawn(super *s, child *ch)
{
    char rep[16], port[16];
    char *argv[8 + MAX_WARGS];
    int a = 0, rc = 0, p[2] = {-1, -1};
    char **envp = NULL, *own[3] = {NULL, NULL, NULL};
    snprintf(rep, sizeof rep, "%d", ch->replica);
    argv[a++] = s->exe;
    argv[a++] = ch->stage;
    if (s->config[0]) {
        argv[a++] = "--config";
        argv[a++] = s->config;
    }
    int worker = strcmp(ch->stage, "worker") == 0;
    if (worker && s->x->c.worker_port > 0) {
        snprintf(port, sizeof port, "%d", s->x->c.worker_port + ch->replica);
        argv[a++] = "--port";
        argv[a++] = port;
    }
    for (int i = 0; worker && i < s->nwargs; i++)
        argv[a++] = s->wargv[i];
    argv[a] = NULL;
    if ((rc = child_env(ch, &envp, own)) < 0)
        goto out;
    if (pipe2(p, O_CLOEXEC) < 0) {
        rc = -errno;
        goto out;
    }
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(s->exe, argv, envp, p[1]);
    int fork_err = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    close(p[1]);
    p[1] = -1;
    if (pid < 0) {
        rc = -fork_err;
        goto out;
    }
    int err = 0;
    ssize_t r;
    while ((r = read(p[0], &err, sizeof err)) < 0 && errno == EINTR) {
    }
    if (r == (ssize_t)sizeof err) {
        /* the exec failed and the child exits at once */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        rc = -err;
        goto out;
    }
    ch->pid = pid;
out:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    free(envp);
    for (int i = 0; i < 3; i++)
        free(own[i]);
    return rc;
}

/* ---- the state machine's actions ---- */

static void fire(super *s, child *ch, crp_sup_event ev, int st);

static void signal_child(super *s, child *ch, int sig)
{
    if (ch->pid > 0 && kill(ch->pid, sig) < 0)
        crp_log(s->x, "kill %s (pid %d): %s", ch->inst, (int)ch->pid,
                strerror(errno));
}

/* Start (or restart) ch; a failed start is a crash like any other. */
static void start(super *s, child *ch, int again)
{
    int rc = spawn(s, ch);
    if (rc < 0) {
        crp_log(s->x, "cannot start %s: %s (%s)", ch->inst, s->exe,
                strerror(-rc));
    } else {
        crp_log(s->x, "%s %s (pid %d)", again ? "restarted" : "started",
                ch->inst, (int)ch->pid);
    }
    if (again)
        crp_ev_emit(s->x->ev, "restarted",
                    "\"instance\":\"%s\",\"restarts\":%d", ch->inst,
                    ch->restarts);
    if (rc < 0) /* as the exec failure always was: exit status 127 */
        fire(s, ch,
             crp_supsm_exit_event(127 << 8, ch->restarts, s->x->c.restart_max),
             127 << 8);
}

/* Scale-down: the worker finishes the record in hand, hands back the
 * rest and exits.  DEFECT scale_down_kill (tests only): SIGKILL instead. */
static int drain_signal(const super *s)
{
    return (s->x->c.defects & CRP_DEFECT_SCALE_DOWN_KILL) ? SIGKILL : SIGTERM;
}

/* Carry out the action of a transition of ch; st is the wait status of
 * an exit event (else 0). */
static void act(super *s, child *ch, crp_sup_action a, int st)
{
    const crp_conf *c = &s->x->c;
    int64_t now = crp_mono_ms();
    switch (a) {
    case CRP_SUP_ACT_NONE:
        break;
    case CRP_SUP_ACT_SPAWN:
        start(s, ch, 0);
        break;
    case CRP_SUP_ACT_RESPAWN:
        ch->timer_at = 0;
        ch->restarts++;
        start(s, ch, 1);
        break;
    case CRP_SUP_ACT_BACKOFF:
        ch->timer_at =
            now + crp_supsm_delay_ms(c->restart_base_ms, ch->restarts);
        break;
    case CRP_SUP_ACT_ALERT:
        crp_ev_emit(s->x->ev, "alert",
                    "\"name\":\"%s_crashloop\",\"state\":\"firing\"", ch->inst);
        crp_log(s->x, "%s crashed %d times: not restarted", ch->inst,
                ch->restarts + 1);
        break;
    case CRP_SUP_ACT_DRAIN: {
        int sig = drain_signal(s);
        ch->drain_at = now;
        ch->timer_at = now + c->drain_timeout_ms;
        signal_child(s, ch, sig);
        crp_log(s->x, "draining %s (pid %d, %s)", ch->inst, (int)ch->pid,
                sig == SIGKILL ? "SIGKILL: DEFECT scale_down_kill" : "SIGTERM");
        break;
    }
    case CRP_SUP_ACT_DRAIN_KILL:
        crp_log(s->x, "%s did not drain within %d ms: SIGKILL", ch->inst,
                c->drain_timeout_ms);
        signal_child(s, ch, SIGKILL);
        ch->killed = 1;
        ch->timer_at = 0;
        crp_metric_add(s->m_drain_kill, 1);
        break;
    case CRP_SUP_ACT_DRAINED: {
        int graceful = !ch->killed && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        crp_ev_emit(s->x->ev, "drained",
                    "\"instance\":\"%s\",\"ms\":%" PRId64 ",\"graceful\":%s",
                    ch->inst, now - ch->drain_at, graceful ? "true" : "false");
        ch->used = 0;
        break;
    }
    case CRP_SUP_ACT_RETIRE:
        ch->used = 0;
        break;
    case CRP_SUP_ACT_TERM:
        ch->timer_at = now + STOP_TIMEOUT_MS;
        signal_child(s, ch, SIGTERM);
        break;
    case CRP_SUP_ACT_KILL:
        crp_log(s->x, "%s did not stop within %d ms: SIGKILL", ch->inst,
                STOP_TIMEOUT_MS);
        signal_child(s, ch, SIGKILL);
        ch->killed = 1;
        ch->timer_at = 0;
        break;
    case CRP_SUP_NACTIONS:
        break;
    }
}

/* Feed event ev (st: wait status of an exit) to ch's state machine. */
static void fire(super *s, child *ch, crp_sup_event ev, int st)
{
    crp_sup_trans t = crp_supsm_step(ch->state, ev);
    if (!t.defined)
        return;
    if (t.to != ch->state)
        ch->timer_at = 0; /* a timer belongs to the state that armed it */
    ch->state = t.to;
    act(s, ch, t.act, st);
}

/* ---- events from the outside ---- */

/* Reap every child that exited and feed its exit to its machine. */
static void reap(super *s)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < s->n; i++) {
            child *ch = &s->ch[i];
            if (!ch->used || ch->pid != pid)
                continue;
            ch->pid = 0;
            crp_log(s->x, "%s exited (%s %d)", ch->inst,
                    WIFSIGNALED(st) ? "signal" : "status",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            fire(s, ch,
                 crp_supsm_exit_event(st, ch->restarts, s->x->c.restart_max),
                 st);
            break;
        }
    }
}

/* The timer event of each child whose deadline passed.  While shutting
 * down no restart timer fires: a stage that crashed meanwhile stays down
 * until its stop event retires it. */
static void timers(super *s, int64_t now, int shutting_down)
{
    static const crp_sup_event ev[CRP_SUP_NSTATES] = {
        [CRP_SUP_BACKOFF] = CRP_SUP_EV_RESTART_TIMER,
        [CRP_SUP_DRAINING] = CRP_SUP_EV_DRAIN_TIMEOUT,
        [CRP_SUP_STOPPING] = CRP_SUP_EV_STOP_TIMEOUT,
    };
    for (int i = 0; i < s->n; i++) {
        child *ch = &s->ch[i];
        if (shutting_down && ch->state == CRP_SUP_BACKOFF)
            continue;
        if (ch->used && ch->timer_at && now >= ch->timer_at) {
            ch->timer_at = 0;
            fire(s, ch, ev[ch->state], 0);
        }
    }
}

/* Wait for a wake-up (a signal) or until the nearest timer, at most
 * until `until` (monotonic ms). */
static void wait_for(super *s, int64_t until, int shutting_down)
{
    for (int i = 0; i < s->n; i++)
        if (s->ch[i].used && s->ch[i].timer_at && s->ch[i].timer_at < until &&
            !(shutting_down && s->ch[i].state == CRP_SUP_BACKOFF))
            until = s->ch[i].timer_at;
    int64_t ms = until - crp_mono_ms();
    struct pollfd p = {.fd = s->wake, .events = POLLIN};
    if (poll(&p, 1, ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms) > 0)
        crp_signals_drain(s->wake);
}

/* ---- the children ---- */

/* 1 when stage is in the --stages list (empty list: every stage). */
static int wanted(const char *list, const char *stage)
{
    if (!list[0])
        return 1;
    size_t l = strlen(stage);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == l && strncmp(p, stage, l) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* A free slot for a child of stage/replica, not started yet; NULL when
 * every slot is taken. */
static child *alloc_child(super *s, const char *stage, int replica)
{
    child *ch = NULL;
    for (int i = 0; i < s->n && !ch; i++)
        if (!s->ch[i].used)
            ch = &s->ch[i];
    if (!ch && s->n < MAX_CHILD)
        ch = &s->ch[s->n++];
    if (!ch)
        return NULL;
    *ch = (child){.used = 1, .replica = replica, .state = CRP_SUP_STARTING};
    crp_strlcpy(ch->stage, stage, sizeof ch->stage);
    snprintf(ch->inst, sizeof ch->inst, "%s.%d", stage, replica);
    return ch;
}

static child *add_child(super *s, const char *stage, int replica)
{
    child *ch = alloc_child(s, stage, replica);
    if (ch)
        fire(s, ch, CRP_SUP_EV_START, 0);
    return ch;
}

static int is_worker(const child *ch)
{
    return ch->used && !strcmp(ch->stage, "worker");
}

/* Workers serving: starting, running or waiting for a restart. */
static int serving(const super *s)
{
    int k = 0;
    for (int i = 0; i < s->n; i++)
        k += is_worker(&s->ch[i]) && crp_supsm_serving(s->ch[i].state);
    return k;
}

static int replica_free(const super *s, int r)
{
    for (int i = 0; i < s->n; i++)
        if (is_worker(&s->ch[i]) && s->ch[i].replica == r)
            return 0;
    return 1;
}

static void scale_to(super *s, int from, int to, const char *why, int64_t depth)
{
    char esc[256], inst[32] = "";
    child *victim = NULL, *added = NULL;
    crp_json_esc(esc, sizeof esc, why);
    if (to > from) {
        int r = 0;
        while (!replica_free(s, r))
            r++;
        /* started after the event: the event's time is the decision's,
         * which the cool-down counts from (a fork and exec on a loaded
         * machine took 0.3 s: the next change then looked early) */
        child *ch = added = alloc_child(s, "worker", r);
        if (!ch) {
            crp_log(s->x, "scale up: no free slot");
            return;
        }
        crp_strlcpy(inst, ch->inst, sizeof inst);
    } else {
        /* the newest serving worker: highest replica */
        for (int i = 0; i < s->n; i++) {
            child *ch = &s->ch[i];
            if (is_worker(ch) && crp_supsm_serving(ch->state) &&
                (!victim || ch->replica > victim->replica))
                victim = ch;
        }
        if (!victim)
            return;
        crp_strlcpy(inst, victim->inst, sizeof inst);
    }
    /* the event before the signal: the worker's own stopping/stopped
     * events then come after it in the history */
    crp_ev_emit(s->x->ev, "scaled",
                "\"from\":%d,\"to\":%d,\"reason\":\"%s\",\"depth\":%" PRId64
                ",\"instance\":\"%s\"",
                from, to, esc, depth, inst);
    if (victim)
        fire(s, victim, CRP_SUP_EV_SCALE_DOWN, 0);
    if (added)
        fire(s, added, CRP_SUP_EV_START, 0);
    crp_metric_add(s->m_scaled, 1);
    crp_log(s->x, "scaled workers %d -> %d (%s; %s)", from, to, why, inst);
}

static void split_wargs(super *s)
{
    char *save = NULL;
    crp_strlcpy(s->wargs, s->x->c.worker_args, sizeof s->wargs);
    for (char *t = strtok_r(s->wargs, " ", &save); t && s->nwargs < MAX_WARGS;
         t = strtok_r(NULL, " ", &save))
        s->wargv[s->nwargs++] = t;
}

/* Graceful shutdown in reverse dependency order: each stage gets the stop
 * event and is waited for (its machine kills it at its stop timeout)
 * before the stage it depends on is stopped. */
static void stop_all(super *s)
{
    for (int o = NORDER - 1; o >= 0; o--) {
        for (int i = 0; i < s->n; i++)
            if (s->ch[i].used && !strcmp(s->ch[i].stage, order[o]))
                fire(s, &s->ch[i], CRP_SUP_EV_STOP, 0);
        for (;;) {
            reap(s);
            int alive = 0;
            for (int i = 0; i < s->n; i++)
                alive |= s->ch[i].used && !strcmp(s->ch[i].stage, order[o]) &&
                         crp_supsm_alive(s->ch[i].state);
            if (!alive)
                break;
            timers(s, crp_mono_ms(), 1);
            wait_for(s, crp_mono_ms() + 1000, 1);
        }
    }
}

/* Check the options; 0 or the exit status (2) with a message. */
static int check_options(crp_ctx *x, crp_scale_policy *pol, int autoscale)
{
    const crp_conf *c = &x->c;
    char err[256];
    if (autoscale &&
        (crp_scale_parse_range(c->autoscale, pol, err, sizeof err) < 0 ||
         crp_scale_check(pol, err, sizeof err) < 0)) {
        crp_log(x, "%s", err);
        return 2;
    }
    for (const char *p = c->stages; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        int o = 0;
        while (o < NORDER &&
               !(strlen(order[o]) == k && !strncmp(order[o], p, k)))
            o++;
        if (o == NORDER) {
            crp_log(x,
                    "--stages: unknown stage \"%.*s\" (known: queue, "
                    "feature, ingest, worker, sink, trainer, produce)",
                    (int)k, p);
            return 2;
        }
        p = e ? e + 1 : p + k;
    }
    if (autoscale && c->scale_poll_ms < 10) {
        crp_log(x, "--scale-poll-ms must be >= 10");
        return 2;
    }
    return 0;
}

int crp_super_main(crp_ctx *x)
{
    static super s;
    const crp_conf *c = &x->c;
    crp_scale sc;
    crp_scale_policy pol = {.up_depth = c->scale_up_depth,
                            .down_depth = c->scale_down_depth,
                            .for_ms = c->scale_for_ms,
                            .cooldown_ms = c->cooldown_ms,
                            .no_cooldown =
                                !!(c->defects & CRP_DEFECT_SCALE_NO_COOLDOWN)};
    int autoscale = c->autoscale[0] != '\0';
    crp_qc qc;
    int rc = check_options(x, &pol, autoscale);
    if (rc)
        return rc;
    s.x = x;
    if (c->bindir[0]) {
        snprintf(s.exe, sizeof s.exe, "%.200s/crp", c->bindir);
    } else {
        ssize_t l = readlink("/proc/self/exe", s.exe, sizeof s.exe - 1);
        if (l <= 0) {
            crp_log(x, "cannot find my own executable");
            return 1;
        }
        s.exe[l] = '\0';
    }
    if ((s.wake = crp_signals_wakeup()) < 0) {
        crp_log(x, "self-pipe: %s", strerror(-s.wake));
        return 1;
    }
    crp_strlcpy(s.config, c->config, sizeof s.config); /* every stage */
    split_wargs(&s);
    s.m_workers = crp_http_metric(x->http, "workers", CRP_GAUGE,
                                  "workers serving (not draining)");
    s.m_scaled = crp_http_metric(x->http, "scaled_total", CRP_COUNTER,
                                 "autoscaling changes");
    s.m_drain_kill = crp_http_metric(x->http, "drain_kills_total", CRP_COUNTER,
                                     "drained workers SIGKILLed at timeout");
    for (int o = 0; o < NORDER; o++) {
        if (!wanted(c->stages, order[o]))
            continue;
        int reps = 1;
        if (strcmp(order[o], "worker") == 0)
            reps = autoscale ? pol.min : c->workers;
        for (int r = 0; r < reps; r++)
            add_child(&s, order[o], r);
        if (o == 0)
            crp_sleep_ms(300); /* the queue first */
    }
    crp_qc_init(&qc, c->queue_addr, 1000);
    crp_scale_init(&sc, &pol);
    crp_metric_set(s.m_workers, serving(&s));
    crp_ev_emit(x->ev, "ready", NULL);
    int64_t next_poll = crp_mono_ms();
    while (!crp_stop_requested) {
        reap(&s);
        int64_t now = crp_mono_ms();
        timers(&s, now, 0);
        if (autoscale && wanted(c->stages, "worker") && now >= next_poll) {
            int64_t ready = -1, leased = 0;
            if (crp_qc_depth(&qc, "work", &ready, &leased) < 0)
                ready = -1; /* unknown: the hold timers start again */
            int cur = serving(&s);
            char why[128] = "";
            /* the decision's time is after the depth query (a round trip
             * that took 0.16 s on a loaded machine): the cool-down counts
             * from the change, and the scaled event is written now */
            int to = crp_scale_decide(&sc, crp_mono_ms(), ready, cur, why,
                                      sizeof why);
            /* one worker at a time, even when bringing back into bounds */
            if (to > cur)
                scale_to(&s, cur, cur + 1, why, ready);
            else if (to < cur)
                scale_to(&s, cur, cur - 1, why, ready);
            crp_metric_set(s.m_workers, serving(&s));
            next_poll = now + c->scale_poll_ms;
        }
        wait_for(&s, autoscale ? next_poll : crp_mono_ms() + 1000, 0);
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_qc_close(&qc);
    stop_all(&s);
    crp_ev_emit(x->ev, "stopped", NULL);
    close(s.wake);
    return 0;
}
