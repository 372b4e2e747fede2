// clang-format off
/* crp_amqp: the RabbitMQ backend of crp_qc (AMQP 0-9-1 via librabbitmq),
 * crp_qc_amqp_ops.  The queue protocol maps onto AMQP as follows
 * (README, "RabbitMQ as the queue"):
 *   PUT   -> basic.publish to the default exchange, routing key = queue,
 *            mandatory, delivery_mode 2, on a channel in confirm mode;
 *            the put returns once the broker confirmed every message
 *   GET   -> basic.consume (manual acks) with basic.qos prefetch = the
 *            batch: the prefetched deliveries are the "leases"
 *   ACK   -> basic.ack; NACK -> basic.nack(requeue); a tag of a closed
 *            connection is STALE (the broker requeued it already)
 *   DEPTH -> queue.declare(passive).message_count
 * The pure parts (URL parsing, delivery-tag <-> seq, the publisher
 * confirm bookkeeping) are exported for the unit tests. */
// clang-format on
#ifndef CRP_AMQP_H
#define CRP_AMQP_H

#include <stddef.h>
#include <stdint.h>

typedef struct crp_amqp_url {
    char user[64], pass[64], host[128], vhost[64];
    int port;
} crp_amqp_url;

/* Parse "amqp://[user[:pass]@]host[:port][/vhost]" (percent-decoded;
 * defaults guest, guest, port 5672, vhost "/").  Returns 0, or -EINVAL with
 * a sentence in err (size n) naming the URL and the fault; u is then
 * unspecified. */
int crp_amqp_parse_url(const char *url, crp_amqp_url *u, char *err, size_t n);

/* A crp_qmsg seq is (connection generation << 40) | delivery tag: a tag
 * is only meaningful on the connection that delivered it. */
int64_t crp_amqp_seq(uint32_t gen, uint64_t tag);
uint32_t crp_amqp_seq_gen(int64_t seq);
uint64_t crp_amqp_seq_tag(int64_t seq);

/* Publisher-confirm bookkeeping of one batch: tags first .. first+n-1
 * were published (n <= CRP_AMQP_MAX_BATCH) and each must be acked by the
 * broker (basic.ack, possibly `multiple`) before the put succeeds. */
#define CRP_AMQP_MAX_BATCH 1024
typedef struct crp_amqp_confirms {
    uint64_t first;
    int n, pending, nacked, returned;
    unsigned char done[CRP_AMQP_MAX_BATCH];
} crp_amqp_confirms;

/* Start a batch.  Returns 0 or -EINVAL (n out of range). */
int crp_amqp_confirms_begin(crp_amqp_confirms *cf, uint64_t first, int n);
/* Record basic.ack (nack = 0) or basic.nack (nack = 1) of tag (all tags
 * <= tag when multiple).  Tags before the batch are ignored (late
 * confirms of an earlier batch); a tag after it is -EPROTO. */
int crp_amqp_confirms_ack(crp_amqp_confirms *cf, uint64_t tag, int multiple,
                          int nack);
/* 1 when every message of the batch is confirmed, 0 while some are
 * pending, -EIO when any was nacked or returned (unroutable). */
int crp_amqp_confirms_state(const crp_amqp_confirms *cf);

#endif
