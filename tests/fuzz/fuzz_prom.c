/* fuzz_prom: libFuzzer target for the Prometheus text parser.
 *
 * Each input is an exposition: cr_prom_parse() must return 0 with an
 * object of samples, or an error with none; every sample's value must read
 * back through cr_prom_value().  See tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "checks/cr_prom.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cr_alloc_install_json();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser reads a C string: an exact-size copy, so that ASan sees
     * any read past its end. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *samples = NULL;
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_prom_parse(text, &samples, &err);
    if ((rc == 0) != (samples != NULL) || (rc != 0 && err.code == 0))
        abort();
    const char *k;
    json_t *v;
    json_object_foreach (samples, k, v) {
        if (!json_is_number(v) && !json_is_string(v))
            abort();
        (void)cr_prom_value(v);
    }
    json_decref(samples);
    free(text);
    return 0;
}
