/* cr_html: report.html (see cr_html.h). */
#include "cr_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_seg.h"
#include "cr_fmt.h"
#include "cr_html_internal.h"
#include "cr_report_internal.h"
#include "cr_svg.h"

static const char CSS[] =
    ":root{--fg:#1d2430;--mute:#5b6573;--line:#dde2e8;--bg:#f5f7fa;--card:#fff;"
    "--pass:#1e7f4f;--fail:#b3261e;--unk:#8a5a00;--accent:#2f5fa7}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',sans-serif;color:var(--fg);background:var(--bg)}\n"
    "main{max-width:1180px;margin:0 auto;padding:0 20px 40px}\n"
    "header.top{background:#1d2430;color:#fff;padding:22px 0 18px}\n"
    "header.top .in{max-width:1180px;margin:0 auto;padding:0 20px}\n"
    "header.top h1{margin:0 0 4px;font-size:26px;font-weight:650;display:flex;"
    "flex-wrap:wrap;gap:12px;align-items:center}\n"
    "header.top p.desc{margin:0 0 12px;color:#c7cfdb}\n"
    ".kicker{color:#9fb0c8;font-size:12px;letter-spacing:.08em;text-transform:"
    "uppercase}\n"
    "dl.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,"
    "1fr));"
    "gap:6px 18px;margin:10px 0}\n"
    "dl.meta div{min-width:0}dl.meta dt{font-size:11px;color:#9fb0c8;"
    "text-transform:uppercase;letter-spacing:.06em}\n"
    "dl.meta dd{margin:0;font-weight:600;overflow-wrap:anywhere}\n"
    ".repro{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap;margin-"
    "top:8px}\n"
    ".repro code{background:#0f141c;color:#e9f0fa;padding:6px "
    "10px;border-radius:6px;"
    "font-size:13px;overflow-wrap:anywhere}\n"
    "code,pre{font-family:ui-monospace,'DejaVu Sans "
    "Mono',Menlo,Consolas,monospace}\n"
    ".badge{display:inline-flex;align-items:center;gap:6px;font-size:14px;"
    "font-weight:700;letter-spacing:.04em;padding:3px 10px 3px "
    "8px;border-radius:999px;"
    "border:2px "
    "solid;text-transform:uppercase;white-space:nowrap;background:#fff}\n"
    ".badge .ic{font-size:15px}\n"
    ".badge.v-passed{color:var(--pass);border-color:var(--pass)}\n"
    ".badge.v-failed,.badge.v-error{color:var(--fail);border-color:var(--fail);"
    "border-style:double;border-width:4px}\n"
    ".badge.v-unknown,.badge.v-interrupted,.badge.v-unrunnable{color:var(--unk)"
    ";"
    "border-color:var(--unk);border-style:dashed}\n"
    "nav.toc{position:sticky;top:0;z-index:5;background:rgba(245,247,250,.95);"
    "border-bottom:1px solid var(--line);padding:8px "
    "20px;display:flex;gap:16px;"
    "flex-wrap:wrap;font-size:14px}\n"
    "nav.toc a{color:var(--accent);text-decoration:none}\n"
    "section.card{background:var(--card);border:1px solid "
    "var(--line);border-radius:10px;"
    "padding:16px 18px;margin:18px 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}\n"
    "h2{font-size:19px;margin:0 0 10px}h3{font-size:16px;margin:0}\n"
    ".chips{display:flex;flex-wrap:wrap;gap:10px;margin:4px 0 0}\n"
    ".kf{border:1px solid var(--line);border-radius:8px;padding:8px "
    "12px;flex:1 1 150px;max-width:260px;"
    "background:#fbfcfd}\n"
    ".kf b{display:block;font-size:20px}.kf "
    "span{color:var(--mute);font-size:12px}\n"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\n"
    "svg.timeline,svg.chart{display:block;width:100%;min-width:760px;height:"
    "auto}\n"
    "svg text{font-family:system-ui,'DejaVu Sans',sans-serif}\n"
    "svg .lane{font-size:12px;fill:#2b3440}svg "
    ".group{font-size:12px;font-weight:700;"
    "fill:#5b6573;text-transform:uppercase;letter-spacing:.06em}\n"
    "svg .tick{font-size:10.5px;fill:#5b6573}svg "
    ".unit{font-size:10px;fill:#5b6573}\n"
    "svg .grid line{stroke:#e6e9ee;stroke-width:1}svg .grid "
    "line.t0{stroke:#9aa5b4;"
    "stroke-dasharray:3 2}\n"
    "svg .sep{stroke:#c9d0d9}svg .hgrid{stroke:#eef0f3}\n"
    "svg .phase{stroke:#7d8796;stroke-dasharray:2 3}svg "
    ".phase-l{font-size:9.5px;fill:#7d8796}\n"
    "svg "
    ".inseg{font-size:10.5px;font-weight:700;fill:#1d2430;paint-order:stroke;"
    "stroke:#fff;stroke-width:3px}\n"
    "svg .flabel{font-size:11px;font-weight:600;fill:#8a3d00}svg "
    ".flabel.in{fill:#5a2700;"
    "paint-order:stroke;stroke:#ffe3c4;stroke-width:3px}\n"
    "svg .fault-window{stroke:#b35900;stroke-width:1}svg "
    ".not-applied{stroke-dasharray:3 2}\n"
    "svg .st-dead{stroke:#b3261e}svg .st-paused{stroke:#4a6fa5}svg "
    ".st-restarting{stroke:#b26a00}\n"
    "svg .br-open{stroke:#b3261e}svg .br-half{stroke:#b26a00}\n"
    "svg .tick-ok{stroke:#1e7f4f;stroke-width:2;fill:none}svg "
    ".tick-fail{stroke:#b3261e;"
    "stroke-width:2.4;fill:none}\n"
    "svg .mk-ckpt{fill:#fff;stroke:#2f5fa7;stroke-width:1.5}svg "
    ".mk-restored{fill:#2f5fa7}\n"
    "svg .mk-failover{fill:#7b3fa0}svg .mlabel{font-size:10.5px;fill:#3d4654}\n"
    "svg .mk-alert{stroke:#b3261e}svg .mk-degraded{stroke:#b26a00}\n"
    "svg .mk-evidence circle{fill:#b3261e}svg .mk-evidence.unknown "
    "circle{fill:#8a5a00}\n"
    "svg .mk-evidence text{fill:#fff;font-size:9px;font-weight:700}\n"
    "svg .mk-evidence.info circle{fill:#fff;stroke:#5b6573;stroke-width:1.2}"
    "\n"
    "svg .legend .lg{stroke:#7d8796;stroke-width:.6}svg "
    ".lgt{font-size:11px;fill:#3d4654}\n"
    "svg .ctitle{font-size:12.5px;font-weight:700;fill:#2b3440}\n"
    "svg .fault-instant{stroke:#e8740c;stroke-width:2;stroke-dasharray:4 2}\n"
    "svg .s-acc{fill:none;stroke:#2f5fa7;stroke-width:2}\n"
    "svg .s-del{fill:none;stroke:#1e7f4f;stroke-width:2;stroke-dasharray:7 3}\n"
    "svg .s-old{fill:none;stroke:#7d8796;stroke-width:1.8;stroke-dasharray:5 "
    "3}svg .s-new{fill:none;stroke:#2f5fa7;stroke-width:2.2}\n"
    "svg .fault-bg.old{stroke:#b35900;stroke-width:1;stroke-dasharray:4 3}"
    "svg .fault-instant.old{stroke-dasharray:1 3}\n"
    "svg .s-p50{fill:none;stroke:#2f5fa7;stroke-width:1.8}\n"
    "svg .s-p90{fill:none;stroke:#7b3fa0;stroke-width:1.8;stroke-dasharray:6 "
    "3}\n"
    "svg .s-p99{fill:none;stroke:#b3261e;stroke-width:1.8;stroke-dasharray:2 "
    "2}\n"
    "svg .b-retry rect{fill:#d08a1a}svg .b-err "
    "rect{fill:url(#p-err);stroke:#b3261e;stroke-width:.5}\n"
    "svg .hbar{fill:#2f5fa7}svg .axis{stroke:#7d8796}svg .bound{stroke:#b3261e;"
    "stroke-width:2;stroke-dasharray:5 3}\n"
    "svg.gauge{width:240px;height:26px;vertical-align:middle}\n"
    "svg .g-track{fill:#eef0f3}svg .g-ok{fill:#cfe9da}svg "
    ".g-val{fill:#1d2430}\n"
    "svg .g-bound{stroke:#b3261e;stroke-width:2}\n"
    "svg.hist{width:100%;max-width:480px;height:auto}\n"
    "section.expect{border-left:8px solid}\n"
    "section.expect.v-passed{border-left-color:var(--pass)}\n"
    "section.expect.v-failed{border-left-color:var(--fail);border-left-style:"
    "double;"
    "border-left-width:10px}\n"
    "section.expect.v-unknown{border-left-color:var(--unk);border-left-style:"
    "dashed}\n"
    ".xhead{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-"
    "bottom:6px}\n"
    ".kind{font-size:12px;color:var(--mute);background:#eef1f5;border-radius:"
    "4px;"
    "padding:1px 6px}\n"
    ".fig{font-size:16px;margin:6px "
    "0;display:flex;flex-wrap:wrap;gap:12px;align-items:center}\n"
    ".fig b{font-size:20px}\n"
    "table{border-collapse:collapse;width:100%;font-size:14px}\n"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);"
    "vertical-align:top}\n"
    "th{font-size:12px;color:var(--mute);text-transform:uppercase;letter-"
    "spacing:.05em}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:"
    "nowrap}\n"
    "table.ev "
    "td:first-child{white-space:nowrap;font-variant-numeric:tabular-nums;"
    "color:var(--mute)}\n"
    "table.ev td{font-family:ui-monospace,'DejaVu Sans "
    "Mono',monospace;font-size:12.5px;"
    "overflow-wrap:anywhere}\n"
    ".tw{overflow-x:auto}\n"
    "pre{background:#0f141c;color:#dfe7f2;padding:10px 12px;border-radius:8px;"
    "overflow-x:auto;font-size:12.5px;line-height:1.45}\n"
    "pre.log{background:#fbfcfd;color:#1d2430;border:1px solid var(--line)}\n"
    "pre.log .in{background:#ffe9d2;display:block;border-left:3px solid "
    "#e8740c;"
    "margin-left:-12px;padding-left:9px}\n"
    "pre.log .t{color:#7d8796}\n"
    "details>summary{cursor:pointer;color:var(--accent);margin:6px 0}\n"
    ".note{color:var(--mute);font-size:13px}\n"
    ".alert{border:2px solid var(--fail);background:#fdf1f0;border-radius:8px;"
    "padding:10px 14px;margin:12px 0;color:#6d1712;overflow-wrap:anywhere}\n"
    ".alert.warn{border-color:var(--unk);background:#fff7e6;color:#5c3c00;"
    "border-style:dashed}\n"
    ".failures{background:#fff;color:var(--fg);border-radius:8px;border-left:"
    "10px double var(--fail);padding:8px 14px;margin:10px 0 12px}\n"
    ".failures.v-interrupted,.failures.v-unrunnable,.failures.v-unknown{"
    "border-left-style:dashed;border-left-color:var(--unk)}\n"
    ".failures ul{margin:0;padding:0;list-style:none}\n"
    ".failures li{margin:3px 0;overflow-wrap:anywhere}\n"
    ".failures a{color:var(--fail);font-weight:700;text-decoration:none}\n"
    ".failures li.v-unknown a{color:var(--unk)}\n"
    ".failures .hint{color:#3d4654;font-size:13.5px;margin:1px 0 0 22px}\n"
    ".failures .why{margin-left:4px}\n"
    ".story{border:1px solid var(--line);border-radius:8px;padding:8px 12px;"
    "margin:10px 0;background:#fbfcfd}\n"
    ".story h4{margin:0 0 4px;font-size:14px}ul.hints{margin:4px 0;"
    "padding-left:20px}\n"
    "footer{color:var(--mute);font-size:12px;text-align:center;margin:30px 0}\n"
    "@media (max-width:640px){body{font-size:14px}main{padding:0 10px 30px}"
    "header.top "
    "h1{font-size:21px}section.card{padding:12px}nav.toc{position:static}"
    "dl.meta{grid-template-columns:1fr 1fr}}\n"
    "@media print{body{background:#fff;font-size:11pt}nav.toc{display:none}"
    "header.top{background:#fff;color:#000;border-bottom:3px solid #000}"
    "header.top p.desc,dl.meta dt,.kicker{color:#333}"
    ".repro code{background:#fff;color:#000;border:1px solid #999}"
    "section.card{box-shadow:none;break-inside:avoid;page-break-inside:avoid}"
    "section.expect{break-inside:auto}"
    "svg.timeline,svg.chart{min-width:0}.scroll{overflow:visible}"
    "pre{background:#fff;color:#000;border:1px solid #999;white-space:pre-wrap}"
    "details>*{display:block}a{color:#000}}\n";

void cr_html_begin(cr_out *o, const char *title)
{
    cr_out_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                   "<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, "
                   "initial-scale=1\">\n<title>");
    cr_out_esc(o, title);
    cr_out_puts(o, "</title>\n<style>\n");
    cr_out_puts(o, CSS);
    cr_out_puts(o, "</style>\n</head>\n<body>\n");
    cr_svg_defs(o);
}

void cr_html_end(cr_out *o)
{
    cr_out_puts(o, "<footer>chaosrun " CR_VERSION
                   " \xC2\xB7 self-contained report: no network needed"
                   "</footer>\n</body>\n</html>\n");
}

void cr_html_badge(cr_out *o, const char *v)
{
    const cr_fmt_verdict *fv = cr_fmt_verdict_of(v);
    cr_out_printf(o,
                  "<span class=\"badge v-%s\"><span class=\"ic\" "
                  "aria-hidden=\"true\">%s</span>",
                  fv->css, fv->icon);
    cr_out_esc(o, v);
    cr_out_puts(o, "</span>");
}

/* ---- header ----------------------------------------------------------- */

static void meta(cr_out *o, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    cr_out_puts(o, "<div><dt>");
    cr_out_esc(o, k);
    cr_out_puts(o, "</dt><dd>");
    cr_out_esc(o, v);
    cr_out_puts(o, "</dd></div>");
}

static void header(const cr_report *r, cr_out *o)
{
    char b[160], d[32];
    cr_out_puts(o, "<header class=\"top\"><div class=\"in\">"
                   "<div class=\"kicker\">chaosrun report</div><h1>");
    cr_out_esc(o, r->name);
    cr_out_puts(o, " ");
    cr_html_badge(o, cr_report_verdict(r));
    cr_out_puts(o, "</h1>");
    cr_html__failures(r, o);
    if (r->description && *r->description) {
        cr_out_puts(o, "<p class=\"desc\">");
        cr_out_esc(o, r->description);
        cr_out_puts(o, "</p>");
    }
    cr_out_puts(o, "<dl class=\"meta\">");
    cr_fmt_seed(b, sizeof b, r);
    meta(o, "seed", b);
    if (!isnan(r->duration_s)) {
        cr_fmt_dur(d, sizeof d, r->duration_s);
        snprintf(b, sizeof b, "%s", d);
        if (!isnan(r->drain_s) && r->drain_s > 0) {
            cr_fmt_dur(d, sizeof d, r->drain_s);
            snprintf(b + strlen(b), sizeof b - strlen(b), " + %s drain", d);
        }
        meta(o, "duration", b);
    }
    if (!isnan(r->ended_at - r->started_at)) {
        cr_fmt_dur(d, sizeof d, r->ended_at - r->started_at);
        meta(o, "wall time", d);
    }
    cr_fmt_utc(b, sizeof b, r->started_at);
    meta(o, "started", b);
    cr_fmt_machine(b, sizeof b, r->journal);
    meta(o, "machine", b);
    meta(o, "scenario file", r->scenario_file);
    if (r->exit_code >= 0) {
        snprintf(b, sizeof b, "%d", r->exit_code);
        meta(o, "exit status", b);
    }
    cr_out_puts(o, "</dl>");
    if (r->reproduce) {
        cr_out_puts(
            o, "<div class=\"repro\"><span class=\"kicker\">reproduce</span>"
               "<code>");
        cr_out_esc(o, r->reproduce);
        cr_out_puts(o, "</code></div>");
    }
    cr_out_puts(o, "</div></header>\n");
    cr_out_puts(o, "<nav class=\"toc\"><a href=\"#summary\">Summary</a>"
                   "<a href=\"#timeline\">Timeline</a>"
                   "<a href=\"#expectations\">Expectations</a>"
                   "<a href=\"#faults\">Faults</a><a href=\"#logs\">Logs</a>"
                   "<a href=\"#scenario\">Scenario</a></nav>\n<main>\n");
}

static void keyfig(cr_out *o, const char *big, const char *small)
{
    cr_out_puts(o, "<div class=\"kf\"><b>");
    cr_out_esc(o, big);
    cr_out_puts(o, "</b><span>");
    cr_out_esc(o, small);
    cr_out_puts(o, "</span></div>");
}

static void summary(const cr_report *r, cr_out *o)
{
    char b[96], c[96];
    const char *st = cr_report_verdict(r);
    cr_out_puts(o, "<section class=\"card\" id=\"summary\"><h2>Summary</h2>");
    if (r->error) {
        cr_out_printf(o, "<div class=\"alert%s\"><strong>",
                      !strcmp(st, "interrupted") ? " warn" : "");
        cr_out_esc(o, st);
        cr_out_puts(o, ":</strong> ");
        cr_out_esc(o, r->error);
        cr_out_puts(o, "</div>");
    } else if (!strcmp(st, "interrupted")) {
        cr_out_puts(o,
                    "<div class=\"alert warn\"><strong>interrupted:</strong> ");
        cr_out_esc(o, cr_rep_interrupted_note(r));
        cr_out_puts(o, ".</div>");
    }
    cr_out_puts(o, "<div class=\"chips\">");
    snprintf(b, sizeof b, "%zu / %zu", r->npassed, r->nex);
    keyfig(o, b, "expectations held");
    if (r->nfailed) {
        snprintf(b, sizeof b, "\xE2\x9C\x96 %zu", r->nfailed);
        keyfig(o, b, "failed");
    }
    if (r->nunknown) {
        snprintf(b, sizeof b, "? %zu", r->nunknown);
        keyfig(o, b, "unknown (not enough events)");
    }
    size_t applied = 0;
    for (size_t i = 0; i < r->nfaults; i++)
        applied += !strcmp(r->faults[i].outcome, "applied");
    snprintf(b, sizeof b, "%zu", applied);
    snprintf(c, sizeof c, "fault%s applied (of %zu)", applied == 1 ? "" : "s",
             r->nfaults);
    keyfig(o, b, c);
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        if (strcmp(x->kind, "recovers") || !x->has_measured)
            continue;
        cr_fmt_measured(b, sizeof b, x->measured, x->unit);
        snprintf(c, sizeof c, "recovery (%s%s%s)", x->name,
                 *x->bound ? ", bound " : "", x->bound);
        keyfig(o, b, c);
    }
    double in = cr_report_rate_faults(r, "delivered", 1);
    double out = cr_report_rate_faults(r, "delivered", 0);
    if (!isnan(in) && !isnan(out)) {
        snprintf(b, sizeof b, "%.1f/s \xE2\x86\x92 %.1f/s", out, in);
        keyfig(o, b, "delivered: outside \xE2\x86\x92 during faults");
    }
    cr_out_printf(o, "</div><p class=\"note\">%zu events", r->nev);
    if (r->malformed)
        cr_out_printf(o, ", %zu malformed line%s ignored", r->malformed,
                      r->malformed == 1 ? "" : "s");
    if (r->events_missing)
        cr_out_puts(o, " (no events.jsonl in the run directory)");
    cr_out_puts(o, ". Times are seconds after t0 (all services ready, "
                   "before-probes passed).</p></section>\n");
}

/* ---- expectations ----------------------------------------------------- */

static void expectations(const cr_report *r, cr_out *o,
                         const cr_html_limits *lim)
{
    cr_out_puts(o, "<h2 id=\"expectations\">Expectations</h2>\n");
    if (!r->nex)
        cr_out_puts(o, "<p class=\"note\">No expectation was judged.</p>\n");
    for (size_t i = 0; i < r->nex; i++) {
        const cr_rep_expect *x = &r->ex[i];
        cr_out_printf(o,
                      "<section class=\"card expect v-%s\" id=\"exp-%zu\" "
                      "data-verdict=\"%s\" data-name=\"",
                      x->verdict, i, x->verdict);
        cr_out_esc(o, x->name);
        cr_out_puts(o, "\"><div class=\"xhead\">");
        cr_html_badge(o, x->verdict);
        cr_out_puts(o, "<h3>");
        cr_out_esc(o, x->name);
        cr_out_puts(o, "</h3><span class=\"kind\">");
        cr_out_esc(o, x->kind);
        cr_out_puts(o, "</span></div><p>");
        cr_out_esc(o, x->summary);
        cr_out_puts(o, "</p>");
        if (x->has_measured) {
            char m[64];
            cr_fmt_measured(m, sizeof m, x->measured, x->unit);
            cr_out_puts(o, "<div class=\"fig\"><span>measured <b>");
            cr_out_esc(o, m);
            cr_out_puts(o, "</b></span>");
            if (*x->bound) {
                char pb[96];
                cr_fmt_bound_pretty(pb, sizeof pb, x->bound);
                cr_out_puts(o, "<span>bound <b>");
                cr_out_esc(o, pb);
                cr_out_puts(o, *x->unit ? " " : "");
                cr_out_esc(o, x->unit);
                cr_out_puts(o, "</b></span>");
                cr_svg_gauge(o, x->measured, x->bound, x->verdict);
            }
            cr_out_puts(o, "</div>");
        }
        cr_html__evidence(x, o, lim->evidence_rows);
        if (x->details && json_object_size(x->details)) {
            char *d = json_dumps(x->details, JSON_INDENT(2) | JSON_SORT_KEYS |
                                                 JSON_REAL_PRECISION(6));
            if (d) {
                cr_out_puts(o,
                            "<details><summary>Checker details</summary><pre>");
                cr_out_esc(o, d);
                cr_out_puts(o, "</pre></details>");
                free(d);
            } else
                o->failed = 1;
        }
        cr_out_puts(o, "</section>\n");
    }
}

/* ---- faults ----------------------------------------------------------- */

/* The note under a list cut at max of n entries ("" when it was not). */
static void capped_note(cr_out *o, size_t n, size_t max, const char *what,
                        const char *where)
{
    if (max && n > max)
        cr_out_printf(o,
                      "<p class=\"note capped\">\xE2\x80\xA6 and %zu more "
                      "%s, not listed here: all %zu are in %s.</p>",
                      n - max, what, n, where);
}

static void faults_table(const cr_report *r, cr_out *o, size_t max)
{
    char d[256];
    cr_out_puts(o, "<section class=\"card\" id=\"faults\"><h2>Faults</h2>");
    if (!r->nfaults) {
        cr_out_puts(o,
                    "<p class=\"note\">No fault was injected.</p></section>\n");
        return;
    }
    cr_out_puts(
        o, "<div class=\"tw\"><table><thead><tr><th>fault</th><th>kind</th>"
           "<th>target</th><th>at</th><th>lasted</th><th>outcome</th>"
           "<th>details</th></tr></thead><tbody>");
    size_t n = max && r->nfaults > max ? max : r->nfaults;
    for (size_t i = 0; i < n; i++) {
        const cr_rep_fault *f = &r->faults[i];
        cr_fmt_fault_name(d, sizeof d, f);
        cr_out_wrap(o, "<tr><td>", d, "</td><td>");
        cr_out_wrap(o, "", f->kind, "</td><td>");
        cr_out_esc(o, f->target);
        cr_fmt_fault_lasted(d, sizeof d, f);
        cr_out_printf(o, "</td><td class=\"num\">%.3f s</td>", f->start);
        cr_out_wrap(o, "<td class=\"num\">", d, "");
        cr_out_puts(o, "</td><td>");
        cr_out_esc(o, f->outcome);
        if (f->error) {
            cr_out_puts(o, ": ");
            cr_out_esc(o, f->error);
        }
        cr_out_puts(o, "</td><td><code>");
        const json_t *det = json_object_get(f->obj, "details");
        char *s = det ? json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS |
                                            JSON_REAL_PRECISION(6))
                      : NULL;
        cr_out_esc(o, s);
        free(s);
        cr_out_puts(o, "</code></td></tr>");
    }
    cr_out_puts(o, "</tbody></table></div>");
    capped_note(o, r->nfaults, max, "fault occurrences",
                "journal.json (faults[])");
    cr_out_puts(o, "</section>\n");
}

/* ---- logs ------------------------------------------------------------- */

typedef struct logline {
    double t;   /* NAN: no time prefix */
    long off;   /* byte offset of the line in the file */
    char *text; /* points into the file buffer */
} logline;

typedef struct logfile {
    char *buf;
    logline *v;
    size_t n;
    int timed; /* at least one line had a "[t] " prefix */
    int used;  /* excerpted by byte offsets */
} logfile;

static void log_free(logfile *l)
{
    cr_free(l->buf);
    cr_free(l->v);
}

static long fault_log_off(const cr_rep_fault *f, const char *key,
                          const char *inst);

#define LOG_TAIL    (4L << 20)   /* the end of a log, always read */
#define LOG_AROUND  (64L << 10)  /* read around a fault's offsets */
#define LOG_WIN_MAX (256L << 10) /* at most, a fault */
#define LOG_SPANS   64

typedef struct log_span {
    long a, b;
} log_span;

static int cmp_span(const void *pa, const void *pb)
{
    const log_span *x = pa, *y = pb;
    return (x->a > y->a) - (x->a < y->a);
}

/* The byte ranges of a log of size bytes to read: its last LOG_TAIL
 * bytes and, before them, a window around each applied fault's offsets
 * for inst (the engine's log_offsets: the log's size when the fault was
 * applied and reverted), up to LOG_SPANS-1 faults; sorted and merged. */
static size_t log_spans(const cr_report *r, const char *inst, long size,
                        log_span *v)
{
    size_t n = 0;
    long tail = size > LOG_TAIL ? size - LOG_TAIL : 0;
    for (size_t k = 0; k < r->nfaults && n < LOG_SPANS - 1 && tail > 0; k++) {
        const cr_rep_fault *f = &r->faults[k];
        long a = fault_log_off(f, "log_offsets", inst);
        long b = fault_log_off(f, "log_offsets_reverted", inst);
        if (strcmp(f->outcome, "applied") || a < 0 || a >= tail)
            continue;
        long lo = a > LOG_AROUND ? a - LOG_AROUND : 0;
        long hi = (b > a ? b : a) + LOG_AROUND;
        v[n++] = (log_span){lo, hi < lo + LOG_WIN_MAX ? hi : lo + LOG_WIN_MAX};
    }
    v[n++] = (log_span){tail, size};
    qsort(v, n, sizeof *v, cmp_span);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].b > size)
            v[i].b = size;
        if (m && v[i].a <= v[m - 1].b) {
            if (v[i].b > v[m - 1].b)
                v[m - 1].b = v[i].b;
        } else {
            v[m++] = v[i];
        }
    }
    return m;
}

/* The lines of p (a NUL-terminated range of the log that begins at file
 * offset base) into l: lines "[   7.312] text" carry the time since t0,
 * lines "1764200007.812345 text" a Unix time (converted); other lines
 * get NAN. */
static void log_lines(const cr_report *r, logfile *l, char *p, long base)
{
    char *start = p;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        logline *x = &l->v[l->n++];
        x->t = NAN;
        x->off = base + (long)(p - start);
        x->text = p;
        char *end;
        if (p[0] == '[') {
            double t = strtod(p + 1, &end);
            if (end != p + 1 && *end == ']') {
                x->t = t;
                x->text = end + 1 + (end[1] == ' ');
                l->timed = 1;
            }
        } else if (p[0] >= '1' && p[0] <= '9') {
            /* A service's own Unix-time stamp: "1764200007.812345 text". */
            double ts = strtod(p, &end);
            if (ts > 1e9 && ts < 1e11 && *end == ' ' && end - p >= 10) {
                x->t = ts - r->t0_unix; /* shown as [t]: the stamp goes */
                x->text = end + 1;
                l->timed = 1;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* Read a log: its last 4 MiB, and windows around the faults before them
 * (a rotated log keeps them in its segments; any log keeps them). */
static int log_load(const cr_report *r, const char *rel, const char *inst,
                    logfile *l)
{
    memset(l, 0, sizeof *l);
    if (!rel || rel[0] == '/' || strstr(rel, ".."))
        return 0;
    /* Every component of rel opened without following a link, a regular
     * file only: a log linked elsewhere is shown as none.  A rotated log
     * is read through its segments, then the live file's tail (cr_seg):
     * the live file holds only holes before the last cut. */
    cr_err e;
    cr_err_clear(&e);
    int dfd = cr_dir_open(r->dir, &e);
    FILE *fp = dfd >= 0 ? cr_seg_fopen(dfd, rel, &e) : NULL;
    if (dfd >= 0)
        close(dfd);
    if (!fp)
        return e.code == CR_ENOMEM ? -1 : 0;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    if (size < 0)
        size = 0; /* not seekable: treated as empty */
    log_span sp[LOG_SPANS];
    size_t ns = log_spans(r, inst, size, sp), total = 0, lines = 1;
    for (size_t i = 0; i < ns; i++)
        total += (size_t)(sp[i].b - sp[i].a) + 1;
    l->buf = cr_malloc(total + 1);
    if (!l->buf) {
        fclose(fp);
        return -1;
    }
    char *q = l->buf, *start[LOG_SPANS];
    long base[LOG_SPANS];
    for (size_t i = 0; i < ns; i++) {
        size_t got = 0;
        if (fseek(fp, sp[i].a, SEEK_SET) == 0)
            got = fread(q, 1, (size_t)(sp[i].b - sp[i].a), fp);
        q[got] = '\0';
        start[i] = q;
        if (sp[i].b < size) { /* drop the partial last line */
            char *nl = memrchr(q, '\n', got);
            *(nl ? nl + 1 : q) = '\0';
        }
        if (sp[i].a > 0) { /* and the partial first one */
            char *nl = strchr(q, '\n');
            start[i] = nl ? nl + 1 : q + strlen(q);
        }
        base[i] = sp[i].a + (long)(start[i] - q);
        for (size_t k = 0; k < got; k++)
            lines += q[k] == '\n';
        q += got + 1;
    }
    fclose(fp);
    l->v = cr_calloc(lines + ns, sizeof *l->v);
    if (!l->v)
        return -1;
    for (size_t i = 0; i < ns; i++)
        log_lines(r, l, start[i], base[i]);
    return 0;
}

/* Lines of a timed log inside a fault's excerpt window. */
static size_t log_lines_in(const logfile *l, const cr_rep_fault *f)
{
    double a = f->start - 2, b = (f->instant ? f->start : f->end) + 3;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += !isnan(l->v[i].t) && l->v[i].t >= a && l->v[i].t <= b;
    return n;
}

static void excerpt(cr_out *o, const logfile *l, const cr_rep_fault *f,
                    const char *inst)
{
    const double before = 2, after = 3;
    const size_t max = 16;
    double a = f->start - before, b = (f->instant ? f->start : f->end) + after;
    size_t first = l->n, count = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!isnan(l->v[i].t) && l->v[i].t >= a && l->v[i].t <= b) {
            if (first == l->n)
                first = i;
            count++;
        }
    cr_out_puts(o, "<div class=\"lx\"><div class=\"note\"><b>");
    cr_out_esc(o, inst);
    cr_out_printf(o, "</b> \xC2\xB7 %.1f s to %.1f s", a, b);
    if (!count) {
        cr_out_puts(o, ": no log lines in this window</div></div>");
        return;
    }
    cr_out_puts(o, "</div><pre class=\"log\">");
    size_t shown = 0;
    for (size_t i = first; i < l->n && shown < max; i++) {
        const logline *x = &l->v[i];
        if (isnan(x->t) || x->t < a || x->t > b)
            continue;
        int in =
            x->t >= f->start && x->t <= (f->instant ? f->start + 1 : f->end);
        cr_out_printf(o, "%s<span class=\"t\">[%8.3f]</span> ",
                      in ? "<span class=\"in\">" : "", x->t);
        cr_out_esc(o, x->text);
        cr_out_puts(o, in ? "</span>" : "\n");
        shown++;
    }
    if (count > shown)
        cr_out_printf(o, "\xE2\x80\xA6 %zu more line%s\n", count - shown,
                      count - shown == 1 ? "" : "s");
    cr_out_puts(o, "</pre></div>");
}

/* Byte offset of an instance's log recorded with a fault: the engine
 * writes "log_offsets": {"<inst>": N} (log size when the fault was applied)
 * and "log_offsets_reverted" likewise; -1 when absent. */
static long fault_log_off(const cr_rep_fault *f, const char *key,
                          const char *inst)
{
    const json_t *v = json_object_get(json_object_get(f->obj, key), inst);
    if (json_is_array(v)) /* [applied, reverted] form */
        v = json_array_get(v, strcmp(key, "log_offsets") ? 1 : 0);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

/* Excerpt by byte offsets, for logs whose lines carry no time. */
static int excerpt_off(cr_out *o, const logfile *l, const cr_rep_fault *f,
                       const char *inst)
{
    long a = fault_log_off(f, "log_offsets", inst);
    long b = fault_log_off(f, "log_offsets_reverted", inst);
    if (a < 0)
        return 0;
    if (b < a)
        b = f->instant ? a : -1; /* never reverted: up to the end */
    size_t first = 0;
    while (first < l->n && l->v[first].off < a)
        first++;
    size_t from = first > 3 ? first - 3 : 0, shown = 0;
    cr_out_puts(o, "<div class=\"lx\"><div class=\"note\"><b>");
    cr_out_esc(o, inst);
    cr_out_puts(o, "</b> \xC2\xB7 lines written around the fault (this log "
                   "has no time stamps)</div><pre class=\"log\">");
    size_t after = 0;
    for (size_t i = from; i < l->n && shown < 16; i++) {
        int in = l->v[i].off >= a && (b < 0 || l->v[i].off < b);
        if (!in && l->v[i].off >= a && ++after > 5)
            break;
        cr_out_puts(o, in ? "<span class=\"in\">" : "");
        cr_out_esc(o, l->v[i].text);
        cr_out_puts(o, in ? "</span>" : "\n");
        shown++;
    }
    if (!shown)
        cr_out_puts(o, "(no lines)\n");
    cr_out_puts(o, "</pre></div>");
    return 1;
}

static void logs(const cr_report *r, cr_out *o, size_t max)
{
    cr_out_puts(
        o, "<section class=\"card\" id=\"logs\"><h2>Logs around each fault</h2>"
           "<p class=\"note\">Lines from 2 s before a fault to 3 s after "
           "it ended; lines inside the fault window are marked.</p>");
    logfile *lf = r->nlanes ? cr_calloc(r->nlanes, sizeof *lf) : NULL;
    if (r->nlanes && !lf) {
        o->failed = 1;
        return;
    }
    for (size_t i = 0; i < r->nlanes; i++)
        if (log_load(r, r->lanes[i].log, r->lanes[i].inst, &lf[i]) < 0)
            o->failed = 1;
    size_t shown = 0, excerpted = 0, applied = 0;
    for (size_t k = 0; k < r->nfaults; k++) {
        const cr_rep_fault *f = &r->faults[k];
        if (strcmp(f->outcome, "applied"))
            continue;
        if (max && excerpted == max) {
            applied++;
            continue;
        }
        excerpted++;
        applied++;
        int any_target = 0;
        for (size_t i = 0; i < r->nlanes; i++)
            any_target |= cr_rep_target_has(f->target, r->lanes[i].inst,
                                            r->lanes[i].service);
        char line[512];
        cr_fmt_fault_line(line, sizeof line, f);
        cr_out_wrap(o, "<details open><summary>", line, "</summary>");
        for (size_t i = 0; i < r->nlanes; i++) {
            const cr_rep_lane *l = &r->lanes[i];
            if (any_target &&
                !cr_rep_target_has(f->target, l->inst, l->service))
                continue;
            if (lf[i].timed) {
                excerpt(o, &lf[i], f, l->inst);
                shown++;
            } else if (excerpt_off(o, &lf[i], f, l->inst)) {
                lf[i].used = 1;
                shown++;
            }
        }
        /* How the rest of the system saw it: other instances' lines in
         * the same window, folded away. */
        int others = 0;
        for (size_t i = 0; any_target && i < r->nlanes; i++) {
            const cr_rep_lane *l = &r->lanes[i];
            if (cr_rep_target_has(f->target, l->inst, l->service) ||
                !lf[i].timed || !log_lines_in(&lf[i], f))
                continue;
            if (!others++)
                cr_out_puts(o,
                            "<details class=\"others\"><summary>Other services "
                            "in the same window</summary>");
            excerpt(o, &lf[i], f, l->inst);
        }
        if (others)
            cr_out_puts(o, "</details>");
        cr_out_puts(o, "</details>");
    }
    /* Logs without time prefixes: their tails, once. */
    for (size_t i = 0; i < r->nlanes; i++) {
        if (lf[i].timed || lf[i].used || lf[i].n == 0)
            continue;
        cr_out_puts(o, "<details><summary>");
        cr_out_escf(o, "%s: last lines (no time prefixes in this log)",
                    r->lanes[i].inst);
        cr_out_puts(o, "</summary><pre class=\"log\">");
        for (size_t k = lf[i].n > 12 ? lf[i].n - 12 : 0; k < lf[i].n; k++) {
            cr_out_esc(o, lf[i].v[k].text);
            cr_out_puts(o, "\n");
        }
        cr_out_puts(o, "</pre></details>");
        shown++;
    }
    if (!shown)
        cr_out_puts(o, "<p class=\"note\">No service log lines to show.</p>");
    capped_note(o, applied, max, "applied faults",
                "the logs/ of the run directory");
    for (size_t i = 0; i < r->nlanes; i++)
        log_free(&lf[i]);
    cr_free(lf);
    cr_out_puts(o, "</section>\n");
}

/* ---- scenario --------------------------------------------------------- */

static void scenario(const cr_report *r, cr_out *o, const cr_html_limits *lim)
{
    cr_out_puts(
        o,
        "<section class=\"card\" id=\"scenario\"><h2>The scenario as run</h2>");
    const json_t *tl = json_object_get(r->journal, "timeline");
    if (json_array_size(tl)) {
        cr_out_puts(o,
                    "<h3>Resolved plan</h3><div class=\"tw\"><table><thead><tr>"
                    "<th>fault</th><th>kind</th><th>target</th><th>at</th>"
                    "<th>for</th></tr></thead><tbody>");
        size_t ntl = json_array_size(tl), max = lim->fault_rows;
        for (size_t i = 0; i < ntl && (!max || i < max); i++) {
            const json_t *e = json_array_get(tl, i);
            cr_out_puts(o, "<tr><td>");
            cr_out_esc(o, cr_rep_jstr(e, "fault"));
            cr_out_puts(o, "</td><td>");
            cr_out_esc(o, cr_rep_jstr(e, "kind"));
            cr_out_puts(o, "</td><td>");
            cr_out_esc(o, cr_rep_jstr(e, "target"));
            cr_out_printf(o,
                          "</td><td class=\"num\">%.3f s</td><td "
                          "class=\"num\">%.3g s</td></tr>",
                          cr_rep_jnum(e, "at_s"), cr_rep_jnum(e, "for_s"));
        }
        cr_out_puts(o, "</tbody></table></div>");
        capped_note(o, ntl, max, "planned occurrences",
                    "journal.json (timeline[])");
    }
    const json_t *sc = json_object_get(r->journal, "scenario");
    char *s = sc ? json_dumps(sc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION(10))
                 : NULL;
    if (s) {
        cr_out_puts(o, "<details open><summary>Scenario document");
        if (r->scenario_file) {
            cr_out_puts(o, " (");
            cr_out_esc(o, r->scenario_file);
            cr_out_puts(o, ")");
        }
        cr_out_puts(o, "</summary><pre>");
        cr_out_esc(o, s);
        cr_out_puts(o, "</pre></details>");
        free(s);
    }
    const json_t *lg = json_object_get(r->journal, "log");
    if (json_array_size(lg)) {
        size_t nlg = json_array_size(lg), max = lim->run_log;
        cr_out_puts(o, "<details><summary>Run log</summary><pre>");
        for (size_t i = 0; i < nlg && (!max || i < max); i++) {
            const json_t *e = json_array_get(lg, i);
            double t = cr_rep_jnum(e, "t");
            if (!isnan(t))
                cr_out_printf(o, "[%8.3f] ", t);
            cr_out_esc(o, cr_rep_jstr(e, "text"));
            cr_out_puts(o, "\n");
        }
        cr_out_puts(o, "</pre>");
        capped_note(o, nlg, max, "lines", "journal.json (log[])");
        cr_out_puts(o, "</details>");
    }
    cr_out_puts(o, "</section>\n");
}

const cr_html_limits cr_html_limits_default = {
    .lane_items = 400,
    .columns = 2000,
    .evidence_rows = 50,
    .fault_rows = 200,
    .log_faults = 50,
    .run_log = 500,
};

int cr_html_write(const cr_report *r, cr_out *o, cr_err *err)
{
    return cr_html_write_limited(r, o, &cr_html_limits_default, err);
}

int cr_html_write_limited(const cr_report *r, cr_out *o,
                          const cr_html_limits *lim, cr_err *err)
{
    static const cr_html_limits none = {0};
    if (!lim)
        lim = &none;
    char title[300];
    snprintf(title, sizeof title, "%s \xE2\x80\x94 %s \xC2\xB7 chaosrun",
             r->name, cr_report_verdict(r));
    cr_html_begin(o, title);
    header(r, o);
    summary(r, o);
    cr_out_puts(o, "<section class=\"card\" id=\"timeline\"><h2>Timeline</h2>");
    if (r->nlanes || r->nfaults || r->nev) {
        cr_out_puts(o, "<div class=\"scroll\">");
        cr_svg_timeline_limited(r, o, lim->lane_items, lim->columns);
        cr_svg_charts(r, o);
        cr_out_puts(
            o, "</div><p class=\"note\">Hover a shape for details. Hatched "
               "orange: fault windows; the same windows shade the charts.</p>");
    } else {
        cr_out_puts(o, "<p class=\"note\">Nothing to draw: no service was "
                       "started and no event was recorded.</p>");
    }
    cr_out_puts(o, "</section>\n");
    expectations(r, o, lim);
    faults_table(r, o, lim->fault_rows);
    logs(r, o, lim->log_faults);
    scenario(r, o, lim);
    cr_out_puts(o, "</main>\n");
    cr_html_end(o);
    if (cr_out_failed(o))
        return cr_err_set(err, CR_ENOMEM, "report.html for %s: out of memory",
                          r->name);
    return 0;
}
