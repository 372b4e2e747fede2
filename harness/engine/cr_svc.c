/* cr_svc: starting the replicas of the services under test, and the
 * instance-level API of cr_run.h.
 *
 * Each replica is started with cr_spawn (base/cr_spawn.h): its own process
 * group (so signals reach its whole tree), PR_SET_PDEATHSIG so it dies with
 * the harness, stdout and stderr appended to logs/<service>.<n>.log, the
 * chaosrun environment built before the fork, and its process group in the
 * ledger before the program runs. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_spawn.h"
#include "net/cr_net.h"
#include "net/cr_ssh.h"
#include "cr_run_internal.h"

extern char **environ;

int cr_envlist_set(cr_envlist *l, const char *key, const char *val)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0) {
            char *nv = cr_strdup(val);
            if (!nv)
                return CR_ENOMEM;
            cr_free(l->v[i].val);
            l->v[i].val = nv;
            return 0;
        }
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        cr_envvar *nv = cr_realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return CR_ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n].key = cr_strdup(key);
    l->v[l->n].val = cr_strdup(val);
    if (!l->v[l->n].key || !l->v[l->n].val) {
        cr_free(l->v[l->n].key);
        cr_free(l->v[l->n].val);
        return CR_ENOMEM;
    }
    l->n++;
    return 0;
}

void cr_envlist_free(cr_envlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cr_free(l->v[i].key);
        cr_free(l->v[i].val);
    }
    cr_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Every KEY=VALUE of a NULL-terminated array (or none when arr is NULL);
 * entries without '=' or with a key over 255 bytes are skipped. */
static int envlist_merge(cr_envlist *l, char **arr)
{
    char key[256];
    for (char **e = arr; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || (size_t)(eq - *e) >= sizeof key)
            continue;
        snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
        int rc = cr_envlist_set(l, key, eq + 1);
        if (rc)
            return rc;
    }
    return 0;
}

int cr_svc_init(cr_run *r, cr_err *err)
{
    const cr_scen *sc = r->sc;
    r->svcs = cr_calloc(sc->nsvcs, sizeof *r->svcs);
    if (!r->svcs)
        return cr_err_set(err, CR_ENOMEM, "services: out of memory");
    /* r->nsvcs counts fully built entries only, so every loop over the
     * table (cleanup included) sees complete services. */
    for (size_t s = 0; s < sc->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        svc->spec = &sc->svcs[s];
        svc->inst = cr_calloc((size_t)svc->spec->replicas, sizeof *svc->inst);
        if (!svc->inst)
            return cr_err_set(err, CR_ENOMEM, "services: out of memory");
        /* Until the loop below ends, only replicas [0, i) are built. */
        for (int i = 0; i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            in->run = r;
            in->svc = svc;
            in->idx = i;
            snprintf(in->name, sizeof in->name, "%s.%d", svc->spec->name, i);
            snprintf(in->log_name, sizeof in->log_name, "%s.log", in->name);
            snprintf(in->log_path, sizeof in->log_path, "%s/logs/%s", r->dir,
                     in->log_name);
            in->history = json_array();
            if (!in->history)
                return cr_err_set(err, CR_ENOMEM, "services: out of memory");
        }
        r->nsvcs = s + 1;
    }
    /* Programs are checked only once every array exists, so that the
     * caller's cleanup never meets a half-built service table. */
    const cr_net_hosts *hosts = sc->hosts;
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        if (svc->spec->ctr) { /* the engine is found by cr_run_ctr_init */
            svc->remote = hosts && hosts->nssh && svc->spec->host;
            continue;
        }
        if (hosts && hosts->nssh && svc->spec->host) {
            /* Found through the node's PATH, by its own shell. */
            svc->remote = 1;
            if (!(svc->exe = cr_strdup(svc->spec->argv[0])))
                return cr_err_set(err, CR_ENOMEM, "services: out of memory");
            continue;
        }
        svc->exe = cr_spawn_which(svc->spec->argv[0]);
        if (!svc->exe)
            return cr_err_set(err, CR_EUNSUP,
                              "service %s: program '%s' not found in PATH",
                              svc->spec->name, svc->spec->argv[0]);
        if (access(svc->exe, X_OK) != 0)
            return cr_err_sys(err, CR_EUNSUP, errno,
                              "service %s: program '%s' is not executable",
                              svc->spec->name, svc->exe);
    }
    if (cr_run_ctr_init(r, err) != 0)
        return err->code;
    return cr_svc_identities(r, err);
}

void cr_svc_fini(cr_run *r)
{
    size_t n = r->nsvcs;
    /* A half-built entry (allocation failure) is freed too. */
    if (r->svcs && n < r->sc->nsvcs && r->svcs[n].spec)
        n++;
    for (size_t s = 0; s < n; s++) {
        cr_svc *svc = &r->svcs[s];
        for (int i = 0; svc->inst && i < svc->spec->replicas; i++) {
            cr_envlist_free(&svc->inst[i].env);
            json_decref(svc->inst[i].history);
        }
        cr_free(svc->inst);
        cr_envlist_free(&svc->env);
        cr_free(svc->exe);
        cr_free(svc->ctr_runc);
        cr_free(svc->ctr_seccomp);
    }
    cr_free(r->svcs);
    r->svcs = NULL;
    r->nsvcs = 0;
}

void cr_inst_hist(cr_inst *i, const char *what, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "t", json_real(cr_run_now(i->run)));
    json_object_set_new(o, "what", json_string(what));
    json_array_append_new(i->history, o);
}

/* "worker-a" -> "WORKER_A" */
static void env_name(char *buf, size_t n, const char *prefix, const char *svc)
{
    size_t k = (size_t)snprintf(buf, n, "%s", prefix);
    for (const char *p = svc; *p && k + 1 < n; p++)
        buf[k++] =
            isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    buf[k] = '\0';
}

/* Build the child's environment: the harness's own, then the chaosrun
 * variables, then the scenario's env, then prepare-hook overrides.  On a
 * remote node (node_dir: its directory) the harness's own environment
 * stays here, and the run directory and event file are the node's. */
static char **build_env(cr_run *r, cr_inst *in, const char *node_dir)
{
    cr_envlist l = {0};
    char key[256], val[4096];
    char **envp = NULL;
    const cr_svc_spec *sp = in->svc->spec;
    /* A container gets chaosrun's variables and the scenario's, never the
     * harness's own environment. */
    if (!node_dir && !in->svc->ctr && envlist_merge(&l, environ))
        goto fail;
#define SETV(k, ...)                                                           \
    do {                                                                       \
        snprintf(val, sizeof val, __VA_ARGS__);                                \
        if (cr_envlist_set(&l, (k), val))                                      \
            goto fail;                                                         \
    } while (0)
    SETV("CHAOSRUN_SERVICE", "%s", sp->name);
    SETV("CHAOSRUN_INSTANCE", "%s", in->name);
    SETV("CHAOSRUN_REPLICA", "%d", in->idx);
    SETV("CHAOSRUN_RUN_DIR", "%s", r->dir);
    SETV("CHAOSRUN_SEED", "%llu", (unsigned long long)r->seed);
    SETV("CHAOSRUN_EVENTS", "%s", r->events_path);
    SETV("CHAOSRUN_BINDIR", "%s", r->bindir);
    if (node_dir) {
        SETV("CHAOSRUN_RUN_DIR", "%s", node_dir);
        SETV("CHAOSRUN_EVENTS", "%s/events.jsonl", node_dir);
    }
    if (sp->port)
        SETV("CHAOSRUN_PORT", "%d", sp->port + in->idx);
    /* Placement, so a service can announce where it runs (a registry
     * entry, a region preference) without the scenario repeating it. */
    if (sp->host) {
        const char *addr = cr_run_host_addr(r, sp->host);
        const char *region = cr_run_host_region(r, sp->host);
        SETV("CHAOSRUN_HOST", "%s", sp->host);
        if (addr)
            SETV("CHAOSRUN_HOST_ADDR", "%s", addr);
        if (region)
            SETV("CHAOSRUN_REGION", "%s", region);
    }
    for (size_t s = 0; s < r->nsvcs; s++) {
        const cr_svc_spec *o = r->svcs[s].spec;
        if (!o->port)
            continue;
        const char *host = "127.0.0.1";
        /* A service placed on a host is reached at that host's address. */
        if (o->host && cr_run_host_addr(r, o->host))
            host = cr_run_host_addr(r, o->host);
        env_name(key, sizeof key, "CHAOSRUN_ADDR_", o->name);
        SETV(key, "%s:%d", host, o->port);
        size_t k = 0;
        val[0] = '\0';
        for (int i = 0; i < o->replicas && k + 32 < sizeof val; i++)
            k += (size_t)snprintf(val + k, sizeof val - k, "%s%s:%d",
                                  i ? "," : "", host, o->port + i);
        env_name(key, sizeof key, "CHAOSRUN_ADDRS_", o->name);
        if (cr_envlist_set(&l, key, val))
            goto fail;
    }
#undef SETV
    if (envlist_merge(&l, sp->env))
        goto fail;
    for (size_t i = 0; i < in->svc->env.n; i++)
        if (cr_envlist_set(&l, in->svc->env.v[i].key, in->svc->env.v[i].val))
            goto fail;
    for (size_t i = 0; i < in->env.n; i++)
        if (cr_envlist_set(&l, in->env.v[i].key, in->env.v[i].val))
            goto fail;
    envp = cr_calloc(l.n + 1, sizeof *envp);
    if (!envp)
        goto fail;
    for (size_t i = 0; i < l.n; i++) {
        envp[i] = cr_asprintf("%s=%s", l.v[i].key, l.v[i].val);
        if (!envp[i])
            goto fail;
    }
    cr_envlist_free(&l);
    return envp;
fail:
    if (envp)
        for (size_t i = 0; envp[i]; i++)
            cr_free(envp[i]);
    cr_free(envp);
    cr_envlist_free(&l);
    return NULL;
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        cr_free(envp[i]);
    cr_free(envp);
}

int cr_svc_ctr_create(cr_run *r, cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; r->svcs[s].ctr && i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            char **envp = build_env(r, in, NULL);
            if (!envp)
                return cr_err_set(err, CR_ENOMEM, "start %s: out of memory",
                                  in->name);
            int rc = cr_run_ctr_create(r, in, envp, err);
            free_env(envp);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* ---- spawn hooks (cr_run.h) ---------------------------------------- */

int cr_run_add_spawn_hook(cr_run *r, const char *service,
                          const cr_spawn_hook *hook, void *arg, cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        if (strcmp(svc->spec->name, service) != 0)
            continue;
        if (svc->nhooks >= CR_SPAWN_HOOKS_MAX)
            return cr_err_set(err, CR_ESTATE,
                              "service %s: more than %d spawn hooks", service,
                              CR_SPAWN_HOOKS_MAX);
        svc->hooks[svc->nhooks].ops = hook;
        svc->hooks[svc->nhooks].arg = arg;
        svc->nhooks++;
        return CR_OK;
    }
    return cr_err_set(err, CR_ENOTFOUND, "spawn hook: no service '%s'",
                      service);
}

int cr_run_svc_timens(cr_run *r, const char *service, const char *offsets,
                      cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        if (strcmp(svc->spec->name, service) != 0)
            continue;
        int n = snprintf(svc->timens, sizeof svc->timens, "%s", offsets);
        if (n < 0 || (size_t)n >= sizeof svc->timens) {
            svc->timens[0] = '\0';
            return cr_err_set(err, CR_EINVAL,
                              "service %s: time namespace offsets too long",
                              service);
        }
        return CR_OK;
    }
    return cr_err_set(err, CR_ENOTFOUND, "time namespace: no service '%s'",
                      service);
}

/* cr_spawn's child_hook: in the child right before execve; async-signal-
 * safe.  0, or the first hook's errno value. */
static int spawn_hooks_child(void *arg)
{
    const cr_inst *in = arg;
    for (size_t h = 0; h < in->svc->nhooks; h++) {
        int e = in->svc->hooks[h].ops->child(in->svc->hooks[h].arg, in);
        if (e)
            return e;
    }
    return 0;
}

/* cr_spawn's after_go: the harness's side, before the exec is waited for
 * (the child may need the harness to get there). */
static int spawn_hooks_parent(void *arg, pid_t pid, cr_err *err)
{
    cr_inst *in = arg;
    for (size_t h = 0; h < in->svc->nhooks; h++) {
        int rc =
            in->svc->hooks[h].ops->parent(in->svc->hooks[h].arg, in, pid, err);
        if (rc)
            return rc;
    }
    return CR_OK;
}

void cr_svc_hooks_fini(cr_run *r)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        for (size_t h = 0; h < svc->nhooks; h++)
            if (svc->hooks[h].ops->fini)
                svc->hooks[h].ops->fini(svc->hooks[h].arg);
        svc->nhooks = 0;
    }
}

/* cr_spawn's go-pipe: the process group goes into the ledger before the
 * program runs (STYLE: record, then change). */
static int record_pgid(void *arg, pid_t pid, cr_err *err)
{
    cr_inst *in = arg;
    char line[128];
    snprintf(line, sizeof line, "pgid %d %llu", (int)pid,
             cr_proc_starttime(pid));
    int id = cr_ledger_add(in->run->ledger, line, err);
    if (id < 0)
        return id;
    in->ledger_id = id;
    /* Into the replica's cgroups (resource faults) before its program
     * runs: everything it forks is inside too. */
    return cr_run_cgroup_attach(in->run, in, pid, err);
}

int cr_svc_start(cr_run *r, cr_inst *in, const char *cause, cr_err *err)
{
    const cr_svc_spec *sp = in->svc->spec;
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err e;
    char **envp = NULL;
    int logfd = -1, nsfd = -1, rc = CR_OK;
    off_t log_size = 0;
    struct stat st;

    cr_err_clear(&e);
    if (in->pid > 0)
        return cr_err_set(err, CR_ESTATE, "start %s: already running",
                          in->name);
    const char *node_dir =
        in->svc->remote && !in->svc->ctr ? cr_run_ssh_dir(r, sp->host) : NULL;
    char **ssh_argv = NULL;
    envp = build_env(r, in, node_dir);
    if (!envp) {
        rc = cr_err_set(err, CR_ENOMEM, "start %s: out of memory", in->name);
        goto out;
    }
    logfd = cr_dir_append(r->logsfd, in->log_name, 0644, &e);
    if (logfd < 0) {
        rc = cr_err_set(err, logfd, "start %s: logs/%s", in->name, e.msg);
        logfd = -1;
        goto out;
    }
    if (fstat(logfd, &st) == 0)
        log_size = st.st_size;
    cr_runrot_log_open(r, in); /* before its program can write */
    if (in->svc->ctr) {
        /* The engine's `start --attach` client is the replica: its exit
         * is the container's, its output the container's. */
        if ((rc = cr_run_ctr_spawn_argv(r, in, envp, &ssh_argv, &o.path,
                                        err)) != 0)
            goto out;
    } else if (in->svc->remote) {
        /* The local ssh client is the replica here: its exit is the
         * remote program's, its output the remote program's.  A new
         * start must not join a frozen cgroup (it would never run). */
        cr_run_ssh_thaw_inst(r, in);
        if ((rc = cr_run_ssh_spawn_argv(r, in, envp, &ssh_argv, &o.path,
                                        err)) != 0)
            goto out;
    } else if (sp->host && (nsfd = cr_run_host_fd(r, sp->host)) < 0) {
        rc = cr_err_set(err, CR_ESYS, "start %s: no namespace for host %s",
                        in->name, sp->host);
        goto out;
    }
    /* Each replica leads its own process group (signals reach its whole
     * tree) and dies with the harness (this is the loop's thread). */
    if (!ssh_argv) {
        o.path = in->svc->exe;
        o.argv = sp->argv;
        o.envp = envp;
        o.cwd = sp->cwd;
        o.netns_fd = nsfd;
        if (in->svc->timens[0]) /* cr_run_svc_timens (clock faults) */
            o.timens_offsets = in->svc->timens;
        o.cred = in->svc->cred; /* dropped after the namespace is entered */
    } else {
        o.argv = ssh_argv;
    }
    o.stdout_fd = o.stderr_fd = logfd;
    o.new_pgroup = 1;
    o.pdeathsig = SIGKILL;
    o.before_exec = record_pgid;
    o.before_exec_arg = in;
    if (in->svc->nhooks && !ssh_argv) { /* cr_run_add_spawn_hook */
        o.child_hook = spawn_hooks_child;
        o.child_hook_arg = in;
        o.after_go = spawn_hooks_parent;
        o.after_go_arg = in;
    }
    in->ledger_id = 0;
    rc = cr_spawn(&o, &pr, &e);
    if (rc != 0) {
        /* Recorded, then the exec failed: nothing of it is left. */
        cr_ledger_done(r->ledger, in->ledger_id);
        in->ledger_id = 0;
        cr_err_set(err, rc, "start %s: %s", in->name, e.msg);
        goto out;
    }
    in->pid = pr.pid;
    in->ready = 0;
    in->starts++;
    in->log_scanned = log_size;
    json_t *h = json_pack("{s:i}", "pid", (int)pr.pid);
    if (cause)
        json_object_set_new(h, "cause", json_string(cause));
    cr_inst_hist(in, "start", h);
out:
    if (logfd >= 0)
        close(logfd);
    if (nsfd >= 0)
        close(nsfd);
    free_env(envp);
    cr_ssh_argv_free(ssh_argv);
    return rc;
}

/* Reap every member of process group pgid that is our child (orphans of
 * a replica, reparented to us as subreaper).  0: some member may still
 * come; -1: the group has no child of ours left. */
static int reap_group(pid_t pgid)
{
    for (;;) {
        pid_t w = waitpid(-pgid, NULL, WNOHANG);
        if (w > 0)
            continue;
        if (w < 0 && errno == EINTR)
            continue;
        return w == 0 ? 0 : -1;
    }
}

static int remember_group(cr_run *r, pid_t pgid)
{
    if (r->nzpg == r->capzpg) {
        size_t nc = r->capzpg ? r->capzpg * 2 : 16;
        pid_t *nv = cr_realloc(r->zpg, nc * sizeof *nv);
        if (!nv)
            return CR_ENOMEM;
        r->zpg = nv;
        r->capzpg = nc;
    }
    r->zpg[r->nzpg++] = pgid;
    return 0;
}

void cr_svc_exited(cr_run *r, cr_inst *in, int status, int keep_group)
{
    pid_t pgid = in->pid;
    if (in->svc->ctr)
        cr_run_ctr_unwatch(r, in);
    /* The group may still have members (daemonised children): they
     * belong to the replica, so they go with it -- but a container's
     * client, when the container's exit was seen first, still forwards
     * the container's last output: it is reaped when it ends. */
    if (!keep_group)
        kill(-pgid, SIGKILL);
    if (reap_group(pgid) == 0 && remember_group(r, pgid) != 0)
        kill(-pgid, SIGKILL); /* no memory: reaped at the end */
    cr_ledger_done(r->ledger, in->ledger_id);
    in->ledger_id = 0;
    in->pid = 0;
    cr_run_on_exit(r, in, status);
}

/* Groups whose leader is gone: reap members as they die. */
static void reap_groups(cr_run *r)
{
    for (size_t k = 0; k < r->nzpg;) {
        if (reap_group(r->zpg[k]) < 0)
            r->zpg[k] = r->zpg[--r->nzpg];
        else
            k++;
    }
}

void cr_svc_reap_end(cr_run *r, double wait_s)
{
    double end = cr_run_mono() + wait_s;
    while (r->nzpg > 0) {
        reap_groups(r);
        if (r->nzpg == 0)
            break;
        if (cr_run_mono() > end) {
            for (size_t k = 0; k < r->nzpg; k++) {
                kill(-r->zpg[k], SIGKILL);
                while (waitpid(-r->zpg[k], NULL, 0) > 0 || errno == EINTR)
                    ;
            }
            r->nzpg = 0;
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

pid_t cr_svc_reap_leader(pid_t leader, int *status)
{
    /* Orphans first, by a look at the group (WNOWAIT) that leaves the
     * leader alone: a plain waitpid(-leader) here once reaped a leader
     * that ended in between, its exit was lost and the run waited for
     * that replica forever. */
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PGID, (id_t)leader, &si, WEXITED | WNOHANG | WNOWAIT) !=
            0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: no child of ours in the group */
        }
        if (si.si_pid == 0 || si.si_pid == leader)
            break;
        pid_t w = waitpid(si.si_pid, NULL, WNOHANG);
        if (w < 0 && errno == EINTR)
            continue;
        if (w != si.si_pid)
            break;
    }
    pid_t w;
    do
        w = waitpid(leader, status, WNOHANG);
    while (w < 0 && errno == EINTR);
    return w == leader ? leader : 0;
}

/* Only what the engine started is reaped here, by pid and by process
 * group -- never waitpid(-1): the probe thread waits for its own exec
 * children (their own groups), and a reaper that took them would make
 * every exec probe fail with ECHILD. */
void cr_svc_reap(cr_run *r)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            int status;
            if (in->pid <= 0 || cr_svc_reap_leader(in->pid, &status) == 0)
                continue;
            cr_svc_exited(r, in, cr_run_ctr_reaped(in, status), 0);
            in->ctr_exit_seen = 0;
        }
    }
    reap_groups(r);
    cr_stray_scan(r); /* adopted children outside every group */
}

size_t cr_svc_running(const cr_run *r)
{
    size_t n = 0;
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++)
            n += r->svcs[s].inst[i].pid > 0;
    return n;
}

/* ---- public API (cr_run.h) ----------------------------------------- */

size_t cr_run_instances(cr_run *r, const char *service, cr_inst **out,
                        size_t max)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        if (strcmp(r->svcs[s].spec->name, service) != 0)
            continue;
        size_t n = 0;
        for (int i = 0; i < r->svcs[s].spec->replicas && n < max; i++)
            out[n++] = &r->svcs[s].inst[i];
        return n;
    }
    return 0;
}

size_t cr_run_resolve_target(cr_run *r, const cr_target *t, cr_rng *rng,
                             cr_inst **out, size_t max)
{
    cr_inst *all[CR_ACT_MAX_INST];
    if (!t->service)
        return 0;
    size_t n = cr_run_instances(r, t->service, all, CR_ACT_MAX_INST);
    if (n == 0 || max == 0)
        return 0;
    if (t->replica == CR_REPLICA_ALL) {
        if (n > max)
            n = max;
        memcpy(out, all, n * sizeof *out);
        return n;
    }
    if (t->replica == CR_REPLICA_RANDOM) {
        /* Prefer running replicas that no other fault holds: killing a
         * dead one proves nothing, and a paused one is another fault's
         * experiment (a kill turned pipeline-worker-kill's two stalls
         * into kills on seed 6: nothing was processed twice). */
        cr_inst *live[CR_ACT_MAX_INST], *unheld[CR_ACT_MAX_INST];
        size_t nl = 0, nf = 0;
        for (size_t i = 0; i < n; i++) {
            if (all[i]->pid <= 0)
                continue;
            live[nl++] = all[i];
            if (!cr_inst_paused(all[i]))
                unheld[nf++] = all[i];
        }
        if (nf)
            out[0] = unheld[cr_rng_below(rng, nf)];
        else if (nl)
            out[0] = live[cr_rng_below(rng, nl)];
        else
            out[0] = all[cr_rng_below(rng, n)];
        return 1;
    }
    if (t->replica >= 0 && (size_t)t->replica < n) {
        out[0] = all[t->replica];
        return 1;
    }
    return 0;
}

const char *cr_inst_name(const cr_inst *i)
{
    return i->name;
}
const char *cr_inst_service(const cr_inst *i)
{
    return i->svc->spec->name;
}
int cr_inst_index(const cr_inst *i)
{
    return i->idx;
}
pid_t cr_inst_pid(const cr_inst *i)
{
    return i->pid;
}
int cr_run_setenv(cr_run *r, const char *service, const char *key,
                  const char *val, cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        if (strcmp(r->svcs[s].spec->name, service) == 0)
            return cr_envlist_set(&r->svcs[s].env, key, val)
                       ? cr_err_set(err, CR_ENOMEM, "setenv: out of memory")
                       : CR_OK;
    return cr_err_set(err, CR_ENOTFOUND, "setenv %s: no service '%s'", key,
                      service);
}

const char *cr_run_getenv(const cr_run *r, const char *service, const char *key)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        if (strcmp(r->svcs[s].spec->name, service) != 0)
            continue;
        const cr_envlist *l = &r->svcs[s].env;
        for (size_t i = 0; i < l->n; i++)
            if (strcmp(l->v[i].key, key) == 0)
                return l->v[i].val;
    }
    return NULL;
}

int cr_run_setenv_inst(cr_run *r, const char *service, int replica,
                       const char *key, const char *val, cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        if (strcmp(r->svcs[s].spec->name, service) != 0)
            continue;
        if (replica < 0 || replica >= r->svcs[s].spec->replicas)
            break;
        return cr_envlist_set(&r->svcs[s].inst[replica].env, key, val)
                   ? cr_err_set(err, CR_ENOMEM, "setenv: out of memory")
                   : CR_OK;
    }
    return cr_err_set(err, CR_ENOTFOUND, "setenv %s: no instance %s.%d", key,
                      service, replica);
}
