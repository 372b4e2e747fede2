/* cr_cli_output: what a run shows on the terminal.  The engine reports
 * through cr_run_output (engine/cr_run.h); this file prints it -- the
 * start line, progress lines, the live status line -- and, once
 * cr_run_scenario returned, writes the run's reports and prints the
 * one-screen summary from the journal (cr_cli__run_finish). */
#include "cr_cli_internal.h"

#include "reports/cr_report.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static void out_status(void *ud, const cr_run_status *st)
{
    cr_cli_out *o = ud;
    if (o->quiet)
        return;
    if (st->timeline)
        fprintf(stderr,
                "\r\033[K[%s] t=%.1f/%.0fs  faults: %s  up %zu/%zu  "
                "events %zu",
                st->phase, st->t, st->length_s, st->faults, st->up, st->total,
                st->events);
    else
        fprintf(stderr, "\r\033[K[%s] up %zu/%zu  events %zu", st->phase,
                st->up, st->total, st->events);
    o->status_drawn = 1;
}

void cr_cli__out_init(cr_cli_out *o, int quiet)
{
    memset(o, 0, sizeof *o);
    o->quiet = quiet;
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

static void summary_expectations(FILE *fp, const json_t *j, int tty)
{
    const char *off = tty ? "\033[0m" : "", *red = tty ? "\033[31m" : "",
               *green = tty ? "\033[32m" : "", *yellow = tty ? "\033[33m" : "";
    size_t i;
    json_t *o;
    json_array_foreach (json_object_get(j, "expectations"), i, o) {
        const char *v = jstr(o, "verdict");
        int pass = strcmp(v, "passed") == 0, fail = strcmp(v, "failed") == 0;
        fprintf(fp, "  %s%-7s%s %-22s %s\n",
                pass   ? green
                : fail ? red
                       : yellow,
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
}

void cr_cli__summary(FILE *fp, const json_t *j, const char *run_dir)
{
    int tty = isatty(fileno(fp));
    const char *bold = tty ? "\033[1m" : "", *off = tty ? "\033[0m" : "";
    const char *status = jstr(j, "status");
    const char *scol = strcmp(status, "passed") == 0 ? (tty ? "\033[32m" : "")
                                                     : (tty ? "\033[31m" : "");
    fprintf(fp, "\n%s%s%s: %s%s%s  (seed %llu)\n", bold, jstr(j, "name"), off,
            scol, *status ? status : "?", off,
            (unsigned long long)json_integer_value(json_object_get(j, "seed")));
    const char *error = json_string_value(json_object_get(j, "error"));
    if (error)
        fprintf(fp, "  %s\n", error);
    size_t i, nf = 0, nfailed = 0;
    json_t *o;
    json_array_foreach (json_object_get(j, "faults"), i, o) {
        nf++;
        nfailed += strcmp(jstr(o, "outcome"), "failed") == 0;
    }
    fprintf(fp, "  faults: %zu occurrence(s)", nf);
    if (nfailed)
        fprintf(fp, ", %s%zu failed to apply%s", tty ? "\033[31m" : "", nfailed,
                off);
    fputc('\n', fp);
    summary_expectations(fp, j, tty);
    summary_stops(fp, j);
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
        cr_cli__summary(stdout, res->journal, res->dir);
    }
    fflush(stdout);
    return rc;
}

int cr_cli__run_one(cr_scen *sc, const cr_run_opts *opts, int quiet,
                    char **dir_out)
{
    cr_cli_out o;
    cr_run_result res;
    cr_run_opts ro = *opts;
    cr_cli__out_init(&o, quiet);
    ro.out = &o.iface;
    int rc = cr_run_scenario(sc, &ro, &res);
    cr_cli__run_finish(&o, rc, &res);
    if (dir_out) {
        *dir_out = res.dir;
        res.dir = NULL;
    }
    cr_run_result_free(&res);
    return rc;
}
