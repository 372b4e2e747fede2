/* cr_runsetup: creating a run and finishing it.
 *
 * cr_run_scenario() makes the run directory, runs the fault-free baseline
 * when a checker needs one, opens the ledger and starts the janitor, sets
 * up the event loop, asks every fault backend whether this machine can do
 * it (exit 3 if not), sets up hosts and the fault proxy, runs the loop
 * (cr_run.c), judges (cr_runjudge.c), and writes the journal, the merged
 * events and the reports -- on success, failure and interruption alike. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_path.h"
#include "base/cr_zst.h"
#include "net/cr_net.h"
#include "proxy/cr_proxy.h"
#include "cr_run_internal.h"

/* ---- set-up and tear-down --------------------------------------------------
 */

/* The run directory: --out (new, empty, or emptied with --force) or a
 * new chaosrun-out/<name>-<stamp>[-k]; its fd, absolute path, logs/. */
static int make_run_dir(cr_run *r, cr_err *err)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (r->opts->out_dir) {
        snprintf(path, sizeof path, "%s", r->opts->out_dir);
        r->dirfd = cr_dir_claim(path, r->opts->force ? CR_DIR_FORCE : 0, err);
    } else {
        char stamp[32];
        cr_run_utc_stamp(stamp, sizeof stamp);
        for (int k = 1; k <= 1000; k++) {
            if (k == 1)
                snprintf(path, sizeof path, "chaosrun-out/%s-%s", r->sc->name,
                         stamp);
            else
                snprintf(path, sizeof path, "chaosrun-out/%s-%s-%d",
                         r->sc->name, stamp, k);
            cr_err e;
            cr_err_clear(&e);
            r->dirfd = cr_dir_claim(path, CR_DIR_NEW, &e);
            if (r->dirfd != CR_ESTATE) {
                if (r->dirfd < 0)
                    cr_err_set(err, e.code, "%s", e.msg);
                break;
            }
        }
    }
    if (r->dirfd < 0) {
        int code = r->dirfd;
        r->dirfd = -1;
        return code == CR_ESTATE ? cr_err_set(err, CR_ESYS,
                                              "run directory "
                                              "%s: exists",
                                              path)
                                 : code;
    }
    if (cr_dir_path(r->dirfd, real, sizeof real, err) != 0)
        return err->code;
    r->dir = cr_strdup(real);
    if (!r->dir)
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    cr_err e;
    cr_err_clear(&e);
    r->logsfd = cr_dir_mkdir(r->dirfd, "logs", 0755, 1, &e);
    if (r->logsfd < 0) {
        int code = r->logsfd;
        r->logsfd = -1;
        return cr_err_set(err, code, "run directory %s: %s", real, e.msg);
    }
    r->events_path = cr_asprintf("%s/events.live.jsonl", real);
    if (!r->events_path)
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    return CR_OK;
}

static char *self_bindir(void)
{
    char buf[PATH_MAX];
    cr_path_helper_dir(buf, sizeof buf);
    return cr_strdup(buf);
}

static int add_fd(cr_run *r, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(cr_run *r, cr_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return cr_err_set(err, CR_ESYS, "sigprocmask failed");
    signal(SIGPIPE, SIG_IGN);
    r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (r->sigfd < 0 || r->epfd < 0 || r->timerfd < 0 || r->evfd < 0 ||
        r->inofd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "event loop set-up");
    /* A new file (the run directory is new or emptied): the harness's
     * reading end; services open it by path.  Watched through the fd, so
     * the watch is on the file made here, whatever the path names later. */
    cr_err e;
    char self[64];
    cr_err_clear(&e);
    r->events_fd = cr_dir_create(r->dirfd, "events.live.jsonl",
                                 O_RDONLY | O_NONBLOCK, 0644, &e);
    if (r->events_fd < 0) {
        int code = r->events_fd;
        r->events_fd = -1;
        return cr_err_set(err, code, "event file %s: %s", r->events_path,
                          e.msg);
    }
    if (cr_runrot_setup(r, err) != 0)
        return err->code;
    snprintf(self, sizeof self, "/proc/self/fd/%d", r->events_fd);
    r->ino_wd = inotify_add_watch(r->inofd, self, IN_MODIFY);
    if (r->ino_wd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "inotify on %s", r->events_path);
    if (add_fd(r, r->sigfd) || add_fd(r, r->timerfd) || add_fd(r, r->evfd) ||
        add_fd(r, r->inofd))
        return cr_err_sys(err, CR_ESYS, errno, "epoll_ctl");
    /* A busy system under test writes thousands of events a second; waking
     * for each would take CPU from it.  Batches of 20 ms cost nothing that
     * matters -- unless a fault is triggered by an event: then at once. */
    r->ev_batch_s = 0.020;
    for (size_t i = 0; i < r->sc->nfaults; i++)
        if (r->sc->faults[i].trigger && !r->sc->faults[i].trigger->ready_svc) {
            r->ev_batch_s = 0;
            r->ev_live = 1;
        }
    for (size_t i = 0; i < r->sc->nprobes; i++)
        if (strcmp(r->sc->probes[i].ops->kind, "event") == 0)
            r->ev_live = 1;
    /* Orphans of the services are reparented to us, not to init, so
     * they are reaped here and killed with their group. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return CR_OK;
}

static json_t *machine_json(void)
{
    struct utsname u;
    json_t *m = json_object();
    if (uname(&u) == 0) {
        json_object_set_new(m, "hostname", json_string(u.nodename));
        json_object_set_new(m, "kernel", json_string(u.release));
        json_object_set_new(m, "arch", json_string(u.machine));
    }
    json_object_set_new(m, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    return m;
}

static int needs_baseline(const cr_scen *sc)
{
    for (size_t i = 0; i < sc->nexpects; i++)
        if (sc->expects[i].ops->flags & CR_CHECK_NEEDS_BASELINE)
            return 1;
    return 0;
}

static int adds(cr_sbuf *b, const char *s)
{
    return cr_sbuf_add(b, s, strlen(s));
}

/* Append s as one word for sh: as is when it holds only safe characters,
 * else in single quotes (a ' inside as '\''). */
static int add_quoted(cr_sbuf *b, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-./:=@,+") == strlen(s))
        return adds(b, s);
    int rc = adds(b, "'");
    for (const char *p = s; *p && !rc;) {
        size_t k = strcspn(p, "'");
        rc = cr_sbuf_add(b, p, k);
        p += k;
        if (*p == '\'' && !rc) {
            rc = adds(b, "'\\''");
            p++;
        }
    }
    return rc || adds(b, "'");
}

/* The command that runs this experiment again: the seed, the file, and
 * every environment variable the scenario expanded with the value it had
 * ("NAME=value", quoted for sh), or "env -u NAME" for those that were
 * unset, so that the caller's own environment cannot change the run.
 * NULL when out of memory. */
static char *reproduce_line(const cr_run *r)
{
    cr_sbuf b = {0};
    char seed[64];
    const char *name;
    json_t *v;
    int rc = adds(&b, ""), unset = 0;
    json_object_foreach (r->sc->vars, name, v) {
        if (json_is_string(v))
            continue;
        rc = rc || adds(&b, unset++ ? " -u " : "env -u ") || adds(&b, name);
    }
    if (unset)
        rc = rc || adds(&b, " ");
    json_object_foreach (r->sc->vars, name, v) {
        if (!json_is_string(v))
            continue;
        rc = rc || adds(&b, name) || adds(&b, "=") ||
             add_quoted(&b, json_string_value(v)) || adds(&b, " ");
    }
    snprintf(seed, sizeof seed, "chaosrun --seed %llu ",
             (unsigned long long)r->seed);
    rc = rc || adds(&b, seed) ||
         add_quoted(&b, r->sc->file ? r->sc->file : "scenario.json");
    if (rc) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

static void journal_init(cr_run *r)
{
    char *repro = reproduce_line(r);
    r->journal = json_object();
    r->j_phases = json_array();
    r->j_faults = json_array();
    r->j_probes = json_array();
    r->j_log = json_array();
    r->j_stops = json_array();
    r->j_strays = json_array();
    json_t *j = r->journal;
    json_object_set_new(j, "chaosrun", json_string(CR_VERSION));
    json_object_set_new(j, "format", json_integer(1));
    json_object_set_new(j, "scenario_file",
                        json_string(r->sc->file ? r->sc->file : ""));
    json_object_set_new(j, "name", json_string(r->sc->name));
    json_object_set_new(
        j, "description",
        json_string(r->sc->description ? r->sc->description : ""));
    json_object_set_new(j, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(j, "seed_source", json_string(r->seed_source));
    json_object_set_new(j, "reproduce", json_string(repro ? repro : ""));
    json_object_set_new(j, "variables", json_deep_copy(r->sc->vars));
    json_object_set_new(j, "baseline", json_boolean(r->opts->baseline));
    json_object_set_new(j, "started_at", json_real(r->started_unix));
    json_object_set_new(j, "duration_s", json_real(r->sc->duration_s));
    json_object_set_new(j, "drain_s", json_real(r->sc->drain_s));
    json_object_set_new(j, "machine", machine_json());
    json_object_set(j, "scenario", r->sc->root);
    json_object_set_new(j, "timeline", cr_scen_timeline_json(r->sc));
    json_object_set(j, "phases", r->j_phases);
    json_object_set(j, "faults", r->j_faults);
    json_object_set(j, "probes", r->j_probes);
    json_object_set(j, "log", r->j_log);
    json_object_set(j, "stops", r->j_stops);
    json_object_set(j, "strays", r->j_strays);
    cr_free(repro);
}

static int write_json_atomic(int dfd, const char *name, json_t *j, cr_err *err)
{
    cr_dir_tmp t;
    cr_err e;
    cr_err_clear(&e);
    if (cr_dir_tmp_open(&t, dfd, name, 0644, &e) != 0)
        return cr_err_set(err, e.code, "write %s: %s", name, e.msg);
    FILE *fp = cr_dir_tmp_file(&t);
    /* 16 digits: Unix times (started_at, t0_unix) need microseconds. */
    if (!fp ||
        json_dumpf(j, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(16)) != 0) {
        cr_dir_tmp_abort(&t);
        return cr_err_set(err, CR_ESYS, "write %s failed", name);
    }
    if (cr_dir_tmp_commit(&t, &e) != 0)
        return cr_err_set(err, e.code, "%s", e.msg);
    return CR_OK;
}

/* The end-of-run events file: events.jsonl.zst when the run rotates its
 * files (a baseline run's too: the real run reads it back through zstd, so
 * a long baseline costs its compressed size on disk, not a plain copy). */
static const char *history_name(const cr_scen *sc)
{
    return sc->rotate.max_bytes ? "events.jsonl.zst" : "events.jsonl";
}

/* The merged history, replaced atomically (compressed as it is written
 * when its name says so). */
static int write_history(cr_run *r, cr_err *err)
{
    cr_dir_tmp t;
    const char *name = history_name(r->sc);
    int rc = cr_dir_tmp_open(&t, r->dirfd, name, 0644, err);
    if (rc != 0)
        return rc;
    int zst = cr_zst_named(name);
    FILE *fp =
        zst ? cr_zst_wopen(t.fd, r->sc->rotate.level) : cr_dir_tmp_file(&t);
    if (!fp) {
        cr_dir_tmp_abort(&t);
        return cr_err_set(err, CR_ENOMEM, "%s: out of memory", name);
    }
    rc = cr_history_write_fp(&r->hist, fp, err);
    /* The zstd stream is ours (its fclose ends the frame); the plain one
     * is t's (committed below). */
    if (zst && fclose(fp) != 0 && rc == 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "write %s", name);
    if (rc != 0) {
        cr_dir_tmp_abort(&t);
        return rc;
    }
    return cr_dir_tmp_commit(&t, err);
}

static void finish_services_json(cr_run *r)
{
    json_t *arr = json_array();
    for (size_t s = 0; s < r->nsvcs; s++) {
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            char log[160];
            snprintf(log, sizeof log, "logs/%s.log", in->name);
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:i,s:i,s:s,s:O}", "instance",
                               in->name, "service", r->svcs[s].spec->name,
                               "replica", in->idx, "restarts", in->restarts,
                               "log", log, "history", in->history));
        }
    }
    json_object_set_new(r->journal, "services", arr);
}

int cr_run_tmpdir(cr_run *r, const char *name, mode_t mode, cr_err *err)
{
    cr_err e;
    cr_err_clear(&e);
    if (r->ntmpdirs == CR_RUN_MAX_TMPDIRS || !cr_dir_name_ok(name) ||
        strlen(name) >= sizeof r->tmpdirs[0].name)
        return cr_err_set(err, CR_EINVAL, "run directory: cannot make '%s'",
                          name);
    struct cr_tmpdir *t = &r->tmpdirs[r->ntmpdirs];
    int id = cr_run_ledger_add(r, err, "dir %s", name);
    if (id < 0)
        return id;
    int fd = cr_dir_mkdir(r->dirfd, name, mode, 1, &e);
    if (fd < 0) {
        /* Nothing was made (it existed, or mkdir failed): nothing to undo
         * -- and an entry found there is not ours to remove. */
        cr_ledger_done(r->ledger, id);
        return cr_err_set(err, fd, "run directory %s: %s", r->dir, e.msg);
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    t->fd = fd;
    t->ledger_id = id;
    r->ntmpdirs++;
    return fd;
}

/* The run's own directories go once nothing uses them any more. */
static void remove_tmpdirs(cr_run *r)
{
    while (r->ntmpdirs > 0) {
        struct cr_tmpdir *t = &r->tmpdirs[--r->ntmpdirs];
        cr_err e;
        cr_err_clear(&e);
        close(t->fd);
        if (cr_dir_remove(r->dirfd, t->name, &e) == 0)
            cr_ledger_done(r->ledger, t->ledger_id);
        else
            cr_run_journal_log(r, e.msg);
    }
}

static void teardown(cr_run *r)
{
    cr_runprobe_stop(r);
    cr_scrape_destroy(r->scrape);
    r->scrape = NULL;
    while (r->timers) {
        cr_timer *t = r->timers;
        r->timers = t->next;
        cr_free(t);
    }
    while (r->held) {
        cr_timer *t = r->held;
        r->held = t->next;
        cr_free(t);
    }
    /* Anything still alive (a failed set-up) goes now. */
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            if (in->pid > 0) {
                kill(-in->pid, SIGKILL);
                waitpid(in->pid, NULL, 0);
                cr_ledger_done(r->ledger, in->ledger_id);
                in->pid = 0;
            }
        }
    cr_run_ctr_teardown(r);    /* this run's containers (label checked) */
    cr_svc_reap_end(r, 5.0);   /* clients of exited containers */
    cr_stray_end(r);           /* what left its replica's group */
    cr_svc_hooks_fini(r);      /* every replica is gone now */
    cr_run_cgroup_teardown(r); /* and so their cgroups can go */
    cr_run_mount_teardown(r);
    if (r->proxy) { /* the module set up a proxy: stop it */
        json_t *st = cr_run_proxy_stop(r);
        if (st && r->journal)
            json_object_set_new(r->journal, "proxy", st);
        else
            json_decref(st);
    }
    if (r->net)
        cr_run_net_teardown(r); /* frees r->net */
    if (r->ssh)
        cr_run_ssh_teardown(r); /* remote leftovers, then the masters */
    remove_tmpdirs(r);
    int fds[] = {r->sigfd, r->epfd,  r->timerfd,
                 r->evfd,  r->inofd, r->events_fd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Discard signals that arrived after the loop ended, then unblock. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static const char *status_name(int exit_code, const cr_run *r)
{
    if (r->interrupted)
        return "interrupted";
    if (r->aborted && exit_code == 5)
        return "aborted";
    switch (exit_code) {
    case 0:
        return "passed";
    case 1:
        return "failed";
    case 3:
        return "unrunnable";
    case 5:
        return "startup_failed";
    default:
        return "error";
    }
}

/* ---- the steps of a run ------------------------------------------------- */

static void run_init(cr_run *r, cr_scen *sc, const cr_run_opts *opts)
{
    memset(r, 0, sizeof *r);
    cr_err_clear(&r->err);
    r->sc = sc;
    r->opts = opts;
    r->sigfd = r->epfd = r->timerfd = r->evfd = r->inofd = r->events_fd = -1;
    r->dirfd = r->logsfd = -1;
    r->janitor_fd = -1;
    r->stopped_early = -1;
    pthread_mutex_init(&r->hist_lock, NULL);
    pthread_mutex_init(&r->pq_lock, NULL);
    pthread_cond_init(&r->pq_cond, NULL);
    if (opts->seed_override) {
        r->seed = opts->seed;
        r->seed_source = "command line";
    } else {
        r->seed = sc->seed;
        r->seed_source = sc->seed_given ? "scenario" : "drawn";
    }
    sc->seed = r->seed;
    cr_run_clock_pair(&r->started_unix, &r->mono_start);
    r->mono_t0 = r->mono_start;
    cr_history_init(&r->hist, r->started_unix);
}

/* The fault-free baseline run, into <run dir>/baseline, when a checker
 * needs one: its events in *baseline (always initialised; empty when the
 * run did not complete).  Returns 1 when *baseline must be freed. */
static int run_baseline(cr_run *r, cr_history *baseline)
{
    if (r->opts->baseline || !needs_baseline(r->sc))
        return 0;
    cr_run_opts bo = *r->opts;
    char bdir[PATH_MAX + 16], bev[PATH_MAX + 32];
    snprintf(bdir, sizeof bdir, "%s/baseline", r->dir);
    bo.out_dir = bdir;
    bo.baseline = 1;
    bo.seed_override = 1;
    bo.seed = r->seed;
    bo.live_status = 0;
    int brc = cr_run_scenario(r->sc, &bo, NULL);
    snprintf(bev, sizeof bev, "%s/%s", bdir, history_name(r->sc));
    cr_history_init(baseline, 0);
    cr_err e;
    cr_err_clear(&e);
    if (brc > 1 || cr_history_load(baseline, bev, &e) != 0)
        cr_run_journal_log(r, "baseline run did not complete");
    /* The real run starts now. */
    cr_run_clock_pair(&r->started_unix, &r->mono_start);
    r->hist.t0 = r->started_unix;
    return 1;
}

/* Everything before the first service starts: the ledger and its janitor,
 * the loop, the services, whether this machine can do every fault, hosts,
 * the proxy, the faults' preparations, the probe thread. */
static int run_prepare(cr_run *r, cr_err *err)
{
    cr_scen *sc = r->sc;
    if (cr_ledger_open(r->dirfd, r->dir, &r->ledger, err) != 0 ||
        cr_janitor_spawn(r->ledger, cr_run_self_exe(r), &r->janitor_pid,
                         &r->janitor_fd, err) != 0 ||
        setup_loop(r, err) != 0 || cr_svc_init(r, err) != 0)
        return err->code;
    /* Can this machine do every fault?  Asked before anything starts
     * (first: which kinds can act on remote nodes at all). */
    if (cr_run_ssh_check(r, err) != 0 || cr_run_ctr_check(r, err) != 0)
        return err->code;
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->ops->check && f->ops->check(f, r, err) != 0)
            return err->code;
    }
    if (sc->hosts && cr_run_net_setup(r, err) != 0)
        return err->code;
    if (sc->links && cr_run_proxy_start(r, err) != 0)
        return err->code;
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->ops->prepare && f->ops->prepare(f, r, err) != 0)
            return err->code;
    }
    /* Containers are made now: a refusal of the engine exits 3 before
     * anything runs. */
    if (cr_svc_ctr_create(r, err) != 0)
        return err->code;
    r->trigger_counts = cr_calloc(sc->nfaults + 1, sizeof *r->trigger_counts);
    r->trigger_fired = cr_calloc(sc->nfaults + 1, sizeof *r->trigger_fired);
    if (!r->trigger_counts || !r->trigger_fired)
        return cr_err_set(err, CR_ENOMEM, "out of memory");
    return cr_runprobe_start(r, err);
}

/* The run itself, then the verdicts.  Returns the exit status, or sets
 * err (the run could not be carried out). */
static int run_execute(cr_run *r, const cr_history *baseline, cr_err *err)
{
    cr_run_begin(r);
    if (cr_run_loop(r) != 0)
        return cr_err_set(err, r->err.code, "%s", r->err.msg);
    cr_run_ssh_drain(r); /* the nodes' last events are on their way */
    cr_run_read_events(r);
    cr_runlive_flush(r); /* before the history is sorted */
    cr_runprobe_stop(r);
    if (r->fatal_code)
        return cr_err_set(err, r->fatal_code, "%s", r->err.msg);
    if (r->scrape) {
        size_t ok = 0, failed = 0;
        char msg[256];
        cr_scrape_stop(r->scrape);
        cr_scrape_stats(r->scrape, &ok, &failed, msg, sizeof msg);
        if (ok || failed)
            json_object_set_new(r->journal, "scrapes",
                                json_pack("{s:I,s:I,s:s}", "ok", (json_int_t)ok,
                                          "failed", (json_int_t)failed,
                                          "first_error", msg));
    }
    cr_run_phase_enter(r, CR_PH_DONE);
    /* The checkers judge the history in time order (cr_check.h): lines
     * arrive in the order they were written, which across writers is not
     * that of their ts.  (Before, the sort came only in run_write, after
     * the verdicts: e2e live_judging, "unsorted".) */
    pthread_mutex_lock(&r->hist_lock);
    cr_history_sort(&r->hist);
    pthread_mutex_unlock(&r->hist_lock);
    int rc = r->opts->baseline ? 0 : cr_runjudge_eval(r, baseline);
    return r->interrupted ? 4 : rc;
}

/* events.jsonl and journal.json, on success, failure and interruption
 * alike.  Returns exit_code, or 4 when the journal could not be written. */
static int run_write(cr_run *r, int exit_code, cr_run_result *res)
{
    cr_err e;
    cr_err_clear(&e);
    json_t *j = r->journal;
    pthread_mutex_lock(&r->hist_lock);
    cr_history_sort(&r->hist);
    if (write_history(r, &e) != 0)
        cr_run_journal_log(r, e.msg);
    pthread_mutex_unlock(&r->hist_lock);
    json_object_set_new(j, "status", json_string(status_name(exit_code, r)));
    json_object_set_new(j, "exit_code", json_integer(exit_code));
    cr_runlive_end(r, exit_code);
    json_object_set_new(j, "t0_unix", json_real(r->t0_unix));
    json_object_set_new(j, "ended_at", json_real(cr_run_unix_now()));
    if (r->interrupted)
        json_object_set_new(j, "interrupted_by",
                            json_string(cr_signal_name(r->interrupted)));
    if (!json_object_get(j, "error"))
        json_object_set_new(j, "error",
                            r->startup_failed || r->aborted
                                ? json_string(r->startup_msg)
                                : json_null());
    json_object_set_new(
        j, "events",
        json_pack("{s:s,s:I,s:I,s:s?}", "file", history_name(r->sc), "count",
                  (json_int_t)r->hist.n, "malformed",
                  (json_int_t)r->hist.malformed, "first_malformed",
                  r->hist.malformed ? r->hist.first_malformed : NULL));
    finish_services_json(r);
    cr_runrot_journal(r);
    cr_err_clear(&e);
    if (write_json_atomic(r->dirfd, "journal.json", j, &e) != 0) {
        cr_err_set(&res->err, e.code, "%s", e.msg);
        exit_code = 4;
    }
    res->journal = json_incref(j);
    return exit_code;
}

/* Release what the run holds (safe after any step). */
static void run_release(cr_run *r)
{
    if (r->ledger) {
        /* Everything recorded has been undone: the index entry goes, and
         * the janitor is told not to act. */
        cr_ledger_close(r->ledger, 1);
        r->ledger = NULL;
    }
    if (r->janitor_fd >= 0) {
        ssize_t w = write(r->janitor_fd, "done\n", 5);
        (void)w;
        close(r->janitor_fd);
        waitpid(r->janitor_pid, NULL, 0);
    }
    cr_runfault_free(r);
    cr_runrot_fini(r);
    cr_svc_fini(r);
    cr_stray_fini(r);
    json_t *js[] = {r->journal, r->j_phases, r->j_faults, r->j_probes,
                    r->j_log,   r->j_stops,  r->j_strays};
    for (size_t i = 0; i < sizeof js / sizeof js[0]; i++)
        json_decref(js[i]);
    cr_live_set_free(r->live);
    cr_free(r->live_st);
    cr_history_free(&r->hist);
    json_decref(r->timeline_problems);
    r->timeline_problems = NULL;
    void *ps[] = {r->trigger_counts, r->trigger_fired, r->ev_buf, r->zpg,
                  r->events_path,    r->bindir,        r->dir};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        cr_free(ps[i]);
    if (r->logsfd >= 0)
        close(r->logsfd);
    if (r->dirfd >= 0)
        close(r->dirfd);
    pthread_mutex_destroy(&r->hist_lock);
    pthread_mutex_destroy(&r->pq_lock);
    pthread_cond_destroy(&r->pq_cond);
}

int cr_run_scenario(cr_scen *sc, const cr_run_opts *opts, cr_run_result *res)
{
    cr_run run, *r = &run;
    cr_run_result tmp_res;
    cr_history baseline;
    cr_err err;
    int have_baseline = 0, exit_code;
    if (!res)
        res = &tmp_res;
    memset(res, 0, sizeof *res);
    cr_err_clear(&res->err);
    cr_err_clear(&err);
    run_init(r, sc, opts);
    if (cr_scen_resolve(sc, &err) != 0 || make_run_dir(r, &err) != 0) {
        /* Nothing was started and there is no journal to write. */
        cr_err_set(&res->err, err.code, "%s", err.msg);
        exit_code = cr_err_exit_status(err.code);
        goto out;
    }
    res->dir = cr_strdup(r->dir);
    r->bindir = self_bindir();
    if (opts->out && opts->out->begin)
        opts->out->begin(opts->out->ud, sc->name, r->seed, r->seed_source,
                         r->dir, opts->baseline);
    have_baseline = run_baseline(r, &baseline);
    journal_init(r);
    exit_code = 4;
    if (run_prepare(r, &err) == 0)
        exit_code = run_execute(r, have_baseline ? &baseline : NULL, &err);
    if (err.code) {
        exit_code = cr_err_exit_status(err.code);
        json_object_set_new(r->journal, "error", json_string(err.msg));
        cr_err_set(&res->err, err.code, "%s", err.msg);
    }
    teardown(r);
    res->interrupted = r->interrupted;
    exit_code = run_write(r, exit_code, res);
out:
    run_release(r);
    if (have_baseline)
        cr_history_free(&baseline);
    if (res == &tmp_res)
        cr_run_result_free(res);
    return exit_code;
}

void cr_run_result_free(cr_run_result *res)
{
    if (!res)
        return;
    cr_free(res->dir);
    json_decref(res->journal);
    res->dir = NULL;
    res->journal = NULL;
}
