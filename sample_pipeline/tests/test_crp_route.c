/* Unit tests of crp_route (the worker's routing and failover state
 * machine) and crp_regc_parse_inst (the registry's LIST lines): every
 * transition of the table in crp_route.h, the hold-down, failback on and
 * off, region preference, an empty or forgotten set, the no_failover
 * defect, and malformed LIST lines. */
#include <errno.h>
#include <string.h>

#include "cr_test.h"

#include "crp_regc.h"
#include "crp_route.h"

static crp_rinst inst(const char *name, int prio, const char *region)
{
    crp_rinst r;
    memset(&r, 0, sizeof r);
    snprintf(r.inst, sizeof r.inst, "%s", name);
    snprintf(r.addr, sizeof r.addr, "127.0.0.1:%d", 7000 + prio);
    snprintf(r.region, sizeof r.region, "%s", region);
    r.prio = prio;
    return r;
}

static void two(crp_route *r)
{
    crp_rinst v[2] = {inst("a.0", 0, ""), inst("b.0", 1, "")};
    crp_route_set(r, v, 2);
}

static void test_crp_route_first_pick_is_preferred(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 0, 1000, 0);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 0, &p), 0); /* nothing known */
    CU_ASSERT_FALSE(crp_route_available(&r, 0));
    two(&r);
    CU_ASSERT_TRUE(crp_route_available(&r, 0));
    CU_ASSERT_EQUAL_FATAL(crp_route_pick(&r, 0, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "a.0");
    CU_ASSERT_STRING_EQUAL(p.from, "");
    CU_ASSERT_STRING_EQUAL(p.reason, "first");
    /* and it sticks */
    CU_ASSERT_EQUAL(crp_route_pick(&r, 1, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "a.0");
    CU_ASSERT_EQUAL(p.switched, 0);
}

static void test_crp_route_failover_on_failure(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 0, 1000, 0);
    two(&r);
    crp_route_pick(&r, 0, &p);
    crp_route_failed(&r, "a.0", 10, "closed");
    CU_ASSERT_EQUAL_FATAL(crp_route_pick(&r, 10, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_STRING_EQUAL(p.from, "a.0");
    CU_ASSERT_STRING_EQUAL(p.reason, "closed");
    CU_ASSERT_EQUAL(p.switched, 1);
    /* the registry still lists a.0 (it learns later): held down, and
     * without failback b.0 stays in use after the hold-down too */
    CU_ASSERT_EQUAL(crp_route_pick(&r, 500, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_EQUAL(p.switched, 0);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 5000, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_EQUAL(p.switched, 0);
}

static void test_crp_route_failback(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 1, 1000, 0);
    two(&r);
    crp_route_pick(&r, 0, &p);
    crp_route_failed(&r, "a.0", 10, "timeout");
    crp_route_pick(&r, 10, &p);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_STRING_EQUAL(p.reason, "timeout");
    /* still held down: no failback yet */
    CU_ASSERT_EQUAL(crp_route_pick(&r, 1009, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    /* the registry dropped it meanwhile: no failback either */
    crp_rinst only_b = inst("b.0", 1, "");
    crp_route_set(&r, &only_b, 1);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 1500, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    /* healthy again: back to the preferred one */
    two(&r);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 2000, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "a.0");
    CU_ASSERT_STRING_EQUAL(p.from, "b.0");
    CU_ASSERT_STRING_EQUAL(p.reason, "failback");
    CU_ASSERT_EQUAL(p.switched, 1);
}

static void test_crp_route_unhealthy_in_registry(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 0, 1000, 0);
    two(&r);
    crp_route_pick(&r, 0, &p);
    crp_rinst only_b = inst("b.0", 1, "");
    crp_route_set(&r, &only_b, 1);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 1, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_STRING_EQUAL(p.reason, "unhealthy");
    CU_ASSERT_STRING_EQUAL(p.from, "a.0");
}

static void test_crp_route_nothing_eligible(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 0, 1000, 0);
    two(&r);
    crp_route_pick(&r, 0, &p);
    crp_route_failed(&r, "a.0", 0, "refused");
    crp_route_failed(&r, "b.0", 0, "refused");
    CU_ASSERT_FALSE(crp_route_available(&r, 10));
    CU_ASSERT_EQUAL(crp_route_pick(&r, 10, &p), 0);
    CU_ASSERT_STRING_EQUAL(p.from, "a.0");
    /* an empty healthy set from the registry: nothing either */
    crp_route_set(&r, NULL, 0);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 5000, &p), 0);
    /* the hold-down of b.0 ended and it is listed: move there, with the
     * reason of a.0's failure */
    crp_rinst only_b = inst("b.0", 1, "");
    crp_route_set(&r, &only_b, 1);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 5000, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    CU_ASSERT_STRING_EQUAL(p.from, "a.0");
    CU_ASSERT_STRING_EQUAL(p.reason, "refused");
}

static void test_crp_route_same_instance_after_holddown(void)
{
    crp_route r;
    crp_rpick p;
    crp_rinst only_a = inst("a.0", 0, "");
    crp_route_init(&r, "", 0, 100, 0);
    crp_route_set(&r, &only_a, 1);
    crp_route_pick(&r, 0, &p);
    crp_route_failed(&r, "a.0", 0, "timeout");
    CU_ASSERT_EQUAL(crp_route_pick(&r, 50, &p), 0);
    /* back on the same instance: not a failover */
    CU_ASSERT_EQUAL(crp_route_pick(&r, 100, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "a.0");
    CU_ASSERT_EQUAL(p.switched, 0);
}

static void test_crp_route_region_preferred(void)
{
    crp_route r;
    crp_rpick p;
    crp_rinst v[3] = {inst("a.0", 0, "eu"), inst("b.0", 1, "us"),
                      inst("c.0", 2, "us")};
    crp_route_init(&r, "us", 0, 1000, 0);
    crp_route_set(&r, v, 3);
    CU_ASSERT_STRING_EQUAL(r.set[0].inst, "b.0");
    CU_ASSERT_STRING_EQUAL(r.set[1].inst, "c.0");
    CU_ASSERT_STRING_EQUAL(r.set[2].inst, "a.0");
    crp_route_pick(&r, 0, &p);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "b.0");
    crp_route_failed(&r, "b.0", 0, "timeout");
    crp_route_pick(&r, 1, &p);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "c.0"); /* same region first */
}

static void test_crp_route_forget_and_caps(void)
{
    crp_route r;
    crp_rpick p;
    crp_rinst v[CRP_ROUTE_MAX + 5];
    for (int i = 0; i < CRP_ROUTE_MAX + 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "i.%d", i);
        v[i] = inst(name, i, "");
    }
    crp_route_init(&r, "", 0, 1000, 0);
    crp_route_set(&r, v, CRP_ROUTE_MAX + 5);
    CU_ASSERT_EQUAL(r.n, CRP_ROUTE_MAX);
    crp_route_set(&r, v, -3);
    CU_ASSERT_EQUAL(r.n, 0);
    crp_route_set(&r, v, 2);
    crp_route_forget(&r);
    CU_ASSERT_EQUAL(crp_route_pick(&r, 0, &p), 0);
    /* more failures than hold-down slots: no overflow */
    for (int i = 0; i < CRP_ROUTE_MAX + 5; i++)
        crp_route_failed(&r, v[i].inst, i, "error");
    CU_ASSERT_EQUAL(r.ndown, CRP_ROUTE_MAX);
}

static void test_crp_route_defect_no_failover(void)
{
    crp_route r;
    crp_rpick p;
    crp_route_init(&r, "", 0, 1000, 1);
    two(&r);
    crp_route_pick(&r, 0, &p);
    crp_route_failed(&r, "a.0", 10, "closed");
    CU_ASSERT_TRUE(crp_route_available(&r, 10));
    CU_ASSERT_EQUAL(crp_route_pick(&r, 10, &p), 1);
    CU_ASSERT_STRING_EQUAL(p.to.inst, "a.0"); /* the dead one, again */
    CU_ASSERT_EQUAL(p.switched, 0);
}

static void test_crp_regc_parse_inst_lines(void)
{
    crp_rinst r;
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 10.1.2.3:7880 2 eu", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.inst, "a.0");
    CU_ASSERT_STRING_EQUAL(r.addr, "10.1.2.3:7880");
    CU_ASSERT_EQUAL(r.prio, 2);
    CU_ASSERT_STRING_EQUAL(r.region, "eu");
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 h:1 0 -", &r), 0);
    CU_ASSERT_STRING_EQUAL(r.region, "");
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 noport 0 -", &r), -EPROTO);
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 h:1 x -", &r), -EPROTO);
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 h:1 0", &r), -EPROTO);
    CU_ASSERT_EQUAL(crp_regc_parse_inst("I a.0 h:1 0 eu junk", &r), -EPROTO);
    CU_ASSERT_EQUAL(crp_regc_parse_inst("X a.0 h:1 0 eu", &r), -EPROTO);
    CU_ASSERT_EQUAL(crp_regc_parse_inst("", &r), -EPROTO);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_route", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_crp_route_first_pick_is_preferred);
    CR_ADD_TEST(s, test_crp_route_failover_on_failure);
    CR_ADD_TEST(s, test_crp_route_failback);
    CR_ADD_TEST(s, test_crp_route_unhealthy_in_registry);
    CR_ADD_TEST(s, test_crp_route_nothing_eligible);
    CR_ADD_TEST(s, test_crp_route_same_instance_after_holddown);
    CR_ADD_TEST(s, test_crp_route_region_preferred);
    CR_ADD_TEST(s, test_crp_route_forget_and_caps);
    CR_ADD_TEST(s, test_crp_route_defect_no_failover);
    CR_ADD_TEST(s, test_crp_regc_parse_inst_lines);
}
