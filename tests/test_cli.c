/* Tests of the command line's pieces that are pure functions: the command
 * table against the usage text and README.md, and the colour decision
 * (--color, NO_COLOR, TERM) on a real pseudo-terminal. */
#include "cli/cr_cli.h"
#include "cli/cr_cli_internal.h"
#include "cr_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The usage text, captured. */
static char usage_buf[16384];

static const char *usage_text(void)
{
    FILE *fp = fmemopen(usage_buf, sizeof usage_buf - 1, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    cr_cli_usage(fp);
    fclose(fp);
    return usage_buf;
}

/* Every visible command has a line "  NAME ARGS  SUMMARY" in the usage's
 * Commands block; the hidden janitor has none. */
static void test_cli_usage_lists_every_command(void)
{
    const char *u = usage_text();
    const char *blk = strstr(u, "\nCommands");
    CU_ASSERT_PTR_NOT_NULL_FATAL(blk);
    size_t n = 0;
    for (const cr_cli_cmd *c = cr_cli_commands(); c->name; c++) {
        char line[200];
        snprintf(line, sizeof line, "\n  %s ", c->name);
        if (c->hidden) {
            CU_ASSERT_PTR_NULL(strstr(u, c->name));
            continue;
        }
        n++;
        if (!strstr(blk, line) || !strstr(blk, c->summary)) {
            fprintf(stderr, "usage text lacks the command %s\n", c->name);
            CU_FAIL("a command is missing from the usage text");
        }
        CU_ASSERT(*c->summary != '\0');
    }
    CU_ASSERT(n >= 10);
}

/* README.md names every visible command in a `chaosrun NAME` example. */
static void test_cli_readme_names_every_command(void)
{
    FILE *fp = fopen(cr_test_src("README.md"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static char text[1 << 18];
    size_t len = fread(text, 1, sizeof text - 1, fp);
    text[len] = '\0';
    fclose(fp);
    for (const cr_cli_cmd *c = cr_cli_commands(); c->name; c++) {
        char w[100];
        snprintf(w, sizeof w, "chaosrun %s", c->name);
        if (c->hidden || !strcmp(c->name, "run") || !strcmp(c->name, "help"))
            continue;
        if (!strstr(text, w)) {
            fprintf(stderr, "README.md never shows `%s`\n", w);
            CU_FAIL("README.md misses a command");
        }
    }
}

static void test_cli_color_parse(void)
{
    CU_ASSERT_EQUAL(cr_cli__color_parse("auto"), CR_COLOR_AUTO);
    CU_ASSERT_EQUAL(cr_cli__color_parse("always"), CR_COLOR_ALWAYS);
    CU_ASSERT_EQUAL(cr_cli__color_parse("never"), CR_COLOR_NEVER);
    CU_ASSERT_EQUAL(cr_cli__color_parse("yes"), -1);
    CU_ASSERT_EQUAL(cr_cli__color_parse(""), -1);
    CU_ASSERT_EQUAL(cr_cli__color_parse(NULL), -1);
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(0, "red"), "");
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(1, "red"), "\033[31m");
    CU_ASSERT_STRING_EQUAL(cr_cli__sgr(1, "nonsense"), "");
}

/* auto: a terminal, NO_COLOR unset or empty, TERM not dumb. */
static void test_cli_color_auto(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        CU_FAIL("no pseudo-terminal");
        return;
    }
    int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    CU_ASSERT_FATAL(s >= 0);
    FILE *tty = fdopen(s, "w");
    FILE *file = tmpfile();
    CU_ASSERT_FATAL(tty && file);
    unsetenv("NO_COLOR");
    setenv("TERM", "xterm", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, file), 0);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_ALWAYS, file), 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_NEVER, tty), 0);
    setenv("NO_COLOR", "", 1); /* empty: as if unset (no-color.org) */
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    setenv("NO_COLOR", "1", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 0);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_ALWAYS, tty), 1);
    unsetenv("NO_COLOR");
    setenv("TERM", "dumb", 1);
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 0);
    unsetenv("TERM");
    CU_ASSERT_EQUAL(cr_cli__color_on(CR_COLOR_AUTO, tty), 1);
    fclose(tty);
    fclose(file);
    close(m);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_cli_usage_lists_every_command);
    CR_ADD_TEST(s, test_cli_readme_names_every_command);
    CR_ADD_TEST(s, test_cli_color_parse);
    CR_ADD_TEST(s, test_cli_color_auto);
}
