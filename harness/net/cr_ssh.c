/* cr_ssh: command lines, quoting, rulesets and event lines for nodes
 * reached over OpenSSH, and the undo of their ledger lines (see cr_ssh.h).
 * Nothing here needs a run; the engine's side is engine/cr_run_ssh.c. */
#include "cr_ssh.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "base/cr_spawn.h"

int cr_ssh_parse(const char *spec, char *dest, char *addr, char *port, size_t n,
                 cr_err *err)
{
    const char *at = strrchr(spec, '@');
    const char *host = at ? at + 1 : spec;
    const char *colon = NULL;
    size_t ulen = at ? (size_t)(at - spec) : 0;
    char a[256];
    if (!*spec || strlen(spec) >= n || strlen(spec) >= sizeof a)
        return cr_err_set(err, CR_EINVAL, "ssh \"%s\": empty or too long",
                          spec);
    for (const char *p = spec; *p; p++)
        if (isspace((unsigned char)*p) || *p == '\'' || *p == '"' ||
            (*p == '-' && p == spec))
            return cr_err_set(err, CR_EINVAL,
                              "ssh \"%s\": no white space or quotes, and no "
                              "leading '-'",
                              spec);
    if (at && ulen == 0)
        return cr_err_set(err, CR_EINVAL, "ssh \"%s\": empty user name", spec);
    if (*host == '[') {
        const char *close = strchr(host, ']');
        if (!close || close == host + 1)
            return cr_err_set(err, CR_EINVAL, "ssh \"%s\": unclosed '['", spec);
        snprintf(a, sizeof a, "%.*s", (int)(close - host - 1), host + 1);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1])
            return cr_err_set(err, CR_EINVAL,
                              "ssh \"%s\": only :port may follow ']'", spec);
    } else {
        colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':'))
            return cr_err_set(
                err, CR_EINVAL,
                "ssh \"%s\": write an IPv6 address as [addr]:port", spec);
        snprintf(a, sizeof a, "%.*s",
                 (int)(colon ? (size_t)(colon - host) : strlen(host)), host);
    }
    if (!a[0])
        return cr_err_set(err, CR_EINVAL, "ssh \"%s\": no address", spec);
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || p < 1 || p > 65535)
            return cr_err_set(err, CR_EINVAL,
                              "ssh \"%s\": port must be 1-65535", spec);
        snprintf(port, n, "%ld", p);
    } else {
        snprintf(port, n, "22");
    }
    snprintf(addr, n, "%s", a);
    if (at)
        snprintf(dest, n, "%.*s@%s", (int)ulen, spec, a);
    else
        snprintf(dest, n, "%s", a);
    return 0;
}

int cr_ssh_quote(cr_sbuf *b, const char *s)
{
    if (cr_sbuf_add(b, "'", 1))
        return CR_ENOMEM;
    for (const char *p = s; *p; p++) {
        int rc = *p == '\'' ? cr_sbuf_add(b, "'\\''", 4) : cr_sbuf_add(b, p, 1);
        if (rc)
            return CR_ENOMEM;
    }
    return cr_sbuf_add(b, "'", 1);
}

void cr_ssh_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        cr_free(argv[i]);
    cr_free(argv);
}

char **cr_ssh_argv(const cr_ssh_node *node, int master,
                   const char *const *extra, const char *cmd)
{
    enum { MAX = 48 };
    char **v = cr_calloc(MAX + 1, sizeof *v);
    size_t k = 0;
    int bad = 0;
    if (!v)
        return NULL;
#define ADD(...)                                                               \
    do {                                                                       \
        if (k < MAX && !(v[k++] = cr_asprintf(__VA_ARGS__)))                   \
            bad = 1;                                                           \
    } while (0)
    ADD("ssh");
    ADD("-F");
    ADD("/dev/null");
    ADD("-T");
    ADD("-p");
    ADD("%s", node->port);
    ADD("-o");
    ADD("BatchMode=yes");
    ADD("-o");
    ADD("LogLevel=ERROR");
    ADD("-o");
    ADD("ConnectTimeout=10");
    ADD("-o");
    ADD("StrictHostKeyChecking=%s", node->strict ? "yes" : "accept-new");
    ADD("-o");
    ADD("UserKnownHostsFile=%s", node->known_hosts);
    ADD("-o");
    ADD("GlobalKnownHostsFile=/dev/null");
    if (node->identity) {
        ADD("-i");
        ADD("%s", node->identity);
        ADD("-o");
        ADD("IdentitiesOnly=yes");
    }
    ADD("-o");
    ADD("ControlPath=%s", node->control ? node->control : "none");
    ADD("-o");
    ADD("ControlMaster=%s", master ? "yes" : "no");
    if (master) {
        ADD("-o");
        ADD("ControlPersist=no");
        ADD("-o");
        ADD("ServerAliveInterval=5");
    }
    for (size_t i = 0; extra && extra[i]; i++)
        ADD("%s", extra[i]);
    ADD("%s", node->dest);
    if (cmd) {
        ADD("--");
        if (node->sudo) {
            cr_sbuf b = {0};
            if (cr_sbuf_add(&b, "sudo -n sh -c ", 14) || cr_ssh_quote(&b, cmd))
                bad = 1;
            if (k < MAX)
                v[k++] = b.s;
            else
                cr_free(b.s);
        } else {
            ADD("%s", cmd);
        }
    }
#undef ADD
    if (bad || k >= MAX) {
        cr_ssh_argv_free(v);
        return NULL;
    }
    return v;
}

static int add_str(cr_sbuf *b, const char *s)
{
    return cr_sbuf_add(b, s, strlen(s));
}

char *cr_ssh_service_cmd(const char *cwd, const char *pidfile, char *const *env,
                         char *const *argv)
{
    cr_sbuf in = {0}, out = {0};
    int bad = 0;
    /* Inner: run by `sh -c` in the new session, so $$ is the session and
     * process group id that every later signal names. */
    bad |= add_str(&in, "echo $$ > ");
    bad |= cr_ssh_quote(&in, pidfile);
    /* the cgroups a resource fault made for this replica: joined before
     * the program runs (a restart inside the window starts limited) */
    char cgl[4200];
    snprintf(cgl, sizeof cgl, "%s.cgroups", pidfile);
    bad |= add_str(&in, " && { J=");
    bad |= cr_ssh_quote(&in, cgl);
    bad |= add_str(&in, "; [ ! -f \"$J\" ] || while read -r c; do echo $$ > "
                        "\"$c/cgroup.procs\" || echo \"chaosrun: cannot join "
                        "cgroup $c\" >&2; done < \"$J\"; } && exec env");
    for (size_t i = 0; env && env[i]; i++) {
        bad |= add_str(&in, " ");
        bad |= cr_ssh_quote(&in, env[i]);
    }
    for (size_t i = 0; argv[i]; i++) {
        bad |= add_str(&in, " ");
        bad |= cr_ssh_quote(&in, argv[i]);
    }
    /* Outer: an earlier replica's group (a daemonised leftover) goes first;
     * then the replica runs as a background job of the session's shell,
     * which waits for it: its exit code, or 128+N when signal N killed it
     * (the shell's rule; ssh passes the status on).  A background job is
     * no group leader, so setsid makes the new session without a fork and
     * $! is the replica (-w: where it is a leader after all, setsid forks
     * and waits, and passes on the exit code).  stdin stays the session's
     * (an asynchronous list would get /dev/null). */
    bad |= add_str(&out, "if [ -s ");
    bad |= cr_ssh_quote(&out, pidfile);
    bad |= add_str(&out, " ]; then kill -s KILL -- -\"$(cat ");
    bad |= cr_ssh_quote(&out, pidfile);
    bad |= add_str(&out, ")\" 2>/dev/null; fi; cd ");
    bad |= cr_ssh_quote(&out, cwd);
    bad |= add_str(&out, " || exit 1; exec 3<&0; setsid -w sh -c ");
    bad |= in.s ? cr_ssh_quote(&out, in.s) : 1;
    bad |= add_str(&out, " <&3 3<&- & exec 3<&-; wait $!");
    cr_free(in.s);
    if (bad) {
        cr_free(out.s);
        return NULL;
    }
    return out.s;
}

char *cr_ssh_signal_cmd(const char *pidfile, const char *signame)
{
    cr_sbuf b = {0};
    int bad = add_str(&b, "kill -s ");
    bad |= add_str(&b, signame);
    bad |= add_str(&b, " -- -\"$(cat ");
    bad |= cr_ssh_quote(&b, pidfile);
    bad |= add_str(&b, ")\"");
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

char *cr_ssh_nft_ruleset(const char *table, const char *const *addrs, size_t n)
{
    cr_sbuf b = {0};
    int bad = 0;
    char *head = cr_asprintf("table inet %s {\n"
                             "  chain input {\n"
                             "    type filter hook input priority -300; "
                             "policy accept;\n",
                             table);
    bad |= head ? add_str(&b, head) : 1;
    cr_free(head);
    for (size_t i = 0; i < n; i++) {
        const char *fam = strchr(addrs[i], ':') ? "ip6" : "ip";
        char *line = cr_asprintf("    %s saddr %s drop\n", fam, addrs[i]);
        bad |= line ? add_str(&b, line) : 1;
        cr_free(line);
    }
    bad |= add_str(&b, "  }\n}\n");
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- traffic shaping (tc) ---------------------------------------------- */

/* "protocol ip u32 match ip dst A/32" or the IPv6 form; 0, or CR_EINVAL
 * for an address that is not numeric. */
static int add_u32_match(cr_sbuf *b, const char *addr)
{
    unsigned char bin[16];
    int v4 = inet_pton(AF_INET, addr, bin) == 1;
    if (!v4 && inet_pton(AF_INET6, addr, bin) != 1)
        return CR_EINVAL;
    char *m = cr_asprintf("protocol %s prio %d u32 match %s dst %s/%d",
                          v4 ? "ip" : "ipv6", v4 ? 1 : 2, v4 ? "ip" : "ip6",
                          addr, v4 ? 32 : 128);
    int bad = m ? add_str(b, m) : CR_ENOMEM;
    cr_free(m);
    return bad;
}

/* The batch lines (tc -batch) of the htb root on device D with handle H
 * (unclassified traffic leaves by its direct queue, unshaped), a class
 * H:4 that does not limit, and the child C under it.  htb rather than
 * prio: some kernels build sch_htb and not sch_prio (this project's CI
 * machines).  D, H, C and K (the child's arguments) are written as given:
 * shell expansions ("$d") in the apply script, literals in the probe. */
static int add_tc_root(cr_sbuf *b, const char *d, const char *h, const char *c,
                       const char *k)
{
    char *t = cr_asprintf("qdisc add dev %s root handle %s: htb\n"
                          "class add dev %s parent %s: classid %s:4 htb rate "
                          "100gbit burst 1m cburst 1m quantum 60000\n"
                          "qdisc add dev %s parent %s:4 handle %s: %s\n",
                          d, h, d, h, h, d, h, c, k);
    int bad = t ? add_str(b, t) : CR_ENOMEM;
    cr_free(t);
    return bad;
}

char *cr_ssh_tc_apply_cmd(unsigned handle, const char *child,
                          const char *const *addrs, size_t n)
{
    cr_sbuf b = {0};
    if (!child || handle == 0 || handle >= 0xffff || n == 0)
        return NULL;
    /* The device of each address from `ip route get` (one ip each), the
     * root once per device, a filter per address: all in one `tc -batch`
     * (one tc, which stops at the first failing line).  Each step
     * `|| exit 1` (the subshell's; not set -e, which a failure inside a
     * list escapes). */
    char *head =
        cr_asprintf("(h=%x; c=%x; seen=; cmds=; k=", handle, handle + 1);
    int bad = head ? add_str(&b, head) : 1;
    cr_free(head);
    bad |= cr_ssh_quote(&b, child);
    bad |= add_str(&b, "\n");
    for (size_t i = 0; i < n && !bad; i++) {
        bad |= add_str(&b, "a=");
        bad |= cr_ssh_quote(&b, addrs[i]);
        bad |= add_str(&b, "\nr=$(ip -o route get \"$a\") || exit 1; "
                           "d=${r#* dev }; d=${d%% *}\n"
                           "[ -n \"$d\" ] && [ \"$d\" != \"$r\" ] || "
                           "{ echo \"no route to $a\"; exit 1; }\n"
                           "case \" $seen \" in *\" $d \"*) ;; *) "
                           "seen=\"$seen $d\"; cmds=\"${cmds}");
        bad |= add_tc_root(&b, "$d", "$h", "$c", "$k");
        bad |= add_str(&b, "\" ;; esac\ncmds=\"${cmds}filter add dev $d "
                           "parent $h: ");
        bad |= add_u32_match(&b, addrs[i]);
        bad |= add_str(&b, " flowid $h:4\n\"\n");
    }
    bad |= add_str(&b, "printf '%s' \"$cmds\" | tc -batch - || exit 1)");
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

char *cr_ssh_tc_cleanup_cmd(unsigned handle)
{
    if (handle == 0 || handle >= 0xffff)
        return NULL;
    /* Ours only: a root htb qdisc with our handle (tc prints it in hex,
     * lower case; `del ... handle` checks it once more), found with one
     * `tc qdisc show` of every device.  Succeeds when none is left. */
    return cr_asprintf("tc qdisc show | while read -r q k h x d r; do "
                       "[ \"$k $h $x\" = 'htb %x: dev' ] && [ \"${r%%%% *}\" = "
                       "root ] && tc qdisc del dev \"$d\" root handle %x:; "
                       "done; ! tc qdisc show | grep -q '^qdisc htb %x: dev "
                       "[^ ]* root'",
                       handle, handle, handle);
}

char *cr_ssh_tc_probe_cmd(const char *child)
{
    cr_sbuf in = {0}, batch = {0}, out = {0};
    int bad = add_tc_root(&batch, "lo", "c0", "c1", child);
    bad |= add_str(&batch, "filter add dev lo parent c0: protocol ip prio 1 "
                           "u32 match ip dst 127.0.0.1/32 flowid c0:4\n");
    bad |= add_str(&in, "ip link set lo up || exit 1; printf '%s' ");
    bad |= !batch.s || cr_ssh_quote(&in, batch.s);
    bad |= add_str(&in, " | tc -batch -");
    bad |= add_str(&out, "command -v tc >/dev/null || { echo 'no tc program "
                         "(package iproute2)'; exit 1; }; "
                         "command -v unshare >/dev/null || { echo 'no unshare "
                         "program (package util-linux)'; exit 1; }; "
                         "unshare -n sh -c ");
    bad |= !in.s || cr_ssh_quote(&out, in.s);
    cr_free(in.s);
    cr_free(batch.s);
    if (bad) {
        cr_free(out.s);
        return NULL;
    }
    return out.s;
}

char *cr_ssh_event_line(const char *line, size_t n, double offset_s)
{
    json_t *o = json_loadb(line, n, 0, NULL);
    json_t *ts = json_is_object(o) ? json_object_get(o, "ts") : NULL;
    char *s = NULL;
    if (json_is_number(ts) && offset_s != 0.0) {
        /* The offset is measured to about a millisecond: write the result
         * with microseconds, as the event contract does. */
        char num[64];
        snprintf(num, sizeof num, "%.6f", json_number_value(ts) - offset_s);
        json_t *v = json_real(strtod(num, NULL));
        if (v && json_object_set_new(o, "ts", v) == 0) {
            char *d = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(17));
            if (d) {
                s = cr_asprintf("%s\n", d);
                free(d);
                json_decref(o);
                return s;
            }
        }
    }
    json_decref(o);
    s = cr_malloc(n + 2);
    if (s) {
        memcpy(s, line, n);
        s[n] = '\n';
        s[n + 1] = '\0';
    }
    return s;
}

char *cr_ssh_dir_cleanup_cmd(const char *dir)
{
    cr_sbuf b = {0};
    int bad = add_str(&b, "d=");
    bad |= cr_ssh_quote(&b, dir);
    /* Frozen cgroups (pause mode freezer) thawed: a frozen task does not
     * die of SIGKILL.  The replicas' groups killed; then the cgroups
     * resource faults made
     * (listed in "cgroups": the run's parents and their children, removed
     * children first, only directories named chaosrun-*; a killed group
     * leaves them within moments); disk_fill's files (listed in "files",
     * only those named .chaosrun-fill-*) and tmpfs mounts (in "mounts",
     * only below the directory); then the directory. */
    bad |= add_str(&b,
                   "; [ -d \"$d\" ] || exit 0; [ ! -f \"$d/cgroups\" ] || "
                   "while read -r c; do [ ! -f \"$c/freezer.state\" ] || echo "
                   "THAWED > \"$c/freezer.state\"; [ ! -f \"$c/cgroup.freeze\" "
                   "] || echo 0 > \"$c/cgroup.freeze\"; done < \"$d/cgroups\" "
                   "2>/dev/null; for f in \"$d\"/*.pid; "
                   "do [ -s \"$f\" ] && kill -s KILL -- -\"$(cat "
                   "\"$f\")\" 2>/dev/null; done; if [ -f \"$d/cgroups\" ]; "
                   "then for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
                   "19 20; do left=0; for c in $(sort -r \"$d/cgroups\"); "
                   "do case \"$c\" in */chaosrun-*) [ ! -d \"$c\" ] || "
                   "rmdir \"$c\" 2>/dev/null || left=1;; esac; done; [ "
                   "$left = 0 ] && break; sleep 0.1; done; fi; if [ -f "
                   "\"$d/files\" ]; then while read -r x; do case \"${x##*/}\" "
                   "in .chaosrun-fill-*) rm -f -- \"$x\";; esac; done < "
                   "\"$d/files\"; fi; if [ -f \"$d/mounts\" ]; then while read "
                   "-r x; do case \"$x\" in \"$d\"/*) umount -- \"$x\" "
                   "2>/dev/null || umount -l -- \"$x\" 2>/dev/null;; esac; "
                   "done < \"$d/mounts\"; fi; rm -rf --one-file-system -- "
                   "\"$d\"");
    if (bad) {
        cr_free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- ledger lines ------------------------------------------------------ */

static int has_space(const char *s)
{
    for (; s && *s; s++)
        if (isspace((unsigned char)*s))
            return 1;
    return 0;
}

int cr_ssh_ledger_line(const cr_ssh_node *node, const char *object, char *buf,
                       size_t n)
{
    if (has_space(node->dest) || has_space(node->port) ||
        has_space(node->identity) || has_space(node->known_hosts) ||
        has_space(object) || (node->identity && !*node->identity))
        return CR_EINVAL;
    int k = snprintf(buf, n, "%s %s %s %s %d %d %s", node->dest, node->port,
                     node->identity ? node->identity : "-", node->known_hosts,
                     node->strict, node->sudo, object);
    return k < 0 || (size_t)k >= n ? CR_EINVAL : 0;
}

/* Run cmd on the node without a master; 0, or CR_ESYS naming the node. */
static int run_remote(const cr_ssh_node *node, const char *cmd, cr_err *err)
{
    char **av = cr_ssh_argv(node, 0, NULL, cmd);
    char detail[128];
    cr_err e;
    cr_err_clear(&e);
    if (!av)
        return cr_err_set(err, CR_ENOMEM, "cleanup: out of memory");
    int rc = cr_spawn_run(av, NULL, 20.0, -1, detail, sizeof detail, &e);
    cr_ssh_argv_free(av);
    if (rc < 0)
        return cr_err_set(err, rc, "cleanup on %s: %s", node->dest, e.msg);
    if (rc > 0)
        return cr_err_set(err, CR_ESYS, "cleanup on %s: `%s`: %s", node->dest,
                          cmd, detail);
    return 0;
}

int cr_ssh_cleanup_entry(const char *kind, const char *args, cr_err *err)
{
    char dest[256], port[16], id[1024], kh[1024], obj[1024];
    int strict = 0, sudo = 0;
    if ((strcmp(kind, "ssh-dir") != 0 && strcmp(kind, "ssh-nft") != 0 &&
         strcmp(kind, "ssh-tc") != 0) ||
        sscanf(args, "%255s %15s %1023s %1023s %d %d %1023s", dest, port, id,
               kh, &strict, &sudo, obj) != 7)
        return cr_err_set(err, CR_EINVAL, "ledger: bad %s entry '%s'", kind,
                          args);
    cr_ssh_node node = {.name = dest,
                        .dest = dest,
                        .port = port,
                        .identity = strcmp(id, "-") ? id : NULL,
                        .known_hosts = kh,
                        .strict = 1, /* the key learnt by the run */
                        .sudo = sudo};
    (void)strict;
    cr_sbuf b = {0};
    int bad = 0;
    if (strcmp(kind, "ssh-dir") == 0) {
        /* Only a directory of the form chaosrun gives them
         * (/tmp/chaosrun-<runid>-<node>): never anything else a damaged
         * line could point at. */
        if (strncmp(obj, "/tmp/chaosrun-", 14) != 0 || strchr(obj + 14, '/') ||
            strchr(obj, '\'') || !obj[14])
            return cr_err_set(err, CR_EINVAL, "ledger: bad ssh-dir '%s'", obj);
        char *c = cr_ssh_dir_cleanup_cmd(obj);
        bad |= c ? add_str(&b, c) : 1;
        cr_free(c);
    } else if (strcmp(kind, "ssh-tc") == 0) {
        /* Four hex digits, as cr_run_ssh_qdisc writes them. */
        char *end;
        unsigned long h = strtoul(obj, &end, 16);
        if (strlen(obj) != 4 || *end || strspn(obj, "0123456789abcdef") != 4 ||
            h == 0 || h >= 0xffff)
            return cr_err_set(err, CR_EINVAL, "ledger: bad ssh-tc '%s'", obj);
        char *c = cr_ssh_tc_cleanup_cmd((unsigned)h);
        bad |= c ? add_str(&b, c) : 1;
        cr_free(c);
    } else {
        if (strncmp(obj, "chaosrun-", 9) != 0 ||
            strspn(obj, "abcdefghijklmnopqrstu"
                        "vwxyz0123456789-") != strlen(obj))
            return cr_err_set(err, CR_EINVAL, "ledger: bad ssh-nft '%s'", obj);
        /* Declaring the table first makes the delete succeed when it is
         * already gone (one transaction). */
        char *c = cr_asprintf("printf 'table inet %s\\ndelete table inet "
                              "%s\\n' | nft -f -",
                              obj, obj);
        bad |= c ? add_str(&b, c) : 1;
        cr_free(c);
    }
    if (bad) {
        cr_free(b.s);
        return cr_err_set(err, CR_ENOMEM, "cleanup: out of memory");
    }
    int rc = run_remote(&node, b.s, err);
    cr_free(b.s);
    return rc;
}
