/* cr_report_compare: `chaosrun report --compare OLD NEW` (part of the
 * cr_report module, see cr_report.h): verdict changes, measured figures
 * judged against the spread of the runs, and both runs' charts on one
 * time axis.
 *
 * A side is one run directory, or a multi-seed directory (multi.json and
 * the runs it lists): then every figure is a sample, one value per run.
 * A difference is "within noise" when it is inside the spread:
 * - a side with two runs or more has a spread, the range [min, max] of its
 *   values: the difference is noise when the other side's median lies in
 *   that range (either side's);
 * - two single runs have no spread to measure: a difference is noise when
 *   it is at most CMP_REL of the larger figure, or under the unit's floor
 *   (CMP_FLOOR_MS for ms, CMP_FLOOR_S for s).  Measured on six seeds of
 *   scenarios/quickstart.json (same code, same machine): the breaker's
 *   open time ranged 2.59-2.99 s (15 %), the p99 of delivery latency
 *   2470-2832 ms (14 %), the p99 of accept latency 1.1-12.5 ms; hence
 *   25 % and 15 ms.  Probe-based times move in steps of the probe
 *   interval: 0.25 s for s.  Run several seeds on both sides for a real
 *   spread. */
#include <errno.h>
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

#define CMP_REL      0.25
#define CMP_FLOOR_MS 15.0
#define CMP_FLOOR_S  0.25

/* ---- sides -------------------------------------------------------------- */

typedef struct side {
    cr_rep_runs rs;
    int multi; /* 1: the runs of a multi-seed directory */
} side;

/* Load a run directory, or the runs a multi-seed directory lists (each
 * path as written, else the directory's own entry of that name). */
static int side_load(const char *dir, side *s, cr_err *err)
{
    char *jp = cr_asprintf("%s/journal.json", dir);
    char *mp = cr_asprintf("%s/multi.json", dir);
    struct stat st;
    json_t *m = NULL;
    const char **dirs = NULL;
    char **owned = NULL;
    size_t n = 0;
    int rc;
    if (!jp || !mp) {
        rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
        goto out;
    }
    if (stat(jp, &st) == 0 || stat(mp, &st) < 0) {
        rc = cr_rep_runs_load(&dir, 1, &s->rs, err);
        goto out;
    }
    json_error_t je;
    m = json_load_file(mp, 0, &je);
    const json_t *rl = json_object_get(m, "run_list");
    if (!json_array_size(rl)) {
        rc = cr_err_set(err, CR_EPROTO, "%s: no run_list", mp);
        goto out;
    }
    dirs = cr_calloc(json_array_size(rl), sizeof *dirs);
    owned = cr_calloc(json_array_size(rl), sizeof *owned);
    if (!dirs || !owned) {
        rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(rl); i++) {
        const char *d = cr_rep_jstr(json_array_get(rl, i), "dir");
        if (!d)
            continue;
        char *p = cr_asprintf("%s/journal.json", d);
        int here = p && stat(p, &st) == 0;
        cr_free(p);
        if (!here) {
            const char *base = strrchr(d, '/');
            owned[n] = cr_asprintf("%s/%s", dir, base ? base + 1 : d);
            if (!owned[n]) {
                rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
                goto out;
            }
            d = owned[n];
        }
        dirs[n++] = d;
    }
    s->multi = 1;
    rc = cr_rep_runs_load(dirs, n, &s->rs, err);
out:
    for (size_t i = 0; owned && i < n; i++)
        cr_free(owned[i]);
    cr_free(owned);
    cr_free(dirs);
    json_decref(m);
    cr_free(jp);
    cr_free(mp);
    return rc;
}

/* ---- figures and their spread ------------------------------------------- */

typedef struct fig {
    size_t n;
    double med, lo, hi;
} fig;

static int fig_of(const double *v, size_t n, fig *f)
{
    cr_stats_summary s;
    if (cr_stats_summarise(v, n, &s) < 0)
        return -1;
    *f = (fig){s.n, s.median, s.min, s.max};
    return 0;
}

/* "1.84 s", or for several runs "1.84 s (1.21 s–2.40 s, 5 runs)". */
static void fig_text(char *buf, size_t n, const fig *f, const char *unit)
{
    char m[48], lo[48], hi[48];
    if (!f->n) {
        snprintf(buf, n, "\xE2\x80\x94");
        return;
    }
    cr_fmt_measured(m, sizeof m, f->med, unit);
    if (f->n == 1) {
        snprintf(buf, n, "%s", m);
        return;
    }
    if (f->lo == f->hi) {
        snprintf(buf, n, "%s (all %zu runs)", m, f->n);
        return;
    }
    cr_fmt_measured(lo, sizeof lo, f->lo, unit);
    cr_fmt_measured(hi, sizeof hi, f->hi, unit);
    snprintf(buf, n, "%s (%s\xE2\x80\x93%s, %zu runs)", m, lo, hi, f->n);
}

static double floor_of(const char *unit)
{
    if (unit && !strcmp(unit, "ms"))
        return CMP_FLOOR_MS;
    if (unit && !strcmp(unit, "s"))
        return CMP_FLOOR_S;
    return 0;
}

/* "==" bounds: closer to the target is better; a figure becomes minus its
 * distance to the target, and its range the distances it spans. */
static void toward(fig *f, double t)
{
    double dl = fabs(f->lo - t), dh = fabs(f->hi - t);
    f->med = -fabs(f->med - t);
    f->hi = t >= f->lo && t <= f->hi ? 0 : -fmin(dl, dh);
    f->lo = -fmax(dl, dh);
}

/* "same" (every value equal on both sides), "better", "worse", "within
 * noise" or "" (no direction, no figures), and in basis how it was
 * judged. */
static const char *judge(fig a, fig b, int better, double target,
                         const char *unit, char *basis, size_t n)
{
    char r1[96];
    basis[0] = '\0';
    if (!a.n || !b.n || (!better && isnan(target)))
        return "";
    if (a.lo == a.hi && b.lo == b.hi && a.lo == b.lo)
        return "same";
    if (!better) {
        toward(&a, target);
        toward(&b, target);
        better = 1;
    }
    if (a.n >= 2 || b.n >= 2) {
        const fig *w = a.n >= 2 && b.med >= a.lo && b.med <= a.hi   ? &a
                       : b.n >= 2 && a.med >= b.lo && a.med <= b.hi ? &b
                                                                    : NULL;
        if (w) {
            snprintf(basis, n, "the %s median lies in the %s runs' range",
                     w == &a ? "new" : "old", w == &a ? "old" : "new");
            return "within noise";
        }
        snprintf(basis, n, "outside the range of the runs");
    } else {
        double d = fabs(b.med - a.med), big = fmax(fabs(a.med), fabs(b.med));
        double fl = floor_of(unit);
        if (d <= CMP_REL * big || d < fl) {
            if (d < fl) {
                cr_fmt_measured(r1, sizeof r1, fl, unit);
                snprintf(basis, n, "single runs: under %s", r1);
            } else
                snprintf(basis, n, "single runs: at most %.0f %%",
                         CMP_REL * 100);
            return "within noise";
        }
        snprintf(basis, n, "single runs: more than %.0f %%", CMP_REL * 100);
    }
    return (b.med - a.med) * better > 0 ? "better" : "worse";
}

/* ---- rows --------------------------------------------------------------- */

typedef struct cmp_side {
    const cr_rep_expect *x; /* in the side's first run that has it */
    const char *verdict;    /* passed | failed | unknown | flaky | NULL */
    size_t pass, runs;
    fig f;
} cmp_side;

typedef struct cmp_row {
    const char *name;
    cmp_side o, n;
    const char *change, *trend;
    char basis[96];
    char om[160], nm[160]; /* the measured figures as shown */
} cmp_row;

static const char *change_word(const char *ov, const char *nv)
{
    if (!ov)
        return "new";
    if (!nv)
        return "removed";
    if (!strcmp(ov, nv))
        return "same";
    if (!strcmp(nv, "passed"))
        return "fixed";
    if (!strcmp(ov, "passed"))
        return "regressed";
    return "changed";
}

static int side_row(const side *s, const char *name, double *v, cmp_side *c)
{
    size_t m = 0, unknown = 0;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < s->rs.n; i++) {
        const cr_rep_expect *x = cr_rep_find_ex(s->rs.r[i], name);
        if (!x)
            continue;
        if (!c->x)
            c->x = x;
        c->runs++;
        c->pass += !strcmp(x->verdict, "passed");
        unknown += !strcmp(x->verdict, "unknown");
        if (x->has_measured)
            v[m++] = x->measured;
    }
    if (!c->runs)
        c->verdict = NULL;
    else if (c->runs == 1)
        c->verdict = c->x->verdict;
    else
        c->verdict = c->pass == c->runs   ? "passed"
                     : c->pass            ? "flaky"
                     : unknown == c->runs ? "unknown"
                                          : "failed";
    return fig_of(v, m, &c->f);
}

static int make_row(const side *a, const side *b, const char *name, double *v,
                    cmp_row *r)
{
    r->name = name;
    if (side_row(a, name, v, &r->o) < 0 || side_row(b, name, v, &r->n) < 0)
        return -1;
    r->change = change_word(r->o.verdict, r->n.verdict);
    const cr_rep_expect *x = r->n.x ? r->n.x : r->o.x;
    cr_fmt_bound bd;
    int ok = cr_fmt_bound_parse(x->bound, &bd) == 0;
    r->trend = judge(r->o.f, r->n.f, ok ? bd.better : 0,
                     ok && !strcmp(bd.op, "==") ? bd.value : NAN, x->unit,
                     r->basis, sizeof r->basis);
    fig_text(r->om, sizeof r->om, &r->o.f, x->unit);
    fig_text(r->nm, sizeof r->nm, &r->n.f, x->unit);
    return 0;
}

/* One row per expectation name: the new side's order, then names only
 * the old side has.  Returns the count, or -1 on allocation failure. */
static long make_rows(const side *a, const side *b, cmp_row **out)
{
    size_t cap = 1, k = 0, nv = a->rs.n + b->rs.n + 1;
    const side *sides[2] = {b, a};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < sides[s]->rs.n; i++)
            cap += sides[s]->rs.r[i]->nex;
    cmp_row *rows = cr_calloc(cap, sizeof *rows);
    double *v = cr_calloc(nv, sizeof *v);
    if (!rows || !v)
        goto fail;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < sides[s]->rs.n; i++)
            for (size_t e = 0; e < sides[s]->rs.r[i]->nex; e++) {
                const char *name = sides[s]->rs.r[i]->ex[e].name;
                size_t j = 0;
                while (j < k && strcmp(rows[j].name, name))
                    j++;
                if (j == k && make_row(a, b, name, v, &rows[k++]) < 0)
                    goto fail;
            }
    cr_free(v);
    *out = rows;
    return (long)k;
fail:
    cr_free(rows);
    cr_free(v);
    return -1;
}

/* Delivered per second during (inside 1) or outside faults, per run. */
static int rate_row(const side *a, const side *b, int inside, double *v,
                    fig *fa, fig *fb, const char **trend, char *basis, size_t n)
{
    const side *s[2] = {a, b};
    fig *f[2] = {fa, fb};
    for (int k = 0; k < 2; k++) {
        size_t m = 0;
        for (size_t i = 0; i < s[k]->rs.n; i++) {
            double r =
                cr_report_rate_faults(s[k]->rs.r[i], "delivered", inside);
            if (!isnan(r))
                v[m++] = r;
        }
        if (fig_of(v, m, f[k]) < 0)
            return -1;
    }
    *trend = judge(*fa, *fb, 1, NAN, "/s", basis, n);
    return 0;
}

/* ---- the two documents -------------------------------------------------- */

typedef struct cmp {
    const side *a, *b;
    cmp_row *rows;
    size_t nr;
    fig rate[2][2]; /* [inside][old/new] */
    const char *rtrend[2];
    char rbasis[2][96];
    char headline[160];
    size_t better, worse, noise, same;
} cmp;

static void headline(cmp *c)
{
    size_t fixed = 0, regressed = 0;
    for (size_t i = 0; i < c->nr; i++) {
        fixed += !strcmp(c->rows[i].change, "fixed");
        regressed += !strcmp(c->rows[i].change, "regressed");
        c->better += !strcmp(c->rows[i].trend, "better");
        c->worse += !strcmp(c->rows[i].trend, "worse");
        c->noise += !strcmp(c->rows[i].trend, "within noise");
        c->same += !strcmp(c->rows[i].trend, "same");
    }
    if (regressed)
        snprintf(c->headline, sizeof c->headline,
                 "Less resilient: %zu expectation%s regressed%s", regressed,
                 cr_fmt_s(regressed), fixed ? ", some fixed" : "");
    else if (fixed)
        snprintf(c->headline, sizeof c->headline,
                 "More resilient: %zu expectation%s fixed", fixed,
                 cr_fmt_s(fixed));
    else
        snprintf(c->headline, sizeof c->headline, "No verdict changed.");
}

/* "seed 7" or "5 runs, seeds 1..5" */
static void side_text(char *buf, size_t n, const side *s)
{
    const cr_report *f = s->rs.r[0], *l = s->rs.r[s->rs.n - 1];
    if (s->multi)
        snprintf(buf, n, "%zu runs, seeds %llu..%llu", s->rs.n, f->seed,
                 l->seed);
    else
        snprintf(buf, n, "seed %llu", f->seed);
}

static const char *side_verdict(const side *s)
{
    size_t p = 0;
    for (size_t i = 0; i < s->rs.n; i++)
        p += !strcmp(cr_report_verdict(s->rs.r[i]), "passed");
    if (!s->multi)
        return cr_report_verdict(s->rs.r[0]);
    return p == s->rs.n ? "passed" : p ? "flaky" : "failed";
}

static void compare_md(const cmp *c, cr_out *o)
{
    char s1[96], s2[96];
    side_text(s1, sizeof s1, c->a);
    side_text(s2, sizeof s2, c->b);
    cr_out_puts(o, "## chaosrun compare: ");
    cr_out_md(o, c->b->rs.r[0]->name);
    cr_out_printf(o, "\n\nOld: %s (%s) \xE2\x86\x92 New: %s (%s)\n\n",
                  cr_fmt_verdict_of(side_verdict(c->a))->md, s1,
                  cr_fmt_verdict_of(side_verdict(c->b))->md, s2);
    const char *colon = strchr(c->headline, ':');
    if (colon)
        cr_out_printf(o, "**%.*s:**%s", (int)(colon - c->headline), c->headline,
                      colon + 1);
    else
        cr_out_printf(o, "**%s**", c->headline);
    cr_out_printf(o,
                  "\n\nMeasured figures: %zu better, %zu worse, %zu within "
                  "noise, %zu the same.\n",
                  c->better, c->worse, c->noise, c->same);
    cr_out_puts(o, "\n| Expectation | Old | New | Change | Old measured | "
                   "New measured | Trend | Basis |\n"
                   "|---|---|---|---|---:|---:|---|---|\n");
    for (size_t i = 0; i < c->nr; i++) {
        const cmp_row *r = &c->rows[i];
        cr_out_puts(o, "| ");
        cr_out_md(o, r->name);
        cr_out_printf(
            o, " | %s | %s | %s | ",
            r->o.verdict ? cr_fmt_verdict_of(r->o.verdict)->md : "\xE2\x80\x94",
            r->n.verdict ? cr_fmt_verdict_of(r->n.verdict)->md : "\xE2\x80\x94",
            r->change);
        cr_out_md(o, r->om);
        cr_out_puts(o, " | ");
        cr_out_md(o, r->nm);
        cr_out_printf(o, " | %s | ", r->trend);
        cr_out_md(o, r->basis);
        cr_out_puts(o, " |\n");
    }
    cr_out_puts(o, "\n### Throughput (delivered per second)\n\n"
                   "| | Old | New | Trend |\n|---|---:|---:|---|\n");
    for (int in = 1; in >= 0; in--) {
        fig_text(s1, sizeof s1, &c->rate[in][0], "/s");
        fig_text(s2, sizeof s2, &c->rate[in][1], "/s");
        cr_out_printf(o, "| %s faults | %s | %s | %s |\n",
                      in ? "during" : "outside", s1, s2, c->rtrend[in]);
    }
    cr_out_printf(o, "\nFaults applied: %zu \xE2\x86\x92 %zu.\n",
                  c->a->rs.r[0]->nfaults, c->b->rs.r[0]->nfaults);
    cr_out_printf(o,
                  "\n<sub>Within noise: inside the range of the runs on "
                  "either side; for two single runs, a difference of at "
                  "most %.0f %% (or under %.0f ms / %.2f s).</sub>\n",
                  CMP_REL * 100, CMP_FLOOR_MS, CMP_FLOOR_S);
}

static void side_dd(cr_out *o, const side *s)
{
    char t[96];
    side_text(t, sizeof t, s);
    cr_html_badge(o, side_verdict(s));
    cr_out_wrap(o, " ", t, " \xC2\xB7 ");
    cr_out_esc(o, s->rs.r[0]->dir);
    if (s->multi)
        cr_out_puts(o, " \xE2\x80\xA6");
}

static void compare_html(const cmp *c, const char *md, cr_out *o)
{
    char t[300];
    const cr_report *a = c->a->rs.r[0], *b = c->b->rs.r[0];
    snprintf(t, sizeof t, "compare %s \xC2\xB7 chaosrun", b->name);
    cr_html_begin(o, t);
    cr_out_wrap(o,
                "<header class=\"top\"><div class=\"in\"><div "
                "class=\"kicker\">chaosrun compare</div><h1>",
                b->name, "</h1><dl class=\"meta\"><div><dt>old</dt><dd>");
    side_dd(o, c->a);
    cr_out_puts(o, "</dd></div><div><dt>new</dt><dd>");
    side_dd(o, c->b);
    cr_out_wrap(o,
                "</dd></div></dl></div></header><main><section "
                "class=\"card\"><h2>Verdict</h2><p class=\"fig\"><b>",
                c->headline, "</b></p>");
    cr_out_printf(o,
                  "<p>Measured figures: %zu better, %zu worse, %zu within "
                  "noise, %zu the same.</p>",
                  c->better, c->worse, c->noise, c->same);
    cr_out_puts(o, "<div class=\"tw\"><table><thead><tr><th>delivered per "
                   "second</th><th>old</th><th>new</th><th>trend</th></tr>"
                   "</thead><tbody>");
    for (int in = 1; in >= 0; in--) {
        char s1[96], s2[96];
        fig_text(s1, sizeof s1, &c->rate[in][0], "/s");
        fig_text(s2, sizeof s2, &c->rate[in][1], "/s");
        cr_out_printf(o, "<tr data-trend=\"%s\"><td>%s faults</td>",
                      c->rtrend[in], in ? "during" : "outside");
        cr_out_wrap(o, "<td class=\"num\">", s1, "</td>");
        cr_out_wrap(o, "<td class=\"num\">", s2, "</td>");
        cr_out_wrap(o, "<td>", c->rtrend[in], "</td></tr>");
    }
    cr_out_puts(
        o, "</tbody></table></div></section>"
           "<section class=\"card\"><h2>Expectations</h2><div class=\"tw\">"
           "<table class=\"cmp\"><thead><tr><th>expectation</th><th>old</th>"
           "<th>new</th><th>change</th><th>old measured</th>"
           "<th>new measured</th><th>trend</th><th>basis</th></tr></thead>"
           "<tbody>");
    for (size_t i = 0; i < c->nr; i++) {
        const cmp_row *r = &c->rows[i];
        cr_out_printf(o, "<tr data-change=\"%s\" data-trend=\"%s\">", r->change,
                      r->trend);
        cr_out_wrap(o, "<td>", r->name, "</td><td>");
        if (r->o.verdict)
            cr_html_badge(o, r->o.verdict);
        cr_out_puts(o, "</td><td>");
        if (r->n.verdict)
            cr_html_badge(o, r->n.verdict);
        cr_out_printf(o, "</td><td><b>%s%s</b></td>",
                      !strcmp(r->change, "regressed") ? "\xE2\x96\xBC "
                      : !strcmp(r->change, "fixed")   ? "\xE2\x96\xB2 "
                                                      : "",
                      r->change);
        cr_out_wrap(o, "<td class=\"num\">", r->om, "</td>");
        cr_out_wrap(o, "<td class=\"num\">", r->nm, "</td>");
        cr_out_wrap(o, "<td>", r->trend, "</td>");
        cr_out_wrap(o, "<td class=\"note\">", r->basis, "</td></tr>");
    }
    cr_out_printf(o,
                  "</tbody></table></div><p class=\"note\">Within noise: "
                  "inside the range of the runs on either side; for two "
                  "single runs, a difference of at most %.0f %% (or under "
                  "%.0f ms / %.2f s).</p></section>",
                  CMP_REL * 100, CMP_FLOOR_MS, CMP_FLOOR_S);
    cr_out_printf(o,
                  "<section class=\"card\"><h2>Both runs on one axis</h2>"
                  "<p class=\"note\">Seconds after each run's t0; old dashed "
                  "grey (seed %llu), new solid (seed %llu); the new run's "
                  "fault windows hatched, the old run's outlined.%s</p>"
                  "<div class=\"scroll\">",
                  a->seed, b->seed,
                  c->a->multi || c->b->multi ? " First run of each side." : "");
    cr_svg_compare_charts(a, b, o);
    cr_out_wrap(o,
                "</div></section><section class=\"card\"><h2>As "
                "Markdown</h2><pre>",
                md, "</pre></section></main>");
    cr_html_end(o);
}

static void fill_tally(const cmp *c, cr_compare_tally *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < c->nr; i++) {
        const char *ch = c->rows[i].change;
        t->regressed += !strcmp(ch, "regressed");
        t->fixed += !strcmp(ch, "fixed");
        t->changed += !strcmp(ch, "changed");
        t->added += !strcmp(ch, "new");
        t->removed += !strcmp(ch, "removed");
    }
    t->worse = c->worse;
    t->better = c->better;
    t->noise = c->noise;
    t->same = c->same;
    snprintf(t->old_verdict, sizeof t->old_verdict, "%s", side_verdict(c->a));
    snprintf(t->new_verdict, sizeof t->new_verdict, "%s", side_verdict(c->b));
}

int cr_report_compare(const char *old_dir, const char *new_dir,
                      const char *out_dir, char **md, cr_err *err)
{
    return cr_report_compare_tally(old_dir, new_dir, out_dir, md, NULL, err);
}

int cr_report_compare_tally(const char *old_dir, const char *new_dir,
                            const char *out_dir, char **md,
                            cr_compare_tally *tally, cr_err *err)
{
    side a = {0}, b = {0};
    cmp c = {.a = &a, .b = &b};
    cr_out m, h;
    double *v = NULL;
    cr_out_init(&m);
    cr_out_init(&h);
    if (md)
        *md = NULL;
    int rc = side_load(old_dir, &a, err);
    if (rc == 0)
        rc = side_load(new_dir, &b, err);
    if (rc < 0)
        goto out;
    if (!a.rs.n || !b.rs.n) {
        rc = cr_err_set(err, CR_ENOTFOUND, "compare: no run in %s",
                        a.rs.n ? new_dir : old_dir);
        goto out;
    }
    long nr = make_rows(&a, &b, &c.rows);
    v = cr_calloc(a.rs.n + b.rs.n + 1, sizeof *v);
    if (nr < 0 || !v) {
        rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
        goto out;
    }
    c.nr = (size_t)nr;
    for (int in = 0; in < 2; in++)
        if (rate_row(&a, &b, in, v, &c.rate[in][0], &c.rate[in][1],
                     &c.rtrend[in], c.rbasis[in], sizeof c.rbasis[in]) < 0) {
            rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
            goto out;
        }
    headline(&c);
    compare_md(&c, &m);
    compare_html(&c, cr_out_str(&m), &h);
    if ((rc = cr_rep_ensure_dir(out_dir, err)) < 0 ||
        (rc = cr_rep_write_out(&m, out_dir, "compare.md", err)) < 0 ||
        (rc = cr_rep_write_out(&h, out_dir, "compare.html", err)) < 0)
        goto out;
    if (md && !(*md = cr_strdup(cr_out_str(&m))))
        rc = cr_err_set(err, CR_ENOMEM, "compare: out of memory");
    if (rc == 0 && tally)
        fill_tally(&c, tally);
out:
    cr_free(v);
    cr_free(c.rows);
    cr_out_free(&m);
    cr_out_free(&h);
    cr_rep_runs_free(&a.rs);
    cr_rep_runs_free(&b.rs);
    return rc;
}
