/* stress_node: the stress kind on an ssh node (see stress.c for the
 * kind; stress_internal.h for what the two share). */
#include "stress_internal.h"

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "net/cr_ssh.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- on an ssh node ------------------------------------------------------
 *
 * There stress-ng is the node's (prepare: `command -v stress-ng`) and runs
 * there, started over the node's control shell by `setsid sh -c`: the
 * shell writes its pid -- the new process group's id -- to a pidfile in
 * the node's directory first (node clean-up, at the end and in `chaosrun
 * cleanup`, kills the group of every pidfile there), joins the cgroups
 * listed in the replica's "<instance>.pid.cgroups" (inside: the ones its
 * wrapper joins at every start; prepare made cpu and memory) or in
 * "stress-<fault>.pid.cgroups" (beside: the run's own, made by prepare),
 * answers "ok <pid>" and the cgroup lines of /proc/<pid>/cgroup, and execs
 * stress-ng with its output in a log beside the pidfile and
 * CHAOSRUN_RUN_DIR set to the node's directory (a replica's mark there).
 * Revert sends SIGTERM to the group, SIGKILL after 2 s, and polls over
 * the control shell until nothing of it is left but zombies (the node's
 * init reaps them), then removes the pidfile and copies the log's end
 * into fault-<name>.log here.  The exit status of stress-ng is not seen
 * (its parent is the node's init). */

/* The remote shell's alive: a member of process group $g that is not a
 * zombie. */
#define NODE_ALIVE                                                             \
    "alive() { for q in $(pgrep -g \"$g\"); do case \"$(sed 's/.*) //' "       \
    "/proc/$q/stat 2>/dev/null)\" in ''|Z*|X*) ;; *) return 0;; esac; done; "  \
    "return 1; }; "

int stress_node_prepare(cr_fault *f, cr_run *r, const char *node, cr_err *err)
{
    stress_priv *p = f->priv;
    static const char *const ctl[] = {"cpu", "memory"};
    const char *svc = f->target.service, *cg;
    char out[1024] = "", path[512] = "", name[48];
    long long kb = -1;
    int v2;
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_run_ssh_exec(r, svc, NULL,
                             "command -v stress-ng || echo -; awk "
                             "'/^MemTotal:/ { print $2 }' /proc/meminfo",
                             out, sizeof out, &e);
    if (rc != 0)
        return cr_err_set(err, rc, "fault %s (stress): %s", f->name, e.msg);
    if (sscanf(out, "%511s %lld", path, &kb) < 1 || path[0] != '/')
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s (stress): stress-ng not found on ssh node "
                          "%s (Debian package stress-ng)",
                          f->name, node);
    cr_free(p->node_exe);
    if (!(p->node_exe = cr_strdup(path)))
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    if (p->stressor == ST_VM && kb > 0 &&
        p->workers * p->vm_bytes_mb > kb / 1024 / 2)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s (stress): %lld workers x %lld MiB is more "
                          "than half of ssh node %s's memory (%lld MiB)",
                          f->name, p->workers, p->vm_bytes_mb, node, kb / 1024);
    /* The cgroups, as the cpu and memory kinds make them there. */
    cr_inst *v[CR_ACT_MAX_INST];
    size_t n = cr_run_instances(r, svc, v, CR_ACT_MAX_INST);
    stress_own_name(f, name, sizeof name);
    for (size_t c = 0; c < 2; c++) {
        if (p->placement == PL_BESIDE)
            rc = cr_run_ssh_own_cgroup(r, svc, name, ctl[c], &cg, &v2, &e);
        for (size_t i = 0; p->placement == PL_INSIDE && i < n && rc == 0; i++)
            rc = cr_run_ssh_cgroup(r, v[i], ctl[c], &cg, &v2, &e);
        if (rc != 0)
            return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
    }
    return 0;
}

/* The remote command starting stress-ng (av) for sp, joining the cgroups
 * listed in file join.  cr_malloc'd, or NULL. */
static char *node_start_cmd(const stress_proc *sp, const char *join,
                            const char *dir, char *const *av)
{
    static const char inner[] =
        "echo $$ > \"$1\" || exit 1; while read -r c; do case \"$c\" in "
        "*/freezer/*) continue;; esac; echo $$ > \"$c/cgroup.procs\" || { "
        "echo \"cannot join cgroup $c\"; exit 1; }; done < \"$2\"; echo \"ok "
        "$$\"; grep /chaosrun- /proc/$$/cgroup; exec >> \"$3\" 2>&1; shift 3; "
        "exec \"$@\"";
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "P=", 2) || cr_ssh_quote(&b, sp->pidfile) ||
              cr_sbuf_add(&b, "; J=", 4) || cr_ssh_quote(&b, join) ||
              cr_sbuf_add(&b, "; L=", 4) || cr_ssh_quote(&b, sp->log) ||
              cr_sbuf_add(&b, "; D=", 4) || cr_ssh_quote(&b, dir);
    /* The answer comes through cat: it ends when the shell's stdout goes
     * to the log (stress-ng keeps nothing of the session). */
    static const char mid[] =
        "; [ -s \"$J\" ] || { echo \"no cgroup listed in $J\"; exit 1; }; "
        "o=$({ setsid sh -c ";
    static const char args[] = " sh \"$P\" \"$J\" \"$L\" env "
                               "CHAOSRUN_RUN_DIR=\"$D\"";
    static const char tail[] =
        " 2>>\"$L\" </dev/null & } | cat); case \"$o\" in \"ok \"*) printf "
        "'%s\\n' \"$o\";; *) rm -f \"$P\"; printf '%s\\n' \"${o:-no "
        "answer}\"; tail -c 300 \"$L\" 2>/dev/null; exit 1;; esac";
    bad = bad || cr_sbuf_add(&b, mid, sizeof mid - 1) ||
          cr_ssh_quote(&b, inner) || cr_sbuf_add(&b, args, sizeof args - 1);
    for (size_t i = 0; av[i] && !bad; i++)
        bad = cr_sbuf_add(&b, " ", 1) || cr_ssh_quote(&b, av[i]);
    if (bad || cr_sbuf_add(&b, tail, sizeof tail - 1)) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* Memory counters of sp's memory cgroup (key: usage_bytes, ...). */
static void node_mem(stress_proc *sp, const char *key, const char *file)
{
    json_t *mem = json_object_get(sp->d, "memory");
    if (mem)
        json_object_set_new(mem, key,
                            json_integer(cr_rescg_num(&sp->mem, file, NULL)));
}

/* Start stress-ng for sp on the node of f's service. */
int stress_node_start(cr_fault *f, cr_run *r, cr_fault_act *act,
                      stress_proc *sp, char *const *av, cr_err *err)
{
    const char *svc = f->target.service, *cg = NULL;
    const char *dir = cr_run_ssh_svc_dir(r, svc);
    char name[48], base[200], join[512], out[1024] = "";
    int v2 = 0;
    cr_err e;
    cr_err_clear(&e);
    stress_own_name(f, name, sizeof name);
    /* Made by prepare: these find them. */
    int rc = sp->in
                 ? cr_run_ssh_cgroup(r, sp->in, "memory", &cg, &v2, &e)
                 : cr_run_ssh_own_cgroup(r, svc, name, "memory", &cg, &v2, &e);
    if (rc == 0 && !dir)
        rc = cr_err_set(&e, CR_ESTATE, "no node directory");
    if (rc != 0)
        return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
    sp->node = 1;
    snprintf(sp->memcg_buf, sizeof sp->memcg_buf, "%s", cg);
    sp->memcg = sp->memcg_buf;
    sp->mem.path = sp->memcg_buf;
    sp->mem.v2 = v2;
    sp->mem.r = r;
    sp->mem.in = sp->in ? sp->in : act->inst[0]; /* (its node) */
    if (sp->in)
        snprintf(base, sizeof base, "%s-%d-%s", name, act->occurrence,
                 cr_inst_name(sp->in));
    else
        snprintf(base, sizeof base, "%s-%d", name, act->occurrence);
    snprintf(sp->pidfile, sizeof sp->pidfile, "%s/%s.pid", dir, base);
    snprintf(sp->log, sizeof sp->log, "%s/%s.log", dir, base);
    snprintf(join, sizeof join, "%s/%s.pid.cgroups", dir,
             sp->in ? cr_inst_name(sp->in) : name);
    json_object_set_new(sp->d, "pidfile", json_string(sp->pidfile));
    json_object_set_new(sp->d, "log", json_string(sp->log));
    json_object_set_new(sp->d, "memory",
                        json_pack("{s:s}", "cgroup", sp->memcg_buf));
    node_mem(sp, "usage_bytes", "memory.usage_in_bytes");
    node_mem(sp, "max_usage_bytes", "memory.max_usage_in_bytes");
    char *cmd = node_start_cmd(sp, join, dir, av);
    rc = cmd ? cr_run_ssh_exec(r, svc, NULL, cmd, out, sizeof out, &e)
             : cr_err_set(&e, CR_ENOMEM, "out of memory");
    cr_free(cmd);
    int pid = 0;
    if (rc == 0 && (sscanf(out, "ok %d", &pid) != 1 || pid <= 0))
        rc = cr_err_set(&e, CR_EPROTO, "unexpected answer '%.200s'", out);
    if (rc != 0)
        return cr_err_set(err, rc == CR_EUNSUP ? CR_ESYS : rc,
                          "fault %s: stress-ng on ssh node %s: %s", f->name,
                          cr_run_ssh_svc_node(r, svc), e.msg);
    sp->pid = (pid_t)pid;
    json_object_set_new(sp->d, "pid", json_integer(pid));
    /* What it joined, as the node's kernel says (one line a hierarchy). */
    json_t *cgs = json_array();
    for (char *l = strchr(out, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        size_t k = strcspn(l + 1, "\n");
        json_array_append_new(cgs, json_stringn(l + 1, k));
    }
    json_object_set_new(sp->d, "cgroups", cgs);
    return 0;
}

/* The last bytes of sp's log on the node, into fault-<name>.log here. */
static void node_log(cr_fault *f, cr_run *r, stress_proc *sp)
{
    char out[1024] = "", name[160];
    cr_err e;
    cr_err_clear(&e);
    cr_sbuf b = {0};
    if (cr_sbuf_add(&b, "tail -c 900 ", 12) || cr_ssh_quote(&b, sp->log) ||
        cr_sbuf_add(&b, " 2>/dev/null; exit 0", 20) ||
        cr_run_ssh_exec(r, f->target.service, NULL, b.s, out, sizeof out, &e) !=
            0) {
        cr_free(b.s);
        return;
    }
    cr_free(b.s);
    snprintf(name, sizeof name, "fault-%s.log", f->name);
    int fd = cr_dir_append(cr_run_dirfd(r), name, 0644, &e);
    if (fd < 0)
        return;
    char *t =
        cr_asprintf("-- stress-ng on ssh node %s, the end of %s:\n%s",
                    cr_run_ssh_svc_node(r, f->target.service), sp->log, out);
    if (t && write(fd, t, strlen(t)) < 0)
        json_object_set_new(sp->d, "log_copy", json_string(strerror(errno)));
    cr_free(t);
    close(fd);
}

/* End sp's process group on the node: SIGTERM, SIGKILL after 2 s, then
 * poll until nothing of it is left (up to 10 s more); "stopped" says how.
 * 0, or a code (kept for another attempt). */
int stress_node_stop(cr_fault *f, cr_run *r, stress_proc *sp, cr_err *err)
{
    const char *svc = f->target.service;
    char out[256] = "";
    cr_err e;
    cr_err_clear(&e);
    if (sp->pid <= 0)
        return 0;
    cr_sbuf b = {0};
    if (cr_sbuf_add(&b, "P=", 2) || cr_ssh_quote(&b, sp->pidfile) ||
        cr_sbuf_add(&b, "; g=$(cat \"$P\" 2>/dev/null); " NODE_ALIVE,
                    strlen("; g=$(cat \"$P\" 2>/dev/null); " NODE_ALIVE))) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    size_t pre = b.n;
    int rc = 0;
    if (!json_object_get(sp->d, "stopped")) {
        json_t *mem = json_object_get(sp->d, "memory");
        if (mem && !json_object_get(mem, "usage_bytes_at_end")) {
            node_mem(sp, "usage_bytes_at_end", "memory.usage_in_bytes");
            node_mem(sp, "max_usage_bytes_at_end", "memory.max_usage_in_bytes");
        }
        static const char stop[] =
            "if [ -z \"$g\" ] || ! alive; then echo ended; exit 0; fi; kill -s "
            "TERM -- -\"$g\"; i=0; while [ $i -lt 20 ] && alive; do sleep "
            "0.1; i=$((i + 1)); done; if alive; then echo KILL; else echo "
            "TERM; fi; kill -s KILL -- -\"$g\" 2>/dev/null; exit 0";
        if (cr_sbuf_add(&b, stop, sizeof stop - 1) == 0)
            rc = cr_run_ssh_exec(r, svc, NULL, b.s, out, sizeof out, &e);
        else
            rc = cr_err_set(&e, CR_ENOMEM, "out of memory");
        if (rc != 0) {
            cr_free(b.s);
            return cr_err_set(err, rc, "%s", e.msg);
        }
        json_object_set_new(
            sp->d, "stopped",
            json_string(!strncmp(out, "TERM", 4) ? "SIGTERM"
                        : !strncmp(out, "KILL", 4)
                            ? "SIGKILL (members left 2 s after SIGTERM)"
                            : "had ended before the revert"));
    }
    /* SIGKILLed members of an OOM storm took seconds to go (stop_one):
     * 10 s, the group killed again each time. */
    static const char poll[] =
        "if [ -n \"$g\" ] && alive; then kill -s KILL -- -\"$g\" "
        "2>/dev/null; echo left; else rm -f \"$P\"; echo gone; fi";
    b.n = pre;
    int gone = 0;
    if (cr_sbuf_add(&b, poll, sizeof poll - 1) != 0) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    }
    struct timespec ts = {0, 100 * 1000000};
    for (int i = 0; i < 100 && !gone && rc == 0; i++) {
        if (i)
            nanosleep(&ts, NULL);
        rc = cr_run_ssh_exec(r, svc, NULL, b.s, out, sizeof out, &e);
        gone = rc == 0 && !strncmp(out, "gone", 4);
    }
    cr_free(b.s);
    if (rc != 0)
        return cr_err_set(err, rc, "%s", e.msg);
    if (!gone)
        return cr_err_set(err, CR_ETIMEOUT,
                          "stress-ng group %d on ssh node %s: members "
                          "still there 10 s after SIGKILL",
                          (int)sp->pid, cr_run_ssh_svc_node(r, svc));
    sp->pid = 0;
    node_mem(sp, "usage_bytes_after", "memory.usage_in_bytes");
    node_log(f, r, sp);
    return 0;
}
