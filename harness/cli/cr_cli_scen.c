/* cr_cli_scen: `chaosrun validate` and `chaosrun list`, and the loading
 * of a scenario that every sub-command shares. */
#include "cr_cli.h"

#include "scenario/cr_kinds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cr_cli_load(const char *file, cr_scen **sc)
{
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load(file, sc, &d, &err);
    if (rc != 0) {
        if (d.n)
            cr_diags_print(&d, stderr);
        else
            fprintf(stderr, "chaosrun: %s\n", err.msg);
        cr_diags_free(&d);
        return cr_err_exit_status(rc);
    }
    cr_diags_free(&d);
    return 0;
}

int cr_cli_validate(int argc, char **argv)
{
    int worst = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: chaosrun validate SCENARIO.json...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: chaosrun validate SCENARIO.json...\n"
                   "Checks syntax, types, ranges, references and cross-field\n"
                   "rules; prints every problem as FILE:LINE:COLUMN: message;\n"
                   "exit 0 when all are valid, 2 otherwise.\n");
            return 0;
        }
        cr_scen *sc = NULL;
        int rc = cr_cli_load(argv[i], &sc);
        if (rc == 0)
            printf("%s: ok\n", argv[i]);
        if (rc > worst)
            worst = rc;
        cr_scen_free(sc);
    }
    return worst;
}

static void print_params(const cr_param *p)
{
    for (; p && p->name; p++)
        printf("      %-18s %-14s %-12s %s\n", p->name, p->type,
               p->dflt ? p->dflt : "(required)", p->doc);
}

int cr_cli_list(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    if (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
        printf("usage: chaosrun list [faults|probes|checks|scenario]\n"
               "Every fault kind, probe kind and checker with its keys: type,\n"
               "default (or \"required\") and meaning, then the keys of the\n"
               "scenario's own objects (top level, services, readiness,\n"
               "targets, triggers); the same tables the\n"
               "loader validates scenarios against.  A fault kind that needs\n"
               "something of the machine says so (\"requires:\"); without it\n"
               "a run exits 3 with the reason.\n");
        return 0;
    }
    int all = strcmp(what, "all") == 0;
    if (!all && strcmp(what, "faults") && strcmp(what, "probes") &&
        strcmp(what, "checks") && strcmp(what, "scenario")) {
        fprintf(stderr,
                "usage: chaosrun list [faults|probes|checks|scenario]\n");
        return 2;
    }
    if (all || strcmp(what, "faults") == 0) {
        printf("FAULT KINDS (keys every fault takes:)\n");
        print_params(cr_fault_common_params);
        for (const cr_fault_ops *const *f = cr_fault_all(); *f; f++) {
            printf("\n  %s — %s\n", (*f)->kind, (*f)->summary);
            if ((*f)->requires)
                printf("    requires: %s\n", (*f)->requires);
            print_params((*f)->params);
        }
        printf("\n");
    }
    if (all || strcmp(what, "probes") == 0) {
        printf("PROBE KINDS (keys every probe takes:)\n");
        print_params(cr_probe_common_params);
        for (const cr_probe_ops *const *p = cr_probe_all(); *p; p++) {
            printf("\n  %s — %s\n", (*p)->kind, (*p)->summary);
            print_params((*p)->params);
        }
        printf("\n");
    }
    if (all || strcmp(what, "checks") == 0) {
        printf("EXPECTATIONS (keys every expectation takes:)\n");
        print_params(cr_expect_common_params);
        for (const cr_check_ops *const *c = cr_check_all(); *c; c++) {
            printf("\n  %s — %s\n", (*c)->kind, (*c)->summary);
            print_params((*c)->params);
        }
        printf("\n");
    }
    if (all || strcmp(what, "scenario") == 0) {
        printf("SCENARIO KEYS (scenarios/README.md)\n");
        for (const cr_scen_keyset *k = cr_scen_keysets(); k->where; k++) {
            printf("\n  %s\n", k->where);
            print_params(k->params);
        }
    }
    return 0;
}

int cr_cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}
