/* bench_rotate: the harness's CPU cost of rotating the event file
 * (base/cr_seg.c), side by side with what it already spends on the same
 * bytes: parsing them into the compact history (events/cr_event.c).
 *
 *   bench_rotate [MB] [REPS] [LEVEL...]     (default 64 3 1 3)
 *
 * Each repetition writes MB of event lines (the reference pipeline's mix:
 * accepted / delivered with ids, retries with errors) to a fresh file in
 * $TMPDIR (default /tmp), then, interleaved: parses every line
 * (cr_history_add_line), and cuts the whole file into one segment at each
 * level (cr_seg_cut: zstd, fsync, index, hole punch).  Process CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) and wall time; medians over REPS. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_seg.h"
#include "events/cr_event.h"

#define MAXLV 8

static double clk(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* MB of event lines into dir/events.live.jsonl (made anew). */
static size_t gen(int dfd, size_t mb)
{
    unlinkat(dfd, "events.live.jsonl", 0);
    unlinkat(dfd, "events.segments", 0);
    unlinkat(dfd, "events.1.jsonl.zst", 0);
    int fd =
        openat(dfd, "events.live.jsonl", O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        perror("events.live.jsonl");
        exit(1);
    }
    static char buf[1 << 16];
    size_t n = 0, len = 0, want = mb << 20;
    double ts = 1764200000.0;
    for (long id = 0; n + len < want; id++) {
        ts += 0.000137;
        const char *inst = id % 4 == 0 ? "worker.0" : "worker.1";
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "{\"ts\":%.6f,\"svc\":\"ingest\",\"ev\":"
                                "\"accepted\",\"id\":\"r%ld\"}\n",
                                ts, id);
        len += (size_t)snprintf(
            buf + len, sizeof buf - len,
            "{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"%s\",\"ev\":"
            "\"delivered\",\"id\":\"r%ld\",\"latency_ms\":%.1f}\n",
            ts + 0.01, inst, id, (double)(id % 97) * 1.3);
        if (id % 50 == 0)
            len += (size_t)snprintf(
                buf + len, sizeof buf - len,
                "{\"ts\":%.6f,\"svc\":\"worker\",\"inst\":\"%s\",\"ev\":"
                "\"retry\",\"op\":\"features\",\"attempt\":%ld,"
                "\"delay_ms\":%ld,\"error\":\"timeout after 200 ms\"}\n",
                ts, inst, id % 5 + 1, (id % 5 + 1) * 100);
        if (len > sizeof buf - 1024) {
            if (write(fd, buf, len) != (ssize_t)len)
                exit(1);
            n += len;
            len = 0;
        }
    }
    if (write(fd, buf, len) != (ssize_t)len)
        exit(1);
    n += len;
    close(fd);
    return n;
}

/* Parse every line of the file; CPU seconds. */
static double parse(int dfd, size_t *events)
{
    int fd = openat(dfd, "events.live.jsonl", O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    char *text = malloc((size_t)st.st_size);
    if (!text || read(fd, text, (size_t)st.st_size) != st.st_size)
        exit(1);
    close(fd);
    cr_history h;
    cr_history_init(&h, 1764200000.0);
    double c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    for (char *p = text, *end = text + st.st_size; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        cr_history_add_line(&h, p, (size_t)(nl - p));
        p = nl + 1;
    }
    double c = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *events = h.n;
    cr_history_free(&h);
    free(text);
    return c;
}

/* Cut the whole file at level; CPU and wall seconds, compressed bytes. */
static void cut(int dfd, int level, size_t size, double *cpu, double *wall,
                uint64_t *zbytes)
{
    cr_seg *s;
    cr_err e;
    cr_err_clear(&e);
    if (cr_seg_open(&s, dfd, "events.live.jsonl", level, 1, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        exit(e.code == CR_EUNSUP ? 77 : 1);
    }
    double c0 = clk(CLOCK_PROCESS_CPUTIME_ID), w0 = clk(CLOCK_MONOTONIC);
    if (cr_seg_cut(s, size, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    *cpu = clk(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *wall = clk(CLOCK_MONOTONIC) - w0;
    *zbytes = cr_seg_get(s, 0)->bytes;
    cr_seg_close(s);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 64;
    int reps = argc > 2 ? atoi(argv[2]) : 3, nl = 0, levels[MAXLV];
    for (int i = 3; i < argc && nl < MAXLV; i++)
        levels[nl++] = atoi(argv[i]);
    if (!nl) {
        levels[nl++] = 1;
        levels[nl++] = 3;
    }
    if (mb < 1 || reps < 1 || reps > 64)
        return 2;
    char dir[] = "/tmp/bench_rotate.XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_rotate.XXXXXX", tmp ? tmp : "/tmp");
    char *d = mkdtemp(tmp ? path : dir);
    int dfd = d ? open(d, O_DIRECTORY) : -1;
    if (dfd < 0) {
        perror("mkdtemp");
        return 1;
    }
    double pc[64], cc[MAXLV][64], cw[MAXLV][64], zr[MAXLV];
    size_t size = 0, events = 0;
    for (int r = 0; r < reps; r++) {
        size = gen(dfd, mb);
        pc[r] = parse(dfd, &events);
        for (int l = 0; l < nl; l++) {
            uint64_t z;
            size = gen(dfd, mb);
            cut(dfd, levels[l], size, &cc[l][r], &cw[l][r], &z);
            zr[l] = (double)size / (double)z;
        }
    }
    double p = median(pc, reps);
    printf("%zu MB of event lines (%zu events), %d reps, medians\n", mb, events,
           reps);
    printf("%-22s %9s %9s %9s %10s %7s\n", "", "CPU s", "wall s", "MB/s CPU",
           "vs parse", "ratio");
    printf("%-22s %9.3f %9s %9.1f %10s %7s\n", "parse (baseline)", p, "-",
           (double)mb / p, "1.00", "-");
    for (int l = 0; l < nl; l++) {
        double c = median(cc[l], reps), w = median(cw[l], reps);
        char name[32];
        snprintf(name, sizeof name, "cut, zstd -%d", levels[l]);
        printf("%-22s %9.3f %9.3f %9.1f %10.2f %6.1fx\n", name, c, w,
               (double)mb / c, c / p, zr[l]);
    }
    unlinkat(dfd, "events.live.jsonl", 0);
    unlinkat(dfd, "events.segments", 0);
    unlinkat(dfd, "events.1.jsonl.zst", 0);
    close(dfd);
    rmdir(d);
    return 0;
}
