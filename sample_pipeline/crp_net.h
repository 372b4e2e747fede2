/* crp_net: TCP on loopback and the line protocol every stage speaks.
 * A message is one line of text ending in '\n'; JSON payloads are written
 * compact so they never contain a newline.  All sockets are CLOEXEC and
 * non-blocking; reads and writes take a timeout. */
#ifndef CRP_NET_H
#define CRP_NET_H

#include <poll.h>
#include <stddef.h>

/* Listen on host 127.0.0.1 (or the host in "host:port" style addr when
 * port < 0 is not used).  Returns fd or -errno. */
int crp_net_listen(int port);
/* Listen on ip:port (ip dotted IPv4, e.g. "0.0.0.0" on a chaosrun host
 * that other hosts must reach).  Returns fd or -errno (-EINVAL: bad ip). */
int crp_net_listen_on(const char *ip, int port);
/* Connect to "host:port" within timeout_ms.  Returns fd or -errno. */
int crp_net_connect(const char *addr, int timeout_ms);
/* Accept one connection (non-blocking, CLOEXEC).  fd or -errno. */
int crp_net_accept(int lfd);

typedef struct crp_conn {
    int fd;    /* -1 when closed */
    char *buf; /* received bytes not yet consumed */
    size_t len, cap, off;
} crp_conn;

void crp_conn_init(crp_conn *c, int fd);
/* Close the socket and free the buffer; the struct can be re-inited. */
void crp_conn_close(crp_conn *c);
/* Abandon the connection: close with a reset (SO_LINGER 0), so the
 * kernel neither delivers nor retransmits what the peer has not yet
 * received: a request given up on is never processed later (e.g. after
 * a partition heals).  Then as crp_conn_close. */
void crp_conn_abort(crp_conn *c);
/* Read what is available without blocking.  Returns bytes read (> 0),
 * 0 nothing available, -ECONNRESET on end of stream, -errno. */
int crp_conn_fill(crp_conn *c);
/* Take the next complete line (without '\n', NUL-terminated) from the
 * buffer.  The pointer is valid until the next fill/readline.  Returns 1
 * with *line set, 0 when no complete line is buffered. */
int crp_conn_next(crp_conn *c, char **line);
/* Wait up to timeout_ms for a whole line.  1 line, 0 timeout, -errno
 * (-ECONNRESET when the peer closed). */
int crp_conn_readline(crp_conn *c, char **line, int timeout_ms);
/* Send all of buf within timeout_ms.  0, -ETIMEDOUT or -errno. */
int crp_conn_send(crp_conn *c, const char *buf, size_t len, int timeout_ms);

/* A growable string for building requests. */
typedef struct crp_sb {
    char *s;
    size_t len, cap;
} crp_sb;
/* Append formatted text; returns 0 or -ENOMEM. */
int crp_sb_printf(crp_sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append n bytes of s (no formatting: for payloads); 0 or -ENOMEM. */
int crp_sb_append(crp_sb *b, const char *s, size_t n);
void crp_sb_reset(crp_sb *b);
void crp_sb_free(crp_sb *b);

/* A line server: one listening socket and up to CRP_LSRV_MAX clients,
 * served from the caller's loop in two steps so that the caller can do
 * its own periodic work between waiting and answering:
 *
 *     while (!stop) {
 *         int pr = crp_lsrv_wait(&s, timeout_ms);   // poll + accept
 *         ...periodic work...
 *         if (pr > 0)
 *             crp_lsrv_serve(&s, on_client, ctx);   // read + answer
 *     }
 *
 * A connection beyond CRP_LSRV_MAX is closed at once. */
#define CRP_LSRV_MAX 64

typedef struct crp_lsrv {
    int lfd;
    crp_conn cl[CRP_LSRV_MAX];
    struct pollfd pfd[CRP_LSRV_MAX + 1]; /* the last wait's */
    int idx[CRP_LSRV_MAX + 1], n;
} crp_lsrv;

/* Called for a client that sent bytes: take the complete lines with
 * crp_conn_next and answer them.  Return < 0 to close the client. */
typedef int (*crp_lsrv_fn)(void *ctx, crp_conn *c);

/* Takes ownership of lfd (a listening socket from crp_net_listen*). */
void crp_lsrv_init(crp_lsrv *s, int lfd);
/* Wait up to timeout_ms for the listener and the clients; accepts new
 * clients.  Returns poll()'s result (> 0: crp_lsrv_serve has work). */
int crp_lsrv_wait(crp_lsrv *s, int timeout_ms);
/* Read from the clients the last wait found readable and call fn for
 * each; close those that hung up, failed, or fn refused. */
void crp_lsrv_serve(crp_lsrv *s, crp_lsrv_fn fn, void *ctx);
/* Close every client and the listener. */
void crp_lsrv_close(crp_lsrv *s);

#endif
