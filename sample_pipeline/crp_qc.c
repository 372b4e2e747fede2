/* crp_qc: see crp_qc.h.  The dispatch to the backends, and the embedded
 * queue service's backend (its line protocol, crp_queue.c). */
#include "crp_qc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_util.h"

void crp_qc_init(crp_qc *c, const char *addr, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    crp_strlcpy(c->addr, addr, sizeof c->addr);
    crp_conn_init(&c->conn, -1);
    c->timeout_ms = timeout_ms;
    c->ops =
        strncmp(addr, "amqp://", 7) == 0 ? &crp_qc_amqp_ops : &crp_qc_queue_ops;
}

void crp_qc_close(crp_qc *c)
{
    c->ops->close(c);
}

void crp_qc_set_defects(crp_qc *c, unsigned defects)
{
    c->defects = defects;
}

void crp_qc_set_heartbeat(crp_qc *c, int seconds)
{
    c->heartbeat_s = seconds > 0 ? seconds : 0;
}

int crp_qc_keepalive(crp_qc *c)
{
    return c->ops->keepalive ? c->ops->keepalive(c) : 0;
}

const char *crp_qc_error(const crp_qc *c)
{
    return c->err;
}

const char *crp_qc_backend(const crp_qc *c)
{
    return c->ops->name;
}

int crp_qc_connect(crp_qc *c)
{
    return c->ops->connect(c);
}

int crp_qc_put(crp_qc *c, const crp_qput *p, int n)
{
    return c->ops->put(c, p, n);
}

int crp_qc_get(crp_qc *c, const char *q, int max, crp_qmsg *out)
{
    return c->ops->get(c, q, max, out);
}

int crp_qc_ack(crp_qc *c, const char *q, const int64_t *seqs, int n, int ack,
               int *ok)
{
    return c->ops->ack(c, q, seqs, n, ack, ok);
}

int crp_qc_depth(crp_qc *c, const char *q, int64_t *ready, int64_t *leased)
{
    return c->ops->depth(c, q, ready, leased);
}

void crp_qc_free_msgs(crp_qmsg *m, int n)
{
    for (int i = 0; i < n; i++) {
        free(m[i].payload);
        m[i].payload = NULL;
    }
}

/* ---- the embedded queue service ---- */

static void q_close(crp_qc *c)
{
    crp_conn_close(&c->conn);
}

static int q_connect(crp_qc *c)
{
    if (c->conn.fd >= 0)
        return 0;
    int fd = crp_net_connect(c->addr, c->timeout_ms);
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "queue %s: connect: %s", c->addr,
                 strerror(-fd));
        return fd;
    }
    c->err[0] = '\0';
    crp_conn_init(&c->conn, fd);
    return 0;
}

static int fail(crp_qc *c, int rc)
{
    snprintf(c->err, sizeof c->err, "queue %s: %s", c->addr, strerror(-rc));
    q_close(c);
    return rc;
}

static int send_sb(crp_qc *c, crp_sb *b)
{
    int rc = crp_conn_send(&c->conn, b->s, b->len, c->timeout_ms);
    crp_sb_free(b);
    return rc;
}

static int expect_line(crp_qc *c, char **line)
{
    int rc = crp_conn_readline(&c->conn, line, c->timeout_ms);
    if (rc == 0)
        return -ETIMEDOUT;
    return rc < 0 ? rc : 0;
}

static int q_put(crp_qc *c, const crp_qput *p, int n)
{
    int rc = q_connect(c);
    if (rc < 0)
        return rc;
    crp_sb b = {0};
    for (int i = 0; i < n; i++)
        if (crp_sb_printf(&b, "PUT %s %s %s ", p[i].q, p[i].id, p[i].trace) <
                0 ||
            crp_sb_append(&b, p[i].payload, strlen(p[i].payload)) < 0 ||
            crp_sb_append(&b, "\n", 1) < 0) {
            crp_sb_free(&b);
            return fail(c, -ENOMEM);
        }
    if (n == 0)
        return 0;
    if ((rc = send_sb(c, &b)) < 0)
        return fail(c, rc);
    for (int i = 0; i < n; i++) {
        char *line;
        if ((rc = expect_line(c, &line)) < 0)
            return fail(c, rc);
        if (strncmp(line, "OK", 2) != 0)
            return fail(c, -EPROTO);
        if (p[i].dup)
            *p[i].dup = !strcmp(line, "OK DUP");
    }
    return 0;
}

/* The next space-separated word of *p into dst (size n); -1 when there
 * is none or it does not fit. */
static int take_word(char **p, char *dst, size_t n)
{
    char *s = *p, *e = strchr(s, ' ');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l == 0 || l >= n || !e)
        return -1;
    memcpy(dst, s, l);
    dst[l] = '\0';
    *p = e + 1;
    return 0;
}

/* One leased message: M <seq> <deliveries> <id> <trace> <payload>.  0, or
 * -1 (malformed, out of memory). */
static int parse_msg(char *line, crp_qmsg *m)
{
    char *p = line + 2, *e;
    if (strncmp(line, "M ", 2) != 0)
        return -1;
    m->seq = strtoll(p, &e, 10);
    if (e == p || *e != ' ')
        return -1;
    p = e + 1;
    long d = strtol(p, &e, 10);
    if (e == p || *e != ' ' || d < 0 || d > 1000000)
        return -1;
    m->deliveries = (int)d;
    p = e + 1;
    if (take_word(&p, m->id, sizeof m->id) < 0 ||
        take_word(&p, m->trace, sizeof m->trace) < 0 || !*p)
        return -1;
    return (m->payload = strdup(p)) ? 0 : -1;
}

static int q_get(crp_qc *c, const char *q, int max, crp_qmsg *out)
{
    int rc = q_connect(c);
    if (rc < 0)
        return rc;
    crp_sb b = {0};
    crp_sb_printf(&b, "GET %s %d\n", q, max);
    if ((rc = send_sb(c, &b)) < 0)
        return fail(c, rc);
    char *line;
    if ((rc = expect_line(c, &line)) < 0)
        return fail(c, rc);
    int k;
    if (sscanf(line, "MSG %d", &k) != 1 || k < 0 || k > max)
        return fail(c, -EPROTO);
    for (int i = 0; i < k; i++) {
        if ((rc = expect_line(c, &line)) < 0) {
            crp_qc_free_msgs(out, i);
            return fail(c, rc);
        }
        crp_qmsg *m = &out[i];
        memset(m, 0, sizeof *m);
        if (parse_msg(line, m) < 0) {
            crp_qc_free_msgs(out, i);
            return fail(c, -EPROTO);
        }
    }
    return k;
}

static int q_ack(crp_qc *c, const char *q, const int64_t *seqs, int n, int ack,
                 int *okv)
{
    if (n == 0)
        return 0;
    int rc = q_connect(c);
    if (rc < 0)
        return rc;
    /* the whole batch in one command (ACKS/NACKS), one line back */
    crp_sb b = {0};
    int bad = crp_sb_printf(&b, "%s %s", ack ? "ACKS" : "NACKS", q) < 0;
    for (int i = 0; i < n && !bad; i++)
        bad = crp_sb_printf(&b, " %" PRId64, seqs[i]) < 0;
    if (bad || crp_sb_append(&b, "\n", 1) < 0) {
        crp_sb_free(&b);
        return fail(c, -ENOMEM);
    }
    if ((rc = send_sb(c, &b)) < 0)
        return fail(c, rc);
    char *line;
    if ((rc = expect_line(c, &line)) < 0)
        return fail(c, rc);
    if (strncmp(line, "DONE ", 5) != 0 || strlen(line + 5) != (size_t)n)
        return fail(c, -EPROTO);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char f = line[5 + i];
        if (f != '0' && f != '1')
            return fail(c, -EPROTO);
        if (okv)
            okv[i] = f == '1';
        ok += f == '1';
    }
    return ok;
}

static int q_depth(crp_qc *c, const char *q, int64_t *ready, int64_t *leased)
{
    int rc = q_connect(c);
    if (rc < 0)
        return rc;
    crp_sb b = {0};
    crp_sb_printf(&b, "DEPTH %s\n", q);
    if ((rc = send_sb(c, &b)) < 0)
        return fail(c, rc);
    char *line;
    if ((rc = expect_line(c, &line)) < 0)
        return fail(c, rc);
    if (sscanf(line, "DEPTH %" SCNd64 " %" SCNd64, ready, leased) != 2)
        return fail(c, -EPROTO);
    return 0;
}

const crp_qc_ops crp_qc_queue_ops = {
    .name = "queue",
    .connect = q_connect,
    .close = q_close,
    .put = q_put,
    .get = q_get,
    .ack = q_ack,
    .depth = q_depth,
};
