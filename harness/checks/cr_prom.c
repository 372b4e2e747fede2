/* cr_prom: Prometheus text format 0.0.4 parser (see cr_prom.h). */
#include "cr_prom.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

static int name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}
static int name_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Parse a float as Prometheus does: Go ParseFloat syntax, incl. +Inf,
 * -Inf, NaN (any case).  Returns the end or NULL. */
static const char *parse_float(const char *p, const char *end, double *out)
{
    char tmp[64];
    size_t n = 0;
    while (p + n < end && p[n] != ' ' && p[n] != '\t')
        n++;
    if (n == 0 || n >= sizeof tmp)
        return NULL;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *e;
    errno = 0;
    double v = strtod(tmp, &e);
    if (*e != '\0' || e == tmp)
        return NULL;
    *out = v;
    return p + n;
}

/* A quoted label value at *pp (just after the opening quote), appended
 * to key with its escapes kept; *pp ends after the closing quote.  0,
 * CR_EPROTO (*why set) or CR_ENOMEM. */
static int parse_label_value(const char **pp, const char *end, cr_sbuf *key,
                             const char **why)
{
    const char *p = *pp;
    for (;;) {
        if (p >= end) {
            *why = "unterminated label value";
            return CR_EPROTO;
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            if (cr_sbuf_add(key, p++, 1) < 0)
                return CR_ENOMEM;
            continue;
        }
        if (p + 1 >= end) {
            *why = "unterminated escape in a label value";
            return CR_EPROTO;
        }
        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
            *why = "invalid escape in a label value (only \\\\, \\\" and \\n)";
            return CR_EPROTO;
        }
        if (cr_sbuf_add(key, p, 2) < 0) /* the escape as written */
            return CR_ENOMEM;
        p += 2;
    }
    *pp = p + 1;
    return 0;
}

/* The label set at *pp (just after '{'), appended to key as
 * {name="value",...} (nothing for an empty set: name{} is just name); *pp
 * ends after '}'.  0, CR_EPROTO (*why set) or CR_ENOMEM. */
static int parse_labels(const char **pp, const char *end, cr_sbuf *key,
                        const char **why)
{
    const char *p = *pp;
    int first = 1, rc;
    if (cr_sbuf_add(key, "{", 1) < 0)
        return CR_ENOMEM;
    for (;;) {
        p = skip_ws(p, end);
        if (p < end && *p == '}') { /* also after a trailing comma */
            p++;
            break;
        }
        if (p >= end || !(isalpha((unsigned char)*p) || *p == '_')) {
            *why = "expected a label name or '}'";
            return CR_EPROTO;
        }
        const char *s = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
        if ((!first && cr_sbuf_add(key, ",", 1) < 0) ||
            cr_sbuf_add(key, s, (size_t)(p - s)) < 0 ||
            cr_sbuf_add(key, "=\"", 2) < 0)
            return CR_ENOMEM;
        first = 0;
        p = skip_ws(p, end);
        if (p >= end || *p != '=') {
            *why = "expected '=' after a label name";
            return CR_EPROTO;
        }
        p = skip_ws(p + 1, end);
        if (p >= end || *p != '"') {
            *why = "expected '\"' to open a label value";
            return CR_EPROTO;
        }
        p++;
        if ((rc = parse_label_value(&p, end, key, why)) < 0)
            return rc;
        if (cr_sbuf_add(key, "\"", 1) < 0)
            return CR_ENOMEM;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        *why = "expected ',' or '}' after a label value";
        return CR_EPROTO;
    }
    if (first)
        key->n--, key->s[key->n] = '\0'; /* name{} is just name */
    else if (cr_sbuf_add(key, "}", 1) < 0)
        return CR_ENOMEM;
    *pp = p;
    return 0;
}

/* The value and the optional timestamp after the key: [after, end).  0 or
 * CR_EPROTO (*why set). */
static int parse_value(const char *after, const char *end, double *val,
                       const char **why)
{
    const char *q = skip_ws(after, end);
    if (q == after && q < end) {
        *why = "expected whitespace before the value";
        return CR_EPROTO;
    }
    const char *p = parse_float(q, end, val);
    if (!p) {
        *why = "invalid sample value";
        return CR_EPROTO;
    }
    p = skip_ws(p, end);
    if (p == end)
        return 0;
    /* optional timestamp: an integer of milliseconds */
    if (*p == '-' || *p == '+')
        p++;
    if (p >= end || !isdigit((unsigned char)*p)) {
        *why = "invalid timestamp";
        return CR_EPROTO;
    }
    while (p < end && isdigit((unsigned char)*p))
        p++;
    if (skip_ws(p, end) != end) {
        *why = "unexpected text after the timestamp";
        return CR_EPROTO;
    }
    return 0;
}

/* One sample line [p, end).  Appends the key to key (reset first). */
static int parse_line(const char *p, const char *end, cr_sbuf *key, double *val,
                      const char **why)
{
    key->n = 0;
    if (p >= end || !name_start((unsigned char)*p)) {
        *why = "expected a metric name";
        return CR_EPROTO;
    }
    const char *s = p;
    while (p < end && name_char((unsigned char)*p))
        p++;
    if (cr_sbuf_add(key, s, (size_t)(p - s)) < 0)
        return CR_ENOMEM;
    const char *after = p; /* where the value's leading whitespace starts */
    const char *q = skip_ws(p, end);
    if (q < end && *q == '{') {
        q++;
        int rc = parse_labels(&q, end, key, why);
        if (rc < 0)
            return rc;
        after = q;
    }
    return parse_value(after, end, val, why);
}

static json_t *value_json(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "+Inf" : "-Inf");
    return json_real(v);
}

int cr_prom_parse(const char *text, json_t **samples_out, cr_err *err)
{
    int rc = 0;
    cr_sbuf key = {0};
    json_t *o = json_object();
    *samples_out = NULL;
    if (!o)
        return cr_err_set(err, CR_ENOMEM, "prometheus: out of memory");
    const char *p = text;
    for (int line = 1; *p; line++) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *next = nl ? nl + 1 : end;
        if (end > p && end[-1] == '\r')
            end--;
        const char *s = skip_ws(p, end);
        if (s == end || *s == '#') {
            p = next;
            continue;
        }
        double v;
        const char *why = "";
        rc = parse_line(s, end, &key, &v, &why);
        if (rc == CR_EPROTO) {
            rc = cr_err_set(err, CR_EPROTO, "prometheus line %d: %s: %.*s",
                            line, why, (int)(end - p > 80 ? 80 : end - p), p);
            goto out;
        }
        json_t *jv = rc == 0 ? value_json(v) : NULL;
        if (!jv || json_object_set_new(o, key.s, jv) != 0) {
            rc = cr_err_set(err, CR_ENOMEM, "prometheus: out of memory");
            goto out;
        }
        p = next;
    }
    *samples_out = o;
    o = NULL;
out:
    json_decref(o);
    cr_free(key.s);
    return rc;
}

double cr_prom_value(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    const char *s = json_string_value(v);
    if (!s)
        return NAN;
    if (!strcmp(s, "+Inf"))
        return INFINITY;
    if (!strcmp(s, "-Inf"))
        return -INFINITY;
    if (!strcmp(s, "NaN"))
        return NAN;
    return NAN;
}

/* ---- scraping --------------------------------------------------------- */

#define CR_PROM_BODY_MAX (16u << 20)

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    cr_sbuf *b = ud;
    size_t n = size * nmemb;
    if (b->n + n > CR_PROM_BODY_MAX || cr_sbuf_add(b, data, n) < 0)
        return 0; /* makes curl fail the transfer */
    return n;
}

int cr_prom_scrape(const char *run_dir, double t, const char *url,
                   double timeout_s, cr_err *err)
{
    int rc = 0;
    cr_sbuf body = {0};
    json_t *samples = NULL, *line = NULL;
    char *text = NULL;
    FILE *fp = NULL;
    char path[4096];
    CURL *c = curl_easy_init();
    if (!c)
        return cr_err_set(err, CR_ENOMEM, "scrape %s: curl_easy_init failed",
                          url);
    if (cr_sbuf_add(&body, "", 0) < 0) {
        rc = cr_err_set(err, CR_ENOMEM, "scrape %s: out of memory", url);
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = cr_err_set(err, CR_EPROTO, "scrape %s: %s", url,
                        curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        rc = cr_err_set(err, CR_EPROTO, "scrape %s: HTTP status %ld", url,
                        status);
        goto out;
    }
    rc = cr_prom_parse(body.s, &samples, err);
    if (rc < 0)
        goto out;
    line = json_pack("{s:f,s:s,s:O}", "t", t, "url", url, "samples", samples);
    text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (!text) {
        rc = cr_err_set(err, CR_ENOMEM, "scrape %s: out of memory", url);
        goto out;
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    fp = fopen(path, "ae");
    if (!fp || fprintf(fp, "%s\n", text) < 0 || fflush(fp) != 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "scrape %s: append to %s", url,
                        path);
        goto out;
    }
out:
    if (fp && fclose(fp) != 0 && rc == 0)
        rc = cr_err_sys(err, CR_ESYS, errno, "scrape %s: append to %s", url,
                        path);
    cr_free(text);
    json_decref(line);
    json_decref(samples);
    cr_free(body.s);
    curl_easy_cleanup(c);
    return rc;
}
