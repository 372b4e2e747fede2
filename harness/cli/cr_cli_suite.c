/* cr_cli_suite: `chaosrun suite DIR...` and the running of several
 * scenarios as one suite (each run in a child process, in parallel where
 * they share no port). */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "engine/cr_run.h"
#include "scenario/cr_yaml.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress lines ------------------------------------------------------ */

/* The verdicts a suite counts, in the order the tally names them. */
static const char *const verdict_words[] = {
    "passed",         "failed",  "unrunnable", "interrupted",
    "startup_failed", "aborted", "invalid",    "error",
};
#define NVERDICTS (sizeof verdict_words / sizeof verdict_words[0])

/* The verdict of a finished run: its journal's status, else what its exit
 * status says. */
static size_t run_verdict(const char *dir, int rc)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/journal.json", dir);
    json_t *j = json_load_file(path, 0, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    size_t v = NVERDICTS - 1;
    for (size_t i = 0; st && i < NVERDICTS; i++)
        if (strcmp(st, verdict_words[i]) == 0)
            v = i;
    json_decref(j);
    if (st)
        return v;
    switch (rc) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return 5;
    case 3:
        return 2;
    case 5:
        return 4;
    default:
        return NVERDICTS - 1;
    }
}

/* "12.3 s" / "4 min 05 s" */
static void dur_text(char *buf, size_t n, double s)
{
    if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else
        snprintf(buf, n, "%d min %02d s", (int)(s / 60), (int)s % 60);
}

static void line_finished(const cr_cli_view *v, int i, int n, const char *name,
                          size_t verdict, double took)
{
    int c = cr_cli__color_on(v->color, stdout);
    char d[32];
    dur_text(d, sizeof d, took);
    printf("[%d/%d] %s: %s%s%s in %s\n", i + 1, n, name,
           cr_cli__sgr(c, verdict == 0 ? "green" : "red"),
           verdict_words[verdict], cr_cli__sgr(c, "off"), d);
    fflush(stdout);
}

static void line_tally(const cr_cli_view *v, int n, const size_t *count,
                       double took)
{
    char d[32];
    int first = 1;
    dur_text(d, sizeof d, took);
    printf("suite: %d scenario%s in %s:", n, n == 1 ? "" : "s", d);
    for (size_t k = 0; k < NVERDICTS; k++)
        if (count[k]) {
            printf("%s %zu %s", first ? "" : ",", count[k], verdict_words[k]);
            first = 0;
        }
    printf("%s\n", first ? " none finished" : "");
    fflush(stdout);
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
/* The suite's book-keeping: each scenario's state, process and clock. */
typedef struct suite_state {
    pid_t *pid;
    int *state; /* 0 wait 1 run 2 done */
    double *began;
    size_t count[NVERDICTS];
    int worst, running, done;
    struct sigaction old_int, old_term; /* restored in the children */
} suite_state;

/* Start every scenario that may start now (free job slot, no port shared
 * with a running one). */
static void suite_start_ready(suite_state *ss, cr_scen **scs,
                              const char *const *dirs, int n,
                              const cr_run_opts *opts, const cr_cli_view *v,
                              int jobs)
{
    for (int i = 0; i < n && ss->running < jobs && !g_suite_stop; i++) {
        if (ss->state[i] != 0)
            continue;
        int clash = 0;
        for (int k = 0; k < n && !clash; k++)
            clash = ss->state[k] == 1 && scen_conflict(scs[i], scs[k]);
        if (clash)
            continue;
        cr_run_opts o = *opts;
        cr_cli_view cv = *v;
        o.out_dir = dirs[i];
        if (jobs > 1) {
            o.live_status = 0;
            cv.quiet = 1;
        }
        if (!v->quiet)
            fprintf(stderr, "[%d/%d] %s: started\n", i + 1, n, scs[i]->name);
        fflush(NULL);
        /* Not cr_spawn, on purpose: a worker process, fork WITHOUT
         * exec (the one exception of tests/style/spawn.sh).  The child
         * runs the scenario already loaded and validated here, with
         * these options, and _exits; exec'ing `chaosrun run` instead
         * would load it again and pass every option through argv for
         * nothing.  It is safe because this command line is single-
         * threaded when it forks (no run, probe or scrape thread
         * exists in the parent), so the child may call anything, and
         * it owns no resource of the parent's: each run opens its own
         * ledger, janitor and loop. */
        pid_t p = fork();
        if (p < 0) {
            perror("chaosrun: fork");
            ss->worst = 4;
            ss->state[i] = 2;
            ss->count[NVERDICTS - 1]++;
            ss->done++;
            continue;
        }
        if (p == 0) {
            /* A process group of its own: Ctrl-C from the terminal
             * reaches the parent only, which tells each run once (a run
             * that got the terminal's SIGINT and then the parent's
             * SIGTERM took the second as "again to force" and SIGKILLed
             * its services without their stop grace). */
            setpgid(0, 0);
            sigaction(SIGINT, &ss->old_int, NULL);
            sigaction(SIGTERM, &ss->old_term, NULL);
            int rc = cr_cli__run_one(scs[i], &o, &cv, NULL, NULL);
            fflush(NULL);
            _exit(rc);
        }
        setpgid(p, p); /* also here: no window where the terminal reaches it */
        ss->pid[i] = p;
        ss->state[i] = 1;
        ss->began[i] = mono_now();
        ss->running++;
    }
}

/* Run the scenarios of a suite, each in a child process, at most `jobs`
 * at once and never two that share a port.  Returns the worst exit
 * status.  A signal stops starting new runs and is passed on to the
 * running ones (which stop their services and still write journals). */
int cr_cli__run_suite(cr_scen **scs, const char *const *dirs, int n,
                      const cr_run_opts *opts, const cr_cli_view *v, int jobs)
{
    suite_state ss = {0};
    struct sigaction sa = {0};
    double t0 = mono_now();
    ss.pid = calloc((size_t)n, sizeof *ss.pid);
    ss.state = calloc((size_t)n, sizeof *ss.state);
    ss.began = calloc((size_t)n, sizeof *ss.began);
    if (!ss.pid || !ss.state || !ss.began) {
        free(ss.pid);
        free(ss.state);
        free(ss.began);
        return 4;
    }
    sa.sa_handler = suite_on_signal;
    sigaction(SIGINT, &sa, &ss.old_int);
    sigaction(SIGTERM, &sa, &ss.old_term);
    while (ss.done < n) {
        suite_start_ready(&ss, scs, dirs, n, opts, v, jobs);
        if (g_suite_stop && ss.running == 0)
            break;
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR && g_suite_stop) {
                for (int i = 0; i < n; i++)
                    if (ss.state[i] == 1)
                        kill(ss.pid[i], SIGTERM);
            }
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (ss.state[i] != 1 || ss.pid[i] != w)
                continue;
            int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 4;
            size_t verdict = run_verdict(dirs[i], rc);
            if (rc > ss.worst)
                ss.worst = rc;
            ss.count[verdict]++;
            ss.state[i] = 2;
            ss.running--;
            ss.done++;
            line_finished(v, i, n, scs[i]->name, verdict,
                          mono_now() - ss.began[i]);
        }
    }
    line_tally(v, n, ss.count, mono_now() - t0);
    if (g_suite_stop && ss.worst < 4)
        ss.worst = 4; /* interrupted */
    sigaction(SIGINT, &ss.old_int, NULL);
    sigaction(SIGTERM, &ss.old_term, NULL);
    free(ss.pid);
    free(ss.state);
    free(ss.began);
    return ss.worst;
}

/* ---- shards ------------------------------------------------------------ */

uint64_t cr_cli__fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

unsigned cr_cli__shard_of(const char *file, unsigned n)
{
    const char *base = strrchr(file, '/');
    return (unsigned)(cr_cli__fnv1a64(base ? base + 1 : file) % n);
}

int cr_cli__parse_shard(const char *s, unsigned *k, unsigned *n)
{
    char a[16], b[16], extra;
    uint64_t x, y;
    if (sscanf(s, "%15[0-9]/%15[0-9]%c", a, b, &extra) != 2 ||
        cr_cli_parse_u64(a, &x) || cr_cli_parse_u64(b, &y) || x < 1 ||
        y > 1000 || x > y)
        return -1;
    *k = (unsigned)x;
    *n = (unsigned)y;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char SUITE_USAGE[] =
    "usage: chaosrun suite [OPTIONS] DIR...\n"
    "\n"
    "Run every DIR/*.json, *.yaml, *.yml (sorted) as one suite: each "
    "scenario's run\n"
    "directory is OUT/<scenario name>; OUT/junit.xml has one testsuite per\n"
    "scenario, OUT/index.html (and index.md) links every report, and\n"
    "OUT/suite.json lists the runs (for report --merge).  A line when each\n"
    "scenario starts and ends (verdict and time), then a tally.\n"
    "\n"
    "Options:\n"
    "  -o, --out OUT    the suite's directory (default\n"
    "                   chaosrun-out/suite-<UTC time>)\n"
    "  -j, --jobs N     run up to N scenarios at once; scenarios that share a\n"
    "                   port never overlap (default 1)\n"
    "  --shard K/N      run only shard K of N (1 <= K <= N <= 1000): the\n"
    "                   scenarios whose file name's FNV-1a 64 hash is K-1\n"
    "                   modulo N, so N CI jobs run every scenario once; the\n"
    "                   scenarios of the shard are printed first; join the\n"
    "                   shards' OUT with chaosrun report --merge\n"
    "  --seed N         override every scenario's seed\n"
    "  --force          OUT holds an earlier chaosrun output: empty it first\n"
    "  --service-user USER[:GROUP]\n"
    "                   run every service as USER (scenario's user/group\n"
    "                   keys win; chaosrun --help)\n"
    "  -q, --quiet      no progress lines (the verdict lines and the tally\n"
    "                   are still printed)\n"
    "  --no-status      no live status line\n"
    "  --fail-fast      stop each run at its first violation no later event\n"
    "                   can mend (chaosrun --help); the suite goes on\n"
    "  --color WHEN     auto, always or never (see chaosrun --help)\n"
    "  --dry-run        print each scenario's timeline, run nothing\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit status: the highest of its runs' (chaosrun --help).\n";

/* Options of the run command that take a value as the next argument. */
static int takes_value(const char *a)
{
    static const char *const v[] = {
        "--seed",  "--out",          "-o", "--jobs", "-j", "--color",
        "--shard", "--service-user", NULL};
    for (size_t i = 0; v[i]; i++)
        if (strcmp(a, v[i]) == 0)
            return 1;
    return 0;
}

/* A growing argument vector. */
typedef struct argvec {
    char **v;
    size_t n, cap;
} argvec;

static int push(argvec *a, char *s)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 32;
        char **nv = realloc(a->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = s;
    return 0;
}

/* Append DIR/<name> of every .json, .yaml or .yml file in dir (sorted) to
 * a, each
 * string also to own (the caller frees them).  Returns how many, or -1
 * (message printed). */
static long add_dir(const char *dir, argvec *a, argvec *own)
{
    DIR *d = opendir(dir);
    size_t first = a->n;
    struct dirent *de;
    if (!d) {
        fprintf(stderr, "chaosrun suite: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if ((len < 6 || strcmp(de->d_name + len - 5, ".json") != 0) &&
            !cr_yaml_is_yaml_name(de->d_name))
            continue;
        char *p = malloc(strlen(dir) + len + 2);
        if (!p || push(own, p) != 0) {
            free(p);
            closedir(d);
            return -1;
        }
        if (push(a, p) != 0) {
            closedir(d);
            return -1;
        }
        sprintf(p, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    qsort(a->v + first, a->n - first, sizeof *a->v, cmp_str);
    if (a->n == first)
        fprintf(stderr, "chaosrun suite: no *.json, *.yaml or *.yml in %s\n",
                dir);
    return (long)(a->n - first);
}

/* `chaosrun suite [OPTIONS] DIR...`: every .json file of DIR (sorted), run
 * as one suite by the run command (argv[0] "suite" makes it a suite even
 * for one scenario); the options pass through to it. */
int cr_cli_suite(int argc, char **argv)
{
    argvec a = {0}, own = {0};
    int rc = 2, dirs = 0, files = 0;
    struct stat st;
    if (push(&a, argv[0]) != 0)
        return 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(SUITE_USAGE, stdout);
            rc = 0;
            goto out;
        }
        if (argv[i][0] == '-') {
            if (push(&a, argv[i]) != 0 ||
                (takes_value(argv[i]) && i + 1 < argc &&
                 push(&a, argv[++i]) != 0))
                goto nomem;
            continue;
        }
        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "chaosrun suite: %s is not a directory\n", argv[i]);
            goto out;
        }
        long k = add_dir(argv[i], &a, &own);
        if (k < 0)
            goto out;
        files += (int)k;
        dirs++;
    }
    if (!dirs)
        fputs(SUITE_USAGE, stderr);
    else if (files)
        rc = cr_cli_run((int)a.n, a.v);
    goto out;
nomem:
    fprintf(stderr, "chaosrun suite: out of memory\n");
    rc = 4;
out:
    for (size_t i = 0; i < own.n; i++)
        free(own.v[i]);
    free(own.v);
    free(a.v);
    return rc;
}
