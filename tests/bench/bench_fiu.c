/* bench_fiu: what libfiu costs a service and how fast a fault is armed.
 *
 * 1. Launch cost: helper_fiu_writes (N 64-byte writes to /dev/null) run
 *    alternately without and with LD_PRELOAD="fiu_run_preload.so
 *    fiu_posix_preload.so" + FIU_CTRL_FIFO, nothing armed, R rounds side by
 *    side; medians of the whole process's wall time and of the per-write
 *    time it measures itself; the ratios are what matters.
 * 2. Arm latency: one helper under the preload; C cycles of "connect,
 *    enable posix/io/rw/write with ENOSPC, reply" and the same for disable,
 *    as the syscall fault does (cr_fiu); median and p99 of the time from
 *    the start of the cycle (the scheduled instant, as far as the backend
 *    is concerned) to the reply (the point is armed before libfiu replies).
 *    The engine's own timer lateness comes on top: tests/bench/fiu_arm.sh
 *    measures scheduled -> armed through chaosrun.
 *
 * Usage: bench_fiu [N writes, default 200000] [R rounds, default 15]
 *                  [C cycles, default 1000]
 * Run from the build directory (finds bin/helper_fiu_writes next to it,
 * built from tests/targets/fiu/). */
#include "faults/syscall/cr_fiu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_d);
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k];
}

static char g_helper[PATH_MAX + 32], g_preload[2 * PATH_MAX + 64],
    g_fifo[PATH_MAX + 32];

/* Run the helper once; *wall = process wall time, *inner = its own ns. */
static int run_once(int preload, long n, double *wall, double *inner)
{
    int p[2];
    char nbuf[32], out[64] = "";
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        char *argv[] = {g_helper, nbuf, NULL};
        char *env_pre[] = {g_preload, g_fifo, NULL};
        char *env_none[] = {NULL};
        execve(g_helper, argv, preload ? env_pre : env_none);
        _exit(127);
    }
    close(p[1]);
    ssize_t k = read(p[0], out, sizeof out - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    *wall = now() - t0;
    if (k <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    *inner = atof(out) / 1e9;
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 15;
    int cycles = argc > 3 ? atoi(argv[3]) : 1000;
    const char *dir = getenv("CHAOSRUN_FIU_DIR");
    char self[PATH_MAX], tmpd[] = "/tmp/cr_bench_fiu.XXXXXX";
    if (!dir)
        dir = CR_FIU_DIR;
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return 1;
    self[sl] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(g_helper, sizeof g_helper, "%s/helper_fiu_writes", self);
    snprintf(g_preload, sizeof g_preload,
             "LD_PRELOAD=%s/fiu_run_preload.so %s/fiu_posix_preload.so", dir,
             dir);
    if (!mkdtemp(tmpd))
        return 1;
    snprintf(g_fifo, sizeof g_fifo, "FIU_CTRL_FIFO=%s/h", tmpd);

    /* 1. launch cost, side by side */
    double *w0 = calloc((size_t)rounds, sizeof *w0),
           *w1 = calloc((size_t)rounds, sizeof *w1),
           *i0 = calloc((size_t)rounds, sizeof *i0),
           *i1 = calloc((size_t)rounds, sizeof *i1);
    for (int r = 0; r < rounds; r++) {
        if (run_once(0, n, &w0[r], &i0[r]) || run_once(1, n, &w1[r], &i1[r])) {
            fprintf(stderr, "bench_fiu: helper failed (libfiu in %s?)\n", dir);
            return 1;
        }
    }
    double mw0 = pct(w0, (size_t)rounds, 0.5),
           mw1 = pct(w1, (size_t)rounds, 0.5);
    double mi0 = pct(i0, (size_t)rounds, 0.5),
           mi1 = pct(i1, (size_t)rounds, 0.5);
    printf(
        "launch cost, %ld x write(64 B) to /dev/null, %d rounds side by side, "
        "medians:\n",
        n, rounds);
    printf(
        "  per write: %.0f ns plain, %.0f ns under the preload: ratio %.2f\n",
        mi0 / (double)n * 1e9, mi1 / (double)n * 1e9, mi1 / mi0);
    printf("  whole process: %.2f ms plain, %.2f ms under the preload: ratio "
           "%.2f\n",
           mw0 * 1e3, mw1 * 1e3, mw1 / mw0);

    /* start-up alone: the same program making no write */
    for (int r = 0; r < rounds; r++) {
        double dummy;
        if (run_once(0, 0, &w0[r], &dummy) || run_once(1, 0, &w1[r], &dummy))
            return 1;
    }
    mw0 = pct(w0, (size_t)rounds, 0.5);
    mw1 = pct(w1, (size_t)rounds, 0.5);
    printf("  start-up alone (0 writes): %.2f ms plain, %.2f ms under the "
           "preload (+%.2f ms)\n",
           mw0 * 1e3, mw1 * 1e3, (mw1 - mw0) * 1e3);

    /* 2. arm latency */
    pid_t pid = fork();
    if (pid == 0) {
        char *av[] = {g_helper, "0", "serve", NULL};
        char *ev[] = {g_preload, g_fifo, NULL};
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execve(g_helper, av, ev);
        _exit(127);
    }
    char prefix[PATH_MAX + 8];
    snprintf(prefix, sizeof prefix, "%s/h", tmpd);
    double *arm = calloc((size_t)cycles, sizeof *arm),
           *dis = calloc((size_t)cycles, sizeof *dis);
    int bad = 0;
    char cmd_en[CR_FIU_MAX_LINE], cmd_dis[CR_FIU_MAX_LINE];
    cr_fiu_fmt_enable(cmd_en, sizeof cmd_en, "posix/io/rw/write", 1, ENOSPC, 0);
    cr_fiu_fmt_disable(cmd_dis, sizeof cmd_dis, "posix/io/rw/write");
    for (int c = 0; c < cycles && !bad; c++) {
        for (int phase = 0; phase < 2; phase++) {
            cr_err e;
            cr_fiu_conn *conn = NULL;
            int reply = -2;
            cr_err_clear(&e);
            double t0 = now();
            if (cr_fiu_open(prefix, pid, 2, &conn, &e) ||
                cr_fiu_cmd(conn, phase ? cmd_dis : cmd_en, 2, &reply, &e) ||
                reply != 0) {
                fprintf(stderr, "bench_fiu: cycle %d: %s (reply %d)\n", c,
                        e.msg, reply);
                bad = 1;
            }
            double t1 = now();
            cr_fiu_close(conn);
            (phase ? dis : arm)[c] = t1 - t0;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char pth[PATH_MAX + 64];
    cr_fiu_fifo_path(pth, sizeof pth, prefix, pid, 0);
    unlink(pth);
    cr_fiu_fifo_path(pth, sizeof pth, prefix, pid, 1);
    unlink(pth);
    rmdir(tmpd);
    if (bad)
        return 1;
    printf("arm latency over %d enable/disable cycles (connect + command + "
           "reply):\n",
           cycles);
    printf("  enable:  median %.1f us, p99 %.1f us\n",
           pct(arm, (size_t)cycles, 0.5) * 1e6,
           pct(arm, (size_t)cycles, 0.99) * 1e6);
    printf("  disable: median %.1f us, p99 %.1f us\n",
           pct(dis, (size_t)cycles, 0.5) * 1e6,
           pct(dis, (size_t)cycles, 0.99) * 1e6);
    free(w0), free(w1), free(i0), free(i1), free(arm), free(dis);
    return 0;
}
