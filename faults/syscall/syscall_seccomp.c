/* syscall_seccomp: the seccomp backend of the `syscall` fault kind.
 *
 * prepare() builds, for each service that seccomp-backed faults target,
 * one filter naming the union of their system calls (cr_seccomp.h), and
 * registers a spawn hook (cr_run_add_spawn_hook) through which every start
 * of a replica installs it in the child just before execve and hands the
 * listener to the run's supervisor thread (cr_scsup.h), started with the
 * first such service.  Until a window opens, every notified call is let
 * through at once.
 *
 * apply() arms a window -- the fault's rule and one seeded stream per
 * targeted replica -- on the supervisor: atomic, no round trip to the
 * target, so the first call after it is judged by it.  revert() disarms it
 * (calls it still delays are let go now) and writes what happened into the
 * journal: calls seen / matched / failed / delayed per replica and system
 * call, the threads and processes that were faulted, the first and last
 * faulted call.  A replica restarted inside the window is covered from its
 * first system call: its listener joins under the same replica. */
#include "syscall_internal.h"
#include "cr_scsup.h"
#include "cr_seccomp.h"
#include "syscall_sc_ctr.h"

#include "base/cr_alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SC_LISTENER_TIMEOUT_S 10.0 /* child: fork .. filter installed */

/* Per run: the supervisor, shared by every service with a filter. */
typedef struct sc_run {
    cr_scsup *sup;
    int refs;    /* services whose hook still holds it */
    void **slot; /* cr_run_module_state(r, "syscall") */
} sc_run;

/* Per service: the spawn hook's argument. */
typedef struct sc_svc {
    sc_run *run;
    cr_seccomp_prog *prog;
    int sock[2];    /* [0] the children's end, [1] the harness's */
    unsigned flags; /* of the latest listener (CR_SECCOMP_KILLABLE) */
    sc_ctr *ctr;    /* a container service: its listeners' way in */
} sc_svc;

/* Per window. */
typedef struct sc_act {
    cr_scwin w;
    cr_sctarget t[CR_ACT_MAX_INST];
    double off_run;  /* run time minus CLOCK_MONOTONIC, at apply */
    double off_unix; /* Unix time minus CLOCK_MONOTONIC, at apply */
    int armed;
} sc_act;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the spawn hook --------------------------------------------------------
 */

static int hook_child(void *arg, const cr_inst *in)
{
    const sc_svc *a = arg;
    (void)in;
    return cr_seccomp_child_install(a->prog, a->sock[0]);
}

static int hook_parent(void *arg, cr_inst *in, pid_t pid, cr_err *err)
{
    sc_svc *a = arg;
    int fd = -1;
    unsigned flags = 0;
    int rc = cr_seccomp_recv_listener(a->sock[1], pid, SC_LISTENER_TIMEOUT_S,
                                      &fd, &flags, err);
    if (rc)
        return rc;
    a->flags = flags;
    return cr_scsup_add(a->run->sup, fd, in, flags, err);
}

static void run_release(sc_run *run)
{
    if (--run->refs > 0)
        return;
    cr_scsup_stop(run->sup);
    *run->slot = NULL;
    cr_free(run);
}

static void svc_free(sc_svc *a)
{
    sys_sc_ctr_stop(a->ctr, NULL, NULL);
    cr_seccomp_prog_free(a->prog);
    for (int i = 0; i < 2; i++)
        if (a->sock[i] >= 0)
            close(a->sock[i]);
    cr_free(a);
}

/* After every replica has stopped (the engine's promise). */
static void hook_fini(void *arg)
{
    sc_svc *a = arg;
    sc_run *run = a->run;
    svc_free(a);
    run_release(run);
}

static const cr_spawn_hook sc_hook = {
    .child = hook_child,
    .parent = hook_parent,
    .fini = hook_fini,
};

/* A container service: nothing at spawn (the runtime installs the filter
 * and hands its listener over, syscall_sc_ctr.c); the end only. */
static const cr_spawn_hook sc_ctr_hook = {
    .fini = hook_fini,
};

/* ---- prepare ---------------------------------------------------------------
 */

int sys_sc_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const char *svc = f->target.service;
    int nrs[CR_SYS_NR_MAX];
    const char *nm[CR_SYS_NR_MAX];
    size_t n = 0;
    char names[512] = "";
    /* The first seccomp-backed fault on a service sets it up for all. */
    for (size_t i = 0; i < sc->nfaults && &sc->faults[i] != f; i++)
        if (sys_uses(&sc->faults[i], SYS_SECCOMP) &&
            strcmp(sc->faults[i].target.service, svc) == 0)
            return CR_OK;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *g = &sc->faults[i];
        if (!sys_uses(g, SYS_SECCOMP) || strcmp(g->target.service, svc) != 0)
            continue;
        const cr_scrule *rule = &((const sys_spec *)g->priv)->rule;
        for (size_t k = 0; k < rule->nsys; k++) {
            size_t j = 0;
            while (j < n && nrs[j] != rule->nr[k])
                j++;
            if (j < n)
                continue;
            nm[n] = rule->name[k];
            nrs[n++] = rule->nr[k];
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "",
                     rule->name[k]);
        }
    }
    void **slot = cr_run_module_state(r, "syscall");
    sc_run *run = *slot;
    if (!run) {
        run = cr_calloc(1, sizeof *run);
        if (!run)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        if (cr_scsup_start(&run->sup, err) != 0) {
            cr_free(run);
            return err->code;
        }
        run->slot = slot;
        *slot = run;
    }
    run->refs++; /* released by svc's fini, or below on failure */
    sc_svc *a = cr_calloc(1, sizeof *a);
    int rc = CR_OK;
    if (!a) {
        run_release(run);
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    }
    a->run = run;
    a->sock[0] = a->sock[1] = -1;
    const cr_svc_spec *sp = cr_scen_service(sc, svc);
    if (sp && sp->ctr) {
        rc = sys_sc_ctr_start(r, svc, run->sup, nm, n, &a->ctr, err);
        if (!rc)
            rc = cr_run_add_spawn_hook(r, svc, &sc_ctr_hook, a, err);
        if (rc) {
            svc_free(a);
            run_release(run);
            return rc;
        }
        cr_run_log(r,
                   "syscall: %s's containers run under a seccomp profile "
                   "that notifies %s (the runtime hands the listener over)",
                   svc, names);
        return CR_OK;
    }
    rc = cr_seccomp_prog_build(nrs, n, &a->prog, err);
    if (!rc && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, a->sock))
        rc = cr_err_sys(err, CR_ESYS, errno, "fault %s: socketpair", f->name);
    if (!rc)
        rc = cr_run_add_spawn_hook(r, svc, &sc_hook, a, err);
    if (rc) {
        svc_free(a);
        run_release(run);
        return rc;
    }
    cr_run_log(r,
               "syscall: %s runs under a seccomp filter (%zu BPF "
               "instructions) that notifies %s",
               svc, cr_seccomp_prog_len(a->prog), names);
    return CR_OK;
}

/* ---- apply / revert --------------------------------------------------------
 */

static sc_run *run_of(cr_run *r)
{
    void **slot = cr_run_module_state(r, "syscall");
    return slot ? *slot : NULL;
}

static void describe(cr_fault *f, cr_run *r, cr_fault_act *act, sc_act *st)
{
    const cr_scrule *ru = &st->w.rule;
    json_t *sys = json_array();
    for (size_t i = 0; i < ru->nsys; i++)
        json_array_append_new(sys, json_string(ru->name[i]));
    json_object_set_new(act->details, "syscalls", sys);
    json_object_set_new(act->details, "errno",
                        ru->errnum ? json_string(cr_errno_name(ru->errnum))
                                   : json_null());
    json_object_set_new(act->details, "delay_ms", json_real(ru->delay_ms));
    json_object_set_new(act->details, "jitter_ms", json_real(ru->jitter_ms));
    json_object_set_new(act->details, "path",
                        ru->path[0] ? json_string(ru->path) : json_null());
    json_t *streams = json_object();
    for (size_t k = 0; k < act->ninst; k++) {
        char label[CR_PATH_MAX + 128];
        snprintf(label, sizeof label, "syscall:%s:%d:%s", f->name,
                 act->occurrence, cr_inst_name(act->inst[k]));
        json_object_set_new(streams, cr_inst_name(act->inst[k]),
                            json_string(label));
    }
    json_object_set_new(act->details, "seed",
                        json_pack("{s:I, s:o}", "run_seed",
                                  (json_int_t)cr_run_seed(r), "streams",
                                  streams));
}

int sys_sc_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    const sys_spec *s = f->priv;
    sc_run *run = run_of(r);
    size_t running = 0;
    if (!run)
        return cr_err_set(err, CR_ESTATE,
                          "fault %s: the seccomp backend was not prepared",
                          f->name);
    sc_act *st = cr_calloc(1, sizeof *st);
    if (!st)
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    act->state = st;
    if (act->ninst == 0)
        act->ninst = cr_run_resolve_target(r, &f->target, &act->rng, act->inst,
                                           CR_ACT_MAX_INST);
    st->w.rule = s->rule;
    char *p = st->w.rule.path;
    if (p[0] && p[0] != '/' && !strchr(p, ':')) {
        char abs[CR_SC_PATH_MAX];
        /* relative: under the run directory, where services keep data */
        if (cr_scpath_join(cr_run_dir(r), p, abs, sizeof abs) != 0)
            return cr_err_set(err, CR_EINVAL,
                              "fault %s: path %s under %s is too long", f->name,
                              p, cr_run_dir(r));
        snprintf(p, CR_SC_PATH_MAX, "%s", abs);
    }
    describe(f, r, act, st);
    for (size_t k = 0; k < act->ninst; k++) {
        cr_inst *in = act->inst[k];
        char label[CR_PATH_MAX + 128];
        snprintf(label, sizeof label, "syscall:%s:%d:%s", f->name,
                 act->occurrence, cr_inst_name(in));
        st->t[k].key = in;
        cr_scdraw_init(&st->t[k].draw, cr_run_seed(r), label);
        if (cr_inst_pid(in) > 0 && cr_scsup_listeners(run->sup, in) > 0)
            running++;
        else
            json_array_append_new(
                sys_details_array(act->details, "skipped"),
                json_pack("{s:s, s:s}", "instance", cr_inst_name(in), "reason",
                          "not running (faulted from its first system call "
                          "if it starts inside the window)"));
    }
    st->w.t = st->t;
    st->w.nt = act->ninst;
    if (running == 0)
        return cr_err_set(err, CR_ESTATE,
                          "fault %s: no targeted replica of %s is running "
                          "(see details.skipped)",
                          f->name, f->target.service);
    double m = mono_now();
    st->off_run = cr_run_now(r) - m;
    st->off_unix = unix_now() - m;
    json_int_t begin = sys_unix_us();
    cr_scsup_arm(run->sup, &st->w);
    st->armed = 1;
    json_int_t end = sys_unix_us();
    double t = cr_run_now(r);
    for (size_t k = 0; k < act->ninst; k++) {
        cr_inst *in = act->inst[k];
        size_t nl = cr_scsup_listeners(run->sup, in);
        if (cr_inst_pid(in) <= 0 || nl == 0)
            continue;
        json_array_append_new(sys_details_array(act->details, "armed"),
                              json_pack("{s:s, s:i, s:f, s:I, s:I, s:I}",
                                        "instance", cr_inst_name(in), "pid",
                                        (int)cr_inst_pid(in), "t", t,
                                        "begin_unix_us", begin, "unix_us", end,
                                        "listeners", (json_int_t)nl));
    }
    return CR_OK;
}

static json_t *stat_json(const cr_scstat *c)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "seen", (json_int_t)c->seen,
                     "matched", (json_int_t)c->matched, "failed",
                     (json_int_t)c->failed, "delayed", (json_int_t)c->delayed);
}

/* What the window did, into the journal. */
static void report(cr_fault_act *act, sc_act *st)
{
    const cr_scrule *ru = &st->w.rule;
    cr_scstat tot = {0, 0, 0, 0};
    json_t *calls = json_object(), *thr = json_object();
    for (size_t k = 0; k < st->w.nt; k++) {
        const cr_sctarget *t = &st->t[k];
        cr_scstat it = {0, 0, 0, 0};
        json_t *per = json_object();
        for (size_t i = 0; i < ru->nsys; i++) {
            const cr_scstat *c = &t->sys[i];
            if (!c->seen)
                continue;
            json_object_set_new(per, ru->name[i], stat_json(c));
            it.seen += c->seen;
            it.matched += c->matched;
            it.failed += c->failed;
            it.delayed += c->delayed;
        }
        json_object_set_new(per, "all", stat_json(&it));
        json_object_set_new(calls, cr_inst_name(act->inst[k]), per);
        json_t *pids = json_array();
        for (size_t i = 0; i < t->npids; i++)
            json_array_append_new(pids, json_integer(t->pids[i]));
        json_object_set_new(thr, cr_inst_name(act->inst[k]),
                            json_pack("{s:I, s:o}", "threads",
                                      (json_int_t)t->ntids, "processes", pids));
        tot.seen += it.seen;
        tot.matched += it.matched;
        tot.failed += it.failed;
        tot.delayed += it.delayed;
    }
    json_object_set_new(act->details, "calls", calls);
    json_object_set_new(act->details, "totals", stat_json(&tot));
    json_object_set_new(act->details, "faulted_by", thr);
    if (st->w.first_mono > 0) {
        json_object_set_new(act->details, "first_fault_t",
                            json_real(st->w.first_mono + st->off_run));
        json_object_set_new(act->details, "last_fault_t",
                            json_real(st->w.last_mono + st->off_run));
        json_object_set_new(
            act->details, "first_fault_unix_us",
            json_integer(
                (json_int_t)((st->w.first_mono + st->off_unix) * 1e6)));
        json_object_set_new(
            act->details, "last_fault_unix_us",
            json_integer((json_int_t)((st->w.last_mono + st->off_unix) * 1e6)));
    }
    json_object_set_new(act->details, "released_at_end",
                        json_integer((json_int_t)st->w.released));
    json_object_set_new(act->details, "interrupted",
                        json_integer((json_int_t)st->w.interrupted));
    json_object_set_new(act->details, "vanished",
                        json_integer((json_int_t)st->w.vanished));
    json_object_set_new(act->details, "path_unreadable",
                        json_integer((json_int_t)st->w.unreadable));
}

int sys_sc_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    sc_act *st = act->state;
    sc_run *run = run_of(r);
    (void)err;
    if (!st)
        return CR_OK; /* never applied, or already reverted */
    if (st->armed && run) {
        json_int_t begin = sys_unix_us();
        cr_scsup_disarm(run->sup, &st->w);
        json_int_t end = sys_unix_us();
        double t = cr_run_now(r);
        for (size_t k = 0; k < act->ninst; k++)
            json_array_append_new(
                sys_details_array(act->details, "disarmed"),
                json_pack("{s:s, s:i, s:f, s:I, s:I}", "instance",
                          cr_inst_name(act->inst[k]), "pid",
                          (int)cr_inst_pid(act->inst[k]), "t", t,
                          "begin_unix_us", begin, "unix_us", end));
        report(act, st);
    }
    sys_errors_seen(f, r, act);
    cr_free(st);
    act->state = NULL;
    return CR_OK;
}

void sys_sc_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in)
{
    sc_run *run = run_of(r);
    (void)f;
    if (!act->state || !run)
        return;
    /* Its listener joined under the same replica when it was started:
     * the window already covers it.  Recorded for the journal. */
    json_array_append_new(
        sys_details_array(act->details, "armed"),
        json_pack("{s:s, s:i, s:f, s:I, s:I, s:I, s:b}", "instance",
                  cr_inst_name(in), "pid", (int)cr_inst_pid(in), "t",
                  cr_run_now(r), "begin_unix_us", sys_unix_us(), "unix_us",
                  sys_unix_us(), "listeners",
                  (json_int_t)cr_scsup_listeners(run->sup, in), "respawn", 1));
}
