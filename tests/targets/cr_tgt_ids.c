/* cr_tgt_ids: a tiny pipeline that accepts numbered records and delivers
 * each about 200 ms later; the no_loss checker's end-to-end subject.
 *
 * Every --period-ms (default 20 ms) it accepts the next id (`accepted`
 * {id}); ids whose 200 ms are up are delivered (`delivered` {id}, half of
 * them written as strings to exercise id normalisation).  On SIGTERM it
 * delivers everything pending, then exits 0.
 *   --drop N   defect: id N is accepted but never delivered
 *   --dup N    defect: id N is delivered twice */
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
    long drop = -1, dup = -1;
    int period_ms = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--drop") && i + 1 < argc)
            drop = atol(argv[++i]);
        else if (!strcmp(argv[i], "--dup") && i + 1 < argc)
            dup = atol(argv[++i]);
        else if (!strcmp(argv[i], "--period-ms") && i + 1 < argc)
            period_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_ids: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cr_tgt_init(1);
    cr_tgt_emit("ready", NULL);
    static long q_id[QMAX];
    static double q_t[QMAX];
    size_t head = 0, tail = 0;
    long next = 0;
    char f[96];
    struct timespec ts = {0, period_ms * 1000000L};
    for (;;) {
        double now = cr_tgt_unix();
        while (head != tail && (cr_tgt_term || now - q_t[head % QMAX] >= 0.2)) {
            long id = q_id[head % QMAX];
            head++;
            if (id == drop)
                continue;
            if (id % 2)
                snprintf(f, sizeof f, "\"id\":\"%ld\",\"latency_ms\":%.1f", id,
                         (now - q_t[(head - 1) % QMAX]) * 1000);
            else
                snprintf(f, sizeof f, "\"id\":%ld,\"latency_ms\":%.1f", id,
                         (now - q_t[(head - 1) % QMAX]) * 1000);
            cr_tgt_emit("delivered", f);
            if (id == dup)
                cr_tgt_emit("delivered", f);
        }
        if (cr_tgt_term)
            break;
        if (tail - head < QMAX) {
            q_id[tail % QMAX] = next;
            q_t[tail % QMAX] = now;
            tail++;
            snprintf(f, sizeof f, "\"id\":%ld", next++);
            cr_tgt_emit("accepted", f);
        }
        nanosleep(&ts, NULL);
    }
    cr_tgt_emit("stopped", NULL);
    return 0;
}
