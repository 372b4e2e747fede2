/* cr_svg: timeline, charts, histograms and gauges as inline SVG (see
 * cr_svg.h).  Everything is drawn in a 1000-unit-wide viewBox; the page
 * scales it and, on narrow screens, scrolls it sideways rather than
 * shrinking the text below legibility. */
#include "cr_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cr_alloc.h"
#include "cr_report_internal.h"
#include "cr_stats.h"

#define W 1000.0
#define L 170.0  /* label column */
#define R 985.0
#define ROW 22.0
#define BAR 14.0

typedef struct axis {
    double t0, t1;
} axis;

static double X(const axis *a, double t)
{
    if (t < a->t0)
        t = a->t0;
    if (t > a->t1)
        t = a->t1;
    return L + (t - a->t0) / (a->t1 - a->t0) * (R - L);
}

static double nice_step(double span, int max_ticks)
{
    static const double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
                                   120, 300, 600, 1800, 3600};
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
    cr_out_puts(o,
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
static double text_w(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return 6.6 * (double)n;
}

static void label(cr_out *o, double x, double y, const char *cls,
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
    label(o, L - 8, y + BAR - 3, "lane", "end", buf);
}

static void grid(cr_out *o, const axis *a, double y0, double y1, int labels)
{
    double step = nice_step(a->t1 - a->t0, 12);
    cr_out_puts(o, "<g class=\"grid\">");
    for (double t = ceil(a->t0 / step) * step; t <= a->t1 + 1e-9; t += step) {
        double x = X(a, t);
        cr_out_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>",
                      x, y0, x, y1, fabs(t) < 1e-9 ? " class=\"t0\"" : "");
        if (labels) {
            char b[32];
            snprintf(b, sizeof b, step < 1 ? "%.1f s" : "%.0f s",
                     fabs(t) < 1e-9 ? 0.0 : t);
            label(o, x, y0 - 4, "tick", "middle", b);
        }
    }
    cr_out_puts(o, "</g>\n");
}

static void group_heading(cr_out *o, double y, const char *text)
{
    label(o, 8, y + 12, "group", NULL, text);
    cr_out_printf(o, "<line class=\"sep\" x1=\"8\" y1=\"%.1f\" x2=\"%.0f\" "
                     "y2=\"%.1f\"/>", y + 16, R, y + 16);
}

/* A rectangle with a tooltip and an optional inside label. */
static void seg(cr_out *o, const axis *a, double t0, double t1, double y,
                const char *fill, const char *cls, const char *tip,
                const char *text, const char *data)
{
    double x0 = X(a, t0), x1 = X(a, t1);
    if (x1 - x0 < 2.5) { /* keep instants visible */
        double c = (x0 + x1) / 2;
        x0 = c - 1.5;
        x1 = c + 1.5;
    }
    cr_out_printf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.0f\" fill=\"%s\"%s>", cls, x0, y, x1 - x0, BAR,
                  fill, data ? data : "");
    if (tip) {
        cr_out_puts(o, "<title>");
        cr_out_esc(o, tip);
        cr_out_puts(o, "</title>");
    }
    cr_out_puts(o, "</rect>");
    if (text && x1 - x0 > text_w(text) + 8)
        label(o, (x0 + x1) / 2, y + BAR - 3.5, "inseg", "middle", text);
    else if (text && !strncmp(cls, "mk-", 3) && x1 + text_w(text) < R)
        label(o, x1 + 4, y + BAR - 3.5, "mlabel", NULL, text); /* beside */
    else if (text && !strncmp(cls, "mk-", 3))
        label(o, x0 - 4, y + BAR - 3.5, "mlabel", "end", text);
}

/* ---- timeline --------------------------------------------------------- */

static double faults_lanes(const cr_report *r, cr_out *o, const axis *a,
                           double y)
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
    for (size_t k = 0; k < nn; k++, y += ROW) {
        lane_label(o, y, names[k]);
        for (size_t i = 0; i < r->nfaults; i++) {
            const cr_rep_fault *f = &r->faults[i];
            if (strcmp(f->name, names[k]))
                continue;
            char tip[512], txt[64], d[32], data[256];
            int applied = !strcmp(f->outcome, "applied");
            cr_rep_fmt_dur(d, sizeof d, f->end - f->start);
            snprintf(tip, sizeof tip, "%s (%s) on %s at %.2f s%s%s: %s%s%s",
                     f->name, f->kind, *f->target ? f->target : "-", f->start,
                     f->instant ? "" : " for ", f->instant ? "" : d,
                     f->outcome, f->error ? " \xE2\x80\x94 " : "",
                     f->error ? f->error : "");
            if (!applied)
                snprintf(txt, sizeof txt, "%s %s", f->kind, f->outcome);
            else if (f->instant)
                snprintf(txt, sizeof txt, "\xE2\x9A\xA1 %s %s", f->kind,
                         f->target);
            else
                snprintf(txt, sizeof txt, "%s %s%s", f->kind, d,
                         f->open ? " (never reverted)" : "");
            cr_out_puts(o, "<g>");
            /* data-fault is escaped by hand: it is an attribute value. */
            cr_out data_o;
            cr_out_init(&data_o);
            cr_out_puts(&data_o, " data-fault=\"");
            cr_out_esc(&data_o, f->name);
            cr_out_printf(&data_o, "\" data-occurrence=\"%d\"", f->occurrence);
            snprintf(data, sizeof data, "%s", cr_out_str(&data_o));
            cr_out_free(&data_o);
            seg(o, a, f->start, f->end, y,
                applied ? (f->instant ? "#e8740c" : "url(#p-fault)") : "#fff",
                applied ? "fault-window" : "fault-window not-applied", tip,
                NULL, data);
            /* Label right of an instant or inside/after a window. */
            double x0 = X(a, f->start), x1 = X(a, f->end);
            double tx = f->instant ? x1 + 4 : x0 + 3;
            if (!f->instant && x1 - x0 < text_w(txt) + 6)
                tx = x1 + 4;
            if (tx > R - text_w(txt))
                label(o, x0 - 4, y + BAR - 3.5, "flabel", "end", txt);
            else
                label(o, tx, y + BAR - 3.5,
                      !f->instant && tx < x1 ? "flabel in" : "flabel", NULL,
                      txt);
            cr_out_puts(o, "</g>\n");
        }
    }
    return y + 6;
}

static double service_lanes(const cr_report *r, cr_out *o, const axis *a,
                            double y)
{
    if (!r->nlanes)
        return y;
    group_heading(o, y, "Services");
    y += 22;
    for (size_t i = 0; i < r->nlanes; i++, y += ROW) {
        const cr_rep_lane *l = &r->lanes[i];
        char name[96];
        if (l->restarts > 0)
            snprintf(name, sizeof name, "%s \xE2\x86\xBB%d", l->inst, l->restarts);
        else
            snprintf(name, sizeof name, "%s", l->inst);
        lane_label(o, y, name);
        cr_out_printf(o, "<g class=\"svc-lane\" data-instance=\"");
        cr_out_esc(o, l->inst);
        cr_out_puts(o, "\">");
        for (size_t k = 0; k < l->nsegs; k++) {
            const cr_rep_seg *s = &l->segs[k];
            char tip[256], d[32];
            cr_rep_fmt_dur(d, sizeof d, s->t1 - s->t0);
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
static double breaker_lanes(const cr_report *r, cr_out *o, const axis *a,
                            double y)
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
        const char *state = NULL;
        double since = 0;
        for (size_t i = 0; i <= r->nev; i++) {
            const cr_rep_event *e = i < r->nev ? &r->ev[i] : NULL;
            const char *nm = e ? cr_rep_jstr(e->obj, "name") : NULL;
            if (e && (strcmp(e->ev, "breaker") || !nm || strcmp(names[k], nm) ||
                      strcmp(insts[k], e->inst)))
                continue;
            double t = e ? e->t : r->t_max;
            const char *ns = e ? cr_rep_jstr(e->obj, "state") : NULL;
            if (state && (!e || !ns || strcmp(ns, state))) {
                const char *fill = "#2f9e66", *cls = "br-closed", *txt = "closed";
                if (!strcmp(state, "open"))
                    fill = "url(#p-open)", cls = "br-open", txt = "OPEN";
                else if (!strcmp(state, "half_open"))
                    fill = "url(#p-half)", cls = "br-half", txt = "half-open";
                char tip[240];
                snprintf(tip, sizeof tip, "breaker %s on %s %s from %.2f s to %.2f s",
                         names[k], insts[k], state, since, t);
                seg(o, a, since, t, y, fill, cls, tip,
                    strcmp(state, "closed") ? txt : NULL, NULL);
            }
            if (e && ns && (!state || strcmp(ns, state))) {
                state = ns;
                since = t;
            }
        }
        cr_out_puts(o, "\n");
    }
    return y + 6;
}

static double probe_lanes(const cr_report *r, cr_out *o, const axis *a,
                          double y)
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
        for (size_t i = 0; i < json_array_size(pr); i++) {
            const json_t *p = json_array_get(pr, i);
            const char *pn = cr_rep_jstr(p, "probe");
            double t = cr_rep_jnum(p, "t");
            if (!pn || strcmp(pn, names[k]) || isnan(t))
                continue;
            int ok = json_is_true(json_object_get(p, "ok"));
            double x = X(a, t);
            cr_out_printf(o, "<g class=\"%s\"><title>", ok ? "probe-ok" : "probe-fail");
            cr_out_escf(o, "%s %s at %.2f s: %s", names[k], ok ? "ok" : "FAILED",
                        t, cr_rep_jstr(p, "detail") ? cr_rep_jstr(p, "detail") : "");
            cr_out_puts(o, "</title>");
            if (ok)
                cr_out_printf(o, "<path d=\"M%.1f,%.1f l3,4 l6,-9\" class=\"tick-ok\"/>",
                              x - 4.5, y + 8);
            else
                cr_out_printf(o, "<path d=\"M%.1f,%.1f l8,8 m0,-8 l-8,8\" class=\"tick-fail\"/>",
                              x - 4, y + 3);
            cr_out_puts(o, "</g>");
        }
        cr_out_puts(o, "\n");
    }
    return y + 6;
}

/* Checkpoints, failovers, alerts, degradations and failed-expectation
 * evidence as markers. */
static double marker_lanes(const cr_report *r, cr_out *o, const axis *a,
                           double y)
{
    int any = 0;
    for (size_t i = 0; i < r->nev && !any; i++) {
        const char *e = r->ev[i].ev;
        any = !strcmp(e, "checkpoint_saved") || !strcmp(e, "checkpoint_restored") ||
              !strcmp(e, "failover") || !strcmp(e, "alert") ||
              !strcmp(e, "degraded");
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
        for (size_t i = 0; i < r->nev; i++) {
            const cr_rep_event *e = &r->ev[i];
            double x = X(a, e->t);
            char tip[300];
            if (k == 0 && (!strcmp(e->ev, "checkpoint_saved") ||
                           !strcmp(e->ev, "checkpoint_restored"))) {
                int restored = e->ev[11] == 'r';
                snprintf(tip, sizeof tip, "%.2f s %s %s %s step %lld", e->t,
                         e->inst, e->ev, cr_rep_jstr(e->obj, "name") ? cr_rep_jstr(e->obj, "name") : "",
                         (long long)json_integer_value(json_object_get(e->obj, "step")));
                cr_out_printf(o, "<path class=\"%s\" d=\"M%.1f,%.1f l5,7 l-5,7 l-5,-7z\">",
                              restored ? "mk-restored" : "mk-ckpt", x, y);
                cr_out_puts(o, "<title>");
                cr_out_esc(o, tip);
                cr_out_puts(o, "</title></path>");
                if (restored) {
                    label(o, x + 7, y + BAR - 3.5, "mlabel", NULL, "restored");
                }
            } else if (k == 1 && !strcmp(e->ev, "failover")) {
                const char *fr = cr_rep_jstr(e->obj, "from"), *to = cr_rep_jstr(e->obj, "to");
                snprintf(tip, sizeof tip, "%.2f s failover %s \xE2\x86\x92 %s", e->t,
                         fr ? fr : "?", to ? to : "?");
                cr_out_printf(o, "<path class=\"mk-failover\" d=\"M%.1f,%.1f l6,12 h-12z\">",
                              x, y + 1);
                cr_out_puts(o, "<title>");
                cr_out_esc(o, tip);
                cr_out_puts(o, "</title></path>");
                /* Label only the last of a cluster of close markers. */
                size_t j = i + 1, cluster = 1;
                for (size_t q = i; q-- > 0;) {
                    if (!strcmp(r->ev[q].ev, "failover")) {
                        if (X(a, r->ev[q].t) > x - 60)
                            cluster++;
                        break;
                    }
                }
                while (j < r->nev && strcmp(r->ev[j].ev, "failover"))
                    j++;
                if (j == r->nev || X(a, r->ev[j].t) - x > text_w(tip) + 30) {
                    char c[64];
                    snprintf(c, sizeof c, "%zu failovers", cluster);
                    label(o, x + 8, y + BAR - 3.5, "mlabel", NULL,
                          cluster > 1 ? c : tip + strcspn(tip, "f"));
                }
            } else if ((k == 2 && !strcmp(e->ev, "alert")) ||
                       (k == 3 && !strcmp(e->ev, "degraded"))) {
                const char *key = k == 2 ? "name" : "feature";
                const char *nm = cr_rep_jstr(e->obj, key);
                if (k == 2 && strcmp(cr_rep_jstr(e->obj, "state") ? cr_rep_jstr(e->obj, "state") : "", "firing"))
                    continue;
                /* The window lasts until the matching resolved/restored. */
                double end = r->t_max;
                for (size_t j = i + 1; j < r->nev; j++) {
                    const cr_rep_event *f = &r->ev[j];
                    const char *fn = cr_rep_jstr(f->obj, key);
                    if (!fn || !nm || strcmp(fn, nm))
                        continue;
                    if ((k == 2 && !strcmp(f->ev, "alert") &&
                         !strcmp(cr_rep_jstr(f->obj, "state") ? cr_rep_jstr(f->obj, "state") : "", "resolved")) ||
                        (k == 3 && !strcmp(f->ev, "restored"))) {
                        end = f->t;
                        break;
                    }
                }
                snprintf(tip, sizeof tip, "%s %s from %.2f s to %.2f s",
                         k == 2 ? "alert" : "degraded", nm ? nm : "?", e->t, end);
                char txt[80];
                snprintf(txt, sizeof txt, "%s %s", k == 2 ? "\xE2\x9A\xA0" : "\xE2\x96\xBD",
                         nm ? nm : "");
                seg(o, a, e->t, end, y, k == 2 ? "url(#p-open)" : "url(#p-half)",
                    k == 2 ? "mk-alert" : "mk-degraded", tip, txt, NULL);
            }
        }
        cr_out_puts(o, "\n");
        y += ROW;
    }
    /* Evidence of failed expectations, so the story shows on the axis. */
    int ev_any = 0;
    for (size_t i = 0; i < r->nex; i++)
        if (strcmp(r->ex[i].verdict, "passed") && json_array_size(r->ex[i].evidence))
            ev_any = 1;
    if (ev_any) {
        lane_label(o, y, "evidence");
        for (size_t i = 0; i < r->nex; i++) {
            const cr_rep_expect *x = &r->ex[i];
            if (!strcmp(x->verdict, "passed"))
                continue;
            for (size_t k = 0; k < json_array_size(x->evidence); k++) {
                const json_t *ej = json_array_get(x->evidence, k);
                double t = cr_rep_jnum(ej, "t");
                if (isnan(t))
                    continue;
                double px = X(a, t);
                cr_out_printf(o, "<a href=\"#exp-%zu\"><g class=\"mk-evidence %s\">"
                                 "<title>", i, x->verdict);
                cr_out_escf(o, "%s (%s) at %.2f s: %s", x->name, x->verdict, t,
                            cr_rep_jstr(ej, "text") ? cr_rep_jstr(ej, "text") : "");
                cr_out_printf(o, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\"/>"
                                 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text></g></a>",
                              px, y + 7, px, y + 10.5,
                              !strcmp(x->verdict, "failed") ? "\xE2\x9C\x96" : "?");
            }
        }
        cr_out_puts(o, "\n");
        y += ROW;
    }
    return y + 6;
}

static void phase_marks(const cr_report *r, cr_out *o, const axis *a,
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
        double x = X(a, t);
        cr_out_printf(o, "<line class=\"phase\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                         "y2=\"%.1f\"/>", x, y0, x, y1);
        if (x - last > text_w(n) + 6) { /* no overlapping labels */
            if (x + text_w(n) > W)
                label(o, x - 3, y0 + 9, "phase-l", "end", n);
            else
                label(o, x + 3, y0 + 9, "phase-l", NULL, n);
            last = x;
        }
    }
}

static void legend(cr_out *o, double y)
{
    static const struct {
        const char *fill, *text;
    } items[] = {
        {"#2f9e66", "up"}, {"url(#p-start)", "starting"},
        {"url(#p-paused)", "paused"}, {"url(#p-dead)", "dead"},
        {"url(#p-restart)", "restarting"}, {"#c9ced6", "stopped"},
        {"url(#p-fault)", "fault window"}, {"url(#p-open)", "breaker open / alert"},
        {"url(#p-half)", "half-open / degraded"},
    };
    double x = 8;
    cr_out_puts(o, "<g class=\"legend\">");
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        cr_out_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"11\" "
                         "fill=\"%s\" class=\"lg\"/>", x, y, items[i].fill);
        label(o, x + 22, y + 9.5, "lgt", NULL, items[i].text);
        x += 30 + text_w(items[i].text);
    }
    cr_out_puts(o, "</g>\n");
}

void cr_svg_timeline(const cr_report *r, cr_out *o)
{
    axis a = {r->t_min, r->t_max};
    cr_out body;
    cr_out_init(&body);
    double y = 30;
    y = faults_lanes(r, &body, &a, y);
    y = service_lanes(r, &body, &a, y);
    y = breaker_lanes(r, &body, &a, y);
    y = probe_lanes(r, &body, &a, y);
    y = marker_lanes(r, &body, &a, y);
    double h = y + 30;
    cr_out_printf(o, "<svg class=\"timeline\" viewBox=\"0 0 %.0f %.0f\" "
                     "role=\"img\" aria-labelledby=\"tl-t\">"
                     "<title id=\"tl-t\">Timeline of ", W, h);
    cr_out_esc(o, r->name);
    cr_out_puts(o, ": faults, service states, breakers, probes and events "
                   "(seconds after t0)</title>\n");
    grid(o, &a, 22, y, 1);
    phase_marks(r, o, &a, 22, y);
    cr_out_mem(o, cr_out_str(&body), body.n);
    if (body.failed)
        o->failed = 1;
    legend(o, y + 10);
    cr_out_puts(o, "</svg>\n");
    cr_out_free(&body);
}

/* ---- charts ----------------------------------------------------------- */

static double nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    for (double m = 1; m <= 10; m += (m < 2 ? 0.5 : 1))
        if (m * p >= v)
            return m * p;
    return 10 * p;
}

typedef struct series {
    const char *name;
    const double *v; /* nbins values, NAN = gap */
    const char *cls;
} series;

static void chart(const cr_report *r, cr_out *o, const char *id,
                  const char *title, const char *unit, const series *s,
                  size_t ns, size_t nbins, double bin_s, int bars)
{
    axis a = {r->t_min, r->t_max};
    const double top = 26, hgt = 96, bot = top + hgt;
    double max = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < nbins; i++)
            if (!isnan(s[k].v[i]) && s[k].v[i] > max)
                max = s[k].v[i];
    max = nice_max(max);
    cr_out_printf(o, "<svg class=\"chart\" data-chart=\"%s\" viewBox=\"0 0 %.0f %.0f\" "
                     "role=\"img\" aria-label=\"", id, W, bot + 24);
    cr_out_esc(o, title);
    cr_out_puts(o, "\">\n");
    /* Fault windows shaded behind the data. */
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (strcmp(f->outcome, "applied"))
            continue;
        double x0 = X(&a, f->start), x1 = X(&a, f->end);
        if (f->instant)
            cr_out_printf(o, "<line class=\"fault-instant\" x1=\"%.1f\" y1=\"%.1f\" "
                             "x2=\"%.1f\" y2=\"%.1f\"/>", x0, top, x0, bot);
        else
            cr_out_printf(o, "<rect class=\"fault-bg\" x=\"%.1f\" y=\"%.1f\" "
                             "width=\"%.1f\" height=\"%.1f\" fill=\"url(#p-faultbg)\"/>",
                          x0, top, x1 - x0, hgt);
    }
    grid(o, &a, top, bot, 0);
    {
        char t[160];
        snprintf(t, sizeof t, "%s (%s)", title, unit);
        label(o, 8, 16, "ctitle", NULL, t);
    }
    for (int g = 0; g <= 2; g++) {
        double v = max * g / 2, yy = bot - hgt * g / 2;
        char b[32];
        snprintf(b, sizeof b, v >= 100 || v == floor(v) ? "%.0f" : "%.1f", v);
        cr_out_printf(o, "<line class=\"hgrid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
                         "y2=\"%.1f\"/>", L, yy, R, yy);
        label(o, L - 6, yy + 4, "tick", "end", b);
    }
    double bw = (R - L) / (double)nbins;
    for (size_t k = 0; k < ns; k++) {
        if (bars) {
            cr_out_printf(o, "<g class=\"%s\">", s[k].cls);
            for (size_t i = 0; i < nbins; i++) {
                double v = s[k].v[i];
                if (isnan(v) || v <= 0)
                    continue;
                double hh = v / max * hgt;
                cr_out_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                 "height=\"%.1f\"><title>%.1f\xE2\x80\x93%.1f s: %.1f %s</title></rect>",
                              L + bw * (double)i + 0.5, bot - hh, bw > 2 ? bw - 1 : bw, hh,
                              r->t_min + bin_s * (double)i,
                              r->t_min + bin_s * (double)(i + 1), v, unit);
            }
            cr_out_puts(o, "</g>\n");
            continue;
        }
        cr_out_printf(o, "<path class=\"%s\" d=\"", s[k].cls);
        int pen = 0;
        for (size_t i = 0; i < nbins; i++) {
            double v = s[k].v[i];
            if (isnan(v)) {
                pen = 0;
                continue;
            }
            cr_out_printf(o, "%c%.1f,%.1f", pen ? 'L' : 'M',
                          L + bw * ((double)i + 0.5), bot - v / max * hgt);
            pen = 1;
        }
        cr_out_puts(o, "\"/>\n");
    }
    /* Legend: a line/box sample and the name for each series. */
    double lx = R - 10;
    for (size_t k = ns; k-- > 0;) {
        lx -= text_w(s[k].name) + 34;
        if (bars)
            cr_out_printf(o, "<g class=\"%s\"><rect x=\"%.1f\" y=\"7\" width=\"16\" height=\"10\"/></g>",
                          s[k].cls, lx);
        else
            cr_out_printf(o, "<path class=\"%s\" d=\"M%.1f,12h22\"/>", s[k].cls, lx - 4);
        label(o, lx + 22, 16, "lgt", NULL, s[k].name);
    }
    cr_out_puts(o, "</svg>\n");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50/p90/p99 of latency_ms per bin (NAN where a bin has no sample). */
static int latency_bins(const cr_report *r, double bin_s, size_t nbins,
                        double *p50, double *p90, double *p99)
{
    size_t *cnt = cr_calloc(nbins + 1, sizeof *cnt);
    double *vals = NULL;
    size_t total = 0;
    if (!cnt)
        return -1;
    for (size_t i = 0; i < r->nev; i++) {
        double v = cr_rep_jnum(r->ev[i].obj, "latency_ms");
        double b = floor((r->ev[i].t - r->t_min) / bin_s);
        if (!isnan(v) && b >= 0 && b < (double)nbins) {
            cnt[(size_t)b + 1]++;
            total++;
        }
    }
    for (size_t b = 0; b < nbins; b++)
        cnt[b + 1] += cnt[b]; /* prefix sums: bin b is [cnt[b], cnt[b+1]) */
    vals = cr_malloc((total ? total : 1) * sizeof *vals);
    size_t *fill = cr_calloc(nbins, sizeof *fill);
    if (!vals || !fill) {
        cr_free(cnt);
        cr_free(vals);
        cr_free(fill);
        return -1;
    }
    for (size_t i = 0; i < r->nev; i++) {
        double v = cr_rep_jnum(r->ev[i].obj, "latency_ms");
        double b = floor((r->ev[i].t - r->t_min) / bin_s);
        if (!isnan(v) && b >= 0 && b < (double)nbins) {
            size_t k = (size_t)b;
            vals[cnt[k] + fill[k]++] = v;
        }
    }
    for (size_t b = 0; b < nbins; b++) {
        size_t n = cnt[b + 1] - cnt[b];
        double *p = vals + cnt[b];
        qsort(p, n, sizeof *p, cmp_d);
        p50[b] = cr_stats_percentile(p, n, 50);
        p90[b] = cr_stats_percentile(p, n, 90);
        p99[b] = cr_stats_percentile(p, n, 99);
    }
    cr_free(cnt);
    cr_free(vals);
    cr_free(fill);
    return total ? 1 : 0;
}

void cr_svg_charts(const cr_report *r, cr_out *o)
{
    double span = r->t_max - r->t_min;
    /* About 40-80 bins: fine enough to show a 1 s dip in a short run. */
    double bin_s = nice_step(span, 80);
    size_t nb = cr_report_nbins(r, bin_s);
    double *buf = cr_calloc(nb * 7, sizeof *buf);
    if (!buf) {
        o->failed = 1;
        return;
    }
    double *acc = buf, *del = buf + nb, *ret = buf + 2 * nb, *err = buf + 3 * nb;
    double *p50 = buf + 4 * nb, *p90 = buf + 5 * nb, *p99 = buf + 6 * nb;
    cr_report_rate(r, "accepted", bin_s, acc, nb);
    cr_report_rate(r, "delivered", bin_s, del, nb);
    cr_report_rate(r, "retry", bin_s, ret, nb);
    cr_report_rate(r, NULL, bin_s, err, nb);
    int has_acc = 0, has_del = 0, has_ret = 0, has_err = 0;
    for (size_t i = 0; i < nb; i++) {
        has_acc |= acc[i] > 0;
        has_del |= del[i] > 0;
        has_ret |= ret[i] > 0;
        has_err |= err[i] > 0;
    }
    if (has_acc || has_del) {
        series s[2];
        size_t n = 0;
        if (has_acc)
            s[n++] = (series){"accepted", acc, "s-acc"};
        if (has_del)
            s[n++] = (series){"delivered", del, "s-del"};
        chart(r, o, "throughput", "Throughput", "per s", s, n, nb, bin_s, 0);
    }
    if (has_ret) {
        series s = {"retries", ret, "b-retry"};
        chart(r, o, "retries", "Retries", "per s", &s, 1, nb, bin_s, 1);
    }
    int lat = latency_bins(r, bin_s, nb, p50, p90, p99);
    if (lat < 0)
        o->failed = 1;
    else if (lat > 0) {
        series s[3] = {{"p50", p50, "s-p50"}, {"p90", p90, "s-p90"},
                       {"p99", p99, "s-p99"}};
        chart(r, o, "latency", "Latency", "ms, from latency_ms", s, 3, nb, bin_s, 0);
    }
    if (has_err) {
        series s = {"errors", err, "b-err"};
        s.name = "errors: error field, giveup, dead_lettered, rejected";
        chart(r, o, "errors", "Errors", "per s", &s, 1, nb, bin_s, 1);
    }
    cr_free(buf);
}

/* ---- histogram and gauge ---------------------------------------------- */

void cr_svg_histogram(cr_out *o, const double *v, size_t n, const char *unit,
                      double bound, const char *title)
{
    enum { NB = 10 };
    size_t counts[NB];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    if (!isnan(bound)) {
        lo = bound < lo ? bound : lo;
        hi = bound > hi ? bound : hi;
    }
    if (!(hi >= lo)) {
        lo = 0;
        hi = 1;
    }
    if (lo > 0 && lo < (hi - lo))
        lo = 0;
    if (hi == lo)
        hi = lo + 1;
    if (lo == 0) { /* labels every 2 of 10 bins: make hi/5 a 1-2-5 step */
        double st = hi / 5, p = pow(10, floor(log10(st)));
        st = st <= p ? p : st <= 2 * p ? 2 * p : st <= 5 * p ? 5 * p : 10 * p;
        hi = 5 * st;
    }
    cr_stats_histogram(v, n, lo, hi, counts, NB);
    size_t cmax = 1;
    for (int i = 0; i < NB; i++)
        cmax = counts[i] > cmax ? counts[i] : cmax;
    const double x0 = 40, x1 = 460, y0 = 20, y1 = 130;
    cr_out_puts(o, "<svg class=\"hist\" viewBox=\"0 0 480 168\" role=\"img\" aria-label=\"");
    cr_out_esc(o, title);
    cr_out_puts(o, "\">");
    double bw = (x1 - x0) / NB;
    for (int i = 0; i < NB; i++) {
        double h = (double)counts[i] / (double)cmax * (y1 - y0);
        double a = lo + (hi - lo) * i / NB, b = lo + (hi - lo) * (i + 1) / NB;
        cr_out_printf(o, "<rect class=\"hbar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                         "height=\"%.1f\"><title>%.3g\xE2\x80\x93%.3g %s: %zu run%s</title></rect>",
                      x0 + bw * i + 1, y1 - h, bw - 2, h, a, b, unit, counts[i],
                      counts[i] == 1 ? "" : "s");
        if (counts[i])
            cr_out_printf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                             "text-anchor=\"middle\">%zu</text>",
                          x0 + bw * (i + 0.5), y1 - h - 3, counts[i]);
    }
    cr_out_printf(o, "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>",
                  x0, y1, x1, y1);
    for (int i = 0; i <= NB; i += 2)
        cr_out_printf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" "
                         "text-anchor=\"middle\">%.3g</text>",
                      x0 + bw * i, y1 + 14, lo + (hi - lo) * i / NB);
    cr_out_printf(o, "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\" "
                     "text-anchor=\"middle\">", (x0 + x1) / 2, y1 + 28);
    cr_out_esc(o, unit);
    cr_out_puts(o, "</text>");
    if (!isnan(bound)) {
        double bx = x0 + (bound - lo) / (hi - lo) * (x1 - x0);
        cr_out_printf(o, "<line class=\"bound\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" "
                         "y2=\"%.0f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.0f\" "
                         "text-anchor=\"middle\">bound %.3g</text>",
                      bx, y0 - 6, bx, y1, bx, y0 - 8 + 0.0, bound);
    }
    cr_out_puts(o, "</svg>\n");
}

void cr_svg_gauge(cr_out *o, double measured, const char *bound,
                  const char *verdict)
{
    /* bound: "<= 5", "< 5", ">= 100", "== 0". */
    const char *p = bound ? bound : "";
    while (*p == ' ')
        p++;
    int le = p[0] == '<', ge = p[0] == '>';
    char *end;
    double b = strtod(p + strspn(p, "<>=! "), &end);
    if (isnan(measured) || (!le && !ge) || end == p + strspn(p, "<>=! ") || b < 0 ||
        measured < 0)
        return;
    double scale = (measured > b ? measured : b) * 1.25;
    if (!(scale > 0))
        return;
    const double x0 = 2, x1 = 238;
    double mx = x0 + measured / scale * (x1 - x0), bx = x0 + b / scale * (x1 - x0);
    cr_out_printf(o, "<svg class=\"gauge %s\" viewBox=\"0 0 240 26\" role=\"img\" "
                     "aria-label=\"measured %.3g against bound %s\">",
                  verdict, measured, bound);
    cr_out_printf(o, "<rect class=\"g-track\" x=\"%.0f\" y=\"8\" width=\"%.0f\" height=\"10\" rx=\"3\"/>",
                  x0, x1 - x0);
    cr_out_printf(o, "<rect class=\"g-ok\" x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"10\"/>",
                  le ? x0 : bx, le ? bx - x0 : x1 - bx);
    cr_out_printf(o, "<rect class=\"g-val\" x=\"%.0f\" y=\"10\" width=\"%.1f\" height=\"6\" rx=\"2\"/>",
                  x0, mx - x0 > 1 ? mx - x0 : 1);
    cr_out_printf(o, "<line class=\"g-bound\" x1=\"%.1f\" y1=\"3\" x2=\"%.1f\" y2=\"23\"/>", bx, bx);
    cr_out_puts(o, "</svg>");
}
