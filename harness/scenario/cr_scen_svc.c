/* cr_scen_svc: the services section of a scenario (see
 * scenarios/README.md, "Services"): command, environment and working
 * directory with variable expansion, replicas, ports, readiness checks,
 * stop and restart settings, and the placement on network hosts. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"

#include <signal.h>
#include <string.h>

static const cr_param svc_params[] = {
    {"name", "string", NULL, "unique, [a-z0-9_-]+"},
    {"cmd", "array", NULL, "argv, never passed through a shell"},
    {"container", "object", "none", "run as a container instead of cmd"},
    {"env", "object", "{}", "extra environment"},
    {"cwd", "string", "chaosrun's cwd", "working directory"},
    {"replicas", "integer", "1", "number of instances, 1..64"},
    {"port", "integer", "none", "port of replica 0 (replica i: port + i)"},
    {"host", "string", "none", "network host of the hosts section"},
    {"user", "string", "--service-user, else chaosrun's user",
     "run as this user (name or uid); needs root"},
    {"group", "string", "the user's group",
     "run with this group (name or gid)"},
    {"dirs", "array", "[]",
     "run-directory subdirectories made for it, owned by its user"},
    {"ready", "object", "none", "readiness check"},
    {"stop_signal", "signal", "SIGTERM", "graceful stop signal"},
    {"stop_timeout_s", "number", "5", "SIGKILL after this"},
    {"stop_after", "array", "stop_order",
     "services that must have stopped before this one"},
    {"restart", "string", "never", "never, on-failure, always"},
    {"restart_delay_s", "number", "0.2", "delay before a restart"},
    {"max_restarts", "integer", "10", "-1: unlimited"},
    {NULL, NULL, NULL, NULL},
};

const cr_param *cr_scen__svc_params(void)
{
    return svc_params;
}

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

const cr_param *cr_scen__ready_params(void)
{
    return ready_params;
}

static const cr_param ctr_params[] = {
    {"image", "string", NULL, "a local image (never pulled)"},
    {"engine", "string", "auto", "podman, docker or auto"},
    {"args", "array", "the image's command", "the container's command"},
    {"env", "object", "{}", "extra environment inside the container"},
    {"volumes", "array", "[]", "bind mounts \"/host:/ctr[:ro|:rw]\""},
    {"network", "string", "host",
     "host (the harness's or its host's namespace) or none"},
    {NULL, NULL, NULL, NULL},
};

const cr_param *cr_scen__ctr_params(void)
{
    return ctr_params;
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
        } else if (!bad && cr_vexpand(vx, q, json_string_value(e), &argv[i])) {
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

void cr_scen__svc_free(cr_svc_spec *s)
{
    cr_free(s->name);
    argv_free(s->argv);
    argv_free(s->env);
    cr_free(s->cwd);
    cr_free(s->host);
    cr_free(s->user);
    cr_free(s->group);
    argv_free(s->dirs);
    cr_free(s->ready.host);
    cr_free(s->ready.url);
    argv_free(s->ready.argv);
    cr_free(s->ready.regex);
    cr_free(s->stop_deps);
    if (s->ctr) {
        cr_free(s->ctr->image);
        argv_free(s->ctr->args);
        argv_free(s->ctr->env);
        argv_free(s->ctr->volumes);
        cr_free(s->ctr);
    }
}

static void parse_env(cr_vctx *vx, const json_t *svcobj, const char *svcpath,
                      char ***out);

/* "/host:/ctr[:ro|:rw]": two absolute paths without ':' or ",", no "..". */
static int volume_ok(const char *v)
{
    char buf[4096];
    if (strlen(v) >= sizeof buf || strchr(v, ','))
        return 0;
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL, *part[4] = {0};
    size_t n = 0;
    for (char *t = strtok_r(buf, ":", &save); t && n < 4;
         t = strtok_r(NULL, ":", &save))
        part[n++] = t;
    if (n < 2 || n > 3 || part[0][0] != '/' || part[1][0] != '/')
        return 0;
    if (n == 3 && strcmp(part[2], "ro") != 0 && strcmp(part[2], "rw") != 0)
        return 0;
    for (size_t i = 0; i < 2; i++)
        if (strstr(part[i], "/../") || !strcmp(part[i], "/..") ||
            (strlen(part[i]) >= 3 &&
             !strcmp(part[i] + strlen(part[i]) - 3, "/..")))
            return 0;
    /* "a::b" would have been split into two parts silently. */
    return strstr(v, "::") == NULL && v[strlen(v) - 1] != ':';
}

/* "container": {"image", "engine", "args", "env", "volumes", "network"}
 * instead of "cmd" (engine/cr_run_ctr.c runs it). */
static void parse_container(cr_vctx *vx, const json_t *obj, const char *path,
                            cr_svc_spec *s)
{
    static const char *const engines[] = {"auto", "podman", "docker", NULL};
    static const char *const nets[] = {"host", "none", NULL};
    char p[CR_PATH_MAX], q[CR_PATH_MAX];
    const char *str;
    const json_t *c = json_object_get(obj, "container");
    cr_path_key(p, sizeof p, path, "container");
    if (json_object_get(obj, "cmd")) {
        cr_verr_key(vx, p,
                    "\"container\" cannot be combined with \"cmd\" (the "
                    "container's command is container.args)");
        return;
    }
    static const char *const no_ctr[] = {"user", "group"};
    for (size_t i = 0; i < sizeof no_ctr / sizeof no_ctr[0]; i++)
        if (json_object_get(obj, no_ctr[i])) {
            cr_path_key(q, sizeof q, path, no_ctr[i]);
            cr_verr_key(vx, q,
                        "\"%s\" does not apply to a container service (the "
                        "image says who its program runs as)",
                        no_ctr[i]);
        }
    if (!json_is_object(c)) {
        cr_verr(vx, p,
                "must be an object {\"image\", \"engine\", \"args\", "
                "\"env\", \"volumes\", \"network\"} (got %s)",
                cr_jtype(c));
        return;
    }
    cr_ctr_spec *ct = cr_calloc(1, sizeof *ct);
    if (!ct) {
        vx->nomem = 1;
        return;
    }
    s->ctr = ct;
    cr_vkeys(vx, c, p, ctr_params, NULL);
    if (cr_vrequire(vx, c, p, "image") &&
        vstr_expand(vx, c, p, "image", &ct->image) > 0) {
        cr_path_key(q, sizeof q, p, "image");
        str = ct->image;
        /* Never taken for an option of the engine's command line. */
        if (!*str || *str == '-' || strlen(str) > 255 ||
            strspn(str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-/:@") != strlen(str)) {
            cr_verr(vx, q,
                    "invalid image reference \"%s\" (up to 255 of "
                    "[A-Za-z0-9._-/:@], not starting with '-')",
                    str);
            cr_free(ct->image);
            ct->image = NULL;
        }
    }
    cr_venum(vx, c, p, "engine", engines, CR_CTR_AUTO, &ct->engine);
    cr_venum(vx, c, p, "network", nets, CR_CTR_NET_HOST, &ct->network);
    vargv(vx, c, p, "args", &ct->args);
    parse_env(vx, c, p, &ct->env);
    if (vargv(vx, c, p, "volumes", &ct->volumes) > 0) {
        char r[CR_PATH_MAX];
        cr_path_key(q, sizeof q, p, "volumes");
        for (size_t i = 0; ct->volumes[i]; i++)
            if (!volume_ok(ct->volumes[i])) {
                cr_path_idx(r, sizeof r, q, i);
                cr_verr(vx, r,
                        "\"%s\": a bind mount \"/host/path:/path[:ro|:rw]\" "
                        "(absolute paths, no \"..\", ':' or ',')",
                        ct->volumes[i]);
            }
    }
    if (ct->network == CR_CTR_NET_NONE && json_object_get(obj, "host")) {
        cr_path_key(q, sizeof q, p, "network");
        cr_verr(vx, q,
                "\"none\" cannot be combined with the service's \"host\" "
                "(a container on a host joins that host's namespace)");
    }
}

/* "dirs": names of one component each, made in the run directory (never
 * a path that could leave it, never "." or ".."). */
static void parse_dirs(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_svc_spec *s)
{
    char p[CR_PATH_MAX], q[CR_PATH_MAX];
    if (vargv(vx, obj, path, "dirs", &s->dirs) <= 0)
        return;
    cr_path_key(p, sizeof p, path, "dirs");
    for (size_t i = 0; s->dirs[i]; i++) {
        const char *d = s->dirs[i];
        if (strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789._-") != strlen(d) ||
            !*d || !strcmp(d, ".") || !strcmp(d, "..")) {
            cr_path_idx(q, sizeof q, p, i);
            cr_verr(vx, q,
                    "\"%s\": a directory name of the run directory "
                    "([A-Za-z0-9._-]+, not . or ..)",
                    d);
        }
    }
}

static void parse_ready(cr_vctx *vx, const json_t *svcobj, const char *svcpath,
                        cr_svc_spec *s)
{
    static const char *const kinds[] = {"tcp", "http", "exec", "log", NULL};
    /* Keys each kind uses besides kind, timeout_s and interval_s. */
    static const char *const uses[][3] = {{"port", "host", NULL},
                                          {"url", "status", NULL},
                                          {"cmd", NULL, NULL},
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
    cr_vnum(vx, obj, path, "interval_s", 0.001, 60, 0.05, &s->ready.interval_s);
    int kind;
    if (!cr_vrequire(vx, obj, path, "kind") ||
        cr_venum(vx, obj, path, "kind", kinds, 0, &kind) < 0)
        return;
    s->ready.kind = CR_READY_TCP + kind;
    /* Keys of another kind are mistakes, not silently ignored. */
    static const char *const all[] = {"port",   "host", "url",
                                      "status", "cmd",  "regex"};
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
            cr_verr(vx, path,
                    "a tcp check needs \"port\" (the service has "
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
            cr_vregex(vx, obj, path, "regex", &str, NULL) > 0 &&
            !(s->ready.regex = cr_strdup(str)))
            vx->nomem = 1;
        break;
    }
}

/* "env" of obj (a service or its container) as "KEY=VALUE" into *out. */
static void parse_env(cr_vctx *vx, const json_t *svcobj, const char *svcpath,
                      char ***out)
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
    char **env = cr_calloc(json_object_size(obj) + 1, sizeof *env);
    if (!env) {
        vx->nomem = 1;
        return;
    }
    *out = env;
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach (obj, k, v) {
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
        env[n] = cr_asprintf("%s=%s", k, val);
        cr_free(val);
        if (!env[n])
            vx->nomem = 1;
        else
            n++;
    }
}

void cr_scen__parse_service(cr_vctx *vx, const json_t *obj, size_t idx)
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
        if (!cr_scen__name_ok(str, 0)) {
            cr_verr(vx, p,
                    "invalid service name \"%s\": use lower-case "
                    "letters, digits, '_' and '-'",
                    str);
        } else if (!(s->name = cr_strdup(str))) {
            vx->nomem = 1;
        } else {
            size_t j = 0;
            int r = cr_names_put(&sc->index->svcs, s->name, idx, &j);
            if (r == 1)
                cr_verr(vx, p, "duplicate service name \"%s\" (also %s)", str,
                        sc->svcs[j].path);
            cr_scen__nomem_if(vx, r);
            if (r) {
                cr_free(s->name);
                s->name = NULL;
            }
        }
    }
    if (json_object_get(obj, "container"))
        parse_container(vx, obj, path, s);
    else if (cr_vrequire(vx, obj, path, "cmd"))
        vargv(vx, obj, path, "cmd", &s->argv);
    parse_env(vx, obj, path, &s->env);
    vstr_expand(vx, obj, path, "cwd", &s->cwd);
    if (cr_vint(vx, obj, path, "replicas", 1, 64, 1, &ll) >= 0)
        s->replicas = (int)ll;
    if (cr_vint(vx, obj, path, "port", 1, 65535, 0, &ll) > 0) {
        s->port = (int)ll;
        if (s->port + s->replicas - 1 > 65535) {
            cr_path_key(p, sizeof p, path, "port");
            cr_verr(vx, p, "port %d + %d replicas goes beyond 65535", s->port,
                    s->replicas);
        }
    }
    if (cr_vstr(vx, obj, path, "host", NULL, &str) > 0 &&
        !(s->host = cr_strdup(str)))
        vx->nomem = 1;
    vstr_expand(vx, obj, path, "user", &s->user);
    vstr_expand(vx, obj, path, "group", &s->group);
    parse_dirs(vx, obj, path, s);
    parse_ready(vx, obj, path, s);
    cr_vsignal(vx, obj, path, "stop_signal", SIGTERM, &s->stop_signal);
    cr_vnum(vx, obj, path, "stop_timeout_s", 0, 3600, 5, &s->stop_timeout_s);
    cr_venum(vx, obj, path, "restart", restarts, CR_RESTART_NEVER, &s->restart);
    cr_vnum(vx, obj, path, "restart_delay_s", 0, 3600, 0.2,
            &s->restart_delay_s);
    if (cr_vint(vx, obj, path, "max_restarts", -1, 1000000, 10, &ll) >= 0)
        s->max_restarts = (int)ll;
}

/* A service's "host" must name a host of the hosts section.  The section
 * belongs to the network module; its document is either an object keyed
 * by host name or an array of names or of objects with a "name".  An array
 * is indexed once (vx->hosts), so that checking every service and probe
 * stays linear. */
static int hosts_index(cr_vctx *vx, const json_t *hosts)
{
    if (vx->hosts_indexed)
        return 0;
    size_t i;
    json_t *h;
    json_array_foreach (hosts, i, h) {
        json_t *n = json_is_string(h) ? h : json_object_get(h, "name");
        if (json_is_string(n) &&
            cr_names_put(&vx->hosts, json_string_value(n), i, NULL) < 0)
            return CR_ENOMEM;
    }
    vx->hosts_indexed = 1;
    return 0;
}

int cr_scen__host_declared(cr_vctx *vx, const char *name)
{
    const json_t *root = vx->sc ? vx->sc->root : NULL;
    const json_t *hosts = root ? json_object_get(root, "hosts") : NULL;
    size_t i;
    if (json_is_object(hosts))
        return json_object_get(hosts, name) != NULL;
    if (!json_is_array(hosts))
        return 0;
    if (hosts_index(vx, hosts)) {
        vx->nomem = 1;
        return 0;
    }
    return cr_names_get(&vx->hosts, name, &i);
}

void cr_scen__check_hosts(cr_vctx *vx, const json_t *root)
{
    const json_t *hosts = json_object_get(root, "hosts");
    char p[CR_PATH_MAX];
    for (size_t i = 0; i < vx->sc->nsvcs; i++) {
        cr_svc_spec *s = &vx->sc->svcs[i];
        if (!s->host)
            continue;
        cr_path_key(p, sizeof p, s->path, "host");
        if (!hosts && !vx->sc->hosts)
            cr_verr(vx, p,
                    "service %s is placed on host %s but the "
                    "scenario declares no hosts",
                    s->name ? s->name : "?", s->host);
        else if (hosts && !cr_scen__host_declared(vx, s->host))
            cr_verr(vx, p, "unknown host \"%s\" (not in the hosts section)",
                    s->host);
    }
}
