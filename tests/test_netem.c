/* Unit tests for cr_netem: validation rules, unit scaling, the attributes
 * of the RTM_NEWQDISC request (built, parsed back, never sent), and the
 * generated delay distributions. */
#include "net/cr_netem.h"
#include "cr_test.h"

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <string.h>

static int invalid(cr_netem_spec s, const char *needle)
{
    cr_err err;
    cr_err_clear(&err);
    int rc = cr_netem_validate(&s, &err);
    if (rc != CR_EINVAL || !strstr(err.msg, needle)) {
        fprintf(stderr, "\n  expected \"%s\", got %d \"%s\"\n", needle, rc,
                err.msg);
        return 0;
    }
    return 1;
}

static void test_netem_validation_rules(void)
{
    CU_ASSERT(
        invalid((cr_netem_spec){.reorder = 10}, "reorder needs delay_ms"));
    CU_ASSERT(invalid((cr_netem_spec){.delay_ms = 10, .gap = 5},
                      "gap needs reorder"));
    CU_ASSERT(invalid((cr_netem_spec){.delay_ms = 10, .reorder_corr = 5},
                      "reorder_correlation needs reorder"));
    CU_ASSERT(invalid((cr_netem_spec){.loss_corr = 25},
                      "loss_correlation needs loss"));
    CU_ASSERT(invalid((cr_netem_spec){.duplicate_corr = 25},
                      "duplicate_correlation needs duplicate"));
    CU_ASSERT(invalid((cr_netem_spec){.corrupt_corr = 25},
                      "corrupt_correlation needs corrupt"));
    CU_ASSERT(invalid((cr_netem_spec){.delay_ms = 10, .delay_corr = 25},
                      "delay_correlation needs jitter_ms"));
    CU_ASSERT(
        invalid((cr_netem_spec){.delay_ms = 10, .dist = CR_NETEM_DIST_NORMAL},
                "distribution needs jitter_ms"));
    CU_ASSERT(
        invalid((cr_netem_spec){.jitter_ms = 10}, "jitter_ms needs delay_ms"));
    CU_ASSERT(
        invalid((cr_netem_spec){.loss = 101}, "loss must be a percentage"));
    CU_ASSERT(
        invalid((cr_netem_spec){.loss = -1}, "loss must be a percentage"));
    CU_ASSERT(
        invalid((cr_netem_spec){.loss = NAN}, "loss must be a percentage"));
    CU_ASSERT(invalid((cr_netem_spec){.delay_ms = -5}, "delay_ms must be"));
    CU_ASSERT(invalid((cr_netem_spec){.loss = 5,
                                      .loss_model = CR_NETEM_LOSS_GE,
                                      .ge = {1, 10, 0, 0}},
                      "exclusive"));
    CU_ASSERT(invalid((cr_netem_spec){.loss_model = CR_NETEM_LOSS_GE},
                      "needs p > 0"));
    CU_ASSERT(
        invalid((cr_netem_spec){.slot_packets = 5}, "slot limits need a slot"));
    CU_ASSERT(invalid((cr_netem_spec){.slot_min_ms = 20, .slot_max_ms = 10},
                      "slot_max_ms must be >= slot_min_ms"));
    CU_ASSERT(invalid((cr_netem_spec){.loss_model = CR_NETEM_LOSS_STATE},
                      "needs p13 > 0"));
    cr_err err;
    cr_err_clear(&err);
    cr_netem_spec ok = {.delay_ms = 100,
                        .jitter_ms = 10,
                        .delay_corr = 25,
                        .dist = CR_NETEM_DIST_PARETO,
                        .loss = 1,
                        .loss_corr = 5,
                        .duplicate = 1,
                        .corrupt = 0.1,
                        .reorder = 25,
                        .reorder_corr = 50,
                        .gap = 5,
                        .rate_kbit = 1000};
    CU_ASSERT_EQUAL(cr_netem_validate(&ok, &err), 0);
}

static void test_netem_prob_scaling(void)
{
    CU_ASSERT_EQUAL(cr_netem_prob(0), 0u);
    CU_ASSERT_EQUAL(cr_netem_prob(-3), 0u);
    CU_ASSERT_EQUAL(cr_netem_prob(100), UINT32_MAX);
    CU_ASSERT_EQUAL(cr_netem_prob(50), 2147483648u);
    /* 1% is 42949673 (iproute2's get_percent gives the same). */
    CU_ASSERT_EQUAL(cr_netem_prob(1), 42949673u);
    CU_ASSERT_EQUAL(cr_netem_prob(0.01), 429497u);
}

static void test_netem_emulable_names_the_rest(void)
{
    char why[128];
    cr_netem_spec a = {.loss = 10, .rate_kbit = 100};
    CU_ASSERT_EQUAL(cr_netem_emulable(&a, why, sizeof why), 1);
    cr_netem_spec b = {
        .delay_ms = 50, .jitter_ms = 5, .loss = 10, .reorder = 5};
    CU_ASSERT_EQUAL(cr_netem_emulable(&b, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(why, "delay_ms, jitter_ms, reorder");
    cr_netem_spec c = {
        .loss = 10, .loss_corr = 20, .duplicate = 1, .corrupt = 2};
    CU_ASSERT_EQUAL(cr_netem_emulable(&c, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(why, "loss_correlation, duplicate, corrupt");
}

/* Kernel ticks per microsecond from /proc/net/psched, as libnl reads it. */
static double ticks_per_us(void)
{
    FILE *fp = fopen("/proc/net/psched", "r");
    unsigned t2us = 0, us2t = 0, clock_res = 0, hz = 0;
    if (fp) {
        if (fscanf(fp, "%08x %08x %08x %08x", &t2us, &us2t, &clock_res, &hz) !=
            4)
            t2us = 0;
        fclose(fp);
    }
    if (!t2us || !us2t)
        return 1;
    /* libnl: ticks_per_usec = ns_per_usec / ns_per_tick. */
    return (double)t2us / us2t;
}

typedef struct parsed {
    struct tcmsg tcm;
    char kind[16];
    struct tc_netem_qopt qopt;
    struct nlattr *tb[TCA_NETEM_MAX + 1];
    struct nlattr *loss[NETEM_LOSS_MAX + 1];
    int opts_span_rest; /* TCA_OPTIONS reaches the end of the message */
} parsed;

static int parse(struct nl_msg *msg, parsed *p)
{
    memset(p, 0, sizeof *p);
    struct nlmsghdr *nlh = nlmsg_hdr(msg);
    if (nlh->nlmsg_type != RTM_NEWQDISC)
        return -1;
    memcpy(&p->tcm, nlmsg_data(nlh), sizeof p->tcm);
    struct nlattr *a, *opts = NULL;
    int rem;
    nlmsg_for_each_attr(a, nlh, sizeof(struct tcmsg), rem)
    {
        if (nla_type(a) == TCA_KIND)
            snprintf(p->kind, sizeof p->kind, "%s", (char *)nla_data(a));
        if (nla_type(a) == TCA_OPTIONS)
            opts = a;
    }
    if (!opts || nla_len(opts) < (int)sizeof p->qopt)
        return -1;
    p->opts_span_rest = (char *)opts + NLA_ALIGN(opts->nla_len) ==
                        (char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len);
    memcpy(&p->qopt, nla_data(opts), sizeof p->qopt);
    /* As sch_netem does: attributes follow the struct inside TCA_OPTIONS. */
    int off = NLA_ALIGN(sizeof p->qopt);
    if (nla_parse(p->tb, TCA_NETEM_MAX,
                  (struct nlattr *)((char *)nla_data(opts) + off),
                  nla_len(opts) - off, NULL) < 0)
        return -1;
    if (p->tb[TCA_NETEM_LOSS] &&
        nla_parse_nested(p->loss, NETEM_LOSS_MAX, p->tb[TCA_NETEM_LOSS], NULL) <
            0)
        return -1;
    return 0;
}

static void test_netem_request_attributes_and_scaling(void)
{
    cr_netem_spec s = {.delay_ms = 100,
                       .jitter_ms = 10,
                       .delay_corr = 25,
                       .loss = 5,
                       .loss_corr = 50,
                       .duplicate = 1,
                       .corrupt = 0.5,
                       .corrupt_corr = 10,
                       .reorder = 25,
                       .reorder_corr = 50,
                       .gap = 5,
                       .rate_kbit = 8000,
                       .dist = CR_NETEM_DIST_NORMAL};
    struct nl_msg *msg = NULL;
    cr_err err;
    cr_err_clear(&err);
    int brc = cr_netem_build(&s, 7, &msg, &err);
    if (brc)
        fprintf(stderr, "\n  build: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(brc, 0);
    parsed p;
    CU_ASSERT_EQUAL_FATAL(parse(msg, &p), 0);
    CU_ASSERT_STRING_EQUAL(p.kind, "netem");
    CU_ASSERT_EQUAL(p.tcm.tcm_ifindex, 7);
    CU_ASSERT_EQUAL(p.tcm.tcm_parent, TC_H_ROOT);
    CU_ASSERT(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_CREATE);
    CU_ASSERT(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_EXCL);
    CU_ASSERT(p.opts_span_rest);
    /* 100 ms = 100000 us, in ticks. */
    double tpu = ticks_per_us();
    CU_ASSERT(fabs(p.qopt.latency - 100000 * tpu) <= 1);
    CU_ASSERT(fabs(p.qopt.jitter - 10000 * tpu) <= 1);
    CU_ASSERT_EQUAL(p.qopt.loss, cr_netem_prob(5));
    CU_ASSERT_EQUAL(p.qopt.duplicate, cr_netem_prob(1));
    CU_ASSERT_EQUAL(p.qopt.gap, 5u);
    CU_ASSERT_EQUAL(p.qopt.limit, 1000u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_CORR]);
    struct tc_netem_corr *cor = nla_data(p.tb[TCA_NETEM_CORR]);
    CU_ASSERT_EQUAL(cor->delay_corr, cr_netem_prob(25));
    CU_ASSERT_EQUAL(cor->loss_corr, cr_netem_prob(50));
    CU_ASSERT_EQUAL(cor->dup_corr, 0u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_REORDER]);
    struct tc_netem_reorder *ro = nla_data(p.tb[TCA_NETEM_REORDER]);
    CU_ASSERT_EQUAL(ro->probability, cr_netem_prob(25));
    CU_ASSERT_EQUAL(ro->correlation, cr_netem_prob(50));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_CORRUPT]);
    struct tc_netem_corrupt *co = nla_data(p.tb[TCA_NETEM_CORRUPT]);
    CU_ASSERT_EQUAL(co->probability, cr_netem_prob(0.5));
    CU_ASSERT_EQUAL(co->correlation, cr_netem_prob(10));
    /* 8000 kbit/s = 1,000,000 bytes/s, as a raw attribute. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_RATE]);
    struct tc_netem_rate *rt = nla_data(p.tb[TCA_NETEM_RATE]);
    CU_ASSERT_EQUAL(rt->rate, 1000000u);
    CU_ASSERT_PTR_NULL(p.tb[TCA_NETEM_RATE64]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_DELAY_DIST]);
    CU_ASSERT_EQUAL(nla_len(p.tb[TCA_NETEM_DELAY_DIST]),
                    CR_NETEM_DIST_SIZE * (int)sizeof(int16_t));
    CU_ASSERT_PTR_NULL(p.tb[TCA_NETEM_LOSS]);
    nlmsg_free(msg);
}

static void test_netem_request_loss_models_and_rate64(void)
{
    cr_netem_spec s = {.loss_model = CR_NETEM_LOSS_GE,
                       .ge = {1, 20, 70, 0.5},
                       .rate_kbit = 40e6 /* 5e9 bytes/s > 2^32 */};
    struct nl_msg *msg = NULL;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(cr_netem_build(&s, 3, &msg, &err), 0);
    parsed p;
    CU_ASSERT_EQUAL_FATAL(parse(msg, &p), 0);
    CU_ASSERT(p.opts_span_rest);
    CU_ASSERT_EQUAL(p.qopt.loss, 0u);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.loss[NETEM_LOSS_GE]);
    CU_ASSERT_PTR_NULL(p.loss[NETEM_LOSS_GI]);
    struct tc_netem_gemodel *ge = nla_data(p.loss[NETEM_LOSS_GE]);
    CU_ASSERT_EQUAL(ge->p, cr_netem_prob(1));
    CU_ASSERT_EQUAL(ge->r, cr_netem_prob(20));
    CU_ASSERT_EQUAL(ge->h, cr_netem_prob(70));
    CU_ASSERT_EQUAL(ge->k1, cr_netem_prob(0.5));
    struct tc_netem_rate *rt = nla_data(p.tb[TCA_NETEM_RATE]);
    CU_ASSERT_EQUAL(rt->rate, UINT32_MAX);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_RATE64]);
    CU_ASSERT_EQUAL(nla_get_u64(p.tb[TCA_NETEM_RATE64]), 5000000000ull);
    CU_ASSERT_PTR_NULL(p.tb[TCA_NETEM_CORR]);
    CU_ASSERT_PTR_NULL(p.tb[TCA_NETEM_DELAY_DIST]);
    nlmsg_free(msg);

    cr_netem_spec sl = {.slot_min_ms = 10,
                        .slot_max_ms = 20.5,
                        .slot_packets = 8,
                        .slot_bytes = 3000};
    msg = NULL;
    CU_ASSERT_EQUAL_FATAL(cr_netem_build(&sl, 3, &msg, &err), 0);
    CU_ASSERT_EQUAL_FATAL(parse(msg, &p), 0);
    CU_ASSERT(p.opts_span_rest);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.tb[TCA_NETEM_SLOT]);
    struct tc_netem_slot *so = nla_data(p.tb[TCA_NETEM_SLOT]);
    CU_ASSERT_EQUAL(so->min_delay, 10000000); /* ns */
    CU_ASSERT_EQUAL(so->max_delay, 20500000);
    CU_ASSERT_EQUAL(so->max_packets, 8);
    CU_ASSERT_EQUAL(so->max_bytes, 3000);
    nlmsg_free(msg);

    cr_netem_spec g = {.loss_model = CR_NETEM_LOSS_STATE,
                       .state = {2, 90, 5, 80, 1}};
    msg = NULL;
    CU_ASSERT_EQUAL_FATAL(cr_netem_build(&g, 3, &msg, &err), 0);
    CU_ASSERT_EQUAL_FATAL(parse(msg, &p), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p.loss[NETEM_LOSS_GI]);
    struct tc_netem_gimodel *gi = nla_data(p.loss[NETEM_LOSS_GI]);
    CU_ASSERT_EQUAL(gi->p13, cr_netem_prob(2));
    CU_ASSERT_EQUAL(gi->p31, cr_netem_prob(90));
    CU_ASSERT_EQUAL(gi->p32, cr_netem_prob(5));
    CU_ASSERT_EQUAL(gi->p23, cr_netem_prob(80));
    CU_ASSERT_EQUAL(gi->p14, cr_netem_prob(1));
    CU_ASSERT_PTR_NULL(p.tb[TCA_NETEM_RATE]);
    nlmsg_free(msg);
}

static void test_netem_build_refuses_invalid(void)
{
    cr_netem_spec s = {.gap = 3};
    struct nl_msg *msg = NULL;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_netem_build(&s, 3, &msg, &err), CR_EINVAL);
    CU_ASSERT_PTR_NULL(msg);
    CU_ASSERT_STRING_EQUAL(err.msg, "gap needs reorder");
}

static void table_moments(int dist, double *mean, double *sd, int *sorted)
{
    static int16_t t[CR_NETEM_DIST_SIZE];
    CU_ASSERT_EQUAL_FATAL(cr_netem_dist_table(dist, t, CR_NETEM_DIST_SIZE), 0);
    double s = 0, q = 0;
    *sorted = 1;
    for (int i = 0; i < CR_NETEM_DIST_SIZE; i++) {
        double v = t[i] / (double)CR_NETEM_DIST_SCALE;
        s += v;
        q += v * v;
        if (i && t[i] < t[i - 1])
            *sorted = 0;
    }
    *mean = s / CR_NETEM_DIST_SIZE;
    *sd = sqrt(q / CR_NETEM_DIST_SIZE - *mean * *mean);
}

static void test_netem_distribution_tables(void)
{
    double m, sd;
    int sorted;
    table_moments(CR_NETEM_DIST_NORMAL, &m, &sd, &sorted);
    CU_ASSERT(sorted);
    CU_ASSERT(fabs(m) < 0.01);
    CU_ASSERT(fabs(sd - 1) < 0.02);
    /* Pareto: long right tail, clamped at int16; mean near 0 but skewed. */
    table_moments(CR_NETEM_DIST_PARETO, &m, &sd, &sorted);
    CU_ASSERT(sorted);
    CU_ASSERT(fabs(m) < 0.1);
    CU_ASSERT(sd > 0.5 && sd < 1.1);
    table_moments(CR_NETEM_DIST_PARETONORMAL, &m, &sd, &sorted);
    CU_ASSERT(sorted);
    CU_ASSERT(fabs(m) < 0.1);
    CU_ASSERT(sd > 0.5 && sd < 1.1);
    int16_t t[4];
    CU_ASSERT_EQUAL(cr_netem_dist_table(CR_NETEM_DIST_UNIFORM, t, 4),
                    CR_EINVAL);
}

static void test_netem_format(void)
{
    char buf[256];
    cr_netem_spec s = {
        .delay_ms = 100, .jitter_ms = 10, .loss = 5, .rate_kbit = 512};
    cr_netem_format(&s, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "delay 100ms jitter 10ms loss 5% rate 512kbit");
}

/* tc(8)'s words for the same parameters (netem on ssh nodes): every
 * field where tc expects it, uniform jitter unnamed, and a buffer too
 * small refused rather than cut. */
static void test_netem_tc_args(void)
{
    char buf[512];
    cr_netem_spec s = {.delay_ms = 100,
                       .jitter_ms = 10,
                       .delay_corr = 25,
                       .dist = CR_NETEM_DIST_NORMAL,
                       .loss = 5,
                       .loss_corr = 1.5,
                       .duplicate = 2,
                       .corrupt = 0.5,
                       .reorder = 10,
                       .gap = 3,
                       .rate_kbit = 800};
    CU_ASSERT_EQUAL(cr_netem_tc_args(&s, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "netem limit 1000 delay 100ms 10ms 25% "
                                "distribution normal loss random 5% 1.5% "
                                "duplicate 2% corrupt 0.5% reorder 10% gap 3 "
                                "rate 800kbit");
    cr_netem_spec u = {.delay_ms = 50,
                       .jitter_ms = 5,
                       .dist = CR_NETEM_DIST_UNIFORM,
                       .loss_model = CR_NETEM_LOSS_GE,
                       .ge = {1, 99, 100, 0},
                       .slot_min_ms = 1,
                       .slot_max_ms = 2,
                       .slot_packets = 4,
                       .limit = 50};
    CU_ASSERT_EQUAL(cr_netem_tc_args(&u, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "netem limit 50 delay 50ms 5ms loss gemodel "
                                "1% 99% 100% 0% slot 1ms 2ms packets 4");
    cr_netem_spec st = {.loss_model = CR_NETEM_LOSS_STATE,
                        .state = {1, 2, 3, 4, 5}};
    CU_ASSERT_EQUAL(cr_netem_tc_args(&st, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "netem limit 1000 loss state 1% 2% 3% 4% 5%");
    CU_ASSERT_EQUAL(cr_netem_tc_args(&s, buf, 20), CR_EINVAL);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("netem", NULL, NULL);
    if (!s)
        return;
    CR_ADD_TEST(s, test_netem_validation_rules);
    CR_ADD_TEST(s, test_netem_prob_scaling);
    CR_ADD_TEST(s, test_netem_emulable_names_the_rest);
    CR_ADD_TEST(s, test_netem_request_attributes_and_scaling);
    CR_ADD_TEST(s, test_netem_request_loss_models_and_rate64);
    CR_ADD_TEST(s, test_netem_build_refuses_invalid);
    CR_ADD_TEST(s, test_netem_distribution_tables);
    CR_ADD_TEST(s, test_netem_format);
    CR_ADD_TEST(s, test_netem_tc_args);
}
