/* cr_run_net: the run's network hosts (see net/cr_net.h; the "hosts"
 * section that declares them is parsed by net/cr_net_hosts.c): topology
 * set-up and tear-down, per-host namespace fds and addresses, the
 * capability probe with the run's ledger.
 *
 * Per-run state hangs off the run (cr_run_module_state(r, "net")): set up
 * by cr_run_net_setup, freed by cr_run_net_teardown. */
#include "cr_run_internal.h"

#include "base/cr_alloc.h"
#include "net/cr_net.h"

#include <fcntl.h>
#include <string.h>

/* ---- per-run state ---------------------------------------------------- */

typedef struct net_run {
    cr_run *r;
    cr_net_topo *t;
} net_run;

static net_run *slot(cr_run *r, int create)
{
    void **p = r ? cr_run_module_state(r, "net") : NULL;
    if (!p)
        return NULL;
    if (!*p && create) {
        net_run *s = cr_calloc(1, sizeof *s);
        if (!s)
            return NULL;
        s->r = r;
        *p = s;
    }
    return *p;
}

static void slot_free(cr_run *r)
{
    void **p = cr_run_module_state(r, "net");
    if (p) {
        cr_free(*p);
        *p = NULL;
    }
}

static int ledger_add(void *ctx, const char *line, cr_err *err)
{
    return cr_run_ledger_add(ctx, err, "%s", line);
}

static void ledger_done(void *ctx, int id)
{
    cr_run_ledger_done(ctx, id);
}

int cr_run_net_setup(cr_run *r, cr_err *err)
{
    const cr_scen *sc = cr_run_scen(r);
    const cr_net_hosts *h = sc->hosts;
    if (!h || h->n == 0)
        return 0;
    if (h->nssh) /* remote nodes: no namespaces (cr_run_ssh.c) */
        return cr_run_ssh_setup(r, err);
    const char *missing = NULL;
    if (!cr_netns_privileged(&missing))
        return cr_err_set(err, CR_EUNSUP,
                          "hosts: network namespaces need %s (run chaosrun "
                          "as root)",
                          missing);
    net_run *s = slot(r, 1);
    if (!s)
        return cr_err_set(err, CR_ENOMEM, "hosts: out of memory");
    const char *names[CR_NET_MAX_HOSTS];
    for (size_t i = 0; i < h->n; i++)
        names[i] = h->v[i].name;
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    cr_netns_ledger lg = {ledger_add, ledger_done, r};
    int rc = cr_net_topo_create(prefix, names, h->n, &lg, &s->t, err);
    if (rc < 0) {
        slot_free(r);
        return rc;
    }
    for (size_t i = 0; i < h->n; i++)
        cr_run_log(r, "host %s: netns %s, address %s", names[i],
                   cr_net_topo_netns(s->t, (int)i),
                   cr_net_topo_addr(s->t, (int)i));
    return 0;
}

cr_net_topo *cr_run_net_topo(cr_run *r)
{
    net_run *s = slot(r, 0);
    return s ? s->t : NULL;
}

int cr_run_host_fd(cr_run *r, const char *host)
{
    cr_net_topo *t = cr_run_net_topo(r);
    int i = cr_net_topo_index(t, host);
    /* A duplicate: the engine closes what it gets. */
    return i < 0 ? -1 : fcntl(cr_net_topo_nsfd(t, i), F_DUPFD_CLOEXEC, 3);
}

const char *cr_run_host_netns(cr_run *r, const char *host)
{
    cr_net_topo *t = cr_run_net_topo(r);
    int i = t ? cr_net_topo_index(t, host) : -1;
    return i < 0 ? NULL : cr_net_topo_netns(t, i);
}

const char *cr_run_host_addr(cr_run *r, const char *host)
{
    cr_net_topo *t = cr_run_net_topo(r);
    int i = cr_net_topo_index(t, host);
    return i < 0 ? cr_run_ssh_addr(r, host) : cr_net_topo_addr(t, i);
}

const char *cr_run_host_region(const cr_run *r, const char *host)
{
    const cr_net_hosts *h = cr_run_scen(r)->hosts;
    for (size_t i = 0; h && host && i < h->n; i++)
        if (strcmp(h->v[i].name, host) == 0)
            return h->v[i].region;
    return NULL;
}

int cr_run_host_call(cr_run *r, const char *host, void *(*fn)(void *),
                     void *arg, void **ret, cr_err *err)
{
    cr_net_topo *t = cr_run_net_topo(r);
    int i = cr_net_topo_index(t, host);
    if (i < 0)
        return cr_err_set(err, CR_ENOTFOUND, "host %s: not set up", host);
    return cr_netns_call(cr_net_topo_nsfd(t, i), fn, arg, ret, err);
}

int cr_run_net_caps(cr_run *r, cr_net_caps *out, cr_err *err)
{
    char prefix[24];
    cr_net_prefix_new(prefix, sizeof prefix);
    cr_netns_ledger lg = {ledger_add, ledger_done, r};
    return cr_net_probe(prefix, &lg, out, err);
}

void cr_run_net_teardown(cr_run *r)
{
    net_run *s = slot(r, 0);
    if (!s)
        return;
    cr_net_topo_destroy(s->t);
    slot_free(r);
}
