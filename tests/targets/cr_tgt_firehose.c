/* cr_tgt_firehose: writes events and log lines fast, for the rotation
 * test (tests/e2e/core_rotate.sh): every 10 ms a batch of `accepted` {id}
 * and `delivered` {id} lines in one write(), and log lines on stdout
 * ("<unix time> processed id N ..."), at about --kbps and --log-kbps.
 * Whatever it writes to the event file and to its log it also writes to
 * --copy and --log-copy, so the test can compare what chaosrun kept with
 * what was written.  On SIGTERM: `stopped`, exit 0.
 *   --drop N   defect: id N is accepted but never delivered */
#include "lib/cr_tgt.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes per line: fewer events a megabyte, so that the run and its
 * reports stay quick. */
#define FOX4                                                                   \
    "the quick brown fox jumps over the lazy dog; the quick brown fox "        \
    "jumps over the lazy dog; the quick brown fox jumps over the lazy dog; "   \
    "the quick brown fox jumps over the lazy dog"
#define PAD FOX4 "; " FOX4 "; " FOX4

static void put(int fd, int copy, const char *p, size_t n)
{
    if (fd >= 0 && write(fd, p, n) != (ssize_t)n)
        perror("firehose write");
    if (copy >= 0 && write(copy, p, n) != (ssize_t)n)
        perror("firehose copy");
}

static int open_copy(const char *path)
{
    if (!path)
        return -1;
    int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        perror(path);
    return fd;
}

int main(int argc, char **argv)
{
    long drop = -1;
    double kbps = 1500, log_kbps = 400;
    const char *copy = NULL, *log_copy = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--drop") && i + 1 < argc)
            drop = atol(argv[++i]);
        else if (!strcmp(argv[i], "--kbps") && i + 1 < argc)
            kbps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--log-kbps") && i + 1 < argc)
            log_kbps = atof(argv[++i]);
        else if (!strcmp(argv[i], "--copy") && i + 1 < argc)
            copy = argv[++i];
        else if (!strcmp(argv[i], "--log-copy") && i + 1 < argc)
            log_copy = argv[++i];
        else {
            fprintf(stderr, "cr_tgt_firehose: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cr_tgt_init(1);
    const char *path = getenv("CHAOSRUN_EVENTS");
    const char *svc = getenv("CHAOSRUN_SERVICE");
    const char *inst = getenv("CHAOSRUN_INSTANCE");
    int evfd =
        path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    int cfd = open_copy(copy), lcfd = open_copy(log_copy);
    static char batch[1 << 20], logb[1 << 18];
    long next = 0;
    double t_last = cr_tgt_mono(), ev_debt = 0, log_debt = 0;
    while (!cr_tgt_term) {
        double now = cr_tgt_mono(), ts = cr_tgt_unix();
        ev_debt += (now - t_last) * kbps * 1000;
        log_debt += (now - t_last) * log_kbps * 1000;
        t_last = now;
        size_t n = 0, ln = 0;
        while (ev_debt > 0 && n + 2048 < sizeof batch) {
            long id = next++;
            int k = snprintf(batch + n, sizeof batch - n,
                             "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\","
                             "\"ev\":\"accepted\",\"id\":%ld}\n",
                             ts, svc, inst, id);
            n += (size_t)k;
            if (id != drop)
                n += (size_t)snprintf(
                    batch + n, sizeof batch - n,
                    "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\","
                    "\"ev\":\"delivered\",\"id\":%ld,\"pad\":\"%s\"}\n",
                    ts + 1e-6, svc, inst, id, PAD);
            ev_debt -= (double)k * 2 + sizeof PAD;
        }
        while (log_debt > 0 && ln + 200 < sizeof logb) {
            int m = snprintf(logb + ln, sizeof logb - ln,
                             "%.6f processed id %ld (the quick brown fox "
                             "jumps over the lazy dog)\n",
                             ts, next - 1);
            ln += (size_t)m;
            log_debt -= m;
        }
        put(evfd, cfd, batch, n);
        put(1, lcfd, logb, ln);
        cr_tgt_sleep_ms(10);
    }
    char line[256];
    int k = snprintf(line, sizeof line,
                     "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\","
                     "\"ev\":\"stopped\"}\n",
                     cr_tgt_unix(), svc, inst);
    put(evfd, cfd, line, (size_t)k);
    return 0;
}
