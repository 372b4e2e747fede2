/* cr_cli_report: `chaosrun report ...`: regenerate, compare and summarise
 * run directories with the writers of reports/ (which never print). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_cli.h"

#include "base/cr_alloc.h"
#include "reports/cr_report.h"

static const char USAGE[] =
    "usage: chaosrun report RUN_DIR\n"
    "       chaosrun report --compare OLD_RUN NEW_RUN [--out DIR]\n"
    "       chaosrun report --multi OUT_DIR RUN_DIR...\n"
    "       chaosrun report --suite OUT_DIR RUN_DIR...\n"
    "\n"
    "Regenerate junit.xml, report.html and report.md of a run directory from\n"
    "its journal.json and events.jsonl; compare two runs (compare.html and\n"
    "compare.md in DIR, default NEW_RUN; the Markdown is also printed); or\n"
    "summarise several runs (multi-seed: multi.html/.md/.json; suite:\n"
    "junit.xml and index.html).\n";

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
    if (!strcmp(a, "--compare")) {
        const char *old = NULL, *neu = NULL, *out = NULL;
        for (i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--out")) {
                if (++i >= argc)
                    return usage_error("%s", "--out needs a directory");
                out = argv[i];
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
        if (cr_report_compare(old, neu, out ? out : neu, &md, &e) < 0)
            return fail(&e);
        fputs(md, stdout);
        cr_free(md);
        return 0;
    }
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
