/* cr_scen_internal: what the scenario loader's files share (cr_scen.c,
 * cr_scen_items.c, cr_scen_svc.c, cr_scen_stop.c, cr_scen_vars.c,
 * cr_valid.c, cr_timeline.c, cr_names.c, cr_regex.c).  Not for fault kinds,
 * probes or checkers: they use the cr_v* helpers of cr_scen.h. */
#ifndef CR_SCEN_INTERNAL_H
#define CR_SCEN_INTERNAL_H

#include "cr_jpos.h"
#include "cr_scen.h"

/* What cr_scen keeps for its look-ups (cr_scen_service, cr_scen_fault). */
struct cr_scen_index {
    cr_names svcs, faults;
};

struct cr_vctx {
    cr_scen *sc;
    cr_diags *diags;
    const char *file; /* as given by the caller, for messages */
    const char *text; /* the raw document */
    size_t len;
    const cr_jpos *pos;   /* NULL: positions unknown (0:0) */
    size_t first;         /* index in diags of this load's first problem */
    int nomem;            /* an allocation failed somewhere */
    size_t dropped;       /* problems past CR_SCEN_MAX_DIAGS, not recorded */
    const char *scen_dir; /* CHAOSRUN_SCENARIO_DIR */
    const char *bin_dir;  /* CHAOSRUN_BINDIR (unless the environment has it) */
    cr_names probes, expects; /* names seen so far (duplicates) */
    cr_names hosts;           /* an array "hosts" section, indexed once */
    int hosts_indexed;
    double occurrences; /* planned fault occurrences so far (upper bound) */
    int occ_reported;
};

/* Record "message" at line:col (no path prefix added). */
void cr_vdiag(cr_vctx *vx, int line, int col, const char *fmt, ...)
    CR_PRINTF(4, 5);
/* Report at the key `key` of the object at `objpath`, message prefixed by
 * objpath ("faults[0]: unknown key ..."). */
void cr_verr_member(cr_vctx *vx, const char *objpath, const char *key,
                    const char *fmt, ...) CR_PRINTF(4, 5);

/* The closest of names[0..n) to word, or NULL when none is close enough:
 * edit distance <= 2 (and at most about half the word), or one is a prefix
 * of the other (the word 3 characters at least, the name 2). */
const char *cr_vsuggest(const char *word, const char *const *names, size_t n);

/* " (did you mean \"x\"?)" or "" — into buf. */
const char *cr_vhint(char *buf, size_t n, const char *word,
                     const char *const *names, size_t nnames);

/* "object", "array", "string", "integer", "number", "boolean", "null". */
const char *cr_jtype(const json_t *v);

/* Expand ${NAME} and ${NAME:-default} in s (see scenarios/README.md).
 * 0 and *out (cr_malloc'd), CR_EINVAL (diagnostic at path recorded) or
 * CR_ENOMEM. */
int cr_vexpand(cr_vctx *vx, const char *path, const char *s, char **out);

/* Sort this load's diagnostics by position (stable), then append the
 * count of the problems not listed, if any. */
void cr_vsort(cr_vctx *vx);

/* ---- the loader's parts (cr_scen.c, cr_scen_svc.c, cr_scen_items.c) ---- */

#define CR_SCEN_MAX_DURATION 604800.0 /* 7 days: soak runs */

/* Letters (lower case; upper case and '.' too when upper_dot), digits,
 * '_' and '-', at least one. */
static inline int cr_scen__name_ok(const char *s, int upper_dot)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
            c == '-')
            continue;
        if (upper_dot && ((c >= 'A' && c <= 'Z') || c == '.'))
            continue;
        return 0;
    }
    return 1;
}

/* A parse function's CR_ENOMEM fails the whole load. */
static inline void cr_scen__nomem_if(cr_vctx *vx, int rc)
{
    if (rc == CR_ENOMEM)
        vx->nomem = 1;
}

/* Each fills entry idx of its (already allocated, zeroed) array in
 * vx->sc and records every problem; services first. */
void cr_scen__parse_service(cr_vctx *vx, const json_t *obj, size_t idx);
void cr_scen__parse_fault(cr_vctx *vx, const json_t *obj, size_t idx,
                          double dur);
void cr_scen__parse_probe(cr_vctx *vx, const json_t *obj, size_t idx);
void cr_scen__parse_expect(cr_vctx *vx, const json_t *obj, size_t idx);
/* The "target" of a fault object into f->target, checked against the
 * services and f->ops's flags (cr_scen_items.c). */
void cr_scen__parse_target(cr_vctx *vx, const json_t *obj, const char *path,
                           cr_fault *f);
/* The "explore" fault space into sc->explore (cr_explore.c); after the
 * services.  dur: duration_s when valid, else INFINITY. */
void cr_scen__parse_explore(cr_vctx *vx, const json_t *root, double dur);
void cr_scen__explore_free(cr_explore *e);
/* Services' "host" against the hosts section (after the sections). */
void cr_scen__check_hosts(cr_vctx *vx, const json_t *root);
/* stop_order and every service's stop_after, into stop_deps
 * (cr_scen_stop.c). */
void cr_scen__parse_stop(cr_vctx *vx, const json_t *root);
/* 1 when the document's hosts section declares `name`. */
int cr_scen__host_declared(cr_vctx *vx, const char *name);
void cr_scen__svc_free(cr_svc_spec *s);

/* The loader's key tables of the scenario's own objects, for
 * cr_scen_keysets() (`chaosrun list scenario`). */
const cr_param *cr_scen__svc_params(void);
const cr_param *cr_scen__ready_params(void);
const cr_param *cr_scen__ctr_params(void);
const cr_param *cr_scen__target_params(void);
const cr_param *cr_scen__trigger_params(void);
const cr_param *cr_scen__ready_trigger_params(void);

#endif
