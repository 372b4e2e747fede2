/* cr_cli_cleanup: `chaosrun cleanup [--dry-run] [RUN_DIR...]`: undo what
 * dead runs left behind, through the ledger (engine/cr_ledger.h). */
#include "cr_cli.h"

#include "engine/cr_ledger.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cleanup_usage(FILE *fp, int status)
{
    fprintf(fp,
            "usage: chaosrun cleanup [--dry-run] [RUN_DIR...]\n"
            "\n"
            "Undo what dead chaosrun runs left behind: process groups,\n"
            "network namespaces, qdiscs, nftables tables, FIFOs.  Without\n"
            "RUN_DIR, every run in the index whose owner is no longer alive\n"
            "is cleaned.  With RUN_DIR, that run's ledger is reverted\n"
            "(refused while its owner is alive).\n");
    return status;
}

int cr_cli_cleanup(int argc, char **argv)
{
    int dry = 0, status = 0, found = 0;
    int first_dir = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            dry = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return cleanup_usage(stdout, 0);
        else if (argv[i][0] == '-')
            return cleanup_usage(stderr, 2);
        else if (first_dir == argc)
            first_dir = i;
    }
    if (first_dir < argc) {
        for (int i = first_dir; i < argc; i++) {
            if (argv[i][0] == '-')
                continue;
            char lp[PATH_MAX];
            snprintf(lp, sizeof lp, "%s/ledger", argv[i]);
            if (access(lp, R_OK) != 0) {
                fprintf(stderr, "chaosrun cleanup: %s: no ledger\n", argv[i]);
                status = 2;
                continue;
            }
            if (dry) {
                printf("would revert %s\n", lp);
                continue;
            }
            cr_err e;
            cr_err_clear(&e);
            int n = cr_ledger_revert_file(lp, stdout, &e);
            if (n < 0) {
                fprintf(stderr, "chaosrun cleanup: %s\n", e.msg);
                status = 4;
            }
        }
        return status;
    }
    char idir[PATH_MAX];
    if (cr_ledger_index_dir(idir, sizeof idir) < 0) {
        fprintf(stderr, "chaosrun cleanup: no index directory\n");
        return 4;
    }
    DIR *d = opendir(idir);
    if (!d) {
        fprintf(stderr, "chaosrun cleanup: %s: %s\n", idir, strerror(errno));
        return 4;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "run-", 4) != 0)
            continue;
        char ipath[PATH_MAX + 256], ledger[PATH_MAX];
        snprintf(ipath, sizeof ipath, "%s/%s", idir, de->d_name);
        if (cr_ledger_index_owner_alive(ipath, ledger, sizeof ledger))
            continue;
        found++;
        if (dry) {
            printf("would revert %s\n", ledger);
            continue;
        }
        cr_err e;
        cr_err_clear(&e);
        int n = cr_ledger_revert_file(ledger, stdout, &e);
        if (n < 0) {
            fprintf(stderr, "chaosrun cleanup: %s\n", e.msg);
            status = 4;
        } else {
            printf("cleanup: %s: %d change(s) undone\n", ledger, n);
            unlink(ipath);
        }
    }
    closedir(d);
    if (!found)
        printf("cleanup: nothing to do\n");
    return status;
}

/* `chaosrun __janitor LEDGER INDEX` (hidden; started by the engine through
 * cr_janitor_spawn with its pipe as stdin): see engine/cr_ledger.h. */
int cr_cli_janitor(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    return cr_janitor_run(0, argv[1], argv[2]);
}
