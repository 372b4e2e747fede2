/* cr_fiu: libfiu remote-control client (protocol notes in cr_fiu.h). */
#include "cr_fiu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"

struct cr_fiu_conn {
    int fd_in;                  /* we write commands here (the process's .in) */
    int fd_out;                 /* we read replies here (the process's .out) */
    char path[CR_FIU_MAX_LINE]; /* the .in FIFO, reopened after a race */
    char buf[64];               /* reply bytes read but not yet consumed */
    size_t nbuf;
};

/* How long a closed FIFO end may stay closed before we call the process
 * gone.  libfiu's thread, on EOF from the previous client, closes .in, then
 * .out, then reopens both: a client that opened .in just before the close
 * sees EPIPE on its write, or EOF on .out, for the few microseconds (more
 * on a loaded machine) until the reopen.  Both are retried this long. */
#define CR_FIU_REOPEN_GRACE_S 0.5

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int cr_fiu_fifo_path(char *buf, size_t n, const char *prefix, pid_t pid,
                     int out)
{
    int k = snprintf(buf, n, "%s-%d.%s", prefix, (int)pid, out ? "out" : "in");
    if (k < 0 || (size_t)k >= n)
        return CR_EINVAL;
    return CR_OK;
}

/* Open the .in FIFO for writing.  O_NONBLOCK write-open fails with ENXIO
 * while no reader has the FIFO open: the process's thread is busy (between
 * sessions, or not started yet); retried until `until`, as is ENOENT (the
 * FIFO is not there yet) when enoent_too.  Returns the fd, or -1 with
 * *last the errno of the last attempt. */
static int open_in(const char *path, double until, int enoent_too, int *last)
{
    for (;;) {
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        *last = errno;
        if (*last != ENXIO && *last != EINTR &&
            !(enoent_too && *last == ENOENT))
            return -1;
        if (mono_now() >= until)
            return -1;
        nap(0.0005);
    }
}

int cr_fiu_open(const char *prefix, pid_t pid, double timeout_s,
                cr_fiu_conn **out, cr_err *err)
{
    char pin[CR_FIU_MAX_LINE], pout[CR_FIU_MAX_LINE];
    cr_fiu_conn *c = NULL;
    int fd_in = -1, fd_out = -1, rc = CR_OK, last = 0;
    *out = NULL;
    if (cr_fiu_fifo_path(pin, sizeof pin, prefix, pid, 0) ||
        cr_fiu_fifo_path(pout, sizeof pout, prefix, pid, 1))
        return cr_err_set(err, CR_EINVAL, "libfiu FIFO prefix too long: %s",
                          prefix);
    fd_in = open_in(pin, mono_now() + timeout_s, 1, &last);
    if (fd_in < 0 && last != ENXIO && last != ENOENT && last != EINTR) {
        rc = cr_err_sys(err, CR_ESYS, last, "libfiu remote control %s", pin);
        goto out;
    }
    if (fd_in < 0) {
        rc = cr_err_set(err, CR_ETIMEOUT,
                        "libfiu remote control %s: %s after %.2f s (is "
                        "the process running under fiu_run_preload.so?)",
                        pin,
                        last == ENOENT ? "no such FIFO" : "nobody listening",
                        timeout_s);
        goto out;
    }
    /* A FIFO opened for reading with O_NONBLOCK never blocks; the process's
     * thread, blocked in open(.out, O_WRONLY), proceeds once we are here. */
    fd_out = open(pout, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd_out < 0) {
        rc = cr_err_sys(err, CR_ESYS, errno, "libfiu remote control %s", pout);
        goto out;
    }
    /* The service made these (it may run as another user): FIFOs only,
     * never a link (O_NOFOLLOW above) or a file we would write into. */
    struct stat st_in, st_out;
    if (fstat(fd_in, &st_in) != 0 || fstat(fd_out, &st_out) != 0 ||
        !S_ISFIFO(st_in.st_mode) || !S_ISFIFO(st_out.st_mode)) {
        rc = cr_err_set(err, CR_EPROTO,
                        "libfiu remote control %s: not a FIFO (refused)", pin);
        goto out;
    }
    c = cr_calloc(1, sizeof *c);
    if (!c) {
        rc = cr_err_set(err, CR_ENOMEM, "libfiu remote control: out of memory");
        goto out;
    }
    c->fd_in = fd_in;
    c->fd_out = fd_out;
    snprintf(c->path, sizeof c->path, "%s", pin);
    fd_in = fd_out = -1;
    *out = c;
out:
    if (fd_in >= 0)
        close(fd_in);
    if (fd_out >= 0)
        close(fd_out);
    return rc;
}

/* write() with SIGPIPE blocked, so that a peer that went away gives EPIPE
 * instead of killing us; a SIGPIPE raised by this write is consumed. */
static ssize_t write_nosigpipe(int fd, const char *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = write(fd, p, n);
    int e = errno;
    if (w < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return w;
}

/* The thread closed .in between our open and our write (see
 * CR_FIU_REOPEN_GRACE_S): wait for it to open .in again. */
static int reopen_in(cr_fiu_conn *c, double deadline)
{
    double until = mono_now() + CR_FIU_REOPEN_GRACE_S;
    int last = 0,
        fd = open_in(c->path, until < deadline ? until : deadline, 0, &last);
    if (fd < 0)
        return last == ENXIO || last == EINTR ? CR_ETIMEOUT : CR_ESYS;
    close(c->fd_in);
    c->fd_in = fd;
    return CR_OK;
}

static int send_line(cr_fiu_conn *c, const char *line, size_t len,
                     double deadline, cr_err *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write_nosigpipe(c->fd_in, line + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EPIPE) {
            /* Nothing was written (a line is shorter than PIPE_BUF, so
             * writes are whole): reopen .in and send the line again. */
            if (off == 0 && reopen_in(c, deadline) == CR_OK)
                continue;
            return cr_err_set(err, CR_EPROTO,
                              "libfiu remote control %s: the process closed "
                              "it (exited?)",
                              c->path);
        }
        if (w < 0 && errno != EAGAIN)
            return cr_err_sys(err, CR_ESYS, errno,
                              "libfiu remote control %s: write", c->path);
        double left = deadline - mono_now();
        if (left <= 0)
            return cr_err_set(err, CR_ETIMEOUT,
                              "libfiu remote control %s: write timed out",
                              c->path);
        struct pollfd p = {c->fd_in, POLLOUT, 0};
        poll(&p, 1, (int)(left * 1000) + 1);
    }
    return CR_OK;
}

/* Wait for the next reply line (to `cmd`, named in errors) until
 * deadline. */
static int read_reply(cr_fiu_conn *c, const char *cmd, double deadline,
                      double timeout_s, int *reply, cr_err *err)
{
    int rc;
    double hup_since = 0; /* when .out was first seen without a writer */
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->nbuf);
        if (nl) {
            *nl = '\0';
            char *end = NULL;
            errno = 0;
            long v = strtol(c->buf, &end, 10);
            int bad = end == c->buf || *end != '\0' || errno != 0;
            size_t used = (size_t)(nl - c->buf) + 1;
            if (bad) {
                rc = cr_err_set(err, CR_EPROTO,
                                "libfiu remote control %s: unexpected reply "
                                "\"%.40s\" to \"%.60s\"",
                                c->path, c->buf, cmd);
                c->nbuf = 0;
                return rc;
            }
            memmove(c->buf, c->buf + used, c->nbuf - used);
            c->nbuf -= used;
            *reply = (int)v;
            return CR_OK;
        }
        if (c->nbuf == sizeof c->buf)
            return cr_err_set(err, CR_EPROTO,
                              "libfiu remote control %s: reply too long",
                              c->path);
        double left = deadline - mono_now();
        if (left <= 0)
            return cr_err_set(err, CR_ETIMEOUT,
                              "libfiu remote control %s: no reply to "
                              "\"%.60s\" within %.2f s",
                              c->path, cmd, timeout_s);
        struct pollfd p = {c->fd_out, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR)
            return cr_err_sys(err, CR_ESYS, errno,
                              "libfiu remote control %s: poll", c->path);
        if (pr <= 0)
            continue;
        ssize_t n = read(c->fd_out, c->buf + c->nbuf, sizeof c->buf - c->nbuf);
        if (n > 0) {
            c->nbuf += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n == 0 && !(p.revents & POLLHUP)) {
            /* No writer yet (the thread has not opened .out): poll again
             * shortly rather than spin. */
            nap(0.0005);
            continue;
        }
        /* The writer closed .out: the process exited, or its thread is
         * between two sessions and will reopen it and answer. */
        if (n == 0 && hup_since == 0)
            hup_since = mono_now();
        if (n == 0 && mono_now() - hup_since < CR_FIU_REOPEN_GRACE_S) {
            nap(0.001);
            continue;
        }
        if (n == 0)
            return cr_err_set(err, CR_EPROTO,
                              "libfiu remote control %s: the process closed "
                              "it without replying to \"%.60s\" (exited?)",
                              c->path, cmd);
        return cr_err_sys(err, CR_ESYS, errno, "libfiu remote control %s: read",
                          c->path);
    }
}

static int check_line(const char *cmd, cr_err *err)
{
    size_t len = strlen(cmd);
    if (len + 1 > CR_FIU_MAX_LINE || strchr(cmd, '\n'))
        return cr_err_set(err, CR_EINVAL,
                          "libfiu command too long or not one line: %.60s",
                          cmd);
    return CR_OK;
}

int cr_fiu_cmds(cr_fiu_conn *c, const char *const *cmds, size_t n,
                double timeout_s, int *replies, cr_err *err)
{
    /* Whole lines, at most PIPE_BUF bytes a write: each write is atomic,
     * so an EPIPE means nothing of it was taken (see send_line). */
    char batch[PIPE_BUF];
    for (size_t i = 0; i < n; i++) {
        int rc = check_line(cmds[i], err);
        if (rc)
            return rc;
    }
    double deadline = mono_now() + timeout_s;
    size_t i = 0;
    while (i < n) {
        size_t len = 0, first = i;
        while (i < n && len + strlen(cmds[i]) + 1 <= sizeof batch) {
            size_t l = strlen(cmds[i]);
            memcpy(batch + len, cmds[i], l);
            batch[len + l] = '\n';
            len += l + 1;
            i++;
        }
        int rc = send_line(c, batch, len, deadline, err);
        for (size_t k = first; rc == CR_OK && k < i; k++)
            rc = read_reply(c, cmds[k], deadline, timeout_s, &replies[k], err);
        if (rc)
            return rc;
    }
    return CR_OK;
}

int cr_fiu_cmd(cr_fiu_conn *c, const char *cmd, double timeout_s, int *reply,
               cr_err *err)
{
    return cr_fiu_cmds(c, &cmd, 1, timeout_s, reply, err);
}

void cr_fiu_close(cr_fiu_conn *c)
{
    if (!c)
        return;
    /* .in first: the thread sees EOF on its read and writes nothing more. */
    if (c->fd_in >= 0)
        close(c->fd_in);
    if (c->fd_out >= 0)
        close(c->fd_out);
    cr_free(c);
}

int cr_fiu_fmt_enable(char *buf, size_t n, const char *name, double probability,
                      int errnum, int onetime)
{
    char prob[48] = "", info[32] = "";
    if (probability < 1)
        snprintf(prob, sizeof prob, ",probability=%.17g", probability);
    if (errnum > 0)
        snprintf(info, sizeof info, ",failinfo=%d", errnum);
    int k = snprintf(buf, n, "%s name=%s%s%s%s",
                     probability < 1 ? "enable_random" : "enable", name, prob,
                     info, onetime ? ",onetime" : "");
    if (k < 0 || (size_t)k >= n || k + 1 > CR_FIU_MAX_LINE)
        return CR_EINVAL;
    return CR_OK;
}

int cr_fiu_fmt_disable(char *buf, size_t n, const char *name)
{
    int k = snprintf(buf, n, "disable name=%s", name);
    if (k < 0 || (size_t)k >= n || k + 1 > CR_FIU_MAX_LINE)
        return CR_EINVAL;
    return CR_OK;
}
