/* cr_cli_suite: `chaosrun suite DIR...` and the running of several
 * scenarios as one suite (each run in a child process, in parallel where
 * they share no port). */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "engine/cr_run.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
int cr_cli__run_suite(cr_scen **scs, const char *const *dirs, int n,
                      const cr_run_opts *opts, int quiet, int jobs)
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
            int q = quiet;
            o.out_dir = dirs[i];
            if (jobs > 1) {
                o.live_status = 0;
                q = 1;
            }
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
                worst = 4;
                state[i] = 2;
                done++;
                continue;
            }
            if (p == 0) {
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGTERM, &old_term, NULL);
                int rc = cr_cli__run_one(scs[i], &o, q, NULL);
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `chaosrun suite [OPTIONS] DIR...`: every .json file of DIR (sorted), run as
 * one suite; other arguments pass through to the run command. */
int cr_cli_suite(int argc, char **argv)
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
    rc = cr_cli_run((int)n, args);
out:
    /* The strings built here are never freed individually: the process
     * ends right after. */
    free(args);
    return rc;
}
