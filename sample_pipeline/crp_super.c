/* crp_super: the pipeline's own supervisor (self-healing).
 * `crp supervise` starts every stage as a child process (queue, feature,
 * ingest, --workers workers, sink, trainer, produce), restarts one that
 * crashes (exit status != 0 or a signal) after a delay that doubles from
 * --restart-base-ms up to 5 s, at most --restart-max times per stage, and
 * on SIGTERM shuts the pipeline down in dependency order - producer first,
 * queue last - waiting for each stage's own graceful drain (SIGTERM, then
 * SIGKILL after 10 s).  Under chaosrun each stage can instead be its own
 * service; the supervisor is for running the pipeline by hand. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crp_stage.h"

#define MAX_CHILD 24

typedef struct child {
    char stage[16], inst[32];
    int replica;
    pid_t pid;
    int restarts;
    int64_t restart_at; /* 0: not waiting */
    int gave_up;
} child;

static const char *const order[] = {"queue", "feature", "ingest", "worker",
                                    "sink",  "trainer", "produce"};

static pid_t spawn(crp_ctx *x, child *ch, const char *exe, const char *config)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child: only async-signal-safe work until exec */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    char rep[16];
    snprintf(rep, sizeof rep, "%d", ch->replica);
    setenv("CHAOSRUN_SERVICE", ch->stage, 1);
    setenv("CHAOSRUN_INSTANCE", ch->inst, 1);
    setenv("CHAOSRUN_REPLICA", rep, 1);
    unsetenv("CHAOSRUN_PORT");
    char *argv[6] = {(char *)exe, ch->stage, NULL, NULL, NULL, NULL};
    if (config[0]) {
        argv[2] = "--config";
        argv[3] = (char *)config;
    }
    (void)x;
    execv(exe, argv);
    _exit(127);
}

int crp_super_main(crp_ctx *x)
{
    const crp_conf *c = &x->c;
    child ch[MAX_CHILD];
    int n = 0;
    char exe[PATH_MAX] = "", config[CRP_STR] = "";
    if (c->bindir[0]) {
        snprintf(exe, sizeof exe, "%.200s/crp", c->bindir);
    } else {
        ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (l <= 0) {
            crp_log(x, "cannot find my own executable");
            return 1;
        }
        exe[l] = '\0';
    }
    crp_strlcpy(config, c->config, sizeof config); /* every stage reads it */
    for (size_t s = 0; s < sizeof order / sizeof order[0]; s++) {
        int reps = strcmp(order[s], "worker") == 0 ? c->workers : 1;
        for (int r = 0; r < reps && n < MAX_CHILD; r++, n++) {
            memset(&ch[n], 0, sizeof ch[n]);
            crp_strlcpy(ch[n].stage, order[s], sizeof ch[n].stage);
            ch[n].replica = r;
            snprintf(ch[n].inst, sizeof ch[n].inst, "%s.%d", order[s], r);
            ch[n].pid = spawn(x, &ch[n], exe, config);
            crp_log(x, "started %s (pid %d)", ch[n].inst, (int)ch[n].pid);
            if (s == 0)
                crp_sleep_ms(300); /* the queue first */
        }
    }
    crp_ev_emit(x->ev, "ready", NULL);
    while (!crp_stop_requested) {
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            for (int i = 0; i < n; i++) {
                if (ch[i].pid != pid)
                    continue;
                ch[i].pid = 0;
                int crashed = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                crp_log(x, "%s exited (%s %d)", ch[i].inst,
                        WIFSIGNALED(st) ? "signal" : "status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                if (!crashed)
                    break;
                if (ch[i].restarts >= c->restart_max) {
                    ch[i].gave_up = 1;
                    crp_ev_emit(
                        x->ev, "alert",
                        "\"name\":\"%s_crashloop\",\"state\":\"firing\"",
                        ch[i].inst);
                    break;
                }
                int64_t d = (int64_t)c->restart_base_ms
                            << (ch[i].restarts < 5 ? ch[i].restarts : 5);
                ch[i].restart_at = crp_mono_ms() + (d > 5000 ? 5000 : d);
            }
        }
        int64_t now = crp_mono_ms();
        for (int i = 0; i < n; i++)
            if (ch[i].restart_at && now >= ch[i].restart_at) {
                ch[i].restart_at = 0;
                ch[i].restarts++;
                ch[i].pid = spawn(x, &ch[i], exe, config);
                crp_ev_emit(x->ev, "restarted",
                            "\"instance\":\"%s\",\"restarts\":%d", ch[i].inst,
                            ch[i].restarts);
            }
        crp_sleep_ms(50);
    }
    /* Graceful shutdown in reverse dependency order. */
    crp_ev_emit(x->ev, "stopping", NULL);
    for (int s = (int)(sizeof order / sizeof order[0]) - 1; s >= 0; s--) {
        for (int i = 0; i < n; i++)
            if (ch[i].pid > 0 && !strcmp(ch[i].stage, order[s]))
                kill(ch[i].pid, SIGTERM);
        int64_t deadline = crp_mono_ms() + 10000;
        for (;;) {
            int alive = 0;
            for (int i = 0; i < n; i++) {
                if (ch[i].pid <= 0 || strcmp(ch[i].stage, order[s]) != 0)
                    continue;
                if (waitpid(ch[i].pid, NULL, WNOHANG) == ch[i].pid)
                    ch[i].pid = 0;
                else
                    alive = 1;
            }
            if (!alive)
                break;
            if (crp_mono_ms() > deadline) {
                for (int i = 0; i < n; i++)
                    if (ch[i].pid > 0 && !strcmp(ch[i].stage, order[s])) {
                        kill(ch[i].pid, SIGKILL);
                        waitpid(ch[i].pid, NULL, 0);
                        ch[i].pid = 0;
                    }
                break;
            }
            crp_sleep_ms(20);
        }
    }
    crp_ev_emit(x->ev, "stopped", NULL);
    return 0;
}
