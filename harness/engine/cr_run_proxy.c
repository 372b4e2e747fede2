/* cr_run_proxy: the run's fault proxy process (see proxy/cr_proxy.h; the
 * "links" section that asks for it is parsed by proxy/cr_proxy_links.c).
 *
 * At run start the harness launches one `chaosrun proxy`
 * process for all links of the run (its own process group, killed with the
 * harness by PR_SET_PDEATHSIG, recorded in the ledger), waits until its
 * control socket answers, and points the client service's
 * CHAOSRUN_ADDR_<TO> at the link's listener.  Proxy faults (faults/proxy.c)
 * then add and remove toxics over the control socket.
 *
 * The per-run proxy state hangs off the run
 * (cr_run_module_state(r, "proxy")): made by cr_run_proxy_start, freed by
 * cr_run_proxy_stop. */
#include "cr_run_internal.h"

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_spawn.h"
#include "net/cr_netns.h"
#include "proxy/cr_proxy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 5000
#define CMD_TIMEOUT_MS   3000
#define STOP_TIMEOUT_MS  2000

/* Milliseconds on the engine's monotonic clock. */
static int64_t mono_ms(void)
{
    return (int64_t)(cr_run_mono() * 1000.0);
}

/* ---- one proxy process per run ------------------------------------------ */

/* The control socket is "proxy.sock" in the run directory: the proxy
 * runs there (cr_spawn's cwd_fd) and binds the relative name; the harness
 * connects through /proc/self/fd/<run dir fd>/proxy.sock, a short path
 * that reaches the directory it opened whatever its own path's length. */
#define SOCK_NAME "proxy.sock"

typedef struct prun {
    cr_run *r;
    pid_t pid;
    int ledger_id;
    int sock_ledger_id; /* "sock proxy.sock": the janitor removes it */
    char sock[108];
} prun;

static prun *prun_find(const cr_run *r)
{
    void **p = r ? cr_run_module_state((cr_run *)r, "proxy") : NULL;
    return p ? *p : NULL;
}

static void env_key(char *buf, size_t n, const char *prefix, const char *svc)
{
    size_t k = (size_t)snprintf(buf, n, "%s", prefix);
    for (; *svc && k + 1 < n; svc++, k++) {
        char c = *svc;
        buf[k] = (c == '-' || c == '.') ? '_' : (char)toupper((unsigned char)c);
    }
    buf[k < n ? k : n - 1] = '\0';
}

static void prun_kill(prun *pr, cr_run *r)
{
    if (pr->pid > 0) {
        kill(pr->pid, SIGKILL);
        waitpid(pr->pid, NULL, 0);
    }
    if (pr->ledger_id > 0)
        cr_run_ledger_done(r, pr->ledger_id);
    /* The proxy removes its socket when it quits; after a kill, we do
     * (only a socket: the name is never followed). */
    struct stat st;
    if (fstatat(cr_run_dirfd(r), SOCK_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISSOCK(st.st_mode))
        unlinkat(cr_run_dirfd(r), SOCK_NAME, 0);
    if (pr->sock_ledger_id > 0)
        cr_run_ledger_done(r, pr->sock_ledger_id);
    void **slot = cr_run_module_state(r, "proxy");
    if (slot && *slot == pr)
        *slot = NULL;
    cr_free(pr);
}

/* cr_spawn's go-pipe: the proxy's pid goes into the ledger before the
 * program runs (record, then change).  The start time guards the cleanup
 * against a reused pid. */
static int record_proxy(void *arg, pid_t pid, cr_err *err)
{
    prun *pr = arg;
    int id = cr_run_ledger_add(pr->r, err, "proxy %d %llu", (int)pid,
                               cr_proc_starttime(pid));
    if (id < 0)
        return id;
    pr->ledger_id = id;
    return 0;
}

/* Start argv (the chaosrun program itself) with stdin from /dev/null and
 * stdout/stderr appended to log_path, in its own process group, killed
 * with the harness. */
static int spawn(prun *pr, char *const *argv, cr_err *err)
{
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc p;
    cr_err e;
    int logfd, rc;
    cr_err_clear(&e);
    logfd = cr_dir_append(cr_run_dirfd(pr->r), "proxy.log", 0644, &e);
    if (logfd < 0)
        return cr_err_set(err, logfd, "proxy: spawn (log): %s", e.msg);
    /* Recorded before it exists: a proxy killed with the harness leaves
     * its socket, and the janitor removes it. */
    int id = cr_run_ledger_add(pr->r, err, "sock %s", SOCK_NAME);
    if (id < 0) {
        close(logfd);
        return id;
    }
    pr->sock_ledger_id = id;
    o.path = argv[0];
    o.argv = argv;
    o.cwd_fd = cr_run_dirfd(pr->r);
    o.stdout_fd = o.stderr_fd = logfd;
    o.new_pgroup = 1;
    o.pdeathsig = SIGKILL;
    o.before_exec = record_proxy;
    o.before_exec_arg = pr;
    rc = cr_spawn(&o, &p, &e);
    close(logfd);
    if (rc != 0)
        return cr_err_set(err, rc == CR_EUNSUP ? CR_ESYS : rc, "proxy: %s",
                          e.msg);
    pr->pid = p.pid;
    return 0;
}

/* Poll the control socket until the proxy answers "links". */
static int wait_ready(prun *pr, json_t **links, cr_err *err)
{
    int64_t deadline = mono_ms() + START_TIMEOUT_MS;
    for (;;) {
        int st;
        if (waitpid(pr->pid, &st, WNOHANG) == pr->pid) {
            pr->pid = 0;
            return cr_err_set(err, CR_ESYS,
                              "proxy: exited during start-up (status %d); "
                              "see proxy.log in the run directory",
                              WIFEXITED(st) ? WEXITSTATUS(st)
                                            : 128 + WTERMSIG(st));
        }
        char *reply = NULL;
        cr_err e2;
        cr_err_clear(&e2);
        if (cr_proxy_client(pr->sock, "links", 500, &reply, &e2) == 0) {
            *links = json_loads(reply, 0, NULL);
            cr_free(reply);
            if (!*links)
                return cr_err_set(err, CR_EPROTO, "proxy: bad 'links' reply");
            return 0;
        }
        if (mono_ms() > deadline)
            return cr_err_set(err, CR_ETIMEOUT,
                              "proxy: control socket %s did not answer within "
                              "%d ms (%s)",
                              pr->sock, START_TIMEOUT_MS, e2.msg);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int cr_run_proxy_start(cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_proxy_links *ls = sc ? sc->links : NULL;
    if (!ls || ls->n == 0)
        return 0;
    void **slot = cr_run_module_state(r, "proxy");
    if (!slot || *slot)
        return cr_err_set(err, CR_ESTATE,
                          "proxy: already started for this run");
    prun *pr = cr_calloc(1, sizeof *pr);
    if (!pr)
        return cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
    *slot = pr;
    char **argv = cr_calloc(2 * ls->n + 10, sizeof *argv);
    char seed[32];
    json_t *links = NULL;
    int rc = 0;
    size_t a = 0;
    pr->r = r;
    if (!argv) {
        rc = cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
        goto out;
    }
    snprintf(pr->sock, sizeof pr->sock, "/proc/self/fd/%d/%s", cr_run_dirfd(r),
             SOCK_NAME);
    snprintf(seed, sizeof seed, "%" PRIu64, cr_run_seed(r));
    argv[a++] = (char *)cr_run_self_exe(r);
    argv[a++] = "proxy";
    argv[a++] = "--control";
    argv[a++] = SOCK_NAME;
    argv[a++] = "--seed";
    argv[a++] = seed;
    for (size_t i = 0; i < ls->n; i++) {
        /* A client on a network host: the link's sockets are made in that
         * host's namespace (its loopback for the listener; the server's
         * host address routed from there, as the client's own connection
         * would be -- a partition between the two cuts it too).  The
         * loader allowed only both services on hosts or neither. */
        const cr_svc_spec *fs = cr_scen_service(cr_run_scen(r), ls->v[i].from);
        const cr_svc_spec *ts = cr_scen_service(cr_run_scen(r), ls->v[i].to);
        const char *ns = fs && fs->host ? cr_run_host_netns(r, fs->host) : NULL;
        const char *up = ts && ts->host ? cr_run_host_addr(r, ts->host) : NULL;
        if (fs && fs->host && (!ns || !up)) {
            rc = cr_err_set(err, CR_ESTATE,
                            "proxy: link %s: host %s or %s has no network "
                            "namespace",
                            ls->v[i].name, fs->host,
                            ts && ts->host ? ts->host : "-");
            goto out;
        }
        argv[a++] = "--link";
        argv[a++] = cr_asprintf("%s=127.0.0.1:%d,%s:%d%s%s%s", ls->v[i].name,
                                ls->v[i].listen_port, up ? up : "127.0.0.1",
                                ls->v[i].port, ns ? "," : "",
                                ns ? CR_NETNS_DIR "/" : "", ns ? ns : "");
        if (!argv[a - 1]) {
            rc = cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
            goto out;
        }
    }
    if ((rc = spawn(pr, argv, err)) < 0)
        goto out;
    if ((rc = wait_ready(pr, &links, err)) < 0)
        goto out;
    json_t *arr = json_object_get(links, "links");
    for (size_t i = 0; i < ls->n; i++) {
        int port = -1;
        for (size_t j = 0; j < json_array_size(arr); j++) {
            json_t *l = json_array_get(arr, j);
            if (strcmp(json_string_value(json_object_get(l, "name")) ?: "",
                       ls->v[i].name) == 0)
                port = (int)json_integer_value(json_object_get(l, "port"));
        }
        if (port <= 0) {
            rc = cr_err_set(err, CR_EPROTO, "proxy: link %s has no listener",
                            ls->v[i].name);
            goto out;
        }
        char key[CR_PATH_MAX], val[64];
        snprintf(val, sizeof val, "127.0.0.1:%d", port);
        env_key(key, sizeof key, "CHAOSRUN_ADDR_", ls->v[i].to);
        if ((rc = cr_run_setenv(r, ls->v[i].from, key, val, err)) < 0)
            goto out;
        env_key(key, sizeof key, "CHAOSRUN_ADDRS_", ls->v[i].to);
        if ((rc = cr_run_setenv(r, ls->v[i].from, key, val, err)) < 0)
            goto out;
        cr_run_log(r, "proxy: link %s: %s -> %s via %s (upstream port %d)",
                   ls->v[i].name, ls->v[i].from, ls->v[i].to, val,
                   ls->v[i].port);
    }
out:
    if (rc < 0)
        prun_kill(pr, r);
    json_decref(links);
    if (argv)
        for (size_t i = 6; i < a; i += 2)
            cr_free(argv[i + 1]);
    cr_free(argv);
    return rc;
}

int cr_run_proxy_command(cr_run *r, const char *line, char **reply, cr_err *err)
{
    prun *pr = prun_find(r);
    *reply = NULL;
    if (!pr || pr->pid <= 0)
        return cr_err_set(err, CR_ESTATE,
                          "proxy: not running (the scenario has no links)");
    int rc = cr_proxy_client(pr->sock, line, CMD_TIMEOUT_MS, reply, err);
    if (rc < 0)
        return rc;
    if (strncmp(*reply, "err", 3) == 0)
        return cr_err_set(err, CR_EPROTO, "proxy: '%s': %s", line,
                          *reply + (strlen(*reply) > 4 ? 4 : 3));
    return 0;
}

json_t *cr_run_proxy_stop(cr_run *r)
{
    prun *pr = prun_find(r);
    if (!pr)
        return NULL;
    json_t *stats = NULL;
    char *reply = NULL;
    cr_err e;
    cr_err_clear(&e);
    if (pr->pid > 0 &&
        cr_proxy_client(pr->sock, "stats", CMD_TIMEOUT_MS, &reply, &e) == 0)
        stats = json_loads(reply, 0, NULL);
    cr_free(reply);
    reply = NULL;
    if (pr->pid > 0 &&
        cr_proxy_client(pr->sock, "quit", CMD_TIMEOUT_MS, &reply, &e) == 0) {
        int64_t deadline = mono_ms() + STOP_TIMEOUT_MS;
        while (mono_ms() < deadline) {
            if (waitpid(pr->pid, NULL, WNOHANG) == pr->pid) {
                pr->pid = 0;
                break;
            }
            struct timespec ts = {0, 5 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    cr_free(reply);
    prun_kill(pr, r);
    return stats;
}
