/* cr_proxy_internal: what the fault proxy's files share (cr_proxy.c: loop,
 * timers; cr_proxy_link.c: links; cr_proxy_conn.c: connections;
 * cr_proxy_toxic.c: toxics;
 * cr_proxy_chan.c: control channels and statistics; cr_proxy_http.c,
 * cr_proxy_api.c, cr_proxy_apijson.c: Toxiproxy's HTTP API).  Not for use
 * outside them: names with cr_proxy__ are internal (libuv style). */
#ifndef CR_PROXY_INTERNAL_H
#define CR_PROXY_INTERNAL_H

#include "cr_proxy.h"
#include "base/cr_rng.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#define MAX_TOXICS 32    /* per link, active at once */
#define CHUNK_MAX  65536 /* one read in the shaped path */
#define QUEUE_MAX                                                              \
    (1u << 20) /* bytes held per direction before backpressure                 \
                */
#define PIPE_CAP     (1u << 19) /* requested pipe size for the fast path */
#define PIPE_POOL    64
#define PUMP_ROUNDS  16 /* reads per wake-up, for fairness */
#define CTL_LINE_MAX 4096

enum {
    FK_LISTEN,
    FK_CLIENT,
    FK_SERVER,
    FK_TIMER,
    FK_CTL_LISTEN,
    FK_CTL,
    FK_STOP,
    FK_HTTP
};
enum { CS_CONNECTING, CS_OPEN, CS_DEAD };
enum { DS_OPEN, DS_EOF, DS_CLOSE_WAIT, DS_DONE };
enum { T_RELEASE, T_CLOSE_WAIT, T_DEADLINE, T_RESET, T_HTTP };
enum { CLOSE_FIN, CLOSE_RST };

typedef struct pfd {
    int kind;
    void *obj;
} pfd;

typedef struct conn conn;

typedef struct ptimer {
    uint64_t when; /* CLOCK_MONOTONIC ns */
    size_t hidx;   /* position in the heap, SIZE_MAX when not armed */
    int kind;      /* T_* */
    int dir;
    conn *c; /* NULL for T_HTTP */
} ptimer;

typedef struct chunk {
    struct chunk *next;
    uint64_t release;
    size_t len, off;
    int close_after; /* limit_data: close the connection once sent */
    int toxic;       /* slot of the limit_data toxic, -1 */
    unsigned char data[];
} chunk;

typedef struct dir {
    int state;   /* DS_* */
    int pipe[2]; /* fast path, lazily taken from the pool */
    size_t pipe_bytes, pipe_cap;
    chunk *qhead, *qtail;
    size_t qbytes;
    uint64_t last_release; /* keeps shaped chunks in order */
    uint64_t bw_next;      /* bandwidth: earliest start of the next byte */
    uint64_t limit_passed; /* limit_data: bytes let through */
    uint64_t bytes;
    int want_read, want_write;
    int rst_after; /* the source was reset: reset once flushed */
    cr_rng rng;    /* jitter, slice sizes */
    ptimer release_t, close_t;
} dir;

typedef struct plink plink;

struct conn {
    conn *next, *prev;
    plink *l;
    uint64_t idx; /* order of acceptance on the link, from 0 */
    int state;    /* CS_* */
    int cfd, sfd;
    pfd cp, sp;
    uint32_t cmask, smask; /* registered epoll interest */
    int cgone, sgone;      /* errored fd taken out of epoll (rst_after) */
    uint32_t affected;     /* bit per toxic slot */
    uint64_t start;
    dir d[2];
    ptimer deadline_t, reset_t;
    conn *dead_next;
};

typedef struct toxic_rec {
    char name[CR_PROXY_NAME_MAX];
    cr_proxy_toxic t;
    int active;
    uint64_t seq; /* order of addition on the link */
    uint64_t added, removed;
    uint64_t armed; /* added, or last updated: timeout/reset_peer count
                       from here */
    uint64_t affected, spared, chunks, bytes, events;
} toxic_rec;

/* What the toxics of one type that left the history did, summed. */
typedef struct toxic_sum {
    uint64_t toxics, affected, spared, chunks, bytes, events;
} toxic_sum;

struct plink {
    char name[CR_PROXY_NAME_MAX];
    struct sockaddr_in laddr, uaddr;
    char upstream[CR_PROXY_ADDR_MAX]; /* as given ("redis:6379") */
    /* The network namespace its sockets (listener and upstream) are made
     * in -- a client's host (cr_proxy_link_add_in) -- or -1: the proxy's
     * own.  Its path as given, for `links`. */
    int nsfd;
    char netns[CR_PROXY_ADDR_MAX];
    int lfd;
    pfd lp;
    int enabled;                 /* 0: disabled (Toxiproxy's enabled) */
    int down;                    /* active down toxics */
    toxic_rec *slot[MAX_TOXICS]; /* active toxics (owned) */
    /* Removed toxics: the last CR_PROXY_HISTORY in full (a ring, owned),
     * older ones only summed per type, so that endless add/remove pairs
     * on the control channel keep memory and `stats` bounded. */
    toxic_rec *hist[CR_PROXY_HISTORY];
    size_t hist_head, nhist; /* oldest entry, number kept */
    uint64_t nadded, nremoved, nevicted;
    toxic_sum evicted[CR_PTOX_COUNT];
    conn *conns;
    uint64_t next_idx;
    uint64_t accepted, active, refused, dropped, resets, connect_failed, closed;
    uint64_t bytes[2];  /* sent, per direction */
    uint64_t rbytes[2]; /* received, per direction */
    plink *dead_next;   /* removed: freed after the current batch */
};

typedef struct ctl {
    struct ctl *next;
    pfd p;
    int fd, out_fd; /* out_fd == fd for sockets */
    int owned;      /* 1: close fd on release */
    int dead;
    int unwatched; /* not pollable (a file): read once at start */
    char buf[CTL_LINE_MAX];
    size_t len;
} ctl;

struct cr_proxy {
    uint64_t seed;
    int epfd, tfd;
    pfd tp, ctl_lp, stop_p;
    int ctl_lfd;
    char *ctl_path;
    int stop_fd;
    int stop;
    plink **links;
    size_t nlinks;
    ptimer **heap;
    size_t nheap, hcap;
    uint64_t armed; /* when the timerfd is armed for, 0: disarmed */
    /* Waking early (cr_proxy.c, "timer_rearm"): the measured wake-up
     * lateness of the timerfd (EWMA, ns), the lead it arms the timerfd
     * with, and the spin budget left (ns; refilled at SPIN_SHARE of the
     * time that passes, at most SPIN_BUDGET_MAX). */
    uint64_t wake_late, spin_budget, spin_refill_at;
    int pool[PIPE_POOL][3]; /* read end, write end, capacity */
    size_t npool;
    ctl *ctls;
    conn *dead;
    plink *dead_links;
    int allow_remote; /* listeners may bind beyond loopback */
    int self_nsfd;    /* the proxy's own network namespace (-1: not opened) */
    struct cr_proxy_http *http; /* the Toxiproxy HTTP API (cr_proxy_http.c) */
    uint64_t t_start;
    unsigned char rbuf[CHUNK_MAX];
};

static inline uint64_t cr_proxy__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cr_proxy__ms_ns(double ms)
{
    return ms <= 0 ? 0 : (uint64_t)(ms * 1e6);
}

/* cr_proxy.c */
/* Arm t at `when` (CLOCK_MONOTONIC ns); 0 or CR_ENOMEM (left unarmed). */
int cr_proxy__timer_set(cr_proxy *p, ptimer *t, uint64_t when);
void cr_proxy__timer_cancel(cr_proxy *p, ptimer *t);
int cr_proxy__ep_add(cr_proxy *p, int fd, uint32_t ev, pfd *pf);

/* cr_proxy_link.c */
plink *cr_proxy__link_find(const cr_proxy *p, const char *name);
/* A non-blocking TCP socket in l's network namespace (cr_proxy_link_add_in),
 * or -1 with errno set. */
int cr_proxy__socket(cr_proxy *p, const plink *l);
void cr_proxy__fmt_addr(const struct sockaddr_in *sa, char *buf, size_t n);
/* Accept what is pending on l's listener. */
void cr_proxy__link_accept(cr_proxy *p, plink *l);
/* Free a link that holds no connection and no listener. */
void cr_proxy__link_free(plink *l);
/* (Re)open a link's listener on its address. */
int cr_proxy__link_listen(cr_proxy *p, plink *l, cr_err *err);
/* Listen again when the link is enabled and no down toxic holds it. */
int cr_proxy__link_relisten(cr_proxy *p, plink *l, cr_err *err);
/* "HOST:PORT" to an IPv4 address; loopback_only refuses other hosts.
 * Returns 0 or CR_EINVAL with err set. */
int cr_proxy__parse_addr(const char *s, struct sockaddr_in *sa,
                         int loopback_only, cr_err *err);

/* cr_proxy_conn.c */
/* A connection accepted on l (takes cfd). */
void cr_proxy__conn_new(cr_proxy *p, plink *l, int cfd);
void cr_proxy__conn_event(cr_proxy *p, conn *c, uint32_t ev, int server);
/* Close both sockets (with RST when how is CLOSE_RST); memory is freed by
 * the loop after the current batch. */
void cr_proxy__conn_close(cr_proxy *p, conn *c, int how);
void cr_proxy__timer_fire(cr_proxy *p, ptimer *t);
/* Pump both directions and update the epoll interest. */
void cr_proxy__conn_pump(cr_proxy *p, conn *c);
/* (Re)compute the timeout and reset_peer deadlines of a connection. */
void cr_proxy__conn_deadlines(cr_proxy *p, conn *c);
/* Does toxic tr affect connection number idx of l?  Drawn from the seed,
 * the link, idx and the toxic's name: independent of timing. */
int cr_proxy__toxic_decide(const cr_proxy *p, const plink *l, uint64_t idx,
                           const toxic_rec *tr);
/* Count a connection the toxic was drawn for. */
void cr_proxy__toxic_count(toxic_rec *tr, int hit);

/* cr_proxy_toxic.c */
/* Drop every connection of l (Toxiproxy's stop); counted as dropped. */
void cr_proxy__link_drop(cr_proxy *p, plink *l);
/* Active toxic slot named name on l, or -1. */
int cr_proxy__toxic_slot(const plink *l, const char *name);

/* cr_proxy_chan.c */
void cr_proxy__ctl_accept(cr_proxy *p);
void cr_proxy__ctl_event(cr_proxy *p, ctl *k);
void cr_proxy__ctl_release(cr_proxy *p, ctl *k);

/* cr_proxy_apijson.c: Toxiproxy's JSON (every error is a 400 whose
 * `error` is err->msg). */
#define CR_PROXY_API_EBADSTREAM                                                \
    "stream was invalid, can be either upstream or downstream"
#define CR_PROXY_API_EBADTYPE "invalid toxic type"

/* A proxy body; fields absent stay as the caller set them (enabled: -1). */
typedef struct cr_proxy__api_proxy {
    const char *name, *listen, *upstream; /* borrowed from the body */
    int enabled;
} cr_proxy__api_proxy;

/* An integer when v is one, else a real (new reference). */
json_t *cr_proxy__api_num(double v);
/* Read a proxy body (`what` names it in messages: "a proxy", "proxy 2"). */
int cr_proxy__api_proxy_in(const json_t *body, cr_proxy__api_proxy *in,
                           const char *what, cr_err *err);
/* Toxiproxy's listen address to a link's (see the definition). */
int cr_proxy__api_listen_addr(int allow_remote, const char *in, char *buf,
                              size_t n, cr_err *err);
/* {"name","listen","upstream","enabled","toxics"} (new reference). */
json_t *cr_proxy__api_proxy_json(const plink *l);
/* The active toxics of l in Toxiproxy's order (new reference). */
json_t *cr_proxy__api_toxics_json(const plink *l);
/* {"attributes","name","type","stream","toxicity"} (new reference). */
json_t *cr_proxy__api_toxic_json(const char *name, const cr_proxy_toxic *t);
/* A new toxic from a create body: its type, stream and defaults into *t,
 * its name (default "<type>_<stream>") into name[n].  0 or CR_EINVAL.
 * The attributes and toxicity follow with cr_proxy__api_toxic_set(). */
int cr_proxy__api_toxic_new(const json_t *body, cr_proxy_toxic *t, char *name,
                            size_t n, cr_err *err);
/* The body's attributes and toxicity on top of *t, then the rules of the
 * toxic.  0 or CR_EINVAL. */
int cr_proxy__api_toxic_set(const json_t *body, cr_proxy_toxic *t, cr_err *err);
/* An update body on top of the current settings *t of toxic `name`.  0 or
 * CR_EINVAL (also when it would rename it or change its type or stream). */
int cr_proxy__api_toxic_edit(const json_t *body, const char *name,
                             cr_proxy_toxic *t, cr_err *err);

/* cr_proxy_http.c */
/* The API's epoll fd is readable / its timer is due: let MHD work, then
 * re-arm the timer from MHD's timeout. */
void cr_proxy__http_run(cr_proxy *p);
void cr_proxy__http_destroy(cr_proxy *p);

#endif
