/* cr_tgt_redis_client: a client of a real redis-server that verifies its
 * own writes on shutdown (the regression test of the ordered stop,
 * tests/e2e/core_stop_order.sh).
 *
 *   cr_tgt_redis_client --port P [--every-ms N]
 *
 * Until SIGTERM: SET cr:<id> <id> one after another (then a pause of N
 * ms, default 0), and after each "+OK" -- redis acknowledged it, and with
 * appendfsync always it is on disk -- emit `accepted` {id}.  On SIGTERM:
 * read every acknowledged key back with GET and emit `delivered` {id} for
 * each one found with its value, then `stopped`, and exit 0.  If redis is
 * gone by then, the keys it cannot read back stay undelivered: a no_loss
 * expectation reports them lost.  Plain sockets speaking RESP; no
 * library. */
#include "lib/cr_tgt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    char buf[4096];
    size_t len, off;
} conn;

static int conn_open(conn *c, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->len = c->off = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static int send_all(conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One line of the reply without its CRLF, into out. */
static int read_line(conn *c, char *out, size_t n)
{
    for (;;) {
        for (size_t i = c->off; i + 1 < c->len; i++) {
            if (c->buf[i] == '\r' && c->buf[i + 1] == '\n') {
                size_t l = i - c->off;
                if (l >= n)
                    return -1;
                memcpy(out, c->buf + c->off, l);
                out[l] = '\0';
                c->off = i + 2;
                return 0;
            }
        }
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->len == sizeof c->buf)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

/* A command of two or three arguments (RESP array of bulk strings). */
static int command(conn *c, const char *a, const char *b, const char *d)
{
    char req[512];
    int n;
    if (d)
        n = snprintf(req, sizeof req,
                     "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
                     strlen(a), a, strlen(b), b, strlen(d), d);
    else
        n = snprintf(req, sizeof req, "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
                     strlen(a), a, strlen(b), b);
    return n > 0 && (size_t)n < sizeof req ? send_all(c, req, (size_t)n) : -1;
}

/* GET key: 1 found with value want, 0 not found or other, -1 broken. */
static int get_equals(conn *c, const char *key, const char *want)
{
    char line[256];
    if (command(c, "GET", key, NULL) || read_line(c, line, sizeof line))
        return -1;
    if (line[0] != '$')
        return line[0] == '-' ? 0 : -1;
    if (strcmp(line, "$-1") == 0)
        return 0;
    char val[256];
    if (read_line(c, val, sizeof val))
        return -1;
    return strcmp(val, want) == 0;
}

int main(int argc, char **argv)
{
    int port = 0;
    double every_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--every-ms") == 0)
            every_ms = atof(argv[i + 1]);
    }
    if (port <= 0) {
        fprintf(stderr, "usage: %s --port P [--every-ms N]\n", argv[0]);
        return 2;
    }
    cr_tgt_init(1);
    conn c;
    if (conn_open(&c, port) != 0) {
        perror("connect to redis");
        return 1;
    }
    cr_tgt_emit("ready", NULL);
    long acked = 0;
    char key[64], val[32], line[256], f[64];
    while (!cr_tgt_term) {
        snprintf(key, sizeof key, "cr:%ld", acked);
        snprintf(val, sizeof val, "%ld", acked);
        if (command(&c, "SET", key, val) || read_line(&c, line, sizeof line)) {
            if (cr_tgt_term)
                break; /* interrupted mid-request: not acknowledged */
            fprintf(stderr, "redis connection lost while writing\n");
            return 1;
        }
        if (strcmp(line, "+OK") != 0) {
            fprintf(stderr, "SET %s: %s\n", key, line);
            return 1;
        }
        snprintf(f, sizeof f, "\"id\":\"%ld\"", acked);
        cr_tgt_emit("accepted", f);
        acked++;
        cr_tgt_sleep_ms(every_ms);
    }
    /* SIGTERM: verify every acknowledged write. */
    cr_tgt_emit("stopping", NULL);
    long found = 0, broken_at = -1;
    for (long id = 0; id < acked; id++) {
        snprintf(key, sizeof key, "cr:%ld", id);
        snprintf(val, sizeof val, "%ld", id);
        int r = get_equals(&c, key, val);
        if (r < 0) {
            broken_at = id;
            break;
        }
        if (r == 1) {
            snprintf(f, sizeof f, "\"id\":\"%ld\"", id);
            cr_tgt_emit("delivered", f);
            found++;
        }
    }
    if (broken_at >= 0)
        fprintf(stderr,
                "read-back: the connection to redis broke after %ld of %ld "
                "keys\n",
                broken_at, acked);
    fprintf(stderr, "read back %ld of %ld acknowledged keys\n", found, acked);
    cr_tgt_emit("stopped", NULL);
    close(c.fd);
    return 0;
}
