/* cr_cli_explore: `chaosrun explore SCENARIO --budget D`: draw concrete
 * fault schedules from the scenario's fault space (key "explore",
 * scenario/cr_explore.c), one a seed, run each, and stop at the first
 * failure (or, with --keep-going, at the end of the budget, failures
 * grouped by which expectations failed).  Strategy (--strategy): uniform
 * -- every template, target, time and parameter drawn uniformly from the
 * seed -- or coverage: each fault from the (template x target x third of
 * its start window) combination tried least so far
 * (cr_explore_draw_with).
 * Each run is OUT/run-NNN/ beside the concrete scenario it ran
 * (OUT/schedule-NNN.json, the reproducing file of a failure); OUT/index.html
 * and junit.xml list them, OUT/explore.jsonl has one line a run.
 *
 * -j J runs up to J runs at once.  Every schedule is still drawn here, in
 * the parent, in run order (the coverage tally sees the draws in the same
 * order as with -j 1), and the results are recorded in run order, where
 * the stop rules apply: the output for a seed does not depend on J.  Each
 * run is a forked child that first enters a network namespace of its own
 * (only lo, up), so the fixed ports of two runs of the same system do not
 * collide.  Runs drawn beyond a stop are cancelled: SIGTERM (the run stops
 * its services), waited for, and their run-NNN/ and schedule-NNN.json
 * removed. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "base/cr_dirfd.h"
#include "base/cr_signal.h"
#include "net/cr_netns.h"
#include "reports/cr_report.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netlink/socket.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char EXPLORE_USAGE[] =
    "usage: chaosrun explore SCENARIO --budget D [OPTIONS]\n"
    "\n"
    "Search the scenario's fault space (its \"explore\" key,\n"
    "scenarios/README.md) for a failure: each run draws a concrete schedule\n"
    "from its seed (seed, seed+1, ...), added to the scenario's fixed\n"
    "faults, runs it and keeps the verdict.  Stops at the first\n"
    "failure, when the budget is spent (no run starts after it) or after N\n"
    "runs.  Every failure's concrete scenario (fixed at_s, no range) is\n"
    "OUT/schedule-NNN.json: run it to reproduce, or `chaosrun shrink` its\n"
    "run directory OUT/run-NNN.\n"
    "\n"
    "Options:\n"
    "  --budget D        wall-time budget: 90s, 10m, 1h (required)\n"
    "  --runs N          at most N runs\n"
    "  --keep-going      do not stop at the first failure: collect failures,\n"
    "                    grouped by the expectations that failed\n"
    "  --seed N          the first run's seed (default the scenario's)\n"
    "  -j, --jobs J      run up to J runs at once (1..64, default 1), each\n"
    "                    in a network namespace of its own (only lo), so\n"
    "                    fixed ports do not collide; needs CAP_NET_ADMIN\n"
    "                    and CAP_SYS_ADMIN (else exit 3).  Schedules are\n"
    "                    drawn and results recorded in run order, so the\n"
    "                    runs, their verdicts and where the search stops\n"
    "                    are those of -j 1 for the same seed (only how many\n"
    "                    runs fit in the budget changes); runs drawn beyond\n"
    "                    a stop are cancelled and their run-NNN/ and\n"
    "                    schedule-NNN.json removed\n"
    "  --strategy S      uniform (default): template, target, start and\n"
    "                    parameters drawn uniformly; coverage: each fault\n"
    "                    from the combination (template x target x third of\n"
    "                    its start window) tried least so far, so every one\n"
    "                    is tried before any twice (a run's schedule then\n"
    "                    depends on the runs before it; its schedule-NNN.json\n"
    "                    reproduces it)\n"
    "  -o, --out DIR     output directory (default chaosrun-out/<name>-\n"
    "                    explore-<UTC time>)\n"
    "  -q, --quiet       no line per run (the summary is printed)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 no failure found; 1 a failure found; 2 usage or invalid\n"
    "scenario; 3 this machine cannot run it; 4 harness failure or\n"
    "interrupted (SIGINT/SIGTERM: the running runs stop their services,\n"
    "no run starts after); 5 the system did not start (or its steady state\n"
    "never held) in 3 runs in a row and nothing was found.\n";

/* Consecutive runs that could not be judged (exit 5) before the search
 * stops with exit 5. */
#define EXPLORE_MAX_NOT_STARTED 3

/* At most this many runs at once (-j). */
#define EXPLORE_MAX_JOBS 64

typedef struct explore_args {
    const char *file, *out;
    double budget;
    uint64_t runs, seed, jobs;
    int have_seed, keep_going, quiet;
    cr_explore_strategy strategy;
} explore_args;

/* A drawn run, from its draw until it is recorded (or cancelled). */
typedef struct explore_slot {
    unsigned i;        /* run index */
    uint64_t seed;     /* its seed */
    json_t *drawn;     /* the drawn faults (owned), NULL when free */
    size_t *tally;     /* the tally right after its draw (narms) */
    int state;         /* SLOT_* */
    pid_t pid;         /* its child while SLOT_RUNNING with -j > 1 */
    int told;          /* SIGTERM sent to it (once: a second forces) */
    int rc;            /* exit status once SLOT_DONE */
    double start, end; /* since the exploration began */
    char file[PATH_MAX + 32], dir[PATH_MAX + 32];
} explore_slot;

enum { SLOT_FREE, SLOT_RUNNING, SLOT_DONE };

/* What the search found so far. */
typedef struct explore {
    cr_scen *sc;
    char out[PATH_MAX], scen_dir[PATH_MAX];
    FILE *lines;
    char **dirs;
    size_t ndirs, cap;
    unsigned tried, failures, unjudged;
    json_t *groups; /* signature -> {count, first_run, file} */
    double t0, first_s;
    int first_run, worst;
    size_t narms;
    size_t *arm_tally; /* faults drawn from each arm: every draw so far */
    size_t *rec_tally; /* the same as of the last run recorded */
    cr_explore_strategy strategy;
    explore_slot *slots;   /* ring: run i in slots[i % nslots] */
    unsigned jobs, nslots; /* runs at once; runs drawn, not yet recorded */
} explore;

/* Arms of the space drawn from at least once (tally: narms counters). */
static size_t arms_tried(const explore *ex, const size_t *tally)
{
    size_t k = 0;
    for (size_t i = 0; i < ex->narms; i++)
        k += tally[i] > 0;
    return k;
}

static int parse_args(int argc, char **argv, explore_args *a)
{
    static const struct option longopts[] = {
        {"budget", required_argument, NULL, 'b'},
        {"runs", required_argument, NULL, 'n'},
        {"keep-going", no_argument, NULL, 'K'},
        {"seed", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"strategy", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    *a = (explore_args){.budget = -1, .runs = 100000, .jobs = 1};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            if (cr_cli__parse_duration(optarg, &a->budget))
                goto bad;
            break;
        case 'n':
            if (cr_cli_parse_u64(optarg, &a->runs) || a->runs < 1)
                goto bad;
            break;
        case 's':
            if (cr_cli_parse_u64(optarg, &a->seed))
                goto bad;
            a->have_seed = 1;
            break;
        case 'j':
            if (cr_cli_parse_u64(optarg, &a->jobs) || a->jobs < 1 ||
                a->jobs > EXPLORE_MAX_JOBS)
                goto bad;
            break;
        case 'K':
            a->keep_going = 1;
            break;
        case 'S':
            if (cr_explore_strategy_parse(optarg, &a->strategy))
                goto bad;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'h':
            fputs(EXPLORE_USAGE, stdout);
            return 0;
        default:
            fputs(EXPLORE_USAGE, stderr);
            return 2;
        }
    }
    if (argc - optind != 1 || a->budget < 0) {
        if (a->budget < 0)
            fprintf(stderr, "chaosrun explore: --budget is required\n");
        fputs(EXPLORE_USAGE, stderr);
        return 2;
    }
    a->file = argv[optind];
    return -1;
bad:
    fprintf(stderr,
            "chaosrun explore: bad value '%s' (--budget like 90s, 10m, 1h; "
            "--runs and --seed numbers; -j 1 to 64; --strategy uniform or "
            "coverage)\n",
            optarg);
    return 2;
}

/* "no-loss,worker-restarted": the failed expectations of a journal. */
static void signature(const json_t *j, char *buf, size_t n)
{
    size_t i, k = 0;
    json_t *x;
    buf[0] = '\0';
    json_array_foreach (json_object_get(j, "expectations"), i, x) {
        const char *v = json_string_value(json_object_get(x, "verdict"));
        const char *nm = json_string_value(json_object_get(x, "name"));
        if (v && nm && strcmp(v, "failed") == 0 && k < n)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "", nm);
    }
}

/* A finished run, in run order: the line, the tally, a failure's group,
 * the line on the terminal. */
static void record(explore *ex, const explore_slot *sl, const json_t *j,
                   int quiet)
{
    char sig[512] = "";
    const char *st = json_string_value(json_object_get(j, "status"));
    if (sl->rc == 1 && j)
        signature(j, sig, sizeof sig);
    ex->tried++;
    memcpy(ex->rec_tally, sl->tally, ex->narms * sizeof *ex->rec_tally);
    if (*sig) {
        json_t *g = json_object_get(ex->groups, sig);
        if (!g) {
            g = json_pack("{s:i,s:i,s:s}", "count", 0, "first_run", sl->i,
                          "schedule", sl->file);
            json_object_set_new(ex->groups, sig, g);
        }
        json_object_set_new(
            g, "count",
            json_integer(json_integer_value(json_object_get(g, "count")) + 1));
        if (!ex->failures++) {
            ex->first_s = sl->end;
            ex->first_run = (int)sl->i;
        }
    } else if (sl->rc != 0) {
        ex->unjudged++;
    }
    /* arms_tried as of this run's draw, whatever was drawn after it. */
    json_t *line =
        json_pack("{s:i,s:I,s:s,s:O,s:i,s:s,s:s,s:f,s:I,s:f,s:f}", "run", sl->i,
                  "seed", (json_int_t)sl->seed, "strategy",
                  cr_explore_strategy_name(ex->strategy), "faults", sl->drawn,
                  "exit", sl->rc, "status", st ? st : "none", "failed", sig,
                  "took_s", sl->end - sl->start, "arms_tried",
                  (json_int_t)arms_tried(ex, sl->tally), "start_s", sl->start,
                  "end_s", sl->end);
    if (line) {
        json_dumpf(line, ex->lines, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', ex->lines);
        fflush(ex->lines);
    }
    json_decref(line);
    if (!quiet) {
        printf("[%u] seed %llu: %zu fault(s): %s%s%s\n", sl->i,
               (unsigned long long)sl->seed, json_array_size(sl->drawn),
               st ? st : "no journal", *sig ? " -- failed: " : "", sig);
        fflush(stdout);
    }
}

/* Draw schedule i into its slot, write OUT/schedule-NNN.json and load it
 * (*sc, the caller frees it).  0, or the exit status (2 or 4) that ends
 * the search: nothing is left in the slot then. */
static int slot_draw(explore *ex, explore_slot *sl, unsigned i, uint64_t seed,
                     cr_scen **sc)
{
    json_t *faults = NULL, *doc = NULL;
    cr_err err;
    int rc = 4;
    cr_err_clear(&err);
    *sc = NULL;
    *sl = (explore_slot){.i = i, .seed = seed, .tally = sl->tally, .rc = 4};
    snprintf(sl->file, sizeof sl->file, "%s/schedule-%03u.json", ex->out, i);
    snprintf(sl->dir, sizeof sl->dir, "%s/run-%03u", ex->out, i);
    if (cr_explore_draw_with(ex->sc, seed, ex->strategy, ex->arm_tally,
                             &sl->drawn, &err) != 0) {
        fprintf(stderr, "chaosrun explore: %s\n", err.msg);
        return 4;
    }
    memcpy(sl->tally, ex->arm_tally, ex->narms * sizeof *sl->tally);
    faults = json_deep_copy(json_object_get(ex->sc->root, "faults"));
    if (!faults)
        faults = json_array();
    if (faults && json_array_extend(faults, sl->drawn) == 0 &&
        (doc = cr_cli__concrete_doc(ex->sc->root, faults, seed,
                                    ex->sc->duration_s, ex->scen_dir)))
        rc = cr_cli__doc_load(doc, sl->file, sc);
    json_decref(doc);
    json_decref(faults);
    if (rc) {
        json_decref(sl->drawn);
        sl->drawn = NULL;
    }
    return rc;
}

/* The journal a finished run left in its directory, or NULL. */
static json_t *slot_journal(const explore_slot *sl)
{
    cr_err e;
    cr_err_clear(&e);
    FILE *fp = cr_dir_fopen_in(sl->dir, "journal.json", &e);
    json_t *j = fp ? json_loadf(fp, 0, NULL) : NULL;
    if (fp)
        fclose(fp);
    return j;
}

/* ---- runs in children (-j > 1) ------------------------------------------ */

/* Move this process into a new network namespace with lo up.  0, or the
 * exit status 3 (cannot) with the reason in err. */
static int enter_own_netns(cr_err *err)
{
    struct nl_sock *sock = NULL;
    int fd = -1, rc = 3;
    if (unshare(CLONE_NEWNET) != 0) {
        cr_err_set(err, CR_EUNSUP,
                   "-j: unshare(CLONE_NEWNET): %s (a run of its own network "
                   "namespace is what keeps parallel runs' ports apart; use "
                   "-j 1)",
                   strerror(errno));
        return 3;
    }
    if ((fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
        cr_err_set(err, CR_EUNSUP, "-j: /proc/self/ns/net: %s",
                   strerror(errno));
        return 3;
    }
    if (cr_netns_sock(fd, &sock, err) == 0 &&
        cr_netns_link_up(sock, "lo", err) == 0)
        rc = 0;
    if (sock)
        nl_socket_free(sock);
    close(fd);
    return rc;
}

/* Start run sl in a child: its own network namespace, then the run.  The
 * child's exit status is the run's; the parent reads its journal. */
static int slot_fork(explore_slot *sl, cr_scen *sc, const sigset_t *old_mask)
{
    fflush(NULL);
    /* Not cr_spawn, on purpose: a worker process, fork WITHOUT exec (an
     * exception of tests/style/spawn.sh, like the suite's workers).  The
     * child runs the schedule drawn, written and loaded here, in a network
     * namespace of its own, and _exits.  It is safe because this command
     * line is single-threaded when it forks (no run, probe or scrape
     * thread exists in the parent: every run is in a child), so the child
     * may call anything, and it owns no resource of the parent's: each run
     * opens its own ledger, janitor and loop; explore.jsonl was flushed
     * just above and the child never writes it. */
    pid_t p = fork();
    if (p < 0) {
        fprintf(stderr, "chaosrun explore: fork: %s\n", strerror(errno));
        return -1;
    }
    if (p == 0) {
        cr_err e;
        cr_err_clear(&e);
        /* A process group of its own: a signal from the terminal reaches
         * the parent only, which tells each run once. */
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        int rc = enter_own_netns(&e);
        if (rc)
            fprintf(stderr, "chaosrun explore: run %u: %s\n", sl->i, e.msg);
        else
            rc = cr_cli__run_quiet(sc, sl->dir, NULL);
        fflush(NULL);
        _exit(rc);
    }
    setpgid(p, p); /* also here: no window where the terminal reaches it */
    sl->pid = p;
    return 0;
}

/* Tell a running run to stop: one SIGTERM (the run stops its services and
 * writes its journal; a second signal would kill them without grace). */
static void slot_stop(explore_slot *sl)
{
    if (sl->state == SLOT_RUNNING && sl->pid > 0 && !sl->told) {
        kill(sl->pid, SIGTERM);
        sl->told = 1;
    }
}

/* Reap every child that ended: its slot is done. */
static void reap(explore *ex, int *running)
{
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
        for (unsigned k = 0; k < ex->nslots; k++) {
            explore_slot *sl = &ex->slots[k];
            if (sl->state != SLOT_RUNNING || sl->pid != w)
                continue;
            sl->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 4;
            sl->end = cr_cli__mono() - ex->t0;
            sl->state = SLOT_DONE;
            sl->pid = 0;
            (*running)--;
        }
    }
}

/* Free a slot; a cancelled one (run drawn beyond the stop) loses its
 * child (SIGTERM: the run stops its services; waited for) and its files. */
static void slot_release(explore *ex, explore_slot *sl, int cancel)
{
    if (cancel && sl->state == SLOT_RUNNING && sl->pid > 0) {
        int st;
        if (!sl->told)
            kill(sl->pid, SIGTERM);
        while (waitpid(sl->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    if (cancel && sl->state != SLOT_FREE) {
        cr_err e;
        cr_err_clear(&e);
        int dfd = cr_dir_open(ex->out, &e);
        const char *base = strrchr(sl->dir, '/');
        const char *fbase = strrchr(sl->file, '/');
        if (dfd >= 0) {
            if (cr_dir_remove(dfd, base ? base + 1 : sl->dir, &e) != 0)
                fprintf(stderr, "chaosrun explore: %s\n", e.msg);
            unlinkat(dfd, fbase ? fbase + 1 : sl->file, 0);
            close(dfd);
        }
        fprintf(stderr,
                "chaosrun explore: run %u (drawn beyond the stop) cancelled, "
                "its files removed\n",
                sl->i);
    }
    json_decref(sl->drawn);
    sl->drawn = NULL;
    sl->state = SLOT_FREE;
    sl->pid = 0;
}

static void explore_summary(explore *ex, const explore_args *a, uint64_t s0)
{
    char d[32], w[32];
    double wall = cr_cli__mono() - ex->t0;
    const char *key;
    json_t *g;
    cr_cli__dur_text(d, sizeof d, a->budget);
    cr_cli__dur_text(w, sizeof w, wall);
    printf("\nexplore %s: strategy %s, budget %s, seeds %llu..%llu\n",
           ex->sc->name, cr_explore_strategy_name(ex->strategy), d,
           (unsigned long long)s0,
           (unsigned long long)(s0 + (ex->tried ? ex->tried - 1 : 0)));
    printf("  %-20s %u\n", "schedules tried", ex->tried);
    printf("  %-20s %u", "failures found", ex->failures);
    json_object_foreach (ex->groups, key, g)
        printf("%s %s: %lld (first %s)", "", key,
               (long long)json_integer_value(json_object_get(g, "count")),
               json_string_value(json_object_get(g, "schedule")));
    printf("\n");
    if (ex->failures) {
        cr_cli__dur_text(d, sizeof d, ex->first_s);
        printf("  %-20s run %d, after %s\n", "first failure", ex->first_run, d);
    } else {
        printf("  %-20s none\n", "first failure");
    }
    if (ex->unjudged)
        printf("  %-20s %u (did not start, aborted or unknown)\n",
               "runs not judged", ex->unjudged);
    printf("  %-20s %zu of %zu (kind x target x third of the start "
           "window)\n",
           "combinations tried", arms_tried(ex, ex->rec_tally), ex->narms);
    printf("  %-20s %.2f\n", "runs per minute",
           wall > 0 ? ex->tried * 60.0 / wall : 0);
    printf("  %-20s %s\n", "wall time", w);
    printf("  %-20s %s/index.html, %s/explore.jsonl\n", "runs", ex->out,
           ex->out);
    printf("  %-20s %s/coverage.json (faults x mechanisms that reacted)\n",
           "coverage", ex->out);
    json_t *sum = json_pack(
        "{s:s,s:s,s:f,s:I,s:i,s:i,s:i,s:O,s:f,s:f}", "name", ex->sc->name,
        "strategy", cr_explore_strategy_name(ex->strategy), "budget_s",
        a->budget, "first_seed", (json_int_t)s0, "tried", ex->tried, "failures",
        ex->failures, "first_failure_run", ex->failures ? ex->first_run : -1,
        "groups", ex->groups, "first_failure_s",
        ex->failures ? ex->first_s : -1.0, "wall_s", wall);
    json_t *untried = json_array();
    for (size_t k = 0; untried && k < ex->narms; k++) {
        char nm[256];
        if (!ex->rec_tally[k] &&
            cr_explore_arm_name(ex->sc, k, nm, sizeof nm) == 0)
            json_array_append_new(untried, json_string(nm));
    }
    if (sum)
        json_object_set_new(sum, "combinations",
                            json_pack("{s:I,s:I,s:o*}", "total",
                                      (json_int_t)ex->narms, "tried",
                                      (json_int_t)arms_tried(ex, ex->rec_tally),
                                      "untried", untried));
    else
        json_decref(untried);
    char sfile[PATH_MAX + 16];
    snprintf(sfile, sizeof sfile, "%s/summary.json", ex->out);
    if (!sum ||
        json_dump_file(sum, sfile, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "chaosrun explore: cannot write %s\n", sfile);
    json_decref(sum);
}

/* Output directory, explore.jsonl and the run list.  0 or 4. */
static int explore_open(explore *ex, const explore_args *a)
{
    char path[PATH_MAX + 16];
    if (a->out) {
        snprintf(ex->out, sizeof ex->out, "%s", a->out);
    } else {
        char stamp[32];
        cr_run_utc_stamp(stamp, sizeof stamp);
        snprintf(ex->out, sizeof ex->out, "chaosrun-out/%s-explore-%s",
                 ex->sc->name, stamp);
    }
    cr_cli__scen_dir(a->file, ex->scen_dir, sizeof ex->scen_dir);
    snprintf(path, sizeof path, "%s/explore.jsonl", ex->out);
    ex->cap = a->runs < 100000 ? (size_t)a->runs : 100000;
    ex->dirs = calloc(ex->cap, sizeof *ex->dirs);
    ex->groups = json_object();
    ex->narms = cr_explore_narms(ex->sc);
    size_t na = ex->narms ? ex->narms : 1;
    ex->arm_tally = calloc(na, sizeof *ex->arm_tally);
    ex->rec_tally = calloc(na, sizeof *ex->rec_tally);
    ex->jobs = (unsigned)a->jobs;
    /* Twice as many runs drawn as run at once: a long run waiting to be
     * recorded does not keep the next ones from starting. */
    ex->nslots = ex->jobs > 1 ? 2 * ex->jobs : 1;
    ex->slots = calloc(ex->nslots, sizeof *ex->slots);
    for (unsigned k = 0; ex->slots && k < ex->nslots; k++)
        if (!(ex->slots[k].tally = calloc(na, sizeof *ex->slots[k].tally)))
            return 4;
    if (!ex->dirs || !ex->groups || !ex->arm_tally || !ex->rec_tally ||
        !ex->slots || cr_cli__mkdirs(ex->out) != 0 ||
        !(ex->lines = fopen(path, "we"))) {
        fprintf(stderr, "chaosrun explore: cannot write %s\n", path);
        return 4;
    }
    return 0;
}

/* Does the scenario have remote nodes (a host with "ssh")?  They are
 * reached over the host's network, which a run of -j > 1 does not see. */
static int has_remote_nodes(const cr_scen *sc)
{
    const json_t *hosts = json_object_get(sc->root, "hosts"), *h;
    const char *key;
    size_t i;
    if (json_is_array(hosts)) {
        json_array_foreach (hosts, i, h)
            if (json_object_get(h, "ssh"))
                return 1;
    } else if (json_is_object(hosts)) {
        json_object_foreach ((json_t *)hosts, key, h)
            if (json_object_get(h, "ssh"))
                return 1;
    }
    return 0;
}

/* -j > 1 on this scenario and machine?  0, or the exit status (message
 * printed). */
static int jobs_possible(const explore *ex, const explore_args *a)
{
    const char *missing = NULL;
    if (a->jobs < 2)
        return 0;
    if (has_remote_nodes(ex->sc)) {
        fprintf(stderr,
                "chaosrun explore: %s: -j %llu: the scenario has remote "
                "nodes (hosts with \"ssh\"), which a run in a network "
                "namespace of its own cannot reach; use -j 1\n",
                a->file, (unsigned long long)a->jobs);
        return 2;
    }
    if (!cr_netns_privileged(&missing)) {
        fprintf(stderr,
                "chaosrun explore: -j %llu runs each run in a network "
                "namespace of its own (so that fixed ports do not collide), "
                "which needs %s; run as root or use -j 1\n",
                (unsigned long long)a->jobs, missing);
        return 3;
    }
    return 0;
}

/* Draw and start runs from *next on while a job and a slot are free and
 * the budget and --runs allow.  A draw that fails sets *failed_at (its
 * index) and *failed_rc and starts nothing more. */
static void start_ready(explore *ex, const explore_args *a, uint64_t s0,
                        unsigned rec, unsigned *next, int *running,
                        const sigset_t *old_mask, unsigned *failed_at,
                        int *failed_rc)
{
    while (*next < a->runs && *next - rec < ex->nslots &&
           *running < (int)ex->jobs && cr_cli__mono() - ex->t0 < a->budget) {
        explore_slot *sl = &ex->slots[*next % ex->nslots];
        cr_scen *sc = NULL;
        int r = slot_draw(ex, sl, *next, s0 + *next, &sc);
        if (r) {
            *failed_at = *next, *failed_rc = r;
            return;
        }
        sl->state = SLOT_RUNNING;
        sl->start = cr_cli__mono() - ex->t0;
        if (ex->jobs == 1) {
            sl->rc = cr_cli__run_quiet(sc, sl->dir, NULL);
            sl->state = SLOT_DONE;
        } else if (slot_fork(sl, sc, old_mask) == 0) {
            (*running)++;
        } else {
            sl->rc = 4;
            sl->state = SLOT_DONE;
        }
        if (sl->state == SLOT_DONE)
            sl->end = cr_cli__mono() - ex->t0;
        cr_scen_free(sc);
        (*next)++;
    }
}

/* The search: draw and start runs while a job is free, record finished
 * runs in run order and apply the stop rules there.  Returns 0 or the
 * exit status that ended it (2, 3, 4, 5); *sig: the signal that
 * interrupted it (-j > 1), or 0. */
static int explore_loop(explore *ex, const explore_args *a, uint64_t s0,
                        int *sig)
{
    sigset_t wait_set, old_mask;
    struct sigaction dfl = {.sa_handler = SIG_DFL}, old_chld;
    unsigned next = 0, rec = 0, draw_failed_at = UINT_MAX;
    int running = 0, rc = 0, draw_rc = 0, stopped = 0, not_started = 0;
    *sig = 0;
    sigemptyset(&wait_set);
    sigemptyset(&old_mask);
    if (ex->jobs > 1) {
        /* Children end and signals arrive as signals waited for: no
         * handler, no race between a check and a blocking wait. */
        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGCHLD);
        sigaddset(&wait_set, SIGINT);
        sigaddset(&wait_set, SIGTERM);
        sigaction(SIGCHLD, &dfl, &old_chld); /* SIG_IGN would reap them */
        sigprocmask(SIG_BLOCK, &wait_set, &old_mask);
    }
    for (;;) {
        while (!stopped && rec < next &&
               ex->slots[rec % ex->nslots].state == SLOT_DONE) {
            explore_slot *sl = &ex->slots[rec % ex->nslots];
            json_t *j = slot_journal(sl);
            int r = j && cr_cli__interrupted(j) ? 4 : sl->rc;
            if (j && ex->ndirs < ex->cap &&
                (ex->dirs[ex->ndirs] = strdup(sl->dir)))
                ex->ndirs++;
            record(ex, sl, j, a->quiet);
            json_decref(j);
            slot_release(ex, sl, 0);
            rec++;
            if (r == 2 || r == 3 || r == 4) {
                rc = r; /* unrunnable, harness failure or interrupted */
                stopped = 1;
                break;
            }
            /* A system that does not start says nothing about faults: a
             * few in a row (a port taken, a broken build) end the search
             * rather than spend the budget on runs that cannot be
             * judged. */
            not_started = r == 5 ? not_started + 1 : 0;
            if (not_started == EXPLORE_MAX_NOT_STARTED) {
                fprintf(stderr,
                        "chaosrun explore: the system did not start (or its "
                        "steady state never held) in %d runs in a row, the "
                        "last %s: stopping (see its journal.json)\n",
                        EXPLORE_MAX_NOT_STARTED, sl->dir);
                rc = ex->failures ? 0 : 5; /* failures found still count */
                stopped = 1;
            }
            if (ex->failures && !a->keep_going)
                stopped = 1;
        }
        if (stopped)
            break;
        if (draw_failed_at == UINT_MAX && !*sig)
            start_ready(ex, a, s0, rec, &next, &running, &old_mask,
                        &draw_failed_at, &draw_rc);
        if (rec < next && ex->slots[rec % ex->nslots].state == SLOT_DONE)
            continue; /* -j 1: the run just made */
        if (rec == next) {
            if (draw_failed_at == next)
                rc = draw_rc; /* invalid draw: after the runs before it */
            break;            /* budget spent, --runs made, or interrupted */
        }
        siginfo_t si;
        int s = sigwaitinfo(&wait_set, &si);
        if ((s == SIGINT || s == SIGTERM) && !*sig) {
            /* The whole exploration ends: every running run is told to
             * stop (its services stopped, its journal written), then
             * recorded in order up to the first one interrupted. */
            *sig = s;
            for (unsigned k = 0; k < ex->nslots; k++)
                slot_stop(&ex->slots[k]);
        }
        reap(ex, &running);
    }
    /* Runs drawn beyond the stop: cancelled (all told at once, then each
     * waited for), their files removed. */
    for (unsigned k = rec; k < next; k++)
        slot_stop(&ex->slots[k % ex->nslots]);
    for (unsigned k = rec; k < next; k++)
        slot_release(ex, &ex->slots[k % ex->nslots], 1);
    if (ex->jobs > 1) {
        /* A signal that came after the last wait still ends the search as
         * interrupted, rather than kill this process once unblocked. */
        struct timespec zero = {0, 0};
        siginfo_t si;
        int s, st;
        while ((s = sigtimedwait(&wait_set, &si, &zero)) > 0)
            if ((s == SIGINT || s == SIGTERM) && !*sig)
                *sig = s;
        while (waitpid(-1, &st, WNOHANG) > 0)
            ; /* nothing of ours is left running */
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        sigaction(SIGCHLD, &old_chld, NULL);
    }
    if (*sig)
        rc = 4;
    return rc;
}

int cr_cli_explore(int argc, char **argv)
{
    explore_args a;
    explore ex = {0};
    int sig = 0;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if ((rc = cr_cli_load(a.file, &ex.sc)) != 0)
        return rc;
    if (!cr_explore_present(ex.sc)) {
        fprintf(stderr,
                "chaosrun explore: %s: no \"explore\" key: nothing to draw "
                "(scenarios/README.md, \"Exploring\")\n",
                a.file);
        cr_scen_free(ex.sc);
        return 2;
    }
    if ((rc = jobs_possible(&ex, &a)) != 0) {
        cr_scen_free(ex.sc);
        return rc;
    }
    uint64_t s0 = a.have_seed ? a.seed : ex.sc->seed;
    ex.t0 = cr_cli__mono();
    ex.strategy = a.strategy;
    if ((rc = explore_open(&ex, &a)) != 0)
        goto out;
    if (!a.quiet)
        printf("explore %s: strategy %s over %zu combinations (kind x target "
               "x third of the start window)%s\n",
               ex.sc->name, cr_explore_strategy_name(ex.strategy), ex.narms,
               ex.jobs > 1 ? ", runs in parallel" : "");
    rc = explore_loop(&ex, &a, s0, &sig);
    if (sig)
        fprintf(stderr,
                "chaosrun explore: interrupted by %s: running runs stopped, "
                "%u recorded\n",
                cr_signal_name(sig), ex.tried);
    if (ex.ndirs) {
        cr_err e;
        cr_err_clear(&e);
        if (cr_report_suite((const char *const *)ex.dirs, ex.ndirs, ex.out,
                            &e) != 0)
            fprintf(stderr, "chaosrun explore: suite report: %s\n", e.msg);
    }
    explore_summary(&ex, &a, s0);
    if (!rc)
        rc = ex.failures ? 1 : 0;
out:
    if (ex.lines)
        fclose(ex.lines);
    for (size_t i = 0; i < ex.ndirs; i++)
        free(ex.dirs[i]);
    free(ex.dirs);
    free(ex.arm_tally);
    free(ex.rec_tally);
    for (unsigned k = 0; ex.slots && k < ex.nslots; k++)
        free(ex.slots[k].tally);
    free(ex.slots);
    json_decref(ex.groups);
    cr_scen_free(ex.sc);
    return rc;
}
