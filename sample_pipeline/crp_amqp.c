/* crp_amqp: the RabbitMQ backend of crp_qc (see crp_amqp.h for the
 * mapping of the queue protocol onto AMQP 0-9-1).
 *
 * Two connections per client: one publishes (channel 1 in confirm mode),
 * one consumes (channel 1, manual acks, prefetch = the batch).  Keeping
 * them apart keeps publisher confirms (basic.ack frames from the broker)
 * out of the delivery stream, and a failed put does not hand back the
 * consumer's deliveries.  Any failure closes both and records the cause;
 * the next call reconnects (after a broker restart the broker has put
 * every unacknowledged delivery back: at-least-once, the sink dedups).
 * Heartbeats (crp_qc_set_heartbeat, a_keepalive) let the broker close the
 * connection of a consumer that stalled or was cut off silently, which is
 * what gives its unacknowledged deliveries back: this backend's lease
 * expiry.
 *
 * Topology, declared (idempotently) on every connection:
 *   exchange crp.dlx (direct, durable) -> queue dlq (binding key "dlq")
 *   work, results, dlq: durable quorum queues; work and results carry
 *     x-dead-letter-exchange crp.dlx, x-dead-letter-routing-key dlq,
 *     x-dead-letter-strategy at-least-once (+ x-overflow reject-publish,
 *     which it requires) and x-delivery-limit CRP_AMQP_DELIVERY_LIMIT.
 * Why quorum queues: they count deliveries (x-delivery-count header),
 * which the worker needs for "poison -> dlq at the max-deliveries-th
 * delivery" (a classic queue only says `redelivered`), they replicate and
 * fsync their log before confirming, and they dead-letter at-least-once.
 * Why the worker still writes the dead letter itself (a confirmed publish
 * to dlq with the reason, then the ack) instead of basic.reject(requeue =
 * false) through the DLX: the dead letter keeps its reason and the
 * `dead_lettered` event is written by the worker whose ack went through,
 * exactly as with the embedded queue.  The broker's DLX is the backstop:
 * a record that kills every worker that takes it (so no worker ever
 * reaches its decision) is moved to dlq by the broker after
 * CRP_AMQP_DELIVERY_LIMIT deliveries instead of looping forever. */
#include "crp_amqp.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "crp_conf.h"
#include "crp_qc.h"
#include "crp_util.h"

#define CRP_AMQP_DELIVERY_LIMIT 20
/* How long a put waits for the broker's confirms.  Longer than the
 * connection's timeout on purpose: a put given up while its messages are
 * only delayed (broker paused, a partition that holds the data) is
 * answered NACK, the producer sends the record again, and the delayed
 * publish still lands: two copies of one id.  Results are deduplicated by
 * the sink, but a poison record would be dead-lettered twice.  A broken
 * connection (EOF, RST) still fails at once. */
#define CRP_AMQP_CONFIRM_WAIT_MS 30000
#define CH                       1

/* ---- pure helpers ---- */

static int pct_decode(const char *s, size_t len, char *out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2]))
                return -1;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            ch = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        if (k + 1 >= n)
            return -1;
        out[k++] = (char)ch;
    }
    out[k] = '\0';
    return 0;
}

int crp_amqp_parse_url(const char *url, crp_amqp_url *u, char *err, size_t n)
{
    memset(u, 0, sizeof *u);
    strcpy(u->user, "guest");
    strcpy(u->pass, "guest");
    strcpy(u->vhost, "/");
    u->port = 5672;
    const char *why = NULL;
    if (strncmp(url, "amqp://", 7) != 0) {
        why = "not an amqp:// URL";
        goto out;
    }
    const char *p = url + 7;
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        if (pct_decode(p, (size_t)(ue - p), u->user, sizeof u->user) < 0 ||
            (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass,
                                 sizeof u->pass) < 0)) {
            why = "bad user or password (too long or bad %-escape)";
            goto out;
        }
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *he = colon ? colon : end;
    if (he == p || (size_t)(he - p) >= sizeof u->host) {
        why = "no host";
        goto out;
    }
    memcpy(u->host, p, (size_t)(he - p));
    if (colon) {
        char *e = NULL;
        long port = strtol(colon + 1, &e, 10);
        if (colon + 1 == end || e != end || port < 1 || port > 65535) {
            why = "bad port (1..65535)";
            goto out;
        }
        u->port = (int)port;
    }
    if (slash && slash[1] &&
        pct_decode(slash + 1, strlen(slash + 1), u->vhost, sizeof u->vhost) <
            0) {
        why = "bad vhost (too long or bad %-escape)";
        goto out;
    }
out:
    if (why) {
        snprintf(err, n, "amqp URL \"%s\": %s", url, why);
        return -EINVAL;
    }
    return 0;
}

int64_t crp_amqp_seq(uint32_t gen, uint64_t tag)
{
    return (int64_t)(((uint64_t)(gen & 0x7fffff) << 40) |
                     (tag & ((1ull << 40) - 1)));
}

uint32_t crp_amqp_seq_gen(int64_t seq)
{
    return (uint32_t)((uint64_t)seq >> 40);
}

uint64_t crp_amqp_seq_tag(int64_t seq)
{
    return (uint64_t)seq & ((1ull << 40) - 1);
}

int crp_amqp_confirms_begin(crp_amqp_confirms *cf, uint64_t first, int n)
{
    if (n < 0 || n > CRP_AMQP_MAX_BATCH || first == 0)
        return -EINVAL;
    memset(cf, 0, sizeof *cf);
    cf->first = first;
    cf->n = cf->pending = n;
    return 0;
}

int crp_amqp_confirms_ack(crp_amqp_confirms *cf, uint64_t tag, int multiple,
                          int nack)
{
    if (tag >= cf->first + (uint64_t)cf->n)
        return -EPROTO; /* a confirm of a message never published */
    if (tag < cf->first)
        return 0; /* a late confirm of an earlier batch */
    uint64_t lo = multiple ? cf->first : tag;
    for (uint64_t t = lo; t <= tag; t++) {
        int i = (int)(t - cf->first);
        if (cf->done[i])
            continue;
        cf->done[i] = 1;
        cf->pending--;
        if (nack)
            cf->nacked++;
    }
    return 0;
}

int crp_amqp_confirms_state(const crp_amqp_confirms *cf)
{
    if (cf->nacked || cf->returned)
        return -EIO;
    return cf->pending == 0;
}

/* ---- the backend ---- */

typedef struct amqp_be {
    crp_amqp_url url;
    amqp_connection_state_t pub, con;
    uint32_t gen; /* consumer connection generation (seq) */
    char q[64];   /* the queue consumed on con */
    int prefetch;
    uint64_t pub_next; /* tag of the next publish on pub */
    int64_t hb_sent;   /* crp_mono_ms of our last heartbeat (keepalive) */
} amqp_be;

static void be_drop(amqp_be *b)
{
    /* No connection.close handshake: on a failure the broker may be gone,
     * and an abrupt close is what the broker sees when a stage dies
     * anyway (it requeues the consumer's unacked deliveries). */
    if (b->pub)
        amqp_destroy_connection(b->pub);
    if (b->con)
        amqp_destroy_connection(b->con);
    b->pub = b->con = NULL;
    b->q[0] = '\0';
}

static int fail(crp_qc *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(crp_qc *c, int rc, const char *fmt, ...)
{
    amqp_be *b = c->be;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (b)
        snprintf(c->err, sizeof c->err, "amqp %s:%d: %s", b->url.host,
                 b->url.port, what);
    else
        snprintf(c->err, sizeof c->err, "amqp: %s", what);
    if (b)
        be_drop(b);
    return rc;
}

/* The cause in an RPC reply, as text. */
static void reply_text(amqp_rpc_reply_t r, char *buf, size_t n)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buf, n, "ok");
        break;
    case AMQP_RESPONSE_NONE:
        snprintf(buf, n, "no reply");
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buf, n, "%s", amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, n, "broker closed the connection: %u %.*s",
                     m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, n, "broker closed the channel: %u %.*s",
                     m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else {
            snprintf(buf, n, "broker error (method 0x%08x)", r.reply.id);
        }
        break;
    }
}

static int rpc_fail(crp_qc *c, amqp_connection_state_t st, const char *op)
{
    char t[160];
    reply_text(amqp_get_rpc_reply(st), t, sizeof t);
    return fail(c, -EIO, "%s: %s", op, t);
}

static amqp_table_entry_t str_arg(const char *k, const char *v)
{
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(v);
    return e;
}

static amqp_table_entry_t int_arg(const char *k, int64_t v)
{
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = v;
    return e;
}

/* ---- defect switches (tests only; README, "Defect switches") ----
 * Each answers one question of the correct path below. */

/* Durable quorum queues and persistent messages.  DEFECT amqp_transient:
 * classic queues and transient messages, which a restart empties. */
static int transient_queues(const crp_qc *c)
{
    return !!(c->defects & CRP_DEFECT_AMQP_TRANSIENT);
}

/* Manual acknowledgements with a prefetch limit.  DEFECT amqp_auto_ack:
 * no_ack, so the broker forgets a message as soon as it sent it, and a
 * consumer that dies loses what it held. */
static int auto_ack(const crp_qc *c)
{
    return !!(c->defects & CRP_DEFECT_AMQP_AUTO_ACK);
}

/* The topology (top of file). */
static int declare(crp_qc *c, amqp_connection_state_t st)
{
    int transient = transient_queues(c);
    amqp_exchange_declare(st, CH, amqp_cstring_bytes("crp.dlx"),
                          amqp_cstring_bytes("direct"), 0, 1, 0, 0,
                          amqp_empty_table);
    if (amqp_get_rpc_reply(st).reply_type != AMQP_RESPONSE_NORMAL)
        return rpc_fail(c, st, "exchange.declare crp.dlx");
    static const char *const qs[] = {"dlq", "work", "results"};
    for (int i = 0; i < 3; i++) {
        amqp_table_entry_t e[6];
        int k = 0;
        e[k++] = str_arg("x-queue-type", transient ? "classic" : "quorum");
        if (i > 0) {
            e[k++] = str_arg("x-dead-letter-exchange", "crp.dlx");
            e[k++] = str_arg("x-dead-letter-routing-key", "dlq");
            if (!transient) {
                e[k++] = int_arg("x-delivery-limit", CRP_AMQP_DELIVERY_LIMIT);
                e[k++] = str_arg("x-dead-letter-strategy", "at-least-once");
                e[k++] = str_arg("x-overflow", "reject-publish");
            }
        }
        amqp_table_t args = {.num_entries = k, .entries = e};
        amqp_queue_declare(st, CH, amqp_cstring_bytes(qs[i]), 0, 1, 0, 0, args);
        if (amqp_get_rpc_reply(st).reply_type != AMQP_RESPONSE_NORMAL) {
            char op[64];
            snprintf(op, sizeof op, "queue.declare %s", qs[i]);
            return rpc_fail(c, st, op);
        }
    }
    amqp_queue_bind(st, CH, amqp_cstring_bytes("dlq"),
                    amqp_cstring_bytes("crp.dlx"), amqp_cstring_bytes("dlq"),
                    amqp_empty_table);
    if (amqp_get_rpc_reply(st).reply_type != AMQP_RESPONSE_NORMAL)
        return rpc_fail(c, st, "queue.bind dlq");
    return 0;
}

static struct timeval ms_tv(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* A connection with channel CH open and the topology declared.  On
 * failure *out stays NULL and c->err says why. */
static int open_conn(crp_qc *c, amqp_connection_state_t *out)
{
    amqp_be *b = c->be;
    amqp_connection_state_t st = amqp_new_connection();
    if (!st)
        return fail(c, -ENOMEM, "out of memory");
    *out = st; /* from here on, fail() destroys it */
    amqp_socket_t *s = amqp_tcp_socket_new(st);
    if (!s)
        return fail(c, -ENOMEM, "out of memory (socket)");
    struct timeval tv = ms_tv(c->timeout_ms);
    int rc = amqp_socket_open_noblock(s, b->url.host, b->url.port, &tv);
    if (rc != AMQP_STATUS_OK)
        return fail(c, rc == AMQP_STATUS_TIMEOUT ? -ETIMEDOUT : -ECONNREFUSED,
                    "connect: %s", amqp_error_string2(rc));
    amqp_set_handshake_timeout(st, &tv);
    amqp_set_rpc_timeout(st, &tv);
    /* Heartbeats (crp_qc_set_heartbeat): without them a connection that
     * dies without a FIN or RST (a silent partition, a stalled process)
     * is never noticed - the broker keeps the consumer's unacknowledged
     * deliveries for as long as it lasts, and the consumer waits on a
     * dead socket.  librabbitmq sends ours while it waits for a frame,
     * and crp_qc_keepalive while the stage is busy elsewhere. */
    amqp_rpc_reply_t r =
        amqp_login(st, b->url.vhost, 0, 131072, c->heartbeat_s,
                   AMQP_SASL_METHOD_PLAIN, b->url.user, b->url.pass);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        char t[160];
        reply_text(r, t, sizeof t);
        return fail(c, -EACCES, "login as %s to vhost %s: %s", b->url.user,
                    b->url.vhost, t);
    }
    amqp_channel_open(st, CH);
    if (amqp_get_rpc_reply(st).reply_type != AMQP_RESPONSE_NORMAL)
        return rpc_fail(c, st, "channel.open");
    return declare(c, st);
}

static int be_get(crp_qc *c, amqp_be **out)
{
    if (!c->be) {
        amqp_be *b = calloc(1, sizeof *b);
        if (!b) {
            snprintf(c->err, sizeof c->err, "amqp: out of memory");
            return -ENOMEM;
        }
        int rc = crp_amqp_parse_url(c->addr, &b->url, c->err, sizeof c->err);
        if (rc < 0) {
            free(b);
            return rc;
        }
        c->be = b;
    }
    *out = c->be;
    return 0;
}

static int a_connect_pub(crp_qc *c)
{
    amqp_be *b;
    int rc = be_get(c, &b);
    if (rc < 0 || b->pub)
        return rc;
    if ((rc = open_conn(c, &b->pub)) < 0)
        return rc;
    amqp_confirm_select(b->pub, CH);
    if (amqp_get_rpc_reply(b->pub).reply_type != AMQP_RESPONSE_NORMAL)
        return rpc_fail(c, b->pub, "confirm.select");
    b->pub_next = 1;
    c->err[0] = '\0';
    return 0;
}

static int a_connect(crp_qc *c)
{
    return a_connect_pub(c);
}

static void a_close(crp_qc *c)
{
    if (c->be)
        be_drop(c->be);
    free(c->be);
    c->be = NULL;
}

/* Wait until the broker confirmed the batch cf. */
static int wait_confirms(crp_qc *c, crp_amqp_confirms *cf)
{
    amqp_be *b = c->be;
    int64_t deadline = crp_mono_ms() + CRP_AMQP_CONFIRM_WAIT_MS;
    int st;
    while ((st = crp_amqp_confirms_state(cf)) == 0) {
        int64_t left = deadline - crp_mono_ms();
        if (left <= 0)
            return fail(c, -ETIMEDOUT, "no publisher confirm within %d ms",
                        CRP_AMQP_CONFIRM_WAIT_MS);
        struct timeval tv = ms_tv((int)left);
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame_noblock(b->pub, &f, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            continue;
        if (rc != AMQP_STATUS_OK)
            return fail(c, -EIO, "waiting for confirms: %s",
                        amqp_error_string2(rc));
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            rc = crp_amqp_confirms_ack(cf, a->delivery_tag, a->multiple, 0);
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            amqp_basic_nack_t *a = f.payload.method.decoded;
            rc = crp_amqp_confirms_ack(cf, a->delivery_tag, a->multiple, 1);
            break;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            /* unroutable (mandatory): the content follows; read it away */
            amqp_message_t msg;
            cf->returned++;
            amqp_rpc_reply_t r = amqp_read_message(b->pub, f.channel, &msg, 0);
            if (r.reply_type != AMQP_RESPONSE_NORMAL)
                return fail(c, -EIO, "reading a returned message");
            amqp_destroy_message(&msg);
            break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD: {
            amqp_rpc_reply_t r = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
                                  .reply = f.payload.method};
            char t[160];
            reply_text(r, t, sizeof t);
            return fail(c, -EIO, "publish: %s", t);
        }
        default:
            break;
        }
        if (rc < 0)
            return fail(c, -EPROTO, "confirm of an unknown delivery tag");
    }
    if (st < 0)
        return fail(c, -EIO,
                    "the broker refused %d message(s) (nack) and returned %d "
                    "(unroutable)",
                    cf->nacked, cf->returned);
    return 0;
}

static int a_put(crp_qc *c, const crp_qput *p, int n)
{
    if (n == 0)
        return 0;
    if (n > CRP_AMQP_MAX_BATCH)
        return -EINVAL;
    int rc = a_connect_pub(c);
    if (rc < 0)
        return rc;
    amqp_be *b = c->be;
    static crp_amqp_confirms cf; /* 1 KiB: not on the stack */
    crp_amqp_confirms_begin(&cf, b->pub_next, n);
    for (int i = 0; i < n; i++) {
        amqp_basic_properties_t pr;
        memset(&pr, 0, sizeof pr);
        pr._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
                    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                    AMQP_BASIC_CORRELATION_ID_FLAG;
        pr.content_type = amqp_cstring_bytes("application/json");
        pr.delivery_mode = transient_queues(c) ? AMQP_DELIVERY_NONPERSISTENT
                                               : AMQP_DELIVERY_PERSISTENT;
        pr.message_id = amqp_cstring_bytes(p[i].id);
        pr.correlation_id = amqp_cstring_bytes(p[i].trace);
        rc = amqp_basic_publish(b->pub, CH, amqp_empty_bytes,
                                amqp_cstring_bytes(p[i].q), 1, 0, &pr,
                                amqp_cstring_bytes(p[i].payload));
        if (rc != AMQP_STATUS_OK)
            return fail(c, -EIO, "publish to %s: %s", p[i].q,
                        amqp_error_string2(rc));
        b->pub_next++;
    }
    if ((rc = wait_confirms(c, &cf)) < 0)
        return rc;
    amqp_maybe_release_buffers(b->pub);
    return 0;
}

static void copy_bytes(char *dst, size_t n, amqp_bytes_t s)
{
    size_t k = s.len < n - 1 ? s.len : n - 1;
    memcpy(dst, s.bytes, k);
    dst[k] = '\0';
}

/* Deliveries so far, this one included: quorum queues count the earlier
 * ones in x-delivery-count; a classic queue only says `redelivered`. */
static int deliveries(const amqp_envelope_t *env)
{
    const amqp_basic_properties_t *pr = &env->message.properties;
    if (pr->_flags & AMQP_BASIC_HEADERS_FLAG)
        for (int i = 0; i < pr->headers.num_entries; i++) {
            const amqp_table_entry_t *e = &pr->headers.entries[i];
            if (e->key.len != 16 ||
                memcmp(e->key.bytes, "x-delivery-count", 16))
                continue;
            const amqp_field_value_t *v = &e->value;
            int64_t k = -1;
            switch (v->kind) {
            case AMQP_FIELD_KIND_I8:
                k = v->value.i8;
                break;
            case AMQP_FIELD_KIND_U8:
                k = v->value.u8;
                break;
            case AMQP_FIELD_KIND_I16:
                k = v->value.i16;
                break;
            case AMQP_FIELD_KIND_U16:
                k = v->value.u16;
                break;
            case AMQP_FIELD_KIND_I32:
                k = v->value.i32;
                break;
            case AMQP_FIELD_KIND_U32:
                k = v->value.u32;
                break;
            case AMQP_FIELD_KIND_I64:
                k = v->value.i64;
                break;
            case AMQP_FIELD_KIND_U64:
                k = (int64_t)v->value.u64;
                break;
            default:
                break;
            }
            if (k >= 0)
                return k > 1000000 ? 1000000 : (int)k + 1;
        }
    return env->redelivered ? 2 : 1;
}

static int open_consumer(crp_qc *c, const char *q, int max)
{
    amqp_be *b;
    int rc = be_get(c, &b);
    if (rc < 0)
        return rc;
    if ((rc = open_conn(c, &b->con)) < 0)
        return rc;
    b->prefetch = max;
    if (!amqp_basic_qos(b->con, CH, 0, (uint16_t)max, 0))
        return rpc_fail(c, b->con, "basic.qos");
    int no_ack = auto_ack(c);
    if (!amqp_basic_consume(b->con, CH, amqp_cstring_bytes(q), amqp_empty_bytes,
                            0, no_ack, 0, amqp_empty_table))
        return rpc_fail(c, b->con, "basic.consume");
    crp_strlcpy(b->q, q, sizeof b->q);
    b->gen++;
    c->err[0] = '\0';
    return 0;
}

static int a_get(crp_qc *c, const char *q, int max, crp_qmsg *out)
{
    amqp_be *b = c->be;
    int rc;
    if (max < 1 || max > 65535)
        return -EINVAL;
    if (!b || !b->con) {
        if ((rc = open_consumer(c, q, max)) < 0)
            return rc;
        b = c->be;
    } else if (strcmp(b->q, q) != 0) {
        snprintf(c->err, sizeof c->err,
                 "amqp: this client consumes %s, not %s (one queue per client)",
                 b->q, q);
        return -EINVAL;
    }
    int k = 0;
    while (k < max) {
        /* wait a little for the first delivery, then take what is there */
        struct timeval tv = ms_tv(k == 0 ? 50 : 0);
        amqp_envelope_t env;
        amqp_maybe_release_buffers(b->con);
        amqp_rpc_reply_t r = amqp_consume_message(b->con, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            crp_qmsg *m = &out[k];
            memset(m, 0, sizeof *m);
            m->seq = crp_amqp_seq(b->gen, env.delivery_tag);
            m->deliveries = deliveries(&env);
            const amqp_basic_properties_t *pr = &env.message.properties;
            if (pr->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
                copy_bytes(m->id, sizeof m->id, pr->message_id);
            if (pr->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
                copy_bytes(m->trace, sizeof m->trace, pr->correlation_id);
            m->payload = malloc(env.message.body.len + 1);
            if (m->payload) {
                memcpy(m->payload, env.message.body.bytes,
                       env.message.body.len);
                m->payload[env.message.body.len] = '\0';
            }
            amqp_destroy_envelope(&env);
            if (!m->payload) {
                crp_qc_free_msgs(out, k);
                return fail(c, -ENOMEM, "out of memory");
            }
            k++;
            continue;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_TIMEOUT)
            break;
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            /* a method other than basic.deliver: read it */
            amqp_frame_t f;
            struct timeval tv0 = ms_tv(c->timeout_ms);
            if (amqp_simple_wait_frame_noblock(b->con, &f, &tv0) ==
                    AMQP_STATUS_OK &&
                f.frame_type == AMQP_FRAME_METHOD &&
                f.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD &&
                f.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD &&
                f.payload.method.id != AMQP_BASIC_CANCEL_METHOD)
                continue;
            crp_qc_free_msgs(out, k);
            return fail(c, -EIO, "consume %s: the broker closed or cancelled",
                        q);
        }
        char t[160];
        reply_text(r, t, sizeof t);
        crp_qc_free_msgs(out, k);
        return fail(c, -EIO, "consume %s: %s", q, t);
    }
    return k;
}

static int a_ack(crp_qc *c, const char *q, const int64_t *seqs, int n, int ack,
                 int *okv)
{
    (void)q;
    if (n == 0)
        return 0;
    amqp_be *b = c->be;
    if (auto_ack(c)) {
        /* nothing to acknowledge: the broker forgot them on delivery */
        for (int i = 0; okv && i < n; i++)
            okv[i] = 1;
        return n;
    }
    int cnt = 0;
    for (int i = 0; i < n; i++) {
        int cur = b && b->con && crp_amqp_seq_gen(seqs[i]) == b->gen;
        if (okv)
            okv[i] = cur; /* a tag of a closed connection: STALE */
        if (!cur)
            continue;
        uint64_t tag = crp_amqp_seq_tag(seqs[i]);
        int rc = ack ? amqp_basic_ack(b->con, CH, tag, 0)
                     : amqp_basic_nack(b->con, CH, tag, 0, 1);
        if (rc != AMQP_STATUS_OK) {
            for (int j = 0; okv && j < n; j++)
                okv[j] = 0;
            return fail(c, -EIO, "%s: %s", ack ? "basic.ack" : "basic.nack",
                        amqp_error_string2(rc));
        }
        cnt++;
    }
    /* basic.ack has no answer: a synchronous basic.qos after it returns
     * once the broker processed the acks before it (one channel is
     * ordered), so "confirmed" means what it means for the queue
     * service.  An unknown tag would have closed the channel. */
    if (cnt > 0 && !amqp_basic_qos(b->con, CH, 0, (uint16_t)b->prefetch, 0)) {
        for (int j = 0; okv && j < n; j++)
            okv[j] = 0;
        return rpc_fail(c, b->con, "basic.qos after acks");
    }
    return cnt;
}

static int a_depth(crp_qc *c, const char *q, int64_t *ready, int64_t *leased)
{
    int rc = a_connect_pub(c);
    if (rc < 0)
        return rc;
    amqp_be *b = c->be;
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(
        b->pub, CH, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table);
    if (!ok)
        return rpc_fail(c, b->pub, "queue.declare (passive)");
    *ready = ok->message_count;
    *leased = 0; /* AMQP does not tell the unacknowledged count */
    return 0;
}

static int send_heartbeat(amqp_connection_state_t st)
{
    amqp_frame_t hb = {.frame_type = AMQP_FRAME_HEARTBEAT, .channel = 0};
    return amqp_send_frame(st, &hb);
}

/* Heartbeats on both connections every half interval, and on the
 * publishing connection (no put in progress, so nothing on it is awaited)
 * read what the broker sent: its heartbeats, or a close.  librabbitmq
 * itself fails the read with AMQP_STATUS_HEARTBEAT_TIMEOUT when nothing
 * came for two intervals.  The consuming connection is read by a_get. */
static int a_keepalive(crp_qc *c)
{
    amqp_be *b = c->be;
    if (!b || c->heartbeat_s <= 0 || (!b->pub && !b->con))
        return 0;
    int64_t now = crp_mono_ms();
    if (now - b->hb_sent >= (int64_t)c->heartbeat_s * 500) {
        if ((b->pub && send_heartbeat(b->pub) != AMQP_STATUS_OK) ||
            (b->con && send_heartbeat(b->con) != AMQP_STATUS_OK))
            return fail(c, -EIO, "sending a heartbeat: the connection is gone");
        b->hb_sent = now;
    }
    for (int k = 0; b->pub && k < 64; k++) {
        struct timeval tv0 = {0, 0};
        amqp_frame_t f;
        int rc = amqp_simple_wait_frame_noblock(b->pub, &f, &tv0);
        if (rc == AMQP_STATUS_TIMEOUT)
            break;
        if (rc != AMQP_STATUS_OK)
            return fail(c, -EIO, "idle connection: %s", amqp_error_string2(rc));
        if (f.frame_type == AMQP_FRAME_METHOD &&
            (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
             f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD))
            return fail(c, -EIO, "idle connection: the broker closed it");
    }
    if (b->pub)
        amqp_maybe_release_buffers(b->pub);
    return 0;
}

const crp_qc_ops crp_qc_amqp_ops = {
    .name = "amqp",
    .connect = a_connect,
    .close = a_close,
    .put = a_put,
    .get = a_get,
    .ack = a_ack,
    .depth = a_depth,
    .keepalive = a_keepalive,
};
