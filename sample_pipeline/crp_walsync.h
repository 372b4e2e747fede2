/* crp_walsync: the queue service's disk waits, off its loop.  A thread
 * fdatasyncs the store's WAL file on request; the loop goes on running
 * the next round's commands meanwhile and sends a round's replies once a
 * sync that started after its commit has ended (the eventfd polls
 * readable).  Requests made while a sync runs are served by the next one
 * together: one fdatasync per disk wait, however many rounds committed
 * during the last one.
 *
 * Generations: each request returns a number (1, 2, ...); the loop waits
 * for crp_walsync_poll to report done >= that number.  A failed sync
 * fails every generation up to the one it served (failed >= gen): what
 * those rounds wrote may not be on disk, even if a later sync succeeds
 * (the kernel may drop the pages whose writeback failed), so their puts
 * must never be acknowledged. */
#ifndef CRP_WALSYNC_H
#define CRP_WALSYNC_H

#include <stdint.h>

typedef struct crp_walsync crp_walsync;

typedef struct crp_walsync_state {
    uint64_t done;   /* every generation up to this one has ended */
    uint64_t failed; /* ... up to this one has failed (0: none) */
    int64_t hi;      /* the tag of the last successful sync's request */
    int err;         /* errno of the last failure */
} crp_walsync_state;

/* Start the thread for the WAL file at path (opened with O_NOFOLLOW on
 * the first request, again if it was deleted; its directory is fsynced
 * at each opening).  0, or -errno with a message in err. */
int crp_walsync_start(crp_walsync **out, const char *path, char *err, int n);
/* The eventfd to poll for POLLIN. */
int crp_walsync_fd(const crp_walsync *w);
/* Ask for a sync covering everything written so far; tag (e.g. the last
 * seq written) comes back as state.hi once it is on disk.  The
 * generation to wait for. */
uint64_t crp_walsync_request(crp_walsync *w, int64_t tag);
/* Read the state (and clear the eventfd). */
void crp_walsync_poll(crp_walsync *w, crp_walsync_state *st);
/* Wait until every request made so far has been served; the state. */
void crp_walsync_wait(crp_walsync *w, crp_walsync_state *st);
/* Serve the requests made so far, then stop the thread and free w. */
void crp_walsync_stop(crp_walsync *w);

#endif
