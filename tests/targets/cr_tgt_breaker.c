/* cr_tgt_breaker: a client with a circuit breaker in front of a
 * dependency (the "dep" service, $CHAOSRUN_ADDR_DEP); the breaker
 * checker's end-to-end subject.
 *
 * Calls every 30 ms with a 50 ms timeout.  Closed: 3 consecutive failures
 * open it.  Open: calls are rejected (`rejected`) for 0.5 s, then
 * half_open: one trial call; success closes, failure opens again.  Each
 * real call is reported as `call` {name: "dep"}; state changes as
 * `breaker` {name: "dep", state}.
 *   --never-open   defect: the breaker never opens (keeps calling) */
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

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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

enum { CLOSED, OPEN, HALF };
static const char *const names[] = {"closed", "open", "half_open"};

static void set_state(int *st, int to)
{
    char f[96];
    snprintf(f, sizeof f, "\"name\":\"dep\",\"state\":\"%s\"", names[to]);
    emit("breaker", f);
    *st = to;
}

int main(int argc, char **argv)
{
    int never_open = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--never-open"))
            never_open = 1;
        else {
            fprintf(stderr, "cr_tgt_breaker: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *addr = getenv("CHAOSRUN_ADDR_DEP");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "cr_tgt_breaker: CHAOSRUN_ADDR_DEP not set\n");
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)atoi(colon + 1))};
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return 2;
    const char *evp = getenv("CHAOSRUN_EVENTS");
    if (evp)
        g_evfd = open(evp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    emit("ready", NULL);
    int st = CLOSED, fails = 0;
    double opened = 0;
    while (!g_term) {
        if (st == OPEN) {
            if (mono() - opened >= 0.5) {
                set_state(&st, HALF);
                continue;
            }
            emit("rejected", "\"name\":\"dep\"");
        } else {
            emit("call", "\"name\":\"dep\"");
            int ok = call_dep(&a, 50);
            if (ok) {
                emit("served", "\"op\":\"dep\"");
                fails = 0;
                if (st == HALF)
                    set_state(&st, CLOSED);
            } else if (st == HALF) {
                set_state(&st, OPEN);
                opened = mono();
            } else if (++fails >= 3 && !never_open) {
                set_state(&st, OPEN);
                opened = mono();
                fails = 0;
            }
        }
        sleep_ms(30);
    }
    emit("stopped", NULL);
    return 0;
}
