/* cr_report_shrink: report.md and report.html of a `chaosrun shrink`
 * output directory (part of the cr_report module, see cr_report.h), read
 * only from that directory: summary.json (the original and the minimal
 * schedule, the counts) and steps.jsonl (one line a candidate).  The
 * report compares the original with the minimal schedule: which faults
 * were removed and how the kept ones changed, duration_s, the wall time
 * of one run of each (measured: a candidate's time over its runs), the
 * failure rates, and what the search cost. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_fmt.h"
#include "cr_html.h"
#include "cr_report.h"
#include "cr_report_internal.h"

/* What the report needs from steps.jsonl. */
typedef struct shrink_steps {
    size_t n, kept;
    size_t tried_phase[5], kept_phase[5]; /* by phase, see PHASES */
    double orig_run_s, min_run_s;         /* wall time of one run; NAN */
    size_t orig_runs, orig_failed;
} shrink_steps;

static const char *const PHASES[] = {"drop", "window", "earlier", "duration",
                                     NULL};

static int phase_index(const char *p)
{
    for (int i = 0; p && PHASES[i]; i++)
        if (!strcmp(PHASES[i], p))
            return i;
    return 4; /* the original, or a phase this version does not know */
}

static int read_steps(const char *dir, shrink_steps *st, cr_err *err)
{
    char *path = cr_asprintf("%s/steps.jsonl", dir);
    FILE *fp = path ? cr_out_fopen_read(path) : NULL;
    char *line = NULL;
    size_t cap = 0;
    *st = (shrink_steps){.orig_run_s = NAN, .min_run_s = NAN};
    if (!fp) {
        int rc = cr_err_sys(err, CR_ENOTFOUND, errno, "reading %s",
                            path ? path : "steps.jsonl");
        cr_free(path);
        return rc;
    }
    while (getline(&line, &cap, fp) > 0) {
        json_t *s = json_loads(line, 0, NULL);
        if (!json_is_object(s)) {
            json_decref(s);
            continue;
        }
        const char *phase = cr_rep_jstr(s, "phase");
        const json_t *runs = json_object_get(s, "runs");
        size_t nr = json_array_size(runs);
        double took = cr_rep_jnum(s, "took_s");
        int still = json_is_true(json_object_get(s, "still_fails"));
        double per = nr && !isnan(took) ? took / (double)nr : NAN;
        if (phase && !strcmp(phase, "original")) {
            st->orig_run_s = per;
            st->orig_runs = nr;
            size_t i;
            json_t *r;
            json_array_foreach (runs, i, r) {
                const char *v = cr_rep_jstr(r, "verdict");
                st->orig_failed += v && !strcmp(v, "failed");
            }
        } else {
            int k = phase_index(phase);
            st->tried_phase[k]++;
            st->kept_phase[k] += still;
        }
        st->n++;
        if (still) {
            st->kept++;
            st->min_run_s = per; /* the last kept candidate is the minimal */
        }
        json_decref(s);
    }
    free(line);
    fclose(fp);
    cr_free(path);
    return 0;
}

static const json_t *by_name(const json_t *faults, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach (faults, i, f) {
        const char *n = cr_rep_jstr(f, "name");
        if (n && name && !strcmp(n, name))
            return f;
    }
    return NULL;
}

/* "3.2 s" or "—". */
static void secs(char *buf, size_t n, double s)
{
    if (isnan(s))
        snprintf(buf, n, "\xE2\x80\x94");
    else
        cr_fmt_dur(buf, n, s);
}

/* One row of the comparison in both outputs. */
static void row(cr_out *md, cr_out *h, const char *what, const char *orig,
                const char *min, const char *change)
{
    cr_out_puts(md, "| ");
    cr_out_md(md, what);
    cr_out_puts(md, " | ");
    cr_out_md(md, orig);
    cr_out_puts(md, " | ");
    cr_out_md(md, min);
    cr_out_puts(md, " | ");
    cr_out_md(md, change);
    cr_out_puts(md, " |\n");
    cr_out_wrap(h, "<tr><td>", what, "</td>");
    cr_out_wrap(h, "<td class=\"num\">", orig, "</td>");
    cr_out_wrap(h, "<td class=\"num\">", min, "</td>");
    cr_out_wrap(h, "<td>", change, "</td></tr>");
}

/* What became of original fault f in the minimal schedule. */
static void fate(const json_t *f, const json_t *minimal, char *buf, size_t n)
{
    const json_t *m = by_name(minimal, cr_rep_jstr(f, "name"));
    if (!m) {
        snprintf(buf, n, "removed");
        return;
    }
    size_t k = (size_t)snprintf(buf, n, "kept");
    const char *keys[] = {"at_s", "for_s"};
    for (int i = 0; i < 2 && k < n; i++) {
        double a = cr_rep_jnum(f, keys[i]), b = cr_rep_jnum(m, keys[i]);
        if (!isnan(a) && !isnan(b) && a != b)
            k += (size_t)snprintf(buf + k, n - k, ", %s %g \xE2\x86\x92 %g",
                                  keys[i], a, b);
    }
}

static void comparison(cr_out *md, cr_out *h, const json_t *sum,
                       const shrink_steps *st)
{
    char a[64], b[64], c[160];
    const json_t *orig = json_object_get(sum, "original");
    const json_t *min = json_object_get(sum, "minimal");
    size_t n0 = json_array_size(orig), n1 = json_array_size(min);
    double d0 = cr_rep_jnum(sum, "duration_before_s");
    double d1 = cr_rep_jnum(sum, "duration_after_s");
    long long rr = json_integer_value(json_object_get(sum, "reruns"));
    long long rf = json_integer_value(json_object_get(sum, "reruns_failed"));
    cr_out_puts(md, "## Original vs minimal\n\n| | original | minimal | "
                    "change |\n|---|---:|---:|---|\n");
    cr_out_puts(h, "<section class=\"card\" id=\"shrink-compare\"><h2>"
                   "Original vs minimal</h2><div class=\"tw\"><table><thead>"
                   "<tr><th></th><th>original</th><th>minimal</th>"
                   "<th>change</th></tr></thead><tbody>");
    snprintf(a, sizeof a, "%zu", n0);
    snprintf(b, sizeof b, "%zu", n1);
    snprintf(c, sizeof c, "%zu removed", n0 > n1 ? n0 - n1 : 0);
    row(md, h, "faults", a, b, c);
    snprintf(a, sizeof a, "%g s", d0);
    snprintf(b, sizeof b, "%g s", d1);
    snprintf(c, sizeof c, "%g s less a run", d0 - d1);
    row(md, h, "duration_s (timeline)", a, b, c);
    secs(a, sizeof a, st->orig_run_s);
    secs(b, sizeof b, st->min_run_s);
    if (!isnan(st->orig_run_s) && !isnan(st->min_run_s) && st->orig_run_s > 0) {
        char d[32];
        cr_fmt_dur(d, sizeof d, fabs(st->orig_run_s - st->min_run_s));
        snprintf(c, sizeof c, "%s %s a run (%.0f %%)", d,
                 st->orig_run_s >= st->min_run_s ? "saved" : "more",
                 100.0 * fabs(st->orig_run_s - st->min_run_s) / st->orig_run_s);
    } else {
        snprintf(c, sizeof c, "not measured");
    }
    row(md, h, "wall time of one run (start-up to stop, measured)", a, b, c);
    snprintf(a, sizeof a, "%zu of %zu runs", st->orig_failed, st->orig_runs);
    if (rr)
        snprintf(b, sizeof b, "%lld of %lld re-runs", rf, rr);
    else
        snprintf(b, sizeof b, "not re-run");
    row(md, h, "failed the expectation", a, b, "");
    cr_out_puts(h, "</tbody></table></div><p class=\"note\">Wall time of one "
                   "run: the candidate's time over its runs (steps.jsonl "
                   "<code>took_s</code>): the original's first step and the "
                   "last candidate kept, which is the minimal schedule.</p>"
                   "</section>");
    cr_out_puts(md, "\nWall time of one run: the candidate's time over its "
                    "runs (steps.jsonl `took_s`), the original's step and the "
                    "last candidate kept (the minimal schedule).\n\n");
}

int cr_report_trigger_text(const json_t *f, char *buf, size_t n)
{
    const json_t *t = json_object_get(f, "on_event");
    const char *ev = t ? cr_rep_jstr(t, "ev") : NULL;
    if (!t && (t = json_object_get(f, "on_ready")))
        ev = "ready";
    if (!t)
        return 0;
    const json_t *c = json_object_get(t, "count");
    const char *svc = cr_rep_jstr(t, "svc");
    double d = cr_rep_jnum(t, "delay_s");
    char after[48] = "";
    if (d > 0) /* (NaN, absent: no delay) */
        snprintf(after, sizeof after, " +%g s", d);
    snprintf(buf, n, "on %s #%lld%s%s%s", ev ? ev : "?",
             c ? (long long)json_integer_value(c) : 1LL, svc ? " of " : "",
             svc ? svc : "", after);
    return 1;
}

static void fault_table(cr_out *md, cr_out *h, const json_t *sum)
{
    const json_t *orig = json_object_get(sum, "original");
    const json_t *min = json_object_get(sum, "minimal");
    cr_out_puts(md, "## Faults\n\n| fault | kind | target | at_s | for_s | "
                    "in the minimal schedule |\n|---|---|---|---:|---:|---|\n");
    cr_out_puts(h, "<section class=\"card\" id=\"shrink-faults\"><h2>Faults"
                   "</h2><div class=\"tw\"><table><thead><tr><th>fault</th>"
                   "<th>kind</th><th>target</th><th>at_s</th><th>for_s</th>"
                   "<th>in the minimal schedule</th></tr></thead><tbody>");
    size_t i;
    json_t *f;
    json_array_foreach (orig, i, f) {
        char at[160], fo[32], what[160];
        const char *tg = cr_rep_jstr(f, "target");
        if (!cr_report_trigger_text(f, at, sizeof at))
            snprintf(at, sizeof at, "%g", cr_rep_jnum(f, "at_s"));
        double fs = cr_rep_jnum(f, "for_s");
        snprintf(fo, sizeof fo, "%g", isnan(fs) ? 0 : fs);
        fate(f, min, what, sizeof what);
        const char *cells[] = {cr_rep_jstr(f, "name"),
                               cr_rep_jstr(f, "kind"),
                               tg ? tg : "",
                               at,
                               fo,
                               what};
        cr_out_puts(md, "|");
        cr_out_puts(h, strncmp(what, "kept", 4) ? "<tr class=\"removed\">"
                                                : "<tr class=\"kept\">");
        for (int k = 0; k < 6; k++) {
            cr_out_puts(md, " ");
            cr_out_md(md, cells[k] ? cells[k] : "");
            cr_out_puts(md, " |");
            cr_out_wrap(h, k == 3 || k == 4 ? "<td class=\"num\">" : "<td>",
                        cells[k] ? cells[k] : "", "</td>");
        }
        cr_out_puts(md, "\n");
        cr_out_puts(h, "</tr>");
    }
    cr_out_puts(h, "</tbody></table></div></section>");
    cr_out_puts(md, "\n");
}

static void search_costs(cr_out *md, cr_out *h, const json_t *sum,
                         const shrink_steps *st)
{
    char wall[32], line[512];
    cr_fmt_dur(wall, sizeof wall, cr_rep_jnum(sum, "wall_s"));
    snprintf(line, sizeof line,
             "%lld candidates (the original included), %lld runs, %lld a "
             "candidate, wall time %s%s.  Tried / kept by phase: drop %zu/%zu, "
             "shorter windows %zu/%zu, earlier starts %zu/%zu, shorter "
             "duration %zu/%zu.",
             json_integer_value(json_object_get(sum, "candidates")),
             json_integer_value(json_object_get(sum, "runs")),
             json_integer_value(json_object_get(sum, "runs_per_candidate")),
             wall,
             json_is_true(json_object_get(sum, "budget_spent"))
                 ? " (budget spent: the smallest schedule so far)"
                 : "",
             st->tried_phase[0], st->kept_phase[0], st->tried_phase[1],
             st->kept_phase[1], st->tried_phase[2], st->kept_phase[2],
             st->tried_phase[3], st->kept_phase[3]);
    cr_out_puts(md, "## Search\n\n");
    cr_out_md(md, line);
    cr_out_puts(md, "\n");
    cr_out_wrap(h,
                "<section class=\"card\" id=\"shrink-search\"><h2>Search"
                "</h2><p>",
                line, "</p></section>");
}

int cr_report_shrink(const char *out_dir, cr_err *err)
{
    cr_out md, h;
    json_t *sum = NULL;
    shrink_steps st;
    char *path = cr_asprintf("%s/summary.json", out_dir);
    int rc;
    cr_out_init(&md);
    cr_out_init(&h);
    FILE *fp = path ? cr_out_fopen_read(path) : NULL;
    if (!fp) {
        rc = cr_err_sys(err, CR_ENOTFOUND, errno, "reading %s",
                        path ? path : "summary.json");
        goto out;
    }
    json_error_t je;
    sum = json_loadf(fp, 0, &je);
    fclose(fp);
    if (!json_is_object(sum)) {
        rc = cr_err_set(err, CR_EPROTO, "%s:%d: %s", path, je.line, je.text);
        goto out;
    }
    if ((rc = read_steps(out_dir, &st, err)) < 0)
        goto out;
    const char *name = cr_rep_jstr(sum, "name");
    const char *expect = cr_rep_jstr(sum, "expect");
    char title[300];
    snprintf(title, sizeof title, "shrink %s \xC2\xB7 chaosrun",
             name ? name : "?");
    cr_html_begin(&h, title);
    cr_out_puts(&h, "<header class=\"top\"><div class=\"in\"><div "
                    "class=\"kicker\">chaosrun shrink</div><h1>");
    cr_out_esc(&h, name ? name : "?");
    cr_out_puts(&h, "</h1><p class=\"desc\">The smallest schedule found that "
                    "still fails <b>");
    cr_out_esc(&h, expect ? expect : "?");
    cr_out_puts(&h, "</b>: minimal.json</p></div></header><main>");
    cr_out_puts(&md, "# chaosrun shrink: ");
    cr_out_md(&md, name ? name : "?");
    cr_out_puts(&md, "\n\nThe smallest schedule found that still fails **");
    cr_out_md(&md, expect ? expect : "?");
    cr_out_puts(&md, "**: `minimal.json`.\n\n");
    comparison(&md, &h, sum, &st);
    fault_table(&md, &h, sum);
    search_costs(&md, &h, sum, &st);
    cr_out_puts(&h, "</main>");
    cr_html_end(&h);
    if ((rc = cr_rep_write_out(&md, out_dir, "report.md", err)) == 0)
        rc = cr_rep_write_out(&h, out_dir, "report.html", err);
out:
    json_decref(sum);
    cr_free(path);
    cr_out_free(&md);
    cr_out_free(&h);
    return rc;
}
