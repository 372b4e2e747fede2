/* cr_tgt_spin: writes 64 bytes to /dev/null every --interval-us (default
 * 100) through the C library's write(), and reports only the edges: the
 * first failing write after a success and the first success after a
 * failure, one stdout line each:
 *   fail_start call=US done=US errno=NAME     (Unix microseconds)
 *   fail_end call=US done=US
 * For tests/bench/sc_arm.sh: how long after a window's scheduled start
 * the first call is faulted, with either backend (it is dynamically
 * linked, so libfiu reaches it; the seccomp backend reaches anything).
 * Prints "spin ready" at start; exits 0 on SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_term;

static void on_term(int s)
{
    (void)s;
    g_term = 1;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    long interval_us = 100;
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--interval-us") == 0)
            interval_us = atol(argv[i + 1]);
    signal(SIGTERM, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char buf[64];
    memset(buf, 's', sizeof buf);
    printf("spin ready\n");
    int failing = 0;
    struct timespec ts = {0, interval_us * 1000};
    while (!g_term) {
        long long c = now_us();
        ssize_t w = write(fd, buf, sizeof buf);
        int e = errno;
        long long d = now_us();
        if (w < 0 && !failing)
            printf("fail_start call=%lld done=%lld errno=%s\n", c, d,
                   strerrorname_np(e));
        else if (w >= 0 && failing)
            printf("fail_end call=%lld done=%lld\n", c, d);
        failing = w < 0;
        nanosleep(&ts, NULL);
    }
    return 0;
}
