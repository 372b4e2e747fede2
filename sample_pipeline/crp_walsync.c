/* crp_walsync: see crp_walsync.h. */
#include "crp_walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

struct crp_walsync {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv, done_cv;
    int efd;
    int fd; /* the WAL file (the thread's own), -1 until opened */
    int stop;
    uint64_t req; /* the last generation requested */
    int64_t req_tag;
    crp_walsync_state st;
    char path[4096];
};

/* Open the WAL file and make its directory entry durable.  0 or -errno. */
static int wal_open(crp_walsync *w)
{
    if (w->fd >= 0) {
        struct stat sb;
        if (fstat(w->fd, &sb) == 0 && sb.st_nlink > 0)
            return 0;
        close(w->fd); /* deleted (the store was closed and opened again) */
        w->fd = -1;
    }
    int fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    char dir[sizeof w->path];
    snprintf(dir, sizeof dir, "%s", w->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 || fsync(dfd) < 0 ? -errno : 0;
    if (dfd >= 0)
        close(dfd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    w->fd = fd;
    return 0;
}

static void *run(void *arg)
{
    crp_walsync *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->req == w->st.done)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->req == w->st.done)
            break; /* stopping, nothing left */
        uint64_t gen = w->req;
        int64_t tag = w->req_tag;
        pthread_mutex_unlock(&w->mu);
        int rc = wal_open(w);
        if (rc == 0 && fdatasync(w->fd) < 0)
            rc = -errno;
        pthread_mutex_lock(&w->mu);
        w->st.done = gen;
        if (rc < 0) {
            w->st.failed = gen;
            w->st.err = -rc;
        } else {
            w->st.hi = tag;
        }
        pthread_cond_broadcast(&w->done_cv);
        uint64_t one = 1;
        ssize_t r = write(w->efd, &one, sizeof one);
        (void)r; /* a full counter is still readable */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Everything w holds but its thread (not started, or joined). */
static void release(crp_walsync *w)
{
    if (w->fd >= 0)
        close(w->fd);
    close(w->efd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    free(w);
}

int crp_walsync_start(crp_walsync **out, const char *path, char *err, int n)
{
    crp_walsync *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    if (strlen(path) >= sizeof w->path) {
        snprintf(err, n, "WAL path too long: %s", path);
        free(w);
        return -ENAMETOOLONG;
    }
    strcpy(w->path, path);
    w->fd = -1;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        int e = errno;
        snprintf(err, n, "eventfd: %s", strerror(e));
        free(w);
        return -e;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    /* the signals stay the loop's (a SIGTERM must wake its poll) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&w->th, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        snprintf(err, n, "WAL sync thread: %s", strerror(e));
        release(w);
        return -e;
    }
    *out = w;
    return 0;
}

int crp_walsync_fd(const crp_walsync *w)
{
    return w->efd;
}

uint64_t crp_walsync_request(crp_walsync *w, int64_t tag)
{
    pthread_mutex_lock(&w->mu);
    uint64_t gen = ++w->req;
    w->req_tag = tag;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return gen;
}

void crp_walsync_poll(crp_walsync *w, crp_walsync_state *st)
{
    uint64_t v;
    ssize_t r = read(w->efd, &v, sizeof v);
    (void)r; /* EAGAIN: nothing new, the state is read all the same */
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    pthread_mutex_unlock(&w->mu);
}

void crp_walsync_wait(crp_walsync *w, crp_walsync_state *st)
{
    pthread_mutex_lock(&w->mu);
    while (w->st.done != w->req)
        pthread_cond_wait(&w->done_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    crp_walsync_poll(w, st);
}

void crp_walsync_stop(crp_walsync *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    release(w);
}
