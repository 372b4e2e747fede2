/* cr_tgt_fiuwriter: a service that writes (and fsyncs) a file at a steady
 * pace and reports every result, for the syscall fault's tests.
 *
 * Every --interval-ms it write()s 64 bytes to --file (default
 * $CHAOSRUN_RUN_DIR/<instance>.data), except that every --fsync-every-th
 * step (default 5; 0: never) fsync()s it instead.  Each result goes to
 * stdout ("call=<us> done=<us> write n=<i> ok" or "... failed ENOSPC",
 * Unix microseconds before and after the call) and, as events, to
 * $CHAOSRUN_EVENTS: `write` {n, op, t_call, t_done} and `write_failed`
 * {n, op, t_call, t_done, errno, error}, all with the writer's pid.  The event
 * lines are written with a raw syscall(SYS_write) so that an armed write
 * failure point cannot eat the evidence (LD_PRELOAD does not reach raw system
 * calls). Prints "writer ready file=F preload=<$LD_PRELOAD or none>" at start;
 * on SIGTERM prints "writes ok=N failed=M" and exits 0.
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

/* Unix time in microseconds (integers compare exactly in jq and awk). */
static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static const char *errname(int e)
{
    switch (e) {
    case ENOSPC:
        return "ENOSPC";
    case EIO:
        return "EIO";
    case EDQUOT:
        return "EDQUOT";
    case EROFS:
        return "EROFS";
    case EINTR:
        return "EINTR";
    default:
        return "other";
    }
}

static void emit(const char *ev, const char *fields)
{
    if (g_evfd < 0)
        return;
    char line[512];
    const char *svc = getenv("CHAOSRUN_SERVICE");
    const char *inst = getenv("CHAOSRUN_INSTANCE");
    int n = snprintf(line, sizeof line,
                     "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\",\"pid\":%d,"
                     "\"ev\":\"%s\"%s}\n",
                     now_unix(), svc ? svc : "?", inst ? inst : "?",
                     (int)getpid(), ev, fields);
    if (n > 0 && n < (int)sizeof line)
        syscall(SYS_write, g_evfd, line, (size_t)n);
}

int main(int argc, char **argv)
{
    int interval_ms = 20, fsync_every = 5;
    char file[4096] = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--interval-ms") == 0)
            interval_ms = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--fsync-every") == 0)
            fsync_every = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--file") == 0)
            snprintf(file, sizeof file, "%s", argv[i + 1]);
    }
    if (!file[0]) {
        const char *d = getenv("CHAOSRUN_RUN_DIR");
        const char *in = getenv("CHAOSRUN_INSTANCE");
        snprintf(file, sizeof file, "%s/%s.data", d ? d : "/tmp",
                 in ? in : "writer");
    }
    const char *ev = getenv("CHAOSRUN_EVENTS");
    if (ev)
        g_evfd = open(ev, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(file);
        return 2;
    }
    const char *pre = getenv("LD_PRELOAD");
    printf("writer ready file=%s preload=%s\n", file,
           pre && *pre ? pre : "none");
    emit("ready", "");
    long ok = 0, failed = 0;
    char buf[64];
    memset(buf, 'x', sizeof buf);
    buf[63] = '\n';
    for (long n = 0; !g_term; n++) {
        char f[160];
        const char *op = "write";
        /* The call's start and end times bracket libfiu's decision, so a
         * test can tell exactly whether it was taken while armed. */
        long long t_call = now_us();
        ssize_t w;
        if (fsync_every > 0 && n % fsync_every == fsync_every - 1) {
            op = "fsync";
            w = fsync(fd) == 0 ? (ssize_t)sizeof buf : -1;
        } else {
            w = write(fd, buf, sizeof buf);
        }
        int e = errno;
        long long t_done = now_us();
        if (w == (ssize_t)sizeof buf) {
            ok++;
            printf("call=%lld done=%lld %s n=%ld ok\n", t_call, t_done, op, n);
            snprintf(f, sizeof f,
                     ",\"n\":%ld,\"op\":\"%s\",\"t_call\":%lld,\"t_done\":%lld",
                     n, op, t_call, t_done);
            emit("write", f);
        } else {
            failed++;
            printf("call=%lld done=%lld %s n=%ld failed %s\n", t_call, t_done,
                   op, n, w < 0 ? errname(e) : "short");
            snprintf(f, sizeof f,
                     ",\"n\":%ld,\"op\":\"%s\",\"t_call\":%lld,"
                     "\"t_done\":%lld,\"errno\":\"%s\",\"error\":\"%s\"",
                     n, op, t_call, t_done, w < 0 ? errname(e) : "short",
                     w < 0 ? errname(e) : "short");
            emit("write_failed", f);
        }
        struct timespec ts = {interval_ms / 1000,
                              (long)(interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("writes ok=%ld failed=%ld\n", ok, failed);
    close(fd);
    return 0;
}
