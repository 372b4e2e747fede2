// clang-format off
/* crp_regc: the client side of the registry protocol (crp_registry.c):
 *   REG <service> <instance> <host:port> <priority> <region|->  -> OK | ERR <why>
 *   HB <service> <instance>                                    -> OK | UNKNOWN
 *   DEREG <service> <instance>                                 -> OK | UNKNOWN
 *   LIST <service>        -> LIST <k> + k lines I <instance> <addr> <prio> <region>
 *                          | WARMING (just started or stalled: keep what you know)
 *   PING                                                       -> PONG
 * One connection, kept open; any failure closes it (the next call
 * reconnects), so a late answer is never read as the next call's. */
// clang-format on
#ifndef CRP_REGC_H
#define CRP_REGC_H

#include "crp_net.h"
#include "crp_route.h"

typedef struct crp_regc {
    char addr[256];
    crp_conn conn;
    int timeout_ms;
} crp_regc;

void crp_regc_init(crp_regc *c, const char *addr, int timeout_ms);
void crp_regc_close(crp_regc *c);
/* Register; region "" is sent as "-".  0, -EPROTO (refused) or -errno. */
int crp_regc_register(crp_regc *c, const char *svc, const char *inst,
                      const char *addr, int prio, const char *region);
/* Heartbeat.  0, -ENOENT (UNKNOWN: register again) or -errno. */
int crp_regc_heartbeat(crp_regc *c, const char *svc, const char *inst);
/* Deregister.  0, -ENOENT or -errno. */
int crp_regc_deregister(crp_regc *c, const char *svc, const char *inst);
/* The healthy instances of svc in preference order into out[0..max-1].
 * Returns the count, -EAGAIN (WARMING), -EPROTO or -errno. */
int crp_regc_list(crp_regc *c, const char *svc, crp_rinst *out, int max);
/* Parse "I <instance> <addr> <prio> <region>" ("-" region = "").
 * 0 or -EPROTO. */
int crp_regc_parse_inst(const char *line, crp_rinst *out);

#endif
