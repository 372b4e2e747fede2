/* cr_netfault: what the network fault kinds (netem, partition, bandwidth)
 * share: where a fault applies ("host" or "between" plus "direction"),
 * turning that into flows of the run's topology, and applying qdiscs on
 * the sending side or silent drops on the receiving side with an undo
 * record kept in act->state. */
#ifndef CR_NETFAULT_H
#define CR_NETFAULT_H

#include "faults/cr_fault.h"
#include "net/cr_net.h"

/* Keys "host", "between", "direction", documented once. */
#define CR_NETFAULT_WHERE_PARAMS                                               \
    {"host", "string", "none",                                                 \
     "the host whose links are affected (one of host or between)"},            \
        {"between", "array", "none",                                           \
         "[\"h1\", \"h2\"]: only traffic between these two hosts"},            \
    {                                                                          \
        "direction", "string", "\"both\"",                                     \
            "egress (from host / from the first of between), ingress "         \
            "(towards it) or both"                                             \
    }

typedef struct cr_netfault_where {
    const char *host; /* borrowed from the scenario document */
    const char *peer; /* NULL unless "between" */
    int dir;          /* CR_NET_* */
} cr_netfault_where;

/* Parse and check host/between/direction (names must be declared in the
 * hosts section).  Returns 1 valid, 0 invalid (diagnostics recorded). */
int cr_netfault_where_parse(cr_vctx *vx, const json_t *obj, const char *path,
                            cr_netfault_where *w);

/* "h1" or "h1<->h2" with the direction, for messages and details. */
void cr_netfault_where_text(const cr_netfault_where *w, char *buf, size_t n);

/* Record in act->details "hosts" the hosts this occurrence isolates or
 * degrades (checkers attribute it to the services placed on them, e.g.
 * `failover` with a `from` on such a host).  n names; NULL ones skipped. */
void cr_netfault_note_hosts(cr_fault_act *act, const char *const *hosts,
                            size_t n);

/* The run's topology, or CR_ESTATE when hosts were not set up. */
int cr_netfault_topo(cr_fault *f, cr_run *r, cr_net_topo **out, cr_err *err);

/* Flows of w in t (at most CR_NET_MAX_HOSTS * 2). */
size_t cr_netfault_flows(cr_net_topo *t, const cr_netfault_where *w,
                         cr_net_flow *out);

/* The act's undo record (created on first use). */
cr_net_undo *cr_netfault_undo(cr_fault_act *act, cr_err *err);

/* Add, on the sending side of every flow, the root qdisc that build()
 * makes for that interface.  Appends "flows" to act->details. */
typedef int (*cr_netfault_build_fn)(const void *ctx, int ifindex,
                                    struct nl_msg **out, cr_err *err);
int cr_netfault_qdiscs(cr_fault *f, cr_run *r, cr_fault_act *act,
                       const cr_net_flow *flows, size_t n,
                       cr_netfault_build_fn build, const void *ctx,
                       cr_err *err);

/* Drop ppm/1e6 of the packets of every flow at its receiver (nftables
 * netdev ingress; one table per receiving host and occurrence).  Appends
 * "nft_tables" to act->details. */
int cr_netfault_drops(cr_fault *f, cr_run *r, cr_fault_act *act,
                      const cr_net_flow *flows, size_t n, unsigned ppm,
                      cr_err *err);

/* Remote nodes (hosts with "ssh"): 1 when the run's hosts are nodes, and
 * the flows of w between them by host name ([i][0] sends to [i][1]), as
 * cr_netfault_flows gives them for namespaces.  At most max. */
int cr_netfault_on_nodes(cr_run *r);
size_t cr_netfault_node_flows(cr_run *r, const cr_netfault_where *w,
                              const char *out[][2], size_t max);
/* netem and bandwidth on nodes: the qdisc `child` (tc's arguments) on
 * every sender of w's flows.  probe: before the run (prepare), each sender
 * tries it in a throw-away namespace (CR_EUNSUP naming f's path, the node
 * and tc's words).  apply: details "backend", "where", "tc" and the hosts
 * noted, then cr_run_ssh_qdisc with act->state. */
int cr_netfault_ssh_probe(cr_fault *f, cr_run *r, const cr_netfault_where *w,
                          const char *child, cr_err *err);
int cr_netfault_ssh_apply(cr_run *r, cr_fault_act *act,
                          const cr_netfault_where *w, const char *backend,
                          const char *child, cr_err *err);

/* Revert everything the act made (idempotent; frees act->state); on
 * remote nodes, the qdiscs of cr_run_ssh_qdisc. */
int cr_netfault_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err);

#endif
