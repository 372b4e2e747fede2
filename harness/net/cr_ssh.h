/* cr_ssh: remote nodes reached over OpenSSH (the `ssh` key of a `hosts`
 * entry; scenarios/README.md, "Remote nodes over SSH").  The parts that
 * need no run: the node's address, ssh's command line, shell quoting, the
 * remote wrapper of a service, the nftables ruleset of a partition, the
 * clock correction of an event line, and the undo of a ledger line after a
 * crash (`chaosrun cleanup` reconnects).  The engine's side (one
 * ControlMaster per node, services, signals, the event follower) is
 * engine/cr_run_ssh.c.
 *
 * Every ssh command line is built here, so that the options are in one
 * place: -F /dev/null (the user's ~/.ssh/config never changes what a
 * scenario means), BatchMode=yes (never a prompt), the identity with
 * IdentitiesOnly=yes, and host keys checked against the scenario's
 * known_hosts (StrictHostKeyChecking=yes) or, without one, learnt on first
 * use into the run directory's ssh/known_hosts (accept-new): the first
 * connection is trusted, every later one (services, faults, cleanup) must
 * meet the same key. */
#ifndef CR_SSH_H
#define CR_SSH_H

#include <stddef.h>

#include "base/cr_err.h"

/* One node: what the scenario said, plus the run's paths. */
typedef struct cr_ssh_node {
    const char *name;        /* host name in the scenario */
    const char *dest;        /* "user@addr" (or "addr") */
    const char *port;        /* "22" */
    const char *identity;    /* private key file, or NULL */
    const char *known_hosts; /* the file to check host keys against */
    int strict;              /* 1: known_hosts is the scenario's own */
    int sudo;                /* 1: remote commands through sudo -n */
    const char *control;     /* ControlPath, or NULL (no master) */
} cr_ssh_node;

/* Split "user@addr:port" / "addr:port" / "user@addr" / "addr" ("[v6]:port"
 * too) into dest ("user@addr"), addr and port (default "22").  Returns 0,
 * or CR_EINVAL with err saying what is wrong.  Buffers of n bytes. */
int cr_ssh_parse(const char *spec, char *dest, char *addr, char *port, size_t n,
                 cr_err *err);

/* Single-quote s for a POSIX shell, appended to b.  0 or CR_ENOMEM. */
struct cr_sbuf;
int cr_ssh_quote(struct cr_sbuf *b, const char *s);

/* The argv of `ssh` for node: its options, then extra (NULL-terminated,
 * ssh options such as "-N" placed before the destination; may be NULL),
 * then the destination, then "--" and the remote command when cmd is not
 * NULL (with sudo: wrapped in `sudo -n sh -c '...'`).  A master is asked
 * for with master = 1 (ControlMaster=yes, ControlPersist=no); otherwise
 * the node's ControlPath (if any) is used with ControlMaster=no.  Returns a
 * NULL-terminated array of cr_malloc'd strings (cr_ssh_argv_free) or NULL
 * when out of memory. */
char **cr_ssh_argv(const cr_ssh_node *node, int master,
                   const char *const *extra, const char *cmd);
void cr_ssh_argv_free(char **argv);

/* The remote command of a replica: kills what is left of an earlier one
 * (its pidfile), then `setsid -w sh -c` (a new session and process group
 * whose id is written to pidfile before the program runs) with env
 * (KEY=VALUE strings, NULL-terminated) and argv, in cwd.  cr_malloc'd, or
 * NULL. */
char *cr_ssh_service_cmd(const char *cwd, const char *pidfile, char *const *env,
                         char *const *argv);

/* The remote command that sends signal `signame` ("KILL", "STOP") to the
 * process group written in pidfile.  cr_malloc'd, or NULL. */
char *cr_ssh_signal_cmd(const char *pidfile, const char *signame);

/* The remote command that kills the process group of every pidfile in
 * dir and removes dir (nothing when it is gone).  cr_malloc'd, or NULL. */
char *cr_ssh_dir_cleanup_cmd(const char *dir);

/* The nftables ruleset that makes table `table` (family inet) drop every
 * packet coming from addrs[0..n-1] (input hook, so a sender elsewhere
 * sees silence, as Jepsen's partitions).  cr_malloc'd, or NULL. */
char *cr_ssh_nft_ruleset(const char *table, const char *const *addrs, size_t n);

/* Traffic shaping on a node (netem and bandwidth over ssh).  tc_apply:
 * the remote command that sends the node's traffic towards each of
 * addrs[0..n-1] (numeric addresses) through `child` (tc arguments of the
 * shaping qdisc: "netem limit 1000 delay 100ms", "tbf rate 800kbit burst
 * 4096 latency 50ms"): on the device that routes to each address, a root
 * htb qdisc with handle `handle` (unclassified traffic -- ssh itself --
 * leaves by its direct queue, as before), a class handle:4 that does not
 * limit, the child under it and a u32 filter per address sending it
 * there.  `tc qdisc add` refuses to
 * replace a root qdisc someone configured; a default one (handle 0) is
 * replaced and comes back when ours is deleted.  tc_cleanup: the command
 * that deletes, on every device of the node, the root qdisc if it is ours
 * (htb with `handle`); nothing there = success.  tc_probe: a command
 * that installs the same construction on the loopback device of a
 * throw-away network namespace (unshare -n), so that a node lacking the
 * qdisc (sch_netem), the classifier or the tc syntax says so before the
 * run starts, and nothing of the node is touched.  Each cr_malloc'd, or
 * NULL (out of memory, or an address that is not numeric). */
char *cr_ssh_tc_apply_cmd(unsigned handle, const char *child,
                          const char *const *addrs, size_t n);
char *cr_ssh_tc_cleanup_cmd(unsigned handle);
char *cr_ssh_tc_probe_cmd(const char *child);

/* One event line written on a node, its "ts" moved onto the harness's
 * clock: ts - offset_s (offset_s = node's clock - harness's clock).  A line
 * that is not a JSON object with a numeric "ts" is returned unchanged (the
 * engine counts it as malformed).  Returns a cr_malloc'd line ending in
 * '\n', or NULL when out of memory. */
char *cr_ssh_event_line(const char *line, size_t n, double offset_s);

/* Undo one ledger line of kind "ssh-dir", "ssh-nft" or "ssh-tc" (args as
 * written by cr_ssh_ledger_line): reconnects without a master, kills the
 * process groups of the node's pidfiles and removes the remote directory /
 * deletes the nftables table / deletes the root qdiscs with the handle (4
 * hex digits).  Already gone = success.  Other kinds: CR_EINVAL. */
int cr_ssh_cleanup_entry(const char *kind, const char *args, cr_err *err);

/* The args of a ledger line of kind ("ssh-dir", "ssh-nft" or "ssh-tc")
 * for node and object (the remote directory, the table or the handle),
 * into buf.  Returns 0, or
 * CR_EINVAL when a field holds white space (cannot be written) or the line
 * does not fit. */
int cr_ssh_ledger_line(const cr_ssh_node *node, const char *object, char *buf,
                       size_t n);

#endif
