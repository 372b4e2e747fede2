/* Unit tests of crp_ckpt and crp_model: round trip, corruption detected,
 * the atomic save leaves the old checkpoint intact when the write fails,
 * the unsafe (defect) save does not; training is bit-deterministic. */
#include "cr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include "crp_ckpt.h"
#include "crp_model.h"

static char *dir;
static char path[512];

static int setup(void)
{
    dir = cr_test_tmpdir();
    if (!dir)
        return 1;
    snprintf(path, sizeof path, "%s/t.ckpt", dir);
    return 0;
}

static int teardown(void)
{
    return cr_test_rmtree(dir) == 0 ? 0 : 1;
}

static void state(crp_train_state *s, int64_t step)
{
    memset(s, 0, sizeof *s);
    s->step = step;
    s->pos = step % 7;
    crp_rng_seed(&s->rng_epoch, (uint64_t)step);
    for (int i = 0; i < CRP_NW; i++) {
        s->m.w[i] = step * 0.5 + i;
        s->v[i] = -i;
    }
}

static void test_crp_ckpt_round_trip(void)
{
    crp_train_state a, b;
    state(&a, 42);
    CU_ASSERT_EQUAL(crp_ckpt_save(path, &a, 0), 0);
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &b), 0);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CU_ASSERT_EQUAL(access(tmp, F_OK), -1); /* no temporary left */
}

static void test_crp_ckpt_detects_corruption(void)
{
    crp_train_state a, b;
    state(&a, 7);
    CU_ASSERT_EQUAL(crp_ckpt_save(path, &a, 0), 0);
    int fd = open(path, O_WRONLY);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(pwrite(fd, "X", 1, 40), 1); /* flip a byte */
    close(fd);
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &b), -EINVAL);
    CU_ASSERT_EQUAL(truncate(path, 10), 0); /* torn */
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &b), -EINVAL);
    unlink(path);
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &b), -ENOENT);
}

/* A write that fails half way (file size limit: EFBIG) must leave the
 * previous checkpoint loadable with the atomic save, and destroys it
 * with the unsafe one (the defect switch). */
static void save_with_limit(const crp_train_state *s, int unsafe, int *rc)
{
    struct rlimit old, lim = {.rlim_cur = 100, .rlim_max = RLIM_INFINITY};
    getrlimit(RLIMIT_FSIZE, &old);
    lim.rlim_max = old.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    *rc = crp_ckpt_save(path, s, unsafe);
    setrlimit(RLIMIT_FSIZE, &old);
}

static void test_crp_ckpt_failed_write_keeps_previous(void)
{
    crp_train_state a, b, c;
    state(&a, 100);
    state(&b, 200);
    CU_ASSERT_EQUAL(crp_ckpt_save(path, &a, 0), 0);
    int rc;
    save_with_limit(&b, 0, &rc);
    CU_ASSERT_TRUE(rc < 0);
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &c), 0);
    CU_ASSERT_EQUAL(c.step, 100);
    save_with_limit(&b, 1, &rc); /* the defect: in place */
    CU_ASSERT_TRUE(rc < 0);
    CU_ASSERT_EQUAL(crp_ckpt_load(path, &c), -EINVAL);
}

static uint64_t train(int n, uint64_t seed)
{
    crp_rng r;
    crp_rng_seed(&r, seed);
    crp_model m;
    double v[CRP_NW] = {0};
    memset(&m, 0, sizeof m);
    for (int i = 0; i < n; i++) {
        double x[CRP_DIM], e[CRP_EXTRA];
        int label;
        crp_model_gen(&r, x, &label);
        crp_model_normalise(x);
        crp_model_extra(x, e);
        crp_model_sgd(&m, v, x, e, label, 0.05, 0.9);
    }
    return crp_model_hash(&m);
}

static void test_crp_model_deterministic(void)
{
    CU_ASSERT_EQUAL(train(500, 1), train(500, 1));
    CU_ASSERT_NOT_EQUAL(train(500, 1), train(500, 2));
    double z[CRP_DIM] = {0};
    CU_ASSERT_EQUAL(crp_model_normalise(z), -1); /* poison */
    crp_model m, m2;
    crp_model_default(&m);
    char mp[600];
    snprintf(mp, sizeof mp, "%s/model.bin", dir);
    CU_ASSERT_EQUAL(crp_model_save(&m, mp), 0);
    CU_ASSERT_EQUAL(crp_model_load(&m2, mp), 0);
    CU_ASSERT_EQUAL(crp_model_hash(&m), crp_model_hash(&m2));
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_ckpt", setup, teardown);
    CR_ADD_TEST(s, test_crp_ckpt_round_trip);
    CR_ADD_TEST(s, test_crp_ckpt_detects_corruption);
    CR_ADD_TEST(s, test_crp_ckpt_failed_write_keeps_previous);
    CR_ADD_TEST(s, test_crp_model_deterministic);
}
