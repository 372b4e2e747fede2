/* fuzz_event: libFuzzer target for the event-line parser.
 *
 * Each input is the text of an events file: every line goes through
 * cr_history_add_line(), then the history is sorted, every event rendered
 * and matched against a pattern with a `where` clause.  See
 * tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "events/cr_event.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cr_match g_match;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cr_alloc_install_json();
    g_match.ev = "retry";
    g_match.svc = "worker.1";
    g_match.where = json_pack("{s:s, s:i, s:b, s:n}", "op", "fetch", "attempt",
                              3, "ok", 1, "error");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cr_history h;
    const char *s = (const char *)data, *end = s + size;
    char buf[512];
    cr_history_init(&h, 1700000000.0);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        int r = cr_history_add_line(&h, s, len);
        if (r != 0 && r != 1 && r != CR_ENOMEM)
            abort();
        s += len;
    }
    cr_history_sort(&h);
    for (size_t i = 0; i < h.n; i++) {
        const cr_event *e = &h.v[i];
        if (!e->ev)
            abort(); /* a kept event always has a name */
        cr_event_format(e, buf, sizeof buf);
        if (strlen(buf) >= sizeof buf)
            abort();
        (void)cr_match_event(&g_match, e);
        (void)cr_event_str(e, "op");
        (void)cr_event_num(e, "latency_ms");
        (void)cr_event_has(e, "trace_id");
    }
    cr_history_free(&h);
    return 0;
}
