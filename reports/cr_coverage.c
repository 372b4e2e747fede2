/* cr_coverage: the resilience coverage of several runs -- which (fault
 * kind x target service) pairs were exercised, which mechanisms reacted
 * to each, which services were never faulted and which mechanisms never
 * reacted (cr_coverage.h; the attribution rule and coverage.json's format
 * are in reports/README.md, "Resilience coverage"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_coverage.h"
#include "cr_report_internal.h"

/* The mechanisms, in the order of the table, from events
 * (cr_cov_mech_of); "restarted" also from the journal's process history
 * (a start caused by the restart policy or a restart fault). */
static const char *const MECH[] = {
    "retry",
    "giveup",
    "breaker_open",
    "breaker_half_open",
    "breaker_closed",
    "rejected",
    "degraded",
    "restored",
    "dead_lettered",
    "failover",
    "checkpoint_restored",
    "scaled",
    "drained",
    "alert_firing",
    "restarted",
};
#define NMECH          (sizeof MECH / sizeof MECH[0])
#define MECH_RESTARTED (NMECH - 1)

typedef struct cov_row {
    char *kind, *target;
    size_t occ;  /* applied fault occurrences */
    size_t runs; /* runs with at least one */
    size_t last_run;
    size_t provoked[NMECH]; /* occurrences followed by >= 1 reaction */
    size_t events[NMECH];   /* reactions attributed */
} cov_row;

typedef struct cov_svc {
    char *name;
    size_t occ; /* applied fault occurrences aimed at it */
} cov_svc;

struct cr_cov {
    double settle_s;
    size_t nruns, applied, not_applied;
    cov_row *rows;
    size_t nrows, caprows;
    cov_svc *svcs;
    size_t nsvcs, capsvcs;
    size_t seen[NMECH];       /* reactions in the fault phase (t >= 0) */
    size_t attributed[NMECH]; /* of those, inside a fault's window */
};

size_t cr_cov_nmech(void)
{
    return NMECH;
}

const char *cr_cov_mech_name(size_t i)
{
    return i < NMECH ? MECH[i] : NULL;
}

static int mech_index(const char *name)
{
    for (size_t i = 0; i < NMECH; i++)
        if (!strcmp(MECH[i], name))
            return (int)i;
    return -1;
}

int cr_cov_mech_of(const cr_rep_event *e)
{
    const char *ev = e->ev;
    if (!strcmp(ev, "breaker")) {
        const char *st = cr_rep_jstr(e->obj, "state");
        char name[32];
        if (!st)
            return -1;
        snprintf(name, sizeof name, "breaker_%s", st);
        return mech_index(name);
    }
    if (!strcmp(ev, "alert")) {
        const char *st = cr_rep_jstr(e->obj, "state");
        return st && !strcmp(st, "firing") ? mech_index("alert_firing") : -1;
    }
    if (!strncmp(ev, "breaker_", 8) || !strcmp(ev, "alert_firing"))
        return -1; /* names of the table that are not events */
    return mech_index(ev);
}

void cr_cov_destroy(cr_cov *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nrows; i++) {
        cr_free(c->rows[i].kind);
        cr_free(c->rows[i].target);
    }
    for (size_t i = 0; i < c->nsvcs; i++)
        cr_free(c->svcs[i].name);
    cr_free(c->rows);
    cr_free(c->svcs);
    cr_free(c);
}

/* Grow *v (elements of size sz) to hold one more; 0 or -1. */
static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? 2 * *cap : 8;
    void *p = cr_realloc(*v, nc * sz);
    if (!p)
        return -1;
    *v = p;
    *cap = nc;
    return 0;
}

static cov_svc *svc_get(cr_cov *c, const char *name)
{
    for (size_t i = 0; i < c->nsvcs; i++)
        if (!strcmp(c->svcs[i].name, name))
            return &c->svcs[i];
    if (grow((void **)&c->svcs, c->nsvcs, &c->capsvcs, sizeof *c->svcs))
        return NULL;
    cov_svc *s = &c->svcs[c->nsvcs];
    *s = (cov_svc){.name = cr_strdup(name)};
    if (!s->name)
        return NULL;
    c->nsvcs++;
    return s;
}

static cov_row *row_get(cr_cov *c, const char *kind, const char *target)
{
    for (size_t i = 0; i < c->nrows; i++)
        if (!strcmp(c->rows[i].kind, kind) &&
            !strcmp(c->rows[i].target, target))
            return &c->rows[i];
    if (grow((void **)&c->rows, c->nrows, &c->caprows, sizeof *c->rows))
        return NULL;
    cov_row *w = &c->rows[c->nrows];
    *w = (cov_row){.kind = cr_strdup(kind),
                   .target = cr_strdup(target),
                   .last_run = (size_t)-1};
    if (!w->kind || !w->target) {
        cr_free(w->kind);
        cr_free(w->target);
        return NULL;
    }
    c->nrows++;
    return w;
}

/* One reaction of a run: when, which mechanism. */
typedef struct reaction {
    double t;
    int mech;
} reaction;

/* The reactions of r: mechanism events, and restarts from the journal's
 * process history.  *out malloc'd (may be NULL when *n is 0); 0 or -1. */
static int reactions_of(const cr_report *r, reaction **out, size_t *n)
{
    size_t cap = 0, k = 0;
    reaction *v = NULL;
    for (size_t i = 0; i < r->nev; i++) {
        int m = cr_cov_mech_of(&r->ev[i]);
        if (m < 0)
            continue;
        if (grow((void **)&v, k, &cap, sizeof *v))
            goto fail;
        v[k++] = (reaction){r->ev[i].t, m};
    }
    size_t i, j;
    json_t *s, *h;
    json_array_foreach (json_object_get(r->journal, "services"), i, s) {
        json_array_foreach (json_object_get(s, "history"), j, h) {
            const char *what = cr_rep_jstr(h, "what");
            const char *cause = cr_rep_jstr(h, "cause");
            double t = cr_rep_jnum(h, "t");
            if (!what || strcmp(what, "start") || !cause || isnan(t) ||
                strncmp(cause, "restart", 7))
                continue;
            if (grow((void **)&v, k, &cap, sizeof *v))
                goto fail;
            v[k++] = (reaction){t, (int)MECH_RESTARTED};
        }
    }
    *out = v;
    *n = k;
    return 0;
fail:
    cr_free(v);
    return -1;
}

/* The service a target token names: the service of the instance it is,
 * else the token itself (a service name, a link, a host...). */
static const char *service_of(const cr_report *r, const char *tok)
{
    for (size_t i = 0; i < r->nlanes; i++)
        if (!strcmp(r->lanes[i].inst, tok) || !strcmp(r->lanes[i].service, tok))
            return r->lanes[i].service;
    return tok;
}

/* The distinct services of a fault's target, joined by '\n' into buf.  A
 * proxy fault's "link NAME" stays whole; a network fault's "-" becomes
 * "hosts H1,H2" (its details.hosts) or "(network)". */
static void target_services(const cr_report *r, const cr_rep_fault *f,
                            char *buf, size_t n)
{
    const char *target = f->target;
    size_t k = 0;
    buf[0] = '\0';
    if (target && !strncmp(target, "link ", 5)) {
        snprintf(buf, n, "%s", target);
        return;
    }
    if (!target || !*target || !strcmp(target, "-")) {
        const json_t *h = json_object_get(
            json_object_get((const json_t *)f->obj, "details"), "hosts");
        char *hs = h ? json_dumps(h, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        if (hs && json_is_string(h))
            snprintf(buf, n, "hosts %s", json_string_value(h));
        else if (hs)
            snprintf(buf, n, "hosts %s", hs);
        else
            snprintf(buf, n, "(network)");
        free(hs);
        return;
    }
    for (const char *p = target; p && *p;) {
        size_t len = strcspn(p, ", ");
        char tok[256];
        if (len && len < sizeof tok) {
            memcpy(tok, p, len);
            tok[len] = '\0';
            const char *svc = service_of(r, tok);
            size_t sl = strlen(svc);
            int dup = 0;
            for (const char *q = buf; *q; q += strcspn(q, "\n") + 1) {
                size_t ql = strcspn(q, "\n");
                if (ql == sl && !strncmp(q, svc, sl))
                    dup = 1;
                if (!q[ql])
                    break;
            }
            if (!dup && k + sl + 2 < n)
                k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "\n" : "",
                                      svc);
        }
        p += len;
        p += strspn(p, ", ");
    }
    if (!k)
        snprintf(buf, n, "%s", "(none)");
}

static int add_run(cr_cov *c, const cr_report *r, size_t ri)
{
    reaction *rv = NULL;
    size_t nr = 0;
    char *in = NULL;
    int rc = -1;
    if (reactions_of(r, &rv, &nr))
        return -1;
    in = cr_calloc(nr ? nr : 1, 1);
    if (!in)
        goto out;
    for (size_t i = 0; i < r->nlanes; i++)
        if (!svc_get(c, r->lanes[i].service))
            goto out;
    for (size_t fi = 0; fi < r->nfaults; fi++) {
        const cr_rep_fault *f = &r->faults[fi];
        if (!f->outcome || strcmp(f->outcome, "applied")) {
            c->not_applied++;
            continue;
        }
        c->applied++;
        size_t hits[NMECH] = {0};
        /* A window never reverted lasts to the end of the run. */
        double end =
            (f->open || isnan(f->end) ? r->t_max : f->end) + c->settle_s;
        for (size_t k = 0; k < nr; k++)
            if (rv[k].t >= f->start && rv[k].t <= end) {
                hits[rv[k].mech]++;
                in[k] = 1;
            }
        char svcs[1024];
        target_services(r, f, svcs, sizeof svcs);
        for (char *p = svcs; *p;) {
            size_t len = strcspn(p, "\n");
            int last = !p[len];
            p[len] = '\0';
            cov_row *w = row_get(c, f->kind ? f->kind : "?", p);
            cov_svc *s = svc_get(c, p);
            if (!w || !s)
                goto out;
            s->occ++;
            w->occ++;
            if (w->last_run != ri) {
                w->last_run = ri;
                w->runs++;
            }
            for (size_t m = 0; m < NMECH; m++) {
                w->events[m] += hits[m];
                w->provoked[m] += hits[m] > 0;
            }
            if (last)
                break;
            p += len + 1;
        }
    }
    for (size_t k = 0; k < nr; k++) {
        if (rv[k].t < 0)
            continue; /* start-up: no fault yet */
        c->seen[rv[k].mech]++;
        c->attributed[rv[k].mech] += in[k];
    }
    rc = 0;
out:
    cr_free(in);
    cr_free(rv);
    return rc;
}

static int cmp_row(const void *a, const void *b)
{
    const cov_row *x = a, *y = b;
    int d = strcmp(x->kind, y->kind);
    return d ? d : strcmp(x->target, y->target);
}

static int cmp_svc(const void *a, const void *b)
{
    return strcmp(((const cov_svc *)a)->name, ((const cov_svc *)b)->name);
}

int cr_cov_build(const cr_report *const *runs, size_t n, double settle_s,
                 cr_cov **out, cr_err *err)
{
    *out = NULL;
    if (!(settle_s >= 0))
        return cr_err_set(err, CR_EINVAL,
                          "coverage: settle time %g s: must be >= 0", settle_s);
    cr_cov *c = cr_calloc(1, sizeof *c);
    if (!c)
        return cr_err_set(err, CR_ENOMEM, "coverage: out of memory");
    c->settle_s = settle_s;
    for (size_t i = 0; i < n; i++) {
        if (add_run(c, runs[i], i)) {
            cr_cov_destroy(c);
            return cr_err_set(err, CR_ENOMEM, "coverage of %s: out of memory",
                              runs[i]->dir ? runs[i]->dir : "a run");
        }
        c->nruns++;
    }
    if (c->nrows)
        qsort(c->rows, c->nrows, sizeof *c->rows, cmp_row);
    if (c->nsvcs)
        qsort(c->svcs, c->nsvcs, sizeof *c->svcs, cmp_svc);
    *out = c;
    return 0;
}

/* ---- views --------------------------------------------------------------- */

static size_t n_never_faulted(const cr_cov *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nsvcs; i++)
        k += c->svcs[i].occ == 0;
    return k;
}

json_t *cr_cov_json(const cr_cov *c)
{
    json_t *j = json_pack(
        "{s:i, s:f, s:I, s:I, s:I, s:[], s:[], s:[], s:[], s:[], s:[]}",
        "format", 1, "settle_s", c->settle_s, "runs", (json_int_t)c->nruns,
        "faults_applied", (json_int_t)c->applied, "faults_not_applied",
        (json_int_t)c->not_applied, "mechanisms", "rows", "services",
        "never_faulted", "mechanism_totals", "never_reacted");
    if (!j)
        return NULL;
    int bad = 0;
    for (size_t m = 0; m < NMECH; m++) {
        bad |= json_array_append_new(json_object_get(j, "mechanisms"),
                                     json_string(MECH[m]));
        bad |= json_array_append_new(
            json_object_get(j, "mechanism_totals"),
            json_pack("{s:s, s:I, s:I, s:I}", "name", MECH[m], "seen",
                      (json_int_t)c->seen[m], "attributed",
                      (json_int_t)c->attributed[m], "unattributed",
                      (json_int_t)(c->seen[m] - c->attributed[m])));
        if (!c->attributed[m])
            bad |= json_array_append_new(json_object_get(j, "never_reacted"),
                                         json_string(MECH[m]));
    }
    for (size_t i = 0; i < c->nrows; i++) {
        const cov_row *w = &c->rows[i];
        json_t *re = json_object();
        for (size_t m = 0; re && m < NMECH; m++)
            if (w->events[m])
                bad |= json_object_set_new(re, MECH[m],
                                           json_pack("{s:I, s:I}", "faults",
                                                     (json_int_t)w->provoked[m],
                                                     "events",
                                                     (json_int_t)w->events[m]));
        bad |= json_array_append_new(
            json_object_get(j, "rows"),
            json_pack("{s:s, s:s, s:I, s:I, s:o*}", "kind", w->kind, "target",
                      w->target, "occurrences", (json_int_t)w->occ, "runs",
                      (json_int_t)w->runs, "reactions", re));
    }
    for (size_t i = 0; i < c->nsvcs; i++) {
        bad |= json_array_append_new(json_object_get(j, "services"),
                                     json_pack("{s:s, s:I}", "name",
                                               c->svcs[i].name, "faults",
                                               (json_int_t)c->svcs[i].occ));
        if (!c->svcs[i].occ)
            bad |= json_array_append_new(json_object_get(j, "never_faulted"),
                                         json_string(c->svcs[i].name));
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The columns: mechanisms seen in some run; the rest are named apart. */
static int shown(const cr_cov *c, size_t m)
{
    return c->seen[m] > 0;
}

/* "breaker_open (seen 3 times, never within a fault's window)", ... for
 * the mechanisms that never reacted and were (seen 1) or were not (0)
 * seen at all. */
static void never_list(const cr_cov *c, int seen, cr_out *o, int md)
{
    int first = 1;
    for (size_t m = 0; m < NMECH; m++) {
        if (c->attributed[m] || (c->seen[m] > 0) != seen)
            continue;
        cr_out_puts(o, first ? "" : ", ");
        if (md)
            cr_out_printf(o, "`%s`", MECH[m]);
        else
            cr_out_wrap(o, "<code>", MECH[m], "</code>");
        if (seen)
            cr_out_printf(o, " (%zu outside every window)", c->seen[m]);
        first = 0;
    }
}

static void intro(const cr_cov *c, char *buf, size_t n)
{
    snprintf(buf, n,
             "%zu run%s, %zu fault occurrence%s applied over %zu (fault kind "
             "\xC3\x97 target) pair%s.  A mechanism event counts as a "
             "reaction to a fault when it falls inside the fault's window or "
             "up to %g s after it (every overlapping fault gets it).",
             c->nruns, c->nruns == 1 ? "" : "s", c->applied,
             c->applied == 1 ? "" : "s", c->nrows, c->nrows == 1 ? "" : "s",
             c->settle_s);
}

void cr_cov_html(const cr_cov *c, cr_out *h)
{
    char line[512];
    intro(c, line, sizeof line);
    cr_out_puts(h, "<section class=\"card\" id=\"coverage\">"
                   "<h2>Resilience coverage</h2><p>");
    cr_out_esc(h, line);
    if (c->not_applied)
        cr_out_printf(h,
                      " %zu fault occurrence%s not applied (failed, "
                      "skipped, never fired) are left out.",
                      c->not_applied, c->not_applied == 1 ? "" : "s");
    cr_out_puts(h, "</p>");
    size_t nf = n_never_faulted(c);
    if (nf) {
        cr_out_puts(h, "<div class=\"alert warn\" id=\"never-faulted\">"
                       "\xE2\x9A\xA0 Never faulted: ");
        for (size_t i = 0, k = 0; i < c->nsvcs; i++)
            if (!c->svcs[i].occ)
                cr_out_wrap(h, k++ ? ", <b>" : "<b>", c->svcs[i].name, "</b>");
        cr_out_puts(h, "</div>");
    } else if (c->nsvcs) {
        cr_out_puts(h, "<p>Every service was faulted at least once.</p>");
    }
    size_t nr = 0, nseen = 0;
    for (size_t m = 0; m < NMECH; m++) {
        nr += !c->attributed[m];
        nseen += !c->attributed[m] && c->seen[m];
    }
    if (nr) {
        cr_out_puts(h, "<div class=\"alert warn\" id=\"never-reacted\">"
                       "\xE2\x9A\xA0 Never reacted to a fault: ");
        if (nseen) {
            never_list(c, 1, h, 0);
            cr_out_puts(h, "; ");
        }
        cr_out_puts(h, "never seen in any run: ");
        never_list(c, 0, h, 0);
        cr_out_puts(h, "</div>");
    }
    cr_out_puts(h, "<div class=\"tw\"><table class=\"coverage\"><thead><tr>"
                   "<th>fault kind</th><th>target</th><th>faults</th>");
    for (size_t m = 0; m < NMECH; m++)
        if (shown(c, m))
            cr_out_wrap(h, "<th>", MECH[m], "</th>");
    cr_out_puts(h, "</tr></thead><tbody>");
    for (size_t i = 0; i < c->nrows; i++) {
        const cov_row *w = &c->rows[i];
        cr_out_wrap(h, "<tr><td>", w->kind, "</td>");
        cr_out_wrap(h, "<td>", w->target, "</td>");
        cr_out_printf(h, "<td class=\"num\">%zu</td>", w->occ);
        for (size_t m = 0; m < NMECH; m++) {
            if (!shown(c, m))
                continue;
            if (!w->provoked[m])
                cr_out_puts(h, "<td class=\"num\">\xC2\xB7</td>");
            else
                cr_out_printf(h,
                              "<td class=\"num\" title=\"%zu event%s\"><b>%zu/"
                              "%zu</b></td>",
                              w->events[m], w->events[m] == 1 ? "" : "s",
                              w->provoked[m], w->occ);
        }
        cr_out_puts(h, "</tr>");
    }
    for (size_t i = 0; i < c->nsvcs; i++) {
        if (c->svcs[i].occ)
            continue;
        cr_out_wrap(h, "<tr class=\"never\"><td>\xE2\x80\x94</td><td><b>",
                    c->svcs[i].name, "</b></td><td class=\"num\">0</td>");
        for (size_t m = 0; m < NMECH; m++)
            if (shown(c, m))
                cr_out_puts(h, "<td></td>");
        cr_out_puts(h, "</tr>");
    }
    cr_out_puts(h, "</tbody></table></div><p class=\"note\">A cell: the "
                   "fault occurrences followed by at least one reaction, of "
                   "all occurrences of the row (events in the tooltip); "
                   "\xC2\xB7 none.  Totals and unattributed reactions: "
                   "coverage.json.</p></section>");
}

void cr_cov_md(const cr_cov *c, cr_out *md)
{
    char line[512];
    intro(c, line, sizeof line);
    cr_out_puts(md, "## Resilience coverage\n\n");
    cr_out_md(md, line);
    cr_out_puts(md, "\n\n");
    size_t nf = n_never_faulted(c), nr = 0, nseen = 0;
    for (size_t m = 0; m < NMECH; m++) {
        nr += !c->attributed[m];
        nseen += !c->attributed[m] && c->seen[m];
    }
    if (nf) {
        cr_out_puts(md, "- \xE2\x9A\xA0\xEF\xB8\x8F **Never faulted:** ");
        for (size_t i = 0, k = 0; i < c->nsvcs; i++)
            if (!c->svcs[i].occ) {
                cr_out_puts(md, k++ ? ", " : "");
                cr_out_md(md, c->svcs[i].name);
            }
        cr_out_puts(md, "\n");
    }
    if (nr) {
        cr_out_puts(md, "- \xE2\x9A\xA0\xEF\xB8\x8F **Never reacted to a "
                        "fault:** ");
        if (nseen) {
            never_list(c, 1, md, 1);
            cr_out_puts(md, "; ");
        }
        cr_out_puts(md, "never seen in any run: ");
        never_list(c, 0, md, 1);
        cr_out_puts(md, "\n");
    }
    cr_out_puts(md, "\n| Fault kind | Target | Faults |");
    for (size_t m = 0; m < NMECH; m++)
        if (shown(c, m)) {
            cr_out_puts(md, " ");
            cr_out_md(md, MECH[m]);
            cr_out_puts(md, " |");
        }
    cr_out_puts(md, "\n|---|---|---:|");
    for (size_t m = 0; m < NMECH; m++)
        if (shown(c, m))
            cr_out_puts(md, "---:|");
    cr_out_puts(md, "\n");
    for (size_t i = 0; i < c->nrows; i++) {
        const cov_row *w = &c->rows[i];
        cr_out_puts(md, "| ");
        cr_out_md(md, w->kind);
        cr_out_puts(md, " | ");
        cr_out_md(md, w->target);
        cr_out_printf(md, " | %zu |", w->occ);
        for (size_t m = 0; m < NMECH; m++) {
            if (!shown(c, m))
                continue;
            if (w->provoked[m])
                cr_out_printf(md, " %zu/%zu (%zu ev) |", w->provoked[m], w->occ,
                              w->events[m]);
            else
                cr_out_puts(md, " \xC2\xB7 |");
        }
        cr_out_puts(md, "\n");
    }
    for (size_t i = 0; i < c->nsvcs; i++) {
        if (c->svcs[i].occ)
            continue;
        cr_out_puts(md, "| \xE2\x80\x94 | **");
        cr_out_md(md, c->svcs[i].name);
        cr_out_puts(md, "** (never faulted) | 0 |");
        for (size_t m = 0; m < NMECH; m++)
            if (shown(c, m))
                cr_out_puts(md, " |");
        cr_out_puts(md, "\n");
    }
    cr_out_puts(md, "\nA cell: fault occurrences followed by at least one "
                    "reaction / all occurrences of the row (reactions "
                    "attributed); \xC2\xB7 none.\n");
}

int cr_cov_render(const cr_cov *c, cr_out *json, cr_out *md, cr_err *err)
{
    json_t *j = cr_cov_json(c);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                       JSON_REAL_PRECISION(6))
                   : NULL;
    json_decref(j);
    if (!text)
        return cr_err_set(err, CR_ENOMEM, "coverage.json: out of memory");
    cr_out_puts(json, text);
    cr_out_puts(json, "\n");
    free(text);
    cr_cov_md(c, md);
    return 0;
}

int cr_cov_write(const cr_report *const *runs, size_t n, const char *out_dir,
                 cr_cov **cov, cr_err *err)
{
    cr_cov *c = NULL;
    cr_out jo, md;
    cr_out_init(&jo);
    cr_out_init(&md);
    int rc = cr_cov_build(runs, n, CR_COV_SETTLE_S, &c, err);
    if (rc < 0 || (rc = cr_cov_render(c, &jo, &md, err)) < 0)
        goto out;
    if ((rc = cr_rep_write_out(&jo, out_dir, "coverage.json", err)) == 0)
        rc = cr_rep_write_out(&md, out_dir, "coverage.md", err);
out:
    cr_out_free(&jo);
    cr_out_free(&md);
    if (rc == 0 && cov)
        *cov = c;
    else
        cr_cov_destroy(c);
    return rc;
}
