/* crp_modelsel: see crp_modelsel.h (moved out of crp_worker.c so that the
 * model server loads models exactly as the worker does). */
#include "crp_modelsel.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --model DIR: use the newest model-*.bin in DIR (the trainer's
 * models/ directory); --model FILE: that artifact. */
static void refresh_model(crp_msel *w, crp_ctx *x)
{
    const char *m = x->c.model;
    struct stat st;
    char best[600] = "";
    time_t best_t = 0;
    if (!m[0] || stat(m, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(m);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char p[600];
            if (strncmp(de->d_name, "model-", 6) != 0 ||
                !strstr(de->d_name, ".bin") || strstr(de->d_name, ".tmp"))
                continue;
            snprintf(p, sizeof p, "%.300s/%.250s", m, de->d_name);
            if (stat(p, &st) == 0 && st.st_mtime >= best_t) {
                best_t = st.st_mtime;
                crp_strlcpy(best, p, sizeof best);
            }
        }
        if (d)
            closedir(d);
    } else {
        crp_strlcpy(best, m, sizeof best);
        best_t = st.st_mtime;
    }
    if (!best[0] ||
        (strcmp(best, w->model_file) == 0 && best_t == w->model_mtime))
        return;
    crp_model nm;
    if (crp_model_load(&nm, best) < 0)
        return; /* a corrupt artifact never replaces a good model */
    w->model = nm;
    crp_strlcpy(w->model_file, best, sizeof w->model_file);
    w->model_mtime = best_t;
    crp_ev_emit(x->ev, "model_loaded",
                "\"artifact\":\"%s\",\"hash\":\"%016llx\"", best,
                (unsigned long long)crp_model_hash(&nm));
    crp_log(x, "scoring with model %s", best);
}

/* Score a fixed canary set (seeded, independent of the run) with m: the
 * accuracy, and a hash of the scores that identifies the results. */
static void canary(const crp_model *m, double *acc, uint64_t *hash)
{
    crp_rng r;
    double x[CRP_DIM], extra[CRP_EXTRA];
    int label, ok = 0, n = 500;
    uint64_t h = CRP_FNV_INIT;
    crp_rng_seed(&r, 0x63616e617279ULL);
    for (int i = 0; i < n; i++) {
        crp_model_gen(&r, x, &label);
        crp_model_normalise(x);
        crp_model_extra(x, extra);
        double p = crp_model_score(m, x, extra);
        ok += (p >= 0.5) == (label == 1);
        h = crp_fnv1a(h, &p, sizeof p);
    }
    *acc = (double)ok / n;
    *hash = h;
}

/* --store: load the current model when the pointer moved. */
static void follow_store(crp_msel *w, crp_ctx *x)
{
    char id[CRP_ART_ID], err[512] = "";
    void *b = NULL;
    size_t len = 0;
    crp_model nm;
    if (!w->store && crp_art_open(x->c.store, &w->store, err, sizeof err) < 0)
        return; /* not there yet: the next poll tries again */
    if (crp_art_current(w->store, "model", id) <= 0 ||
        strcmp(id, w->version) == 0 || strcmp(id, w->bad_version) == 0)
        return;
    int rc = crp_art_load(w->store, id, &b, &len, err, sizeof err);
    if (rc == 0 && crp_model_decode(&nm, b, len) < 0) {
        rc = -EBADMSG;
        snprintf(err, sizeof err, "version %.12s: not a model artifact", id);
    }
    free(b);
    if (rc < 0) {
        char esc[600];
        crp_json_esc(esc, sizeof esc, err);
        crp_strlcpy(w->bad_version, id, sizeof w->bad_version);
        crp_ev_emit(x->ev, "model_load_failed",
                    "\"version\":\"%s\",\"in_use\":\"%s\",\"error\":\"%s\"", id,
                    w->version, esc);
        crp_log(x, "model %.12s not loaded, keeping %.12s: %s", id,
                w->version[0] ? w->version : "the built-in model", err);
        return;
    }
    double acc;
    uint64_t h;
    w->model = nm;
    crp_strlcpy(w->version, id, sizeof w->version);
    w->bad_version[0] = '\0';
    canary(&nm, &acc, &h);
    crp_ev_emit(x->ev, "model_loaded",
                "\"version\":\"%s\",\"hash\":\"%016llx\","
                "\"canary_accuracy\":%.4f",
                id, (unsigned long long)crp_model_hash(&nm), acc);
    crp_ev_emit(x->ev, "result",
                "\"name\":\"canary_scores\",\"value\":\"%016llx\","
                "\"version\":\"%s\",\"accuracy\":%.4f",
                (unsigned long long)h, id, acc);
    crp_log(x, "scoring with model %.12s (canary accuracy %.4f)", id, acc);
}

void crp_msel_init(crp_msel *m, crp_ctx *x)
{
    memset(m, 0, sizeof *m);
    crp_model_default(&m->model);
    if (x->c.store[0])
        follow_store(m, x);
    else
        refresh_model(m, x);
    m->last = crp_mono_ms();
}

void crp_msel_poll(crp_msel *m, crp_ctx *x)
{
    int64_t now = crp_mono_ms();
    if (x->c.store[0] && now - m->last >= 500) {
        follow_store(m, x);
        m->last = crp_mono_ms();
    } else if (!x->c.store[0] && now - m->last >= 2000) {
        refresh_model(m, x);
        m->last = crp_mono_ms();
    }
}

void crp_msel_close(crp_msel *m)
{
    crp_art_close(m->store);
    m->store = NULL;
}
