/* cr_live: drive the streaming checkers of a scenario over a growing
 * history (cr_live.h). */
#include "cr_live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

const char *cr_live_state_name(cr_live_state s)
{
    static const char *const names[CR_LIVE_NSTATES] = {"at_end", "pending",
                                                       "holding", "violated"};
    return (unsigned)s < CR_LIVE_NSTATES ? names[s] : "at_end";
}

/* The last t fed per source (an interned inst or svc: compared by
 * address). */
typedef struct src_last {
    const char *who;
    double t;
} src_last;

typedef struct held {
    double t;
    size_t idx; /* index in the history (arrival order) */
} held;

struct cr_live_set {
    const cr_scen *sc;
    double lateness;
    void **st;     /* per expectation; NULL: judged at the end */
    size_t cursor; /* history events taken so far */
    held *hold;
    size_t nhold, caphold;
    double last_t; /* t of the last event fed */
    size_t fed, late;
    src_last *src; /* a few dozen sources: searched from the last hit */
    size_t nsrc, capsrc, hit;
    size_t disordered;
};

int cr_live_set_new(const cr_scen *sc, double lateness_s, cr_live_set **out,
                    cr_err *err)
{
    *out = NULL;
    cr_live_set *ls = cr_calloc(1, sizeof *ls);
    if (!ls)
        return cr_err_set(err, CR_ENOMEM, "live judging: out of memory");
    ls->sc = sc;
    ls->lateness = lateness_s;
    ls->last_t = -INFINITY;
    ls->st = cr_calloc(sc->nexpects + 1, sizeof *ls->st);
    if (!ls->st) {
        cr_live_set_free(ls);
        return cr_err_set(err, CR_ENOMEM, "live judging: out of memory");
    }
    for (size_t i = 0; i < sc->nexpects; i++) {
        const cr_expect *x = &sc->expects[i];
        if (!x->ops->live_open)
            continue;
        if (x->ops->live_open(x, &ls->st[i]) != 0) {
            cr_live_set_free(ls);
            return cr_err_set(err, CR_ENOMEM,
                              "live judging of %s: out of memory", x->name);
        }
    }
    *out = ls;
    return 0;
}

void cr_live_set_free(cr_live_set *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; ls->st && i < ls->sc->nexpects; i++)
        if (ls->st[i])
            ls->sc->expects[i].ops->live_close(ls->st[i]);
    cr_free(ls->st);
    cr_free(ls->hold);
    cr_free(ls->src);
    cr_free(ls);
}

static int cmp_held(const void *a, const void *b)
{
    const held *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The source's last t, added at -inf when new; NULL when out of memory. */
static src_last *source(cr_live_set *ls, const char *who)
{
    for (size_t k = 0; k < ls->nsrc; k++) {
        size_t i = (ls->hit + k) % ls->nsrc;
        if (ls->src[i].who == who) {
            ls->hit = i;
            return &ls->src[i];
        }
    }
    if (ls->nsrc == ls->capsrc) {
        size_t nc = ls->capsrc ? ls->capsrc * 2 : 16;
        src_last *ns = cr_realloc(ls->src, nc * sizeof *ns);
        if (!ns)
            return NULL;
        ls->src = ns;
        ls->capsrc = nc;
    }
    ls->hit = ls->nsrc;
    ls->src[ls->nsrc] = (src_last){.who = who, .t = -INFINITY};
    return &ls->src[ls->nsrc++];
}

/* One event to every streaming expectation. */
static int feed_one(cr_live_set *ls, const cr_event *e, cr_err *err)
{
    src_last *s = source(ls, e->inst ? e->inst : e->svc);
    if (!s)
        return cr_err_set(err, CR_ENOMEM, "live judging: out of memory");
    if (e->t < s->t)
        ls->disordered++;
    else
        s->t = e->t;
    if (e->t < ls->last_t)
        ls->late++;
    else
        ls->last_t = e->t;
    ls->fed++;
    for (size_t i = 0; i < ls->sc->nexpects; i++) {
        if (!ls->st[i])
            continue;
        const cr_expect *x = &ls->sc->expects[i];
        if (x->ops->live_feed(ls->st[i], e) != 0)
            return cr_err_set(err, CR_ENOMEM,
                              "live judging of %s: out of memory", x->name);
    }
    return 0;
}

int cr_live_set_feed(cr_live_set *ls, const cr_history *h, double now,
                     int flush, cr_err *err)
{
    size_t add = h->n > ls->cursor ? h->n - ls->cursor : 0;
    if (ls->nhold + add > ls->caphold) {
        size_t nc = ls->caphold ? ls->caphold : 1024;
        while (nc < ls->nhold + add)
            nc *= 2;
        held *nh = cr_realloc(ls->hold, nc * sizeof *nh);
        if (!nh)
            return cr_err_set(err, CR_ENOMEM, "live judging: out of memory");
        ls->hold = nh;
        ls->caphold = nc;
    }
    int sorted = 1;
    for (size_t i = ls->cursor; i < h->n; i++) {
        held *d = &ls->hold[ls->nhold++];
        d->t = h->v[i].t;
        d->idx = i;
        if (ls->nhold > 1 && cmp_held(d - 1, d) > 0)
            sorted = 0;
    }
    ls->cursor = h->n;
    if (!sorted)
        qsort(ls->hold, ls->nhold, sizeof *ls->hold, cmp_held);
    double upto = flush ? INFINITY : now - ls->lateness;
    size_t k = 0;
    int rc = 0;
    for (; k < ls->nhold && ls->hold[k].t <= upto; k++)
        if ((rc = feed_one(ls, &h->v[ls->hold[k].idx], err)) != 0) {
            k++;
            break;
        }
    if (k) /* hold is NULL before the first event */
        memmove(ls->hold, ls->hold + k, (ls->nhold - k) * sizeof *ls->hold);
    ls->nhold -= k;
    return rc;
}

long cr_live_set_status(cr_live_set *ls, const cr_facts *f, cr_live *out)
{
    long first = -1;
    for (size_t i = 0; i < ls->sc->nexpects; i++) {
        cr_live *o = &out[i];
        memset(o, 0, sizeof *o);
        o->since = NAN;
        if (!ls->st[i]) {
            o->state = CR_LIVE_AT_END;
            snprintf(o->summary, sizeof o->summary, "judged at the end");
            continue;
        }
        ls->sc->expects[i].ops->live_status(ls->st[i], f, o);
        if (o->state == CR_LIVE_VIOLATED && o->final && !o->order_free &&
            ls->disordered) {
            o->final = 0;
            size_t k = strlen(o->summary);
            snprintf(o->summary + k, sizeof o->summary - k,
                     " (not final: %zu events came older than one already "
                     "judged from the same source)",
                     ls->disordered);
        }
        if (o->state == CR_LIVE_VIOLATED && o->final &&
            (first < 0 || o->since < out[first].since))
            first = (long)i;
    }
    return first;
}

size_t cr_live_set_fed(const cr_live_set *ls)
{
    return ls->fed;
}
size_t cr_live_set_late(const cr_live_set *ls)
{
    return ls->late;
}
size_t cr_live_set_held(const cr_live_set *ls)
{
    return ls->nhold;
}
size_t cr_live_set_disordered(const cr_live_set *ls)
{
    return ls->disordered;
}

json_t *cr_live_json(const cr_scen *sc, const cr_live *st)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sc->nexpects; i++) {
        const cr_live *o = &st[i];
        const cr_expect *x = &sc->expects[i];
        json_t *e = json_pack(
            "{s:s,s:s,s:s,s:b,s:o,s:s}", "name", x->name, "kind", x->ops->kind,
            "state", cr_live_state_name(o->state), "final",
            o->state == CR_LIVE_VIOLATED && o->final, "since",
            isfinite(o->since) ? json_real(o->since) : json_null(), "summary",
            o->summary);
        if (!e || json_array_append_new(a, e) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
