/* stress: CPU or memory hogs -- Debian's stress-ng -- for for_s seconds,
 * inside the targeted replicas' own cgroups or beside them.
 *
 *   placement "inside": one stress-ng per targeted replica, put into every
 *     cgroup the run made for that replica (cr_run_inst_cgroup_join: cpu
 *     and memory always -- made by prepare -- plus pids/blkio when other
 *     faults made them; never its freezer cgroup), so its workers share
 *     the replica's CPU quota and memory limit: what a noisy neighbour in
 *     the same container does.
 *   placement "beside": one stress-ng for the occurrence, in a cgroup of
 *     the run's own next to the replicas' (cr_run_own_cgroup
 *     "stress-<fault>", cpu and memory, no limit): pressure on the
 *     machine, not on the replica's budget.
 *
 * stress-ng is started with cr_spawn in its own process group; before it
 * runs (cr_spawn's go-pipe) the group goes into the ledger ("pgid <pid>
 * <start>") and the process into its cgroups, so all its workers start
 * there.  Revert ends the group (SIGTERM, SIGKILL after 2 s) and waits
 * until none of it is left.  After a SIGKILLed harness the janitor (or
 * `chaosrun cleanup`) kills the group from the ledger; stress-ng's own
 * --timeout (for_s + 10 s) is a last guard.  Its output goes to
 * fault-<name>.log in the run directory.
 *
 * act->details: "stressor", "workers", "placement", "command" (the argv),
 * and "stress": one object per stress-ng {"instance" (inside), "pid",
 * "cgroups": the cgroup directories it joined, "stopped": how it ended,
 * "memory": the kernel's counters of the memory cgroup it is charged to
 * (inside: the replica's, beside: stress-<fault>) -- {"cgroup",
 * "usage_bytes" and "max_usage_bytes" before stress-ng runs (the
 * watermark: the cgroup's peak since it was made), "usage_bytes_at_end"
 * and "max_usage_bytes_at_end" at the window's end before it is stopped,
 * "usage_bytes_after" once none of it is left}; what the hog held at the
 * end is usage_bytes_at_end - usage_bytes_after}.
 *
 * On an ssh node stress-ng is the node's and runs there (stress_node.c):
 * the same placements, through the cgroups made there;
 * details add "node", "backend" "stress-ng over ssh" and per stress-ng its
 * "pidfile" and "log" on the node. */
#include "stress_internal.h"

#include "base/cr_alloc.h"
#include "base/cr_cgroup.h"
#include "base/cr_dirfd.h"
#include "base/cr_spawn.h"

#include "net/cr_ssh.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STRESS_MAX_WORKERS 64
#define STRESS_MAX_VM_MB   65536

static const char *const stressors[] = {"cpu", "vm", NULL};
static const char *const placements[] = {"inside", "beside", NULL};

static const cr_param stress_params[] = {
    {"stressor", "string", NULL,
     "what the hogs do: \"cpu\" (stress-ng --cpu: busy loops) or \"vm\" "
     "(stress-ng --vm --vm-keep: hold and keep dirtying vm_bytes_mb)"},
    {"workers", "integer", "1",
     "stress-ng workers (processes) per stress-ng, 1 to 64"},
    {"load_pct", "integer", "100",
     "cpu only: busy percentage of each worker (stress-ng --cpu-load), 1 to "
     "100"},
    {"vm_bytes_mb", "integer", "64",
     "vm only: MiB each worker holds (stress-ng --vm-bytes), 1 to 65536; "
     "workers x vm_bytes_mb must fit the machine's memory"},
    {"placement", "string", "inside",
     "\"inside\": one stress-ng per targeted replica, in the replica's own "
     "cgroups (it shares its CPU quota and memory limit); \"beside\": one "
     "stress-ng in a cgroup of the run's own (machine-level pressure)"},
    {NULL, NULL, NULL, NULL},
};

static int stress_parse(cr_vctx *vx, const json_t *obj, const char *path,
                        cr_fault *f)
{
    stress_priv *p = cr_calloc(1, sizeof *p);
    char kp[CR_PATH_MAX];
    if (!p)
        return CR_ENOMEM;
    f->priv = p;
    p->stressor = -1;
    if (cr_vrequire(vx, obj, path, "stressor"))
        cr_venum(vx, obj, path, "stressor", stressors, -1, &p->stressor);
    cr_venum(vx, obj, path, "placement", placements, PL_INSIDE, &p->placement);
    cr_vint(vx, obj, path, "workers", 1, STRESS_MAX_WORKERS, 1, &p->workers);
    cr_vint(vx, obj, path, "load_pct", 1, 100, 100, &p->load_pct);
    cr_vint(vx, obj, path, "vm_bytes_mb", 1, STRESS_MAX_VM_MB, 64,
            &p->vm_bytes_mb);
    /* A key of the other stressor is a mistake, not a no-op. */
    if (p->stressor == ST_VM && json_object_get(obj, "load_pct")) {
        cr_path_key(kp, sizeof kp, path, "load_pct");
        cr_verr(vx, kp, "applies to stressor \"cpu\" only");
    }
    if (p->stressor == ST_CPU && json_object_get(obj, "vm_bytes_mb")) {
        cr_path_key(kp, sizeof kp, path, "vm_bytes_mb");
        cr_verr(vx, kp, "applies to stressor \"vm\" only");
    }
    return 0;
}

/* MemTotal in MiB, or -1. */
static long long mem_total_mb(void)
{
    FILE *fp = fopen("/proc/meminfo", "re");
    char line[256];
    long long kb = -1;
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
            break;
    fclose(fp);
    return kb < 0 ? -1 : kb / 1024;
}

static int stress_check(cr_fault *f, cr_run *r, cr_err *err)
{
    stress_priv *p = f->priv;
    static const char *const ctl[] = {"cpu", "memory"};
    /* On an ssh node: stress-ng, the cgroups and the memory are the
     * node's, looked at by prepare (the node is reached then). */
    if (cr_run_ssh_svc_node(r, f->target.service))
        return 0;
    if (!p->exe && !(p->exe = cr_spawn_which("stress-ng")))
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s (stress): stress-ng not found in PATH "
                          "(Debian package stress-ng)",
                          f->name);
    for (size_t i = 0; i < 2; i++) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup_check(ctl[i], NULL, &e) != 0)
            return cr_err_set(err, CR_EUNSUP, "fault %s (stress): %s", f->name,
                              e.msg);
    }
    long long total = mem_total_mb();
    if (p->stressor == ST_VM && total > 0 &&
        p->workers * p->vm_bytes_mb > total / 2)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s (stress): %lld workers x %lld MiB is more "
                          "than half of this machine's memory (%lld MiB)",
                          f->name, p->workers, p->vm_bytes_mb, total);
    return 0;
}

void stress_own_name(const cr_fault *f, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "stress-");
    for (const char *s = f->name; *s && k + 1 < n; s++, k++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        buf[k] = ok ? c : '_';
    }
    buf[k < n ? k : n - 1] = '\0';
}

static int stress_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    stress_priv *p = f->priv;
    static const char *const ctl[] = {"cpu", "memory"};
    const char *cg;
    cr_err e;
    cr_err_clear(&e);
    const char *node = cr_run_ssh_svc_node(r, f->target.service);
    if (node)
        return stress_node_prepare(f, r, node, err);
    if (p->placement == PL_BESIDE) {
        char name[48];
        stress_own_name(f, name, sizeof name);
        for (size_t c = 0; c < 2; c++)
            if (cr_run_own_cgroup(r, name, ctl[c], &cg, &e) != 0)
                return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
        return 0;
    }
    /* inside: the replicas' cpu and memory cgroups exist from their start,
     * whatever other faults the scenario has. */
    cr_inst *v[CR_ACT_MAX_INST];
    size_t n = cr_run_instances(r, f->target.service, v, CR_ACT_MAX_INST);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < 2; c++)
            if (cr_run_inst_cgroup(r, v[i], ctl[c], &cg, &e) != 0)
                return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
    return 0;
}

/* cr_spawn's go-pipe: the process group into the ledger, then the process
 * into its cgroups -- before stress-ng runs and forks its workers. */
static int stress_before_exec(void *arg, pid_t pid, cr_err *err)
{
    stress_proc *sp = arg;
    json_t *cgs = json_array();
    int id = cr_run_ledger_add(sp->r, err, "pgid %d %llu", (int)pid,
                               cr_proc_starttime(pid));
    if (id < 0) {
        json_decref(cgs);
        return id;
    }
    sp->ledger_id = id;
    json_object_set_new(sp->d, "cgroups", cgs);
    if (sp->in) {
        size_t joined = 0;
        int rc = cr_run_inst_cgroup_join(sp->r, sp->in, pid, &joined, err);
        if (rc != 0)
            return rc;
        /* What it joined, as the kernel says (one line per hierarchy). */
        char file[64], buf[2048];
        snprintf(file, sizeof file, "/proc/%d/cgroup", (int)pid);
        FILE *fp = fopen(file, "re");
        while (fp && fgets(buf, sizeof buf, fp)) {
            buf[strcspn(buf, "\n")] = '\0';
            if (strstr(buf, "/chaosrun-"))
                json_array_append_new(cgs, json_string(buf));
        }
        if (fp)
            fclose(fp);
        if (joined == 0)
            return cr_err_set(err, CR_ESTATE, "%s has no cgroup",
                              cr_inst_name(sp->in));
        return 0;
    }
    for (size_t c = 0; c < 2; c++) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_cgroup_attach(sp->cg[c], pid, &e) != 0)
            return cr_err_set(err, e.code, "%s", e.msg);
        json_array_append_new(cgs, json_string(sp->cg[c]));
    }
    return 0;
}

/* stress-ng's argv into av (strings in buf); exe: its path. */
static void build_argv(const stress_priv *p, char *exe, double for_s,
                       char *av[16], char buf[6][32])
{
    size_t k = 0;
    av[k++] = exe;
    snprintf(buf[0], 32, "%lld", p->workers);
    if (p->stressor == ST_CPU) {
        av[k++] = "--cpu";
        av[k++] = buf[0];
        snprintf(buf[1], 32, "%lld", p->load_pct);
        av[k++] = "--cpu-load";
        av[k++] = buf[1];
    } else {
        av[k++] = "--vm";
        av[k++] = buf[0];
        snprintf(buf[1], 32, "%lldm", p->vm_bytes_mb);
        av[k++] = "--vm-bytes";
        av[k++] = buf[1];
        av[k++] = "--vm-keep";
    }
    /* A last guard: it stops itself even if nobody else does. */
    snprintf(buf[2], 32, "%ds", (int)for_s + 10);
    av[k++] = "--timeout";
    av[k++] = buf[2];
    av[k] = NULL;
}

static int spawn_one(cr_fault *f, cr_run *r, stress_proc *sp, char *const *av,
                     cr_err *err)
{
    cr_spawn_opts o = CR_SPAWN_OPTS_INIT;
    cr_spawn_proc pr;
    cr_err e;
    char log[160];
    cr_err_clear(&e);
    snprintf(log, sizeof log, "fault-%s.log", f->name);
    int lfd = cr_dir_append(cr_run_dirfd(r), log, 0644, &e);
    if (lfd < 0)
        return cr_err_set(err, lfd, "fault %s: %s", f->name, e.msg);
    o.path = av[0];
    o.argv = av;
    o.cwd_fd = cr_run_dirfd(r);
    o.stdout_fd = o.stderr_fd = lfd;
    o.new_pgroup = 1;
    o.before_exec = stress_before_exec;
    o.before_exec_arg = sp;
    int rc = cr_spawn(&o, &pr, &e);
    close(lfd);
    if (rc != 0) {
        if (sp->ledger_id > 0) /* killed and reaped by cr_spawn */
            cr_run_ledger_done(r, sp->ledger_id);
        sp->ledger_id = 0;
        return cr_err_set(err, rc == CR_EUNSUP ? CR_ESYS : rc,
                          "fault %s: stress-ng: %s", f->name, e.msg);
    }
    sp->pid = pr.pid;
    json_object_set_new(sp->d, "pid", json_integer(pr.pid));
    return 0;
}

/* End a stress-ng's process group and wait until nothing of it is left;
 * "stopped" says how.  0, or CR_ETIMEOUT when members stay. */
static int stop_one(stress_proc *sp, cr_err *err)
{
    int status = 0;
    const char *how = "SIGTERM";
    cr_err e;
    cr_err_clear(&e);
    if (sp->pid <= 0)
        return 0;
    json_t *mem = json_object_get(sp->d, "memory");
    if (mem && !json_object_get(mem, "usage_bytes_at_end")) {
        json_object_set_new(mem, "usage_bytes_at_end",
                            json_integer(cr_resfault_num(
                                sp->memcg, "memory.usage_in_bytes", NULL)));
        json_object_set_new(mem, "max_usage_bytes_at_end",
                            json_integer(cr_resfault_num(
                                sp->memcg, "memory.max_usage_in_bytes", NULL)));
    }
    kill(-sp->pid, SIGTERM);
    int w = cr_spawn_wait(sp->pid, 2.0, &status, &e);
    if (w == 1)
        how = "SIGKILL (no exit within 2 s of SIGTERM)";
    else if (w == 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        how = "SIGTERM (exit status non-zero)";
    /* Workers whose parent ended first: the rest of the group.  SIGKILLed
     * members in the middle of an OOM storm (vm workers under a memory
     * limit, the machine loaded) took over 3 s to go once -- the revert
     * failed and the group's ledger line stayed open (e2e res_stress_vm,
     * whole suite, stop 30): they get 10 s.  Workers whose parent died
     * first are the harness's children (a subreaper) and stay in the group
     * as zombies until reaped -- that, not their speed, kept the group
     * there for 10 s (CI, stop 31): they are reaped here. */
    kill(-sp->pid, SIGKILL);
    struct timespec ts = {0, 10 * 1000000};
    int gone = 0;
    for (int i = 0; i < 1000 && !gone; i++) {
        cr_run_reap_group(sp->r, sp->pid);
        gone = kill(-sp->pid, 0) != 0 && errno == ESRCH;
        if (!gone)
            nanosleep(&ts, NULL);
    }
    json_object_set_new(sp->d, "stopped", json_string(how));
    if (!gone)
        return cr_err_set(err, CR_ETIMEOUT,
                          "stress-ng group %d: members still there 10 s "
                          "after SIGKILL",
                          (int)sp->pid);
    sp->pid = 0;
    if (mem)
        json_object_set_new(mem, "usage_bytes_after",
                            json_integer(cr_resfault_num(
                                sp->memcg, "memory.usage_in_bytes", NULL)));
    if (sp->ledger_id > 0)
        cr_run_ledger_done(sp->r, sp->ledger_id);
    sp->ledger_id = 0;
    return 0;
}

static int stress_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    stress_priv *p = f->priv;
    char buf[6][32];
    char *av[16];
    stress_state *st = cr_calloc(1, sizeof *st);
    json_t *arr = json_array(), *cmd = json_array();
    if (!st || !arr || !cmd ||
        (!act->details && !(act->details = json_object()))) {
        cr_free(st);
        json_decref(arr);
        json_decref(cmd);
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    }
    act->state = st;
    const char *node = cr_run_ssh_svc_node(r, f->target.service);
    if (node && !p->node_exe)
        return cr_err_set(err, CR_ESTATE, "fault %s: not prepared", f->name);
    build_argv(p, node ? p->node_exe : p->exe, f->for_s, av, buf);
    for (size_t i = 0; av[i]; i++)
        json_array_append_new(cmd, json_string(av[i]));
    json_object_set_new(act->details, "stressor",
                        json_string(stressors[p->stressor]));
    json_object_set_new(act->details, "workers", json_integer(p->workers));
    json_object_set_new(act->details, "placement",
                        json_string(placements[p->placement]));
    json_object_set_new(act->details, "command", cmd);
    json_object_set_new(act->details, "stress", arr);
    if (node) {
        json_object_set_new(act->details, "node", json_string(node));
        json_object_set_new(act->details, "backend",
                            json_string("stress-ng over ssh"));
    }
    if (cr_resfault_targets(f, r, act, err) != 0)
        return err->code;
    size_t n = p->placement == PL_INSIDE ? act->ninst : 1;
    for (size_t i = 0; i < n; i++) {
        stress_proc *sp = &st->p[st->n++];
        sp->r = r;
        sp->d = json_object();
        if (!sp->d)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        json_array_append_new(arr, sp->d);
        if (p->placement == PL_INSIDE) {
            sp->in = act->inst[i];
            json_object_set_new(sp->d, "instance",
                                json_string(cr_inst_name(sp->in)));
        }
        if (node) {
            int rc = stress_node_start(f, r, act, sp, av, err);
            if (rc != 0)
                return rc; /* the engine reverts what started */
            continue;
        }
        if (!sp->in) {
            char name[48];
            cr_err e;
            cr_err_clear(&e);
            stress_own_name(f, name, sizeof name);
            /* Made by prepare: these find them. */
            if (cr_run_own_cgroup(r, name, "cpu", &sp->cg[0], &e) != 0 ||
                cr_run_own_cgroup(r, name, "memory", &sp->cg[1], &e) != 0)
                return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
        }
        if (!sp->in)
            sp->memcg = sp->cg[1];
        else {
            cr_err e;
            cr_err_clear(&e);
            if (cr_run_inst_cgroup(r, sp->in, "memory", &sp->memcg, &e) != 0)
                return cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
        }
        if (!json_object_get(act->details, "backend"))
            json_object_set_new(act->details, "backend",
                                json_string(cr_resfault_backend(sp->memcg)));
        json_object_set_new(
            sp->d, "memory",
            json_pack("{s:s,s:I,s:I}", "cgroup", sp->memcg, "usage_bytes",
                      (json_int_t)cr_resfault_num(
                          sp->memcg, "memory.usage_in_bytes", NULL),
                      "max_usage_bytes",
                      (json_int_t)cr_resfault_num(
                          sp->memcg, "memory.max_usage_in_bytes", NULL)));
        int rc = spawn_one(f, r, sp, av, err);
        if (rc != 0)
            return rc; /* the engine reverts what started */
    }
    return 0;
}

static int stress_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    stress_state *st = act->state;
    int rc = 0;
    if (!st)
        return 0;
    for (size_t i = 0; i < st->n; i++) {
        cr_err e;
        cr_err_clear(&e);
        stress_proc *sp = &st->p[i];
        if ((sp->node ? stress_node_stop(f, r, sp, &e) : stop_one(sp, &e)) != 0)
            rc = cr_err_set(err, e.code, "fault %s: %s", f->name, e.msg);
    }
    if (rc == 0) {
        cr_free(st);
        act->state = NULL;
    }
    return rc;
}

static void stress_destroy(cr_fault *f)
{
    stress_priv *p = f->priv;
    if (p) {
        cr_free(p->exe);
        cr_free(p->node_exe);
    }
    cr_free(p);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_stress_ops = {
    .kind = "stress",
    .summary = "CPU or memory hogs (stress-ng) inside the targeted replicas' "
               "own cgroups, sharing their limits, or beside them, for for_s "
               "seconds",
    .params = stress_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "stress-ng (Debian package stress-ng); root (or a delegated "
                "cgroup); the cpu and memory controllers (cgroup v1, else "
                "cgroup v2)",
    .parse = stress_parse,
    .check = stress_check,
    .prepare = stress_prepare,
    .apply = stress_apply,
    .revert = stress_revert,
    .destroy = stress_destroy,
};
