/* cr_explore: the scenario key "explore" -- a fault space that `chaosrun
 * explore` draws concrete schedules from -- its validation and the draw.
 *
 * An entry of explore.faults is a fault template: a kind, a target (or a
 * list to choose from), an optional at_s window, and for_s and the kind's
 * parameters each either fixed, a range [min, max] of two numbers, or a
 * list to choose from.  Validation checks every entry the way a fault is
 * checked: the kind's own parse function sees the template's extreme
 * choices (every list element, the ends of every range), so a value that
 * no drawn schedule could use is an error at its FILE:LINE:COLUMN before
 * anything runs.  The format is in scenarios/README.md, "Exploring". */
#include "cr_kinds.h"
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"
#include "base/cr_rng.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPLORE_MAX_COUNT 100

struct cr_explore {
    const json_t *faults; /* the templates, borrowed from sc->root */
    long long count_lo, count_hi;
    double duration_s;
};

static const cr_param explore_params[] = {
    {"faults", "array", NULL,
     "fault templates: kind, target (or a list), at_s window, for_s and "
     "parameters fixed, [min, max] or a list to choose from"},
    {"count", "integer or [min, max]", "[1, 3]",
     "how many faults one schedule draws"},
    {NULL, NULL, NULL, NULL},
};

static const cr_param entry_params[] = {
    {"kind", "string", NULL, "fault kind"},
    {"target", "string, object or array", "none",
     "a target, or a list of targets to choose from"},
    {"at_s", "time", "[0, duration_s]", "window the start is drawn from"},
    {"for_s", "time", "0", "a number or a range [min, max]"},
    {NULL, NULL, NULL, NULL},
};

int cr_explore_present(const cr_scen *sc)
{
    return sc && sc->explore;
}

void cr_scen__explore_free(cr_explore *e)
{
    cr_free(e);
}

/* A range [min, max] of two numbers (the rest of arrays are lists). */
static int is_range(const json_t *v)
{
    return json_is_array(v) && json_array_size(v) == 2 &&
           json_is_number(json_array_get(v, 0)) &&
           json_is_number(json_array_get(v, 1));
}

/* Variant k of a template value: ranges give their min (k 0) or max, lists
 * their element k (the last one past the end), anything else itself. */
static json_t *variant(const json_t *v, size_t k)
{
    if (is_range(v))
        return json_array_get(v, k == 0 ? 0 : 1);
    if (json_is_array(v) && json_array_size(v) > 0) {
        size_t n = json_array_size(v);
        return json_array_get(v, k < n ? k : n - 1);
    }
    return (json_t *)v;
}

static void check_targets(cr_vctx *vx, const json_t *e, const char *path,
                          const cr_fault_ops *ops)
{
    char p[CR_PATH_MAX];
    const json_t *t = json_object_get(e, "target");
    size_t n = json_is_array(t) ? json_array_size(t) : 1;
    cr_path_key(p, sizeof p, path, "target");
    if (json_is_array(t) && n == 0) {
        cr_verr(vx, p, "must be a target or a non-empty list of targets");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        const json_t *c = json_is_array(t) ? json_array_get(t, i) : t;
        cr_fault tmp = {.ops = ops};
        if (!o || (c && json_object_set(o, "target", (json_t *)c) != 0)) {
            json_decref(o);
            vx->nomem = 1;
            return;
        }
        size_t before = cr_vcount(vx);
        cr_scen__parse_target(vx, o, path, &tmp);
        cr_free(tmp.target.service);
        json_decref(o);
        if (cr_vcount(vx) > before)
            return; /* one message a list is enough */
    }
}

/* The kind's own parse function on each variant of the template. */
static void check_params(cr_vctx *vx, const json_t *e, const char *path,
                         const cr_fault_ops *ops, cr_time fo)
{
    const char *key;
    json_t *v;
    size_t nvar = 2;
    char p[CR_PATH_MAX];
    json_object_foreach ((json_t *)e, key, v) {
        if (json_is_array(v) && !is_range(v) && json_array_size(v) == 0) {
            cr_path_key(p, sizeof p, path, key);
            cr_verr(vx, p, "an empty list leaves nothing to choose");
            return;
        }
        if (json_is_array(v) && json_array_size(v) > nvar)
            nvar = json_array_size(v);
    }
    for (size_t k = 0; k < nvar && ops->parse; k++) {
        json_t *o = json_object();
        cr_fault tmp = {.ops = ops, .for_s = k == 0 ? fo.lo : fo.hi};
        if (!o) {
            vx->nomem = 1;
            return;
        }
        json_object_foreach ((json_t *)e, key, v) {
            if (strcmp(key, "target") && strcmp(key, "at_s") &&
                strcmp(key, "for_s") &&
                json_object_set(o, key, variant(v, k)) != 0)
                vx->nomem = 1;
        }
        size_t before = cr_vcount(vx);
        cr_scen__nomem_if(vx, ops->parse(vx, o, path, &tmp));
        if (tmp.priv && ops->destroy)
            ops->destroy(&tmp);
        json_decref(o);
        if (cr_vcount(vx) > before)
            return;
    }
}

static void parse_entry(cr_vctx *vx, const json_t *e, const char *path,
                        double dur)
{
    char p[CR_PATH_MAX];
    const char *kind;
    if (!json_is_object(e)) {
        cr_verr(vx, path, "must be an object (got %s)", cr_jtype(e));
        return;
    }
    if (!cr_vrequire(vx, e, path, "kind") ||
        cr_vstr(vx, e, path, "kind", NULL, &kind) <= 0)
        return;
    const cr_fault_ops *ops = cr_fault_lookup(kind);
    if (!ops) {
        const cr_fault_ops *const *all = cr_fault_all();
        const char *names[64];
        char hint[128];
        size_t n = 0;
        for (; all[n] && n < 64; n++)
            names[n] = all[n]->kind;
        cr_path_key(p, sizeof p, path, "kind");
        cr_verr(vx, p, "unknown fault kind \"%s\"%s (chaosrun list faults)",
                kind, cr_vhint(hint, sizeof hint, kind, names, n));
        return;
    }
    if (cr_vkeys(vx, e, path, entry_params, ops->params))
        return;
    cr_time at, fo;
    double maxv = isfinite(dur) ? dur : CR_SCEN_MAX_DURATION;
    int has_at = cr_vtime(vx, e, path, "at_s", maxv, (cr_time){0, maxv}, &at);
    int has_for = cr_vtime(vx, e, path, "for_s", CR_SCEN_MAX_DURATION,
                           (cr_time){0, 0}, &fo);
    if (has_at < 0 || has_for < 0)
        return;
    cr_path_key(p, sizeof p, path, "for_s");
    if ((ops->flags & CR_FAULT_NEEDS_DURATION) && fo.lo <= 0) {
        cr_verr(vx, has_for ? p : path,
                "kind \"%s\" needs \"for_s\" > 0: a number or a range "
                "[min, max] with min > 0",
                kind);
        return;
    }
    if ((ops->flags & CR_FAULT_INSTANT) && has_for) {
        cr_verr_key(vx, p, "kind \"%s\" is instantaneous: remove \"for_s\"",
                    kind);
        return;
    }
    if (at.lo + fo.hi > dur) {
        cr_verr(vx, has_for ? p : path,
                "a window of up to %g s from %g s ends after duration_s (%g)",
                fo.hi, at.lo, dur);
        return;
    }
    check_targets(vx, e, path, ops);
    check_params(vx, e, path, ops, fo);
}

void cr_scen__parse_explore(cr_vctx *vx, const json_t *root, double dur)
{
    const json_t *ex = json_object_get(root, "explore");
    const json_t *fa;
    cr_time count;
    char p[CR_PATH_MAX];
    if (!ex)
        return;
    if (!json_is_object(ex)) {
        cr_verr(vx, "explore",
                "must be an object {\"faults\", \"count\"} "
                "(got %s)",
                cr_jtype(ex));
        return;
    }
    size_t before = cr_vcount(vx);
    cr_vkeys(vx, ex, "explore", explore_params, NULL);
    if (!cr_vrequire(vx, ex, "explore", "faults"))
        return;
    fa = json_object_get(ex, "faults");
    if (!json_is_array(fa) || json_array_size(fa) == 0) {
        cr_verr(vx, "explore.faults",
                "must be a non-empty array of fault templates (got %s)",
                json_is_array(fa) ? "an empty array" : cr_jtype(fa));
        return;
    }
    if (cr_vtime(vx, ex, "explore", "count", EXPLORE_MAX_COUNT, (cr_time){1, 3},
                 &count) > 0 &&
        (count.lo < 1 || floor(count.lo) != count.lo ||
         floor(count.hi) != count.hi))
        cr_verr(vx, "explore.count",
                "must be an integer or a range [min, max] of integers, "
                "min >= 1 (got %g..%g)",
                count.lo, count.hi);
    for (size_t i = 0; i < json_array_size(fa); i++) {
        cr_path_idx(p, sizeof p, "explore.faults", i);
        parse_entry(vx, json_array_get(fa, i), p, dur);
    }
    if (cr_vcount(vx) > before)
        return;
    cr_explore *e = cr_calloc(1, sizeof *e);
    if (!e) {
        vx->nomem = 1;
        return;
    }
    e->faults = fa;
    e->count_lo = (long long)count.lo;
    e->count_hi = (long long)count.hi;
    e->duration_s = dur;
    vx->sc->explore = e;
}

/* ---- the draw ------------------------------------------------------------ */

static double ms(double x)
{
    return floor(x * 1000 + 0.5) / 1000;
}

/* One value of a template: a range drawn (integers stay integers), a list
 * element chosen, anything else as written.  A new reference. */
static json_t *draw_value(cr_rng *r, const json_t *v)
{
    if (is_range(v)) {
        const json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t lo = json_integer_value(a), hi = json_integer_value(b);
            return json_integer(
                lo + (json_int_t)cr_rng_below(r, (uint64_t)(hi - lo + 1)));
        }
        return json_real(
            ms(cr_rng_range(r, json_number_value(a), json_number_value(b))));
    }
    if (json_is_array(v))
        return json_incref(
            json_array_get(v, cr_rng_below(r, json_array_size(v))));
    return json_incref((json_t *)v);
}

/* The window template e's start is drawn from: its "at_s" (default
 * [0, dur]); *lo, *hi. */
static void at_window(const json_t *e, double dur, double *lo, double *hi)
{
    const json_t *v = json_object_get(e, "at_s");
    *lo = 0;
    *hi = dur;
    if (v) {
        *lo = json_number_value(variant(v, 0));
        *hi = json_number_value(variant(v, 1));
    }
}

/* Time bins of a template's start window (the coverage strategy's arms
 * tell an early fault from a late one): 1 when the start is fixed. */
#define EXPLORE_BINS 3
static size_t nbins(const json_t *e, double dur)
{
    double lo, hi;
    at_window(e, dur, &lo, &hi);
    return hi > lo ? EXPLORE_BINS : 1;
}

static size_t ntargets(const json_t *e)
{
    const json_t *t = json_object_get(e, "target");
    return json_is_array(t) && json_array_size(t) ? json_array_size(t) : 1;
}

/* One arm: a template, one of its targets, one bin of its start window. */
typedef struct arm {
    size_t tmpl, target, bin, nbins;
} arm;

size_t cr_explore_narms(const cr_scen *sc)
{
    const cr_explore *e = sc ? sc->explore : NULL;
    size_t n = 0;
    for (size_t i = 0; e && i < json_array_size(e->faults); i++) {
        const json_t *t = json_array_get(e->faults, i);
        n += ntargets(t) * nbins(t, e->duration_s);
    }
    return n;
}

/* Arm k of the space (k < cr_explore_narms), or -1. */
static int arm_at(const cr_explore *e, size_t k, arm *a)
{
    for (size_t i = 0; i < json_array_size(e->faults); i++) {
        const json_t *t = json_array_get(e->faults, i);
        size_t nb = nbins(t, e->duration_s), m = ntargets(t) * nb;
        if (k < m) {
            *a = (arm){i, k / nb, k % nb, nb};
            return 0;
        }
        k -= m;
    }
    return -1;
}

/* The index of the arm (tmpl, target, bin). */
static size_t arm_index(const cr_explore *e, size_t tmpl, size_t target,
                        size_t bin)
{
    size_t k = 0;
    for (size_t i = 0; i < tmpl; i++) {
        const json_t *t = json_array_get(e->faults, i);
        k += ntargets(t) * nbins(t, e->duration_s);
    }
    return k + target * nbins(json_array_get(e->faults, tmpl), e->duration_s) +
           bin;
}

int cr_explore_arm_name(const cr_scen *sc, size_t k, char *buf, size_t n)
{
    const cr_explore *e = sc ? sc->explore : NULL;
    arm a;
    if (!e || arm_at(e, k, &a) < 0)
        return -1;
    const json_t *t = json_array_get(e->faults, a.tmpl);
    const json_t *tg = json_object_get(t, "target");
    if (json_is_array(tg))
        tg = json_array_get(tg, a.target);
    char *tx = tg ? json_dumps(tg, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    double lo, hi;
    at_window(t, e->duration_s, &lo, &hi);
    double w = (hi - lo) / (double)a.nbins;
    snprintf(buf, n, "%s %s at %g-%g s",
             json_string_value(json_object_get(t, "kind")),
             tx ? tx : "(no target)", ms(lo + w * (double)a.bin),
             ms(lo + w * (double)(a.bin + 1)));
    free(tx);
    return 0;
}

/* One concrete fault from template e; NULL when out of memory.  With a
 * (the coverage strategy), its target and the bin of its start window
 * instead of drawing them. */
static json_t *draw_fault(cr_rng *r, const json_t *e, double dur, const arm *a)
{
    json_t *o = json_object(), *v;
    const char *key;
    double for_s = 0;
    cr_time at = {0, dur};
    if (!o)
        return NULL;
    json_object_foreach ((json_t *)e, key, v) {
        if (strcmp(key, "at_s") == 0) {
            at.lo = json_number_value(variant(v, 0));
            at.hi = json_number_value(variant(v, 1));
            continue;
        }
        json_t *d = a && strcmp(key, "target") == 0 && json_is_array(v)
                        ? json_incref(json_array_get(v, a->target))
                        : draw_value(r, v);
        if (!d || json_object_set_new(o, key, d) != 0)
            goto fail;
        if (strcmp(key, "for_s") == 0)
            for_s = json_number_value(d);
    }
    if (a && a->nbins > 1) {
        double w = (at.hi - at.lo) / (double)a->nbins;
        at.lo += w * (double)a->bin;
        at.hi = at.lo + w;
    }
    if (at.hi > dur - for_s)
        at.hi = dur - for_s;
    if (at.lo > at.hi)
        at.lo = at.hi; /* a late bin and a long window: as late as fits */
    if (json_object_set_new(o, "at_s",
                            json_real(ms(cr_rng_range(r, at.lo, at.hi)))) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* The arm a drawn fault d of template tmpl fell in. */
static size_t arm_of(const cr_explore *e, size_t tmpl, const json_t *d)
{
    const json_t *t = json_array_get(e->faults, tmpl);
    const json_t *tg = json_object_get(t, "target");
    size_t ti = 0, nb = nbins(t, e->duration_s), bin = 0;
    for (size_t i = 0; json_is_array(tg) && i < json_array_size(tg); i++)
        if (json_equal(json_array_get(tg, i), json_object_get(d, "target")))
            ti = i;
    if (nb > 1) {
        double lo, hi, at = json_number_value(json_object_get(d, "at_s"));
        at_window(t, e->duration_s, &lo, &hi);
        double x = (at - lo) / (hi - lo) * (double)nb;
        bin = x <= 0 ? 0 : x >= (double)nb ? nb - 1 : (size_t)x;
    }
    return arm_index(e, tmpl, ti, bin);
}

/* The coverage strategy's choice: an arm tried least so far (tried[k]),
 * uniformly among those. */
static size_t least_tried(cr_rng *r, const size_t *tried, size_t narms)
{
    size_t min = SIZE_MAX, nmin = 0, pick;
    for (size_t k = 0; k < narms; k++) {
        if (tried[k] < min) {
            min = tried[k];
            nmin = 0;
        }
        nmin += tried[k] == min;
    }
    pick = (size_t)cr_rng_below(r, nmin);
    for (size_t k = 0; k < narms; k++)
        if (tried[k] == min && pick-- == 0)
            return k;
    return 0;
}

static int by_at(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "at_s"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "at_s"));
    return (x > y) - (x < y);
}

const char *cr_explore_strategy_name(cr_explore_strategy s)
{
    return s == CR_EXPLORE_COVERAGE ? "coverage" : "uniform";
}

int cr_explore_strategy_parse(const char *name, cr_explore_strategy *s)
{
    if (!strcmp(name, "uniform"))
        *s = CR_EXPLORE_UNIFORM;
    else if (!strcmp(name, "coverage"))
        *s = CR_EXPLORE_COVERAGE;
    else
        return -1;
    return 0;
}

int cr_explore_draw(const cr_scen *sc, uint64_t seed, json_t **out, cr_err *err)
{
    return cr_explore_draw_with(sc, seed, CR_EXPLORE_UNIFORM, NULL, out, err);
}

int cr_explore_draw_with(const cr_scen *sc, uint64_t seed,
                         cr_explore_strategy strategy, size_t *tried,
                         json_t **out, cr_err *err)
{
    const cr_explore *e = sc ? sc->explore : NULL;
    json_t *v[EXPLORE_MAX_COUNT] = {NULL}, *arr = NULL;
    size_t n = 0;
    cr_rng r;
    int rc = CR_ENOMEM;
    *out = NULL;
    if (!e)
        return cr_err_set(err, CR_EINVAL, "scenario %s: no \"explore\" key",
                          sc ? sc->name : "?");
    if (strategy == CR_EXPLORE_COVERAGE && !tried)
        return cr_err_set(err, CR_EINVAL,
                          "scenario %s: the coverage strategy needs the "
                          "tally of arms tried",
                          sc->name);
    size_t narms = cr_explore_narms(sc);
    cr_rng_derive(&r, seed, "explore");
    size_t want =
        (size_t)e->count_lo +
        (size_t)cr_rng_below(&r, (uint64_t)(e->count_hi - e->count_lo + 1));
    size_t nt = json_array_size(e->faults);
    for (; n < want; n++) {
        size_t k = 0;
        arm a;
        if (strategy == CR_EXPLORE_COVERAGE) {
            k = least_tried(&r, tried, narms);
            if (arm_at(e, k, &a) < 0)
                goto out;
            v[n] = draw_fault(&r, json_array_get(e->faults, a.tmpl),
                              e->duration_s, &a);
        } else {
            a.tmpl = (size_t)cr_rng_below(&r, nt);
            v[n] = draw_fault(&r, json_array_get(e->faults, a.tmpl),
                              e->duration_s, NULL);
            if (v[n])
                k = arm_of(e, a.tmpl, v[n]);
        }
        if (!v[n])
            goto out;
        if (tried)
            tried[k]++;
    }
    qsort(v, n, sizeof *v, by_at);
    if (!(arr = json_array()))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *kind = json_string_value(json_object_get(v[i], "kind"));
        char name[64];
        snprintf(name, sizeof name, "x%zu-%s", i, kind ? kind : "fault");
        if (json_object_set_new(v[i], "name", json_string(name)) != 0 ||
            json_array_append(arr, v[i]) != 0)
            goto out;
    }
    *out = arr;
    arr = NULL;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    json_decref(arr);
    if (rc)
        cr_err_set(err, rc, "drawing a schedule: out of memory");
    return rc;
}
