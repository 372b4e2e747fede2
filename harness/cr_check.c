/* cr_check: the helpers every checker uses to build its cr_result
 * (verdict, one-sentence summary, evidence lines, details). */
#include "cr_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cr_alloc.h"

#define CR_EVIDENCE_MAX 50

const char *cr_verdict_name(cr_verdict v)
{
    switch (v) {
    case CR_VERDICT_PASSED:
        return "passed";
    case CR_VERDICT_FAILED:
        return "failed";
    case CR_VERDICT_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}

void cr_result_init(cr_result *res)
{
    memset(res, 0, sizeof *res);
    res->verdict = CR_VERDICT_UNKNOWN;
    res->evidence = json_array();
    res->details = json_object();
}

void cr_result_free(cr_result *res)
{
    if (!res)
        return;
    json_decref(res->evidence);
    json_decref(res->details);
    res->evidence = NULL;
    res->details = NULL;
}

/* Evidence is best effort: an allocation failure loses a line, never the
 * verdict. */
static void evidence_add(cr_result *res, double t, const char *text)
{
    if (!res->evidence || !res->details)
        return;
    if (json_array_size(res->evidence) >= CR_EVIDENCE_MAX) {
        json_t *o = json_object_get(res->details, "evidence_omitted");
        json_int_t k = o ? json_integer_value(o) : 0;
        json_object_set_new(res->details, "evidence_omitted",
                            json_integer(k + 1));
        return;
    }
    json_array_append_new(res->evidence,
                          json_pack("{s:f,s:s}", "t", t, "text", text));
}

void cr_result_evidence(cr_result *res, double t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    evidence_add(res, t, buf);
}

void cr_result_evidence_event(cr_result *res, const cr_event *e,
                              const char *why)
{
    char line[384], buf[512];
    cr_event_format(e, line, sizeof line);
    if (why && *why)
        snprintf(buf, sizeof buf, "%s: %s", why, line);
    else
        snprintf(buf, sizeof buf, "%s", line);
    evidence_add(res, e->t, buf);
}

void cr_result_set(cr_result *res, cr_verdict v, const char *fmt, ...)
{
    res->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->summary, sizeof res->summary, fmt, ap);
    va_end(ap);
}
