/* cr_tgt_server: a tiny service for the harness's own end-to-end tests.
 *
 * Listens on $CHAOSRUN_PORT (or --port), answers every HTTP request with
 * "200 OK" and a small JSON body, prints "listening on PORT" once ready and
 * writes chaosrun events: `ready`, a `tick` {n} every --tick-ms, and
 * `stopping`/`stopped` on SIGTERM (graceful: finishes, exits 0).
 *
 *   --port N         port (default $CHAOSRUN_PORT)
 *   --ready-delay S  wait S seconds before listening
 *   --tick-ms N      tick period (default 100)
 *   --exit-after S   exit(3) after S seconds (a crash)
 *   --ignore-term    ignore SIGTERM (forces the harness to SIGKILL)
 *   --spawn-child    fork a child that sleeps forever in the same group
 *   --any            listen on every address (default: loopback only), and
 *                    emit `peer` {addr} for each connection (who reached it:
 *                    through a proxy link, the proxy's side)
 */
#include "lib/cr_tgt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = getenv("CHAOSRUN_PORT") ? atoi(getenv("CHAOSRUN_PORT")) : 0;
    double ready_delay = 0, exit_after = -1;
    int tick_ms = 100, ignore_term = 0, spawn_child = 0, any = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ready-delay") && i + 1 < argc)
            ready_delay = atof(argv[++i]);
        else if (!strcmp(argv[i], "--tick-ms") && i + 1 < argc)
            tick_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--exit-after") && i + 1 < argc)
            exit_after = atof(argv[++i]);
        else if (!strcmp(argv[i], "--ignore-term"))
            ignore_term = 1;
        else if (!strcmp(argv[i], "--spawn-child"))
            spawn_child = 1;
        else if (!strcmp(argv[i], "--any"))
            any = 1;
        else {
            fprintf(stderr, "cr_tgt_server: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (port <= 0) {
        fprintf(stderr, "cr_tgt_server: no port (--port or CHAOSRUN_PORT)\n");
        return 2;
    }
    cr_tgt_init(!ignore_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (spawn_child && fork() == 0) {
        for (;;)
            pause();
    }
    if (ready_delay > 0) {
        struct timespec ts = {(time_t)ready_delay,
                              (long)((ready_delay - (long)ready_delay) * 1e9)};
        nanosleep(&ts, NULL);
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr =
                                htonl(any ? INADDR_ANY : INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0) {
        fprintf(stderr, "cr_tgt_server: port %d: %s\n", port, strerror(errno));
        return 1;
    }
    printf("listening on %d\n", port);
    cr_tgt_emit("ready", NULL);
    double start = cr_tgt_mono(), next_tick = start;
    long n = 0;
    while (!cr_tgt_term) {
        if (exit_after >= 0 && cr_tgt_mono() - start >= exit_after) {
            printf("crashing on purpose\n");
            return 3;
        }
        double wait = next_tick - cr_tgt_mono();
        int to = wait > 0 ? (int)(wait * 1000) : 0;
        struct pollfd p = {.fd = ls, .events = POLLIN};
        int pr = poll(&p, 1, to);
        if (pr > 0) {
            struct sockaddr_in pa;
            socklen_t pl = sizeof pa;
            int c = accept4(ls, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC);
            if (c >= 0 && any) {
                char ip[INET_ADDRSTRLEN], f[64];
                inet_ntop(AF_INET, &pa.sin_addr, ip, sizeof ip);
                snprintf(f, sizeof f, "\"addr\":\"%s\"", ip);
                cr_tgt_emit("peer", f);
            }
            if (c >= 0) {
                char buf[2048];
                struct pollfd cp = {.fd = c, .events = POLLIN};
                if (poll(&cp, 1, 1000) > 0 && read(c, buf, sizeof buf) > 0) {
                    const char *body = "{\"status\":\"ok\"}";
                    char resp[256];
                    int k = snprintf(resp, sizeof resp,
                                     "HTTP/1.0 200 OK\r\nContent-Type: "
                                     "application/json\r\nContent-Length: "
                                     "%zu\r\n\r\n%s",
                                     strlen(body), body);
                    if (write(c, resp, (size_t)k) < 0)
                        perror("write");
                }
                close(c);
            }
        }
        if (cr_tgt_mono() >= next_tick) {
            char f[64];
            snprintf(f, sizeof f, "\"n\":%ld", n++);
            cr_tgt_emit("tick", f);
            next_tick += tick_ms / 1000.0;
        }
    }
    cr_tgt_emit("stopping", NULL);
    printf("stopping gracefully\n");
    close(ls);
    cr_tgt_emit("stopped", NULL);
    return 0;
}
