/* cr_proxy_run: the fault proxy's scenario side (see cr_proxy.h).
 *
 * The "links" section names pairs of services whose traffic goes through
 * the proxy.  At run start the harness launches one `chaosrun proxy`
 * process for all links of the run (its own process group, killed with the
 * harness by PR_SET_PDEATHSIG, recorded in the ledger), waits until its
 * control socket answers, and points the client service's
 * CHAOSRUN_ADDR_<TO> at the link's listener.  Proxy faults (faults/proxy.c)
 * then add and remove toxics over the control socket.
 *
 * The per-run proxy state hangs off the run
 * (cr_run_module_state(r, "proxy")): made by cr_proxy_run_start, freed by
 * cr_proxy_run_stop. */
#include "cr_proxy.h"

#include "cr_alloc.h"
#include "cr_ledger.h"
#include "cr_run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 5000
#define CMD_TIMEOUT_MS   3000
#define STOP_TIMEOUT_MS  2000

/* ---- the "links" section ----------------------------------------------- */

static const cr_param link_params[] = {
    {"name", "string", NULL, "link name, used by proxy faults (\"link\")"},
    {"from", "string", NULL,
     "the client service; its CHAOSRUN_ADDR_<TO> points at the proxy"},
    {"to", "string", NULL, "the server service"},
    {"port", "integer", "to's port", "the server port the link reaches"},
    {"listen_port", "integer", "0", "the proxy's loopback port (0: ephemeral)"},
    {NULL, NULL, NULL, NULL},
};

static int link_name_ok(const char *s)
{
    if (!*s || strlen(s) >= CR_PROXY_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
            return 0;
    return 1;
}

static void links_free(cr_proxy_links *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++) {
        cr_free(ls->v[i].name);
        cr_free(ls->v[i].from);
        cr_free(ls->v[i].to);
    }
    cr_free(ls->v);
    cr_free(ls);
}

/* A service reachable on the host's loopback, or NULL after a diagnostic. */
static const cr_svc_spec *link_service(cr_vctx *vx, const cr_scen *sc,
                                       const char *path, const char *key,
                                       const char *name)
{
    char p[CR_PATH_MAX];
    cr_path_key(p, sizeof p, path, key);
    const cr_svc_spec *s = cr_scen_service(sc, name);
    if (!s) {
        const char *best = NULL;
        int bd = 3;
        for (size_t i = 0; i < sc->nsvcs; i++) {
            int d = cr_levenshtein(name, sc->svcs[i].name);
            if (d < bd) {
                bd = d;
                best = sc->svcs[i].name;
            }
        }
        cr_verr(vx, p, "no service \"%s\"%s%s%s", name,
                best ? " (did you mean \"" : "", best ? best : "",
                best ? "\"?)" : "");
        return NULL;
    }
    if (s->host) {
        cr_verr(vx, p,
                "service \"%s\" runs in network host \"%s\"; links go "
                "through a proxy on the host's loopback, so both services "
                "must run without \"host\"",
                name, s->host);
        return NULL;
    }
    return s;
}

static int links_parse(cr_vctx *vx, const json_t *val, const char *path,
                       cr_scen *sc)
{
    size_t before = cr_vcount(vx);
    if (!json_is_array(val)) {
        cr_verr(vx, path,
                "\"links\" must be an array of {\"name\", \"from\", "
                "\"to\"} objects");
        return 0;
    }
    cr_proxy_links *ls = cr_calloc(1, sizeof *ls);
    if (!ls || !(ls->v = cr_calloc(json_array_size(val) + 1, sizeof *ls->v))) {
        cr_free(ls);
        return CR_ENOMEM;
    }
    links_free(sc->links);
    sc->links = ls;
    for (size_t i = 0; i < json_array_size(val); i++) {
        const json_t *o = json_array_get(val, i);
        char p[CR_PATH_MAX], kp[CR_PATH_MAX];
        cr_path_idx(p, sizeof p, path, i);
        if (!json_is_object(o)) {
            cr_verr(vx, p,
                    "a link must be an object {\"name\", \"from\", \"to\"}");
            continue;
        }
        cr_vkeys(vx, o, p, link_params, NULL);
        const char *name = NULL, *from = NULL, *to = NULL;
        long long port = 0, lport = 0;
        int ok = 1;
        ok &= cr_vrequire(vx, o, p, "name") &&
              cr_vstr(vx, o, p, "name", NULL, &name) > 0;
        ok &= cr_vrequire(vx, o, p, "from") &&
              cr_vstr(vx, o, p, "from", NULL, &from) > 0;
        ok &= cr_vrequire(vx, o, p, "to") &&
              cr_vstr(vx, o, p, "to", NULL, &to) > 0;
        if (name) {
            cr_path_key(kp, sizeof kp, p, "name");
            if (!link_name_ok(name)) {
                cr_verr(vx, kp,
                        "invalid link name \"%s\": 1 to %d letters, "
                        "digits, '_', '.' or '-'",
                        name, CR_PROXY_NAME_MAX - 1);
                ok = 0;
            } else {
                for (size_t j = 0; j < ls->n; j++)
                    if (strcmp(ls->v[j].name, name) == 0) {
                        cr_verr(vx, kp, "duplicate link name \"%s\" (also %s)",
                                name, ls->v[j].path);
                        ok = 0;
                    }
            }
        }
        const cr_svc_spec *fs =
            from ? link_service(vx, sc, p, "from", from) : NULL;
        const cr_svc_spec *ts = to ? link_service(vx, sc, p, "to", to) : NULL;
        ok &= fs && ts;
        int has_port =
            cr_vint(vx, o, p, "port", 1, 65535, ts ? ts->port : 0, &port);
        if (has_port < 0) {
            ok = 0;
        } else if (ts && port == 0) {
            cr_path_key(kp, sizeof kp, p, "to");
            cr_verr(vx, kp,
                    "service \"%s\" has no \"port\": give the link's "
                    "\"port\"",
                    to);
            ok = 0;
        }
        if (cr_vint(vx, o, p, "listen_port", 0, 65535, 0, &lport) < 0)
            ok = 0;
        if (!ok)
            continue;
        cr_proxy_link_spec *ln = &ls->v[ls->n];
        ln->name = cr_strdup(name);
        ln->from = cr_strdup(from);
        ln->to = cr_strdup(to);
        ln->port = (int)port;
        ln->listen_port = (int)lport;
        snprintf(ln->path, sizeof ln->path, "%s", p);
        ls->n++;
        if (!ln->name || !ln->from || !ln->to)
            return CR_ENOMEM;
    }
    return cr_vcount(vx) > before ? CR_EINVAL : 0;
}

static void links_destroy(cr_scen *sc)
{
    links_free(sc->links);
    sc->links = NULL;
}

const cr_section_ops cr_proxy_links_section = {
    .key = "links",
    .summary =
        "service-to-service connections relayed through the fault proxy: "
        "[{\"name\", \"from\", \"to\", \"port\", \"listen_port\"}]",
    .parse = links_parse,
    .destroy = links_destroy,
};

const cr_proxy_link_spec *cr_proxy_link_find(const cr_scen *sc,
                                             const char *name)
{
    const cr_proxy_links *ls = sc ? sc->links : NULL;
    for (size_t i = 0; ls && name && i < ls->n; i++)
        if (strcmp(ls->v[i].name, name) == 0)
            return &ls->v[i];
    return NULL;
}

/* ---- the control-socket client ------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for ev on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pf = {fd, ev, 0};
        int n = poll(&pf, 1, (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int cr_proxy_client(const char *sock_path, const char *line, int timeout_ms,
                    char **reply, cr_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = mono_ms() + timeout_ms;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0, fd = -1;
    *reply = NULL;
    if (strlen(sock_path) >= sizeof sa.sun_path)
        return cr_err_set(err, CR_EINVAL, "proxy control %s: path too long",
                          sock_path);
    strcpy(sa.sun_path, sock_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy control: socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        !(errno == EAGAIN || errno == EINPROGRESS)) {
        rc = cr_err_sys(err, CR_ESYS, errno, "proxy control %s: connect",
                        sock_path);
        goto out;
    }
    size_t n = strlen(line), off = 0;
    char *msg = cr_asprintf("%s\n", line);
    if (!msg) {
        rc = cr_err_set(err, CR_ENOMEM, "proxy control: out of memory");
        goto out;
    }
    while (off <= n) {
        int w = wait_fd(fd, POLLOUT, deadline);
        ssize_t k = w > 0 ? send(fd, msg + off, n + 1 - off, MSG_NOSIGNAL) : -1;
        if (k < 0 && w > 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k < 0) {
            rc = w == 0 ? cr_err_set(err, CR_ETIMEOUT,
                                     "proxy control %s: '%s': timed out",
                                     sock_path, line)
                        : cr_err_sys(err, CR_ESYS, errno,
                                     "proxy control %s: send", sock_path);
            cr_free(msg);
            goto out;
        }
        off += (size_t)k;
    }
    cr_free(msg);
    for (;;) {
        if (len + 4096 > cap) {
            char *nb = cr_realloc(buf, cap + 65536);
            if (!nb) {
                rc = cr_err_set(err, CR_ENOMEM, "proxy control: out of memory");
                goto out;
            }
            buf = nb;
            cap += 65536;
        }
        int w = wait_fd(fd, POLLIN, deadline);
        if (w <= 0) {
            rc = cr_err_set(err, CR_ETIMEOUT,
                            "proxy control %s: '%s': no reply within %d ms",
                            sock_path, line, timeout_ms);
            goto out;
        }
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0) {
            rc = cr_err_set(err, CR_EPROTO,
                            "proxy control %s: '%s': connection closed "
                            "without a reply",
                            sock_path, line);
            goto out;
        }
        len += (size_t)k;
        buf[len] = '\0';
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            *reply = buf;
            buf = NULL;
            goto out;
        }
    }
out:
    cr_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- one proxy process per run ------------------------------------------ */

typedef struct prun {
    cr_run *r;
    pid_t pid;
    int ledger_id;
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
    unlink(pr->sock);
    void **slot = cr_run_module_state(r, "proxy");
    if (slot && *slot == pr)
        *slot = NULL;
    cr_free(pr);
}

/* Fork and exec argv with stdin from /dev/null and stdout/stderr to
 * log_path; exec failure is reported over a CLOEXEC pipe. */
static int spawn(char *const *argv, const char *log_path, pid_t *out,
                 cr_err *err)
{
    int ep[2] = {-1, -1}, nullfd = -1, logfd = -1, rc = 0;
    pid_t parent = getpid();
    if (pipe2(ep, O_CLOEXEC) < 0 ||
        (nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
        (logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0644)) < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "proxy: spawn (log %s)", log_path);
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "proxy: fork");
        goto out;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++)
            sigaction(s, &dfl, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execv(argv[0], argv);
        int e = errno;
        ssize_t wr = write(ep[1], &e, sizeof e);
        (void)wr;
        _exit(127);
    }
    close(ep[1]);
    ep[1] = -1;
    int e = 0;
    ssize_t k;
    while ((k = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR) {
    }
    if (k == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        rc = cr_err_sys(err, CR_ESYS, e, "proxy: exec %s", argv[0]);
        goto out;
    }
    *out = pid;
out:
    for (int i = 0; i < 2; i++)
        if (ep[i] >= 0)
            close(ep[i]);
    if (nullfd >= 0)
        close(nullfd);
    if (logfd >= 0)
        close(logfd);
    return rc;
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

int cr_proxy_run_start(cr_run *r, cr_err *err)
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
    char *log_path = cr_asprintf("%s/proxy.log", cr_run_dir(r));
    char seed[32];
    json_t *links = NULL;
    int rc = 0;
    size_t a = 0;
    pr->r = r;
    if (!argv || !log_path) {
        rc = cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
        goto out;
    }
    int sn =
        snprintf(pr->sock, sizeof pr->sock, "%s/proxy.sock", cr_run_dir(r));
    if (sn < 0 || (size_t)sn >= sizeof pr->sock)
        /* A unix socket path is limited to 107 bytes. */
        snprintf(pr->sock, sizeof pr->sock,
                 "/tmp/chaosrun-proxy-%d-%" PRIu64 ".sock", (int)getpid(),
                 cr_run_seed(r));
    snprintf(seed, sizeof seed, "%" PRIu64, cr_run_seed(r));
    argv[a++] = "/proc/self/exe";
    argv[a++] = "proxy";
    argv[a++] = "--control";
    argv[a++] = pr->sock;
    argv[a++] = "--seed";
    argv[a++] = seed;
    for (size_t i = 0; i < ls->n; i++) {
        argv[a++] = "--link";
        argv[a++] = cr_asprintf("%s=127.0.0.1:%d,127.0.0.1:%d", ls->v[i].name,
                                ls->v[i].listen_port, ls->v[i].port);
        if (!argv[a - 1]) {
            rc = cr_err_set(err, CR_ENOMEM, "proxy: out of memory");
            goto out;
        }
    }
    if ((rc = spawn(argv, log_path, &pr->pid, err)) < 0)
        goto out;
    /* The start time guards the cleanup against a reused pid. */
    int id = cr_run_ledger_add(r, err, "proxy %d %llu", (int)pr->pid,
                               cr_proc_starttime(pr->pid));
    if (id < 0) {
        rc = id;
        goto out;
    }
    pr->ledger_id = id;
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
    cr_free(log_path);
    return rc;
}

int cr_proxy_run_command(cr_run *r, const char *line, char **reply, cr_err *err)
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

json_t *cr_proxy_run_stop(cr_run *r)
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
