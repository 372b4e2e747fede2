/* Unit tests of crp_ev: the JSON string escaper and the event writer. */
#include "cr_test.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "crp_ev.h"

/* json_loads of "\"" esc "\"": the decoded string (malloc'd) or NULL. */
static char *decode(const char *esc)
{
    size_t n = strlen(esc);
    char *doc = malloc(n + 3);
    if (!doc)
        return NULL;
    doc[0] = '"';
    memcpy(doc + 1, esc, n);
    doc[n + 1] = '"';
    doc[n + 2] = '\0';
    json_error_t je;
    json_t *v = json_loads(doc, JSON_DECODE_ANY, &je);
    free(doc);
    char *s = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    json_decref(v);
    return s;
}

static void test_crp_ev_esc_specials(void)
{
    char out[256];
    const char *in = "a \"quoted\" back\\slash\nnew\ttab\rcr\x01\x1f\x7f end";
    size_t n = crp_json_esc(out, sizeof out, in);
    CU_ASSERT_EQUAL(n, strlen(out));
    CU_ASSERT_STRING_EQUAL(out,
                           "a \\\"quoted\\\" back\\\\slash\\nnew\\ttab\\rcr"
                           "\\u0001\\u001f\\u007f end");
    char *back = decode(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_STRING_EQUAL(back, in);
    free(back);
}

static void test_crp_ev_esc_utf8(void)
{
    char out[256];
    /* well-formed: kept as is */
    const char *ok = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e";
    crp_json_esc(out, sizeof out, ok);
    CU_ASSERT_STRING_EQUAL(out, ok);
    /* not UTF-8: each bad byte becomes U+FFFD, and the result parses */
    static const struct {
        const char *in, *want;
    } bad[] = {
        {"a\xff"
         "b",
         "a\\ufffdb"},
        {"\x80", "\\ufffd"},                                  /* continuation */
        {"\xe2\x82", "\\ufffd\\ufffd"},                       /* cut short */
        {"\xc0\xaf", "\\ufffd\\ufffd"},                       /* overlong */
        {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},            /* surrogate */
        {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* > U+10FFFF */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crp_json_esc(out, sizeof out, bad[i].in);
        CU_ASSERT_STRING_EQUAL(out, bad[i].want);
        char *back = decode(out);
        CU_ASSERT_PTR_NOT_NULL(back);
        free(back);
    }
}

/* Truncation never cuts an escape or a character in two: every prefix
 * length gives valid JSON string content. */
static void test_crp_ev_esc_truncates_whole(void)
{
    const char *in = "x\"\\\n\x01\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xff";
    char full[128];
    size_t whole = crp_json_esc(full, sizeof full, in);
    for (size_t n = 1; n <= whole + 1; n++) {
        char out[128];
        memset(out, 'Z', sizeof out);
        size_t k = crp_json_esc(out, n, in);
        CU_ASSERT_TRUE(k < n);
        CU_ASSERT_EQUAL(out[k], '\0');
        CU_ASSERT_EQUAL(strncmp(out, full, k), 0); /* a prefix */
        char *back = decode(out);
        CU_ASSERT_PTR_NOT_NULL(back);
        free(back);
    }
    char one[1] = {'Z'};
    CU_ASSERT_EQUAL(crp_json_esc(one, 1, in), 0);
    CU_ASSERT_EQUAL(one[0], '\0');
    CU_ASSERT_EQUAL(crp_json_esc(one, 0, in), 0); /* nothing written */
}

/* An event carrying an escaped reply of a peer (as the worker's retry
 * event carries the feature service's answer) is one valid JSON line. */
static void test_crp_ev_emit_escaped_line(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    crp_ev *e = crp_ev_open(path, "", "worker", "worker.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const char *reply = "error answer: ERR \"bad\" \\ \x01\x02 \xff";
    char esc[400];
    crp_json_esc(esc, sizeof esc, reply);
    CU_ASSERT_EQUAL(
        crp_ev_emit(e, "retry", "\"op\":\"features\",\"error\":\"%s\"", esc),
        0);
    crp_ev_close(e);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[4096];
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_PTR_NULL(fgets(line + 2000, 100, f)); /* one line only */
    fclose(f);
    json_error_t je;
    json_t *v = json_loads(line, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "ev")),
                           "retry");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(v, "error")),
        "error answer: ERR \"bad\" \\ \x01\x02 \xef\xbf\xbd");
    json_decref(v);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Held lines are written only at release, all of them, in order, each a
 * whole JSON line; the time stamps are numbers with microseconds and the
 * span times integral nanoseconds. */
static void test_crp_ev_hold_release(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char ev[512], tr[512], err[256] = "";
    snprintf(ev, sizeof ev, "%s/events.jsonl", dir);
    snprintf(tr, sizeof tr, "%s/traces/s.jsonl", dir);
    crp_ev *e = crp_ev_open(ev, tr, "sink", "sink.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    crp_ev_hold(e, CRP_EV_EVENTS | CRP_EV_SPANS);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(crp_ev_emit(e, "delivered", "\"id\":\"r-%d\"", i), 0);
    CU_ASSERT_EQUAL(
        crp_ev_span(e, "sink.commit", "0123456789abcdef0123456789abcdef",
                    "0123456789abcdef", NULL, 1796400000.25, 1796400000.5, 0),
        0);
    CU_ASSERT_EQUAL(file_size(ev), 0); /* nothing written yet */
    CU_ASSERT_EQUAL(file_size(tr), 0);
    CU_ASSERT_EQUAL(crp_ev_release(e), 3);
    /* not held any more: written at once */
    CU_ASSERT_EQUAL(crp_ev_emit(e, "stopped", NULL), 0);
    long after = file_size(ev);
    CU_ASSERT(after > 0);
    CU_ASSERT_EQUAL(crp_ev_release(e), 0); /* nothing held */
    crp_ev_close(e);
    FILE *f = fopen(ev, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *v = json_loads(line, 0, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        char want[16];
        snprintf(want, sizeof want, "r-%d", n);
        if (n < 3)
            CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "id")),
                                   want);
        CU_ASSERT(json_is_real(json_object_get(v, "ts")));
        const char *dot = strstr(line, "\"ts\":");
        dot = dot ? strchr(dot, '.') : NULL;
        CU_ASSERT(dot && strspn(dot + 1, "0123456789") == 6);
        json_decref(v);
        n++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(n, 4);
    f = fopen(tr, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    fclose(f);
    /* integral nanoseconds (19 digits, within the double's 256 ns) */
    const char *st = strstr(line, "\"startTimeUnixNano\":\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    st += strlen("\"startTimeUnixNano\":\"");
    CU_ASSERT_EQUAL(strspn(st, "0123456789"), 19);
    CU_ASSERT_EQUAL(st[19], '"');
    long long ns = atoll(st);
    CU_ASSERT(ns > 1796400000250000000LL - 512 &&
              ns < 1796400000250000000LL + 512);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* A short write at release (here: a file size limit) writes the first
 * lines whole and tells how many: the sink announces the others again,
 * and none twice. */
static void test_crp_ev_release_short_write(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char ev[512], err[256] = "";
    snprintf(ev, sizeof ev, "%s/events.jsonl", dir);
    crp_ev *e = crp_ev_open(ev, "", "sink", "sink.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    crp_ev_hold(e, CRP_EV_EVENTS);
    for (int i = 0; i < 3; i++)
        crp_ev_emit(e, "delivered", "\"id\":\"r-%d\"", i);
    struct rlimit old, lim;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 150; /* room for the first line (~90 bytes), not two */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int written = crp_ev_release(e);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CU_ASSERT_EQUAL(written, 1);
    CU_ASSERT_EQUAL(file_size(ev), 150); /* the second line is torn */
    crp_ev_close(e);
    /* no event file: held lines are dropped as if written */
    e = crp_ev_open("", "", "sink", "sink.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    crp_ev_hold(e, CRP_EV_EVENTS);
    crp_ev_emit(e, "delivered", "\"id\":\"a\"");
    crp_ev_emit(e, "delivered", "\"id\":\"b\"");
    CU_ASSERT_EQUAL(crp_ev_release(e), 2);
    crp_ev_close(e);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

/* An event whose write fails (a full disk; here a file size limit: EFBIG)
 * is not lost: it is written, with its original time and in order, before
 * the next line once the file takes writes again.  Held lines released
 * while the backlog cannot be written count as not written. */
static void test_crp_ev_backlog_after_failed_write(void)
{
    char *dir = cr_test_tmpdir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char ev[512], err[256] = "";
    snprintf(ev, sizeof ev, "%s/events.jsonl", dir);
    crp_ev *e = crp_ev_open(ev, "", "sink", "sink.0", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(crp_ev_emit(e, "retry", "\"n\":0"), 0);
    long before = file_size(ev);
    struct rlimit old, lim;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)before; /* no room for one more byte */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    CU_ASSERT_EQUAL(crp_ev_emit(e, "retry", "\"n\":1"), 0);
    CU_ASSERT_EQUAL(crp_ev_emit(e, "retry", "\"n\":2"), 0);
    crp_ev_hold(e, CRP_EV_EVENTS);
    crp_ev_emit(e, "delivered", "\"id\":\"held\"");
    CU_ASSERT_EQUAL(crp_ev_release(e), 0); /* behind the backlog */
    CU_ASSERT_EQUAL(file_size(ev), before);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CU_ASSERT_EQUAL(crp_ev_emit(e, "retry", "\"n\":3"), 0);
    crp_ev_close(e);
    FILE *f = fopen(ev, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char want[32];
        snprintf(want, sizeof want, "\"n\":%d}", n);
        CU_ASSERT_PTR_NOT_NULL(strstr(line, want));
        CU_ASSERT_PTR_NULL(strstr(line, "held"));
        n++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_ev", NULL, NULL);
    CR_ADD_TEST(s, test_crp_ev_esc_specials);
    CR_ADD_TEST(s, test_crp_ev_esc_utf8);
    CR_ADD_TEST(s, test_crp_ev_esc_truncates_whole);
    CR_ADD_TEST(s, test_crp_ev_emit_escaped_line);
    CR_ADD_TEST(s, test_crp_ev_hold_release);
    CR_ADD_TEST(s, test_crp_ev_release_short_write);
    CR_ADD_TEST(s, test_crp_ev_backlog_after_failed_write);
}
