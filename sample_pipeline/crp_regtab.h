/* crp_regtab: the service registry's table and health logic, pure (time
 * is passed in, nothing is printed or sent), so that it can be tested
 * without sockets.  Used by crp_registry.c.
 *
 * An instance (service, instance name, address, priority, region)
 * registers and then heartbeats; the registry also checks it actively
 * (crp_registry.c: a TCP PING).  It is healthy when both hold: its last
 * heartbeat is younger than hb_timeout_ms AND its active check state is
 * OK (at least one successful check since it registered at this address,
 * and fewer than probe_failures consecutive failures since the last
 * success).  An instance not heard from for expire_ms is forgotten. */
#ifndef CRP_REGTAB_H
#define CRP_REGTAB_H

#include <stdint.h>

#define CRP_REG_MAX  64
#define CRP_REG_NAME 64
#define CRP_REG_ADDR 128

enum { CRP_PROBE_UNKNOWN = 0, CRP_PROBE_OK = 1, CRP_PROBE_FAILED = 2 };

typedef struct crp_reg_ent {
    char svc[CRP_REG_NAME], inst[CRP_REG_NAME], addr[CRP_REG_ADDR];
    char region[CRP_REG_NAME];
    int prio;
    int64_t reg_ms, hb_ms; /* registration, last heartbeat */
    int probe;             /* CRP_PROBE_* */
    int probe_fails;       /* consecutive failed checks */
    int reported;          /* health last reported (crp_regtab_changes) */
} crp_reg_ent;

typedef struct crp_regtab {
    crp_reg_ent e[CRP_REG_MAX];
    int n;
    int hb_timeout_ms, probe_failures;
    int64_t expire_ms;
} crp_regtab;

/* Empty table with these limits (all >= 1). */
void crp_regtab_init(crp_regtab *t, int hb_timeout_ms, int probe_failures,
                     int64_t expire_ms);
/* Register or re-register (same service and instance: address, priority
 * and region replaced; the check state is kept only when the address is
 * unchanged).  Counts as a heartbeat.  Returns 0, -EINVAL (a name empty,
 * too long or with spaces; an address without ':'), -ENOSPC (table full). */
int crp_regtab_register(crp_regtab *t, const char *svc, const char *inst,
                        const char *addr, int prio, const char *region,
                        int64_t now);
/* Heartbeat.  0, or -ENOENT when not registered (the instance must
 * register again: e.g. the registry restarted). */
int crp_regtab_heartbeat(crp_regtab *t, const char *svc, const char *inst,
                         int64_t now);
/* Remove.  0 or -ENOENT. */
int crp_regtab_remove(crp_regtab *t, const char *svc, const char *inst);
/* Record the result of an active check of (svc, inst) at addr; ignored
 * (returns -ENOENT) when that instance is gone or moved meanwhile. */
int crp_regtab_probe_result(crp_regtab *t, const char *svc, const char *inst,
                            const char *addr, int ok);
/* 1 when healthy at now (see above), else 0; *why (may be NULL) gets a
 * static reason: "heartbeat", "probe", "unprobed" or NULL when healthy. */
int crp_regtab_healthy(const crp_regtab *t, const crp_reg_ent *e, int64_t now,
                       const char **why);
/* The healthy instances of svc in preference order (priority, then
 * instance name) as indexes into t->e; returns the count (<= max). */
int crp_regtab_list(const crp_regtab *t, const char *svc, int64_t now, int *out,
                    int max);
/* Forget instances not heard from for expire_ms.  Returns how many. */
int crp_regtab_expire(crp_regtab *t, int64_t now);
/* Health transitions since the last call: for each instance whose health
 * differs from what was last reported, calls fn(arg, entry, healthy, why)
 * and remembers it.  New instances count as reported unhealthy. */
void crp_regtab_changes(crp_regtab *t, int64_t now,
                        void (*fn)(void *arg, const crp_reg_ent *e, int healthy,
                                   const char *why),
                        void *arg);

#endif
