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
 * and junit.xml list them, OUT/explore.jsonl has one line a run. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "reports/cr_report.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "interrupted; 5 the system did not start (or its steady state never\n"
    "held) in 3 runs in a row and nothing was found.\n";

/* Consecutive runs that could not be judged (exit 5) before the search
 * stops with exit 5. */
#define EXPLORE_MAX_NOT_STARTED 3

typedef struct explore_args {
    const char *file, *out;
    double budget;
    uint64_t runs, seed;
    int have_seed, keep_going, quiet;
    cr_explore_strategy strategy;
} explore_args;

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
    size_t *arm_tally, narms; /* faults drawn from each arm of the space */
    cr_explore_strategy strategy;
} explore;

/* Arms of the space drawn from at least once. */
static size_t arms_tried(const explore *ex)
{
    size_t k = 0;
    for (size_t i = 0; i < ex->narms; i++)
        k += ex->arm_tally[i] > 0;
    return k;
}

static int parse_args(int argc, char **argv, explore_args *a)
{
    static const struct option longopts[] = {
        {"budget", required_argument, NULL, 'b'},
        {"runs", required_argument, NULL, 'n'},
        {"keep-going", no_argument, NULL, 'K'},
        {"seed", required_argument, NULL, 's'},
        {"strategy", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    *a = (explore_args){.budget = -1, .runs = 100000};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
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
            "--runs and --seed numbers; --strategy uniform or coverage)\n",
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

/* A finished run: the line, the tally, a failure's group. */
static void record(explore *ex, unsigned i, uint64_t seed, const json_t *sched,
                   int rc, const json_t *j, double took, const char *file)
{
    char sig[512] = "";
    const char *st = json_string_value(json_object_get(j, "status"));
    if (rc == 1 && j)
        signature(j, sig, sizeof sig);
    ex->tried++;
    if (*sig) {
        json_t *g = json_object_get(ex->groups, sig);
        if (!g) {
            g = json_pack("{s:i,s:i,s:s}", "count", 0, "first_run", i,
                          "schedule", file);
            json_object_set_new(ex->groups, sig, g);
        }
        json_object_set_new(
            g, "count",
            json_integer(json_integer_value(json_object_get(g, "count")) + 1));
        if (!ex->failures++) {
            ex->first_s = cr_cli__mono() - ex->t0;
            ex->first_run = (int)i;
        }
    } else if (rc != 0) {
        ex->unjudged++;
    }
    json_t *line = json_pack(
        "{s:i,s:I,s:s,s:O,s:i,s:s,s:s,s:f,s:I}", "run", i, "seed",
        (json_int_t)seed, "strategy", cr_explore_strategy_name(ex->strategy),
        "faults", sched, "exit", rc, "status", st ? st : "none", "failed", sig,
        "took_s", took, "arms_tried", (json_int_t)arms_tried(ex));
    if (line) {
        json_dumpf(line, ex->lines, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', ex->lines);
        fflush(ex->lines);
    }
    json_decref(line);
}

/* Draw, write, load and run schedule i.  Returns the run's exit status
 * (2 or 4 when it could not be made). */
static int explore_one(explore *ex, unsigned i, uint64_t seed, int quiet)
{
    char file[PATH_MAX + 32], dir[PATH_MAX + 32];
    json_t *drawn = NULL, *faults = NULL, *doc = NULL, *j = NULL;
    cr_scen *sc = NULL;
    cr_err err;
    int rc = 4;
    double t = cr_cli__mono();
    cr_err_clear(&err);
    snprintf(file, sizeof file, "%s/schedule-%03u.json", ex->out, i);
    snprintf(dir, sizeof dir, "%s/run-%03u", ex->out, i);
    if (cr_explore_draw_with(ex->sc, seed, ex->strategy, ex->arm_tally, &drawn,
                             &err) != 0) {
        fprintf(stderr, "chaosrun explore: %s\n", err.msg);
        return 4;
    }
    faults = json_deep_copy(json_object_get(ex->sc->root, "faults"));
    if (!faults)
        faults = json_array();
    if (!faults || json_array_extend(faults, drawn) != 0 ||
        !(doc = cr_cli__concrete_doc(ex->sc->root, faults, seed,
                                     ex->sc->duration_s, ex->scen_dir)))
        goto out;
    if ((rc = cr_cli__doc_load(doc, file, &sc)) != 0)
        goto out;
    rc = cr_cli__run_quiet(sc, dir, &j);
    if (ex->ndirs < ex->cap && (ex->dirs[ex->ndirs] = strdup(dir)))
        ex->ndirs++;
    record(ex, i, seed, drawn, rc, j, cr_cli__mono() - t, file);
    if (!quiet) {
        char sig[512];
        signature(j, sig, sizeof sig);
        printf("[%u] seed %llu: %zu fault(s): %s%s%s\n", i,
               (unsigned long long)seed, json_array_size(drawn),
               json_string_value(json_object_get(j, "status"))
                   ? json_string_value(json_object_get(j, "status"))
                   : "no journal",
               *sig ? " -- failed: " : "", sig);
        fflush(stdout);
    }
    if (j && cr_cli__interrupted(j))
        rc = 4;
out:
    cr_scen_free(sc);
    json_decref(j);
    json_decref(doc);
    json_decref(faults);
    json_decref(drawn);
    return rc;
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
           "combinations tried", arms_tried(ex), ex->narms);
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
        if (!ex->arm_tally[k] &&
            cr_explore_arm_name(ex->sc, k, nm, sizeof nm) == 0)
            json_array_append_new(untried, json_string(nm));
    }
    if (sum)
        json_object_set_new(
            sum, "combinations",
            json_pack("{s:I,s:I,s:o*}", "total", (json_int_t)ex->narms, "tried",
                      (json_int_t)arms_tried(ex), "untried", untried));
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
    ex->arm_tally = calloc(ex->narms ? ex->narms : 1, sizeof *ex->arm_tally);
    if (!ex->dirs || !ex->groups || !ex->arm_tally ||
        cr_cli__mkdirs(ex->out) != 0 || !(ex->lines = fopen(path, "we"))) {
        fprintf(stderr, "chaosrun explore: cannot write %s\n", path);
        return 4;
    }
    return 0;
}

int cr_cli_explore(int argc, char **argv)
{
    explore_args a;
    explore ex = {0};
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
    uint64_t s0 = a.have_seed ? a.seed : ex.sc->seed;
    ex.t0 = cr_cli__mono();
    ex.strategy = a.strategy;
    if ((rc = explore_open(&ex, &a)) != 0)
        goto out;
    if (!a.quiet)
        printf("explore %s: strategy %s over %zu combinations (kind x target "
               "x third of the start window)\n",
               ex.sc->name, cr_explore_strategy_name(ex.strategy), ex.narms);
    int not_started = 0;
    for (unsigned i = 0; i < a.runs; i++) {
        if (cr_cli__mono() - ex.t0 >= a.budget)
            break;
        int r = explore_one(&ex, i, s0 + i, a.quiet);
        if (r == 2 || r == 3 || r == 4) {
            rc = r; /* invalid draw, unrunnable, harness or interrupted */
            break;
        }
        /* A system that does not start says nothing about faults: a few
         * in a row (a port taken, a broken build) end the search rather
         * than spend the budget on runs that cannot be judged. */
        not_started = r == 5 ? not_started + 1 : 0;
        if (not_started == EXPLORE_MAX_NOT_STARTED) {
            fprintf(stderr,
                    "chaosrun explore: the system did not start (or its "
                    "steady state never held) in %d runs in a row, the "
                    "last %s/run-%03u: stopping (see its journal.json)\n",
                    EXPLORE_MAX_NOT_STARTED, ex.out, i);
            rc = ex.failures ? 0 : 5; /* failures found still count */
            break;
        }
        if (ex.failures && !a.keep_going)
            break;
    }
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
    json_decref(ex.groups);
    cr_scen_free(ex.sc);
    return rc;
}
