/* cr_svg_chart: the charts, histograms and gauges of the cr_svg module
 * (see cr_svg.h), drawn with the primitives of cr_svg_internal.h on the
 * timeline's axis. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_fmt.h"
#include "cr_report_internal.h"
#include "cr_stats.h"
#include "cr_svg.h"
#include "cr_svg_internal.h"

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

/* What a chart is drawn on: the time axis (bins start at its t0), the bin
 * width, the run whose fault windows shade it and, when two runs are
 * overlaid, the other run's windows (outlined). */
typedef struct frame {
    cr_svg_axis a;
    double bin_s;
    const cr_report *shade, *shade_old;
} frame;

/* More applied faults than this: their shading is drawn per column. */
#define SHADE_MAX  400
#define SHADE_COLS 2000

/* Many faults: the axis in SHADE_COLS columns, a column shaded when a
 * window or an instant falls in it, runs of shaded columns one rectangle
 * (at most SHADE_COLS / 2, whatever the number of faults). */
static void fault_shade_columns(cr_out *o, const frame *fr, const cr_report *r,
                                int old, double top, double hgt)
{
    unsigned char col[SHADE_COLS + 1] = {0};
    double span = fr->a.t1 - fr->a.t0, cw = span / SHADE_COLS;
    if (!(span > 0))
        return;
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (strcmp(f->outcome, "applied"))
            continue;
        double t0 = f->start, t1 = f->instant ? f->start : f->end;
        if (t1 < fr->a.t0 || t0 > fr->a.t1)
            continue;
        t0 = t0 < fr->a.t0 ? fr->a.t0 : t0;
        t1 = t1 > fr->a.t1 ? fr->a.t1 : t1;
        size_t c0 = (size_t)((t0 - fr->a.t0) / cw),
               c1 = (size_t)((t1 - fr->a.t0) / cw);
        for (size_t c = c0; c <= c1 && c < SHADE_COLS; c++)
            col[c] = 1;
    }
    for (size_t c = 0; c < SHADE_COLS;) {
        if (!col[c]) {
            c++;
            continue;
        }
        size_t e = c;
        while (e < SHADE_COLS && col[e])
            e++;
        double x0 = cr_svg_x(&fr->a, fr->a.t0 + cw * (double)c),
               x1 = cr_svg_x(&fr->a, fr->a.t0 + cw * (double)e);
        cr_out_printf(o,
                      "<rect class=\"fault-bg agg%s\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                      old ? " old" : "", x0, top, x1 - x0, hgt,
                      old ? "none" : "url(#p-faultbg)");
        c = e;
    }
}

static void fault_shade(cr_out *o, const frame *fr, const cr_report *r, int old,
                        double top, double hgt)
{
    size_t applied = 0;
    for (size_t i = 0; r && i < r->nfaults; i++)
        applied += !strcmp(r->faults[i].outcome, "applied");
    if (applied > SHADE_MAX) {
        fault_shade_columns(o, fr, r, old, top, hgt);
        return;
    }
    for (size_t i = 0; r && i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (strcmp(f->outcome, "applied"))
            continue;
        double x0 = cr_svg_x(&fr->a, f->start), x1 = cr_svg_x(&fr->a, f->end);
        if (f->instant)
            cr_out_printf(o,
                          "<line class=\"fault-instant%s\" x1=\"%.1f\" "
                          "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                          old ? " old" : "", x0, top, x0, top + hgt);
        else
            cr_out_printf(o,
                          "<rect class=\"fault-bg%s\" x=\"%.1f\" y=\"%.1f\" "
                          "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                          old ? " old" : "", x0, top, x1 - x0, hgt,
                          old ? "none" : "url(#p-faultbg)");
    }
}

static void chart(const frame *fr, cr_out *o, const char *id, const char *title,
                  const char *unit, const series *s, size_t ns, size_t nbins,
                  int bars)
{
    const cr_svg_axis a = fr->a;
    const double bin_s = fr->bin_s;
    const double top = 26, hgt = 96, bot = top + hgt;
    double max = 0;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < nbins; i++)
            if (!isnan(s[k].v[i]) && s[k].v[i] > max)
                max = s[k].v[i];
    max = nice_max(max);
    cr_out_printf(
        o,
        "<svg class=\"chart\" data-chart=\"%s\" viewBox=\"0 0 %.0f %.0f\" "
        "role=\"img\" aria-label=\"",
        id, W, bot + 24);
    cr_out_esc(o, title);
    cr_out_puts(o, "\">\n");
    /* Fault windows shaded behind the data. */
    fault_shade(o, fr, fr->shade, 0, top, hgt);
    fault_shade(o, fr, fr->shade_old, 1, top, hgt);
    cr_svg_grid(o, &a, top, bot, 0);
    {
        char t[160];
        snprintf(t, sizeof t, "%s (%s)", title, unit);
        cr_svg_label(o, 8, 16, "ctitle", NULL, t);
    }
    for (int g = 0; g <= 2; g++) {
        double v = max * g / 2, yy = bot - hgt * g / 2;
        char b[32];
        snprintf(b, sizeof b, v >= 100 || v == floor(v) ? "%.0f" : "%.1f", v);
        cr_out_printf(
            o,
            "<line class=\"hgrid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
            "y2=\"%.1f\"/>",
            L, yy, R, yy);
        cr_svg_label(o, L - 6, yy + 4, "tick", "end", b);
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
                cr_out_printf(o,
                              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                              "height=\"%.1f\"><title>%.1f\xE2\x80\x93%.1f s: "
                              "%.1f %s</title></rect>",
                              L + bw * (double)i + 0.5, bot - hh,
                              bw > 2 ? bw - 1 : bw, hh,
                              a.t0 + bin_s * (double)i,
                              a.t0 + bin_s * (double)(i + 1), v, unit);
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
        lx -= cr_svg_text_w(s[k].name) + 34;
        if (bars)
            cr_out_printf(o,
                          "<g class=\"%s\"><rect x=\"%.1f\" y=\"7\" "
                          "width=\"16\" height=\"10\"/></g>",
                          s[k].cls, lx);
        else
            cr_out_printf(o, "<path class=\"%s\" d=\"M%.1f,12h22\"/>", s[k].cls,
                          lx - 4);
        cr_svg_label(o, lx + 22, 16, "lgt", NULL, s[k].name);
    }
    cr_out_puts(o, "</svg>\n");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50/p90/p99 of latency_ms per bin (NAN where a bin has no sample). */
static int latency_bins(const cr_report *r, double t0, double bin_s,
                        size_t nbins, double *p50, double *p90, double *p99)
{
    size_t *cnt = cr_calloc(nbins + 1, sizeof *cnt);
    double *vals = NULL;
    size_t total = 0;
    if (!cnt)
        return -1;
    for (size_t i = 0; i < r->nev; i++) {
        double v = cr_rep_jnum(r->ev[i].obj, "latency_ms");
        double b = floor((r->ev[i].t - t0) / bin_s);
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
        double b = floor((r->ev[i].t - t0) / bin_s);
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
    frame fr = {{r->t_min, r->t_max}, 0, r, NULL};
    /* About 40-80 bins: fine enough to show a 1 s dip in a short run. */
    fr.bin_s = cr_svg_nice_step(r->t_max - r->t_min, 80);
    size_t nb = cr_report_nbins(r, fr.bin_s);
    double *buf = cr_calloc(nb * 7, sizeof *buf);
    if (!buf) {
        o->failed = 1;
        return;
    }
    double *acc = buf, *del = buf + nb, *ret = buf + 2 * nb,
           *err = buf + 3 * nb;
    double *p50 = buf + 4 * nb, *p90 = buf + 5 * nb, *p99 = buf + 6 * nb;
    cr_report_rate(r, "accepted", r->t_min, fr.bin_s, acc, nb);
    cr_report_rate(r, "delivered", r->t_min, fr.bin_s, del, nb);
    cr_report_rate(r, "retry", r->t_min, fr.bin_s, ret, nb);
    cr_report_rate(r, NULL, r->t_min, fr.bin_s, err, nb);
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
        chart(&fr, o, "throughput", "Throughput", "per s", s, n, nb, 0);
    }
    if (has_ret) {
        series s = {"retries", ret, "b-retry"};
        chart(&fr, o, "retries", "Retries", "per s", &s, 1, nb, 1);
    }
    int lat = latency_bins(r, r->t_min, fr.bin_s, nb, p50, p90, p99);
    if (lat < 0)
        o->failed = 1;
    else if (lat > 0) {
        series s[3] = {{"p50", p50, "s-p50"},
                       {"p90", p90, "s-p90"},
                       {"p99", p99, "s-p99"}};
        chart(&fr, o, "latency", "Latency", "ms, from latency_ms", s, 3, nb, 0);
    }
    if (has_err) {
        series s = {"errors", err, "b-err"};
        s.name = "errors: error field, giveup, dead_lettered, rejected";
        chart(&fr, o, "errors", "Errors", "per s", &s, 1, nb, 1);
    }
    cr_free(buf);
}

static int any_above0(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0)
            return 1;
    return 0;
}

void cr_svg_compare_charts(const cr_report *old, const cr_report *neu,
                           cr_out *o)
{
    frame fr = {{fmin(old->t_min, neu->t_min), fmax(old->t_max, neu->t_max)},
                0,
                neu,
                old};
    fr.bin_s = cr_svg_nice_step(fr.a.t1 - fr.a.t0, 80);
    double nbd = ceil((fr.a.t1 - fr.a.t0) / fr.bin_s);
    size_t nb = nbd < 1 ? 1 : (size_t)nbd;
    double *buf = cr_calloc(nb * 10, sizeof *buf);
    if (!buf) {
        o->failed = 1;
        return;
    }
    static const struct {
        const char *ev, *id, *title;
    } rates[] = {
        {"delivered", "cmp-delivered", "Delivered"},
        {"retry", "cmp-retries", "Retries"},
        {NULL, "cmp-errors",
         "Errors (error field, giveup, dead_lettered, "
         "rejected)"},
    };
    double *va = buf, *vb = buf + nb, *s1 = buf + 2 * nb;
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        cr_report_rate(old, rates[k].ev, fr.a.t0, fr.bin_s, va, nb);
        cr_report_rate(neu, rates[k].ev, fr.a.t0, fr.bin_s, vb, nb);
        if (!any_above0(va, nb) && !any_above0(vb, nb))
            continue;
        series s[2] = {{"old", va, "s-old"}, {"new", vb, "s-new"}};
        chart(&fr, o, rates[k].id, rates[k].title, "per s", s, 2, nb, 0);
    }
    /* p99 of latency_ms: s1 and the next arrays are scratch for p50/p90. */
    int la = latency_bins(old, fr.a.t0, fr.bin_s, nb, s1, s1 + nb, va);
    int lb =
        latency_bins(neu, fr.a.t0, fr.bin_s, nb, s1 + 2 * nb, s1 + 3 * nb, vb);
    if (la < 0 || lb < 0)
        o->failed = 1;
    else if (la > 0 || lb > 0) {
        series s[2] = {{"old", va, "s-old"}, {"new", vb, "s-new"}};
        chart(&fr, o, "cmp-latency", "Latency p99", "ms, from latency_ms", s, 2,
              nb, 0);
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
    cr_out_puts(o, "<svg class=\"hist\" viewBox=\"0 0 480 168\" role=\"img\" "
                   "aria-label=\"");
    cr_out_esc(o, title);
    cr_out_puts(o, "\">");
    double bw = (x1 - x0) / NB;
    for (int i = 0; i < NB; i++) {
        double h = (double)counts[i] / (double)cmax * (y1 - y0);
        double a = lo + (hi - lo) * i / NB, b = lo + (hi - lo) * (i + 1) / NB;
        cr_out_printf(
            o,
            "<rect class=\"hbar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"><title>%.3g\xE2\x80\x93%.3g %s: %zu "
            "run%s</title></rect>",
            x0 + bw * i + 1, y1 - h, bw - 2, h, a, b, unit, counts[i],
            counts[i] == 1 ? "" : "s");
        if (counts[i])
            cr_out_printf(o,
                          "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%zu</text>",
                          x0 + bw * (i + 0.5), y1 - h - 3, counts[i]);
    }
    cr_out_printf(o,
                  "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" "
                  "y2=\"%.0f\"/>",
                  x0, y1, x1, y1);
    for (int i = 0; i <= NB; i += 2)
        cr_out_printf(o,
                      "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" "
                      "text-anchor=\"middle\">%.3g</text>",
                      x0 + bw * i, y1 + 14, lo + (hi - lo) * i / NB);
    cr_out_printf(o,
                  "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\" "
                  "text-anchor=\"middle\">",
                  (x0 + x1) / 2, y1 + 28);
    cr_out_esc(o, unit);
    cr_out_puts(o, "</text>");
    if (!isnan(bound)) {
        double bx = x0 + (bound - lo) / (hi - lo) * (x1 - x0);
        cr_out_printf(
            o,
            "<line class=\"bound\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" "
            "y2=\"%.0f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.0f\" "
            "text-anchor=\"middle\">bound %.3g</text>",
            bx, y0 - 6, bx, y1, bx, y0 - 8 + 0.0, bound);
    }
    cr_out_puts(o, "</svg>\n");
}

void cr_svg_gauge(cr_out *o, double measured, const char *bound,
                  const char *verdict)
{
    /* Only one-sided bounds ("<= 5", ">= 100") have a side to shade. */
    cr_fmt_bound bd;
    if (cr_fmt_bound_parse(bound, &bd) < 0 || !bd.better || isnan(bd.value) ||
        isnan(measured) || bd.value < 0 || measured < 0)
        return;
    int le = bd.better < 0;
    double b = bd.value;
    double scale = (measured > b ? measured : b) * 1.25;
    if (!(scale > 0))
        return;
    const double x0 = 2, x1 = 238;
    double mx = x0 + measured / scale * (x1 - x0),
           bx = x0 + b / scale * (x1 - x0);
    cr_out_printf(o,
                  "<svg class=\"gauge %s\" viewBox=\"0 0 240 26\" role=\"img\" "
                  "aria-label=\"measured %.3g against bound %s\">",
                  verdict, measured, bound);
    cr_out_printf(o,
                  "<rect class=\"g-track\" x=\"%.0f\" y=\"8\" width=\"%.0f\" "
                  "height=\"10\" rx=\"3\"/>",
                  x0, x1 - x0);
    cr_out_printf(o,
                  "<rect class=\"g-ok\" x=\"%.1f\" y=\"8\" width=\"%.1f\" "
                  "height=\"10\"/>",
                  le ? x0 : bx, le ? bx - x0 : x1 - bx);
    cr_out_printf(o,
                  "<rect class=\"g-val\" x=\"%.0f\" y=\"10\" width=\"%.1f\" "
                  "height=\"6\" rx=\"2\"/>",
                  x0, mx - x0 > 1 ? mx - x0 : 1);
    cr_out_printf(
        o,
        "<line class=\"g-bound\" x1=\"%.1f\" y1=\"3\" x2=\"%.1f\" y2=\"23\"/>",
        bx, bx);
    cr_out_puts(o, "</svg>");
}
