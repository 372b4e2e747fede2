/* cr_cli_sched: what `chaosrun shrink` and `chaosrun explore` share --
 * concrete scenario documents (a scenario with its faults replaced by a
 * fixed schedule), writing and loading them, one run with nothing on the
 * terminal, a journal's verdicts, durations on the command line. */
#include "cr_cli.h"
#include "cr_cli_internal.h"

#include "reports/cr_report.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double cr_cli__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cr_cli__ms(double x)
{
    return floor(x * 1000 + 0.5) / 1000;
}

int cr_cli__parse_duration(const char *s, double *out)
{
    char *end;
    double unit;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno)
        return -1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else
        return -1;
    v *= unit;
    if (!(v > 0) || v > 7 * 86400.0) /* NaN fails too */
        return -1;
    *out = v;
    return 0;
}

int cr_cli__mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void cr_cli__scen_dir(const char *file, char *out, size_t n)
{
    char real[PATH_MAX], tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", file);
    if (realpath(file, real)) {
        snprintf(tmp, sizeof tmp, "%s", real);
        snprintf(out, n, "%s", dirname(tmp));
    } else {
        out[0] = '\0';
    }
}

/* Replace "${CHAOSRUN_SCENARIO_DIR}" in every string of v (in place). */
static int pin_scen_dir(json_t *v, const char *dir)
{
    static const char var[] = "${CHAOSRUN_SCENARIO_DIR}";
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach (v, key, x)
            if (pin_scen_dir(x, dir) != 0)
                return -1;
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, x)
            if (pin_scen_dir(x, dir) != 0)
                return -1;
    } else if (json_is_string(v) && strstr(json_string_value(v), var)) {
        char buf[8192];
        const char *s = json_string_value(v), *m;
        size_t k = 0;
        while ((m = strstr(s, var)) && k < sizeof buf) {
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%.*s%s",
                                  (int)(m - s), s, dir);
            s = m + sizeof var - 1;
        }
        if (k < sizeof buf)
            snprintf(buf + k, sizeof buf - k, "%s", s);
        return json_string_set(v, buf);
    }
    return 0;
}

json_t *cr_cli__concrete_doc(const json_t *root, const json_t *faults,
                             uint64_t seed, double duration_s,
                             const char *scen_dir)
{
    json_t *doc = json_deep_copy(root);
    if (!doc)
        return NULL;
    json_object_del(doc, "explore");
    if (json_object_set_new(doc, "faults", json_deep_copy(faults)) != 0 ||
        json_object_set_new(doc, "seed", json_integer((json_int_t)seed)) ||
        json_object_set_new(doc, "duration_s", json_real(duration_s)) ||
        (scen_dir && *scen_dir && pin_scen_dir(doc, scen_dir) != 0)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int cr_cli__doc_load(const json_t *doc, const char *path, cr_scen **sc)
{
    *sc = NULL;
    if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        fprintf(stderr, "chaosrun: cannot write %s: %s\n", path,
                strerror(errno));
        return 4;
    }
    return cr_cli_load(path, sc);
}

int cr_cli__run_quiet(cr_scen *sc, const char *dir, json_t **journal)
{
    cr_cli_out o;
    cr_run_result res;
    cr_run_opts ro = {0};
    cr_cli_view v = {1, CR_COLOR_NEVER};
    cr_err e;
    if (journal)
        *journal = NULL;
    cr_cli__out_init(&o, &v);
    ro.out = &o.iface;
    ro.out_dir = dir;
    ro.argv0 = "chaosrun";
    int rc = cr_run_scenario(sc, &ro, &res);
    if (res.err.code)
        fprintf(stderr, "chaosrun: %s: %s\n", dir, res.err.msg);
    cr_err_clear(&e);
    if (res.journal && res.dir && cr_report_write_all(res.dir, &e) != 0)
        fprintf(stderr, "chaosrun: reports of %s: %s\n", res.dir, e.msg);
    if (journal && res.journal)
        *journal = json_incref(res.journal);
    cr_run_result_free(&res);
    return rc;
}

const char *cr_cli__verdict(const json_t *journal, const char *name)
{
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(journal, "expectations"), i, x) {
        const char *n = json_string_value(json_object_get(x, "name"));
        if (n && strcmp(n, name) == 0)
            return json_string_value(json_object_get(x, "verdict"));
    }
    return NULL;
}

const char *cr_cli__first_failed(const json_t *journal)
{
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(journal, "expectations"), i, x) {
        const char *v = json_string_value(json_object_get(x, "verdict"));
        if (v && strcmp(v, "failed") == 0)
            return json_string_value(json_object_get(x, "name"));
    }
    return NULL;
}

int cr_cli__interrupted(const json_t *journal)
{
    const char *st = json_string_value(json_object_get(journal, "status"));
    return st && strcmp(st, "interrupted") == 0;
}

void cr_cli__dur_text(char *buf, size_t n, double s)
{
    if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else
        snprintf(buf, n, "%d min %02d s", (int)(s / 60), (int)s % 60);
}

/* ---- the concrete schedule of a journal ---------------------------------- */

static const json_t *spec_of(const json_t *root, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(root, "faults"), i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

/* The fault object of one applied occurrence rec; NULL: not concrete
 * (no spec, out of memory). */
static json_t *concrete_fault(const json_t *root, const json_t *rec)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    const char *tgt = json_string_value(json_object_get(rec, "target"));
    const json_t *spec = name ? spec_of(root, name) : NULL;
    json_t *at = json_object_get(rec, "scheduled_t");
    double for_s = json_number_value(json_object_get(rec, "for_s"));
    char nm[160];
    if (!spec)
        return NULL;
    if (!json_is_number(at))
        at = json_object_get(rec, "applied_t");
    /* A fault triggered by the system's state (on_event, on_ready) stays
     * triggered: fired at its original instant instead, it would hit
     * whatever the system is doing then on this run -- a guess about the
     * machine's speed, which a replay must not make. */
    int trig =
        json_object_get(spec, "on_event") || json_object_get(spec, "on_ready");
    json_t *f = json_deep_copy(spec);
    if (!f)
        return NULL;
    static const char *const drop[] = {"at_s", "every_s", "until_s", "for_s"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(f, drop[i]);
    snprintf(nm, sizeof nm, "%s.%lld", name,
             (long long)json_integer_value(json_object_get(rec, "occurrence")));
    /* One instance hit: aim at it (a drawn "svc.random" is replayed). */
    if (tgt && strcmp(tgt, "-") != 0 && !strchr(tgt, ','))
        json_object_set_new(f, "target", json_string(tgt));
    json_object_set_new(f, "name", json_string(nm));
    if (!trig)
        json_object_set_new(
            f, "at_s", json_real(floor(json_number_value(at) * 1000) / 1000));
    if (for_s > 0)
        json_object_set_new(f, "for_s", json_real(for_s));
    return f;
}

static int by_at(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "at_s"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "at_s"));
    return (x > y) - (x < y);
}

json_t *cr_cli__journal_schedule(const json_t *j)
{
    const json_t *root = json_object_get(j, "scenario");
    size_t i, n = 0;
    json_t *rec, *arr = json_array();
    json_t **v =
        calloc(json_array_size(json_object_get(j, "faults")) + 1, sizeof *v);
    if (!arr || !v)
        goto fail;
    json_array_foreach (json_object_get(j, "faults"), i, rec) {
        const char *oc = json_string_value(json_object_get(rec, "outcome"));
        if (!oc || strcmp(oc, "applied") != 0)
            continue; /* failed or skipped: it changed nothing */
        if (!(v[n] = concrete_fault(root, rec)))
            goto fail;
        n++;
    }
    qsort(v, n, sizeof *v, by_at);
    for (i = 0; i < n; i++)
        if (json_array_append_new(arr, v[i]) != 0)
            goto fail;
    free(v);
    return arr;
fail:
    json_decref(arr);
    free(v);
    return NULL;
}
