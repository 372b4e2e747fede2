/* cr_cli_run: `chaosrun [run] [OPTIONS] SCENARIO...`: validate every
 * scenario first, then one run, a --seeds/--repeat campaign with its
 * multi-run report, or several scenarios as a suite. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "base/cr_dirfd.h"
#include "base/cr_signal.h"
#include "engine/cr_run.h"
#include "reports/cr_report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cr_cli_usage(FILE *fp)
{
    fprintf(fp, "Usage: chaosrun [OPTIONS] SCENARIO.json...\n"
                "  or:  chaosrun COMMAND [ARGS]\n"
                "Run chaos scenarios: start a system under test, inject seeded "
                "faults,\n"
                "judge whether it recovered.\n"
                "\n");
    cr_cli_usage_commands(fp);
    fprintf(
        fp,
        "\n"
        "Run options (chaosrun, chaosrun run, chaosrun suite):\n"
        "  --seed N         override the scenario's seed (same seed, same "
        "timeline)\n"
        "  --seeds A..B     run once per seed in A..B and report the pass "
        "rate\n"
        "  --repeat N       run N times with seeds seed, seed+1, ...\n"
        "  -o, --out DIR    run directory (default chaosrun-out/<name>-<UTC "
        "time>):\n"
        "                   new or empty; never an existing one with files\n"
        "  --force          --out holds an earlier chaosrun output: empty it\n"
        "                   first (links removed, never followed)\n"
        "  --service-user USER[:GROUP]\n"
        "                   run services without a \"user\" key as USER (a\n"
        "                   name or uid, e.g. nobody or $SUDO_UID; needs "
        "root)\n"
        "  --dry-run        print the resolved timeline and exit\n"
        "  -q, --quiet      no progress output (the summary is still printed)\n"
        "  --no-status      no live status line\n"
        "  --fail-fast      stop a run at the first violation no later event\n"
        "                   can mend (a duplicate delivery, an illegal "
        "breaker\n"
        "                   transition); judged and reported as usual\n"
        "                   (status.json in the run directory: the live "
        "states)\n"
        "  --color WHEN     colour the summary: auto (a terminal, NO_COLOR\n"
        "                   unset, TERM not dumb; the default), always, never\n"
        "  -j, --jobs N     several scenarios: run up to N at once (those\n"
        "                   that share a port never overlap; default 1)\n"
        "  -h, --help       this text\n"
        "  --version        the version (any command)\n"
        "\n"
        "Exit status: 0 every expectation held; 1 an expectation failed or "
        "could\n"
        "not be judged; 2 invalid scenario or usage; 3 this machine cannot "
        "run\n"
        "the scenario (missing privilege, program or kernel feature); 4 the\n"
        "harness itself failed or the run was interrupted; 5 the system "
        "under\n"
        "test did not start (a service exited or was not ready during "
        "start-up,\n"
        "or the before-probes never held: the experiment was aborted).\n"
        "Several runs (a suite, --seeds): the highest status of its runs.\n"
        "\n"
        "Scenario format: scenarios/README.md.  Event contract: "
        "harness/README.md.\n");
}

/* The command line of a run, parsed. */
typedef struct run_args {
    cr_run_opts opts;
    int dry, quiet, no_status, have_seeds, color;
    uint64_t seed_lo, seed_hi, repeat, jobs;
    cr_suite_shard shard; /* --shard K/N (suite only); count 0: none */
    char **files;         /* argv entries (--shard: only the shard's) */
    int nfiles;
} run_args;

/* One option (getopt's opt and optarg): -1, or the exit status. */
static int run_option(run_args *a, int opt, const char *arg)
{
    char lo[32], hi[32];
    switch (opt) {
    case 'j':
        if (cr_cli_parse_u64(arg, &a->jobs) || a->jobs == 0 || a->jobs > 64) {
            fprintf(stderr, "chaosrun: --jobs: expected 1..64, got '%s'\n",
                    arg);
            return 2;
        }
        return -1;
    case 's':
        if (cr_cli_parse_u64(arg, &a->opts.seed)) {
            fprintf(stderr, "chaosrun: --seed: '%s' is not a number\n", arg);
            return 2;
        }
        a->opts.seed_override = 1;
        return -1;
    case 'S':
        if (sscanf(arg, "%31[0-9]..%31[0-9]", lo, hi) != 2 ||
            cr_cli_parse_u64(lo, &a->seed_lo) ||
            cr_cli_parse_u64(hi, &a->seed_hi) || a->seed_hi < a->seed_lo ||
            a->seed_hi - a->seed_lo > 10000) {
            fprintf(stderr,
                    "chaosrun: --seeds: expected A..B with A <= "
                    "B (at most 10001 seeds), got '%s'\n",
                    arg);
            return 2;
        }
        a->have_seeds = 1;
        return -1;
    case 'R':
        if (cr_cli_parse_u64(arg, &a->repeat) || a->repeat == 0 ||
            a->repeat > 10000) {
            fprintf(stderr, "chaosrun: --repeat: expected 1..10000, got '%s'\n",
                    arg);
            return 2;
        }
        return -1;
    case 'o':
        a->opts.out_dir = arg;
        return -1;
    case 'K':
        if (cr_cli__parse_shard(arg, &a->shard.index, &a->shard.count)) {
            fprintf(stderr,
                    "chaosrun: --shard: expected K/N with 1 <= K <= N <= "
                    "1000, got '%s'\n",
                    arg);
            return 2;
        }
        return -1;
    case 'F':
        a->opts.force = 1;
        return -1;
    case 'U':
        a->opts.service_user = arg;
        return -1;
    case 'n':
        a->dry = 1;
        return -1;
    case 'q':
        a->quiet = 1;
        return -1;
    case 'N':
        a->no_status = 1;
        return -1;
    case 'X':
        a->opts.fail_fast = 1;
        return -1;
    case 'C':
        if ((a->color = cr_cli__color_parse(arg)) < 0) {
            fprintf(stderr,
                    "chaosrun: --color: expected auto, always or never, got "
                    "'%s'\n",
                    arg);
            return 2;
        }
        return -1;
    case 'h':
        cr_cli_usage(stdout);
        return 0;
    default:
        cr_cli_usage(stderr);
        return 2;
    }
}

/* --shard K/N: keep the files of shard K (in order) and say which. */
static void keep_shard(run_args *a)
{
    int total = a->nfiles, kept = 0;
    for (int i = 0; i < total; i++)
        if (cr_cli__shard_of(a->files[i], a->shard.count) == a->shard.index - 1)
            a->files[kept++] = a->files[i];
    a->nfiles = kept;
    printf("shard %u/%u: %d of %d scenario%s%s", a->shard.index, a->shard.count,
           kept, total, total == 1 ? "" : "s",
           kept ? ":" : " (an empty shard)");
    for (int i = 0; i < kept; i++) {
        const char *base = strrchr(a->files[i], '/');
        printf(" %s", base ? base + 1 : a->files[i]);
    }
    printf("\n");
    fflush(stdout);
}

/* Returns -1 when parsed, else the exit status. */
static int parse_run_args(int argc, char **argv, run_args *a)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"seeds", required_argument, NULL, 'S'},
        {"repeat", required_argument, NULL, 'R'},
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'F'},
        {"service-user", required_argument, NULL, 'U'},
        {"dry-run", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-status", no_argument, NULL, 'N'},
        {"fail-fast", no_argument, NULL, 'X'},
        {"jobs", required_argument, NULL, 'j'},
        {"shard", required_argument, NULL, 'K'},
        {"color", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc;
    a->jobs = 1;
    a->opts.argv0 = argv[0];
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qhnj:o:", longopts, NULL)) != -1)
        if ((rc = run_option(a, opt, optarg)) >= 0)
            return rc;
    a->files = argv + optind;
    a->nfiles = argc - optind;
    if (a->nfiles < 1) {
        cr_cli_usage(stderr);
        return 2;
    }
    if ((a->have_seeds || a->repeat) && a->nfiles != 1) {
        fprintf(stderr, "chaosrun: --seeds/--repeat take one scenario\n");
        return 2;
    }
    if (a->shard.count && strcmp(argv[0], "suite") != 0) {
        fprintf(stderr, "chaosrun: --shard is an option of chaosrun suite\n");
        return 2;
    }
    if (a->have_seeds && a->repeat) {
        fprintf(stderr, "chaosrun: --seeds and --repeat exclude each other\n");
        return 2;
    }
    a->opts.live_status = !a->no_status && !a->quiet && isatty(STDERR_FILENO);
    if (a->shard.count)
        keep_shard(a);
    return -1;
}

/* --dry-run: each scenario's resolved timeline. */
static int dry_run(cr_scen **scs, const run_args *a)
{
    for (int i = 0; i < a->nfiles; i++) {
        cr_scen *sc = scs[i];
        cr_err err;
        cr_err_clear(&err);
        if (a->opts.seed_override)
            sc->seed = a->opts.seed;
        if (cr_scen_resolve(sc, &err) != 0) {
            fprintf(stderr, "chaosrun: %s\n", err.msg);
            return 4;
        }
        printf("%s: %s, seed %llu%s\n", a->files[i], sc->name,
               (unsigned long long)sc->seed,
               sc->seed_given || a->opts.seed_override ? "" : " (drawn)");
        cr_scen_print_timeline(sc, stdout);
    }
    return 0;
}

static volatile sig_atomic_t g_campaign_stop;

static void campaign_on_signal(int sig)
{
    g_campaign_stop = sig;
}

/* --seeds / --repeat: one run per seed, then the multi-run report.  A
 * SIGINT/SIGTERM ends the campaign: the run it interrupts stops its
 * services and writes its journal (the engine's own handling), no further
 * seed starts, and the multi-run report covers the runs made so far. */
static int run_campaign(cr_scen *sc, const run_args *a, char **dirs)
{
    uint64_t first = a->have_seeds           ? a->seed_lo
                     : a->opts.seed_override ? a->opts.seed
                                             : sc->seed;
    uint64_t count = a->have_seeds ? a->seed_hi - a->seed_lo + 1 : a->repeat;
    unsigned passed = 0;
    size_t ndirs = 0;
    int worst = 0;
    uint64_t ran = 0;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = campaign_on_signal;
    g_campaign_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (uint64_t k = 0; k < count && !g_campaign_stop; k++) {
        cr_run_opts o = a->opts;
        char dirbuf[PATH_MAX];
        o.seed_override = 1;
        o.seed = first + k;
        o.out_dir = NULL;
        if (a->opts.out_dir) {
            snprintf(dirbuf, sizeof dirbuf, "%s/seed-%llu", a->opts.out_dir,
                     (unsigned long long)o.seed);
            o.out_dir = dirbuf;
        }
        cr_cli_view v = {a->quiet, a->color};
        int sig = 0;
        int rc = cr_cli__run_one(sc, &o, &v, &dirs[ndirs], &sig);
        if (dirs[ndirs])
            ndirs++;
        ran++;
        passed += rc == 0;
        if (rc > worst)
            worst = rc;
        if (sig)
            g_campaign_stop = sig;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (g_campaign_stop) {
        if (worst < 4)
            worst = 4; /* interrupted */
        printf("\n%s: interrupted by %s after %llu of %llu runs; %u "
               "passed\n",
               sc->name, cr_signal_name((int)g_campaign_stop),
               (unsigned long long)ran, (unsigned long long)count, passed);
    } else {
        printf("\n%s: %u of %llu runs passed\n", sc->name, passed,
               (unsigned long long)count);
    }
    if (ndirs) {
        cr_err err;
        char out[PATH_MAX];
        cr_err_clear(&err);
        snprintf(out, sizeof out, "%s",
                 a->opts.out_dir ? a->opts.out_dir : "chaosrun-out");
        if (cr_report_multi((const char *const *)dirs, ndirs, out, &err) != 0)
            fprintf(stderr, "chaosrun: multi-run report: %s\n", err.msg);
        else
            printf("multi-run report: %s/multi.html, coverage: "
                   "%s/coverage.json\n",
                   out, out);
    }
    return worst;
}

/* Several scenarios: a suite, every run in <out>/<scenario name>, in
 * parallel up to --jobs where the scenarios share no port. */
static int run_suite(cr_scen **scs, const run_args *a, char **dirs)
{
    char suite_out[PATH_MAX];
    cr_err err;
    cr_err_clear(&err);
    if (a->opts.out_dir) {
        snprintf(suite_out, sizeof suite_out, "%s", a->opts.out_dir);
    } else {
        char stamp[32];
        cr_run_utc_stamp(stamp, sizeof stamp);
        snprintf(suite_out, sizeof suite_out, "chaosrun-out/suite-%s", stamp);
    }
    for (int i = 0; i < a->nfiles; i++) {
        dirs[i] = malloc(PATH_MAX);
        if (!dirs[i])
            return 4;
        snprintf(dirs[i], PATH_MAX, "%s/%s", suite_out, scs[i]->name);
    }
    cr_cli_view v = {a->quiet, a->color};
    int worst = 0;
    if (a->nfiles) {
        worst = cr_cli__run_suite(scs, (const char *const *)dirs, a->nfiles,
                                  &a->opts, &v, (int)a->jobs);
    } else {
        /* An empty shard still leaves a suite (no run) for --merge. */
        int dfd =
            cr_dir_claim(suite_out, a->opts.force ? CR_DIR_FORCE : 0, &err);
        if (dfd < 0) {
            fprintf(stderr, "chaosrun: %s\n", err.msg);
            return dfd == CR_ESYS ? 4 : 2;
        }
        close(dfd);
    }
    if (cr_report_suite_shard((const char *const *)dirs, (size_t)a->nfiles,
                              &a->shard, suite_out, &err))
        fprintf(stderr, "chaosrun: suite report: %s\n", err.msg);
    else
        printf("suite report: %s/index.html, %s/junit.xml, coverage: "
               "%s/coverage.json\n",
               suite_out, suite_out, suite_out);
    return worst;
}

int cr_cli_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    int worst = parse_run_args(argc, argv, &a);
    if (worst >= 0)
        return worst;
    worst = 0;
    /* Validate everything before running anything. */
    cr_scen **scs = calloc((size_t)a.nfiles + 1, sizeof *scs);
    size_t ndirs = (size_t)a.nfiles + (size_t)a.repeat +
                   (size_t)(a.have_seeds ? a.seed_hi - a.seed_lo + 1 : 0) + 1;
    char **dirs = calloc(ndirs, sizeof *dirs);
    if (!scs || !dirs) {
        free(scs);
        free(dirs);
        return 4;
    }
    for (int i = 0; i < a.nfiles; i++) {
        int rc = cr_cli_load(a.files[i], &scs[i]);
        if (rc > worst)
            worst = rc;
    }
    if (worst)
        goto out;
    if (a.dry)
        worst = dry_run(scs, &a);
    else if (a.have_seeds || a.repeat)
        worst = run_campaign(scs[0], &a, dirs);
    else if (a.nfiles == 1 && strcmp(argv[0], "suite") != 0)
        worst = cr_cli__run_one(
            scs[0], &a.opts, &(cr_cli_view){a.quiet, a.color}, &dirs[0], NULL);
    else
        worst = run_suite(scs, &a, dirs);
out:
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    for (int i = 0; i < a.nfiles; i++)
        cr_scen_free(scs[i]);
    free(scs);
    return worst;
}
