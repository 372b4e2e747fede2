/* cr_scen_vars: ${NAME} and ${NAME:-default} expansion in the strings of
 * a service (cmd, env values, cwd, ready cmd and url), from the process
 * environment plus CHAOSRUN_SCENARIO_DIR and CHAOSRUN_BINDIR (see
 * scenarios/README.md, "Variable expansion"). */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- variable expansion ----------------------------------------------- */

/* The value of `name`, recorded in sc->vars when it came from the
 * environment (or was missing from it), so that a run can be reproduced
 * with the same values (the journal's "variables" and "reproduce"). */
static const char *var_value(cr_vctx *vx, const char *name, int *bad)
{
    *bad = 0;
    if (strcmp(name, "CHAOSRUN_SCENARIO_DIR") == 0)
        return vx->scen_dir;
    const char *e = getenv(name);
    if (strcmp(name, "CHAOSRUN_BINDIR") == 0 && !(e && *e))
        return vx->bin_dir;
    if (!vx->sc || !vx->sc->vars || json_object_get(vx->sc->vars, name))
        return e;
    long fails0 = cr_alloc_failures();
    json_t *v = e ? json_string(e) : json_null();
    if (!v && e && cr_alloc_failures() == fails0) {
        /* jansson refuses text that is not UTF-8; the journal could not
         * say how to reproduce the run. */
        *bad = 1;
        return e;
    }
    if (json_object_set_new(vx->sc->vars, name, v))
        vx->nomem = 1;
    return e;
}

int cr_vexpand(cr_vctx *vx, const char *path, const char *s, char **out)
{
    cr_sbuf b = {0};
    int rc = 0;
    *out = NULL;
    if ((rc = cr_sbuf_add(&b, "", 0)))
        goto out;
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            /* "$${" is a literal "${". */
            if ((rc = cr_sbuf_add(&b, "${", 2)))
                goto out;
            p += 3;
            continue;
        }
        if (!(p[0] == '$' && p[1] == '{')) {
            const char *q = p + 1;
            while (*q && *q != '$')
                q++;
            if ((rc = cr_sbuf_add(&b, p, (size_t)(q - p))))
                goto out;
            p = q;
            continue;
        }
        const char *name = p + 2, *q = name;
        while (*q == '_' || isalnum((unsigned char)*q))
            q++;
        size_t nl = (size_t)(q - name);
        const char *dflt = NULL;
        size_t dl = 0;
        if (q[0] == ':' && q[1] == '-') {
            dflt = q + 2;
            const char *e = strchr(dflt, '}');
            if (!e) {
                q = dflt + strlen(dflt);
            } else {
                dl = (size_t)(e - dflt);
                q = e;
            }
        }
        if (*q != '}' || nl == 0 || isdigit((unsigned char)name[0])) {
            cr_verr(vx, path,
                    "malformed variable reference in \"%s\": "
                    "write ${NAME} or ${NAME:-default} (\"$${\" for a "
                    "literal \"${\")",
                    s);
            rc = CR_EINVAL;
            goto out;
        }
        char nm[128];
        snprintf(nm, sizeof nm, "%.*s", (int)nl, name);
        int bad;
        const char *val = var_value(vx, nm, &bad);
        if (bad) {
            cr_verr(vx, path,
                    "the value of variable \"%s\" is not UTF-8 text (the "
                    "journal records it to reproduce the run)",
                    nm);
            rc = CR_EINVAL;
            goto out;
        }
        if (vx->nomem) {
            rc = CR_ENOMEM;
            goto out;
        }
        if (dflt && (!val || !*val)) {
            val = NULL;
            rc = cr_sbuf_add(&b, dflt, dl);
        } else if (!val) {
            cr_verr(vx, path,
                    "unknown variable \"%s\" in \"%s\" (set it in "
                    "the environment or write ${%s:-default})",
                    nm, s, nm);
            rc = CR_EINVAL;
            goto out;
        } else {
            rc = cr_sbuf_add(&b, val, strlen(val));
        }
        if (rc)
            goto out;
        p = q + 1;
    }
    *out = b.s;
    b.s = NULL;
out:
    if (rc == CR_ENOMEM)
        vx->nomem = 1;
    cr_free(b.s);
    return rc;
}
