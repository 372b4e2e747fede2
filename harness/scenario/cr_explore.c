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

/* One concrete fault from template e; NULL when out of memory. */
static json_t *draw_fault(cr_rng *r, const json_t *e, double dur)
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
        json_t *d = draw_value(r, v);
        if (!d || json_object_set_new(o, key, d) != 0)
            goto fail;
        if (strcmp(key, "for_s") == 0)
            for_s = json_number_value(d);
    }
    if (at.hi > dur - for_s)
        at.hi = dur - for_s;
    if (json_object_set_new(o, "at_s",
                            json_real(ms(cr_rng_range(r, at.lo, at.hi)))) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

static int by_at(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "at_s"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "at_s"));
    return (x > y) - (x < y);
}

int cr_explore_draw(const cr_scen *sc, uint64_t seed, json_t **out, cr_err *err)
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
    cr_rng_derive(&r, seed, "explore");
    size_t want =
        (size_t)e->count_lo +
        (size_t)cr_rng_below(&r, (uint64_t)(e->count_hi - e->count_lo + 1));
    size_t nt = json_array_size(e->faults);
    for (; n < want; n++) {
        const json_t *t = json_array_get(e->faults, cr_rng_below(&r, nt));
        if (!(v[n] = draw_fault(&r, t, e->duration_s)))
            goto out;
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
