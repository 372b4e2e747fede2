/* cr_tgt: see cr_tgt.h. */
#include "cr_tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t cr_tgt_term;
static int g_evfd = -1;

static void on_term(int sig)
{
    (void)sig;
    cr_tgt_term = 1;
}

void cr_tgt_init(int handle_term)
{
    const char *evp = getenv("CHAOSRUN_EVENTS");
    if (evp && (g_evfd = open(evp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                              0644)) < 0)
        fprintf(stderr, "cannot open events file %s: %s\n", evp,
                strerror(errno));
    signal(SIGTERM, handle_term ? on_term : SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cr_tgt_unix(void)
{
    return clock_s(CLOCK_REALTIME);
}

double cr_tgt_mono(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

void cr_tgt_emit(const char *ev, const char *fields)
{
    if (g_evfd < 0)
        return;
    char line[512];
    const char *svc = getenv("CHAOSRUN_SERVICE");
    const char *inst = getenv("CHAOSRUN_INSTANCE");
    int n = snprintf(
        line, sizeof line,
        "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\",\"ev\":\"%s\"%s%s}\n",
        cr_tgt_unix(), svc ? svc : "?", inst ? inst : "?", ev,
        fields ? "," : "", fields ? fields : "");
    if (n < 0 || (size_t)n >= sizeof line) {
        fprintf(stderr, "event %s too long, not written\n", ev);
        return;
    }
    if (write(g_evfd, line, (size_t)n) != n)
        perror("event write");
}

void cr_tgt_sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {
        (time_t)(ms / 1000),
        (long)((ms - 1000 * (double)(long)(ms / 1000)) * 1e6)};
    while (!cr_tgt_term && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int cr_tgt_http_ok(const struct sockaddr_in *a, int timeout_ms)
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
