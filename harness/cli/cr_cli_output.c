/* cr_cli_output: what a run shows on the terminal.  The engine reports
 * through cr_run_output (engine/cr_run.h); this file prints it -- the
 * start line, progress lines, the live status line -- and, once
 * cr_run_scenario returned, writes the run's reports and prints the
 * one-screen summary from the journal (cr_cli__run_finish). */
#include "cr_cli_internal.h"

#include "reports/cr_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- colour ------------------------------------------------------------- */

int cr_cli__color_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "auto") == 0)
        return CR_COLOR_AUTO;
    if (strcmp(s, "always") == 0)
        return CR_COLOR_ALWAYS;
    if (strcmp(s, "never") == 0)
        return CR_COLOR_NEVER;
    return -1;
}

int cr_cli__color_on(int mode, FILE *fp)
{
    if (mode == CR_COLOR_ALWAYS)
        return 1;
    if (mode == CR_COLOR_NEVER)
        return 0;
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (nc && *nc)
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(fp));
}

const char *cr_cli__sgr(int on, const char *name)
{
    static const struct {
        const char *name, *seq;
    } t[] = {{"red", "\033[31m"}, {"green", "\033[32m"}, {"yellow", "\033[33m"},
             {"bold", "\033[1m"}, {"dim", "\033[2m"},    {"off", "\033[0m"}};
    for (size_t i = 0; on && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].seq;
    return "";
}

static void out_begin(void *ud, const char *name, uint64_t seed,
                      const char *seed_source, const char *run_dir,
                      int baseline)
{
    cr_cli_out *o = ud;
    if (o->quiet)
        return;
    fprintf(stderr, "chaosrun: %s%s, seed %llu (%s), run directory %s\n", name,
            baseline ? " (fault-free baseline)" : "", (unsigned long long)seed,
            seed_source, run_dir);
}

/* Erase the live status line before anything else is printed. */
static void status_clear(cr_cli_out *o)
{
    if (o->status_drawn) {
        fputs("\r\033[K", stderr);
        o->status_drawn = 0;
    }
}

static void out_log(void *ud, double t, const char *text)
{
    cr_cli_out *o = ud;
    if (o->quiet)
        return;
    status_clear(o);
    fprintf(stderr, "[%8.3f] %s\n", t, text);
}

/* "  3 holding, 1 violated, 2 pending, 4 at end": the expectations by
 * live state (checks/cr_live.h), the empty ones left out. */
static void live_counts(const cr_run_status *st, char *buf, size_t n)
{
    const struct {
        size_t k;
        const char *name;
    } c[] = {{st->holding, "holding"},
             {st->violated, "violated"},
             {st->pending, "pending"},
             {st->at_end, "at end"}};
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; st->live && i < sizeof c / sizeof c[0] && off < n; i++)
        if (c[i].k)
            off += (size_t)snprintf(buf + off, n - off, "%s%zu %s",
                                    off ? ", " : "  ", c[i].k, c[i].name);
}

static void out_status(void *ud, const cr_run_status *st)
{
    cr_cli_out *o = ud;
    if (o->quiet)
        return;
    char live[128];
    live_counts(st, live, sizeof live);
    if (st->timeline)
        fprintf(stderr,
                "\r\033[K[%s] t=%.1f/%.0fs  faults: %s  up %zu/%zu  "
                "events %zu%s",
                st->phase, st->t, st->length_s, st->faults, st->up, st->total,
                st->events, live);
    else
        fprintf(stderr, "\r\033[K[%s] up %zu/%zu  events %zu%s", st->phase,
                st->up, st->total, st->events, live);
    o->status_drawn = 1;
}

void cr_cli__out_init(cr_cli_out *o, const cr_cli_view *v)
{
    memset(o, 0, sizeof *o);
    o->quiet = v->quiet;
    o->color = v->color;
    o->iface.ud = o;
    o->iface.begin = out_begin;
    o->iface.log = out_log;
    o->iface.status = out_status;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "  stopped: client.0 SIGTERM 0.153 s, redis.0 SIGTERM 0.004 s": the
 * end-of-run stops, in the order they happened. */
static void summary_stops(FILE *fp, const json_t *j)
{
    size_t i, n = 0;
    json_t *o;
    json_array_foreach (json_object_get(j, "stops"), i, o) {
        if (strcmp(jstr(o, "cause"), "stop") != 0)
            continue;
        fprintf(fp, "%s %s %s %.3f s%s",
                n++ ? "," : "  stopped:", jstr(o, "instance"),
                jstr(o, "signal"),
                json_number_value(json_object_get(o, "took_s")),
                json_is_true(json_object_get(o, "killed")) ? " (SIGKILL)" : "");
    }
    if (n)
        fputc('\n', fp);
}

/* "  outlived its replica: epmd pid 812 from broker.0 (SIGTERM at the
 * end)": processes that left their replica's process group and had to be
 * stopped at the end (journal "strays"; those that ended by themselves,
 * such as a container's conmon, only there). */
static void summary_strays(FILE *fp, const json_t *j)
{
    size_t i, n = 0;
    json_t *o;
    json_array_foreach (json_object_get(j, "strays"), i, o) {
        const char *from = jstr(o, "from"), *how = jstr(o, "how");
        if (strcmp(how, "exited") == 0)
            continue;
        fprintf(fp, "%s %s pid %lld%s%s (%s)",
                n++ ? "," : "  outlived its replica:", jstr(o, "comm"),
                (long long)json_integer_value(json_object_get(o, "pid")),
                *from ? " from " : "", from, *how ? how : "still running");
    }
    if (n)
        fputc('\n', fp);
}

/* One line per expectation, with up to five evidence lines for each
 * that did not pass; expectations that were not judged (details.
 * not_judged: the run did not start or was interrupted) in one line. */
static void summary_expectations(FILE *fp, const json_t *j, int c)
{
    const char *off = cr_cli__sgr(c, "off");
    size_t i, nskip = 0;
    json_t *o;
    char names[300] = "";
    const char *why = NULL;
    json_array_foreach (json_object_get(j, "expectations"), i, o) {
        const char *v = jstr(o, "verdict");
        int pass = strcmp(v, "passed") == 0, fail = strcmp(v, "failed") == 0;
        const char *nj = json_string_value(
            json_object_get(json_object_get(o, "details"), "not_judged"));
        if (nj) {
            size_t k = strlen(names);
            if (k + 2 < sizeof names)
                snprintf(names + k, sizeof names - k, "%s%s", nskip ? ", " : "",
                         jstr(o, "name"));
            why = nj;
            nskip++;
            continue;
        }
        fprintf(fp, "  %s%-7s%s %-22s %s\n",
                cr_cli__sgr(c, pass   ? "green"
                               : fail ? "red"
                                      : "yellow"),
                pass   ? "PASS"
                : fail ? "FAIL"
                       : "UNKNOWN",
                off, jstr(o, "name"), jstr(o, "summary"));
        if (pass)
            continue;
        const json_t *evd = json_object_get(o, "evidence");
        size_t k;
        json_t *ev;
        json_array_foreach (evd, k, ev) {
            if (k >= 5) {
                fprintf(fp, "          … %zu more in journal.json\n",
                        json_array_size(evd) - 5);
                break;
            }
            fprintf(fp, "          t=%.3f %s\n",
                    json_number_value(json_object_get(ev, "t")),
                    jstr(ev, "text"));
        }
    }
    if (nskip)
        fprintf(fp, "  %sNOT JUDGED%s %zu expectation%s (%s): %s\n",
                cr_cli__sgr(c, "yellow"), off, nskip, nskip == 1 ? "" : "s",
                names,
                strcmp(why, "interrupted") == 0 ? "the run was interrupted"
                : strcmp(why, "aborted") == 0
                    ? "the steady state did not hold before any fault"
                    : "the system under test did not start");
}

/* s on one line, every control byte as '?': an error may quote what an
 * engine or a node printed. */
static void put_clean(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
}

/* The faults that failed to apply, each with its error: a count alone
 * sends the reader to the journal for the one thing they need (at most
 * 5 listed). */
static void summary_fault_failures(FILE *fp, const json_t *j)
{
    size_t i, shown = 0, more = 0;
    json_t *o;
    json_array_foreach (json_object_get(j, "faults"), i, o) {
        if (strcmp(jstr(o, "outcome"), "failed") != 0)
            continue;
        if (shown == 5) {
            more++;
            continue;
        }
        shown++;
        const json_t *t = json_object_get(o, "apply_began_t");
        if (!t)
            t = json_object_get(o, "scheduled_t");
        fprintf(fp, "    %s (occurrence %lld, t=%.3f s): ", jstr(o, "name"),
                (long long)json_integer_value(json_object_get(o, "occurrence")),
                json_number_value(t));
        put_clean(fp,
                  *jstr(o, "error") ? jstr(o, "error") : "no reason recorded");
        fputc('\n', fp);
    }
    if (more)
        fprintf(fp, "    and %zu more (journal.json, \"faults\")\n", more);
}

void cr_cli__summary(FILE *fp, const json_t *j, const char *run_dir, int c)
{
    const char *bold = cr_cli__sgr(c, "bold"), *off = cr_cli__sgr(c, "off");
    const char *status = jstr(j, "status");
    const char *scol =
        cr_cli__sgr(c, strcmp(status, "passed") == 0 ? "green" : "red");
    fprintf(fp, "\n%s%s%s: %s%s%s  (seed %llu)\n", bold, jstr(j, "name"), off,
            scol, *status ? status : "?", off,
            (unsigned long long)json_integer_value(json_object_get(j, "seed")));
    const char *error = json_string_value(json_object_get(j, "error"));
    if (error)
        fprintf(fp, "  %s\n", error);
    size_t i, nf = 0, nfailed = 0, nnot = 0;
    json_t *o;
    json_array_foreach (json_object_get(j, "faults"), i, o) {
        nf++;
        nfailed += strcmp(jstr(o, "outcome"), "failed") == 0;
        nnot += strcmp(jstr(o, "outcome"), "not_fired") == 0;
    }
    fprintf(fp, "  faults: %zu occurrence(s)", nf - nnot);
    if (nfailed)
        fprintf(fp, ", %s%zu failed to apply%s", cr_cli__sgr(c, "red"), nfailed,
                off);
    if (nnot)
        fprintf(fp, ", %s%zu never fired%s", cr_cli__sgr(c, "red"), nnot, off);
    fputc('\n', fp);
    summary_fault_failures(fp, j);
    summary_expectations(fp, j, c);
    summary_stops(fp, j);
    summary_strays(fp, j);
    fprintf(fp, "  run directory: %s\n", run_dir);
    fprintf(fp, "  reproduce: %s\n", jstr(j, "reproduce"));
}

int cr_cli__run_finish(cr_cli_out *o, int rc, cr_run_result *res)
{
    status_clear(o);
    if (res->err.code)
        fprintf(stderr, "chaosrun: %s\n", res->err.msg);
    if (res->journal && res->dir) {
        /* Interrupted and failed runs get their reports too: they are
         * what one reads to find out why. */
        cr_err e;
        cr_err_clear(&e);
        if (cr_report_write_all(res->dir, &e) != 0 && !o->quiet)
            fprintf(stderr, "chaosrun: reports: %s\n", e.msg);
        cr_cli__summary(stdout, res->journal, res->dir,
                        cr_cli__color_on(o->color, stdout));
    }
    fflush(stdout);
    return rc;
}

int cr_cli__run_one(cr_scen *sc, const cr_run_opts *opts, const cr_cli_view *v,
                    char **dir_out, int *sig_out)
{
    cr_cli_out o;
    cr_run_result res;
    cr_run_opts ro = *opts;
    cr_cli__out_init(&o, v);
    ro.out = &o.iface;
    int rc = cr_run_scenario(sc, &ro, &res);
    cr_cli__run_finish(&o, rc, &res);
    if (sig_out)
        *sig_out = res.interrupted;
    if (dir_out) {
        *dir_out = res.dir;
        res.dir = NULL;
    }
    cr_run_result_free(&res);
    return rc;
}
