/* cr_report: loading a run directory into the model every report writer
 * shares (see cr_report.h), and cr_report_write_all(). */
#include "cr_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "base/cr_zst.h"
#include "cr_evid.h"
#include "cr_html.h"
#include "cr_junit.h"
#include "cr_md.h"
#include "cr_report_internal.h"

static const char *const state_names[CR_REP_NSTATES] = {
    [CR_REP_STARTING] = "starting",     [CR_REP_UP] = "up",
    [CR_REP_PAUSED] = "paused",         [CR_REP_DEAD] = "dead",
    [CR_REP_RESTARTING] = "restarting", [CR_REP_STOPPED] = "stopped",
};

const char *cr_rep_state_name(int state)
{
    return state >= 0 && state < CR_REP_NSTATES ? state_names[state] : "?";
}

const char *cr_rep_jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

double cr_rep_jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* ---- events ----------------------------------------------------------- */

static int cmp_event(const void *a, const void *b)
{
    const cr_rep_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    /* qsort is not stable: keep file order for ties via the pointer
     * addresses of the parsed objects' sequence numbers. */
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int load_events(cr_report *r, const char *path, cr_err *err)
{
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    FILE *fp = cr_out_fopen_read(path);
    if (!fp) {
        if (errno == ENOENT) {
            r->events_missing = 1;
            return 0;
        }
        return cr_err_sys(err, CR_ESYS, errno, "opening %s", path);
    }
    /* A run that rotated its files wrote events.jsonl.zst. */
    if (cr_zst_named(path) && !(fp = cr_zst_ropen(fp)))
        return cr_err_set(err, CR_ENOMEM, "loading %s: out of memory", path);
    ssize_t len;
    size_t cap_ev = 0;
    while ((len = getline(&line, &cap, fp)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        const json_t *ts = json_object_get(o, "ts");
        const json_t *ev = json_object_get(o, "ev");
        if (!json_is_object(o) || !json_is_number(ts) || !json_is_string(ev)) {
            json_decref(o);
            r->malformed++;
            continue;
        }
        if (r->nev == cap_ev) {
            size_t nc = cap_ev ? cap_ev * 2 : 256;
            cr_rep_event *nv = cr_realloc(r->ev, nc * sizeof *nv);
            if (!nv) {
                json_decref(o);
                rc = cr_err_set(err, CR_ENOMEM, "loading %s: out of memory",
                                path);
                goto out;
            }
            r->ev = nv;
            cap_ev = nc;
        }
        cr_rep_event *e = &r->ev[r->nev];
        e->obj = o;
        e->t = json_number_value(ts) - r->t0_unix;
        e->ev = json_string_value(ev);
        e->svc = nz(cr_rep_jstr(o, "svc"));
        e->inst = cr_rep_jstr(o, "inst") ? cr_rep_jstr(o, "inst") : e->svc;
        e->seq = r->nev++;
    }
    if (ferror(fp)) /* cut short or corrupt (zstd) */
        rc = cr_err_sys(err, CR_ESYS, errno, "reading %s", path);
    if (r->nev)
        qsort(r->ev, r->nev, sizeof *r->ev, cmp_event);
out:
    free(line);
    fclose(fp);
    return rc;
}

/* ---- faults ----------------------------------------------------------- */

static int cmp_fault(const void *a, const void *b)
{
    const cr_rep_fault *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int load_faults(cr_report *r, cr_err *err)
{
    const json_t *arr = json_object_get(r->journal, "faults");
    size_t n = json_array_size(arr);
    if (!n)
        return 0;
    r->faults = cr_calloc(n, sizeof *r->faults);
    if (!r->faults)
        return cr_err_set(err, CR_ENOMEM, "loading faults: out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o))
            continue;
        cr_rep_fault *f = &r->faults[r->nfaults++];
        f->obj = o;
        f->name = cr_rep_jstr(o, "name") ? cr_rep_jstr(o, "name") : "fault";
        f->kind = nz(cr_rep_jstr(o, "kind"));
        f->target = nz(cr_rep_jstr(o, "target"));
        f->outcome =
            cr_rep_jstr(o, "outcome") ? cr_rep_jstr(o, "outcome") : "applied";
        f->error = cr_rep_jstr(o, "error");
        f->occurrence =
            (int)json_integer_value(json_object_get(o, "occurrence"));
        double applied = cr_rep_jnum(o, "applied_t");
        double sched = cr_rep_jnum(o, "scheduled_t");
        double rev = cr_rep_jnum(o, "reverted_t");
        double for_s = cr_rep_jnum(o, "for_s");
        f->start = !isnan(applied) ? applied : !isnan(sched) ? sched : 0;
        if (!isnan(rev)) {
            f->end = rev < f->start ? f->start : rev;
        } else if (!isnan(for_s) && for_s > 0 &&
                   strcmp(f->outcome, "applied") == 0) {
            f->open = 1; /* never reverted: ends with the run */
            f->end = NAN;
        } else {
            f->end = f->start;
        }
        f->instant = !f->open && f->end == f->start;
    }
    qsort(r->faults, r->nfaults, sizeof *r->faults, cmp_fault);
    return 0;
}

/* ---- service lanes ---------------------------------------------------- */

static int lane_push(cr_rep_lane *l, size_t *cap, double t, int state)
{
    if (l->nsegs && l->segs[l->nsegs - 1].state == state)
        return 0;
    if (l->nsegs && l->segs[l->nsegs - 1].t0 >= t) {
        /* Two changes at the same instant: the later one wins. */
        l->segs[l->nsegs - 1].state = state;
        return 0;
    }
    if (l->nsegs == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        cr_rep_seg *ns = cr_realloc(l->segs, nc * sizeof *ns);
        if (!ns)
            return -1;
        l->segs = ns;
        *cap = nc;
    }
    if (l->nsegs)
        l->segs[l->nsegs - 1].t1 = t;
    l->segs[l->nsegs++] = (cr_rep_seg){t, t, state};
    return 0;
}

int cr_rep_target_has(const char *target, const char *inst, const char *service)
{
    /* target: "worker.0", "worker" (every replica) or a list joined by
     * ',' or ' '. */
    const char *p = target;
    while (p && *p) {
        size_t k = strcspn(p, ", ");
        if (k && ((strlen(inst) == k && !strncmp(p, inst, k)) ||
                  (strlen(service) == k && !strncmp(p, service, k))))
            return 1;
        p += k;
        p += strspn(p, ", ");
    }
    return 0;
}

/* Overlay a pause window [a, b) on the lane: running states inside it
 * become paused (a process that is not running cannot be paused). */
static int lane_pause(cr_rep_lane *l, size_t *cap, double a, double b)
{
    cr_rep_seg *v = l->segs;
    size_t n = l->nsegs;
    cr_rep_seg *out = cr_calloc(2 * n + 2, sizeof *out);
    size_t k = 0;
    if (!out)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cr_rep_seg s = v[i];
        int running = s.state == CR_REP_UP || s.state == CR_REP_STARTING ||
                      s.state == CR_REP_RESTARTING;
        if (!running || s.t1 <= a || s.t0 >= b) {
            out[k++] = s;
            continue;
        }
        if (s.t0 < a)
            out[k++] = (cr_rep_seg){s.t0, a, s.state};
        double lo = s.t0 > a ? s.t0 : a, hi = s.t1 < b ? s.t1 : b;
        if (k && out[k - 1].state == CR_REP_PAUSED && out[k - 1].t1 >= lo)
            out[k - 1].t1 = hi;
        else
            out[k++] = (cr_rep_seg){lo, hi, CR_REP_PAUSED};
        if (s.t1 > b)
            out[k++] = (cr_rep_seg){b, s.t1, s.state};
    }
    cr_free(l->segs);
    l->segs = out;
    l->nsegs = k;
    *cap = 2 * n + 2;
    return 0;
}

/* States from the history entries (start, ready, exit, and
 * paused/resumed when the engine writes them); without pause/resume entries,
 * the windows of pause faults aimed at the instance are overlaid. */
static int lane_build(cr_report *r, cr_rep_lane *l, const json_t *hist,
                      cr_err *err)
{
    size_t cap = 0;
    int exited = 0, paused = 0, base = CR_REP_UP, has_pause = 0;
    size_t n = json_array_size(hist);
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(hist, i);
        double t = cr_rep_jnum(h, "t");
        const char *w = nz(cr_rep_jstr(h, "what"));
        const char *cause = nz(cr_rep_jstr(h, "cause"));
        if (isnan(t))
            continue;
        if (!strcmp(w, "start"))
            base = exited ? CR_REP_RESTARTING : CR_REP_STARTING;
        else if (!strcmp(w, "ready"))
            base = CR_REP_UP;
        else if (!strcmp(w, "exit")) {
            exited = 1;
            paused = 0; /* SIGKILL ends a stopped process too */
            base = !strcmp(cause, "stop") ? CR_REP_STOPPED : CR_REP_DEAD;
        } else if (!strcmp(w, "pause") || !strcmp(w, "paused"))
            paused = has_pause = 1;
        else if (!strcmp(w, "resume") || !strcmp(w, "resumed"))
            paused = 0, has_pause = 1;
        else
            continue;
        if (lane_push(l, &cap, t, paused ? CR_REP_PAUSED : base) < 0)
            goto nomem;
    }
    if (l->nsegs)
        l->segs[l->nsegs - 1].t1 = r->t_max;
    for (size_t i = 0; !has_pause && i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (strcmp(f->kind, "pause") || f->instant ||
            strcmp(f->outcome, "applied") ||
            !cr_rep_target_has(f->target, l->inst, l->service))
            continue;
        if (lane_pause(l, &cap, f->start, f->end) < 0)
            goto nomem;
    }
    return 0;
nomem:
    return cr_err_set(err, CR_ENOMEM, "building lane %s: out of memory",
                      l->inst);
}

static int load_lanes(cr_report *r, cr_err *err)
{
    const json_t *arr = json_object_get(r->journal, "services");
    size_t n = json_array_size(arr);
    if (!n)
        return 0;
    r->lanes = cr_calloc(n, sizeof *r->lanes);
    if (!r->lanes)
        return cr_err_set(err, CR_ENOMEM, "loading services: out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o))
            continue;
        cr_rep_lane *l = &r->lanes[r->nlanes++];
        l->inst = cr_rep_jstr(o, "instance") ? cr_rep_jstr(o, "instance")
                                             : nz(cr_rep_jstr(o, "service"));
        l->service = nz(cr_rep_jstr(o, "service"));
        l->log = cr_rep_jstr(o, "log");
        l->restarts = (int)json_integer_value(json_object_get(o, "restarts"));
        int rc = lane_build(r, l, json_object_get(o, "history"), err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- expectations ----------------------------------------------------- */

static int load_expects(cr_report *r, cr_err *err)
{
    const json_t *arr = json_object_get(r->journal, "expectations");
    size_t n = json_array_size(arr);
    if (!n)
        return 0;
    r->ex = cr_calloc(n, sizeof *r->ex);
    if (!r->ex)
        return cr_err_set(err, CR_ENOMEM,
                          "loading expectations: out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o))
            continue;
        cr_rep_expect *x = &r->ex[r->nex++];
        x->name =
            cr_rep_jstr(o, "name") ? cr_rep_jstr(o, "name") : "expectation";
        x->kind = nz(cr_rep_jstr(o, "kind"));
        x->verdict =
            cr_rep_jstr(o, "verdict") ? cr_rep_jstr(o, "verdict") : "unknown";
        /* Anything but passed/failed is reported as unknown: never a pass. */
        if (strcmp(x->verdict, "passed") && strcmp(x->verdict, "failed"))
            x->verdict = "unknown";
        x->summary = nz(cr_rep_jstr(o, "summary"));
        const json_t *m = json_object_get(o, "measured");
        double v = cr_rep_jnum(m, "value");
        x->has_measured = !isnan(v);
        x->measured = v;
        x->unit = nz(cr_rep_jstr(m, "unit"));
        x->bound = nz(cr_rep_jstr(m, "bound"));
        x->evidence = json_is_array(json_object_get(o, "evidence"))
                          ? json_object_get(o, "evidence")
                          : NULL;
        x->details = json_is_object(json_object_get(o, "details"))
                         ? json_object_get(o, "details")
                         : NULL;
        if (!strcmp(x->verdict, "passed"))
            r->npassed++;
        else if (!strcmp(x->verdict, "failed"))
            r->nfailed++;
        else
            r->nunknown++;
    }
    return 0;
}

/* ---- the time axis ---------------------------------------------------- */

static void widen(double *lo, double *hi, double t)
{
    if (isnan(t) || isinf(t))
        return;
    if (t < *lo)
        *lo = t;
    if (t > *hi)
        *hi = t;
}

static void time_axis(cr_report *r)
{
    double lo = 0, hi = 0;
    const json_t *ph = json_object_get(r->journal, "phases");
    for (size_t i = 0; i < json_array_size(ph); i++)
        widen(&lo, &hi, cr_rep_jnum(json_array_get(ph, i), "t"));
    const json_t *sv = json_object_get(r->journal, "services");
    for (size_t i = 0; i < json_array_size(sv); i++) {
        const json_t *h = json_object_get(json_array_get(sv, i), "history");
        for (size_t j = 0; j < json_array_size(h); j++)
            widen(&lo, &hi, cr_rep_jnum(json_array_get(h, j), "t"));
    }
    if (r->nev) {
        widen(&lo, &hi, r->ev[0].t);
        widen(&lo, &hi, r->ev[r->nev - 1].t);
    }
    if (!isnan(r->duration_s) && !strcmp(cr_report_verdict(r), "passed"))
        widen(&lo, &hi, r->duration_s + (isnan(r->drain_s) ? 0 : r->drain_s));
    if (!isnan(r->ended_at) && !isnan(r->t0_unix))
        widen(&lo, &hi, r->ended_at - r->t0_unix);
    /* Events from a clock far off (a bad "ts") must not squash the axis. */
    if (lo < -120)
        lo = -120;
    if (hi > 86400)
        hi = 86400;
    if (hi - lo < 1)
        hi = lo + 1;
    r->t_min = lo;
    r->t_max = hi;
}

/* ---- load / destroy --------------------------------------------------- */

static json_t *load_journal(const char *path, cr_err *err)
{
    json_error_t je;
    FILE *fp = cr_out_fopen_read(path);
    if (!fp) {
        cr_err_sys(err, errno == ENOENT ? CR_ENOTFOUND : CR_ESYS, errno,
                   "opening %s", path);
        return NULL;
    }
    json_t *j = json_loadf(fp, 0, &je);
    fclose(fp);
    if (!j) {
        cr_err_set(err, CR_EPROTO, "%s:%d:%d: %s", path, je.line, je.column,
                   je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        cr_err_set(err, CR_EPROTO, "%s: not a JSON object", path);
        return NULL;
    }
    return j;
}

int cr_report_load(const char *run_dir, cr_report **out, cr_err *err)
{
    int rc = 0;
    char *path = NULL;
    cr_report *r = cr_calloc(1, sizeof *r);
    *out = NULL;
    if (!r || !(r->dir = cr_strdup(run_dir)) ||
        !(path = cr_asprintf("%s/journal.json", run_dir))) {
        rc = cr_err_set(err, CR_ENOMEM, "loading %s: out of memory", run_dir);
        goto out;
    }
    r->journal = load_journal(path, err);
    if (!r->journal) {
        rc = err && err->code ? err->code : CR_EPROTO;
        goto out;
    }
    const json_t *J = r->journal;
    r->name = cr_rep_jstr(J, "name") ? cr_rep_jstr(J, "name") : "scenario";
    r->status = cr_rep_jstr(J, "status");
    r->error = cr_rep_jstr(J, "error");
    r->reproduce = cr_rep_jstr(J, "reproduce");
    r->scenario_file = cr_rep_jstr(J, "scenario_file");
    r->description = cr_rep_jstr(J, "description");
    r->seed_source = cr_rep_jstr(J, "seed_source");
    const json_t *seed = json_object_get(J, "seed");
    r->has_seed = json_is_integer(seed);
    r->seed = (unsigned long long)json_integer_value(seed);
    r->exit_code =
        json_is_integer(json_object_get(J, "exit_code"))
            ? (int)json_integer_value(json_object_get(J, "exit_code"))
            : -1;
    r->started_at = cr_rep_jnum(J, "started_at");
    r->ended_at = cr_rep_jnum(J, "ended_at");
    r->t0_unix = cr_rep_jnum(J, "t0_unix");
    if (isnan(r->t0_unix)) /* never reached t0 (unrunnable, early stop) */
        r->t0_unix = isnan(r->started_at) ? 0 : r->started_at;
    /* The timeline's actual length (stretched by duration_max_s) when the
     * run got that far; else the scenario's. */
    r->duration_s = cr_rep_jnum(J, "timeline_s");
    if (isnan(r->duration_s))
        r->duration_s = cr_rep_jnum(J, "duration_s");
    r->drain_s = cr_rep_jnum(J, "drain_s");

    const char *evf = cr_rep_jstr(json_object_get(J, "events"), "file");
    if (!evf || strchr(evf, '/'))
        evf = "events.jsonl"; /* only ever a file inside the run dir */
    cr_free(path);
    if (!(path = cr_asprintf("%s/%s", run_dir, evf))) {
        rc = cr_err_set(err, CR_ENOMEM, "loading %s: out of memory", run_dir);
        goto out;
    }
    if ((rc = load_events(r, path, err)) < 0 || (rc = load_faults(r, err)) < 0)
        goto out;
    r->t_faults_end = NAN;
    for (size_t i = 0; i < r->nfaults; i++)
        if (!r->faults[i].open &&
            (isnan(r->t_faults_end) || r->faults[i].end > r->t_faults_end))
            r->t_faults_end = r->faults[i].end;
    time_axis(r);
    for (size_t i = 0; i < r->nfaults; i++) {
        cr_rep_fault *f = &r->faults[i];
        if (f->open)
            f->end = r->t_max;
        /* A fault that never happened (skipped at an interruption) must
         * not stretch the axis to its planned time. */
        if (!strcmp(f->outcome, "applied") || !strcmp(f->outcome, "failed"))
            widen(&r->t_min, &r->t_max, f->end);
    }
    if ((rc = load_lanes(r, err)) < 0 || (rc = load_expects(r, err)) < 0 ||
        (rc = cr_evid_build(r, err)) < 0)
        goto out;
    *out = r;
    r = NULL;
out:
    cr_free(path);
    cr_report_destroy(r);
    return rc;
}

void cr_report_destroy(cr_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nev; i++)
        json_decref(r->ev[i].obj);
    cr_free(r->ev);
    for (size_t i = 0; i < r->nlanes; i++)
        cr_free(r->lanes[i].segs);
    cr_free(r->lanes);
    cr_free(r->faults);
    for (size_t i = 0; i < r->nex; i++)
        cr_evid_free(&r->ex[i]);
    cr_free(r->ex);
    json_decref(r->journal);
    cr_free(r->dir);
    cr_free(r);
}

const char *cr_report_verdict(const cr_report *r)
{
    return r->status ? r->status : "unknown";
}

/* ---- rates ------------------------------------------------------------ */

size_t cr_report_nbins(const cr_report *r, double bin_s)
{
    double n = ceil((r->t_max - r->t_min) / bin_s);
    return n < 1 ? 1 : (size_t)n;
}

int cr_rep_is_error(const cr_rep_event *e)
{
    return json_object_get(e->obj, "error") || !strcmp(e->ev, "giveup") ||
           !strcmp(e->ev, "dead_lettered") || !strcmp(e->ev, "rejected");
}

void cr_report_rate(const cr_report *r, const char *ev, double t0, double bin_s,
                    double *counts, size_t nbins)
{
    memset(counts, 0, nbins * sizeof *counts);
    for (size_t i = 0; i < r->nev; i++) {
        const cr_rep_event *e = &r->ev[i];
        if (ev ? strcmp(e->ev, ev) != 0 : !cr_rep_is_error(e))
            continue;
        double b = floor((e->t - t0) / bin_s);
        if (b < 0 || b >= (double)nbins)
            continue;
        counts[(size_t)b] += 1.0 / bin_s;
    }
}

/* 1 when t lies in a fault window (instantaneous faults count for the
 * second that follows them: that is when their effect shows). */
int cr_rep_in_fault(const cr_report *r, double t)
{
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (strcmp(f->outcome, "applied"))
            continue;
        double end = f->instant ? f->start + 1 : f->end;
        if (t >= f->start && t < end)
            return 1;
    }
    return 0;
}

/* A half-open time interval [t0, t1). */
typedef struct cr_rep_iv {
    double t0, t1;
} cr_rep_iv;

static int cmp_iv(const void *a, const void *b)
{
    const cr_rep_iv *x = a, *y = b;
    return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* The applied fault windows as cr_rep_in_fault() counts them (an instant
 * one second), merged into disjoint intervals in time order.  0, or -1
 * when out of memory. */
static int fault_union(const cr_report *r, cr_rep_iv **out, size_t *n)
{
    cr_rep_iv *v = cr_calloc(r->nfaults + 1, sizeof *v);
    size_t m = 0;
    if (!v)
        return -1;
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        double end = f->instant ? f->start + 1 : f->end;
        if (!strcmp(f->outcome, "applied") && end > f->start)
            v[m++] = (cr_rep_iv){f->start, end};
    }
    qsort(v, m, sizeof *v, cmp_iv);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && v[i].t0 <= v[k - 1].t1) {
            if (v[i].t1 > v[k - 1].t1)
                v[k - 1].t1 = v[i].t1;
        } else {
            v[k++] = v[i];
        }
    }
    *out = v;
    *n = k;
    return 0;
}

double cr_report_rate_faults(const cr_report *r, const char *ev, int inside)
{
    /* Integrate over 10 ms steps of [0, duration): simple and exact enough
     * for a report, and robust to overlapping windows. */
    double end = isnan(r->duration_s) ? r->t_max : r->duration_s;
    const double step = 0.01;
    size_t any = 0;
    for (size_t i = 0; i < r->nev && !any; i++)
        any = !strcmp(r->ev[i].ev, ev);
    if (!any)
        return NAN; /* the system does not report this event at all */
    /* The union of the windows, as cr_rep_in_fault sees them, merged and
     * sorted once; then one sweep over the steps and one over the events
     * (both in time order): linear, where asking cr_rep_in_fault at every
     * step took steps x faults (hours for a ten-hour run of many faults),
     * and the same figures. */
    cr_rep_iv *iv = NULL;
    size_t niv = 0;
    if (fault_union(r, &iv, &niv) < 0)
        return NAN;
    double span = 0;
    size_t count = 0, k = 0;
    for (double t = 0; t < end; t += step) {
        while (k < niv && iv[k].t1 <= t)
            k++;
        if ((k < niv && iv[k].t0 <= t) == inside)
            span += step;
    }
    k = 0;
    double last = -INFINITY;
    for (size_t i = 0; i < r->nev; i++) {
        const cr_rep_event *e = &r->ev[i];
        if (e->t < last)
            k = 0; /* not in time order after all: start over */
        last = e->t;
        while (k < niv && iv[k].t1 <= e->t)
            k++;
        if (e->t >= 0 && e->t < end && !strcmp(e->ev, ev) &&
            (k < niv && iv[k].t0 <= e->t) == inside)
            count++;
    }
    cr_free(iv);
    return span > 0 ? (double)count / span : NAN;
}

/* ---- write_all -------------------------------------------------------- */

int cr_report_write_all(const char *run_dir, cr_err *err)
{
    cr_report *r = NULL;
    char *path = NULL;
    int rc = cr_report_load(run_dir, &r, err);
    if (rc < 0)
        return rc;
    static const struct {
        const char *file;
        int (*write)(const cr_report *, cr_out *, cr_err *);
    } writers[] = {
        {"junit.xml", cr_junit_write},
        {"report.md", cr_md_write},
        {"report.html", cr_html_write},
    };
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        cr_out o;
        cr_out_init(&o);
        path = cr_asprintf("%s/%s", run_dir, writers[i].file);
        if (!path) {
            rc = cr_err_set(err, CR_ENOMEM, "writing reports: out of memory");
            goto out;
        }
        rc = writers[i].write(r, &o, err);
        if (rc == 0)
            rc = cr_out_write_file(&o, path, err);
        cr_out_free(&o);
        cr_free(path);
        path = NULL;
        if (rc < 0)
            goto out;
    }
out:
    cr_report_destroy(r);
    return rc;
}

/* ---- expectations the engine did not judge ------------------------------ */

const char *cr_rep_not_judged(const cr_rep_expect *x)
{
    return json_string_value(json_object_get(x->details, "not_judged"));
}

size_t cr_rep_count_not_judged(const cr_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nex; i++)
        n += cr_rep_not_judged(&r->ex[i]) != NULL;
    return n;
}

const char *cr_rep_interrupted_note(const cr_report *r)
{
    /* Runs recorded before the engine stopped judging interrupted runs
     * carry verdicts. */
    return r->nex && cr_rep_count_not_judged(r) == r->nex
               ? "the run was stopped before it finished; its expectations "
                 "were not judged"
               : "the run was stopped before it finished; verdicts were "
                 "judged on what was recorded";
}
