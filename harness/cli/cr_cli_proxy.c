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
        "                      [--link NAME=LISTEN,UPSTREAM]... [--control "
        "PATH]\n"
        "                      [--stdin] [--seed N] [--toxic 'LINK NAME TYPE "
        "k=v...']...\n"
        "Relays TCP connections from loopback listeners to upstream addresses "
        "and\n"
        "applies toxics given with --toxic or through the line protocol (on "
        "the\n"
        "control socket, and on stdin/stdout when --stdin is given or no "
        "--control).\n"
        "Type 'help' on the control channel for the commands.\n",
        fp);
}

/* "NAME=LISTEN,UPSTREAM" into the three strings (in place). */
static int split_link(char *s, char **name, char **listen_addr, char **up)
{
    char *eq = strchr(s, '=');
    char *comma = eq ? strchr(eq, ',') : NULL;
    if (!eq || !comma)
        return -1;
    *eq = *comma = '\0';
    *name = s;
    *listen_addr = eq + 1;
    *up = comma + 1;
    return 0;
}

int cr_cli_proxy(int argc, char **argv)
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_addr = NULL, *upstream = NULL, *name = "default";
    const char *control = NULL;
    int use_stdin = 0, status = 4, sfd = -1, opt;
    uint64_t seed = 0;
    cr_proxy *p = NULL;
    cr_err e;
    cr_err_clear(&e);
    char **links = cr_calloc((size_t)argc + 1, sizeof *links);
    char **toxics = cr_calloc((size_t)argc + 1, sizeof *toxics);
    size_t nlinks = 0, ntoxics = 0;
    if (!links || !toxics) {
        fprintf(stderr, "chaosrun proxy: out of memory\n");
        goto out;
    }
    optind = 0; /* fresh GNU getopt state; argv[0] is "proxy" */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen_addr = optarg;
            break;
        case 'u':
            upstream = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'L':
            links[nlinks++] = optarg;
            break;
        case 'c':
            control = optarg;
            break;
        case 'i':
            use_stdin = 1;
            break;
        case 't':
            toxics[ntoxics++] = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (!*optarg || *end || errno) {
                fprintf(stderr, "chaosrun proxy: --seed: not a number: %s\n",
                        optarg);
                status = 2;
                goto out;
            }
            break;
        }
        case 'h':
            usage(stdout);
            status = 0;
            goto out;
        default:
            usage(stderr);
            status = 2;
            goto out;
        }
    }
    if (optind < argc || (!listen_addr != !upstream) ||
        (!listen_addr && nlinks == 0)) {
        usage(stderr);
        status = 2;
        goto out;
    }
    if (cr_proxy_create(seed, &p, &e) < 0)
        goto fail;
    if (listen_addr &&
        cr_proxy_link_add(p, name, listen_addr, upstream, &e) < 0)
        goto fail;
    for (size_t i = 0; i < nlinks; i++) {
        char *ln, *la, *lu;
        if (split_link(links[i], &ln, &la, &lu) < 0) {
            fprintf(
                stderr,
                "chaosrun proxy: --link %s: expected NAME=LISTEN,UPSTREAM\n",
                links[i]);
            status = 2;
            goto out;
        }
        if (cr_proxy_link_add(p, ln, la, lu, &e) < 0)
            goto fail;
    }
    for (size_t i = 0; i < ntoxics; i++) {
        char line[4096];
        snprintf(line, sizeof line, "toxic add %s", toxics[i]);
        char *r = cr_proxy_command(p, line);
        if (!r || strncmp(r, "ok", 2) != 0) {
            fprintf(stderr, "chaosrun proxy: --toxic %s: %s\n", toxics[i],
                    r ? r : "out of memory");
            cr_free(r);
            status = 2;
            goto out;
        }
        cr_free(r);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        cr_err_sys(&e, CR_ESYS, errno, "proxy: signalfd");
        goto fail;
    }
    if (cr_proxy_watch_stop(p, sfd, &e) < 0)
        goto fail;
    if (control && cr_proxy_control_listen(p, control, &e) < 0)
        goto fail;
    if ((use_stdin || !control) &&
        cr_proxy_control_stdio(p, STDIN_FILENO, STDOUT_FILENO, &e) < 0)
        goto fail;
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
    if (cr_proxy_run(p, &e) < 0)
        goto fail;
    status = 0;
    goto out;
fail:
    fprintf(stderr, "chaosrun proxy: %s\n", e.msg);
    status = cr_err_exit_status(e.code);
out:
    cr_proxy_destroy(p);
    if (sfd >= 0)
        close(sfd);
    cr_free(links);
    cr_free(toxics);
    return status;
}
