/* Unit tests of crp_regtab: the registry's health logic (heartbeat AND
 * active check), preference order, re-registration, expiry, health
 * transitions, and the bad inputs it must refuse. */
#include <errno.h>
#include <string.h>

#include "cr_test.h"

#include "crp_regtab.h"

static crp_regtab t;

static void fresh(void)
{
    crp_regtab_init(&t, 1000, 2, 30000);
}

static int healthy(const char *inst, int64_t now, const char **why)
{
    for (int i = 0; i < t.n; i++)
        if (!strcmp(t.e[i].inst, inst))
            return crp_regtab_healthy(&t, &t.e[i], now, why);
    CU_FAIL("no such instance");
    return -1;
}

static void test_crp_regtab_needs_heartbeat_and_probe(void)
{
    const char *why = NULL;
    fresh();
    CU_ASSERT_EQUAL(
        crp_regtab_register(&t, "model", "a.0", "127.0.0.1:1", 0, "-", 0), 0);
    /* registered but never checked: not yet healthy */
    CU_ASSERT_EQUAL(healthy("a.0", 10, &why), 0);
    CU_ASSERT_STRING_EQUAL(why, "unprobed");
    CU_ASSERT_EQUAL(
        crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 1), 0);
    CU_ASSERT_EQUAL(healthy("a.0", 10, &why), 1);
    CU_ASSERT_PTR_NULL(why);
    /* heartbeat too old: unhealthy even though the check passed */
    CU_ASSERT_EQUAL(healthy("a.0", 1001, &why), 0);
    CU_ASSERT_STRING_EQUAL(why, "heartbeat");
    CU_ASSERT_EQUAL(crp_regtab_heartbeat(&t, "model", "a.0", 1001), 0);
    CU_ASSERT_EQUAL(healthy("a.0", 1500, NULL), 1);
}

static void test_crp_regtab_probe_failures_threshold(void)
{
    const char *why = NULL;
    fresh();
    crp_regtab_register(&t, "model", "a.0", "127.0.0.1:1", 0, "-", 0);
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 1);
    /* one failed check is tolerated (probe_failures = 2) */
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 0);
    CU_ASSERT_EQUAL(healthy("a.0", 10, NULL), 1);
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 0);
    CU_ASSERT_EQUAL(healthy("a.0", 10, &why), 0);
    CU_ASSERT_STRING_EQUAL(why, "probe");
    /* heartbeats alone do not bring it back: a check must pass */
    crp_regtab_heartbeat(&t, "model", "a.0", 20);
    CU_ASSERT_EQUAL(healthy("a.0", 20, NULL), 0);
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 1);
    CU_ASSERT_EQUAL(healthy("a.0", 20, NULL), 1);
    /* a success resets the count of consecutive failures */
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 0);
    CU_ASSERT_EQUAL(healthy("a.0", 20, NULL), 1);
}

static void test_crp_regtab_stale_probe_ignored(void)
{
    fresh();
    crp_regtab_register(&t, "model", "a.0", "127.0.0.1:1", 0, "-", 0);
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 1);
    /* re-registered at a new address: the old check state goes */
    crp_regtab_register(&t, "model", "a.0", "127.0.0.1:2", 0, "-", 5);
    CU_ASSERT_EQUAL(healthy("a.0", 5, NULL), 0);
    /* a result for the old address (a check in flight) is ignored */
    CU_ASSERT_EQUAL(
        crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:1", 1), -ENOENT);
    CU_ASSERT_EQUAL(healthy("a.0", 5, NULL), 0);
    CU_ASSERT_EQUAL(crp_regtab_probe_result(&t, "model", "gone", "x:1", 1),
                    -ENOENT);
    /* same address again: the check state is kept */
    crp_regtab_probe_result(&t, "model", "a.0", "127.0.0.1:2", 1);
    crp_regtab_register(&t, "model", "a.0", "127.0.0.1:2", 3, "eu", 6);
    CU_ASSERT_EQUAL(healthy("a.0", 6, NULL), 1);
    CU_ASSERT_EQUAL(t.n, 1);
    CU_ASSERT_EQUAL(t.e[0].prio, 3);
    CU_ASSERT_STRING_EQUAL(t.e[0].region, "eu");
}

static void up(const char *svc, const char *inst, int prio, int64_t now)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", 1000 + prio);
    CU_ASSERT_EQUAL(crp_regtab_register(&t, svc, inst, addr, prio, "-", now),
                    0);
    crp_regtab_probe_result(&t, svc, inst, addr, 1);
}

static void test_crp_regtab_list_order_and_filter(void)
{
    int idx[CRP_REG_MAX];
    fresh();
    up("model", "c.0", 2, 0);
    up("model", "b.0", 1, 0);
    up("model", "a.1", 1, 0);
    up("other", "z.0", 0, 0);
    up("model", "d.0", 0, 0);
    crp_regtab_probe_result(&t, "model", "d.0", "127.0.0.1:1000", 0);
    crp_regtab_probe_result(&t, "model", "d.0", "127.0.0.1:1000", 0);
    int k = crp_regtab_list(&t, "model", 10, idx, CRP_REG_MAX);
    CU_ASSERT_EQUAL_FATAL(k, 3); /* d.0 failed its checks, z.0 other svc */
    CU_ASSERT_STRING_EQUAL(t.e[idx[0]].inst, "a.1"); /* prio 1, name */
    CU_ASSERT_STRING_EQUAL(t.e[idx[1]].inst, "b.0");
    CU_ASSERT_STRING_EQUAL(t.e[idx[2]].inst, "c.0");
    /* max caps the answer */
    CU_ASSERT_EQUAL(crp_regtab_list(&t, "model", 10, idx, 1), 1);
    CU_ASSERT_EQUAL(crp_regtab_list(&t, "nobody", 10, idx, CRP_REG_MAX), 0);
}

static void test_crp_regtab_bad_input(void)
{
    fresh();
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "", "a", "h:1", 0, "-", 0),
                    -EINVAL);
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", "a b", "h:1", 0, "-", 0),
                    -EINVAL);
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", "a", "noport", 0, "-", 0),
                    -EINVAL);
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", "a", "h:1", 0, "", 0),
                    -EINVAL);
    CU_ASSERT_EQUAL(crp_regtab_register(&t, NULL, "a", "h:1", 0, "-", 0),
                    -EINVAL);
    char longname[100];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", longname, "h:1", 0, "-", 0),
                    -EINVAL);
    CU_ASSERT_EQUAL(t.n, 0);
    CU_ASSERT_EQUAL(crp_regtab_heartbeat(&t, "m", "a", 0), -ENOENT);
    CU_ASSERT_EQUAL(crp_regtab_remove(&t, "m", "a"), -ENOENT);
    /* full table */
    for (int i = 0; i < CRP_REG_MAX; i++) {
        char inst[16];
        snprintf(inst, sizeof inst, "i.%d", i);
        CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", inst, "h:1", 0, "-", 0),
                        0);
    }
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", "one-more", "h:1", 0, "-", 0),
                    -ENOSPC);
    /* re-registering an existing one still works when full */
    CU_ASSERT_EQUAL(crp_regtab_register(&t, "m", "i.3", "h:2", 0, "-", 0), 0);
}

static void test_crp_regtab_remove_and_expire(void)
{
    fresh();
    up("m", "a.0", 0, 0);
    up("m", "b.0", 1, 0);
    up("m", "c.0", 2, 20000);
    CU_ASSERT_EQUAL(crp_regtab_remove(&t, "m", "a.0"), 0);
    CU_ASSERT_EQUAL(t.n, 2);
    CU_ASSERT_EQUAL(crp_regtab_heartbeat(&t, "m", "a.0", 1), -ENOENT);
    CU_ASSERT_EQUAL(crp_regtab_expire(&t, 30000), 0); /* exactly the limit */
    CU_ASSERT_EQUAL(crp_regtab_expire(&t, 30001), 1); /* b.0 */
    CU_ASSERT_EQUAL(t.n, 1);
    CU_ASSERT_STRING_EQUAL(t.e[0].inst, "c.0");
}

static int nchanges, last_healthy;
static char last_inst[64], last_why[32];

static void on_change(void *arg, const crp_reg_ent *e, int h, const char *why)
{
    (void)arg;
    nchanges++;
    last_healthy = h;
    snprintf(last_inst, sizeof last_inst, "%s", e->inst);
    snprintf(last_why, sizeof last_why, "%s", why ? why : "");
}

static void test_crp_regtab_changes_reported_once(void)
{
    fresh();
    nchanges = 0;
    crp_regtab_register(&t, "m", "a.0", "h:1", 0, "-", 0);
    crp_regtab_changes(&t, 0, on_change, NULL);
    CU_ASSERT_EQUAL(nchanges, 0); /* new and unhealthy: nothing to say */
    crp_regtab_probe_result(&t, "m", "a.0", "h:1", 1);
    crp_regtab_changes(&t, 10, on_change, NULL);
    CU_ASSERT_EQUAL(nchanges, 1);
    CU_ASSERT_EQUAL(last_healthy, 1);
    crp_regtab_changes(&t, 20, on_change, NULL);
    CU_ASSERT_EQUAL(nchanges, 1);
    crp_regtab_changes(&t, 2000, on_change, NULL); /* heartbeat stale */
    CU_ASSERT_EQUAL(nchanges, 2);
    CU_ASSERT_EQUAL(last_healthy, 0);
    CU_ASSERT_STRING_EQUAL(last_inst, "a.0");
    CU_ASSERT_STRING_EQUAL(last_why, "heartbeat");
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_regtab", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_crp_regtab_needs_heartbeat_and_probe);
    CR_ADD_TEST(s, test_crp_regtab_probe_failures_threshold);
    CR_ADD_TEST(s, test_crp_regtab_stale_probe_ignored);
    CR_ADD_TEST(s, test_crp_regtab_list_order_and_filter);
    CR_ADD_TEST(s, test_crp_regtab_bad_input);
    CR_ADD_TEST(s, test_crp_regtab_remove_and_expire);
    CR_ADD_TEST(s, test_crp_regtab_changes_reported_once);
}
