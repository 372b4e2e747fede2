/* syscall_fiu: the libfiu backend of the `syscall` fault kind.
 *
 * prepare() starts every replica of a targeted service with
 * fiu_run_preload.so and fiu_posix_preload.so in LD_PRELOAD, libfiu's remote
 * control on FIFOs <run_dir>/fiu/<service>/ctl-<pid>.in/.out (FIU_CTRL_FIFO)
 * and a per-replica FIU_PRNG_SEED derived from the run seed.  Services that
 * no libfiu-backed fault targets are started as usual and pay nothing.
 * apply() enables the failure points in every process of each targeted
 * replica (every process of its process group that has a remote control: a
 * wrapper shell and its children too) by speaking libfiu's protocol
 * (cr_fiu.h); revert() disables them; on_spawn() arms a replica restarted
 * inside the window.  What was armed, when, and each reply go into
 * act->details.
 *
 * On an ssh node (the service's host has "ssh") the same is done there:
 * prepare() checks the node has libfiu's preload libraries, fiu-ctrl and
 * pgrep, and points LD_PRELOAD at the node's libraries and FIU_CTRL_FIFO
 * into the node's directory; apply(), revert() and on_spawn() run
 * libfiu's own fiu-ctrl over ssh on every process of the replica's group
 * that has a remote control (node_arm), one command for the replica.
 *
 * Limits, stated in faults/README.md: LD_PRELOAD cannot reach statically
 * linked programs nor raw syscall(2) or inline system calls; libfiu cannot
 * make calls slow, and cannot fail "the first N calls" for N > 1 (count: 1
 * is FIU_ONETIME). */
#include "syscall_internal.h"
#include "cr_fiu.h"
#include "cr_fiupt.h"

#include "base/cr_alloc.h"
#include "net/cr_ssh.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYS_OPEN_TIMEOUT_S 1.0 /* FIFO to appear / thread to listen */
#define SYS_CMD_TIMEOUT_S  2.0 /* one batch of replies (~30 us each) */

/* One process we armed. */
typedef struct sys_armed {
    cr_inst *inst;
    pid_t leader; /* the replica's pid (process group) when armed */
    pid_t pid;
} sys_armed;

typedef struct sys_state {
    sys_armed *v;
    size_t n, cap;
} sys_state;

static const char *fiu_dir(void)
{
    const char *d = getenv("CHAOSRUN_FIU_DIR");
    return d && *d ? d : CR_FIU_DIR;
}

int sys_fiu_check(cr_fault *f, cr_run *r, cr_err *err)
{
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof a, "%s/fiu_run_preload.so", fiu_dir());
    snprintf(b, sizeof b, "%s/fiu_posix_preload.so", fiu_dir());
    if (access(a, R_OK) != 0 || access(b, R_OK) != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: syscall faults through libfiu need its "
                          "preload libraries fiu_run_preload.so and "
                          "fiu_posix_preload.so, not found in %s: install the "
                          "Debian packages fiu-utils and libfiu-dev (or set "
                          "CHAOSRUN_FIU_DIR)",
                          f->name, fiu_dir());
    return CR_OK;
}

/* ---- prepare: preload, remote control, seeds ---------------------------- */

/* The remote-control FIFOs of a service's processes are
 * fiu/<service>/ctl-<pid>.in and .out: fiu/ is the run's (cr_run_tmpdir),
 * fiu/<service>/ is made for the service's processes to create them in
 * (owned by the service's user when it runs as another one). */
static void fifo_prefix(cr_run *r, const char *service, char *buf, size_t n)
{
    const char *node_dir = cr_run_ssh_svc_dir(r, service);
    if (node_dir) /* on its ssh node: in the node's directory */
        snprintf(buf, n, "%s/fiu-%s-ctl", node_dir, service);
    else
        snprintf(buf, n, "%s/fiu/%s/ctl", cr_run_dir(r), service);
}

/* fiu/<service> of the run directory, opened without following links. */
static int fifo_dir(cr_run *r, const char *service)
{
    int fiu = openat(cr_run_dirfd(r), "fiu",
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fiu < 0)
        return -1;
    int d =
        openat(fiu, service, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fiu);
    return d;
}

/* libfiu reads FIU_PRNG_SEED with atoi(): keep it a positive int. */
static unsigned prng_seed(cr_run *r, const char *service, int replica)
{
    char label[CR_PATH_MAX + 32];
    snprintf(label, sizeof label, "fiu:%s.%d", service, replica);
    return (unsigned)(cr_rng_mix(cr_run_seed(r), label) % 2147483647u);
}

/* LD_PRELOAD (after one the service already has: base), FIU_CTRL_FIFO
 * and each replica's FIU_PRNG_SEED. */
static int set_env(cr_fault *f, cr_run *r, const cr_svc_spec *sp,
                   const char *base, cr_err *err)
{
    char prefix[PATH_MAX], val[PATH_MAX * 3];
    snprintf(val, sizeof val,
             "%s%s%s/fiu_run_preload.so %s/fiu_posix_preload.so",
             base && *base ? base : "", base && *base ? " " : "", fiu_dir(),
             fiu_dir());
    if (cr_run_setenv(r, sp->name, "LD_PRELOAD", val, err))
        return err->code;
    fifo_prefix(r, sp->name, prefix, sizeof prefix);
    if (cr_run_setenv(r, sp->name, "FIU_CTRL_FIFO", prefix, err))
        return err->code;
    for (int i = 0; i < sp->replicas; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "%u", prng_seed(r, sp->name, i));
        if (cr_run_setenv_inst(r, sp->name, i, "FIU_PRNG_SEED", seed, err))
            return err->code;
    }
    cr_run_log(r, "syscall: %s runs under libfiu (%s), remote control %s-<pid>",
               sp->name, fiu_dir(), prefix);
    (void)f;
    return CR_OK;
}

/* On an ssh node: what libfiu needs there, then the environment (the
 * node's environment is the service's own, not the harness's). */
static int node_prepare(cr_fault *f, cr_run *r, const cr_svc_spec *sp,
                        cr_err *err)
{
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "d=", 2) || cr_ssh_quote(&b, fiu_dir());
    static const char rest[] =
        "; [ -r \"$d/fiu_run_preload.so\" ] && [ -r "
        "\"$d/fiu_posix_preload.so\" ] || { echo \"no libfiu preload "
        "libraries in $d (packages fiu-utils, libfiu-dev)\"; exit 1; }; "
        "command -v fiu-ctrl >/dev/null || { echo 'no fiu-ctrl (package "
        "fiu-utils)'; exit 1; }; command -v pgrep >/dev/null || { echo 'no "
        "pgrep (package procps)'; exit 1; }";
    bad |= cr_sbuf_add(&b, rest, sizeof rest - 1);
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    }
    char out[512] = "";
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_run_ssh_exec(r, sp->name, NULL, b.s, out, sizeof out, &e);
    cr_free(b.s);
    out[strcspn(out, "\n")] = '\0';
    if (rc != 0)
        return cr_err_set(
            err, CR_EUNSUP, "fault %s: ssh node %s cannot run libfiu: %s",
            f->name, cr_run_ssh_svc_node(r, sp->name), out[0] ? out : e.msg);
    const char *base = NULL;
    for (char **e2 = sp->env; e2 && *e2; e2++)
        if (strncmp(*e2, "LD_PRELOAD=", 11) == 0)
            base = *e2 + 11;
    return set_env(f, r, sp, base, err);
}

int sys_fiu_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_svc_spec *sp = cr_scen_service(sc, f->target.service);
    if (!sp)
        return cr_err_set(err, CR_EINVAL, "fault %s: no service '%s'", f->name,
                          f->target.service);
    /* Several syscall faults on one service: the first one sets it up. */
    for (size_t i = 0; i < sc->nfaults && &sc->faults[i] != f; i++)
        if (sys_uses(&sc->faults[i], SYS_LIBFIU) &&
            strcmp(sc->faults[i].target.service, sp->name) == 0)
            return CR_OK;
    if (cr_run_ssh_svc_node(r, sp->name))
        return node_prepare(f, r, sp, err);
    int first_on_run = 1;
    for (size_t i = 0; i < sc->nfaults && &sc->faults[i] != f; i++)
        if (sys_uses(&sc->faults[i], SYS_LIBFIU) &&
            !cr_run_ssh_svc_node(r, sc->faults[i].target.service))
            first_on_run = 0; /* fiu/ of the run is made */
    /* The FIFOs are made by the preload in each child; the directory
     * holding them is the run's, removed at its end (and by cleanup). */
    int fiu = first_on_run
                  ? cr_run_tmpdir(r, "fiu", 0755, err)
                  : openat(cr_run_dirfd(r), "fiu",
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fiu < 0)
        return first_on_run
                   ? fiu
                   : cr_err_sys(err, CR_ESYS, errno, "fault %s: fiu/", f->name);
    int mk = mkdirat(fiu, sp->name, 0700);
    int mk_errno = errno;
    uid_t uid;
    gid_t gid;
    /* A service running as another user makes its FIFOs there. */
    if (mk == 0 && cr_run_svc_owner(r, sp->name, &uid, &gid) &&
        fchownat(fiu, sp->name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        mk = -1;
        mk_errno = errno;
    }
    if (!first_on_run)
        close(fiu);
    if (mk != 0)
        return cr_err_sys(err, CR_ESYS, mk_errno, "fault %s: mkdir fiu/%s",
                          f->name, sp->name);
    /* Keep a preload the scenario (or our own environment) already has. */
    const char *base = cr_run_getenv(r, sp->name, "LD_PRELOAD");
    for (char **e = sp->env; !base && e && *e; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
            base = *e + 11;
    if (!base)
        base = getenv("LD_PRELOAD");
    return set_env(f, r, sp, base, err);
}

static pid_t proc_pgid(pid_t pid)
{
    pid_t g = getpgid(pid);
    return g < 0 ? 0 : g;
}

/* pids of the process group of `leader` that have a remote control FIFO
 * (the leader first).  Returns the count (at most max). */
static size_t group_pids(cr_run *r, const char *service, pid_t leader,
                         pid_t *out, size_t max)
{
    const char *pre = "ctl-";
    size_t n = 0;
    out[n++] = leader;
    int dfd = fifo_dir(r, service);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return n;
    }
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t pl = strlen(pre);
        if (strncmp(de->d_name, pre, pl) != 0)
            continue;
        char *end;
        long pid = strtol(de->d_name + pl, &end, 10);
        if (pid <= 0 || strcmp(end, ".in") != 0 || pid == leader)
            continue;
        if (proc_pgid((pid_t)pid) == leader)
            out[n++] = (pid_t)pid;
    }
    closedir(d);
    return n;
}

/* Send the commands for every point to one process, in one batch;
 * replies into `replies` (object point -> reply).  Returns 0 when every
 * reply was 0. */
static int send_all(cr_fault *f, cr_run *r, pid_t pid, int enable,
                    double open_timeout, json_t *replies, int *refused,
                    cr_err *err)
{
    const sys_spec *s = f->priv;
    char prefix[PATH_MAX];
    cr_fiu_conn *c = NULL;
    char(*cmd)[CR_FIU_MAX_LINE] = cr_calloc(s->npoints, sizeof *cmd);
    const char **lines = cr_calloc(s->npoints, sizeof *lines);
    int *rep = cr_calloc(s->npoints, sizeof *rep);
    int rc = CR_OK;
    *refused = 0;
    if (!cmd || !lines || !rep) {
        rc = cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
        goto out;
    }
    for (size_t i = 0; i < s->npoints; i++) {
        if (enable)
            rc = cr_fiu_fmt_enable(cmd[i], sizeof cmd[i], s->points[i],
                                   s->probability, s->errnum, s->onetime);
        else
            rc = cr_fiu_fmt_disable(cmd[i], sizeof cmd[i], s->points[i]);
        if (rc) {
            cr_err_set(err, rc, "failure point name too long: %s",
                       s->points[i]);
            goto out;
        }
        lines[i] = cmd[i];
    }
    fifo_prefix(r, f->target.service, prefix, sizeof prefix);
    rc = cr_fiu_open(prefix, pid, open_timeout, &c, err);
    if (rc)
        goto out;
    rc = cr_fiu_cmds(c, lines, s->npoints, SYS_CMD_TIMEOUT_S, rep, err);
    for (size_t i = 0; rc == CR_OK && i < s->npoints; i++) {
        json_object_set_new(replies, s->points[i], json_integer(rep[i]));
        if (rep[i] != 0)
            (*refused)++;
    }
out:
    cr_fiu_close(c);
    cr_free(cmd);
    cr_free(lines);
    cr_free(rep);
    return rc;
}

static int state_add(sys_state *st, cr_inst *in, pid_t leader, pid_t pid)
{
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 8;
        sys_armed *v = cr_realloc(st->v, nc * sizeof *v);
        if (!v)
            return CR_ENOMEM;
        st->v = v;
        st->cap = nc;
    }
    st->v[st->n++] = (sys_armed){in, leader, pid};
    return CR_OK;
}

static int arm_inst(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in,
                    int respawn, cr_err *err)
{
    sys_state *st = act->state;
    pid_t pids[64];
    pid_t leader = cr_inst_pid(in);
    int rc = CR_OK;
    size_t n = group_pids(r, f->target.service, leader, pids, 64);
    for (size_t k = 0; k < n; k++) {
        cr_err e;
        int refused = 0;
        json_t *replies = json_object();
        cr_err_clear(&e);
        json_int_t begin_us = sys_unix_us();
        /* The leader's FIFO may still be in the making (just started). */
        int r1 = send_all(f, r, pids[k], 1, k == 0 ? SYS_OPEN_TIMEOUT_S : 0.2,
                          replies, &refused, &e);
        double t = cr_run_now(r);
        /* t: reply received (armed for sure); begin_unix_us: command about
         * to be sent (nothing can fail before). */
        json_t *rec = json_pack("{s:s, s:i, s:f, s:I, s:I, s:o}", "instance",
                                cr_inst_name(in), "pid", (int)pids[k], "t", t,
                                "begin_unix_us", begin_us, "unix_us",
                                sys_unix_us(), "replies", replies);
        if (respawn)
            json_object_set_new(rec, "respawn", json_true());
        /* Record the process even on failure: revert disables whatever of
         * it was enabled. */
        if (state_add(st, in, leader, pids[k]) != 0 && !rc)
            rc = cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
        if (r1 == 0 && refused == 0) {
            json_array_append_new(sys_details_array(act->details, "armed"),
                                  rec);
            continue;
        }
        if (r1 == 0)
            cr_err_set(&e, CR_EPROTO,
                       "libfiu in %s (pid %d) refused to enable %d failure "
                       "point(s) (reply -1; see its log)",
                       cr_inst_name(in), (int)pids[k], refused);
        json_object_set_new(rec, "error", json_string(e.msg));
        json_array_append_new(sys_details_array(act->details, "errors"), rec);
        if (!rc)
            rc = cr_err_set(err, e.code, "fault %s: arming %s (pid %d): %s",
                            f->name, cr_inst_name(in), (int)pids[k], e.msg);
    }
    return rc;
}

/* ---- on an ssh node: fiu-ctrl over ssh ---------------------------------- */

/* The remote command that runs fiu-ctrl with every point's command
 * (enable or disable) on each process of the replica's group ($g) that has
 * a remote control, printing "ok PID" or "failed PID: what fiu-ctrl said"
 * (fiu-ctrl says nothing when every reply was 0).  wait_s: how long the
 * leader's FIFO may take to appear (a replica just started).  NULL when
 * out of memory. */
static char *node_cmd(cr_fault *f, cr_run *r, int enable, double wait_s)
{
    const sys_spec *s = f->priv;
    char prefix[PATH_MAX], line[CR_FIU_MAX_LINE];
    fifo_prefix(r, f->target.service, prefix, sizeof prefix);
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "P=", 2) || cr_ssh_quote(&b, prefix);
    char *head = cr_asprintf("; i=0; while [ ! -p \"$P-$g.out\" ] && "
                             "[ $i -lt %d ]; do sleep 0.05; i=$((i+1)); done; "
                             "for p in $(pgrep -g \"$g\"); do "
                             "[ -p \"$P-$p.out\" ] || continue; "
                             "o=$(fiu-ctrl -f \"$P\"",
                             (int)(wait_s / 0.05));
    bad |= !head || cr_sbuf_add(&b, head, strlen(head));
    cr_free(head);
    for (size_t i = 0; i < s->npoints && !bad; i++) {
        int rc = enable
                     ? cr_fiu_fmt_enable(line, sizeof line, s->points[i],
                                         s->probability, s->errnum, s->onetime)
                     : cr_fiu_fmt_disable(line, sizeof line, s->points[i]);
        bad |= rc != 0 || cr_sbuf_add(&b, " -c ", 4) || cr_ssh_quote(&b, line);
    }
    static const char tail[] =
        " \"$p\" 2>&1); if [ -z \"$o\" ]; then echo \"ok $p\"; else "
        "printf 'failed %s: %s\\n' \"$p\" \"$(printf '%s' \"$o\" | tr "
        "'\\n' ' ')\"; fi; done";
    bad |= cr_sbuf_add(&b, tail, sizeof tail - 1);
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* Arm (enable = 1) or disarm a replica on its node; each process's
 * outcome into act->details ("armed"/"errors", or "disarmed"), the armed
 * ones into the state.  0 when every process with a remote control said
 * yes and (arming) there was one. */
static int node_arm(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in,
                    int enable, int respawn, cr_err *err)
{
    sys_state *st = act->state;
    char *cmd = node_cmd(f, r, enable, enable ? 2.0 : 0);
    char out[4096] = "";
    cr_err e;
    cr_err_clear(&e);
    json_int_t begin_us = sys_unix_us();
    int rc = cmd ? cr_run_ssh_exec(r, f->target.service, in, cmd, out,
                                   sizeof out, &e)
                 : cr_err_set(&e, CR_ENOMEM, "out of memory");
    cr_free(cmd);
    double t = cr_run_now(r);
    size_t ok = 0, bad = 0;
    for (char *l = out, *nl; rc == 0 && *l; l = nl) {
        nl = l + strcspn(l, "\n");
        if (*nl)
            *nl++ = '\0';
        long pid = 0;
        int good = sscanf(l, "ok %ld", &pid) == 1;
        if (!good && sscanf(l, "failed %ld", &pid) != 1)
            continue;
        json_t *rec =
            json_pack("{s:s, s:i, s:f, s:I, s:I}", "instance", cr_inst_name(in),
                      "pid", (int)pid, "t", t, "begin_unix_us", begin_us,
                      "unix_us", sys_unix_us());
        if (respawn)
            json_object_set_new(rec, "respawn", json_true());
        if (!good)
            json_object_set_new(rec, "error", json_string(l));
        const char *key = !enable ? "disarmed" : good ? "armed" : "errors";
        json_array_append_new(sys_details_array(act->details, key), rec);
        if (enable && state_add(st, in, cr_inst_pid(in), (pid_t)pid) != 0)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        good ? ok++ : bad++;
    }
    if (rc != 0)
        return cr_err_set(err, rc, "fault %s: %s %s: %s", f->name,
                          enable ? "arming" : "disarming", cr_inst_name(in),
                          e.msg);
    if (bad)
        return cr_err_set(err, CR_EPROTO,
                          "fault %s: libfiu in %s refused %zu of %zu "
                          "process(es) (details.errors)",
                          f->name, cr_inst_name(in), bad, ok + bad);
    if (enable && ok == 0)
        return cr_err_set(err, CR_ESTATE,
                          "fault %s: no process of %s on its node has "
                          "libfiu's remote control within 2 s (is its "
                          "program dynamically linked there?)",
                          f->name, cr_inst_name(in));
    return CR_OK;
}

static void describe(cr_fault *f, cr_run *r, cr_fault_act *act)
{
    const sys_spec *s = f->priv;
    json_t *pts = json_array();
    for (size_t i = 0; i < s->npoints; i++)
        json_array_append_new(pts, json_string(s->points[i]));
    json_object_set_new(act->details, "points", pts);
    json_object_set_new(act->details, "errno",
                        s->errnum ? json_string(cr_fiupt_errno_name(s->errnum))
                                  : json_null());
    json_t *seeds = json_object();
    for (size_t k = 0; k < act->ninst; k++)
        json_object_set_new(
            seeds, cr_inst_name(act->inst[k]),
            json_integer(
                prng_seed(r, f->target.service, cr_inst_index(act->inst[k]))));
    json_object_set_new(act->details, "prng_seed", seeds);
}

int sys_fiu_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    int rc = CR_OK;
    size_t armed = 0;
    sys_state *st = cr_calloc(1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    act->state = st;
    if (act->ninst == 0)
        act->ninst = cr_run_resolve_target(r, &f->target, &act->rng, act->inst,
                                           CR_ACT_MAX_INST);
    describe(f, r, act);
    for (size_t k = 0; k < act->ninst; k++) {
        cr_inst *in = act->inst[k];
        const char *why = NULL;
        if (cr_inst_pid(in) <= 0)
            why = "not running";
        else if (cr_inst_paused(in))
            why = "paused (SIGSTOP): its libfiu thread cannot answer";
        if (why) {
            json_array_append_new(sys_details_array(act->details, "skipped"),
                                  json_pack("{s:s, s:s}", "instance",
                                            cr_inst_name(in), "reason", why));
            continue;
        }
        size_t before = st->n;
        int on_node = cr_run_ssh_svc_node(r, f->target.service) != NULL;
        if ((on_node ? node_arm(f, r, act, in, 1, 0, err)
                     : arm_inst(f, r, act, in, 0, err)) != 0)
            rc = err->code;
        else if (st->n > before)
            armed++;
    }
    if (rc)
        return rc;
    if (armed == 0)
        return cr_err_set(err, CR_ESTATE,
                          "fault %s: no targeted replica of %s is running "
                          "and not paused (see details.skipped)",
                          f->name, f->target.service);
    return CR_OK;
}

/* Errors the targeted replicas reported in their events during the window
 * (field "errno", else "error"; events without "inst" count for every
 * replica), counted by value: evidence for the report.  Events still in
 * flight when the window closes are not counted. */
/* On a node: disarm every process of each armed replica's group (forked
 * ones inherited the points), once per replica; a paused one stays armed
 * and says so, as here. */
static int node_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    sys_state *st = act->state;
    int rc = CR_OK;
    for (size_t k = 0; k < st->n; k++) {
        cr_inst *in = st->v[k].inst;
        int seen = 0;
        for (size_t m = 0; m < k && !seen; m++)
            seen = st->v[m].inst == in;
        if (seen || cr_inst_pid(in) <= 0)
            continue;
        cr_err e;
        cr_err_clear(&e);
        if (cr_inst_paused(in)) {
            json_array_append_new(sys_details_array(act->details, "disarmed"),
                                  json_pack("{s:s, s:s}", "instance",
                                            cr_inst_name(in), "note",
                                            "paused: not disarmed"));
            if (!rc)
                rc = cr_err_set(err, CR_ESTATE,
                                "fault %s: %s is paused and could not be "
                                "disarmed; its failure points stay armed",
                                f->name, cr_inst_name(in));
            continue;
        }
        if (node_arm(f, r, act, in, 0, 0, &e) != 0 && !rc)
            rc = cr_err_set(err, e.code, "%s", e.msg);
    }
    sys_errors_seen(f, r, act);
    cr_free(st->v);
    cr_free(st);
    act->state = NULL;
    return rc;
}

int sys_fiu_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    sys_state *st = act->state;
    int rc = CR_OK;
    if (!st)
        return CR_OK; /* never applied, or already reverted */
    if (cr_run_ssh_svc_node(r, f->target.service))
        return node_revert(f, r, act, err);
    /* Processes forked inside the window inherited the armed points (libfiu's
     * table is copied by fork): disarm every process of the group. */
    for (size_t k = 0; k < st->n; k++) {
        pid_t live = cr_inst_pid(st->v[k].inst);
        if (live != st->v[k].leader || live <= 0)
            continue;
        pid_t pids[64];
        size_t n = group_pids(r, f->target.service, live, pids, 64);
        for (size_t j = 0; j < n; j++) {
            int known = 0;
            for (size_t m = 0; m < st->n && !known; m++)
                known = st->v[m].pid == pids[j];
            if (!known && state_add(st, st->v[k].inst, live, pids[j]) != 0)
                break;
        }
    }
    for (size_t k = 0; k < st->n; k++) {
        sys_armed *a = &st->v[k];
        json_t *rec = json_pack("{s:s, s:i}", "instance", cr_inst_name(a->inst),
                                "pid", (int)a->pid);
        if (kill(a->pid, 0) != 0 && errno == ESRCH) {
            json_object_set_new(rec, "note", json_string("exited"));
            json_array_append_new(sys_details_array(act->details, "disarmed"),
                                  rec);
            continue;
        }
        if (cr_inst_paused(a->inst)) {
            /* A stopped process cannot answer, and a command left in its
             * FIFO would be answered to the next client: leave it armed
             * and say so. */
            json_object_set_new(rec, "note",
                                json_string("paused: not disarmed"));
            json_array_append_new(sys_details_array(act->details, "disarmed"),
                                  rec);
            if (!rc)
                rc = cr_err_set(err, CR_ESTATE,
                                "fault %s: %s (pid %d) is paused and could "
                                "not be disarmed; its failure points stay "
                                "armed",
                                f->name, cr_inst_name(a->inst), (int)a->pid);
            continue;
        }
        cr_err e;
        int refused = 0;
        json_t *replies = json_object();
        cr_err_clear(&e);
        json_object_set_new(rec, "begin_unix_us", json_integer(sys_unix_us()));
        int r1 = send_all(f, r, a->pid, 0, 0.3, replies, &refused, &e);
        json_object_set_new(rec, "t", json_real(cr_run_now(r)));
        json_object_set_new(rec, "unix_us", json_integer(sys_unix_us()));
        json_object_set_new(rec, "replies", replies);
        if (r1 != 0 && kill(a->pid, 0) != 0 && errno == ESRCH) {
            json_object_set_new(rec, "note", json_string("exited"));
        } else if (r1 != 0) {
            json_object_set_new(rec, "error", json_string(e.msg));
            if (!rc)
                rc = cr_err_set(err, e.code,
                                "fault %s: disarming %s (pid %d): %s", f->name,
                                cr_inst_name(a->inst), (int)a->pid, e.msg);
        } else if (refused) {
            /* -1 to disable: the point was not enabled there (a process
             * forked after arming, or a failed apply). */
            json_object_set_new(rec, "note",
                                json_string("some points were not enabled"));
        }
        json_array_append_new(sys_details_array(act->details, "disarmed"), rec);
    }
    sys_errors_seen(f, r, act);
    cr_free(st->v);
    cr_free(st);
    act->state = NULL;
    return rc;
}

void sys_fiu_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in)
{
    cr_err e;
    cr_err_clear(&e);
    if (!act->state || cr_inst_pid(in) <= 0)
        return;
    int on_node = cr_run_ssh_svc_node(r, f->target.service) != NULL;
    if ((on_node ? node_arm(f, r, act, in, 1, 1, &e)
                 : arm_inst(f, r, act, in, 1, &e)) != 0)
        cr_run_log(r, "fault %s: arming restarted %s failed: %s", f->name,
                   cr_inst_name(in), e.msg);
    else
        cr_run_log(r, "fault %s: armed restarted %s (pid %d)", f->name,
                   cr_inst_name(in), (int)cr_inst_pid(in));
}
