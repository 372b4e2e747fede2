/* cr_check_no_loss: every accepted record ends delivered or dead-lettered
 * (Jepsen-style set check over the `offered`, `accepted`, `delivered` and
 * `dead_lettered` events of the event contract).
 *
 * `offered` is the attempt (Jepsen's invoke: the producer is about to hand
 * the record over), `accepted` the acknowledgement (ok).  An offered id
 * never acknowledged is indeterminate (Jepsen's info): the system may or
 * may not have taken it, e.g. it crashed between making the record
 * durable and acknowledging it.
 *
 * Ids may be strings or integers; 42 and "42" are the same id.  Classes:
 * - lost: accepted, never delivered nor dead-lettered;
 * - duplicated: delivered more than once (or both delivered and
 *   dead-lettered);
 * - unexpected: delivered or dead-lettered but never offered nor accepted;
 * - indeterminate_delivered: offered, never accepted, delivered or
 *   dead-lettered (the write took; not a failure; Jepsen's total-queue
 *   checker calls these "recovered");
 * - offered_never_delivered: offered, never accepted, never delivered nor
 *   dead-lettered (the write did not take; a failure, counted with the lost
 *   ids, only with require_offered, for producers that retry until
 *   acknowledged);
 * - dead_lettered: reached the dead-letter queue (not a failure);
 * - recovered: accepted before the end of a fault window (one with a
 *   length) and first delivered or dead-lettered at or after that end,
 *   less 50 ms of slack for the harness's own stamp of the end (the system
 *   carried it through the fault; informational).
 * Fails when lost (+ offered_never_delivered with require_offered) >
 * max_lost, when duplicated > 0 unless allow_duplicates, or when unexpected
 * > 0.  A history without any `offered` event cannot tell an unacknowledged
 * durable write from a phantom: both are unexpected, and the summary says
 * so.  Ids accepted (or, never accepted, first offered) before
 * ignore_before_s (s after t0) are left out (warm-up).  Fewer than
 * min_samples accepted ids: unknown.
 *
 * Ids live in a dense array of small records (48 bytes an id) indexed by
 * an open-addressing hash table of 32-bit slots (FNV-1a, linear probing,
 * load <= 1/2), their text in one growing arena: 10M events take about a
 * second and under 200 MB (see tests/bench/README.md). */
#include "cr_check.h"
#include "cr_check_internal.h"
#include "cr_live.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

typedef struct nl_priv {
    int allow_dup, require_offered;
    long long max_lost;
    double ignore_before_s; /* -inf: none */
} nl_priv;

static const cr_param nl_params[] = {
    {"allow_duplicates", "bool", "false",
     "true: an id delivered twice is not a failure"},
    {"max_lost", "integer", "0", "how many accepted ids may be lost"},
    {"ignore_before_s", "number", "none",
     "ignore ids accepted (or, never accepted, first offered) before this "
     "time (s after t0)"},
    {"require_offered", "bool", "false",
     "true: an id offered but never acknowledged nor delivered counts as "
     "lost (for producers that retry until acknowledged)"},
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
    cr_vbool(vx, obj, path, "require_offered", 0, &p->require_offered);
    return 0;
}

/* ---- the id table ------------------------------------------------------ */

/* A dead-lettering announced with "repeat": true (the system's
 * dead-letter queue already had the id) is remembered in this bit of
 * nl_id.dead, not counted: it is one outcome only when no plain one
 * exists, in whichever order they came (nl_dead). */
#define NL_REPEAT 0x80000000u

typedef struct nl_id {
    uint32_t off; /* its text in the arena, NUL-terminated */
    uint32_t hash;
    uint32_t offered, accepted, delivered, dead; /* dead: | NL_REPEAT */
    double t_off, t_acc, t_fin; /* first offered, accepted, delivered or
                                   dead-lettered; NAN: never */
} nl_id;

/* The dead-letterings of r that count: the plain ones, else one when
 * only repeats were announced. */
static unsigned nl_dead(const nl_id *r)
{
    unsigned plain = r->dead & ~NL_REPEAT;
    return plain + (!plain && (r->dead & NL_REPEAT));
}

/* The ids in arrival order (ents), a hash index over them (slots: 0 empty,
 * else index + 1; load <= 1/2) and their text (arena).  48 bytes an id
 * plus 8 to 16 of index plus its text. */
typedef struct nl_tab {
    nl_id *ents;
    size_t n, ecap;
    uint32_t *slots;
    size_t cap;
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
    cr_free(t->ents);
    cr_free(t->slots);
    cr_free(t->arena);
    memset(t, 0, sizeof *t);
}

static int tab_grow(nl_tab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    if (ncap > (size_t)UINT32_MAX)
        return CR_ENOMEM;
    uint32_t *ns = cr_calloc(ncap, sizeof *ns);
    if (!ns)
        return CR_ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->ents[i].hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = (uint32_t)i + 1;
    }
    cr_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

/* Find or insert; NULL on allocation failure.  The pointer is valid until
 * the next call. */
static nl_id *tab_get(nl_tab *t, const char *s, size_t n)
{
    if ((t->n + 1) * 2 > t->cap && tab_grow(t) < 0)
        return NULL;
    uint32_t h = fnv1a(s, n);
    size_t j = h & (t->cap - 1);
    while (t->slots[j]) {
        nl_id *e = &t->ents[t->slots[j] - 1];
        if (e->hash == h && memcmp(t->arena + e->off, s, n) == 0 &&
            t->arena[e->off + n] == '\0')
            return e;
        j = (j + 1) & (t->cap - 1);
    }
    if (t->n == t->ecap) {
        size_t nc = t->ecap ? t->ecap * 2 : 1024;
        nl_id *ne = cr_realloc(t->ents, nc * sizeof *ne);
        if (!ne)
            return NULL;
        t->ents = ne;
        t->ecap = nc;
    }
    if (t->alen + n + 1 > t->acap || t->alen + n + 1 > UINT32_MAX) {
        size_t nc = t->acap ? t->acap * 2 : 65536;
        while (nc < t->alen + n + 1)
            nc *= 2;
        if (t->alen + n + 1 > UINT32_MAX)
            return NULL; /* 4 GB of id text */
        char *na = cr_realloc(t->arena, nc);
        if (!na)
            return NULL;
        t->arena = na;
        t->acap = nc;
    }
    memcpy(t->arena + t->alen, s, n);
    t->arena[t->alen + n] = '\0';
    nl_id *e = &t->ents[t->n];
    memset(e, 0, sizeof *e);
    e->off = (uint32_t)t->alen;
    e->hash = h;
    e->t_off = e->t_acc = e->t_fin = NAN;
    t->slots[j] = (uint32_t)t->n + 1;
    t->alen += n + 1;
    t->n++;
    return e;
}

/* ---- judging ----------------------------------------------------------- */

enum { C_LOST, C_DUP, C_UNEXP, C_INDET, C_OFFERED, C_DEAD, C_RECOV, C_N };
static const char *const class_names[C_N] = {"lost",
                                             "duplicated",
                                             "unexpected",
                                             "indeterminate_delivered",
                                             "offered_never_delivered",
                                             "dead_lettered",
                                             "recovered"};

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

/* ---- collect: every id's events into the table ----------------------- */

enum { NL_OFF, NL_ACC, NL_DEL, NL_DEAD, NL_OTHER };

static int nl_event_kind(const cr_event *e)
{
    if (!strcmp(e->ev, "offered"))
        return NL_OFF;
    if (!strcmp(e->ev, "accepted"))
        return NL_ACC;
    if (!strcmp(e->ev, "delivered"))
        return NL_DEL;
    if (!strcmp(e->ev, "dead_lettered"))
        return NL_DEAD;
    return NL_OTHER;
}

/* A delivery or dead-lettering (kind NL_DEL or NL_DEAD) into r's counts.
 * A dead-lettering reported with "repeat": true is the system saying its
 * dead-letter queue already had the id (an idempotent put after an
 * indeterminate one, or a stalled worker's put that committed first but
 * was announced later): one outcome with the plain one, whichever came
 * first -- and the outcome when the plain report was lost (nl_dead). */
static void nl_outcome(nl_id *r, int kind, const cr_event *e)
{
    if (kind == NL_DEL)
        r->delivered++;
    else if (cr_event_bool(e, "repeat") == 1)
        r->dead |= NL_REPEAT;
    else
        r->dead++;
}

/* One event of kind (not NL_OTHER) into id r's counts and first times. */
static void nl_add(nl_id *r, int kind, const cr_event *e)
{
    switch (kind) {
    case NL_OFF:
        if (!r->offered++)
            r->t_off = e->t;
        return;
    case NL_ACC:
        if (!r->accepted++)
            r->t_acc = e->t;
        return;
    default:
        nl_outcome(r, kind, e);
        if (isnan(r->t_fin))
            r->t_fin = e->t;
    }
}

/* Count offered/accepted/delivered/dead-lettered per id, with the first
 * times.  Events without a usable id are counted in *bad_ids (the first
 * five as evidence).  0 or CR_ENOMEM. */
static int nl_collect(const cr_history *h, nl_tab *t, size_t *bad_ids,
                      cr_result *res)
{
    char id[256];
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        int kind = nl_event_kind(e);
        if (kind == NL_OTHER)
            continue;
        int n = cr_chk_event_id(e, id, sizeof id);
        if (n < 0) {
            if ((*bad_ids)++ < 5)
                cr_result_evidence_event(res, e, "event without a usable id");
            continue;
        }
        nl_id *r = tab_get(t, id, (size_t)n);
        if (!r)
            return CR_ENOMEM;
        nl_add(r, kind, e);
    }
    return 0;
}

/* ---- judge: the classes of every id ----------------------------------- */

/* The counts, and the earliest few ids of each class for the evidence
 * (the table's order is arbitrary, so they are kept sorted by time). */
enum { NL_SHOW = 5 };
typedef struct nl_judged {
    size_t accepted, offered; /* ids judged that were accepted / offered */
    int has_offered;          /* the history has `offered` events at all */
    size_t cnt[C_N];
    const nl_id *show[C_N][NL_SHOW];
    size_t nshow[C_N];
} nl_judged;

/* The time an id is shown at in class c: acceptance for lost ids, the
 * offer for ids offered and never delivered, else its first delivery or
 * dead-lettering. */
static double nl_show_t(int c, const nl_id *r)
{
    return c == C_LOST ? r->t_acc : c == C_OFFERED ? r->t_off : r->t_fin;
}

/* Keep r among the NL_SHOW earliest of class c. */
static void nl_show_add(nl_judged *j, int c, const nl_id *r)
{
    const nl_id **v = j->show[c];
    double tr = nl_show_t(c, r);
    size_t k = j->nshow[c];
    if (k < NL_SHOW)
        j->nshow[c]++;
    else if (tr >= nl_show_t(c, v[NL_SHOW - 1]))
        return;
    else
        k = NL_SHOW - 1;
    while (k > 0 && tr < nl_show_t(c, v[k - 1])) {
        v[k] = v[k - 1];
        k--;
    }
    v[k] = r;
}

/* Which classes id r belongs to (cls[c] = 1).  0 when it is left out:
 * accepted (or, never accepted, first offered) during the warm-up. */
static int nl_classify(const nl_priv *p, const cr_facts *f, const nl_id *r,
                       int cls[C_N])
{
    memset(cls, 0, C_N * sizeof *cls);
    double t_in = r->accepted ? r->t_acc : r->t_off; /* NAN: neither */
    if (t_in < p->ignore_before_s)
        return 0;
    int reached = r->delivered || nl_dead(r);
    if (r->accepted) {
        if (!reached)
            cls[C_LOST] = 1;
        else if (carried(f, r->t_acc, r->t_fin))
            cls[C_RECOV] = 1;
    } else if (r->offered) { /* indeterminate: offered, never acknowledged */
        cls[reached ? C_INDET : C_OFFERED] = 1;
    } else {
        cls[C_UNEXP] = 1;
    }
    if (r->delivered + nl_dead(r) > 1)
        cls[C_DUP] = 1;
    if (nl_dead(r))
        cls[C_DEAD] = 1;
    return 1;
}

static void nl_judge(const nl_priv *p, const cr_facts *f, const nl_tab *t,
                     nl_judged *j)
{
    for (size_t k = 0; k < t->n; k++) {
        const nl_id *r = &t->ents[k];
        int cls[C_N];
        j->has_offered |= r->offered > 0;
        if (!nl_classify(p, f, r, cls))
            continue;
        j->accepted += r->accepted > 0;
        j->offered += r->offered > 0;
        for (int c = 0; c < C_N; c++) {
            if (!cls[c])
                continue;
            j->cnt[c]++;
            nl_show_add(j, c, r);
        }
    }
}

/* ---- evidence and verdict --------------------------------------------- */

/* The shown ids of class c, one evidence line each, and how many more
 * there are.  has_offered: the history has `offered` events. */
static void nl_evidence(cr_result *res, const nl_tab *t, const nl_judged *j,
                        int c, int has_offered)
{
    const nl_id *r = NULL;
    for (size_t k = 0; k < j->nshow[c]; k++) {
        r = j->show[c][k];
        const char *txt = t->arena + r->off;
        const char *fin = r->delivered ? "delivered" : "dead-lettered";
        switch (c) {
        case C_LOST:
            cr_result_evidence(res, r->t_acc,
                               "id %s accepted at t=%.3f, never delivered", txt,
                               r->t_acc);
            break;
        case C_DUP:
            cr_result_evidence(res, r->t_fin,
                               "id %s delivered %u times (dead-lettered %u)",
                               txt, r->delivered, nl_dead(r));
            break;
        case C_UNEXP:
            cr_result_evidence(res, r->t_fin, "id %s %s but never %s", txt, fin,
                               has_offered ? "offered nor accepted"
                                           : "accepted");
            break;
        case C_INDET:
            cr_result_evidence(res, r->t_fin,
                               "id %s offered at t=%.3f, never acknowledged, "
                               "%s at t=%.3f (indeterminate write that took)",
                               txt, r->t_off, fin, r->t_fin);
            break;
        case C_OFFERED:
            cr_result_evidence(res, r->t_off,
                               "id %s offered at t=%.3f, never acknowledged "
                               "nor delivered",
                               txt, r->t_off);
            break;
        case C_DEAD:
            cr_result_evidence(res, r->t_fin, "id %s dead-lettered", txt);
            break;
        default:
            cr_result_evidence(res, r->t_fin,
                               "id %s accepted at t=%.3f, delivered after the "
                               "fault at t=%.3f",
                               txt, r->t_acc, r->t_fin);
        }
    }
    if (r && j->cnt[c] > j->nshow[c])
        cr_result_evidence(res, nl_show_t(c, r), "... and %zu more %s ids",
                           j->cnt[c] - j->nshow[c], class_names[c]);
}

/* Every count, in details and as the first evidence line. */
static void nl_counts(const cr_facts *f, const nl_tab *t, const nl_judged *j,
                      size_t bad_ids, cr_result *res)
{
    const size_t *cnt = j->cnt;
    for (int c = 0; c < C_N; c++)
        cr_chk_detail_int(res, class_names[c], (long long)cnt[c]);
    cr_chk_detail_int(res, "accepted", (long long)j->accepted);
    cr_chk_detail_int(res, "offered", (long long)j->offered);
    cr_chk_detail_int(res, "ids", (long long)t->n);
    cr_chk_detail_int(res, "events_without_id", (long long)bad_ids);
    if (t->n == 0)
        return;
    cr_result_evidence(res, f->t_end,
                       "%zu ids (%zu accepted, %zu offered): %zu lost, %zu "
                       "duplicated, %zu unexpected, %zu indeterminate "
                       "delivered, %zu offered never delivered, %zu "
                       "dead-lettered, %zu recovered (carried through a fault)",
                       t->n, j->accepted, j->offered, cnt[C_LOST], cnt[C_DUP],
                       cnt[C_UNEXP], cnt[C_INDET], cnt[C_OFFERED], cnt[C_DEAD],
                       cnt[C_RECOV]);
}

/* The failed verdict's summary: the first rule broken, in the order lost,
 * duplicated, unexpected. */
static void nl_fail(const nl_priv *p, const nl_judged *j, size_t missing,
                    int fail_dup, int has_offered, cr_result *res)
{
    const size_t *cnt = j->cnt;
    if (missing > (size_t)p->max_lost && cnt[C_OFFERED] && p->require_offered)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "lost %zu of %zu accepted ids and %zu offered ids were "
                      "never acknowledged nor delivered (require_offered; "
                      "bound <= %lld)%s",
                      cnt[C_LOST], j->accepted, cnt[C_OFFERED], p->max_lost,
                      fail_dup ? "; duplicates too" : "");
    else if (missing > (size_t)p->max_lost)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "lost %zu of %zu accepted ids (bound <= %lld)%s",
                      cnt[C_LOST], j->accepted, p->max_lost,
                      fail_dup ? "; duplicates too" : "");
    else if (fail_dup)
        cr_result_set(
            res, CR_VERDICT_FAILED,
            "%zu ids delivered more than once (duplicates not allowed)",
            cnt[C_DUP]);
    else if (has_offered)
        cr_result_set(res, CR_VERDICT_FAILED,
                      "%zu ids delivered that were never offered nor accepted",
                      cnt[C_UNEXP]);
    else
        cr_result_set(
            res, CR_VERDICT_FAILED,
            "%zu ids delivered that were never accepted; the history has no "
            "`offered` events, so a write made durable but never "
            "acknowledged (the service crashed between commit and "
            "acknowledgement) looks the same: have the producer emit "
            "`offered` {id} before handing a record over to tell the two "
            "apart",
            cnt[C_UNEXP]);
}

static void nl_conclude(const cr_expect *x, const cr_facts *f, const nl_tab *t,
                        const nl_judged *j, size_t bad_ids, cr_result *res)
{
    const nl_priv *p = x->priv;
    const size_t *cnt = j->cnt;
    int has_offered = j->has_offered;
    size_t missing = cnt[C_LOST] + (p->require_offered ? cnt[C_OFFERED] : 0);
    int fail_dup = cnt[C_DUP] && !p->allow_dup;
    int failing = missing > (size_t)p->max_lost || fail_dup || cnt[C_UNEXP] > 0;
    nl_counts(f, t, j, bad_ids, res);
    /* The failure classes and the indeterminate ones always; the purely
     * informational ones only to explain a failure. */
    for (int c = 0; c < C_N; c++)
        if (failing || (c != C_DEAD && c != C_RECOV))
            nl_evidence(res, t, j, c, has_offered);
    cr_chk_measure(res, (double)missing, "ids");
    cr_chk_bound(res, "<=", (double)p->max_lost);
    if (failing)
        nl_fail(p, j, missing, fail_dup, has_offered, res);
    else if (j->accepted == 0 || j->accepted < (size_t)x->min_samples)
        cr_result_set(res, CR_VERDICT_UNKNOWN,
                      "only %zu accepted ids (min_samples %d)", j->accepted,
                      x->min_samples);
    else if (has_offered)
        cr_result_set(
            res, CR_VERDICT_PASSED,
            "lost %zu of %zu accepted ids (bound <= %lld); %zu dead-lettered, "
            "%zu carried through a fault; %zu offered but unacknowledged ids "
            "delivered (indeterminate), %zu never delivered%s",
            cnt[C_LOST], j->accepted, p->max_lost, cnt[C_DEAD], cnt[C_RECOV],
            cnt[C_INDET], cnt[C_OFFERED],
            p->require_offered ? " (counted as lost)" : "");
    else
        cr_result_set(
            res, CR_VERDICT_PASSED,
            "lost %zu of %zu accepted ids (bound <= %lld); %zu dead-lettered, "
            "%zu carried through a fault",
            cnt[C_LOST], j->accepted, p->max_lost, cnt[C_DEAD], cnt[C_RECOV]);
}

static int nl_eval(const cr_expect *x, const cr_facts *f, cr_result *res,
                   cr_err *err)
{
    nl_tab t = {0};
    nl_judged j;
    size_t bad_ids = 0;
    int rc = 0;
    memset(&j, 0, sizeof j);
    if (nl_collect(f->hist, &t, &bad_ids, res) < 0) {
        rc = cr_err_set(err, CR_ENOMEM, "no_loss %s: out of memory", x->name);
        goto out;
    }
    nl_judge(x->priv, f, &t, &j);
    nl_conclude(x, f, &t, &j, bad_ids, res);
out:
    tab_free(&t);
    return rc;
}

/* ---- live: duplicates as they happen (checks/cr_live.h) -------------- */

/* An id table like nl_eval's, fed one event at a time in arrival order,
 * keeping only what order cannot change: how many times an id was
 * delivered and dead-lettered, and the earliest times seen.  A duplicate
 * is final at once -- no later event takes a delivery back -- when the
 * end verdict cannot leave the id out:
 *   - the dead-letterings count as the end counts them (nl_dead: an
 *     announcement with "repeat": true is one outcome only when no plain
 *     one exists, in any order);
 *   - with ignore_before_s, a later line could still show the id accepted
 *     (or offered) during the warm-up, and the end would leave it out:
 *     such a duplicate is shown as violated but not final.
 * Lost and unexpected ids depend on the end (an id in flight is not lost
 * before the drain; an acceptance may be reported after its delivery):
 * until then the state is holding (pending below min_samples accepted
 * ids). */

typedef struct nl_live {
    const cr_expect *x;
    nl_tab t;
    size_t accepted, in_flight, reached, bad_ids;
    size_t dups, dups_final; /* duplicated ids; those that are final */
    double dup_t;            /* the first duplicate (final ones first) */
    int dup_final;
    unsigned dup_del, dup_dead;
    char dup_id[64];
} nl_live;

static int nl_live_open(const cr_expect *x, void **st)
{
    nl_live *l = cr_calloc(1, sizeof *l);
    if (!l)
        return CR_ENOMEM;
    l->x = x;
    l->dup_t = NAN;
    *st = l;
    return 0;
}

static void nl_live_close(void *st)
{
    nl_live *l = st;
    tab_free(&l->t);
    cr_free(l);
}

/* The outcomes the end counts for r, whatever the order. */
static unsigned nl_live_outcomes(const nl_id *r)
{
    return r->delivered + nl_dead(r);
}

static void nl_live_first(double *t, double v)
{
    if (isnan(*t) || v < *t)
        *t = v;
}

/* Id r just reached two outcomes at event e. */
static void nl_live_dup(nl_live *l, const nl_id *r, const char *id,
                        const cr_event *e)
{
    const nl_priv *p = l->x->priv;
    double t_in = r->accepted ? r->t_acc : r->t_off; /* NAN: neither */
    if (t_in < p->ignore_before_s)
        return; /* most likely left out at the end: the end decides */
    /* No warm-up: nothing can leave the id out. */
    int final = p->ignore_before_s == -INFINITY;
    l->dups++;
    l->dups_final += final;
    if (l->dups > 1 && (l->dup_final || !final))
        return;
    l->dup_t = e->t;
    l->dup_final = final;
    l->dup_del = r->delivered;
    l->dup_dead = nl_live_outcomes(r) - r->delivered;
    snprintf(l->dup_id, sizeof l->dup_id, "%s", id);
}

/* A line that came late moved id r's time in (was t_in) into the warm-up:
 * a duplicate counted for it (never final: there is a warm-up) is left
 * out, as the end will. */
static void nl_live_undup(nl_live *l, const nl_id *r, const char *id,
                          double t_in)
{
    const nl_priv *p = l->x->priv;
    double now_in = r->accepted ? r->t_acc : r->t_off;
    if (p->allow_dup || nl_live_outcomes(r) < 2 || t_in < p->ignore_before_s ||
        !(now_in < p->ignore_before_s))
        return;
    l->dups--;
    if (!strcmp(id, l->dup_id))
        snprintf(l->dup_id, sizeof l->dup_id, "(left out: warm-up)");
}

static int nl_live_feed(void *st, const cr_event *e)
{
    nl_live *l = st;
    const nl_priv *p = l->x->priv;
    int kind = nl_event_kind(e);
    if (kind == NL_OTHER)
        return 0;
    char id[256];
    int n = cr_chk_event_id(e, id, sizeof id);
    if (n < 0) {
        l->bad_ids++;
        return 0;
    }
    nl_id *r = tab_get(&l->t, id, (size_t)n);
    if (!r)
        return CR_ENOMEM;
    unsigned was = nl_live_outcomes(r);
    double t_in = r->accepted ? r->t_acc : r->t_off;
    switch (kind) {
    case NL_OFF:
        r->offered++;
        nl_live_first(&r->t_off, e->t);
        nl_live_undup(l, r, id, t_in);
        return 0;
    case NL_ACC:
        if (!r->accepted++) {
            l->accepted++;
            l->in_flight += was == 0;
        }
        nl_live_first(&r->t_acc, e->t);
        nl_live_undup(l, r, id, t_in);
        return 0;
    default:
        nl_outcome(r, kind, e);
    }
    nl_live_first(&r->t_fin, e->t);
    unsigned now = nl_live_outcomes(r);
    if (was == 0 && now > 0) {
        l->reached++;
        l->in_flight -= r->accepted > 0;
    }
    if (was < 2 && now >= 2 && !p->allow_dup)
        nl_live_dup(l, r, id, e);
    return 0;
}

static void nl_live_status(void *st, const cr_facts *f, cr_live *out)
{
    const nl_live *l = st;
    (void)f;
    size_t need = l->x->min_samples > 1 ? (size_t)l->x->min_samples : 1;
    out->order_free = 1;
    if (l->dups) {
        out->state = CR_LIVE_VIOLATED;
        out->final = l->dup_final;
        out->since = l->dup_t;
        snprintf(out->summary, sizeof out->summary,
                 "id %s delivered %u times (dead-lettered %u) at t=%.3f, "
                 "duplicates not allowed; %zu ids duplicated so far%s",
                 l->dup_id, l->dup_del, l->dup_dead, l->dup_t, l->dups,
                 l->dup_final ? ""
                              : " (not final: with ignore_before_s a later "
                                "line may show it accepted in the warm-up)");
    } else if (l->accepted < need) {
        out->state = CR_LIVE_PENDING;
        snprintf(out->summary, sizeof out->summary,
                 "%zu accepted ids so far (min_samples %d)", l->accepted,
                 l->x->min_samples);
    } else {
        out->state = CR_LIVE_HOLDING;
        snprintf(out->summary, sizeof out->summary,
                 "%zu ids accepted, %zu delivered or dead-lettered, %zu in "
                 "flight, no duplicate (lost ids are judged after the drain)",
                 l->accepted, l->reached, l->in_flight);
    }
}

const cr_check_ops cr_check_no_loss_ops = {
    .kind = "no_loss",
    .summary = "every accepted id ends delivered or dead-lettered; no "
               "duplicates, no phantoms; unacknowledged offers are "
               "indeterminate",
    .params = nl_params,
    .parse = nl_parse,
    .eval = nl_eval,
    .destroy = cr_chk_destroy_priv,
    .live_open = nl_live_open,
    .live_feed = nl_live_feed,
    .live_status = nl_live_status,
    .live_close = nl_live_close,
};
