/* cr_tgt_clock: prints its view of the clocks, for the clock fault's
 * end-to-end test.  Every --every-ms (default 50) one line
 *   clock real=<CLOCK_REALTIME s> mono=<CLOCK_MONOTONIC s>
 *         boot=<CLOCK_BOOTTIME s> time=<time(NULL)>
 * on stdout (flushed), after "clock ready".  Dynamically linked, so
 * libfaketime reaches its wall clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long every_ms = 50;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--every-ms"))
            every_ms = atol(argv[++i]);
    if (every_ms < 1)
        every_ms = 1;
    printf("clock ready\n");
    fflush(stdout);
    for (;;) {
        /* The wall clock read between two monotonic readings, mono their
         * midpoint: of 5 tries the one least spread (a preemption between
         * two readings -- libfaketime reads its file in between -- would
         * put them milliseconds apart). */
        double real = 0, mono = 0, best = -1;
        for (int k = 0; k < 5; k++) {
            double m1 = now(CLOCK_MONOTONIC), rl = now(CLOCK_REALTIME);
            double m2 = now(CLOCK_MONOTONIC);
            if (best < 0 || m2 - m1 < best) {
                best = m2 - m1;
                real = rl;
                mono = (m1 + m2) / 2;
            }
            if (best < 2e-4)
                break;
        }
        printf("clock real=%.6f mono=%.6f boot=%.6f time=%lld\n", real, mono,
               now(CLOCK_BOOTTIME), (long long)time(NULL));
        fflush(stdout);
        struct timespec d = {every_ms / 1000, (every_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
}
