/* helper_sc_calls: system calls on command, for test_seccomp (which runs
 * it under the seccomp backend's filter and supervisor).
 *
 * It first reads one byte from stdin (a "go": the test arms its window
 * before any call is made), then runs argv[1] and prints one result line
 * on stdout, then exits 0:
 *
 *   writes N          N 64-byte write()s to /dev/null:
 *                     "ok=K fail=F errno=NAME first_fail=I"
 *   threads T N       T threads, each `writes N`: "threads=T ok=K fail=F"
 *   fork N            a child does `writes N`, then the parent does:
 *                     "parent ok=K fail=F child ok=K fail=F"
 *   open DIR NAME     chdir(DIR), then openat(AT_FDCWD, NAME) and
 *                     open(DIR/NAME): "rel=ok|ERR abs=ok|ERR"
 *   timed-write       one write() to /dev/null: "ret=R errno=NAME ms=M"
 *   alarm-write MS    SIGALRM in MS ms (handler without SA_RESTART), then
 *                     timed-write: "ret=R errno=NAME ms=M alarm=0|1"
 *   race MS           thread A: timed-write; thread B, MS ms later: 10
 *                     writes to a pipe and notes whether A was done then:
 *                     "a_done_when_b_done=0|1 a_ret=R a_ms=M"
 *
 * stdout is a pipe: its writes are notified too, but a path filter on
 * /dev/null leaves them alone. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *ename(int e)
{
    return e ? strerrorname_np(e) : "0";
}

typedef struct res {
    long ok, fail, first_fail;
    int err;
} res;

static void writes(long n, res *r)
{
    char buf[64];
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    memset(buf, 'x', sizeof buf);
    memset(r, 0, sizeof *r);
    r->first_fail = -1;
    for (long i = 0; i < n; i++) {
        if (write(fd, buf, sizeof buf) == (ssize_t)sizeof buf) {
            r->ok++;
        } else {
            if (r->first_fail < 0)
                r->first_fail = i;
            r->fail++;
            r->err = errno;
        }
    }
    close(fd);
}

static void *thr_writes(void *arg)
{
    res *r = arg;
    writes(r->ok, r); /* r->ok holds N on entry */
    return NULL;
}

static atomic_int a_done;
static double a_ms;
static long a_ret;

static void *thr_timed(void *arg)
{
    (void)arg;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    double t = ms_now();
    a_ret = (long)write(fd, "x", 1);
    a_ms = ms_now() - t;
    atomic_store(&a_done, 1);
    close(fd);
    return NULL;
}

static volatile sig_atomic_t g_alarm;
static void on_alarm(int s)
{
    (void)s;
    g_alarm = 1;
}

int main(int argc, char **argv)
{
    char go;
    if (argc < 2 || read(0, &go, 1) != 1)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *cmd = argv[1];
    res r;
    if (!strcmp(cmd, "writes") && argc > 2) {
        writes(atol(argv[2]), &r);
        printf("ok=%ld fail=%ld errno=%s first_fail=%ld\n", r.ok, r.fail,
               ename(r.err), r.first_fail);
    } else if (!strcmp(cmd, "threads") && argc > 3) {
        int t = atoi(argv[2]);
        pthread_t th[16];
        res rs[16];
        long ok = 0, fail = 0;
        for (int i = 0; i < t && i < 16; i++) {
            rs[i].ok = atol(argv[3]);
            pthread_create(&th[i], NULL, thr_writes, &rs[i]);
        }
        for (int i = 0; i < t && i < 16; i++) {
            pthread_join(th[i], NULL);
            ok += rs[i].ok;
            fail += rs[i].fail;
        }
        printf("threads=%d ok=%ld fail=%ld\n", t, ok, fail);
    } else if (!strcmp(cmd, "fork") && argc > 2) {
        int p[2];
        if (pipe(p) != 0)
            return 3;
        pid_t pid = fork();
        if (pid == 0) {
            writes(atol(argv[2]), &r);
            char line[64];
            int k = snprintf(line, sizeof line, "%ld %ld", r.ok, r.fail);
            ssize_t w = write(p[1], line, (size_t)k);
            (void)w;
            _exit(0);
        }
        close(p[1]);
        char line[64] = "";
        ssize_t k = read(p[0], line, sizeof line - 1);
        line[k > 0 ? k : 0] = '\0';
        waitpid(pid, NULL, 0);
        long cok = 0, cfail = 0;
        sscanf(line, "%ld %ld", &cok, &cfail);
        writes(atol(argv[2]), &r);
        printf("parent ok=%ld fail=%ld child ok=%ld fail=%ld\n", r.ok, r.fail,
               cok, cfail);
    } else if (!strcmp(cmd, "open") && argc > 3) {
        char abs[4096];
        snprintf(abs, sizeof abs, "%s/%s", argv[2], argv[3]);
        if (chdir(argv[2]) != 0)
            return 4;
        int a = openat(AT_FDCWD, argv[3], O_RDONLY | O_CLOEXEC);
        int ea = a < 0 ? errno : 0;
        int b = open(abs, O_RDONLY | O_CLOEXEC);
        int eb = b < 0 ? errno : 0;
        printf("rel=%s abs=%s\n", a >= 0 ? "ok" : ename(ea),
               b >= 0 ? "ok" : ename(eb));
    } else if (!strcmp(cmd, "timed-write") || !strcmp(cmd, "alarm-write")) {
        if (!strcmp(cmd, "alarm-write") && argc > 2) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_alarm; /* no SA_RESTART */
            sigaction(SIGALRM, &sa, NULL);
            long ms = atol(argv[2]);
            struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
            setitimer(ITIMER_REAL, &it, NULL);
        }
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        double t = ms_now();
        long ret = (long)write(fd, "x", 1);
        int e = ret < 0 ? errno : 0;
        printf("ret=%ld errno=%s ms=%.1f alarm=%d\n", ret, ename(e),
               ms_now() - t, (int)g_alarm);
    } else if (!strcmp(cmd, "race") && argc > 2) {
        pthread_t a;
        int p[2];
        if (pipe(p) != 0)
            return 3;
        pthread_create(&a, NULL, thr_timed, NULL);
        usleep((useconds_t)atol(argv[2]) * 1000);
        for (int i = 0; i < 10; i++) {
            ssize_t w = write(p[1], "y", 1);
            (void)w;
        }
        int done_then = atomic_load(&a_done);
        pthread_join(a, NULL);
        printf("a_done_when_b_done=%d a_ret=%ld a_ms=%.1f\n", done_then, a_ret,
               a_ms);
    } else {
        return 2;
    }
    return 0;
}
