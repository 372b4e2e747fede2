/* cr_run_ctr: services run as containers (a service's "container" key,
 * scenarios/README.md "Services in containers").
 *
 * Through the engine's command line, not its REST API: podman is
 * daemonless, so its API would need `podman system service` started, owned
 * and stopped by us -- one more process to supervise for nothing the CLI
 * cannot do; docker's CLI has the same shape.  Per replica:
 *
 *   1. the ledger gets "container <engine> <name> <runid>" BEFORE the
 *      container exists (STYLE: record, then change);
 *   2. `ENGINE create --name chaosrun-<runid>-<svc>.<n> --label
 *      chaosrun.run=<runid> ...` at its first start, then `ENGINE init`
 *      (podman: the OCI runtime creates it there, so a refused rlimit or
 *      cgroup setting is seen now, classified, and the run exits 3 with
 *      the reason instead of a replica that dies at once);
 *   3. the replica the engine supervises is the local `ENGINE start
 *      --attach NAME` client (cr_spawn, its own process group, output into
 *      logs/<replica>.log, its exit status the container's: 128+N is read
 *      as "killed by signal N");
 *   4. signals go through `ENGINE kill --signal N`; SIGSTOP/SIGCONT are
 *      `ENGINE pause`/`unpause` (the cgroup freezer).  With podman and
 *      runc, through runc itself (`runc kill ID N`, `runc pause`/`resume`),
 *      which is what podman runs for these, in 30-50 ms instead of the
 *      0.3-0.7 s a podman command takes on a loaded machine (a fault's
 *      instant is what a verdict is anchored to);
 *   5. at the end `ENGINE rm -f`, after the label was checked: a container
 *      without this run's label is never removed (the janitor and
 *      `chaosrun cleanup` use the same check, cr_ctr_cleanup_entry).
 *
 * The run directory is bind-mounted at its own path (the event file and
 * CHAOSRUN_RUN_DIR work unchanged); the network is the harness's own, or
 * the service's host namespace (/run/netns/<name>), so CHAOSRUN_ADDR_*
 * and the network faults on hosts apply as to a process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cr_alloc.h"
#include "base/cr_signal.h"
#include "base/cr_spawn.h"
#include "net/cr_net.h"
#include "cr_run_internal.h"

#define CTR_LABEL       "chaosrun.run"
#define CTR_TIMEOUT     30.0 /* one engine command (create, init, kill, rm) */
#define CTR_PAUSE_TRIES 3    /* a pause that failed is tried again */
/* How long a fault waits for a container the engine is still starting. */
#define CTR_LIVE_WAIT_S 10.0

typedef struct ctr_run {
    char runid[24];
} ctr_run;

static const char *engine_name(int e)
{
    return e == CR_CTR_DOCKER ? "docker" : "podman";
}

/* ---- running the engine --------------------------------------------------
 */

/* Run argv (argv[0] the engine's path) to its end; its stdout and stderr
 * (up to n-1 bytes, the last line's newline dropped) into out.  0: exit
 * 0; 1: it ran and failed (out says why); negative: not started. */
static int engine_run(char *const *argv, char *out, size_t n, cr_err *err)
{
    char detail[64];
    int fd = memfd_create("ctr-out", MFD_CLOEXEC);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "memfd_create");
    int rc =
        cr_spawn_run(argv, NULL, CTR_TIMEOUT, fd, detail, sizeof detail, err);
    if (out && n) {
        ssize_t k = pread(fd, out, n - 1, 0);
        out[k > 0 ? k : 0] = '\0';
        size_t len = strlen(out);
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
            out[--len] = '\0';
        if (rc == 1 && !len)
            snprintf(out, n, "%s", detail);
    }
    close(fd);
    return rc;
}

/* A unix socket that accepts a connection (docker's daemon). */
static int socket_answers(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        return 0;
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* docker's daemon socket: DOCKER_HOST=unix://PATH, else the default. */
static const char *docker_socket(void)
{
    const char *h = getenv("DOCKER_HOST");
    if (h && strncmp(h, "unix://", 7) == 0)
        return h + 7;
    return h && *h ? NULL : "/var/run/docker.sock";
}

/* The engine a service uses: its path into *exe (cr_free) and its kind
 * into *kind.  "auto": docker only when its daemon answers, else podman. */
static int engine_pick(const cr_svc_spec *sp, char **exe, int *kind,
                       cr_err *err)
{
    int want = sp->ctr->engine;
    const char *sock = docker_socket();
    *exe = NULL;
    if (want != CR_CTR_PODMAN) {
        char *d = cr_spawn_which("docker");
        if (d && sock && socket_answers(sock)) {
            *exe = d;
            *kind = CR_CTR_DOCKER;
            return 0;
        }
        cr_free(d);
        if (want == CR_CTR_DOCKER)
            return cr_err_set(
                err, CR_EUNSUP, "service %s: engine docker: %s", sp->name,
                !d     ? "the docker program is not in PATH"
                : sock ? "its daemon does not answer on its socket (is "
                         "dockerd running?)"
                       : "DOCKER_HOST is not a unix socket (only a local "
                         "daemon is supported)");
    }
    char *p = cr_spawn_which("podman");
    if (!p)
        return cr_err_set(err, CR_EUNSUP,
                          "service %s: no container engine: podman is not "
                          "installed (Debian package podman) and no docker "
                          "daemon answers",
                          sp->name);
    *exe = p;
    *kind = CR_CTR_PODMAN;
    return 0;
}

/* ---- set-up --------------------------------------------------------------
 */

/* Was image already found in this engine's store for an earlier service?
 * A podman command costs 0.3-3 s here: a pipeline whose six stages run
 * one image asks once, not six times. */
static int image_checked(const cr_run *r, size_t upto, int engine,
                         const char *image)
{
    for (size_t s = 0; s < upto; s++) {
        const cr_svc *o = &r->svcs[s];
        if (o->ctr && o->ctr_engine == engine &&
            strcmp(o->spec->ctr->image, image) == 0)
            return 1;
    }
    return 0;
}

int cr_run_ctr_init(cr_run *r, cr_err *err)
{
    ctr_run *c = NULL;
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        const cr_svc_spec *sp = svc->spec;
        if (!sp->ctr)
            continue;
        if (svc->remote)
            return cr_err_set(err, CR_EUNSUP,
                              "service %s: a container on remote node %s is "
                              "not supported (containers run on this machine)",
                              sp->name, sp->host);
        if (!c) {
            if (!(c = cr_calloc(1, sizeof *c)))
                return cr_err_set(err, CR_ENOMEM, "containers: out of memory");
            char prefix[24];
            cr_net_prefix_new(prefix, sizeof prefix);
            snprintf(c->runid, sizeof c->runid, "%s", prefix + 2);
            r->ctr = c;
        }
        if (engine_pick(sp, &svc->exe, &svc->ctr_engine, err) != 0)
            return err->code;
        svc->ctr = 1;
        if (svc->ctr_engine == CR_CTR_PODMAN)
            svc->ctr_runc = cr_spawn_which("runc");
        if (image_checked(r, s, svc->ctr_engine, sp->ctr->image))
            continue;
        /* Never pulled: no registry is assumed reachable, and a run must
         * not depend on one. */
        char out[512];
        char *av[] = {svc->exe,  "image",        "inspect", "--format",
                      "{{.Id}}", sp->ctr->image, NULL};
        int rc = engine_run(av, out, sizeof out, err);
        if (rc < 0)
            return err->code;
        if (rc != 0)
            return cr_err_set(err, CR_EUNSUP,
                              "service %s: image %s is not present in %s "
                              "(chaosrun never pulls; build or load it "
                              "first, e.g. `%s import`): %s",
                              sp->name, sp->ctr->image,
                              engine_name(svc->ctr_engine),
                              engine_name(svc->ctr_engine), out);
    }
    return 0;
}

/* Which faults can act on a container replica: signals, pause and restart
 * through the engine; syscall faults through a seccomp profile given to
 * the engine (its listener handed over by the runtime: OCI listenerPath);
 * network faults act on hosts (a container on a host is in its
 * namespace).  Anything else aimed at one exits 3. */
int cr_run_ctr_check(cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    static const char *const ok[] = {"kill",    "terminate", "pause",
                                     "restart", "syscall",   NULL};
    if (!r->ctr)
        return 0;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *f = &sc->faults[i];
        const cr_svc_spec *sp =
            f->target.service ? cr_scen_service(sc, f->target.service) : NULL;
        if (!sp || !sp->ctr)
            continue;
        int fine = 0;
        for (const char *const *k = ok; *k; k++)
            fine |= strcmp(*k, f->ops->kind) == 0;
        if (!fine)
            return cr_err_set(err, CR_EUNSUP,
                              "%s: fault kind %s is not supported on container "
                              "service %s (supported: kill, terminate, pause, "
                              "restart, syscall; network faults on its host)",
                              f->path, f->ops->kind, sp->name);
    }
    return 0;
}

const char *cr_run_ctr_seccomp_default(cr_run *r, const char *service)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        const cr_svc *svc = &r->svcs[s];
        if (!svc->ctr || strcmp(svc->spec->name, service) != 0)
            continue;
        /* podman's, from containers-common (docker's is built into the
         * daemon: none to start from). */
        static const char podman[] = "/usr/share/containers/seccomp.json";
        return svc->ctr_engine == CR_CTR_PODMAN && access(podman, R_OK) == 0
                   ? podman
                   : NULL;
    }
    return NULL;
}

int cr_run_ctr_seccomp(cr_run *r, const char *service, const char *profile,
                       cr_err *err)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        if (!svc->ctr || strcmp(svc->spec->name, service) != 0)
            continue;
        char *p = cr_strdup(profile);
        if (!p)
            return cr_err_set(err, CR_ENOMEM, "out of memory");
        cr_free(svc->ctr_seccomp);
        svc->ctr_seccomp = p;
        return 0;
    }
    return cr_err_set(err, CR_ENOTFOUND, "no container service '%s'", service);
}

/* ---- one replica ---------------------------------------------------------
 */

/* The engine's verdict on a failed create/init, with what can be done. */
static int init_failed(const cr_inst *in, const char *out, cr_err *err)
{
    const char *why = NULL;
    if (strstr(out, "rlimit") || strstr(out, "ulimit"))
        why = "the engine may not set the container's resource limits "
              "here (raising an rlimit is not permitted for chaosrun's "
              "process: lower them or run where it is)";
    else if (strstr(out, "hybrid mode") || strstr(out, "cgroup"))
        why = "the OCI runtime cannot manage this machine's cgroups (crun "
              "says \"cgroups in hybrid mode not supported\": install runc, "
              "which chaosrun then uses)";
    else if (strstr(out, "permission denied") || strstr(out, "not permitted"))
        why = "the engine lacks a privilege here";
    return cr_err_set(err, CR_EUNSUP,
                      "start %s: the container cannot run%s%s: %s", in->name,
                      why ? ": " : "", why ? why : "", out);
}

/* A growing argv. */
typedef struct avec {
    char **v;
    size_t n, cap;
    int nomem;
} avec;

static void av_add(avec *a, const char *s)
{
    if (a->nomem)
        return;
    if (a->n + 2 > a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 32;
        char **nv = cr_realloc(a->v, nc * sizeof *nv);
        if (!nv) {
            a->nomem = 1;
            return;
        }
        a->v = nv;
        a->cap = nc;
    }
    if (!(a->v[a->n] = cr_strdup(s))) {
        a->nomem = 1;
        return;
    }
    a->v[++a->n] = NULL;
}

static void av_addf(avec *a, const char *fmt, const char *x, const char *y)
{
    char *s = cr_asprintf(fmt, x, y);
    if (!s) {
        a->nomem = 1;
        return;
    }
    av_add(a, s);
    cr_free(s);
}

static void av_free(avec *a)
{
    for (size_t i = 0; i < a->n; i++)
        cr_free(a->v[i]);
    cr_free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* The rlimits the container gets: chaosrun's own soft limit, at most
 * 1024, as both soft and hard limit.  Never more: the engine's defaults
 * (nofile 1048576) and even chaosrun's own hard limits are refused where
 * raising an rlimit is not permitted (runc: "error setting rlimits"). */
static void add_ulimit(avec *a, const char *name, int res)
{
    struct rlimit rl;
    char buf[96];
    unsigned long long v = 1024;
    if (getrlimit(res, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (unsigned long long)rl.rlim_cur < v)
        v = (unsigned long long)rl.rlim_cur;
    snprintf(buf, sizeof buf, "%s=%llu:%llu", name, v, v);
    av_add(a, "--ulimit");
    av_add(a, buf);
}

int cr_run_ctr_create(cr_run *r, cr_inst *in, char *const *envp, cr_err *err)
{
    const cr_svc_spec *sp = in->svc->spec;
    const cr_ctr_spec *c = sp->ctr;
    ctr_run *cr = r->ctr;
    char line[300], out[2048], tmp[4200];
    snprintf(in->ctr_name, sizeof in->ctr_name, "chaosrun-%s-%s", cr->runid,
             in->name);
    snprintf(line, sizeof line, "container %s %s %s",
             engine_name(in->svc->ctr_engine), in->ctr_name, cr->runid);
    int id = cr_ledger_add(r->ledger, line, err);
    if (id < 0)
        return id;
    in->ctr_lid = id;
    avec a = {0};
    av_add(&a, in->svc->exe);
    av_add(&a, "create");
    av_add(&a, "--name");
    av_add(&a, in->ctr_name);
    av_add(&a, "--label");
    av_addf(&a, "%s=%s", CTR_LABEL, cr->runid);
    if (in->svc->ctr_runc) {
        /* crun refuses this machine kind's cgroups ("hybrid mode"). */
        av_add(&a, "--runtime");
        av_add(&a, in->svc->ctr_runc);
    }
    add_ulimit(&a, "nofile", RLIMIT_NOFILE);
    add_ulimit(&a, "nproc", RLIMIT_NPROC);
    if (in->svc->ctr_seccomp) {
        /* The syscall kind's profile (cr_run_ctr_seccomp): its listener
         * comes to the run with this annotation in the OCI state. */
        av_add(&a, "--security-opt");
        av_addf(&a, "%s=%s", "seccomp", in->svc->ctr_seccomp);
        av_add(&a, "--annotation");
        av_addf(&a, "%s=%s", CR_CTR_ANNOT_INSTANCE, in->name);
    }
    av_add(&a, "--log-driver");
    av_add(&a, "none"); /* the log is the attached output */
    av_add(&a, "--network");
    if (c->network == CR_CTR_NET_NONE)
        av_add(&a, "none");
    else if (sp->host) {
        const char *ns = cr_run_host_netns(r, sp->host);
        if (!ns) {
            av_free(&a);
            return cr_err_set(err, CR_ESTATE,
                              "start %s: host %s has no "
                              "namespace",
                              in->name, sp->host);
        }
        snprintf(tmp, sizeof tmp, "ns:%s/%s", CR_NETNS_DIR, ns);
        av_add(&a, tmp);
    } else
        av_add(&a, "host");
    /* The run directory at its own path: the event file, the replicas'
     * data under CHAOSRUN_RUN_DIR. */
    av_add(&a, "--volume");
    av_addf(&a, "%s:%s", r->dir, r->dir);
    for (char **v = c->volumes; v && *v; v++) {
        av_add(&a, "--volume");
        av_add(&a, *v);
    }
    if (sp->cwd) {
        av_add(&a, "--workdir");
        av_add(&a, sp->cwd);
    }
    for (char *const *e = envp; e && *e; e++) {
        av_add(&a, "--env");
        av_add(&a, *e);
    }
    for (char **e = c->env; e && *e; e++) {
        av_add(&a, "--env");
        av_add(&a, *e);
    }
    av_add(&a, "--");
    av_add(&a, c->image);
    for (char **x = c->args; x && *x; x++)
        av_add(&a, *x);
    if (a.nomem) {
        av_free(&a);
        return cr_err_set(err, CR_ENOMEM, "start %s: out of memory", in->name);
    }
    int rc = engine_run(a.v, out, sizeof out, err);
    av_free(&a);
    if (rc < 0)
        return rc;
    if (rc != 0)
        return init_failed(in, out, err);
    in->ctr_made = 1;
    /* The id is the last line of its output (warnings come first). */
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    if (strlen(last) == 64 && strspn(last, "0123456789abcdef") == 64)
        snprintf(in->ctr_id, sizeof in->ctr_id, "%s", last);
    if (in->svc->ctr_engine != CR_CTR_PODMAN)
        return 0; /* docker has no init: its start says it */
    char *iv[] = {in->svc->exe, "init", in->ctr_name, NULL};
    rc = engine_run(iv, out, sizeof out, err);
    if (rc < 0)
        return rc;
    if (rc)
        return init_failed(in, out, err);
    /* Faults through runc when runc knows the container under that id
     * (podman's runtime root is runc's default). */
    if (in->svc->ctr_runc && in->ctr_id[0]) {
        char *sv[] = {in->svc->ctr_runc, "state", in->ctr_id, NULL};
        in->ctr_runc = engine_run(sv, out, sizeof out, NULL) == 0;
    }
    return 0;
}

int cr_run_ctr_spawn_argv(cr_run *r, cr_inst *in, char *const *envp,
                          char ***argv, const char **path, cr_err *err)
{
    (void)r;
    (void)envp; /* given to the container when it was created */
    if (!in->ctr_made)
        return cr_err_set(err, CR_ESTATE, "start %s: no container", in->name);
    char **v = cr_calloc(5, sizeof *v);
    if (!v || !(v[0] = cr_strdup(in->svc->exe)) ||
        !(v[1] = cr_strdup("start")) || !(v[2] = cr_strdup("--attach")) ||
        !(v[3] = cr_strdup(in->ctr_name))) {
        for (size_t i = 0; v && i < 4; i++)
            cr_free(v[i]);
        cr_free(v);
        return cr_err_set(err, CR_ENOMEM, "start %s: out of memory", in->name);
    }
    *argv = v;
    *path = in->svc->exe;
    in->ctr_next_look = 0; /* its container is watched once it runs */
    return 0;
}

/* The container's state as its runtime (runc) or engine says it:
 * "running", "paused", "created", "stopped", ... or "" when it does not
 * exist (yet: the engine is still starting it). */
static void ctr_status(const cr_inst *in, char *st, size_t n)
{
    char out[4096];
    st[0] = '\0';
    if (in->ctr_runc) {
        char *av[] = {in->svc->ctr_runc, "state", (char *)in->ctr_id, NULL};
        if (engine_run(av, out, sizeof out, NULL) != 0)
            return;
        json_t *j = json_loads(out, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "status"));
        snprintf(st, n, "%s", v ? v : "");
        json_decref(j);
        return;
    }
    char fmt[] = "{{.State.Status}}";
    char *av[] = {in->svc->exe, "container",          "inspect", "--format",
                  fmt,          (char *)in->ctr_name, NULL};
    if (engine_run(av, out, sizeof out, NULL) == 0)
        snprintf(st, n, "%s", out);
}

/* Has the replica's client (the engine's start --attach) exited?  Not
 * reaped here: the loop does that. */
static int client_gone(const cr_inst *in)
{
    siginfo_t si = {0};
    if (in->pid <= 0)
        return 1;
    if (waitid(P_PID, (id_t)in->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD;
    return si.si_pid == in->pid;
}

/* Wait until the container runs (or is paused): a replica is "started"
 * once its client runs, but the engine makes the container only later
 * (0.1-2 s on a loaded machine); a fault then acts once it exists, and
 * its applied time says when.  0: it runs; 1: it is gone (exited: there
 * is nothing to signal, as for a process that exited); CR_ESTATE: still
 * not running after CTR_LIVE_WAIT_S. */
static int ctr_wait_live(const cr_inst *in, cr_err *err)
{
    char st[32];
    double end = cr_run_mono() + CTR_LIVE_WAIT_S;
    for (;;) {
        ctr_status(in, st, sizeof st);
        if (!strcmp(st, "running") || !strcmp(st, "paused"))
            return 0;
        if (!strcmp(st, "stopped") || !strcmp(st, "exited") || client_gone(in))
            return 1;
        if (cr_run_mono() > end)
            return cr_err_set(
                err, CR_ESTATE, "container %s of %s: still %s after %g s",
                in->ctr_name, in->name, *st ? st : "not made", CTR_LIVE_WAIT_S);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int cr_run_ctr_signal(cr_run *r, const cr_inst *in, int sig, cr_err *err)
{
    (void)r;
    int live = ctr_wait_live(in, err);
    if (live != 0)
        return live == 1 ? 0 : live;
    char num[16], out[1024];
    char *av[6];
    size_t k = 0;
    if (in->ctr_runc) { /* runc kill ID N, runc pause/resume ID */
        av[k++] = in->svc->ctr_runc;
        if (sig == SIGSTOP || sig == SIGCONT) {
            av[k++] = sig == SIGSTOP ? "pause" : "resume";
            av[k++] = (char *)in->ctr_id;
        } else {
            snprintf(num, sizeof num, "%d", sig);
            av[k++] = "kill";
            av[k++] = (char *)in->ctr_id;
            av[k++] = num;
        }
    } else {
        av[k++] = in->svc->exe;
        if (sig == SIGSTOP || sig == SIGCONT) {
            av[k++] = sig == SIGSTOP ? "pause" : "unpause";
        } else {
            snprintf(num, sizeof num, "%d", sig);
            av[k++] = "kill";
            av[k++] = "--signal";
            av[k++] = num;
        }
        av[k++] = (char *)in->ctr_name;
    }
    av[k] = NULL;
    int rc = engine_run(av, out, sizeof out, err);
    /* A cgroup v1 freeze can fail while a task stays FREEZING (runc gives
     * up: "unable to freeze", and thaws); the machine loaded and the
     * queue in fsync, it did once (e2e pipeline_containers beside
     * stress-ng).  Paused after all, or tried again, 3 times at most. */
    for (int n = 1; rc > 0 && sig == SIGSTOP && n < CTR_PAUSE_TRIES; n++) {
        char st[32];
        ctr_status(in, st, sizeof st);
        if (!strcmp(st, "paused"))
            return 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        rc = engine_run(av, out, sizeof out, err);
    }
    if (rc < 0)
        return rc;
    if (rc != 0) /* "runc kill web.0 …", "pause web.0 …", "SIGTERM web.0 …" */
        return cr_err_set(err, CR_ESYS, "%s%s %s (container %s): %s",
                          in->ctr_runc ? "runc " : "",
                          in->ctr_runc     ? av[1]
                          : sig == SIGSTOP ? "pause"
                          : sig == SIGCONT ? "unpause"
                                           : cr_signal_name(sig),
                          in->name, in->ctr_name, out);
    return 0;
}

int cr_run_ctr_status(const cr_inst *in, int status)
{
    /* The client exits with the container's status; the engine says
     * 128+N for a container killed by signal N.  So does the shell that
     * waits for a replica on an ssh node (cr_ssh_service_cmd), and ssh
     * passes its status on. */
    if ((in->svc->ctr || in->svc->remote) && WIFEXITED(status) &&
        WEXITSTATUS(status) > 128 && WEXITSTATUS(status) < 128 + 65)
        return WEXITSTATUS(status) - 128; /* as waitpid says "signal N" */
    return status;
}

/* ---- the container's own process -----------------------------------------
 *
 * The client (`podman start --attach`) exits with the container, but only
 * once podman noticed: 4.6 s after a SIGKILL was seen at load 40, longer
 * than a recovery bound.  So the container's process itself is watched:
 * runc names its init pid, a pidfd on it (chaosrun is root in the same
 * pid namespace) is in the loop's epoll set, and it is readable the
 * moment that process dies.  Its exit code is what conmon (the process's
 * parent, podman's monitor) writes into its exit file at once when it
 * reaps it; the client keeps forwarding the container's last output into
 * the log and is reaped when it ends.  Without runc (docker), or when
 * conmon's exit file does not come, the client's exit says it, as
 * before. */

#define CTR_LOOK_MS     50  /* how often runc is asked while not watched */
#define CTR_EXIT_WAIT_S 2.0 /* conmon's exit file after the process died */

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* runc's view of the container: its status and init pid (0: none). */
static pid_t runc_pid(const cr_inst *in)
{
    char out[8192];
    char *av[] = {in->svc->ctr_runc, "state", (char *)in->ctr_id, NULL};
    if (engine_run(av, out, sizeof out, NULL) != 0)
        return 0;
    json_t *j = json_loads(out, 0, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    json_int_t pid = json_integer_value(json_object_get(j, "pid"));
    int live = st && (!strcmp(st, "running") || !strcmp(st, "paused") ||
                      !strcmp(st, "created"));
    json_decref(j);
    return live && pid > 1 ? (pid_t)pid : 0;
}

/* /proc/PID/NAME into buf (NUL-terminated); its length, or -1. */
static long proc_file(pid_t pid, const char *name, char *buf, size_t n)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, name);
    FILE *f = fopen(p, "re");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[len] = '\0';
    return (long)len;
}

/* The exit file conmon (pid's parent) writes: "--exit-dir D" of its
 * command line, the file named by the container id. 0 or -1. */
static int conmon_exit_file(const cr_inst *in, pid_t pid, char *path, size_t n)
{
    char buf[4096];
    if (proc_file(pid, "stat", buf, sizeof buf) < 0)
        return -1;
    const char *e = strrchr(buf, ')'); /* comm may hold spaces */
    int ppid = 0;
    if (!e || sscanf(e + 1, " %*c %d", &ppid) != 1 || ppid <= 1)
        return -1;
    if (proc_file(ppid, "comm", buf, sizeof buf) < 0 ||
        strcmp(buf, "conmon\n") != 0)
        return -1;
    long got = proc_file(ppid, "cmdline", buf, sizeof buf);
    if (got < 0)
        return -1;
    size_t len = (size_t)got;
    for (size_t i = 0; i < len;) {
        const char *a = buf + i;
        size_t al = strlen(a);
        if (!strcmp(a, "--exit-dir") && i + al + 1 < len) {
            const char *d = a + al + 1;
            if (d[0] != '/' ||
                (size_t)snprintf(path, n, "%s/%s", d, in->ctr_id) >= n)
                return -1;
            return 0;
        }
        i += al + 1;
    }
    return -1;
}

static void exit_file_id(const char *path, unsigned long long *ino,
                         long long *mt)
{
    struct stat st;
    *ino = 0;
    *mt = 0;
    if (stat(path, &st) == 0) {
        *ino = (unsigned long long)st.st_ino;
        *mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
}

void cr_run_ctr_unwatch(cr_run *r, cr_inst *in)
{
    if (!in->ctr_watching)
        return;
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, in->ctr_pfd, NULL);
    close(in->ctr_pfd);
    in->ctr_watching = 0;
    in->ctr_pfd = -1;
    in->ctr_pid = 0;
}

/* Start watching in's container process.  0: watched; -1: not (yet). */
static int watch_one(cr_run *r, cr_inst *in)
{
    pid_t pid = runc_pid(in);
    if (pid <= 0)
        return -1;
    int pfd = pidfd_open_(pid);
    if (pfd < 0)
        return -1;
    /* The pid may have been reused between runc's answer and the pidfd:
     * runc names it again after the pidfd was opened, and the pidfd's
     * process is still alive, so both are the same process. */
    struct pollfd pf = {.fd = pfd, .events = POLLIN};
    if (conmon_exit_file(in, pid, in->ctr_exitf, sizeof in->ctr_exitf) != 0 ||
        runc_pid(in) != pid || poll(&pf, 1, 0) != 0) {
        close(pfd);
        return -1;
    }
    exit_file_id(in->ctr_exitf, &in->ctr_exit_ino, &in->ctr_exit_mt);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = pfd};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, pfd, &ev) != 0) {
        close(pfd);
        return -1;
    }
    in->ctr_pfd = pfd;
    in->ctr_pid = pid;
    in->ctr_watching = 1;
    return 0;
}

int cr_run_ctr_watch(cr_run *r)
{
    int want = -1;
    if (!r->ctr)
        return -1;
    double now = cr_run_mono();
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        for (int i = 0; svc->ctr && i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            if (in->pid <= 0 || in->ctr_watching || !in->ctr_runc)
                continue;
            if (now >= in->ctr_next_look) {
                in->ctr_next_look = now + CTR_LOOK_MS / 1000.0;
                if (watch_one(r, in) == 0)
                    continue;
            }
            double ms = (in->ctr_next_look - cr_run_mono()) * 1000.0 + 1;
            int w = ms > 0 ? (int)ms : 0;
            if (want < 0 || w < want)
                want = w;
        }
    }
    return want;
}

/* conmon's exit code for in's container, a new exit file only (-1: none
 * within wait_s; 0: one look). */
static int read_exit_code(const cr_inst *in, double wait_s)
{
    double end = cr_run_mono() + wait_s;
    for (;;) {
        unsigned long long ino;
        long long mt;
        exit_file_id(in->ctr_exitf, &ino, &mt);
        if (ino && (ino != in->ctr_exit_ino || mt != in->ctr_exit_mt)) {
            char buf[32] = "";
            FILE *f = fopen(in->ctr_exitf, "re");
            size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
            if (f)
                fclose(f);
            buf[len] = '\0';
            char *e;
            long c = strtol(buf, &e, 10);
            if (len > 0 && e != buf && c >= 0 && c <= 255)
                return (int)c;
        }
        if (cr_run_mono() > end)
            return -1;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int cr_run_ctr_on_fd(cr_run *r, int fd)
{
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        for (int i = 0; svc->ctr && i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            if (!in->ctr_watching || in->ctr_pfd != fd)
                continue;
            /* Its client has ended too (the harness woke late): the
             * reap records the exit as the container's without waiting
             * for an exit file podman's clean-up may have removed. */
            siginfo_t si = {0};
            if (in->pid > 0 &&
                waitid(P_PID, (id_t)in->pid, &si,
                       WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == in->pid) {
                cr_svc_reap(r);
                return 1;
            }
            int code = read_exit_code(in, CTR_EXIT_WAIT_S);
            cr_run_ctr_unwatch(r, in);
            if (code < 0 || in->pid <= 0) {
                cr_run_log(r,
                           "%s: its container process exited, but conmon "
                           "wrote no exit code within %g s: its client's "
                           "exit will say it",
                           in->name, CTR_EXIT_WAIT_S);
                in->ctr_next_look = 1e300; /* not again for this client */
                return 1;
            }
            in->ctr_exit_seen = 1;
            cr_svc_exited(r, in, cr_run_ctr_status(in, code << 8), 1);
            in->ctr_exit_seen = 0;
            return 1;
        }
    }
    return 0;
}

int cr_run_ctr_reaped(cr_inst *in, int status)
{
    if (in->svc->ctr && in->ctr_watching) {
        struct pollfd pf = {.fd = in->ctr_pfd, .events = POLLIN};
        if (poll(&pf, 1, 0) == 1) {
            /* The container's process had ended before its client: the
             * loop read the client's SIGCHLD before the pidfd (a loaded
             * machine).  Seen by the pidfd all the same; the code is
             * conmon's while its exit file is there (podman's clean-up
             * removes it), else the client's, which passes it on. */
            int code = read_exit_code(in, 0);
            if (code >= 0)
                status = code << 8;
            in->ctr_exit_seen = 1;
        }
    }
    return cr_run_ctr_status(in, status);
}

/* ---- the end -------------------------------------------------------------
 */

/* Remove container name of engine (the ledger's words) when it carries
 * the label of runid; gone already: success.  1: not ours (left alone). */
static int remove_ours(const char *exe, const char *name, const char *runid,
                       cr_err *err)
{
    char out[512];
    char fmt[64];
    snprintf(fmt, sizeof fmt, "{{index .Config.Labels \"%s\"}}", CTR_LABEL);
    char *iv[] = {(char *)exe, "container",  "inspect", "--format",
                  fmt,         (char *)name, NULL};
    int rc = engine_run(iv, out, sizeof out, err);
    if (rc < 0)
        return rc;
    if (rc != 0) /* no such container: nothing to undo */
        return strstr(out, "no such") || strstr(out, "No such")
                   ? 0
                   : cr_err_set(err, CR_ESYS, "container %s: inspect: %s", name,
                                out);
    if (strcmp(out, runid) != 0)
        return 1;
    /* A pause through runc (podman does not know of it) would keep the
     * container from dying: resumed first (an error: it was not). */
    char *runc = strcmp(exe + strlen(exe) - 6, "podman") == 0
                     ? cr_spawn_which("runc")
                     : NULL;
    if (runc) {
        char idf[] = "{{.Id}}";
        char id[128];
        char *dv[] = {(char *)exe, "container",  "inspect", "--format",
                      idf,         (char *)name, NULL};
        if (engine_run(dv, id, sizeof id, NULL) == 0 && strlen(id) == 64 &&
            strspn(id, "0123456789abcdef") == 64) {
            char *pv[] = {runc, "resume", id, NULL};
            engine_run(pv, NULL, 0, NULL);
        }
        cr_free(runc);
    }
    char *rv[] = {(char *)exe, "rm",         "--force", "--time",
                  "0",         (char *)name, NULL};
    rc = engine_run(rv, out, sizeof out, err);
    if (rc < 0)
        return rc;
    if (rc != 0 && !strstr(out, "no such") && !strstr(out, "No such"))
        return cr_err_set(err, CR_ESYS, "container %s: rm: %s", name, out);
    return 0;
}

void cr_run_ctr_teardown(cr_run *r)
{
    if (!r->ctr)
        return;
    for (size_t s = 0; s < r->nsvcs; s++) {
        cr_svc *svc = &r->svcs[s];
        for (int i = 0; svc->ctr && i < svc->spec->replicas; i++) {
            cr_inst *in = &svc->inst[i];
            cr_run_ctr_unwatch(r, in);
            if (!in->ctr_lid)
                continue;
            cr_err e;
            cr_err_clear(&e);
            int rc = remove_ours(svc->exe, in->ctr_name,
                                 ((ctr_run *)r->ctr)->runid, &e);
            if (rc == 0) {
                cr_ledger_done(r->ledger, in->ctr_lid);
                in->ctr_lid = 0;
            } else
                cr_run_journal_log(r, rc == 1 ? "container left alone: "
                                                "not labelled by this run"
                                              : e.msg);
        }
    }
    cr_free(r->ctr);
    r->ctr = NULL;
}

int cr_ctr_cleanup_entry(const char *args, cr_err *err)
{
    char eng[16], name[200], runid[32];
    if (sscanf(args, "%15s %199s %31s", eng, name, runid) != 3 ||
        (strcmp(eng, "podman") != 0 && strcmp(eng, "docker") != 0) ||
        strncmp(name, "chaosrun-", 9) != 0 || name[0] == '-')
        return cr_err_set(err, CR_EINVAL, "ledger: bad container entry '%s'",
                          args);
    char *exe = cr_spawn_which(eng);
    if (!exe)
        return cr_err_set(err, CR_EUNSUP,
                          "container %s: the %s program is gone", name, eng);
    int rc = remove_ours(exe, name, runid, err);
    cr_free(exe);
    if (rc == 1) /* somebody else's container by that name: left alone */
        return 0;
    return rc;
}
