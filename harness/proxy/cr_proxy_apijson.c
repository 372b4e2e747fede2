/* cr_proxy_apijson: Toxiproxy's JSON for proxies and toxics, mapped onto
 * chaosrun's links and toxics (the HTTP side is cr_proxy_api.c).
 *
 * Toxiproxy 2.x's toxic types are chaosrun's with the same names and the
 * same attributes (latency: latency, jitter; bandwidth: rate; slow_close:
 * delay; timeout: timeout; reset_peer: timeout; slicer: average_size,
 * size_variation, delay; limit_data: bytes).  A missing attribute is 0, as
 * in Toxiproxy; unlike Toxiproxy, which drops what it does not know, an
 * attribute the toxic does not have, or a value chaosrun cannot honour
 * (bandwidth rate 0, which stalls Toxiproxy forever; a negative delay), is
 * refused.  chaosrun's own `down` and `refuse` are accepted too (they have
 * no attributes).  Every message here becomes the `error` of a 400. */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Fields of an object must be among `known` (NULL-terminated). */
static int known_fields(const json_t *o, const char *const *known,
                        const char *what, cr_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)o, key, v) {
        int i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i]) {
            char list[256] = "";
            for (int j = 0; known[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", j ? ", " : "", known[j]);
            return cr_err_set(err, CR_EINVAL,
                              "bad request body: unknown field '%s' in %s "
                              "(known: %s)",
                              key, what, list);
        }
    }
    return 0;
}

/* A string field: *out stays untouched when absent or null. */
static int str_field(const json_t *o, const char *key, const char **out,
                     cr_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: '%s' must be a string, not %s",
                          key, json_kind(v));
    *out = json_string_value(v);
    return 0;
}

json_t *cr_proxy__api_num(double v)
{
    if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* ---- proxies ------------------------------------------------------------ */

int cr_proxy__api_proxy_in(const json_t *body, cr_proxy__api_proxy *in,
                           const char *what, cr_err *err)
{
    static const char *const known[] = {"name",    "listen", "upstream",
                                        "enabled", "toxics", NULL};
    int rc;
    if (!json_is_object(body))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: %s must be an object, not %s",
                          what, json_kind(body));
    if ((rc = known_fields(body, known, what, err)) < 0 ||
        (rc = str_field(body, "name", &in->name, err)) < 0 ||
        (rc = str_field(body, "listen", &in->listen, err)) < 0 ||
        (rc = str_field(body, "upstream", &in->upstream, err)) < 0)
        return rc;
    json_t *en = json_object_get(body, "enabled");
    if (en && !json_is_null(en)) {
        if (!json_is_boolean(en))
            return cr_err_set(err, CR_EINVAL,
                              "bad request body: 'enabled' must be a boolean, "
                              "not %s",
                              json_kind(en));
        in->enabled = json_is_true(en);
    }
    /* `toxics` is ignored, as by Toxiproxy: its own Go client sends the
     * proxy's current toxics with every update. */
    json_t *tx = json_object_get(body, "toxics");
    if (tx && !json_is_null(tx) && !json_is_array(tx))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: 'toxics' must be an array, not %s",
                          json_kind(tx));
    return 0;
}

/* Toxiproxy listens where it is told; chaosrun's listeners are loopback
 * unless remote ones were allowed.  The wildcard addresses ("", ":P",
 * "0.0.0.0:P", "[::]:P") mean "anywhere I can be reached" and so become
 * 127.0.0.1 (the API, itself on loopback, has local clients only); any
 * other host is checked by the link (a non-loopback one is refused). */
int cr_proxy__api_listen_addr(int allow_remote, const char *in, char *buf,
                              size_t n, cr_err *err)
{
    const char *any = allow_remote ? "0.0.0.0" : "127.0.0.1";
    if (!in || !*in)
        in = ":0";
    const char *port = NULL;
    if (in[0] == ':')
        port = in + 1;
    else if (!strncmp(in, "0.0.0.0:", 8))
        port = in + 8;
    else if (!strncmp(in, "[::]:", 5))
        port = in + 5;
    else if (in[0] == '[')
        return cr_err_set(err, CR_EINVAL,
                          "listen address '%s': IPv6 is not supported", in);
    if (strlen(in) >= n)
        return cr_err_set(err, CR_EINVAL, "listen address too long");
    if (port)
        snprintf(buf, n, "%s:%s", any, port);
    else
        snprintf(buf, n, "%s", in);
    return 0;
}

json_t *cr_proxy__api_proxy_json(const plink *l)
{
    char la[64];
    cr_proxy__fmt_addr(&l->laddr, la, sizeof la);
    json_t *tox = cr_proxy__api_toxics_json(l);
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", l->name, "listen", la,
                     "upstream", l->upstream, "enabled", l->enabled, "toxics",
                     tox);
}

/* ---- toxics ------------------------------------------------------------- */

json_t *cr_proxy__api_toxic_json(const char *name, const cr_proxy_toxic *t)
{
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[t->type];
    json_t *attrs = json_object();
    for (int i = 0; attrs && i < CR_PROXY_NATTR && k->attr[i].name; i++)
        if (json_object_set_new(attrs, k->attr[i].name,
                                cr_proxy__api_num(t->attr[i])) < 0) {
            json_decref(attrs);
            return NULL;
        }
    /* Toxiproxy's field order; json_pack takes "o" even when it fails. */
    return json_pack("{s:o, s:s, s:s, s:s, s:o}", "attributes", attrs, "name",
                     name, "type", k->name, "stream",
                     cr_proxy_stream_name(t->streams), "toxicity",
                     cr_proxy__api_num(t->toxicity));
}

/* Toxiproxy lists a proxy's upstream toxics, then its downstream ones, each
 * in order of addition; chaosrun's "both" (line protocol only) come last. */
json_t *cr_proxy__api_toxics_json(const plink *l)
{
    static const unsigned order[] = {CR_PROXY_UP, CR_PROXY_DOWN, CR_PROXY_BOTH};
    json_t *a = json_array();
    for (int o = 0; a && o < 3; o++) {
        uint64_t last = 0;
        for (;;) { /* the next by order of addition (32 slots at most) */
            const toxic_rec *best = NULL;
            for (int s = 0; s < MAX_TOXICS; s++) {
                const toxic_rec *tr = l->slot[s];
                if (tr && tr->t.streams == order[o] && tr->seq >= last &&
                    (!best || tr->seq < best->seq))
                    best = tr;
            }
            if (!best)
                break;
            last = best->seq + 1;
            if (json_array_append_new(
                    a, cr_proxy__api_toxic_json(best->name, &best->t)) < 0) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

static int num_value(const json_t *v, const char *what, double *out,
                     cr_err *err)
{
    if (!json_is_number(v))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: %s must be a number, not %s", what,
                          json_kind(v));
    *out = json_number_value(v);
    return 0;
}

/* Attributes on top of t; null values and a null object change nothing. */
static int attrs_in(const json_t *attrs, cr_proxy_toxic *t, cr_err *err)
{
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[t->type];
    const char *key;
    json_t *v;
    if (!attrs || json_is_null(attrs))
        return 0;
    if (!json_is_object(attrs))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: 'attributes' must be an object, "
                          "not %s",
                          json_kind(attrs));
    json_object_foreach ((json_t *)attrs, key, v) {
        int i = 0;
        while (i < CR_PROXY_NATTR && k->attr[i].name &&
               strcmp(k->attr[i].name, key) != 0)
            i++;
        if (i == CR_PROXY_NATTR || !k->attr[i].name) {
            char list[128] = "";
            for (int j = 0; j < CR_PROXY_NATTR && k->attr[j].name; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list),
                         "%s%s", j ? ", " : "", k->attr[j].name);
            return cr_err_set(err, CR_EINVAL,
                              "bad request body: %s has no attribute '%s' "
                              "(%s%s)",
                              k->name, key, *list ? "known: " : "it has none",
                              list);
        }
        if (json_is_null(v))
            continue;
        char what[96];
        snprintf(what, sizeof what, "attribute '%s'", key);
        double d = 0;
        int rc = num_value(v, what, &d, err);
        if (rc < 0)
            return rc;
        t->attr[i] = d;
    }
    return 0;
}

/* toxicity on top of t (absent or null: unchanged), and the rules every
 * toxic obeys. */
static int toxicity_and_check(const json_t *body, cr_proxy_toxic *t,
                              cr_err *err)
{
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[t->type];
    json_t *v = json_object_get(body, "toxicity");
    int rc;
    if (v && !json_is_null(v) &&
        (rc = num_value(v, "'toxicity'", &t->toxicity, err)) < 0)
        return rc;
    if (k->per_link && t->toxicity != 1.0)
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: %s acts on the whole proxy: "
                          "toxicity does not apply (got %g)",
                          k->name, t->toxicity);
    cr_err e2;
    cr_err_clear(&e2);
    if (cr_proxy_toxic_check(t, &e2) < 0)
        return cr_err_set(err, CR_EINVAL, "bad request body: %s", e2.msg);
    return 0;
}

int cr_proxy__api_toxic_new(const json_t *body, cr_proxy_toxic *t, char *name,
                            size_t n, cr_err *err)
{
    static const char *const known[] = {"name",     "type",       "stream",
                                        "toxicity", "attributes", NULL};
    const char *nm = "", *type = NULL, *stream = "downstream";
    int rc;
    if (!json_is_object(body))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: a toxic must be an object, not %s",
                          json_kind(body));
    if ((rc = known_fields(body, known, "a toxic", err)) < 0 ||
        (rc = str_field(body, "name", &nm, err)) < 0 ||
        (rc = str_field(body, "type", &type, err)) < 0 ||
        (rc = str_field(body, "stream", &stream, err)) < 0)
        return rc;
    /* Toxiproxy's order of checks: stream, then type. */
    unsigned streams = 0;
    if (!strcasecmp(stream, "upstream"))
        streams = CR_PROXY_UP;
    else if (!strcasecmp(stream, "downstream"))
        streams = CR_PROXY_DOWN;
    else
        return cr_err_set(err, CR_EINVAL, "%s", CR_PROXY_API_EBADSTREAM);
    int type_id = cr_proxy_toxic_type(type);
    if (type_id < 0)
        return cr_err_set(err, CR_EINVAL, "%s", CR_PROXY_API_EBADTYPE);
    if (strlen(nm) >= n || strpbrk(nm, " \t\r\n"))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: toxic name '%s': at most %zu "
                          "characters, without blanks",
                          nm, n - 1);
    cr_proxy_toxic_init(t, type_id);
    t->streams = streams;
    for (int i = 0; i < CR_PROXY_NATTR; i++)
        if (isnan(t->attr[i]))
            t->attr[i] = 0; /* Toxiproxy's zero value */
    if (*nm)
        snprintf(name, n, "%s", nm);
    else
        snprintf(name, n, "%s_%s", type, cr_proxy_stream_name(streams));
    return 0;
}

int cr_proxy__api_toxic_set(const json_t *body, cr_proxy_toxic *t, cr_err *err)
{
    int rc = attrs_in(json_object_get(body, "attributes"), t, err);
    return rc < 0 ? rc : toxicity_and_check(body, t, err);
}

int cr_proxy__api_toxic_edit(const json_t *body, const char *name,
                             cr_proxy_toxic *t, cr_err *err)
{
    static const char *const known[] = {"name",     "type",       "stream",
                                        "toxicity", "attributes", NULL};
    const char *nm = NULL, *type = NULL, *stream = NULL;
    const cr_proxy_toxic_kind *k = &cr_proxy_toxic_kinds()[t->type];
    int rc;
    if (!json_is_object(body))
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: a toxic must be an object, not %s",
                          json_kind(body));
    if ((rc = known_fields(body, known, "a toxic", err)) < 0 ||
        (rc = str_field(body, "name", &nm, err)) < 0 ||
        (rc = str_field(body, "type", &type, err)) < 0 ||
        (rc = str_field(body, "stream", &stream, err)) < 0)
        return rc;
    /* Clients send the whole toxic back: what cannot change must be what
     * it is (Toxiproxy would drop a change without a word). */
    if (nm && *nm && strcmp(nm, name) != 0)
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: a toxic cannot be renamed "
                          "('%s' to '%s'); remove it and add another",
                          name, nm);
    if (type && *type && strcmp(type, k->name) != 0)
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: the type of toxic '%s' (%s) "
                          "cannot change; remove it and add another",
                          name, k->name);
    if (stream && *stream &&
        strcasecmp(stream, cr_proxy_stream_name(t->streams)) != 0)
        return cr_err_set(err, CR_EINVAL,
                          "bad request body: the stream of toxic '%s' (%s) "
                          "cannot change; remove it and add another",
                          name, cr_proxy_stream_name(t->streams));
    return cr_proxy__api_toxic_set(body, t, err);
}
