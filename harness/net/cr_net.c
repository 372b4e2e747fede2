/* cr_net: hosts, topology, capability probe, fault undo records and the
 * cleanup of leftovers (see cr_net.h).  Nothing here needs the run engine;
 * the engine's glue lives in engine/cr_run_net.c. */
#include "cr_net.h"

#include "base/cr_alloc.h"
#include "cr_netem.h"

#include <ctype.h>
#include <errno.h>
#include <linux/pkt_sched.h>
#include <math.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const cr_net_dir_names[] = {"", "egress", "ingress", "both", NULL};

/* ---- hosts ------------------------------------------------------------ */

int cr_net_host_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > CR_NET_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
            name[i] != '_')
            return 0;
    return 1;
}

int cr_net_host_exists(const void *hosts, const char *name)
{
    const cr_net_hosts *h = hosts;
    for (size_t i = 0; h && name && i < h->n; i++)
        if (h->v[i].name && strcmp(h->v[i].name, name) == 0)
            return 1;
    return 0;
}

void cr_net_hosts_free(cr_net_hosts *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        cr_free(h->v[i].name);
        cr_free(h->v[i].region);
        cr_free(h->v[i].ssh);
        cr_free(h->v[i].identity);
        cr_free(h->v[i].known_hosts);
    }
    cr_free(h->v);
    cr_free(h);
}

/* ---- topology --------------------------------------------------------- */

typedef struct topo_host {
    char name[CR_NET_NAME_MAX + 1];
    char ns[80];
    char addr[16];
    int nsfd;
    struct nl_sock *sock;
    int lg_ns; /* ledger id of the netns line */
} topo_host;

struct cr_net_topo {
    char prefix[24];
    size_t n;
    topo_host *h;
    int *lg_link; /* [i * n + j], i < j: ledger id of the pair's link */
    cr_netns_ledger lg;
};

void cr_net_prefix_new(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static unsigned counter; /* distinguishes topologies of one process */
    uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)ts.tv_sec << 20) ^
                 (uint64_t)(++counter * 0x9e3779b9u);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    snprintf(buf, n, "cr%08x", (unsigned)x);
}

void cr_net_ifname(int j, char *buf, size_t n)
{
    snprintf(buf, n, "cr%d", j);
}

size_t cr_net_topo_count(const cr_net_topo *t)
{
    return t ? t->n : 0;
}
const char *cr_net_topo_prefix(const cr_net_topo *t)
{
    return t->prefix;
}
const char *cr_net_topo_name(const cr_net_topo *t, int i)
{
    return t->h[i].name;
}
const char *cr_net_topo_netns(const cr_net_topo *t, int i)
{
    return t->h[i].ns;
}
const char *cr_net_topo_addr(const cr_net_topo *t, int i)
{
    return t->h[i].addr;
}
int cr_net_topo_nsfd(const cr_net_topo *t, int i)
{
    return t->h[i].nsfd;
}
struct nl_sock *cr_net_topo_sock(const cr_net_topo *t, int i)
{
    return t->h[i].sock;
}
const cr_netns_ledger *cr_net_topo_ledger(const cr_net_topo *t)
{
    return &t->lg;
}

int cr_net_topo_index(const cr_net_topo *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->n; i++)
        if (strcmp(t->h[i].name, name) == 0)
            return (int)i;
    return -1;
}

void cr_net_topo_destroy(cr_net_topo *t)
{
    if (!t)
        return;
    /* The links live inside the hosts' namespaces and go with them, so
     * only the namespaces are removed (deleting 28 veth pairs one by one
     * costs a synchronize_net each, several ms).  Our own sockets and fds
     * hold the namespaces and are released first. */
    int all_gone = 1;
    for (size_t i = 0; i < t->n; i++) {
        topo_host *h = &t->h[i];
        if (h->sock)
            nl_socket_free(h->sock);
        if (h->nsfd >= 0)
            close(h->nsfd);
        h->sock = NULL, h->nsfd = -1;
        if (h->lg_ns == 0)
            all_gone = 0; /* never created: its links were not either */
        else if (cr_netns_delete(h->ns, NULL) == 0)
            cr_netns_done(&t->lg, h->lg_ns);
        else
            all_gone = 0;
    }
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = i + 1; j < t->n; j++) {
            int id = t->lg_link[i * t->n + j];
            if (id == 0)
                continue;
            /* A link whose namespace could not be removed is deleted
             * explicitly (through a fresh socket). */
            if (!all_gone && cr_netns_exists(t->h[i].ns)) {
                char ifn[16];
                cr_net_ifname((int)j, ifn, sizeof ifn);
                char args[128];
                snprintf(args, sizeof args, "%s %s", t->h[i].ns, ifn);
                if (cr_net_cleanup_entry("link", args, NULL) != 0)
                    continue;
            }
            cr_netns_done(&t->lg, id);
        }
    }
    cr_free(t->lg_link);
    cr_free(t->h);
    cr_free(t);
}

int cr_net_topo_create(const char *prefix, const char *const *names, size_t n,
                       const cr_netns_ledger *lg, cr_net_topo **out,
                       cr_err *err)
{
    int rc = 0;
    cr_net_topo *t = NULL;
    if (n == 0 || n > CR_NET_MAX_HOSTS)
        return cr_err_set(err, CR_EINVAL, "hosts: between 1 and %d hosts",
                          CR_NET_MAX_HOSTS);
    if (!(t = cr_calloc(1, sizeof *t)) ||
        !(t->h = cr_calloc(n, sizeof *t->h)) ||
        !(t->lg_link = cr_calloc(n * n, sizeof *t->lg_link))) {
        rc = cr_err_set(err, CR_ENOMEM, "hosts: out of memory");
        goto fail;
    }
    snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
    if (lg)
        t->lg = *lg;
    t->n = n;
    /* The subnet comes from the prefix so that two runs' addresses differ
     * in captures and logs (their namespaces are separate anyway). */
    unsigned hash = 2166136261u;
    for (const char *p = prefix; *p; p++)
        hash = (hash ^ (unsigned char)*p) * 16777619u;
    unsigned a = 100 + hash % 100, b = (hash >> 8) % 256;
    for (size_t i = 0; i < n; i++) {
        t->h[i].nsfd = -1;
        if (!cr_net_host_name_ok(names[i])) {
            rc = cr_err_set(err, CR_EINVAL, "host name \"%s\" is not valid",
                            names[i]);
            goto fail;
        }
        snprintf(t->h[i].name, sizeof t->h[i].name, "%s", names[i]);
        snprintf(t->h[i].ns, sizeof t->h[i].ns, "%s-%s", prefix, names[i]);
        snprintf(t->h[i].addr, sizeof t->h[i].addr, "%u.%u.%u.%zu", 10u, a, b,
                 i + 1);
    }
    for (size_t i = 0; i < n; i++) {
        topo_host *h = &t->h[i];
        int id = cr_netns_record(&t->lg, err, "netns %s", h->ns);
        if (id < 0) {
            rc = id;
            goto fail;
        }
        if ((rc = cr_netns_create(h->ns, &h->nsfd, &h->sock, err)) < 0)
            goto fail;
        h->lg_ns = id ? id : -1;
    }
    char ifi[16], ifj[16];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            cr_net_ifname((int)j, ifi, sizeof ifi); /* in i, towards j */
            cr_net_ifname((int)i, ifj, sizeof ifj); /* in j, towards i */
            int id =
                cr_netns_record(&t->lg, err, "link %s %s", t->h[i].ns, ifi);
            if (id < 0) {
                rc = id;
                goto fail;
            }
            if ((rc = cr_netns_veth_add(t->h[i].sock, ifi, ifj, t->h[j].nsfd,
                                        err)) < 0)
                goto fail;
            t->lg_link[i * n + j] = id ? id : -1;
            if ((rc = cr_netns_link_up(t->h[i].sock, ifi, err)) < 0 ||
                (rc = cr_netns_link_up(t->h[j].sock, ifj, err)) < 0)
                goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (i == j)
                continue;
            cr_net_ifname((int)j, ifi, sizeof ifi);
            if ((rc = cr_netns_addr_add(t->h[i].sock, ifi, t->h[i].addr, 32,
                                        err)) < 0 ||
                (rc = cr_netns_route_add(t->h[i].sock, ifi, t->h[j].addr,
                                         err)) < 0)
                goto fail;
        }
    }
    *out = t;
    return 0;
fail:
    cr_net_topo_destroy(t);
    return rc;
}

size_t cr_net_flows(const cr_net_topo *t, int host, int peer, int dir,
                    cr_net_flow *out, size_t max)
{
    size_t k = 0;
    for (size_t j = 0; j < t->n; j++) {
        if ((int)j == host || (peer >= 0 && (int)j != peer))
            continue;
        if ((dir & CR_NET_EGRESS) && k < max)
            out[k++] = (cr_net_flow){host, (int)j};
        if ((dir & CR_NET_INGRESS) && k < max)
            out[k++] = (cr_net_flow){(int)j, host};
    }
    return k;
}

/* ---- undo records ----------------------------------------------------- */

enum { UNDO_QDISC, UNDO_NFT };

typedef struct undo_item {
    int kind;
    int host;
    char name[64]; /* ifname or table */
    int lg_id;
} undo_item;

struct cr_net_undo {
    undo_item *v;
    size_t n, cap;
};

cr_net_undo *cr_net_undo_new(void)
{
    return cr_calloc(1, sizeof(cr_net_undo));
}

void cr_net_undo_free(cr_net_undo *u)
{
    if (!u)
        return;
    cr_free(u->v);
    cr_free(u);
}

static int undo_push(cr_net_undo *u, int kind, int host, const char *name,
                     int lg_id, cr_err *err)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        undo_item *v = cr_realloc(u->v, cap * sizeof *v);
        if (!v)
            return cr_err_set(err, CR_ENOMEM, "undo record: out of memory");
        u->v = v, u->cap = cap;
    }
    undo_item *it = &u->v[u->n++];
    it->kind = kind, it->host = host, it->lg_id = lg_id;
    snprintf(it->name, sizeof it->name, "%s", name);
    return 0;
}

static char *nft_delete_ruleset(const char *table)
{
    /* Declaring the table first makes the deletion succeed when it is
     * already gone (one atomic transaction). */
    return cr_asprintf("table netdev %s\ndelete table netdev %s\n", table,
                       table);
}

int cr_net_undo_run(cr_net_topo *t, cr_net_undo *u, cr_err *err)
{
    int first = 0;
    for (size_t k = u ? u->n : 0; k-- > 0;) {
        undo_item *it = &u->v[k];
        int rc;
        if (it->kind == UNDO_QDISC) {
            rc = cr_netns_qdisc_del(t->h[it->host].sock, it->name, "root", err);
        } else {
            char *rs = nft_delete_ruleset(it->name);
            rc = rs ? cr_netns_nft(t->h[it->host].nsfd, rs, NULL, err)
                    : cr_err_set(err, CR_ENOMEM, "nft: out of memory");
            cr_free(rs);
        }
        if (rc == 0)
            cr_netns_done(&t->lg, it->lg_id);
        else if (!first)
            first = rc;
    }
    if (u)
        u->n = 0;
    return first;
}

int cr_net_qdisc_add(cr_net_topo *t, int i, const char *ifname,
                     struct nl_msg *msg, cr_net_undo *u, cr_err *err)
{
    int id =
        cr_netns_record(&t->lg, err, "qdisc %s %s root", t->h[i].ns, ifname);
    if (id < 0)
        return id;
    /* Recorded before sending: a crash between the two leaves a line
     * whose cleanup finds nothing, which is harmless. */
    int rc = undo_push(u, UNDO_QDISC, i, ifname, id, err);
    if (rc < 0)
        return rc;
    rc = cr_netns_send(t->h[i].sock, msg);
    if (rc < 0) {
        u->n--;
        cr_netns_done(&t->lg, id);
        if (rc == -NLE_EXIST)
            return cr_err_set(err, CR_ESTATE,
                              "qdisc on %s in %s: another fault already has "
                              "a root qdisc there",
                              ifname, t->h[i].ns);
        return cr_err_set(err, rc == -NLE_OBJ_NOTFOUND ? CR_EUNSUP : CR_ESYS,
                          "qdisc on %s in %s: RTM_NEWQDISC: %s", ifname,
                          t->h[i].ns, nl_geterror(rc));
    }
    return 0;
}

int cr_net_tbf_build(int ifindex, double rate_kbit, double burst_bytes,
                     double latency_ms, struct nl_msg **out, cr_err *err)
{
    struct rtnl_qdisc *q = NULL;
    int rc;
    double rate = rate_kbit * 1000.0 / 8.0; /* bytes/s */
    if (!(rate >= 1 && rate <= INT32_MAX))
        return cr_err_set(err, CR_EINVAL, "tbf: rate_kbit out of range");
    if (!(burst_bytes > 0))
        burst_bytes = fmax(rate * 0.010, 4096);
    if (!(latency_ms > 0))
        latency_ms = 50;
    if (!(q = rtnl_qdisc_alloc()))
        return cr_err_set(err, CR_ENOMEM, "tbf: out of memory");
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    if ((rc = rtnl_tc_set_kind(TC_CAST(q), "tbf")) < 0) {
        rc = cr_err_set(err, CR_ESYS, "tbf: %s", nl_geterror(rc));
        goto out;
    }
    rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)burst_bytes, 0);
    if ((rc = rtnl_qdisc_tbf_set_limit_by_latency(
             q, (int)(latency_ms * 1000))) < 0) {
        rc = cr_err_set(err, CR_EINVAL, "tbf: limit: %s", nl_geterror(rc));
        goto out;
    }
    if ((rc = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, out)) <
        0)
        rc = cr_err_set(err, CR_EINVAL, "tbf request: %s", nl_geterror(rc));
out:
    rtnl_qdisc_put(q);
    return rc;
}

int cr_net_nft_add(cr_net_topo *t, int i, const char *table,
                   const char *ruleset, cr_net_undo *u, cr_err *err)
{
    int id =
        cr_netns_record(&t->lg, err, "nft %s netdev %s", t->h[i].ns, table);
    if (id < 0)
        return id;
    int rc = undo_push(u, UNDO_NFT, i, table, id, err);
    if (rc < 0)
        return rc;
    if ((rc = cr_netns_nft(t->h[i].nsfd, ruleset, NULL, err)) < 0) {
        u->n--;
        cr_netns_done(&t->lg, id);
    }
    return rc;
}

char *cr_net_nft_drop_ruleset(const char *table, const cr_net_flow *flows,
                              size_t n, unsigned ppm)
{
    size_t cap = 256 + n * 256, len = 0;
    char *buf = cr_malloc(cap);
    if (!buf)
        return NULL;
    len += (size_t)snprintf(buf + len, cap - len, "table netdev %s {\n", table);
    for (size_t k = 0; k < n; k++) {
        char ifn[16];
        cr_net_ifname(flows[k].from, ifn, sizeof ifn);
        /* Priority -500 runs before anything a system under test might
         * add; numgen random draws a fresh number per packet. */
        len += (size_t)snprintf(buf + len, cap - len,
                                "  chain in_%s {\n"
                                "    type filter hook ingress device \"%s\" "
                                "priority -500; policy accept;\n",
                                ifn, ifn);
        if (ppm >= 1000000)
            len += (size_t)snprintf(buf + len, cap - len, "    counter drop\n");
        else
            len += (size_t)snprintf(
                buf + len, cap - len,
                "    numgen random mod 1000000 < %u counter drop\n", ppm);
        len += (size_t)snprintf(buf + len, cap - len, "  }\n");
    }
    snprintf(buf + len, cap - len, "}\n");
    return buf;
}

/* ---- capability probe ------------------------------------------------- */

/* Process-wide cache of the probe (documented in cr_net.h). */
static cr_net_caps g_caps;
static int g_caps_done;

void cr_net_probe_reset(void)
{
    g_caps_done = 0;
}

static void probe_qdisc(struct nl_sock *sock, struct nl_msg *msg, int *ok,
                        char *why, size_t n)
{
    int rc = cr_netns_send(sock, msg);
    *ok = rc == 0;
    if (rc < 0)
        snprintf(why, n, "RTM_NEWQDISC: %s", nl_geterror(rc));
    else
        cr_netns_qdisc_del(sock, "lo", "root", NULL);
}

int cr_net_probe(const char *prefix, const cr_netns_ledger *lg,
                 cr_net_caps *out, cr_err *err)
{
    if (g_caps_done) {
        *out = g_caps;
        return 0;
    }
    const char *missing = NULL;
    if (!cr_netns_privileged(&missing))
        return cr_err_set(err, CR_EUNSUP,
                          "network faults need %s (run chaosrun as root)",
                          missing);
    char ns[80];
    snprintf(ns, sizeof ns, "%s-probe", prefix);
    int nsfd = -1, rc, lo;
    struct nl_sock *sock = NULL;
    struct nl_msg *msg = NULL;
    cr_net_caps c;
    memset(&c, 0, sizeof c);
    /* Objects made inside the scratch namespace die with it; only the
     * namespace is recorded. */
    int id = cr_netns_record(lg, err, "netns %s", ns);
    if (id < 0)
        return id;
    if ((rc = cr_netns_create(ns, &nsfd, &sock, err)) < 0)
        goto out;
    if ((lo = cr_netns_ifindex(sock, "lo", err)) < 0) {
        rc = lo;
        goto out;
    }
    cr_netem_spec s = {.delay_ms = 1, .loss = 1};
    if ((rc = cr_netem_build(&s, lo, &msg, err)) < 0)
        goto out;
    probe_qdisc(sock, msg, &c.netem, c.netem_why, sizeof c.netem_why);
    nlmsg_free(msg), msg = NULL;
    if ((rc = cr_net_tbf_build(lo, 1000, 0, 0, &msg, err)) < 0)
        goto out;
    probe_qdisc(sock, msg, &c.tbf, c.tbf_why, sizeof c.tbf_why);
    nlmsg_free(msg), msg = NULL;
    cr_err e2;
    cr_err_clear(&e2);
    rc = cr_netns_nft(
        nsfd,
        "table netdev crprobe {\n"
        "  chain c { type filter hook ingress device \"lo\" "
        "priority 0; policy accept; numgen random mod 100 < 1 drop; }\n"
        "}\ndelete table netdev crprobe\n",
        NULL, &e2);
    c.nft = rc == 0;
    if (rc < 0)
        snprintf(c.nft_why, sizeof c.nft_why, "%.190s", e2.msg);
    rc = 0;
    g_caps = c;
    g_caps_done = 1;
    *out = c;
out:
    nlmsg_free(msg);
    if (sock)
        nl_socket_free(sock);
    if (nsfd >= 0)
        close(nsfd);
    if (cr_netns_delete(ns, NULL) == 0)
        cr_netns_done(lg, id);
    return rc;
}

/* ---- leftovers -------------------------------------------------------- */

int cr_net_cleanup_entry(const char *kind, const char *args, cr_err *err)
{
    char a[128] = "", b[128] = "", c[128] = "";
    int nf = sscanf(args, "%127s %127s %127s", a, b, c);
    int rc = 0, nsfd = -1;
    struct nl_sock *sock = NULL;
    if (strcmp(kind, "netns") == 0) {
        if (nf < 1)
            goto bad;
        return cr_netns_delete(a, err);
    }
    if (strcmp(kind, "link") != 0 && strcmp(kind, "qdisc") != 0 &&
        strcmp(kind, "nft") != 0)
        return cr_err_set(err, CR_EINVAL, "cleanup: unknown kind \"%s\"", kind);
    if (nf < 2 || (strcmp(kind, "link") != 0 && nf < 3))
        goto bad;
    nsfd = cr_netns_open(a, NULL);
    if (nsfd < 0)
        return 0; /* the namespace is gone and everything in it */
    if (strcmp(kind, "nft") == 0) {
        char *rs = cr_asprintf("table %s %s\ndelete table %s %s\n", b, c, b, c);
        rc = rs ? cr_netns_nft(nsfd, rs, NULL, err)
                : cr_err_set(err, CR_ENOMEM, "cleanup: out of memory");
        cr_free(rs);
        goto out;
    }
    if ((rc = cr_netns_sock(nsfd, &sock, err)) < 0)
        goto out;
    if (strcmp(kind, "link") == 0)
        rc = cr_netns_link_del(sock, b, err);
    else
        rc = cr_netns_qdisc_del(sock, b, c, err);
out:
    if (sock)
        nl_socket_free(sock);
    if (nsfd >= 0)
        close(nsfd);
    return rc;
bad:
    return cr_err_set(err, CR_EINVAL, "cleanup: malformed %s line \"%s\"", kind,
                      args);
}
