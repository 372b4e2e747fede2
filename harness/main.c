/* main: the chaosrun command line, dispatch only: each sub-command is a
 * main of its own in cli/ (see cli/cr_cli.h for the exit statuses). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cli/cr_cli.h"

/* Sub-commands.  `curl`: the command may make HTTP requests (probes,
 * scrapes), so libcurl is initialised first. */
static const struct {
    const char *name;
    int (*main)(int argc, char **argv);
    int curl;
} commands[] = {
    {"run", cr_cli_run, 1},
    {"suite", cr_cli_suite, 1},
    {"validate", cr_cli_validate, 0},
    {"list", cr_cli_list, 0},
    {"report", cr_cli_report, 0},
    {"proxy", cr_cli_proxy, 0},
    {"cleanup", cr_cli_cleanup, 0},
    /* Hidden: the janitor the engine starts for each run. */
    {"__janitor", cr_cli_janitor, 0},
};

static int dispatch(int (*fn)(int, char **), int curl, int argc, char **argv)
{
    if (curl && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "chaosrun: libcurl initialisation failed\n");
        return 4;
    }
    int rc = fn(argc, argv);
    if (curl)
        curl_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    cr_alloc_install_json();
    if (argc < 2) {
        cr_cli_usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return dispatch(commands[i].main, commands[i].curl, argc - 1,
                            argv + 1);
    /* `chaosrun [OPTIONS] SCENARIO...` */
    return dispatch(cr_cli_run, 1, argc, argv);
}
