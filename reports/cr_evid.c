/* cr_evid: evidence rows in order and the lost-id story of a failed
 * no_loss expectation (see cr_evid.h). */
#include "cr_evid.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_fmt.h"
#include "cr_report_internal.h"
#include "cr_stats.h"

/* Fewest moves on from an instance that make its p99 worth a claim. */
#define MIN_DWELL_SAMPLES 10

/* ---- the lost-id analysis: scratch state ------------------------------- */

typedef struct nl_id {
    const char *id; /* key of nl.map */
    double t_acc;   /* first accepted, NAN: never */
    unsigned acc, del, dead;
} nl_id;

typedef struct nl_sight {
    size_t id, inst, seq;
    double t;
    const char *what;
    int terminal; /* delivered / dead_lettered: the id's journey ends */
} nl_sight;

typedef struct nl {
    const cr_report *r;
    json_t *map;    /* id text -> index into ids */
    json_t *traces; /* trace_id -> index into ids */
    json_t *pool;   /* interned strings (handed to cr_rep_lost) */
    nl_id *ids;
    size_t nids, capids;
    nl_sight *s;
    size_t ns, caps;
    const char **inst, **svc; /* distinct instances and their services */
    size_t ninst, capinst;
    double *dwell; /* p99 per instance, NAN: too few samples */
    int spans;
} nl;

static void nl_free(nl *a)
{
    json_decref(a->map);
    json_decref(a->traces);
    json_decref(a->pool);
    cr_free(a->ids);
    cr_free(a->s);
    cr_free(a->inst);
    cr_free(a->svc);
    cr_free(a->dwell);
}

/* A copy of s that lives as long as the pool (a key of the pool object:
 * jansson keeps a key's bytes in place until the key is deleted). */
static const char *intern(json_t *pool, const char *s)
{
    if (!json_object_get(pool, s) &&
        json_object_set_new(pool, s, json_null()) < 0)
        return NULL;
    return json_object_iter_key(json_object_iter_at(pool, s));
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = cr_realloc(*v, nc * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

/* Index of an instance (added when new); (size_t)-1 on allocation
 * failure.  inst must outlive the analysis (an event's string or an
 * interned one). */
static size_t inst_index(nl *a, const char *inst, const char *svc)
{
    for (size_t i = 0; i < a->ninst; i++)
        if (!strcmp(a->inst[i], inst))
            return i;
    size_t cap = a->capinst;
    if (grow((void **)&a->inst, &cap, a->ninst, sizeof *a->inst) < 0)
        return (size_t)-1;
    cap = a->capinst;
    if (grow((void **)&a->svc, &cap, a->ninst, sizeof *a->svc) < 0)
        return (size_t)-1;
    a->capinst = cap;
    a->inst[a->ninst] = inst;
    a->svc[a->ninst] = svc;
    return a->ninst++;
}

/* The index of id text (added when new): >= 0, or -1 on allocation
 * failure. */
static long id_index(nl *a, const char *txt)
{
    const json_t *v = json_object_get(a->map, txt);
    if (v)
        return (long)json_integer_value(v);
    if (grow((void **)&a->ids, &a->capids, a->nids, sizeof *a->ids) < 0 ||
        json_object_set_new(a->map, txt, json_integer((json_int_t)a->nids)) < 0)
        return -1;
    a->ids[a->nids] = (nl_id){
        json_object_iter_key(json_object_iter_at(a->map, txt)), NAN, 0, 0, 0};
    return (long)a->nids++;
}

static int sight(nl *a, size_t id, double t, size_t inst, const char *what,
                 int terminal)
{
    if (inst == (size_t)-1 ||
        grow((void **)&a->s, &a->caps, a->ns, sizeof *a->s) < 0)
        return -1;
    a->s[a->ns] = (nl_sight){id, inst, a->ns, t, what, terminal};
    a->ns++;
    return 0;
}

/* The id of an event as the no_loss checker reads it: a string, an
 * integer, or a real without a fraction; 0, or -1 when it has none. */
static int event_id(const json_t *obj, char *buf, size_t n)
{
    const json_t *v = json_object_get(obj, "id");
    if (json_is_string(v))
        snprintf(buf, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v) &&
             json_real_value(v) == floor(json_real_value(v)) &&
             fabs(json_real_value(v)) < 9.0e15)
        snprintf(buf, n, "%lld", (long long)json_real_value(v));
    else
        return -1;
    return 0;
}

static int from_events(nl *a)
{
    char id[256];
    for (size_t i = 0; i < a->r->nev; i++) {
        const cr_rep_event *e = &a->r->ev[i];
        if (event_id(e->obj, id, sizeof id) < 0)
            continue;
        long k = id_index(a, id);
        if (k < 0)
            return -1;
        nl_id *x = &a->ids[k];
        int acc = !strcmp(e->ev, "accepted"), del = !strcmp(e->ev, "delivered"),
            dead = !strcmp(e->ev, "dead_lettered");
        if (acc) {
            if (!x->acc++)
                x->t_acc = e->t;
            const char *tr = cr_rep_jstr(e->obj, "trace_id");
            if (tr && !json_object_get(a->traces, tr) &&
                json_object_set_new(a->traces, tr, json_integer(k)) < 0)
                return -1;
        }
        x->del += del;
        x->dead += dead;
        if (sight(a, (size_t)k, e->t, inst_index(a, e->inst, e->svc), e->ev,
                  del || dead) < 0)
            return -1;
    }
    return 0;
}

/* ---- spans (traces/<instance>.jsonl, OTLP/JSON, one export a line) ----- */

static const char *attr(const json_t *res, const char *key)
{
    const json_t *at = json_object_get(res, "attributes");
    for (size_t i = 0; i < json_array_size(at); i++) {
        const json_t *kv = json_array_get(at, i);
        const char *k = cr_rep_jstr(kv, "key");
        if (k && !strcmp(k, key))
            return cr_rep_jstr(json_object_get(kv, "value"), "stringValue");
    }
    return NULL;
}

static double span_end(const json_t *sp)
{
    const json_t *v = json_object_get(sp, "endTimeUnixNano");
    if (json_is_string(v))
        return strtod(json_string_value(v), NULL) / 1e9;
    return json_is_number(v) ? json_number_value(v) / 1e9 : NAN;
}

/* One exported line: its spans whose trace belongs to an id. */
static int span_line(nl *a, const json_t *doc)
{
    const json_t *rs = json_object_get(doc, "resourceSpans");
    for (size_t i = 0; i < json_array_size(rs); i++) {
        const json_t *res = json_object_get(json_array_get(rs, i), "resource");
        const char *inst = attr(res, "service.instance.id");
        const char *svc = attr(res, "service.name");
        if (!inst)
            inst = svc;
        if (!inst)
            continue;
        const json_t *ss = json_object_get(json_array_get(rs, i), "scopeSpans");
        for (size_t j = 0; j < json_array_size(ss); j++) {
            const json_t *sp = json_object_get(json_array_get(ss, j), "spans");
            for (size_t k = 0; k < json_array_size(sp); k++) {
                const json_t *s = json_array_get(sp, k);
                const json_t *idx = json_object_get(
                    a->traces,
                    cr_rep_jstr(s, "traceId") ? cr_rep_jstr(s, "traceId") : "");
                double t = span_end(s) - a->r->t0_unix;
                const char *name = cr_rep_jstr(s, "name");
                if (!idx || isnan(t))
                    continue;
                const char *ii = intern(a->pool, inst);
                const char *is = intern(a->pool, svc ? svc : "");
                const char *w = intern(a->pool, name ? name : "span");
                if (!ii || !is || !w ||
                    sight(a, (size_t)json_integer_value(idx), t,
                          inst_index(a, ii, is), w, 0) < 0)
                    return -1;
                a->spans = 1;
            }
        }
    }
    return 0;
}

static int from_spans(nl *a)
{
    if (!json_object_size(a->traces))
        return 0;
    char *dir = cr_asprintf("%s/traces", a->r->dir);
    if (!dir)
        return -1;
    DIR *d = opendir(dir);
    int rc = 0;
    struct dirent *de;
    char *line = NULL;
    size_t cap = 0;
    while (d && rc == 0 && (de = readdir(d))) {
        size_t k = strlen(de->d_name);
        if (k < 7 || strcmp(de->d_name + k - 6, ".jsonl") ||
            de->d_name[0] == '.')
            continue;
        char *path = cr_asprintf("%s/%s", dir, de->d_name);
        FILE *fp = path ? cr_out_fopen_read(path) : NULL;
        cr_free(path);
        if (!path) {
            rc = -1;
            break;
        }
        ssize_t len;
        while (fp && rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
            json_t *doc = json_loadb(line, (size_t)len, 0, NULL);
            if (doc) /* a broken line is skipped: spans are a bonus */
                rc = span_line(a, doc);
            json_decref(doc);
        }
        if (fp)
            fclose(fp);
    }
    free(line);
    if (d)
        closedir(d);
    cr_free(dir);
    return rc;
}

/* ---- dwell: how long records stay at an instance ----------------------- */

static int cmp_sight(const void *pa, const void *pb)
{
    const nl_sight *x = pa, *y = pb;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* p99 of the time from a record's last sighting at an instance to its
 * next record elsewhere (or its delivery there), per instance. */
static int dwell(nl *a)
{
    double *v = cr_calloc(a->ns + 1, sizeof *v);
    a->dwell = cr_calloc(a->ninst + 1, sizeof *a->dwell);
    if (!v || !a->dwell) {
        cr_free(v);
        return -1;
    }
    for (size_t in = 0; in < a->ninst; in++) {
        size_t m = 0;
        for (size_t k = 0; k + 1 < a->ns; k++) {
            const nl_sight *s = &a->s[k], *n = &a->s[k + 1];
            if (s->inst == in && n->id == s->id &&
                (n->inst != in || n->terminal) && !s->terminal)
                v[m++] = n->t - s->t;
        }
        cr_stats_sort(v, m);
        a->dwell[in] =
            m >= MIN_DWELL_SAMPLES ? cr_stats_percentile(v, m, 99) : NAN;
    }
    cr_free(v);
    return 0;
}

/* ---- the lost ids and their groups ------------------------------------- */

static double ignore_before(const cr_report *r, const char *name)
{
    const json_t *ex =
        json_object_get(json_object_get(r->journal, "scenario"), "expect");
    for (size_t i = 0; i < json_array_size(ex); i++) {
        const json_t *o = json_array_get(ex, i);
        const char *n = cr_rep_jstr(o, "name");
        if (n && !strcmp(n, name) && !isnan(cr_rep_jnum(o, "ignore_before_s")))
            return cr_rep_jnum(o, "ignore_before_s");
    }
    return -INFINITY;
}

/* The earliest applied fault aimed at the instance that started within
 * dw seconds after t. */
static const cr_rep_fault *fault_after(const cr_report *r, const char *inst,
                                       const char *svc, double t, double dw)
{
    for (size_t i = 0; i < r->nfaults; i++) {
        const cr_rep_fault *f = &r->faults[i];
        if (!strcmp(f->outcome, "applied") && f->start >= t &&
            f->start - t <= dw && cr_rep_target_has(f->target, inst, svc))
            return f;
    }
    return NULL;
}

static int cmp_lost(const void *pa, const void *pb)
{
    const cr_rep_lost_id *x = pa, *y = pb;
    return (x->t_acc > y->t_acc) - (x->t_acc < y->t_acc);
}

static int cmp_group(const void *pa, const void *pb)
{
    const cr_rep_lost_group *x = pa, *y = pb;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return (x->fault->start > y->fault->start) -
           (x->fault->start < y->fault->start);
}

static int lost_build(nl *a, double t_ign, cr_rep_lost *L)
{
    /* Last sighting of each id: the last in its sorted run. */
    size_t *last = cr_calloc(a->nids + 1, sizeof *last);
    if (!last)
        return -1;
    for (size_t k = 0; k < a->ns; k++)
        last[a->s[k].id] = k;
    size_t n = 0;
    for (size_t i = 0; i < a->nids; i++)
        n += a->ids[i].acc && !a->ids[i].del && !a->ids[i].dead &&
             !(a->ids[i].t_acc < t_ign);
    L->ids = cr_calloc(n + 1, sizeof *L->ids);
    L->groups = cr_calloc(n + 1, sizeof *L->groups);
    if (!L->ids || !L->groups) {
        cr_free(last);
        return -1;
    }
    for (size_t i = 0; i < a->nids; i++) {
        const nl_id *x = &a->ids[i];
        if (!x->acc || x->del || x->dead || x->t_acc < t_ign)
            continue;
        const nl_sight *s = &a->s[last[i]];
        const char *id = intern(L->pool, x->id);
        if (!id) {
            cr_free(last);
            return -1;
        }
        cr_rep_lost_id *l = &L->ids[L->n++];
        *l =
            (cr_rep_lost_id){id, x->t_acc, a->inst[s->inst], s->what, s->t, -1};
        double dw = a->dwell[s->inst];
        const cr_rep_fault *f = isnan(dw)
                                    ? NULL
                                    : fault_after(a->r, a->inst[s->inst],
                                                  a->svc[s->inst], s->t, dw);
        if (!f)
            continue;
        size_t g = 0;
        while (g < L->ngroups &&
               (L->groups[g].fault != f || strcmp(L->groups[g].inst, l->seen)))
            g++;
        if (g == 64) /* more groups than a story can tell: left out */
            continue;
        cr_rep_lost_group *G = &L->groups[g];
        if (g == L->ngroups) {
            *G = (cr_rep_lost_group){l->seen,  l->what,   f, 0,
                                     INFINITY, -INFINITY, dw};
            L->ngroups++;
        }
        G->n++;
        l->group = (int)g;
        G->gap_min = fmin(G->gap_min, f->start - s->t);
        G->gap_max = fmax(G->gap_max, f->start - s->t);
    }
    cr_free(last);
    /* Largest group first (insertion sort: few groups), then the ids'
     * group indices follow their groups. */
    int remap[64];
    size_t ng = L->ngroups < 64 ? L->ngroups : 64;
    for (size_t g = 0; g < ng; g++)
        remap[g] = (int)g;
    for (size_t g = 1; g < ng; g++)
        for (size_t k = g;
             k > 0 && cmp_group(&L->groups[k - 1], &L->groups[k]) > 0; k--) {
            cr_rep_lost_group t = L->groups[k];
            L->groups[k] = L->groups[k - 1];
            L->groups[k - 1] = t;
            int ti = remap[k];
            remap[k] = remap[k - 1];
            remap[k - 1] = ti;
        }
    int inv[64];
    for (size_t g = 0; g < ng; g++)
        inv[remap[g]] = (int)g;
    for (size_t i = 0; i < L->n; i++)
        if (L->ids[i].group >= 0)
            L->ids[i].group = inv[L->ids[i].group];
    qsort(L->ids, L->n, sizeof *L->ids, cmp_lost);
    return 0;
}

void cr_evid_group_text(char *buf, size_t n, const cr_rep_lost *l,
                        const cr_rep_lost_group *g)
{
    char verb[64], name[256];
    cr_fmt_fault_verb(verb, sizeof verb, g->fault->kind);
    cr_fmt_fault_name(name, sizeof name, g->fault);
    snprintf(buf, n,
             "%zu of %zu lost id%s %s in flight at %s (last record: %s) when "
             "%s %s it at %.3f s",
             g->n, l->n, cr_fmt_s(l->n), g->n == 1 ? "was" : "were", g->inst,
             g->what, name, verb, g->fault->start);
}

void cr_evid_rest_text(char *buf, size_t n, const cr_rep_lost *l)
{
    size_t rest = l->n;
    for (size_t g = 0; g < l->ngroups; g++)
        rest -= l->groups[g].n;
    if (!rest) {
        snprintf(buf, n, "%s", "");
        return;
    }
    const char *they = rest == 1 ? "it was" : "they were";
    snprintf(buf, n,
             "%s%zu lost id%s: no fault hit the instance where %s last seen "
             "while %s still in flight there.",
             l->ngroups ? "The other " : "", rest, cr_fmt_s(rest), they, they);
}

void cr_evid_omitted_text(char *buf, size_t n, const cr_rep_expect *x)
{
    if (x->omitted > 0)
        snprintf(buf, n, "The checker recorded %lld more row%s than it kept.",
                 x->omitted, cr_fmt_s((size_t)x->omitted));
    else
        snprintf(buf, n, "%s", "");
}

/* The lost-id story of a failed no_loss expectation, from the ids of
 * the events (already in a): x->lost stays NULL when no event names an
 * id.  0, or -1 on allocation failure. */
static int lost_story(nl *a, cr_rep_expect *x)
{
    cr_rep_lost *L = NULL;
    if (!a->nids)
        return 0;
    if (from_spans(a) < 0)
        return -1;
    if (a->ns)
        qsort(a->s, a->ns, sizeof *a->s, cmp_sight);
    if (dwell(a) < 0 || !(L = cr_calloc(1, sizeof *L)))
        goto fail;
    L->pool = a->pool; /* the interned span strings live on in the model */
    a->pool = NULL;
    const json_t *cl = json_object_get(x->details, "lost");
    L->checker_lost = json_is_integer(cl) ? json_integer_value(cl) : -1;
    L->spans = a->spans;
    if (lost_build(a, ignore_before(a->r, x->name), L) < 0)
        goto fail;
    if (L->checker_lost >= 0 && L->checker_lost != (long long)L->n) {
        /* The recount is not the checker's: tie nothing to a fault. */
        L->ngroups = 0;
        for (size_t i = 0; i < L->n; i++)
            L->ids[i].group = -1;
    }
    if (L->ngroups) {
        char h[512];
        cr_evid_group_text(h, sizeof h, L, &L->groups[0]);
        if (!(L->hint = cr_strdup(h)))
            goto fail;
    }
    x->lost = L;
    return 0;
fail:
    if (L) {
        cr_free(L->ids);
        cr_free(L->groups);
        json_decref(L->pool);
        cr_free(L);
    }
    return -1;
}

/* ---- evidence rows ----------------------------------------------------- */

static int cmp_row(const void *pa, const void *pb)
{
    const cr_rep_evrow *x = pa, *y = pb;
    if (x->info != y->info)
        return x->info - y->info;
    if (isnan(x->t) || isnan(y->t))
        return isnan(x->t) - isnan(y->t);
    return (x->t > y->t) - (x->t < y->t);
}

/* 1 when the id a no_loss row names ("id 42 accepted at ...") breaks
 * the rule as the checker counts it (lost, delivered twice, never
 * accepted), 0 when it does not, -1 when the row names no id of the run. */
static int id_failing(const nl *a, const char *text, double t_ign)
{
    char id[256];
    if (!a || strncmp(text, "id ", 3))
        return -1;
    size_t k = strcspn(text + 3, " ,");
    if (k == 0 || k >= sizeof id)
        return -1;
    memcpy(id, text + 3, k);
    id[k] = '\0';
    const json_t *v = json_object_get(a->map, id);
    if (!v)
        return -1;
    const nl_id *x = &a->ids[json_integer_value(v)];
    if (x->acc && x->t_acc < t_ign)
        return 0; /* warm-up: left out by the checker */
    return (x->acc && !x->del && !x->dead) || x->del + x->dead > 1 ||
           (!x->acc && (x->del || x->dead));
}

static int rows_build(const cr_report *r, cr_rep_expect *x, const nl *a)
{
    size_t n = json_array_size(x->evidence);
    int passed = !strcmp(x->verdict, "passed");
    double t_ign = ignore_before(r, x->name);
    const json_t *om = json_object_get(x->details, "evidence_omitted");
    if (!om)
        om = json_object_get(x->details, "evidence_dropped");
    x->omitted = json_is_integer(om) ? json_integer_value(om) : 0;
    if (!n)
        return 0;
    x->rows = cr_calloc(n, sizeof *x->rows);
    if (!x->rows)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->evidence, i);
        const char *text = cr_rep_jstr(e, "text");
        const char *role = cr_rep_jstr(e, "role");
        cr_rep_evrow *w = &x->rows[x->nrows++];
        w->t = cr_rep_jnum(e, "t");
        w->text = text ? text : "";
        if (role)
            w->info = !strcmp(role, "info");
        else if (passed)
            w->info = 1;
        else
            w->info = id_failing(a, w->text, t_ign) == 0;
        x->nfail += !w->info;
    }
    qsort(x->rows, x->nrows, sizeof *x->rows, cmp_row);
    return 0;
}

/* The rows and the lost-id story of one expectation. */
static int expect_story(const cr_report *r, cr_rep_expect *x)
{
    nl a = {.r = r};
    int rc = -1;
    if (strcmp(x->kind, "no_loss") || !strcmp(x->verdict, "passed"))
        return rows_build(r, x, NULL);
    a.map = json_object();
    a.traces = json_object();
    a.pool = json_object();
    if (a.map && a.traces && a.pool && from_events(&a) == 0 &&
        rows_build(r, x, &a) == 0)
        rc = strcmp(x->verdict, "failed") ? 0 : lost_story(&a, x);
    nl_free(&a);
    return rc;
}

int cr_evid_build(cr_report *r, cr_err *err)
{
    for (size_t i = 0; i < r->nex; i++)
        if (expect_story(r, &r->ex[i]) < 0)
            return cr_err_set(err, CR_ENOMEM, "evidence of %s: out of memory",
                              r->ex[i].name);
    return 0;
}

void cr_evid_free(cr_rep_expect *x)
{
    cr_free(x->rows);
    x->rows = NULL;
    if (x->lost) {
        cr_free(x->lost->ids);
        cr_free(x->lost->groups);
        cr_free(x->lost->hint);
        json_decref(x->lost->pool);
        cr_free(x->lost);
        x->lost = NULL;
    }
}
