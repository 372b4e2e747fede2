/* cr_runrot: rotating the event file and the replicas' logs during a run
 * (scenario key "rotate"; harness/README.md, "Rotating the event file and
 * the logs").  The cutting itself is base/cr_seg.c, done by one thread
 * here: compressing a MiB and three syncs a cut would otherwise hold up
 * the loop (a fault applied 200 ms late, seen on a loaded machine).  The
 * loop decides what may be cut: of the event file, what it has read and
 * parsed; of a log, everything, except -- while a replica waits for its
 * readiness line -- what the readiness scan has not read yet.
 *
 * Shared with the thread, under lock: the list of files, each one's safe
 * offset and failure, quit.  A cr_seg is touched by the thread only, and
 * by the loop once the thread has ended. */
#include <stdint.h>
#include <string.h>

#include "base/cr_alloc.h"
#include "cr_run_internal.h"

#define ROT_BUDGET   (1u << 20) /* bytes compressed between looks at quit */
#define ROT_PERIOD_S 0.25

typedef struct cr_rot_file {
    cr_seg *seg;
    char dir[8];   /* "" or "logs/" (names in the journal) */
    uint64_t safe; /* the loop's: what may be cut */
    int failed;    /* the thread's: a cut failed, err says why */
    cr_err err;
    int logged; /* the loop's: the journal was told */
} cr_rot_file;

typedef struct cr_rot {
    pthread_t th;
    int th_up;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int quit;
    cr_rot_file **files;
    size_t n, cap;
    double next; /* the loop's next tick (monotonic) */
} cr_rot;

static void *rot_thread(void *arg)
{
    cr_rot *R = arg;
    pthread_mutex_lock(&R->lock);
    while (!R->quit) {
        int busy = 0;
        for (size_t i = 0; i < R->n && !R->quit; i++) {
            cr_rot_file *f = R->files[i];
            if (f->failed)
                continue;
            uint64_t safe = f->safe;
            cr_err e;
            cr_err_clear(&e);
            pthread_mutex_unlock(&R->lock);
            int rc = cr_seg_step(f->seg, safe, ROT_BUDGET, &e);
            pthread_mutex_lock(&R->lock);
            if (rc < 0) {
                f->failed = 1;
                f->err = e;
            }
            busy |= rc == 1;
        }
        if (!busy && !R->quit) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(ROT_PERIOD_S * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&R->cond, &R->lock, &ts);
        }
    }
    pthread_mutex_unlock(&R->lock);
    return NULL;
}

/* Add a file (its seg owned from now on); NULL when out of memory (seg
 * closed). */
static cr_rot_file *rot_add(cr_rot *R, cr_seg *seg, const char *dir)
{
    cr_rot_file *f = cr_calloc(1, sizeof *f);
    pthread_mutex_lock(&R->lock);
    if (f && R->n == R->cap) {
        size_t nc = R->cap ? R->cap * 2 : 8;
        cr_rot_file **nv = cr_realloc(R->files, nc * sizeof *nv);
        if (nv) {
            R->files = nv;
            R->cap = nc;
        }
    }
    if (f && R->n < R->cap) {
        f->seg = seg;
        snprintf(f->dir, sizeof f->dir, "%s", dir);
        R->files[R->n++] = f;
    } else {
        cr_free(f);
        f = NULL;
        cr_seg_close(seg);
    }
    pthread_mutex_unlock(&R->lock);
    return f;
}

int cr_runrot_setup(cr_run *r, cr_err *err)
{
    const cr_scen *sc = r->sc;
    if (!sc->rotate.max_bytes)
        return 0;
    cr_err e;
    cr_err_clear(&e);
    cr_seg *seg = NULL;
    int rc = cr_seg_open(&seg, r->dirfd, "events.live.jsonl", sc->rotate.level,
                         sc->rotate.max_bytes, &e);
    if (rc != 0)
        return cr_err_set(err, rc, "%s (the scenario's \"rotate\" needs it)",
                          e.msg);
    cr_rot *R = cr_calloc(1, sizeof *R);
    if (!R) {
        cr_seg_close(seg);
        return cr_err_set(err, CR_ENOMEM, "rotate: out of memory");
    }
    pthread_mutex_init(&R->lock, NULL);
    pthread_cond_init(&R->cond, NULL);
    r->rot = R;
    if (!rot_add(R, seg, ""))
        return cr_err_set(err, CR_ENOMEM, "rotate: out of memory");
    /* Signals stay blocked in the thread (inherited from the loop's). */
    if ((rc = pthread_create(&R->th, NULL, rot_thread, R)) != 0)
        return cr_err_sys(err, CR_ESYS, rc, "rotate: pthread_create");
    R->th_up = 1;
    return 0;
}

void cr_runrot_log_open(cr_run *r, cr_inst *in)
{
    const cr_scen *sc = r->sc;
    if (!r->rot || !sc->rotate.logs || in->log_rot_tried)
        return;
    in->log_rot_tried = 1;
    cr_err e;
    cr_err_clear(&e);
    cr_seg *seg = NULL;
    if (cr_seg_open(&seg, r->logsfd, in->log_name, sc->rotate.level,
                    sc->rotate.max_bytes, &e) != 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "logs/%s is not rotated: %s", in->log_name,
                 e.msg);
        cr_run_journal_log(r, msg);
        return;
    }
    in->log_rot = rot_add(r->rot, seg, "logs/");
}

void cr_runrot_tick(cr_run *r)
{
    cr_rot *R = r->rot;
    if (!R)
        return;
    double now = cr_run_mono();
    if (now < R->next)
        return;
    R->next = now + ROT_PERIOD_S;
    /* Only parsed text is cut.  Where nothing parses the events as they
     * arrive (no event trigger, no live judging: a baseline run) the loop
     * would only collect them -- in memory, the live file never cut -- so
     * they are parsed here, once a period. */
    if (!r->ev_live && r->ev_len > 0)
        cr_run_read_events(r);
    char msgs[2][1200];
    size_t nmsg = 0;
    pthread_mutex_lock(&R->lock);
    /* What the loop has parsed ends where its buffer of unparsed text
     * begins. */
    R->files[0]->safe = r->ev_off - r->ev_len;
    for (size_t s = 0; s < r->nsvcs; s++)
        for (int i = 0; i < r->svcs[s].spec->replicas; i++) {
            cr_inst *in = &r->svcs[s].inst[i];
            int scanning = in->svc->spec->ready.kind == CR_READY_LOG &&
                           in->pid > 0 && !in->ready;
            if (in->log_rot)
                in->log_rot->safe =
                    scanning ? (uint64_t)in->log_scanned : UINT64_MAX;
        }
    for (size_t i = 0; i < R->n && nmsg < 2; i++) {
        cr_rot_file *f = R->files[i];
        if (f->failed && !f->logged) {
            f->logged = 1;
            snprintf(msgs[nmsg++], sizeof msgs[0],
                     "rotation of %s%s stopped: %s", f->dir,
                     cr_seg_live(f->seg), f->err.msg);
        }
    }
    pthread_cond_signal(&R->cond);
    pthread_mutex_unlock(&R->lock);
    for (size_t i = 0; i < nmsg; i++)
        cr_run_journal_log(r, msgs[i]);
}

static void rot_stop(cr_rot *R)
{
    if (!R || !R->th_up)
        return;
    pthread_mutex_lock(&R->lock);
    R->quit = 1;
    pthread_cond_signal(&R->cond);
    pthread_mutex_unlock(&R->lock);
    pthread_join(R->th, NULL);
    R->th_up = 0;
}

static json_t *file_json(const cr_rot_file *f)
{
    char name[300], idx[300];
    const cr_seg *s = f->seg;
    json_t *segs = json_array();
    for (size_t k = 0; k < cr_seg_count(s); k++) {
        const cr_seg_info *g = cr_seg_get(s, k);
        cr_seg_name(cr_seg_live(s), g->n, name, sizeof name);
        json_array_append_new(segs,
                              json_pack("{s:i,s:I,s:I,s:s+,s:I}", "n",
                                        (int)g->n, "from", (json_int_t)g->from,
                                        "to", (json_int_t)g->to, "file", f->dir,
                                        name, "bytes", (json_int_t)g->bytes));
    }
    cr_seg_name(cr_seg_live(s), 0, idx, sizeof idx);
    return json_pack("{s:s+,s:s+,s:o,s:s?}", "file", f->dir, cr_seg_live(s),
                     "index", f->dir, idx, "segments", segs, "error",
                     f->failed ? f->err.msg : NULL);
}

void cr_runrot_journal(cr_run *r)
{
    const cr_scen *sc = r->sc;
    cr_rot *R = r->rot;
    if (!R)
        return;
    rot_stop(R);
    json_t *files = json_array();
    for (size_t i = 0; i < R->n; i++)
        json_array_append_new(files, file_json(R->files[i]));
    json_object_set_new(r->journal, "rotate",
                        json_pack("{s:f,s:i,s:b,s:o}", "max_mb",
                                  (double)sc->rotate.max_bytes / 1048576.0,
                                  "level", sc->rotate.level, "logs",
                                  sc->rotate.logs, "files", files));
}

void cr_runrot_fini(cr_run *r)
{
    cr_rot *R = r->rot;
    if (!R)
        return;
    rot_stop(R);
    for (size_t i = 0; i < R->n; i++) {
        cr_seg_close(R->files[i]->seg);
        cr_free(R->files[i]);
    }
    for (size_t s = 0; r->svcs && s < r->nsvcs; s++)
        for (int i = 0; r->svcs[s].inst && i < r->svcs[s].spec->replicas; i++)
            r->svcs[s].inst[i].log_rot = NULL;
    cr_free(R->files);
    pthread_mutex_destroy(&R->lock);
    pthread_cond_destroy(&R->cond);
    cr_free(R);
    r->rot = NULL;
}
