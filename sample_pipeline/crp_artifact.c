/* crp_artifact: see crp_artifact.h. */
#include "crp_artifact.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crp_model.h"
#include "crp_util.h"

struct crp_art {
    sqlite3 *db;
    char dir[400];
};

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS artifacts(id TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL, parent TEXT, dataset TEXT, metrics TEXT,"
    " size INTEGER NOT NULL, created REAL NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'registered');"
    "CREATE TABLE IF NOT EXISTS current(kind TEXT PRIMARY KEY,"
    " id TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS history(seq INTEGER PRIMARY KEY "
    "AUTOINCREMENT, kind TEXT NOT NULL, action TEXT NOT NULL,"
    " id TEXT NOT NULL, prev TEXT, reason TEXT, t REAL NOT NULL);";

int crp_art_sha256(const void *buf, size_t len, char hex[CRP_ART_ID])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = -EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, buf, len) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int db_err(crp_art *a, const char *what, char *err, size_t n)
{
    snprintf(err, n, "artifact store %s: %s: %s", a->dir, what,
             sqlite3_errmsg(a->db));
    return -EIO;
}

int crp_art_open(const char *dir, crp_art **out, char *err, size_t n)
{
    char p[600];
    int rc = -EIO;
    crp_art *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    crp_strlcpy(a->dir, dir, sizeof a->dir);
    snprintf(p, sizeof p, "%s/objects", dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(err, n, "artifact store %s: mkdir: %s", dir, strerror(errno));
        goto fail;
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(err, n, "artifact store %s: mkdir: %s", p, strerror(errno));
        goto fail;
    }
    snprintf(p, sizeof p, "%s/store.db", dir);
    if (sqlite3_open_v2(p, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        snprintf(err, n, "artifact store %s: cannot open", p);
        goto fail;
    }
    sqlite3_busy_timeout(a->db, 5000);
    if (sqlite3_exec(a->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        db_err(a, "schema", err, n);
        goto fail;
    }
    *out = a;
    return 0;
fail:
    crp_art_close(a);
    return rc;
}

void crp_art_close(crp_art *a)
{
    if (!a)
        return;
    sqlite3_close(a->db);
    free(a);
}

static void blob_path(const crp_art *a, const char *id, char *p, size_t n)
{
    snprintf(p, n, "%s/objects/%s", a->dir, id);
}

/* Read a whole file.  0 / -errno. */
static int read_all(const char *path, void **buf, size_t *len)
{
    struct stat st;
    char *b = NULL;
    size_t done = 0;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *buf = NULL;
    *len = 0;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!(b = malloc((size_t)st.st_size + 1))) {
        rc = -ENOMEM;
        goto out;
    }
    while (done < (size_t)st.st_size) {
        ssize_t r = read(fd, b + done, (size_t)st.st_size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *buf = b;
    *len = done;
    b = NULL;
out:
    free(b);
    close(fd);
    return rc;
}

int crp_art_load(crp_art *a, const char *id, void **buf, size_t *len, char *err,
                 size_t n)
{
    char p[600], h[CRP_ART_ID];
    blob_path(a, id, p, sizeof p);
    int rc = read_all(p, buf, len);
    if (rc < 0) {
        snprintf(err, n, "version %.12s: blob %s: %s", id, p,
                 rc == -ENOENT ? "missing" : strerror(-rc));
        return rc;
    }
    if ((rc = crp_art_sha256(*buf, *len, h)) < 0 || strcmp(h, id) != 0) {
        snprintf(err, n,
                 "version %.12s: blob %s is corrupt (its SHA-256 is %.12s)", id,
                 p, rc < 0 ? "unknown" : h);
        free(*buf);
        *buf = NULL;
        *len = 0;
        return -EBADMSG;
    }
    return 0;
}

/* Write the blob of id durably under a name of this writer's own (two
 * trainers may store the same held-out set at once: crp_write_atomic's
 * fixed "<path>.tmp" would be shared), then rename it into place and
 * fsync the directory.  0 or -errno. */
static int write_blob(crp_art *a, const char *id, const void *buf, size_t len)
{
    char stage[700], p[600], d[600];
    static unsigned counter;
    int rc, dfd;
    blob_path(a, id, p, sizeof p);
    snprintf(stage, sizeof stage, "%s/objects/.stage-%ld-%u-%.16s", a->dir,
             (long)getpid(), counter++, id);
    if ((rc = crp_write_atomic(stage, buf, len)) < 0)
        return rc;
    if (rename(stage, p) < 0) {
        rc = -errno;
        unlink(stage);
        return rc;
    }
    snprintf(d, sizeof d, "%s/objects", a->dir);
    dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        rc = -errno;
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* Run one statement with text parameters (NULL binds NULL).  0 / -EIO. */
static int exec(crp_art *a, const char *sql, int nargs, const char **args,
                char *err, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = -EIO;
    if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (int i = 0; i < nargs; i++)
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_DONE)
        rc = 0;
out:
    if (rc < 0)
        db_err(a, sql, err, n);
    sqlite3_finalize(st);
    return rc;
}

static int begin(crp_art *a, char *err, size_t n)
{
    return exec(a, "BEGIN IMMEDIATE", 0, NULL, err, n);
}

static int commit(crp_art *a, char *err, size_t n)
{
    int rc = exec(a, "COMMIT", 0, NULL, err, n);
    if (rc < 0 && !sqlite3_get_autocommit(a->db))
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void rollback_tx(crp_art *a)
{
    if (!sqlite3_get_autocommit(a->db))
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
}

int crp_art_put(crp_art *a, const char *kind, const void *buf, size_t len,
                const char *parent, const char *dataset, const char *metrics,
                char id[CRP_ART_ID], char *err, size_t n)
{
    char p[600], sz[32], t[40];
    void *old = NULL;
    size_t oldlen = 0;
    int rc = crp_art_sha256(buf, len, id);
    if (rc < 0) {
        snprintf(err, n, "sha256 failed");
        return rc;
    }
    blob_path(a, id, p, sizeof p);
    /* Content-addressed: an intact blob of this id is already right. */
    if (crp_art_load(a, id, &old, &oldlen, err, n) != 0 &&
        (rc = write_blob(a, id, buf, len)) < 0) {
        snprintf(err, n, "version %.12s: write %s: %s", id, p, strerror(-rc));
        return rc;
    }
    free(old);
    err[0] = '\0';
    snprintf(sz, sizeof sz, "%zu", len);
    snprintf(t, sizeof t, "%.6f", crp_now());
    const char *args[] = {id,
                          kind,
                          parent && parent[0] ? parent : NULL,
                          dataset && dataset[0] ? dataset : NULL,
                          metrics && metrics[0] ? metrics : "{}",
                          sz,
                          t};
    return exec(a,
                "INSERT OR IGNORE INTO artifacts(id, kind, parent, dataset,"
                " metrics, size, created) VALUES (?1, ?2, ?3, ?4, ?5,"
                " CAST(?6 AS INTEGER), CAST(?7 AS REAL))",
                7, args, err, n);
}

int crp_art_resolve(crp_art *a, const char *ver, char id[CRP_ART_ID], char *err,
                    size_t n)
{
    size_t l = strlen(ver);
    sqlite3_stmt *st = NULL;
    int rc = -ENOENT, found = 0;
    id[0] = '\0';
    if (l < 4 || l > 64) {
        snprintf(err, n, "version \"%s\": give 4 to 64 hex digits", ver);
        return -EINVAL;
    }
    for (size_t i = 0; i < l; i++)
        if (!isxdigit((unsigned char)ver[i]) ||
            isupper((unsigned char)ver[i])) {
            snprintf(err, n, "version \"%s\": not lower-case hex", ver);
            return -EINVAL;
        }
    if (sqlite3_prepare_v2(a->db,
                           "SELECT id FROM artifacts WHERE substr(id, 1, ?2)"
                           " = ?1 LIMIT 2",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(a, "resolve", err, n);
        goto out;
    }
    sqlite3_bind_text(st, 1, ver, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, (int)l);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (found++ == 0)
            crp_strlcpy(id, (const char *)sqlite3_column_text(st, 0),
                        CRP_ART_ID);
    }
    if (found == 1) {
        rc = 0;
    } else if (found > 1) {
        id[0] = '\0';
        rc = -ENOTUNIQ;
        snprintf(err, n,
                 "version \"%s\" is ambiguous (several versions start "
                 "with it): give more digits",
                 ver);
    } else {
        snprintf(err, n, "version \"%s\": no such version in %s", ver, a->dir);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

static const char info_sql[] =
    "SELECT a.id, a.kind, a.parent, a.dataset, a.status, a.metrics,"
    " a.created, a.size, c.id IS NOT NULL FROM artifacts a"
    " LEFT JOIN current c ON c.kind = a.kind AND c.id = a.id";

static void row_info(sqlite3_stmt *st, crp_art_info *i)
{
    const char *s;
    memset(i, 0, sizeof *i);
#define COL(k, f)                                                              \
    if ((s = (const char *)sqlite3_column_text(st, k)))                        \
        crp_strlcpy(i->f, s, sizeof i->f);
    COL(0, id);
    COL(1, kind);
    COL(2, parent);
    COL(3, dataset);
    COL(4, status);
    COL(5, metrics);
#undef COL
    i->created = sqlite3_column_double(st, 6);
    i->size = sqlite3_column_int64(st, 7);
    i->current = sqlite3_column_int(st, 8);
}

int crp_art_info_get(crp_art *a, const char *id, crp_art_info *out, char *err,
                     size_t n)
{
    char q[512];
    sqlite3_stmt *st = NULL;
    int rc = -ENOENT;
    snprintf(q, sizeof q, "%s WHERE a.id = ?1", info_sql);
    if (sqlite3_prepare_v2(a->db, q, -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(a, "info", err, n);
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        row_info(st, out);
        rc = 0;
    } else if (s == SQLITE_DONE) {
        snprintf(err, n, "version %.12s: no such version in %s", id, a->dir);
    } else {
        rc = db_err(a, "info", err, n);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

int crp_art_list(crp_art *a, const char *kind,
                 void (*cb)(void *arg, const crp_art_info *i), void *arg,
                 char *err, size_t n)
{
    char q[600];
    sqlite3_stmt *st = NULL;
    int count = 0, s;
    crp_art_info i;
    snprintf(q, sizeof q,
             "%s WHERE ?1 IS NULL OR a.kind = ?1"
             " ORDER BY a.created, a.rowid",
             info_sql);
    if (sqlite3_prepare_v2(a->db, q, -1, &st, NULL) != SQLITE_OK) {
        count = db_err(a, "list", err, n);
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        row_info(st, &i);
        cb(arg, &i);
        count++;
    }
    if (s != SQLITE_DONE)
        count = db_err(a, "list", err, n);
out:
    sqlite3_finalize(st);
    return count;
}

int crp_art_current(crp_art *a, const char *kind, char id[CRP_ART_ID])
{
    sqlite3_stmt *st = NULL;
    int rc = -EIO;
    id[0] = '\0';
    if (sqlite3_prepare_v2(a->db, "SELECT id FROM current WHERE kind = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        crp_strlcpy(id, (const char *)sqlite3_column_text(st, 0), CRP_ART_ID);
        rc = 1;
    } else if (s == SQLITE_DONE) {
        rc = 0;
    }
out:
    sqlite3_finalize(st);
    return rc;
}

double crp_art_accuracy(const crp_art_info *i)
{
    json_t *j = json_loads(i->metrics, 0, NULL);
    json_t *v = json_object_get(j, "accuracy");
    double acc = json_is_number(v) ? json_number_value(v) : -1;
    json_decref(j);
    return acc;
}

/* Verify the blob of id (intact, hashes to id).  0 or -errno with err. */
static int verify(crp_art *a, const char *id, char *err, size_t n)
{
    void *b = NULL;
    size_t l = 0;
    int rc = crp_art_load(a, id, &b, &l, err, n);
    free(b);
    return rc;
}

/* Inside a transaction: point kind at id and record the history row. */
static int set_current(crp_art *a, const char *kind, const char *id,
                       const char *action, const char *prev, const char *reason,
                       char *err, size_t n)
{
    char t[40];
    snprintf(t, sizeof t, "%.6f", crp_now());
    const char *cur[] = {kind, id};
    const char *hist[] = {kind,   action, id, prev && prev[0] ? prev : NULL,
                          reason, t};
    const char *st[] = {id};
    if (exec(a, "INSERT OR REPLACE INTO current(kind, id) VALUES (?1, ?2)", 2,
             cur, err, n) < 0 ||
        exec(a,
             "INSERT INTO history(kind, action, id, prev, reason, t)"
             " VALUES (?1, ?2, ?3, ?4, ?5, CAST(?6 AS REAL))",
             6, hist, err, n) < 0 ||
        exec(a, "UPDATE artifacts SET status = 'promoted' WHERE id = ?1", 1, st,
             err, n) < 0)
        return -EIO;
    return 0;
}

int crp_art_promote(crp_art *a, const char *id, const char *action,
                    const char *reason, char prev[CRP_ART_ID], char *err,
                    size_t n)
{
    crp_art_info i;
    int rc = crp_art_info_get(a, id, &i, err, n);
    prev[0] = '\0';
    if (rc < 0)
        return rc;
    if ((rc = verify(a, id, err, n)) < 0)
        return rc;
    if ((rc = begin(a, err, n)) < 0)
        return rc;
    if ((rc = crp_art_current(a, i.kind, prev)) < 0) {
        rc = db_err(a, "current", err, n);
        goto out;
    }
    rc = 0;
    if (strcmp(prev, id) != 0 &&
        (rc = set_current(a, i.kind, id, action, prev, reason, err, n)) < 0)
        goto out;
    rc = commit(a, err, n);
out:
    if (rc < 0)
        rollback_tx(a);
    return rc;
}

int crp_art_gate(crp_art *a, const char *id, double margin, double floor,
                 int skip, crp_art_gate_res *res, char *err, size_t n)
{
    crp_art_info i, c;
    int rc;
    memset(res, 0, sizeof *res);
    if ((rc = crp_art_info_get(a, id, &i, err, n)) < 0)
        return rc;
    if (strcmp(i.kind, "model") != 0) {
        snprintf(err, n, "version %.12s is a %s, not a model", id, i.kind);
        return -EINVAL;
    }
    if ((rc = verify(a, id, err, n)) < 0)
        return rc;
    res->acc = crp_art_accuracy(&i);
    if ((rc = begin(a, err, n)) < 0)
        return rc;
    if ((rc = crp_art_current(a, "model", res->cur)) < 0) {
        rc = db_err(a, "current", err, n);
        goto out;
    }
    if (rc == 1 && strcmp(res->cur, id) != 0) {
        if ((rc = crp_art_info_get(a, res->cur, &c, err, n)) < 0)
            goto out;
        res->cur_acc = crp_art_accuracy(&c);
    }
    if (skip) {
        res->promoted = 1;
        snprintf(res->reason, sizeof res->reason, "gate skipped");
    } else if (res->acc < floor) {
        snprintf(res->reason, sizeof res->reason,
                 "accuracy %.4f below the floor %.4f", res->acc, floor);
    } else if (res->cur[0] && strcmp(res->cur, id) != 0 &&
               res->acc < res->cur_acc - margin) {
        snprintf(res->reason, sizeof res->reason,
                 "accuracy %.4f below that of the current model %.12s "
                 "(%.4f) minus the margin %.4f",
                 res->acc, res->cur, res->cur_acc, margin);
    } else {
        res->promoted = 1;
        snprintf(res->reason, sizeof res->reason,
                 res->cur[0] ? "accuracy %.4f >= %.4f - %.4f"
                             : "first model, accuracy %.4f >= floor %.4f",
                 res->acc, res->cur[0] ? res->cur_acc : floor, margin);
    }
    const char *args[] = {id};
    if (res->promoted) {
        rc = strcmp(res->cur, id) == 0
                 ? 0
                 : set_current(a, "model", id, "promote", res->cur, res->reason,
                               err, n);
    } else {
        rc = exec(a, "UPDATE artifacts SET status = 'rejected' WHERE id = ?1",
                  1, args, err, n);
    }
    if (rc == 0)
        rc = commit(a, err, n);
out:
    if (rc < 0)
        rollback_tx(a);
    return rc;
}

/* The promotion stack of kind, replayed from the history (oldest first):
 * a promote pushes its id; a rollback pops back to its target (or pushes
 * it when not on the stack).  *ids: malloc'd array of *n entries. */
static int replay(crp_art *a, const char *kind, char (**ids)[CRP_ART_ID],
                  int *count, char *err, size_t n)
{
    sqlite3_stmt *st = NULL;
    char(*s)[CRP_ART_ID] = NULL;
    int k = 0, cap = 0, rc = 0, r;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT action, id FROM history WHERE kind = ?1"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(a, "history", err, n);
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *act = (const char *)sqlite3_column_text(st, 0);
        const char *id = (const char *)sqlite3_column_text(st, 1);
        int at = -1;
        if (act && strcmp(act, "rollback") == 0)
            for (int j = k - 1; j >= 0 && at < 0; j--)
                if (strcmp(s[j], id) == 0)
                    at = j;
        if (at >= 0) {
            k = at + 1;
            continue;
        }
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            void *ns = realloc(s, (size_t)cap * sizeof *s);
            if (!ns) {
                rc = -ENOMEM;
                snprintf(err, n, "out of memory");
                goto out;
            }
            s = ns;
        }
        crp_strlcpy(s[k++], id, CRP_ART_ID);
    }
    if (r != SQLITE_DONE)
        rc = db_err(a, "history", err, n);
out:
    sqlite3_finalize(st);
    if (rc < 0) {
        free(s);
        s = NULL;
        k = 0;
    }
    *ids = s;
    *count = k;
    return rc;
}

int crp_art_rollback(crp_art *a, const char *kind, const char *to,
                     char target[CRP_ART_ID], char prev[CRP_ART_ID], char *err,
                     size_t n)
{
    char(*s)[CRP_ART_ID] = NULL;
    int k = 0, rc;
    target[0] = prev[0] = '\0';
    if ((rc = begin(a, err, n)) < 0)
        return rc;
    if ((rc = replay(a, kind, &s, &k, err, n)) < 0)
        goto out;
    if ((rc = crp_art_current(a, kind, prev)) < 0) {
        rc = db_err(a, "current", err, n);
        goto out;
    }
    rc = 0;
    if (to && to[0]) {
        int seen = 0;
        for (int j = 0; j < k && !seen; j++)
            seen = strcmp(s[j], to) == 0;
        if (!seen) {
            /* also any version promoted before and popped since */
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(a->db,
                                   "SELECT 1 FROM history WHERE kind = ?1"
                                   " AND id = ?2",
                                   -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
                seen = sqlite3_step(st) == SQLITE_ROW;
            }
            sqlite3_finalize(st);
        }
        if (!seen) {
            snprintf(err, n,
                     "version %.12s was never promoted as %s: cannot roll "
                     "back to it (use promote)",
                     to, kind);
            rc = -EPERM;
            goto out;
        }
        crp_strlcpy(target, to, CRP_ART_ID);
    } else {
        if (k < 2 || strcmp(s[k - 1], prev) != 0) {
            snprintf(err, n,
                     "no previous promoted %s to roll back to (%d version%s "
                     "on the promotion stack)",
                     kind, k, k == 1 ? "" : "s");
            rc = -ENODATA;
            goto out;
        }
        crp_strlcpy(target, s[k - 2], CRP_ART_ID);
    }
    if ((rc = verify(a, target, err, n)) < 0)
        goto out;
    if (strcmp(target, prev) != 0 &&
        (rc = set_current(a, kind, target, "rollback", prev, "rollback", err,
                          n)) < 0)
        goto out;
    rc = commit(a, err, n);
out:
    if (rc < 0)
        rollback_tx(a);
    free(s);
    return rc;
}

int crp_art_history(crp_art *a, const char *kind,
                    void (*cb)(void *arg, const crp_art_hist *h), void *arg,
                    char *err, size_t n)
{
    sqlite3_stmt *st = NULL;
    int count = 0, r;
    crp_art_hist h;
    if (sqlite3_prepare_v2(a->db,
                           "SELECT seq, kind, action, id, prev, reason, t"
                           " FROM history WHERE ?1 IS NULL OR kind = ?1"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        count = db_err(a, "history", err, n);
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v;
        memset(&h, 0, sizeof h);
        h.seq = sqlite3_column_int64(st, 0);
#define COL(k, f)                                                              \
    if ((v = (const char *)sqlite3_column_text(st, k)))                        \
        crp_strlcpy(h.f, v, sizeof h.f);
        COL(1, kind);
        COL(2, action);
        COL(3, id);
        COL(4, prev);
        COL(5, reason);
#undef COL
        h.t = sqlite3_column_double(st, 6);
        cb(arg, &h);
        count++;
    }
    if (r != SQLITE_DONE)
        count = db_err(a, "history", err, n);
out:
    sqlite3_finalize(st);
    return count;
}
