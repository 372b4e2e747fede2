/* cr_run: the run engine and the services it supervises.
 *
 * One cr_run owns everything a run creates: the event loop, the service
 * replicas (each in its own process group), the run directory, the ledger of
 * system changes, the journal.  Fault backends, probes and checkers get a
 * cr_run * and use only the functions below.
 *
 * Times given to and returned by these functions are seconds since t0, the
 * instant at which every service was ready and the before-probes passed
 * (negative during start-up). */
#ifndef CR_RUN_H
#define CR_RUN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/cr_err.h"
#include "base/cr_rng.h"
#include "base/cr_spawn.h" /* cr_proc_starttime */
#include "events/cr_event.h"
#include "net/cr_net.h"
#include "scenario/cr_scen.h"

typedef struct cr_run cr_run;
typedef struct cr_inst cr_inst; /* one replica of a service */

/* The live status the engine reports while a status line is wanted. */
typedef struct cr_run_status {
    const char *phase;  /* "startup", "before", "faults", "drain", ... */
    int timeline;       /* 1 in the faults and drain phases: t, length_s and
                           faults mean something */
    double t;           /* run time */
    double length_s;    /* duration_s + drain_s */
    const char *faults; /* names of the active faults, or "none" */
    size_t up, total;   /* replicas running, replicas in all */
    size_t events;      /* events received so far */
    /* Live judging (checks/cr_live.h), once t0 is past: live is 1 and the
     * expectations are counted by their state now. */
    int live;
    size_t holding, violated, pending, at_end;
} cr_run_status;

/* What the engine tells its caller while a run goes on.  The engine never
 * prints: the command line (cli/cr_cli_output.c) implements this.  Every
 * member may be NULL; the strings are valid during the call only. */
typedef struct cr_run_output {
    void *ud;
    /* The run begins (run directory made; baseline: the fault-free
     * baseline run before the real one). */
    void (*begin)(void *ud, const char *name, uint64_t seed,
                  const char *seed_source, const char *run_dir, int baseline);
    /* A progress line (also kept in the journal's log); t: run time. */
    void (*log)(void *ud, double t, const char *text);
    /* About five times a second when cr_run_opts.live_status is set. */
    void (*status)(void *ud, const cr_run_status *st);
} cr_run_output;

typedef struct cr_run_opts {
    /* NULL: a new chaosrun-out/<name>-<UTC stamp>/.  Else it must be new
     * or an empty directory of the effective user (base/cr_dirfd.h,
     * cr_dir_claim); with force, an earlier chaosrun output there is
     * emptied first (without following links). */
    const char *out_dir;
    int force;
    /* "USER[:GROUP]" (names or numbers), or NULL: the identity of every
     * service without a "user" key of its own (needs root). */
    const char *service_user;
    int seed_override; /* 1: use seed below */
    uint64_t seed;
    int live_status;          /* 1: call out->status while running */
    const cr_run_output *out; /* NULL: tell nobody */
    const char *argv0;        /* for the reproduce command */
    int baseline;             /* 1: this is the fault-free baseline run */
    /* 1: stop the run at the first violation no later event can mend
     * (checks/cr_live.h: a live state "violated" with final), judged and
     * reported as usual; the journal's "stopped_early" says which. */
    int fail_fast;
    /* The chaosrun program, started for the janitor and the fault proxy
     * (`chaosrun __janitor`, `chaosrun proxy`); NULL: /proc/self/exe,
     * right whenever the caller is chaosrun itself (tests that run the
     * engine from another program name the built chaosrun here). */
    const char *self_exe;
} cr_run_opts;

/* What a run leaves its caller. */
typedef struct cr_run_result {
    char *dir;       /* the run directory (malloc'd), NULL when none was made */
    json_t *journal; /* the journal as written (a reference), NULL when the
                        run never began (see err) */
    cr_err err;      /* why the run could not be carried out or completed
                        (code 0: nothing to say) */
    int interrupted; /* the signal that interrupted the run, 0 if none */
} cr_run_result;

/* Run a loaded scenario to the end.  Returns the exit status of the CLI
 * contract (0 held, 1 an expectation failed, 3 unrunnable, 4 harness
 * failure or interrupted -- status "interrupted" in the journal).  Writes
 * the run directory (journal.json, events.jsonl, logs/) even on failure,
 * but no report: the caller writes them from the run directory
 * (reports/cr_report.h).  *res (may be NULL) is filled; release it with
 * cr_run_result_free. */
int cr_run_scenario(cr_scen *sc, const cr_run_opts *opts, cr_run_result *res);
void cr_run_result_free(cr_run_result *res);

/* The current UTC time as "yyyymmddThhmmssZ" (run directory names). */
void cr_run_utc_stamp(char *buf, size_t n);

/* ---- for fault backends, probes, checkers ----------------------------- */

const cr_scen *cr_run_scen(const cr_run *r);
const char *cr_run_dir(const cr_run *r);
/* The run directory's fd (owned by the run; O_DIRECTORY): create files in
 * it with base/cr_dirfd.h, never through cr_run_dir()'s path. */
int cr_run_dirfd(const cr_run *r);
uint64_t cr_run_seed(const cr_run *r);
double cr_run_now(const cr_run *r);     /* seconds since t0 */
double cr_run_t0_unix(const cr_run *r); /* Unix time of t0 */
const cr_history *cr_run_history(const cr_run *r);

/* Instances of a service (in replica order); returns the count. */
size_t cr_run_instances(cr_run *r, const char *service, cr_inst **out,
                        size_t max);
/* Resolve a target to instances; a random replica is drawn from rng.
 * Returns the count (0 when the service has no replicas). */
size_t cr_run_resolve_target(cr_run *r, const cr_target *t, cr_rng *rng,
                             cr_inst **out, size_t max);

const char *cr_inst_name(const cr_inst *i);    /* "worker.1" */
const char *cr_inst_service(const cr_inst *i); /* "worker" */
int cr_inst_index(const cr_inst *i);
pid_t cr_inst_pid(const cr_inst *i); /* 0 when not running */
/* Frozen by a fault (the supervision state "paused"). */
int cr_inst_paused(const cr_inst *i);
/* Record a freeze or thaw made without cr_run_signal (SIGSTOP/SIGCONT
 * through cr_run_signal already moves the state; then a no-op). */
void cr_inst_set_paused(cr_inst *i, int paused);

/* Send a signal to the instance's process group, as a fault: SIGSTOP
 * pauses it, SIGCONT resumes it, any other signal is one whose exit is
 * attributed to the fault running now.  Fails with CR_ESTATE, sending
 * nothing, if the instance is not running or its state refuses it (a
 * pause of a replica that is being stopped). */
int cr_run_signal(cr_run *r, cr_inst *i, int sig, cr_err *err);
/* Stop: sig, then SIGKILL after timeout_s (asynchronous, driven by the
 * loop).  When restart is 1 the instance is started again once it exited
 * (the restart fault); the service's restart policy does not apply to an
 * exit caused this way when restart is 0.  A stop of a replica already
 * stopping sends sig again and keeps the first deadline. */
int cr_run_stop_inst(cr_run *r, cr_inst *i, int sig, double timeout_s,
                     int restart, cr_err *err);

/* Add an environment variable for every replica of a service started from
 * now on (for prepare() hooks: LD_PRELOAD, FIU_*, proxy addresses).
 * Replaces an earlier value of the same key. */
int cr_run_setenv(cr_run *r, const char *service, const char *key,
                  const char *val, cr_err *err);
/* The value an earlier prepare hook gave key for service with
 * cr_run_setenv (so that two preloads compose: libfiu and libfaketime),
 * or NULL.  Owned by the run. */
const char *cr_run_getenv(const cr_run *r, const char *service,
                          const char *key);
/* Per-instance variable (applied after the per-service ones). */
int cr_run_setenv_inst(cr_run *r, const char *service, int replica,
                       const char *key, const char *val, cr_err *err);

/* ---- the ledger of system changes --------------------------------------
 *
 * Record a change BEFORE making it: a line "<kind> <args>" is appended and
 * fsync'd to the run's ledger and to the global index used by
 * `chaosrun cleanup` and the janitor.  Returns an id > 0 or a negative
 * code.  Kinds understood by the cleanup code: "pgid <pgid>", "netns
 * <name>", "link <netns|-> <ifname>", "qdisc <netns|-> <ifname> <parent>",
 * "nft <netns|-> <family> <table>", "fifo <path>", "pid <pid>",
 * "cgroup <path>", "cgctl <v2 controller> <dir>", "thaw <path>", "proxy
 * <pid>", "mount <dir>".  cr_run_ledger_done() marks
 * the change reverted. */
int cr_run_ledger_add(cr_run *r, cr_err *err, const char *fmt, ...)
    CR_PRINTF(3, 4);
void cr_run_ledger_done(cr_run *r, int id);

/* Reap the harness's ended children in process group pgid: workers of a
 * group the caller started whose leader died first are adopted by the
 * harness (a subreaper) and, once killed, stay zombies -- still members
 * of the group for kill(-pgid, 0) -- until reaped.  Strays among them are
 * closed in the ledger and journal as cr_stray does.  How many were
 * reaped. */
int cr_run_reap_group(cr_run *r, pid_t pgid);

/* A directory of the run for the run's own use (libfiu's FIFOs): name,
 * one path component, recorded in the ledger ("dir <name>", relative to
 * the run directory) and then made in the run directory with mode; it
 * must not exist.  Removed with everything in it at the end of the run,
 * after the services stopped (or by the janitor or cleanup, never
 * following a link).  Returns its fd, owned by the run (do not close it),
 * or a negative code.  At most CR_RUN_MAX_TMPDIRS per run. */
#define CR_RUN_MAX_TMPDIRS 4
int cr_run_tmpdir(cr_run *r, const char *name, mode_t mode, cr_err *err);

/* The identity service svc runs as, when it is not chaosrun's own: 1 and
 * *uid, *gid (give it what it must write); 0 otherwise. */
int cr_run_svc_owner(const cr_run *r, const char *svc, uid_t *uid, gid_t *gid);

/* ---- spawn hooks --------------------------------------------------------
 *
 * For a fault kind that must act inside a replica's process before its
 * program runs (the syscall kind's seccomp filter).  Registered in
 * prepare() for one service; every start of a replica of that service
 * then runs, in order:
 *   child(arg, in)   in the child, once its process group, namespace,
 *                    stdio and cwd are set, right before execve.  Only
 *                    async-signal-safe calls.  Returns 0, or an errno
 *                    value: the start then fails as a failed exec would.
 *   parent(arg, in, pid, err)  in the harness, once the child was let go
 *                    and before the start is reported (and before the
 *                    harness waits for the exec).  0, or a negative code
 *                    with err set: the child is killed, the start fails.
 * and fini(arg) (may be NULL) runs once, after every replica of the run
 * has been stopped.  hook must outlive the run (a static table).
 * At most CR_SPAWN_HOOKS_MAX hooks per service: CR_ESTATE beyond. */
typedef struct cr_spawn_hook {
    int (*child)(void *arg, const cr_inst *in);
    int (*parent)(void *arg, cr_inst *in, pid_t pid, cr_err *err);
    void (*fini)(void *arg);
} cr_spawn_hook;
#define CR_SPAWN_HOOKS_MAX 4
int cr_run_add_spawn_hook(cr_run *r, const char *service,
                          const cr_spawn_hook *hook, void *arg, cr_err *err);

/* Containers (cr_run_ctr.c) for the syscall kind's seccomp backend.
 * seccomp_default: the engine's default seccomp profile (a JSON file) for
 * the container service `service`, NULL when there is none to build on
 * (docker's is built in) or the service is no container.  seccomp: every
 * container of `service` made from now on gets `--security-opt
 * seccomp=<profile>` and the annotation CR_CTR_ANNOT_INSTANCE=<replica>,
 * which the runtime passes, with the filter's listener, to the profile's
 * listenerPath at each start of the container.  0 or CR_ENOTFOUND. */
#define CR_CTR_ANNOT_INSTANCE "chaosrun.instance"
const char *cr_run_ctr_seccomp_default(cr_run *r, const char *service);
int cr_run_ctr_seccomp(cr_run *r, const char *service, const char *profile,
                       cr_err *err);

/* Every start of a replica of service from now on runs its program in a
 * new time namespace with these offsets (the text of
 * /proc/PID/timens_offsets: "monotonic <s> <ns>\n", "boottime <s> <ns>\n";
 * cr_spawn_opts.timens_offsets).  For prepare() of the clock kind: a
 * namespace's offsets are fixed once a process is in it, so they hold
 * from the replica's start.  Replaces an earlier text.  0, CR_ENOTFOUND
 * (no such service), CR_EINVAL (too long). */
int cr_run_svc_timens(cr_run *r, const char *service, const char *offsets,
                      cr_err *err);

/* The slot in which an optional module keeps its per-run state ("net",
 * "proxy", "syscall"): NULL until the module stores its own allocation there;
 * the module frees it in its tear-down hook.  Returns NULL for an unknown
 * module name. */
void **cr_run_module_state(cr_run *r, const char *module);

/* ---- cgroups of the replicas (cr_run_cgroup.c) ------------------------
 *
 * The directory of instance i's own cgroup in the cgroup v1 hierarchy of
 * controller ("cpu", "memory", "pids", "blkio", "freezer"), into *path
 * (valid until the run ends) -- or, for a controller on no v1 hierarchy
 * that cgroup v2 offers, its one v2 cgroup (shared by all v2
 * controllers; the controller enabled for it, placement in
 * base/cr_cgroup2.h).  Made on first use, below a run-owned parent <the
 * harness's own cgroup (v2: the placement)>/chaosrun-<pid>, both recorded
 * in the ledger ("cgroup <dir>") before mkdir; every start of the replica from
 * then on puts it there before its program runs (so all it forks is
 * inside too).  Call it from a fault's prepare: a replica already running
 * is not moved.  At the run's end the cgroups are removed (processes
 * still inside are killed).  0, CR_EUNSUP (neither a v1 hierarchy nor
 * cgroup v2 offers the controller, no placement, or no right to make
 * cgroups: the reason in err), CR_ESYS, CR_ENOMEM. */
int cr_run_inst_cgroup(cr_run *r, cr_inst *i, const char *controller,
                       const char **path, cr_err *err);

/* A cgroup of the run's own beside the replicas' (the stress kind's
 * "beside" placement): <the run-owned parent>/<name> in controller, made
 * on first use and recorded in the ledger like the replicas' cgroups;
 * name is one component of [A-Za-z0-9_-] (so never a replica's name).
 * Removed at the run's end, processes inside killed.  Codes as above,
 * CR_EINVAL for a bad name. */
int cr_run_own_cgroup(cr_run *r, const char *name, const char *controller,
                      const char **path, cr_err *err);

/* Put process pid into every cgroup the run made for instance i
 * (cr_run_inst_cgroup), its freezer cgroup excepted, so that it shares
 * the replica's limits (the stress kind's "inside" placement); *joined:
 * how many.  For a child waiting in cr_spawn's before_exec.  0 or a CR_E*
 * code with err. */
int cr_run_inst_cgroup_join(cr_run *r, const cr_inst *i, pid_t pid,
                            size_t *joined, cr_err *err);

/* Freeze (frozen 1) or thaw (0) every process of instance i's own freezer
 * cgroup (made first with cr_run_inst_cgroup(.., "freezer", ..)) -- also
 * those that left its process group -- through the v1 freezer (v2:
 * cgroup.freeze), waiting at
 * most timeout_s until the kernel reports the state.  A freeze asks the
 * supervision table first (CR_ESTATE, nothing done, when the replica does
 * not run or is being stopped), records "thaw <dir>" in the ledger before
 * it writes (the janitor thaws after a killed harness) and moves the
 * replica to "paused"; a freeze not reached in time is thawed again
 * (CR_ETIMEOUT).  A thaw resumes it and closes the record.  Whatever
 * stops or restarts a frozen replica thaws it first (the table's "cont"
 * action).  0 or a CR_E* code with err. */
int cr_run_freeze(cr_run *r, cr_inst *i, int frozen, double timeout_s,
                  cr_err *err);

/* ---- size-limited scratch file systems (cr_run_mount.c) ---------------
 *
 * Mount a tmpfs of size_mb MiB at dir (made with its parents when
 * missing), which must be inside the run directory, recorded in the
 * ledger ("mount <dir>") first; unmounted at the run's end, or by the
 * janitor after a crash.  Needs CAP_SYS_ADMIN.  0, CR_EINVAL (dir outside
 * the run directory), CR_EUNSUP (not permitted: the reason in err),
 * CR_ESYS. */
int cr_run_tmpfs(cr_run *r, const char *dir, double size_mb, cr_err *err);

/* ---- network hosts and the fault proxy (cr_run_net.c, cr_run_proxy.c) --
 *
 * For fault kinds that act on the run's network topology or its proxy. */

/* The run's topology (for fault kinds), NULL before setup or without hosts. */
cr_net_topo *cr_run_net_topo(cr_run *r);
/* Capability probe with the run's ledger (cached). */
int cr_run_net_caps(cr_run *r, cr_net_caps *out, cr_err *err);
/* Remote nodes (hosts with "ssh", engine/cr_run_ssh.c).  active: 1 when
 * the run's hosts are nodes.  partition: an nftables table on every node
 * of groups[g] (NULL-terminated names) dropping what comes from the nodes
 * of the other groups (one_way: only from earlier groups), each recorded
 * in the ledger ("ssh-nft") before it is loaded; *state is set even on
 * failure, for partition_revert (which frees it once everything is
 * undone, and keeps what it could not undo for a later call). */
int cr_run_ssh_active(cr_run *r);
int cr_run_ssh_partition(cr_run *r, const char **const *groups, size_t ngroups,
                         int one_way, void **state, cr_err *err);
int cr_run_ssh_partition_revert(cr_run *r, void *state, cr_err *err);
/* netem and bandwidth on nodes: the traffic of each flow (flows[i][0] =
 * sending host, [1] = receiving host) through a qdisc made by tc with
 * `child`'s arguments on the sender (net/cr_ssh.h, cr_ssh_tc_apply_cmd),
 * one handle per sender recorded in the ledger ("ssh-tc") before it is
 * loaded; *state as for partitions.  qdisc_probe: before the run, each
 * sender installs the same in a throw-away network namespace; CR_EUNSUP
 * naming the node, `what` (the fault) and tc's words when it cannot. */
int cr_run_ssh_qdisc(cr_run *r, const char *const (*flows)[2], size_t n,
                     const char *child, void **state, cr_err *err);
int cr_run_ssh_qdisc_revert(cr_run *r, void *state, cr_err *err);
int cr_run_ssh_qdisc_probe(cr_run *r, const char *const (*flows)[2], size_t n,
                           const char *what, const char *child, cr_err *err);
/* For fault kinds acting inside replicas on nodes (syscall through
 * libfiu).  svc_node: the node `service` is placed on, or NULL (known from
 * the scenario, before set-up).  svc_dir: its directory on the node (after
 * set-up), or NULL.  exec: run cmd on the node of `service` through its
 * control shell, stdout (up to n-1 bytes) into out; with `in` given, the
 * shell variable g holds the replica's process group first (its pidfile;
 * exit 1 when there is none).  0, or a code with err naming the node. */
const char *cr_run_ssh_svc_node(cr_run *r, const char *service);
const char *cr_run_ssh_svc_dir(cr_run *r, const char *service);
/* The cgroup of controller ctl ("cpu", "memory", "pids") for replica in
 * on its ssh node, made at the first call (prepare): a v1 hierarchy of the
 * controller there, else cgroup v2 (*v2 1); every start of the replica
 * joins it before its program runs, and a running replica is moved in.
 * *path: its directory on the node (the run's; valid to the end).  It goes
 * with the node's directory, at the end and in `chaosrun cleanup`.  0, or
 * CR_EUNSUP naming the node and why. */
int cr_run_ssh_cgroup(cr_run *r, const cr_inst *in, const char *ctl,
                      const char **path, int *v2, cr_err *err);
/* pause mode freezer on a node: the replica's freezer cgroup there (v1
 * freezer.state, v2 cgroup.freeze) frozen or thawed, waited for until the
 * kernel says so (at most timeout_s).  0 or a code with err. */
int cr_run_ssh_freeze(cr_run *r, const cr_inst *in, int frozen,
                      double timeout_s, cr_err *err);
/* Thawed if cr_run_ssh_freeze froze it (a stop or a new start must not
 * meet a frozen cgroup); errors go to the journal's log. */
void cr_run_ssh_thaw_inst(cr_run *r, const cr_inst *in);
/* A cgroup of the run's own on the node of `service` (the stress kind's
 * "beside"): <the run's parent there>/<name> in controller ctl, made at
 * the first call like a replica's and removed with it; name is one
 * component of [A-Za-z0-9_-] (never a replica's name), and the node's
 * <dir>/<name>.pid.cgroups lists it for whoever joins it.  *path, *v2 and
 * codes as for cr_run_ssh_cgroup (*path valid to the end of the run). */
int cr_run_ssh_own_cgroup(cr_run *r, const char *service, const char *name,
                          const char *ctl, const char **path, int *v2,
                          cr_err *err);
/* The clock offset of the node `service` is placed on (node - here, in
 * seconds, as measured at set-up; journal "ssh_nodes"), 0 when none. */
double cr_run_ssh_svc_offset(cr_run *r, const char *service);
int cr_run_ssh_exec(cr_run *r, const char *service, const cr_inst *in,
                    const char *cmd, char *out, size_t n, cr_err *err);
/* cmd on node `host` (a host with "ssh") through its control shell, as
 * cr_run_ssh_exec without a replica.  ssh_dir: the node's directory of
 * the run (after set-up), or NULL for another host. */
int cr_run_ssh_node_exec(cr_run *r, const char *host, const char *cmd,
                         char *out, size_t n, cr_err *err);
const char *cr_run_ssh_dir(cr_run *r, const char *host);

/* Send one command to the run's proxy; *reply (malloc'd, may be NULL)
 * receives the reply line.  CR_ESTATE when the run has no proxy, CR_EPROTO
 * when the reply starts with "err" (its text goes to err). */
int cr_run_proxy_command(cr_run *r, const char *line, char **reply,
                         cr_err *err);

/* Progress text for the terminal and the journal's log. */
void cr_run_log(cr_run *r, const char *fmt, ...) CR_PRINTF(2, 3);

#endif
