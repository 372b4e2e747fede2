/* cr_scen: loading a scenario (see cr_scen.h and scenarios/README.md).
 *
 * jansson parses the text (syntax errors and duplicate keys are reported
 * at jansson's position), cr_jpos maps every path to a line and column,
 * then each section is validated in order: top-level keys, services (first,
 * so that everything else can refer to them), extra sections, probes,
 * faults, expectations.  Every problem is collected; the scenario is handed
 * out only when there was none.  Kind-specific keys are validated by the
 * kinds' parse functions after the loader rejected unknown keys. */
#include "cr_scen_internal.h"

#include "cr_alloc.h"
#include "cr_check.h"
#include "cr_fault.h"
#include "cr_probe.h"
#include "cr_rng.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DURATION 86400.0
#define MAX_OCCURRENCES 10000
#define SEED_MAX (1LL << 53)

static const cr_param top_params[] = {
    {"name", "string", NULL, "scenario name: letters, digits, '_', '.', '-'"},
    {"description", "string", "\"\"", "free text shown in reports"},
    {"seed", "integer", "drawn", "seed of every random decision, 0..2^53"},
    {"duration_s", "number", NULL, "length of the fault timeline after t0"},
    {"drain_s", "number", "2", "quiet time after duration_s before the after-probes"},
    {"services", "array", NULL, "the processes of the system under test"},
    {"steady_state", "array", "[]", "probes"},
    {"faults", "array", "[]", "faults"},
    {"expect", "array", "[]", "expectations"},
    {NULL, NULL, NULL, NULL},
};

static const cr_param svc_params[] = {
    {"name", "string", NULL, "unique, [a-z0-9_-]+"},
    {"cmd", "array", NULL, "argv, never passed through a shell"},
    {"env", "object", "{}", "extra environment"},
    {"cwd", "string", "chaosrun's cwd", "working directory"},
    {"replicas", "integer", "1", "number of instances, 1..64"},
    {"port", "integer", "none", "port of replica 0 (replica i: port + i)"},
    {"host", "string", "none", "network host of the hosts section"},
    {"ready", "object", "none", "readiness check"},
    {"stop_signal", "signal", "SIGTERM", "graceful stop signal"},
    {"stop_timeout_s", "number", "5", "SIGKILL after this"},
    {"restart", "string", "never", "never, on-failure, always"},
    {"restart_delay_s", "number", "0.2", "delay before a restart"},
    {"max_restarts", "integer", "10", "-1: unlimited"},
    {NULL, NULL, NULL, NULL},
};

static const cr_param ready_params[] = {
    {"kind", "string", NULL, "tcp, http, exec or log"},
    {"port", "integer", "service port", "tcp"},
    {"host", "string", "127.0.0.1", "tcp"},
    {"url", "string", NULL, "http"},
    {"status", "integer", "200", "http"},
    {"cmd", "array", NULL, "exec"},
    {"regex", "string", NULL, "log"},
    {"timeout_s", "number", "10", "give up after"},
    {"interval_s", "number", "0.05", "poll period"},
    {NULL, NULL, NULL, NULL},
};

static const cr_param target_params[] = {
    {"service", "string", NULL, "service name"},
    {"replica", "integer|string", "all", "N, \"all\" or \"random\""},
    {NULL, NULL, NULL, NULL},
};

static const cr_param trigger_params[] = {
    {"ev", "string", NULL, "event name"},
    {"svc", "string", "any", "service that emitted it"},
    {"where", "object", "{}", "fields that must be equal"},
    {"count", "integer", "1", "fire on the count-th matching event"},
    {"delay_s", "number", "0", "delay after the event"},
    {NULL, NULL, NULL, NULL},
};

/* ---- small helpers ---------------------------------------------------- */

static int name_ok(const char *s, int upper_dot)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
            c == '-')
            continue;
        if (upper_dot && ((c >= 'A' && c <= 'Z') || c == '.'))
            continue;
        return 0;
    }
    return 1;
}

static void nomem_if(cr_vctx *vx, int rc)
{
    if (rc == CR_ENOMEM)
        vx->nomem = 1;
}

/* Copy of an expanded string member; 1 present, 0 absent, -1 invalid. */
static int vstr_expand(cr_vctx *vx, const json_t *obj, const char *path,
                       const char *key, char **out)
{
    const char *s;
    char p[CR_PATH_MAX];
    *out = NULL;
    int r = cr_vstr(vx, obj, path, key, NULL, &s);
    if (r <= 0)
        return r;
    cr_path_key(p, sizeof p, path, key);
    return cr_vexpand(vx, p, s, out) ? -1 : 1;
}

static void argv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        cr_free(v[i]);
    cr_free(v);
}

/* A non-empty array of strings, expanded, as a NULL-terminated argv. */
static int vargv(cr_vctx *vx, const json_t *obj, const char *path,
                 const char *key, char ***out)
{
    char p[CR_PATH_MAX], q[CR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    char **argv = NULL;
    int bad = 0;
    *out = NULL;
    if (!v)
        return 0;
    cr_path_key(p, sizeof p, path, key);
    if (!json_is_array(v) || json_array_size(v) == 0) {
        cr_verr(vx, p, "must be a non-empty array of strings (got %s)",
                json_is_array(v) ? "an empty array" : cr_jtype(v));
        return -1;
    }
    size_t n = json_array_size(v);
    argv = cr_calloc(n + 1, sizeof *argv);
    if (!argv) {
        vx->nomem = 1;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        cr_path_idx(q, sizeof q, p, i);
        if (!json_is_string(e)) {
            cr_verr(vx, q, "must be a string (got %s)", cr_jtype(e));
            bad = 1;
        } else if (!bad && cr_vexpand(vx, q, json_string_value(e),
                                      &argv[i])) {
            bad = 1;
        }
        if (bad) {
            /* Keep checking the other elements, but stop collecting. */
            for (size_t k = 0; k < n; k++) {
                cr_free(argv[k]);
                argv[k] = NULL;
            }
        }
    }
    if (!bad && argv[0][0] == '\0') {
        cr_path_idx(q, sizeof q, p, 0);
        cr_verr(vx, q, "the program name must not be empty");
        bad = 1;
    }
    if (bad) {
        argv_free(argv);
        return -1;
    }
    *out = argv;
    return 1;
}

/* ---- services --------------------------------------------------------- */

static void svc_free(cr_svc_spec *s)
{
    cr_free(s->name);
    argv_free(s->argv);
    argv_free(s->env);
    cr_free(s->cwd);
    cr_free(s->host);
    cr_free(s->ready.host);
    cr_free(s->ready.url);
    argv_free(s->ready.argv);
    cr_free(s->ready.regex);
}

static void parse_ready(cr_vctx *vx, const json_t *svcobj,
                        const char *svcpath, cr_svc_spec *s)
{
    static const char *const kinds[] = {"tcp", "http", "exec", "log", NULL};
    /* Keys each kind uses besides kind, timeout_s and interval_s. */
    static const char *const uses[][3] = {
        {"port", "host", NULL}, {"url", "status", NULL}, {"cmd", NULL, NULL},
        {"regex", NULL, NULL}};
    char path[CR_PATH_MAX], p[CR_PATH_MAX];
    s->ready.timeout_s = 10;
    s->ready.interval_s = 0.05;
    json_t *obj = json_object_get(svcobj, "ready");
    if (!obj)
        return;
    cr_path_key(path, sizeof path, svcpath, "ready");
    if (!json_is_object(obj)) {
        cr_verr(vx, path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    cr_vkeys(vx, obj, path, ready_params, NULL);
    cr_vnum(vx, obj, path, "timeout_s", 0.001, 3600, 10, &s->ready.timeout_s);
    cr_vnum(vx, obj, path, "interval_s", 0.001, 60, 0.05,
            &s->ready.interval_s);
    int kind;
    if (!cr_vrequire(vx, obj, path, "kind") ||
        cr_venum(vx, obj, path, "kind", kinds, 0, &kind) < 0)
        return;
    s->ready.kind = CR_READY_TCP + kind;
    /* Keys of another kind are mistakes, not silently ignored. */
    static const char *const all[] = {"port", "host", "url", "status", "cmd",
                                      "regex"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int used = 0;
        for (size_t k = 0; k < 3 && uses[kind][k]; k++)
            used |= strcmp(uses[kind][k], all[i]) == 0;
        if (!used && json_object_get(obj, all[i])) {
            cr_path_key(p, sizeof p, path, all[i]);
            cr_verr_key(vx, p, "\"%s\" is not used by a %s check", all[i],
                        kinds[kind]);
        }
    }
    const char *str;
    long long ll;
    switch (s->ready.kind) {
    case CR_READY_TCP:
        if (cr_vint(vx, obj, path, "port", 1, 65535, s->port, &ll) == 0 &&
            !s->port)
            cr_verr(vx, path, "a tcp check needs \"port\" (the service has "
                    "no port)");
        s->ready.port = (int)ll;
        if (cr_vstr(vx, obj, path, "host", "127.0.0.1", &str) >= 0 &&
            !(s->ready.host = cr_strdup(str)))
            vx->nomem = 1;
        break;
    case CR_READY_HTTP:
        if (cr_vrequire(vx, obj, path, "url"))
            vstr_expand(vx, obj, path, "url", &s->ready.url);
        cr_vint(vx, obj, path, "status", 100, 599, 200, &ll);
        s->ready.status = (int)ll;
        break;
    case CR_READY_EXEC:
        if (cr_vrequire(vx, obj, path, "cmd"))
            vargv(vx, obj, path, "cmd", &s->ready.argv);
        break;
    case CR_READY_LOG:
        if (cr_vrequire(vx, obj, path, "regex") &&
            cr_vstr(vx, obj, path, "regex", NULL, &str) > 0) {
            regex_t re;
            int rc = regcomp(&re, str, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                char msg[160];
                regerror(rc, &re, msg, sizeof msg);
                cr_path_key(p, sizeof p, path, "regex");
                cr_verr(vx, p, "invalid regular expression \"%s\": %s", str,
                        msg);
            } else {
                regfree(&re);
                if (!(s->ready.regex = cr_strdup(str)))
                    vx->nomem = 1;
            }
        }
        break;
    }
}

static void parse_env(cr_vctx *vx, const json_t *svcobj, const char *svcpath,
                      cr_svc_spec *s)
{
    char path[CR_PATH_MAX], p[CR_PATH_MAX];
    json_t *obj = json_object_get(svcobj, "env");
    if (!obj)
        return;
    cr_path_key(path, sizeof path, svcpath, "env");
    if (!json_is_object(obj)) {
        cr_verr(vx, path, "must be an object of NAME -> string (got %s)",
                cr_jtype(obj));
        return;
    }
    s->env = cr_calloc(json_object_size(obj) + 1, sizeof *s->env);
    if (!s->env) {
        vx->nomem = 1;
        return;
    }
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char *val = NULL;
        cr_path_key(p, sizeof p, path, k);
        if (!*k || strchr(k, '=')) {
            cr_verr_key(vx, p, "invalid variable name \"%s\"", k);
            continue;
        }
        if (!json_is_string(v)) {
            cr_verr(vx, p, "must be a string (got %s)", cr_jtype(v));
            continue;
        }
        if (cr_vexpand(vx, p, json_string_value(v), &val))
            continue;
        s->env[n] = cr_asprintf("%s=%s", k, val);
        cr_free(val);
        if (!s->env[n])
            vx->nomem = 1;
        else
            n++;
    }
}

static void parse_service(cr_vctx *vx, const json_t *obj, size_t idx)
{
    static const char *const restarts[] = {"never", "on-failure", "always",
                                           NULL};
    cr_scen *sc = vx->sc;
    cr_svc_spec *s = &sc->svcs[idx];
    char *path = s->path, p[CR_PATH_MAX];
    const char *str;
    long long ll;
    cr_path_idx(path, sizeof s->path, "services", idx);
    s->replicas = 1;
    s->stop_signal = SIGTERM;
    s->stop_timeout_s = 5;
    s->restart_delay_s = 0.2;
    s->max_restarts = 10;
    s->ready.timeout_s = 10;
    s->ready.interval_s = 0.05;
    if (!json_is_object(obj)) {
        cr_verr(vx, path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    cr_vkeys(vx, obj, path, svc_params, NULL);
    if (cr_vrequire(vx, obj, path, "name") &&
        cr_vstr(vx, obj, path, "name", NULL, &str) > 0) {
        cr_path_key(p, sizeof p, path, "name");
        if (!name_ok(str, 0)) {
            cr_verr(vx, p, "invalid service name \"%s\": use lower-case "
                    "letters, digits, '_' and '-'", str);
        } else {
            for (size_t j = 0; j < idx; j++)
                if (sc->svcs[j].name && strcmp(sc->svcs[j].name, str) == 0) {
                    cr_verr(vx, p, "duplicate service name \"%s\" (also "
                            "%s)", str, sc->svcs[j].path);
                    str = NULL;
                    break;
                }
            if (str && !(s->name = cr_strdup(str)))
                vx->nomem = 1;
        }
    }
    if (cr_vrequire(vx, obj, path, "cmd"))
        vargv(vx, obj, path, "cmd", &s->argv);
    parse_env(vx, obj, path, s);
    vstr_expand(vx, obj, path, "cwd", &s->cwd);
    if (cr_vint(vx, obj, path, "replicas", 1, 64, 1, &ll) >= 0)
        s->replicas = (int)ll;
    if (cr_vint(vx, obj, path, "port", 1, 65535, 0, &ll) > 0) {
        s->port = (int)ll;
        if (s->port + s->replicas - 1 > 65535) {
            cr_path_key(p, sizeof p, path, "port");
            cr_verr(vx, p, "port %d + %d replicas goes beyond 65535",
                    s->port, s->replicas);
        }
    }
    if (cr_vstr(vx, obj, path, "host", NULL, &str) > 0 &&
        !(s->host = cr_strdup(str)))
        vx->nomem = 1;
    parse_ready(vx, obj, path, s);
    cr_vsignal(vx, obj, path, "stop_signal", SIGTERM, &s->stop_signal);
    cr_vnum(vx, obj, path, "stop_timeout_s", 0, 3600, 5, &s->stop_timeout_s);
    cr_venum(vx, obj, path, "restart", restarts, CR_RESTART_NEVER,
             &s->restart);
    cr_vnum(vx, obj, path, "restart_delay_s", 0, 3600, 0.2,
            &s->restart_delay_s);
    if (cr_vint(vx, obj, path, "max_restarts", -1, 1000000, 10, &ll) >= 0)
        s->max_restarts = (int)ll;
}

/* A service's "host" must name a host of the hosts section.  The section
 * belongs to the network module; its document is either an object keyed
 * by host name or an array of objects with a "name". */
static int host_declared(const json_t *hosts, const char *name)
{
    if (json_is_object(hosts))
        return json_object_get(hosts, name) != NULL;
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
    {
        if (json_is_string(h) && strcmp(json_string_value(h), name) == 0)
            return 1; /* "hosts": ["h1", ...] */
        json_t *n = json_object_get(h, "name");
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return 1;
    }
    return 0;
}

static void check_hosts(cr_vctx *vx, const json_t *root)
{
    const json_t *hosts = json_object_get(root, "hosts");
    char p[CR_PATH_MAX];
    for (size_t i = 0; i < vx->sc->nsvcs; i++) {
        cr_svc_spec *s = &vx->sc->svcs[i];
        if (!s->host)
            continue;
        cr_path_key(p, sizeof p, s->path, "host");
        if (!hosts && !vx->sc->hosts)
            cr_verr(vx, p, "service %s is placed on host %s but the "
                    "scenario declares no hosts", s->name ? s->name : "?",
                    s->host);
        else if (hosts && !host_declared(hosts, s->host))
            cr_verr(vx, p, "unknown host \"%s\" (not in the hosts section)",
                    s->host);
    }
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
static void parse_target(cr_vctx *vx, const json_t *obj, const char *path,
                         cr_fault *f)
{
    char p[CR_PATH_MAX], hint[128];
    json_t *v = json_object_get(obj, "target");
    unsigned flags = f->ops ? f->ops->flags : 0;
    cr_path_key(p, sizeof p, path, "target");
    if (!v) {
        if (flags & CR_FAULT_NEEDS_SERVICE)
            cr_verr(vx, path, "missing required key \"target\" (kind \"%s\" "
                    "acts on a service)", f->ops->kind);
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
            cr_verr(vx, p, "invalid target \"%s\": write \"svc\", \"svc.N\" "
                    "or \"svc.random\"", json_string_value(v));
        nomem_if(vx, rc);
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
                cr_verr(vx, rp, "must be a replica number, \"all\" or "
                        "\"random\" (got %s)", json_is_string(r) ?
                        json_string_value(r) : cr_jtype(r));
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
        cr_verr(vx, p, "must be a string \"svc\", \"svc.N\", \"svc.random\" "
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
        cr_verr(vx, p, "replica %d out of range: service \"%s\" has %d "
                "replica%s (0..%d)", f->target.replica, s->name, s->replicas,
                s->replicas == 1 ? "" : "s", s->replicas - 1);
    }
}

/* ---- faults ----------------------------------------------------------- */

static void parse_trigger(cr_vctx *vx, const json_t *obj, const char *path,
                          cr_fault *f)
{
    char p[CR_PATH_MAX];
    json_t *v = json_object_get(obj, "on_event");
    if (!v || json_is_null(v))
        return;
    cr_path_key(p, sizeof p, path, "on_event");
    static const char *const excl[] = {"at_s", "every_s", "until_s"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(obj, excl[i])) {
            char q[CR_PATH_MAX];
            cr_path_key(q, sizeof q, path, excl[i]);
            cr_verr_key(vx, q, "\"%s\" cannot be combined with \"on_event\" "
                        "(a triggered fault starts when its event arrives)",
                        excl[i]);
        }
    if (!json_is_object(v)) {
        cr_verr(vx, p, "must be an object {\"ev\", \"svc\", \"where\", "
                "\"count\", \"delay_s\"} (got %s)", cr_jtype(v));
        return;
    }
    cr_vkeys(vx, v, p, trigger_params, NULL);
    cr_trigger *t = cr_calloc(1, sizeof *t);
    if (!t) {
        vx->nomem = 1;
        return;
    }
    long long count;
    int bad = cr_vmatch(vx, v, p, &t->match) != 0;
    bad |= cr_vint(vx, v, p, "count", 1, 1000000, 1, &count) < 0;
    bad |= cr_vnum(vx, v, p, "delay_s", 0, MAX_DURATION, 0, &t->delay_s) < 0;
    t->count = (int)count;
    if (bad) {
        cr_match_free(&t->match);
        cr_free(t);
        return;
    }
    f->trigger = t;
}

static void parse_fault(cr_vctx *vx, const json_t *obj, size_t idx,
                        double dur)
{
    cr_scen *sc = vx->sc;
    cr_fault *f = &sc->faults[idx];
    char *path = f->path, p[CR_PATH_MAX], hint[128];
    const char *kind = NULL, *name = NULL;
    cr_path_idx(path, sizeof f->path, "faults", idx);
    if (!json_is_object(obj)) {
        cr_verr(vx, path, "must be an object (got %s)", cr_jtype(obj));
        return;
    }
    f->spec = json_incref((json_t *)obj);
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
                off += (size_t)snprintf(list + off, off < sizeof list ?
                                        sizeof list - off : 0, "%s%s",
                                        n ? ", " : "", names[n]);
            }
            cr_path_key(p, sizeof p, path, "kind");
            cr_verr(vx, p, "unknown fault kind \"%s\"%s; known kinds: %s",
                    kind, cr_vhint(hint, sizeof hint, kind, names, n),
                    n ? list : "(none in this build)");
        }
    }
    /* Without a kind, its own keys are unknown: only check known kinds. */
    if (f->ops)
        cr_vkeys(vx, obj, path, cr_fault_common_params, f->ops->params);
    if (cr_vstr(vx, obj, path, "name", NULL, &name) > 0 && !name_ok(name, 1)) {
        cr_path_key(p, sizeof p, path, "name");
        cr_verr(vx, p, "invalid fault name \"%s\": use letters, digits, '_', "
                "'.' and '-'", name);
    }
    f->name = name ? cr_strdup(name)
                   : cr_asprintf("%s-%zu", f->ops ? f->ops->kind : "fault",
                                 idx);
    if (!f->name) {
        vx->nomem = 1;
    } else {
        for (size_t j = 0; j < idx; j++)
            if (sc->faults[j].name && strcmp(sc->faults[j].name, f->name) == 0) {
                cr_path_key(p, sizeof p, path, "name");
                cr_verr(vx, p, "duplicate fault name \"%s\" (also %s)",
                        f->name, sc->faults[j].path);
                break;
            }
    }
    const char *desc;
    cr_vstr(vx, obj, path, "description", NULL, &desc);
    parse_target(vx, obj, path, f);

    int has_at = cr_vtime(vx, obj, path, "at_s", MAX_DURATION,
                          (cr_time){0, 0}, &f->at);
    int has_for = cr_vnum(vx, obj, path, "for_s", 0, MAX_DURATION, 0,
                          &f->for_s);
    int has_every = cr_vnum(vx, obj, path, "every_s", 0, MAX_DURATION, 0,
                            &f->every_s);
    int has_until = cr_vnum(vx, obj, path, "until_s", 0, MAX_DURATION, dur,
                            &f->until_s);
    parse_trigger(vx, obj, path, f);

    unsigned flags = f->ops ? f->ops->flags : 0;
    if ((flags & CR_FAULT_NEEDS_DURATION) && has_for >= 0 && f->for_s <= 0) {
        cr_path_key(p, sizeof p, path, "for_s");
        cr_verr(vx, has_for ? p : path, "kind \"%s\" needs \"for_s\" > 0 "
                "(how long the fault lasts)", f->ops->kind);
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
        cr_verr(vx, p, "the fault would end at %g s (at_s %g + for_s %g), "
                "after duration_s (%g)", f->at.hi + f->for_s, f->at.hi,
                f->for_s, dur);
    }
    if (has_every > 0 && f->every_s > 0 && has_for >= 0 &&
        f->every_s <= f->for_s) {
        cr_path_key(p, sizeof p, path, "every_s");
        cr_verr(vx, p, "must be greater than for_s (%g) so that occurrences "
                "do not overlap (got %g)", f->for_s, f->every_s);
    }
    if (has_until > 0 && !f->trigger) {
        cr_path_key(p, sizeof p, path, "until_s");
        if (f->every_s <= 0 && has_every >= 0)
            cr_verr_key(vx, p, "\"until_s\" only applies to a repeated fault "
                        "(every_s > 0)");
        else if (f->until_s > dur)
            cr_verr(vx, p, "must be <= duration_s (%g) (got %g)", dur,
                    f->until_s);
        else if (has_at >= 0 && f->until_s < f->at.hi)
            cr_verr(vx, p, "must not be before at_s (%g) (got %g)", f->at.hi,
                    f->until_s);
    }
    if (f->every_s > 0 && has_until >= 0 && has_at >= 0 && !f->trigger &&
        isfinite(f->until_s) &&
        (f->until_s - f->at.lo) / f->every_s + 1 > MAX_OCCURRENCES) {
        cr_path_key(p, sizeof p, path, "every_s");
        cr_verr(vx, p, "would repeat the fault %.0f times (at most %d)",
                floor((f->until_s - f->at.lo) / f->every_s) + 1,
                MAX_OCCURRENCES);
    }
    if (f->ops && f->ops->parse)
        nomem_if(vx, f->ops->parse(vx, obj, path, f));
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

/* Name: given or "<kind>-<idx>", unique among names[0..idx). */
static char *entry_name(cr_vctx *vx, const json_t *obj, const char *path,
                        const char *kind, size_t idx, const char *what,
                        char *(*name_at)(const cr_scen *, size_t),
                        const char *(*path_at)(const cr_scen *, size_t))
{
    const char *name = NULL;
    char p[CR_PATH_MAX];
    cr_path_key(p, sizeof p, path, "name");
    if (cr_vstr(vx, obj, path, "name", NULL, &name) > 0 && !name_ok(name, 1))
        cr_verr(vx, p, "invalid %s name \"%s\": use letters, digits, '_', "
                "'.' and '-'", what, name);
    char *s = name ? cr_strdup(name)
                   : cr_asprintf("%s-%zu", kind ? kind : what, idx);
    if (!s) {
        vx->nomem = 1;
        return NULL;
    }
    for (size_t j = 0; j < idx; j++) {
        const char *o = name_at(vx->sc, j);
        if (o && strcmp(o, s) == 0) {
            cr_verr(vx, p, "duplicate %s name \"%s\" (also %s)", what, s,
                    path_at(vx->sc, j));
            break;
        }
    }
    return s;
}

static char *probe_name_at(const cr_scen *sc, size_t i)
{
    return sc->probes[i].name;
}

static const char *probe_path_at(const cr_scen *sc, size_t i)
{
    return sc->probes[i].path;
}

static char *expect_name_at(const cr_scen *sc, size_t i)
{
    return sc->expects[i].name;
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
        cr_verr(vx, p, "must be a non-empty array of \"before\", \"during\", "
                "\"after\" (got %s)", json_is_array(v) ? "an empty array" :
                cr_jtype(v));
        return;
    }
    unsigned mask = 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        cr_path_idx(q, sizeof q, p, i);
        int k = -1;
        for (int j = 0; phases[j] && json_is_string(e); j++)
            if (strcmp(phases[j], json_string_value(e)) == 0)
                k = j;
        if (k < 0)
            cr_verr(vx, q, "unknown phase %s%s%s%s; expected one of: before, "
                    "during, after", json_is_string(e) ? "\"" : "(",
                    json_is_string(e) ? json_string_value(e) : cr_jtype(e),
                    json_is_string(e) ? "\"" : ")", json_is_string(e) ?
                    cr_vhint(hint, sizeof hint, json_string_value(e),
                             phases, 3) : "");
        else if (mask & (1u << k))
            cr_verr(vx, q, "phase \"%s\" listed twice", phases[k]);
        else
            mask |= 1u << k;
    }
    if (mask)
        pr->phases = mask;
}

static void parse_probe(cr_vctx *vx, const json_t *obj, size_t idx)
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
                          "probe", probe_name_at, probe_path_at);
    parse_phases(vx, obj, pr->path, pr);
    cr_vnum(vx, obj, pr->path, "interval_s", 0.001, 3600, 1, &pr->interval_s);
    cr_vnum(vx, obj, pr->path, "timeout_s", 0.001, 3600, 2, &pr->timeout_s);
    if (pr->ops && pr->ops->parse)
        nomem_if(vx, pr->ops->parse(vx, obj, pr->path, pr));
}

static void parse_expect(cr_vctx *vx, const json_t *obj, size_t idx)
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
                         "expectation", expect_name_at, expect_path_at);
    cr_vstr(vx, obj, x->path, "description", NULL, &desc);
    if (cr_vint(vx, obj, x->path, "min_samples", 0, 1000000000, 1, &ll) >= 0)
        x->min_samples = (int)ll;
    if (x->ops && x->ops->parse)
        nomem_if(vx, x->ops->parse(vx, obj, x->path, x));
}

/* ---- the document ----------------------------------------------------- */

/* An array section: allocates *v with n zeroed entries and parses each. */
static void parse_array(cr_vctx *vx, const json_t *root, const char *key,
                        int required, void **v, size_t *n, size_t elem,
                        void (*each)(cr_vctx *, const json_t *, size_t,
                                     double),
                        double dur)
{
    json_t *a = json_object_get(root, key);
    if (!a) {
        if (required)
            cr_vrequire(vx, root, "", key);
        return;
    }
    if (!json_is_array(a) || (required && json_array_size(a) == 0)) {
        cr_verr(vx, key, "must be a%s array (got %s)",
                required ? " non-empty" : "n",
                json_is_array(a) ? "an empty array" : cr_jtype(a));
        return;
    }
    if (json_array_size(a) == 0)
        return;
    *v = cr_calloc(json_array_size(a), elem);
    if (!*v) {
        vx->nomem = 1;
        return;
    }
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++)
        each(vx, json_array_get(a, i), i, dur);
}

static void each_service(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    parse_service(vx, o, i);
}

static void each_probe(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    parse_probe(vx, o, i);
}

static void each_fault(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    parse_fault(vx, o, i, d);
}

static void each_expect(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    parse_expect(vx, o, i);
}

static void parse_doc(cr_vctx *vx, const json_t *root)
{
    cr_scen *sc = vx->sc;
    const cr_section_ops *const *secs = cr_section_all();
    cr_param extra[33];
    size_t ns = 0;
    const char *str;
    long long ll;
    for (; secs[ns] && ns < 32; ns++)
        extra[ns] = (cr_param){secs[ns]->key, "object", "none",
                               secs[ns]->summary};
    extra[ns] = (cr_param){NULL, NULL, NULL, NULL};
    cr_vkeys(vx, root, "", top_params, extra);

    if (cr_vrequire(vx, root, "", "name") &&
        cr_vstr(vx, root, "", "name", NULL, &str) > 0) {
        if (!name_ok(str, 1))
            cr_verr(vx, "name", "invalid scenario name \"%s\": use letters, "
                    "digits, '_', '.' and '-'", str);
        else if (!(sc->name = cr_strdup(str)))
            vx->nomem = 1;
    }
    if (cr_vstr(vx, root, "", "description", "", &str) >= 0 &&
        !(sc->description = cr_strdup(str)))
        vx->nomem = 1;
    int r = cr_vint(vx, root, "", "seed", 0, SEED_MAX, 0, &ll);
    sc->seed_given = r > 0;
    sc->seed = r > 0 ? (uint64_t)ll : cr_rng_fresh_seed() % (SEED_MAX + 1);
    /* Cross-field checks against duration_s only when it is valid. */
    double dur = INFINITY;
    if (cr_vrequire(vx, root, "", "duration_s") &&
        cr_vnum(vx, root, "", "duration_s", 0, MAX_DURATION, 0,
                &sc->duration_s) > 0) {
        if (sc->duration_s <= 0)
            cr_verr(vx, "duration_s", "must be a number > 0 (got %g)",
                    sc->duration_s);
        else
            dur = sc->duration_s;
    }
    cr_vnum(vx, root, "", "drain_s", 0, 3600, 2, &sc->drain_s);

    parse_array(vx, root, "services", 1, (void **)&sc->svcs, &sc->nsvcs,
                sizeof *sc->svcs, each_service, dur);
    for (size_t i = 0; i < ns; i++) {
        json_t *v = json_object_get(root, secs[i]->key);
        if (v && secs[i]->parse)
            nomem_if(vx, secs[i]->parse(vx, v, secs[i]->key, sc));
    }
    check_hosts(vx, root);
    parse_array(vx, root, "steady_state", 0, (void **)&sc->probes,
                &sc->nprobes, sizeof *sc->probes, each_probe, dur);
    parse_array(vx, root, "faults", 0, (void **)&sc->faults, &sc->nfaults,
                sizeof *sc->faults, each_fault, dur);
    parse_array(vx, root, "expect", 0, (void **)&sc->expects, &sc->nexpects,
                sizeof *sc->expects, each_expect, dur);
}

/* Absolute directory of the scenario file (not required to exist). */
static void scenario_dir(const char *file, char *out, size_t n)
{
    char tmp[2 * PATH_MAX + 2], cwd[PATH_MAX];
    if (file[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(tmp, sizeof tmp, "%s", file);
    else
        snprintf(tmp, sizeof tmp, "%s/%s", cwd, file);
    char *d = dirname(tmp);
    char real[PATH_MAX];
    snprintf(out, n, "%s", realpath(d, real) ? real : d);
}

static void exe_dir(char *out, size_t n)
{
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0) {
        snprintf(out, n, ".");
        return;
    }
    buf[k] = '\0';
    snprintf(out, n, "%s", dirname(buf));
}

int cr_scen_load_buffer(const char *file, const char *text, size_t len,
                        cr_scen **out, cr_diags *diags, cr_err *err)
{
    long fails0 = cr_alloc_failures();
    size_t first = diags->n;
    json_error_t je;
    cr_jpos *pos = NULL;
    cr_scen *sc = NULL;
    char sdir[PATH_MAX], bdir[PATH_MAX];
    int rc = 0;
    cr_vctx vx = {.diags = diags, .file = file, .text = text, .len = len,
                  .first = first};
    *out = NULL;

    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson reports some allocation failures as syntax errors. */
        if (cr_alloc_failures() != fails0 ||
            json_error_code(&je) == json_error_out_of_memory)
            goto nomem;
        int line, col;
        cr_jpos_offset(text, len, je.position > 0 ? (size_t)je.position - 1
                                                  : 0, &line, &col);
        cr_vdiag(&vx, line, col, "invalid JSON: %s", je.text);
        goto done;
    }
    rc = cr_jpos_build(text, len, &pos);
    if (rc == CR_ENOMEM)
        goto nomem;
    /* CR_EINVAL cannot happen after jansson accepted the text; positions
     * would then read 0:0 rather than fail the load. */
    if (!json_is_object(root)) {
        cr_vdiag(&vx, 1, 1, "a scenario is a JSON object (got %s)",
                 cr_jtype(root));
        goto done;
    }
    sc = cr_calloc(1, sizeof *sc);
    if (!sc || !(sc->file = cr_strdup(file)))
        goto nomem;
    sc->root = json_incref(root);
    scenario_dir(file, sdir, sizeof sdir);
    exe_dir(bdir, sizeof bdir);
    vx.sc = sc;
    vx.pos = pos;
    vx.scen_dir = sdir;
    vx.bin_dir = bdir;
    parse_doc(&vx, root);
    cr_vsort(&vx);
done:
    if (vx.nomem || cr_alloc_failures() != fails0)
        goto nomem;
    if (diags->n > first) {
        rc = CR_EINVAL;
        goto out;
    }
    *out = sc;
    sc = NULL;
    rc = 0;
    goto out;
nomem:
    /* A load that lost an allocation proves nothing: drop its findings. */
    while (diags->n > first) {
        diags->n--;
        cr_free(diags->v[diags->n].file);
        cr_free(diags->v[diags->n].msg);
    }
    rc = cr_err_set(err, CR_ENOMEM, "loading %s: out of memory", file);
out:
    cr_scen_free(sc);
    cr_jpos_free(pos);
    json_decref(root);
    return rc;
}

int cr_scen_load(const char *file, cr_scen **out, cr_diags *diags,
                 cr_err *err)
{
    int fd = -1, rc = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;
    *out = NULL;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = cr_err_sys(err, errno == ENOENT ? CR_ENOTFOUND : CR_ESYS, errno,
                        "reading scenario %s", file);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = cr_err_set(err, CR_EINVAL, "reading scenario %s: is a directory",
                        file);
        goto out;
    }
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 8192;
            char *q = cr_realloc(buf, nc);
            if (!q) {
                rc = cr_err_set(err, CR_ENOMEM, "reading scenario %s: out of "
                                "memory", file);
                goto out;
            }
            buf = q;
            cap = nc;
        }
        ssize_t k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cr_err_sys(err, CR_ESYS, errno, "reading scenario %s", file);
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    rc = cr_scen_load_buffer(file, buf, len, out, diags, err);
out:
    if (fd >= 0)
        close(fd);
    cr_free(buf);
    return rc;
}

void cr_scen_free(cr_scen *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->priv && f->ops && f->ops->destroy)
            f->ops->destroy(f);
        cr_free(f->name);
        cr_free(f->target.service);
        if (f->trigger) {
            cr_match_free(&f->trigger->match);
            cr_free(f->trigger);
        }
        json_decref(f->spec);
        cr_free(f->starts);
    }
    for (size_t i = 0; i < sc->nprobes; i++) {
        cr_probe_spec *p = &sc->probes[i];
        if (p->priv && p->ops && p->ops->destroy)
            p->ops->destroy(p);
        cr_free(p->name);
        json_decref(p->spec);
    }
    for (size_t i = 0; i < sc->nexpects; i++) {
        cr_expect *x = &sc->expects[i];
        if (x->priv && x->ops && x->ops->destroy)
            x->ops->destroy(x);
        cr_free(x->name);
        json_decref(x->spec);
    }
    const cr_section_ops *const *secs = cr_section_all();
    for (size_t i = 0; secs[i]; i++)
        if (secs[i]->destroy)
            secs[i]->destroy(sc);
    for (size_t i = 0; i < sc->nsvcs; i++)
        svc_free(&sc->svcs[i]);
    cr_free(sc->svcs);
    cr_free(sc->faults);
    cr_free(sc->probes);
    cr_free(sc->expects);
    json_decref(sc->root);
    cr_free(sc->file);
    cr_free(sc->name);
    cr_free(sc->description);
    cr_free(sc);
}

const cr_svc_spec *cr_scen_service(const cr_scen *sc, const char *name)
{
    for (size_t i = 0; sc && name && i < sc->nsvcs; i++)
        if (sc->svcs[i].name && strcmp(sc->svcs[i].name, name) == 0)
            return &sc->svcs[i];
    return NULL;
}

const cr_fault *cr_scen_fault(const cr_scen *sc, const char *name)
{
    for (size_t i = 0; sc && name && i < sc->nfaults; i++)
        if (sc->faults[i].name && strcmp(sc->faults[i].name, name) == 0)
            return &sc->faults[i];
    return NULL;
}
