/* cr_cli_run: `chaosrun [run] [OPTIONS] SCENARIO...`: validate every
 * scenario first, then one run, a --seeds/--repeat campaign with its
 * multi-run report, or several scenarios as a suite. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "engine/cr_run.h"
#include "reports/cr_report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cr_cli_usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: chaosrun [OPTIONS] SCENARIO.json...   run scenario(s)\n"
        "       chaosrun suite DIR [OPTIONS]          every DIR/*.json: one "
        "junit.xml + index\n"
        "       chaosrun validate SCENARIO.json...    check scenarios, run "
        "nothing\n"
        "       chaosrun list [faults|probes|checks]   every kind with its "
        "parameters\n"
        "       chaosrun report RUN_DIR | --compare OLD NEW\n"
        "       chaosrun proxy --listen ADDR --upstream ADDR   the TCP fault "
        "proxy\n"
        "       chaosrun cleanup [--dry-run] [RUN_DIR]  undo what dead runs "
        "left\n"
        "\n"
        "Run options:\n"
        "  --seed N         override the scenario's seed (same seed, same "
        "timeline)\n"
        "  --seeds A..B     run once per seed in A..B and report the pass "
        "rate\n"
        "  --repeat N       run N times with seeds seed, seed+1, ...\n"
        "  -o, --out DIR    run directory (default chaosrun-out/<name>-<UTC "
        "time>)\n"
        "  --dry-run        print the resolved timeline and exit\n"
        "  -q, --quiet      no progress output (the summary is still printed)\n"
        "  --no-status      no live status line\n"
        "  -j, --jobs N     suite: run up to N scenarios at once (those that\n"
        "                   share a port never overlap; default 1)\n"
        "  -h, --help       this text;  --version  the version\n"
        "\n"
        "Exit status: 0 every expectation held; 1 an expectation failed or "
        "could\n"
        "not be judged; 2 invalid scenario or usage; 3 this machine cannot "
        "run\n"
        "the scenario (missing privilege, program or kernel feature); 4 the\n"
        "harness itself failed or the run was interrupted.\n"
        "\n"
        "Scenario format: scenarios/README.md.  Event contract: "
        "harness/README.md.\n");
}

int cr_cli_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"seeds", required_argument, NULL, 'S'},
        {"repeat", required_argument, NULL, 'R'},
        {"out", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-status", no_argument, NULL, 'N'},
        {"jobs", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    cr_run_opts opts = {0};
    int dry = 0, no_status = 0, quiet = 0, opt;
    uint64_t seed_lo = 0, seed_hi = 0, repeat = 0, jobs = 1;
    int have_seeds = 0;
    opts.argv0 = argv[0];
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qhnj:o:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            if (cr_cli_parse_u64(optarg, &jobs) || jobs == 0 || jobs > 64) {
                fprintf(stderr,
                        "chaosrun: --jobs: expected 1..64, got "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 's':
            if (cr_cli_parse_u64(optarg, &opts.seed)) {
                fprintf(stderr, "chaosrun: --seed: '%s' is not a number\n",
                        optarg);
                return 2;
            }
            opts.seed_override = 1;
            break;
        case 'S': {
            char a[32], b[32];
            if (sscanf(optarg, "%31[0-9]..%31[0-9]", a, b) != 2 ||
                cr_cli_parse_u64(a, &seed_lo) ||
                cr_cli_parse_u64(b, &seed_hi) || seed_hi < seed_lo ||
                seed_hi - seed_lo > 10000) {
                fprintf(stderr,
                        "chaosrun: --seeds: expected A..B with A <= "
                        "B (at most 10001 seeds), got '%s'\n",
                        optarg);
                return 2;
            }
            have_seeds = 1;
            break;
        }
        case 'R':
            if (cr_cli_parse_u64(optarg, &repeat) || repeat == 0 ||
                repeat > 10000) {
                fprintf(stderr,
                        "chaosrun: --repeat: expected 1..10000, got "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'o':
            opts.out_dir = optarg;
            break;
        case 'n':
            dry = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'N':
            no_status = 1;
            break;
        case 'h':
            cr_cli_usage(stdout);
            return 0;
        case 'V':
            printf("chaosrun %s\n", CR_VERSION);
            return 0;
        default:
            cr_cli_usage(stderr);
            return 2;
        }
    }
    int nfiles = argc - optind;
    if (nfiles < 1) {
        cr_cli_usage(stderr);
        return 2;
    }
    if ((have_seeds || repeat) && nfiles != 1) {
        fprintf(stderr, "chaosrun: --seeds/--repeat take one scenario\n");
        return 2;
    }
    if (have_seeds && repeat) {
        fprintf(stderr, "chaosrun: --seeds and --repeat exclude each other\n");
        return 2;
    }
    opts.live_status = !no_status && !quiet && isatty(STDERR_FILENO);

    /* Validate everything before running anything. */
    cr_scen **scs = calloc((size_t)nfiles, sizeof *scs);
    int worst = 0;
    if (!scs)
        return 4;
    for (int i = 0; i < nfiles; i++) {
        int rc = cr_cli_load(argv[optind + i], &scs[i]);
        if (rc > worst)
            worst = rc;
    }
    if (worst) {
        for (int i = 0; i < nfiles; i++)
            cr_scen_free(scs[i]);
        free(scs);
        return worst;
    }
    if (dry) {
        for (int i = 0; i < nfiles; i++) {
            cr_scen *sc = scs[i];
            cr_err err;
            cr_err_clear(&err);
            if (opts.seed_override)
                sc->seed = opts.seed;
            if (cr_scen_resolve(sc, &err) != 0) {
                fprintf(stderr, "chaosrun: %s\n", err.msg);
                return 4;
            }
            printf("%s: %s, seed %llu%s\n", argv[optind + i], sc->name,
                   (unsigned long long)sc->seed,
                   sc->seed_given || opts.seed_override ? "" : " (drawn)");
            cr_scen_print_timeline(sc, stdout);
            cr_scen_free(sc);
        }
        free(scs);
        return 0;
    }

    char **dirs =
        calloc((size_t)nfiles + (size_t)repeat +
                   (size_t)(have_seeds ? seed_hi - seed_lo + 1 : 0) + 1,
               sizeof *dirs);
    size_t ndirs = 0;
    if (!dirs) {
        free(scs);
        return 4;
    }
    if (have_seeds || repeat) {
        uint64_t first = have_seeds
                             ? seed_lo
                             : (opts.seed_override ? opts.seed : scs[0]->seed);
        uint64_t count = have_seeds ? seed_hi - seed_lo + 1 : repeat;
        unsigned passed = 0;
        for (uint64_t k = 0; k < count; k++) {
            cr_run_opts o = opts;
            o.seed_override = 1;
            o.seed = first + k;
            o.out_dir = NULL;
            char dirbuf[PATH_MAX];
            if (opts.out_dir) {
                snprintf(dirbuf, sizeof dirbuf, "%s/seed-%llu", opts.out_dir,
                         (unsigned long long)o.seed);
                o.out_dir = dirbuf;
            }
            int rc = cr_cli__run_one(scs[0], &o, quiet, &dirs[ndirs]);
            if (dirs[ndirs])
                ndirs++;
            passed += rc == 0;
            if (rc > worst)
                worst = rc;
        }
        printf("\n%s: %u of %llu runs passed\n", scs[0]->name, passed,
               (unsigned long long)count);
        if (ndirs) {
            cr_err err;
            cr_err_clear(&err);
            char out[PATH_MAX];
            snprintf(out, sizeof out, "%s",
                     opts.out_dir ? opts.out_dir : "chaosrun-out");
            if (cr_report_multi((const char *const *)dirs, ndirs, out, &err) !=
                0)
                fprintf(stderr, "chaosrun: multi-run report: %s\n", err.msg);
            else
                printf("multi-run report: %s/multi.html\n", out);
        }
    } else if (nfiles == 1) {
        worst = cr_cli__run_one(scs[0], &opts, quiet, &dirs[ndirs]);
        if (dirs[ndirs])
            ndirs++;
    } else {
        /* Suite: every run in <out>/<scenario name>, in parallel up to
         * --jobs where the scenarios share no port. */
        char suite_out[PATH_MAX];
        if (opts.out_dir) {
            snprintf(suite_out, sizeof suite_out, "%s", opts.out_dir);
        } else {
            char stamp[32];
            cr_run_utc_stamp(stamp, sizeof stamp);
            snprintf(suite_out, sizeof suite_out, "chaosrun-out/suite-%s",
                     stamp);
        }
        for (int i = 0; i < nfiles; i++) {
            dirs[i] = malloc(PATH_MAX);
            if (!dirs[i])
                return 4;
            snprintf(dirs[i], PATH_MAX, "%s/%s", suite_out, scs[i]->name);
        }
        ndirs = (size_t)nfiles;
        worst = cr_cli__run_suite(scs, (const char *const *)dirs, nfiles, &opts,
                                  quiet, (int)jobs);
        if (ndirs) {
            cr_err err;
            cr_err_clear(&err);
            const char *out = suite_out;
            if (cr_report_suite((const char *const *)dirs, ndirs, out, &err))
                fprintf(stderr, "chaosrun: suite report: %s\n", err.msg);
            else
                printf("suite report: %s/index.html, %s/junit.xml\n", out, out);
        }
    }
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    for (int i = 0; i < nfiles; i++)
        cr_scen_free(scs[i]);
    free(scs);
    return worst;
}
