/* cr_svg: the SVG patterns and the timeline of a run (see cr_svg.h); the
 * charts, histogram and gauge are in cr_svg_chart.c.  Everything is drawn
 * in a 1000-unit-wide viewBox; the page scales it and, on narrow screens,
 * scrolls it sideways rather than shrinking the text below legibility. */
#include "cr_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_fmt.h"
#include "cr_report_internal.h"
#include "cr_svg_internal.h"

#define ROW 22.0
#define BAR 14.0

double cr_svg_x(const cr_svg_axis *a, double t)
{
    if (t < a->t0)
        t = a->t0;
    if (t > a->t1)
        t = a->t1;
    return L + (t - a->t0) / (a->t1 - a->t0) * (R - L);
}

double cr_svg_nice_step(double span, int max_ticks)
{
    static const double steps[] = {0.1, 0.2, 0.5, 1,   2,   5,    10,  15,
                                   30,  60,  120, 300, 600, 1800, 3600};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= max_ticks)
            return steps[i];
    return 7200;
}

static const struct {
    const char *fill, *label, *cls;
} state_style[CR_REP_NSTATES] = {
    [CR_REP_STARTING] = {"url(#p-start)", "starting", "st-starting"},
    [CR_REP_UP] = {"#2f9e66", "up", "st-up"},
    [CR_REP_PAUSED] = {"url(#p-paused)", "paused", "st-paused"},
    [CR_REP_DEAD] = {"url(#p-dead)", "dead", "st-dead"},
    [CR_REP_RESTARTING] = {"url(#p-restart)", "restarting", "st-restarting"},
    [CR_REP_STOPPED] = {"#c9ced6", "stopped", "st-stopped"},
};

void cr_svg_defs(cr_out *o)
{
    cr_out_puts(
        o,
        "<svg width=\"0\" height=\"0\" style=\"position:absolute\" "
        "aria-hidden=\"true\"><defs>\n"
        "<pattern id=\"p-paused\" width=\"6\" height=\"6\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        "<rect width=\"6\" height=\"6\" fill=\"#dbe6f5\"/>"
        "<rect width=\"3\" height=\"6\" fill=\"#4a6fa5\"/></pattern>\n"
        "<pattern id=\"p-dead\" width=\"6\" height=\"6\" "
        "patternUnits=\"userSpaceOnUse\">"
        "<rect width=\"6\" height=\"6\" fill=\"#f6d5d1\"/>"
        "<path d=\"M0,0L6,6M6,0L0,6\" stroke=\"#b3261e\" stroke-width=\"1.4\"/>"
        "</pattern>\n"
        "<pattern id=\"p-restart\" width=\"5\" height=\"5\" "
        "patternUnits=\"userSpaceOnUse\">"
        "<rect width=\"5\" height=\"5\" fill=\"#fbe6c2\"/>"
        "<circle cx=\"2.5\" cy=\"2.5\" r=\"1.3\" fill=\"#b26a00\"/></pattern>\n"
        "<pattern id=\"p-start\" width=\"5\" height=\"5\" "
        "patternUnits=\"userSpaceOnUse\">"
        "<rect width=\"5\" height=\"5\" fill=\"#d3eedf\"/>"
        "<circle cx=\"2.5\" cy=\"2.5\" r=\"1\" fill=\"#2f9e66\"/></pattern>\n"
        "<pattern id=\"p-fault\" width=\"8\" height=\"8\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">"
        "<rect width=\"8\" height=\"8\" fill=\"#ffe3c4\"/>"
        "<rect width=\"3\" height=\"8\" fill=\"#e8740c\"/></pattern>\n"
        "<pattern id=\"p-faultbg\" width=\"8\" height=\"8\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(-45)\">"
        "<rect width=\"8\" height=\"8\" fill=\"#fff4e8\"/>"
        "<rect width=\"1.5\" height=\"8\" fill=\"#f6c999\"/></pattern>\n"
        "<pattern id=\"p-open\" width=\"6\" height=\"6\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        "<rect width=\"6\" height=\"6\" fill=\"#f6d5d1\"/>"
        "<rect width=\"3\" height=\"6\" fill=\"#b3261e\"/></pattern>\n"
        "<pattern id=\"p-half\" width=\"5\" height=\"5\" "
        "patternUnits=\"userSpaceOnUse\">"
        "<rect width=\"5\" height=\"5\" fill=\"#fbe6c2\"/>"
        "<circle cx=\"2.5\" cy=\"2.5\" r=\"1.3\" fill=\"#b26a00\"/></pattern>\n"
        "<pattern id=\"p-err\" width=\"4\" height=\"4\" "
        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        "<rect width=\"4\" height=\"4\" fill=\"#e8a39c\"/>"
        "<rect width=\"2\" height=\"4\" fill=\"#b3261e\"/></pattern>\n"
        "</defs></svg>\n");
}

/* ---- pieces ----------------------------------------------------------- */

/* Approximate rendered width of s at the small label size: characters,
 * not bytes, times an average advance. */
double cr_svg_text_w(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return 6.6 * (double)n;
}

void cr_svg_label(cr_out *o, double x, double y, const char *cls,
                  const char *anchor, const char *text)
{
    cr_out_printf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\"", x, y, cls);
    if (anchor)
        cr_out_printf(o, " text-anchor=\"%s\"", anchor);
    cr_out_puts(o, ">");
    cr_out_esc(o, text);
    cr_out_puts(o, "</text>");
}

/* Lane label in the left column, shortened to fit. */
static void lane_label(cr_out *o, double y, const char *text)
{
    char buf[26];
    size_t n = strlen(text);
    if (n < sizeof buf)
        snprintf(buf, sizeof buf, "%s", text);
    else
        snprintf(buf, sizeof buf, "%.22s\xE2\x80\xA6", text);
    cr_svg_label(o, L - 8, y + BAR - 3, "lane", "end", buf);
}

void cr_svg_grid(cr_out *o, const cr_svg_axis *a, double y0, double y1,
                 int labels)
{
    double step = cr_svg_nice_step(a->t1 - a->t0, 12);
    cr_out_puts(o, "<g class=\"grid\">");
    for (double t = ceil(a->t0 / step) * step; t <= a->t1 + 1e-9; t += step) {
        double x = cr_svg_x(a, t);
        cr_out_printf(
            o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>", x,
            y0, x, y1, fabs(t) < 1e-9 ? " class=\"t0\"" : "");
        if (labels) {
            char b[32];
            snprintf(b, sizeof b, step < 1 ? "%.1f s" : "%.0f s",
                     fabs(t) < 1e-9 ? 0.0 : t);
            cr_svg_label(o, x, y0 - 4, "tick", "middle", b);
        }
    }
    cr_out_puts(o, "</g>\n");
}

static void group_heading(cr_out *o, double y, const char *text)
{
    cr_svg_label(o, 8, y + 12, "group", NULL, text);
    cr_out_printf(o,
                  "<line class=\"sep\" x1=\"8\" y1=\"%.1f\" x2=\"%.0f\" "
                  "y2=\"%.1f\"/>",
                  y + 16, R, y + 16);
}

/* A rectangle with a tooltip and an optional inside label. */
static void seg(cr_out *o, const cr_svg_axis *a, double t0, double t1, double y,
                const char *fill, const char *cls, const char *tip,
                const char *text, const char *data)
{
    double x0 = cr_svg_x(a, t0), x1 = cr_svg_x(a, t1);
    if (x1 - x0 < 2.5) { /* keep instants visible */
        double c = (x0 + x1) / 2;
        x0 = c - 1.5;
        x1 = c + 1.5;
    }
    cr_out_printf(o,
                  "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                  "height=\"%.0f\" fill=\"%s\"%s>",
                  cls, x0, y, x1 - x0, BAR, fill, data ? data : "");
    if (tip) {
        cr_out_puts(o, "<title>");
        cr_out_esc(o, tip);
        cr_out_puts(o, "</title>");
    }
    cr_out_puts(o, "</rect>");
    if (text && x1 - x0 > cr_svg_text_w(text) + 8)
        cr_svg_label(o, (x0 + x1) / 2, y + BAR - 3.5, "inseg", "middle", text);
    else if (text && !strncmp(cls, "mk-", 3) && x1 + cr_svg_text_w(text) < R)
        cr_svg_label(o, x1 + 4, y + BAR - 3.5, "mlabel", NULL,
                     text); /* beside */
    else if (text && !strncmp(cls, "mk-", 3))
        cr_svg_label(o, x0 - 4, y + BAR - 3.5, "mlabel", "end", text);
}

/* ---- long runs: a lane per column --------------------------------------- */

/* How many marks a lane may have before it is drawn per column (0: no
 * limit), and in how many columns (cr_svg_timeline_limited). */
typedef struct tl_lim {
    size_t items, cols;
} tl_lim;

/* One mark of a lane: a window [t0, t1] (t0 == t1: an instant) drawn in
 * style `style` of the lane's table. */
typedef struct lane_item {
    double t0, t1;
    int style;
} lane_item;

typedef struct lane_style {
    const char *fill, *cls, *label;
    double boost; /* added to a column's weight for every mark of this
                     style in it: a style that must show (a failed probe)
                     wins the column */
} lane_style;

#define AGG_MAX_STYLES 8

/* Too many marks to draw one by one: the lane cut into lim->cols columns
 * of equal time, each keyed by the style in it (one style only; a boosted
 * style -- a failure -- whenever present; else "mixed"); adjacent columns
 * of the same key are one rectangle (class "<style> agg", plus "mixed")
 * whose tooltip gives the time range and how many marks of each style
 * start in it.  At most lim->cols rectangles, whatever the number of
 * marks. */
static void lane_columns(cr_out *o, const cr_svg_axis *a, const tl_lim *lim,
                         double y, const lane_item *it, size_t n,
                         const lane_style *st, size_t nst, const char *lane,
                         const char *what)
{
    size_t C = lim->cols ? lim->cols : 2000;
    double span = a->t1 - a->t0, cw = span / (double)C;
    double *w = cr_calloc(C * nst, sizeof *w);
    size_t *cnt = cr_calloc(C * nst, sizeof *cnt);
    if (!w || !cnt || nst > AGG_MAX_STYLES || !(span > 0)) {
        o->failed |= !w || !cnt;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        double t0 = it[i].t0 < a->t0   ? a->t0
                    : it[i].t0 > a->t1 ? a->t1
                                       : it[i].t0;
        double t1 = it[i].t1 < t0 ? t0 : it[i].t1 > a->t1 ? a->t1 : it[i].t1;
        size_t k = (size_t)it[i].style, c0 = (size_t)((t0 - a->t0) / cw),
               c1 = (size_t)((t1 - a->t0) / cw);
        if (k >= nst)
            continue;
        c0 = c0 >= C ? C - 1 : c0;
        c1 = c1 >= C ? C - 1 : c1;
        cnt[c0 * nst + k]++;
        w[c0 * nst + k] += st[k].boost;
        if (t1 <= t0) {
            w[c0 * nst + k] += cw / 2;
            continue;
        }
        for (size_t c = c0; c <= c1; c++) {
            double lo = a->t0 + cw * (double)c, hi = lo + cw;
            w[c * nst + k] += (t1 < hi ? t1 : hi) - (t0 > lo ? t0 : lo);
        }
    }
    /* A column's key: the one style present in it; a boosted style (a
     * failure) when present; else "mixed" (nst): at this resolution the
     * marks cannot be told apart, and runs of such columns are one
     * rectangle, filled as the style weighing most over the run. */
    size_t from = 0, tally[AGG_MAX_STYLES] = {0};
    double runw[AGG_MAX_STYLES] = {0};
    int cur = -1, *keys = cr_calloc(C, sizeof *keys);
    if (!keys) {
        o->failed = 1;
        goto out;
    }
    for (size_t c = 0; c < C; c++) {
        int key = -1, present = 0;
        for (size_t k = 0; k < nst; k++) {
            if (!(w[c * nst + k] > 0))
                continue;
            present++;
            if (st[k].boost > 0 && (key < 0 || st[key].boost < st[k].boost))
                key = (int)k;
        }
        if (key < 0 || st[key].boost <= 0) {
            key = -1;
            for (size_t k = 0; k < nst && present == 1; k++)
                if (w[c * nst + k] > 0)
                    key = (int)k;
            if (present > 1)
                key = (int)nst;
        }
        keys[c] = key;
    }
    /* Shapes narrower than 3 units are drawn 3 wide (seg), so what is
     * closer than that cannot be told apart anyway: a gap of fewer than g
     * columns between two runs is filled (with their key when they share
     * it, else "mixed"), and so is a run of one style shorter than g
     * between mixed columns.  Marks about a column apart thus draw one
     * rectangle, not one a column. */
    size_t g = (size_t)ceil(3.0 * (double)C / (R - L));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t c = 0, e; c < C; c = e) {
            e = c;
            while (e < C && keys[e] == keys[c])
                e++;
            int prev = c ? keys[c - 1] : -1, next = e < C ? keys[e] : -1;
            if (e - c >= g || prev < 0 || next < 0)
                continue;
            if (pass == 0 && keys[c] < 0) /* a short gap */
                for (size_t q = c; q < e; q++)
                    keys[q] = prev == next ? prev : (int)nst;
            else if (pass == 1 && prev == (int)nst && next == (int)nst)
                for (size_t q = c; q < e; q++) /* a short run in mixed */
                    keys[q] = (int)nst;
        }
    }
    for (size_t c = 0; c <= C; c++) {
        int key = c < C ? keys[c] : -1;
        if (key == cur && c < C) {
            for (size_t k = 0; k < nst; k++) {
                tally[k] += cnt[c * nst + k];
                runw[k] += w[c * nst + k];
            }
            continue;
        }
        if (cur >= 0) {
            double t0 = a->t0 + cw * (double)from, t1 = a->t0 + cw * (double)c;
            size_t total = 0, fill = 0;
            for (size_t k = 0; k < nst; k++) {
                total += tally[k];
                if (runw[k] > runw[fill])
                    fill = k;
            }
            cr_out tip, cls;
            cr_out_init(&tip);
            cr_out_init(&cls);
            cr_out_printf(&tip, "%s: %zu %s from %.2f s to %.2f s", lane, total,
                          what, t0, t1);
            for (size_t k = 0, first = 1; k < nst; k++)
                if (tally[k]) {
                    cr_out_printf(&tip, "%s %s %zu", first ? ":" : ",",
                                  st[k].label, tally[k]);
                    first = 0;
                }
            if (cur == (int)nst)
                cr_out_printf(&tip, " (mixed, mostly %s)", st[fill].label);
            else
                fill = (size_t)cur;
            cr_out_printf(&cls, "%s agg%s", st[fill].cls,
                          cur == (int)nst ? " mixed" : "");
            if (tip.failed || cls.failed)
                o->failed = 1;
            seg(o, a, t0, t1, y, st[fill].fill, cr_out_str(&cls),
                cr_out_str(&tip), NULL, NULL);
            cr_out_free(&tip);
            cr_out_free(&cls);
        }
        cur = key;
        from = c;
        for (size_t k = 0; k < nst; k++) {
            tally[k] = c < C ? cnt[c * nst + k] : 0;
            runw[k] = c < C ? w[c * nst + k] : 0;
        }
    }
    cr_free(keys);
out:
    cr_free(w);
    cr_free(cnt);
}

/* ---- timeline --------------------------------------------------------- */

static double faults_lanes(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                           double y, const tl_lim *lim)
{
    const char *names[64];
    size_t nn = 0;
    for (size_t i = 0; i < r->nfaults; i++) {
        size_t k = 0;
        while (k < nn && strcmp(names[k], r->faults[i].name))
            k++;
        if (k == nn && nn < 64)
            names[nn++] = r->faults[i].name;
    }
    if (!nn)
        return y;
    group_heading(o, y, "Faults");
    y += 22;
    static const lane_style fst[] = {
        {"url(#p-fault)", "fault-window", "window", 0},
        {"#e8740c", "fault-window", "instant", 0},
        {"#fff", "fault-window not-applied", "not applied", 0},
    };
    for (size_t k = 0; k < nn; k++, y += ROW) {
        lane_label(o, y, names[k]);
        size_t occ = 0;
        for (size_t i = 0; i < r->nfaults; i++)
            occ += !strcmp(r->faults[i].name, names[k]);
        if (lim->items && occ > lim->items) {
            lane_item *it = cr_calloc(occ, sizeof *it);
            size_t m = 0;
            if (!it) {
                o->failed = 1;
                continue;
            }
            for (size_t i = 0; i < r->nfaults; i++) {
                const cr_rep_fault *f = &r->faults[i];
                if (!strcmp(f->name, names[k]))
                    it[m++] = (lane_item){
                        f->start, f->end,
                        strcmp(f->outcome, "applied") ? 2 : f->instant};
            }
            cr_out_printf(o, "<g class=\"agg-lane\" data-fault=\"");
            cr_out_esc(o, names[k]);
            cr_out_puts(o, "\">");
            lane_columns(o, a, lim, y, it, m, fst, 3, names[k], "occurrences");
            cr_out_puts(o, "</g>\n");
            cr_free(it);
            continue;
        }
        for (size_t i = 0; i < r->nfaults; i++) {
            const cr_rep_fault *f = &r->faults[i];
            if (strcmp(f->name, names[k]))
                continue;
            char tip[768], line[400], txt[64], d[64];
            int applied = !strcmp(f->outcome, "applied");
            cr_fmt_fault_line(line, sizeof line, f);
            cr_fmt_fault_lasted(d, sizeof d, f);
            snprintf(tip, sizeof tip, "%s%s%s: %s%s%s", line,
                     f->instant ? "" : " for ", f->instant ? "" : d, f->outcome,
                     f->error ? " \xE2\x80\x94 " : "",
                     f->error ? f->error : "");
            if (!applied)
                snprintf(txt, sizeof txt, "%s %s", f->kind, f->outcome);
            else if (f->instant)
                snprintf(txt, sizeof txt, "\xE2\x9A\xA1 %s %s", f->kind,
                         f->target);
            else
                snprintf(txt, sizeof txt, "%s %s", f->kind, d);
            cr_out_puts(o, "<g>");
            /* The attributes are built whole (never truncated: a cut
             * entity or a lost quote would break the markup). */
            cr_out data;
            cr_out_init(&data);
            cr_out_puts(&data, " data-fault=\"");
            cr_out_esc(&data, f->name);
            cr_out_printf(&data, "\" data-occurrence=\"%d\"", f->occurrence);
            if (data.failed)
                o->failed = 1;
            seg(o, a, f->start, f->end, y,
                applied ? (f->instant ? "#e8740c" : "url(#p-fault)") : "#fff",
                applied ? "fault-window" : "fault-window not-applied", tip,
                NULL, cr_out_str(&data));
            cr_out_free(&data);
            /* Label right of an instant or inside/after a window. */
            double x0 = cr_svg_x(a, f->start), x1 = cr_svg_x(a, f->end);
            double tx = f->instant ? x1 + 4 : x0 + 3;
            if (!f->instant && x1 - x0 < cr_svg_text_w(txt) + 6)
                tx = x1 + 4;
            if (tx > R - cr_svg_text_w(txt))
                cr_svg_label(o, x0 - 4, y + BAR - 3.5, "flabel", "end", txt);
            else
                cr_svg_label(o, tx, y + BAR - 3.5,
                             !f->instant && tx < x1 ? "flabel in" : "flabel",
                             NULL, txt);
            cr_out_puts(o, "</g>\n");
        }
    }
    return y + 6;
}

static double service_lanes(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                            double y, const tl_lim *lim)
{
    if (!r->nlanes)
        return y;
    group_heading(o, y, "Services");
    y += 22;
    for (size_t i = 0; i < r->nlanes; i++, y += ROW) {
        const cr_rep_lane *l = &r->lanes[i];
        char name[96];
        if (l->restarts > 0)
            snprintf(name, sizeof name, "%s \xE2\x86\xBB%d", l->inst,
                     l->restarts);
        else
            snprintf(name, sizeof name, "%s", l->inst);
        lane_label(o, y, name);
        cr_out_printf(o, "<g class=\"svc-lane\" data-instance=\"");
        cr_out_esc(o, l->inst);
        cr_out_puts(o, "\">");
        if (lim->items && l->nsegs > lim->items) {
            lane_style st[CR_REP_NSTATES];
            lane_item *it = cr_calloc(l->nsegs, sizeof *it);
            if (!it) {
                o->failed = 1;
                cr_out_puts(o, "</g>\n");
                continue;
            }
            for (int k = 0; k < CR_REP_NSTATES; k++)
                st[k] = (lane_style){state_style[k].fill, state_style[k].cls,
                                     state_style[k].label, 0};
            for (size_t k = 0; k < l->nsegs; k++)
                it[k] =
                    (lane_item){l->segs[k].t0, l->segs[k].t1, l->segs[k].state};
            lane_columns(o, a, lim, y, it, l->nsegs, st, CR_REP_NSTATES,
                         l->inst, "state segments");
            cr_free(it);
            cr_out_puts(o, "</g>\n");
            continue;
        }
        for (size_t k = 0; k < l->nsegs; k++) {
            const cr_rep_seg *s = &l->segs[k];
            char tip[256], d[32];
            cr_fmt_dur(d, sizeof d, s->t1 - s->t0);
            snprintf(tip, sizeof tip, "%s %s from %.2f s for %s", l->inst,
                     state_style[s->state].label, s->t0, d);
            seg(o, a, s->t0, s->t1, y, state_style[s->state].fill,
                state_style[s->state].cls, tip,
                s->state == CR_REP_UP ? NULL : state_style[s->state].label,
                NULL);
        }
        cr_out_puts(o, "</g>\n");
    }
    return y + 6;
}

/* One lane per breaker per instance: two replicas each have their own
 * breaker even when the breakers share a name. */
static double breaker_lanes(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                            double y, const tl_lim *lim)
{
    const char *names[32], *insts[32];
    size_t nn = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const cr_rep_event *e = &r->ev[i];
        const char *nm = cr_rep_jstr(e->obj, "name");
        if (strcmp(e->ev, "breaker") || !nm)
            continue;
        size_t k = 0;
        while (k < nn && (strcmp(names[k], nm) || strcmp(insts[k], e->inst)))
            k++;
        if (k == nn && nn < 32) {
            names[nn] = nm;
            insts[nn++] = e->inst;
        }
    }
    if (!nn)
        return y;
    int multi = 0; /* show the instance only when more than one reports */
    for (size_t k = 1; k < nn; k++)
        multi |= strcmp(insts[k], insts[0]) != 0;
    group_heading(o, y, "Circuit breakers");
    y += 22;
    for (size_t k = 0; k < nn; k++, y += ROW) {
        char lab[96];
        if (multi)
            snprintf(lab, sizeof lab, "%s @%s", names[k], insts[k]);
        else
            snprintf(lab, sizeof lab, "breaker %s", names[k]);
        lane_label(o, y, lab);
        /* The windows first (a state, from, to), then drawn. */
        const char *state = NULL;
        double since = 0;
        lane_item *it = NULL;
        const char **its = NULL;
        size_t m = 0, cap = 0;
        for (size_t i = 0; i <= r->nev; i++) {
            const cr_rep_event *e = i < r->nev ? &r->ev[i] : NULL;
            const char *nm = e ? cr_rep_jstr(e->obj, "name") : NULL;
            if (e && (strcmp(e->ev, "breaker") || !nm || strcmp(names[k], nm) ||
                      strcmp(insts[k], e->inst)))
                continue;
            double t = e ? e->t : r->t_max;
            const char *ns = e ? cr_rep_jstr(e->obj, "state") : NULL;
            if (state && (!e || !ns || strcmp(ns, state))) {
                if (m == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    lane_item *ni = cr_realloc(it, nc * sizeof *ni);
                    const char **ns2 =
                        ni ? cr_realloc(its, nc * sizeof *ns2) : NULL;
                    if (ni)
                        it = ni;
                    if (!ni || !ns2) {
                        o->failed = 1;
                        break;
                    }
                    its = ns2;
                    cap = nc;
                }
                its[m] = state;
                it[m++] = (lane_item){since, t,
                                      !strcmp(state, "open")        ? 1
                                      : !strcmp(state, "half_open") ? 2
                                                                    : 0};
            }
            if (e && ns && (!state || strcmp(ns, state))) {
                state = ns;
                since = t;
            }
        }
        static const lane_style bst[] = {
            {"#2f9e66", "br-closed", "closed", 0},
            {"url(#p-open)", "br-open", "OPEN", 0},
            {"url(#p-half)", "br-half", "half-open", 0},
        };
        if (lim->items && m > lim->items) {
            lane_columns(o, a, lim, y, it, m, bst, 3, lab, "state windows");
        } else {
            for (size_t q = 0; q < m; q++) {
                char tip[240];
                snprintf(tip, sizeof tip,
                         "breaker %s on %s %s from %.2f s to %.2f s", names[k],
                         insts[k], its[q], it[q].t0, it[q].t1);
                seg(o, a, it[q].t0, it[q].t1, y, bst[it[q].style].fill,
                    bst[it[q].style].cls, tip,
                    strcmp(its[q], "closed") ? bst[it[q].style].label : NULL,
                    NULL);
            }
        }
        cr_free(it);
        cr_free(its);
        cr_out_puts(o, "\n");
    }
    return y + 6;
}

static double probe_lanes(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                          double y, const tl_lim *lim)
{
    const json_t *pr = json_object_get(r->journal, "probes");
    const char *names[16];
    size_t nn = 0;
    for (size_t i = 0; i < json_array_size(pr); i++) {
        const char *p = cr_rep_jstr(json_array_get(pr, i), "probe");
        size_t k = 0;
        while (p && k < nn && strcmp(names[k], p))
            k++;
        if (p && k == nn && nn < 16)
            names[nn++] = p;
    }
    if (!nn)
        return y;
    group_heading(o, y, "Probes");
    y += 22;
    for (size_t k = 0; k < nn; k++, y += ROW) {
        char lab[80];
        snprintf(lab, sizeof lab, "probe %s", names[k]);
        lane_label(o, y, lab);
        size_t nres = 0;
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const char *pn = cr_rep_jstr(json_array_get(pr, i), "probe");
            nres += pn && !strcmp(pn, names[k]);
        }
        if (lim->items && nres > lim->items) {
            /* A failure in a column always shows. */
            static const lane_style pst[] = {
                {"#2f9e66", "probe-ok", "ok", 0},
                {"#c92a2a", "probe-fail", "FAILED", 1e12},
            };
            lane_item *it = cr_calloc(nres, sizeof *it);
            size_t m = 0;
            if (!it) {
                o->failed = 1;
                continue;
            }
            for (size_t i = 0; i < json_array_size(pr); i++) {
                const json_t *p = json_array_get(pr, i);
                const char *pn = cr_rep_jstr(p, "probe");
                double t = cr_rep_jnum(p, "t");
                if (pn && !strcmp(pn, names[k]) && !isnan(t))
                    it[m++] = (lane_item){
                        t, t, !json_is_true(json_object_get(p, "ok"))};
            }
            lane_columns(o, a, lim, y, it, m, pst, 2, lab, "results");
            cr_free(it);
            cr_out_puts(o, "\n");
            continue;
        }
        double last_x = -100;
        int last_ok = -1;
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const json_t *p = json_array_get(pr, i);
            const char *pn = cr_rep_jstr(p, "probe");
            double t = cr_rep_jnum(p, "t");
            if (!pn || strcmp(pn, names[k]) || isnan(t))
                continue;
            int ok = json_is_true(json_object_get(p, "ok"));
            double x = cr_svg_x(a, t);
            if (ok == last_ok && x - last_x < 3)
                continue; /* same result, same spot: nothing new to see */
            last_x = x;
            last_ok = ok;
            cr_out_printf(o, "<g class=\"%s\"><title>",
                          ok ? "probe-ok" : "probe-fail");
            cr_out_escf(
                o, "%s %s at %.2f s: %s", names[k], ok ? "ok" : "FAILED", t,
                cr_rep_jstr(p, "detail") ? cr_rep_jstr(p, "detail") : "");
            cr_out_puts(o, "</title>");
            if (ok)
                cr_out_printf(
                    o, "<path d=\"M%.1f,%.1f l3,4 l6,-9\" class=\"tick-ok\"/>",
                    x - 4.5, y + 8);
            else
                cr_out_printf(o,
                              "<path d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\" "
                              "class=\"tick-fail\"/>",
                              x - 4, y + 3);
            cr_out_puts(o, "</g>");
        }
        cr_out_puts(o, "\n");
    }
    return y + 6;
}

/* The windows of alerts (firing until resolved) or degradations
 * (degraded until restored), each until the first matching end after it
 * (the end of the run when none), found in one pass. */
static void windows_lane(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                         double y, const tl_lim *lim, int alerts)
{
    const char *key = alerts ? "name" : "feature";
    lane_item *it = NULL;
    const char **nms = NULL;
    size_t *open = NULL, m = 0, nopen = 0, cap = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const cr_rep_event *e = &r->ev[i];
        const char *nm = cr_rep_jstr(e->obj, key);
        const char *state = cr_rep_jstr(e->obj, "state");
        int start = alerts ? !strcmp(e->ev, "alert") && state &&
                                 !strcmp(state, "firing")
                           : !strcmp(e->ev, "degraded");
        int end = alerts ? !strcmp(e->ev, "alert") && state &&
                               !strcmp(state, "resolved")
                         : !strcmp(e->ev, "restored");
        if (end && nm) {
            size_t keep = 0;
            for (size_t q = 0; q < nopen; q++) {
                if (!strcmp(nms[open[q]], nm))
                    it[open[q]].t1 = e->t;
                else
                    open[keep++] = open[q];
            }
            nopen = keep;
        }
        if (!start)
            continue;
        if (m == cap) {
            size_t nc = cap ? cap * 2 : 16;
            lane_item *ni = cr_realloc(it, nc * sizeof *ni);
            if (ni)
                it = ni;
            const char **nn = ni ? cr_realloc(nms, nc * sizeof *nn) : NULL;
            if (nn)
                nms = nn;
            size_t *no = nn ? cr_realloc(open, nc * sizeof *no) : NULL;
            if (!no) {
                o->failed = 1;
                goto out;
            }
            open = no;
            cap = nc;
        }
        nms[m] = nm;
        it[m] = (lane_item){e->t, r->t_max, 0};
        if (nm)
            open[nopen++] = m;
        m++;
    }
    static const lane_style ast[] = {{"url(#p-open)", "mk-alert", "firing", 0}},
                            dst[] = {
                                {"url(#p-half)", "mk-degraded", "degraded", 0}};
    if (lim->items && m > lim->items) {
        lane_columns(o, a, lim, y, it, m, alerts ? ast : dst, 1,
                     alerts ? "alerts" : "degraded", "windows");
        goto out;
    }
    for (size_t q = 0; q < m; q++) {
        char tip[300], txt[80];
        snprintf(tip, sizeof tip, "%s %s from %.2f s to %.2f s",
                 alerts ? "alert" : "degraded", nms[q] ? nms[q] : "?", it[q].t0,
                 it[q].t1);
        snprintf(txt, sizeof txt, "%s %s",
                 alerts ? "\xE2\x9A\xA0" : "\xE2\x96\xBD",
                 nms[q] ? nms[q] : "");
        seg(o, a, it[q].t0, it[q].t1, y,
            alerts ? "url(#p-open)" : "url(#p-half)",
            alerts ? "mk-alert" : "mk-degraded", tip, txt, NULL);
    }
out:
    cr_free(it);
    cr_free(nms);
    cr_free(open);
}

/* Checkpoints, failovers, alerts and degradations as markers. */
static double marker_lanes(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                           double y, const tl_lim *lim)
{
    int any = 0;
    for (size_t i = 0; i < r->nev && !any; i++) {
        const char *e = r->ev[i].ev;
        any = !strcmp(e, "checkpoint_saved") ||
              !strcmp(e, "checkpoint_restored") || !strcmp(e, "failover") ||
              !strcmp(e, "alert") || !strcmp(e, "degraded");
    }
    if (!any)
        return y;
    group_heading(o, y, "Events");
    y += 22;
    static const struct {
        const char *lane;
        const char *ev[3];
    } lanes[] = {
        {"checkpoints", {"checkpoint_saved", "checkpoint_restored", NULL}},
        {"failovers", {"failover", NULL, NULL}},
        {"alerts", {"alert", NULL, NULL}},
        {"degraded", {"degraded", "restored", NULL}},
    };
    for (size_t k = 0; k < sizeof lanes / sizeof lanes[0]; k++) {
        int has = 0;
        for (size_t i = 0; i < r->nev && !has; i++)
            for (size_t j = 0; lanes[k].ev[j] && !has; j++)
                has = !strcmp(r->ev[i].ev, lanes[k].ev[j]);
        if (!has)
            continue;
        lane_label(o, y, lanes[k].lane);
        if (k >= 2) {
            windows_lane(r, o, a, y, lim, k == 2);
            cr_out_puts(o, "\n");
            y += ROW;
            continue;
        }
        /* Markers closer than 2 units to the previous one of their kind
         * add nothing visible: skipped, so that a chatty service cannot
         * bloat the page. */
        double last_x[3] = {-100, -100, -100};
        for (size_t i = 0; i < r->nev; i++) {
            const cr_rep_event *e = &r->ev[i];
            double x = cr_svg_x(a, e->t);
            char tip[300];
            if (k == 0 && (!strcmp(e->ev, "checkpoint_saved") ||
                           !strcmp(e->ev, "checkpoint_restored"))) {
                int restored = e->ev[11] == 'r';
                if (x - last_x[restored] < 2)
                    continue;
                last_x[restored] = x;
                snprintf(tip, sizeof tip, "%.2f s %s %s %s step %lld", e->t,
                         e->inst, e->ev,
                         cr_rep_jstr(e->obj, "name")
                             ? cr_rep_jstr(e->obj, "name")
                             : "",
                         (long long)json_integer_value(
                             json_object_get(e->obj, "step")));
                cr_out_printf(
                    o,
                    "<path class=\"%s\" d=\"M%.1f,%.1f l5,7 l-5,7 l-5,-7z\">",
                    restored ? "mk-restored" : "mk-ckpt", x, y);
                cr_out_puts(o, "<title>");
                cr_out_esc(o, tip);
                cr_out_puts(o, "</title></path>");
                if (restored) {
                    cr_svg_label(o, x + 7, y + BAR - 3.5, "mlabel", NULL,
                                 "restored");
                }
            } else if (k == 1 && !strcmp(e->ev, "failover")) {
                if (x - last_x[2] < 2)
                    continue;
                last_x[2] = x;
                const char *fr = cr_rep_jstr(e->obj, "from"),
                           *to = cr_rep_jstr(e->obj, "to");
                snprintf(tip, sizeof tip, "%.2f s failover %s \xE2\x86\x92 %s",
                         e->t, fr ? fr : "?", to ? to : "?");
                cr_out_printf(
                    o,
                    "<path class=\"mk-failover\" d=\"M%.1f,%.1f l6,12 h-12z\">",
                    x, y + 1);
                cr_out_puts(o, "<title>");
                cr_out_esc(o, tip);
                cr_out_puts(o, "</title></path>");
                /* Label only the last of a cluster of close markers. */
                size_t j = i + 1, cluster = 1;
                for (size_t q = i; q-- > 0;) {
                    if (!strcmp(r->ev[q].ev, "failover")) {
                        if (cr_svg_x(a, r->ev[q].t) > x - 60)
                            cluster++;
                        break;
                    }
                }
                while (j < r->nev && strcmp(r->ev[j].ev, "failover"))
                    j++;
                if (j == r->nev ||
                    cr_svg_x(a, r->ev[j].t) - x > cr_svg_text_w(tip) + 30) {
                    char c[64];
                    snprintf(c, sizeof c, "%zu failovers", cluster);
                    cr_svg_label(o, x + 8, y + BAR - 3.5, "mlabel", NULL,
                                 cluster > 1 ? c : tip + strcspn(tip, "f"));
                }
            }
        }
        cr_out_puts(o, "\n");
        y += ROW;
    }
    return y + 6;
}

/* ---- evidence lanes ---------------------------------------------------- */

typedef struct mark {
    double t;
    const char *pre, *text; /* tooltip: pre + text */
} mark;

/* Markers for times t (sorted), one per cluster narrower than `merge`
 * units, each linked to card i: filled ✖/? for failures, small rings for
 * informational rows. */
static void marks(cr_out *o, const cr_svg_axis *a, const cr_rep_expect *x,
                  size_t i, double y, const mark *m, size_t n, int info,
                  const char *what)
{
    const double merge = info ? 4 : 10;
    for (size_t k = 0; k < n;) {
        double x0 = cr_svg_x(a, m[k].t);
        size_t j = k + 1;
        while (j < n && cr_svg_x(a, m[j].t) - x0 < merge)
            j++;
        double px = (x0 + cr_svg_x(a, m[j - 1].t)) / 2;
        cr_out_printf(o,
                      "<a href=\"#exp-%zu\"><g class=\"mk-evidence %s%s\">"
                      "<title>",
                      i, x->verdict, info ? " info" : "");
        if (j - k > 1)
            cr_out_escf(o,
                        "%s (%s%s): %zu %s from %.3f s to %.3f s; first: "
                        "%s%s",
                        x->name, x->verdict, info ? ", informational" : "",
                        j - k, what, m[k].t, m[j - 1].t, m[k].pre, m[k].text);
        else
            cr_out_escf(o, "%s (%s%s) at %.3f s: %s%s", x->name, x->verdict,
                        info ? ", informational" : "", m[k].t, m[k].pre,
                        m[k].text);
        if (info)
            cr_out_printf(o,
                          "</title><circle cx=\"%.1f\" cy=\"%.1f\" "
                          "r=\"3\"/></g></a>",
                          px, y + 7);
        else
            cr_out_printf(o,
                          "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%s</text></g></a>",
                          px, y + 7, px, y + 10.5,
                          cr_fmt_verdict_of(x->verdict)->icon);
        k = j;
    }
}

/* A lane per failed or unknown expectation with the times of its
 * evidence: the lost ids of a no_loss story, else its failure rows, and
 * its informational rows. */
static double evidence_lanes(const cr_report *r, cr_out *o,
                             const cr_svg_axis *a, double y)
{
    int head = 0;
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        size_t n = x->lost ? x->lost->n : 0, nf = 0, ni = 0;
        if (!strcmp(x->verdict, "passed"))
            continue;
        mark *m = cr_calloc(n + x->nrows + 1, sizeof *m);
        if (!m) {
            o->failed = 1;
            return y;
        }
        for (size_t k = 0; k < n; k++)
            m[nf++] = (mark){x->lost->ids[k].t_acc,
                             "accepted, never "
                             "delivered: id ",
                             x->lost->ids[k].id};
        for (size_t k = 0; k < x->nfail && !n; k++)
            if (!isnan(x->rows[k].t))
                m[nf++] = (mark){x->rows[k].t, "", x->rows[k].text};
        for (size_t k = x->nfail; k < x->nrows; k++) /* time order too */
            if (!isnan(x->rows[k].t))
                m[nf + ni++] = (mark){x->rows[k].t, "", x->rows[k].text};
        if (nf + ni) {
            char lab[160];
            if (!head++) {
                group_heading(o, y, "Evidence");
                y += 22;
            }
            snprintf(lab, sizeof lab, "%s %s",
                     cr_fmt_verdict_of(x->verdict)->icon, x->name);
            lane_label(o, y, lab);
            cr_out_printf(o, "<g class=\"ev-lane\" data-name=\"");
            cr_out_esc(o, x->name);
            cr_out_puts(o, "\">");
            marks(o, a, x, i, y, m + nf, ni, 1, "rows");
            marks(o, a, x, i, y, m, nf, 0, n ? "lost ids" : "rows");
            cr_out_puts(o, "</g>\n");
            y += ROW;
        }
        cr_free(m);
    }
    return head ? y + 6 : y;
}

static void phase_marks(const cr_report *r, cr_out *o, const cr_svg_axis *a,
                        double y0, double y1)
{
    const json_t *ph = json_object_get(r->journal, "phases");
    double last = -1000;
    for (size_t i = 0; i < json_array_size(ph); i++) {
        const json_t *p = json_array_get(ph, i);
        double t = cr_rep_jnum(p, "t");
        const char *n = cr_rep_jstr(p, "name");
        if (isnan(t) || !n || !strcmp(n, "faults") || !strcmp(n, "before"))
            continue;
        double x = cr_svg_x(a, t);
        cr_out_printf(
            o,
            "<line class=\"phase\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\"/>",
            x, y0, x, y1);
        if (x - last > cr_svg_text_w(n) + 6) { /* no overlapping labels */
            if (x + cr_svg_text_w(n) > W)
                cr_svg_label(o, x - 3, y0 + 9, "phase-l", "end", n);
            else
                cr_svg_label(o, x + 3, y0 + 9, "phase-l", NULL, n);
            last = x;
        }
    }
}

static void legend(cr_out *o, double y)
{
    static const struct {
        const char *fill, *text;
    } items[] = {
        {"#2f9e66", "up"},
        {"url(#p-start)", "starting"},
        {"url(#p-paused)", "paused"},
        {"url(#p-dead)", "dead"},
        {"url(#p-restart)", "restarting"},
        {"#c9ced6", "stopped"},
        {"url(#p-fault)", "fault window"},
        {"url(#p-open)", "breaker open / alert"},
        {"url(#p-half)", "half-open / degraded"},
    };
    double x = 8;
    cr_out_puts(o, "<g class=\"legend\">");
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        cr_out_printf(o,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"11\" "
                      "fill=\"%s\" class=\"lg\"/>",
                      x, y, items[i].fill);
        cr_svg_label(o, x + 22, y + 9.5, "lgt", NULL, items[i].text);
        x += 30 + cr_svg_text_w(items[i].text);
    }
    cr_out_puts(o, "</g>\n");
}

void cr_svg_timeline(const cr_report *r, cr_out *o)
{
    cr_svg_timeline_limited(r, o, 0, 0);
}

void cr_svg_timeline_limited(const cr_report *r, cr_out *o, size_t max_items,
                             size_t columns)
{
    const tl_lim lim_v = {max_items, columns}, *lim = &lim_v;
    cr_svg_axis a = {r->t_min, r->t_max};
    cr_out body;
    cr_out_init(&body);
    double y = 30;
    y = faults_lanes(r, &body, &a, y, lim);
    y = service_lanes(r, &body, &a, y, lim);
    y = breaker_lanes(r, &body, &a, y, lim);
    y = probe_lanes(r, &body, &a, y, lim);
    y = marker_lanes(r, &body, &a, y, lim);
    y = evidence_lanes(r, &body, &a, y);
    double h = y + 30;
    cr_out_printf(o,
                  "<svg class=\"timeline\" viewBox=\"0 0 %.0f %.0f\" "
                  "role=\"img\" aria-labelledby=\"tl-t\">"
                  "<title id=\"tl-t\">Timeline of ",
                  W, h);
    cr_out_esc(o, r->name);
    cr_out_puts(o, ": faults, service states, breakers, probes and events "
                   "(seconds after t0)</title>\n");
    cr_svg_grid(o, &a, 22, y, 1);
    phase_marks(r, o, &a, 22, y);
    cr_out_mem(o, cr_out_str(&body), body.n);
    if (body.failed)
        o->failed = 1;
    legend(o, y + 10);
    cr_out_puts(o, "</svg>\n");
    cr_out_free(&body);
}
