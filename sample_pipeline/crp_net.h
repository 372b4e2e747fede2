/* crp_net: TCP on loopback and the line protocol every stage speaks.
 * A message is one line of text ending in '\n'; JSON payloads are written
 * compact so they never contain a newline.  All sockets are CLOEXEC and
 * non-blocking; reads and writes take a timeout. */
#ifndef CRP_NET_H
#define CRP_NET_H

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
void crp_sb_reset(crp_sb *b);
void crp_sb_free(crp_sb *b);

#endif
