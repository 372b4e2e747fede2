/* cr_proxy_client: one request on the fault proxy's control socket (see
 * cr_proxy_client() in cr_proxy.h): connect, send a line, read one reply
 * line, all under one deadline. */
#include "cr_proxy.h"

#include "base/cr_alloc.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- the control-socket client ------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for ev on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pf = {fd, ev, 0};
        int n = poll(&pf, 1, (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int cr_proxy_client(const char *sock_path, const char *line, int timeout_ms,
                    char **reply, cr_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = mono_ms() + timeout_ms;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0, fd = -1;
    *reply = NULL;
    if (strlen(sock_path) >= sizeof sa.sun_path)
        return cr_err_set(err, CR_EINVAL, "proxy control %s: path too long",
                          sock_path);
    strcpy(sa.sun_path, sock_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cr_err_sys(err, CR_ESYS, errno, "proxy control: socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        !(errno == EAGAIN || errno == EINPROGRESS)) {
        rc = cr_err_sys(err, CR_ESYS, errno, "proxy control %s: connect",
                        sock_path);
        goto out;
    }
    size_t n = strlen(line), off = 0;
    char *msg = cr_asprintf("%s\n", line);
    if (!msg) {
        rc = cr_err_set(err, CR_ENOMEM, "proxy control: out of memory");
        goto out;
    }
    while (off <= n) {
        int w = wait_fd(fd, POLLOUT, deadline);
        ssize_t k = w > 0 ? send(fd, msg + off, n + 1 - off, MSG_NOSIGNAL) : -1;
        if (k < 0 && w > 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k < 0) {
            rc = w == 0 ? cr_err_set(err, CR_ETIMEOUT,
                                     "proxy control %s: '%s': timed out",
                                     sock_path, line)
                        : cr_err_sys(err, CR_ESYS, errno,
                                     "proxy control %s: send", sock_path);
            cr_free(msg);
            goto out;
        }
        off += (size_t)k;
    }
    cr_free(msg);
    for (;;) {
        if (len + 4096 > cap) {
            char *nb = cr_realloc(buf, cap + 65536);
            if (!nb) {
                rc = cr_err_set(err, CR_ENOMEM, "proxy control: out of memory");
                goto out;
            }
            buf = nb;
            cap += 65536;
        }
        int w = wait_fd(fd, POLLIN, deadline);
        if (w <= 0) {
            rc = cr_err_set(err, CR_ETIMEOUT,
                            "proxy control %s: '%s': no reply within %d ms",
                            sock_path, line, timeout_ms);
            goto out;
        }
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0) {
            rc = cr_err_set(err, CR_EPROTO,
                            "proxy control %s: '%s': connection closed "
                            "without a reply",
                            sock_path, line);
            goto out;
        }
        len += (size_t)k;
        buf[len] = '\0';
        char *nl = memchr(buf, '\n', len);
        if (nl) {
            *nl = '\0';
            *reply = buf;
            buf = NULL;
            goto out;
        }
    }
out:
    cr_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
