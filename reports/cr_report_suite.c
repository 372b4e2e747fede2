/* cr_report_suite: the suite views (part of the cr_report module, see
 * cr_report.h): one junit.xml, index.html and index.md over the runs of a
 * suite, its manifest suite.json, and the merge of several suites -- the
 * shards of a CI matrix -- into one, as if one suite had run them all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "cr_fmt.h"
#include "cr_html.h"
#include "cr_junit.h"
#include "cr_report.h"
#include "cr_report_internal.h"

static int severity(const char *status)
{
    return cr_fmt_verdict_of(status)->severity;
}

static int cmp_sev(const void *a, const void *b)
{
    const cr_report *x = *(cr_report *const *)a, *y = *(cr_report *const *)b;
    int d = severity(cr_report_verdict(x)) - severity(cr_report_verdict(y));
    return d ? d : strcmp(x->name, y->name);
}

/* A run's exit status: the journal's exit_code, else what its status
 * means (README.md, "Exit status"). */
static int run_exit(const cr_report *r)
{
    static const struct {
        const char *status;
        int code;
    } map[] = {{"passed", 0},      {"failed", 1}, {"unrunnable", 3},
               {"interrupted", 4}, {"error", 4},  {"startup_failed", 5},
               {"aborted", 5}};
    if (r->exit_code >= 0)
        return r->exit_code;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (r->status && !strcmp(r->status, map[i].status))
            return map[i].code;
    return 4;
}

/* The chaosrun version a run's journal names ("" when absent). */
static const char *run_version(const cr_report *r)
{
    const char *v = cr_rep_jstr(r->journal, "chaosrun");
    return v ? v : "";
}

static json_t *shard_json(const cr_suite_shard *sh)
{
    if (!sh || !sh->count)
        return json_null();
    return json_pack("{s:I, s:I, s:s}", "index", (json_int_t)sh->index, "count",
                     (json_int_t)sh->count, "hash",
                     "fnv1a64(basename) % count");
}

/* What a suite's pages say about where it came from. */
typedef struct suite_origin {
    const cr_suite_shard *shard; /* this suite is one shard, or NULL */
    size_t merged;               /* merged from this many suites, or 0 */
    const char *version;         /* of the runs */
    json_t *merged_from;         /* the inputs (stolen into suite.json) */
} suite_origin;

static void origin_text(const suite_origin *o, char *buf, size_t n)
{
    if (o->shard && o->shard->count)
        snprintf(buf, n, "shard %u of %u", o->shard->index, o->shard->count);
    else if (o->merged)
        snprintf(buf, n, "merged from %zu suite%s", o->merged,
                 o->merged == 1 ? "" : "s");
    else
        buf[0] = '\0';
}

/* A relative link target for Markdown: bytes other than letters, digits,
 * '/', '.', '-', '_' and '~' percent-encoded, so that no scenario name can
 * end the link or the table cell. */
static void md_url(cr_out *md, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/.-_~", *p))
            cr_out_printf(md, "%c", *p);
        else
            cr_out_printf(md, "%%%02X", *p);
    }
}

static void write_md(cr_out *md, const cr_rep_runs *rs, const char *out_path,
                     const size_t counts[5], const char *orig)
{
    const char *worst = rs->n ? cr_report_verdict(rs->r[0]) : "passed";
    cr_out_printf(md, "## chaosrun suite: %zu scenario%s \xE2\x80\x94 %s\n\n",
                  rs->n, rs->n == 1 ? "" : "s", cr_fmt_verdict_of(worst)->md);
    cr_out_printf(md,
                  "%zu passed \xC2\xB7 %zu failed \xC2\xB7 %zu interrupted "
                  "\xC2\xB7 %zu unrunnable \xC2\xB7 %zu error%s%s\n\n",
                  counts[4], counts[3], counts[2], counts[1], counts[0],
                  *orig ? " \xC2\xB7 " : "", orig);
    if (!rs->n)
        return;
    cr_out_puts(md, "| Scenario | Verdict | Held | Seed | Duration | Report "
                    "|\n|---|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < rs->n; i++) {
        const cr_report *r = rs->r[i];
        char d[32];
        char *ml = cr_rep_rel_path(out_path, r->dir, "report.md");
        cr_fmt_dur(d, sizeof d, r->ended_at - r->started_at);
        cr_out_puts(md, "| ");
        cr_out_md(md, r->name);
        cr_out_printf(md, " | %s | %zu/%zu | %llu | %s | ",
                      cr_fmt_verdict_of(cr_report_verdict(r))->md, r->npassed,
                      r->nex, r->seed, d);
        cr_out_puts(md, "[report.md](");
        md_url(md, ml ? ml : "");
        cr_out_puts(md, ") |\n");
        cr_free(ml);
    }
}

static void write_html(cr_out *h, const cr_rep_runs *rs, const char *out_path,
                       const size_t counts[5], const char *orig)
{
    cr_html_begin(h, "chaosrun suite");
    const char *worst = rs->n ? cr_report_verdict(rs->r[0]) : "passed";
    cr_out_puts(h,
                "<header class=\"top\"><div class=\"in\"><div class=\"kicker\">"
                "chaosrun suite</div><h1>");
    cr_out_printf(h, "%zu scenario%s ", rs->n, rs->n == 1 ? "" : "s");
    cr_html_badge(h, worst);
    cr_out_printf(h,
                  "</h1><p class=\"desc\">%zu passed \xC2\xB7 %zu failed "
                  "\xC2\xB7 %zu interrupted \xC2\xB7 %zu unrunnable \xC2\xB7 "
                  "%zu error \xC2\xB7 worst first",
                  counts[4], counts[3], counts[2], counts[1], counts[0]);
    if (*orig) {
        cr_out_puts(h, " \xC2\xB7 <span class=\"origin\">");
        cr_out_esc(h, orig);
        cr_out_puts(h, "</span>");
    }
    cr_out_puts(
        h, "</p></div></header><main>"
           "<section class=\"card\"><div class=\"tw\"><table class=\"suite\">"
           "<thead><tr><th>scenario</th><th>verdict</th><th>held</th>"
           "<th>seed</th><th>duration</th><th>reports</th></tr></thead>"
           "<tbody>");
    for (size_t i = 0; i < rs->n; i++) {
        const cr_report *r = rs->r[i];
        char *hl = cr_rep_rel_path(out_path, r->dir, "report.html");
        char *ml = cr_rep_rel_path(out_path, r->dir, "report.md");
        char d[32];
        cr_fmt_dur(d, sizeof d, r->ended_at - r->started_at);
        cr_out_puts(h, "<tr><td><a href=\"");
        cr_out_esc(h, hl ? hl : "");
        cr_out_puts(h, "\">");
        cr_out_esc(h, r->name);
        cr_out_puts(h, "</a>");
        if (r->error) {
            cr_out_puts(h, "<div class=\"note\">");
            cr_out_esc(h, r->error);
            cr_out_puts(h, "</div>");
        }
        cr_out_puts(h, "</td><td>");
        cr_html_badge(h, cr_report_verdict(r));
        cr_out_printf(
            h,
            "</td><td class=\"num\">%zu/%zu</td><td class=\"num\">%llu</td>"
            "<td class=\"num\">%s</td><td><a href=\"",
            r->npassed, r->nex, r->seed, d);
        cr_out_esc(h, hl ? hl : "");
        cr_out_puts(h, "\">html</a> \xC2\xB7 <a href=\"");
        cr_out_esc(h, ml ? ml : "");
        cr_out_puts(h, "\">md</a></td></tr>");
        cr_free(hl);
        cr_free(ml);
    }
    cr_out_puts(h, "</tbody></table></div></section></main>");
    cr_html_end(h);
}

/* suite.json: the manifest cr_report_merge() reads. */
static json_t *manifest(const cr_rep_runs *rs, const char *out_path,
                        suite_origin *o, int worst_exit)
{
    json_t *runs = json_array();
    json_t *m =
        json_pack("{s:s, s:i, s:o, s:s, s:i, s:o}", "chaosrun", o->version,
                  "format", 1, "shard", shard_json(o->shard), "status",
                  rs->n ? cr_report_verdict(rs->r[0]) : "passed", "exit_code",
                  worst_exit, "runs", runs);
    if (!m)
        return NULL;
    if (o->merged_from) {
        json_object_set_new(m, "merged_from", o->merged_from);
        o->merged_from = NULL;
    }
    for (size_t i = 0; i < rs->n; i++) {
        const cr_report *r = rs->r[i];
        char *jl = cr_rep_rel_path(out_path, r->dir, "journal.json");
        json_t *e = jl ? json_pack("{s:s, s:s, s:i, s:s}", "name", r->name,
                                   "status", cr_report_verdict(r), "exit_code",
                                   run_exit(r), "journal", jl)
                       : NULL;
        cr_free(jl);
        if (!e || json_array_append_new(runs, e) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

static int write_at(int dfd, const char *name, const cr_out *o, cr_err *err)
{
    if (o->failed)
        return cr_err_set(err, CR_ENOMEM, "writing %s: out of memory", name);
    int rc = cr_dir_write(dfd, name, cr_out_str(o), o->n, 0644, err);
    return rc < 0 ? rc : 0;
}

/* The suite's four files into dfd (out_path names it, for the links). */
static int suite_write(cr_rep_runs *rs, int dfd, const char *out_path,
                       suite_origin *o, cr_err *err)
{
    cr_out x, h, md, js;
    cr_out_init(&x);
    cr_out_init(&h);
    cr_out_init(&md);
    cr_out_init(&js);
    json_t *m = NULL;
    char *jtext = NULL;
    int rc, worst_exit = 0;
    char orig[96];
    qsort(rs->r, rs->n, sizeof *rs->r, cmp_sev);
    size_t T = 0, F = 0, E = 0, counts[5] = {0};
    double time_s = 0;
    for (size_t i = 0; i < rs->n; i++) {
        size_t t, f, e;
        double s;
        cr_junit_counts(rs->r[i], &t, &f, &e, &s);
        T += t, F += f, E += e, time_s += s;
        counts[severity(cr_report_verdict(rs->r[i]))]++;
        if (run_exit(rs->r[i]) > worst_exit)
            worst_exit = run_exit(rs->r[i]);
    }
    cr_junit_begin(&x, "chaosrun suite", T, F, E, time_s);
    for (size_t i = 0; i < rs->n; i++)
        cr_junit_suite(rs->r[i], &x);
    cr_junit_end(&x);
    origin_text(o, orig, sizeof orig);
    write_html(&h, rs, out_path, counts, orig);
    write_md(&md, rs, out_path, counts, orig);
    m = manifest(rs, out_path, o, worst_exit);
    jtext = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (!jtext) {
        rc = cr_err_set(err, CR_ENOMEM, "writing suite.json: out of memory");
        goto out;
    }
    cr_out_puts(&js, jtext);
    cr_out_puts(&js, "\n");
    if ((rc = write_at(dfd, "junit.xml", &x, err)) == 0 &&
        (rc = write_at(dfd, "index.html", &h, err)) == 0 &&
        (rc = write_at(dfd, "index.md", &md, err)) == 0)
        rc = write_at(dfd, "suite.json", &js, err);
out:
    free(jtext);
    json_decref(m);
    cr_out_free(&x);
    cr_out_free(&h);
    cr_out_free(&md);
    cr_out_free(&js);
    return rc;
}

int cr_report_suite_shard(const char *const *run_dirs, size_t n,
                          const cr_suite_shard *shard, const char *out_dir,
                          cr_err *err)
{
    cr_rep_runs rs = {0};
    int dfd = -1, rc;
    char path[PATH_MAX];
    suite_origin o = {.shard = shard, .version = CR_VERSION};
    if ((rc = cr_rep_runs_load(run_dirs, n, &rs, err)) < 0 ||
        (rc = cr_rep_ensure_dir(out_dir, err)) < 0)
        goto out;
    /* The directory is the caller's (named on the command line); what is
     * in it is never followed. */
    if ((dfd = cr_dir_open(out_dir, err)) < 0) {
        rc = dfd;
        goto out;
    }
    if ((rc = cr_dir_path(dfd, path, sizeof path, err)) < 0)
        goto out;
    if (rs.n)
        o.version = run_version(rs.r[0]);
    rc = suite_write(&rs, dfd, path, &o, err);
out:
    if (dfd >= 0)
        close(dfd);
    cr_rep_runs_free(&rs);
    return rc;
}

int cr_report_suite(const char *const *run_dirs, size_t n, const char *out_dir,
                    cr_err *err)
{
    return cr_report_suite_shard(run_dirs, n, NULL, out_dir, err);
}

/* ---- merge ------------------------------------------------------------- */

/* One input suite of a merge. */
typedef struct merge_in {
    const char *dir;
    json_t *m; /* its suite.json */
    const char *version;
    cr_suite_shard shard;
    size_t first, n; /* its runs in the merged list */
} merge_in;

/* Read dir/suite.json (never through a link) into in. */
static int read_manifest(const char *dir, merge_in *in, cr_err *err)
{
    cr_err e;
    json_error_t je;
    cr_err_clear(&e);
    FILE *fp = cr_dir_fopen_in(dir, "suite.json", &e);
    if (!fp)
        return cr_err_set(err, e.code == CR_ENOTFOUND ? CR_ENOTFOUND : e.code,
                          "merging %s: no suite manifest (%s); give the "
                          "directories that `chaosrun suite --out` wrote",
                          dir, e.msg);
    in->dir = dir;
    in->m = json_loadf(fp, 0, &je);
    fclose(fp);
    if (!in->m)
        return cr_err_set(err, CR_EPROTO, "merging %s: suite.json:%d:%d: %s",
                          dir, je.line, je.column, je.text);
    const json_t *sh = json_object_get(in->m, "shard");
    in->version = cr_rep_jstr(in->m, "chaosrun");
    if (!json_is_object(in->m) || !in->version ||
        !json_is_array(json_object_get(in->m, "runs")) ||
        !(json_is_null(sh) || json_is_object(sh)))
        return cr_err_set(err, CR_EPROTO,
                          "merging %s: suite.json is not a suite manifest "
                          "(\"chaosrun\", \"shard\" and \"runs\" expected)",
                          dir);
    if (json_is_object(sh)) {
        json_int_t k = json_integer_value(json_object_get(sh, "index"));
        json_int_t c = json_integer_value(json_object_get(sh, "count"));
        if (c < 1 || k < 1 || k > c || c > 1000000)
            return cr_err_set(err, CR_EPROTO,
                              "merging %s: suite.json: shard %lld/%lld is "
                              "not K/N with 1 <= K <= N",
                              dir, (long long)k, (long long)c);
        in->shard.index = (unsigned)k;
        in->shard.count = (unsigned)c;
    }
    return 0;
}

/* The run directory of a manifest entry: the journal's directory, relative
 * to the suite's directory unless absolute. */
static char *run_dir_of(const merge_in *in, const json_t *run, cr_err *err)
{
    const char *j = cr_rep_jstr(run, "journal");
    const char *slash = j ? strrchr(j, '/') : NULL;
    if (!j || !slash || strcmp(slash, "/journal.json") != 0) {
        cr_err_set(err, CR_EPROTO,
                   "merging %s: suite.json: a run without \"journal\": "
                   "\"<dir>/journal.json\"",
                   in->dir);
        return NULL;
    }
    char *p = j[0] == '/'
                  ? cr_asprintf("%.*s", (int)(slash - j), j)
                  : cr_asprintf("%s/%.*s", in->dir, (int)(slash - j), j);
    if (!p)
        cr_err_set(err, CR_ENOMEM, "merging %s: out of memory", in->dir);
    return p;
}

/* The shards given must be 1..N of one N, each once, or none be a shard. */
static int check_shards(const merge_in *ins, size_t n, cr_err *err)
{
    size_t nshard = 0;
    for (size_t i = 0; i < n; i++)
        nshard += ins[i].shard.count != 0;
    if (nshard == 0)
        return 0;
    const merge_in *a_shard = ins;
    while (!a_shard->shard.count)
        a_shard++;
    for (size_t i = 0; i < n; i++) {
        if (!ins[i].shard.count)
            return cr_err_set(err, CR_EINVAL,
                              "merging: %s is a whole suite and %s a shard: "
                              "merge the shards of one matrix, or whole "
                              "suites",
                              ins[i].dir, a_shard->dir);
        if (ins[i].shard.count != ins[0].shard.count)
            return cr_err_set(err, CR_EINVAL,
                              "merging: %s is shard %u/%u but %s is shard "
                              "%u/%u: shards of different matrices",
                              ins[0].dir, ins[0].shard.index,
                              ins[0].shard.count, ins[i].dir,
                              ins[i].shard.index, ins[i].shard.count);
        for (size_t k = 0; k < i; k++)
            if (ins[k].shard.index == ins[i].shard.index)
                return cr_err_set(err, CR_EINVAL,
                                  "merging: shard %u/%u given twice (%s and "
                                  "%s)",
                                  ins[i].shard.index, ins[i].shard.count,
                                  ins[k].dir, ins[i].dir);
    }
    unsigned count = ins[0].shard.count;
    if (n != count) {
        /* Name the first missing one: a merge that claims a verdict over
         * scenarios it never saw would be a false pass. */
        for (unsigned k = 1; k <= count; k++) {
            size_t i = 0;
            while (i < n && ins[i].shard.index != k)
                i++;
            if (i == n)
                return cr_err_set(err, CR_EINVAL,
                                  "merging: shard %u/%u is missing (%zu of "
                                  "%u shards given): every shard's suite "
                                  "directory is needed",
                                  k, count, n, count);
        }
    }
    return 0;
}

/* Versions agree, and no scenario is in two suites. */
static int check_runs(const merge_in *ins, size_t n, const cr_rep_runs *rs,
                      cr_err *err)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(ins[i].version, ins[0].version) != 0)
            return cr_err_set(err, CR_EINVAL,
                              "merging: %s was written by chaosrun %s, %s "
                              "by chaosrun %s: merge suites of one version",
                              ins[0].dir, ins[0].version, ins[i].dir,
                              ins[i].version);
    for (size_t i = 0; i < n; i++)
        for (size_t k = ins[i].first; k < ins[i].first + ins[i].n; k++)
            if (strcmp(run_version(rs->r[k]), ins[i].version) != 0)
                return cr_err_set(err, CR_EINVAL,
                                  "merging: run %s was made by chaosrun %s, "
                                  "its suite %s by chaosrun %s",
                                  rs->r[k]->dir, run_version(rs->r[k]),
                                  ins[i].dir, ins[i].version);
    for (size_t i = 0; i < n; i++)
        for (size_t a = ins[i].first; a < ins[i].first + ins[i].n; a++)
            for (size_t j = 0; j <= i; j++)
                for (size_t b = ins[j].first;
                     b < (j == i ? a : ins[j].first + ins[j].n); b++)
                    if (!strcmp(rs->r[a]->name, rs->r[b]->name))
                        return cr_err_set(
                            err, CR_EINVAL,
                            "merging: scenario '%s' is in %s (%s) and in %s "
                            "(%s): each scenario must be in one suite only",
                            rs->r[a]->name, ins[j].dir, rs->r[b]->dir,
                            ins[i].dir, rs->r[a]->dir);
    return 0;
}

int cr_report_merge(const char *const *suite_dirs, size_t n, int out_dfd,
                    size_t *nruns, int *exit_status, cr_err *err)
{
    merge_in *ins = NULL;
    cr_rep_runs rs = {0};
    char **dirs = NULL;
    size_t ndirs = 0, total = 0;
    char path[PATH_MAX];
    int rc;
    suite_origin o = {.merged = n};
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "merging: no suite given");
    if (!(ins = cr_calloc(n, sizeof *ins))) {
        rc = cr_err_set(err, CR_ENOMEM, "merging: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = read_manifest(suite_dirs[i], &ins[i], err)) < 0)
            goto out;
        ins[i].first = total;
        ins[i].n = json_array_size(json_object_get(ins[i].m, "runs"));
        total += ins[i].n;
    }
    if ((rc = check_shards(ins, n, err)) < 0)
        goto out;
    if (!(dirs = cr_calloc(total ? total : 1, sizeof *dirs))) {
        rc = cr_err_set(err, CR_ENOMEM, "merging: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *runs = json_object_get(ins[i].m, "runs");
        for (size_t k = 0; k < ins[i].n; k++) {
            if (!(dirs[ndirs] =
                      run_dir_of(&ins[i], json_array_get(runs, k), err))) {
                rc = err && err->code ? err->code : CR_ENOMEM;
                goto out;
            }
            ndirs++;
        }
    }
    if ((rc = cr_rep_runs_load((const char *const *)dirs, ndirs, &rs, err)) <
            0 ||
        (rc = check_runs(ins, n, &rs, err)) < 0)
        goto out;
    if ((rc = cr_dir_path(out_dfd, path, sizeof path, err)) < 0)
        goto out;
    o.version = ins[0].version;
    if (!(o.merged_from = json_array())) {
        rc = cr_err_set(err, CR_ENOMEM, "merging: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char *rel = cr_rep_rel_path(path, ins[i].dir, "suite.json");
        json_t *e = rel ? json_pack("{s:s, s:o, s:I}", "suite", rel, "shard",
                                    shard_json(&ins[i].shard), "runs",
                                    (json_int_t)ins[i].n)
                        : NULL;
        cr_free(rel);
        if (!e || json_array_append_new(o.merged_from, e) != 0) {
            rc = cr_err_set(err, CR_ENOMEM, "merging: out of memory");
            goto out;
        }
    }
    if ((rc = suite_write(&rs, out_dfd, path, &o, err)) < 0)
        goto out;
    *nruns = rs.n;
    *exit_status = 0;
    for (size_t i = 0; i < rs.n; i++)
        if (run_exit(rs.r[i]) > *exit_status)
            *exit_status = run_exit(rs.r[i]);
out:
    json_decref(o.merged_from);
    for (size_t i = 0; ins && i < n; i++)
        json_decref(ins[i].m);
    cr_free(ins);
    for (size_t i = 0; i < ndirs; i++)
        cr_free(dirs[i]);
    cr_free(dirs);
    cr_rep_runs_free(&rs);
    return rc;
}
