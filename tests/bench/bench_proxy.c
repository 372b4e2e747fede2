/* bench_proxy: the fault proxy's cost with no toxic, side by side with a
 * direct connection and with socat and haproxy as peers, in one run; and
 * the accuracy of a 10 ms latency toxic.
 *
 *   bench_proxy [--full] [--quick]
 *   bench_proxy --latency [--reps N] [--trips N] [--against CHAOSRUN]
 *                         [--poll-client]
 *
 * For each path (direct, chaosrun proxy, socat, haproxy — peers only when
 * installed): bulk throughput (MB/s moving 256 MiB, 1 GiB with --full, to a
 * sink that acknowledges the end), 64-byte ping-pong round trips (p50/p99
 * over 10 000 on one connection) and new connections per second (connect,
 * 1-byte echo, close) over 1 s; each as a ratio against direct.  Then the
 * chaosrun proxy with a latency toxic of 10 ms downstream: the added delay
 * per round trip (p50/p99 over 500), against the same proxy without toxic.
 *
 * All paths run at once and the rounds (3; 1 with --quick) interleave
 * them; the table shows medians.  The servers run in one forked process (an
 * epoll loop), the client in this one, the proxies in their own processes; all
 * on loopback.  haproxy runs with one thread, like the chaosrun proxy.
 *
 * --latency measures only the latency toxic's accuracy, with more care:
 * N reps (5) of T round trips (1000) each, without and then with a 10 ms
 * downstream latency toxic; with --against, another chaosrun binary's proxy
 * (an older build) runs beside this build's, and the reps alternate between
 * the two, so that both see the same machine.  The overshoot is the delay
 * added beyond 10 ms: p50 of the toxic run minus p50 without toxic, and p99
 * of the toxic run minus the same p50; and the same for the downstream
 * direction alone (the echo server stamps each reply with the time it
 * sends it: server -> proxy -> client, the direction the toxic delays), which
 * leaves out the upstream path and the server's own wake-up.  With
 * --poll-client the client polls its socket rather than sleeping in read(),
 * which takes the client's own wake-up (after 10 ms asleep) out of the figure:
 * what is left is the proxy's.
 *
 * A third measurement per rep is the side-by-side baseline for the whole
 * round trip: the same proxy without toxic, the echo server itself sleeping
 * 10 ms (clock_nanosleep to an absolute deadline, timer slack 1 ns) before
 * each reply -- the delay a program on this machine gets from its own
 * timer, with every party idle for 10 ms between trips as under the toxic.
 * "against the server's own sleep" is the toxic's round trip minus that
 * one, at p50 and at p99: what the proxy's delay costs beyond an ideal
 * 10 ms delay, the wake-ups of the client and the server being in both. */
#include "cli/cr_cli.h"
#include "proxy/cr_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int listen_any(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("listen");
        exit(4);
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A free port (bound then released) for peers that choose no port. */
static int free_port(void)
{
    int port;
    close(listen_any(&port));
    return port;
}

/* ---- servers: echo and sink in one epoll loop ---------------------------- */

enum { K_ECHO_L, K_SINK_L, K_ECHO, K_SINK };

static void server_loop(int echo_l, int sink_l)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* the ideal delay's sleep */
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN};
    e.data.u64 = (uint64_t)K_ECHO_L << 32 | (uint32_t)echo_l;
    epoll_ctl(ep, EPOLL_CTL_ADD, echo_l, &e);
    e.data.u64 = (uint64_t)K_SINK_L << 32 | (uint32_t)sink_l;
    epoll_ctl(ep, EPOLL_CTL_ADD, sink_l, &e);
    static char buf[1 << 18];
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int kind = (int)(evs[i].data.u64 >> 32);
            int fd = (int)(uint32_t)evs[i].data.u64;
            if (kind == K_ECHO_L || kind == K_SINK_L) {
                int c;
                while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN};
                    ce.data.u64 = (uint64_t)(kind == K_ECHO_L ? K_ECHO : K_SINK)
                                      << 32 |
                                  (uint32_t)c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                    break; /* one per wake-up keeps the listener fair */
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                if (kind == K_SINK && r == 0 && write(fd, "k", 1) != 1) {
                }
                close(fd);
                continue;
            }
            if (kind == K_ECHO && r >= 9 && buf[0] == 'D') {
                /* The baseline's ideal delay: 10 ms of the server's own,
                 * to an absolute deadline. */
                struct timespec d;
                clock_gettime(CLOCK_MONOTONIC, &d);
                d.tv_nsec += 10 * 1000 * 1000;
                if (d.tv_nsec >= 1000000000L) {
                    d.tv_sec++;
                    d.tv_nsec -= 1000000000L;
                }
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d,
                                       NULL) == EINTR)
                    ;
            }
            if (kind == K_ECHO && r >= 9 && (buf[0] == 'T' || buf[0] == 'D')) {
                /* A timed ping: the reply carries the time it is sent, so
                 * the client can tell the downstream delay alone. */
                double t = mono();
                memcpy(buf + 1, &t, sizeof t);
            }
            if (kind == K_ECHO)
                for (ssize_t off = 0; off < r;) {
                    ssize_t w = write(fd, buf + off, (size_t)(r - off));
                    if (w <= 0)
                        break;
                    off += w;
                }
        }
    }
}

/* ---- client measurements ------------------------------------------------- */

static int dial(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static double throughput(int sink_port, size_t total)
{
    static char buf[1 << 18];
    memset(buf, 'x', sizeof buf);
    int fd = dial(sink_port);
    if (fd < 0)
        return -1;
    double t = mono();
    for (size_t sent = 0; sent < total;) {
        size_t k = total - sent < sizeof buf ? total - sent : sizeof buf;
        ssize_t w = write(fd, buf, k);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    char k;
    ssize_t r = read(fd, &k, 1);
    double dt = mono() - t;
    close(fd);
    return r == 1 ? (double)total / dt / 1e6 : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --poll-client: the ping-pong client polls its socket instead of sleeping
 * in read(), so that its own wake-up is not part of the round trip. */
static int g_poll_client;

/* n round trips of 64 bytes; fills v (seconds), sorted.  With ow, timed
 * pings: ow gets each reply's one-way time from the echo server's send to
 * its arrival here (seconds), sorted.  kind 'D': pings the server answers
 * 10 ms late (ow required). */
static int pingpong_kind(int echo_port, double *v, double *ow, int n, char kind)
{
    char b[64];
    memset(b, 'p', sizeof b);
    int fd = dial(echo_port);
    if (fd < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        double t = mono();
        b[0] = kind;
        if (write(fd, b, sizeof b) != (ssize_t)sizeof b)
            goto fail;
        for (size_t got = 0; got < sizeof b;) {
            ssize_t r = recv(fd, b + got, sizeof b - got,
                             g_poll_client ? MSG_DONTWAIT : 0);
            if (r < 0 && g_poll_client && errno == EAGAIN)
                continue;
            if (r <= 0)
                goto fail;
            got += (size_t)r;
        }
        double now = mono();
        v[i] = now - t;
        if (ow) {
            double sent;
            memcpy(&sent, b + 1, sizeof sent);
            ow[i] = now - sent;
        }
    }
    close(fd);
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    if (ow)
        qsort(ow, (size_t)n, sizeof *ow, cmp_d);
    return 0;
fail:
    close(fd);
    return -1;
}

static int pingpong_ow(int echo_port, double *v, double *ow, int n)
{
    return pingpong_kind(echo_port, v, ow, n, ow ? 'T' : 'p');
}

static int pingpong(int echo_port, double *v, int n)
{
    return pingpong_ow(echo_port, v, NULL, n);
}

static double conn_rate(int echo_port, double secs)
{
    int count = 0;
    double t0 = mono(), t;
    struct linger lg = {1, 0}; /* no TIME_WAIT pile-up on either side */
    while ((t = mono()) - t0 < secs) {
        int fd = dial(echo_port);
        if (fd < 0)
            return -1;
        char c = 'c';
        if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
            close(fd);
            return -1;
        }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
        count++;
    }
    return count / (t - t0);
}

/* ---- the paths under test -------------------------------------------------
 */

#define MAX_ROUNDS 5

typedef struct path {
    const char *name;
    int echo, sink; /* ports */
    pid_t pid[2];
    int started;
    double r_mbs[MAX_ROUNDS], r_p50[MAX_ROUNDS], r_p99[MAX_ROUNDS],
        r_cps[MAX_ROUNDS];
    double mbs, p50, p99, cps; /* medians over the rounds */
    int ok;
} path;

static int wait_port(int port)
{
    for (int i = 0; i < 300; i++) {
        int fd = dial(port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

static pid_t spawn(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int have(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static char g_sock[128], g_sock_api[128];

/* The chaosrun proxy; with api, also serving the Toxiproxy HTTP API (idle:
 * nobody calls it), to show that the relay path does not notice it. */
static int start_chaosrun(path *p, int echo, int sink, int api)
{
    char l1[128], l2[128];
    char *sock = api ? g_sock_api : g_sock;
    snprintf(sock, sizeof g_sock, "/tmp/bench_proxy.%d%s.sock", (int)getpid(),
             api ? ".api" : "");
    snprintf(l1, sizeof l1, "echo=127.0.0.1:0,127.0.0.1:%d", echo);
    snprintf(l2, sizeof l2, "sink=127.0.0.1:0,127.0.0.1:%d", sink);
    p->pid[0] = fork();
    if (p->pid[0] == 0) {
        char *argv[] = {
            "proxy",       "--control", sock,     "--seed", "1",
            "--link",      l1,          "--link", l2,       "--toxiproxy-api",
            "127.0.0.1:0", NULL};
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 2);
        _exit(cr_cli_proxy(api ? 11 : 9, argv));
    }
    for (int i = 0; i < 300; i++) {
        char *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        if (cr_proxy_client(sock, "links", 1000, &r, &e) == 0) {
            json_t *j = json_loads(r, 0, NULL);
            free(r);
            json_t *ls = json_object_get(j, "links");
            p->echo = (int)json_integer_value(
                json_object_get(json_array_get(ls, 0), "port"));
            p->sink = (int)json_integer_value(
                json_object_get(json_array_get(ls, 1), "port"));
            json_decref(j);
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

/* Another chaosrun binary's proxy (--against), on its own control socket;
 * the echo link only. */
static int start_external(path *p, const char *bin, int echo, char *sock,
                          size_t socklen)
{
    char l1[128];
    snprintf(sock, socklen, "/tmp/bench_proxy.%d.ext.sock", (int)getpid());
    snprintf(l1, sizeof l1, "echo=127.0.0.1:0,127.0.0.1:%d", echo);
    char *argv[] = {(char *)bin, "proxy",  "--control", sock, "--seed",
                    "1",         "--link", l1,          NULL};
    p->pid[0] = spawn(argv);
    for (int i = 0; i < 300; i++) {
        char *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        if (cr_proxy_client(sock, "links", 1000, &r, &e) == 0) {
            json_t *j = json_loads(r, 0, NULL);
            free(r);
            p->echo = (int)json_integer_value(json_object_get(
                json_array_get(json_object_get(j, "links"), 0), "port"));
            json_decref(j);
            return p->echo > 0 ? 0 : -1;
        }
        usleep(10000);
    }
    return -1;
}

static int start_socat(path *p, int echo, int sink)
{
    char a1[128], b1[64], a2[128], b2[64];
    p->echo = free_port();
    p->sink = free_port();
    snprintf(a1, sizeof a1,
             "TCP4-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr,nodelay", p->echo);
    snprintf(b1, sizeof b1, "TCP4:127.0.0.1:%d,nodelay", echo);
    snprintf(a2, sizeof a2, "TCP4-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr",
             p->sink);
    snprintf(b2, sizeof b2, "TCP4:127.0.0.1:%d", sink);
    char *v1[] = {"socat", a1, b1, NULL}, *v2[] = {"socat", a2, b2, NULL};
    p->pid[0] = spawn(v1);
    p->pid[1] = spawn(v2);
    return wait_port(p->echo) | wait_port(p->sink);
}

static int start_haproxy(path *p, int echo, int sink, char *cfg, size_t n)
{
    p->echo = free_port();
    p->sink = free_port();
    snprintf(cfg, n, "/tmp/bench_proxy.%d.haproxy.cfg", (int)getpid());
    FILE *fp = fopen(cfg, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "global\n  nbthread 1\n  maxconn 4000\n"
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n"
            "  timeout server 60s\n  option tcp-smart-accept\n"
            "listen echo\n  bind 127.0.0.1:%d\n  server s 127.0.0.1:%d\n"
            "listen sink\n  bind 127.0.0.1:%d\n  server s 127.0.0.1:%d\n",
            p->echo, echo, p->sink, sink);
    fclose(fp);
    char *v[] = {"haproxy", "-db", "-f", cfg, NULL};
    p->pid[0] = spawn(v);
    return wait_port(p->echo) | wait_port(p->sink);
}

static void stop(path *p)
{
    for (int i = 0; i < 2; i++)
        if (p->pid[i] > 0) {
            kill(p->pid[i], SIGTERM);
            waitpid(p->pid[i], NULL, 0);
            p->pid[i] = 0;
        }
}

/* One round of every measurement on one path. */
static void measure(path *p, int round, size_t bulk, int rtts, double conn_s)
{
    double *v = calloc((size_t)rtts, sizeof *v);
    double mbs = throughput(p->sink, bulk);
    int ok = mbs > 0 && pingpong(p->echo, v, rtts) == 0;
    double cps = ok ? conn_rate(p->echo, conn_s) : -1;
    if (!ok || cps <= 0)
        p->ok = 0;
    p->r_mbs[round] = mbs;
    p->r_p50[round] = v[rtts / 2] * 1e6;
    p->r_p99[round] = v[(int)(rtts * 0.99)] * 1e6;
    p->r_cps[round] = cps;
    free(v);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One rep's overshoots, in microseconds: the round trip and the
 * downstream one-way against the run without toxic, and the round trip
 * against the echo server's own 10 ms sleep (p50 and p99 each). */
typedef struct lat_rep {
    double rt50, rt99, ow50, ow99, id50, id99;
} lat_rep;

/* One rep of the latency toxic on the proxy behind sock / echo_port.
 * 0 or -1. */
static int latency_rep(const char *sock, int echo_port, int n, lat_rep *o)
{
    double *v = calloc((size_t)n, sizeof *v), *b = calloc((size_t)n, sizeof *b);
    double *vw = calloc((size_t)n, sizeof *vw),
           *bw = calloc((size_t)n, sizeof *bw);
    double *iv = calloc((size_t)n, sizeof *iv),
           *iw = calloc((size_t)n, sizeof *iw);
    char *reply = NULL;
    cr_err e;
    cr_err_clear(&e);
    int rc = -1, p99 = (int)(n * 0.99);
    if (v && b && vw && bw && iv && iw &&
        pingpong_ow(echo_port, b, bw, n) == 0 &&
        pingpong_kind(echo_port, iv, iw, n, 'D') == 0 &&
        cr_proxy_client(sock, "toxic add echo lat latency latency=10", 2000,
                        &reply, &e) == 0 &&
        strncmp(reply, "ok", 2) == 0) {
        if (pingpong_ow(echo_port, v, vw, n) == 0) {
            o->rt50 = (v[n / 2] - b[n / 2] - 0.010) * 1e6;
            o->rt99 = (v[p99] - b[n / 2] - 0.010) * 1e6;
            o->ow50 = (vw[n / 2] - bw[n / 2] - 0.010) * 1e6;
            o->ow99 = (vw[p99] - bw[n / 2] - 0.010) * 1e6;
            o->id50 = (v[n / 2] - iv[n / 2]) * 1e6;
            o->id99 = (v[p99] - iv[p99]) * 1e6;
            rc = 0;
        }
        free(reply);
        reply = NULL;
        cr_err_clear(&e);
        if (cr_proxy_client(sock, "toxic remove echo lat", 2000, &reply, &e) <
            0)
            rc = -1;
    }
    free(reply);
    free(v);
    free(b);
    free(vw);
    free(bw);
    free(iv);
    free(iw);
    return rc;
}

/* The median of field off over reps r[0..n). */
static double rep_median(const lat_rep *r, int n, size_t off)
{
    double v[64];
    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&r[i] + off, sizeof v[i]);
    return median(v, n);
}

static void print_medians(const char *who, const lat_rep *r, int reps)
{
    printf("median over %d reps, %s: round trip p50 %+.1f us, p99 %+.1f us; "
           "one-way p50 %+.1f us, p99 %+.1f us; against the server's own "
           "sleep p50 %+.1f us, p99 %+.1f us\n",
           reps, who, rep_median(r, reps, offsetof(lat_rep, rt50)),
           rep_median(r, reps, offsetof(lat_rep, rt99)),
           rep_median(r, reps, offsetof(lat_rep, ow50)),
           rep_median(r, reps, offsetof(lat_rep, ow99)),
           rep_median(r, reps, offsetof(lat_rep, id50)),
           rep_median(r, reps, offsetof(lat_rep, id99)));
}

/* --latency: this build's proxy, and with against another binary's,
 * alternating reps.  Prints each rep and the medians; 0 or 1. */
static int latency_mode(int echo, int sink, const char *against, int reps,
                        int trips)
{
    path self = {.name = "this build"}, ext = {.name = against};
    char ext_sock[128];
    lat_rep sr[64], xr[64];
    int rc = 0;
    if (start_chaosrun(&self, echo, sink, 0) < 0 ||
        (against &&
         start_external(&ext, against, echo, ext_sock, sizeof ext_sock) < 0)) {
        fprintf(stderr, "bench_proxy: a proxy did not start\n");
        rc = 1;
        goto out;
    }
    printf("bench_proxy --latency: 10 ms latency toxic (downstream), %d reps "
           "of %d round trips%s%s; overshoot beyond 10 ms in us\n\n",
           reps, trips, against ? ", alternating with --against" : "",
           g_poll_client ? ", polling client" : "");
    printf("| rep | proxy | round trip: overshoot p50 us | p99 us | "
           "downstream one-way: overshoot p50 us | p99 us | "
           "against the server's own 10 ms sleep: p50 us | p99 us |\n");
    printf("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < (against ? 2 : 1); k++) {
            /* Alternate which goes first, so neither always follows the
             * other's 10 s of sleeping. */
            int which = against ? (r + k) % 2 : 0;
            lat_rep *o = which ? &xr[r] : &sr[r];
            if (latency_rep(which ? ext_sock : g_sock,
                            which ? ext.echo : self.echo, trips, o) < 0) {
                fprintf(stderr, "bench_proxy: rep %d on %s failed\n", r,
                        which ? against : "this build");
                rc = 1;
                goto out;
            }
            printf("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                   r + 1, which ? against : "this build", o->rt50, o->rt99,
                   o->ow50, o->ow99, o->id50, o->id99);
            fflush(stdout);
        }
    }
    printf("\n");
    print_medians("this build", sr, reps);
    if (against)
        print_medians(against, xr, reps);
out:
    stop(&self);
    stop(&ext);
    if (against)
        unlink(ext_sock);
    return rc;
}

int main(int argc, char **argv)
{
    size_t bulk = 256u << 20;
    int rtts = 10000, lat_n = 500, rounds = 3;
    double conn_s = 1.0;
    int latency = 0, reps = 5, trips = 1000;
    const char *against = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--latency")) {
            latency = 1;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1 || reps > 64)
                reps = 5;
        } else if (!strcmp(argv[i], "--trips") && i + 1 < argc) {
            trips = atoi(argv[++i]);
            if (trips < 100)
                trips = 100;
        } else if (!strcmp(argv[i], "--poll-client")) {
            g_poll_client = 1;
        } else if (!strcmp(argv[i], "--against") && i + 1 < argc) {
            against = argv[++i];
        } else if (!strcmp(argv[i], "--full")) {
            bulk = 1u << 30;
        } else if (!strcmp(argv[i], "--quick")) {
            bulk = 16u << 20;
            rtts = 1000;
            lat_n = 50;
            conn_s = 0.2;
            rounds = 1;
        } else {
            fprintf(stderr, "usage: bench_proxy [--full|--quick]\n"
                            "       bench_proxy --latency [--reps N] "
                            "[--trips N] [--against CHAOSRUN] "
                            "[--poll-client]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int echo, sink;
    int el = listen_any(&echo), sl = listen_any(&sink);
    pid_t srv = fork();
    if (srv == 0) {
        server_loop(el, sl);
        _exit(0);
    }
    close(el);
    close(sl);
    if (latency) {
        int lrc = latency_mode(echo, sink, against, reps, trips);
        kill(srv, SIGKILL);
        waitpid(srv, NULL, 0);
        return lrc;
    }

    /* Every path is up at once and the rounds interleave them, so that a
     * noisy neighbour hurts all paths alike; medians over the rounds. */
    path paths[5] = {
        {.name = "direct", .echo = echo, .sink = sink, .started = 1},
        {.name = "chaosrun proxy"},
        {.name = "chaosrun proxy, Toxiproxy API idle"},
        {.name = "socat"},
        {.name = "haproxy (1 thread)"}};
    char cfg[128] = "";
    int np = 3, rc = 0;
    paths[1].started = start_chaosrun(&paths[1], echo, sink, 0) == 0;
    paths[2].started = start_chaosrun(&paths[2], echo, sink, 1) == 0;
    if (have("socat")) {
        paths[np].name = "socat";
        paths[np].started = start_socat(&paths[np], echo, sink) == 0;
        np++;
    }
    if (have("haproxy")) {
        paths[np].name = "haproxy (1 thread)";
        paths[np].started =
            start_haproxy(&paths[np], echo, sink, cfg, sizeof cfg) == 0;
        np++;
    }
    for (int i = 0; i < np; i++)
        paths[i].ok = paths[i].started;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < np; i++)
            if (paths[i].ok)
                measure(&paths[i], r, bulk, rtts, conn_s);
    for (int i = 0; i < np; i++) {
        path *p = &paths[i];
        p->mbs = median(p->r_mbs, rounds);
        p->p50 = median(p->r_p50, rounds);
        p->p99 = median(p->r_p99, rounds);
        p->cps = median(p->r_cps, rounds);
    }
    /* The latency toxic's accuracy, on the chaosrun proxy: round trips
     * without and with a 10 ms downstream latency. */
    double lat_p50 = -1, lat_p99 = -1;
    if (paths[1].ok) {
        double *v = calloc((size_t)lat_n, sizeof *v),
               *b = calloc((size_t)lat_n, sizeof *b);
        char *reply = NULL;
        cr_err e;
        cr_err_clear(&e);
        if (pingpong(paths[1].echo, b, lat_n) == 0 &&
            cr_proxy_client(g_sock, "toxic add echo lat latency latency=10",
                            2000, &reply, &e) == 0 &&
            pingpong(paths[1].echo, v, lat_n) == 0) {
            lat_p50 = (v[lat_n / 2] - b[lat_n / 2]) * 1e3;
            lat_p99 = (v[(int)(lat_n * 0.99)] - b[lat_n / 2]) * 1e3;
        }
        free(reply);
        free(v);
        free(b);
    }
    for (int i = 1; i < np; i++)
        stop(&paths[i]);
    if (*cfg)
        unlink(cfg);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);

    const path *d = &paths[0];
    printf("bench_proxy: bulk %zu MiB, %d round trips of 64 B, new connections "
           "for %.1f s;"
           " median of %d interleaved rounds\n\n",
           bulk >> 20, rtts, conn_s, rounds);
    printf("| path | throughput MB/s | x direct | RTT p50 us | RTT p99 us | "
           "added p50 us | conn/s | x direct |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < np; i++) {
        const path *p = &paths[i];
        if (!p->ok) {
            printf("| %s | failed | | | | | | |\n", p->name);
            rc = 1;
            continue;
        }
        printf("| %s | %.0f | %.2f | %.1f | %.1f | %.1f | %.0f | %.2f |\n",
               p->name, p->mbs, p->mbs / d->mbs, p->p50, p->p99,
               p->p50 - d->p50, p->cps, p->cps / d->cps);
    }
    printf("\nlatency toxic 10 ms (downstream), %d round trips: added p50 %.3f "
           "ms, p99 %.3f ms\n",
           lat_n, lat_p50, lat_p99);
    printf("(Toxiproxy documents < 100 us of added latency without toxics.)\n");
    return lat_p50 < 0 ? 1 : rc;
}
