/* bench_net: cost of chaosrun's network set-up, side by side with doing the
 * same through the ip/tc/nft commands.
 *
 *   1. set up and tear down a topology of 2, 4 and 8 hosts (namespaces,
 *      a veth pair per host pair, addresses, routes): cr_net (libnl) vs a
 *      shell script of `ip` commands doing the same;
 *   2. time from the instant a fault is due to its qdisc being in effect
 *      (the kernel acknowledged it): a tbf root qdisc through libnl vs
 *      `tc qdisc add`; and an nftables drop table (chaosrun runs nft -f -
 *      in the namespace, the baseline runs `ip netns exec nft -f`).
 *
 * Median and p99 of each, and the ratio.  Needs root.  Usage:
 *   bench_net [reps (default 10)] [qdisc samples (default 100)]
 *   bench_net --quick      2 reps, 10 samples (ctest keeps it working) */
#include "base/cr_alloc.h"
#include "net/cr_net.h"

#include <math.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(double *v, int n, double *med, double *p99)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    int k = (int)ceil(0.99 * n) - 1;
    *p99 = v[k < 0 ? 0 : k];
}

static int sh(const char *script)
{
    int st = system(script);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The same topology as cr_net_topo_create, made with ip commands. */
static char *ip_script(const char *prefix, int n, int create)
{
    size_t cap = 4096 + (size_t)n * n * 512, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len += (size_t)snprintf(s + len, cap - len, "set -e\n");
    if (!create) {
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(s + len, cap - len, "ip netns del %s-b%d\n",
                                    prefix, i);
        return s;
    }
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(
            s + len, cap - len,
            "ip netns add %s-b%d\nip -n %s-b%d link set lo up\n", prefix, i,
            prefix, i);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            len += (size_t)snprintf(s + len, cap - len,
                                    "ip -n %s-b%d link add cr%d type veth peer "
                                    "name cr%d netns %s-b%d\n"
                                    "ip -n %s-b%d link set cr%d up\nip -n "
                                    "%s-b%d link set cr%d up\n",
                                    prefix, i, j, i, prefix, j, prefix, i, j,
                                    prefix, j, i);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j)
                len += (size_t)snprintf(
                    s + len, cap - len,
                    "ip -n %s-b%d addr add 10.99.0.%d/32 dev cr%d\n"
                    "ip -n %s-b%d route add 10.99.0.%d/32 dev cr%d scope "
                    "link\n",
                    prefix, i, i + 1, j, prefix, i, j + 1, j);
    return s;
}

static void bench_topology(int reps)
{
    printf("\n1. topology set-up + tear-down (median / p99 of %d, ms)\n", reps);
    printf("%6s %22s %22s %8s\n", "hosts", "cr_net (libnl)", "ip commands",
           "ratio");
    int sizes[] = {2, 4, 8};
    for (int si = 0; si < 3; si++) {
        int n = sizes[si];
        double *a = calloc((size_t)reps, sizeof *a),
               *b = calloc((size_t)reps, sizeof *b);
        const char *names[8] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"};
        for (int r = 0; r < reps; r++) {
            char prefix[24];
            cr_net_prefix_new(prefix, sizeof prefix);
            cr_err err;
            cr_err_clear(&err);
            cr_net_topo *t = NULL;
            double t0 = now();
            if (cr_net_topo_create(prefix, names, (size_t)n, NULL, &t, &err) !=
                0) {
                fprintf(stderr, "cr_net: %s\n", err.msg);
                exit(1);
            }
            cr_net_topo_destroy(t);
            a[r] = (now() - t0) * 1000;
            char *up = ip_script(prefix, n, 1), *down = ip_script(prefix, n, 0);
            t0 = now();
            int rc = sh(up);
            rc |= sh(down);
            b[r] = (now() - t0) * 1000;
            free(up);
            free(down);
            if (rc != 0) {
                fprintf(stderr, "ip script failed\n");
                exit(1);
            }
        }
        double am, ap, bm, bp;
        stats(a, reps, &am, &ap);
        stats(b, reps, &bm, &bp);
        printf("%6d %10.1f / %-9.1f %10.1f / %-9.1f %8.2f\n", n, am, ap, bm, bp,
               bm / am);
        free(a);
        free(b);
    }
}

static void bench_apply(int samples)
{
    const char *names[] = {"s", "r"};
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    cr_err err;
    cr_err_clear(&err);
    cr_net_topo *t = NULL;
    if (cr_net_topo_create(prefix, names, 2, NULL, &t, &err) != 0) {
        fprintf(stderr, "cr_net: %s\n", err.msg);
        exit(1);
    }
    double *a = calloc((size_t)samples, sizeof *a),
           *b = calloc((size_t)samples, sizeof *b);
    double *c = calloc((size_t)samples, sizeof *c),
           *d = calloc((size_t)samples, sizeof *d);
    char cmd[512], ifn[16];
    cr_net_ifname(1, ifn, sizeof ifn);
    const char *ns = cr_net_topo_netns(t, 0);
    cr_net_flow fl = {1, 0};
    for (int i = 0; i < samples; i++) {
        cr_net_undo *u = cr_net_undo_new();
        /* tbf through libnl: build + send + ack, as a fault's apply does. */
        double t0 = now();
        struct nl_msg *msg = NULL;
        int idx = cr_netns_ifindex(cr_net_topo_sock(t, 0), ifn, &err);
        if (idx < 0 || cr_net_tbf_build(idx, 1000, 0, 0, &msg, &err) != 0 ||
            cr_net_qdisc_add(t, 0, ifn, msg, u, &err) != 0) {
            fprintf(stderr, "tbf: %s\n", err.msg);
            exit(1);
        }
        a[i] = (now() - t0) * 1000;
        nlmsg_free(msg);
        cr_net_undo_run(t, u, &err);
        snprintf(cmd, sizeof cmd,
                 "tc -n %s qdisc add dev %s root tbf rate 1000kbit burst 4096 "
                 "latency 50ms",
                 ns, ifn);
        t0 = now();
        if (sh(cmd) != 0)
            exit(1);
        b[i] = (now() - t0) * 1000;
        snprintf(cmd, sizeof cmd, "tc -n %s qdisc del dev %s root", ns, ifn);
        sh(cmd);
        /* nftables drop table. */
        char *rs = cr_net_nft_drop_ruleset("benchdrop", &fl, 1, 300000);
        t0 = now();
        if (cr_net_nft_add(t, 0, "benchdrop", rs, u, &err) != 0) {
            fprintf(stderr, "nft: %s\n", err.msg);
            exit(1);
        }
        c[i] = (now() - t0) * 1000;
        cr_net_undo_run(t, u, &err);
        char path[64];
        snprintf(path, sizeof path, "/tmp/bench_net_rs.%d", (int)getpid());
        FILE *fp = fopen(path, "w");
        fputs(rs, fp);
        fclose(fp);
        snprintf(cmd, sizeof cmd, "ip netns exec %s nft -f %s", ns, path);
        t0 = now();
        if (sh(cmd) != 0)
            exit(1);
        d[i] = (now() - t0) * 1000;
        snprintf(cmd, sizeof cmd,
                 "ip netns exec %s nft delete table netdev benchdrop", ns);
        sh(cmd);
        unlink(path);
        cr_free(rs);
        cr_net_undo_free(u);
    }
    double am, ap, bm, bp, cm, cp, dm, dp;
    stats(a, samples, &am, &ap);
    stats(b, samples, &bm, &bp);
    stats(c, samples, &cm, &cp);
    stats(d, samples, &dm, &dp);
    printf(
        "\n2. due instant -> in effect (kernel ack), median / p99 of %d, ms\n",
        samples);
    printf("%-22s %22s %22s %8s\n", "", "chaosrun", "commands", "ratio");
    printf("%-22s %10.3f / %-9.3f %10.3f / %-9.3f %8.1f\n",
           "tbf qdisc (libnl|tc)", am, ap, bm, bp, bm / am);
    printf("%-22s %10.3f / %-9.3f %10.3f / %-9.3f %8.1f\n", "nft drop table",
           cm, cp, dm, dp, dm / cm);
    free(a);
    free(b);
    free(c);
    free(d);
    cr_net_topo_destroy(t);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int reps = quick ? 2 : argc > 1 ? atoi(argv[1]) : 10;
    int samples = quick ? 10 : argc > 2 ? atoi(argv[2]) : 100;
    const char *missing = NULL;
    if (!cr_netns_privileged(&missing)) {
        printf("SKIPPED: needs %s\n", missing);
        return 77;
    }
    if (reps < 1 || samples < 1)
        return 2;
    bench_topology(reps);
    bench_apply(samples);
    return 0;
}
