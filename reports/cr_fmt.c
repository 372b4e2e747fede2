/* cr_fmt: the shared wording of the report writers (see cr_fmt.h). */
#include "cr_fmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cr_report_internal.h"

/* ---- verdicts --------------------------------------------------------- */

static const cr_fmt_verdict verdicts[] = {
    {"passed", "\xE2\x9C\x94", "\xE2\x9C\x85 passed", "passed", 4},
    {"failed", "\xE2\x9C\x96", "\xE2\x9D\x8C failed", "failed", 3},
    {"interrupted", "\xE2\x9A\xA0", "\xE2\x9A\xA0\xEF\xB8\x8F interrupted",
     "interrupted", 2},
    {"unrunnable", "\xE2\x9A\xA0", "\xE2\x9B\x94 unrunnable", "unrunnable", 1},
    /* The system under test did not start (exit 5): red, like a failure. */
    {"startup_failed", "\xE2\x9C\x96", "\xE2\x9D\x8C did not start", "failed",
     1},
    /* The before-probes never held (exit 5): nothing was judged. */
    {"aborted", "\xE2\x9C\x96", "\xE2\x9D\x8C aborted (no steady state)",
     "failed", 1},
    {"error", "\xE2\x9C\x96", "\xF0\x9F\x92\xA5 error", "error", 0},
    /* Last: the entry for every word the table does not know.  Unknown
     * statuses sort with the worst. */
    {"unknown", "?", "\xE2\x9D\x94 unknown", "unknown", 0},
};

const cr_fmt_verdict *cr_fmt_verdict_of(const char *word)
{
    const size_t n = sizeof verdicts / sizeof verdicts[0];
    for (size_t i = 0; word && i < n - 1; i++)
        if (!strcmp(word, verdicts[i].word))
            return &verdicts[i];
    return &verdicts[n - 1];
}

/* ---- numbers and times ------------------------------------------------ */

void cr_fmt_dur(char *buf, size_t n, double s)
{
    if (isnan(s))
        snprintf(buf, n, "n/a");
    else if (fabs(s) < 1)
        snprintf(buf, n, "%.0f ms", s * 1000);
    else if (fabs(s) < 10)
        snprintf(buf, n, "%.2f s", s);
    else if (fabs(s) < 120)
        snprintf(buf, n, "%.1f s", s);
    else
        snprintf(buf, n, "%d min %d s", (int)(s / 60), (int)fmod(s, 60));
}

void cr_fmt_measured(char *buf, size_t n, double v, const char *unit)
{
    const char *u = unit ? unit : "";
    if (isnan(v)) {
        snprintf(buf, n, "n/a");
        return;
    }
    if (!strcmp(u, "s")) {
        cr_fmt_dur(buf, n, v);
        return;
    }
    if ((v == floor(v) || fabs(v) >= 100) && fabs(v) < 1e15)
        snprintf(buf, n, "%.0f%s%s", v, *u ? " " : "", u);
    else
        snprintf(buf, n, "%.3g%s%s", v, *u ? " " : "", u);
}

void cr_fmt_expect_measured(char *buf, size_t n, const cr_rep_expect *x)
{
    if (x && x->has_measured)
        cr_fmt_measured(buf, n, x->measured, x->unit);
    else
        snprintf(buf, n, "\xE2\x80\x94");
}

static int utc_tm(double unix_t, struct tm *tm)
{
    time_t t = (time_t)unix_t;
    return !isnan(unix_t) && gmtime_r(&t, tm) != NULL;
}

void cr_fmt_utc(char *buf, size_t n, double unix_t)
{
    struct tm tm;
    if (!utc_tm(unix_t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, n, "%s", "");
}

void cr_fmt_iso(char *buf, size_t n, double unix_t)
{
    struct tm tm;
    if (!utc_tm(unix_t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf(buf, n, "1970-01-01T00:00:00");
}

const char *cr_fmt_s(size_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- bounds ----------------------------------------------------------- */

static const struct {
    const char *op, *pretty;
    int better;
} bound_ops[] = {
    /* two-character operators first, so "<=" is not read as "<" */
    {"<=", "\xE2\x89\xA4", -1},
    {">=", "\xE2\x89\xA5", 1},
    {"==", "=", 0},
    {"!=", "\xE2\x89\xA0", 0},
    {"<", "<", -1},
    {">", ">", 1},
};

int cr_fmt_bound_parse(const char *bound, cr_fmt_bound *b)
{
    memset(b, 0, sizeof *b);
    b->value = NAN;
    const char *p = bound ? bound + strspn(bound, " ") : "";
    for (size_t i = 0; i < sizeof bound_ops / sizeof bound_ops[0]; i++) {
        size_t k = strlen(bound_ops[i].op);
        if (strncmp(p, bound_ops[i].op, k))
            continue;
        snprintf(b->op, sizeof b->op, "%s", bound_ops[i].op);
        b->better = bound_ops[i].better;
        char *end;
        double v = strtod(p + k, &end);
        if (end != p + k)
            b->value = v;
        return 0;
    }
    return -1;
}

void cr_fmt_bound_pretty(char *buf, size_t n, const char *bound)
{
    const char *p = bound ? bound + strspn(bound, " ") : "";
    for (size_t i = 0; i < sizeof bound_ops / sizeof bound_ops[0]; i++) {
        size_t k = strlen(bound_ops[i].op);
        if (!strncmp(p, bound_ops[i].op, k)) {
            snprintf(buf, n, "%s%s", bound_ops[i].pretty, p + k);
            return;
        }
    }
    snprintf(buf, n, "%s", p);
}

/* ---- faults, seed, machine -------------------------------------------- */

void cr_fmt_fault_name(char *buf, size_t n, const cr_rep_fault *f)
{
    if (f->occurrence > 0)
        snprintf(buf, n, "%s #%d", f->name, f->occurrence + 1);
    else
        snprintf(buf, n, "%s", f->name);
}

void cr_fmt_fault_lasted(char *buf, size_t n, const cr_rep_fault *f)
{
    char d[32];
    if (f->instant) {
        snprintf(buf, n, "instant");
        return;
    }
    cr_fmt_dur(d, sizeof d, f->end - f->start);
    snprintf(buf, n, "%s%s", d, f->open ? " (never reverted)" : "");
}

void cr_fmt_fault_line(char *buf, size_t n, const cr_rep_fault *f)
{
    snprintf(buf, n, "%s (%s) on %s at %.2f s", f->name, f->kind,
             *f->target ? f->target : "-", f->start);
}

void cr_fmt_fault_verb(char *buf, size_t n, const char *kind)
{
    static const char *const verbs[][2] = {
        {"kill", "killed"},       {"pause", "paused"},
        {"restart", "restarted"}, {"stop", "stopped"},
        {"signal", "signalled"},  {"terminate", "terminated"},
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (kind && !strcmp(kind, verbs[i][0])) {
            snprintf(buf, n, "%s", verbs[i][1]);
            return;
        }
    snprintf(buf, n, "hit by a %s fault", kind && *kind ? kind : "?");
}

void cr_fmt_seed(char *buf, size_t n, const cr_report *r)
{
    if (!r->has_seed)
        snprintf(buf, n, "%s", "");
    else if (r->seed_source)
        snprintf(buf, n, "%llu (%s)", r->seed, r->seed_source);
    else
        snprintf(buf, n, "%llu", r->seed);
}

void cr_fmt_machine(char *buf, size_t n, const json_t *journal)
{
    const json_t *m = json_object_get(journal, "machine");
    const char *host = cr_rep_jstr(m, "hostname");
    const char *kernel = cr_rep_jstr(m, "kernel");
    const json_t *cpus = json_object_get(m, "cpus");
    int k = 0;
    buf[0] = '\0';
    if (!json_is_object(m))
        return;
    k = snprintf(buf, n, "%s", host ? host : "?");
    if (kernel && k >= 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, " \xC2\xB7 Linux %s", kernel);
    if (json_is_integer(cpus) && k >= 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, " \xC2\xB7 %lld CPU%s",
                 (long long)json_integer_value(cpus),
                 cr_fmt_s((size_t)json_integer_value(cpus)));
}
