/* cr_run_ssh: the run's remote nodes (hosts with an `ssh` key; the command
 * lines are net/cr_ssh.c's).  Per node, at set-up (in rounds over all
 * nodes, so that their logins overlap: node_begin):
 *
 *   1. one ControlMaster (`ssh -N`, ControlPath <run>/ssh/<node>.sock,
 *      ControlPersist=no), its process group in the ledger; every later
 *      command of the run goes through it (no new handshake);
 *   2. the node's clock offset: `date +%s.%N` between two local readings,
 *      offset = remote - midpoint (journal "ssh_nodes");
 *   3. a private directory /tmp/chaosrun-<runid>-<node> (ledger "ssh-dir",
 *      before it is made) holding the replicas' pidfiles and the node's
 *      event file;
 *   4. the event follower: `tail -F` of that file over the master into a
 *      pipe, read by one thread that corrects each line's "ts" by the
 *      offset and appends it, one write() a line, to events.live.jsonl
 *      (where the engine's loop reads local events): lines of several
 *      nodes and local services never interleave.
 *
 * A replica on a node is the local `ssh` client running the replica's
 * wrapper (cr_ssh_service_cmd): its stdout/stderr arrive in
 * logs/<replica>.log, its exit is the client's exit.  Signals (faults, the
 * stop) go over the master as `kill -s SIG -- -<pgid>` (the pidfile).
 * Partitions are nftables tables on the nodes (ledger "ssh-nft"); netem
 * and bandwidth are tc qdiscs on the senders (ledger "ssh-tc").  At the
 * end: the follower drained (every byte of the remote file forwarded),
 * leftover groups killed, tables and the directory removed, the master
 * closed; after a crash `chaosrun cleanup` reconnects (cr_ssh.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_rng.h"
#include "base/cr_signal.h"
#include "base/cr_spawn.h"
#include "net/cr_net.h"
#include "net/cr_ssh.h"
#include "cr_run_internal.h"

typedef struct ssh_node ssh_node;

/* A command running on a node through its master: the local ssh client
 * and the read end of its stdout. */
typedef struct node_cmd {
    ssh_node *nd;
    pid_t pid;
    int outfd;
} node_cmd;

struct ssh_node {
    cr_ssh_node n; /* points into the buffers below */
    char dest[256], addr[256], port[16];
    char control[4096], known_hosts[4096], dir[256], events[300];
    pid_t master, follower;
    int master_lid, follower_lid, dir_lid;
    /* The control shell: one remote `sh` reading commands on its stdin
     * (ctl_in) and answering on its stdout (ctl_out) -- a command costs a
     * line each way instead of a new session and a login shell. */
    pid_t ctl;
    int ctl_in, ctl_out;
    /* The clock's session between node_login and node_finish. */
    node_cmd off;
    int off_in;
    double offset_s, rtt_s;
    int pipefd;           /* read end of the follower's stdout, or -1 */
    int evfd;             /* events.live.jsonl, O_APPEND, or -1 */
    pthread_t thread;     /* the follower's reader */
    int thread_up;        /* thread started */
    atomic_ullong fwd;    /* bytes of the remote file forwarded */
    atomic_int lines_bad; /* lines that could not be forwarded */
    /* Rotation (the scenario's "rotate"): the node's event file is cut
     * where it was forwarded (punch_start); rot_max 0: not rotated.  Only
     * the follower's thread writes these until it has ended. */
    unsigned long long rot_max, punched;
    int punch_failed;
    char punch_err[320];
    const char *ssh_prog;          /* the ssh program (the run's) */
    pid_t punch_pid;               /* a cut in flight, or 0 */
    int punch_out;                 /* its output's read end */
    unsigned long long punch_upto; /* what it frees */
    double punch_t0;               /* when it began (monotonic) */
};

/* A replica's cgroup on its node (cr_run_ssh_cgroup). */
typedef struct ssh_cg {
    const cr_inst *in; /* NULL: a cgroup of the run's own, named own */
    char own[64];
    char ctl[16];
    char path[512];
    int v2;
    int frozen; /* freezer: frozen by cr_run_ssh_freeze */
} ssh_cg;

typedef struct ssh_run {
    char runid[16];
    ssh_cg **cgs; /* the cgroups made on nodes, each allocated alone */
    size_t ncgs;
    char *ssh; /* the ssh program */
    size_t n;
    ssh_node *v;
    unsigned tables; /* nftables tables made so far (their names) */
    unsigned qbase;  /* the run's first qdisc handle (even, 0xc000..) */
    unsigned qdiscs; /* qdisc handles used so far */
} ssh_run;

static ssh_run *state(cr_run *r)
{
    return r ? r->ssh : NULL;
}

static ssh_node *node_of(cr_run *r, const char *host)
{
    ssh_run *s = state(r);
    for (size_t i = 0; s && host && i < s->n; i++)
        if (strcmp(s->v[i].n.name, host) == 0)
            return &s->v[i];
    return NULL;
}

int cr_run_ssh_active(cr_run *r)
{
    return state(r) != NULL;
}

const char *cr_run_ssh_addr(cr_run *r, const char *host)
{
    ssh_node *nd = node_of(r, host);
    return nd ? nd->addr : NULL;
}

/* ---- running ssh -------------------------------------------------------- */

/* cr_spawn's go-pipe: a local process group of ours into the ledger. */
static int record_group(void *arg, pid_t pid, cr_err *err)
{
    void **a = arg;
    cr_run *r = a[0];
    int *lid = a[1];
    char line[96];
    snprintf(line, sizeof line, "pgid %d %llu", (int)pid,
             cr_proc_starttime(pid));
    int id = cr_ledger_add(r->ledger, line, err);
    if (id < 0)
        return id;
    *lid = id;
    return 0;
}

/* Start ssh with argv (a master or the follower): its own process group,
 * recorded, dying with the harness; stdout to out_fd, stderr to the
 * node's log. */
static int spawn_ssh(cr_run *r, ssh_node *nd, char **argv, int out_fd,
                     pid_t *pid, int *lid, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    char logname[96];
    snprintf(logname, sizeof logname, "ssh-%s.log", nd->n.name);
    int logfd = cr_dir_append(r->logsfd, logname, 0644, &e);
    if (logfd < 0)
        return cr_err_set(err, logfd, "ssh node %s: logs/%s: %s", nd->n.name,
                          logname, e.msg);
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    void *arg[2] = {r, lid};
    o.path = state(r)->ssh;
    o.argv = argv;
    o.stdout_fd = out_fd >= 0 ? out_fd : logfd;
    o.stderr_fd = logfd;
    o.new_pgroup = 1;
    o.pdeathsig = SIGKILL;
    o.before_exec = record_group;
    o.before_exec_arg = arg;
    int rc = cr_spawn(&o, &pr, &e);
    close(logfd);
    if (rc != 0)
        return cr_err_set(err, rc, "ssh node %s: %s", nd->n.name, e.msg);
    *pid = pr.pid;
    return 0;
}

static void stop_group(cr_run *r, pid_t *pid, int *lid, int sig)
{
    if (*pid > 0) {
        int st;
        kill(-*pid, sig);
        cr_err e;
        cr_err_clear(&e);
        cr_spawn_wait(*pid, 2.0, &st, &e); /* SIGKILL after 2 s */
        *pid = 0;
    }
    if (*lid > 0)
        cr_ledger_done(r->ledger, *lid);
    *lid = 0;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start cmd on the node (stdin from in_fd when >= 0, else /dev/null;
 * stderr to logs/ssh-<node>.log).  0, or a code with err set. */
static int cmd_start(cr_run *r, ssh_node *nd, const char *cmd, int in_fd,
                     node_cmd *c, cr_err *err)
{
    char **av = cr_ssh_argv(&nd->n, 0, NULL, cmd);
    int p[2] = {-1, -1}, rc = 0;
    cr_err e;
    cr_err_clear(&e);
    c->nd = nd;
    c->pid = 0;
    c->outfd = -1;
    if (!av)
        return cr_err_set(err, CR_ENOMEM, "ssh node %s: out of memory",
                          nd->n.name);
    if (pipe2(p, O_CLOEXEC) != 0) {
        cr_ssh_argv_free(av);
        return cr_err_sys(err, CR_ESYS, errno, "ssh node %s: pipe", nd->n.name);
    }
    char logname[96];
    snprintf(logname, sizeof logname, "ssh-%s.log", nd->n.name);
    int logfd = cr_dir_append(r->logsfd, logname, 0644, &e);
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    o.path = state(r)->ssh;
    o.argv = av;
    if (in_fd >= 0)
        o.stdin_fd = in_fd;
    o.stdout_fd = p[1];
    o.stderr_fd = logfd >= 0 ? logfd : CR_SPAWN_DEVNULL;
    o.new_pgroup = 1;
    o.pdeathsig = SIGKILL;
    rc = cr_spawn(&o, &pr, &e);
    if (logfd >= 0)
        close(logfd);
    close(p[1]);
    cr_ssh_argv_free(av);
    if (rc != 0) {
        close(p[0]);
        return cr_err_set(err, rc, "ssh node %s: %s", nd->n.name, e.msg);
    }
    c->pid = pr.pid;
    c->outfd = p[0];
    return 0;
}

/* Read the command's stdout to its end (up to n-1 bytes into out when out
 * is not NULL; at most 20 s: ConnectTimeout is 10 s) and reap it.  0 when
 * it exited 0, else CR_ESYS naming the node, the command and how it
 * ended (its stderr is in logs/ssh-<node>.log). */
static int cmd_finish(node_cmd *c, const char *cmd, char *out, size_t n,
                      cr_err *err)
{
    size_t got = 0;
    int st = 0;
    cr_err e;
    cr_err_clear(&e);
    for (;;) {
        struct pollfd pf = {.fd = c->outfd, .events = POLLIN};
        int k = poll(&pf, 1, 20000);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        char buf[512];
        ssize_t m = read(c->outfd, buf, sizeof buf);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            break;
        for (ssize_t i = 0; out && i < m && got + 1 < n; i++)
            out[got++] = buf[i];
    }
    if (out && n)
        out[got] = '\0';
    close(c->outfd);
    c->outfd = -1;
    int w = cr_spawn_wait(c->pid, 5.0, &st, &e);
    c->pid = 0;
    if (w != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return cr_err_set(
            err, CR_ESYS, "ssh node %s: `%s`: %s %d (see logs/ssh-%s.log)",
            c->nd->n.name, cmd,
            w != 0          ? "no end, killed"
            : WIFEXITED(st) ? "exit"
                            : "signal",
            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), c->nd->n.name);
    return 0;
}

/* Each line in ("now") answered with the node's clock.  GNU date reads
 * such lines itself with -f (line-buffered by stdbuf): one process, so
 * a reading is not late by a fork and exec of date(1) on the way in (a
 * bias of +1.6 ms in a pipe here, +2.5 to +3.2 ms over ssh, rtt 6 ms);
 * tried once first (no stdbuf, no libstdbuf, a date without -f): else a
 * date(1) per line. */
#define OFFSET_CMD                                                             \
    "printf 'now\\n' | stdbuf -oL date -f - +%s.%N >/dev/null 2>&1 && "        \
    "exec stdbuf -oL date -f - +%s.%N; "                                       \
    "while read x; do date +%s.%N; done"

/* ---- the control shell ---------------------------------------------------
 *
 * A command goes in as "{\n<cmd>\n} </dev/null 2>&1; echo @@cr-end $?" and
 * its answer is everything up to the "@@cr-end <status>" line.  A session
 * that does not answer within 10 s is closed and later commands use a
 * session each (node_run's fallback). */

static void ctl_close(ssh_node *nd)
{
    if (nd->ctl_in >= 0)
        close(nd->ctl_in);
    if (nd->ctl_out >= 0)
        close(nd->ctl_out);
    nd->ctl_in = nd->ctl_out = -1;
    if (nd->ctl > 0) {
        int st;
        cr_err e;
        cr_err_clear(&e);
        kill(-nd->ctl, SIGKILL);
        cr_spawn_wait(nd->ctl, 1.0, &st, &e);
        nd->ctl = 0;
    }
}

static int ctl_send(ssh_node *nd, const char *cmd)
{
    /* A subshell: a command that says `exit` (or changes directory,
     * options, variables) ends only itself, never the control shell. */
    char *line =
        cr_asprintf("(\n%s\n) </dev/null 2>&1; echo \"@@cr-end $?\"\n", cmd);
    if (!line)
        return CR_ENOMEM;
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = write(nd->ctl_in, line + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    cr_free(line);
    return off == n ? 0 : CR_ESYS;
}

/* The answer to the command sent last: its output (up to n-1 bytes into
 * out) and its exit status; CR_ESYS when the session broke or timed out. */
static int ctl_recv(ssh_node *nd, char *out, size_t n, int *status)
{
    char buf[4096];
    size_t len = 0;
    for (;;) {
        struct pollfd pf = {.fd = nd->ctl_out, .events = POLLIN};
        int k = poll(&pf, 1, 10000);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return CR_ESYS;
        /* One byte at a time: the answer ends at a line we must not read
         * past (answers are short). */
        ssize_t m = read(nd->ctl_out, buf + len, 1);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            return CR_ESYS;
        if (buf[len] != '\n' && len + 1 < sizeof buf - 1) {
            len++;
            continue;
        }
        buf[len] = '\0';
        const char *mark = strstr(buf, "@@cr-end ");
        if (mark && (mark == buf || mark[-1] == '\n')) {
            *status = atoi(mark + 9);
            size_t keep = (size_t)(mark - buf);
            if (out && n) {
                if (keep >= n)
                    keep = n - 1;
                memcpy(out, buf, keep);
                out[keep] = '\0';
            }
            return 0;
        }
        buf[len++] = '\n'; /* part of the output: keep reading */
        if (len + 2 >= sizeof buf)
            len = 0; /* long output: only its end is kept */
    }
}

static int ctl_start(cr_run *r, ssh_node *nd, cr_err *err)
{
    int in[2];
    node_cmd c;
    if (pipe2(in, O_CLOEXEC) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "ssh node %s: pipe", nd->n.name);
    int rc = cmd_start(r, nd, "exec sh", in[0], &c, err);
    close(in[0]);
    if (rc != 0) {
        close(in[1]);
        return rc;
    }
    nd->ctl = c.pid;
    nd->ctl_in = in[1];
    nd->ctl_out = c.outfd;
    return 0;
}

static int ctl_error(ssh_node *nd, const char *cmd, int status, const char *out,
                     cr_err *err)
{
    size_t k = strlen(out);
    while (k && out[k - 1] == '\n')
        k--;
    return cr_err_set(err, CR_ESYS, "ssh node %s: `%s`: exit %d%s%.*s",
                      nd->n.name, cmd, status, k ? ": " : "",
                      (int)(k > 300 ? 300 : k), out);
}

/* Run cmd on the node: through its control shell, else a session of its
 * own over the master; its stdout (up to n-1 bytes) into out when out is
 * not NULL.  0, or a code with err set. */
static int node_run(cr_run *r, ssh_node *nd, const char *cmd, char *out,
                    size_t n, cr_err *err)
{
    if (nd->ctl > 0) {
        char buf[1024];
        int status = 0;
        if (ctl_send(nd, cmd) == 0 &&
            ctl_recv(nd, buf, sizeof buf, &status) == 0) {
            if (out && n)
                snprintf(out, n, "%s", buf);
            return status == 0 ? 0 : ctl_error(nd, cmd, status, buf, err);
        }
        cr_run_log(r,
                   "node %s: the control shell stopped answering; one "
                   "session per command from now on",
                   nd->n.name);
        ctl_close(nd);
    }
    node_cmd c;
    int rc = cmd_start(r, nd, cmd, -1, &c, err);
    return rc != 0 ? rc : cmd_finish(&c, cmd, out, n, err);
}

/* Run cmds[i] on nds[i], all at once (a fault reaches every node within one
 * round trip, not one per node).  ok[i] = 1 for each that exited 0.
 * Returns 0, or the first failure (every command is still waited for). */
static int nodes_run(cr_run *r, ssh_node **nds, char **cmds, size_t n, int *ok,
                     cr_err *err)
{
    int sent[CR_NET_MAX_HOSTS];
    int first = 0;
    /* Sent to every control shell first, then the answers collected. */
    for (size_t i = 0; i < n; i++) {
        ok[i] = 0;
        sent[i] = cmds[i] && nds[i]->ctl > 0 && ctl_send(nds[i], cmds[i]) == 0;
    }
    for (size_t i = 0; i < n; i++) {
        cr_err e;
        cr_err_clear(&e);
        int rc;
        char buf[1024];
        int status = 0;
        if (!cmds[i]) {
            rc = cr_err_set(&e, CR_ENOMEM, "ssh: out of memory");
        } else if (sent[i] && ctl_recv(nds[i], buf, sizeof buf, &status) == 0) {
            rc = status == 0 ? 0 : ctl_error(nds[i], cmds[i], status, buf, &e);
        } else {
            if (sent[i]) /* no answer: node_run falls back */
                ctl_close(nds[i]);
            rc = node_run(r, nds[i], cmds[i], NULL, 0, &e);
        }
        ok[i] = rc == 0;
        if (rc != 0 && !first)
            first = cr_err_set(err, rc, "%s", e.msg);
    }
    return first;
}

/* The node's clock offset (node - harness) over one session that answers
 * each line with `date +%s.%N`: the fastest of 5 exchanges, whose round
 * trip bounds the error (rtt/2); an ssh process per reading would add its
 * own start-up, unevenly, to one side.  offset_start starts the session
 * (it logs in while other nodes are set up), offset_measure exchanges
 * the lines and ends it. */
static int offset_start(cr_run *r, ssh_node *nd, node_cmd *c, int *in_fd,
                        cr_err *err)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "ssh node %s: pipe", nd->n.name);
    int rc = cmd_start(r, nd, OFFSET_CMD, in[0], c, err);
    close(in[0]);
    if (rc != 0) {
        close(in[1]);
        return rc;
    }
    *in_fd = in[1];
    return 0;
}

static int offset_measure(ssh_node *nd, node_cmd *c, int in_fd, cr_err *err)
{
    int rc = 0;
    double best = -1;
    char line[64];
    for (int i = 0; i < 5 && rc == 0; i++) {
        size_t got = 0;
        double t0 = unix_now();
        if (write(in_fd, "now\n", 4) != 4) {
            rc = cr_err_sys(err, CR_ESYS, errno, "ssh node %s: clock",
                            nd->n.name);
            break;
        }
        while (got + 1 < sizeof line) {
            struct pollfd pf = {.fd = c->outfd, .events = POLLIN};
            if (poll(&pf, 1, 10000) <= 0)
                break;
            ssize_t m = read(c->outfd, line + got, 1);
            if (m <= 0)
                break;
            if (line[got++] == '\n')
                break;
        }
        double t1 = unix_now();
        line[got] = '\0';
        char *end;
        double rt = strtod(line, &end);
        if (end == line || rt <= 0) {
            rc = cr_err_set(err, CR_EUNSUP,
                            "ssh node %s: `date +%%s.%%N` gave \"%s\"",
                            nd->n.name, line);
            break;
        }
        if (best < 0 || t1 - t0 < best) {
            best = t1 - t0;
            nd->rtt_s = best;
            nd->offset_s = rt - (t0 + t1) / 2;
        }
    }
    close(in_fd); /* EOF: the loop ends */
    cr_err e;
    cr_err_clear(&e);
    int frc = cmd_finish(c, OFFSET_CMD, NULL, 0, &e);
    return rc != 0 ? rc : frc != 0 ? cr_err_set(err, frc, "%s", e.msg) : 0;
}

/* ---- the event follower -------------------------------------------------- */

/* The node's event file, like the local one, must not grow without end in
 * a long run: every byte forwarded here was read by `tail` on the node, so
 * the range up to it is no longer needed there.  It is freed with
 * fallocate(1) (util-linux; `--punch-hole` keeps the size, so tail's offset
 * stays valid), through the master, from the follower's thread (the loop
 * never waits for it).  Nothing is compressed on the node: the history is
 * here, in the run's events file, which rotates.  A failure (no fallocate,
 * a file system without hole punching) stops the cutting on that node, as
 * a failed local cut does; the journal says why. */
static void punch_fail(ssh_node *nd, const char *what, const char *out)
{
    nd->punch_failed = 1;
    snprintf(nd->punch_err, sizeof nd->punch_err, "%s%s%s", what,
             out && out[0] ? ": " : "", out ? out : "");
}

/* Start a cut: `fallocate --punch-hole` of [0, upto) over the master, in
 * the background -- the thread goes on forwarding while it runs (blocked
 * in it, the thread once left the node's events unread until the cut's
 * own session timed out). */
static void punch_start(ssh_node *nd, unsigned long long upto)
{
    cr_err e;
    cr_err_clear(&e);
    cr_sbuf b = {0};
    char n[32];
    static const char pre[] = "fallocate --punch-hole --offset 0 --length ";
    snprintf(n, sizeof n, "%llu ", upto);
    int bad = cr_sbuf_add(&b, pre, sizeof pre - 1) ||
              cr_sbuf_add(&b, n, strlen(n)) || cr_ssh_quote(&b, nd->events);
    char **av = bad ? NULL : cr_ssh_argv(&nd->n, 0, NULL, b.s);
    cr_free(b.s);
    int p[2] = {-1, -1};
    if (!av || pipe2(p, O_CLOEXEC) != 0) {
        cr_ssh_argv_free(av);
        punch_fail(nd, "out of memory or pipe", NULL);
        return;
    }
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    o.path = nd->ssh_prog;
    o.argv = av;
    o.stdout_fd = p[1];
    o.stderr_fd = p[1];
    o.new_pgroup = 1;
    o.pdeathsig = SIGKILL;
    int rc = cr_spawn(&o, &pr, &e);
    cr_ssh_argv_free(av);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        punch_fail(nd, e.msg, NULL);
        return;
    }
    nd->punch_pid = pr.pid;
    nd->punch_out = p[0];
    nd->punch_upto = upto;
    nd->punch_t0 = cr_run_mono();
}

/* A cut that ended (wait: wait for it, at most 10 s): what it freed, or
 * why not.  A cut taking over 30 s is killed and counts as failed. */
static void punch_poll(ssh_node *nd, int wait)
{
    if (nd->punch_pid <= 0)
        return;
    int st = 0;
    char what[64] = "";
    if (wait) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_spawn_wait(nd->punch_pid, 10.0, &st, &e) != 0)
            snprintf(what, sizeof what, "no exit within 10 s");
    } else {
        pid_t w = waitpid(nd->punch_pid, &st, WNOHANG);
        if (w == 0 && cr_run_mono() - nd->punch_t0 < 30)
            return;
        if (w == 0) {
            kill(-nd->punch_pid, SIGKILL);
            waitpid(nd->punch_pid, &st, 0);
            snprintf(what, sizeof what, "no exit within 30 s");
        }
    }
    char out[256] = "";
    ssize_t k = read(nd->punch_out, out, sizeof out - 1);
    out[k > 0 ? k : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    close(nd->punch_out);
    nd->punch_pid = 0;
    nd->punch_out = -1;
    if (!what[0] && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        nd->punched = nd->punch_upto;
        return;
    }
    if (!what[0])
        snprintf(what, sizeof what, "exit %d",
                 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    punch_fail(nd, what, out);
}

static void *follow_main(void *arg)
{
    ssh_node *nd = arg;
    size_t cap = 65536, len = 0;
    char *buf = cr_malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (len == cap) {
            /* A line longer than the buffer: doubled (events are short). */
            char *nb = cr_realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t m = read(nd->pipefd, buf + len, cap - len);
        if (m < 0 && errno == EINTR)
            continue;
        if (m <= 0)
            break;
        len += (size_t)m;
        size_t start = 0;
        for (size_t i = start; i < len; i++) {
            if (buf[i] != '\n')
                continue;
            char *line =
                cr_ssh_event_line(buf + start, i - start, nd->offset_s);
            /* One write() a line, O_APPEND: never interleaved with the
             * lines of services or of other nodes. */
            if (!line || write(nd->evfd, line, strlen(line)) < 0)
                atomic_fetch_add(&nd->lines_bad, 1);
            cr_free(line);
            atomic_fetch_add(&nd->fwd, (unsigned long long)(i + 1 - start));
            start = i + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        unsigned long long f = atomic_load(&nd->fwd) & ~4095ull;
        punch_poll(nd, 0);
        if (nd->rot_max && !nd->punch_failed && nd->punch_pid <= 0 &&
            f >= nd->punched + nd->rot_max)
            punch_start(nd, f);
    }
    cr_free(buf);
    punch_poll(nd, 1); /* a cut in flight: its outcome, for the journal */
    return NULL;
}

static int follow_start(cr_run *r, ssh_node *nd, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    int p[2];
    nd->evfd = cr_dir_append(r->dirfd, "events.live.jsonl", 0644, &e);
    if (nd->evfd < 0) {
        nd->evfd = -1;
        return cr_err_set(err, CR_ESYS, "ssh node %s: events.live.jsonl: %s",
                          nd->n.name, e.msg);
    }
    if (pipe2(p, O_CLOEXEC) != 0)
        return cr_err_sys(err, CR_ESYS, errno, "ssh node %s: pipe", nd->n.name);
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "exec tail -n +1 -F ", 19) ||
              cr_ssh_quote(&b, nd->events);
    char **av = bad ? NULL : cr_ssh_argv(&nd->n, 0, NULL, b.s);
    cr_free(b.s);
    int rc =
        av ? spawn_ssh(r, nd, av, p[1], &nd->follower, &nd->follower_lid, err)
           : cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    cr_ssh_argv_free(av);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return rc;
    }
    nd->pipefd = p[0];
    nd->rot_max = r->sc->rotate.max_bytes;
    nd->ssh_prog = state(r)->ssh;
    nd->punch_out = -1;
    if (pthread_create(&nd->thread, NULL, follow_main, nd) != 0)
        return cr_err_set(err, CR_ESYS, "ssh node %s: follower thread",
                          nd->n.name);
    nd->thread_up = 1;
    return 0;
}

/* ---- set-up -------------------------------------------------------------- */

/* Wait until the master's socket answers (`ssh -O check`) or the master
 * exits (the connection failed: its log says why). */
static int master_wait(cr_run *r, ssh_node *nd, cr_err *err)
{
    const char *extra[] = {"-O", "check", NULL};
    char **av = cr_ssh_argv(&nd->n, 0, extra, NULL);
    if (!av)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    int rc = CR_EUNSUP;
    for (int i = 0; i < 300; i++) { /* 15 s */
        struct stat st;
        int status;
        if (waitpid(nd->master, &status, WNOHANG) == nd->master) {
            nd->master = 0;
            cr_ledger_done(r->ledger, nd->master_lid);
            nd->master_lid = 0;
            break;
        }
        if (stat(nd->control, &st) == 0 && S_ISSOCK(st.st_mode)) {
            char detail[64];
            cr_err e;
            cr_err_clear(&e);
            if (cr_spawn_run(av, NULL, 5.0, -1, detail, sizeof detail, &e) ==
                0) {
                rc = 0;
                break;
            }
        }
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    cr_ssh_argv_free(av);
    if (rc == 0)
        return 0;
    return cr_err_set(err, CR_EUNSUP,
                      "ssh node %s (%s port %s): cannot connect (ssh's "
                      "message is in logs/ssh-%s.log)",
                      nd->n.name, nd->dest, nd->port, nd->n.name);
}

/* Set-up runs in three rounds over all nodes, so that the nodes' logins
 * overlap instead of adding up (each is a handshake, and a session runs
 * the login's shell and its rc files): node_begin starts the master,
 * node_login waits for it and starts the control shell and the clock's
 * session, node_finish measures the clock and makes the directory and the
 * follower. */
static int node_begin(cr_run *r, ssh_run *s, ssh_node *nd,
                      const cr_net_host_spec *h, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    if (cr_ssh_parse(h->ssh, nd->dest, nd->addr, nd->port, sizeof nd->addr,
                     &e) != 0)
        return cr_err_set(err, CR_EINVAL, "host %s: %s", h->name, e.msg);
    snprintf(nd->control, sizeof nd->control, "%s/ssh/%s.sock", r->dir,
             h->name);
    /* ssh binds the master's socket as <path>.<16 random chars> first;
     * sun_path holds 107 bytes. */
    if (strlen(nd->control) + 18 > 107)
        return cr_err_set(err, CR_EUNSUP,
                          "ssh node %s: the ControlPath %s is too long for a "
                          "unix socket: use a shorter --out",
                          h->name, nd->control);
    if (h->known_hosts) {
        snprintf(nd->known_hosts, sizeof nd->known_hosts, "%s", h->known_hosts);
        nd->n.strict = 1;
    } else {
        snprintf(nd->known_hosts, sizeof nd->known_hosts, "%s/ssh/known_hosts",
                 r->dir);
    }
    snprintf(nd->dir, sizeof nd->dir, "/tmp/chaosrun-%s-%s", s->runid, h->name);
    snprintf(nd->events, sizeof nd->events, "%s/events.jsonl", nd->dir);
    nd->n.name = h->name;
    nd->n.dest = nd->dest;
    nd->n.port = nd->port;
    nd->n.identity = h->identity;
    nd->n.known_hosts = nd->known_hosts;
    nd->n.sudo = h->sudo;
    nd->n.control = nd->control;
    /* 1. the master */
    const char *extra[] = {"-N", NULL};
    char **av = cr_ssh_argv(&nd->n, 1, extra, NULL);
    if (!av)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    int rc = spawn_ssh(r, nd, av, -1, &nd->master, &nd->master_lid, err);
    cr_ssh_argv_free(av);
    return rc;
}

static int node_login(cr_run *r, ssh_node *nd, cr_err *err)
{
    int rc = master_wait(r, nd, err);
    if (rc != 0)
        return rc;
    /* the control shell (its process group is the ssh client's: it dies
     * with the harness, and with the master) */
    if ((rc = ctl_start(r, nd, err)) != 0)
        return rc;
    /* 2. the clock offset's session */
    return offset_start(r, nd, &nd->off, &nd->off_in, err);
}

static int node_finish(cr_run *r, ssh_node *nd, const cr_net_host_spec *h,
                       cr_err *err)
{
    int in = nd->off_in;
    nd->off_in = -1; /* offset_measure closes it and reaps the session */
    int rc = offset_measure(nd, &nd->off, in, err);
    if (rc != 0)
        return rc;
    /* 3. the private directory, recorded first */
    char line[8192];
    if (cr_ssh_ledger_line(&nd->n, nd->dir, line + 8, sizeof line - 8) != 0)
        return cr_err_set(err, CR_EINVAL,
                          "ssh node %s: a path holds white space", h->name);
    memcpy(line, "ssh-dir ", 8);
    if ((nd->dir_lid = cr_ledger_add(r->ledger, line, err)) < 0)
        return nd->dir_lid;
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "mkdir -m 700 ", 13) ||
              cr_ssh_quote(&b, nd->dir) || cr_sbuf_add(&b, " && : > ", 8) ||
              cr_ssh_quote(&b, nd->events);
    /* The "dirs" of the services placed here, in the node's directory
     * (their CHAOSRUN_RUN_DIR; removed with it). */
    const cr_scen *sc = cr_run_scen(r);
    for (size_t i = 0; i < sc->nsvcs && !bad; i++) {
        const cr_svc_spec *sp = &sc->svcs[i];
        if (!sp->host || strcmp(sp->host, h->name) != 0 || sp->ctr)
            continue;
        for (char **d = sp->dirs; d && *d && !bad; d++)
            bad = cr_sbuf_add(&b, " && mkdir -p -m 755 ", 20) ||
                  cr_ssh_quote(&b, nd->dir) || cr_sbuf_add(&b, "/", 1) ||
                  cr_ssh_quote(&b, *d);
    }
    rc = bad ? cr_err_set(err, CR_ENOMEM, "ssh: out of memory")
             : node_run(r, nd, b.s, NULL, 0, err);
    cr_free(b.s);
    if (rc != 0)
        return rc;
    /* 4. the follower */
    return follow_start(r, nd, err);
}

int cr_run_ssh_setup(cr_run *r, cr_err *err)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    if (!h || !h->nssh)
        return 0;
    ssh_run *s = cr_calloc(1, sizeof *s);
    if (!s || !(s->v = cr_calloc(h->n, sizeof *s->v))) {
        cr_free(s);
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    }
    r->ssh = s;
    for (size_t i = 0; i < h->n; i++) {
        ssh_node *nd = &s->v[i];
        nd->pipefd = nd->evfd = nd->ctl_in = nd->ctl_out = -1;
        nd->off_in = nd->off.outfd = -1;
    }
    if (!(s->ssh = cr_spawn_which("ssh")))
        return cr_err_set(err, CR_EUNSUP,
                          "hosts: remote nodes need the ssh program "
                          "(package openssh-client)");
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    snprintf(s->runid, sizeof s->runid, "%s", prefix + 2);
    /* Qdisc handles: from a random even base, so that two runs on one
     * node (or a dead run's leftovers) do not share them. */
    s->qbase = 0xc000u + 2u * (unsigned)(cr_rng_fresh_seed() % 0x1800u);
    cr_err e;
    cr_err_clear(&e);
    int fd = cr_dir_mkdir(r->dirfd, "ssh", 0700, 1, &e);
    if (fd < 0)
        return cr_err_set(err, fd, "ssh: %s/ssh: %s", r->dir, e.msg);
    close(fd);
    json_t *jn = json_object();
    int rc = 0;
    for (size_t i = 0; i < h->n && rc == 0; i++) {
        s->n = i + 1;
        rc = node_begin(r, s, &s->v[i], &h->v[i], err);
    }
    for (size_t i = 0; i < h->n && rc == 0; i++)
        rc = node_login(r, &s->v[i], err);
    for (size_t i = 0; i < h->n && rc == 0; i++)
        rc = node_finish(r, &s->v[i], &h->v[i], err);
    if (rc != 0) {
        json_decref(jn);
        return rc;
    }
    for (size_t i = 0; i < h->n; i++) {
        ssh_node *nd = &s->v[i];
        cr_run_log(r,
                   "node %s: %s port %s, clock offset %+.6f s (round trip "
                   "%.3f ms), directory %s",
                   nd->n.name, nd->dest, nd->port, nd->offset_s,
                   nd->rtt_s * 1e3, nd->dir);
        json_object_set_new(
            jn, nd->n.name,
            json_pack("{s:s,s:s,s:s,s:f,s:f,s:s,s:s}", "ssh", nd->dest, "port",
                      nd->port, "address", nd->addr, "clock_offset_s",
                      nd->offset_s, "rtt_s", nd->rtt_s, "dir", nd->dir,
                      "host_keys",
                      nd->n.strict ? "known_hosts" : "accept-new"));
    }
    if (r->journal)
        json_object_set_new(r->journal, "ssh_nodes", jn);
    else
        json_decref(jn);
    return 0;
}

/* ---- faults: which kinds work on nodes ----------------------------------- */

int cr_run_ssh_check(cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_net_hosts *h = sc->hosts;
    if (!h || !h->nssh)
        return 0;
    /* syscall: its libfiu backend (faults/syscall/syscall_fiu.c); clock:
     * the wall clock: skew, step and drift (faults/clock.c); disk_fill
     * fills here, or on the node its "host" names. */
    static const char *const ok[] = {
        "kill",      "terminate", "pause",  "restart", "partition", "netem",
        "bandwidth", "syscall",   "clock",  "cpu",     "memory",    "pids",
        "disk_fill", "io",        "stress", NULL};
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *f = &sc->faults[i];
        int fine = 0;
        for (const char *const *k = ok; *k; k++)
            fine |= strcmp(*k, f->ops->kind) == 0;
        const char *node = NULL;
        if (f->target.service)
            for (size_t s = 0; s < sc->nsvcs; s++)
                if (strcmp(sc->svcs[s].name, f->target.service) == 0)
                    node = sc->svcs[s].host;
        /* exec without a target runs its command here, on the harness's
         * machine (the user's own ssh, kubectl, ...). */
        if (strcmp(f->ops->kind, "exec") == 0 && !f->target.service)
            fine = 1;
        /* Kinds without a target act on hosts or on the proxy. */
        if (!f->target.service && !fine)
            node = h->v[0].name;
        if (node && !fine)
            return cr_err_set(err, CR_EUNSUP,
                              "%s: fault kind %s is not supported on ssh node "
                              "%s",
                              f->path, f->ops->kind, node);
    }
    for (size_t p = 0; p < sc->nprobes; p++)
        if (sc->probes[p].host)
            return cr_err_set(err, CR_EUNSUP,
                              "probe %s: probes from inside a host are not "
                              "supported on ssh node %s",
                              sc->probes[p].name, sc->probes[p].host);
    return 0;
}

/* ---- replicas ------------------------------------------------------------ */

const char *cr_run_ssh_dir(cr_run *r, const char *host)
{
    ssh_node *nd = node_of(r, host);
    return nd ? nd->dir : NULL;
}

int cr_run_ssh_spawn_argv(cr_run *r, const cr_inst *in, char *const *env,
                          char ***argv, const char **path, cr_err *err)
{
    const cr_svc_spec *sp = in->svc->spec;
    ssh_node *nd = node_of(r, sp->host);
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "start %s: node %s not set up",
                          in->name, sp->host);
    char pidfile[400];
    snprintf(pidfile, sizeof pidfile, "%s/%s.pid", nd->dir, in->name);
    char *cmd =
        cr_ssh_service_cmd(sp->cwd ? sp->cwd : nd->dir, pidfile, env, sp->argv);
    *argv = cmd ? cr_ssh_argv(&nd->n, 0, NULL, cmd) : NULL;
    cr_free(cmd);
    *path = state(r)->ssh;
    return *argv ? 0
                 : cr_err_set(err, CR_ENOMEM, "start %s: out of memory",
                              in->name);
}

int cr_run_ssh_signal(cr_run *r, const cr_inst *in, int sig, cr_err *err)
{
    ssh_node *nd = node_of(r, in->svc->spec->host);
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "signal %s: no node", in->name);
    char pidfile[400];
    snprintf(pidfile, sizeof pidfile, "%s/%s.pid", nd->dir, in->name);
    const char *name = cr_signal_name(sig); /* "SIGKILL" */
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    char *cmd = cr_ssh_signal_cmd(pidfile, name);
    if (!cmd)
        return cr_err_set(err, CR_ENOMEM, "signal %s: out of memory", in->name);
    int rc = node_run(r, nd, cmd, NULL, 0, err);
    cr_free(cmd);
    return rc;
}

const char *cr_run_ssh_svc_node(cr_run *r, const char *service)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_net_hosts *h = sc->hosts;
    const cr_svc_spec *sp = cr_scen_service(sc, service);
    return sp && h && h->nssh && sp->host && !sp->ctr ? sp->host : NULL;
}

double cr_run_ssh_svc_offset(cr_run *r, const char *service)
{
    const char *host = cr_run_ssh_svc_node(r, service);
    ssh_node *nd = host ? node_of(r, host) : NULL;
    return nd ? nd->offset_s : 0;
}

const char *cr_run_ssh_svc_dir(cr_run *r, const char *service)
{
    const char *host = cr_run_ssh_svc_node(r, service);
    return host ? cr_run_ssh_dir(r, host) : NULL;
}

int cr_run_ssh_node_exec(cr_run *r, const char *host, const char *cmd,
                         char *out, size_t n, cr_err *err)
{
    ssh_node *nd = node_of(r, host);
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "%s: no ssh node that is set up",
                          host);
    return node_run(r, nd, cmd, out, n, err);
}

int cr_run_ssh_exec(cr_run *r, const char *service, const cr_inst *in,
                    const char *cmd, char *out, size_t n, cr_err *err)
{
    const char *host = cr_run_ssh_svc_node(r, service);
    ssh_node *nd = host ? node_of(r, host) : NULL;
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "%s: not on a node that is set up",
                          service);
    cr_sbuf b = {0};
    int bad = 0;
    if (in) {
        char pidfile[400];
        snprintf(pidfile, sizeof pidfile, "%s/%s.pid", nd->dir, in->name);
        bad |= cr_sbuf_add(&b, "g=$(cat ", 8) || cr_ssh_quote(&b, pidfile) ||
               cr_sbuf_add(&b, ") || exit 1; ", 13);
    }
    bad |= cr_sbuf_add(&b, cmd, strlen(cmd));
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    }
    int rc = node_run(r, nd, b.s, out, n, err);
    cr_free(b.s);
    return rc;
}

/* ---- the replicas' cgroups on nodes ------------------------------------ */

/* The remote command making replica inst's cgroup of controller ctl: a v1
 * hierarchy of the controller, else cgroup v2 offering it (enabled in the
 * subtree of the mount's root and of the run's parent); below a run-owned
 * parent chaosrun-<runid>-<node>.  The node's directory lists the parent
 * and the cgroup in "cgroups" (removed by cr_ssh_dir_cleanup_cmd, at the
 * end and after a crash) and the cgroup in "<inst>.pid.cgroups" (joined by
 * every start of the replica before its program runs: the wrapper of
 * cr_ssh_service_cmd); a running replica's processes are moved in.  Prints
 * "<1|2> <path>". */
static char *cgroup_make_cmd(const ssh_run *s, const ssh_node *nd,
                             const char *inst, const char *ctl)
{
    char parent[128], list[400], join[400];
    snprintf(parent, sizeof parent, "chaosrun-%s-%s", s->runid, nd->n.name);
    snprintf(list, sizeof list, "%s/cgroups", nd->dir);
    snprintf(join, sizeof join, "%s/%s.pid.cgroups", nd->dir, inst);
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "C=", 2) || cr_ssh_quote(&b, ctl) ||
              cr_sbuf_add(&b, "; P=", 4) || cr_ssh_quote(&b, parent) ||
              cr_sbuf_add(&b, "; I=", 4) || cr_ssh_quote(&b, inst) ||
              cr_sbuf_add(&b, "; L=", 4) || cr_ssh_quote(&b, list) ||
              cr_sbuf_add(&b, "; J=", 4) || cr_ssh_quote(&b, join) ||
              /* v2's name of the controller (v1's blkio is v2's io; the
               * freezer is no controller there: every cgroup has
               * cgroup.freeze) */
              cr_sbuf_add(&b, "; C2=", 5) ||
              cr_ssh_quote(&b, strcmp(ctl, "blkio") == 0     ? "io"
                               : strcmp(ctl, "freezer") == 0 ? ""
                                                             : ctl);
    static const char body[] =
        "; v=1; m=$(awk -v c=\"$C\" '$3 == \"cgroup\" { n = split($4, o, "
        "\",\"); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } "
        "}' /proc/mounts); if [ -z \"$m\" ]; then v=2; m=$(awk '$3 == "
        "\"cgroup2\" { print $2; exit }' /proc/mounts); if [ -z \"$m\" ] || "
        "{ [ -n \"$C2\" ] && ! grep -qw \"$C2\" \"$m/cgroup.controllers\" "
        "2>/dev/null; }; then echo "
        "\"no $C controller (cgroup v1 or v2) on this node\"; exit 1; fi; fi; "
        "p=\"$m/$P\"; c=\"$p/$I\"; grep -qx \"$p\" \"$L\" 2>/dev/null || echo "
        "\"$p\" >> \"$L\"; echo \"$c\" >> \"$L\"; mkdir -p \"$c\" 2>&1 || exit "
        "1; if [ $v = 2 ] && [ -n \"$C2\" ]; then echo \"+$C2\" > "
        "\"$m/cgroup.subtree_control\" "
        "2>&1 && echo \"+$C2\" > \"$p/cgroup.subtree_control\" 2>&1 || exit 1; "
        "fi; echo \"$c\" >> \"$J\"; if g=$(cat \"${J%.cgroups}\" "
        "2>/dev/null) && [ -n \"$g\" ]; then for t in $(pgrep -g \"$g\"); do "
        "echo \"$t\" > \"$c/cgroup.procs\" 2>/dev/null; done; fi; echo \"$v "
        "$c\"";
    bad |= cr_sbuf_add(&b, body, sizeof body - 1);
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* The cgroup of controller ctl for replica in (or, with in NULL, the
 * run's own cgroup `own` on node nd): found, or made on the node at the
 * first call.  Each is allocated on its own, so *path stays valid to the
 * end of the run. */
static int cg_get(cr_run *r, ssh_node *nd, const cr_inst *in, const char *own,
                  const char *ctl, const char **path, int *v2, cr_err *err)
{
    ssh_run *s = state(r);
    const char *who = in ? cr_inst_name(in) : own;
    for (size_t i = 0; i < s->ncgs; i++) {
        const ssh_cg *c = s->cgs[i];
        if (c->in == in && strcmp(c->ctl, ctl) == 0 &&
            (in || strcmp(c->own, own) == 0)) {
            *path = c->path;
            *v2 = c->v2;
            return 0;
        }
    }
    ssh_cg **nv = cr_realloc(s->cgs, (s->ncgs + 1) * sizeof *nv);
    if (!nv)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    s->cgs = nv;
    /* The run's own as a replica's (own has no '.', a replica's name
     * has): listed in "cgroups" and in "<own>.pid.cgroups", which whoever
     * joins it reads. */
    char *cmd = cgroup_make_cmd(s, nd, who, ctl);
    char out[1024] = "", p[512];
    int v = 0;
    cr_err e;
    cr_err_clear(&e);
    int rc = cmd ? node_run(r, nd, cmd, out, sizeof out, &e)
                 : cr_err_set(&e, CR_ENOMEM, "ssh: out of memory");
    cr_free(cmd);
    if (rc == 0 && (sscanf(out, "%d %511s", &v, p) != 2 || (v != 1 && v != 2)))
        rc = cr_err_set(&e, CR_EPROTO, "unexpected answer '%.200s'", out);
    /* (what the script said, not the script: it is long) */
    out[strcspn(out, "\n")] = '\0';
    if (rc != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "%s: ssh node %s cannot make a %s cgroup: %s", who,
                          nd->n.name, ctl, out[0] ? out : e.msg);
    ssh_cg *g = cr_calloc(1, sizeof *g);
    if (!g)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    g->in = in;
    snprintf(g->own, sizeof g->own, "%s", in ? "" : own);
    snprintf(g->ctl, sizeof g->ctl, "%s", ctl);
    snprintf(g->path, sizeof g->path, "%s", p);
    g->v2 = v == 2;
    s->cgs[s->ncgs++] = g;
    *path = g->path;
    *v2 = g->v2;
    return 0;
}

int cr_run_ssh_cgroup(cr_run *r, const cr_inst *in, const char *ctl,
                      const char **path, int *v2, cr_err *err)
{
    const char *host = cr_run_ssh_svc_node(r, cr_inst_service(in));
    ssh_node *nd = host ? node_of(r, host) : NULL;
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "%s: not on a node that is set up",
                          cr_inst_name(in));
    return cg_get(r, nd, in, NULL, ctl, path, v2, err);
}

int cr_run_ssh_freeze(cr_run *r, const cr_inst *in, int frozen,
                      double timeout_s, cr_err *err)
{
    const char *cg;
    int v2;
    int rc = cr_run_ssh_cgroup(r, in, "freezer", &cg, &v2, err);
    if (rc != 0)
        return rc;
    /* Written, then read until the kernel says the whole cgroup is in
     * that state (a freeze completes only once every task stopped). */
    cr_sbuf q = {0};
    if (cr_ssh_quote(&q, cg) != 0)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    char *cmd = cr_asprintf(
        "c=%s; n=%d; %s; i=0; until %s; do i=$((i + 1)); [ $i -lt $n ] "
        "|| { echo 'not %s within %.1f s'; exit 1; }; sleep 0.01; done",
        q.s, (int)(timeout_s * 100),
        v2 ? (frozen ? "echo 1 > \"$c/cgroup.freeze\""
                     : "echo 0 > \"$c/cgroup.freeze\"")
           : (frozen ? "echo FROZEN > \"$c/freezer.state\""
                     : "echo THAWED > \"$c/freezer.state\""),
        v2 ? (frozen ? "grep -qx 'frozen 1' \"$c/cgroup.events\""
                     : "grep -qx 'frozen 0' \"$c/cgroup.events\"")
           : (frozen ? "[ \"$(cat \"$c/freezer.state\")\" = FROZEN ]"
                     : "[ \"$(cat \"$c/freezer.state\")\" = THAWED ]"),
        frozen ? "frozen" : "thawed", timeout_s);
    cr_free(q.s);
    if (!cmd)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    rc = cr_run_ssh_exec(r, cr_inst_service(in), NULL, cmd, NULL, 0, err);
    cr_free(cmd);
    ssh_run *s = state(r);
    for (size_t i = 0; s && i < s->ncgs; i++)
        if (s->cgs[i]->in == in && strcmp(s->cgs[i]->ctl, "freezer") == 0)
            s->cgs[i]->frozen = frozen ? 1 : rc == 0 ? 0 : s->cgs[i]->frozen;
    return rc;
}

void cr_run_ssh_thaw_inst(cr_run *r, const cr_inst *in)
{
    ssh_run *s = state(r);
    for (size_t i = 0; s && i < s->ncgs; i++)
        if (s->cgs[i]->in == in && s->cgs[i]->frozen) {
            cr_err e;
            cr_err_clear(&e);
            if (cr_run_ssh_freeze(r, in, 0, 5.0, &e) != 0)
                cr_run_journal_log(r, e.msg);
        }
}

int cr_run_ssh_own_cgroup(cr_run *r, const char *service, const char *name,
                          const char *ctl, const char **path, int *v2,
                          cr_err *err)
{
    const char *host = cr_run_ssh_svc_node(r, service);
    ssh_node *nd = host ? node_of(r, host) : NULL;
    if (!nd)
        return cr_err_set(err, CR_ESTATE, "%s: not on a node that is set up",
                          service);
    if (!*name || strlen(name) >= sizeof((ssh_cg *)0)->own ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") != strlen(name))
        return cr_err_set(err, CR_EINVAL, "cgroup name '%s'", name);
    return cg_get(r, nd, NULL, name, ctl, path, v2, err);
}

/* ---- what faults make on nodes ------------------------------------------ */

/* What one fault occurrence made on nodes: per node a ledger line and the
 * object (an nftables table, a qdisc handle in hex), and the remote
 * command that removes such an object. */
typedef struct ssh_made {
    size_t n;
    struct {
        ssh_node *nd;
        int lid;
        char obj[48];
    } v[CR_NET_MAX_HOSTS];
    char *(*undo_cmd)(const char *obj);
} ssh_made;

static ssh_made *made_new(char *(*undo_cmd)(const char *obj))
{
    ssh_made *c = cr_calloc(1, sizeof *c);
    if (c)
        c->undo_cmd = undo_cmd;
    return c;
}

/* Record obj on nd in the ledger ("<kind> <node line> <obj>") before it is
 * made; its slot in c, or a code with err set. */
static int made_record(cr_run *r, ssh_made *c, ssh_node *nd, const char *kind,
                       const char *obj, cr_err *err)
{
    char line[8192];
    size_t k = strlen(kind);
    if (c->n >= CR_NET_MAX_HOSTS || k + 2 >= sizeof line)
        return cr_err_set(err, CR_EINVAL, "ssh: too many nodes");
    memcpy(line, kind, k);
    line[k++] = ' ';
    if (cr_ssh_ledger_line(&nd->n, obj, line + k, sizeof line - k) != 0)
        return cr_err_set(err, CR_EINVAL, "ssh: bad node line");
    int lid = cr_ledger_add(r->ledger, line, err);
    if (lid < 0)
        return lid;
    size_t i = c->n++;
    c->v[i].nd = nd;
    c->v[i].lid = lid;
    snprintf(c->v[i].obj, sizeof c->v[i].obj, "%s", obj);
    return (int)i;
}

/* Remove everything c recorded, on all its nodes at once; what could not
 * be removed stays in c (and in the ledger) for a later call.  Frees c
 * once nothing is left. */
static int made_revert(cr_run *r, ssh_made *c, cr_err *err)
{
    ssh_node *nds[CR_NET_MAX_HOSTS];
    char *cmds[CR_NET_MAX_HOSTS];
    int ok[CR_NET_MAX_HOSTS];
    size_t n = c ? c->n : 0;
    for (size_t k = 0; k < n; k++) {
        nds[k] = c->v[k].nd;
        cmds[k] = c->undo_cmd(c->v[k].obj);
    }
    int rc = nodes_run(r, nds, cmds, n, ok, err);
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        cr_free(cmds[k]);
        if (ok[k])
            cr_ledger_done(r->ledger, c->v[k].lid);
        else
            c->v[kept++] = c->v[k];
    }
    if (c)
        c->n = kept;
    if (rc != 0)
        return rc;
    cr_free(c);
    return 0;
}

/* ---- partitions ---------------------------------------------------------- */

/* The remote command loading ruleset. */
static char *nft_load_cmd(const char *ruleset)
{
    cr_sbuf b = {0};
    if (!ruleset || cr_sbuf_add(&b, "printf '%s' ", 12) ||
        cr_ssh_quote(&b, ruleset) || cr_sbuf_add(&b, " | nft -f -", 11)) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* Declaring the table first makes the delete succeed when it is already
 * gone (one transaction). */
static char *nft_delete_cmd(const char *table)
{
    return cr_asprintf("printf 'table inet %s\\ndelete table inet %s\\n' | "
                       "nft -f -",
                       table, table);
}

int cr_run_ssh_partition(cr_run *r, const char **const *groups, size_t ngroups,
                         int one_way, void **state_out, cr_err *err)
{
    ssh_run *s = state(r);
    ssh_made *c = made_new(nft_delete_cmd);
    if (!c)
        return cr_err_set(err, CR_ENOMEM, "partition: out of memory");
    *state_out = c;
    ssh_node *nds[CR_NET_MAX_HOSTS];
    char *cmds[CR_NET_MAX_HOSTS];
    int ok[CR_NET_MAX_HOSTS];
    int rc = 0;
    /* Every table recorded first, then all loaded at once. */
    for (size_t g = 0; g < ngroups && rc == 0; g++) {
        for (const char **x = groups[g]; *x && rc == 0; x++) {
            ssh_node *nd = node_of(r, *x);
            const char *addrs[CR_NET_MAX_HOSTS];
            size_t na = 0;
            /* Drop what comes from the other groups (one-way: only from
             * the earlier ones). */
            for (size_t o = 0; o < ngroups; o++) {
                if (o == g || (one_way && o > g))
                    continue;
                for (const char **y = groups[o]; *y; y++) {
                    ssh_node *p = node_of(r, *y);
                    if (p && na < CR_NET_MAX_HOSTS)
                        addrs[na++] = p->addr;
                }
            }
            if (!nd || na == 0)
                continue;
            char table[48];
            snprintf(table, sizeof table, "chaosrun-%s-%u", s->runid,
                     s->tables++);
            int k = made_record(r, c, nd, "ssh-nft", table, err);
            if (k < 0) {
                rc = k;
                break;
            }
            char *rs = cr_ssh_nft_ruleset(table, addrs, na);
            cmds[k] = nft_load_cmd(rs);
            cr_free(rs);
            nds[k] = nd;
        }
    }
    if (rc == 0)
        rc = nodes_run(r, nds, cmds, c->n, ok, err);
    for (size_t k = 0; k < c->n; k++)
        cr_free(cmds[k]);
    return rc; /* on failure the engine reverts what was recorded */
}

int cr_run_ssh_partition_revert(cr_run *r, void *st, cr_err *err)
{
    return made_revert(r, st, err);
}

/* ---- traffic shaping: netem and bandwidth ------------------------------- */

/* The senders of flows, each once, with the numeric addresses of their
 * receivers; CR_EUNSUP when a node is named by a host name (tc's u32
 * needs the address). */
static int shape_plan(cr_run *r, const char *const (*flows)[2], size_t n,
                      ssh_node **snd, const char *(*to)[CR_NET_MAX_HOSTS],
                      size_t *nto, size_t *nsnd, cr_err *err)
{
    *nsnd = 0;
    for (size_t f = 0; f < n; f++) {
        ssh_node *a = node_of(r, flows[f][0]), *b = node_of(r, flows[f][1]);
        if (!a || !b || a == b)
            continue;
        struct in6_addr bin;
        if (inet_pton(AF_INET, b->addr, &bin) != 1 &&
            inet_pton(AF_INET6, b->addr, &bin) != 1)
            return cr_err_set(err, CR_EUNSUP,
                              "ssh node %s is reached by the name \"%s\": "
                              "netem and bandwidth on nodes need its numeric "
                              "address in \"ssh\"",
                              b->n.name, b->addr);
        size_t k = 0;
        while (k < *nsnd && snd[k] != a)
            k++;
        if (k == *nsnd) {
            if (k >= CR_NET_MAX_HOSTS)
                continue;
            snd[k] = a;
            nto[k] = 0;
            (*nsnd)++;
        }
        int dup = 0;
        for (size_t i = 0; i < nto[k]; i++)
            dup |= strcmp(to[k][i], b->addr) == 0;
        if (!dup && nto[k] < CR_NET_MAX_HOSTS)
            to[k][nto[k]++] = b->addr;
    }
    return 0;
}

int cr_run_ssh_qdisc_probe(cr_run *r, const char *const (*flows)[2], size_t n,
                           const char *what, const char *child, cr_err *err)
{
    ssh_node *snd[CR_NET_MAX_HOSTS];
    const char *to[CR_NET_MAX_HOSTS][CR_NET_MAX_HOSTS];
    size_t nto[CR_NET_MAX_HOSTS], nsnd = 0;
    int rc = shape_plan(r, flows, n, snd, to, nto, &nsnd, err);
    char *cmd = cr_ssh_tc_probe_cmd(child);
    if (rc == 0 && !cmd)
        rc = cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    for (size_t k = 0; k < nsnd && rc == 0; k++) {
        char out[512];
        cr_err e;
        cr_err_clear(&e);
        out[0] = '\0';
        if (node_run(r, snd[k], cmd, out, sizeof out, &e) == 0)
            continue;
        size_t len = strlen(out);
        while (len && out[len - 1] == '\n')
            out[--len] = '\0';
        for (char *c = out; *c; c++) /* tc's lines on one */
            if (*c == '\n')
                *c = ' ';
        rc = cr_err_set(err, CR_EUNSUP,
                        "%s: ssh node %s cannot shape traffic with `tc qdisc "
                        "add ... %s`: %s",
                        what, snd[k]->n.name, child, len ? out : e.msg);
    }
    cr_free(cmd);
    return rc;
}

/* The clean-up of a qdisc handle written in hex. */
static char *tc_delete_cmd(const char *obj)
{
    return cr_ssh_tc_cleanup_cmd((unsigned)strtoul(obj, NULL, 16));
}

int cr_run_ssh_qdisc(cr_run *r, const char *const (*flows)[2], size_t n,
                     const char *child, void **state_out, cr_err *err)
{
    ssh_run *s = state(r);
    if (!s)
        return cr_err_set(err, CR_ESTATE, "ssh: the nodes are not set up");
    ssh_made *c = made_new(tc_delete_cmd);
    if (!c)
        return cr_err_set(err, CR_ENOMEM, "ssh: out of memory");
    *state_out = c;
    ssh_node *snd[CR_NET_MAX_HOSTS];
    const char *to[CR_NET_MAX_HOSTS][CR_NET_MAX_HOSTS];
    size_t nto[CR_NET_MAX_HOSTS], nsnd = 0;
    char *cmds[CR_NET_MAX_HOSTS];
    int ok[CR_NET_MAX_HOSTS];
    int rc = shape_plan(r, flows, n, snd, to, nto, &nsnd, err);
    /* Every handle recorded first, then all loaded at once. */
    for (size_t k = 0; k < nsnd && rc == 0; k++) {
        unsigned h = s->qbase + 2u * s->qdiscs;
        if (h >= 0xfffe) {
            rc = cr_err_set(err, CR_EUNSUP,
                            "ssh: too many shaping faults in one run");
            break;
        }
        char obj[8];
        snprintf(obj, sizeof obj, "%04x", h);
        int i = made_record(r, c, snd[k], "ssh-tc", obj, err);
        if (i < 0) {
            rc = i;
            break;
        }
        s->qdiscs++;
        cmds[i] = cr_ssh_tc_apply_cmd(h, child, to[k], nto[k]);
    }
    if (rc == 0)
        rc = nodes_run(r, snd, cmds, c->n, ok, err);
    for (size_t k = 0; k < c->n; k++)
        cr_free(cmds[k]);
    return rc; /* on failure the engine reverts what was recorded */
}

int cr_run_ssh_qdisc_revert(cr_run *r, void *st, cr_err *err)
{
    return made_revert(r, st, err);
}

/* ---- the end ------------------------------------------------------------- */

void cr_run_ssh_drain(cr_run *r)
{
    ssh_run *s = state(r);
    for (size_t i = 0; s && i < s->n; i++) {
        ssh_node *nd = &s->v[i];
        char out[64];
        cr_err e;
        cr_err_clear(&e);
        if (!nd->thread_up || !nd->master)
            continue;
        cr_sbuf b = {0};
        if (cr_sbuf_add(&b, "stat -c %s ", 11) || cr_ssh_quote(&b, nd->events))
            continue;
        int rc = node_run(r, nd, b.s, out, sizeof out, &e);
        cr_free(b.s);
        if (rc != 0) {
            cr_run_journal_log(r, e.msg);
            continue;
        }
        unsigned long long size = strtoull(out, NULL, 10);
        /* Up to 5 s for the last lines to come over the connection. */
        for (int k = 0; k < 500 && atomic_load(&nd->fwd) < size; k++) {
            struct timespec d = {0, 10 * 1000 * 1000};
            nanosleep(&d, NULL);
        }
        if (atomic_load(&nd->fwd) < size) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "ssh node %s: %llu of %llu bytes of its event file "
                     "arrived",
                     nd->n.name, (unsigned long long)atomic_load(&nd->fwd),
                     size);
            cr_run_journal_log(r, msg);
        }
    }
}

/* What the follower cut of the node's event file (journal "ssh_nodes").
 * The thread has ended. */
static void node_rotation_journal(cr_run *r, ssh_node *nd)
{
    json_t *o =
        json_object_get(json_object_get(r->journal, "ssh_nodes"), nd->n.name);
    if (!nd->rot_max || !o)
        return;
    json_object_set_new(o, "events_punched_bytes",
                        json_integer((json_int_t)nd->punched));
    if (!nd->punch_failed)
        return;
    json_object_set_new(o, "events_rotate_error", json_string(nd->punch_err));
    char msg[512];
    snprintf(msg, sizeof msg,
             "rotation of node %s's event file %s stopped: fallocate "
             "--punch-hole: %s",
             nd->n.name, nd->events, nd->punch_err);
    cr_run_journal_log(r, msg);
}

void cr_run_ssh_teardown(cr_run *r)
{
    ssh_run *s = state(r);
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        ssh_node *nd = &s->v[i];
        stop_group(r, &nd->follower, &nd->follower_lid, SIGKILL);
        if (nd->thread_up)
            pthread_join(nd->thread, NULL);
        node_rotation_journal(r, nd);
        if (nd->pipefd >= 0)
            close(nd->pipefd);
        if (nd->evfd >= 0)
            close(nd->evfd);
        if (nd->dir_lid > 0 && nd->master) {
            cr_err e;
            cr_err_clear(&e);
            /* Through the master: the same command as `chaosrun cleanup`. */
            char *cmd = cr_ssh_dir_cleanup_cmd(nd->dir);
            int rc = !cmd ? CR_ENOMEM : node_run(r, nd, cmd, NULL, 0, &e);
            cr_free(cmd);
            if (rc == 0)
                cr_ledger_done(r->ledger, nd->dir_lid);
            else
                cr_run_journal_log(r, e.msg);
        }
        ctl_close(nd);
        /* The clock's session, when set-up failed before it was read. */
        if (nd->off_in >= 0)
            close(nd->off_in);
        if (nd->off.outfd >= 0)
            close(nd->off.outfd);
        if (nd->off.pid > 0) {
            int st;
            cr_err e;
            cr_err_clear(&e);
            kill(-nd->off.pid, SIGKILL);
            cr_spawn_wait(nd->off.pid, 1.0, &st, &e);
        }
        stop_group(r, &nd->master, &nd->master_lid, SIGTERM);
    }
    for (size_t i = 0; i < s->n; i++)
        unlink(s->v[i].control); /* a master killed leaves its socket */
    cr_free(s->ssh);
    for (size_t i = 0; i < s->ncgs; i++)
        cr_free(s->cgs[i]);
    cr_free(s->cgs);
    cr_free(s->v);
    cr_free(s);
    r->ssh = NULL;
}
