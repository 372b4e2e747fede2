/* cr_tgt_rawsys: a service that reads and writes a file with raw
 * syscall(SYS_write, ...) and syscall(SYS_pread64, ...) -- no C library
 * wrapper, so LD_PRELOAD (libfiu) cannot see them -- for the seccomp
 * backend's end-to-end test.
 *
 * Every --interval-ms (default 10) it writes 64 bytes to
 * $CHAOSRUN_RUN_DIR/data/<instance>.raw and reads them back with pread64,
 * and prints each result to stdout:
 *   op=write|read n=N call=US done=US ok|failed ERRNO
 * (Unix microseconds before and after the call).  Prints "rawsys ready"
 * at start and "rawsys ok=N failed=M" on SIGTERM, then exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
    int interval_ms = 10;
    char dir[4096], file[4200];
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--interval-ms") == 0)
            interval_ms = atoi(argv[i + 1]);
    const char *rd = getenv("CHAOSRUN_RUN_DIR");
    const char *in = getenv("CHAOSRUN_INSTANCE");
    snprintf(dir, sizeof dir, "%s/data", rd ? rd : "/tmp");
    mkdir(dir, 0755);
    snprintf(file, sizeof file, "%s/%s.raw", dir, in ? in : "rawsys");
    signal(SIGTERM, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(file);
        return 2;
    }
    printf("rawsys ready file=%s\n", file);
    char buf[64], back[64];
    memset(buf, 'r', sizeof buf);
    long ok = 0, failed = 0;
    for (long n = 1; !g_term; n++) {
        long long c = now_us();
        long w = syscall(SYS_write, fd, buf, sizeof buf);
        int e = w < 0 ? errno : 0;
        long long d = now_us();
        printf("op=write n=%ld call=%lld done=%lld %s %s\n", n, c, d,
               w == (long)sizeof buf ? "ok" : "failed",
               e ? strerrorname_np(e) : "-");
        w == (long)sizeof buf ? ok++ : failed++;
        c = now_us();
        long r = syscall(SYS_pread64, fd, back, sizeof back, (off_t)0);
        e = r < 0 ? errno : 0;
        d = now_us();
        printf("op=read n=%ld call=%lld done=%lld %s %s\n", n, c, d,
               r >= 0 ? "ok" : "failed", e ? strerrorname_np(e) : "-");
        r >= 0 ? ok++ : failed++;
        struct timespec ts = {0, (long)interval_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("rawsys ok=%ld failed=%ld\n", ok, failed);
    return 0;
}
