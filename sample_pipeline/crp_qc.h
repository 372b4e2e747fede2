/* crp_qc: the client side of the stages' queues, one API over two
 * backends (an operations table, crp_qc_ops): the embedded queue service
 * (crp_queue.c, line protocol over TCP; the default) and RabbitMQ over
 * AMQP 0-9-1 (crp_amqp.c), chosen by the address given to crp_qc_init:
 * "host:port" or "amqp://user:pass@host:port/vhost".
 * Every call either completes (the queue committed it) or fails and
 * closes the connection; the next call reconnects.  Leases of a closed
 * connection go back to the queue, so a failed call never loses a
 * record: at worst it is delivered again. */
#ifndef CRP_QC_H
#define CRP_QC_H

#include <stdint.h>

#include "crp_net.h"

typedef struct crp_qc_ops crp_qc_ops;

typedef struct crp_qc {
    char addr[256];
    crp_conn conn; /* embedded backend */
    int timeout_ms;
    unsigned defects;      /* CRP_DEFECT_* (crp_conf.h), tests only */
    int heartbeat_s;       /* amqp: heartbeat interval asked for, 0 none */
    const crp_qc_ops *ops; /* the backend */
    void *be;              /* the backend's state (amqp), or NULL */
    char err[256];         /* the last failure, as a sentence ("" none) */
} crp_qc;

typedef struct crp_qmsg {
    int64_t seq;
    int deliveries;
    char id[64], trace[40];
    char *payload; /* malloc'd */
} crp_qmsg;

typedef struct crp_qput {
    const char *q, *id, *trace, *payload;
    int *dup; /* when set: 1 if the queue already had the id (OK DUP) */
} crp_qput;

/* Set up c for addr (not connected yet): an "amqp://" URL selects the
 * AMQP backend, anything else is the queue service's host:port.  Never
 * fails; a bad URL is reported by the first call (-EINVAL, crp_qc_error). */
void crp_qc_init(crp_qc *c, const char *addr, int timeout_ms);
/* Close the connection(s) and free the backend's state; c can be used
 * again (it reconnects). */
void crp_qc_close(crp_qc *c);
/* Turn on test-only defect switches (CRP_DEFECT_AMQP_*) before the first
 * call. */
void crp_qc_set_defects(crp_qc *c, unsigned defects);
/* AMQP heartbeat interval in seconds (0: none) for the connections
 * opened from now on.  With heartbeats the broker closes the connection
 * of a client it has not heard from for two to three intervals (a stalled or
 * silently cut-off consumer: its unacknowledged deliveries go back to the
 * queue), and a call that waits on a connection the broker has not been
 * heard on for twice that long fails (reconnect).  The caller must then
 * call crp_qc_keepalive often (well within the interval), also while it
 * is busy between calls.  No effect on the queue service backend. */
void crp_qc_set_heartbeat(crp_qc *c, int seconds);
/* Keep idle connections alive: send heartbeats that are due and notice a
 * connection the broker went silent on (then it is closed and the next
 * call reconnects).  Cheap; a no-op without heartbeats or connections.
 * 0 or -errno (the connection was found dead). */
int crp_qc_keepalive(crp_qc *c);
/* The last failure as a sentence naming the address and the cause, e.g.
 * "amqp 127.0.0.1:8101: connect: connection refused"; "" when none. */
const char *crp_qc_error(const crp_qc *c);
/* Name of the backend in use: "queue" or "amqp". */
const char *crp_qc_backend(const crp_qc *c);
/* 0 connected (or already), -errno. */
int crp_qc_connect(crp_qc *c);
/* Put n records (pipelined; committed when this returns 0). -errno. */
int crp_qc_put(crp_qc *c, const crp_qput *p, int n);
/* Lease up to max records of q into out (caller frees with
 * crp_qc_free_msgs).  Returns the count or -errno. */
int crp_qc_get(crp_qc *c, const char *q, int max, crp_qmsg *out);
void crp_qc_free_msgs(crp_qmsg *m, int n);
/* Ack (ack = 1) or hand back (ack = 0) n records.  Returns the number
 * the queue confirmed (stale ones are not counted) or -errno.  ok (may be
 * NULL) receives 1 per confirmed record, 0 per stale one (the record was
 * redelivered elsewhere meanwhile). */
int crp_qc_ack(crp_qc *c, const char *q, const int64_t *seqs, int n, int ack,
               int *ok);
/* Ready and leased counts. 0 or -errno. */
int crp_qc_depth(crp_qc *c, const char *q, int64_t *ready, int64_t *leased);

/* One backend.  Each call has the semantics of the public function of
 * the same name; on failure it closes its connection(s) and records the
 * cause in c->err. */
struct crp_qc_ops {
    const char *name;
    int (*connect)(crp_qc *c);
    void (*close)(crp_qc *c);
    int (*put)(crp_qc *c, const crp_qput *p, int n);
    int (*get)(crp_qc *c, const char *q, int max, crp_qmsg *out);
    int (*ack)(crp_qc *c, const char *q, const int64_t *seqs, int n, int ack,
               int *ok);
    int (*depth)(crp_qc *c, const char *q, int64_t *ready, int64_t *leased);
    int (*keepalive)(crp_qc *c); /* may be NULL: nothing to keep alive */
};

extern const crp_qc_ops crp_qc_queue_ops; /* crp_qc.c */
extern const crp_qc_ops crp_qc_amqp_ops;  /* crp_amqp.c */

#endif
