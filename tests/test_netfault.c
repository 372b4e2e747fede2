/* Unit tests of the network scenario parts through the scenario loader:
 * the hosts section (both forms), and the parse-time validation of the
 * netem, partition and bandwidth fault kinds (exact messages, positions). */
#include "base/cr_alloc.h"
#include "net/cr_net.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#include <stdio.h>
#include <string.h>

#define HOSTS                                                                  \
    "\"hosts\": [{\"name\": \"h1\", \"region\": \"eu\"}, {\"name\": \"h2\"}, " \
    "{\"name\": \"h3\"}]"
#define SVC                                                                    \
    "\"services\": [{\"name\": \"s\", \"host\": \"h1\", \"cmd\": [\"true\"]}]"

/* Load a scenario whose faults array is `faults`; returns the number of
 * diagnostics and copies them (joined by newlines) into out. */
static int load(const char *hosts, const char *faults, char *out, size_t n,
                cr_scen **scp)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\": \"t\", \"duration_s\": 10, %s, " SVC
             ", \"faults\": [%s]}",
             hosts, faults);
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    cr_scen_load_buffer("t.json", text, strlen(text), &sc, &d, &err);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < d.n && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%d:%d: %s\n", d.v[i].line,
                                d.v[i].col, d.v[i].msg);
    int count = (int)d.n;
    cr_diags_free(&d);
    if (scp)
        *scp = sc;
    else
        cr_scen_free(sc);
    return count;
}

static int has(const char *diags, const char *needle)
{
    if (strstr(diags, needle))
        return 1;
    fprintf(stderr, "\n  wanted \"%s\" in:\n%s", needle, diags);
    return 0;
}

static void test_netfault_hosts_section_forms(void)
{
    char d[2048];
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(load(HOSTS, "", d, sizeof d, &sc), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    const cr_net_hosts *h = sc->hosts;
    CU_ASSERT_EQUAL(h->n, 3);
    CU_ASSERT_STRING_EQUAL(h->v[0].name, "h1");
    CU_ASSERT_STRING_EQUAL(h->v[0].region, "eu");
    CU_ASSERT_PTR_NULL(h->v[1].region);
    CU_ASSERT(cr_net_host_exists(sc->hosts, "h3"));
    CU_ASSERT(!cr_net_host_exists(sc->hosts, "h4"));
    CU_ASSERT(!cr_net_host_exists(NULL, "h1"));
    cr_scen_free(sc);
    CU_ASSERT_EQUAL(
        load("\"hosts\": {\"h1\": {\"region\": \"us\"}, \"h2\": {}}", "", d,
             sizeof d, &sc),
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    h = sc->hosts;
    CU_ASSERT_EQUAL(h->n, 2);
    CU_ASSERT_STRING_EQUAL(h->v[0].region, "us");
    cr_scen_free(sc);
}

static void test_netfault_hosts_section_errors(void)
{
    char d[2048];
    CU_ASSERT(load("\"hosts\": [{\"name\": \"h1\"}, {\"name\": \"h1\"}]", "", d,
                   sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "duplicate host \"h1\""));
    CU_ASSERT(load("\"hosts\": [{\"name\": \"h1\"}, {\"name\": \"bad name\"}]",
                   "", d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "host name \"bad name\" must be"));
    CU_ASSERT(load("\"hosts\": []", "", d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "declares no hosts"));
    CU_ASSERT(load("\"hosts\": [{\"name\": \"h1\", \"zone\": 1}]", "", d,
                   sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "zone"));
}

static void test_netfault_netem_rules_at_parse(void)
{
    char d[2048];
    CU_ASSERT_EQUAL(
        load(HOSTS,
             "{\"kind\": \"netem\", \"host\": \"h1\", \"delay_ms\": 50, "
             "\"jitter_ms\": 5, \"distribution\": \"normal\", \"for_s\": 1}",
             d, sizeof d, NULL),
        0);
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"reorder\": 10, "
                   "\"for_s\": 1}",
                   d, sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "reorder needs delay_ms"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"delay_ms\": 5, "
                   "\"gap\": 3, \"for_s\": 1}",
                   d, sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "gap needs reorder"));
    CU_ASSERT(
        load(HOSTS,
             "{\"kind\": \"netem\", \"host\": \"h1\", \"loss_correlation\": 3, "
             "\"for_s\": 1}",
             d, sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "loss_correlation needs loss"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"delay_ms\": 5, "
                   "\"distribution\": \"pareto\", \"for_s\": 1}",
                   d, sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "distribution needs jitter_ms"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h9\", \"loss\": 3, "
                   "\"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "unknown host \"h9\""));
    CU_ASSERT(
        load(
            HOSTS,
            "{\"kind\": \"netem\", \"between\": [\"h1\", \"h1\"], \"loss\": 3, "
            "\"for_s\": 1}",
            d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "names the same host twice"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"between\": "
                   "[\"h1\", \"h2\"], "
                   "\"loss\": 3, \"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "either host or between"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"loss\": 3, "
                   "\"direction\": \"sideways\", \"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "direction"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"loss\": 3}", d,
                   sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "for_s"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"for_s\": 1}", d,
                   sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "at least one of"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"loss\": 3, "
                   "\"loss_model\": {\"gemodel\": {\"p\": 1}}, \"for_s\": 1}",
                   d, sizeof d, NULL) == 1);
    CU_ASSERT(has(d, "exclusive"));
    CU_ASSERT_EQUAL(
        load(HOSTS,
             "{\"kind\": \"netem\", \"host\": \"h1\", "
             "\"loss_model\": {\"state\": {\"p13\": 1, \"p31\": 90}}, "
             "\"for_s\": 1}",
             d, sizeof d, NULL),
        0);
    CU_ASSERT(load("\"hosts\": [{\"name\": \"h1\"}]",
                   "{\"kind\": \"netem\", \"host\": \"h1\", \"loss\": 3, "
                   "\"target\": \"s\", \"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
}

static void test_netfault_partition_and_bandwidth_parse(void)
{
    char d[2048];
    CU_ASSERT_EQUAL(load(HOSTS,
                         "{\"kind\": \"partition\", \"groups\": [[\"h1\"], "
                         "[\"h2\", \"h3\"]], "
                         "\"direction\": \"one-way\", \"for_s\": 1}",
                         d, sizeof d, NULL),
                    0);
    CU_ASSERT(
        load(HOSTS,
             "{\"kind\": \"partition\", \"groups\": [[\"h1\"]], \"for_s\": 1}",
             d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "at least two groups"));
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"partition\", \"groups\": [[\"h1\"], [\"h1\", "
                   "\"h2\"]], "
                   "\"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "in more than one group"));
    CU_ASSERT(
        load(HOSTS,
             "{\"kind\": \"partition\", \"groups\": [[\"h1\"], [\"zz\"]], "
             "\"for_s\": 1}",
             d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "unknown host \"zz\""));
    CU_ASSERT_EQUAL(
        load(HOSTS,
             "{\"kind\": \"bandwidth\", \"between\": [\"h1\", \"h2\"], "
             "\"rate_kbit\": 512, \"for_s\": 1}",
             d, sizeof d, NULL),
        0);
    CU_ASSERT(load(HOSTS,
                   "{\"kind\": \"bandwidth\", \"host\": \"h1\", \"for_s\": 1}",
                   d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "rate_kbit"));
    CU_ASSERT(
        load(HOSTS,
             "{\"kind\": \"bandwidth\", \"host\": \"h1\", \"rate_kbit\": 2, "
             "\"for_s\": 1}",
             d, sizeof d, NULL) >= 1);
    CU_ASSERT(has(d, "at least 8"));
    /* Network faults without a hosts section. */
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\": \"t\", \"duration_s\": 10, \"services\": [{\"name\": "
             "\"s\", "
             "\"cmd\": [\"true\"]}], \"faults\": [{\"kind\": \"partition\", "
             "\"groups\": [[\"a\"], [\"b\"]], \"for_s\": 1}]}");
    cr_scen *sc = NULL;
    cr_diags dg = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(
        cr_scen_load_buffer("t.json", text, strlen(text), &sc, &dg, &err),
        CR_EINVAL);
    CU_ASSERT(dg.n >= 1 && strstr(dg.v[0].msg, "needs a hosts section"));
    cr_diags_free(&dg);
    cr_scen_free(sc);
}

/* Fail the n-th allocation, n = 1, 2, ... until loading succeeds: every
 * failure must be reported as such and leak nothing (ASan checks). */
static void test_netfault_load_survives_allocation_failures(void)
{
    const char *text =
        "{\"name\": \"t\", \"duration_s\": 10, " HOSTS ", " SVC
        ", \"faults\": ["
        "{\"kind\": \"partition\", \"groups\": [[\"h1\"], [\"h2\", \"h3\"]], "
        "\"for_s\": 1},"
        "{\"kind\": \"netem\", \"host\": \"h1\", \"loss\": 5, \"for_s\": 1},"
        "{\"kind\": \"bandwidth\", \"host\": \"h2\", \"rate_kbit\": 100, "
        "\"for_s\": 1}]}";
    int ok = 0;
    for (long n = 1; n < 5000 && !ok; n++) {
        cr_scen *sc = NULL;
        cr_diags d = {0};
        cr_err err;
        cr_err_clear(&err);
        cr_alloc_fail_after(n);
        int rc =
            cr_scen_load_buffer("t.json", text, strlen(text), &sc, &d, &err);
        cr_alloc_fail_after(0);
        if (rc == 0) {
            ok = 1;
            CU_ASSERT_PTR_NOT_NULL(sc);
            CU_ASSERT_EQUAL(((cr_net_hosts *)sc->hosts)->n, 3);
        } else {
            CU_ASSERT_PTR_NULL(sc);
            CU_ASSERT(rc == CR_ENOMEM || rc == CR_EINVAL);
        }
        cr_diags_free(&d);
        cr_scen_free(sc);
    }
    CU_ASSERT(ok);
}

static void test_netfault_drop_ruleset_text(void)
{
    cr_net_flow f[2] = {{0, 2}, {1, 2}};
    char *rs = cr_net_nft_drop_ruleset("crx_f1_o0", f, 2, 300000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
    CU_ASSERT_PTR_NOT_NULL(strstr(rs, "table netdev crx_f1_o0 {"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(rs, "type filter hook ingress device \"cr0\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(rs, "type filter hook ingress device \"cr1\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(rs, "numgen random mod 1000000 < 300000 counter drop"));
    cr_free(rs);
    rs = cr_net_nft_drop_ruleset("t", f, 1, 1000000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
    CU_ASSERT_PTR_NULL(strstr(rs, "numgen"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rs, "counter drop"));
    cr_free(rs);
}

void cr_test_register(void)
{
    cr_alloc_install_json();
    CU_pSuite s = CU_add_suite("netfault", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_netfault_hosts_section_forms);
    CR_ADD_TEST(s, test_netfault_hosts_section_errors);
    CR_ADD_TEST(s, test_netfault_netem_rules_at_parse);
    CR_ADD_TEST(s, test_netfault_partition_and_bandwidth_parse);
    CR_ADD_TEST(s, test_netfault_load_survives_allocation_failures);
    CR_ADD_TEST(s, test_netfault_drop_ruleset_text);
}
