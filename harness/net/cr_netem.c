/* cr_netem: netem parameters, validation and request building (see
 * cr_netem.h).  The request is built with libnl-route's netem object; the
 * attributes libnl has no setter for are appended inside TCA_OPTIONS,
 * which for netem is a struct tc_netem_qopt followed by nested attributes
 * and must span the rest of the message (sch_netem parses it that way). */
#include "cr_netem.h"

#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"

const char *const cr_netem_dist_names[] = {"none",         "normal",  "pareto",
                                           "paretonormal", "uniform", NULL};

uint32_t cr_netem_prob(double percent)
{
    if (!(percent > 0))
        return 0;
    if (percent >= 100)
        return UINT32_MAX;
    return (uint32_t)llround(percent / 100.0 * (double)UINT32_MAX);
}

static int pct_ok(cr_err *err, const char *name, double v)
{
    if (!(v >= 0 && v <= 100))
        return cr_err_set(err, CR_EINVAL, "%s must be a percentage in [0, 100]",
                          name);
    return 0;
}

int cr_netem_validate(const cr_netem_spec *s, cr_err *err)
{
    const struct {
        const char *name;
        double v;
    } pcts[] = {
        {"delay_correlation", s->delay_corr},
        {"loss", s->loss},
        {"loss_correlation", s->loss_corr},
        {"duplicate", s->duplicate},
        {"duplicate_correlation", s->duplicate_corr},
        {"corrupt", s->corrupt},
        {"corrupt_correlation", s->corrupt_corr},
        {"reorder", s->reorder},
        {"reorder_correlation", s->reorder_corr},
        {"loss_model.gemodel.p", s->ge[0]},
        {"loss_model.gemodel.r", s->ge[1]},
        {"loss_model.gemodel.1-h", s->ge[2]},
        {"loss_model.gemodel.1-k", s->ge[3]},
        {"loss_model.state.p13", s->state[0]},
        {"loss_model.state.p31", s->state[1]},
        {"loss_model.state.p32", s->state[2]},
        {"loss_model.state.p23", s->state[3]},
        {"loss_model.state.p14", s->state[4]},
    };
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        if (pct_ok(err, pcts[i].name, pcts[i].v) < 0)
            return CR_EINVAL;
    /* The kernel keeps latency in 32-bit ticks for this interface. */
    if (!(s->delay_ms >= 0 && s->delay_ms <= 60000))
        return cr_err_set(err, CR_EINVAL, "delay_ms must be in [0, 60000]");
    if (!(s->jitter_ms >= 0 && s->jitter_ms <= 60000))
        return cr_err_set(err, CR_EINVAL, "jitter_ms must be in [0, 60000]");
    if (!(s->rate_kbit >= 0 && s->rate_kbit <= 1e9))
        return cr_err_set(err, CR_EINVAL, "rate_kbit must be in [0, 1e9]");
    if (s->gap < 0)
        return cr_err_set(err, CR_EINVAL, "gap must be >= 0");
    if (s->dist < CR_NETEM_DIST_NONE || s->dist > CR_NETEM_DIST_UNIFORM)
        return cr_err_set(err, CR_EINVAL, "unknown distribution");
    if (s->reorder > 0 && !(s->delay_ms > 0))
        return cr_err_set(err, CR_EINVAL,
                          "reorder needs delay_ms (packets are reordered by "
                          "sending some without the delay)");
    if (s->gap > 0 && !(s->reorder > 0))
        return cr_err_set(err, CR_EINVAL, "gap needs reorder");
    if (s->reorder_corr > 0 && !(s->reorder > 0))
        return cr_err_set(err, CR_EINVAL, "reorder_correlation needs reorder");
    if (s->jitter_ms > 0 && !(s->delay_ms > 0))
        return cr_err_set(err, CR_EINVAL, "jitter_ms needs delay_ms");
    if (s->delay_corr > 0 && !(s->jitter_ms > 0))
        return cr_err_set(err, CR_EINVAL,
                          "delay_correlation needs jitter_ms (it correlates "
                          "the jitter)");
    if (s->dist != CR_NETEM_DIST_NONE && !(s->jitter_ms > 0))
        return cr_err_set(err, CR_EINVAL, "distribution needs jitter_ms");
    if (s->loss_corr > 0 && !(s->loss > 0))
        return cr_err_set(err, CR_EINVAL, "loss_correlation needs loss");
    if (s->duplicate_corr > 0 && !(s->duplicate > 0))
        return cr_err_set(err, CR_EINVAL,
                          "duplicate_correlation needs duplicate");
    if (s->corrupt_corr > 0 && !(s->corrupt > 0))
        return cr_err_set(err, CR_EINVAL, "corrupt_correlation needs corrupt");
    if (s->loss_model != CR_NETEM_LOSS_RANDOM &&
        (s->loss > 0 || s->loss_corr > 0))
        return cr_err_set(err, CR_EINVAL,
                          "loss_model and loss are exclusive (the model "
                          "decides every loss)");
    if (!(s->slot_min_ms >= 0 && s->slot_max_ms >= 0 &&
          s->slot_max_ms <= 60000 && s->slot_packets >= 0 &&
          s->slot_bytes >= 0))
        return cr_err_set(err, CR_EINVAL,
                          "slot values must be >= 0 (ms at most 60000)");
    if ((s->slot_packets > 0 || s->slot_bytes > 0 || s->slot_min_ms > 0) &&
        !(s->slot_max_ms > 0))
        return cr_err_set(err, CR_EINVAL,
                          "slot_max_ms needed (slot limits need a slot)");
    if (s->slot_max_ms > 0 && s->slot_max_ms < s->slot_min_ms)
        return cr_err_set(err, CR_EINVAL, "slot_max_ms must be >= slot_min_ms");
    if (s->loss_model == CR_NETEM_LOSS_GE && !(s->ge[0] > 0))
        return cr_err_set(err, CR_EINVAL, "loss_model.gemodel needs p > 0");
    if (s->loss_model == CR_NETEM_LOSS_STATE && !(s->state[0] > 0))
        return cr_err_set(err, CR_EINVAL, "loss_model.state needs p13 > 0");
    return 0;
}

static void add_missing(char *buf, size_t n, const char *name)
{
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "", name);
}

int cr_netem_emulable(const cr_netem_spec *s, char *missing, size_t n)
{
    char tmp[256] = "";
    if (s->delay_ms > 0)
        add_missing(tmp, sizeof tmp, "delay_ms");
    if (s->jitter_ms > 0)
        add_missing(tmp, sizeof tmp, "jitter_ms");
    if (s->loss_corr > 0)
        add_missing(tmp, sizeof tmp, "loss_correlation");
    if (s->loss_model != CR_NETEM_LOSS_RANDOM)
        add_missing(tmp, sizeof tmp, "loss_model");
    if (s->duplicate > 0)
        add_missing(tmp, sizeof tmp, "duplicate");
    if (s->corrupt > 0)
        add_missing(tmp, sizeof tmp, "corrupt");
    if (s->reorder > 0)
        add_missing(tmp, sizeof tmp, "reorder");
    if (s->slot_max_ms > 0)
        add_missing(tmp, sizeof tmp, "slot");
    if (missing && n)
        snprintf(missing, n, "%s", tmp);
    return tmp[0] == '\0';
}

/* ---- distribution tables ---------------------------------------------- */

static double norm_quantile(double u)
{
    double lo = -10, hi = 10;
    for (int i = 0; i < 80; i++) {
        double mid = (lo + hi) / 2;
        if (0.5 * (1 + erf(mid / M_SQRT2)) < u)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* Pareto with shape 3 (iproute2's choice), scale 1: mean 1.5, sd sqrt(3)/2. */
static double pareto_quantile(double u)
{
    return pow(1 - u, -1.0 / 3.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int16_t scaled(double z)
{
    double v = nearbyint(z * CR_NETEM_DIST_SCALE);
    if (v > 32767)
        v = 32767;
    if (v < -32768)
        v = -32768;
    return (int16_t)v;
}

int cr_netem_dist_table(int dist, int16_t *table, size_t n)
{
    if (n == 0)
        return CR_EINVAL;
    switch (dist) {
    case CR_NETEM_DIST_NORMAL:
        for (size_t i = 0; i < n; i++)
            table[i] = scaled(norm_quantile((i + 0.5) / n));
        return 0;
    case CR_NETEM_DIST_PARETO:
        for (size_t i = 0; i < n; i++)
            table[i] = scaled((pareto_quantile((i + 0.5) / n) - 1.5) /
                              (sqrt(3.0) / 2));
        return 0;
    case CR_NETEM_DIST_PARETONORMAL: {
        /* The sum 0.25 N + 0.75 P of independent variables, as in
         * iproute2's paretonormal, by a stratified grid over both
         * quantile functions; sorted, standardised, sampled n times. */
        const size_t g = 256;
        double *v = cr_malloc(g * g * sizeof *v);
        if (!v)
            return CR_ENOMEM;
        double sum = 0, sq = 0;
        for (size_t a = 0; a < g; a++) {
            double z = norm_quantile((a + 0.5) / g);
            for (size_t b = 0; b < g; b++) {
                double x = 0.25 * z + 0.75 * pareto_quantile((b + 0.5) / g);
                v[a * g + b] = x;
                sum += x;
                sq += x * x;
            }
        }
        double m = sum / (g * g), sd = sqrt(sq / (g * g) - m * m);
        qsort(v, g * g, sizeof *v, cmp_double);
        for (size_t i = 0; i < n; i++)
            table[i] = scaled((v[(size_t)((i + 0.5) / n * g * g)] - m) / sd);
        cr_free(v);
        return 0;
    }
    default:
        return CR_EINVAL;
    }
}

/* ---- the request ------------------------------------------------------ */

/* Append the attributes libnl cannot express and stretch TCA_OPTIONS over
 * them.  libnl puts TCA_OPTIONS right after TCA_KIND and stretches it over
 * the nested attributes it adds, but libnl 3.7 then also adds their size
 * to nlmsg_len a second time (it was already counted by NLA_PUT), leaving
 * trailing bytes the kernel would parse as attributes.  So the message is
 * cut back to the end of TCA_OPTIONS first, after checking the layout. */
static int append_raw(struct nl_msg *msg, const cr_netem_spec *s, cr_err *err)
{
    struct nlmsghdr *nlh = nlmsg_hdr(msg);
    struct nlattr *a, *opts = NULL;
    int rem;
    nlmsg_for_each_attr(a, nlh, sizeof(struct tcmsg), rem)
    {
        if (nla_type(a) == TCA_OPTIONS) {
            opts = a;
            break;
        }
    }
    size_t end =
        opts ? (size_t)((char *)opts - (char *)nlh) + NLA_ALIGN(opts->nla_len)
             : 0;
    if (!opts || end > nlh->nlmsg_len)
        return cr_err_set(err, CR_EPROTO,
                          "netem request: no well-formed TCA_OPTIONS "
                          "(libnl changed its layout)");
    nlh->nlmsg_len = (uint32_t)end;
    uint32_t before = nlh->nlmsg_len;
    if (s->rate_kbit > 0) {
        uint64_t bps = (uint64_t)llround(s->rate_kbit * 1000.0 / 8.0);
        struct tc_netem_rate r = {0};
        r.rate = bps >= UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
        if (nla_put(msg, TCA_NETEM_RATE, sizeof r, &r) < 0)
            goto full;
        if (bps >= UINT32_MAX && nla_put_u64(msg, TCA_NETEM_RATE64, bps) < 0)
            goto full;
    }
    if (s->slot_max_ms > 0) {
        struct tc_netem_slot sl = {
            .min_delay = llround(s->slot_min_ms * 1e6), /* ns */
            .max_delay = llround(s->slot_max_ms * 1e6),
            .max_packets = s->slot_packets,
            .max_bytes = s->slot_bytes,
        };
        if (nla_put(msg, TCA_NETEM_SLOT, sizeof sl, &sl) < 0)
            goto full;
    }
    if (s->loss_model != CR_NETEM_LOSS_RANDOM) {
        struct nlattr *nest = nla_nest_start(msg, TCA_NETEM_LOSS);
        if (!nest)
            goto full;
        if (s->loss_model == CR_NETEM_LOSS_GE) {
            struct tc_netem_gemodel ge = {
                .p = cr_netem_prob(s->ge[0]),
                .r = cr_netem_prob(s->ge[1]),
                .h = cr_netem_prob(s->ge[2]),
                .k1 = cr_netem_prob(s->ge[3]),
            };
            if (nla_put(msg, NETEM_LOSS_GE, sizeof ge, &ge) < 0)
                goto full;
        } else {
            struct tc_netem_gimodel gi = {
                .p13 = cr_netem_prob(s->state[0]),
                .p31 = cr_netem_prob(s->state[1]),
                .p32 = cr_netem_prob(s->state[2]),
                .p23 = cr_netem_prob(s->state[3]),
                .p14 = cr_netem_prob(s->state[4]),
            };
            if (nla_put(msg, NETEM_LOSS_GI, sizeof gi, &gi) < 0)
                goto full;
        }
        nla_nest_end(msg, nest);
    }
    /* Re-find opts: nla_put may have reallocated the buffer. */
    nlh = nlmsg_hdr(msg);
    opts = NULL;
    nlmsg_for_each_attr(a, nlh, sizeof(struct tcmsg), rem)
    {
        if (nla_type(a) == TCA_OPTIONS) {
            opts = a;
            break;
        }
    }
    if (!opts)
        return cr_err_set(err, CR_EPROTO, "netem request: TCA_OPTIONS lost");
    opts->nla_len += (uint16_t)(nlh->nlmsg_len - before);
    return 0;
full:
    return cr_err_set(err, CR_ENOMEM, "netem request: message too large");
}

int cr_netem_build(const cr_netem_spec *s, int ifindex, struct nl_msg **out,
                   cr_err *err)
{
    struct rtnl_qdisc *q = NULL;
    struct nl_msg *msg = NULL;
    int16_t *table = NULL;
    int rc = cr_netem_validate(s, err);
    if (rc < 0)
        return rc;
    if (!(q = rtnl_qdisc_alloc())) {
        rc = cr_err_set(err, CR_ENOMEM, "netem: out of memory");
        goto out;
    }
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    if ((rc = rtnl_tc_set_kind(TC_CAST(q), "netem")) < 0) {
        rc = cr_err_set(err, CR_ESYS, "netem: %s", nl_geterror(rc));
        goto out;
    }
    rtnl_netem_set_limit(q, s->limit ? (int)s->limit : 1000);
    /* libnl takes microseconds and converts them to psched ticks. */
    if (s->delay_ms > 0)
        rtnl_netem_set_delay(q, (int)llround(s->delay_ms * 1000));
    if (s->jitter_ms > 0)
        rtnl_netem_set_jitter(q, (int)llround(s->jitter_ms * 1000));
    /* libnl's probability setters take the raw 32-bit fraction. */
    if (s->delay_corr > 0)
        rtnl_netem_set_delay_correlation(q, (int)cr_netem_prob(s->delay_corr));
    if (s->loss > 0)
        rtnl_netem_set_loss(q, (int)cr_netem_prob(s->loss));
    if (s->loss_corr > 0)
        rtnl_netem_set_loss_correlation(q, (int)cr_netem_prob(s->loss_corr));
    if (s->duplicate > 0)
        rtnl_netem_set_duplicate(q, (int)cr_netem_prob(s->duplicate));
    if (s->duplicate_corr > 0)
        rtnl_netem_set_duplicate_correlation(
            q, (int)cr_netem_prob(s->duplicate_corr));
    if (s->corrupt > 0)
        rtnl_netem_set_corruption_probability(q,
                                              (int)cr_netem_prob(s->corrupt));
    if (s->corrupt_corr > 0)
        rtnl_netem_set_corruption_correlation(
            q, (int)cr_netem_prob(s->corrupt_corr));
    if (s->reorder > 0) {
        rtnl_netem_set_reorder_probability(q, (int)cr_netem_prob(s->reorder));
        rtnl_netem_set_gap(q, s->gap > 0 ? s->gap : 1);
    }
    if (s->reorder_corr > 0)
        rtnl_netem_set_reorder_correlation(q,
                                           (int)cr_netem_prob(s->reorder_corr));
    if (s->dist == CR_NETEM_DIST_NORMAL || s->dist == CR_NETEM_DIST_PARETO ||
        s->dist == CR_NETEM_DIST_PARETONORMAL) {
        if (!(table = cr_malloc(CR_NETEM_DIST_SIZE * sizeof *table))) {
            rc = cr_err_set(err, CR_ENOMEM, "netem: out of memory");
            goto out;
        }
        if ((rc = cr_netem_dist_table(s->dist, table, CR_NETEM_DIST_SIZE)) <
                0 ||
            (rc = rtnl_netem_set_delay_distribution_data(
                 q, table, CR_NETEM_DIST_SIZE)) < 0) {
            rc = cr_err_set(err, CR_ENOMEM, "netem: distribution table");
            goto out;
        }
    }
    if ((rc = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL,
                                           &msg)) < 0) {
        rc = cr_err_set(err, CR_EINVAL, "netem request: %s", nl_geterror(rc));
        msg = NULL;
        goto out;
    }
    if ((rc = append_raw(msg, s, err)) < 0)
        goto out;
    *out = msg;
    msg = NULL;
out:
    nlmsg_free(msg);
    rtnl_qdisc_put(q);
    cr_free(table);
    return rc;
}

void cr_netem_format(const cr_netem_spec *s, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
#define CR_F_(...)                                                             \
    do {                                                                       \
        if (len < n)                                                           \
            len += (size_t)snprintf(buf + len, n - len, __VA_ARGS__);          \
    } while (0)
    if (s->delay_ms > 0)
        CR_F_("delay %gms ", s->delay_ms);
    if (s->jitter_ms > 0)
        CR_F_("jitter %gms ", s->jitter_ms);
    if (s->delay_corr > 0)
        CR_F_("delay_corr %g%% ", s->delay_corr);
    if (s->dist != CR_NETEM_DIST_NONE)
        CR_F_("distribution %s ", cr_netem_dist_names[s->dist]);
    if (s->loss > 0)
        CR_F_("loss %g%% ", s->loss);
    if (s->loss_corr > 0)
        CR_F_("loss_corr %g%% ", s->loss_corr);
    if (s->loss_model == CR_NETEM_LOSS_GE)
        CR_F_("loss gemodel %g%% %g%% %g%% %g%% ", s->ge[0], s->ge[1], s->ge[2],
              s->ge[3]);
    if (s->loss_model == CR_NETEM_LOSS_STATE)
        CR_F_("loss state %g%% %g%% %g%% %g%% %g%% ", s->state[0], s->state[1],
              s->state[2], s->state[3], s->state[4]);
    if (s->duplicate > 0)
        CR_F_("duplicate %g%% ", s->duplicate);
    if (s->corrupt > 0)
        CR_F_("corrupt %g%% ", s->corrupt);
    if (s->reorder > 0)
        CR_F_("reorder %g%% gap %d ", s->reorder, s->gap > 0 ? s->gap : 1);
    if (s->rate_kbit > 0)
        CR_F_("rate %gkbit ", s->rate_kbit);
    if (s->slot_max_ms > 0)
        CR_F_("slot %gms %gms ", s->slot_min_ms, s->slot_max_ms);
#undef CR_F_
    if (len > 0 && len < n && buf[len - 1] == ' ')
        buf[len - 1] = '\0';
}

int cr_netem_tc_args(const cr_netem_spec *s, char *buf, size_t n)
{
    size_t len = 0;
    int over = 0;
#define CR_T_(...)                                                             \
    do {                                                                       \
        int k_ = len < n ? snprintf(buf + len, n - len, __VA_ARGS__) : -1;     \
        if (k_ < 0 || (size_t)k_ >= n - len)                                   \
            over = 1;                                                          \
        else                                                                   \
            len += (size_t)k_;                                                 \
    } while (0)
    if (n == 0)
        return CR_EINVAL;
    buf[0] = '\0';
    CR_T_("netem limit %u", s->limit ? s->limit : 1000);
    if (s->delay_ms > 0) {
        CR_T_(" delay %gms", s->delay_ms);
        if (s->jitter_ms > 0) {
            CR_T_(" %gms", s->jitter_ms);
            if (s->delay_corr > 0)
                CR_T_(" %g%%", s->delay_corr);
            if (s->dist != CR_NETEM_DIST_NONE &&
                s->dist != CR_NETEM_DIST_UNIFORM)
                CR_T_(" distribution %s", cr_netem_dist_names[s->dist]);
        }
    }
    if (s->loss > 0) {
        CR_T_(" loss random %g%%", s->loss);
        if (s->loss_corr > 0)
            CR_T_(" %g%%", s->loss_corr);
    }
    if (s->loss_model == CR_NETEM_LOSS_GE)
        CR_T_(" loss gemodel %g%% %g%% %g%% %g%%", s->ge[0], s->ge[1], s->ge[2],
              s->ge[3]);
    if (s->loss_model == CR_NETEM_LOSS_STATE)
        CR_T_(" loss state %g%% %g%% %g%% %g%% %g%%", s->state[0], s->state[1],
              s->state[2], s->state[3], s->state[4]);
    if (s->duplicate > 0) {
        CR_T_(" duplicate %g%%", s->duplicate);
        if (s->duplicate_corr > 0)
            CR_T_(" %g%%", s->duplicate_corr);
    }
    if (s->corrupt > 0) {
        CR_T_(" corrupt %g%%", s->corrupt);
        if (s->corrupt_corr > 0)
            CR_T_(" %g%%", s->corrupt_corr);
    }
    if (s->reorder > 0) {
        CR_T_(" reorder %g%%", s->reorder);
        if (s->reorder_corr > 0)
            CR_T_(" %g%%", s->reorder_corr);
        CR_T_(" gap %d", s->gap > 0 ? s->gap : 1);
    }
    if (s->rate_kbit > 0)
        CR_T_(" rate %gkbit", s->rate_kbit);
    if (s->slot_max_ms > 0) {
        CR_T_(" slot %gms %gms", s->slot_min_ms, s->slot_max_ms);
        if (s->slot_packets > 0)
            CR_T_(" packets %d", s->slot_packets);
        if (s->slot_bytes > 0)
            CR_T_(" bytes %d", s->slot_bytes);
    }
#undef CR_T_
    return over ? CR_EINVAL : 0;
}
