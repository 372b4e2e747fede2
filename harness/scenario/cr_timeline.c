/* cr_timeline: the resolved fault plan of a scenario.
 *
 * cr_scen_resolve() turns every time-triggered fault into a list of start
 * times: at_s is drawn from [lo, hi] with a stream derived from (seed,
 * "fault:<name>"), so adding or renaming another fault does not move this
 * one; repetitions follow at at + k * every_s while the start is <= until_s
 * and the occurrence ends by duration_s.  The same seed always gives the
 * same plan.  State-triggered faults (on_event, on_ready) have no planned
 * start. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"
#include "cr_kinds.h"
#include "base/cr_rng.h"

#include <stdlib.h>
#include <string.h>

/* Rounding slack when comparing computed starts with the bounds. */
#define EPS 1e-9

int cr_scen_resolve(cr_scen *sc, cr_err *err)
{
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        cr_free(f->starts);
        f->starts = NULL;
        f->nstarts = 0;
        if (f->trigger)
            continue;
        char label[CR_PATH_MAX + 16];
        cr_rng r;
        snprintf(label, sizeof label, "fault:%s", f->name);
        cr_rng_derive(&r, sc->seed, label);
        double at = cr_rng_range(&r, f->at.lo, f->at.hi);
        size_t n = 0;
        if (f->every_s > 0) {
            while (n < 100000) {
                double s = at + (double)n * f->every_s;
                if (s > f->until_s + EPS || s + f->for_s > sc->duration_s + EPS)
                    break;
                n++;
            }
        } else if (at + f->for_s <= sc->duration_s + EPS) {
            n = 1;
        }
        if (n == 0)
            continue;
        f->starts = cr_calloc(n, sizeof *f->starts);
        if (!f->starts)
            return cr_err_set(err, CR_ENOMEM,
                              "resolving the timeline of "
                              "fault %s: out of memory",
                              f->name);
        for (size_t k = 0; k < n; k++)
            f->starts[k] = at + (double)k * f->every_s;
        f->nstarts = n;
    }
    return 0;
}

typedef struct slot {
    double t;
    size_t fault, occ;
} slot;

static int slot_cmp(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->fault != y->fault)
        return x->fault < y->fault ? -1 : 1;
    return x->occ < y->occ ? -1 : x->occ > y->occ;
}

/* Every planned occurrence in time order (NULL on allocation failure or
 * when there is none). */
static slot *plan(const cr_scen *sc, size_t *n)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < sc->nfaults; i++)
        total += sc->faults[i].nstarts;
    *n = 0;
    if (!total)
        return NULL;
    slot *v = cr_calloc(total, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < sc->nfaults; i++)
        for (size_t j = 0; j < sc->faults[i].nstarts; j++)
            v[k++] = (slot){sc->faults[i].starts[j], i, j};
    qsort(v, total, sizeof *v, slot_cmp);
    *n = total;
    return v;
}

static void target_str(const cr_fault *f, char *buf, size_t n)
{
    if (f->target.service)
        cr_target_format(&f->target, buf, n);
    else
        snprintf(buf, n, "-");
}

/* "drain 2 s", or "drain until no tick event from burst for 1 s (at most
 * 3 s)". */
static void drain_text(const cr_scen *sc, char *buf, size_t n)
{
    const cr_drain *d = &sc->drain;
    if (d->until_quiet_s > 0)
        snprintf(buf, n, "drain until no %s event%s%s for %g s (at most %g s)",
                 d->match.ev, d->match.svc ? " from " : "",
                 d->match.svc ? d->match.svc : "", d->until_quiet_s, d->max_s);
    else
        snprintf(buf, n, "drain %g s", sc->drain_s);
}

void cr_scen_print_timeline(const cr_scen *sc, FILE *fp)
{
    char drain[CR_PATH_MAX + 96];
    drain_text(sc, drain, sizeof drain);
    size_t n;
    slot *v = plan(sc, &n);
    char tgt[CR_PATH_MAX], name[CR_PATH_MAX + 16];
    fprintf(fp, "scenario %s, seed %llu: %zu service%s, duration %g s, %s\n",
            sc->name, (unsigned long long)sc->seed, sc->nsvcs,
            sc->nsvcs == 1 ? "" : "s", sc->duration_s, drain);
    fprintf(fp, "times are seconds after t0 (every service ready, "
                "before-probes passed)\n");
    fprintf(fp, "%10s  %8s  %-28s %-12s %s\n", "at", "for", "fault", "kind",
            "target");
    if (!v && n == 0) {
        size_t planned = 0;
        for (size_t i = 0; i < sc->nfaults; i++)
            planned += sc->faults[i].nstarts;
        if (planned)
            fprintf(fp, "(out of memory while sorting the timeline)\n");
    }
    for (size_t k = 0; k < n; k++) {
        const cr_fault *f = &sc->faults[v[k].fault];
        target_str(f, tgt, sizeof tgt);
        if (f->nstarts > 1)
            snprintf(name, sizeof name, "%s #%zu", f->name, v[k].occ);
        else
            snprintf(name, sizeof name, "%s", f->name);
        char dur[32];
        if (f->for_s > 0)
            snprintf(dur, sizeof dur, "%.3f", f->for_s);
        else
            snprintf(dur, sizeof dur, "-");
        fprintf(fp, "%10.3f  %8s  %-28s %-12s %s\n", v[k].t, dur, name,
                f->ops ? f->ops->kind : "?", tgt);
    }
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *f = &sc->faults[i];
        if (!f->trigger)
            continue;
        char when[CR_PATH_MAX + 64], dur[32];
        target_str(f, tgt, sizeof tgt);
        if (f->trigger->ready_svc)
            snprintf(when, sizeof when, "on %s ready #%d%s",
                     f->trigger->ready_svc, f->trigger->count,
                     f->trigger->delay_s > 0 ? " +delay" : "");
        else
            snprintf(when, sizeof when, "on %s%s%s #%d%s", f->trigger->match.ev,
                     f->trigger->match.svc ? " from " : "",
                     f->trigger->match.svc ? f->trigger->match.svc : "",
                     f->trigger->count,
                     f->trigger->delay_s > 0 ? " +delay" : "");
        if (f->for_s > 0)
            snprintf(dur, sizeof dur, "%.3f", f->for_s);
        else
            snprintf(dur, sizeof dur, "-");
        fprintf(fp, "%10s  %8s  %-28s %-12s %s  (%s",
                f->trigger->ready_svc ? "on ready" : "on event", dur, f->name,
                f->ops ? f->ops->kind : "?", tgt, when);
        if (f->trigger->delay_s > 0)
            fprintf(fp, " %g s", f->trigger->delay_s);
        fprintf(fp, ")\n");
    }
    fprintf(fp,
            "%10.3f  %8s  end of the fault timeline (duration_s), then "
            "%s, after-probes, stop, expectations\n",
            sc->duration_s, "", drain);
    cr_free(v);
}

static json_t *trigger_json(const cr_trigger *t)
{
    if (t->ready_svc)
        return json_pack("{s:s, s:i, s:f}", "svc", t->ready_svc, "count",
                         t->count, "delay_s", t->delay_s);
    json_t *o = json_pack("{s:s, s:s?, s:O?, s:i, s:f}", "ev", t->match.ev,
                          "svc", t->match.svc, "where", t->match.where, "count",
                          t->count, "delay_s", t->delay_s);
    return o;
}

json_t *cr_scen_timeline_json(const cr_scen *sc)
{
    size_t n;
    slot *v = plan(sc, &n);
    json_t *a = json_array();
    char tgt[CR_PATH_MAX];
    if (!a || (!v && n))
        goto fail;
    for (size_t k = 0; k < n; k++) {
        const cr_fault *f = &sc->faults[v[k].fault];
        json_t *t = NULL;
        if (f->target.service) {
            cr_target_format(&f->target, tgt, sizeof tgt);
            if (!(t = json_string(tgt)))
                goto fail;
        }
        json_t *e = json_pack(
            "{s:s, s:s, s:o, s:I, s:f, s:f}", "fault", f->name, "kind",
            f->ops->kind, "target", t ? t : json_null(), "occurrence",
            (json_int_t)v[k].occ, "at_s", v[k].t, "for_s", f->for_s);
        if (!e || json_array_append_new(a, e))
            goto fail;
    }
    for (size_t i = 0; i < sc->nfaults; i++) {
        const cr_fault *f = &sc->faults[i];
        if (!f->trigger)
            continue;
        json_t *t = NULL, *trig = trigger_json(f->trigger);
        if (!trig)
            goto fail;
        if (f->target.service) {
            cr_target_format(&f->target, tgt, sizeof tgt);
            if (!(t = json_string(tgt))) {
                json_decref(trig);
                goto fail;
            }
        }
        json_t *e =
            json_pack("{s:s, s:s, s:o, s:n, s:n, s:f, s:o}", "fault", f->name,
                      "kind", f->ops->kind, "target", t ? t : json_null(),
                      "occurrence", "at_s", "for_s", f->for_s,
                      f->trigger->ready_svc ? "on_ready" : "on_event", trig);
        if (!e || json_array_append_new(a, e))
            goto fail;
    }
    cr_free(v);
    return a;
fail:
    cr_free(v);
    json_decref(a);
    return NULL;
}
