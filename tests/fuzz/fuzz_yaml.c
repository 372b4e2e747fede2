/* fuzz_yaml: libFuzzer target for YAML scenarios (cr_yaml.c behind
 * cr_scen_load_buffer()).
 *
 * Each input is a YAML scenario document: the same contract as fuzz_scen
 * (0 or a negative code, never a crash, leak or read out of bounds; a
 * loaded scenario prints its timeline), plus: every diagnostic of a YAML
 * document has a position (line and column >= 1), and the loader never
 * builds more JSON than the text could spell out (no alias expansion).
 * See tests/fuzz/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cr_alloc.h"
#include "scenario/cr_scen.h"
#include "scenario/cr_yaml.h"

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

/* Values in the document: no more than the text has bytes (+1 for the
 * empty document's null). */
static size_t count(const json_t *v)
{
    size_t n = 1;
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v))
        json_object_foreach ((json_t *)v, k, x)
            n += count(x);
    else if (json_is_array(v))
        json_array_foreach (v, i, x)
            n += count(x);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL;
    cr_jpos *pos = NULL;
    cr_yaml_error ye;
    int rc = cr_yaml_load((const char *)data, size, &root, &pos, &ye);
    if (rc > 0 || (rc == 0) != (root != NULL) || (rc == 0) != (pos != NULL))
        abort();
    if (rc == CR_EINVAL && (ye.line < 1 || ye.col < 1 || !ye.text[0]))
        abort(); /* a refusal always says where and why */
    if (root && count(root) > size + 1)
        abort();
    json_decref(root);
    cr_jpos_free(pos);

    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    rc = cr_scen_load_buffer("fuzz.yaml", (const char *)data, size, &sc, &d,
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
