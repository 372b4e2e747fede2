/* cr_tgt_retry_client: a worker that calls a dependency with a timeout and
 * retries, for the fault proxy's end-to-end tests.
 *
 * Every --interval-ms it sends "GET / HTTP/1.0" to $CHAOSRUN_ADDR_<DEP>
 * (cr_tgt_server answers it) and expects "HTTP/1.0 200" within
 * --timeout-ms.  A failed attempt emits `retry` {op, attempt, delay_ms,
 * error} and is tried again after an exponential backoff; after
 * --max-attempts it emits `giveup` {op, attempts, error}; a success emits
 * `request` {op, ok, attempts, latency_ms}.  error is one of timeout,
 * refused, reset, closed, bad_reply, connect.  SIGTERM stops it (stopping,
 * stopped).
 *
 *   --dep NAME          dependency service (default feature)
 *   --op NAME           op field (default the dependency's name)
 *   --timeout-ms N      per attempt (default 150)
 *   --interval-ms N     between requests (default 100)
 *   --max-attempts N    default 4
 *   --base-ms N         first backoff (default 50), doubled per attempt
 */
#include "lib/cr_tgt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *err_name(int e)
{
    switch (e) {
    case ETIMEDOUT:
        return "timeout";
    case ECONNREFUSED:
        return "refused";
    case ECONNRESET:
        return "reset";
    case EPIPE:
        return "closed";
    case EPROTO:
        return "bad_reply";
    default:
        return "connect";
    }
}

/* Wait for ev until deadline: 0 ready, ETIMEDOUT. */
static int wait_fd(int fd, short ev, double deadline)
{
    for (;;) {
        double left = deadline - cr_tgt_mono();
        if (left <= 0)
            return ETIMEDOUT;
        struct pollfd p = {fd, ev, 0};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return errno;
    }
}

/* One request; 0 on success or an errno-style code. */
static int request(const struct sockaddr_in *sa, int timeout_ms)
{
    double deadline = cr_tgt_mono() + timeout_ms / 1000.0;
    int rc = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        if (errno != EINPROGRESS) {
            rc = errno;
            goto out;
        }
        if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
            goto out;
        int e = 0;
        socklen_t len = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
        if (e) {
            rc = e;
            goto out;
        }
    }
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) !=
        (ssize_t)(sizeof req - 1)) {
        rc = errno == EAGAIN ? ETIMEDOUT : errno;
        goto out;
    }
    char buf[1024];
    size_t len = 0;
    for (;;) {
        if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
            goto out;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            rc = errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            break;
    }
    buf[len] = '\0';
    if (len == 0)
        rc = EPIPE;
    else if (strncmp(buf, "HTTP/1.0 200", 12) != 0)
        rc = EPROTO;
out:
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dep = "feature", *op = NULL;
    int timeout_ms = 150, interval_ms = 100, max_attempts = 4, base_ms = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dep") && i + 1 < argc)
            dep = argv[++i];
        else if (!strcmp(argv[i], "--op") && i + 1 < argc)
            op = argv[++i];
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
            interval_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-attempts") && i + 1 < argc)
            max_attempts = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--base-ms") && i + 1 < argc)
            base_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_retry_client: unknown argument %s\n",
                    argv[i]);
            return 2;
        }
    }
    if (!op)
        op = dep;
    char key[128];
    size_t k = (size_t)snprintf(key, sizeof key, "CHAOSRUN_ADDR_");
    for (const char *s = dep; *s && k + 1 < sizeof key; s++)
        key[k++] =
            (*s == '-' || *s == '.') ? '_' : (char)toupper((unsigned char)*s);
    key[k] = '\0';
    const char *addr = getenv(key);
    char host[64];
    int port;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!addr || sscanf(addr, "%63[^:]:%d", host, &port) != 2 ||
        inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "cr_tgt_retry_client: %s not set or not HOST:PORT\n",
                key);
        return 2;
    }
    sa.sin_port = htons((uint16_t)port);
    cr_tgt_init(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("calling %s at %s (%s)\n", dep, addr, key);
    cr_tgt_emit("ready", NULL);
    char f[256];
    while (!cr_tgt_term) {
        double t = cr_tgt_mono();
        int attempt = 1, rc;
        while ((rc = request(&sa, timeout_ms)) != 0 && !cr_tgt_term) {
            if (attempt >= max_attempts) {
                snprintf(f, sizeof f,
                         "\"op\":\"%s\",\"attempts\":%d,\"error\":\"%s\"", op,
                         attempt, err_name(rc));
                cr_tgt_emit("giveup", f);
                break;
            }
            int delay = base_ms << (attempt - 1);
            snprintf(
                f, sizeof f,
                "\"op\":\"%s\",\"attempt\":%d,\"delay_ms\":%d,\"error\":\"%s\"",
                op, attempt, delay, err_name(rc));
            cr_tgt_emit("retry", f);
            cr_tgt_sleep_ms(delay);
            attempt++;
        }
        if (rc == 0) {
            snprintf(
                f, sizeof f,
                "\"op\":\"%s\",\"ok\":true,\"attempts\":%d,\"latency_ms\":%.3f",
                op, attempt, (cr_tgt_mono() - t) * 1e3);
            cr_tgt_emit("request", f);
        }
        cr_tgt_sleep_ms(interval_ms);
    }
    cr_tgt_emit("stopping", NULL);
    cr_tgt_emit("stopped", NULL);
    return 0;
}
