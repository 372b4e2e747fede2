/* crp_models: the `crp models` command, the operator's view of the
 * artifact store (crp_artifact.h):
 *
 *   crp models [--store DIR] [--kind K] list
 *   crp models [--store DIR] show VERSION
 *   crp models [--store DIR] promote VERSION [--force]
 *   crp models [--store DIR] rollback [VERSION]
 *   crp models [--store DIR] [--kind K] history
 *
 * promote without --force applies the promotion gate (--promote-margin,
 * --min-accuracy); with --force it only verifies the blob.  Promotions
 * and rollbacks are written to the event file ($CHAOSRUN_EVENTS or
 * --events) as model_promoted (by force/manual) and model_rolled_back.
 * Exit codes: 0 done, 1 refused (gate, nothing to roll back to, never
 * promoted, blob missing or corrupt), 2 usage, 3 unknown or ambiguous
 * version, 4 store error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crp_artifact.h"
#include "crp_stage.h"

enum { MX_OK, MX_REFUSED, MX_USAGE, MX_VERSION, MX_STORE };

static int exit_of(int rc)
{
    switch (rc) {
    case 0:
        return MX_OK;
    case -ENOENT:
    case -ENOTUNIQ:
    case -EINVAL:
        return MX_VERSION;
    case -EBADMSG:
    case -ENODATA:
    case -EPERM:
        return MX_REFUSED;
    default:
        return MX_STORE;
    }
}

/* One line per artifact (no terminal tricks: plain columns). */
static void print_line(void *arg, const crp_art_info *i)
{
    char t[32], acc[16] = "-";
    time_t s = (time_t)i->created;
    double a = crp_art_accuracy(i);
    (void)arg;
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", gmtime(&s));
    if (a >= 0)
        snprintf(acc, sizeof acc, "%.4f", a);
    printf("%-12.12s %-8s %-10s %-7s %-8s %-12.12s %-12.12s %s\n", i->id,
           i->kind, i->status, i->current ? "current" : "-", acc,
           i->parent[0] ? i->parent : "-", i->dataset[0] ? i->dataset : "-", t);
}

static void print_hist(void *arg, const crp_art_hist *h)
{
    char t[32];
    time_t s = (time_t)h->t;
    (void)arg;
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", gmtime(&s));
    printf("%-5lld %-8s %-9s %-12.12s %-12.12s %s  %s\n", (long long)h->seq,
           h->kind, h->action, h->id, h->prev[0] ? h->prev : "-", t, h->reason);
}

static void show(const crp_art_info *i)
{
    printf("version  %s\nkind     %s\nstatus   %s%s\nparent   %s\n"
           "dataset  %s\nmetrics  %s\nsize     %lld\ncreated  %.6f\n",
           i->id, i->kind, i->status, i->current ? " (current)" : "",
           i->parent[0] ? i->parent : "-", i->dataset[0] ? i->dataset : "-",
           i->metrics, (long long)i->size, i->created);
}

int crp_models_main(int argc, char **argv)
{
    static crp_ctx x;
    char *flags[64], *words[3] = {NULL, NULL, NULL};
    char err[512] = "", id[CRP_ART_ID] = "", prev[CRP_ART_ID] = "",
         kind[16] = "model";
    int nf = 0, nw = 0, force = 0, rc = 0, code = MX_OK;
    crp_art *a = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            crp_strlcpy(kind, argv[++i], sizeof kind);
        } else if (strncmp(argv[i], "--", 2) == 0 && nf + 2 < 64) {
            flags[nf++] = argv[i];
            if (i + 1 < argc)
                flags[nf++] = argv[++i];
        } else if (nw < 3) {
            words[nw++] = argv[i];
        } else {
            nw = 4;
        }
    }
    if (crp_conf_load(&x.c, "models", nf, flags, err, sizeof err) < 0) {
        fprintf(stderr, "crp models: %s\n", err);
        return MX_USAGE;
    }
    const char *cmd = words[0];
    int want = !cmd                       ? -1
               : !strcmp(cmd, "list")     ? 1
               : !strcmp(cmd, "history")  ? 1
               : !strcmp(cmd, "show")     ? 2
               : !strcmp(cmd, "promote")  ? 2
               : !strcmp(cmd, "rollback") ? (nw == 2 ? 2 : 1)
                                          : -1;
    if (want < 0 || nw != want || (force && strcmp(cmd, "promote") != 0)) {
        fprintf(stderr,
                "usage: crp models [--store DIR] [--kind K] list | show "
                "VERSION | promote VERSION [--force] | rollback [VERSION] | "
                "history\n");
        return MX_USAGE;
    }
    if (!x.c.store[0]) {
        fprintf(stderr, "crp models: no store: give --store DIR\n");
        return MX_USAGE;
    }
    x.ev = crp_ev_open(x.c.events, "", x.c.svc, x.c.inst, err, sizeof err);
    err[0] = '\0';
    if ((rc = crp_art_open(x.c.store, &a, err, sizeof err)) < 0)
        goto out;
    if (!strcmp(cmd, "list")) {
        printf("%-12s %-8s %-10s %-7s %-8s %-12s %-12s %s\n", "VERSION", "KIND",
               "STATUS", "CURRENT", "ACCURACY", "PARENT", "DATASET", "CREATED");
        rc = crp_art_list(a, strcmp(kind, "all") ? kind : NULL, print_line,
                          NULL, err, sizeof err);
        rc = rc < 0 ? rc : 0;
        goto out;
    }
    if (!strcmp(cmd, "history")) {
        printf("%-5s %-8s %-9s %-12s %-12s %-20s  %s\n", "SEQ", "KIND",
               "ACTION", "VERSION", "PREVIOUS", "TIME", "REASON");
        rc = crp_art_history(a, strcmp(kind, "all") ? kind : NULL, print_hist,
                             NULL, err, sizeof err);
        rc = rc < 0 ? rc : 0;
        goto out;
    }
    if (words[1] &&
        (rc = crp_art_resolve(a, words[1], id, err, sizeof err)) < 0)
        goto out;
    crp_art_info info;
    if (!strcmp(cmd, "show")) {
        if ((rc = crp_art_info_get(a, id, &info, err, sizeof err)) == 0)
            show(&info);
    } else if (!strcmp(cmd, "promote")) {
        if ((rc = crp_art_info_get(a, id, &info, err, sizeof err)) < 0)
            goto out;
        if (force) {
            rc = crp_art_promote(a, id, "force", "forced by the operator", prev,
                                 err, sizeof err);
            if (rc == 0 && strcmp(prev, id) != 0)
                crp_ev_emit(x.ev, "model_promoted",
                            "\"version\":\"%s\",\"parent\":\"%s\","
                            "\"accuracy\":%.6f,\"by\":\"force\"",
                            id, prev, crp_art_accuracy(&info));
        } else {
            crp_art_gate_res g;
            rc = crp_art_gate(a, id, x.c.promote_margin, x.c.min_accuracy, 0,
                              &g, err, sizeof err);
            if (rc == 0 && !g.promoted) {
                snprintf(err, sizeof err,
                         "version %.12s refused by the gate: %s (use --force)",
                         id, g.reason);
                code = MX_REFUSED;
            } else if (rc == 0 && strcmp(g.cur, id) != 0) {
                crp_ev_emit(x.ev, "model_promoted",
                            "\"version\":\"%s\",\"parent\":\"%s\","
                            "\"accuracy\":%.6f,\"by\":\"manual\"",
                            id, g.cur, g.acc);
            }
            crp_strlcpy(prev, g.cur, sizeof prev);
        }
        if (rc == 0 && code == MX_OK)
            printf("%s %s (was %s)\n",
                   strcmp(prev, id) ? "promoted" : "already current", id,
                   prev[0] ? prev : "none");
    } else { /* rollback */
        char to[CRP_ART_ID];
        crp_strlcpy(to, id, sizeof to);
        rc = crp_art_rollback(a, kind, to[0] ? to : NULL, id, prev, err,
                              sizeof err);
        if (rc == 0 && strcmp(prev, id) != 0) {
            crp_ev_emit(x.ev, "model_rolled_back",
                        "\"version\":\"%s\",\"from\":\"%s\",\"kind\":\"%s\"",
                        id, prev, kind);
            printf("rolled back %s to %s\n", prev, id);
        } else if (rc == 0) {
            printf("already current %s\n", id);
        }
    }
out:
    if (rc < 0)
        code = exit_of(rc);
    if (code != MX_OK)
        fprintf(stderr, "crp models %s: %s\n", cmd, err);
    crp_art_close(a);
    crp_ev_close(x.ev);
    return code;
}
