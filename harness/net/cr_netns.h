/* cr_netns: network namespace and rtnetlink primitives for the network
 * module (named namespaces, netlink sockets bound to a namespace, veth
 * pairs, addresses, routes, qdisc deletion, nftables rulesets).
 *
 * Named namespaces live under /run/netns/<name>, bind-mounted like iproute2
 * does, so `ip netns list` and `chaosrun cleanup` can see them.  The
 * harness's own namespace is never changed: anything that must run inside
 * another namespace does so on a short-lived helper thread (setns and
 * unshare act per thread for CLONE_NEWNET) or in a forked child (nft).
 * Links, addresses and qdiscs are made through libnl-route; nothing shells
 * out to ip or tc. */
#ifndef CR_NETNS_H
#define CR_NETNS_H

#include <stdint.h>

#include "base/cr_err.h"

struct nl_sock;
struct nl_msg;

#define CR_NETNS_DIR "/run/netns"

/* Something that records system changes before they are made (the run's
 * ledger in production, a list in tests).  add() returns an id > 0 or a
 * negative code (err set); done() marks the change reverted.  Either may be
 * NULL (nothing recorded). */
typedef struct cr_netns_ledger {
    int (*add)(void *ctx, const char *line, cr_err *err);
    void (*done)(void *ctx, int id);
    void *ctx;
} cr_netns_ledger;

/* Record a line; returns an id (0 when no ledger) or a negative code. */
int cr_netns_record(const cr_netns_ledger *lg, cr_err *err, const char *fmt,
                    ...) CR_PRINTF(3, 4);
void cr_netns_done(const cr_netns_ledger *lg, int id);

/* 1 when the process has CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces,
 * bind mounts), else 0 with *missing naming the first missing one. */
int cr_netns_privileged(const char **missing);

/* Create /run/netns/<name> (a fresh network namespace with lo up).  On
 * success *nsfd_out is an O_CLOEXEC fd of the namespace and *sock_out a
 * connected NETLINK_ROUTE socket inside it (free with nl_socket_free);
 * either pointer may be NULL.  On failure nothing is left behind. */
int cr_netns_create(const char *name, int *nsfd_out, struct nl_sock **sock_out,
                    cr_err *err);
/* Unmount and remove /run/netns/<name>.  Already gone = success. */
int cr_netns_delete(const char *name, cr_err *err);
/* 1 if /run/netns/<name> exists. */
int cr_netns_exists(const char *name);
/* Open /run/netns/<name> (O_RDONLY|O_CLOEXEC); "-" opens the harness's own
 * namespace.  Returns the fd or a negative code (CR_ENOTFOUND when absent). */
int cr_netns_open(const char *name, cr_err *err);
/* A connected NETLINK_ROUTE socket inside the namespace of nsfd (made on a
 * helper thread).  Returns 0 and *out, or a negative code. */
int cr_netns_sock(int nsfd, struct nl_sock **out, cr_err *err);

/* Run fn(arg) on a helper thread that has joined the namespace of nsfd
 * (for probes and checks that must reach a host: sockets fn makes live
 * there).  Blocks until fn returns; *ret (may be NULL) gets its result.
 * The calling thread's namespace is never changed. */
int cr_netns_call(int nsfd, void *(*fn)(void *), void *arg, void **ret,
                  cr_err *err);

/* Create a veth pair: `name` in the namespace of `sock`, its peer
 * `peer_name` in the namespace of peer_nsfd (-1: the same); both down. */
int cr_netns_veth_add(struct nl_sock *sock, const char *name,
                      const char *peer_name, int peer_nsfd, cr_err *err);
/* Set a link up. */
int cr_netns_link_up(struct nl_sock *sock, const char *name, cr_err *err);
/* Delete a link by name; already gone = success. */
int cr_netns_link_del(struct nl_sock *sock, const char *name, cr_err *err);
/* ifindex of a link, or a negative code. */
int cr_netns_ifindex(struct nl_sock *sock, const char *name, cr_err *err);
/* Add local address addr/prefixlen (IPv4 dotted) on ifname. */
int cr_netns_addr_add(struct nl_sock *sock, const char *ifname,
                      const char *addr, int prefixlen, cr_err *err);
/* Add a scope-link route to dst/32 through ifname. */
int cr_netns_route_add(struct nl_sock *sock, const char *ifname,
                       const char *dst, cr_err *err);

/* Send a fully built netlink request and wait for the kernel's answer.
 * Returns 0 or the negative libnl code (-NLE_*); msg is not freed. */
int cr_netns_send(struct nl_sock *sock, struct nl_msg *msg);
/* Delete the qdisc at parent ("root" or "ingress") of ifname; no such
 * qdisc or link = success. */
int cr_netns_qdisc_del(struct nl_sock *sock, const char *ifname,
                       const char *parent, cr_err *err);

/* Run `nft -f -` inside the namespace of nsfd (-1: the harness's own) with
 * `ruleset` on its standard input.  Returns 0, CR_EUNSUP when nft is not
 * installed, or CR_ESYS with nft's first error line in err.  When
 * stderr_out is non-NULL it receives nft's diagnostics (caller frees). */
int cr_netns_nft(int nsfd, const char *ruleset, char **stderr_out, cr_err *err);

#endif
