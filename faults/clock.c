/* clock: the clock of a service runs wrong -- a skew for a window
 * (offset_s), a step (jump_s), a drift (rate) of its wall clock, or an
 * offset of its monotonic clock from its start.  Leases, TTLs, timeouts,
 * certificate checks and "last write wins" all read a clock.
 *
 * Two tools, each where it is the honest one:
 *
 *   - realtime (the default): libfaketime (Debian libfaketime), preloaded
 *     into the service's replicas.  Each replica reads its offset from its
 *     own file clock/<instance> in the run directory
 *     (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1: read at every call),
 *     which apply and revert rewrite atomically -- the offset changes at
 *     run time, without a restart.  FAKETIME_DONT_FAKE_MONOTONIC=1 keeps
 *     CLOCK_MONOTONIC real and NO_FAKE_STAT=1 keeps file times real.
 *     LD_PRELOAD cannot reach a static program or a Go program's clock
 *     (the Go runtime reads the vDSO itself): refused with exit 3.
 *   - monotonic: a time namespace (CLONE_NEWTIME) made for every start of
 *     the service's replicas, with the offset written before the program
 *     runs (cr_run_svc_timens); CLOCK_BOOTTIME moves with it.  Works for
 *     any program, static ones too;
 *     but a namespace's offsets are fixed once a process is in it, so a
 *     monotonic offset holds from each replica's start for the whole run:
 *     at_s 0, no for_s, no jump, no drift.
 *
 * Drift: libfaketime's "x<rate>" scales the time elapsed since the
 * process loaded it (its start).  A window that begins at T0 in a process
 * started at S therefore writes the offset base - (rate-1)(T0-S), so that
 * its clock reads t + base + (rate-1)(t-T0): it starts to drift at T0
 * without a jump.  S is the process's start time from /proc/PID/stat
 * (its fork, before the exec and libfaketime's own start: an error of
 * (rate-1) x that gap -- a few ms when quiet, up to hundreds beside other
 * work: the clock steps back by that much at T0).  At the window's end the
 * drift gathered stays (the clock runs at the right rate again, still off by
 * what it drifted). libfaketime also scales the program's sleeps by the rate.
 *
 * On an ssh node (the service's host has "ssh"): the node's libfaketime
 * (the same paths, looked for there at set-up: exit 3 naming the node
 * without it), each replica's file clock-<instance> in the node's
 * directory, rewritten over ssh (cr_run_ssh_exec).  A drift there takes
 * the replica's start from the node (node_start_unix: its group leader's
 * starttime against /proc/uptime and the node's clock, one round trip,
 * brought to this machine's clock by the node's measured offset; the
 * uptime read by the shell itself just before `date` reads the clock, a
 * fork apart: a few ms, tens on a loaded node -- a drift's start is off
 * by (rate - 1) times that).  A
 * monotonic offset needs a time namespace made on the node, not done over
 * ssh (exit 3). */
#include "faults/cr_fault.h"

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "faults/cr_prog.h"
#include "net/cr_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CK_OFFSET, CK_JUMP, CK_RATE };
#define CK_MAX_REP 64

/* One replica at run time: what this fault contributes to its clock. */
typedef struct clock_rep {
    double off;    /* seconds added to its wall clock now */
    int drifting;  /* a rate window of this fault is open */
    double t_rate; /* real Unix time the window began */
    double drift;  /* gathered by this fault's closed rate windows */
    /* On an ssh node: the replica's start there (node_start_unix), read
     * before the window's t_rate -- so the apply's own round trip does not
     * count as drift -- for the local pid (the ssh client's) it was read
     * for. */
    double start;
    pid_t start_pid;
} clock_rep;

typedef struct clock_priv {
    int mode;
    double value;  /* offset_s, jump_s or rate */
    int monotonic; /* clocks ["monotonic"] */
    clock_rep rep[CK_MAX_REP];
} clock_priv;

extern const cr_fault_ops cr_fault_clock_ops;

static const cr_param clock_params[] = {
    {"offset_s", "number", "none",
     "skew: the clock reads this many seconds ahead (negative: behind) "
     "inside the window (for_s); monotonic: from each replica's start"},
    {"jump_s", "number", "none",
     "a step of the wall clock at at_s; it stays (or, with for_s, steps "
     "back at the window's end)"},
    {"rate", "number", "none",
     "drift inside the window: the wall clock runs this much as fast "
     "(1.001: 1 ms more each second); what it drifted stays"},
    {"clocks", "array", "[\"realtime\"]",
     "[\"realtime\"] (libfaketime, dynamically linked programs) or "
     "[\"monotonic\"] (a time namespace, any program, fixed from start)"},
    {NULL, NULL, NULL, NULL},
};

/* ---- parse: validate only --------------------------------------------- */

static int parse_clocks(cr_vctx *vx, const json_t *obj, const char *path,
                        clock_priv *c)
{
    char p[CR_PATH_MAX], el[CR_PATH_MAX];
    const json_t *a = json_object_get(obj, "clocks");
    int rt = 0, mono = 0;
    if (!a)
        return 0;
    cr_path_key(p, sizeof p, path, "clocks");
    if (!json_is_array(a) || json_array_size(a) == 0) {
        cr_verr(vx, p,
                "must be a non-empty array: [\"realtime\"] or "
                "[\"monotonic\"]");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        cr_path_idx(el, sizeof el, p, i);
        if (s && strcmp(s, "realtime") == 0)
            rt = 1;
        else if (s && strcmp(s, "monotonic") == 0)
            mono = 1;
        else {
            cr_verr(vx, el, "must be \"realtime\" or \"monotonic\"");
            return -1;
        }
    }
    if (rt && mono) {
        cr_verr(vx, p,
                "realtime and monotonic are faulted by different tools "
                "(libfaketime at run time; a time namespace fixed from the "
                "start): write one fault for each");
        return -1;
    }
    c->monotonic = mono;
    return 0;
}

static int clock_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    clock_priv *c = cr_calloc(1, sizeof *c);
    char p[CR_PATH_MAX];
    if (!c)
        return CR_ENOMEM;
    f->priv = c;
    static const char *const keys[] = {"offset_s", "jump_s", "rate"};
    int n = 0;
    for (int k = 0; k < 3; k++)
        if (json_object_get(obj, keys[k])) {
            n++;
            c->mode = k;
        }
    if (n != 1) {
        cr_verr(vx, path,
                "a clock fault needs exactly one of \"offset_s\" (skew), "
                "\"jump_s\" (step) and \"rate\" (drift)");
        return 0;
    }
    if (c->mode == CK_RATE) {
        if (cr_vnum(vx, obj, path, "rate", 0.01, 100, 1, &c->value) == 1 &&
            c->value == 1) {
            cr_path_key(p, sizeof p, path, "rate");
            cr_verr(vx, p, "1 is no drift: give e.g. 1.001 or 0.999");
        }
    } else {
        /* The kernel's bound for time namespace offsets is far beyond a
         * useful skew; ten years either way. */
        cr_vnum(vx, obj, path, keys[c->mode], -3.2e8, 3.2e8, 0, &c->value);
    }
    if (parse_clocks(vx, obj, path, c) != 0)
        return 0;
    cr_path_key(p, sizeof p, path, keys[c->mode]);
    if (c->monotonic) {
        if (c->mode != CK_OFFSET)
            cr_verr(vx, p,
                    "a monotonic clock takes only \"offset_s\": a time "
                    "namespace's offset is fixed before the program starts "
                    "and cannot step or drift mid-run");
        else if (f->for_s > 0 || f->every_s > 0 || f->trigger ||
                 f->at.lo != 0 || f->at.hi != 0)
            cr_verr(vx, p,
                    "a monotonic offset applies from each replica's start "
                    "for the whole run (a time namespace's offsets cannot "
                    "change once a process is in it): needs at_s 0 and no "
                    "for_s, every_s or on_event");
        else if (f->target.replica != CR_REPLICA_ALL)
            cr_verr(vx, p,
                    "a monotonic offset applies to every replica of the "
                    "service (one time namespace setting per service): "
                    "target the service, not one replica");
        return 0;
    }
    if ((c->mode == CK_OFFSET || c->mode == CK_RATE) && !(f->for_s > 0))
        cr_verr(vx, p,
                "%s needs \"for_s\" > 0 (the window); for a step that "
                "stays, use \"jump_s\"",
                c->mode == CK_RATE ? "a drift" : "a skew");
    return 0;
}

/* ---- check ------------------------------------------------------------- */

/* The libfaketime to preload: CHAOSRUN_FAKETIME_LIB, else where Debian
 * puts it.  The thread-safe variant: services may have threads. */
/* The candidates for libfaketime, in order (CHAOSRUN_FAKETIME_LIB first). */
static const char *const faketime_where[] = {
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
    "/usr/local/lib/faketime/libfaketimeMT.so.1",
    NULL,
};

static const char *faketime_lib(void)
{
    const char *e = getenv("CHAOSRUN_FAKETIME_LIB");
    if (e && *e)
        return e;
    for (size_t i = 0; faketime_where[i]; i++)
        if (access(faketime_where[i], R_OK) == 0)
            return faketime_where[i];
    return NULL;
}

static int check_monotonic(cr_fault *f, cr_err *err)
{
    if (access("/proc/self/timens_offsets", F_OK) != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: a monotonic clock offset needs time "
                          "namespaces (Linux >= 5.6 with CONFIG_TIME_NS): "
                          "/proc/self/timens_offsets is missing",
                          f->name);
    if (geteuid() != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: a monotonic clock offset needs a new "
                          "time namespace (CAP_SYS_ADMIN, CAP_SYS_TIME): run "
                          "chaosrun as root",
                          f->name);
    return CR_OK;
}

static int clock_check(cr_fault *f, cr_run *r, cr_err *err)
{
    clock_priv *c = f->priv;
    const cr_svc_spec *sp = cr_scen_service(cr_run_scen(r), f->target.service);
    char prog[PATH_MAX], interp[PATH_MAX];
    if (!sp)
        return cr_err_set(err, CR_EINVAL, "fault %s: no service '%s'", f->name,
                          f->target.service);
    const char *node = cr_run_ssh_svc_node(r, sp->name);
    if (node && c->monotonic)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: on ssh node %s only the wall clock can "
                          "be faked (skew, step, drift): a monotonic offset "
                          "needs a time namespace made on the node",
                          f->name, node);
    if (node) /* libfaketime looked for on the node (prepare) */
        return CR_OK;
    if (c->monotonic)
        return check_monotonic(f, err);
    if (!faketime_lib())
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: a wall clock fault needs libfaketime "
                          "(libfaketimeMT.so.1), not found: install the "
                          "Debian package libfaketime (or set "
                          "CHAOSRUN_FAKETIME_LIB)",
                          f->name);
    if (cr_prog_resolve(sp, prog, sizeof prog) != 0)
        return cr_err_set(err, CR_EUNSUP, "service %s: program '%s' not found",
                          sp->name, sp->argv[0]);
    int kind = cr_prog_kind(prog, interp, sizeof interp);
    if (kind == CR_PROG_SCRIPT) { /* its interpreter is what runs */
        snprintf(prog, sizeof prog, "%s", interp);
        kind = cr_prog_kind(prog, interp, sizeof interp);
    }
    if (kind == CR_PROG_DYNAMIC)
        return CR_OK;
    return cr_err_set(
        err, CR_EUNSUP,
        "service %s: %s %s; LD_PRELOAD (libfaketime) cannot reach its "
        "clock, so fault %s cannot move its wall clock (a time namespace "
        "offsets only CLOCK_MONOTONIC and CLOCK_BOOTTIME, never "
        "CLOCK_REALTIME)",
        sp->name, prog,
        kind == CR_PROG_STATIC ? "is statically linked"
        : kind == CR_PROG_GO   ? "is a Go program (its runtime reads the "
                                 "clock without the C library)"
                               : "is not a dynamically linked ELF program",
        f->name);
}

/* ---- the offset files ------------------------------------------------- */

static int same_service(const cr_fault *g, const char *svc)
{
    return g->ops == &cr_fault_clock_ops && g->priv &&
           strcmp(g->target.service, svc) == 0;
}

/* Real Unix time now. */
static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Real Unix time at which pid started (its fork), or NAN. */
static double proc_start_unix(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NAN;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    /* After the name: state is field 3; starttime is field 22. */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
        return NAN;
    struct timespec bt;
    clock_gettime(CLOCK_BOOTTIME, &bt);
    double boot = (double)bt.tv_sec + bt.tv_nsec / 1e9;
    return unix_now() - (boot - (double)ticks / (double)sysconf(_SC_CLK_TCK));
}

/* Real Unix time (this machine's clock) at which the replica in on its
 * node started: its group leader (the pidfile's; the program itself, after
 * the wrapper's exec) from /proc/PID/stat's starttime, against the node's
 * /proc/uptime and clock read in the same command; NAN when it cannot be
 * read (not running). */
static double node_start_unix(cr_run *r, cr_inst *in)
{
    static const char cmd[] =
        "read -r u _ < /proc/uptime; t=$(date +%s.%N); "
        "s=$(sed 's/.*) //' \"/proc/$g/stat\" | cut -d' ' -f20); "
        "echo \"$t $u $s $(getconf CLK_TCK)\"";
    char out[128] = "";
    double t, u, s, tck;
    cr_err e;
    cr_err_clear(&e);
    if (cr_run_ssh_exec(r, cr_inst_service(in), in, cmd, out, sizeof out, &e) !=
            0 ||
        sscanf(out, "%lf %lf %lf %lf", &t, &u, &s, &tck) != 4 || tck <= 0)
        return NAN;
    return t - (u - s / tck) - cr_run_ssh_svc_offset(r, cr_inst_service(in));
}

/* What instance in's wall clock is given now, summed over every clock
 * fault on its service: *off (seconds) and *rate (1: none), and the file's
 * text.  Returns 0, or CR_ESTATE when two drifts overlap. */
static int render(cr_run *r, cr_inst *in, double *off, double *rate, char *text,
                  size_t n, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    int idx = cr_inst_index(in);
    double base = 0, t_rate = 0;
    const char *drifter = NULL;
    const clock_rep *drep = NULL;
    *rate = 1;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *g = &sc->faults[i];
        const clock_priv *c = g->priv;
        if (!same_service(g, cr_inst_service(in)) || c->monotonic)
            continue;
        base += c->rep[idx].off + c->rep[idx].drift;
        if (!c->rep[idx].drifting)
            continue;
        if (drifter)
            return cr_err_set(err, CR_ESTATE,
                              "%s: faults %s and %s would both make its "
                              "clock drift at once",
                              cr_inst_name(in), drifter, g->name);
        drifter = g->name;
        drep = &c->rep[idx];
        *rate = c->value;
        t_rate = c->rep[idx].t_rate;
    }
    *off = base;
    double spec = base;
    pid_t pid = cr_inst_pid(in);
    if (drifter && pid > 0) {
        /* (on a node the local pid is the ssh client's) */
        int node = cr_run_ssh_svc_node(r, cr_inst_service(in)) != NULL;
        double s = !node                    ? proc_start_unix(pid)
                   : drep->start_pid == pid ? drep->start
                                            : node_start_unix(r, in);
        if (!isnan(s))
            spec = base - (*rate - 1) * (t_rate - s);
    }
    /* libfaketime: a relative offset in seconds, then the speed; the
     * speed is always written ("+5" alone keeps the previous one). */
    snprintf(text, n, "%+.6f x%.9g\n", spec, *rate);
    return CR_OK;
}

static int local_write(cr_run *r, cr_inst *in, const char *text, cr_err *err)
{
    int dfd = openat(cr_run_dirfd(r), "clock",
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "clock: open clock/ of the run");
    int rc = cr_dir_write(dfd, cr_inst_name(in), text, strlen(text), 0644, err);
    close(dfd);
    return rc;
}

/* The file of a replica on its node. */
static void node_file(cr_run *r, const cr_inst *in, char *buf, size_t n)
{
    snprintf(buf, n, "%s/clock-%s", cr_run_ssh_svc_dir(r, cr_inst_service(in)),
             cr_inst_name(in));
}

/* On the node: written beside, then renamed over (atomic there too). */
static int node_write(cr_run *r, cr_inst *in, const char *text, cr_err *err)
{
    char file[PATH_MAX], tmp[PATH_MAX + 8];
    node_file(r, in, file, sizeof file);
    snprintf(tmp, sizeof tmp, "%s.new", file);
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "printf '%s' ", 12) || cr_ssh_quote(&b, text) ||
              cr_sbuf_add(&b, " > ", 3) || cr_ssh_quote(&b, tmp) ||
              cr_sbuf_add(&b, " && mv -f ", 10) || cr_ssh_quote(&b, tmp) ||
              cr_sbuf_add(&b, " ", 1) || cr_ssh_quote(&b, file);
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "clock: out of memory");
    }
    int rc = cr_run_ssh_exec(r, cr_inst_service(in), NULL, b.s, NULL, 0, err);
    cr_free(b.s);
    return rc;
}

/* Rewrite the replica's clock file atomically (rename over it:
 * libfaketime reads either the old or the new text), never following a
 * link here. */
static int write_file(cr_run *r, cr_inst *in, json_t *details, cr_err *err)
{
    char text[96];
    double off = 0, rate = 1;
    int rc = render(r, in, &off, &rate, text, sizeof text, err);
    if (rc)
        return rc;
    if (cr_run_ssh_svc_node(r, cr_inst_service(in)))
        rc = node_write(r, in, text, err);
    else
        rc = local_write(r, in, text, err);
    if (rc)
        return rc;
    if (details) {
        json_t *insts = json_object_get(details, "instances");
        if (!insts) {
            insts = json_array();
            json_object_set_new(details, "instances", insts);
        }
        json_array_append_new(
            insts, json_pack("{s:s, s:i, s:f, s:f, s:s%}", "instance",
                             cr_inst_name(in), "pid", (int)cr_inst_pid(in),
                             "wall_offset_s", off, "rate", rate, "faketime",
                             text, strcspn(text, "\n")));
    }
    return CR_OK;
}

/* ---- prepare ------------------------------------------------------------ */

static int prepare_monotonic(cr_fault *f, cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    double sum = 0;
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *g = &sc->faults[i];
        if (!same_service(g, f->target.service) ||
            !((const clock_priv *)g->priv)->monotonic)
            continue;
        if (i < (size_t)(f - sc->faults))
            return CR_OK; /* an earlier fault set the service up */
        sum += ((const clock_priv *)g->priv)->value;
    }
    /* timens_offsets: seconds and nanoseconds, the latter in [0, 1e9). */
    double s = floor(sum);
    long ns = lround((sum - s) * 1e9);
    if (ns >= 1000000000L) {
        s += 1;
        ns -= 1000000000L;
    }
    char text[96];
    /* CLOCK_BOOTTIME (and /proc/uptime) moves with it: it is the
     * monotonic clock plus the time suspended, and a program may compare
     * the two. */
    snprintf(text, sizeof text, "monotonic %.0f %ld\nboottime %.0f %ld\n", s,
             ns, s, ns);
    int rc = cr_run_svc_timens(r, f->target.service, text, err);
    if (rc == 0)
        cr_run_log(r,
                   "clock: %s runs in a time namespace, CLOCK_MONOTONIC "
                   "%+.3f s from its start",
                   f->target.service, sum);
    return rc;
}

/* LD_PRELOAD (after base) of lib, libfaketime's settings, and each
 * replica's file, written first (here, or on its node). */
static int set_env(cr_run *r, const cr_svc_spec *sp, const char *base,
                   const char *lib, cr_err *err)
{
    char val[PATH_MAX * 4];
    snprintf(val, sizeof val, "%s%s%s", base && *base ? base : "",
             base && *base ? " " : "", lib);
    static const char *const fixed[][2] = {
        {"FAKETIME_NO_CACHE", "1"},
        {"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
        {"NO_FAKE_STAT", "1"},
    };
    if (cr_run_setenv(r, sp->name, "LD_PRELOAD", val, err))
        return err->code;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (cr_run_setenv(r, sp->name, fixed[i][0], fixed[i][1], err))
            return err->code;
    cr_inst *insts[CK_MAX_REP];
    size_t n = cr_run_instances(r, sp->name, insts, CK_MAX_REP);
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX];
        if (cr_run_ssh_svc_node(r, sp->name))
            node_file(r, insts[i], file, sizeof file);
        else
            snprintf(file, sizeof file, "%s/clock/%s", cr_run_dir(r),
                     cr_inst_name(insts[i]));
        int rc = write_file(r, insts[i], NULL, err);
        if (rc)
            return rc;
        if (cr_run_setenv_inst(r, sp->name, cr_inst_index(insts[i]),
                               "FAKETIME_TIMESTAMP_FILE", file, err))
            return err->code;
    }
    return CR_OK;
}

/* On an ssh node: its libfaketime (the first candidate readable there),
 * the files in the node's directory. */
static int node_prepare(cr_fault *f, cr_run *r, const cr_svc_spec *sp,
                        cr_err *err)
{
    cr_sbuf b = {0};
    int bad = cr_sbuf_add(&b, "for f in", 8);
    const char *e = getenv("CHAOSRUN_FAKETIME_LIB");
    if (e && *e)
        bad |= cr_sbuf_add(&b, " ", 1) || cr_ssh_quote(&b, e);
    for (size_t i = 0; faketime_where[i] && !bad; i++)
        bad |= cr_sbuf_add(&b, " ", 1) || cr_ssh_quote(&b, faketime_where[i]);
    static const char tail[] =
        "; do [ -r \"$f\" ] && { echo \"$f\"; exit 0; }; "
        "done; echo 'no libfaketime (package "
        "libfaketime)'; exit 1";
    bad |= cr_sbuf_add(&b, tail, sizeof tail - 1);
    char out[PATH_MAX] = "";
    cr_err e2;
    cr_err_clear(&e2);
    int rc =
        bad ? cr_err_set(&e2, CR_ENOMEM, "out of memory")
            : cr_run_ssh_exec(r, sp->name, NULL, b.s, out, sizeof out, &e2);
    cr_free(b.s);
    out[strcspn(out, "\n")] = '\0';
    if (rc != 0)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: ssh node %s cannot fake %s's clock: %s",
                          f->name, cr_run_ssh_svc_node(r, sp->name), sp->name,
                          out[0] ? out : e2.msg);
    const char *base = NULL;
    for (char **v = sp->env; v && *v; v++)
        if (strncmp(*v, "LD_PRELOAD=", 11) == 0)
            base = *v + 11;
    if (set_env(r, sp, base, out, err))
        return err->code;
    cr_run_log(r, "clock: %s runs under libfaketime (%s) on ssh node %s",
               sp->name, out, cr_run_ssh_svc_node(r, sp->name));
    return CR_OK;
}

static int clock_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    clock_priv *c = f->priv;
    const cr_scen *sc = cr_run_scen(r);
    const cr_svc_spec *sp = cr_scen_service(sc, f->target.service);
    if (c->monotonic)
        return prepare_monotonic(f, r, err);
    int first_on_run = 1;
    for (size_t i = 0; i < sc->nfaults && &sc->faults[i] != f; i++) {
        const cr_fault *g = &sc->faults[i];
        if (g->ops != &cr_fault_clock_ops || !g->priv ||
            ((const clock_priv *)g->priv)->monotonic)
            continue;
        if (strcmp(g->target.service, sp->name) == 0)
            return CR_OK; /* the service is set up already */
        if (!cr_run_ssh_svc_node(r, g->target.service))
            first_on_run = 0; /* clock/ of the run is made */
    }
    if (sp->replicas > CK_MAX_REP)
        return cr_err_set(err, CR_EUNSUP,
                          "fault %s: service %s has more than %d replicas",
                          f->name, sp->name, CK_MAX_REP);
    if (cr_run_ssh_svc_node(r, sp->name))
        return node_prepare(f, r, sp, err);
    int dfd = first_on_run
                  ? cr_run_tmpdir(r, "clock", 0755, err)
                  : openat(cr_run_dirfd(r), "clock",
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return first_on_run ? dfd
                            : cr_err_sys(err, CR_ESYS, errno,
                                         "fault %s: clock/", f->name);
    if (!first_on_run)
        close(dfd); /* cr_run_tmpdir's fd is the run's */
    /* Keep a preload set by another kind, the scenario or our caller. */
    const char *base = cr_run_getenv(r, sp->name, "LD_PRELOAD");
    for (char **e = sp->env; !base && e && *e; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
            base = *e + 11;
    if (!base)
        base = getenv("LD_PRELOAD");
    if (set_env(r, sp, base, faketime_lib(), err))
        return err->code;
    cr_run_log(r, "clock: %s runs under libfaketime (%s), offsets in %s/clock",
               sp->name, faketime_lib(), cr_run_dir(r));
    return CR_OK;
}

/* ---- apply / revert --------------------------------------------------- */

/* Is instance in (a running replica) in a time namespace of its own? */
static int in_own_timens(pid_t pid)
{
    char a[64], b[64], path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/time", (int)pid);
    ssize_t na = readlink("/proc/self/ns/time", a, sizeof a - 1);
    ssize_t nb = readlink(path, b, sizeof b - 1);
    if (na <= 0 || nb <= 0)
        return -1;
    a[na] = b[nb] = '\0';
    return strcmp(a, b) != 0;
}

static int apply_monotonic(cr_fault *f, cr_fault_act *act, cr_err *err)
{
    clock_priv *c = f->priv;
    json_object_set_new(act->details, "clock", json_string("monotonic"));
    json_object_set_new(act->details, "via", json_string("time namespace"));
    json_object_set_new(act->details, "offset_s", json_real(c->value));
    json_object_set_new(act->details, "from",
                        json_string("each replica's start, whole run"));
    json_t *insts = json_array();
    json_object_set_new(act->details, "instances", insts);
    for (size_t i = 0; i < act->ninst; i++) {
        pid_t pid = cr_inst_pid(act->inst[i]);
        if (pid <= 0)
            continue;
        int own = in_own_timens(pid);
        json_array_append_new(insts,
                              json_pack("{s:s, s:i, s:b}", "instance",
                                        cr_inst_name(act->inst[i]), "pid",
                                        (int)pid, "time_namespace", own == 1));
        if (own == 0)
            return cr_err_set(err, CR_ESTATE,
                              "%s (pid %d) is not in a time namespace of its "
                              "own (a kernel older than 5.19 does not switch "
                              "on exec)",
                              cr_inst_name(act->inst[i]), (int)pid);
    }
    return CR_OK;
}

static int clock_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    clock_priv *c = f->priv;
    if (c->monotonic)
        return apply_monotonic(f, act, err);
    static const char *const what[] = {"skew", "jump", "drift"};
    json_object_set_new(act->details, "clock", json_string("realtime"));
    json_object_set_new(act->details, "via", json_string("libfaketime"));
    json_object_set_new(act->details, "what", json_string(what[c->mode]));
    json_object_set_new(act->details, c->mode == CK_RATE ? "rate" : "offset_s",
                        json_real(c->value));
    /* Which replicas this occurrence changed, for its revert (occurrences
     * of one fault may overlap).  A step that stays is never reverted. */
    uint64_t *done = NULL;
    if (f->for_s > 0) {
        done = cr_calloc(1, sizeof *done);
        if (!done)
            return cr_err_set(err, CR_ENOMEM, "clock: out of memory");
        act->state = done;
    }
    double now = unix_now();
    for (size_t i = 0; i < act->ninst; i++) {
        int idx = cr_inst_index(act->inst[i]);
        clock_rep *rp = &c->rep[idx];
        if (c->mode == CK_RATE) {
            if (rp->drifting)
                return cr_err_set(err, CR_ESTATE,
                                  "%s: already drifting (an earlier "
                                  "occurrence of %s is still open)",
                                  cr_inst_name(act->inst[i]), f->name);
            rp->drifting = 1;
            if (cr_run_ssh_svc_node(r, cr_inst_service(act->inst[i]))) {
                rp->start = node_start_unix(r, act->inst[i]);
                rp->start_pid = cr_inst_pid(act->inst[i]);
                now = unix_now(); /* the drift begins with the write */
            }
            rp->t_rate = now;
        } else {
            rp->off += c->value;
        }
        if (done)
            *done |= UINT64_C(1) << idx;
        int rc = write_file(r, act->inst[i], act->details, err);
        if (rc)
            return rc;
    }
    return CR_OK;
}

static int clock_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    clock_priv *c = f->priv;
    uint64_t *done = act->state;
    int rc = CR_OK;
    if (c->monotonic || !done)
        return CR_OK; /* a namespace ends with its replica; nothing owed */
    double now = unix_now();
    json_t *rev = json_object();
    json_object_set_new(act->details, "reverted", rev);
    for (size_t i = 0; i < act->ninst; i++) {
        int idx = cr_inst_index(act->inst[i]);
        clock_rep *rp = &c->rep[idx];
        if (!(*done & (UINT64_C(1) << idx)))
            continue;
        *done &= ~(UINT64_C(1) << idx);
        if (c->mode == CK_RATE) {
            rp->drift += (c->value - 1) * (now - rp->t_rate);
            rp->drifting = 0;
        } else {
            rp->off -= c->value;
        }
        int e = write_file(r, act->inst[i], rev, err);
        if (e && rc == CR_OK)
            rc = e;
    }
    cr_free(done);
    act->state = NULL;
    return rc;
}

/* A replica (re)started inside a drift window: its libfaketime counts
 * from its own start, so its file is written again for it. */
static void clock_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act,
                           cr_inst *in)
{
    clock_priv *c = f->priv;
    cr_err e;
    cr_err_clear(&e);
    if (!c->monotonic && write_file(r, in, NULL, &e) != 0)
        cr_run_log(r, "fault %s: %s: %s", f->name, cr_inst_name(in), e.msg);
    (void)act;
}

static void clock_destroy(cr_fault *f)
{
    cr_free(f->priv);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_clock_ops = {
    .kind = "clock",
    .summary = "the service's clock runs wrong: wall clock skew, step or "
               "drift (libfaketime), or a monotonic offset from start (a "
               "time namespace)",
    .params = clock_params,
    .flags = CR_FAULT_NEEDS_SERVICE,
    .requires = "realtime: libfaketime (Debian libfaketime) and a "
                "dynamically linked program; monotonic: time namespaces "
                "(Linux >= 5.19) and root; on ssh nodes the wall clock only "
                "(skew, step, drift), with libfaketime there",
    .parse = clock_parse,
    .check = clock_check,
    .prepare = clock_prepare,
    .apply = clock_apply,
    .revert = clock_revert,
    .on_spawn = clock_on_spawn,
    .destroy = clock_destroy,
};
