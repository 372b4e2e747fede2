/* fuzz_event: libFuzzer target for the event-line parser.
 *
 * Each input is the text of an events file: every line goes through
 * cr_history_add_line(), then the history is sorted, every event rendered
 * and matched against a pattern with a `where` clause.  Oracles besides
 * the sanitizers: the streaming reader keeps exactly the lines jansson
 * keeps (an object with a finite numeric ts and a string ev), and a kept
 * event reads back as the object jansson read.  See tests/fuzz/README.md. */
#include <math.h>
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

/* jansson's reading of the line, ts made a real as the history keeps it;
 * NULL when jansson would not keep the line. */
static json_t *jansson_event(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    json_t *o = json_loadb(s, len, JSON_DECODE_ANY, NULL);
    const json_t *ts = json_object_get(o, "ts");
    if (!json_is_object(o) || !json_is_number(ts) ||
        !isfinite(json_number_value(ts)) ||
        !json_is_string(json_object_get(o, "ev"))) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "ts", json_real(json_number_value(ts)));
    return o;
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
        size_t before = h.n;
        int r = cr_history_add_line(&h, s, len);
        if (r != 0 && r != 1 && r != CR_ENOMEM)
            abort();
        /* A NUL byte between tokens: jansson's stream buffer skips some
         * (a quirk: NUL is its "buffer empty" mark); ours refuses the
         * line.  No oracle for those. */
        json_t *want = memchr(s, '\0', len) ? NULL : jansson_event(s, len);
        if (!memchr(s, '\0', len) && (r == 1) != (want != NULL))
            abort(); /* kept by one reader, refused by the other */
        if (r == 1) {
            json_t *got = cr_event_to_json(&h.v[before]);
            if (!got || !json_equal(got, want))
                abort(); /* read back differently */
            json_decref(got);
        }
        json_decref(want);
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
