/* proxy: a toxic on a link of the fault proxy, for the fault's window.
 *
 *   {"kind": "proxy", "link": "w2f", "toxic": "latency",
 *    "stream": "downstream", "toxicity": 1.0, "latency": 200, "jitter": 50,
 *    "at_s": 5, "for_s": 10}
 *
 * apply sends `toxic add` to the run's proxy (harness/engine/cr_run_proxy.c),
 * revert reads what the toxic did from `stats` into the journal and sends
 * `toxic remove`.  No privilege is needed: the proxy is an ordinary process
 * on the loopback interface.  The link must be declared in "links"; the
 * toxics and their attributes are the catalogue of harness/proxy/cr_proxy_ctl.c
 * (Toxiproxy's names). */
#include "cr_fault.h"

#include "base/cr_alloc.h"
#include "proxy/cr_proxy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const cr_param proxy_params[] = {
    {"link", "string", NULL, "a link declared in \"links\""},
    {"toxic", "string", NULL,
     "latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, "
     "down or refuse"},
    {"stream", "string", "\"downstream\"",
     "upstream (from -> to), downstream (to -> from) or both"},
    {"toxicity", "number", "1",
     "fraction of connections affected, drawn from the seed"},
    {"latency", "number", "required", "latency: added delay, ms"},
    {"jitter", "number", "0", "latency: +/- uniform variation, ms"},
    {"rate", "number", "required", "bandwidth: KB/s (1 KB = 1000 bytes)"},
    {"delay", "number", "required",
     "slow_close: delay of the close, ms; slicer: delay between slices, us "
     "(default 0)"},
    {"timeout", "number", "0",
     "timeout: close after this many ms (0: hold until the toxic ends); "
     "reset_peer: RST after this many ms"},
    {"average_size", "number", "required", "slicer: mean slice size, bytes"},
    {"size_variation", "number", "0",
     "slicer: +/- variation of slice size, bytes"},
    {"bytes", "number", "required",
     "limit_data: bytes let through before the close"},
    {NULL, NULL, NULL, NULL},
};

typedef struct proxy_fault {
    char *link;
    cr_proxy_toxic t;
} proxy_fault;

static int has_attr(const cr_proxy_toxic_kind *k, const char *name)
{
    for (int i = 0; i < CR_PROXY_NATTR && k->attr[i].name; i++)
        if (strcmp(k->attr[i].name, name) == 0)
            return 1;
    return 0;
}

/* 1 when the document's "links" names link, valid or not: an invalid
 * link is reported at the link, not again at each fault that uses it. */
static int link_declared(const cr_scen *sc, const char *link)
{
    size_t i;
    const json_t *l;
    json_array_foreach (json_object_get(sc->root, "links"), i, l) {
        const char *n = json_string_value(json_object_get(l, "name"));
        if (n && strcmp(n, link) == 0)
            return 1;
    }
    return 0;
}

static int proxy_parse(cr_vctx *vx, const json_t *obj, const char *path,
                       cr_fault *f)
{
    const cr_proxy_toxic_kind *kinds = cr_proxy_toxic_kinds();
    const char *names[CR_PTOX_COUNT + 1];
    for (int i = 0; i < CR_PTOX_COUNT; i++)
        names[i] = kinds[i].name;
    names[CR_PTOX_COUNT] = NULL;
    static const char *const streams[] = {"upstream", "downstream", "both",
                                          NULL};
    static const unsigned stream_mask[] = {CR_PROXY_UP, CR_PROXY_DOWN,
                                           CR_PROXY_BOTH};
    char p[CR_PATH_MAX];
    size_t before = cr_vcount(vx);
    const char *link = NULL;
    int type = -1, st = 1;
    double tox = 1;

    if (cr_vrequire(vx, obj, path, "link") &&
        cr_vstr(vx, obj, path, "link", NULL, &link) > 0) {
        const cr_scen *sc = cr_vscen(vx);
        if (!cr_proxy_link_find(sc, link) && !link_declared(sc, link)) {
            cr_path_key(p, sizeof p, path, "link");
            const cr_proxy_links *ls = sc->links;
            if (!ls || ls->n == 0)
                cr_verr(vx, p,
                        "no link \"%s\": declare it in the top-level "
                        "\"links\" section",
                        link);
            else
                cr_verr(vx, p, "no link \"%s\" in \"links\" (declared: %s%s)",
                        link, ls->v[0].name, ls->n > 1 ? ", ..." : "");
        }
    }
    if (cr_vrequire(vx, obj, path, "toxic"))
        cr_venum(vx, obj, path, "toxic", names, -1, &type);
    cr_venum(vx, obj, path, "stream", streams, 1, &st);
    cr_vnum(vx, obj, path, "toxicity", 0, 1, 1, &tox);
    if (type < 0)
        return 0;

    const cr_proxy_toxic_kind *k = &kinds[type];
    cr_proxy_toxic t;
    cr_proxy_toxic_init(&t, type);
    t.streams = stream_mask[st];
    t.toxicity = tox;
    if (k->per_link)
        for (const char *const *key =
                 (const char *const[]){"stream", "toxicity", NULL};
             *key; key++)
            if (json_object_get(obj, *key)) {
                cr_path_key(p, sizeof p, path, *key);
                cr_verr_key(vx, p,
                            "\"%s\" does not apply to toxic \"%s\" (it "
                            "acts on the whole link)",
                            *key, k->name);
            }
    for (int i = 0; i < CR_PROXY_NATTR && k->attr[i].name; i++) {
        const cr_proxy_attr *a = &k->attr[i];
        if (isnan(a->dflt) && !cr_vrequire(vx, obj, path, a->name))
            continue;
        cr_vnum(vx, obj, path, a->name, a->min, a->max,
                isnan(a->dflt) ? 0 : a->dflt, &t.attr[i]);
    }
    /* Attributes of other toxics are known keys, but not for this one. */
    for (const cr_param *q = proxy_params + 4; q->name; q++)
        if (!has_attr(k, q->name) && json_object_get(obj, q->name)) {
            char list[128] = "";
            for (int i = 0; i < CR_PROXY_NATTR && k->attr[i].name; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", i ? ", " : "", k->attr[i].name);
            cr_path_key(p, sizeof p, path, q->name);
            cr_verr_key(vx, p, "\"%s\" does not apply to toxic \"%s\" (%s%s)",
                        q->name, k->name,
                        *list ? "its attributes: " : "it has no attributes",
                        list);
        }
    if (cr_vcount(vx) > before)
        return 0;
    cr_err e;
    cr_err_clear(&e);
    if (cr_proxy_toxic_check(&t, &e) < 0) {
        /* The only rule left spanning attributes is slicer's. */
        cr_path_key(p, sizeof p, path, "size_variation");
        cr_verr(vx, type == CR_PTOX_SLICER ? p : path, "%s", e.msg);
        return 0;
    }
    proxy_fault *pf = cr_calloc(1, sizeof *pf);
    if (!pf || !(pf->link = cr_strdup(link))) {
        cr_free(pf);
        return CR_ENOMEM;
    }
    pf->t = t;
    f->priv = pf;
    return 0;
}

static void toxic_name(const cr_fault *f, const cr_fault_act *act, char *buf,
                       size_t n)
{
    snprintf(buf, n, "%s@%d", f->name, act->occurrence);
}

static int proxy_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    const proxy_fault *pf = f->priv;
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[pf->t.type];
    char name[CR_PROXY_NAME_MAX], line[1024];
    toxic_name(f, act, name, sizeof name);
    int off =
        snprintf(line, sizeof line,
                 "toxic add %s %s %s stream=%s toxicity=%.17g", pf->link, name,
                 k->name, cr_proxy_stream_name(pf->t.streams), pf->t.toxicity);
    json_t *attrs = json_object();
    for (int i = 0; i < CR_PROXY_NATTR && k->attr[i].name; i++) {
        off += snprintf(line + off, sizeof line - (size_t)off, " %s=%.17g",
                        k->attr[i].name, pf->t.attr[i]);
        json_object_set_new(attrs, k->attr[i].name, json_real(pf->t.attr[i]));
    }
    json_object_set_new(act->details, "link", json_string(pf->link));
    json_object_set_new(act->details, "toxic", json_string(k->name));
    json_object_set_new(act->details, "toxic_name", json_string(name));
    json_object_set_new(act->details, "stream",
                        json_string(cr_proxy_stream_name(pf->t.streams)));
    json_object_set_new(act->details, "toxicity", json_real(pf->t.toxicity));
    json_object_set_new(act->details, "attributes", attrs);
    char *reply = NULL;
    int rc = cr_run_proxy_command(r, line, &reply, err);
    cr_free(reply);
    if (rc == 0)
        act->state = act; /* applied: revert has something to remove */
    return rc;
}

/* What the toxic did, from the proxy's statistics (best effort). */
static json_t *toxic_effect(cr_run *r, const char *link, const char *name)
{
    char *reply = NULL;
    cr_err e;
    cr_err_clear(&e);
    if (cr_run_proxy_command(r, "stats", &reply, &e) < 0)
        return NULL;
    json_t *st = json_loads(reply, 0, NULL), *out = NULL;
    cr_free(reply);
    size_t i, j;
    json_t *l, *t;
    json_array_foreach (json_object_get(st, "links"), i, l) {
        if (strcmp(json_string_value(json_object_get(l, "name")) ?: "", link))
            continue;
        json_array_foreach (json_object_get(l, "toxics"), j, t) {
            if (!strcmp(json_string_value(json_object_get(t, "name")) ?: "",
                        name) &&
                json_is_true(json_object_get(t, "active")))
                out = json_pack("{s:O, s:O, s:O, s:O, s:O}", "affected",
                                json_object_get(t, "affected"), "spared",
                                json_object_get(t, "spared"), "chunks",
                                json_object_get(t, "chunks"), "bytes",
                                json_object_get(t, "bytes"), "events",
                                json_object_get(t, "events"));
        }
    }
    json_decref(st);
    return out;
}

static int proxy_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    const proxy_fault *pf = f->priv;
    if (!act->state)
        return 0;
    char name[CR_PROXY_NAME_MAX], line[512];
    toxic_name(f, act, name, sizeof name);
    json_t *eff = toxic_effect(r, pf->link, name);
    if (eff)
        json_object_set_new(act->details, "effect", eff);
    snprintf(line, sizeof line, "toxic remove %s %s", pf->link, name);
    char *reply = NULL;
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_run_proxy_command(r, line, &reply, &e);
    /* Already gone is success: revert is idempotent. */
    if (rc < 0 && !(rc == CR_EPROTO && reply && strstr(reply, "no toxic"))) {
        cr_free(reply);
        return cr_err_set(err, rc, "%s", e.msg);
    }
    cr_free(reply);
    act->state = NULL;
    return 0;
}

static void proxy_destroy(cr_fault *f)
{
    proxy_fault *pf = f->priv;
    if (pf)
        cr_free(pf->link);
    cr_free(pf);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_proxy_ops = {
    .kind = "proxy",
    .summary =
        "a toxic (latency, bandwidth, timeout, reset_peer, down, ...) on a "
        "link of the built-in TCP fault proxy; no privilege needed",
    .params = proxy_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NO_TARGET,
    .parse = proxy_parse,
    .apply = proxy_apply,
    .revert = proxy_revert,
    .destroy = proxy_destroy,
};
