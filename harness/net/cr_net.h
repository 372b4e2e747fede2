/* cr_net: hosts (network namespaces), the topology that connects them, the
 * kernel capability probe, the undo records of network faults, and the
 * section parser of "hosts" (cr_net_hosts.c).
 *
 * Topology.  Each host is a named network namespace /run/netns/<prefix>-<host>
 * (prefix unique per run, "cr" + 8 hex digits).  Every pair of hosts is
 * joined by its own veth pair: in host i the interface towards host j is
 * called "cr<j>" (j = index of the host in the scenario's list).  A host has
 * one address, 10.<a>.<b>.<i+1> (a, b drawn from the prefix), put on each
 * of its interfaces as a /32 with a /32 scope-link route per peer.  So
 * traffic from i to j leaves through i's "cr<j>" and arrives on j's "cr<i>":
 * a qdisc on the sender's end shapes exactly that direction of that pair,
 * and the egress of the peer end is the ingress of a host (no ifb needed).
 * The harness's own namespace, routes and firewall are never touched.
 *
 * Everything is recorded in the ledger before it is made:
 * "netns <name>", "link <netns> <ifname>", "qdisc <netns> <ifname> root",
 * "nft <netns> netdev <table>"; cr_net_cleanup_entry() undoes one such line
 * (idempotent), for `chaosrun cleanup` and the janitor.
 *
 * Nothing here depends on the run engine: the engine's glue (topology per
 * run, host fds and addresses for spawning and probing) is
 * engine/cr_run_net.c, declared in engine/cr_run.h. */
#ifndef CR_NET_H
#define CR_NET_H

#include <stddef.h>

#include "base/cr_err.h"
#include "scenario/cr_kinds.h"
#include "cr_netns.h"

struct nl_sock;
struct nl_msg;

#define CR_NET_MAX_HOSTS 64
#define CR_NET_NAME_MAX  32

/* ---- the "hosts" section (sc->hosts) ---------------------------------- */

typedef struct cr_net_host_spec {
    char *name;   /* [A-Za-z0-9_-]{1,32} */
    char *region; /* free label, or NULL */
    /* A remote node (cr_ssh.h): "user@addr:port" as written, or NULL for a
     * network namespace; its identity file and known_hosts, or NULL; sudo. */
    char *ssh;
    char *identity;
    char *known_hosts;
    int sudo;
} cr_net_host_spec;

typedef struct cr_net_hosts {
    cr_net_host_spec *v;
    size_t n;
    size_t nssh; /* how many are remote nodes (then all are) */
} cr_net_hosts;

/* 1 when `hosts` (a cr_net_hosts, i.e. sc->hosts; NULL allowed) has a host
 * called name, else 0.  For the scenario loader's "host" check. */
int cr_net_host_exists(const void *hosts, const char *name);
/* 1 when name is a valid host name. */
int cr_net_host_name_ok(const char *name);
void cr_net_hosts_free(cr_net_hosts *h);

/* The section parser, registered in harness/cr_registry.c (cr_net_hosts.c). */
extern const cr_section_ops cr_net_hosts_section;
/* The keys of a host object, NULL-terminated (documented in
 * scenarios/README.md, "`hosts`"; tests/test_docs.c holds the two
 * together).  The first is "name", which the object form
 * {"h1": {...}} gives as the member's key instead. */
extern const cr_param cr_net_host_params[];

/* ---- topology --------------------------------------------------------- */

typedef struct cr_net_topo cr_net_topo;

/* A fresh per-run prefix: "cr" + 8 lowercase hex digits. */
void cr_net_prefix_new(char *buf, size_t n);

/* Create the namespaces and links of hosts names[0..n-1] (1 <= n <=
 * CR_NET_MAX_HOSTS), every object recorded in lg before it is made.  On
 * success *out (cr_net_topo_destroy).  On failure whatever was made is
 * removed again and *out stays NULL. */
int cr_net_topo_create(const char *prefix, const char *const *names, size_t n,
                       const cr_netns_ledger *lg, cr_net_topo **out,
                       cr_err *err);
/* Remove every link and namespace (marking their ledger lines done).
 * NULL is a no-op.  Processes still inside a namespace keep it alive until
 * they exit; the engine stops services first. */
void cr_net_topo_destroy(cr_net_topo *t);

size_t cr_net_topo_count(const cr_net_topo *t);
const char *cr_net_topo_prefix(const cr_net_topo *t);
/* Index of a host by name, or -1. */
int cr_net_topo_index(const cr_net_topo *t, const char *name);
const char *cr_net_topo_name(const cr_net_topo *t, int i);
const char *cr_net_topo_netns(const cr_net_topo *t,
                              int i); /* "<prefix>-<host>" */
const char *cr_net_topo_addr(const cr_net_topo *t, int i); /* "10.a.b.c" */
int cr_net_topo_nsfd(const cr_net_topo *t, int i);         /* O_CLOEXEC */
struct nl_sock *cr_net_topo_sock(const cr_net_topo *t, int i);
const cr_netns_ledger *cr_net_topo_ledger(const cr_net_topo *t);
/* Name of the interface in any host that leads to host j: "cr<j>". */
void cr_net_ifname(int j, char *buf, size_t n);

/* ---- directions ------------------------------------------------------- */

enum { CR_NET_EGRESS = 1, CR_NET_INGRESS = 2, CR_NET_BOTH = 3 };
extern const char *const cr_net_dir_names[]; /* "", egress, ingress, both */

/* One direction of one host pair: traffic from host `from` to host `to`.
 * It leaves from's "cr<to>" (where a qdisc shapes it) and arrives on to's
 * "cr<from>" (where a silent drop belongs). */
typedef struct cr_net_flow {
    int from, to;
} cr_net_flow;

/* The flows a fault touches.  host >= 0, peer < 0: every flow out of
 * (egress) and/or into (ingress) host.  host, peer >= 0: between the two,
 * egress = host->peer, ingress = peer->host.  Returns the count written. */
size_t cr_net_flows(const cr_net_topo *t, int host, int peer, int dir,
                    cr_net_flow *out, size_t max);

/* ---- capability probe ------------------------------------------------- */

typedef struct cr_net_caps {
    int netem, tbf, nft; /* 1 usable, 0 not */
    char netem_why[200]; /* "RTM_NEWQDISC: Object not found" */
    char tbf_why[200];
    char nft_why[200];
} cr_net_caps;

/* Probe the kernel once per process in a scratch namespace
 * "<prefix>-probe" (recorded in lg): add and delete a netem and a tbf
 * qdisc on its lo, load and delete an nftables netdev ingress table.
 * The result is cached (the documented process-wide cache: kernel
 * features do not change during a run).  Fails only when the probe itself
 * cannot run (CR_EUNSUP without privilege, CR_ESYS). */
int cr_net_probe(const char *prefix, const cr_netns_ledger *lg,
                 cr_net_caps *out, cr_err *err);
/* Forget the cached result (tests). */
void cr_net_probe_reset(void);

/* ---- fault helpers: what a fault made, for its revert ----------------- */

typedef struct cr_net_undo cr_net_undo;

cr_net_undo *cr_net_undo_new(void);
/* Revert everything recorded, newest first; keeps going after a failure
 * and reports the first.  Marks ledger lines done.  Safe on a partially
 * applied fault; u is emptied, not freed. */
int cr_net_undo_run(cr_net_topo *t, cr_net_undo *u, cr_err *err);
void cr_net_undo_free(cr_net_undo *u); /* NULL ok; does not revert */

/* Send a qdisc-creating request (root qdisc of ifname in host i), after
 * recording "qdisc <netns> <ifname> root".  msg is not freed. */
int cr_net_qdisc_add(cr_net_topo *t, int i, const char *ifname,
                     struct nl_msg *msg, cr_net_undo *u, cr_err *err);
/* Build a tbf root qdisc request (libnl-route).  burst_bytes 0: default
 * max(10 ms at rate, 4096); latency_ms 0: 50 ms. */
int cr_net_tbf_build(int ifindex, double rate_kbit, double burst_bytes,
                     double latency_ms, struct nl_msg **out, cr_err *err);
/* Load an nftables ruleset that creates `table` (family netdev) in host i
 * after recording "nft <netns> netdev <table>". */
int cr_net_nft_add(cr_net_topo *t, int i, const char *table,
                   const char *ruleset, cr_net_undo *u, cr_err *err);

/* Generate the netdev table that drops, on host `to`'s interfaces from
 * each flow's sender, a fraction of packets (ppm of 1e6; 1000000 = all).
 * Flows must all have the same `to`.  Returns a cr_malloc'd ruleset or
 * NULL (out of memory). */
char *cr_net_nft_drop_ruleset(const char *table, const cr_net_flow *flows,
                              size_t n, unsigned ppm);

/* ---- leftovers -------------------------------------------------------- */

/* Undo one ledger line of kind netns, link, qdisc or nft ("args" is the
 * rest of the line).  Already gone = success; other kinds CR_EINVAL. */
int cr_net_cleanup_entry(const char *kind, const char *args, cr_err *err);

#endif
