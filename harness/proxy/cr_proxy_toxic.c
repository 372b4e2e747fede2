/* cr_proxy_toxic: toxics added to, updated on and removed from the links
 * of a running proxy (see cr_proxy.h).  Every change is applied to the live
 * connections at once; healthy connections are never dropped (but by down,
 * which drops them by definition).  A removed toxic goes into its link's
 * bounded history (README.md, "Bounds"). */
#include "cr_proxy_internal.h"

#include "base/cr_alloc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- toxics ------------------------------------------------------------- */

int cr_proxy_toxic_add(cr_proxy *p, const char *lname, const char *name,
                       const cr_proxy_toxic *t, cr_err *err)
{
    plink *l = cr_proxy__link_find(p, lname);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'",
                          lname ? lname : "");
    if (!name || !*name || strlen(name) >= CR_PROXY_NAME_MAX ||
        strpbrk(name, " \t\r\n"))
        return cr_err_set(err, CR_EINVAL,
                          "toxic name '%s': 1 to %d characters without blanks",
                          name ? name : "", CR_PROXY_NAME_MAX - 1);
    if (t->type < 0 || t->type >= CR_PTOX_COUNT)
        return cr_err_set(err, CR_EINVAL, "toxic %s: unknown type", name);
    int rc = cr_proxy_toxic_check(t, err);
    if (rc < 0)
        return rc;
    int free_slot = -1;
    for (int s = 0; s < MAX_TOXICS; s++) {
        if (l->slot[s] && strcmp(l->slot[s]->name, name) == 0)
            return cr_err_set(err, CR_EINVAL,
                              "toxic %s: already exists on link %s", name,
                              l->name);
        if (!l->slot[s] && free_slot < 0)
            free_slot = s;
    }
    if (free_slot < 0)
        return cr_err_set(err, CR_EINVAL, "link %s: more than %d toxics",
                          l->name, MAX_TOXICS);
    toxic_rec *tr = cr_calloc(1, sizeof *tr);
    if (!tr)
        return cr_err_set(err, CR_ENOMEM, "toxic %s: out of memory", name);
    snprintf(tr->name, sizeof tr->name, "%s", name);
    tr->t = *t;
    tr->active = 1;
    tr->seq = l->nadded++;
    tr->added = tr->armed = cr_proxy__now_ns();
    l->slot[free_slot] = tr;
    if (t->type == CR_PTOX_DOWN) {
        if (l->down++ == 0 && l->lfd >= 0) {
            /* Closing the listener makes new connections fail with
             * ECONNREFUSED; the port is bound again on removal. */
            close(l->lfd);
            l->lfd = -1;
        }
        while (l->conns) {
            tr->events++;
            l->dropped++;
            cr_proxy__conn_close(p, l->conns, CLOSE_FIN);
        }
        return 0;
    }
    if (t->type == CR_PTOX_REFUSE)
        return 0; /* acts on new connections only */
    for (conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        int hit = cr_proxy__toxic_decide(p, l, c->idx, tr);
        cr_proxy__toxic_count(tr, hit);
        if (!hit)
            continue;
        c->affected |= 1u << free_slot;
        if (t->type == CR_PTOX_LIMIT_DATA)
            for (int i = 0; i < 2; i++)
                if (t->streams & (i == 0 ? CR_PROXY_UP : CR_PROXY_DOWN))
                    c->d[i].limit_passed = 0; /* counts from now */
        cr_proxy__conn_deadlines(p, c);
        if (c->state == CS_OPEN)
            cr_proxy__conn_pump(p, c);
    }
    return 0;
}

/* A removed toxic goes into the link's history (taking ownership); when
 * the history is full its oldest entry is summed into `evicted` and
 * freed.  Never allocates, so removing cannot fail for lack of memory. */
static void history_add(plink *l, toxic_rec *tr)
{
    l->nremoved++;
    if (l->nhist == CR_PROXY_HISTORY) {
        toxic_rec *old = l->hist[l->hist_head];
        toxic_sum *sum = &l->evicted[old->t.type];
        sum->toxics++;
        sum->affected += old->affected;
        sum->spared += old->spared;
        sum->chunks += old->chunks;
        sum->bytes += old->bytes;
        sum->events += old->events;
        l->nevicted++;
        cr_free(old);
        l->hist[l->hist_head] = tr;
        l->hist_head = (l->hist_head + 1) % CR_PROXY_HISTORY;
        return;
    }
    l->hist[(l->hist_head + l->nhist) % CR_PROXY_HISTORY] = tr;
    l->nhist++;
}

static int toxic_remove_slot(cr_proxy *p, plink *l, int s, cr_err *err)
{
    toxic_rec *tr = l->slot[s];
    l->slot[s] = NULL;
    tr->active = 0;
    tr->removed = cr_proxy__now_ns();
    /* Only the type is read below: tr may be freed by a later eviction,
     * never by this one (it is the newest entry). */
    history_add(l, tr);
    if (tr->t.type == CR_PTOX_DOWN) {
        l->down--;
        return cr_proxy__link_relisten(p, l, err);
    }
    uint32_t mask = 1u << s;
    for (conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        if (!(c->affected & mask))
            continue;
        c->affected &= ~mask;
        cr_proxy__conn_deadlines(p, c);
        if (c->state == CS_OPEN)
            cr_proxy__conn_pump(p, c);
    }
    return 0;
}

int cr_proxy__toxic_slot(const plink *l, const char *name)
{
    for (int s = 0; name && s < MAX_TOXICS; s++)
        if (l->slot[s] && strcmp(l->slot[s]->name, name) == 0)
            return s;
    return -1;
}

/* The link and the slot of an active toxic, or CR_ENOTFOUND. */
static int toxic_find(const cr_proxy *p, const char *lname, const char *name,
                      plink **lp, int *slot, cr_err *err)
{
    plink *l = cr_proxy__link_find(p, lname);
    if (!l)
        return cr_err_set(err, CR_ENOTFOUND, "no link '%s'",
                          lname ? lname : "");
    int s = cr_proxy__toxic_slot(l, name);
    if (s < 0)
        return cr_err_set(err, CR_ENOTFOUND, "no toxic '%s' on link %s",
                          name ? name : "", l->name);
    *lp = l;
    *slot = s;
    return 0;
}

int cr_proxy_toxic_remove(cr_proxy *p, const char *lname, const char *name,
                          cr_err *err)
{
    plink *l;
    int s, rc = toxic_find(p, lname, name, &l, &s, err);
    return rc < 0 ? rc : toxic_remove_slot(p, l, s, err);
}

int cr_proxy_toxic_get(const cr_proxy *p, const char *lname, const char *name,
                       cr_proxy_toxic *out, cr_err *err)
{
    plink *l;
    int s, rc = toxic_find(p, lname, name, &l, &s, err);
    if (rc == 0)
        *out = l->slot[s]->t;
    return rc;
}

/* New settings of an active toxic: connections are drawn again with the
 * new toxicity (the draw of connection i is fixed, so raising it keeps
 * every affected connection affected), deadlines count from now, queued
 * chunks keep their release times. */
int cr_proxy_toxic_update(cr_proxy *p, const char *lname, const char *name,
                          const cr_proxy_toxic *t, cr_err *err)
{
    plink *l;
    int s, rc = toxic_find(p, lname, name, &l, &s, err);
    if (rc < 0)
        return rc;
    toxic_rec *tr = l->slot[s];
    const char *kind = cr_proxy_toxic_kinds()[tr->t.type].name;
    if (t->type != tr->t.type)
        return cr_err_set(err, CR_EINVAL,
                          "toxic %s: the type (%s) cannot change; remove the "
                          "toxic and add another",
                          name, kind);
    if (t->streams != tr->t.streams)
        return cr_err_set(err, CR_EINVAL,
                          "toxic %s: the stream (%s) cannot change; remove "
                          "the toxic and add another",
                          name, cr_proxy_stream_name(tr->t.streams));
    if ((rc = cr_proxy_toxic_check(t, err)) < 0)
        return rc;
    tr->t = *t;
    tr->armed = cr_proxy__now_ns();
    if (t->type == CR_PTOX_DOWN || t->type == CR_PTOX_REFUSE)
        return 0; /* acts on new connections (refuse) or has no setting */
    uint32_t mask = 1u << s;
    for (conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        int was = (c->affected & mask) != 0;
        int hit = cr_proxy__toxic_decide(p, l, c->idx, tr);
        if (hit != was) {
            c->affected ^= mask;
            if (hit) {
                tr->affected++;
                tr->spared--;
            } else {
                tr->affected--;
                tr->spared++;
            }
        }
        if (hit && !was && t->type == CR_PTOX_LIMIT_DATA)
            for (int i = 0; i < 2; i++)
                if (t->streams & (i == 0 ? CR_PROXY_UP : CR_PROXY_DOWN))
                    c->d[i].limit_passed = 0; /* counts from now */
        cr_proxy__conn_deadlines(p, c);
        if (c->state == CS_OPEN)
            cr_proxy__conn_pump(p, c);
    }
    return 0;
}

void cr_proxy__link_drop(cr_proxy *p, plink *l)
{
    while (l->conns) {
        l->dropped++;
        cr_proxy__conn_close(p, l->conns, CLOSE_FIN);
    }
}

int cr_proxy_toxic_reset(cr_proxy *p, cr_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < p->nlinks; i++)
        for (int s = 0; s < MAX_TOXICS; s++)
            if (p->links[i]->slot[s]) {
                int r = toxic_remove_slot(p, p->links[i], s, err);
                if (r < 0 && rc == 0)
                    rc = r;
            }
    return rc;
}
