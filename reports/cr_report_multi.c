/* cr_report_multi: the views over several runs (part of the cr_report
 * module, see cr_report.h): the multi-seed summary of one scenario and the
 * helpers the views over several runs share (the suite index and the
 * merge of suites are cr_report_suite.c, comparing two runs is
 * cr_report_compare.c). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cr_alloc.h"
#include "cr_fmt.h"
#include "cr_html.h"
#include "cr_report.h"
#include "cr_report_internal.h"
#include "cr_stats.h"
#include "cr_svg.h"

int cr_rep_ensure_dir(const char *dir, cr_err *err)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return cr_err_sys(err, CR_ESYS, errno, "creating %s", dir);
    return 0;
}

int cr_rep_write_out(const cr_out *o, const char *dir, const char *file,
                     cr_err *err)
{
    char *p = cr_asprintf("%s/%s", dir, file);
    if (!p)
        return cr_err_set(err, CR_ENOMEM, "writing %s: out of memory", file);
    int rc = cr_out_write_file(o, p, err);
    cr_free(p);
    return rc;
}

const cr_rep_expect *cr_rep_find_ex(const cr_report *r, const char *name)
{
    for (size_t i = 0; i < r->nex; i++)
        if (!strcmp(r->ex[i].name, name))
            return &r->ex[i];
    return NULL;
}

char *cr_rep_rel_path(const char *dir, const char *target_dir, const char *file)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(dir, a) || !realpath(target_dir, b))
        return cr_asprintf("%s/%s", target_dir, file);
    size_t i = 0, last = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '/')
            last = i;
        i++;
    }
    if (!a[i] && (b[i] == '/' || !b[i]))
        last = i; /* a is a prefix directory of b */
    cr_out o;
    cr_out_init(&o);
    for (const char *p = a + last; *p; p++)
        if (*p == '/')
            cr_out_puts(&o, "../");
    const char *rest = b + last + (b[last] == '/');
    if (*rest) {
        cr_out_puts(&o, rest);
        cr_out_puts(&o, "/");
    }
    cr_out_puts(&o, file);
    char *s = o.failed ? NULL : cr_strdup(cr_out_str(&o));
    cr_out_free(&o);
    return s;
}

/* ---- multi-seed ------------------------------------------------------- */

void cr_rep_runs_free(cr_rep_runs *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        cr_report_destroy(rs->r[i]);
    cr_free(rs->r);
    rs->r = NULL;
    rs->n = 0;
}

int cr_rep_runs_load(const char *const *dirs, size_t n, cr_rep_runs *rs,
                     cr_err *err)
{
    rs->n = 0;
    rs->r = cr_calloc(n ? n : 1, sizeof *rs->r);
    if (!rs->r)
        return cr_err_set(err, CR_ENOMEM, "loading runs: out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc = cr_report_load(dirs[i], &rs->r[rs->n], err);
        if (rc < 0)
            return rc;
        rs->n++;
    }
    return 0;
}

int cr_report_multi(const char *const *run_dirs, size_t n, const char *out_dir,
                    cr_err *err)
{
    cr_rep_runs rs = {0};
    cr_out md, h;
    json_t *js = NULL;
    double *vals = NULL;
    cr_out_init(&md);
    cr_out_init(&h);
    int rc;
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "multi-seed summary: no run given");
    if ((rc = cr_rep_runs_load(run_dirs, n, &rs, err)) < 0 ||
        (rc = cr_rep_ensure_dir(out_dir, err)) < 0)
        goto out;
    const cr_report *first = rs.r[0];
    size_t passes = 0;
    for (size_t i = 0; i < rs.n; i++)
        passes += !strcmp(cr_report_verdict(rs.r[i]), "passed");
    double lo, hi;
    cr_stats_wilson(passes, rs.n, CR_STATS_Z95, &lo, &hi);
    const char *word = passes == rs.n ? "stable"
                       : passes == 0  ? "failing"
                                      : "flaky";
    js = json_pack("{s:s, s:I, s:I, s:f, s:[f,f], s:s, s:[], s:[], s:[]}",
                   "scenario", first->name, "runs", (json_int_t)rs.n, "passed",
                   (json_int_t)passes, "pass_rate",
                   (double)passes / (double)rs.n, "wilson95", lo, hi, "verdict",
                   word, "expectations", "recovery", "run_list");
    vals = cr_calloc(rs.n, sizeof *vals);
    if (!js || !vals) {
        rc = cr_err_set(err, CR_ENOMEM, "multi-seed summary: out of memory");
        goto out;
    }
    /* Markdown and HTML side by side. */
    char t[300];
    snprintf(t, sizeof t, "%s over %zu runs \xC2\xB7 chaosrun", first->name,
             rs.n);
    cr_html_begin(&h, t);
    cr_out_puts(&h,
                "<header class=\"top\"><div class=\"in\"><div class=\"kicker\">"
                "chaosrun multi-seed</div><h1>");
    cr_out_esc(&h, first->name);
    cr_out_printf(
        &h, " <span class=\"badge v-%s\">%s</span></h1></div></header><main>",
        passes == rs.n ? "passed"
        : passes == 0  ? "failed"
                       : "unknown",
        word);
    cr_out_puts(&md, "## chaosrun multi-seed: ");
    cr_out_md(&md, first->name);
    cr_out_printf(&md, " \xE2\x80\x94 **%s**\n\n", word);
    char line[400];
    snprintf(
        line, sizeof line,
        "Passed %zu of %zu runs (%.0f %%; 95%% Wilson interval "
        "%.0f\xE2\x80\x93%.0f %%)%s",
        passes, rs.n, 100.0 * (double)passes / (double)rs.n, lo * 100, hi * 100,
        passes && passes < rs.n ? ": flaky \xE2\x80\x94 the same scenario both "
                                  "passes and fails depending on the seed"
                                : "");
    cr_out_printf(&md, "%s.\n\n", line);
    cr_out_puts(
        &h, "<section class=\"card\"><h2>Pass rate</h2><p class=\"fig\"><b>");
    cr_out_esc(&h, line);
    cr_out_puts(&h, "</b></p></section>");
    /* Per expectation. */
    cr_out_puts(
        &md, "| Expectation | Passed | Rate | 95% CI |\n|---|---:|---:|---|\n");
    cr_out_puts(
        &h,
        "<section class=\"card\"><h2>Expectations</h2><div class=\"tw\"><table>"
        "<thead><tr><th>expectation</th><th>passed</th><th>rate</th>"
        "<th>95% CI</th></tr></thead><tbody>");
    for (size_t e = 0; e < first->nex; e++) {
        const char *name = first->ex[e].name;
        size_t k = 0, m = 0;
        for (size_t i = 0; i < rs.n; i++) {
            const cr_rep_expect *x = cr_rep_find_ex(rs.r[i], name);
            if (x) {
                m++;
                k += !strcmp(x->verdict, "passed");
            }
        }
        double l2, h2;
        cr_stats_wilson(k, m, CR_STATS_Z95, &l2, &h2);
        cr_out_puts(&md, "| ");
        cr_out_md(&md, name);
        cr_out_printf(&md, " | %zu/%zu | %.0f %% | %.0f\xE2\x80\x93%.0f %% |\n",
                      k, m, m ? 100.0 * (double)k / (double)m : 0, l2 * 100,
                      h2 * 100);
        cr_out_puts(&h, "<tr><td>");
        cr_out_esc(&h, name);
        cr_out_printf(
            &h,
            "</td><td class=\"num\">%zu/%zu</td><td class=\"num\">%.0f %%</td>"
            "<td>%.0f\xE2\x80\x93%.0f %%</td></tr>",
            k, m, m ? 100.0 * (double)k / (double)m : 0, l2 * 100, h2 * 100);
        json_array_append_new(json_object_get(js, "expectations"),
                              json_pack("{s:s, s:I, s:I, s:[f,f]}", "name",
                                        name, "passed", (json_int_t)k, "runs",
                                        (json_int_t)m, "wilson95", l2, h2));
    }
    cr_out_puts(&md, "\n");
    cr_out_puts(&h, "</tbody></table></div></section>");
    /* Recovery-time distribution per `recovers` expectation. */
    for (size_t e = 0; e < first->nex; e++) {
        const cr_rep_expect *fx = &first->ex[e];
        if (strcmp(fx->kind, "recovers"))
            continue;
        size_t m = 0;
        double bound = NAN;
        for (size_t i = 0; i < rs.n; i++) {
            const cr_rep_expect *x = cr_rep_find_ex(rs.r[i], fx->name);
            if (x && x->has_measured) {
                vals[m++] = x->measured;
                cr_fmt_bound bd;
                if (isnan(bound) && cr_fmt_bound_parse(x->bound, &bd) == 0 &&
                    bd.better)
                    bound = bd.value;
            }
        }
        cr_stats_summary s;
        if (cr_stats_summarise(vals, m, &s) < 0) {
            rc =
                cr_err_set(err, CR_ENOMEM, "multi-seed summary: out of memory");
            goto out;
        }
        char d[4][32];
        cr_fmt_dur(d[0], sizeof d[0], s.min);
        cr_fmt_dur(d[1], sizeof d[1], s.median);
        cr_fmt_dur(d[2], sizeof d[2], s.p90);
        cr_fmt_dur(d[3], sizeof d[3], s.max);
        snprintf(
            line, sizeof line,
            "%s: recovery over %zu runs: min %s, median %s, p90 %s, max %s",
            fx->name, s.n, d[0], d[1], d[2], d[3]);
        cr_out_puts(&md, "- ");
        cr_out_md(&md, line);
        cr_out_puts(&md, "\n");
        cr_out_puts(&h, "<section class=\"card\"><h2>Recovery time: ");
        cr_out_esc(&h, fx->name);
        cr_out_puts(&h, "</h2><p>");
        cr_out_esc(&h, line);
        cr_out_puts(&h, "</p>");
        cr_svg_histogram(&h, vals, m, "recovery time (s); runs per bin", bound,
                         line);
        cr_out_puts(&h, "</section>");
        json_t *vs = json_array();
        for (size_t i = 0; i < m; i++)
            json_array_append_new(vs, json_real(vals[i]));
        json_array_append_new(json_object_get(js, "recovery"),
                              json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:o}",
                                        "name", fx->name, "n", (json_int_t)s.n,
                                        "min", s.min, "median", s.median, "p90",
                                        s.p90, "max", s.max, "values", vs));
    }
    /* The runs. */
    cr_out_puts(&md,
                "\n| Run | Seed | Verdict | Held |\n|---|---:|---|---:|\n");
    cr_out_puts(
        &h,
        "<section class=\"card\"><h2>Runs</h2><div class=\"tw\"><table><thead>"
        "<tr><th>run</th><th>seed</th><th>verdict</th><th>held</th></tr>"
        "</thead><tbody>");
    for (size_t i = 0; i < rs.n; i++) {
        const cr_report *r = rs.r[i];
        char *link = cr_rep_rel_path(out_dir, r->dir, "report.html");
        cr_out_puts(&md, "| ");
        cr_out_md(&md, r->dir);
        cr_out_printf(&md, " | %llu | %s | %zu/%zu |\n", r->seed,
                      cr_fmt_verdict_of(cr_report_verdict(r))->md, r->npassed,
                      r->nex);
        cr_out_puts(&h, "<tr><td><a href=\"");
        cr_out_esc(&h, link ? link : "");
        cr_out_puts(&h, "\">");
        cr_out_esc(&h, r->dir);
        cr_out_printf(&h, "</a></td><td class=\"num\">%llu</td><td>", r->seed);
        cr_html_badge(&h, cr_report_verdict(r));
        cr_out_printf(&h, "</td><td class=\"num\">%zu/%zu</td></tr>",
                      r->npassed, r->nex);
        json_array_append_new(json_object_get(js, "run_list"),
                              json_pack("{s:s, s:I, s:s}", "dir", r->dir,
                                        "seed", (json_int_t)r->seed, "status",
                                        cr_report_verdict(r)));
        cr_free(link);
    }
    cr_out_puts(&h, "</tbody></table></div></section></main>");
    cr_html_end(&h);
    char *jtext = json_dumps(js, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                     JSON_REAL_PRECISION(6));
    cr_out jo;
    cr_out_init(&jo);
    cr_out_puts(&jo, jtext);
    cr_out_puts(&jo, "\n");
    if (!jtext)
        jo.failed = 1;
    free(jtext);
    if ((rc = cr_rep_write_out(&md, out_dir, "multi.md", err)) == 0 &&
        (rc = cr_rep_write_out(&h, out_dir, "multi.html", err)) == 0)
        rc = cr_rep_write_out(&jo, out_dir, "multi.json", err);
    cr_out_free(&jo);
out:
    cr_free(vals);
    json_decref(js);
    cr_out_free(&md);
    cr_out_free(&h);
    cr_rep_runs_free(&rs);
    return rc;
}
