/* main: the chaosrun command line.  Everything is in cli/: the command
 * table and dispatch (cli/cr_cli_main.c), each sub-command a main of its
 * own (see cli/cr_cli.h for the exit statuses). */
#include "base/cr_alloc.h"
#include "cli/cr_cli.h"

int main(int argc, char **argv)
{
    cr_alloc_install_json();
    return cr_cli_main(argc, argv);
}
