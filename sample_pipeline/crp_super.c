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
 * Autoscaling (--autoscale MIN:MAX): every --scale-poll-ms the supervisor
 * asks the queue for the ready depth of `work` (DEPTH) and feeds it to
 * crp_scale_decide (crp_scale.h: thresholds held --scale-for-ms, a
 * --cooldown-ms after every change, always within [MIN, MAX]).  Each
 * change is a `scaled` event {from, to, reason, depth, instance}.  Up: a
 * new worker with the lowest free replica number.  Down: the newest
 * running worker is drained: SIGTERM (it finishes or hands back its batch
 * and exits), not counted as a crash nor restarted; SIGKILLed only after
 * --drain-timeout-ms.  Its end is a `drained` event {instance, ms,
 * graceful}. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crp_qc.h"
#include "crp_scale.h"
#include "crp_stage.h"

#define MAX_CHILD 32
#define MAX_WARGS 16

typedef struct child {
    char stage[16], inst[32];
    int replica;
    pid_t pid;
    int restarts;
    int64_t restart_at; /* 0: not waiting */
    int gave_up;
    int used;         /* slot in use (a retired worker frees it) */
    int64_t drain_at; /* scale-down began (0: not draining) */
    int killed;       /* drain timed out: SIGKILLed */
} child;

typedef struct super {
    crp_ctx *x;
    child ch[MAX_CHILD];
    int n; /* slots used so far (high-water mark) */
    char exe[PATH_MAX], config[CRP_STR];
    char wargs[CRP_STR];
    char *wargv[MAX_WARGS];
    int nwargs;
    crp_metric *m_workers, *m_scaled, *m_drain_kill;
} super;

static const char *const order[] = {"queue", "feature", "ingest", "worker",
                                    "sink",  "trainer", "produce"};

static pid_t spawn(super *s, child *ch)
{
    char rep[16], port[16];
    char *argv[8 + MAX_WARGS];
    int a = 0;
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
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child: only async-signal-safe work until exec */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setenv("CHAOSRUN_SERVICE", ch->stage, 1);
    setenv("CHAOSRUN_INSTANCE", ch->inst, 1);
    setenv("CHAOSRUN_REPLICA", rep, 1);
    unsetenv("CHAOSRUN_PORT");
    execv(s->exe, argv);
    _exit(127);
}

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

static child *add_child(super *s, const char *stage, int replica)
{
    child *ch = NULL;
    for (int i = 0; i < s->n && !ch; i++)
        if (!s->ch[i].used)
            ch = &s->ch[i];
    if (!ch && s->n < MAX_CHILD)
        ch = &s->ch[s->n++];
    if (!ch)
        return NULL;
    memset(ch, 0, sizeof *ch);
    ch->used = 1;
    crp_strlcpy(ch->stage, stage, sizeof ch->stage);
    ch->replica = replica;
    snprintf(ch->inst, sizeof ch->inst, "%s.%d", stage, replica);
    ch->pid = spawn(s, ch);
    crp_log(s->x, "started %s (pid %d)", ch->inst, (int)ch->pid);
    return ch;
}

/* Workers serving: running or waiting for a restart, not draining. */
static int serving(const super *s)
{
    int k = 0;
    for (int i = 0; i < s->n; i++) {
        const child *c = &s->ch[i];
        if (c->used && !c->gave_up && !c->drain_at &&
            !strcmp(c->stage, "worker"))
            k++;
    }
    return k;
}

static int replica_free(const super *s, int r)
{
    for (int i = 0; i < s->n; i++)
        if (s->ch[i].used && !strcmp(s->ch[i].stage, "worker") &&
            s->ch[i].replica == r)
            return 0;
    return 1;
}

static void scale_to(super *s, int from, int to, const char *why, int64_t depth)
{
    const crp_conf *c = &s->x->c;
    char esc[256], inst[32] = "";
    child *victim = NULL;
    crp_json_esc(esc, sizeof esc, why);
    if (to > from) {
        int r = 0;
        while (!replica_free(s, r))
            r++;
        child *ch = add_child(s, "worker", r);
        if (!ch) {
            crp_log(s->x, "scale up: no free slot");
            return;
        }
        crp_strlcpy(inst, ch->inst, sizeof inst);
    } else {
        /* the newest serving worker: highest replica */
        child *v = NULL;
        for (int i = 0; i < s->n; i++) {
            child *ch = &s->ch[i];
            if (ch->used && !ch->drain_at && !ch->gave_up &&
                !strcmp(ch->stage, "worker") &&
                (!v || ch->replica > v->replica))
                v = ch;
        }
        if (!v)
            return;
        victim = v;
        crp_strlcpy(inst, v->inst, sizeof inst);
    }
    /* the event before the signal: the worker's own stopping/stopped
     * events then come after it in the history */
    crp_ev_emit(s->x->ev, "scaled",
                "\"from\":%d,\"to\":%d,\"reason\":\"%s\",\"depth\":%" PRId64
                ",\"instance\":\"%s\"",
                from, to, esc, depth, inst);
    if (victim) {
        victim->drain_at = crp_mono_ms();
        victim->restart_at = 0;
        if (victim->pid > 0) {
            int sig =
                (c->defects & CRP_DEFECT_SCALE_DOWN_KILL) ? SIGKILL : SIGTERM;
            kill(victim->pid, sig);
            crp_log(s->x, "draining %s (pid %d, %s)", victim->inst,
                    (int)victim->pid,
                    sig == SIGKILL ? "SIGKILL: DEFECT scale_down_kill"
                                   : "SIGTERM");
        }
    }
    crp_metric_add(s->m_scaled, 1);
    crp_log(s->x, "scaled workers %d -> %d (%s; %s)", from, to, why, inst);
}

/* A child exited (status st). */
static void reaped(super *s, child *ch, int st)
{
    const crp_conf *c = &s->x->c;
    ch->pid = 0;
    int crashed = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    crp_log(s->x, "%s exited (%s %d)", ch->inst,
            WIFSIGNALED(st) ? "signal" : "status",
            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    if (ch->drain_at) {
        /* retired by a scale-down: neither a crash nor restarted */
        int64_t ms = crp_mono_ms() - ch->drain_at;
        int graceful = !ch->killed && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        crp_ev_emit(s->x->ev, "drained",
                    "\"instance\":\"%s\",\"ms\":%" PRId64 ",\"graceful\":%s",
                    ch->inst, ms, graceful ? "true" : "false");
        ch->used = 0;
        return;
    }
    if (!crashed)
        return;
    if (ch->restarts >= c->restart_max) {
        ch->gave_up = 1;
        crp_ev_emit(s->x->ev, "alert",
                    "\"name\":\"%s_crashloop\",\"state\":\"firing\"", ch->inst);
        return;
    }
    int64_t d = (int64_t)c->restart_base_ms
                << (ch->restarts < 5 ? ch->restarts : 5);
    ch->restart_at = crp_mono_ms() + (d > 5000 ? 5000 : d);
}

static void split_wargs(super *s)
{
    char *save = NULL;
    crp_strlcpy(s->wargs, s->x->c.worker_args, sizeof s->wargs);
    for (char *t = strtok_r(s->wargs, " ", &save); t && s->nwargs < MAX_WARGS;
         t = strtok_r(NULL, " ", &save))
        s->wargv[s->nwargs++] = t;
}

static void stop_all(super *s)
{
    for (int o = (int)(sizeof order / sizeof order[0]) - 1; o >= 0; o--) {
        for (int i = 0; i < s->n; i++)
            if (s->ch[i].pid > 0 && !strcmp(s->ch[i].stage, order[o]))
                kill(s->ch[i].pid, SIGTERM);
        int64_t deadline = crp_mono_ms() + 10000;
        for (;;) {
            int alive = 0;
            for (int i = 0; i < s->n; i++) {
                child *ch = &s->ch[i];
                if (ch->pid <= 0 || strcmp(ch->stage, order[o]) != 0)
                    continue;
                int st;
                if (waitpid(ch->pid, &st, WNOHANG) == ch->pid) {
                    if (ch->drain_at)
                        reaped(s, ch, st);
                    ch->pid = 0;
                } else {
                    alive = 1;
                }
            }
            if (!alive)
                break;
            if (crp_mono_ms() > deadline) {
                for (int i = 0; i < s->n; i++)
                    if (s->ch[i].pid > 0 && !strcmp(s->ch[i].stage, order[o])) {
                        kill(s->ch[i].pid, SIGKILL);
                        waitpid(s->ch[i].pid, NULL, 0);
                        s->ch[i].pid = 0;
                    }
                break;
            }
            crp_sleep_ms(20);
        }
    }
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
    char err[256];
    crp_qc qc;
    s.x = x;
    if (autoscale &&
        (crp_scale_parse_range(c->autoscale, &pol, err, sizeof err) < 0 ||
         crp_scale_check(&pol, err, sizeof err) < 0)) {
        crp_log(x, "%s", err);
        return 2;
    }
    for (const char *p = c->stages; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p), o = 0;
        while (o < sizeof order / sizeof order[0] &&
               !(strlen(order[o]) == k && !strncmp(order[o], p, k)))
            o++;
        if (o == sizeof order / sizeof order[0]) {
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
    crp_strlcpy(s.config, c->config, sizeof s.config); /* every stage */
    split_wargs(&s);
    s.m_workers = crp_http_metric(x->http, "workers", CRP_GAUGE,
                                  "workers serving (not draining)");
    s.m_scaled = crp_http_metric(x->http, "scaled_total", CRP_COUNTER,
                                 "autoscaling changes");
    s.m_drain_kill = crp_http_metric(x->http, "drain_kills_total", CRP_COUNTER,
                                     "drained workers SIGKILLed at timeout");
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++) {
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
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
            for (int i = 0; i < s.n; i++)
                if (s.ch[i].used && s.ch[i].pid == pid) {
                    reaped(&s, &s.ch[i], st);
                    break;
                }
        int64_t now = crp_mono_ms();
        for (int i = 0; i < s.n; i++) {
            child *ch = &s.ch[i];
            if (!ch->used)
                continue;
            if (ch->restart_at && now >= ch->restart_at) {
                ch->restart_at = 0;
                ch->restarts++;
                ch->pid = spawn(&s, ch);
                crp_ev_emit(x->ev, "restarted",
                            "\"instance\":\"%s\",\"restarts\":%d", ch->inst,
                            ch->restarts);
            }
            if (ch->drain_at && ch->pid > 0 && !ch->killed &&
                now - ch->drain_at > c->drain_timeout_ms) {
                crp_log(x, "%s did not drain within %d ms: SIGKILL", ch->inst,
                        c->drain_timeout_ms);
                kill(ch->pid, SIGKILL);
                ch->killed = 1;
                crp_metric_add(s.m_drain_kill, 1);
            }
            if (ch->drain_at && ch->pid == 0 && ch->used) {
                /* drained while waiting for a restart: nothing to stop */
                ch->used = 0;
            }
        }
        if (autoscale && wanted(c->stages, "worker") && now >= next_poll) {
            int64_t ready = -1, leased = 0;
            if (crp_qc_depth(&qc, "work", &ready, &leased) < 0)
                ready = -1; /* unknown: the hold timers start again */
            int cur = serving(&s);
            char why[128] = "";
            int to = crp_scale_decide(&sc, now, ready, cur, why, sizeof why);
            /* one worker at a time, even when bringing back into bounds */
            if (to > cur)
                scale_to(&s, cur, cur + 1, why, ready);
            else if (to < cur)
                scale_to(&s, cur, cur - 1, why, ready);
            crp_metric_set(s.m_workers, serving(&s));
            next_poll = now + c->scale_poll_ms;
        }
        crp_sleep_ms(autoscale && c->scale_poll_ms < 50 ? c->scale_poll_ms
                                                        : 50);
    }
    /* Graceful shutdown in reverse dependency order. */
    crp_ev_emit(x->ev, "stopping", NULL);
    crp_qc_close(&qc);
    stop_all(&s);
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
