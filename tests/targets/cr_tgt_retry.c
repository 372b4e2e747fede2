/* cr_tgt_retry: a client that calls a dependency over HTTP and retries
 * with exponential backoff (base 50 ms, factor 2, cap 400 ms, 4 attempts
 * in all, full jitter), reporting `retry`, `giveup` and `served` events;
 * the backoff checker's end-to-end subject.
 *
 * The dependency is $CHAOSRUN_ADDR_DEP (host:port, the "dep" service).
 * A call fails when no "200" answer arrives within 50 ms.
 *   --no-jitter    defect: always wait the full nominal delay
 *   --too-many     defect: give up only after 5 attempts (one too many)
 *   --seed N       jitter seed (default $CHAOSRUN_SEED) */
#include "lib/cr_tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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
    int no_jitter = 0, max_attempts = 4;
    unsigned seed = getenv("CHAOSRUN_SEED")
                        ? (unsigned)strtoul(getenv("CHAOSRUN_SEED"), NULL, 10)
                        : 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-jitter"))
            no_jitter = 1;
        else if (!strcmp(argv[i], "--too-many"))
            max_attempts = 5;
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "cr_tgt_retry: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *addr = getenv("CHAOSRUN_ADDR_DEP");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "cr_tgt_retry: CHAOSRUN_ADDR_DEP not set\n");
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1))};
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "cr_tgt_retry: bad address %s\n", addr);
        return 2;
    }
    cr_tgt_init(1);
    srand(seed);
    cr_tgt_emit("ready", NULL);
    char f[160];
    while (!cr_tgt_term) {
        int attempt = 1;
        for (;;) {
            if (cr_tgt_http_ok(&a, 50)) {
                cr_tgt_emit("served", "\"op\":\"dep\"");
                break;
            }
            if (attempt >= max_attempts) {
                snprintf(f, sizeof f,
                         "\"op\":\"dep\",\"attempts\":%d,\"error\":\"timeout\"",
                         attempt);
                cr_tgt_emit("giveup", f);
                break;
            }
            double t = 50.0 * (1 << (attempt - 1));
            if (t > 400)
                t = 400;
            int d = no_jitter ? (int)t : rand() % ((int)t + 1);
            snprintf(f, sizeof f,
                     "\"op\":\"dep\",\"attempt\":%d,\"delay_ms\":%d,\"error\":"
                     "\"timeout\"",
                     attempt, d);
            cr_tgt_emit("retry", f);
            cr_tgt_sleep_ms(d);
            if (cr_tgt_term)
                break;
            attempt++;
        }
        cr_tgt_sleep_ms(30);
    }
    cr_tgt_emit("stopped", NULL);
    return 0;
}
