/* cr_proxy: the built-in TCP fault proxy ("toxics" without privileges).
 *
 * A cr_proxy is one epoll loop that relays TCP connections for any number of
 * links (a loopback listener in front of one upstream address) and applies
 * toxics to them: latency, bandwidth, slow_close, timeout, reset_peer,
 * slicer, limit_data, down and refuse.  With no toxic active on a direction
 * the bytes go socket -> pipe -> socket with splice(); a direction with a
 * data toxic reads into user space and releases chunks from a timer heap
 * behind one timerfd.  Every random choice (which connections a toxic
 * affects, jitter, slice sizes) is drawn from the seed, the link name and
 * the connection's index on its link.
 *
 * Behind this header:
 *   cr_proxy.c, cr_proxy_link.c, cr_proxy_conn.c, cr_proxy_toxic.c,
 *   cr_proxy_chan.c   the proxy itself (loop, links, connections, toxics,
 *                     control channels, statistics);
 *   cr_proxy_ctl.c    the toxic catalogue and the line protocol;
 *   cr_proxy_http.c, cr_proxy_api.c, cr_proxy_apijson.c
 *                     Toxiproxy's HTTP API, served inside the loop;
 *   cr_proxy_links.c  the "links" section of a scenario;
 *   cr_proxy_client.c a control-socket client.
 * `chaosrun proxy` is cli/cr_cli_proxy.c; the run's proxy process is started
 * by the engine (engine/cr_run_proxy.c).  The protocol is documented in
 * proxy/README.md. */
#ifndef CR_PROXY_H
#define CR_PROXY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cr_err.h"
#include "scenario/cr_kinds.h"

typedef struct cr_proxy cr_proxy;

/* ---- the toxic catalogue (cr_proxy_ctl.c) ------------------------------ */

enum cr_proxy_toxic_type {
    CR_PTOX_LATENCY,
    CR_PTOX_BANDWIDTH,
    CR_PTOX_SLOW_CLOSE,
    CR_PTOX_TIMEOUT,
    CR_PTOX_RESET_PEER,
    CR_PTOX_SLICER,
    CR_PTOX_LIMIT_DATA,
    CR_PTOX_DOWN,
    CR_PTOX_REFUSE,
    CR_PTOX_COUNT
};

/* Streams: upstream is client -> upstream server, downstream the reverse. */
enum { CR_PROXY_UP = 1u, CR_PROXY_DOWN = 2u, CR_PROXY_BOTH = 3u };

#define CR_PROXY_NATTR    3
#define CR_PROXY_NAME_MAX 64
/* An address as given ("HOST:PORT"), with its terminating NUL. */
#define CR_PROXY_ADDR_MAX 256
/* Removed toxics kept in full per link (older ones: summed per type). */
#define CR_PROXY_HISTORY 64
/* Links per proxy (a link with a down toxic holds no descriptor, so the
 * descriptor limit alone would not bound them). */
#define CR_PROXY_MAX_LINKS 1024

typedef struct cr_proxy_attr {
    const char *name; /* Toxiproxy's attribute name */
    const char *unit;
    double dflt; /* NAN: required */
    double min, max;
    const char *doc;
} cr_proxy_attr;

typedef struct cr_proxy_toxic_kind {
    const char *name; /* "latency" */
    const char *summary;
    int per_link; /* 1: stream and toxicity do not apply (down) */
    cr_proxy_attr attr[CR_PROXY_NATTR]; /* unused slots have name NULL */
} cr_proxy_toxic_kind;

/* One toxic as configured. attr[] follows the kind's attribute order. */
typedef struct cr_proxy_toxic {
    int type;         /* CR_PTOX_* */
    unsigned streams; /* CR_PROXY_UP|DOWN */
    double toxicity;  /* fraction of connections affected, [0, 1] */
    double attr[CR_PROXY_NATTR];
} cr_proxy_toxic;

/* The catalogue, CR_PTOX_COUNT entries indexed by type. */
const cr_proxy_toxic_kind *cr_proxy_toxic_kinds(void);
/* Type for a name, -1 if unknown. */
int cr_proxy_toxic_type(const char *name);
/* Closest known toxic name to a misspelt one (or NULL when none is close). */
const char *cr_proxy_toxic_suggest(const char *name);
/* Stream name ("upstream", "downstream", "both"; "up"/"down" accepted) to a
 * CR_PROXY_* mask; 0 if unknown. */
unsigned cr_proxy_stream_parse(const char *s);
const char *cr_proxy_stream_name(unsigned streams);
/* Fill t with the kind's defaults (stream downstream, toxicity 1). */
void cr_proxy_toxic_init(cr_proxy_toxic *t, int type);
/* Rules that involve several attributes (every attribute is already within
 * its [min, max]); returns 0 or CR_EINVAL with the rule in err. */
int cr_proxy_toxic_check(const cr_proxy_toxic *t, cr_err *err);
/* Parse "key=value" words (stream, toxicity and the kind's attributes) on
 * top of t.  Returns 0, or CR_EINVAL naming the word at fault. */
int cr_proxy_toxic_parse_kv(cr_proxy_toxic *t, char **words, size_t nwords,
                            cr_err *err);

/* ---- the engine (cr_proxy.c) ------------------------------------------- */

/* Create an empty proxy whose random draws come from seed.  Returns 0 and
 * *out, or a negative code with err set (*out untouched). */
int cr_proxy_create(uint64_t seed, cr_proxy **out, cr_err *err);
/* Stop every connection, close every fd, free.  NULL is a no-op. */
void cr_proxy_destroy(cr_proxy *p);

/* Add a link: listen on `listen` ("127.0.0.1:PORT", PORT 0 = ephemeral;
 * loopback addresses only) and relay to `upstream` ("HOST:PORT").  The
 * listener is bound when this returns.  Errors: CR_EINVAL (bad name or
 * address, duplicate), CR_ESYS (bind). */
int cr_proxy_link_add(cr_proxy *p, const char *name, const char *listen,
                      const char *upstream, cr_err *err);
/* The same, with the link's sockets -- its listener and its connections
 * upstream -- made in the network namespace at netns (a path such as
 * /run/netns/NAME; NULL: the proxy's own), so that a client in that
 * namespace reaches the listener on its loopback and the upstream address
 * is resolved and routed from there, as the client's own connection would
 * be (partitions between hosts cut it too).  Needs CAP_SYS_ADMIN.  Errors
 * as cr_proxy_link_add, and CR_ESYS (cannot open netns) or CR_EINVAL (not
 * a network namespace). */
int cr_proxy_link_add_in(cr_proxy *p, const char *name, const char *listen,
                         const char *upstream, const char *netns, cr_err *err);
/* The same, and with enabled 0 the link is created disabled: it does not
 * listen (nothing is bound) until cr_proxy_link_set_enabled(). */
int cr_proxy_link_create(cr_proxy *p, const char *name, const char *listen,
                         const char *upstream, int enabled, cr_err *err);
/* The bound listen port of a link, or -1 when no such link. */
int cr_proxy_link_port(const cr_proxy *p, const char *name);
/* Remove a link: its connections are closed, its listener too, its toxics
 * and statistics forgotten.  CR_ENOTFOUND if absent. */
int cr_proxy_link_remove(cr_proxy *p, const char *name, cr_err *err);
/* New listen and/or upstream address (NULL keeps one).  When either
 * changes the link's connections are dropped (Toxiproxy restarts such a
 * proxy); a new listener is bound before the old one is closed, so a
 * failure (CR_EINVAL bad address, CR_ESYS bind) changes nothing. */
int cr_proxy_link_update(cr_proxy *p, const char *name, const char *listen,
                         const char *upstream, cr_err *err);
/* Disable (close the listener, drop every connection; toxics stay) or
 * enable (listen again unless a down toxic holds the link) a link.  An
 * enable whose bind fails leaves the link disabled (CR_ESYS). */
int cr_proxy_link_set_enabled(cr_proxy *p, const char *name, int enabled,
                              cr_err *err);
/* Let listeners (links and the HTTP API) bind addresses beyond loopback.
 * Off by default; `chaosrun proxy --allow-remote` turns it on. */
void cr_proxy_allow_remote(cr_proxy *p, int allow);

/* Add a toxic named `name` (unique on the link) and apply it to the
 * existing connections at once; healthy connections are never dropped
 * (except by down, which drops them by definition).  CR_ENOTFOUND for an
 * unknown link, CR_EINVAL for a duplicate name or a bad toxic. */
int cr_proxy_toxic_add(cr_proxy *p, const char *link, const char *name,
                       const cr_proxy_toxic *t, cr_err *err);
/* Remove a toxic; connections it held continue unharmed.  CR_ENOTFOUND if
 * absent.  Removing down listens again on the same port (CR_ESYS if the
 * port was taken meanwhile; the toxic is removed all the same). */
int cr_proxy_toxic_remove(cr_proxy *p, const char *link, const char *name,
                          cr_err *err);
/* Remove every toxic of every link.  Returns the first error. */
int cr_proxy_toxic_reset(cr_proxy *p, cr_err *err);
/* The settings of an active toxic into *out; CR_ENOTFOUND if absent. */
int cr_proxy_toxic_get(const cr_proxy *p, const char *link, const char *name,
                       cr_proxy_toxic *out, cr_err *err);
/* New settings (toxicity, attributes) of an active toxic, applied to the
 * live connections at once; its type and stream cannot change (CR_EINVAL).
 * CR_ENOTFOUND if absent. */
int cr_proxy_toxic_update(cr_proxy *p, const char *link, const char *name,
                          const cr_proxy_toxic *t, cr_err *err);

/* Statistics as one JSON object (new reference, NULL on OOM):
 * {"seed", "links": [{name, listen, upstream, down, connections:{accepted,
 * active, refused, dropped, reset, connect_failed, closed}, bytes:{upstream,
 * downstream}, toxics:[{name, type, stream, toxicity, attributes, active,
 * added_s, removed_s, affected, spared, chunks, bytes, events}],
 * history:{added, removed, kept, evicted, evicted_by_type:{TYPE:{toxics,
 * affected, spared, chunks, bytes, events}}}}]}.  `toxics` lists the
 * active toxics and the last CR_PROXY_HISTORY removed ones, in order of
 * addition; older removed toxics are only counted in `history`.  Times are
 * rounded to microseconds. */
json_t *cr_proxy_stats(const cr_proxy *p);
/* {"links": [{"name", "listen", "upstream"}]} (new reference). */
json_t *cr_proxy_links_json(const cr_proxy *p);

/* Serve control commands on a unix stream socket at path (created 0600;
 * an existing socket file is replaced). */
int cr_proxy_control_listen(cr_proxy *p, const char *path, cr_err *err);
/* Serve control commands read from in_fd, replies written to out_fd
 * (stdin/stdout for standalone use).  EOF on in_fd stops only that
 * channel.  The proxy does not close these fds. */
int cr_proxy_control_stdio(cr_proxy *p, int in_fd, int out_fd, cr_err *err);
/* The loop stops when stop_fd becomes readable (a signalfd, a pipe). */
int cr_proxy_watch_stop(cr_proxy *p, int stop_fd, cr_err *err);
/* Ask the loop to return (from a control command). */
void cr_proxy_request_stop(cr_proxy *p);

/* Run the loop until a stop is requested.  Returns 0, or CR_ESYS when
 * epoll itself fails. */
int cr_proxy_run(cr_proxy *p, cr_err *err);

/* Execute one control line (without its newline).  Returns a malloc'd
 * reply without newline ("ok ...", "err ..." or a JSON object), NULL on
 * OOM.  (cr_proxy_ctl.c) */
char *cr_proxy_command(cr_proxy *p, const char *line);

/* ---- the Toxiproxy HTTP API (cr_proxy_http.c, cr_proxy_api.c) --------- */

/* Toxiproxy's default API port. */
#define CR_PROXY_API_PORT 8474

/* Serve Toxiproxy's HTTP API on addr ("HOST:PORT", "HOST", "PORT" or
 * ":PORT"; host 127.0.0.1 and port CR_PROXY_API_PORT when left out; port 0
 * picks one), inside the proxy's loop.  The host must be loopback unless
 * cr_proxy_allow_remote() was called.  CR_EINVAL (bad or non-loopback
 * address, already serving), CR_ESYS (bind). */
int cr_proxy_api_listen(cr_proxy *p, const char *addr, cr_err *err);
/* The API's bound port, or -1 when it is not served. */
int cr_proxy_api_port(const cr_proxy *p);

/* One API response.  body is NULL or cr_malloc'd (len bytes). */
typedef struct cr_proxy_api_reply {
    int status;               /* HTTP status */
    const char *content_type; /* static; NULL: none (204, 405) */
    int nosniff;              /* X-Content-Type-Options: nosniff */
    char *body;
    size_t len;
} cr_proxy_api_reply;

/* Answer one request of Toxiproxy's API (method "GET", path "/proxies",
 * user_agent or NULL, the request body) against p's state, as Toxiproxy
 * 2.x would; r receives the response (free it with
 * cr_proxy_api_reply_free).  Returns 0, or CR_ENOMEM with r cleared. */
int cr_proxy_api_handle(cr_proxy *p, const char *method, const char *path,
                        const char *user_agent, const char *body, size_t len,
                        cr_proxy_api_reply *r);
void cr_proxy_api_reply_free(cr_proxy_api_reply *r);

/* ---- the scenario side (cr_proxy_links.c) ------------------------------ */

/* One entry of the "links" section. */
typedef struct cr_proxy_link_spec {
    char *name;
    char *from;      /* the client service */
    char *to;        /* the server service */
    int port;        /* to's port reached through the link */
    int listen_port; /* 0: ephemeral */
    char path[CR_PATH_MAX];
} cr_proxy_link_spec;

typedef struct cr_proxy_links {
    cr_proxy_link_spec *v;
    size_t n;
} cr_proxy_links;

/* The "links" section (registered in harness/cr_registry.c). */
extern const cr_section_ops cr_proxy_links_section;
/* A link of a scenario, or NULL (also when sc has no links section). */
const cr_proxy_link_spec *cr_proxy_link_find(const cr_scen *sc,
                                             const char *name);

/* ---- the control-socket client (cr_proxy_client.c) ------------------- */

/* One request/reply exchange on a control socket (connect, send line,
 * read one reply line, close).  timeout_ms bounds the whole exchange.
 * Returns 0 and *reply (malloc'd, without newline) or a negative code. */
int cr_proxy_client(const char *sock_path, const char *line, int timeout_ms,
                    char **reply, cr_err *err);

#endif
