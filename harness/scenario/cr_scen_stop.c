/* cr_scen_stop: the order in which services are stopped at the end of a
 * run (see scenarios/README.md, "Stopping"): the top-level `stop_order`
 * ("reverse", the default; "parallel"; or every service named once) and a
 * service's `stop_after` (the services that must have stopped before it
 * gets its stop signal; it replaces what stop_order gives it).  Both are
 * resolved here into each service's stop_deps; a cycle is an error. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"

#include <string.h>

/* Index of the service called name, or -1 (through the loader's name
 * table: a list naming every service stays linear). */
static long svc_index(const cr_scen *sc, const char *name)
{
    const cr_svc_spec *s = cr_scen_service(sc, name);
    return s ? (long)(s - sc->svcs) : -1;
}

static const char *svc_hint(const cr_scen *sc, char *buf, size_t n,
                            const char *word)
{
    const char *names[64];
    size_t k = 0;
    for (size_t i = 0; i < sc->nsvcs && k < 64; i++)
        if (sc->svcs[i].name)
            names[k++] = sc->svcs[i].name;
    return cr_vhint(buf, n, word, names, k);
}

/* An array of distinct known service names at path, as indices into
 * out[0..*n).  self: a service that must not appear (-1: none).  seen[k]
 * is set to self for every service listed; a list's self is unique, so
 * seen (initially all -2) finds a name given twice without a scan.
 * Returns 0, or -1 after reporting every problem. */
static int name_list(cr_vctx *vx, const json_t *arr, const char *path,
                     long self, long *seen, size_t *out, size_t *n)
{
    const cr_scen *sc = vx->sc;
    char p[CR_PATH_MAX], hint[128];
    int bad = 0;
    size_t i;
    json_t *e;
    *n = 0;
    if (!json_is_array(arr)) {
        cr_verr(vx, path, "must be an array of service names (got %s)",
                cr_jtype(arr));
        return -1;
    }
    json_array_foreach (arr, i, e) {
        cr_path_idx(p, sizeof p, path, i);
        if (!json_is_string(e)) {
            cr_verr(vx, p, "must be a service name (got %s)", cr_jtype(e));
            bad = 1;
            continue;
        }
        const char *name = json_string_value(e);
        long k = svc_index(sc, name);
        if (k < 0) {
            cr_verr(vx, p, "unknown service \"%s\"%s", name,
                    svc_hint(sc, hint, sizeof hint, name));
            bad = 1;
            continue;
        }
        if (k == self) {
            cr_verr(vx, p, "a service cannot stop after itself");
            bad = 1;
            continue;
        }
        if (seen[k] == self) {
            cr_verr(vx, p, "service \"%s\" is named twice", name);
            bad = 1;
            continue;
        }
        seen[k] = self;
        out[(*n)++] = (size_t)k;
    }
    return bad ? -1 : 0;
}

/* stop_order: the predecessor each service gets (pred[i] = index, or -1
 * for none).  Returns 0, or -1 after reporting. */
static int parse_order(cr_vctx *vx, const json_t *root, long *pred, long *seen)
{
    cr_scen *sc = vx->sc;
    const json_t *v = json_object_get(root, "stop_order");
    size_t n = sc->nsvcs;
    for (size_t i = 0; i < n; i++)
        pred[i] = i + 1 < n ? (long)i + 1 : -1; /* reverse: the next one */
    if (!v)
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "reverse") == 0)
            return 0;
        if (strcmp(s, "parallel") == 0) {
            for (size_t i = 0; i < n; i++)
                pred[i] = -1;
            sc->stop_parallel = 1;
            return 0;
        }
        static const char *const kinds[] = {"reverse", "parallel"};
        char hint[128];
        cr_verr(vx, "stop_order",
                "unknown value \"%s\"%s; expected \"reverse\", \"parallel\" "
                "or an array naming every service once",
                s, cr_vhint(hint, sizeof hint, s, kinds, 2));
        return -1;
    }
    if (!json_is_array(v)) {
        cr_verr(vx, "stop_order",
                "must be \"reverse\", \"parallel\" or an array of service "
                "names (got %s)",
                cr_jtype(v));
        return -1;
    }
    size_t *idx = cr_calloc(json_array_size(v) + 1, sizeof *idx), k = 0;
    if (!idx) {
        vx->nomem = 1;
        return -1;
    }
    int rc = name_list(vx, v, "stop_order", -1, seen, idx, &k);
    if (rc == 0 && k < n) {
        for (size_t i = 0; i < n; i++) {
            if (seen[i] != -1 && sc->svcs[i].name) {
                cr_verr(vx, "stop_order",
                        "service \"%s\" is missing: name every service "
                        "once, or use \"reverse\" or \"parallel\"",
                        sc->svcs[i].name);
                rc = -1;
            }
        }
    }
    if (rc == 0)
        for (size_t j = 0; j < k; j++)
            pred[idx[j]] = j ? (long)idx[j - 1] : -1;
    cr_free(idx);
    return rc;
}

/* Reports the cycle stack[first..depth] -> stack[first] at the
 * stop_after of a service on it that has one. */
static void report_cycle(cr_vctx *vx, const size_t *stack, size_t first,
                         size_t depth)
{
    cr_scen *sc = vx->sc;
    char text[512], p[CR_PATH_MAX];
    size_t len = 0, culprit = stack[first];
    /* "a stops after b, b after c, c after a" */
    for (size_t i = first; i <= depth; i++) {
        size_t next = i < depth ? stack[i + 1] : stack[first];
        len +=
            (size_t)snprintf(text + len, sizeof text - len, "%s%s%s after %s",
                             i > first ? ", " : "", sc->svcs[stack[i]].name,
                             i > first ? "" : " stops", sc->svcs[next].name);
        if (len >= sizeof text)
            len = sizeof text - 1;
        if (sc->svcs[stack[i]].has_stop_after)
            culprit = stack[i];
    }
    cr_path_key(p, sizeof p, sc->svcs[culprit].path, "stop_after");
    cr_verr(vx, sc->svcs[culprit].has_stop_after ? p : "stop_order",
            "the stop order has a cycle: %s", text);
}

/* Depth-first search from root for a cycle through the deps, on an
 * explicit stack (the default order is one chain through every service:
 * recursion would be as deep as the scenario is long).  mark: 0 unseen,
 * 1 on the current path, 2 done; edge[v]: the next dep of v to follow.
 * Returns -1 after reporting a cycle. */
static int find_cycle(cr_vctx *vx, size_t root, int *mark, size_t *edge,
                      size_t *stack)
{
    cr_scen *sc = vx->sc;
    size_t depth = 0;
    stack[0] = root;
    mark[root] = 1;
    edge[root] = 0;
    for (;;) {
        size_t at = stack[depth];
        if (edge[at] == sc->svcs[at].nstop_deps) {
            mark[at] = 2;
            if (depth == 0)
                return 0;
            depth--;
            continue;
        }
        size_t to = sc->svcs[at].stop_deps[edge[at]++];
        if (mark[to] == 1) {
            size_t first = depth;
            while (stack[first] != to)
                first--;
            report_cycle(vx, stack, first, depth);
            return -1;
        }
        if (mark[to] == 0) {
            mark[to] = 1;
            edge[to] = 0;
            stack[++depth] = to;
        }
    }
}

void cr_scen__parse_stop(cr_vctx *vx, const json_t *root)
{
    cr_scen *sc = vx->sc;
    const json_t *svcs = json_object_get(root, "services");
    size_t n = sc->nsvcs;
    if (n == 0 || !json_is_array(svcs))
        return;
    long *pred = cr_calloc(n, sizeof *pred);
    long *seen = cr_calloc(n, sizeof *seen);
    int *mark = cr_calloc(n, sizeof *mark);
    size_t *stack = cr_calloc(n + 1, sizeof *stack);
    size_t *edge = cr_calloc(n, sizeof *edge);
    int bad = 0;
    if (!pred || !seen || !mark || !stack || !edge) {
        vx->nomem = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        seen[i] = -2;
    bad |= parse_order(vx, root, pred, seen) != 0;
    for (size_t i = 0; i < n; i++) {
        cr_svc_spec *s = &sc->svcs[i];
        const json_t *v =
            json_object_get(json_array_get(svcs, i), "stop_after");
        char p[CR_PATH_MAX];
        s->stop_deps =
            cr_calloc((v ? json_array_size(v) : 0) + 1, sizeof *s->stop_deps);
        if (!s->stop_deps) {
            vx->nomem = 1;
            goto out;
        }
        if (!v) {
            s->nstop_deps = 0;
            if (pred[i] >= 0)
                s->stop_deps[s->nstop_deps++] = (size_t)pred[i];
            continue;
        }
        s->has_stop_after = 1;
        cr_path_key(p, sizeof p, s->path, "stop_after");
        bad |= name_list(vx, v, p, (long)i, seen, s->stop_deps,
                         &s->nstop_deps) != 0;
    }
    /* Cycles only matter, and are only reported, when every list and
     * every name is sound. */
    for (size_t i = 0; i < n; i++)
        bad |= sc->svcs[i].name == NULL;
    for (size_t i = 0; i < n && !bad; i++)
        if (mark[i] == 0 && find_cycle(vx, i, mark, edge, stack))
            bad = 1;
out:
    cr_free(pred);
    cr_free(seen);
    cr_free(mark);
    cr_free(stack);
    cr_free(edge);
}
