/* cr_check_no_loss: every accepted record ends delivered or dead-lettered
 * (Jepsen-style set check over the `accepted`, `delivered` and
 * `dead_lettered` events of the event contract).
 *
 * Ids may be strings or integers; 42 and "42" are the same id.  Classes:
 * - lost: accepted, never delivered nor dead-lettered;
 * - duplicated: delivered more than once (or both delivered and
 *   dead-lettered);
 * - unexpected: delivered or dead-lettered but never accepted;
 * - dead_lettered: reached the dead-letter queue (not a failure);
 * - recovered: accepted before the end of a fault window (one with a
 *   length) and first delivered or dead-lettered at or after that end,
 *   less 50 ms of slack for the harness's own stamp of the end (the system
 *   carried it through the fault; informational).
 * Fails when lost > max_lost, when duplicated > 0 unless allow_duplicates,
 * or when unexpected > 0.  Ids accepted before ignore_before_s (s after t0)
 * are left out (warm-up).  Fewer than min_samples accepted ids: unknown.
 *
 * Ids live in a small open-addressing hash table (FNV-1a, linear probing,
 * load <= 1/2) with their text in one growing arena: 1M events take well
 * under a second (see tests/bench/bench_checks.c). */
#include "cr_check.h"
#include "cr_check_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

typedef struct nl_priv {
    int allow_dup;
    long long max_lost;
    double ignore_before_s; /* -inf: none */
} nl_priv;

static const cr_param nl_params[] = {
    {"allow_duplicates", "bool", "false",
     "true: an id delivered twice is not a failure"},
    {"max_lost", "integer", "0", "how many accepted ids may be lost"},
    {"ignore_before_s", "number", "none",
     "ignore ids accepted before this time (s after t0)"},
    {NULL, NULL, NULL, NULL},
};

static int nl_parse(cr_vctx *vx, const json_t *obj, const char *path,
                    cr_expect *x)
{
    if (cr_chk_priv(x, sizeof(nl_priv)) < 0)
        return CR_ENOMEM;
    nl_priv *p = x->priv;
    cr_vbool(vx, obj, path, "allow_duplicates", 0, &p->allow_dup);
    cr_vint(vx, obj, path, "max_lost", 0, 1000000000000LL, 0, &p->max_lost);
    cr_vnum(vx, obj, path, "ignore_before_s", -1e9, 1e9, -INFINITY,
            &p->ignore_before_s);
    return 0;
}

/* ---- the id table ------------------------------------------------------ */

typedef struct nl_id {
    uint32_t off, len; /* text in the arena */
    uint32_t hash;
    uint32_t accepted, delivered, dead;
    int ignored;
    double t_acc, t_fin; /* first accepted, first delivered/dead-lettered */
} nl_id;

typedef struct nl_tab {
    nl_id *slots; /* cap entries; len == 0 && off == 0 && hash == 0: empty */
    uint8_t *used;
    size_t cap, n;
    char *arena;
    size_t alen, acap;
} nl_tab;

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static void tab_free(nl_tab *t)
{
    cr_free(t->slots);
    cr_free(t->used);
    cr_free(t->arena);
    memset(t, 0, sizeof *t);
}

static int tab_grow(nl_tab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    nl_id *ns = cr_calloc(ncap, sizeof *ns);
    uint8_t *nu = cr_calloc(ncap, 1);
    if (!ns || !nu) {
        cr_free(ns);
        cr_free(nu);
        return CR_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->used[i])
            continue;
        size_t j = t->slots[i].hash & (ncap - 1);
        while (nu[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slots[i];
        nu[j] = 1;
    }
    cr_free(t->slots);
    cr_free(t->used);
    t->slots = ns;
    t->used = nu;
    t->cap = ncap;
    return 0;
}

/* Find or insert; NULL on allocation failure. */
static nl_id *tab_get(nl_tab *t, const char *s, size_t n)
{
    if ((t->n + 1) * 2 > t->cap && tab_grow(t) < 0)
        return NULL;
    uint32_t h = fnv1a(s, n);
    size_t j = h & (t->cap - 1);
    while (t->used[j]) {
        nl_id *e = &t->slots[j];
        if (e->hash == h && e->len == n && memcmp(t->arena + e->off, s, n) == 0)
            return e;
        j = (j + 1) & (t->cap - 1);
    }
    if (t->alen + n + 1 > t->acap) {
        size_t nc = t->acap ? t->acap * 2 : 65536;
        while (nc < t->alen + n + 1)
            nc *= 2;
        char *na = cr_realloc(t->arena, nc);
        if (!na)
            return NULL;
        t->arena = na;
        t->acap = nc;
    }
    memcpy(t->arena + t->alen, s, n);
    t->arena[t->alen + n] = '\0';
    nl_id *e = &t->slots[j];
    memset(e, 0, sizeof *e);
    e->off = (uint32_t)t->alen;
    e->len = (uint32_t)n;
    e->hash = h;
    e->t_acc = e->t_fin = NAN;
    t->used[j] = 1;
    t->alen += n + 1;
    t->n++;
    return e;
}

/* ---- judging ----------------------------------------------------------- */

enum { C_LOST, C_DUP, C_UNEXP, C_DEAD, C_RECOV, C_N };
static const char *const class_names[C_N] = {"lost", "duplicated", "unexpected",
                                             "dead_lettered", "recovered"};

/* The harness stamps a window's end just after reverting the fault, so a
 * service can act on the revert a little before that stamp. */
#define NL_END_SLACK_S 0.05

/* 1 when a fault window ends between acceptance and delivery. */
static int carried(const cr_facts *f, double t_acc, double t_fin)
{
    for (size_t i = 0; i < f->nfaults; i++) {
        const cr_fact_fault *w = &f->faults[i];
        if (w->ok && w->end >= t_acc && w->end - NL_END_SLACK_S <= t_fin &&
            w->end > w->start)
            return 1;
    }
    return 0;
}

static int nl_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    const nl_priv *p = x->priv;
    nl_tab t = {0};
    int rc = 0;
    size_t bad_ids = 0, accepted = 0;
    size_t cnt[C_N] = {0};
    char id[256];
    const cr_history *h = f->hist;

    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        int kind;
        if (!strcmp(e->ev, "accepted"))
            kind = 0;
        else if (!strcmp(e->ev, "delivered"))
            kind = 1;
        else if (!strcmp(e->ev, "dead_lettered"))
            kind = 2;
        else
            continue;
        int n = cr_chk_event_id(e, id, sizeof id);
        if (n < 0) {
            if (bad_ids++ < 5)
                cr_result_evidence_event(res, e, "event without a usable id");
            continue;
        }
        nl_id *r = tab_get(&t, id, (size_t)n);
        if (!r) {
            rc = cr_err_set(err, CR_ENOMEM, "no_loss %s: out of memory",
                            x->name);
            goto out;
        }
        if (kind == 0) {
            if (!r->accepted) {
                r->t_acc = e->t;
                r->ignored = e->t < p->ignore_before_s;
            }
            r->accepted++;
        } else {
            if (kind == 1)
                r->delivered++;
            else
                r->dead++;
            if (isnan(r->t_fin))
                r->t_fin = e->t;
        }
    }
    /* Classify.  Evidence: the first ids (in table order, which is
     * arbitrary, so sort the few we show by time) of each class. */
    enum { SHOW = 5 };
    const nl_id *show[C_N][SHOW];
    size_t nshow[C_N] = {0};
    for (size_t j = 0; j < t.cap; j++) {
        if (!t.used[j])
            continue;
        const nl_id *r = &t.slots[j];
        int cls[C_N] = {0};
        if (r->accepted && r->ignored)
            continue;
        if (r->accepted) {
            accepted++;
            if (!r->delivered && !r->dead)
                cls[C_LOST] = 1;
            else if (carried(f, r->t_acc, r->t_fin))
                cls[C_RECOV] = 1;
        } else {
            cls[C_UNEXP] = 1;
        }
        if (r->delivered + r->dead > 1)
            cls[C_DUP] = 1;
        if (r->dead)
            cls[C_DEAD] = 1;
        for (int c = 0; c < C_N; c++) {
            if (!cls[c])
                continue;
            cnt[c]++;
            /* keep the SHOW earliest by time */
            double tr = c == C_LOST ? r->t_acc : r->t_fin;
            size_t k = nshow[c];
            if (k < SHOW)
                nshow[c]++;
            else if (tr >= (c == C_LOST ? show[c][SHOW - 1]->t_acc
                                        : show[c][SHOW - 1]->t_fin))
                continue;
            else
                k = SHOW - 1;
            while (k > 0 && tr < (c == C_LOST ? show[c][k - 1]->t_acc
                                              : show[c][k - 1]->t_fin)) {
                show[c][k] = show[c][k - 1];
                k--;
            }
            show[c][k] = r;
        }
    }
    for (int c = 0; c < C_N; c++)
        cr_chk_detail_int(res, class_names[c], (long long)cnt[c]);
    cr_chk_detail_int(res, "accepted", (long long)accepted);
    cr_chk_detail_int(res, "ids", (long long)t.n);
    cr_chk_detail_int(res, "events_without_id", (long long)bad_ids);
    int fail_lost = cnt[C_LOST] > (size_t)p->max_lost;
    int fail_dup = cnt[C_DUP] && !p->allow_dup;
    int fail_unexp = cnt[C_UNEXP] > 0;
    static const int order[] = {C_LOST, C_DUP, C_UNEXP, C_DEAD, C_RECOV};
    for (size_t o = 0; o < sizeof order / sizeof *order; o++) {
        int c = order[o];
        if (c == C_DEAD || c == C_RECOV) /* informational: only when failing */
            if (!(fail_lost || fail_dup || fail_unexp))
                continue;
        for (size_t k = 0; k < nshow[c]; k++) {
            const nl_id *r = show[c][k];
            const char *txt = t.arena + r->off;
            switch (c) {
            case C_LOST:
                cr_result_evidence(res, r->t_acc,
                                   "id %s accepted at t=%.3f, never delivered",
                                   txt, r->t_acc);
                break;
            case C_DUP:
                cr_result_evidence(
                    res, r->t_fin,
                    "id %s delivered %u times (dead-lettered %u)", txt,
                    r->delivered, r->dead);
                break;
            case C_UNEXP:
                cr_result_evidence(res, r->t_fin,
                                   "id %s delivered but never accepted", txt);
                break;
            case C_DEAD:
                cr_result_evidence(res, r->t_fin, "id %s dead-lettered", txt);
                break;
            default:
                cr_result_evidence(res, r->t_fin,
                                   "id %s accepted at t=%.3f, delivered after "
                                   "the fault at t=%.3f",
                                   txt, r->t_acc, r->t_fin);
            }
        }
    }
    cr_chk_measure(res, (double)cnt[C_LOST], "ids");
    cr_chk_bound(res, "<=", (double)p->max_lost);
    if (fail_lost)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "lost %zu of %zu accepted ids (bound <= %lld)%s",
                      cnt[C_LOST], accepted, p->max_lost,
                      fail_dup ? "; duplicates too" : "");
    else if (fail_dup)
        cr_result_set(
            res, CR_VERDICT_FAILED,
            "%zu ids delivered more than once (duplicates not allowed)",
            cnt[C_DUP]);
    else if (fail_unexp)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%zu ids delivered that were never accepted",
                      cnt[C_UNEXP]);
    else if (accepted == 0 || accepted < (size_t)x->min_samples)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu accepted ids (min_samples %d)", accepted,
                      x->min_samples);
    else
        cr_result_set(
            res, CR_VERDICT_PASSED,
            "lost %zu of %zu accepted ids (bound <= %lld); %zu dead-lettered, "
            "%zu carried through a fault",
            cnt[C_LOST], accepted, p->max_lost, cnt[C_DEAD], cnt[C_RECOV]);
out:
    tab_free(&t);
    return rc;
}

const cr_check_ops cr_check_no_loss_ops = {
    .kind = "no_loss",
    .summary = "every accepted id ends delivered or dead-lettered; no "
               "duplicates, no phantoms",
    .params = nl_params,
    .parse = nl_parse,
    .eval = nl_eval,
    .destroy = cr_chk_destroy_priv,
};
