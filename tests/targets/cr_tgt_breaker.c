/* cr_tgt_breaker: a client with a circuit breaker in front of a
 * dependency (the "dep" service, $CHAOSRUN_ADDR_DEP); the breaker
 * checker's end-to-end subject.
 *
 * Calls every 30 ms with a 50 ms timeout.  Closed: 3 consecutive failures
 * open it.  Open: calls are rejected (`rejected`) for 0.5 s, then
 * half_open: one trial call; success closes, failure opens again.  Each
 * real call is reported as `call` {name: "dep"}; state changes as
 * `breaker` {name: "dep", state}.
 *   --never-open   defect: the breaker never opens (keeps calling) */
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

enum { CLOSED, OPEN, HALF };
static const char *const names[] = {"closed", "open", "half_open"};

static void set_state(int *st, int to)
{
    char f[96];
    snprintf(f, sizeof f, "\"name\":\"dep\",\"state\":\"%s\"", names[to]);
    cr_tgt_emit("breaker", f);
    *st = to;
}

int main(int argc, char **argv)
{
    int never_open = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--never-open"))
            never_open = 1;
        else {
            fprintf(stderr, "cr_tgt_breaker: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *addr = getenv("CHAOSRUN_ADDR_DEP");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "cr_tgt_breaker: CHAOSRUN_ADDR_DEP not set\n");
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1))};
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return 2;
    cr_tgt_init(1);
    cr_tgt_emit("ready", NULL);
    int st = CLOSED, fails = 0;
    double opened = 0;
    while (!cr_tgt_term) {
        if (st == OPEN) {
            if (cr_tgt_mono() - opened >= 0.5) {
                set_state(&st, HALF);
                continue;
            }
            cr_tgt_emit("rejected", "\"name\":\"dep\"");
        } else {
            cr_tgt_emit("call", "\"name\":\"dep\"");
            int ok = cr_tgt_http_ok(&a, 50);
            if (ok) {
                cr_tgt_emit("served", "\"op\":\"dep\"");
                fails = 0;
                if (st == HALF)
                    set_state(&st, CLOSED);
            } else if (st == HALF) {
                set_state(&st, OPEN);
                opened = cr_tgt_mono();
            } else if (++fails >= 3 && !never_open) {
                set_state(&st, OPEN);
                opened = cr_tgt_mono();
                fails = 0;
            }
        }
        cr_tgt_sleep_ms(30);
    }
    cr_tgt_emit("stopped", NULL);
    return 0;
}
