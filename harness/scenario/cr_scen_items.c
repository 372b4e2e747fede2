/* cr_scen_items: faults, probes and expectations of a scenario: the keys
 * they all share (scenarios/README.md, "Faults", "Probes",
 * "Expectations"), targets, state triggers and the cross-field timing rules;
 * each kind then validates its own keys in its parse function. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"
#include "cr_kinds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OCCURRENCES 10000

static const cr_param target_params[] = {
    {"service", "string", NULL, "service name"},
    {"replica", "integer|string", "all", "N, \"all\" or \"random\""},
    {NULL, NULL, NULL, NULL},
};

const cr_param *cr_scen__target_params(void)
{
    return target_params;
}

static const cr_param trigger_params[] = {
    {"ev", "string", NULL, "event name"},
    {"svc", "string", "any", "service that emitted it"},
    {"where", "object", "{}", "fields that must be equal"},
    {"count", "integer", "1", "fire on the count-th matching event"},
    {"delay_s", "number", "0", "delay after the event"},
    {NULL, NULL, NULL, NULL},
};

const cr_param *cr_scen__trigger_params(void)
{
    return trigger_params;
}

/* ---- targets ---------------------------------------------------------- */

int cr_target_parse(const char *s, cr_target *t)
{
    t->service = NULL;
    t->replica = CR_REPLICA_ALL;
    if (!s || !*s)
        return CR_EINVAL;
    const char *dot = strrchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (n == 0)
        return CR_EINVAL;
    if (dot) {
        const char *r = dot + 1;
        if (strcmp(r, "random") == 0) {
            t->replica = CR_REPLICA_RANDOM;
        } else if (strcmp(r, "all") == 0) {
            t->replica = CR_REPLICA_ALL;
        } else {
            if (!*r || strlen(r) > 6)
                return CR_EINVAL;
            for (const char *q = r; *q; q++)
                if (*q < '0' || *q > '9')
                    return CR_EINVAL;
            t->replica = atoi(r);
        }
    }
    t->service = cr_malloc(n + 1);
    if (!t->service)
        return CR_ENOMEM;
    memcpy(t->service, s, n);
    t->service[n] = '\0';
    return 0;
}

void cr_target_format(const cr_target *t, char *buf, size_t n)
{
    if (!t->service)
        snprintf(buf, n, "-");
    else if (t->replica == CR_REPLICA_ALL)
        snprintf(buf, n, "%s", t->service);
    else if (t->replica == CR_REPLICA_RANDOM)
        snprintf(buf, n, "%s.random", t->service);
    else
        snprintf(buf, n, "%s.%d", t->service, t->replica);
}

static void service_names(const cr_scen *sc, const char **names, size_t *n,
                          size_t max)
{
    *n = 0;
    for (size_t i = 0; i < sc->nsvcs && *n < max; i++)
        if (sc->svcs[i].name)
            names[(*n)++] = sc->svcs[i].name;
}

/* Target of a fault: string or object; checked against the services. */
void cr_scen__parse_target(cr_vctx *vx, const json_t *obj, const char *path,
                           cr_fault *f)
{
    char p[CR_PATH_MAX], hint[128];
    json_t *v = json_object_get(obj, "target");
    unsigned flags = f->ops ? f->ops->flags : 0;
    cr_path_key(p, sizeof p, path, "target");
    if (!v) {
        if (flags & CR_FAULT_NEEDS_SERVICE)
            cr_verr(vx, path,
                    "missing required key \"target\" (kind \"%s\" "
                    "acts on a service)",
                    f->ops->kind);
        return;
    }
    if (flags & CR_FAULT_NO_TARGET) {
        cr_verr_key(vx, p, "kind \"%s\" takes no \"target\"", f->ops->kind);
        return;
    }
    int rc;
    if (json_is_string(v)) {
        rc = cr_target_parse(json_string_value(v), &f->target);
        if (rc == CR_EINVAL)
            cr_verr(vx, p,
                    "invalid target \"%s\": write \"svc\", \"svc.N\" "
                    "or \"svc.random\"",
                    json_string_value(v));
        cr_scen__nomem_if(vx, rc);
        if (rc)
            return;
    } else if (json_is_object(v)) {
        const char *svc;
        if (cr_vkeys(vx, v, p, target_params, NULL) ||
            !cr_vrequire(vx, v, p, "service") ||
            cr_vstr(vx, v, p, "service", NULL, &svc) < 0)
            return;
        json_t *r = json_object_get(v, "replica");
        int replica = CR_REPLICA_ALL;
        char rp[CR_PATH_MAX];
        cr_path_key(rp, sizeof rp, p, "replica");
        if (json_is_string(r) && strcmp(json_string_value(r), "all") == 0) {
            replica = CR_REPLICA_ALL;
        } else if (json_is_string(r) &&
                   strcmp(json_string_value(r), "random") == 0) {
            replica = CR_REPLICA_RANDOM;
        } else if (r) {
            long long ll;
            if (!json_is_integer(r)) {
                cr_verr(vx, rp,
                        "must be a replica number, \"all\" or "
                        "\"random\" (got %s)",
                        json_is_string(r) ? json_string_value(r) : cr_jtype(r));
                return;
            }
            if (cr_vint(vx, v, p, "replica", 0, 63, 0, &ll) < 0)
                return;
            replica = (int)ll;
        }
        if (!(f->target.service = cr_strdup(svc))) {
            vx->nomem = 1;
            return;
        }
        f->target.replica = replica;
    } else {
        cr_verr(vx, p,
                "must be a string \"svc\", \"svc.N\", \"svc.random\" "
                "or an object {\"service\", \"replica\"} (got %s)",
                cr_jtype(v));
        return;
    }
    const cr_svc_spec *s = cr_scen_service(vx->sc, f->target.service);
    if (!s) {
        const char *names[64];
        size_t n;
        service_names(vx->sc, names, &n, 64);
        cr_verr(vx, p, "unknown service \"%s\"%s", f->target.service,
                cr_vhint(hint, sizeof hint, f->target.service, names, n));
    } else if (f->target.replica >= s->replicas) {
        char rp[CR_PATH_MAX];
        cr_path_key(rp, sizeof rp, p, "replica");
        cr_verr(vx, json_is_object(v) ? rp : p,
                "replica %d out of range: service \"%s\" has %d "
                "replica%s (0..%d)",
                f->target.replica, s->name, s->replicas,
                s->replicas == 1 ? "" : "s", s->replicas - 1);
    }
}

/* ---- faults ----------------------------------------------------------- */

static const cr_param ready_trigger_params[] = {
    {"svc", "string", NULL, "service or instance (\"queue\", \"queue.0\")"},
    {"count", "integer", "1",
     "fire when it became ready for the count-th time (1: start-up)"},
    {"delay_s", "number", "0", "delay after it became ready"},
    {NULL, NULL, NULL, NULL},
};

const cr_param *cr_scen__ready_trigger_params(void)
{
    return ready_trigger_params;
}

/* "on_event" or "on_ready": a state trigger instead of at_s. */
static void parse_trigger(cr_vctx *vx, const json_t *obj, const char *path,
                          cr_fault *f)
{
    char p[CR_PATH_MAX];
    json_t *ve = json_object_get(obj, "on_event");
    json_t *vr = json_object_get(obj, "on_ready");
    if (ve && json_is_null(ve))
        ve = NULL;
    if (vr && json_is_null(vr))
        vr = NULL;
    if (!ve && !vr)
        return;
    const char *key = ve ? "on_event" : "on_ready";
    json_t *v = ve ? ve : vr;
    cr_path_key(p, sizeof p, path, key);
    if (ve && vr) {
        char q[CR_PATH_MAX];
        cr_path_key(q, sizeof q, path, "on_ready");
        cr_verr_key(vx, q,
                    "\"on_ready\" cannot be combined with \"on_event\" "
                    "(a fault has one trigger)");
        return;
    }
    static const char *const excl[] = {"at_s", "every_s", "until_s"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(obj, excl[i])) {
            char q[CR_PATH_MAX];
            cr_path_key(q, sizeof q, path, excl[i]);
            cr_verr_key(vx, q,
                        "\"%s\" cannot be combined with \"%s\" "
                        "(a triggered fault starts when its %s)",
                        excl[i], key,
                        ve ? "event arrives" : "service becomes ready");
        }
    if (!json_is_object(v)) {
        if (ve)
            cr_verr(vx, p,
                    "must be an object {\"ev\", \"svc\", \"where\", "
                    "\"count\", \"delay_s\"} (got %s)",
                    cr_jtype(v));
        else
            cr_verr(vx, p,
                    "must be an object {\"svc\", \"count\", \"delay_s\"} "
                    "(got %s)",
                    cr_jtype(v));
        return;
    }
    cr_vkeys(vx, v, p, ve ? trigger_params : ready_trigger_params, NULL);
    cr_trigger *t = cr_calloc(1, sizeof *t);
    if (!t) {
        vx->nomem = 1;
        return;
    }
    long long count;
    int bad = 0;
    if (ve) {
        bad = cr_vmatch(vx, v, p, &t->match) != 0;
    } else {
        const char *svc = NULL;
        if (!cr_vrequire(vx, v, p, "svc") ||
            cr_vsvc_ref(vx, v, p, "svc", &svc) <= 0)
            bad = 1;
        else if (!(t->ready_svc = cr_strdup(svc))) {
            vx->nomem = 1;
            bad = 1;
        }
    }
    bad |= cr_vint(vx, v, p, "count", 1, 1000000, 1, &count) < 0;
    bad |= cr_vnum(vx, v, p, "delay_s", 0, CR_SCEN_MAX_DURATION, 0,
                   &t->delay_s) < 0;
    t->count = (int)count;
    if (bad) {
        cr_match_free(&t->match);
        cr_free(t->ready_svc);
        cr_free(t);
        return;
    }
    f->trigger = t;
}

/* The fault's kind: its operations, or an error listing the known kinds. */
static void fault_kind(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    char p[CR_PATH_MAX], hint[128];
    const char *kind = NULL;
    if (cr_vrequire(vx, obj, path, "kind") &&
        cr_vstr(vx, obj, path, "kind", NULL, &kind) > 0) {
        f->ops = cr_fault_lookup(kind);
        if (!f->ops) {
            const cr_fault_ops *const *all = cr_fault_all();
            const char *names[64];
            char list[512] = "";
            size_t n = 0, off = 0;
            for (; all[n] && n < 64; n++) {
                names[n] = all[n]->kind;
                off += (size_t)snprintf(
                    list + off, off < sizeof list ? sizeof list - off : 0,
                    "%s%s", n ? ", " : "", names[n]);
            }
            cr_path_key(p, sizeof p, path, "kind");
            cr_verr(vx, p, "unknown fault kind \"%s\"%s; known kinds: %s", kind,
                    cr_vhint(hint, sizeof hint, kind, names, n),
                    n ? list : "(none in this build)");
        }
    }
}

/* The fault's name (given, or "<kind>-<index>"), unique in the scenario. */
static void fault_name(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f, size_t idx)
{
    cr_scen *sc = vx->sc;
    char p[CR_PATH_MAX];
    const char *name = NULL;
    if (cr_vstr(vx, obj, path, "name", NULL, &name) > 0 &&
        !cr_scen__name_ok(name, 1)) {
        cr_path_key(p, sizeof p, path, "name");
        cr_verr(vx, p,
                "invalid fault name \"%s\": use letters, digits, '_', "
                "'.' and '-'",
                name);
    }
    f->name = name
                  ? cr_strdup(name)
                  : cr_asprintf("%s-%zu", f->ops ? f->ops->kind : "fault", idx);
    if (!f->name) {
        vx->nomem = 1;
    } else {
        size_t j = 0;
        int r = cr_names_put(&sc->index->faults, f->name, idx, &j);
        if (r == 1) {
            cr_path_key(p, sizeof p, path, "name");
            cr_verr(vx, p, "duplicate fault name \"%s\" (also %s)", f->name,
                    sc->faults[j].path);
        }
        cr_scen__nomem_if(vx, r);
    }
}

/* When the fault happens: at_s, for_s, every_s, until_s or a trigger,
 * the rules between them and the bound on occurrences. */
static void fault_times(cr_vctx *vx, const json_t *obj, const char *path,
                        cr_fault *f, double dur)
{
    char p[CR_PATH_MAX];
    int has_at = cr_vtime(vx, obj, path, "at_s", CR_SCEN_MAX_DURATION,
                          (cr_time){0, 0}, &f->at);
    int has_for =
        cr_vnum(vx, obj, path, "for_s", 0, CR_SCEN_MAX_DURATION, 0, &f->for_s);
    int has_every = cr_vnum(vx, obj, path, "every_s", 0, CR_SCEN_MAX_DURATION,
                            0, &f->every_s);
    int has_until = cr_vnum(vx, obj, path, "until_s", 0, CR_SCEN_MAX_DURATION,
                            dur, &f->until_s);
    parse_trigger(vx, obj, path, f);

    unsigned flags = f->ops ? f->ops->flags : 0;
    if ((flags & CR_FAULT_NEEDS_DURATION) && has_for >= 0 && f->for_s <= 0) {
        cr_path_key(p, sizeof p, path, "for_s");
        cr_verr(vx, has_for ? p : path,
                "kind \"%s\" needs \"for_s\" > 0 "
                "(how long the fault lasts)",
                f->ops->kind);
    }
    if ((flags & CR_FAULT_INSTANT) && has_for > 0 && f->for_s != 0) {
        cr_path_key(p, sizeof p, path, "for_s");
        cr_verr_key(vx, p, "kind \"%s\" is instantaneous: remove \"for_s\"",
                    f->ops->kind);
    }
    /* Cross-field rules, only between values that were valid. */
    if (!f->trigger && has_at >= 0 && has_for >= 0 &&
        f->at.hi + f->for_s > dur) {
        const char *k = has_at > 0 || has_for == 0 ? "at_s" : "for_s";
        cr_path_key(p, sizeof p, path, k);
        cr_verr(vx, p,
                "the fault would end at %g s (at_s %g + for_s %g), "
                "after duration_s (%g)",
                f->at.hi + f->for_s, f->at.hi, f->for_s, dur);
    }
    if (has_every > 0 && f->every_s > 0 && has_for >= 0 &&
        f->every_s <= f->for_s) {
        cr_path_key(p, sizeof p, path, "every_s");
        cr_verr(vx, p,
                "must be greater than for_s (%g) so that occurrences "
                "do not overlap (got %g)",
                f->for_s, f->every_s);
    }
    if (has_until > 0 && !f->trigger) {
        cr_path_key(p, sizeof p, path, "until_s");
        if (f->every_s <= 0 && has_every >= 0)
            cr_verr_key(vx, p,
                        "\"until_s\" only applies to a repeated fault "
                        "(every_s > 0)");
        else if (f->until_s > dur)
            cr_verr(vx, p, "must be <= duration_s (%g) (got %g)", dur,
                    f->until_s);
        else if (has_at >= 0 && f->until_s < f->at.hi)
            cr_verr(vx, p,
                    "must be >= %g, the latest start at_s allows "
                    "(got %g)",
                    f->at.hi, f->until_s);
    }
    /* Occurrences are bounded per fault and per scenario: the timeline
     * holds one start for each (10^5 faults of 10^4 occurrences would be
     * 10^9 starts). */
    double occ = f->trigger ? 0 : 1;
    if (f->every_s > 0 && has_until >= 0 && has_at >= 0 && !f->trigger &&
        isfinite(f->until_s)) {
        occ = floor((f->until_s - f->at.lo) / f->every_s) + 1;
        if (occ > MAX_OCCURRENCES) {
            cr_path_key(p, sizeof p, path, "every_s");
            cr_verr(vx, p, "would repeat the fault %.0f times (at most %d)",
                    occ, MAX_OCCURRENCES);
            occ = 0; /* reported once, here */
        }
    }
    vx->occurrences += occ;
    if (vx->occurrences > CR_SCEN_MAX_OCCURRENCES && !vx->occ_reported) {
        vx->occ_reported = 1;
        cr_path_key(p, sizeof p, path, "every_s");
        cr_verr(vx, f->every_s > 0 ? p : path,
                "with this fault the scenario plans %.0f fault occurrences "
                "(at most %d in a scenario)",
                vx->occurrences, CR_SCEN_MAX_OCCURRENCES);
    }
}

void cr_scen__parse_fault(cr_vctx *vx, const json_t *obj, size_t idx,
                          double dur)
{
    cr_fault *f = &vx->sc->faults[idx];
    char *path = f->path;
    cr_path_idx(path, sizeof f->path, "faults", idx);
    if (!json_is_object(obj)) {
        cr_verr(vx, path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    f->spec = json_incref((json_t *)obj);
    fault_kind(vx, obj, path, f);
    /* Without a kind, its own keys are unknown: only check known kinds. */
    if (f->ops)
        cr_vkeys(vx, obj, path, cr_fault_common_params, f->ops->params);
    fault_name(vx, obj, path, f, idx);
    const char *desc;
    cr_vstr(vx, obj, path, "description", NULL, &desc);
    cr_scen__parse_target(vx, obj, path, f);
    fault_times(vx, obj, path, f, dur);
    if (f->ops && f->ops->parse)
        cr_scen__nomem_if(vx, f->ops->parse(vx, obj, path, f));
}

/* ---- probes and expectations ------------------------------------------ */

static void unknown_kind(cr_vctx *vx, const char *path, const char *what,
                         const char *kind, const char **names, size_t n)
{
    char p[CR_PATH_MAX], hint[128], list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                                i ? ", " : "", names[i]);
    cr_path_key(p, sizeof p, path, "kind");
    cr_verr(vx, p, "unknown %s \"%s\"%s; known: %s", what, kind,
            cr_vhint(hint, sizeof hint, kind, names, n),
            n ? list : "(none in this build)");
}

/* Name: given or "<kind>-<idx>", unique among the names in `seen` (the
 * entries before idx); path_at names the first holder of a duplicate. */
static char *entry_name(cr_vctx *vx, const json_t *obj, const char *path,
                        const char *kind, size_t idx, const char *what,
                        cr_names *seen,
                        const char *(*path_at)(const cr_scen *, size_t))
{
    const char *name = NULL;
    char p[CR_PATH_MAX];
    cr_path_key(p, sizeof p, path, "name");
    if (cr_vstr(vx, obj, path, "name", NULL, &name) > 0 &&
        !cr_scen__name_ok(name, 1))
        cr_verr(vx, p,
                "invalid %s name \"%s\": use letters, digits, '_', "
                "'.' and '-'",
                what, name);
    char *s =
        name ? cr_strdup(name) : cr_asprintf("%s-%zu", kind ? kind : what, idx);
    if (!s) {
        vx->nomem = 1;
        return NULL;
    }
    size_t j = 0;
    int r = cr_names_put(seen, s, idx, &j);
    if (r == 1)
        cr_verr(vx, p, "duplicate %s name \"%s\" (also %s)", what, s,
                path_at(vx->sc, j));
    cr_scen__nomem_if(vx, r);
    return s;
}

static const char *probe_path_at(const cr_scen *sc, size_t i)
{
    return sc->probes[i].path;
}

static const char *expect_path_at(const cr_scen *sc, size_t i)
{
    return sc->expects[i].path;
}

static void parse_phases(cr_vctx *vx, const json_t *obj, const char *path,
                         cr_probe_spec *pr)
{
    static const char *const phases[] = {"before", "during", "after", NULL};
    char p[CR_PATH_MAX], q[CR_PATH_MAX], hint[128];
    json_t *v = json_object_get(obj, "phases");
    pr->phases = CR_PHASE_BEFORE | CR_PHASE_DURING | CR_PHASE_AFTER;
    if (!v)
        return;
    cr_path_key(p, sizeof p, path, "phases");
    if (!json_is_array(v) || json_array_size(v) == 0) {
        cr_verr(vx, p,
                "must be a non-empty array of \"before\", \"during\", "
                "\"after\" (got %s)",
                json_is_array(v) ? "an empty array" : cr_jtype(v));
        return;
    }
    unsigned mask = 0;
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        cr_path_idx(q, sizeof q, p, i);
        int k = -1;
        for (int j = 0; phases[j] && json_is_string(e); j++)
            if (strcmp(phases[j], json_string_value(e)) == 0)
                k = j;
        if (k < 0)
            cr_verr(vx, q,
                    "unknown phase %s%s%s%s; expected one of: before, "
                    "during, after",
                    json_is_string(e) ? "\"" : "(",
                    json_is_string(e) ? json_string_value(e) : cr_jtype(e),
                    json_is_string(e) ? "\"" : ")",
                    json_is_string(e)
                        ? cr_vhint(hint, sizeof hint, json_string_value(e),
                                   phases, 3)
                        : "");
        else if (mask & (1u << k))
            cr_verr(vx, q, "phase \"%s\" listed twice", phases[k]);
        else
            mask |= 1u << k;
    }
    if (mask)
        pr->phases = mask;
}

void cr_scen__parse_probe(cr_vctx *vx, const json_t *obj, size_t idx)
{
    cr_probe_spec *pr = &vx->sc->probes[idx];
    const char *kind = NULL;
    cr_path_idx(pr->path, sizeof pr->path, "steady_state", idx);
    pr->interval_s = 1;
    pr->timeout_s = 2;
    pr->phases = CR_PHASE_BEFORE | CR_PHASE_DURING | CR_PHASE_AFTER;
    if (!json_is_object(obj)) {
        cr_verr(vx, pr->path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    pr->spec = json_incref((json_t *)obj);
    if (cr_vrequire(vx, obj, pr->path, "kind") &&
        cr_vstr(vx, obj, pr->path, "kind", NULL, &kind) > 0) {
        pr->ops = cr_probe_lookup(kind);
        if (!pr->ops) {
            const cr_probe_ops *const *all = cr_probe_all();
            const char *names[64];
            size_t n = 0;
            for (; all[n] && n < 64; n++)
                names[n] = all[n]->kind;
            unknown_kind(vx, pr->path, "probe kind", kind, names, n);
        }
    }
    if (pr->ops)
        cr_vkeys(vx, obj, pr->path, cr_probe_common_params, pr->ops->params);
    pr->name = entry_name(vx, obj, pr->path, pr->ops ? kind : NULL, idx,
                          "probe", &vx->probes, probe_path_at);
    parse_phases(vx, obj, pr->path, pr);
    cr_vnum(vx, obj, pr->path, "interval_s", 0.001, 3600, 1, &pr->interval_s);
    cr_vnum(vx, obj, pr->path, "timeout_s", 0.001, 3600, 2, &pr->timeout_s);
    const char *host = NULL;
    if (cr_vstr(vx, obj, pr->path, "from_host", NULL, &host) > 0) {
        char hp[CR_PATH_MAX];
        cr_path_key(hp, sizeof hp, pr->path, "from_host");
        if (!cr_scen__host_declared(vx, host))
            cr_verr(vx, hp, "unknown host \"%s\" (not in the hosts section)",
                    host);
        else if (!(pr->host = cr_strdup(host)))
            vx->nomem = 1;
    }
    if (pr->ops && pr->ops->parse)
        cr_scen__nomem_if(vx, pr->ops->parse(vx, obj, pr->path, pr));
}

void cr_scen__parse_expect(cr_vctx *vx, const json_t *obj, size_t idx)
{
    cr_expect *x = &vx->sc->expects[idx];
    const char *kind = NULL, *desc;
    long long ll;
    cr_path_idx(x->path, sizeof x->path, "expect", idx);
    x->min_samples = 1;
    if (!json_is_object(obj)) {
        cr_verr(vx, x->path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    x->spec = json_incref((json_t *)obj);
    if (cr_vrequire(vx, obj, x->path, "kind") &&
        cr_vstr(vx, obj, x->path, "kind", NULL, &kind) > 0) {
        x->ops = cr_check_lookup(kind);
        if (!x->ops) {
            const cr_check_ops *const *all = cr_check_all();
            const char *names[64];
            size_t n = 0;
            for (; all[n] && n < 64; n++)
                names[n] = all[n]->kind;
            unknown_kind(vx, x->path, "checker", kind, names, n);
        }
    }
    if (x->ops)
        cr_vkeys(vx, obj, x->path, cr_expect_common_params, x->ops->params);
    x->name = entry_name(vx, obj, x->path, x->ops ? kind : NULL, idx,
                         "expectation", &vx->expects, expect_path_at);
    cr_vstr(vx, obj, x->path, "description", NULL, &desc);
    if (cr_vint(vx, obj, x->path, "min_samples", 0, 1000000000, 1, &ll) >= 0)
        x->min_samples = (int)ll;
    if (x->ops && x->ops->parse)
        cr_scen__nomem_if(vx, x->ops->parse(vx, obj, x->path, x));
}
