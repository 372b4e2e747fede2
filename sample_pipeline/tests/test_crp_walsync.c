/* Unit tests of crp_walsync: the queue's WAL syncs on a thread --
 * generations, requests served together, failures that stay failed, the
 * eventfd that wakes the loop, no link followed. */
#include "cr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "crp_walsync.h"

static char *dir;

static int setup(void)
{
    dir = cr_test_tmpdir();
    return dir ? 0 : 1;
}

static int teardown(void)
{
    return cr_test_rmtree(dir) == 0 ? 0 : 1;
}

static crp_walsync *start(const char *name, char *path, size_t n)
{
    char err[256] = "";
    crp_walsync *w = NULL;
    snprintf(path, n, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(crp_walsync_start(&w, path, err, sizeof err), 0);
    return w;
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "x", 1), 1);
    close(fd);
}

/* A request is served: its generation is done, its tag comes back, and
 * the eventfd polls readable until the state is read. */
static void test_crp_walsync_serves_and_wakes(void)
{
    char path[512];
    crp_walsync *w = start("a-wal", path, sizeof path);
    touch(path);
    crp_walsync_state st;
    crp_walsync_poll(w, &st); /* nothing yet: not blocking */
    CU_ASSERT_EQUAL(st.done, 0);
    CU_ASSERT_EQUAL(crp_walsync_request(w, 41), 1);
    struct pollfd p = {.fd = crp_walsync_fd(w), .events = POLLIN};
    CU_ASSERT_EQUAL(poll(&p, 1, 10000), 1);
    crp_walsync_poll(w, &st);
    CU_ASSERT_EQUAL(st.done, 1);
    CU_ASSERT_EQUAL(st.failed, 0);
    CU_ASSERT_EQUAL(st.hi, 41);
    CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* read: quiet again */
    /* three requests at once: all served, the last tag kept */
    CU_ASSERT_EQUAL(crp_walsync_request(w, 42), 2);
    CU_ASSERT_EQUAL(crp_walsync_request(w, 43), 3);
    CU_ASSERT_EQUAL(crp_walsync_request(w, 44), 4);
    crp_walsync_wait(w, &st);
    CU_ASSERT_EQUAL(st.done, 4);
    CU_ASSERT_EQUAL(st.hi, 44);
    crp_walsync_stop(w);
}

/* A sync that cannot be done fails its generations for good (a later
 * success does not make them durable) and keeps the last good tag. */
static void test_crp_walsync_failure_stays(void)
{
    char path[512];
    crp_walsync *w = start("b-wal", path, sizeof path);
    crp_walsync_state st;
    crp_walsync_request(w, 7); /* no file yet */
    crp_walsync_wait(w, &st);
    CU_ASSERT_EQUAL(st.done, 1);
    CU_ASSERT_EQUAL(st.failed, 1);
    CU_ASSERT_EQUAL(st.err, ENOENT);
    CU_ASSERT_EQUAL(st.hi, 0);
    touch(path);
    crp_walsync_request(w, 9);
    crp_walsync_wait(w, &st);
    CU_ASSERT_EQUAL(st.done, 2);
    CU_ASSERT_EQUAL(st.failed, 1);
    CU_ASSERT_EQUAL(st.hi, 9);
    /* the file deleted and made again (a store reopened): followed */
    CU_ASSERT_EQUAL(unlink(path), 0);
    touch(path);
    crp_walsync_request(w, 10);
    crp_walsync_wait(w, &st);
    CU_ASSERT_EQUAL(st.failed, 1);
    CU_ASSERT_EQUAL(st.hi, 10);
    crp_walsync_stop(w);
}

/* The WAL's name is a link: refused (ELOOP), nothing synced through it. */
static void test_crp_walsync_no_link(void)
{
    char path[512], target[512];
    crp_walsync *w = start("c-wal", path, sizeof path);
    snprintf(target, sizeof target, "%s/target", dir);
    touch(target);
    CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
    crp_walsync_state st;
    crp_walsync_request(w, 3);
    crp_walsync_wait(w, &st);
    CU_ASSERT_EQUAL(st.failed, 1);
    CU_ASSERT_EQUAL(st.err, ELOOP);
    /* stop serves what was asked before it */
    crp_walsync_request(w, 4);
    crp_walsync_stop(w);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("crp_walsync", setup, teardown);
    CR_ADD_TEST(s, test_crp_walsync_serves_and_wakes);
    CR_ADD_TEST(s, test_crp_walsync_failure_stays);
    CR_ADD_TEST(s, test_crp_walsync_no_link);
}
