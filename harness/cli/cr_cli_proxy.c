/* cr_cli_proxy: `chaosrun proxy ...`, the fault proxy on its own, in front
 * of a service started by hand (the proxy itself is proxy/; its line
 * protocol is documented in proxy/README.md). */
#include "cr_cli.h"

#include "base/cr_alloc.h"
#include "proxy/cr_proxy.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void usage(FILE *fp)
{
    fputs(
        "usage: chaosrun proxy [--listen ADDR --upstream ADDR [--name NAME]]\n"
        "                      [--link NAME=LISTEN,UPSTREAM[,NETNS]]... "
        "[--control PATH]\n"
        "                      [--stdin] [--seed N] [--toxic 'LINK NAME TYPE "
        "k=v...']...\n"
        "                      [--toxiproxy-api ADDR] "
        "[--allow-remote]\n"
        "Relays TCP connections from loopback listeners to upstream addresses "
        "and\n"
        "applies toxics given with --toxic or through the line protocol (on "
        "the\n"
        "control socket, and on stdin/stdout when --stdin is given or no "
        "--control).\n"
        "Type 'help' on the control channel for the commands.\n"
        "--toxiproxy-api ADDR serves Toxiproxy 2.x's HTTP API on ADDR "
        "(HOST:PORT, :PORT\n"
        "or PORT, host 127.0.0.1 when left out; Toxiproxy's own is :8474; :0 "
        "picks a port\n"
        "and prints it), so Toxiproxy's client libraries and curl drive "
        "the proxy:\n"
        "proxies, toxics, /reset, /populate, /version, /metrics.\n"
        "No link is needed at start.  What chaosrun cannot honour (an unknown "
        "field or\n"
        "attribute, a value out of range) is a 400, not dropped as Toxiproxy "
        "does\n"
        "(harness/proxy/README.md, \"Toxiproxy API\").\n"
        "Listeners and the API bind to loopback only, unless --allow-remote "
        "is given.\n"
        "A link's NETNS (a network namespace's path, e.g. /run/netns/NAME; "
        "root) makes\n"
        "its listener and its upstream connections in that namespace: a "
        "client there\n"
        "reaches LISTEN on its own loopback, UPSTREAM is routed from there.\n",
        fp);
}

/* "NAME=LISTEN,UPSTREAM[,NETNS]" into its strings (in place; *netns NULL
 * when absent). */
static int split_link(char *s, char **name, char **listen_addr, char **up,
                      char **netns)
{
    char *eq = strchr(s, '=');
    char *comma = eq ? strchr(eq, ',') : NULL;
    if (!eq || !comma)
        return -1;
    char *ns = strchr(comma + 1, ',');
    *eq = *comma = '\0';
    *name = s;
    *listen_addr = eq + 1;
    *up = comma + 1;
    *netns = NULL;
    if (ns) {
        *ns = '\0';
        if (!ns[1])
            return -1;
        *netns = ns + 1;
    }
    return 0;
}

/* The command line, parsed. */
typedef struct proxy_args {
    const char *listen_addr, *upstream, *name, *control, *api;
    int use_stdin, allow_remote;
    uint64_t seed;
    char **links, **toxics; /* argv strings */
    size_t nlinks, ntoxics;
} proxy_args;

/* Returns -1 when parsed, else the exit status (0 --help, 2 usage). */
static int parse_args(int argc, char **argv, proxy_args *a)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"upstream", required_argument, NULL, 'u'},
        {"name", required_argument, NULL, 'n'},
        {"link", required_argument, NULL, 'L'},
        {"control", required_argument, NULL, 'c'},
        {"stdin", no_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 's'},
        {"toxic", required_argument, NULL, 't'},
        {"toxiproxy-api", required_argument, NULL, 'A'},
        {"allow-remote", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;
    optind = 0; /* fresh GNU getopt state; argv[0] is "proxy" */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            a->listen_addr = optarg;
            break;
        case 'u':
            a->upstream = optarg;
            break;
        case 'n':
            a->name = optarg;
            break;
        case 'L':
            a->links[a->nlinks++] = optarg;
            break;
        case 'c':
            a->control = optarg;
            break;
        case 'i':
            a->use_stdin = 1;
            break;
        case 't':
            a->toxics[a->ntoxics++] = optarg;
            break;
        case 'A':
            a->api = optarg;
            break;
        case 'R':
            a->allow_remote = 1;
            break;
        case 's':
            errno = 0;
            a->seed = strtoull(optarg, &end, 0);
            if (!*optarg || *end || errno) {
                fprintf(stderr, "chaosrun proxy: --seed: not a number: %s\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (!a->listen_addr != !a->upstream) ||
        (!a->listen_addr && a->nlinks == 0 && !a->api)) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The proxy with its links and the toxics given on the command line.
 * Returns 0, 2 (a bad --link or --toxic, said on stderr) or a negative
 * code with e set. */
static int build(const proxy_args *a, cr_proxy *p, cr_err *e)
{
    cr_proxy_allow_remote(p, a->allow_remote);
    if (a->listen_addr &&
        cr_proxy_link_add(p, a->name, a->listen_addr, a->upstream, e) < 0)
        return e->code;
    for (size_t i = 0; i < a->nlinks; i++) {
        char *ln, *la, *lu, *ns;
        if (split_link(a->links[i], &ln, &la, &lu, &ns) < 0) {
            fprintf(stderr,
                    "chaosrun proxy: --link %s: expected "
                    "NAME=LISTEN,UPSTREAM[,NETNS]\n",
                    a->links[i]);
            return 2;
        }
        if (cr_proxy_link_add_in(p, ln, la, lu, ns, e) < 0)
            return e->code;
    }
    for (size_t i = 0; i < a->ntoxics; i++) {
        char line[4096];
        snprintf(line, sizeof line, "toxic add %s", a->toxics[i]);
        char *r = cr_proxy_command(p, line);
        int ok = r && strncmp(r, "ok", 2) == 0;
        if (!ok)
            fprintf(stderr, "chaosrun proxy: --toxic %s: %s\n", a->toxics[i],
                    r ? r : "out of memory");
        cr_free(r);
        if (!ok)
            return 2;
    }
    return 0;
}

/* Serve until SIGINT/SIGTERM: control channels, then the loop. *sfd
 * receives the signalfd (the caller closes it). */
static int serve(const proxy_args *a, cr_proxy *p, int *sfd, cr_err *e)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    *sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (*sfd < 0)
        return cr_err_sys(e, CR_ESYS, errno, "proxy: signalfd");
    if (cr_proxy_watch_stop(p, *sfd, e) < 0)
        return e->code;
    if (a->control && cr_proxy_control_listen(p, a->control, e) < 0)
        return e->code;
    if (a->api && cr_proxy_api_listen(p, a->api, e) < 0)
        return e->code;
    if ((a->use_stdin || !a->control) &&
        cr_proxy_control_stdio(p, STDIN_FILENO, STDOUT_FILENO, e) < 0)
        return e->code;
    json_t *lj = cr_proxy_links_json(p);
    json_t *arr = json_object_get(lj, "links");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *l = json_array_get(arr, i);
        fprintf(stderr, "chaosrun proxy: link %s: %s -> %s\n",
                json_string_value(json_object_get(l, "name")),
                json_string_value(json_object_get(l, "listen")),
                json_string_value(json_object_get(l, "upstream")));
    }
    json_decref(lj);
    if (a->api)
        fprintf(stderr, "chaosrun proxy: Toxiproxy API on port %d\n",
                cr_proxy_api_port(p));
    return cr_proxy_run(p, e) < 0 ? e->code : 0;
}

int cr_cli_proxy(int argc, char **argv)
{
    proxy_args a = {.name = "default"};
    int status = 4, sfd = -1, rc;
    cr_proxy *p = NULL;
    cr_err e;
    cr_err_clear(&e);
    a.links = cr_calloc((size_t)argc + 1, sizeof *a.links);
    a.toxics = cr_calloc((size_t)argc + 1, sizeof *a.toxics);
    if (!a.links || !a.toxics) {
        fprintf(stderr, "chaosrun proxy: out of memory\n");
        goto out;
    }
    if ((status = parse_args(argc, argv, &a)) >= 0)
        goto out;
    if ((rc = cr_proxy_create(a.seed, &p, &e)) == 0 &&
        (rc = build(&a, p, &e)) == 0)
        rc = serve(&a, p, &sfd, &e);
    if (rc < 0) {
        fprintf(stderr, "chaosrun proxy: %s\n", e.msg);
        status = cr_err_exit_status(e.code);
    } else {
        status = rc; /* 0, or 2 for a bad --link/--toxic */
    }
out:
    cr_proxy_destroy(p);
    if (sfd >= 0)
        close(sfd);
    cr_free(a.links);
    cr_free(a.toxics);
    return status;
}
