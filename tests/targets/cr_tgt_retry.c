/* cr_tgt_retry: a client that calls a dependency over HTTP and retries
 * with exponential backoff (base 50 ms, factor 2, cap 400 ms, 4 attempts
 * in all, full jitter), reporting `retry`, `giveup` and `served` events;
 * the backoff checker's end-to-end subject.
 *
 * The dependency is $CHAOSRUN_ADDR_DEP (host:port, the "dep" service).
 * A call fails when no "200" answer arrives within 50 ms.
 *   --no-jitter    defect: always wait the full nominal delay
 *   --too-many     defect: give up only after 5 attempts (one too many)
 *   --seed N       jitter seed (default $CHAOSRUN_SEED) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    const char *svc = getenv("CHAOSRUN_SERVICE"),
               *inst = getenv("CHAOSRUN_INSTANCE");
    int n = snprintf(
        line, sizeof line,
        "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\",\"ev\":\"%s\"%s%s}\n",
        now_unix(), svc ? svc : "?", inst ? inst : "?", ev, fields ? "," : "",
        fields ? fields : "");
    if (write(g_evfd, line, (size_t)n) != n)
        perror("event write");
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000),
                          (long)((ms - 1000 * (long)(ms / 1000)) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_term)
        ;
}

/* 1 when the dependency answered 200 within timeout_ms. */
static int call_dep(const struct sockaddr_in *a, int timeout_ms)
{
    int ok = 0;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return 0;
    if (connect(s, (const struct sockaddr *)a, sizeof *a) != 0 &&
        errno != EINPROGRESS)
        goto out;
    struct pollfd p = {.fd = s, .events = POLLOUT};
    if (poll(&p, 1, timeout_ms) <= 0)
        goto out;
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e)
        goto out;
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (write(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
        goto out;
    p.events = POLLIN;
    char buf[256];
    if (poll(&p, 1, timeout_ms) <= 0)
        goto out;
    ssize_t n = read(s, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        ok = strstr(buf, " 200 ") != NULL;
    }
out:
    close(s);
    return ok;
}

int main(int argc, char **argv)
{
    int no_jitter = 0, max_attempts = 4;
    unsigned seed = getenv("CHAOSRUN_SEED")
                        ? (unsigned)strtoul(getenv("CHAOSRUN_SEED"), NULL, 10)
                        : 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-jitter"))
            no_jitter = 1;
        else if (!strcmp(argv[i], "--too-many"))
            max_attempts = 5;
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "cr_tgt_retry: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *addr = getenv("CHAOSRUN_ADDR_DEP");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "cr_tgt_retry: CHAOSRUN_ADDR_DEP not set\n");
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1))};
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "cr_tgt_retry: bad address %s\n", addr);
        return 2;
    }
    const char *evp = getenv("CHAOSRUN_EVENTS");
    if (evp)
        g_evfd = open(evp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    srand(seed);
    emit("ready", NULL);
    char f[160];
    while (!g_term) {
        int attempt = 1;
        for (;;) {
            if (call_dep(&a, 50)) {
                emit("served", "\"op\":\"dep\"");
                break;
            }
            if (attempt >= max_attempts) {
                snprintf(f, sizeof f,
                         "\"op\":\"dep\",\"attempts\":%d,\"error\":\"timeout\"",
                         attempt);
                emit("giveup", f);
                break;
            }
            double t = 50.0 * (1 << (attempt - 1));
            if (t > 400)
                t = 400;
            int d = no_jitter ? (int)t : rand() % ((int)t + 1);
            snprintf(f, sizeof f,
                     "\"op\":\"dep\",\"attempt\":%d,\"delay_ms\":%d,\"error\":"
                     "\"timeout\"",
                     attempt, d);
            emit("retry", f);
            sleep_ms(d);
            if (g_term)
                break;
            attempt++;
        }
        sleep_ms(30);
    }
    emit("stopped", NULL);
    return 0;
}
