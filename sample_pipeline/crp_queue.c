// clang-format off
/* crp_queue: the queue service.  One poll loop over the listening
 * socket and the clients.  Each round reads every client, runs all
 * complete commands inside ONE SQLite transaction (group commit), and
 * sends the replies only after that transaction committed; a PUT is
 * acknowledged only once durable: its answer waits for an fdatasync of
 * the WAL that a second thread (crp_walsync) starts after the commit,
 * while the loop goes on with the next rounds.  A client's leases end when its
 * connection closes (the records are ready again at once), and lease
 * expiry is a backstop for consumers that hang.
 *
 * Protocol (one line each; replies in order):
 *   PUT <q> <id> <trace> <payload>   -> OK <seq> | OK DUP (q had this id;
 *                                       only on the --dedup-queues)
 *   GET <q> <max>                    -> MSG <k>, then k lines
 *                                       M <seq> <deliveries> <id> <trace> <payload>
 *   ACK <q> <seq>                    -> OK | STALE
 *   NACK <q> <seq>                   -> OK | STALE
 *   ACKS <q> <seq> <seq> ...         -> DONE <flags>  (one command for a
 *   NACKS <q> <seq> <seq> ...        -> DONE <flags>   batch; flags: one
 *                                       character per seq, in order: 1
 *                                       done, 0 stale)
 *   DEPTH <q>                        -> DEPTH <ready> <leased>
 *   PING                             -> PONG */
// clang-format on
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crp_net.h"
#include "crp_stage.h"
#include "crp_store.h"
#include "crp_walsync.h"

#define MAX_CLIENTS 64

typedef struct qclient {
    crp_conn conn;
    int64_t owner;
    crp_sb out;
    int touched;      /* ran commands this round */
    int put;          /* ... a PUT among them */
    uint64_t need;    /* the WAL sync its unsent replies wait for */
    char last_q[16];  /* queue of its last GET (--fair-lease) */
    int64_t last_get; /* when (monotonic ms), 0 = never */
} qclient;

typedef struct qsvc {
    crp_ctx *x;
    crp_store *st;
    crp_walsync *ws;
    crp_walsync_state ss; /* as last read */
    qclient cl[MAX_CLIENTS];
    int64_t next_owner;
    crp_metric *m_put, *m_dup, *m_get, *m_ack, *m_nack, *m_stale, *m_redeliver,
        *m_expired, *m_commit_fail, *m_clients, *m_commit_lat;
    crp_metric *m_depth[3], *m_leased[3];
} qsvc;

static const char *const qnames[3] = {"work", "results", "dlq"};

typedef struct lease_arg {
    crp_sb *out;
    qsvc *q;
} lease_arg;

static void on_lease(void *arg, const crp_msg *m)
{
    lease_arg *a = arg;
    /* the payload is most of the line: copied, not formatted */
    crp_sb_printf(a->out, "M %" PRId64 " %d %s %s ", m->seq, m->deliveries,
                  m->id, m->trace);
    crp_sb_append(a->out, m->payload, strlen(m->payload));
    crp_sb_append(a->out, "\n", 1);
    if (m->deliveries > 1)
        crp_metric_add(a->q->m_redeliver, 1);
}

/* Split off the next space-separated word. */
static char *word(char **p)
{
    char *s = *p;
    if (!s || !*s)
        return NULL;
    char *sp = strchr(s, ' ');
    if (sp) {
        *sp = '\0';
        *p = sp + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

/* --fair-lease: a GET leases at most ceil(ready / consumers), consumers
 * being the clients that sent a GET on the same queue within the last
 * second (this one included).  Without it the first consumer to poll a
 * backlog takes up to its whole batch while the others find the queue
 * empty and sleep (bench_fairness.sh).  Returns the cap, or -1 when the
 * store failed. */
static int fair_share(qsvc *q, qclient *c, const char *qn, int max)
{
    int64_t now = crp_mono_ms();
    crp_strlcpy(c->last_q, qn, sizeof c->last_q);
    c->last_get = now;
    int64_t consumers = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const qclient *k = &q->cl[i];
        if (k->conn.fd >= 0 && k->last_get && now - k->last_get <= 1000 &&
            strcmp(k->last_q, qn) == 0)
            consumers++;
    }
    if (consumers < 1)
        consumers = 1;
    /* only up to max per consumer matters: a bounded count */
    int64_t ready = crp_store_ready(q->st, qn, (int64_t)max * consumers);
    if (ready < 0)
        return -1;
    int64_t share = (ready + consumers - 1) / consumers;
    if (share < 1)
        share = 1;
    return share < max ? (int)share : max;
}

/* 1 when PUTs on queue qn are idempotent by id (--dedup-queues, default
 * `work,dlq`: the front door, where the producer's resends arrive --
 * ingest puts invalid records straight on `dlq`).  The
 * results of a record processed twice are not: the sink deduplicates by
 * id in its own commit (end to end), and that must keep working with
 * RabbitMQ, which does not deduplicate at all. */
static int dedup_queue(const qsvc *q, const char *qn)
{
    const char *list = q->x->c.dedup_queues;
    size_t l = strlen(qn);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == l && strncmp(p, qn, l) == 0)
            return 1;
        p = e ? e + 1 : p + k;
    }
    return 0;
}

/* ACKS/NACKS: a batch's acknowledgements in one command, answered with
 * one line (DONE and a flag per seq).  -1: the store failed. */
static int ack_many(qsvc *q, qclient *c, int ack, char *p)
{
    crp_sb *o = &c->out;
    size_t at = o->len; /* where this reply starts */
    if (crp_sb_append(o, "DONE ", 5) < 0)
        return -1;
    int n = 0;
    while (*p) {
        char *e;
        int64_t seq = strtoll(p, &e, 10);
        if (e == p || (*e && *e != ' ')) {
            o->len = at; /* no partial reply: a syntax error instead */
            return crp_sb_printf(o, "ERR syntax\n");
        }
        p = *e ? e + 1 : e;
        int r = ack ? crp_store_ack(q->st, seq, c->owner)
                    : crp_store_nack(q->st, seq, c->owner);
        if (r < 0)
            return -1;
        crp_metric_add(r ? (ack ? q->m_ack : q->m_nack) : q->m_stale, 1);
        if (crp_sb_append(o, r ? "1" : "0", 1) < 0)
            return -1;
        n++;
    }
    if (n == 0) {
        o->len = at;
        return crp_sb_printf(o, "ERR syntax\n");
    }
    return crp_sb_append(o, "\n", 1);
}

/* Run one command; append its reply.  -1: the store failed. */
static int handle(qsvc *q, qclient *c, char *line)
{
    char *p = line;
    char *cmd = word(&p);
    crp_sb *o = &c->out;
    if (!cmd)
        return 0;
    if (!strcmp(cmd, "PING"))
        return crp_sb_printf(o, "PONG\n");
    char *qn = word(&p);
    if (!qn)
        return crp_sb_printf(o, "ERR syntax\n");
    if (!strcmp(cmd, "PUT")) {
        c->put = 1; /* its reply waits for the disk, even OK DUP's */
        char *id = word(&p), *trace = word(&p);
        if (!id || !trace || !*p)
            return crp_sb_printf(o, "ERR syntax\n");
        int64_t seq = dedup_queue(q, qn)
                          ? crp_store_put(q->st, qn, id, trace, p)
                          : crp_store_append(q->st, qn, id, trace, p);
        if (seq < 0)
            return -1;
        if (seq == 0) {
            crp_metric_add(q->m_dup, 1);
            return crp_sb_printf(o, "OK DUP\n");
        }
        crp_metric_add(q->m_put, 1);
        return crp_sb_printf(o, "OK %" PRId64 "\n", seq);
    }
    if (!strcmp(cmd, "GET")) {
        int max = atoi(p);
        if (max < 1 || max > 1000)
            return crp_sb_printf(o, "ERR max\n");
        if (q->x->c.fair_lease) {
            max = fair_share(q, c, qn, max);
            if (max < 0)
                return -1;
        }
        crp_sb msgs = {0};
        lease_arg a = {&msgs, q};
        int n = crp_store_lease(q->st, qn, max, c->owner,
                                crp_mono_ms() + q->x->c.lease_ms, on_lease, &a);
        if (n < 0) {
            crp_sb_free(&msgs);
            return -1;
        }
        crp_metric_add(q->m_get, n);
        crp_sb_printf(o, "MSG %d\n", n);
        if (n > 0)
            crp_sb_append(o, msgs.s, msgs.len);
        crp_sb_free(&msgs);
        return 0;
    }
    if (!strcmp(cmd, "ACKS") || !strcmp(cmd, "NACKS"))
        return ack_many(q, c, cmd[0] == 'A', p);
    if (!strcmp(cmd, "ACK") || !strcmp(cmd, "NACK")) {
        int64_t seq = strtoll(p, NULL, 10);
        int ack = cmd[0] == 'A';
        int r = ack ? crp_store_ack(q->st, seq, c->owner)
                    : crp_store_nack(q->st, seq, c->owner);
        if (r < 0)
            return -1;
        crp_metric_add(r ? (ack ? q->m_ack : q->m_nack) : q->m_stale, 1);
        return crp_sb_printf(o, r ? "OK\n" : "STALE\n");
    }
    if (!strcmp(cmd, "DEPTH")) {
        int64_t ready = 0, leased = 0;
        if (crp_store_depth(q->st, qn, &ready, &leased) < 0)
            return -1;
        return crp_sb_printf(o, "DEPTH %" PRId64 " %" PRId64 "\n", ready,
                             leased);
    }
    return crp_sb_printf(o, "ERR unknown command\n");
}

static void drop_client(qsvc *q, qclient *c)
{
    /* The connection is gone: its leases go back to the queue at once. */
    if (crp_store_release(q->st, c->owner) < 0)
        crp_log(q->x, "release leases of a closed client: %s",
                crp_store_errmsg(q->st));
    crp_conn_close(&c->conn);
    crp_sb_free(&c->out);
    c->owner = 0;
    c->last_get = 0;
    c->need = 0;
    crp_metric_add(q->m_clients, -1);
}

static void update_gauges(qsvc *q)
{
    for (int i = 0; i < 3; i++) {
        int64_t r = 0, l = 0;
        if (crp_store_depth(q->st, qnames[i], &r, &l) == 0) {
            crp_metric_set(q->m_depth[i], r);
            crp_metric_set(q->m_leased[i], l);
        }
    }
}

/* Send the replies that wait for no WAL sync still running. */
static void flush_replies(qsvc *q)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        qclient *c = &q->cl[i];
        if (c->conn.fd < 0 || c->out.len == 0 || c->need > q->ss.done)
            continue;
        if (crp_conn_send(&c->conn, c->out.s, c->out.len, 2000) < 0)
            drop_client(q, c);
        else
            crp_sb_reset(&c->out);
    }
}

/* A WAL sync ended (or several): its puts become leasable and their
 * replies go, or, if it failed, the clients waiting for it are closed
 * without them -- their records were committed, perhaps not written, and
 * are not acknowledged (the clients put them again, as after a lost
 * answer). */
static void synced(qsvc *q, const crp_walsync_state *now)
{
    if (now->failed > q->ss.failed) {
        crp_log(q->x, "WAL fsync failed: %s", strerror(now->err));
        crp_metric_add(q->m_commit_fail, 1);
        for (int i = 0; i < MAX_CLIENTS; i++) {
            qclient *c = &q->cl[i];
            if (c->conn.fd >= 0 && c->out.len && c->need > q->ss.done &&
                c->need <= now->failed)
                drop_client(q, c);
        }
    }
    q->ss = *now;
    crp_store_set_visible(q->st, now->hi);
    flush_replies(q);
}

/* One round: run every buffered command in one transaction, then reply.
 * The transaction commits without waiting for the disk; the replies of
 * the clients that sent a PUT wait for a WAL sync that starts after the
 * commit (crp_walsync), while the loop goes on with the next rounds, and
 * the records put are not leased before it ended (crp_store_defer_sync).
 * The other replies go at once: a lease, an ack or a nack committed
 * lazily is lost to a power loss at worst, and then delivered again. */
static void round_trip(qsvc *q)
{
    int any = 0, puts = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        qclient *c = &q->cl[i];
        c->touched = c->put = 0;
        if (c->conn.fd < 0 || !c->conn.buf || c->conn.off >= c->conn.len)
            continue;
        if (memchr(c->conn.buf + c->conn.off, '\n', c->conn.len - c->conn.off))
            any = 1;
    }
    if (!any)
        return;
    int64_t t0 = crp_mono_ms();
    int failed = crp_store_begin_lazy(q->st) < 0;
    for (int i = 0; i < MAX_CLIENTS && !failed; i++) {
        qclient *c = &q->cl[i];
        char *line;
        while (c->conn.fd >= 0 && crp_conn_next(&c->conn, &line)) {
            c->touched = 1;
            if (handle(q, c, line) < 0) {
                failed = 1;
                break;
            }
        }
        puts |= c->put;
    }
    if (!failed && crp_store_commit(q->st) < 0)
        failed = 1;
    if (failed) {
        /* Nothing of this round was committed: close the clients involved
         * so they retry (their leases were rolled back with the rest). */
        crp_log(q->x, "group commit failed: %s", crp_store_errmsg(q->st));
        crp_store_rollback(q->st);
        crp_metric_add(q->m_commit_fail, 1);
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (q->cl[i].conn.fd >= 0 && q->cl[i].touched)
                drop_client(q, &q->cl[i]);
        return;
    }
    crp_metric_observe(q->m_commit_lat, (double)(crp_mono_ms() - t0));
    if (puts) {
        uint64_t gen = crp_walsync_request(q->ws, crp_store_put_hi(q->st));
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (q->cl[i].put)
                q->cl[i].need = gen;
    }
    flush_replies(q);
}

int crp_queue_main(crp_ctx *x)
{
    static qsvc q;
    char path[600], err[512];
    int lfd = -1, rc = 1;
    q.x = x;
    for (int i = 0; i < MAX_CLIENTS; i++)
        crp_conn_init(&q.cl[i].conn, -1);
    snprintf(path, sizeof path, "%s/queue.db", x->c.data_dir);
    if (crp_store_open(path, &q.st, err, sizeof err) < 0) {
        crp_log(x, "%s", err);
        goto out;
    }
    /* the WAL of a database in WAL mode: <path>-wal */
    char wal[sizeof path + 4];
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (crp_walsync_start(&q.ws, wal, err, sizeof err) < 0) {
        crp_log(x, "%s", err);
        goto out;
    }
    crp_store_defer_sync(q.st);
    lfd = crp_net_listen_on(x->c.bind, x->c.port);
    if (lfd < 0) {
        crp_log(x, "listen on %s:%d: %s", x->c.bind, x->c.port, strerror(-lfd));
        goto out;
    }
    crp_http *h = x->http;
    q.m_put =
        crp_http_metric(h, "records_in_total", CRP_COUNTER, "records put");
    q.m_dup = crp_http_metric(h, "puts_duplicate_total", CRP_COUNTER,
                              "puts of an id the queue already had (resends)");
    q.m_get = crp_http_metric(h, "records_out_total", CRP_COUNTER,
                              "records delivered to consumers");
    q.m_ack =
        crp_http_metric(h, "acks_total", CRP_COUNTER, "records acknowledged");
    q.m_nack =
        crp_http_metric(h, "nacks_total", CRP_COUNTER, "records handed back");
    q.m_stale = crp_http_metric(h, "stale_total", CRP_COUNTER,
                                "acks of records no longer leased");
    q.m_redeliver = crp_http_metric(h, "records_retried_total", CRP_COUNTER,
                                    "redeliveries");
    q.m_expired = crp_http_metric(h, "leases_expired_total", CRP_COUNTER,
                                  "expired leases");
    q.m_commit_fail = crp_http_metric(h, "records_failed_total", CRP_COUNTER,
                                      "failed group commits");
    q.m_clients = crp_http_metric(h, "clients", CRP_GAUGE, "connected clients");
    q.m_commit_lat = crp_http_metric(h, "commit_latency_seconds", CRP_HISTO,
                                     "group commit latency");
    for (int i = 0; i < 3; i++) {
        char n[64];
        snprintf(n, sizeof n, "depth_%s", qnames[i]);
        q.m_depth[i] = crp_http_metric(h, n, CRP_GAUGE, "ready records");
        snprintf(n, sizeof n, "leased_%s", qnames[i]);
        q.m_leased[i] = crp_http_metric(h, n, CRP_GAUGE, "leased records");
    }
    q.next_owner = 1;
    crp_log(x, "queue on %s:%d, store %s", x->c.bind, x->c.port, path);
    crp_ev_emit(x->ev, "ready", NULL);
    int64_t last_expire = crp_mono_ms();
    while (!crp_stop_requested) {
        struct pollfd pfd[MAX_CLIENTS + 2];
        int idx[MAX_CLIENTS + 2], n = 0;
        pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
        idx[n++] = -1;
        pfd[n] = (struct pollfd){.fd = crp_walsync_fd(q.ws), .events = POLLIN};
        idx[n++] = -2;
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (q.cl[i].conn.fd >= 0) {
                pfd[n] =
                    (struct pollfd){.fd = q.cl[i].conn.fd, .events = POLLIN};
                idx[n++] = i;
            }
        int pr = poll(pfd, (nfds_t)n, 200);
        if (pr < 0 && errno != EINTR)
            break;
        for (int k = 0; pr > 0 && k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[k] == -2) {
                crp_walsync_state now;
                crp_walsync_poll(q.ws, &now);
                synced(&q, &now);
                continue;
            }
            if (idx[k] < 0) {
                int fd;
                while ((fd = crp_net_accept(lfd)) >= 0) {
                    int slot = -1;
                    for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
                        if (q.cl[i].conn.fd < 0)
                            slot = i;
                    if (slot < 0) {
                        close(fd);
                        continue;
                    }
                    crp_conn_init(&q.cl[slot].conn, fd);
                    q.cl[slot].owner = q.next_owner++;
                    crp_metric_add(q.m_clients, 1);
                }
                continue;
            }
            qclient *c = &q.cl[idx[k]];
            int r;
            while ((r = crp_conn_fill(&c->conn)) > 0)
                ;
            if (r < 0 && r != -ENOMEM) {
                /* commands already buffered still run: a client may send
                 * ACKs and close at once */
                char *line;
                if (crp_store_begin(q.st) == 0) {
                    /* a failed command fails them all, as in round_trip:
                     * the store's leases follow the rollback */
                    int bad = 0;
                    while (!bad && crp_conn_next(&c->conn, &line))
                        bad = handle(&q, c, line) < 0;
                    if (bad || crp_store_commit(q.st) < 0)
                        crp_store_rollback(q.st);
                }
                drop_client(&q, c);
            }
        }
        round_trip(&q);
        int64_t now = crp_mono_ms();
        if (now - last_expire >= 500) {
            int e = crp_store_expire(q.st, now);
            if (e > 0)
                crp_metric_add(q.m_expired, e);
            if (x->c.dedup_s > 0 && /* 0: remembered forever */
                crp_store_forget(q.st, (int64_t)crp_now() - x->c.dedup_s) < 0)
                crp_log(x, "forget old ids: %s", crp_store_errmsg(q.st));
            update_gauges(&q);
            last_expire = now;
        }
    }
    crp_ev_emit(x->ev, "stopping", NULL);
    round_trip(&q); /* finish what was received: replies after commit */
    crp_walsync_state now;
    crp_walsync_wait(q.ws, &now); /* ... and after their puts' sync */
    synced(&q, &now);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (q.cl[i].conn.fd >= 0)
            drop_client(&q, &q.cl[i]);
    crp_ev_emit(x->ev, "stopped", NULL);
    rc = 0;
out:
    if (lfd >= 0)
        close(lfd);
    crp_walsync_stop(q.ws);
    crp_store_close(q.st);
    return rc;
}
