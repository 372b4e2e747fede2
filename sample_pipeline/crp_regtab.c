/* crp_regtab: see crp_regtab.h. */
#include "crp_regtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crp_util.h"

void crp_regtab_init(crp_regtab *t, int hb_timeout_ms, int probe_failures,
                     int64_t expire_ms)
{
    memset(t, 0, sizeof *t);
    t->hb_timeout_ms = hb_timeout_ms;
    t->probe_failures = probe_failures;
    t->expire_ms = expire_ms;
}

/* A protocol token: 1..max-1 printable bytes without spaces. */
static int token_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static crp_reg_ent *find(crp_regtab *t, const char *svc, const char *inst)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->e[i].svc, svc) && !strcmp(t->e[i].inst, inst))
            return &t->e[i];
    return NULL;
}

int crp_regtab_register(crp_regtab *t, const char *svc, const char *inst,
                        const char *addr, int prio, const char *region,
                        int64_t now)
{
    if (!token_ok(svc, CRP_REG_NAME) || !token_ok(inst, CRP_REG_NAME) ||
        !token_ok(addr, CRP_REG_ADDR) || !strchr(addr, ':') ||
        !token_ok(region, CRP_REG_NAME))
        return -EINVAL;
    crp_reg_ent *e = find(t, svc, inst);
    if (!e) {
        if (t->n >= CRP_REG_MAX)
            return -ENOSPC;
        e = &t->e[t->n++];
        memset(e, 0, sizeof *e);
        crp_strlcpy(e->svc, svc, sizeof e->svc);
        crp_strlcpy(e->inst, inst, sizeof e->inst);
    }
    if (strcmp(e->addr, addr) != 0) {
        /* a new address has not been checked yet */
        e->probe = CRP_PROBE_UNKNOWN;
        e->probe_fails = 0;
        crp_strlcpy(e->addr, addr, sizeof e->addr);
    }
    crp_strlcpy(e->region, region, sizeof e->region);
    e->prio = prio;
    e->reg_ms = now;
    e->hb_ms = now;
    return 0;
}

int crp_regtab_heartbeat(crp_regtab *t, const char *svc, const char *inst,
                         int64_t now)
{
    crp_reg_ent *e = find(t, svc, inst);
    if (!e)
        return -ENOENT;
    e->hb_ms = now;
    return 0;
}

int crp_regtab_remove(crp_regtab *t, const char *svc, const char *inst)
{
    crp_reg_ent *e = find(t, svc, inst);
    if (!e)
        return -ENOENT;
    *e = t->e[--t->n];
    return 0;
}

int crp_regtab_probe_result(crp_regtab *t, const char *svc, const char *inst,
                            const char *addr, int ok)
{
    crp_reg_ent *e = find(t, svc, inst);
    if (!e || strcmp(e->addr, addr) != 0)
        return -ENOENT; /* gone or moved while it was being checked */
    if (ok) {
        e->probe = CRP_PROBE_OK;
        e->probe_fails = 0;
    } else if (++e->probe_fails >= t->probe_failures) {
        e->probe = CRP_PROBE_FAILED;
    }
    return 0;
}

int crp_regtab_healthy(const crp_regtab *t, const crp_reg_ent *e, int64_t now,
                       const char **why)
{
    const char *w = NULL;
    if (now - e->hb_ms > t->hb_timeout_ms)
        w = "heartbeat";
    else if (e->probe == CRP_PROBE_FAILED)
        w = "probe";
    else if (e->probe == CRP_PROBE_UNKNOWN)
        w = "unprobed";
    if (why)
        *why = w;
    return w == NULL;
}

static int before(const crp_reg_ent *x, const crp_reg_ent *y)
{
    if (x->prio != y->prio)
        return x->prio < y->prio;
    return strcmp(x->inst, y->inst) < 0;
}

int crp_regtab_list(const crp_regtab *t, const char *svc, int64_t now, int *out,
                    int max)
{
    int k = 0;
    for (int i = 0; i < t->n && k < max; i++) {
        if (strcmp(t->e[i].svc, svc) != 0 ||
            !crp_regtab_healthy(t, &t->e[i], now, NULL))
            continue;
        /* insertion sort: at most CRP_REG_MAX entries */
        int j = k++;
        while (j > 0 && before(&t->e[i], &t->e[out[j - 1]])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = i;
    }
    return k;
}

int crp_regtab_expire(crp_regtab *t, int64_t now)
{
    int gone = 0;
    for (int i = 0; i < t->n;)
        if (now - t->e[i].hb_ms > t->expire_ms) {
            t->e[i] = t->e[--t->n];
            gone++;
        } else {
            i++;
        }
    return gone;
}

void crp_regtab_changes(crp_regtab *t, int64_t now,
                        void (*fn)(void *arg, const crp_reg_ent *e, int healthy,
                                   const char *why),
                        void *arg)
{
    for (int i = 0; i < t->n; i++) {
        const char *why;
        int h = crp_regtab_healthy(t, &t->e[i], now, &why);
        if (h != t->e[i].reported) {
            t->e[i].reported = h;
            fn(arg, &t->e[i], h, why);
        }
    }
}
