/* cr_scen: loading a scenario (see cr_scen.h and scenarios/README.md).
 *
 * jansson parses the text (syntax errors and duplicate keys are reported
 * at jansson's position), cr_jpos maps every path to a line and column
 * (a .yaml/.yml file: cr_yaml makes both, the document and the map),
 * then each section is validated in order: top-level keys, services (first,
 * so that everything else can refer to them), extra sections, probes,
 * faults, expectations.  Every problem is collected; the scenario is handed
 * out only when there was none.  Kind-specific keys are validated by the
 * kinds' parse functions after the loader rejected unknown keys. */
#include "cr_scen_internal.h"

#include "base/cr_alloc.h"
#include "base/cr_path.h"
#include "cr_kinds.h"
#include "cr_yaml.h"
#include "base/cr_rng.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEED_MAX (1LL << 53)

static const cr_param top_params[] = {
    {"name", "string", NULL, "scenario name: letters, digits, '_', '.', '-'"},
    {"description", "string", "\"\"", "free text shown in reports"},
    {"seed", "integer", "drawn", "seed of every random decision, 0..2^53"},
    {"duration_s", "number", NULL, "length of the fault timeline after t0"},
    {"duration_max_s", "number", "duration_s",
     "the timeline may stretch up to this while a state-triggered fault "
     "(on_ready, on_event) has not yet fired or ended"},
    {"drain_s", "number", "2",
     "quiet time after duration_s before the after-probes"},
    {"before_timeout_s", "number", "5",
     "how long the before-probes may keep failing (retried) before the "
     "experiment is aborted"},
    {"drain", "object", "none",
     "drain until quiet instead of drain_s: {\"until_quiet_s\", \"ev\", "
     "\"svc\", \"where\", \"max_s\"}"},
    {"rotate", "object", "none",
     "cut the event file and the logs into zstd segments during the run: "
     "{\"max_mb\", \"level\", \"logs\"}"},
    {"services", "array", NULL, "the processes of the system under test"},
    {"stop_order", "string or array", "\"reverse\"",
     "reverse, parallel, or every service in the order to stop them"},
    {"steady_state", "array", "[]", "probes"},
    {"faults", "array", "[]", "faults"},
    {"expect", "array", "[]", "expectations"},
    {"explore", "object", "none",
     "a fault space for `chaosrun explore` (scenarios/README.md, "
     "\"Exploring\")"},
    {NULL, NULL, NULL, NULL},
};

/* ---- the document ----------------------------------------------------- */

static const cr_param drain_params[] = {
    {"until_quiet_s", "number", NULL,
     "the drain ends once no matching event came for this long"},
    {"ev", "string", NULL, "event name that means \"still busy\""},
    {"svc", "string", "any", "only events from this service or instance"},
    {"where", "object", "{}", "fields that must be equal"},
    {"max_s", "number", NULL,
     "the drain ends after this long even if events still come"},
    {NULL, NULL, NULL, NULL},
};

static const cr_param rotate_params[] = {
    {"max_mb", "number", NULL,
     "a cut begins once this many MiB were written past the last one"},
    {"level", "integer", "3", "zstd compression level, 1..19"},
    {"logs", "boolean", "true", "rotate the replicas' logs too"},
    {NULL, NULL, NULL, NULL},
};

const cr_scen_keyset *cr_scen_keysets(void)
{
    static cr_scen_keyset sets[10];
    if (!sets[0].where) {
        cr_scen_keyset v[] = {
            {"top level", top_params},
            {"drain", drain_params},
            {"rotate", rotate_params},
            {"services[]", cr_scen__svc_params()},
            {"services[].ready", cr_scen__ready_params()},
            {"services[].container", cr_scen__ctr_params()},
            {"faults[].target (object form)", cr_scen__target_params()},
            {"faults[].on_event", cr_scen__trigger_params()},
            {"faults[].on_ready", cr_scen__ready_trigger_params()},
        };
        memcpy(sets, v, sizeof v);
    }
    return sets;
}

/* v, the value of the top-level key, is an object of params' keys (an
 * error at key otherwise, listing them; unknown keys are reported):
 * 1, else 0. */
static int section_object(cr_vctx *vx, const json_t *v, const char *key,
                          const cr_param *params)
{
    if (!json_is_object(v)) {
        char keys[256];
        size_t k = 0;
        for (const cr_param *p = params; p->name && k < sizeof keys; p++)
            k += (size_t)snprintf(keys + k, sizeof keys - k, "%s\"%s\"",
                                  k ? ", " : "", p->name);
        cr_verr(vx, key, "must be an object {%s} (got %s)", keys, cr_jtype(v));
        return 0;
    }
    cr_vkeys(vx, v, key, params, NULL);
    return 1;
}

/* "drain": {"until_quiet_s", "ev", "svc", "where", "max_s"}; after the
 * services (svc is checked against them). */
static void parse_drain(cr_vctx *vx, const json_t *root)
{
    cr_scen *sc = vx->sc;
    const json_t *v = json_object_get(root, "drain");
    if (!v)
        return;
    if (json_object_get(root, "drain_s"))
        cr_verr_key(vx, "drain_s",
                    "\"drain_s\" cannot be combined with \"drain\" "
                    "(a fixed drain or a drain until quiet, not both)");
    if (!section_object(vx, v, "drain", drain_params))
        return;
    double q = 0, mx = 0;
    int rq = cr_vrequire(vx, v, "drain", "until_quiet_s")
                 ? cr_vnum(vx, v, "drain", "until_quiet_s", 0.01, 3600, 0, &q)
                 : -1;
    int rm = cr_vrequire(vx, v, "drain", "max_s")
                 ? cr_vnum(vx, v, "drain", "max_s", 0.01, 3600, 0, &mx)
                 : -1;
    if (rq > 0 && rm > 0 && mx < q)
        cr_verr(vx, "drain.max_s",
                "must be >= until_quiet_s (%g), the shortest drain (got %g)", q,
                mx);
    if (cr_vmatch(vx, v, "drain", &sc->drain.match) != 0 || rq <= 0 ||
        rm <= 0) {
        cr_match_free(&sc->drain.match);
        return;
    }
    sc->drain.until_quiet_s = q;
    sc->drain.max_s = mx;
}

/* "rotate": {"max_mb", "level", "logs"}. */
static void parse_rotate(cr_vctx *vx, const json_t *root)
{
    cr_scen *sc = vx->sc;
    const json_t *v = json_object_get(root, "rotate");
    if (!v)
        return;
    if (!section_object(vx, v, "rotate", rotate_params))
        return;
    double mb = 0;
    long long level = 3;
    int logs = 1;
    int rm = cr_vrequire(vx, v, "rotate", "max_mb")
                 ? cr_vnum(vx, v, "rotate", "max_mb", 0.0625, 65536, 0, &mb)
                 : -1;
    int rl = cr_vint(vx, v, "rotate", "level", 1, 19, 3, &level);
    int rb = cr_vbool(vx, v, "rotate", "logs", 1, &logs);
    if (rm <= 0 || rl < 0 || rb < 0)
        return;
    sc->rotate.max_bytes = (uint64_t)(mb * 1048576.0);
    sc->rotate.level = (int)level;
    sc->rotate.logs = logs;
}

/* An array section: allocates *v with n zeroed entries and parses each. */
static void parse_array(cr_vctx *vx, const json_t *root, const char *key,
                        int required, void **v, size_t *n, size_t elem,
                        void (*each)(cr_vctx *, const json_t *, size_t, double),
                        double dur)
{
    json_t *a = json_object_get(root, key);
    if (!a) {
        if (required)
            cr_vrequire(vx, root, "", key);
        return;
    }
    if (!json_is_array(a) || (required && json_array_size(a) == 0)) {
        cr_verr(vx, key, "must be a%s array (got %s)",
                required ? " non-empty" : "n",
                json_is_array(a) ? "an empty array" : cr_jtype(a));
        return;
    }
    if (json_array_size(a) == 0)
        return;
    *v = cr_calloc(json_array_size(a), elem);
    if (!*v) {
        vx->nomem = 1;
        return;
    }
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++)
        each(vx, json_array_get(a, i), i, dur);
}

static void each_service(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    cr_scen__parse_service(vx, o, i);
}

static void each_probe(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    cr_scen__parse_probe(vx, o, i);
}

static void each_fault(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    cr_scen__parse_fault(vx, o, i, d);
}

static void each_expect(cr_vctx *vx, const json_t *o, size_t i, double d)
{
    cr_scen__parse_expect(vx, o, i);
}

static void parse_doc(cr_vctx *vx, const json_t *root)
{
    cr_scen *sc = vx->sc;
    const cr_section_ops *const *secs = cr_section_all();
    cr_param extra[33];
    size_t ns = 0;
    const char *str;
    long long ll;
    for (; secs[ns] && ns < 32; ns++)
        extra[ns] =
            (cr_param){secs[ns]->key, "object", "none", secs[ns]->summary};
    extra[ns] = (cr_param){NULL, NULL, NULL, NULL};
    cr_vkeys(vx, root, "", top_params, extra);

    if (cr_vrequire(vx, root, "", "name") &&
        cr_vstr(vx, root, "", "name", NULL, &str) > 0) {
        if (!cr_scen__name_ok(str, 1))
            cr_verr(vx, "name",
                    "invalid scenario name \"%s\": use letters, "
                    "digits, '_', '.' and '-'",
                    str);
        else if (!(sc->name = cr_strdup(str)))
            vx->nomem = 1;
    }
    if (cr_vstr(vx, root, "", "description", "", &str) >= 0 &&
        !(sc->description = cr_strdup(str)))
        vx->nomem = 1;
    int r = cr_vint(vx, root, "", "seed", 0, SEED_MAX, 0, &ll);
    sc->seed_given = r > 0;
    sc->seed = r > 0 ? (uint64_t)ll : cr_rng_fresh_seed() % (SEED_MAX + 1);
    /* Cross-field checks against duration_s only when it is valid. */
    double dur = INFINITY;
    if (cr_vrequire(vx, root, "", "duration_s") &&
        cr_vnum(vx, root, "", "duration_s", 0, CR_SCEN_MAX_DURATION, 0,
                &sc->duration_s) > 0) {
        if (sc->duration_s <= 0)
            cr_verr(vx, "duration_s", "must be a number > 0 (got %g)",
                    sc->duration_s);
        else
            dur = sc->duration_s;
    }
    sc->duration_max_s = sc->duration_s;
    if (cr_vnum(vx, root, "", "duration_max_s", 0, CR_SCEN_MAX_DURATION,
                sc->duration_s, &sc->duration_max_s) > 0 &&
        isfinite(dur) && sc->duration_max_s < dur)
        cr_verr(vx, "duration_max_s",
                "must be at least duration_s (%g), got %g", dur,
                sc->duration_max_s);
    cr_vnum(vx, root, "", "drain_s", 0, 3600, 2, &sc->drain_s);
    cr_vnum(vx, root, "", "before_timeout_s", 0, 3600, 5,
            &sc->before_timeout_s);

    parse_array(vx, root, "services", 1, (void **)&sc->svcs, &sc->nsvcs,
                sizeof *sc->svcs, each_service, dur);
    parse_drain(vx, root);
    parse_rotate(vx, root);
    for (size_t i = 0; i < ns; i++) {
        json_t *v = json_object_get(root, secs[i]->key);
        if (v && secs[i]->parse)
            cr_scen__nomem_if(vx, secs[i]->parse(vx, v, secs[i]->key, sc));
    }
    cr_scen__check_hosts(vx, root);
    cr_scen__parse_stop(vx, root);
    parse_array(vx, root, "steady_state", 0, (void **)&sc->probes, &sc->nprobes,
                sizeof *sc->probes, each_probe, dur);
    parse_array(vx, root, "faults", 0, (void **)&sc->faults, &sc->nfaults,
                sizeof *sc->faults, each_fault, dur);
    parse_array(vx, root, "expect", 0, (void **)&sc->expects, &sc->nexpects,
                sizeof *sc->expects, each_expect, dur);
    cr_scen__parse_explore(vx, root, dur);
}

/* Absolute directory of the scenario file (not required to exist). */
static void scenario_dir(const char *file, char *out, size_t n)
{
    char tmp[2 * PATH_MAX + 2], cwd[PATH_MAX];
    if (file[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(tmp, sizeof tmp, "%s", file);
    else
        snprintf(tmp, sizeof tmp, "%s/%s", cwd, file);
    char *d = dirname(tmp);
    char real[PATH_MAX];
    snprintf(out, n, "%s", realpath(d, real) ? real : d);
}

/* Byte offset of the token jansson complains about.  jansson's position
 * is just past that token and its text quotes the token ("... near
 * '\"b\"'"), so the token starts that many bytes earlier. */
static size_t syntax_offset(const json_error_t *je)
{
    size_t pos = je->position > 0 ? (size_t)je->position : 0;
    const char *near = strstr(je->text, " near '");
    size_t tok = 0;
    if (near) {
        const char *end = strrchr(je->text, '\'');
        if (end > near + 7)
            tok = (size_t)(end - (near + 7));
    }
    if (tok == 0)
        return pos > 0 ? pos - 1 : 0;
    return tok <= pos ? pos - tok : 0;
}

int cr_scen_load_buffer(const char *file, const char *text, size_t len,
                        cr_scen **out, cr_diags *diags, cr_err *err)
{
    long fails0 = cr_alloc_failures();
    size_t first = diags->n;
    json_error_t je;
    cr_jpos *pos = NULL;
    cr_scen *sc = NULL;
    char sdir[PATH_MAX], bdir[PATH_MAX];
    int rc = 0;
    cr_vctx vx = {
        .diags = diags, .file = file, .text = text, .len = len, .first = first};
    *out = NULL;

    json_t *root = NULL;
    int yaml = cr_yaml_is_yaml_name(file);
    if (yaml) {
        cr_yaml_error ye;
        rc = cr_yaml_load(text, len, &root, &pos, &ye);
        if (rc == CR_ENOMEM)
            goto nomem;
        rc = 0;
        if (!root) {
            cr_vdiag(&vx, ye.line, ye.col, "%s", ye.text);
            goto done;
        }
    } else {
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
            /* jansson reports some allocation failures as syntax errors. */
            if (cr_alloc_failures() != fails0 ||
                json_error_code(&je) == json_error_out_of_memory)
                goto nomem;
            int line, col;
            cr_jpos_offset(text, len, syntax_offset(&je), &line, &col);
            int brace = strncmp(je.text, "'}' expected", 12) == 0 ||
                        strncmp(je.text, "']' expected", 12) == 0;
            cr_vdiag(&vx, line, col, "invalid JSON: %s%s", je.text,
                     brace ? " (missing ',' before it?)" : "");
            goto done;
        }
        rc = cr_jpos_build(text, len, &pos);
        if (rc == CR_ENOMEM)
            goto nomem;
        /* CR_EINVAL cannot happen after jansson accepted the text;
         * positions would then read 0:0 rather than fail the load. */
        rc = 0;
    }
    if (!json_is_object(root)) {
        cr_jpos_at at;
        cr_jpos_get(pos, "", &at);
        cr_vdiag(&vx, at.vline ? at.vline : 1, at.vcol ? at.vcol : 1,
                 yaml ? "a scenario is a YAML mapping of keys to values "
                        "(got %s)"
                      : "a scenario is a JSON object (got %s)",
                 cr_jtype(root));
        goto done;
    }
    sc = cr_calloc(1, sizeof *sc);
    if (!sc || !(sc->file = cr_strdup(file)) ||
        !(sc->index = cr_calloc(1, sizeof *sc->index)))
        goto nomem;
    sc->root = json_incref(root);
    if (!(sc->vars = json_object()))
        goto nomem;
    scenario_dir(file, sdir, sizeof sdir);
    cr_path_helper_dir(bdir, sizeof bdir); /* CHAOSRUN_BINDIR */
    vx.sc = sc;
    vx.pos = pos;
    vx.scen_dir = sdir;
    vx.bin_dir = bdir;
    parse_doc(&vx, root);
    cr_vsort(&vx);
done:
    if (vx.nomem || cr_alloc_failures() != fails0)
        goto nomem;
    if (diags->n > first) {
        rc = CR_EINVAL;
        goto out;
    }
    if (cr_scen_resolve(sc, err))
        goto nomem;
    *out = sc;
    sc = NULL;
    rc = 0;
    goto out;
nomem:
    /* A load that lost an allocation proves nothing: drop its findings. */
    while (diags->n > first) {
        diags->n--;
        cr_free(diags->v[diags->n].file);
        cr_free(diags->v[diags->n].msg);
    }
    rc = cr_err_set(err, CR_ENOMEM, "loading %s: out of memory", file);
out:
    cr_names_free(&vx.probes);
    cr_names_free(&vx.expects);
    cr_names_free(&vx.hosts);
    cr_scen_free(sc);
    cr_jpos_free(pos);
    json_decref(root);
    return rc;
}

/* The error code for a scenario file open() or stat() refused: the file
 * (exit status 2) or the machine (4). */
static int file_errno_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return CR_ENOTFOUND;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EIO:
    case EINTR:
        return CR_ESYS;
    default: /* EACCES, EPERM, ELOOP, ENAMETOOLONG, ENXIO, ... */
        return CR_EINVAL;
    }
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "is a directory"
           : S_ISFIFO(m) ? "is a FIFO"
           : S_ISCHR(m)  ? "is a character device"
           : S_ISBLK(m)  ? "is a block device"
           : S_ISSOCK(m) ? "is a socket"
                         : "is not a regular file";
}

/* The file is a path the user named, so symbolic links are followed (a
 * scenario linked from another directory is legitimate; the link gives
 * no access the user lacks).  What is refused: anything but a regular
 * file, checked with stat() before opening (opening a device can have
 * effects) and again with fstat() on the descriptor (the path may have
 * changed in between); O_NONBLOCK so that a FIFO swapped in meanwhile
 * cannot block open(); and more than CR_SCEN_MAX_FILE bytes, read at most
 * once past the cap (the file may grow while it is read). */
int cr_scen_load(const char *file, cr_scen **out, cr_diags *diags, cr_err *err)
{
    int fd = -1, rc = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;
    *out = NULL;
    if (stat(file, &st) < 0) {
        rc = cr_err_sys(err, file_errno_code(errno), errno,
                        "reading scenario %s", file);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = cr_err_set(err, CR_EINVAL, "reading scenario %s: %s", file,
                        file_kind(st.st_mode));
        goto out;
    }
    fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = cr_err_sys(err, file_errno_code(errno), errno,
                        "reading scenario %s", file);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = cr_err_set(err, CR_EINVAL, "reading scenario %s: %s", file,
                        file_kind(st.st_mode));
        goto out;
    }
    if (st.st_size > CR_SCEN_MAX_FILE) {
        rc = cr_err_set(err, CR_EINVAL,
                        "reading scenario %s: %lld bytes, more than the %d "
                        "MiB a scenario may have",
                        file, (long long)st.st_size, CR_SCEN_MAX_FILE >> 20);
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > CR_SCEN_MAX_FILE) {
                rc = cr_err_set(err, CR_EINVAL,
                                "reading scenario %s: more than the %d MiB "
                                "a scenario may have",
                                file, CR_SCEN_MAX_FILE >> 20);
                goto out;
            }
            /* Sized from st_size, so a regular file is read in one go;
             * never more than one byte past the cap. */
            size_t nc = cap ? cap * 2 : (size_t)st.st_size + 1;
            if (nc < 4096)
                nc = 4096;
            if (nc > (size_t)CR_SCEN_MAX_FILE + 1)
                nc = (size_t)CR_SCEN_MAX_FILE + 1;
            char *q = cr_realloc(buf, nc);
            if (!q) {
                rc = cr_err_set(err, CR_ENOMEM,
                                "reading scenario %s: out of memory", file);
                goto out;
            }
            buf = q;
            cap = nc;
        }
        ssize_t k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = cr_err_sys(err, errno == EISDIR ? CR_EINVAL : CR_ESYS, errno,
                            "reading scenario %s", file);
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    rc = cr_scen_load_buffer(file, buf, len, out, diags, err);
out:
    if (fd >= 0)
        close(fd);
    cr_free(buf);
    return rc;
}

void cr_scen_free(cr_scen *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nfaults; i++) {
        cr_fault *f = &sc->faults[i];
        if (f->priv && f->ops && f->ops->destroy)
            f->ops->destroy(f);
        cr_free(f->name);
        cr_free(f->target.service);
        if (f->trigger) {
            cr_match_free(&f->trigger->match);
            cr_free(f->trigger->ready_svc);
            cr_free(f->trigger);
        }
        json_decref(f->spec);
        cr_free(f->starts);
    }
    for (size_t i = 0; i < sc->nprobes; i++) {
        cr_probe_spec *p = &sc->probes[i];
        if (p->priv && p->ops && p->ops->destroy)
            p->ops->destroy(p);
        cr_free(p->name);
        cr_free(p->host);
        json_decref(p->spec);
    }
    for (size_t i = 0; i < sc->nexpects; i++) {
        cr_expect *x = &sc->expects[i];
        if (x->priv && x->ops && x->ops->destroy)
            x->ops->destroy(x);
        cr_free(x->name);
        json_decref(x->spec);
    }
    const cr_section_ops *const *secs = cr_section_all();
    for (size_t i = 0; secs[i]; i++)
        if (secs[i]->destroy)
            secs[i]->destroy(sc);
    for (size_t i = 0; i < sc->nsvcs; i++)
        cr_scen__svc_free(&sc->svcs[i]);
    cr_free(sc->svcs);
    cr_free(sc->faults);
    cr_free(sc->probes);
    cr_free(sc->expects);
    cr_scen__explore_free(sc->explore);
    json_decref(sc->root);
    json_decref(sc->vars);
    if (sc->index) {
        cr_names_free(&sc->index->svcs);
        cr_names_free(&sc->index->faults);
        cr_free(sc->index);
    }
    cr_match_free(&sc->drain.match);
    cr_free(sc->file);
    cr_free(sc->name);
    cr_free(sc->description);
    cr_free(sc);
}

const cr_svc_spec *cr_scen_service(const cr_scen *sc, const char *name)
{
    size_t i;
    if (sc && sc->index)
        return cr_names_get(&sc->index->svcs, name, &i) ? &sc->svcs[i] : NULL;
    for (i = 0; sc && name && i < sc->nsvcs; i++)
        if (sc->svcs[i].name && strcmp(sc->svcs[i].name, name) == 0)
            return &sc->svcs[i];
    return NULL;
}

const cr_fault *cr_scen_fault(const cr_scen *sc, const char *name)
{
    size_t i;
    if (sc && sc->index)
        return cr_names_get(&sc->index->faults, name, &i) ? &sc->faults[i]
                                                          : NULL;
    for (i = 0; sc && name && i < sc->nfaults; i++)
        if (sc->faults[i].name && strcmp(sc->faults[i].name, name) == 0)
            return &sc->faults[i];
    return NULL;
}
