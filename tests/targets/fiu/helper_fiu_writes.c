/* helper_fiu_writes: a syscall-heavy program for bench_fiu.  Makes N
 * (argv[1], default 200000) 64-byte write()s to /dev/null and prints the
 * time they took, in nanoseconds, on stdout.  With argv[2] == "serve" it
 * instead prints "ready" and sleeps until killed (a process to arm and
 * disarm over libfiu's remote control). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (argc > 2 && strcmp(argv[2], "serve") == 0) {
        printf("ready\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char buf[64];
    memset(buf, 'x', sizeof buf);
    long long t0 = ns();
    for (long i = 0; i < n; i++)
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
            return 1;
    long long t1 = ns();
    printf("%lld\n", t1 - t0);
    return 0;
}
