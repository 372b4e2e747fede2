/* cr_run_internal: the run engine's state, shared by the files of
 * engine/: cr_run.c (loop and phases), cr_runsetup.c (making and finishing
 * a run), cr_svc.c (starting and reaping replicas), cr_supervise.c (their
 * state machine, cr_svc_fsm.h), cr_shutdown.c (the ordered stop),
 * cr_runfault.c, cr_runprobe.c (the probe thread), cr_runjudge.c,
 * cr_run_net.c, cr_run_proxy.c, cr_run_cgroup.c and cr_run_mount.c
 * (cr_ledger.c keeps its own header).
 * Nothing outside engine/ includes it. */
#ifndef CR_RUN_INTERNAL_H
#define CR_RUN_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "base/cr_seg.h"
#include "base/cr_spawn.h"
#include "checks/cr_check.h"
#include "checks/cr_live.h"
#include "faults/cr_fault.h"
#include "cr_ledger.h"
#include "probes/cr_probe.h"
#include "cr_run.h"
#include "cr_svc_fsm.h"
#include "checks/cr_scrape.h"

typedef struct cr_svc cr_svc;

typedef struct cr_envvar {
    char *key;
    char *val;
} cr_envvar;

typedef struct cr_envlist {
    cr_envvar *v;
    size_t n, cap;
} cr_envlist;

struct cr_inst {
    cr_run *run;
    cr_svc *svc;
    int idx;
    char name[96];
    /* Supervision state: changed only by cr_svc_fire (cr_supervise.c),
     * through the table of cr_svc_fsm.c. */
    cr_svc_state st;
    pid_t pid;         /* 0: not running */
    int ready;         /* the readiness check passed since the last start */
    int starts;        /* how many times started */
    int restarts;      /* starts caused by policy or restart faults */
    int restart_fault; /* the pending restart is a restart fault's */
    int ledger_id;     /* "pgid" record of the running process */
    /* The stop in progress (stopping, restarting): what to send, when it
     * began, whether SIGKILL was needed. */
    int stop_sig;
    double stop_timeout_s;
    double stop_t;
    double stop_kill_at; /* SIGKILL deadline (run time) */
    int stop_killed;
    char stop_cause[CR_PATH_MAX]; /* "fault:<name>", "stop" */
    char kill_cause[CR_PATH_MAX]; /* cause recorded for the next exit */
    cr_envlist env;               /* per-instance overrides */
    char log_path[4096];          /* for messages; opened through run->logsfd */
    char log_name[128];           /* "<instance>.log" in logs/ */
    off_t log_scanned; /* readiness by log regex: bytes already read */
    /* Its log's rotation (cr_runrot.c owns it), or NULL. */
    struct cr_rot_file *log_rot;
    int log_rot_tried;
    double ready_deadline;
    /* A readiness job is queued on the probe thread (book-keeping of the
     * queue, not a state: at most one job per replica at a time). */
    int ready_job;
    char ready_last[256]; /* the last failed readiness answer (messages) */
    json_t *history;      /* journal: [{t, what, ...}] */
    /* A container replica (cr_run_ctr.c): its name, its ledger entry
     * (open until it is removed), whether it was created. */
    char ctr_name[160];
    char ctr_id[80]; /* the engine's id: runc's container id (podman) */
    int ctr_lid;
    int ctr_made;
    int ctr_runc; /* its runtime is runc (faults through `runc`) */
    /* The container's own process (cr_run_ctr_watch): a pidfd on the
     * init pid runc names, in the loop's epoll set, so its exit is seen
     * when it dies, not when the engine's client notices; the exit code
     * is conmon's exit file (ctr_exitf), as it was before the watch
     * began (ctr_exit_ino/_mt) to tell a new one from a stale one. */
    int ctr_watching;
    int ctr_exit_seen; /* this exit was seen through the watch */
    int ctr_pfd;
    pid_t ctr_pid;
    double ctr_next_look;
    char ctr_exitf[320];
    unsigned long long ctr_exit_ino;
    long long ctr_exit_mt;
};

struct cr_svc {
    const cr_svc_spec *spec;
    cr_inst *inst;      /* spec->replicas entries */
    cr_envlist env;     /* per-service variables from prepare hooks */
    char *exe;          /* argv[0] resolved through PATH */
    int remote;         /* placed on a remote node (cr_run_ssh.c) */
    int ctr;            /* a container (cr_run_ctr.c); exe: the engine */
    int ctr_engine;     /* CR_CTR_PODMAN or CR_CTR_DOCKER */
    char *ctr_runc;     /* podman's runtime, runc (its path), or NULL */
    char *ctr_seccomp;  /* a seccomp profile for its containers, or NULL */
    cr_spawn_cred cred; /* its identity (cr_svc_user.c); set 0: chaosrun's */
    struct {
        const cr_spawn_hook *ops;
        void *arg;
    } hooks[CR_SPAWN_HOOKS_MAX]; /* cr_run_add_spawn_hook */
    size_t nhooks;
    /* Offsets of a new time namespace every start of a replica gets
     * ("monotonic 30 0\n"; cr_run_svc_timens), "" for none. */
    char timens[128];
    /* The end of the run (cr_shutdown.c): waiting for its stop_deps,
     * signalled, stopped; when it was signalled. */
    int stop_state;
    double stop_began;
};

enum cr_phase {
    CR_PH_INIT,
    CR_PH_STARTUP,
    CR_PH_BEFORE,
    CR_PH_FAULTS,
    CR_PH_DRAIN,
    CR_PH_AFTER,
    CR_PH_STOP,
    CR_PH_DONE,
};

/* A fault occurrence as the engine tracks it. */
typedef struct cr_act_rec {
    cr_fault_act act;
    int state; /* 0 pending, 1 active, 2 reverted/done, 3 failed */
    double t_applied, t_reverted;
    double t_apply_began; /* when apply started: effects may begin here */
    json_t *rec;          /* journal record */
} cr_act_rec;

/* Timers: a small sorted list; runs have few of them. */
typedef struct cr_timer {
    double at; /* run time */
    int kind;
    void *ptr;
    long arg;
    struct cr_timer *next;
} cr_timer;

typedef struct cr_probe_job {
    int kind; /* 0 probe, 1 readiness */
    const cr_probe_spec *probe;
    cr_inst *inst;
    int phase;
    double t;
    int ok;
    char detail[512];
    struct cr_probe_job *next;
} cr_probe_job;

struct cr_run {
    cr_scen *sc;
    const cr_run_opts *opts;
    uint64_t seed;
    const char *seed_source;
    char *dir;  /* absolute run directory (for messages and env) */
    int dirfd;  /* the run directory: every file is made through it */
    int logsfd; /* its logs/ */
    /* Directories for the run's own use (cr_run_tmpdir), removed at the
     * end. */
    struct cr_tmpdir {
        char name[64];
        int fd;
        int ledger_id;
    } tmpdirs[CR_RUN_MAX_TMPDIRS];
    size_t ntmpdirs;
    char *events_path; /* live event file written by services */
    char *bindir;
    double mono_t0;    /* CLOCK_MONOTONIC seconds at t0 (set later) */
    double mono_start; /* at run start */
    double t0_unix;
    double started_unix;
    int t0_set;
    enum cr_phase phase;
    double phase_end; /* run time at which the current phase ends */
    int interrupted;  /* SIGINT/SIGTERM received */
    int fatal_code;   /* CR_E* that aborts the run */
    cr_err err;       /* first fatal error */
    int startup_failed;
    int aborted; /* the before-probes never held: nothing judged (exit 5) */
    char startup_msg[1200]; /* why startup failed or the run was aborted */
    int before_failed;

    int epfd, sigfd, timerfd, inofd, evfd, ino_wd;
    int events_fd; /* reader of events_path */
    /* Event-file changes are read at most every ev_batch_s (0: at once,
     * when a fault waits for an event); ev_batch_armed: inofd is out of
     * the epoll set until the CR_T_EVENTS timer puts it back. */
    double ev_batch_s;
    int ev_batch_armed;
    /* ev_live: events are parsed as they arrive (a fault is triggered by
     * an event, or a probe counts events); otherwise the loop only reads
     * the bytes and counts the lines (ev_unparsed), and they are parsed
     * when something needs the history: a fault's revert, the end of the
     * run.  Parsing is most of the engine's CPU under a busy system. */
    int ev_live;
    size_t ev_unparsed;
    char *ev_buf;
    size_t ev_len, ev_cap;
    uint64_t ev_off; /* bytes of the event file read so far */
    /* Rotation of the event file and the logs (cr_runrot.c owns it: its
     * thread cuts), or NULL. */
    struct cr_rot *rot;
    cr_timer *timers;
    /* Trigger applications due before t0 (start-up readiness, early
     * events): held by on_timer, due at t0 (cr_run.c). */
    cr_timer *held;

    cr_svc *svcs;
    size_t nsvcs;
    /* Process groups of replicas that exited while members of the group
     * may still be alive: their orphans are reaped as they die. */
    pid_t *zpg;
    size_t nzpg, capzpg;
    /* Children the harness adopted that left every replica's group
     * (cr_stray.c), and how many adopted children it reaped. */
    struct cr_stray *strays;
    size_t nstrays, capstrays;
    size_t orphans_reaped;
    double stray_next; /* the loop's next look (monotonic) */
    size_t start_next; /* startup: next service to start */

    cr_act_rec **acts; /* every occurrence, in creation order */
    size_t nacts, cap_acts;
    int *trigger_counts; /* per fault: matching events (readiness) so far */
    int *trigger_fired;
    /* Triggered faults that did not happen as planned within the timeline
     * (cr_runfault_timeline_end): [{fault, problem}], or NULL.  They fail
     * the run (journal "timeline_incomplete"). */
    json_t *timeline_problems;
    /* Drain until quiet (sc->drain.until_quiet_s > 0): when the drain
     * began (run time). */
    double drain_began;
    /* The fault timeline's actual length (run time of its end): duration_s,
     * or more when it stretched for state-triggered faults (duration_max_s).
     * Set when the timeline ends. */
    double timeline_s;
    int stretch_logged;

    cr_history hist;
    pthread_mutex_t hist_lock;

    /* Probe thread. */
    pthread_t probe_thread;
    int probe_thread_up;
    pthread_mutex_t pq_lock;
    pthread_cond_t pq_cond;
    cr_probe_job *pq_in, *pq_out;
    int pq_quit;
    int probes_outstanding;
    int before_pending;
    int recovery_probing;     /* fast probing after the last fault ended */
    int recovery_outstanding; /* jobs of the current recovery round */
    int recovery_ok;          /* every job of the round passed so far */
    int after_pending;

    json_t *journal;
    json_t *j_phases, *j_faults, *j_probes, *j_log;
    json_t *j_stops;  /* journal "stops" (cr_shutdown.c) */
    json_t *j_strays; /* journal "strays" (cr_stray.c) */

    cr_ledger *ledger;
    int janitor_fd; /* write end: closing it without "done" = crash */
    pid_t janitor_pid;

    double next_status; /* when to report the live status next */
    /* Live judging (cr_runlive.c): the streaming checkers, made at the
     * first tick after t0; the last states (one per expectation) and
     * their counts by state; the monotonic time of the next tick. */
    cr_live_set *live;
    cr_live *live_st;
    size_t live_counts[CR_LIVE_NSTATES];
    int live_failed; /* live judging ran out of memory: stays off */
    double live_next;
    long stopped_early;      /* --fail-fast: the expectation, else -1 */
    char cause[CR_PATH_MAX]; /* "fault:<name>" while a backend runs */
    cr_scrape *scrape;       /* Prometheus scraper for slo checks */
    void *proxy;   /* fault proxy process (cr_run_proxy.c owns it), or NULL */
    void *net;     /* network topology (cr_run_net.c owns it), or NULL */
    void *ssh;     /* remote nodes (cr_run_ssh.c owns them), or NULL */
    void *ctr;     /* container services (cr_run_ctr.c owns it), or NULL */
    void *syscall; /* the syscall kind's per-run state (its spawn hooks'
                      fini frees it), or NULL */
    void *cgroup;  /* replicas' cgroups (cr_run_cgroup.c owns it), or NULL */
    void *mounts;  /* tmpfs mounts (cr_run_mount.c owns it), or NULL */
};

/* cr_svc.c */
int cr_svc_init(cr_run *r, cr_err *err);
void cr_svc_fini(cr_run *r);
int cr_svc_start(cr_run *r, cr_inst *i, const char *cause, cr_err *err);
/* Reap children; calls cr_run_on_exit for each instance that exited. */
void cr_svc_reap(cr_run *r);
/* One replica's leader (a group leader the engine started): reap the
 * ended members of its group, never the leader itself with them; its pid
 * when the leader ended (*status set), else 0. */
pid_t cr_svc_reap_leader(pid_t leader, int *status);
int cr_envlist_set(cr_envlist *l, const char *key, const char *val);
void cr_envlist_free(cr_envlist *l);
void cr_inst_hist(cr_inst *i, const char *what, json_t *extra);
size_t cr_svc_running(const cr_run *r);
/* Every spawn hook's fini, once (after every replica was stopped). */
void cr_svc_hooks_fini(cr_run *r);

/* cr_svc_user.c */
/* Resolve each service's identity ("user"/"group", else opts->service_user)
 * and make its "dirs"; when services run as another user, the event file
 * becomes appendable by their (one) group.  Before any service starts. */
int cr_svc_identities(cr_run *r, cr_err *err);

/* cr_run.c */
/* opts->self_exe, or "/proc/self/exe". */
const char *cr_run_self_exe(const cr_run *r);
double cr_run_mono(void);
double cr_run_unix_now(void);
/* The wall clock and the monotonic clock read as one pair. */
void cr_run_clock_pair(double *unix_now, double *mono_now);
void cr_run_phase_enter(cr_run *r, enum cr_phase ph);
void cr_run_read_events(cr_run *r);
int cr_run_loop(cr_run *r);
void cr_run_begin(cr_run *r);
void cr_run_timer_add(cr_run *r, double at, int kind, void *ptr, long arg);
/* Drop the timers of that kind (for ptr, or all when ptr is NULL). */
void cr_run_timer_cancel(cr_run *r, int kind, void *ptr);
/* Phases entered from supervision: before (every service ready), stop
 * (start-up failed). */
void cr_run_before_phase(cr_run *r);
void cr_run_stop_phase(cr_run *r);
void cr_run_journal_log(cr_run *r, const char *text);

/* cr_supervise.c: the only code that changes a replica's state. */
/* Parameters some events carry. */
typedef struct cr_svc_args {
    int status;         /* EXIT: the wait status */
    const char *detail; /* READY: how readiness was seen */
} cr_svc_args;
/* Feed an event to the replica's state machine and carry out the actions
 * of the transition.  CR_ESTATE (err set) when the table refuses it, or
 * the code of an action that failed (a stop signal that could not be
 * sent: the state is then unchanged; a spawn: the replica is exited). */
int cr_svc_fire(cr_run *r, cr_inst *in, cr_svc_event ev, const cr_svc_args *a,
                cr_err *err);
/* Start the next service in start-up order, or enter the before phase
 * when every service is ready. */
void cr_run_startup_next(cr_run *r);
/* The loop's timers of a replica: CR_T_STOP_KILL, CR_T_RESTART,
 * CR_T_READY. */
void cr_svc_on_timer(cr_run *r, int kind, cr_inst *in);
void cr_svc_ready_tick(cr_run *r, cr_inst *in);
/* A readiness job came back from the probe thread. */
void cr_svc_ready_result(cr_run *r, cr_inst *in, int ok, const char *detail);
/* A replica exited (from cr_svc_reap): history, log line, EXIT event. */
void cr_run_on_exit(cr_run *r, cr_inst *in, int status);

/* cr_shutdown.c: the ordered stop at the end of the run. */
/* Enter it (the stop phase has begun): services without stop_deps get
 * their stop signal now, the others as their deps stop. */
void cr_shutdown_begin(cr_run *r);
/* After an exit during the stop phase: signal what may go now. */
void cr_shutdown_advance(cr_run *r);
/* Every service has stopped. */
int cr_shutdown_done(const cr_run *r);
/* A replica that was stopping (stopping, restarting) exited: its record in
 * the journal's "stops". */
void cr_shutdown_record(cr_run *r, cr_inst *in, int status);

/* cr_runfault.c */
int cr_runfault_schedule(cr_run *r, cr_err *err);
void cr_runfault_apply(cr_run *r, cr_act_rec *a);
void cr_runfault_revert(cr_run *r, cr_act_rec *a, const char *why);
void cr_runfault_revert_all(cr_run *r, const char *why);
int cr_runfault_active(const cr_run *r);
int cr_runfault_pending(const cr_run *r);
size_t cr_runfault_triggered_unfinished(const cr_run *r, char *buf, size_t n);
void cr_runfault_active_names(const cr_run *r, char *buf, size_t n);
void cr_runfault_on_event(cr_run *r, const cr_event *e);
void cr_runfault_on_ready(cr_run *r, const cr_inst *in);
void cr_runfault_timeline_end(cr_run *r);
void cr_runfault_on_spawn(cr_run *r, cr_inst *in);
void cr_runfault_free(cr_run *r);
const char *cr_runfault_cause(cr_run *r);

/* cr_runlive.c: judging while the run goes on.  tick: about once a
 * second (every call when force), after t0: parse the new events, feed
 * the streaming checkers, write status.json, and with --fail-fast stop
 * the run at the first final violation.  flush: at the end of the loop,
 * before the history is sorted: every event held back is fed.  end: the
 * last status.json ("final": true, each expectation's verdict); frees
 * the live state.  The run's monotonic time of the next tick is
 * live_next. */
void cr_runlive_tick(cr_run *r, int force);
void cr_runlive_flush(cr_run *r);
void cr_runlive_end(cr_run *r, int exit_code);

/* cr_runjudge.c */
/* Evaluate every expectation; fills the journal; returns the exit status
 * (0 all passed, 1 some failed or unknown). */
int cr_runjudge_eval(cr_run *r, const cr_history *baseline);

/* cr_runprobe.c */
int cr_runprobe_start(cr_run *r, cr_err *err);
void cr_runprobe_stop(cr_run *r);
void cr_runprobe_submit(cr_run *r, cr_probe_job *job);
/* Pop finished jobs (caller frees them). */
cr_probe_job *cr_runprobe_take(cr_run *r);

/* cr_run_ssh.c: remote nodes over OpenSSH (hosts with "ssh"; net/cr_ssh.h).
 * setup: a master per node, its clock offset, its directory, the event
 * follower (journal "ssh_nodes"); check: CR_EUNSUP naming a fault kind or
 * probe that cannot act on a node; ssh_dir/addr: a node's directory and
 * address (NULL for another host); spawn_argv: the ssh command line of a
 * replica placed on a node (env: the chaosrun variables only; *argv for
 * cr_ssh_argv_free, *path borrowed); signal: `kill` over the master to
 * the replica's remote process group; drain: wait until every byte of the
 * nodes' event files was forwarded (before the last read of events);
 * teardown: leftovers killed, directories removed, masters closed. */
int cr_run_ssh_setup(cr_run *r, cr_err *err);
int cr_run_ssh_check(cr_run *r, cr_err *err);
const char *cr_run_ssh_addr(cr_run *r, const char *host);
int cr_run_ssh_spawn_argv(cr_run *r, const cr_inst *in, char *const *env,
                          char ***argv, const char **path, cr_err *err);
int cr_run_ssh_signal(cr_run *r, const cr_inst *in, int sig, cr_err *err);
void cr_run_ssh_drain(cr_run *r);
void cr_run_ssh_teardown(cr_run *r);

/* cr_run_ctr.c: services run as containers through the engine's CLI
 * (podman or docker).  init: after the services are built (engine, image
 * present); check: which faults may aim at them (CR_EUNSUP otherwise);
 * spawn_argv: the `ENGINE start --attach` command line that is the
 * replica; signal: kill/pause/unpause through
 * the engine; status: the client's exit status as waitpid would give it
 * for the container's program (128+N: signal N); teardown: removes this
 * run's containers (cr_ledger.h: cr_ctr_cleanup_entry for the janitor
 * and `chaosrun cleanup`). */
int cr_run_ctr_init(cr_run *r, cr_err *err);
int cr_run_ctr_check(cr_run *r, cr_err *err);
/* Create the replica's container (recorded in the ledger first) with the
 * environment envp, and have the engine set it up (podman init), so that
 * a refusal (rlimits, cgroups) is seen before the run starts: CR_EUNSUP
 * with the reason.  cr_svc_ctr_create: every container replica's, after
 * the faults' preparations (they may set variables). */
int cr_run_ctr_create(cr_run *r, cr_inst *in, char *const *envp, cr_err *err);
int cr_svc_ctr_create(cr_run *r, cr_err *err);
int cr_run_ctr_spawn_argv(cr_run *r, cr_inst *in, char *const *envp,
                          char ***argv, const char **path, cr_err *err);
int cr_run_ctr_signal(cr_run *r, const cr_inst *in, int sig, cr_err *err);
int cr_run_ctr_status(const cr_inst *in, int status);
void cr_run_ctr_teardown(cr_run *r);
/* The loop: cr_run_ctr_watch starts watching the container process of
 * every running container replica that has none yet (runc only) and
 * says how soon (ms) it wants to be called again (-1: no need);
 * cr_run_ctr_on_fd handles a readable fd of the epoll set that is such a
 * watch (1) or not (0); cr_run_ctr_unwatch ends a replica's watch. */
int cr_run_ctr_watch(cr_run *r);
int cr_run_ctr_on_fd(cr_run *r, int fd);
/* A replica's client reaped with status: the status to record (128+N of
 * a container read as signal N).  When the watched container process had
 * ended too, its exit counts as seen by it (ctr_exit_seen set, for the
 * caller to clear after cr_svc_exited) with conmon's code if still
 * there. */
int cr_run_ctr_reaped(cr_inst *in, int status);
void cr_run_ctr_unwatch(cr_run *r, cr_inst *in);
/* cr_svc.c: a replica has exited with status; its client group
 * (keep_group: a container's client, still writing the log) is reaped as
 * it ends, or at the end of the run (cr_svc_reap_end). */
void cr_svc_exited(cr_run *r, cr_inst *in, int status, int keep_group);
void cr_svc_reap_end(cr_run *r, double wait_s);

/* cr_runrot.c: rotating the event file and the logs (sc->rotate), cut by
 * a thread of its own so that compressing and syncing never hold up the
 * loop.  setup: the event file's rotation and the thread (before any
 * service starts): CR_EUNSUP when the file system cannot punch holes.
 * log_open: a replica's log's (at its first start, before its program
 * runs).  tick: from the loop, about 4 times a second: tells the thread
 * how far each file may be cut, and journals a file whose rotation
 * stopped.  journal: stops the thread, adds the "rotate" record; fini:
 * stops it and closes everything (safe after any step). */
int cr_runrot_setup(cr_run *r, cr_err *err);
void cr_runrot_log_open(cr_run *r, cr_inst *in);
void cr_runrot_tick(cr_run *r);
void cr_runrot_journal(cr_run *r);
void cr_runrot_fini(cr_run *r);

/* cr_stray.c: children the harness adopted as subreaper that cr_spawn did
 * not start.  scan: reap the ended ones, record the live ones outside
 * every replica's group (ledger "pid", journal "strays"); tick: scan at
 * most once a second (the loop); end: once every replica is gone,
 * SIGTERM the live ones, SIGKILL after 2 s, until none is left (at most
 * 8 s); fini: free. */
void cr_stray_scan(cr_run *r);
void cr_stray_tick(cr_run *r);
void cr_stray_end(cr_run *r);
void cr_stray_fini(cr_run *r);

/* cr_run_net.c: the run's network hosts (see net/cr_net.h). */
/* Before services start, when the scenario has hosts: privilege check
 * (CR_EUNSUP naming CAP_NET_ADMIN/CAP_SYS_ADMIN), topology creation with
 * every object in the run's ledger.  No hosts: returns 0, does nothing. */
/* cr_run_cgroup.c: the replicas' cgroups (cr_run_inst_cgroup in
 * cr_run.h).  attach: put a new replica's pid into every cgroup made for
 * it (called while it waits before exec; 0 when it has none).  teardown:
 * after the replicas are gone, remove every cgroup (replicas' first, then
 * the run's parents) and mark their ledger entries done; frees the state.
 * A cgroup that cannot be removed is logged and left to the ledger. */
int cr_run_cgroup_attach(cr_run *r, const cr_inst *in, pid_t pid, cr_err *err);
void cr_run_cgroup_teardown(cr_run *r);
/* The freezer side of cr_run_freeze (no supervision state): CR_ESTATE
 * when in has no freezer cgroup.  thaw_inst: thaw in's freezer cgroup if
 * a freeze of it is open (best effort; for stops and restarts). */
int cr_run_cgroup_freeze(cr_run *r, const cr_inst *in, int frozen,
                         double timeout_s, cr_err *err);
void cr_run_cgroup_thaw_inst(cr_run *r, const cr_inst *in);

/* cr_run_mount.c: unmount every tmpfs of cr_run_tmpfs (after the replicas
 * are gone; lazily when still busy) and mark the ledger entries done. */
void cr_run_mount_teardown(cr_run *r);

int cr_run_net_setup(cr_run *r, cr_err *err);
/* After the run (services stopped, faults reverted): remove everything. */
void cr_run_net_teardown(cr_run *r);
/* A new O_CLOEXEC fd of the host's namespace for setns(fd, CLONE_NEWNET)
 * in a child between fork and exec; the caller closes it.  -1 when the
 * host is unknown. */
int cr_run_host_fd(cr_run *r, const char *host);
/* The name of host's namespace under /run/netns, or NULL. */
const char *cr_run_host_netns(cr_run *r, const char *host);
/* The host's address ("10.x.y.z"), NULL when unknown.  Owned by the module. */
const char *cr_run_host_addr(cr_run *r, const char *host);
/* The host's region label from the scenario, NULL when it has none or
 * the host is unknown.  Owned by the scenario. */
const char *cr_run_host_region(const cr_run *r, const char *host);
/* Run fn(arg) on a thread inside the host's namespace (probes that must
 * reach services on hosts: connect from there).  Returns 0 with *ret set,
 * CR_ENOTFOUND for an unknown host, or CR_ESYS. */
int cr_run_host_call(cr_run *r, const char *host, void *(*fn)(void *),
                     void *arg, void **ret, cr_err *err);

/* cr_run_proxy.c: the run's fault proxy process (see proxy/cr_proxy.h). */
/* After the run directory exists and before any service starts, only when
 * sc->links is set: launch `<exe> proxy` as a child (recorded in the
 * ledger as "proxy <pid>", killed with the harness through
 * PR_SET_PDEATHSIG), wait until its control socket answers, and point
 * CHAOSRUN_ADDR_<TO>/CHAOSRUN_ADDRS_<TO> of every `from` service at the
 * link's listener.  Returns 0, or a negative code with err set and no
 * process left behind. */
int cr_run_proxy_start(cr_run *r, cr_err *err);
/* At the end of the run (also after a failed start; a no-op then): fetch
 * the statistics, stop the proxy process, forget the run.  Returns the
 * statistics (new reference) for the journal, or NULL when the run had no
 * proxy or the proxy did not answer. */
json_t *cr_run_proxy_stop(cr_run *r);

enum {
    CR_T_FAULT_APPLY = 1,
    CR_T_FAULT_REVERT,
    CR_T_PHASE,
    CR_T_PROBE,
    CR_T_STOP_KILL,
    CR_T_RESTART,
    CR_T_READY,
    CR_T_RECOVERY,
    CR_T_EVENTS,
};

#endif
