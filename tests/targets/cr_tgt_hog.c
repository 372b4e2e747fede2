/* cr_tgt_hog: a consumer of one resource, the subject of the resource
 * faults' end-to-end tests.  Reports what it achieved as events:
 *
 *   spin   a CPU-bound loop; every --report-ms (default 200) of wall time
 *          `spin` {n: loop iterations, ms: wall time they took, cpu_ms:
 *          CPU time the process got meanwhile}, so the rate n/ms falls
 *          when the CPU is throttled, and n/cpu_ms is what the loop does
 *          with a whole CPU;
 *   alloc  allocates and touches --step-mb MiB (default 4) every
 *          --step-ms (default 50) and keeps it: `allocated` {mb: total};
 *          the kernel's OOM killer ends it once a memory limit bites;
 *   fork   every --step-ms (default 50) forks a child that lives 300 ms:
 *          `forked` {} or `fork_failed` {errno: "EAGAIN"};
 *   write  every --step-ms (default 50) writes a new file of --kb KiB
 *          (default 256) in --dir (relative to $CHAOSRUN_RUN_DIR), fsyncs
 *          it and removes the previous one: `written` {} or `write_failed`
 *          {errno: "ENOSPC"} (the partial file is removed, the previous
 *          one kept), so it needs --kb of free space to go on;
 *   dio    writes --kb KiB (default 64) with O_DIRECT into
 *          $CHAOSRUN_RUN_DIR/hog-dio.dat (cycling over 4 MiB), pausing
 *          --step-ms (default 10) between writes; every --report-ms of
 *          wall time `io` {bytes, ms}, so the rate bytes/ms falls when
 *          its block I/O is throttled;
 *   beat   forks a child that leaves the process group (setsid) and ends
 *          when its parent is gone; both emit `beat` {who: "parent" or
 *          "child", pid} every --step-ms (default 50): what a pause of
 *          the process group misses and a freeze of the cgroup does not.
 * It runs until SIGTERM. */
#include "lib/cr_tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* CPU time of this process, in ms. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static int spin(double report_ms)
{
    volatile unsigned long long x = 0;
    while (!cr_tgt_term) {
        double t0 = cr_tgt_mono(), t, c0 = cpu_ms();
        long long n = 0;
        do {
            for (int k = 0; k < 10000; k++)
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            n++;
            t = cr_tgt_mono();
        } while ((t - t0) * 1000 < report_ms && !cr_tgt_term);
        char f[128];
        snprintf(f, sizeof f, "\"n\":%lld,\"ms\":%.3f,\"cpu_ms\":%.3f", n,
                 (t - t0) * 1000, cpu_ms() - c0);
        cr_tgt_emit("spin", f);
    }
    return 0;
}

static int alloc(int step_mb, double step_ms)
{
    long long total = 0;
    while (!cr_tgt_term) {
        size_t sz = (size_t)step_mb << 20;
        char *p = malloc(sz);
        if (!p) {
            cr_tgt_emit("alloc_failed", NULL);
        } else {
            memset(p, 1, sz); /* touched: really charged to the cgroup */
            total += step_mb;
            char f[64];
            snprintf(f, sizeof f, "\"mb\":%lld", total);
            cr_tgt_emit("allocated", f);
        }
        cr_tgt_sleep_ms(step_ms);
    }
    return 0;
}

static int forker(double step_ms)
{
    while (!cr_tgt_term) {
        pid_t c = fork();
        if (c == 0) {
            usleep(300 * 1000);
            _exit(0);
        }
        if (c < 0) {
            char f[64];
            snprintf(f, sizeof f, "\"errno\":\"%s\"",
                     errno == EAGAIN ? "EAGAIN" : strerror(errno));
            cr_tgt_emit("fork_failed", f);
        } else {
            cr_tgt_emit("forked", NULL);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        cr_tgt_sleep_ms(step_ms);
    }
    while (wait(NULL) > 0) {
    }
    return 0;
}

/* One step of `write`: 0 written, else the errno. */
static int write_file(const char *path, const char *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    size_t off = 0;
    int e = 0;
    while (off < len && !e) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    close(fd);
    if (e)
        unlink(path);
    return e;
}

static int writer(const char *dir, int kb, double step_ms)
{
    const char *rd = getenv("CHAOSRUN_RUN_DIR");
    char prev[4200] = "", cur[4200];
    size_t len = (size_t)kb * 1024;
    char *buf = malloc(len);
    if (!buf)
        return 1;
    memset(buf, 'x', len);
    for (long n = 0; !cr_tgt_term; n++) {
        snprintf(cur, sizeof cur, "%s%s%s/w-%ld",
                 dir[0] == '/' ? ""
                 : rd          ? rd
                               : ".",
                 dir[0] == '/' ? "" : "/", dir, n);
        int e = write_file(cur, buf, len);
        if (e == 0) {
            if (prev[0])
                unlink(prev);
            snprintf(prev, sizeof prev, "%s", cur);
            cr_tgt_emit("written", NULL);
        } else {
            char f[64];
            snprintf(f, sizeof f, "\"errno\":\"%s\"",
                     e == ENOSPC ? "ENOSPC" : strerror(e));
            cr_tgt_emit("write_failed", f);
        }
        cr_tgt_sleep_ms(step_ms);
    }
    free(buf);
    return 0;
}

static int dio(int kb, double step_ms, double report_ms)
{
    const char *rd = getenv("CHAOSRUN_RUN_DIR");
    char path[4200];
    size_t len = (size_t)kb * 1024;
    void *buf = NULL;
    snprintf(path, sizeof path, "%s/hog-dio.dat", rd ? rd : ".");
    int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
    if (fd < 0 || posix_memalign(&buf, 4096, len) != 0) {
        fprintf(stderr, "cr_tgt_hog dio: %s: %s\n", path, strerror(errno));
        return 2;
    }
    memset(buf, 'd', len);
    long slot = 0, slots = (4L << 20) / (long)len;
    while (!cr_tgt_term) {
        double t0 = cr_tgt_mono(), t;
        long long bytes = 0;
        do {
            ssize_t w = pwrite(fd, buf, len, (off_t)(slot++ % slots) * len);
            if (w < 0) {
                fprintf(stderr, "cr_tgt_hog dio: write: %s\n", strerror(errno));
                return 2;
            }
            bytes += w;
            cr_tgt_sleep_ms(step_ms);
            t = cr_tgt_mono();
        } while ((t - t0) * 1000 < report_ms && !cr_tgt_term);
        char f[96];
        snprintf(f, sizeof f, "\"bytes\":%lld,\"ms\":%.3f", bytes,
                 (t - t0) * 1000);
        cr_tgt_emit("io", f);
    }
    close(fd);
    unlink(path);
    free(buf);
    return 0;
}

static int beat(double step_ms)
{
    pid_t parent = getpid();
    char f[64];
    pid_t c = fork();
    if (c < 0)
        return 1;
    if (c == 0) {
        if (setsid() < 0)
            _exit(1);
        snprintf(f, sizeof f, "\"who\":\"child\",\"pid\":%d", (int)getpid());
        while (getppid() == parent) {
            cr_tgt_emit("beat", f);
            cr_tgt_sleep_ms(step_ms);
        }
        _exit(0);
    }
    snprintf(f, sizeof f, "\"who\":\"parent\",\"pid\":%d", (int)parent);
    while (!cr_tgt_term) {
        cr_tgt_emit("beat", f);
        cr_tgt_sleep_ms(step_ms);
    }
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    int kb = 0;                           /* 0: the mode's default */
    double report_ms = 200, step_ms = -1; /* -1: the mode's default */
    int step_mb = 4;
    if (argc < 2) {
        fprintf(stderr,
                "usage: cr_tgt_hog spin|alloc|fork|write|dio [options]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--report-ms") && i + 1 < argc)
            report_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--step-ms") && i + 1 < argc)
            step_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--kb") && i + 1 < argc)
            kb = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--step-mb") && i + 1 < argc)
            step_mb = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_hog: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cr_tgt_init(1);
    printf("cr_tgt_hog %s started\n", argv[1]);
    fflush(stdout);
    if (!strcmp(argv[1], "spin"))
        return spin(report_ms);
    if (!strcmp(argv[1], "alloc"))
        return alloc(step_mb, step_ms >= 0 ? step_ms : 50);
    if (!strcmp(argv[1], "fork"))
        return forker(step_ms >= 0 ? step_ms : 50);
    if (!strcmp(argv[1], "write"))
        return writer(dir, kb > 0 ? kb : 256, step_ms >= 0 ? step_ms : 50);
    if (!strcmp(argv[1], "beat"))
        return beat(step_ms >= 0 ? step_ms : 50);
    if (!strcmp(argv[1], "dio"))
        return dio(kb > 0 ? kb : 64, step_ms >= 0 ? step_ms : 10, report_ms);
    fprintf(stderr, "cr_tgt_hog: unknown mode %s\n", argv[1]);
    return 2;
}
