/* cr_cli_report: `chaosrun report ...`: regenerate, compare and summarise
 * run directories with the writers of reports/ (which never print). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr_cli.h"

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "reports/cr_report.h"

static const char USAGE[] =
    "usage: chaosrun report RUN_DIR\n"
    "       chaosrun report --compare OLD_RUN NEW_RUN [--out DIR] [--fail-on "
    "WHEN]\n"
    "       chaosrun report --multi OUT_DIR RUN_DIR...\n"
    "       chaosrun report --suite OUT_DIR RUN_DIR...\n"
    "       chaosrun report --merge [--force] OUT_DIR SUITE_DIR...\n"
    "\n"
    "Regenerate junit.xml, report.html and report.md of a run directory from\n"
    "its journal.json and events.jsonl; compare two runs (compare.html and\n"
    "compare.md in DIR, default NEW_RUN; the Markdown is also printed); or\n"
    "summarise several runs (multi-seed: multi.html/.md/.json; suite:\n"
    "junit.xml and index.html).  A side of --compare may be a multi-seed\n"
    "directory (chaosrun --seeds A..B --out DIR).\n"
    "\n"
    "--merge: join suites -- the shards of a CI matrix (chaosrun suite\n"
    "--shard K/N) -- into one: OUT_DIR/junit.xml (one <testsuites>, totals\n"
    "recomputed), index.html, index.md and suite.json over every run, linking\n"
    "the run directories where they are.  Refused (exit 2): a scenario in two\n"
    "suites, suites of different chaosrun versions, a shard missing or given\n"
    "twice.  OUT_DIR must be new or empty (--force: an earlier chaosrun\n"
    "output there is emptied first, links never followed); it is never an\n"
    "input or above one.  Exit status: the highest of the merged runs' (as\n"
    "one suite would have exited), or 2 / 4 as below.\n"
    "\n"
    "--fail-on WHEN: when --compare exits 1 (the new run is less resilient):\n"
    "  regressed  an expectation that passed in OLD_RUN does not pass in\n"
    "             NEW_RUN, or OLD_RUN passed and NEW_RUN did not (default)\n"
    "  worse      also when a measured figure is worse beyond the noise\n"
    "  never      exit 0 whatever the comparison says\n"
    "\n"
    "Exit status: 0 done; 1 --compare found the new run less resilient;\n"
    "2 usage, or a run directory is missing; 4 a report could not be "
    "written.\n";

/* --fail-on */
enum { FAIL_REGRESSED, FAIL_WORSE, FAIL_NEVER };

/* The exit status of a comparison under --fail-on, with a line on stderr
 * saying why when it is 1. */
static int compare_status(const cr_compare_tally *t, int fail_on)
{
    int verdict_worse = !strcmp(t->old_verdict, "passed") &&
                        strcmp(t->new_verdict, "passed") != 0;
    if (fail_on == FAIL_NEVER)
        return 0;
    if (t->regressed || verdict_worse) {
        fprintf(stderr,
                "chaosrun report: less resilient: %zu expectation%s "
                "regressed; the run %s, now %s (--fail-on %s)\n",
                t->regressed, t->regressed == 1 ? "" : "s", t->old_verdict,
                t->new_verdict, fail_on == FAIL_WORSE ? "worse" : "regressed");
        return 1;
    }
    if (fail_on == FAIL_WORSE && t->worse) {
        fprintf(stderr,
                "chaosrun report: less resilient: %zu measured figure%s worse "
                "beyond the noise (--fail-on worse)\n",
                t->worse, t->worse == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

static int compare_cmd(int argc, char **argv);
static int merge_cmd(int argc, char **argv);

static int usage_error(const char *fmt, const char *arg)
{
    fputs("chaosrun report: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(USAGE, stderr);
    return 2;
}

static int fail(const cr_err *e)
{
    fprintf(stderr, "chaosrun report: %s\n", e->msg);
    return e->code == CR_ENOTFOUND || e->code == CR_EINVAL ? 2 : 4;
}

int cr_cli_report(int argc, char **argv)
{
    cr_err e;
    cr_err_clear(&e);
    int i = 1;
    if (argc < 2)
        return usage_error("%s", "missing RUN_DIR");
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(a, "--compare"))
        return compare_cmd(argc, argv);
    if (!strcmp(a, "--merge"))
        return merge_cmd(argc, argv);
    if (!strcmp(a, "--multi") || !strcmp(a, "--suite")) {
        if (argc < 4)
            return usage_error("%s needs OUT_DIR and at least one RUN_DIR", a);
        for (i = 3; i < argc; i++)
            if (argv[i][0] == '-')
                return usage_error("unknown option %s", argv[i]);
        const char *const *dirs = (const char *const *)argv + 3;
        int rc = !strcmp(a, "--multi")
                     ? cr_report_multi(dirs, (size_t)(argc - 3), argv[2], &e)
                     : cr_report_suite(dirs, (size_t)(argc - 3), argv[2], &e);
        if (rc < 0)
            return fail(&e);
        printf("wrote %s/%s\n", argv[2],
               !strcmp(a, "--multi") ? "multi.html, multi.md, multi.json"
                                     : "junit.xml, index.html");
        return 0;
    }
    if (a[0] == '-')
        return usage_error("unknown option %s", a);
    if (argc > 2)
        return usage_error("unexpected argument %s", argv[2]);
    if (cr_report_write_all(a, &e) < 0)
        return fail(&e);
    printf("wrote %s/report.html, report.md, junit.xml\n", a);
    return 0;
}

/* `report --compare OLD NEW [--out DIR] [--fail-on WHEN]` */
static int compare_cmd(int argc, char **argv)
{
    const char *old = NULL, *neu = NULL, *out = NULL;
    int fail_on = FAIL_REGRESSED;
    cr_err e;
    cr_err_clear(&e);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            if (++i >= argc)
                return usage_error("%s", "--out needs a directory");
            out = argv[i];
        } else if (!strcmp(argv[i], "--fail-on") ||
                   !strncmp(argv[i], "--fail-on=", 10)) {
            const char *w = argv[i][9] == '=' ? argv[i] + 10
                            : ++i < argc      ? argv[i]
                                              : "";
            if (!strcmp(w, "regressed"))
                fail_on = FAIL_REGRESSED;
            else if (!strcmp(w, "worse"))
                fail_on = FAIL_WORSE;
            else if (!strcmp(w, "never"))
                fail_on = FAIL_NEVER;
            else
                return usage_error("--fail-on: expected regressed, worse or "
                                   "never, got '%s'",
                                   w);
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("unknown option %s", argv[i]);
        } else if (!old) {
            old = argv[i];
        } else if (!neu) {
            neu = argv[i];
        } else {
            return usage_error("unexpected argument %s", argv[i]);
        }
    }
    if (!neu)
        return usage_error("%s", "--compare needs OLD_RUN and NEW_RUN");
    char *md = NULL;
    cr_compare_tally t;
    if (cr_report_compare_tally(old, neu, out ? out : neu, &md, &t, &e) < 0)
        return fail(&e);
    fputs(md, stdout);
    fflush(stdout);
    cr_free(md);
    return compare_status(&t, fail_on);
}

/* Is the directory b (a realpath) dir a or below it? */
static int under(const char *a, const char *b)
{
    size_t n = strlen(a);
    return !strncmp(a, b, n) &&
           (b[n] == '/' || b[n] == '\0' || (n == 1 && a[0] == '/'));
}

/* `report --merge [--force] OUT SUITE...` */
static int merge_cmd(int argc, char **argv)
{
    const char *out = NULL;
    const char **ins = calloc((size_t)argc, sizeof *ins);
    size_t nin = 0, nruns = 0;
    int force = 0, rc = 2, dfd = -1, status = 0;
    char ro[PATH_MAX], ri[PATH_MAX];
    cr_err e;
    cr_err_clear(&e);
    if (!ins)
        return 4;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            rc = usage_error("unknown option %s", argv[i]);
            goto out;
        } else if (!out)
            out = argv[i];
        else
            ins[nin++] = argv[i];
    }
    if (!nin) {
        rc = usage_error("%s", "--merge needs OUT_DIR and at least one "
                               "SUITE_DIR");
        goto out;
    }
    /* --force empties OUT_DIR: never an input, nor a directory above one. */
    if (realpath(out, ro))
        for (size_t i = 0; i < nin; i++)
            if (realpath(ins[i], ri) && under(ro, ri)) {
                fprintf(stderr,
                        "chaosrun report: --merge: OUT_DIR %s holds the "
                        "suite %s: write the merge elsewhere\n",
                        out, ins[i]);
                goto out;
            }
    if ((dfd = cr_dir_claim(out, force ? CR_DIR_FORCE : 0, &e)) < 0) {
        fprintf(stderr, "chaosrun report: --merge: %s\n", e.msg);
        rc = dfd == CR_ESYS ? 4 : 2;
        goto out;
    }
    if (cr_report_merge(ins, nin, dfd, &nruns, &status, &e) < 0) {
        rc = fail(&e);
        if (e.code == CR_EPROTO)
            rc = 2; /* a malformed suite.json is bad input, not our failure */
        goto out;
    }
    printf("merged %zu scenario%s of %zu suite%s: %s/junit.xml, index.html, "
           "index.md, suite.json\n",
           nruns, nruns == 1 ? "" : "s", nin, nin == 1 ? "" : "s", out);
    rc = status;
out:
    if (dfd >= 0)
        close(dfd);
    free(ins);
    return rc;
}
