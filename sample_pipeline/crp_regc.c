/* crp_regc: see crp_regc.h. */
#include "crp_regc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crp_util.h"

void crp_regc_init(crp_regc *c, const char *addr, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    crp_strlcpy(c->addr, addr, sizeof c->addr);
    crp_conn_init(&c->conn, -1);
    c->timeout_ms = timeout_ms;
}

void crp_regc_close(crp_regc *c)
{
    crp_conn_close(&c->conn);
}

/* Send req and read the first answer line into *line.  0 or -errno (the
 * connection is then closed). */
static int call(crp_regc *c, const char *req, char **line)
{
    int rc = 0;
    if (c->conn.fd < 0) {
        int fd = crp_net_connect(c->addr, c->timeout_ms);
        if (fd < 0)
            return fd;
        crp_conn_init(&c->conn, fd);
    }
    rc = crp_conn_send(&c->conn, req, strlen(req), c->timeout_ms);
    if (rc == 0) {
        rc = crp_conn_readline(&c->conn, line, c->timeout_ms);
        rc = rc == 0 ? -ETIMEDOUT : rc < 0 ? rc : 0;
    }
    if (rc < 0)
        crp_conn_close(&c->conn);
    return rc;
}

static int simple(crp_regc *c, const char *req)
{
    char *line = NULL;
    int rc = call(c, req, &line);
    if (rc < 0)
        return rc;
    if (!strcmp(line, "OK"))
        return 0;
    if (!strcmp(line, "UNKNOWN"))
        return -ENOENT;
    return -EPROTO;
}

int crp_regc_register(crp_regc *c, const char *svc, const char *inst,
                      const char *addr, int prio, const char *region)
{
    char req[600];
    snprintf(req, sizeof req, "REG %.63s %.63s %.127s %d %.63s\n", svc, inst,
             addr, prio, region && region[0] ? region : "-");
    return simple(c, req);
}

int crp_regc_heartbeat(crp_regc *c, const char *svc, const char *inst)
{
    char req[256];
    snprintf(req, sizeof req, "HB %.63s %.63s\n", svc, inst);
    return simple(c, req);
}

int crp_regc_deregister(crp_regc *c, const char *svc, const char *inst)
{
    char req[256];
    snprintf(req, sizeof req, "DEREG %.63s %.63s\n", svc, inst);
    return simple(c, req);
}

int crp_regc_parse_inst(const char *line, crp_rinst *out)
{
    crp_rinst r;
    int off = 0;
    memset(&r, 0, sizeof r);
    if (sscanf(line, "I %63s %127s %d %63s%n", r.inst, r.addr, &r.prio,
               r.region, &off) != 4 ||
        line[off] != '\0' || !strchr(r.addr, ':'))
        return -EPROTO;
    if (!strcmp(r.region, "-"))
        r.region[0] = '\0';
    *out = r;
    return 0;
}

int crp_regc_list(crp_regc *c, const char *svc, crp_rinst *out, int max)
{
    char req[128], *line = NULL;
    int k, rc;
    snprintf(req, sizeof req, "LIST %.63s\n", svc);
    if ((rc = call(c, req, &line)) < 0)
        return rc;
    if (!strcmp(line, "WARMING"))
        return -EAGAIN;
    if (sscanf(line, "LIST %d", &k) != 1 || k < 0 || k > 1000) {
        crp_conn_close(&c->conn);
        return -EPROTO;
    }
    int n = 0;
    for (int i = 0; i < k; i++) {
        rc = crp_conn_readline(&c->conn, &line, c->timeout_ms);
        if (rc <= 0) {
            crp_conn_close(&c->conn);
            return rc == 0 ? -ETIMEDOUT : rc;
        }
        if (n < max && crp_regc_parse_inst(line, &out[n]) == 0)
            n++;
        else if (n < max) {
            crp_conn_close(&c->conn);
            return -EPROTO;
        }
    }
    return n;
}
