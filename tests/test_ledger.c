/* Tests for cr_ledger: what is recorded is undone, newest first, exactly
 * once; what was marked done is left alone; undo is idempotent; bad lines
 * are reported; the janitor cleans up after a dead owner. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cr_alloc.h"
#include "engine/cr_ledger.h"
#include "cr_test.h"

/* A child in its own process group that sleeps until killed. */
static pid_t spawn_group(void)
{
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(p, p);
    return p;
}

static int alive(pid_t p)
{
    /* Reap if it died, so kill(0) tells the truth. */
    int st;
    if (waitpid(p, &st, WNOHANG) == p)
        return 0;
    return kill(p, 0) == 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_ledger_revert_undoes_open_entries(void)
{
    char *dir = cr_test_tmpdir();
    cr_ledger *l = NULL;
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_FATAL(cr_ledger_open(dir, &l, &err) == 0);

    pid_t a = spawn_group(), b = spawn_group();
    char line[256], fifo[512], kept[512];
    snprintf(fifo, sizeof fifo, "%s/ctl.in", dir);
    snprintf(kept, sizeof kept, "%s/kept.in", dir);
    CU_ASSERT_EQUAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL(mkfifo(kept, 0600), 0);

    snprintf(line, sizeof line, "pgid %d %llu", (int)a, cr_proc_starttime(a));
    int ida = cr_ledger_add(l, line, &err);
    snprintf(line, sizeof line, "pgid %d %llu", (int)b, cr_proc_starttime(b));
    int idb = cr_ledger_add(l, line, &err);
    snprintf(line, sizeof line, "fifo %s", fifo);
    CU_ASSERT(cr_ledger_add(l, line, &err) > 0);
    snprintf(line, sizeof line, "fifo %s", kept);
    int idk = cr_ledger_add(l, line, &err);
    CU_ASSERT(ida > 0 && idb > ida && idk > idb);
    /* b and the second FIFO were undone by their owner already. */
    cr_ledger_done(l, idb);
    cr_ledger_done(l, idk);

    char path[512];
    snprintf(path, sizeof path, "%s", cr_ledger_path(l));
    int n = cr_ledger_revert_file(path, NULL, &err);
    CU_ASSERT_EQUAL(n, 2);
    sleep_ms(50);
    CU_ASSERT_FALSE(alive(a));
    CU_ASSERT_TRUE(alive(b));
    CU_ASSERT_NOT_EQUAL(access(fifo, F_OK), 0);
    CU_ASSERT_EQUAL(access(kept, F_OK), 0);

    /* Idempotent: reverting again finds everything already gone. */
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_revert_file(path, NULL, &err), 2);

    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    waitpid(a, NULL, WNOHANG);
    cr_ledger_close(l, 1);
    unlink(kept);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void test_ledger_pgid_reuse_guard(void)
{
    /* A recorded start time that does not match: the group id was reused
     * by a newer process... here, an older start time is recorded for a
     * live group; members started before it must be spared. */
    pid_t a = spawn_group();
    cr_err err;
    cr_err_clear(&err);
    char args[64];
    snprintf(args, sizeof args, "%d %llu", (int)a,
             cr_proc_starttime(a) + 1000000ULL);
    CU_ASSERT_EQUAL(cr_ledger_undo("pgid", args, &err), 0);
    sleep_ms(20);
    CU_ASSERT_TRUE(alive(a));
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
}

static void test_ledger_bad_entries(void)
{
    cr_err err;
    cr_err_clear(&err);
    CU_ASSERT_EQUAL(cr_ledger_undo("pgid", "not-a-pid", &err), CR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad pgid entry"));
    cr_err_clear(&err);
    CU_ASSERT(cr_ledger_undo("no-such-kind", "x", &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no-such-kind"));
    cr_err_clear(&err);
    /* Gone already is success. */
    CU_ASSERT_EQUAL(cr_ledger_undo("fifo", "/nonexistent/x.in", &err), 0);
    CU_ASSERT_EQUAL(cr_ledger_revert_file("/nonexistent/ledger", NULL, &err),
                    0);
}

static void test_ledger_janitor_cleans_after_dead_owner(void)
{
    /* The janitor is `chaosrun __janitor ...`: the built program. */
    CU_ASSERT_EQUAL_FATAL(access(cr_test_bin("chaosrun"), X_OK), 0);
    char *dir = cr_test_tmpdir();
    int sync[2];
    CU_ASSERT_FATAL(pipe(sync) == 0);
    /* The group's leader outlives its parent (the owner): adopt it, so
     * alive() reaps it.  Left to pid 1, a killed leader stays a zombie
     * until pid 1 gets round to reaping it, and kill(0) still finds it. */
    CU_ASSERT_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
    pid_t owner = fork();
    if (owner == 0) {
        /* The owner: records a group, starts its janitor, dies hard. */
        cr_ledger *l = NULL;
        cr_err err;
        cr_err_clear(&err);
        pid_t jp;
        int wfd;
        /* The group first: a child forked later would inherit the
         * janitor's pipe (real services exec, which closes it). */
        pid_t g = spawn_group();
        if (cr_ledger_open(dir, &l, &err) ||
            cr_janitor_spawn(l, cr_test_bin("chaosrun"), &jp, &wfd, &err))
            _exit(2);
        char line[128];
        snprintf(line, sizeof line, "pgid %d %llu", (int)g,
                 cr_proc_starttime(g));
        cr_ledger_add(l, line, &err);
        if (write(sync[1], &g, sizeof g) != sizeof g)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    close(sync[1]);
    pid_t g = 0;
    CU_ASSERT_EQUAL_FATAL(read(sync[0], &g, sizeof g), (ssize_t)sizeof g);
    close(sync[0]);
    waitpid(owner, NULL, 0);
    int gone = 0;
    for (int i = 0; i < 250 && !gone; i++) {
        gone = !alive(g);
        if (!gone)
            sleep_ms(20);
    }
    CU_ASSERT_TRUE(gone);
    /* The janitor logs what it undid after undoing it: wait for the line. */
    char log[512], buf[256] = "";
    snprintf(log, sizeof log, "%s/ledger.janitor", dir);
    for (int i = 0; i < 250 && !strstr(buf, "undone"); i++) {
        FILE *fp = fopen(log, "r");
        buf[0] = '\0';
        if (fp) {
            if (!fgets(buf, sizeof buf, fp))
                buf[0] = '\0';
            fclose(fp);
        }
        if (!strstr(buf, "undone"))
            sleep_ms(20);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "undone"));
    if (!gone)
        kill(g, SIGKILL);
    /* Reap the adopted janitor (it exits once its log is written). */
    for (int i = 0; i < 250; i++) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0 && errno != EINTR)
            break; /* ECHILD: nothing left */
        if (w == 0)
            sleep_ms(20);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    CU_ASSERT_EQUAL(cr_test_rmtree(dir), 0);
}

void cr_test_register(void)
{
    CU_pSuite s = CU_add_suite("ledger", NULL, NULL);
    CR_ADD_TEST(s, test_ledger_revert_undoes_open_entries);
    CR_ADD_TEST(s, test_ledger_pgid_reuse_guard);
    CR_ADD_TEST(s, test_ledger_bad_entries);
    CR_ADD_TEST(s, test_ledger_janitor_cleans_after_dead_owner);
}
