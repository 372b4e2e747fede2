/* crp_util: see crp_util.h. */
#include "crp_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t crp_stop_requested;
/* The write end of the self-pipe of crp_signals_wakeup (-1: none).  Set
 * once before the handlers can use it; read only by signal handlers. */
static volatile sig_atomic_t wake_wfd = -1;

double crp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t crp_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void crp_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void crp_rng_seed(crp_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t crp_rng_next(crp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double crp_rng_unit(crp_rng *r)
{
    return (double)(crp_rng_next(r) >> 11) * 0x1.0p-53;
}

double crp_rng_normal(crp_rng *r)
{
    double u1 = crp_rng_unit(r), u2 = crp_rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t crp_rng_below(crp_rng *r, uint64_t n)
{
    return crp_rng_next(r) % n; /* bias negligible for our n */
}

uint64_t crp_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void crp_hex_id(crp_rng *r, char *out, size_t nbytes)
{
    static const char hx[] = "0123456789abcdef";
    size_t j = 0;
    uint64_t w = 0;
    for (size_t i = 0; i < nbytes; i++) {
        if (i % 8 == 0)
            w = crp_rng_next(r);
        unsigned b = (unsigned)(w & 0xff);
        w >>= 8;
        out[j++] = hx[b >> 4];
        out[j++] = hx[b & 15];
    }
    out[j] = '\0';
}

uint64_t crp_entropy(void)
{
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
            v = 0;
        close(fd);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return v ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
           ((uint64_t)getpid() << 40);
}

/* One byte down the self-pipe: the loop's poll wakes up.  A full pipe
 * already holds a wake-up, so a failed write loses nothing. */
static void wake(void)
{
    int fd = wake_wfd, saved = errno;
    if (fd >= 0 && write(fd, "", 1) < 0) {
    }
    errno = saved;
}

static void on_stop(int sig)
{
    (void)sig;
    crp_stop_requested = 1;
    wake();
}

static void on_child(int sig)
{
    (void)sig;
    wake();
}

int crp_signals_wakeup(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    wake_wfd = p[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) < 0) {
        int rc = -errno;
        wake_wfd = -1;
        close(p[0]);
        close(p[1]);
        return rc;
    }
    return p[0];
}

void crp_signals_drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

int crp_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -errno;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

void crp_strlcpy(char *dst, const char *src, size_t n)
{
    if (n == 0)
        return;
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}
