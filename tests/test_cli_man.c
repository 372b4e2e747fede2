/* The man page chaosrun(1), made by help2man from `chaosrun --help` and
 * harness/cli/chaosrun.h2m (cmake/CrInstall.cmake): it lists every
 * sub-command of the command table, names this version, and groff
 * renders it without a warning.  Skipped (77) when the build made no man
 * page (help2man missing). */
#include "cli/cr_cli.h"
#include "cr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char man[1 << 17];

static void load(void)
{
    FILE *fp = fopen(cr_test_bin("../man/chaosrun.1"), "r");
    if (!fp)
        cr_test_skip("no man page in the build (help2man missing?): %s",
                     cr_test_bin("../man/chaosrun.1"));
    size_t n = fread(man, 1, sizeof man - 1, fp);
    man[n] = '\0';
    fclose(fp);
}

/* Each visible command is a tagged paragraph: ".TP\nNAME ..." */
static void test_cli_man_lists_every_command(void)
{
    size_t n = 0;
    for (const cr_cli_cmd *c = cr_cli_commands(); c->name; c++) {
        char tp[100];
        snprintf(tp, sizeof tp, ".TP\n%s%s", c->name, *c->args ? " " : "\n");
        if (c->hidden) {
            CU_ASSERT_PTR_NULL(strstr(man, c->name));
            continue;
        }
        n++;
        if (!strstr(man, tp)) {
            fprintf(stderr, "chaosrun.1 does not list the command %s\n",
                    c->name);
            CU_FAIL("the man page misses a command");
        }
    }
    CU_ASSERT(n >= 10);
}

static void test_cli_man_sections_and_version(void)
{
    char th[100];
    snprintf(th, sizeof th, "\"chaosrun %s\"", CR_VERSION);
    CU_ASSERT_PTR_NOT_NULL(strstr(man, ".TH CHAOSRUN \"1\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(man, th));
    static const char *const sections[] = {
        ".SH NAME",  ".SH SYNOPSIS", ".SH DESCRIPTION",  ".SH ENVIRONMENT",
        ".SH FILES", ".SH EXAMPLES", ".SH \"SEE ALSO\"",
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (!strstr(man, sections[i])) {
            fprintf(stderr, "chaosrun.1 has no %s\n", sections[i]);
            CU_FAIL("a section is missing");
        }
    CU_ASSERT_PTR_NOT_NULL(strstr(man, "Exit status: 0 every expectation"));
    CU_ASSERT_PTR_NOT_NULL(strstr(man, "\\-\\-color"));
}

/* groff renders it without warnings (-ww: all of them). */
static void test_cli_man_renders(void)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z %s 2>&1 | head -5",
             cr_test_bin("../man/chaosrun.1"));
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char out[1024];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    if (n)
        fprintf(stderr, "groff: %s\n", out);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(rc, 0);
}

void cr_test_register(void)
{
    load();
    CU_pSuite s = CU_add_suite("cli_man", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_cli_man_lists_every_command);
    CR_ADD_TEST(s, test_cli_man_sections_and_version);
    CR_ADD_TEST(s, test_cli_man_renders);
}
