/* Tests for the fault proxy (cr_proxy*.c, faults/proxy.c): each toxic's
 * effect as a client sees it, through a proxy process (cr_cli_proxy in a
 * forked child) in front of in-test servers on loopback; the control
 * protocol's error replies; seeded toxicity; the "links" section and the
 * proxy fault's validation with positions.
 *
 * Timing assertions exist only where timing is the toxic's effect, and
 * they are one-sided or generous: a delay toxic must never deliver early,
 * and must deliver within a wide margin. */
#include "cli/cr_cli.h"
#include "base/cr_alloc.h"
#include "proxy/cr_proxy.h"
#include "scenario/cr_scen.h"
#include "cr_test.h"

#if defined(__SANITIZE_ADDRESS__)
/* From the ASan runtime (its header is not installed with every gcc). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- in-test servers ---------------------------------------------------- */

/* Echo server and source server ("N\n" -> N pattern bytes, then close;
 * "Nr\n" -> the same, then a reset), one
 * process forking per connection, in its own process group. */
static pid_t g_srv = -1;
static int g_echo_port, g_src_port;
static pid_t g_px = -1;
static char g_sock[128];
static int g_pe, g_ps; /* proxy ports for the echo and source links */

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
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

static unsigned char pat(size_t i)
{
    return (unsigned char)(i * 7 + 3);
}

static void serve(int fd, int source)
{
    char buf[65536];
    if (!source) {
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(fd, buf + off, (size_t)(n - off));
                if (w <= 0)
                    _exit(0);
                off += w;
            }
        _exit(0);
    }
    size_t len = 0;
    while (len < sizeof buf - 1 && read(fd, buf + len, 1) == 1 &&
           buf[len] != '\n')
        len++;
    buf[len] = '\0';
    char *end;
    size_t want = strtoul(buf, &end, 10), sent = 0;
    int reset = *end == 'r';
    while (sent < want) {
        size_t k = want - sent < sizeof buf ? want - sent : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (char)pat(sent + i);
        ssize_t w = write(fd, buf, k);
        if (w <= 0)
            _exit(0);
        sent += (size_t)w;
    }
    if (reset) { /* "Nr": end with a reset instead of a close */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    _exit(0);
}

static int servers_start(void)
{
    int ef = listen_any(&g_echo_port), sf = listen_any(&g_src_port);
    if (ef < 0 || sf < 0)
        return -1;
    g_srv = fork();
    if (g_srv < 0)
        return -1;
    if (g_srv == 0) {
        setpgid(0, 0);
        signal(SIGCHLD, SIG_IGN);
        struct pollfd pf[2] = {{ef, POLLIN, 0}, {sf, POLLIN, 0}};
        for (;;) {
            if (poll(pf, 2, -1) < 0)
                continue;
            for (int i = 0; i < 2; i++) {
                if (!(pf[i].revents & POLLIN))
                    continue;
                int c = accept(pf[i].fd, NULL, NULL);
                if (c < 0)
                    continue;
                if (fork() == 0)
                    serve(c, i == 1);
                close(c);
            }
        }
    }
    setpgid(g_srv, g_srv);
    close(ef);
    close(sf);
    return 0;
}

static void servers_stop(void)
{
    if (g_srv > 0) {
        kill(-g_srv, SIGKILL);
        waitpid(g_srv, NULL, 0);
    }
    g_srv = -1;
}

/* ---- the proxy under test ------------------------------------------------ */

static char *ctl(const char *fmt, ...) CR_PRINTF(1, 2);
static char *ctl(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *reply = NULL;
    cr_err e;
    cr_err_clear(&e);
    if (cr_proxy_client(g_sock, line, 5000, &reply, &e) < 0)
        return cr_asprintf("err client: %s", e.msg);
    return reply;
}

/* Assert a reply starts with prefix (and contains needle if given). */
static int ctl_ok(const char *reply)
{
    int ok = reply && strncmp(reply, "ok", 2) == 0;
    if (!ok)
        fprintf(stderr, "reply: %s\n", reply ? reply : "(null)");
    return ok;
}

#define CTL_OK(...)                                                            \
    do {                                                                       \
        char *r_ = ctl(__VA_ARGS__);                                           \
        CU_ASSERT(ctl_ok(r_));                                                 \
        cr_free(r_);                                                           \
    } while (0)

static int link_port(json_t *links, const char *name)
{
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get(links, "links"), i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "name")), name))
            return (int)json_integer_value(json_object_get(l, "port"));
    }
    return -1;
}

static void proxy_start(unsigned long long seed)
{
    snprintf(g_sock, sizeof g_sock, "/tmp/cr_test_proxy.%d.sock",
             (int)getpid());
    char seedbuf[32], l1[128], l2[128];
    snprintf(seedbuf, sizeof seedbuf, "%llu", seed);
    snprintf(l1, sizeof l1, "e=127.0.0.1:0,127.0.0.1:%d", g_echo_port);
    snprintf(l2, sizeof l2, "s=127.0.0.1:0,127.0.0.1:%d", g_src_port);
    g_px = fork();
    CU_ASSERT_FATAL(g_px >= 0);
    if (g_px == 0) {
        char *argv[] = {"proxy",  "--control", g_sock,   "--seed", seedbuf,
                        "--link", l1,          "--link", l2,       NULL};
        int fd = open("/dev/null", O_RDONLY);
        dup2(fd, 0);
        _exit(cr_cli_proxy(9, argv));
    }
    for (int i = 0; i < 500; i++) {
        char *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        if (cr_proxy_client(g_sock, "links", 1000, &r, &e) == 0) {
            json_t *j = json_loads(r, 0, NULL);
            cr_free(r);
            g_pe = link_port(j, "e");
            g_ps = link_port(j, "s");
            json_decref(j);
            CU_ASSERT_FATAL(g_pe > 0 && g_ps > 0);
            return;
        }
        usleep(10000);
    }
    CU_FAIL_FATAL("proxy did not start");
}

static void proxy_stop(void)
{
    if (g_px > 0) {
        kill(g_px, SIGTERM);
        int st = 0;
        waitpid(g_px, &st, 0);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    g_px = -1;
}

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    return servers_start();
}

static int teardown(void)
{
    proxy_stop();
    servers_stop();
    return 0;
}

/* ---- client helpers ------------------------------------------------------ */

static int dial(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* Read with a timeout.  Returns bytes, 0 EOF, -errno, or -ETIMEDOUT. */
static ssize_t read_to(int fd, void *buf, size_t n, int ms)
{
    struct pollfd pf = {fd, POLLIN, 0};
    int k = poll(&pf, 1, ms);
    if (k == 0)
        return -ETIMEDOUT;
    ssize_t r = read(fd, buf, n);
    return r < 0 ? -errno : r;
}

/* Read exactly n bytes (or until EOF/error/timeout); returns count read. */
static size_t read_n(int fd, unsigned char *buf, size_t n, int ms,
                     ssize_t *last)
{
    size_t got = 0;
    *last = 1;
    while (got < n) {
        ssize_t r = read_to(fd, buf + got, n - got, ms);
        if (r <= 0) {
            *last = r;
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* One 64-byte round trip on an echo connection; seconds, or -1. */
static double rtt(int fd)
{
    unsigned char b[64];
    memset(b, 'p', sizeof b);
    double t = mono();
    if (write(fd, b, sizeof b) != (ssize_t)sizeof b)
        return -1;
    ssize_t last;
    if (read_n(fd, b, sizeof b, 5000, &last) != sizeof b)
        return -1;
    return mono() - t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Ask the source link for n bytes; returns the fd. */
static int fetch(int port, size_t n)
{
    int fd = dial(port);
    if (fd < 0)
        return fd;
    char req[32];
    int k = snprintf(req, sizeof req, "%zu\n", n);
    if (write(fd, req, (size_t)k) != k) {
        close(fd);
        return -EIO;
    }
    return fd;
}

static int pattern_ok(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(i))
            return 0;
    return 1;
}

/* ---- tests: relaying ----------------------------------------------------- */

static void test_proxy_relays_bytes_intact(void)
{
    proxy_start(1);
    size_t n = 4 << 20;
    unsigned char *b = malloc(n);
    int fd = fetch(g_ps, n);
    CU_ASSERT_FATAL(fd >= 0);
    ssize_t last;
    CU_ASSERT_EQUAL(read_n(fd, b, n, 5000, &last), n);
    CU_ASSERT(pattern_ok(b, n));
    CU_ASSERT_EQUAL(read_to(fd, b, 1, 5000), 0); /* EOF passed on */
    close(fd);
    int e = dial(g_pe);
    CU_ASSERT(e >= 0 && rtt(e) >= 0);
    close(e);
    free(b);
    /* Statistics count the bytes in each direction. */
    char *r = ctl("stats");
    json_t *st = json_loads(r, 0, NULL);
    json_t *ls = json_object_get(st, "links");
    json_t *s = json_array_get(ls, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "name")), "s");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                        json_object_get(s, "bytes"), "downstream")),
                    (json_int_t)n);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                        json_object_get(s, "connections"), "accepted")),
                    1);
    json_decref(st);
    cr_free(r);
    proxy_stop();
}

/* ---- tests: each toxic --------------------------------------------------- */

static void test_proxy_latency_adds_delay(void)
{
    proxy_start(2);
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0);
    enum { N = 21 };
    double base[N], lat[N];
    for (int i = 0; i < N; i++)
        base[i] = rtt(fd);
    CTL_OK("toxic add e lat latency latency=40 stream=downstream");
    for (int i = 0; i < N; i++)
        lat[i] = rtt(fd);
    qsort(base, N, sizeof *base, cmp_d);
    qsort(lat, N, sizeof *lat, cmp_d);
    double added = (lat[N / 2] - base[N / 2]) * 1e3;
    double added_min = (lat[0] - base[0]) * 1e3;
    printf("\n    latency 40 ms: added p50 %.2f ms, min %.2f ms, min rtt %.2f "
           "ms\n",
           added, added_min, lat[0] * 1e3);
    /* Never early, and not more than once: the fastest round trip (the
     * one the machine's load delayed least; a busy machine only adds)
     * gained 40 ms, within +30 %.  The median gained more than 28 ms.
     * (The p50's upper bound failed under ASan at nice 10 beside a CPU
     * hog: +53 ms with the fastest at +40.8.) */
    CU_ASSERT(lat[0] * 1e3 >= 40.0);
    CU_ASSERT(added_min < 52.0);
    CU_ASSERT(added > 28.0);
    /* Removing the toxic leaves the connection healthy and fast again:
     * the fastest of 5 round trips is under the 40 ms a toxic left behind
     * would add to every one (one round trip alone took 40+ ms under ASan
     * beside the whole suite -- the machine's, not the proxy's). */
    CTL_OK("toxic remove e lat");
    double after = 1e9;
    for (int i = 0; i < 5; i++) {
        double t = rtt(fd);
        CU_ASSERT(t >= 0);
        if (t >= 0 && t < after)
            after = t;
    }
    CU_ASSERT(after < 0.04);
    close(fd);
    proxy_stop();
}

static void test_proxy_bandwidth_limits_rate(void)
{
    proxy_start(3);
    CTL_OK("toxic add s bw bandwidth rate=400");
    size_t n = 200000; /* 0.5 s at 400 KB/s */
    unsigned char *b = malloc(n);
    double t = mono();
    int fd = fetch(g_ps, n);
    ssize_t last;
    CU_ASSERT_EQUAL(read_n(fd, b, n, 5000, &last), n);
    double dt = mono() - t;
    printf("\n    bandwidth 400 KB/s: %.0f KB/s\n", n / dt / 1000);
    CU_ASSERT(pattern_ok(b, n));
    CU_ASSERT(dt >= 0.45 && dt < 2.0);
    close(fd);
    free(b);
    proxy_stop();
}

static void test_proxy_timeout_stalls_then_closes(void)
{
    proxy_start(4);
    unsigned char b[64];
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0 && rtt(fd) >= 0);
    /* timeout=0: data is held (not lost) until the toxic goes. */
    CTL_OK("toxic add e t0 timeout timeout=0 stream=both");
    CU_ASSERT_EQUAL(write(fd, "hello", 5), 5);
    CU_ASSERT_EQUAL(read_to(fd, b, sizeof b, 300), -ETIMEDOUT);
    CTL_OK("toxic remove e t0");
    ssize_t last;
    CU_ASSERT_EQUAL(read_n(fd, b, 5, 5000, &last), 5);
    CU_ASSERT(memcmp(b, "hello", 5) == 0);
    /* timeout=150: stalls, then the connection is closed. */
    CTL_OK("toxic add e t1 timeout timeout=150");
    CU_ASSERT_EQUAL(write(fd, "x", 1), 1);
    double t = mono();
    CU_ASSERT_EQUAL(read_to(fd, b, sizeof b, 5000), 0);
    CU_ASSERT(mono() - t >= 0.1);
    close(fd);
    proxy_stop();
}

static void test_proxy_reset_peer_gives_econnreset(void)
{
    proxy_start(5);
    CTL_OK("toxic add e rs reset_peer timeout=100");
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0);
    unsigned char b[16];
    CU_ASSERT_EQUAL(read_to(fd, b, sizeof b, 5000), -ECONNRESET);
    close(fd);
    char *r = ctl("stats");
    CU_ASSERT(r && strstr(r, "\"reset\":1"));
    cr_free(r);
    proxy_stop();
}

static void test_proxy_latency_keeps_data_before_reset(void)
{
    proxy_start(13);
    CTL_OK("toxic add s lat latency latency=100");
    unsigned char b[3000];
    int fd = dial(g_ps);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "3000r\n", 6), 6);
    ssize_t last;
    /* The upstream resets right after sending; the delayed bytes still
     * arrive, in full, before the reset does. */
    CU_ASSERT_EQUAL(read_n(fd, b, sizeof b, 5000, &last), sizeof b);
    CU_ASSERT(pattern_ok(b, sizeof b));
    ssize_t r = read_to(fd, b, 1, 5000);
    if (r != -ECONNRESET)
        printf("\n    after the data: %zd\n", r);
    CU_ASSERT_EQUAL(r, -ECONNRESET);
    close(fd);
    proxy_stop();
}

static void test_proxy_limit_data_exact_bytes(void)
{
    proxy_start(6);
    CTL_OK("toxic add s lim limit_data bytes=1000");
    unsigned char b[5000];
    int fd = fetch(g_ps, sizeof b);
    ssize_t last;
    CU_ASSERT_EQUAL(read_n(fd, b, sizeof b, 5000, &last), 1000);
    CU_ASSERT_EQUAL(last, 0); /* closed after exactly 1000 bytes */
    CU_ASSERT(pattern_ok(b, 1000));
    close(fd);
    proxy_stop();
}

static void test_proxy_down_refuses_then_heals(void)
{
    proxy_start(7);
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0 && rtt(fd) >= 0);
    CTL_OK("toxic add e dn down");
    unsigned char b[8];
    ssize_t r = read_to(fd, b, sizeof b, 5000);
    CU_ASSERT(r == 0 || r == -ECONNRESET); /* existing connection dropped */
    close(fd);
    CU_ASSERT_EQUAL(dial(g_pe), -ECONNREFUSED);
    CTL_OK("toxic remove e dn");
    fd = dial(g_pe);
    CU_ASSERT(fd >= 0 && rtt(fd) >= 0);
    if (fd >= 0)
        close(fd);
    proxy_stop();
}

static void test_proxy_refuse_closes_at_once(void)
{
    proxy_start(8);
    CTL_OK("toxic add e rf refuse");
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0); /* accepted ... */
    unsigned char b[8];
    CU_ASSERT_EQUAL(read_to(fd, b, sizeof b, 5000), 0); /* ... then closed */
    close(fd);
    CTL_OK("toxic remove e rf");
    fd = dial(g_pe);
    CU_ASSERT(fd >= 0 && rtt(fd) >= 0);
    close(fd);
    proxy_stop();
}

static void test_proxy_slicer_splits(void)
{
    proxy_start(9);
    CTL_OK(
        "toxic add s sl slicer average_size=10 size_variation=4 delay=15000");
    unsigned char b[200];
    int fd = fetch(g_ps, sizeof b);
    size_t got = 0;
    int reads = 0;
    while (got < sizeof b) {
        ssize_t r = read_to(fd, b + got, sizeof b - got, 5000);
        if (r <= 0)
            break;
        got += (size_t)r;
        reads++;
    }
    CU_ASSERT_EQUAL(got, sizeof b);
    CU_ASSERT(pattern_ok(b, got));
    CU_ASSERT(reads >= 5); /* 200 bytes in ~20 slices, 15 ms apart */
    close(fd);
    proxy_stop();
}

static void test_proxy_slow_close_delays_eof(void)
{
    proxy_start(10);
    CTL_OK("toxic add s sc slow_close delay=300");
    unsigned char b[10];
    int fd = fetch(g_ps, sizeof b);
    ssize_t last;
    CU_ASSERT_EQUAL(read_n(fd, b, sizeof b, 5000, &last), sizeof b);
    double t = mono();
    CU_ASSERT_EQUAL(read_to(fd, b, 1, 5000), 0);
    CU_ASSERT(mono() - t >= 0.2);
    close(fd);
    proxy_stop();
}

/* ---- tests: seeds, healthy connections, protocol ------------------------ */

/* Which of 16 connections a toxicity-0.5 refuse toxic affects. */
static unsigned refused_pattern(unsigned long long seed)
{
    proxy_start(seed);
    CTL_OK("toxic add e half refuse toxicity=0.5");
    unsigned mask = 0;
    for (int i = 0; i < 16; i++) {
        int fd = dial(g_pe);
        CU_ASSERT_FATAL(fd >= 0);
        unsigned char b[64];
        memset(b, 'q', sizeof b);
        CU_ASSERT(write(fd, b, 1) == 1 || errno == EPIPE ||
                  errno == ECONNRESET);
        ssize_t r = read_to(fd, b, 1, 5000);
        if (r <= 0)
            mask |= 1u << i;
        close(fd);
    }
    proxy_stop();
    return mask;
}

static void test_proxy_toxicity_is_seeded(void)
{
    signal(SIGPIPE, SIG_IGN);
    unsigned a = refused_pattern(42), b = refused_pattern(42);
    printf("\n    seed 42: refused mask %04x, again %04x\n", a, b);
    CU_ASSERT_EQUAL(a, b);
    CU_ASSERT(a != 0 && a != 0xffff); /* some affected, some spared */
}

static void test_proxy_healthy_connections_survive(void)
{
    proxy_start(11);
    int fd = dial(g_pe);
    CU_ASSERT_FATAL(fd >= 0);
    /* Toxics come and go while the connection carries traffic; it must
     * neither drop nor reorder nor lose a byte. */
    const char *adds[] = {"latency latency=5", "bandwidth rate=2000",
                          "slicer average_size=100 size_variation=50 delay=100",
                          "latency latency=1 jitter=1 stream=both",
                          "limit_data bytes=100000000"};
    unsigned char out[4096], in[4096];
    size_t seq = 0;
    for (int round = 0; round < 10; round++) {
        if (round % 2 == 0)
            CTL_OK("toxic add e t%d %s", round, adds[(round / 2) % 5]);
        else
            CTL_OK("toxic remove e t%d", round - 1);
        for (int k = 0; k < 5; k++) {
            for (size_t i = 0; i < sizeof out; i++)
                out[i] = pat(seq + i);
            CU_ASSERT_EQUAL_FATAL(write(fd, out, sizeof out),
                                  (ssize_t)sizeof out);
            ssize_t last;
            CU_ASSERT_EQUAL_FATAL(read_n(fd, in, sizeof in, 5000, &last),
                                  sizeof in);
            CU_ASSERT(memcmp(in, out, sizeof in) == 0);
            seq += sizeof out;
        }
    }
    close(fd);
    char *r = ctl("stats");
    CU_ASSERT(r && strstr(r, "\"accepted\":1,"));
    cr_free(r);
    proxy_stop();
}

static void expect_err(const char *line, const char *needle)
{
    char *r = ctl("%s", line);
    int ok = r && strncmp(r, "err ", 4) == 0 && strstr(r, needle);
    if (!ok)
        fprintf(stderr, "'%s' -> '%s' (wanted err with '%s')\n", line,
                r ? r : "(null)", needle);
    CU_ASSERT(ok);
    cr_free(r);
}

static void test_proxy_control_errors(void)
{
    proxy_start(12);
    expect_err("frobnicate", "unknown command 'frobnicate'");
    expect_err("toxic add nolink x latency latency=1", "no link 'nolink'");
    expect_err("toxic add e x latncy latency=1", "did you mean 'latency'");
    expect_err("toxic add e x latency latency=-5",
               "latency must be within [0,");
    expect_err("toxic add e x latency latency=5 toxicity=1.5",
               "toxicity must be within [0, 1]");
    expect_err("toxic add e x latency", "attribute 'latency' is required");
    expect_err("toxic add e x latency latency=abc", "not a number");
    expect_err("toxic add e x latency rate=5", "unknown attribute 'rate'");
    expect_err("toxic add e x latency latency=5 stream=sideways",
               "stream must be");
    expect_err("toxic add e x slicer average_size=10 size_variation=10",
               "size_variation (10) must be smaller");
    expect_err("toxic add e x bandwidth rate=0", "rate must be within");
    expect_err("toxic remove e ghost", "no toxic 'ghost' on link e");
    expect_err("toxic add e", "usage: toxic add");
    expect_err("link add bad 10.0.0.1:80 127.0.0.1:1", "loopback");
    CTL_OK("toxic add e x latency latency=1");
    expect_err("toxic add e x latency latency=1", "already exists");
    CTL_OK("reset");
    expect_err("toxic remove e x", "no toxic");
    CTL_OK("ping");
    proxy_stop();
}

static void test_proxy_cli_usage(void)
{
    char *bad[] = {"proxy", "--listen", "127.0.0.1:0", NULL};
    CU_ASSERT_EQUAL(cr_cli_proxy(3, bad), 2); /* --upstream missing */
    char *bad2[] = {"proxy", "--link", "nonsense", NULL};
    CU_ASSERT_EQUAL(cr_cli_proxy(3, bad2), 2);
    char *bad3[] = {"proxy",      "--listen",    "192.0.2.1:0",
                    "--upstream", "127.0.0.1:1", NULL};
    CU_ASSERT_EQUAL(cr_cli_proxy(5, bad3), 2); /* not loopback */
}

/* ---- tests: scenario validation ----------------------------------------- */

static const char *scen_fmt =
    "{\n"
    "  \"name\": \"p\",\n"
    "  \"duration_s\": 10,\n"
    "  \"services\": [\n"
    "    {\"name\": \"worker\", \"cmd\": [\"/bin/true\"]},\n"
    "    {\"name\": \"feature\", \"cmd\": [\"/bin/true\"], \"port\": 7001}\n"
    "  ],\n"
    "  \"links\": [%s],\n"
    "  \"faults\": [\n"
    "    %s\n"
    "  ]\n"
    "}\n";

/* Load text as scenario file name; returns diags count, fills the first
 * message and line. */
static size_t load_doc(const char *name, const char *text, char *msg, size_t n,
                       int *line, cr_scen **out)
{
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err e;
    cr_err_clear(&e);
    cr_scen_load_buffer(name, text, strlen(text), &sc, &d, &e);
    size_t k = d.n;
    if (msg)
        snprintf(msg, n, "%s", d.n ? d.v[0].msg : "");
    if (line)
        *line = d.n ? d.v[0].line : 0;
    if (d.n)
        cr_diags_print(&d, stdout);
    cr_diags_free(&d);
    if (out)
        *out = sc;
    else
        cr_scen_free(sc);
    return k;
}

/* scen_fmt with links and fault, loaded as load_doc. */
static size_t load(const char *links, const char *fault, char *msg, size_t n,
                   int *line, cr_scen **out)
{
    char *text = cr_asprintf(scen_fmt, links, fault);
    size_t k = load_doc("p.json", text, msg, n, line, out);
    cr_free(text);
    return k;
}

static const char *good_link =
    "{\"name\": \"w2f\", \"from\": \"worker\", \"to\": \"feature\"}";

static void test_proxy_scenario_valid(void)
{
    cr_scen *sc = NULL;
    CU_ASSERT_EQUAL(
        load(good_link,
             "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latency\", "
             "\"latency\": 200, \"jitter\": 50, \"stream\": \"downstream\", "
             "\"at_s\": 1, \"for_s\": 2}",
             NULL, 0, NULL, &sc),
        0);
    CU_ASSERT_FATAL(sc != NULL);
    const cr_proxy_link_spec *l = cr_proxy_link_find(sc, "w2f");
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(l->port, 7001); /* defaults to the service's port */
    CU_ASSERT_STRING_EQUAL(l->from, "worker");
    cr_scen_free(sc);
}

static void expect_diag(const char *links, const char *fault,
                        const char *needle, int want_line)
{
    char msg[1024];
    int line = 0;
    size_t n = load(links, fault, msg, sizeof msg, &line, NULL);
    CU_ASSERT(n >= 1);
    int ok = strstr(msg, needle) != NULL && line == want_line;
    if (!ok)
        fprintf(stderr, "wanted '%s' at line %d, got '%s' at line %d\n", needle,
                want_line, msg, line);
    CU_ASSERT(ok);
}

static void test_proxy_scenario_errors_have_positions(void)
{
    /* The fault object is on line 10, the links on line 8. */
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latency\", "
        "\"latency\": -5, \"for_s\": 1}",
        "-5", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latency\", "
        "\"latency\": 5, \"toxicity\": 1.5, \"for_s\": 1}",
        "1.5", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latncy\", "
        "\"for_s\": 1}",
        "latency", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"nope\", \"toxic\": \"down\", "
        "\"for_s\": 1}",
        "no link \"nope\"", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latency\", "
        "\"latency\": 5, \"rate\": 3, \"for_s\": 1}",
        "\"rate\" does not apply to toxic \"latency\"", 10);
    expect_diag(good_link,
                "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"down\"}",
                "for_s", 10);
    expect_diag(good_link,
                "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"down\", "
                "\"stream\": \"upstream\", \"for_s\": 1}",
                "\"stream\" does not apply to toxic \"down\"", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"latency\", "
        "\"latency\": 5, \"stream\": \"sideways\", \"for_s\": 1}",
        "sideways", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"slicer\", "
        "\"average_size\": 10, \"size_variation\": 12, \"for_s\": 1}",
        "size_variation (12) must be smaller", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"bandwidth\", "
        "\"for_s\": 1}",
        "rate", 10);
    expect_diag(
        good_link,
        "{\"kind\": \"proxy\", \"target\": \"worker\", \"link\": \"w2f\", "
        "\"toxic\": \"down\", \"for_s\": 1}",
        "target", 10);
    expect_diag("{\"name\": \"w2f\", \"from\": \"wrker\", \"to\": \"feature\"}",
                "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"down\", "
                "\"for_s\": 1}",
                "did you mean \"worker\"", 8);
    expect_diag(
        "{\"name\": \"w2f\", \"from\": \"feature\", \"to\": \"worker\"}",
        "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"down\", "
        "\"for_s\": 1}",
        "has no \"port\"", 8);
    expect_diag("{\"name\": \"w2f\", \"from\": \"worker\", \"to\": "
                "\"feature\", \"lisen_port\": 1}",
                "{\"kind\": \"proxy\", \"link\": \"w2f\", \"toxic\": \"down\", "
                "\"for_s\": 1}",
                "listen_port", 8);
}

/* Found by tests/fuzz/fuzz_scen (regressions/fuzz_scen/): a link naming
 * an unknown service, in a scenario where a service has no valid name,
 * crashed the loader (cr_levenshtein on a NULL name). */
static void test_proxy_links_hint_skips_unnamed_services(void)
{
    const char *text =
        "{\"name\": \"t\", \"duration_s\": 10,\n"
        " \"services\": [{\"cmd\": [\"true\"], \"port\": 1}, {\"name\": "
        "\"b\", \"cmd\": [\"true\"]}],\n"
        " \"links\": [{\"name\": \"l\", \"from\": \"b\", \"to\": "
        "\"nosuch\"}]}";
    cr_scen *sc = NULL;
    cr_diags d = {0};
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(
        cr_scen_load_buffer("u.json", text, strlen(text), &sc, &d, &err),
        CR_EINVAL);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
        found |=
            strstr(d.v[i].msg, "links[0].to: no service \"nosuch\"") != NULL;
    CU_ASSERT(found);
    cr_diags_free(&d);
    cr_scen_free(sc);
}

/* ---- in-process: bounded history, allocation failures ------------------- */

/* Bytes the process holds on the heap now (ASan keeps its own books). */
static size_t heap_live(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* Run one control line on p and check its reply starts with `want`. */
static void cmd_ok(cr_proxy *p, const char *line, const char *want)
{
    char *r = cr_proxy_command(p, line);
    int ok = r && strncmp(r, want, strlen(want)) == 0;
    if (!ok)
        fprintf(stderr, "\n'%s' -> '%s'", line, r ? r : "(null)");
    CU_ASSERT(ok);
    cr_free(r);
}

/* 100k `toxic add` + `toxic remove` pairs grew the proxy to 782 MB and
 * `stats` to 73 MB: every removed toxic was kept.  Now the last
 * CR_PROXY_HISTORY are kept in full and older ones summed per type. */
static void test_proxy_history_bounded(void)
{
    cr_proxy *p = NULL;
    cr_err err;
    char line[128];
    cr_err_clear(&err);
    cr_alloc_install_json();
    CU_ASSERT_EQUAL_FATAL(cr_proxy_create(7, &p, &err), 0);
    CU_ASSERT_EQUAL_FATAL(
        cr_proxy_link_add(p, "api", "127.0.0.1:0", "127.0.0.1:1", &err), 0);
    cmd_ok(p, "toxic add api keep latency latency=200 toxicity=0.3", "ok");
    size_t live = 0;
    for (int i = 0; i < 25000; i++) {
        if (i == 5000)
            live = heap_live();
        snprintf(line, sizeof line, "toxic add api t%d %s", i,
                 i % 2 ? "limit_data bytes=4096" : "latency latency=1");
        cmd_ok(p, line, "ok toxic");
        snprintf(line, sizeof line, "toxic remove api t%d", i);
        cmd_ok(p, line, "ok toxic");
    }
    size_t grown = heap_live() - live;
    if (grown >= 64 * 1024)
        fprintf(stderr, "\nheap grew by %zu bytes over 20000 pairs", grown);
    CU_ASSERT(grown < 64 * 1024);

    char *r = cr_proxy_command(p, "stats");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(strlen(r) < 64 * 1024);
    json_error_t je;
    json_t *st = json_loads(r, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    json_t *l = json_array_get(json_object_get(st, "links"), 0);
    json_t *tox = json_object_get(l, "toxics");
    json_t *h = json_object_get(l, "history");
    /* The active one and the last 64 removed, in order of addition. */
    CU_ASSERT_EQUAL(json_array_size(tox), CR_PROXY_HISTORY + 1);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_array_get(tox, 0), "name")),
        "keep");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_array_get(tox, 1), "name")),
        "t24936");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
                               json_array_get(tox, CR_PROXY_HISTORY), "name")),
                           "t24999");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(h, "added")), 25001);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(h, "removed")), 25000);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(h, "kept")),
                    CR_PROXY_HISTORY);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(h, "evicted")),
                    25000 - CR_PROXY_HISTORY);
    json_t *by = json_object_get(h, "evicted_by_type");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                        json_object_get(by, "latency"), "toxics")) +
                        json_integer_value(json_object_get(
                            json_object_get(by, "limit_data"), "toxics")),
                    25000 - CR_PROXY_HISTORY);
    /* Sensible numbers: 0.3 stays 0.3, integral attributes are integers,
     * times have at most microseconds. */
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"toxicity\":0.3,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"attributes\":{\"latency\":200,"));
    const char *a = strstr(r, "\"added_s\":");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    const char *dot = strchr(a, '.'), *end = a + strcspn(a, ",}");
    CU_ASSERT(!dot || dot > end || end - dot <= 7);
    json_decref(st);
    cr_free(r);
    cmd_ok(p, "reset", "ok reset");
    /* A line too long for the parser is refused, never cut and run. */
    char lng[5000];
    int k = snprintf(lng, sizeof lng, "toxic add api long latency latency=1");
    memset(lng + k, ' ', sizeof lng - (size_t)k - 1);
    lng[sizeof lng - 1] = '\0';
    cmd_ok(p, lng, "err line too long");
    cr_proxy_destroy(p);
}

/* Allocation failures anywhere in the proxy's control path: every call
 * fails cleanly (an error, or "err ..." on the channel), nothing leaks
 * (ASan) and nothing crashes; N = 1, 2, ... until the sequence runs
 * without a failure. */
static int oom_sequence(void)
{
    cr_proxy *p = NULL;
    cr_err err;
    int ok = 1;
    cr_err_clear(&err);
    if (cr_proxy_create(3, &p, &err) < 0) {
        CU_ASSERT_EQUAL(err.code, CR_ENOMEM);
        return 0;
    }
    if (cr_proxy_link_add(p, "e", "127.0.0.1:0", "127.0.0.1:1", &err) < 0) {
        CU_ASSERT_EQUAL(err.code, CR_ENOMEM);
        ok = 0;
    }
    cr_proxy_toxic t;
    cr_proxy_toxic_init(&t, CR_PTOX_LATENCY);
    t.attr[0] = 5;
    cr_err_clear(&err);
    if (ok && cr_proxy_toxic_add(p, "e", "direct", &t, &err) < 0) {
        CU_ASSERT_EQUAL(err.code, CR_ENOMEM);
        ok = 0;
    }
    /* Removing never allocates, so it cannot fail for lack of memory. */
    cr_err_clear(&err);
    if (ok)
        CU_ASSERT_EQUAL(cr_proxy_toxic_remove(p, "e", "direct", &err), 0);
    static const char *lines[] = {
        "link add f 127.0.0.1:0 127.0.0.1:2",
        "toxic add e slow latency latency=10 jitter=1",
        "toxic add e cut limit_data bytes=10 stream=both",
        "stats",
        "toxic remove e slow",
        "links",
        "help",
        "bogus command",
        "stats",
        "reset",
        NULL,
    };
    for (int i = 0; ok && lines[i]; i++) {
        char *r = cr_proxy_command(p, lines[i]);
        if (!r || (strncmp(r, "ok", 2) && r[0] != '{' &&
                   strncmp(lines[i], "bogus", 5)))
            ok = 0;
        if (r && !ok)
            CU_ASSERT_PTR_NOT_NULL(strstr(r, "out of memory"));
        cr_free(r);
    }
    cr_proxy_destroy(p);
    return ok;
}

static void test_proxy_oom_loop(void)
{
    long n;
    int done = 0;
    cr_alloc_install_json();
    for (n = 1; n < 100000 && !done; n++) {
        long fails = cr_alloc_failures();
        cr_alloc_fail_after(n);
        int ok = oom_sequence();
        cr_alloc_fail_after(0);
        if (cr_alloc_failures() == fails) {
            CU_ASSERT(ok);
            done = 1;
        }
    }
    CU_ASSERT(done);
    CU_ASSERT(n > 20);
    fprintf(stderr, "(allocation-failure loop: %ld iterations) ", n - 1);
}

/* ---- tests: a link made in another network namespace -------------------- */

/* A link whose sockets are made in a namespace of its own (a host's, in a
 * run): a client there reaches the listener on that namespace's loopback,
 * and the proxy's upstream connection reaches an echo server listening on
 * that loopback only -- unreachable from the proxy's own namespace.
 * Root only (unshare). */
static void test_proxy_link_in_netns(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "(not root: link in a namespace not tried) ");
        return;
    }
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    CU_ASSERT_FATAL(self >= 0);
    if (unshare(CLONE_NEWNET) < 0) {
        fprintf(stderr, "(unshare: %s: not tried) ", strerror(errno));
        close(self);
        return;
    }
    int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CU_ASSERT(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    CU_ASSERT(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    close(s);
    int eport = 0, lf = listen_any(&eport); /* on the namespace's loopback */
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* a client */
    CU_ASSERT_FATAL(setns(self, CLONE_NEWNET) == 0);
    close(self);
    CU_ASSERT_FATAL(ns >= 0 && lf >= 0 && cfd >= 0);
    pid_t echo = fork();
    CU_ASSERT_FATAL(echo >= 0);
    if (echo == 0) {
        int c = accept(lf, NULL, NULL);
        if (c >= 0)
            serve(c, 0);
        _exit(1);
    }
    close(lf);
    char sock[128], link[160], path[64];
    snprintf(sock, sizeof sock, "/tmp/cr_test_proxy_ns.%d.sock", (int)getpid());
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), ns);
    snprintf(link, sizeof link, "ns=127.0.0.1:0,127.0.0.1:%d,%s", eport, path);
    pid_t px = fork();
    CU_ASSERT_FATAL(px >= 0);
    if (px == 0) {
        char *argv[] = {"proxy", "--control", sock, "--link", link, NULL};
        int fd = open("/dev/null", O_RDONLY);
        dup2(fd, 0);
        _exit(cr_cli_proxy(5, argv));
    }
    json_t *j = NULL;
    for (int i = 0; i < 500 && !j; i++) {
        char *r = NULL;
        cr_err e;
        cr_err_clear(&e);
        if (cr_proxy_client(sock, "links", 1000, &r, &e) == 0) {
            j = json_loads(r, 0, NULL);
            cr_free(r);
        } else {
            usleep(10000);
        }
    }
    CU_ASSERT_FATAL(j != NULL);
    int port = link_port(j, "ns");
    json_t *l0 = json_array_get(json_object_get(j, "links"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(l0, "netns")),
                           path);
    json_decref(j);
    /* from inside the namespace: through the proxy to the echo server */
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT(connect(cfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CU_ASSERT(write(cfd, "hello", 5) == 5);
    char buf[16] = {0};
    size_t got = 0;
    double end = mono() + 5;
    while (got < 5 && mono() < end) {
        struct pollfd pf = {cfd, POLLIN, 0};
        if (poll(&pf, 1, 200) > 0) {
            ssize_t n = read(cfd, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
    }
    CU_ASSERT_STRING_EQUAL(buf, "hello");
    close(cfd);
    /* a path that is no network namespace: refused, the proxy exits 2 */
    char bad[160];
    snprintf(bad, sizeof bad, "x=127.0.0.1:0,127.0.0.1:%d,/proc/self/ns/mnt",
             eport);
    char *argv2[] = {"proxy", "--link", bad, NULL};
    CU_ASSERT_EQUAL(cr_cli_proxy(3, argv2), 2);
    kill(px, SIGTERM);
    kill(echo, SIGKILL);
    waitpid(px, NULL, 0);
    waitpid(echo, NULL, 0);
    close(ns);
}

/* The loader: links between hosts are allowed, a host and the harness's
 * network, a remote node or a container without a network are not. */
static void test_proxy_links_between_hosts(void)
{
    static const char fmt[] =
        "{\"name\": \"h\", \"duration_s\": 1, \"hosts\": [%s],\n"
        " \"services\": [\n"
        "  {\"name\": \"w\", %s \"cmd\": [\"/bin/true\"]},\n"
        "  {\"name\": \"f\", %s \"port\": 7001}],\n"
        " \"links\": [{\"name\": \"l\", \"from\": \"w\", \"to\": "
        "\"f\"}]}\n";
    struct {
        const char *b, *wh, *f, *want;
    } cases[] = {
        {"\"a\", \"b\"", "\"host\": \"a\",",
         "\"host\": \"b\", \"cmd\": [\"/bin/true\"],", NULL},
        {"\"a\", \"b\"", "\"host\": \"a\",", "\"cmd\": [\"/bin/true\"],",
         "\"w\" runs in network host \"a\" and \"f\" on the harness's "
         "network"},
        {"{\"name\": \"a\", \"ssh\": \"root@127.0.0.1:22\"}, "
         "{\"name\": \"b\", \"ssh\": \"root@127.0.0.1:23\"}",
         "\"host\": \"a\",", "\"host\": \"b\", \"cmd\": [\"/bin/true\"],",
         "service \"w\" runs on remote node \"a\" (ssh)"},
        {"\"a\", \"b\"", "",
         "\"container\": {\"image\": \"x\", \"network\": \"none\"},",
         "\"f\" is a container with \"network\": \"none\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = cr_asprintf(fmt, cases[i].b, cases[i].wh, cases[i].f);
        char msg[1024];
        size_t n = load_doc("h.json", text, msg, sizeof msg, NULL, NULL);
        int ok = cases[i].want ? n >= 1 && strstr(msg, cases[i].want) != NULL
                               : n == 0;
        if (!ok)
            fprintf(stderr, "case %zu: wanted '%s', got %zu: '%s'\n", i,
                    cases[i].want ? cases[i].want : "(valid)", n, msg);
        CU_ASSERT(ok);
        cr_free(text);
    }
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("proxy", setup, teardown);
    CR_ADD_TEST(s, test_proxy_relays_bytes_intact);
    CR_ADD_TEST(s, test_proxy_latency_adds_delay);
    CR_ADD_TEST(s, test_proxy_bandwidth_limits_rate);
    CR_ADD_TEST(s, test_proxy_timeout_stalls_then_closes);
    CR_ADD_TEST(s, test_proxy_reset_peer_gives_econnreset);
    CR_ADD_TEST(s, test_proxy_latency_keeps_data_before_reset);
    CR_ADD_TEST(s, test_proxy_limit_data_exact_bytes);
    CR_ADD_TEST(s, test_proxy_down_refuses_then_heals);
    CR_ADD_TEST(s, test_proxy_refuse_closes_at_once);
    CR_ADD_TEST(s, test_proxy_slicer_splits);
    CR_ADD_TEST(s, test_proxy_slow_close_delays_eof);
    CR_ADD_TEST(s, test_proxy_toxicity_is_seeded);
    CR_ADD_TEST(s, test_proxy_healthy_connections_survive);
    CR_ADD_TEST(s, test_proxy_control_errors);
    CR_ADD_TEST(s, test_proxy_cli_usage);
    CR_ADD_TEST(s, test_proxy_scenario_valid);
    CR_ADD_TEST(s, test_proxy_scenario_errors_have_positions);
    CR_ADD_TEST(s, test_proxy_links_hint_skips_unnamed_services);
    CR_ADD_TEST(s, test_proxy_history_bounded);
    CR_ADD_TEST(s, test_proxy_oom_loop);
    CR_ADD_TEST(s, test_proxy_link_in_netns);
    CR_ADD_TEST(s, test_proxy_links_between_hosts);
}
