/* cr_tgt_fiuoom: a service that allocates all the time and survives
 * malloc/calloc/realloc returning NULL, for the syscall fault's oom test.
 *
 * Every --interval-ms it mallocs, callocs and reallocs a few KiB, touches
 * and frees them.  A NULL is handled (counted, reported), never fatal:
 * events `alloc_failed` {call, errno, error} (written with a raw
 * syscall(SYS_write), no allocation on that path) and `alloc_ok` once per
 * 10 good rounds.  Prints "oom-survivor ready"; on SIGTERM prints
 * "survived failures=N rounds=M" and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_term;
static int g_evfd = -1;

static void on_term(int sig)
{
    (void)sig;
    g_term = 1;
}

static double now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void emit(const char *ev, const char *fields)
{
    if (g_evfd < 0)
        return;
    char line[512];
    const char *svc = getenv("CHAOSRUN_SERVICE");
    int n = snprintf(line, sizeof line,
                     "{\"ts\":%.6f,\"svc\":\"%s\",\"ev\":\"%s\"%s}\n",
                     now_unix(), svc ? svc : "?", ev, fields);
    if (n > 0 && n < (int)sizeof line)
        syscall(SYS_write, g_evfd, line, (size_t)n);
}

static void failed(const char *call, long *nfail)
{
    char f[128];
    int e = errno;
    (*nfail)++;
    snprintf(f, sizeof f, ",\"call\":\"%s\",\"errno\":\"%s\",\"error\":\"%s\"",
             call, e == ENOMEM ? "ENOMEM" : "other",
             e == ENOMEM ? "ENOMEM" : "other");
    emit("alloc_failed", f);
}

int main(int argc, char **argv)
{
    int interval_ms = 10;
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--interval-ms") == 0)
            interval_ms = atoi(argv[i + 1]);
    const char *ev = getenv("CHAOSRUN_EVENTS");
    if (ev)
        g_evfd = open(ev, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    /* Allocate stdout's buffer now, while malloc still works. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("oom-survivor ready\n");
    emit("ready", "");
    long nfail = 0, rounds = 0;
    while (!g_term) {
        int ok = 1;
        char *a = malloc(4096);
        if (a)
            memset(a, 1, 4096);
        else
            ok = 0, failed("malloc", &nfail);
        int *b = calloc(256, sizeof *b);
        if (!b)
            ok = 0, failed("calloc", &nfail);
        char *c = a ? realloc(a, 8192) : NULL;
        if (a && !c)
            ok = 0, failed("realloc", &nfail); /* a is still ours */
        else if (c)
            a = c;
        free(a);
        free(b);
        rounds++;
        if (ok && rounds % 10 == 0)
            emit("alloc_ok", "");
        struct timespec ts = {0, (long)interval_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("survived failures=%ld rounds=%ld\n", nfail, rounds);
    return 0;
}
