/* cr_cli_main: the command table and the dispatch of `chaosrun`: which
 * sub-command a command line names, `--version` anywhere, `chaosrun help
 * [COMMAND]`, `chaosrun version`, and what an unknown word gets.  The
 * table is the one list of sub-commands: the usage text prints it and
 * tests/test_cli.c holds the man page and README.md to it. */
#include "cr_cli.h"

#include "base/cr_path.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int cli_help(int argc, char **argv);
static int cli_version(int argc, char **argv);

/* `curl`: the command may make HTTP requests (probes, scrapes), so libcurl
 * is initialised first. */
static const cr_cli_cmd commands[] = {
    {"run", "[OPTIONS] SCENARIO...", "run scenarios (the default command)",
     cr_cli_run, 1, 0},
    {"suite", "[OPTIONS] DIR...",
     "every DIR/*.json (or .yaml) as one suite: junit.xml + index.html",
     cr_cli_suite, 1, 0},
    {"shrink", "RUN_DIR [OPTIONS]",
     "make a failed run's fault schedule minimal", cr_cli_shrink, 1, 0},
    {"explore", "--budget D [-j J] SCENARIO",
     "draw fault schedules from a fault space until one fails", cr_cli_explore,
     1, 0},
    {"validate", "SCENARIO...", "check scenarios, run nothing", cr_cli_validate,
     0, 0},
    {"list", "[faults|probes|checks]", "every kind with its parameters",
     cr_cli_list, 0, 0},
    {"init", "[--example] [--force] [DIR]",
     "write a starter scenario (and a README) into DIR", cr_cli_init, 0, 0},
    {"report", "RUN_DIR | --compare OLD NEW",
     "regenerate a run's reports, compare two runs", cr_cli_report, 0, 0},
    {"proxy", "--listen ADDR --upstream ADDR", "the TCP fault proxy",
     cr_cli_proxy, 0, 0},
    {"cleanup", "[--dry-run] [RUN_DIR...]", "undo what dead runs left behind",
     cr_cli_cleanup, 0, 0},
    {"version", "", "the version and where the helper programs are",
     cli_version, 0, 0},
    {"help", "[COMMAND]", "this text, or a command's own", cli_help, 0, 0},
    /* Hidden: the janitor the engine starts for each run. */
    {"__janitor", "LEDGER INDEX", "", cr_cli_janitor, 0, 1},
    {NULL, NULL, NULL, NULL, 0, 0},
};

const cr_cli_cmd *cr_cli_commands(void)
{
    return commands;
}

static const cr_cli_cmd *find(const char *name)
{
    for (const cr_cli_cmd *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cr_cli_usage_commands(FILE *fp)
{
    fprintf(fp, "Commands (chaosrun COMMAND --help for each):\n");
    for (const cr_cli_cmd *c = commands; c->name; c++) {
        char head[80];
        if (c->hidden)
            continue;
        snprintf(head, sizeof head, "%s %s", c->name, c->args);
        fprintf(fp, "  %-36s %s\n", head, c->summary);
    }
}

void cr_cli_print_version(FILE *fp)
{
    fprintf(fp, "chaosrun %s\n", CR_VERSION);
}

static int cli_version(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
        fprintf(stderr, "usage: chaosrun version\n");
        return 2;
    }
    if (argc > 1) {
        printf("usage: chaosrun version\n"
               "The version, the directory of helper programs\n"
               "(CHAOSRUN_BINDIR) and of libfiu's preload libraries.\n");
        return 0;
    }
    cr_cli_print_version(stdout);
    cr_path_helper_dir(dir, sizeof dir);
    printf("helpers: %s\n", dir);
    printf("libfiu: %s\n", CR_FIU_DIR);
    return 0;
}

static int dispatch(const cr_cli_cmd *c, int argc, char **argv)
{
    if (c->curl && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "chaosrun: libcurl initialisation failed\n");
        return 4;
    }
    int rc = c->main(argc, argv);
    if (c->curl)
        curl_global_cleanup();
    return rc;
}

/* `chaosrun help [COMMAND]` is `chaosrun [COMMAND] --help`. */
static int cli_help(int argc, char **argv)
{
    static char help_opt[] = "--help";
    if (argc < 2 || strcmp(argv[1], "help") == 0) {
        cr_cli_usage(stdout);
        return 0;
    }
    const cr_cli_cmd *c = find(argv[1]);
    if (!c || c->hidden) {
        fprintf(stderr, "chaosrun help: no command '%s'\n", argv[1]);
        return 2;
    }
    char *av[] = {argv[1], help_opt, NULL};
    return c->main(2, av);
}

/* Does the word name a scenario (rather than a mistyped command)? */
static int scenario_word(const char *w)
{
    struct stat st;
    size_t n = strlen(w);
    static const char *const ext[] = {".json", ".yaml", ".yml"};
    if (stat(w, &st) == 0)
        return 1;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);
        if (n > k && strcmp(w + n - k, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static int unknown_command(const char *w)
{
    const char *best = NULL;
    int bd = 3;
    for (const cr_cli_cmd *c = commands; c->name; c++) {
        int d = c->hidden ? 99 : cr_levenshtein(w, c->name);
        if (d < bd) {
            bd = d;
            best = c->name;
        }
    }
    fprintf(stderr,
            "chaosrun: '%s' is neither a command nor a scenario file%s%s%s\n",
            w, best ? " (did you mean '" : "", best ? best : "",
            best ? "'?)" : "");
    fprintf(stderr, "commands:");
    for (const cr_cli_cmd *c = commands; c->name; c++)
        if (!c->hidden)
            fprintf(stderr, " %s", c->name);
    fprintf(stderr, "\nrun a scenario: chaosrun FILE.json; more: chaosrun "
                    "--help\n");
    return 2;
}

int cr_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        cr_cli_usage(stderr);
        return 2;
    }
    /* --version anywhere before "--", for every command. */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--version") == 0) {
            cr_cli_print_version(stdout);
            return 0;
        }
    const cr_cli_cmd *c = find(argv[1]);
    if (c)
        return dispatch(c, argc - 1, argv + 1);
    if (argv[1][0] != '-' && !scenario_word(argv[1]))
        return unknown_command(argv[1]);
    /* `chaosrun [OPTIONS] SCENARIO...` */
    return dispatch(find("run"), argc, argv);
}
