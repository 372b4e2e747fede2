/* Doc tests of the repository's own tables: README.md's exit statuses
 * against base/cr_err.h and `chaosrun --help`, its dependency table
 * against setup.sh's PACKAGES, tests/README.md's lock table against the
 * CMake files' RESOURCE_LOCKs, sample_pipeline/README.md's map of
 * mechanisms to `file.c: function` against the files, every relative
 * link between the Markdown files (anchors included), and every path of
 * this repository they name in `code`.  Tables: see
 * cr_test_md.h. */
#include "base/cr_err.h"
#include "cr_test_md.h"

#include <dirent.h>
#include <sys/stat.h>

/* ---- README.md: exit status, packages ------------------------------------ */

/* The statuses of README.md's "Exit status" table, with their meanings. */
static size_t readme_statuses(const md_doc *d, int st[], char mean[][200],
                              size_t max)
{
    int i = md_need(d, 2, "Exit status");
    size_t n = 0;
    if (i < 0)
        return 0;
    const char *cell[4];
    size_t clen[4];
    for (size_t at = d->v[i].start; at < d->v[i].end_own && n < max;) {
        size_t e = line_end(d->text, d->len, at);
        const char *l = d->text + at;
        if (l[0] == '|' && row_cells(l, e - at, cell, clen, 4) == 2 &&
            isdigit((unsigned char)cell[0][0])) {
            st[n] = atoi(cell[0]);
            snprintf(mean[n], sizeof mean[0], "%.*s", (int)clen[1], cell[1]);
            n++;
        }
        at = e + 1;
    }
    return n;
}

static void test_docs_readme_exit_status(void)
{
    md_doc *d = md_load("README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int st[16];
    char mean[16][200];
    size_t n = readme_statuses(d, st, mean, 16);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    /* 0 and 1 are the verdicts; 2..4 come from cr_err_exit_status. */
    int want[8] = {0}, nw = 0;
    want[nw++] = cr_err_exit_status(0);
    want[nw++] = 1;
    /* What README.md promises for each class of error. */
    static const struct {
        int code;
        const char *says;
    } promise[] = {
        {CR_EINVAL, "invalid scenario or usage"},
        {CR_ENOTFOUND, "invalid scenario or usage"},
        {CR_EUNSUP, "cannot run the scenario"},
        {CR_ESYS, "harness itself failed"},
        {CR_ENOMEM, "harness itself failed"},
        {CR_ETIMEOUT, "harness itself failed"},
        {CR_EPROTO, "harness itself failed"},
        {CR_ESTATE, "harness itself failed"},
        {CR_EINTR, "interrupted"},
        {CR_ESTART, "did not start"},
    };
    static const int codes[] = {
#define CR_X_(nm, c, s, t) c,
        CR_ERR_MAP(CR_X_)
#undef CR_X_
    };
    /* Every code of the map has a promise (a new code needs one here). */
    CU_ASSERT_EQUAL(sizeof codes / sizeof codes[0],
                    sizeof promise / sizeof promise[0]);
    for (size_t k = 0; k < sizeof promise / sizeof promise[0]; k++) {
        int s = cr_err_exit_status(promise[k].code), row = -1;
        for (size_t j = 0; j < n; j++)
            if (st[j] == s)
                row = (int)j;
        if (row < 0 || !strstr(mean[row], promise[k].says)) {
            fprintf(stderr,
                    "README.md: exit status %d (%s) should say \"%s\"\n", s,
                    cr_err_name(promise[k].code), promise[k].says);
            CU_FAIL("exit status table and cr_err disagree");
        }
        int seen = 0;
        for (int j = 0; j < nw; j++)
            seen |= want[j] == s;
        if (!seen && nw < 8)
            want[nw++] = s;
    }
    CU_ASSERT_EQUAL(cr_err_exit_status(-999), 4); /* unknown code */
    CU_ASSERT_EQUAL((int)n, nw);
    for (size_t j = 0; j < n; j++) {
        int seen = 0;
        for (int k = 0; k < nw; k++)
            seen |= want[k] == st[j];
        CU_ASSERT(seen);
    }
    CU_ASSERT(strstr(mean[1], "expectation failed") != NULL);
    /* The statuses of a merge of suites are part of the promise. */
    CU_ASSERT(strstr(mean[2], "report --merge") != NULL);
    int sec = md_need(d, 2, "Exit status");
    CU_ASSERT_FATAL(sec >= 0);
    CU_ASSERT(memmem(d->text + d->v[sec].start,
                     d->v[sec].end_own - d->v[sec].start,
                     "chaosrun report --merge", 23) != NULL);

    /* `chaosrun --help` lists the same statuses. */
    char cmd[4200], out[8192];
    snprintf(cmd, sizeof cmd, "%s --help", cr_test_bin("chaosrun"));
    FILE *fp = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    size_t len = fread(out, 1, sizeof out - 1, fp);
    out[len] = '\0';
    pclose(fp);
    char *ex = strstr(out, "Exit status:");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    for (size_t j = 0; j < n; j++) {
        char tok[16];
        snprintf(tok, sizeof tok, j ? "; %d " : ": %d ", st[j]);
        if (!strstr(ex, tok)) {
            fprintf(stderr, "chaosrun --help does not list exit status %d\n",
                    st[j]);
            CU_FAIL("help and README disagree on exit statuses");
        }
    }
    md_free(d);
}

static void test_docs_readme_packages(void)
{
    size_t len;
    char *sh = slurp(cr_test_src("setup.sh"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sh);
    names pk = {0}, doc = {0};
    char *a = strstr(sh, "\nPACKAGES=(");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    a += strlen("\nPACKAGES=(");
    char *z = strchr(a, ')');
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    for (char *p = a; p < z;) {
        p += strspn(p, " \t\n");
        size_t k = strcspn(p, " \t\n)");
        if (k)
            names_add(&pk, p, k);
        p += k;
    }
    free(sh);
    md_doc *d = md_load("README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const char *b = strstr(d->text, "<!-- packages: begin -->");
    const char *e = strstr(d->text, "<!-- packages: end -->");
    CU_ASSERT_FATAL(b && e && b < e);
    const char *cell[4];
    size_t clen[4];
    for (const char *l = b; l < e;) {
        const char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
        if (l[0] == '|' && row_cells(l, ll, cell, clen, 4) >= 1)
            code_spans(&doc, cell[0], clen[0]);
        l += ll + 1;
    }
    CU_ASSERT(pk.n > 10);
    for (size_t i = 0; i < pk.n; i++)
        if (!names_has(&doc, pk.v[i])) {
            fprintf(stderr,
                    "README.md: package %s (setup.sh) is not in the "
                    "dependency table\n",
                    pk.v[i]);
            CU_FAIL("a package is undocumented");
        }
    for (size_t i = 0; i < doc.n; i++)
        if (!names_has(&pk, doc.v[i])) {
            fprintf(stderr, "README.md: package %s is not in setup.sh\n",
                    doc.v[i]);
            CU_FAIL("a documented package is not installed");
        }
    md_free(d);
}

/* tests/README.md's lock table names every RESOURCE_LOCK of the CMake
 * files, and no other. */
static void test_docs_readme_locks(void)
{
    static const char *const files[] = {"tests/CMakeLists.txt",
                                        "tests/bench/CMakeLists.txt"};
    names cm = {0}, doc = {0};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char *txt = slurp(cr_test_src(files[f]), NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
        for (char *p = txt; (p = strstr(p, "RESOURCE_LOCK"));) {
            p += strlen("RESOURCE_LOCK");
            p += strspn(p, " \t\n\"");
            /* One name, or a quoted ;-separated list. */
            for (;;) {
                size_t k = strcspn(p, " \t\n\";)");
                if (k)
                    names_add(&cm, p, k);
                p += k;
                if (*p != ';')
                    break;
                p++;
            }
        }
        free(txt);
    }
    md_doc *d = md_load("tests/README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    const char *b = strstr(d->text, "<!-- locks: begin -->");
    const char *e = strstr(d->text, "<!-- locks: end -->");
    CU_ASSERT_FATAL(b && e && b < e);
    md_table_keys(d, (size_t)(b - d->text), (size_t)(e - d->text), &doc);
    md_free(d);
    CU_ASSERT(cm.n >= 5);
    for (size_t i = 0; i < cm.n; i++)
        if (!names_has(&doc, cm.v[i])) {
            fprintf(stderr, "tests/README.md: lock %s is not in the table\n",
                    cm.v[i]);
            CU_FAIL("a resource lock is undocumented");
        }
    for (size_t i = 0; i < doc.n; i++)
        if (!names_has(&cm, doc.v[i])) {
            fprintf(stderr, "tests/README.md: lock %s is in no CMake file\n",
                    doc.v[i]);
            CU_FAIL("a documented lock does not exist");
        }
}

/* ---- sample_pipeline/README.md: where each mechanism is -------------------
 */

/* 1 when name is defined at the top level of the C text src: a line that
 * starts in column 0 (not a comment, preprocessor line or closing brace),
 * does not end with ';' (a prototype or a call), and has the name as a
 * whole word followed by '(', '[' or '='. */
static int c_defines(const char *src, const char *name)
{
    size_t k = strlen(name);
    for (const char *l = src; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        size_t end = len;
        while (end > 0 && isspace((unsigned char)l[end - 1]))
            end--;
        int top = len > 0 && !isspace((unsigned char)l[0]) && l[0] != '#' &&
                  l[0] != '/' && l[0] != '*' && l[0] != '}' &&
                  l[end - 1] != ';';
        for (size_t i = 0; top && i + k <= len; i++) {
            if (strncmp(l + i, name, k) != 0 ||
                (i > 0 &&
                 (isalnum((unsigned char)l[i - 1]) || l[i - 1] == '_')))
                continue;
            size_t j = i + k;
            while (j < len && l[j] == ' ')
                j++;
            if (j < len && (l[j] == '(' || l[j] == '[' || l[j] == '='))
                return 1;
        }
        l += len + (e != NULL);
    }
    return 0;
}

/* In the table "Mechanisms and where they are" (and any other table row),
 * a cell's `crp_x.c: name` names a function or table defined in that file;
 * the `name`s after it in the same cell belong to the same file. */
static void test_docs_readme_pipeline_map(void)
{
    md_doc *d = md_load("sample_pipeline/README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t checked = 0;
    const char *cell[16];
    size_t clen[16];
    for (size_t at = 0; at < d->len;) {
        size_t e = line_end(d->text, d->len, at);
        const char *l = d->text + at;
        size_t nc = l[0] == '|' ? row_cells(l, e - at, cell, clen, 16) : 0;
        for (size_t c = 0; c < nc; c++) {
            char file[64] = "", *src = NULL;
            for (const char *p = cell[c]; p < cell[c] + clen[c]; p++) {
                if (*p != '`')
                    continue;
                const char *q =
                    memchr(p + 1, '`', (size_t)(cell[c] + clen[c] - p - 1));
                if (!q)
                    break;
                char item[128];
                snprintf(item, sizeof item, "%.*s", (int)(q - p - 1), p + 1);
                p = q;
                char *colon = strstr(item, ".c: ");
                if (!colon)
                    colon = strstr(item, ".h: ");
                const char *name = item;
                if (colon && strncmp(item, "crp_", 4) == 0) {
                    snprintf(file, sizeof file, "%.*s", (int)(colon + 2 - item),
                             item);
                    free(src);
                    char rel[128];
                    snprintf(rel, sizeof rel, "sample_pipeline/%s", file);
                    src = slurp(cr_test_src(rel), NULL);
                    if (!src) {
                        fprintf(stderr,
                                "sample_pipeline/README.md: no file "
                                "%s\n",
                                file);
                        CU_FAIL("the pipeline map names a missing file");
                    }
                    name = colon + 4;
                } else if (!file[0]) {
                    continue;
                }
                size_t k =
                    strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
                if (!src || k == 0 || name[k] != '\0' ||
                    isdigit((unsigned char)name[0]))
                    continue;
                checked++;
                if (!c_defines(src, name)) {
                    fprintf(stderr,
                            "sample_pipeline/README.md: %s does not "
                            "define %s\n",
                            file, name);
                    CU_FAIL("the pipeline map places a name in the wrong file");
                }
            }
            free(src);
        }
        at = e + 1;
    }
    CU_ASSERT(checked >= 40);
    md_free(d);
}

/* ---- paths named in the Markdown files ----------------------------------- */

static const char *const top_dirs[] = {
    "harness/", "faults/", "scenarios/", "reports/", "sample_pipeline/",
    "tests/",   "base/",   "scenario/",  "events/",  "probes/",
    "checks/",  "net/",    "proxy/",     "engine/",  "cli/",
    "process/", "syscall/"};

static int exists_rel(const char *rel)
{
    struct stat st;
    return stat(cr_test_src(rel), &st) == 0;
}

/* Does a file of that name exist in the project's folders? */
static int exists_anywhere(const char *dir, const char *base)
{
    DIR *dp = opendir(cr_test_src(dir));
    int found = 0;
    struct dirent *de;
    while (dp && !found && (de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        struct stat st;
        if (strcmp(de->d_name, base) == 0)
            found = 1;
        else if (stat(cr_test_src(sub), &st) == 0 && S_ISDIR(st.st_mode))
            found = exists_anywhere(sub, base);
    }
    if (dp)
        closedir(dp);
    return found;
}

/* 1 when a code span names a file of this repository: it starts with a
 * top-level folder or a room, or is a bare cr_*, crp_* or test_* source
 * file name; placeholders and patterns (<>, *, $, {}, spaces) excluded. */
static int repo_path(const char *s)
{
    if (strpbrk(s, "<>*${} |:") || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < sizeof top_dirs / sizeof top_dirs[0]; i++)
        if (strncmp(s, top_dirs[i], strlen(top_dirs[i])) == 0)
            return 1;
    size_t k = strlen(s);
    int src =
        k > 2 && (strcmp(s + k - 2, ".c") == 0 || strcmp(s + k - 2, ".h") == 0);
    return src && !strchr(s, '/') &&
           (strncmp(s, "cr_", 3) == 0 || strncmp(s, "crp_", 4) == 0 ||
            strncmp(s, "test_", 5) == 0);
}

/* Every such path exists: relative to the file's folder, the source root,
 * harness/ (rooms), tests/ or faults/; a bare file name anywhere. */
static void check_paths(const md_doc *d, const char *dir, size_t *checked)
{
    int fence = 0;
    for (size_t at = 0; at < d->len;) {
        size_t e = line_end(d->text, d->len, at);
        const char *l = d->text + at;
        if (strncmp(l, "```", 3) == 0)
            fence = !fence;
        for (const char *p = l; !fence && p < d->text + e; p++) {
            if (*p != '`')
                continue;
            const char *q = memchr(p + 1, '`', (size_t)(d->text + e - p - 1));
            if (!q)
                break;
            char s[256];
            snprintf(s, sizeof s, "%.*s", (int)(q - p - 1), p + 1);
            p = q;
            if (!repo_path(s))
                continue;
            (*checked)++;
            char rel[600];
            static const char *const bases[] = {"", "harness/", "tests/",
                                                "faults/"};
            int ok = 0;
            snprintf(rel, sizeof rel, "%s%s", dir, s);
            ok = exists_rel(rel);
            for (size_t b = 0; !ok && b < sizeof bases / sizeof bases[0]; b++) {
                snprintf(rel, sizeof rel, "%s%s", bases[b], s);
                ok = exists_rel(rel);
            }
            if (!ok && !strchr(s, '/')) {
                static const char *const roots[] = {
                    "harness", "faults", "reports", "sample_pipeline", "tests"};
                for (size_t r = 0; !ok && r < sizeof roots / sizeof roots[0];
                     r++)
                    ok = exists_anywhere(roots[r], s);
            }
            if (!ok) {
                fprintf(stderr, "%s: `%s` does not exist\n", d->rel, s);
                CU_FAIL("a Markdown file names a missing path");
            }
        }
        at = e + 1;
    }
}

/* ---- links between the Markdown files ------------------------------------ */

static size_t paths_checked;

static void check_links(const char *rel)
{
    md_doc *d = md_load(rel);
    if (!d)
        return;
    char dir[256];
    snprintf(dir, sizeof dir, "%s", rel);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        dir[0] = '\0';
    check_paths(d, dir, &paths_checked);
    int fence = 0;
    for (size_t at = 0; at < d->len;) {
        size_t e = line_end(d->text, d->len, at);
        if (strncmp(d->text + at, "```", 3) == 0)
            fence = !fence;
        for (const char *p = d->text + at; !fence && p < d->text + e; p++) {
            if (p[0] != ']' || p[1] != '(')
                continue;
            const char *t = p + 2;
            const char *close = memchr(t, ')', (size_t)(d->text + e - t));
            if (!close)
                continue;
            char target[512];
            snprintf(target, sizeof target, "%.*s", (int)(close - t), t);
            p = close;
            if (strstr(target, "://") || strncmp(target, "mailto:", 7) == 0)
                continue;
            char *hash = strchr(target, '#');
            char *anchor = NULL;
            if (hash) {
                *hash = '\0';
                anchor = hash + 1;
            }
            char rel2[1024];
            md_doc *o = d;
            if (target[0]) {
                snprintf(rel2, sizeof rel2, "%s%s", dir, target);
                struct stat st;
                if (stat(cr_test_src(rel2), &st) != 0) {
                    fprintf(stderr, "%s: broken link to %s\n", rel, target);
                    CU_FAIL("a broken link");
                    continue;
                }
                o = NULL;
                if (anchor && strstr(target, ".md"))
                    o = md_load(rel2);
            }
            if (anchor && o && !md_has_anchor(o, anchor)) {
                fprintf(stderr, "%s: link to %s#%s: no such heading\n", rel,
                        target, anchor);
                CU_FAIL("a link to a missing heading");
            }
            if (o && o != d)
                md_free(o);
        }
        at = e + 1;
    }
    md_free(d);
}

/* Every *.md under the project's folders (build trees and run output
 * excluded: they live in folders this walk does not enter). */
static void walk_md(const char *rel, size_t *count)
{
    DIR *dp = opendir(cr_test_src(rel));
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name);
        size_t k = strlen(de->d_name);
        struct stat st;
        int isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN && stat(cr_test_src(sub), &st) == 0)
            isdir = S_ISDIR(st.st_mode);
        if (isdir) {
            walk_md(sub, count);
        } else if (k > 3 && strcmp(de->d_name + k - 3, ".md") == 0 &&
                   strstr(sub, "/data/runs/") == NULL) {
            check_links(sub);
            (*count)++;
        }
    }
    closedir(dp);
}

static void test_docs_readme_links_paths(void)
{
    static const char *const roots[] = {"harness",         "faults",
                                        "scenarios",       "reports",
                                        "sample_pipeline", "tests"};
    size_t count = 0;
    check_links("README.md");
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        walk_md(roots[i], &count);
    CU_ASSERT(count >= 10);
    CU_ASSERT(paths_checked >= 100);
}

/* The link checker itself finds a broken link and a missing anchor. */
static void test_docs_readme_slug(void)
{
    char s[128];
    slug("Where a network fault applies", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "where-a-network-fault-applies");
    slug("`on_event`: state-triggered faults", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "on_event-state-triggered-faults");
    slug("Checkers over a long history (`bench_checks.c`)", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "checkers-over-a-long-history-bench_checksc");
    slug("Queue backends: embedded vs RabbitMQ → ×2", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "queue-backends-embedded-vs-rabbitmq--2");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("docs_readme", NULL, NULL);
    CR_ADD_TEST(s, test_docs_readme_exit_status);
    CR_ADD_TEST(s, test_docs_readme_packages);
    CR_ADD_TEST(s, test_docs_readme_locks);
    CR_ADD_TEST(s, test_docs_readme_pipeline_map);
    CR_ADD_TEST(s, test_docs_readme_slug);
    CR_ADD_TEST(s, test_docs_readme_links_paths);
}
