/* Doc tests: scenarios/README.md and harness/checks/CHECKS.md against the
 * loader, the kinds' tables and `chaosrun list`.
 *
 *  - scenarios/README.md documents every key the loader knows, under the
 *    right heading: the common keys of faults, probes and expectations
 *    (scenario/cr_params.c), each fault kind's keys under "### `kind`" in a
 *    "... faults" chapter, each probe kind's under "### `kind`" in
 *    "## Probes", each extra section (`links`, `hosts`) in the top-level
 *    table and its keys under "### `section`"; and every key documented
 *    there is known (no stale keys).  Where the loader's table is not
 *    exported (top level, services, `ready`, `on_event`, `links`), "known"
 *    is asked of the loader itself: a scenario holding the key must not get
 *    "unknown key" (and a made-up key must).
 *  - harness/checks/CHECKS.md documents no key a checker does not know
 *    (test_check_core.c checks the other direction).
 *  - every ```json example of scenarios/README.md is valid where it stands.
 *  - `chaosrun list` shows exactly the registry, and what it says about
 *    probe kinds and URL schemes agrees with the validator.
 * Key tables: see cr_test_md.h. */
#include "base/cr_alloc.h"
#include "checks/cr_check.h"
#include "cr_test_md.h"
#include "faults/cr_fault.h"
#include "net/cr_net.h"
#include "probes/cr_probe.h"
#include "scenario/cr_kinds.h"
#include "scenario/cr_scen.h"

#include <jansson.h>

/* ---- kinds against their README sections --------------------------------- */

/* The README sections that document a kind's keys besides its own: keys
 * shared by several kinds are documented once. */
static const struct {
    const char *kind;
    const char *heading;
} shared_docs[] = {
    {"netem", "Where a network fault applies"},
    {"bandwidth", "Where a network fault applies"},
};

/* 1 when title (an h2) names a section of fault kinds ("Process faults"). */
static int fault_chapter(const char *title)
{
    size_t k = strlen(title);
    return k > 7 && strcmp(title + k - 7, " faults") == 0;
}

/* Every key of params is in a key table under the kind's heading (or a
 * shared one), and every key documented there is one of params or common.
 * chapter: 1 for fault kinds (any "... faults" h2), else the h2 title. */
static void check_kind(const md_doc *d, const char *what, const char *kind,
                       const cr_param *params, const cr_param *common,
                       const char *chapter)
{
    char h[80];
    snprintf(h, sizeof h, "`%s`", kind);
    /* The heading in the right chapter: a fault kind and a probe kind may
     * share a name (exec). */
    int i = -1, n = 0;
    const char *par = "";
    size_t hk = strlen(h);
    for (size_t s = 0; s < d->n; s++) {
        const md_sec *v = &d->v[s];
        if (v->level != 3 || strncmp(v->title, h, hk) != 0 ||
            (v->title[hk] != '\0' && v->title[hk] != ' '))
            continue;
        const char *pt = v->parent >= 0 ? d->v[v->parent].title : "";
        par = pt;
        if (chapter ? strcmp(pt, chapter) == 0 : fault_chapter(pt)) {
            i = (int)s;
            n++;
        }
    }
    if (n != 1) {
        fprintf(stderr, "%s: %s %s is documented %s\"%s\"\n", d->rel, what,
                kind, n ? "twice, last under " : "only under ", par);
        CU_FAIL("a kind is documented in the wrong chapter");
        return;
    }
    names doc = {0}, known = {0};
    md_sec_keys(d, i, 0, &doc);
    for (size_t k = 0; k < sizeof shared_docs / sizeof shared_docs[0]; k++)
        if (strcmp(shared_docs[k].kind, kind) == 0)
            md_sec_keys(d, md_need(d, 3, shared_docs[k].heading), 1, &doc);
    names_params(&known, params);
    names_params(&known, common);
    for (const cr_param *p = params; p && p->name; p++)
        if (!names_has(&doc, p->name)) {
            fprintf(stderr, "%s: %s %s: key \"%s\" is not documented\n", d->rel,
                    what, kind, p->name);
            CU_FAIL("a key is not documented");
        }
    for (size_t k = 0; k < doc.n; k++)
        if (!names_has(&known, doc.v[k])) {
            fprintf(stderr, "%s: %s %s: documented key \"%s\" is unknown\n",
                    d->rel, what, kind, doc.v[k]);
            CU_FAIL("a documented key is unknown to the loader");
        }
}

/* The key table right under an h2 equals a common-keys table. */
static void check_common(const md_doc *d, const char *h2, const char *what,
                         const cr_param *common)
{
    names doc = {0}, known = {0};
    md_sec_keys(d, md_need(d, 2, h2), 1, &doc);
    names_params(&known, common);
    for (size_t k = 0; k < known.n; k++)
        if (!names_has(&doc, known.v[k])) {
            fprintf(stderr, "%s: %s key \"%s\" is not documented under %s\n",
                    d->rel, what, known.v[k], h2);
            CU_FAIL("a common key is not documented");
        }
    for (size_t k = 0; k < doc.n; k++)
        if (!names_has(&known, doc.v[k])) {
            fprintf(stderr, "%s: documented %s key \"%s\" is unknown\n", d->rel,
                    what, doc.v[k]);
            CU_FAIL("a documented common key is unknown");
        }
}

static md_doc *scen_readme(void)
{
    md_doc *d = md_load("scenarios/README.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d;
}

static void test_docs_fault_keys(void)
{
    md_doc *d = scen_readme();
    check_common(d, "Faults", "fault", cr_fault_common_params);
    size_t n = 0;
    for (const cr_fault_ops *const *f = cr_fault_all(); *f; f++, n++)
        check_kind(d, "fault kind", (*f)->kind, (*f)->params,
                   cr_fault_common_params, NULL);
    CU_ASSERT(n >= 9);
    md_free(d);
}

static void test_docs_probe_keys(void)
{
    md_doc *d = scen_readme();
    check_common(d, "Probes", "probe", cr_probe_common_params);
    names reg = {0}, doc = {0};
    for (const cr_probe_ops *const *p = cr_probe_all(); *p; p++) {
        check_kind(d, "probe kind", (*p)->kind, (*p)->params,
                   cr_probe_common_params, "Probes");
        names_add(&reg, (*p)->kind, strlen((*p)->kind));
    }
    /* The `kind` row of the common table lists the kinds. */
    int i = md_need(d, 2, "Probes");
    if (i >= 0) {
        const char *row = strstr(d->text + d->v[i].start, "\n| `kind` |");
        CU_ASSERT_FATAL(row && row < d->text + d->v[i].end_own);
        size_t e = line_end(d->text, d->len, (size_t)(row + 1 - d->text));
        const char *c0 = row + 1 + strlen("| `kind` |");
        code_spans(&doc, c0, (size_t)(d->text + e - c0));
        for (size_t k = 0; k < reg.n; k++)
            if (!names_has(&doc, reg.v[k])) {
                fprintf(stderr, "probe kind %s missing from the kind row\n",
                        reg.v[k]);
                CU_FAIL("probe kind list incomplete");
            }
        for (size_t k = 0; k < doc.n; k++)
            if (!names_has(&reg, doc.v[k])) {
                fprintf(stderr, "kind row names unknown probe kind %s\n",
                        doc.v[k]);
                CU_FAIL("probe kind list names an unknown kind");
            }
    }
    md_free(d);
}

static void test_docs_expect_keys(void)
{
    md_doc *d = scen_readme();
    check_common(d, "Expectations", "expectation", cr_expect_common_params);
    md_free(d);
    /* CHECKS.md: no key a checker does not know (the other direction is
     * test_check_core.c's test_check_doc_complete). */
    md_doc *c = md_load("harness/checks/CHECKS.md");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (const cr_check_ops *const *k = cr_check_all(); *k; k++) {
        char h[80];
        snprintf(h, sizeof h, "`%s`", (*k)->kind);
        names doc = {0}, known = {0};
        md_sec_keys(c, md_need(c, 2, h), 0, &doc);
        names_params(&known, (*k)->params);
        names_params(&known, cr_expect_common_params);
        for (size_t j = 0; j < doc.n; j++)
            if (!names_has(&known, doc.v[j])) {
                fprintf(stderr,
                        "CHECKS.md: %s: documented key \"%s\" is "
                        "unknown\n",
                        (*k)->kind, doc.v[j]);
                CU_FAIL("a documented checker key is unknown");
            }
    }
    md_free(c);
}

/* ---- keys asked of the loader ------------------------------------------- */

/* A valid-looking scenario with one object at each place whose keys the
 * loader checks with a table it does not export. */
static const char skeleton[] =
    "{\"name\": \"docs\", \"duration_s\": 10,"
    " \"services\": [{\"name\": \"a\", \"cmd\": [\"true\"], \"port\": 7001,"
    "   \"ready\": {\"kind\": \"tcp\"}},"
    "  {\"name\": \"b\", \"cmd\": [\"true\"], \"port\": 7002},"
    "  {\"name\": \"c\", \"container\": {\"image\": \"x\"}}],"
    " \"links\": [{\"name\": \"l\", \"from\": \"a\", \"to\": \"b\"}],"
    " \"hosts\": [{\"name\": \"h1\"}],"
    " \"faults\": [{\"kind\": \"kill\", \"target\": \"a\","
    "   \"on_event\": {\"ev\": \"x\"}},"
    "  {\"kind\": \"kill\", \"target\": \"b\","
    "   \"on_ready\": {\"svc\": \"a\"}}]}";

/* Where each object sits in the skeleton, and its path in diagnostics. */
typedef enum {
    AT_TOP,
    AT_SVC,
    AT_READY,
    AT_TRIGGER,
    AT_LINK,
    AT_HOST,
    AT_READY_TRIGGER,
    AT_CTR
} at_t;
static const char *const at_path[] = {
    "",         "services[0]", "services[0].ready",  "faults[0].on_event",
    "links[0]", "hosts[0]",    "faults[1].on_ready", "services[2].container"};

static json_t *at_obj(json_t *root, at_t at)
{
    json_t *svc = json_array_get(json_object_get(root, "services"), 0);
    switch (at) {
    case AT_TOP:
        return root;
    case AT_SVC:
        return svc;
    case AT_READY:
        return json_object_get(svc, "ready");
    case AT_TRIGGER:
        return json_object_get(
            json_array_get(json_object_get(root, "faults"), 0), "on_event");
    case AT_LINK:
        return json_array_get(json_object_get(root, "links"), 0);
    case AT_HOST:
        return json_array_get(json_object_get(root, "hosts"), 0);
    case AT_READY_TRIGGER:
        return json_object_get(
            json_array_get(json_object_get(root, "faults"), 1), "on_ready");
    case AT_CTR:
        return json_object_get(
            json_array_get(json_object_get(root, "services"), 2), "container");
    }
    return NULL;
}

/* 1 when the loader calls key unknown at `at` (the key's value is null
 * unless the skeleton has it already); -1 on a harness error. */
static int loader_rejects(at_t at, const char *key)
{
    json_error_t je;
    json_t *root = json_loads(skeleton, 0, &je);
    if (!root)
        return -1;
    json_t *obj = at_obj(root, at);
    if (!obj || (!json_object_get(obj, key) &&
                 json_object_set_new(obj, key, json_null()) != 0)) {
        json_decref(root);
        return -1;
    }
    char *text = json_dumps(root, 0);
    json_decref(root);
    if (!text)
        return -1;
    char want[256];
    if (at_path[at][0])
        snprintf(want, sizeof want, "%s: unknown key \"%s\"", at_path[at], key);
    else
        snprintf(want, sizeof want, "unknown key \"%s\"", key);
    cr_scen *sc = NULL;
    cr_diags dg = {0};
    cr_err err;
    cr_err_clear(&err);
    cr_scen_load_buffer("docs.json", text, strlen(text), &sc, &dg, &err);
    int hit = 0;
    for (size_t i = 0; i < dg.n; i++)
        hit |= dg.v[i].msg && strncmp(dg.v[i].msg, want, strlen(want)) == 0;
    cr_scen_free(sc);
    cr_diags_free(&dg);
    free(text);
    return hit;
}

/* Every key of the key table(s) of the section is known at `at`.  First,
 * a made-up key must be reported there: the check can see unknown keys. */
static void check_known_at(const md_doc *d, int level, const char *heading,
                           at_t at, int own_only)
{
    int i = md_need(d, level, heading);
    if (i < 0)
        return;
    CU_ASSERT_EQUAL(loader_rejects(at, "no_such_key_xyz"), 1);
    names doc = {0};
    md_sec_keys(d, i, own_only, &doc);
    if (doc.n == 0) {
        fprintf(stderr, "%s: no key table under \"%s\"\n", d->rel, heading);
        CU_FAIL("a key table is missing");
    }
    for (size_t k = 0; k < doc.n; k++) {
        int r = loader_rejects(at, doc.v[k]);
        CU_ASSERT(r >= 0);
        if (r == 1) {
            fprintf(stderr,
                    "%s: documented key \"%s\" under \"%s\" is "
                    "unknown to the loader at %s\n",
                    d->rel, doc.v[k], heading,
                    at_path[at][0] ? at_path[at] : "the top level");
            CU_FAIL("a documented key is unknown to the loader");
        }
    }
}

static void test_docs_scenario_keys_known(void)
{
    md_doc *d = scen_readme();
    check_known_at(d, 2, "Top level", AT_TOP, 1);
    check_known_at(d, 2, "Services", AT_SVC, 1);
    check_known_at(d, 3, "`ready`", AT_READY, 1);
    check_known_at(d, 3, "`on_event`:", AT_TRIGGER, 1);
    check_known_at(d, 3, "`on_ready`:", AT_READY_TRIGGER, 1);
    check_known_at(d, 3, "`links`", AT_LINK, 1);
    check_known_at(d, 3, "`hosts`", AT_HOST, 1);
    check_known_at(d, 3, "`container`", AT_CTR, 1);
    md_free(d);
}

/* Every extra section is a row of the top-level table and has its own
 * "### `key`" heading; the hosts section's keys both ways. */
static void test_docs_sections(void)
{
    md_doc *d = scen_readme();
    names top = {0};
    md_sec_keys(d, md_need(d, 2, "Top level"), 1, &top);
    size_t n = 0;
    for (const cr_section_ops *const *s = cr_section_all(); *s; s++, n++) {
        if (!names_has(&top, (*s)->key)) {
            fprintf(stderr, "section %s is not in the top-level table\n",
                    (*s)->key);
            CU_FAIL("a section is not documented");
        }
        char h[80];
        snprintf(h, sizeof h, "`%s`", (*s)->key);
        md_need(d, 3, h);
    }
    CU_ASSERT(n >= 2);
    names doc = {0}, known = {0};
    md_sec_keys(d, md_need(d, 3, "`hosts`"), 1, &doc);
    names_params(&known, cr_net_host_params);
    for (size_t k = 0; k < known.n; k++)
        if (!names_has(&doc, known.v[k])) {
            fprintf(stderr, "hosts key \"%s\" is not documented\n", known.v[k]);
            CU_FAIL("a hosts key is not documented");
        }
    for (size_t k = 0; k < doc.n; k++)
        if (!names_has(&known, doc.v[k])) {
            fprintf(stderr, "documented hosts key \"%s\" is unknown\n",
                    doc.v[k]);
            CU_FAIL("a documented hosts key is unknown");
        }
    md_free(d);
}

/* ---- the README's examples are valid ------------------------------------ */

/* Services, hosts and links that the README's snippets refer to. */
static const char example_base[] =
    "{\"name\": \"docs-example\", \"duration_s\": 60,"
    " \"services\": [{\"name\": \"worker\", \"cmd\": [\"true\"], "
    "\"replicas\": 3},"
    "  {\"name\": \"db\", \"cmd\": [\"true\"]},"
    "  {\"name\": \"trainer\", \"cmd\": [\"true\"]},"
    "  {\"name\": \"api\", \"cmd\": [\"true\"], \"replicas\": 2},"
    "  {\"name\": \"feature\", \"cmd\": [\"true\"], \"port\": 7230}],"
    " \"hosts\": [\"h1\", \"h2\", \"h3\"],"
    " \"links\": [{\"name\": \"w2f\", \"from\": \"worker\", \"to\": "
    "\"feature\"}]}";

/* Put snippet obj into the base scenario as the chapter says: a service
 * (replacing the one of the same name), a fault, a probe; or, for a
 * fragment of keys, each key at the top level when the base has it there
 * (services merged by name), else into the first service. */
static int place_snippet(json_t *root, const char *chapter, json_t *obj,
                         int fragment)
{
    json_t *svcs = json_object_get(root, "services");
    if (fragment) {
        const char *k;
        json_t *v;
        json_object_foreach (obj, k, v) {
            json_t *dst = root;
            if (strcmp(k, "services") == 0) { /* merged by name */
                size_t i;
                json_t *s;
                json_array_foreach (v, i, s)
                    if (place_snippet(root, "Services", s, 0))
                        return -1;
                continue;
            }
            /* Top-level keys the base lacks: faults, steady_state,
             * drain, rotate, explore; anything else is a service's. */
            if (!json_object_get(root, k) && strcmp(k, "faults") != 0 &&
                strcmp(k, "steady_state") != 0 && strcmp(k, "drain") != 0 &&
                strcmp(k, "rotate") != 0 && strcmp(k, "explore") != 0)
                dst = json_array_get(svcs, 0);
            json_object_set(dst, k, v);
        }
        return 0;
    }
    if (strcmp(chapter, "Services") == 0) {
        const char *name = json_string_value(json_object_get(obj, "name"));
        size_t i;
        json_t *s;
        json_array_foreach (svcs, i, s)
            if (name && strcmp(json_string_value(json_object_get(s, "name")),
                               name) == 0)
                return json_array_set(svcs, i, obj);
        return json_array_append(svcs, obj);
    }
    if (strcmp(chapter, "Probes") == 0)
        return json_object_set_new(root, "steady_state", json_pack("[O]", obj));
    if (strcmp(chapter, "Faults") == 0 || fault_chapter(chapter))
        return json_object_set_new(root, "faults", json_pack("[O]", obj));
    return -1;
}

/* Load doc (a whole scenario); 1 valid, 0 not (diagnostics printed). */
static int example_loads(const char *what, json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(1));
    cr_scen *sc = NULL;
    cr_diags dg = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = text ? cr_scen_load_buffer("example.json", text, strlen(text), &sc,
                                        &dg, &err)
                  : -1;
    if (rc != 0) {
        fprintf(stderr, "scenarios/README.md: the example %s is invalid:\n",
                what);
        cr_diags_print(&dg, stderr);
        if (!dg.n)
            fprintf(stderr, "  %s\n", err.msg);
    }
    cr_scen_free(sc);
    cr_diags_free(&dg);
    free(text);
    return rc == 0;
}

/* Every ```json block of scenarios/README.md is valid where it stands: a
 * whole scenario as it is; an object (or one per line) as a service, fault
 * or probe of its chapter; a fragment of keys ("links": [...]) in a
 * scenario that has the services, hosts and links it names. */
static void test_docs_examples_valid(void)
{
    md_doc *d = scen_readme();
    size_t blocks = 0, whole = 0;
    for (const char *b = d->text; (b = strstr(b, "\n```json\n"));) {
        b += strlen("\n```json\n");
        const char *e = strstr(b, "\n```");
        CU_ASSERT_FATAL(e != NULL);
        char where[64];
        int line = 1;
        for (const char *p = d->text; p < b; p++)
            line += *p == '\n';
        snprintf(where, sizeof where, "at line %d", line);
        const char *chapter = "";
        for (size_t i = 0; i < d->n; i++)
            if (d->v[i].level == 2 && d->text + d->v[i].start < b)
                chapter = d->v[i].title;
        blocks++;
        json_error_t je;
        json_t *all = json_loadb(b, (size_t)(e - b), 0, &je);
        json_t *base = json_loads(example_base, 0, &je);
        CU_ASSERT_PTR_NOT_NULL_FATAL(base);
        if (json_is_object(all) && json_object_get(all, "services")) {
            whole++;
            CU_ASSERT(example_loads(where, all));
        } else if (json_is_object(all)) {
            CU_ASSERT_EQUAL(place_snippet(base, chapter, all, 0), 0);
            CU_ASSERT(example_loads(where, base));
        } else {
            /* A fragment of keys, or one object per line. */
            char *frag = malloc((size_t)(e - b) + 3);
            CU_ASSERT_PTR_NOT_NULL_FATAL(frag);
            snprintf(frag, (size_t)(e - b) + 3, "{%.*s}", (int)(e - b), b);
            json_t *f = json_loads(frag, 0, &je);
            free(frag);
            if (f) {
                CU_ASSERT_EQUAL(place_snippet(base, chapter, f, 1), 0);
                CU_ASSERT(example_loads(where, base));
            } else {
                for (const char *l = b; l < e;) {
                    const char *nl = memchr(l, '\n', (size_t)(e - l));
                    size_t len = nl ? (size_t)(nl - l) : (size_t)(e - l);
                    json_t *o = json_loadb(l, len, 0, &je);
                    json_t *one = json_deep_copy(base);
                    if (!o) {
                        fprintf(stderr,
                                "scenarios/README.md: the example %s "
                                "is not JSON: %s\n",
                                where, je.text);
                        CU_FAIL("an example is not JSON");
                    } else {
                        CU_ASSERT_EQUAL(place_snippet(one, chapter, o, 0), 0);
                        CU_ASSERT(example_loads(where, one));
                    }
                    json_decref(o);
                    json_decref(one);
                    l += len + 1;
                }
            }
            json_decref(f);
        }
        json_decref(all);
        json_decref(base);
        b = e;
    }
    CU_ASSERT(blocks >= 10);
    CU_ASSERT_EQUAL(whole, 1);
    md_free(d);
}

/* ---- `chaosrun list` ----------------------------------------------------- */

typedef struct list_group {
    names common;
    names kinds;
    names keys[64];     /* per kind, in order */
    char kind_doc[512]; /* the doc text of the common "kind" key */
    char url_doc[512];  /* the http probe's "url" doc (probes only) */
} list_group;

/* Parse `chaosrun list` into its three groups (faults, probes, checks). */
static int read_list(list_group g[3])
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s list", cr_test_bin("chaosrun"));
    FILE *fp = popen(cmd, "r");
    if (!fp)
        return -1;
    char line[4096];
    int grp = -1, kind = -1;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "FAULT KINDS", 11) == 0 ||
            strncmp(line, "PROBE KINDS", 11) == 0 ||
            strncmp(line, "EXPECTATIONS", 12) == 0) {
            grp++;
            kind = -1;
            continue;
        }
        if (strncmp(line, "SCENARIO KEYS", 13) == 0) {
            grp = 3; /* checked by test_docs_list_scenario_keys */
            continue;
        }
        if (grp < 0 || grp > 2 || !line[0])
            continue;
        list_group *lg = &g[grp];
        if (strncmp(line, "      ", 6) == 0) { /* a key */
            const char *k = line + 6;
            size_t len = strcspn(k, " ");
            names_add(kind < 0 ? &lg->common : &lg->keys[kind], k, len);
            /* Columns: name type default doc, separated by spaces; the doc
             * is what follows the default (the doc texts checked here
             * follow a one-word default). */
            if (kind < 0 && len == 4 && strncmp(k, "kind", 4) == 0)
                snprintf(lg->kind_doc, sizeof lg->kind_doc, "%s", k);
            if (grp == 1 && kind >= 0 && len == 3 &&
                strncmp(k, "url", 3) == 0 &&
                strcmp(lg->kinds.v[kind], "http") == 0)
                snprintf(lg->url_doc, sizeof lg->url_doc, "%s", k);
        } else if (strncmp(line, "  ", 2) == 0 && line[2] != ' ') {
            const char *k = line + 2;
            const char *dash = strstr(k, " — ");
            if (!dash || lg->kinds.n == 64)
                continue;
            names_add(&lg->kinds, k, (size_t)(dash - k));
            kind = (int)lg->kinds.n - 1;
        }
    }
    return pclose(fp) == 0 ? 0 : -1;
}

static void same_names(const char *what, const names *a, const cr_param *p)
{
    names b = {0};
    names_params(&b, p);
    int same = a->n == b.n;
    for (size_t i = 0; same && i < a->n; i++)
        same = strcmp(a->v[i], b.v[i]) == 0;
    if (!same) {
        fprintf(stderr, "chaosrun list: %s: keys differ from the registry\n",
                what);
        CU_FAIL("list and registry disagree on keys");
    }
}

/* 1 when the validator accepts an http probe with this URL. */
static int validator_accepts_url(const char *url)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\": \"u\", \"duration_s\": 1, \"services\": [{\"name\": "
             "\"a\", \"cmd\": [\"true\"]}], \"steady_state\": [{\"kind\": "
             "\"http\", \"url\": \"%s\"}]}",
             url);
    cr_scen *sc = NULL;
    cr_diags dg = {0};
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_scen_load_buffer("u.json", text, strlen(text), &sc, &dg, &err);
    cr_scen_free(sc);
    cr_diags_free(&dg);
    return rc == 0;
}

/* What `chaosrun list` says and the validator does not agree with, as one
 * sentence each.  Kept apart from the test so that each is named. */
static void list_vs_validator(const list_group g[3], names *found)
{
    /* The probe kinds named in the doc of the common "kind" key. */
    const char *c = strstr(g[1].kind_doc, "probe kind:");
    if (c) {
        c += strlen("probe kind:");
        while (*c) {
            c += strspn(c, " ,");
            size_t k = strcspn(c, " ,");
            if (!k)
                break;
            char kind[64];
            snprintf(kind, sizeof kind, "%.*s", (int)k, c);
            if (!cr_probe_lookup(kind)) {
                char s[128];
                snprintf(s, sizeof s, "probe kind \"%s\" named by list", kind);
                names_add(found, s, strlen(s));
            }
            c += k;
        }
    }
    /* URL schemes: the ones the validator accepts must be the ones list
     * names in the http probe's url doc. */
    static const char *const schemes[] = {"http", "https", "ftp", "file"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        char url[64], mention[32];
        snprintf(url, sizeof url, "%s://127.0.0.1:1/", schemes[i]);
        snprintf(mention, sizeof mention, "%s://", schemes[i]);
        int named = 0;
        for (const char *p = g[1].url_doc; (p = strstr(p, mention)); p++)
            named |= p == g[1].url_doc || !isalpha((unsigned char)p[-1]);
        if (validator_accepts_url(url) != named) {
            char s[128];
            snprintf(s, sizeof s, "url scheme %s: validator %s, list %s",
                     schemes[i], named ? "rejects" : "accepts",
                     named ? "names it" : "does not name it");
            names_add(found, s, strlen(s));
        }
    }
}

/* Disagreements accepted for now: none.  A new one fails the test; the
 * list must be fixed in the code (list docs or validator), not here. */
static const char *const known_disagreements[] = {NULL};

/* `chaosrun list scenario` prints every key of the loader's tables of
 * the scenario's own objects (top level, services, readiness, ...). */
static void test_docs_list_scenario_keys(void)
{
    char cmd[4200], line[4096];
    snprintf(cmd, sizeof cmd, "%s list scenario", cr_test_bin("chaosrun"));
    FILE *fp = popen(cmd, "r");
    CU_ASSERT_FATAL(fp != NULL);
    static names seen;
    memset(&seen, 0, sizeof seen);
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, "      ", 6) == 0)
            names_add(&seen, line + 6, strcspn(line + 6, " "));
    CU_ASSERT_EQUAL(pclose(fp), 0);
    size_t sets = 0;
    for (const cr_scen_keyset *k = cr_scen_keysets(); k->where; k++, sets++)
        for (const cr_param *p = k->params; p->name; p++)
            if (!names_has(&seen, p->name)) {
                fprintf(stderr, "chaosrun list scenario: %s: no key %s\n",
                        k->where, p->name);
                CU_FAIL("a scenario key is missing from chaosrun list");
            }
    CU_ASSERT(sets >= 5);
}

static void test_docs_list_matches_registry(void)
{
    static list_group g[3];
    memset(g, 0, sizeof g);
    if (read_list(g) != 0)
        CU_FAIL_FATAL("chaosrun list failed (is CR_BIN set?)");
    /* Kinds and their keys, in the registry's order. */
    same_names("fault common", &g[0].common, cr_fault_common_params);
    same_names("probe common", &g[1].common, cr_probe_common_params);
    same_names("expectation common", &g[2].common, cr_expect_common_params);
    size_t n = 0;
    for (const cr_fault_ops *const *f = cr_fault_all(); *f; f++, n++) {
        CU_ASSERT_FATAL(n < g[0].kinds.n);
        CU_ASSERT_STRING_EQUAL(g[0].kinds.v[n], (*f)->kind);
        same_names((*f)->kind, &g[0].keys[n], (*f)->params);
    }
    CU_ASSERT_EQUAL(n, g[0].kinds.n);
    n = 0;
    for (const cr_probe_ops *const *p = cr_probe_all(); *p; p++, n++) {
        CU_ASSERT_FATAL(n < g[1].kinds.n);
        CU_ASSERT_STRING_EQUAL(g[1].kinds.v[n], (*p)->kind);
        same_names((*p)->kind, &g[1].keys[n], (*p)->params);
    }
    CU_ASSERT_EQUAL(n, g[1].kinds.n);
    n = 0;
    for (const cr_check_ops *const *c = cr_check_all(); *c; c++, n++) {
        CU_ASSERT_FATAL(n < g[2].kinds.n);
        CU_ASSERT_STRING_EQUAL(g[2].kinds.v[n], (*c)->kind);
        same_names((*c)->kind, &g[2].keys[n], (*c)->params);
    }
    CU_ASSERT_EQUAL(n, g[2].kinds.n);

    /* What list says against what the validator does. */
    names found = {0};
    list_vs_validator(g, &found);
    size_t nk = 0; /* entries before the NULL */
    while (known_disagreements[nk])
        nk++;
    for (size_t i = 0; i < found.n; i++) {
        int known = 0;
        for (size_t k = 0; k < nk; k++)
            known |= strcmp(found.v[i], known_disagreements[k]) == 0;
        fprintf(stderr, "list vs validator (%s): %s\n", known ? "known" : "NEW",
                found.v[i]);
        if (!known)
            CU_FAIL("chaosrun list and the validator disagree");
    }
    for (size_t k = 0; k < nk; k++)
        if (!names_has(&found, known_disagreements[k])) {
            fprintf(stderr,
                    "fixed: \"%s\": remove it from "
                    "known_disagreements in tests/test_docs.c\n",
                    known_disagreements[k]);
            CU_FAIL("a known disagreement is gone");
        }
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("docs", NULL, NULL);
    CR_ADD_TEST(s, test_docs_fault_keys);
    CR_ADD_TEST(s, test_docs_probe_keys);
    CR_ADD_TEST(s, test_docs_expect_keys);
    CR_ADD_TEST(s, test_docs_scenario_keys_known);
    CR_ADD_TEST(s, test_docs_sections);
    CR_ADD_TEST(s, test_docs_examples_valid);
    CR_ADD_TEST(s, test_docs_list_matches_registry);
    CR_ADD_TEST(s, test_docs_list_scenario_keys);
}
