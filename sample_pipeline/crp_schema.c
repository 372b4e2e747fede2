/* crp_schema: see crp_schema.h. */
#include "crp_schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int only_keys(json_t *rec, const char *const *keys, char *reason,
                     size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach (rec, k, v) {
        int ok = 0;
        for (int i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0)
                ok = 1;
        if (!ok) {
            snprintf(reason, n, "%s: unknown field", k);
            return -1;
        }
    }
    return 0;
}

static int check_vec(json_t *a, const char *name, char *reason, size_t n)
{
    if (!json_is_array(a)) {
        snprintf(reason, n, "%s: required array", name);
        return -1;
    }
    if (json_array_size(a) != CRP_DIM) {
        snprintf(reason, n, "%s: %zu values, expected %d", name,
                 json_array_size(a), CRP_DIM);
        return -1;
    }
    for (size_t i = 0; i < CRP_DIM; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_number(e)) {
            snprintf(reason, n, "%s[%zu]: not a number", name, i);
            return -1;
        }
        double d = json_number_value(e);
        if (!isfinite(d) || d < -100 || d > 100) {
            snprintf(reason, n, "%s[%zu]: out of range [-100,100]", name, i);
            return -1;
        }
    }
    return 0;
}

static int check_str(json_t *rec, const char *key, char *reason, size_t n)
{
    json_t *s = json_object_get(rec, key);
    if (!json_is_string(s)) {
        snprintf(reason, n, "%s: required string", key);
        return -1;
    }
    size_t l = strlen(json_string_value(s));
    if (l < 1 || l > 64) {
        snprintf(reason, n, "%s: length %zu not in [1,64]", key, l);
        return -1;
    }
    return 0;
}

static int check_ts(json_t *rec, const char *key, char *reason, size_t n)
{
    json_t *t = json_object_get(rec, key);
    if (!json_is_number(t) || json_number_value(t) < 0) {
        snprintf(reason, n, "%s: required number >= 0", key);
        return -1;
    }
    return 0;
}

static int check_v2(json_t *rec, char *reason, size_t n)
{
    static const char *const keys[] = {"schema", "src",    "ts", "x",
                                       "label",  "weight", NULL};
    if (only_keys(rec, keys, reason, n) < 0 ||
        check_str(rec, "src", reason, n) < 0 ||
        check_ts(rec, "ts", reason, n) < 0 ||
        check_vec(json_object_get(rec, "x"), "x", reason, n) < 0)
        return -1;
    json_t *l = json_object_get(rec, "label");
    if (!json_is_integer(l) ||
        (json_integer_value(l) != 0 && json_integer_value(l) != 1)) {
        snprintf(reason, n, "label: required 0 or 1");
        return -1;
    }
    json_t *w = json_object_get(rec, "weight");
    if (w && (!json_is_number(w) || !(json_number_value(w) > 0) ||
              json_number_value(w) > 10)) {
        snprintf(reason, n, "weight: not in (0,10]");
        return -1;
    }
    return 0;
}

static int check_v1(json_t *rec, char *reason, size_t n)
{
    static const char *const keys[] = {"schema",   "source", "time",
                                       "features", "class",  NULL};
    if (only_keys(rec, keys, reason, n) < 0 ||
        check_str(rec, "source", reason, n) < 0 ||
        check_ts(rec, "time", reason, n) < 0 ||
        check_vec(json_object_get(rec, "features"), "features", reason, n) < 0)
        return -1;
    json_t *c = json_object_get(rec, "class");
    const char *cs = json_string_value(c);
    if (!cs || (strcmp(cs, "a") != 0 && strcmp(cs, "b") != 0)) {
        snprintf(reason, n, "class: required \"a\" or \"b\"");
        return -1;
    }
    return 0;
}

static void upgrade_v1(json_t *rec)
{
    int label =
        strcmp(json_string_value(json_object_get(rec, "class")), "b") == 0;
    json_object_set(rec, "src", json_object_get(rec, "source"));
    json_object_set(rec, "ts", json_object_get(rec, "time"));
    json_object_set(rec, "x", json_object_get(rec, "features"));
    json_object_set_new(rec, "label", json_integer(label));
    json_object_set_new(rec, "weight", json_real(1.0));
    json_object_set_new(rec, "schema", json_integer(2));
    json_object_del(rec, "source");
    json_object_del(rec, "time");
    json_object_del(rec, "features");
    json_object_del(rec, "class");
}

int crp_schema_check(json_t *rec, char *reason, size_t n)
{
    if (!json_is_object(rec)) {
        snprintf(reason, n, "record: not a JSON object");
        return -1;
    }
    json_t *s = json_object_get(rec, "schema");
    if (!json_is_integer(s)) {
        snprintf(reason, n, "schema: required integer");
        return -1;
    }
    switch (json_integer_value(s)) {
    case 2:
        if (check_v2(rec, reason, n) < 0)
            return -1;
        if (!json_object_get(rec, "weight"))
            json_object_set_new(rec, "weight", json_real(1.0));
        return 0;
    case 1:
        if (check_v1(rec, reason, n) < 0)
            return -1;
        upgrade_v1(rec);
        return 1;
    default:
        snprintf(reason, n, "schema: unsupported version %lld",
                 (long long)json_integer_value(s));
        return -1;
    }
}
