/* crp_alert: see crp_alert.h.  The `crp alerter` stage that drives it is
 * crp_alerter.c. */
#include "crp_alert.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crp_conf.h"
#include "crp_net.h"
#include "crp_util.h"

#define RING         1024 /* samples kept per series */
#define MAX_NAMES    8    /* metric names per side of a rule */
#define MAX_WINDOW_S 600  /* longest rate window */

enum { E_RATE, E_RATIO, E_GAUGE, E_NOPROG };
enum { A_MAX, A_MIN, A_SUM };
enum { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

typedef struct rule {
    char name[64];
    int expr, agg, op;
    char *num[MAX_NAMES], *den[MAX_NAMES]; /* metric names */
    int nnum, nden;
    double window_s, threshold, for_s;
    int state;
    double since, value;
} rule;

typedef struct series {
    char *target, *name;
    double t[RING], v[RING];
    int head, len; /* ring: newest at head-1 */
    int up;        /* present in the target's last scrape */
    double progress_t;
} series;

struct crp_alert_set {
    rule *r;
    int nr;
    series **s;
    int ns, cap;
    unsigned defects;
};

const char crp_alert_default_rules[] =
    "{\"rules\": ["
    "{\"name\": \"feature-error-ratio\", \"expr\": \"ratio\","
    " \"metric\": [\"crp_worker_feature_failed_total\","
    " \"crp_worker_rejected_total\"],"
    " \"over\": [\"crp_worker_feature_ok_total\","
    " \"crp_worker_feature_failed_total\", \"crp_worker_rejected_total\"],"
    " \"window_s\": 1, \"op\": \">\", \"threshold\": 0.5, \"for_s\": 3},"
    "{\"name\": \"feature-breaker-open\", \"expr\": \"gauge\","
    " \"metric\": \"crp_worker_breaker_state\", \"agg\": \"max\","
    " \"op\": \">=\", \"threshold\": 1, \"for_s\": 1},"
    "{\"name\": \"queue-backlog\", \"expr\": \"gauge\","
    " \"metric\": \"crp_queue_depth_work\", \"op\": \">\","
    " \"threshold\": 5000, \"for_s\": 5},"
    "{\"name\": \"ingest-refusing\", \"expr\": \"rate\","
    " \"metric\": \"crp_ingest_records_failed_total\", \"window_s\": 5,"
    " \"op\": \">\", \"threshold\": 1, \"for_s\": 3},"
    "{\"name\": \"sink-stalled\", \"expr\": \"no_progress\","
    " \"metric\": \"crp_sink_records_out_total\", \"op\": \">\","
    " \"threshold\": 10, \"for_s\": 0}"
    "]}";

/* ---- rules ---- */

static void rule_clear(rule *r)
{
    for (int i = 0; i < r->nnum; i++)
        free(r->num[i]);
    for (int i = 0; i < r->nden; i++)
        free(r->den[i]);
    r->nnum = r->nden = 0;
}

void crp_alert_free(crp_alert_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nr; i++)
        rule_clear(&s->r[i]);
    for (int i = 0; i < s->ns; i++) {
        free(s->s[i]->target);
        free(s->s[i]->name);
        free(s->s[i]);
    }
    free(s->s);
    free(s->r);
    free(s);
}

/* Names of a string-or-array field into out; 0 or -1 (message in err). */
static int names(json_t *v, const char *who, const char *field, char **out,
                 int *n, char *err, size_t en)
{
    json_t *one[1] = {v};
    size_t cnt = 1;
    if (json_is_array(v))
        cnt = json_array_size(v);
    if (cnt == 0 || cnt > MAX_NAMES) {
        snprintf(err, en, "%s: field \"%s\": 1 to %d metric names", who, field,
                 MAX_NAMES);
        return -1;
    }
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : one[0];
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            json_string_length(e) > 200) {
            snprintf(err, en,
                     "%s: field \"%s\": must be a metric name or an array of "
                     "them",
                     who, field);
            return -1;
        }
        out[*n] = strdup(json_string_value(e));
        if (!out[*n]) {
            snprintf(err, en, "out of memory");
            return -1;
        }
        (*n)++;
    }
    return 0;
}

static int num_field(json_t *o, const char *who, const char *field, int req,
                     double dflt, double lo, double hi, double *out, char *err,
                     size_t en)
{
    json_t *v = json_object_get(o, field);
    if (!v) {
        if (req) {
            snprintf(err, en, "%s: field \"%s\": required number", who, field);
            return -1;
        }
        *out = dflt;
        return 0;
    }
    if (!json_is_number(v)) {
        snprintf(err, en, "%s: field \"%s\": must be a number", who, field);
        return -1;
    }
    *out = json_number_value(v);
    if (!(*out >= lo && *out <= hi)) {
        snprintf(err, en, "%s: field \"%s\": must be in [%g, %g]", who, field,
                 lo, hi);
        return -1;
    }
    return 0;
}

static int pick(const char *v, const char *const *tab)
{
    for (int i = 0; tab[i]; i++)
        if (strcmp(v, tab[i]) == 0)
            return i;
    return -1;
}

static const char *const expr_names[] = {"rate", "ratio", "gauge",
                                         "no_progress", NULL};
static const char *const agg_names[] = {"max", "min", "sum", NULL};
static const char *const op_names[] = {">", ">=", "<", "<=", "==", "!=", NULL};

static int str_choice(json_t *o, const char *who, const char *field,
                      const char *const *tab, int dflt, int *out, char *err,
                      size_t en)
{
    json_t *v = json_object_get(o, field);
    *out = dflt;
    if (!v)
        return dflt < 0 ? (snprintf(err, en, "%s: field \"%s\": required", who,
                                    field),
                           -1)
                        : 0;
    if (json_is_string(v) && (*out = pick(json_string_value(v), tab)) >= 0)
        return 0;
    char all[128] = "";
    for (int i = 0; tab[i]; i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s",
                 i ? ", " : "", tab[i]);
    snprintf(err, en, "%s: field \"%s\": must be one of %s", who, field, all);
    return -1;
}

static int parse_rule(crp_alert_set *s, json_t *o, int idx, rule *r, char *err,
                      size_t en)
{
    static const char *const keys[] = {
        "name", "expr", "metric",    "over",  "window_s",
        "agg",  "op",   "threshold", "for_s", NULL};
    char who[96];
    snprintf(who, sizeof who, "rule %d", idx + 1);
    if (!json_is_object(o)) {
        snprintf(err, en, "%s: must be an object", who);
        return -1;
    }
    json_t *nm = json_object_get(o, "name");
    if (!json_is_string(nm) || json_string_length(nm) == 0 ||
        json_string_length(nm) >= sizeof r->name) {
        snprintf(err, en, "%s: field \"name\": required string (1-63 chars)",
                 who);
        return -1;
    }
    snprintf(r->name, sizeof r->name, "%s", json_string_value(nm));
    for (const char *p = r->name; *p; p++)
        if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            snprintf(err, en,
                     "%s: field \"name\": only letters, digits, '-', '_', '.'",
                     who);
            return -1;
        }
    snprintf(who, sizeof who, "rule \"%s\"", r->name);
    for (int i = 0; i < s->nr; i++)
        if (strcmp(s->r[i].name, r->name) == 0) {
            snprintf(err, en, "%s: field \"name\": duplicate", who);
            return -1;
        }
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        if (pick(k, keys) < 0) {
            snprintf(err, en, "%s: field \"%s\": unknown", who, k);
            return -1;
        }
    }
    if (str_choice(o, who, "expr", expr_names, -1, &r->expr, err, en) < 0 ||
        str_choice(o, who, "agg", agg_names, A_MAX, &r->agg, err, en) < 0 ||
        str_choice(o, who, "op", op_names, OP_GT, &r->op, err, en) < 0)
        return -1;
    json_t *m = json_object_get(o, "metric");
    if (!m) {
        snprintf(err, en, "%s: field \"metric\": required", who);
        return -1;
    }
    if (names(m, who, "metric", r->num, &r->nnum, err, en) < 0)
        return -1;
    json_t *over = json_object_get(o, "over");
    if (r->expr == E_RATIO) {
        if (!over) {
            snprintf(err, en, "%s: field \"over\": required for a ratio", who);
            return -1;
        }
        if (names(over, who, "over", r->den, &r->nden, err, en) < 0)
            return -1;
    } else if (over) {
        snprintf(err, en, "%s: field \"over\": only for a ratio", who);
        return -1;
    }
    if (num_field(o, who, "window_s", 0, 5, 0.001, MAX_WINDOW_S, &r->window_s,
                  err, en) < 0 ||
        num_field(o, who, "threshold", 1, 0, -1e300, 1e300, &r->threshold, err,
                  en) < 0 ||
        num_field(o, who, "for_s", 0, 0, 0, 86400, &r->for_s, err, en) < 0)
        return -1;
    r->state = CRP_ALERT_INACTIVE;
    r->value = NAN;
    return 0;
}

crp_alert_set *crp_alert_parse(const char *text, unsigned defects, char *err,
                               size_t en)
{
    json_error_t je;
    crp_alert_set *s = NULL;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        snprintf(err, en, "line %d: %s", je.line, je.text);
        goto fail;
    }
    json_t *arr = json_is_object(root) ? json_object_get(root, "rules") : root;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, en, "\"rules\": must be a non-empty array of rules");
        goto fail;
    }
    s = calloc(1, sizeof *s);
    if (s)
        s->r = calloc(json_array_size(arr), sizeof *s->r);
    if (!s || !s->r) {
        snprintf(err, en, "out of memory");
        goto fail;
    }
    s->defects = defects;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        rule *r = &s->r[s->nr];
        if (parse_rule(s, json_array_get(arr, i), (int)i, r, err, en) < 0) {
            rule_clear(r);
            goto fail;
        }
        s->nr++;
    }
    json_decref(root);
    return s;
fail:
    json_decref(root);
    crp_alert_free(s);
    return NULL;
}

crp_alert_set *crp_alert_load(const char *path, unsigned defects, char *err,
                              size_t en)
{
    FILE *f = fopen(path, "re");
    crp_sb b = {0};
    crp_alert_set *s = NULL;
    char buf[4096], e[400] = "";
    if (!f) {
        snprintf(err, en, "rules %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        if (crp_sb_printf(&b, "%.*s", (int)got, buf) < 0) {
            snprintf(err, en, "rules %s: out of memory", path);
            goto out;
        }
    s = crp_alert_parse(b.s ? b.s : "", defects, e, sizeof e);
    if (!s)
        snprintf(err, en, "rules %s: %s", path, e);
out:
    fclose(f);
    crp_sb_free(&b);
    return s;
}

/* ---- samples ---- */

static int wanted(const crp_alert_set *s, const char *name)
{
    for (int i = 0; i < s->nr; i++) {
        for (int j = 0; j < s->r[i].nnum; j++)
            if (strcmp(s->r[i].num[j], name) == 0)
                return 1;
        for (int j = 0; j < s->r[i].nden; j++)
            if (strcmp(s->r[i].den[j], name) == 0)
                return 1;
    }
    return 0;
}

static series *find_series(crp_alert_set *s, const char *target,
                           const char *name, int create)
{
    for (int i = 0; i < s->ns; i++)
        if (!strcmp(s->s[i]->target, target) && !strcmp(s->s[i]->name, name))
            return s->s[i];
    if (!create)
        return NULL;
    if (s->ns == s->cap) {
        int nc = s->cap ? s->cap * 2 : 16;
        series **ns = realloc(s->s, (size_t)nc * sizeof *ns);
        if (!ns)
            return NULL;
        s->s = ns;
        s->cap = nc;
    }
    series *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->target = strdup(target);
    x->name = strdup(name);
    if (!x->target || !x->name) {
        free(x->target);
        free(x->name);
        free(x);
        return NULL;
    }
    s->s[s->ns++] = x;
    return x;
}

static void push(series *x, double t, double v)
{
    if (x->len == 0) {
        x->progress_t = t;
    } else {
        double prev = x->v[(x->head + RING - 1) % RING];
        if (v > prev)
            x->progress_t = t;
    }
    x->t[x->head] = t;
    x->v[x->head] = v;
    x->head = (x->head + 1) % RING;
    if (x->len < RING)
        x->len++;
    x->up = 1;
}

int crp_alert_observe(crp_alert_set *s, const char *target, const char *body,
                      double t)
{
    int found = 0, rc = 0;
    for (int i = 0; i < s->ns; i++)
        if (!strcmp(s->s[i]->target, target))
            s->s[i]->up = 0;
    if (!body)
        return 0;
    const char *p = body;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        if (len > 0 && len < sizeof line && p[0] != '#') {
            memcpy(line, p, len);
            line[len] = '\0';
            /* series = name or name{labels}; then the value */
            char *sp = strchr(line, '{');
            char *endname = sp ? strchr(sp, '}') : strchr(line, ' ');
            if (endname && sp)
                endname++;
            if (endname && *endname == ' ') {
                *endname = '\0';
                char *end;
                double v = strtod(endname + 1, &end);
                if (end != endname + 1 && wanted(s, line)) {
                    series *x = find_series(s, target, line, 1);
                    if (!x)
                        rc = -1;
                    else {
                        push(x, t, v);
                        found++;
                    }
                }
            }
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return rc < 0 ? -1 : found;
}

/* Sum over targets of the per-second increase of `name` over [t-w, t]
 * (a decrease is a counter reset: the new value is the increase).
 * *have: set when at least one series had two samples in the window. */
static double rate_of(const crp_alert_set *s, const char *name, double t,
                      double w, int *have)
{
    double sum = 0;
    for (int i = 0; i < s->ns; i++) {
        const series *x = s->s[i];
        if (strcmp(x->name, name) != 0)
            continue;
        double inc = 0, first = 0, last = 0, prev = 0;
        int n = 0;
        for (int k = x->len; k >= 1; k--) { /* oldest to newest */
            int j = (x->head + RING - k) % RING;
            if (x->t[j] < t - w - 1e-9 || x->t[j] > t + 1e-9)
                continue;
            if (n == 0)
                first = x->t[j];
            else
                inc += x->v[j] >= prev ? x->v[j] - prev : x->v[j];
            prev = x->v[j];
            last = x->t[j];
            n++;
        }
        if (n >= 2 && last > first) {
            sum += inc / (last - first);
            *have = 1;
        }
    }
    return sum;
}

/* The rule's value at t, NAN when it has none; *idle: a ratio whose
 * denominators are there but counted nothing in the window (no traffic,
 * which says nothing about the ratio either way). */
static double expr_value(const crp_alert_set *s, const rule *r, double t,
                         int *idle)
{
    *idle = 0;
    int have = 0, dhave = 0;
    double v = 0, d = 0;
    switch (r->expr) {
    case E_RATE:
        for (int i = 0; i < r->nnum; i++)
            v += rate_of(s, r->num[i], t, r->window_s, &have);
        return have ? v : NAN;
    case E_RATIO:
        for (int i = 0; i < r->nnum; i++)
            v += rate_of(s, r->num[i], t, r->window_s, &have);
        for (int i = 0; i < r->nden; i++)
            d += rate_of(s, r->den[i], t, r->window_s, &dhave);
        *idle = dhave && d <= 0;
        return dhave && d > 0 ? v / d : NAN; /* no traffic: no value */
    case E_GAUGE:
        for (int k = 0; k < s->ns; k++) {
            const series *x = s->s[k];
            int match = 0;
            for (int i = 0; i < r->nnum; i++)
                match |= !strcmp(x->name, r->num[i]);
            if (!match || !x->up || x->len == 0)
                continue;
            double g = x->v[(x->head + RING - 1) % RING];
            if (!have)
                v = g;
            else if (r->agg == A_MAX)
                v = g > v ? g : v;
            else if (r->agg == A_MIN)
                v = g < v ? g : v;
            else
                v += g;
            have = 1;
        }
        return have ? v : NAN;
    default: /* E_NOPROG: seconds since any target's counter increased */
        for (int k = 0; k < s->ns; k++) {
            const series *x = s->s[k];
            for (int i = 0; i < r->nnum; i++)
                if (!strcmp(x->name, r->num[i]) && x->len > 0) {
                    double age = t - x->progress_t;
                    v = have && v < age ? v : age;
                    have = 1;
                }
        }
        return have ? v : NAN;
    }
}

static int holds(const rule *r, double v)
{
    if (isnan(v))
        return 0;
    switch (r->op) {
    case OP_GT:
        return v > r->threshold;
    case OP_GE:
        return v >= r->threshold;
    case OP_LT:
        return v < r->threshold;
    case OP_LE:
        return v <= r->threshold;
    case OP_EQ:
        return v == r->threshold;
    default:
        return v != r->threshold;
    }
}

/* Defect switches (tests only; README, "Defect switches").
 * A condition must hold for for_s before the rule fires.  DEFECT
 * alert_no_for: it fires on the first sample that holds (flapping). */
static int waits_for_for_s(const crp_alert_set *s)
{
    return !(s->defects & CRP_DEFECT_ALERT_NO_FOR);
}

/* A firing rule whose condition stopped holding is resolved.  DEFECT
 * alert_never_resolves: it stays firing. */
static int resolves(const crp_alert_set *s)
{
    return !(s->defects & CRP_DEFECT_ALERT_NEVER_RESOLVES);
}

int crp_alert_eval(crp_alert_set *s, double t, crp_alert_change *out, int max)
{
    int n = 0;
    for (int i = 0; i < s->nr; i++) {
        rule *r = &s->r[i];
        int idle;
        r->value = expr_value(s, r, t, &idle);
        /* A pending or firing ratio keeps its state through a window
         * without traffic: a lull of a second (a loaded machine, a stage
         * between batches) reset a pending error-ratio alert, and would
         * resolve a firing one, in the middle of an outage
         * (pipeline-alerts beside stress-ng, 1 seed in 20). */
        if (r->state != CRP_ALERT_INACTIVE && idle)
            continue;
        int h = holds(r, r->value), report = 0;
        switch (r->state) {
        case CRP_ALERT_INACTIVE:
            if (!h)
                break;
            r->since = t;
            r->state = CRP_ALERT_PENDING;
            if (!waits_for_for_s(s)) {
                r->state = CRP_ALERT_FIRING;
                report = 1;
                break;
            }
            /* for_s may be 0 */
            __attribute__((fallthrough));
        case CRP_ALERT_PENDING:
            if (!h)
                r->state = CRP_ALERT_INACTIVE;
            else if (t - r->since >= r->for_s - 1e-9) {
                r->state = CRP_ALERT_FIRING;
                report = 1;
            }
            break;
        case CRP_ALERT_FIRING:
            if (!h && resolves(s)) {
                r->state = CRP_ALERT_INACTIVE;
                report = 1;
            }
            break;
        }
        if (report && n < max)
            out[n] = (crp_alert_change){r->name, r->state, r->value,
                                        r->threshold, r->since};
        n += report;
    }
    return n;
}

int crp_alert_firing(const crp_alert_set *s)
{
    int n = 0;
    for (int i = 0; i < s->nr; i++)
        n += s->r[i].state == CRP_ALERT_FIRING;
    return n;
}

int crp_alert_count(const crp_alert_set *s)
{
    return s->nr;
}

const char *crp_alert_name(const crp_alert_set *s, int i)
{
    return i >= 0 && i < s->nr ? s->r[i].name : NULL;
}

int crp_alert_state(const crp_alert_set *s, int i)
{
    return i >= 0 && i < s->nr ? s->r[i].state : -1;
}

double crp_alert_value(const crp_alert_set *s, int i)
{
    return i >= 0 && i < s->nr ? s->r[i].value : NAN;
}

/* ---- webhook ---- */

#define HOOK_QUEUE 64

struct crp_alert_hook {
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    char url[512];
    int attempts, retry_ms, timeout_ms;
    char *q[HOOK_QUEUE];
    int qh, qn;
    _Atomic int stop; /* also read by the transfer's progress callback */
    long long sent, failed;
    char last_err[256];
};

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

/* Aborts a transfer in flight when the sender is stopped. */
static int on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return atomic_load(&((crp_alert_hook *)u)->stop) ? 1 : 0;
}

/* One POST: 0 on a 2xx answer, else -1 with the reason in why. */
static int post(crp_alert_hook *h, const char *payload, char *why, size_t n)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    int rc = -1;
    if (!c) {
        snprintf(why, n, "curl_easy_init failed");
        return -1;
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK)
        snprintf(why, n, "%s", curl_easy_strerror(cc));
    else if (code < 200 || code > 299)
        snprintf(why, n, "HTTP status %ld", code);
    else
        rc = 0;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}

static void *hook_thread(void *arg)
{
    crp_alert_hook *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        if (h->qn == 0) {
            pthread_cond_wait(&h->cv, &h->lock);
            continue;
        }
        char *p = h->q[h->qh];
        h->qh = (h->qh + 1) % HOOK_QUEUE;
        h->qn--;
        int ok = 0;
        char why[256] = "";
        for (int a = 1; a <= h->attempts && !h->stop && !ok; a++) {
            pthread_mutex_unlock(&h->lock);
            ok = post(h, p, why, sizeof why) == 0;
            pthread_mutex_lock(&h->lock);
            if (ok || a == h->attempts)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long ns =
                ts.tv_nsec + ((long long)h->retry_ms << (a - 1)) * 1000000LL;
            ts.tv_sec += (time_t)(ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            while (!h->stop &&
                   pthread_cond_timedwait(&h->cv, &h->lock, &ts) == 0)
                ; /* woken by a send: keep waiting out the delay */
        }
        if (ok) {
            h->sent++;
        } else {
            h->failed++;
            snprintf(h->last_err, sizeof h->last_err, "%s", why);
        }
        free(p);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

crp_alert_hook *crp_alert_hook_start(const char *url, int attempts,
                                     int retry_ms, int timeout_ms, char *err,
                                     size_t n)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, n, "webhook \"%s\": must be an http:// or https:// URL",
                 url);
        return NULL;
    }
    crp_alert_hook *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    snprintf(h->url, sizeof h->url, "%s", url);
    h->attempts = attempts < 1 ? 1 : attempts;
    h->retry_ms = retry_ms < 0 ? 0 : retry_ms;
    h->timeout_ms = timeout_ms < 1 ? 1 : timeout_ms;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, hook_thread, h) != 0) {
        snprintf(err, n, "webhook: cannot start its thread");
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    return h;
}

int crp_alert_hook_send(crp_alert_hook *h, const char *payload)
{
    char *p = strdup(payload);
    if (!p)
        return -1;
    pthread_mutex_lock(&h->lock);
    if (h->qn == HOOK_QUEUE) { /* full: drop the oldest */
        free(h->q[h->qh]);
        h->qh = (h->qh + 1) % HOOK_QUEUE;
        h->qn--;
        h->failed++;
        snprintf(h->last_err, sizeof h->last_err, "queue full: dropped");
    }
    h->q[(h->qh + h->qn) % HOOK_QUEUE] = p;
    h->qn++;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

void crp_alert_hook_stats(crp_alert_hook *h, long long *sent, long long *failed,
                          char *err, size_t n)
{
    pthread_mutex_lock(&h->lock);
    *sent = h->sent;
    *failed = h->failed;
    if (err && n)
        snprintf(err, n, "%s", h->last_err);
    pthread_mutex_unlock(&h->lock);
}

void crp_alert_hook_stop(crp_alert_hook *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->th, NULL);
    for (int i = 0; i < h->qn; i++)
        free(h->q[(h->qh + i) % HOOK_QUEUE]);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->lock);
    free(h);
    curl_global_cleanup();
}
