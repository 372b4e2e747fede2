/* syscall: make system calls of a service fail or go slow during a window
 * -- disk full, I/O errors, failed fsync, refused or reset connections, a
 * slow disk or network -- through one of two backends:
 *
 *   libfiu   LD_PRELOAD of libfiu's POSIX wrappers (syscall_fiu.c): fails
 *            C library calls of dynamically linked programs, malloc too;
 *   seccomp  a seccomp filter installed at spawn whose named calls the
 *            harness's supervisor answers (syscall_seccomp.c): any program
 *            (static, Go, raw syscall(2)), failures and delays.
 *
 * `backend: "auto"` (the default) takes libfiu where it applies and seccomp
 * for statically linked programs and Go programs (whose system calls never
 * go through the C library), or when the keys ask for what only one of
 * them can do; check() makes the choice and the journal says why.
 *
 * This file holds the keys, their validation for each backend, the choice
 * and the journal's common fields; the backends do the rest. */
#include "syscall_internal.h"
#include "cr_fiupt.h"
#include "cr_seccomp.h"

#include "base/cr_alloc.h"
#include "faults/cr_prog.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const cr_param sys_params[] = {
    {"backend", "string", "auto",
     "\"libfiu\" (LD_PRELOAD: C library calls of dynamically linked "
     "programs), \"seccomp\" (a seccomp filter: system calls of any "
     "program, failed or delayed) or \"auto\" (libfiu where it applies; "
     "seccomp for static and Go programs)"},
    {"points", "array|string", "-",
     "libfiu failure point names (e.g. \"posix/io/rw/write\"; a final '*' "
     "matches a prefix); exactly one of points, syscalls and preset"},
    {"syscalls", "array|string", "-",
     "system call names as the kernel knows them (\"write\", \"openat\", "
     "\"fsync\", \"connect\"): the seccomp backend"},
    {"preset", "string", "-",
     "disk_full, io_error, fsync_fail, oom (libfiu only), net_refused, "
     "net_reset, slow_disk, slow_net (seccomp only) (see faults/README.md)"},
    {"probability", "number", "1",
     "chance that each call is faulted while the window is open (0..1), "
     "drawn from the run seed"},
    {"errno", "string", "preset/EIO",
     "errno the faulted calls return (\"ENOSPC\"); with libfiu it must be "
     "one every named call can return"},
    {"count", "integer", "0",
     "0: every call in the window may be faulted; N: at most N per replica "
     "and window (the first N when probability is 1); libfiu: only 1"},
    {"delay_ms", "number", "preset/0",
     "seccomp: hold each faulted call this long, then let it run (or fail "
     "it, with errno)"},
    {"jitter_ms", "number", "0",
     "seccomp: the delay is drawn uniformly in delay_ms +- jitter_ms"},
    {"path", "string", "preset/none",
     "seccomp: only calls on files under this path prefix (\"/data/\"; "
     "relative: under the run directory) or whose fd links to this prefix "
     "(\"socket:\")"},
    {NULL, NULL, NULL, NULL},
};

/* ---- shared with the backends ------------------------------------------- */

json_int_t sys_unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

json_t *sys_details_array(json_t *details, const char *key)
{
    json_t *a = json_object_get(details, key);
    if (!a) {
        a = json_array();
        json_object_set_new(details, key, a);
    }
    return a;
}

int sys_uses(const cr_fault *g, int which)
{
    const sys_spec *s = g->ops == &cr_fault_syscall_ops ? g->priv : NULL;
    return s && s->chosen == which;
}

/* Errors the targeted replicas reported in their events during the window
 * (field "errno", else "error"; events without "inst" count for every
 * replica), counted by value: evidence for the report.  Events still in
 * flight when the window closes are not counted. */
void sys_errors_seen(cr_fault *f, cr_run *r, cr_fault_act *act)
{
    const cr_history *h = cr_run_history(r);
    double from = isnan(act->t_sched) ? -INFINITY : act->t_sched;
    json_t *counts = json_object();
    size_t total = 0;
    for (size_t i = 0; h && i < h->n; i++) {
        const cr_event *e = &h->v[i];
        if (e->t < from || strcmp(e->svc, f->target.service) != 0)
            continue;
        const char *inst = cr_event_str(e, "inst");
        int mine = inst == NULL;
        for (size_t k = 0; !mine && k < act->ninst; k++)
            mine = strcmp(inst, cr_inst_name(act->inst[k])) == 0;
        if (!mine)
            continue;
        const char *v = cr_event_str(e, "errno");
        if (!v)
            v = cr_event_str(e, "error");
        if (!v || !*v)
            continue;
        json_t *c = json_object_get(counts, v);
        json_object_set_new(counts, v,
                            json_integer(c ? json_integer_value(c) + 1 : 1));
        total++;
    }
    if (total)
        json_object_set_new(act->details, "errors_seen", counts);
    else
        json_decref(counts);
}

/* ---- parse -------------------------------------------------------------- */

static void spec_free(sys_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->points && i < s->npoints; i++)
        cr_free(s->points[i]);
    cr_free(s->points);
    cr_free(s);
}

/* The keys as read (validation of each backend works from these). */
typedef struct sys_keys {
    const json_t *points, *syscalls;
    const char *preset, *errno_name, *path;
    double probability, delay_ms, jitter_ms;
    long long count;
    int has_delay, has_jitter;
} sys_keys;

/* A problem found by one backend's validation: the key it is about (a
 * JSON path below the fault) and the sentence. */
typedef struct sys_problem {
    char key[64];
    cr_err e;
} sys_problem;

static int problem(sys_problem *pb, const char *key, int code, const char *fmt,
                   const char *a, const char *b)
{
    snprintf(pb->key, sizeof pb->key, "%s", key);
    return cr_err_set(&pb->e, code, fmt, a, b);
}

/* Names from a string or a non-empty array of strings; n = how many. */
static int names_of(const json_t *v, const char *key, size_t *n,
                    sys_problem *pb)
{
    if (json_is_string(v)) {
        *n = 1;
        return CR_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return problem(
            pb, key, CR_EINVAL,
            "must be a %s name or a non-empty array of them",
            strcmp(key, "points") == 0 ? "failure point" : "system call", "");
    *n = json_array_size(v);
    for (size_t i = 0; i < *n; i++)
        if (!json_is_string(json_array_get(v, i))) {
            snprintf(pb->key, sizeof pb->key, "%s[%zu]", key, i);
            return cr_err_set(&pb->e, CR_EINVAL, "must be a string");
        }
    return CR_OK;
}

static const char *name_at(const json_t *v, size_t i)
{
    return json_is_string(v) ? json_string_value(v)
                             : json_string_value(json_array_get(v, i));
}

/* libfiu: points or a preset, an errno every point allows, count 0/1. */
static int fiu_validate(sys_spec *s, const sys_keys *k, sys_problem *pb)
{
    const cr_fiupt_preset *pre = NULL;
    if (k->preset) {
        pre = cr_fiupt_preset_find(k->preset);
        if (!pre)
            return problem(pb, "preset", CR_EINVAL,
                           "preset \"%s\" is not one libfiu has%s", k->preset,
                           "");
        s->npoints = 0;
        while (pre->points[s->npoints])
            s->npoints++;
    } else {
        int rc = names_of(k->points, "points", &s->npoints, pb);
        if (rc)
            return rc;
    }
    if (k->count > 1) {
        char c[32];
        snprintf(c, sizeof c, "%lld", k->count);
        return problem(pb, "count", CR_EINVAL,
                       "libfiu can fail only the first call (count: 1, its "
                       "onetime flag); count %s is not supported%s",
                       c, "");
    }
    s->onetime = k->count == 1;
    s->points = cr_calloc(s->npoints, sizeof *s->points);
    if (!s->points)
        return CR_ENOMEM;
    for (size_t i = 0; i < s->npoints; i++) {
        s->points[i] = cr_strdup(pre ? pre->points[i] : name_at(k->points, i));
        if (!s->points[i])
            return CR_ENOMEM;
    }
    if (k->errno_name) {
        s->errnum = cr_fiupt_errno_parse(k->errno_name);
        if (s->errnum < 0)
            return problem(pb, "errno", CR_EINVAL,
                           "unknown errno name \"%s\" (symbolic, e.g. \"EIO\", "
                           "\"ENOSPC\", \"ENOMEM\")%s",
                           k->errno_name, "");
    } else if (pre) {
        s->errnum = cr_fiupt_errno_parse(pre->errno_name);
    }
    cr_err e;
    cr_err_clear(&e);
    if (cr_fiupt_check((const char *const *)s->points, s->npoints, &s->errnum,
                       &e) != 0)
        return problem(pb,
                       k->errno_name && strstr(e.msg, "errno") ? "errno"
                       : pre                                   ? "preset"
                                                               : "points",
                       CR_EINVAL, "%s%s", e.msg, "");
    return CR_OK;
}

/* seccomp: syscall names or a preset, any errno, delay, path. */
static int sc_validate(sys_spec *s, const sys_keys *k, sys_problem *pb)
{
    cr_scrule *r = &s->rule;
    const cr_scpreset *pre = NULL;
    memset(r, 0, sizeof *r);
    if (k->preset) {
        pre = cr_scpreset_find(k->preset);
        if (!pre)
            return problem(pb, "preset", CR_EINVAL, "unknown preset \"%s\"%s",
                           k->preset, "");
        if (pre->refused)
            return problem(pb, "preset", CR_EINVAL, "%s%s", pre->refused, "");
        for (size_t i = 0; pre->syscalls[i]; i++)
            if (cr_scrule_add(r, pre->syscalls[i], &pb->e) != 0) {
                snprintf(pb->key, sizeof pb->key, "preset");
                return CR_EINVAL;
            }
    } else {
        size_t n = 0;
        int rc = names_of(k->syscalls, "syscalls", &n, pb);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (cr_scrule_add(r, name_at(k->syscalls, i), &pb->e) != 0) {
                if (json_is_array(k->syscalls))
                    snprintf(pb->key, sizeof pb->key, "syscalls[%zu]", i);
                else
                    snprintf(pb->key, sizeof pb->key, "syscalls");
                return CR_EINVAL;
            }
    }
    r->delay_ms = k->has_delay ? k->delay_ms : pre ? pre->delay_ms : 0;
    r->jitter_ms = k->jitter_ms;
    if (k->has_jitter && r->jitter_ms > r->delay_ms) {
        char a[64];
        snprintf(a, sizeof a, "%g ms is more than the delay (%g ms)",
                 r->jitter_ms, r->delay_ms);
        return problem(pb, "jitter_ms", CR_EINVAL, "%s%s", a,
                       r->delay_ms == 0 ? "; jitter needs delay_ms" : "");
    }
    const char *en = k->errno_name;
    if (!en && pre)
        en = pre->errno_name;
    if (!en && r->delay_ms == 0)
        en = "EIO"; /* a fault that neither fails nor delays does nothing */
    if (en) {
        r->errnum = cr_errno_parse(en);
        if (r->errnum <= 0)
            return problem(pb, "errno", CR_EINVAL,
                           "unknown errno name \"%s\" (symbolic, as in "
                           "errno(3): \"EIO\", \"ENOSPC\", \"ECONNRESET\")%s",
                           en, "");
    }
    r->probability = k->probability;
    r->count = (uint64_t)k->count;
    const char *path = k->path ? k->path : pre ? pre->path : NULL;
    if (path) {
        if (!path[0])
            return problem(pb, "path", CR_EINVAL,
                           "must not be empty (\"/data/\", \"socket:\", or "
                           "relative to the run directory)%s%s",
                           "", "");
        if (path[0] == '/') {
            if (cr_scpath_normalize(path, r->path, sizeof r->path) != 0)
                return problem(pb, "path", CR_EINVAL, "\"%s\" is too long%s",
                               path, "");
        } else {
            if (strlen(path) >= sizeof r->path)
                return problem(pb, "path", CR_EINVAL, "\"%s\" is too long%s",
                               path, "");
            snprintf(r->path, sizeof r->path, "%s", path);
        }
        if (cr_scrule_check_path(r, &pb->e) != 0) {
            snprintf(pb->key, sizeof pb->key,
                     k->path ? "path" : (pre ? "preset" : "syscalls"));
            return CR_EINVAL;
        }
    }
    return CR_OK;
}

static void verr_at(cr_vctx *vx, const char *path, const sys_problem *pb)
{
    char p[CR_PATH_MAX + 80];
    if (strchr(pb->key, '[')) { /* "points[2]": key then index */
        char key[64], q[CR_PATH_MAX + 32];
        size_t kl = strcspn(pb->key, "[");
        snprintf(key, sizeof key, "%.*s", (int)kl, pb->key);
        cr_path_key(q, sizeof q, path, key);
        cr_path_idx(p, sizeof p, q, (size_t)atol(pb->key + kl + 1));
    } else {
        cr_path_key(p, sizeof p, path, pb->key);
    }
    cr_verr(vx, p, "%s", pb->e.msg);
}

/* What only one backend can do: the first key that asks for it (*key:
 * where to report it). */
static const char *needs_seccomp(const sys_keys *k, const char **key)
{
    *key = NULL;
    if (k->syscalls)
        return *key = "syscalls", "syscalls (kernel names)";
    if (k->has_delay)
        return *key = "delay_ms", "delay_ms (libfiu cannot make calls slow)";
    if (k->has_jitter)
        return *key = "jitter_ms", "jitter_ms";
    if (k->path)
        return *key = "path", "path (libfiu has no path filter)";
    if (k->count > 1)
        return *key = "count", "count above 1 (libfiu fails once or always)";
    if (k->preset && !cr_fiupt_preset_find(k->preset) &&
        cr_scpreset_find(k->preset))
        return *key = "preset", k->preset;
    return NULL;
}

static const char *needs_libfiu(const sys_keys *k, const char **key)
{
    *key = NULL;
    if (k->points)
        return *key = "points", "points (libfiu failure points)";
    const cr_scpreset *p = k->preset ? cr_scpreset_find(k->preset) : NULL;
    if (p && p->refused)
        return *key = "preset", k->preset;
    return NULL;
}

static int sys_parse(cr_vctx *vx, const json_t *obj, const char *path,
                     cr_fault *f)
{
    static const char *const backends[] = {"auto", "libfiu", "seccomp", NULL};
    char p[CR_PATH_MAX + 32];
    size_t before = cr_vcount(vx);
    sys_keys k;
    sys_problem pf, ps;
    sys_spec *s = cr_calloc(1, sizeof *s);
    if (!s)
        return CR_ENOMEM;
    memset(&k, 0, sizeof k);
    memset(&pf, 0, sizeof pf);
    memset(&ps, 0, sizeof ps);
    k.points = json_object_get(obj, "points");
    k.syscalls = json_object_get(obj, "syscalls");
    cr_venum(vx, obj, path, "backend", backends, SYS_AUTO, &s->backend);
    cr_vstr(vx, obj, path, "preset", NULL, &k.preset);
    cr_vnum(vx, obj, path, "probability", 0, 1, 1, &k.probability);
    cr_vstr(vx, obj, path, "errno", NULL, &k.errno_name);
    cr_vint(vx, obj, path, "count", 0, 1000000000, 0, &k.count);
    k.has_delay =
        cr_vnum(vx, obj, path, "delay_ms", 0, 3600000, 0, &k.delay_ms) == 1;
    k.has_jitter =
        cr_vnum(vx, obj, path, "jitter_ms", 0, 3600000, 0, &k.jitter_ms) == 1;
    cr_vstr(vx, obj, path, "path", NULL, &k.path);
    s->probability = k.probability;
    s->count = k.count;
    s->preset = k.preset;
    if ((k.points != NULL) + (k.syscalls != NULL) + (k.preset != NULL) != 1) {
        cr_verr(vx, path,
                "a syscall fault needs exactly one of \"points\" (libfiu), "
                "\"syscalls\" (seccomp) and \"preset\"");
        goto out;
    }
    if (k.preset && !cr_fiupt_preset_find(k.preset) &&
        !cr_scpreset_find(k.preset)) {
        cr_path_key(p, sizeof p, path, "preset");
        cr_verr(vx, p,
                "unknown preset \"%s\" (disk_full, io_error, fsync_fail, "
                "oom, net_refused, net_reset, slow_disk, slow_net)",
                k.preset);
        goto out;
    }
    const char *sc_key, *fiu_key;
    const char *sc_only = needs_seccomp(&k, &sc_key);
    const char *fiu_only = needs_libfiu(&k, &fiu_key);
    if (s->backend == SYS_LIBFIU && sc_only) {
        cr_path_key(p, sizeof p, path, sc_key);
        cr_verr(vx, p,
                "%s needs backend \"seccomp\" (or \"auto\"), not \"libfiu\"",
                sc_only);
        goto out;
    }
    if (s->backend == SYS_SECCOMP && fiu_only) {
        const cr_scpreset *pre = cr_scpreset_find(k.preset);
        cr_path_key(p, sizeof p, path, fiu_key);
        if (pre && pre->refused)
            cr_verr(vx, p, "%s", pre->refused);
        else
            cr_verr(vx, p,
                    "%s need backend \"libfiu\" (or \"auto\"); the seccomp "
                    "backend names system calls (\"syscalls\")",
                    fiu_only);
        goto out;
    }
    if (sc_only && fiu_only) {
        cr_path_key(p, sizeof p, path, sc_key);
        cr_verr(vx, p,
                "%s needs the seccomp backend, but %s needs libfiu: no "
                "backend can do both",
                sc_only, fiu_only);
        goto out;
    }
    s->can_fiu = s->backend != SYS_SECCOMP && !sc_only;
    s->can_sc = s->backend != SYS_LIBFIU && !fiu_only;
    if (sc_only)
        snprintf(s->no_fiu, sizeof s->no_fiu, "%s", sc_only);
    if (fiu_only)
        snprintf(s->no_sc, sizeof s->no_sc, "%s", fiu_only);
    int rf = s->can_fiu ? fiu_validate(s, &k, &pf) : CR_EINVAL;
    int rs = s->can_sc ? sc_validate(s, &k, &ps) : CR_EINVAL;
    if (rf == CR_ENOMEM || rs == CR_ENOMEM) {
        spec_free(s);
        return CR_ENOMEM;
    }
    if (s->can_fiu && rf) {
        s->can_fiu = 0;
        snprintf(s->no_fiu, sizeof s->no_fiu, "%s: %s", pf.key, pf.e.msg);
    }
    if (s->can_sc && rs) {
        s->can_sc = 0;
        snprintf(s->no_sc, sizeof s->no_sc, "%s: %s", ps.key, ps.e.msg);
    }
    if (!s->can_fiu && !s->can_sc) {
        /* The problem of the backend that was asked for, or that the keys
         * lead to; libfiu's first when both could have done it. */
        int fiu_first = s->backend == SYS_LIBFIU ||
                        (s->backend == SYS_AUTO && !sc_only && pf.e.code);
        verr_at(vx, path, fiu_first ? &pf : &ps);
    }
out:
    if (cr_vcount(vx) != before) {
        spec_free(s);
        return CR_EINVAL; /* diagnostics recorded */
    }
    f->priv = s;
    return 0;
}

static void sys_destroy(cr_fault *f)
{
    spec_free(f->priv);
    f->priv = NULL;
}

/* ---- check: which backend, and can this machine do it? ------------------ */

static int sys_check(cr_fault *f, cr_run *r, cr_err *err)
{
    sys_spec *s = f->priv;
    const cr_svc_spec *sp = cr_scen_service(cr_run_scen(r), f->target.service);
    char prog[PATH_MAX], interp[PATH_MAX];
    if (!sp)
        return cr_err_set(err, CR_EINVAL, "fault %s: no service '%s'", f->name,
                          f->target.service);
    if (sp->ctr) {
        /* A container: its process is the runtime's, so the seccomp
         * backend, through a profile the engine applies
         * (syscall_sc_ctr.c); libfiu's preload is not in its image. */
        if (!s->can_sc)
            return cr_err_set(err, CR_EUNSUP,
                              "fault %s: service %s runs in a container, "
                              "where only the seccomp backend reaches its "
                              "calls (libfiu's preload is not in its image), "
                              "and this fault needs libfiu: %s",
                              f->name, sp->name,
                              s->no_sc[0] ? s->no_sc
                                          : "backend \"libfiu\" asked for");
        s->chosen = SYS_SECCOMP;
        snprintf(s->why, sizeof s->why,
                 "%s: %s runs in a container: a seccomp profile given to the "
                 "engine, its listener handed over by the runtime",
                 s->backend == SYS_SECCOMP ? "asked for" : "auto", sp->name);
        return cr_seccomp_available(err) ? err->code : CR_OK;
    }
    const char *node = cr_run_ssh_svc_node(r, sp->name);
    if (node) {
        /* On an ssh node: libfiu's preload there, driven by fiu-ctrl over
         * ssh (probed at prepare); the seccomp backend's supervisor needs
         * the listener in this process.  The program is the node's: not
         * inspected here. */
        if (!s->can_fiu)
            return cr_err_set(err, CR_EUNSUP,
                              "fault %s: on ssh node %s only the libfiu "
                              "backend works (the seccomp backend's "
                              "supervisor needs the listener in the "
                              "harness), and this fault needs seccomp: %s",
                              f->name, node,
                              s->no_fiu[0] ? s->no_fiu
                                           : "backend \"seccomp\" asked for");
        s->chosen = SYS_LIBFIU;
        snprintf(s->why, sizeof s->why,
                 "%s: %s runs on ssh node %s: libfiu's preload there",
                 s->backend == SYS_LIBFIU ? "asked for" : "auto", sp->name,
                 node);
        return CR_OK;
    }
    if (cr_prog_resolve(sp, prog, sizeof prog) != 0)
        return cr_err_set(err, CR_EUNSUP, "service %s: program '%s' not found",
                          sp->name, sp->argv[0]);
    int kind = cr_prog_kind(prog, interp, sizeof interp);
    if (kind == CR_PROG_SCRIPT) { /* its interpreter is what runs */
        snprintf(prog, sizeof prog, "%s", interp);
        kind = cr_prog_kind(prog, interp, sizeof interp);
    }
    const char *what = kind == CR_PROG_STATIC ? "is statically linked"
                       : kind == CR_PROG_GO
                           ? "is a Go program (its system calls do not go "
                             "through the C library)"
                       : kind == CR_PROG_DYNAMIC ? "is dynamically linked"
                                                 : "is not an ELF program or a "
                                                   "script";
    s->chosen = 0;
    if (s->can_sc && (!s->can_fiu || kind != CR_PROG_DYNAMIC)) {
        s->chosen = SYS_SECCOMP;
        if (s->backend == SYS_SECCOMP)
            snprintf(s->why, sizeof s->why, "asked for (backend \"seccomp\")");
        else if (!s->can_fiu)
            snprintf(s->why, sizeof s->why,
                     "auto: only seccomp can do what the fault asks (%s)",
                     s->no_fiu);
        else
            snprintf(s->why, sizeof s->why,
                     "auto: %s %s: LD_PRELOAD (libfiu) cannot reach its "
                     "system calls",
                     prog, what);
        return cr_seccomp_available(err) ? err->code : CR_OK;
    }
    s->chosen = SYS_LIBFIU;
    if (s->backend == SYS_LIBFIU)
        snprintf(s->why, sizeof s->why, "asked for (backend \"libfiu\")");
    else if (!s->can_sc)
        snprintf(s->why, sizeof s->why,
                 "auto: only libfiu can do what the fault asks (%s)", s->no_sc);
    else
        snprintf(s->why, sizeof s->why,
                 "auto: %s %s: libfiu's preload reaches its C library calls",
                 prog, what);
    if (sys_fiu_check(f, r, err))
        return err->code;
    if (kind == CR_PROG_STATIC || kind == CR_PROG_GO)
        return cr_err_set(
            err, CR_EUNSUP,
            "service %s: %s %s; LD_PRELOAD (libfiu) cannot "
            "reach it, so fault %s cannot inject syscall "
            "failures%s",
            sp->name, prog,
            kind == CR_PROG_STATIC ? "is statically linked" : what, f->name,
            s->can_sc ? ""
                      : " (and what it asks for needs "
                        "libfiu)");
    if (kind != CR_PROG_DYNAMIC)
        return cr_err_set(err, CR_EUNSUP,
                          "service %s: %s is not a dynamically linked ELF "
                          "program or a script; fault %s cannot preload "
                          "libfiu into it",
                          sp->name, prog, f->name);
    return CR_OK;
}

/* ---- the common part of the journal, and dispatch ----------------------- */

static void describe(cr_fault *f, cr_fault_act *act)
{
    const sys_spec *s = f->priv;
    json_object_set_new(
        act->details, "backend",
        json_string(s->chosen == SYS_SECCOMP ? "seccomp" : "libfiu"));
    json_object_set_new(act->details, "backend_reason", json_string(s->why));
    if (s->preset)
        json_object_set_new(act->details, "preset", json_string(s->preset));
    json_object_set_new(act->details, "probability", json_real(s->probability));
    json_object_set_new(act->details, "count", json_integer(s->count));
}

static int sys_prepare(cr_fault *f, cr_run *r, cr_err *err)
{
    return sys_uses(f, SYS_SECCOMP) ? sys_sc_prepare(f, r, err)
                                    : sys_fiu_prepare(f, r, err);
}

static int sys_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    if (!act->details && !(act->details = json_object()))
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    describe(f, act);
    return sys_uses(f, SYS_SECCOMP) ? sys_sc_apply(f, r, act, err)
                                    : sys_fiu_apply(f, r, act, err);
}

static int sys_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    return sys_uses(f, SYS_SECCOMP) ? sys_sc_revert(f, r, act, err)
                                    : sys_fiu_revert(f, r, act, err);
}

static void sys_on_spawn(cr_fault *f, cr_run *r, cr_fault_act *act, cr_inst *in)
{
    if (sys_uses(f, SYS_SECCOMP))
        sys_sc_on_spawn(f, r, act, in);
    else
        sys_fiu_on_spawn(f, r, act, in);
}

const cr_fault_ops cr_fault_syscall_ops = {
    .kind = "syscall",
    .summary = "fail or delay system calls (write, fsync, connect, ...) "
               "with an errno or a delay, through libfiu's preload or a "
               "seccomp filter",
    .params = sys_params,
    .flags = CR_FAULT_NEEDS_DURATION | CR_FAULT_NEEDS_SERVICE,
    .requires = "libfiu's preload libraries (Debian fiu-utils, libfiu-dev); a "
                "dynamically linked program (LD_PRELOAD); on ssh nodes the "
                "libfiu backend only, with libfiu, fiu-ctrl and pgrep there",
    .parse = sys_parse,
    .check = sys_check,
    .prepare = sys_prepare,
    .apply = sys_apply,
    .revert = sys_revert,
    .on_spawn = sys_on_spawn,
    .destroy = sys_destroy,
};
