/* cr_md: the Markdown summary of one run (see cr_md.h). */
#include "cr_md.h"

#include <math.h>
#include <string.h>

#include "cr_evid.h"
#include "cr_fmt.h"
#include "cr_report_internal.h"

static void failures(const cr_report *r, cr_out *o);

static void header(const cr_report *r, cr_out *o)
{
    char d[32], when[40], mach[160];
    cr_out_puts(o, "## chaosrun: ");
    cr_out_md(o, r->name);
    cr_out_puts(o, " \xE2\x80\x94 ");
    cr_out_puts(o, cr_fmt_verdict_of(cr_report_verdict(r))->md);
    cr_out_puts(o, "\n\n");
    failures(r, o);
    if (r->description && *r->description) {
        cr_out_md(o, r->description);
        cr_out_puts(o, "\n\n");
    }
    cr_out_printf(o, "**%zu/%zu expectations held**", r->npassed, r->nex);
    if (r->nfailed)
        cr_out_printf(o, " \xC2\xB7 %zu failed", r->nfailed);
    if (r->nunknown)
        cr_out_printf(o, " \xC2\xB7 %zu unknown (not enough events to judge)",
                      r->nunknown);
    if (r->has_seed)
        cr_out_printf(o, " \xC2\xB7 seed `%llu`", r->seed);
    if (!isnan(r->duration_s)) {
        cr_fmt_dur(d, sizeof d, r->duration_s);
        cr_out_printf(o, " \xC2\xB7 %s of faults", d);
    }
    if (!isnan(r->ended_at - r->started_at)) {
        cr_fmt_dur(d, sizeof d, r->ended_at - r->started_at);
        cr_out_printf(o, " \xC2\xB7 %s wall", d);
    }
    cr_fmt_machine(mach, sizeof mach, r->journal);
    if (*mach) {
        cr_out_puts(o, " \xC2\xB7 ");
        cr_out_md(o, mach);
    }
    cr_fmt_utc(when, sizeof when, r->started_at);
    if (*when)
        cr_out_printf(o, " \xC2\xB7 %s", when);
    cr_out_puts(o, "\n\n");
    if (r->error) {
        cr_out_puts(o, "> **");
        cr_out_md(o, cr_report_verdict(r));
        cr_out_puts(o, ":** ");
        cr_out_md(o, r->error);
        cr_out_puts(o, "\n\n");
    } else if (!strcmp(cr_report_verdict(r), "interrupted")) {
        cr_out_puts(o, "> **interrupted:** ");
        cr_out_puts(o, cr_rep_interrupted_note(r));
        cr_out_puts(o, ".\n\n");
    }
    if (r->reproduce) {
        cr_out_puts(o, "Reproduce: ");
        cr_out_mdcode(o, r->reproduce);
        cr_out_puts(o, "\n\n");
    }
}

static void expectations(const cr_report *r, cr_out *o)
{
    char m[64];
    cr_out_puts(o, "### Expectations\n\n");
    if (r->nex == 0) {
        cr_out_puts(o, "No expectation was judged.\n\n");
        return;
    }
    cr_out_puts(
        o, "| Verdict | Expectation | Kind | Measured | Bound | Summary |\n"
           "|---|---|---|---:|---|---|\n");
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        cr_out_printf(o, "| %s | ", cr_fmt_verdict_of(x->verdict)->md);
        cr_out_md(o, x->name);
        cr_out_puts(o, " | ");
        cr_out_md(o, x->kind);
        cr_out_puts(o, " | ");
        if (x->has_measured) {
            cr_fmt_measured(m, sizeof m, x->measured, x->unit);
            cr_out_md(o, m);
        }
        cr_out_puts(o, " | ");
        if (*x->bound)
            cr_out_mdcode(o, x->bound);
        cr_out_puts(o, " | ");
        cr_out_md(o, x->summary);
        cr_out_puts(o, " |\n");
    }
    cr_out_puts(o, "\n");
}

static void faults(const cr_report *r, cr_out *o)
{
    char d[256];
    cr_out_puts(o, "### Faults\n\n");
    if (r->nfaults == 0) {
        cr_out_puts(o, "No fault was injected.\n\n");
        return;
    }
    cr_out_puts(o, "| Fault | Kind | Target | At | Lasted | Outcome |\n"
                   "|---|---|---|---:|---:|---|\n");
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        cr_out_puts(o, "| ");
        cr_fmt_fault_name(d, sizeof d, f);
        cr_out_md(o, d);
        cr_out_puts(o, " | ");
        cr_out_md(o, f->kind);
        cr_out_puts(o, " | ");
        cr_out_md(o, f->target);
        cr_fmt_fault_lasted(d, sizeof d, f);
        cr_out_printf(o, " | %.2f s | %s", f->start, d);
        cr_out_puts(o, " | ");
        cr_out_md(o, f->outcome);
        if (f->error) {
            cr_out_puts(o, ": ");
            cr_out_md(o, f->error);
        }
        cr_out_puts(o, " |\n");
    }
    cr_out_puts(o, "\n");
}

static void figures(const cr_report *r, cr_out *o)
{
    char m[64];
    int any = 0;
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        if (strcmp(x->kind, "recovers") || !x->has_measured)
            continue;
        if (!any)
            cr_out_puts(o, "### Recovery\n\n");
        any = 1;
        cr_fmt_measured(m, sizeof m, x->measured, x->unit);
        cr_out_puts(o, "- ");
        cr_out_md(o, x->name);
        cr_out_printf(o, ": recovered in **%s**", m);
        if (*x->bound) {
            cr_out_puts(o, " (bound ");
            cr_out_mdcode(o, x->bound);
            cr_out_puts(o, ")");
        }
        cr_out_puts(o, "\n");
    }
    if (any)
        cr_out_puts(o, "\n");
    double in = cr_report_rate_faults(r, "delivered", 1);
    double out = cr_report_rate_faults(r, "delivered", 0);
    if (!isnan(in) || !isnan(out)) {
        cr_out_puts(o, "### Throughput\n\n- delivered: ");
        if (!isnan(out))
            cr_out_printf(o, "**%.1f/s** outside faults", out);
        if (!isnan(in))
            cr_out_printf(o, "%s**%.1f/s** during faults",
                          isnan(out) ? "" : ", ", in);
        if (!isnan(in) && !isnan(out) && out > 0)
            cr_out_printf(o, " (%+.0f %%)", (in - out) / out * 100);
        cr_out_puts(o, "\n\n");
    }
}

/* Rows shown in Markdown before "… N more in report.html". */
#define MD_ROWS 20

static void md_rows(cr_out *o, const cr_rep_evrow *v, size_t n)
{
    for (size_t k = 0; k < n && k < MD_ROWS; k++) {
        cr_out_puts(o, "- ");
        if (!isnan(v[k].t))
            cr_out_printf(o, "`t=%.3f` ", v[k].t);
        cr_out_md(o, v[k].text);
        cr_out_puts(o, "\n");
    }
    if (n > MD_ROWS)
        cr_out_printf(o, "- \xE2\x80\xA6 %zu more in report.html\n",
                      n - MD_ROWS);
}

/* "- text" as one Markdown list item. */
static void md_item(cr_out *o, const char *text)
{
    cr_out_puts(o, "- ");
    cr_out_md(o, text);
    cr_out_puts(o, "\n");
}

static void md_lost(cr_out *o, const cr_rep_lost *l)
{
    char b[640];
    if (!l || !l->n ||
        (l->checker_lost >= 0 && l->checker_lost != (long long)l->n))
        return;
    cr_out_puts(o, "Where the lost ids were last seen:\n\n");
    for (size_t g = 0; g < l->ngroups; g++) {
        cr_evid_group_text(b, sizeof b, l, &l->groups[g]);
        md_item(o, b);
    }
    cr_evid_rest_text(b, sizeof b, l);
    if (*b)
        md_item(o, b);
    cr_out_puts(o, "\n");
}

static void evidence(const cr_report *r, cr_out *o)
{
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        size_t ninfo = x->nrows - x->nfail;
        char om[96];
        if (!strcmp(x->verdict, "passed") || (!x->nrows && !x->lost))
            continue;
        cr_out_puts(o, "<details><summary>Evidence: ");
        cr_out_esc(o, x->name);
        cr_out_printf(o,
                      " (%zu failure row%s, %zu informational)</summary>\n\n",
                      x->nfail, cr_fmt_s(x->nfail), ninfo);
        md_lost(o, x->lost);
        if (x->lost && x->nfail)
            cr_out_puts(o, "Failure rows:\n\n");
        md_rows(o, x->rows, x->nfail);
        if (ninfo) {
            cr_out_printf(o,
                          "%sInformational (not reasons for the verdict):\n\n",
                          x->nfail ? "\n" : "");
            md_rows(o, x->rows + x->nfail, ninfo);
        }
        cr_evid_omitted_text(om, sizeof om, x);
        if (*om) {
            cr_out_puts(o, "\n_");
            cr_out_md(o, om);
            cr_out_puts(o, "_\n");
        }
        cr_out_puts(o, "\n</details>\n\n");
    }
}

/* Right under the heading: what failed and why, one line each. */
static void failures(const cr_report *r, cr_out *o)
{
    if (!r->nfailed && !r->nunknown && !r->error)
        return;
    cr_out_puts(o, "**What failed:**\n\n");
    if (r->error) {
        cr_out_printf(o, "- %s: ", cr_fmt_verdict_of(cr_report_verdict(r))->md);
        cr_out_md(o, r->error);
        cr_out_puts(o, "\n");
    }
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        if (!strcmp(x->verdict, "passed"))
            continue;
        cr_out_printf(o, "- %s **", cr_fmt_verdict_of(x->verdict)->md);
        cr_out_md(o, x->name);
        cr_out_puts(o, "** (");
        cr_out_mdcode(o, *x->kind ? x->kind : "?");
        cr_out_puts(o, "): ");
        cr_out_md(o, *x->summary ? x->summary : "(no summary)");
        cr_out_puts(o, "\n");
        if (x->lost && x->lost->hint) {
            cr_out_puts(o, "  - hint: ");
            cr_out_md(o, x->lost->hint);
            cr_out_puts(o, "\n");
        }
    }
    cr_out_puts(o, "\n");
}

int cr_md_write(const cr_report *r, cr_out *o, cr_err *err)
{
    header(r, o);
    expectations(r, o);
    faults(r, o);
    figures(r, o);
    evidence(r, o);
    if (r->malformed)
        cr_out_printf(o, "_%zu malformed event line%s ignored._\n\n",
                      r->malformed, r->malformed == 1 ? "" : "s");
    cr_out_puts(o, "<sub>Full report: report.html in the run directory");
    cr_out_puts(o, ".</sub>\n");
    if (cr_out_failed(o))
        return cr_err_set(err, CR_ENOMEM, "report.md for %s: out of memory",
                          r->name);
    return 0;
}
