/* cr_cli_shrink: `chaosrun shrink RUN_DIR`: from a failed run's journal
 * (the scenario as written, the seed, every fault occurrence as applied)
 * build the concrete schedule -- one fault a occurrence, fixed at_s, the
 * instance it hit -- and make it small while it still fails the same
 * expectation: delta debugging (ddmin) over the faults, then shorter
 * windows, earlier starts, a shorter duration_s.  Chaos runs are not
 * deterministic, so a candidate "still fails" only when the expectation
 * failed in each of K runs.  Every candidate is a scenario file and K run
 * directories under OUT/step-NNN/; OUT/steps.jsonl lists them;
 * OUT/minimal.json is the result, re-run N times for its failure rate. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "reports/cr_report.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SHRINK_USAGE[] =
    "usage: chaosrun shrink RUN_DIR [OPTIONS]\n"
    "\n"
    "Make a failed run's fault schedule minimal.  From RUN_DIR/journal.json\n"
    "(the scenario, the seed, every fault occurrence as applied) build the\n"
    "concrete schedule: one fault an occurrence, at a fixed at_s, on the\n"
    "instance it hit (a fault triggered by on_event or on_ready keeps its\n"
    "trigger: its instant is the system's, not the clock's).  Then drop\n"
    "faults (delta debugging), shorten their windows, move timed ones\n"
    "earlier and shorten duration_s, keeping each change\n"
    "only when the candidate still fails THE SAME expectation (same name,\n"
    "verdict failed) in K of K runs.  Runs use the current environment (the\n"
    "scenario's ${VARS}, e.g. CRP_DEFECT, must be as in the failed run).\n"
    "\n"
    "Options:\n"
    "  -k, --runs-per-candidate K  runs a candidate must fail (default 3)\n"
    "  --budget D        stop shrinking after D (90s, 10m, 1h; default 30m):\n"
    "                    the smallest failing schedule so far is the result\n"
    "  --expect NAME     the expectation to keep failing (default: the run's\n"
    "                    first failed one)\n"
    "  --reruns N        re-run the result N times for its failure rate\n"
    "                    (default 5; 0: none)\n"
    "  -o, --out DIR     output directory (default chaosrun-out/<name>-\n"
    "                    shrink-<UTC time>): minimal.json, steps.jsonl,\n"
    "                    step-NNN/{candidate.json,run-K/}, final/run-K/,\n"
    "                    summary.json, report.html and report.md (original\n"
    "                    vs minimal: faults removed, time saved a run)\n"
    "  -q, --quiet       no line per candidate (the summary is printed)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 minimal.json written; 1 the concrete schedule does not\n"
    "fail the expectation in K of K runs (nothing to shrink); 2 usage or an\n"
    "invalid journal; 4 harness failure or interrupted.\n";

typedef struct shrink {
    json_t *root; /* the scenario as written (from the journal) */
    json_t *best; /* the smallest schedule that still fails */
    double dur;   /* its duration_s */
    double dur0;  /* the original's */
    size_t nfaults0;
    uint64_t seed;
    char scen_dir[PATH_MAX];
    const char *name, *expect;
    char out[PATH_MAX];
    FILE *steps;
    unsigned k, reruns, nsteps, nruns;
    double t0, budget;
    int quiet, abort_rc; /* abort_rc: stop everything with this status */
    int spent;           /* the budget ran out */
} shrink;

/* ---- candidates ---------------------------------------------------------- */

/* The end of the last fault window of a schedule. */
static double sched_end(const json_t *faults)
{
    size_t i;
    json_t *f;
    double end = 0;
    json_array_foreach (faults, i, f) {
        if (!json_object_get(f, "at_s"))
            return INFINITY; /* triggered: its instant is the system's */
        double e = json_number_value(json_object_get(f, "at_s")) +
                   json_number_value(json_object_get(f, "for_s"));
        if (e > end)
            end = e;
    }
    return end;
}

/* One fault of the summary: its name and when it fires. */
static void print_when(const json_t *f, size_t i)
{
    char trig[160];
    const char *name = json_string_value(json_object_get(f, "name"));
    if (cr_report_trigger_text(f, trig, sizeof trig))
        printf("%s %s %s", i ? "," : "", name, trig);
    else
        printf("%s %s at %.3f s", i ? "," : "", name,
               json_number_value(json_object_get(f, "at_s")));
}

static json_t *names_of(const json_t *faults)
{
    size_t i;
    json_t *f, *a = json_array();
    json_array_foreach (faults, i, f)
        json_array_append(a, json_object_get(f, "name"));
    return a;
}

/* Run candidate (faults, dur) up to K times.  1: failed the expectation
 * each time (it becomes sh->best), 0: not, -1: give up (sh->abort_rc, or
 * the budget is spent). */
static int try_candidate(shrink *sh, const json_t *faults, double dur,
                         const char *phase)
{
    char dir[PATH_MAX + 32], file[PATH_MAX + 64];
    cr_scen *sc = NULL;
    json_t *runs = json_array(), *doc = NULL;
    unsigned failed = 0, ran = 0, done = 0;
    double t = cr_cli__mono();
    if (t - sh->t0 > sh->budget) {
        sh->spent = 1;
        json_decref(runs);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/step-%03u", sh->out, sh->nsteps);
    snprintf(file, sizeof file, "%s/candidate.json", dir);
    doc = cr_cli__concrete_doc(sh->root, faults, sh->seed, dur, sh->scen_dir);
    int rc = !doc || cr_cli__mkdirs(dir) ? 4 : cr_cli__doc_load(doc, file, &sc);
    if (rc) {
        sh->abort_rc = rc == 2 || rc == 3 ? rc : 4;
        goto out;
    }
    for (; ran < sh->k; ran++) {
        char rdir[PATH_MAX + 64];
        json_t *j = NULL;
        snprintf(rdir, sizeof rdir, "%s/run-%u", dir, ran);
        int r = cr_cli__run_quiet(sc, rdir, &j);
        const char *v = j ? cr_cli__verdict(j, sh->expect) : NULL;
        json_array_append_new(
            runs, json_pack("{s:s,s:i,s:s}", "dir", rdir, "exit", r, "verdict",
                            v ? v : (j ? "absent" : "no journal")));
        sh->nruns++;
        done++;
        if (!j || cr_cli__interrupted(j))
            sh->abort_rc = 4;
        int hit = v && strcmp(v, "failed") == 0;
        json_decref(j);
        if (sh->abort_rc || !hit)
            break;
        failed++;
    }
out:;
    int still = !sh->abort_rc && failed == sh->k;
    json_t *line =
        json_pack("{s:i,s:s,s:o,s:f,s:o,s:b,s:f}", "step", sh->nsteps, "phase",
                  phase, "faults", names_of(faults), "duration_s", dur, "runs",
                  runs, "still_fails", still, "took_s", cr_cli__mono() - t);
    if (line && sh->steps) {
        json_dumpf(line, sh->steps, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', sh->steps);
        fflush(sh->steps);
    }
    json_decref(line);
    if (!sh->quiet)
        printf("step %u (%s): %zu fault(s), duration_s %g: failed %u of %u "
               "run(s)%s\n",
               sh->nsteps, phase, json_array_size(faults), dur, failed, done,
               still ? ": still fails" : "");
    fflush(stdout);
    sh->nsteps++;
    cr_scen_free(sc);
    json_decref(doc);
    if (still) {
        /* faults may be sh->best itself: copy before letting go. */
        json_t *copy = json_deep_copy(faults);
        if (copy) {
            json_decref(sh->best);
            sh->best = copy;
            sh->dur = dur;
        }
    }
    return sh->abort_rc ? -1 : still;
}

/* ---- the search ---------------------------------------------------------- */

/* The faults of cur with index in [lo, hi) (keep 1) or outside (keep 0). */
static json_t *slice(const json_t *cur, size_t lo, size_t hi, int keep)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < json_array_size(cur); i++)
        if ((i >= lo && i < hi) == keep)
            json_array_append(a, json_array_get(cur, i));
    return a;
}

/* Zeller's ddmin over sh->best: try each of n chunks alone, then each
 * complement; keep the first that still fails, else split finer.  The
 * result is 1-minimal: dropping any one fault makes it pass. */
static int ddmin(shrink *sh)
{
    size_t n = 2;
    while (json_array_size(sh->best) >= 2) {
        json_t *cur = json_incref(sh->best);
        size_t len = json_array_size(cur);
        int reduced = 0, r = 0;
        for (size_t i = 0; i < n && !reduced && r >= 0; i++) {
            json_t *c = slice(cur, i * len / n, (i + 1) * len / n, 1);
            if ((r = try_candidate(sh, c, sh->dur, "drop")) > 0) {
                n = 2;
                reduced = 1;
            }
            json_decref(c);
        }
        /* With two chunks a complement is the other chunk: done above. */
        for (size_t i = 0; n > 2 && i < n && !reduced && r >= 0; i++) {
            json_t *c = slice(cur, i * len / n, (i + 1) * len / n, 0);
            if ((r = try_candidate(sh, c, sh->dur, "drop")) > 0) {
                n = n - 1 > 2 ? n - 1 : 2;
                reduced = 1;
            }
            json_decref(c);
        }
        json_decref(cur);
        if (r < 0)
            return -1;
        if (!reduced) {
            if (n >= len)
                break;
            n = 2 * n < len ? 2 * n : len;
        }
    }
    /* One fault left: does the failure need any? */
    if (json_array_size(sh->best) == 1) {
        json_t *none = json_array();
        int r = try_candidate(sh, none, sh->dur, "drop");
        json_decref(none);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Halve `key` of each fault (up to three times, never below min) while
 * the schedule still fails: shorter windows, earlier starts. */
static int halve_each(shrink *sh, const char *key, double min,
                      const char *phase)
{
    for (size_t i = 0; i < json_array_size(sh->best); i++) {
        for (int k = 0; k < 3; k++) {
            double v = json_number_value(
                json_object_get(json_array_get(sh->best, i), key));
            double half = cr_cli__ms(v / 2);
            if (half < min)
                break;
            json_t *c = json_deep_copy(sh->best);
            json_object_set_new(json_array_get(c, i), key, json_real(half));
            int r = try_candidate(sh, c, sh->dur, phase);
            json_decref(c);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
        }
    }
    return 0;
}

/* duration_s down to a second after the last window, if that still
 * fails. */
static int shorten_duration(shrink *sh)
{
    double d = ceil(sched_end(sh->best) + 1);
    if (d >= sh->dur)
        return 0;
    return try_candidate(sh, sh->best, d, "duration") < 0 ? -1 : 0;
}

/* Re-run sh->best sh->reruns times; the number of runs that failed the
 * expectation. */
static unsigned final_reruns(shrink *sh, const char *file)
{
    cr_scen *sc = NULL;
    unsigned failed = 0;
    if (cr_cli_load(file, &sc) != 0)
        return 0;
    for (unsigned i = 0; i < sh->reruns && !sh->abort_rc; i++) {
        char rdir[PATH_MAX + 32];
        json_t *j = NULL;
        snprintf(rdir, sizeof rdir, "%s/final/run-%u", sh->out, i);
        cr_cli__run_quiet(sc, rdir, &j);
        const char *v = j ? cr_cli__verdict(j, sh->expect) : NULL;
        failed += v && strcmp(v, "failed") == 0;
        if (!j || cr_cli__interrupted(j))
            sh->abort_rc = 4;
        json_decref(j);
        sh->nruns++;
    }
    cr_scen_free(sc);
    return failed;
}

/* ---- the command --------------------------------------------------------- */

typedef struct shrink_args {
    const char *run_dir, *out, *expect;
    uint64_t k, reruns;
    double budget;
    int quiet;
} shrink_args;

/* -1 parsed, else the exit status. */
static int parse_args(int argc, char **argv, shrink_args *a)
{
    static const struct option longopts[] = {
        {"runs-per-candidate", required_argument, NULL, 'k'},
        {"budget", required_argument, NULL, 'b'},
        {"expect", required_argument, NULL, 'e'},
        {"reruns", required_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    *a = (shrink_args){.k = 3, .reruns = 5, .budget = 1800};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "k:o:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            if (cr_cli_parse_u64(optarg, &a->k) || a->k < 1 || a->k > 100)
                goto bad;
            break;
        case 'r':
            if (cr_cli_parse_u64(optarg, &a->reruns) || a->reruns > 1000)
                goto bad;
            break;
        case 'b':
            if (cr_cli__parse_duration(optarg, &a->budget))
                goto bad;
            break;
        case 'e':
            a->expect = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'h':
            fputs(SHRINK_USAGE, stdout);
            return 0;
        default:
            fputs(SHRINK_USAGE, stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fputs(SHRINK_USAGE, stderr);
        return 2;
    }
    a->run_dir = argv[optind];
    return -1;
bad:
    fprintf(stderr,
            "chaosrun shrink: bad value '%s' (--runs-per-candidate 1..100, "
            "--reruns 0..1000, --budget like 90s, 10m, 1h)\n",
            optarg);
    return 2;
}

/* The journal's scenario, seed, expectation and concrete schedule into
 * sh.  -1 done, else the exit status (message printed). */
static int shrink_init(shrink *sh, const shrink_args *a, json_t *j)
{
    const char *file = json_string_value(json_object_get(j, "scenario_file"));
    sh->root = json_incref(json_object_get(j, "scenario"));
    sh->name = json_string_value(json_object_get(j, "name"));
    sh->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    sh->dur0 = sh->dur = json_number_value(json_object_get(j, "duration_s"));
    sh->expect = a->expect ? a->expect : cr_cli__first_failed(j);
    if (!json_is_object(sh->root) || !sh->name || !(sh->dur > 0)) {
        fprintf(stderr, "chaosrun shrink: %s: the journal has no scenario\n",
                a->run_dir);
        return 2;
    }
    if (!sh->expect || !cr_cli__verdict(j, sh->expect)) {
        fprintf(stderr, "chaosrun shrink: %s: %s: nothing to shrink\n",
                a->run_dir,
                a->expect ? "no such expectation" : "no expectation failed");
        return 2;
    }
    if (file)
        cr_cli__scen_dir(file, sh->scen_dir, sizeof sh->scen_dir);
    if (!(sh->best = cr_cli__journal_schedule(j))) {
        fprintf(stderr,
                "chaosrun shrink: %s: the journal's faults do not "
                "match its scenario\n",
                a->run_dir);
        return 2;
    }
    sh->nfaults0 = json_array_size(sh->best);
    if (a->out) {
        snprintf(sh->out, sizeof sh->out, "%s", a->out);
    } else {
        char stamp[32];
        cr_run_utc_stamp(stamp, sizeof stamp);
        snprintf(sh->out, sizeof sh->out, "chaosrun-out/%s-shrink-%s", sh->name,
                 stamp);
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/steps.jsonl", sh->out);
    if (cr_cli__mkdirs(sh->out) != 0 || !(sh->steps = fopen(path, "we"))) {
        fprintf(stderr, "chaosrun shrink: cannot write %s\n", path);
        return 4;
    }
    return -1;
}

/* steps.jsonl complete on disk before the report reads it; 0 or -1. */
static int steps_flush(shrink *sh)
{
    return sh->steps && fflush(sh->steps) != 0 ? -1 : 0;
}

/* minimal.json, the re-runs, summary.json, the summary on stdout and the
 * report (original vs minimal). */
static int shrink_finish(shrink *sh, const json_t *orig)
{
    char file[PATH_MAX + 16], took[32], sfile[PATH_MAX + 16];
    json_t *doc =
        cr_cli__concrete_doc(sh->root, sh->best, sh->seed, sh->dur, NULL);
    snprintf(file, sizeof file, "%s/minimal.json", sh->out);
    if (!doc ||
        json_dump_file(doc, file, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        json_decref(doc);
        fprintf(stderr, "chaosrun shrink: cannot write %s\n", file);
        return 4;
    }
    json_decref(doc);
    unsigned failed = final_reruns(sh, file);
    double wall = cr_cli__mono() - sh->t0;
    cr_cli__dur_text(took, sizeof took, wall);
    printf("\nshrink %s: expectation %s, %u of %u runs a candidate\n", sh->name,
           sh->expect, sh->k, sh->k);
    printf("  faults: %zu -> %zu:", sh->nfaults0, json_array_size(sh->best));
    size_t i;
    json_t *f;
    json_array_foreach (sh->best, i, f)
        print_when(f, i);
    printf("\n  duration_s: %g -> %g (%g s less a run)\n", sh->dur0, sh->dur,
           sh->dur0 - sh->dur);
    printf("  %u candidates, %u runs, wall time %s%s\n", sh->nsteps, sh->nruns,
           took, sh->spent ? " (budget spent: the smallest so far)" : "");
    if (sh->reruns)
        printf("  minimal: failed %u of %u re-runs (%.0f %%)\n", failed,
               sh->reruns, 100.0 * failed / sh->reruns);
    printf("  minimal scenario: %s\n  steps: %s/steps.jsonl\n", file, sh->out);
    json_t *sum =
        json_pack("{s:s,s:s,s:i,s:i,s:O,s:O,s:f,s:f,s:i,s:i,s:f,s:b,s:i,s:i}",
                  "name", sh->name, "expect", sh->expect, "runs_per_candidate",
                  sh->k, "faults_before", (int)sh->nfaults0, "original", orig,
                  "minimal", sh->best, "duration_before_s", sh->dur0,
                  "duration_after_s", sh->dur, "candidates", sh->nsteps, "runs",
                  sh->nruns, "wall_s", wall, "budget_spent", sh->spent,
                  "reruns", sh->reruns, "reruns_failed", failed);
    snprintf(sfile, sizeof sfile, "%s/summary.json", sh->out);
    if (!sum ||
        json_dump_file(sum, sfile, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "chaosrun shrink: cannot write %s\n", sfile);
    json_decref(sum);
    cr_err e;
    cr_err_clear(&e);
    if (steps_flush(sh) || cr_report_shrink(sh->out, &e) != 0)
        fprintf(stderr, "chaosrun shrink: report: %s\n",
                e.msg[0] ? e.msg : "cannot write steps.jsonl");
    else
        printf("  report: %s/report.html, %s/report.md (original vs "
               "minimal)\n",
               sh->out, sh->out);
    return sh->abort_rc;
}

static int shrink_search(shrink *sh)
{
    if (ddmin(sh) || halve_each(sh, "for_s", 0.1, "window") ||
        halve_each(sh, "at_s", 0.1, "earlier") || shorten_duration(sh))
        return sh->abort_rc;
    return 0;
}

int cr_cli_shrink(int argc, char **argv)
{
    shrink_args a;
    shrink sh = {0};
    char path[PATH_MAX];
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    snprintf(path, sizeof path, "%s/journal.json", a.run_dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je), *orig = NULL;
    if (!j) {
        fprintf(stderr, "chaosrun shrink: %s: %s\n", path, je.text);
        return 2;
    }
    sh.k = (unsigned)a.k;
    sh.reruns = (unsigned)a.reruns;
    sh.budget = a.budget;
    sh.quiet = a.quiet;
    sh.t0 = cr_cli__mono();
    if ((rc = shrink_init(&sh, &a, j)) >= 0)
        goto out;
    orig = json_deep_copy(sh.best);
    /* The whole concrete schedule first: it must fail the same way. */
    sh.budget = INFINITY;
    int r = try_candidate(&sh, orig, sh.dur, "original");
    sh.budget = a.budget;
    if (r <= 0) {
        rc = sh.abort_rc ? sh.abort_rc : 1;
        if (rc == 1)
            fprintf(stderr,
                    "chaosrun shrink: the concrete schedule of %s did not "
                    "fail %s in %u of %u runs: nothing to shrink (steps in "
                    "%s)\n",
                    a.run_dir, sh.expect, sh.k, sh.k, sh.out);
        goto out;
    }
    rc = shrink_search(&sh);
    if (rc == 0 || sh.spent)
        rc = shrink_finish(&sh, orig);
out:
    if (sh.steps)
        fclose(sh.steps);
    json_decref(orig);
    json_decref(sh.best);
    json_decref(sh.root);
    json_decref(j);
    return rc;
}
