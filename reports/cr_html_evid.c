/* cr_html_evid: the parts of report.html that tell why a verdict is what
 * it is (part of the cr_html module, see cr_html.h): the failure block
 * under the title, and in each expectation's card the lost-id story and
 * the evidence, failure rows first, informational rows folded away, long
 * lists cut with a "show all" (details/summary: no script). */
#include <math.h>
#include <string.h>

#include "cr_evid.h"
#include "cr_fmt.h"
#include "cr_html_internal.h"

/* Rows shown before "show all", and lost ids listed at most (the page
 * stays small; the run directory has them all). */
#define SHOWN    10
#define LOST_MAX 500

void cr_html__failures(const cr_report *r, cr_out *o)
{
    const char *st = cr_report_verdict(r);
    if (!r->nfailed && !r->nunknown && !r->error)
        return;
    cr_out_printf(o, "<div class=\"failures v-%s\" id=\"failures\"><ul>",
                  cr_fmt_verdict_of(st)->css);
    if (r->error) {
        cr_out_printf(o, "<li class=\"run\"><span class=\"ic\">%s</span> ",
                      cr_fmt_verdict_of(st)->icon);
        cr_out_wrap(o, "<b>", st, "</b>: ");
        cr_out_wrap(o, "<span class=\"why\">", r->error, "</span></li>");
    }
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        if (!strcmp(x->verdict, "passed"))
            continue;
        cr_out_printf(o, "<li class=\"v-%s\" data-name=\"", x->verdict);
        cr_out_esc(o, x->name);
        cr_out_printf(o,
                      "\"><a href=\"#exp-%zu\"><span class=\"ic\" "
                      "aria-hidden=\"true\">%s</span> %s ",
                      i, cr_fmt_verdict_of(x->verdict)->icon, x->verdict);
        cr_out_wrap(o, "<b>", x->name, "</b></a> ");
        cr_out_wrap(o, "<span class=\"kind\">", x->kind, "</span> ");
        cr_out_wrap(o, "<span class=\"why\">",
                    *x->summary ? x->summary : "(no summary)", "</span>");
        if (x->lost && x->lost->hint)
            cr_out_wrap(o, "<div class=\"hint\">Hint: ", x->lost->hint,
                        "</div>");
        cr_out_puts(o, "</li>");
    }
    cr_out_puts(o, "</ul></div>");
}

/* ---- evidence rows ----------------------------------------------------- */

static void rows_table(cr_out *o, const cr_rep_evrow *v, size_t n)
{
    cr_out_puts(
        o, "<div class=\"tw\"><table class=\"ev\"><thead><tr><th>t (s)</th>"
           "<th>event</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        cr_out_puts(o, "<tr><td>");
        if (!isnan(v[i].t))
            cr_out_printf(o, "%.3f", v[i].t);
        cr_out_wrap(o, "</td><td>", v[i].text, "</td></tr>");
    }
    cr_out_puts(o, "</tbody></table></div>");
}

/* The first SHOWN rows, the rest behind "show all" -- up to max rows
 * (0: all), the others counted. */
static void rows_capped(cr_out *o, const cr_rep_evrow *v, size_t n,
                        const char *what, size_t max)
{
    size_t listed = max && n > max ? max : n;
    rows_table(o, v, listed < SHOWN ? listed : SHOWN);
    if (n <= SHOWN)
        return;
    if (listed == n)
        cr_out_printf(o,
                      "<details class=\"more\"><summary>show all %zu %s "
                      "(%zu more)</summary>",
                      n, what, n - SHOWN);
    else
        cr_out_printf(o,
                      "<details class=\"more\"><summary>show the first %zu "
                      "of %zu %s</summary>",
                      listed, n, what);
    if (listed > SHOWN)
        rows_table(o, v + SHOWN, listed - SHOWN);
    if (listed < n)
        cr_out_printf(o,
                      "<p class=\"note capped\">\xE2\x80\xA6 and %zu more "
                      "%s: every row is in journal.json "
                      "(expectations[].evidence)</p>",
                      n - listed, what);
    cr_out_puts(o, "</details>");
}

static void rows(const cr_rep_expect *x, cr_out *o, size_t max)
{
    size_t ninfo = x->nrows - x->nfail;
    int open = strcmp(x->verdict, "passed") != 0;
    if (!x->nrows)
        return;
    cr_out_printf(o, "<details class=\"evidence\"%s><summary>",
                  open ? " open" : "");
    if (open)
        cr_out_printf(o,
                      "Evidence: the events behind this verdict (%zu "
                      "failure row%s, %zu informational)",
                      x->nfail, cr_fmt_s(x->nfail), ninfo);
    else
        cr_out_printf(o, "Evidence (%zu)", x->nrows);
    cr_out_puts(o, "</summary>");
    if (x->nfail)
        rows_capped(o, x->rows, x->nfail, "failure rows", max);
    if (ninfo && x->nfail) {
        cr_out_printf(o,
                      "<details class=\"info\"><summary>Informational rows "
                      "(%zu): not reasons for the verdict</summary>",
                      ninfo);
        rows_capped(o, x->rows + x->nfail, ninfo, "informational rows", max);
        cr_out_puts(o, "</details>");
    } else if (ninfo) {
        rows_capped(o, x->rows, ninfo, "rows", max);
    }
    char om[96];
    cr_evid_omitted_text(om, sizeof om, x);
    if (*om)
        cr_out_wrap(o, "<p class=\"note\">", om, "</p>");
    cr_out_puts(o, "</details>");
}

/* ---- the lost ids ------------------------------------------------------ */

static void lost_table(cr_out *o, const cr_rep_lost *l, size_t from, size_t to)
{
    cr_out_puts(o, "<div class=\"tw\"><table class=\"lost\"><thead><tr>"
                   "<th>id</th><th>accepted (s)</th><th>last seen</th>"
                   "<th>at (s)</th><th>in flight when</th></tr></thead>"
                   "<tbody>");
    for (size_t i = from; i < to; i++) {
        const cr_rep_lost_id *d = &l->ids[i];
        cr_out_wrap(o, "<tr><td>", d->id, "</td>");
        cr_out_printf(o, "<td class=\"num\">%.3f</td>", d->t_acc);
        cr_out_wrap(o, "<td>", d->seen, " (");
        cr_out_esc(o, d->what);
        cr_out_printf(o, ")</td><td class=\"num\">%.3f</td><td>", d->t_seen);
        if (d->group >= 0) {
            const cr_rep_fault *f = l->groups[d->group].fault;
            char name[256];
            cr_fmt_fault_name(name, sizeof name, f);
            cr_out_esc(o, name);
            cr_out_printf(o, " at %.3f s", f->start);
        }
        cr_out_puts(o, "</td></tr>");
    }
    cr_out_puts(o, "</tbody></table></div>");
}

static void lost_story(const cr_rep_expect *x, cr_out *o)
{
    const cr_rep_lost *l = x->lost;
    char b[640], d1[32], d2[32], d3[32];
    if (!l || !l->n)
        return;
    cr_out_puts(o, "<div class=\"story\"><h4>Where the lost ids were last "
                   "seen</h4>");
    int disagree = l->checker_lost >= 0 && l->checker_lost != (long long)l->n;
    if (disagree)
        cr_out_printf(o,
                      "<p class=\"note\">events.jsonl holds %zu lost id%s, "
                      "the checker counted %lld: no hint is drawn from "
                      "them.</p>",
                      l->n, cr_fmt_s(l->n), l->checker_lost);
    else if (l->ngroups) {
        cr_out_puts(o, "<ul class=\"hints\">");
        for (size_t g = 0; g < l->ngroups; g++) {
            const cr_rep_lost_group *G = &l->groups[g];
            cr_evid_group_text(b, sizeof b, l, G);
            cr_fmt_dur(d1, sizeof d1, G->gap_min);
            cr_fmt_dur(d2, sizeof d2, G->gap_max);
            cr_fmt_dur(d3, sizeof d3, G->dwell);
            cr_out_wrap(o, "<li>", b, "");
            cr_out_printf(o, " <span class=\"note\">(last seen %s", d1);
            if (G->gap_max > G->gap_min)
                cr_out_printf(o, "\xE2\x80\x93%s", d2);
            cr_out_puts(o, " before it; in this run records stayed at ");
            cr_out_esc(o, G->inst);
            cr_out_printf(o, " up to %s (p99) before moving on)</span></li>",
                          d3);
        }
        cr_out_puts(o, "</ul>");
    }
    cr_evid_rest_text(b, sizeof b, l);
    if (*b && !disagree)
        cr_out_wrap(o, "<p>", b, "</p>");
    cr_out_printf(o,
                  "<p class=\"note\">Recounted from events.jsonl%s: every "
                  "accepted id never delivered nor dead-lettered.</p>",
                  l->spans ? " and the spans in traces/" : "");
    lost_table(o, l, 0, l->n < SHOWN ? l->n : SHOWN);
    if (l->n > SHOWN) {
        size_t to = l->n < LOST_MAX ? l->n : LOST_MAX;
        cr_out_printf(o,
                      "<details class=\"more\"><summary>show all %zu lost "
                      "ids (%zu more)</summary>",
                      l->n, l->n - SHOWN);
        lost_table(o, l, SHOWN, to);
        if (to < l->n)
            cr_out_printf(o,
                          "<p class=\"note\">The page stops at %d ids; the "
                          "other %zu are the accepted ids of events.jsonl "
                          "that no delivered or dead_lettered event "
                          "names.</p>",
                          LOST_MAX, l->n - to);
        cr_out_puts(o, "</details>");
    }
    cr_out_puts(o, "</div>");
}

void cr_html__evidence(const cr_rep_expect *x, cr_out *o, size_t max_rows)
{
    lost_story(x, o);
    rows(x, o, max_rows);
}
