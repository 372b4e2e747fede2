/* cr_nettest: traffic helpers shared by the network tests and benchmarks.
 *
 * Each helper runs on threads that join a host's namespace with setns
 * (per thread for CLONE_NEWNET), so the test process itself never leaves
 * its own namespace.  Header-only so that each test executable stays one
 * file plus cr_test.c. */
#ifndef CR_NETTEST_H
#define CR_NETTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double nt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A UDP socket bound to addr:port inside the namespace nsfd (made on a
 * helper thread). */
typedef struct nt_sockjob {
    int nsfd;
    const char *addr;
    int port;
    int fd;
} nt_sockjob;

static void *nt_sock_thread(void *arg)
{
    nt_sockjob *j = arg;
    j->fd = -1;
    if (setns(j->nsfd, CLONE_NEWNET) != 0)
        return NULL;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(j->port)};
    inet_pton(AF_INET, j->addr, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return NULL;
    }
    j->fd = fd;
    return NULL;
}

static inline int nt_udp_socket(int nsfd, const char *addr, int port)
{
    nt_sockjob j = {nsfd, addr, port, -1};
    pthread_t th;
    if (pthread_create(&th, NULL, nt_sock_thread, &j) != 0)
        return -1;
    pthread_join(th, NULL);
    return j.fd;
}

/* Send n datagrams of `size` bytes from tx to addr:port, draining rx as we
 * go (so the receive buffer never overflows); returns how many arrived.
 * Waits up to idle_s after the last send for stragglers. */
static inline int nt_udp_count(int tx, int rx, const char *addr, int port,
                               int n, size_t size, double idle_s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    char buf[2048];
    memset(buf, 'x', sizeof buf);
    if (size > sizeof buf)
        size = sizeof buf;
    int got = 0;
    for (int i = 0; i < n; i++) {
        sendto(tx, buf, size, 0, (struct sockaddr *)&sa, sizeof sa);
        if (i % 32 == 31) {
            usleep(200); /* let the receiver keep up */
            while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
                got++;
        }
    }
    double end = nt_now() + idle_s;
    for (;;) {
        double left = end - nt_now();
        if (left <= 0)
            break;
        struct pollfd p = {rx, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            break;
        while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
            got++;
    }
    return got;
}

/* Throughput: a sender thread floods for secs, the caller receives. */
typedef struct nt_flood {
    int tx;
    struct sockaddr_in to;
    double secs;
} nt_flood;

static void *nt_flood_thread(void *arg)
{
    nt_flood *f = arg;
    char buf[1200];
    memset(buf, 'y', sizeof buf);
    double end = nt_now() + f->secs;
    while (nt_now() < end)
        if (sendto(f->tx, buf, sizeof buf, 0, (struct sockaddr *)&f->to,
                   sizeof f->to) < 0 &&
            errno == ENOBUFS)
            usleep(100);
    return NULL;
}

/* Bytes per second received on rx over the middle of a secs-long flood
 * from tx (the first 20% is skipped: the token bucket's burst). */
static inline double nt_udp_rate(int tx, int rx, const char *addr, int port,
                                 double secs)
{
    nt_flood f = {.tx = tx, .secs = secs};
    f.to.sin_family = AF_INET;
    f.to.sin_port = htons(port);
    inet_pton(AF_INET, addr, &f.to.sin_addr);
    pthread_t th;
    if (pthread_create(&th, NULL, nt_flood_thread, &f) != 0)
        return -1;
    char buf[2048];
    double t0 = nt_now(), start = t0 + secs * 0.2, end = t0 + secs;
    double bytes = 0;
    while (nt_now() < end) {
        struct pollfd p = {rx, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r;
        while ((r = recv(rx, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            if (nt_now() >= start)
                bytes += (double)r;
    }
    pthread_join(th, NULL);
    while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    return bytes / (end - start);
}

#endif
