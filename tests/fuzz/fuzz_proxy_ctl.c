/* fuzz_proxy_ctl: libFuzzer target for the fault proxy's control lines.
 *
 * Each input is a control session: a fresh proxy with one link "e" (an
 * ephemeral loopback port), every line run through cr_proxy_command()
 * (which parses toxics with cr_proxy_toxic_parse_kv), each reply checked
 * to be one line of "ok ...", "err ..." or a JSON object that parses.
 * "link add" lines are skipped: they would bind ports the fuzzer picks,
 * and other tests on the machine use fixed ports.  See
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "proxy/cr_proxy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cr_alloc_install_json();
    return 0;
}

/* 1 when the line's first word (as the parser splits it) is "link". */
static int is_link_cmd(const char *line)
{
    line += strspn(line, " \t");
    return strncmp(line, "link", 4) == 0 &&
           (line[4] == '\0' || line[4] == ' ' || line[4] == '\t');
}

static void check_reply(const char *r)
{
    if (!r)
        return; /* out of memory: the channel answers "err out of memory" */
    if (strchr(r, '\n'))
        abort(); /* one reply, one line */
    if (r[0] == '{') {
        json_error_t je;
        json_t *j = json_loads(r, 0, &je);
        if (!j)
            abort();
        json_decref(j);
    } else if (strncmp(r, "ok", 2) != 0 && strncmp(r, "err ", 4) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cr_proxy *p = NULL;
    cr_err err;
    cr_err_clear(&err);
    if (cr_proxy_create(1, &p, &err) < 0 ||
        cr_proxy_link_add(p, "e", "127.0.0.1:0", "127.0.0.1:1", &err) < 0) {
        cr_proxy_destroy(p);
        return 0;
    }
    char *text = malloc(size + 1);
    if (!text) {
        cr_proxy_destroy(p);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (is_link_cmd(line))
            continue;
        char *r = cr_proxy_command(p, line);
        check_reply(r);
        cr_free(r);
    }
    free(text);
    cr_proxy_destroy(p);
    return 0;
}
