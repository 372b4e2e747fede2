/* exec: run a command of the user's at the fault's start and, optionally,
 * another at its end -- how anything chaosrun has no kind for (a cloud
 * API, kubectl, a feature flag, a script) becomes a fault on the same
 * seeded, journaled timeline.
 *
 * Commands are argv arrays, never passed through a shell (a user who
 * wants one writes ["sh", "-c", "..."]).  They run in their own process
 * group with the harness's environment plus CHAOSRUN_FAULT,
 * CHAOSRUN_OCCURRENCE, CHAOSRUN_PHASE (apply or revert),
 * CHAOSRUN_RUN_DIR and, with a target, CHAOSRUN_TARGET_INSTANCES and
 * CHAOSRUN_TARGET_PIDS (space-separated); their output goes to
 * fault-<name>.log in the run directory.  apply and revert run to their
 * end (at most timeout_s, then the group is killed): the timeline waits
 * for them, as it waits for any fault's apply.
 *
 * Record first, then change: before `apply` runs, the revert command and
 * its environment are written to exec-<name>-<occurrence>.json in the run
 * directory and that name goes into the ledger ("exec <file>"), so the
 * janitor runs the revert even after the harness was SIGKILLed.  A
 * command that exits non-zero (or times out) fails the occurrence; the
 * engine then runs the revert. */
#include "faults/cr_fault.h"

#include "base/cr_alloc.h"
#include "base/cr_dirfd.h"
#include "base/cr_spawn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct exec_priv {
    char **apply;  /* NULL-terminated; strings borrowed from the scenario */
    char **revert; /* or NULL */
    double timeout_s;
} exec_priv;

typedef struct exec_state {
    int ledger_id; /* > 0 while the revert is owed */
    char spec[128];
} exec_state;

static const cr_param exec_params[] = {
    {"apply", "array", NULL,
     "command run at the fault's start: [program, arg, ...], no shell"},
    {"revert", "array", "none",
     "command run at the window's end (needs for_s > 0), and by the janitor "
     "after a killed harness"},
    {"timeout_s", "number", "10",
     "a command still running after this long is killed (its process "
     "group) and the occurrence fails"},
    {NULL, NULL, NULL, NULL},
};

/* obj[key] as a NULL-terminated argv (strings borrowed); NULL when absent
 * or invalid (reported). */
static char **parse_argv(cr_vctx *vx, const json_t *obj, const char *path,
                         const char *key, int *nomem)
{
    char p[CR_PATH_MAX], el[CR_PATH_MAX];
    const json_t *a = json_object_get(obj, key);
    if (!a)
        return NULL;
    cr_path_key(p, sizeof p, path, key);
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > 256) {
        cr_verr(vx, p,
                "must be a non-empty array of at most 256 strings: "
                "[program, arg, ...]");
        return NULL;
    }
    char **v = cr_calloc(json_array_size(a) + 1, sizeof *v);
    if (!v) {
        *nomem = 1;
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || (i == 0 && !json_string_value(s)[0])) {
            cr_path_idx(el, sizeof el, p, i);
            cr_verr(vx, el, "must be a%s string",
                    i == 0 ? " non-empty (the program)" : "");
            cr_free(v);
            return NULL;
        }
        v[i] = (char *)json_string_value(s);
    }
    return v;
}

static int exec_parse(cr_vctx *vx, const json_t *obj, const char *path,
                      cr_fault *f)
{
    exec_priv *e = cr_calloc(1, sizeof *e);
    int nomem = 0;
    if (!e)
        return CR_ENOMEM;
    f->priv = e;
    if (cr_vrequire(vx, obj, path, "apply") == 1)
        e->apply = parse_argv(vx, obj, path, "apply", &nomem);
    e->revert = parse_argv(vx, obj, path, "revert", &nomem);
    cr_vnum(vx, obj, path, "timeout_s", 0.01, 3600, 10, &e->timeout_s);
    if (json_object_get(obj, "revert") && !(f->for_s > 0)) {
        char p[CR_PATH_MAX];
        cr_path_key(p, sizeof p, path, "revert");
        cr_verr(vx, p,
                "a revert command needs \"for_s\" > 0: it runs at the "
                "window's end");
    }
    return nomem ? CR_ENOMEM : 0;
}

/* The environment of a command: NAME=value strings in one block. */
typedef struct exec_env {
    char *v[8];
    char buf[6144];
} exec_env;

static void env_build(exec_env *env, cr_fault *f, cr_run *r,
                      const cr_fault_act *act, const char *phase)
{
    size_t k = 0, off = 0;
    char inst[1024] = "", pids[1024] = "";
    for (size_t i = 0, io = 0, po = 0; i < act->ninst; i++) {
        pid_t pid = cr_inst_pid(act->inst[i]);
        if (io < sizeof inst)
            io += (size_t)snprintf(inst + io, sizeof inst - io, "%s%s",
                                   io ? " " : "", cr_inst_name(act->inst[i]));
        if (pid > 0 && po < sizeof pids) /* none while waiting to restart */
            po += (size_t)snprintf(pids + po, sizeof pids - po, "%s%d",
                                   po ? " " : "", (int)pid);
    }
    const char *fmt[][2] = {{"CHAOSRUN_FAULT", f->name},
                            {"CHAOSRUN_PHASE", phase},
                            {"CHAOSRUN_RUN_DIR", cr_run_dir(r)},
                            {"CHAOSRUN_TARGET_INSTANCES", inst},
                            {"CHAOSRUN_TARGET_PIDS", pids}};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        int w = snprintf(env->buf + off, sizeof env->buf - off, "%s=%s",
                         fmt[i][0], fmt[i][1]);
        if (w < 0 || (size_t)w >= sizeof env->buf - off)
            break;
        env->v[k++] = env->buf + off;
        off += (size_t)w + 1;
    }
    int w = snprintf(env->buf + off, sizeof env->buf - off,
                     "CHAOSRUN_OCCURRENCE=%d", act->occurrence);
    if (w > 0 && (size_t)w < sizeof env->buf - off)
        env->v[k++] = env->buf + off;
    env->v[k] = NULL;
}

/* Runs argv with env; the outcome goes into details[phase]. */
static int run_cmd(cr_fault *f, cr_run *r, cr_fault_act *act, char *const *argv,
                   const char *phase, cr_err *err)
{
    exec_priv *e = f->priv;
    exec_env env;
    char log[160], detail[128] = "";
    env_build(&env, f, r, act, phase);
    snprintf(log, sizeof log, "fault-%s.log", f->name);
    cr_err le;
    cr_err_clear(&le);
    int lfd = cr_dir_append(cr_run_dirfd(r), log, 0644, &le);
    int rc = cr_spawn_run(argv, env.v, e->timeout_s, lfd, detail, sizeof detail,
                          err);
    if (lfd >= 0)
        close(lfd);
    json_object_set_new(act->details, phase,
                        json_pack("{s:s,s:s}", "command", argv[0], "result",
                                  rc < 0 ? err->msg : detail));
    if (rc == 1)
        return cr_err_set(err, CR_ESTATE,
                          "fault %s: %s command %s: %s (see %s)", f->name,
                          phase, argv[0], detail, log);
    return rc;
}

/* The revert command and its environment, as the janitor will run it. */
static int write_spec(cr_fault *f, cr_run *r, cr_fault_act *act, exec_state *st,
                      cr_err *err)
{
    exec_priv *e = f->priv;
    exec_env env;
    env_build(&env, f, r, act, "revert");
    json_t *argv = json_array(), *envj = json_array();
    for (size_t i = 0; e->revert[i]; i++)
        json_array_append_new(argv, json_string(e->revert[i]));
    for (size_t i = 0; env.v[i]; i++)
        json_array_append_new(envj, json_string(env.v[i]));
    json_t *spec = json_pack("{s:s,s:o,s:o,s:f}", "fault", f->name, "argv",
                             argv, "env", envj, "timeout_s", e->timeout_s);
    char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
    json_decref(spec);
    if (!text)
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    snprintf(st->spec, sizeof st->spec, "exec-%s-%d.json", f->name,
             act->occurrence);
    int rc =
        cr_dir_write(cr_run_dirfd(r), st->spec, text, strlen(text), 0600, err);
    cr_free(text); /* jansson allocates through cr_alloc */
    return rc;
}

static int exec_apply(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    exec_priv *e = f->priv;
    if (!act->details && !(act->details = json_object()))
        return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory", f->name);
    if (f->target.service && act->ninst == 0)
        act->ninst = cr_run_resolve_target(r, &f->target, &act->rng, act->inst,
                                           CR_ACT_MAX_INST);
    if (e->revert) {
        exec_state *st = cr_calloc(1, sizeof *st);
        if (!st)
            return cr_err_set(err, CR_ENOMEM, "fault %s: out of memory",
                              f->name);
        act->state = st;
        int rc = write_spec(f, r, act, st, err);
        if (rc != 0)
            return rc;
        st->ledger_id = cr_run_ledger_add(r, err, "exec %s", st->spec);
        if (st->ledger_id < 0)
            return st->ledger_id;
    }
    return run_cmd(f, r, act, e->apply, "apply", err);
}

static int exec_revert(cr_fault *f, cr_run *r, cr_fault_act *act, cr_err *err)
{
    exec_priv *e = f->priv;
    exec_state *st = act->state;
    int rc = 0;
    if (!st)
        return 0;
    /* Owed only once the ledger has it (else apply never ran). */
    if (st->ledger_id > 0) {
        rc = run_cmd(f, r, act, e->revert, "revert", err);
        /* Run once, whatever its outcome: the journal has it. */
        cr_run_ledger_done(r, st->ledger_id);
    }
    cr_free(st);
    act->state = NULL;
    return rc;
}

static void exec_destroy(cr_fault *f)
{
    exec_priv *e = f->priv;
    if (e) {
        cr_free(e->apply);
        cr_free(e->revert);
    }
    cr_free(e);
    f->priv = NULL;
}

const cr_fault_ops cr_fault_exec_ops = {
    .kind = "exec",
    .summary = "run a command of yours at the fault's start (apply) and "
               "another at its end (revert; also after a killed harness)",
    .params = exec_params,
    .flags = 0,
    .parse = exec_parse,
    .apply = exec_apply,
    .revert = exec_revert,
    .destroy = exec_destroy,
};
