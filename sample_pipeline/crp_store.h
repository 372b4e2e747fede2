/* crp_store: the durable queue store behind the queue service: named
 * queues in one SQLite database in WAL mode with synchronous=FULL (or
 * NORMAL with the caller's own WAL sync: crp_store_defer_sync).
 *
 * A message is ready or leased to a consumer connection (owner != 0)
 * until lease_until.  Leases are kept in memory, not on disk (they all end
 * when the store closes); the delivery count is written to the message
 * when a lease ends without an ack.  Delivery is at-least-once: a lease
 * ends with an ack (the row is deleted), a nack or the owner's
 * disconnection (the row is ready again), or expiry.
 *
 * crp_store_put is idempotent per (queue, id): the store remembers every
 * id put that way (table `seen`, forgotten after a window,
 * crp_store_forget), and a second put of the same id adds nothing.  A
 * producer sends a record again with the same id after a lost answer (an
 * indeterminate write: ingest killed after the queue committed, or the
 * queue killed before it answered); a second copy in `work` would be
 * processed twice and, if poison, dead-lettered twice.
 * crp_store_append always adds a message (the queue service uses it for
 * the queues whose consumer deduplicates itself, e.g. the sink).  Every call
 * below runs inside the caller's transaction (crp_store_begin/commit), so the
 * service can commit the work of many clients at once (group commit). */
#ifndef CRP_STORE_H
#define CRP_STORE_H

#include <stdint.h>
#include <stddef.h>

typedef struct crp_store crp_store;

typedef struct crp_msg {
    int64_t seq;
    int deliveries;                   /* including this one */
    const char *id, *trace, *payload; /* valid during the callback */
} crp_msg;

/* Open (create) the store at path; no message is leased.  Returns 0 and
 * *out, or -1 with err. */
int crp_store_open(const char *path, crp_store **out, char *err, int n);
/* Close; the open leases end and their delivery counts are written
 * (when no transaction is open).  NULL: no-op. */
void crp_store_close(crp_store *s);

/* Start a transaction whose commit returns only once it is on disk (the
 * WAL fsynced): what a put needs before it is acknowledged. */
int crp_store_begin(crp_store *s);
/* Start a transaction that only leases, acknowledges, hands back or
 * expires: its commit does not wait for the disk (on disk with the next
 * durable commit or checkpoint; WAL order: a power loss leaves a prefix
 * of the commits, a killed process loses nothing).  Losing such a commit
 * only delivers its records again (at-least-once, as after a consumer
 * crash).  A put or append inside it fails (-1). */
int crp_store_begin_lazy(crp_store *s);
/* Commit; on failure the transaction is rolled back and -1 returned. */
int crp_store_commit(crp_store *s);
/* Roll back; the leases are as they were at the begin (a lease made in
 * the transaction is gone, one ended in it -- ack, nack, release, expiry
 * -- is back with its owner). */
void crp_store_rollback(crp_store *s);
/* The last SQLite error text. */
const char *crp_store_errmsg(crp_store *s);

/* Append a message unless q had one with this id: returns its seq (> 0),
 * 0 when q already had this id (nothing added), or -1.  The id is
 * remembered with the time of the put (Unix seconds) until
 * crp_store_forget. */
int64_t crp_store_put(crp_store *s, const char *q, const char *id,
                      const char *trace, const char *payload);
/* Append a message, whatever its id.  Its seq (> 0) or -1. */
int64_t crp_store_append(crp_store *s, const char *q, const char *id,
                         const char *trace, const char *payload);
/* Forget the ids seen before before_s (Unix seconds): a put of one of
 * them is new again.  Count or -1. */
int crp_store_forget(crp_store *s, int64_t before_s);
/* Lease up to max ready messages of q (oldest first) to owner until
 * lease_until (ms, monotonic of the service), incrementing deliveries;
 * calls cb for each.  Returns the number leased or -1. */
int crp_store_lease(crp_store *s, const char *q, int max, int64_t owner,
                    int64_t lease_until,
                    void (*cb)(void *arg, const crp_msg *m), void *arg);
/* Delete a message leased by owner.  1 done, 0 not leased by owner
 * (stale: redelivered elsewhere, or unknown), -1 error. */
int crp_store_ack(crp_store *s, int64_t seq, int64_t owner);
/* Make a message leased by owner ready again.  1, 0 (stale), -1. */
int crp_store_nack(crp_store *s, int64_t seq, int64_t owner);
/* Return every lease of owner (0: of everyone).  Count or -1.  This and
 * crp_store_expire run in the caller's transaction, or else in a lazy one
 * of their own.  Outside a transaction, when the delivery counts cannot
 * be written (-1), the leases of an owner (!= 0) end all the same,
 * their counts lost as in a kill: a closed connection keeps no record. */
int crp_store_release(crp_store *s, int64_t owner);
/* Return leases that ended before now_ms.  Count or -1. */
int crp_store_expire(crp_store *s, int64_t now_ms);
/* Ready and leased counts of q.  0 or -1. */
int crp_store_depth(crp_store *s, const char *q, int64_t *ready,
                    int64_t *leased);
/* Ready records of q, counted up to limit (cost O(limit), through the
 * ready index): min(ready, limit), or -1. */
int64_t crp_store_ready(crp_store *s, const char *q, int64_t limit);

/* The store's memory for leases: it follows the live leases (the table
 * shrinks after a burst, at the end of a transaction), not their peak. */
typedef struct crp_store_mem {
    size_t leases;      /* live leases */
    size_t lease_slots; /* slots of the lease table (>= 2 * leases) */
    size_t queue_slots; /* per-queue states allocated */
} crp_store_mem;
void crp_store_mem_usage(const crp_store *s, crp_store_mem *m);

/* Group commit without waiting for the disk in the committing thread
 * (the queue service, crp_walsync.h): after this call a put is allowed in
 * a lazy transaction (crp_store_begin_lazy), and the caller makes it
 * durable -- an fdatasync of the WAL that starts after the commit --
 * before it acknowledges it.  Until then the put is not leased:
 * crp_store_lease delivers only the rows up to the seq given to
 * crp_store_set_visible (a put committed by a durable transaction,
 * crp_store_begin, is visible at once), so nothing is processed that a
 * power loss could still take back. */
void crp_store_defer_sync(crp_store *s);
/* The highest seq of a committed put (0: none yet). */
int64_t crp_store_put_hi(const crp_store *s);
/* The puts up to hi are on disk: lease them. */
void crp_store_set_visible(crp_store *s, int64_t hi);

#endif
