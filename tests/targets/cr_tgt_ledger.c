/* cr_tgt_ledger: a durable ledger and its consumer, the subject of the
 * no_loss checker's indeterminate-write test (e2e
 * checks_no_loss_indeterminate).
 *
 * Ledger (default): appends records 1, 2, ... to <dir>/tgt_ledger.records, one
 * line each, every --period-ms until --count records are in it.  Per record:
 * `offered` {id} (with --offered), write + fsync, `committed` {id} (the
 * record is durable: the hook a state-triggered fault fires on), then
 * `accepted` {id} (the acknowledgement).  With --stall-at N it sleeps
 * --stall-ms between making record N durable and acknowledging it, so a
 * kill triggered by `committed` {id: N} lands in that window every time.
 * On start it recovers the ledger: drops a torn last line and continues
 * after the last record, so a restart never reuses an id.
 *
 * Consumer (--consume): tails that file and reports every complete line
 * as `delivered` {id}; on SIGTERM it reads to the end, then exits 0.
 *
 * <dir> is --dir, else $CHAOSRUN_RUN_DIR. */
#include "lib/cr_tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct opts {
    const char *dir;
    int offered, consume;
    long count, stall_at;
    double period_ms, stall_ms;
} opts;

static int parse_args(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--offered"))
            o->offered = 1;
        else if (!strcmp(a, "--consume"))
            o->consume = 1;
        else if (!strcmp(a, "--dir") && v)
            o->dir = argv[++i];
        else if (!strcmp(a, "--count") && v)
            o->count = atol(argv[++i]);
        else if (!strcmp(a, "--period-ms") && v)
            o->period_ms = atof(argv[++i]);
        else if (!strcmp(a, "--stall-at") && v)
            o->stall_at = atol(argv[++i]);
        else if (!strcmp(a, "--stall-ms") && v)
            o->stall_ms = atof(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_ledger: bad argument %s\n", a);
            return -1;
        }
    }
    if (!o->dir) {
        fprintf(stderr, "cr_tgt_ledger: no --dir and no CHAOSRUN_RUN_DIR\n");
        return -1;
    }
    return 0;
}

/* Recovery: the last complete record's id (0 when none); a torn last line
 * (killed mid-write) is cut off. */
static long recover(int fd)
{
    char buf[4096];
    long last = 0, cur = 0;
    off_t good = 0, pos = 0;
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, pos)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                last = cur;
                cur = 0;
                good = pos + i + 1;
            } else {
                cur = cur * 10 + (buf[i] - '0');
            }
        }
        pos += n;
    }
    if (good != pos && ftruncate(fd, good) != 0)
        perror("cr_tgt_ledger: ftruncate");
    return last;
}

static int run_ledger(const opts *o, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "cr_tgt_ledger: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    long id = recover(fd);
    printf("ledger recovered: last record %ld\n", id);
    cr_tgt_emit("ready", NULL);
    char f[64], line[32];
    while (!cr_tgt_term && id < o->count) {
        id++;
        snprintf(f, sizeof f, "\"id\":%ld", id);
        if (o->offered)
            cr_tgt_emit("offered", f);
        int n = snprintf(line, sizeof line, "%ld\n", id);
        if (write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
            perror("cr_tgt_ledger: write");
            return 1;
        }
        cr_tgt_emit("committed", f);
        if (id == o->stall_at) {
            printf("record %ld durable; stalling %.0f ms before the "
                   "acknowledgement\n",
                   id, o->stall_ms);
            cr_tgt_sleep_ms(o->stall_ms);
        }
        cr_tgt_emit("accepted", f);
        cr_tgt_sleep_ms(o->period_ms);
    }
    while (!cr_tgt_term) /* idle until stopped */
        cr_tgt_sleep_ms(50);
    close(fd);
    cr_tgt_emit("stopped", NULL);
    return 0;
}

/* Report every complete line after *pos as delivered. */
static void deliver_new(int fd, off_t *pos)
{
    char buf[4096], f[64];
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, *pos)) > 0) {
        ssize_t used = 0;
        long cur = 0;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                cur = cur * 10 + (buf[i] - '0');
                continue;
            }
            snprintf(f, sizeof f, "\"id\":%ld", cur);
            cr_tgt_emit("delivered", f);
            cur = 0;
            used = i + 1;
        }
        if (used == 0) /* a torn line: wait for the rest */
            return;
        *pos += used;
    }
}

static int run_consumer(const char *path)
{
    int fd = -1;
    off_t pos = 0;
    cr_tgt_emit("ready", NULL);
    for (;;) {
        int last = cr_tgt_term; /* read once more after SIGTERM */
        if (fd < 0)
            fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            deliver_new(fd, &pos);
        if (last)
            break;
        cr_tgt_sleep_ms(10);
    }
    if (fd >= 0)
        close(fd);
    cr_tgt_emit("stopped", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.dir = getenv("CHAOSRUN_RUN_DIR"),
              .count = 30,
              .stall_at = -1,
              .period_ms = 20,
              .stall_ms = 3000};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    cr_tgt_init(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/tgt_ledger.records", o.dir);
    return o.consume ? run_consumer(path) : run_ledger(&o, path);
}
