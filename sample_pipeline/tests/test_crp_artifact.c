/* Unit tests of crp_artifact: content addressing (SHA-256 against a known
 * vector), idempotent put, prefix resolution (unknown, ambiguous, bad
 * syntax), blob verification (corrupt, missing), the promotion gate
 * (floor, margin, skip), promote/rollback with the history replayed as a
 * stack, rollback with no history, persistence across reopen. */
#include "cr_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crp_artifact.h"
#include "crp_model.h"

static char *dir;
static int seq;

/* A fresh store directory per test. */
static crp_art *fresh(char *path, size_t n)
{
    char err[512];
    crp_art *a = NULL;
    snprintf(path, n, "%s/s%d", dir, seq++);
    CU_ASSERT_EQUAL_FATAL(crp_art_open(path, &a, err, sizeof err), 0);
    return a;
}

/* Put a model with weight w0 and the given accuracy. */
static void put_model(crp_art *a, double w0, double acc, char id[CRP_ART_ID])
{
    crp_model m;
    unsigned char b[CRP_MODEL_BYTES];
    char met[64], err[512];
    crp_model_default(&m);
    m.w[0] = w0;
    crp_model_encode(&m, b);
    snprintf(met, sizeof met, "{\"accuracy\":%.4f}", acc);
    CU_ASSERT_EQUAL_FATAL(crp_art_put(a, "model", b, sizeof b, NULL, NULL, met,
                                      id, err, sizeof err),
                          0);
}

static void corrupt(const char *store, const char *id, const char *bytes)
{
    char p[700];
    snprintf(p, sizeof p, "%s/objects/%s", store, id);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(bytes, f);
    fclose(f);
}

static void test_crp_artifact_sha256_vector(void)
{
    char h[CRP_ART_ID];
    CU_ASSERT_EQUAL(crp_art_sha256("abc", 3, h), 0);
    CU_ASSERT_STRING_EQUAL(
        h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_crp_artifact_put_idempotent_and_reopen(void)
{
    char p[600], id1[CRP_ART_ID], id2[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    crp_art_info i;
    CU_ASSERT_EQUAL(crp_art_put(a, "train", "data", 4, NULL, NULL, "{\"n\":1}",
                                id1, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(crp_art_put(a, "train", "data", 4, NULL, NULL, "{\"n\":2}",
                                id2, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(id1, id2);
    crp_art_close(a);
    CU_ASSERT_EQUAL_FATAL(crp_art_open(p, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL(crp_art_info_get(a, id1, &i, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(i.kind, "train");
    CU_ASSERT_STRING_EQUAL(i.metrics, "{\"n\":1}"); /* the first stays */
    CU_ASSERT_EQUAL(i.size, 4);
    void *b = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(crp_art_load(a, id1, &b, &len, err, sizeof err), 0);
    CU_ASSERT_EQUAL(len, 4);
    CU_ASSERT_EQUAL(memcmp(b, "data", 4), 0);
    free(b);
    crp_art_close(a);
}

static void test_crp_artifact_resolve_errors(void)
{
    char p[600], id[CRP_ART_ID], got[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    char ids[3][CRP_ART_ID];
    for (int k = 0; k < 3; k++) {
        char b[16];
        snprintf(b, sizeof b, "blob%d", k);
        CU_ASSERT_EQUAL_FATAL(crp_art_put(a, "train", b, strlen(b), NULL, NULL,
                                          NULL, ids[k], err, sizeof err),
                              0);
    }
    crp_strlcpy(id, ids[0], sizeof id);
    /* a 10-digit prefix (unique among 3 unless SHA-256 is broken) */
    char pre[16];
    snprintf(pre, sizeof pre, "%.10s", id);
    CU_ASSERT_EQUAL(crp_art_resolve(a, pre, got, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(got, id);
    CU_ASSERT_EQUAL(crp_art_resolve(a, id, got, err, sizeof err), 0);
    /* unknown */
    char unk[CRP_ART_ID];
    crp_strlcpy(unk, id, sizeof unk);
    unk[63] = unk[63] == '0' ? '1' : '0';
    CU_ASSERT_EQUAL(crp_art_resolve(a, unk, got, err, sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no such version"));
    CU_ASSERT_EQUAL(crp_art_resolve(a, "ab", got, err, sizeof err), -EINVAL);
    CU_ASSERT_EQUAL(crp_art_resolve(a, "XYZW", got, err, sizeof err), -EINVAL);
    CU_ASSERT_EQUAL(crp_art_resolve(a, "ABCD", got, err, sizeof err), -EINVAL);
    crp_art_close(a);
}

/* Ambiguity for sure: put blobs until two ids share 4 hex digits. */
static void test_crp_artifact_resolve_ambiguous(void)
{
    char p[600], err[512], got[CRP_ART_ID], pre[8];
    crp_art *a = fresh(p, sizeof p);
    static char ids[2000][CRP_ART_ID];
    int found = -1;
    for (int k = 0; k < 2000 && found < 0; k++) {
        char b[16];
        snprintf(b, sizeof b, "x%d", k);
        CU_ASSERT_EQUAL_FATAL(crp_art_put(a, "train", b, strlen(b), NULL, NULL,
                                          NULL, ids[k], err, sizeof err),
                              0);
        for (int j = 0; j < k && found < 0; j++)
            if (strncmp(ids[j], ids[k], 4) == 0)
                found = k;
    }
    CU_ASSERT_FATAL(found >= 0); /* birthday bound: ~300 blobs for 65536 */
    snprintf(pre, sizeof pre, "%.4s", ids[found]);
    CU_ASSERT_EQUAL(crp_art_resolve(a, pre, got, err, sizeof err), -ENOTUNIQ);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, pre));
    crp_art_close(a);
}

static void test_crp_artifact_corrupt_and_missing_blob(void)
{
    char p[600], id[CRP_ART_ID], prev[CRP_ART_ID], cur[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    void *b = (void *)1;
    size_t len = 9;
    put_model(a, 1.0, 0.9, id);
    corrupt(p, id, "garbage");
    CU_ASSERT_EQUAL(crp_art_load(a, id, &b, &len, err, sizeof err), -EBADMSG);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "corrupt"));
    /* a corrupt blob is never promoted, by force or by the gate */
    CU_ASSERT_EQUAL(crp_art_promote(a, id, "force", "t", prev, err, sizeof err),
                    -EBADMSG);
    crp_art_gate_res g;
    CU_ASSERT_EQUAL(crp_art_gate(a, id, 0.02, 0.6, 0, &g, err, sizeof err),
                    -EBADMSG);
    CU_ASSERT_EQUAL(crp_art_current(a, "model", cur), 0);
    /* put again repairs it (content-addressed: the bytes are known) */
    char id2[CRP_ART_ID];
    put_model(a, 1.0, 0.9, id2);
    CU_ASSERT_STRING_EQUAL(id, id2);
    CU_ASSERT_EQUAL(crp_art_load(a, id, &b, &len, err, sizeof err), 0);
    free(b);
    /* missing */
    char bp[700];
    snprintf(bp, sizeof bp, "%s/objects/%s", p, id);
    CU_ASSERT_EQUAL(remove(bp), 0);
    CU_ASSERT_EQUAL(crp_art_load(a, id, &b, &len, err, sizeof err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing"));
    CU_ASSERT_EQUAL(crp_art_promote(a, id, "force", "t", prev, err, sizeof err),
                    -ENOENT);
    crp_art_close(a);
}

static void test_crp_artifact_gate_floor_margin(void)
{
    char p[600], good[CRP_ART_ID], low[CRP_ART_ID], near[CRP_ART_ID],
        worse[CRP_ART_ID], cur[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    crp_art_gate_res g;
    crp_art_info i;
    put_model(a, 0.1, 0.55, low);
    CU_ASSERT_EQUAL(crp_art_gate(a, low, 0.02, 0.6, 0, &g, err, sizeof err), 0);
    CU_ASSERT_EQUAL(g.promoted, 0); /* first model below the floor */
    CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "floor"));
    CU_ASSERT_EQUAL(crp_art_current(a, "model", cur), 0);
    crp_art_info_get(a, low, &i, err, sizeof err);
    CU_ASSERT_STRING_EQUAL(i.status, "rejected");
    put_model(a, 0.2, 0.90, good);
    CU_ASSERT_EQUAL(crp_art_gate(a, good, 0.02, 0.6, 0, &g, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(g.promoted, 1);
    CU_ASSERT_STRING_EQUAL(g.cur, "");
    put_model(a, 0.3, 0.885, near); /* within the margin */
    CU_ASSERT_EQUAL(crp_art_gate(a, near, 0.02, 0.6, 0, &g, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(g.promoted, 1);
    CU_ASSERT_STRING_EQUAL(g.cur, good);
    CU_ASSERT_DOUBLE_EQUAL(g.cur_acc, 0.90, 1e-9);
    put_model(a, 0.4, 0.80, worse); /* 0.80 < 0.885 - 0.02 */
    CU_ASSERT_EQUAL(crp_art_gate(a, worse, 0.02, 0.6, 0, &g, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(g.promoted, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "margin"));
    CU_ASSERT_EQUAL(crp_art_current(a, "model", cur), 1);
    CU_ASSERT_STRING_EQUAL(cur, near);
    /* skip (the no_gate defect) promotes anyway */
    CU_ASSERT_EQUAL(crp_art_gate(a, worse, 0.02, 0.6, 1, &g, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(g.promoted, 1);
    crp_art_current(a, "model", cur);
    CU_ASSERT_STRING_EQUAL(cur, worse);
    /* a dataset is not gated */
    char ds[CRP_ART_ID];
    CU_ASSERT_EQUAL(
        crp_art_put(a, "train", "d", 1, NULL, NULL, NULL, ds, err, sizeof err),
        0);
    CU_ASSERT_EQUAL(crp_art_gate(a, ds, 0.02, 0.6, 0, &g, err, sizeof err),
                    -EINVAL);
    crp_art_close(a);
}

static void test_crp_artifact_rollback_no_history(void)
{
    char p[600], t[CRP_ART_ID], prev[CRP_ART_ID], id[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), -ENODATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no previous"));
    put_model(a, 1, 0.9, id);
    CU_ASSERT_EQUAL(
        crp_art_promote(a, id, "promote", "t", prev, err, sizeof err), 0);
    /* one promotion: still nothing before it */
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), -ENODATA);
    /* never promoted target */
    char other[CRP_ART_ID];
    put_model(a, 2, 0.9, other);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", other, t, prev, err, sizeof err), -EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "never promoted"));
    crp_art_close(a);
}

static void count_hist(void *arg, const crp_art_hist *h)
{
    char *acts = arg;
    strcat(acts, h->action);
    strcat(acts, " ");
}

static void test_crp_artifact_rollback_stack(void)
{
    char p[600], A[CRP_ART_ID], B[CRP_ART_ID], C[CRP_ART_ID], t[CRP_ART_ID],
        prev[CRP_ART_ID], cur[CRP_ART_ID], err[512];
    crp_art *a = fresh(p, sizeof p);
    put_model(a, 1, 0.9, A);
    put_model(a, 2, 0.9, B);
    put_model(a, 3, 0.9, C);
    CU_ASSERT_EQUAL(crp_art_promote(a, A, "promote", "", prev, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(crp_art_promote(a, B, "promote", "", prev, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(prev, A);
    CU_ASSERT_EQUAL(crp_art_promote(a, C, "force", "", prev, err, sizeof err),
                    0);
    /* promoting the current one again records nothing */
    CU_ASSERT_EQUAL(crp_art_promote(a, C, "force", "", prev, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(prev, C);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(t, B);
    CU_ASSERT_STRING_EQUAL(prev, C);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(t, A);
    crp_art_current(a, "model", cur);
    CU_ASSERT_STRING_EQUAL(cur, A);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), -ENODATA);
    /* back to a popped version by name */
    CU_ASSERT_EQUAL(crp_art_rollback(a, "model", C, t, prev, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(t, C);
    CU_ASSERT_EQUAL(
        crp_art_rollback(a, "model", NULL, t, prev, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(t, A);
    /* a rollback target whose blob is corrupt is refused, nothing moves */
    corrupt(p, C, "x");
    CU_ASSERT_EQUAL(crp_art_rollback(a, "model", C, t, prev, err, sizeof err),
                    -EBADMSG);
    crp_art_current(a, "model", cur);
    CU_ASSERT_STRING_EQUAL(cur, A);
    crp_art_close(a);
    /* the history and the pointer survive a reopen */
    CU_ASSERT_EQUAL_FATAL(crp_art_open(p, &a, err, sizeof err), 0);
    crp_art_current(a, "model", cur);
    CU_ASSERT_STRING_EQUAL(cur, A);
    char acts[256] = "";
    CU_ASSERT_EQUAL(
        crp_art_history(a, "model", count_hist, acts, err, sizeof err), 7);
    CU_ASSERT_STRING_EQUAL(acts,
                           "promote promote force rollback rollback rollback "
                           "rollback ");
    crp_art_close(a);
}

/* Two processes storing the same bytes at once (two trainers, one
 * held-out set): every put succeeds and the blob ends intact. */
static void test_crp_artifact_concurrent_put(void)
{
    char p[600], err[512], id[CRP_ART_ID], bp[700];
    crp_art *a = fresh(p, sizeof p);
    size_t len = 1 << 20;
    unsigned char *buf = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(i * 7);
    CU_ASSERT_EQUAL_FATAL(crp_art_put(a, "holdout", buf, len, NULL, NULL, NULL,
                                      id, err, sizeof err),
                          0);
    snprintf(bp, sizeof bp, "%s/objects/%s", p, id);
    crp_art_close(a);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    int fails = 0;
    crp_art *b = NULL;
    if (crp_art_open(p, &b, err, sizeof err) < 0)
        fails++;
    for (int k = 0; k < 30 && b; k++) {
        char got[CRP_ART_ID];
        remove(bp); /* both rewrite it, often at the same time */
        if (crp_art_put(b, "holdout", buf, len, NULL, NULL, NULL, got, err,
                        sizeof err) != 0)
            fails++;
    }
    crp_art_close(b);
    if (pid == 0)
        _exit(fails ? 1 : 0);
    int st = 0;
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(fails, 0);
    /* whichever writer won, the blob is whole */
    CU_ASSERT_EQUAL_FATAL(crp_art_open(p, &a, err, sizeof err), 0);
    void *got = NULL;
    size_t glen = 0;
    CU_ASSERT_EQUAL(crp_art_load(a, id, &got, &glen, err, sizeof err), 0);
    CU_ASSERT_EQUAL(glen, len);
    free(got);
    crp_art_close(a);
    free(buf);
}

/* The model blob format: round trip, and every corruption refused with
 * the target model untouched. */
static void test_crp_artifact_model_decode_errors(void)
{
    crp_model m, got;
    unsigned char b[CRP_MODEL_BYTES];
    crp_model_default(&m);
    m.w[3] = 0.25;
    crp_model_encode(&m, b);
    CU_ASSERT_EQUAL(crp_model_decode(&got, b, sizeof b), 0);
    CU_ASSERT_EQUAL(memcmp(got.w, m.w, sizeof m.w), 0);
    crp_model_default(&got);
    CU_ASSERT_EQUAL(crp_model_decode(&got, b, sizeof b - 1), -EINVAL);
    b[20] ^= 1; /* a weight bit: the embedded hash no longer matches */
    CU_ASSERT_EQUAL(crp_model_decode(&got, b, sizeof b), -EINVAL);
    b[20] ^= 1;
    b[0] ^= 1; /* magic */
    CU_ASSERT_EQUAL(crp_model_decode(&got, b, sizeof b), -EINVAL);
    CU_ASSERT_DOUBLE_EQUAL(got.w[3], 2 * 0.6, 1e-12); /* untouched */
}

static void test_crp_artifact_open_error(void)
{
    char err[512];
    crp_art *a = (crp_art *)1;
    CU_ASSERT_TRUE(
        crp_art_open("/proc/nonexistent/store", &a, err, sizeof err) < 0);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/proc/nonexistent/store"));
    crp_art_close(NULL);
}

static int setup(void)
{
    dir = cr_test_tmpdir();
    return dir ? 0 : 1;
}

static int teardown(void)
{
    return cr_test_rmtree(dir) == 0 ? 0 : 1;
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_artifact", setup, teardown);
    if (!s)
        return;
    CR_ADD_TEST(s, test_crp_artifact_sha256_vector);
    CR_ADD_TEST(s, test_crp_artifact_put_idempotent_and_reopen);
    CR_ADD_TEST(s, test_crp_artifact_resolve_errors);
    CR_ADD_TEST(s, test_crp_artifact_resolve_ambiguous);
    CR_ADD_TEST(s, test_crp_artifact_corrupt_and_missing_blob);
    CR_ADD_TEST(s, test_crp_artifact_gate_floor_margin);
    CR_ADD_TEST(s, test_crp_artifact_rollback_no_history);
    CR_ADD_TEST(s, test_crp_artifact_rollback_stack);
    CR_ADD_TEST(s, test_crp_artifact_concurrent_put);
    CR_ADD_TEST(s, test_crp_artifact_model_decode_errors);
    CR_ADD_TEST(s, test_crp_artifact_open_error);
}
