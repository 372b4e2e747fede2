/* cr_cli_cleanup: `chaosrun cleanup [--dry-run] [RUN_DIR...]`: undo what
 * dead runs left behind, through the ledger (engine/cr_ledger.h). */
#include "cr_cli.h"

#include "engine/cr_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cleanup_usage(FILE *fp, int status)
{
    fprintf(fp,
            "usage: chaosrun cleanup [--dry-run] [RUN_DIR...]\n"
            "\n"
            "Undo what dead chaosrun runs left behind: process groups,\n"
            "network namespaces, qdiscs, nftables tables, FIFOs, sockets.\n"
            "Without RUN_DIR, every run in your ledger index whose owner is\n"
            "no longer alive is cleaned.  With RUN_DIR, that run's ledger is\n"
            "reverted.  Only runs of your own are touched: a run directory\n"
            "or ledger of another user, or one that others may write, is\n"
            "refused (exit 2), and so is a run that is still alive (its\n"
            "chaosrun or its janitor holds the ledger's lock; exit 2).  An\n"
            "index directory that is not yours is refused (exit 3).\n");
    return status;
}

/* The exit status of a refused or failed cleanup. */
static int status_of(int code)
{
    switch (code) {
    case CR_EINVAL:
    case CR_ENOTFOUND:
    case CR_ESTATE:
        return 2; /* not a run of yours, none, or alive: refused */
    case CR_EUNSUP:
        return 3; /* the index directory cannot be trusted */
    default:
        return 4;
    }
}

static int worse(int a, int b)
{
    return a > b ? a : b;
}

int cr_cli_cleanup(int argc, char **argv)
{
    int dry = 0, status = 0, ndirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return cleanup_usage(stdout, 0);
        else if (argv[i][0] == '-')
            return cleanup_usage(stderr, 2);
        else
            ndirs++;
    }
    for (int i = 1; i < argc && ndirs; i++) {
        if (argv[i][0] == '-')
            continue;
        cr_err e;
        cr_err_clear(&e);
        int n = cr_ledger_cleanup_dir(argv[i], dry, stdout, &e);
        if (n < 0) {
            fprintf(stderr, "chaosrun cleanup: %s\n", e.msg);
            status = worse(status, status_of(n));
        } else {
            printf("cleanup: %s: %d change(s) %s\n", argv[i], n,
                   dry ? "to undo" : "undone");
        }
    }
    if (ndirs)
        return status;
    cr_err e;
    size_t found = 0;
    cr_err_clear(&e);
    int rc = cr_ledger_cleanup_index(dry, stdout, &found, &e);
    if (rc < 0) {
        fprintf(stderr, "chaosrun cleanup: %s\n", e.msg);
        status = status_of(rc);
    }
    if (!found && rc == 0)
        printf("cleanup: nothing to do\n");
    return status;
}

/* `chaosrun __janitor LEDGER INDEX_NAME` (hidden; started by the engine
 * through cr_janitor_spawn with its pipe as stdin, the ledger as fd 3, the
 * run directory as fd 4, the index directory as fd 5): see
 * engine/cr_ledger.h. */
int cr_cli_janitor(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    return cr_janitor_run(0, 3, 4, 5, argv[2]);
}
