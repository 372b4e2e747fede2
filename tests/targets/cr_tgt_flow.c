/* cr_tgt_flow: a test service that reports a stream of records through the
 * event contract, so that report tests on real runs have something to
 * chart.
 *
 * Every --period-ms it accepts a record (`accepted` {id, latency_ms}) and
 * delivers those accepted more than --lag-ms ago (`delivered` {id,
 * latency_ms}).  When its loop notices a stall (it was paused, or starved)
 * longer than 200 ms it reports what a client with a circuit breaker would:
 * `retry` events, the breaker `open`, then `half_open` and `closed` once the
 * backlog is delivered.  It prints one log line per event of interest and
 * "flowing" when ready.  SIGTERM ends it cleanly.  Deterministic apart from
 * timing: no randomness. */
#include "lib/cr_tgt.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QMAX 4096

int main(int argc, char **argv)
{
    int period_ms = 20, lag_ms = 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--period-ms") && i + 1 < argc)
            period_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lag-ms") && i + 1 < argc)
            lag_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_flow: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cr_tgt_init(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *inst = getenv("CHAOSRUN_INSTANCE");
    printf("flowing (%s)\n", inst ? inst : "?");
    cr_tgt_emit("ready", NULL);

    static double qt[QMAX];
    static long qid[QMAX];
    size_t head = 0, tail = 0;
    long next_id = 1;
    int breaker_open = 0;
    double last = cr_tgt_mono(), reopen_at = 0;
    char f[256];
    while (!cr_tgt_term) {
        struct timespec ts = {0, (long)period_ms * 1000000L};
        nanosleep(&ts, NULL);
        double now = cr_tgt_mono(), gap = now - last;
        last = now;
        if (gap > 0.2) { /* we were stopped: the calls in flight timed out */
            int attempts = (int)(gap / 0.25) + 1;
            for (int a = 1; a <= attempts && a <= 6; a++) {
                snprintf(f, sizeof f,
                         "\"op\":\"deliver\",\"attempt\":%d,"
                         "\"delay_ms\":%d,\"error\":\"timeout\"",
                         a, 50 << (a - 1));
                cr_tgt_emit("retry", f);
            }
            printf(
                "WARN stalled %.0f ms: %d deliveries timed out, breaker open\n",
                gap * 1000, attempts);
            cr_tgt_emit("breaker", "\"name\":\"sink\",\"state\":\"open\"");
            breaker_open = 1;
            reopen_at = now + 0.3;
        }
        if (breaker_open == 1 && now >= reopen_at) {
            cr_tgt_emit("breaker", "\"name\":\"sink\",\"state\":\"half_open\"");
            printf("INFO breaker half-open, probing the sink\n");
            breaker_open = 2;
        }
        /* accept one record */
        if ((tail + 1) % QMAX != head) {
            qt[tail] = now;
            qid[tail] = next_id;
            snprintf(f, sizeof f, "\"id\":\"%s-%ld\",\"latency_ms\":%.2f",
                     inst ? inst : "?", next_id,
                     1.0 + (double)(next_id % 7) * 0.4);
            cr_tgt_emit("accepted", f);
            next_id++;
            tail = (tail + 1) % QMAX;
        }
        /* deliver what is old enough, unless the breaker is open */
        while (breaker_open != 1 && head != tail &&
               now - qt[head] >= lag_ms / 1000.0) {
            snprintf(f, sizeof f, "\"id\":\"%s-%ld\",\"latency_ms\":%.2f",
                     inst ? inst : "?", qid[head], (now - qt[head]) * 1000);
            cr_tgt_emit("delivered", f);
            head = (head + 1) % QMAX;
        }
        size_t queued = (tail + QMAX - head) % QMAX;
        if (breaker_open == 2 && queued <= (size_t)(lag_ms / period_ms + 2)) {
            cr_tgt_emit("breaker", "\"name\":\"sink\",\"state\":\"closed\"");
            printf("INFO backlog delivered, breaker closed\n");
            breaker_open = 0;
        }
    }
    cr_tgt_emit("stopping", NULL);
    printf("stopping after %ld records\n", next_id - 1);
    cr_tgt_emit("stopped", NULL);
    return 0;
}
