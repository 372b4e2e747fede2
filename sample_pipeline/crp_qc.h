/* crp_qc: the client side of the queue protocol (see crp_queue.c).
 * Every call either completes (the queue committed it) or fails and
 * closes the connection; the next call reconnects.  Leases of a closed
 * connection go back to the queue, so a failed call never loses a
 * record: at worst it is delivered again. */
#ifndef CRP_QC_H
#define CRP_QC_H

#include <stdint.h>

#include "crp_net.h"

typedef struct crp_qc {
    char addr[256];
    crp_conn conn;
    int timeout_ms;
} crp_qc;

typedef struct crp_qmsg {
    int64_t seq;
    int deliveries;
    char id[64], trace[40];
    char *payload; /* malloc'd */
} crp_qmsg;

typedef struct crp_qput {
    const char *q, *id, *trace, *payload;
} crp_qput;

void crp_qc_init(crp_qc *c, const char *addr, int timeout_ms);
void crp_qc_close(crp_qc *c);
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

#endif
