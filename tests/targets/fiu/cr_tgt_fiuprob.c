/* cr_tgt_fiuprob: a deterministic program for the seeded-probability test.
 *
 * It writes 16 bytes to /dev/null every millisecond until a write fails
 * (the fault was armed and libfiu drew a failure), then makes --calls
 * (default 200) writes back to back and records which failed.  Since
 * libfiu draws only for armed points, in one thread, the pattern from the
 * first failure on depends only on FIU_PRNG_SEED and the probability.
 * The pattern ("0110...", 1 = failed) goes to stdout and as a `result`
 * event {name: "pattern", value} (raw syscall, not through the preload).
 * Then it idles until SIGTERM.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_term;

static void on_term(int sig)
{
    (void)sig;
    g_term = 1;
}

int main(int argc, char **argv)
{
    int calls = 200;
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--calls") == 0)
            calls = atoi(argv[i + 1]);
    if (calls < 1 || calls > 1000)
        calls = 200;
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    const char *ev = getenv("CHAOSRUN_EVENTS");
    int evfd =
        ev ? open(ev, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    printf("prob ready\n");
    char buf[16] = "0123456789abcde";
    char pat[1001];
    struct timespec ms = {0, 1000000L};
    while (!g_term && write(fd, buf, sizeof buf) == (ssize_t)sizeof buf)
        nanosleep(&ms, NULL);
    if (g_term)
        return 0;
    pat[0] = '1'; /* the failure that told us the fault is armed */
    for (int i = 1; i < calls; i++)
        pat[i] = write(fd, buf, sizeof buf) == (ssize_t)sizeof buf ? '0' : '1';
    pat[calls] = '\0';
    printf("pattern %s\n", pat);
    if (evfd >= 0) {
        char line[1400];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        const char *svc = getenv("CHAOSRUN_SERVICE");
        int n = snprintf(line, sizeof line,
                         "{\"ts\":%.6f,\"svc\":\"%s\",\"ev\":\"result\","
                         "\"name\":\"pattern\",\"value\":\"%s\"}\n",
                         (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9,
                         svc ? svc : "?", pat);
        if (n > 0 && n < (int)sizeof line)
            syscall(SYS_write, evfd, line, (size_t)n);
    }
    while (!g_term)
        nanosleep(&ms, NULL);
    return 0;
}
