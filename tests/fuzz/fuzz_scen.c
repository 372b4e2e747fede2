/* fuzz_scen: libFuzzer target for the scenario loader.
 *
 * Each input is a scenario document: cr_scen_load_buffer() must return 0
 * or a negative code, never crash, leak or read out of bounds; a loaded
 * scenario must also print its timeline and turn it into JSON.  See
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *g_null;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cr_alloc_install_json();
    g_null = fopen("/dev/null", "we");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("fuzz.json", (const char *)data, size, &sc, &d,
                                 &err);
    if (rc > 0 || (rc == 0) != (sc != NULL))
        abort(); /* the contract of cr_scen_load_buffer */
    if (rc == CR_EINVAL && d.n == 0)
        abort(); /* an invalid document always says why */
    if (d.n > CR_SCEN_MAX_DIAGS + 1)
        abort();
    if (g_null)
        cr_diags_print(&d, g_null);
    if (sc) {
        if (g_null)
            cr_scen_print_timeline(sc, g_null);
        json_decref(cr_scen_timeline_json(sc));
    }
    cr_scen_free(sc);
    cr_diags_free(&d);
    return 0;
}
