/* cr_runrot: rotating the event file and the replicas' logs during a run
 * (scenario key "rotate"; harness/README.md, "Rotating the event file and
 * the logs").  The cutting itself is base/cr_seg.c; here is what may be
 * cut: of the event file, what the loop has read and parsed; of a log,
 * everything, except -- while a replica waits for its readiness line --
 * what the readiness scan has not read yet. */
#include <stdint.h>
#include <string.h>

#include "cr_run_internal.h"

#define ROT_BUDGET   (1u << 20) /* bytes compressed a file a loop turn */
#define ROT_PERIOD_S 0.25

int cr_runrot_setup(cr_run *r, cr_err *err)
{
    const cr_scen *sc = r->sc;
    if (!sc->rotate.max_bytes)
        return 0;
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_seg_open(&r->ev_seg, r->dirfd, "events.live.jsonl",
                         sc->rotate.level, sc->rotate.max_bytes, &e);
    if (rc != 0)
        return cr_err_set(err, rc, "%s (the scenario's \"rotate\" needs it)",
                          e.msg);
    return 0;
}

static void rot_failed(cr_run *r, int *flag, const char *what,
                       const cr_err *e)
{
    *flag = 1;
    char msg[1200];
    snprintf(msg, sizeof msg, "rotation of %s stopped: %s", what, e->msg);
    cr_run_journal_log(r, msg);
}

void cr_runrot_log_open(cr_run *r, cr_inst *in)
{
    const cr_scen *sc = r->sc;
    if (!sc->rotate.max_bytes || !sc->rotate.logs || in->log_seg ||
        in->log_rot_failed)
        return;
    cr_err e;
    cr_err_clear(&e);
    if (cr_seg_open(&in->log_seg, r->logsfd, in->log_name, sc->rotate.level,
                    sc->rotate.max_bytes, &e) != 0)
        rot_failed(r, &in->log_rot_failed, in->log_name, &e);
}

/* One step of one file: 1 while a cut is in progress. */
static int step(cr_run *r, cr_seg *s, int *failed, uint64_t safe)
{
    if (!s || *failed)
        return 0;
    cr_err e;
    cr_err_clear(&e);
    int rc = cr_seg_step(s, safe, ROT_BUDGET, &e);
    if (rc < 0) {
        rot_failed(r, failed, cr_seg_live(s), &e);
        return 0;
    }
    return rc;
}

void cr_runrot_tick(cr_run *r)
{
    if (!r->sc->rotate.max_bytes)
        return;
    double now = cr_run_mono();
    if (!r->rot_busy && now < r->rot_next)
        return;
    r->rot_next = now + ROT_PERIOD_S;
    /* What the loop has parsed ends where its buffer of unparsed text
     * begins. */
    int busy = step(r, r->ev_seg, &r->ev_rot_failed, r->ev_off - r->ev_len);
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            int scanning = in->svc->spec->ready.kind == CR_READY_LOG &&
                           in->pid > 0 && !in->ready;
            busy |= step(r, in->log_seg, &in->log_rot_failed,
                         scanning ? (uint64_t)in->log_scanned : UINT64_MAX);
        }
    r->rot_busy = busy;
}

static json_t *file_json(const char *dir, const cr_seg *s, int failed)
{
    char name[300], idx[300];
    json_t *segs = json_array();
    for (size_t k = 0; k < cr_seg_count(s); k++) {
        const cr_seg_info *g = cr_seg_get(s, k);
        cr_seg_name(cr_seg_live(s), g->n, name, sizeof name);
        json_array_append_new(
            segs, json_pack("{s:i,s:I,s:I,s:s+,s:I}", "n", (int)g->n, "from",
                            (json_int_t)g->from, "to", (json_int_t)g->to,
                            "file", dir, name, "bytes",
                            (json_int_t)g->bytes));
    }
    cr_seg_name(cr_seg_live(s), 0, idx, sizeof idx);
    return json_pack("{s:s+,s:s+,s:o,s:b}", "file", dir, cr_seg_live(s),
                     "index", dir, idx, "segments", segs, "stopped",
                     failed);
}

void cr_runrot_journal(cr_run *r)
{
    const cr_scen *sc = r->sc;
    if (!sc->rotate.max_bytes)
        return;
    json_t *files = json_array();
    if (r->ev_seg)
        json_array_append_new(files,
                              file_json("", r->ev_seg, r->ev_rot_failed));
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            if (in->log_seg)
                json_array_append_new(
                    files,
                    file_json("logs/", in->log_seg, in->log_rot_failed));
        }
    json_object_set_new(
        r->journal, "rotate",
        json_pack("{s:f,s:i,s:b,s:o}", "max_mb",
                  (double)sc->rotate.max_bytes / 1048576.0, "level",
                  sc->rotate.level, "logs", sc->rotate.logs, "files", files));
}

void cr_runrot_fini(cr_run *r)
{
    cr_seg_close(r->ev_seg);
    r->ev_seg = NULL;
    for (size_t s = 0; r->svcs && s < r->nsvcs; s++)
        for (int i = 0; r->svcs[s].inst && i < r->svcs[s].spec->replicas;
             i++) {
            cr_seg_close(r->svcs[s].inst[i].log_seg);
            r->svcs[s].inst[i].log_seg = NULL;
        }
}
