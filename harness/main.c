/* main: the chaosrun command line.
 *
 * The only place that prints errors and chooses exit statuses:
 *   0 every expectation held, 1 an expectation failed (or could not be
 *   judged), 2 invalid scenario or usage, 3 this machine cannot run the
 *   scenario, 4 the harness itself failed. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cr_alloc.h"
#include "cr_check.h"
#include "cr_fault.h"
#include "cr_ledger.h"
#include "cr_probe.h"
#include "cr_proxy.h"
#include "cr_report.h"
#include "cr_run.h"
#include "cr_scen.h"

static void usage(FILE *fp)
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

static int load(const char *file, cr_scen **sc)
{
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load(file, sc, &d, &err);
    if (rc != 0) {
        if (d.n)
            cr_diags_print(&d, stderr);
        else
            fprintf(stderr, "chaosrun: %s\n", err.msg);
        cr_diags_free(&d);
        return cr_err_exit_status(rc);
    }
    cr_diags_free(&d);
    return 0;
}

static int cmd_validate(int argc, char **argv)
{
    int worst = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: chaosrun validate SCENARIO.json...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: chaosrun validate SCENARIO.json...\n"
                   "Checks syntax, types, ranges, references and cross-field\n"
                   "rules; prints every problem as FILE:LINE:COLUMN: message;\n"
                   "exit 0 when all are valid, 2 otherwise.\n");
            return 0;
        }
        cr_scen *sc = NULL;
        int rc = load(argv[i], &sc);
        if (rc == 0)
            printf("%s: ok\n", argv[i]);
        if (rc > worst)
            worst = rc;
        cr_scen_free(sc);
    }
    return worst;
}

static void print_params(const cr_param *p)
{
    for (; p && p->name; p++)
        printf("      %-18s %-14s %-12s %s\n", p->name, p->type,
               p->dflt ? p->dflt : "(required)", p->doc);
}

static int cmd_list(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    int all = strcmp(what, "all") == 0;
    if (!all && strcmp(what, "faults") && strcmp(what, "probes") &&
        strcmp(what, "checks")) {
        fprintf(stderr, "usage: chaosrun list [faults|probes|checks]\n");
        return 2;
    }
    if (all || strcmp(what, "faults") == 0) {
        printf("FAULT KINDS (keys every fault takes:)\n");
        print_params(cr_fault_common_params);
        for (const cr_fault_ops *const *f = cr_fault_all(); *f; f++) {
            printf("\n  %s — %s\n", (*f)->kind, (*f)->summary);
            print_params((*f)->params);
        }
        printf("\n");
    }
    if (all || strcmp(what, "probes") == 0) {
        printf("PROBE KINDS (keys every probe takes:)\n");
        print_params(cr_probe_common_params);
        for (const cr_probe_ops *const *p = cr_probe_all(); *p; p++) {
            printf("\n  %s — %s\n", (*p)->kind, (*p)->summary);
            print_params((*p)->params);
        }
        printf("\n");
    }
    if (all || strcmp(what, "checks") == 0) {
        printf("EXPECTATIONS (keys every expectation takes:)\n");
        print_params(cr_expect_common_params);
        for (const cr_check_ops *const *c = cr_check_all(); *c; c++) {
            printf("\n  %s — %s\n", (*c)->kind, (*c)->summary);
            print_params((*c)->params);
        }
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* Does any service port (port .. port + replicas - 1) of a also belong to
 * b?  Such scenarios cannot run at the same time. */
static int scen_conflict(const cr_scen *a, const cr_scen *b)
{
    for (size_t i = 0; i < a->nsvcs; i++) {
        const cr_svc_spec *x = &a->svcs[i];
        for (size_t k = 0; x->port && k < b->nsvcs; k++) {
            const cr_svc_spec *y = &b->svcs[k];
            if (y->port && x->port < y->port + y->replicas &&
                y->port < x->port + x->replicas)
                return 1;
        }
    }
    return 0;
}

static volatile sig_atomic_t g_suite_stop; /* main's own: a signal arrived */

static void suite_on_signal(int sig)
{
    g_suite_stop = sig;
}

/* Run the scenarios of a suite, each in a child process, at most `jobs`
 * at once and never two that share a port.  Returns the worst exit
 * status.  A signal stops starting new runs and is passed on to the
 * running ones (which stop their services and still write journals). */
static int run_suite(cr_scen **scs, const char *const *dirs, int n,
                     const cr_run_opts *opts, int jobs)
{
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    int *state = calloc((size_t)n, sizeof *state); /* 0 wait 1 run 2 done */
    int worst = 0, running = 0, done = 0;
    struct sigaction sa = {0}, old_int, old_term;
    if (!pid || !state) {
        free(pid);
        free(state);
        return 4;
    }
    sa.sa_handler = suite_on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    fflush(NULL);
    while (done < n) {
        for (int i = 0; i < n && running < jobs && !g_suite_stop; i++) {
            if (state[i] != 0)
                continue;
            int clash = 0;
            for (int k = 0; k < n && !clash; k++)
                clash = state[k] == 1 && scen_conflict(scs[i], scs[k]);
            if (clash)
                continue;
            cr_run_opts o = *opts;
            o.out_dir = dirs[i];
            if (jobs > 1) {
                o.live_status = 0;
                o.quiet = 1;
            }
            pid_t p = fork();
            if (p < 0) {
                perror("chaosrun: fork");
                worst = 4;
                state[i] = 2;
                done++;
                continue;
            }
            if (p == 0) {
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGTERM, &old_term, NULL);
                int rc = cr_run_scenario(scs[i], &o, NULL);
                fflush(NULL);
                _exit(rc);
            }
            pid[i] = p;
            state[i] = 1;
            running++;
        }
        if (g_suite_stop && running == 0)
            break;
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR && g_suite_stop) {
                for (int i = 0; i < n; i++)
                    if (state[i] == 1)
                        kill(pid[i], SIGTERM);
            }
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (state[i] != 1 || pid[i] != w)
                continue;
            int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 4;
            if (rc > worst)
                worst = rc;
            state[i] = 2;
            running--;
            done++;
        }
    }
    if (g_suite_stop && worst < 4)
        worst = 4; /* interrupted */
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(pid);
    free(state);
    return worst;
}

static int cmd_run(int argc, char **argv)
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
    int dry = 0, no_status = 0, opt;
    uint64_t seed_lo = 0, seed_hi = 0, repeat = 0, jobs = 1;
    int have_seeds = 0;
    opts.argv0 = argv[0];
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qhnj:o:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            if (parse_u64(optarg, &jobs) || jobs == 0 || jobs > 64) {
                fprintf(stderr,
                        "chaosrun: --jobs: expected 1..64, got "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 's':
            if (parse_u64(optarg, &opts.seed)) {
                fprintf(stderr, "chaosrun: --seed: '%s' is not a number\n",
                        optarg);
                return 2;
            }
            opts.seed_override = 1;
            break;
        case 'S': {
            char a[32], b[32];
            if (sscanf(optarg, "%31[0-9]..%31[0-9]", a, b) != 2 ||
                parse_u64(a, &seed_lo) || parse_u64(b, &seed_hi) ||
                seed_hi < seed_lo || seed_hi - seed_lo > 10000) {
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
            if (parse_u64(optarg, &repeat) || repeat == 0 || repeat > 10000) {
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
            opts.quiet = 1;
            break;
        case 'N':
            no_status = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("chaosrun %s\n", CR_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int nfiles = argc - optind;
    if (nfiles < 1) {
        usage(stderr);
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
    opts.live_status = !no_status && !opts.quiet && isatty(STDERR_FILENO);

    /* Validate everything before running anything. */
    cr_scen **scs = calloc((size_t)nfiles, sizeof *scs);
    int worst = 0;
    if (!scs)
        return 4;
    for (int i = 0; i < nfiles; i++) {
        int rc = load(argv[optind + i], &scs[i]);
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
            int rc = cr_run_scenario(scs[0], &o, &dirs[ndirs]);
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
        worst = cr_run_scenario(scs[0], &opts, &dirs[ndirs]);
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
        worst =
            run_suite(scs, (const char *const *)dirs, nfiles, &opts, (int)jobs);
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `chaosrun suite [OPTIONS] DIR...`: every .json file of DIR (sorted), run as
 * one suite; other arguments pass through to the run command. */
static int cmd_suite(int argc, char **argv)
{
    char **args = NULL;
    size_t n = 0, cap = 0;
    int rc = 2, dirs = 0;
    struct stat st;
#define PUSH(s)                                                                \
    do {                                                                       \
        if (n == cap) {                                                        \
            cap = cap ? cap * 2 : 32;                                          \
            char **nv = realloc(args, cap * sizeof *nv);                       \
            if (!nv)                                                           \
                goto out;                                                      \
            args = nv;                                                         \
        }                                                                      \
        args[n++] = (s);                                                       \
    } while (0)
    PUSH(argv[0]);
    for (int i = 1; i < argc; i++) {
        int takes_value = !strcmp(argv[i], "--seed") ||
                          !strcmp(argv[i], "--out") ||
                          !strcmp(argv[i], "--jobs") || !strcmp(argv[i], "-j");
        if (argv[i][0] == '-' || stat(argv[i], &st) != 0 ||
            !S_ISDIR(st.st_mode)) {
            PUSH(argv[i]);
            if (takes_value && i + 1 < argc)
                PUSH(argv[++i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "chaosrun suite: %s: %s\n", argv[i],
                    strerror(errno));
            goto out;
        }
        size_t first = n;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t len = strlen(de->d_name);
            if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                continue;
            char *p = malloc(strlen(argv[i]) + len + 2);
            if (!p) {
                closedir(d);
                goto out;
            }
            sprintf(p, "%s/%s", argv[i], de->d_name);
            PUSH(p);
        }
        closedir(d);
        qsort(args + first, n - first, sizeof *args, cmp_str);
        dirs++;
    }
#undef PUSH
    if (!dirs) {
        fprintf(stderr, "usage: chaosrun suite [OPTIONS] DIR...\n");
        goto out;
    }
    rc = cmd_run((int)n, args);
out:
    /* The strings built here are never freed individually: the process
     * ends right after. */
    free(args);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;
    cr_alloc_install_json();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "cleanup") == 0)
        return cr_cleanup_main(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) {
        return cr_report_main(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "proxy") == 0) {
        return cr_proxy_main(argc - 1, argv + 1);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "chaosrun: libcurl initialisation failed\n");
        return 4;
    }
    if (strcmp(cmd, "run") == 0)
        rc = cmd_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "suite") == 0)
        rc = cmd_suite(argc - 1, argv + 1);
    else
        rc = cmd_run(argc, argv);
    curl_global_cleanup();
    return rc;
}
